/*
 * faults.c - the fault-injection sweep (`expert-broker faults`).
 *
 * An expert meets few faults in testing: allocations rarely fail, users
 * rarely abort at the worst moment.  The sweep makes each of those happen at
 * every place it can, one at a time, and watches what the expert does:
 *
 *   1. a baseline run without faults counts the sites: the expert's
 *      allocation calls and helper calls (the worker counts them in its
 *      control page; es_outcome reports them);
 *   2. one run per site, with exactly one fault: allocation call i fails
 *      (inject alloc=i), or every helper from call i on returns
 *      NMERR_EXPERT_TERMINATE (inject terminate=i), as a user's abort does;
 *   3. each run's outcome becomes a finding: handled, crashed, ignored the
 *      terminate request, hung, leaked, failed otherwise.
 *
 * Runs go to es_run in batches, the same expert repeated with one injection
 * each (inject_each), so --jobs workers share the cores.  An expert is
 * assumed to make the same calls in the same order every run, which holds
 * for anything that depends only on its capture; a site a run never reached
 * is reported as such, not as handled.
 */
#include "faults.h"

#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "output.h"

/* How many sites at the start and the end a sample always keeps: the first
 * calls set an expert up (its first allocation, its first frame), which is
 * where error paths are least often tested. */
#define SAMPLE_ALWAYS_FIRST 8

/* Runs handed to one es_run: each holds a descriptor of the expert's file
 * from the start of the batch, so batches stay well inside the descriptor
 * limit; small enough too that progress lines come now and then. */
#define BATCH_MAX 64

static const char *const finding_names[ES_FINDING_COUNT] = {
    [ES_FINDING_HANDLED] = "handled",
    [ES_FINDING_CRASHED] = "crashed",
    [ES_FINDING_IGNORED_TERMINATE] = "ignored_terminate",
    [ES_FINDING_HUNG] = "hung",
    [ES_FINDING_LEAKED] = "leaked",
    [ES_FINDING_FAILED] = "failed",
    [ES_FINDING_NOT_REACHED] = "not_reached",
    [ES_FINDING_NOT_RUN] = "not_run",
};

/* The same, for the table: a person reads these. */
static const char *const finding_words[ES_FINDING_COUNT] = {
    [ES_FINDING_HANDLED] = "handled",
    [ES_FINDING_CRASHED] = "crashed",
    [ES_FINDING_IGNORED_TERMINATE] = "ignores terminate",
    [ES_FINDING_HUNG] = "hung",
    [ES_FINDING_LEAKED] = "leaked",
    [ES_FINDING_FAILED] = "failed",
    [ES_FINDING_NOT_REACHED] = "not reached",
    [ES_FINDING_NOT_RUN] = "not run",
};

const char *es_fault_finding_name(enum es_fault_finding finding)
{
    return (unsigned)finding < ES_FINDING_COUNT ? finding_names[finding] : "unknown";
}

const char *es_fault_kind_name(enum es_fault_kind kind)
{
    return kind == ES_FAULT_SITE_ALLOC ? "alloc" : "terminate";
}

bool es_fault_finding_is_problem(enum es_fault_finding finding)
{
    return finding != ES_FINDING_HANDLED && finding != ES_FINDING_NOT_REACHED &&
           finding != ES_FINDING_NOT_RUN;
}

/* ------------------------------------------------------------------ sampling */

/* splitmix64: tiny, and the same numbers on every machine for a seed. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

ptrdiff_t es_faults_choose_sites(uint64_t total, uint64_t limit, uint64_t seed, uint64_t salt,
                                 uint64_t **out)
{
    *out = NULL;
    if (limit == 0)
        limit = 1;
    uint64_t n = total < limit ? total : limit;
    if (n > (uint64_t)PTRDIFF_MAX / sizeof **out)
        return -1;
    uint64_t *sites = malloc((size_t)(n ? n : 1) * sizeof *sites);
    if (!sites)
        return -1;
    *out = sites;
    if (total <= limit) {
        for (uint64_t i = 0; i < total; i++)
            sites[i] = i + 1;
        return (ptrdiff_t)total;
    }
    if (limit == 1) {
        sites[0] = 1;
        return 1;
    }
    /* The first few, the last, and the rest drawn from between them by
     * selection sampling (Knuth's algorithm S): one pass, ascending, every
     * middle site equally likely, the same draw for the same seed. */
    uint64_t first = (limit - 1) / 2;
    if (first > SAMPLE_ALWAYS_FIRST)
        first = SAMPLE_ALWAYS_FIRST;
    if (first == 0)
        first = 1;
    size_t used = 0;
    for (uint64_t i = 1; i <= first; i++)
        sites[used++] = i;
    uint64_t state = seed ^ (salt * 0xD1B54A32D192ED03ull);
    uint64_t needed = limit - first - 1;
    uint64_t candidates = total - first - 1;   /* first+1 .. total-1 */
    for (uint64_t call = first + 1; call < total && needed > 0; call++, candidates--) {
        if (next_random(&state) % candidates < needed) {
            sites[used++] = call;
            needed--;
        }
    }
    sites[used++] = total;
    return (ptrdiff_t)used;
}

/* ------------------------------------------------------------------ classifying */

/* True when the broker killed the worker because it did not return within
 * the grace period after the terminate request.  The supervisor kills with
 * SIGKILL and then the run has no result; an expert that returned in time
 * has one (Run returned ...), and one that crashed meanwhile has another
 * signal. */
static bool killed_after_grace(const struct es_outcome *o)
{
    return o->signal == SIGKILL && !o->has_run_result;
}

