/*
 * test_heap.c - unit tests of the expert heap (worker/heap.c).
 *
 * The centre piece is a reference-model test: long runs of random
 * alloc/realloc/free calls, each live block mirrored by its expected size
 * and a fill pattern, checked after every operation.  Focused tests cover
 * exhaustion and coalescing, realloc failure, bad pointers, odd sizes, lazy
 * use of fresh pages, and hostile metadata: regions scribbled with garbage
 * between PROT_NONE guard zones, so that any access outside the region
 * kills the test instead of passing silently.
 *
 * ES_HEAP_MODEL_OPS overrides the number of operations per seed of the
 * model test (e.g. lower it for a run under valgrind).
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "heap.h"

/* Check's ck_assert* records every passing assertion through a write(2);
 * the hot loops below make millions of checks, so they only call into
 * Check when something fails. */
#define REQUIRE_MSG(cond, ...)                                                                \
    do {                                                                                      \
        if (!(cond))                                                                          \
            ck_abort_msg(__VA_ARGS__);                                                        \
    } while (0)
#define REQUIRE(cond) REQUIRE_MSG(cond, "assertion failed: %s", #cond)
#define REQUIRE_EQ(a, b)                                                                      \
    do {                                                                                      \
        unsigned long long required_a_ = (unsigned long long)(a);                             \
        unsigned long long required_b_ = (unsigned long long)(b);                             \
        REQUIRE_MSG(required_a_ == required_b_, "%s == %s failed: %llu != %llu", #a, #b,      \
                    required_a_, required_b_);                                                \
    } while (0)

/* ---- Guarded regions ------------------------------------------------------ */

/* PROT_NONE on each side of a region: wide enough that an allocator
 * following a wild offset faults rather than scribbling on the test. */
#define GUARD_SIZE ((size_t)64 << 20)

struct region {
    unsigned char *reservation;
    size_t reservation_size;
    unsigned char *base;
    size_t size;
    struct es_heap handle;      /* the heap's handle, outside the region */
};

