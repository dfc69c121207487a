/*
 * test_integration.c - expert-broker end to end: real broker processes, real
 * workers, real expert .so files, real captures.
 *
 * Environment (tests/meson.build sets it):
 *   ES_BROKER            the built expert-broker
 *   ES_WORKER            the built expert-worker (also read by es_run)
 *   ES_SAMPLE_PCAP       the capture tools/mkpcap generates for the build
 *   ES_TEST_EXPERT_DIR   where the test experts of tests/experts/ are built
 *   ES_SAMPLE_EXPERT_DIR where the sample experts of experts/ are built
 *   ES_SHARED_CAPTURES   tcpdump's test captures, many of them malformed
 *
 * What each test checks is the contract in docs/expert-broker.1 and
 * docs/output.md, not what the implementation happens to print.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker.h"
#include "expertfile.h"
#include "supervisor.h"
#include "standin_worker.h"
#include "harness.h"

/* ------------------------------------------------------------------------ */
/* Paths                                                                    */
/* ------------------------------------------------------------------------ */

static const char *required_env(const char *name)
{
    const char *value = getenv(name);
    if (value == NULL || *value == '\0') {
        fprintf(stderr, "test_integration: %s is not set (run it through meson test)\n", name);
        exit(EXIT_FAILURE);
    }
    return value;
}

static const char *broker_path(void) { return required_env("ES_BROKER"); }
static const char *sample_pcap(void) { return required_env("ES_SAMPLE_PCAP"); }

/*
 * Paths handed out stay valid until the test process ends: the tests read
 * better without frees.  They are kept reachable from here so that
 * LeakSanitizer, in a sanitizer build, does not count them as leaks.
 */
static char *kept_paths[256];
static size_t kept_count;

static const char *keep_path(char *path)
{
    ck_assert_ptr_nonnull(path);
    ck_assert_msg(kept_count < sizeof(kept_paths) / sizeof(kept_paths[0]), "too many paths");
    kept_paths[kept_count++] = path;
    return path;
}

static const char *expert_in(const char *dir_variable, const char *name)
{
    char file[256];
    snprintf(file, sizeof(file), "%s.so", name);
    const char *path = keep_path(hx_path_join(required_env(dir_variable), file));
    ck_assert_msg(access(path, R_OK) == 0, "expert %s is not built", path);
    return path;
}

static const char *test_expert(const char *name) { return expert_in("ES_TEST_EXPERT_DIR", name); }
static const char *sample_expert(const char *name) { return expert_in("ES_SAMPLE_EXPERT_DIR", name); }

/* A scratch directory per test; Check forks each test, so a static is enough. */
static char *scratch_dir;

static void scratch_setup(void)
{
    scratch_dir = hx_make_temp_dir();
    ck_assert_msg(scratch_dir != NULL, "cannot make a temporary directory: %s", strerror(errno));
}

static void scratch_teardown(void)
{
    if (scratch_dir != NULL) {
        hx_remove_tree(scratch_dir);
        free(scratch_dir);
        scratch_dir = NULL;
    }
}

static const char *scratch_file(const char *name)
{
    ck_assert_ptr_nonnull(scratch_dir);
    return keep_path(hx_path_join(scratch_dir, name));
}

/* ------------------------------------------------------------------------ */
/* Running the broker                                                       */
/* ------------------------------------------------------------------------ */

struct broker_run {
    struct hx_result r;
    struct hx_jsonl doc;    /* stdout as JSON Lines, when it parsed */
    bool json_valid;
    char status[96];        /* "exit 3", for messages */
};

#define MAX_ARGS 64

/* Runs expert-broker with the arguments up to NULL and parses its stdout. */
static void broker_v(struct broker_run *br, const char *first, va_list ap)
{
    const char *argv[MAX_ARGS];
    size_t n = 0;
    argv[n++] = broker_path();
    for (const char *a = first; a != NULL; a = va_arg(ap, const char *)) {
        ck_assert_msg(n < MAX_ARGS - 1, "too many arguments for the harness");
        argv[n++] = a;
    }
    argv[n] = NULL;

    memset(br, 0, sizeof(*br));
    ck_assert_msg(hx_run(argv, &br->r) == 0, "cannot run %s: %s", argv[0], strerror(errno));
    hx_describe_status(&br->r, br->status, sizeof(br->status));
    br->json_valid = hx_jsonl_parse(br->r.out, br->r.out_len, &br->doc) == 0;
}

static void broker(struct broker_run *br, const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    broker_v(br, first, ap);
    va_end(ap);
}

static void broker_free(struct broker_run *br)
{
    hx_jsonl_free(&br->doc);
    hx_result_free(&br->r);
}

/* Every failure message carries what the broker said, or it is useless. */
#define assert_exit(br, code)                                                                  \
    ck_assert_msg((br)->r.exited && (br)->r.exit_code == (code),                               \
                  "expected exit %d, got %s; stderr:\n%s", (code), (br)->status, (br)->r.err)

#define assert_json(br)                                                                        \
    ck_assert_msg((br)->json_valid, "stdout is not valid JSON Lines (line %zu: %s):\n%.2000s", \
                  (br)->doc.bad_line, (br)->doc.error, (br)->r.out)

/*
 * The error contract: exactly one line on stderr, "expert-broker: ", naming
 * the file the problem is about.
 */
static void assert_one_error_line(const struct broker_run *br, const char *file)
{
    ck_assert_msg(hx_count_lines(br->r.err, br->r.err_len) == 1,
                  "expected exactly one line on stderr, got:\n%s", br->r.err);
    ck_assert_msg(strncmp(br->r.err, "expert-broker: ", 15) == 0,
                  "the error line does not start with \"expert-broker: \": %s", br->r.err);
    ck_assert_msg(hx_contains(br->r.err, file), "the error line does not name %s: %s", file,
                  br->r.err);
}

static const struct hx_json *outcome_of(const struct broker_run *br, size_t index)
{
    const struct hx_json *o = hx_jsonl_find(&br->doc, "outcome", "expert_index", (double)index);
    ck_assert_msg(o != NULL, "no outcome record for expert %zu in:\n%.3000s", index, br->r.out);
    return o;
}

static void assert_outcome(const struct broker_run *br, size_t index, const char *expected)
{
    const char *got = hx_json_get_string(outcome_of(br, index), "outcome");
    ck_assert_msg(got != NULL && strcmp(got, expected) == 0,
                  "expert %zu: expected outcome \"%s\", got \"%s\"; detail: %s", index, expected,
                  got ? got : "(none)", hx_json_get_string(outcome_of(br, index), "detail"));
}

static double number_of(const struct hx_json *record, const char *key)
{
    double v;
    char *text = hx_json_serialize(record);
    ck_assert_msg(hx_json_get_number(record, key, &v), "no number \"%s\" in %s", key, text);
    free(text);
    return v;
}

static double run_frames(const struct broker_run *br)
{
    const struct hx_json *run = hx_jsonl_nth(&br->doc, "run", 0);
    ck_assert_msg(run != NULL, "no run record in:\n%.2000s", br->r.out);
    return number_of(run, "frames");
}

/* The value of the event's column called `name` ({"name","type","value"}). */
static const struct hx_json *column_value(const struct hx_json *event, const char *name)
{
    const struct hx_json *columns = hx_json_get(event, "columns");
    ck_assert_msg(columns != NULL && columns->type == HX_JSON_ARRAY, "event without columns");
    for (size_t i = 0; i < columns->count; i++) {
        const char *n = hx_json_get_string(&columns->items[i], "name");
        if (n != NULL && strcmp(n, name) == 0) {
            const struct hx_json *v = hx_json_get(&columns->items[i], "value");
            ck_assert_msg(v != NULL, "column \"%s\" has no value", name);
            return v;
        }
    }
    char *text = hx_json_serialize(event);
    ck_abort_msg("no column \"%s\" in %s", name, text);
    return NULL;
}

static double column_number(const struct hx_json *event, const char *name)
{
    const struct hx_json *v = column_value(event, name);
    ck_assert_msg(v->type == HX_JSON_NUMBER, "column \"%s\" is not a number", name);
    return v->number;
}

/* The n-th event of one expert. */
static const struct hx_json *event_of(const struct broker_run *br, size_t index, size_t n)
{
    for (size_t i = 0; i < br->doc.count; i++) {
        const struct hx_json *r = br->doc.records[i];
        const char *type = hx_json_get_string(r, "type");
        double idx;
        if (type && strcmp(type, "event") == 0 && hx_json_get_number(r, "expert_index", &idx)
            && idx == (double)index && n-- == 0)
            return r;
    }
    ck_abort_msg("expert %zu has fewer events than expected:\n%.3000s", index, br->r.out);
    return NULL;
}

