/*
 * alloc_deref - checks every allocation but one: the third.
 *
 * Planted fault: the result of the 3rd ExpertAllocMemory call is used
 * without a look, so when that allocation fails (NULL, NMERR_OUT_OF_MEMORY)
 * the expert writes through NULL and dies of SIGSEGV, after it has read
 * every frame.  Every other allocation failure, and every terminate
 * request, is handled: it frees what it holds and returns FALSE.
 *
 * The sweep must report "crashed" at allocation site 3 and nowhere else
 * among the allocation sites.
 */
#include <string.h>

#include "netmon.h"

struct tally {
    DWORD frames;
    DWORD bytes;
};

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    strcpy(info->szName, "Alloc deref");
    strcpy(info->szVendor, "expert-sandbox tests");
    strcpy(info->szDescription, "Dereferences the result of its third allocation unchecked.");
    info->Version = 1;
    return TRUE;
}

static void release(HEXPERTKEY key, void *a, void *b, void *c, void *d)
{
    void *blocks[] = {a, b, c, d};
    for (size_t i = 0; i < sizeof blocks / sizeof *blocks; i++)
        if (blocks[i])
            ExpertFreeMemory(key, blocks[i]);
}

BOOL WINAPI Run(HEXPERTKEY key, PEXPERTCONFIG config, PEXPERTSTARTUPINFO startup, DWORD flags,
                HWND parent)
{
    DWORD error = NMERR_SUCCESS;
    struct tally *first = ExpertAllocMemory(key, sizeof *first, &error);   /* allocation 1 */
    if (!first)
        return FALSE;
    struct tally *second = ExpertAllocMemory(key, 64, &error);             /* allocation 2 */
    if (!second) {
        release(key, first, NULL, NULL, NULL);
        return FALSE;
    }
    memset(first, 0, sizeof *first);

    EXPERTFRAMEDESCRIPTOR frame;
    DWORD requested = INVALID_FRAME_NUMBER;
    DWORD result;
    while ((result = ExpertGetFrame(key, GET_FRAME_NEXT_FORWARD, 0, requested, NULL, &frame)) ==
           NMERR_SUCCESS) {
        first->frames++;
        first->bytes += frame.pFrame->nBytesAvail;
        requested = frame.FrameNumber;
    }
    if (result != NMERR_NO_MORE_FRAMES) {
        release(key, first, second, NULL, NULL);
        return FALSE;
    }

    /* The planted fault: no check of allocation 3. */
    struct tally *third = ExpertAllocMemory(key, sizeof *third, &error);   /* allocation 3 */
    third->frames = first->frames;
    third->bytes = first->bytes;

    void *fourth = ExpertAllocMemory(key, 128, &error);                    /* allocation 4 */
    if (!fourth) {
        release(key, first, second, third, NULL);
        return FALSE;
    }
    void *fifth = ExpertAllocMemory(key, 256, &error);                     /* allocation 5 */
    if (!fifth) {
        release(key, first, second, third, fourth);
        return FALSE;
    }
    ExpertFreeMemory(key, fifth);
    release(key, first, second, third, fourth);
    return TRUE;
}
