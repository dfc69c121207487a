/*
 * bad_event_pointer - submits an event whose szDescription is (char *)1.
 * The helper reads the string in the expert's own process, so the fault is
 * the expert's, and must be reported as such, not as a broker problem.
 * Expected: crashed, SIGSEGV at address 0x1, inside ExpertSubmitEvent.
 */
#include "hostile.h"

HOSTILE_REGISTER("Bad pointer in NMEVENTDATA", "szDescription = (char *)1.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    NMEVENTDATA event;
    memset(&event, 0, sizeof event);
    event.Flags = NMEVENTFLAG_EXPERT;
    event.szSourceName = "Bad pointer";
    event.szEventName = "Bad pointer";
    event.szDescription = (char *)1;
    ExpertSubmitEvent(key, &event);
    return hostile_fail("ExpertSubmitEvent read (char *)1 and returned");
}
