/*
 * harness.c - see harness.h.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* ------------------------------------------------------------------------ */
/* Processes                                                                */
/* ------------------------------------------------------------------------ */

struct buffer {
    char *data;
    size_t len;
    size_t cap;
};

/* Appends and keeps the buffer NUL-terminated; aborts on allocation failure,
 * since a test that lost output would assert on the wrong thing. */
static void buffer_append(struct buffer *b, const char *data, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + len + 1)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (grown == NULL)
            abort();
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

/* A job while it runs. */
struct running {
    struct hx_job *job;
    pid_t pid;
    int fds[2];                /* read ends of stdout and stderr; -1 once at EOF */
    struct buffer captured[2];
};

static int spawn_job(struct running *r)
{
    int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
    posix_spawn_file_actions_t actions;
    bool actions_ready = false;
    int saved;

    /* O_CLOEXEC: when several jobs run at once, no child may inherit another
     * job's pipe, or that job's EOF would wait for the wrong process. */
    if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0)
        goto fail;
    if ((errno = posix_spawn_file_actions_init(&actions)) != 0)
        goto fail;
    actions_ready = true;
    if ((errno = posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)) != 0
        || (errno = posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO)) != 0
        || (errno = posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO)) != 0)
        goto fail;
    if ((errno = posix_spawn(&r->pid, r->job->argv[0], &actions, NULL,
                             (char *const *)r->job->argv, environ)) != 0)
        goto fail;
    posix_spawn_file_actions_destroy(&actions);
    close(out_pipe[1]);
    close(err_pipe[1]);
    r->fds[0] = out_pipe[0];
    r->fds[1] = err_pipe[0];
    return 0;

fail:
    saved = errno;
    if (actions_ready)
        posix_spawn_file_actions_destroy(&actions);
    for (int i = 0; i < 2; i++) {
        if (out_pipe[i] >= 0)
            close(out_pipe[i]);
        if (err_pipe[i] >= 0)
            close(err_pipe[i]);
    }
    errno = saved;
    return -1;
}

/* Both pipes are at EOF: collect the exit status and hand the output over. */
static int finish_job(struct running *r)
{
    int status;
    pid_t got;
    do
        got = waitpid(r->pid, &status, 0);
    while (got < 0 && errno == EINTR);
    if (got < 0)
        return -1;

    struct hx_result *res = &r->job->result;
    res->exited = WIFEXITED(status);
    res->exit_code = res->exited ? WEXITSTATUS(status) : -1;
    res->signaled = WIFSIGNALED(status);
    res->term_signal = res->signaled ? WTERMSIG(status) : 0;
    for (int i = 0; i < 2; i++)
        buffer_append(&r->captured[i], "", 0);   /* never hand out NULL */
    res->out = r->captured[0].data;
    res->out_len = r->captured[0].len;
    res->err = r->captured[1].data;
    res->err_len = r->captured[1].len;
    memset(r->captured, 0, sizeof(r->captured));
    return 0;
}

