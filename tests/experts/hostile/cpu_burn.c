/*
 * cpu_burn - burns CPU without end.  Run with a CPU-time limit and no
 * (or a much longer) wall-clock timeout.
 * Expected: cpu_limit, SIGXCPU (the soft RLIMIT_CPU).
 */
#include "hostile.h"

HOSTILE_REGISTER("CPU burn", "Burns CPU forever.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    volatile unsigned long spins = 0;
    for (;;)
        spins++;
}
