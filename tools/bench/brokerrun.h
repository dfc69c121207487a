/*
 * brokerrun.h - one run through the broker (es_run, what `expert-broker run`
 * calls), with its JSON Lines output watched line by line as it is written.
 *
 * The watcher is a stdio cookie stream: the broker writes and flushes each
 * record whole, so the callback sees each line at the moment the broker
 * wrote it, and can take the time then (the crash benchmark's end point).
 */
#ifndef ES_BENCH_BROKERRUN_H
#define ES_BENCH_BROKERRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BROKER_MAX_EXPERTS 16

typedef void (*line_callback)(void *ctx, const char *line, size_t len, uint64_t at_ns);

struct broker_request {
    const char *capture;
    const char *const *experts;
    size_t count;
    unsigned jobs;
    uint64_t heap_quota;            /* 0: the broker's default (256 MiB) */
    const char *worker_path;
    line_callback on_line;          /* called for every line of the JSON output; may be NULL */
    void *ctx;
    const char *output_path;        /* the JSON Lines also go to this file; NULL: nowhere */
};

struct broker_expert_result {
    int kind;                       /* enum es_outcome_kind */
    int signal;
    uint64_t events;
    uint64_t frames_read;
    double elapsed_seconds;         /* spawn to outcome, measured by the broker */
    double cpu_seconds;             /* the worker's, measured by the kernel; -1 unknown */
};

struct broker_result {
    int exit_code;
    size_t count;
    struct broker_expert_result experts[BROKER_MAX_EXPERTS];
};

/* Runs es_run in this process (call it in a child: the broker's signal
 * handling and descriptors are then the child's alone).  Returns 0 when
 * the run happened (whatever the outcomes), -1 otherwise. */
int broker_run(const struct broker_request *req, struct broker_result *out);

/* Whether every expert of the run ended done. */
bool broker_all_done(const struct broker_result *r);

/* A writable stream that calls on_line for every complete line and, when
 * forward_fd >= 0, writes every byte to it as well (one write per flush,
 * as a FILE on that descriptor would). */
FILE *line_stream_open(line_callback on_line, void *ctx, int forward_fd);

/* Finds "key":<integer> in a JSON line (keys are unique per record in the
 * broker's schema); returns false if absent. */
bool json_line_integer(const char *line, size_t len, const char *key, long long *out);

/* Whether the line is a record of this type ("event", "outcome", "run"). */
bool json_line_is(const char *line, size_t len, const char *type);

#endif
