/*
 * scm_rights - sends a well-formed Status message on the control socket
 * with a descriptor attached (SCM_RIGHTS).  Only the worker's Hello may
 * carry one (the seccomp listener); a descriptor anywhere else would land
 * in the broker's table.
 * Expected: protocol_error (a descriptor with a message that takes none),
 * and the broker closes the descriptor it received (the test checks the
 * broker's descriptor count).
 */
#include <sys/socket.h>

#include "hostile.h"

HOSTILE_REGISTER("SCM_RIGHTS", "Passes a descriptor to the broker with a status message.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    /* WorkerMessage{status: Status{status: 2, sub_status: 0}} in protobuf's
     * wire format: field 4 (length-delimited), then fields 1 and 2. */
    static const unsigned char status_message[] = {0x22, 0x04, 0x08, 0x02, 0x10, 0x00};
    struct iovec iov = {(void *)status_message, sizeof status_message};
    union {
        struct cmsghdr align;
        char bytes[CMSG_SPACE(sizeof(int))];
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.bytes,
                             .msg_controllen = sizeof control.bytes};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&message);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    int passed = 0;   /* its /dev/null */
    memcpy(CMSG_DATA(cm), &passed, sizeof passed);
    ssize_t sent = sendmsg(3, &message, MSG_NOSIGNAL);
    if (sent != (ssize_t)sizeof status_message)
        return hostile_fail("sendmsg returned %zd", sent);
    EXPERTFRAMEDESCRIPTOR descriptor;
    while (ExpertGetFrame(key, GET_SPECIFIED_FRAME, 0, 0, NULL, &descriptor) != NMERR_EXPERT_TERMINATE)
        ;
    return TRUE;
}
