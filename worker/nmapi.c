/*
 * nmapi.c - the eight Expert* helpers, as libnmapi.so exports them.
 *
 * They run inside the worker, in the expert's own process, so nothing here is
 * trusted by the broker: what they send is validated on arrival.  Their job
 * is to be faithful to the reference and fast: ExpertGetFrame and the memory
 * helpers make no system call; ExpertSubmitEvent writes into the event ring
 * in the heap segment and makes one only when the broker sleeps (a wake
 * datagram) or the ring is full (a futex wait); ExpertIndicateStatus makes
 * exactly one (a blocking send on the control socket).
 *
 * Helpers are not thread-safe: NetMon ran each expert's Run on one thread and
 * expects the helpers to be called from it.
 */
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>

#include "channel.h"
#include "event_ring.h"
#include "filters.h"
#include "framestore.h"
#include "heap.h"
#include "heapseg.h"
#include "injection.h"
#include "netmon.h"
#include "nmapi_internal.h"
#include "recognize.h"
#include "ring_writer.h"
#include "wire.h"

#define NMAPI_EXPORT __attribute__((visibility("default")))

/* The key handed to an entry point: a value drawn at random for each call,
 * never an address, so a key cached from an earlier call (or guessed) is
 * refused.  A helper accepts only the key of the call in progress. */

/* The recognize data of the frame last returned (netmon.h: valid until the
 * next ExpertGetFrame call). */
static _Alignas(RECOGNIZEDATATABLE) unsigned char recognized_storage[ES_RECOGNIZED_SIZE];

static struct {
    int control_fd;
    struct es_heap_control *control;
    struct es_heap *heap;      /* &heap_handle once attached */
    struct es_heap heap_handle;
    const struct es_store_header *store;
    uint32_t frame_count;
    uintptr_t key;
    bool in_call;
    EXPERTSTARTUPINFO startup;
    struct es_injection inject;
    /* Summaries of `inject`, so that the helpers' common path tests one
     * word instead of each injection: the first helper call number at
     * which kill_at or terminate_at can apply, and whether any allocation
     * fault is set. */
    uint64_t inject_from;
    bool inject_alloc;
    uint64_t random_state;     /* xorshift64 for alloc-rate */
    char capture;              /* its address is the run's HCAPTURE */
} g = {.control_fd = -1, .inject_from = UINT64_MAX};

/* ------------------------------------------------------------------ setup */

bool es_nmapi_attach(int control_fd, void *heap_segment, size_t heap_size, const void *store,
                     size_t store_size)
{
    /* store_size is checked by the worker before it gets here. */
    if (heap_size < ES_HEAP_CONTROL_SIZE)
        return false;
    g.control_fd = control_fd;
    g.control = heap_segment;
    /* The layout is the broker's (proto/heapseg.h): the arena is the quota,
     * the event ring lies beyond it. */
    uint64_t arena_end = g.control->arena_end, ring = g.control->event_ring_offset;
    if (arena_end < ES_HEAP_CONTROL_SIZE || arena_end > ring || ring > heap_size ||
        heap_size - ring < ES_EVENT_RING_AREA ||
        !es_event_ring_attach((char *)heap_segment + ring, control_fd))
        return false;
    /* The heap keeps its counters straight in the control block, where the
     * broker reads (and bounds) them: no copy after each memory call. */
    g.heap = es_heap_init(&g.heap_handle, (char *)heap_segment + ES_HEAP_CONTROL_SIZE,
                          arena_end - ES_HEAP_CONTROL_SIZE,
                          (struct es_heap_counters *)(void *)&g.control->bytes_in_use);
    if (!g.heap)
        return false;
    g.control->last_frame = UINT64_MAX;
    /* An expert reads the store front to back, and the pages it read stay
     * mapped until the mapping goes: at the worker's exit (an in-process
     * host's munmap) the kernel unmaps them one by one (the whole store,
     * for most experts) and, for each page whose accessed bit is set,
     * marks the page accessed on its LRU list, moving it between lists
     * under the LRU lock.  That marking was most of the unmapping: the
     * worker's exit took 35 ms of CPU after Run on a 490 MB store, 15 ms
     * with this advice (docs/performance.md, Sandbox cost).  MADV_SEQUENTIAL
     * tells the kernel that accesses through this mapping say nothing about
     * the pages' future use, so it skips the marking (and does not count
     * them when it reclaims).  Faults and reads are unchanged: shmem has no
     * readahead, and fault-around still maps 16 pages per fault.  Refusal
     * changes nothing. */
    if (store && store_size > 0)
        (void)madvise((void *)(uintptr_t)store, store_size, MADV_SEQUENTIAL);
    g.store = store;
    g.frame_count = store ? g.store->frame_count : 0;
    return true;
}

