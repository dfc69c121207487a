/*
 * api_status - ExpertIndicateStatus: percentages, PROBLEM, NULL and long text.
 *
 * The test picks a scenario with --startup-frame (dwFrameNumber), since an
 * expert has no other input:
 *   INVALID_FRAME_NUMBER  "done": STARTING 0, RUNNING 10, 42 (NULL text),
 *                         99 (5000-byte text), 100 and -1 (both ignored),
 *                         RUNNING with texts of 259, 260 and 100000 bytes;
 *                         returns TRUE
 *   0                     "problem": RUNNING 10, 42, then 100, -5, 2^31-1 and
 *                         -2^31 (all ignored), PROBLEM sub-status 7, NULL
 *                         text, 1000 %; returns TRUE
 *   1                     "zero": RUNNING 55, RUNNING 0, PROBLEM sub-status 3
 *                         at -1 %; returns TRUE
 *   2                     "never": RUNNING 100, PROBLEM sub-status 4 at -3 %:
 *                         no valid percentage at all; returns TRUE
 * One event, "status_rcs": calls (how many), rc0 ... (each call's result),
 * all_ok (every call returned NMERR_SUCCESS).
 */
#include <limits.h>

#include "api_report.h"

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    report_register(info, "API status", "ExpertIndicateStatus edge cases");
    return TRUE;
}

#define MAX_CALLS 16
static DWORD results[MAX_CALLS];
static DWORD calls;

static void status(HEXPERTKEY key, EXPERTSTATUSENUMERATION s, DWORD sub, const char *text, LONG percent)
{
    DWORD rc = ExpertIndicateStatus(key, s, sub, text, percent);
    if (calls < MAX_CALLS)
        results[calls++] = rc;
}

/* A text of `len` bytes (and its terminator) from the expert's heap. */
static char *long_text(HEXPERTKEY key, size_t len, char fill)
{
    char *text = ExpertAllocMemory(key, len + 1, NULL);
    if (text)
        memset(text, fill, len);
    return text;
}

BOOL WINAPI Run(HEXPERTKEY key, PEXPERTCONFIG config, PEXPERTSTARTUPINFO startup, DWORD flags, HWND parent)
{
    (void)config;
    (void)flags;
    (void)parent;
    static const char *const names[MAX_CALLS] = {"rc0", "rc1", "rc2", "rc3", "rc4", "rc5", "rc6", "rc7",
                                                 "rc8", "rc9", "rc10", "rc11", "rc12", "rc13", "rc14", "rc15"};
    switch (startup ? startup->dwFrameNumber : INVALID_FRAME_NUMBER) {
    case 0:
        status(key, EXPERTSTATUS_RUNNING, 0, "running", 10);
        status(key, EXPERTSTATUS_RUNNING, 0, "running", 42);
        status(key, EXPERTSTATUS_RUNNING, 0, "too much", 100);
        status(key, EXPERTSTATUS_RUNNING, 0, "negative", -5);
        status(key, EXPERTSTATUS_RUNNING, 0, "largest", INT32_MAX);
        status(key, EXPERTSTATUS_RUNNING, 0, "smallest", INT32_MIN);
        status(key, EXPERTSTATUS_PROBLEM, 7, NULL, 1000);
        break;
    case 1:
        status(key, EXPERTSTATUS_RUNNING, 0, "half", 55);
        status(key, EXPERTSTATUS_RUNNING, 0, "back to zero", 0);
        status(key, EXPERTSTATUS_PROBLEM, 3, "stopped", -1);
        break;
    case 2:
        status(key, EXPERTSTATUS_RUNNING, 0, "over", 100);
        status(key, EXPERTSTATUS_PROBLEM, 4, "stopped", -3);
        break;
    default:
        status(key, EXPERTSTATUS_STARTING, 0, "starting", 0);
        status(key, EXPERTSTATUS_RUNNING, 0, "running", 10);
        status(key, EXPERTSTATUS_RUNNING, 0, NULL, 42);
        status(key, EXPERTSTATUS_RUNNING, 0, long_text(key, 5000, 'x'), 99);
        status(key, EXPERTSTATUS_RUNNING, 0, "too much", 100);
        status(key, EXPERTSTATUS_RUNNING, 0, "negative", -1);
        status(key, EXPERTSTATUS_RUNNING, 0, long_text(key, EXPERTSTRINGLENGTH - 1, 'a'), 50);
        status(key, EXPERTSTATUS_RUNNING, 0, long_text(key, EXPERTSTRINGLENGTH, 'b'), 51);
        status(key, EXPERTSTATUS_RUNNING, 0, long_text(key, 100000, 'c'), 52);
        break;
    }
    report_begin("status_rcs");
    report_u32("calls", calls);
    BOOL all_ok = TRUE;
    for (DWORD i = 0; i < calls; i++) {
        report_u32(names[i], results[i]);
        all_ok = all_ok && results[i] == NMERR_SUCCESS;
    }
    report_yesno("all_ok", all_ok);
    report_send(key);
    return TRUE;
}
