/*
 * nmapi_internal.h - what expert-worker tells libnmapi.so before it calls
 * the expert.  These are the only non-Expert* symbols libnmapi exports.
 */
#ifndef ES_NMAPI_INTERNAL_H
#define ES_NMAPI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netmon.h"

#define ES_EXPORT __attribute__((visibility("default")))

/* Hands libnmapi the worker's mapped segments.  store may be NULL (no
 * capture: `expert-broker list`).  Returns false if the heap region is too
 * small to hold the control block and an allocator. */
ES_EXPORT bool es_nmapi_attach(int control_fd, void *heap_segment, size_t heap_size,
                               const void *store, size_t store_size);

/* Brackets a call into the expert: the key it gets, valid until the end. */
ES_EXPORT HEXPERTKEY es_nmapi_begin_call(const EXPERTSTARTUPINFO *startup);
ES_EXPORT void es_nmapi_end_call(void);

/* Copies `len` bytes into a fresh heap block (a stored EXPERTCONFIG). */
ES_EXPORT void *es_nmapi_heap_copy(const void *bytes, size_t len);

struct es_heap_control;

/* The heap's control block (crash_report.c writes the crash record there). */
struct es_heap_control *es_nmapi_control(void);

/* Records the signal and fault address of a fatal signal in the heap's
 * control block before the worker dies of it (on an alternate stack, so a
 * stack overflow is recorded too).  Call after es_nmapi_attach. */
ES_EXPORT int es_nmapi_record_fatal_signals(void);

/* Size of a live heap block, 0 if p is not one (never faults). */
ES_EXPORT size_t es_nmapi_block_size(const void *p);

struct es_injection;

/* Faults to inject into the expert's world (run --inject); copied. */
ES_EXPORT void es_nmapi_set_injection(const struct es_injection *inj);

/* The run's HCAPTURE for EXPERTSTARTUPINFO, NULL without a capture. */
ES_EXPORT HCAPTURE es_nmapi_capture_handle(void);

/* Frame count of the store, 0 without one. */
ES_EXPORT uint32_t es_nmapi_frame_count(void);

#endif
