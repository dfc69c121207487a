/*
 * layers.h - one function per confinement layer.  Each returns 0, or -1 with
 * a short reason in `why`; none of them decides whether a failure is fatal.
 */
#ifndef ES_LAYERS_H
#define ES_LAYERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* limits.c */
/* in_pid_namespace: the parent is the namespace's init (PID 1), which dies
 * with the broker, not the broker itself. */
int es_limit_die_with_broker(bool in_pid_namespace, char *why, size_t whylen);
int es_limit_session_and_dumps(char *why, size_t whylen);
int es_limit_resources(uint64_t cpu_seconds, uint64_t address_space, char *why, size_t whylen);
/* RLIMIT_AS alone, soft = hard: set at the hand-over of a pooled worker. */
int es_limit_address_space(uint64_t bytes, char *why, size_t whylen);

/* privileges.c: become uid/gid with no supplementary groups and no capabilities. */
int es_drop_privileges(uid_t uid, gid_t gid, char *why, size_t whylen);
int es_no_new_privileges(char *why, size_t whylen);

/* namespaces.c: new network, IPC, UTS and mount namespaces; a user namespace
 * first when not root. */
int es_enter_namespaces(char *why, size_t whylen);

/* landlock.c: read and execute only `expert_fd` and the system library
 * directories; no writing anywhere, no TCP, no abstract Unix sockets, no
 * signals outside the domain (as far as the kernel's ABI goes). */
int es_landlock_restrict(int expert_fd, char *why, size_t whylen);
int es_landlock_abi(void);

/* seccomp_policy.c */
int es_seccomp_load_stage(int *listener_fd, char *why, size_t whylen);
int es_seccomp_run_stage(char *why, size_t whylen);

#endif
