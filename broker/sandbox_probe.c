/*
 * sandbox_probe.c - probe each confinement layer and mechanism on this machine.
 *
 * Probes that change the calling process (unshare, landlock_restrict_self)
 * run in a forked child, so that checking never confines the broker.
 */
#include "sandbox_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "output.h"
#include "wire.h"

struct probe {
    const char *name;
    uint32_t layer;          /* ES_LAYER_* it is, or 0 for a mechanism */
    bool available;
    bool used;
    char detail[256];
};

/* Runs fn in a child process; true if it exited 0. */
static bool in_child(int (*fn)(void))
{
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0)
        _exit(fn() == 0 ? 0 : 1);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int try_user_namespace(void)
{
    return unshare(CLONE_NEWUSER);
}

static int try_other_namespaces(void)
{
    if (geteuid() != 0 && unshare(CLONE_NEWUSER) != 0)
        return -1;
    return unshare(CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS);
}

/* What init does with each worker: trace its own child, stopping only at
 * its exit (worker_spawn.c).  Yama's ptrace_scope 3, or an LSM, may refuse. */
static int try_trace_child(void)
{
    pid_t child = fork();
    if (child < 0)
        return -1;
    if (child == 0) {
        pause();
        _exit(0);
    }
    int rc = (int)ptrace(PTRACE_SEIZE, child, 0, PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL);
    kill(child, SIGKILL);
    while (waitpid(child, NULL, __WALL) < 0 && errno == EINTR)
        ;
    return rc;
}

static bool seccomp_action(uint32_t action)
{
    return syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

static void probe_seccomp(struct probe *p, struct probe *notify)
{
    static const struct {
        uint32_t action;
        const char *name;
    } actions[] = {
        {SECCOMP_RET_KILL_PROCESS, "kill_process"}, {SECCOMP_RET_KILL_THREAD, "kill_thread"},
        {SECCOMP_RET_TRAP, "trap"},                 {SECCOMP_RET_ERRNO, "errno"},
        {SECCOMP_RET_USER_NOTIF, "user_notif"},     {SECCOMP_RET_TRACE, "trace"},
        {SECCOMP_RET_LOG, "log"},                   {SECCOMP_RET_ALLOW, "allow"},
    };
    size_t used = (size_t)snprintf(p->detail, sizeof p->detail, "actions:");
    for (size_t i = 0; i < sizeof actions / sizeof *actions; i++)
        if (seccomp_action(actions[i].action) && used < sizeof p->detail)
            used += (size_t)snprintf(p->detail + used, sizeof p->detail - used, " %s", actions[i].name);
    p->available = prctl(PR_GET_SECCOMP) >= 0 && seccomp_action(SECCOMP_RET_ALLOW);

    unsigned api = seccomp_api_get();
    notify->available = p->available && seccomp_action(SECCOMP_RET_USER_NOTIF) && api >= 6;
    snprintf(notify->detail, sizeof notify->detail, "libseccomp %u.%u.%u, API level %u%s",
             seccomp_version()->major, seccomp_version()->minor, seccomp_version()->micro, api,
             notify->available ? "; violations are named from the kernel's report"
                               : "; the seccomp layer needs it and will be missing");
    /* The worker's filter reports through the listener: without it, the
     * layer cannot be put in place. */
    p->available = p->available && notify->available;
}

static int landlock_abi(void)
{
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, 1u /* LANDLOCK_CREATE_RULESET_VERSION */);
    return abi < 0 ? 0 : (int)abi;
}

static void probe_landlock(struct probe *p)
{
    int abi = landlock_abi();
    p->available = abi > 0;
    if (abi <= 0)
        snprintf(p->detail, sizeof p->detail, "not supported by this kernel (%s)", strerror(errno));
    else
        snprintf(p->detail, sizeof p->detail, "ABI %d: files%s%s", abi, abi >= 4 ? ", TCP" : "",
                 abi >= 6 ? ", abstract sockets and signals" : "");
}

static void probe_user(struct probe *p, const struct es_sandbox_options *sb)
{
    if (geteuid() != 0) {
        p->available = true;
        snprintf(p->detail, sizeof p->detail, "the broker is not root: workers run as uid %u",
                 (unsigned)geteuid());
        return;
    }
    const char *name = sb->user ? sb->user : "nobody";
    struct passwd *pw = getpwnam(name);
    p->available = pw && pw->pw_uid != 0 && pw->pw_gid != 0;
    if (p->available)
        snprintf(p->detail, sizeof p->detail, "workers run as %s (%u:%u)", name, (unsigned)pw->pw_uid,
                 (unsigned)pw->pw_gid);
    else
        snprintf(p->detail, sizeof p->detail, "no usable user '%s'", name);
}

static void probe_mechanisms(struct probe *pidfd, struct probe *clone3, struct probe *cgroup)
{
    int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
    pidfd->available = fd >= 0;
    if (fd >= 0)
        close(fd);
    pidfd->used = pidfd->available;
    snprintf(pidfd->detail, sizeof pidfd->detail, "%s",
             pidfd->available ? "workers are watched through pidfds" : "needed: Linux 5.3 or later");

    errno = 0;
    long rc = syscall(SYS_clone3, NULL, 0);
    clone3->available = rc < 0 && errno != ENOSYS;

    cgroup->available = access("/sys/fs/cgroup/cgroup.controllers", R_OK) == 0;
    snprintf(cgroup->detail, sizeof cgroup->detail,
             "not used: memory is bounded with RLIMIT_AS, CPU with RLIMIT_CPU");
}

