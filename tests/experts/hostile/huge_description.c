/*
 * huge_description - an event whose description is 100 MiB long.  The
 * worker sends at most ES_MAX_LONG_TEXT bytes of it and marks the event
 * truncated; it must not read the whole string or build a huge message.
 * Expected: done, 1 event, truncated (the test gives it the default heap).
 */
#include "hostile.h"

HOSTILE_REGISTER("Huge description", "Submits an event with a 100 MiB description.")

#define LENGTH (100u * 1024 * 1024)

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    DWORD error = NMERR_SUCCESS;
    char *description = ExpertAllocMemory(key, LENGTH + 1, &error);
    if (!description)
        return hostile_fail("no 100 MiB block (error %u)", (unsigned)error);
    memset(description, 'D', LENGTH);
    description[LENGTH] = '\0';
    NMEVENTDATA event;
    memset(&event, 0, sizeof event);
    event.szSourceName = "Huge description";
    event.szEventName = "Huge description";
    event.szDescription = description;
    DWORD result = ExpertSubmitEvent(key, &event);
    if (result != NMERR_SUCCESS)
        return hostile_fail("ExpertSubmitEvent returned %u", (unsigned)result);
    return TRUE;
}
