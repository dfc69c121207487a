/*
 * create_tmp_file - creates /tmp/expert-sandbox-hostile-drop to leave something behind.
 * Expected: violation, "openat", path "/tmp/expert-sandbox-hostile-drop".
 */
#include <fcntl.h>

#include "hostile.h"

HOSTILE_REGISTER("Create a file in /tmp", "Creates /tmp/expert-sandbox-hostile-drop to leave something behind.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    int fd = open("/tmp/expert-sandbox-hostile-drop", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    return hostile_fail("open returned %d", fd);
}
