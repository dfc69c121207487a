/*
 * heap_quota - allocates through the helpers past its heap quota (the test
 * runs it with a 1 MiB quota).  The helpers must answer NULL with
 * NMERR_OUT_OF_MEMORY; a realloc past the quota must fail the same way and
 * leave the original block as it was.
 *
 * It then reports the error it got in an event ("Error" = 19) and returns
 * FALSE, as an expert that ran out of memory should.
 * Expected: problem, 1 event.  A wrong error code aborts (crashed), a quota
 * that never bites returns TRUE (done): both fail the test.
 */
#include <stdlib.h>

#include "hostile.h"

HOSTILE_REGISTER("Heap quota", "Allocates past the heap quota through the helpers.")

#define BLOCK (64 * 1024)
#define MAX_BLOCKS 4096   /* 256 MiB: far above the quota the test gives */

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    DWORD error = NMERR_SUCCESS;
    LPVOID first = NULL;
    unsigned blocks = 0;
    for (; blocks < MAX_BLOCKS; blocks++) {
        LPVOID block = ExpertAllocMemory(key, BLOCK, &error);
        if (!block)
            break;
        if (!first)
            first = block;
        memset(block, 0x5a, BLOCK);
    }
    if (blocks == MAX_BLOCKS || !first)
        return TRUE;   /* the quota never bit, or nothing could be had: "done" fails the test */
    if (error != NMERR_OUT_OF_MEMORY)
        abort();

    /* Growing a block past the quota fails and keeps the block. */
    DWORD realloc_error = NMERR_SUCCESS;
    if (ExpertReallocMemory(key, first, 16u * 1024 * 1024, &realloc_error) != NULL ||
        realloc_error != NMERR_OUT_OF_MEMORY)
        abort();
    if (ExpertMemorySize(key, first) != BLOCK || ((unsigned char *)first)[BLOCK - 1] != 0x5a)
        abort();

    NMEVENTDATA event;
    memset(&event, 0, sizeof event);
    event.Flags = NMEVENTFLAG_EXPERT;
    event.Severity = NMEVENT_SEVERITY_ERROR;
    event.szSourceName = "Heap quota";
    event.szEventName = "Out of memory";
    event.szDescription = "ExpertAllocMemory returned NULL";
    event.NumColumns = 1;
    event.Column[0].szColumnName = "Error";
    event.Column[0].VariantData.Type = NMCOLUMNTYPE_UINT32;
    event.Column[0].VariantData.Value.Uint32Val = error;
    if (ExpertSubmitEvent(key, &event) != NMERR_SUCCESS)
        abort();
    return FALSE;
}
