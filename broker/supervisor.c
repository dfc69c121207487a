/*
 * supervisor.c - one epoll loop over every running worker's control socket,
 * output pipe, pidfd, seccomp listener and timer, and the broker's signals.
 *
 * The order of a worker's life, as the broker sees it:
 *   spawn -> Hello (+ listener) -> (waiting: a pooled worker)
 *         -> [Register + heap + frame store] -> Loaded -> Registered | Failure
 *         -> [Run] -> Status* Event* -> Finished -> exit
 * The pool: workers are spawned ahead of their turn (up to --jobs of them,
 * the first ones while run.c loads the capture), each for one expert, and
 * wait confined after Hello.  Their turn is the hand-over: Register with the
 * expert's new heap and the sealed frame store, so that a "spawn" costs the
 * dlopen and two messages instead of fork, exec and confinement.
 * Anything else, or anything oversized or undecodable, is a protocol error;
 * a system call outside the sandbox's table is a violation: either way the
 * worker is killed at once.  When init reports the worker's end (at its
 * exit stop: worker_spawn.h) or the pidfd says it has ended, its socket,
 * event ring and pipe are drained of what is already there (nothing it
 * submitted is lost), and only then is the outcome decided and written;
 * its heap goes once its process is reaped.
 *
 * Events come through the event ring in the heap segment
 * (proto/event_ring.h, broker/ring_reader.c), not the socket.  The ring is
 * drained before every datagram is handled, so an event submitted before a
 * Status or Finished is written before it is handled; a worker whose ring
 * still holds records after a drain is drained again on the next turn of
 * the loop, without waiting for a wake.
 */
#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "faults.h"
#include "filter_compile.h"
#include "heap_segment.h"
#include "message.h"
#include "ring_reader.h"
#include "notify.h"
#include "worker_spawn.h"
#include "wire.h"

int es_supervise_interrupted;

enum phase {
    PHASE_IDLE,            /* not started yet */
    PHASE_WAIT_HELLO,
    PHASE_WAITING,         /* confined, no expert loaded: a pooled worker before its turn */
    PHASE_WAIT_REGISTERED, /* handed over: loading the expert, then Register */
    PHASE_RUNNING,
    PHASE_FINISHED,        /* said all it had to say; waiting for it to exit */
};

enum watch {
    WATCH_CONTROL,
    WATCH_OUTPUT,
    WATCH_PIDFD,
    WATCH_NOTIFY,
    WATCH_TIMER,
    WATCH_SIGNALS,
    WATCH_PROGRESS,
    WATCH_STATUS,          /* init's report of the worker's end (worker_spawn.h) */
};

enum stop_reason { STOP_NONE, STOP_USER, STOP_TIMEOUT };

/* Messages handled per wakeup of one socket, so a flooding worker cannot
 * starve the others: the epoll loop is level-triggered and comes back. */
#define MESSAGES_PER_WAKEUP 64

struct worker {
    size_t index;
    struct es_outcome *outcome;
    struct es_registration *registration;
    enum phase phase;
    bool loaded;           /* the loader is done: its calls are violations now */
    bool started;          /* a process exists (or existed) for it */
    bool active;           /* handed over: counts against --jobs, its clock runs */
    bool spawn_failed;     /* could not be started: not_run, written at its turn */
    bool died_waiting;     /* ended before its turn: reaped, outcome at its turn */
    bool ended;            /* outcome written, channels closed */
    bool tearing_down;     /* ended on init's early report: the kernel is still
                              freeing the dying worker, whose heap and init
                              the broker holds until its pidfd says so */

    struct es_heapseg heap;
    struct es_child child;
    int control;
    int output;
    int listener;          /* seccomp notifications, or -1 */
    int timer;             /* timeout, then grace period; -1 when unused */

    bool exited;
    bool reaped;                 /* the process the broker started is waited for */
    siginfo_t exit_info;
    bool has_kernel_fault;       /* init saw the fault that killed it */
    uint64_t kernel_fault_address;
    bool killed_by_broker;
    enum stop_reason stop;       /* why the broker asked it to stop */
    bool grace_expired;          /* it ignored the request and was killed */
    char protocol_error[256];    /* non-empty: the worker broke the protocol */
    char setup_error[600];       /* non-empty: it could not be confined as required */
    bool failed;                 /* sent a Failure */
    uint32_t failure_nmerr;
    char failure_reason[1100];
    bool finished;
    bool result;
    unsigned filters_compiled;
    struct timespec start_time;
    struct es_ring_reader ring;  /* its event ring */
    bool ring_pending;           /* records were left in it: drain on the next turn */
};

/* ExpertCompileFilter costs the broker a libpcap compile each time: an
 * expert gets this many, which is far more than any honest one needs. */
#define MAX_FILTER_COMPILES 256

struct supervisor {
    const struct es_supervise_config *cfg;
    struct worker *workers;
    int epoll;
    int signals;                 /* signalfd for SIGINT/SIGTERM, or -1 */
    int progress_timer;          /* timerfd for progress lines, or -1 */
    sigset_t old_mask;
    size_t running;              /* handed over and not ended */
    size_t tearing_down;         /* ended, their processes not yet reaped */
    size_t warm;                 /* spawned ahead, alive, not handed over */
    size_t next;                 /* the next expert whose turn comes */
    size_t next_spawn;           /* the next expert to spawn a worker for */
    bool output_failed;
    int output_errno;
    int interrupted;             /* the signal, once one came */
    bool no_pid_namespace;       /* the kernel refused one: stop asking */
    struct es_decoder *decoder;
    struct es_ring_scratch *ring_scratch;
    uint8_t buffer[ES_MAX_MESSAGE + 1];
};

static uint64_t watch_key(size_t index, enum watch what)
{
    return ((uint64_t)index << 3) | (uint64_t)what;
}

static int watch(struct supervisor *s, int fd, size_t index, enum watch what)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = watch_key(index, what)};
    return epoll_ctl(s->epoll, EPOLL_CTL_ADD, fd, &ev);
}