HEXPERTKEY es_nmapi_begin_call(const EXPERTSTARTUPINFO *startup)
{
    uintptr_t key = 0;
    /* getrandom is allowed by the sandbox; the low bit keeps a key from
     * ever being NULL, whatever the bytes. */
    if (getrandom(&key, sizeof key, 0) != (ssize_t)sizeof key)
        key = (uintptr_t)g.control->helper_calls * 0x9E3779B97F4A7C15u;
    g.key = key | 1;
    g.in_call = true;
    if (startup)
        g.startup = *startup;
    else
        memset(&g.startup, 0, sizeof g.startup);
    return (HEXPERTKEY)g.key;
}

void es_nmapi_end_call(void)
{
    g.in_call = false;
}

struct es_heap_control *es_nmapi_control(void)
{
    return g.control;
}

void es_nmapi_set_injection(const struct es_injection *inj)
{
    g.inject = *inj;
    g.inject_from = UINT64_MAX;
    if (inj->kill_at)
        g.inject_from = inj->kill_at;
    if (inj->terminate_at && inj->terminate_at < g.inject_from)
        g.inject_from = inj->terminate_at;
    g.inject_alloc = inj->alloc_at || inj->alloc_every || inj->alloc_rate_ppm;
    g.random_state = inj->seed ? inj->seed : 1;
    /* A short capture: the expert sees only the first frames, though the
     * startup information still announces them all. */
    if (inj->short_capture && inj->short_capture_frames < g.frame_count)
        g.frame_count = inj->short_capture_frames;
}

uint32_t es_nmapi_frame_count(void)
{
    return g.frame_count;
}

/* es_heap_init is given the control block's three counter words as the
 * heap's counters: they must be laid out as struct es_heap_counters. */
_Static_assert(offsetof(struct es_heap_control, blocks_in_use) ==
                   offsetof(struct es_heap_control, bytes_in_use) + offsetof(struct es_heap_counters, blocks_in_use) &&
               offsetof(struct es_heap_control, peak_bytes) ==
                   offsetof(struct es_heap_control, bytes_in_use) + offsetof(struct es_heap_counters, peak_bytes) &&
               offsetof(struct es_heap_control, bytes_in_use) % _Alignof(struct es_heap_counters) == 0,
               "control block counters laid out as struct es_heap_counters");

size_t es_nmapi_block_size(const void *p)
{
    return g.heap ? es_heap_block_size(g.heap, p) : 0;
}

void *es_nmapi_heap_copy(const void *bytes, size_t len)
{
    enum es_heap_status status;
    void *block = es_heap_alloc(g.heap, len, &status);
    if (block)
        memcpy(block, bytes, len);
    return block;
}

/* ------------------------------------------------------------------ checks */

/* Common entry of every helper: counts the call and answers whether the
 * expert may go on.  Returns NMERR_SUCCESS, NMERR_EXPERT_TERMINATE or
 * NMERR_INVALID_PARAMETER (not the key of the call in progress). */
static inline DWORD enter_helper(HEXPERTKEY key)
{
    if (!g.control)
        return NMERR_NOT_INITIALIZED;
    uint64_t call = ++g.control->helper_calls;
    if (__builtin_expect(call >= g.inject_from, 0)) {
        if (g.inject.kill_at && g.inject.kill_at == call)
            raise(g.inject.kill_signal);
        if (g.inject.terminate_at && call >= g.inject.terminate_at)
            return NMERR_EXPERT_TERMINATE;
    }
    /* The broker sets the word from another process; a relaxed atomic load
     * is enough to see it eventually and costs nothing more than a load. */
    if (atomic_load_explicit((_Atomic uint32_t *)&g.control->terminate, memory_order_relaxed))
        return NMERR_EXPERT_TERMINATE;
    if (!g.in_call || (uintptr_t)key != g.key)
        return NMERR_INVALID_PARAMETER;
    return NMERR_SUCCESS;
}