static enum es_fault_finding finding_of(const struct es_outcome *o, uint64_t blocks_allowed,
                                        uint64_t bytes_allowed)
{
    switch (o->kind) {
    case ES_OUTCOME_DONE:
    case ES_OUTCOME_PROBLEM:
    case ES_OUTCOME_ABORTED:
        if (o->kind == ES_OUTCOME_ABORTED && killed_after_grace(o))
            return ES_FINDING_IGNORED_TERMINATE;
        if (o->heap_blocks > blocks_allowed || o->heap_in_use > bytes_allowed)
            return ES_FINDING_LEAKED;
        return ES_FINDING_HANDLED;
    case ES_OUTCOME_CRASHED:
        return ES_FINDING_CRASHED;
    case ES_OUTCOME_TIMEOUT:
        return killed_after_grace(o) ? ES_FINDING_IGNORED_TERMINATE : ES_FINDING_HUNG;
    case ES_OUTCOME_NOT_RUN:
        return ES_FINDING_NOT_RUN;
    default:
        return ES_FINDING_FAILED;
    }
}

static void fill_site(struct es_fault_site *site, const struct es_outcome *o, uint64_t blocks_allowed,
                      uint64_t bytes_allowed)
{
    site->outcome = o->kind;
    site->signal = o->signal;
    site->has_fault_address = o->has_fault_address;
    site->fault_address = o->fault_address;
    site->last_frame = o->last_frame;
    site->frames_read = o->frames_read;
    site->helper_calls = o->helper_calls;
    site->alloc_calls = o->alloc_calls;
    site->heap_blocks = o->heap_blocks;
    site->heap_in_use = o->heap_in_use;
    site->elapsed_seconds = o->elapsed_seconds;
    snprintf(site->detail, sizeof site->detail, "%s", o->detail);
    site->finding = finding_of(o, blocks_allowed, bytes_allowed);

    /* A run that returned cleanly without ever making the call the fault
     * was planted at met no fault: calling that "handled" would be a lie. */
    uint64_t made = site->kind == ES_FAULT_SITE_ALLOC ? o->alloc_calls : o->helper_calls;
    bool returned = o->kind == ES_OUTCOME_DONE || o->kind == ES_OUTCOME_PROBLEM;
    if (returned && made < site->call)
        site->finding = ES_FINDING_NOT_REACHED;
}

/* ------------------------------------------------------------------ running */

struct sweep {
    const struct es_faults_options *opt;
    struct es_faults_report *report;
    FILE *diag;
    size_t planned;        /* sites in the plan */
};

static unsigned batch_size(unsigned jobs)
{
    /* Each run of a batch holds the expert's file open from the start, and
     * each running worker a handful more (heap, socket, pipes, pidfd,
     * timer, listener): stay well inside the soft limit. */
    struct rlimit nofile;
    uint64_t budget = BATCH_MAX;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY) {
        uint64_t reserved = 64 + (uint64_t)jobs * 12;
        budget = nofile.rlim_cur > reserved ? nofile.rlim_cur - reserved : 1;
    }
    if (budget > BATCH_MAX)
        budget = BATCH_MAX;
    return budget ? (unsigned)budget : 1;
}

static void base_run_options(const struct sweep *sw, struct es_run_options *ro)
{
    const struct es_faults_options *opt = sw->opt;
    memset(ro, 0, sizeof *ro);
    ro->capture_path = opt->capture_path;
    ro->heap_quota = opt->heap_quota;
    ro->jobs = opt->jobs;
    ro->worker_path = opt->worker_path;
    ro->sandbox = opt->sandbox;
    ro->timeout_seconds = opt->timeout_seconds > 0 ? opt->timeout_seconds : ES_FAULTS_DEFAULT_TIMEOUT;
    ro->grace_seconds = opt->grace_seconds >= 0 ? opt->grace_seconds : ES_FAULTS_DEFAULT_GRACE;
    ro->handle_signals = opt->handle_signals;
}

static bool interrupted_status(enum es_exit status)
{
    return (int)status > 128;
}

/* Runs sites[0..n) (kind and call set) in one es_run.  Returns the status
 * to stop with, or ES_EXIT_OK to go on; *done is how many of the sites
 * have a result (all of them unless the run was interrupted). */
static enum es_exit run_batch(struct sweep *sw, struct es_fault_site *sites, size_t n, size_t *done)
{
    struct es_faults_report *r = sw->report;
    *done = 0;
    const char **experts = calloc(n, sizeof *experts);
    struct es_injection *inject = calloc(n, sizeof *inject);
    char *captured = NULL;
    size_t captured_len = 0;
    FILE *quiet = open_memstream(&captured, &captured_len);
    if (!experts || !inject || !quiet) {
        fprintf(sw->diag, "expert-broker: faults: out of memory\n");
        free(experts);
        free(inject);
        if (quiet)
            fclose(quiet);
        free(captured);
        return ES_EXIT_INTERNAL;
    }
    for (size_t i = 0; i < n; i++) {
        experts[i] = sw->opt->expert;
        if (sites[i].kind == ES_FAULT_SITE_ALLOC)
            inject[i].alloc_at = sites[i].call;
        else
            inject[i].terminate_at = sites[i].call;
    }
    struct es_run_options ro;
    base_run_options(sw, &ro);
    ro.experts = experts;
    ro.expert_count = n;
    ro.inject_each = inject;
    /* es_run's own lines (one per expert not run, ...) would repeat what
     * the report says per site; they are kept for when the batch fails
     * as a whole. */
    ro.diagnostics = quiet;

    struct es_run_result result;
    enum es_exit status = es_run(&ro, &result);
    fclose(quiet);
    enum es_exit stop = ES_EXIT_OK;
    if (result.count != n) {
        /* Nothing ran: the capture or the expert went bad since the
         * baseline, or the broker failed.  Say why, as es_run did. */
        if (captured_len)
            fwrite(captured, 1, captured_len, sw->diag);
        stop = status == ES_EXIT_OK || status == ES_EXIT_EXPERT_FAILED ? ES_EXIT_INTERNAL : status;
    } else {
        bool interrupted = interrupted_status(status);
        for (size_t i = 0; i < n; i++) {
            const struct es_outcome *o = &result.outcomes[i];
            /* A run the interrupt stopped (or never started) says nothing
             * about the expert: leave it, and every site after it, out. */
            if (interrupted && o->kind == ES_OUTCOME_ABORTED)
                break;
            fill_site(&sites[i], o, r->baseline_heap_blocks, r->baseline_heap_in_use);
            (*done)++;
        }
        if (interrupted)
            stop = status;
    }
    es_run_result_free(&result);
    free(captured);
    free(experts);
    free(inject);
    return stop;
}

