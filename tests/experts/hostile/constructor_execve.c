/*
 * constructor_execve - replaces the worker with a shell from a constructor,
 * during dlopen.
 * Expected: violation, "execve", path "/bin/sh", while loading.
 */
#include <unistd.h>

#include "hostile.h"

__attribute__((constructor)) static void exec_while_loading(void)
{
    char *const argv[] = {(char *)"sh", NULL};
    char *const envp[] = {NULL};
    execve("/bin/sh", argv, envp);
}

HOSTILE_REGISTER("Constructor execve", "Executes /bin/sh in a constructor at dlopen.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    return hostile_fail("Run reached after execve in the constructor");
}
