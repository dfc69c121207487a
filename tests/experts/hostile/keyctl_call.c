/*
 * keyctl_call - reads its session keyring: where credentials live.
 * Expected: violation, "keyctl".
 */
#include <sys/syscall.h>
#include <unistd.h>

#include "hostile.h"

HOSTILE_REGISTER("keyctl()", "Reads its session keyring: where credentials live.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    long rc = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* KEY_SPEC_SESSION_KEYRING */, 0);
    return hostile_fail("keyctl returned %ld", rc);
}
