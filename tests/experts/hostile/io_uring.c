/*
 * io_uring - sets up an io_uring, whose operations bypass system-call filtering.
 * Expected: violation, "io_uring_setup".
 */
#include <sys/syscall.h>
#include <unistd.h>

#include "hostile.h"

HOSTILE_REGISTER("io_uring_setup", "Sets up an io_uring, whose operations bypass system-call filtering.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    unsigned char params[120];   /* struct io_uring_params */
    memset(params, 0, sizeof params);
    long fd = syscall(SYS_io_uring_setup, 8, params);
    return hostile_fail("io_uring_setup returned %ld", fd);
}
