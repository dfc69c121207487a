/*
 * read_passwd - opens /etc/passwd to read it.
 * Expected: violation, "openat", path "/etc/passwd".
 */
#include <fcntl.h>

#include "hostile.h"

HOSTILE_REGISTER("Read /etc/passwd", "Opens /etc/passwd to read it.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    int fd = open("/etc/passwd", O_RDONLY);
    return hostile_fail("open returned %d", fd);
}
