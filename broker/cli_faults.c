/*
 * cli_faults.c - `expert-broker faults`: the command line of the sweep
 * (broker/faults.c does the work; docs/fault-injection.md explains it).
 */
#include "cli_faults.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "faults.h"

static const char help_text[] =
    "Usage: expert-broker faults -r CAPTURE -e EXPERT.so [OPTIONS]\n"
    "\n"
    "Runs the expert once without faults to count its fault sites, then once\n"
    "per site with exactly one fault there:\n"
    "  allocation sites  the Nth ExpertAllocMemory/ExpertReallocMemory call\n"
    "                    fails (NULL, NMERR_OUT_OF_MEMORY), as --inject alloc=N\n"
    "  helper-call sites every helper from the Nth call on returns\n"
    "                    NMERR_EXPERT_TERMINATE, as --inject terminate=N (a user\n"
    "                    aborting the run at that moment)\n"
    "and reports, per site, whether the expert handled it, crashed (signal,\n"
    "last frame), ignored the terminate request (killed after the grace\n"
    "period), hung, or returned leaving memory allocated.  Ends with a verdict\n"
    "saying what to fix.\n"
    "\n"
    "Options:\n"
    "  -r, --read FILE        capture to run the expert over (pcap or pcapng)\n"
    "  -e, --expert FILE      the expert shared object (one)\n"
    "  -j, --jobs N           runs at once (default: number of CPUs)\n"
    "      --sample N         at most N sites of each kind (default 200); more\n"
    "                         are sampled: the first few, the last, and a\n"
    "                         random draw from between them, said in the report\n"
    "      --seed S           seed of that draw (default 1): the same seed, the\n"
    "                         same sites\n"
    "  -t, --timeout SECONDS  per run (default 30): an expert still running then\n"
    "                         is asked to stop\n"
    "      --grace SECONDS    then killed if it has not returned (default 1)\n"
    "      --json             JSON Lines instead of the table: one object per\n"
    "                         site, then a summary (the table goes to stderr)\n"
    "  -o, --output FILE      write the report (or the JSON) to FILE\n"
    "  -q, --quiet            no progress lines and, with --json, no table on\n"
    "                         stderr\n"
    "  -h, --help             this text\n"
    "\n"
    "Exit status:\n"
    "  0  clean: every fault was handled\n"
    "  1  findings: see the verdict\n"
    "  2  bad command line\n"
    "  3  the capture cannot be used\n"
    "  4  the expert cannot be used (missing, not loadable, Register failed)\n"
    "  5  the broker itself failed, or could not run some sites\n"
    "  6  a layer demanded with --require is not available\n"
    "  128+N  interrupted by signal N; the sites run so far are reported\n"
    "\n"
    "Examples:\n"
    "  expert-broker faults -r trace.pcap -e myexpert.so\n"
    "  expert-broker faults -r trace.pcap -e myexpert.so --sample 50 --seed 7 -j 2\n"
    "  expert-broker faults -r trace.pcap -e myexpert.so --json -o sweep.jsonl\n"
    "  expert-broker run -r trace.pcap -e myexpert.so --inject alloc=3   # one site again\n"
    "\n"
    "See docs/fault-injection.md.\n";

__attribute__((format(printf, 1, 2))) static int faults_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "expert-broker: faults: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'expert-broker faults --help'.\n");
    va_end(ap);
    return ES_EXIT_USAGE;
}

static bool parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || v < min || v > max)
        return false;
    *out = v;
    return true;
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

enum { OPT_SAMPLE = 1000, OPT_SEED, OPT_GRACE, OPT_JSON };

