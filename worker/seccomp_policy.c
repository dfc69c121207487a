/*
 * seccomp_policy.c - the system calls an expert may make, in one table.
 *
 * The filter is installed before the expert is loaded, with a user
 * notification listener that the worker hands to the broker.  Whatever the
 * table does not allow is not denied here: it is suspended and reported to
 * the broker, which learns from the kernel which call it was and with which
 * arguments, and answers.  The broker's answer depends on the stage:
 *
 *   loading   the dynamic loader may open files (Landlock limits which),
 *             check access, and map them executable: these are allowed;
 *   running   (once the worker has reported Loaded, before Register) the
 *             same calls are violations, like everything else outside the
 *             table: the worker is killed and the call named in its outcome.
 *
 * Why one filter and not a second, tighter one: the kernel allows a single
 * notification listener per process, and a second filter that killed or
 * failed the loader's calls would take precedence over the notification,
 * so the broker would no longer learn which call was made.
 *
 * Foreign architectures (i386 via int 0x80, x32) are reported the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "layers.h"
#include "wire.h"

enum condition {
    ANY,              /* no condition on the arguments */
    ARG_EQ,           /* args[arg] == value */
    ARG_LT,           /* args[arg] < value */
    ARG_GT,           /* args[arg] > value */
    ARG_MASK_CLEAR,   /* (args[arg] & value) == 0 */
    ARG_MASK_SET,     /* (args[arg] & value) == value */
    SELF_AND_LT,      /* args[0] == own pid and args[arg] < value */
    SELF_AND_GT,      /* args[0] == own pid and args[arg] > value */
    SELF_AND_EQ,      /* args[0] == own pid and args[arg] == value */
    ZERO_AND_EQ,      /* args[0] == 0 (itself) and args[arg] == value */
};

struct rule {
    const char *name;
    enum condition when;
    unsigned arg;
    uint64_t value;
};

/* SIGSTOP, SIGTSTP, SIGTTIN and SIGTTOU are 19..22: a worker that stops
 * itself would hang its slot until the timeout, so those are reported.  So
 * is SIGKILL (9) to itself: only the broker and the kernel's OOM killer send
 * it, and the outcome out_of_memory relies on that. */
#define LAST_STOP_SIGNAL 22

#define SIGNALS_TO_SELF(call, arg)                                                    \
    {call, SELF_AND_LT, arg, 9},  {call, SELF_AND_EQ, arg, 10}, {call, SELF_AND_EQ, arg, 11}, \
    {call, SELF_AND_EQ, arg, 12}, {call, SELF_AND_EQ, arg, 13}, {call, SELF_AND_EQ, arg, 14}, \
    {call, SELF_AND_EQ, arg, 15}, {call, SELF_AND_EQ, arg, 16}, {call, SELF_AND_EQ, arg, 17}, \
    {call, SELF_AND_EQ, arg, 18}, {call, SELF_AND_GT, arg, LAST_STOP_SIGNAL}

static const struct rule allowed[] = {
    /* Memory: anything but executable mappings. */
    {"brk", ANY, 0, 0},
    {"mmap", ARG_MASK_CLEAR, 2, PROT_EXEC},
    {"mprotect", ARG_MASK_CLEAR, 2, PROT_EXEC},
    {"munmap", ANY, 0, 0},
    {"mremap", ANY, 0, 0},
    {"madvise", ANY, 0, 0},

    /* Descriptors it already has: 0 (/dev/null), 1 and 2 (the output pipe),
     * 3 (the control socket).  It cannot get others: opening is reported. */
    {"read", ANY, 0, 0},
    {"readv", ANY, 0, 0},
    {"pread64", ANY, 0, 0},
    {"write", ANY, 0, 0},
    {"writev", ANY, 0, 0},
    {"lseek", ANY, 0, 0},
    {"close", ANY, 0, 0},
    {"fstat", ANY, 0, 0},
    {"newfstatat", ARG_MASK_SET, 3, AT_EMPTY_PATH},   /* fstat(), not stat(path) */
    {"fcntl", ARG_EQ, 1, F_GETFD},
    {"fcntl", ARG_EQ, 1, F_GETFL},
    {"ioctl", ARG_EQ, 1, TCGETS},                     /* isatty(); not TIOCSTI */
    {"sendto", ARG_EQ, 0, ES_FD_CONTROL},
    {"sendmsg", ARG_EQ, 0, ES_FD_CONTROL},
    {"recvfrom", ARG_EQ, 0, ES_FD_CONTROL},
    {"recvmsg", ARG_EQ, 0, ES_FD_CONTROL},

    /* Signals: its own, except those that would stop it. */
    {"rt_sigaction", ANY, 0, 0},
    {"rt_sigprocmask", ANY, 0, 0},
    {"rt_sigreturn", ANY, 0, 0},
    {"sigaltstack", ANY, 0, 0},
    SIGNALS_TO_SELF("kill", 1),
    SIGNALS_TO_SELF("tkill", 1),
    SIGNALS_TO_SELF("tgkill", 2),

    /* Threads that exist already (there are no others: clone is reported). */
    {"futex", ANY, 0, 0},
    {"set_robust_list", ANY, 0, 0},
    {"rseq", ANY, 0, 0},
    {"sched_yield", ANY, 0, 0},
    {"sched_getaffinity", ANY, 0, 0},
    {"restart_syscall", ANY, 0, 0},
    {"exit", ANY, 0, 0},
    {"exit_group", ANY, 0, 0},

    /* Questions about itself and the time. */
    {"getpid", ANY, 0, 0},
    {"gettid", ANY, 0, 0},
    {"getppid", ANY, 0, 0},
    {"getuid", ANY, 0, 0},
    {"geteuid", ANY, 0, 0},
    {"getgid", ANY, 0, 0},
    {"getegid", ANY, 0, 0},
    {"getresuid", ANY, 0, 0},
    {"getresgid", ANY, 0, 0},
    {"getrusage", ANY, 0, 0},
    {"prlimit64", ARG_EQ, 2, 0},                      /* getrlimit(), not setrlimit() */
    /* setrlimit(RLIMIT_AS) on itself: the hand-over of a pooled worker sets
     * it (it depends on the frame store, built while the worker waited).
     * With no CAP_SYS_RESOURCE (dropped before this filter) and soft = hard,
     * this can only lower the limit, so an expert gains nothing by it. */
    {"prlimit64", ZERO_AND_EQ, 1, RLIMIT_AS},
    {"uname", ANY, 0, 0},
    {"sysinfo", ANY, 0, 0},
    {"times", ANY, 0, 0},
    {"clock_gettime", ANY, 0, 0},
    {"clock_getres", ANY, 0, 0},
    {"gettimeofday", ANY, 0, 0},
    {"time", ANY, 0, 0},
    {"nanosleep", ANY, 0, 0},
    {"clock_nanosleep", ANY, 0, 0},
    {"getrandom", ANY, 0, 0},
};

