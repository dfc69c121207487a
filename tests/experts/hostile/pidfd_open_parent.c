/*
 * pidfd_open_parent - gets a pidfd for its parent, to signal it or steal its descriptors.
 * Expected: violation, "pidfd_open".
 */
#include <sys/syscall.h>
#include <unistd.h>

#include "hostile.h"

HOSTILE_REGISTER("pidfd_open the parent", "Gets a pidfd for its parent, to signal it or steal its descriptors.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    long fd = syscall(SYS_pidfd_open, (long)getppid(), 0L);
    return hostile_fail("pidfd_open returned %ld", fd);
}
