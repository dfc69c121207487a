/*
 * bench_spawn.c - from "start a worker" to "Register returned", by phase.
 *
 * The broker's loop gives no timestamps per phase, so this file drives one
 * worker at a time with the broker's own parts (heap segment, es_spawn_worker,
 * the decoder, the seccomp-notification answers) and notes the time of each
 * step as the broker sees it.  The broker starts workers ahead of their
 * turn (the pool, supervisor.c), so there are two figures:
 *
 * the cold start of a pooled worker, which runs while the broker loads the
 * capture or while other experts run:
 *   setup      control socket pair, output pipe
 *   fork/exec  es_spawn_worker: clone (into a PID namespace as root, with
 *              its init) and execve, until exec is known to have succeeded
 *   to hello   the worker's dynamic linking and main() up to its Hello:
 *              every confinement layer; then it waits
 *
 * the spawn proper, what an expert waits for at its turn (the target):
 *   hand-over  heap memfd (created, sized, sealed, control page mapped) and
 *              Register sent with it (SCM_RIGHTS)
 *   dlopen     Register sent .. Loaded received: the worker maps its heap,
 *              sets its address-space limit, and the loader does its work,
 *              with each open/mmap/mprotect call suspended by seccomp and
 *              answered by the broker while loading
 *   Register   Loaded .. Registered received
 *
 * No frame store is handed over (as for `expert-broker list`): mapping one
 * is a single mmap whatever its size.  Which layer costs what is found by
 * difference: the same spawn with no layer, with each layer alone, and with
 * all of them.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "broker.h"
#include "expertfile.h"
#include "heap_segment.h"
#include "inproc.h"
#include "message.h"
#include "notify.h"
#include "wire.h"
#include "worker_spawn.h"

enum phase_index {
    PH_SETUP, PH_FORK_EXEC, PH_HELLO,          /* the cold start, ahead of the turn */
    PH_HANDOVER, PH_DLOPEN, PH_REGISTER,       /* the spawn at the turn */
    PH_TOTAL,                                  /* hand-over .. Registered: the target's figure */
    PH_COLD,                                   /* setup .. Hello */
    PH_CPU,
    PH_COUNT
};

/* PH_CPU is not a phase: the CPU time the whole spawn cost, the broker's
 * side (this process) plus the worker's and its init's (wait4).  On a
 * loaded machine the wall-clock phases include waiting for a CPU; this
 * does not. */
static const char *const phase_names[PH_COUNT] = {"setup",    "fork_exec", "to_hello", "handover", "dlopen",
                                                  "register", "total",     "cold",     "cpu"};

struct spawn_sample {
    double phase[PH_COUNT];
    unsigned notifications;      /* loader calls answered by the broker */
    uint32_t layers_applied;
};

struct spawn_context {
    const struct bench_config *cfg;
    int expert_fd;               /* opened once; each spawn gets a dup */
    struct es_decoder *decoder;
    uid_t uid;
    gid_t gid;
    char error[512];
};

/* The worker's command line, as run.c builds it for `expert-broker run`
 * (the address-space limit goes with the hand-over). */
static void worker_args(const struct spawn_context *ctx, uint32_t layers, char text[6][2][32], char *argv[13])
{
    const char *names[6] = {"--layers", "--require", "--uid", "--gid", "--cpu", "--address-space"};
    bool as_user = geteuid() == 0 && (layers & ES_LAYER_USER);
    unsigned long long values[6] = {
        layers, 0, as_user ? ctx->uid : 0, as_user ? ctx->gid : 0, 0, 0,
    };
    int argc = 0;
    for (int i = 0; i < 6; i++) {
        snprintf(text[i][0], sizeof text[i][0], "%s", names[i]);
        snprintf(text[i][1], sizeof text[i][1], "%llu", values[i]);
        argv[argc++] = text[i][0];
        argv[argc++] = text[i][1];
    }
    argv[argc] = NULL;
}