static void unwatch_and_close(struct supervisor *s, int *fd)
{
    if (*fd < 0)
        return;
    epoll_ctl(s->epoll, EPOLL_CTL_DEL, *fd, NULL);
    close(*fd);
    *fd = -1;
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

static void arm_timer(struct worker *w, double seconds)
{
    if (w->timer < 0 || seconds <= 0)
        return;
    struct itimerspec t = {0};
    double whole = floor(seconds);
    t.it_value.tv_sec = (time_t)whole;
    t.it_value.tv_nsec = (long)((seconds - whole) * 1e9);
    if (t.it_value.tv_sec == 0 && t.it_value.tv_nsec == 0)
        t.it_value.tv_nsec = 1;
    timerfd_settime(w->timer, 0, &t, NULL);
}

/* Sets the terminate word (helpers now return NMERR_EXPERT_TERMINATE) and
 * gives the expert the grace period to return before it is killed. */
static void request_stop(struct supervisor *s, struct worker *w, enum stop_reason why)
{
    /* A worker not handed over yet has no expert to stop: at its turn an
     * interrupted run discards it (start_pending). */
    if (!w->active || w->exited || w->stop != STOP_NONE)
        return;
    w->stop = why;
    es_heapseg_request_terminate(&w->heap);
    if (s->cfg->grace_seconds > 0)
        arm_timer(w, s->cfg->grace_seconds);
    else
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

/* ------------------------------------------------------------------ messages */

/* The hand-over: the expert's heap (created at its turn, take_turn) and the
 * sealed frame store go with Register in one datagram; the worker sets its
 * address-space limit, maps them and loads the expert. */
static void hand_over(struct supervisor *s, struct worker *w)
{
    const struct es_supervise_config *cfg = s->cfg;
    w->phase = PHASE_WAIT_REGISTERED;
    Es__Command cmd = ES__COMMAND__INIT;
    cmd.entry = ES__ENTRY__ENTRY_REGISTER;
    if (cfg->address_space) {
        cmd.has_address_space = true;
        cmd.address_space = cfg->address_space;
    }
    uint8_t buf[ES_MAX_MESSAGE];
    size_t len = es_encode_command(&cmd, buf, sizeof buf);
    int fds[2] = {w->heap.fd, cfg->frames_fd};
    size_t nfds = cfg->frames_fd >= 0 ? 2 : 1;
    union {
        struct cmsghdr align;
        char bytes[CMSG_SPACE(2 * sizeof(int))];
    } control;
    memset(&control, 0, sizeof control);
    struct iovec iov = {buf, len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.bytes,
                        .msg_controllen = CMSG_SPACE(nfds * sizeof(int))};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
    memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
    /* As send_command: the worker's queue is empty, so a failed
     * non-blocking send means it is gone or hostile. */
    if (len == 0 || sendmsg(w->control, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)len)
        protocol_error(w, "the worker stopped accepting commands");
}

static void on_hello(struct supervisor *s, struct worker *w, const Es__Hello *hello, int passed_fd)
{
    struct es_outcome *o = w->outcome;
    o->layers = hello->layers & ES_LAYER_ALL;
    if (hello->has_layer_report)
        snprintf(o->layer_report, sizeof o->layer_report, "%.*s", (int)hello->layer_report.len,
                 (const char *)hello->layer_report.data);

    /* The listener comes with the Hello, sent by the worker's own code
     * before any expert code ran; nothing else may carry a descriptor. */
    if ((o->layers & ES_LAYER_SECCOMP) != 0) {
        if (passed_fd < 0 || !es_notify_is_listener(passed_fd))
            return protocol_error(w, "seccomp reported in place, but no listener came with it");
        w->listener = passed_fd;
        if (watch(s, w->listener, w->index, WATCH_NOTIFY) != 0)
            return protocol_error(w, "the broker could not watch the seccomp listener");
    } else if (passed_fd >= 0) {
        close(passed_fd);
    }

    uint32_t missing = s->cfg->required_layers & ~o->layers;
    if (missing) {
        snprintf(w->setup_error, sizeof w->setup_error, "a required layer is missing: %s",
                 o->layer_report[0] ? o->layer_report : "not put in place");
        kill_worker(w);
        return;
    }
    w->phase = PHASE_WAITING;
    if (w->active && w->heap.fd >= 0)   /* its turn came first (take_turn) */
        hand_over(s, w);
}

static void on_registered(struct supervisor *s, struct worker *w, const Es__Registered *reg)
{
    free(w->outcome->expert_name);
    w->outcome->expert_name = copy_text(&reg->name);
    es_progress_named(s->cfg->progress, w->index, w->outcome->expert_name);
    if (w->registration)
        copy_registration(w->registration, reg);

    Es__Command cmd = ES__COMMAND__INIT;
    if (s->cfg->mode == ES_SUPERVISE_LIST) {
        cmd.entry = ES__ENTRY__ENTRY_QUIT;
        w->phase = PHASE_FINISHED;
    } else {
        cmd.entry = s->cfg->mode == ES_SUPERVISE_CONFIGURE ? ES__ENTRY__ENTRY_CONFIGURE : ES__ENTRY__ENTRY_RUN;
        cmd.startup = (Es__StartupInfo *)s->cfg->startup;
        const struct es_config_blob *stored = s->cfg->configs ? &s->cfg->configs[w->index] : NULL;
        if (stored && stored->len > 0) {
            cmd.has_config = true;
            cmd.config.data = stored->data;
            cmd.config.len = stored->len;
        }
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

/*
 * Reads the worker's event ring up to the head it shows now (at most one
 * ring's worth, so a flooding worker cannot hold the loop), writes the
 * events as one batch, gives the space back, and tells the worker the
 * broker is going to sleep, unless more came in meanwhile.  A ring that
 * breaks a rule, or an event outside Run, condemns the worker; the events
 * before it are kept.
 */
static void drain_ring(struct supervisor *s, struct worker *w)
{
    w->ring_pending = false;
    if (!w->heap.ring || w->protocol_error[0] || w->setup_error[0])
        return;
    if (w->ring.hdr != w->heap.ring)
        es_ring_reader_init(&w->ring, w->heap.ring);   /* the first look at this worker's ring */
    char why[256];
    uint64_t head;
    if (es_ring_reader_head(&w->ring, &head, why, sizeof why) != 0)
        return protocol_error(w, why);
    if (head == w->ring.tail) {
        if (!es_ring_reader_sleep(&w->ring))
            w->ring_pending = true;
        return;
    }
    if (s->cfg->output)
        es_output_begin_batch(s->cfg->output);
    const Es__Event *ev;
    int rc;
    while ((rc = es_ring_reader_next(&w->ring, head, s->ring_scratch, &ev, why, sizeof why)) > 0) {
        if (w->phase != PHASE_RUNNING) {
            protocol_error(w, "event outside Run");
            break;
        }
        on_event(s, w, ev);
    }
    if (rc < 0)
        protocol_error(w, why);
    if (s->cfg->output && es_output_end_batch(s->cfg->output) != 0)
        note_output_failure(s);
    if (w->protocol_error[0])
        return;
    es_ring_reader_release(&w->ring);
    if (!es_ring_reader_sleep(&w->ring))
        w->ring_pending = true;
}

/* What Configure left in *ppConfig: a whole EXPERTCONFIG whose first DWORD
 * is its own length, or nothing. */
static void keep_config(struct worker *w, struct es_config_blob *out, const ProtobufCBinaryData *b)
{
    uint32_t declared = 0;
    if (b->len >= sizeof declared)
        memcpy(&declared, b->data, sizeof declared);
    if (b->len < sizeof declared || declared != b->len)
        return protocol_error(w, "a configuration whose RawConfigLength is not its size");
    free(out->data);
    out->data = malloc(b->len);
    out->len = out->data ? b->len : 0;
    if (out->data)
        memcpy(out->data, b->data, b->len);
}

/* The worker waits for this answer inside ExpertCompileFilter. */
static void compile_filter_for(struct supervisor *s, struct worker *w, const ProtobufCBinaryData *expression)
{
    struct es_bpf_insn *program = NULL;
    size_t count = 0;
    char why[256];
    int err = es_compile_filter(s->cfg->link_type, s->cfg->snaplen, (const char *)expression->data,
                                expression->len, &program, &count, why, sizeof why);
    Es__Command cmd = ES__COMMAND__INIT;
    cmd.entry = ES__ENTRY__ENTRY_FILTER;
    if (err == NMERR_SUCCESS) {
        cmd.has_filter_program = true;
        cmd.filter_program.data = (uint8_t *)program;
        cmd.filter_program.len = count * sizeof *program;
    } else {
        cmd.has_filter_error = true;
        cmd.filter_error = (uint32_t)err;
    }
    send_command(w, &cmd);
    free(program);
}

static void on_message(struct supervisor *s, struct worker *w, const Es__WorkerMessage *m, int passed_fd)
{
    if (passed_fd >= 0 && m->body_case != ES__WORKER_MESSAGE__BODY_HELLO) {
        close(passed_fd);
        return protocol_error(w, "a descriptor came with a message that takes none");
    }
    switch (m->body_case) {
    case ES__WORKER_MESSAGE__BODY_HELLO:
        if (w->phase != PHASE_WAIT_HELLO) {
            if (passed_fd >= 0)
                close(passed_fd);
            return protocol_error(w, "hello out of order");
        }
        if (m->hello->protocol_version != ES_PROTOCOL_VERSION) {
            if (passed_fd >= 0)
                close(passed_fd);
            return protocol_error(w, "worker speaks another protocol version");
        }
        return on_hello(s, w, m->hello, passed_fd);
    case ES__WORKER_MESSAGE__BODY_LOADED:
        if (w->phase != PHASE_WAIT_REGISTERED || w->loaded)
            return protocol_error(w, "loaded out of order");
        w->loaded = true;
        return;
    case ES__WORKER_MESSAGE__BODY_REGISTERED:
        if (w->phase != PHASE_WAIT_REGISTERED || !w->loaded)
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
        es_progress_status(s->cfg->progress, w->index, m->status->status,
                           m->status->has_percent ? m->status->percent : -1);
        return;
    case ES__WORKER_MESSAGE__BODY_EVENT:
        if (w->phase != PHASE_RUNNING)
            return protocol_error(w, "event outside Run");
        return on_event(s, w, m->event);
    case ES__WORKER_MESSAGE__BODY_EVENTS_PENDING:
        return;   /* the ring was drained before this datagram was handled */
    case ES__WORKER_MESSAGE__BODY_COMPILE_FILTER:
        if (w->phase != PHASE_RUNNING)
            return protocol_error(w, "filter request outside Run or Configure");
        if (++w->filters_compiled > MAX_FILTER_COMPILES)
            return protocol_error(w, "too many filter requests");
        return compile_filter_for(s, w, &m->compile_filter->expression);
    case ES__WORKER_MESSAGE__BODY_FINISHED: {
        Es__Entry expected =
            s->cfg->mode == ES_SUPERVISE_CONFIGURE ? ES__ENTRY__ENTRY_CONFIGURE : ES__ENTRY__ENTRY_RUN;
        if (w->phase != PHASE_RUNNING || m->finished->entry != expected)
            return protocol_error(w, "finish out of order");
        if (m->finished->has_config && expected != ES__ENTRY__ENTRY_CONFIGURE)
            return protocol_error(w, "a configuration from Run");
        w->finished = true;
        w->result = m->finished->result;
        w->phase = PHASE_FINISHED;
        if (m->finished->has_config && s->cfg->new_configs)
            keep_config(w, &s->cfg->new_configs[w->index], &m->finished->config);
        return;
    }
    default:
        return protocol_error(w, "message without a body");
    }
}

/* Takes the descriptors that came with a datagram: keeps the first for the
 * caller, closes the rest (a worker must not fill the broker's table). */
static int take_passed_fds(struct msghdr *mh)
{
    int kept = -1;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
            if (kept < 0)
                kept = fd;
            else
                close(fd);
        }
    }
    return kept;
}

/* Reads what the control socket holds now, up to `limit` datagrams.
 * Returns true if the socket is drained (EAGAIN or closed). */
static bool read_control(struct supervisor *s, struct worker *w, int limit)
{
    for (int i = 0; i < limit; i++) {
        if (w->control < 0)
            return true;
        union {
            struct cmsghdr align;
            char bytes[CMSG_SPACE(4 * sizeof(int))];
        } control;
        struct iovec iov = {s->buffer, sizeof s->buffer};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.bytes,
                            .msg_controllen = sizeof control.bytes};
        ssize_t len = recvmsg(w->control, &mh, MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC);
        if (len < 0 && errno == EINTR)
            continue;
        if (len <= 0) {
            if (len == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
                unwatch_and_close(s, &w->control);
            return true;
        }
        int passed_fd = take_passed_fds(&mh);
        /* Whatever the datagram is, the events submitted before it was sent
         * come first. */
        drain_ring(s, w);
        if (w->protocol_error[0] || w->setup_error[0]) {
            if (passed_fd >= 0)
                close(passed_fd);
            continue;   /* already condemned: drain and drop */
        }
        if (mh.msg_flags & MSG_CTRUNC) {
            if (passed_fd >= 0)
                close(passed_fd);
            protocol_error(w, "too many descriptors in one message");
            continue;
        }
        char why[256];
        const Es__WorkerMessage *m =
            es_decode_worker_message(s->decoder, s->buffer, (size_t)len, why, sizeof why);
        if (!m) {
            if (passed_fd >= 0)
                close(passed_fd);
            protocol_error(w, why);
            continue;
        }
        on_message(s, w, m, passed_fd);
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
        if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            unwatch_and_close(s, &w->output);
        return;
    }
}

/* ------------------------------------------------------------------ seccomp */

static void record_violation(struct worker *w, const struct es_syscall_report *r)
{
    struct es_outcome *o = w->outcome;
    if (o->has_violation)
        return;
    o->has_violation = true;
    snprintf(o->violation_syscall, sizeof o->violation_syscall, "%s", r->name);
    snprintf(o->violation_arch, sizeof o->violation_arch, "%s", r->arch_name);
    o->violation_number = r->number;
    memcpy(o->violation_args, r->args, sizeof o->violation_args);
    o->violation_ip = r->instruction_pointer;
    char path[sizeof o->violation_path];
    if (es_notify_read_path(w->listener, r, path, sizeof path))
        snprintf(o->violation_path, sizeof o->violation_path, "%s", path);
}

/* readlink("/proc/self/exe") tells a worker where expert-worker is and
 * nothing else; sanitizer runtimes ask it whenever they report, so it is
 * let through at any stage.  The path is read from the suspended worker,
 * which has no other thread to change it before the call goes on. */
static bool is_own_binary_lookup(struct worker *w, const struct es_syscall_report *r)
{
    char path[32];
    return !strcmp(r->name, "readlink") && es_notify_read_path(w->listener, r, path, sizeof path) &&
           !strcmp(path, "/proc/self/exe");
}

/* A suspended system call: the loader's, while loading, goes on; any
 * other is a violation, and the worker does not get to make another. */
static void on_notification(struct supervisor *s, struct worker *w, uint32_t events)
{
    struct es_syscall_report r;
    if (!(events & EPOLLIN) || es_notify_receive(w->listener, &r) != 0) {
        /* EPOLLHUP: no task is left under the filter.  ENOENT: the task
         * died between the wakeup and the read.  Either way, nothing to do
         * but stop listening once nobody is there. */
        if ((events & (EPOLLHUP | EPOLLERR)) || (errno != ENOENT && errno != EINTR))
            unwatch_and_close(s, &w->listener);
        return;
    }
    /* Not while waiting: until the hand-over the worker runs only its own
     * code, which needs none of the loader's calls. */
    if (!w->loaded && w->phase != PHASE_WAITING && es_notify_is_loader_call(&r)) {
        es_notify_answer(w->listener, r.id, true);
        return;
    }
    if (is_own_binary_lookup(w, &r)) {
        es_notify_answer(w->listener, r.id, true);
        return;
    }
    record_violation(w, &r);
    /* Kill first: once answered, the worker would run on for a moment. */
    kill_worker(w);
    es_notify_answer(w->listener, r.id, false);
}

/* ------------------------------------------------------------------ ending */

static const char *phase_words(enum phase p)
{
    switch (p) {
    case PHASE_WAIT_HELLO:
        return "while starting";
    case PHASE_WAITING:
        return "while waiting for its turn";
    case PHASE_WAIT_REGISTERED:
        return "while loading or in Register";
    case PHASE_RUNNING:
        return "inside Run";
    default:
        return "after finishing";
    }
}

static void describe_violation(struct es_outcome *o)
{
    o->kind = ES_OUTCOME_VIOLATION;
    int n = snprintf(o->detail, sizeof o->detail, "%s(%#llx, %#llx, %#llx, ...)", o->violation_syscall,
                     (unsigned long long)o->violation_args[0], (unsigned long long)o->violation_args[1],
                     (unsigned long long)o->violation_args[2]);
    if (o->violation_path[0] && n > 0 && (size_t)n < sizeof o->detail)
        snprintf(o->detail + n, sizeof o->detail - (size_t)n, " on \"%.200s\"", o->violation_path);
}

static void describe_stop(struct worker *w, enum es_outcome_kind kind, const char *what)
{
    struct es_outcome *o = w->outcome;
    o->kind = kind;
    if (w->grace_expired)
        snprintf(o->detail, sizeof o->detail, "%s; killed after ignoring the terminate request", what);
    else if (w->finished)
        snprintf(o->detail, sizeof o->detail, "%s; Run returned %s", what, w->result ? "TRUE" : "FALSE");
    else
        snprintf(o->detail, sizeof o->detail, "%s; ended %s", what, phase_words(w->phase));
}

static bool is_fault_signal(int sig)
{
    return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP;
}

/* Where the fatal fault was: the kernel's word when init traced the worker,
 * else the worker's own record, believed only next to the signal the kernel
 * reported, and only for faults. */
static bool fault_address(struct worker *w, uint64_t *address)
{
    const struct es_outcome *o = w->outcome;
    if (w->has_kernel_fault) {
        *address = w->kernel_fault_address;
        return true;
    }
    struct es_heap_control c;
    es_heapseg_read_counters(&w->heap, &c);
    if (is_fault_signal(o->signal) && c.crash_signal == (uint32_t)o->signal && (int32_t)c.crash_code > 0) {
        *address = c.crash_address;
        return true;
    }
    return false;
}

static void append_fault_address(struct worker *w)
{
    struct es_outcome *o = w->outcome;
    size_t used = strlen(o->detail);
    /* The person reading it should know whose word the address is. */
    if (o->has_fault_address && used < sizeof o->detail)
        snprintf(o->detail + used, sizeof o->detail - used, " (fault at 0x%llx%s)",
                 (unsigned long long)o->fault_address, w->has_kernel_fault ? "" : ", as the worker recorded it");
}

/* The one place where a worker's end becomes an outcome.  The order of the
 * tests is the order of precedence: what the broker itself saw first. */
static void classify(struct supervisor *s, struct worker *w)
{
    struct es_outcome *o = w->outcome;
    const siginfo_t *si = &w->exit_info;
    bool signalled = si->si_code == CLD_KILLED || si->si_code == CLD_DUMPED;
    char name[32];
    if (signalled)
        o->signal = si->si_status;
    else
        o->exit_status = si->si_status;
    o->has_fault_address = fault_address(w, &o->fault_address);
    if (w->finished) {
        o->has_run_result = true;
        o->run_result = w->result;
    }

    if (o->has_violation) {
        describe_violation(o);
    } else if (w->protocol_error[0]) {
        o->kind = ES_OUTCOME_PROTOCOL_ERROR;
        snprintf(o->detail, sizeof o->detail, "%s", w->protocol_error);
    } else if (w->setup_error[0]) {
        o->kind = ES_OUTCOME_NOT_RUN;
        snprintf(o->detail, sizeof o->detail, "%.500s", w->setup_error);
    } else if (w->failed) {
        o->kind = w->failure_nmerr == NMERR_LOAD_EXPERT_FAILED ? ES_OUTCOME_LOAD_FAILED
                                                                : ES_OUTCOME_REGISTER_FAILED;
        snprintf(o->detail, sizeof o->detail, "%.500s", w->failure_reason);
    } else if (w->stop == STOP_TIMEOUT) {
        char what[64];
        snprintf(what, sizeof what, "ran longer than %g s", s->cfg->timeout_seconds);
        describe_stop(w, ES_OUTCOME_TIMEOUT, what);
    } else if (w->stop == STOP_USER && (w->finished || w->grace_expired)) {
        describe_stop(w, ES_OUTCOME_ABORTED, "interrupted");
    } else if (signalled && (o->signal == SIGXCPU ||
                             (o->signal == SIGKILL && !w->killed_by_broker && s->cfg->cpu_seconds &&
                              o->cpu_seconds >= (double)s->cfg->cpu_seconds))) {
        o->kind = ES_OUTCOME_CPU_LIMIT;
        snprintf(o->detail, sizeof o->detail, "used more than %llu s of CPU time (%s)",
                 (unsigned long long)s->cfg->cpu_seconds, es_signal_name(o->signal, name, sizeof name));
    } else if (signalled && o->signal == SIGKILL && !w->killed_by_broker) {
        /* Not the broker, not the CPU limit: the kernel's OOM killer is
         * what sends SIGKILL to a sandboxed process that cannot signal. */
        o->kind = ES_OUTCOME_OUT_OF_MEMORY;
        snprintf(o->detail, sizeof o->detail, "killed by SIGKILL from outside the broker %s "
                 "(the kernel's out-of-memory killer)", phase_words(w->phase));
    } else if (signalled) {
        o->kind = ES_OUTCOME_CRASHED;
        snprintf(o->detail, sizeof o->detail, "killed by %s %s", es_signal_name(o->signal, name, sizeof name),
                 phase_words(w->phase));
        append_fault_address(w);
    } else if (w->finished && s->cfg->mode == ES_SUPERVISE_CONFIGURE) {
        o->kind = w->result ? ES_OUTCOME_DONE : ES_OUTCOME_PROBLEM;
        snprintf(o->detail, sizeof o->detail, "%s",
                 w->result ? "Configure returned TRUE"
                 : w->registration && !w->registration->msg.has_configure
                     ? "the expert exports no Configure"
                     : "Configure returned FALSE: nothing is stored");
    } else if (w->finished) {
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
        snprintf(o->detail, sizeof o->detail, "the worker could not set itself up: %.400s",
                 o->output_tail_len ? o->output_tail : "no reason given");
        o->detail[strcspn(o->detail, "\n")] = '\0';
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
    o->heap_blocks = c.blocks_in_use;
    o->helper_calls = c.helper_calls;
    o->alloc_calls = c.alloc_calls;
}

/* CPU time of a zombie, from the kernel's accounting (fields 14 and 15 of
 * /proc/PID/stat, in clock ticks): the broker measures, it does not ask. */
static double zombie_cpu_seconds(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    /* The command name (field 2) may contain spaces and parentheses: count
     * fields from the last ')'. */
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    unsigned long long utime = 0, stime = 0;
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return -1;
    long ticks = sysconf(_SC_CLK_TCK);
    return ticks > 0 ? (double)(utime + stime) / (double)ticks : -1;
}

/* Everything of a dead (or discarded) worker the broker still holds but
 * its heap: the heap goes last, after the outcome (end_worker). */
static void close_channels(struct supervisor *s, struct worker *w)
{
    unwatch_and_close(s, &w->control);
    unwatch_and_close(s, &w->output);
    unwatch_and_close(s, &w->listener);
    unwatch_and_close(s, &w->timer);
    unwatch_and_close(s, &w->child.status_fd);
    if (w->reaped)
        unwatch_and_close(s, &w->child.pidfd);
}

static void end_worker(struct supervisor *s, struct worker *w)
{
    /* Drain what the dead worker left queued; a descendant still holding
     * the socket or pipe must not keep the broker waiting, so stop at the
     * first empty read instead of waiting for end of file. */
    while (!read_control(s, w, MESSAGES_PER_WAKEUP))
        ;
    /* Then its ring: a dead worker's ring no longer changes, so one pass
     * over what is left ends it.  The bound is for a descendant that
     * outlived it (only possible with layers switched off) and keeps
     * writing: the broker does not wait for that. */
    for (int pass = 0; pass < 16; pass++) {
        drain_ring(s, w);
        if (!w->ring_pending)
            break;
    }
    read_output(s, w, 1 << 20);

    classify(s, w);
    read_heap_report(w, s->cfg->startup ? s->cfg->startup->frame_count : 0);
    w->outcome->elapsed_seconds = seconds_since(&w->start_time);

    close_channels(s, w);
    w->ended = true;
    s->running--;   /* only handed-over workers get here (died_waiting) */
    es_progress_ended(s->cfg->progress, w->index);

    if (s->cfg->output && s->cfg->mode == ES_SUPERVISE_RUN && !s->output_failed &&
        es_output_outcome(s->cfg->output, w->outcome) != 0)
        note_output_failure(s);

    /* The heap goes last.  Nothing can reach it any more (the worker is dead
     * and its counters were copied above), but the last close frees every
     * page of it, which takes the kernel tens of milliseconds for a few
     * hundred touched MiB of small pages: the analyst's outcome should not
     * wait for that.  On init's early report the dying worker still maps
     * it: it goes when the pidfd says init is gone (on_pidfd). */
    if (w->reaped) {
        es_heapseg_destroy(&w->heap);
    } else {
        w->tearing_down = true;
        s->tearing_down++;
    }
}

/* The end of a worker that ended on init's early report: its process tree
 * is reaped now, so its pidfd and heap can go. */
static void finish_teardown(struct supervisor *s, struct worker *w)
{
    w->tearing_down = false;
    s->tearing_down--;
    unwatch_and_close(s, &w->child.pidfd);
    es_heapseg_destroy(&w->heap);
}

/* Init's report, as the worker's end.  The fault address is the kernel's
 * (init read it at the signal's delivery), so it needs no heap record. */
static void apply_report(struct worker *w, const struct es_worker_status *status)
{
    w->exit_info.si_code = status->code;
    w->exit_info.si_status = status->status;
    w->outcome->cpu_seconds = (double)status->cpu_microseconds / 1e6;
    w->has_kernel_fault = status->has_fault_address != 0;
    w->kernel_fault_address = status->fault_address;
}

/* Init's report came before init ended: the worker stopped at the start of
 * its exit, everything it sent is in the broker's reach, and its outcome is
 * decided now, while the kernel tears down its address space. */
static void on_status(struct supervisor *s, struct worker *w)
{
    struct es_worker_status status;
    /* One report per worker; whatever else happens, the pidfd tells. */
    epoll_ctl(s->epoll, EPOLL_CTL_DEL, w->child.status_fd, NULL);
    if (!w->active || w->exited || !es_spawn_read_status(&w->child, &status))
        return;   /* died waiting, or no report (init was killed): on_pidfd */
    memset(&w->exit_info, 0, sizeof w->exit_info);
    apply_report(w, &status);
    w->exited = true;
    end_worker(s, w);
}

/* Reaps a worker whose pidfd became readable: first a look at the zombie
 * (its CPU time), then the wait that releases it. */
static void on_pidfd(struct supervisor *s, struct worker *w, bool block)
{
    siginfo_t info;
    memset(&info, 0, sizeof info);
    int flags = WEXITED | WNOWAIT | (block ? 0 : WNOHANG);
    int rc;
    do
        rc = waitid((idtype_t)P_PIDFD, (id_t)w->child.pidfd, &info, flags);
    while (rc != 0 && errno == EINTR);
    if (rc != 0 || info.si_pid == 0)
        return;   /* not yet: spurious wakeup */
    if (w->tearing_down) {
        waitid((idtype_t)P_PIDFD, (id_t)w->child.pidfd, &info, WEXITED);
        w->reaped = true;
        finish_teardown(s, w);
        return;
    }
    w->outcome->cpu_seconds = zombie_cpu_seconds(w->child.pid);
    memset(&w->exit_info, 0, sizeof w->exit_info);
    waitid((idtype_t)P_PIDFD, (id_t)w->child.pidfd, &w->exit_info, WEXITED);
    w->reaped = true;
    /* With an init (worker_spawn.h) the broker waited for init; how the
     * worker itself ended is init's report.  No report: init was killed (by
     * the broker), and the worker with it. */
    struct es_worker_status status;
    if (w->child.status_fd >= 0) {
        if (es_spawn_read_status(&w->child, &status)) {
            apply_report(w, &status);
        } else {
            w->exit_info.si_code = CLD_KILLED;
            w->exit_info.si_status = SIGKILL;
            w->outcome->cpu_seconds = -1;
        }
    }
    w->exited = true;
    if (w->active) {
        end_worker(s, w);
        return;
    }
    /* Dead before its turn: reaped now, so no zombie waits; its outcome is
     * decided at its turn, in the order of the experts (take_turn).  Until
     * then nothing of it may wake the loop: a dead worker's socket and pipe
     * report a hang-up for ever. */
    w->died_waiting = true;
    s->warm--;
    int *fds[] = {&w->control, &w->output, &w->listener, &w->timer, &w->child.pidfd, &w->child.status_fd};
    for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
        if (*fds[i] >= 0)
            epoll_ctl(s->epoll, EPOLL_CTL_DEL, *fds[i], NULL);
}

static void reap_blocking(struct supervisor *s, struct worker *w)
{
    if (w->tearing_down)
        return on_pidfd(s, w, true);
    if (!w->started || w->ended || w->died_waiting)
        return;
    kill_worker(w);
    on_pidfd(s, w, true);
}

static void on_timer(struct supervisor *s, struct worker *w)
{
    uint64_t expirations;
    if (read(w->timer, &expirations, sizeof expirations) != (ssize_t)sizeof expirations)
        return;
    if (w->stop == STOP_NONE) {
        request_stop(s, w, STOP_TIMEOUT);
    } else if (!w->exited) {
        w->grace_expired = true;
        kill_worker(w);
    }
}

static void on_signal(struct supervisor *s)
{
    struct signalfd_siginfo si;
    if (read(s->signals, &si, sizeof si) != (ssize_t)sizeof si)
        return;
    bool again = s->interrupted != 0;
    s->interrupted = (int)si.ssi_signo;
    for (size_t i = 0; i < s->cfg->count; i++) {
        struct worker *w = &s->workers[i];
        if (again && w->started && !w->ended) {
            /* A second Ctrl-C: no more grace. */
            w->grace_expired = true;
            kill_worker(w);
        } else {
            request_stop(s, w, STOP_USER);
        }
    }
}

/* ------------------------------------------------------------------ starting */

static void not_run(struct worker *w, const char *what, int err)
{
    w->outcome->kind = ES_OUTCOME_NOT_RUN;
    snprintf(w->outcome->detail, sizeof w->outcome->detail, "%s: %s", what, strerror(err));
}

static void write_unstarted_outcome(struct supervisor *s, struct worker *w)
{
    w->ended = true;
    if (s->cfg->output && s->cfg->mode == ES_SUPERVISE_RUN && !s->output_failed &&
        es_output_outcome(s->cfg->output, w->outcome) != 0)
        note_output_failure(s);
}

/* Sets up the channels of a worker for expert w->index and starts it; it
 * confines itself, says Hello and waits for its turn.  On failure the expert
 * gets the outcome not_run (written at its turn) and nothing is left behind.
 * No heap yet: that is created at the hand-over. */
static void spawn_worker(struct supervisor *s, struct worker *w, int expert_fd)
{
    const struct es_supervise_config *cfg = s->cfg;
    int sv[2] = {-1, -1}, out[2] = {-1, -1};
    clock_gettime(CLOCK_MONOTONIC, &w->start_time);
    w->outcome->heap_quota = cfg->heap_quota;

    if (ES_FAULT(ES_FAULT_SOCKETPAIR, EMFILE) || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0 ||
        ES_FAULT(ES_FAULT_PIPE, EMFILE) || pipe2(out, O_CLOEXEC) != 0) {
        not_run(w, "cannot create the worker's channels", errno);
        goto fail;
    }
    if (cfg->timeout_seconds > 0 || cfg->grace_seconds > 0 || cfg->handle_signals) {
        w->timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (w->timer < 0) {
            not_run(w, "cannot create the worker's timer", errno);
            goto fail;
        }
    }
    struct es_spawn_request req = {
        .worker_path = cfg->worker_path,
        .expert_name = cfg->expert_paths[w->index],
        .control_fd = sv[1],
        .expert_fd = expert_fd,
        .output_fd = out[1],
        .extra_args = cfg->worker_args_each ? cfg->worker_args_each[w->index] : cfg->worker_args,
    };
    req.pid_namespace = cfg->pid_namespace && !s->no_pid_namespace;
    int rc = es_spawn_worker(&req, &w->child);
    if (rc != 0 && req.pid_namespace && (errno == EPERM || errno == EINVAL || errno == ENOSYS)) {
        /* The kernel refuses PID namespaces here: say so once (the worker's
         * layer report says it too) and go on without. */
        s->no_pid_namespace = true;
        req.pid_namespace = false;
        rc = es_spawn_worker(&req, &w->child);
    }
    if (rc != 0) {
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
    s->warm++;
    if (watch(s, w->control, w->index, WATCH_CONTROL) != 0 ||
        watch(s, w->output, w->index, WATCH_OUTPUT) != 0 ||
        watch(s, w->child.pidfd, w->index, WATCH_PIDFD) != 0 ||
        (w->child.status_fd >= 0 && watch(s, w->child.status_fd, w->index, WATCH_STATUS) != 0) ||
        (w->timer >= 0 && watch(s, w->timer, w->index, WATCH_TIMER) != 0)) {
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
    if (w->timer >= 0)
        close(w->timer);
    w->timer = -1;
    close(expert_fd);
    w->spawn_failed = true;
}

/* A worker spawned ahead that will not be used (the run was interrupted or
 * stopped, or never got going): killed, reaped, every descriptor closed. */
static void discard(struct supervisor *s, struct worker *w)
{
    if (w->tearing_down)
        return on_pidfd(s, w, true);
    if (!w->started || w->ended)
        return;
    if (!w->died_waiting) {
        kill_worker(w);
        siginfo_t info;
        int rc;
        do
            rc = waitid((idtype_t)P_PIDFD, (id_t)w->child.pidfd, &info, WEXITED);
        while (rc != 0 && errno == EINTR);
        w->reaped = true;
        s->warm--;
    }
    close_channels(s, w);
    es_heapseg_destroy(&w->heap);
    w->ended = true;
}

/* Expert w->index's turn: its worker (spawned ahead, or just now) is handed
 * the expert's heap and the frame store once it has said Hello; from here
 * on it counts against --jobs and its timeout runs. */
static void take_turn(struct supervisor *s, struct worker *w)
{
    const struct es_supervise_config *cfg = s->cfg;
    if (w->spawn_failed) {
        write_unstarted_outcome(s, w);
        return;
    }
    if (!w->died_waiting)
        s->warm--;
    w->active = true;
    s->running++;
    clock_gettime(CLOCK_MONOTONIC, &w->start_time);
    es_progress_started(cfg->progress, w->index, cfg->expert_paths[w->index]);
    if (w->died_waiting) {
        end_worker(s, w);
        return;
    }
    /* The heap now, in the experts' order whatever order the Hellos come
     * in, and only for a worker that is used. */
    if (es_heapseg_create(&w->heap, cfg->heap_quota) != 0) {
        snprintf(w->setup_error, sizeof w->setup_error, "cannot create the heap segment: %s", strerror(errno));
        kill_worker(w);
        return;
    }
    arm_timer(w, cfg->timeout_seconds);
    if (w->phase == PHASE_WAITING)
        hand_over(s, w);
}

/* Frames read so far come from each worker's control page: for display. */
static void on_progress_timer(struct supervisor *s)
{
    uint64_t expirations;
    if (read(s->progress_timer, &expirations, sizeof expirations) != (ssize_t)sizeof expirations)
        return;
    for (size_t i = 0; i < s->cfg->count; i++) {
        struct worker *w = &s->workers[i];
        if (!w->started || w->ended)
            continue;
        struct es_heap_control c;
        es_heapseg_read_counters(&w->heap, &c);
        es_progress_frames(s->cfg->progress, i, c.frames_read);
    }
    es_progress_tick(s->cfg->progress);
}

static void start_progress_timer(struct supervisor *s)
{
    double interval = es_progress_interval(s->cfg->progress);
    s->progress_timer = -1;
    if (interval <= 0)
        return;
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (fd < 0)
        return;   /* no progress lines; the run itself does not need them */
    struct itimerspec t = {0};
    t.it_value.tv_sec = t.it_interval.tv_sec = (time_t)interval;
    t.it_value.tv_nsec = t.it_interval.tv_nsec = (long)((interval - floor(interval)) * 1e9);
    if (timerfd_settime(fd, 0, &t, NULL) != 0 || watch(s, fd, 0, WATCH_PROGRESS) != 0) {
        close(fd);
        return;
    }
    s->progress_timer = fd;
}

static void dispatch(struct supervisor *s, uint64_t key, uint32_t events)
{
    enum watch what = (enum watch)(key & 7);
    if (what == WATCH_SIGNALS)
        return on_signal(s);
    if (what == WATCH_PROGRESS)
        return on_progress_timer(s);
    struct worker *w = &s->workers[key >> 3];
    if (w->tearing_down && what == WATCH_PIDFD)
        return on_pidfd(s, w, false);
    if (w->ended)
        return;
    switch (what) {
    case WATCH_CONTROL:
        read_control(s, w, MESSAGES_PER_WAKEUP);
        break;
    case WATCH_OUTPUT:
        read_output(s, w, 16);
        break;
    case WATCH_PIDFD:
        on_pidfd(s, w, false);
        break;
    case WATCH_NOTIFY:
        on_notification(s, w, events);
        break;
    case WATCH_TIMER:
        on_timer(s, w);
        break;
    case WATCH_STATUS:
        on_status(s, w);
        break;
    case WATCH_SIGNALS:
    case WATCH_PROGRESS:
        break;
    }
}

/* SIGINT and SIGTERM become events of the loop, so that an interrupted run
 * still drains, classifies and writes every outcome. */
static int catch_signals(struct supervisor *s)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &set, &s->old_mask) != 0)
        return -1;
    s->signals = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (s->signals < 0 || watch(s, s->signals, 0, WATCH_SIGNALS) != 0) {
        sigprocmask(SIG_SETMASK, &s->old_mask, NULL);
        return -1;
    }
    return 0;
}

static void release_signals(struct supervisor *s)
{
    if (s->signals < 0)
        return;
    close(s->signals);
    s->signals = -1;
    /* A signal that came in is handled; do not let it fire on unblocking. */
    sigset_t pending;
    sigpending(&pending);
    struct timespec zero = {0, 0};
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    while (sigtimedwait(&set, NULL, &zero) > 0)
        ;
    sigprocmask(SIG_SETMASK, &s->old_mask, NULL);
}

/* Spawns workers ahead of their turn, up to --jobs of them alive, so that
 * the workers that exist are at most twice --jobs, besides those ended
 * whose teardown the kernel is still doing (tearing_down). */
static void top_up(struct supervisor *s)
{
    const struct es_supervise_config *cfg = s->cfg;
    unsigned jobs = cfg->jobs ? cfg->jobs : 1;
    if (s->next_spawn < s->next)
        s->next_spawn = s->next;
    while (s->warm < jobs && s->next_spawn < cfg->count && !s->interrupted && !s->output_failed) {
        struct worker *w = &s->workers[s->next_spawn++];
        int fd = cfg->expert_fds[w->index];
        if (fd < 0)
            continue;   /* refused before the run; settled at its turn */
        cfg->expert_fds[w->index] = -1;
        spawn_worker(s, w, fd);
    }
}

static void start_pending(struct supervisor *s)
{
    const struct es_supervise_config *cfg = s->cfg;
    unsigned jobs = cfg->jobs ? cfg->jobs : 1;
    while (s->running < jobs && s->next < cfg->count) {
        struct worker *w = &s->workers[s->next++];
        int fd = cfg->expert_fds[w->index];
        cfg->expert_fds[w->index] = -1;
        bool spawned = w->started || w->spawn_failed;
        if (!spawned && fd < 0) {
            w->ended = true;   /* refused before the run; the caller set its outcome */
        } else if (s->interrupted || s->output_failed) {
            if (fd >= 0)
                close(fd);
            discard(s, w);
            w->outcome->kind = ES_OUTCOME_ABORTED;
            snprintf(w->outcome->detail, sizeof w->outcome->detail, "not started: the run was %s",
                     s->output_failed ? "stopped by an output error" : "interrupted");
            write_unstarted_outcome(s, w);
        } else {
            if (!spawned)
                spawn_worker(s, w, fd);
            take_turn(s, w);
        }
    }
    top_up(s);
}

struct es_supervisor *es_supervisor_new(const struct es_supervise_config *cfg, struct es_outcome *outcomes,
                                        struct es_registration *registrations)
{
    struct supervisor *s = calloc(1, sizeof *s);
    struct es_decoder *decoder = malloc(sizeof *decoder);
    struct es_ring_scratch *ring_scratch = malloc(sizeof *ring_scratch);
    struct worker *workers = calloc(cfg->count ? cfg->count : 1, sizeof *workers);
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    if (!s || !decoder || !ring_scratch || !workers || epoll < 0) {
        int saved = errno ? errno : ENOMEM;
        free(s);
        free(decoder);
        free(ring_scratch);
        free(workers);
        if (epoll >= 0)
            close(epoll);
        for (size_t i = 0; i < cfg->count; i++) {
            if (cfg->expert_fds[i] >= 0)
                close(cfg->expert_fds[i]);
            cfg->expert_fds[i] = -1;
        }
        errno = saved;
        return NULL;
    }
    es_decoder_init(decoder);
    s->cfg = cfg;
    s->workers = workers;
    s->epoll = epoll;
    s->decoder = decoder;
    s->ring_scratch = ring_scratch;
    s->signals = -1;
    s->progress_timer = -1;

    for (size_t i = 0; i < cfg->count; i++) {
        struct worker *w = &workers[i];
        w->index = i;
        w->outcome = &outcomes[i];
        w->registration = registrations ? &registrations[i] : NULL;
        w->control = w->output = w->listener = w->timer = -1;
        w->child.pidfd = -1;
        w->child.status_fd = -1;
        w->heap.fd = -1;
    }
    return (struct es_supervisor *)s;
}

void es_supervisor_prestart(struct es_supervisor *sup)
{
    top_up((struct supervisor *)sup);
}

static void supervisor_free(struct supervisor *s)
{
    close(s->epoll);
    free(s->workers);
    free(s->decoder);
    free(s->ring_scratch);
    free(s);
}

void es_supervisor_abandon(struct es_supervisor *sup)
{
    struct supervisor *s = (struct supervisor *)sup;
    if (!s)
        return;
    for (size_t i = 0; i < s->cfg->count; i++) {
        discard(s, &s->workers[i]);
        if (s->cfg->expert_fds[i] >= 0)
            close(s->cfg->expert_fds[i]);
        s->cfg->expert_fds[i] = -1;
    }
    supervisor_free(s);
}

pid_t es_supervisor_worker_pid(const struct es_supervisor *sup, size_t index)
{
    const struct supervisor *s = (const struct supervisor *)sup;
    if (index >= s->cfg->count)
        return -1;
    const struct worker *w = &s->workers[index];
    return w->started && !w->exited ? w->child.pid : -1;
}

int es_supervisor_run(struct es_supervisor *sup)
{
    struct supervisor *s = (struct supervisor *)sup;
    const struct es_supervise_config *cfg = s->cfg;
    struct worker *workers = s->workers;
    es_supervise_interrupted = 0;
    if (cfg->handle_signals)
        catch_signals(s);   /* without it Ctrl-C still ends the run, less gracefully */
    start_progress_timer(s);

    while (s->next < cfg->count || s->running > 0 || s->tearing_down > 0) {
        start_pending(s);
        if (s->output_failed) {
            /* Nobody can read results any more: stop every worker now. */
            for (size_t i = 0; i < cfg->count; i++)
                kill_worker(&workers[i]);
        }
        if (s->running == 0 && s->tearing_down == 0)
            continue;
        /* A worker whose ring still holds records is not waited for. */
        bool ring_pending = false;
        for (size_t i = 0; i < cfg->count && !ring_pending; i++)
            ring_pending = workers[i].ring_pending && workers[i].started && !workers[i].ended;
        struct epoll_event events[32];
        int n = epoll_wait(s->epoll, events, 32, ring_pending ? 0 : -1);
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
            dispatch(s, events[i].data.u64, events[i].events);
        for (size_t i = 0; i < cfg->count; i++)
            if (workers[i].ring_pending && workers[i].started && !workers[i].ended)
                drain_ring(s, &workers[i]);
    }

    es_supervise_interrupted = s->interrupted;
    release_signals(s);
    if (s->progress_timer >= 0)
        close(s->progress_timer);
    es_progress_clear(cfg->progress);
    bool failed = s->output_failed;
    int err = s->output_errno;
    supervisor_free(s);
    if (failed) {
        errno = err;
        return -1;
    }
    return 0;
}

int es_supervise(const struct es_supervise_config *cfg, struct es_outcome *outcomes,
                 struct es_registration *registrations)
{
    struct es_supervisor *s = es_supervisor_new(cfg, outcomes, registrations);
    return s ? es_supervisor_run(s) : -1;
}