int hx_run_many(struct hx_job *jobs, size_t count, unsigned parallel)
{
    if (parallel == 0)
        parallel = 1;
    struct running *slots = calloc(parallel, sizeof(*slots));
    struct pollfd *polled = calloc(2 * (size_t)parallel, sizeof(*polled));
    if (slots == NULL || polled == NULL) {
        free(slots);
        free(polled);
        errno = ENOMEM;
        return -1;
    }
    for (size_t i = 0; i < count; i++)
        memset(&jobs[i].result, 0, sizeof(jobs[i].result));

    size_t next = 0, active = 0;
    int rc = 0;
    while (rc == 0 && (next < count || active > 0)) {
        /* Fill the free slots. */
        for (unsigned s = 0; s < parallel && next < count; s++) {
            if (slots[s].job != NULL)
                continue;
            memset(&slots[s], 0, sizeof(slots[s]));
            slots[s].job = &jobs[next++];
            if (spawn_job(&slots[s]) != 0) {
                slots[s].job = NULL;
                rc = -1;
                break;
            }
            active++;
        }
        if (rc != 0 || active == 0)
            break;

        nfds_t n = 0;
        for (unsigned s = 0; s < parallel; s++)
            for (int k = 0; k < 2; k++)
                if (slots[s].job != NULL && slots[s].fds[k] >= 0)
                    polled[n++] = (struct pollfd){.fd = slots[s].fds[k], .events = POLLIN};
        if (poll(polled, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            rc = -1;
            break;
        }

        for (unsigned s = 0; s < parallel; s++) {
            struct running *r = &slots[s];
            if (r->job == NULL)
                continue;
            for (int k = 0; k < 2; k++) {
                if (r->fds[k] < 0)
                    continue;
                bool ready = false;
                for (nfds_t p = 0; p < n; p++)
                    if (polled[p].fd == r->fds[k] && polled[p].revents != 0)
                        ready = true;
                if (!ready)
                    continue;
                char chunk[65536];
                ssize_t got = read(r->fds[k], chunk, sizeof(chunk));
                if (got > 0) {
                    buffer_append(&r->captured[k], chunk, (size_t)got);
                } else if (got == 0 || errno != EINTR) {
                    close(r->fds[k]);
                    r->fds[k] = -1;
                }
            }
            if (r->fds[0] < 0 && r->fds[1] < 0) {
                if (finish_job(r) != 0)
                    rc = -1;
                r->job = NULL;
                active--;
            }
        }
    }

    /* Only reached with jobs still running after an error: do not leave
     * them behind. */
    for (unsigned s = 0; s < parallel; s++) {
        if (slots[s].job == NULL)
            continue;
        kill(slots[s].pid, SIGKILL);
        waitpid(slots[s].pid, NULL, 0);
        for (int k = 0; k < 2; k++) {
            if (slots[s].fds[k] >= 0)
                close(slots[s].fds[k]);
            free(slots[s].captured[k].data);
        }
    }
    free(slots);
    free(polled);
    return rc;
}

int hx_run(const char *const argv[], struct hx_result *result)
{
    struct hx_job job = {.argv = argv};
    int rc = hx_run_many(&job, 1, 1);
    *result = job.result;
    return rc;
}

void hx_result_free(struct hx_result *result)
{
    free(result->out);
    free(result->err);
    memset(result, 0, sizeof(*result));
}

const char *hx_describe_status(const struct hx_result *result, char *buf, size_t len)
{
    if (result->exited)
        snprintf(buf, len, "exit %d", result->exit_code);
    else if (result->signaled)
        snprintf(buf, len, "signal %d (%s)", result->term_signal, strsignal(result->term_signal));
    else
        snprintf(buf, len, "did not run");
    return buf;
}

size_t hx_count_lines(const char *text, size_t len)
{
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n')
            lines++;
    if (len > 0 && text[len - 1] != '\n')
        lines++;
    return lines;
}

bool hx_contains(const char *text, const char *needle)
{
    return text != NULL && needle != NULL && strstr(text, needle) != NULL;
}

/* ------------------------------------------------------------------------ */
/* Files                                                                    */
/* ------------------------------------------------------------------------ */

char *hx_make_temp_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    if (tmp == NULL || *tmp == '\0')
        tmp = "/tmp";
    char *path = hx_path_join(tmp, "es-test-XXXXXX");
    if (path != NULL && mkdtemp(path) == NULL) {
        free(path);
        return NULL;
    }
    return path;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

int hx_remove_tree(const char *path)
{
    return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *hx_path_join(const char *dir, const char *name)
{
    size_t len = strlen(dir) + 1 + strlen(name) + 1;
    char *path = malloc(len);
    if (path != NULL)
        snprintf(path, len, "%s/%s", dir, name);
    return path;
}

int hx_write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int saved = errno;
            close(fd);
            errno = saved;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return close(fd);
}

char *hx_read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct buffer b = {0};
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            close(fd);
            free(b.data);
            errno = saved;
            return NULL;
        }
        if (n == 0)
            break;
        buffer_append(&b, chunk, (size_t)n);
    }
    close(fd);
    buffer_append(&b, "", 0);
    if (len != NULL)
        *len = b.len;
    return b.data;
}

/* ------------------------------------------------------------------------ */
/* JSON                                                                     */
/* ------------------------------------------------------------------------ */

#define JSON_MAX_DEPTH 64

