/*
 * ring_bad_head - three valid events; once the broker has read them (its
 * published tail reaches the head), the head is set to a value no honest
 * worker writes: not a multiple of 8 and more than the ring's capacity
 * ahead of the tail.
 * Expected: protocol_error ("event ring: head ..."), the three events
 * delivered, and no read outside the ring.
 */
#include <sched.h>

#include "hostile.h"
#include "ring_layout.h"

HOSTILE_REGISTER("Ring bad head", "Sets the event ring's head to garbage.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    struct hostile_ring ring;
    const char *why = begin_ring_attack(key, &ring, 3);
    if (why)
        return hostile_fail("%s", why);
    /* The first event woke the broker; it publishes its tail after the
     * batch.  Wait for that, so that the count of delivered events does
     * not depend on timing. */
    while (__atomic_load_n(ring.tail, __ATOMIC_ACQUIRE) != *ring.head)
        sched_yield();
    __atomic_store_n(ring.head, *ring.head + 3 * (uint64_t)RING_CAPACITY + 3, __ATOMIC_RELEASE);
    poke_broker(key);
    return TRUE;
}
