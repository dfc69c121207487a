/*
 * abort_leak - frees everything, except on the way out of an abort.
 *
 * Planted fault: when ExpertGetFrame returns NMERR_EXPERT_TERMINATE (the
 * user aborted), Run returns at once and leaves its state block allocated.
 * On a normal return, and when an allocation fails, everything is freed.
 *
 * Helper calls, counted from 1 over a capture of N frames:
 *   1            ExpertAllocMemory (state)
 *   2 .. N+2     ExpertGetFrame: N frames, then NMERR_NO_MORE_FRAMES
 *   N+3          ExpertAllocMemory (event)
 *   N+4          ExpertSubmitEvent
 *   N+5, N+6     ExpertFreeMemory (event, state)
 * The sweep must report a leak of one block at terminate sites 2 .. N+2,
 * and nothing at the allocation sites or without faults.
 */
#include <string.h>

#include "netmon.h"

struct state {
    DWORD frames;
};

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    strcpy(info->szName, "Abort leak");
    strcpy(info->szVendor, "expert-sandbox tests");
    strcpy(info->szDescription, "Leaves its state allocated when the run is aborted.");
    info->Version = 1;
    return TRUE;
}

BOOL WINAPI Run(HEXPERTKEY key, PEXPERTCONFIG config, PEXPERTSTARTUPINFO startup, DWORD flags,
                HWND parent)
{
    DWORD error = NMERR_SUCCESS;
    struct state *state = ExpertAllocMemory(key, sizeof *state, &error);
    if (!state)
        return FALSE;
    state->frames = 0;

    EXPERTFRAMEDESCRIPTOR frame;
    DWORD requested = INVALID_FRAME_NUMBER;
    DWORD result;
    while ((result = ExpertGetFrame(key, GET_FRAME_NEXT_FORWARD, 0, requested, NULL, &frame)) ==
           NMERR_SUCCESS) {
        state->frames++;
        requested = frame.FrameNumber;
    }
    if (result == NMERR_EXPERT_TERMINATE)
        return FALSE;   /* the planted fault: state is not freed */
    if (result != NMERR_NO_MORE_FRAMES) {
        ExpertFreeMemory(key, state);
        return FALSE;
    }

    PNMEVENTDATA event = ExpertAllocMemory(key, sizeof *event, &error);
    if (!event) {
        ExpertFreeMemory(key, state);
        return FALSE;
    }
    memset(event, 0, sizeof *event);
    event->EventIdent = 1;
    event->Flags = NMEVENTFLAG_EXPERT;
    event->Severity = NMEVENT_SEVERITY_INFORMATIONAL;
    event->szSourceName = "Abort leak";
    event->szEventName = "Frames";
    event->Column[0].szColumnName = "Frames";
    event->Column[0].VariantData.Type = NMCOLUMNTYPE_UINT32;
    event->Column[0].VariantData.Value.Uint32Val = state->frames;
    event->NumColumns = 1;
    DWORD submitted = ExpertSubmitEvent(key, event);
    ExpertFreeMemory(key, event);
    ExpertFreeMemory(key, state);
    return submitted == NMERR_SUCCESS;
}
