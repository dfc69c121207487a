/*
 * bpf_program.h - a classic BPF program as it crosses from the broker (which
 * compiles filter expressions with libpcap) to the worker (which runs them
 * without libpcap).  The layout is libpcap's struct bpf_insn.
 */
#ifndef ES_BPF_PROGRAM_H
#define ES_BPF_PROGRAM_H

#include <stdint.h>

struct es_bpf_insn {
    uint16_t code;
    uint8_t jt;
    uint8_t jf;
    uint32_t k;
};

/* libpcap's BPF_MAXINSNS: no compiled filter is longer. */
#define ES_BPF_MAX_INSNS 4096

#endif
