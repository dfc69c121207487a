/*
 * tiocsti - pushes a keystroke into the terminal input queue of descriptor 0.
 * Expected: violation, "ioctl" with TIOCSTI.
 */
#include <sys/ioctl.h>

#include "hostile.h"

HOSTILE_REGISTER("TIOCSTI", "Pushes a keystroke into the terminal input queue of descriptor 0.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    int rc = ioctl(0, TIOCSTI, "x");
    return hostile_fail("ioctl returned %d", rc);
}
