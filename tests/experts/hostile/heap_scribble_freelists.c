/*
 * heap_scribble_freelists - keeps the first words of the allocator's
 * control structure (what it checks on entry) and fills the rest of it (the
 * free-list bitmaps and heads, the counters) with random words, leaving
 * every block intact: list heads now point anywhere.
 * Expected: done (the helpers refuse or stay inside the segment).
 */
#include "hostile.h"
#include "heap_layout.h"

HOSTILE_REGISTER("Heap scribble (free lists)", "Overwrites the allocator's list heads.")

/* magic, the region's address, the arena end and its inverse: 4 words. */
#define CHECKED_ON_ENTRY 32
#define BLOCK_HEADER 16

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    struct heap_segment seg;
    if (!find_heap_segment(key, &seg))
        return hostile_fail("cannot find the heap segment");
    for (unsigned char *p = seg.first_block; p + PROBE_BLOCK <= seg.end; p += 4 * (PROBE_BLOCK + BLOCK_HEADER))
        ExpertFreeMemory(key, p);
    fill_garbage(seg.region + CHECKED_ON_ENTRY, seg.first_block - BLOCK_HEADER, 0x853c49e6748fea9bu);
    unsigned refusals;
    return hammer_helpers(key, &seg, &refusals);
}
