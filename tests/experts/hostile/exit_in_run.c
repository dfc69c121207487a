/*
 * exit_in_run - calls exit(3) from inside Run: the expert ends the whole
 * process instead of returning.
 * Expected: problem, exit status 3.
 */
#include <stdlib.h>

#include "hostile.h"

HOSTILE_REGISTER("exit(3)", "Calls exit(3) inside Run.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    exit(3);
}
