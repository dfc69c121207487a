/*
 * faults.h - fault injection, from both sides of the sandbox.
 *
 * 1. The sweep (`expert-broker faults`, es_faults): run an expert once
 *    without faults to count its fault sites (allocation calls, helper
 *    calls), then once per site with exactly one fault there, and say how
 *    it coped with each: handled, crashed, ignored the terminate request,
 *    hung, or returned leaving memory allocated.  docs/fault-injection.md.
 *
 * 2. The broker's own fault points (ES_FAULT), for its developers: with
 *    libfiu (built with -DES_FAULT_POINTS when libfiu-dev is installed) a
 *    test can make the broker's memfd_create, mmap, fork, socketpair, pipe2,
 *    pidfd_open, output writes, capture reads and init's ptrace fail on
 *    demand, and check that each failure is reported clearly and releases
 *    what was acquired.
 *    Without libfiu every point is the constant `false`: no code, no cost.
 */
#ifndef ES_FAULTS_H
#define ES_FAULTS_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "broker.h"

/* ------------------------------------------------------------------ fault points */

#ifdef ES_FAULT_POINTS
#ifndef FIU_ENABLE
#define FIU_ENABLE 1
#endif
#include <fiu.h>
/* True (with errno set to `err`, as the real call would leave it) when the
 * point named `name` is enabled to fail now. */
#define ES_FAULT(name, err) (fiu_fail(name) ? (errno = (err), true) : false)
#else
#define ES_FAULT(name, err) false
#endif

/* The names, for tests and docs: one place to spell them. */
#define ES_FAULT_MEMFD "broker/memfd"             /* heap segments and the frame store */
#define ES_FAULT_MMAP "broker/mmap"               /* mapping either of them */
#define ES_FAULT_FORK "broker/fork"               /* fork / clone3 of a worker */
#define ES_FAULT_SOCKETPAIR "broker/socketpair"   /* a worker's control socket pair */
#define ES_FAULT_PIPE "broker/pipe"               /* a worker's output and exec-error pipes */
#define ES_FAULT_PIDFD "broker/pidfd"             /* the pidfd of a started worker */
#define ES_FAULT_OUTPUT_WRITE "broker/output-write" /* writing a JSON Lines record */
#define ES_FAULT_PCAP_READ "broker/pcap-read"     /* pcap_next_ex while loading the capture */
#define ES_FAULT_PTRACE "broker/ptrace"           /* init attaching to its worker (as if refused) */

/* ------------------------------------------------------------------ the sweep */

#define ES_FAULTS_DEFAULT_SAMPLE 200
#define ES_FAULTS_DEFAULT_TIMEOUT 30.0
#define ES_FAULTS_DEFAULT_GRACE 1.0

/* Where one fault is injected. */
enum es_fault_kind {
    ES_FAULT_SITE_ALLOC,      /* the Nth ExpertAllocMemory/ExpertReallocMemory fails (inject alloc=N) */
    ES_FAULT_SITE_TERMINATE,  /* NMERR_EXPERT_TERMINATE from the Nth helper call on (inject terminate=N) */
};

/* What the expert did with it.  Every kind but HANDLED and NOT_REACHED is a
 * finding (NOT_RUN is the broker's failure, not the expert's). */
enum es_fault_finding {
    ES_FINDING_HANDLED,           /* returned cleanly: done or problem, nothing more left allocated */
    ES_FINDING_CRASHED,           /* killed by a signal of its own making */
    ES_FINDING_IGNORED_TERMINATE, /* kept going after NMERR_EXPERT_TERMINATE: killed after the grace period */
    ES_FINDING_HUNG,              /* ran past --timeout, returned only when asked to stop */
    ES_FINDING_LEAKED,            /* returned with more memory allocated than without the fault */
    ES_FINDING_FAILED,            /* ended otherwise: violation, out of memory, protocol error, ... */
    ES_FINDING_NOT_REACHED,       /* the run made fewer calls than the site's number: no fault happened */
    ES_FINDING_NOT_RUN,           /* the broker could not start the run (see detail) */
    ES_FINDING_COUNT
};

/* "handled", "crashed", "ignored_terminate", "hung", "leaked", "failed",
 * "not_reached", "not_run" */
const char *es_fault_finding_name(enum es_fault_finding finding);
/* "alloc", "terminate" */
const char *es_fault_kind_name(enum es_fault_kind kind);
bool es_fault_finding_is_problem(enum es_fault_finding finding);

