/*
 * heap_segment.c - create, seal, watch and drop a worker's heap segment.
 *
 * Sealing comes first, before the descriptor exists anywhere but here: a
 * worker that could shrink the memfd would make the broker's own mapping of
 * the control page fault (SIGBUS) the next time the broker touched it.
 */
#include "heap_segment.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "faults.h"
#include "wire.h"

int es_heapseg_create(struct es_heapseg *seg, uint64_t quota)
{
    seg->fd = -1;
    seg->control = NULL;
    seg->ring = NULL;
    if (quota < ES_HEAP_MIN_SIZE || quota > (uint64_t)INT64_MAX / 2) {
        errno = EINVAL;
        return -1;
    }
    /* The ring goes after the quota, on a page boundary so that the broker
     * can map it on its own. */
    uint64_t ring_offset = (quota + ES_HEAP_CONTROL_SIZE - 1) / ES_HEAP_CONTROL_SIZE * ES_HEAP_CONTROL_SIZE;
    uint64_t size = ring_offset + ES_EVENT_RING_AREA;
    seg->size = size;
    int fd = ES_FAULT(ES_FAULT_MEMFD, EMFILE) ? -1 : memfd_create("expert-heap", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return -1;
    if (ftruncate(fd, (off_t)size) != 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
        goto fail;
    void *page = ES_FAULT(ES_FAULT_MMAP, ENOMEM) ? MAP_FAILED
                 : mmap(NULL, ES_HEAP_CONTROL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (page == MAP_FAILED)
        goto fail;
    void *ring = mmap(NULL, ES_EVENT_RING_AREA, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)ring_offset);
    if (ring == MAP_FAILED) {
        int saved = errno;
        munmap(page, ES_HEAP_CONTROL_SIZE);
        errno = saved;
        goto fail;
    }
    seg->fd = fd;
    seg->control = page;
    seg->control->magic = ES_HEAP_MAGIC;
    seg->control->version = ES_PROTOCOL_VERSION;
    seg->control->arena_end = quota;
    seg->control->event_ring_offset = ring_offset;
    seg->ring = ring;
    seg->ring->magic = ES_EVENT_RING_MAGIC;
    seg->ring->capacity = ES_EVENT_RING_CAPACITY;
    /* The broker starts asleep: the first event wakes it. */
    seg->ring->broker_sleeping = 1;
    return 0;
fail:;
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

void es_heapseg_request_terminate(struct es_heapseg *seg)
{
    if (seg->control)
        atomic_store_explicit((_Atomic uint32_t *)&seg->control->terminate, 1, memory_order_relaxed);
}

void es_heapseg_read_counters(const struct es_heapseg *seg, struct es_heap_control *copy)
{
    memset(copy, 0, sizeof *copy);
    if (!seg->control)
        return;
    /* The worker may still be writing (or scribbling): copy word by word
     * through a volatile pointer so the compiler reads each field once. */
    const volatile uint64_t *from = (const volatile uint64_t *)seg->control;
    uint64_t *to = (uint64_t *)copy;
    for (size_t i = 0; i < sizeof *copy / sizeof(uint64_t); i++)
        to[i] = from[i];
}

void es_heapseg_destroy(struct es_heapseg *seg)
{
    if (seg->control)
        munmap(seg->control, ES_HEAP_CONTROL_SIZE);
    if (seg->ring)
        munmap(seg->ring, ES_EVENT_RING_AREA);
    if (seg->fd >= 0)
        close(seg->fd);
    seg->control = NULL;
    seg->ring = NULL;
    seg->fd = -1;
}
