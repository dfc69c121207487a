/*
 * heap_layout.h - what the heap-scribbling experts know about the heap
 * segment, the way an attacker who read the host's source would know it.
 * The API does not expose any of this; the attacks are meant to hit the
 * allocator's own metadata, so they have to find it.
 *
 * The segment is one shared mapping: a 4096-byte control page (its first
 * words are the magic "HEAP" and the protocol version), then the allocator's
 * region, which starts with the allocator's control structure and then the
 * blocks.  Blocks are handed out lowest address first from a fresh heap.
 */
#ifndef HOSTILE_HEAP_LAYOUT_H
#define HOSTILE_HEAP_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "netmon.h"

#define SEGMENT_MAGIC 0x50414548u   /* proto/heapseg.h: ES_HEAP_MAGIC */
#define SEGMENT_VERSION 3u          /* proto/wire.h: ES_PROTOCOL_VERSION */
#define CONTROL_PAGE 4096u          /* proto/heapseg.h: ES_HEAP_CONTROL_SIZE */
#define PROBE_BLOCK 4096u
/* proto/heapseg.h: offsetof(struct es_heap_control, crash_signal); then
 * crash_code (4 bytes) and crash_address (8). */
#define CRASH_RECORD_OFFSET 80u

struct heap_segment {
    unsigned char *start;          /* the control page */
    unsigned char *region;         /* the allocator's region, after the control page */
    unsigned char *end;            /* end of the highest block the heap would give */
    unsigned char *first_block;    /* the lowest block: the allocator's metadata is below it */
};

/*
 * Finds the segment from its first block, and its end by taking blocks
 * until the quota says no (the blocks are left allocated: the scribble is
 * about to destroy them anyway).  The control page lies a few pages below
 * the first block, and every page in between belongs to the segment, so
 * the downward scan reads nothing that is not mapped.
 */
static inline bool find_heap_segment(HEXPERTKEY key, struct heap_segment *seg)
{
    unsigned char *first = ExpertAllocMemory(key, PROBE_BLOCK, NULL);
    if (!first)
        return false;
    seg->first_block = first;
    seg->start = NULL;
    uintptr_t page = (uintptr_t)first & ~(uintptr_t)(CONTROL_PAGE - 1);
    for (int i = 0; i < 16 && !seg->start; i++, page -= CONTROL_PAGE) {
        const volatile uint32_t *words = (const volatile uint32_t *)page;
        if (words[0] == SEGMENT_MAGIC && words[1] == SEGMENT_VERSION)
            seg->start = (unsigned char *)page;
    }
    if (!seg->start)
        return false;
    seg->region = seg->start + CONTROL_PAGE;
    seg->end = first + PROBE_BLOCK;
    /* Whole probe blocks first, then ever smaller ones for the tail, so
     * that `end` is the end of the last byte the heap can hand out. */
    for (SIZE_T size = PROBE_BLOCK;; size /= 2) {
        unsigned char *block;
        while ((block = ExpertAllocMemory(key, size, NULL)) != NULL)
            if (block + size > seg->end)
                seg->end = block + size;
        if (size == 0)
            break;
    }
    return true;
}

/* Whether [p, p + n) lies inside the allocator's region: the one promise a
 * scribbled heap must still keep for whatever it hands out. */
static inline bool inside_region(const struct heap_segment *seg, const void *p, size_t n)
{
    const unsigned char *b = p;
    return b >= seg->region && b <= seg->end && n <= (size_t)(seg->end - b);
}

/* xorshift64: garbage that is not all one byte. */
static inline uint64_t next_garbage(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

static inline void fill_garbage(unsigned char *from, unsigned char *to, uint64_t seed)
{
    uint64_t state = seed;
    for (unsigned char *p = from; p < to; p += sizeof(uint64_t)) {
        uint64_t word = next_garbage(&state);
        memcpy(p, &word, (size_t)(to - p) < sizeof word ? (size_t)(to - p) : sizeof word);
    }
}

/*
 * Calls every memory helper many times on a scribbled heap, with fresh
 * sizes, the old blocks and NULL.  Returns false (after saying why) if a
 * helper returned memory outside the region, or claimed success with
 * nothing to show for it; crashing is the other way to fail.
 */
static inline bool hammer_helpers(HEXPERTKEY key, const struct heap_segment *seg, unsigned *refusals)
{
    static const SIZE_T sizes[] = {0, 1, 16, 17, 100, 512, 4096, 65536, 1u << 20, 1u << 30};
    LPVOID old_blocks[] = {seg->first_block, seg->first_block + PROBE_BLOCK, seg->end - PROBE_BLOCK};
    *refusals = 0;
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
            DWORD error = NMERR_SUCCESS;
            LPVOID p = ExpertAllocMemory(key, sizes[i], &error);
            if (p && !inside_region(seg, p, sizes[i]))
                return hostile_fail("ExpertAllocMemory(%zu) returned %p outside the heap [%p, %p)",
                                    (size_t)sizes[i], p, (void *)seg->region, (void *)seg->end);
            if (!p && error == NMERR_SUCCESS)
                return hostile_fail("ExpertAllocMemory returned NULL with NMERR_SUCCESS");
            if (!p)
                ++*refusals;
            LPVOID old = old_blocks[(size_t)round % (sizeof old_blocks / sizeof *old_blocks)];
            error = NMERR_SUCCESS;
            LPVOID moved = ExpertReallocMemory(key, old, sizes[i], &error);
            if (moved && !inside_region(seg, moved, sizes[i]))
                return hostile_fail("ExpertReallocMemory returned %p outside the heap", moved);
            if (!moved && error == NMERR_SUCCESS)
                return hostile_fail("ExpertReallocMemory returned NULL with NMERR_SUCCESS");
            SIZE_T size = ExpertMemorySize(key, old);
            if (size != 0 && !inside_region(seg, old, size))
                return hostile_fail("ExpertMemorySize claims %zu bytes at %p", (size_t)size, old);
            ExpertFreeMemory(key, p);
            ExpertFreeMemory(key, old);
        }
    }
    return true;
}

#endif
