/*
 * register_stack_smash - in Register, writes 'A' over everything above the
 * EXPERTENUMINFO it was given: the worker's own stack frames, return
 * addresses, its saved state, until the top of the stack faults.
 * Expected: crashed, SIGSEGV, while in Register; nothing the worker had on
 * its stack (the entry points it found, its name) may turn into anything
 * but that crash.
 */
#include "hostile.h"

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    /* A byte loop, not memset: nothing in between may check the range. */
    volatile char *p = (volatile char *)info;
    for (size_t i = 0; i < 64u * 1024 * 1024; i++)
        p[i] = 'A';
    return TRUE;
}

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    return hostile_fail("Run reached after the stack was smashed");
}
