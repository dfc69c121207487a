/*
 * busy_loop - spins forever without calling a helper, so it never sees the
 * terminate request.
 * Expected: timeout, killed after the grace period.
 */
#include "hostile.h"

HOSTILE_REGISTER("Busy loop", "Spins forever, calling nothing.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    volatile unsigned long spins = 0;
    for (;;)
        spins++;
}
