/*
 * bench_crash.c - from a worker's fatal signal to its outcome written and
 * its heap released, with the whole heap quota touched.
 *
 * bench_crash.so fills its quota with ExpertAllocMemory, writes every page,
 * notes CLOCK_MONOTONIC in an event and writes through NULL.  Two end
 * points: the moment the broker writes the crashed outcome, and the moment
 * its heap's pages are back with the kernel (the broker closes the memfd,
 * its last reference, right after the outcome: the kernel frees the pages
 * before that close returns, which a link-time wrapper notes).
 *
 * Between the crash and the outcome: the kernel delivers SIGSEGV, the
 * worker's recorder writes the fault address, the process exits and its
 * heap mapping is torn down, init reaps it and reports, the broker wakes on
 * init's pidfd, drains the socket, classifies, writes the outcome.  How
 * long the teardown and the release take depends on the page size the
 * kernel gave the heap: the worker asks for 2 MiB pages, which the kernel
 * grants only if /sys/kernel/mm/transparent_hugepage/shmem_enabled allows
 * it; the setting is shown with the results.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "brokerrun.h"
#include "heap_segment.h"
#include "outcome.h"

struct crash_watch {
    uint64_t crash_ns;           /* the expert's clock, just before the fault */
    uint64_t touched;            /* heap bytes it wrote */
    uint64_t outcome_ns;         /* when the broker wrote the outcome */
    uint64_t released_ns;        /* when the broker's close of the heap memfd returned */
};

struct crash_sample {
    struct crash_watch watch;
    struct broker_result run;
};

struct crash_job {
    const struct bench_config *cfg;
    const char *expert;
    const char *capture;
    uint64_t quota;
};

/*
 * The broker's es_heapseg_destroy, wrapped at link time (meson.build:
 * -Wl,--wrap=es_heapseg_destroy): the wrapper notes when the real one
 * returns.  Its close() is the memfd's last reference, and the kernel frees
 * the pages before close() returns to user space, so that moment is the
 * heap released.  Only the crash comparison arms it, in its own child.
 */
void __real_es_heapseg_destroy(struct es_heapseg *seg);
void __wrap_es_heapseg_destroy(struct es_heapseg *seg);

static struct crash_watch *armed_watch;

void __wrap_es_heapseg_destroy(struct es_heapseg *seg)
{
    __real_es_heapseg_destroy(seg);
    if (armed_watch && armed_watch->outcome_ns && !armed_watch->released_ns)
        armed_watch->released_ns = now_ns();
}

static void on_crash_line(void *ctx, const char *line, size_t len, uint64_t at_ns)
{
    struct crash_watch *w = ctx;
    if (json_line_is(line, len, "outcome")) {
        w->outcome_ns = at_ns;
        return;
    }
    const char *text = memmem(line, len, "crash_ns=", 9);
    if (text && json_line_is(line, len, "event")) {
        unsigned long long ns = 0, touched = 0;
        if (sscanf(text + 9, "%llu touched=%llu", &ns, &touched) == 2) {
            w->crash_ns = ns;
            w->touched = touched;
        }
    }
}

static int crash_child(void *arg, void *result)
{
    const struct crash_job *job = arg;
    struct crash_sample *out = result;
    const char *experts[1] = {job->expert};
    struct broker_request req = {
        .capture = job->capture,
        .experts = experts,
        .count = 1,
        .jobs = 1,
        .heap_quota = job->quota,
        .worker_path = job->cfg->worker_path,
        .on_line = on_crash_line,
        .ctx = &out->watch,
    };
    armed_watch = &out->watch;
    int rc = broker_run(&req, &out->run);
    armed_watch = NULL;
    return rc;
}

/* The kernel's setting that decides whether the heap gets 2 MiB pages. */
static void shmem_thp_setting(char *out, size_t size)
{
    snprintf(out, size, "unknown");
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/shmem_enabled", "r");
    if (!f)
        return;
    char line[256];
    if (fgets(line, sizeof line, f)) {
        char *open = strchr(line, '['), *close = open ? strchr(open, ']') : NULL;
        if (open && close)
            snprintf(out, size, "%.*s", (int)(close - open - 1), open + 1);
    }
    fclose(f);
}

