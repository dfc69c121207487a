/*
 * tidy - the control: handles every fault the sweep injects.
 *
 * Two blocks held across the frame loop, one event; every allocation is
 * checked, every helper's result is looked at, and on every way out (a
 * failed allocation, NMERR_EXPERT_TERMINATE from any helper) what it holds
 * is freed before Run returns.  The sweep must find nothing: this is the
 * test that the sweep does not blame an expert for the host's behaviour
 * (for instance ExpertFreeMemory during a terminate request).
 */
#include <string.h>

#include "netmon.h"

struct tidy_state {
    DWORD frames;
    DWORD bytes;
};

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    strcpy(info->szName, "Tidy");
    strcpy(info->szVendor, "expert-sandbox tests");
    strcpy(info->szDescription, "Handles every injected fault and frees on every path.");
    info->Version = 1;
    return TRUE;
}

static BOOL finish(HEXPERTKEY key, struct tidy_state *state, void *scratch, BOOL result)
{
    if (scratch)
        ExpertFreeMemory(key, scratch);
    if (state)
        ExpertFreeMemory(key, state);
    return result;
}

BOOL WINAPI Run(HEXPERTKEY key, PEXPERTCONFIG config, PEXPERTSTARTUPINFO startup, DWORD flags,
                HWND parent)
{
    DWORD error = NMERR_SUCCESS;
    struct tidy_state *state = ExpertAllocMemory(key, sizeof *state, &error);
    if (!state)
        return FALSE;
    memset(state, 0, sizeof *state);
    void *scratch = ExpertAllocMemory(key, 512, &error);
    if (!scratch)
        return finish(key, state, NULL, FALSE);

    EXPERTFRAMEDESCRIPTOR frame;
    DWORD requested = INVALID_FRAME_NUMBER;
    DWORD result;
    while ((result = ExpertGetFrame(key, GET_FRAME_NEXT_FORWARD, 0, requested, NULL, &frame)) ==
           NMERR_SUCCESS) {
        state->frames++;
        state->bytes += frame.pFrame->nBytesAvail;
        requested = frame.FrameNumber;
    }
    if (result != NMERR_NO_MORE_FRAMES)
        return finish(key, state, scratch, FALSE);

    PNMEVENTDATA event = ExpertAllocMemory(key, sizeof *event, &error);
    if (!event)
        return finish(key, state, scratch, FALSE);
    memset(event, 0, sizeof *event);
    event->EventIdent = 1;
    event->Flags = NMEVENTFLAG_EXPERT;
    event->Severity = NMEVENT_SEVERITY_INFORMATIONAL;
    event->szSourceName = "Tidy";
    event->szEventName = "Frames";
    event->Column[0].szColumnName = "Frames";
    event->Column[0].VariantData.Type = NMCOLUMNTYPE_UINT32;
    event->Column[0].VariantData.Value.Uint32Val = state->frames;
    event->NumColumns = 1;
    DWORD submitted = ExpertSubmitEvent(key, event);
    ExpertFreeMemory(key, event);
    return finish(key, state, scratch, submitted == NMERR_SUCCESS);
}
