/*
 * bench_frames.c - iterating a capture: ExpertGetFrame over the frame store
 * against pcap_next_ex over the same file, both in-process.
 *
 * Each iteration does the same small piece of work with the frame (adds
 * its length and first byte to a checksum), so neither loop can be
 * optimised away and both touch the frame's bytes.  The frame store is
 * built before the clock starts (the broker builds it once per run, for
 * every expert); the pcap file is read once before, so both start from the
 * page cache.
 *
 *   ExpertGetFrame  GET_FRAME_NEXT_FORWARD from INVALID_FRAME_NUMBER, as
 *                   experts iterate, through libnmapi (key check, counters,
 *                   the recognize table it fills for every frame)
 *   store index     es_store_frame(n) for n = 0..N-1: the pointer
 *                   arithmetic alone, the floor for ExpertGetFrame
 *   pcap_next_ex    pcap_open_offline, then pcap_next_ex to the end
 */
#include <math.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "capture.h"
#include "inproc.h"

enum frames_mode { MODE_EXPERT, MODE_STORE, MODE_PCAP, MODE_COUNT };

static const char *const mode_names[MODE_COUNT] = {"expert", "store", "pcap"};
static const char *const mode_labels[MODE_COUNT] = {"ExpertGetFrame", "store index (floor)", "pcap_next_ex"};

struct frames_job {
    const char *capture;
    enum frames_mode mode;
    unsigned passes;
};

struct frames_sample {
    double ns_per_frame;
    uint64_t frames;
    uint64_t checksum;
};

/* The prepared side of one mode: a frame store and libnmapi attached for
 * the two store modes; nothing for pcap, which opens the file per pass. */
struct frames_setup {
    struct es_capture capture;
    struct inproc_host host;
    HEXPERTKEY key;
    bool attached;
};

static int prepare(const struct frames_job *job, struct frames_setup *s)
{
    memset(s, 0, sizeof *s);
    s->capture.fd = -1;
    if (job->mode == MODE_PCAP)
        return 0;
    char why[512];
    struct es_capture_options copt = {0};
    if (es_capture_load(job->capture, &copt, &s->capture, why, sizeof why) != ES_CAPTURE_OK) {
        fprintf(stderr, "bench: %s: %s\n", job->capture, why);
        return -1;
    }
    if (inproc_open(&s->host, 1 << 20, &s->capture, job->capture, NULL, why, sizeof why) != 0) {
        fprintf(stderr, "bench: %s\n", why);
        return -1;
    }
    EXPERTSTARTUPINFO startup;
    s->key = inproc_begin_call(&s->host, &startup);
    s->attached = true;
    return 0;
}

/* One pass over every frame; returns the frames seen, -1 on error. */
static int64_t one_pass(const struct frames_job *job, struct frames_setup *s, uint64_t *checksum)
{
    int64_t frames = 0;
    switch (job->mode) {
    case MODE_EXPERT: {
        EXPERTFRAMEDESCRIPTOR d;
        DWORD requested = INVALID_FRAME_NUMBER;
        DWORD rc;
        while ((rc = ExpertGetFrame(s->key, GET_FRAME_NEXT_FORWARD, 0, requested, NULL, &d)) == NMERR_SUCCESS) {
            *checksum += d.pFrame->FrameLength + (d.pFrame->nBytesAvail ? d.pFrame->MacFrame[0] : 0);
            requested = d.FrameNumber;
            frames++;
        }
        return rc == NMERR_NO_MORE_FRAMES ? frames : -1;
    }
    case MODE_STORE: {
        const struct es_store_header *h = s->capture.map;
        for (uint32_t n = 0; n < h->frame_count; n++) {
            const FRAME *f = es_store_frame(h, n);
            *checksum += f->FrameLength + (f->nBytesAvail ? f->MacFrame[0] : 0);
            frames++;
        }
        return frames;
    }
    case MODE_PCAP: {
        char errbuf[PCAP_ERRBUF_SIZE];
        pcap_t *p = pcap_open_offline(job->capture, errbuf);
        if (!p) {
            fprintf(stderr, "bench: %s: %s\n", job->capture, errbuf);
            return -1;
        }
        struct pcap_pkthdr *hdr;
        const u_char *data;
        int rc;
        while ((rc = pcap_next_ex(p, &hdr, &data)) == 1) {
            *checksum += hdr->len + (hdr->caplen ? data[0] : 0);
            frames++;
        }
        pcap_close(p);
        return rc == PCAP_ERROR_BREAK ? frames : -1;
    }
    default:
        return -1;
    }
}

static int frames_child(void *arg, void *result)
{
    const struct frames_job *job = arg;
    struct frames_sample *out = result;
    struct frames_setup s;
    if (prepare(job, &s) != 0)
        return 1;
    uint64_t checksum = 0;
    if (one_pass(job, &s, &checksum) < 0)   /* warm: page cache, first touch */
        return 1;
    checksum = 0;
    int64_t frames = 0;
    uint64_t start = now_ns();
    for (unsigned i = 0; i < job->passes; i++) {
        int64_t n = one_pass(job, &s, &checksum);
        if (n < 0)
            return 1;
        frames += n;
    }
    uint64_t end = now_ns();
    out->ns_per_frame = (double)(end - start) / (double)(frames ? frames : 1);
    out->frames = (uint64_t)frames;
    out->checksum = checksum;
    return 0;
}

