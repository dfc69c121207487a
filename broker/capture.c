/*
 * capture.c - read a capture once with libpcap into a sealed frame store.
 *
 * The capture is untrusted input: it may be truncated, fuzzed or simply not a
 * capture.  We classify what we can ourselves before libpcap sees the file
 * (so the analyst gets "no such file" rather than a libpcap paraphrase), let
 * libpcap parse the records, and check every size and offset we derive from
 * them before it reaches the store.
 *
 * The store is written sequentially with write() into a memfd (by a helper
 * thread, while this one reads the next frames: see struct store_writer):
 *
 *   [header placeholder][frame 0][frame 1]...[index][filter bitmap]
 *
 * and the real header is written last with pwrite(), once every offset is
 * known.  We deliberately never map the memfd writable: F_SEAL_WRITE is
 * refused while a writable shared mapping exists, and write() needs no
 * mapping at all.  Only after sealing do we map it, read-only.
 */
#include "capture.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "faults.h"
#include "netmon.h"
#include "wire.h"

static_assert(sizeof(FRAME) == ES_STORE_FRAME_HEADER, "FRAME header must match the store layout");
static_assert(sizeof(struct es_store_header) % ES_STORE_ALIGN == 0,
              "frames start right after the header and must stay 8-aligned");

/* One of the store writer's ring of buffers (below): a write() per ~350
 * full-size Ethernet frames.  The ring (4 MiB) stays in the CPU's caches
 * between the loader's copy into it and the kernel's copy out of it; a
 * ring of 16 MiB made the load measurably slower. */
#define STORE_WRITE_BUFFER (512u * 1024u)

/* stdio's default 4 KiB buffer would make libpcap issue one read() per few
 * frames; a larger one makes reading the capture a handful of syscalls. */
#define CAPTURE_READ_BUFFER (256u * 1024u)

/* The largest frame count the API can address: INVALID_FRAME_NUMBER itself
 * is reserved to mean "no frame". */
#define MAX_FRAME_COUNT ((uint32_t)INVALID_FRAME_NUMBER - 1u)

/* The store's size must be representable as an off_t for write()/fstat(). */
#define MAX_STORE_SIZE ((uint64_t)INT64_MAX)

#define USEC_PER_SEC INT64_C(1000000)

/* The first bytes of every format libpcap reads, in either byte order: pcap
 * (µs, ns, and Kuznetzov's modified format) and the pcapng section header
 * block type (a palindrome, so one entry covers both byte orders). */
static const uint32_t capture_magics[] = {0xa1b2c3d4u, 0xd4c3b2a1u, 0xa1b23c4du, 0x4d3cb2a1u,
                                          0xa1b2cd34u, 0x34cdb2a1u, 0x0a0d0d0au};
#define PCAP_NSEC_MAGIC_LE 0xa1b23c4du
#define PCAP_NSEC_MAGIC_BE 0x4d3cb2a1u

/* ------------------------------------------------------------------------ */
/* Error messages                                                           */
/* ------------------------------------------------------------------------ */

/* Messages end up in terminals and JSON: one line, no control characters,
 * whatever libpcap (or a hostile file name inside its text) put there. */
static void sanitize_message(char *text)
{
    for (char *c = text; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = ' ';
    size_t len = strlen(text);
    while (len > 0 && text[len - 1] == ' ')
        text[--len] = '\0';
}

__attribute__((format(printf, 4, 5))) static enum es_capture_error
set_error(char *err, size_t errlen, enum es_capture_error code, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
        sanitize_message(err);
    }
    return code;
}

/* Maps an open() or read() errno to the analyst's words. */
static enum es_capture_error classify_errno(int error, char *err, size_t errlen)
{
    switch (error) {
    case ENOENT:
    case ENOTDIR:
        return set_error(err, errlen, ES_CAPTURE_MISSING, "no such file");
    case EACCES:
    case EPERM:
        return set_error(err, errlen, ES_CAPTURE_UNREADABLE, "permission denied");
    case EISDIR:
        return set_error(err, errlen, ES_CAPTURE_UNREADABLE, "is a directory");
    case ENOMEM:
    case EMFILE:
    case ENFILE:
        return set_error(err, errlen, ES_CAPTURE_RESOURCE, "cannot open: %s", strerror(error));
    default:
        return set_error(err, errlen, ES_CAPTURE_UNREADABLE, "cannot read: %s", strerror(error));
    }
}

