/*
 * register_no_nul - Register fills szName, szVendor and szDescription to
 * the last byte, with no terminating NUL anywhere (szName runs straight
 * into szVendor, and szDescription into Version).
 * Expected: done; the name the broker reports is at most 260 bytes.
 */
#include "hostile.h"

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    memset(info->szName, 'N', sizeof info->szName);
    memset(info->szVendor, 'V', sizeof info->szVendor);
    memset(info->szDescription, 'D', sizeof info->szDescription);
    info->Version = 0xffffffffu;
    info->Flags = 0xffffffffu;
    return TRUE;
}

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    return TRUE;
}
