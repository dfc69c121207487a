/*
 * bench_scaling.c - the same set of experts with --jobs 1, 2, 4 and 8.
 *
 * The set is the four sample experts twice over (eight workers), on the
 * synthetic capture.  Every run loads the capture once (serial work the
 * jobs cannot share) and then runs the workers; the capture's load time is
 * measured on its own, so that the speedup of the parallel part can be
 * shown beside the speedup of the whole run.  Each run's CPU time (the
 * broker and everything it reaped, from wait4) over its wall time says how
 * many CPUs it kept busy on average: a --jobs 1 run is not one CPU's worth
 * of work (the store writer's thread, the next worker's cold start and the
 * last one's exit run beside the expert), and whatever parallelism it
 * already has, two jobs cannot add again.
 */
#include <math.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "brokerrun.h"
#include "capture.h"

struct scaling_job {
    const struct bench_config *cfg;
    const char *const *experts;
    size_t count;
    unsigned jobs;
};

static int scaling_child(void *arg, void *result)
{
    const struct scaling_job *job = arg;
    struct broker_request req = {
        .capture = job->cfg->synthetic_capture,
        .experts = job->experts,
        .count = job->count,
        .jobs = job->jobs,
        .worker_path = job->cfg->worker_path,
        .output_path = "/dev/null",
    };
    return broker_run(&req, result);
}

static int load_child(void *arg, void *result)
{
    const char *capture = arg;
    (void)result;
    struct es_capture c = {.fd = -1};
    struct es_capture_options copt = {0};
    char why[256];
    if (es_capture_load(capture, &copt, &c, why, sizeof why) != ES_CAPTURE_OK)
        return 1;
    es_capture_close(&c);
    return 0;
}

int bench_scaling(const struct bench_config *cfg, struct bench_report *r)
{
    report_section(r, "scaling", "8 workers (the 4 sample experts twice) with --jobs 1, 2, 4, 8");
    static const char *const names[] = {"protodist", "tcpretrans", "topusers", "resptime"};
    static char paths[8][4200];
    const char *experts[8];
    size_t count = 0;
    for (size_t round = 0; round < 2; round++)
        for (size_t i = 0; i < 4; i++) {
            if (!format_path(paths[count], sizeof paths[count], "%s/%s.so", cfg->experts_dir, names[i]) ||
                !file_exists(paths[count])) {
                if (round == 0)
                    report_note(r, "%s is not built: left out of the set", names[i]);
                continue;
            }
            experts[count] = paths[count];
            count++;
        }
    if (count == 0) {
        report_note(r, "no sample expert is built: scaling skipped");
        return -1;
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    double load[1] = {NAN};
    getloadavg(load, 1);
    report_note(r, "%ld CPUs online; load average %.2f before the runs (other work on the machine shares them)",
                cpus, load[0]);

    static const unsigned jobs_list[] = {1, 2, 4, 8};
    struct bench_series *series[4], *cpu_series[4];
    struct bench_series *load_series = report_series(r, "capture_load_wall", "s");
    for (size_t j = 0; j < 4; j++) {
        char name[64];
        snprintf(name, sizeof name, "jobs_%u/wall", jobs_list[j]);
        series[j] = report_series(r, name, "s");
        snprintf(name, sizeof name, "jobs_%u/cpu", jobs_list[j]);
        cpu_series[j] = report_series(r, name, "s");
    }
    unsigned samples = cfg->quick ? 1 : cfg->samples < 3 ? cfg->samples : 3;
    for (unsigned i = 0; i < samples; i++) {
        double wall;
        if (run_in_child(load_child, (void *)cfg->synthetic_capture, NULL, 0, &wall, NULL) == 0)
            series_add(load_series, wall);
        for (size_t j = 0; j < 4; j++) {
            struct scaling_job job = {cfg, experts, count, jobs_list[j]};
            struct broker_result res;
            struct rusage ru;
            if (run_in_child(scaling_child, &job, &res, sizeof res, &wall, &ru) != 0 || !broker_all_done(&res)) {
                report_note(r, "--jobs %u: a run did not end with every expert done", jobs_list[j]);
                continue;
            }
            series_add(series[j], wall);
            series_add(cpu_series[j], rusage_cpu_seconds(&ru));
        }
    }
    report_columns(r, "wall", "speedup", "parallel part", "CPUs busy");
    double base = series_median(series[0]);
    double capture_load = series_median(load_series);
    char a[32], b[32], c[32];
    for (size_t j = 0; j < 4; j++) {
        double t = series_median(series[j]);
        char label[64];
        snprintf(label, sizeof label, "--jobs %u", jobs_list[j]);
        char busy[32];
        snprintf(busy, sizeof busy, "%.2f", series_median(cpu_series[j]) / t);
        report_row(r, label, fmt_seconds(a, sizeof a, t), fmt_ratio(b, sizeof b, base / t),
                   fmt_ratio(c, sizeof c, (base - capture_load) / (t - capture_load)), busy);
    }
    report_row(r, "capture load alone (serial part)", fmt_seconds(a, sizeof a, capture_load), "", "", "");
    /* Amdahl: with the capture load serial, 2 CPUs can at best give
     * 1 / (f + (1 - f) / 2), f the load's share of the 1-job run. */
    double serial_share = capture_load / base;
    double bound = 1.0 / (serial_share + (1.0 - serial_share) / 2.0);
    report_row(r, "best possible on 2 CPUs (Amdahl)", "", fmt_ratio(b, sizeof b, bound), "", "");
    report_value(r, "amdahl_bound_2_cpus", bound);
    /* The same work on 2 CPUs takes at least its CPU time over 2: against a
     * 1-job run that already kept u CPUs busy, at most 2/u faster. */
    double busy_1 = series_median(cpu_series[0]) / base;
    report_row(r, "best possible on 2 CPUs (CPUs busy at 1 job)", "", fmt_ratio(b, sizeof b, 2.0 / busy_1), "", "");
    report_value(r, "cpu_bound_2_cpus", 2.0 / busy_1);
    double speedup = base / series_median(series[1]);
    double parallel = (base - capture_load) / (series_median(series[1]) - capture_load);
    report_value(r, "speedup_1_to_2", speedup);
    report_value(r, "speedup_1_to_2_parallel_part", parallel);
    char measured[200];
    snprintf(measured, sizeof measured, "1 -> 2 jobs: %s whole run, %s without the capture load (%ld CPUs)",
             fmt_ratio(a, sizeof a, speedup), fmt_ratio(b, sizeof b, parallel), cpus);
    report_target(r, ">= 1.8x speedup from 1 to 2 jobs on 2 cores", measured,
                  isnan(speedup) ? TARGET_NOT_MEASURED : speedup >= 1.8 ? TARGET_MET : TARGET_MISSED);
    return 0;
}
