/*
 * x32_syscall - getpid through the x32 ABI (number | 0x40000000), which a
 * filter written for x86_64 numbers may not expect.
 * Expected: violation, "x32 syscall 39", arch "x32".
 */
#include <sys/syscall.h>
#include <unistd.h>

#include "hostile.h"

HOSTILE_REGISTER("x32 system call", "getpid through the x32 ABI: number | 0x40000000.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    long rc = syscall(0x40000000L | 39);
    return hostile_fail("x32 getpid returned %ld", rc);
}
