/*
 * supervisor.c - one epoll loop over every running worker's control socket,
 * output pipe and pidfd.
 *
 * The order of a worker's life, as the broker sees it:
 *   spawn -> Hello -> [Register] -> Registered | Failure
 *         -> [Run] -> Status* Event* -> Finished -> exit
 * Anything else, or anything oversized or undecodable, is a protocol error:
 * the worker is killed at once.  When the pidfd says the worker has ended,
 * its socket and pipe are drained of what is already queued (nothing it
 * submitted is lost), and only then is the outcome decided and written.
 */
#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "heap_segment.h"
#include "message.h"
#include "spawn.h"
#include "wire.h"

enum phase {
    PHASE_IDLE,            /* not started yet */
    PHASE_WAIT_HELLO,
    PHASE_WAIT_REGISTERED,
    PHASE_RUNNING,
    PHASE_FINISHED,        /* said all it had to say; waiting for it to exit */
};

enum watch { WATCH_CONTROL, WATCH_OUTPUT, WATCH_PIDFD };

/* Messages handled per wakeup of one socket, so a flooding worker cannot
 * starve the others: the epoll loop is level-triggered and comes back. */
#define MESSAGES_PER_WAKEUP 64

struct worker {
    size_t index;
    struct es_outcome *outcome;
    struct es_registration *registration;
    enum phase phase;
    bool started;
    bool ended;            /* outcome written, resources released */

    struct es_heapseg heap;
    struct es_child child;
    int control;
    int output;

    bool exited;
    siginfo_t exit_info;
    bool killed_by_broker;
    char protocol_error[256];   /* non-empty: the worker broke the protocol */
    bool failed;                /* sent a Failure */
    uint32_t failure_nmerr;
    char failure_reason[1100];
    bool finished;
    bool result;
    struct timespec start_time;
};

struct supervisor {
    const struct es_supervise_config *cfg;
    struct worker *workers;
    int epoll;
    size_t running;
    bool output_failed;
    int output_errno;
    struct es_decoder *decoder;
    uint8_t buffer[ES_MAX_MESSAGE + 1];
};

