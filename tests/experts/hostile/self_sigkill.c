/*
 * self_sigkill - sends itself SIGKILL.  A worker killed by SIGKILL that the
 * broker did not send looks exactly like the kernel's out-of-memory killer;
 * the sandbox must not let the expert forge that (kill with SIGKILL on
 * itself is outside the seccomp allowlist).
 * Expected: violation, "kill".
 */
#include <signal.h>
#include <unistd.h>

#include "hostile.h"

HOSTILE_REGISTER("SIGKILL itself", "kill(getpid(), SIGKILL): pass for the OOM killer.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    kill(getpid(), SIGKILL);
    return hostile_fail("still alive after SIGKILL");
}