struct es_fault_site {
    enum es_fault_kind kind;
    uint64_t call;                /* 1-based: the allocation call or helper call faulted */
    enum es_fault_finding finding;
    enum es_outcome_kind outcome;
    int signal;                   /* crashed, or killed after grace: the signal; else 0 */
    bool has_fault_address;
    uint64_t fault_address;
    int64_t last_frame;           /* 0-based as in es_outcome; -1: none read */
    uint64_t frames_read;
    uint64_t helper_calls;        /* made in this run */
    uint64_t alloc_calls;
    uint64_t heap_blocks;         /* left allocated at the end (reported by the worker) */
    uint64_t heap_in_use;         /* bytes */
    double elapsed_seconds;
    char detail[512];             /* the outcome's detail: broker text, may quote the expert */
};

struct es_faults_options {
    const char *capture_path;
    const char *expert;           /* path of the expert .so */
    unsigned jobs;                /* runs at once; 0 = number of CPUs */
    uint64_t sample;              /* sites tested per kind, at most; 0 = ES_FAULTS_DEFAULT_SAMPLE */
    uint64_t seed;                /* of the sample; 0 = 1 */
    double timeout_seconds;       /* per run; 0 = ES_FAULTS_DEFAULT_TIMEOUT */
    double grace_seconds;         /* < 0 = ES_FAULTS_DEFAULT_GRACE */
    uint64_t heap_quota;          /* 0 = ES_DEFAULT_HEAP_QUOTA */
    const char *worker_path;      /* NULL = es_default_worker_path() */
    FILE *diagnostics;            /* one-line errors; NULL = stderr */
    bool progress;                /* "N of M runs" on diagnostics between batches */
    bool handle_signals;          /* SIGINT/SIGTERM end the sweep early, with a report */
    struct es_sandbox_options sandbox;
};

struct es_faults_report {
    const char *expert_path;
    const char *capture_path;
    char *expert_name;            /* from Register, NULL if it never registered; untrusted text */

    /* The run without faults: the sites come from its counts. */
    bool baseline_ran;            /* it has an outcome (false: the capture or expert was refused) */
    enum es_outcome_kind baseline_outcome;
    char baseline_detail[512];
    int baseline_signal;
    int64_t baseline_last_frame;
    uint64_t baseline_frames_read;
    uint64_t helper_calls;
    uint64_t alloc_calls;
    uint64_t baseline_heap_blocks;
    uint64_t baseline_heap_in_use;
    double baseline_elapsed_seconds;
    enum es_fault_finding baseline_finding;   /* handled, leaked, crashed, hung, ... */

    uint64_t seed;
    uint64_t alloc_sites_tested;  /* chosen; all of alloc_calls unless sampled */
    uint64_t terminate_sites_tested;
    bool alloc_sampled;
    bool terminate_sampled;

    struct es_fault_site *sites;  /* alloc sites ascending, then terminate sites ascending */
    size_t count;                 /* sites actually run (fewer when interrupted) */
    size_t findings[ES_FINDING_COUNT];
    bool interrupted;
    bool swept;                   /* false: the baseline ended the sweep (see baseline_detail) */

    enum es_exit exit_code;       /* 0 clean, 1 findings, 2-6 and 128+N as es_run */
};

/*
 * Runs the sweep.  Returns the exit status (also in report->exit_code):
 * ES_EXIT_OK when nothing was found, ES_EXIT_EXPERT_FAILED when anything
 * was, otherwise what es_run would return (capture, expert file, broker,
 * sandbox, 128+N when interrupted: the sites run so far are still in the
 * report).  Errors that stop it are one line each on `diagnostics`.
 * Free the report with es_faults_report_free whatever it returned.
 */
enum es_exit es_faults(const struct es_faults_options *opt, struct es_faults_report *report);
void es_faults_report_free(struct es_faults_report *report);

/* The human report: header, one row per site with a finding, summary,
 * verdict.  Returns 0, or -1 with errno when writing failed. */
int es_faults_write_table(FILE *to, const struct es_faults_report *report);
/* Only the verdict lines ("verdict: ..."), as the table ends. */
int es_faults_write_verdict(FILE *to, const struct es_faults_report *report);
/* JSON Lines: one "site" object per site run, then one "summary" object
 * (docs/fault-injection.md).  Returns 0, or -1 with errno. */
int es_faults_write_json(FILE *to, const struct es_faults_report *report);

/* The deterministic sample of sites: `limit` of 1..total (all when total <=
 * limit), always the first few and the last, the rest drawn with `seed`;
 * ascending.  `salt` keeps two kinds' samples apart.  Returns the count
 * written to *out (malloc'd), or -1 when out of memory. */
ptrdiff_t es_faults_choose_sites(uint64_t total, uint64_t limit, uint64_t seed, uint64_t salt,
                                 uint64_t **out);

#endif
