/*
 * framestore.h - layout of the read-only frame store.
 *
 * The broker reads a capture once with libpcap and writes it into a memfd
 * laid out for direct use, then seals it against writing (F_SEAL_WRITE,
 * F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_SEAL).  Every worker of the run maps it
 * read-only; ExpertGetFrame is pointer arithmetic over it.
 *
 *   offset 0            struct es_store_header
 *   frames_offset       the frames, each a FRAME (netmon.h) padded to 8 bytes
 *   index_offset        uint64_t[frame_count]: offset of each frame's FRAME
 *   filter_offset       bitmap, one bit per frame, 1 = passes --filter
 *                       (0 when the run has no filter)
 *
 * The frames come first because the broker writes the store in one pass and
 * learns the frame count only at the end.
 *
 * Every offset and length is checked by the broker when it writes the store;
 * the worker trusts the store (it cannot change it) and checks only the
 * header against the mapping's size.
 */
#ifndef ES_FRAMESTORE_H
#define ES_FRAMESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ES_STORE_MAGIC "ESFRAME1"
#define ES_STORE_ALIGN 8u
#define ES_STORE_FRAME_HEADER 16u   /* sizeof(FRAME): TimeStamp, FrameLength, nBytesAvail */

struct es_store_header {
    char magic[8];
    uint32_t version;            /* ES_PROTOCOL_VERSION */
    uint32_t header_size;        /* sizeof(struct es_store_header) */
    uint64_t total_size;         /* bytes in the store */
    uint32_t frame_count;
    uint32_t link_type;          /* DLT_* of the capture, as libpcap reports it */
    uint32_t snaplen;
    uint32_t flags;              /* ES_STORE_* */
    int64_t first_ts_usec;       /* absolute time of frame 0, microseconds since the epoch */
    uint64_t index_offset;
    uint64_t filter_offset;      /* 0: no display filter */
    uint64_t frames_offset;
};

#define ES_STORE_HAS_FILTER 0x1u
#define ES_STORE_NANOSECOND 0x2u /* the capture had nanosecond timestamps (rounded to µs) */

static inline const uint64_t *es_store_index(const struct es_store_header *h)
{
    return (const uint64_t *)((const char *)h + h->index_offset);
}

/* Pointer to frame n's FRAME (netmon.h), n < frame_count. */
static inline const void *es_store_frame(const struct es_store_header *h, uint32_t n)
{
    return (const char *)h + es_store_index(h)[n];
}

static inline bool es_store_passes_filter(const struct es_store_header *h, uint32_t n)
{
    if (!(h->flags & ES_STORE_HAS_FILTER))
        return true;
    const uint8_t *bits = (const uint8_t *)h + h->filter_offset;
    return (bits[n >> 3] >> (n & 7)) & 1;
}

/* Checks that a header describes a store of `size` bytes whose index and
 * bitmap lie inside it.  Used by the worker on its mapping and by tests. */
bool es_store_header_valid(const struct es_store_header *h, uint64_t size);

#endif
