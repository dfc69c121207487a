/*
 * events_then_segv - 200000 events as fast as it can, then SIGSEGV.
 * ExpertSubmitEvent promises that an event is in the broker's memory once
 * it returns, so every one of them must be delivered, although most are
 * still in the event ring when the worker dies.
 * Expected: crashed (SIGSEGV), with exactly 200000 events.
 */
#include "hostile.h"

HOSTILE_REGISTER("Events, then SIGSEGV", "Submits 200000 events, then writes through NULL.")

#define EVENTS 200000

static int *volatile nowhere;

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    NMEVENTDATA event;
    memset(&event, 0, sizeof event);
    event.Flags = NMEVENTFLAG_EXPERT;
    event.szSourceName = "Events then SIGSEGV";
    event.szEventName = "Before the crash";
    event.NumColumns = 1;
    event.Column[0].szColumnName = "n";
    event.Column[0].VariantData.Type = NMCOLUMNTYPE_UINT32;
    for (DWORD i = 0; i < EVENTS; i++) {
        event.EventIdent = i;
        event.Column[0].VariantData.Value.Uint32Val = i;
        if (ExpertSubmitEvent(key, &event) != NMERR_SUCCESS)
            return hostile_fail("event %u refused", (unsigned)i);
    }
    *nowhere = 1;
    return TRUE;
}
