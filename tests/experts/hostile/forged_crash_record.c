/*
 * forged_crash_record - writes a crash record of its own into the heap's
 * control page (SIGSEGV, a kernel fault code, address 0xdeadbeef), puts
 * the default action back on SIGSEGV so that the worker's recorder cannot
 * correct it, and then faults at address 0x40.
 * Expected: crashed, SIGSEGV.  Where the broker has the kernel's word (a
 * PID namespace, whose init sees the fault's siginfo), the fault address
 * is 0x40, the forged one is not believed; without it the worker's record
 * is all there is, reported as the worker's word (docs/output.md).
 */
#include <signal.h>
#include <string.h>

#include "hostile.h"
#include "heap_layout.h"

HOSTILE_REGISTER("Forged crash record", "Leaves a false fault address, then faults elsewhere.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    struct heap_segment seg;
    if (!find_heap_segment(key, &seg))
        return hostile_fail("cannot find the heap segment");
    volatile uint32_t *crash = (volatile uint32_t *)(seg.start + CRASH_RECORD_OFFSET);
    crash[0] = SIGSEGV;                                   /* crash_signal */
    crash[1] = SEGV_MAPERR;                               /* crash_code: "the kernel's" */
    *(volatile uint64_t *)(crash + 2) = 0xdeadbeefu;      /* crash_address */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    if (sigaction(SIGSEGV, &dfl, NULL) != 0)
        return hostile_fail("sigaction was refused");
    volatile int *volatile low = (volatile int *)0x40;
    *low = 42;
    return TRUE;
}
