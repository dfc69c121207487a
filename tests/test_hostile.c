/*
 * test_hostile.c - every hostile expert of tests/experts/hostile, run
 * in-process through the broker library (es_run) next to the well-behaved
 * counter, with real workers, real seccomp and real signals.
 *
 * For each expert the test checks:
 *   - the outcome kind, exactly, and the detail that makes it that kind:
 *     the system call and architecture the kernel reported, the signal, the
 *     exit status, what the detail line says;
 *   - that the counter beside it still came out "done" with its one event:
 *     one expert's attack costs the others nothing;
 *   - that the run left no descriptor and no mapping behind in this process
 *     (the broker is a library: whatever it leaks, its embedder keeps).
 *
 * Two more tests: a root broker's workers run as "nobody", not root; and
 * the counter and protodist come out "done" with each optional confinement
 * layer switched off in turn, and with all of them off.
 *
 * Nothing here is timed.  The timeout cases use a 1 s timeout and a 0.5 s
 * grace period (the polite expert a long grace it never needs), and assert
 * what the broker says happened, not how long it took; every other case
 * gets a long timeout only as a safety net, so that a sandbox that failed
 * to stop an attack shows up as a wrong outcome instead of a hung test.
 *
 * Where the truth depends on the kernel (int $0x80 without IA32
 * emulation) the test asks the kernel first; where it depends on the build
 * (RLIMIT_AS is not applied under AddressSanitizer) the case says so and
 * is skipped there.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker.h"
#include "harness.h"
#include "netmon.h"
#include "wire.h"

#ifndef HOSTILE_DIR
#error "HOSTILE_DIR must name the directory of the built hostile experts"
#endif
#ifndef HOSTILE_UNDER_ASAN
#define HOSTILE_UNDER_ASAN 0
#endif

/* What outcomes[0] must be, beyond its kind. */
struct expectation {
    enum es_outcome_kind kind;
    const char *syscall;     /* violation: the call as the kernel named it */
    const char *arch;        /* violation: NULL means "x86_64" */
    const char *path;        /* violation: the path argument, when the call has one */
    int signal;              /* crashed, cpu_limit: the signal that ended it */
};

struct run_limits {
    double timeout_seconds;  /* 0: the safety net below */
    double grace_seconds;    /* 0: SHORT_GRACE */
    uint64_t cpu_seconds;
    uint64_t heap_quota;     /* 0: the broker's default */
    bool keep_json;          /* the check reads the JSON Lines */
    const char *skip_under_asan;  /* why the case cannot hold under AddressSanitizer */
};

/* What a run left for the checks to look at. */
struct hostile_run {
    struct es_run_result result;
    enum es_exit exit_code;
    char *json;              /* JSON Lines, when kept */
    char *diagnostics;       /* what the broker wrote on its diagnostics stream */
    size_t fds_before, fds_after;
    size_t maps_before, maps_after;
    char *maps_text_before;  /* to name the mappings a run added */
};

struct hostile_case {
    const char *expert;
    struct expectation expect;
    /* More to check, or NULL. */
    void (*check)(const struct es_outcome *o, const struct hostile_run *run);
    /* Adjusts the expectation to what the running kernel offers, or NULL. */
    void (*adjust)(struct expectation *e);
    struct run_limits limits;
};

#define SAFETY_TIMEOUT 60.0
#define SHORT_TIMEOUT 1.0
#define SHORT_GRACE 0.5
#define SMALL_HEAP (1024u * 1024u)

/* The helpers below run both inside tests and in the warm-up before them,
 * where Check's assertions cannot report (they record even a success). */
static bool inside_tests;

#define REQUIRE(condition, ...)                                                                    \
    do {                                                                                           \
        if (inside_tests) {                                                                        \
            ck_assert_msg(condition, __VA_ARGS__);                                                 \
        } else if (!(condition)) {                                                                 \
            fprintf(stderr, "test_hostile: " __VA_ARGS__);                                         \
            fputc('\n', stderr);                                                                   \
            exit(EXIT_FAILURE);                                                                    \
        }                                                                                          \
    } while (0)

/* ------------------------------------------------------------------------ */
/* The process's own resources                                              */
/* ------------------------------------------------------------------------ */

static size_t count_open_fds(void)
{
    DIR *dir = opendir("/proc/self/fd");
    REQUIRE(dir != NULL, "cannot list /proc/self/fd");
    size_t n = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL;)
        if (e->d_name[0] != '.')
            n++;
    closedir(dir);
    return n - 1;   /* the directory's own descriptor */
}

/*
 * Which lines of /proc/self/maps count as mappings something holds on to.
 *
 * The malloc heap counts once: after a fork, the kernel cannot merge the
 * child's brk growth with the [heap] it inherited, so a run that only grew
 * malloc's heap shows a second [heap] line.  That is memory, not a mapping
 * (the sanitizer build checks memory leaks).
 *
 * Under AddressSanitizer its allocator maps the memory it hands out piece
 * by piece inside a reserved range, so anonymous mappings come and go with
 * every allocation pattern; there only named mappings count: files, and
 * the memfds the broker maps (heap control pages, frame stores).  The
 * plain build counts every line.
 */
static bool counts_as_mapping(const char *line, bool *heap_seen)
{
    if (strstr(line, "[heap]")) {
        bool first = !*heap_seen;
        *heap_seen = true;
        return first;
    }
    if (!HOSTILE_UNDER_ASAN)
        return true;
    int path_at = 0;
    if (sscanf(line, "%*s %*s %*s %*s %*s %n", &path_at) < 0 || path_at == 0)
        return false;
    return line[path_at] != '\0' && line[path_at] != '\n';
}

static size_t count_mappings(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    REQUIRE(f != NULL, "cannot read /proc/self/maps");
    size_t n = 0;
    bool heap_seen = false;
    char line[4096];
    while (fgets(line, sizeof line, f))
        n += counts_as_mapping(line, &heap_seen);
    fclose(f);
    return n;
}

