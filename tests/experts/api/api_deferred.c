/*
 * api_deferred - FLAGS_DEFER_TO_UI_FILTER, the analyst's --filter.
 *
 * Events (see api_report.h):
 *   "fwd" frame          one per frame NEXT_FORWARD returns with the flag
 *   "fwd_end"            end_rc: what ended that walk
 *   "bwd" frame          one per frame NEXT_BACKWARD returns with the flag
 *   "bwd_end"            end_rc
 *   "all"                the walk without the flag: count, consecutive, end_rc
 *   "spec_pass" frame    one per frame GET_SPECIFIED_FRAME returns with the flag
 *   "spec_summary"       of GET_SPECIFIED_FRAME over every frame number:
 *                        failed (NMERR_FRAME_FAILED_FILTER with the flag),
 *                        other (any other error with the flag), other_rc (the
 *                        first such error), plain_ok (frames returned without
 *                        the flag)
 */
#include "api_report.h"

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    report_register(info, "API deferred filter", "FLAGS_DEFER_TO_UI_FILTER against --filter");
    return TRUE;
}

/* Reports every frame a walk in `direction` returns, then what ended it. */
static void walk(HEXPERTKEY key, DWORD direction, const char *each, const char *end)
{
    EXPERTFRAMEDESCRIPTOR d;
    DWORD requested = INVALID_FRAME_NUMBER, rc;
    while ((rc = ExpertGetFrame(key, direction, FLAGS_DEFER_TO_UI_FILTER, requested, NULL, &d)) == NMERR_SUCCESS) {
        report_begin(each);
        report_frame("frame", d.FrameNumber);
        report_send(key);
        requested = d.FrameNumber;
    }
    report_begin(end);
    report_u32("end_rc", rc);
    report_send(key);
}

BOOL WINAPI Run(HEXPERTKEY key, PEXPERTCONFIG config, PEXPERTSTARTUPINFO startup, DWORD flags, HWND parent)
{
    (void)config;
    (void)flags;
    (void)parent;
    walk(key, GET_FRAME_NEXT_FORWARD, "fwd", "fwd_end");
    walk(key, GET_FRAME_NEXT_BACKWARD, "bwd", "bwd_end");

    EXPERTFRAMEDESCRIPTOR d;
    DWORD requested = INVALID_FRAME_NUMBER, count = 0, rc;
    BOOL consecutive = TRUE;
    while ((rc = ExpertGetFrame(key, GET_FRAME_NEXT_FORWARD, 0, requested, NULL, &d)) == NMERR_SUCCESS) {
        consecutive = consecutive && d.FrameNumber == (requested == INVALID_FRAME_NUMBER ? 0 : requested + 1);
        count++;
        requested = d.FrameNumber;
    }
    report_begin("all");
    report_u32("count", count);
    report_yesno("consecutive", consecutive);
    report_u32("end_rc", rc);
    report_send(key);

    DWORD total = GetCaptureTotalFrames(startup->hCapture);
    DWORD failed = 0, other = 0, other_rc = NMERR_SUCCESS, plain_ok = 0;
    for (DWORD n = 0; n < total; n++) {
        rc = ExpertGetFrame(key, GET_SPECIFIED_FRAME, FLAGS_DEFER_TO_UI_FILTER, n, NULL, &d);
        if (rc == NMERR_SUCCESS && d.FrameNumber == n) {
            report_begin("spec_pass");
            report_frame("frame", n);
            report_send(key);
        } else if (rc == NMERR_FRAME_FAILED_FILTER) {
            failed++;
        } else if (other++ == 0) {
            other_rc = rc;
        }
        if (ExpertGetFrame(key, GET_SPECIFIED_FRAME, 0, n, NULL, &d) == NMERR_SUCCESS && d.FrameNumber == n)
            plain_ok++;
    }
    report_begin("spec_summary");
    report_u32("failed", failed);
    report_u32("other", other);
    report_u32("other_rc", other_rc);
    report_u32("plain_ok", plain_ok);
    report_send(key);
    return TRUE;
}
