/*
 * cli.c - expert-broker, the command line.  A thin client of broker.h:
 * parse, call es_run or es_list, exit with what they return.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "cli_faults.h"
#include "sandbox_probe.h"
#include "heapseg.h"

#ifndef ES_VERSION
#define ES_VERSION "0.1.0"
#endif

static const char usage_text[] =
    "Usage: expert-broker run -r CAPTURE -e EXPERT.so [-e EXPERT.so ...] [OPTIONS] [EXPERT.so ...]\n"
    "       expert-broker list [--json] EXPERT.so [EXPERT.so ...]\n"
    "       expert-broker configure -e EXPERT.so [--config FILE] [-r CAPTURE]\n"
    "       expert-broker check [--json]\n"
    "       expert-broker faults -r CAPTURE -e EXPERT.so [OPTIONS]\n"
    "       expert-broker --help | --version\n"
    "\n"
    "Runs Network Monitor 2.x experts over a saved capture, each in its own\n"
    "sandboxed worker process, and writes their events as JSON Lines.\n"
    "\n"
    "Commands:\n"
    "  run                    run the experts over the capture\n"
    "  list                   load each expert, call Register, print what it says\n"
    "  configure              call the expert's Configure with its stored\n"
    "                         configuration and store what it leaves\n"
    "  faults                 run an expert once per fault site (each allocation,\n"
    "                         each helper call) and report how it copes\n"
    "                         (`expert-broker faults --help`)\n"
    "  check                  show which sandbox layers this machine offers and\n"
    "                         which the broker will use\n"
    "\n"
    "Options of run:\n"
    "  -r, --read FILE        capture to analyse (pcap or pcapng)\n"
    "  -e, --expert FILE      expert shared object; repeat for more experts (files\n"
    "                         after the options are experts too)\n"
    "  -o, --output FILE      write the results to FILE instead of stdout\n"
    "      --format FORMAT    jsonl (default: JSON Lines, see docs/output.md) or\n"
    "                         text (each event as the Event Viewer shows it)\n"
    "  -j, --jobs N           experts running at once (default: number of CPUs)\n"
    "  -m, --memory SIZE      heap quota per expert, in bytes or with a K, M or G\n"
    "                         suffix (default 256M, at least 64K)\n"
    "  -f, --filter EXPR      display filter in tcpdump syntax, applied by\n"
    "                         ExpertGetFrame with FLAGS_DEFER_TO_UI_FILTER\n"
    "      --allow-truncated  analyse the intact frames of a damaged capture\n"
    "  -t, --timeout SECONDS  stop an expert that runs longer (wall clock)\n"
    "      --grace SECONDS    after asking an expert to stop (timeout, Ctrl-C),\n"
    "                         kill it if it has not returned (default 2)\n"
    "      --cpu-time SECONDS stop an expert that uses more CPU time\n"
    "      --inject FAULTS    inject faults into the experts' world, e.g.\n"
    "                         alloc=3, alloc-every=5, alloc-rate=0.1, seed=7,\n"
    "                         terminate=20, kill=15:SEGV, slow-frames=1000,\n"
    "                         short-capture=100 (docs/fault-injection.md)\n"
    "      --no-table         do not print the summary table on stderr\n"
    "  -q, --quiet            print neither table nor progress on stderr\n"
    "\n"
    "Configuration and startup (run and configure):\n"
    "      --config FILE      the stored configuration of the (one) expert\n"
    "      --config-dir DIR   where configurations are stored, one file per\n"
    "                         expert, NAME.config (default:\n"
    "                         $XDG_CONFIG_HOME/expert-sandbox or ~/.config/...)\n"
    "      --startup-frame N  the frame that \"had focus\" (1-based, as shown)\n"
    "      --use-startup-data set EXPERT_STARTUP_FLAG_USE_STARTUP_DATA_OVER_\n"
    "                         CONFIG_DATA: seed settings from the startup data\n"
    "\n"
    "Options of list and check:\n"
    "      --json             one JSON object per line instead of text\n"
    "\n"
    "Sandbox options (run and list):\n"
    "      --user NAME        user the experts run as when the broker is root\n"
    "                         (default: nobody)\n"
    "      --disable LAYER    switch a confinement layer off (repeatable)\n"
    "      --require LAYER    refuse to run an expert without this layer\n"
    "                         (repeatable); layers: rlimits, user, namespaces,\n"
    "                         landlock, seccomp (see `expert-broker check`)\n"
    "      --extra-memory SIZE address space an expert may use besides its heap\n"
    "                         and the capture, for malloc, stacks and libraries\n"
    "                         (default 1G)\n"
    "\n"
    "Exit status:\n"
    "  0  every expert finished (outcome \"done\")\n"
    "  1  an expert ended otherwise: crashed, problem, protocol error, ...\n"
    "  2  the command line is wrong\n"
    "  3  the capture cannot be used (missing, unreadable, empty, truncated,\n"
    "     not a capture) or the filter does not compile\n"
    "  4  an expert file cannot be used (missing, not an ELF shared object,\n"
    "     no Register or Run, Register returned FALSE); wins over 1\n"
    "  5  the broker itself failed (memory, processes, writing the results)\n"
    "  6  a layer demanded with --require is not available\n"
    "  128+N  interrupted by signal N (130 for Ctrl-C); outcomes are still written\n"
    "\n"
    "Examples:\n"
    "  expert-broker run -r trace.pcap -e protodist.so\n"
    "  expert-broker run -r trace.pcapng -e a.so -e b.so -o events.jsonl -j 2\n"
    "  expert-broker run -r trace.pcap -e tcpretrans.so -f 'tcp port 80' -m 64M\n"
    "  expert-broker list --json /usr/lib/x86_64-linux-gnu/expert-sandbox/experts/*.so\n"
    "  expert-broker check --require seccomp --require landlock\n"
    "\n"
    "See expert-broker(1) and docs/output.md for the output schema.\n";

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "expert-broker: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'expert-broker --help'.\n");
    va_end(ap);
    return ES_EXIT_USAGE;
}

/* "256M" -> 268435456.  Returns false on anything but a whole number with
 * an optional K, M or G (powers of 1024) that fits in 64 bits. */
