/*
 * ring_reader.c - validating and parsing a worker's event ring.
 *
 * What the worker controls: every byte of the ring, head, worker_waiting,
 * and even the tail and broker_sleeping words (it may overwrite them).
 * What the broker relies on: its own tail, the ring's fixed capacity and
 * mapping, and the bounds below.  Nothing read from the ring is used as an
 * index or a length before it is checked against them.
 */
#include "ring_reader.h"

#include <linux/futex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "netmon.h"
#include "wire.h"

#define SHARED(r, field) ((_Atomic __typeof__((r)->hdr->field) *)&(r)->hdr->field)
#define CAPACITY ((uint64_t)ES_EVENT_RING_CAPACITY)

static uint64_t aligned(uint64_t n)
{
    return (n + ES_EVENT_RING_ALIGN - 1) & ~(uint64_t)(ES_EVENT_RING_ALIGN - 1);
}

void es_ring_reader_init(struct es_ring_reader *r, struct es_event_ring_header *hdr)
{
    r->hdr = hdr;
    r->data = hdr ? (const uint8_t *)hdr + ES_EVENT_RING_HEADER : NULL;
    r->tail = r->published = 0;
}

int es_ring_reader_head(struct es_ring_reader *r, uint64_t *head, char *why, size_t whylen)
{
    /* Acquire: the record bytes before head are read after it. */
    uint64_t h = atomic_load_explicit(SHARED(r, head), memory_order_acquire);
    if (h - r->tail > CAPACITY || h % ES_EVENT_RING_ALIGN != 0) {
        snprintf(why, whylen, "event ring: head %llu is not a record boundary within %llu bytes of the tail %llu",
                 (unsigned long long)h, (unsigned long long)CAPACITY, (unsigned long long)r->tail);
        return -1;
    }
    *head = h;
    return 0;
}

/* Copies `len` bytes from ring position `pos` into `to`, around the end. */
static void copy_out(const struct es_ring_reader *r, uint64_t pos, uint8_t *to, size_t len)
{
    size_t at = (size_t)(pos & (CAPACITY - 1));
    size_t first = CAPACITY - at < len ? CAPACITY - at : len;
    /* The worker may be writing these bytes right now: whatever it leaves
     * is in our copy, and only the copy is parsed. */
    memcpy(to, r->data + at, first);
    memcpy(to + first, r->data, len - first);
}

static int bad(char *why, size_t whylen, const char *what, unsigned long long value)
{
    snprintf(why, whylen, "event ring: %s (%llu)", what, value);
    return -1;
}

static ProtobufCBinaryData bytes_at(const uint8_t *p, size_t len)
{
    ProtobufCBinaryData b = {len, (uint8_t *)p};
    return b;
}

/* Parses the copied record into the scratch's Es__Event, checking every
 * length against the limits an honest worker applies (wire.h). */
