/*
 * api_own_filter - the expert's own display filter (ExpertCompileFilter,
 * ExpertGetFrame's hFilter, DestroyFilter).
 *
 * Events (see api_report.h):
 *   "compile"            ExpertCompileFilter("tcp port 80"): rc, handle (yes if not NULL)
 *   "own" frame          one per frame NEXT_FORWARD returns with the filter alone
 *   "own_end"            end_rc
 *   "own_bwd" frame      one per frame NEXT_BACKWARD returns with the filter alone
 *   "both" frame         one per frame NEXT_FORWARD returns with the filter and
 *                        FLAGS_DEFER_TO_UI_FILTER (the --filter applies too)
 *   "spec_own"           GET_SPECIFIED_FRAME of every frame with the filter:
 *                        passed, failed (NMERR_FRAME_FAILED_FILTER), other
 *   "refuse:<label>"     an expression the contract refuses: rc, handle
 *   "destroy"            first (DestroyFilter of the live filter), second (the
 *                        same again), get_after (ExpertGetFrame with the
 *                        destroyed handle), null_handle (DestroyFilter(NULL)),
 *                        forged (DestroyFilter of a made-up handle)
 *   "stale"              a filter destroyed, then another compiled: same_address
 *                        (the new handle has the old one's value), get_rc
 *                        (ExpertGetFrame with the old handle), destroy_rc
 *                        (DestroyFilter of the old handle), new_alive (the new
 *                        filter still works afterwards)
 *   "limit"              live (filters compiled before the first refusal, at
 *                        most 70 tried), refused_handle (yes if the refusal
 *                        still returned a handle), refused_rc, again_rc (a
 *                        compile after destroying one), destroyed (SUCCESSes)
 * Run returns TRUE: every refusal is an answer, never a reason to die.
 */
#include "api_report.h"

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    report_register(info, "API own filter", "ExpertCompileFilter, hFilter and DestroyFilter");
    return TRUE;
}

static void walk(HEXPERTKEY key, DWORD direction, DWORD flags, HFILTER filter, const char *each, const char *end)
{
    EXPERTFRAMEDESCRIPTOR d;
    DWORD requested = INVALID_FRAME_NUMBER, rc;
    while ((rc = ExpertGetFrame(key, direction, flags, requested, filter, &d)) == NMERR_SUCCESS) {
        report_begin(each);
        report_frame("frame", d.FrameNumber);
        report_send(key);
        requested = d.FrameNumber;
    }
    report_begin(end);
    report_u32("end_rc", rc);
    report_send(key);
}

static void refuse(HEXPERTKEY key, const char *label, const char *expression)
{
    DWORD rc = 0xDEADBEEF;
    HFILTER filter = ExpertCompileFilter(key, expression, &rc);
    report_begin(label);
    report_u32("rc", rc);
    report_yesno("handle", filter != NULL);
    report_send(key);
    if (filter)
        DestroyFilter(filter);
}

/* netmon.h: DestroyFilter gives NMERR_INVALID_HFILTER "for a handle that is
 * not a live filter", and ExpertGetFrame for any handle not from a live
 * ExpertCompileFilter.  A destroyed handle stays dead even when a new filter
 * is made right after it (the classic double-destroy bug of an expert). */
static void stale(HEXPERTKEY key)
{
    DWORD rc = 0xDEADBEEF;
    HFILTER old = ExpertCompileFilter(key, "udp", &rc);
    DestroyFilter(old);
    HFILTER fresh = ExpertCompileFilter(key, "tcp", &rc);
    EXPERTFRAMEDESCRIPTOR d;
    DWORD get_rc = ExpertGetFrame(key, GET_FRAME_NEXT_FORWARD, 0, INVALID_FRAME_NUMBER, old, &d);
    DWORD destroy_rc = DestroyFilter(old);
    BOOL new_alive = fresh && ExpertGetFrame(key, GET_FRAME_NEXT_FORWARD, 0, INVALID_FRAME_NUMBER, fresh, &d) ==
                                  NMERR_SUCCESS;
    report_begin("stale");
    report_yesno("same_address", old == fresh);
    report_u32("get_rc", get_rc);
    report_u32("destroy_rc", destroy_rc);
    report_yesno("new_alive", new_alive);
    report_send(key);
    if (new_alive)
        DestroyFilter(fresh);
}