/* The whole of /proc/self/maps, to name what a leak left behind. */
static char *read_mappings(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    REQUIRE(f != NULL, "cannot read /proc/self/maps");
    char *text = NULL;
    size_t size = 0;
    FILE *copy = open_memstream(&text, &size);
    REQUIRE(copy != NULL, "out of memory");
    for (int c; (c = getc(f)) != EOF;)
        putc(c, copy);
    fclose(f);
    fclose(copy);
    return text;
}

/* The lines of `after` that `before` does not have. */
static char *added_lines(const char *before, const char *after)
{
    char *added = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&added, &size);
    REQUIRE(out != NULL, "out of memory");
    size_t before_len = strlen(before);
    for (const char *line = after; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) + 1 : strlen(line);
        bool found = false;
        const char *from = before;
        for (const char *p; !found && (p = memmem(from, before_len - (size_t)(from - before), line, len));
             from = p + 1)
            found = p == before || p[-1] == '\n';
        char copy[4096];
        snprintf(copy, sizeof copy, "%.*s", (int)len, line);
        bool heap_seen = true;   /* no [heap] line is news */
        if (!found && counts_as_mapping(copy, &heap_seen))
            fwrite(line, 1, len, out);
        line += len;
    }
    fclose(out);
    return added;
}

static char *read_stream(FILE *f)
{
    if (fseek(f, 0, SEEK_END) != 0)
        return strdup("");
    long size = ftell(f);
    rewind(f);
    char *text = malloc(size > 0 ? (size_t)size + 1 : 1);
    REQUIRE(text != NULL, "out of memory");
    size_t got = size > 0 ? fread(text, 1, (size_t)size, f) : 0;
    text[got] = '\0';
    return text;
}

/* ------------------------------------------------------------------------ */
/* Running the broker                                                       */
/* ------------------------------------------------------------------------ */

static const char *env_or_fail(const char *name)
{
    const char *value = getenv(name);
    REQUIRE(value != NULL && *value != '\0', "%s is not set (run through meson test)", name);
    return value;
}

static void hostile_path(const char *expert, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/%s.so", HOSTILE_DIR, expert);
    REQUIRE(n > 0 && (size_t)n < len, "path too long");
}

/*
 * One es_run of the given experts, measured: descriptors and mappings are
 * counted before anything of the run exists and after everything of it is
 * closed, except the two small text buffers and the result, which come from
 * the malloc heap (no new mapping).
 */
static void run_experts(const char *const *experts, size_t count, const struct run_limits *limits,
                        uint32_t disabled_layers, struct hostile_run *run)
{
    memset(run, 0, sizeof *run);
    run->fds_before = count_open_fds();
    run->maps_text_before = read_mappings();
    run->maps_before = count_mappings();

    char *json_text = NULL;
    size_t json_len = 0;
    FILE *json = limits->keep_json ? open_memstream(&json_text, &json_len) : fopen("/dev/null", "w");
    REQUIRE(json != NULL, "cannot open the JSON stream");
    FILE *diagnostics = tmpfile();
    REQUIRE(diagnostics != NULL, "cannot create the diagnostics file");

    struct es_run_options opt;
    memset(&opt, 0, sizeof opt);
    opt.capture_path = env_or_fail("ES_SAMPLE_PCAP");
    opt.worker_path = env_or_fail("ES_WORKER");
    opt.experts = experts;
    opt.expert_count = count;
    opt.heap_quota = limits->heap_quota;
    opt.jobs = 2;
    opt.json = json;
    opt.diagnostics = diagnostics;
    opt.table = false;
    opt.handle_signals = false;
    opt.timeout_seconds = limits->timeout_seconds > 0 ? limits->timeout_seconds : SAFETY_TIMEOUT;
    opt.grace_seconds = limits->grace_seconds > 0 ? limits->grace_seconds : SHORT_GRACE;
    opt.sandbox.cpu_seconds = limits->cpu_seconds;
    opt.sandbox.disabled_layers = disabled_layers;

    run->exit_code = es_run(&opt, &run->result);

    REQUIRE(fclose(json) == 0, "cannot close the JSON stream");
    run->json = limits->keep_json ? json_text : NULL;
    run->diagnostics = read_stream(diagnostics);
    fclose(diagnostics);

    run->fds_after = count_open_fds();
    run->maps_after = count_mappings();
}

static void hostile_run_free(struct hostile_run *run)
{
    es_run_result_free(&run->result);
    free(run->json);
    free(run->diagnostics);
    free(run->maps_text_before);
}

/* One line about an outcome, for failure messages. */
static const char *describe(const struct es_outcome *o, char *buf, size_t len)
{
    char sig[32];
    snprintf(buf, len,
             "%s: %s (detail \"%s\"; signal %s; exit %d; violation %s/%s path \"%s\"; events %llu; "
             "output tail \"%.300s\")",
             o->expert_path, es_outcome_name(o->kind), o->detail,
             o->signal ? es_signal_name(o->signal, sig, sizeof sig) : "none", o->exit_status,
             o->has_violation ? o->violation_syscall : "-", o->has_violation ? o->violation_arch : "-",
             o->violation_path, (unsigned long long)o->events,
             o->output_tail_len > 300 ? o->output_tail + o->output_tail_len - 300 : o->output_tail);
    return buf;
}

/* The run's exit status follows from the hostile expert's outcome (the
 * counter beside it is done). */
static enum es_exit exit_for(enum es_outcome_kind kind)
{
    if (kind == ES_OUTCOME_DONE)
        return ES_EXIT_OK;
    if (es_outcome_is_load_failure(kind))
        return ES_EXIT_EXPERT_FILE;
    return ES_EXIT_EXPERT_FAILED;
}

static void assert_counter_done(const struct es_outcome *counter)
{
    char what[2048];
    ck_assert_msg(counter->kind == ES_OUTCOME_DONE, "the counter beside it: %s",
                  describe(counter, what, sizeof what));
    ck_assert_msg(counter->events == 1, "the counter beside it sent %llu events, not 1",
                  (unsigned long long)counter->events);
}

