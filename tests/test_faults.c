/*
 * test_faults.c - the fault-injection sweep finds each planted fault at its
 * site and nowhere else; the sample experts come out clean; and (built with
 * libfiu) the broker survives its own failures: each gives a clear error,
 * releases what it acquired and spares the experts it did not hit.
 *
 * Real workers, real experts (tests/experts/flawed/), real captures: the
 * sweeps run in this process through es_faults and es_run, and once through
 * the expert-broker binary for the command line and its JSON.  Nothing here
 * measures time; timeouts only bound how long an expert that ignores a
 * terminate request keeps running.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker.h"
#include "faults.h"
#include "harness.h"
#include "standin_worker.h"

#ifdef ES_FAULT_POINTS
#include <fiu-control.h>
#endif

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static FILE *silent(void)
{
    FILE *f = fopen("/dev/null", "w");
    ck_assert_ptr_nonnull(f);
    return f;
}

/* A sweep of one expert, every site of both kinds unless `sample` says
 * fewer; `timeout`, `grace` 0 for the defaults. */
static enum es_exit sweep(const char *expert, const char *capture, uint64_t sample, double timeout,
                          double grace, struct es_faults_report *report)
{
    FILE *diag = silent();
    struct es_faults_options opt = {
        .capture_path = capture,
        .expert = expert,
        .jobs = 2,
        .sample = sample ? sample : 100000,
        .seed = 1,
        .timeout_seconds = timeout,
        .grace_seconds = grace > 0 ? grace : -1,
        .worker_path = getenv("ES_WORKER"),
        .diagnostics = diag,
    };
    enum es_exit status = es_faults(&opt, report);
    fclose(diag);
    ck_assert_int_eq(status, report->exit_code);
    return status;
}

static const struct es_fault_site *site_at(const struct es_faults_report *r, enum es_fault_kind kind,
                                           uint64_t call)
{
    for (size_t i = 0; i < r->count; i++)
        if (r->sites[i].kind == kind && r->sites[i].call == call)
            return &r->sites[i];
    return NULL;
}

/* The verdict as text, for looking for words in it; malloc'd. */
static char *verdict_text(const struct es_faults_report *r)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(es_faults_write_table(f, r), 0);
    fclose(f);
    return text;
}

/* Reports are longer than a Check message may be: on failure the whole
 * report goes to stderr and the message names what was missing. */
static void assert_in_report(const char *report, const char *words)
{
    if (strstr(report, words) == NULL)
        fprintf(stderr, "%s", report);
    ck_assert_msg(strstr(report, words) != NULL, "the report (on stderr) does not say \"%.300s\"", words);
}

/* ------------------------------------------------------------------------ */
/* Sampling                                                                 */
/* ------------------------------------------------------------------------ */

