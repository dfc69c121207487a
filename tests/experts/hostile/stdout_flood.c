/*
 * stdout_flood - prints 10 MiB to stdout.  The broker keeps only the last
 * 4096 bytes of a worker's output, however much it writes.
 * Expected: done; the kept tail is at most 4096 bytes, marked cut, and
 * ends with this expert's last line.
 */
#include "hostile.h"

HOSTILE_REGISTER("stdout flood", "Prints 10 MiB to stdout.")

#define TOTAL (10 * 1024 * 1024)

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    char line[80];
    memset(line, 'x', sizeof line);
    line[sizeof line - 1] = '\n';
    for (size_t written = 0; written < TOTAL; written += sizeof line)
        if (fwrite(line, 1, sizeof line, stdout) != sizeof line)
            return hostile_fail("fwrite to stdout failed");
    fputs("stdout flood: the end\n", stdout);
    return TRUE;
}
