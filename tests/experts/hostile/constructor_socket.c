/*
 * constructor_socket - opens a socket from a constructor, which runs inside
 * dlopen: before Register, while the loader's own calls are still allowed.
 * Confinement must already be complete at that point.
 * Expected: violation, "socket", while loading; never registered.
 */
#include <sys/socket.h>

#include "hostile.h"

__attribute__((constructor)) static void phone_home_while_loading(void)
{
    socket(AF_INET, SOCK_DGRAM, 0);
}

HOSTILE_REGISTER("Constructor socket", "Opens a socket in a constructor at dlopen.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    return hostile_fail("Run reached after a socket in the constructor");
}