static bool array_contains_number(const struct hx_json *array, double value)
{
    if (array == NULL || array->type != HX_JSON_ARRAY)
        return false;
    for (size_t i = 0; i < array->count; i++)
        if (array->items[i].type == HX_JSON_NUMBER && array->items[i].number == value)
            return true;
    return false;
}

/*
 * The shape every successful run must have: the run record first, each
 * expert's events before its outcome and in increasing seq, exactly one
 * outcome per expert, and an outcome "events" equal to the events written.
 */
static void assert_run_shape(const struct broker_run *br, size_t experts)
{
    assert_json(br);
    ck_assert_msg(br->doc.count > 0, "no output at all; stderr:\n%s", br->r.err);
    const char *first = hx_json_get_string(br->doc.records[0], "type");
    ck_assert_msg(first && strcmp(first, "run") == 0, "the first record is not the run record");
    ck_assert_uint_eq(hx_jsonl_count_type(&br->doc, "run"), 1);
    ck_assert_uint_eq(hx_jsonl_count_type(&br->doc, "outcome"), experts);
    ck_assert_uint_eq(hx_jsonl_count_type(&br->doc, "event")
                          + hx_jsonl_count_type(&br->doc, "outcome") + 1,
                      br->doc.count);

    for (size_t e = 0; e < experts; e++) {
        bool outcome_seen = false;
        double last_seq = -1;
        size_t events = 0;
        for (size_t i = 0; i < br->doc.count; i++) {
            const struct hx_json *r = br->doc.records[i];
            double idx;
            if (!hx_json_get_number(r, "expert_index", &idx) || idx != (double)e)
                continue;
            const char *type = hx_json_get_string(r, "type");
            if (strcmp(type, "outcome") == 0) {
                outcome_seen = true;
                continue;
            }
            ck_assert_msg(!outcome_seen, "expert %zu has an event after its outcome", e);
            double seq = number_of(r, "seq");
            ck_assert_msg(seq > last_seq, "expert %zu: seq %g after %g", e, seq, last_seq);
            last_seq = seq;
            events++;
        }
        ck_assert_msg(number_of(outcome_of(br, e), "events") == (double)events,
                      "expert %zu: outcome says %g events, %zu were written", e,
                      number_of(outcome_of(br, e), "events"), events);
    }
}

/* ------------------------------------------------------------------------ */
/* Captures made by the tests                                               */
/* ------------------------------------------------------------------------ */

static uint32_t read_u32(const unsigned char *p, bool swapped)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swapped ? __builtin_bswap32(v) : v;
}

/*
 * Writes to `path` the sample capture cut in the middle of the data of frame
 * `keep` (0-based), so that frames 0..keep-1 are intact and the last record
 * is truncated.  Returns `keep`, the number of intact frames.
 */
static uint32_t write_cut_sample(const char *path, uint32_t keep)
{
    size_t len;
    unsigned char *data = (unsigned char *)hx_read_file(sample_pcap(), &len);
    ck_assert_msg(data != NULL, "cannot read %s", sample_pcap());
    ck_assert_msg(len >= 24, "the sample capture is too short");
    uint32_t magic = read_u32(data, false);
    bool swapped;
    if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d)
        swapped = false;
    else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1)
        swapped = true;
    else
        ck_abort_msg("the sample capture is not a classic pcap file (magic 0x%08x)", magic);

    size_t at = 24;
    for (uint32_t frame = 0; frame < keep; frame++) {
        ck_assert_msg(at + 16 <= len, "the sample capture has fewer than %u frames", keep + 1);
        at += 16 + read_u32(data + at + 8, swapped);
    }
    ck_assert_msg(at + 16 <= len, "the sample capture has fewer than %u frames", keep + 1);
    uint32_t caplen = read_u32(data + at + 8, swapped);
    ck_assert_msg(caplen >= 2, "frame %u is too short to cut in half", keep);
    size_t cut = at + 16 + caplen / 2;
    ck_assert_int_eq(hx_write_file(path, data, cut), 0);
    free(data);
    return keep;
}

/* Bytes from a fixed xorshift sequence: "random" but the same every run. */
static void write_noise(const char *path, size_t len)
{
    unsigned char *bytes = malloc(len);
    ck_assert_ptr_nonnull(bytes);
    uint64_t state = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < len; i++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes[i] = (unsigned char)(state >> 32);
    }
    ck_assert_int_eq(hx_write_file(path, bytes, len), 0);
    free(bytes);
}

/* ------------------------------------------------------------------------ */
/* A normal run                                                             */
/* ------------------------------------------------------------------------ */

START_TEST(test_normal_run)
{
    const char *counter = test_expert("counter");
    const char *protodist = sample_expert("protodist");
    struct broker_run br;
    broker(&br, "run", "-r", sample_pcap(), "-e", counter, "-e", protodist, NULL);
    assert_exit(&br, 0);
    assert_run_shape(&br, 2);
    assert_outcome(&br, 0, "done");
    assert_outcome(&br, 1, "done");

    const struct hx_json *run = hx_jsonl_nth(&br.doc, "run", 0);
    ck_assert_str_eq(hx_json_get_string(run, "capture"), sample_pcap());
    ck_assert_uint_eq(number_of(run, "experts"), 2);
    double frames = run_frames(&br);
    ck_assert_msg(frames > 0, "the sample capture has no frames");

    /* The counter saw every frame, and the broker counted what it read. */
    ck_assert_uint_eq(hx_jsonl_count_where(&br.doc, "event", "expert_index", 0), 1);
    const struct hx_json *summary = event_of(&br, 0, 0);
    ck_assert_str_eq(hx_json_get_string(summary, "expert_file"), counter);
    ck_assert_str_eq(hx_json_get_string(summary, "expert"), "Counter");
    ck_assert_str_eq(hx_json_get_string(summary, "event_name"), "Frame count");
    ck_assert_str_eq(hx_json_get_string(summary, "severity"), "informational");
    ck_assert_msg(column_number(summary, "Frames") == frames, "counter saw %g frames, run has %g",
                  column_number(summary, "Frames"), frames);
    /* FRAME columns and "frames" are 1-based, like Wireshark's numbers. */
    ck_assert_msg(column_number(summary, "Last frame") == frames, "last frame %g of %g",
                  column_number(summary, "Last frame"), frames);
    ck_assert_msg(array_contains_number(hx_json_get(summary, "frames"), frames),
                  "the event's frames do not list frame %g", frames);

    const struct hx_json *done = outcome_of(&br, 0);
    ck_assert_msg(number_of(done, "frames_read") == frames, "frames_read %g of %g",
                  number_of(done, "frames_read"), frames);
    ck_assert_msg(number_of(done, "last_frame") == frames, "last_frame %g of %g",
                  number_of(done, "last_frame"), frames);
    ck_assert_msg(hx_json_is_null(done, "signal"), "a done expert has a signal");

    ck_assert_msg(number_of(outcome_of(&br, 1), "events") > 0, "protodist reported nothing");

    /* Without --no-table the summary table is on stderr and names the outcome. */
    ck_assert_msg(hx_contains(br.r.err, "done"), "no summary table on stderr:\n%s", br.r.err);
    broker_free(&br);
}
END_TEST

START_TEST(test_quiet_and_no_table)
{
    const char *counter = test_expert("counter");
    const char *modes[] = {"-q", "--quiet", "--no-table"};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        struct broker_run br;
        broker(&br, "run", modes[i], "-r", sample_pcap(), "-e", counter, NULL);
        assert_exit(&br, 0);
        assert_run_shape(&br, 1);
        ck_assert_msg(br.r.err_len == 0, "%s: stderr is not empty:\n%s", modes[i], br.r.err);
        broker_free(&br);
    }
}
END_TEST

