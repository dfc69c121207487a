/*
 * message.h - decoding what a worker sends, with bounded memory.
 *
 * A worker is untrusted: its datagrams may be oversized, truncated, garbage,
 * or well-formed protobuf that says absurd things.  Decoding uses a fixed
 * arena (no malloc), so no message can make the broker allocate more than
 * the arena; validation then checks every length and count against the
 * limits the honest worker library applies (proto/wire.h).
 */
#ifndef ES_MESSAGE_H
#define ES_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "expert.pb-c.h"

/* A 64 KiB datagram of the smallest possible fields expands to at most a
 * few hundred KiB of structures; anything needing more is not honest. */
#define ES_DECODE_ARENA (1024 * 1024)

struct es_decoder {
    ProtobufCAllocator allocator;
    size_t used;
    _Alignas(16) uint8_t arena[ES_DECODE_ARENA];
};

void es_decoder_init(struct es_decoder *d);

/*
 * Decodes one datagram.  Returns the message, valid until the next call on
 * the same decoder, or NULL with a one-line reason in `why` (e.g. "message
 * of 70000 bytes exceeds the 65536-byte limit", "undecodable message",
 * "event with 300 columns").
 */
const Es__WorkerMessage *es_decode_worker_message(struct es_decoder *d, const uint8_t *data,
                                                  size_t len, char *why, size_t whylen);

/* Packs a command into buf (at least ES_MAX_MESSAGE bytes); returns its size. */
size_t es_encode_command(const Es__Command *cmd, uint8_t *buf, size_t buflen);

#endif
