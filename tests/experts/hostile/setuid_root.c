/*
 * setuid_root - tries to become root again.
 * Expected: violation, "setuid".
 */
#include <unistd.h>

#include "hostile.h"

HOSTILE_REGISTER("setuid(0)", "Tries to become root again.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    int rc = setuid(0);
    return hostile_fail("setuid returned %d", rc);
}
