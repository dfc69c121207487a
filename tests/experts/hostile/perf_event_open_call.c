/*
 * perf_event_open_call - opens a hardware performance counter: a side channel on other processes.
 * Expected: violation, "perf_event_open".
 */
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hostile.h"

HOSTILE_REGISTER("perf_event_open()", "Opens a hardware performance counter: a side channel on other processes.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.type = PERF_TYPE_HARDWARE;
    attr.size = sizeof attr;
    attr.config = PERF_COUNT_HW_CPU_CYCLES;
    long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
    return hostile_fail("perf_event_open returned %ld", fd);
}
