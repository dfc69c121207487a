/*
 * frame_api_abuse - every way to call the frame and filter API wrong:
 * unknown directions, a NULL descriptor, frame numbers past the end, forged
 * filter handles, DestroyFilter of garbage, filter expressions that are
 * NULL, name lookups (which would need DNS) or 1 MiB long, and capture
 * handles that are not the capture's.
 * Expected: done (every call answers with the documented error).
 */
#include <stdint.h>

#include "hostile.h"

HOSTILE_REGISTER("Frame API abuse", "Calls ExpertGetFrame and the filter API with nonsense.")

#define EXPECT(call, expected)                                                                     \
    do {                                                                                           \
        DWORD got_ = (call);                                                                       \
        if (got_ != (DWORD)(expected))                                                             \
            return hostile_fail("%s returned %u, not %u", #call, (unsigned)got_,                   \
                                (unsigned)(expected));                                             \
    } while (0)

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    EXPERTFRAMEDESCRIPTOR d;
    int on_stack = 0;
    HFILTER forged = (HFILTER)(void *)&on_stack;
    DWORD frames = GetCaptureTotalFrames(startup->hCapture);
    if (frames == 0)
        return hostile_fail("the capture has no frames");

    EXPECT(ExpertGetFrame(key, 3, 0, 0, NULL, &d), NMERR_INVALID_PARAMETER);
    EXPECT(ExpertGetFrame(key, 0xffffffffu, 0, 0, NULL, &d), NMERR_INVALID_PARAMETER);
    EXPECT(ExpertGetFrame(key, GET_FRAME_NEXT_FORWARD, 0, 0, NULL, NULL), NMERR_INVALID_PARAMETER);
    EXPECT(ExpertGetFrame(key, GET_SPECIFIED_FRAME, 0, frames, NULL, &d), NMERR_FRAME_NOT_FOUND);
    EXPECT(ExpertGetFrame(key, GET_SPECIFIED_FRAME, 0, 0xfffffffeu, NULL, &d), NMERR_FRAME_NOT_FOUND);
    EXPECT(ExpertGetFrame(key, GET_SPECIFIED_FRAME, 0, INVALID_FRAME_NUMBER, NULL, &d), NMERR_FRAME_NOT_FOUND);
    EXPECT(ExpertGetFrame(key, GET_FRAME_NEXT_FORWARD, 0, frames - 1, NULL, &d), NMERR_NO_MORE_FRAMES);
    EXPECT(ExpertGetFrame(key, GET_FRAME_NEXT_FORWARD, 0, 0xfffffffeu, NULL, &d), NMERR_NO_MORE_FRAMES);
    EXPECT(ExpertGetFrame(key, GET_FRAME_NEXT_BACKWARD, 0, 0, NULL, &d), NMERR_NO_MORE_FRAMES);
    EXPECT(ExpertGetFrame(key, GET_FRAME_NEXT_BACKWARD, 0, INVALID_FRAME_NUMBER, NULL, &d), NMERR_SUCCESS);
    if (d.FrameNumber != frames - 1)
        return hostile_fail("backward from the end gave frame %u", (unsigned)d.FrameNumber);
    EXPECT(ExpertGetFrame(key, GET_FRAME_NEXT_FORWARD, 0xffffffffu, INVALID_FRAME_NUMBER, NULL, &d), NMERR_SUCCESS);
    EXPECT(ExpertGetFrame(key, GET_FRAME_NEXT_FORWARD, 0, INVALID_FRAME_NUMBER, forged, &d), NMERR_INVALID_HFILTER);
    EXPECT(ExpertGetFrame(key, GET_FRAME_NEXT_FORWARD, 0, INVALID_FRAME_NUMBER, (HFILTER)(uintptr_t)1, &d),
           NMERR_INVALID_HFILTER);

    EXPECT(DestroyFilter(NULL), NMERR_INVALID_HFILTER);
    EXPECT(DestroyFilter(forged), NMERR_INVALID_HFILTER);
    DWORD error = NMERR_SUCCESS;
    if (ExpertCompileFilter(key, NULL, &error) != NULL || error != NMERR_FILTER_INVALID_EXPRESSION)
        return hostile_fail("a NULL expression gave error %u", (unsigned)error);
    if (ExpertCompileFilter(key, "host www.example.com", &error) != NULL ||
        error != NMERR_FILTER_INVALID_EXPRESSION)
        return hostile_fail("a host name gave error %u", (unsigned)error);
    if (ExpertCompileFilter(key, "this is not ( a filter", &error) != NULL ||
        error != NMERR_FILTER_INVALID_EXPRESSION)
        return hostile_fail("a syntax error gave error %u", (unsigned)error);
    char *long_expression = ExpertAllocMemory(key, 1024 * 1024 + 1, NULL);
    if (!long_expression)
        return hostile_fail("no memory for a long expression");
    for (size_t i = 0; i + 4 <= 1024 * 1024; i += 4)
        memcpy(long_expression + i, "tcp ", 4);
    if (ExpertCompileFilter(key, long_expression, &error) != NULL || error != NMERR_FILTER_INVALID_EXPRESSION)
        return hostile_fail("a 1 MiB expression gave error %u", (unsigned)error);

    /* A real filter, destroyed twice. */
    HFILTER real = ExpertCompileFilter(key, "ip", &error);
    if (!real)
        return hostile_fail("\"ip\" did not compile: %u", (unsigned)error);
    EXPECT(DestroyFilter(real), NMERR_SUCCESS);
    EXPECT(DestroyFilter(real), NMERR_INVALID_HFILTER);
    EXPECT(ExpertGetFrame(key, GET_FRAME_NEXT_FORWARD, 0, INVALID_FRAME_NUMBER, real, &d), NMERR_INVALID_HFILTER);

    EXPECT(GetCaptureTotalFrames(NULL), 0);
    EXPECT(GetCaptureTotalFrames((HCAPTURE)(void *)&on_stack), 0);
    EXPECT(GetCaptureMacType((HCAPTURE)(void *)&on_stack), MAC_TYPE_UNKNOWN);
    EXPECT(GetCaptureLinkType((HCAPTURE)(void *)&on_stack), (DWORD)-1);
    EXPECT(ExpertGetStartupInfo(key, NULL), NMERR_INVALID_PARAMETER);
    return TRUE;
}
