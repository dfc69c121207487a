/*
 * kill_parent - kill(getppid(), SIGKILL).
 * Expected: violation, "kill", signal SIGKILL.
 */
#include <signal.h>
#include <unistd.h>

#include "hostile.h"

HOSTILE_REGISTER("Kill the parent", "kill(getppid(), SIGKILL).")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    int rc = kill(getppid(), SIGKILL);
    return hostile_fail("kill returned %d", rc);
}
