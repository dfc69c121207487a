/*
 * int80 - getpid through the i386 entry point (int $0x80, eax = 20): a
 * filter that checks only x86_64 numbers would take i386 call 20 for
 * something else.
 * Expected: violation, "getpid", arch "x86", where the kernel has 32-bit
 * emulation; where it has not, int $0x80 is a general protection fault:
 * crashed, SIGSEGV.  The test asks the kernel which one applies.
 */
#include "hostile.h"

HOSTILE_REGISTER("int 0x80", "getpid through the i386 system call entry.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    long result = 20;   /* __NR_getpid on i386 */
#if defined(__x86_64__)
    __asm__ volatile("int $0x80" : "+a"(result) : : "memory");
#endif
    return hostile_fail("int $0x80 returned %ld", result);
}
