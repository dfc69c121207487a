/*
 * heap.h - the expert's allocator: a TLSF (two-level segregated fit) heap
 * over a caller-given region.
 *
 * Every operation is O(1) and makes no system call: the region is the
 * broker-owned heap segment, already mapped.  The allocator keeps its
 * metadata inside the region, so when the worker ends the broker drops the
 * segment whole and nothing is walked or freed block by block; only the
 * bounds it checks everything against live in the caller's handle.
 *
 * The metadata in the region is as exposed as the expert's own data: an
 * expert can scribble over it.  The allocator checks what it can cheaply (block tags, bounds,
 * neighbour links) and reports corruption as an error rather than following a
 * wild pointer outside the region; it never touches memory outside it.
 */
#ifndef ES_HEAP_H
#define ES_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ES_HEAP_ALIGN 16u

/* The live counters es_heap_stats reports.  Like the heap's metadata they
 * sit where the expert can overwrite them (in the region, or wherever the
 * caller asked): figures to report, bounded by whoever reads them, never
 * trusted for a bound. */
struct es_heap_counters {
    uint64_t bytes_in_use;      /* sum of requested sizes of live blocks */
    uint64_t blocks_in_use;
    uint64_t peak_bytes;
};

/* The caller's handle on a heap, in the caller's own memory (not in the
 * region): the bounds es_heap_init checked and the fresh mark, which every
 * call uses without re-validating them, so that no write into the region,
 * however wild, can make the heap believe a larger arena or a lower fresh
 * mark.  Opaque: only heap.c reads or writes its fields. */
struct es_heap {
    unsigned char *base;        /* the region */
    uint64_t end;               /* arena end, as an offset from base */
    uint64_t fresh;             /* heap.c, "Zero-filling" */
    uint64_t cache_cap;         /* bytes the small-block caches may hold */
    struct es_heap_counters *counters;
    bool corrupt;               /* latched on the first inconsistency */
};

enum es_heap_status {
    ES_HEAP_OK = 0,
    ES_HEAP_NO_MEMORY,    /* no free block large enough */
    ES_HEAP_BAD_POINTER,  /* not a live block of this heap (foreign, double free) */
    ES_HEAP_CORRUPT,      /* metadata found inconsistent; the heap refuses further work */
    ES_HEAP_TOO_LARGE,    /* request above what any region could hold */
};

struct es_heap_stats {
    size_t bytes_in_use;    /* sum of requested sizes of live blocks */
    size_t blocks_in_use;
    size_t peak_bytes;
    size_t cached_bytes;    /* freed small blocks held for reuse (not in use) */
    size_t arena_size;      /* bytes usable for blocks and their headers */
};

/* Lays a heap over [region, region + size) and fills in *heap, which the
 * caller keeps (outside the region) and passes to every call; returns heap,
 * or NULL if region is not 16-aligned or size is below es_heap_min_region().
 * counters, if not NULL, is where the heap keeps its live counters (so that
 * a caller that publishes them needs no copy: nmapi points it at the
 * broker's control block); NULL keeps them in the region.
 * The region must read as zero (a fresh memfd or anonymous mapping): blocks
 * carved from memory no block ever used are not cleared again, so handing
 * out a large block does not fault in its pages.  Only the control
 * structure, the first block's header and the arena's last word (and the
 * handle and counters) are written here.  Everything else the heap keeps is
 * in the region, as offsets; a region above 2^48 bytes uses the first 2^48.
 * The handle must not be copied while the heap is in use (a copy would keep
 * an old fresh mark). */
struct es_heap *es_heap_init(struct es_heap *heap, void *region, size_t size,
                             struct es_heap_counters *counters);
size_t es_heap_min_region(void);

/* Allocates n bytes, zero-filled, 16-aligned.  n == 0 gives a unique block.
 * status may be NULL here and in es_heap_realloc. */
void *es_heap_alloc(struct es_heap *h, size_t n, enum es_heap_status *status);

/* realloc semantics: NULL p allocates; contents kept up to min(old, n); grown
 * bytes zero-filled; grows in place when the next block is free; on failure
 * p is left untouched and NULL is returned. */
void *es_heap_realloc(struct es_heap *h, void *p, size_t n, enum es_heap_status *status);

/* Frees p (NULL is fine).  Detects double frees and pointers that are not
 * block starts of this heap.  A block of up to 1 KiB may be kept in a cache
 * for the next allocation of its size rather than merged at once (heap.c,
 * "Small-block cache"); it counts as freed in the statistics. */
enum es_heap_status es_heap_free(struct es_heap *h, void *p);

/* Size as last requested for the live block p; 0 if p is not one (or the
 * heap is corrupt). */
size_t es_heap_block_size(const struct es_heap *h, const void *p);

void es_heap_stats(const struct es_heap *h, struct es_heap_stats *out);

/* Where the heap keeps its live counters (fixed for the heap's life). */
const struct es_heap_counters *es_heap_counters(const struct es_heap *h);

/* Walks every block and checks every invariant (for tests; O(n)).  Safe on
 * a scribbled heap: it returns false, it never leaves the region. */
bool es_heap_check(const struct es_heap *h);

#endif