static size_t page_size(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

/* Maps size bytes (a multiple of 16) of zeroed memory so that the region
 * ends exactly at the upper guard; if size is a page multiple it also
 * starts exactly at the lower one. */
static struct region region_map(size_t size)
{
    size_t page = page_size();
    size_t mapped = (size + page - 1) / page * page;
    struct region r = {.reservation_size = GUARD_SIZE + mapped + GUARD_SIZE, .size = size};
    void *reservation = mmap(NULL, r.reservation_size, PROT_NONE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    REQUIRE_MSG(reservation != MAP_FAILED, "mmap reservation: %s", strerror(errno));
    r.reservation = reservation;
    REQUIRE_EQ(mprotect(r.reservation + GUARD_SIZE, mapped, PROT_READ | PROT_WRITE), 0);
    r.base = r.reservation + GUARD_SIZE + mapped - size;
    return r;
}

static void region_unmap(struct region *r)
{
    REQUIRE_EQ(munmap(r->reservation, r->reservation_size), 0);
    r->reservation = NULL;
}

static bool in_region(const struct region *r, const void *p, size_t n)
{
    uintptr_t address = (uintptr_t)p, base = (uintptr_t)r->base;
    return address >= base && address - base <= r->size && n <= r->size - (address - base);
}

/* ---- PRNG (splitmix64: deterministic per seed) ---------------------------- */

static uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t rng_below(uint64_t *state, uint64_t bound)
{
    return bound == 0 ? 0 : rng_next(state) % bound;
}

/* Mostly small sizes, as experts use, with a tail of large ones. */
static size_t random_size(uint64_t *rng)
{
    uint64_t pick = rng_below(rng, 1000);
    if (pick < 600)
        return (size_t)rng_below(rng, 129);
    if (pick < 900)
        return (size_t)rng_below(rng, 4097);
    if (pick < 988)
        return (size_t)rng_below(rng, 65537);
    if (pick < 999)
        return (size_t)rng_below(rng, 256 * 1024 + 1);
    return (size_t)rng_below(rng, 4 * 1024 * 1024 + 1);
}

/* ---- Fill patterns -------------------------------------------------------- */

static unsigned char pattern_byte(uint32_t tag, size_t i)
{
    return (unsigned char)(tag * 167u + (uint32_t)i * 13u + (uint32_t)(i >> 8) * 7u + 1u);
}

static void fill_pattern(unsigned char *p, size_t from, size_t to, uint32_t tag)
{
    for (size_t i = from; i < to; i++)
        p[i] = pattern_byte(tag, i);
}

/* Index of the first byte that differs from the pattern, or `to`. */
static size_t pattern_mismatch(const unsigned char *p, size_t from, size_t to, uint32_t tag)
{
    for (size_t i = from; i < to; i++)
        if (p[i] != pattern_byte(tag, i))
            return i;
    return to;
}

static size_t first_nonzero(const unsigned char *p, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (p[i] != 0)
            return i;
    return to;
}

/* ---- Reference model ------------------------------------------------------ */

#define MODEL_SLOTS 4096

struct model_block {
    unsigned char *p;
    size_t size;
    uint32_t tag;
};

struct model {
    struct es_heap *heap;
    struct region region;
    struct model_block live[MODEL_SLOTS];
    size_t count;
    size_t bytes;
    size_t peak;
    size_t arena_size;
    uint32_t next_tag;
    uint64_t rng;
    size_t no_memory;
};

static void model_check_stats(const struct model *m)
{
    struct es_heap_stats stats;
    es_heap_stats(m->heap, &stats);
    REQUIRE_EQ(stats.bytes_in_use, m->bytes);
    REQUIRE_EQ(stats.blocks_in_use, m->count);
    REQUIRE_EQ(stats.peak_bytes, m->peak);
    REQUIRE_EQ(stats.arena_size, m->arena_size);
}

static void model_check_block(const struct model *m, const struct model_block *b)
{
    REQUIRE_MSG(((uintptr_t)b->p & (ES_HEAP_ALIGN - 1)) == 0, "misaligned block %p", (void *)b->p);
    REQUIRE_MSG(in_region(&m->region, b->p, b->size), "block %p+%zu outside the region",
                  (void *)b->p, b->size);
    REQUIRE_EQ(es_heap_block_size(m->heap, b->p), b->size);
    size_t bad = pattern_mismatch(b->p, 0, b->size, b->tag);
    REQUIRE_MSG(bad == b->size, "block %p (size %zu, tag %u) changed at byte %zu",
                  (void *)b->p, b->size, b->tag, bad);
}

static int compare_by_address(const void *a, const void *b)
{
    uintptr_t pa = (uintptr_t)((const struct model_block *)a)->p;
    uintptr_t pb = (uintptr_t)((const struct model_block *)b)->p;
    return pa < pb ? -1 : pa > pb;
}

/* Everything at once: contents, sizes, no overlap, heap invariants. */
static void model_check_all(struct model *m)
{
    qsort(m->live, m->count, sizeof m->live[0], compare_by_address);
    for (size_t i = 0; i < m->count; i++) {
        model_check_block(m, &m->live[i]);
        if (i > 0) {
            /* Zero-size blocks must still be distinct addresses. */
            const struct model_block *prev = &m->live[i - 1];
            REQUIRE_MSG(prev->p + (prev->size ? prev->size : 1) <= m->live[i].p,
                          "blocks %p+%zu and %p overlap", (void *)prev->p, prev->size,
                          (void *)m->live[i].p);
        }
    }
    REQUIRE_MSG(es_heap_check(m->heap), "es_heap_check failed");
    model_check_stats(m);
}

/* The block at index must not overlap any other live block (zero-size
 * blocks count as one byte: they must still be distinct). */
static void model_check_disjoint(const struct model *m, size_t index)
{
    uintptr_t start = (uintptr_t)m->live[index].p;
    uintptr_t end = start + (m->live[index].size ? m->live[index].size : 1);
    for (size_t i = 0; i < m->count; i++) {
        uintptr_t other = (uintptr_t)m->live[i].p;
        uintptr_t other_end = other + (m->live[i].size ? m->live[i].size : 1);
        REQUIRE_MSG(i == index || other_end <= start || end <= other,
                    "block %p+%zu overlaps %p+%zu", (void *)m->live[index].p, m->live[index].size,
                    (void *)m->live[i].p, m->live[i].size);
    }
}

static void model_account(struct model *m, size_t old_size, size_t new_size)
{
    m->bytes = m->bytes - old_size + new_size;
    if (m->bytes > m->peak)
        m->peak = m->bytes;
}

/* NO_MEMORY is only believable when the arena is genuinely getting full;
 * anything else means the allocator lost track of free memory. */
static void model_accept_no_memory(struct model *m, size_t n)
{
    REQUIRE_MSG(m->bytes + n > m->arena_size / 2,
                  "NO_MEMORY for %zu bytes with only %zu of %zu in use", n, m->bytes, m->arena_size);
    m->no_memory++;
}

static void model_alloc(struct model *m, size_t n, bool through_realloc)
{
    enum es_heap_status status = ES_HEAP_CORRUPT;
    unsigned char *p = through_realloc ? es_heap_realloc(m->heap, NULL, n, &status)
                                       : es_heap_alloc(m->heap, n, &status);
    if (p == NULL) {
        REQUIRE_EQ(status, ES_HEAP_NO_MEMORY);
        model_accept_no_memory(m, n);
        return;
    }
    REQUIRE_EQ(status, ES_HEAP_OK);
    struct model_block *b = &m->live[m->count++];
    *b = (struct model_block){.p = p, .size = n, .tag = m->next_tag++};
    REQUIRE_MSG(((uintptr_t)p & (ES_HEAP_ALIGN - 1)) == 0, "misaligned block %p", (void *)p);
    REQUIRE_MSG(in_region(&m->region, p, n), "block outside the region");
    size_t dirty = first_nonzero(p, 0, n);
    REQUIRE_MSG(dirty == n, "new block of %zu bytes not zero at byte %zu", n, dirty);
    REQUIRE_EQ(es_heap_block_size(m->heap, p), n);
    model_check_disjoint(m, m->count - 1);
    fill_pattern(p, 0, n, b->tag);
    model_account(m, 0, n);
}

static void model_free(struct model *m, size_t index)
{
    struct model_block *b = &m->live[index];
    model_check_block(m, b);
    REQUIRE_EQ(es_heap_free(m->heap, b->p), ES_HEAP_OK);
    model_account(m, b->size, 0);
    *b = m->live[--m->count];
}

static size_t realloc_target(uint64_t *rng, size_t old)
{
    switch (rng_below(rng, 6)) {
    case 0:
    case 1:
        return random_size(rng);
    case 2: {
        /* Small steps exercise shrink-in-place and growth into slack. */
        size_t delta = (size_t)rng_below(rng, 65);
        return rng_below(rng, 2) ? old + delta : (old > delta ? old - delta : 0);
    }
    case 3:
        return old * 2 + (size_t)rng_below(rng, 17);
    case 4:
        return old / 2;
    default:
        return old;
    }
}

static void model_realloc(struct model *m, size_t index, size_t n)
{
    struct model_block *b = &m->live[index];
    struct model_block before = *b;
    enum es_heap_status status = ES_HEAP_CORRUPT;
    unsigned char *p = es_heap_realloc(m->heap, b->p, n, &status);
    if (p == NULL) {
        REQUIRE_EQ(status, ES_HEAP_NO_MEMORY);
        model_accept_no_memory(m, n);
        model_check_block(m, b);      /* untouched */
        return;
    }
    REQUIRE_EQ(status, ES_HEAP_OK);
    b->p = p;
    b->size = n;
    REQUIRE_MSG(((uintptr_t)p & (ES_HEAP_ALIGN - 1)) == 0, "misaligned block %p", (void *)p);
    REQUIRE_MSG(in_region(&m->region, p, n), "block outside the region");
    size_t kept = before.size < n ? before.size : n;
    size_t bad = pattern_mismatch(p, 0, kept, b->tag);
    REQUIRE_MSG(bad == kept, "realloc %zu -> %zu lost byte %zu", before.size, n, bad);
    size_t dirty = first_nonzero(p, kept, n);
    REQUIRE_MSG(dirty == n, "realloc %zu -> %zu: grown byte %zu not zero", before.size, n, dirty);
    fill_pattern(p, kept, n, b->tag);
    REQUIRE_EQ(es_heap_block_size(m->heap, p), n);
    model_check_disjoint(m, index);
    model_account(m, before.size, n);
}

static void model_init(struct model *m, size_t region_size, uint64_t seed)
{
    memset(m, 0, sizeof *m);
    m->region = region_map(region_size);
    m->heap = es_heap_init(&m->region.handle, m->region.base, m->region.size, NULL);
    ck_assert_ptr_nonnull(m->heap);
    struct es_heap_stats stats;
    es_heap_stats(m->heap, &stats);
    m->arena_size = stats.arena_size;
    ck_assert_uint_gt(m->arena_size, region_size - region_size / 64);
    m->rng = seed;
    m->next_tag = 1;
}

static size_t model_ops(void)
{
    const char *text = getenv("ES_HEAP_MODEL_OPS");
    if (text != NULL && *text != '\0')
        return (size_t)strtoull(text, NULL, 10);
    return 200000;
}

static void run_model(uint64_t seed)
{
    static struct model m;      /* too big for a test's stack */
    model_init(&m, (size_t)64 << 20, seed);
    size_t ops = model_ops();
    unsigned alloc_bias = 60;
    for (size_t op = 0; op < ops; op++) {
        /* Alternate growth and shrink phases so the live set swings between
         * nearly empty and nearly full, exercising coalescing both ways. */
        if (op % 20000 == 0)
            alloc_bias = alloc_bias == 60 ? 35 : 60;
        uint64_t pick = rng_below(&m.rng, 100);
        if (m.count == 0 || (pick < alloc_bias && m.count < MODEL_SLOTS)) {
            model_alloc(&m, random_size(&m.rng), rng_below(&m.rng, 50) == 0);
        } else if (pick < alloc_bias + (100 - alloc_bias) / 2) {
            model_free(&m, (size_t)rng_below(&m.rng, m.count));
        } else if (pick < 98) {
            size_t index = (size_t)rng_below(&m.rng, m.count);
            model_realloc(&m, index, realloc_target(&m.rng, m.live[index].size));
        } else {
            REQUIRE_EQ(es_heap_free(m.heap, NULL), ES_HEAP_OK);
        }
        model_check_stats(&m);
        if (op % 1999 == 0)
            model_check_all(&m);
    }
    model_check_all(&m);
    while (m.count > 0)
        model_free(&m, (size_t)rng_below(&m.rng, m.count));
    model_check_all(&m);

    /* Everything coalesced back: the whole arena is one block again. */
    enum es_heap_status status;
    void *whole = es_heap_alloc(m.heap, m.arena_size - ES_HEAP_ALIGN, &status);
    REQUIRE_MSG(whole != NULL, "arena not whole again after freeing everything (status %d)", status);
    REQUIRE_EQ(es_heap_free(m.heap, whole), ES_HEAP_OK);
    region_unmap(&m.region);
}

START_TEST(model_random_operations)
{
    static const uint64_t seeds[] = {1, 0x5eed, 0xdeadbeefcafe};
    run_model(seeds[_i]);
}
END_TEST

/* ---- Focused tests -------------------------------------------------------- */

static struct es_heap *heap_on(struct region *r)
{
    struct es_heap *h = es_heap_init(&r->handle, r->base, r->size, NULL);
    ck_assert_ptr_nonnull(h);
    return h;
}

static size_t arena_of(const struct es_heap *h)
{
    struct es_heap_stats stats;
    es_heap_stats(h, &stats);
    return stats.arena_size;
}

START_TEST(init_rejects_bad_regions)
{
    struct region r = region_map(1 << 20);
    ck_assert_ptr_null(es_heap_init(&r.handle, NULL, 1 << 20, NULL));
    ck_assert_ptr_null(es_heap_init(&r.handle, r.base + 8, (1 << 20) - 16, NULL));
    ck_assert_ptr_null(es_heap_init(&r.handle, r.base, es_heap_min_region() - 1, NULL));
    ck_assert_ptr_null(es_heap_init(&r.handle, r.base, 0, NULL));
    ck_assert_ptr_nonnull(es_heap_init(&r.handle, r.base, es_heap_min_region(), NULL));
    /* A size that is not a multiple of 16 just loses its tail. */
    struct es_heap *h = es_heap_init(&r.handle, r.base, (1 << 20) - 5, NULL);
    ck_assert_ptr_nonnull(h);
    REQUIRE(es_heap_check(h));
    ck_assert_uint_le(arena_of(h), (1 << 20) - 5);
    region_unmap(&r);
}
END_TEST

START_TEST(init_touches_only_its_metadata)
{
    size_t size = 8 << 20;
    struct region r = region_map(size);
    struct es_heap *h = heap_on(&r);
    size_t control = size - arena_of(h);
    /* Only the control structure, the first block's header and link and
     * the arena's last word (its footer) may have been written. */
    size_t dirty = first_nonzero(r.base, control + 32, size - 8);
    REQUIRE_MSG(dirty == size - 8, "init wrote byte %zu of the arena", dirty);
    ck_assert_uint_lt(control, 64 * 1024);
    region_unmap(&r);
}
END_TEST

START_TEST(fresh_memory_is_not_touched)
{
    /* As in production: a memfd, whose allocated blocks the broker counts.
     * Handing out a large fresh block must not fault in its pages. */
    size_t size = (size_t)256 << 20;
    int fd = memfd_create("test_heap", MFD_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    REQUIRE_EQ(ftruncate(fd, (off_t)size), 0);
    unsigned char *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ck_assert_ptr_ne(base, MAP_FAILED);
    struct es_heap handle;
    struct es_heap *h = es_heap_init(&handle, base, size, NULL);
    ck_assert_ptr_nonnull(h);
    enum es_heap_status status;
    unsigned char *big = es_heap_alloc(h, (size_t)200 << 20, &status);
    ck_assert_ptr_nonnull(big);
    unsigned char *small = es_heap_alloc(h, 100, &status);
    ck_assert_ptr_nonnull(small);
    unsigned char *grown = es_heap_realloc(h, small, (size_t)40 << 20, &status);
    ck_assert_ptr_eq(grown, small);     /* grew in place into fresh memory */
    struct stat st;
    REQUIRE_EQ(fstat(fd, &st), 0);
    REQUIRE_MSG((size_t)st.st_blocks * 512 < (size_t)1 << 20,
                  "%zu bytes of the memfd allocated", (size_t)st.st_blocks * 512);
    REQUIRE(es_heap_check(h));
    /* And it still reads as zero where we look. */
    REQUIRE_EQ(first_nonzero(big, 0, 4096), 4096);
    REQUIRE_EQ(first_nonzero(big, ((size_t)200 << 20) - 4096, (size_t)200 << 20),
                      (size_t)200 << 20);
    REQUIRE_EQ(first_nonzero(grown, 0, 8192), 8192);
    REQUIRE_EQ(munmap(base, size), 0);
    close(fd);
}
END_TEST

START_TEST(fresh_metadata_is_cleared)
{
    /* Memory above the fresh mark is not cleared, except where the heap's
     * own metadata may lie: the arena's last word (the top block's footer)
     * and the free-list link of the block that starts at the mark. */
    struct region r = region_map(4 << 20);
    struct es_heap *h = heap_on(&r);
    size_t arena = arena_of(h);
    enum es_heap_status status;
    unsigned char *whole = es_heap_alloc(h, arena - ES_HEAP_ALIGN, &status);
    ck_assert_ptr_nonnull(whole);
    REQUIRE_EQ(first_nonzero(whole, arena - 4096, arena - ES_HEAP_ALIGN), arena - ES_HEAP_ALIGN);
    REQUIRE_EQ(es_heap_free(h, whole), ES_HEAP_OK);

    h = heap_on(&r);    /* the first heap left only metadata, which init rewrites */
    /* a and the top block's remainder end up in the same size class, the
     * remainder in front with its next link pointing at a. */
    unsigned char *a = es_heap_alloc(h, 600000, &status);
    ck_assert_ptr_nonnull(es_heap_alloc(h, 16, &status));
    REQUIRE_EQ(es_heap_free(h, a), ES_HEAP_OK);
    size_t block_a = 600000 + ES_HEAP_ALIGN, block_fence = 32;
    size_t top = arena - block_a - block_fence;
    size_t remainder = block_a + ES_HEAP_ALIGN;
    ck_assert_ptr_nonnull(es_heap_alloc(h, top - remainder - ES_HEAP_ALIGN, &status));
    unsigned char *small = es_heap_alloc(h, 64, &status);
    ck_assert_ptr_nonnull(small);
    REQUIRE_EQ(first_nonzero(small, 0, 64), 64);
    ck_assert(es_heap_check(h));
    region_unmap(&r);
}
END_TEST

START_TEST(min_region_holds_one_small_block)
{
    struct region r = region_map(es_heap_min_region());
    struct es_heap *h = heap_on(&r);
    enum es_heap_status status;
    void *a = es_heap_alloc(h, 0, &status);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_null(es_heap_alloc(h, 0, &status));
    REQUIRE_EQ(status, ES_HEAP_NO_MEMORY);
    ck_assert_ptr_eq(es_heap_realloc(h, a, 16, &status), a);
    ck_assert_ptr_null(es_heap_realloc(h, a, 17, &status));
    REQUIRE_EQ(status, ES_HEAP_NO_MEMORY);
    REQUIRE_EQ(es_heap_block_size(h, a), 16);
    REQUIRE_EQ(es_heap_free(h, a), ES_HEAP_OK);
    ck_assert_ptr_null(es_heap_alloc(h, 17, &status));
    REQUIRE_EQ(status, ES_HEAP_NO_MEMORY);
    a = es_heap_alloc(h, 16, &status);
    ck_assert_ptr_nonnull(a);
    REQUIRE(in_region(&r, a, 16));
    REQUIRE(es_heap_check(h));
    region_unmap(&r);
}
END_TEST

START_TEST(exhaustion_then_whole_arena_again)
{
    struct region r = region_map(4 << 20);
    struct es_heap *h = heap_on(&r);
    size_t arena = arena_of(h);
    static void *blocks[1 << 18];
    size_t count = 0;
    uint64_t rng = 42;
    enum es_heap_status status;

    /* Fill with mixed sizes until even the smallest request fails. */
    for (size_t limit = 8192; limit > 0; limit /= 4) {
        for (;;) {
            size_t n = (size_t)rng_below(&rng, limit + 1);
            void *p = es_heap_alloc(h, n, &status);
            if (p == NULL) {
                REQUIRE_EQ(status, ES_HEAP_NO_MEMORY);
                break;
            }
            ck_assert_uint_lt(count, sizeof blocks / sizeof blocks[0]);
            memset(p, 0xA5, n);
            blocks[count++] = p;
        }
    }
    ck_assert_ptr_null(es_heap_alloc(h, 0, &status));
    REQUIRE_EQ(status, ES_HEAP_NO_MEMORY);
    REQUIRE(es_heap_check(h));

    /* Free in random order: coalescing must restore one arena-sized block. */
    for (size_t i = count; i > 1; i--) {
        size_t j = (size_t)rng_below(&rng, i);
        void *tmp = blocks[i - 1];
        blocks[i - 1] = blocks[j];
        blocks[j] = tmp;
    }
    for (size_t i = 0; i < count; i++)
        REQUIRE_EQ(es_heap_free(h, blocks[i]), ES_HEAP_OK);
    REQUIRE(es_heap_check(h));
    struct es_heap_stats stats;
    es_heap_stats(h, &stats);
    REQUIRE_EQ(stats.bytes_in_use, 0);
    REQUIRE_EQ(stats.blocks_in_use, 0);
    ck_assert_uint_le(stats.peak_bytes, arena);

    ck_assert_ptr_null(es_heap_alloc(h, arena - ES_HEAP_ALIGN + 1, &status));
    REQUIRE_EQ(status, ES_HEAP_NO_MEMORY);
    unsigned char *whole = es_heap_alloc(h, arena - ES_HEAP_ALIGN, &status);
    ck_assert_ptr_nonnull(whole);
    /* Every byte was dirtied above, and must read as zero again. */
    REQUIRE_EQ(first_nonzero(whole, 0, arena - ES_HEAP_ALIGN), arena - ES_HEAP_ALIGN);
    REQUIRE_EQ(es_heap_free(h, whole), ES_HEAP_OK);
    REQUIRE(es_heap_check(h));
    region_unmap(&r);
}
END_TEST

START_TEST(realloc_failure_leaves_block_intact)
{
    struct region r = region_map(1 << 20);
    struct es_heap *h = heap_on(&r);
    size_t arena = arena_of(h);
    enum es_heap_status status;
    unsigned char *a = es_heap_alloc(h, 1000, &status);
    unsigned char *fence = es_heap_alloc(h, 10, &status);   /* no growth in place */
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(fence);
    fill_pattern(a, 0, 1000, 7);
    struct es_heap_stats before, after;
    es_heap_stats(h, &before);

    const size_t sizes[] = {arena, arena - 1000, SIZE_MAX, SIZE_MAX / 2, SIZE_MAX - 15};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        status = ES_HEAP_OK;
        ck_assert_ptr_null(es_heap_realloc(h, a, sizes[i], &status));
        REQUIRE_MSG(status == ES_HEAP_NO_MEMORY || status == ES_HEAP_TOO_LARGE,
                      "realloc to %zu: status %d", sizes[i], status);
        REQUIRE_EQ(pattern_mismatch(a, 0, 1000, 7), 1000);
        REQUIRE_EQ(es_heap_block_size(h, a), 1000);
        es_heap_stats(h, &after);
        ck_assert_mem_eq(&before, &after, sizeof before);
        REQUIRE(es_heap_check(h));
    }
    /* Status pointer is optional. */
    ck_assert_ptr_null(es_heap_realloc(h, a, SIZE_MAX, NULL));
    ck_assert_ptr_null(es_heap_alloc(h, SIZE_MAX, NULL));
    region_unmap(&r);
}
END_TEST

START_TEST(realloc_in_place_and_zeroing)
{
    struct region r = region_map(1 << 20);
    struct es_heap *h = heap_on(&r);
    enum es_heap_status status;
    unsigned char *a = es_heap_alloc(h, 100, &status);
    unsigned char *b = es_heap_alloc(h, 5000, &status);
    unsigned char *c = es_heap_alloc(h, 100, &status);
    ck_assert_ptr_nonnull(c);
    fill_pattern(a, 0, 100, 1);
    memset(b, 0xEE, 5000);
    REQUIRE_EQ(es_heap_free(h, b), ES_HEAP_OK);

    /* Grows into the freed neighbour without moving; new bytes are zero
     * although the neighbour's memory was dirty. */
    ck_assert_ptr_eq(es_heap_realloc(h, a, 3000, &status), a);
    REQUIRE_EQ(pattern_mismatch(a, 0, 100, 1), 100);
    REQUIRE_EQ(first_nonzero(a, 100, 3000), 3000);
    REQUIRE(es_heap_check(h));

    /* Shrink in place, scribble over the now-unused slack, grow within the
     * slack again: the regrown bytes must be zero. */
    memset(a + 100, 0x55, 2900);
    ck_assert_ptr_eq(es_heap_realloc(h, a, 90, &status), a);
    REQUIRE_EQ(es_heap_block_size(h, a), 90);
    memset(a + 90, 0x77, 6);
    ck_assert_ptr_eq(es_heap_realloc(h, a, 96, &status), a);
    REQUIRE_EQ(first_nonzero(a, 90, 96), 96);
    REQUIRE_EQ(pattern_mismatch(a, 0, 90, 1), 90);

    /* realloc to 0 keeps a live, unique block. */
    ck_assert_ptr_eq(es_heap_realloc(h, a, 0, &status), a);
    REQUIRE_EQ(es_heap_block_size(h, a), 0);
    REQUIRE(es_heap_check(h));
    REQUIRE_EQ(es_heap_free(h, a), ES_HEAP_OK);

    /* Growth that must move keeps the contents and frees the old block. */
    unsigned char *d = es_heap_alloc(h, 64, &status);
    unsigned char *e = es_heap_alloc(h, 64, &status);
    ck_assert_ptr_nonnull(e);
    fill_pattern(d, 0, 64, 9);
    unsigned char *moved = es_heap_realloc(h, d, 10000, &status);
    ck_assert_ptr_nonnull(moved);
    ck_assert_ptr_ne(moved, d);
    REQUIRE_EQ(pattern_mismatch(moved, 0, 64, 9), 64);
    REQUIRE_EQ(first_nonzero(moved, 64, 10000), 10000);
    REQUIRE_EQ(es_heap_block_size(h, d), 0);
    REQUIRE_EQ(es_heap_free(h, d), ES_HEAP_BAD_POINTER);
    REQUIRE(es_heap_check(h));
    region_unmap(&r);
}
END_TEST

START_TEST(freed_memory_comes_back_zeroed)
{
    struct region r = region_map(1 << 20);
    struct es_heap *h = heap_on(&r);
    enum es_heap_status status;
    for (int round = 0; round < 50; round++) {
        void *blocks[64];
        for (size_t i = 0; i < 64; i++) {
            size_t n = 1 + i * 37 % 700;
            blocks[i] = es_heap_alloc(h, n, &status);
            ck_assert_ptr_nonnull(blocks[i]);
            REQUIRE_EQ(first_nonzero(blocks[i], 0, n), n);
            memset(blocks[i], 0xFF, n);
        }
        for (size_t i = 0; i < 64; i += 1 + (size_t)round % 3)
            REQUIRE_EQ(es_heap_free(h, blocks[i]), ES_HEAP_OK);
        REQUIRE(es_heap_check(h));
    }
    region_unmap(&r);
}
END_TEST

START_TEST(bad_pointers_are_refused)
{
    struct region r = region_map(1 << 20);
    struct es_heap *h = heap_on(&r);
    enum es_heap_status status;
    /* Above the small-block cache's sizes, so that frees go to the TLSF and
     * merge (the cached case is cached_block_double_free). */
    unsigned char *a = es_heap_alloc(h, 1200, &status);
    unsigned char *b = es_heap_alloc(h, 1200, &status);
    unsigned char *c = es_heap_alloc(h, 1200, &status);
    ck_assert_ptr_nonnull(c);
    int on_stack = 0;
    void *foreign[] = {
        a + 16, a + 1, a + 8, a + 1199, a - 16, r.base, r.base + 16, r.base + r.size,
        r.base + r.size - 16, r.base - 16, r.base - 4096, r.base + r.size + 4096,
        &on_stack, (void *)(uintptr_t)16, (void *)UINTPTR_MAX, (void *)(UINTPTR_MAX - 15),
    };
    for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++) {
        REQUIRE_EQ(es_heap_free(h, foreign[i]), ES_HEAP_BAD_POINTER);
        status = ES_HEAP_OK;
        ck_assert_ptr_null(es_heap_realloc(h, foreign[i], 10, &status));
        REQUIRE_EQ(status, ES_HEAP_BAD_POINTER);
        REQUIRE_EQ(es_heap_block_size(h, foreign[i]), 0);
        REQUIRE(es_heap_check(h));
    }

    /* Double frees: plain, after merging with a free neighbour on either
     * side, and after the memory was handed out again as a larger block. */
    REQUIRE_EQ(es_heap_free(h, b), ES_HEAP_OK);
    REQUIRE_EQ(es_heap_free(h, b), ES_HEAP_BAD_POINTER);
    REQUIRE_EQ(es_heap_free(h, c), ES_HEAP_OK);     /* merges into b */
    REQUIRE_EQ(es_heap_free(h, c), ES_HEAP_BAD_POINTER);
    REQUIRE_EQ(es_heap_free(h, b), ES_HEAP_BAD_POINTER);
    REQUIRE_EQ(es_heap_free(h, a), ES_HEAP_OK);     /* b merges into a */
    REQUIRE_EQ(es_heap_free(h, b), ES_HEAP_BAD_POINTER);
    REQUIRE_EQ(es_heap_free(h, a), ES_HEAP_BAD_POINTER);
    ck_assert_ptr_null(es_heap_realloc(h, b, 10, &status));
    REQUIRE_EQ(status, ES_HEAP_BAD_POINTER);
    unsigned char *big = es_heap_alloc(h, 3600, &status);
    ck_assert_ptr_eq(big, a);
    REQUIRE_EQ(es_heap_free(h, b), ES_HEAP_BAD_POINTER);
    REQUIRE_EQ(es_heap_free(h, c), ES_HEAP_BAD_POINTER);
    REQUIRE(es_heap_check(h));

    /* The heap still works normally. */
    struct es_heap_stats stats;
    es_heap_stats(h, &stats);
    REQUIRE_EQ(stats.blocks_in_use, 1);
    REQUIRE_EQ(stats.bytes_in_use, 3600);
    REQUIRE_EQ(es_heap_free(h, big), ES_HEAP_OK);
    void *survivor = es_heap_alloc(h, 1000, &status);
    ck_assert_ptr_nonnull(survivor);
    REQUIRE(es_heap_check(h));

    /* Freeing random addresses inside the region never hurts the heap. */
    uint64_t rng = 3;
    void *live[32];
    for (size_t i = 0; i < 32; i++) {
        live[i] = es_heap_alloc(h, (size_t)rng_below(&rng, 3000), &status);
        ck_assert_ptr_nonnull(live[i]);
    }
    for (size_t i = 0; i < 32; i += 2)
        REQUIRE_EQ(es_heap_free(h, live[i]), ES_HEAP_OK);
    for (int i = 0; i < 100000; i++) {
        unsigned char *p = r.base + rng_below(&rng, r.size);
        if (rng_below(&rng, 2))
            p = (unsigned char *)((uintptr_t)p & ~(uintptr_t)15);
        bool is_live = p == survivor;
        for (size_t j = 1; j < 32; j += 2)
            is_live |= p == live[j];
        if (is_live)
            continue;
        REQUIRE_EQ(es_heap_free(h, p), ES_HEAP_BAD_POINTER);
    }
    REQUIRE(es_heap_check(h));
    region_unmap(&r);
}
END_TEST

static int compare_pointers(const void *a, const void *b)
{
    uintptr_t pa = (uintptr_t)*(void *const *)a, pb = (uintptr_t)*(void *const *)b;
    return pa < pb ? -1 : pa > pb;
}

START_TEST(zero_size_blocks_are_unique)
{
    struct region r = region_map(1 << 20);
    struct es_heap *h = heap_on(&r);
    enum es_heap_status status;
    static unsigned char *blocks[2000];
    for (size_t i = 0; i < 2000; i++) {
        blocks[i] = es_heap_alloc(h, 0, &status);
        ck_assert_ptr_nonnull(blocks[i]);
        REQUIRE_EQ(es_heap_block_size(h, blocks[i]), 0);
        if (i > 0)
            ck_assert_ptr_ne(blocks[i], blocks[i - 1]);
    }
    /* Distinct from each other, not just from their neighbours in time. */
    qsort(blocks, 2000, sizeof blocks[0], compare_pointers);
    for (size_t i = 1; i < 2000; i++)
        REQUIRE((uintptr_t)blocks[i - 1] < (uintptr_t)blocks[i]);
    struct es_heap_stats stats;
    es_heap_stats(h, &stats);
    REQUIRE_EQ(stats.blocks_in_use, 2000);
    REQUIRE_EQ(stats.bytes_in_use, 0);
    for (size_t i = 0; i < 2000; i++)
        REQUIRE_EQ(es_heap_free(h, blocks[i]), ES_HEAP_OK);
    REQUIRE(es_heap_check(h));
    region_unmap(&r);
}
END_TEST

START_TEST(huge_sizes_fail_cleanly)
{
    struct region r = region_map(1 << 20);
    struct es_heap *h = heap_on(&r);
    size_t arena = arena_of(h);
    enum es_heap_status status;
    const size_t sizes[] = {SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 15, SIZE_MAX / 2, SIZE_MAX / 2 + 1,
                            (size_t)1 << 48, ((size_t)1 << 48) - 16, arena, arena + 1,
                            arena - ES_HEAP_ALIGN + 1};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        status = ES_HEAP_OK;
        ck_assert_ptr_null(es_heap_alloc(h, sizes[i], &status));
        REQUIRE_MSG(status == ES_HEAP_NO_MEMORY || status == ES_HEAP_TOO_LARGE,
                      "alloc %zu: status %d", sizes[i], status);
        status = ES_HEAP_OK;
        ck_assert_ptr_null(es_heap_realloc(h, NULL, sizes[i], &status));
        REQUIRE(status == ES_HEAP_NO_MEMORY || status == ES_HEAP_TOO_LARGE);
    }
    status = ES_HEAP_OK;
    ck_assert_ptr_null(es_heap_alloc(h, SIZE_MAX, &status));
    REQUIRE_EQ(status, ES_HEAP_TOO_LARGE);
    struct es_heap_stats stats;
    es_heap_stats(h, &stats);
    REQUIRE_EQ(stats.blocks_in_use, 0);
    REQUIRE_EQ(stats.peak_bytes, 0);
    REQUIRE(es_heap_check(h));
    ck_assert_ptr_nonnull(es_heap_alloc(h, arena - ES_HEAP_ALIGN, &status));
    region_unmap(&r);
}
END_TEST

