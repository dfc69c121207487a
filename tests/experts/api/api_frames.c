/*
 * api_frames - ExpertGetFrame at every edge netmon.h documents.
 *
 * Events (see api_report.h):
 *   "capture"            total (GetCaptureTotalFrames), link (GetCaptureLinkType),
 *                        mac (GetCaptureMacType), and the same three for a
 *                        made-up handle: bogus_total, bogus_link, bogus_mac
 *   "probe:<label>"      one ExpertGetFrame call: rc, frame (the FrameNumber
 *                        returned, INVALID_FRAME_NUMBER when rc is not 0) and,
 *                        on success, hframe_is_pframe, no_properties, recognized
 *   "walk_forward"       NEXT_FORWARD from INVALID_FRAME_NUMBER to the end:
 *                        count, first, last, end_rc, consecutive, handles,
 *                        specified (GET_SPECIFIED_FRAME of each frame gives the
 *                        same frame), first_ts_zero, ts_increasing,
 *                        lengths (nBytesAvail <= FrameLength), hash_hi/lo
 *   "walk_backward"      NEXT_BACKWARD from INVALID_FRAME_NUMBER: count, first,
 *                        last, end_rc, consecutive, hash_hi/lo
 *   "walk_deferred"      NEXT_FORWARD with FLAGS_DEFER_TO_UI_FILTER|ATTACH: count
 *
 * The hash is the sum over frames of FNV-1a over FrameNumber, TimeStamp,
 * FrameLength, nBytesAvail and the stored bytes; the test computes the same
 * from libpcap, which proves each FrameNumber names the frame it came with.
 */
#include "api_report.h"

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    report_register(info, "API frames", "ExpertGetFrame edge cases");
    return TRUE;
}

static void probe(HEXPERTKEY key, const char *label, DWORD direction, DWORD flags, DWORD requested,
                  HFILTER filter, BOOL with_descriptor)
{
    EXPERTFRAMEDESCRIPTOR descriptor;
    memset(&descriptor, 0, sizeof descriptor);
    DWORD rc = ExpertGetFrame(key, direction, flags, requested, filter, with_descriptor ? &descriptor : NULL);
    report_begin(label);
    report_u32("rc", rc);
    report_u32("frame", rc == NMERR_SUCCESS ? descriptor.FrameNumber : INVALID_FRAME_NUMBER);
    if (rc == NMERR_SUCCESS) {
        report_yesno("hframe_is_pframe", descriptor.hFrame == (HFRAME)descriptor.pFrame && descriptor.pFrame);
        report_yesno("no_properties", descriptor.lpPropertyTable == NULL);
        report_yesno("recognized", descriptor.lpRecognizeDataTable != NULL);
    }
    report_send(key);
}

static uint64_t frame_hash(const EXPERTFRAMEDESCRIPTOR *d)
{
    const FRAME *f = d->pFrame;
    uint64_t h = REPORT_FNV_OFFSET;
    h = report_fnv1a(h, &d->FrameNumber, sizeof d->FrameNumber);
    h = report_fnv1a(h, &f->TimeStamp, sizeof f->TimeStamp);
    h = report_fnv1a(h, &f->FrameLength, sizeof f->FrameLength);
    h = report_fnv1a(h, &f->nBytesAvail, sizeof f->nBytesAvail);
    return report_fnv1a(h, f->MacFrame, f->nBytesAvail);
}

