/*
 * worker_spawn.h - start one expert-worker with exactly its descriptors.
 */
#ifndef ES_WORKER_SPAWN_H
#define ES_WORKER_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct es_spawn_request {
    const char *worker_path;
    const char *expert_name;  /* argv[1], for the worker's own messages */
    int control_fd;           /* becomes ES_FD_CONTROL */
    int expert_fd;            /* becomes ES_FD_EXPERT */
    int output_fd;            /* becomes stdout and stderr */
    char *const *extra_args;  /* appended to argv; NULL-terminated, may be NULL */
    bool pid_namespace;       /* start the worker in a PID namespace of its own */
};

struct es_child {
    pid_t pid;                /* what the broker waits for: the worker, or the
                                 init of the worker's PID namespace */
    int pidfd;                /* CLOEXEC; readable once it has ended */
    int status_fd;            /* init's report of the worker's end; -1 without init */
};

/* What init reports when the worker (its only child) ends. */
struct es_worker_status {
    int32_t code;             /* CLD_EXITED, CLD_KILLED, CLD_DUMPED */
    int32_t status;           /* exit status or signal */
    int64_t cpu_microseconds; /* user + system time: at the exit stop, else from wait4 */
    uint64_t fault_address;   /* the kernel's si_addr of the fault that killed it */
    uint8_t has_fault_address;
    uint8_t at_exit_stop;     /* sent at PTRACE_EVENT_EXIT, before the teardown */
    uint8_t reserved[6];
};

/* Reads init's report (non-blocking).  Returns true if there was one. */
bool es_spawn_read_status(const struct es_child *child, struct es_worker_status *out);

/*
 * Forks and execs the worker with the descriptors above, stdin on /dev/null,
 * every other descriptor closed, default signal dispositions, an empty
 * signal mask and an empty environment.  Returns 0 once exec has succeeded;
 * -1 with errno set if fork or exec failed (then no child is left).
 *
 * With pid_namespace, the broker's child is the init of a new PID namespace
 * (broker code, no exec): it forks the worker as PID 2, reaps, and reports
 * the worker's end on status_fd.  A broker that is not root starts the same
 * init without a namespace (the worker keeps the broker's user, so its
 * parent-death signal ends it with init).  It traces the worker (ptrace) to report
 * at the start of the worker's exit, before the kernel tears down its
 * address space; status_fd can therefore be readable well before the
 * pidfd, and the heap is still mapped by the dying worker until the pidfd
 * says init (and with it the whole namespace) is gone.  Where init cannot
 * trace, the report comes once the worker is reaped, as without it.  The
 * worker is not init itself because
 * init ignores the signals it sends itself (abort() would not kill it).
 * Killing init kills everything in the namespace.  If the kernel refuses a
 * PID namespace, errno is EPERM and the caller may retry without one.
 */
int es_spawn_worker(const struct es_spawn_request *req, struct es_child *child);

#endif
