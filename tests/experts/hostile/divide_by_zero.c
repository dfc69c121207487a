/*
 * divide_by_zero - integer division by zero.  The operands are volatile so
 * the compiler can neither fold the division nor assume it away.
 * Expected: crashed, SIGFPE.
 */
#include "hostile.h"

HOSTILE_REGISTER("Divide by zero", "Divides an integer by zero.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    volatile int dividend = 1;
    volatile int divisor = 0;
    volatile int quotient = dividend / divisor;
    return quotient == 0;
}
