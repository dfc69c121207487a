/*
 * run.c - es_run and es_list: check the inputs, build the frame store, hand
 * the experts to the supervisor, report, and decide the exit status.
 */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "capture.h"
#include "config_store.h"
#include "expertfile.h"
#include "heapseg.h"
#include "netmon.h"
#include "output.h"
#include "supervisor.h"
#include "wire.h"

static FILE *diagnostics_of(FILE *f)
{
    return f ? f : stderr;
}

const char *es_default_worker_path(void)
{
    static char path[PATH_MAX];
    const char *env = getenv("ES_WORKER");
    if (env && *env)
        return env;
    /* In a build tree the worker sits in ../worker next to broker/. */
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len > 0) {
        self[len] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            int n = snprintf(path, sizeof path, "%s/../worker/expert-worker", self);
            if (n > 0 && (size_t)n < sizeof path && access(path, X_OK) == 0)
                return path;
        }
    }
    return ES_WORKER_PATH;
}

static const struct {
    uint32_t layer;
    const char *name;
} layer_names[] = {
    {ES_LAYER_RLIMITS, "rlimits"},
    {ES_LAYER_USER, "user"},
    {ES_LAYER_NAMESPACES, "namespaces"},
    {ES_LAYER_LANDLOCK, "landlock"},
    {ES_LAYER_SECCOMP, "seccomp"},
};

uint32_t es_layer_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof layer_names / sizeof *layer_names; i++)
        if (!strcmp(name, layer_names[i].name))
            return layer_names[i].layer;
    return 0;
}

const char *es_layer_name(uint32_t layer)
{
    for (size_t i = 0; i < sizeof layer_names / sizeof *layer_names; i++)
        if (layer_names[i].layer == layer)
            return layer_names[i].name;
    return "unknown";
}

/* The worker's command line: which layers, which user, which limits, and
 * which faults to inject. */
struct worker_args {
    char text[6][2][32];
    char inject[512];
    char *argv[15];
};

static int build_worker_args(const struct es_sandbox_options *sb, uint64_t address_space,
                             const struct es_injection *inject, struct worker_args *wa, FILE *diag)
{
    uid_t uid = 0;
    gid_t gid = 0;
    if (geteuid() == 0 && !(sb->disabled_layers & ES_LAYER_USER)) {
        const char *user = sb->user ? sb->user : "nobody";
        struct passwd *pw = getpwnam(user);
        if (!pw) {
            fprintf(diag, "expert-broker: %s: no such user (--user)\n", user);
            return -1;
        }
        if (pw->pw_uid == 0 || pw->pw_gid == 0) {
            fprintf(diag, "expert-broker: %s: refusing to run experts as root (--user)\n", user);
            return -1;
        }
        uid = pw->pw_uid;
        gid = pw->pw_gid;
    }
    const char *names[6] = {"--layers", "--require", "--uid", "--gid", "--cpu", "--address-space"};
    unsigned long long values[6] = {
        ES_LAYER_ALL & ~sb->disabled_layers, sb->required_layers, uid, gid, sb->cpu_seconds,
        address_space,
    };
    int argc = 0;
    for (int i = 0; i < 6; i++) {
        snprintf(wa->text[i][0], sizeof wa->text[i][0], "%s", names[i]);
        snprintf(wa->text[i][1], sizeof wa->text[i][1], "%llu", values[i]);
        wa->argv[argc++] = wa->text[i][0];
        wa->argv[argc++] = wa->text[i][1];
    }
    if (inject && es_injection_any(inject)) {
        es_injection_format(inject, wa->inject, sizeof wa->inject);
        wa->argv[argc++] = (char *)"--inject";
        wa->argv[argc++] = wa->inject;
    }
    wa->argv[argc] = NULL;
    return 0;
}

/* A PID namespace needs root here: an unprivileged broker would have to
 * create and map a user namespace for init first. */
static bool wants_pid_namespace(const struct es_sandbox_options *sb)
{
    return !(sb->disabled_layers & ES_LAYER_NAMESPACES) && geteuid() == 0;
}

