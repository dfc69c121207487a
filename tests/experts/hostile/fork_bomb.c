/*
 * fork_bomb - forks until the process table is full.
 * Expected: violation, "clone" (glibc's fork() is the clone system call).
 */
#include <unistd.h>

#include "hostile.h"

HOSTILE_REGISTER("Fork bomb", "Forks until the process table is full.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    for (;;)
        if (fork() < 0)
            return hostile_fail("fork failed instead of being a violation");
}
