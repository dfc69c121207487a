/*
 * spawn.h - start one expert-worker with exactly its descriptors.
 */
#ifndef ES_SPAWN_H
#define ES_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

struct es_spawn_request {
    const char *worker_path;
    const char *expert_name;  /* argv[1], for the worker's own messages */
    int control_fd;           /* becomes ES_FD_CONTROL */
    int heap_fd;              /* becomes ES_FD_HEAP */
    int frames_fd;            /* becomes ES_FD_FRAMES; -1 for none */
    int expert_fd;            /* becomes ES_FD_EXPERT */
    int output_fd;            /* becomes stdout and stderr */
    char *const *extra_args;  /* appended to argv; NULL-terminated, may be NULL */
};

struct es_child {
    pid_t pid;
    int pidfd;                /* CLOEXEC; readable once the worker has ended */
};

/*
 * Forks and execs the worker with the descriptors above, stdin on /dev/null,
 * every other descriptor closed, default signal dispositions, an empty
 * signal mask and an empty environment.  Returns 0 once exec has succeeded;
 * -1 with errno set if fork or exec failed (then no child is left).
 */
int es_spawn_worker(const struct es_spawn_request *req, struct es_child *child);

#endif
