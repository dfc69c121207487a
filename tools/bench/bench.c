/*
 * bench - expert-sandbox's benchmark program (never a timed test).
 *
 *     bench [--quick] [--json FILE] [--only NAME] [--samples N] [--frames N]
 *           [--real-capture FILE] [--no-callgrind]
 *
 * Runs each comparison several times and prints a table of medians and
 * ratios; --json writes every sample.  Comparisons (--only NAME): sandbox,
 * spawn, alloc, frames, events, crash, scaling, tshark.  docs/performance.md
 * says what each measures, how to reproduce it, and what limits it.
 *
 * Exit status: 0 when every comparison that was asked for ran (targets met
 * or not: this is a measurement, not a test), 1 when one could not run at
 * all, 2 on bad usage.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

#ifndef BENCH_BUILD_ROOT
#error "BENCH_BUILD_ROOT: the meson build directory (set by tools/bench/meson.build)"
#endif

#define QUICK_FRAMES 20000u
#define FULL_FRAMES 1000000u
#define QUICK_SAMPLES 2u
#define FULL_SAMPLES 5u

struct comparison {
    const char *name;
    int (*run)(const struct bench_config *, struct bench_report *);
    const char *what;
};

static const struct comparison comparisons[] = {
    {"sandbox", bench_sandbox, "same expert in-process and through expert-broker"},
    {"spawn", bench_spawn, "worker spawn to Register returned, by phase"},
    {"alloc", bench_alloc, "ExpertAllocMemory against glibc and mimalloc"},
    {"frames", bench_frames, "ExpertGetFrame against pcap_next_ex"},
    {"events", bench_events, "events per second, none lost on a crash"},
    {"crash", bench_crash, "fatal signal to outcome written, heap released"},
    {"scaling", bench_scaling, "the same experts with --jobs 1, 2, 4, 8"},
    {"tshark", bench_tshark, "TCP Retransmit against tshark"},
};

#define COMPARISON_COUNT (sizeof comparisons / sizeof comparisons[0])

static void usage(FILE *to)
{
    fprintf(to,
            "usage: bench [--quick] [--json FILE] [--only NAME] [--samples N] [--frames N]\n"
            "             [--real-capture FILE] [--no-callgrind]\n"
            "\n"
            "  --quick              smoke run: %u-frame captures, %u samples, no callgrind\n"
            "  --json FILE          write every sample, the table and the targets as JSON\n"
            "  --only NAME          run one comparison (repeatable)\n"
            "  --samples N          repetitions of each timed measurement (default %u, quick %u)\n"
            "  --frames N           frames of the synthetic capture (default %u)\n"
            "  --real-capture FILE  real traffic to use (default: made by tools/mkveth.sh)\n"
            "  --no-callgrind       skip the instruction counts (valgrind)\n"
            "\n"
            "comparisons:\n",
            QUICK_FRAMES, QUICK_SAMPLES, FULL_SAMPLES, QUICK_SAMPLES, FULL_FRAMES);
    for (size_t i = 0; i < COMPARISON_COUNT; i++)
        fprintf(to, "  %-9s %s\n", comparisons[i].name, comparisons[i].what);
}

static int parse_unsigned(const char *text, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno || end == text || *end || v == 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Paths of the project's programs: the build tree this bench was built in,
 * unless the environment says otherwise (ES_WORKER, as the broker reads). */
static void locate_programs(struct bench_config *cfg)
{
    const char *worker = getenv("ES_WORKER");
    snprintf(cfg->worker_path, sizeof cfg->worker_path, "%s",
             worker && *worker ? worker : BENCH_BUILD_ROOT "/worker/expert-worker");
    snprintf(cfg->mkpcap_path, sizeof cfg->mkpcap_path, "%s", BENCH_BUILD_ROOT "/tools/mkpcap");
    snprintf(cfg->experts_dir, sizeof cfg->experts_dir, "%s", BENCH_BUILD_ROOT "/experts");
    snprintf(cfg->bench_experts_dir, sizeof cfg->bench_experts_dir, "%s", BENCH_BUILD_DIR);
    snprintf(cfg->mkveth_path, sizeof cfg->mkveth_path, "%s", BENCH_SOURCE_ROOT "/tools/mkveth.sh");
    snprintf(cfg->capture_dir, sizeof cfg->capture_dir, "%s", BENCH_BUILD_DIR "/captures");
}

