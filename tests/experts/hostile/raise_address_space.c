/*
 * raise_address_space - setrlimit(RLIMIT_AS, infinity): the one limit the
 * seccomp table lets a worker set on itself (the pool's hand-over sets it).
 * Expected: done, because the kernel refuses to raise it: the worker has no
 * CAP_SYS_RESOURCE and its soft limit equals its hard one.  Where no limit
 * is in place (AddressSanitizer builds) there is nothing to raise.
 */
#include <errno.h>
#include <sys/resource.h>

#include "hostile.h"

HOSTILE_REGISTER("Raise its address-space limit",
                 "setrlimit(RLIMIT_AS, infinity): lifts the limit the hand-over set.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    struct rlimit before;
    if (getrlimit(RLIMIT_AS, &before) != 0)
        return hostile_fail("getrlimit: errno %d", errno);
    if (before.rlim_max == RLIM_INFINITY)
        return TRUE;   /* no limit was applied here: nothing to escape */
    struct rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};
    int rc = setrlimit(RLIMIT_AS, &unlimited);
    if (rc == 0)
        return hostile_fail("setrlimit(RLIMIT_AS, infinity) succeeded");
    if (errno != EPERM)
        return hostile_fail("setrlimit failed with errno %d, not EPERM", errno);
    struct rlimit after;
    if (getrlimit(RLIMIT_AS, &after) != 0 || after.rlim_max != before.rlim_max || after.rlim_cur != before.rlim_cur)
        return hostile_fail("the limit changed");
    return TRUE;
}
