/*
 * foreign_free - hands the memory helpers pointers that were never theirs:
 * a stack address, a malloc'd block, a string literal, a pointer into the
 * middle of a live block, a misaligned one, one just below the heap, the
 * frame store, and the highest address.
 * Expected: done (every call answers NMERR_INVALID_PARAMETER, NULL or 0,
 * and the live block and the heap are unharmed).
 */
#include <stdint.h>
#include <stdlib.h>

#include "hostile.h"

HOSTILE_REGISTER("Foreign free", "Frees pointers the heap never handed out.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    unsigned char *live = ExpertAllocMemory(key, 256, NULL);
    if (!live)
        return hostile_fail("no block");
    memset(live, 0x11, 256);

    EXPERTFRAMEDESCRIPTOR descriptor;
    if (ExpertGetFrame(key, GET_FRAME_NEXT_FORWARD, 0, INVALID_FRAME_NUMBER, NULL, &descriptor) !=
        NMERR_SUCCESS)
        return hostile_fail("no first frame");

    int on_stack = 0;
    char *from_malloc = malloc(64);
    void *foreign[] = {
        &on_stack,
        from_malloc,
        (void *)"a string literal",
        live + 16,
        live + 1,
        live - 4096,
        descriptor.pFrame,
        (void *)(uintptr_t)-16,
        (void *)(uintptr_t)16,
    };
    for (size_t i = 0; i < sizeof foreign / sizeof *foreign; i++) {
        DWORD freed = ExpertFreeMemory(key, foreign[i]);
        if (freed != NMERR_INVALID_PARAMETER)
            return hostile_fail("free of foreign pointer %zu returned %u", i, (unsigned)freed);
        if (ExpertMemorySize(key, foreign[i]) != 0)
            return hostile_fail("foreign pointer %zu has a size", i);
        DWORD error = NMERR_SUCCESS;
        if (ExpertReallocMemory(key, foreign[i], 32, &error) != NULL || error != NMERR_INVALID_PARAMETER)
            return hostile_fail("realloc of foreign pointer %zu: error %u", i, (unsigned)error);
    }
    free(from_malloc);

    if (ExpertMemorySize(key, live) != 256)
        return hostile_fail("the live block changed size");
    for (int i = 0; i < 256; i++)
        if (live[i] != 0x11)
            return hostile_fail("the live block changed at byte %d", i);
    if (ExpertFreeMemory(key, live) != NMERR_SUCCESS)
        return hostile_fail("the live block cannot be freed");
    if (!ExpertAllocMemory(key, 1024, NULL))
        return hostile_fail("the heap stopped working");
    return TRUE;
}
