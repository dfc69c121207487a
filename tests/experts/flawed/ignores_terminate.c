/*
 * ignores_terminate - retries ExpertGetFrame whatever it says.
 *
 * Planted fault: any result of ExpertGetFrame but NMERR_NO_MORE_FRAMES is
 * taken for a passing hiccup and the same request is made again, so once a
 * helper says NMERR_EXPERT_TERMINATE the expert loops for ever.  Before the
 * frame loop it reports its status twice and honours a terminate request
 * there, so the sweep finds it ignoring the request from helper call 3 on.
 * It allocates nothing.
 */
#include <string.h>

#include "netmon.h"

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    strcpy(info->szName, "Ignores terminate");
    strcpy(info->szVendor, "expert-sandbox tests");
    strcpy(info->szDescription, "Keeps asking for frames after NMERR_EXPERT_TERMINATE.");
    info->Version = 1;
    return TRUE;
}

BOOL WINAPI Run(HEXPERTKEY key, PEXPERTCONFIG config, PEXPERTSTARTUPINFO startup, DWORD flags,
                HWND parent)
{
    /* Helper calls 1 and 2: a terminate request here is honoured. */
    if (ExpertIndicateStatus(key, EXPERTSTATUS_RUNNING, 0, "starting", 0) == NMERR_EXPERT_TERMINATE)
        return FALSE;
    if (ExpertIndicateStatus(key, EXPERTSTATUS_RUNNING, 0, "reading", 1) == NMERR_EXPERT_TERMINATE)
        return FALSE;

    EXPERTFRAMEDESCRIPTOR frame;
    DWORD requested = INVALID_FRAME_NUMBER;
    for (;;) {
        DWORD result = ExpertGetFrame(key, GET_FRAME_NEXT_FORWARD, 0, requested, NULL, &frame);
        if (result == NMERR_NO_MORE_FRAMES)
            break;
        if (result == NMERR_SUCCESS)
            requested = frame.FrameNumber;
        /* the planted fault: anything else is retried, terminate included */
    }
    return TRUE;
}
