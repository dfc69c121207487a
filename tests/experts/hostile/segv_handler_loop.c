/*
 * segv_handler_loop - replaces the worker's SIGSEGV handler with one that
 * just returns, then faults: the faulting store runs again, forever.  The
 * crash is hidden from the kernel's point of view; only the timeout ends it.
 * Expected: timeout, killed after ignoring the terminate request.
 */
#include <signal.h>

#include "hostile.h"

HOSTILE_REGISTER("SIGSEGV handler loop", "Catches SIGSEGV and returns to the faulting store.")

static void ignore_fault(int sig)
{
    (void)sig;
}

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = ignore_fault;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, NULL) != 0)
        return hostile_fail("sigaction was refused");
    volatile int *volatile nowhere = NULL;
    *nowhere = 1;
    return TRUE;
}
