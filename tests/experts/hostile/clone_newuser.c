/*
 * clone_newuser - clone(CLONE_NEWUSER): a child that is root in its own namespace.
 * Expected: violation, "clone", with CLONE_NEWUSER in its flags.
 */
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hostile.h"

HOSTILE_REGISTER("clone into a user namespace", "clone(CLONE_NEWUSER): a child that is root in its own namespace.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    long child = syscall(SYS_clone, (long)(CLONE_NEWUSER | SIGCHLD), 0L, 0L, 0L, 0L);
    if (child == 0)
        _exit(0);
    return hostile_fail("clone returned %ld", child);
}
