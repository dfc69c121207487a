/*
 * heap.c - TLSF (two-level segregated fit) allocator over a caller-given
 * region whose every byte the expert can overwrite.
 *
 * Layout of the region:
 *
 *   [struct es_heap][block][block]...[block]
 *   ^ region         ^ arena_begin         ^ arena_end (region size rounded
 *                                            down to 16)
 *
 * Every block starts with a 16-byte header:
 *
 *   word 0  size_word: bits 0-3 flags (USED, PREV_USED), bits 4-47 the
 *           physical block size (header included, a multiple of 16),
 *           bits 48-63 a tag hashed from the block's offset and bits 0-47.
 *   word 1  used block: the size the caller asked for;
 *           free block: offset of the previous block in its free list.
 *
 * A free block also keeps the offset of the next block in its free list in
 * its first payload word and its size in its last word (the footer), which
 * is how a block being freed finds its free physical predecessor.  So the
 * smallest block is 32 bytes and a used block costs 16 bytes of overhead,
 * which the 16-byte alignment would cost anyway.
 *
 * All links are offsets from the region start, never pointers, and all of
 * them are checked before use: bounds and alignment always; for a header
 * that is acted on, its tag (which depends on the block's own offset, so a
 * header copied elsewhere does not validate), free/used state, size class
 * and slack; for free-list neighbours, that they link back.  Whatever the
 * bytes say, no read or write leaves [region, region + size): offsets are
 * bounded by the arena end and the fresh mark, which are not in the region
 * at all but in the caller's handle (struct es_heap, heap.h), written only
 * by this file from values it checked, so no call re-validates them and no
 * scribble into the region can move them.  The region's control structure
 * keeps a magic word, checked on the general paths, so a destroyed control
 * structure stops the heap.  Loops exist only in es_heap_check, which is
 * bounded by the number of blocks.  An inconsistency latches `corrupt` (in
 * the handle), after which every call fails fast.
 *
 * Fast paths: an allocation that the cache satisfies and a free into the
 * cache (es_heap_alloc, es_heap_free) run straight-line code making the
 * same checks as the general path for that one case, and hand anything
 * else, including every inconsistency, to the general path, which checks
 * it again and reports it.
 *
 * Small-block cache: a freed block of at most CACHE_MAX_BLOCK bytes does not
 * go back to the TLSF at once.  It stays physically used (its neighbours
 * still see USED, so nothing merges with it), gets the CACHED flag in its
 * header (so a second free of it, or a realloc, is refused like a free of a
 * free block), and is pushed on a LIFO list per exact block size, linked
 * through header word 1.  An allocation of that size pops it: no split, no
 * merge, no neighbour validation.  The lists live in the region, so a popped
 * entry is validated like any header (bounds, alignment, tag, flags USED and
 * CACHED, exact class size, below the fresh mark) and popping rewrites its
 * header without CACHED: a list made to point at a live block, a free block,
 * a block of another class, at garbage or back at a block already popped
 * (a cycle) is caught as corruption, never handed out.  The lists hold at
 * most cache_cap() bytes.  Every list is flushed into the TLSF (released and
 * merged as an ordinary free) when the TLSF cannot satisfy a request, so
 * cached blocks never make an allocation fail that the same heap without a
 * cache would satisfy, and also before the TLSF carves a block from above
 * the fresh mark (grows the heap's footprint) when the heap has grown by as
 * much as the caches hold since they were last flushed, or when the growth
 * would take the footprint past CACHE_FOOTPRINT_FACTOR times the peak of
 * live requested bytes: cached blocks pin their places and keep free neighbours from
 * merging, and without that flush a workload of many sizes grows its
 * footprint (bench, mixed: 3.6x the live bytes in a short run, 5.9x in a
 * long one, against 1.7x for the TLSF alone; 2.0x with it), while one that
 * reuses a few sizes keeps its caches.  Cached blocks count
 * as free in the statistics (bytes and blocks in use); their bytes are
 * reported apart, as cached_bytes.  A free into the cache does not look at
 * the block's neighbours: an overflow into the next header is found when
 * that block is freed, popped or flushed, not when this one is freed.
 *
 * Zero-filling: the region starts as zeroes (a fresh memfd).  The fresh mark
 * the lowest offset above which no block was ever handed out; above it only
 * the allocator's own metadata can be non-zero, and only in two places: the
 * first FRESH_DIRTY bytes (the header and next link of the free block that
 * starts at or spans `fresh`) and the last footer word of the arena.  Memory
 * above `fresh` therefore need not be cleared, which keeps a large fresh
 * allocation from faulting in (and charging the quota for) every page.
 */
#include "heap.h"

#include <string.h>

enum {
    GRANULE_LOG2 = 4,
    GRANULE = 1 << GRANULE_LOG2,           /* 16: alignment and size unit */
    HEADER_SIZE = 16,
    MIN_BLOCK = 32,                        /* header + next link + footer */
    SL_LOG2 = 5,
    SL_COUNT = 1 << SL_LOG2,               /* second-level lists per first level */
    SMALL_LIMIT_LOG2 = SL_LOG2 + GRANULE_LOG2,
    SIZE_BITS = 48,
    /* First level 0 holds the small sizes (below 512, one list per 16
     * bytes); levels 1.. hold sizes with log2 9 .. SIZE_BITS-1. */
    FL_COUNT = SIZE_BITS - SMALL_LIMIT_LOG2 + 1,
    /* A used block is never more than this much larger than the request
     * plus its header (the allocator splits off any remainder of
     * MIN_BLOCK or more); checked as part of header validation. */
    MAX_SLACK = 48,
    FRESH_DIRTY = 32,
    /* Cached block sizes: 32 .. 1040 (requests up to 1 KiB), one list per
     * granule. */
    CACHE_MAX_BLOCK = 1040,
    CACHE_CLASSES = CACHE_MAX_BLOCK / GRANULE - 1,
    /* The caches never hold more than this, nor more than an eighth of the
     * arena: enough for tens of thousands of small blocks, little enough
     * that what they keep out of the TLSF does not fragment it much. */
    CACHE_CAP_LIMIT = 4 << 20,
    /* While the caches hold blocks, the heap does not grow past this many
     * times the peak of live requested bytes without flushing them first. */
    CACHE_FOOTPRINT_FACTOR = 2,
};

#define SMALL_LIMIT ((uint64_t)1 << SMALL_LIMIT_LOG2)
#define FLAG_USED ((uint64_t)1)
#define FLAG_PREV_USED ((uint64_t)2)
#define FLAG_CACHED ((uint64_t)4)          /* only with FLAG_USED */
#define FLAG_MASK ((uint64_t)15)
#define LOW_MASK (((uint64_t)1 << SIZE_BITS) - 1)
#define SIZE_MASK (LOW_MASK & ~FLAG_MASK)
/* Largest arena: block sizes must fit the 48-bit size field. */
#define MAX_ARENA (((uint64_t)1 << SIZE_BITS) - GRANULE)
/* Above this no region could ever hold the request: TOO_LARGE, and every
 * size computation below stays far from overflow. */
