/*
 * reboot_call - calls reboot (with a wrong magic number, so it would fail even unconfined).
 * Expected: violation, "reboot".
 */
#include <sys/syscall.h>
#include <unistd.h>

#include "hostile.h"

HOSTILE_REGISTER("reboot()", "Calls reboot (with a wrong magic number, so it would fail even unconfined).")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    long rc = syscall(SYS_reboot, 0xdeadL, 0L, 0L, NULL);
    return hostile_fail("reboot returned %ld", rc);
}
