/*
 * filtered_counter - counts the frames that pass the analyst's display filter
 * (FLAGS_DEFER_TO_UI_FILTER, i.e. expert-broker --filter).
 *
 * One event, "Frames" UINT32: how many frames ExpertGetFrame returned with
 * the flag set.  Without --filter every frame passes.  The test compares the
 * number with what libpcap's own filter engine says about the same capture.
 */
#include <string.h>

#include "netmon.h"

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    strcpy(info->szName, "Filtered counter");
    strcpy(info->szVendor, "expert-sandbox tests");
    strcpy(info->szDescription, "Counts the frames that pass the display filter.");
    return TRUE;
}

BOOL WINAPI Run(HEXPERTKEY key, PEXPERTCONFIG config, PEXPERTSTARTUPINFO startup, DWORD flags,
                HWND parent)
{
    EXPERTFRAMEDESCRIPTOR descriptor;
    DWORD requested = INVALID_FRAME_NUMBER;
    DWORD passing = 0;
    DWORD result;
    while ((result = ExpertGetFrame(key, GET_FRAME_NEXT_FORWARD, FLAGS_DEFER_TO_UI_FILTER,
                                    requested, NULL, &descriptor)) == NMERR_SUCCESS) {
        /* Frames passing a filter still come back in increasing order. */
        if (requested != INVALID_FRAME_NUMBER && descriptor.FrameNumber <= requested)
            return FALSE;
        passing++;
        requested = descriptor.FrameNumber;
    }
    if (result != NMERR_NO_MORE_FRAMES)
        return FALSE;

    NMEVENTDATA event;
    memset(&event, 0, sizeof(event));
    event.EventIdent = 1;
    event.Flags = NMEVENTFLAG_EXPERT;
    event.szSourceName = "Filtered counter";
    event.szEventName = "Filtered frame count";
    event.szDescription = "Number of frames that pass the display filter";
    event.NumColumns = 1;
    event.Column[0].szColumnName = "Frames";
    event.Column[0].VariantData.Type = NMCOLUMNTYPE_UINT32;
    event.Column[0].VariantData.Value.Uint32Val = passing;
    return ExpertSubmitEvent(key, &event) == NMERR_SUCCESS;
}
