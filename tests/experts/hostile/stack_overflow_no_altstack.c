/*
 * stack_overflow_no_altstack - first switches off the worker's alternate
 * signal stack, then overflows the stack: the crash handler now has no
 * stack to run on, and the kernel must still kill the worker cleanly.
 * Expected: crashed, SIGSEGV.
 */
#include <limits.h>
#include <signal.h>

#include "hostile.h"

HOSTILE_REGISTER("Stack overflow without an alternate stack",
                 "Disables the alternate signal stack, then recurses without end.")

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
    stack_t none = {.ss_flags = SS_DISABLE};
    if (sigaltstack(&none, NULL) != 0)
        return hostile_fail("sigaltstack(SS_DISABLE) was refused");
    return recurse(0) != 0;
}