START_TEST(stats_track_requested_sizes)
{
    struct region r = region_map(1 << 20);
    struct es_heap *h = heap_on(&r);
    enum es_heap_status status;
    void *a = es_heap_alloc(h, 1, &status);
    void *b = es_heap_alloc(h, 1000, &status);
    void *c = es_heap_alloc(h, 33, &status);
    REQUIRE_EQ(es_heap_block_size(h, a), 1);
    REQUIRE_EQ(es_heap_block_size(h, b), 1000);
    REQUIRE_EQ(es_heap_block_size(h, c), 33);
    struct es_heap_stats stats;
    es_heap_stats(h, &stats);
    REQUIRE_EQ(stats.bytes_in_use, 1034);
    REQUIRE_EQ(stats.blocks_in_use, 3);
    REQUIRE_EQ(stats.peak_bytes, 1034);
    b = es_heap_realloc(h, b, 10, &status);
    es_heap_free(h, a);
    es_heap_stats(h, &stats);
    REQUIRE_EQ(stats.bytes_in_use, 43);
    REQUIRE_EQ(stats.blocks_in_use, 2);
    REQUIRE_EQ(stats.peak_bytes, 1034);
    REQUIRE_EQ(stats.arena_size, arena_of(h));
    REQUIRE(es_heap_check(h));
    region_unmap(&r);
}
END_TEST

