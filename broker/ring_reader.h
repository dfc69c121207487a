/*
 * ring_reader.h - the broker's end of a worker's event ring
 * (proto/event_ring.h): hostile input, read with bounds.
 *
 * Every index and length the worker wrote is checked before it is used;
 * a record is copied out of the shared mapping before it is parsed, so the
 * worker cannot change it under the parser; a ring that breaks a rule is
 * reported once and never read again.
 */
#ifndef ES_RING_READER_H
#define ES_RING_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event_ring.h"
#include "expert.pb-c.h"

struct es_ring_reader {
    struct es_event_ring_header *hdr;   /* shared with the worker; NULL: no ring */
    const uint8_t *data;
    uint64_t tail;                       /* the broker's own: never read back */
    uint64_t published;                  /* the tail last stored for the worker */
};

/* Where a record is copied and parsed: one per broker, reused. */
struct es_ring_scratch {
    _Alignas(8) uint8_t record[ES_EVENT_RING_MAX_RECORD];
    Es__Event event;
    Es__SystemTime time;
    Es__Column columns[UINT8_MAX];
    Es__Column *column_ptrs[UINT8_MAX];
};

void es_ring_reader_init(struct es_ring_reader *r, struct es_event_ring_header *hdr);

/* The worker's head, checked: 0, or -1 with a reason (a head that is not
 * on a record boundary, behind the tail, or more than the capacity ahead). */
int es_ring_reader_head(struct es_ring_reader *r, uint64_t *head, char *why, size_t whylen);

/* The next record before `head`: 1 with *event (valid until the next call
 * with the same scratch), 0 when the tail has reached `head`, -1 with a
 * reason when the record breaks a rule (proto/event_ring.h). */
int es_ring_reader_next(struct es_ring_reader *r, uint64_t head, struct es_ring_scratch *scratch,
                        const Es__Event **event, char *why, size_t whylen);

/* Gives the space read so far back to the worker, and wakes it if it waits
 * for room. */
void es_ring_reader_release(struct es_ring_reader *r);

/* Before the broker sleeps: says so to the worker, then looks once more.
 * True if the ring is empty (the worker will send EventsPending with its
 * next record); false if a record came in meanwhile (read it first). */
bool es_ring_reader_sleep(struct es_ring_reader *r);

#endif
