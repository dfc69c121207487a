/*
 * heap_scribble_random - like heap_scribble, but with pseudo-random words,
 * which sometimes look like plausible sizes, offsets and flags.
 * Expected: done (the helpers refuse or stay inside the segment).
 */
#include "hostile.h"
#include "heap_layout.h"

HOSTILE_REGISTER("Heap scribble (random)", "Overwrites the whole heap with random words.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    struct heap_segment seg;
    if (!find_heap_segment(key, &seg))
        return hostile_fail("cannot find the heap segment");
    fill_garbage(seg.region, seg.end, 0x9e3779b97f4a7c15u);
    unsigned refusals;
    return hammer_helpers(key, &seg, &refusals);
}