#define MAX_REQUEST (MAX_ARENA - 4 * (uint64_t)GRANULE)
#define FL_VALID_MASK (((uint64_t)1 << FL_COUNT) - 1)

#define HEAP_MAGIC UINT64_C(0x31504145485f5345)  /* "ES_HEAP1" */

struct control {
    /* Written by es_heap_init; checked on every call that does not take a
     * fast path, so that a control structure destroyed by a scribble stops
     * the heap.  The bounds are not here: they are in the caller's handle. */
    uint64_t magic;

    /* Mutable state; each field is checked when used. */
    struct es_heap_counters counters;   /* unless the caller gave a place */
    uint64_t fl_bitmap;
    uint32_t sl_bitmap[FL_COUNT];
    uint64_t heads[FL_COUNT][SL_COUNT];  /* 0: empty list */
    uint64_t cached_bytes;      /* sum of block sizes on the cache lists */
    uint64_t flush_mark;        /* the fresh mark at the last cache flush */
    uint64_t cache_heads[CACHE_CLASSES]; /* 0: empty list */
};

#define CONTROL_SIZE ((sizeof(struct control) + GRANULE - 1) & ~(size_t)(GRANULE - 1))
/* cache_pop subtracts a cached size from the fresh mark, which is never
 * below the arena's start. */
_Static_assert(CONTROL_SIZE > CACHE_MAX_BLOCK, "control structure smaller than a cached block");
_Static_assert(CONTROL_SIZE > MIN_BLOCK, "es_heap_free's bound would wrap");

/* A validated view of the heap, taken once per call so that the bounds used
 * for every check come from checked values, not from re-reading the region. */
struct view {
    struct es_heap *heap;       /* the caller's handle */
    struct control *c;          /* at base */
    unsigned char *base;
    uint64_t begin;
    uint64_t end;
    uint64_t fresh;
};

/* A block header as read and validated. */
struct block {
    uint64_t off;
    uint64_t size;
    uint64_t flags;
    uint64_t aux;               /* requested size, or previous free link */
};

/* Metadata words are loaded and stored exactly once each, so that a value
 * that was validated is the value used even if the expert writes the word
 * again in between (relaxed atomics cost nothing extra on the targets). */
static inline uint64_t load_word(const struct view *v, uint64_t off)
{
    return __atomic_load_n((const uint64_t *)(const void *)(v->base + off), __ATOMIC_RELAXED);
}

static inline void store_word(const struct view *v, uint64_t off, uint64_t value)
{
    __atomic_store_n((uint64_t *)(void *)(v->base + off), value, __ATOMIC_RELAXED);
}

static inline uint64_t load_field(const uint64_t *field)
{
    return __atomic_load_n(field, __ATOMIC_RELAXED);
}

static inline void store_field(uint64_t *field, uint64_t value)
{
    __atomic_store_n(field, value, __ATOMIC_RELAXED);
}

/* The tag only has to make garbage, and a header copied to another offset,
 * fail validation with high probability; it is on every path, so it is two
 * independent multiplies rather than a full mixing function. */
static inline uint64_t offset_mix(uint64_t off)
{
    return (off ^ UINT64_C(0x6a09e667f3bcc908)) * UINT64_C(0xbf58476d1ce4e5b9);
}

/* The tag of a header at the offset whose offset_mix is mix: the fast paths
 * mix the offset once for the check and the rewrite. */
static inline uint64_t tag_of(uint64_t low_bits, uint64_t mix)
{
    return (low_bits * UINT64_C(0x9e3779b97f4a7c15) + mix) >> SIZE_BITS;
}

static inline uint64_t header_tag(uint64_t off, uint64_t low_bits)
{
    return tag_of(low_bits, offset_mix(off));
}

static inline uint64_t make_size_word(uint64_t off, uint64_t size, uint64_t flags)
{
    uint64_t low_bits = size | flags;
    return low_bits | header_tag(off, low_bits) << SIZE_BITS;
}

static inline uint64_t round_up_granule(uint64_t n)
{
    return (n + GRANULE - 1) & ~(uint64_t)(GRANULE - 1);
}

/* Physical block size for a request of n <= MAX_REQUEST bytes. */
static inline uint64_t block_need(uint64_t n)
{
    uint64_t payload = round_up_granule(n);
    if (payload < MIN_BLOCK - HEADER_SIZE)
        payload = MIN_BLOCK - HEADER_SIZE;
    return HEADER_SIZE + payload;
}

/* TLSF mapping of a block size (>= MIN_BLOCK, < 2^SIZE_BITS) to its list. */
static inline void size_class(uint64_t size, unsigned *fl, unsigned *sl)
{
    if (size < SMALL_LIMIT) {
        *fl = 0;
        *sl = (unsigned)(size >> GRANULE_LOG2);
    } else {
        unsigned log2 = 63u - (unsigned)__builtin_clzll(size);
        *fl = log2 - (SMALL_LIMIT_LOG2 - 1);
        *sl = (unsigned)(size >> (log2 - SL_LOG2)) ^ SL_COUNT;
    }
}

/* ---- Entry checks -------------------------------------------------------- */

/* The view of a heap: its bounds and fresh mark come from the caller's
 * handle, which es_heap_init filled from checked values and which only this
 * file writes, so nothing here re-validates them.  False if the region's
 * control structure no longer carries its magic (destroyed by a scribble). */
static inline bool view_of(const struct es_heap *heap, struct view *v)
{
    if (heap == NULL || heap->base == NULL)
        return false;
    v->heap = (struct es_heap *)(uintptr_t)heap;
    v->base = heap->base;
    v->c = (struct control *)(void *)heap->base;
    v->begin = CONTROL_SIZE;
    v->end = heap->end;
    v->fresh = heap->fresh;
    return load_field(&v->c->magic) == HEAP_MAGIC;
}

static enum es_heap_status latch_corrupt(const struct view *v)
{
    v->heap->corrupt = true;
    return ES_HEAP_CORRUPT;
}

/* Validates the control structure for a mutating call. */
static inline __attribute__((always_inline)) enum es_heap_status enter(struct es_heap *heap, struct view *v)
{
    if (heap == NULL || heap->base == NULL || heap->corrupt)
        return ES_HEAP_CORRUPT;
    if (!view_of(heap, v))
        return latch_corrupt(v);
    return ES_HEAP_OK;
}

/* ---- Blocks -------------------------------------------------------------- */

