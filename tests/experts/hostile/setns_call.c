/*
 * setns_call - setns(0, 0): join another namespace.
 * Expected: violation, "setns".
 */
#include <sched.h>

#include "hostile.h"

HOSTILE_REGISTER("setns()", "setns(0, 0): join another namespace.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    int rc = setns(0, 0);
    return hostile_fail("setns returned %d", rc);
}