/* Opens every expert file.  All are checked, so that one run names every
 * unusable file at once; returns false if any was refused. */
static bool open_experts(const char *const *paths, size_t count, int *fds, FILE *diag)
{
    bool all = true;
    for (size_t i = 0; i < count; i++) {
        char why[256];
        fds[i] = es_expert_file_open(paths[i], why, sizeof why);
        if (fds[i] < 0) {
            fprintf(diag, "expert-broker: %s: %s\n", paths[i], why);
            all = false;
        }
    }
    return all;
}

static void close_all(int *fds, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (fds[i] >= 0)
            close(fds[i]);
        fds[i] = -1;
    }
}

static unsigned default_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

/* One line per expert that could not be used, naming its file. */
static void report_load_failures(const struct es_outcome *outcomes, size_t count, FILE *diag)
{
    for (size_t i = 0; i < count; i++) {
        const struct es_outcome *o = &outcomes[i];
        if (o->kind == ES_OUTCOME_LOAD_FAILED)
            fprintf(diag, "expert-broker: %s: cannot load the expert: %s\n", o->expert_path, o->detail);
        else if (o->kind == ES_OUTCOME_REGISTER_FAILED)
            fprintf(diag, "expert-broker: %s: Register failed: %s\n", o->expert_path, o->detail);
        else if (o->kind == ES_OUTCOME_NOT_RUN)
            fprintf(diag, "expert-broker: %s: not run: %s\n", o->expert_path, o->detail);
    }
}

/* The most serious status among the experts: a missing required layer,
 * then a broker failure, then an unusable expert file, then any other end
 * but done. */
static enum es_exit exit_status_of(const struct es_outcome *outcomes, size_t count, uint32_t required)
{
    if (es_supervise_interrupted)
        return (enum es_exit)(128 + es_supervise_interrupted);
    static const enum es_exit severity[] = {ES_EXIT_OK, ES_EXIT_EXPERT_FAILED, ES_EXIT_EXPERT_FILE,
                                            ES_EXIT_INTERNAL, ES_EXIT_SANDBOX};
    size_t worst = 0;
    for (size_t i = 0; i < count; i++) {
        const struct es_outcome *o = &outcomes[i];
        size_t rank = 1;
        if (o->kind == ES_OUTCOME_DONE)
            rank = 0;
        else if (o->kind == ES_OUTCOME_NOT_RUN)
            rank = (o->layers && (required & ~o->layers)) ? 4 : 3;
        else if (es_outcome_is_load_failure(o->kind))
            rank = 2;
        if (rank > worst)
            worst = rank;
    }
    return severity[worst];
}

static struct es_outcome *new_outcomes(const char *const *paths, size_t count)
{
    struct es_outcome *outcomes = calloc(count ? count : 1, sizeof *outcomes);
    if (outcomes)
        for (size_t i = 0; i < count; i++)
            es_outcome_init(&outcomes[i], i, paths[i]);
    return outcomes;
}

static const char *capture_error_words(enum es_capture_error e)
{
    return e == ES_CAPTURE_BAD_FILTER ? "bad filter" : NULL;
}

static void fill_startup(Es__StartupInfo *si, const char *capture_path, uint32_t frames,
                         const struct es_startup_options *st)
{
    if (capture_path) {
        si->capture_file.data = (uint8_t *)capture_path;
        si->capture_file.len = strlen(capture_path);
    }
    si->frame_count = frames;
    si->startup_frame = st->has_startup_frame ? st->startup_frame : INVALID_FRAME_NUMBER;
    si->startup_flags = st->use_startup_data ? EXPERT_STARTUP_FLAG_USE_STARTUP_DATA_OVER_CONFIG_DATA : 0;
}

static void free_configs(struct es_config_blob *configs, size_t count)
{
    for (size_t i = 0; configs && i < count; i++)
        free(configs[i].data);
    free(configs);
}

static char *config_path_for(const struct es_startup_options *st, const char *expert)
{
    return st->config_file ? strdup(st->config_file) : es_config_path(st->config_dir, expert);
}

