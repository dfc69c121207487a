/*
 * event_flood - submits 200000 small events as fast as it can, to overrun
 * the broker (and starve the expert running next to it).  Every submitted
 * event must arrive: nothing is dropped to keep up.
 * Expected: done, with exactly 200000 events.
 */
#include "hostile.h"

HOSTILE_REGISTER("Event flood", "Submits 200000 events.")

#define EVENTS 200000

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    DWORD failed_at;
    DWORD result = submit_numbered_events(key, "Flood", "Flood", 0, EVENTS, &failed_at);
    if (result != NMERR_SUCCESS)
        return hostile_fail("event %u: ExpertSubmitEvent returned %u", (unsigned)failed_at, (unsigned)result);
    return TRUE;
}
