/*
 * many_events - one event per frame, submitted as it goes (a "problem"
 * expert in NetMon's terms).  Each event carries the frame (FRAME) and its
 * length on the wire (UINT32), so two runs of the same capture must produce
 * exactly the same events, however many experts ran at once.
 */
#include <string.h>

#include "netmon.h"

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    strcpy(info->szName, "Many events");
    strcpy(info->szVendor, "expert-sandbox tests");
    strcpy(info->szDescription, "Submits one event per frame.");
    return TRUE;
}

BOOL WINAPI Run(HEXPERTKEY key, PEXPERTCONFIG config, PEXPERTSTARTUPINFO startup, DWORD flags,
                HWND parent)
{
    DWORD error = NMERR_SUCCESS;
    /* Reused for every event: the host copies what it is given. */
    PNMEVENTDATA event = ExpertAllocMemory(key, sizeof(NMEVENTDATA) + sizeof(NMCOLUMNINFO), &error);
    if (event == NULL)
        return FALSE;
    event->Flags = NMEVENTFLAG_EXPERT;
    event->szSourceName = "Many events";
    event->szEventName = "Frame seen";
    event->NumColumns = 2;
    event->Column[0].szColumnName = "Frame";
    event->Column[0].VariantData.Type = NMCOLUMNTYPE_FRAME;
    event->Column[1].szColumnName = "Length";
    event->Column[1].VariantData.Type = NMCOLUMNTYPE_UINT32;

    EXPERTFRAMEDESCRIPTOR descriptor;
    DWORD requested = INVALID_FRAME_NUMBER;
    DWORD result;
    while ((result = ExpertGetFrame(key, GET_FRAME_NEXT_FORWARD, 0, requested, NULL, &descriptor))
           == NMERR_SUCCESS) {
        event->EventIdent = descriptor.FrameNumber + 1;
        event->Severity = descriptor.FrameNumber % (NMEVENT_SEVERITY_CRITICAL_ERROR + 1);
        event->Column[0].VariantData.Value.FrameVal = descriptor.FrameNumber;
        event->Column[1].VariantData.Value.Uint32Val = descriptor.pFrame->FrameLength;
        if (ExpertSubmitEvent(key, event) != NMERR_SUCCESS)
            return FALSE;
        requested = descriptor.FrameNumber;
    }
    ExpertFreeMemory(key, event);
    return result == NMERR_NO_MORE_FRAMES;
}
