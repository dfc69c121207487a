/*
 * ring_layout.h - what the ring-corrupting experts know about the event
 * ring, the way an attacker who read the host's source would know it
 * (proto/event_ring.h, proto/heapseg.h; the API exposes none of it).
 *
 * The ring lies in the heap segment after the expert's quota; the control
 * page says where (its event_ring_offset word).  The ring's header page
 * holds the worker's head and the broker's published tail, free-running
 * byte counters; the data follows the header page.  Each record starts
 * with its size (32 bits) and records start on multiples of 8.
 */
#ifndef HOSTILE_RING_LAYOUT_H
#define HOSTILE_RING_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "heap_layout.h"

#define CONTROL_RING_OFFSET 104u     /* offsetof(struct es_heap_control, event_ring_offset) */
#define RING_HEADER 4096u            /* ES_EVENT_RING_HEADER */
#define RING_CAPACITY (1u << 20)     /* ES_EVENT_RING_CAPACITY */
#define RING_HEAD_AT 64u             /* offsetof(struct es_event_ring_header, head) */
#define RING_TAIL_AT 128u            /* offsetof(struct es_event_ring_header, tail) */

struct hostile_ring {
    volatile uint64_t *head;
    volatile uint64_t *tail;
    unsigned char *data;
};

/* Finds the control page below a fresh block (as find_heap_segment does,
 * without taking the whole heap), then the ring from it. */
static inline bool find_event_ring(HEXPERTKEY key, struct hostile_ring *ring)
{
    unsigned char *first = ExpertAllocMemory(key, PROBE_BLOCK, NULL);
    if (!first)
        return false;
    unsigned char *start = NULL;
    uintptr_t page = (uintptr_t)first & ~(uintptr_t)(CONTROL_PAGE - 1);
    for (int i = 0; i < 16 && !start; i++, page -= CONTROL_PAGE) {
        const volatile uint32_t *words = (const volatile uint32_t *)page;
        if (words[0] == SEGMENT_MAGIC && words[1] == SEGMENT_VERSION)
            start = (unsigned char *)page;
    }
    if (!start)
        return false;
    uint64_t offset = *(const volatile uint64_t *)(start + CONTROL_RING_OFFSET);
    unsigned char *header = start + offset;
    ring->head = (volatile uint64_t *)(header + RING_HEAD_AT);
    ring->tail = (volatile uint64_t *)(header + RING_TAIL_AT);
    ring->data = header + RING_HEADER;
    return true;
}

/* What every ring attack starts with: the ring found, and `valid` honest
 * events in it that the broker must deliver whatever comes after.  NULL,
 * or why the attack cannot be made. */
static inline const char *begin_ring_attack(HEXPERTKEY key, struct hostile_ring *ring, DWORD valid)
{
    if (!find_event_ring(key, ring))
        return "cannot find the event ring";
    DWORD failed_at;
    if (submit_numbered_events(key, "Ring attack", "Valid", 1, valid, &failed_at) != NMERR_SUCCESS)
        return "the valid events were refused";
    return NULL;
}

/* Writes bytes into the ring at byte counter `at`, around the end. */
static inline void ring_write(struct hostile_ring *ring, uint64_t at, const void *bytes, size_t len)
{
    const unsigned char *from = bytes;
    for (size_t i = 0; i < len; i++)
        ring->data[(at + i) & (RING_CAPACITY - 1)] = from[i];
}

/* Makes the broker look at the ring now: it drains the ring before it
 * handles any datagram, and a status is a datagram. */
static inline void poke_broker(HEXPERTKEY key)
{
    ExpertIndicateStatus(key, EXPERTSTATUS_RUNNING, 0, "poke", 50);
}

#endif