static uint64_t watch_key(size_t index, enum watch what)
{
    return ((uint64_t)index << 2) | (uint64_t)what;
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static void kill_worker(struct worker *w)
{
    if (w->started && !w->exited && !w->killed_by_broker) {
        syscall(SYS_pidfd_send_signal, w->child.pidfd, SIGKILL, NULL, 0);
        w->killed_by_broker = true;
    }
}

static void protocol_error(struct worker *w, const char *why)
{
    if (w->protocol_error[0] == '\0')
        snprintf(w->protocol_error, sizeof w->protocol_error, "%s", why);
    kill_worker(w);
}

static int send_command(struct worker *w, const Es__Command *cmd)
{
    uint8_t buf[ES_MAX_MESSAGE];
    size_t len = es_encode_command(cmd, buf, sizeof buf);
    /* Commands are few and small and the worker's receive queue is empty
     * when we send one, so a non-blocking send that fails is not a full
     * buffer to wait on: the worker is gone or hostile. */
    if (len == 0 || send(w->control, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)len) {
        protocol_error(w, "the worker stopped accepting commands");
        return -1;
    }
    return 0;
}

static void copy_registration(struct es_registration *r, const Es__Registered *m)
{
    r->present = true;
    r->msg = *m;
    memcpy(r->name, m->name.data, m->name.len);
    memcpy(r->vendor, m->vendor.data, m->vendor.len);
    memcpy(r->description, m->description.data, m->description.len);
    r->msg.name.data = r->name;
    r->msg.vendor.data = r->vendor;
    r->msg.description.data = r->description;
}

static char *copy_text(const ProtobufCBinaryData *b)
{
    char *s = malloc(b->len + 1);
    if (s) {
        memcpy(s, b->data, b->len);
        s[b->len] = '\0';
    }
    return s;
}

static void note_output_failure(struct supervisor *s)
{
    if (!s->output_failed) {
        s->output_failed = true;
        s->output_errno = errno;
    }
}

static void on_registered(struct supervisor *s, struct worker *w, const Es__Registered *reg)
{
    free(w->outcome->expert_name);
    w->outcome->expert_name = copy_text(&reg->name);
    if (w->registration)
        copy_registration(w->registration, reg);

    Es__Command cmd = ES__COMMAND__INIT;
    if (s->cfg->mode == ES_SUPERVISE_LIST) {
        cmd.entry = ES__ENTRY__ENTRY_QUIT;
        w->phase = PHASE_FINISHED;
    } else {
        cmd.entry = ES__ENTRY__ENTRY_RUN;
        cmd.startup = (Es__StartupInfo *)s->cfg->startup;
        w->phase = PHASE_RUNNING;
    }
    send_command(w, &cmd);
}

static void on_event(struct supervisor *s, struct worker *w, const Es__Event *ev)
{
    w->outcome->events++;
    if (!s->cfg->output)
        return;
    struct es_expert_ref who = {w->index, w->outcome->expert_path, w->outcome->expert_name};
    if (es_output_event(s->cfg->output, &who, ev) != 0)
        note_output_failure(s);
}

static void on_message(struct supervisor *s, struct worker *w, const Es__WorkerMessage *m)
{
    switch (m->body_case) {
    case ES__WORKER_MESSAGE__BODY_HELLO:
        if (w->phase != PHASE_WAIT_HELLO)
            return protocol_error(w, "hello out of order");
        if (m->hello->protocol_version != ES_PROTOCOL_VERSION)
            return protocol_error(w, "worker speaks another protocol version");
        w->phase = PHASE_WAIT_REGISTERED;
        Es__Command cmd = ES__COMMAND__INIT;
        cmd.entry = ES__ENTRY__ENTRY_REGISTER;
        send_command(w, &cmd);
        return;
    case ES__WORKER_MESSAGE__BODY_REGISTERED:
        if (w->phase != PHASE_WAIT_REGISTERED)
            return protocol_error(w, "registration out of order");
        return on_registered(s, w, m->registered);
    case ES__WORKER_MESSAGE__BODY_FAILURE:
        if (w->phase != PHASE_WAIT_REGISTERED)
            return protocol_error(w, "failure report out of order");
        if (m->failure->nmerr != NMERR_LOAD_EXPERT_FAILED && m->failure->nmerr != NMERR_EXPERT_REPORT_FAILED)
            return protocol_error(w, "failure report with an unknown code");
        w->failed = true;
        w->failure_nmerr = m->failure->nmerr;
        snprintf(w->failure_reason, sizeof w->failure_reason, "%.*s", (int)m->failure->reason.len,
                 (const char *)m->failure->reason.data);
        w->phase = PHASE_FINISHED;
        return;
    case ES__WORKER_MESSAGE__BODY_STATUS:
        if (w->phase != PHASE_RUNNING)
            return protocol_error(w, "status outside Run");
        w->outcome->has_status = true;
        w->outcome->status = m->status->status;
        w->outcome->sub_status = m->status->sub_status;
        if (m->status->has_percent && m->status->percent >= 0 && m->status->percent <= 99)
            w->outcome->percent = m->status->percent;
        return;
    case ES__WORKER_MESSAGE__BODY_EVENT:
        if (w->phase != PHASE_RUNNING)
            return protocol_error(w, "event outside Run");
        return on_event(s, w, m->event);
    case ES__WORKER_MESSAGE__BODY_FINISHED:
        if (w->phase != PHASE_RUNNING || m->finished->entry != ES__ENTRY__ENTRY_RUN)
            return protocol_error(w, "finish out of order");
        w->finished = true;
        w->result = m->finished->result;
        w->phase = PHASE_FINISHED;
        return;
    default:
        return protocol_error(w, "message without a body");
    }
}

/* Reads what the control socket holds now, up to `limit` datagrams.
 * Returns true if the socket is drained (EAGAIN or closed). */
static bool read_control(struct supervisor *s, struct worker *w, int limit)
{
    for (int i = 0; i < limit; i++) {
        if (w->control < 0)
            return true;
        ssize_t len = recv(w->control, s->buffer, sizeof s->buffer, MSG_DONTWAIT | MSG_TRUNC);
        if (len < 0 && errno == EINTR)
            continue;
        if (len < 0 || len == 0) {
            if (len == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                epoll_ctl(s->epoll, EPOLL_CTL_DEL, w->control, NULL);
                close(w->control);
                w->control = -1;
            }
            return true;
        }
        if (w->protocol_error[0])
            continue;   /* already condemned: drain and drop */
        char why[256];
        const Es__WorkerMessage *m =
            es_decode_worker_message(s->decoder, s->buffer, (size_t)len, why, sizeof why);
        if (!m) {
            protocol_error(w, why);
            continue;
        }
        on_message(s, w, m);
    }
    return false;
}

static void append_tail(struct es_outcome *o, const char *data, size_t len)
{
    size_t cap = sizeof o->output_tail;
    if (len >= cap) {
        o->output_tail_cut = o->output_tail_cut || o->output_tail_len > 0 || len > cap;
        memcpy(o->output_tail, data + len - cap, cap);
        o->output_tail_len = cap;
        return;
    }
    if (o->output_tail_len + len > cap) {
        size_t drop = o->output_tail_len + len - cap;
        memmove(o->output_tail, o->output_tail + drop, o->output_tail_len - drop);
        o->output_tail_len -= drop;
        o->output_tail_cut = true;
    }
    memcpy(o->output_tail + o->output_tail_len, data, len);
    o->output_tail_len += len;
}

/* Keeps the last bytes of the worker's output, however much it writes. */
static void read_output(struct supervisor *s, struct worker *w, int limit)
{
    char chunk[4096];
    for (int i = 0; i < limit && w->output >= 0; i++) {
        ssize_t got = read(w->output, chunk, sizeof chunk);
        if (got < 0 && errno == EINTR)
            continue;
        if (got > 0) {
            append_tail(w->outcome, chunk, (size_t)got);
            continue;
        }
        if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
            epoll_ctl(s->epoll, EPOLL_CTL_DEL, w->output, NULL);
            close(w->output);
            w->output = -1;
        }
        return;
    }
}

