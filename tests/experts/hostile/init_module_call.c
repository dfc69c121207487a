/*
 * init_module_call - tries to load a kernel module.
 * Expected: violation, "init_module".
 */
#include <sys/syscall.h>
#include <unistd.h>

#include "hostile.h"

HOSTILE_REGISTER("init_module()", "Tries to load a kernel module.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    long rc = syscall(SYS_init_module, NULL, 0L, "");
    return hostile_fail("init_module returned %ld", rc);
}