/* The stored configuration of every expert (empty where none is stored).
 * NULL, after a line naming the file, if one cannot be used. */
static struct es_config_blob *load_configs(const struct es_startup_options *st, const char *const *experts,
                                           size_t count, FILE *diag)
{
    struct es_config_blob *configs = calloc(count ? count : 1, sizeof *configs);
    if (!configs)
        return NULL;
    if (st->config_file && count > 1) {
        fprintf(diag, "expert-broker: --config names the file of one expert; use --config-dir for several\n");
        free(configs);
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        char *path = config_path_for(st, experts[i]);
        if (!path)
            continue;   /* no home directory: nothing stored */
        char why[256];
        if (es_config_read(path, &configs[i], why, sizeof why) != 0) {
            fprintf(diag, "expert-broker: %s: %s\n", path, why);
            free(path);
            free_configs(configs, count);
            return NULL;
        }
        free(path);
    }
    return configs;
}

enum es_exit es_run(const struct es_run_options *opt, struct es_run_result *result)
{
    FILE *diag = diagnostics_of(opt->diagnostics);
    memset(result, 0, sizeof *result);
    size_t count = opt->expert_count;
    int *fds = calloc(count ? count : 1, sizeof *fds);
    struct es_outcome *outcomes = new_outcomes(opt->experts, count);
    if (!fds || !outcomes) {
        fprintf(diag, "expert-broker: out of memory\n");
        free(fds);
        free(outcomes);
        return result->exit_code = ES_EXIT_INTERNAL;
    }

    enum es_exit status = ES_EXIT_OK;
    struct es_capture capture = {.fd = -1};
    struct es_output *output = NULL;
    struct es_config_blob *configs = NULL;
    struct worker_args *each_args = NULL;
    char ***each_argv = NULL;
    struct es_supervisor *pool = NULL;
    if (!open_experts(opt->experts, count, fds, diag)) {
        status = ES_EXIT_EXPERT_FILE;
        goto out;
    }

    /* The workers' command lines do not depend on the capture (the
     * address-space limit, which does, goes with the hand-over), so the
     * first --jobs workers are started before the capture is loaded and
     * confine themselves while it is (the pool, supervisor.h). */
    uint64_t quota = opt->heap_quota ? opt->heap_quota : ES_DEFAULT_HEAP_QUOTA;
    unsigned jobs = opt->jobs ? opt->jobs : default_jobs();
    struct worker_args wa;
    if (build_worker_args(&opt->sandbox, 0, &opt->inject, &wa, diag) != 0) {
        status = ES_EXIT_USAGE;
        goto out;
    }
    if (opt->inject_each) {
        each_args = calloc(count, sizeof *each_args);
        each_argv = calloc(count, sizeof *each_argv);
        if (!each_args || !each_argv) {
            fprintf(diag, "expert-broker: out of memory\n");
            status = ES_EXIT_INTERNAL;
            goto out;
        }
        for (size_t i = 0; i < count; i++) {
            build_worker_args(&opt->sandbox, 0, &opt->inject_each[i], &each_args[i], diag);
            each_argv[i] = each_args[i].argv;
        }
    }
    Es__StartupInfo startup = ES__STARTUP_INFO__INIT;
    struct es_supervise_config cfg = {
        .mode = ES_SUPERVISE_RUN,
        .worker_path = opt->worker_path ? opt->worker_path : es_default_worker_path(),
        .count = count,
        .expert_paths = opt->experts,
        .expert_fds = fds,
        .heap_quota = quota,
        .jobs = jobs,
        .frames_fd = -1,
        .startup = &startup,
        .worker_args = wa.argv,
        .required_layers = opt->sandbox.required_layers,
        .timeout_seconds = opt->timeout_seconds,
        .grace_seconds = opt->grace_seconds < 0 ? ES_DEFAULT_GRACE_SECONDS : opt->grace_seconds,
        .cpu_seconds = opt->sandbox.cpu_seconds,
        .handle_signals = opt->handle_signals,
        .pid_namespace = wants_pid_namespace(&opt->sandbox),
        .worker_args_each = (char *const *const *)each_argv,
    };
    pool = es_supervisor_new(&cfg, outcomes, NULL);
    if (!pool) {
        fprintf(diag, "expert-broker: out of memory\n");
        status = ES_EXIT_INTERNAL;
        goto out;
    }
    es_supervisor_prestart(pool);

