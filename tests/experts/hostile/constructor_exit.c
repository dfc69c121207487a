/*
 * constructor_exit - a constructor that calls _exit(7) during dlopen.
 * Expected: load_failed (the expert never got as far as Register), exit
 * status 7.
 */
#include <unistd.h>

#include "hostile.h"

__attribute__((constructor)) static void exit_while_loading(void)
{
    _exit(7);
}

HOSTILE_REGISTER("Constructor exit", "Calls _exit(7) in a constructor.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    return hostile_fail("Run reached after the constructor exited");
}
