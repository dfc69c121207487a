/*
 * brokerrun.c - es_run with a watched output (see brokerrun.h).
 */
#include "brokerrun.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "broker.h"

/* Lines longer than this are cut for the callback (and flagged by being
 * exactly this long); the broker's records that the bench reads are short. */
#define LINE_CAP 16384

struct line_stream {
    line_callback on_line;
    void *ctx;
    int forward_fd;
    size_t len;
    char line[LINE_CAP];
};

static ssize_t line_stream_write(void *cookie, const char *buf, size_t size)
{
    struct line_stream *s = cookie;
    uint64_t at = now_ns();
    if (s->forward_fd >= 0) {
        for (size_t done = 0; done < size;) {
            ssize_t n = write(s->forward_fd, buf + done, size - done);
            if (n <= 0)
                return -1;
            done += (size_t)n;
        }
    }
    if (!s->on_line)
        return (ssize_t)size;
    for (size_t i = 0; i < size; i++) {
        if (buf[i] == '\n') {
            s->line[s->len < LINE_CAP ? s->len : LINE_CAP - 1] = '\0';
            s->on_line(s->ctx, s->line, s->len < LINE_CAP ? s->len : LINE_CAP - 1, at);
            s->len = 0;
        } else if (s->len < LINE_CAP - 1) {
            s->line[s->len++] = buf[i];
        } else {
            s->len = LINE_CAP;   /* remember that it was cut */
        }
    }
    return (ssize_t)size;
}

static int line_stream_close(void *cookie)
{
    struct line_stream *s = cookie;
    int rc = s->forward_fd >= 0 ? close(s->forward_fd) : 0;
    free(s);
    return rc;
}

FILE *line_stream_open(line_callback on_line, void *ctx, int forward_fd)
{
    struct line_stream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->on_line = on_line;
    s->ctx = ctx;
    s->forward_fd = forward_fd;
    cookie_io_functions_t io = {.write = line_stream_write, .close = line_stream_close};
    FILE *f = fopencookie(s, "w", io);
    if (!f) {
        free(s);
        return NULL;
    }
    /* A buffer larger than any record, so that each of the broker's
     * flushes arrives as whole lines and is timed when it happens. */
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    return f;
}

bool json_line_is(const char *line, size_t len, const char *type)
{
    char prefix[64];
    int n = snprintf(prefix, sizeof prefix, "{\"type\":\"%s\"", type);
    return n > 0 && (size_t)n <= len && !memcmp(line, prefix, (size_t)n);
}

bool json_line_integer(const char *line, size_t len, const char *key, long long *out)
{
    char pattern[96];
    int n = snprintf(pattern, sizeof pattern, "\"%s\":", key);
    if (n <= 0 || (size_t)n >= sizeof pattern)
        return false;
    const char *p = memmem(line, len, pattern, (size_t)n);
    if (!p)
        return false;
    p += n;
    char *end;
    long long v = strtoll(p, &end, 10);
    if (end == p)
        return false;
    *out = v;
    return true;
}

int broker_run(const struct broker_request *req, struct broker_result *out)
{
    memset(out, 0, sizeof *out);
    if (req->count > BROKER_MAX_EXPERTS)
        return -1;
    int forward = -1;
    if (req->output_path && (forward = open(req->output_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
        return -1;
    FILE *json = line_stream_open(req->on_line, req->ctx, forward);
    if (!json) {
        if (forward >= 0)
            close(forward);
        return -1;
    }
    struct es_run_options opt;
    memset(&opt, 0, sizeof opt);
    opt.capture_path = req->capture;
    opt.experts = req->experts;
    opt.expert_count = req->count;
    opt.heap_quota = req->heap_quota;
    opt.jobs = req->jobs ? req->jobs : 1;
    opt.worker_path = req->worker_path;
    opt.json = json;
    opt.diagnostics = stderr;
    opt.grace_seconds = -1;   /* the broker's default */
    struct es_run_result result;
    enum es_exit code = es_run(&opt, &result);
    fclose(json);
    out->exit_code = (int)code;
    out->count = result.count;
    for (size_t i = 0; i < result.count && i < BROKER_MAX_EXPERTS; i++) {
        const struct es_outcome *o = &result.outcomes[i];
        out->experts[i].kind = (int)o->kind;
        out->experts[i].signal = o->signal;
        out->experts[i].events = o->events;
        out->experts[i].frames_read = o->frames_read;
        out->experts[i].elapsed_seconds = o->elapsed_seconds;
        out->experts[i].cpu_seconds = o->cpu_seconds;
    }
    es_run_result_free(&result);
    return out->count == req->count ? 0 : -1;
}

bool broker_all_done(const struct broker_result *r)
{
    for (size_t i = 0; i < r->count; i++)
        if (r->experts[i].kind != ES_OUTCOME_DONE)
            return false;
    return r->count > 0;
}