/* The synthetic capture, made once by mkpcap and kept between runs (the
 * same seed and count always give the same bytes). */
static int prepare_synthetic(struct bench_config *cfg)
{
    if (!format_path(cfg->synthetic_capture, sizeof cfg->synthetic_capture, "%s/synthetic-%u-seed1.pcap",
                     cfg->capture_dir, cfg->frames))
        return -1;
    struct stat st;
    if (stat(cfg->synthetic_capture, &st) == 0 && st.st_size > 24)
        return 0;
    char frames[32];
    snprintf(frames, sizeof frames, "%u", cfg->frames);
    char tmp[4200];
    if (!format_path(tmp, sizeof tmp, "%s.tmp", cfg->synthetic_capture))
        return -1;
    char *argv[] = {cfg->mkpcap_path, (char *)"--frames", frames, (char *)"--seed", (char *)"1",
                    (char *)"-o", tmp, NULL};
    printf("making %s (%u frames) with mkpcap...\n", cfg->synthetic_capture, cfg->frames);
    double wall = 0;
    if (run_program(argv, NULL, &wall, NULL) != 0 || rename(tmp, cfg->synthetic_capture) != 0) {
        fprintf(stderr, "bench: mkpcap could not write %s\n", cfg->synthetic_capture);
        unlink(tmp);
        return -1;
    }
    printf("  done in %.1f s\n", wall);
    return 0;
}

/* Real traffic: --real-capture, or one recorded earlier by mkveth.sh, or
 * one recorded now (full runs only: it takes a while and needs root). */
static void prepare_real(struct bench_config *cfg, const char *given)
{
    if (given) {
        snprintf(cfg->real_capture, sizeof cfg->real_capture, "%s", given);
        return;
    }
    char path[sizeof cfg->real_capture];
    if (!format_path(path, sizeof path, "%s/veth-%u.pcap", cfg->capture_dir, cfg->frames))
        return;
    if (file_exists(path)) {
        memcpy(cfg->real_capture, path, sizeof path);
        return;
    }
    if (cfg->quick) {
        printf("no real-traffic capture (%s); --quick does not record one: run tools/mkveth.sh\n", path);
        return;
    }
    if (geteuid() != 0 || !file_exists(cfg->mkveth_path)) {
        printf("no real-traffic capture: recording one needs root and %s\n", cfg->mkveth_path);
        return;
    }
    char frames[32];
    snprintf(frames, sizeof frames, "%u", cfg->frames);
    char *argv[] = {(char *)"sh", cfg->mkveth_path, (char *)"--frames", frames, (char *)"-o", path, NULL};
    printf("recording real traffic on a veth pair with %s (%u frames)...\n", cfg->mkveth_path, cfg->frames);
    double wall = 0;
    int rc = run_program(argv, NULL, &wall, NULL);
    if (rc == 0 && file_exists(path)) {
        printf("  done in %.1f s\n", wall);
        memcpy(cfg->real_capture, path, sizeof path);
    } else {
        printf("  mkveth.sh failed (exit %d): real-traffic rows are skipped\n", rc);
    }
}

