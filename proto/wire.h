/*
 * wire.h - what crosses the broker/worker boundary besides the messages of
 * expert.proto: the fixed descriptors a worker starts with and the limits
 * both sides hold each other to.
 */
#ifndef ES_WIRE_H
#define ES_WIRE_H

/* Bumped whenever expert.proto, framestore.h, heapseg.h or event_ring.h change
 * meaning (2: the event ring; 3: the worker pool's hand-over). */
#define ES_PROTOCOL_VERSION 3

/* The descriptors expert-worker is started with; every other one is closed.
 * The heap memfd (sealed against shrinking and growing) and the frame store
 * memfd (sealed against writing) are not among them: they come with the
 * hand-over, the Register command (SCM_RIGHTS, in that order), because a
 * pooled worker is started before the store exists.  The expert file is
 * here from the start: Landlock's rule for it is made from this descriptor
 * before the worker waits, and Landlock can only narrow afterwards. */
enum {
    ES_FD_CONTROL = 3,     /* SOCK_SEQPACKET socket to the broker */
    ES_FD_EXPERT = 4,      /* the expert .so, opened read-only by the broker */
    ES_FD_FIRST_FREE = 5,
};

/* Largest datagram either side sends.  It must stay below the default
 * socket send buffer (net.core.wmem_default, 208 KiB on Linux) so that a
 * blocking send of a maximal message never fails with EMSGSIZE. */
#define ES_MAX_MESSAGE (64 * 1024)

/* Largest EXPERTCONFIG the broker stores (it must fit in one message). */
#define ES_MAX_CONFIG (60 * 1024)

/* Truncation limits the worker applies to an event before sending it. */
#define ES_MAX_NAME_TEXT 260        /* source, event name, machine, column names */
#define ES_MAX_LONG_TEXT 8192       /* description, justification */
#define ES_MAX_COLUMN_TEXT 1024     /* a STRING column's value */

/* The confinement layers.  The broker asks for a set (argv of the worker),
 * the worker reports in Hello which ones it put in place. */
enum es_layer {
    ES_LAYER_RLIMITS = 1u << 0,     /* core, files, processes, CPU, address space */
    ES_LAYER_USER = 1u << 1,        /* run as an unprivileged user (root broker only) */
    ES_LAYER_NAMESPACES = 1u << 2,  /* user (when not root), network, IPC, UTS, mount */
    ES_LAYER_LANDLOCK = 1u << 3,    /* read and execute only the expert and system libraries */
    ES_LAYER_SECCOMP = 1u << 4,     /* two-stage allowlist, violations reported to the broker */
    ES_LAYER_ALL = (1u << 5) - 1,
};

/* Exit statuses of expert-worker that are not the expert's doing. */
#define ES_WORKER_EXIT_OK 0
#define ES_WORKER_EXIT_SETUP 120     /* could not map its segments or confine itself */
#define ES_WORKER_EXIT_PROTOCOL 121  /* the broker said something it did not expect */
#define ES_WORKER_EXIT_BROKER_GONE 122

#endif
