/*
 * register_private_fields - Register overwrites the host's private fields
 * of EXPERTENUMINFO (the entry points, the module handle, the file name)
 * with garbage, hoping the host calls through them.
 * Expected: done (the worker keeps its own copy of the entry points).
 */
#include <stdint.h>

#include "hostile.h"

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    hostile_register(info, "Private fields", "Overwrites the host's private EXPERTENUMINFO fields.");
    memset(info->szDllName, 0xff, sizeof info->szDllName);
    info->hExpert = (HEXPERT)(uintptr_t)0x4141414141414141u;
    info->hModule = (HINSTANCE)(uintptr_t)0x4242424242424242u;
    void *bogus = (void *)(uintptr_t)0x10;
    memcpy(&info->pRegisterProc, &bogus, sizeof bogus);
    memcpy(&info->pConfigProc, &bogus, sizeof bogus);
    memcpy(&info->pRunProc, &bogus, sizeof bogus);
    return TRUE;
}

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    return TRUE;
}
