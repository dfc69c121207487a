/*
 * broker.h - expert-sandbox's broker as a library.  The expert-broker CLI is
 * a thin client of these calls; tests call them in-process to check that a
 * run leaves no descriptor or mapping behind.
 */
#ifndef ES_BROKER_H
#define ES_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "injection.h"
#include "outcome.h"

#define ES_DEFAULT_HEAP_QUOTA (256ull * 1024 * 1024)

/* Exit statuses of expert-broker (docs/expert-broker.1, EXIT STATUS). */
enum es_exit {
    ES_EXIT_OK = 0,            /* every expert done */
    ES_EXIT_EXPERT_FAILED = 1, /* an expert ended otherwise: crashed, problem, aborted, ... */
    ES_EXIT_USAGE = 2,         /* bad command line */
    ES_EXIT_CAPTURE = 3,       /* the capture cannot be used */
    ES_EXIT_EXPERT_FILE = 4,   /* an expert cannot be used: missing, not ELF, no Register/Run, Register failed */
    ES_EXIT_INTERNAL = 5,      /* the broker itself failed: memory, fork, writing the output */
    ES_EXIT_SANDBOX = 6,       /* a layer demanded with --require is not available */
    /* 128 + N: the run was interrupted by signal N (SIGINT, SIGTERM); every
     * outcome was still written. */
};

#define ES_DEFAULT_GRACE_SECONDS 2.0
#define ES_DEFAULT_EXTRA_MEMORY (1024ull * 1024 * 1024)

/* How workers are confined; shared by run and list. */
struct es_sandbox_options {
    uint32_t disabled_layers;     /* ES_LAYER_* switched off (--disable) */
    uint32_t required_layers;     /* ES_LAYER_* that must be in place (--require) */
    const char *user;             /* --user: who workers run as when the broker is root;
                                     NULL = "nobody" */
    uint64_t cpu_seconds;         /* --cpu-time; 0 = no limit */
    uint64_t extra_memory;        /* address space beyond heap and frames; 0 = default */
};

/* What Run and Configure are started with, besides the capture. */
struct es_startup_options {
    const char *config_dir;       /* where stored configurations are; NULL = XDG default */
    const char *config_file;      /* this file instead (only with one expert) */
    bool has_startup_frame;
    uint32_t startup_frame;       /* 0-based: EXPERTSTARTUPINFO.dwFrameNumber */
    bool use_startup_data;        /* EXPERT_STARTUP_FLAG_USE_STARTUP_DATA_OVER_CONFIG_DATA */
};

struct es_run_options {
    const char *capture_path;
    const char *const *experts;   /* paths of the expert .so files */
    size_t expert_count;
    uint64_t heap_quota;          /* bytes; 0 = ES_DEFAULT_HEAP_QUOTA */
    unsigned jobs;                /* 0 = number of CPUs */
    const char *filter;           /* --filter, or NULL */
    bool allow_truncated;
    const char *worker_path;      /* NULL = es_default_worker_path() */
    FILE *json;                   /* JSON Lines destination, or NULL */
    bool text;                    /* --format text: events for people instead of JSON */
    FILE *diagnostics;            /* one-line errors and the table; NULL = stderr */
    bool table;                   /* print the human table at the end */
    bool progress;                /* progress lines on `diagnostics` while experts run */
    struct es_sandbox_options sandbox;
    double timeout_seconds;       /* --timeout, per expert; 0 = none */
    double grace_seconds;         /* --grace; < 0 = ES_DEFAULT_GRACE_SECONDS */
    bool handle_signals;          /* SIGINT/SIGTERM stop the experts gracefully */
    struct es_startup_options startup;
    struct es_injection inject;   /* --inject: faults in every expert's world */
    const struct es_injection *inject_each;  /* or, per expert (expert_count entries); NULL: none */
};

struct es_run_result {
    struct es_outcome *outcomes;  /* expert_count entries, in command-line order */
    size_t count;
    enum es_exit exit_code;
};

/*
 * Runs every expert over the capture.  Returns the exit status; the outcomes
 * are in *result (free with es_run_result_free) whenever the experts were
 * started.  Errors that stop the whole run are written as one line to
 * `diagnostics`, naming the file and the reason.
 */
enum es_exit es_run(const struct es_run_options *opt, struct es_run_result *result);
void es_run_result_free(struct es_run_result *result);

struct es_list_options {
    const char *const *experts;
    size_t expert_count;
    const char *worker_path;
    bool json;
    FILE *out;
    FILE *diagnostics;
    struct es_sandbox_options sandbox;
};

/* "seccomp" -> ES_LAYER_SECCOMP; 0 for an unknown name.  Names: rlimits,
 * user, namespaces, landlock, seccomp. */
uint32_t es_layer_from_name(const char *name);
const char *es_layer_name(uint32_t layer);

struct es_configure_options {
    const char *expert;
    const char *capture_path;     /* optional: startup information for Configure */
    const char *worker_path;
    FILE *diagnostics;
    struct es_sandbox_options sandbox;
    struct es_startup_options startup;
};

/* Calls Configure in a worker with the stored configuration (or NULL) and
 * stores what it leaves.  Prints where it was stored. */
enum es_exit es_configure(const struct es_configure_options *opt);

/* Loads each expert in a worker, calls Register, prints what it said. */
enum es_exit es_list(const struct es_list_options *opt);

/* The expert-worker to start: $ES_WORKER, else next to the running
 * executable in a build tree, else the installed one. */
const char *es_default_worker_path(void);

#endif
