/*
 * returns_false - reads a few frames, says why it gives up, returns FALSE.
 * NetMon shows such an expert as PROBLEM; the broker's outcome is "problem".
 */
#include <string.h>

#include "netmon.h"

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    strcpy(info->szName, "Returns FALSE");
    strcpy(info->szVendor, "expert-sandbox tests");
    strcpy(info->szDescription, "Reads three frames, reports a problem and returns FALSE.");
    return TRUE;
}

BOOL WINAPI Run(HEXPERTKEY key, PEXPERTCONFIG config, PEXPERTSTARTUPINFO startup, DWORD flags,
                HWND parent)
{
    EXPERTFRAMEDESCRIPTOR descriptor;
    DWORD requested = INVALID_FRAME_NUMBER;
    for (int i = 0; i < 3; i++) {
        if (ExpertGetFrame(key, GET_FRAME_NEXT_FORWARD, 0, requested, NULL, &descriptor)
            != NMERR_SUCCESS)
            break;
        requested = descriptor.FrameNumber;
    }
    ExpertIndicateStatus(key, EXPERTSTATUS_PROBLEM, 7, "the test expert gives up on purpose", 0);
    return FALSE;
}
