/*
 * kill_all - kill(-1, SIGKILL): every process it may signal.
 * Expected: violation, "kill", pid -1.
 */
#include <signal.h>

#include "hostile.h"

HOSTILE_REGISTER("Kill everything", "kill(-1, SIGKILL): every process it may signal.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    int rc = kill(-1, SIGKILL);
    return hostile_fail("kill returned %d", rc);
}