static bool parse_size(const char *s, uint64_t *out)
{
    if (!*s || *s == '-')
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return false;
    unsigned shift = 0;
    if (*end) {
        switch (*end) {
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break;
        case 'g': case 'G': shift = 30; break;
        default: return false;
        }
        if (end[1] != '\0' && !((end[1] == 'i' || end[1] == 'B') && end[2] == '\0') &&
            !(end[1] == 'i' && end[2] == 'B' && end[3] == '\0'))
            return false;
    }
    if (shift && v > (UINT64_MAX >> shift))
        return false;
    *out = (uint64_t)v << shift;
    return true;
}

/* "1" -> 0: people count frames from 1, as Wireshark shows them. */
static bool parse_frame_number(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || v < 1 || v > 0xFFFFFFFEull)
        return false;
    *out = (uint32_t)(v - 1);
    return true;
}

static bool parse_jobs(const char *s, unsigned *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > 1024)
        return false;
    *out = (unsigned)v;
    return true;
}

enum {
    OPT_ALLOW_TRUNCATED = 1000,
    OPT_NO_TABLE,
    OPT_JSON,
    OPT_GRACE,
    OPT_CPU_TIME,
    OPT_USER,
    OPT_DISABLE,
    OPT_REQUIRE,
    OPT_EXTRA_MEMORY,
    OPT_CONFIG,
    OPT_CONFIG_DIR,
    OPT_STARTUP_FRAME,
    OPT_USE_STARTUP_DATA,
    OPT_FORMAT,
    OPT_INJECT,
};

#define STARTUP_OPTIONS                                                \
    {"config", required_argument, NULL, OPT_CONFIG},                   \
    {"config-dir", required_argument, NULL, OPT_CONFIG_DIR},           \
    {"startup-frame", required_argument, NULL, OPT_STARTUP_FRAME},     \
    {"use-startup-data", no_argument, NULL, OPT_USE_STARTUP_DATA}

