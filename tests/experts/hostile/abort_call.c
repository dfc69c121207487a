/*
 * abort_call - calls abort() in the middle of Run.
 * Expected: crashed, SIGABRT (a signal is not a return value).
 */
#include <stdlib.h>

#include "hostile.h"

HOSTILE_REGISTER("abort()", "Calls abort() in the middle of Run.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    EXPERTFRAMEDESCRIPTOR descriptor;
    ExpertGetFrame(key, GET_FRAME_NEXT_FORWARD, 0, INVALID_FRAME_NUMBER, NULL, &descriptor);
    abort();
}