static bool wanted(const char *const *only, size_t only_count, const char *name)
{
    if (only_count == 0)
        return true;
    for (size_t i = 0; i < only_count; i++)
        if (!strcmp(only[i], name))
            return true;
    return false;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "--inner")) {
        if (!strcmp(argv[2], "alloc"))
            return bench_alloc_inner(argc - 3, argv + 3);
        if (!strcmp(argv[2], "frames"))
            return bench_frames_inner(argc - 3, argv + 3);
        if (!strcmp(argv[2], "inproc"))
            return bench_inproc_inner(argc - 3, argv + 3);
        fprintf(stderr, "bench: unknown inner part %s\n", argv[2]);
        return 2;
    }

    struct bench_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.callgrind = true;
    const char *only[COMPARISON_COUNT];
    size_t only_count = 0;
    const char *real = NULL;
    unsigned long samples = 0, frames = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--quick")) {
            cfg.quick = true;
        } else if (!strcmp(a, "--no-callgrind")) {
            cfg.callgrind = false;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!value) {
            fprintf(stderr, "bench: %s needs a value\n", a);
            usage(stderr);
            return 2;
        } else if (!strcmp(a, "--json")) {
            cfg.json_path = value;
            i++;
        } else if (!strcmp(a, "--only")) {
            bool known = false;
            for (size_t k = 0; k < COMPARISON_COUNT; k++)
                known = known || !strcmp(comparisons[k].name, value);
            if (!known || only_count == COMPARISON_COUNT) {
                fprintf(stderr, "bench: unknown comparison %s\n", value);
                usage(stderr);
                return 2;
            }
            only[only_count++] = value;
            i++;
        } else if (!strcmp(a, "--samples")) {
            if (parse_unsigned(value, 10000, &samples) != 0) {
                fprintf(stderr, "bench: --samples: %s is not a count from 1 to 10000\n", value);
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--frames")) {
            if (parse_unsigned(value, 100000000, &frames) != 0) {
                fprintf(stderr, "bench: --frames: %s is not a count from 1 to 100000000\n", value);
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--real-capture")) {
            real = value;
            i++;
        } else {
            fprintf(stderr, "bench: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (cfg.quick)
        cfg.callgrind = false;
    cfg.samples = samples ? (unsigned)samples : cfg.quick ? QUICK_SAMPLES : FULL_SAMPLES;
    cfg.frames = frames ? (uint32_t)frames : cfg.quick ? QUICK_FRAMES : FULL_FRAMES;

    static char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        fprintf(stderr, "bench: cannot find its own executable\n");
        return 1;
    }
    self[n] = '\0';
    cfg.self_path = self;
    locate_programs(&cfg);
    if (mkdir(cfg.capture_dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "bench: cannot create %s: %s\n", cfg.capture_dir, strerror(errno));
        return 1;
    }
    if (!file_exists(cfg.worker_path)) {
        fprintf(stderr, "bench: no expert-worker at %s (build the project first)\n", cfg.worker_path);
        return 1;
    }
    printf("expert-sandbox bench%s: %u samples per measurement, %u-frame captures\n",
           cfg.quick ? " (quick)" : "", cfg.samples, cfg.frames);
    if (prepare_synthetic(&cfg) != 0)
        return 1;
    bool needs_real = false;
    for (size_t i = 0; i < COMPARISON_COUNT; i++) {
        const char *name = comparisons[i].name;
        if (wanted(only, only_count, name) &&
            (!strcmp(name, "sandbox") || !strcmp(name, "frames") || !strcmp(name, "tshark")))
            needs_real = true;
    }
    if (needs_real)
        prepare_real(&cfg, real);

    struct bench_report *report = report_new();
    int status = 0;
    for (size_t i = 0; i < COMPARISON_COUNT; i++) {
        if (!wanted(only, only_count, comparisons[i].name))
            continue;
        if (comparisons[i].run(&cfg, report) != 0)
            status = 1;
    }
    report_print_targets(report, stdout);
    if (cfg.json_path) {
        if (report_write_json(report, &cfg, cfg.json_path) != 0) {
            fprintf(stderr, "bench: cannot write %s: %s\n", cfg.json_path, strerror(errno));
            status = 1;
        } else {
            printf("\nevery sample: %s\n", cfg.json_path);
        }
    }
    report_free(report);
    return status;
}
