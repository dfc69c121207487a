/*
 * wrong_key - calls every helper with keys that are not the one Run was
 * given: NULL, small integers, a stack address, the key plus one, a heap
 * block; and calls them from Register, where no key is valid at all.
 * Expected: done (every call answers NMERR_INVALID_PARAMETER, NULL or 0,
 * and the real key keeps working).
 */
#include <stdint.h>

#include "hostile.h"

static DWORD error_in_register = NMERR_SUCCESS;
static LPVOID block_in_register;

BOOL WINAPI Register(PEXPERTENUMINFO info)
{
    /* No call is in progress during Register: no key is good. */
    block_in_register = ExpertAllocMemory(NULL, 16, &error_in_register);
    return hostile_register(info, "Wrong key", "Calls the helpers with keys it made up.");
}

static BOOL check_key(HEXPERTKEY bad, const char *which, LPVOID good_block)
{
    EXPERTFRAMEDESCRIPTOR descriptor;
    DWORD error = NMERR_SUCCESS;
    DWORD result;
    if ((result = ExpertGetFrame(bad, GET_FRAME_NEXT_FORWARD, 0, INVALID_FRAME_NUMBER, NULL, &descriptor)) !=
        NMERR_INVALID_PARAMETER)
        return hostile_fail("%s: ExpertGetFrame returned %u", which, (unsigned)result);
    if (ExpertAllocMemory(bad, 16, &error) != NULL || error != NMERR_INVALID_PARAMETER)
        return hostile_fail("%s: ExpertAllocMemory gave error %u", which, (unsigned)error);
    error = NMERR_SUCCESS;
    if (ExpertReallocMemory(bad, good_block, 64, &error) != NULL || error != NMERR_INVALID_PARAMETER)
        return hostile_fail("%s: ExpertReallocMemory gave error %u", which, (unsigned)error);
    if ((result = ExpertFreeMemory(bad, good_block)) != NMERR_INVALID_PARAMETER)
        return hostile_fail("%s: ExpertFreeMemory returned %u", which, (unsigned)result);
    if (ExpertMemorySize(bad, good_block) != 0)
        return hostile_fail("%s: ExpertMemorySize answered", which);
    if ((result = ExpertIndicateStatus(bad, EXPERTSTATUS_RUNNING, 0, "wrong key", 1)) != NMERR_INVALID_PARAMETER)
        return hostile_fail("%s: ExpertIndicateStatus returned %u", which, (unsigned)result);
    NMEVENTDATA event;
    memset(&event, 0, sizeof event);
    event.szEventName = "submitted with a wrong key";
    if ((result = ExpertSubmitEvent(bad, &event)) != NMERR_INVALID_PARAMETER)
        return hostile_fail("%s: ExpertSubmitEvent returned %u", which, (unsigned)result);
    EXPERTSTARTUPINFO startup;
    if ((result = ExpertGetStartupInfo(bad, &startup)) != NMERR_INVALID_PARAMETER)
        return hostile_fail("%s: ExpertGetStartupInfo returned %u", which, (unsigned)result);
    error = NMERR_SUCCESS;
    if (ExpertCompileFilter(bad, "tcp", &error) != NULL || error != NMERR_INVALID_PARAMETER)
        return hostile_fail("%s: ExpertCompileFilter gave error %u", which, (unsigned)error);
    return TRUE;
}

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    if (block_in_register != NULL || error_in_register != NMERR_INVALID_PARAMETER)
        return hostile_fail("ExpertAllocMemory in Register gave error %u", (unsigned)error_in_register);
    LPVOID block = ExpertAllocMemory(key, 32, NULL);
    if (!block)
        return hostile_fail("no block with the real key");
    int on_stack;
    const struct {
        HEXPERTKEY key;
        const char *which;
    } bad_keys[] = {
        {NULL, "NULL"},
        {(HEXPERTKEY)(uintptr_t)1, "1"},
        {(HEXPERTKEY)(uintptr_t)-1, "-1"},
        {&on_stack, "a stack address"},
        {(char *)key + 1, "key + 1"},
        {(char *)key - 4, "key - 4"},
        {block, "a heap block"},
        {startup, "the startup information"},
    };
    for (size_t i = 0; i < sizeof bad_keys / sizeof *bad_keys; i++)
        if (!check_key(bad_keys[i].key, bad_keys[i].which, block))
            return FALSE;
    /* The real key still works, and the block survived. */
    if (ExpertMemorySize(key, block) != 32 || ExpertFreeMemory(key, block) != NMERR_SUCCESS)
        return hostile_fail("the real key stopped working");
    return TRUE;
}