/* ---- Hostile metadata ----------------------------------------------------- */

/* Block headers the heap wrote, harvested from the 16 bytes in front of
 * blocks it handed out.  Put back later at the same offset, when the layout
 * has changed, such a stale header passes the tag check (which a random
 * word almost never does), so the allocator's deeper consistency checks get
 * exercised too. */
struct harvested_header {
    size_t offset;
    unsigned char bytes[16];
};

static struct {
    size_t count;
    struct harvested_header headers[8192];
} harvest;

static void harvest_header(const struct region *r, const unsigned char *p)
{
    size_t offset = (size_t)(p - r->base);
    if (offset < 16 || harvest.count == sizeof harvest.headers / sizeof harvest.headers[0])
        return;
    struct harvested_header *entry = &harvest.headers[harvest.count++];
    entry->offset = offset - 16;
    memcpy(entry->bytes, p - 16, 16);
}

/* One operation on a heap whose bytes may be anything: whatever it returns
 * must be an error or lie inside the region.  Blocks handed out are written
 * in full, as an expert would, which keeps scrambling the metadata. */
static void hostile_operation(struct region *r, struct es_heap *h, uint64_t *rng, void **kept,
                              size_t kept_count)
{
    enum es_heap_status status = ES_HEAP_OK;
    size_t n = rng_below(rng, 8) == 0 ? (size_t)rng_next(rng) >> rng_below(rng, 64)
                                      : (size_t)rng_below(rng, 4096);
    void **slot = &kept[rng_below(rng, kept_count)];
    unsigned char *p;
    switch (rng_below(rng, 7)) {
    case 0:
    case 1:
        p = es_heap_alloc(h, n, &status);
        break;
    case 2: {
        /* Free something: a kept block, a random in-region address, or one
         * in the guard zones (must not be dereferenced). */
        void *target = *slot;
        uint64_t pick = rng_below(rng, 4);
        if (pick == 1)
            target = r->base + (rng_below(rng, r->size) & ~(uint64_t)15);
        else if (pick == 2)
            target = r->base + r->size + 16 + (rng_below(rng, GUARD_SIZE / 2) & ~(uint64_t)15);
        else if (pick == 3)
            target = r->base - 16 - (rng_below(rng, GUARD_SIZE / 2) & ~(uint64_t)15);
        enum es_heap_status freed = es_heap_free(h, target);
        REQUIRE_MSG(freed == ES_HEAP_OK || freed == ES_HEAP_BAD_POINTER || freed == ES_HEAP_CORRUPT,
                      "free status %d", freed);
        if (freed == ES_HEAP_OK) {
            REQUIRE(target == NULL || in_region(r, target, 0));
            if (target == *slot)
                *slot = NULL;
        } else {
            REQUIRE(target != NULL);
        }
        return;
    }
    case 3:
    case 4:
        p = es_heap_realloc(h, *slot, n, &status);
        if (p != NULL)
            *slot = NULL;
        break;
    case 5: {
        size_t size = es_heap_block_size(h, *slot);
        REQUIRE(size == 0 || (in_region(r, *slot, size)));
        struct es_heap_stats stats;
        es_heap_stats(h, &stats);
        ck_assert_uint_le(stats.arena_size, r->size);
        return;
    }
    default:
        (void)es_heap_check(h);
        return;
    }
    if (p == NULL) {
        REQUIRE_MSG(status == ES_HEAP_NO_MEMORY || status == ES_HEAP_CORRUPT ||
                      status == ES_HEAP_BAD_POINTER || status == ES_HEAP_TOO_LARGE,
                      "failed call with status %d", status);
        return;
    }
    REQUIRE_EQ(status, ES_HEAP_OK);
    REQUIRE_MSG(in_region(r, p, n), "block %p+%zu outside region %p+%zu", (void *)p, n,
                  (void *)r->base, r->size);
    harvest_header(r, p);
    memset(p, (int)(rng_next(rng) & 0xFF), n);
    *slot = p;
}

