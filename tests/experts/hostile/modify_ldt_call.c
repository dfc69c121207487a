/*
 * modify_ldt_call - reads the local descriptor table, a long-lived kernel attack surface.
 * Expected: violation, "modify_ldt".
 */
#include <sys/syscall.h>
#include <unistd.h>

#include "hostile.h"

HOSTILE_REGISTER("modify_ldt()", "Reads the local descriptor table, a long-lived kernel attack surface.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    unsigned char table[64];
    long rc = syscall(SYS_modify_ldt, 0L, table, sizeof table);
    return hostile_fail("modify_ldt returned %ld", rc);
}
