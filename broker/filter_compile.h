/*
 * filter_compile.h - BPF programs for the experts' own display filters.
 */
#ifndef ES_FILTER_COMPILE_H
#define ES_FILTER_COMPILE_H

#include <stddef.h>
#include <stdint.h>

#include "bpf_program.h"

/* Longest expression an expert may ask to compile. */
#define ES_MAX_FILTER_TEXT 4096

/* Compiles `expression` (len bytes, not NUL-terminated) for frames of
 * `link_type`.  Returns NMERR_SUCCESS with a malloc'd program, or
 * NMERR_FILTER_INVALID_EXPRESSION / NMERR_OUT_OF_MEMORY with a reason. */
int es_compile_filter(uint32_t link_type, uint32_t snaplen, const char *expression, size_t len,
                      struct es_bpf_insn **program, size_t *count, char *why, size_t whylen);

#endif
