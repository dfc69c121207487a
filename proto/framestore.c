/* framestore.c - the one check both sides make of a frame store header. */
#include "framestore.h"

#include <string.h>

#include "wire.h"

bool es_store_header_valid(const struct es_store_header *h, uint64_t size)
{
    if (size < sizeof *h || memcmp(h->magic, ES_STORE_MAGIC, sizeof h->magic) != 0)
        return false;
    if (h->version != ES_PROTOCOL_VERSION || h->header_size != sizeof *h || h->total_size != size)
        return false;
    uint64_t index_bytes = (uint64_t)h->frame_count * sizeof(uint64_t);
    if (h->index_offset < sizeof *h || h->index_offset % ES_STORE_ALIGN != 0 ||
        h->index_offset > size || index_bytes > size - h->index_offset)
        return false;
    if (h->flags & ES_STORE_HAS_FILTER) {
        uint64_t bitmap_bytes = ((uint64_t)h->frame_count + 7) / 8;
        if (h->filter_offset < sizeof *h || h->filter_offset > size ||
            bitmap_bytes > size - h->filter_offset)
            return false;
    }
    if (h->frames_offset > size)
        return false;
    return true;
}
