/*
 * test_api.c - the Expert API contract of include/netmon.h, checked from the
 * expert's side of the sandbox.
 *
 * The experts in tests/experts/api/ call the helpers the way an author would
 * and report what they observe as events (tests/experts/api/api_report.h:
 * szEventName says what was observed, the columns carry the values).  This
 * file runs them in-process with es_run and es_configure, real workers and
 * real captures, and compares their observations with the contract and with
 * independent readings of the same captures: libpcap for frames and filters,
 * tshark for where each protocol starts.
 *
 * Environment (set by tests/meson.build):
 *   ES_WORKER            the expert-worker to start
 *   ES_SAMPLE_PCAP       the project's 2000-frame synthetic capture
 *   ES_SHARED_CAPTURES   tcpdump's test captures (several link types)
 * The experts' paths come as -D defines (tests/experts/api/meson.build).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker.h"
#include "netmon.h"

/* ------------------------------------------------------------------------ */
/* Environment and scratch files                                            */
/* ------------------------------------------------------------------------ */

static const char *required_env(const char *name)
{
    const char *value = getenv(name);
    ck_assert_msg(value && *value, "%s is not set: run this test through meson", name);
    return value;
}

static const char *sample_pcap(void)
{
    return required_env("ES_SAMPLE_PCAP");
}

/* A capture of tcpdump's test corpus, by file name. */
static char *shared_capture(const char *name)
{
    char *path = NULL;
    ck_assert_int_ge(asprintf(&path, "%s/%s", required_env("ES_SHARED_CAPTURES"), name), 0);
    ck_assert_msg(access(path, R_OK) == 0, "%s: %s", path, strerror(errno));
    return path;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

/* Every scratch directory lives under one root that main() makes before the
 * tests and removes after them: a failed assertion ends a test's process at
 * once, without running any clean-up of its own. */
static char *scratch_root;

static char *make_scratch_dir(void)
{
    ck_assert_ptr_nonnull(scratch_root);
    char *path = NULL;
    ck_assert_int_ge(asprintf(&path, "%s/test-XXXXXX", scratch_root), 0);
    ck_assert_msg(mkdtemp(path) != NULL, "mkdtemp: %s", strerror(errno));
    return path;
}

static void remove_tree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void remove_scratch_dir(char *path)
{
    remove_tree(path);
    free(path);
}

static char *path_in(const char *dir, const char *name)
{
    char *path = NULL;
    ck_assert_int_ge(asprintf(&path, "%s/%s", dir, name), 0);
    return path;
}

static void write_file(const char *path, const void *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    ck_assert_uint_eq(fwrite(bytes, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* The whole file, or NULL (errno set) if it cannot be read. */
static unsigned char *read_whole_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *data = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&data, &size);
    ck_assert_ptr_nonnull(out);
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, out);
    fclose(f);
    fclose(out);
    *len = size;
    return (unsigned char *)data;
}

/* ------------------------------------------------------------------------ */
/* Running experts in-process                                               */
/* ------------------------------------------------------------------------ */

struct api_run {
    enum es_exit code;
    struct es_run_result result;
    char *out;           /* the JSON Lines (or text) es_run wrote */
    size_t out_len;
    char *diag;          /* its diagnostics */
    size_t diag_len;
    char **lines;        /* out split at newlines, each NUL-terminated */
    size_t line_count;
};

static void split_lines(struct api_run *r)
{
    size_t capacity = 64;
    r->lines = malloc(capacity * sizeof *r->lines);
    ck_assert_ptr_nonnull(r->lines);
    char *at = r->out;
    while (at && *at) {
        char *end = strchr(at, '\n');
        ck_assert_msg(end != NULL, "a record does not end in a newline: %.200s", at);
        if (r->line_count == capacity) {
            capacity *= 2;
            r->lines = realloc(r->lines, capacity * sizeof *r->lines);
            ck_assert_ptr_nonnull(r->lines);
        }
        r->lines[r->line_count++] = strndup(at, (size_t)(end - at));
        at = end + 1;
    }
}

/* Runs with the options given, in this process.  Everything that touches the
 * machine outside the run is switched off: signals, the table, progress, the
 * user's stored configurations (a directory that does not exist). */
static void run_with(struct api_run *r, struct es_run_options *opt)
{
    memset(r, 0, sizeof *r);
    FILE *out = open_memstream(&r->out, &r->out_len);
    FILE *diag = open_memstream(&r->diag, &r->diag_len);
    ck_assert_ptr_nonnull(out);
    ck_assert_ptr_nonnull(diag);
    opt->json = out;
    opt->diagnostics = diag;
    opt->handle_signals = false;
    opt->table = false;
    opt->progress = false;
    opt->grace_seconds = -1;
    if (!opt->worker_path)
        opt->worker_path = required_env("ES_WORKER");
    if (!opt->jobs)
        opt->jobs = 1;
    if (!opt->startup.config_file && !opt->startup.config_dir)
        opt->startup.config_dir = "/nonexistent/expert-sandbox-api-tests";
    r->code = es_run(opt, &r->result);
    ck_assert_int_eq(fclose(out), 0);
    ck_assert_int_eq(fclose(diag), 0);
    split_lines(r);
}

/* One expert over one capture, nothing else set. */
static void run_one(struct api_run *r, const char *expert, const char *capture)
{
    const char *experts[] = {expert};
    struct es_run_options opt = {.capture_path = capture, .experts = experts, .expert_count = 1};
    run_with(r, &opt);
}

static void run_free(struct api_run *r)
{
    es_run_result_free(&r->result);
    for (size_t i = 0; i < r->line_count; i++)
        free(r->lines[i]);
    free(r->lines);
    free(r->out);
    free(r->diag);
    memset(r, 0, sizeof *r);
}

static const struct es_outcome *outcome_of(const struct api_run *r, size_t index)
{
    ck_assert_msg(r->result.count > index, "no outcome for expert %zu (exit %d): %s", index, (int)r->code,
                  r->diag ? r->diag : "");
    return &r->result.outcomes[index];
}

static void assert_outcome(const struct api_run *r, size_t index, enum es_outcome_kind kind)
{
    const struct es_outcome *o = outcome_of(r, index);
    ck_assert_msg(o->kind == kind, "%s ended \"%s\" (%s), expected \"%s\"; diagnostics: %s", o->expert_path,
                  es_outcome_name(o->kind), o->detail, es_outcome_name(kind), r->diag);
}

static void assert_done(const struct api_run *r)
{
    assert_outcome(r, 0, ES_OUTCOME_DONE);
    ck_assert_int_eq(r->code, ES_EXIT_OK);
}

/* ------------------------------------------------------------------------ */
/* Reading the experts' observations                                        */
/* ------------------------------------------------------------------------ */

static bool is_event_named(const char *line, const char *name)
{
    char key[300];
    snprintf(key, sizeof key, "\"event_name\":\"%s\",\"source\":", name);
    return strncmp(line, "{\"type\":\"event\",", 16) == 0 && strstr(line, key) != NULL;
}

/* The first event called `name`; fails the test if there is none. */
static const char *event_named(const struct api_run *r, const char *name)
{
    for (size_t i = 0; i < r->line_count; i++)
        if (is_event_named(r->lines[i], name))
            return r->lines[i];
    const struct es_outcome *o = r->result.count ? &r->result.outcomes[0] : NULL;
    ck_abort_msg("no event \"%s\" (outcome %s: %s; diagnostics: %s)", name, o ? es_outcome_name(o->kind) : "none",
                 o ? o->detail : "", r->diag);
    return NULL;
}

static size_t count_events_named(const struct api_run *r, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < r->line_count; i++)
        n += is_event_named(r->lines[i], name);
    return n;
}

static size_t count_records(const struct api_run *r, const char *type)
{
    char key[64];
    snprintf(key, sizeof key, "{\"type\":\"%s\",", type);
    size_t n = 0;
    for (size_t i = 0; i < r->line_count; i++)
        n += strncmp(r->lines[i], key, strlen(key)) == 0;
    return n;
}

static const char *record_of_type(const struct api_run *r, const char *type)
{
    char key[64];
    snprintf(key, sizeof key, "{\"type\":\"%s\",", type);
    for (size_t i = 0; i < r->line_count; i++)
        if (strncmp(r->lines[i], key, strlen(key)) == 0)
            return r->lines[i];
    ck_abort_msg("no \"%s\" record in:\n%s", type, r->out);
    return NULL;
}

/* What follows "value": in column `name` of the event line, or NULL. */
static const char *column_value(const char *line, const char *name)
{
    char key[320];
    snprintf(key, sizeof key, "{\"name\":\"%s\",\"type\":\"", name);
    const char *at = strstr(line, key);
    if (!at)
        return NULL;
    at = strstr(at + strlen(key), "\"value\":");
    return at ? at + strlen("\"value\":") : NULL;
}

static uint64_t column_number(const char *line, const char *name)
{
    const char *value = column_value(line, name);
    ck_assert_msg(value != NULL, "no column \"%s\" in %s", name, line);
    ck_assert_msg(*value >= '0' && *value <= '9', "column \"%s\" is not a number in %s", name, line);
    return strtoull(value, NULL, 10);
}

static void assert_column_number(const char *line, const char *name, uint64_t expected)
{
    uint64_t got = column_number(line, name);
    ck_assert_msg(got == expected, "column \"%s\" is %" PRIu64 ", expected %" PRIu64 " in %s", name, got, expected,
                  line);
}

/* The column's value, exactly as JSON text (`"yes"`, `null,"invalid":true`). */
static void assert_column_json(const char *line, const char *name, const char *json)
{
    const char *value = column_value(line, name);
    ck_assert_msg(value != NULL, "no column \"%s\" in %s", name, line);
    size_t len = strlen(json);
    ck_assert_msg(strncmp(value, json, len) == 0 && value[len] == '}',
                  "column \"%s\" should be %s in %.3000s", name, json, line);
}

static void assert_yes(const char *line, const char *name)
{
    assert_column_json(line, name, "\"yes\"");
}

static void assert_contains(const char *text, const char *needle)
{
    ck_assert_msg(strstr(text, needle) != NULL, "\"%s\" not found in:\n%.4000s", needle, text);
}

/* The 0-based frame numbers of every event called `name`, in output order. */
static uint32_t *frames_of_events(const struct api_run *r, const char *name, size_t *count)
{
    uint32_t *frames = malloc((r->line_count + 1) * sizeof *frames);
    ck_assert_ptr_nonnull(frames);
    *count = 0;
    for (size_t i = 0; i < r->line_count; i++) {
        if (!is_event_named(r->lines[i], name))
            continue;
        uint64_t shown = column_number(r->lines[i], "frame");   /* 1-based in JSON */
        ck_assert_msg(shown >= 1 && shown <= UINT32_MAX, "bad frame in %s", r->lines[i]);
        frames[(*count)++] = (uint32_t)(shown - 1);
    }
    return frames;
}

/* ------------------------------------------------------------------------ */
/* libpcap's reading of a capture                                           */
/* ------------------------------------------------------------------------ */

struct pcap_frame {
    int64_t ts_usec;
    uint32_t len;
    uint32_t caplen;
    unsigned char *bytes;
};

struct capture {
    struct pcap_frame *frames;
    uint32_t count;
    int link_type;
};

static void read_capture(const char *path, struct capture *c)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, err);
    ck_assert_msg(p != NULL, "%s: %s", path, err);
    memset(c, 0, sizeof *c);
    c->link_type = pcap_datalink(p);
    size_t capacity = 0;
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc;
    while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
        if (c->count == capacity) {
            capacity = capacity ? capacity * 2 : 256;
            c->frames = realloc(c->frames, capacity * sizeof *c->frames);
            ck_assert_ptr_nonnull(c->frames);
        }
        struct pcap_frame *f = &c->frames[c->count++];
        f->ts_usec = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
        f->len = h->len;
        f->caplen = h->caplen;
        f->bytes = malloc(h->caplen ? h->caplen : 1);
        ck_assert_ptr_nonnull(f->bytes);
        memcpy(f->bytes, data, h->caplen);
    }
    ck_assert_msg(rc == PCAP_ERROR_BREAK, "%s: %s", path, pcap_geterr(p));
    pcap_close(p);
}

static void free_capture(struct capture *c)
{
    for (uint32_t i = 0; i < c->count; i++)
        free(c->frames[i].bytes);
    free(c->frames);
}

/* Which frames pass `expression`, by libpcap's own filter engine. */
static bool *filter_mask(const char *path, const char *expression, uint32_t *count, uint32_t *passing)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, err);
    ck_assert_msg(p != NULL, "%s: %s", path, err);
    struct bpf_program program;
    ck_assert_msg(pcap_compile(p, &program, expression, 1, PCAP_NETMASK_UNKNOWN) == 0, "%s: %s", expression,
                  pcap_geterr(p));
    size_t capacity = 4096;
    bool *mask = malloc(capacity * sizeof *mask);
    ck_assert_ptr_nonnull(mask);
    *count = 0;
    *passing = 0;
    struct pcap_pkthdr *h;
    const u_char *data;
    while (pcap_next_ex(p, &h, &data) == 1) {
        if (*count == capacity) {
            capacity *= 2;
            mask = realloc(mask, capacity * sizeof *mask);
            ck_assert_ptr_nonnull(mask);
        }
        mask[*count] = pcap_offline_filter(&program, h, data) != 0;
        *passing += mask[*count];
        ++*count;
    }
    pcap_freecode(&program);
    pcap_close(p);
    return mask;
}

/* The same FNV-1a the experts use (api_report.h), written out again here so
 * that a change on one side cannot silently follow the other. */
static uint64_t fnv1a(uint64_t hash, const void *bytes, size_t len)
{
    const unsigned char *p = bytes;
    for (size_t i = 0; i < len; i++) {
        hash ^= p[i];
        hash *= 0x100000001b3ull;
    }
    return hash;
}

/* Sum over frames of FNV-1a(FrameNumber, TimeStamp, FrameLength,
 * nBytesAvail, bytes), as api_frames computes it from what it is given. */
