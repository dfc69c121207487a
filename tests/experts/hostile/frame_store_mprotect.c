/*
 * frame_store_mprotect - tries to make the shared frame store writable with
 * mprotect, then to write into it.  mprotect itself is allowed (experts may
 * manage their own memory); what must hold is that the store's memfd is
 * sealed against writing, so the kernel refuses PROT_WRITE on that mapping.
 * Expected: done (mprotect fails; if it succeeds, Run says so and returns
 * FALSE, and if the write goes through to the shared pages the counter
 * running next to it sees other bytes).
 */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>

#include "hostile.h"

HOSTILE_REGISTER("Frame store mprotect", "Tries to make the frame store writable.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    EXPERTFRAMEDESCRIPTOR descriptor;
    if (ExpertGetFrame(key, GET_FRAME_NEXT_FORWARD, 0, INVALID_FRAME_NUMBER, NULL, &descriptor) !=
        NMERR_SUCCESS)
        return hostile_fail("no first frame");
    void *page = (void *)((uintptr_t)descriptor.pFrame & ~(uintptr_t)4095);
    if (mprotect(page, 4096, PROT_READ | PROT_WRITE) == 0) {
        descriptor.pFrame->MacFrame[0] ^= 0xff;
        return hostile_fail("the frame store became writable");
    }
    if (errno != EACCES)
        return hostile_fail("mprotect failed with errno %d, not EACCES", errno);
    return TRUE;
}
