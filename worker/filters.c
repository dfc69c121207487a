/*
 * filters.c - the expert's own display filters.
 *
 * The broker compiles the expression (filter_compile.c there), so the worker
 * runs libpcap-free; the program it sends back is checked once here and then
 * run by the BPF interpreter for each frame.
 */
#include "filters.h"

#include <stdlib.h>
#include <string.h>

#include "bpf.h"
#include "channel.h"
#include "wire.h"

#define FILTER_MAGIC 0x46494c54u   /* "FILT" */
#define MAX_FILTERS 64

struct compiled_filter {
    uint32_t magic;
    uint32_t generation;
    size_t count;
    struct es_bpf_insn *program;
};

/* Live filters.  A handle is not a pointer but a slot number and that
 * slot's generation, so an expert can neither make the helpers run a program
 * it forged nor reach a new filter through the handle of a destroyed one
 * that happened to reuse its memory. */
static struct compiled_filter *live[MAX_FILTERS];
static uint32_t generations[MAX_FILTERS];

static HFILTER handle_of(size_t slot)
{
    return (HFILTER)(uintptr_t)(((uint64_t)generations[slot] << 16) | (slot + 1));
}

/* The live filter a handle names, or NULL. */
static struct compiled_filter *lookup(HFILTER h, size_t *slot_out)
{
    uint64_t v = (uint64_t)(uintptr_t)h;
    size_t slot = (size_t)(v & 0xFFFF);
    if (slot == 0 || slot > MAX_FILTERS)
        return NULL;
    slot--;
    struct compiled_filter *f = live[slot];
    if (!f || f->magic != FILTER_MAGIC || (v >> 16) != f->generation)
        return NULL;
    if (slot_out)
        *slot_out = slot;
    return f;
}

/* Asks the broker to compile; the answer is the next command. */
static int ask_broker(int control_fd, const char *expression, Es__Command **answer)
{
    Es__CompileFilter request = ES__COMPILE_FILTER__INIT;
    request.expression.data = (uint8_t *)expression;
    request.expression.len = strlen(expression);
    Es__WorkerMessage msg = ES__WORKER_MESSAGE__INIT;
    msg.body_case = ES__WORKER_MESSAGE__BODY_COMPILE_FILTER;
    msg.compile_filter = &request;
    if (es_channel_send(control_fd, &msg) != 0)
        return -1;
    *answer = es_channel_recv_command(control_fd);
    return *answer && (*answer)->entry == ES__ENTRY__ENTRY_FILTER ? 0 : -1;
}

HFILTER es_filter_compile(int control_fd, const char *expression, DWORD *error)
{
    *error = NMERR_FILTER_INVALID_EXPRESSION;
    if (!expression || strnlen(expression, ES_MAX_FILTER_EXPRESSION + 1) > ES_MAX_FILTER_EXPRESSION)
        return NULL;
    size_t slot = 0;
    while (slot < MAX_FILTERS && live[slot])
        slot++;
    if (slot == MAX_FILTERS) {
        *error = NMERR_OUT_OF_MEMORY;
        return NULL;
    }
    Es__Command *answer = NULL;
    if (ask_broker(control_fd, expression, &answer) != 0) {
        if (answer)
            es__command__free_unpacked(answer, NULL);
        *error = NMERR_EXPERT_TERMINATE;   /* the broker is gone or confused: stop */
        return NULL;
    }
    struct compiled_filter *f = NULL;
    size_t count = answer->filter_program.len / sizeof(struct es_bpf_insn);
    if (!answer->has_filter_program || answer->filter_program.len % sizeof(struct es_bpf_insn) != 0) {
        *error = answer->has_filter_error ? answer->filter_error : NMERR_FILTER_INVALID_EXPRESSION;
    } else if (!(f = calloc(1, sizeof *f)) || !(f->program = malloc(answer->filter_program.len))) {
        free(f);
        f = NULL;
        *error = NMERR_OUT_OF_MEMORY;
    } else {
        memcpy(f->program, answer->filter_program.data, answer->filter_program.len);
        f->count = count;
        if (!es_bpf_valid(f->program, f->count)) {
            free(f->program);
            free(f);
            f = NULL;
            *error = NMERR_FILTER_INVALID_EXPRESSION;
        }
    }
    es__command__free_unpacked(answer, NULL);
    if (!f)
        return NULL;
    f->magic = FILTER_MAGIC;
    /* Generations stay below 2^32 and never 0, so no handle is NULL. */
    generations[slot] = generations[slot] == UINT32_MAX ? 1 : generations[slot] + 1;
    f->generation = generations[slot];
    live[slot] = f;
    *error = NMERR_SUCCESS;
    return handle_of(slot);
}

bool es_filter_known(HFILTER h)
{
    return lookup(h, NULL) != NULL;
}

bool es_filter_passes(HFILTER h, const FRAME *frame)
{
    const struct compiled_filter *f = lookup(h, NULL);
    return f && es_bpf_run(f->program, frame->MacFrame, frame->FrameLength, frame->nBytesAvail) != 0;
}

DWORD es_filter_destroy(HFILTER h)
{
    size_t slot;
    struct compiled_filter *f = lookup(h, &slot);
    if (!f)
        return NMERR_INVALID_HFILTER;
    live[slot] = NULL;
    f->magic = 0;
    free(f->program);
    free(f);
    return NMERR_SUCCESS;
}
