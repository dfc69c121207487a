/*
 * mprotect_exec - makes a heap page executable, to run code it wrote there.
 * Expected: violation, "mprotect" with PROT_EXEC.
 */
#include <stdint.h>
#include <sys/mman.h>

#include "hostile.h"

HOSTILE_REGISTER("mprotect PROT_EXEC", "Makes a heap page executable, to run code it wrote there.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    unsigned char *block = ExpertAllocMemory(key, 8192, NULL);
    if (!block)
        return hostile_fail("no block");
    void *page = (void *)(((uintptr_t)block + 4095) & ~(uintptr_t)4095);
    int rc = mprotect(page, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
    return hostile_fail("mprotect returned %d", rc);
}