struct parser {
    const unsigned char *at;
    const unsigned char *end;
    char *error;
    size_t error_len;
    bool failed;
};

__attribute__((format(printf, 2, 3)))
static void parse_error(struct parser *p, const char *fmt, ...)
{
    if (p->failed)
        return;   /* keep the first reason: it is the one that explains */
    p->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->error, p->error_len, fmt, ap);
    va_end(ap);
}

static void skip_space(struct parser *p)
{
    while (p->at < p->end && (*p->at == ' ' || *p->at == '\t' || *p->at == '\n' || *p->at == '\r'))
        p->at++;
}

static bool literal(struct parser *p, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(p->end - p->at) >= n && memcmp(p->at, word, n) == 0) {
        p->at += n;
        return true;
    }
    return false;
}

static void put_utf8(struct buffer *b, uint32_t cp)
{
    char enc[4];
    size_t n;
    if (cp < 0x80) {
        enc[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        enc[0] = (char)(0xC0 | (cp >> 6));
        enc[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        enc[0] = (char)(0xE0 | (cp >> 12));
        enc[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        enc[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        enc[0] = (char)(0xF0 | (cp >> 18));
        enc[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        enc[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        enc[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    buffer_append(b, enc, n);
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0 if it is not one. */
static size_t utf8_sequence(const unsigned char *s, const unsigned char *end)
{
    size_t avail = (size_t)(end - s);
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return avail >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (avail < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && s[1] < 0xA0)
            return 0;   /* overlong */
        if (c == 0xED && s[1] >= 0xA0)
            return 0;   /* surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (avail < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && s[1] < 0x90)
            return 0;   /* overlong */
        if (c == 0xF4 && s[1] >= 0x90)
            return 0;   /* above U+10FFFF */
        return 4;
    }
    return 0;
}

static int hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool read_hex4(struct parser *p, uint32_t *out)
{
    if (p->end - p->at < 4) {
        parse_error(p, "short \\u escape");
        return false;
    }
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit(p->at[i]);
        if (d < 0) {
            parse_error(p, "bad hex digit in \\u escape");
            return false;
        }
        v = v * 16 + (uint32_t)d;
    }
    p->at += 4;
    *out = v;
    return true;
}

/* After the opening quote; leaves p->at after the closing one. */
static bool parse_string_body(struct parser *p, char **out, size_t *out_len)
{
    struct buffer b = {0};
    buffer_append(&b, "", 0);
    while (!p->failed) {
        if (p->at >= p->end) {
            parse_error(p, "unterminated string");
            break;
        }
        unsigned char c = *p->at;
        if (c == '"') {
            p->at++;
            *out = b.data;
            *out_len = b.len;
            return true;
        }
        if (c < 0x20) {
            parse_error(p, "raw control character 0x%02x in a string", c);
            break;
        }
        if (c != '\\') {
            size_t n = utf8_sequence(p->at, p->end);
            if (n == 0) {
                parse_error(p, "invalid UTF-8 byte 0x%02x in a string", c);
                break;
            }
            buffer_append(&b, (const char *)p->at, n);
            p->at += n;
            continue;
        }
        p->at++;
        if (p->at >= p->end) {
            parse_error(p, "unterminated escape");
            break;
        }
        unsigned char e = *p->at++;
        const char *simple = NULL;
        switch (e) {
        case '"': simple = "\""; break;
        case '\\': simple = "\\"; break;
        case '/': simple = "/"; break;
        case 'b': simple = "\b"; break;
        case 'f': simple = "\f"; break;
        case 'n': simple = "\n"; break;
        case 'r': simple = "\r"; break;
        case 't': simple = "\t"; break;
        case 'u': break;
        default:
            parse_error(p, "unknown escape \\%c", e);
            continue;
        }
        if (simple != NULL) {
            buffer_append(&b, simple, 1);
            continue;
        }
        uint32_t cp;
        if (!read_hex4(p, &cp))
            break;
        if (cp >= 0xDC00 && cp <= 0xDFFF) {
            parse_error(p, "unpaired low surrogate \\u%04x", cp);
            break;
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t low;
            if (!literal(p, "\\u") || !read_hex4(p, &low) || low < 0xDC00 || low > 0xDFFF) {
                parse_error(p, "unpaired high surrogate \\u%04x", cp);
                break;
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        put_utf8(&b, cp);
    }
    free(b.data);
    return false;
}

static bool parse_value(struct parser *p, struct hx_json *v, int depth);

static bool parse_number(struct parser *p, struct hx_json *v)
{
    const unsigned char *start = p->at;
    if (p->at < p->end && *p->at == '-')
        p->at++;
    if (p->at >= p->end) {
        parse_error(p, "truncated number");
        return false;
    }
    if (*p->at == '0') {
        p->at++;
    } else if (*p->at >= '1' && *p->at <= '9') {
        while (p->at < p->end && *p->at >= '0' && *p->at <= '9')
            p->at++;
    } else {
        parse_error(p, "bad number");
        return false;
    }
    if (p->at < p->end && *p->at == '.') {
        p->at++;
        if (p->at >= p->end || *p->at < '0' || *p->at > '9') {
            parse_error(p, "no digit after the decimal point");
            return false;
        }
        while (p->at < p->end && *p->at >= '0' && *p->at <= '9')
            p->at++;
    }
    if (p->at < p->end && (*p->at == 'e' || *p->at == 'E')) {
        p->at++;
        if (p->at < p->end && (*p->at == '+' || *p->at == '-'))
            p->at++;
        if (p->at >= p->end || *p->at < '0' || *p->at > '9') {
            parse_error(p, "no digit in the exponent");
            return false;
        }
        while (p->at < p->end && *p->at >= '0' && *p->at <= '9')
            p->at++;
    }
    /* The grammar was checked above; strtod only converts (C locale). */
    size_t n = (size_t)(p->at - start);
    char text[512];
    if (n >= sizeof(text)) {
        parse_error(p, "number too long");
        return false;
    }
    memcpy(text, start, n);
    text[n] = '\0';
    v->type = HX_JSON_NUMBER;
    v->number = strtod(text, NULL);
    return true;
}

/* Grows a parallel items/keys array by one slot. */
static bool grow_members(struct hx_json *v, bool with_keys)
{
    struct hx_json *items = realloc(v->items, (v->count + 1) * sizeof(*items));
    if (items == NULL)
        return false;
    v->items = items;
    memset(&v->items[v->count], 0, sizeof(*items));
    if (with_keys) {
        char **keys = realloc(v->keys, (v->count + 1) * sizeof(*keys));
        if (keys == NULL)
            return false;
        v->keys = keys;
        v->keys[v->count] = NULL;
    }
    return true;
}

static bool parse_container(struct parser *p, struct hx_json *v, int depth, bool object)
{
    unsigned char close = object ? '}' : ']';
    v->type = object ? HX_JSON_OBJECT : HX_JSON_ARRAY;
    p->at++;   /* the opening bracket */
    skip_space(p);
    if (p->at < p->end && *p->at == close) {
        p->at++;
        return true;
    }
    for (;;) {
        if (!grow_members(v, object)) {
            parse_error(p, "out of memory");
            return false;
        }
        if (object) {
            skip_space(p);
            if (p->at >= p->end || *p->at != '"') {
                parse_error(p, "expected a member name");
                return false;
            }
            p->at++;
            char *key;
            size_t key_len;
            if (!parse_string_body(p, &key, &key_len))
                return false;
            v->keys[v->count] = key;
            for (size_t i = 0; i < v->count; i++)
                if (strcmp(v->keys[i], key) == 0) {
                    v->count++;   /* so that the key is freed with the rest */
                    parse_error(p, "duplicate member \"%s\"", key);
                    return false;
                }
            skip_space(p);
            if (p->at >= p->end || *p->at != ':') {
                v->count++;
                parse_error(p, "expected ':' after member \"%s\"", key);
                return false;
            }
            p->at++;
        }
        bool ok = parse_value(p, &v->items[v->count], depth + 1);
        v->count++;
        if (!ok)
            return false;
        skip_space(p);
        if (p->at < p->end && *p->at == ',') {
            p->at++;
            continue;
        }
        if (p->at < p->end && *p->at == close) {
            p->at++;
            return true;
        }
        parse_error(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
        return false;
    }
}

static bool parse_value(struct parser *p, struct hx_json *v, int depth)
{
    memset(v, 0, sizeof(*v));
    if (depth > JSON_MAX_DEPTH) {
        parse_error(p, "nested deeper than %d", JSON_MAX_DEPTH);
        return false;
    }
    skip_space(p);
    if (p->at >= p->end) {
        parse_error(p, "expected a value, found the end");
        return false;
    }
    switch (*p->at) {
    case '{':
        return parse_container(p, v, depth, true);
    case '[':
        return parse_container(p, v, depth, false);
    case '"':
        p->at++;
        v->type = HX_JSON_STRING;
        return parse_string_body(p, &v->string, &v->string_len);
    case 't':
    case 'f':
        v->type = HX_JSON_BOOL;
        v->boolean = *p->at == 't';
        if (literal(p, v->boolean ? "true" : "false"))
            return true;
        break;
    case 'n':
        v->type = HX_JSON_NULL;
        if (literal(p, "null"))
            return true;
        break;
    default:
        if (*p->at == '-' || (*p->at >= '0' && *p->at <= '9'))
            return parse_number(p, v);
        break;
    }
    parse_error(p, "unexpected character '%c'", *p->at);
    return false;
}

static void json_release(struct hx_json *v)
{
    for (size_t i = 0; i < v->count; i++) {
        json_release(&v->items[i]);
        if (v->keys != NULL)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->string);
}

struct hx_json *hx_json_parse(const char *text, size_t len, char *error, size_t error_len)
{
    char scratch[1];
    struct parser p = {
        .at = (const unsigned char *)text,
        .end = (const unsigned char *)text + len,
        .error = error != NULL ? error : scratch,
        .error_len = error != NULL ? error_len : sizeof(scratch),
    };
    struct hx_json *v = calloc(1, sizeof(*v));
    if (v == NULL) {
        parse_error(&p, "out of memory");
        return NULL;
    }
    if (parse_value(&p, v, 0)) {
        skip_space(&p);
        if (p.at != p.end)
            parse_error(&p, "text after the value at byte %zu", (size_t)(p.at - (const unsigned char *)text));
    }
    if (p.failed) {
        hx_json_free(v);
        return NULL;
    }
    return v;
}

void hx_json_free(struct hx_json *value)
{
    if (value == NULL)
        return;
    json_release(value);
    free(value);
}

const struct hx_json *hx_json_get(const struct hx_json *object, const char *key)
{
    if (object == NULL || object->type != HX_JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < object->count; i++)
        if (strcmp(object->keys[i], key) == 0)
            return &object->items[i];
    return NULL;
}

const char *hx_json_get_string(const struct hx_json *object, const char *key)
{
    const struct hx_json *v = hx_json_get(object, key);
    return v != NULL && v->type == HX_JSON_STRING ? v->string : NULL;
}

bool hx_json_get_number(const struct hx_json *object, const char *key, double *out)
{
    const struct hx_json *v = hx_json_get(object, key);
    if (v == NULL || v->type != HX_JSON_NUMBER)
        return false;
    *out = v->number;
    return true;
}

bool hx_json_is_null(const struct hx_json *object, const char *key)
{
    const struct hx_json *v = hx_json_get(object, key);
    return v != NULL && v->type == HX_JSON_NULL;
}

static void serialize_string(struct buffer *b, const char *s, size_t len)
{
    buffer_append(b, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            buffer_append(b, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            buffer_append(b, esc, 6);
        } else {
            buffer_append(b, (const char *)&s[i], 1);
        }
    }
    buffer_append(b, "\"", 1);
}

static void serialize_into(struct buffer *b, const struct hx_json *v)
{
    char num[64];
    switch (v->type) {
    case HX_JSON_NULL:
        buffer_append(b, "null", 4);
        break;
    case HX_JSON_BOOL:
        buffer_append(b, v->boolean ? "true" : "false", v->boolean ? 4 : 5);
        break;
    case HX_JSON_NUMBER:
        snprintf(num, sizeof(num), "%.17g", v->number);
        buffer_append(b, num, strlen(num));
        break;
    case HX_JSON_STRING:
        serialize_string(b, v->string, v->string_len);
        break;
    case HX_JSON_ARRAY:
    case HX_JSON_OBJECT:
        buffer_append(b, v->type == HX_JSON_OBJECT ? "{" : "[", 1);
        for (size_t i = 0; i < v->count; i++) {
            if (i > 0)
                buffer_append(b, ",", 1);
            if (v->type == HX_JSON_OBJECT) {
                serialize_string(b, v->keys[i], strlen(v->keys[i]));
                buffer_append(b, ":", 1);
            }
            serialize_into(b, &v->items[i]);
        }
        buffer_append(b, v->type == HX_JSON_OBJECT ? "}" : "]", 1);
        break;
    }
}

char *hx_json_serialize(const struct hx_json *value)
{
    struct buffer b = {0};
    buffer_append(&b, "", 0);
    if (value != NULL)
        serialize_into(&b, value);
    return b.data;
}

int hx_jsonl_parse(const char *text, size_t len, struct hx_jsonl *doc)
{
    memset(doc, 0, sizeof(*doc));
    size_t line = 0;
    const char *at = text, *end = text + len;
    while (at < end) {
        line++;
        const char *nl = memchr(at, '\n', (size_t)(end - at));
        if (nl == NULL) {
            doc->bad_line = line;
            snprintf(doc->error, sizeof(doc->error), "last line does not end with a newline");
            return -1;
        }
        char reason[200];
        struct hx_json *record = hx_json_parse(at, (size_t)(nl - at), reason, sizeof(reason));
        if (record == NULL || record->type != HX_JSON_OBJECT) {
            doc->bad_line = line;
            snprintf(doc->error, sizeof(doc->error), "%s",
                     record == NULL ? reason : "the line is not a JSON object");
            hx_json_free(record);
            return -1;
        }
        struct hx_json **grown = realloc(doc->records, (doc->count + 1) * sizeof(*grown));
        if (grown == NULL) {
            hx_json_free(record);
            doc->bad_line = line;
            snprintf(doc->error, sizeof(doc->error), "out of memory");
            return -1;
        }
        doc->records = grown;
        doc->records[doc->count++] = record;
        at = nl + 1;
    }
    return 0;
}

void hx_jsonl_free(struct hx_jsonl *doc)
{
    for (size_t i = 0; i < doc->count; i++)
        hx_json_free(doc->records[i]);
    free(doc->records);
    memset(doc, 0, sizeof(*doc));
}

static bool has_type(const struct hx_json *record, const char *type)
{
    const char *t = hx_json_get_string(record, "type");
    return t != NULL && strcmp(t, type) == 0;
}

size_t hx_jsonl_count_type(const struct hx_jsonl *doc, const char *type)
{
    size_t n = 0;
    for (size_t i = 0; i < doc->count; i++)
        if (has_type(doc->records[i], type))
            n++;
    return n;
}

const struct hx_json *hx_jsonl_nth(const struct hx_jsonl *doc, const char *type, size_t n)
{
    for (size_t i = 0; i < doc->count; i++)
        if (has_type(doc->records[i], type) && n-- == 0)
            return doc->records[i];
    return NULL;
}

static bool number_is(const struct hx_json *record, const char *key, double value)
{
    double got;
    return hx_json_get_number(record, key, &got) && got == value;
}

const struct hx_json *hx_jsonl_find(const struct hx_jsonl *doc, const char *type, const char *key,
                                    double value)
{
    for (size_t i = 0; i < doc->count; i++)
        if (has_type(doc->records[i], type) && number_is(doc->records[i], key, value))
            return doc->records[i];
    return NULL;
}

size_t hx_jsonl_count_where(const struct hx_jsonl *doc, const char *type, const char *key,
                            double value)
{
    size_t n = 0;
    for (size_t i = 0; i < doc->count; i++)
        if (has_type(doc->records[i], type) && number_is(doc->records[i], key, value))
            n++;
    return n;
}

bool hx_can_trace_child(void)
{
    pid_t child = fork();
    if (child < 0)
        return false;
    if (child == 0) {
        pause();
        _exit(0);
    }
    bool traced = ptrace(PTRACE_SEIZE, child, 0, 0) == 0;
    kill(child, SIGKILL);
    while (waitpid(child, NULL, __WALL) < 0 && errno == EINTR)
        ;
    return traced;
}
