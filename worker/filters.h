/*
 * filters.h - the expert's own display filters (HFILTER), from tcpdump/BPF
 * expressions the broker compiles and the worker runs.
 */
#ifndef ES_FILTERS_H
#define ES_FILTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netmon.h"

/* Longest expression the worker passes on (the broker checks again). */
#define ES_MAX_FILTER_EXPRESSION 4096

/* Has the broker compile `expression` for this capture.  Returns the handle,
 * or NULL with NMERR_FILTER_INVALID_EXPRESSION (it does not compile, or names
 * a host, network or service, which would need a lookup), NMERR_OUT_OF_MEMORY,
 * or NMERR_EXPERT_TERMINATE (the broker did not answer) in *error. */
HFILTER es_filter_compile(int control_fd, const char *expression, DWORD *error);

/* True if h is a live filter made by es_filter_compile. */
bool es_filter_known(HFILTER h);

/* Whether the frame passes.  h must be known. */
bool es_filter_passes(HFILTER h, const FRAME *frame);

/* Returns NMERR_SUCCESS, or NMERR_INVALID_HFILTER for a handle that is not
 * a live filter. */
DWORD es_filter_destroy(HFILTER h);

#endif