    char why[512];
    struct es_capture_options copt = {.filter = opt->filter, .allow_truncated = opt->allow_truncated};
    enum es_capture_error cerr = es_capture_load(opt->capture_path, &copt, &capture, why, sizeof why);
    if (cerr != ES_CAPTURE_OK) {
        const char *what = capture_error_words(cerr);
        if (what)
            fprintf(diag, "expert-broker: %s: %s: %s\n", opt->filter, what, why);
        else
            fprintf(diag, "expert-broker: %s: %s\n", opt->capture_path, why);
        status = cerr == ES_CAPTURE_RESOURCE ? ES_EXIT_INTERNAL : ES_EXIT_CAPTURE;
        goto out;
    }
    if (capture.truncated)
        fprintf(diag, "expert-broker: %s: %s\n", opt->capture_path,
                why[0] ? why : "damaged; analysing the intact frames");

    output = es_output_new(opt->json);
    if (!output) {
        fprintf(diag, "expert-broker: out of memory\n");
        status = ES_EXIT_INTERNAL;
        goto out;
    }
    es_output_set_text(output, opt->text);
    struct es_run_info info = {
        .capture_path = opt->capture_path,
        .frame_count = capture.frame_count,
        .link_type = capture.link_type,
        .filter = opt->filter,
        .heap_quota = quota,
        .jobs = jobs,
        .expert_count = count,
    };
    if (opt->json && es_output_run(output, &info) != 0)
        goto write_failed;

    if (opt->startup.has_startup_frame && opt->startup.startup_frame >= capture.frame_count) {
        fprintf(diag, "expert-broker: %s: --startup-frame %u is past the last frame (%u)\n",
                opt->capture_path, opt->startup.startup_frame + 1, capture.frame_count);
        status = ES_EXIT_USAGE;
        goto out;
    }
    configs = load_configs(&opt->startup, opt->experts, count, diag);
    if (!configs) {
        status = ES_EXIT_USAGE;
        goto out;
    }
    fill_startup(&startup, opt->capture_path, capture.frame_count, &opt->startup);
    /* What only the loaded capture tells; the pool's workers get it with
     * the hand-over. */
    uint64_t extra = opt->sandbox.extra_memory ? opt->sandbox.extra_memory : ES_DEFAULT_EXTRA_MEMORY;
    if (!(opt->sandbox.disabled_layers & ES_LAYER_RLIMITS))
        cfg.address_space = quota + capture.size + extra;
    cfg.frames_fd = capture.fd;
    cfg.link_type = capture.link_type;
    cfg.snaplen = capture.map ? capture.map->snaplen : 0;
    cfg.output = opt->json ? output : NULL;
    cfg.configs = configs;
    cfg.progress = es_progress_new(diag, count, !opt->progress);
    int supervised = es_supervisor_run(pool);
    pool = NULL;
    es_progress_free(cfg.progress);
    if (supervised != 0)
        goto write_failed;

    report_load_failures(outcomes, count, diag);
    if (opt->table) {
        const struct es_outcome **list = calloc(count ? count : 1, sizeof *list);
        if (list) {
            for (size_t i = 0; i < count; i++)
                list[i] = &outcomes[i];
            es_output_table(diag, list, count);
            free(list);
        }
    }
    status = exit_status_of(outcomes, count, opt->sandbox.required_layers);
    result->outcomes = outcomes;
    result->count = count;
    outcomes = NULL;
    goto out;

write_failed:
    fprintf(diag, "expert-broker: cannot write the results: %s\n", strerror(errno));
    status = ES_EXIT_INTERNAL;
out:
    es_supervisor_abandon(pool);   /* workers started for a run that did not happen */
    free(each_args);
    free(each_argv);
    free_configs(configs, count);
    close_all(fds, count);
    free(fds);
    if (outcomes) {
        for (size_t i = 0; i < count; i++)
            es_outcome_free(&outcomes[i]);
        free(outcomes);
    }
    es_output_free(output);
    es_capture_close(&capture);
    return result->exit_code = status;
}