/* Not a layer: whether the kernel gives the heaps 2 MiB pages, which the
 * worker asks for (MADV_HUGEPAGE).  It decides how long a crashed worker's
 * large heap takes to be torn down (docs/performance.md, Crash). */
static void probe_heap_pages(struct probe *p)
{
    char line[256] = "";
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/shmem_enabled", "r");
    if (f) {
        if (!fgets(line, sizeof line, f))
            line[0] = '\0';
        fclose(f);
    }
    char *open = strchr(line, '['), *close = open ? strchr(open, ']') : NULL;
    if (!open || !close) {
        snprintf(p->detail, sizeof p->detail, "4 KiB pages: no transparent huge pages for shared memory");
        return;
    }
    *close = '\0';
    const char *setting = open + 1;
    p->available = strcmp(setting, "advise") == 0 || strcmp(setting, "within_size") == 0 ||
                   strcmp(setting, "always") == 0 || strcmp(setting, "force") == 0;
    p->used = p->available;
    if (p->available)
        snprintf(p->detail, sizeof p->detail, "2 MiB pages for the heaps (shmem_enabled: %s)", setting);
    else
        snprintf(p->detail, sizeof p->detail,
                 "4 KiB pages (shmem_enabled: %s): 'advise' there frees a large crashed heap ~25x faster",
                 setting);
}

static void print_text(FILE *out, const struct probe *probes, size_t n)
{
    fprintf(out, "%-12s %-10s %-5s %s\n", "LAYER", "AVAILABLE", "USED", "DETAIL");
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%-12s %-10s %-5s %s\n", probes[i].name, probes[i].available ? "yes" : "no",
                probes[i].used ? "yes" : "no", probes[i].detail);
}

static void print_json(FILE *out, const struct probe *probes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "{\"type\":\"check\",\"name\":\"%s\",\"layer\":%s,\"available\":%s,\"used\":%s,"
                     "\"detail\":",
                probes[i].name, probes[i].layer ? "true" : "false", probes[i].available ? "true" : "false",
                probes[i].used ? "true" : "false");
        es_json_string(out, (const uint8_t *)probes[i].detail, strlen(probes[i].detail));
        fputs("}\n", out);
    }
}

enum es_exit es_check(const struct es_check_options *opt)
{
    struct probe probes[] = {
        {"rlimits", ES_LAYER_RLIMITS, true, false, "core, files, processes, CPU, address space"},
        {"user", ES_LAYER_USER, false, false, ""},
        {"namespaces", ES_LAYER_NAMESPACES, false, false, ""},
        {"landlock", ES_LAYER_LANDLOCK, false, false, ""},
        {"seccomp", ES_LAYER_SECCOMP, false, false, ""},
        {"user_notif", 0, false, false, ""},
        {"pidfd", 0, false, false, ""},
        {"clone3", 0, false, false, ""},
        {"cgroup_v2", 0, false, false, ""},
        {"heap_pages", 0, false, false, ""},
        {"exit_stop", 0, false, false, ""},
    };
    const struct es_sandbox_options *sb = &opt->sandbox;
    probe_user(&probes[1], sb);
    bool userns = in_child(try_user_namespace);
    probes[2].available = in_child(try_other_namespaces);
    snprintf(probes[2].detail, sizeof probes[2].detail, "%s network, IPC, UTS and mount%s",
             probes[2].available ? "new" : "cannot create",
             geteuid() == 0 ? "" : userns ? ", inside a user namespace" : "; user namespaces are not allowed");
    probe_landlock(&probes[3]);
    probe_seccomp(&probes[4], &probes[5]);
    probe_mechanisms(&probes[6], &probes[7], &probes[8]);
    probe_heap_pages(&probes[9]);
    probes[10].available = in_child(try_trace_child);

    enum es_exit status = ES_EXIT_OK;
    for (size_t i = 0; i < 5; i++) {
        probes[i].used = probes[i].available && !(sb->disabled_layers & probes[i].layer);
        if ((sb->required_layers & probes[i].layer) && !probes[i].used)
            status = ES_EXIT_SANDBOX;
    }
    probes[5].used = probes[4].used;
    /* The same rule as run.c: a root broker puts each worker in its own PID
     * namespace, which clone3 creates along with the pidfd. */
    probes[7].used = probes[7].available && probes[2].used && geteuid() == 0;
    snprintf(probes[7].detail, sizeof probes[7].detail, "%s",
             probes[7].used ? "starts each worker in a new PID namespace, with its pidfd"
             : geteuid() != 0 ? "not used: no PID namespace without root; fork and pidfd_open start workers"
                              : "not used: fork and pidfd_open start workers");
    /* Init, which traces, exists with the PID namespace, and for a broker
     * that is not root (worker_spawn.c, with_init). */
    probes[10].used = probes[10].available && (probes[7].used || geteuid() != 0);
    snprintf(probes[10].detail, sizeof probes[10].detail, "%s",
             probes[10].used ? "init reports a worker's end at its exit stop, before the kernel frees its memory"
             : !probes[10].available ? "ptrace refused: a worker's end is known once it is reaped"
                                     : "not used as root without a PID namespace: a worker's end is known once "
                                       "it is reaped");
    if (opt->json)
        print_json(opt->out, probes, sizeof probes / sizeof *probes);
    else
        print_text(opt->out, probes, sizeof probes / sizeof *probes);
    return status;
}