/* Reads the header at off and checks everything it can say about itself. */
static bool read_block(const struct view *v, uint64_t off, struct block *out)
{
    if (off < v->begin || off > v->end - MIN_BLOCK || (off & (GRANULE - 1)) != 0)
        return false;
    uint64_t word = load_word(v, off);
    uint64_t low_bits = word & LOW_MASK;
    if (word >> SIZE_BITS != header_tag(off, low_bits))
        return false;
    uint64_t size = low_bits & SIZE_MASK;
    uint64_t flags = low_bits & FLAG_MASK;
    if ((flags & ~(FLAG_USED | FLAG_PREV_USED | FLAG_CACHED)) != 0 || size < MIN_BLOCK ||
        size > v->end - off)
        return false;
    out->off = off;
    out->size = size;
    out->flags = flags;
    out->aux = load_word(v, off + 8);
    if (flags & FLAG_CACHED) {
        /* word 1 is a cache link, checked when it is followed */
        if (!(flags & FLAG_USED) || size > CACHE_MAX_BLOCK)
            return false;
    } else if (flags & FLAG_USED) {
        uint64_t payload = size - HEADER_SIZE;
        if (out->aux > payload || payload - out->aux >= MAX_SLACK)
            return false;
    }
    return true;
}

static inline bool block_used(const struct block *b)
{
    return (b->flags & FLAG_USED) != 0;
}

static bool read_free_block(const struct view *v, uint64_t off, struct block *out)
{
    return read_block(v, off, out) && !block_used(out);
}

static inline void write_header(const struct view *v, uint64_t off, uint64_t size, uint64_t flags,
                                uint64_t aux)
{
    store_word(v, off, make_size_word(off, size, flags));
    store_word(v, off + 8, aux);
}

/* Rewrites only the flags of a validated block, keeping word 1. */
static inline void set_flags(const struct view *v, const struct block *b, uint64_t flags)
{
    store_word(v, b->off, make_size_word(b->off, b->size, flags));
}

/* A header swallowed by a merge must never validate again, or a stale
 * pointer to it would pass for a live block (size 0 never validates). */
static inline void invalidate_header(const struct view *v, uint64_t off)
{
    store_word(v, off, 0);
    store_word(v, off + 8, 0);
}

/* ---- Free lists ---------------------------------------------------------- */

static inline uint64_t next_free_link(const struct view *v, const struct block *b)
{
    return load_word(v, b->off + HEADER_SIZE);
}

/* Whether off can be written through as a block header plus next link.
 * Free-list neighbours are only checked this far (plus their link back to
 * the block at hand): that is what keeps the writes inside the arena, and
 * the back link catches a bad link about as well as a full header check,
 * at a fraction of the cost on the hot path. */
static inline bool link_target_ok(const struct view *v, uint64_t off)
{
    return off >= v->begin && off <= v->end - MIN_BLOCK && (off & (GRANULE - 1)) == 0;
}

/* Removes a validated free block from its list, checking both neighbours
 * point back at it before writing through them. */
static bool unlink_free(const struct view *v, const struct block *b)
{
    unsigned fl, sl;
    size_class(b->size, &fl, &sl);
    uint64_t prev = b->aux;
    uint64_t next = next_free_link(v, b);
    if (prev != 0) {
        if (!link_target_ok(v, prev) || load_word(v, prev + HEADER_SIZE) != b->off)
            return false;
    } else if (load_field(&v->c->heads[fl][sl]) != b->off) {
        return false;
    }
    if (next != 0 && (!link_target_ok(v, next) || load_word(v, next + 8) != b->off))
        return false;

    if (prev != 0)
        store_word(v, prev + HEADER_SIZE, next);
    else
        store_field(&v->c->heads[fl][sl], next);
    if (next != 0)
        store_word(v, next + 8, prev);
    if (prev == 0 && next == 0) {
        uint32_t sl_map = __atomic_load_n(&v->c->sl_bitmap[fl], __ATOMIC_RELAXED) & ~(1u << sl);
        __atomic_store_n(&v->c->sl_bitmap[fl], sl_map, __ATOMIC_RELAXED);
        if (sl_map == 0)
            store_field(&v->c->fl_bitmap, load_field(&v->c->fl_bitmap) & ~((uint64_t)1 << fl));
    }
    return true;
}

/* Makes [off, off + size) a free block and pushes it on its list. */
static bool insert_free(const struct view *v, uint64_t off, uint64_t size, uint64_t flags)
{
    unsigned fl, sl;
    size_class(size, &fl, &sl);
    uint64_t head = load_field(&v->c->heads[fl][sl]);
    if (head != 0 && (!link_target_ok(v, head) || load_word(v, head + 8) != 0 || head == off))
        return false;

    write_header(v, off, size, flags & ~FLAG_USED, 0);
    store_word(v, off + HEADER_SIZE, head);
    store_word(v, off + size - 8, size);
    if (head != 0)
        store_word(v, head + 8, off);
    store_field(&v->c->heads[fl][sl], off);
    __atomic_store_n(&v->c->sl_bitmap[fl],
                     __atomic_load_n(&v->c->sl_bitmap[fl], __ATOMIC_RELAXED) | 1u << sl,
                     __ATOMIC_RELAXED);
    store_field(&v->c->fl_bitmap, load_field(&v->c->fl_bitmap) | (uint64_t)1 << fl);
    return true;
}

/* Validates the head of list (fl, sl) as a free block of that class. */
static enum es_heap_status list_head(const struct view *v, unsigned fl, unsigned sl, struct block *out)
{
    uint64_t head = load_field(&v->c->heads[fl][sl]);
    unsigned block_fl, block_sl;
    if (head == 0 || !read_free_block(v, head, out))
        return ES_HEAP_CORRUPT;
    size_class(out->size, &block_fl, &block_sl);
    if (block_fl != fl || block_sl != sl || out->aux != 0)
        return ES_HEAP_CORRUPT;
    return ES_HEAP_OK;
}

/* Finds a free block of at least need bytes in O(1).  The request is rounded
 * up to the next size class so that any block of the class found fits (good
 * fit); when that finds nothing, the head of the request's own class is
 * tried too, so that the last block of exactly the right size is not missed. */
