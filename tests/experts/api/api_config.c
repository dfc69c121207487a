/*
 * api_config - Configure, stored configurations and the startup information.
 *
 * Configure builds (or grows) an api_config in the expert's heap the way the
 * reference describes: ExpertAllocMemory for a first small block, then
 * ExpertReallocMemory to the size it needs, RawConfigLength counting the
 * whole block.  Each Configure call adds 8 bytes of trailer, so the size of
 * the stored file says how many calls stored it.  A stored configuration
 * whose second DWORD is API_CONFIG_REFUSE (planted by the test) makes
 * Configure scribble over *ppConfig and return FALSE.
 *
 * Run reports (see api_report.h):
 *   "run_config"   what pConfig holds: has_config, length, magic, calls,
 *                  previous_length, previous_intact, trailer_ok and what the
 *                  last Configure saw: cfg_flags, cfg_frame, cfg_total,
 *                  cfg_info_matches, cfg_capture
 *   "run_startup"  what Run was started with: flags (StartupFlags), capture
 *                  (szCaptureFile), frame (dwFrameNumber), has_capture,
 *                  total (GetCaptureTotalFrames(hCapture)), protocol_null,
 *                  property_null, getinfo_rc, getinfo_matches (the helper's
 *                  copy equals the parameter field by field), getinfo_null_rc
 *                  (a NULL destination), bogus_total (GetCaptureTotalFrames of
 *                  a made-up handle)
 *   "cached_key"   when pConfig carries the key Configure was given: the
 *                  helpers called with it in Run: alloc_rc, getinfo_rc,
 *                  status_rc, submit_rc, frame_rc, free_rc, size (MemorySize)
 */
#include <stddef.h>

#include "api_report.h"

#define API_CONFIG_MAGIC 0x43495041u    /* "APIC" */
#define API_CONFIG_REFUSE 0x4c494146u   /* "FAIL" */
#define TRAILER_PER_CALL 8

struct api_config {
    DWORD RawConfigLength;
    DWORD magic;
    DWORD calls;              /* Configure calls that stored this one, itself included */
    DWORD previous_length;    /* RawConfigLength of what Configure found in *ppConfig; 0: NULL */
    DWORD previous_intact;    /* that was ours, and its trailer read back as written */
    DWORD startup_flags;      /* what Configure was given ... */
    DWORD startup_frame;
    DWORD total_frames;       /* GetCaptureTotalFrames(hCapture) */
    DWORD info_matches;       /* ExpertGetStartupInfo copied what the parameter holds */
    DWORD reserved;
    uint64_t configure_key;   /* Configure's key: Run must not be able to use it */
    char capture_file[MAX_PATH];
    BYTE trailer[];           /* TRAILER_PER_CALL * calls bytes, see trailer_byte */
};

static BYTE trailer_byte(size_t i, DWORD calls)
{
    return (BYTE)(i * 7 + calls);
}

static size_t config_size(DWORD calls)
{
    return offsetof(struct api_config, trailer) + (size_t)TRAILER_PER_CALL * calls;
}

/* A stored configuration this expert wrote, whole and unchanged. */
static BOOL config_intact(const struct api_config *c)
{
    if (c->RawConfigLength < offsetof(struct api_config, trailer) || c->magic != API_CONFIG_MAGIC ||
        c->RawConfigLength != config_size(c->calls))
        return FALSE;
    for (size_t i = 0; i < (size_t)TRAILER_PER_CALL * c->calls; i++)
        if (c->trailer[i] != trailer_byte(i, c->calls))
            return FALSE;
    return TRUE;
}

static BOOL same_startup(const EXPERTSTARTUPINFO *a, const EXPERTSTARTUPINFO *b)
{
    return a->Flags == b->Flags && a->hCapture == b->hCapture &&
           strncmp(a->szCaptureFile, b->szCaptureFile, MAX_PATH) == 0 && a->dwFrameNumber == b->dwFrameNumber &&
           a->hProtocol == b->hProtocol && a->lpPropertyInst == b->lpPropertyInst &&
           a->sBitfield.BitNumber == b->sBitfield.BitNumber && a->sBitfield.bOn == b->sBitfield.bOn;
}

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    report_register(info, "API config", "Configure, stored configuration, startup information");
    info->Flags = EXPERT_ENUM_FLAG_CONFIGURABLE;
    return TRUE;
}

