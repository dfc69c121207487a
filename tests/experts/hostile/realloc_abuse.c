/*
 * realloc_abuse - sizes meant to overflow the allocator's arithmetic:
 * SIZE_MAX, SIZE_MAX - 15 (rounds up to 0), 2^63, 2^48 and so on, through
 * ExpertAllocMemory and ExpertReallocMemory; then shrinks a block to 0.
 * Expected: done (NULL with NMERR_OUT_OF_MEMORY for every impossible size,
 * the original block untouched, the heap still working).
 */
#include <stdint.h>

#include "hostile.h"

HOSTILE_REGISTER("Realloc abuse", "Allocation sizes that overflow arithmetic.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    static const SIZE_T impossible[] = {
        SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 15, SIZE_MAX - 16, SIZE_MAX / 2 + 1,
        (SIZE_T)1 << 48, ((SIZE_T)1 << 48) - 16, (SIZE_T)1 << 40,
    };
    unsigned char *block = ExpertAllocMemory(key, 48, NULL);
    if (!block)
        return hostile_fail("no block");
    memset(block, 0x77, 48);
    for (size_t i = 0; i < sizeof impossible / sizeof *impossible; i++) {
        DWORD error = NMERR_SUCCESS;
        if (ExpertAllocMemory(key, impossible[i], &error) != NULL || error != NMERR_OUT_OF_MEMORY)
            return hostile_fail("alloc of %zu: error %u", (size_t)impossible[i], (unsigned)error);
        error = NMERR_SUCCESS;
        if (ExpertReallocMemory(key, block, impossible[i], &error) != NULL || error != NMERR_OUT_OF_MEMORY)
            return hostile_fail("realloc to %zu: error %u", (size_t)impossible[i], (unsigned)error);
        if (ExpertMemorySize(key, block) != 48 || block[47] != 0x77)
            return hostile_fail("a failed realloc changed the block");
    }
    /* Shrinking to nothing keeps a valid block of size 0. */
    unsigned char *shrunk = ExpertReallocMemory(key, block, 0, NULL);
    if (!shrunk || ExpertMemorySize(key, shrunk) != 0)
        return hostile_fail("realloc to 0 did not keep a block");
    if (ExpertFreeMemory(key, shrunk) != NMERR_SUCCESS)
        return hostile_fail("the shrunk block cannot be freed");
    /* Realloc of NULL allocates. */
    unsigned char *fresh = ExpertReallocMemory(key, NULL, 100, NULL);
    if (!fresh || ExpertMemorySize(key, fresh) != 100)
        return hostile_fail("realloc of NULL did not allocate");
    return TRUE;
}