/* A value that looks plausible to the allocator in one way or another. */
static uint64_t nasty_word(const struct region *r, uint64_t *rng)
{
    uint64_t offset = rng_below(rng, r->size) & ~(uint64_t)15;
    switch (rng_below(rng, 10)) {
    case 0:
        return 0;
    case 1:
        return UINT64_MAX;
    case 2:
        return offset;                                  /* an in-region offset */
    case 3:
        return (uint64_t)(uintptr_t)(r->base + offset);  /* an in-region pointer */
    case 4:
        return offset + r->size + (rng_below(rng, 1 << 20) << 4);  /* just beyond */
    case 5:
        return (rng_below(rng, 4096) << 4) | rng_below(rng, 16);   /* size | flags */
    case 6: {
        uint64_t copied;                                /* another word of the region */
        memcpy(&copied, r->base + (rng_below(rng, r->size / 8) * 8), sizeof copied);
        return copied;
    }
    case 7:
        return UINT64_C(1) << rng_below(rng, 64);
    default:
        return rng_next(rng);
    }
}

/* kept[] starts with the given pointers (which may be anything). */
static void hostile_rounds(struct region *r, struct es_heap *h, uint64_t *rng, int calls,
                           void *const *start, size_t start_count)
{
    void *kept[64] = {0};
    for (size_t i = 0; i < start_count && i < 64; i++)
        kept[i] = start[i];
    for (int i = 0; i < calls; i++)
        hostile_operation(r, h, rng, kept, 64);
}

/* Builds a busy, healthy heap: used and free blocks of many sizes. */
static struct es_heap *busy_heap(struct region *r, uint64_t *rng)
{
    memset(r->base, 0, r->size);
    struct es_heap *h = heap_on(r);
    void *blocks[256];
    size_t count = 0;
    for (int i = 0; i < 600; i++) {
        enum es_heap_status status;
        if (count < 256 && rng_below(rng, 3) != 0) {
            void *p = es_heap_alloc(h, (size_t)rng_below(rng, 3000), &status);
            if (p != NULL) {
                harvest_header(r, p);
                blocks[count++] = p;
            }
        } else if (count > 0) {
            size_t j = (size_t)rng_below(rng, count);
            REQUIRE_EQ(es_heap_free(h, blocks[j]), ES_HEAP_OK);
            blocks[j] = blocks[--count];
        }
    }
    REQUIRE(es_heap_check(h));
    return h;
}

START_TEST(scribbled_whole_region)
{
    struct region r = region_map(1 << 20);
    uint64_t rng = 77 + (uint64_t)_i;
    for (int pattern = 0; pattern < 5; pattern++) {
        struct es_heap *h = busy_heap(&r, &rng);
        uint64_t *words = (uint64_t *)(void *)r.base;
        for (size_t i = 0; i < r.size / 8; i++) {
            switch (pattern) {
            case 0: words[i] = rng_next(&rng); break;
            case 1: words[i] = UINT64_MAX; break;
            case 2: words[i] = (uint64_t)(uintptr_t)(r.base + (rng_below(&rng, r.size) & ~(uint64_t)15)); break;
            case 3: words[i] = rng_below(&rng, r.size) & ~(uint64_t)15; break;
            default: words[i] = nasty_word(&r, &rng); break;
            }
        }
        hostile_rounds(&r, h, &rng, 20000, NULL, 0);
        /* The control structure was destroyed: nothing may succeed. */
        enum es_heap_status status;
        ck_assert_ptr_null(es_heap_alloc(h, 16, &status));
        REQUIRE_EQ(status, ES_HEAP_CORRUPT);
        REQUIRE(!es_heap_check(h));
    }
    region_unmap(&r);
}
END_TEST

START_TEST(scribbled_arena_with_intact_control)
{
    /* Garbage everywhere except the control structure, which is restored as
     * it was, so every call gets past the entry checks into the blocks. */
    struct region r = region_map(1 << 20);
    uint64_t rng = 1234 + (uint64_t)_i;
    static unsigned char control[64 * 1024];
    for (int round = 0; round < 40; round++) {
        struct es_heap *h = busy_heap(&r, &rng);
        size_t control_size = r.size - arena_of(h);
        ck_assert_uint_le(control_size, sizeof control);
        memcpy(control, r.base, control_size);
        uint64_t *words = (uint64_t *)(void *)r.base;
        for (size_t i = 0; i < r.size / 8; i++)
            words[i] = round % 2 ? nasty_word(&r, &rng) : rng_next(&rng);
        memcpy(r.base, control, control_size);
        hostile_rounds(&r, h, &rng, 2000, NULL, 0);
    }
    region_unmap(&r);
}
END_TEST

