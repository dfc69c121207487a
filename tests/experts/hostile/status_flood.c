/*
 * status_flood - 100000 ExpertIndicateStatus calls with ever-changing text
 * and percentages (including ones the API says to ignore).
 * Expected: done.
 */
#include "hostile.h"

HOSTILE_REGISTER("Status flood", "Calls ExpertIndicateStatus 100000 times.")

#define CALLS 100000

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    char text[64];
    for (int i = 0; i < CALLS; i++) {
        snprintf(text, sizeof text, "step %d of %d", i, CALLS);
        LONG percent = (i % 150) - 20;   /* -20 .. 129: out-of-range values are ignored */
        DWORD result = ExpertIndicateStatus(key, EXPERTSTATUS_RUNNING, (DWORD)i, text, percent);
        if (result != NMERR_SUCCESS)
            return hostile_fail("status %d: ExpertIndicateStatus returned %u", i, (unsigned)result);
    }
    return TRUE;
}
