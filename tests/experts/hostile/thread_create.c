/*
 * thread_create - starts a thread with pthread_create.  The helpers are not
 * thread-safe and the sandbox allows no threads (RLIMIT_NPROC would stop
 * the clone too, but seccomp names the call first).
 * Expected: violation, "clone3" (glibc 2.34 and later create threads with
 * clone3; an older glibc would show "clone").
 */
#include <pthread.h>

#include "hostile.h"

HOSTILE_REGISTER("pthread_create", "Starts a thread.")

static void *thread_body(void *arg)
{
    return arg;
}

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    pthread_t thread;
    int rc = pthread_create(&thread, NULL, thread_body, NULL);
    return hostile_fail("pthread_create returned %d", rc);
}
