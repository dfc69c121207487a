/*
 * unshare_call - unshare(CLONE_NEWUSER | CLONE_NEWNET): new namespaces to be root in.
 * Expected: violation, "unshare".
 */
#include <sched.h>

#include "hostile.h"

HOSTILE_REGISTER("unshare()", "unshare(CLONE_NEWUSER | CLONE_NEWNET): new namespaces to be root in.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    int rc = unshare(CLONE_NEWUSER | CLONE_NEWNET);
    return hostile_fail("unshare returned %d", rc);
}