static bool parse_frame_number(const char *s, uint32_t *out);

/* The startup options shared by run and configure; as sandbox_option. */
static int startup_option(int c, const char *arg, struct es_startup_options *st)
{
    switch (c) {
    case OPT_CONFIG:
        st->config_file = arg;
        return 1;
    case OPT_CONFIG_DIR:
        st->config_dir = arg;
        return 1;
    case OPT_STARTUP_FRAME:
        if (!parse_frame_number(arg, &st->startup_frame)) {
            usage_error("--startup-frame takes a frame number from 1, not '%s'", arg);
            return -1;
        }
        st->has_startup_frame = true;
        return 1;
    case OPT_USE_STARTUP_DATA:
        st->use_startup_data = true;
        return 1;
    default:
        return 0;
    }
}

#define SANDBOX_OPTIONS                                                \
    {"user", required_argument, NULL, OPT_USER},                       \
    {"disable", required_argument, NULL, OPT_DISABLE},                 \
    {"require", required_argument, NULL, OPT_REQUIRE},                 \
    {"extra-memory", required_argument, NULL, OPT_EXTRA_MEMORY}

/* Handles the sandbox options shared by run and list.  Returns 1 if `c`
 * was one of them, 0 if not, -1 (after a message) if its value is bad. */
static int sandbox_option(int c, const char *arg, struct es_sandbox_options *sb)
{
    uint32_t layer;
    switch (c) {
    case OPT_USER:
        sb->user = arg;
        return 1;
    case OPT_DISABLE:
    case OPT_REQUIRE:
        layer = es_layer_from_name(arg);
        if (!layer) {
            usage_error("unknown layer '%s' (rlimits, user, namespaces, landlock, seccomp)", arg);
            return -1;
        }
        if (c == OPT_DISABLE)
            sb->disabled_layers |= layer;
        else
            sb->required_layers |= layer;
        return 1;
    case OPT_EXTRA_MEMORY:
        if (!parse_size(arg, &sb->extra_memory) || sb->extra_memory < (16u << 20)) {
            usage_error("--extra-memory takes a size of at least 16M, not '%s'", arg);
            return -1;
        }
        return 1;
    default:
        return 0;
    }
}

static bool parse_seconds(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0) || v > 1e7)
        return false;
    *out = v;
    return true;
}

static int parse_run(int argc, char **argv, struct es_run_options *opt, const char **experts,
                     const char **output_path);
static int run_parsed(struct es_run_options *opt, const char *output_path);

static int cmd_run(int argc, char **argv)
{
    struct es_run_options opt = {.table = true, .progress = true, .grace_seconds = -1, .handle_signals = true};
    const char **experts = calloc((size_t)argc + 1, sizeof *experts);
    const char *output_path = NULL;
    if (!experts)
        return ES_EXIT_INTERNAL;
    int status = parse_run(argc, argv, &opt, experts, &output_path);
    if (status < 0)
        status = run_parsed(&opt, output_path);
    free(experts);
    return status;
}

/* Fills opt from the command line.  Returns -1 to go on and run, or the exit
 * status to end with (usage error, --help). */
