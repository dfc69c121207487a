/*
 * bench_events.c - events submitted per second and delivered to the output,
 * and none lost when the expert crashes right after submitting.
 *
 * bench_events.so submits one event per frame of the capture without
 * reading the frames, then a summary event with its own count and the time
 * its loop took (its clock: the submit rate as the expert saw it).  The
 * broker writes every event as a JSON Lines record to a file, as
 * `expert-broker run --json FILE` does, and the bench watches each record
 * as it is written: how many, the first and the last one's time (the
 * delivery rate).
 *
 * bench_events_crash.so does the same and then dies of SIGSEGV right after
 * its summary: every event it submitted must still be in the output.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "brokerrun.h"
#include "outcome.h"

struct events_watch {
    uint64_t delivered;          /* event records written */
    uint64_t first_ns, last_ns;
    uint64_t submitted;          /* from the summary event */
    uint64_t submit_ns;
    bool have_summary;
};

struct events_sample {
    struct events_watch watch;
    struct broker_result run;
};

struct events_job {
    const struct bench_config *cfg;
    const char *expert;
    const char *output_path;
};

static void on_events_line(void *ctx, const char *line, size_t len, uint64_t at_ns)
{
    struct events_watch *w = ctx;
    if (!json_line_is(line, len, "event"))
        return;
    if (!w->delivered)
        w->first_ns = at_ns;
    w->last_ns = at_ns;
    w->delivered++;
    const char *summary = memmem(line, len, "\"description\":\"submitted=", 25);
    if (summary) {
        unsigned long long count = 0, ns = 0;
        if (sscanf(summary + 25, "%llu ns=%llu", &count, &ns) == 2) {
            w->submitted = count;
            w->submit_ns = ns;
            w->have_summary = true;
        }
    }
}

static int events_child(void *arg, void *result)
{
    const struct events_job *job = arg;
    struct events_sample *out = result;
    const char *experts[1] = {job->expert};
    struct broker_request req = {
        .capture = job->cfg->synthetic_capture,
        .experts = experts,
        .count = 1,
        .jobs = 1,
        .worker_path = job->cfg->worker_path,
        .on_line = on_events_line,
        .ctx = &out->watch,
        .output_path = job->output_path,
    };
    return broker_run(&req, &out->run);
}

static void measure(const struct bench_config *cfg, struct bench_report *r, const char *label, const char *expert,
                    const char *output_path, double *delivered_rate, uint64_t *lost_total, bool *all_ok)
{
    struct bench_series *submit_rate = NULL, *deliver_rate = NULL;
    char name[96];
    snprintf(name, sizeof name, "%s/submitted_per_second", label);
    submit_rate = report_series(r, name, "events/s");
    snprintf(name, sizeof name, "%s/delivered_per_second", label);
    deliver_rate = report_series(r, name, "events/s");
    snprintf(name, sizeof name, "%s/lost", label);
    struct bench_series *lost = report_series(r, name, "events");
    bool crashing = strstr(expert, "crash") != NULL;
    *all_ok = true;
    *lost_total = 0;
    uint64_t delivered = 0;
    for (unsigned i = 0; i < cfg->samples; i++) {
        struct events_job job = {cfg, expert, output_path};
        struct events_sample s;
        if (run_in_child(events_child, &job, &s, sizeof s, NULL, NULL) != 0 || s.run.count != 1) {
            report_note(r, "%s: the run failed", label);
            *all_ok = false;
            continue;
        }
        int expected_kind = crashing ? ES_OUTCOME_CRASHED : ES_OUTCOME_DONE;
        if (s.run.experts[0].kind != expected_kind || !s.watch.have_summary) {
            report_note(r, "%s: ended %s%s", label, es_outcome_name((enum es_outcome_kind)s.run.experts[0].kind),
                        s.watch.have_summary ? "" : " without its summary event");
            *all_ok = false;
        }
        /* Submitted: the per-frame events plus the summary itself. */
        uint64_t submitted = s.watch.submitted + 1;
        uint64_t missing = submitted > s.watch.delivered ? submitted - s.watch.delivered : 0;
        *lost_total += missing;
        series_add(lost, (double)missing);
        if (s.watch.submit_ns)
            series_add(submit_rate, (double)s.watch.submitted / ((double)s.watch.submit_ns / 1e9));
        if (s.watch.last_ns > s.watch.first_ns)
            series_add(deliver_rate,
                       (double)(s.watch.delivered - 1) / seconds_between(s.watch.first_ns, s.watch.last_ns));
        delivered = s.watch.delivered;
    }
    char a[32], b[32], c[32], d[32];
    snprintf(d, sizeof d, "%llu", (unsigned long long)delivered);
    report_row(r, label, fmt_value(a, sizeof a, series_median(submit_rate) / 1e6, 3, " M/s"),
               fmt_value(b, sizeof b, series_median(deliver_rate) / 1e6, 3, " M/s"),
               fmt_value(c, sizeof c, (double)*lost_total, 0, ""), d);
    *delivered_rate = series_median(deliver_rate);
}

int bench_events(const struct bench_config *cfg, struct bench_report *r)
{
    report_section(r, "events", "ExpertSubmitEvent: submitted and delivered per second, none lost on a crash");
    char expert[4200], crashing[4200], output[4200];
    if (!format_path(expert, sizeof expert, "%s/bench_events.so", cfg->bench_experts_dir) ||
        !format_path(crashing, sizeof crashing, "%s/bench_events_crash.so", cfg->bench_experts_dir) ||
        !format_path(output, sizeof output, "%s/events-output.jsonl", cfg->capture_dir) || !file_exists(expert) ||
        !file_exists(crashing)) {
        report_note(r, "bench_events.so is not built: events skipped");
        return -1;
    }
    report_columns(r, "submitted", "delivered", "lost", "events");
    double rate = NAN, crash_rate = NAN;
    uint64_t lost = 0, crash_lost = 0;
    bool ok = false, crash_ok = false;
    measure(cfg, r, "bench_events (done)", expert, output, &rate, &lost, &ok);
    measure(cfg, r, "bench_events_crash (SIGSEGV after)", crashing, output, &crash_rate, &crash_lost, &crash_ok);
    unlink(output);
    report_note(r, "one event per frame of the %u-frame capture, written by the broker to a JSON Lines file", cfg->frames);

    char measured[200], a[32];
    snprintf(measured, sizeof measured, "delivered %s (median), %llu lost of those submitted before a crash",
             fmt_value(a, sizeof a, fmin(rate, crash_rate) / 1e6, 3, " M events/s"), (unsigned long long)crash_lost);
    report_value(r, "delivered_per_second", rate);
    report_value(r, "lost_on_crash", (double)crash_lost);
    enum target_verdict v = TARGET_NOT_MEASURED;
    if (!isnan(rate) && crash_ok)
        v = rate >= 1e6 && crash_lost == 0 && lost == 0 ? TARGET_MET : TARGET_MISSED;
    report_target(r, ">= 1M events/s, none lost on a crash", measured, v);
    return ok || crash_ok ? 0 : -1;
}