static DWORD heap_error(enum es_heap_status status)
{
    switch (status) {
    case ES_HEAP_OK:
        return NMERR_SUCCESS;
    case ES_HEAP_NO_MEMORY:
    case ES_HEAP_TOO_LARGE:
        return NMERR_OUT_OF_MEMORY;
    case ES_HEAP_BAD_POINTER:
        return NMERR_INVALID_PARAMETER;
    case ES_HEAP_CORRUPT:
        break;
    }
    return NMERR_INTERNAL_EXCEPTION;
}

/* ------------------------------------------------------------------ frames */

/* How many frames ahead ExpertGetFrame prefetches: far enough to cover a
 * memory access at the pace of an expert that does little per frame, near
 * enough that the lines are still cached when it gets there (16 frames
 * are 32 cache lines). */
#define PREFETCH_AHEAD 16

/* Whether frame n passes the display filter (when `deferred`) and the
 * expert's own filter. */
static bool passes(uint32_t n, bool deferred, HFILTER filter)
{
    if (deferred && !es_store_passes_filter(g.store, n))
        return false;
    return !filter || es_filter_passes(filter, es_store_frame(g.store, n));
}

/* The next frame from `from` in direction `step` (+1 or -1) that passes the
 * display filter when `deferred`, then the expert's filter; -1 if none. */
static int64_t next_frame(int64_t from, int step, bool deferred, HFILTER filter)
{
    for (int64_t n = from; n >= 0 && n < (int64_t)g.frame_count; n += step) {
        if (passes((uint32_t)n, deferred, filter))
            return n;
    }
    return -1;
}

NMAPI_EXPORT DWORD WINAPI ExpertGetFrame(HEXPERTKEY hExpertKey, DWORD Direction, DWORD RequestFlags,
                                         DWORD RequestedFrameNumber, HFILTER hFilter,
                                         LPEXPERTFRAMEDESCRIPTOR pEFrameDescriptor)
{
    DWORD err = enter_helper(hExpertKey);
    if (err != NMERR_SUCCESS)
        return err;
    if (!pEFrameDescriptor)
        return NMERR_INVALID_PARAMETER;
    /* Only handles from ExpertCompileFilter are real; anything else is one
     * the expert made up. */
    if (hFilter && !es_filter_known(hFilter))
        return NMERR_INVALID_HFILTER;

    bool deferred = (RequestFlags & FLAGS_DEFER_TO_UI_FILTER) != 0;
    bool from_edge = RequestedFrameNumber == INVALID_FRAME_NUMBER;
    int64_t n;
    switch (Direction) {
    case GET_SPECIFIED_FRAME:
        if (from_edge || RequestedFrameNumber >= g.frame_count)
            return NMERR_FRAME_NOT_FOUND;
        n = RequestedFrameNumber;
        if (!passes((uint32_t)n, deferred, hFilter))
            return NMERR_FRAME_FAILED_FILTER;
        break;
    case GET_FRAME_NEXT_FORWARD:
        n = next_frame(from_edge ? 0 : (int64_t)RequestedFrameNumber + 1, +1, deferred, hFilter);
        break;
    case GET_FRAME_NEXT_BACKWARD:
        if (from_edge || RequestedFrameNumber > g.frame_count)
            n = next_frame((int64_t)g.frame_count - 1, -1, deferred, hFilter);
        else
            n = next_frame((int64_t)RequestedFrameNumber - 1, -1, deferred, hFilter);
        break;
    default:
        return NMERR_INVALID_PARAMETER;
    }
    if (n < 0)
        return NMERR_NO_MORE_FRAMES;

    if (g.inject.slow_frames_us) {
        struct timespec wait = {g.inject.slow_frames_us / 1000000, (long)(g.inject.slow_frames_us % 1000000) * 1000};
        nanosleep(&wait, NULL);
    }
    const FRAME *frame = es_store_frame(g.store, (uint32_t)n);
    /* Experts mostly walk the capture in order.  Start fetching the header
     * and first bytes (what the recognize walk reads) of the frame
     * PREFETCH_AHEAD calls away in the same direction, so that by then it
     * is in the cache: with full-size frames the walk is bound by memory,
     * not instructions (docs/performance.md, Frames: 62 ns per frame
     * without, 17-22 ns with, against 108 ns for pcap_next_ex). */
    if (Direction != GET_SPECIFIED_FRAME) {
        int64_t ahead = Direction == GET_FRAME_NEXT_FORWARD ? n + PREFETCH_AHEAD : n - PREFETCH_AHEAD;
        if (ahead >= 0 && ahead < (int64_t)g.frame_count) {
            const char *later = (const char *)es_store_frame(g.store, (uint32_t)ahead);
            __builtin_prefetch(later);
            __builtin_prefetch(later + 64);
        }
    }
    pEFrameDescriptor->FrameNumber = (DWORD)n;
    pEFrameDescriptor->hFrame = (HFRAME)(uintptr_t)frame;
    pEFrameDescriptor->pFrame = (ULPFRAME)frame;
    RECOGNIZEDATATABLE *recognized = (RECOGNIZEDATATABLE *)(void *)recognized_storage;
    es_recognize(g.store->link_type, frame->MacFrame, frame->nBytesAvail, recognized);
    pEFrameDescriptor->lpRecognizeDataTable = recognized;
    /* No parsers: properties are never attached, FLAGS_ATTACH_PROPERTIES
     * or not (netmon.h). */
    pEFrameDescriptor->lpPropertyTable = NULL;
    g.control->frames_read++;
    g.control->last_frame = (uint64_t)n;
    return NMERR_SUCCESS;
}

