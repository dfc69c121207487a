/*
 * template.c - a complete expert to start from.
 *
 * It counts frames and bytes, and reports the largest frame, so that every
 * part of the API an expert needs is here, in the order NetMon calls it:
 * Register, then (optionally) Configure, then Run.  Build it with nothing but
 * the installed header and library:
 *
 *     cc -shared -fPIC template.c -o template.so $(pkg-config --cflags --libs nmapi)
 *     expert-broker run -r capture.pcap -e ./template.so
 *
 * docs/writing-experts.md walks through it.
 */
#include <netmon.h>
#include <stdio.h>
#include <string.h>

#define EXPERT_NAME "Template"

/* The stored configuration: RawConfigLength first, then the expert's own
 * fields.  Configure writes it; Run reads it. */
typedef struct {
    DWORD RawConfigLength;   /* the whole block, these 4 bytes included */
    DWORD MinimumFrameLength;
} TEMPLATE_CONFIG;

BOOL WINAPI Register(PEXPERTENUMINFO pExpertInfo)
{
    snprintf(pExpertInfo->szName, sizeof pExpertInfo->szName, "%s", EXPERT_NAME);
    snprintf(pExpertInfo->szVendor, sizeof pExpertInfo->szVendor, "Your name");
    snprintf(pExpertInfo->szDescription, sizeof pExpertInfo->szDescription,
             "Counts frames and bytes, and finds the largest frame.");
    pExpertInfo->Version = 0;
    pExpertInfo->Flags = EXPERT_ENUM_FLAG_CONFIGURABLE;
    return TRUE;
}

/* Runs headless in expert-sandbox: start from the stored configuration (or
 * defaults when *ppConfig is NULL) and leave the result in *ppConfig. */
BOOL WINAPI Configure(HEXPERTKEY hExpertKey, PEXPERTCONFIG *ppConfig, PEXPERTSTARTUPINFO pStartup,
                      DWORD StartupFlags, HWND hWnd)
{
    (void)pStartup;
    (void)StartupFlags;
    (void)hWnd;
    DWORD error;
    TEMPLATE_CONFIG *config = (TEMPLATE_CONFIG *)*ppConfig;
    /* Grow whatever was stored to the current layout; new bytes are zero. */
    config = ExpertReallocMemory(hExpertKey, config, sizeof *config, &error);
    if (!config)
        return FALSE;
    config->RawConfigLength = sizeof *config;
    if (config->MinimumFrameLength == 0)
        config->MinimumFrameLength = 60;
    *ppConfig = (PEXPERTCONFIG)config;
    return TRUE;
}

/* One event with three columns. */
static DWORD report(HEXPERTKEY key, DWORD frames, double bytes, DWORD largest_frame)
{
    DWORD error;
    /* NMEVENTDATA holds one column; allocate room for the other two. */
    size_t size = sizeof(NMEVENTDATA) + 2 * sizeof(NMCOLUMNINFO);
    NMEVENTDATA *event = ExpertAllocMemory(key, size, &error);
    if (!event)
        return error;
    char description[128];
    snprintf(description, sizeof description, "%u frames, %.0f bytes", frames, bytes);
    event->Flags = NMEVENTFLAG_EXPERT;
    event->Severity = NMEVENT_SEVERITY_INFORMATIONAL;
    event->EventIdent = 1;
    event->szSourceName = EXPERT_NAME;
    event->szEventName = "Summary";
    event->szDescription = description;
    event->NumColumns = 3;
    event->Column[0].szColumnName = "Frames";
    event->Column[0].VariantData.Type = NMCOLUMNTYPE_UINT32;
    event->Column[0].VariantData.Value.Uint32Val = frames;
    event->Column[1].szColumnName = "Bytes";
    event->Column[1].VariantData.Type = NMCOLUMNTYPE_FLOAT64;
    event->Column[1].VariantData.Value.Float64Val = bytes;
    event->Column[2].szColumnName = "Largest frame";
    event->Column[2].VariantData.Type = NMCOLUMNTYPE_FRAME;   /* 0-based here, shown 1-based */
    event->Column[2].VariantData.Value.FrameVal = largest_frame;
    /* The host copies the event before returning: free it right away. */
    error = ExpertSubmitEvent(key, event);
    ExpertFreeMemory(key, event);
    return error;
}

BOOL WINAPI Run(HEXPERTKEY hExpertKey, PEXPERTCONFIG pConfig, PEXPERTSTARTUPINFO pStartup,
                DWORD StartupFlags, HWND hWndParent)
{
    (void)StartupFlags;
    (void)hWndParent;
    DWORD minimum = 0;
    if (pConfig && pConfig->RawConfigLength >= sizeof(TEMPLATE_CONFIG))
        minimum = ((TEMPLATE_CONFIG *)pConfig)->MinimumFrameLength;
    DWORD total = pStartup ? GetCaptureTotalFrames(pStartup->hCapture) : 0;

    ExpertIndicateStatus(hExpertKey, EXPERTSTATUS_STARTING, 0, "starting", 0);
    EXPERTFRAMEDESCRIPTOR frame;
    DWORD number = INVALID_FRAME_NUMBER, frames = 0, largest = INVALID_FRAME_NUMBER, largest_length = 0;
    double bytes = 0;
    LONG last_percent = 0;
    for (;;) {
        /* FLAGS_DEFER_TO_UI_FILTER: honour the analyst's --filter. */
        DWORD error = ExpertGetFrame(hExpertKey, GET_FRAME_NEXT_FORWARD, FLAGS_DEFER_TO_UI_FILTER, number,
                                     NULL, &frame);
        if (error == NMERR_NO_MORE_FRAMES)
            break;
        if (error == NMERR_EXPERT_TERMINATE)
            return FALSE;   /* asked to stop: nothing to clean up here */
        if (error != NMERR_SUCCESS) {
            ExpertIndicateStatus(hExpertKey, EXPERTSTATUS_PROBLEM, error, "cannot read frames", 0);
            return FALSE;
        }
        number = frame.FrameNumber;
        DWORD length = frame.pFrame->FrameLength;
        if (length >= minimum) {
            frames++;
            bytes += length;
            if (largest == INVALID_FRAME_NUMBER || length > largest_length) {
                largest = number;
                largest_length = length;
            }
        }
        /* Report progress only when the percentage changes: each report is
         * a message to the broker. */
        LONG percent = total ? (LONG)((number + 1ull) * 100 / total) : 0;
        if (percent > last_percent && percent <= 99) {
            last_percent = percent;
            if (ExpertIndicateStatus(hExpertKey, EXPERTSTATUS_RUNNING, 0, NULL, percent) ==
                NMERR_EXPERT_TERMINATE)
                return FALSE;
        }
    }
    return report(hExpertKey, frames, bytes, largest) == NMERR_SUCCESS;
}