/* "16 frames are intact" with the grammar right for 0 and 1. */
static const char *intact_phrase(uint32_t intact, char *buf, size_t buflen)
{
    if (intact == 0)
        snprintf(buf, buflen, "no frame is intact");
    else if (intact == 1)
        snprintf(buf, buflen, "1 frame is intact");
    else
        snprintf(buf, buflen, "%" PRIu32 " frames are intact", intact);
    return buf;
}

/* ------------------------------------------------------------------------ */
/* Buffered sequential writer into the memfd                                */
/* ------------------------------------------------------------------------ */

/*
 * The loading thread fills buffers from a ring while a helper thread
 * write()s the filled ones, in order.  Writing the store is the larger half
 * of the load and cannot be shared: the kernel allocates the memfd's pages
 * under the file's lock, so two threads writing one memfd take as long as
 * one (docs/performance.md, Scaling).  What the ring buys is that the
 * writer seldom waits for the reader: reading and parsing the capture is
 * the smaller half and runs ahead by up to a ring's worth, and the threads
 * wake each other seldom (the reader, once the ring is full, sleeps until
 * half of it is free; the writer is woken only when it has run dry).
 *
 * Buffers are handed over and written in store order; the loading thread
 * waits for the thread before it reuses a slot, before any write of its own
 * and before the store is finished.  A failed write is kept (the thread
 * writes nothing more) and reported at the next hand-over or wait.  If the
 * thread cannot be started, every write is made in the loading thread with
 * one buffer.
 */
#define STORE_RING_SLOTS 8u

struct store_writer {
    int fd;
    uint64_t pos;             /* bytes accepted so far: the store offset of the next byte */
    uint8_t *ring[STORE_RING_SLOTS];
    size_t ring_len[STORE_RING_SLOTS];
    uint8_t *buf;             /* being filled: ring[handed % slots] */
    size_t used;

    bool background;          /* the thread is running */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t work;      /* for the thread: a buffer was handed over, or quit */
    pthread_cond_t room;      /* for the loader: buffers were written */
    /* Under lock from here on (handed is written only by the loader). */
    uint64_t handed;          /* buffers handed to the thread so far */
    uint64_t written;         /* of those, buffers the thread is done with */
    bool thread_idle;         /* it waits for work */
    bool loader_waiting;      /* it waits until written >= loader_wants */
    uint64_t loader_wants;
    int error;                /* errno of the first failed write, 0 if none */
    bool quit;
};

