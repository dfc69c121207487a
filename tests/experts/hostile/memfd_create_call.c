/*
 * memfd_create_call - creates an anonymous file to write a payload into and execute it.
 * Expected: violation, "memfd_create".
 */
#include <sys/mman.h>

#include "hostile.h"

HOSTILE_REGISTER("memfd_create()", "Creates an anonymous file to write a payload into and execute it.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    int fd = memfd_create("payload", 0);
    return hostile_fail("memfd_create returned %d", fd);
}