/* ------------------------------------------------------------------ memory */

static uint64_t next_random(void)
{
    uint64_t x = g.random_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return g.random_state = x;
}

/* Counts an allocation call and says whether an injected fault fails it. */
static bool allocation_fails(void)
{
    uint64_t n = ++g.control->alloc_calls;
    if (!g.inject_alloc)
        return false;
    const struct es_injection *in = &g.inject;
    if (in->alloc_at == n)
        return true;
    if (in->alloc_every && n % in->alloc_every == 0)
        return true;
    return in->alloc_rate_ppm && next_random() % 1000000 < in->alloc_rate_ppm;
}

static void set_error(DWORD *pError, DWORD err)
{
    if (pError)
        *pError = err;
}

NMAPI_EXPORT LPVOID WINAPI ExpertAllocMemory(HEXPERTKEY hExpertKey, SIZE_T nBytes, DWORD *pError)
{
    DWORD err = enter_helper(hExpertKey);
    if (err != NMERR_SUCCESS) {
        set_error(pError, err);
        return NULL;
    }
    enum es_heap_status status = ES_HEAP_NO_MEMORY;
    void *block = allocation_fails() ? NULL : es_heap_alloc(g.heap, nBytes, &status);
    if (!block) {
        g.control->alloc_failures++;
        set_error(pError, heap_error(status));
        return NULL;
    }
    set_error(pError, NMERR_SUCCESS);
    return block;
}

NMAPI_EXPORT LPVOID WINAPI ExpertReallocMemory(HEXPERTKEY hExpertKey, LPVOID pOriginalMemory,
                                               SIZE_T nBytes, DWORD *pError)
{
    DWORD err = enter_helper(hExpertKey);
    if (err != NMERR_SUCCESS) {
        set_error(pError, err);
        return NULL;
    }
    enum es_heap_status status = ES_HEAP_NO_MEMORY;
    void *block = allocation_fails() ? NULL : es_heap_realloc(g.heap, pOriginalMemory, nBytes, &status);
    if (!block) {
        g.control->alloc_failures++;
        set_error(pError, heap_error(status));
        return NULL;
    }
    set_error(pError, NMERR_SUCCESS);
    return block;
}

NMAPI_EXPORT DWORD WINAPI ExpertFreeMemory(HEXPERTKEY hExpertKey, LPVOID pOriginalMemory)
{
    DWORD err = enter_helper(hExpertKey);
    /* NMERR_EXPERT_TERMINATE means "clean up and return": the block is
     * freed all the same, or no expert could clean up after an abort. */
    bool terminating = err == NMERR_EXPERT_TERMINATE && g.in_call && (uintptr_t)hExpertKey == g.key;
    if (err != NMERR_SUCCESS && !terminating)
        return err;
    enum es_heap_status status = es_heap_free(g.heap, pOriginalMemory);
    return terminating ? err : heap_error(status);
}

