/*
 * frame_store_write - writes into the frame it was given.  The frame store
 * is shared by every expert of the run, so this would corrupt the others'
 * input; it is mapped read-only.
 * Expected: crashed, SIGSEGV at the frame's address.
 */
#include "hostile.h"

HOSTILE_REGISTER("Frame store write", "Writes through pFrame from ExpertGetFrame.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    EXPERTFRAMEDESCRIPTOR descriptor;
    if (ExpertGetFrame(key, GET_FRAME_NEXT_FORWARD, 0, INVALID_FRAME_NUMBER, NULL, &descriptor) !=
        NMERR_SUCCESS)
        return hostile_fail("no first frame");
    volatile BYTE *bytes = descriptor.pFrame->MacFrame;
    bytes[0] = (BYTE)~bytes[0];
    return TRUE;
}