static void walk_forward(HEXPERTKEY key)
{
    EXPERTFRAMEDESCRIPTOR d;
    DWORD requested = INVALID_FRAME_NUMBER, count = 0, first = INVALID_FRAME_NUMBER, rc;
    BOOL consecutive = TRUE, handles = TRUE, specified = TRUE, first_ts_zero = FALSE, ts_increasing = TRUE;
    BOOL lengths = TRUE;
    int64_t previous_ts = 0;
    uint64_t hash = 0;
    while ((rc = ExpertGetFrame(key, GET_FRAME_NEXT_FORWARD, 0, requested, NULL, &d)) == NMERR_SUCCESS) {
        DWORD expected = requested == INVALID_FRAME_NUMBER ? 0 : requested + 1;
        consecutive = consecutive && d.FrameNumber == expected;
        handles = handles && d.pFrame && d.hFrame == (HFRAME)d.pFrame && d.lpRecognizeDataTable;
        lengths = lengths && d.pFrame->nBytesAvail <= d.pFrame->FrameLength && d.pFrame->nBytesAvail > 0;
        if (count == 0) {
            first = d.FrameNumber;
            first_ts_zero = d.pFrame->TimeStamp == 0;
        } else {
            ts_increasing = ts_increasing && d.pFrame->TimeStamp > previous_ts;
        }
        previous_ts = d.pFrame->TimeStamp;
        hash += frame_hash(&d);

        /* The same frame, asked for by number, is the same stored frame. */
        EXPERTFRAMEDESCRIPTOR again;
        DWORD rc_again = ExpertGetFrame(key, GET_SPECIFIED_FRAME, 0, d.FrameNumber, NULL, &again);
        specified = specified && rc_again == NMERR_SUCCESS && again.FrameNumber == d.FrameNumber &&
                    again.pFrame == d.pFrame;
        count++;
        requested = d.FrameNumber;
    }
    report_begin("walk_forward");
    report_u32("count", count);
    report_u32("first", first);
    report_u32("last", requested);
    report_u32("end_rc", rc);
    report_yesno("consecutive", consecutive);
    report_yesno("handles", handles);
    report_yesno("specified", specified);
    report_yesno("first_ts_zero", first_ts_zero);
    report_yesno("ts_increasing", ts_increasing);
    report_yesno("lengths", lengths);
    report_u64("hash_hi", "hash_lo", hash);
    report_send(key);
}

static void walk_backward(HEXPERTKEY key)
{
    EXPERTFRAMEDESCRIPTOR d;
    DWORD requested = INVALID_FRAME_NUMBER, count = 0, first = INVALID_FRAME_NUMBER, rc;
    BOOL consecutive = TRUE;
    uint64_t hash = 0;
    while ((rc = ExpertGetFrame(key, GET_FRAME_NEXT_BACKWARD, 0, requested, NULL, &d)) == NMERR_SUCCESS) {
        if (count == 0)
            first = d.FrameNumber;
        else
            consecutive = consecutive && d.FrameNumber + 1 == requested;
        hash += frame_hash(&d);
        count++;
        requested = d.FrameNumber;
    }
    report_begin("walk_backward");
    report_u32("count", count);
    report_u32("first", first);
    report_u32("last", requested);
    report_u32("end_rc", rc);
    report_yesno("consecutive", consecutive);
    report_u64("hash_hi", "hash_lo", hash);
    report_send(key);
}

static void walk_deferred(HEXPERTKEY key)
{
    EXPERTFRAMEDESCRIPTOR d;
    DWORD requested = INVALID_FRAME_NUMBER, count = 0, rc;
    BOOL no_properties = TRUE;
    while ((rc = ExpertGetFrame(key, GET_FRAME_NEXT_FORWARD, FLAGS_DEFER_TO_UI_FILTER | FLAGS_ATTACH_PROPERTIES,
                                requested, NULL, &d)) == NMERR_SUCCESS) {
        no_properties = no_properties && d.lpPropertyTable == NULL;
        count++;
        requested = d.FrameNumber;
    }
    report_begin("walk_deferred");
    report_u32("count", count);
    report_u32("end_rc", rc);
    report_yesno("no_properties", no_properties);
    report_send(key);
}

