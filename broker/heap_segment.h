/*
 * heap_segment.h - the broker's side of a worker's heap segment.
 */
#ifndef ES_HEAP_SEGMENT_H
#define ES_HEAP_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "event_ring.h"
#include "heapseg.h"

struct es_heapseg {
    int fd;                            /* sealed memfd, handed to the worker */
    uint64_t size;                     /* the whole segment, ring included */
    struct es_heap_control *control;   /* the broker maps only this page */
    struct es_event_ring_header *ring; /* ... and the event ring (ES_EVENT_RING_AREA) */
};

/* Creates a memfd for a quota of `quota` bytes (control page and arena),
 * plus the event ring on the next page boundary, sealed against shrinking,
 * growing and further sealing before any worker exists, and maps its
 * control page and its ring.
 * Returns 0, or -1 with errno set and seg left closed. */
int es_heapseg_create(struct es_heapseg *seg, uint64_t size);

/* Asks the worker's helpers to return NMERR_EXPERT_TERMINATE from now on. */
void es_heapseg_request_terminate(struct es_heapseg *seg);

/* A copy of the control block as the worker left it; for reports only. */
void es_heapseg_read_counters(const struct es_heapseg *seg, struct es_heap_control *copy);

/* Drops the segment: the kernel frees every page of it at once. */
void es_heapseg_destroy(struct es_heapseg *seg);

#endif