/* The run without faults.  Returns ES_EXIT_OK to go on with the sweep, or
 * the status to end with. */
static enum es_exit run_baseline(struct sweep *sw)
{
    struct es_faults_report *r = sw->report;
    const char *experts[1] = {sw->opt->expert};
    struct es_run_options ro;
    base_run_options(sw, &ro);
    ro.experts = experts;
    ro.expert_count = 1;
    ro.diagnostics = sw->diag;   /* capture and expert-file errors, as `run` words them */
    struct es_run_result result;
    enum es_exit status = es_run(&ro, &result);
    if (result.count != 1) {
        es_run_result_free(&result);
        return status == ES_EXIT_OK ? ES_EXIT_INTERNAL : status;
    }
    const struct es_outcome *o = &result.outcomes[0];
    r->baseline_ran = true;
    if (o->expert_name)
        r->expert_name = strdup(o->expert_name);
    r->baseline_outcome = o->kind;
    snprintf(r->baseline_detail, sizeof r->baseline_detail, "%s", o->detail);
    r->baseline_signal = o->signal;
    r->baseline_last_frame = o->last_frame;
    r->baseline_frames_read = o->frames_read;
    r->helper_calls = o->helper_calls;
    r->alloc_calls = o->alloc_calls;
    r->baseline_elapsed_seconds = o->elapsed_seconds;
    if (o->kind == ES_OUTCOME_DONE || o->kind == ES_OUTCOME_PROBLEM) {
        r->baseline_heap_blocks = o->heap_blocks;
        r->baseline_heap_in_use = o->heap_in_use;
    }
    r->baseline_finding = finding_of(o, 0, 0);
    es_run_result_free(&result);

    if (interrupted_status(status)) {
        r->interrupted = true;
        return status;
    }
    switch (r->baseline_outcome) {
    case ES_OUTCOME_LOAD_FAILED:
    case ES_OUTCOME_REGISTER_FAILED:
    case ES_OUTCOME_NOT_RUN:
        /* es_run said why on diagnostics; the expert cannot be swept. */
        return status;
    case ES_OUTCOME_TIMEOUT:
        /* Every site would take as long and say nothing new: the report
         * says so, and the status is that of a finding. */
        return ES_EXIT_EXPERT_FAILED;
    default:
        return ES_EXIT_OK;
    }
}

static void progress(const struct sweep *sw, size_t done)
{
    if (sw->opt->progress)
        fprintf(sw->diag, "expert-broker: faults: %zu of %zu runs done\n", done, sw->planned);
}

/* Plans the sites of both kinds.  Returns false when out of memory. */
static bool plan_sites(struct sweep *sw)
{
    struct es_faults_report *r = sw->report;
    uint64_t limit = sw->opt->sample ? sw->opt->sample : ES_FAULTS_DEFAULT_SAMPLE;
    uint64_t *alloc_calls = NULL, *helper_calls = NULL;
    ptrdiff_t na = es_faults_choose_sites(r->alloc_calls, limit, r->seed, 1, &alloc_calls);
    ptrdiff_t nt = es_faults_choose_sites(r->helper_calls, limit, r->seed, 2, &helper_calls);
    if (na < 0 || nt < 0) {
        free(alloc_calls);
        free(helper_calls);
        return false;
    }
    size_t total = (size_t)na + (size_t)nt;
    r->sites = calloc(total ? total : 1, sizeof *r->sites);
    if (!r->sites) {
        free(alloc_calls);
        free(helper_calls);
        return false;
    }
    for (ptrdiff_t i = 0; i < na; i++)
        r->sites[i] = (struct es_fault_site){.kind = ES_FAULT_SITE_ALLOC, .call = alloc_calls[i],
                                             .last_frame = -1};
    for (ptrdiff_t i = 0; i < nt; i++)
        r->sites[na + i] = (struct es_fault_site){.kind = ES_FAULT_SITE_TERMINATE, .call = helper_calls[i],
                                                  .last_frame = -1};
    r->alloc_sites_tested = (uint64_t)na;
    r->terminate_sites_tested = (uint64_t)nt;
    r->alloc_sampled = (uint64_t)na < r->alloc_calls;
    r->terminate_sampled = (uint64_t)nt < r->helper_calls;
    sw->planned = total;
    free(alloc_calls);
    free(helper_calls);
    return true;
}

/* SIGINT and SIGTERM stay blocked across the whole sweep: one that comes
 * between two batches is then pending, and the next batch's supervisor
 * picks it up and stops at once, instead of the signal killing the broker
 * before the report is written. */
static void block_signals(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, old);
}

/* Restores the mask; a signal still pending is taken here, not delivered. */
static void unblock_signals(const sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&set, NULL, &zero) > 0)
        ;
    sigprocmask(SIG_SETMASK, old, NULL);
}

/* Counts the findings; the status they call for: a site the broker could
 * not run makes the sweep incomplete (the broker's failure), any finding
 * about the expert is 1, none is 0. */
static enum es_exit count_findings(struct es_faults_report *r)
{
    memset(r->findings, 0, sizeof r->findings);
    for (size_t i = 0; i < r->count; i++)
        r->findings[r->sites[i].finding]++;
    if (r->findings[ES_FINDING_NOT_RUN])
        return ES_EXIT_INTERNAL;
    bool any = es_fault_finding_is_problem(r->baseline_finding);
    for (int f = 0; f < ES_FINDING_COUNT; f++)
        any = any || (es_fault_finding_is_problem((enum es_fault_finding)f) && r->findings[f] > 0);
    return any ? ES_EXIT_EXPERT_FAILED : ES_EXIT_OK;
}

static unsigned default_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