static void assert_nothing_leaked(const struct hostile_run *run)
{
    ck_assert_msg(run->fds_after == run->fds_before, "%zu descriptors open after the run, %zu before",
                  run->fds_after, run->fds_before);
    if (run->maps_after != run->maps_before) {
        char *now = read_mappings();
        char *added = added_lines(run->maps_text_before, now);
        ck_abort_msg("%zu mappings after the run, %zu before; new:\n%s", run->maps_after, run->maps_before,
                     added);
    }
}

static bool json_has(const struct hostile_run *run, const char *needle)
{
    return run->json != NULL && strstr(run->json, needle) != NULL;
}

/* ------------------------------------------------------------------------ */
/* Checks beyond the kind                                                    */
/* ------------------------------------------------------------------------ */

static void detail_has(const struct es_outcome *o, const char *words)
{
    ck_assert_msg(strstr(o->detail, words) != NULL, "%s: detail \"%s\" does not say \"%s\"", o->expert_path,
                  o->detail, words);
}

static void never_registered(const struct es_outcome *o)
{
    ck_assert_msg(o->expert_name == NULL, "%s registered as \"%s\"", o->expert_path, o->expert_name);
}

static void check_fault_at_zero(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    ck_assert_msg(o->has_fault_address && o->fault_address == 0, "fault address %s%#llx, not 0",
                  o->has_fault_address ? "" : "(none) ", (unsigned long long)o->fault_address);
}

static void check_fault_at_one(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    ck_assert_msg(o->has_fault_address && o->fault_address == 1, "fault address %s%#llx, not 0x1",
                  o->has_fault_address ? "" : "(none) ", (unsigned long long)o->fault_address);
    detail_has(o, "inside Run");
}

static void check_has_fault_address(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    ck_assert_msg(o->has_fault_address && o->fault_address != 0, "no fault address for a memory fault");
}

/* Workers run under an init of the broker's, which sees the fault's
 * siginfo: the address is the kernel's, the forged record loses. */
static void check_kernel_fault_address(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    if (!hx_can_trace_child()) {
        fprintf(stderr, "SKIP forged_crash_record address: ptrace is refused here, so the worker's own "
                        "record is all the broker has\n");
        return;
    }
    ck_assert_msg(o->has_fault_address && o->fault_address == 0x40, "fault address %s%#llx, not the kernel's 0x40",
                  o->has_fault_address ? "" : "(none) ", (unsigned long long)o->fault_address);
    detail_has(o, "(fault at 0x40)");
}

static void check_crashed_loading(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    never_registered(o);
    detail_has(o, "while loading or in Register");
}

static void check_killed_after_grace(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    detail_has(o, "killed after ignoring the terminate request");
    ck_assert(!o->has_run_result);
}

static void check_register_hang(const struct es_outcome *o, const struct hostile_run *run)
{
    check_killed_after_grace(o, run);
    never_registered(o);
}

static void check_returned_in_grace(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    detail_has(o, "Run returned TRUE");
    ck_assert(o->has_run_result && o->run_result);
    ck_assert_msg(o->signal == 0 && o->exit_status == 0, "a polite expert was killed (signal %d, exit %d)",
                  o->signal, o->exit_status);
}

static void check_exit_3(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    ck_assert_int_eq(o->exit_status, 3);
    ck_assert(!o->has_run_result);
    detail_has(o, "inside Run");
}

static void check_constructor_exit(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    ck_assert_int_eq(o->exit_status, 7);
    never_registered(o);
}

static void check_broker_gone_exit(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    ck_assert_int_eq(o->exit_status, ES_WORKER_EXIT_BROKER_GONE);
    ck_assert(!o->has_run_result);
}

static void check_problem_with_one_event(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    ck_assert_msg(o->has_run_result && !o->run_result, "Run did not return FALSE");
    ck_assert_uint_eq(o->events, 1);
}

static void check_heap_quota(const struct es_outcome *o, const struct hostile_run *run)
{
    check_problem_with_one_event(o, run);
    char column[96];
    snprintf(column, sizeof column, "{\"name\":\"Error\",\"type\":\"uint32\",\"value\":%d}", NMERR_OUT_OF_MEMORY);
    ck_assert_msg(json_has(run, column), "no %s in the output:\n%s", column, run->json ? run->json : "");
    ck_assert_msg(o->heap_peak <= SMALL_HEAP, "heap peak %llu above the quota", (unsigned long long)o->heap_peak);
}

static void check_run_returned_false(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    ck_assert_msg(o->has_run_result && !o->run_result, "Run did not return FALSE");
}

static void check_control_scribble(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    ck_assert_msg(o->heap_peak <= o->heap_quota && o->heap_in_use <= o->heap_quota,
                  "scribbled heap figures believed: peak %llu, in use %llu, quota %llu",
                  (unsigned long long)o->heap_peak, (unsigned long long)o->heap_in_use,
                  (unsigned long long)o->heap_quota);
    ck_assert_msg(o->last_frame == -1, "scribbled last frame believed: %lld", (long long)o->last_frame);
    ck_assert_msg(!o->has_fault_address, "a crash record without a crash was believed");
}

static void check_af_inet(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    ck_assert_uint_eq(o->violation_args[0], AF_INET);
}

static void check_af_unix(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    ck_assert_uint_eq(o->violation_args[0], AF_UNIX);
}


static void check_sigkill_argument(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    ck_assert_uint_eq(o->violation_args[1], SIGKILL);
}

static void check_kill_everyone(const struct es_outcome *o, const struct hostile_run *run)
{
    check_sigkill_argument(o, run);
    ck_assert_int_eq((int)o->violation_args[0], -1);
}

static void check_tiocsti(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    ck_assert_uint_eq(o->violation_args[1], TIOCSTI);
}

static void check_prot_exec(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    ck_assert_msg(o->violation_args[2] & PROT_EXEC, "protection %#llx has no PROT_EXEC",
                  (unsigned long long)o->violation_args[2]);
}