static void describe_failure(struct worker *w)
{
    struct es_outcome *o = w->outcome;
    o->kind = w->failure_nmerr == NMERR_LOAD_EXPERT_FAILED ? ES_OUTCOME_LOAD_FAILED
                                                            : ES_OUTCOME_REGISTER_FAILED;
    snprintf(o->detail, sizeof o->detail, "%.500s", w->failure_reason);
}

static const char *phase_words(enum phase p)
{
    switch (p) {
    case PHASE_WAIT_HELLO:
        return "while starting";
    case PHASE_WAIT_REGISTERED:
        return "while loading or in Register";
    case PHASE_RUNNING:
        return "inside Run";
    default:
        return "after finishing";
    }
}

/* The one place where a worker's end becomes an outcome. */
static void classify(struct supervisor *s, struct worker *w)
{
    struct es_outcome *o = w->outcome;
    const siginfo_t *si = &w->exit_info;
    bool signalled = si->si_code == CLD_KILLED || si->si_code == CLD_DUMPED;
    if (signalled)
        o->signal = si->si_status;
    else
        o->exit_status = si->si_status;

    if (w->protocol_error[0]) {
        o->kind = ES_OUTCOME_PROTOCOL_ERROR;
        snprintf(o->detail, sizeof o->detail, "%s", w->protocol_error);
    } else if (w->failed) {
        describe_failure(w);
    } else if (signalled) {
        char name[32];
        o->kind = ES_OUTCOME_CRASHED;
        snprintf(o->detail, sizeof o->detail, "killed by %s %s", es_signal_name(o->signal, name, sizeof name),
                 phase_words(w->phase));
    } else if (w->finished) {
        o->has_run_result = true;
        o->run_result = w->result;
        if (!w->result) {
            o->kind = ES_OUTCOME_PROBLEM;
            snprintf(o->detail, sizeof o->detail, "Run returned FALSE");
        } else if (o->has_status && o->status == EXPERTSTATUS_PROBLEM) {
            o->kind = ES_OUTCOME_PROBLEM;
            snprintf(o->detail, sizeof o->detail, "the expert reported a problem (sub-status %u)",
                     o->sub_status);
        } else {
            o->kind = ES_OUTCOME_DONE;
            /* The host marks the expert DONE and sets 100 %, as NetMon did. */
            o->has_status = true;
            o->status = EXPERTSTATUS_DONE;
            o->sub_status = 0;
            o->percent = 100;
            snprintf(o->detail, sizeof o->detail, "Run returned TRUE");
        }
    } else if (s->cfg->mode == ES_SUPERVISE_LIST && w->phase == PHASE_FINISHED) {
        o->kind = ES_OUTCOME_DONE;
        snprintf(o->detail, sizeof o->detail, "registered");
    } else if (w->phase == PHASE_RUNNING) {
        o->kind = ES_OUTCOME_PROBLEM;
        snprintf(o->detail, sizeof o->detail, "exited with status %d inside Run", o->exit_status);
    } else if (w->phase == PHASE_WAIT_HELLO && o->exit_status == ES_WORKER_EXIT_SETUP) {
        o->kind = ES_OUTCOME_NOT_RUN;
        snprintf(o->detail, sizeof o->detail, "the worker could not set itself up");
    } else {
        o->kind = ES_OUTCOME_LOAD_FAILED;
        snprintf(o->detail, sizeof o->detail, "exited with status %d %s", o->exit_status,
                 phase_words(w->phase));
    }
}

