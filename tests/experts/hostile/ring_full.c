/*
 * ring_full - 3000 events of 16 KiB each (an 8 KiB description and an
 * 8 KiB justification, the longest the API keeps), 48 MiB in all: the
 * 1 MiB event ring holds 64 of them, so the expert fills it over and over
 * and has to wait for the broker each time.
 * Expected: done, with exactly 3000 events: waiting loses nothing.
 */
#include "hostile.h"

HOSTILE_REGISTER("Ring full", "Fills the event ring again and again.")

#define EVENTS 3000
#define LONG_TEXT 8192

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    static char text[LONG_TEXT + 1];
    memset(text, 'x', LONG_TEXT);
    NMEVENTDATA event;
    memset(&event, 0, sizeof event);
    event.Flags = NMEVENTFLAG_EXPERT;
    event.szSourceName = "Ring full";
    event.szEventName = "Long";
    event.szDescription = text;
    event.Justification = text;
    for (DWORD i = 0; i < EVENTS; i++) {
        event.EventIdent = i;
        DWORD result = ExpertSubmitEvent(key, &event);
        if (result != NMERR_SUCCESS)
            return hostile_fail("event %u: ExpertSubmitEvent returned %u", (unsigned)i, (unsigned)result);
    }
    return TRUE;
}