static void check_sigstop(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    ck_assert_uint_eq(o->violation_args[2], SIGSTOP);   /* tgkill(tgid, tid, sig) */
}

static void check_clone_newuser(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    ck_assert_msg(o->violation_args[0] & CLONE_NEWUSER, "clone flags %#llx lack CLONE_NEWUSER",
                  (unsigned long long)o->violation_args[0]);
}

static void check_new_cpu_limit(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    ck_assert_uint_eq(o->violation_args[1], RLIMIT_CPU);
    ck_assert_msg(o->violation_args[2] != 0, "prlimit64 without a new limit is allowed, not a violation");
}

static void check_garbage(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    detail_has(o, "undecodable");
}

static void check_oversized(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    char words[64];
    snprintf(words, sizeof words, "exceeds the %d-byte limit", ES_MAX_MESSAGE);
    detail_has(o, words);
}

/* The passed descriptor is closed by the broker: the generic descriptor
 * count of every case checks that, this one checks the reason. */
static void check_descriptor_refused(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    detail_has(o, "a descriptor came with a message that takes none");
}

static void check_hello_refused(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    detail_has(o, "hello out of order");
}

static void check_filter_flood(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    detail_has(o, "too many filter requests");
}

static void check_event_flood(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    ck_assert_uint_eq(o->events, 200000);
}

/* A corrupted event ring: the worker is condemned for it, and the three
 * valid events it submitted first are delivered, whole. */
static void check_ring_violation(const struct es_outcome *o, const struct hostile_run *run, const char *why)
{
    detail_has(o, "event ring: ");
    detail_has(o, why);
    ck_assert_uint_eq(o->events, 3);
    for (int n = 1; n <= 3; n++) {
        char column[80];
        snprintf(column, sizeof column, "{\"name\":\"n\",\"type\":\"uint32\",\"value\":%d}", n);
        ck_assert_msg(json_has(run, column), "valid event %d missing:\n%s", n, run->json ? run->json : "");
    }
}

static void check_ring_huge_length(const struct es_outcome *o, const struct hostile_run *run)
{
    check_ring_violation(o, run, "record size out of bounds");
}

static void check_ring_bad_head(const struct es_outcome *o, const struct hostile_run *run)
{
    check_ring_violation(o, run, "is not a record boundary");
}

static void check_ring_garbage(const struct es_outcome *o, const struct hostile_run *run)
{
    check_ring_violation(o, run, "");
}

static void check_ring_write_then_crash(const struct es_outcome *o, const struct hostile_run *run)
{
    check_ring_violation(o, run, "text past the end of its record");
    /* The broker may be draining while the record is published: then it
     * condemns (SIGKILL) the worker before the fault; else it finds the
     * record after the SIGSEGV.  Either way, the same outcome. */
    ck_assert_msg(o->signal == SIGSEGV || o->signal == SIGKILL, "ended by signal %d", o->signal);
}

static void check_ring_full(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    ck_assert_uint_eq(o->events, 3000);
}

static void check_events_then_segv(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    ck_assert_uint_eq(o->events, 200000);
}

static void check_one_truncated_event(const struct es_outcome *o, const struct hostile_run *run)
{
    ck_assert_uint_eq(o->events, 1);
    ck_assert_msg(json_has(run, "\"truncated\":true"), "the event is not marked truncated");
}

static void check_status_flood(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    ck_assert(o->has_status && o->status == EXPERTSTATUS_DONE && o->percent == 100);
}

static void check_output_tail(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    static const char last_line[] = "stdout flood: the end\n";
    ck_assert_msg(o->output_tail_len > 0 && o->output_tail_len <= sizeof o->output_tail,
                  "output tail of %zu bytes", o->output_tail_len);
    ck_assert_msg(o->output_tail_cut, "10 MiB of output, and the tail is not marked cut");
    ck_assert_msg(o->output_tail_len >= sizeof last_line - 1 &&
                      memcmp(o->output_tail + o->output_tail_len - (sizeof last_line - 1), last_line,
                             sizeof last_line - 1) == 0,
                  "the tail does not end with the expert's last line");
}

static void check_name_bounded(const struct es_outcome *o, const struct hostile_run *run)
{
    (void)run;
    ck_assert_ptr_nonnull(o->expert_name);
    ck_assert_msg(strlen(o->expert_name) <= EXPERTSTRINGLENGTH, "expert name of %zu bytes",
                  strlen(o->expert_name));
}

/* ------------------------------------------------------------------------ */
/* What the running kernel offers                                           */
/* ------------------------------------------------------------------------ */

/* Whether int $0x80 reaches the i386 system-call table here: some kernels
 * (no IA32 emulation, or switched off at boot) answer it with a general
 * protection fault before any system call, and so before seccomp. */
static bool kernel_has_int80(void)
{
#if defined(__x86_64__)
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        /* Let the kernel kill the probe quietly, whatever handler a
         * sanitizer installed. */
        signal(SIGSEGV, SIG_DFL);
        long result = 20;   /* getpid */
        __asm__ volatile("int $0x80" : "+a"(result) : : "memory");
        _exit(result == (long)getpid() ? 0 : 1);
    }
    int status;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
#else
    return false;
#endif
}

static void adjust_int80(struct expectation *e)
{
    if (!kernel_has_int80()) {
        fprintf(stderr, "int80: this kernel has no i386 system-call entry; expecting SIGSEGV\n");
        *e = (struct expectation){.kind = ES_OUTCOME_CRASHED, .signal = SIGSEGV};
    }
}

/* ------------------------------------------------------------------------ */
/* The cases                                                                */
/* ------------------------------------------------------------------------ */

#define CRASH(sig) {.kind = ES_OUTCOME_CRASHED, .signal = (sig)}
#define VIOLATION(call) {.kind = ES_OUTCOME_VIOLATION, .syscall = (call)}
#define VIOLATION_ON(call, file) {.kind = ES_OUTCOME_VIOLATION, .syscall = (call), .path = (file)}
#define KIND(k) {.kind = (k)}