static void read_heap_report(struct worker *w, uint32_t frame_count)
{
    struct es_heap_control c;
    es_heapseg_read_counters(&w->heap, &c);
    struct es_outcome *o = w->outcome;
    /* Counters the worker could have scribbled on: clamp to what is possible. */
    o->frames_read = c.frames_read;
    o->last_frame = c.last_frame < frame_count ? (int64_t)c.last_frame : -1;
    o->heap_peak = c.peak_bytes < o->heap_quota ? c.peak_bytes : o->heap_quota;
    o->heap_in_use = c.bytes_in_use < o->heap_quota ? c.bytes_in_use : o->heap_quota;
}

static void end_worker(struct supervisor *s, struct worker *w)
{
    /* Drain what the dead worker left queued; a descendant still holding
     * the socket or pipe must not keep the broker waiting, so stop at the
     * first empty read instead of waiting for end of file. */
    while (!read_control(s, w, MESSAGES_PER_WAKEUP))
        ;
    read_output(s, w, 1 << 20);

    read_heap_report(w, s->cfg->startup ? s->cfg->startup->frame_count : 0);
    classify(s, w);
    w->outcome->elapsed_seconds = seconds_since(&w->start_time);

    if (w->control >= 0) {
        epoll_ctl(s->epoll, EPOLL_CTL_DEL, w->control, NULL);
        close(w->control);
    }
    if (w->output >= 0) {
        epoll_ctl(s->epoll, EPOLL_CTL_DEL, w->output, NULL);
        close(w->output);
    }
    epoll_ctl(s->epoll, EPOLL_CTL_DEL, w->child.pidfd, NULL);
    close(w->child.pidfd);
    es_heapseg_destroy(&w->heap);
    w->control = w->output = -1;
    w->ended = true;
    s->running--;

    if (s->cfg->output && s->cfg->mode == ES_SUPERVISE_RUN && !s->output_failed &&
        es_output_outcome(s->cfg->output, w->outcome) != 0)
        note_output_failure(s);
}

static void on_pidfd(struct supervisor *s, struct worker *w)
{
    memset(&w->exit_info, 0, sizeof w->exit_info);
    if (waitid((idtype_t)P_PIDFD, (id_t)w->child.pidfd, &w->exit_info, WEXITED | WNOHANG) != 0 ||
        w->exit_info.si_pid == 0)
        return;   /* not yet: spurious wakeup */
    w->exited = true;
    end_worker(s, w);
}

static void reap_blocking(struct supervisor *s, struct worker *w)
{
    if (!w->started || w->ended)
        return;
    kill_worker(w);
    memset(&w->exit_info, 0, sizeof w->exit_info);
    while (waitid((idtype_t)P_PIDFD, (id_t)w->child.pidfd, &w->exit_info, WEXITED) != 0 && errno == EINTR)
        ;
    w->exited = true;
    end_worker(s, w);
}

static int watch(struct supervisor *s, int fd, size_t index, enum watch what)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = watch_key(index, what)};
    return epoll_ctl(s->epoll, EPOLL_CTL_ADD, fd, &ev);
}

static void not_run(struct worker *w, const char *what, int err)
{
    w->outcome->kind = ES_OUTCOME_NOT_RUN;
    snprintf(w->outcome->detail, sizeof w->outcome->detail, "%s: %s", what, strerror(err));
}

/* Sets up everything a worker needs and starts it.  On failure the expert
 * gets the outcome not_run and nothing is left behind. */
