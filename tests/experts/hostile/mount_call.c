/*
 * mount_call - mounts a tmpfs over /tmp.
 * Expected: violation, "mount".
 */
#include <sys/mount.h>

#include "hostile.h"

HOSTILE_REGISTER("mount()", "Mounts a tmpfs over /tmp.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    int rc = mount("tmpfs", "/tmp", "tmpfs", 0, NULL);
    return hostile_fail("mount returned %d", rc);
}
