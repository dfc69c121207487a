/*
 * bench_sandbox.c - the sandbox's cost: the same expert over the same
 * capture, run in-process by the bench-only loader (inproc.h) and through
 * the broker (es_run, as `expert-broker run` does).
 *
 * Both modes load the capture into a frame store, run the expert, decode
 * every message it sends with the broker's decoder and write every event
 * with the broker's JSON writer to /dev/null.  Each sample is a child
 * process of its own; its wall time runs from fork to reap and its CPU time
 * is what wait4 reports for it and everything it reaped, so the sandboxed
 * figure includes the worker, its init and the broker's loop.
 *
 * Samples of the two modes alternate, so that a burst of load from the
 * neighbours hits both alike.
 *
 * The "expert phase" rows compare the expert's side alone.  Sandboxed, it
 * is the worker: its CPU over its whole life (wait4 in its init), which ends
 * with the kernel unmapping every frame-store page the expert faulted in.
 * In-process, it is the thread that loads and runs the expert, from dlopen
 * to the same unmapping of the store (done here, before es_capture_close,
 * so that it falls inside the phase as it does for the worker); the drain
 * thread's decoding and JSON writing are the broker's work in the other
 * mode, not the worker's, and are left out of both.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench.h"
#include "brokerrun.h"
#include "capture.h"
#include "inproc.h"

struct sandbox_job {
    const struct bench_config *cfg;
    const char *expert;
    const char *capture;
};

struct inproc_sample {
    double load_seconds;         /* es_capture_load */
    double load_cpu_seconds;
    double expert_seconds;       /* dlopen .. everything drained, store unmapped */
    double expert_cpu_seconds;   /* the same, this thread only (not the drainer) */
    uint64_t events;
    int ran;                     /* 1: Run returned TRUE */
};

static double self_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return rusage_cpu_seconds(&ru);
}

static double thread_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return rusage_cpu_seconds(&ru);
}

static int inproc_child(void *arg, void *result)
{
    const struct sandbox_job *job = arg;
    struct inproc_sample *out = result;
    char why[512];
    double cpu0 = self_cpu();
    uint64_t t0 = now_ns();
    struct es_capture capture = {.fd = -1};
    struct es_capture_options copt = {0};
    if (es_capture_load(job->capture, &copt, &capture, why, sizeof why) != ES_CAPTURE_OK) {
        fprintf(stderr, "bench: %s: %s\n", job->capture, why);
        return 1;
    }
    uint64_t t1 = now_ns();
    double cpu1 = self_cpu();
    double thread_cpu1 = thread_cpu();
    FILE *sink = fopen("/dev/null", "w");
    struct inproc_host host;
    if (!sink || inproc_open(&host, 256ull << 20, &capture, job->capture, sink, why, sizeof why) != 0) {
        fprintf(stderr, "bench: in-process host: %s\n", why);
        return 1;
    }
    struct inproc_timing timing;
    if (inproc_run_expert(&host, job->expert, &timing, why, sizeof why) != 0) {
        fprintf(stderr, "bench: %s: %s\n", job->expert, why);
        return 1;
    }
    inproc_close(&host);
    /* The worker's exit unmaps its view of the store; this is the same
     * work for the same pages (es_capture_close then only closes the fd). */
    munmap((void *)capture.map, (size_t)capture.size);
    capture.map = NULL;
    uint64_t t2 = now_ns();
    out->load_seconds = seconds_between(t0, t1);
    out->load_cpu_seconds = cpu1 - cpu0;
    out->expert_seconds = seconds_between(t1, t2);
    out->expert_cpu_seconds = thread_cpu() - thread_cpu1;
    out->events = atomic_load(&host.events);
    out->ran = timing.run_result;
    fclose(sink);
    es_capture_close(&capture);
    return 0;
}

static int sandboxed_child(void *arg, void *result)
{
    const struct sandbox_job *job = arg;
    struct broker_result *out = result;
    const char *experts[1] = {job->expert};
    struct broker_request req = {
        .capture = job->capture,
        .experts = experts,
        .count = 1,
        .jobs = 1,
        .worker_path = job->cfg->worker_path,
        /* As the in-process host's sink: one write(2) to /dev/null per record. */
        .output_path = "/dev/null",
    };
    return broker_run(&req, out);
}