NMAPI_EXPORT SIZE_T WINAPI ExpertMemorySize(HEXPERTKEY hExpertKey, LPVOID pOriginalMemory)
{
    if (enter_helper(hExpertKey) != NMERR_SUCCESS)
        return 0;
    return es_heap_block_size(g.heap, pOriginalMemory);
}

/* ------------------------------------------------------------------ messages */

/* A bounded view of an expert's C string: at most `cap` bytes are read, so a
 * string without a terminator costs at most cap+1 bytes of reading. */
static ProtobufCBinaryData bounded_text(const char *s, size_t cap, bool *truncated)
{
    ProtobufCBinaryData b = {0, NULL};
    if (!s)
        return b;
    size_t len = strnlen(s, cap + 1);
    if (len > cap) {
        len = cap;
        *truncated = true;
    }
    b.len = len;
    b.data = (uint8_t *)s;
    return b;
}

static void set_text(protobuf_c_boolean *has, ProtobufCBinaryData *field, const char *s, size_t cap,
                     bool *truncated)
{
    *has = s != NULL;
    *field = bounded_text(s, cap, truncated);
}

/* One column as the ring carries it (proto/event_ring.h): its header, and
 * where its name and bytes value are. */
struct ring_column {
    struct es_ring_column head;
    const void *name;
    const void *bytes;
};

static void column_to_ring(const NMCOLUMNINFO *in, struct ring_column *out, bool *truncated)
{
    memset(&out->head, 0, sizeof out->head);
    ProtobufCBinaryData name = bounded_text(in->szColumnName, ES_MAX_NAME_TEXT, truncated);
    out->name = name.data;
    out->head.name_len = (uint16_t)name.len;
    out->bytes = NULL;
    const NMCOLUMNVARIANT *v = &in->VariantData;
    out->head.type = (uint32_t)v->Type;
    uint8_t kind = ES_RING_VALUE_NONE;
    uint64_t value = 0;
    switch (v->Type) {
    case NMCOLUMNTYPE_UINT8:
        kind = ES_RING_VALUE_UNSIGNED, value = v->Value.Uint8Val;
        break;
    case NMCOLUMNTYPE_SINT8:
        kind = ES_RING_VALUE_SIGNED, value = (uint64_t)(int64_t)(signed char)v->Value.Sint8Val;
        break;
    case NMCOLUMNTYPE_UINT16:
        kind = ES_RING_VALUE_UNSIGNED, value = v->Value.Uint16Val;
        break;
    case NMCOLUMNTYPE_SINT16:
        kind = ES_RING_VALUE_SIGNED, value = (uint64_t)(int64_t)v->Value.Sint16Val;
        break;
    case NMCOLUMNTYPE_UINT32:
        kind = ES_RING_VALUE_UNSIGNED, value = v->Value.Uint32Val;
        break;
    case NMCOLUMNTYPE_SINT32:
        kind = ES_RING_VALUE_SIGNED, value = (uint64_t)(int64_t)v->Value.Sint32Val;
        break;
    case NMCOLUMNTYPE_FLOAT64:
        kind = ES_RING_VALUE_DOUBLE;
        memcpy(&value, &v->Value.Float64Val, sizeof value);
        break;
    case NMCOLUMNTYPE_FRAME:
        kind = ES_RING_VALUE_UNSIGNED, value = v->Value.FrameVal;
        break;
    case NMCOLUMNTYPE_YESNO:
        kind = ES_RING_VALUE_UNSIGNED, value = v->Value.YesNoVal != 0;
        break;
    case NMCOLUMNTYPE_ONOFF:
        kind = ES_RING_VALUE_UNSIGNED, value = v->Value.OnOffVal != 0;
        break;
    case NMCOLUMNTYPE_TRUEFALSE:
        kind = ES_RING_VALUE_UNSIGNED, value = v->Value.TrueFalseVal != 0;
        break;
    case NMCOLUMNTYPE_MACADDR:
        kind = ES_RING_VALUE_BYTES;
        out->bytes = v->Value.MACAddrVal;
        out->head.value_len = MAC_ADDRESS_SIZE;
        break;
    case NMCOLUMNTYPE_IPXADDR:
        kind = ES_RING_VALUE_BYTES;
        out->bytes = &v->Value.IPXAddrVal;
        out->head.value_len = sizeof v->Value.IPXAddrVal;
        break;
    case NMCOLUMNTYPE_IPADDR:
        kind = ES_RING_VALUE_UNSIGNED, value = v->Value.IPAddrVal;
        break;
    case NMCOLUMNTYPE_VARTIME:
        kind = ES_RING_VALUE_DOUBLE;
        memcpy(&value, &v->Value.VarTimeVal, sizeof value);
        break;
    case NMCOLUMNTYPE_STRING:
        if (v->Value.pStringVal) {
            ProtobufCBinaryData text = bounded_text(v->Value.pStringVal, ES_MAX_COLUMN_TEXT, truncated);
            kind = ES_RING_VALUE_BYTES;
            out->bytes = text.data;
            out->head.value_len = (uint16_t)text.len;
        }
        break;
    default:
        break;   /* an unknown type travels as its number, without a value */
    }
    out->head.kind = kind;
    out->head.value = value;
}

