/*
 * bench_events - submits one event per frame of the capture, as fast as it
 * can, without reading the frames, then one summary event that says how
 * many it submitted and how long that took on its own clock.
 *
 * Built twice: as bench_events.so, and with BENCH_CRASH_AFTER as
 * bench_events_crash.so, which dies of SIGSEGV right after the summary.
 * ExpertSubmitEvent promises that an event is in the broker's memory (its
 * event ring) once it returns, so the crashing variant must still have
 * every event delivered: the bench counts them.
 *
 * The event has the shape of a typical problem event: two columns (a frame
 * and a length) and short names.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "netmon.h"

#define EVENT_IDENT_FRAME 1
#define EVENT_IDENT_SUMMARY 2

#ifdef BENCH_CRASH_AFTER
/* volatile: the compiler may neither drop the store nor turn it into a
 * trap instruction (SIGILL instead of SIGSEGV). */
static int *volatile nowhere;
#endif

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
#ifdef BENCH_CRASH_AFTER
    strcpy(info->szName, "Bench events, then crash");
#else
    strcpy(info->szName, "Bench events");
#endif
    strcpy(info->szVendor, "expert-sandbox bench");
    strcpy(info->szDescription, "Submits one event per frame without reading the frames.");
    info->Version = 1;
    return TRUE;
}

static unsigned long long monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

BOOL WINAPI Run(HEXPERTKEY key, PEXPERTCONFIG config, PEXPERTSTARTUPINFO startup, DWORD flags, HWND parent)
{
    (void)config;
    (void)flags;
    (void)parent;
    DWORD total = GetCaptureTotalFrames(startup->hCapture);
    DWORD error = NMERR_SUCCESS;
    /* NMEVENTDATA ends in Column[1]: one more column needs one more entry. */
    PNMEVENTDATA event = ExpertAllocMemory(key, sizeof(NMEVENTDATA) + sizeof(NMCOLUMNINFO), &error);
    if (event == NULL)
        return FALSE;
    event->Flags = NMEVENTFLAG_EXPERT;
    event->Severity = NMEVENT_SEVERITY_WARNING;
    event->szSourceName = "Bench events";
    event->szEventName = "Frame event";
    event->EventIdent = EVENT_IDENT_FRAME;
    event->NumColumns = 2;
    event->Column[0].szColumnName = "Frame";
    event->Column[0].VariantData.Type = NMCOLUMNTYPE_FRAME;
    event->Column[1].szColumnName = "Number";
    event->Column[1].VariantData.Type = NMCOLUMNTYPE_UINT32;

    unsigned long long start = monotonic_ns();
    for (DWORD n = 0; n < total; n++) {
        event->Column[0].VariantData.Value.FrameVal = n;
        event->Column[1].VariantData.Value.Uint32Val = n;
        if (ExpertSubmitEvent(key, event) != NMERR_SUCCESS)
            return FALSE;
    }
    unsigned long long end = monotonic_ns();

    /* The bench reads this text back from the output. */
    char summary[128];
    snprintf(summary, sizeof summary, "submitted=%lu ns=%llu", (unsigned long)total, end - start);
    event->EventIdent = EVENT_IDENT_SUMMARY;
    event->szEventName = "Summary";
    event->szDescription = summary;
    event->NumColumns = 0;
    if (ExpertSubmitEvent(key, event) != NMERR_SUCCESS)
        return FALSE;
#ifdef BENCH_CRASH_AFTER
    *nowhere = 1;
#endif
    ExpertFreeMemory(key, event);
    return TRUE;
}
