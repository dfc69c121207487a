/*
 * cpu_burn_ignore_xcpu - ignores SIGXCPU, the CPU limit's warning shot, and
 * burns on until the hard limit's SIGKILL.
 * Expected: cpu_limit, SIGKILL (not out_of_memory: the broker tells the
 * CPU limit's SIGKILL by the CPU time the kernel accounted).
 */
#include <signal.h>

#include "hostile.h"

HOSTILE_REGISTER("CPU burn ignoring SIGXCPU", "Ignores SIGXCPU and burns CPU forever.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    if (signal(SIGXCPU, SIG_IGN) == SIG_ERR)
        return hostile_fail("cannot ignore SIGXCPU");
    volatile unsigned long spins = 0;
    for (;;)
        spins++;
}
