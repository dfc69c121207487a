/*
 * garbage_datagram - writes 7 bytes of garbage straight to the control
 * socket (descriptor 3; write is allowed, it is the helpers' socket).
 * Expected: protocol_error (undecodable message).
 */
#include <unistd.h>

#include "hostile.h"

HOSTILE_REGISTER("Garbage datagram", "write(3, \"garbage\", 7).")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    ssize_t written = write(3, "garbage", 7);
    if (written != 7)
        return hostile_fail("write to the control socket returned %zd", written);
    /* The broker kills the worker when it reads the datagram; until then,
     * wait where the helpers would notice a terminate request. */
    EXPERTFRAMEDESCRIPTOR descriptor;
    while (ExpertGetFrame(key, GET_SPECIFIED_FRAME, 0, 0, NULL, &descriptor) != NMERR_EXPERT_TERMINATE)
        ;
    return TRUE;
}
