/*
 * polite_terminate - loops over the capture again and again, and returns as
 * soon as a helper says NMERR_EXPERT_TERMINATE, as NetMon asks of experts.
 * Expected: timeout (it ran too long), but Run returned within the grace
 * period: the detail says so and the worker was not killed.
 */
#include "hostile.h"

HOSTILE_REGISTER("Polite endless loop", "Loops over the capture until asked to stop.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    EXPERTFRAMEDESCRIPTOR descriptor;
    DWORD previous = INVALID_FRAME_NUMBER;
    for (;;) {
        DWORD result = ExpertGetFrame(key, GET_FRAME_NEXT_FORWARD, 0, previous, NULL, &descriptor);
        if (result == NMERR_EXPERT_TERMINATE)
            return TRUE;
        previous = result == NMERR_SUCCESS ? descriptor.FrameNumber : INVALID_FRAME_NUMBER;
    }
}
