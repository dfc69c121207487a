/*
 * bench_alloc.c - ExpertAllocMemory/ExpertFreeMemory/ExpertReallocMemory
 * against glibc and mimalloc on the same workloads.
 *
 * Allocators, each behind the same three function pointers so that the
 * call overhead is the same for all:
 *   expert    the helpers an expert calls (libnmapi: key check, counters,
 *             the TLSF heap over an anonymous region of the quota's size)
 *   tlsf      es_heap_alloc/free/realloc directly: the heap (its small-block
 *             cache and the TLSF) without the helpers' bookkeeping, to
 *             split the cost
 *   glibc     malloc/free/realloc
 *   calloc    glibc calloc: zero-filled like ExpertAllocMemory, the fair
 *             comparison of semantics
 *   mimalloc  mi_malloc/mi_free/mi_realloc, when libmimalloc is installed
 *
 * Workloads (deterministic: the same pseudo-random stream for every
 * allocator); each is a number of identical cycles, so that instruction
 * counts of two cycle counts can be subtracted:
 *   simple    glibc-simple's shape (as mimalloc-bench runs it): batches of
 *             25, 100, 400 and 1600 blocks of one small size (16, 64, 256,
 *             1024 bytes), allocated, written, then freed in order
 *   mixed     4096 slots; each step picks a slot at random: an empty slot
 *             gets a block of a random size (log-uniform 8 B..16 KiB), a
 *             full one is freed or reallocated to another random size
 *   zerofill  the worst case for this heap: blocks of 64..256 KiB, a live
 *             set of 8, each new block written at both ends; a reused
 *             block must be cleared (ExpertAllocMemory zero-fills), which
 *             malloc never does
 *   fragment  many small blocks interleaved with large ones; the large are
 *             freed and medium blocks that fit none of the holes exactly
 *             are asked for: memory overhead under fragmentation
 *
 * Memory overhead: peak resident growth of the sample's process (VmHWM
 * minus VmRSS before the workload) divided by the peak of live requested
 * bytes.  Each sample runs in a fresh child so that no allocator inherits
 * another's memory.
 */
#include <dlfcn.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"
#include "heap.h"
#include "inproc.h"

/* ------------------------------------------------------------------ allocators */

struct allocator {
    const char *name;
    const char *label;
    void *(*alloc)(size_t);
    void (*release)(void *);
    void *(*resize)(void *, size_t);
};

static HEXPERTKEY expert_key;
static struct inproc_host expert_host;
static struct es_heap raw_heap_handle, *raw_heap;

static void *expert_alloc(size_t n)
{
    DWORD error;
    return ExpertAllocMemory(expert_key, n, &error);
}

static void expert_release(void *p)
{
    ExpertFreeMemory(expert_key, p);
}

static void *expert_resize(void *p, size_t n)
{
    DWORD error;
    return ExpertReallocMemory(expert_key, p, n, &error);
}

static void *tlsf_alloc(size_t n)
{
    return es_heap_alloc(raw_heap, n, NULL);
}

static void tlsf_release(void *p)
{
    es_heap_free(raw_heap, p);
}

static void *tlsf_resize(void *p, size_t n)
{
    return es_heap_realloc(raw_heap, p, n, NULL);
}

static void *glibc_alloc(size_t n)
{
    return malloc(n);
}

static void *glibc_zero_alloc(size_t n)
{
    return calloc(1, n);
}

static void glibc_release(void *p)
{
    free(p);
}

static void *glibc_resize(void *p, size_t n)
{
    return realloc(p, n);
}

/* mimalloc through dlopen with RTLD_LOCAL: libmimalloc.so also exports
 * malloc and free, and linking it would replace glibc's allocator in the
 * whole process, the baseline included. */
static void *(*mi_alloc_fn)(size_t);
static void (*mi_release_fn)(void *);
static void *(*mi_resize_fn)(void *, size_t);
static int (*mi_version_fn)(void);

