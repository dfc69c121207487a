/*
 * injection.h - faults injected into an expert's world (`run --inject`).
 *
 * The same text form is what the user writes and what the broker hands the
 * worker: comma-separated items, each NAME=VALUE:
 *
 *   alloc=N          fail the Nth ExpertAllocMemory/ExpertReallocMemory call
 *   alloc-every=N    fail every Nth allocation call
 *   alloc-rate=P     fail a share P (0 to 1) of allocation calls, at random
 *   terminate=N      NMERR_EXPERT_TERMINATE from the Nth helper call on
 *   kill=N[:SIG]     the worker raises SIG (default SEGV; not KILL or a stop
 *                    signal, which the sandbox forbids) at its Nth helper call
 *   slow-frames=US   ExpertGetFrame waits US microseconds before each frame
 *   short-capture=N  only the first N frames exist, though more are announced
 *   seed=S           seed of alloc-rate (default 1): the same seed, the same faults
 *
 * Calls are counted from 1, in the order the expert makes them; a failed
 * allocation fails as the reference says: NULL, NMERR_OUT_OF_MEMORY.
 */
#ifndef ES_INJECTION_H
#define ES_INJECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct es_injection {
    uint64_t alloc_at;          /* 0: none */
    uint64_t alloc_every;       /* 0: none */
    uint32_t alloc_rate_ppm;    /* parts per million; 0: none */
    uint64_t terminate_at;      /* 0: none */
    uint64_t kill_at;           /* 0: none */
    int kill_signal;
    uint32_t slow_frames_us;
    bool short_capture;
    uint32_t short_capture_frames;
    uint64_t seed;
};

/* Parses one or more items into *inj (adding to what is there).  Returns 0,
 * or -1 with a one-line reason. */
int es_injection_parse(const char *text, struct es_injection *inj, char *why, size_t whylen);

/* Writes the canonical text of *inj (empty when nothing is injected). */
void es_injection_format(const struct es_injection *inj, char *buf, size_t len);

bool es_injection_any(const struct es_injection *inj);

#endif
