/*
 * double_free - frees a block twice, then uses the stale pointer with
 * every memory helper.  The heap must say NMERR_INVALID_PARAMETER (it can
 * tell a freed block), stay usable, and not hand the block out twice.
 * Expected: done.
 */
#include "hostile.h"

HOSTILE_REGISTER("Double free", "Frees an ExpertAllocMemory block twice.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    LPVOID block = ExpertAllocMemory(key, 100, NULL);
    LPVOID neighbour = ExpertAllocMemory(key, 100, NULL);
    if (!block || !neighbour)
        return hostile_fail("no blocks");
    DWORD first = ExpertFreeMemory(key, block);
    if (first != NMERR_SUCCESS)
        return hostile_fail("first free returned %u", (unsigned)first);
    DWORD second = ExpertFreeMemory(key, block);
    if (second != NMERR_INVALID_PARAMETER)
        return hostile_fail("second free returned %u", (unsigned)second);
    if (ExpertMemorySize(key, block) != 0)
        return hostile_fail("a freed block still has a size");
    DWORD error = NMERR_SUCCESS;
    if (ExpertReallocMemory(key, block, 200, &error) != NULL || error != NMERR_INVALID_PARAMETER)
        return hostile_fail("realloc of a freed block: error %u", (unsigned)error);

    /* Many more frees of the same stale pointer, interleaved with real work. */
    for (int i = 0; i < 1000; i++) {
        LPVOID fresh = ExpertAllocMemory(key, 64, NULL);
        if (!fresh)
            return hostile_fail("the heap stopped working after a double free");
        if (i % 2 == 0 && ExpertFreeMemory(key, fresh) != NMERR_SUCCESS)
            return hostile_fail("a good free failed");
        ExpertFreeMemory(key, neighbour);   /* only the first of these is real */
    }
    LPVOID a = ExpertAllocMemory(key, 32, NULL);
    LPVOID b = ExpertAllocMemory(key, 32, NULL);
    if (!a || !b || a == b)
        return hostile_fail("the heap handed out one block twice");
    return TRUE;
}
