/*
 * limits.c - process-wide limits that must hold before expert code runs.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "layers.h"

static int fail(char *why, size_t whylen, const char *what)
{
    snprintf(why, whylen, "%s: %s", what, strerror(errno));
    return -1;
}

/* The worker must not outlive the broker.  PR_SET_PDEATHSIG fires when the
 * parent dies, but the parent may have died before the call: then our parent
 * is no longer the broker (nor init of our PID namespace), and we leave. */
int es_limit_die_with_broker(bool in_pid_namespace, char *why, size_t whylen)
{
    pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
        return fail(why, whylen, "PR_SET_PDEATHSIG");
    bool orphaned = in_pid_namespace ? parent != 1 : parent == 1;
    if (getppid() != parent || orphaned) {
        errno = ESRCH;
        return fail(why, whylen, "the broker is gone");
    }
    return 0;
}

/* Its own session: no controlling terminal to push keystrokes into, and no
 * process group shared with the broker.  No core file with the capture's
 * bytes in it, and not dumpable: no other process of the same user may
 * ptrace it or read its memory. */
int es_limit_session_and_dumps(char *why, size_t whylen)
{
    if (setsid() < 0)
        return fail(why, whylen, "setsid");
    struct rlimit zero = {0, 0};
    if (setrlimit(RLIMIT_CORE, &zero) != 0)
        return fail(why, whylen, "RLIMIT_CORE");
    if (prctl(PR_SET_DUMPABLE, 0) != 0)
        return fail(why, whylen, "PR_SET_DUMPABLE");
    return 0;
}

static int limit(int resource, rlim_t soft, rlim_t hard, const char *what, char *why, size_t whylen)
{
    struct rlimit r = {soft, hard};
    if (setrlimit(resource, &r) != 0)
        return fail(why, whylen, what);
    return 0;
}

/* Descriptors: the worker needs 0-3 and a few for the loader.  Processes:
 * none (it counts threads too).  Files: nothing may be written.  CPU: the
 * soft limit sends SIGXCPU, the hard one a second later SIGKILL, for an
 * expert that catches SIGXCPU.  Address space: the heap, the frame store and
 * the documented allowance for malloc, stacks and libraries. */
int es_limit_resources(uint64_t cpu_seconds, uint64_t address_space, char *why, size_t whylen)
{
    if (limit(RLIMIT_NOFILE, 16, 16, "RLIMIT_NOFILE", why, whylen) != 0 ||
        limit(RLIMIT_NPROC, 0, 0, "RLIMIT_NPROC", why, whylen) != 0 ||
        limit(RLIMIT_FSIZE, 0, 0, "RLIMIT_FSIZE", why, whylen) != 0 ||
        limit(RLIMIT_MEMLOCK, 0, 0, "RLIMIT_MEMLOCK", why, whylen) != 0 ||
        limit(RLIMIT_MSGQUEUE, 0, 0, "RLIMIT_MSGQUEUE", why, whylen) != 0)
        return -1;
    if (cpu_seconds && limit(RLIMIT_CPU, cpu_seconds, cpu_seconds + 1, "RLIMIT_CPU", why, whylen) != 0)
        return -1;
    if (address_space && limit(RLIMIT_AS, address_space, address_space, "RLIMIT_AS", why, whylen) != 0)
        return -1;
    return 0;
}

int es_limit_address_space(uint64_t bytes, char *why, size_t whylen)
{
    return limit(RLIMIT_AS, bytes, bytes, "RLIMIT_AS", why, whylen);
}
