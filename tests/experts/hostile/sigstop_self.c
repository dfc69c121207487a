/*
 * sigstop_self - raise(SIGSTOP): a stopped worker would hold its slot until the timeout.
 * Expected: violation, "tgkill" (glibc's raise) with SIGSTOP.
 */
#include <signal.h>

#include "hostile.h"

HOSTILE_REGISTER("SIGSTOP itself", "raise(SIGSTOP): a stopped worker would hold its slot until the timeout.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    int rc = raise(SIGSTOP);
    return hostile_fail("raise returned %d", rc);
}
