/*
 * bpf_call - loads an eBPF program.
 * Expected: violation, "bpf".
 */
#include <sys/syscall.h>
#include <unistd.h>

#include "hostile.h"

HOSTILE_REGISTER("bpf()", "Loads an eBPF program.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    unsigned char attr[128];   /* union bpf_attr, zeroed: BPF_PROG_LOAD of nothing */
    memset(attr, 0, sizeof attr);
    long rc = syscall(SYS_bpf, 5 /* BPF_PROG_LOAD */, attr, sizeof attr);
    return hostile_fail("bpf returned %ld", rc);
}
