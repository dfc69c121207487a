/*
 * control_scribble - overwrites the heap segment's control page, the one
 * page the broker also maps: the terminate word, every counter the broker
 * reports (frames read, heap use, helper calls) and the crash record.
 * The broker may only report these as the worker's word, clamped; it must
 * not crash, hang or believe a crash record without a crash.  The helpers
 * see the terminate word set and answer NMERR_EXPERT_TERMINATE.
 * Expected: done, with the reported heap figures clamped to the quota, no
 * last frame, no fault address.
 */
#include "hostile.h"
#include "heap_layout.h"

HOSTILE_REGISTER("Control page scribble", "Overwrites the counters the broker reads.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    struct heap_segment seg;
    if (!find_heap_segment(key, &seg))
        return hostile_fail("cannot find the heap segment");
    memset(seg.start, 0xff, CONTROL_PAGE);
    EXPERTFRAMEDESCRIPTOR descriptor;
    DWORD result = ExpertGetFrame(key, GET_FRAME_NEXT_FORWARD, 0, INVALID_FRAME_NUMBER, NULL, &descriptor);
    if (result != NMERR_EXPERT_TERMINATE)
        return hostile_fail("ExpertGetFrame returned %u with the terminate word set", (unsigned)result);
    return TRUE;
}