START_TEST(scribbled_words_in_busy_heap)
{
    /* The subtle case: a healthy heap with a few words overwritten, so most
     * checks pass and the allocator keeps working on partly wrong data. */
    struct region r = region_map(256 * 1024);
    uint64_t rng = 99 + (uint64_t)_i * 1000003;
    size_t detected = 0;
    for (int round = 0; round < 400; round++) {
        struct es_heap *h = busy_heap(&r, &rng);
        /* Half the rounds plant stale headers, and aim calls at them. */
        void *planted[8];
        size_t planted_count = 0;
        while (round % 2 == 1 && planted_count < 8 && harvest.count > 0) {
            const struct harvested_header *entry = &harvest.headers[rng_below(&rng, harvest.count)];
            memcpy(r.base + entry->offset, entry->bytes, sizeof entry->bytes);
            planted[planted_count++] = r.base + entry->offset + 16;
        }
        size_t words = round % 2 == 1 ? 0 : 1 + (size_t)rng_below(&rng, 4);
        for (size_t i = 0; i < words; i++) {
            /* Aim at the control structure a third of the time. */
            size_t limit = rng_below(&rng, 3) == 0 ? r.size - arena_of(h) : r.size;
            size_t at = (size_t)rng_below(&rng, limit / 8) * 8;
            uint64_t value = nasty_word(&r, &rng);
            if (rng_below(&rng, 3) == 0) {
                memcpy(&value, r.base + at, sizeof value);
                value ^= UINT64_C(1) << rng_below(&rng, 64);   /* one flipped bit */
            }
            memcpy(r.base + at, &value, sizeof value);
        }
        hostile_rounds(&r, h, &rng, 300, planted, planted_count);
        detected += !es_heap_check(h);
    }
    ck_assert_uint_gt(detected, 0);
    region_unmap(&r);
}
END_TEST

START_TEST(stale_headers_from_a_larger_heap)
{
    /* Headers harvested from a heap over the whole mapping, planted into a
     * heap over its lower half with the upper half made PROT_NONE: their
     * tags are valid for their offsets but their sizes may reach past the
     * smaller arena, which the allocator must notice before following. */
    struct region whole = region_map(512 * 1024);
    uint64_t rng = 4242 + (uint64_t)_i;
    harvest.count = 0;
    for (int round = 0; round < 20; round++) {
        struct es_heap *h = busy_heap(&whole, &rng);
        for (int i = 0; i < 20; i++) {
            enum es_heap_status status;
            unsigned char *p = es_heap_alloc(h, (size_t)rng_below(&rng, 200 * 1024), &status);
            if (p != NULL)
                harvest_header(&whole, p);
        }
    }
    struct region half = whole;
    half.size = whole.size / 2;
    ck_assert_int_eq(mprotect(half.base + half.size, whole.size - half.size, PROT_NONE), 0);
    size_t planted_total = 0;
    for (int round = 0; round < 200; round++) {
        struct es_heap *h = busy_heap(&half, &rng);
        void *planted[8];
        size_t planted_count = 0;
        for (int tries = 0; tries < 64 && planted_count < 8; tries++) {
            const struct harvested_header *entry = &harvest.headers[rng_below(&rng, harvest.count)];
            if (entry->offset + 32 > half.size)
                continue;
            memcpy(half.base + entry->offset, entry->bytes, sizeof entry->bytes);
            planted[planted_count++] = half.base + entry->offset + 16;
        }
        planted_total += planted_count;
        hostile_rounds(&half, h, &rng, 300, planted, planted_count);
        (void)es_heap_check(h);
    }
    ck_assert_uint_gt(planted_total, 100);
    region_unmap(&whole);
}
END_TEST

/* The arena's bounds and fresh mark are in the caller's handle, not in the
 * region: overwriting the whole control structure (every list and cache
 * head, bitmap, counter; the magic too or not) must not make any call,
 * fast path or general, hand out memory or accept a free. */
START_TEST(control_overwritten_moves_no_bound)
{
    struct region r = region_map(1 << 20);
    uint64_t rng = 99 + (uint64_t)_i;
    struct es_heap *h = busy_heap(&r, &rng);
    enum es_heap_status status;
    unsigned char *live = es_heap_alloc(h, 100, &status);
    unsigned char *cached = es_heap_alloc(h, 100, &status);
    ck_assert_ptr_nonnull(cached);
    REQUIRE_EQ(es_heap_free(h, cached), ES_HEAP_OK);
    size_t control = r.size - arena_of(h);
    uint64_t magic;
    memcpy(&magic, r.base, sizeof magic);
    uint64_t *words = (uint64_t *)(void *)r.base;
    for (size_t i = 0; i < control / 8; i++) {
        switch (_i) {
        case 0: words[i] = UINT64_MAX; break;
        case 1: words[i] = r.size + 4096; break;                          /* past the arena */
        default: words[i] = (uint64_t)(uintptr_t)(live - 16) - (uint64_t)(uintptr_t)r.base; break;
        }
    }
    if (_i != 0)
        memcpy(r.base, &magic, sizeof magic);   /* as if only the state were hit */
    for (size_t n = 0; n <= 1100; n += 4) {
        unsigned char *p = es_heap_alloc(h, n, &status);
        REQUIRE_MSG(p == NULL, "alloc(%zu) handed out %p", n, (void *)p);
        REQUIRE_EQ(status, ES_HEAP_CORRUPT);
    }
    ck_assert_ptr_null(es_heap_alloc(h, 100000, &status));
    REQUIRE(es_heap_free(h, live) != ES_HEAP_OK);
    REQUIRE(es_heap_free(h, cached) != ES_HEAP_OK);
    REQUIRE(!es_heap_check(h));
    region_unmap(&r);
}
END_TEST

/* The fast paths bound offsets by the fresh mark, which on a heap that has
 * handed out nothing (or little) lies right after the control structure:
 * a bound computed as "fresh minus a size" must not wrap there.  A cache
 * head or a pointer to free that names the guard past the region must be
 * refused without being read. */
START_TEST(fast_paths_bounded_on_a_fresh_heap)
{
    struct region r = region_map(1 << 20);
    struct es_heap *h = heap_on(&r);
    enum es_heap_status status;
    if (_i == 1) {
        void *first = es_heap_alloc(h, 16, &status);   /* fresh mark 32 bytes up */
        ck_assert_ptr_nonnull(first);
    }
    size_t control = r.size - arena_of(h);
    uint64_t past = r.size + 4096;                     /* in the upper guard */
    unsigned char *outside = r.base + past + 16;
    REQUIRE_EQ(es_heap_free(h, outside), ES_HEAP_BAD_POINTER);
    REQUIRE_EQ(es_heap_free(h, r.base + r.size + 16), ES_HEAP_BAD_POINTER);
    uint64_t *words = (uint64_t *)(void *)r.base;
    for (size_t i = 1; i < control / 8; i++)           /* the magic kept */
        words[i] = past;
    for (size_t n = 0; n <= 1100; n += 4) {
        unsigned char *p = es_heap_alloc(h, n, &status);
        REQUIRE_MSG(p == NULL, "alloc(%zu) handed out %p", n, (void *)p);
        REQUIRE_EQ(status, ES_HEAP_CORRUPT);
    }
    region_unmap(&r);
}
END_TEST

/* nmapi has the heap keep its counters in the broker's control block: they
 * must be kept there, on the fast paths and the general ones alike. */
START_TEST(counters_kept_where_asked)
{
    struct region r = region_map(1 << 20);
    struct es_heap_counters place;
    memset(&place, 0xab, sizeof place);          /* init clears them */
    struct es_heap *h = es_heap_init(&r.handle, r.base, r.size, &place);
    ck_assert_ptr_nonnull(h);
    ck_assert_ptr_eq(es_heap_counters(h), &place);
    REQUIRE_EQ(place.bytes_in_use, 0);
    REQUIRE_EQ(place.blocks_in_use, 0);
    REQUIRE_EQ(place.peak_bytes, 0);
    enum es_heap_status status;
    unsigned char *a = es_heap_alloc(h, 100, &status);
    unsigned char *b = es_heap_alloc(h, 5000, &status);
    ck_assert_ptr_nonnull(b);
    REQUIRE_EQ(place.bytes_in_use, 5100);
    REQUIRE_EQ(place.blocks_in_use, 2);
    REQUIRE_EQ(place.peak_bytes, 5100);
    REQUIRE_EQ(es_heap_free(h, a), ES_HEAP_OK);          /* into the cache */
    REQUIRE_EQ(place.bytes_in_use, 5000);
    REQUIRE_EQ(place.blocks_in_use, 1);
    struct es_heap_stats stats;
    es_heap_stats(h, &stats);
    REQUIRE_EQ(stats.cached_bytes, 128);
    ck_assert_ptr_eq(es_heap_alloc(h, 97, &status), a);  /* a cache hit: same block size */
    es_heap_stats(h, &stats);
    REQUIRE_EQ(stats.cached_bytes, 0);
    REQUIRE_EQ(place.bytes_in_use, 5097);
    REQUIRE_EQ(place.blocks_in_use, 2);
    REQUIRE_EQ(place.peak_bytes, 5100);
    b = es_heap_realloc(h, b, 6000, &status);
    ck_assert_ptr_nonnull(b);
    REQUIRE_EQ(place.bytes_in_use, 6097);
    REQUIRE_EQ(place.peak_bytes, 6097);
    REQUIRE_EQ(es_heap_free(h, b), ES_HEAP_OK);          /* into the TLSF */
    REQUIRE_EQ(es_heap_free(h, a), ES_HEAP_OK);
    REQUIRE_EQ(place.bytes_in_use, 0);
    REQUIRE_EQ(place.blocks_in_use, 0);
    es_heap_stats(h, &stats);
    REQUIRE_EQ(stats.bytes_in_use, 0);
    REQUIRE_EQ(stats.peak_bytes, 6097);
    REQUIRE(es_heap_check(h));
    region_unmap(&r);
}
END_TEST

