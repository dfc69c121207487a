/*
 * oversized_datagram - sends one datagram larger than any message may be
 * (ES_MAX_MESSAGE is 64 KiB) on the control socket, to make the broker
 * truncate, overflow or over-allocate.  A SOCK_SEQPACKET datagram must fit
 * the socket's send buffer, so it tries 100 KiB first and smaller sizes
 * (all above 64 KiB) if the kernel says EMSGSIZE.
 * Expected: protocol_error (the broker reads the datagram's real size with
 * MSG_TRUNC and refuses it).  If no size could be sent, Run says so and
 * returns FALSE ("problem"), which fails the test with the reason.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "hostile.h"

HOSTILE_REGISTER("Oversized datagram", "Sends a 100 KiB datagram on the control socket.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    static const size_t sizes[] = {100 * 1024, 96 * 1024, 80 * 1024, 72 * 1024, 65 * 1024};
    static unsigned char datagram[100 * 1024];
    memset(datagram, 0x2a, sizeof datagram);
    int last_errno = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        if (send(3, datagram, sizes[i], MSG_NOSIGNAL) == (ssize_t)sizes[i]) {
            EXPERTFRAMEDESCRIPTOR descriptor;
            while (ExpertGetFrame(key, GET_SPECIFIED_FRAME, 0, 0, NULL, &descriptor) != NMERR_EXPERT_TERMINATE)
                ;
            return TRUE;
        }
        last_errno = errno;
    }
    return hostile_fail("no oversized datagram could be sent (errno %d)", last_errno);
}