static bool write_fully(int fd, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        if (n == 0) {
            errno = ENOSPC;
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static void *writer_thread(void *arg)
{
    struct store_writer *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (w->written == w->handed && !w->quit) {
            w->thread_idle = true;
            pthread_cond_wait(&w->work, &w->lock);
            w->thread_idle = false;
        }
        if (w->written == w->handed)
            break;   /* quit, with nothing left to write */
        unsigned slot = (unsigned)(w->written % STORE_RING_SLOTS);
        bool failed = w->error != 0;
        pthread_mutex_unlock(&w->lock);
        int error = !failed && !write_fully(w->fd, w->ring[slot], w->ring_len[slot]) ? errno : 0;
        pthread_mutex_lock(&w->lock);
        if (error && w->error == 0)
            w->error = error;
        w->written++;
        if (w->loader_waiting && w->written >= w->loader_wants)
            pthread_cond_signal(&w->room);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* Allocates the rest of the ring and starts the thread, with every signal
 * blocked in it (it inherits the mask): signals are the loading thread's
 * business.  ring[0] is already there. */
static void writer_start_background(struct store_writer *w)
{
    for (unsigned i = 1; i < STORE_RING_SLOTS; i++) {
        w->ring[i] = malloc(STORE_WRITE_BUFFER);
        if (w->ring[i] == NULL)
            goto no_thread;
    }
    if (pthread_mutex_init(&w->lock, NULL) != 0)
        goto no_thread;
    if (pthread_cond_init(&w->work, NULL) != 0)
        goto no_work;
    if (pthread_cond_init(&w->room, NULL) != 0)
        goto no_room;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    w->background = pthread_create(&w->thread, NULL, writer_thread, w) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (w->background)
        return;
    pthread_cond_destroy(&w->room);
no_room:
    pthread_cond_destroy(&w->work);
no_work:
    pthread_mutex_destroy(&w->lock);
no_thread:
    for (unsigned i = 1; i < STORE_RING_SLOTS; i++) {
        free(w->ring[i]);
        w->ring[i] = NULL;
    }
}

/* Waits (lock held) until the thread has written at least `count` buffers;
 * false with errno set if any write so far failed. */
static bool writer_wait_written(struct store_writer *w, uint64_t count)
{
    if (w->written < count) {
        w->loader_wants = count;
        w->loader_waiting = true;
        while (w->written < count)
            pthread_cond_wait(&w->room, &w->lock);
        w->loader_waiting = false;
    }
    if (w->error) {
        errno = w->error;
        return false;
    }
    return true;
}

/* Waits until the thread has written everything handed to it; false with
 * errno set if any of it failed. */
static bool writer_drain(struct store_writer *w)
{
    if (!w->background)
        return true;
    pthread_mutex_lock(&w->lock);
    bool ok = writer_wait_written(w, w->handed);
    int error = errno;
    pthread_mutex_unlock(&w->lock);
    errno = error;
    return ok;
}

static void writer_stop_background(struct store_writer *w)
{
    if (!w->background)
        return;
    pthread_mutex_lock(&w->lock);
    w->quit = true;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);   /* it writes what it holds, then ends */
    pthread_cond_destroy(&w->room);
    pthread_cond_destroy(&w->work);
    pthread_mutex_destroy(&w->lock);
    w->background = false;
}

/* Hands the filled buffer over (or writes it, without the thread) and
 * makes the next slot the one being filled.  A failure of an earlier
 * hand-over is reported here at the latest. */
static bool writer_flush(struct store_writer *w)
{
    if (w->used == 0)
        return true;
    if (!w->background) {
        bool ok = write_fully(w->fd, w->buf, w->used);
        w->used = 0;
        return ok;
    }
    pthread_mutex_lock(&w->lock);
    unsigned slot = (unsigned)(w->handed % STORE_RING_SLOTS);
    w->ring_len[slot] = w->used;
    w->handed++;
    if (w->thread_idle)
        pthread_cond_signal(&w->work);
    /* The next slot is free once its previous buffer is written; when the
     * ring is full, sleep until half of it is free rather than wake for
     * every buffer. */
    bool ok = true;
    if (w->handed - w->written >= STORE_RING_SLOTS)
        ok = writer_wait_written(w, w->handed - STORE_RING_SLOTS / 2u);
    else if (w->error) {
        errno = w->error;
        ok = false;
    }
    int error = errno;
    pthread_mutex_unlock(&w->lock);
    w->buf = w->ring[w->handed % STORE_RING_SLOTS];
    w->used = 0;
    errno = error;
    return ok;
}

/* Appends len bytes; on failure errno says why (ENOSPC, ENOMEM, EFBIG...). */
static bool writer_put(struct store_writer *w, const void *data, size_t len)
{
    uint64_t end;
    if (__builtin_add_overflow(w->pos, (uint64_t)len, &end) || end > MAX_STORE_SIZE) {
        errno = EFBIG;
        return false;
    }
    if (len > STORE_WRITE_BUFFER - w->used) {
        if (!writer_flush(w))
            return false;
        if (len >= STORE_WRITE_BUFFER) {
            /* Copying something this large (the index) through the buffers
             * buys nothing; it goes after what the thread is writing. */
            if (!writer_drain(w) || !write_fully(w->fd, data, len))
                return false;
            w->pos = end;
            return true;
        }
    }
    memcpy(w->buf + w->used, data, len);
    w->used += len;
    w->pos = end;
    return true;
}

static bool writer_pad_to_alignment(struct store_writer *w)
{
    static const uint8_t zeros[ES_STORE_ALIGN];
    size_t misalign = (size_t)(w->pos % ES_STORE_ALIGN);
    return misalign == 0 || writer_put(w, zeros, ES_STORE_ALIGN - misalign);
}

/* ------------------------------------------------------------------------ */
/* Everything one load holds, so every exit path releases it the same way    */
/* ------------------------------------------------------------------------ */

struct load {
    int source_fd;            /* the capture, until a FILE owns it */
    FILE *source;             /* the capture, until libpcap owns it */
    char *source_buffer;      /* stdio buffer for source; outlives the FILE */
    pcap_t *pcap;
    struct bpf_program filter;
    bool have_filter;
    bool nanosecond;

    struct store_writer writer;
    uint64_t *offsets;        /* store offset of each frame's FRAME */
    size_t offsets_capacity;
    uint8_t *bitmap;          /* one bit per frame, set when it passes the filter */
    size_t bitmap_capacity;   /* bytes */
    uint32_t frame_count;
    uint32_t frames_passing;
    int64_t first_ts_usec;

    void *map;
    uint64_t map_size;
};

static void load_release(struct load *l)
{
    if (l->have_filter) {
        pcap_freecode(&l->filter);
        l->have_filter = false;
    }
    if (l->pcap != NULL) {
        pcap_close(l->pcap);   /* also fcloses the FILE it was given */
        l->pcap = NULL;
        l->source = NULL;
        l->source_fd = -1;
    }
    if (l->source != NULL) {
        fclose(l->source);
        l->source = NULL;
        l->source_fd = -1;
    }
    if (l->source_fd >= 0) {
        close(l->source_fd);
        l->source_fd = -1;
    }
    free(l->source_buffer);
    l->source_buffer = NULL;
    writer_stop_background(&l->writer);
    for (unsigned i = 0; i < STORE_RING_SLOTS; i++) {
        free(l->writer.ring[i]);
        l->writer.ring[i] = NULL;
    }
    l->writer.buf = NULL;
    free(l->offsets);
    l->offsets = NULL;
    free(l->bitmap);
    l->bitmap = NULL;
}

/* On failure the store is dropped as well. */
static void load_abandon(struct load *l)
{
    load_release(l);
    if (l->map != NULL) {
        munmap(l->map, (size_t)l->map_size);
        l->map = NULL;
    }
    if (l->writer.fd >= 0) {
        close(l->writer.fd);
        l->writer.fd = -1;
    }
}

static bool record_offset(struct load *l, uint64_t offset)
{
    if (l->frame_count == l->offsets_capacity) {
        size_t capacity = l->offsets_capacity ? l->offsets_capacity * 2 : 4096;
        if (capacity > SIZE_MAX / sizeof *l->offsets || capacity < l->offsets_capacity)
            return false;
        uint64_t *grown = realloc(l->offsets, capacity * sizeof *grown);
        if (grown == NULL)
            return false;
        l->offsets = grown;
        l->offsets_capacity = capacity;
    }
    l->offsets[l->frame_count] = offset;
    return true;
}

static bool record_filter_bit(struct load *l, uint32_t frame, bool passes)
{
    size_t byte = frame / 8u;
    if (byte >= l->bitmap_capacity) {
        size_t capacity = l->bitmap_capacity ? l->bitmap_capacity * 2 : 4096;
        if (capacity < l->bitmap_capacity)
            return false;
        uint8_t *grown = realloc(l->bitmap, capacity);
        if (grown == NULL)
            return false;
        memset(grown + l->bitmap_capacity, 0, capacity - l->bitmap_capacity);
        l->bitmap = grown;
        l->bitmap_capacity = capacity;
    }
    if (passes)
        l->bitmap[byte] |= (uint8_t)(1u << (frame % 8u));
    return true;
}

/* ------------------------------------------------------------------------ */
/* Opening the capture                                                      */
/* ------------------------------------------------------------------------ */

static bool is_prefix_of_capture_magic(const uint8_t *bytes, size_t len)
{
    for (size_t i = 0; i < sizeof capture_magics / sizeof capture_magics[0]; i++) {
        uint8_t magic[4];
        memcpy(magic, &capture_magics[i], sizeof magic);
        if (memcmp(bytes, magic, len) == 0)
            return true;
    }
    return false;
}

/*
 * Opens path ourselves so that what we check is what libpcap reads (no
 * window in which the name could be pointed elsewhere), and sorts out the
 * failures a person should hear about in plain words.
 */
static enum es_capture_error open_source(struct load *l, const char *path, char *err,
                                         size_t errlen)
{
    /* O_NONBLOCK: opening a FIFO must not hang the broker; it is refused
     * below as not a regular file anyway. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return classify_errno(errno, err, errlen);
    l->source_fd = fd;

    struct stat st;
    if (fstat(fd, &st) != 0)
        return classify_errno(errno, err, errlen);
    if (S_ISDIR(st.st_mode))
        return set_error(err, errlen, ES_CAPTURE_UNREADABLE, "is a directory");
    if (!S_ISREG(st.st_mode))
        return set_error(err, errlen, ES_CAPTURE_UNREADABLE, "not a regular file");
    if (st.st_size == 0)
        return set_error(err, errlen, ES_CAPTURE_EMPTY, "empty file");
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0)
        return classify_errno(errno, err, errlen);

    /* pread leaves the file position at 0 for libpcap. */
    uint8_t magic[4];
    ssize_t got;
    do
        got = pread(fd, magic, sizeof magic, 0);
    while (got < 0 && errno == EINTR);
    if (got < 0)
        return classify_errno(errno, err, errlen);
    if (got == 0)   /* shrank to nothing since fstat */
        return set_error(err, errlen, ES_CAPTURE_EMPTY, "empty file");
    if ((size_t)got < sizeof magic) {
        /* libpcap calls anything this short "truncated"; only a file that
         * could be the start of a capture deserves that word. */
        if (is_prefix_of_capture_magic(magic, (size_t)got))
            return set_error(err, errlen, ES_CAPTURE_TRUNCATED,
                             "truncated: file ends inside the capture file header");
        return set_error(err, errlen, ES_CAPTURE_NOT_CAPTURE, "not a pcap or pcapng file");
    }
    uint32_t magic_word;
    memcpy(&magic_word, magic, sizeof magic_word);
    l->nanosecond = magic_word == PCAP_NSEC_MAGIC_LE || magic_word == PCAP_NSEC_MAGIC_BE;

    l->source = fdopen(fd, "rb");
    if (l->source == NULL)
        return set_error(err, errlen, ES_CAPTURE_RESOURCE, "cannot open: %s", strerror(errno));
    l->source_buffer = malloc(CAPTURE_READ_BUFFER);
    if (l->source_buffer != NULL)
        setvbuf(l->source, l->source_buffer, _IOFBF, CAPTURE_READ_BUFFER);

    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    l->pcap = pcap_fopen_offline_with_tstamp_precision(l->source, PCAP_TSTAMP_PRECISION_MICRO,
                                                       pcap_err);
    if (l->pcap == NULL) {
        /* libpcap leaves a FILE it could not use to us; load_release closes it. */
        if (strstr(pcap_err, "unknown file format") != NULL ||
            strstr(pcap_err, "bad dump file format") != NULL)
            return set_error(err, errlen, ES_CAPTURE_NOT_CAPTURE, "not a pcap or pcapng file");
        if (strstr(pcap_err, "truncated") != NULL)
            return set_error(err, errlen, ES_CAPTURE_TRUNCATED,
                             "truncated: file ends inside the capture file header");
        if (strstr(pcap_err, "unsupported") != NULL || strstr(pcap_err, "archaic") != NULL)
            return set_error(err, errlen, ES_CAPTURE_NOT_CAPTURE, "unsupported capture format: %s",
                             pcap_err);
        if (strstr(pcap_err, "error reading") != NULL)
            return set_error(err, errlen, ES_CAPTURE_UNREADABLE, "%s", pcap_err);
        if (strstr(pcap_err, "out of memory") != NULL)
            return set_error(err, errlen, ES_CAPTURE_RESOURCE, "%s", pcap_err);
        return set_error(err, errlen, ES_CAPTURE_CORRUPT, "corrupt capture file header: %s",
                         pcap_err);
    }
    /* The FILE (and with it the descriptor) now belongs to libpcap. */
    l->source = NULL;
    l->source_fd = -1;
    return ES_CAPTURE_OK;
}

/* ------------------------------------------------------------------------ */
/* Copying the frames                                                       */
/* ------------------------------------------------------------------------ */

static bool absolute_usec(const struct pcap_pkthdr *h, int64_t *usec)
{
    int64_t seconds = (int64_t)h->ts.tv_sec;
    int64_t fraction = (int64_t)h->ts.tv_usec;
    int64_t scaled;
    return !__builtin_mul_overflow(seconds, USEC_PER_SEC, &scaled) &&
           !__builtin_add_overflow(scaled, fraction, usec);
}

/* Why pcap_next_ex failed, in our terms; reason is libpcap's text. */
static enum es_capture_error classify_read_error(const char *reason)
{
    if (strstr(reason, "truncated") != NULL)
        return ES_CAPTURE_TRUNCATED;
    if (strstr(reason, "error reading") != NULL)
        return ES_CAPTURE_UNREADABLE;
    if (strstr(reason, "out of memory") != NULL)
        return ES_CAPTURE_RESOURCE;
    return ES_CAPTURE_CORRUPT;
}

/*
 * A damaged record ends the capture.  With allow_truncated the frames before
 * it are kept (and err still says what happened, for a warning); otherwise
 * the message says how much would have been usable.
 */
static enum es_capture_error damaged_record(struct load *l, enum es_capture_error kind,
                                            const char *reason, bool allow_truncated,
                                            bool *truncated, char *err, size_t errlen)
{
    uint32_t intact = l->frame_count;
    /* 1-based, as a person counts frames; intact < MAX_FRAME_COUNT so no wrap. */
    uint64_t damaged = (uint64_t)intact + 1u;
    char what[128];
    if (kind == ES_CAPTURE_TRUNCATED)
        snprintf(what, sizeof what, "truncated: capture ends inside frame %" PRIu64, damaged);
    else
        snprintf(what, sizeof what, "corrupt: frame %" PRIu64 " is unreadable", damaged);
    const char *detail = kind == ES_CAPTURE_TRUNCATED ? "" : ": ";
    const char *detail_text = kind == ES_CAPTURE_TRUNCATED ? "" : reason;

    char intact_text[64];
    intact_phrase(intact, intact_text, sizeof intact_text);
    if (allow_truncated) {
        *truncated = true;
        set_error(err, errlen, ES_CAPTURE_OK, "%s%s%s (%s; %s)", what, detail, detail_text,
                  intact_text, intact > 0 ? "analysing only those" : "nothing to analyse");
        return ES_CAPTURE_OK;
    }
    return set_error(err, errlen, kind, "%s%s%s (%s; --allow-truncated analyses them)", what,
                     detail, detail_text, intact_text);
}

static enum es_capture_error resource_error(const char *what, int error, char *err, size_t errlen)
{
    return set_error(err, errlen, ES_CAPTURE_RESOURCE, "cannot build the frame store: %s: %s",
                     what, strerror(error));
}

static enum es_capture_error copy_frames(struct load *l, bool allow_truncated, bool *truncated,
                                         char *err, size_t errlen)
{
    for (;;) {
        struct pcap_pkthdr *h;
        const u_char *data;
        int rc = pcap_next_ex(l->pcap, &h, &data);
        if (rc == 1 && ES_FAULT(ES_FAULT_PCAP_READ, EIO)) {
            /* Worded as libpcap words a failing read(2). */
            snprintf(pcap_geterr(l->pcap), PCAP_ERRBUF_SIZE, "error reading dump file: %s", strerror(EIO));
            rc = PCAP_ERROR;
        }
        if (rc == PCAP_ERROR_BREAK)   /* end of the capture */
            return ES_CAPTURE_OK;
        if (rc != 1) {
            /* 0 (a live-capture timeout) cannot happen offline; treat any
             * surprise as damage rather than loop on it. */
            const char *reason =
                rc == PCAP_ERROR ? pcap_geterr(l->pcap) : "unexpected reader state";
            enum es_capture_error kind = classify_read_error(reason);
            if (kind == ES_CAPTURE_TRUNCATED || kind == ES_CAPTURE_CORRUPT)
                return damaged_record(l, kind, reason, allow_truncated, truncated, err, errlen);
            return set_error(err, errlen, kind, "frame %" PRIu64 ": %s",
                             (uint64_t)l->frame_count + 1u, reason);
        }

        if (l->frame_count >= MAX_FRAME_COUNT)
            return set_error(err, errlen, ES_CAPTURE_RESOURCE,
                             "too many frames: the frame store holds at most %" PRIu32,
                             MAX_FRAME_COUNT);

        int64_t ts_usec;
        if (!absolute_usec(h, &ts_usec))
            return damaged_record(l, ES_CAPTURE_CORRUPT, "timestamp out of range",
                                  allow_truncated, truncated, err, errlen);
        if (l->frame_count == 0)
            l->first_ts_usec = ts_usec;
        FRAME frame;
        /* Signed on purpose: captures merged badly go backwards in time. */
        if (__builtin_sub_overflow(ts_usec, l->first_ts_usec, &frame.TimeStamp))
            return damaged_record(l, ES_CAPTURE_CORRUPT, "timestamp out of range",
                                  allow_truncated, truncated, err, errlen);
        /* Stored as libpcap reports them, even caplen > len: a fuzzed file may
         * say so, and an expert must see the capture as it is, not a guess. */
        frame.FrameLength = h->len;
        frame.nBytesAvail = h->caplen;

        if (!record_offset(l, l->writer.pos))
            return resource_error("index", ENOMEM, err, errlen);
        if (l->have_filter) {
            bool passes = pcap_offline_filter(&l->filter, h, data) != 0;
            if (!record_filter_bit(l, l->frame_count, passes))
                return resource_error("filter bitmap", ENOMEM, err, errlen);
            l->frames_passing += passes;
        }
        if (!writer_put(&l->writer, &frame, sizeof frame) ||
            !writer_put(&l->writer, data, h->caplen) || !writer_pad_to_alignment(&l->writer))
            return resource_error("write", errno, err, errlen);
        l->frame_count++;
    }
}

/* ------------------------------------------------------------------------ */
/* Putting it together                                                      */
/* ------------------------------------------------------------------------ */

static enum es_capture_error build_store(struct load *l, const struct es_capture_options *opt,
                                         bool *truncated, char *err, size_t errlen)
{
    if (opt->filter != NULL) {
        if (pcap_compile(l->pcap, &l->filter, opt->filter, 1, PCAP_NETMASK_UNKNOWN) != 0)
            return set_error(err, errlen, ES_CAPTURE_BAD_FILTER, "bad filter expression: %s",
                             pcap_geterr(l->pcap));
        l->have_filter = true;
    }

    l->writer.fd = ES_FAULT(ES_FAULT_MEMFD, EMFILE)
                       ? -1
                       : memfd_create("expert-sandbox-frames", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (l->writer.fd < 0)
        return resource_error("memfd_create", errno, err, errlen);
    l->writer.ring[0] = malloc(STORE_WRITE_BUFFER);
    if (l->writer.ring[0] == NULL)
        return resource_error("write buffer", ENOMEM, err, errlen);
    l->writer.buf = l->writer.ring[0];
    writer_start_background(&l->writer);

    struct es_store_header header = {0};
    if (!writer_put(&l->writer, &header, sizeof header))
        return resource_error("write", errno, err, errlen);

    enum es_capture_error rc = copy_frames(l, opt->allow_truncated, truncated, err, errlen);
    if (rc != ES_CAPTURE_OK)
        return rc;

    /* Every frame was padded, so the index starts 8-aligned, and 8-byte
     * entries keep the bitmap after it aligned too. */
    uint64_t index_offset = l->writer.pos;
    if (l->frame_count > 0 &&
        !writer_put(&l->writer, l->offsets, (size_t)l->frame_count * sizeof *l->offsets))
        return resource_error("write", errno, err, errlen);
    uint64_t filter_offset = 0;
    if (l->have_filter) {
        filter_offset = l->writer.pos;
        size_t bitmap_bytes = ((size_t)l->frame_count + 7u) / 8u;
        if (bitmap_bytes > 0 && !writer_put(&l->writer, l->bitmap, bitmap_bytes))
            return resource_error("write", errno, err, errlen);
    }
    if (!writer_flush(&l->writer) || !writer_drain(&l->writer))
        return resource_error("write", errno, err, errlen);
    uint64_t total_size = l->writer.pos;

    memcpy(header.magic, ES_STORE_MAGIC, sizeof header.magic);
    header.version = ES_PROTOCOL_VERSION;
    header.header_size = sizeof header;
    header.total_size = total_size;
    header.frame_count = l->frame_count;
    header.link_type = (uint32_t)pcap_datalink(l->pcap);
    header.snaplen = (uint32_t)pcap_snapshot(l->pcap);
    header.flags = (l->have_filter ? ES_STORE_HAS_FILTER : 0u) |
                   (l->nanosecond ? ES_STORE_NANOSECOND : 0u);
    header.first_ts_usec = l->frame_count > 0 ? l->first_ts_usec : 0;
    header.index_offset = index_offset;
    header.filter_offset = filter_offset;
    header.frames_offset = sizeof header;
    ssize_t written;
    do
        written = pwrite(l->writer.fd, &header, sizeof header, 0);
    while (written < 0 && errno == EINTR);
    if (written != (ssize_t)sizeof header)
        return resource_error("header", written < 0 ? errno : EIO, err, errlen);

    struct stat st;
    if (fstat(l->writer.fd, &st) != 0)
        return resource_error("fstat", errno, err, errlen);
    if ((uint64_t)st.st_size != total_size)
        return set_error(err, errlen, ES_CAPTURE_RESOURCE,
                         "cannot build the frame store: it has %lld bytes, expected %" PRIu64,
                         (long long)st.st_size, total_size);
    if (fcntl(l->writer.fd, F_ADD_SEALS,
              F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
        return resource_error("sealing", errno, err, errlen);
    if (total_size > SIZE_MAX)
        return resource_error("mmap", EFBIG, err, errlen);

    void *map = ES_FAULT(ES_FAULT_MMAP, ENOMEM)
                    ? MAP_FAILED
                    : mmap(NULL, (size_t)total_size, PROT_READ, MAP_SHARED, l->writer.fd, 0);
    if (map == MAP_FAILED && errno == EPERM) {
        /* Kernels before 6.7 refuse even read-only shared mappings of a
         * write-sealed memfd.  The contents can no longer change, so a
         * private read-only mapping shows exactly the same bytes. */
        map = mmap(NULL, (size_t)total_size, PROT_READ, MAP_PRIVATE, l->writer.fd, 0);
    }
    if (map == MAP_FAILED)
        return resource_error("mmap", errno, err, errlen);
    l->map = map;
    l->map_size = total_size;

    /* The worker trusts this header; make sure what we wrote is what it will check. */
    if (!es_store_header_valid(map, total_size))
        return set_error(err, errlen, ES_CAPTURE_RESOURCE,
                         "cannot build the frame store: its header does not validate");
    return ES_CAPTURE_OK;
}

enum es_capture_error es_capture_load(const char *path, const struct es_capture_options *opt,
                                      struct es_capture *out, char *err, size_t errlen)
{
    static const struct es_capture_options no_options = {NULL, false};
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (out == NULL)
        return set_error(err, errlen, ES_CAPTURE_RESOURCE, "no place to put the capture");
    *out = (struct es_capture){.fd = -1};
    if (path == NULL || path[0] == '\0')
        return set_error(err, errlen, ES_CAPTURE_MISSING, "no such file");
    if (opt == NULL)
        opt = &no_options;

    struct load l = {.source_fd = -1, .writer = {.fd = -1}};
    bool truncated = false;
    enum es_capture_error rc = open_source(&l, path, err, errlen);
    if (rc == ES_CAPTURE_OK)
        rc = build_store(&l, opt, &truncated, err, errlen);
    if (rc != ES_CAPTURE_OK) {
        load_abandon(&l);
        return rc;
    }

    out->fd = l.writer.fd;
    out->size = l.map_size;
    out->frame_count = l.frame_count;
    out->frames_passing = l.have_filter ? l.frames_passing : l.frame_count;
    out->link_type = (uint32_t)pcap_datalink(l.pcap);
    out->truncated = truncated;
    out->map = l.map;
    /* Ownership of the memfd and the mapping has passed to *out. */
    l.writer.fd = -1;
    l.map = NULL;
    load_release(&l);
    return ES_CAPTURE_OK;
}

void es_capture_close(struct es_capture *c)
{
    if (c == NULL)
        return;
    if (c->map != NULL && c->size <= SIZE_MAX)
        munmap((void *)c->map, (size_t)c->size);
    c->map = NULL;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->size = 0;
    c->frame_count = 0;
    c->frames_passing = 0;
    c->truncated = false;
}