START_TEST(test_sample_is_deterministic)
{
    uint64_t *a = NULL, *b = NULL, *c = NULL;
    ck_assert_int_eq(es_faults_choose_sites(5234, 200, 1, 1, &a), 200);
    ck_assert_int_eq(es_faults_choose_sites(5234, 200, 1, 1, &b), 200);
    ck_assert_int_eq(es_faults_choose_sites(5234, 200, 2, 1, &c), 200);
    ck_assert_mem_eq(a, b, 200 * sizeof *a);
    ck_assert_msg(memcmp(a, c, 200 * sizeof *a) != 0, "another seed, the same sample");
    /* The first few and the last are always there; ascending, no repeats. */
    for (uint64_t i = 0; i < 8; i++)
        ck_assert_uint_eq(a[i], i + 1);
    ck_assert_uint_eq(a[199], 5234);
    for (size_t i = 1; i < 200; i++)
        ck_assert_uint_lt(a[i - 1], a[i]);
    free(a);
    free(b);
    free(c);

    /* No more sites than the limit: all of them. */
    ck_assert_int_eq(es_faults_choose_sites(7, 200, 1, 1, &a), 7);
    for (uint64_t i = 0; i < 7; i++)
        ck_assert_uint_eq(a[i], i + 1);
    free(a);
    ck_assert_int_eq(es_faults_choose_sites(0, 200, 1, 1, &a), 0);
    free(a);
    ck_assert_int_eq(es_faults_choose_sites(50, 3, 9, 2, &a), 3);
    ck_assert_uint_eq(a[0], 1);
    ck_assert_uint_eq(a[2], 50);
    free(a);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Planted faults, each at its site                                         */
/* ------------------------------------------------------------------------ */

START_TEST(test_alloc_deref_crashes_at_site_3)
{
    struct es_faults_report r;
    enum es_exit status = sweep(FLAWED_ALLOC_DEREF, FAULTS_CAPTURE, 0, 0, 0, &r);
    ck_assert_int_eq(status, ES_EXIT_EXPERT_FAILED);
    ck_assert_int_eq(r.baseline_finding, ES_FINDING_HANDLED);
    ck_assert_uint_eq(r.alloc_calls, 5);
    ck_assert(!r.alloc_sampled);
    ck_assert_uint_eq(r.alloc_sites_tested, 5);
    for (uint64_t call = 1; call <= 5; call++) {
        const struct es_fault_site *s = site_at(&r, ES_FAULT_SITE_ALLOC, call);
        ck_assert_ptr_nonnull(s);
        if (call == 3) {
            ck_assert_msg(s->finding == ES_FINDING_CRASHED && s->signal == SIGSEGV,
                          "alloc site 3: %s, signal %d: %s", es_fault_finding_name(s->finding), s->signal,
                          s->detail);
            ck_assert_int_eq(s->last_frame, 39);   /* after reading all 40 frames */
        } else {
            ck_assert_msg(s->finding == ES_FINDING_HANDLED, "alloc site %llu: %s: %s",
                          (unsigned long long)call, es_fault_finding_name(s->finding), s->detail);
        }
    }
    char *text = verdict_text(&r);
    assert_in_report(text, "crashes when allocation 3 fails (SIGSEGV after frame 40): check the result of "
                           "every ExpertAllocMemory");
    free(text);
    es_faults_report_free(&r);
}
END_TEST

START_TEST(test_abort_leak_leaks_at_terminate_sites)
{
    struct es_faults_report r;
    enum es_exit status = sweep(FLAWED_ABORT_LEAK, FAULTS_CAPTURE, 0, 0, 0, &r);
    ck_assert_int_eq(status, ES_EXIT_EXPERT_FAILED);
    /* Nothing left at a normal return, nor when an allocation fails. */
    ck_assert_int_eq(r.baseline_finding, ES_FINDING_HANDLED);
    ck_assert_uint_eq(r.baseline_heap_blocks, 0);
    ck_assert_uint_eq(r.alloc_calls, 2);
    for (uint64_t call = 1; call <= 2; call++) {
        const struct es_fault_site *s = site_at(&r, ES_FAULT_SITE_ALLOC, call);
        ck_assert_ptr_nonnull(s);
        ck_assert_msg(s->finding == ES_FINDING_HANDLED, "alloc site %llu: %s: %s", (unsigned long long)call,
                      es_fault_finding_name(s->finding), s->detail);
    }
    /* 40 frames: calls 2..42 are ExpertGetFrame; a terminate there leaves
     * the state block behind.  Call 1 is the state's own allocation. */
    ck_assert_uint_eq(r.helper_calls, 46);
    const struct es_fault_site *first = site_at(&r, ES_FAULT_SITE_TERMINATE, 1);
    ck_assert_ptr_nonnull(first);
    ck_assert_int_eq(first->finding, ES_FINDING_HANDLED);
    for (uint64_t call = 2; call <= 42; call++) {
        const struct es_fault_site *s = site_at(&r, ES_FAULT_SITE_TERMINATE, call);
        ck_assert_ptr_nonnull(s);
        ck_assert_msg(s->finding == ES_FINDING_LEAKED && s->heap_blocks == 1,
                      "terminate site %llu: %s, %llu blocks: %s", (unsigned long long)call,
                      es_fault_finding_name(s->finding), (unsigned long long)s->heap_blocks, s->detail);
    }
    char *text = verdict_text(&r);
    assert_in_report(text, "\nVerdict: leaks ");
    assert_in_report(text, "helper call 2");
    free(text);
    es_faults_report_free(&r);
}
END_TEST

START_TEST(test_ignores_terminate)
{
    struct es_faults_report r;
    /* Each run that ignores the request lasts the timeout and the grace
     * period: a handful of sites is enough. */
    enum es_exit status = sweep(FLAWED_IGNORES_TERMINATE, FAULTS_CAPTURE, 4, 1.0, 0.25, &r);
    ck_assert_int_eq(status, ES_EXIT_EXPERT_FAILED);
    ck_assert_int_eq(r.baseline_finding, ES_FINDING_HANDLED);
    ck_assert_uint_eq(r.alloc_calls, 0);
    ck_assert_uint_eq(r.helper_calls, 43);   /* 2 status calls, 40 frames, NMERR_NO_MORE_FRAMES */
    ck_assert(r.terminate_sampled);
    ck_assert_uint_eq(r.count, 4);
    uint64_t first_ignored = 0;
    for (size_t i = 0; i < r.count; i++) {
        const struct es_fault_site *s = &r.sites[i];
        enum es_fault_finding expected = s->call <= 2 ? ES_FINDING_HANDLED : ES_FINDING_IGNORED_TERMINATE;
        ck_assert_msg(s->finding == expected, "terminate site %llu: %s: %s", (unsigned long long)s->call,
                      es_fault_finding_name(s->finding), s->detail);
        if (expected == ES_FINDING_IGNORED_TERMINATE) {
            ck_assert_int_eq(s->outcome, ES_OUTCOME_TIMEOUT);
            if (!first_ignored)
                first_ignored = s->call;
        }
    }
    ck_assert_uint_gt(first_ignored, 0);
    char *text = verdict_text(&r);
    char expected[128];
    snprintf(expected, sizeof expected, "ignores NMERR_EXPERT_TERMINATE from helper call %llu on",
             (unsigned long long)first_ignored);
    assert_in_report(text, expected);
    assert_in_report(text, "sampled 4 of 43 helper-call sites, seed 1");
    free(text);
    es_faults_report_free(&r);
}
END_TEST

/* The capture is shorter than announced: run --inject short-capture=N. */
START_TEST(test_short_capture_crashes)
{
    const char *experts[] = {FLAWED_SHORT_CAPTURE, FLAWED_SHORT_CAPTURE};
    struct es_injection each[2] = {{0}, {.short_capture = true, .short_capture_frames = 10}};
    FILE *diag = silent();
    struct es_run_options opt = {
        .capture_path = FAULTS_CAPTURE,
        .experts = experts,
        .expert_count = 2,
        .jobs = 2,
        .worker_path = getenv("ES_WORKER"),
        .diagnostics = diag,
        .grace_seconds = -1,
        .inject_each = each,
    };
    struct es_run_result result;
    enum es_exit status = es_run(&opt, &result);
    fclose(diag);
    ck_assert_uint_eq(result.count, 2);
    const struct es_outcome *whole = &result.outcomes[0], *cut = &result.outcomes[1];
    ck_assert_msg(whole->kind == ES_OUTCOME_DONE, "whole capture: %s: %s", es_outcome_name(whole->kind),
                  whole->detail);
    ck_assert_msg(cut->kind == ES_OUTCOME_CRASHED && cut->signal == SIGSEGV, "short capture: %s: %s",
                  es_outcome_name(cut->kind), cut->detail);
    ck_assert_uint_eq(cut->frames_read, 10);
    ck_assert_int_eq(cut->last_frame, 9);
    ck_assert_int_eq(status, ES_EXIT_EXPERT_FAILED);
    es_run_result_free(&result);

    /* The same through the whole-run injection, as `run --inject` does. */
    diag = silent();
    opt.inject_each = NULL;
    opt.expert_count = 1;
    char why[128];
    ck_assert_int_eq(es_injection_parse("short-capture=25", &opt.inject, why, sizeof why), 0);
    opt.diagnostics = diag;
    status = es_run(&opt, &result);
    fclose(diag);
    ck_assert_uint_eq(result.count, 1);
    ck_assert_int_eq(result.outcomes[0].kind, ES_OUTCOME_CRASHED);
    ck_assert_int_eq(result.outcomes[0].last_frame, 24);
    es_run_result_free(&result);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Clean experts                                                            */
/* ------------------------------------------------------------------------ */

/* Sweeps the expert; true when nothing was found.  Otherwise its whole
 * report goes to stderr (too long for a Check message). */
static bool sweeps_clean(const char *expert, const char *capture, uint64_t sample)
{
    struct es_faults_report r;
    enum es_exit status = sweep(expert, capture, sample, 0, 0, &r);
    char *text = verdict_text(&r);
    bool clean = status == ES_EXIT_OK && strstr(text, "Verdict: clean: handled every fault injected") != NULL &&
                 r.count == r.alloc_sites_tested + r.terminate_sites_tested && r.terminate_sites_tested > 0;
    if (!clean)
        fprintf(stderr, "%s\n", text);
    free(text);
    es_faults_report_free(&r);
    return clean;
}

/* Frees on every path, terminate included: if this one leaks, the host
 * does not free during a terminate request (ExpertFreeMemory must still
 * free then, or no expert can clean up as the reference asks). */
START_TEST(test_tidy_is_clean)
{
    ck_assert_msg(sweeps_clean(FLAWED_TIDY, FAULTS_CAPTURE, 0), "tidy is not clean: its report is on stderr");
}
END_TEST

START_TEST(test_sample_experts_are_clean)
{
    char *list = strdup(SAMPLE_EXPERTS);
    ck_assert_ptr_nonnull(list);
    char *save = NULL;
    char unclean[1000] = "";
    for (char *path = strtok_r(list, ":", &save); path; path = strtok_r(NULL, ":", &save)) {
        if (!sweeps_clean(path, SAMPLE_CAPTURE, 40)) {
            const char *base = strrchr(path, '/');
            size_t used = strlen(unclean);
            snprintf(unclean + used, sizeof unclean - used, " %s", base ? base + 1 : path);
        }
    }
    free(list);
    ck_assert_msg(unclean[0] == '\0', "not clean:%s (their reports are on stderr)", unclean);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The command line                                                         */
/* ------------------------------------------------------------------------ */

START_TEST(test_cli_json_and_table)
{
    const char *broker = getenv("ES_BROKER");
    ck_assert_ptr_nonnull(broker);
    const char *json_argv[] = {broker, "faults", "-r", FAULTS_CAPTURE, "-e", FLAWED_ALLOC_DEREF, "--sample", "6",
                               "-j", "2", "--json", NULL};
    struct hx_result run;
    ck_assert_int_eq(hx_run(json_argv, &run), 0);
    char how[64];
    ck_assert_msg(run.exited && run.exit_code == 1, "%s; stderr:\n%s", hx_describe_status(&run, how, sizeof how),
                  run.err);
    struct hx_jsonl doc;
    ck_assert_msg(hx_jsonl_parse(run.out, run.out_len, &doc) == 0, "line %zu: %s", doc.bad_line, doc.error);
    ck_assert_uint_eq(hx_jsonl_count_type(&doc, "summary"), 1);
    /* Five allocation sites (all), six helper-call sites (sampled). */
    ck_assert_uint_eq(hx_jsonl_count_type(&doc, "site"), 11);
    const struct hx_json *summary = doc.records[doc.count - 1];
    ck_assert_str_eq(hx_json_get_string(summary, "type"), "summary");
    double exit_status;
    ck_assert(hx_json_get_number(summary, "exit_status", &exit_status));
    ck_assert_int_eq((int)exit_status, 1);
    const struct hx_json *terminate = hx_json_get(summary, "terminate_sites");
    ck_assert_ptr_nonnull(terminate);
    const struct hx_json *sampled = hx_json_get(terminate, "sampled");
    ck_assert(sampled && sampled->type == HX_JSON_BOOL && sampled->boolean);
    const struct hx_json *crashed = NULL;
    size_t crashes_at_alloc = 0;
    for (size_t i = 0; i < doc.count; i++) {
        const struct hx_json *rec = doc.records[i];
        const char *kind = hx_json_get_string(rec, "kind");
        const char *finding = hx_json_get_string(rec, "finding");
        if (kind && finding && !strcmp(kind, "alloc") && !strcmp(finding, "crashed")) {
            crashed = rec;
            crashes_at_alloc++;
        }
    }
    ck_assert_uint_eq(crashes_at_alloc, 1);
    double call, last_frame;
    ck_assert(hx_json_get_number(crashed, "call", &call) && call == 3);
    ck_assert_str_eq(hx_json_get_string(crashed, "signal"), "SIGSEGV");
    ck_assert(hx_json_get_number(crashed, "last_frame", &last_frame) && last_frame == 40);
    const struct hx_json *verdict = hx_json_get(summary, "verdict");
    ck_assert(verdict && verdict->type == HX_JSON_ARRAY && verdict->count >= 1);
    ck_assert_msg(strstr(verdict->items[0].string, "crashes when allocation 3 fails") != NULL, "%s",
                  verdict->items[0].string);
    /* The table still reaches a person, on stderr. */
    ck_assert_msg(hx_contains(run.err, "Verdict:"), "%s", run.err);
    hx_jsonl_free(&doc);
    hx_result_free(&run);

    /* Without --json the table is the output (the expert after the options). */
    const char *table_argv[] = {broker, "faults", "-r", FAULTS_CAPTURE, FLAWED_ALLOC_DEREF, "--sample", "5", "-q",
                                NULL};
    ck_assert_int_eq(hx_run(table_argv, &run), 0);
    ck_assert_msg(run.exited && run.exit_code == 1, "%s", hx_describe_status(&run, how, sizeof how));
    assert_in_report(run.out, "\nalloc 3 ");
    assert_in_report(run.out, "all 5 allocation sites, sampled 5 of ");
    assert_in_report(run.out, "helper-call sites, seed 1\n");
    assert_in_report(run.out, "crashes when allocation 3 fails (SIGSEGV after frame 40)");
    ck_assert_uint_eq(run.err_len, 0);
    hx_result_free(&run);

    /* Usage errors are exit 2; a missing expert is 4, with one line. */
    const char *bad_argv[] = {broker, "faults", "-r", FAULTS_CAPTURE, NULL};
    ck_assert_int_eq(hx_run(bad_argv, &run), 0);
    ck_assert(run.exited && run.exit_code == 2);
    hx_result_free(&run);
    const char *missing_argv[] = {broker, "faults", "-r", FAULTS_CAPTURE, "-e", "/nonexistent/x.so", NULL};
    ck_assert_int_eq(hx_run(missing_argv, &run), 0);
    ck_assert_msg(run.exited && run.exit_code == 4, "%s", hx_describe_status(&run, how, sizeof how));
    ck_assert_uint_eq(hx_count_lines(run.err, run.err_len), 1);
    ck_assert_uint_eq(run.out_len, 0);
    hx_result_free(&run);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The broker under its own faults (libfiu)                                 */
/* ------------------------------------------------------------------------ */

#ifdef ES_FAULT_POINTS

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
    return n;
}

/* AddressSanitizer maps and unmaps anonymous memory as the process goes (its
 * shadow, its quarantine): under it only the mappings backed by an object
 * count, which are what a run must release (memfd heaps, frame stores). */
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

static size_t count_mappings(void)
{
    size_t len;
    char *maps = hx_read_file("/proc/self/maps", &len);
    ck_assert_ptr_nonnull(maps);
    size_t n = 0;
    char *save = NULL;
    for (char *line = strtok_r(maps, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        if (!UNDER_ASAN || strchr(line, '/') != NULL)
            n++;
    free(maps);
    return n;
}

/* Fails the `target`th time the point is reached, and only then. */
static unsigned hits, target;
static int fail_on_target(const char *name, int *failnum, void **failinfo, unsigned *flags)
{
    (void)name;
    (void)failnum;
    (void)failinfo;
    (void)flags;
    return ++hits == target;
}

struct fault_run {
    enum es_exit status;
    struct es_run_result result;
    char *diag;
    size_t diag_len;
};

/* counter and tidy over the small capture, with the point failing at its
 * `nth` hit. */
static void run_with_fault(const char *point, unsigned nth, FILE *sink, struct fault_run *fr, bool must_reach)
{
    static const char *const experts[] = {COUNTER_EXPERT, FLAWED_TIDY};
    hits = 0;
    target = nth;
    ck_assert_int_eq(fiu_enable_external(point, 1, NULL, 0, fail_on_target), 0);
    FILE *diag = open_memstream(&fr->diag, &fr->diag_len);
    ck_assert_ptr_nonnull(diag);
    struct es_run_options opt = {
        .capture_path = FAULTS_CAPTURE,
        .experts = experts,
        .expert_count = 2,
        .jobs = 2,
        .worker_path = getenv("ES_WORKER"),
        .json = sink,
        .diagnostics = diag,
        .grace_seconds = -1,
    };
    fr->status = es_run(&opt, &fr->result);
    fclose(diag);
    fiu_disable(point);
    if (must_reach)
        ck_assert_msg(hits >= nth, "%s was reached %u times, not %u", point, hits, nth);
}

static void fault_run_free(struct fault_run *fr)
{
    es_run_result_free(&fr->result);
    free(fr->diag);
}

/* Every run that was started was also waited for: no child is left. */
static void assert_no_children(void)
{
    pid_t pid = waitpid(-1, NULL, WNOHANG);
    ck_assert_msg(pid == -1 && errno == ECHILD, "a worker outlived the run (waitpid: %d)", (int)pid);
}

/* One of the two experts was refused a worker; the other ran as ever. */
static void assert_one_not_run(const struct fault_run *fr, size_t victim, const char *words)
{
    ck_assert_uint_eq(fr->result.count, 2);
    const struct es_outcome *hit = &fr->result.outcomes[victim], *spared = &fr->result.outcomes[1 - victim];
    ck_assert_msg(hit->kind == ES_OUTCOME_NOT_RUN && strstr(hit->detail, words) != NULL,
                  "expert %zu: %s: %s (expected not_run: %s...)", victim, es_outcome_name(hit->kind), hit->detail,
                  words);
    ck_assert_msg(spared->kind == ES_OUTCOME_DONE, "the other expert: %s: %s", es_outcome_name(spared->kind),
                  spared->detail);
    ck_assert_int_eq(fr->status, ES_EXIT_INTERNAL);
    /* One line about it, naming the expert. */
    ck_assert_uint_eq(hx_count_lines(fr->diag, fr->diag_len), 1);
    ck_assert_msg(strstr(fr->diag, hit->expert_path) != NULL, "%s", fr->diag);
}

/* The whole run stopped: no outcome, one line saying why. */
static void assert_run_refused(const struct fault_run *fr, enum es_exit status, const char *words)
{
    ck_assert_uint_eq(fr->result.count, 0);
    ck_assert_msg(fr->status == status, "status %d, expected %d: %s", (int)fr->status, (int)status, fr->diag);
    ck_assert_msg(hx_count_lines(fr->diag, fr->diag_len) == 1 && strstr(fr->diag, words) != NULL,
                  "expected one line with \"%s\", got:\n%s", words, fr->diag);
}

struct point_case {
    const char *point;
    unsigned nth;
    enum { REFUSED, FIRST_NOT_RUN, SECOND_NOT_RUN } expect;
    enum es_exit status;    /* REFUSED */
    const char *words;      /* in the line or the not_run detail */
};

/* With two experts and --jobs 2 the points are reached in this order: the
 * frame store (memfd, mmap, every frame read), then for each expert its
 * heap (memfd, mmap), socket pair, output pipe, exec-error pipe, fork and
 * pidfd; the output: the run record, then events and outcomes. */
static const struct point_case point_cases[] = {
    {ES_FAULT_MEMFD, 1, REFUSED, ES_EXIT_INTERNAL, "memfd_create"},
    {ES_FAULT_MEMFD, 2, FIRST_NOT_RUN, 0, "heap segment"},
    {ES_FAULT_MEMFD, 3, SECOND_NOT_RUN, 0, "heap segment"},
    {ES_FAULT_MMAP, 1, REFUSED, ES_EXIT_INTERNAL, "mmap"},
    {ES_FAULT_MMAP, 2, FIRST_NOT_RUN, 0, "heap segment"},
    {ES_FAULT_SOCKETPAIR, 1, FIRST_NOT_RUN, 0, "channels"},
    {ES_FAULT_SOCKETPAIR, 2, SECOND_NOT_RUN, 0, "channels"},
    {ES_FAULT_PIPE, 1, FIRST_NOT_RUN, 0, "channels"},
    {ES_FAULT_PIPE, 2, FIRST_NOT_RUN, 0, "cannot start expert-worker"},
    {ES_FAULT_FORK, 1, FIRST_NOT_RUN, 0, "cannot start expert-worker"},
    {ES_FAULT_FORK, 2, SECOND_NOT_RUN, 0, "cannot start expert-worker"},
    {ES_FAULT_PIDFD, 1, FIRST_NOT_RUN, 0, "cannot start expert-worker"},
    {ES_FAULT_PIDFD, 2, SECOND_NOT_RUN, 0, "cannot start expert-worker"},
    {ES_FAULT_OUTPUT_WRITE, 1, REFUSED, ES_EXIT_INTERNAL, "cannot write the results"},
    {ES_FAULT_OUTPUT_WRITE, 2, REFUSED, ES_EXIT_INTERNAL, "cannot write the results"},
    {ES_FAULT_PCAP_READ, 1, REFUSED, ES_EXIT_CAPTURE, "error reading"},
    {ES_FAULT_PCAP_READ, 17, REFUSED, ES_EXIT_CAPTURE, "frame 17"},
};

START_TEST(test_broker_fault_point)
{
    const struct point_case *pc = &point_cases[_i];
    ck_assert_int_eq(fiu_init(0), 0);
    FILE *sink = silent();
    /* One run first: one-time set-up (the loader, libpcap, stdio, malloc
     * arenas) is not a leak. */
    struct fault_run fr = {0};
    run_with_fault(pc->point, 0, sink, &fr, false);
    ck_assert_int_eq(fr.status, ES_EXIT_OK);
    fault_run_free(&fr);
    size_t fds = count_open_fds(), maps = count_mappings();

    memset(&fr, 0, sizeof fr);
    run_with_fault(pc->point, pc->nth, sink, &fr, true);
    if (pc->expect == REFUSED)
        assert_run_refused(&fr, pc->status, pc->words);
    else
        assert_one_not_run(&fr, pc->expect == FIRST_NOT_RUN ? 0 : 1, pc->words);
    fault_run_free(&fr);
    assert_no_children();
    ck_assert_uint_eq(count_open_fds(), fds);
    ck_assert_uint_eq(count_mappings(), maps);
    fclose(sink);
}
END_TEST

/* Init cannot trace its worker (Yama's ptrace_scope 3, an LSM): the
 * worker's end is reported once init has reaped it, without the kernel's
 * fault address, and a run is otherwise the same.  The point fails in
 * init's own process, whose copy of the hit count starts at 0 in every
 * init: every worker of the run is untraced. */
START_TEST(test_init_cannot_trace)
{
    ck_assert_int_eq(fiu_init(0), 0);
    hits = 0;
    target = 1;
    ck_assert_int_eq(fiu_enable_external(ES_FAULT_PTRACE, 1, NULL, 0, fail_on_target), 0);
    struct es_worker_status status = run_fault_at_0x40();
    ck_assert_int_eq(status.status, SIGSEGV);
    ck_assert_msg(!status.at_exit_stop && !status.has_fault_address,
                  "an untraced worker was reported at its exit stop (fault address %d)", status.has_fault_address);
    fiu_disable(ES_FAULT_PTRACE);

    FILE *sink = silent();
    struct fault_run fr = {0};
    run_with_fault(ES_FAULT_PTRACE, 1, sink, &fr, false);
    ck_assert_int_eq(fr.status, ES_EXIT_OK);
    ck_assert_uint_eq(fr.result.count, 2);
    for (size_t i = 0; i < 2; i++)
        ck_assert_msg(fr.result.outcomes[i].kind == ES_OUTCOME_DONE, "expert %zu: %s: %s", i,
                      es_outcome_name(fr.result.outcomes[i].kind), fr.result.outcomes[i].detail);
    fault_run_free(&fr);
    fclose(sink);
    assert_no_children();
}
END_TEST

/* Every point at once, at random: whatever fails, the broker reports it and
 * leaves nothing behind. */
START_TEST(test_broker_random_faults)
{
    static const char *const points[] = {ES_FAULT_MEMFD, ES_FAULT_MMAP,  ES_FAULT_SOCKETPAIR,
                                         ES_FAULT_PIPE,  ES_FAULT_FORK,  ES_FAULT_PIDFD,
                                         ES_FAULT_OUTPUT_WRITE, ES_FAULT_PCAP_READ};
    static const char *const experts[] = {COUNTER_EXPERT, FLAWED_TIDY};
    ck_assert_int_eq(fiu_init(0), 0);
    FILE *sink = silent();
    size_t fds = 0, maps = 0;
    for (unsigned seed = 0; seed <= 12; seed++) {
        fiu_set_prng_seed(seed);
        /* Round 0 fails nothing: the baseline after one-time set-up. */
        if (seed > 0)
            for (size_t p = 0; p < sizeof points / sizeof *points; p++)
                ck_assert_int_eq(fiu_enable_random(points[p], 1, NULL, 0, 0.02), 0);
        char *text = NULL;
        size_t len = 0;
        FILE *diag = open_memstream(&text, &len);
        struct es_run_options opt = {
            .capture_path = FAULTS_CAPTURE,
            .experts = experts,
            .expert_count = 2,
            .jobs = 2,
            .worker_path = getenv("ES_WORKER"),
            .json = sink,
            .diagnostics = diag,
            .grace_seconds = -1,
        };
        struct es_run_result result;
        enum es_exit status = es_run(&opt, &result);
        fclose(diag);
        for (size_t p = 0; p < sizeof points / sizeof *points; p++)
            fiu_disable(points[p]);
        ck_assert_msg(status == ES_EXIT_OK || status == ES_EXIT_CAPTURE || status == ES_EXIT_INTERNAL,
                      "seed %u: status %d: %s", seed, (int)status, text);
        if (status != ES_EXIT_OK)
            ck_assert_msg(len > 0, "seed %u: status %d without a word", seed, (int)status);
        for (size_t i = 0; i < result.count; i++) {
            const struct es_outcome *o = &result.outcomes[i];
            ck_assert_msg(o->kind == ES_OUTCOME_DONE || (o->kind == ES_OUTCOME_NOT_RUN && o->detail[0]),
                          "seed %u, expert %zu: %s: %s", seed, i, es_outcome_name(o->kind), o->detail);
        }
        es_run_result_free(&result);
        free(text);
        assert_no_children();
        if (seed == 0) {
            fds = count_open_fds();
            maps = count_mappings();
        } else {
            ck_assert_uint_eq(count_open_fds(), fds);
            ck_assert_uint_eq(count_mappings(), maps);
        }
    }
    fclose(sink);
}
END_TEST

#endif

/* ------------------------------------------------------------------------ */

static Suite *faults_suite(void)
{
    Suite *s = suite_create("faults");
    TCase *sweeps = tcase_create("sweep");
    tcase_set_timeout(sweeps, 600);
    tcase_add_test(sweeps, test_sample_is_deterministic);
    tcase_add_test(sweeps, test_alloc_deref_crashes_at_site_3);
    tcase_add_test(sweeps, test_abort_leak_leaks_at_terminate_sites);
    tcase_add_test(sweeps, test_ignores_terminate);
    tcase_add_test(sweeps, test_short_capture_crashes);
    tcase_add_test(sweeps, test_tidy_is_clean);
    tcase_add_test(sweeps, test_sample_experts_are_clean);
    tcase_add_test(sweeps, test_cli_json_and_table);
    suite_add_tcase(s, sweeps);

#ifdef ES_FAULT_POINTS
    TCase *points = tcase_create("broker-fault-points");
    tcase_set_timeout(points, 300);
    tcase_add_loop_test(points, test_broker_fault_point, 0, (int)(sizeof point_cases / sizeof *point_cases));
    tcase_add_test(points, test_broker_random_faults);
    tcase_add_test(points, test_init_cannot_trace);
    suite_add_tcase(s, points);
#else
    printf("faults: built without libfiu (libfiu-dev): the broker's own fault points are not tested\n");
#endif
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(faults_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