BOOL WINAPI Run(HEXPERTKEY key, PEXPERTCONFIG config, PEXPERTSTARTUPINFO startup, DWORD flags, HWND parent)
{
    (void)config;
    (void)flags;
    (void)parent;
    DWORD total = GetCaptureTotalFrames(startup ? startup->hCapture : NULL);
    report_begin("capture");
    report_u32("total", total);
    report_u32("link", GetCaptureLinkType(startup ? startup->hCapture : NULL));
    report_u32("mac", GetCaptureMacType(startup ? startup->hCapture : NULL));
    static int not_a_capture;
    report_u32("bogus_total", GetCaptureTotalFrames((HCAPTURE)(void *)&not_a_capture));
    report_u32("bogus_link", GetCaptureLinkType((HCAPTURE)(void *)&not_a_capture));
    report_u32("bogus_mac", GetCaptureMacType((HCAPTURE)(void *)&not_a_capture));
    report_send(key);

    /* A handle no ExpertCompileFilter made: an address of our own. */
    static int not_a_filter;
    HFILTER forged = (HFILTER)(void *)&not_a_filter;
    DWORD last = total - 1;   /* INVALID_FRAME_NUMBER for an empty capture */

    probe(key, "probe:fwd_invalid", GET_FRAME_NEXT_FORWARD, 0, INVALID_FRAME_NUMBER, NULL, TRUE);
    probe(key, "probe:bwd_invalid", GET_FRAME_NEXT_BACKWARD, 0, INVALID_FRAME_NUMBER, NULL, TRUE);
    probe(key, "probe:fwd_from_first", GET_FRAME_NEXT_FORWARD, 0, 0, NULL, TRUE);
    probe(key, "probe:bwd_from_last", GET_FRAME_NEXT_BACKWARD, 0, last, NULL, TRUE);
    probe(key, "probe:fwd_from_last", GET_FRAME_NEXT_FORWARD, 0, last, NULL, TRUE);
    probe(key, "probe:fwd_from_total", GET_FRAME_NEXT_FORWARD, 0, total, NULL, TRUE);
    probe(key, "probe:fwd_from_huge", GET_FRAME_NEXT_FORWARD, 0, 0xFFFFFFFEu, NULL, TRUE);
    probe(key, "probe:bwd_from_first", GET_FRAME_NEXT_BACKWARD, 0, 0, NULL, TRUE);
    probe(key, "probe:bwd_from_total", GET_FRAME_NEXT_BACKWARD, 0, total, NULL, TRUE);
    probe(key, "probe:spec_first", GET_SPECIFIED_FRAME, 0, 0, NULL, TRUE);
    probe(key, "probe:spec_last", GET_SPECIFIED_FRAME, 0, last, NULL, TRUE);
    probe(key, "probe:spec_1234", GET_SPECIFIED_FRAME, 0, 1234, NULL, TRUE);
    probe(key, "probe:spec_total", GET_SPECIFIED_FRAME, 0, total, NULL, TRUE);
    probe(key, "probe:spec_huge", GET_SPECIFIED_FRAME, 0, 0xFFFFFFFEu, NULL, TRUE);
    probe(key, "probe:spec_invalid", GET_SPECIFIED_FRAME, 0, INVALID_FRAME_NUMBER, NULL, TRUE);
    probe(key, "probe:direction_3", 3, 0, 0, NULL, TRUE);
    probe(key, "probe:direction_max", 0xFFFFFFFFu, 0, INVALID_FRAME_NUMBER, NULL, TRUE);
    probe(key, "probe:null_descriptor_fwd", GET_FRAME_NEXT_FORWARD, 0, INVALID_FRAME_NUMBER, NULL, FALSE);
    probe(key, "probe:null_descriptor_spec", GET_SPECIFIED_FRAME, 0, 0, NULL, FALSE);
    probe(key, "probe:forged_filter_fwd", GET_FRAME_NEXT_FORWARD, 0, INVALID_FRAME_NUMBER, forged, TRUE);
    probe(key, "probe:forged_filter_spec", GET_SPECIFIED_FRAME, 0, 0, forged, TRUE);
    probe(key, "probe:attach_properties", GET_FRAME_NEXT_FORWARD, FLAGS_ATTACH_PROPERTIES, INVALID_FRAME_NUMBER,
          NULL, TRUE);
    probe(key, "probe:attach_spec", GET_SPECIFIED_FRAME, FLAGS_ATTACH_PROPERTIES | FLAGS_DEFER_TO_UI_FILTER, 0,
          NULL, TRUE);

    walk_forward(key);
    walk_backward(key);
    walk_deferred(key);
    return TRUE;
}
