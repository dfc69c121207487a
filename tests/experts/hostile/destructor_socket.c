/*
 * destructor_socket - a destructor and an atexit handler that would open a
 * socket after Run.  The worker leaves with _exit once Run's result is on
 * its way, so neither may ever run.
 * Expected: done.
 */
#include <stdlib.h>
#include <sys/socket.h>

#include "hostile.h"

static void phone_home(void)
{
    socket(AF_INET, SOCK_STREAM, 0);
}

__attribute__((destructor)) static void phone_home_at_unload(void)
{
    phone_home();
}

HOSTILE_REGISTER("Destructor socket", "Opens a socket in a destructor and an atexit handler.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    if (atexit(phone_home) != 0)
        return hostile_fail("atexit failed");
    return TRUE;
}
