/*
 * execveat_shell - replaces the worker with a shell through execveat.
 * Expected: violation, "execveat", path "/bin/sh".
 */
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hostile.h"

HOSTILE_REGISTER("execveat /bin/sh", "Replaces the worker with a shell through execveat.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    char *const argv[] = {(char *)"sh", NULL};
    char *const envp[] = {NULL};
    syscall(SYS_execveat, AT_FDCWD, "/bin/sh", argv, envp, 0);
    return hostile_fail("execveat returned");
}