static int parse_run(int argc, char **argv, struct es_run_options *opt_out, const char **experts,
                     const char **output_path_out)
{
    static const struct option options[] = {
        {"read", required_argument, NULL, 'r'},
        {"expert", required_argument, NULL, 'e'},
        {"output", required_argument, NULL, 'o'},
        {"jobs", required_argument, NULL, 'j'},
        {"memory", required_argument, NULL, 'm'},
        {"filter", required_argument, NULL, 'f'},
        {"allow-truncated", no_argument, NULL, OPT_ALLOW_TRUNCATED},
        {"no-table", no_argument, NULL, OPT_NO_TABLE},
        {"quiet", no_argument, NULL, 'q'},
        {"timeout", required_argument, NULL, 't'},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"inject", required_argument, NULL, OPT_INJECT},
        {"grace", required_argument, NULL, OPT_GRACE},
        {"cpu-time", required_argument, NULL, OPT_CPU_TIME},
        SANDBOX_OPTIONS,
        STARTUP_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct es_run_options opt = *opt_out;
    const char *output_path = NULL;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":r:e:o:j:m:f:t:qh", options, NULL)) != -1) {
        int handled = sandbox_option(c, optarg, &opt.sandbox);
        if (!handled)
            handled = startup_option(c, optarg, &opt.startup);
        if (handled < 0)
            return ES_EXIT_USAGE;
        if (handled)
            continue;
        double seconds;
        switch (c) {
        case 't':
            if (!parse_seconds(optarg, &opt.timeout_seconds) || opt.timeout_seconds == 0)
                return usage_error("--timeout takes a number of seconds above 0, not '%s'", optarg);
            break;
        case OPT_INJECT: {
            char why[300];
            if (es_injection_parse(optarg, &opt.inject, why, sizeof why) != 0)
                return usage_error("--inject: %s", why);
            break;
        }
        case OPT_FORMAT:
            if (strcmp(optarg, "jsonl") && strcmp(optarg, "text"))
                return usage_error("--format takes jsonl or text, not '%s'", optarg);
            opt.text = !strcmp(optarg, "text");
            break;
        case OPT_GRACE:
            if (!parse_seconds(optarg, &opt.grace_seconds))
                return usage_error("--grace takes a number of seconds, not '%s'", optarg);
            break;
        case OPT_CPU_TIME:
            if (!parse_seconds(optarg, &seconds) || seconds < 1 || seconds != (double)(uint64_t)seconds)
                return usage_error("--cpu-time takes a whole number of seconds, at least 1, not '%s'", optarg);
            opt.sandbox.cpu_seconds = (uint64_t)seconds;
            break;
        case 'r': opt.capture_path = optarg; break;
        case 'e': experts[opt.expert_count++] = optarg; break;
        case 'o': output_path = optarg; break;
        case 'j':
            if (!parse_jobs(optarg, &opt.jobs))
                return usage_error("--jobs takes a number from 1 to 1024, not '%s'", optarg);
            break;
        case 'm':
            if (!parse_size(optarg, &opt.heap_quota) || opt.heap_quota < ES_HEAP_MIN_SIZE)
                return usage_error("--memory takes a size of at least 64K, such as 256M, not '%s'", optarg);
            break;
        case 'f': opt.filter = optarg; break;
        case OPT_ALLOW_TRUNCATED: opt.allow_truncated = true; break;
        case OPT_NO_TABLE: opt.table = false; break;
        case 'q':
            opt.table = false;
            opt.progress = false;
            break;
        case 'h': fputs(usage_text, stdout); return ES_EXIT_OK;
        case ':': return usage_error("option '%s' needs a value", argv[optind - 1]);
        default: return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    /* Experts may also follow the options, as in `run -r x.pcap a.so b.so`. */
    for (int i = optind; i < argc; i++)
        experts[opt.expert_count++] = argv[i];
    if (!opt.capture_path)
        return usage_error("%s", "run needs a capture: -r CAPTURE");
    if (opt.expert_count == 0)
        return usage_error("%s", "run needs at least one expert: -e EXPERT.so");
    opt.experts = experts;
    *opt_out = opt;
    *output_path_out = output_path;
    return -1;
}

static int run_parsed(struct es_run_options *opt_in, const char *output_path)
{
    struct es_run_options opt = *opt_in;
    FILE *json = stdout;
    if (output_path && strcmp(output_path, "-") != 0) {
        json = fopen(output_path, "we");
        if (!json) {
            fprintf(stderr, "expert-broker: %s: cannot create: %s\n", output_path, strerror(errno));
            return ES_EXIT_USAGE;
        }
    }
    opt.json = json;
    struct es_run_result result;
    enum es_exit status = es_run(&opt, &result);
    es_run_result_free(&result);
    if (fflush(json) != 0 || (json != stdout && fclose(json) != 0)) {
        fprintf(stderr, "expert-broker: %s: write error: %s\n", output_path ? output_path : "stdout",
                strerror(errno));
        status = ES_EXIT_INTERNAL;
    }
    return status;
}

static int cmd_list(int argc, char **argv)
{
    static const struct option options[] = {
        {"json", no_argument, NULL, OPT_JSON},
        SANDBOX_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct es_list_options opt = {.out = stdout};
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        int handled = sandbox_option(c, optarg, &opt.sandbox);
        if (handled < 0)
            return ES_EXIT_USAGE;
        if (handled)
            continue;
        switch (c) {
        case ':': return usage_error("option '%s' needs a value", argv[optind - 1]);
        case OPT_JSON: opt.json = true; break;
        case 'h': fputs(usage_text, stdout); return ES_EXIT_OK;
        default: return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return usage_error("%s", "list needs at least one expert file");
    opt.experts = (const char *const *)argv + optind;
    opt.expert_count = (size_t)(argc - optind);
    enum es_exit status = es_list(&opt);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "expert-broker: stdout: write error: %s\n", strerror(errno));
        status = ES_EXIT_INTERNAL;
    }
    return status;
}

static int cmd_configure(int argc, char **argv)
{
    static const struct option options[] = {
        {"expert", required_argument, NULL, 'e'},
        {"read", required_argument, NULL, 'r'},
        SANDBOX_OPTIONS,
        STARTUP_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct es_configure_options opt = {0};
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":e:r:h", options, NULL)) != -1) {
        int handled = sandbox_option(c, optarg, &opt.sandbox);
        if (!handled)
            handled = startup_option(c, optarg, &opt.startup);
        if (handled < 0)
            return ES_EXIT_USAGE;
        if (handled)
            continue;
        switch (c) {
        case 'e':
            if (opt.expert)
                return usage_error("%s", "configure takes one expert");
            opt.expert = optarg;
            break;
        case 'r': opt.capture_path = optarg; break;
        case ':': return usage_error("option '%s' needs a value", argv[optind - 1]);
        case 'h': fputs(usage_text, stdout); return ES_EXIT_OK;
        default: return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (!opt.expert && optind < argc)
        opt.expert = argv[optind++];
    if (!opt.expert)
        return usage_error("%s", "configure needs an expert: -e EXPERT.so");
    if (optind < argc)
        return usage_error("configure takes one expert, not also '%s'", argv[optind]);
    return es_configure(&opt);
}

static int cmd_check(int argc, char **argv)
{
    static const struct option options[] = {
        {"json", no_argument, NULL, OPT_JSON},
        SANDBOX_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct es_check_options opt = {.out = stdout};
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        int handled = sandbox_option(c, optarg, &opt.sandbox);
        if (handled < 0)
            return ES_EXIT_USAGE;
        if (handled)
            continue;
        switch (c) {
        case ':': return usage_error("option '%s' needs a value", argv[optind - 1]);
        case OPT_JSON: opt.json = true; break;
        case 'h': fputs(usage_text, stdout); return ES_EXIT_OK;
        default: return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("check takes no file, not '%s'", argv[optind]);
    return es_check(&opt);
}

int main(int argc, char **argv)
{
    /* A reader that goes away (`| head`) is a write error to report, not a
     * reason to die with results half written. */
    signal(SIGPIPE, SIG_IGN);
    /* Likewise a file size limit (`ulimit -f`) reached by the results or the
     * frame store: EFBIG from write(), reported with the file it concerns. */
    signal(SIGXFSZ, SIG_IGN);

    if (argc < 2)
        return usage_error("%s", "missing command: run, list, configure or check");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(usage_text, stdout);
        return ES_EXIT_OK;
    }
    if (!strcmp(cmd, "--version")) {
        printf("expert-broker %s\n", ES_VERSION);
        return ES_EXIT_OK;
    }
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "list"))
        return cmd_list(argc - 1, argv + 1);
    if (!strcmp(cmd, "check"))
        return cmd_check(argc - 1, argv + 1);
    if (!strcmp(cmd, "configure"))
        return cmd_configure(argc - 1, argv + 1);
    if (!strcmp(cmd, "faults"))
        return es_cli_faults(argc - 1, argv + 1);
    return usage_error("unknown command '%s' (expected run, list, configure, faults or check)", cmd);
}
