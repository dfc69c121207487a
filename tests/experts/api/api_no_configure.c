/*
 * api_no_configure - says it is configurable but exports no Configure.
 *
 * `expert-broker configure` (es_configure) must end it as a problem and
 * store nothing; Run works as usual and reports "ran".
 */
#include "api_report.h"

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    report_register(info, "API no Configure", "Claims EXPERT_ENUM_FLAG_CONFIGURABLE without Configure");
    info->Flags = EXPERT_ENUM_FLAG_CONFIGURABLE;
    return TRUE;
}

BOOL WINAPI Run(HEXPERTKEY key, PEXPERTCONFIG config, PEXPERTSTARTUPINFO startup, DWORD flags, HWND parent)
{
    (void)startup;
    (void)flags;
    (void)parent;
    report_begin("ran");
    report_yesno("has_config", config != NULL);
    return report_send(key) == NMERR_SUCCESS;
}
