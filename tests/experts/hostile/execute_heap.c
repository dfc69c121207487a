/*
 * execute_heap - copies a `ret` instruction into a heap block and calls it:
 * running code from data.  The heap is mapped without PROT_EXEC.
 * Expected: crashed, SIGSEGV at the block's address.
 */
#include <string.h>

#include "hostile.h"

HOSTILE_REGISTER("Execute the heap", "Calls code it wrote into an ExpertAllocMemory block.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    unsigned char *block = ExpertAllocMemory(key, 64, NULL);
    if (!block)
        return hostile_fail("no block");
    block[0] = 0xc3;   /* x86 ret */
    /* Object and function pointers do not convert in ISO C; copying the
     * bits is what an attacker does anyway. */
    void (*code)(void);
    memcpy(&code, &block, sizeof code);
    code();
    return TRUE;
}
