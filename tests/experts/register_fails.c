/*
 * register_fails - a complete expert whose Register returns FALSE.  The
 * broker must report "register_failed" (NMERR_EXPERT_REPORT_FAILED) and never
 * call its Run.
 */
#include <string.h>

#include "netmon.h"

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    strcpy(info->szName, "Register fails");
    return FALSE;
}

BOOL WINAPI Run(HEXPERTKEY key, PEXPERTCONFIG config, PEXPERTSTARTUPINFO startup, DWORD flags,
                HWND parent)
{
    /* Must never run; if it does, the event makes the test fail visibly. */
    NMEVENTDATA event;
    memset(&event, 0, sizeof(event));
    event.szEventName = "Run was called after Register failed";
    ExpertSubmitEvent(key, &event);
    return TRUE;
}
