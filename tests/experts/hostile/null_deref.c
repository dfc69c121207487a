/*
 * null_deref - writes through a NULL pointer inside Run.
 * Expected: crashed, SIGSEGV, fault address 0.
 */
#include "hostile.h"

HOSTILE_REGISTER("NULL dereference", "Writes through a NULL pointer.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    /* volatile: the compiler may neither drop the store nor turn it into a
     * trap instruction of its own (that would be SIGILL, another case). */
    volatile int *volatile nowhere = NULL;
    *nowhere = 42;
    return TRUE;
}
