/*
 * bench_tshark.c - TCP retransmission analysis of the same capture by the
 * sandboxed TCP Retransmit expert and by tshark, counts side by side.
 *
 *   expert  expert-broker's es_run with experts/tcpretrans.so; its
 *           per-segment events (EventIdent 1) name the retransmitted frame
 *   tshark  tshark -r CAPTURE -Y tcp.analysis.retransmission
 *           -T fields -e frame.number
 *
 * The frame numbers are compared as sets (both 1-based): in both, only in
 * the expert's, only in tshark's.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "brokerrun.h"
#include "outcome.h"

#define EVENT_IDENT_RETRANSMISSION 1

struct frame_list {
    unsigned long *v;
    size_t n, cap;
};

static void list_add(struct frame_list *l, unsigned long frame)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 1024;
        unsigned long *v = realloc(l->v, l->cap * sizeof *v);
        if (!v) {
            fprintf(stderr, "bench: out of memory\n");
            exit(2);
        }
        l->v = v;
    }
    l->v[l->n++] = frame;
}

static int compare_frames(const void *a, const void *b)
{
    unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
    return (x > y) - (x < y);
}

/* The retransmitted frame of each per-segment event: the first entry of
 * "frames" (the Frame column; the second names the original). */
static int read_expert_frames(const char *path, struct frame_list *out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        long long ident;
        if (!json_line_is(line, (size_t)len, "event") ||
            !json_line_integer(line, (size_t)len, "event_ident", &ident) || ident != EVENT_IDENT_RETRANSMISSION)
            continue;
        const char *frames = strstr(line, "\"frames\":[");
        if (frames && frames[10] >= '0' && frames[10] <= '9')
            list_add(out, strtoul(frames + 10, NULL, 10));
    }
    free(line);
    fclose(f);
    return 0;
}

static int read_tshark_frames(const char *path, struct frame_list *out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    unsigned long frame;
    while (fscanf(f, "%lu", &frame) == 1)
        list_add(out, frame);
    fclose(f);
    return 0;
}

struct tshark_job {
    const struct bench_config *cfg;
    const char *expert;
    const char *capture;
    const char *output;
};

static int expert_child(void *arg, void *result)
{
    const struct tshark_job *job = arg;
    const char *experts[1] = {job->expert};
    struct broker_request req = {
        .capture = job->capture,
        .experts = experts,
        .count = 1,
        .jobs = 1,
        .worker_path = job->cfg->worker_path,
        .output_path = job->output,
    };
    return broker_run(&req, result);
}

static void tshark_version(char *out, size_t len)
{
    snprintf(out, len, "tshark");
    char path[] = "/tmp/es-bench-tshark-version-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return;
    close(fd);
    char *argv[] = {(char *)"tshark", (char *)"--version", NULL};
    if (run_program(argv, path, NULL, NULL) == 0) {
        FILE *f = fopen(path, "r");
        if (f) {
            if (fgets(out, (int)len, f))
                out[strcspn(out, "\n")] = '\0';
            fclose(f);
        }
    }
    unlink(path);
}

