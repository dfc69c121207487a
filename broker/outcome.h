/*
 * outcome.h - how one expert's run ended, as the broker established it.
 *
 * Every way a worker can end maps to exactly one kind.  Fields are filled by
 * the supervisor from what it observed itself (wait status, its own timers,
 * the messages it decoded); counters read from the worker's heap control
 * block are marked as reported by the worker.
 */
#ifndef ES_OUTCOME_H
#define ES_OUTCOME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum es_outcome_kind {
    ES_OUTCOME_DONE,            /* Run returned TRUE */
    ES_OUTCOME_ABORTED,         /* stopped on request (Ctrl-C, SIGTERM) and returned */
    ES_OUTCOME_PROBLEM,         /* Run returned FALSE, or the expert ended itself (exit) */
    ES_OUTCOME_CRASHED,         /* killed by a signal of its own making */
    ES_OUTCOME_VIOLATION,       /* attempted a system call the sandbox forbids */
    ES_OUTCOME_OUT_OF_MEMORY,   /* exceeded the memory bound around the helpers */
    ES_OUTCOME_CPU_LIMIT,       /* exceeded --cpu-time */
    ES_OUTCOME_TIMEOUT,         /* exceeded --timeout */
    ES_OUTCOME_PROTOCOL_ERROR,  /* sent the broker something malformed or out of order */
    ES_OUTCOME_LOAD_FAILED,     /* NMERR_LOAD_EXPERT_FAILED: not loadable, or no Register/Run */
    ES_OUTCOME_REGISTER_FAILED, /* NMERR_EXPERT_REPORT_FAILED: Register returned FALSE */
    ES_OUTCOME_NOT_RUN,         /* the broker could not start a worker for it (fork, exec, memfd) */
    ES_OUTCOME_COUNT
};

/* "done", "aborted", "problem", "crashed", "violation", "out_of_memory",
 * "cpu_limit", "timeout", "protocol_error", "load_failed", "register_failed",
 * "not_run" */
const char *es_outcome_name(enum es_outcome_kind kind);

/* True for the kinds that mean the expert's file could not be used. */
bool es_outcome_is_load_failure(enum es_outcome_kind kind);

/* "SIGSEGV" for 11, or "signal 64" for one without a name; never NULL. */
const char *es_signal_name(int sig, char *buf, size_t len);

struct es_outcome {
    enum es_outcome_kind kind;
    size_t index;               /* position of the expert on the command line, 0-based */
    const char *expert_path;    /* as given on the command line */
    char *expert_name;          /* from Register (sanitised later), NULL if it never registered */

    int signal;                 /* crashed: the signal; 0 otherwise */
    int exit_status;            /* -1 unless the worker exited */
    bool has_fault_address;
    uint64_t fault_address;

    bool has_run_result;        /* Run (or Configure) returned */
    bool run_result;

    uint64_t events;            /* events delivered to the output */
    uint64_t frames_read;       /* reported by the worker (heap control block) */
    int64_t last_frame;         /* 0-based; -1 if none was read */

    bool has_status;            /* last ExpertIndicateStatus */
    uint32_t status;
    uint32_t sub_status;
    int32_t percent;            /* -1: never reported */

    uint64_t heap_quota;
    uint64_t heap_peak;         /* reported by the worker */
    uint64_t heap_in_use;       /* reported by the worker, at the end */
    uint64_t heap_blocks;       /* blocks still allocated at the end (reported) */
    uint64_t helper_calls;      /* Expert* calls made (reported): fault-injection sites */
    uint64_t alloc_calls;       /* of which ExpertAllocMemory/ExpertReallocMemory (reported) */

    double elapsed_seconds;
    char detail[512];           /* one line for a person: why it ended so */

    uint32_t layers;            /* ES_LAYER_* the worker put in place (from its Hello) */
    char layer_report[512];     /* what was missing, and why */

    double cpu_seconds;         /* user + system time, measured by the broker; -1 unknown */

    /* violation: the system call as the kernel reported it to the broker
     * through seccomp user notification. */
    bool has_violation;
    char violation_syscall[40]; /* "socket", "syscall 1234", "x32 syscall 41" */
    char violation_arch[16];    /* "x86_64", "x86", "x32" */
    int violation_number;
    uint64_t violation_args[6];
    uint64_t violation_ip;
    char violation_path[256];   /* for calls with a path, when the broker could read it */

    /* The last bytes the worker wrote to its stdout and stderr (both go to
     * one pipe), at most ES_OUTPUT_TAIL of them; untrusted text. */
    char output_tail[4096];
    size_t output_tail_len;
    bool output_tail_cut;       /* earlier output was dropped */
};

void es_outcome_init(struct es_outcome *o, size_t index, const char *path);
void es_outcome_free(struct es_outcome *o);

#endif