/*
 * The event goes into the event ring, not the socket: once the head is
 * published it is in the broker's memory, whatever the expert does next.
 * Its size is computed once, as the record is laid out; columns that would
 * take it past ES_EVENT_RING_MAX_RECORD are cut from the end.
 */
NMAPI_EXPORT DWORD WINAPI ExpertSubmitEvent(HEXPERTKEY hExpertKey, PNMEVENTDATA pExpertEvent)
{
    DWORD err = enter_helper(hExpertKey);
    if (err != NMERR_SUCCESS)
        return err;
    if (!pExpertEvent)
        return NMERR_INVALID_PARAMETER;

    bool truncated = false;
    struct es_ring_event h;
    memset(&h, 0, sizeof h);
    const SYSTEMTIME *st = &pExpertEvent->SysTime;
    h.time[0] = st->wYear;
    h.time[1] = st->wMonth;
    h.time[2] = st->wDayOfWeek;
    h.time[3] = st->wDay;
    h.time[4] = st->wHour;
    h.time[5] = st->wMinute;
    h.time[6] = st->wSecond;
    h.time[7] = st->wMilliseconds;
    h.version = pExpertEvent->Version;
    h.ident = pExpertEvent->EventIdent;
    h.flags = pExpertEvent->Flags;
    h.severity = pExpertEvent->Severity;
    h.frames_read = (uint32_t)(g.control->frames_read > UINT32_MAX ? UINT32_MAX : g.control->frames_read);

    const char *texts[ES_RING_TEXTS] = {
        [ES_RING_TEXT_SOURCE] = pExpertEvent->szSourceName,
        [ES_RING_TEXT_EVENT_NAME] = pExpertEvent->szEventName,
        [ES_RING_TEXT_DESCRIPTION] = pExpertEvent->szDescription,
        [ES_RING_TEXT_MACHINE] = pExpertEvent->szMachine,
        [ES_RING_TEXT_JUSTIFICATION] = pExpertEvent->Justification,
    };
    static const uint16_t caps[ES_RING_TEXTS] = {ES_MAX_NAME_TEXT, ES_MAX_NAME_TEXT, ES_MAX_LONG_TEXT,
                                                 ES_MAX_NAME_TEXT, ES_MAX_LONG_TEXT};
    uint32_t size = sizeof h;
    for (int i = 0; i < ES_RING_TEXTS; i++) {
        if (!texts[i])
            continue;
        h.present |= (uint8_t)(1u << i);
        h.text_len[i] = (uint16_t)bounded_text(texts[i], caps[i], &truncated).len;
        size += h.text_len[i];
    }

    /* NumColumns is a BYTE, so at most 255 columns live on this stack. */
    struct ring_column columns[UINT8_MAX];
    size_t n = pExpertEvent->NumColumns;
    size_t kept = 0;
    for (; kept < n; kept++) {
        column_to_ring(&pExpertEvent->Column[kept], &columns[kept], &truncated);
        uint32_t column_size = (uint32_t)sizeof columns[kept].head + columns[kept].head.name_len +
                               columns[kept].head.value_len;
        if (size + column_size > ES_EVENT_RING_MAX_RECORD) {
            truncated = true;   /* this one and the rest do not fit */
            break;
        }
        size += column_size;
    }
    h.n_columns = (uint8_t)kept;
    h.truncated = truncated;
    h.size = size;

    if (!es_event_ring_begin(size))
        return NMERR_EXPERT_TERMINATE;   /* the broker is gone: nothing left to report to */
    es_event_ring_put(&h, sizeof h);
    for (int i = 0; i < ES_RING_TEXTS; i++)
        es_event_ring_put(texts[i], h.text_len[i]);
    for (size_t i = 0; i < kept; i++) {
        es_event_ring_put(&columns[i].head, sizeof columns[i].head);
        es_event_ring_put(columns[i].name, columns[i].head.name_len);
        es_event_ring_put(columns[i].bytes, columns[i].head.value_len);
    }
    if (!es_event_ring_commit())
        return NMERR_EXPERT_TERMINATE;
    return NMERR_SUCCESS;
}