/* `bench --inner inproc EXPERT CAPTURE`: one in-process run, for
 * profiling the expert's and the host's side without the sandbox (under
 * callgrind, or perf). */
int bench_inproc_inner(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    struct sandbox_job job = {NULL, argv[0], argv[1]};
    struct inproc_sample sample;
    if (inproc_child(&job, &sample) != 0)
        return 1;
    printf("%llu events, expert phase %.3f s, Run returned %s\n", (unsigned long long)sample.events,
           sample.expert_seconds, sample.ran ? "TRUE" : "FALSE");
    return 0;
}

/* The wall and CPU ratios of one expert on one capture; returns the larger
 * of the two medians' ratios, or NaN when a mode failed. */
static double compare_one(const struct bench_config *cfg, struct bench_report *r, const char *expert_name,
                          const char *capture_label, const char *capture)
{
    char expert[4200];
    if (!format_path(expert, sizeof expert, "%s/%s.so", cfg->experts_dir, expert_name) || !file_exists(expert)) {
        report_note(r, "%s: not built (%s), skipped", expert_name, expert);
        return NAN;
    }
    char prefix[128], name[200];
    snprintf(prefix, sizeof prefix, "%s/%s", expert_name, capture_label);
#define SERIES(suffix, unit) (snprintf(name, sizeof name, "%s/%s", prefix, suffix), report_series(r, name, unit))
    struct bench_series *in_wall = SERIES("inproc_wall", "s");
    struct bench_series *in_cpu = SERIES("inproc_cpu", "s");
    struct bench_series *in_load = SERIES("inproc_capture_load_wall", "s");
    struct bench_series *in_load_cpu = SERIES("inproc_capture_load_cpu", "s");
    struct bench_series *in_expert = SERIES("inproc_expert_wall", "s");
    struct bench_series *in_expert_cpu = SERIES("inproc_expert_cpu", "s");
    struct bench_series *sb_wall = SERIES("sandboxed_wall", "s");
    struct bench_series *sb_cpu = SERIES("sandboxed_cpu", "s");
    struct bench_series *sb_expert = SERIES("sandboxed_expert_wall", "s");
    struct bench_series *sb_worker_cpu = SERIES("sandboxed_worker_cpu", "s");
    struct bench_series *in_faults = SERIES("inproc_minor_faults", "faults");
    struct bench_series *sb_faults = SERIES("sandboxed_minor_faults", "faults");
#undef SERIES
    struct sandbox_job job = {cfg, expert, capture};
    uint64_t in_events = 0, sb_events = 0;
    bool in_failed = false, sb_failed = false;
    for (unsigned i = 0; i < cfg->samples; i++) {
        struct inproc_sample in;
        double wall;
        struct rusage ru;
        if (run_in_child(inproc_child, &job, &in, sizeof in, &wall, &ru) == 0 && in.ran) {
            series_add(in_wall, wall);
            series_add(in_cpu, rusage_cpu_seconds(&ru));
            series_add(in_load, in.load_seconds);
            series_add(in_load_cpu, in.load_cpu_seconds);
            series_add(in_expert, in.expert_seconds);
            series_add(in_expert_cpu, in.expert_cpu_seconds);
            series_add(in_faults, (double)ru.ru_minflt);
            in_events = in.events;
        } else {
            in_failed = true;
        }
        struct broker_result sb;
        if (run_in_child(sandboxed_child, &job, &sb, sizeof sb, &wall, &ru) == 0 && broker_all_done(&sb)) {
            series_add(sb_wall, wall);
            series_add(sb_cpu, rusage_cpu_seconds(&ru));
            series_add(sb_expert, sb.experts[0].elapsed_seconds);
            series_add(sb_worker_cpu, sb.experts[0].cpu_seconds);
            series_add(sb_faults, (double)ru.ru_minflt);
            sb_events = sb.experts[0].events;
        } else {
            sb_failed = true;
        }
    }
    if (in_failed || sb_failed)
        report_note(r, "%s: %s%s%s", prefix, in_failed ? "an in-process sample failed" : "",
                    in_failed && sb_failed ? "; " : "", sb_failed ? "a sandboxed sample did not end done" : "");
    if (in_events != sb_events)
        report_note(r, "%s: %llu events in-process, %llu sandboxed: the modes did not do the same work", prefix,
                    (unsigned long long)in_events, (unsigned long long)sb_events);

    char a[32], b[32], c[32], d[32];
    double wall_ratio = series_median(sb_wall) / series_median(in_wall);
    double cpu_ratio = series_median(sb_cpu) / series_median(in_cpu);
    double expert_ratio = series_median(sb_expert) / series_median(in_expert);
    char label[200];
    snprintf(label, sizeof label, "%s wall", prefix);
    report_row(r, label, fmt_seconds(a, sizeof a, series_median(in_wall)),
               fmt_seconds(b, sizeof b, series_median(sb_wall)), fmt_ratio(c, sizeof c, wall_ratio), "");
    snprintf(label, sizeof label, "%s CPU", prefix);
    report_row(r, label, fmt_seconds(a, sizeof a, series_median(in_cpu)),
               fmt_seconds(b, sizeof b, series_median(sb_cpu)), fmt_ratio(c, sizeof c, cpu_ratio), "");
    snprintf(label, sizeof label, "%s expert phase wall", prefix);
    snprintf(d, sizeof d, "%llu events", (unsigned long long)sb_events);
    report_row(r, label, fmt_seconds(a, sizeof a, series_median(in_expert)),
               fmt_seconds(b, sizeof b, series_median(sb_expert)), fmt_ratio(c, sizeof c, expert_ratio), d);
    /* The sandbox's cost in CPU time, paired sample by sample: the
     * figure that waiting for a CPU on a busy machine does not blur. */
    snprintf(label, sizeof label, "%s expert CPU", prefix);
    report_row(r, label, fmt_seconds(a, sizeof a, series_median(in_expert_cpu)),
               fmt_seconds(b, sizeof b, series_median(sb_worker_cpu)),
               fmt_ratio(c, sizeof c, series_median(sb_worker_cpu) / series_median(in_expert_cpu)), "");
    /* Whole runs: the worker maps the frame store afresh, but the
     * in-process host's expert faults the loader's mapping in just the
     * same, so the counts differ by the worker's own start (a few hundred). */
    snprintf(label, sizeof label, "%s minor faults", prefix);
    report_row(r, label, fmt_value(a, sizeof a, series_median(in_faults), 0, ""),
               fmt_value(b, sizeof b, series_median(sb_faults), 0, ""),
               fmt_ratio(c, sizeof c, series_median(sb_faults) / series_median(in_faults)), "");
    return fmax(wall_ratio, cpu_ratio);
}

