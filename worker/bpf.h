/*
 * bpf.h - a classic BPF interpreter, so that the worker can run display
 * filters without loading libpcap (and the dozen libraries it brings, which
 * would cost every worker milliseconds at start).
 */
#ifndef ES_BPF_H
#define ES_BPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf_program.h"

/* Checks a program once: known opcodes, jumps that land inside it, scratch
 * memory indexes below 16, and a RET at the end.  Only checked programs may
 * be run. */
bool es_bpf_valid(const struct es_bpf_insn *insns, size_t count);

/* Runs a checked program over a frame of `caplen` captured bytes (`wirelen`
 * on the wire).  Returns the program's result: 0 means the frame fails.
 * Reading past the captured bytes ends the program with 0, as in the kernel
 * and libpcap. */
uint32_t es_bpf_run(const struct es_bpf_insn *insns, const uint8_t *packet, uint32_t wirelen,
                    uint32_t caplen);

#endif
