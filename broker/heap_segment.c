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

int es_heapseg_create(struct es_heapseg *seg, uint64_t size)
{
    seg->fd = -1;
    seg->control = NULL;
    seg->size = size;
    if (size < ES_HEAP_MIN_SIZE || size > (uint64_t)INT64_MAX) {
        errno = EINVAL;
        return -1;
    }
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
    seg->fd = fd;
    seg->control = page;
    seg->control->magic = ES_HEAP_MAGIC;
    seg->control->version = ES_PROTOCOL_VERSION;
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
    if (seg->fd >= 0)
        close(seg->fd);
    seg->control = NULL;
    seg->fd = -1;
}
