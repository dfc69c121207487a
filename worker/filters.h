/*
 * filters.h - the expert's own display filters (HFILTER), from tcpdump/BPF
 * expressions compiled with libpcap inside the worker.
 */
#ifndef ES_FILTERS_H
#define ES_FILTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netmon.h"

/* Compiles `expression` for frames of `link_type`.  Returns the handle, or
 * NULL with NMERR_FILTER_INVALID_EXPRESSION (it does not compile, or names a
 * host, network or service: those would need files and sockets the sandbox
 * refuses) or NMERR_OUT_OF_MEMORY in *error. */
HFILTER es_filter_compile(uint32_t link_type, uint32_t snaplen, const char *expression, DWORD *error);

/* True if h is a live filter made by es_filter_compile. */
bool es_filter_known(HFILTER h);

/* Whether the frame passes.  h must be known. */
bool es_filter_passes(HFILTER h, const FRAME *frame);

/* Returns NMERR_SUCCESS, or NMERR_INVALID_HFILTER for a handle that is not
 * a live filter. */
DWORD es_filter_destroy(HFILTER h);

#endif