int bench_sandbox(const struct bench_config *cfg, struct bench_report *r)
{
    report_section(r, "sandbox", "same expert in-process (bench loader) and sandboxed (es_run)");
    report_columns(r, "in-process", "sandboxed", "ratio", "");
    static const char *const all_experts[] = {"protodist", "tcpretrans", "topusers", "resptime"};
    size_t expert_count = cfg->quick ? 1 : sizeof all_experts / sizeof *all_experts;
    struct {
        const char *label;
        const char *path;
    } captures[2] = {{"synthetic", cfg->synthetic_capture}, {"veth", cfg->real_capture}};

    double worst = NAN;
    char worst_what[160] = "";
    unsigned compared = 0;
    for (size_t c = 0; c < 2; c++) {
        if (!captures[c].path[0]) {
            report_note(r, "no real-traffic capture: the veth rows are skipped (tools/mkveth.sh makes one)");
            continue;
        }
        for (size_t e = 0; e < expert_count; e++) {
            double ratio = compare_one(cfg, r, all_experts[e], captures[c].label, captures[c].path);
            if (isnan(ratio))
                continue;
            compared++;
            if (isnan(worst) || ratio > worst) {
                worst = ratio;
                snprintf(worst_what, sizeof worst_what, "%s on %s", all_experts[e], captures[c].label);
            }
        }
    }
    report_value(r, "worst_ratio", worst);
    char measured[256];
    snprintf(measured, sizeof measured, "worst median ratio %.3fx (%s), over %u expert/capture pairs", worst,
             worst_what, compared);
    report_target(r, "sandboxed <= 1.05x in-process (wall and CPU)", measured,
                  isnan(worst) ? TARGET_NOT_MEASURED : worst <= 1.05 ? TARGET_MET : TARGET_MISSED);
    return compared > 0 ? 0 : -1;
}