static enum es_heap_status find_free(const struct view *v, uint64_t need, struct block *out)
{
    uint64_t target = need;
    if (need >= SMALL_LIMIT) {
        unsigned log2 = 63u - (unsigned)__builtin_clzll(need);
        target = need + ((uint64_t)1 << (log2 - SL_LOG2)) - 1;
    }
    unsigned fl, sl;
    size_class(target, &fl, &sl);
    if (fl < FL_COUNT) {
        uint32_t sl_map = __atomic_load_n(&v->c->sl_bitmap[fl], __ATOMIC_RELAXED) & (~0u << sl);
        if (sl_map == 0) {
            uint64_t fl_map = load_field(&v->c->fl_bitmap) & FL_VALID_MASK & (~(uint64_t)0 << (fl + 1));
            if (fl_map != 0) {
                fl = (unsigned)__builtin_ctzll(fl_map);
                sl_map = __atomic_load_n(&v->c->sl_bitmap[fl], __ATOMIC_RELAXED);
                if (sl_map == 0)
                    return ES_HEAP_CORRUPT;    /* first level says non-empty */
            }
        }
        if (sl_map != 0) {
            sl = (unsigned)__builtin_ctz(sl_map);
            enum es_heap_status status = list_head(v, fl, sl, out);
            if (status != ES_HEAP_OK)
                return status;
            return out->size >= need ? ES_HEAP_OK : ES_HEAP_CORRUPT;
        }
    }

    size_class(need, &fl, &sl);
    if (fl < FL_COUNT && (__atomic_load_n(&v->c->sl_bitmap[fl], __ATOMIC_RELAXED) & (1u << sl)) != 0) {
        enum es_heap_status status = list_head(v, fl, sl, out);
        if (status != ES_HEAP_OK)
            return status;
        if (out->size >= need)
            return ES_HEAP_OK;
    }
    return ES_HEAP_NO_MEMORY;
}

/* ---- Core operations ------------------------------------------------------ */

/* Zeroes [from, to) where it may hold something other than zero: everything
 * below the fresh mark plus its dirty margin, and the arena's last word. */
static void zero_new_bytes(const struct view *v, uint64_t from, uint64_t to)
{
    if (from >= to)
        return;
    uint64_t dirty_end = v->fresh + FRESH_DIRTY;
    if (dirty_end > v->end)
        dirty_end = v->end;
    if (from < dirty_end)
        memset(v->base + from, 0, (to < dirty_end ? to : dirty_end) - from);
    uint64_t tail_from = v->end - 8;     /* the last free block's footer */
    if (tail_from < from)
        tail_from = from;
    if (tail_from < dirty_end)
        tail_from = dirty_end;            /* already cleared above */
    if (tail_from < to)
        memset(v->base + tail_from, 0, to - tail_from);
}

/* The caller may write anywhere up to block_end from now on. */
static void raise_fresh(struct view *v, uint64_t block_end)
{
    if (block_end > v->fresh) {
        v->fresh = block_end;
        v->heap->fresh = block_end;
    }
}

static inline __attribute__((always_inline)) void count_alloc(const struct view *v, uint64_t n)
{
    uint64_t in_use = load_field(&v->heap->counters->bytes_in_use) + n;
    store_field(&v->heap->counters->bytes_in_use, in_use);
    store_field(&v->heap->counters->blocks_in_use, load_field(&v->heap->counters->blocks_in_use) + 1);
    if (in_use > load_field(&v->heap->counters->peak_bytes))
        store_field(&v->heap->counters->peak_bytes, in_use);
}

static void count_resize(const struct view *v, uint64_t old_n, uint64_t new_n)
{
    uint64_t in_use = load_field(&v->heap->counters->bytes_in_use) - old_n + new_n;
    store_field(&v->heap->counters->bytes_in_use, in_use);
    if (in_use > load_field(&v->heap->counters->peak_bytes))
        store_field(&v->heap->counters->peak_bytes, in_use);
}

static inline __attribute__((always_inline)) void count_free(const struct view *v, uint64_t n)
{
    store_field(&v->heap->counters->bytes_in_use, load_field(&v->heap->counters->bytes_in_use) - n);
    store_field(&v->heap->counters->blocks_in_use, load_field(&v->heap->counters->blocks_in_use) - 1);
}

/* Takes the free block find_free found for a request of n bytes and marks
 * it used; does not zero it or move the fresh mark.  Describes the block in
 * *taken. */
static enum es_heap_status take_block(const struct view *v, uint64_t n, const struct block *found,
                                      struct block *taken)
{
    uint64_t need = block_need(n);
    struct block b = *found;
    struct block next;
    uint64_t end = b.off + b.size;
    bool split = b.size - need >= MIN_BLOCK;
    if (!split && end < v->end && !read_block(v, end, &next))
        return ES_HEAP_CORRUPT;
    if (!unlink_free(v, &b))
        return ES_HEAP_CORRUPT;

    uint64_t size = b.size;
    if (split) {
        size = need;
        /* The block after the remainder already has PREV_USED clear. */
        if (!insert_free(v, b.off + need, b.size - need, FLAG_PREV_USED))
            return ES_HEAP_CORRUPT;
    } else if (end < v->end) {
        set_flags(v, &next, next.flags | FLAG_PREV_USED);
    }
    write_header(v, b.off, size, FLAG_USED | (b.flags & FLAG_PREV_USED), n);
    taken->off = b.off;
    taken->size = size;
    taken->flags = FLAG_USED | (b.flags & FLAG_PREV_USED);
    taken->aux = n;
    return ES_HEAP_OK;
}

/* Turns [off, off + size), whose predecessor is used iff prev_used, into
 * free memory, merging it with free physical neighbours. */
static enum es_heap_status release(const struct view *v, uint64_t off, uint64_t size, bool prev_used)
{
    struct block prev, next;
    bool merge_prev = false, merge_next = false, has_next = false;

    /* Validate both neighbours before changing anything. */
    if (!prev_used) {
        if (off - v->begin < MIN_BLOCK)
            return ES_HEAP_CORRUPT;
        uint64_t prev_size = load_word(v, off - 8);
        if (prev_size > off - v->begin || !read_free_block(v, off - prev_size, &prev) ||
            prev.size != prev_size)
            return ES_HEAP_CORRUPT;
        merge_prev = true;
    }
    uint64_t end = off + size;
    if (end < v->end) {
        /* The block being released is in use, so its successor must say so. */
        if (!read_block(v, end, &next) || !(next.flags & FLAG_PREV_USED))
            return ES_HEAP_CORRUPT;
        has_next = true;
        merge_next = !block_used(&next);
    }

    uint64_t start = off, total = size;
    uint64_t flags = FLAG_PREV_USED;
    if (merge_prev) {
        if (!unlink_free(v, &prev))
            return ES_HEAP_CORRUPT;
        invalidate_header(v, off);
        start = prev.off;
        total += prev.size;
        flags = prev.flags & FLAG_PREV_USED;
    }
    if (merge_next) {
        /* Unlinking prev may have rewritten next's previous link. */
        if (merge_prev)
            next.aux = load_word(v, end + 8);
        if (!unlink_free(v, &next))
            return ES_HEAP_CORRUPT;
        invalidate_header(v, end);
        total += next.size;
    } else if (has_next) {
        set_flags(v, &next, next.flags & ~FLAG_PREV_USED);
    }
    if (!insert_free(v, start, total, flags))
        return ES_HEAP_CORRUPT;
    return ES_HEAP_OK;
}

