/*
 * heap_overflow - the classic: writes past the end of one block into the
 * header and free-list links of the next (freed) block, then frees and
 * allocates around it, hoping the allocator follows a forged link and
 * writes where the attacker wants (here: the control page, and a stack
 * address).
 * Expected: done (the helpers refuse or stay inside the segment; the
 * attacker's targets are untouched).
 */
#include <stdint.h>

#include "hostile.h"
#include "heap_layout.h"

HOSTILE_REGISTER("Heap overflow", "Overflows a block into its free neighbour's links.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    struct heap_segment seg;
    if (!find_heap_segment(key, &seg))
        return hostile_fail("cannot find the heap segment");
    /* Start over with a heap of three small blocks: free them all first. */
    for (unsigned char *p = seg.first_block; p + PROBE_BLOCK <= seg.end; p += PROBE_BLOCK + 16)
        ExpertFreeMemory(key, p);
    unsigned char *a = ExpertAllocMemory(key, 64, NULL);
    unsigned char *b = ExpertAllocMemory(key, 64, NULL);
    unsigned char *c = ExpertAllocMemory(key, 64, NULL);
    if (!a || !b || !c)
        return hostile_fail("no blocks after freeing");
    ExpertFreeMemory(key, b);

    /* a's payload runs into b's header (2 words) and b's free links. */
    volatile uint64_t target_on_stack = 0;
    uint64_t forged[] = {
        0xfffffffffffff0f0u,                                         /* size word: huge, flags */
        (uint64_t)(uintptr_t)(seg.start + 16) - (uint64_t)(uintptr_t)seg.region,  /* prev link */
        (uint64_t)(uintptr_t)&target_on_stack,                       /* next link, as a pointer */
        (uint64_t)-4096,                                             /* next link, as an offset */
    };
    memcpy(a + 64, forged, sizeof forged);

    unsigned refusals = 0;
    for (int i = 0; i < 100; i++) {
        DWORD error = NMERR_SUCCESS;
        LPVOID p = ExpertAllocMemory(key, 64, &error);
        if (p && !inside_region(&seg, p, 64))
            return hostile_fail("allocation at %p, outside the heap", p);
        if (!p)
            refusals++;
        ExpertFreeMemory(key, c);
    }
    if (target_on_stack != 0)
        return hostile_fail("the allocator wrote through a forged link onto the stack");
    if (refusals == 0)
        return hostile_fail("the allocator never noticed the forged header");
    return TRUE;
}
