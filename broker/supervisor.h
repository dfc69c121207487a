/*
 * supervisor.h - the broker's event loop: start workers up to --jobs at a
 * time, talk the control protocol with each, watch each through its pidfd,
 * and establish how each one ended.
 *
 * The loop never blocks on a worker: every socket and pipe is non-blocking,
 * and a worker that misbehaves is killed, not waited for.
 */
#ifndef ES_SUPERVISOR_H
#define ES_SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "expert.pb-c.h"
#include "netmon.h"
#include "outcome.h"
#include "output.h"
#include "progress.h"

/* What `list` keeps of a registration: the message with its own copies. */
struct es_registration {
    bool present;
    Es__Registered msg;
    uint8_t name[EXPERTSTRINGLENGTH], vendor[EXPERTSTRINGLENGTH], description[EXPERTSTRINGLENGTH];
};

enum es_supervise_mode {
    ES_SUPERVISE_RUN,        /* Register, then Run */
    ES_SUPERVISE_LIST,       /* Register, then quit */
    ES_SUPERVISE_CONFIGURE,  /* Register, then Configure */
};

/* An EXPERTCONFIG blob, RawConfigLength included; len 0 for none (NULL). */
struct es_config_blob {
    uint8_t *data;
    size_t len;
};

struct es_supervise_config {
    enum es_supervise_mode mode;
    const char *worker_path;
    size_t count;
    const char *const *expert_paths;
    int *expert_fds;                  /* opened by the caller; taken over and closed */
    uint64_t heap_quota;
    unsigned jobs;
    int frames_fd;                    /* the sealed frame store; -1 for list */
    uint32_t link_type;               /* of the capture, for the experts' filters */
    uint32_t snaplen;
    const Es__StartupInfo *startup;   /* for Run */
    struct es_output *output;         /* events and outcomes are written as they happen; may be NULL */

    char *const *worker_args;         /* extra argv for every worker (its layers and limits) */
    uint64_t address_space;           /* RLIMIT_AS, sent with the hand-over; 0 = none */
    char *const *const *worker_args_each;  /* or one argv per expert; NULL: worker_args for all */
    uint32_t required_layers;         /* ES_LAYER_* without which no expert may run */
    double timeout_seconds;           /* wall clock per expert from its start; 0 = none */
    double grace_seconds;             /* after a terminate request, before SIGKILL */
    uint64_t cpu_seconds;             /* the RLIMIT_CPU the workers were given; 0 = none */
    bool handle_signals;              /* SIGINT/SIGTERM: ask every expert to stop */
    bool pid_namespace;               /* start each worker in a PID namespace of its own */
    const struct es_config_blob *configs;  /* per expert: the stored configuration, or NULL */
    struct es_config_blob *new_configs;    /* configure: per expert, what Configure left (malloc'd) */
    struct es_progress *progress;          /* progress lines, or NULL */
};

/* Set when a run was interrupted by SIGINT or SIGTERM (the signal number). */
extern int es_supervise_interrupted;

/*
 * Runs every expert to its end.  outcomes[i] (and, for list, registrations[i])
 * are filled for each expert.  Returns 0, or -1 if writing the output failed
 * (errno set): then every worker has been killed and the run is over.
 */
int es_supervise(const struct es_supervise_config *cfg, struct es_outcome *outcomes,
                 struct es_registration *registrations);

/*
 * The same in steps, so that workers start while the capture is loaded:
 *
 *   es_supervisor_new       takes cfg (kept by pointer: the caller may fill
 *                           in frames_fd, address_space, startup, output,
 *                           configs and progress until es_supervisor_run)
 *                           and the expert descriptors; NULL on failure
 *                           (the descriptors are closed then);
 *   es_supervisor_prestart  spawns workers for the first --jobs experts:
 *                           they confine themselves and wait (the pool);
 *   es_supervisor_run       everything es_supervise does; frees it;
 *   es_supervisor_abandon   instead of run: kills and reaps every worker
 *                           spawned, closes every descriptor, frees it.
 *
 * What a spawn needs from cfg must be set before es_supervisor_prestart:
 * worker_path, count, expert_paths, expert_fds, jobs, worker_args(_each),
 * pid_namespace, timeout_seconds, grace_seconds, handle_signals, heap_quota.
 */
struct es_supervisor;
struct es_supervisor *es_supervisor_new(const struct es_supervise_config *cfg, struct es_outcome *outcomes,
                                        struct es_registration *registrations);
void es_supervisor_prestart(struct es_supervisor *s);
int es_supervisor_run(struct es_supervisor *s);
void es_supervisor_abandon(struct es_supervisor *s);

/* The process the broker waits for (the worker, or its PID namespace's
 * init) of expert `index`, while it exists; -1 otherwise.  For tests. */
pid_t es_supervisor_worker_pid(const struct es_supervisor *s, size_t index);

#endif
