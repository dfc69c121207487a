/*
 * short_capture - trusts the announced frame count.
 *
 * Planted fault: it asks GetCaptureTotalFrames how many frames there are,
 * then fetches each by number and uses the descriptor without looking at
 * ExpertGetFrame's result.  When the capture holds fewer frames than
 * announced (run --inject short-capture=N, or a capture cut short), the
 * call for frame N fails, pFrame stays NULL, and the expert dies of SIGSEGV
 * with N frames read.
 */
#include <string.h>

#include "netmon.h"

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    strcpy(info->szName, "Short capture");
    strcpy(info->szVendor, "expert-sandbox tests");
    strcpy(info->szDescription, "Assumes every announced frame exists.");
    info->Version = 1;
    return TRUE;
}

BOOL WINAPI Run(HEXPERTKEY key, PEXPERTCONFIG config, PEXPERTSTARTUPINFO startup, DWORD flags,
                HWND parent)
{
    DWORD total = GetCaptureTotalFrames(startup->hCapture);
    DWORD bytes = 0;
    for (DWORD n = 0; n < total; n++) {
        EXPERTFRAMEDESCRIPTOR frame;
        memset(&frame, 0, sizeof frame);
        ExpertGetFrame(key, GET_SPECIFIED_FRAME, 0, n, NULL, &frame);   /* the planted fault: unchecked */
        bytes += frame.pFrame->nBytesAvail;
    }
    return bytes > 0 || total == 0;
}