/* `bench --inner frames MODE CAPTURE PASSES`, run under callgrind. */
int bench_frames_inner(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    struct frames_job job = {argv[1], MODE_COUNT, (unsigned)strtoul(argv[2], NULL, 10)};
    for (int m = 0; m < MODE_COUNT; m++)
        if (!strcmp(argv[0], mode_names[m]))
            job.mode = (enum frames_mode)m;
    struct frames_setup s;
    if (job.mode == MODE_COUNT || prepare(&job, &s) != 0)
        return 2;
    uint64_t checksum = 0;
    for (unsigned i = 0; i < job.passes; i++)
        if (one_pass(&job, &s, &checksum) < 0)
            return 1;
    return checksum == 0;   /* used, so the loops are not removed */
}

/* A small synthetic capture for callgrind, which runs ~50x slower. */
static bool small_capture(const struct bench_config *cfg, char *path, size_t len)
{
    if (!format_path(path, len, "%s/synthetic-20000-seed1.pcap", cfg->capture_dir))
        return false;
    if (file_exists(path))
        return true;
    char *argv[] = {(char *)cfg->mkpcap_path, (char *)"--frames", (char *)"20000", (char *)"--seed", (char *)"1",
                    (char *)"-o", path, NULL};
    return run_program(argv, NULL, NULL, NULL) == 0 && file_exists(path);
}

static double compare_capture(const struct bench_config *cfg, struct bench_report *r, const char *label,
                              const char *capture, double *instr_ratio)
{
    double medians[MODE_COUNT];
    uint64_t frames = 0, checksums[MODE_COUNT] = {0};
    unsigned passes = cfg->quick ? 5 : 3;
    for (unsigned i = 0; i < cfg->samples; i++) {
        for (int m = 0; m < MODE_COUNT; m++) {
            struct frames_job job = {capture, (enum frames_mode)m, passes};
            struct frames_sample s;
            if (run_in_child(frames_child, &job, &s, sizeof s, NULL, NULL) != 0) {
                report_note(r, "%s/%s: the sample failed", label, mode_names[m]);
                continue;
            }
            char name[96];
            snprintf(name, sizeof name, "%s/%s/ns_per_frame", label, mode_names[m]);
            series_add(report_series(r, name, "ns/frame"), s.ns_per_frame);
            frames = s.frames / passes;
            checksums[m] = s.checksum;
        }
    }
    if (checksums[MODE_EXPERT] != checksums[MODE_PCAP] || checksums[MODE_STORE] != checksums[MODE_PCAP])
        report_note(r, "%s: the loops saw different bytes (checksums %llu, %llu, %llu)", label,
                    (unsigned long long)checksums[0], (unsigned long long)checksums[1],
                    (unsigned long long)checksums[2]);

    double instr[MODE_COUNT] = {NAN, NAN, NAN};
    char small[4200];
    bool callgrind = cfg->callgrind && !strcmp(label, "synthetic") && small_capture(cfg, small, sizeof small);
    for (int m = 0; m < MODE_COUNT; m++) {
        char name[96];
        snprintf(name, sizeof name, "%s/%s/ns_per_frame", label, mode_names[m]);
        medians[m] = series_median(report_series(r, name, "ns/frame"));
        if (callgrind) {
            char *args[] = {(char *)mode_names[m], small, NULL};
            double per_pass = callgrind_per_unit(cfg, "frames", args, 1, 3);
            if (per_pass > 0) {
                instr[m] = per_pass / 20000.0;
                snprintf(name, sizeof name, "%s/%s/instructions_per_frame", label, mode_names[m]);
                series_add(report_series(r, name, "instr/frame"), instr[m]);
            }
        }
    }
    for (int m = 0; m < MODE_COUNT; m++) {
        char row[96], a[32], b[32], c[32];
        snprintf(row, sizeof row, "%s: %s", label, mode_labels[m]);
        report_row(r, row, fmt_value(a, sizeof a, medians[m], 1, ""), fmt_value(b, sizeof b, instr[m], 0, ""),
                   fmt_ratio(c, sizeof c, medians[MODE_PCAP] / medians[m]), "");
    }
    char key[64];
    snprintf(key, sizeof key, "%s_frames", label);
    report_value(r, key, (double)frames);
    *instr_ratio = instr[MODE_PCAP] / instr[MODE_EXPERT];
    return medians[MODE_PCAP] / medians[MODE_EXPERT];
}

int bench_frames(const struct bench_config *cfg, struct bench_report *r)
{
    report_section(r, "frames", "iterating a capture: ExpertGetFrame against pcap_next_ex, in-process");
    report_columns(r, "ns/frame", "instr/frame", "pcap/this", "");
    double instr_ratio = NAN;
    double speedup = compare_capture(cfg, r, "synthetic", cfg->synthetic_capture, &instr_ratio);
    double worst = speedup;
    if (cfg->real_capture[0]) {
        double unused;
        double real = compare_capture(cfg, r, "veth", cfg->real_capture, &unused);
        if (!isnan(real) && (isnan(worst) || real < worst))
            worst = real;
    } else {
        report_note(r, "no real-traffic capture: the veth rows are skipped");
    }
    char measured[200], a[32], b[32];
    snprintf(measured, sizeof measured, "pcap_next_ex/ExpertGetFrame: %s by time (worst capture), %s by instructions",
             fmt_ratio(a, sizeof a, worst), fmt_ratio(b, sizeof b, instr_ratio));
    report_value(r, "speedup_time", worst);
    report_value(r, "speedup_instructions", instr_ratio);
    report_target(r, "ExpertGetFrame iteration >= 3x faster than pcap_next_ex", measured,
                  isnan(worst) ? TARGET_NOT_MEASURED : worst >= 3.0 ? TARGET_MET : TARGET_MISSED);
    return isnan(speedup) ? -1 : 0;
}