static int add_rule(scmp_filter_ctx ctx, const struct rule *r, uint64_t self)
{
    int nr = seccomp_syscall_resolve_name(r->name);
    if (nr == __NR_SCMP_ERROR)
        return 0;   /* not a system call on this architecture */
    switch (r->when) {
    case ANY:
        return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
    case ARG_EQ:
        return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_CMP(r->arg, SCMP_CMP_EQ, r->value, 0));
    case ARG_LT:
        return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_CMP(r->arg, SCMP_CMP_LT, r->value, 0));
    case ARG_GT:
        return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_CMP(r->arg, SCMP_CMP_GT, r->value, 0));
    case ARG_MASK_CLEAR:
        return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
                                SCMP_CMP(r->arg, SCMP_CMP_MASKED_EQ, r->value, 0));
    case ARG_MASK_SET:
        return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
                                SCMP_CMP(r->arg, SCMP_CMP_MASKED_EQ, r->value, r->value));
    case SELF_AND_LT:
        return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 2, SCMP_CMP(0, SCMP_CMP_EQ, self, 0),
                                SCMP_CMP(r->arg, SCMP_CMP_LT, r->value, 0));
    case SELF_AND_GT:
        return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 2, SCMP_CMP(0, SCMP_CMP_EQ, self, 0),
                                SCMP_CMP(r->arg, SCMP_CMP_GT, r->value, 0));
    case SELF_AND_EQ:
        return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 2, SCMP_CMP(0, SCMP_CMP_EQ, self, 0),
                                SCMP_CMP(r->arg, SCMP_CMP_EQ, r->value, 0));
    case ZERO_AND_EQ:
        return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 2, SCMP_CMP(0, SCMP_CMP_EQ, 0, 0),
                                SCMP_CMP(r->arg, SCMP_CMP_EQ, r->value, 0));
    }
    return -EINVAL;
}

int es_seccomp_load_stage(int *listener_fd, char *why, size_t whylen)
{
    *listener_fd = -1;
    if (seccomp_api_get() < 6) {
        snprintf(why, whylen, "seccomp: user notification is not available (libseccomp API %u)",
                 seccomp_api_get());
        return -1;
    }
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_NOTIFY);
    if (!ctx) {
        snprintf(why, whylen, "seccomp: cannot create a filter");
        return -1;
    }
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_NOTIFY);
    /* no_new_privs is set by the privileges layer, and must stay set even
     * if this layer is switched off; libseccomp need not set it again. */
    if (rc == 0)
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    uint64_t self = (uint64_t)getpid();
    for (size_t i = 0; rc == 0 && i < sizeof allowed / sizeof *allowed; i++)
        rc = add_rule(ctx, &allowed[i], self);
    if (rc == 0)
        rc = seccomp_load(ctx);
    if (rc == 0) {
        *listener_fd = seccomp_notify_fd(ctx);
        if (*listener_fd < 0)
            rc = *listener_fd;
    }
    seccomp_release(ctx);
    if (rc != 0) {
        snprintf(why, whylen, "seccomp: %s", strerror(-rc));
        return -1;
    }
    return 0;
}
