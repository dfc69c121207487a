/*
 * crash_after_events - submits some events, then dies of SIGSEGV.
 *
 * Reads frames 0..9, submits three events (the third one naming the last
 * frame read), then writes through a NULL pointer.  The tests check that the
 * broker reports "crashed" with SIGSEGV, still delivers all three events
 * (ExpertSubmitEvent promises they cannot be lost once it returned), counts
 * the ten frames, and that every other expert of the run is unaffected.
 */
#include <string.h>

#include "netmon.h"

#define FRAMES_TO_READ 10
#define EVENTS_TO_SUBMIT 3

/* volatile, so that the compiler can neither prove the store undefined and
 * drop it nor turn it into a trap instruction (SIGILL instead of SIGSEGV). */
static int *volatile nowhere;

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    strcpy(info->szName, "Crash after events");
    strcpy(info->szVendor, "expert-sandbox tests");
    strcpy(info->szDescription, "Submits three events, then dereferences NULL.");
    info->Version = 1;
    return TRUE;
}

BOOL WINAPI Run(HEXPERTKEY key, PEXPERTCONFIG config, PEXPERTSTARTUPINFO startup, DWORD flags,
                HWND parent)
{
    EXPERTFRAMEDESCRIPTOR descriptor;
    DWORD requested = INVALID_FRAME_NUMBER;
    for (int i = 0; i < FRAMES_TO_READ; i++) {
        if (ExpertGetFrame(key, GET_FRAME_NEXT_FORWARD, 0, requested, NULL, &descriptor)
            != NMERR_SUCCESS)
            return FALSE;   /* the tests give it a capture with enough frames */
        requested = descriptor.FrameNumber;
    }

    for (DWORD n = 1; n <= EVENTS_TO_SUBMIT; n++) {
        NMEVENTDATA event;
        memset(&event, 0, sizeof(event));
        event.EventIdent = n;
        event.Flags = NMEVENTFLAG_EXPERT;
        event.Severity = NMEVENT_SEVERITY_WARNING;
        event.szSourceName = "Crash after events";
        event.szEventName = "Before the crash";
        event.szDescription = "An event submitted before the expert crashes";
        event.NumColumns = 1;
        event.Column[0].szColumnName = "Frame";
        event.Column[0].VariantData.Type = NMCOLUMNTYPE_FRAME;
        event.Column[0].VariantData.Value.FrameVal = descriptor.FrameNumber;
        if (ExpertSubmitEvent(key, &event) != NMERR_SUCCESS)
            return FALSE;
    }

    *nowhere = 42;
    return TRUE;
}
