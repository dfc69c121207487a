/*
 * alloc_until_null - takes 4 KiB blocks from ExpertAllocMemory until it says
 * no, then frees them all and checks that the memory can be had again.
 *
 * One event:
 *     "Allocated bytes"   UINT32  bytes obtained before the first NULL
 *     "Error"             UINT32  what *pError said with that NULL
 *     "Again after free"  YESNO   the first block could be allocated again
 * and Run returns TRUE: running out of heap is an answer, not a crash.
 * The test runs it with --memory 64K and checks the numbers against the quota.
 */
#include <string.h>

#include "netmon.h"

#define BLOCK_SIZE 4096
#define MAX_BLOCKS 4096   /* 16 MiB: far above any quota the tests give */

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    strcpy(info->szName, "Alloc until NULL");
    strcpy(info->szVendor, "expert-sandbox tests");
    strcpy(info->szDescription, "Exhausts its heap, frees it, allocates again.");
    return TRUE;
}

static LPVOID blocks[MAX_BLOCKS];

BOOL WINAPI Run(HEXPERTKEY key, PEXPERTCONFIG config, PEXPERTSTARTUPINFO startup, DWORD flags,
                HWND parent)
{
    DWORD error = NMERR_SUCCESS;
    size_t count = 0;
    while (count < MAX_BLOCKS) {
        error = NMERR_SUCCESS;
        LPVOID block = ExpertAllocMemory(key, BLOCK_SIZE, &error);
        if (block == NULL)
            break;
        memset(block, 0xA5, BLOCK_SIZE);   /* touch it: the pages must really be there */
        blocks[count++] = block;
    }
    DWORD allocated = (DWORD)(count * BLOCK_SIZE);
    DWORD failure = error;

    for (size_t i = 0; i < count; i++)
        ExpertFreeMemory(key, blocks[i]);
    LPVOID again = ExpertAllocMemory(key, BLOCK_SIZE, NULL);

    NMEVENTDATA *event = ExpertAllocMemory(key, sizeof(NMEVENTDATA) + 2 * sizeof(NMCOLUMNINFO), NULL);
    if (event == NULL)
        return FALSE;
    event->EventIdent = 1;
    event->Flags = NMEVENTFLAG_EXPERT;
    event->szSourceName = "Alloc until NULL";
    event->szEventName = "Heap exhausted";
    event->NumColumns = 3;
    event->Column[0].szColumnName = "Allocated bytes";
    event->Column[0].VariantData.Type = NMCOLUMNTYPE_UINT32;
    event->Column[0].VariantData.Value.Uint32Val = allocated;
    event->Column[1].szColumnName = "Error";
    event->Column[1].VariantData.Type = NMCOLUMNTYPE_UINT32;
    event->Column[1].VariantData.Value.Uint32Val = failure;
    event->Column[2].szColumnName = "Again after free";
    event->Column[2].VariantData.Type = NMCOLUMNTYPE_YESNO;
    event->Column[2].VariantData.Value.YesNoVal = again != NULL;
    return ExpertSubmitEvent(key, event) == NMERR_SUCCESS;
}
