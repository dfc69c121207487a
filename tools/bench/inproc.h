/*
 * inproc.h - the bench-only loader: runs an expert in the bench's own
 * process, with no sandbox, as NetMon ran experts.
 *
 * It is the baseline the sandbox is measured against, so it does the same
 * work as a worker and its broker except for what the sandbox adds: the
 * helpers are libnmapi's own (linked into the bench), the heap is the TLSF
 * heap over an anonymous mapping of the quota's size, the frames are a frame
 * store built by es_capture_load, and everything the expert submits crosses
 * the event ring or a SOCK_SEQPACKET socket to a thread that reads it with
 * the broker's ring reader and decoder and writes it with the broker's JSON
 * writer.  What is missing is
 * exactly the sandbox: no fork and exec, no confinement, no seccomp, no
 * second process to schedule.
 *
 * libnmapi keeps its state in globals: one host per process, which is why
 * the bench runs every in-process sample in a child of its own.
 */
#ifndef ES_BENCH_INPROC_H
#define ES_BENCH_INPROC_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "netmon.h"

struct es_capture;
struct es_output;
struct es_decoder;
struct es_event_ring_header;

struct inproc_host {
    int expert_end;              /* handed to es_nmapi_attach as the control socket */
    int host_end;                /* drained by the thread */
    void *heap;
    size_t heap_size;            /* the mapping: quota, then the event ring */
    struct es_event_ring_header *ring;
    const struct es_capture *capture;
    FILE *sink;                  /* where events are written as JSON Lines; may be NULL */
    struct es_output *output;
    struct es_decoder *decoder;
    pthread_t drainer;
    bool drainer_started;
    atomic_uint_fast64_t events;
    atomic_uint_fast64_t statuses;
    atomic_uint_fast64_t messages;
    char capture_path[260];
};

/* Maps an anonymous heap of heap_size bytes, makes the socket pair, starts
 * the drain thread and attaches libnmapi.  capture may be NULL (no frames).
 * Returns 0, or -1 with a reason in why. */
int inproc_open(struct inproc_host *h, uint64_t heap_size, const struct es_capture *capture,
                const char *capture_path, FILE *sink, char *why, size_t whylen);

/* Brackets a call into the expert, as the worker does. */
HEXPERTKEY inproc_begin_call(struct inproc_host *h, EXPERTSTARTUPINFO *startup);
void inproc_end_call(void);

/* Closes the expert's end, waits until the thread has drained everything
 * sent, and releases the heap. */
void inproc_close(struct inproc_host *h);

struct inproc_timing {
    double load_seconds;         /* dlopen and dlsym */
    double register_seconds;
    double run_seconds;          /* Run, wall */
    double run_cpu_seconds;      /* Run, CPU of the whole process (both threads) */
    bool registered;
    bool run_result;
};

/* dlopens the expert, calls Register, then Run over the host's capture.
 * Returns 0 when it ran (whatever Run returned), -1 with a reason in why
 * when it could not be loaded or did not register. */
int inproc_run_expert(struct inproc_host *h, const char *expert_path, struct inproc_timing *t, char *why,
                      size_t whylen);

#endif
