/*
 * counter - the well-behaved test expert.
 *
 * Walks every frame of the capture the way the NetMon samples do (NEXT_FORWARD
 * from INVALID_FRAME_NUMBER until NMERR_NO_MORE_FRAMES), keeps its state in
 * memory from ExpertAllocMemory, and submits exactly one event:
 *
 *     "Frames"      UINT32  how many frames it saw
 *     "Last frame"  FRAME   the last frame it saw (only when there was one)
 *
 * The integration tests compare "Frames" with the frame count the broker
 * reports for the run, so every step that could silently skip a frame is
 * checked here and turned into Run returning FALSE ("problem") instead.
 */
#include <string.h>

#include "netmon.h"

struct counter_state {
    DWORD frames_seen;
    DWORD last_frame;
    DWORD next_expected;   /* frame numbers must come back consecutively */
};

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    strcpy(info->szName, "Counter");
    strcpy(info->szVendor, "expert-sandbox tests");
    strcpy(info->szDescription, "Counts the frames of the capture and reports the last one.");
    info->Version = 1;
    info->Flags = 0;
    return TRUE;
}

static BOOL submit_summary(HEXPERTKEY key, const struct counter_state *state)
{
    /* NMEVENTDATA ends in Column[1]: one more column needs one more entry. */
    DWORD error = NMERR_SUCCESS;
    PNMEVENTDATA event = ExpertAllocMemory(key, sizeof(NMEVENTDATA) + sizeof(NMCOLUMNINFO), &error);
    if (event == NULL)
        return FALSE;

    event->Version = 0;
    event->EventIdent = 1;
    event->Flags = NMEVENTFLAG_EXPERT;
    event->Severity = NMEVENT_SEVERITY_INFORMATIONAL;
    event->szSourceName = "Counter";
    event->szEventName = "Frame count";
    event->szDescription = "Number of frames in the capture";

    event->Column[0].szColumnName = "Frames";
    event->Column[0].VariantData.Type = NMCOLUMNTYPE_UINT32;
    event->Column[0].VariantData.Value.Uint32Val = state->frames_seen;
    event->NumColumns = 1;
    if (state->frames_seen > 0) {
        event->Column[1].szColumnName = "Last frame";
        event->Column[1].VariantData.Type = NMCOLUMNTYPE_FRAME;
        event->Column[1].VariantData.Value.FrameVal = state->last_frame;
        event->NumColumns = 2;
    }

    DWORD submitted = ExpertSubmitEvent(key, event);
    ExpertFreeMemory(key, event);
    return submitted == NMERR_SUCCESS;
}

BOOL WINAPI Run(HEXPERTKEY key, PEXPERTCONFIG config, PEXPERTSTARTUPINFO startup, DWORD flags,
                HWND parent)
{
    DWORD error = NMERR_SUCCESS;
    struct counter_state *state = ExpertAllocMemory(key, sizeof(*state), &error);
    if (state == NULL) {
        ExpertIndicateStatus(key, EXPERTSTATUS_PROBLEM, error, "no memory for the counter", 0);
        return FALSE;
    }
    ExpertIndicateStatus(key, EXPERTSTATUS_RUNNING, 0, "counting", 0);

    EXPERTFRAMEDESCRIPTOR descriptor;
    DWORD requested = INVALID_FRAME_NUMBER;
    DWORD result;
    while ((result = ExpertGetFrame(key, GET_FRAME_NEXT_FORWARD, 0, requested, NULL, &descriptor))
           == NMERR_SUCCESS) {
        if (descriptor.FrameNumber != state->next_expected || descriptor.pFrame == NULL) {
            ExpertIndicateStatus(key, EXPERTSTATUS_PROBLEM, descriptor.FrameNumber,
                                 "frames out of order", 0);
            return FALSE;
        }
        state->frames_seen++;
        state->last_frame = descriptor.FrameNumber;
        state->next_expected = descriptor.FrameNumber + 1;
        requested = descriptor.FrameNumber;
        if (state->frames_seen % 4096 == 0)
            ExpertIndicateStatus(key, EXPERTSTATUS_RUNNING, 0, NULL, 50);
    }
    if (result != NMERR_NO_MORE_FRAMES) {
        /* Anything else (terminate included) means the count is not the capture's. */
        ExpertIndicateStatus(key, EXPERTSTATUS_PROBLEM, result, "ExpertGetFrame failed", 0);
        return FALSE;
    }

    BOOL ok = submit_summary(key, state);
    ExpertFreeMemory(key, state);
    return ok;
}
