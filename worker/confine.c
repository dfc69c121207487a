/*
 * confine.c - the worker's confinement stages.
 *
 * Stage one holds the process-wide settings that must be in force before the
 * expert's constructors run.  Seccomp, Landlock, namespaces and resource
 * limits are layered on here by the confinement work (issue 3); each is its
 * own function so that a reader finds every decision in one place.
 */
#include "confine.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

static int fail(char *why, unsigned long whylen, const char *what)
{
    snprintf(why, whylen, "%s: %s", what, strerror(errno));
    return -1;
}

/* The worker must not outlive the broker.  PR_SET_PDEATHSIG fires when the
 * parent dies, but the parent may already have died before the call: then
 * our parent is no longer the broker, and we leave at once. */
static int die_with_broker(char *why, unsigned long whylen)
{
    pid_t broker = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
        return fail(why, whylen, "PR_SET_PDEATHSIG");
    if (getppid() != broker || broker == 1) {
        errno = ESRCH;
        return fail(why, whylen, "broker gone before the worker started");
    }
    return 0;
}

/* A crashing expert must not leave a core file with the capture's bytes in
 * it, and no other process of the same user may ptrace or read it. */
static int no_dumps(char *why, unsigned long whylen)
{
    struct rlimit zero = {0, 0};
    if (setrlimit(RLIMIT_CORE, &zero) != 0)
        return fail(why, whylen, "RLIMIT_CORE");
    if (prctl(PR_SET_DUMPABLE, 0) != 0)
        return fail(why, whylen, "PR_SET_DUMPABLE");
    return 0;
}

static int no_new_privileges(char *why, unsigned long whylen)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return fail(why, whylen, "PR_SET_NO_NEW_PRIVS");
    return 0;
}

int es_confine_before_load(char *why, unsigned long whylen)
{
    if (die_with_broker(why, whylen) != 0)
        return -1;
    if (no_dumps(why, whylen) != 0)
        return -1;
    if (no_new_privileges(why, whylen) != 0)
        return -1;
    return 0;
}
