/*
 * heap_scribble_blocks - leaves the allocator's control structure alone and
 * fills every block (headers, free-list links, footers) with random words:
 * the allocator now believes its bitmaps and list heads, which lead it into
 * garbage.
 * Expected: done (the helpers refuse or stay inside the segment).
 */
#include "hostile.h"
#include "heap_layout.h"

HOSTILE_REGISTER("Heap scribble (blocks)", "Overwrites every block header with random words.")

#define BLOCK_HEADER 16   /* one header precedes each block's payload */

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    struct heap_segment seg;
    if (!find_heap_segment(key, &seg))
        return hostile_fail("cannot find the heap segment");
    /* Free a few blocks first, so the free lists are not empty. */
    for (unsigned char *p = seg.first_block; p + PROBE_BLOCK <= seg.end; p += 8 * (PROBE_BLOCK + BLOCK_HEADER))
        ExpertFreeMemory(key, p);
    fill_garbage(seg.first_block - BLOCK_HEADER, seg.end, 0x2545f4914f6cdd1du);
    unsigned refusals;
    return hammer_helpers(key, &seg, &refusals);
}
