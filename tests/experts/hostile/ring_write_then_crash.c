/*
 * ring_write_then_crash - three valid events, then a record whose texts
 * run past its own end (a plausible size, a lying length inside), then
 * SIGSEGV.  The broker drains a dead worker's ring before it decides the
 * outcome, so it finds the lie after the crash (or, if it happened to be
 * draining at that moment, just before, and kills the worker itself).
 * Expected: protocol_error ("text past the end of its record"), the three
 * events before it delivered.
 */
#include "hostile.h"
#include "ring_layout.h"

HOSTILE_REGISTER("Ring write, then crash", "A lying event-ring record, then SIGSEGV.")

static int *volatile nowhere;

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    struct hostile_ring ring;
    const char *why = begin_ring_attack(key, &ring, 3);
    if (why)
        return hostile_fail("%s", why);
    /* struct es_ring_event: size, version, ident, flags, severity,
     * frames_read (6 x 32 bits), time (8 x 16), text_len (5 x 16),
     * present, truncated, n_columns, 3 reserved bytes: 56 bytes. */
    unsigned char record[64];
    memset(record, 0, sizeof record);
    uint32_t size = sizeof record;
    memcpy(record, &size, sizeof size);
    uint16_t source_len = 200;            /* within its limit, past the record's end */
    memcpy(record + 24 + 16, &source_len, sizeof source_len);
    record[24 + 16 + 10] = 1;             /* the source is present */
    uint64_t head = *ring.head;
    ring_write(&ring, head, record, sizeof record);
    __atomic_store_n(ring.head, head + sizeof record, __ATOMIC_RELEASE);
    *nowhere = 1;
    return TRUE;
}
