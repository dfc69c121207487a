/*
 * inproc.c - the bench-only loader (see inproc.h).
 */
#include "inproc.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "capture.h"
#include "filter_compile.h"
#include "heapseg.h"
#include "message.h"
#include "nmapi_internal.h"
#include "output.h"
#include "ring_reader.h"
#include "wire.h"

/* The broker answers an expert's ExpertCompileFilter; so must the host, or
 * an expert that compiles a filter would wait for ever. */
static void answer_filter_request(struct inproc_host *h, const Es__CompileFilter *request)
{
    struct es_bpf_insn *program = NULL;
    size_t count = 0;
    char why[256];
    uint32_t snaplen = h->capture && h->capture->map ? h->capture->map->snaplen : 65535;
    uint32_t link_type = h->capture ? h->capture->link_type : 1;
    int err = es_compile_filter(link_type, snaplen, (const char *)request->expression.data,
                                request->expression.len, &program, &count, why, sizeof why);
    Es__Command cmd = ES__COMMAND__INIT;
    cmd.entry = ES__ENTRY__ENTRY_FILTER;
    if (err == NMERR_SUCCESS) {
        cmd.has_filter_program = true;
        cmd.filter_program.data = (uint8_t *)program;
        cmd.filter_program.len = count * sizeof *program;
    } else {
        cmd.has_filter_error = true;
        cmd.filter_error = (uint32_t)err;
    }
    static uint8_t buf[ES_MAX_MESSAGE];
    size_t len = es_encode_command(&cmd, buf, sizeof buf);
    if (len > 0)
        (void)!send(h->host_end, buf, len, MSG_NOSIGNAL);
    free(program);
}

/* The broker's side of the event ring, as broker/supervisor.c drains it:
 * up to the head seen, one output batch, then the sleep handshake; again
 * while records keep coming. */
static void drain_ring(struct inproc_host *h, struct es_ring_reader *ring, struct es_ring_scratch *scratch)
{
    struct es_expert_ref who = {0, "in-process", "in-process"};
    char why[256];
    for (;;) {
        uint64_t head;
        if (es_ring_reader_head(ring, &head, why, sizeof why) != 0)
            return;
        if (h->output)
            es_output_begin_batch(h->output);
        const Es__Event *ev;
        while (es_ring_reader_next(ring, head, scratch, &ev, why, sizeof why) > 0) {
            atomic_fetch_add_explicit(&h->events, 1, memory_order_relaxed);
            if (h->output)
                es_output_event(h->output, &who, ev);
        }
        if (h->output)
            es_output_end_batch(h->output);
        es_ring_reader_release(ring);
        if (es_ring_reader_sleep(ring))
            return;
    }
}

/* The broker's side of the socket, minus supervision: decode every
 * datagram with the bounded decoder, write events as JSON Lines. */
static void *drain(void *arg)
{
    struct inproc_host *h = arg;
    static uint8_t buffer[ES_MAX_MESSAGE + 1];
    struct es_expert_ref who = {0, "in-process", "in-process"};
    struct es_ring_reader ring;
    es_ring_reader_init(&ring, h->ring);
    struct es_ring_scratch *scratch = malloc(sizeof *scratch);
    if (!scratch)
        return NULL;
    for (;;) {
        ssize_t len = recv(h->host_end, buffer, sizeof buffer, MSG_TRUNC);
        if (len < 0 && errno == EINTR)
            continue;
        drain_ring(h, &ring, scratch);
        if (len <= 0)
            break;
        atomic_fetch_add_explicit(&h->messages, 1, memory_order_relaxed);
        char why[256];
        const Es__WorkerMessage *m = es_decode_worker_message(h->decoder, buffer, (size_t)len, why, sizeof why);
        if (!m)
            continue;
        switch (m->body_case) {
        case ES__WORKER_MESSAGE__BODY_EVENT:
            atomic_fetch_add_explicit(&h->events, 1, memory_order_relaxed);
            if (h->output)
                es_output_event(h->output, &who, m->event);
            break;
        case ES__WORKER_MESSAGE__BODY_STATUS:
            atomic_fetch_add_explicit(&h->statuses, 1, memory_order_relaxed);
            break;
        case ES__WORKER_MESSAGE__BODY_COMPILE_FILTER:
            answer_filter_request(h, m->compile_filter);
            break;
        default:
            break;
        }
    }
    free(scratch);
    return NULL;
}

