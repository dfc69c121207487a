/*
 * process_vm_writev_parent - process_vm_writev into its parent.
 * Expected: violation, "process_vm_writev".
 */
#include <sys/uio.h>
#include <unistd.h>

#include "hostile.h"

HOSTILE_REGISTER("Write the parent's memory", "process_vm_writev into its parent.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    char payload[16] = "overwritten";
    struct iovec local = {payload, sizeof payload};
    struct iovec remote = {(void *)0x400000, sizeof payload};
    ssize_t rc = process_vm_writev(getppid(), &local, 1, &remote, 1, 0);
    return hostile_fail("process_vm_writev returned %zd", rc);
}