static uint64_t capture_hash(const struct capture *c)
{
    uint64_t sum = 0;
    for (uint32_t n = 0; n < c->count; n++) {
        const struct pcap_frame *f = &c->frames[n];
        int64_t ts = f->ts_usec - c->frames[0].ts_usec;
        uint64_t h = 0xcbf29ce484222325ull;
        h = fnv1a(h, &n, sizeof n);
        h = fnv1a(h, &ts, sizeof ts);
        h = fnv1a(h, &f->len, sizeof f->len);
        h = fnv1a(h, &f->caplen, sizeof f->caplen);
        sum += fnv1a(h, f->bytes, f->caplen);
    }
    return sum;
}

static uint64_t column_u64(const char *line, const char *hi, const char *lo)
{
    return column_number(line, hi) << 32 | column_number(line, lo);
}

/* ------------------------------------------------------------------------ */
/* 1. ExpertGetFrame                                                        */
/* ------------------------------------------------------------------------ */

/* One ExpertGetFrame call as api_frames reported it. */
static void assert_probe(const struct api_run *r, const char *label, DWORD rc, DWORD frame)
{
    char name[96];
    snprintf(name, sizeof name, "probe:%s", label);
    const char *line = event_named(r, name);
    assert_column_number(line, "rc", rc);
    assert_column_number(line, "frame", frame);
    if (rc == NMERR_SUCCESS) {
        assert_yes(line, "hframe_is_pframe");
        assert_yes(line, "no_properties");
        assert_yes(line, "recognized");
    }
}

START_TEST(test_frames_sample)
{
    const char *capture_path = sample_pcap();
    struct capture c;
    read_capture(capture_path, &c);
    ck_assert_uint_eq(c.count, 2000);
    const DWORD last = c.count - 1;

    struct api_run r;
    run_one(&r, API_FRAMES_SO, capture_path);
    assert_done(&r);

    const char *capture = event_named(&r, "capture");
    assert_column_number(capture, "total", c.count);
    assert_column_number(capture, "link", (uint64_t)c.link_type);
    assert_column_number(capture, "mac", MAC_TYPE_ETHERNET);
    assert_column_number(capture, "bogus_total", 0);
    assert_column_number(capture, "bogus_link", 0xFFFFFFFFu);
    assert_column_number(capture, "bogus_mac", MAC_TYPE_UNKNOWN);

    assert_probe(&r, "fwd_invalid", NMERR_SUCCESS, 0);
    assert_probe(&r, "bwd_invalid", NMERR_SUCCESS, last);
    assert_probe(&r, "fwd_from_first", NMERR_SUCCESS, 1);
    assert_probe(&r, "bwd_from_last", NMERR_SUCCESS, last - 1);
    assert_probe(&r, "fwd_from_last", NMERR_NO_MORE_FRAMES, INVALID_FRAME_NUMBER);
    assert_probe(&r, "fwd_from_total", NMERR_NO_MORE_FRAMES, INVALID_FRAME_NUMBER);
    assert_probe(&r, "fwd_from_huge", NMERR_NO_MORE_FRAMES, INVALID_FRAME_NUMBER);
    assert_probe(&r, "bwd_from_first", NMERR_NO_MORE_FRAMES, INVALID_FRAME_NUMBER);
    /* "the last frame before it": frame `total` does not exist, the one
     * before it does. */
    assert_probe(&r, "bwd_from_total", NMERR_SUCCESS, last);
    assert_probe(&r, "spec_first", NMERR_SUCCESS, 0);
    assert_probe(&r, "spec_last", NMERR_SUCCESS, last);
    assert_probe(&r, "spec_1234", NMERR_SUCCESS, 1234);
    assert_probe(&r, "spec_total", NMERR_FRAME_NOT_FOUND, INVALID_FRAME_NUMBER);
    assert_probe(&r, "spec_huge", NMERR_FRAME_NOT_FOUND, INVALID_FRAME_NUMBER);
    assert_probe(&r, "spec_invalid", NMERR_FRAME_NOT_FOUND, INVALID_FRAME_NUMBER);
    assert_probe(&r, "direction_3", NMERR_INVALID_PARAMETER, INVALID_FRAME_NUMBER);
    assert_probe(&r, "direction_max", NMERR_INVALID_PARAMETER, INVALID_FRAME_NUMBER);
    assert_probe(&r, "null_descriptor_fwd", NMERR_INVALID_PARAMETER, INVALID_FRAME_NUMBER);
    assert_probe(&r, "null_descriptor_spec", NMERR_INVALID_PARAMETER, INVALID_FRAME_NUMBER);
    assert_probe(&r, "forged_filter_fwd", NMERR_INVALID_HFILTER, INVALID_FRAME_NUMBER);
    assert_probe(&r, "forged_filter_spec", NMERR_INVALID_HFILTER, INVALID_FRAME_NUMBER);
    /* FLAGS_ATTACH_PROPERTIES changes nothing; without --filter the
     * deferred filter lets everything through. */
    assert_probe(&r, "attach_properties", NMERR_SUCCESS, 0);
    assert_probe(&r, "attach_spec", NMERR_SUCCESS, 0);

    uint64_t expected_hash = capture_hash(&c);
    const char *fwd = event_named(&r, "walk_forward");
    assert_column_number(fwd, "count", c.count);
    assert_column_number(fwd, "first", 0);
    assert_column_number(fwd, "last", last);
    assert_column_number(fwd, "end_rc", NMERR_NO_MORE_FRAMES);
    assert_yes(fwd, "consecutive");
    assert_yes(fwd, "handles");
    assert_yes(fwd, "specified");
    assert_yes(fwd, "first_ts_zero");
    assert_yes(fwd, "ts_increasing");   /* mkpcap's timestamps strictly increase */
    assert_yes(fwd, "lengths");
    ck_assert_msg(column_u64(fwd, "hash_hi", "hash_lo") == expected_hash,
                  "the frames walked forward are not libpcap's frames (number, time, lengths, bytes)");

    const char *bwd = event_named(&r, "walk_backward");
    assert_column_number(bwd, "count", c.count);
    assert_column_number(bwd, "first", last);
    assert_column_number(bwd, "last", 0);
    assert_column_number(bwd, "end_rc", NMERR_NO_MORE_FRAMES);
    assert_yes(bwd, "consecutive");
    ck_assert_msg(column_u64(bwd, "hash_hi", "hash_lo") == expected_hash,
                  "the frames walked backward are not libpcap's frames");

    const char *deferred = event_named(&r, "walk_deferred");
    assert_column_number(deferred, "count", c.count);
    assert_column_number(deferred, "end_rc", NMERR_NO_MORE_FRAMES);
    assert_yes(deferred, "no_properties");

    run_free(&r);
    free_capture(&c);
}
END_TEST