/* The hand-over as supervisor.c does it: Register, the heap with it. */
static int send_register(int control, int heap_fd, uint32_t layers)
{
    Es__Command cmd = ES__COMMAND__INIT;
    cmd.entry = ES__ENTRY__ENTRY_REGISTER;
    if (layers & ES_LAYER_RLIMITS) {
        cmd.has_address_space = true;
        cmd.address_space = ES_DEFAULT_HEAP_QUOTA + ES_DEFAULT_EXTRA_MEMORY;
    }
    uint8_t buf[256];
    size_t len = es_encode_command(&cmd, buf, sizeof buf);
    union {
        struct cmsghdr align;
        char bytes[CMSG_SPACE(sizeof(int))];
    } cbuf;
    memset(&cbuf, 0, sizeof cbuf);
    struct iovec iov = {buf, len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.bytes,
                        .msg_controllen = sizeof cbuf.bytes};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &heap_fd, sizeof(int));
    return len > 0 && sendmsg(control, &mh, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

static int send_entry(int control, Es__Entry entry)
{
    Es__Command cmd = ES__COMMAND__INIT;
    cmd.entry = entry;
    uint8_t buf[256];
    size_t len = es_encode_command(&cmd, buf, sizeof buf);
    return len > 0 && send(control, buf, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* One datagram from the worker, and the descriptor that came with it. */
static const Es__WorkerMessage *receive(struct spawn_context *ctx, int control, int *passed_fd)
{
    static uint8_t buffer[ES_MAX_MESSAGE + 1];
    union {
        struct cmsghdr align;
        char bytes[CMSG_SPACE(4 * sizeof(int))];
    } cbuf;
    struct iovec iov = {buffer, sizeof buffer};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.bytes,
                        .msg_controllen = sizeof cbuf.bytes};
    ssize_t len = recvmsg(control, &mh, MSG_CMSG_CLOEXEC);
    *passed_fd = -1;
    if (len <= 0)
        return NULL;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
            memcpy(passed_fd, CMSG_DATA(cm), sizeof(int));
    char why[256];
    const Es__WorkerMessage *m = es_decode_worker_message(ctx->decoder, buffer, (size_t)len, why, sizeof why);
    if (!m)
        snprintf(ctx->error, sizeof ctx->error, "undecodable message: %s", why);
    return m;
}

/* Spawns one worker with `layers`, takes it to Registered, tells it to
 * quit and reaps it.  Returns 0 with the phases in *out. */
static int spawn_once(struct spawn_context *ctx, uint32_t layers, struct spawn_sample *out)
{
    memset(out, 0, sizeof *out);
    char text[6][2][32];
    char *args[13];
    worker_args(ctx, layers, text, args);
    int expert_fd = fcntl(ctx->expert_fd, F_DUPFD_CLOEXEC, 3);
    if (expert_fd < 0)
        return -1;
    /* The dup shares its offset: the loader reads by position, so that is
     * harmless, but put it back to the start as a fresh open would be. */
    lseek(expert_fd, 0, SEEK_SET);

    int rc = -1;
    struct es_heapseg heap = {.fd = -1};
    struct es_child child = {.pid = -1, .pidfd = -1, .status_fd = -1};
    int sv[2] = {-1, -1}, pipefd[2] = {-1, -1}, listener = -1;
    bool started = false;

    struct rusage self_before, self_after, tree;
    getrusage(RUSAGE_SELF, &self_before);
    uint64_t t_start = now_ns();
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0 || pipe2(pipefd, O_CLOEXEC) != 0) {
        snprintf(ctx->error, sizeof ctx->error, "setup: %s", strerror(errno));
        goto out;
    }
    uint64_t t_setup = now_ns();
    struct es_spawn_request req = {
        .worker_path = ctx->cfg->worker_path,
        .expert_name = "bench_noop.so",
        .control_fd = sv[1],
        .expert_fd = expert_fd,
        .output_fd = pipefd[1],
        .extra_args = args,
        .pid_namespace = geteuid() == 0 && (layers & ES_LAYER_NAMESPACES),
    };
    if (es_spawn_worker(&req, &child) != 0) {
        snprintf(ctx->error, sizeof ctx->error, "es_spawn_worker: %s", strerror(errno));
        goto out;
    }
    uint64_t t_exec = now_ns();
    started = true;
    close(sv[1]);
    sv[1] = -1;
    close(pipefd[1]);
    pipefd[1] = -1;

    uint64_t t_hello = 0, t_turn = 0, t_sent = 0, t_loaded = 0, t_registered = 0;
    while (!t_registered) {
        struct pollfd fds[2] = {{sv[0], POLLIN, 0}, {listener, POLLIN, 0}};
        int n = poll(fds, listener >= 0 ? 2 : 1, 5000);
        if (n <= 0) {
            snprintf(ctx->error, sizeof ctx->error, "the worker stopped answering");
            goto out;
        }
        if (listener >= 0 && (fds[1].revents & POLLIN)) {
            struct es_syscall_report report;
            if (es_notify_receive(listener, &report) == 0) {
                bool allow = !t_loaded && es_notify_is_loader_call(&report);
                es_notify_answer(listener, report.id, allow);
                out->notifications++;
                if (!allow) {
                    snprintf(ctx->error, sizeof ctx->error, "violation: %s", report.name);
                    goto out;
                }
            }
        }
        if (!(fds[0].revents & (POLLIN | POLLHUP)))
            continue;
        int passed = -1;
        const Es__WorkerMessage *m = receive(ctx, sv[0], &passed);
        uint64_t at = now_ns();
        if (!m) {
            if (passed >= 0)
                close(passed);
            if (!ctx->error[0]) {
                char tail[256] = "";
                ssize_t got = read(pipefd[0], tail, sizeof tail - 1);
                tail[got > 0 ? got : 0] = '\0';
                tail[strcspn(tail, "\n")] = '\0';
                snprintf(ctx->error, sizeof ctx->error, "the worker closed its socket%s%s", tail[0] ? ": " : "",
                         tail);
            }
            goto out;
        }
        switch (m->body_case) {
        case ES__WORKER_MESSAGE__BODY_HELLO:
            t_hello = at;
            out->layers_applied = m->hello->layers;
            if (passed >= 0 && (m->hello->layers & ES_LAYER_SECCOMP))
                listener = passed;
            else if (passed >= 0)
                close(passed);
            /* A pooled worker waits a while for its turn: let it get to
             * its receive before the hand-over is timed. */
            usleep(2000);
            t_turn = now_ns();
            if (es_heapseg_create(&heap, ES_DEFAULT_HEAP_QUOTA) != 0) {
                snprintf(ctx->error, sizeof ctx->error, "heap: %s", strerror(errno));
                goto out;
            }
            if (send_register(sv[0], heap.fd, layers) != 0)
                goto out;
            t_sent = now_ns();
            break;
        case ES__WORKER_MESSAGE__BODY_LOADED:
            t_loaded = at;
            break;
        case ES__WORKER_MESSAGE__BODY_REGISTERED:
            t_registered = at;
            break;
        case ES__WORKER_MESSAGE__BODY_FAILURE:
            snprintf(ctx->error, sizeof ctx->error, "the worker failed: %.*s", (int)m->failure->reason.len,
                     (const char *)m->failure->reason.data);
            goto out;
        default:
            if (passed >= 0)
                close(passed);
            snprintf(ctx->error, sizeof ctx->error, "unexpected message %d", (int)m->body_case);
            goto out;
        }
    }
    out->phase[PH_SETUP] = seconds_between(t_start, t_setup);
    out->phase[PH_FORK_EXEC] = seconds_between(t_setup, t_exec);
    out->phase[PH_HELLO] = seconds_between(t_exec, t_hello);
    out->phase[PH_HANDOVER] = seconds_between(t_turn, t_sent);
    out->phase[PH_DLOPEN] = seconds_between(t_sent, t_loaded);
    out->phase[PH_REGISTER] = seconds_between(t_loaded, t_registered);
    out->phase[PH_TOTAL] = seconds_between(t_turn, t_registered);
    out->phase[PH_COLD] = seconds_between(t_start, t_hello);
    send_entry(sv[0], ES__ENTRY__ENTRY_QUIT);
    rc = 0;

out:
    if (started) {
        if (rc != 0)
            syscall(SYS_pidfd_send_signal, child.pidfd, SIGKILL, NULL, 0);
        /* wait4, not waitid: its usage covers the child and what it reaped
         * (the worker, when the child is the PID namespace's init). */
        int status;
        memset(&tree, 0, sizeof tree);
        while (wait4(child.pid, &status, __WALL, &tree) < 0 && errno == EINTR)
            ;
        getrusage(RUSAGE_SELF, &self_after);
        if (rc == 0)
            out->phase[PH_CPU] = rusage_cpu_seconds(&tree) + rusage_cpu_seconds(&self_after) -
                                 rusage_cpu_seconds(&self_before);
        close(child.pidfd);
        if (child.status_fd >= 0)
            close(child.status_fd);
    }
    if (listener >= 0)
        close(listener);
    for (int i = 0; i < 2; i++) {
        if (sv[i] >= 0)
            close(sv[i]);
        if (pipefd[i] >= 0)
            close(pipefd[i]);
    }
    close(expert_fd);
    es_heapseg_destroy(&heap);
    return rc;
}

/* dlopen and Register of the same expert in a fresh process, unsandboxed. */
static int inproc_load_child(void *arg, void *result)
{
    const char *expert = arg;
    double *seconds = result;
    struct inproc_host host;
    char why[256];
    if (inproc_open(&host, 1 << 20, NULL, NULL, NULL, why, sizeof why) != 0)
        return 1;
    struct inproc_timing t;
    /* Run returns at once; the load and Register times are what count. */
    if (inproc_run_expert(&host, expert, &t, why, sizeof why) != 0)
        return 1;
    seconds[0] = t.load_seconds;
    seconds[1] = t.register_seconds;
    inproc_close(&host);
    return 0;
}

struct layer_config {
    const char *name;
    uint32_t layers;
};

static void add_sample(struct bench_report *r, const char *config, const struct spawn_sample *s)
{
    for (int p = 0; p < PH_COUNT; p++) {
        char name[96];
        snprintf(name, sizeof name, "%s/%s", config, phase_names[p]);
        series_add(report_series(r, name, "s"), s->phase[p]);
    }
    char name[96];
    snprintf(name, sizeof name, "%s/notifications", config);
    series_add(report_series(r, name, "calls"), s->notifications);
}

static double median_of(struct bench_report *r, const char *config, int phase)
{
    char name[96];
    snprintf(name, sizeof name, "%s/%s", config, phase_names[phase]);
    return series_median(report_series(r, name, "s"));
}

/* Times `argv` started and reaped `samples` times; median into *median. */
static void time_command(const struct bench_config *cfg, struct bench_report *r, const char *series_name,
                         char *const argv[], double *median, double *p99, double *cpu)
{
    char name[96];
    snprintf(name, sizeof name, "%s/wall", series_name);
    struct bench_series *s = report_series(r, name, "s");
    snprintf(name, sizeof name, "%s/cpu", series_name);
    struct bench_series *c = report_series(r, name, "s");
    for (unsigned i = 0; i < cfg->samples * 4; i++) {
        double wall;
        struct rusage ru;
        if (run_program(argv, NULL, &wall, &ru) != 0) {
            *median = *p99 = *cpu = NAN;
            return;
        }
        series_add(s, wall);
        series_add(c, rusage_cpu_seconds(&ru));
    }
    *median = series_median(s);
    *p99 = series_percentile(s, 99);
    *cpu = series_median(c);
}

int bench_spawn(const struct bench_config *cfg, struct bench_report *r)
{
    report_section(r, "spawn", "worker spawn to Register returned (bench_noop.so), by phase: pooled and cold");
    char expert[4200];
    if (!format_path(expert, sizeof expert, "%s/bench_noop.so", cfg->bench_experts_dir) || !file_exists(expert)) {
        report_note(r, "bench_noop.so is not built: spawn skipped");
        return -1;
    }
    struct spawn_context ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.cfg = cfg;
    char why[256];
    ctx.expert_fd = es_expert_file_open(expert, why, sizeof why);
    ctx.decoder = malloc(sizeof *ctx.decoder);
    if (ctx.expert_fd < 0 || !ctx.decoder) {
        report_note(r, "cannot open %s: %s", expert, ctx.expert_fd < 0 ? why : "out of memory");
        free(ctx.decoder);
        return -1;
    }
    es_decoder_init(ctx.decoder);
    struct passwd *nobody = getpwnam("nobody");
    ctx.uid = nobody ? nobody->pw_uid : 65534;
    ctx.gid = nobody ? nobody->pw_gid : 65534;

    static const struct layer_config configs[] = {
        {"all", ES_LAYER_ALL},
        {"none", 0},
        {"rlimits", ES_LAYER_RLIMITS},
        {"user", ES_LAYER_USER},
        {"namespaces", ES_LAYER_NAMESPACES},
        {"landlock", ES_LAYER_LANDLOCK},
        {"seccomp", ES_LAYER_SECCOMP},
    };
    size_t config_count = sizeof configs / sizeof *configs;
    /* The figure the target is about gets enough samples for a 99th
     * percentile; the layer-by-layer breakdown gets fewer. */
    unsigned all_samples = cfg->quick ? 20 : 200;
    unsigned layer_samples = cfg->quick ? 5 : 40;
    bool failed = false;
    uint32_t applied_all = 0;
    /* Interleaved rounds, so that a burst of load from the neighbours does
     * not land on one configuration only. */
    unsigned rounds = all_samples;
    for (unsigned round = 0; round < rounds && !failed; round++) {
        for (size_t c = 0; c < config_count && !failed; c++) {
            unsigned wanted_samples = c == 0 ? all_samples : layer_samples;
            if (round >= wanted_samples)
                continue;
            struct spawn_sample s;
            ctx.error[0] = '\0';
            if (spawn_once(&ctx, configs[c].layers, &s) != 0) {
                report_note(r, "spawn with layers '%s' failed: %s", configs[c].name, ctx.error);
                failed = true;
                break;
            }
            if (c == 0)
                applied_all = s.layers_applied;
            add_sample(r, configs[c].name, &s);
        }
    }
    close(ctx.expert_fd);
    free(ctx.decoder);
    if (failed) {
        report_target(r, "spawn to Register returned: median under 1 ms", "spawn failed", TARGET_NOT_MEASURED);
        return -1;
    }

    report_columns(r, "median", "p99", "vs none", "CPU (median)");
    char a[32], b[32], c[32], d[32];
    /* Spawn (hand-over to Registered) and cold start (to Hello) per
     * configuration; the CPU column is the whole life of the worker. */
    static const int shown[] = {PH_TOTAL, PH_COLD};
    static const char *const shown_words[] = {"spawn (pooled)", "cold start"};
    for (size_t k = 0; k < config_count; k++) {
        for (int i = 0; i < 2; i++) {
            const char *config = configs[k].name;
            char name[96];
            snprintf(name, sizeof name, "%s/%s", config, phase_names[shown[i]]);
            struct bench_series *total = report_series(r, name, "s");
            snprintf(name, sizeof name, "%s/cpu", config);
            double cpu = series_median(report_series(r, name, "s"));
            double added = series_median(total) - median_of(r, "none", shown[i]);
            char label[96];
            snprintf(label, sizeof label, "layers %s: %s", config, shown_words[i]);
            report_row(r, label, fmt_seconds(a, sizeof a, series_median(total)),
                       fmt_seconds(b, sizeof b, series_percentile(total, 99)),
                       k == 1 ? "" : (added >= 0 ? fmt_seconds(c, sizeof c, added) : "~0"),
                       i == 1 ? fmt_seconds(d, sizeof d, cpu) : "");
        }
    }
    for (int p = 0; p < PH_TOTAL; p++) {
        char label[96];
        snprintf(label, sizeof label, "  all layers: %s", phase_names[p]);
        char name[96];
        snprintf(name, sizeof name, "all/%s", phase_names[p]);
        struct bench_series *s = report_series(r, name, "s");
        double added = series_median(s) - median_of(r, "none", p);
        report_row(r, label, fmt_seconds(a, sizeof a, series_median(s)),
                   fmt_seconds(b, sizeof b, series_percentile(s, 99)), fmt_seconds(c, sizeof c, added), "");
    }
    /* Each layer's share of each phase: where exactly a layer costs. */
    for (size_t k = 2; k < config_count; k++) {
        char label[96], cells[3][32];
        snprintf(label, sizeof label, "  %s adds: exec/hello/dlopen", configs[k].name);
        static const int adds[3] = {PH_FORK_EXEC, PH_HELLO, PH_DLOPEN};
        for (int i = 0; i < 3; i++) {
            int p = adds[i];
            double added = median_of(r, configs[k].name, p) - median_of(r, "none", p);
            fmt_seconds(cells[i], sizeof cells[i], fabs(added));
            if (added < 0) {
                memmove(cells[i] + 1, cells[i], strlen(cells[i]) + 1);
                cells[i][0] = '-';
            }
        }
        report_row(r, label, cells[0], cells[1], cells[2], "");
    }
    char layers_text[128] = "";
    for (uint32_t bit = 1; bit < ES_LAYER_ALL; bit <<= 1)
        if (applied_all & bit) {
            strcat(layers_text, layers_text[0] ? "," : "");
            strcat(layers_text, es_layer_name(bit));
        }
    report_text(r, "layers_in_place", layers_text);
    report_note(r, "loader calls answered by the broker during dlopen (seccomp notifications): %.0f",
                series_median(report_series(r, "all/notifications", "calls")));
    report_note(r, "layers in place with 'all': %s", layers_text[0] ? layers_text : "none");

    /* References: the same load unsandboxed, a bare fork+exec, bubblewrap. */
    struct bench_series *load = report_series(r, "inproc/dlopen", "s");
    struct bench_series *reg = report_series(r, "inproc/register", "s");
    for (unsigned i = 0; i < cfg->samples * 4; i++) {
        double seconds[2];
        if (run_in_child(inproc_load_child, expert, seconds, sizeof seconds, NULL, NULL) == 0) {
            series_add(load, seconds[0]);
            series_add(reg, seconds[1]);
        }
    }
    report_row(r, "in-process dlopen (reference)", fmt_seconds(a, sizeof a, series_median(load)),
               fmt_seconds(b, sizeof b, series_percentile(load, 99)), "", "");
    double med, p99, cpu;
    char *true_argv[] = {(char *)"/bin/true", NULL};
    time_command(cfg, r, "fork_exec_true", true_argv, &med, &p99, &cpu);
    report_row(r, "fork+exec+wait /bin/true (reference)", fmt_seconds(a, sizeof a, med),
               fmt_seconds(b, sizeof b, p99), "", fmt_seconds(d, sizeof d, cpu));
    if (program_available("bwrap")) {
        /* As the issue words it, plus a read-only view of / so that
         * /bin/true exists inside (bwrap starts from an empty root). */
        char *bwrap_argv[] = {(char *)"bwrap", (char *)"--unshare-all", (char *)"--ro-bind", (char *)"/",
                              (char *)"/", (char *)"/bin/true", NULL};
        time_command(cfg, r, "bwrap_unshare_all_true", bwrap_argv, &med, &p99, &cpu);
        report_row(r, "bwrap --unshare-all /bin/true", fmt_seconds(a, sizeof a, med), fmt_seconds(b, sizeof b, p99),
                   "", fmt_seconds(d, sizeof d, cpu));
        if (isnan(med))
            report_note(r, "bwrap is installed but failed here (no user namespaces?)");
    } else {
        report_note(r, "bubblewrap is not installed: no bwrap row (apt-get install bubblewrap)");
    }

    struct bench_series *total = report_series(r, "all/total", "s");
    double median = series_median(total);
    char measured[160];
    snprintf(measured, sizeof measured, "pooled: median %s, p99 %s; cold start %s (all layers)",
             fmt_seconds(a, sizeof a, median), fmt_seconds(b, sizeof b, series_percentile(total, 99)),
             fmt_seconds(c, sizeof c, median_of(r, "all", PH_COLD)));
    report_value(r, "median_cold_seconds", median_of(r, "all", PH_COLD));
    report_value(r, "median_total_seconds", median);
    report_target(r, "spawn to Register returned: median under 1 ms", measured,
                  median < 1e-3 ? TARGET_MET : TARGET_MISSED);
    return 0;
}
