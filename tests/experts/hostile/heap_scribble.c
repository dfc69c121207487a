/*
 * heap_scribble - finds its heap segment and overwrites the allocator's
 * whole region with 0xA5: the allocator's control structure, free lists,
 * every block header, every block.  Then it calls every memory helper
 * thousands of times.
 *
 * The heap lives in the expert's process, so nothing stops the scribble; what
 * must hold is that the helpers notice and refuse (NULL, NMERR_*), never
 * crash and never hand out memory outside the segment.  The broker is not
 * involved: it reads nothing of the allocator's.
 * Expected: done (the test gives it a 1 MiB heap).
 */
#include "hostile.h"
#include "heap_layout.h"

HOSTILE_REGISTER("Heap scribble", "Overwrites the whole heap with 0xA5, then calls the helpers.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    struct heap_segment seg;
    if (!find_heap_segment(key, &seg))
        return hostile_fail("cannot find the heap segment");
    memset(seg.region, 0xa5, (size_t)(seg.end - seg.region));
    unsigned refusals;
    if (!hammer_helpers(key, &seg, &refusals))
        return FALSE;
    if (refusals == 0)
        return hostile_fail("the helpers did not notice the scribble");
    return TRUE;
}
