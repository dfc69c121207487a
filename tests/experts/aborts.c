/*
 * aborts - calls abort() in the middle of Run.  The outcome must be
 * "crashed" with SIGABRT, not "problem": a signal is not a return value.
 */
#include <stdlib.h>
#include <string.h>

#include "netmon.h"

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    strcpy(info->szName, "Aborts");
    strcpy(info->szVendor, "expert-sandbox tests");
    strcpy(info->szDescription, "Reads one frame, then calls abort().");
    return TRUE;
}

BOOL WINAPI Run(HEXPERTKEY key, PEXPERTCONFIG config, PEXPERTSTARTUPINFO startup, DWORD flags,
                HWND parent)
{
    EXPERTFRAMEDESCRIPTOR descriptor;
    ExpertGetFrame(key, GET_FRAME_NEXT_FORWARD, 0, INVALID_FRAME_NUMBER, NULL, &descriptor);
    abort();
}
