/*
 * ring_writer.h - the worker's end of the event ring (proto/event_ring.h):
 * records are written into shared memory the broker owns, with no system
 * call unless the broker sleeps or the ring is full.
 */
#ifndef ES_RING_WRITER_H
#define ES_RING_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* `area` is the ring's header page inside the mapped heap segment; wakes go
 * out on `control_fd`.  False if the broker did not set the ring up. */
bool es_event_ring_attach(void *area, int control_fd);

/* Starts a record of `size` bytes (at most ES_EVENT_RING_MAX_RECORD),
 * waiting while the ring is full.  Holds the ring until es_event_ring_commit.
 * False if the ring is not attached or the broker is gone. */
bool es_event_ring_begin(uint32_t size);

/* Appends bytes to the record being written. */
void es_event_ring_put(const void *bytes, size_t len);

/* Publishes the record and wakes the broker if it sleeps.  False if the
 * broker is gone (the record may then never be read). */
bool es_event_ring_commit(void);

#endif