#define NO_LIMITS {.timeout_seconds = 0}
#define TIMEOUT_LIMITS {.timeout_seconds = SHORT_TIMEOUT, .grace_seconds = SHORT_GRACE}
#define CPU_LIMITS {.cpu_seconds = 1}
#define SMALL_HEAP_LIMITS {.heap_quota = SMALL_HEAP}

static const char no_rlimit_as_under_asan[] =
    "AddressSanitizer needs terabytes of address space, so the worker sets no RLIMIT_AS under it";

static const struct hostile_case cases[] = {
    /* Crashes. */
    {"null_deref", CRASH(SIGSEGV), check_fault_at_zero, NULL, NO_LIMITS},
    {"abort_call", CRASH(SIGABRT), NULL, NULL, NO_LIMITS},
    {"illegal_instruction", CRASH(SIGILL), check_has_fault_address, NULL, NO_LIMITS},
    {"breakpoint", CRASH(SIGTRAP), NULL, NULL, NO_LIMITS},
    {"divide_by_zero", CRASH(SIGFPE), check_has_fault_address, NULL, NO_LIMITS},
    {"stack_overflow", CRASH(SIGSEGV), check_has_fault_address, NULL, NO_LIMITS},
    {"stack_overflow_no_altstack", CRASH(SIGSEGV), NULL, NULL, NO_LIMITS},
    {"frame_store_write", CRASH(SIGSEGV), check_has_fault_address, NULL, NO_LIMITS},
    {"execute_heap", CRASH(SIGSEGV), check_has_fault_address, NULL, NO_LIMITS},
    {"bad_event_pointer", CRASH(SIGSEGV), check_fault_at_one, NULL, NO_LIMITS},
    {"forged_crash_record", CRASH(SIGSEGV), check_kernel_fault_address, NULL, NO_LIMITS},
    {"register_stack_smash", CRASH(SIGSEGV), check_crashed_loading, NULL, NO_LIMITS},
    {"constructor_crash", CRASH(SIGSEGV), check_crashed_loading, NULL, NO_LIMITS},
    /* SIGKILL from the expert itself must not pass for the OOM killer. */
    {"self_sigkill", VIOLATION("kill"), check_sigkill_argument, NULL, NO_LIMITS},

    /* Running too long. */
    {"busy_loop", KIND(ES_OUTCOME_TIMEOUT), check_killed_after_grace, NULL, TIMEOUT_LIMITS},
    {"ignore_terminate", KIND(ES_OUTCOME_TIMEOUT), check_killed_after_grace, NULL, TIMEOUT_LIMITS},
    /* A long grace: the expert returns at its next helper call, so the run
     * is no slower, and a loaded machine cannot make it miss the grace. */
    {"polite_terminate", KIND(ES_OUTCOME_TIMEOUT), check_returned_in_grace, NULL,
     {.timeout_seconds = SHORT_TIMEOUT, .grace_seconds = 10.0}},
    {"register_hang", KIND(ES_OUTCOME_TIMEOUT), check_register_hang, NULL, TIMEOUT_LIMITS},
    {"sleep_forever", KIND(ES_OUTCOME_TIMEOUT), check_killed_after_grace, NULL, TIMEOUT_LIMITS},
    {"segv_handler_loop", KIND(ES_OUTCOME_TIMEOUT), check_killed_after_grace, NULL, TIMEOUT_LIMITS},
    {"cpu_burn", {.kind = ES_OUTCOME_CPU_LIMIT, .signal = SIGXCPU}, NULL, NULL, CPU_LIMITS},
    {"cpu_burn_ignore_xcpu", {.kind = ES_OUTCOME_CPU_LIMIT, .signal = SIGKILL}, NULL, NULL, CPU_LIMITS},

    /* Ending in ways of its own. */
    {"exit_in_run", KIND(ES_OUTCOME_PROBLEM), check_exit_3, NULL, NO_LIMITS},
    {"constructor_exit", KIND(ES_OUTCOME_LOAD_FAILED), check_constructor_exit, NULL, NO_LIMITS},
    {"close_control", KIND(ES_OUTCOME_PROBLEM), check_broker_gone_exit, NULL, NO_LIMITS},
    {"destructor_socket", KIND(ES_OUTCOME_DONE), NULL, NULL, NO_LIMITS},

    /* Memory. */
    {"heap_quota", KIND(ES_OUTCOME_PROBLEM), check_heap_quota, NULL,
     {.heap_quota = SMALL_HEAP, .keep_json = true}},
    {"malloc_exhaust", KIND(ES_OUTCOME_PROBLEM), check_problem_with_one_event, NULL,
     {.skip_under_asan = no_rlimit_as_under_asan}},
    {"mmap_exhaust", KIND(ES_OUTCOME_PROBLEM), check_run_returned_false, NULL,
     {.skip_under_asan = no_rlimit_as_under_asan}},
    {"double_free", KIND(ES_OUTCOME_DONE), NULL, NULL, NO_LIMITS},
    {"foreign_free", KIND(ES_OUTCOME_DONE), NULL, NULL, NO_LIMITS},
    {"realloc_abuse", KIND(ES_OUTCOME_DONE), NULL, NULL, NO_LIMITS},
    {"heap_scribble", KIND(ES_OUTCOME_DONE), NULL, NULL, SMALL_HEAP_LIMITS},
    {"heap_scribble_random", KIND(ES_OUTCOME_DONE), NULL, NULL, SMALL_HEAP_LIMITS},
    {"heap_scribble_blocks", KIND(ES_OUTCOME_DONE), NULL, NULL, SMALL_HEAP_LIMITS},
    {"heap_scribble_freelists", KIND(ES_OUTCOME_DONE), NULL, NULL, SMALL_HEAP_LIMITS},
    {"heap_overflow", KIND(ES_OUTCOME_DONE), NULL, NULL, SMALL_HEAP_LIMITS},
    {"control_scribble", KIND(ES_OUTCOME_DONE), check_control_scribble, NULL, SMALL_HEAP_LIMITS},
    {"frame_store_mprotect", KIND(ES_OUTCOME_DONE), NULL, NULL, NO_LIMITS},

    /* System calls outside the table, named as the kernel reports them. */
    {"fork_bomb", VIOLATION("clone"), NULL, NULL, NO_LIMITS},
    {"vfork_call", VIOLATION("vfork"), NULL, NULL, NO_LIMITS},
    {"thread_create", VIOLATION("clone3"), NULL, NULL, NO_LIMITS},
    {"clone_newuser", VIOLATION("clone"), check_clone_newuser, NULL, NO_LIMITS},
    {"exec_shell", VIOLATION_ON("execve", "/bin/sh"), NULL, NULL, NO_LIMITS},
    {"execveat_shell", VIOLATION_ON("execveat", "/bin/sh"), NULL, NULL, NO_LIMITS},
    {"read_passwd", VIOLATION_ON("openat", "/etc/passwd"), NULL, NULL, NO_LIMITS},
    {"create_tmp_file", VIOLATION_ON("openat", "/tmp/expert-sandbox-hostile-drop"), NULL, NULL, NO_LIMITS},
    {"proc_self_mem", VIOLATION_ON("openat", "/proc/self/mem"), NULL, NULL, NO_LIMITS},
    {"tcp_connect", VIOLATION("socket"), check_af_inet, NULL, NO_LIMITS},
    {"abstract_unix", VIOLATION("socket"), check_af_unix, NULL, NO_LIMITS},
    {"kill_parent", VIOLATION("kill"), check_sigkill_argument, NULL, NO_LIMITS},
    {"kill_all", VIOLATION("kill"), check_kill_everyone, NULL, NO_LIMITS},
    {"ptrace_parent", VIOLATION("ptrace"), NULL, NULL, NO_LIMITS},
    {"process_vm_writev_parent", VIOLATION("process_vm_writev"), NULL, NULL, NO_LIMITS},
    {"tiocsti", VIOLATION("ioctl"), check_tiocsti, NULL, NO_LIMITS},
    {"mprotect_exec", VIOLATION("mprotect"), check_prot_exec, NULL, NO_LIMITS},
    {"mmap_exec", VIOLATION("mmap"), check_prot_exec, NULL, NO_LIMITS},
    {"io_uring", VIOLATION("io_uring_setup"), NULL, NULL, NO_LIMITS},
    {"int80", {.kind = ES_OUTCOME_VIOLATION, .syscall = "getpid", .arch = "x86"}, NULL, adjust_int80, NO_LIMITS},
    {"x32_syscall", {.kind = ES_OUTCOME_VIOLATION, .syscall = "x32 syscall 39", .arch = "x32"}, NULL, NULL,
     NO_LIMITS},
    {"sigstop_self", VIOLATION("tgkill"), check_sigstop, NULL, NO_LIMITS},
    {"bpf_call", VIOLATION("bpf"), NULL, NULL, NO_LIMITS},
    {"userfaultfd_call", VIOLATION("userfaultfd"), NULL, NULL, NO_LIMITS},
    {"perf_event_open_call", VIOLATION("perf_event_open"), NULL, NULL, NO_LIMITS},
    {"mount_call", VIOLATION("mount"), NULL, NULL, NO_LIMITS},
    {"unshare_call", VIOLATION("unshare"), NULL, NULL, NO_LIMITS},
    {"setns_call", VIOLATION("setns"), NULL, NULL, NO_LIMITS},
    {"keyctl_call", VIOLATION("keyctl"), NULL, NULL, NO_LIMITS},
    {"personality_call", VIOLATION("personality"), NULL, NULL, NO_LIMITS},
    {"prctl_dumpable", VIOLATION("prctl"), NULL, NULL, NO_LIMITS},
    {"setuid_root", VIOLATION("setuid"), NULL, NULL, NO_LIMITS},
    {"chroot_call", VIOLATION("chroot"), NULL, NULL, NO_LIMITS},
    {"pidfd_open_parent", VIOLATION("pidfd_open"), NULL, NULL, NO_LIMITS},
    {"memfd_create_call", VIOLATION("memfd_create"), NULL, NULL, NO_LIMITS},
    {"seccomp_listener", VIOLATION("seccomp"), NULL, NULL, NO_LIMITS},
    {"dup2_control", VIOLATION("dup2"), NULL, NULL, NO_LIMITS},
    {"raise_rlimit", VIOLATION("prlimit64"), check_new_cpu_limit, NULL, NO_LIMITS},
    /* Allowed by the table (the pool's hand-over sets RLIMIT_AS), refused by
     * the kernel: the worker can only lower it. */
    {"raise_address_space", KIND(ES_OUTCOME_DONE), NULL, NULL, NO_LIMITS},
    {"reboot_call", VIOLATION("reboot"), NULL, NULL, NO_LIMITS},
    {"init_module_call", VIOLATION("init_module"), NULL, NULL, NO_LIMITS},
    {"iopl_call", VIOLATION("iopl"), NULL, NULL, NO_LIMITS},
    {"modify_ldt_call", VIOLATION("modify_ldt"), NULL, NULL, NO_LIMITS},
    {"open_by_handle", VIOLATION("open_by_handle_at"), NULL, NULL, NO_LIMITS},

    /* While being loaded, before Register. */
    {"constructor_socket", VIOLATION("socket"), check_af_inet, NULL, NO_LIMITS},
    {"constructor_execve", VIOLATION_ON("execve", "/bin/sh"), NULL, NULL, NO_LIMITS},
    {"constructor_mmap_exec", VIOLATION("mmap"), check_prot_exec, NULL, NO_LIMITS},
    {"constructor_mprotect_exec", VIOLATION("mprotect"), check_prot_exec, NULL, NO_LIMITS},
    {"constructor_open", KIND(ES_OUTCOME_DONE), NULL, NULL, NO_LIMITS},

    /* The control protocol. */
    {"garbage_datagram", KIND(ES_OUTCOME_PROTOCOL_ERROR), check_garbage, NULL, NO_LIMITS},
    {"oversized_datagram", KIND(ES_OUTCOME_PROTOCOL_ERROR), check_oversized, NULL, NO_LIMITS},
    {"scm_rights", KIND(ES_OUTCOME_PROTOCOL_ERROR), check_descriptor_refused, NULL, NO_LIMITS},
    {"forged_hello", KIND(ES_OUTCOME_PROTOCOL_ERROR), check_hello_refused, NULL, NO_LIMITS},
    {"filter_compile_flood", KIND(ES_OUTCOME_PROTOCOL_ERROR), check_filter_flood, NULL, NO_LIMITS},

    /* Volume and malformed data through the API. */
    {"event_flood", KIND(ES_OUTCOME_DONE), check_event_flood, NULL, NO_LIMITS},
    {"status_flood", KIND(ES_OUTCOME_DONE), check_status_flood, NULL, NO_LIMITS},
    {"stdout_flood", KIND(ES_OUTCOME_DONE), check_output_tail, NULL, NO_LIMITS},
    {"huge_description", KIND(ES_OUTCOME_DONE), check_one_truncated_event, NULL, {.keep_json = true}},
    {"column_bomb", KIND(ES_OUTCOME_DONE), check_one_truncated_event, NULL, {.keep_json = true}},
    {"register_no_nul", KIND(ES_OUTCOME_DONE), check_name_bounded, NULL, NO_LIMITS},
    {"register_private_fields", KIND(ES_OUTCOME_DONE), NULL, NULL, NO_LIMITS},
    {"wrong_key", KIND(ES_OUTCOME_DONE), NULL, NULL, NO_LIMITS},
    {"frame_api_abuse", KIND(ES_OUTCOME_DONE), NULL, NULL, NO_LIMITS},

    /* The event ring. */
    {"ring_huge_length", KIND(ES_OUTCOME_PROTOCOL_ERROR), check_ring_huge_length, NULL, {.keep_json = true}},
    {"ring_bad_head", KIND(ES_OUTCOME_PROTOCOL_ERROR), check_ring_bad_head, NULL, {.keep_json = true}},
    {"ring_garbage", KIND(ES_OUTCOME_PROTOCOL_ERROR), check_ring_garbage, NULL, {.keep_json = true}},
    {"ring_write_then_crash", KIND(ES_OUTCOME_PROTOCOL_ERROR), check_ring_write_then_crash, NULL,
     {.keep_json = true}},
    {"ring_full", KIND(ES_OUTCOME_DONE), check_ring_full, NULL, NO_LIMITS},
    {"events_then_segv", CRASH(SIGSEGV), check_events_then_segv, NULL, NO_LIMITS},
};

