/*
 * ring_garbage - three valid events, then 64 KiB of pseudo-random bytes
 * written at the head and published.
 * Expected: protocol_error (an "event ring:" reason), the three events
 * before the garbage delivered.
 */
#include "hostile.h"
#include "ring_layout.h"

HOSTILE_REGISTER("Ring garbage", "64 KiB of garbage published in the event ring.")

#define GARBAGE (64u * 1024u)

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    struct hostile_ring ring;
    const char *why = begin_ring_attack(key, &ring, 3);
    if (why)
        return hostile_fail("%s", why);
    uint64_t head = *ring.head;
    uint64_t state = 0x9E3779B97F4A7C15u;
    for (uint64_t at = 0; at < GARBAGE; at += sizeof(uint64_t)) {
        uint64_t word = next_garbage(&state);
        ring_write(&ring, head + at, &word, sizeof word);
    }
    __atomic_store_n(ring.head, head + GARBAGE, __ATOMIC_RELEASE);
    poke_broker(key);
    return TRUE;
}