enum es_exit es_faults(const struct es_faults_options *opt, struct es_faults_report *report)
{
    struct es_faults_report *r = report;
    memset(r, 0, sizeof *r);
    r->expert_path = opt->expert;
    r->capture_path = opt->capture_path;
    r->seed = opt->seed ? opt->seed : 1;
    r->baseline_last_frame = -1;
    struct sweep sw = {.opt = opt, .report = r, .diag = opt->diagnostics ? opt->diagnostics : stderr};

    sigset_t old_mask;
    if (opt->handle_signals)
        block_signals(&old_mask);

    enum es_exit stop = run_baseline(&sw);
    if (stop == ES_EXIT_OK) {
        if (!plan_sites(&sw)) {
            fprintf(sw.diag, "expert-broker: faults: out of memory\n");
            stop = ES_EXIT_INTERNAL;
        } else {
            r->swept = true;
            unsigned batch = batch_size(opt->jobs ? opt->jobs : default_jobs());
            while (r->count < sw.planned && stop == ES_EXIT_OK) {
                size_t n = sw.planned - r->count;
                if (n > batch)
                    n = batch;
                size_t done = 0;
                stop = run_batch(&sw, &r->sites[r->count], n, &done);
                r->count += done;
                if (stop == ES_EXIT_OK)
                    progress(&sw, r->count);
            }
            r->interrupted = interrupted_status(stop);
        }
    }
    /* A signal after the last batch finds the sweep complete: it is taken
     * here and changes nothing. */
    if (opt->handle_signals)
        unblock_signals(&old_mask);

    enum es_exit found = count_findings(r);
    if (stop == ES_EXIT_OK)
        stop = found;
    return r->exit_code = stop;
}

void es_faults_report_free(struct es_faults_report *report)
{
    free(report->expert_name);
    free(report->sites);
    report->expert_name = NULL;
    report->sites = NULL;
    report->count = 0;
}

/* ------------------------------------------------------------------ words */

/* A growing string for building lines; on allocation failure it stays
 * marked failed and the caller reports ENOMEM. */
struct text {
    char *data;
    size_t len, cap;
    bool failed;
};

