/*
 * illegal_instruction - executes ud2, the instruction defined to be invalid.
 * Expected: crashed, SIGILL.
 */
#include "hostile.h"

HOSTILE_REGISTER("Illegal instruction", "Executes ud2.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
#if defined(__x86_64__) || defined(__i386__)
    __asm__ volatile("ud2");
#else
    __builtin_trap();
#endif
    return TRUE;
}
