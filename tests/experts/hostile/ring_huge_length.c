/*
 * ring_huge_length - three valid events, then a record in the event ring
 * whose size word says 2 GiB, published by moving head on by 8.
 * Expected: protocol_error ("record size out of bounds"), and the three
 * events before it delivered: the broker never reads past what it checked.
 */
#include "hostile.h"
#include "ring_layout.h"

HOSTILE_REGISTER("Ring huge length", "An event-ring record whose size is 2 GiB.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    struct hostile_ring ring;
    const char *why = begin_ring_attack(key, &ring, 3);
    if (why)
        return hostile_fail("%s", why);
    uint64_t head = *ring.head;
    uint32_t size = 0x80000000u;
    ring_write(&ring, head, &size, sizeof size);
    __atomic_store_n(ring.head, head + 8, __ATOMIC_RELEASE);
    poke_broker(key);
    return TRUE;
}