BOOL WINAPI Configure(HEXPERTKEY key, PEXPERTCONFIG *ppConfig, PEXPERTSTARTUPINFO startup, DWORD flags, HWND wnd)
{
    (void)wnd;
    PEXPERTCONFIG old = *ppConfig;
    DWORD error = NMERR_SUCCESS;
    const struct api_config *previous = (const struct api_config *)(void *)old;

    if (old && old->RawConfigLength >= 2 * sizeof(DWORD) && previous->magic == API_CONFIG_REFUSE) {
        /* Leave a perfectly good configuration in *ppConfig, then say FALSE:
         * the host must store none of it. */
        struct api_config *scribbled = ExpertReallocMemory(key, old, config_size(1), &error);
        if (scribbled) {
            scribbled->RawConfigLength = (DWORD)config_size(1);
            scribbled->magic = API_CONFIG_MAGIC;
            scribbled->calls = 1;
            *ppConfig = (PEXPERTCONFIG)(void *)scribbled;
        }
        return FALSE;
    }

    BOOL ours = old && config_intact(previous);
    DWORD calls = (ours ? previous->calls : 0) + 1;
    DWORD previous_length = old ? old->RawConfigLength : 0;
    struct api_config *config;
    if (old) {
        config = ExpertReallocMemory(key, old, config_size(calls), &error);
    } else {
        /* The reference's pattern: a block for the header first, grown
         * once the expert knows what it needs. */
        PEXPERTCONFIG small = ExpertAllocMemory(key, sizeof(DWORD) * 2, &error);
        config = small ? ExpertReallocMemory(key, small, config_size(calls), &error) : NULL;
    }
    if (!config)
        return FALSE;
    if (!ours)   /* a foreign configuration: start from zero, as from defaults */
        memset(config, 0, config_size(calls));

    EXPERTSTARTUPINFO copy;
    memset(&copy, 0, sizeof copy);
    DWORD info_rc = ExpertGetStartupInfo(key, &copy);

    config->RawConfigLength = (DWORD)config_size(calls);
    config->magic = API_CONFIG_MAGIC;
    config->calls = calls;
    config->previous_length = previous_length;
    config->previous_intact = ours;
    config->startup_flags = flags;
    config->startup_frame = startup ? startup->dwFrameNumber : 0xDEADBEEF;
    config->total_frames = startup ? GetCaptureTotalFrames(startup->hCapture) : 0xDEADBEEF;
    config->info_matches = startup && info_rc == NMERR_SUCCESS && same_startup(startup, &copy);
    config->configure_key = (uint64_t)(uintptr_t)key;
    memset(config->capture_file, 0, sizeof config->capture_file);
    if (startup)
        memcpy(config->capture_file, startup->szCaptureFile,
               strnlen(startup->szCaptureFile, sizeof config->capture_file - 1));
    for (size_t i = 0; i < (size_t)TRAILER_PER_CALL * calls; i++)
        config->trailer[i] = trailer_byte(i, calls);
    *ppConfig = (PEXPERTCONFIG)(void *)config;
    return TRUE;
}

static void report_config(HEXPERTKEY key, PEXPERTCONFIG pConfig)
{
    const struct api_config *c = (const struct api_config *)(void *)pConfig;
    BOOL ours = c && config_intact(c);
    report_begin("run_config");
    report_yesno("has_config", pConfig != NULL);
    report_u32("length", pConfig ? pConfig->RawConfigLength : 0);
    report_u32("magic", pConfig && pConfig->RawConfigLength >= 8 ? c->magic : 0);
    report_yesno("trailer_ok", ours);
    if (ours) {
        report_u32("calls", c->calls);
        report_u32("previous_length", c->previous_length);
        report_yesno("previous_intact", c->previous_intact);
        report_u32("cfg_flags", c->startup_flags);
        report_u32("cfg_frame", c->startup_frame);
        report_u32("cfg_total", c->total_frames);
        report_yesno("cfg_info_matches", c->info_matches);
        report_text("cfg_capture", c->capture_file);
    }
    report_send(key);
}

