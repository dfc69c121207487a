/*
 * channel.h - the worker's end of the control socket: one protobuf-c message
 * per SOCK_SEQPACKET datagram, sent blocking so that a flood of messages is
 * slowed down by the broker instead of piling up in the worker.  Events do
 * not come this way but through the event ring (ring_writer.h), which sends
 * only its wake-ups here.
 */
#ifndef ES_CHANNEL_H
#define ES_CHANNEL_H

#include <stddef.h>

#include "expert.pb-c.h"

/* Exported by libnmapi.so for expert-worker, which shares its buffer. */
#define ES_CHANNEL_EXPORT __attribute__((visibility("default")))

/* Packs and sends one message.  Returns 0, or -1 with errno set (EMSGSIZE if
 * it packs to more than ES_MAX_MESSAGE, EPIPE if the broker is gone). */
ES_CHANNEL_EXPORT int es_channel_send(int fd, const Es__WorkerMessage *msg);

/* The same, passing descriptor `pass_fd` along (SCM_RIGHTS); -1 for none. */
ES_CHANNEL_EXPORT int es_channel_send_fd(int fd, const Es__WorkerMessage *msg, int pass_fd);

/* Receives and unpacks one command; NULL with errno set on failure (0 when
 * the broker closed the socket).  Free with es__command__free_unpacked. */
ES_CHANNEL_EXPORT Es__Command *es_channel_recv_command(int fd);

/* Most descriptors a command carries: the hand-over (Register) brings the
 * heap segment and, with a capture, the frame store. */
#define ES_CHANNEL_MAX_FDS 2

/* The same, for the one command that carries descriptors (the hand-over):
 * passed[0..*count) are they, in the order sent.  A message with more than
 * ES_CHANNEL_MAX_FDS is refused (NULL, EPROTO) and they are closed.
 * es_channel_recv_command refuses any descriptor. */
ES_CHANNEL_EXPORT Es__Command *es_channel_recv_command_fds(int fd, int *passed, size_t *count);

#endif
