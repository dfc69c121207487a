/*
 * exec_shell - replaces the worker with a shell.
 * Expected: violation, "execve", path "/bin/sh".
 */
#include <unistd.h>

#include "hostile.h"

HOSTILE_REGISTER("execve /bin/sh", "Replaces the worker with a shell.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    char *const argv[] = {(char *)"sh", (char *)"-c", (char *)"id", NULL};
    char *const envp[] = {NULL};
    execve("/bin/sh", argv, envp);
    return hostile_fail("execve returned");
}