static bool load_mimalloc(void)
{
#ifdef BENCH_HAVE_MIMALLOC
    static int state;   /* 0 unknown, 1 loaded, -1 missing */
    if (state)
        return state > 0;
    state = -1;
    void *lib = dlopen("libmimalloc.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        lib = dlopen("libmimalloc.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        return false;
    *(void **)&mi_alloc_fn = dlsym(lib, "mi_malloc");
    *(void **)&mi_release_fn = dlsym(lib, "mi_free");
    *(void **)&mi_resize_fn = dlsym(lib, "mi_realloc");
    *(void **)&mi_version_fn = dlsym(lib, "mi_version");
    if (mi_alloc_fn && mi_release_fn && mi_resize_fn)
        state = 1;
    return state > 0;
#else
    return false;
#endif
}

static void *mimalloc_alloc(size_t n)
{
    return mi_alloc_fn(n);
}

static void mimalloc_release(void *p)
{
    mi_release_fn(p);
}

static void *mimalloc_resize(void *p, size_t n)
{
    return mi_resize_fn(p, n);
}

static const struct allocator allocators[] = {
    {"expert", "ExpertAllocMemory", expert_alloc, expert_release, expert_resize},
    {"tlsf", "es_heap (no helpers)", tlsf_alloc, tlsf_release, tlsf_resize},
    {"glibc", "glibc malloc", glibc_alloc, glibc_release, glibc_resize},
    {"calloc", "glibc calloc", glibc_zero_alloc, glibc_release, glibc_resize},
    {"mimalloc", "mimalloc", mimalloc_alloc, mimalloc_release, mimalloc_resize},
};

#define ALLOCATOR_COUNT (sizeof allocators / sizeof allocators[0])

#define HEAP_QUOTA (256ull << 20)

/* Sets up the allocator in this (child) process. */
static int prepare_allocator(const struct allocator *a)
{
    if (!strcmp(a->name, "expert")) {
        char why[256];
        if (inproc_open(&expert_host, HEAP_QUOTA, NULL, NULL, NULL, why, sizeof why) != 0) {
            fprintf(stderr, "bench: %s\n", why);
            return -1;
        }
        EXPERTSTARTUPINFO startup;
        expert_key = inproc_begin_call(&expert_host, &startup);
        return 0;
    }
    if (!strcmp(a->name, "tlsf")) {
        void *region = mmap(NULL, HEAP_QUOTA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                            -1, 0);
        raw_heap = region == MAP_FAILED ? NULL : es_heap_init(&raw_heap_handle, region, HEAP_QUOTA, NULL);
        return raw_heap ? 0 : -1;
    }
    if (!strcmp(a->name, "mimalloc"))
        return load_mimalloc() ? 0 : -1;
    return 0;
}

/* ------------------------------------------------------------------ workloads */

struct workload_stats {
    uint64_t ops;                /* allocation, free and realloc calls */
    uint64_t live_bytes;
    uint64_t peak_live_bytes;
    uint64_t failures;
};

static uint64_t rng_state;

static uint64_t next_random(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

/* Roughly log-uniform in [lo, hi] (lo a power of two): an octave at
 * random, then a size in it, so that there are as many small blocks as
 * large ones per octave, as in real programs.  Integer-only: the size
 * draw must cost little next to the allocator. */
static size_t random_size(size_t lo, size_t hi)
{
    unsigned octaves = 0;
    while ((lo << (octaves + 1)) <= hi)
        octaves++;
    size_t base = lo << (next_random() % (octaves + 1));
    size_t n = base + next_random() % base;
    return n > hi ? hi : n;
}

static void note_alloc(struct workload_stats *st, size_t n)
{
    st->live_bytes += n;
    if (st->live_bytes > st->peak_live_bytes)
        st->peak_live_bytes = st->live_bytes;
}

/* Writes the first and last byte, as a program that uses the block would,
 * so that the page is really there; the value keeps it from being elided. */
static void touch(void *p, size_t n)
{
    volatile unsigned char *b = p;
    b[0] = (unsigned char)n;
    if (n > 1)
        b[n - 1] = (unsigned char)n;
}

static const size_t simple_sizes[] = {16, 64, 256, 1024};
static const size_t simple_batches[] = {25, 100, 400, 1600};
#define SIMPLE_OPS_PER_CYCLE (2 * 4 * (25 + 100 + 400 + 1600))

static void run_simple(const struct allocator *a, unsigned long cycles, struct workload_stats *st)
{
    static void *blocks[1600];
    for (unsigned long c = 0; c < cycles; c++) {
        for (size_t s = 0; s < 4; s++) {
            for (size_t b = 0; b < 4; b++) {
                size_t size = simple_sizes[s], batch = simple_batches[b];
                for (size_t i = 0; i < batch; i++) {
                    blocks[i] = a->alloc(size);
                    if (!blocks[i]) {
                        st->failures++;
                        continue;
                    }
                    touch(blocks[i], size);
                    note_alloc(st, size);
                }
                for (size_t i = 0; i < batch; i++) {
                    if (blocks[i])
                        st->live_bytes -= size;
                    a->release(blocks[i]);
                }
                st->ops += 2 * batch;
            }
        }
    }
}

#define MIXED_SLOTS 4096
#define MIXED_OPS_PER_CYCLE 1000

struct slot {
    void *p;
    size_t n;
};

static struct slot mixed_slots[MIXED_SLOTS];

static void release_slots(const struct allocator *a, struct slot *slots, size_t count, struct workload_stats *st)
{
    for (size_t i = 0; i < count; i++) {
        if (slots[i].p) {
            a->release(slots[i].p);
            st->live_bytes -= slots[i].n;
        }
        slots[i].p = NULL;
        slots[i].n = 0;
    }
}

static void run_mixed(const struct allocator *a, unsigned long cycles, struct workload_stats *st)
{
    for (unsigned long c = 0; c < cycles; c++) {
        for (int k = 0; k < MIXED_OPS_PER_CYCLE; k++) {
            struct slot *s = &mixed_slots[next_random() % MIXED_SLOTS];
            uint64_t choice = next_random();
            size_t n = random_size(8, 16384);
            if (!s->p) {
                s->p = a->alloc(n);
                if (!s->p) {
                    st->failures++;
                    continue;
                }
                s->n = n;
                touch(s->p, n);
                note_alloc(st, n);
            } else if (choice & 1) {
                a->release(s->p);
                st->live_bytes -= s->n;
                s->p = NULL;
                s->n = 0;
            } else {
                void *q = a->resize(s->p, n);
                if (!q) {
                    st->failures++;
                    continue;
                }
                st->live_bytes -= s->n;
                s->p = q;
                s->n = n;
                touch(q, n);
                note_alloc(st, n);
            }
            st->ops++;
        }
    }
}

#define ZEROFILL_LIVE 8
#define ZEROFILL_OPS_PER_CYCLE 200

static void run_zerofill(const struct allocator *a, unsigned long cycles, struct workload_stats *st)
{
    struct slot live[ZEROFILL_LIVE] = {{0}};
    size_t next = 0;
    for (unsigned long c = 0; c < cycles; c++) {
        for (int k = 0; k < ZEROFILL_OPS_PER_CYCLE / 2; k++) {
            struct slot *s = &live[next++ % ZEROFILL_LIVE];
            if (s->p) {
                a->release(s->p);
                st->live_bytes -= s->n;
            }
            s->n = random_size(64 * 1024, 256 * 1024);
            s->p = a->alloc(s->n);
            if (!s->p) {
                st->failures++;
                s->n = 0;
            } else {
                touch(s->p, s->n);
                note_alloc(st, s->n);
            }
            st->ops += 2;
        }
    }
    release_slots(a, live, ZEROFILL_LIVE, st);
}

#define FRAGMENT_PAIRS 2000
#define FRAGMENT_OPS_PER_CYCLE (4 * FRAGMENT_PAIRS)

static void run_fragment(const struct allocator *a, unsigned long cycles, struct workload_stats *st)
{
    static struct slot small[FRAGMENT_PAIRS], large[FRAGMENT_PAIRS];
    for (unsigned long c = 0; c < cycles; c++) {
        /* small, large, small, large, ...: every large block sits between
         * two small ones that stay. */
        for (size_t i = 0; i < FRAGMENT_PAIRS; i++) {
            small[i].n = 32;
            small[i].p = a->alloc(small[i].n);
            large[i].n = 1024 + (next_random() % 1024);
            large[i].p = a->alloc(large[i].n);
            if (!small[i].p || !large[i].p) {
                st->failures++;
                continue;
            }
            touch(small[i].p, small[i].n);
            touch(large[i].p, large[i].n);
            note_alloc(st, small[i].n);
            note_alloc(st, large[i].n);
        }
        release_slots(a, large, FRAGMENT_PAIRS, st);
        /* Medium blocks, most of them larger than any hole: they cannot
         * reuse the holes, and the heap must grow past them. */
        for (size_t i = 0; i < FRAGMENT_PAIRS; i++) {
            large[i].n = 1900 + (next_random() % 2048);
            large[i].p = a->alloc(large[i].n);
            if (!large[i].p) {
                st->failures++;
                continue;
            }
            touch(large[i].p, large[i].n);
            note_alloc(st, large[i].n);
        }
        release_slots(a, large, FRAGMENT_PAIRS, st);
        release_slots(a, small, FRAGMENT_PAIRS, st);
        st->ops += FRAGMENT_OPS_PER_CYCLE;
    }
}

struct workload {
    const char *name;
    void (*run)(const struct allocator *, unsigned long cycles, struct workload_stats *);
    unsigned ops_per_cycle;
    unsigned long full_cycles;
    unsigned long quick_cycles;
};

static const struct workload workloads[] = {
    {"simple", run_simple, SIMPLE_OPS_PER_CYCLE, 200, 10},
    {"mixed", run_mixed, MIXED_OPS_PER_CYCLE, 2000, 100},
    {"zerofill", run_zerofill, ZEROFILL_OPS_PER_CYCLE, 200, 10},
    {"fragment", run_fragment, FRAGMENT_OPS_PER_CYCLE, 100, 5},
};

#define WORKLOAD_COUNT (sizeof workloads / sizeof workloads[0])

static void run_workload(const struct workload *w, const struct allocator *a, unsigned long cycles,
                         struct workload_stats *st)
{
    memset(st, 0, sizeof *st);
    rng_state = 0x9e3779b97f4a7c15ull;
    w->run(a, cycles, st);
    if (w->run == run_mixed)
        release_slots(a, mixed_slots, MIXED_SLOTS, st);
}

/* ------------------------------------------------------------------ samples */

/* kB from a /proc/self/status line such as "VmHWM:   1234 kB". */
static long status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long kb = -1;
    size_t len = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, len) && line[len] == ':') {
            kb = strtol(line + len + 1, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

struct alloc_job {
    const struct workload *workload;
    const struct allocator *allocator;
    unsigned long cycles;
};

struct alloc_sample {
    double ns_per_op;
    double overhead;             /* peak RSS growth / peak live bytes */
    uint64_t ops;
    uint64_t failures;
};

static int alloc_child(void *arg, void *result)
{
    const struct alloc_job *job = arg;
    struct alloc_sample *out = result;
    if (prepare_allocator(job->allocator) != 0)
        return 1;
    /* The high-water mark restarts here: only the workload's growth counts. */
    FILE *reset = fopen("/proc/self/clear_refs", "w");
    if (reset) {
        fputs("5", reset);
        fclose(reset);
    }
    long before = status_kb("VmRSS");
    /* A warm-up pass first: the timed pass then measures the allocator in
     * its steady state, not the kernel's first-touch page faults (which
     * the resident-memory figure still accounts for). */
    struct workload_stats st;
    unsigned long warmup = job->cycles / 10 ? job->cycles / 10 : 1;
    run_workload(job->workload, job->allocator, warmup, &st);
    uint64_t start = now_ns();
    run_workload(job->workload, job->allocator, job->cycles, &st);
    uint64_t end = now_ns();
    long peak = status_kb("VmHWM");
    out->ns_per_op = (double)(end - start) / (double)(st.ops ? st.ops : 1);
    out->overhead = before >= 0 && peak >= before && st.peak_live_bytes
                        ? (double)(peak - before) * 1024.0 / (double)st.peak_live_bytes
                        : NAN;
    out->ops = st.ops;
    out->failures = st.failures;
    return 0;
}

static const struct allocator *find_allocator(const char *name)
{
    for (size_t i = 0; i < ALLOCATOR_COUNT; i++)
        if (!strcmp(allocators[i].name, name))
            return &allocators[i];
    return NULL;
}

static const struct workload *find_workload(const char *name)
{
    for (size_t i = 0; i < WORKLOAD_COUNT; i++)
        if (!strcmp(workloads[i].name, name))
            return &workloads[i];
    return NULL;
}

/* `bench --inner alloc ALLOCATOR WORKLOAD CYCLES`, run under callgrind. */
int bench_alloc_inner(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    const struct allocator *a = find_allocator(argv[0]);
    const struct workload *w = find_workload(argv[1]);
    unsigned long cycles = strtoul(argv[2], NULL, 10);
    if (!a || !w || !cycles || prepare_allocator(a) != 0)
        return 2;
    struct workload_stats st;
    run_workload(w, a, cycles, &st);
    return st.failures ? 1 : 0;
}

int bench_alloc(const struct bench_config *cfg, struct bench_report *r)
{
    report_section(r, "alloc", "ExpertAllocMemory/Free/Realloc against glibc and mimalloc");
    bool have_mimalloc = load_mimalloc();
    if (!have_mimalloc)
        report_note(r, "mimalloc not available (%s): its rows are skipped (apt-get install libmimalloc-dev)",
#ifdef BENCH_HAVE_MIMALLOC
                    "libmimalloc.so.2 could not be loaded"
#else
                    "built without mimalloc.h"
#endif
        );
    else if (mi_version_fn)
        report_value(r, "mimalloc_version", mi_version_fn());
    bool callgrind = cfg->callgrind && program_available("valgrind");
    if (cfg->callgrind && !callgrind)
        report_note(r, "valgrind not installed: no instruction counts");
    report_columns(r, "ns/op", "instr/op", "RSS/live", "vs glibc");

    double worst_ratio = NAN;
    char worst_what[96] = "";
    double worst_instr_ratio = NAN;
    char worst_instr_what[96] = "";
    for (size_t w = 0; w < WORKLOAD_COUNT; w++) {
        const struct workload *wl = &workloads[w];
        double glibc_ns = NAN, glibc_instr = NAN;
        double medians[ALLOCATOR_COUNT], instr[ALLOCATOR_COUNT], overhead[ALLOCATOR_COUNT];
        /* Interleave allocators sample by sample, as elsewhere. */
        for (unsigned i = 0; i < cfg->samples; i++) {
            for (size_t k = 0; k < ALLOCATOR_COUNT; k++) {
                const struct allocator *a = &allocators[k];
                if (!strcmp(a->name, "mimalloc") && !have_mimalloc)
                    continue;
                struct alloc_job job = {wl, a, cfg->quick ? wl->quick_cycles : wl->full_cycles};
                struct alloc_sample s;
                char name[96];
                if (run_in_child(alloc_child, &job, &s, sizeof s, NULL, NULL) != 0) {
                    report_note(r, "%s/%s: the sample failed", wl->name, a->name);
                    continue;
                }
                if (s.failures)
                    report_note(r, "%s/%s: %llu allocations failed", wl->name, a->name,
                                (unsigned long long)s.failures);
                snprintf(name, sizeof name, "%s/%s/ns_per_op", wl->name, a->name);
                series_add(report_series(r, name, "ns/op"), s.ns_per_op);
                snprintf(name, sizeof name, "%s/%s/rss_per_live", wl->name, a->name);
                series_add(report_series(r, name, "ratio"), s.overhead);
            }
        }
        for (size_t k = 0; k < ALLOCATOR_COUNT; k++) {
            const struct allocator *a = &allocators[k];
            medians[k] = instr[k] = overhead[k] = NAN;
            if (!strcmp(a->name, "mimalloc") && !have_mimalloc)
                continue;
            char name[96];
            snprintf(name, sizeof name, "%s/%s/ns_per_op", wl->name, a->name);
            medians[k] = series_median(report_series(r, name, "ns/op"));
            snprintf(name, sizeof name, "%s/%s/rss_per_live", wl->name, a->name);
            overhead[k] = series_median(report_series(r, name, "ratio"));
            if (callgrind) {
                char *args[] = {(char *)a->name, (char *)wl->name, NULL};
                double per_cycle = callgrind_per_unit(cfg, "alloc", args, 2, 4);
                if (per_cycle > 0) {
                    instr[k] = per_cycle / wl->ops_per_cycle;
                    snprintf(name, sizeof name, "%s/%s/instructions_per_op", wl->name, a->name);
                    series_add(report_series(r, name, "instr/op"), instr[k]);
                }
            }
            if (!strcmp(a->name, "glibc")) {
                glibc_ns = medians[k];
                glibc_instr = instr[k];
            }
        }
        for (size_t k = 0; k < ALLOCATOR_COUNT; k++) {
            if (isnan(medians[k]))
                continue;
            char label[96], a1[32], a2[32], a3[32], a4[32];
            snprintf(label, sizeof label, "%s: %s", wl->name, allocators[k].label);
            report_row(r, label, fmt_value(a1, sizeof a1, medians[k], 1, ""),
                       fmt_value(a2, sizeof a2, instr[k], 0, ""), fmt_value(a3, sizeof a3, overhead[k], 2, "x"),
                       fmt_ratio(a4, sizeof a4, medians[k] / glibc_ns));
        }
        double ratio = medians[0] / glibc_ns;
        if (isnan(worst_ratio) || ratio > worst_ratio) {
            worst_ratio = ratio;
            snprintf(worst_what, sizeof worst_what, "%s", wl->name);
        }
        double iratio = instr[0] / glibc_instr;
        if (!isnan(iratio) && (isnan(worst_instr_ratio) || iratio > worst_instr_ratio)) {
            worst_instr_ratio = iratio;
            snprintf(worst_instr_what, sizeof worst_instr_what, "%s", wl->name);
        }
        /* The target is about the everyday workloads; the worst case is
         * reported, and explained, on its own. */
        char key[64];
        snprintf(key, sizeof key, "%s_expert_vs_glibc", wl->name);
        report_value(r, key, ratio);
    }

    double simple = NAN, mixed = NAN;
    char a[32], b[32], c[32];
    {
        char name[96];
        snprintf(name, sizeof name, "simple/expert/ns_per_op");
        double e = series_median(report_series(r, name, "ns/op"));
        snprintf(name, sizeof name, "simple/glibc/ns_per_op");
        simple = e / series_median(report_series(r, name, "ns/op"));
        snprintf(name, sizeof name, "mixed/expert/ns_per_op");
        e = series_median(report_series(r, name, "ns/op"));
        snprintf(name, sizeof name, "mixed/glibc/ns_per_op");
        mixed = e / series_median(report_series(r, name, "ns/op"));
    }
    char measured[200];
    snprintf(measured, sizeof measured, "time vs glibc: simple %s, mixed %s; worst case (%s) %s",
             fmt_ratio(a, sizeof a, simple), fmt_ratio(b, sizeof b, mixed), worst_what,
             fmt_ratio(c, sizeof c, worst_ratio));
    report_target(r, "ExpertAllocMemory+Free no slower than glibc (simple, mixed)", measured,
                  isnan(simple) || isnan(mixed) ? TARGET_NOT_MEASURED
                  : simple <= 1.0 && mixed <= 1.0 ? TARGET_MET
                                                  : TARGET_MISSED);
    if (!isnan(worst_instr_ratio))
        report_note(r, "instructions vs glibc: worst %.2fx (%s)", worst_instr_ratio, worst_instr_what);
    return 0;
}
