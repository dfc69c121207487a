/*
 * no_register - exports Run but not Register.  The broker must report it as
 * "load_failed" (NMERR_LOAD_EXPERT_FAILED) and still run the other experts.
 */
#include "netmon.h"

BOOL WINAPI Run(HEXPERTKEY key, PEXPERTCONFIG config, PEXPERTSTARTUPINFO startup, DWORD flags,
                HWND parent)
{
    return TRUE;
}
