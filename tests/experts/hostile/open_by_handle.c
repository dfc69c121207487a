/*
 * open_by_handle - the container-escape call: opens a file by handle, bypassing paths.
 * Expected: violation, "open_by_handle_at".
 */
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hostile.h"

HOSTILE_REGISTER("open_by_handle_at()", "The container-escape call: opens a file by handle, bypassing paths.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    unsigned char handle[8 + 8];   /* struct file_handle with an 8-byte handle */
    memset(handle, 0, sizeof handle);
    handle[0] = 8;
    long fd = syscall(SYS_open_by_handle_at, 0L, handle, (long)O_RDONLY);
    return hostile_fail("open_by_handle_at returned %ld", fd);
}
