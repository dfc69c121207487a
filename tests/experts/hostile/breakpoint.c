/*
 * breakpoint - executes int3 with nobody tracing it: what a debugger break
 * left in shipped code does.
 * Expected: crashed, SIGTRAP.
 */
#include "hostile.h"

HOSTILE_REGISTER("Breakpoint", "Executes int3 without a debugger.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
#if defined(__x86_64__) || defined(__i386__)
    __asm__ volatile("int3");
#else
    __builtin_debugtrap();
#endif
    return TRUE;
}
