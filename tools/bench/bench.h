/*
 * bench.h - what every comparison of tools/bench shares: the run's settings,
 * the report (samples, table rows, targets, notes), clocks, and running one
 * sample in a child process of its own.
 *
 * A benchmark, never a test: nothing here passes or fails a build.  Targets
 * are compared as ratios measured in the same run, because the machine is
 * shared and absolute times drift from one minute to the next.
 */
#ifndef ES_BENCH_H
#define ES_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>

/* ------------------------------------------------------------------ settings */

struct bench_config {
    bool quick;                  /* smoke run: small captures, few samples */
    unsigned samples;            /* repetitions of each timed measurement */
    const char *only;            /* run only this comparison; NULL = all */
    const char *json_path;       /* every sample as JSON; NULL = none */
    bool callgrind;              /* instruction counts for alloc and frames */
    const char *self_path;       /* this executable, to re-run parts under valgrind */

    /* Where the project's programs are (build tree, or overridden). */
    char worker_path[4096];
    char mkpcap_path[4096];
    char experts_dir[4096];      /* the sample experts: protodist.so, ... */
    char bench_experts_dir[4096];/* the bench's own experts: bench_noop.so, ... */
    char mkveth_path[4096];      /* tools/mkveth.sh in the source tree */
    char capture_dir[4096];      /* where generated captures are kept between runs */

    uint32_t frames;             /* frames of the synthetic capture */
    char synthetic_capture[4096];/* made by mkpcap */
    char real_capture[4096];     /* recorded on a veth pair; empty when none */
};

/* ------------------------------------------------------------------ report */

struct bench_report;

/* A named list of samples, e.g. "sandbox/protodist/synthetic/inproc_wall". */
struct bench_series;

struct bench_report *report_new(void);
void report_free(struct bench_report *r);

/* Starts a section (one comparison).  Rows, notes and series go to the
 * current section until the next call. */
void report_section(struct bench_report *r, const char *name, const char *title);

/* A series of samples in `unit` ("s", "ns", "ns/op", "events/s", ...).
 * Returns the existing series of that name if there is one. */
struct bench_series *report_series(struct bench_report *r, const char *name, const char *unit);
void series_add(struct bench_series *s, double value);
size_t series_count(const struct bench_series *s);
double series_median(const struct bench_series *s);
/* p in [0, 100]; nearest-rank percentile of the samples. */
double series_percentile(const struct bench_series *s, double p);

/* One line of the section's table: a label and up to four cells. */
void report_row(struct bench_report *r, const char *label, const char *c1, const char *c2, const char *c3,
                const char *c4);
/* Column titles of the section's table (printed before the first row). */
void report_columns(struct bench_report *r, const char *c1, const char *c2, const char *c3, const char *c4);

enum target_verdict { TARGET_MET, TARGET_MISSED, TARGET_NOT_MEASURED };

/* A target of the issue and how this run did against it. */
void report_target(struct bench_report *r, const char *target, const char *measured, enum target_verdict v);

/* A line of explanation: what was skipped and why, what limits a figure. */
void report_note(struct bench_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A named number or string of the section for the JSON (counts, settings). */
void report_value(struct bench_report *r, const char *key, double value);
void report_text(struct bench_report *r, const char *key, const char *value);

/* Prints the summary of targets at the end. */
void report_print_targets(const struct bench_report *r, FILE *to);

/* Writes everything as one JSON document. */
int report_write_json(const struct bench_report *r, const struct bench_config *cfg, const char *path);

/* ------------------------------------------------------------------ helpers */

uint64_t now_ns(void);
double seconds_between(uint64_t start_ns, uint64_t end_ns);
double rusage_cpu_seconds(const struct rusage *ru);

/* "1.234 s", "850 us", "12.3 ns": a duration in a readable unit. */
const char *fmt_seconds(char *buf, size_t len, double seconds);
const char *fmt_ratio(char *buf, size_t len, double ratio);
/* value with `decimals` decimals and a suffix (" ns/op", "x"); "-" for NaN. */
const char *fmt_value(char *buf, size_t len, double value, int decimals, const char *suffix);

/*
 * Runs fn(arg, result) in a forked child and waits for it.  The child writes
 * up to result_size bytes of result, which come back to the parent.  wall is
 * measured from fork to reap; ru holds the child's resource usage including
 * every descendant it reaped (a worker, its init).  Returns 0 if the child
 * exited 0 and sent its result, -1 otherwise.
 */
int run_in_child(int (*fn)(void *arg, void *result), void *arg, void *result, size_t result_size,
                 double *wall_seconds, struct rusage *ru);

/* Runs argv (searching PATH for argv[0]) with stdout to out_path (NULL:
 * /dev/null) and stderr to /dev/null; returns the exit status or -1. */
int run_program(char *const argv[], const char *out_path, double *wall_seconds, struct rusage *ru);

/* Whether `name` is an executable found on PATH. */
bool program_available(const char *name);

bool file_exists(const char *path);

/* snprintf for paths: returns false (and leaves an empty string) when the
 * result would not fit, instead of a truncated path that names another file. */
bool format_path(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Flushes stdout and stderr before a fork, so that no buffered line is
 * written twice. */
void bench_flush(void);

/* ------------------------------------------------------------------ comparisons */

/* Each adds its section to the report.  They return 0, or -1 when the
 * comparison could not run at all (the reason is a note). */
int bench_sandbox(const struct bench_config *cfg, struct bench_report *r);
int bench_spawn(const struct bench_config *cfg, struct bench_report *r);
int bench_alloc(const struct bench_config *cfg, struct bench_report *r);
int bench_frames(const struct bench_config *cfg, struct bench_report *r);
int bench_events(const struct bench_config *cfg, struct bench_report *r);
int bench_crash(const struct bench_config *cfg, struct bench_report *r);
int bench_scaling(const struct bench_config *cfg, struct bench_report *r);
int bench_tshark(const struct bench_config *cfg, struct bench_report *r);

/* Entry points of the parts that are re-run under callgrind (--inner). */
int bench_alloc_inner(int argc, char **argv);
int bench_frames_inner(int argc, char **argv);
int bench_inproc_inner(int argc, char **argv);

/* Runs `self --inner KIND args...` under callgrind twice, with `small` and
 * `large` as the last argument, and returns (Ir(large) - Ir(small)) /
 * (large - small): the instructions of one unit of work, setup cancelled
 * out.  Returns a negative value when valgrind is missing or failed. */
double callgrind_per_unit(const struct bench_config *cfg, const char *kind, char *const args[],
                          unsigned long small, unsigned long large);

#endif
