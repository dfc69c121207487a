/*
 * event_ring.h - the event ring: how ExpertSubmitEvent hands events to the
 * broker without a system call.
 *
 * Where it lives.  At the end of the worker's heap segment, after the
 * expert's arena: es_heap_control.event_ring_offset (page-aligned, at or
 * above es_heap_control.arena_end) is where the ring header starts, and the
 * segment is exactly event_ring_offset + ES_EVENT_RING_AREA bytes.  It is
 * outside the expert's quota (the allocator never hands it out) and costs
 * one memfd less than a segment of its own: no new descriptor to pass, seal
 * or account for.  The broker maps only the control page and this area of
 * the segment, so the only broker memory a worker can write is memory that
 * is shared on purpose; everything the broker reads from it is copied
 * first and validated (broker/event_ring.c).
 *
 * The protocol.  A single-producer, single-consumer byte ring with
 * free-running 64-bit counters:
 *
 *   head   written by the worker: bytes produced so far (a multiple of 8);
 *   tail   written by the broker: bytes consumed so far.  The broker keeps
 *          its own copy and never reads this one back.
 *
 * The worker writes a record at head % capacity (wrapping around the end),
 * then publishes it with a release store of head.  After that store it
 * issues a full fence and reads `broker_sleeping`: if the broker said it is
 * going to sleep, the worker clears the flag and sends one EventsPending
 * datagram on the control socket.  The broker, before it sleeps, stores 1
 * in `broker_sleeping`, issues a full fence and reads head again (Dekker's
 * pattern): either it sees the new record, or the worker sees the flag, so
 * a record is never left in the ring with both sides asleep.
 *
 * A full ring: the worker stores 1 in `worker_waiting`, fences, reads tail
 * again and, if there is still no room, waits on the low 32 bits of tail
 * with a shared futex (with a timeout, after which it wakes the broker and
 * looks again).  The broker publishes tail after every batch, fences, and
 * wakes the futex if `worker_waiting` was set.
 *
 * Records.  An event is a struct es_ring_event, its five texts (source,
 * event name, description, machine, justification, each text_len[i] bytes,
 * present when bit i of `present` is set), then n_columns columns, each a
 * struct es_ring_column followed by its name and, for bytes values, its
 * value.  `size` counts all of it; the next record starts at the next
 * multiple of 8.  Byte order and layout are the host's: both sides are
 * built together.  The limits are those of wire.h, and a record is at most
 * ES_EVENT_RING_MAX_RECORD bytes (columns are cut from the end to fit, as
 * datagrams were).
 */
#ifndef ES_EVENT_RING_H
#define ES_EVENT_RING_H

#include <stdint.h>

#define ES_EVENT_RING_MAGIC 0x474E4952u          /* "RING" */
#define ES_EVENT_RING_HEADER 4096u                /* the header page */
#define ES_EVENT_RING_CAPACITY (1u << 20)         /* data bytes; a power of two */
#define ES_EVENT_RING_AREA (ES_EVENT_RING_HEADER + ES_EVENT_RING_CAPACITY)
#define ES_EVENT_RING_MAX_RECORD (64u * 1024u)    /* as ES_MAX_MESSAGE */
#define ES_EVENT_RING_ALIGN 8u

struct es_event_ring_header {
    uint32_t magic;                    /* broker */
    uint32_t capacity;                 /* broker: ES_EVENT_RING_CAPACITY */
    _Alignas(64) uint64_t head;        /* worker: bytes produced */
    uint32_t worker_waiting;           /* worker sets, broker clears and wakes */
    _Alignas(64) uint64_t tail;        /* broker: bytes consumed (a copy) */
    uint32_t broker_sleeping;          /* broker sets, worker clears and sends a wake */
};

_Static_assert(sizeof(struct es_event_ring_header) <= ES_EVENT_RING_HEADER, "ring header fits its page");
/* tests/experts/hostile/ring_layout.h spells these out, as an attacker would. */
_Static_assert(__builtin_offsetof(struct es_event_ring_header, head) == 64, "head on its own line");
_Static_assert(__builtin_offsetof(struct es_event_ring_header, tail) == 128, "tail on its own line");

/* How a column's value travels. */
enum es_ring_value {
    ES_RING_VALUE_NONE = 0,
    ES_RING_VALUE_UNSIGNED = 1,
    ES_RING_VALUE_SIGNED = 2,
    ES_RING_VALUE_DOUBLE = 3,
    ES_RING_VALUE_BYTES = 4,
};

enum {
    ES_RING_TEXT_SOURCE,
    ES_RING_TEXT_EVENT_NAME,
    ES_RING_TEXT_DESCRIPTION,
    ES_RING_TEXT_MACHINE,
    ES_RING_TEXT_JUSTIFICATION,
    ES_RING_TEXTS,
};

struct es_ring_event {
    uint32_t size;                     /* of the whole record, this header included */
    uint32_t version;
    uint32_t ident;
    uint32_t flags;
    uint32_t severity;
    uint32_t frames_read;
    uint16_t time[8];                  /* year, month, day_of_week, day, hour, minute, second, ms */
    uint16_t text_len[ES_RING_TEXTS];
    uint8_t present;                   /* bit i: text i was not NULL */
    uint8_t truncated;                 /* 0 or 1 */
    uint8_t n_columns;
    uint8_t reserved[3];               /* 0 */
};

struct es_ring_column {
    uint32_t type;                     /* NMCOLUMNTYPE, as the expert gave it */
    uint16_t name_len;
    uint16_t value_len;                /* bytes that follow the name (ES_RING_VALUE_BYTES) */
    uint8_t kind;                      /* enum es_ring_value */
    uint8_t reserved[7];               /* 0 */
    uint64_t value;                    /* unsigned, signed (two's complement) or double bits */
};

_Static_assert(sizeof(struct es_ring_event) == 56, "no padding in the record header");
_Static_assert(sizeof(struct es_ring_column) == 24, "no padding in the column header");

#endif
