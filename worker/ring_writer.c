/*
 * ring_writer.c - the producer side of the event ring (proto/event_ring.h).
 *
 * Once es_event_ring_commit has stored head, the record is in the broker's
 * memfd: if the expert crashes the next instant, the broker still drains it
 * before it writes the outcome.  That is the whole guarantee
 * ExpertSubmitEvent gives, and it costs a few stores and one fence.
 */
#include "ring_writer.h"

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "channel.h"
#include "event_ring.h"
#include "wire.h"

static struct {
    struct es_event_ring_header *hdr;
    uint8_t *data;
    int control_fd;
    uint64_t head;          /* our own: the worker is the only producer */
    uint64_t cursor;        /* where the next byte of the current record goes */
    uint64_t record_end;
} r = {.control_fd = -1};

/* An expert may call helpers from several threads; the ring has one
 * producer, so they take turns. */
static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;

#define SHARED(field) ((_Atomic __typeof__(r.hdr->field) *)&r.hdr->field)

bool es_event_ring_attach(void *area, int control_fd)
{
    struct es_event_ring_header *hdr = area;
    if (hdr->magic != ES_EVENT_RING_MAGIC || hdr->capacity != ES_EVENT_RING_CAPACITY)
        return false;
    r.hdr = hdr;
    r.data = (uint8_t *)area + ES_EVENT_RING_HEADER;
    r.control_fd = control_fd;
    r.head = atomic_load_explicit(SHARED(head), memory_order_relaxed);
    return true;
}

/* Sends the wake datagram if the broker said it sleeps (or, with `always`,
 * in any case).  The flag is cleared by whoever wakes it, so one datagram
 * goes out per sleep. */
static bool wake_broker(bool always)
{
    bool sleeping = atomic_load_explicit(SHARED(broker_sleeping), memory_order_relaxed) &&
                    atomic_exchange_explicit(SHARED(broker_sleeping), 0, memory_order_seq_cst);
    if (!sleeping && !always)
        return true;
    Es__EventsPending pending = ES__EVENTS_PENDING__INIT;
    Es__WorkerMessage msg = ES__WORKER_MESSAGE__INIT;
    msg.body_case = ES__WORKER_MESSAGE__BODY_EVENTS_PENDING;
    msg.events_pending = &pending;
    return es_channel_send(r.control_fd, &msg) == 0;
}

/* The futex word: the low half of tail, wherever the byte order puts it. */
static uint32_t *tail_word(void)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return (uint32_t *)&r.hdr->tail;
#else
    return (uint32_t *)&r.hdr->tail + 1;
#endif
}

/* Waits until `size` bytes are free.  The broker wakes the futex after it
 * published a new tail.  After a timeout the broker is sent a wake whether
 * it said it sleeps or not: that covers a wake lost to a race we did not
 * think of, and a broker that went away is noticed (EPIPE) even when no
 * PR_SET_PDEATHSIG was put in place. */
static bool wait_for_room(uint64_t size)
{
    bool timed_out = false;
    for (;;) {
        uint64_t tail = atomic_load_explicit(SHARED(tail), memory_order_acquire);
        if (ES_EVENT_RING_CAPACITY - (r.head - tail) >= size)
            return true;
        atomic_store_explicit(SHARED(worker_waiting), 1, memory_order_seq_cst);
        atomic_thread_fence(memory_order_seq_cst);
        tail = atomic_load_explicit(SHARED(tail), memory_order_acquire);
        if (ES_EVENT_RING_CAPACITY - (r.head - tail) >= size)
            return true;
        if (!wake_broker(timed_out))
            return false;
        struct timespec timeout = {0, 50 * 1000 * 1000};
        timed_out = syscall(SYS_futex, tail_word(), FUTEX_WAIT, (uint32_t)tail, &timeout, NULL, 0) != 0 &&
                    errno == ETIMEDOUT;
    }
}

bool es_event_ring_begin(uint32_t size)
{
    if (!r.hdr || size > ES_EVENT_RING_MAX_RECORD)
        return false;
    pthread_mutex_lock(&ring_lock);
    uint64_t need = ((uint64_t)size + ES_EVENT_RING_ALIGN - 1) & ~(uint64_t)(ES_EVENT_RING_ALIGN - 1);
    if (!wait_for_room(need)) {
        pthread_mutex_unlock(&ring_lock);
        return false;
    }
    r.cursor = r.head;
    r.record_end = r.head + need;
    return true;
}

void es_event_ring_put(const void *bytes, size_t len)
{
    if (len == 0)
        return;   /* bytes may be NULL then */
    if (len > r.record_end - r.cursor)
        len = (size_t)(r.record_end - r.cursor);   /* never past the reservation */
    size_t at = (size_t)(r.cursor & (ES_EVENT_RING_CAPACITY - 1));
    size_t first = ES_EVENT_RING_CAPACITY - at < len ? ES_EVENT_RING_CAPACITY - at : len;
    memcpy(r.data + at, bytes, first);
    memcpy(r.data, (const uint8_t *)bytes + first, len - first);
    r.cursor += len;
}

bool es_event_ring_commit(void)
{
    r.head = r.record_end;
    atomic_store_explicit(SHARED(head), r.head, memory_order_release);
    /* Pairs with the broker's fence between setting broker_sleeping and
     * reading head again. */
    atomic_thread_fence(memory_order_seq_cst);
    bool ok = wake_broker(false);
    pthread_mutex_unlock(&ring_lock);
    return ok;
}
