/*
 * column_bomb - an event with the most columns NumColumns allows (255),
 * each with a 300-byte name and a 2000-byte string value: far more than
 * one message can carry.  The worker must cut strings and columns and say
 * so, and the broker must get a valid event.
 * Expected: done, 1 event, marked truncated.
 */
#include "hostile.h"

HOSTILE_REGISTER("Column bomb", "Submits an event with 255 long string columns.")

#define COLUMNS 255

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    static char name[301];
    static char value[2001];
    memset(name, 'n', sizeof name - 1);
    memset(value, 'v', sizeof value - 1);
    PNMEVENTDATA event = ExpertAllocMemory(key, sizeof(NMEVENTDATA) + (COLUMNS - 1) * sizeof(NMCOLUMNINFO), NULL);
    if (!event)
        return hostile_fail("no memory for the event");
    event->szSourceName = "Column bomb";
    event->szEventName = "Column bomb";
    event->NumColumns = COLUMNS;
    for (int i = 0; i < COLUMNS; i++) {
        event->Column[i].szColumnName = name;
        event->Column[i].VariantData.Type = NMCOLUMNTYPE_STRING;
        event->Column[i].VariantData.Value.pStringVal = value;
    }
    DWORD result = ExpertSubmitEvent(key, event);
    if (result != NMERR_SUCCESS)
        return hostile_fail("ExpertSubmitEvent returned %u", (unsigned)result);
    return TRUE;
}
