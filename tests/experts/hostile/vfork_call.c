/*
 * vfork_call - creates a process with vfork().
 * Expected: violation, "vfork".
 */
#include <unistd.h>

#include "hostile.h"

HOSTILE_REGISTER("vfork", "Creates a process with vfork().")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    pid_t child = vfork();
    if (child == 0)
        _exit(0);
    return hostile_fail("vfork returned %d", (int)child);
}
