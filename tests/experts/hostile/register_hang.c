/*
 * register_hang - never returns from Register.  No helper can be called
 * there, so the terminate request goes unseen.
 * Expected: timeout, killed after the grace period; never registered.
 */
#include "hostile.h"

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    volatile unsigned long spins = 0;
    for (;;)
        spins++;
    return hostile_register(info, "Register hangs", "Never returns from Register.");
}

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    return hostile_fail("Run reached after Register hung");
}