int inproc_open(struct inproc_host *h, uint64_t heap_size, const struct es_capture *capture,
                const char *capture_path, FILE *sink, char *why, size_t whylen)
{
    memset(h, 0, sizeof *h);
    h->expert_end = h->host_end = -1;
    h->capture = capture;
    h->sink = sink;
    snprintf(h->capture_path, sizeof h->capture_path, "%s", capture_path ? capture_path : "");

    /* Anonymous and zero, like the broker's fresh memfd; MAP_NORESERVE so
     * that a 256 MiB quota costs only the pages the expert touches. */
    /* The event ring follows the quota, as in the broker's segment
     * (proto/heapseg.h). */
    uint64_t ring_offset = (heap_size + ES_HEAP_CONTROL_SIZE - 1) / ES_HEAP_CONTROL_SIZE * ES_HEAP_CONTROL_SIZE;
    h->heap_size = (size_t)(ring_offset + ES_EVENT_RING_AREA);
    h->heap = mmap(NULL, h->heap_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (h->heap == MAP_FAILED) {
        h->heap = NULL;
        snprintf(why, whylen, "cannot map a heap of %llu bytes: %s", (unsigned long long)heap_size,
                 strerror(errno));
        return -1;
    }
    struct es_heap_control *control = h->heap;
    control->magic = ES_HEAP_MAGIC;
    control->version = ES_PROTOCOL_VERSION;
    control->arena_end = heap_size;
    control->event_ring_offset = ring_offset;
    h->ring = (struct es_event_ring_header *)((char *)h->heap + ring_offset);
    h->ring->magic = ES_EVENT_RING_MAGIC;
    h->ring->capacity = ES_EVENT_RING_CAPACITY;
    h->ring->broker_sleeping = 1;

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        snprintf(why, whylen, "socketpair: %s", strerror(errno));
        inproc_close(h);
        return -1;
    }
    h->expert_end = sv[0];
    h->host_end = sv[1];
    h->decoder = malloc(sizeof *h->decoder);
    h->output = sink ? es_output_new(sink) : NULL;
    if (!h->decoder || (sink && !h->output)) {
        snprintf(why, whylen, "out of memory");
        inproc_close(h);
        return -1;
    }
    es_decoder_init(h->decoder);
    if (pthread_create(&h->drainer, NULL, drain, h) != 0) {
        snprintf(why, whylen, "cannot start the drain thread");
        inproc_close(h);
        return -1;
    }
    h->drainer_started = true;

    const void *store = capture ? capture->map : NULL;
    size_t store_size = capture ? (size_t)capture->size : 0;
    if (!es_nmapi_attach(h->expert_end, h->heap, h->heap_size, store, store_size)) {
        snprintf(why, whylen, "the heap of %llu bytes is too small", (unsigned long long)heap_size);
        inproc_close(h);
        return -1;
    }
    return 0;
}

HEXPERTKEY inproc_begin_call(struct inproc_host *h, EXPERTSTARTUPINFO *startup)
{
    memset(startup, 0, sizeof *startup);
    startup->hCapture = es_nmapi_capture_handle();
    startup->dwFrameNumber = INVALID_FRAME_NUMBER;
    snprintf(startup->szCaptureFile, sizeof startup->szCaptureFile, "%s", h->capture_path);
    return es_nmapi_begin_call(startup);
}

void inproc_end_call(void)
{
    es_nmapi_end_call();
}

void inproc_close(struct inproc_host *h)
{
    /* Closing the expert's end makes the drainer's recv return 0 once it
     * has read everything queued: nothing sent is left unread. */
    if (h->expert_end >= 0)
        close(h->expert_end);
    h->expert_end = -1;
    if (h->drainer_started)
        pthread_join(h->drainer, NULL);
    h->drainer_started = false;
    if (h->host_end >= 0)
        close(h->host_end);
    h->host_end = -1;
    if (h->output)
        es_output_free(h->output);
    h->output = NULL;
    if (h->sink)
        fflush(h->sink);
    free(h->decoder);
    h->decoder = NULL;
    if (h->heap)
        munmap(h->heap, h->heap_size);
    h->heap = NULL;
}

static double process_cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return rusage_cpu_seconds(&ru);
}

int inproc_run_expert(struct inproc_host *h, const char *expert_path, struct inproc_timing *t, char *why,
                      size_t whylen)
{
    memset(t, 0, sizeof *t);
    uint64_t start = now_ns();
    void *module = dlopen(expert_path, RTLD_NOW | RTLD_LOCAL);
    if (!module) {
        const char *error = dlerror();
        snprintf(why, whylen, "dlopen: %s", error ? error : "failed");
        return -1;
    }
    PEXPERTREGISTERPROC register_proc = (PEXPERTREGISTERPROC)dlsym(module, EXPERTENTRY_REGISTER);
    PEXPERTCONFIGPROC configure_proc = (PEXPERTCONFIGPROC)dlsym(module, EXPERTENTRY_CONFIGURE);
    PEXPERTRUNPROC run_proc = (PEXPERTRUNPROC)dlsym(module, EXPERTENTRY_RUN);
    uint64_t loaded = now_ns();
    t->load_seconds = seconds_between(start, loaded);
    if (!register_proc || !run_proc) {
        snprintf(why, whylen, "no %s entry point", !register_proc ? "Register" : "Run");
        return -1;
    }

    EXPERTENUMINFO info;
    memset(&info, 0, sizeof info);
    snprintf(info.szDllName, sizeof info.szDllName, "%s", expert_path);
    info.hModule = module;
    info.pRegisterProc = register_proc;
    info.pConfigProc = configure_proc;
    info.pRunProc = run_proc;
    t->registered = register_proc(&info) != FALSE;
    uint64_t registered = now_ns();
    t->register_seconds = seconds_between(loaded, registered);
    if (!t->registered) {
        snprintf(why, whylen, "Register returned FALSE");
        return -1;
    }

    EXPERTSTARTUPINFO startup;
    double cpu_before = process_cpu_seconds();
    uint64_t run_start = now_ns();
    HEXPERTKEY key = inproc_begin_call(h, &startup);
    t->run_result = run_proc(key, NULL, &startup, 0, NULL) != FALSE;
    inproc_end_call();
    t->run_seconds = seconds_between(run_start, now_ns());
    t->run_cpu_seconds = process_cpu_seconds() - cpu_before;
    /* The module stays loaded: the process ends with the sample. */
    return 0;
}
