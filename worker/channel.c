/* channel.c - send and receive on the worker's control socket. */
#include "channel.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/socket.h>

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
    static uint8_t buffer[ES_MAX_MESSAGE];
    ssize_t got;
    do
        got = recv(fd, buffer, sizeof buffer, MSG_TRUNC);
    while (got < 0 && errno == EINTR);
    if (got <= 0) {
        if (got == 0)
            errno = 0;
        return NULL;
    }
    if ((size_t)got > sizeof buffer) {
        errno = EMSGSIZE;
        return NULL;
    }
    Es__Command *cmd = es__command__unpack(NULL, (size_t)got, buffer);
    if (!cmd)
        errno = EPROTO;
    return cmd;
}