/* ---- Small-block cache ---------------------------------------------------- */

static inline unsigned cache_class(uint64_t size)
{
    return (unsigned)(size >> GRANULE_LOG2) - MIN_BLOCK / GRANULE;
}

static inline uint64_t cache_cap(const struct view *v)
{
    return v->heap->cache_cap;
}

/* Pushes the validated used block b (not cached) on its list, if the caches
 * have room; false if they have not (the caller releases it instead). */
static inline __attribute__((always_inline)) bool cache_push(const struct view *v, const struct block *b)
{
    uint64_t cached = load_field(&v->c->cached_bytes);
    uint64_t cap = cache_cap(v);
    if (b->size > CACHE_MAX_BLOCK || cached > cap || cap - cached < b->size)
        return false;
    uint64_t *head = &v->c->cache_heads[cache_class(b->size)];
    write_header(v, b->off, b->size, FLAG_USED | FLAG_CACHED | (b->flags & FLAG_PREV_USED), load_field(head));
    store_field(head, b->off);
    store_field(&v->c->cached_bytes, cached + b->size);
    return true;
}

/* Pops the head of the list of blocks of exactly `size` bytes into *out
 * (its header still says CACHED: the caller rewrites it).  NO_MEMORY when
 * the list is empty, CORRUPT when its head is not a cached block of that
 * size below the fresh mark. */
static inline __attribute__((always_inline)) enum es_heap_status cache_pop(const struct view *v, uint64_t size, struct block *out)
{
    uint64_t *head = &v->c->cache_heads[cache_class(size)];
    uint64_t off = load_field(head);
    if (off == 0)
        return ES_HEAP_NO_MEMORY;
    /* read_block's checks for this one case, inline: in the arena below
     * the fresh mark (fresh >= begin > CACHE_MAX_BLOCK, no underflow),
     * aligned, flags USED and CACHED, exactly this size, tag. */
    if (off < v->begin || off > v->fresh - size || (off & (GRANULE - 1)) != 0)
        return ES_HEAP_CORRUPT;
    uint64_t word = load_word(v, off);
    uint64_t low_bits = word & LOW_MASK;
    if ((low_bits & ~FLAG_PREV_USED) != (size | FLAG_USED | FLAG_CACHED) ||
        word >> SIZE_BITS != header_tag(off, low_bits))
        return ES_HEAP_CORRUPT;
    out->off = off;
    out->size = size;
    out->flags = low_bits & FLAG_MASK;
    out->aux = load_word(v, off + 8);
    uint64_t cached = load_field(&v->c->cached_bytes);
    if (cached < size)
        return ES_HEAP_CORRUPT;
    store_field(head, out->aux);
    store_field(&v->c->cached_bytes, cached - size);
    return ES_HEAP_OK;
}

/* Releases every cached block into the TLSF.  Each step turns one cached
 * header into a free (or swallowed) one, so a list that loops back runs
 * into a header that is no longer CACHED and stops as corruption. */
static enum es_heap_status cache_flush(const struct view *v)
{
    for (unsigned cls = 0; cls < CACHE_CLASSES; cls++) {
        uint64_t size = ((uint64_t)cls + MIN_BLOCK / GRANULE) << GRANULE_LOG2;
        for (;;) {
            struct block b;
            enum es_heap_status status = cache_pop(v, size, &b);
            if (status == ES_HEAP_NO_MEMORY)
                break;
            if (status != ES_HEAP_OK ||
                release(v, b.off, b.size, (b.flags & FLAG_PREV_USED) != 0) != ES_HEAP_OK)
                return ES_HEAP_CORRUPT;
        }
    }
    store_field(&v->c->flush_mark, v->fresh);
    return load_field(&v->c->cached_bytes) == 0 ? ES_HEAP_OK : ES_HEAP_CORRUPT;
}

/* take_block, after flushing the caches if they hold anything and the TLSF
 * would otherwise fail, or would carve the block from memory never used
 * before when the heap has already grown by as much as the caches hold since
 * the last flush or would grow past CACHE_FOOTPRINT_FACTOR times the peak of
 * live bytes.  The growth conditions bound what the caches cost in
 * memory: a cached block pins its place, so free neighbours cannot merge
 * across it, and a heap with scattered cached blocks would otherwise keep
 * growing where the TLSF alone would have reused merged holes.  (The peak is
 * in the region and could be scribbled, as could the mark: that only
 * changes when the caches are flushed.) */
static enum es_heap_status take_block_or_flush(const struct view *v, uint64_t n, struct block *taken)
{
    uint64_t need = block_need(n);
    if (need > v->end - v->begin)
        return ES_HEAP_NO_MEMORY;
    struct block found;
    enum es_heap_status status = find_free(v, need, &found);
    if (status == ES_HEAP_CORRUPT)
        return status;
    uint64_t cached = load_field(&v->c->cached_bytes);
    if (cached != 0) {
        uint64_t grown_to = found.off + need;
        uint64_t mark = load_field(&v->c->flush_mark);
        if (status == ES_HEAP_NO_MEMORY ||
            (grown_to > v->fresh &&
             (mark > v->fresh || v->fresh - mark >= cached ||
              (grown_to - v->begin) / CACHE_FOOTPRINT_FACTOR > load_field(&v->heap->counters->peak_bytes)))) {
            status = cache_flush(v);
            if (status != ES_HEAP_OK)
                return status;
            status = find_free(v, need, &found);
        }
    }
    if (status != ES_HEAP_OK)
        return status;
    return take_block(v, n, &found, taken);
}

/* Checks that p is the payload of a live block and reads its header. */
static inline __attribute__((always_inline)) enum es_heap_status resolve_live(const struct view *v, const void *p, struct block *out)
{
    uintptr_t address = (uintptr_t)p, base = (uintptr_t)v->base;
    if (address < base)
        return ES_HEAP_BAD_POINTER;
    uint64_t payload = (uint64_t)(address - base);
    if ((payload & (GRANULE - 1)) != 0 || payload < v->begin + HEADER_SIZE ||
        payload > v->end - (MIN_BLOCK - HEADER_SIZE))
        return ES_HEAP_BAD_POINTER;
    /* read_block's checks for a used, uncached block, inline: this is on
     * every free.  The bounds above put the header in the arena, aligned. */
    uint64_t off = payload - HEADER_SIZE;
    uint64_t word = load_word(v, off);
    uint64_t low_bits = word & LOW_MASK;
    uint64_t size = low_bits & SIZE_MASK;
    uint64_t flags = low_bits & FLAG_MASK;
    if ((flags & ~FLAG_PREV_USED) != FLAG_USED || size < MIN_BLOCK || size > v->end - off ||
        word >> SIZE_BITS != header_tag(off, low_bits))
        return ES_HEAP_BAD_POINTER;
    uint64_t requested = load_word(v, off + 8);
    if (requested > size - HEADER_SIZE || size - HEADER_SIZE - requested >= MAX_SLACK)
        return ES_HEAP_BAD_POINTER;
    out->off = off;
    out->size = size;
    out->flags = flags;
    out->aux = requested;
    return ES_HEAP_OK;
}

