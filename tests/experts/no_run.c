/*
 * no_run - exports Register but not Run.  Registering alone is not enough to
 * be an expert: the broker must report "load_failed" before calling anything.
 */
#include <string.h>

#include "netmon.h"

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    strcpy(info->szName, "No Run");
    strcpy(info->szVendor, "expert-sandbox tests");
    strcpy(info->szDescription, "Has Register but no Run.");
    return TRUE;
}
