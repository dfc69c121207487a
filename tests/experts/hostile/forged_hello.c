/*
 * forged_hello - sends a second Hello in the middle of Run, claiming every
 * confinement layer: a worker's claims about the sandbox are believed only
 * from the Hello its own code sends before any expert code has run.
 * Expected: protocol_error (hello out of order).
 */
#include <sys/socket.h>

#include "hostile.h"

HOSTILE_REGISTER("Forged Hello", "Sends a Hello message from inside Run.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    /* WorkerMessage{hello: Hello{protocol_version: 1, layers: 31}}. */
    static const unsigned char hello[] = {0x0a, 0x04, 0x08, 0x01, 0x10, 0x1f};
    ssize_t sent = send(3, hello, sizeof hello, MSG_NOSIGNAL);
    if (sent != (ssize_t)sizeof hello)
        return hostile_fail("send returned %zd", sent);
    EXPERTFRAMEDESCRIPTOR descriptor;
    while (ExpertGetFrame(key, GET_SPECIFIED_FRAME, 0, 0, NULL, &descriptor) != NMERR_EXPERT_TERMINATE)
        ;
    return TRUE;
}
