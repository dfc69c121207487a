/*
 * chroot_call - chroot("/tmp"), the first step of the chroot escape.
 * Expected: violation, "chroot".
 */
#include <unistd.h>

#include "hostile.h"

HOSTILE_REGISTER("chroot()", "chroot(\"/tmp\"), the first step of the chroot escape.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    int rc = chroot("/tmp");
    return hostile_fail("chroot returned %d", rc);
}
