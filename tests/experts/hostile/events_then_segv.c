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
    DWORD failed_at;
    if (submit_numbered_events(key, "Events then SIGSEGV", "Before the crash", 0, EVENTS, &failed_at) != NMERR_SUCCESS)
        return hostile_fail("event %u refused", (unsigned)failed_at);
    *nowhere = 1;
    return TRUE;
}
