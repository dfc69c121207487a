/* channel.c - send and receive on the worker's control socket. */
#include "channel.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire.h"

/* One buffer, shared by every sender in the process: an expert may call the
 * helpers from several threads, and 64 KiB is too much to put on a stack the
 * expert sized. */
static pthread_mutex_t send_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t send_buffer[ES_MAX_MESSAGE];

int es_channel_send(int fd, const Es__WorkerMessage *msg)
{
    return es_channel_send_fd(fd, msg, -1);
}

int es_channel_send_fd(int fd, const Es__WorkerMessage *msg, int pass_fd)
{
    size_t size = es__worker_message__get_packed_size(msg);
    if (size > sizeof send_buffer) {
        errno = EMSGSIZE;
        return -1;
    }
    pthread_mutex_lock(&send_lock);
    es__worker_message__pack(msg, send_buffer);
    struct iovec iov = {send_buffer, size};
    union {
        struct cmsghdr align;
        char bytes[CMSG_SPACE(sizeof(int))];
    } control;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (pass_fd >= 0) {
        memset(&control, 0, sizeof control);
        mh.msg_control = control.bytes;
        mh.msg_controllen = sizeof control.bytes;
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
    }
    ssize_t sent;
    do
        sent = sendmsg(fd, &mh, MSG_NOSIGNAL);
    while (sent < 0 && errno == EINTR);
    pthread_mutex_unlock(&send_lock);
    if (sent < 0)
        return -1;
    if ((size_t)sent != size) {
        errno = EPROTO;   /* a datagram socket sends all or nothing */
        return -1;
    }
    return 0;
}

Es__Command *es_channel_recv_command(int fd)
{
    int passed[ES_CHANNEL_MAX_FDS];
    size_t count = 0;
    Es__Command *cmd = es_channel_recv_command_fds(fd, passed, &count);
    if (count > 0) {
        /* Only the hand-over carries descriptors (es_channel_recv_command_fds). */
        for (size_t i = 0; i < count; i++)
            close(passed[i]);
        if (cmd)
            es__command__free_unpacked(cmd, NULL);
        errno = EPROTO;
        return NULL;
    }
    return cmd;
}

/* Close whatever descriptors a message carried: used when it carried more
 * than the one expected. */
static void close_passed(struct msghdr *mh)
{
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n; i++) {
            int one;
            memcpy(&one, CMSG_DATA(cm) + i * sizeof(int), sizeof one);
            close(one);
        }
    }
}

Es__Command *es_channel_recv_command_fds(int fd, int *passed, size_t *count)
{
    static uint8_t buffer[ES_MAX_MESSAGE];
    *count = 0;
    struct iovec iov = {buffer, sizeof buffer};
    /* Room for one more than allowed, so that an extra descriptor is seen
     * (and refused) rather than silently cut off. */
    union {
        struct cmsghdr align;
        char bytes[CMSG_SPACE((ES_CHANNEL_MAX_FDS + 1) * sizeof(int))];
    } control;
    struct msghdr mh;
    ssize_t got;
    do {
        memset(&mh, 0, sizeof mh);
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = control.bytes;
        mh.msg_controllen = sizeof control.bytes;
        got = recvmsg(fd, &mh, MSG_TRUNC | MSG_CMSG_CLOEXEC);
    } while (got < 0 && errno == EINTR);
    if (got <= 0) {
        if (got == 0)
            errno = 0;
        return NULL;
    }
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    if (cm) {
        size_t n = cm->cmsg_len >= CMSG_LEN(0) ? (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int) : 0;
        if ((mh.msg_flags & MSG_CTRUNC) || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
            n == 0 || n > ES_CHANNEL_MAX_FDS || CMSG_NXTHDR(&mh, cm)) {
            close_passed(&mh);
            errno = EPROTO;
            return NULL;
        }
        memcpy(passed, CMSG_DATA(cm), n * sizeof(int));
        *count = n;
    }
    Es__Command *cmd = NULL;
    if ((size_t)got > sizeof buffer)
        errno = EMSGSIZE;
    else if (!(cmd = es__command__unpack(NULL, (size_t)got, buffer)))
        errno = EPROTO;
    if (!cmd) {
        for (size_t i = 0; i < *count; i++)
            close(passed[i]);
        *count = 0;
    }
    return cmd;
}