START_TEST(corruption_is_latched)
{
    struct region r = region_map(1 << 20);
    struct es_heap *h = heap_on(&r);
    enum es_heap_status status;
    /* Above the cache's sizes: freeing a goes to the TLSF, which validates
     * a's successor (the cached case is overflow_into_cached_block). */
    unsigned char *a = es_heap_alloc(h, 1100, &status);
    unsigned char *b = es_heap_alloc(h, 1100, &status);
    ck_assert_ptr_nonnull(b);
    /* An overflow from a tramples b's header and a's free neighbour logic. */
    memset(a, 0x41, 1104 + 16 + 8);
    enum es_heap_status freed = es_heap_free(h, b);
    REQUIRE(freed == ES_HEAP_BAD_POINTER || freed == ES_HEAP_CORRUPT);
    /* Freeing a needs b's header, which is garbage now. */
    REQUIRE_EQ(es_heap_free(h, a), ES_HEAP_CORRUPT);
    ck_assert_ptr_null(es_heap_alloc(h, 10, &status));
    REQUIRE_EQ(status, ES_HEAP_CORRUPT);
    ck_assert_ptr_null(es_heap_realloc(h, a, 10, &status));
    REQUIRE_EQ(status, ES_HEAP_CORRUPT);
    REQUIRE(!es_heap_check(h));
    region_unmap(&r);
}
END_TEST

/* ---- Small-block cache ----------------------------------------------------- */

/* A freed small block is cached (kept physically used, on a LIFO list of its
 * size).  It must still be refused as a double free, a realloc or a size
 * query, come back zeroed, and count as not in use. */
START_TEST(cached_block_double_free)
{
    struct region r = region_map(1 << 20);
    struct es_heap *h = heap_on(&r);
    enum es_heap_status status;
    unsigned char *a = es_heap_alloc(h, 200, &status);
    unsigned char *b = es_heap_alloc(h, 200, &status);
    ck_assert_ptr_nonnull(b);
    memset(a, 0xa5, 200);
    REQUIRE_EQ(es_heap_free(h, a), ES_HEAP_OK);
    struct es_heap_stats stats;
    es_heap_stats(h, &stats);
    REQUIRE_EQ(stats.blocks_in_use, 1);
    REQUIRE_EQ(stats.bytes_in_use, 200);
    REQUIRE_EQ(stats.cached_bytes, 224);
    REQUIRE_EQ(es_heap_free(h, a), ES_HEAP_BAD_POINTER);
    ck_assert_ptr_null(es_heap_realloc(h, a, 10, &status));
    REQUIRE_EQ(status, ES_HEAP_BAD_POINTER);
    REQUIRE_EQ(es_heap_block_size(h, a), 0);
    REQUIRE(es_heap_check(h));

    /* Same size class: the cached block comes back, cleared. */
    unsigned char *again = es_heap_alloc(h, 195, &status);
    ck_assert_ptr_eq(again, a);
    REQUIRE_EQ(first_nonzero(again, 0, 195), 195);
    REQUIRE_EQ(es_heap_block_size(h, again), 195);
    es_heap_stats(h, &stats);
    REQUIRE_EQ(stats.cached_bytes, 0);
    REQUIRE_EQ(stats.bytes_in_use, 395);
    /* Popped, it is an ordinary live block: one free works, the next not. */
    REQUIRE_EQ(es_heap_free(h, again), ES_HEAP_OK);
    REQUIRE_EQ(es_heap_free(h, again), ES_HEAP_BAD_POINTER);
    REQUIRE_EQ(es_heap_free(h, b), ES_HEAP_OK);
    REQUIRE_EQ(es_heap_free(h, b), ES_HEAP_BAD_POINTER);
    REQUIRE(es_heap_check(h));
    region_unmap(&r);
}
END_TEST

/* Five cached blocks of one size (LIFO: e is the head, linked to d); the
 * expert then overwrites e's link (header word 1, 8 bytes below its
 * payload).  Popping e is fine; popping what the link names must be refused
 * as corruption unless it really is a cached block of that size: never a
 * live block, a free block, a block of another size, garbage, or e again. */
static void corrupt_cache_link(int which)
{
    struct region r = region_map(1 << 20);
    struct es_heap *h = heap_on(&r);
    enum es_heap_status status;
    unsigned char *blocks[5], *other, *live, *big;
    for (int i = 0; i < 5; i++)
        blocks[i] = es_heap_alloc(h, 100, &status);
    other = es_heap_alloc(h, 300, &status);
    live = es_heap_alloc(h, 100, &status);
    big = es_heap_alloc(h, 5000, &status);
    unsigned char *guard = es_heap_alloc(h, 100, &status);
    ck_assert_ptr_nonnull(guard);
    REQUIRE_EQ(es_heap_free(h, other), ES_HEAP_OK);   /* cached, other size */
    REQUIRE_EQ(es_heap_free(h, big), ES_HEAP_OK);     /* TLSF free block */
    for (int i = 0; i < 5; i++)
        REQUIRE_EQ(es_heap_free(h, blocks[i]), ES_HEAP_OK);
    REQUIRE(es_heap_check(h));

    unsigned char *e = blocks[4];
    uint64_t base = (uint64_t)(uintptr_t)r.base;
    uint64_t link;
    bool legit = false;
    switch (which) {
    case 0: link = (uint64_t)(uintptr_t)(live - 16) - base; break;      /* a live block */
    case 1: link = (uint64_t)(uintptr_t)(big - 16) - base; break;       /* a free block */
    case 2: link = (uint64_t)(uintptr_t)(other - 16) - base; break;     /* cached, 300 */
    case 3: link = (uint64_t)(uintptr_t)(e - 16) - base; break;         /* itself: a cycle */
    case 4: link = (uint64_t)(uintptr_t)(live + 32) - base; break;      /* inside a live block */
    case 5: link = r.size + 4096; break;                                /* past the arena */
    case 6: link = UINT64_MAX - 15; break;
    case 7: link = 8; break;                                            /* the control block */
    case 8: link = (uint64_t)(uintptr_t)(blocks[1] - 16) - base + 1; break; /* misaligned */
    case 9: link = 0x4141414141414141u; break;
    default:                                                            /* skips d: still sound */
        link = (uint64_t)(uintptr_t)(blocks[2] - 16) - base;
        legit = true;
        break;
    }
    memcpy(e - 8, &link, sizeof link);

    unsigned char *first = es_heap_alloc(h, 100, &status);
    ck_assert_ptr_eq(first, e);
    unsigned char *second = es_heap_alloc(h, 100, &status);
    if (legit) {
        ck_assert_ptr_eq(second, blocks[2]);
        REQUIRE_EQ(first_nonzero(second, 0, 100), 100);
        /* d is lost to the cache (an expert's scribble), never handed out
         * twice; the walk notices the unlisted cached block. */
        REQUIRE(!es_heap_check(h));
    } else {
        ck_assert_ptr_null(second);
        REQUIRE_EQ(status, ES_HEAP_CORRUPT);
        ck_assert_ptr_null(es_heap_alloc(h, 5000, &status));
        REQUIRE_EQ(status, ES_HEAP_CORRUPT);
        REQUIRE_EQ(es_heap_free(h, live), ES_HEAP_CORRUPT);
        REQUIRE(!es_heap_check(h));
    }
    region_unmap(&r);
}

START_TEST(corrupted_cache_links)
{
    corrupt_cache_link(_i);
}
END_TEST

/* An overflow from a live block over the header of its cached successor:
 * popping the successor checks its tag, so it is caught, not handed out. */
START_TEST(overflow_into_cached_block)
{
    struct region r = region_map(1 << 20);
    struct es_heap *h = heap_on(&r);
    enum es_heap_status status;
    unsigned char *a = es_heap_alloc(h, 100, &status);
    unsigned char *b = es_heap_alloc(h, 100, &status);
    ck_assert_ptr_nonnull(b);
    REQUIRE_EQ(es_heap_free(h, b), ES_HEAP_OK);
    memset(a, 0x41, 112 + 16);
    ck_assert_ptr_null(es_heap_alloc(h, 100, &status));
    REQUIRE_EQ(status, ES_HEAP_CORRUPT);
    REQUIRE_EQ(es_heap_free(h, a), ES_HEAP_CORRUPT);
    REQUIRE(!es_heap_check(h));
    region_unmap(&r);

    /* The same scribble found while flushing (an allocation the TLSF alone
     * cannot satisfy) is corruption too. */
    r = region_map(1 << 16);
    h = heap_on(&r);
    a = es_heap_alloc(h, 100, &status);
    b = es_heap_alloc(h, 100, &status);
    ck_assert_ptr_nonnull(b);
    REQUIRE_EQ(es_heap_free(h, b), ES_HEAP_OK);
    memset(a, 0x41, 112 + 16);
    /* a (128 bytes) stays: only with b merged back does this fit. */
    ck_assert_ptr_null(es_heap_alloc(h, arena_of(h) - 16 - 128, &status));
    REQUIRE_EQ(status, ES_HEAP_CORRUPT);
    region_unmap(&r);
}
END_TEST

/* The whole quota in small blocks of every cached size, all freed (the
 * caches fill up to their cap, the rest goes to the TLSF): one allocation of
 * nearly the whole arena must still succeed, by flushing the caches, and a
 * realloc that can only grow in place over cached neighbours too. */