static inline void set_status(enum es_heap_status *status, enum es_heap_status value)
{
    if (status != NULL)
        *status = value;
}

/* ---- API ------------------------------------------------------------------ */

size_t es_heap_min_region(void)
{
    return CONTROL_SIZE + MIN_BLOCK;
}

struct es_heap *es_heap_init(struct es_heap *heap, void *region, size_t size,
                             struct es_heap_counters *counters)
{
    if (heap == NULL || region == NULL || ((uintptr_t)region & (GRANULE - 1)) != 0 ||
        size < es_heap_min_region())
        return NULL;
    uint64_t end = (uint64_t)size & ~(uint64_t)(GRANULE - 1);
    if (end - CONTROL_SIZE > MAX_ARENA)
        end = CONTROL_SIZE + MAX_ARENA;       /* the rest of a giant region stays unused */

    struct control *c = region;
    memset(c, 0, CONTROL_SIZE);
    c->magic = HEAP_MAGIC;
    uint64_t cap = (end - CONTROL_SIZE) / 8;
    *heap = (struct es_heap){
        .base = region,
        .end = end,
        .fresh = CONTROL_SIZE,
        .cache_cap = cap < CACHE_CAP_LIMIT ? cap : CACHE_CAP_LIMIT,
        .counters = counters ? counters : &c->counters,
    };
    memset(heap->counters, 0, sizeof *heap->counters);

    struct view v;
    if (!view_of(heap, &v))
        return NULL;
    /* One free block spans the arena; its predecessor counts as used so
     * nothing ever tries to merge below the arena. */
    if (!insert_free(&v, v.begin, v.end - v.begin, FLAG_PREV_USED))
        return NULL;
    return heap;
}

/* The general allocation path: every case, every check, every report. */
static __attribute__((noinline)) void *alloc_slow(struct es_heap *heap, size_t n, enum es_heap_status *status)
{
    struct view v;
    enum es_heap_status result = enter(heap, &v);
    if (result != ES_HEAP_OK) {
        set_status(status, result);
        return NULL;
    }
    if ((uint64_t)n > MAX_REQUEST) {
        set_status(status, ES_HEAP_TOO_LARGE);
        return NULL;
    }
    struct block b;
    uint64_t need = block_need(n);
    if (need <= CACHE_MAX_BLOCK) {
        result = cache_pop(&v, need, &b);
        if (result == ES_HEAP_OK) {
            /* Below the fresh mark by construction: clear what is asked. */
            write_header(&v, b.off, need, FLAG_USED | (b.flags & FLAG_PREV_USED), n);
            memset(v.base + b.off + HEADER_SIZE, 0, n);
            count_alloc(&v, n);
            set_status(status, ES_HEAP_OK);
            return v.base + b.off + HEADER_SIZE;
        }
        if (result == ES_HEAP_CORRUPT) {
            set_status(status, latch_corrupt(&v));
            return NULL;
        }
    }
    result = take_block_or_flush(&v, n, &b);
    if (result != ES_HEAP_OK) {
        set_status(status, result == ES_HEAP_CORRUPT ? latch_corrupt(&v) : result);
        return NULL;
    }
    uint64_t payload = b.off + HEADER_SIZE;
    zero_new_bytes(&v, payload, payload + n);
    raise_fresh(&v, b.off + b.size);
    count_alloc(&v, n);
    set_status(status, ES_HEAP_OK);
    return v.base + payload;
}

/* Fast paths.  A cache hit on allocation and a free into the cache make the
 * same checks as cache_pop and resolve_live + cache_push (bounds from the
 * handle, alignment, tag, flags, exact size, slack), in locals rather than
 * through a view, and never report: anything they do not accept, including
 * every inconsistency, falls through to the general path, which checks it
 * again and reports or latches it.  The bound used is the fresh mark, which
 * every cached or live block lies below (a block is handed out only below
 * it, and it never moves down). */
void *es_heap_alloc(struct es_heap *heap, size_t n, enum es_heap_status *status)
{
    if (__builtin_expect(heap != NULL && n <= CACHE_MAX_BLOCK - HEADER_SIZE && !heap->corrupt, 1)) {
        unsigned char *base = heap->base;
        struct control *c = (struct control *)(void *)base;
        uint64_t need = block_need(n);
        uint64_t *head = &c->cache_heads[cache_class(need)];
        uint64_t off = load_field(head);
        uint64_t fresh = heap->fresh;
        /* off in [CONTROL_SIZE, fresh - need]: fresh >= CONTROL_SIZE > need,
         * so fresh - need does not wrap (fresh - need - CONTROL_SIZE would,
         * while the heap has handed out less than need bytes). */
        if (off >= CONTROL_SIZE && off <= fresh - need && (off & (GRANULE - 1)) == 0) {
            uint64_t word = __atomic_load_n((uint64_t *)(void *)(base + off), __ATOMIC_RELAXED);
            uint64_t low_bits = word & LOW_MASK;
            uint64_t mix = offset_mix(off);
            uint64_t cached = load_field(&c->cached_bytes);
            if ((low_bits & ~FLAG_PREV_USED) == (need | FLAG_USED | FLAG_CACHED) &&
                word >> SIZE_BITS == tag_of(low_bits, mix) && cached >= need) {
                uint64_t next = __atomic_load_n((uint64_t *)(void *)(base + off + 8), __ATOMIC_RELAXED);
                store_field(head, next);
                store_field(&c->cached_bytes, cached - need);
                uint64_t live_bits = low_bits & ~FLAG_CACHED;
                __atomic_store_n((uint64_t *)(void *)(base + off),
                                 live_bits | tag_of(live_bits, mix) << SIZE_BITS, __ATOMIC_RELAXED);
                __atomic_store_n((uint64_t *)(void *)(base + off + 8), (uint64_t)n, __ATOMIC_RELAXED);
                memset(base + off + HEADER_SIZE, 0, n);
                struct es_heap_counters *counters = heap->counters;
                uint64_t in_use = load_field(&counters->bytes_in_use) + n;
                store_field(&counters->bytes_in_use, in_use);
                store_field(&counters->blocks_in_use, load_field(&counters->blocks_in_use) + 1);
                if (in_use > load_field(&counters->peak_bytes))
                    store_field(&counters->peak_bytes, in_use);
                set_status(status, ES_HEAP_OK);
                return base + off + HEADER_SIZE;
            }
        }
    }
    return alloc_slow(heap, n, status);
}