#define CASE_COUNT ((int)(sizeof cases / sizeof *cases))

static void assert_expectation(const struct es_outcome *o, const struct expectation *e)
{
    char what[2048];
    describe(o, what, sizeof what);
    ck_assert_msg(o->kind == e->kind, "expected %s, got %s", es_outcome_name(e->kind), what);
    if (e->kind == ES_OUTCOME_VIOLATION) {
        ck_assert_msg(o->has_violation, "a violation without its system call: %s", what);
        ck_assert_msg(strcmp(o->violation_syscall, e->syscall) == 0, "expected a violation by %s: %s",
                      e->syscall, what);
        const char *arch = e->arch ? e->arch : "x86_64";
        ck_assert_msg(strcmp(o->violation_arch, arch) == 0, "expected arch %s: %s", arch, what);
        /* The broker reads the path from the worker's memory, which an
         * unprivileged broker may not be allowed to (the worker is not
         * dumpable): only a root broker must always name it. */
        if (e->path && (geteuid() == 0 || o->violation_path[0] != '\0'))
            ck_assert_msg(strcmp(o->violation_path, e->path) == 0, "expected path \"%s\": %s", e->path, what);
    } else {
        ck_assert_msg(!o->has_violation, "a %s with a violation: %s", es_outcome_name(o->kind), what);
    }
    if (e->signal) {
        char sig[32];
        ck_assert_msg(o->signal == e->signal, "expected %s: %s", es_signal_name(e->signal, sig, sizeof sig), what);
    }
}

