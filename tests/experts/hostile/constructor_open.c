/*
 * constructor_open - opens /etc/passwd from a constructor.  During dlopen
 * the broker answers openat "allowed" (the loader needs it), so seccomp
 * does not stop this; Landlock must: only the expert and the library
 * directories are readable.
 * Expected: done (the open failed), as long as Landlock is in place; if
 * the file could be opened, Run says so and returns FALSE ("problem").
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "hostile.h"

static int opened = -2;
static int open_errno;

__attribute__((constructor)) static void read_while_loading(void)
{
    opened = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
    open_errno = errno;
}

HOSTILE_REGISTER("Constructor open", "Opens /etc/passwd in a constructor at dlopen.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    if (opened == -2)
        return hostile_fail("the constructor did not run");
    if (opened >= 0) {
        char line[64] = "";
        ssize_t got = read(opened, line, sizeof line - 1);
        return hostile_fail("the constructor read /etc/passwd (%zd bytes: %.20s)", got, line);
    }
    if (open_errno != EACCES)
        return hostile_fail("open failed with errno %d, not EACCES (Landlock)", open_errno);
    return TRUE;
}