/* The general free path. */
static __attribute__((noinline)) enum es_heap_status free_slow(struct es_heap *heap, void *p)
{
    struct view v;
    enum es_heap_status result = enter(heap, &v);
    if (result != ES_HEAP_OK)
        return result;
    struct block b;
    result = resolve_live(&v, p, &b);
    if (result != ES_HEAP_OK)
        return result;
    if (!cache_push(&v, &b) && release(&v, b.off, b.size, (b.flags & FLAG_PREV_USED) != 0) != ES_HEAP_OK)
        return latch_corrupt(&v);
    count_free(&v, b.aux);
    return ES_HEAP_OK;
}

enum es_heap_status es_heap_free(struct es_heap *heap, void *p)
{
    if (p == NULL)
        return ES_HEAP_OK;
    if (__builtin_expect(heap != NULL && !heap->corrupt, 1)) {
        unsigned char *base = heap->base;
        struct control *c = (struct control *)(void *)base;
        /* off in [CONTROL_SIZE, fresh - MIN_BLOCK] (p below base wraps
         * high): fresh - MIN_BLOCK does not wrap, fresh >= CONTROL_SIZE. */
        uint64_t off = (uint64_t)((uintptr_t)p - (uintptr_t)base) - HEADER_SIZE;
        uint64_t fresh = heap->fresh;
        if (off >= CONTROL_SIZE && off <= fresh - MIN_BLOCK && (off & (GRANULE - 1)) == 0) {
            uint64_t word = __atomic_load_n((uint64_t *)(void *)(base + off), __ATOMIC_RELAXED);
            uint64_t low_bits = word & LOW_MASK;
            uint64_t size = low_bits & SIZE_MASK;
            uint64_t requested = __atomic_load_n((uint64_t *)(void *)(base + off + 8), __ATOMIC_RELAXED);
            uint64_t cached = load_field(&c->cached_bytes);
            uint64_t cap = heap->cache_cap;
            uint64_t mix = offset_mix(off);
            /* Used, not cached; a cacheable size within the fresh mark;
             * slack as for any live block (a request above the payload
             * wraps the difference high); the caches have room; tag. */
            if ((low_bits & FLAG_MASK & ~FLAG_PREV_USED) == FLAG_USED && size - MIN_BLOCK <= CACHE_MAX_BLOCK - MIN_BLOCK &&
                size <= fresh - off && size - HEADER_SIZE - requested < MAX_SLACK &&
                cached <= cap && cap - cached >= size &&
                word >> SIZE_BITS == tag_of(low_bits, mix)) {
                uint64_t *head = &c->cache_heads[cache_class(size)];
                uint64_t cached_bits = low_bits | FLAG_CACHED;
                __atomic_store_n((uint64_t *)(void *)(base + off),
                                 cached_bits | tag_of(cached_bits, mix) << SIZE_BITS, __ATOMIC_RELAXED);
                __atomic_store_n((uint64_t *)(void *)(base + off + 8), load_field(head), __ATOMIC_RELAXED);
                store_field(head, off);
                store_field(&c->cached_bytes, cached + size);
                struct es_heap_counters *counters = heap->counters;
                store_field(&counters->bytes_in_use, load_field(&counters->bytes_in_use) - requested);
                store_field(&counters->blocks_in_use, load_field(&counters->blocks_in_use) - 1);
                return ES_HEAP_OK;
            }
        }
    }
    return free_slow(heap, p);
}

/* Grows or shrinks b in place to n bytes if it can; *done says whether. */
static enum es_heap_status resize_in_place(struct view *v, const struct block *b, uint64_t n, bool *done)
{
    uint64_t need = block_need(n);
    uint64_t end = b->off + b->size;
    uint64_t prev_flag = b->flags & FLAG_PREV_USED;
    *done = false;

    if (need <= b->size) {
        uint64_t size = b->size;
        if (b->size - need >= MIN_BLOCK) {
            /* Shrink: the tail goes back to the free lists.  release() does
             * not look at this block's header, so it can go first. */
            if (release(v, b->off + need, b->size - need, true) != ES_HEAP_OK)
                return ES_HEAP_CORRUPT;
            size = need;
        }
        write_header(v, b->off, size, FLAG_USED | prev_flag, n);
        *done = true;
        return ES_HEAP_OK;
    }

    if (end >= v->end)
        return ES_HEAP_OK;
    struct block next;
    if (!read_block(v, end, &next) || !(next.flags & FLAG_PREV_USED))
        return ES_HEAP_CORRUPT;
    if (block_used(&next) || b->size + next.size < need)
        return ES_HEAP_OK;

    uint64_t total = b->size + next.size;
    uint64_t after = end + next.size;
    struct block after_block;
    if (total - need < MIN_BLOCK && after < v->end && !read_block(v, after, &after_block))
        return ES_HEAP_CORRUPT;
    if (!unlink_free(v, &next))
        return ES_HEAP_CORRUPT;
    invalidate_header(v, end);
    uint64_t size = total;
    if (total - need >= MIN_BLOCK) {
        size = need;
        if (!insert_free(v, b->off + need, total - need, FLAG_PREV_USED))
            return ES_HEAP_CORRUPT;
    } else if (after < v->end) {
        set_flags(v, &after_block, after_block.flags | FLAG_PREV_USED);
    }
    write_header(v, b->off, size, FLAG_USED | prev_flag, n);
    *done = true;
    return ES_HEAP_OK;
}

