/*
 * stack_overflow - unbounded recursion until the stack's guard page.
 * Expected: crashed, SIGSEGV (the worker's crash handler runs on its own
 * alternate stack, so it can still record the fault).
 */
#include <limits.h>

#include "hostile.h"

HOSTILE_REGISTER("Stack overflow", "Recurses without end.")

/* Never reached in practice; it keeps the compiler from proving the
 * recursion infinite (a warning) or turning it into a loop (no overflow). */
static volatile unsigned depth_limit = UINT_MAX;

static unsigned recurse(unsigned depth)
{
    volatile char frame[512];
    frame[0] = (char)depth;
    if (depth == depth_limit)
        return 0;
    return recurse(depth + 1) + (unsigned)frame[0];
}

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    return recurse(0) != 0;
}
