/*
 * malloc_exhaust - takes memory around the helpers with malloc, 1 MiB at a
 * time and never freed, until malloc says no.  The worker's address-space
 * limit (heap quota + capture + the allowance for malloc and stacks) is what
 * must make it say no, long before the machine runs out.
 *
 * Expected: problem (Run returns FALSE once malloc returned NULL, after one
 * event with the MiB it got).  If malloc never fails within 64 GiB, Run
 * returns TRUE ("done"), which fails the test.
 */
#include <stdlib.h>

#include "hostile.h"

HOSTILE_REGISTER("malloc exhaustion", "mallocs 1 MiB blocks until malloc returns NULL.")

#define CHUNK (1024 * 1024)
#define MAX_CHUNKS (64 * 1024)

/* Where each chunk escapes to: an allocation nobody can see may be
 * optimised away (clang does), and then malloc never runs out. */
static char *volatile last_chunk;

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    unsigned chunks = 0;
    for (; chunks < MAX_CHUNKS; chunks++) {
        char *chunk = malloc(CHUNK);
        if (!chunk)
            break;
        chunk[0] = 1;   /* one page each: address space is what runs out */
        last_chunk = chunk;
    }
    if (chunks == MAX_CHUNKS)
        return TRUE;

    NMEVENTDATA event;
    memset(&event, 0, sizeof event);
    event.szSourceName = "malloc exhaustion";
    event.szEventName = "malloc returned NULL";
    event.NumColumns = 1;
    event.Column[0].szColumnName = "MiB";
    event.Column[0].VariantData.Type = NMCOLUMNTYPE_UINT32;
    event.Column[0].VariantData.Value.Uint32Val = chunks;
    ExpertSubmitEvent(key, &event);
    return FALSE;
}
