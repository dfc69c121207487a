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
    NMEVENTDATA event;
    memset(&event, 0, sizeof event);
    event.Flags = NMEVENTFLAG_EXPERT;
    event.szSourceName = "Flood";
    event.szEventName = "Flood";
    event.NumColumns = 1;
    event.Column[0].szColumnName = "n";
    event.Column[0].VariantData.Type = NMCOLUMNTYPE_UINT32;
    for (DWORD i = 0; i < EVENTS; i++) {
        event.EventIdent = i;
        event.Column[0].VariantData.Value.Uint32Val = i;
        DWORD result = ExpertSubmitEvent(key, &event);
        if (result != NMERR_SUCCESS)
            return hostile_fail("event %u: ExpertSubmitEvent returned %u", (unsigned)i, (unsigned)result);
    }
    return TRUE;
}
