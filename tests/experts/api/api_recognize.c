/*
 * api_recognize - the recognize data ExpertGetFrame attaches to each frame.
 *
 * Events (see api_report.h):
 *   "r"     one per frame: frame, protocols (the RECOGNIZEDATA entries as
 *           "id@offset" separated by spaces, outermost first; "" for none),
 *           inst_null (every InstData is NULL), count (nRecognizeDatas)
 *   "end"   end_rc of the walk
 * The test compares the lists with where tshark says each protocol starts.
 */
#include <stdio.h>

#include "api_report.h"

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    report_register(info, "API recognize", "Reports the recognize data of every frame");
    return TRUE;
}

BOOL WINAPI Run(HEXPERTKEY key, PEXPERTCONFIG config, PEXPERTSTARTUPINFO startup, DWORD flags, HWND parent)
{
    (void)config;
    (void)startup;
    (void)flags;
    (void)parent;
    EXPERTFRAMEDESCRIPTOR d;
    DWORD requested = INVALID_FRAME_NUMBER, rc;
    while ((rc = ExpertGetFrame(key, GET_FRAME_NEXT_FORWARD, 0, requested, NULL, &d)) == NMERR_SUCCESS) {
        const RECOGNIZEDATATABLE *table = d.lpRecognizeDataTable;
        char protocols[512] = "";
        size_t used = 0;
        BOOL inst_null = TRUE;
        WORD count = table ? table->nRecognizeDatas : 0;
        for (WORD i = 0; i < count && used < sizeof protocols; i++) {
            const RECOGNIZEDATA *r = &table->RecognizeData[i];
            int n = snprintf(protocols + used, sizeof protocols - used, "%s%u@%u", i ? " " : "",
                             (unsigned)r->ProtocolID, (unsigned)r->nProtocolOffset);
            used += n > 0 ? (size_t)n : 0;
            inst_null = inst_null && r->InstData == NULL;
        }
        report_begin("r");
        report_frame("frame", d.FrameNumber);
        report_text("protocols", protocols);
        report_yesno("inst_null", inst_null);
        report_u32("count", table ? count : 0xFFFFFFFFu);
        report_send(key);
        requested = d.FrameNumber;
    }
    report_begin("end");
    report_u32("end_rc", rc);
    report_send(key);
    return TRUE;
}