static void start_worker(struct supervisor *s, struct worker *w, int expert_fd)
{
    const struct es_supervise_config *cfg = s->cfg;
    int sv[2] = {-1, -1}, out[2] = {-1, -1};
    w->control = w->output = -1;
    clock_gettime(CLOCK_MONOTONIC, &w->start_time);
    w->outcome->heap_quota = cfg->heap_quota;

    if (es_heapseg_create(&w->heap, cfg->heap_quota) != 0) {
        not_run(w, "cannot create the heap segment", errno);
        goto fail;
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0 || pipe2(out, O_CLOEXEC) != 0) {
        not_run(w, "cannot create the worker's channels", errno);
        goto fail;
    }
    struct es_spawn_request req = {
        .worker_path = cfg->worker_path,
        .expert_name = cfg->expert_paths[w->index],
        .control_fd = sv[1],
        .heap_fd = w->heap.fd,
        .frames_fd = cfg->frames_fd,
        .expert_fd = expert_fd,
        .output_fd = out[1],
    };
    if (es_spawn_worker(&req, &w->child) != 0) {
        not_run(w, "cannot start expert-worker", errno);
        goto fail;
    }
    close(sv[1]);
    close(out[1]);
    close(expert_fd);
    w->control = sv[0];
    w->output = out[0];
    fcntl(w->control, F_SETFL, O_NONBLOCK);
    fcntl(w->output, F_SETFL, O_NONBLOCK);
    w->started = true;
    w->phase = PHASE_WAIT_HELLO;
    s->running++;
    if (watch(s, w->control, w->index, WATCH_CONTROL) != 0 ||
        watch(s, w->output, w->index, WATCH_OUTPUT) != 0 ||
        watch(s, w->child.pidfd, w->index, WATCH_PIDFD) != 0) {
        /* Without a watch the worker would be invisible: end it now. */
        protocol_error(w, "the broker could not watch the worker");
    }
    return;

fail:
    for (int i = 0; i < 2; i++) {
        if (sv[i] >= 0)
            close(sv[i]);
        if (out[i] >= 0)
            close(out[i]);
    }
    close(expert_fd);
    es_heapseg_destroy(&w->heap);
    w->ended = true;
    if (cfg->output && cfg->mode == ES_SUPERVISE_RUN && !s->output_failed &&
        es_output_outcome(cfg->output, w->outcome) != 0)
        note_output_failure(s);
}

static void dispatch(struct supervisor *s, uint64_t key)
{
    struct worker *w = &s->workers[key >> 2];
    if (w->ended)
        return;
    switch ((enum watch)(key & 3)) {
    case WATCH_CONTROL:
        read_control(s, w, MESSAGES_PER_WAKEUP);
        break;
    case WATCH_OUTPUT:
        read_output(s, w, 16);
        break;
    case WATCH_PIDFD:
        on_pidfd(s, w);
        break;
    }
}

int es_supervise(const struct es_supervise_config *cfg, struct es_outcome *outcomes,
                 struct es_registration *registrations)
{
    struct supervisor *s = calloc(1, sizeof *s);
    struct es_decoder *decoder = malloc(sizeof *decoder);
    struct worker *workers = calloc(cfg->count ? cfg->count : 1, sizeof *workers);
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    if (!s || !decoder || !workers || epoll < 0) {
        int saved = errno ? errno : ENOMEM;
        free(s);
        free(decoder);
        free(workers);
        if (epoll >= 0)
            close(epoll);
        for (size_t i = 0; i < cfg->count; i++)
            if (cfg->expert_fds[i] >= 0)
                close(cfg->expert_fds[i]);
        errno = saved;
        return -1;
    }
    es_decoder_init(decoder);
    s->cfg = cfg;
    s->workers = workers;
    s->epoll = epoll;
    s->decoder = decoder;

    for (size_t i = 0; i < cfg->count; i++) {
        workers[i].index = i;
        workers[i].outcome = &outcomes[i];
        workers[i].registration = registrations ? &registrations[i] : NULL;
        workers[i].control = workers[i].output = -1;
        workers[i].heap.fd = -1;
    }

    unsigned jobs = cfg->jobs ? cfg->jobs : 1;
    size_t next = 0;
    while (next < cfg->count || s->running > 0) {
        while (!s->output_failed && s->running < jobs && next < cfg->count) {
            struct worker *w = &workers[next];
            int fd = cfg->expert_fds[next];
            cfg->expert_fds[next] = -1;
            next++;
            if (fd >= 0)
                start_worker(s, w, fd);
            else
                w->ended = true;   /* refused before the run; the caller set its outcome */
        }
        if (s->output_failed) {
            /* Nobody can read results any more: stop every worker now. */
            for (size_t i = 0; i < cfg->count; i++)
                kill_worker(&workers[i]);
            for (; next < cfg->count; next++) {
                if (cfg->expert_fds[next] >= 0)
                    close(cfg->expert_fds[next]);
                cfg->expert_fds[next] = -1;
            }
        }
        if (s->running == 0)
            continue;
        struct epoll_event events[32];
        int n = epoll_wait(s->epoll, events, 32, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            /* The loop cannot watch anything any more: end every worker
             * the hard way, so none outlives the run unaccounted for. */
            for (size_t i = 0; i < cfg->count; i++)
                reap_blocking(s, &workers[i]);
            continue;
        }
        for (int i = 0; i < n; i++)
            dispatch(s, events[i].data.u64);
    }

    bool failed = s->output_failed;
    int err = s->output_errno;
    close(epoll);
    free(workers);
    free(decoder);
    free(s);
    if (failed) {
        errno = err;
        return -1;
    }
    return 0;
}