START_TEST(test_output_file)
{
    const char *counter = test_expert("counter");
    const char *out = scratch_file("results.jsonl");
    struct broker_run br;
    broker(&br, "run", "--no-table", "--read", sample_pcap(), "--expert", counter, "--output", out,
           NULL);
    assert_exit(&br, 0);
    ck_assert_msg(br.r.out_len == 0, "stdout is not empty with -o:\n%s", br.r.out);
    size_t len;
    char *text = hx_read_file(out, &len);
    ck_assert_msg(text != NULL, "%s was not written", out);
    struct hx_jsonl doc;
    ck_assert_msg(hx_jsonl_parse(text, len, &doc) == 0, "%s line %zu: %s", out, doc.bad_line,
                  doc.error);
    ck_assert_uint_eq(hx_jsonl_count_type(&doc, "run"), 1);
    ck_assert_uint_eq(hx_jsonl_count_type(&doc, "event"), 1);
    ck_assert_uint_eq(hx_jsonl_count_type(&doc, "outcome"), 1);
    hx_jsonl_free(&doc);
    free(text);
    broker_free(&br);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Isolation: an expert that fails takes nothing else with it               */
/* ------------------------------------------------------------------------ */

START_TEST(test_crash_isolation)
{
    const char *crasher = test_expert("crash_after_events");
    const char *counter = test_expert("counter");
    struct broker_run br;
    broker(&br, "run", "--no-table", "-r", sample_pcap(), "-e", crasher, "-e", counter, NULL);
    assert_exit(&br, 1);
    assert_run_shape(&br, 2);   /* every line is valid JSON, nothing lost or out of order */

    assert_outcome(&br, 0, "crashed");
    const struct hx_json *crash = outcome_of(&br, 0);
    ck_assert_str_eq(hx_json_get_string(crash, "signal"), "SIGSEGV");
    ck_assert_uint_eq(number_of(crash, "signal_number"), SIGSEGV);
    ck_assert_uint_eq(number_of(crash, "frames_read"), 10);
    ck_assert_uint_eq(number_of(crash, "last_frame"), 10);
    ck_assert_uint_eq(number_of(crash, "events"), 3);
    const char *detail = hx_json_get_string(crash, "detail");
    ck_assert_msg(detail != NULL && *detail != '\0', "a crash without detail");

    /* All three events submitted before the crash reached the output. */
    ck_assert_uint_eq(hx_jsonl_count_where(&br.doc, "event", "expert_index", 0), 3);
    for (size_t i = 0; i < 3; i++) {
        const struct hx_json *ev = event_of(&br, 0, i);
        ck_assert_str_eq(hx_json_get_string(ev, "event_name"), "Before the crash");
        ck_assert_str_eq(hx_json_get_string(ev, "severity"), "warning");
        ck_assert_uint_eq(column_number(ev, "Frame"), 10);
    }

    assert_outcome(&br, 1, "done");
    ck_assert_msg(column_number(event_of(&br, 1, 0), "Frames") == run_frames(&br),
                  "the counter next to the crasher missed frames");
    broker_free(&br);
}
END_TEST

/* Every worker started was also waited for: no child of this process is
 * left, running or zombie. */
static void assert_no_children(void)
{
    pid_t pid = waitpid(-1, NULL, WNOHANG | __WALL);
    ck_assert_msg(pid == -1 && errno == ECHILD, "a worker outlived the run (waitpid: %d)", (int)pid);
}

/* What the output saw when the outcome record reached it. */
struct outcome_witness {
    bool outcome_written;
    bool child_unreaped;   /* at that moment the worker's init was not yet reaped */
};

static ssize_t witness_write(void *cookie, const char *data, size_t len)
{
    struct outcome_witness *w = cookie;
    if (!w->outcome_written && memmem(data, len, "\"type\":\"outcome\"", 16) != NULL) {
        w->outcome_written = true;
        /* The broker's only child is the crashed worker's init (one expert,
         * one job): look without reaping it. */
        siginfo_t info;
        memset(&info, 0, sizeof info);
        w->child_unreaped = waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT | __WALL) == 0;
    }
    return (ssize_t)len;
}

/* The outcome is written on init's report, without waiting for init's
 * exit (which waits for the worker's teardown): the worker's init is not
 * yet reaped when the record reaches the output, and is reaped before
 * es_run returns. */
START_TEST(test_outcome_before_reap)
{
    if (!hx_can_trace_child()) {
        fprintf(stderr, "SKIP outcome_before_reap: ptrace is refused here, so the outcome "
                        "waits for the worker's exit\n");
        return;
    }
    const char *experts[] = {test_expert("crash_after_events")};
    struct outcome_witness witness = {0};
    cookie_io_functions_t io = {.write = witness_write};
    FILE *out = fopencookie(&witness, "w", io);
    FILE *sink = fopen("/dev/null", "w");
    ck_assert_ptr_nonnull(out);
    ck_assert_ptr_nonnull(sink);
    struct es_run_options opt = {
        .capture_path = sample_pcap(),
        .experts = experts,
        .expert_count = 1,
        .jobs = 1,
        .worker_path = getenv("ES_WORKER"),
        .json = out,
        .diagnostics = sink,
    };
    struct es_run_result result;
    memset(&result, 0, sizeof result);
    es_run(&opt, &result);
    fclose(out);
    fclose(sink);
    ck_assert_uint_eq(result.count, 1);
    ck_assert_msg(result.outcomes[0].kind == ES_OUTCOME_CRASHED, "%s: %s",
                  es_outcome_name(result.outcomes[0].kind), result.outcomes[0].detail);
    ck_assert_msg(witness.outcome_written, "no outcome record was written");
    ck_assert_msg(witness.child_unreaped, "the outcome was written only after the worker was reaped");
    es_run_result_free(&result);
    assert_no_children();
}
END_TEST

/* The worker's init on its own, with a stand-in for expert-worker that
 * faults at 0x40: init reports at the exit stop, before the exit tears
 * down the process, with the kernel's fault address. */
START_TEST(test_init_reports_at_exit_stop)
{
    if (!hx_can_trace_child()) {
        fprintf(stderr, "SKIP init_reports_at_exit_stop: ptrace is refused here\n");
        return;
    }
    struct es_worker_status status = run_fault_at_0x40();
    ck_assert_msg(status.code == CLD_KILLED || status.code == CLD_DUMPED, "code %d", (int)status.code);
    ck_assert_int_eq(status.status, SIGSEGV);
    ck_assert_msg(status.at_exit_stop, "the report came after the exit, not at the exit stop");
    ck_assert_msg(status.has_fault_address && status.fault_address == 0x40, "fault address %s%#llx",
                  status.has_fault_address ? "" : "(none) ", (unsigned long long)status.fault_address);
    ck_assert_msg(status.cpu_microseconds > 0, "no CPU time for a process that touched 16 MiB");
    assert_no_children();
}
END_TEST

START_TEST(test_abort_is_a_crash)
{
    struct broker_run br;
    broker(&br, "run", "-q", "-r", sample_pcap(), "-e", test_expert("aborts"), "-e",
           test_expert("counter"), NULL);
    assert_exit(&br, 1);
    assert_run_shape(&br, 2);
    assert_outcome(&br, 0, "crashed");
    ck_assert_str_eq(hx_json_get_string(outcome_of(&br, 0), "signal"), "SIGABRT");
    ck_assert_uint_eq(number_of(outcome_of(&br, 0), "signal_number"), SIGABRT);
    assert_outcome(&br, 1, "done");
    broker_free(&br);
}
END_TEST

START_TEST(test_run_returns_false_is_a_problem)
{
    struct broker_run br;
    broker(&br, "run", "-q", "-r", sample_pcap(), "-e", test_expert("counter"), "-e",
           test_expert("returns_false"), NULL);
    assert_exit(&br, 1);
    assert_run_shape(&br, 2);
    assert_outcome(&br, 0, "done");
    assert_outcome(&br, 1, "problem");
    const struct hx_json *problem = outcome_of(&br, 1);
    ck_assert_msg(hx_json_is_null(problem, "signal"), "a problem is not a signal");
    ck_assert_uint_eq(number_of(problem, "frames_read"), 3);
    broker_free(&br);
}
END_TEST

/*
 * es_run in this process: after runs with a crashing expert, the broker's
 * own descriptors and mappings are exactly what they were before.  Heap
 * segments, frame stores, sockets and pidfds all show up in one or both.
 */
static size_t count_open_fds(void)
{
    DIR *dir = opendir("/proc/self/fd");
    ck_assert_ptr_nonnull(dir);
    size_t n = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL)
        if (entry->d_name[0] != '.')
            n++;
    closedir(dir);
    return n;   /* includes the directory's own descriptor, every time */
}

/*
 * AddressSanitizer maps shadow memory and allocator regions as the process
 * uses memory, and its quarantine keeps using fresh memory for a while: in
 * a sanitized test process anonymous mappings come and go by design.  There
 * the test compares only the mappings backed by an object (the broker's
 * memfd heaps and frame stores, files), which is what a run must release;
 * the normal build compares every line.
 */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

/* A line of /proc/self/maps names its object after the inode field:
 * "/path", "/memfd:name (deleted)", or "[heap]"-style pseudo names. */
