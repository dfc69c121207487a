/*
 * constructor_crash - a constructor that dereferences NULL: the expert's
 * code runs during dlopen, before Register.
 * Expected: crashed, SIGSEGV, while loading; the expert never registered.
 */
#include "hostile.h"

__attribute__((constructor)) static void crash_while_loading(void)
{
    volatile int *volatile nowhere = NULL;
    *nowhere = 1;
}

HOSTILE_REGISTER("Constructor crash", "Crashes in a constructor at dlopen.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    return hostile_fail("Run reached after the constructor crashed");
}