int es_cli_faults(int argc, char **argv)
{
    static const struct option options[] = {
        {"read", required_argument, NULL, 'r'},
        {"expert", required_argument, NULL, 'e'},
        {"jobs", required_argument, NULL, 'j'},
        {"sample", required_argument, NULL, OPT_SAMPLE},
        {"seed", required_argument, NULL, OPT_SEED},
        {"timeout", required_argument, NULL, 't'},
        {"grace", required_argument, NULL, OPT_GRACE},
        {"json", no_argument, NULL, OPT_JSON},
        {"output", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct es_faults_options opt = {.grace_seconds = -1, .handle_signals = true};
    const char *output_path = NULL;
    bool json = false, quiet = false;
    uint64_t value;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "r:e:j:t:o:qh", options, NULL)) != -1) {
        switch (c) {
        case 'r':
            opt.capture_path = optarg;
            break;
        case 'e':
            if (opt.expert)
                return faults_usage_error("%s", "one expert at a time: -e EXPERT.so once");
            opt.expert = optarg;
            break;
        case 'j':
            if (!parse_count(optarg, 1, 1024, &value))
                return faults_usage_error("--jobs takes a number from 1 to 1024, not '%s'", optarg);
            opt.jobs = (unsigned)value;
            break;
        case OPT_SAMPLE:
            if (!parse_count(optarg, 1, UINT32_MAX, &value))
                return faults_usage_error("--sample takes a number of sites from 1, not '%s'", optarg);
            opt.sample = value;
            break;
        case OPT_SEED:
            if (!parse_count(optarg, 1, UINT64_MAX, &value))
                return faults_usage_error("--seed takes a number from 1, not '%s'", optarg);
            opt.seed = value;
            break;
        case 't':
            if (!parse_seconds(optarg, &opt.timeout_seconds) || opt.timeout_seconds <= 0)
                return faults_usage_error("--timeout takes seconds above 0, not '%s'", optarg);
            break;
        case OPT_GRACE:
            if (!parse_seconds(optarg, &opt.grace_seconds))
                return faults_usage_error("--grace takes seconds, not '%s'", optarg);
            break;
        case OPT_JSON:
            json = true;
            break;
        case 'o':
            output_path = optarg;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            fputs(help_text, stdout);
            return ES_EXIT_OK;
        default:
            return faults_usage_error("%s", "unknown option");
        }
    }
    /* The expert may also follow the options: `faults -r x.pcap a.so`. */
    for (int i = optind; i < argc; i++) {
        if (opt.expert)
            return faults_usage_error("%s", "one expert at a time");
        opt.expert = argv[i];
    }
    if (!opt.capture_path)
        return faults_usage_error("%s", "faults needs a capture: -r CAPTURE");
    if (!opt.expert)
        return faults_usage_error("%s", "faults needs an expert: -e EXPERT.so");

    FILE *out = stdout;
    if (output_path && strcmp(output_path, "-") != 0) {
        out = fopen(output_path, "we");
        if (!out) {
            fprintf(stderr, "expert-broker: %s: cannot create: %s\n", output_path, strerror(errno));
            return ES_EXIT_USAGE;
        }
    }
    opt.diagnostics = stderr;
    opt.progress = !quiet && isatty(STDERR_FILENO);

    struct es_faults_report report;
    enum es_exit status = es_faults(&opt, &report);
    /* A report is worth writing whenever the expert ran: after findings,
     * and after an interrupt (the sites run so far).  When it could not
     * run at all, es_faults has said why on stderr. */
    bool usable = report.baseline_ran && !es_outcome_is_load_failure(report.baseline_outcome) &&
                  report.baseline_outcome != ES_OUTCOME_NOT_RUN;
    int written = 0;
    if (usable) {
        if (json) {
            written = es_faults_write_json(out, &report);
            if (!quiet)
                es_faults_write_table(stderr, &report);
        } else {
            written = es_faults_write_table(out, &report);
        }
    }
    int saved = errno;
    if (written == 0 && fflush(out) != 0) {
        written = -1;
        saved = errno;
    }
    if (out != stdout && fclose(out) != 0 && written == 0) {
        written = -1;
        saved = errno;
    }
    if (written != 0) {
        fprintf(stderr, "expert-broker: %s: write error: %s\n", output_path ? output_path : "stdout",
                strerror(saved));
        status = ES_EXIT_INTERNAL;
    }
    es_faults_report_free(&report);
    return (int)status;
}