static bool mapping_is_backed(const char *line)
{
    return strchr(line, '/') != NULL;
}

static size_t count_mappings(void)
{
    size_t len;
    char *maps = hx_read_file("/proc/self/maps", &len);
    ck_assert_ptr_nonnull(maps);
    size_t n = 0;
    for (char *line = strtok(maps, "\n"); line != NULL; line = strtok(NULL, "\n"))
        if (!UNDER_ASAN || mapping_is_backed(line))
            n++;
    free(maps);
    return n;
}

/* The lines of /proc/self/maps that were not there in `before`, cut to
 * what a Check failure message can carry. */
static char *new_mappings(const char *before)
{
    size_t len;
    char *now = hx_read_file("/proc/self/maps", &len);
    ck_assert_ptr_nonnull(now);
    size_t cap = 3000, used = 0;
    char *out = calloc(1, cap);
    ck_assert_ptr_nonnull(out);
    for (char *line = strtok(now, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        if (strstr(before, line) != NULL || (UNDER_ASAN && !mapping_is_backed(line)))
            continue;
        int n = snprintf(out + used, cap - used, "%s\n", line);
        if (n < 0 || (size_t)n >= cap - used)
            break;
        used += (size_t)n;
    }
    free(now);
    return out;
}

static void in_process_run(FILE *sink, const char *const *experts, size_t count)
{
    struct es_run_options opt = {
        .capture_path = sample_pcap(),
        .experts = experts,
        .expert_count = count,
        .jobs = 2,
        .worker_path = getenv("ES_WORKER"),
        .json = sink,
        .diagnostics = sink,
        .table = false,
    };
    struct es_run_result result;
    memset(&result, 0, sizeof(result));
    enum es_exit code = es_run(&opt, &result);
    ck_assert_uint_eq(result.count, count);
    const struct es_outcome *crash = &result.outcomes[0], *done = &result.outcomes[1];
    ck_assert_msg(crash->kind == ES_OUTCOME_CRASHED && crash->signal == SIGSEGV,
                  "the crasher ended \"%s\", signal %d: %s", es_outcome_name(crash->kind),
                  crash->signal, crash->detail);
    ck_assert_uint_eq(crash->events, 3);
    ck_assert_uint_eq(crash->frames_read, 10);
    ck_assert_msg(done->kind == ES_OUTCOME_DONE, "the counter ended \"%s\": %s",
                  es_outcome_name(done->kind), done->detail);
    ck_assert_int_eq(code, ES_EXIT_EXPERT_FAILED);
    es_run_result_free(&result);
}

START_TEST(test_in_process_no_leaks)
{
    const char *experts[] = {test_expert("crash_after_events"), test_expert("counter")};
    FILE *sink = fopen("/dev/null", "w");
    ck_assert_ptr_nonnull(sink);

    /* One run first: one-time initialisations (libpcap, the dynamic loader,
     * stdio buffers, malloc arenas) are not leaks and must not count. */
    in_process_run(sink, experts, 2);
    size_t fds = count_open_fds();
    size_t maps = count_mappings();
    char *maps_before = hx_read_file("/proc/self/maps", NULL);
    ck_assert_ptr_nonnull(maps_before);

    for (int i = 0; i < 5; i++) {
        in_process_run(sink, experts, 2);
        size_t fds_now = count_open_fds();
        size_t maps_now = count_mappings();
        ck_assert_msg(fds_now == fds, "run %d: %zu descriptors open, %zu before", i, fds_now, fds);
        if (maps_now != maps) {
            char *added = new_mappings(maps_before);
            ck_abort_msg("run %d: %zu mappings, %zu before; new ones:\n%s", i, maps_now, maps,
                         added);
        }
    }
    free(maps_before);
    fclose(sink);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* the pool: workers started ahead of their turn                            */
/* ------------------------------------------------------------------------ */

/* A run that stops after its first workers were started (they start before
 * the capture is loaded): every one of them is killed and reaped, and the
 * broker holds no descriptor or mapping more than before. */
static enum es_exit run_refused_after_pool(const char *capture, bool startup_past_end)
{
    const char *experts[] = {test_expert("counter"), test_expert("counter"), test_expert("counter")};
    FILE *sink = fopen("/dev/null", "w");
    ck_assert_ptr_nonnull(sink);
    struct es_run_options opt = {
        .capture_path = capture,
        .experts = experts,
        .expert_count = 3,
        .jobs = 2,
        .worker_path = getenv("ES_WORKER"),
        .json = sink,
        .diagnostics = sink,
        .startup = {.has_startup_frame = startup_past_end, .startup_frame = 1000000},
    };
    struct es_run_result result;
    memset(&result, 0, sizeof result);
    enum es_exit code = es_run(&opt, &result);
    ck_assert_uint_eq(result.count, 0);
    es_run_result_free(&result);
    fclose(sink);
    return code;
}

START_TEST(test_pool_unused_workers_reaped)
{
    const char *damaged = scratch_file("damaged.pcap");
    static const char text[] = "not a capture at all, just text\n";
    ck_assert_int_eq(hx_write_file(damaged, text, sizeof text - 1), 0);
    /* Once first: one-time initialisations are not leaks. */
    ck_assert_int_eq(run_refused_after_pool(damaged, false), ES_EXIT_CAPTURE);
    ck_assert_int_eq(run_refused_after_pool(sample_pcap(), true), ES_EXIT_USAGE);
    size_t fds = count_open_fds();
    size_t maps = count_mappings();
    for (int i = 0; i < 3; i++) {
        /* The capture cannot be read: the run ends before any turn. */
        ck_assert_int_eq(run_refused_after_pool(damaged, false), ES_EXIT_CAPTURE);
        assert_no_children();
        /* The capture is read, then a usage error ends the run. */
        ck_assert_int_eq(run_refused_after_pool(sample_pcap(), true), ES_EXIT_USAGE);
        assert_no_children();
        ck_assert_uint_eq(count_open_fds(), fds);
        ck_assert_uint_eq(count_mappings(), maps);
    }
}
END_TEST

/* A pooled worker that dies while it waits for its turn: its expert gets
 * the outcome of a worker killed from outside, at its turn; the others run
 * as ever, and nothing of the dead one is left. */
START_TEST(test_pool_worker_dies_waiting)
{
    const char *paths[] = {test_expert("counter"), test_expert("counter"), test_expert("counter")};
    size_t fds_before = count_open_fds();
    int fds[3];
    char why[256];
    for (int i = 0; i < 3; i++) {
        fds[i] = es_expert_file_open(paths[i], why, sizeof why);
        ck_assert_msg(fds[i] >= 0, "%s", why);
    }
    struct es_outcome outcomes[3];
    struct es_registration regs[3];
    memset(regs, 0, sizeof regs);
    for (size_t i = 0; i < 3; i++)
        es_outcome_init(&outcomes[i], i, paths[i]);
    char *no_args[] = {NULL};
    struct es_supervise_config cfg = {
        .mode = ES_SUPERVISE_LIST,
        .worker_path = getenv("ES_WORKER"),
        .count = 3,
        .expert_paths = paths,
        .expert_fds = fds,
        .heap_quota = 1 << 20,
        .jobs = 1,
        .frames_fd = -1,
        .worker_args = no_args,
        .grace_seconds = 1,
    };
    struct es_supervisor *pool = es_supervisor_new(&cfg, outcomes, regs);
    ck_assert_ptr_nonnull(pool);
    es_supervisor_prestart(pool);
    pid_t victim = es_supervisor_worker_pid(pool, 0);
    ck_assert_int_gt(victim, 0);
    ck_assert_int_eq(es_supervisor_worker_pid(pool, 1), -1);   /* --jobs 1: one warm worker */
    ck_assert_int_eq(kill(victim, SIGKILL), 0);
    /* Dead before its turn for certain; left for the supervisor to reap. */
    siginfo_t info;
    ck_assert_int_eq(waitid(P_PID, (id_t)victim, &info, WEXITED | WNOWAIT), 0);

    ck_assert_int_eq(es_supervisor_run(pool), 0);
    ck_assert_msg(outcomes[0].signal == SIGKILL && outcomes[0].kind != ES_OUTCOME_DONE, "%s: %s",
                  es_outcome_name(outcomes[0].kind), outcomes[0].detail);
    ck_assert(!regs[0].present);
    for (int i = 1; i < 3; i++) {
        ck_assert_msg(outcomes[i].kind == ES_OUTCOME_DONE, "expert %d: %s: %s", i,
                      es_outcome_name(outcomes[i].kind), outcomes[i].detail);
        ck_assert(regs[i].present);
    }
    assert_no_children();
    ck_assert_uint_eq(count_open_fds(), fds_before);
    for (int i = 0; i < 3; i++)
        es_outcome_free(&outcomes[i]);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* list                                                                     */
/* ------------------------------------------------------------------------ */

START_TEST(test_list_text)
{
    const char *counter = test_expert("counter");
    const char *protodist = sample_expert("protodist");
    struct broker_run br;
    broker(&br, "list", protodist, counter, NULL);
    assert_exit(&br, 0);
    ck_assert_msg(hx_contains(br.r.out, counter), "list does not name %s:\n%s", counter, br.r.out);
    ck_assert_msg(hx_contains(br.r.out, protodist), "list does not name %s:\n%s", protodist,
                  br.r.out);
    ck_assert_msg(hx_contains(br.r.out, "Counter"), "no name in:\n%s", br.r.out);
    ck_assert_msg(hx_contains(br.r.out, "expert-sandbox tests"), "no vendor in:\n%s", br.r.out);
    ck_assert_msg(hx_contains(br.r.out, "Counts the frames of the capture"),
                  "no description in:\n%s", br.r.out);
    /* protodist is listed first, as given. */
    ck_assert_msg(strstr(br.r.out, protodist) < strstr(br.r.out, counter),
                  "list is not in command-line order:\n%s", br.r.out);
    broker_free(&br);
}
END_TEST

START_TEST(test_list_json)
{
    const char *counter = test_expert("counter");
    const char *protodist = sample_expert("protodist");
    struct broker_run br;
    broker(&br, "list", "--json", protodist, counter, NULL);
    assert_exit(&br, 0);
    assert_json(&br);
    ck_assert_uint_eq(br.doc.count, 2);
    ck_assert_uint_eq(hx_jsonl_count_type(&br.doc, "expert"), 2);

    const struct hx_json *first = br.doc.records[0];
    ck_assert_str_eq(hx_json_get_string(first, "expert_file"), protodist);
    ck_assert_uint_eq(number_of(first, "expert_index"), 0);
    const char *name = hx_json_get_string(first, "name");
    ck_assert_msg(name != NULL && *name != '\0', "protodist has no name");

    const struct hx_json *c = br.doc.records[1];
    ck_assert_str_eq(hx_json_get_string(c, "expert_file"), counter);
    ck_assert_uint_eq(number_of(c, "expert_index"), 1);
    ck_assert_str_eq(hx_json_get_string(c, "name"), "Counter");
    ck_assert_str_eq(hx_json_get_string(c, "vendor"), "expert-sandbox tests");
    ck_assert_str_eq(hx_json_get_string(c, "description"),
                     "Counts the frames of the capture and reports the last one.");
    ck_assert_uint_eq(number_of(c, "version"), 1);
    ck_assert_uint_eq(number_of(c, "flags"), 0);
    const struct hx_json *configurable = hx_json_get(c, "configurable");
    ck_assert_msg(configurable && configurable->type == HX_JSON_BOOL && !configurable->boolean,
                  "counter is not configurable");
    broker_free(&br);
}
END_TEST

/* ---- check ---- */

static bool json_bool(const struct hx_json *record, const char *key)
{
    const struct hx_json *v = hx_json_get(record, key);
    ck_assert_msg(v && v->type == HX_JSON_BOOL, "check record without boolean %s", key);
    return v->boolean;
}

/* The kernel's shared-memory huge page setting, as `check` must read it. */
static bool shmem_huge_pages_offered(void)
{
    size_t len;
    char *text = hx_read_file("/sys/kernel/mm/transparent_hugepage/shmem_enabled", &len);
    if (!text)
        return false;
    bool offered = hx_contains(text, "[advise]") || hx_contains(text, "[within_size]") ||
                   hx_contains(text, "[always]") || hx_contains(text, "[force]");
    free(text);
    return offered;
}

START_TEST(test_check_json)
{
    static const char *const names[] = {"rlimits", "user", "namespaces", "landlock", "seccomp",
                                        "user_notif", "pidfd", "clone3", "cgroup_v2", "heap_pages",
                                        "exit_stop"};
    const size_t count = sizeof names / sizeof *names;
    struct broker_run br;
    broker(&br, "check", "--json", "--disable", "landlock", NULL);
    assert_exit(&br, 0);
    assert_json(&br);
    ck_assert_uint_eq(br.doc.count, count);
    for (size_t i = 0; i < count; i++) {
        const struct hx_json *r = br.doc.records[i];
        ck_assert_str_eq(hx_json_get_string(r, "type"), "check");
        ck_assert_str_eq(hx_json_get_string(r, "name"), names[i]);
        const char *detail = hx_json_get_string(r, "detail");
        ck_assert_msg(detail && *detail, "%s: no detail", names[i]);
        bool available = json_bool(r, "available"), used = json_bool(r, "used");
        ck_assert_msg(available || !used, "%s: used but not available", names[i]);
        if (i < 5)
            ck_assert_msg(json_bool(r, "layer"), "%s is a layer", names[i]);
        /* A disabled layer is never used, whatever the machine offers. */
        if (strcmp(names[i], "landlock") == 0)
            ck_assert_msg(!used, "landlock is used although disabled");
        else if (i < 5)
            ck_assert_msg(used == available, "%s: available %d but used %d", names[i], available, used);
        /* Init traces its worker in a PID namespace (root, clone3) and, without
         * one, for a broker that is not root. */
        if (strcmp(names[i], "exit_stop") == 0)
            ck_assert_msg(used == (available && (json_bool(br.doc.records[7], "used") || geteuid() != 0)),
                          "exit_stop: used %d, available %d", used, available);
        if (strcmp(names[i], "heap_pages") == 0)
            ck_assert_msg(available == shmem_huge_pages_offered(), "heap_pages says %d, the kernel's setting "
                          "says otherwise (%s)", available, detail);
    }
    broker_free(&br);

    /* Requiring what is disabled: the documented sandbox status. */
    broker(&br, "check", "--disable", "landlock", "--require", "landlock", NULL);
    assert_exit(&br, 6);
    broker_free(&br);
}
END_TEST

START_TEST(test_list_register_fails)
{
    const char *fails = test_expert("register_fails");
    struct broker_run br;
    broker(&br, "list", fails, NULL);
    assert_exit(&br, 4);
    assert_one_error_line(&br, fails);
    broker_free(&br);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* --jobs does not change results                                           */
/* ------------------------------------------------------------------------ */

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every event record, serialised and sorted: the same set whatever order
 * the experts finished in. */
static char **sorted_events(const struct broker_run *br, size_t *count)
{
    size_t n = hx_jsonl_count_type(&br->doc, "event");
    char **texts = calloc(n + 1, sizeof(*texts));
    ck_assert_ptr_nonnull(texts);
    for (size_t i = 0; i < n; i++)
        texts[i] = hx_json_serialize(hx_jsonl_nth(&br->doc, "event", i));
    qsort(texts, n, sizeof(*texts), compare_strings);
    *count = n;
    return texts;
}

START_TEST(test_jobs_same_events)
{
    const char *counter = test_expert("counter");
    const char *protodist = sample_expert("protodist");
    const char *many = test_expert("many_events");
    struct broker_run one, two;
    broker(&one, "run", "-q", "-j", "1", "-r", sample_pcap(), "-e", counter, "-e", protodist,
           "-e", many, NULL);
    broker(&two, "run", "-q", "--jobs", "2", "-r", sample_pcap(), "-e", counter, "-e", protodist,
           "-e", many, NULL);
    assert_exit(&one, 0);
    assert_exit(&two, 0);
    assert_run_shape(&one, 3);
    assert_run_shape(&two, 3);
    ck_assert_msg(number_of(outcome_of(&one, 2), "events") == run_frames(&one),
                  "many_events: one event per frame expected");

    size_t n1, n2;
    char **e1 = sorted_events(&one, &n1);
    char **e2 = sorted_events(&two, &n2);
    ck_assert_uint_eq(n1, n2);
    for (size_t i = 0; i < n1; i++)
        ck_assert_msg(strcmp(e1[i], e2[i]) == 0, "-j 1 and -j 2 differ:\n%s\n%s", e1[i], e2[i]);
    for (size_t i = 0; i < n1; i++) {
        free(e1[i]);
        free(e2[i]);
    }
    free(e1);
    free(e2);
    broker_free(&one);
    broker_free(&two);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Captures that cannot be used                                             */
/* ------------------------------------------------------------------------ */

static void assert_capture_refused(const char *capture, const char *why)
{
    struct broker_run br;
    broker(&br, "run", "-r", capture, "-e", test_expert("counter"), NULL);
    ck_assert_msg(br.r.exited && br.r.exit_code == 3, "%s capture: expected exit 3, got %s; stderr:\n%s",
                  why, br.status, br.r.err);
    assert_one_error_line(&br, capture);
    ck_assert_msg(hx_jsonl_count_type(&br.doc, "event") == 0, "%s capture: events were written", why);
    broker_free(&br);
}

START_TEST(test_capture_missing)
{
    assert_capture_refused(scratch_file("no-such-capture.pcap"), "missing");
}
END_TEST

START_TEST(test_capture_directory)
{
    assert_capture_refused(scratch_dir, "directory");
}
END_TEST

START_TEST(test_capture_empty)
{
    const char *path = scratch_file("empty.pcap");
    ck_assert_int_eq(hx_write_file(path, "", 0), 0);
    assert_capture_refused(path, "empty");
}
END_TEST

START_TEST(test_capture_unreadable)
{
    /* Opens, but every read at offset 0 fails (EIO), even for root. */
    assert_capture_refused("/proc/self/mem", "unreadable");

    /* Permission denied; root reads a mode-000 file anyway. */
    if (geteuid() != 0) {
        const char *path = scratch_file("unreadable.pcap");
        size_t len;
        char *data = hx_read_file(sample_pcap(), &len);
        ck_assert_ptr_nonnull(data);
        ck_assert_int_eq(hx_write_file(path, data, len), 0);
        free(data);
        ck_assert_int_eq(chmod(path, 0), 0);
        assert_capture_refused(path, "unreadable");
    }
}
END_TEST

START_TEST(test_capture_truncated)
{
    const char *path = scratch_file("cut.pcap");
    write_cut_sample(path, 1000);
    assert_capture_refused(path, "truncated");
}
END_TEST

START_TEST(test_capture_random_bytes)
{
    const char *path = scratch_file("noise.pcap");
    write_noise(path, 4096);
    assert_capture_refused(path, "random");
}
END_TEST

START_TEST(test_capture_text)
{
    const char *path = scratch_file("notes.pcap");
    const char text[] = "This is a text file, not a capture.\n";
    ck_assert_int_eq(hx_write_file(path, text, sizeof(text) - 1), 0);
    assert_capture_refused(path, "text");
}
END_TEST

START_TEST(test_allow_truncated)
{
    const char *path = scratch_file("cut.pcap");
    uint32_t intact = write_cut_sample(path, 1000);
    struct broker_run br;
    broker(&br, "run", "--allow-truncated", "--no-table", "-r", path, "-e",
           test_expert("counter"), NULL);
    assert_exit(&br, 0);
    assert_run_shape(&br, 1);
    assert_outcome(&br, 0, "done");
    ck_assert_msg(run_frames(&br) == intact, "run record: %g frames, %u intact", run_frames(&br),
                  intact);
    ck_assert_msg(column_number(event_of(&br, 0, 0), "Frames") == intact,
                  "counter saw %g frames, %u intact", column_number(event_of(&br, 0, 0), "Frames"),
                  intact);
    broker_free(&br);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Experts that cannot be used                                              */
/* ------------------------------------------------------------------------ */

/* Refused before anything runs: exit 4, one line, no events from anyone. */
static void assert_expert_refused(const char *expert, const char *why)
{
    struct broker_run br;
    broker(&br, "run", "-r", sample_pcap(), "-e", test_expert("counter"), "-e", expert, NULL);
    ck_assert_msg(br.r.exited && br.r.exit_code == 4, "%s expert: expected exit 4, got %s; stderr:\n%s",
                  why, br.status, br.r.err);
    assert_one_error_line(&br, expert);
    ck_assert_msg(hx_jsonl_count_type(&br.doc, "event") == 0,
                  "%s expert: something ran although the expert list was refused", why);
    broker_free(&br);
}

START_TEST(test_expert_missing)
{
    assert_expert_refused(scratch_file("no-such-expert.so"), "missing");
}
END_TEST

START_TEST(test_expert_text_file)
{
    const char *path = scratch_file("readme.so");
    const char text[] = "Not an ELF file at all.\n";
    ck_assert_int_eq(hx_write_file(path, text, sizeof(text) - 1), 0);
    assert_expert_refused(path, "text");
}
END_TEST

START_TEST(test_expert_empty_file)
{
    const char *path = scratch_file("empty.so");
    ck_assert_int_eq(hx_write_file(path, "", 0), 0);
    assert_expert_refused(path, "empty");
}
END_TEST

START_TEST(test_expert_directory)
{
    assert_expert_refused(scratch_dir, "directory");
}
END_TEST

/* Loaded in a worker and found wanting: its own outcome, the others run. */
static void assert_expert_outcome(const char *expert, const char *outcome)
{
    struct broker_run br;
    broker(&br, "run", "--no-table", "-r", sample_pcap(), "-e", expert, "-e",
           test_expert("counter"), NULL);
    assert_exit(&br, 4);
    assert_run_shape(&br, 2);
    assert_outcome(&br, 0, outcome);
    ck_assert_uint_eq(number_of(outcome_of(&br, 0), "events"), 0);
    ck_assert_uint_eq(number_of(outcome_of(&br, 0), "frames_read"), 0);
    assert_outcome(&br, 1, "done");
    assert_one_error_line(&br, expert);
    broker_free(&br);
}

START_TEST(test_expert_no_register)
{
    assert_expert_outcome(test_expert("no_register"), "load_failed");
}
END_TEST

START_TEST(test_expert_no_run)
{
    assert_expert_outcome(test_expert("no_run"), "load_failed");
}
END_TEST

START_TEST(test_expert_register_fails)
{
    assert_expert_outcome(test_expert("register_fails"), "register_failed");
}
END_TEST

START_TEST(test_expert_elf_executable)
{
    /* An ELF file, but an executable: dlopen refuses it in the worker. */
    assert_expert_outcome(broker_path(), "load_failed");
}
END_TEST

START_TEST(test_file_failure_beats_expert_failure)
{
    struct broker_run br;
    broker(&br, "run", "-q", "-r", sample_pcap(), "-e", test_expert("crash_after_events"), "-e",
           test_expert("no_run"), NULL);
    assert_exit(&br, 4);
    assert_run_shape(&br, 2);
    assert_outcome(&br, 0, "crashed");
    assert_outcome(&br, 1, "load_failed");
    broker_free(&br);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Usage                                                                    */
/* ------------------------------------------------------------------------ */

START_TEST(test_usage_errors)
{
    const char *pcap = sample_pcap();
    const char *counter = test_expert("counter");
    const char *const cases[][12] = {
        {NULL},
        {"frobnicate", NULL},
        {"run", NULL},
        {"run", "-e", counter, NULL},                                   /* no capture */
        {"run", "-r", pcap, NULL},                                      /* no expert */
        {"run", "-r", pcap, "-e", counter, "--no-such-option", NULL},
        {"run", "-r", pcap, "-e", counter, "-j", "0", NULL},
        {"run", "-r", pcap, "-e", counter, "-j", "two", NULL},
        {"run", "-r", pcap, "-e", counter, "-j", NULL},                 /* missing argument */
        {"run", "-r", pcap, "-e", counter, "-m", "1K", NULL},           /* below 64K */
        {"run", "-r", pcap, "-e", counter, "-m", "65535", NULL},
        {"run", "-r", pcap, "-e", counter, "-m", "12X", NULL},
        {"run", "-r", pcap, "-e", counter, "-m", "-1", NULL},
        {"run", "-r", pcap, "-e", NULL},                                /* -e without a file */
        {"run", "-r", pcap, "-e", counter, "-o", NULL},
        {"list", NULL},
        {"list", "--no-such-option", counter, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *argv[16] = {broker_path()};
        size_t n = 1;
        for (size_t k = 0; cases[i][k] != NULL; k++)
            argv[n++] = cases[i][k];
        argv[n] = NULL;
        struct hx_result r;
        ck_assert_int_eq(hx_run(argv, &r), 0);
        char status[96];
        char joined[1024] = "";
        for (size_t k = 1; k < n; k++) {
            strncat(joined, " ", sizeof(joined) - strlen(joined) - 1);
            strncat(joined, argv[k], sizeof(joined) - strlen(joined) - 1);
        }
        ck_assert_msg(r.exited && r.exit_code == 2, "expert-broker%s: expected exit 2, got %s",
                      joined, hx_describe_status(&r, status, sizeof(status)));
        ck_assert_msg(r.err_len > 0, "expert-broker%s: no message on stderr", joined);
        ck_assert_msg(!hx_contains(r.out, "\"type\":\"event\""), "expert-broker%s: ran anyway",
                      joined);
        hx_result_free(&r);
    }
}
END_TEST

START_TEST(test_help_and_version)
{
    const char *const help_forms[][2] = {{"--help", NULL}, {"-h", NULL}, {"help", NULL}};
    for (size_t i = 0; i < 3; i++) {
        struct broker_run br;
        broker(&br, help_forms[i][0], NULL);
        assert_exit(&br, 0);
        ck_assert_msg(hx_contains(br.r.out, "run") && hx_contains(br.r.out, "list"),
                      "%s does not describe run and list:\n%s", help_forms[i][0], br.r.out);
        ck_assert_msg(hx_contains(br.r.out, "--allow-truncated"), "%s misses options",
                      help_forms[i][0]);
        broker_free(&br);
    }
    struct broker_run br;
    broker(&br, "--version", NULL);
    assert_exit(&br, 0);
    ck_assert_msg(hx_contains(br.r.out, "expert-broker"), "--version says:\n%s", br.r.out);
    broker_free(&br);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Memory quota, display filter, hostile text                               */
/* ------------------------------------------------------------------------ */

START_TEST(test_memory_quota)
{
    struct broker_run br;
    broker(&br, "run", "-q", "-m", "64K", "-r", sample_pcap(), "-e",
           test_expert("alloc_until_null"), NULL);
    assert_exit(&br, 0);
    assert_run_shape(&br, 1);
    assert_outcome(&br, 0, "done");
    const struct hx_json *ev = event_of(&br, 0, 0);
    double allocated = column_number(ev, "Allocated bytes");
    ck_assert_msg(allocated > 0 && allocated <= 64 * 1024,
                  "with a 64K quota the expert got %g bytes", allocated);
    ck_assert_uint_eq(column_number(ev, "Error"), 19 /* NMERR_OUT_OF_MEMORY */);
    const struct hx_json *again = column_value(ev, "Again after free");
    ck_assert_msg(again->type == HX_JSON_STRING && strcmp(again->string, "yes") == 0,
                  "memory freed at the quota could not be allocated again");
    ck_assert_uint_eq(number_of(hx_json_get(outcome_of(&br, 0), "heap"), "quota"), 64 * 1024);
    broker_free(&br);

    /* A larger quota lets it have more: the quota is the limit, not a constant. */
    broker(&br, "run", "-q", "--memory", "1M", "-r", sample_pcap(), "-e",
           test_expert("alloc_until_null"), NULL);
    assert_exit(&br, 0);
    double more = column_number(event_of(&br, 0, 0), "Allocated bytes");
    ck_assert_msg(more > allocated && more <= 1024 * 1024, "1M quota: %g bytes (64K gave %g)",
                  more, allocated);
    broker_free(&br);
}
END_TEST

/* How many frames of the sample pass `expr`, by libpcap's own filter engine. */
static unsigned frames_passing(const char *expr)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(sample_pcap(), errbuf);
    ck_assert_msg(p != NULL, "%s", errbuf);
    struct bpf_program prog;
    ck_assert_msg(pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) == 0, "%s",
                  pcap_geterr(p));
    unsigned passing = 0;
    struct pcap_pkthdr *header;
    const u_char *data;
    while (pcap_next_ex(p, &header, &data) == 1)
        if (pcap_offline_filter(&prog, header, data))
            passing++;
    pcap_freecode(&prog);
    pcap_close(p);
    return passing;
}

START_TEST(test_display_filter)
{
    const char *filtered = test_expert("filtered_counter");
    const char *counter = test_expert("counter");
    const char *filters[] = {"tcp", "udp and not port 53", "ip6 or arp"};
    for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
        struct broker_run br;
        broker(&br, "run", "-q", "-f", filters[i], "-r", sample_pcap(), "-e", filtered, "-e",
               counter, NULL);
        assert_exit(&br, 0);
        assert_run_shape(&br, 2);
        unsigned expected = frames_passing(filters[i]);
        ck_assert_msg(column_number(event_of(&br, 0, 0), "Frames") == expected,
                      "filter \"%s\": expert saw %g frames, libpcap says %u", filters[i],
                      column_number(event_of(&br, 0, 0), "Frames"), expected);
        /* The filter is for experts that defer to it, not for everyone. */
        ck_assert_msg(column_number(event_of(&br, 1, 0), "Frames") == run_frames(&br),
                      "filter \"%s\" hid frames from an expert that did not ask for it", filters[i]);
        ck_assert_str_eq(hx_json_get_string(hx_jsonl_nth(&br.doc, "run", 0), "filter"), filters[i]);
        broker_free(&br);
    }

    /* Without --filter every frame passes. */
    struct broker_run br;
    broker(&br, "run", "-q", "-r", sample_pcap(), "-e", filtered, NULL);
    assert_exit(&br, 0);
    ck_assert_msg(column_number(event_of(&br, 0, 0), "Frames") == run_frames(&br),
                  "no filter, yet frames were filtered");
    broker_free(&br);
}
END_TEST

START_TEST(test_bad_filter)
{
    struct broker_run br;
    broker(&br, "run", "--filter", "tcp and and (", "-r", sample_pcap(), "-e",
           test_expert("counter"), NULL);
    assert_exit(&br, 3);
    ck_assert_msg(hx_count_lines(br.r.err, br.r.err_len) == 1, "expected one line:\n%s", br.r.err);
    ck_assert_msg(strncmp(br.r.err, "expert-broker: ", 15) == 0, "bad error line: %s", br.r.err);
    ck_assert_msg(hx_jsonl_count_type(&br.doc, "event") == 0, "ran with a bad filter");
    broker_free(&br);
}
END_TEST

START_TEST(test_hostile_text)
{
    const char *hostile = test_expert("hostile_text");
    struct broker_run br;
    broker(&br, "run", "-q", "-r", sample_pcap(), "-e", hostile, NULL);
    assert_exit(&br, 0);
    assert_run_shape(&br, 1);   /* strict: valid JSON, valid UTF-8, no lone surrogates */
    assert_outcome(&br, 0, "done");
    ck_assert_uint_eq(hx_jsonl_count_type(&br.doc, "event"), 3);

    const struct hx_json *all_types = event_of(&br, 0, 0);
    const char *description = hx_json_get_string(all_types, "description");
    ck_assert_ptr_nonnull(description);
    ck_assert_msg(hx_contains(description, "quote\" backslash\\ slash/"),
                  "quotes and backslashes did not survive: %s", description);
    ck_assert_msg(hx_contains(description, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa6"),
                  "valid UTF-8 did not survive: %s", description);
    ck_assert_uint_eq(column_number(all_types, "u32"), 4294967295u);
    ck_assert_int_eq((int)column_number(all_types, "s32"), -2147483647 - 1);
    ck_assert_int_eq((int)column_number(all_types, "s8"), -128);
    ck_assert_uint_eq(column_number(all_types, "frame"), 1);
    ck_assert_msg(fabs(column_number(all_types, "f64") - 1.0 / 3.0) < 1e-15, "float64 lost");
    ck_assert_str_eq(column_value(all_types, "ip")->string, "192.168.1.2");

    const struct hx_json *overlong = event_of(&br, 0, 1);
    const struct hx_json *truncated = hx_json_get(overlong, "truncated");
    ck_assert_msg(truncated && truncated->type == HX_JSON_BOOL && truncated->boolean,
                  "20000-byte texts and 255 long columns were not marked truncated");
    const char *long_description = hx_json_get_string(overlong, "description");
    ck_assert_msg(long_description && strlen(long_description) < 20000,
                  "the over-long description was not cut");
    broker_free(&br);

    broker(&br, "list", "--json", hostile, NULL);
    assert_exit(&br, 0);
    assert_json(&br);
    ck_assert_uint_eq(br.doc.count, 1);
    ck_assert_msg(hx_contains(hx_json_get_string(br.doc.records[0], "name"), "Hostile \"text\""),
                  "registration name mangled");
    broker_free(&br);

    /* The text listing goes to people: no control character may reach them. */
    broker(&br, "list", hostile, NULL);
    assert_exit(&br, 0);
    for (size_t i = 0; i < br.r.out_len; i++) {
        unsigned char c = (unsigned char)br.r.out[i];
        ck_assert_msg(c >= 0x20 || c == '\n', "control byte 0x%02x in the text listing", c);
        ck_assert_msg(c != 0x7f, "DEL in the text listing");
    }
    broker_free(&br);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The corpus: every capture of tcpdump's test suite                        */
/* ------------------------------------------------------------------------ */

static int regular_file_filter(const struct dirent *entry)
{
    return entry->d_name[0] != '.';
}

/* One finding per capture that broke the contract, collected so that a
 * failure lists all of them rather than the first. */
struct findings {
    char text[16384];
    size_t count;
};

__attribute__((format(printf, 2, 3)))
static void finding(struct findings *f, const char *fmt, ...)
{
    f->count++;
    size_t used = strlen(f->text);
    if (used + 200 >= sizeof(f->text))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->text + used, sizeof(f->text) - used, fmt, ap);
    va_end(ap);
    strncat(f->text, "\n", sizeof(f->text) - strlen(f->text) - 1);
}

/* Checks one analysed capture: valid output, the counter done, every frame. */
static void check_analysed(struct findings *f, const char *path, const struct hx_result *r)
{
    struct hx_jsonl doc;
    if (hx_jsonl_parse(r->out, r->out_len, &doc) != 0) {
        finding(f, "%s: invalid JSON on line %zu: %s", path, doc.bad_line, doc.error);
        hx_jsonl_free(&doc);
        return;
    }
    const struct hx_json *run = hx_jsonl_nth(&doc, "run", 0);
    const struct hx_json *outcome = hx_jsonl_nth(&doc, "outcome", 0);
    const struct hx_json *event = hx_jsonl_nth(&doc, "event", 0);
    const char *kind = hx_json_get_string(outcome, "outcome");
    double frames = -1, counted = -2;
    hx_json_get_number(run, "frames", &frames);
    const struct hx_json *columns = hx_json_get(event, "columns");
    if (columns != NULL && columns->type == HX_JSON_ARRAY && columns->count > 0)
        hx_json_get_number(&columns->items[0], "value", &counted);
    if (kind == NULL || strcmp(kind, "done") != 0)
        finding(f, "%s: exit 0 but outcome %s", path, kind ? kind : "(none)");
    else if (counted != frames)
        finding(f, "%s: counter saw %g frames, run record says %g", path, counted, frames);
    else if (r->err_len != 0)
        finding(f, "%s: -q, yet stderr says: %s", path, r->err);
    hx_jsonl_free(&doc);
}

START_TEST(test_corpus)
{
    const char *dir = required_env("ES_SHARED_CAPTURES");
    const char *counter = test_expert("counter");
    struct dirent **entries;
    int n = scandir(dir, &entries, regular_file_filter, alphasort);
    ck_assert_msg(n > 0, "no captures in %s: %s", dir, strerror(errno));

    size_t count = (size_t)n;
    struct hx_job *jobs = calloc(count, sizeof(*jobs));
    char **paths = calloc(count, sizeof(*paths));
    const char **argvs = calloc(count * 10, sizeof(*argvs));
    ck_assert(jobs && paths && argvs);
    for (size_t i = 0; i < count; i++) {
        paths[i] = hx_path_join(dir, entries[i]->d_name);
        const char **argv = &argvs[i * 10];
        size_t k = 0;
        argv[k++] = broker_path();
        argv[k++] = "run";
        argv[k++] = "--jobs";
        argv[k++] = "1";
        argv[k++] = "-q";
        argv[k++] = "-r";
        argv[k++] = paths[i];
        argv[k++] = "-e";
        argv[k++] = counter;
        argv[k] = NULL;
        jobs[i].argv = argv;
        free(entries[i]);
    }
    free(entries);

    /* Each run is one broker and one worker, and under AddressSanitizer
     * much of a run is spent waiting (process start-up, exit, LeakSanitizer),
     * so up to 4 at once even on 2 CPUs keeps the corpus well within time. */
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned parallel = cpus >= 2 ? 4 : 2;
    ck_assert_msg(hx_run_many(jobs, count, parallel) == 0, "could not run the broker: %s",
                  strerror(errno));

    struct findings *f = calloc(1, sizeof(*f));
    ck_assert_ptr_nonnull(f);
    size_t analysed = 0, refused = 0;
    for (size_t i = 0; i < count; i++) {
        const struct hx_result *r = &jobs[i].result;
        char status[96];
        if (r->signaled) {
            finding(f, "%s: the broker was killed by %s", paths[i],
                    hx_describe_status(r, status, sizeof(status)));
        } else if (r->exited && r->exit_code == 0) {
            analysed++;
            check_analysed(f, paths[i], r);
        } else if (r->exited && r->exit_code == 3) {
            refused++;
            if (hx_count_lines(r->err, r->err_len) != 1 || !hx_contains(r->err, paths[i])
                || strncmp(r->err, "expert-broker: ", 15) != 0)
                finding(f, "%s: refused, but stderr is not one line naming it:\n%s", paths[i],
                        r->err);
        } else {
            finding(f, "%s: %s; stderr: %s", paths[i],
                    hx_describe_status(r, status, sizeof(status)), r->err);
        }
    }
    printf("corpus %s: %zu files, %zu analysed, %zu refused, %zu broke the contract\n", dir, count,
           analysed, refused, f->count);
    fflush(stdout);
    ck_assert_msg(f->count == 0, "%zu of %zu captures broke the contract:\n%s", f->count, count,
                  f->text);

    for (size_t i = 0; i < count; i++) {
        hx_result_free(&jobs[i].result);
        free(paths[i]);
    }
    free(f);
    free(jobs);
    free(paths);
    free(argvs);
}
END_TEST

/* ------------------------------------------------------------------------ */

static Suite *integration_suite(void)
{
    Suite *s = suite_create("integration");

    TCase *run = tcase_create("run");
    tcase_add_checked_fixture(run, scratch_setup, scratch_teardown);
    tcase_add_test(run, test_normal_run);
    tcase_add_test(run, test_quiet_and_no_table);
    tcase_add_test(run, test_output_file);
    tcase_add_test(run, test_jobs_same_events);
    tcase_add_test(run, test_memory_quota);
    tcase_add_test(run, test_display_filter);
    tcase_add_test(run, test_bad_filter);
    tcase_add_test(run, test_hostile_text);
    suite_add_tcase(s, run);

    TCase *isolation = tcase_create("isolation");
    tcase_add_test(isolation, test_crash_isolation);
    tcase_add_test(isolation, test_outcome_before_reap);
    tcase_add_test(isolation, test_init_reports_at_exit_stop);
    tcase_add_test(isolation, test_abort_is_a_crash);
    tcase_add_test(isolation, test_run_returns_false_is_a_problem);
    tcase_add_test(isolation, test_in_process_no_leaks);
    suite_add_tcase(s, isolation);

    TCase *pool = tcase_create("pool");
    tcase_add_checked_fixture(pool, scratch_setup, scratch_teardown);
    tcase_add_test(pool, test_pool_unused_workers_reaped);
    tcase_add_test(pool, test_pool_worker_dies_waiting);
    suite_add_tcase(s, pool);

    TCase *list = tcase_create("list");
    tcase_add_test(list, test_list_text);
    tcase_add_test(list, test_list_json);
    tcase_add_test(list, test_list_register_fails);
    tcase_add_test(list, test_check_json);
    suite_add_tcase(s, list);

    TCase *bad = tcase_create("bad_inputs");
    tcase_add_checked_fixture(bad, scratch_setup, scratch_teardown);
    tcase_add_test(bad, test_capture_missing);
    tcase_add_test(bad, test_capture_directory);
    tcase_add_test(bad, test_capture_empty);
    tcase_add_test(bad, test_capture_unreadable);
    tcase_add_test(bad, test_capture_truncated);
    tcase_add_test(bad, test_capture_random_bytes);
    tcase_add_test(bad, test_capture_text);
    tcase_add_test(bad, test_allow_truncated);
    tcase_add_test(bad, test_expert_missing);
    tcase_add_test(bad, test_expert_text_file);
    tcase_add_test(bad, test_expert_empty_file);
    tcase_add_test(bad, test_expert_directory);
    tcase_add_test(bad, test_expert_no_register);
    tcase_add_test(bad, test_expert_no_run);
    tcase_add_test(bad, test_expert_register_fails);
    tcase_add_test(bad, test_expert_elf_executable);
    tcase_add_test(bad, test_file_failure_beats_expert_failure);
    tcase_add_test(bad, test_usage_errors);
    tcase_add_test(bad, test_help_and_version);
    suite_add_tcase(s, bad);

    /* 830 broker runs: the only test that needs more than the default time. */
    TCase *corpus = tcase_create("corpus");
    tcase_set_timeout(corpus, 600);
    tcase_add_test(corpus, test_corpus);
    suite_add_tcase(s, corpus);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(integration_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