START_TEST(test_hostile_expert)
{
    const struct hostile_case *c = &cases[_i];
    if (HOSTILE_UNDER_ASAN && c->limits.skip_under_asan) {
        fprintf(stderr, "SKIP %s: %s\n", c->expert, c->limits.skip_under_asan);
        return;
    }
    struct expectation expect = c->expect;
    if (c->adjust)
        c->adjust(&expect);

    char path[4096];
    hostile_path(c->expert, path, sizeof path);
    const char *experts[] = {path, COUNTER_EXPERT};
    struct hostile_run run;
    run_experts(experts, 2, &c->limits, 0, &run);

    ck_assert_msg(run.result.count == 2, "%s: no outcomes (exit %d): %s", c->expert, (int)run.exit_code,
                  run.diagnostics);
    const struct es_outcome *hostile = &run.result.outcomes[0];
    assert_expectation(hostile, &expect);
    if (c->check)
        c->check(hostile, &run);
    assert_counter_done(&run.result.outcomes[1]);
    ck_assert_msg(run.exit_code == exit_for(expect.kind), "%s: exit status %d, expected %d", c->expert,
                  (int)run.exit_code, (int)exit_for(expect.kind));
    assert_nothing_leaked(&run);
    hostile_run_free(&run);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Who the worker is                                                        */
/* ------------------------------------------------------------------------ */

/* A root broker starts workers as "nobody": the expert sees that user's
 * ids, and reports them as columns. */
START_TEST(test_worker_is_not_root)
{
    if (geteuid() != 0) {
        fprintf(stderr, "SKIP uid_check: the broker is not root, so workers keep the caller's ids\n");
        return;
    }
    struct passwd *nobody = getpwnam("nobody");
    ck_assert_msg(nobody != NULL, "no user \"nobody\" on this system");
    uid_t uid = nobody->pw_uid;
    gid_t gid = nobody->pw_gid;

    char path[4096];
    hostile_path("uid_check", path, sizeof path);
    const char *experts[] = {path, COUNTER_EXPERT};
    struct run_limits limits = {.keep_json = true};
    struct hostile_run run;
    run_experts(experts, 2, &limits, 0, &run);
    ck_assert_uint_eq(run.result.count, 2);
    const struct es_outcome *o = &run.result.outcomes[0];
    struct expectation done = KIND(ES_OUTCOME_DONE);
    assert_expectation(o, &done);
    ck_assert_uint_eq(o->events, 1);
    char column[128];
    snprintf(column, sizeof column, "{\"name\":\"uid\",\"type\":\"uint32\",\"value\":%u}", (unsigned)uid);
    ck_assert_msg(json_has(&run, column), "no %s in:\n%s", column, run.json);
    snprintf(column, sizeof column, "{\"name\":\"euid\",\"type\":\"uint32\",\"value\":%u}", (unsigned)uid);
    ck_assert_msg(json_has(&run, column), "no %s in:\n%s", column, run.json);
    snprintf(column, sizeof column, "{\"name\":\"gid\",\"type\":\"uint32\",\"value\":%u}", (unsigned)gid);
    ck_assert_msg(json_has(&run, column), "no %s in:\n%s", column, run.json);
    assert_counter_done(&run.result.outcomes[1]);
    assert_nothing_leaked(&run);
    hostile_run_free(&run);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Well-behaved experts with layers switched off                           */
/* ------------------------------------------------------------------------ */

static const uint32_t layer_sets[] = {
    ES_LAYER_SECCOMP, ES_LAYER_LANDLOCK, ES_LAYER_NAMESPACES, ES_LAYER_USER, ES_LAYER_RLIMITS, ES_LAYER_ALL,
};

START_TEST(test_layers_switched_off)
{
    uint32_t disabled = layer_sets[_i];
    const char *experts[] = {COUNTER_EXPERT, PROTODIST_EXPERT};
    struct run_limits limits = NO_LIMITS;
    struct hostile_run run;
    run_experts(experts, 2, &limits, disabled, &run);
    ck_assert_msg(run.result.count == 2, "no outcomes with layers %#x off (exit %d): %s", (unsigned)disabled,
                  (int)run.exit_code, run.diagnostics);
    char what[2048];
    for (size_t i = 0; i < 2; i++) {
        const struct es_outcome *o = &run.result.outcomes[i];
        ck_assert_msg(o->kind == ES_OUTCOME_DONE, "layers %#x off: %s", (unsigned)disabled,
                      describe(o, what, sizeof what));
        ck_assert_msg((o->layers & disabled) == 0, "layers %#x off, but the worker reports %#x in place",
                      (unsigned)disabled, (unsigned)o->layers);
        ck_assert_msg(o->events >= 1, "%s sent no event", o->expert_path);
    }
    ck_assert_uint_eq(run.result.outcomes[0].events, 1);
    ck_assert_int_eq(run.exit_code, ES_EXIT_OK);
    assert_nothing_leaked(&run);
    hostile_run_free(&run);
}
END_TEST

/* As root with the namespaces layer off there is no init (the worker's
 * change of user would clear the parent-death signal that ends it with
 * init): the forged record is all there is, and the detail says whose word
 * the address is. */
START_TEST(test_forged_record_without_init)
{
    if (geteuid() != 0) {
        fprintf(stderr, "SKIP forged_record_without_init: without root every worker has an init\n");
        return;
    }
    char path[4096];
    hostile_path("forged_crash_record", path, sizeof path);
    const char *experts[] = {path, COUNTER_EXPERT};
    struct run_limits limits = NO_LIMITS;
    struct hostile_run run;
    run_experts(experts, 2, &limits, ES_LAYER_NAMESPACES, &run);
    ck_assert_uint_eq(run.result.count, 2);
    const struct es_outcome *o = &run.result.outcomes[0];
    struct expectation crash = CRASH(SIGSEGV);
    assert_expectation(o, &crash);
    detail_has(o, "(fault at 0xdeadbeef, as the worker recorded it)");
    assert_counter_done(&run.result.outcomes[1]);
    assert_nothing_leaked(&run);
    hostile_run_free(&run);
}
END_TEST

/* ------------------------------------------------------------------------ */

/* One run before any test: one-time initialisations (libpcap, stdio,
 * malloc's arenas, the dynamic loader) happen here, in the parent, so that
 * each forked test measures only what its own run leaves behind. */
static void warm_up(void)
{
    const char *experts[] = {COUNTER_EXPERT, PROTODIST_EXPERT};
    struct run_limits limits = {.keep_json = true};
    struct hostile_run run;
    run_experts(experts, 2, &limits, 0, &run);
    hostile_run_free(&run);
    (void)count_open_fds();
    (void)count_mappings();
}

static Suite *hostile_suite(void)
{
    Suite *s = suite_create("hostile");
    TCase *experts = tcase_create("experts");
    tcase_set_timeout(experts, 120);
    tcase_add_loop_test(experts, test_hostile_expert, 0, CASE_COUNT);
    suite_add_tcase(s, experts);

    TCase *identity = tcase_create("identity");
    tcase_add_test(identity, test_worker_is_not_root);
    suite_add_tcase(s, identity);

    TCase *layers = tcase_create("layers");
    tcase_add_loop_test(layers, test_layers_switched_off, 0, (int)(sizeof layer_sets / sizeof *layer_sets));
    tcase_add_test(layers, test_forged_record_without_init);
    suite_add_tcase(s, layers);
    return s;
}

int main(void)
{
    /* The broker's own writes to a worker that is gone must not kill it. */
    signal(SIGPIPE, SIG_IGN);
    warm_up();
    inside_tests = true;
    SRunner *runner = srunner_create(hostile_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
