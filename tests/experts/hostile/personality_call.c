/*
 * personality_call - personality(READ_IMPLIES_EXEC): every readable mapping becomes executable.
 * Expected: violation, "personality".
 */
#include <sys/personality.h>

#include "hostile.h"

HOSTILE_REGISTER("personality()", "personality(READ_IMPLIES_EXEC): every readable mapping becomes executable.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    int rc = personality(READ_IMPLIES_EXEC);
    return hostile_fail("personality returned %d", rc);
}
