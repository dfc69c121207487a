/*
 * bench_crash - fills its whole heap quota, writes every page, then dies of
 * SIGSEGV.
 *
 * Just before the fatal store it submits one event whose description is the
 * time (CLOCK_MONOTONIC, ns) at which it is about to crash; the bench takes
 * the time at which the broker writes the crashed outcome (after it has
 * released the heap) and subtracts.  Both clocks are the same kernel clock:
 * the worker's PID namespace does not change CLOCK_MONOTONIC.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "netmon.h"

#define CHUNK (1024u * 1024u)

static int *volatile nowhere;

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    strcpy(info->szName, "Bench crash");
    strcpy(info->szVendor, "expert-sandbox bench");
    strcpy(info->szDescription, "Touches its whole heap, then dereferences NULL.");
    info->Version = 1;
    return TRUE;
}

BOOL WINAPI Run(HEXPERTKEY key, PEXPERTCONFIG config, PEXPERTSTARTUPINFO startup, DWORD flags, HWND parent)
{
    (void)config;
    (void)startup;
    (void)flags;
    (void)parent;
    /* Take the quota in 1 MiB blocks until the heap says no, then the rest
     * in smaller ones, writing every page so that it is really resident. */
    unsigned long long touched = 0;
    for (SIZE_T size = CHUNK; size >= 4096; size /= 2) {
        DWORD error = NMERR_SUCCESS;
        void *block;
        while ((block = ExpertAllocMemory(key, size, &error)) != NULL) {
            memset(block, 0xa5, size);
            touched += size;
        }
        if (error != NMERR_OUT_OF_MEMORY)
            return FALSE;
    }

    char text[96];
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(text, sizeof text, "crash_ns=%llu touched=%llu",
             (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec, touched);
    NMEVENTDATA event;
    memset(&event, 0, sizeof event);
    event.Flags = NMEVENTFLAG_EXPERT;
    event.Severity = NMEVENT_SEVERITY_ERROR;
    event.szSourceName = "Bench crash";
    event.szEventName = "About to crash";
    event.szDescription = text;
    if (ExpertSubmitEvent(key, &event) != NMERR_SUCCESS)
        return FALSE;
    *nowhere = 1;
    return TRUE;
}