void es_run_result_free(struct es_run_result *result)
{
    for (size_t i = 0; i < result->count; i++)
        es_outcome_free(&result->outcomes[i]);
    free(result->outcomes);
    result->outcomes = NULL;
    result->count = 0;
}

enum es_exit es_list(const struct es_list_options *opt)
{
    FILE *diag = diagnostics_of(opt->diagnostics);
    size_t count = opt->expert_count;
    int *fds = calloc(count ? count : 1, sizeof *fds);
    struct es_outcome *outcomes = new_outcomes(opt->experts, count);
    struct es_registration *regs = calloc(count ? count : 1, sizeof *regs);
    enum es_exit status = ES_EXIT_OK;
    if (!fds || !outcomes || !regs) {
        fprintf(diag, "expert-broker: out of memory\n");
        status = ES_EXIT_INTERNAL;
        goto out;
    }
    if (!open_experts(opt->experts, count, fds, diag)) {
        status = ES_EXIT_EXPERT_FILE;
        goto out;
    }
    struct worker_args wa;
    if (build_worker_args(&opt->sandbox, 0, NULL, &wa, diag) != 0) {
        status = ES_EXIT_USAGE;
        goto out;
    }
    struct es_supervise_config cfg = {
        .mode = ES_SUPERVISE_LIST,
        .worker_args = wa.argv,
        .required_layers = opt->sandbox.required_layers,
        .grace_seconds = ES_DEFAULT_GRACE_SECONDS,
        .pid_namespace = wants_pid_namespace(&opt->sandbox),
        .worker_path = opt->worker_path ? opt->worker_path : es_default_worker_path(),
        .count = count,
        .expert_paths = opt->experts,
        .expert_fds = fds,
        .heap_quota = ES_HEAP_MIN_SIZE * 16,
        .jobs = default_jobs(),
        .frames_fd = -1,
    };
    if (es_supervise(&cfg, outcomes, regs) != 0) {
        status = ES_EXIT_INTERNAL;
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        if (!regs[i].present)
            continue;
        struct es_expert_ref who = {i, opt->experts[i], outcomes[i].expert_name};
        if (es_output_registration(opt->out, &who, &regs[i].msg, opt->json) != 0) {
            fprintf(diag, "expert-broker: cannot write the listing: %s\n", strerror(errno));
            status = ES_EXIT_INTERNAL;
            goto out;
        }
    }
    report_load_failures(outcomes, count, diag);
    for (size_t i = 0; i < count; i++) {
        if (!regs[i].present && !es_outcome_is_load_failure(outcomes[i].kind) &&
            outcomes[i].kind != ES_OUTCOME_NOT_RUN)
            fprintf(diag, "expert-broker: %s: the worker ended before registering: %s\n",
                    opt->experts[i], outcomes[i].detail);
    }
    status = exit_status_of(outcomes, count, opt->sandbox.required_layers);
out:
    if (fds)
        close_all(fds, count);
    free(fds);
    if (outcomes)
        for (size_t i = 0; i < count; i++)
            es_outcome_free(&outcomes[i]);
    free(outcomes);
    free(regs);
    return status;
}

enum es_exit es_configure(const struct es_configure_options *opt)
{
    FILE *diag = diagnostics_of(opt->diagnostics);
    const char *experts[1] = {opt->expert};
    int fd = -1;
    struct es_outcome outcome;
    struct es_registration registration;
    memset(&registration, 0, sizeof registration);
    es_outcome_init(&outcome, 0, opt->expert);
    struct es_capture capture = {.fd = -1};
    struct es_config_blob *configs = NULL;
    struct es_config_blob fresh = {NULL, 0};
    enum es_exit status = ES_EXIT_OK;
    char *path = config_path_for(&opt->startup, opt->expert);
    char why[512];

