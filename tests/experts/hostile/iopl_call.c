/*
 * iopl_call - asks for direct access to every I/O port.
 * Expected: violation, "iopl".
 */
#include <sys/syscall.h>
#include <unistd.h>

#include "hostile.h"

HOSTILE_REGISTER("iopl(3)", "Asks for direct access to every I/O port.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    long rc = syscall(SYS_iopl, 3L);
    return hostile_fail("iopl returned %ld", rc);
}
