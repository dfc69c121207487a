/*
 * util.c - clocks, formatting, and running a sample in a child process.
 *
 * Most samples run in a forked child: the expert's globals, libnmapi's
 * state and the allocator under test start fresh every time, resident
 * memory can be measured from zero, and wait4 hands back the CPU time of
 * the child and of everything it reaped (a broker's workers and their init).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double seconds_between(uint64_t start_ns, uint64_t end_ns)
{
    return (double)(end_ns - start_ns) / 1e9;
}

double rusage_cpu_seconds(const struct rusage *ru)
{
    return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6 + (double)ru->ru_stime.tv_sec +
           (double)ru->ru_stime.tv_usec / 1e6;
}

const char *fmt_seconds(char *buf, size_t len, double seconds)
{
    if (seconds < 0) {
        /* A difference of medians can be negative: noise, or a layer that
         * saves work elsewhere. */
        char positive[32];
        snprintf(buf, len, "-%s", fmt_seconds(positive, sizeof positive, -seconds));
        return buf;
    }
    if (!(seconds == seconds))   /* NaN: not measured */
        snprintf(buf, len, "-");
    else if (seconds >= 1)
        snprintf(buf, len, "%.3f s", seconds);
    else if (seconds >= 1e-3)
        snprintf(buf, len, "%.3f ms", seconds * 1e3);
    else if (seconds >= 1e-6)
        snprintf(buf, len, "%.1f us", seconds * 1e6);
    else
        snprintf(buf, len, "%.1f ns", seconds * 1e9);
    return buf;
}

const char *fmt_ratio(char *buf, size_t len, double ratio)
{
    if (!(ratio == ratio))
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%.3fx", ratio);
    return buf;
}

const char *fmt_value(char *buf, size_t len, double value, int decimals, const char *suffix)
{
    if (!(value == value))
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%.*f%s", decimals, value, suffix);
    return buf;
}

void bench_flush(void)
{
    fflush(stdout);
    fflush(stderr);
}

bool file_exists(const char *path)
{
    struct stat st;
    return path && path[0] && stat(path, &st) == 0;
}

bool format_path(char *out, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= len) {
        if (len)
            out[0] = '\0';
        return false;
    }
    return true;
}

bool program_available(const char *name)
{
    if (strchr(name, '/'))
        return access(name, X_OK) == 0;
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
    char dir[4096];
    while (*path) {
        size_t n = strcspn(path, ":");
        if (n > 0 && n < sizeof dir - 1) {
            char candidate[4096 + 256];
            memcpy(dir, path, n);
            dir[n] = '\0';
            snprintf(candidate, sizeof candidate, "%s/%s", dir, name);
            if (access(candidate, X_OK) == 0)
                return true;
        }
        path += n;
        if (*path == ':')
            path++;
    }
    return false;
}

static ssize_t read_fully(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

static int write_fully(int fd, const void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, (const char *)buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

int run_in_child(int (*fn)(void *arg, void *result), void *arg, void *result, size_t result_size,
                 double *wall_seconds, struct rusage *ru)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0)
        return -1;
    bench_flush();
    uint64_t start = now_ns();
    pid_t pid = fork();
    if (pid < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        return -1;
    }
    if (pid == 0) {
        close(pipefd[0]);
        memset(result, 0, result_size);
        int rc = fn(arg, result);
        if (rc == 0 && write_fully(pipefd[1], result, result_size) != 0)
            rc = 1;
        bench_flush();
        /* _exit: the parent's atexit handlers and stdio buffers are not
         * the child's to run or flush. */
        _exit(rc == 0 ? 0 : 1);
    }
    close(pipefd[1]);
    ssize_t got = read_fully(pipefd[0], result, result_size);
    close(pipefd[0]);
    int status = 0;
    struct rusage usage;
    memset(&usage, 0, sizeof usage);
    while (wait4(pid, &status, 0, &usage) < 0 && errno == EINTR)
        ;
    uint64_t end = now_ns();
    if (wall_seconds)
        *wall_seconds = seconds_between(start, end);
    if (ru)
        *ru = usage;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || got != (ssize_t)result_size)
        return -1;
    return 0;
}

int run_program(char *const argv[], const char *out_path, double *wall_seconds, struct rusage *ru)
{
    bench_flush();
    uint64_t start = now_ns();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        int out = out_path ? open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644) : devnull;
        if (devnull < 0 || out < 0)
            _exit(127);
        dup2(devnull, 0);
        dup2(out, 1);
        dup2(devnull, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    struct rusage usage;
    memset(&usage, 0, sizeof usage);
    while (wait4(pid, &status, 0, &usage) < 0 && errno == EINTR)
        ;
    if (wall_seconds)
        *wall_seconds = seconds_between(start, now_ns());
    if (ru)
        *ru = usage;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return -1;
}

/* The total instruction count callgrind writes in its output file
 * ("totals: N" or, in older versions, "summary: N"). */
static double callgrind_total(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[512];
    double total = -1;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "totals:", 7))
            total = strtod(line + 7, NULL);
        else if (total < 0 && !strncmp(line, "summary:", 8))
            total = strtod(line + 8, NULL);
    }
    fclose(f);
    return total;
}

static double callgrind_once(const struct bench_config *cfg, const char *kind, char *const args[],
                             unsigned long units)
{
    char out_file[] = "/tmp/es-bench-callgrind-XXXXXX";
    int fd = mkstemp(out_file);
    if (fd < 0)
        return -1;
    close(fd);
    char out_opt[128], units_text[32];
    snprintf(out_opt, sizeof out_opt, "--callgrind-out-file=%s", out_file);
    snprintf(units_text, sizeof units_text, "%lu", units);
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)"valgrind";
    argv[argc++] = (char *)"--tool=callgrind";
    argv[argc++] = (char *)"--quiet";
    argv[argc++] = out_opt;
    argv[argc++] = (char *)cfg->self_path;
    argv[argc++] = (char *)"--inner";
    argv[argc++] = (char *)kind;
    for (int i = 0; args[i] && argc < 29; i++)
        argv[argc++] = args[i];
    argv[argc++] = units_text;
    argv[argc] = NULL;
    int rc = run_program(argv, NULL, NULL, NULL);
    double total = rc == 0 ? callgrind_total(out_file) : -1;
    unlink(out_file);
    return total;
}

double callgrind_per_unit(const struct bench_config *cfg, const char *kind, char *const args[],
                          unsigned long small, unsigned long large)
{
    if (!program_available("valgrind") || large <= small)
        return -1;
    double a = callgrind_once(cfg, kind, args, small);
    double b = callgrind_once(cfg, kind, args, large);
    if (a < 0 || b < 0)
        return -1;
    return (b - a) / (double)(large - small);
}
