/*
 * heapseg.h - layout of the per-worker heap segment.
 *
 * The broker creates a memfd of --memory bytes (rounded up to a page) plus
 * the event ring (proto/event_ring.h), seals it against shrinking and
 * growing, and maps only its first page and the ring.  The worker maps the
 * whole segment read-write:
 *
 *   [0, ES_HEAP_CONTROL_SIZE)              the control block below
 *   [ES_HEAP_CONTROL_SIZE, arena_end)      the allocator's arena (the quota)
 *   [event_ring_offset, +ES_EVENT_RING_AREA) the event ring, outside the quota
 *
 * Trust: the worker can write every byte of the segment.  The broker writes
 * `terminate` and the layout fields (before the worker starts; it never
 * reads them back), and reads the counters for reports only, copying them
 * first and clamping them after.  It never reads allocator metadata, and
 * reads the ring only as untrusted input.
 */
#ifndef ES_HEAPSEG_H
#define ES_HEAPSEG_H

#include <stdint.h>

#define ES_HEAP_MAGIC 0x50414548u   /* "HEAP" */
#define ES_HEAP_CONTROL_SIZE 4096u
#define ES_HEAP_MIN_SIZE (64u * 1024u)

struct es_heap_control {
    uint32_t magic;              /* broker */
    uint32_t version;            /* broker: ES_PROTOCOL_VERSION */
    uint32_t terminate;          /* broker sets 1: helpers return NMERR_EXPERT_TERMINATE */
    uint32_t reserved;
    /* Written by the worker's helpers; for reports only. */
    uint64_t frames_read;        /* frames returned by ExpertGetFrame */
    uint64_t last_frame;         /* 0-based number of the last one, or UINT64_MAX */
    uint64_t bytes_in_use;       /* sum of live block sizes */
    uint64_t blocks_in_use;
    uint64_t peak_bytes;
    uint64_t helper_calls;       /* every Expert* call, counted from 1: fault sites */
    uint64_t alloc_calls;        /* ExpertAllocMemory and ExpertReallocMemory calls */
    uint64_t alloc_failures;
    /* Written by the worker's fatal-signal handler just before it dies; the
     * broker uses the address only where it lacks the kernel's own (no PID
     * namespace, so no init to see the fault) and only if the signal
     * matches the one the kernel reported. */
    uint32_t crash_signal;
    uint32_t crash_code;         /* si_code */
    uint64_t crash_address;      /* si_addr, for SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP */
    /* Written by the broker before the worker starts: the layout. */
    uint64_t arena_end;          /* the quota: the arena is [ES_HEAP_CONTROL_SIZE, arena_end) */
    uint64_t event_ring_offset;  /* page-aligned, >= arena_end; ES_EVENT_RING_AREA bytes */
};

_Static_assert(sizeof(struct es_heap_control) <= ES_HEAP_CONTROL_SIZE, "control block fits its page");
/* tests/experts/hostile/ring_layout.h spells this out, as an attacker would. */
_Static_assert(__builtin_offsetof(struct es_heap_control, event_ring_offset) == 104, "ring offset word");
/* tests/experts/hostile/heap_layout.h spells this out too. */
_Static_assert(__builtin_offsetof(struct es_heap_control, crash_signal) == 80, "crash record");

#endif
