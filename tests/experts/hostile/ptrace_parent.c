/*
 * ptrace_parent - PTRACE_ATTACH to its parent.
 * Expected: violation, "ptrace".
 */
#include <sys/ptrace.h>
#include <unistd.h>

#include "hostile.h"

HOSTILE_REGISTER("ptrace the parent", "PTRACE_ATTACH to its parent.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    long rc = ptrace(PTRACE_ATTACH, getppid(), NULL, NULL);
    return hostile_fail("ptrace returned %ld", rc);
}
