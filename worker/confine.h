/*
 * confine.h - the worker confines itself in stages, before any expert code
 * runs (constructors run at dlopen) and again before Register.
 *
 * Each layer lives in its own file (limits.c, privileges.c, namespaces.c,
 * landlock.c, seccomp_policy.c); confine.c only decides the order and which
 * layers are asked for, so main.c reads as the order of events.
 */
#ifndef ES_CONFINE_H
#define ES_CONFINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What the broker asks for, from the worker's command line. */
struct es_worker_config {
    const char *expert_name;
    uint32_t layers;            /* ES_LAYER_* to put in place */
    uint32_t required;          /* ES_LAYER_* whose absence is fatal */
    uid_t uid;                  /* ES_LAYER_USER: who to become (when root) */
    gid_t gid;
    uint64_t cpu_seconds;       /* 0: no CPU limit */
    uint64_t address_space;     /* 0: no address-space limit */
    bool pid_namespace;         /* started as PID 2 under an init of the broker's */
    const char *inject;         /* --inject: faults for the expert's world (proto/injection.h) */
};

/* Parses `expert-worker NAME [--layers N] [--require N] [--uid N] [--gid N]
 * [--cpu SECONDS] [--address-space BYTES]`.  Returns 0 or -1. */
int es_worker_config_parse(int argc, char **argv, struct es_worker_config *cfg);

struct es_confinement {
    uint32_t applied;           /* ES_LAYER_* in place */
    int listener_fd;            /* seccomp user-notification listener, or -1 */
    char report[512];           /* one line per missing layer */
};

/* Stage one, before the expert is loaded.  Returns 0, or -1 when a required
 * layer could not be put in place (the reason is in c->report). */
int es_confine_before_load(const struct es_worker_config *cfg, struct es_confinement *c);

/* At the hand-over, before the expert is loaded: RLIMIT_AS (soft = hard) to
 * what the broker computed from the frame store's size, which it did not
 * know when it started a pooled worker.  Lowering a limit needs no privilege
 * and the worker has no CAP_SYS_RESOURCE to raise it again.  Returns -1 only
 * when it failed and the rlimits layer was required (reason in c->report). */
int es_confine_address_space(const struct es_worker_config *cfg, struct es_confinement *c, uint64_t bytes);

#endif
