/*
 * bench_crash.c - from a worker's fatal signal to its outcome written and
 * its heap released, with the whole heap quota touched.
 *
 * bench_crash.so fills its quota with ExpertAllocMemory, writes every page,
 * notes CLOCK_MONOTONIC in an event and writes through NULL.  The bench
 * takes the time at which the broker writes the crashed outcome: the broker
 * closes the heap segment (its last reference: the kernel frees the pages
 * then) before it writes the outcome, and the bench checks, at that moment,
 * that no heap memfd is still open in the broker.
 *
 * Between the two: the kernel delivers SIGSEGV, the worker's recorder
 * writes the fault address, the process exits and its 256 MiB mapping is
 * torn down, init reaps it and reports, the broker wakes on init's pidfd,
 * drains the socket, classifies, drops the segment, writes the outcome.
 */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "brokerrun.h"
#include "outcome.h"

struct crash_watch {
    uint64_t crash_ns;           /* the expert's clock, just before the fault */
    uint64_t touched;            /* heap bytes it wrote */
    uint64_t outcome_ns;         /* when the broker wrote the outcome */
    int heaps_open;              /* heap memfds still open at that moment */
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

static int count_open_heaps(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[300], target[256];
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n <= 0)
            continue;
        target[n] = '\0';
        if (strstr(target, "memfd:expert-heap"))
            count++;
    }
    closedir(d);
    return count;
}

static void on_crash_line(void *ctx, const char *line, size_t len, uint64_t at_ns)
{
    struct crash_watch *w = ctx;
    if (json_line_is(line, len, "outcome")) {
        w->outcome_ns = at_ns;
        w->heaps_open = count_open_heaps();
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
    return broker_run(&req, &out->run);
}

int bench_crash(const struct bench_config *cfg, struct bench_report *r)
{
    report_section(r, "crash", "fatal signal to outcome written and heap released");
    char expert[4200];
    if (!format_path(expert, sizeof expert, "%s/bench_crash.so", cfg->bench_experts_dir) || !file_exists(expert)) {
        report_note(r, "bench_crash.so is not built: crash skipped");
        return -1;
    }
    report_columns(r, "median", "p99", "max", "heap touched");
    /* 256 MiB is the figure of the target; 16 and 1 MiB separate what
     * grows with the heap (unmapping and freeing its pages) from what does
     * not (exit, reaping, the broker's wake-up and bookkeeping). */
    static const uint64_t quotas[] = {256ull << 20, 16ull << 20, 1ull << 20};
    double median_256 = NAN;
    bool heaps_left = false;
    for (size_t q = 0; q < sizeof quotas / sizeof *quotas; q++) {
        char name[96];
        snprintf(name, sizeof name, "quota_%lluMiB/crash_to_outcome", (unsigned long long)(quotas[q] >> 20));
        struct bench_series *s = report_series(r, name, "s");
        uint64_t touched = 0;
        for (unsigned i = 0; i < cfg->samples * 2; i++) {
            struct crash_job job = {cfg, expert, cfg->synthetic_capture, quotas[q]};
            struct crash_sample sample;
            if (run_in_child(crash_child, &job, &sample, sizeof sample, NULL, NULL) != 0 || sample.run.count != 1) {
                report_note(r, "quota %llu MiB: the run failed", (unsigned long long)(quotas[q] >> 20));
                continue;
            }
            if (sample.run.experts[0].kind != ES_OUTCOME_CRASHED || !sample.watch.crash_ns || !sample.watch.outcome_ns) {
                report_note(r, "quota %llu MiB: ended %s, not crashed as planned", (unsigned long long)(quotas[q] >> 20),
                            es_outcome_name((enum es_outcome_kind)sample.run.experts[0].kind));
                continue;
            }
            if (sample.watch.heaps_open != 0)
                heaps_left = true;
            touched = sample.watch.touched;
            series_add(s, seconds_between(sample.watch.crash_ns, sample.watch.outcome_ns));
        }
        char label[96], a[32], b[32], c[32], d[32];
        snprintf(label, sizeof label, "quota %llu MiB, all of it written", (unsigned long long)(quotas[q] >> 20));
        snprintf(d, sizeof d, "%.1f MiB", (double)touched / (1 << 20));
        report_row(r, label, fmt_seconds(a, sizeof a, series_median(s)), fmt_seconds(b, sizeof b, series_percentile(s, 99)),
                   fmt_seconds(c, sizeof c, series_percentile(s, 100)), d);
        if (q == 0)
            median_256 = series_median(s);
    }
    {
        double t256 = series_median(report_series(r, "quota_256MiB/crash_to_outcome", "s"));
        double t1 = series_median(report_series(r, "quota_1MiB/crash_to_outcome", "s"));
        double per_mib = (t256 - t1) / 255.0;
        char a[32], b[32];
        report_row(r, "fixed part (1 MiB heap)", fmt_seconds(a, sizeof a, t1), "", "", "");
        report_row(r, "per MiB of touched heap", fmt_seconds(b, sizeof b, per_mib), "", "", "");
        report_value(r, "seconds_per_touched_mib", per_mib);
    }
    if (heaps_left)
        report_note(r, "a heap memfd was still open in the broker when the outcome was written");
    else
        report_note(r, "no heap memfd was open in the broker when any outcome was written (released first)");
    char measured[160], a[32];
    snprintf(measured, sizeof measured, "median %s with 256 MiB touched", fmt_seconds(a, sizeof a, median_256));
    report_value(r, "median_crash_to_outcome_seconds", median_256);
    /* "A few milliseconds": 5 ms is taken as the bound. */
    report_target(r, "crash to outcome and heap released: a few ms (<= 5 ms)", measured,
                  isnan(median_256) ? TARGET_NOT_MEASURED
                  : median_256 <= 5e-3 && !heaps_left ? TARGET_MET
                                                      : TARGET_MISSED);
    return isnan(median_256) ? -1 : 0;
}