    if (!path) {
        fprintf(diag, "expert-broker: %s: no place to store its configuration: give --config FILE\n",
                opt->expert);
        status = ES_EXIT_USAGE;
        goto out;
    }
    if (!open_experts(experts, 1, &fd, diag)) {
        status = ES_EXIT_EXPERT_FILE;
        goto out;
    }
    if (opt->capture_path) {
        struct es_capture_options copt = {0};
        if (es_capture_load(opt->capture_path, &copt, &capture, why, sizeof why) != ES_CAPTURE_OK) {
            fprintf(diag, "expert-broker: %s: %s\n", opt->capture_path, why);
            status = ES_EXIT_CAPTURE;
            goto out;
        }
    }
    configs = load_configs(&opt->startup, experts, 1, diag);
    if (!configs) {
        status = ES_EXIT_USAGE;
        goto out;
    }
    struct worker_args wa;
    uint64_t quota = ES_DEFAULT_HEAP_QUOTA;
    uint64_t extra = opt->sandbox.extra_memory ? opt->sandbox.extra_memory : ES_DEFAULT_EXTRA_MEMORY;
    if (build_worker_args(&opt->sandbox, quota + capture.size + extra, NULL, &wa, diag) != 0) {
        status = ES_EXIT_USAGE;
        goto out;
    }
    Es__StartupInfo startup = ES__STARTUP_INFO__INIT;
    fill_startup(&startup, opt->capture_path, capture.frame_count, &opt->startup);
    struct es_supervise_config cfg = {
        .mode = ES_SUPERVISE_CONFIGURE,
        .worker_path = opt->worker_path ? opt->worker_path : es_default_worker_path(),
        .count = 1,
        .expert_paths = experts,
        .expert_fds = &fd,
        .heap_quota = quota,
        .jobs = 1,
        .frames_fd = capture.fd,
        .link_type = capture.link_type,
        .snaplen = capture.map ? capture.map->snaplen : 0,
        .startup = &startup,
        .worker_args = wa.argv,
        .required_layers = opt->sandbox.required_layers,
        .grace_seconds = ES_DEFAULT_GRACE_SECONDS,
        .pid_namespace = wants_pid_namespace(&opt->sandbox),
        .configs = configs,
        .new_configs = &fresh,
    };
    if (es_supervise(&cfg, &outcome, &registration) != 0) {
        status = ES_EXIT_INTERNAL;
        goto out;
    }
    report_load_failures(&outcome, 1, diag);
    status = exit_status_of(&outcome, 1, opt->sandbox.required_layers);
    if (outcome.kind != ES_OUTCOME_DONE) {
        if (!es_outcome_is_load_failure(outcome.kind))
            fprintf(diag, "expert-broker: %s: %s; nothing stored\n", opt->expert, outcome.detail);
        /* What the worker printed is the best clue to why it failed; it is
         * the expert's text, so nothing but printable ASCII reaches the
         * terminal. */
        if (outcome.output_tail_len > 0) {
            fprintf(diag, "expert-broker: %s: its output ended with:\n", opt->expert);
            for (size_t i = 0; i < outcome.output_tail_len && i < sizeof outcome.output_tail; i++) {
                unsigned char c = (unsigned char)outcome.output_tail[i];
                fputc(c == '\n' || (c >= 0x20 && c < 0x7f) ? c : '?', diag);
            }
            fputc('\n', diag);
        }
        goto out;
    }
    if (fresh.len == 0) {
        printf("%s: Configure left no configuration; %s is unchanged\n", opt->expert, path);
        goto out;
    }
    if (es_config_write(path, &fresh, why, sizeof why) != 0) {
        fprintf(diag, "expert-broker: %s: %s\n", path, why);
        status = ES_EXIT_INTERNAL;
        goto out;
    }
    printf("%s: stored %zu bytes of configuration in %s\n", opt->expert, fresh.len, path);
out:
    free(fresh.data);
    free_configs(configs, 1);
    if (fd >= 0)
        close(fd);
    es_capture_close(&capture);
    es_outcome_free(&outcome);
    free(path);
    return status;
}
