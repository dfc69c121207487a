/*
 * raise_rlimit - setrlimit(RLIMIT_CPU, infinity): lifts its own CPU limit.
 * Expected: violation, "prlimit64" (glibc's setrlimit), with a new limit.
 */
#include <sys/resource.h>

#include "hostile.h"

HOSTILE_REGISTER("Raise its limits", "setrlimit(RLIMIT_CPU, infinity): lifts its own CPU limit.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    struct rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};
    int rc = setrlimit(RLIMIT_CPU, &unlimited);
    return hostile_fail("setrlimit returned %d", rc);
}
