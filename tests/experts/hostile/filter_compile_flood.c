/*
 * filter_compile_flood - compiles and destroys a filter over and over.
 * Each ExpertCompileFilter costs the broker a libpcap compilation, so the
 * broker grants a worker a bounded number of them (256) and treats more as
 * an attack on itself.
 * Expected: protocol_error (too many filter requests).
 */
#include "hostile.h"

HOSTILE_REGISTER("Filter compile flood", "Compiles 100000 filters, one after another.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    for (int i = 0; i < 100000; i++) {
        DWORD error = NMERR_SUCCESS;
        HFILTER filter = ExpertCompileFilter(key, "tcp or udp", &error);
        if (!filter)
            return hostile_fail("compile %d failed with %u", i, (unsigned)error);
        DestroyFilter(filter);
    }
    return TRUE;
}
