/*
 * close_control - closes the worker's control socket (descriptor 3, which
 * close() is allowed on) and then tries to report.  The helpers must notice
 * the broker is unreachable (NMERR_EXPERT_TERMINATE), and the broker must
 * account for a worker that went silent.
 * Expected: problem: the worker exits with ES_WORKER_EXIT_BROKER_GONE (122)
 * inside Run, because it cannot deliver Run's result.
 */
#include <unistd.h>

#include "hostile.h"

HOSTILE_REGISTER("Close the control socket", "close(3), then submits an event.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    close(3);
    NMEVENTDATA event;
    memset(&event, 0, sizeof event);
    event.szEventName = "after close";
    DWORD result = ExpertSubmitEvent(key, &event);
    if (result != NMERR_EXPERT_TERMINATE)
        return hostile_fail("ExpertSubmitEvent on a closed socket returned %u", (unsigned)result);
    return TRUE;
}
