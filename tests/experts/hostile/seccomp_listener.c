/*
 * seccomp_listener - installs its own seccomp filter with a notification listener.
 * Expected: violation, "seccomp".
 */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hostile.h"

HOSTILE_REGISTER("Second seccomp listener", "Installs its own seccomp filter with a notification listener.")

BOOL WINAPI Run(HOSTILE_RUN_PARAMETERS)
{
    struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog program = {1, &allow};
    long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &program);
    return hostile_fail("seccomp returned %ld", rc);
}
