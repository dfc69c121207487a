/*
 * proc_self_mem - opens its own memory file, the classic way around page protections.
 * Expected: violation, "openat", path "/proc/self/mem".
 */
#include <fcntl.h>

#include "hostile.h"

HOSTILE_REGISTER("Open /proc/self/mem", "Opens its own memory file, the classic way around page protections.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    int fd = open("/proc/self/mem", O_RDWR);
    return hostile_fail("open returned %d", fd);
}
