/*
 * userfaultfd_call - creates a userfaultfd, the tool for stretching kernel race windows.
 * Expected: violation, "userfaultfd".
 */
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hostile.h"

HOSTILE_REGISTER("userfaultfd()", "Creates a userfaultfd, the tool for stretching kernel race windows.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    long fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    return hostile_fail("userfaultfd returned %ld", fd);
}