static void compare(const struct bench_config *cfg, struct bench_report *r, const char *label, const char *capture,
                    const char *expert, bool have_tshark, bool *all_match)
{
    char expert_out[4200], tshark_out[4200];
    if (!format_path(expert_out, sizeof expert_out, "%s/tcpretrans-%s.jsonl", cfg->capture_dir, label) ||
        !format_path(tshark_out, sizeof tshark_out, "%s/tshark-%s.txt", cfg->capture_dir, label))
        return;
    struct tshark_job job = {cfg, expert, capture, expert_out};
    struct broker_result res;
    double expert_wall = NAN, tshark_wall = NAN;
    struct frame_list mine = {0}, theirs = {0};
    if (run_in_child(expert_child, &job, &res, sizeof res, &expert_wall, NULL) != 0 || !broker_all_done(&res)) {
        report_note(r, "%s: tcpretrans did not end done", label);
        expert_wall = NAN;
    } else {
        read_expert_frames(expert_out, &mine);
    }
    unlink(expert_out);
    if (have_tshark) {
        char *argv[] = {(char *)"tshark", (char *)"-n", (char *)"-r", (char *)capture, (char *)"-Y",
                        (char *)"tcp.analysis.retransmission", (char *)"-T", (char *)"fields", (char *)"-e",
                        (char *)"frame.number", NULL};
        if (run_program(argv, tshark_out, &tshark_wall, NULL) != 0) {
            report_note(r, "%s: tshark failed", label);
            tshark_wall = NAN;
        } else {
            read_tshark_frames(tshark_out, &theirs);
        }
        unlink(tshark_out);
    }
    qsort(mine.v, mine.n, sizeof *mine.v, compare_frames);
    qsort(theirs.v, theirs.n, sizeof *theirs.v, compare_frames);
    size_t both = 0, only_mine = 0, only_theirs = 0, i = 0, j = 0;
    char examples[256] = "";
    while (i < mine.n || j < theirs.n) {
        if (j == theirs.n || (i < mine.n && mine.v[i] < theirs.v[j])) {
            if (only_mine + only_theirs < 5)
                snprintf(examples + strlen(examples), sizeof examples - strlen(examples), " +%lu", mine.v[i]);
            only_mine++;
            i++;
        } else if (i == mine.n || theirs.v[j] < mine.v[i]) {
            if (only_mine + only_theirs < 5)
                snprintf(examples + strlen(examples), sizeof examples - strlen(examples), " -%lu", theirs.v[j]);
            only_theirs++;
            j++;
        } else {
            both++;
            i++;
            j++;
        }
    }
    char a[32], b[32], c[32], d[32], row[96];
    snprintf(row, sizeof row, "%s: retransmissions", label);
    snprintf(a, sizeof a, "%zu", mine.n);
    snprintf(b, sizeof b, have_tshark ? "%zu" : "-", theirs.n);
    snprintf(c, sizeof c, "%zu", both);
    snprintf(d, sizeof d, "%zu / %zu", only_mine, only_theirs);
    report_row(r, row, a, have_tshark ? b : "-", have_tshark ? c : "-", have_tshark ? d : "-");
    snprintf(row, sizeof row, "%s: wall time", label);
    report_row(r, row, fmt_seconds(a, sizeof a, expert_wall), fmt_seconds(b, sizeof b, tshark_wall),
               "", fmt_ratio(d, sizeof d, tshark_wall / expert_wall));
    if (only_mine || only_theirs)
        report_note(r, "%s: frames in one list only (+expert, -tshark):%s%s", label, examples,
                    only_mine + only_theirs > 5 ? " ..." : "");
    char key[64];
    snprintf(key, sizeof key, "%s_expert_count", label);
    report_value(r, key, (double)mine.n);
    snprintf(key, sizeof key, "%s_tshark_count", label);
    report_value(r, key, have_tshark ? (double)theirs.n : NAN);
    snprintf(key, sizeof key, "%s_expert_wall", label);
    report_value(r, key, expert_wall);
    snprintf(key, sizeof key, "%s_tshark_wall", label);
    report_value(r, key, tshark_wall);
    if (!have_tshark || only_mine || only_theirs || isnan(expert_wall))
        *all_match = false;
    free(mine.v);
    free(theirs.v);
}

int bench_tshark(const struct bench_config *cfg, struct bench_report *r)
{
    report_section(r, "tshark", "TCP retransmissions: sandboxed tcpretrans.so against tshark");
    char expert[4200];
    if (!format_path(expert, sizeof expert, "%s/tcpretrans.so", cfg->experts_dir) || !file_exists(expert)) {
        report_note(r, "experts/tcpretrans.so is not built (a colleague is writing it): comparison skipped");
        return 0;
    }
    bool have_tshark = program_available("tshark");
    if (have_tshark) {
        char version[200];
        tshark_version(version, sizeof version);
        report_text(r, "tshark_version", version);
        report_note(r, "%s", version);
    } else {
        report_note(r, "tshark is not installed: only the expert's counts (apt-get install tshark)");
    }
    report_columns(r, "expert", "tshark", "both", "only e / only t");
    bool match = true;
    compare(cfg, r, "synthetic", cfg->synthetic_capture, expert, have_tshark, &match);
    if (cfg->real_capture[0])
        compare(cfg, r, "veth", cfg->real_capture, expert, have_tshark, &match);
    else
        report_note(r, "no real-traffic capture: the veth rows are skipped");
    report_target(r, "same retransmissions as tshark -Y tcp.analysis.retransmission",
                  match ? "identical frame lists" : "the lists differ (see rows and notes)",
                  have_tshark ? (match ? TARGET_MET : TARGET_MISSED) : TARGET_NOT_MEASURED);
    return 0;
}