START_TEST(quota_exhaustion_with_full_caches)
{
    struct region r = region_map(1 << 18);
    struct es_heap *h = heap_on(&r);
    size_t arena = arena_of(h);
    enum es_heap_status status;
    static void *kept[20000];
    size_t count = 0;
    for (;;) {
        size_t n = 1 + (count * 37) % 1024;
        void *p = es_heap_alloc(h, n, &status);
        if (p == NULL) {
            REQUIRE_EQ(status, ES_HEAP_NO_MEMORY);
            break;
        }
        REQUIRE(count < sizeof kept / sizeof kept[0]);
        kept[count++] = p;
    }
    /* The last ones are too big for what is left: fill with the smallest. */
    while (count < sizeof kept / sizeof kept[0] && (kept[count] = es_heap_alloc(h, 1, &status)) != NULL)
        count++;
    REQUIRE(es_heap_check(h));
    for (size_t i = 0; i < count; i++)
        REQUIRE_EQ(es_heap_free(h, kept[i]), ES_HEAP_OK);
    struct es_heap_stats stats;
    es_heap_stats(h, &stats);
    REQUIRE_EQ(stats.blocks_in_use, 0);
    REQUIRE_EQ(stats.bytes_in_use, 0);
    ck_assert_uint_gt(stats.cached_bytes, 0);
    ck_assert_uint_le(stats.cached_bytes, arena / 8);
    REQUIRE(es_heap_check(h));

    unsigned char *whole = es_heap_alloc(h, arena - 16, &status);
    ck_assert_ptr_nonnull(whole);
    REQUIRE_EQ(first_nonzero(whole, 0, arena - 16), arena - 16);
    es_heap_stats(h, &stats);
    REQUIRE_EQ(stats.cached_bytes, 0);
    REQUIRE(es_heap_check(h));
    REQUIRE_EQ(es_heap_free(h, whole), ES_HEAP_OK);

    /* Realloc: the first block stays, everything after it is cached or
     * free; growing it to the whole arena needs those cached neighbours. */
    unsigned char *first = es_heap_alloc(h, 64, &status);
    memset(first, 0x5a, 64);
    count = 0;
    while (count < sizeof kept / sizeof kept[0] && (kept[count] = es_heap_alloc(h, 48, &status)) != NULL)
        count++;
    for (size_t i = 0; i < count; i++)
        REQUIRE_EQ(es_heap_free(h, kept[i]), ES_HEAP_OK);
    es_heap_stats(h, &stats);
    ck_assert_uint_gt(stats.cached_bytes, 0);
    unsigned char *grown = es_heap_realloc(h, first, arena - 16, &status);
    ck_assert_ptr_eq(grown, first);
    for (size_t i = 0; i < 64; i++)
        REQUIRE_EQ(grown[i], 0x5a);
    REQUIRE_EQ(first_nonzero(grown, 64, arena - 16), arena - 16);
    REQUIRE(es_heap_check(h));
    region_unmap(&r);
}
END_TEST

/* Cached blocks pin their places; before the heap grows into memory never
 * used (as much as the caches hold), they go back to the TLSF and merge, so
 * a larger block reuses their room instead of growing the footprint. */
START_TEST(caches_flushed_before_growing)
{
    struct region r = region_map(1 << 20);
    struct es_heap *h = heap_on(&r);
    enum es_heap_status status;
    static unsigned char *small[200];
    for (size_t i = 0; i < 200; i++)
        small[i] = es_heap_alloc(h, 100, &status);
    ck_assert_ptr_nonnull(small[199]);
    for (size_t i = 0; i < 200; i++)
        REQUIRE_EQ(es_heap_free(h, small[i]), ES_HEAP_OK);
    struct es_heap_stats stats;
    es_heap_stats(h, &stats);
    REQUIRE_EQ(stats.cached_bytes, 200 * 128);

    /* 20000 bytes fit in the 25600 the small blocks held, once merged. */
    unsigned char *big = es_heap_alloc(h, 20000, &status);
    ck_assert_ptr_eq(big, small[0]);
    REQUIRE_EQ(first_nonzero(big, 0, 20000), 20000);
    es_heap_stats(h, &stats);
    REQUIRE_EQ(stats.cached_bytes, 0);
    REQUIRE(es_heap_check(h));

    /* The rest of the old blocks' room serves small requests again. */
    unsigned char *after = es_heap_alloc(h, 100, &status);
    ck_assert_ptr_nonnull(after);
    REQUIRE((uintptr_t)after < (uintptr_t)(small[199] + 128));
    REQUIRE(es_heap_check(h));
    region_unmap(&r);
}
END_TEST

/* Realloc between cached sizes: a moved block's old place is cached (and
 * refused as a pointer from then on), contents survive, growth is zeroed. */
START_TEST(realloc_of_cached_sizes)
{
    struct region r = region_map(1 << 20);
    struct es_heap *h = heap_on(&r);
    enum es_heap_status status;
    unsigned char *a = es_heap_alloc(h, 100, &status);
    unsigned char *pin = es_heap_alloc(h, 16, &status);  /* a cannot grow in place */
    ck_assert_ptr_nonnull(pin);
    fill_pattern(a, 0, 100, 7);
    unsigned char *moved = es_heap_realloc(h, a, 500, &status);
    ck_assert_ptr_nonnull(moved);
    ck_assert_ptr_ne(moved, a);
    REQUIRE_EQ(pattern_mismatch(moved, 0, 100, 7), 100);
    REQUIRE_EQ(first_nonzero(moved, 100, 500), 500);
    REQUIRE_EQ(es_heap_free(h, a), ES_HEAP_BAD_POINTER);
    ck_assert_ptr_null(es_heap_realloc(h, a, 50, &status));
    REQUIRE_EQ(status, ES_HEAP_BAD_POINTER);
    struct es_heap_stats stats;
    es_heap_stats(h, &stats);
    REQUIRE_EQ(stats.bytes_in_use, 516);
    REQUIRE_EQ(stats.blocks_in_use, 2);
    REQUIRE_EQ(stats.cached_bytes, 128);
    REQUIRE(es_heap_check(h));

    /* Its old place comes back, cleared, for the same size. */
    unsigned char *b = es_heap_alloc(h, 110, &status);
    ck_assert_ptr_eq(b, a);
    REQUIRE_EQ(first_nonzero(b, 0, 110), 110);
    /* Shrinking and growing within cached sizes keeps contents. */
    fill_pattern(moved, 0, 500, 9);
    unsigned char *shrunk = es_heap_realloc(h, moved, 40, &status);
    ck_assert_ptr_eq(shrunk, moved);
    REQUIRE_EQ(pattern_mismatch(shrunk, 0, 40, 9), 40);
    unsigned char *regrown = es_heap_realloc(h, shrunk, 1000, &status);
    ck_assert_ptr_nonnull(regrown);
    REQUIRE_EQ(pattern_mismatch(regrown, 0, 40, 9), 40);
    REQUIRE_EQ(first_nonzero(regrown, 40, 1000), 1000);
    REQUIRE(es_heap_check(h));
    region_unmap(&r);
}
END_TEST

static Suite *heap_suite(void)
{
    Suite *s = suite_create("heap");

    TCase *model = tcase_create("model");
    tcase_set_timeout(model, 900);
    tcase_add_loop_test(model, model_random_operations, 0, 3);
    suite_add_tcase(s, model);

    TCase *focused = tcase_create("focused");
    tcase_set_timeout(focused, 300);
    tcase_add_test(focused, init_rejects_bad_regions);
    tcase_add_test(focused, init_touches_only_its_metadata);
    tcase_add_test(focused, fresh_memory_is_not_touched);
    tcase_add_test(focused, fresh_metadata_is_cleared);
    tcase_add_test(focused, min_region_holds_one_small_block);
    tcase_add_test(focused, exhaustion_then_whole_arena_again);
    tcase_add_test(focused, realloc_failure_leaves_block_intact);
    tcase_add_test(focused, realloc_in_place_and_zeroing);
    tcase_add_test(focused, freed_memory_comes_back_zeroed);
    tcase_add_test(focused, bad_pointers_are_refused);
    tcase_add_test(focused, zero_size_blocks_are_unique);
    tcase_add_test(focused, huge_sizes_fail_cleanly);
    tcase_add_test(focused, stats_track_requested_sizes);
    tcase_add_test(focused, cached_block_double_free);
    tcase_add_test(focused, quota_exhaustion_with_full_caches);
    tcase_add_test(focused, realloc_of_cached_sizes);
    tcase_add_test(focused, caches_flushed_before_growing);
    tcase_add_test(focused, counters_kept_where_asked);
    suite_add_tcase(s, focused);

    TCase *hostile = tcase_create("hostile");
    tcase_set_timeout(hostile, 600);
    tcase_add_loop_test(hostile, scribbled_whole_region, 0, 2);
    tcase_add_loop_test(hostile, scribbled_arena_with_intact_control, 0, 3);
    tcase_add_loop_test(hostile, scribbled_words_in_busy_heap, 0, 4);
    tcase_add_loop_test(hostile, stale_headers_from_a_larger_heap, 0, 3);
    tcase_add_test(hostile, corruption_is_latched);
    tcase_add_loop_test(hostile, corrupted_cache_links, 0, 11);
    tcase_add_test(hostile, overflow_into_cached_block);
    tcase_add_loop_test(hostile, control_overwritten_moves_no_bound, 0, 3);
    tcase_add_loop_test(hostile, fast_paths_bounded_on_a_fresh_heap, 0, 2);
    suite_add_tcase(s, hostile);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(heap_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
