/*
 * bench_noop - the smallest expert: Register and Run return TRUE at once.
 *
 * The spawn benchmark loads it so that what it measures is the host's cost
 * of starting, confining and loading, not the expert's own start-up work.
 */
#include <string.h>

#include "netmon.h"

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    strcpy(info->szName, "Bench no-op");
    strcpy(info->szVendor, "expert-sandbox bench");
    strcpy(info->szDescription, "Does nothing, as fast as possible.");
    info->Version = 1;
    return TRUE;
}

BOOL WINAPI Run(HEXPERTKEY key, PEXPERTCONFIG config, PEXPERTSTARTUPINFO startup, DWORD flags, HWND parent)
{
    (void)key;
    (void)config;
    (void)startup;
    (void)flags;
    (void)parent;
    return TRUE;
}
