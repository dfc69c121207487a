/*
 * dup2_control - dup2(0, 3): replaces the control socket to cut the broker off.
 * Expected: violation, "dup2".
 */
#include <unistd.h>

#include "hostile.h"

HOSTILE_REGISTER("dup2 over the control socket", "dup2(0, 3): replaces the control socket to cut the broker off.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    int rc = dup2(0, 3);
    return hostile_fail("dup2 returned %d", rc);
}
