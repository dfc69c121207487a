/*
 * ignore_terminate - keeps calling ExpertGetFrame, and ignores the
 * NMERR_EXPERT_TERMINATE it starts returning once the broker asks it to
 * stop.
 * Expected: timeout, killed after the grace period.
 */
#include "hostile.h"

HOSTILE_REGISTER("Ignores terminate", "Loops over ExpertGetFrame, ignoring NMERR_EXPERT_TERMINATE.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    EXPERTFRAMEDESCRIPTOR descriptor;
    for (;;)
        (void)ExpertGetFrame(key, GET_SPECIFIED_FRAME, 0, 0, NULL, &descriptor);
}