NMAPI_EXPORT DWORD WINAPI ExpertIndicateStatus(HEXPERTKEY hExpertKey, EXPERTSTATUSENUMERATION Status,
                                               DWORD SubStatus, const char *szText, LONG PercentDone)
{
    DWORD err = enter_helper(hExpertKey);
    if (err != NMERR_SUCCESS)
        return err;
    bool truncated = false;
    Es__Status status = ES__STATUS__INIT;
    status.status = (uint32_t)Status;
    status.sub_status = SubStatus;
    set_text(&status.has_text, &status.text, szText, EXPERTSTRINGLENGTH - 1, &truncated);
    /* The reference ignores values above 99: the host sets 100 itself. */
    if (PercentDone >= 0 && PercentDone <= 99) {
        status.has_percent = true;
        status.percent = PercentDone;
    }

    Es__WorkerMessage msg = ES__WORKER_MESSAGE__INIT;
    msg.body_case = ES__WORKER_MESSAGE__BODY_STATUS;
    msg.status = &status;
    if (es_channel_send(g.control_fd, &msg) != 0)
        return NMERR_EXPERT_TERMINATE;
    return NMERR_SUCCESS;
}

NMAPI_EXPORT DWORD WINAPI ExpertGetStartupInfo(HEXPERTKEY hExpertKey, PEXPERTSTARTUPINFO pExpertStartupInfo)
{
    DWORD err = enter_helper(hExpertKey);
    if (err != NMERR_SUCCESS)
        return err;
    if (!pExpertStartupInfo)
        return NMERR_INVALID_PARAMETER;
    *pExpertStartupInfo = g.startup;
    return NMERR_SUCCESS;
}

/* ------------------------------------------------------------------ filters and capture */

NMAPI_EXPORT HFILTER WINAPI ExpertCompileFilter(HEXPERTKEY hExpertKey, LPCSTR szExpression, DWORD *pError)
{
    DWORD err = enter_helper(hExpertKey);
    HFILTER filter = NULL;
    if (err == NMERR_SUCCESS && !g.store)
        err = NMERR_NO_FRAMES;
    if (err == NMERR_SUCCESS)
        filter = es_filter_compile(g.control_fd, szExpression, &err);
    set_error(pError, err);
    return filter;
}

NMAPI_EXPORT DWORD WINAPI DestroyFilter(HFILTER hFilter)
{
    return es_filter_destroy(hFilter);
}

HCAPTURE es_nmapi_capture_handle(void)
{
    return g.store ? (HCAPTURE)(void *)&g.capture : NULL;
}

NMAPI_EXPORT DWORD WINAPI GetCaptureTotalFrames(HCAPTURE hCapture)
{
    /* The frames the broker announced, even when a fault injection
     * (short-capture) hides the last ones from ExpertGetFrame. */
    if (!hCapture || hCapture != es_nmapi_capture_handle())
        return 0;
    return g.store->frame_count;
}

NMAPI_EXPORT DWORD WINAPI GetCaptureMacType(HCAPTURE hCapture)
{
    if (!hCapture || hCapture != es_nmapi_capture_handle())
        return MAC_TYPE_UNKNOWN;
    return g.store->link_type == 1 /* DLT_EN10MB */ ? MAC_TYPE_ETHERNET : MAC_TYPE_UNKNOWN;
}

NMAPI_EXPORT DWORD WINAPI GetCaptureLinkType(HCAPTURE hCapture)
{
    if (!hCapture || hCapture != es_nmapi_capture_handle())
        return (DWORD)-1;
    return g.store->link_type;
}