__attribute__((format(printf, 2, 3))) static void text_printf(struct text *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        t->failed = true;
        return;
    }
    if (t->len + (size_t)n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->len + (size_t)n + 1)
            cap *= 2;
        char *grown = realloc(t->data, cap);
        if (!grown) {
            t->failed = true;
            return;
        }
        t->data = grown;
        t->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(t->data + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

/* Text that came from the expert (its name, details quoting its output)
 * goes to a terminal: anything but printable ASCII becomes '?', so no
 * escape sequence or stray newline gets through. */
static void text_safe(struct text *t, const char *s)
{
    for (; s && *s && !t->failed; s++) {
        unsigned char c = (unsigned char)*s;
        text_printf(t, "%c", c >= 0x20 && c < 0x7f ? (char)c : '?');
    }
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* "2 blocks (96 bytes)" */
static void text_memory(struct text *t, uint64_t blocks, uint64_t bytes)
{
    text_printf(t, "%" PRIu64 " %s (%" PRIu64 " %s)", blocks, plural(blocks, "block", "blocks"), bytes,
                plural(bytes, "byte", "bytes"));
}

/* "SIGSEGV after frame 12" / "SIGABRT before reading a frame" */
static void text_crash(struct text *t, int sig, int64_t last_frame)
{
    char name[32];
    text_printf(t, "%s", es_signal_name(sig, name, sizeof name));
    if (last_frame >= 0)
        text_printf(t, " after frame %" PRId64, last_frame + 1);
    else
        text_printf(t, " before reading a frame");
}

/* "3", "3 or 5", "2-43 or 45-51", "3, 5, 9, 12, 40 or 7 more": runs of
 * consecutive calls as ranges, at most LIST_SHOWN items named. */
#define LIST_SHOWN 5
static void text_calls(struct text *t, const uint64_t *calls, size_t n, const char *joiner)
{
    size_t items = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || calls[i] != calls[i - 1] + 1)
            items++;
    size_t item = 0;
    for (size_t i = 0; i < n && item < LIST_SHOWN; item++) {
        size_t end = i;
        while (end + 1 < n && calls[end + 1] == calls[end] + 1)
            end++;
        const char *sep = item == 0 ? "" : (item + 1 == items ? joiner : ", ");
        if (end > i)
            text_printf(t, "%s%" PRIu64 "-%" PRIu64, sep, calls[i], calls[end]);
        else
            text_printf(t, "%s%" PRIu64, sep, calls[i]);
        i = end + 1;
    }
    if (items > LIST_SHOWN) {
        size_t rest = 0;
        for (size_t i = 0, seen = 0; i < n; i++) {
            if (i == 0 || calls[i] != calls[i - 1] + 1)
                seen++;
            if (seen > LIST_SHOWN)
                rest++;
        }
        text_printf(t, "%s%zu more", joiner, rest);
    }
}

/* ------------------------------------------------------------------ verdict */

struct verdict {
    char **lines;
    size_t count;
    bool failed;
};

static void verdict_add(struct verdict *v, struct text *t)
{
    if (t->failed || !t->data) {
        v->failed = true;
        free(t->data);
        *t = (struct text){0};
        return;
    }
    char **grown = realloc(v->lines, (v->count + 1) * sizeof *grown);
    if (!grown) {
        v->failed = true;
        free(t->data);
    } else {
        v->lines = grown;
        v->lines[v->count++] = t->data;
    }
    *t = (struct text){0};
}

static void verdict_free(struct verdict *v)
{
    for (size_t i = 0; i < v->count; i++)
        free(v->lines[i]);
    free(v->lines);
    *v = (struct verdict){0};
}

/* The sites of one kind with one finding. */
struct group {
    uint64_t *calls;
    size_t count;
    const struct es_fault_site *first;
    uint64_t min_blocks, max_blocks, min_bytes, max_bytes;
    bool is_suffix;    /* every site of its kind tested from the first on has it */
};

static bool gather(const struct es_faults_report *r, enum es_fault_kind kind, enum es_fault_finding finding,
                   struct group *g)
{
    *g = (struct group){0};
    g->calls = malloc((r->count ? r->count : 1) * sizeof *g->calls);
    if (!g->calls)
        return false;
    size_t later_of_kind = 0;
    for (size_t i = 0; i < r->count; i++) {
        const struct es_fault_site *s = &r->sites[i];
        if (s->kind != kind)
            continue;
        if (g->count > 0)
            later_of_kind++;
        if (s->finding != finding)
            continue;
        if (!g->first) {
            g->first = s;
            g->min_blocks = s->heap_blocks;
            g->min_bytes = s->heap_in_use;
        }
        if (s->heap_blocks < g->min_blocks)
            g->min_blocks = s->heap_blocks;
        if (s->heap_in_use < g->min_bytes)
            g->min_bytes = s->heap_in_use;
        g->calls[g->count++] = s->call;
        if (s->heap_blocks > g->max_blocks)
            g->max_blocks = s->heap_blocks;
        if (s->heap_in_use > g->max_bytes)
            g->max_bytes = s->heap_in_use;
    }
    /* later_of_kind counts the sites after the group's first one. */
    g->is_suffix = g->count > 1 && later_of_kind + 1 == g->count;
    return true;
}

static void describe_group(const struct es_faults_report *r, enum es_fault_kind kind,
                           enum es_fault_finding finding, const struct group *g, struct text *t)
{
    bool alloc = kind == ES_FAULT_SITE_ALLOC;
    switch (finding) {
    case ES_FINDING_CRASHED:
        if (alloc) {
            text_printf(t, "crashes when allocation ");
            text_calls(t, g->calls, g->count, " or ");
            text_printf(t, " fails (%s", g->count > 1 ? "first: " : "");
            text_crash(t, g->first->signal, g->first->last_frame);
            text_printf(t, "): check the result of every ExpertAllocMemory and ExpertReallocMemory call");
        } else {
            text_printf(t, "crashes when helper call ");
            text_calls(t, g->calls, g->count, " or ");
            text_printf(t, " returns NMERR_EXPERT_TERMINATE (%s", g->count > 1 ? "first: " : "");
            text_crash(t, g->first->signal, g->first->last_frame);
            text_printf(t, "): check every helper's result and return from Run when one says "
                           "NMERR_EXPERT_TERMINATE");
        }
        break;
    case ES_FINDING_IGNORED_TERMINATE:
        if (alloc) {
            text_printf(t, "hangs when allocation ");
            text_calls(t, g->calls, g->count, " or ");
            text_printf(t, " fails, and ignores NMERR_EXPERT_TERMINATE (killed after the grace period): "
                           "do not retry a failed allocation forever");
        } else if (g->is_suffix) {
            text_printf(t, "ignores NMERR_EXPERT_TERMINATE from helper call %" PRIu64
                           " on (killed after the grace period): return from Run as soon as a helper "
                           "returns it",
                        g->calls[0]);
        } else {
            text_printf(t, "ignores NMERR_EXPERT_TERMINATE when helper call ");
            text_calls(t, g->calls, g->count, " or ");
            text_printf(t, " returns it (killed after the grace period): return from Run as soon as a "
                           "helper returns it");
        }
        break;
    case ES_FINDING_HUNG:
        if (alloc) {
            text_printf(t, "runs past the timeout when allocation ");
            text_calls(t, g->calls, g->count, " or ");
            text_printf(t, " fails (it returned only when asked to stop): do not retry a failed "
                           "allocation forever");
        } else {
            text_printf(t, "keeps running past the timeout after NMERR_EXPERT_TERMINATE from helper call ");
            text_calls(t, g->calls, g->count, " or ");
            text_printf(t, ": return from Run as soon as a helper returns it");
        }
        break;
    case ES_FINDING_LEAKED:
        text_printf(t, "leaks %s", g->min_blocks != g->max_blocks || g->min_bytes != g->max_bytes ? "up to " : "");
        text_memory(t, g->max_blocks, g->max_bytes);
        if (alloc) {
            text_printf(t, " when allocation ");
            text_calls(t, g->calls, g->count, " or ");
            text_printf(t, " fails: free what it holds on that error path");
        } else if (g->is_suffix) {
            text_printf(t, " when a helper returns NMERR_EXPERT_TERMINATE from helper call %" PRIu64
                           " on: free what it holds before returning from Run",
                        g->calls[0]);
        } else {
            text_printf(t, " when helper call ");
            text_calls(t, g->calls, g->count, " or ");
            text_printf(t, " returns NMERR_EXPERT_TERMINATE: free what it holds before returning from Run");
        }
        if (r->baseline_heap_blocks)
            text_printf(t, " (left allocated at the end, counting the %" PRIu64 " it leaves without faults)",
                        r->baseline_heap_blocks);
        break;
    case ES_FINDING_FAILED:
        text_printf(t, "ends with outcome %s when %s ", es_outcome_name(g->first->outcome),
                    alloc ? "allocation" : "helper call");
        text_calls(t, g->calls, g->count, " or ");
        text_printf(t, alloc ? " fails: " : " returns NMERR_EXPERT_TERMINATE: ");
        text_safe(t, g->first->detail);
        break;
    case ES_FINDING_NOT_REACHED:
        text_printf(t, "%zu %s %s not reached (",
                    g->count, alloc ? "allocation" : "helper-call", plural(g->count, "site was", "sites were"));
        text_calls(t, g->calls, g->count, " and ");
        text_printf(t, "): the expert did not make the same calls as without faults, so %s untested",
                    plural(g->count, "it stays", "they stay"));
        break;
    case ES_FINDING_NOT_RUN:
        text_printf(t, "the broker could not run %zu %s %s (first: ", g->count,
                    alloc ? "allocation" : "helper-call", plural(g->count, "site", "sites"));
        text_safe(t, g->first->detail);
        text_printf(t, "): not a finding about the expert; run the sweep again");
        break;
    default:
        break;
    }
}

static void describe_baseline(const struct es_faults_report *r, struct text *t)
{
    switch (r->baseline_finding) {
    case ES_FINDING_CRASHED:
        text_printf(t, "crashes without any fault injected (");
        text_crash(t, r->baseline_signal, r->baseline_last_frame);
        text_printf(t, "): fix that first; findings at the sites may follow from it");
        break;
    case ES_FINDING_LEAKED:
        text_printf(t, "leaves ");
        text_memory(t, r->baseline_heap_blocks, r->baseline_heap_in_use);
        text_printf(t, " allocated when Run returns, even without faults: free what it allocates "
                       "(sites count as leaking only when they leave more)");
        break;
    case ES_FINDING_HUNG:
    case ES_FINDING_IGNORED_TERMINATE:
        text_printf(t, "runs longer than the timeout without any fault (");
        text_safe(t, r->baseline_detail);
        text_printf(t, "): give it a longer --timeout; no site was run");
        break;
    case ES_FINDING_FAILED:
        text_printf(t, "ends with outcome %s even without faults: ", es_outcome_name(r->baseline_outcome));
        text_safe(t, r->baseline_detail);
        break;
    default:
        break;
    }
}

static void text_sampling(const struct es_faults_report *r, struct text *t)
{
    if (r->alloc_sampled)
        text_printf(t, "sampled %" PRIu64 " of %" PRIu64 " allocation sites", r->alloc_sites_tested,
                    r->alloc_calls);
    else
        text_printf(t, "all %" PRIu64 " allocation %s", r->alloc_calls, plural(r->alloc_calls, "site", "sites"));
    if (r->terminate_sampled)
        text_printf(t, ", sampled %" PRIu64 " of %" PRIu64 " helper-call sites", r->terminate_sites_tested,
                    r->helper_calls);
    else
        text_printf(t, ", all %" PRIu64 " helper-call %s", r->helper_calls, plural(r->helper_calls, "site", "sites"));
    if (r->alloc_sampled || r->terminate_sampled)
        text_printf(t, ", seed %" PRIu64, r->seed);
}

/* The verdict, one line per thing an author should act on, most serious
 * first; a single "clean: ..." line when there is none. */
static bool build_verdict(const struct es_faults_report *r, struct verdict *v)
{
    *v = (struct verdict){0};
    struct text t = {0};
    if (es_fault_finding_is_problem(r->baseline_finding)) {
        describe_baseline(r, &t);
        verdict_add(v, &t);
    }
    static const enum es_fault_finding order[] = {
        ES_FINDING_CRASHED, ES_FINDING_IGNORED_TERMINATE, ES_FINDING_HUNG, ES_FINDING_FAILED,
        ES_FINDING_LEAKED,  ES_FINDING_NOT_RUN,           ES_FINDING_NOT_REACHED,
    };
    bool problems = es_fault_finding_is_problem(r->baseline_finding);
    for (size_t f = 0; f < sizeof order / sizeof *order; f++) {
        for (int k = ES_FAULT_SITE_ALLOC; k <= ES_FAULT_SITE_TERMINATE; k++) {
            struct group g;
            if (!gather(r, (enum es_fault_kind)k, order[f], &g))
                return false;
            if (g.count > 0) {
                describe_group(r, (enum es_fault_kind)k, order[f], &g, &t);
                verdict_add(v, &t);
                problems = problems || es_fault_finding_is_problem(order[f]);
            }
            free(g.calls);
        }
    }
    if (r->interrupted) {
        text_printf(&t, "interrupted: %zu of the planned sites were run; run the sweep again for the rest",
                    r->count);
        verdict_add(v, &t);
    } else if (!r->swept && !problems) {
        text_printf(&t, "not swept: the run without faults ended %s", es_outcome_name(r->baseline_outcome));
        verdict_add(v, &t);
    }
    if (!problems && r->swept && !r->interrupted) {
        text_printf(&t, "clean: handled every fault injected (");
        text_sampling(r, &t);
        text_printf(&t, ")");
        verdict_add(v, &t);
    }
    return !v->failed;
}

/* ------------------------------------------------------------------ table */

enum { COL_SITE, COL_FINDING, COL_OUTCOME, COL_SIGNAL, COL_FRAME, COL_LEFT, COL_DETAIL, COLS };
static const char *const headers[COLS] = {"SITE",       "FINDING", "OUTCOME", "SIGNAL",
                                          "LAST FRAME", "LEFT ALLOCATED", "DETAIL"};
static const bool right_aligned[COLS] = {false, false, false, false, true, true, false};

struct row {
    char cell[COLS][160];
};

static void site_row(const struct es_fault_site *s, struct row *row)
{
    char name[32];
    snprintf(row->cell[COL_SITE], sizeof row->cell[COL_SITE], "%s %" PRIu64, es_fault_kind_name(s->kind),
             s->call);
    snprintf(row->cell[COL_FINDING], sizeof row->cell[COL_FINDING], "%s", finding_words[s->finding]);
    snprintf(row->cell[COL_OUTCOME], sizeof row->cell[COL_OUTCOME], "%s", es_outcome_name(s->outcome));
    snprintf(row->cell[COL_SIGNAL], sizeof row->cell[COL_SIGNAL], "%s",
             s->signal ? es_signal_name(s->signal, name, sizeof name) : "-");
    if (s->last_frame >= 0)
        snprintf(row->cell[COL_FRAME], sizeof row->cell[COL_FRAME], "%" PRId64, s->last_frame + 1);
    else
        snprintf(row->cell[COL_FRAME], sizeof row->cell[COL_FRAME], "-");
    bool returned = s->outcome == ES_OUTCOME_DONE || s->outcome == ES_OUTCOME_PROBLEM ||
                    s->outcome == ES_OUTCOME_ABORTED;
    if (returned && s->heap_blocks)
        snprintf(row->cell[COL_LEFT], sizeof row->cell[COL_LEFT], "%" PRIu64 " %s, %" PRIu64 " B",
                 s->heap_blocks, plural(s->heap_blocks, "block", "blocks"), s->heap_in_use);
    else
        snprintf(row->cell[COL_LEFT], sizeof row->cell[COL_LEFT], "-");
    struct text detail = {0};
    text_safe(&detail, s->detail);
    snprintf(row->cell[COL_DETAIL], sizeof row->cell[COL_DETAIL], "%s", detail.data ? detail.data : "");
    free(detail.data);
}

static bool row_wanted(const struct es_fault_site *s)
{
    return es_fault_finding_is_problem(s->finding) || s->finding == ES_FINDING_NOT_RUN;
}

static int write_text(FILE *to, const struct text *t)
{
    if (t->failed) {
        errno = ENOMEM;
        return -1;
    }
    if (t->len && fwrite(t->data, 1, t->len, to) != t->len)
        return -1;
    return fflush(to) == 0 ? 0 : -1;
}

static void text_verdict(struct text *t, const struct verdict *v)
{
    if (v->count == 1) {
        text_printf(t, "Verdict: %s\n", v->lines[0]);
        return;
    }
    text_printf(t, "Verdict:\n");
    for (size_t i = 0; i < v->count; i++)
        text_printf(t, "  - %s\n", v->lines[i]);
}

int es_faults_write_verdict(FILE *to, const struct es_faults_report *r)
{
    struct verdict v;
    struct text t = {0};
    if (!build_verdict(r, &v))
        t.failed = true;
    else
        text_verdict(&t, &v);
    int rc = write_text(to, &t);
    free(t.data);
    verdict_free(&v);
    return rc;
}

int es_faults_write_table(FILE *to, const struct es_faults_report *r)
{
    struct text t = {0};
    text_printf(&t, "Fault sweep of ");
    if (r->expert_name) {
        text_printf(&t, "\"");
        text_safe(&t, r->expert_name);
        text_printf(&t, "\" (");
        text_safe(&t, r->expert_path);
        text_printf(&t, ")");
    } else {
        text_safe(&t, r->expert_path);
    }
    text_printf(&t, " over ");
    text_safe(&t, r->capture_path);
    text_printf(&t, "\nWithout faults: %s (", es_outcome_name(r->baseline_outcome));
    text_safe(&t, r->baseline_detail);
    text_printf(&t, ") in %.2f s; %" PRIu64 " helper %s, %" PRIu64 " allocation %s, %" PRIu64 " %s read, ",
                r->baseline_elapsed_seconds, r->helper_calls, plural(r->helper_calls, "call", "calls"),
                r->alloc_calls, plural(r->alloc_calls, "call", "calls"), r->baseline_frames_read,
                plural(r->baseline_frames_read, "frame", "frames"));
    if (r->baseline_heap_blocks) {
        text_memory(&t, r->baseline_heap_blocks, r->baseline_heap_in_use);
        text_printf(&t, " left allocated\n");
    } else {
        text_printf(&t, "nothing left allocated\n");
    }
    if (r->swept) {
        text_printf(&t, "Sites: ");
        text_sampling(r, &t);
        text_printf(&t, "\n\n");
    }

    /* Rows: the sites with a finding, each cell padded to its column. */
    size_t rows = 0;
    for (size_t i = 0; i < r->count; i++)
        rows += row_wanted(&r->sites[i]);
    if (r->swept && rows > 0) {
        struct row *table = calloc(rows + 1, sizeof *table);
        if (!table) {
            free(t.data);
            errno = ENOMEM;
            return -1;
        }
        for (int c = 0; c < COLS; c++)
            snprintf(table[0].cell[c], sizeof table[0].cell[c], "%s", headers[c]);
        size_t row = 1;
        for (size_t i = 0; i < r->count; i++)
            if (row_wanted(&r->sites[i]))
                site_row(&r->sites[i], &table[row++]);
        size_t widths[COLS] = {0};
        for (size_t i = 0; i <= rows; i++)
            for (int c = 0; c < COLS; c++)
                if (strlen(table[i].cell[c]) > widths[c])
                    widths[c] = strlen(table[i].cell[c]);
        for (size_t i = 0; i <= rows; i++) {
            for (int c = 0; c < COLS; c++) {
                const char *sep = c ? "  " : "";
                if (c == COLS - 1)
                    text_printf(&t, "%s%s", sep, table[i].cell[c]);
                else if (right_aligned[c])
                    text_printf(&t, "%s%*s", sep, (int)widths[c], table[i].cell[c]);
                else
                    text_printf(&t, "%s%-*s", sep, (int)widths[c], table[i].cell[c]);
            }
            text_printf(&t, "\n");
        }
        text_printf(&t, "\n");
        free(table);
    } else if (r->swept) {
        text_printf(&t, "No site with a finding.\n\n");
    }

    if (r->swept) {
        text_printf(&t, "Summary: %zu %s run: %zu handled, %zu crashed, %zu ignored terminate, %zu hung, "
                        "%zu leaked, %zu failed otherwise",
                    r->count, plural(r->count, "site", "sites"), r->findings[ES_FINDING_HANDLED],
                    r->findings[ES_FINDING_CRASHED], r->findings[ES_FINDING_IGNORED_TERMINATE],
                    r->findings[ES_FINDING_HUNG], r->findings[ES_FINDING_LEAKED],
                    r->findings[ES_FINDING_FAILED]);
        if (r->findings[ES_FINDING_NOT_REACHED])
            text_printf(&t, ", %zu not reached", r->findings[ES_FINDING_NOT_REACHED]);
        if (r->findings[ES_FINDING_NOT_RUN])
            text_printf(&t, ", %zu not run", r->findings[ES_FINDING_NOT_RUN]);
        text_printf(&t, "\n");
    }
    struct verdict v;
    if (!build_verdict(r, &v))
        t.failed = true;
    else
        text_verdict(&t, &v);
    int rc = write_text(to, &t);
    free(t.data);
    verdict_free(&v);
    return rc;
}

/* ------------------------------------------------------------------ JSON */

/* One record, built whole in memory and written with one fwrite, as the
 * run's JSON Lines are: an interrupted write leaves whole lines. */
struct record {
    char *data;
    size_t len;
    FILE *f;
};

static bool record_open(struct record *rec)
{
    rec->data = NULL;
    rec->len = 0;
    rec->f = open_memstream(&rec->data, &rec->len);
    return rec->f != NULL;
}

static int record_write(struct record *rec, FILE *to)
{
    bool ok = fputc('\n', rec->f) != EOF;
    ok = fclose(rec->f) == 0 && ok;
    int rc = -1;
    if (!ok)
        errno = ENOMEM;
    else if (fwrite(rec->data, 1, rec->len, to) == rec->len && fflush(to) == 0)
        rc = 0;
    free(rec->data);
    return rc;
}

static void json_text(FILE *f, const char *s)
{
    if (s)
        es_json_string(f, (const uint8_t *)s, strlen(s));
    else
        fputs("null", f);
}

static void json_signal(FILE *f, int sig)
{
    char name[32];
    if (sig) {
        json_text(f, es_signal_name(sig, name, sizeof name));
        fprintf(f, ",\"signal_number\":%d", sig);
    } else {
        fputs("null,\"signal_number\":null", f);
    }
}

static void json_frame(FILE *f, int64_t last_frame)
{
    if (last_frame >= 0)
        fprintf(f, "%" PRId64, last_frame + 1);
    else
        fputs("null", f);
}

static void json_seconds(FILE *f, double s)
{
    fprintf(f, "%.3f", s >= 0 && s < 1e12 ? s : 0.0);
}

static int write_site(FILE *to, const struct es_fault_site *s)
{
    struct record rec;
    if (!record_open(&rec))
        return -1;
    FILE *f = rec.f;
    fprintf(f, "{\"type\":\"site\",\"kind\":\"%s\",\"call\":%" PRIu64 ",\"finding\":\"%s\",\"outcome\":\"%s\"",
            es_fault_kind_name(s->kind), s->call, es_fault_finding_name(s->finding), es_outcome_name(s->outcome));
    fputs(",\"detail\":", f);
    json_text(f, s->detail);
    fputs(",\"signal\":", f);
    json_signal(f, s->signal);
    fputs(",\"fault_address\":", f);
    if (s->has_fault_address)
        fprintf(f, "\"0x%" PRIx64 "\"", s->fault_address);
    else
        fputs("null", f);
    fputs(",\"last_frame\":", f);
    json_frame(f, s->last_frame);
    fprintf(f, ",\"frames_read\":%" PRIu64 ",\"helper_calls\":%" PRIu64 ",\"alloc_calls\":%" PRIu64
               ",\"heap\":{\"blocks\":%" PRIu64 ",\"in_use\":%" PRIu64 "},\"elapsed_seconds\":",
            s->frames_read, s->helper_calls, s->alloc_calls, s->heap_blocks, s->heap_in_use);
    json_seconds(f, s->elapsed_seconds);
    fputs("}", f);
    return record_write(&rec, to);
}

static void json_sites(FILE *f, const char *key, uint64_t total, uint64_t tested, bool sampled)
{
    fprintf(f, ",\"%s\":{\"total\":%" PRIu64 ",\"tested\":%" PRIu64 ",\"sampled\":%s}", key, total, tested,
            sampled ? "true" : "false");
}

static int write_summary(FILE *to, const struct es_faults_report *r)
{
    struct verdict v;
    if (!build_verdict(r, &v)) {
        verdict_free(&v);
        errno = ENOMEM;
        return -1;
    }
    struct record rec;
    if (!record_open(&rec)) {
        verdict_free(&v);
        return -1;
    }
    FILE *f = rec.f;
    fputs("{\"type\":\"summary\",\"schema\":1,\"expert\":", f);
    json_text(f, r->expert_name);
    fputs(",\"expert_file\":", f);
    json_text(f, r->expert_path);
    fputs(",\"capture\":", f);
    json_text(f, r->capture_path);
    fprintf(f, ",\"seed\":%" PRIu64 ",\"baseline\":{\"outcome\":\"%s\",\"finding\":\"%s\",\"detail\":", r->seed,
            es_outcome_name(r->baseline_outcome), es_fault_finding_name(r->baseline_finding));
    json_text(f, r->baseline_detail);
    fputs(",\"signal\":", f);
    json_signal(f, r->baseline_signal);
    fputs(",\"last_frame\":", f);
    json_frame(f, r->baseline_last_frame);
    fprintf(f, ",\"frames_read\":%" PRIu64 ",\"helper_calls\":%" PRIu64 ",\"alloc_calls\":%" PRIu64
               ",\"heap\":{\"blocks\":%" PRIu64 ",\"in_use\":%" PRIu64 "},\"elapsed_seconds\":",
            r->baseline_frames_read, r->helper_calls, r->alloc_calls, r->baseline_heap_blocks,
            r->baseline_heap_in_use);
    json_seconds(f, r->baseline_elapsed_seconds);
    fputs("}", f);
    json_sites(f, "alloc_sites", r->alloc_calls, r->alloc_sites_tested, r->alloc_sampled);
    json_sites(f, "terminate_sites", r->helper_calls, r->terminate_sites_tested, r->terminate_sampled);
    fprintf(f, ",\"sites_run\":%zu,\"findings\":{", r->count);
    for (int i = 0; i < ES_FINDING_COUNT; i++)
        fprintf(f, "%s\"%s\":%zu", i ? "," : "", finding_names[i], r->findings[i]);
    fprintf(f, "},\"swept\":%s,\"interrupted\":%s,\"exit_status\":%d,\"verdict\":[", r->swept ? "true" : "false",
            r->interrupted ? "true" : "false", (int)r->exit_code);
    for (size_t i = 0; i < v.count; i++) {
        fputs(i ? "," : "", f);
        json_text(f, v.lines[i]);
    }
    fputs("]}", f);
    verdict_free(&v);
    return record_write(&rec, to);
}

int es_faults_write_json(FILE *to, const struct es_faults_report *r)
{
    for (size_t i = 0; i < r->count; i++)
        if (write_site(to, &r->sites[i]) != 0)
            return -1;
    return write_summary(to, r);
}