static int parse(struct es_ring_scratch *sc, uint32_t size, char *why, size_t whylen)
{
    const uint8_t *p = sc->record;
    struct es_ring_event h;
    memcpy(&h, p, sizeof h);
    if (h.size != size)
        return bad(why, whylen, "record size changed while it was read", h.size);
    if ((h.present & ~((1u << ES_RING_TEXTS) - 1)) || h.truncated > 1 || h.reserved[0] || h.reserved[1] ||
        h.reserved[2])
        return bad(why, whylen, "record header with undefined bits", h.present);

    static const uint16_t caps[ES_RING_TEXTS] = {ES_MAX_NAME_TEXT, ES_MAX_NAME_TEXT, ES_MAX_LONG_TEXT,
                                                 ES_MAX_NAME_TEXT, ES_MAX_LONG_TEXT};
    size_t at = sizeof h;
    ProtobufCBinaryData texts[ES_RING_TEXTS];
    for (int i = 0; i < ES_RING_TEXTS; i++) {
        if (h.text_len[i] > caps[i] || (h.text_len[i] && !(h.present & (1u << i))))
            return bad(why, whylen, "text longer than its limit", h.text_len[i]);
        if (h.text_len[i] > size - at)
            return bad(why, whylen, "text past the end of its record", h.text_len[i]);
        texts[i] = bytes_at(p + at, h.text_len[i]);
        at += h.text_len[i];
    }

    Es__Event *ev = &sc->event;
    es__event__init(ev);
    es__system_time__init(&sc->time);
    ev->version = h.version;
    ev->ident = h.ident;
    ev->flags = h.flags;
    ev->severity = h.severity;
    ev->frames_read = h.frames_read;
    ev->truncated = h.truncated;
    Es__SystemTime *t = &sc->time;
    t->year = h.time[0], t->month = h.time[1], t->day_of_week = h.time[2], t->day = h.time[3];
    t->hour = h.time[4], t->minute = h.time[5], t->second = h.time[6], t->milliseconds = h.time[7];
    ev->time = t;
#define TEXT(index, has, field)                                                                    \
    ev->has = (h.present & (1u << (index))) != 0;                                                  \
    ev->field = texts[index]
    TEXT(ES_RING_TEXT_SOURCE, has_source_name, source_name);
    TEXT(ES_RING_TEXT_EVENT_NAME, has_event_name, event_name);
    TEXT(ES_RING_TEXT_DESCRIPTION, has_description, description);
    TEXT(ES_RING_TEXT_MACHINE, has_machine, machine);
    TEXT(ES_RING_TEXT_JUSTIFICATION, has_justification, justification);
#undef TEXT

    for (size_t i = 0; i < h.n_columns; i++) {
        struct es_ring_column c;
        if (sizeof c > size - at)
            return bad(why, whylen, "column past the end of its record", i);
        memcpy(&c, p + at, sizeof c);
        at += sizeof c;
        bool zero = true;
        for (size_t k = 0; k < sizeof c.reserved; k++)
            zero = zero && c.reserved[k] == 0;
        if (!zero || c.kind > ES_RING_VALUE_BYTES || (c.kind != ES_RING_VALUE_BYTES && c.value_len))
            return bad(why, whylen, "column header with undefined bits", c.kind);
        if (c.name_len > ES_MAX_NAME_TEXT || c.value_len > ES_MAX_COLUMN_TEXT)
            return bad(why, whylen, "column text longer than its limit",
                       c.name_len > ES_MAX_NAME_TEXT ? c.name_len : c.value_len);
        if ((size_t)c.name_len + c.value_len > size - at)
            return bad(why, whylen, "column text past the end of its record", c.name_len + c.value_len);
        Es__Column *col = &sc->columns[i];
        es__column__init(col);
        col->type = c.type;
        col->name = bytes_at(p + at, c.name_len);
        at += c.name_len;
        switch (c.kind) {
        case ES_RING_VALUE_UNSIGNED:
            col->has_unsigned_value = true;
            col->unsigned_value = c.value;
            break;
        case ES_RING_VALUE_SIGNED:
            col->has_signed_value = true;
            memcpy(&col->signed_value, &c.value, sizeof c.value);
            break;
        case ES_RING_VALUE_DOUBLE:
            col->has_double_value = true;
            memcpy(&col->double_value, &c.value, sizeof c.value);
            break;
        case ES_RING_VALUE_BYTES:
            col->has_bytes_value = true;
            col->bytes_value = bytes_at(p + at, c.value_len);
            at += c.value_len;
            break;
        default:
            break;
        }
        sc->column_ptrs[i] = col;
    }
    if (at != size)
        return bad(why, whylen, "record longer than its contents", size);
    ev->n_columns = h.n_columns;
    ev->columns = sc->column_ptrs;
    return 0;
}

int es_ring_reader_next(struct es_ring_reader *r, uint64_t head, struct es_ring_scratch *scratch,
                        const Es__Event **event, char *why, size_t whylen)
{
    if (!r->hdr || head == r->tail)
        return 0;
    uint64_t available = head - r->tail;   /* checked by es_ring_reader_head */
    uint32_t size;
    /* The tail is a multiple of 8 and so is the capacity: the size word
     * never straddles the end. */
    memcpy(&size, r->data + (r->tail & (CAPACITY - 1)), sizeof size);
    if (size < sizeof(struct es_ring_event) || size > ES_EVENT_RING_MAX_RECORD || aligned(size) > available)
        return bad(why, whylen, "record size out of bounds", size);
    copy_out(r, r->tail, scratch->record, size);
    if (parse(scratch, size, why, whylen) != 0)
        return -1;
    r->tail += aligned(size);
    *event = &scratch->event;
    return 1;
}

void es_ring_reader_release(struct es_ring_reader *r)
{
    if (!r->hdr || r->published == r->tail)
        return;
    r->published = r->tail;
    atomic_store_explicit(SHARED(r, tail), r->tail, memory_order_release);
    /* Pairs with the worker's fence between setting worker_waiting and
     * reading tail again. */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(SHARED(r, worker_waiting), memory_order_relaxed)) {
        atomic_store_explicit(SHARED(r, worker_waiting), 0, memory_order_relaxed);
        syscall(SYS_futex, (uint32_t *)&r->hdr->tail + (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__),
                FUTEX_WAKE, 1, NULL, NULL, 0);
    }
}

bool es_ring_reader_sleep(struct es_ring_reader *r)
{
    if (!r->hdr)
        return true;
    atomic_store_explicit(SHARED(r, broker_sleeping), 1, memory_order_seq_cst);
    atomic_thread_fence(memory_order_seq_cst);
    uint64_t head = atomic_load_explicit(SHARED(r, head), memory_order_acquire);
    if (head == r->tail)
        return true;
    /* Something came in (or the head is garbage: the next read says so). */
    atomic_store_explicit(SHARED(r, broker_sleeping), 0, memory_order_relaxed);
    return false;
}