#define LIMIT_TRIES 70

static void limit(HEXPERTKEY key)
{
    HFILTER filters[LIMIT_TRIES];
    DWORD live = 0, refused_rc = NMERR_SUCCESS, again_rc = 0xDEADBEEF, destroyed = 0;
    BOOL refused_handle = FALSE;
    while (live < LIMIT_TRIES) {
        DWORD rc = 0xDEADBEEF;
        HFILTER f = ExpertCompileFilter(key, "ip", &rc);
        if (!f || rc != NMERR_SUCCESS) {
            refused_rc = rc;
            refused_handle = f != NULL;
            break;
        }
        filters[live++] = f;
    }
    if (live > 0) {
        /* One slot free again: the next compile must work. */
        destroyed += DestroyFilter(filters[--live]) == NMERR_SUCCESS;
        HFILTER f = ExpertCompileFilter(key, "ip", &again_rc);
        if (f)
            filters[live++] = f;
    }
    for (DWORD i = 0; i < live; i++)
        destroyed += DestroyFilter(filters[i]) == NMERR_SUCCESS;
    report_begin("limit");
    report_u32("live", live);
    report_yesno("refused_handle", refused_handle);
    report_u32("refused_rc", refused_rc);
    report_u32("again_rc", again_rc);
    report_u32("destroyed", destroyed);
    report_send(key);
}

BOOL WINAPI Run(HEXPERTKEY key, PEXPERTCONFIG config, PEXPERTSTARTUPINFO startup, DWORD flags, HWND parent)
{
    (void)config;
    (void)flags;
    (void)parent;
    DWORD rc = 0xDEADBEEF;
    HFILTER http = ExpertCompileFilter(key, "tcp port 80", &rc);
    report_begin("compile");
    report_u32("rc", rc);
    report_yesno("handle", http != NULL);
    report_send(key);
    if (!http)
        return FALSE;

    walk(key, GET_FRAME_NEXT_FORWARD, 0, http, "own", "own_end");
    walk(key, GET_FRAME_NEXT_BACKWARD, 0, http, "own_bwd", "own_bwd_end");
    walk(key, GET_FRAME_NEXT_FORWARD, FLAGS_DEFER_TO_UI_FILTER, http, "both", "both_end");

    DWORD total = GetCaptureTotalFrames(startup->hCapture), passed = 0, failed = 0, other = 0;
    EXPERTFRAMEDESCRIPTOR d;
    for (DWORD n = 0; n < total; n++) {
        rc = ExpertGetFrame(key, GET_SPECIFIED_FRAME, 0, n, http, &d);
        if (rc == NMERR_SUCCESS && d.FrameNumber == n)
            passed++;
        else if (rc == NMERR_FRAME_FAILED_FILTER)
            failed++;
        else
            other++;
    }
    report_begin("spec_own");
    report_u32("passed", passed);
    report_u32("failed", failed);
    report_u32("other", other);
    report_send(key);

    /* Names would need a lookup the sandbox refuses: host, service, network. */
    refuse(key, "refuse:port_http", "port http");
    refuse(key, "refuse:host_name", "host example.com");
    refuse(key, "refuse:net_name", "net loopback");
    refuse(key, "refuse:ether_host_name", "ether host gateway1");
    refuse(key, "refuse:syntax", "tcp port");
    refuse(key, "refuse:garbage", "((((");
    refuse(key, "refuse:null", NULL);

    static int not_a_filter;
    DWORD first = DestroyFilter(http);
    DWORD second = DestroyFilter(http);
    DWORD get_after = ExpertGetFrame(key, GET_FRAME_NEXT_FORWARD, 0, INVALID_FRAME_NUMBER, http, &d);
    report_begin("destroy");
    report_u32("first", first);
    report_u32("second", second);
    report_u32("get_after", get_after);
    report_u32("null_handle", DestroyFilter(NULL));
    report_u32("forged", DestroyFilter((HFILTER)(void *)&not_a_filter));
    report_send(key);

    stale(key);
    limit(key);
    return TRUE;
}
