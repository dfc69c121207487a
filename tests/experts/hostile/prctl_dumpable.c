/*
 * prctl_dumpable - makes itself dumpable again, so others of its user may ptrace it.
 * Expected: violation, "prctl".
 */
#include <sys/prctl.h>

#include "hostile.h"

HOSTILE_REGISTER("prctl(PR_SET_DUMPABLE)", "Makes itself dumpable again, so others of its user may ptrace it.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    int rc = prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    return hostile_fail("prctl returned %d", rc);
}