/* A pcap file header and nothing else: a capture of no frames. */
START_TEST(test_frames_empty_capture)
{
    char *dir = make_scratch_dir();
    char *path = path_in(dir, "empty.pcap");
    const uint32_t header[6] = {0xa1b2c3d4u, 2u | 4u << 16, 0, 0, 65535, 1 /* EN10MB */};
    write_file(path, header, sizeof header);

    struct api_run r;
    run_one(&r, API_FRAMES_SO, path);
    assert_done(&r);
    assert_column_number(event_named(&r, "capture"), "total", 0);
    assert_probe(&r, "fwd_invalid", NMERR_NO_MORE_FRAMES, INVALID_FRAME_NUMBER);
    assert_probe(&r, "bwd_invalid", NMERR_NO_MORE_FRAMES, INVALID_FRAME_NUMBER);
    assert_probe(&r, "fwd_from_first", NMERR_NO_MORE_FRAMES, INVALID_FRAME_NUMBER);
    assert_probe(&r, "bwd_from_total", NMERR_NO_MORE_FRAMES, INVALID_FRAME_NUMBER);
    assert_probe(&r, "spec_first", NMERR_FRAME_NOT_FOUND, INVALID_FRAME_NUMBER);
    assert_probe(&r, "spec_invalid", NMERR_FRAME_NOT_FOUND, INVALID_FRAME_NUMBER);
    assert_probe(&r, "direction_3", NMERR_INVALID_PARAMETER, INVALID_FRAME_NUMBER);
    assert_probe(&r, "null_descriptor_fwd", NMERR_INVALID_PARAMETER, INVALID_FRAME_NUMBER);
    assert_probe(&r, "forged_filter_fwd", NMERR_INVALID_HFILTER, INVALID_FRAME_NUMBER);
    const char *fwd = event_named(&r, "walk_forward");
    assert_column_number(fwd, "count", 0);
    assert_column_number(fwd, "end_rc", NMERR_NO_MORE_FRAMES);
    const char *bwd = event_named(&r, "walk_backward");
    assert_column_number(bwd, "count", 0);
    assert_column_number(bwd, "end_rc", NMERR_NO_MORE_FRAMES);
    run_free(&r);
    free(path);
    remove_scratch_dir(dir);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 2. FLAGS_DEFER_TO_UI_FILTER and --filter                                 */
/* ------------------------------------------------------------------------ */

static void assert_frame_list(const uint32_t *got, size_t got_count, const bool *mask, uint32_t total,
                              bool descending, const char *what)
{
    size_t expected_count = 0;
    for (uint32_t n = 0; n < total; n++)
        expected_count += mask[n];
    size_t i = 0;
    for (uint32_t k = 0; k < total; k++) {
        uint32_t n = descending ? total - 1 - k : k;
        if (!mask[n])
            continue;
        ck_assert_msg(i < got_count, "%s: %zu frames returned, libpcap passes %zu; frame %u is missing", what,
                      got_count, expected_count, n);
        ck_assert_msg(got[i] == n, "%s: returned frame %u where libpcap's next passing frame is %u", what, got[i],
                      n);
        i++;
    }
    ck_assert_msg(i == got_count, "%s: %zu frames returned, libpcap passes only %zu", what, got_count,
                  expected_count);
}

static void check_deferred(const char *filter)
{
    const char *capture_path = sample_pcap();
    uint32_t total, passing;
    bool *mask = filter_mask(capture_path, filter, &total, &passing);

    const char *experts[] = {API_DEFERRED_SO};
    struct es_run_options opt = {.capture_path = capture_path, .experts = experts, .expert_count = 1,
                                 .filter = filter};
    struct api_run r;
    run_with(&r, &opt);
    assert_done(&r);
    char filter_json[128];
    snprintf(filter_json, sizeof filter_json, "\"filter\":\"%s\",", filter);
    assert_contains(record_of_type(&r, "run"), filter_json);

    size_t count;
    uint32_t *forward = frames_of_events(&r, "fwd", &count);
    assert_frame_list(forward, count, mask, total, false, "forward with the flag");
    free(forward);
    assert_column_number(event_named(&r, "fwd_end"), "end_rc", NMERR_NO_MORE_FRAMES);

    uint32_t *backward = frames_of_events(&r, "bwd", &count);
    assert_frame_list(backward, count, mask, total, true, "backward with the flag");
    free(backward);
    assert_column_number(event_named(&r, "bwd_end"), "end_rc", NMERR_NO_MORE_FRAMES);

    uint32_t *specified = frames_of_events(&r, "spec_pass", &count);
    assert_frame_list(specified, count, mask, total, false, "GET_SPECIFIED_FRAME with the flag");
    free(specified);

    /* Without the flag the analyst's filter does not apply. */
    const char *all = event_named(&r, "all");
    assert_column_number(all, "count", total);
    assert_yes(all, "consecutive");
    assert_column_number(all, "end_rc", NMERR_NO_MORE_FRAMES);

    const char *summary = event_named(&r, "spec_summary");
    assert_column_number(summary, "failed", total - passing);
    assert_column_number(summary, "other", 0);
    assert_column_number(summary, "plain_ok", total);
    run_free(&r);
    free(mask);
}

START_TEST(test_deferred_filter_udp)
{
    check_deferred("udp");
}
END_TEST

/* A filter nothing passes: every walk ends at once. */
START_TEST(test_deferred_filter_nothing)
{
    uint32_t total, passing;
    free(filter_mask(sample_pcap(), "ether proto 0x1234", &total, &passing));
    ck_assert_uint_eq(passing, 0);
    check_deferred("ether proto 0x1234");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 3. The expert's own filter                                               */
/* ------------------------------------------------------------------------ */

static void assert_refused(const struct api_run *r, const char *label)
{
    char name[96];
    snprintf(name, sizeof name, "refuse:%s", label);
    const char *line = event_named(r, name);
    assert_column_number(line, "rc", NMERR_FILTER_INVALID_EXPRESSION);
    assert_column_json(line, "handle", "\"no\"");
}

START_TEST(test_own_filter)
{
    const char *capture_path = sample_pcap();
    const char *own_expression = "tcp port 80", *analyst_expression = "ip";
    uint32_t total, own_passing, analyst_passing, both_passing = 0;
    bool *own = filter_mask(capture_path, own_expression, &total, &own_passing);
    bool *analyst = filter_mask(capture_path, analyst_expression, &total, &analyst_passing);
    bool *both = malloc(total * sizeof *both);
    ck_assert_ptr_nonnull(both);
    for (uint32_t n = 0; n < total; n++)
        both_passing += both[n] = own[n] && analyst[n];
    /* The intersection must say something: IPv6 web traffic passes the
     * expert's filter but not the analyst's, and most IPv4 is not web. */
    ck_assert_uint_gt(both_passing, 0);
    ck_assert_uint_lt(both_passing, own_passing);
    ck_assert_uint_lt(both_passing, analyst_passing);

    const char *experts[] = {API_OWN_FILTER_SO};
    struct es_run_options opt = {.capture_path = capture_path, .experts = experts, .expert_count = 1,
                                 .filter = analyst_expression};
    struct api_run r;
    run_with(&r, &opt);
    /* Refused expressions are answers: the expert is not killed for them. */
    assert_done(&r);

    const char *compiled = event_named(&r, "compile");
    assert_column_number(compiled, "rc", NMERR_SUCCESS);
    assert_yes(compiled, "handle");

    size_t count;
    uint32_t *frames = frames_of_events(&r, "own", &count);
    assert_frame_list(frames, count, own, total, false, "forward with the expert's filter");
    free(frames);
    assert_column_number(event_named(&r, "own_end"), "end_rc", NMERR_NO_MORE_FRAMES);
    frames = frames_of_events(&r, "own_bwd", &count);
    assert_frame_list(frames, count, own, total, true, "backward with the expert's filter");
    free(frames);
    frames = frames_of_events(&r, "both", &count);
    assert_frame_list(frames, count, both, total, false, "forward with both filters");
    free(frames);
    assert_column_number(event_named(&r, "both_end"), "end_rc", NMERR_NO_MORE_FRAMES);

    const char *spec = event_named(&r, "spec_own");
    assert_column_number(spec, "passed", own_passing);
    assert_column_number(spec, "failed", total - own_passing);
    assert_column_number(spec, "other", 0);

    assert_refused(&r, "port_http");
    assert_refused(&r, "host_name");
    assert_refused(&r, "net_name");
    assert_refused(&r, "ether_host_name");
    assert_refused(&r, "syntax");
    assert_refused(&r, "garbage");
    /* NULL is not an expression; the contract names no code for it, only
     * that there is no filter and an error is said. */
    const char *null_expression = event_named(&r, "refuse:null");
    assert_column_json(null_expression, "handle", "\"no\"");
    ck_assert_uint_ne(column_number(null_expression, "rc"), NMERR_SUCCESS);

    const char *destroy = event_named(&r, "destroy");
    assert_column_number(destroy, "first", NMERR_SUCCESS);
    assert_column_number(destroy, "second", NMERR_INVALID_HFILTER);
    assert_column_number(destroy, "get_after", NMERR_INVALID_HFILTER);
    assert_column_number(destroy, "null_handle", NMERR_INVALID_HFILTER);
    assert_column_number(destroy, "forged", NMERR_INVALID_HFILTER);

    /* "At most 64 filters are alive at once." */
    const char *limit = event_named(&r, "limit");
    assert_column_number(limit, "live", 64);
    assert_column_json(limit, "refused_handle", "\"no\"");
    ck_assert_uint_ne(column_number(limit, "refused_rc"), NMERR_SUCCESS);
    assert_column_number(limit, "again_rc", NMERR_SUCCESS);
    assert_column_number(limit, "destroyed", 65);

    run_free(&r);
    free(own);
    free(analyst);
    free(both);
}
END_TEST

/* A destroyed handle stays invalid, even when the next filter happens to be
 * made where the old one was: "NMERR_INVALID_HFILTER for a handle that is not
 * a live filter". */
START_TEST(test_own_filter_stale_handle)
{
    struct api_run r;
    run_one(&r, API_OWN_FILTER_SO, sample_pcap());
    assert_done(&r);
    const char *stale = event_named(&r, "stale");
    assert_column_number(stale, "get_rc", NMERR_INVALID_HFILTER);
    assert_column_number(stale, "destroy_rc", NMERR_INVALID_HFILTER);
    assert_yes(stale, "new_alive");
    run_free(&r);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 4. Recognize data, against tshark                                        */
/* ------------------------------------------------------------------------ */

/*
 * tshark's PDML lists, for every frame, the protocols it dissected with the
 * byte offset ("pos") where each starts.  From the top-level ones we keep the
 * chain the recognizer is documented to walk (recognize.c's header comment):
 * the link headers (802.11 behind radiotap, LLC/SNAP, VLAN tags, ...), then
 * ARP, or IPv4/IPv6 followed by TCP, UDP, ICMP or ICMPv6.  The chain ends at
 * the first protocol outside that list (IGMP, GRE, IP in IP, ...), which is
 * where the recognizer stops.
 *
 * Translations, all facts of the two tools, not guesses:
 *  - tshark's VLAN protocol starts at the TCI, after the TPID that the
 *    previous header's type field holds; ES_PROTOCOL_VLAN marks the tag as
 *    the 802.1Q standard draws it, TPID first: two bytes earlier.
 *  - IPv6 extension headers are nested inside tshark's "ipv6", except AH,
 *    which is a protocol of its own; the recognizer walks AH as one of the
 *    headers that may precede the transport, so it is skipped after IPv6.
 *  - tshark's "llc" is any 802.2 header; ES_PROTOCOL_LLC_SNAP only one
 *    whose SNAP OUI says an EtherType follows (00-00-00, 00-00-F8), which
 *    the oracle reads from the llc.oui field.
 *  - tshark shows an IP header whose version nibble contradicts its type as
 *    "ip" or "ipv6" all the same (then "ipv6" too for version 6 behind an
 *    IPv4 type); the recognizer records no header of the wrong version, so
 *    the oracle keeps an IP header only when its version field agrees.
 *  - "wlan_radio" is tshark's summary of the radio information, no header.
 * Fragments: tshark is told not to reassemble, so a later fragment shows as
 * data, as the recognizer has it.
 */
struct oracle_walk {
    char text[512];
    size_t len;
    enum { AT_LINK, IN_LLC, IN_IPV4, IN_IPV6, AFTER_IPV4, AFTER_IPV6, FINISHED } state;
    unsigned pending_pos;   /* IN_*: where the header waiting for its field starts */
};

static void oracle_add(struct oracle_walk *w, unsigned id, unsigned offset)
{
    int n = snprintf(w->text + w->len, sizeof w->text - w->len, "%s%u@%u", w->len ? " " : "", id, offset);
    ck_assert_int_gt(n, 0);
    w->len += (size_t)n;
    ck_assert_uint_lt(w->len, sizeof w->text);
}

static void oracle_protocol(struct oracle_walk *w, const char *name, unsigned pos)
{
    static const char *const not_headers[] = {"geninfo", "frame", "raw", "fake-field-wrapper", "wlan_radio"};
    for (size_t i = 0; i < sizeof not_headers / sizeof *not_headers; i++)
        if (!strcmp(name, not_headers[i]))
            return;
    /* A header still waiting for the field that decides it never got it. */
    if (w->state == IN_LLC || w->state == IN_IPV4 || w->state == IN_IPV6)
        w->state = FINISHED;
    if (w->state == FINISHED)
        return;
    if (w->state == AT_LINK) {
        static const struct {
            const char *name;
            unsigned id;
        } links[] = {{"eth", ES_PROTOCOL_ETHERNET},    {"sll", ES_PROTOCOL_LINUX_SLL},
                     {"null", ES_PROTOCOL_LOOPBACK},   {"radiotap", ES_PROTOCOL_RADIOTAP},
                     {"wlan", ES_PROTOCOL_IEEE80211},  {"ppp", ES_PROTOCOL_PPP},
                     {"chdlc", ES_PROTOCOL_CISCO_HDLC}, {"fr", ES_PROTOCOL_FRAME_RELAY},
                     {"nflog", ES_PROTOCOL_NFLOG},     {"ipnet", ES_PROTOCOL_IPNET}};
        for (size_t i = 0; i < sizeof links / sizeof *links; i++) {
            if (!strcmp(name, links[i].name)) {
                oracle_add(w, links[i].id, pos);
                return;
            }
        }
        w->pending_pos = pos;
        if (!strcmp(name, "vlan") || !strcmp(name, "ieee8021ad")) {
            ck_assert_uint_ge(pos, 2);
            oracle_add(w, ES_PROTOCOL_VLAN, pos - 2);
        } else if (!strcmp(name, "arp")) {
            oracle_add(w, ES_PROTOCOL_ARP, pos);
            w->state = FINISHED;
        } else if (!strcmp(name, "llc")) {
            w->state = IN_LLC;
        } else if (!strcmp(name, "ip")) {
            w->state = IN_IPV4;
        } else if (!strcmp(name, "ipv6")) {
            w->state = IN_IPV6;
        } else {
            w->state = FINISHED;
        }
        return;
    }
    if (w->state == AFTER_IPV6 && !strcmp(name, "ah"))
        return;
    static const struct {
        const char *name;
        unsigned id;
    } transports[] = {{"tcp", ES_PROTOCOL_TCP}, {"udp", ES_PROTOCOL_UDP}, {"icmp", ES_PROTOCOL_ICMP},
                      {"icmpv6", ES_PROTOCOL_ICMPV6}};
    for (size_t i = 0; i < sizeof transports / sizeof *transports; i++)
        if (!strcmp(name, transports[i].name))
            oracle_add(w, transports[i].id, pos);
    w->state = FINISHED;
}

/* A field of the header the walk is waiting on: the LLC's SNAP OUI, the IP
 * version. */
static void oracle_field(struct oracle_walk *w, const char *name, const char *show)
{
    if (w->state == IN_LLC && !strcmp(name, "llc.oui")) {
        bool ethertype = !strcmp(show, "0") || !strcmp(show, "248");
        if (ethertype)
            oracle_add(w, ES_PROTOCOL_LLC_SNAP, w->pending_pos);
        w->state = ethertype ? AT_LINK : FINISHED;
    } else if (w->state == IN_IPV4 && !strcmp(name, "ip.version")) {
        if (!strcmp(show, "4")) {
            oracle_add(w, ES_PROTOCOL_IPV4, w->pending_pos);
            w->state = AFTER_IPV4;
        } else {
            /* tshark hands version 6 to its "ipv6", which comes next. */
            w->state = !strcmp(show, "6") ? AT_LINK : FINISHED;
        }
    } else if (w->state == IN_IPV6 && !strcmp(name, "ipv6.version")) {
        if (!strcmp(show, "6")) {
            oracle_add(w, ES_PROTOCOL_IPV6, w->pending_pos);
            w->state = AFTER_IPV6;
        } else {
            w->state = FINISHED;
        }
    }
}

/* The value of attribute `attr` in a PDML line, copied into out. */
static bool pdml_attribute(const char *line, const char *attr, char *out, size_t len)
{
    char key[32];
    snprintf(key, sizeof key, " %s=\"", attr);
    const char *at = strstr(line, key);
    if (!at)
        return false;
    at += strlen(key);
    const char *end = strchr(at, '"');
    if (!end || (size_t)(end - at) >= len)
        return false;
    memcpy(out, at, (size_t)(end - at));
    out[end - at] = '\0';
    return true;
}

/* tshark's chain for every frame of the capture, as "id@offset ..." strings. */
static char **tshark_chains(const char *capture_path, size_t *count)
{
    int pipe_fds[2];
    ck_assert_int_eq(pipe(pipe_fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(pipe_fds[1], STDOUT_FILENO);
        if (null >= 0)
            dup2(null, STDERR_FILENO);
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        execlp("tshark", "tshark", "-n", "-r", capture_path, "-T", "pdml", "-o", "ip.defragment:FALSE", "-o",
               "ipv6.defragment:FALSE", (char *)NULL);
        _exit(127);
    }
    close(pipe_fds[1]);
    FILE *in = fdopen(pipe_fds[0], "r");
    ck_assert_ptr_nonnull(in);
    size_t capacity = 256;
    char **chains = malloc(capacity * sizeof *chains);
    ck_assert_ptr_nonnull(chains);
    *count = 0;
    struct oracle_walk walk;
    bool in_packet = false;
    char *line = NULL;
    size_t line_size = 0;
    while (getline(&line, &line_size, in) > 0) {
        if (!strncmp(line, "<packet>", 8)) {
            memset(&walk, 0, sizeof walk);
            in_packet = true;
        } else if (!strncmp(line, "</packet>", 9) && in_packet) {
            if (*count == capacity) {
                capacity *= 2;
                chains = realloc(chains, capacity * sizeof *chains);
                ck_assert_ptr_nonnull(chains);
            }
            chains[(*count)++] = strdup(walk.text);
            in_packet = false;
        } else if (in_packet && !strncmp(line, "  <proto ", 9)) {   /* top level only */
            char name[64], pos[16];
            if (pdml_attribute(line, "name", name, sizeof name) && pdml_attribute(line, "pos", pos, sizeof pos))
                oracle_protocol(&walk, name, (unsigned)strtoul(pos, NULL, 10));
        } else if (in_packet && (walk.state == IN_LLC || walk.state == IN_IPV4 || walk.state == IN_IPV6) &&
                   strstr(line, "<field ")) {
            char name[64], show[64];
            if (pdml_attribute(line, "name", name, sizeof name) && pdml_attribute(line, "show", show, sizeof show))
                oracle_field(&walk, name, show);
        }
    }
    free(line);
    fclose(in);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "tshark failed on %s (status 0x%x): the recognize test needs tshark", capture_path, status);
    return chains;
}

/* --- captures made here, for what the corpus lacks --------------------- */

struct frame_bytes {
    unsigned char b[600];
    size_t n;
};

static void put_hex(struct frame_bytes *f, const char *hex)
{
    for (const char *p = hex; *p;) {
        if (*p == ' ') {
            p++;
            continue;
        }
        unsigned value;
        ck_assert_int_eq(sscanf(p, "%2x", &value), 1);
        ck_assert_uint_lt(f->n, sizeof f->b);
        f->b[f->n++] = (unsigned char)value;
        p += 2;
    }
}

static void put_zeros(struct frame_bytes *f, size_t n)
{
    ck_assert_uint_le(f->n + n, sizeof f->b);
    memset(f->b + f->n, 0, n);
    f->n += n;
}

static void set_be16(struct frame_bytes *f, size_t at, size_t value)
{
    f->b[at] = (unsigned char)(value >> 8);
    f->b[at + 1] = (unsigned char)value;
}

static void ethernet(struct frame_bytes *f, const char *type)
{
    put_hex(f, "02 00 00 00 00 02 02 00 00 00 00 01");
    put_hex(f, type);
}

/* An IPv4 header of ihl_words 32-bit words: options are a Router Alert
 * then NOPs.  Returns where it starts, for ipv4_done. */
static size_t ipv4(struct frame_bytes *f, unsigned ihl_words, unsigned protocol, unsigned fragment_field)
{
    size_t at = f->n;
    unsigned char header[20] = {(unsigned char)(0x40 | ihl_words), 0, 0, 0, 0x12, 0x34,
                                (unsigned char)(fragment_field >> 8), (unsigned char)fragment_field, 64,
                                (unsigned char)protocol, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
    ck_assert_uint_le(f->n + 60, sizeof f->b);
    memcpy(f->b + f->n, header, sizeof header);
    f->n += sizeof header;
    if (ihl_words > 5) {
        put_hex(f, "94 04 00 00");
        for (unsigned i = 4; i < (ihl_words - 5) * 4; i++)
            put_hex(f, "01");
    }
    return at;
}

static void ipv4_done(struct frame_bytes *f, size_t at)
{
    set_be16(f, at + 2, f->n - at);
}

static size_t ipv6(struct frame_bytes *f, const char *next_header)
{
    size_t at = f->n;
    put_hex(f, "60 00 00 00 00 00");
    put_hex(f, next_header);
    put_hex(f, "40 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02");
    return at;
}

static void ipv6_done(struct frame_bytes *f, size_t at)
{
    set_be16(f, at + 4, f->n - at - 40);
}

static void tcp(struct frame_bytes *f)
{
    put_hex(f, "c0 00 00 50 00 00 00 01 00 00 00 00 50 02 20 00 00 00 00 00");
}

static void udp(struct frame_bytes *f, size_t payload)
{
    size_t at = f->n;
    put_hex(f, "c0 01 00 35 00 00 00 00");
    put_zeros(f, payload);
    set_be16(f, at + 4, 8 + payload);
}

static FILE *write_pcap_header(const char *path, uint32_t link_type)
{
    FILE *out = fopen(path, "wb");
    ck_assert_msg(out != NULL, "%s: %s", path, strerror(errno));
    const uint32_t header[6] = {0xa1b2c3d4u, 2u | 4u << 16, 0, 0, 65535, link_type};
    ck_assert_uint_eq(fwrite(header, sizeof header, 1, out), 1);
    return out;
}

static void write_pcap_frame(FILE *out, struct frame_bytes *f)
{
    static uint32_t seconds = 1700000000;
    const uint32_t record[4] = {seconds++, 0, (uint32_t)f->n, (uint32_t)f->n};
    ck_assert_uint_eq(fwrite(record, sizeof record, 1, out), 1);
    ck_assert_uint_eq(fwrite(f->b, 1, f->n, out), f->n);
    f->n = 0;
}

/* Ethernet frames for what tcpdump's corpus has only in broken captures:
 * IPv4 options before each transport, fragments, IPv6 extension chains. */
static void write_crafted_ethernet(const char *path)
{
    FILE *out = write_pcap_header(path, 1 /* EN10MB */);
    struct frame_bytes f = {.n = 0};
    size_t ip;

    ethernet(&f, "08 00");   /* IPv4, one word of options, TCP */
    ip = ipv4(&f, 6, 6, 0x4000);
    tcp(&f);
    put_zeros(&f, 4);
    ipv4_done(&f, ip);
    write_pcap_frame(out, &f);

    ethernet(&f, "08 00");   /* IPv4 with the most options there can be, UDP */
    ip = ipv4(&f, 15, 17, 0);
    udp(&f, 4);
    ipv4_done(&f, ip);
    write_pcap_frame(out, &f);

    ethernet(&f, "08 00");   /* IPv4 with options, ICMP echo */
    ip = ipv4(&f, 7, 1, 0);
    put_hex(&f, "08 00 00 00 00 01 00 01");
    ipv4_done(&f, ip);
    write_pcap_frame(out, &f);

    ethernet(&f, "08 00");   /* first fragment (MF, offset 0): the transport is there */
    ip = ipv4(&f, 5, 17, 0x2000);
    udp(&f, 16);
    ipv4_done(&f, ip);
    write_pcap_frame(out, &f);

    ethernet(&f, "08 00");   /* a later fragment: no transport header */
    ip = ipv4(&f, 5, 17, 3);
    put_zeros(&f, 16);
    ipv4_done(&f, ip);
    write_pcap_frame(out, &f);

    ethernet(&f, "08 00");   /* IP in IP: the recognizer stops at the outer header */
    ip = ipv4(&f, 5, 4, 0);
    size_t inner = ipv4(&f, 5, 17, 0);
    udp(&f, 4);
    ipv4_done(&f, inner);
    ipv4_done(&f, ip);
    write_pcap_frame(out, &f);

    ethernet(&f, "86 dd");   /* hop-by-hop, destination, routing, first fragment, UDP */
    ip = ipv6(&f, "00");
    put_hex(&f, "3c 00 01 04 00 00 00 00");                        /* HBH -> DST */
    put_hex(&f, "2b 00 01 04 00 00 00 00");                        /* DST -> RT */
    put_hex(&f, "2c 02 00 00 00 00 00 00");                        /* RT type 0, 24 bytes -> FRAG */
    put_hex(&f, "20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 03");
    put_hex(&f, "11 00 00 01 00 00 00 07");                        /* FRAG offset 0, M -> UDP */
    udp(&f, 8);
    ipv6_done(&f, ip);
    write_pcap_frame(out, &f);

    ethernet(&f, "86 dd");   /* a later IPv6 fragment */
    ip = ipv6(&f, "2c");
    put_hex(&f, "11 00 00 40 00 00 00 07");                        /* offset 8 bytes, last */
    put_zeros(&f, 16);
    ipv6_done(&f, ip);
    write_pcap_frame(out, &f);

    ethernet(&f, "86 dd");   /* AH, then TCP */
    ip = ipv6(&f, "33");
    put_hex(&f, "06 04 00 00 00 00 01 00 00 00 00 01");            /* AH: 6 words = 24 bytes */
    put_zeros(&f, 12);
    tcp(&f);
    ipv6_done(&f, ip);
    write_pcap_frame(out, &f);

    ethernet(&f, "86 dd");   /* IPv6 in IPv6: stop at the outer header */
    ip = ipv6(&f, "29");
    inner = ipv6(&f, "06");
    tcp(&f);
    ipv6_done(&f, inner);
    ipv6_done(&f, ip);
    write_pcap_frame(out, &f);

    ethernet(&f, "81 00 00 14 86 dd");   /* 802.1Q, IPv6, ICMPv6 echo */
    ip = ipv6(&f, "3a");
    put_hex(&f, "80 00 00 00 00 01 00 01");
    ipv6_done(&f, ip);
    write_pcap_frame(out, &f);

    ethernet(&f, "88 a8 00 64 81 00 00 14 08 00");   /* 802.1ad outside 802.1Q, IPv4, UDP */
    ip = ipv4(&f, 5, 17, 0);
    udp(&f, 4);
    ipv4_done(&f, ip);
    write_pcap_frame(out, &f);

    ethernet(&f, "08 06");   /* ARP who-has */
    put_hex(&f, "00 01 08 00 06 04 00 01 02 00 00 00 00 01 0a 00 00 01 00 00 00 00 00 00 0a 00 00 02");
    put_zeros(&f, 18);
    write_pcap_frame(out, &f);

    ethernet(&f, "00 26");   /* 802.3 length and LLC: not a type the recognizer follows */
    put_hex(&f, "42 42 03 00 00 00 00 00");
    put_zeros(&f, 30);
    write_pcap_frame(out, &f);

    ck_assert_int_eq(fclose(out), 0);
}

/* Linux cooked capture v2 (LINUX_SLL2): the protocol type comes first. */
static void write_crafted_sll2(const char *path)
{
    FILE *out = write_pcap_header(path, 276 /* LINUX_SLL2 */);
    struct frame_bytes f = {.n = 0};
    const char *rest = "00 00 00 00 00 02 00 01 00 06 02 00 00 00 00 01 00 00";
    put_hex(&f, "08 00");
    put_hex(&f, rest);
    size_t ip = ipv4(&f, 5, 6, 0x4000);
    tcp(&f);
    ipv4_done(&f, ip);
    write_pcap_frame(out, &f);

    put_hex(&f, "86 dd");
    put_hex(&f, rest);
    ip = ipv6(&f, "11");
    udp(&f, 12);
    ipv6_done(&f, ip);
    write_pcap_frame(out, &f);

    put_hex(&f, "08 06");
    put_hex(&f, rest);
    put_hex(&f, "00 01 08 00 06 04 00 02 02 00 00 00 00 02 0a 00 00 02 02 00 00 00 00 01 0a 00 00 01");
    write_pcap_frame(out, &f);
    ck_assert_int_eq(fclose(out), 0);
}

/* OpenBSD loopback (LOOP): the address family in network byte order. */
static void write_crafted_loop(const char *path)
{
    FILE *out = write_pcap_header(path, 108 /* LOOP */);
    struct frame_bytes f = {.n = 0};
    put_hex(&f, "00 00 00 02");
    size_t ip = ipv4(&f, 6, 1, 0);
    put_hex(&f, "08 00 00 00 00 01 00 01");
    ipv4_done(&f, ip);
    write_pcap_frame(out, &f);

    put_hex(&f, "00 00 00 18");
    ip = ipv6(&f, "11");
    udp(&f, 4);
    ipv6_done(&f, ip);
    write_pcap_frame(out, &f);
    ck_assert_int_eq(fclose(out), 0);
}

/* Frames at the edges of what netmon.h promises ("one per 802.1Q or 802.1ad
 * tag", "BSD loopback (NULL, LOOP) header"): three stacked tags, and the
 * 0x9100 tag of older QinQ switches. */
static void write_crafted_tags(const char *path)
{
    FILE *out = write_pcap_header(path, 1 /* EN10MB */);
    struct frame_bytes f = {.n = 0};
    ethernet(&f, "88 a8 00 64 81 00 00 c8 81 00 00 14 08 00");
    size_t ip = ipv4(&f, 5, 17, 0);
    udp(&f, 4);
    ipv4_done(&f, ip);
    write_pcap_frame(out, &f);

    ethernet(&f, "91 00 00 64 81 00 00 14 86 dd");
    ip = ipv6(&f, "06");
    tcp(&f);
    ipv6_done(&f, ip);
    write_pcap_frame(out, &f);
    ck_assert_int_eq(fclose(out), 0);
}

/* A NULL capture written on a big-endian machine: libpcap reads the file
 * header in either order, but the 4-byte address family stays in the order of
 * the host that wrote it (here 00 00 00 02, AF_INET on a big-endian host). */
static void write_crafted_big_endian_null(const char *path)
{
    FILE *out = fopen(path, "wb");
    ck_assert_msg(out != NULL, "%s: %s", path, strerror(errno));
    const unsigned char header[24] = {0xa1, 0xb2, 0xc3, 0xd4, 0, 2, 0, 4, 0, 0, 0, 0,
                                      0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0 /* NULL */};
    ck_assert_uint_eq(fwrite(header, sizeof header, 1, out), 1);
    struct frame_bytes f = {.n = 0};
    put_hex(&f, "00 00 00 02");
    size_t ip = ipv4(&f, 5, 17, 0);
    udp(&f, 4);
    ipv4_done(&f, ip);
    const unsigned char record[16] = {0x65, 0x53, 0xf1, 0x00, 0, 0, 0, 0,
                                      0, 0, 0, (unsigned char)f.n, 0, 0, 0, (unsigned char)f.n};
    ck_assert_uint_eq(fwrite(record, sizeof record, 1, out), 1);
    ck_assert_uint_eq(fwrite(f.b, 1, f.n, out), f.n);
    ck_assert_int_eq(fclose(out), 0);
}

/* An IPv4 header and UDP, or IPv6 and UDP: the payload of the link-layer
 * cases below, which differ only in the headers in front of it. */
static void ipv4_udp(struct frame_bytes *f)
{
    size_t ip = ipv4(f, 5, 17, 0);
    udp(f, 4);
    ipv4_done(f, ip);
}

static void ipv6_udp(struct frame_bytes *f)
{
    size_t ip = ipv6(f, "11");
    udp(f, 4);
    ipv6_done(f, ip);
}

static void arp_request(struct frame_bytes *f)
{
    put_hex(f, "00 01 08 00 06 04 00 01 02 00 00 00 00 01 0a 00 00 01 00 00 00 00 00 00 0a 00 00 02");
}

/* Frames whose type field and IP version nibble disagree, and 802.3 frames
 * with LLC/SNAP. */
static void write_crafted_versions_and_snap(const char *path)
{
    FILE *out = write_pcap_header(path, 1 /* EN10MB */);
    struct frame_bytes f = {.n = 0};

    ethernet(&f, "08 00");   /* IPv4 type, version 6: tshark walks it as IPv6 */
    ipv6_udp(&f);
    write_pcap_frame(out, &f);

    ethernet(&f, "86 dd");   /* IPv6 type, version 4: no header of either kind */
    ipv4_udp(&f);
    write_pcap_frame(out, &f);

    ethernet(&f, "08 00");   /* version 5: nothing after Ethernet */
    ipv4_udp(&f);
    f.b[14] = 0x55;
    write_pcap_frame(out, &f);

    /* 802.3 (the type field is the length, which tshark believes), SNAP
     * RFC 1042 and 802.1H */
    ethernet(&f, "00 00 aa aa 03 00 00 00 08 00");
    ipv4_udp(&f);
    set_be16(&f, 12, f.n - 14);
    write_pcap_frame(out, &f);

    ethernet(&f, "00 00 aa aa 03 00 00 f8 86 dd");
    ipv6_udp(&f);
    set_be16(&f, 12, f.n - 14);
    write_pcap_frame(out, &f);

    ethernet(&f, "00 30 aa aa 03 00 00 0c 20 00");   /* 802.3, SNAP with Cisco's OUI: not an EtherType */
    put_zeros(&f, 30);
    write_pcap_frame(out, &f);
    ck_assert_int_eq(fclose(out), 0);
}

/* Linux cooked v1 with an 802.1Q tag, as libpcap re-inserts it. */
static void write_crafted_sll_vlan(const char *path)
{
    FILE *out = write_pcap_header(path, 113 /* LINUX_SLL */);
    struct frame_bytes f = {.n = 0};
    put_hex(&f, "00 00 00 01 00 06 02 00 00 00 00 01 00 00 81 00 00 14 08 00");
    ipv4_udp(&f);
    write_pcap_frame(out, &f);
    ck_assert_int_eq(fclose(out), 0);
}

#define WLAN_ADDRESSES "02 00 00 00 00 01 02 00 00 00 00 02 02 00 00 00 00 03 10 00"
#define RADIOTAP_BARE "00 00 08 00 00 00 00 00"

/* 802.11 behind radiotap: every MAC header shape the walk measures, the
 * radiotap Flags field in each place it can be, and the frames whose body
 * is not followed. */
static void write_crafted_radiotap(const char *path)
{
    FILE *out = write_pcap_header(path, 127 /* IEEE802_11_RADIO */);
    struct frame_bytes f = {.n = 0};

    put_hex(&f, RADIOTAP_BARE " 08 02 00 00" WLAN_ADDRESSES);   /* data from the AP */
    put_hex(&f, "aa aa 03 00 00 00 08 00");
    ipv4_udp(&f);
    write_pcap_frame(out, &f);

    put_hex(&f, RADIOTAP_BARE " 88 03 00 00" WLAN_ADDRESSES "02 00 00 00 00 04 00 00");   /* 4 addresses, QoS */
    put_hex(&f, "aa aa 03 00 00 00 86 dd");
    ipv6_udp(&f);
    write_pcap_frame(out, &f);

    put_hex(&f, RADIOTAP_BARE " 88 81 00 00" WLAN_ADDRESSES "00 00 00 00 00 00");   /* QoS + HT Control */
    put_hex(&f, "aa aa 03 00 00 00 08 00");
    ipv4_udp(&f);
    write_pcap_frame(out, &f);

    put_hex(&f, "00 00 09 00 02 00 00 00 20 88 01 00 00" WLAN_ADDRESSES "00 00 00 00");   /* Flags: data pad */
    put_hex(&f, "aa aa 03 00 00 00 08 00");
    ipv4_udp(&f);
    write_pcap_frame(out, &f);

    put_hex(&f, "00 00 11 00 03 00 00 00 00 00 00 00 00 00 00 00 20");   /* TSFT, then Flags: data pad */
    put_hex(&f, "88 01 00 00" WLAN_ADDRESSES "00 00 00 00 aa aa 03 00 00 00 08 00");
    ipv4_udp(&f);
    write_pcap_frame(out, &f);

    put_hex(&f, "00 00 0d 00 02 00 00 80 00 00 00 00 20");   /* two bitmaps, then Flags: data pad */
    put_hex(&f, "88 01 00 00" WLAN_ADDRESSES "00 00 00 00 aa aa 03 00 00 00 08 00");
    ipv4_udp(&f);
    write_pcap_frame(out, &f);

    put_hex(&f, "00 00 09 00 02 00 00 00 10 08 02 00 00" WLAN_ADDRESSES);   /* Flags: FCS at the end */
    put_hex(&f, "aa aa 03 00 00 00 08 06");
    arp_request(&f);
    put_hex(&f, "de ad be ef");
    write_pcap_frame(out, &f);

    put_hex(&f, RADIOTAP_BARE " 88 03 00 00" WLAN_ADDRESSES "02 00 00 00 00 04 00 01");   /* mesh control */
    put_hex(&f, "00 05 01 00 00 00 aa aa 03 00 00 00 86 dd");
    ipv6_udp(&f);
    write_pcap_frame(out, &f);

    put_hex(&f, RADIOTAP_BARE " 88 03 00 00" WLAN_ADDRESSES "02 00 00 00 00 04 00 01");   /* mesh, 2 more addresses */
    put_hex(&f, "02 05 01 00 00 00 02 00 00 00 00 05 02 00 00 00 00 06 aa aa 03 00 00 00 08 00");
    ipv4_udp(&f);
    write_pcap_frame(out, &f);

    put_hex(&f, RADIOTAP_BARE " 08 82 00 00" WLAN_ADDRESSES);   /* Order without QoS: no HT Control */
    put_hex(&f, "aa aa 03 00 00 f8 81 00 00 14 08 00");
    ipv4_udp(&f);
    write_pcap_frame(out, &f);

    put_hex(&f, RADIOTAP_BARE " 08 42 00 00" WLAN_ADDRESSES);   /* protected */
    put_zeros(&f, 40);
    write_pcap_frame(out, &f);

    put_hex(&f, RADIOTAP_BARE " 48 01 00 00" WLAN_ADDRESSES);   /* null data */
    write_pcap_frame(out, &f);

    put_hex(&f, RADIOTAP_BARE " 88 01 00 00" WLAN_ADDRESSES "80 00");   /* A-MSDU */
    put_hex(&f, "02 00 00 00 00 01 02 00 00 00 00 02 00 30 aa aa 03 00 00 00 08 00");
    ipv4_udp(&f);
    write_pcap_frame(out, &f);

    put_hex(&f, RADIOTAP_BARE " 08 02 00 00" WLAN_ADDRESSES "42 42 03");   /* LLC, not SNAP */
    put_zeros(&f, 35);
    write_pcap_frame(out, &f);

    put_hex(&f, RADIOTAP_BARE " 80 00 00 00" WLAN_ADDRESSES);   /* beacon */
    put_hex(&f, "00 00 00 00 00 00 00 00 64 00 01 04 00 00");
    write_pcap_frame(out, &f);

    put_hex(&f, RADIOTAP_BARE " d4 00 00 00 02 00 00 00 00 01");   /* ACK */
    write_pcap_frame(out, &f);
    ck_assert_int_eq(fclose(out), 0);
}

/* 802.11 without radiotap. */
static void write_crafted_ieee80211(const char *path)
{
    FILE *out = write_pcap_header(path, 105 /* IEEE802_11 */);
    struct frame_bytes f = {.n = 0};
    put_hex(&f, "88 01 00 00" WLAN_ADDRESSES "00 00 aa aa 03 00 00 00 08 00");
    ipv4_udp(&f);
    write_pcap_frame(out, &f);

    put_hex(&f, "08 01 00 00" WLAN_ADDRESSES "aa aa 03 00 00 00 86 dd");
    ipv6_udp(&f);
    write_pcap_frame(out, &f);
    ck_assert_int_eq(fclose(out), 0);
}

/* PPP in the forms DLT_PPP and DLT_PPP_SERIAL captures hold it, and Cisco
 * HDLC, which PPP_SERIAL captures also hold; written once per link type. */
static void write_crafted_ppp(const char *path, uint32_t link_type)
{
    FILE *out = write_pcap_header(path, link_type);
    struct frame_bytes f = {.n = 0};
    static const struct {
        const char *header;
        bool v6;
    } forms[] = {
        {"ff 03 00 21", false},   /* address, control, IPv4 */
        {"00 21", false},         /* address and control compressed */
        {"21", false},            /* protocol field compressed too */
        {"ff 03 57", true},       /* IPv6, protocol field compressed */
        {"ff 03 00 57", true},
        {"ff 03 08 00", false},   /* an EtherType, as Cisco sends it */
        {"0f 00 08 00", false},   /* Cisco HDLC unicast */
        {"8f 00 86 dd", true},    /* Cisco HDLC broadcast */
    };
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
        put_hex(&f, forms[i].header);
        if (forms[i].v6)
            ipv6_udp(&f);
        else
            ipv4_udp(&f);
        write_pcap_frame(out, &f);
    }
    put_hex(&f, "ff 03 c0 21 01 01 00 04");   /* LCP: PPP, nothing after it */
    write_pcap_frame(out, &f);
    ck_assert_int_eq(fclose(out), 0);
}

static void write_crafted_cisco_hdlc(const char *path)
{
    FILE *out = write_pcap_header(path, 104 /* C_HDLC */);
    struct frame_bytes f = {.n = 0};
    put_hex(&f, "0f 00 08 00");
    ipv4_udp(&f);
    write_pcap_frame(out, &f);
    put_hex(&f, "8f 00 86 dd");
    ipv6_udp(&f);
    write_pcap_frame(out, &f);
    ck_assert_int_eq(fclose(out), 0);
}

/* Frame Relay: RFC 2427 NLPIDs (with and without the padding zero, and
 * SNAP), Cisco's EtherType encapsulation, and 3- and 4-byte addresses. */
static void write_crafted_frame_relay(const char *path)
{
    FILE *out = write_pcap_header(path, 107 /* FRELAY */);
    struct frame_bytes f = {.n = 0};
    static const struct {
        const char *header;
        bool v6;
    } forms[] = {
        {"04 01 03 cc", false},          {"04 01 03 00 cc", false}, {"04 01 03 8e", true},
        {"04 01 03 00 8e", true},        {"04 01 03 80 00 00 00 08 00", false},
        {"04 01 08 00", false},          {"04 01 86 dd", true},     {"04 00 01 03 cc", false},
        {"04 00 00 01 03 8e", true},
    };
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
        put_hex(&f, forms[i].header);
        if (forms[i].v6)
            ipv6_udp(&f);
        else
            ipv4_udp(&f);
        write_pcap_frame(out, &f);
    }
    ck_assert_int_eq(fclose(out), 0);
}

struct recognize_totals {
    uint32_t protocols_seen;   /* bit per ES_PROTOCOL_* */
    size_t frames;
    size_t link_types;
    int link_type[32];
};

static void note_link_type(struct recognize_totals *t, int link_type)
{
    for (size_t i = 0; i < t->link_types; i++)
        if (t->link_type[i] == link_type)
            return;
    ck_assert_uint_lt(t->link_types, sizeof t->link_type / sizeof *t->link_type);
    t->link_type[t->link_types++] = link_type;
}

static bool saw_link_type(const struct recognize_totals *t, int link_type)
{
    for (size_t i = 0; i < t->link_types; i++)
        if (t->link_type[i] == link_type)
            return true;
    return false;
}

/* Runs api_recognize over one capture and compares every frame's recognize
 * data with tshark's chain. */
static void compare_recognized(const char *capture_path, struct recognize_totals *totals)
{
    struct capture c;
    read_capture(capture_path, &c);
    note_link_type(totals, c.link_type);

    size_t oracle_count;
    char **oracle = tshark_chains(capture_path, &oracle_count);
    ck_assert_msg(oracle_count == c.count, "%s: tshark shows %zu frames, libpcap reads %u", capture_path,
                  oracle_count, c.count);

    struct api_run r;
    run_one(&r, API_RECOGNIZE_SO, capture_path);
    assert_done(&r);
    ck_assert_msg(count_events_named(&r, "r") == c.count, "%s: %zu frames reported, %u in the capture",
                  capture_path, count_events_named(&r, "r"), c.count);
    assert_column_number(event_named(&r, "end"), "end_rc", NMERR_NO_MORE_FRAMES);

    size_t frame = 0, mismatches = 0;
    char first_mismatches[1024] = "";
    for (size_t i = 0; i < r.line_count; i++) {
        const char *line = r.lines[i];
        if (!is_event_named(line, "r"))
            continue;
        assert_column_number(line, "frame", frame + 1);
        assert_yes(line, "inst_null");
        const char *value = column_value(line, "protocols");
        ck_assert_ptr_nonnull(value);
        ck_assert_int_eq(*value, '"');
        const char *end = strchr(value + 1, '"');
        ck_assert_ptr_nonnull(end);
        size_t len = (size_t)(end - value - 1);
        size_t entries = 0;
        for (const char *p = value + 1; p < end; p++) {
            if (p == value + 1 || p[-1] == ' ') {
                entries++;
                unsigned id = (unsigned)strtoul(p, NULL, 10);
                ck_assert_uint_lt(id, 32);
                totals->protocols_seen |= 1u << id;
            }
        }
        assert_column_number(line, "count", entries);
        if (strlen(oracle[frame]) != len || strncmp(oracle[frame], value + 1, len) != 0) {
            if (mismatches++ < 5) {
                size_t used = strlen(first_mismatches);
                snprintf(first_mismatches + used, sizeof first_mismatches - used,
                         "\n  frame %zu: recognized \"%.*s\", tshark \"%s\"", frame + 1, (int)len, value + 1,
                         oracle[frame]);
            }
        }
        frame++;
    }
    ck_assert_msg(mismatches == 0, "%s: %zu of %zu frames differ from tshark (id@offset):%s", capture_path,
                  mismatches, frame, first_mismatches);
    totals->frames += frame;

    for (size_t i = 0; i < oracle_count; i++)
        free(oracle[i]);
    free(oracle);
    run_free(&r);
    free_capture(&c);
}

START_TEST(test_recognize_against_tshark)
{
    struct recognize_totals totals;
    memset(&totals, 0, sizeof totals);
    compare_recognized(sample_pcap(), &totals);

    /* One or two real captures per link type; tshark takes seconds to start,
     * so the list is short and the crafted captures below fill the gaps. */
    static const char *const shared[] = {
        "802.1ad_QinQ.pcap",        /* EN10MB: 802.1ad outside 802.1Q, ARP */
        "IGMP_V2.pcap",             /* EN10MB: IPv4 with options */
        "icmpv6.pcap",              /* EN10MB: IPv6 hop-by-hop options, ICMPv6 */
        "mptcp-v1.pcap",            /* LINUX_SLL: IPv4, TCP */
        "quic_handshake.pcap",      /* NULL: IPv6, UDP */
        "LINKTYPE_RAW_ipv4.pcap",   /* RAW */
        "LINKTYPE_RAW_ipv6.pcap",
        "LINKTYPE_IPV4.pcap",       /* IPV4 */
        "LINKTYPE_IPV6.pcap",       /* IPV6 */
        "ieee802.11_htc.pcap",      /* IEEE802_11_RADIO: QoS data with HT Control, LLC/SNAP, IPv4, UDP */
        "ieee802.11_exthdr.pcap",   /* IEEE802_11_RADIO: management and control, radiotap extensions */
        "ieee802.11_tim_ie_oobr.pcap",   /* IEEE802_11: management */
        "bgp_vpn_attrset.pcap",     /* PPP: FF 03, IPv4, TCP */
        "lspping-fec-ldp.pcap",     /* PPP: IPv4, UDP; MPLS, not followed */
        "ppp-invalid-lengths.pcap", /* PPP without address and control */
        "mlppp-oobr.pcap",          /* PPP: protocol field compressed */
        "ppp_ip_udp_dns.pcap",      /* PPP_SERIAL */
        "HDLC.pcap",                /* C_HDLC: IPv4, ICMP; SLARP, CDP */
        "OSPFv3_NBMA_adjacencies.pcap",   /* FRELAY: NLPID IPv6 */
        "icmp-icmp_print-oobr-2.pcap",    /* FRELAY: 3-byte address, Cisco encapsulation */
        "nflog.pcap",               /* NFLOG: IPv4, UDP */
        "e1000g.pcap",              /* IPNET: IPv4, ICMP */
    };
    for (size_t i = 0; i < sizeof shared / sizeof *shared; i++) {
        char *path = shared_capture(shared[i]);
        compare_recognized(path, &totals);
        free(path);
    }

    /* Made here, for what the corpus lacks or has only in damaged captures:
     * tcpdump's collection keeps captures that broke its printers, whose
     * headers are often cut short; tshark shows such a header, the
     * recognizer does not (a header that does not fit ends the table). */
    static const struct {
        const char *name;
        void (*write)(const char *path);
    } crafted[] = {
        {"crafted-ethernet.pcap", write_crafted_ethernet},
        {"crafted-versions-snap.pcap", write_crafted_versions_and_snap},
        {"crafted-sll-vlan.pcap", write_crafted_sll_vlan},
        {"crafted-sll2.pcap", write_crafted_sll2},
        {"crafted-loop.pcap", write_crafted_loop},
        {"crafted-radiotap.pcap", write_crafted_radiotap},
        {"crafted-ieee80211.pcap", write_crafted_ieee80211},
        {"crafted-cisco-hdlc.pcap", write_crafted_cisco_hdlc},
        {"crafted-frame-relay.pcap", write_crafted_frame_relay},
    };
    char *dir = make_scratch_dir();
    for (size_t i = 0; i < sizeof crafted / sizeof *crafted; i++) {
        char *path = path_in(dir, crafted[i].name);
        crafted[i].write(path);
        compare_recognized(path, &totals);
        free(path);
    }
    static const struct {
        const char *name;
        uint32_t link_type;
    } ppp_links[] = {{"crafted-ppp.pcap", 9 /* PPP */}, {"crafted-ppp-serial.pcap", 50 /* PPP_SERIAL */}};
    for (size_t i = 0; i < sizeof ppp_links / sizeof *ppp_links; i++) {
        char *path = path_in(dir, ppp_links[i].name);
        write_crafted_ppp(path, ppp_links[i].link_type);
        compare_recognized(path, &totals);
        free(path);
    }
    remove_scratch_dir(dir);

    /* The comparison was made on every link type and protocol the
     * recognizer knows, not on a convenient subset. */
    static const int link_types[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW,
                                     DLT_NULL, DLT_LOOP, DLT_IPV4, DLT_IPV6,
                                     DLT_IEEE802_11_RADIO, DLT_IEEE802_11, DLT_PPP, DLT_PPP_SERIAL,
                                     DLT_C_HDLC, DLT_FRELAY, DLT_NFLOG, DLT_IPNET};
    for (size_t i = 0; i < sizeof link_types / sizeof *link_types; i++)
        ck_assert_msg(saw_link_type(&totals, link_types[i]), "no capture of link type %d was compared",
                      link_types[i]);
    for (unsigned id = ES_PROTOCOL_ETHERNET; id <= ES_PROTOCOL_IPNET; id++)
        ck_assert_msg(totals.protocols_seen & 1u << id, "protocol %u was never recognized", id);
    ck_assert_uint_gt(totals.frames, 2000);
}
END_TEST

START_TEST(test_recognize_stacked_tags)
{
    struct recognize_totals totals;
    memset(&totals, 0, sizeof totals);
    char *dir = make_scratch_dir();
    char *path = path_in(dir, "crafted-tags.pcap");
    write_crafted_tags(path);
    compare_recognized(path, &totals);
    free(path);
    remove_scratch_dir(dir);
}
END_TEST

START_TEST(test_recognize_big_endian_null)
{
    struct recognize_totals totals;
    memset(&totals, 0, sizeof totals);
    char *dir = make_scratch_dir();
    char *path = path_in(dir, "crafted-null-be.pcap");
    write_crafted_big_endian_null(path);
    compare_recognized(path, &totals);
    free(path);
    remove_scratch_dir(dir);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 5. Configure, stored configurations, startup information                 */
/* ------------------------------------------------------------------------ */

/* api_config's stored configuration (tests/experts/api/api_config.c), as the
 * test reads it back from the file the broker wrote. */
struct stored_config {
    DWORD RawConfigLength;
    DWORD magic;
    DWORD calls;
    DWORD previous_length;
    DWORD previous_intact;
    DWORD startup_flags;
    DWORD startup_frame;
    DWORD total_frames;
    DWORD info_matches;
    DWORD reserved;
    uint64_t configure_key;
    char capture_file[MAX_PATH];
    BYTE trailer[];
};

#define API_CONFIG_MAGIC 0x43495041u
#define API_CONFIG_REFUSE 0x4c494146u
#define STORED_SIZE(calls) (offsetof(struct stored_config, trailer) + 8u * (calls))

struct configure_result {
    enum es_exit code;
    char *diag;
    size_t diag_len;
};

static void configure(struct configure_result *cr, const char *expert, const char *capture,
                      const struct es_startup_options *startup)
{
    memset(cr, 0, sizeof *cr);
    FILE *diag = open_memstream(&cr->diag, &cr->diag_len);
    ck_assert_ptr_nonnull(diag);
    struct es_configure_options opt = {
        .expert = expert,
        .capture_path = capture,
        .worker_path = required_env("ES_WORKER"),
        .diagnostics = diag,
        .startup = *startup,
    };
    cr->code = es_configure(&opt);
    fflush(stdout);   /* es_configure says where it stored on stdout */
    ck_assert_int_eq(fclose(diag), 0);
}

/* Reads the stored file and checks what every stored configuration says. */
static struct stored_config *read_stored(const char *path, DWORD calls)
{
    size_t len;
    struct stored_config *c = (struct stored_config *)read_whole_file(path, &len);
    ck_assert_msg(c != NULL, "%s: %s", path, strerror(errno));
    ck_assert_uint_eq(len, STORED_SIZE(calls));
    /* RawConfigLength counts the whole block, its own four bytes included. */
    ck_assert_uint_eq(c->RawConfigLength, len);
    ck_assert_uint_eq(c->magic, API_CONFIG_MAGIC);
    ck_assert_uint_eq(c->calls, calls);
    for (size_t i = 0; i < 8u * calls; i++)
        ck_assert_uint_eq(c->trailer[i], (BYTE)(i * 7 + calls));
    return c;
}

START_TEST(test_configure_and_startup)
{
    const char *capture = sample_pcap();
    char *dir = make_scratch_dir();
    char *config_path = path_in(dir, "api_config.config");

    /* First Configure: nothing stored yet, startup data from the command line. */
    struct es_startup_options startup = {.config_file = config_path, .has_startup_frame = true,
                                         .startup_frame = 41, .use_startup_data = true};
    struct configure_result cr;
    configure(&cr, API_CONFIG_SO, capture, &startup);
    ck_assert_msg(cr.code == ES_EXIT_OK, "configure exited %d: %s", (int)cr.code, cr.diag);
    free(cr.diag);
    struct stored_config *first = read_stored(config_path, 1);
    ck_assert_uint_eq(first->previous_length, 0);   /* *ppConfig was NULL */
    ck_assert_uint_eq(first->startup_flags, EXPERT_STARTUP_FLAG_USE_STARTUP_DATA_OVER_CONFIG_DATA);
    ck_assert_uint_eq(first->startup_frame, 41);
    ck_assert_uint_eq(first->total_frames, 2000);
    ck_assert_uint_eq(first->info_matches, 1);
    ck_assert_str_eq(first->capture_file, capture);
    size_t first_size = first->RawConfigLength;
    free(first);

    /* Run with the stored configuration, no startup frame, no flag. */
    const char *experts[] = {API_CONFIG_SO};
    struct es_run_options opt = {.capture_path = capture, .experts = experts, .expert_count = 1,
                                 .startup = {.config_file = config_path}};
    struct api_run r;
    run_with(&r, &opt);
    assert_done(&r);
    const char *config = event_named(&r, "run_config");
    assert_yes(config, "has_config");
    assert_column_number(config, "length", first_size);
    assert_column_number(config, "magic", API_CONFIG_MAGIC);
    assert_yes(config, "trailer_ok");
    assert_column_number(config, "calls", 1);
    assert_column_number(config, "cfg_frame", 41);
    assert_column_number(config, "cfg_flags", EXPERT_STARTUP_FLAG_USE_STARTUP_DATA_OVER_CONFIG_DATA);

    const char *info = event_named(&r, "run_startup");
    assert_column_number(info, "flags", 0);
    assert_yes(info, "has_startup");
    char expected_capture[MAX_PATH + 2];
    snprintf(expected_capture, sizeof expected_capture, "\"%s\"", capture);
    assert_column_json(info, "capture", expected_capture);
    assert_column_number(info, "frame", INVALID_FRAME_NUMBER);
    assert_yes(info, "has_capture");
    assert_column_number(info, "total", 2000);
    assert_yes(info, "protocol_null");
    assert_yes(info, "property_null");
    assert_column_number(info, "getinfo_rc", NMERR_SUCCESS);
    assert_yes(info, "getinfo_matches");
    assert_column_number(info, "getinfo_null_rc", NMERR_INVALID_PARAMETER);
    assert_column_number(info, "bogus_total", 0);

    /* The key Configure was given, cached in the configuration, is not the
     * key of the call in progress. */
    const char *cached = event_named(&r, "cached_key");
    assert_column_number(cached, "alloc_rc", NMERR_INVALID_PARAMETER);
    assert_yes(cached, "alloc_null");
    assert_column_number(cached, "submit_rc", NMERR_INVALID_PARAMETER);
    assert_column_number(cached, "getinfo_rc", NMERR_INVALID_PARAMETER);
    assert_column_number(cached, "status_rc", NMERR_INVALID_PARAMETER);
    assert_column_number(cached, "frame_rc", NMERR_INVALID_PARAMETER);
    assert_column_number(cached, "free_rc", NMERR_INVALID_PARAMETER);
    assert_column_number(cached, "size", 0);
    assert_column_number(cached, "size_with_run_key", 64);
    /* Its PROBLEM status did not count either: the run is "done". */
    ck_assert_uint_eq(count_events_named(&r, "ghost"), 0);
    run_free(&r);

    /* Run with a startup frame and the flag: both reach Run. */
    opt = (struct es_run_options){.capture_path = capture, .experts = experts, .expert_count = 1,
                                  .startup = {.config_file = config_path, .has_startup_frame = true,
                                              .startup_frame = 1233, .use_startup_data = true}};
    run_with(&r, &opt);
    assert_done(&r);
    info = event_named(&r, "run_startup");
    assert_column_number(info, "flags", EXPERT_STARTUP_FLAG_USE_STARTUP_DATA_OVER_CONFIG_DATA);
    assert_column_number(info, "frame", 1233);
    assert_column_number(info, "total", 2000);
    assert_yes(info, "getinfo_matches");
    run_free(&r);

    /* Second Configure, without a capture: it is given what the first stored. */
    startup = (struct es_startup_options){.config_file = config_path};
    configure(&cr, API_CONFIG_SO, NULL, &startup);
    ck_assert_msg(cr.code == ES_EXIT_OK, "configure exited %d: %s", (int)cr.code, cr.diag);
    free(cr.diag);
    struct stored_config *second = read_stored(config_path, 2);
    ck_assert_uint_eq(second->previous_length, first_size);
    ck_assert_uint_eq(second->previous_intact, 1);
    ck_assert_uint_eq(second->startup_flags, 0);
    ck_assert_uint_eq(second->startup_frame, INVALID_FRAME_NUMBER);
    ck_assert_uint_eq(second->total_frames, 0);
    ck_assert_uint_eq(second->info_matches, 1);
    ck_assert_str_eq(second->capture_file, "");
    free(second);

    /* Run without any stored configuration: pConfig is NULL. */
    char *missing = path_in(dir, "never-stored.config");
    opt = (struct es_run_options){.capture_path = capture, .experts = experts, .expert_count = 1,
                                  .startup = {.config_file = missing}};
    run_with(&r, &opt);
    assert_done(&r);
    assert_column_json(event_named(&r, "run_config"), "has_config", "\"no\"");
    ck_assert_uint_eq(count_events_named(&r, "cached_key"), 0);
    run_free(&r);
    ck_assert_int_eq(access(missing, F_OK), -1);
    free(missing);

    free(config_path);
    remove_scratch_dir(dir);
}
END_TEST

/* netmon.h: szCaptureFile is the name as given, truncated to MAX_PATH-1 bytes. */
START_TEST(test_startup_long_capture_path)
{
    char *dir = make_scratch_dir();
    char long_name[201];
    memset(long_name, 'd', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    char *first = path_in(dir, long_name);
    ck_assert_int_eq(mkdir(first, 0700), 0);
    char *second = path_in(first, long_name);
    ck_assert_int_eq(mkdir(second, 0700), 0);
    char *capture = path_in(second, "sample.pcap");
    ck_assert_int_eq(symlink(sample_pcap(), capture), 0);
    ck_assert_uint_gt(strlen(capture), MAX_PATH);

    struct api_run r;
    run_one(&r, API_CONFIG_SO, capture);
    assert_done(&r);
    const char *info = event_named(&r, "run_startup");
    char expected[MAX_PATH + 2];
    snprintf(expected, sizeof expected, "\"%.*s\"", MAX_PATH - 1, capture);
    assert_column_json(info, "capture", expected);
    assert_column_number(info, "total", 2000);
    assert_yes(info, "getinfo_matches");
    run_free(&r);
    free(capture);
    free(second);
    free(first);
    remove_scratch_dir(dir);
}
END_TEST

/* A Configure that returns FALSE stores nothing, whatever it left in
 * *ppConfig. */
START_TEST(test_configure_false_stores_nothing)
{
    char *dir = make_scratch_dir();
    char *config_path = path_in(dir, "refuse.config");
    const DWORD planted[2] = {sizeof planted, API_CONFIG_REFUSE};
    write_file(config_path, planted, sizeof planted);

    struct es_startup_options startup = {.config_file = config_path};
    struct configure_result cr;
    configure(&cr, API_CONFIG_SO, sample_pcap(), &startup);
    ck_assert_msg(cr.code == ES_EXIT_EXPERT_FAILED, "configure exited %d: %s", (int)cr.code, cr.diag);
    assert_contains(cr.diag, "Configure returned FALSE");
    free(cr.diag);

    size_t len;
    unsigned char *after = read_whole_file(config_path, &len);
    ck_assert_ptr_nonnull(after);
    ck_assert_uint_eq(len, sizeof planted);
    ck_assert_mem_eq(after, planted, sizeof planted);
    free(after);
    free(config_path);
    remove_scratch_dir(dir);
}
END_TEST

/* An expert without Configure: a problem, and nothing stored. */
START_TEST(test_configure_without_configure)
{
    char *dir = make_scratch_dir();
    char *config_path = path_in(dir, "none.config");
    struct es_startup_options startup = {.config_file = config_path};
    struct configure_result cr;
    configure(&cr, API_NO_CONFIGURE_SO, sample_pcap(), &startup);
    ck_assert_msg(cr.code == ES_EXIT_EXPERT_FAILED, "configure exited %d: %s", (int)cr.code, cr.diag);
    assert_contains(cr.diag, "exports no Configure");
    free(cr.diag);
    ck_assert_int_eq(access(config_path, F_OK), -1);

    /* Its Run is unaffected. */
    struct api_run r;
    run_one(&r, API_NO_CONFIGURE_SO, sample_pcap());
    assert_done(&r);
    assert_column_json(event_named(&r, "ran"), "has_config", "\"no\"");
    run_free(&r);
    free(config_path);
    remove_scratch_dir(dir);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 6. The key rule                                                          */
/* ------------------------------------------------------------------------ */

static void assert_all_refused(const struct api_run *r, const char *label)
{
    const char *line = event_named(r, label);
    static const char *const codes[] = {"alloc_rc",  "realloc_rc", "free_rc",  "status_rc",
                                        "submit_rc", "getinfo_rc", "frame_rc", "compile_rc"};
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
        assert_column_number(line, codes[i], NMERR_INVALID_PARAMETER);
    assert_yes(line, "alloc_null");
    assert_yes(line, "realloc_null");
    assert_yes(line, "compile_null");
    assert_column_number(line, "size", 0);
}

START_TEST(test_wrong_keys)
{
    struct api_run r;
    run_one(&r, API_KEYS_SO, sample_pcap());
    /* Had a wrong key's PROBLEM status been taken, the outcome would say so;
     * had a status been sent from Register, the broker would have seen a
     * protocol error. */
    assert_done(&r);
    assert_all_refused(&r, "keys:register_null");
    assert_all_refused(&r, "keys:register_made_up");
    assert_all_refused(&r, "keys:run_null");
    assert_all_refused(&r, "keys:run_made_up");
    assert_all_refused(&r, "keys:run_key_plus_one");

    const char *survivor = event_named(&r, "survivor");
    assert_column_number(survivor, "block_size", 64);
    assert_yes(survivor, "block_intact");

    /* The control: the same calls with the right key all succeed. */
    const char *real = event_named(&r, "keys:run_real");
    static const char *const codes[] = {"alloc_rc",  "realloc_rc", "free_rc",  "status_rc",
                                        "submit_rc", "getinfo_rc", "frame_rc", "compile_rc"};
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
        assert_column_number(real, codes[i], NMERR_SUCCESS);
    assert_column_json(real, "alloc_null", "\"no\"");
    assert_column_json(real, "compile_null", "\"no\"");

    ck_assert_uint_eq(count_events_named(&r, "ghost"), 0);
    ck_assert_uint_eq(count_events_named(&r, "control"), 1);
    ck_assert_uint_eq(outcome_of(&r, 0)->events, 8);
    run_free(&r);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 7. ExpertIndicateStatus                                                  */
/* ------------------------------------------------------------------------ */

/* api_status picks its scenario from the startup frame. */
static void run_status(struct api_run *r, bool has_frame, uint32_t frame)
{
    const char *experts[] = {API_STATUS_SO};
    struct es_run_options opt = {.capture_path = sample_pcap(), .experts = experts, .expert_count = 1,
                                 .startup = {.has_startup_frame = has_frame, .startup_frame = frame}};
    run_with(r, &opt);
    const char *rcs = event_named(r, "status_rcs");
    assert_yes(rcs, "all_ok");
}

static const char *outcome_record(const struct api_run *r)
{
    return record_of_type(r, "outcome");
}

START_TEST(test_status_done)
{
    struct api_run r;
    run_status(&r, false, 0);
    /* Texts of 5000 and 100000 bytes are cut, not fatal. */
    assert_done(&r);
    assert_column_number(event_named(&r, "status_rcs"), "calls", 9);
    const struct es_outcome *o = outcome_of(&r, 0);
    ck_assert(o->has_status);
    ck_assert_uint_eq(o->status, EXPERTSTATUS_DONE);
    ck_assert_int_eq(o->percent, 100);
    assert_contains(outcome_record(&r), "\"status\":{\"status\":\"done\",\"sub_status\":0,\"percent\":100}");
    run_free(&r);
}
END_TEST

START_TEST(test_status_problem)
{
    struct api_run r;
    run_status(&r, true, 0);
    /* PROBLEM, then Run returns TRUE: still a problem. */
    assert_outcome(&r, 0, ES_OUTCOME_PROBLEM);
    const struct es_outcome *o = outcome_of(&r, 0);
    ck_assert(o->has_run_result && o->run_result);
    ck_assert_uint_eq(o->status, EXPERTSTATUS_PROBLEM);
    ck_assert_uint_eq(o->sub_status, 7);
    /* 100, -5, 2^31-1, -2^31 and 1000 were ignored: 42 was the last valid one. */
    ck_assert_int_eq(o->percent, 42);
    assert_contains(outcome_record(&r), "\"status\":{\"status\":\"problem\",\"sub_status\":7,\"percent\":42}");
    assert_contains(outcome_record(&r), "\"run_result\":true");
    ck_assert_int_eq(r.code, ES_EXIT_EXPERT_FAILED);
    run_free(&r);
}
END_TEST

START_TEST(test_status_zero_percent)
{
    struct api_run r;
    run_status(&r, true, 1);
    assert_outcome(&r, 0, ES_OUTCOME_PROBLEM);
    const struct es_outcome *o = outcome_of(&r, 0);
    ck_assert_uint_eq(o->sub_status, 3);
    ck_assert_int_eq(o->percent, 0);   /* 0 is a valid percentage; -1 is not */
    assert_contains(outcome_record(&r), "\"status\":{\"status\":\"problem\",\"sub_status\":3,\"percent\":0}");
    run_free(&r);
}
END_TEST

START_TEST(test_status_never_valid)
{
    struct api_run r;
    run_status(&r, true, 2);
    assert_outcome(&r, 0, ES_OUTCOME_PROBLEM);
    assert_contains(outcome_record(&r), "\"status\":{\"status\":\"problem\",\"sub_status\":4,\"percent\":null}");
    run_free(&r);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 8. Events                                                                */
/* ------------------------------------------------------------------------ */

/* The n-th (1-based) event record of the run. */
static const char *event_by_seq(const struct api_run *r, unsigned seq)
{
    char key[48];
    snprintf(key, sizeof key, "\"expert_index\":0,\"seq\":%u,", seq);
    for (size_t i = 0; i < r->line_count; i++)
        if (!strncmp(r->lines[i], "{\"type\":\"event\",", 16) && strstr(r->lines[i], key))
            return r->lines[i];
    ck_abort_msg("no event with seq %u in:\n%.3000s", seq, r->out);
    return NULL;
}

/* Length of the JSON string value that follows `key` (no escapes expected). */
static size_t json_string_length(const char *line, const char *key)
{
    const char *at = strstr(line, key);
    ck_assert_msg(at != NULL, "no %s in %.300s", key, line);
    at += strlen(key);
    ck_assert_int_eq(*at, '"');
    const char *end = strchr(at + 1, '"');
    ck_assert_ptr_nonnull(end);
    return (size_t)(end - at - 1);
}

static size_t count_occurrences(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *at = strstr(text, needle); at; at = strstr(at + 1, needle))
        n++;
    return n;
}

START_TEST(test_events_json)
{
    struct api_run r;
    run_one(&r, API_EVENTS_SO, sample_pcap());
    assert_done(&r);
    ck_assert_uint_eq(count_records(&r, "event"), 18);
    const char *submitted = event_named(&r, "submitted");
    assert_column_number(submitted, "count", 17);
    for (int i = 0; i < 17; i++) {
        char name[8];
        snprintf(name, sizeof name, "rc%d", i);
        assert_column_number(submitted, name, NMERR_SUCCESS);
    }

    /* 1: every field, every type. */
    const char *all = event_by_seq(&r, 1);
    assert_contains(all, "\"expert\":\"API events\"");
    assert_contains(all, "\"severity\":\"strong_warning\",\"severity_code\":2,\"event_ident\":4242,"
                         "\"event_name\":\"All types\",\"source\":\"Source \xe2\x9c\x93\","
                         "\"description\":\"Every column type\",\"machine\":\"HOST-1\","
                         "\"justification\":\"because\\nreasons\",\"flags\":2281701377,"
                         "\"hidden\":[\"severity\",\"machine\"],\"time\":\"2024-02-29 13:05:09.007\",");
    static const struct {
        const char *column;
        const char *json;   /* {"name":...,"type":...,"value":...} exactly */
    } columns[] = {
        {"u8_max", "{\"name\":\"u8_max\",\"type\":\"uint8\",\"value\":255}"},
        {"u8_zero", "{\"name\":\"u8_zero\",\"type\":\"uint8\",\"value\":0}"},
        {"s8_min", "{\"name\":\"s8_min\",\"type\":\"sint8\",\"value\":-128}"},
        {"s8_max", "{\"name\":\"s8_max\",\"type\":\"sint8\",\"value\":127}"},
        {"u16_max", "{\"name\":\"u16_max\",\"type\":\"uint16\",\"value\":65535}"},
        {"s16_min", "{\"name\":\"s16_min\",\"type\":\"sint16\",\"value\":-32768}"},
        {"s16_max", "{\"name\":\"s16_max\",\"type\":\"sint16\",\"value\":32767}"},
        {"u32_max", "{\"name\":\"u32_max\",\"type\":\"uint32\",\"value\":4294967295}"},
        {"s32_min", "{\"name\":\"s32_min\",\"type\":\"sint32\",\"value\":-2147483648}"},
        {"s32_max", "{\"name\":\"s32_max\",\"type\":\"sint32\",\"value\":2147483647}"},
        {"f64_tenth", "{\"name\":\"f64_tenth\",\"type\":\"float64\",\"value\":0.1}"},
        {"f64_three", "{\"name\":\"f64_three\",\"type\":\"float64\",\"value\":3.0}"},
        {"f64_negzero", "{\"name\":\"f64_negzero\",\"type\":\"float64\",\"value\":-0.0}"},
        {"f64_big", "{\"name\":\"f64_big\",\"type\":\"float64\",\"value\":1e+300}"},
        {"f64_neg", "{\"name\":\"f64_neg\",\"type\":\"float64\",\"value\":-2.5}"},
        {"f64_nan", "{\"name\":\"f64_nan\",\"type\":\"float64\",\"value\":null}"},
        {"f64_neg_inf", "{\"name\":\"f64_neg_inf\",\"type\":\"float64\",\"value\":null}"},
        {"frame_first", "{\"name\":\"frame_first\",\"type\":\"frame\",\"value\":1}"},
        {"frame_high", "{\"name\":\"frame_high\",\"type\":\"frame\",\"value\":4294967295}"},
        {"frame_invalid", "{\"name\":\"frame_invalid\",\"type\":\"frame\",\"value\":null}"},
        {"yes", "{\"name\":\"yes\",\"type\":\"yesno\",\"value\":\"yes\"}"},
        {"yes_minus_one", "{\"name\":\"yes_minus_one\",\"type\":\"yesno\",\"value\":\"yes\"}"},
        {"no", "{\"name\":\"no\",\"type\":\"yesno\",\"value\":\"no\"}"},
        {"on", "{\"name\":\"on\",\"type\":\"onoff\",\"value\":\"on\"}"},
        {"off", "{\"name\":\"off\",\"type\":\"onoff\",\"value\":\"off\"}"},
        {"true_high_bit", "{\"name\":\"true_high_bit\",\"type\":\"truefalse\",\"value\":true}"},
        {"false", "{\"name\":\"false\",\"type\":\"truefalse\",\"value\":false}"},
        {"mac", "{\"name\":\"mac\",\"type\":\"macaddr\",\"value\":\"aa:bb:cc:dd:ee:ff\"}"},
        {"mac_low", "{\"name\":\"mac_low\",\"type\":\"macaddr\",\"value\":\"00:1a:2b:3c:4d:0f\"}"},
        {"ipx", "{\"name\":\"ipx\",\"type\":\"ipxaddr\",\"value\":\"0a0b0c0d.aabbccddeeff\"}"},
        {"ip", "{\"name\":\"ip\",\"type\":\"ipaddr\",\"value\":\"192.168.0.1\"}"},
        {"ip_all", "{\"name\":\"ip_all\",\"type\":\"ipaddr\",\"value\":\"255.255.255.255\"}"},
        {"ip_low", "{\"name\":\"ip_low\",\"type\":\"ipaddr\",\"value\":\"10.0.0.254\"}"},
        {"vartime", "{\"name\":\"vartime\",\"type\":\"vartime\",\"value\":\"2024-01-01T18:00:00.000\"}"},
        {"vartime_ms", "{\"name\":\"vartime_ms\",\"type\":\"vartime\",\"value\":\"2024-01-01T00:00:01.500\"}"},
        {"vartime_negative",
         "{\"name\":\"vartime_negative\",\"type\":\"vartime\",\"value\":\"1899-12-29T06:00:00.000\"}"},
        {"vartime_zero", "{\"name\":\"vartime_zero\",\"type\":\"vartime\",\"value\":\"1899-12-30T00:00:00.000\"}"},
        {"vartime_min", "{\"name\":\"vartime_min\",\"type\":\"vartime\",\"value\":\"0100-01-01T00:00:00.000\"}"},
        {"vartime_max", "{\"name\":\"vartime_max\",\"type\":\"vartime\",\"value\":\"9999-12-31T00:00:00.000\"}"},
        {"vartime_out", "{\"name\":\"vartime_out\",\"type\":\"vartime\",\"value\":null,\"invalid\":true}"},
        {"vartime_nan", "{\"name\":\"vartime_nan\",\"type\":\"vartime\",\"value\":null,\"invalid\":true}"},
        {"text", "{\"name\":\"text\",\"type\":\"string\",\"value\":\"plain text\"}"},
        {"text_escapes", "{\"name\":\"text_escapes\",\"type\":\"string\",\"value\":\"q\\\"b\\\\n\\nt\\t\"}"},
        {"text_empty", "{\"name\":\"text_empty\",\"type\":\"string\",\"value\":\"\"}"},
        {"text_null", "{\"name\":\"text_null\",\"type\":\"string\",\"value\":null,\"invalid\":true}"},
        {"type_99", "{\"name\":\"type_99\",\"type\":\"type_99\",\"value\":null}"},
    };
    const char *previous = all;
    for (size_t i = 0; i < sizeof columns / sizeof *columns; i++) {
        const char *at = strstr(all, columns[i].json);
        ck_assert_msg(at != NULL, "column %s is not rendered as %s in:\n%s", columns[i].column, columns[i].json,
                      all);
        ck_assert_msg(at > previous, "column %s is out of order", columns[i].column);
        previous = at;
    }
    assert_contains(all, "],\"frames\":[1,4294967295],\"frames_read\":0,\"truncated\":false}");

    /* 2-8: severities. */
    static const char *const severities[] = {"informational", "warning", "strong_warning", "error",
                                             "severe_error", "critical_error"};
    for (unsigned s = 0; s <= 6; s++) {
        const char *line = event_by_seq(&r, 2 + s);
        unsigned code = s < 6 ? s : 99;
        char expected[160];
        snprintf(expected, sizeof expected,
                 "\"severity\":\"%s%s\",\"severity_code\":%u,\"event_ident\":%u,\"event_name\":\"Severity\"",
                 s < 6 ? severities[s] : "severity_", s < 6 ? "" : "99", code, 100 + code);
        assert_contains(line, expected);
        assert_contains(line, "\"columns\":[],\"frames\":[],");
    }

    /* 9: every fixed column hidden, in the documented order; still reported. */
    const char *hidden = event_by_seq(&r, 9);
    assert_contains(hidden, "\"flags\":4261412865,\"hidden\":[\"severity\",\"source\",\"event_name\","
                            "\"description\",\"machine\",\"time\",\"date\"],\"time\":\"2001-02-03 04:05:06.007\"");
    assert_contains(hidden, "\"source\":\"hidden source\"");

    /* 10: NULL strings are null; a zeroed time is printed as given. */
    assert_contains(event_by_seq(&r, 10),
                    "\"severity\":\"informational\",\"severity_code\":0,\"event_ident\":10,\"event_name\":null,"
                    "\"source\":null,\"description\":null,\"machine\":null,\"justification\":null,\"flags\":0,"
                    "\"hidden\":[],\"time\":\"0000-00-00 00:00:00.000\",\"columns\":[],\"frames\":[],");

    /* 11: fields out of range are printed in full, not normalised. */
    assert_contains(event_by_seq(&r, 11), "\"time\":\"65535-13-32 24:60:61.1000\"");

    /* 12, 13: the host copied the texts before ExpertSubmitEvent returned. */
    assert_contains(event_by_seq(&r, 12), "\"description\":\"first\"");
    assert_contains(event_by_seq(&r, 12), "{\"name\":\"value\",\"type\":\"string\",\"value\":\"before\"}");
    assert_contains(event_by_seq(&r, 13), "\"description\":\"second\"");
    assert_contains(event_by_seq(&r, 13), "{\"name\":\"value\",\"type\":\"string\",\"value\":\"after\"}");

    /* 14: 255 wide columns do not fit: cut, and said so. */
    const char *wide = event_by_seq(&r, 14);
    assert_contains(wide, "\"truncated\":true}");
    ck_assert_uint_eq(json_string_length(wide, "\"description\":"), 8192);
    ck_assert_uint_eq(json_string_length(wide, "\"columns\":[{\"name\":"), 260);
    ck_assert_uint_eq(json_string_length(wide, "\"type\":\"string\",\"value\":"), 1024);
    size_t wide_columns = count_occurrences(wide, "\"type\":\"string\"");
    ck_assert_uint_gt(wide_columns, 0);
    ck_assert_uint_lt(wide_columns, 255);
    ck_assert_uint_le(strlen(wide), 64 * 1024 + 4096);

    /* 15: 255 small columns fit, every one. */
    const char *many = event_by_seq(&r, 15);
    ck_assert_uint_eq(count_occurrences(many, "{\"name\":\"c\",\"type\":\"uint8\",\"value\":"), 255);
    assert_contains(many, "{\"name\":\"c\",\"type\":\"uint8\",\"value\":254}],");
    assert_contains(many, "\"truncated\":false}");

    /* 16: long fixed fields are cut to their limits. */
    const char *longer = event_by_seq(&r, 16);
    ck_assert_uint_eq(json_string_length(longer, "\"source\":"), 260);
    ck_assert_uint_eq(json_string_length(longer, "\"machine\":"), 260);
    ck_assert_uint_eq(json_string_length(longer, "\"justification\":"), 8192);
    assert_contains(longer, "\"truncated\":true}");

    /* 17: exactly at every limit: nothing is cut. */
    const char *exact = event_by_seq(&r, 17);
    ck_assert_uint_eq(json_string_length(exact, "\"source\":"), 260);
    ck_assert_uint_eq(json_string_length(exact, "\"description\":"), 8192);
    ck_assert_uint_eq(json_string_length(exact, "\"columns\":[{\"name\":"), 260);
    ck_assert_uint_eq(json_string_length(exact, "\"type\":\"string\",\"value\":"), 1024);
    assert_contains(exact, "\"truncated\":false}");

    ck_assert_uint_eq(outcome_of(&r, 0)->events, 18);
    run_free(&r);
}
END_TEST

START_TEST(test_events_text)
{
    const char *experts[] = {API_EVENTS_SO};
    struct es_run_options opt = {.capture_path = sample_pcap(), .experts = experts, .expert_count = 1,
                                 .text = true};
    struct api_run r;
    run_with(&r, &opt);
    assert_done(&r);
    /* No JSON records at all, only blocks for people. */
    ck_assert_uint_eq(count_records(&r, "run") + count_records(&r, "event") + count_records(&r, "outcome"), 0);

    /* Event 1: severity and machine hidden, escapes made visible. */
    static const char *const lines[] = {
        "[0.1] API events: All types - Every column type\n"
        "    source: Source \xe2\x9c\x93  at: 2024-02-29 13:05:09.007\n"
        "    u8_max: 255\n"
        "    u8_zero: 0\n"
        "    s8_min: -128\n",
        "    s32_min: -2147483648\n",
        "    f64_tenth: 0.1\n    f64_three: 3.0\n    f64_negzero: -0.0\n    f64_big: 1e+300\n",
        "    frame_first: 1\n    frame_high: 4294967295\n    frame_invalid: null\n",
        "    yes: yes\n    yes_minus_one: yes\n    no: no\n    on: on\n    off: off\n"
        "    true_high_bit: true\n    false: false\n",
        "    mac: aa:bb:cc:dd:ee:ff\n    mac_low: 00:1a:2b:3c:4d:0f\n    ipx: 0a0b0c0d.aabbccddeeff\n"
        "    ip: 192.168.0.1\n",
        "    vartime: 2024-01-01T18:00:00.000\n",
        "    vartime_out: (invalid)\n",
        "    text: plain text\n    text_escapes: q\"b\\\\n\\x0at\\x09\n    text_empty: \n"
        "    text_null: (invalid)\n",
        "    why: because\\x0areasons\n",
        /* Severity events; 99 has no name. */
        "[0.2] API events informational: Severity\n",
        "[0.8] API events severity_99: Severity\n",
        /* Everything fixed hidden: the first line alone. */
        "[0.9] API events\n[0.10] API events informational: -\n",
        "[0.11] API events informational: Odd time\n    at: 65535-13-32 24:60:61.1000\n",
        "[0.12] API events informational: Copy - first\n    at: 0000-00-00 00:00:00.000\n    value: before\n",
        "[0.13] API events informational: Copy - second\n    at: 0000-00-00 00:00:00.000\n    value: after\n",
        "    (cut to fit: a text or the column list was too long)\n",
    };
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
        assert_contains(r.out, lines[i]);
    ck_assert_uint_eq(count_occurrences(r.out, "(cut to fit"), 2);
    run_free(&r);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* 9. Memory helpers                                                        */
/* ------------------------------------------------------------------------ */

START_TEST(test_memory)
{
    const uint64_t quota = 1024 * 1024;
    const char *experts[] = {API_MEMORY_SO};
    struct es_run_options opt = {.capture_path = sample_pcap(), .experts = experts, .expert_count = 1,
                                 .heap_quota = quota};
    struct api_run r;
    run_with(&r, &opt);
    assert_done(&r);

    const char *blocks = event_named(&r, "blocks");
    assert_yes(blocks, "zero_filled");
    assert_yes(blocks, "aligned");
    assert_yes(blocks, "sizes");
    assert_yes(blocks, "zero_size");
    assert_yes(blocks, "null_error_ok");

    const char *realloc_line = event_named(&r, "realloc");
    assert_yes(realloc_line, "grow_keeps");
    assert_yes(realloc_line, "grow_zeroed");
    assert_yes(realloc_line, "shrink_keeps");
    assert_yes(realloc_line, "regrow_zeroed");
    assert_yes(realloc_line, "null_allocates");
    assert_yes(realloc_line, "sizes");
    assert_yes(realloc_line, "aligned");

    const char *frees = event_named(&r, "free");
    assert_column_number(frees, "null_rc", NMERR_SUCCESS);
    assert_column_number(frees, "first_rc", NMERR_SUCCESS);
    assert_column_number(frees, "double_rc", NMERR_INVALID_PARAMETER);
    assert_column_number(frees, "foreign_rc", NMERR_INVALID_PARAMETER);
    assert_column_number(frees, "interior_rc", NMERR_INVALID_PARAMETER);
    assert_column_number(frees, "misaligned_rc", NMERR_INVALID_PARAMETER);
    assert_column_number(frees, "survivor_size", 4096);
    assert_column_number(frees, "size_null", 0);
    assert_column_number(frees, "size_foreign", 0);
    assert_column_number(frees, "size_freed", 0);
    assert_yes(frees, "works_after");

    const char *q = event_named(&r, "quota");
    uint64_t blocks_obtained = column_number(q, "blocks");
    uint64_t bytes = column_number(q, "bytes");
    ck_assert_uint_ge(blocks_obtained, 8);   /* most of 1 MiB is usable */
    ck_assert_uint_le(bytes, quota);
    assert_column_number(q, "fail_rc", NMERR_OUT_OF_MEMORY);
    assert_column_number(q, "huge_rc", NMERR_OUT_OF_MEMORY);
    assert_yes(q, "huge_null");
    assert_column_number(q, "realloc_rc", NMERR_OUT_OF_MEMORY);
    assert_yes(q, "realloc_null");
    assert_yes(q, "realloc_kept");
    assert_yes(q, "again");
    assert_yes(q, "aligned");

    const struct es_outcome *o = outcome_of(&r, 0);
    ck_assert_uint_eq(o->heap_quota, quota);
    ck_assert_uint_le(o->heap_peak, quota);
    ck_assert_uint_ge(o->heap_peak, bytes);
    char expected_heap[64];
    snprintf(expected_heap, sizeof expected_heap, "\"heap\":{\"quota\":%" PRIu64 ",", quota);
    assert_contains(outcome_record(&r), expected_heap);
    run_free(&r);
}
END_TEST

/* ------------------------------------------------------------------------ */

static Suite *api_suite(void)
{
    Suite *s = suite_create("api");
    struct {
        const char *name;
        const TTest *test;
    } cases[] = {
        {"frames", test_frames_sample},
        {"frames", test_frames_empty_capture},
        {"deferred", test_deferred_filter_udp},
        {"deferred", test_deferred_filter_nothing},
        {"own_filter", test_own_filter},
        {"own_filter", test_own_filter_stale_handle},
        {"recognize", test_recognize_against_tshark},
        {"recognize", test_recognize_stacked_tags},
        {"recognize", test_recognize_big_endian_null},
        {"configure", test_configure_and_startup},
        {"configure", test_startup_long_capture_path},
        {"configure", test_configure_false_stores_nothing},
        {"configure", test_configure_without_configure},
        {"keys", test_wrong_keys},
        {"status", test_status_done},
        {"status", test_status_problem},
        {"status", test_status_zero_percent},
        {"status", test_status_never_valid},
        {"events", test_events_json},
        {"events", test_events_text},
        {"memory", test_memory},
    };
    TCase *tc = NULL;
    const char *current = NULL;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        if (!current || strcmp(current, cases[i].name) != 0) {
            tc = tcase_create(cases[i].name);
            tcase_set_timeout(tc, 300);
            suite_add_tcase(s, tc);
            current = cases[i].name;
        }
        tcase_add_test(tc, cases[i].test);
    }
    return s;
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    if (asprintf(&scratch_root, "%s/es-api-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0 || !mkdtemp(scratch_root)) {
        perror("test_api: scratch directory");
        return EXIT_FAILURE;
    }
    SRunner *runner = srunner_create(api_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    remove_tree(scratch_root);
    free(scratch_root);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