int bench_crash(const struct bench_config *cfg, struct bench_report *r)
{
    report_section(r, "crash", "fatal signal to outcome written and heap released");
    char expert[4200];
    if (!format_path(expert, sizeof expert, "%s/bench_crash.so", cfg->bench_experts_dir) || !file_exists(expert)) {
        report_note(r, "bench_crash.so is not built: crash skipped");
        return -1;
    }
    char thp[64];
    shmem_thp_setting(thp, sizeof thp);
    report_columns(r, "median", "p99", "max", "heap touched");
    /* 256 MiB is the figure of the target; 16 and 1 MiB separate what
     * grows with the heap (unmapping and freeing its pages) from what does
     * not (exit, reaping, the broker's wake-up and bookkeeping). */
    static const uint64_t quotas[] = {256ull << 20, 16ull << 20, 1ull << 20};
    static const char *const phases[] = {"crash_to_outcome", "crash_to_released"};
    double outcome_256 = NAN, released_256 = NAN;
    bool never_released = false;
    for (size_t q = 0; q < sizeof quotas / sizeof *quotas; q++) {
        unsigned long long mib = (unsigned long long)(quotas[q] >> 20);
        struct bench_series *series[2];
        for (int p = 0; p < 2; p++) {
            char name[96];
            snprintf(name, sizeof name, "quota_%lluMiB/%s", mib, phases[p]);
            series[p] = report_series(r, name, "s");
        }
        uint64_t touched = 0;
        for (unsigned i = 0; i < cfg->samples * 2; i++) {
            struct crash_job job = {cfg, expert, cfg->synthetic_capture, quotas[q]};
            struct crash_sample sample;
            if (run_in_child(crash_child, &job, &sample, sizeof sample, NULL, NULL) != 0 || sample.run.count != 1) {
                report_note(r, "quota %llu MiB: the run failed", mib);
                continue;
            }
            if (sample.run.experts[0].kind != ES_OUTCOME_CRASHED || !sample.watch.crash_ns || !sample.watch.outcome_ns) {
                report_note(r, "quota %llu MiB: ended %s, not crashed as planned", mib,
                            es_outcome_name((enum es_outcome_kind)sample.run.experts[0].kind));
                continue;
            }
            touched = sample.watch.touched;
            series_add(series[0], seconds_between(sample.watch.crash_ns, sample.watch.outcome_ns));
            if (sample.watch.released_ns)
                series_add(series[1], seconds_between(sample.watch.crash_ns, sample.watch.released_ns));
            else
                never_released = true;
        }
        for (int p = 0; p < 2; p++) {
            char label[96], a[32], b[32], c[32], d[32];
            snprintf(label, sizeof label, "quota %llu MiB: %s", mib, p == 0 ? "to outcome written" : "to heap released");
            snprintf(d, sizeof d, "%.1f MiB", (double)touched / (1 << 20));
            report_row(r, label, fmt_seconds(a, sizeof a, series_median(series[p])),
                       fmt_seconds(b, sizeof b, series_percentile(series[p], 99)),
                       fmt_seconds(c, sizeof c, series_percentile(series[p], 100)), d);
        }
        if (q == 0) {
            outcome_256 = series_median(series[0]);
            released_256 = series_median(series[1]);
        }
    }
    {
        double t256 = series_median(report_series(r, "quota_256MiB/crash_to_released", "s"));
        double t1 = series_median(report_series(r, "quota_1MiB/crash_to_released", "s"));
        double per_mib = (t256 - t1) / 255.0;
        char a[32], b[32];
        report_row(r, "fixed part (1 MiB heap, released)", fmt_seconds(a, sizeof a, t1), "", "", "");
        report_row(r, "per MiB of touched heap (released)", fmt_seconds(b, sizeof b, per_mib), "", "", "");
        report_value(r, "seconds_per_touched_mib", per_mib);
    }
    report_note(r, "transparent_hugepage/shmem_enabled is [%s]: the heap gets 2 MiB pages only with advise, "
                   "within_size, always or force", thp);
    if (never_released)
        report_note(r, "in some run the heap was not released after the outcome");
    char measured[160], a[32], b[32];
    snprintf(measured, sizeof measured, "256 MiB touched: outcome %s, heap released %s (shmem THP %s)",
             fmt_seconds(a, sizeof a, outcome_256), fmt_seconds(b, sizeof b, released_256), thp);
    report_value(r, "median_crash_to_outcome_seconds", outcome_256);
    report_value(r, "median_crash_to_released_seconds", released_256);
    /* "A few milliseconds": 5 ms is taken as the bound, for both. */
    report_target(r, "crash to outcome and heap released: a few ms (<= 5 ms)", measured,
                  isnan(outcome_256) || isnan(released_256) ? TARGET_NOT_MEASURED
                  : outcome_256 <= 5e-3 && released_256 <= 5e-3 && !never_released ? TARGET_MET
                                                                                     : TARGET_MISSED);
    return isnan(outcome_256) ? -1 : 0;
}