void *es_heap_realloc(struct es_heap *h, void *p, size_t n, enum es_heap_status *status)
{
    if (p == NULL)
        return es_heap_alloc(h, n, status);
    struct view v;
    enum es_heap_status result = enter(h, &v);
    if (result != ES_HEAP_OK) {
        set_status(status, result);
        return NULL;
    }
    struct block b;
    result = resolve_live(&v, p, &b);
    if (result == ES_HEAP_OK && (uint64_t)n > MAX_REQUEST)
        result = ES_HEAP_TOO_LARGE;
    if (result != ES_HEAP_OK) {
        set_status(status, result);
        return NULL;
    }
    uint64_t old_n = b.aux;
    uint64_t payload = b.off + HEADER_SIZE;

    bool done;
    struct block moved;
    result = resize_in_place(&v, &b, n, &done);
    if (result == ES_HEAP_OK && !done) {
        bool had_cache = load_field(&v.c->cached_bytes) != 0;
        result = take_block_or_flush(&v, n, &moved);
        if (result == ES_HEAP_NO_MEMORY && had_cache) {
            /* The caches are flushed now, and a cached successor may have
             * been what kept the block from growing in place: try that
             * again, so that the cache never fails a realloc the TLSF alone
             * would do.  Flushing may have changed this block's PREV_USED. */
            if (!read_block(&v, b.off, &b) || !block_used(&b))
                result = ES_HEAP_CORRUPT;
            else if ((result = resize_in_place(&v, &b, n, &done)) == ES_HEAP_OK && !done)
                result = ES_HEAP_NO_MEMORY;
        }
    }
    if (result != ES_HEAP_OK) {
        set_status(status, result == ES_HEAP_CORRUPT ? latch_corrupt(&v) : result);
        return NULL;
    }
    if (done) {
        struct block resized;
        if (!read_block(&v, b.off, &resized)) {
            set_status(status, latch_corrupt(&v));
            return NULL;
        }
        zero_new_bytes(&v, payload + old_n, payload + n);
        raise_fresh(&v, resized.off + resized.size);
        count_resize(&v, old_n, n);
        set_status(status, ES_HEAP_OK);
        return p;
    }

    /* Move (into `moved`, taken above): n is larger than the old block's
     * payload, so old_n < n. */
    uint64_t new_payload = moved.off + HEADER_SIZE;
    memcpy(v.base + new_payload, v.base + payload, old_n);
    zero_new_bytes(&v, new_payload + old_n, new_payload + n);
    raise_fresh(&v, moved.off + moved.size);
    /* Taking the new block may have changed the old one's PREV_USED flag. */
    if (!read_block(&v, b.off, &b) || !block_used(&b) ||
        (!cache_push(&v, &b) && release(&v, b.off, b.size, (b.flags & FLAG_PREV_USED) != 0) != ES_HEAP_OK)) {
        set_status(status, latch_corrupt(&v));
        return NULL;
    }
    count_resize(&v, old_n, n);
    set_status(status, ES_HEAP_OK);
    return v.base + new_payload;
}

size_t es_heap_block_size(const struct es_heap *h, const void *p)
{
    struct view v;
    struct block b;
    if (p == NULL || h == NULL || h->corrupt || !view_of(h, &v))
        return 0;
    if (resolve_live(&v, p, &b) != ES_HEAP_OK)
        return 0;
    return (size_t)b.aux;
}

const struct es_heap_counters *es_heap_counters(const struct es_heap *h)
{
    return h->counters;
}

void es_heap_stats(const struct es_heap *h, struct es_heap_stats *out)
{
    struct view v;
    memset(out, 0, sizeof *out);
    if (!view_of(h, &v))
        return;
    out->bytes_in_use = (size_t)load_field(&h->counters->bytes_in_use);
    out->blocks_in_use = (size_t)load_field(&h->counters->blocks_in_use);
    out->peak_bytes = (size_t)load_field(&h->counters->peak_bytes);
    out->cached_bytes = (size_t)load_field(&v.c->cached_bytes);
    out->arena_size = (size_t)(v.end - v.begin);
}

/* Walks one free list, checking each entry; false on any inconsistency or
 * on more entries than there are free blocks (which catches cycles). */
static bool check_list(const struct view *v, unsigned fl, unsigned sl, uint64_t free_blocks,
                       uint64_t *listed)
{
    uint64_t prev = 0, cur = load_field(&v->c->heads[fl][sl]);
    while (cur != 0) {
        struct block b;
        unsigned block_fl, block_sl;
        if (++*listed > free_blocks || !read_free_block(v, cur, &b) || b.aux != prev)
            return false;
        size_class(b.size, &block_fl, &block_sl);
        if (block_fl != fl || block_sl != sl)
            return false;
        prev = cur;
        cur = next_free_link(v, &b);
    }
    return true;
}

bool es_heap_check(const struct es_heap *h)
{
    struct view v;
    if (h == NULL || h->corrupt || !view_of(h, &v) || v.fresh < v.begin || v.fresh > v.end ||
        (v.fresh & (GRANULE - 1)) != 0)
        return false;

    /* Physical walk: every block valid, sizes tile the arena exactly. */
    uint64_t free_blocks = 0, used_blocks = 0, requested = 0, cached_blocks = 0, cached_bytes = 0;
    bool prev_used = true;
    for (uint64_t off = v.begin; off < v.end;) {
        struct block b;
        if (!read_block(&v, off, &b) || ((b.flags & FLAG_PREV_USED) != 0) != prev_used)
            return false;
        if (b.flags & FLAG_CACHED) {
            if (off + b.size > v.fresh)
                return false;
            cached_blocks++;
            cached_bytes += b.size;
        } else if (block_used(&b)) {
            if (off + b.size > v.fresh)
                return false;
            used_blocks++;
            requested += b.aux;
        } else {
            unsigned fl, sl;
            if (!prev_used || load_word(&v, off + b.size - 8) != b.size)
                return false;
            size_class(b.size, &fl, &sl);
            if (!(__atomic_load_n(&v.c->sl_bitmap[fl], __ATOMIC_RELAXED) & (1u << sl)))
                return false;
            free_blocks++;
        }
        prev_used = block_used(&b);
        off += b.size;
    }

    /* Free lists: bitmaps match the lists, the lists hold every free block. */
    uint64_t fl_map = load_field(&v.c->fl_bitmap);
    if ((fl_map & ~FL_VALID_MASK) != 0)
        return false;
    uint64_t listed = 0;
    for (unsigned fl = 0; fl < FL_COUNT; fl++) {
        uint32_t sl_map = __atomic_load_n(&v.c->sl_bitmap[fl], __ATOMIC_RELAXED);
        if ((sl_map != 0) != ((fl_map >> fl) & 1))
            return false;
        for (unsigned sl = 0; sl < SL_COUNT; sl++) {
            bool listed_bit = (sl_map >> sl) & 1;
            if (listed_bit != (load_field(&v.c->heads[fl][sl]) != 0))
                return false;
            if (!check_list(&v, fl, sl, free_blocks, &listed))
                return false;
        }
    }
    if (listed != free_blocks)
        return false;

    /* Cache lists: each holds cached blocks of its size, and together they
     * hold every cached block once (counting bounds a cycle). */
    if (load_field(&v.c->cached_bytes) != cached_bytes)
        return false;
    uint64_t cached_listed = 0;
    for (unsigned cls = 0; cls < CACHE_CLASSES; cls++) {
        uint64_t size = ((uint64_t)cls + MIN_BLOCK / GRANULE) << GRANULE_LOG2;
        for (uint64_t cur = load_field(&v.c->cache_heads[cls]); cur != 0;) {
            struct block b;
            if (++cached_listed > cached_blocks || !read_block(&v, cur, &b) || !(b.flags & FLAG_CACHED) ||
                b.size != size)
                return false;
            cur = b.aux;
        }
    }
    if (cached_listed != cached_blocks)
        return false;

    return load_field(&h->counters->bytes_in_use) == requested && load_field(&h->counters->blocks_in_use) == used_blocks &&
           load_field(&h->counters->peak_bytes) >= requested;
}
