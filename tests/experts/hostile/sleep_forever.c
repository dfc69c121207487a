/*
 * sleep_forever - sleeps in the kernel (nanosleep is allowed) forever: no
 * CPU used, so only the wall-clock timeout can end it.
 * Expected: timeout, killed after the grace period.
 */
#include <time.h>

#include "hostile.h"

HOSTILE_REGISTER("Sleeps forever", "Sleeps in nanosleep forever.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    for (;;) {
        struct timespec second = {1, 0};
        nanosleep(&second, NULL);
    }
}
