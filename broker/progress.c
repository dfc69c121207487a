/* progress.c - progress lines fed by ExpertIndicateStatus. */
#include "progress.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TERMINAL_INTERVAL 0.25
#define LOG_INTERVAL 5.0
#define NAME_WIDTH 28

struct expert_line {
    bool running;
    char name[NAME_WIDTH + 1];
    uint32_t status;
    int32_t percent;
    uint64_t frames;
    struct timespec started;
};

struct es_progress {
    FILE *to;
    bool terminal;
    size_t count;
    size_t drawn;              /* lines currently on the terminal */
    struct expert_line *lines;
};

static const char *const status_words[] = {"inactive", "starting", "running", "problem", "aborted", "done"};

struct es_progress *es_progress_new(FILE *to, size_t experts, bool quiet)
{
    struct es_progress *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->lines = calloc(experts ? experts : 1, sizeof *p->lines);
    if (!p->lines) {
        free(p);
        return NULL;
    }
    p->count = experts;
    p->to = quiet ? NULL : to;
    p->terminal = p->to && isatty(fileno(p->to));
    return p;
}

void es_progress_free(struct es_progress *p)
{
    if (!p)
        return;
    free(p->lines);
    free(p);
}

double es_progress_interval(const struct es_progress *p)
{
    if (!p || !p->to)
        return 0;
    return p->terminal ? TERMINAL_INTERVAL : LOG_INTERVAL;
}

/* Expert names are untrusted bytes: keep printable ASCII only, so that a
 * name cannot move the cursor or change colours on the analyst's terminal. */
static void set_name(struct expert_line *l, const char *name)
{
    size_t n = 0;
    for (const char *c = name; c && *c && n < NAME_WIDTH; c++)
        l->name[n++] = (*c >= 0x20 && *c < 0x7f) ? *c : '?';
    l->name[n] = '\0';
}

void es_progress_started(struct es_progress *p, size_t index, const char *name)
{
    if (!p || index >= p->count)
        return;
    struct expert_line *l = &p->lines[index];
    memset(l, 0, sizeof *l);
    const char *base = name ? strrchr(name, '/') : NULL;
    set_name(l, base ? base + 1 : name);
    l->running = true;
    l->status = 1;   /* starting */
    l->percent = -1;
    clock_gettime(CLOCK_MONOTONIC, &l->started);
}

void es_progress_named(struct es_progress *p, size_t index, const char *name)
{
    if (p && index < p->count && name && *name)
        set_name(&p->lines[index], name);
}

void es_progress_status(struct es_progress *p, size_t index, uint32_t status, int32_t percent)
{
    if (!p || index >= p->count)
        return;
    p->lines[index].status = status;
    if (percent >= 0)
        p->lines[index].percent = percent;
}

void es_progress_frames(struct es_progress *p, size_t index, uint64_t frames_read)
{
    if (p && index < p->count)
        p->lines[index].frames = frames_read;
}

void es_progress_ended(struct es_progress *p, size_t index)
{
    if (p && index < p->count)
        p->lines[index].running = false;
}

static void format_line(const struct expert_line *l, char *buf, size_t len)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double elapsed = (double)(now.tv_sec - l->started.tv_sec) + (double)(now.tv_nsec - l->started.tv_nsec) / 1e9;
    double rate = elapsed > 0 ? (double)l->frames / elapsed : 0;
    char percent[16] = "  -";
    if (l->percent >= 0)
        snprintf(percent, sizeof percent, "%3d%%", l->percent);
    const char *state = l->status < sizeof status_words / sizeof *status_words ? status_words[l->status]
                                                                                : "unknown";
    snprintf(buf, len, "%-*s %5s %12.0f frames/s %8.1fs  %s", NAME_WIDTH, l->name, percent, rate, elapsed,
             state);
}

void es_progress_clear(struct es_progress *p)
{
    if (!p || !p->terminal || p->drawn == 0)
        return;
    fprintf(p->to, "\033[%zuA", p->drawn);
    for (size_t i = 0; i < p->drawn; i++)
        fputs("\033[2K\n", p->to);
    fprintf(p->to, "\033[%zuA", p->drawn);
    p->drawn = 0;
    fflush(p->to);
}

void es_progress_tick(struct es_progress *p)
{
    if (!p || !p->to)
        return;
    char line[160];
    if (p->terminal)
        es_progress_clear(p);
    for (size_t i = 0; i < p->count; i++) {
        if (!p->lines[i].running)
            continue;
        format_line(&p->lines[i], line, sizeof line);
        if (p->terminal) {
            fprintf(p->to, "\033[2K%s\n", line);
            p->drawn++;
        } else {
            fprintf(p->to, "expert-broker: progress: %s\n", line);
        }
    }
    fflush(p->to);
}