static void report_startup(HEXPERTKEY key, PEXPERTSTARTUPINFO startup, DWORD flags)
{
    static int not_a_capture;
    EXPERTSTARTUPINFO copy;
    memset(&copy, 0, sizeof copy);
    DWORD getinfo_rc = ExpertGetStartupInfo(key, &copy);
    report_begin("run_startup");
    report_u32("flags", flags);
    report_yesno("has_startup", startup != NULL);
    report_text("capture", startup ? startup->szCaptureFile : NULL);
    report_u32("frame", startup ? startup->dwFrameNumber : 0xDEADBEEF);
    report_yesno("has_capture", startup && startup->hCapture != NULL);
    report_u32("total", startup ? GetCaptureTotalFrames(startup->hCapture) : 0xDEADBEEF);
    report_yesno("protocol_null", startup && startup->hProtocol == NULL);
    report_yesno("property_null", startup && startup->lpPropertyInst == NULL);
    report_u32("getinfo_rc", getinfo_rc);
    report_yesno("getinfo_matches", startup && same_startup(startup, &copy));
    report_u32("getinfo_null_rc", ExpertGetStartupInfo(key, NULL));
    report_u32("bogus_total", GetCaptureTotalFrames((HCAPTURE)(void *)&not_a_capture));
    report_send(key);
}

/* Configure's key, kept in the stored configuration: netmon.h says only the
 * key of the call in progress is accepted. */
static void try_cached_key(HEXPERTKEY key, const struct api_config *c)
{
    HEXPERTKEY cached = (HEXPERTKEY)(uintptr_t)c->configure_key;
    DWORD alloc_rc = 0xDEADBEEF;
    LPVOID block = ExpertAllocMemory(cached, 64, &alloc_rc);
    LPVOID mine = ExpertAllocMemory(key, 64, NULL);
    EXPERTSTARTUPINFO copy;
    EXPERTFRAMEDESCRIPTOR d;
    report_begin("ghost");   /* must never reach the output */
    DWORD submit_rc = report_send(cached);

    DWORD getinfo_rc = ExpertGetStartupInfo(cached, &copy);
    DWORD status_rc = ExpertIndicateStatus(cached, EXPERTSTATUS_PROBLEM, 99, "cached key", 5);
    DWORD frame_rc = ExpertGetFrame(cached, GET_FRAME_NEXT_FORWARD, 0, INVALID_FRAME_NUMBER, NULL, &d);
    DWORD free_rc = ExpertFreeMemory(cached, mine);
    SIZE_T size = ExpertMemorySize(cached, mine);
    report_begin("cached_key");
    report_yesno("same_as_run_key", cached == key);
    report_u32("alloc_rc", alloc_rc);
    report_yesno("alloc_null", block == NULL);
    report_u32("submit_rc", submit_rc);
    report_u32("getinfo_rc", getinfo_rc);
    report_u32("status_rc", status_rc);
    report_u32("frame_rc", frame_rc);
    report_u32("free_rc", free_rc);
    report_u32("size", (DWORD)size);
    report_u32("size_with_run_key", (DWORD)ExpertMemorySize(key, mine));
    report_send(key);
}

BOOL WINAPI Run(HEXPERTKEY key, PEXPERTCONFIG pConfig, PEXPERTSTARTUPINFO startup, DWORD flags, HWND parent)
{
    (void)parent;
    report_config(key, pConfig);
    report_startup(key, startup, flags);
    const struct api_config *c = (const struct api_config *)(void *)pConfig;
    if (c && config_intact(c))
        try_cached_key(key, c);
    return TRUE;
}
