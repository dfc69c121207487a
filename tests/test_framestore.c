/*
 * test_framestore.c - the frame store the broker builds, checked against what
 * libpcap itself reads from the same files.
 *
 * Inputs: the project's sample capture (ES_SAMPLE_PCAP, made by mkpcap), the
 * shared capture corpus (ES_SHARED_CAPTURES; hundreds of real and deliberately
 * malformed captures), and small captures built byte by byte in a temporary
 * directory to reach every refusal the loader has.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture.h"
#include "framestore.h"
#include "netmon.h"
#include "wire.h"

#define ALL_SEALS (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

/* Check records the location of every passing ck_assert with a write(); the
 * helpers below run for every frame of hundreds of captures, so they only
 * involve Check when something is actually wrong. */
#define require(cond, ...)                   \
    do {                                     \
        if (!(cond))                         \
            ck_abort_msg(__VA_ARGS__);       \
    } while (0)
#define require_equal(a, b)                                                              \
    do {                                                                                 \
        long long require_a = (long long)(a), require_b = (long long)(b);                \
        if (require_a != require_b)                                                      \
            ck_abort_msg("%s == %s failed: %lld != %lld", #a, #b, require_a, require_b); \
    } while (0)

/* ------------------------------------------------------------------------ */
/* Temporary directory                                                      */
/* ------------------------------------------------------------------------ */

static char temp_dir[PATH_MAX];

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[PATH_MAX];
        int len = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (len < 0 || len >= (int)sizeof path)
            continue;
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            remove_tree(path);
        else
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static void make_temp_dir(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(temp_dir, sizeof temp_dir, "%s/es-framestore-XXXXXX", base && *base ? base : "/tmp");
    ck_assert_msg(mkdtemp(temp_dir) != NULL, "mkdtemp: %s", strerror(errno));
}

static void remove_temp_dir(void)
{
    if (temp_dir[0] != '\0')
        remove_tree(temp_dir);
    temp_dir[0] = '\0';
}

static const char *temp_path(const char *name)
{
    /* A ring: callers hold a few paths at once, never more than 16. */
    static char paths[16][PATH_MAX];
    static unsigned next;
    char *path = paths[next++ % 16];
    int len = snprintf(path, PATH_MAX, "%s/%s", temp_dir, name);
    ck_assert(len > 0 && len < PATH_MAX);
    return path;
}

static void write_file(const char *path, const void *data, size_t len)
{
    /* A fresh file rather than O_TRUNC: on ext4, truncating a file that has
     * data forces its blocks to disk at close, which costs milliseconds. */
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    ck_assert_msg(fd >= 0, "create %s: %s", path, strerror(errno));
    ck_assert_msg(write(fd, data, len) == (ssize_t)len, "write %s", path);
    close(fd);
}

/* ------------------------------------------------------------------------ */
/* Building captures byte by byte                                           */
/* ------------------------------------------------------------------------ */

struct bytes {
    uint8_t *data;
    size_t len, cap;
    bool big_endian;
};

static void put_bytes(struct bytes *b, const void *data, size_t len)
{
    if (b->len + len > b->cap) {
        b->cap = (b->len + len) * 2 + 256;
        b->data = realloc(b->data, b->cap);
        ck_assert(b->data != NULL);
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

static void put_u16(struct bytes *b, uint16_t v)
{
    uint8_t p[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    if (b->big_endian) {
        p[0] = (uint8_t)(v >> 8);
        p[1] = (uint8_t)v;
    }
    put_bytes(b, p, sizeof p);
}

static void put_u32(struct bytes *b, uint32_t v)
{
    uint8_t p[4];
    for (int i = 0; i < 4; i++)
        p[b->big_endian ? 3 - i : i] = (uint8_t)(v >> (8 * i));
    put_bytes(b, p, sizeof p);
}

static void pcap_file_header(struct bytes *b, uint32_t magic, uint16_t major, uint32_t snaplen,
                             uint32_t linktype)
{
    put_u32(b, magic);
    put_u16(b, major);
    put_u16(b, 4);
    put_u32(b, 0);
    put_u32(b, 0);
    put_u32(b, snaplen);
    put_u32(b, linktype);
}

/* Frame content that differs per frame and per byte, so a mix-up shows. */
static void frame_content(uint8_t *out, size_t len, unsigned frame)
{
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(frame * 31u + i * 7u + 1u);
}

static void pcap_record(struct bytes *b, uint32_t sec, uint32_t frac, uint32_t caplen,
                        uint32_t len, unsigned frame)
{
    put_u32(b, sec);
    put_u32(b, frac);
    put_u32(b, caplen);
    put_u32(b, len);
    uint8_t data[2048];
    ck_assert(caplen <= sizeof data);
    frame_content(data, caplen, frame);
    put_bytes(b, data, caplen);
}

/* A small valid Ethernet pcap: `frames` frames of 60..(60+frames) bytes. */
static struct bytes small_pcap(unsigned frames)
{
    struct bytes b = {0};
    pcap_file_header(&b, 0xa1b2c3d4u, 2, 65535, DLT_EN10MB);
    for (unsigned i = 0; i < frames; i++)
        pcap_record(&b, 1700000000u + i, 250000u * (i % 4u), 60 + i, 60 + i, i);
    return b;
}

/* pcapng: section header, one Ethernet interface, then enhanced packet blocks. */
static void pcapng_header(struct bytes *b)
{
    put_u32(b, 0x0a0d0d0au);
    put_u32(b, 28);
    put_u32(b, 0x1a2b3c4du);
    put_u16(b, 1);
    put_u16(b, 0);
    put_u32(b, 0xffffffffu);   /* section length unknown */
    put_u32(b, 0xffffffffu);
    put_u32(b, 28);
    put_u32(b, 1);             /* interface description block */
    put_u32(b, 20);
    put_u16(b, DLT_EN10MB);
    put_u16(b, 0);
    put_u32(b, 65535);
    put_u32(b, 20);
}

/* The same, but the interface counts time in whole seconds (if_tsresol 0),
 * so a 64-bit timestamp can exceed what microseconds since 1970 can hold. */
static void pcapng_header_in_seconds(struct bytes *b)
{
    put_u32(b, 0x0a0d0d0au);
    put_u32(b, 28);
    put_u32(b, 0x1a2b3c4du);
    put_u16(b, 1);
    put_u16(b, 0);
    put_u32(b, 0xffffffffu);
    put_u32(b, 0xffffffffu);
    put_u32(b, 28);
    put_u32(b, 1);
    put_u32(b, 32);
    put_u16(b, DLT_EN10MB);
    put_u16(b, 0);
    put_u32(b, 65535);
    put_u16(b, 9);             /* if_tsresol */
    put_u16(b, 1);
    put_bytes(b, "\0\0\0\0", 4); /* 10^-0: seconds, then padding */
    put_u32(b, 0);             /* opt_endofopt */
    put_u32(b, 32);
}

static void pcapng_packet(struct bytes *b, uint64_t ts_usec, uint32_t caplen, uint32_t len,
                          unsigned frame)
{
    uint32_t padded = (caplen + 3u) & ~3u;
    uint32_t block_len = 32u + padded;
    put_u32(b, 6);
    put_u32(b, block_len);
    put_u32(b, 0);
    put_u32(b, (uint32_t)(ts_usec >> 32));
    put_u32(b, (uint32_t)ts_usec);
    put_u32(b, caplen);
    put_u32(b, len);
    uint8_t data[2048] = {0};
    ck_assert(padded <= sizeof data);
    frame_content(data, caplen, frame);
    put_bytes(b, data, padded);
    put_u32(b, block_len);
}

static const char *write_capture(const char *name, const struct bytes *b, size_t keep)
{
    const char *path = temp_path(name);
    write_file(path, b->data, keep < b->len ? keep : b->len);
    return path;
}

/* ------------------------------------------------------------------------ */
/* Checks                                                                   */
/* ------------------------------------------------------------------------ */

/* Every refusal must be one printable line for a person, without the file
 * name (the caller prepends it). */
static void assert_message_ok(const char *err, const char *path)
{
    require(err[0] != '\0', "empty error message for %s", path);
    require(err[0] >= 'a' && err[0] <= 'z', "message does not start lowercase: '%s'", err);
    for (const char *c = err; *c; c++)
        require((unsigned char)*c >= 0x20 && *c != 0x7f, "control character in '%s'", err);
    require(strstr(err, path) == NULL, "message repeats the file name: '%s'", err);
    size_t len = strlen(err);
    require(err[len - 1] != ' ', "trailing space in '%s'", err);
}

static unsigned count_seals(int fd)
{
    int seals = fcntl(fd, F_GET_SEALS);
    require(seals >= 0, "F_GET_SEALS: %s", strerror(errno));
    return (unsigned)seals;
}

/* Properties every store has, whatever capture it came from. */
static void verify_store(const struct es_capture *c)
{
    require(c->fd >= 0, "no descriptor");
    require(c->map != NULL, "no mapping");
    const struct es_store_header *h = c->map;
    require(es_store_header_valid(h, c->size), "header does not validate");
    require(memcmp(h->magic, ES_STORE_MAGIC, sizeof h->magic) == 0, "bad magic");
    require_equal(h->version, ES_PROTOCOL_VERSION);
    require_equal(h->frame_count, c->frame_count);
    require_equal(h->link_type, c->link_type);
    require_equal(h->total_size, c->size);
    require_equal(h->index_offset % ES_STORE_ALIGN, 0);
    require_equal(h->frames_offset % ES_STORE_ALIGN, 0);

    struct stat st;
    require_equal(fstat(c->fd, &st), 0);
    require_equal((uint64_t)st.st_size, c->size);

    /* Each frame is 8-aligned and lies wholly inside the store. */
    const uint64_t *index = es_store_index(h);
    uint32_t passing = 0;
    for (uint32_t i = 0; i < h->frame_count; i++) {
        require(index[i] % ES_STORE_ALIGN == 0, "frame %u at unaligned offset %llu", i,
                      (unsigned long long)index[i]);
        require(index[i] >= h->frames_offset, "frame %u before the frames", i);
        require(index[i] <= c->size - ES_STORE_FRAME_HEADER, "frame %u beyond the store", i);
        const FRAME *f = es_store_frame(h, i);
        require(f->nBytesAvail <= c->size - index[i] - ES_STORE_FRAME_HEADER,
                "frame %u overruns the store", i);
        passing += es_store_passes_filter(h, i);
    }
    require_equal(passing, c->frames_passing);

    /* Sealed, and nothing can write to it any more. */
    require_equal(count_seals(c->fd), ALL_SEALS);
    errno = 0;
    void *writable = mmap(NULL, (size_t)c->size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
    require(writable == MAP_FAILED, "sealed store mapped writable");
    require_equal(errno, EPERM);
    errno = 0;
    require_equal(write(c->fd, "x", 1), -1);
    require_equal(errno, EPERM);
    errno = 0;
    require_equal(pwrite(c->fd, "x", 1, 0), -1);
    require_equal(errno, EPERM);
    errno = 0;
    require_equal(ftruncate(c->fd, 0), -1);
    require_equal(errno, EPERM);
    errno = 0;
    require_equal(fcntl(c->fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE), -1);
    require_equal(errno, EPERM);
}

/*
 * Reads path again with libpcap, independently of the loader, and checks
 * that the store holds the same frames.  When the loader kept only the
 * intact part of a damaged capture, libpcap must fail right after them.
 */
static void verify_against_libpcap(const char *path, const struct es_capture *c)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
    require(p != NULL, "%s: libpcap cannot open what the loader accepted: %s", path, errbuf);
    const struct es_store_header *h = c->map;
    require_equal((int)c->link_type, pcap_datalink(p));
    require_equal((int)h->snaplen, pcap_snapshot(p));

    uint32_t n = 0;
    int64_t first_usec = 0;
    struct pcap_pkthdr *ph;
    const u_char *data;
    int rc;
    while ((rc = pcap_next_ex(p, &ph, &data)) == 1) {
        int64_t usec;
        bool usec_in_range = !__builtin_mul_overflow((int64_t)ph->ts.tv_sec, 1000000, &usec) &&
                             !__builtin_add_overflow(usec, (int64_t)ph->ts.tv_usec, &usec);
        if (n == c->frame_count) {
            /* The loader stops early only at damage: a timestamp it cannot
             * express in microseconds (libpcap does not mind those). */
            require(c->truncated, "%s: libpcap reads more than %u frames", path,
                          c->frame_count);
            int64_t delta;
            require(!usec_in_range || n == 0 ||
                        __builtin_sub_overflow(usec, first_usec, &delta),
                          "%s: frame %u dropped with a usable timestamp", path, n + 1);
            rc = PCAP_ERROR;
            break;
        }
        require(usec_in_range, "%s: frame %u kept with timestamp out of range", path, n + 1);
        if (n == 0) {
            first_usec = usec;
            require_equal(h->first_ts_usec, usec);
        }
        const FRAME *f = es_store_frame(h, n);
        require(f->FrameLength == ph->len, "%s frame %u: length %u, libpcap %u", path, n + 1,
                      f->FrameLength, ph->len);
        require(f->nBytesAvail == ph->caplen, "%s frame %u: caplen %u, libpcap %u", path,
                      n + 1, f->nBytesAvail, ph->caplen);
        require(f->TimeStamp == usec - first_usec, "%s frame %u: timestamp %lld, want %lld",
                      path, n + 1, (long long)f->TimeStamp, (long long)(usec - first_usec));
        require(memcmp(f->MacFrame, data, ph->caplen) == 0, "%s frame %u: bytes differ",
                      path, n + 1);
        n++;
    }
    require_equal(n, c->frame_count);
    if (c->truncated)
        require(rc == PCAP_ERROR, "%s: marked truncated but libpcap reads it all", path);
    else
        require(rc == PCAP_ERROR_BREAK, "%s: libpcap fails after frame %u: %s", path, n,
                      pcap_geterr(p));
    pcap_close(p);
}

static enum es_capture_error load(const char *path, const char *filter, bool allow_truncated,
                                  struct es_capture *c, char *err, size_t errlen)
{
    struct es_capture_options opt = {.filter = filter, .allow_truncated = allow_truncated};
    enum es_capture_error rc = es_capture_load(path, &opt, c, err, errlen);
    if (rc != ES_CAPTURE_OK) {
        require_equal(c->fd, -1);
        require(c->map == NULL, "map left behind");
        assert_message_ok(err, path);
    }
    return rc;
}

/* Loads a capture that must be refused with `want`; returns the message. */
static const char *expect_refusal(const char *path, bool allow_truncated,
                                  enum es_capture_error want)
{
    static char err[512];
    struct es_capture c;
    enum es_capture_error rc = load(path, NULL, allow_truncated, &c, err, sizeof err);
    require(rc == want, "%s: got %d ('%s'), want %d", path, rc, err, want);
    return err;
}

/* Loads a capture that must be accepted, checks it fully, and leaves it open. */
static void expect_loaded(const char *path, const char *filter, bool allow_truncated,
                          struct es_capture *c)
{
    char err[512] = "";
    enum es_capture_error rc = load(path, filter, allow_truncated, c, err, sizeof err);
    require(rc == ES_CAPTURE_OK, "%s: refused (%d): %s", path, rc, err);
    verify_store(c);
    verify_against_libpcap(path, c);
}

static const char *corpus_dir(void)
{
    const char *dir = getenv("ES_SHARED_CAPTURES");
    struct stat st;
    if (dir == NULL || *dir == '\0' || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        printf("skipped: ES_SHARED_CAPTURES is %s%s%s; the capture corpus tests need it\n",
               dir ? "'" : "unset", dir ? dir : "", dir ? "', not a directory" : "");
        return NULL;
    }
    return dir;
}

static const char *sample_path(void)
{
    const char *path = getenv("ES_SAMPLE_PCAP");
    if (path == NULL || access(path, R_OK) != 0) {
        printf("skipped: ES_SAMPLE_PCAP (%s) is not readable\n", path ? path : "unset");
        return NULL;
    }
    return path;
}

static int name_order(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* The corpus in a stable order, regular files only; returns the count. */
static int list_corpus(const char *dir, struct dirent ***names)
{
    int n = scandir(dir, names, NULL, name_order);
    ck_assert_msg(n >= 0, "scandir %s: %s", dir, strerror(errno));
    return n;
}

static bool corpus_file(const char *dir, const struct dirent *e, char *path, size_t len)
{
    int written = snprintf(path, len, "%s/%s", dir, e->d_name);
    struct stat st;
    return written > 0 && (size_t)written < len && e->d_name[0] != '.' &&
           stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int count_open_descriptors(void)
{
    DIR *d = opendir("/proc/self/fd");
    ck_assert_msg(d != NULL, "/proc/self/fd: %s", strerror(errno));
    int n = 0;
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

/* ------------------------------------------------------------------------ */
/* The sample capture and the corpus, against libpcap                       */
/* ------------------------------------------------------------------------ */

START_TEST(sample_matches_libpcap)
{
    const char *path = sample_path();
    if (path == NULL)
        return;
    struct es_capture c;
    expect_loaded(path, NULL, false, &c);
    ck_assert_uint_eq(c.frame_count, 2000);   /* tools/meson.build: --frames 2000 */
    ck_assert_uint_eq(c.link_type, DLT_EN10MB);
    ck_assert_uint_eq(c.frames_passing, c.frame_count);
    ck_assert(!c.truncated);
    ck_assert_uint_eq(c.map->flags & ES_STORE_HAS_FILTER, 0);
    ck_assert_uint_eq(c.map->filter_offset, 0);
    /* mkpcap's timestamps strictly increase. */
    for (uint32_t i = 1; i < c.frame_count; i++) {
        const FRAME *prev = es_store_frame(c.map, i - 1), *f = es_store_frame(c.map, i);
        ck_assert(f->TimeStamp > prev->TimeStamp);
        ck_assert(f->FrameLength >= 60 && f->FrameLength <= 1514);
    }
    ck_assert_int_eq(((const FRAME *)es_store_frame(c.map, 0))->TimeStamp, 0);
    es_capture_close(&c);
}
END_TEST

START_TEST(corpus_matches_libpcap)
{
    const char *dir = corpus_dir();
    if (dir == NULL)
        return;
    struct dirent **names;
    int n = list_corpus(dir, &names);
    unsigned compared = 0;
    uint64_t frames = 0;
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX], err[512];
        if (corpus_file(dir, names[i], path, sizeof path)) {
            struct es_capture c;
            if (load(path, NULL, false, &c, err, sizeof err) == ES_CAPTURE_OK) {
                verify_store(&c);
                verify_against_libpcap(path, &c);
                frames += c.frame_count;
                compared++;
                es_capture_close(&c);
            }
        }
        free(names[i]);
    }
    free(names);
    printf("corpus: %u captures (%llu frames) identical to what libpcap reads\n", compared,
           (unsigned long long)frames);
    fflush(stdout);
    ck_assert_msg(compared > 0, "no capture in %s loads", dir);
}
END_TEST

START_TEST(corpus_loads_or_explains)
{
    const char *dir = corpus_dir();
    if (dir == NULL)
        return;
    static const char *const kind_names[] = {
        [ES_CAPTURE_OK] = "ok",
        [ES_CAPTURE_MISSING] = "missing",
        [ES_CAPTURE_UNREADABLE] = "unreadable",
        [ES_CAPTURE_EMPTY] = "empty",
        [ES_CAPTURE_NOT_CAPTURE] = "not a capture",
        [ES_CAPTURE_TRUNCATED] = "truncated",
        [ES_CAPTURE_CORRUPT] = "corrupt",
        [ES_CAPTURE_BAD_FILTER] = "bad filter",
        [ES_CAPTURE_RESOURCE] = "resource",
    };
    unsigned counts[ES_CAPTURE_RESOURCE + 1] = {0}, salvaged = 0;
    struct dirent **names;
    int n = list_corpus(dir, &names);
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX], err[512];
        if (corpus_file(dir, names[i], path, sizeof path)) {
            struct es_capture c;
            enum es_capture_error rc = load(path, NULL, false, &c, err, sizeof err);
            ck_assert_msg(rc >= ES_CAPTURE_OK && rc <= ES_CAPTURE_RESOURCE, "%s: code %d", path,
                          rc);
            ck_assert_msg(rc != ES_CAPTURE_RESOURCE, "%s: %s", path, err);
            counts[rc]++;
            if (rc == ES_CAPTURE_OK)
                es_capture_close(&c);
            /* Damaged captures give up their intact frames when asked. */
            if (rc == ES_CAPTURE_TRUNCATED || rc == ES_CAPTURE_CORRUPT) {
                ck_assert_msg(load(path, NULL, true, &c, err, sizeof err) == ES_CAPTURE_OK,
                              "%s: not salvaged: %s", path, err);
                ck_assert(c.truncated);
                verify_store(&c);
                verify_against_libpcap(path, &c);
                es_capture_close(&c);
                salvaged++;
            }
        }
        free(names[i]);
    }
    free(names);
    printf("corpus:");
    for (int k = 0; k <= ES_CAPTURE_RESOURCE; k++)
        if (counts[k] > 0)
            printf(" %s %u,", kind_names[k], counts[k]);
    printf(" salvaged with allow_truncated %u\n", salvaged);
    fflush(stdout);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Files that are not (whole) captures                                      */
/* ------------------------------------------------------------------------ */

START_TEST(missing_and_unreadable)
{
    const char *err = expect_refusal(temp_path("nothing-here.pcap"), false, ES_CAPTURE_MISSING);
    ck_assert_str_eq(err, "no such file");
    expect_refusal(temp_path("no-dir/x.pcap"), false, ES_CAPTURE_MISSING);

    err = expect_refusal(temp_dir, false, ES_CAPTURE_UNREADABLE);
    ck_assert_str_eq(err, "is a directory");

    const char *fifo = temp_path("fifo");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    err = expect_refusal(fifo, false, ES_CAPTURE_UNREADABLE);   /* and does not block */
    ck_assert_str_eq(err, "not a regular file");

    struct bytes b = small_pcap(2);
    const char *locked = write_capture("locked.pcap", &b, SIZE_MAX);
    free(b.data);
    ck_assert_int_eq(chmod(locked, 0), 0);
    if (geteuid() == 0) {
        printf("skipped: permission test (root reads files with mode 000)\n");
    } else {
        err = expect_refusal(locked, false, ES_CAPTURE_UNREADABLE);
        ck_assert_str_eq(err, "permission denied");
    }
}
END_TEST

START_TEST(empty_and_not_captures)
{
    const char *empty = temp_path("empty.pcap");
    write_file(empty, "", 0);
    ck_assert_str_eq(expect_refusal(empty, true, ES_CAPTURE_EMPTY), "empty file");

    static const uint8_t noise[10] = {0x3c, 0x9a, 0x11, 0xe0, 0x47, 0x02, 0xfe, 0x80, 0x5d, 0x13};
    const char *random_file = temp_path("random.pcap");
    write_file(random_file, noise, sizeof noise);
    ck_assert_str_eq(expect_refusal(random_file, true, ES_CAPTURE_NOT_CAPTURE),
                     "not a pcap or pcapng file");

    const char *text = temp_path("notes.pcap");
    static const char notes[] = "# These are notes, not packets.\nSecond line.\n";
    write_file(text, notes, sizeof notes - 1);
    expect_refusal(text, false, ES_CAPTURE_NOT_CAPTURE);

    /* Too short to tell: the start of a magic number is a truncated capture,
     * anything else is not a capture at all. */
    const char *tiny = temp_path("tiny.pcap");
    write_file(tiny, "\xd4\xc3", 2);
    expect_refusal(tiny, false, ES_CAPTURE_TRUNCATED);
    write_file(tiny, "hi", 2);
    expect_refusal(tiny, false, ES_CAPTURE_NOT_CAPTURE);

    struct bytes b = small_pcap(0);
    const char *short_header = write_capture("short-header.pcap", &b, 12);
    ck_assert_ptr_nonnull(strstr(expect_refusal(short_header, true, ES_CAPTURE_TRUNCATED),
                                 "capture file header"));
    free(b.data);

    b = (struct bytes){0};
    pcap_file_header(&b, 0xa1b2c3d4u, 3, 65535, DLT_EN10MB);   /* a pcap version from the future */
    const char *future = write_capture("future.pcap", &b, SIZE_MAX);
    expect_refusal(future, false, ES_CAPTURE_NOT_CAPTURE);
    free(b.data);
}
END_TEST

START_TEST(header_only_is_an_empty_capture)
{
    struct bytes b = small_pcap(0);
    const char *path = write_capture("header-only.pcap", &b, SIZE_MAX);
    free(b.data);
    struct es_capture c;
    expect_loaded(path, NULL, false, &c);
    ck_assert_uint_eq(c.frame_count, 0);
    ck_assert_uint_eq(c.frames_passing, 0);
    ck_assert_int_eq(c.map->first_ts_usec, 0);
    es_capture_close(&c);

    expect_loaded(path, "tcp", false, &c);
    ck_assert_uint_eq(c.map->flags & ES_STORE_HAS_FILTER, ES_STORE_HAS_FILTER);
    ck_assert_uint_eq(c.frames_passing, 0);
    es_capture_close(&c);
}
END_TEST

START_TEST(truncated_inside_a_frame)
{
    struct bytes b = small_pcap(5);
    /* 24-byte file header, then records of 16 + (60 + i) bytes. */
    size_t third_frame = 24 + (16 + 60) + (16 + 61);
    const char *path = write_capture("cut.pcap", &b, third_frame + 16 + 30);
    const char *err = expect_refusal(path, false, ES_CAPTURE_TRUNCATED);
    ck_assert_str_eq(err, "truncated: capture ends inside frame 3 (2 frames are intact; "
                          "--allow-truncated analyses them)");

    struct es_capture c;
    char note[256];
    struct es_capture_options opt = {.allow_truncated = true};
    ck_assert_int_eq(es_capture_load(path, &opt, &c, note, sizeof note), ES_CAPTURE_OK);
    ck_assert(c.truncated);
    ck_assert_uint_eq(c.frame_count, 2);
    ck_assert_ptr_nonnull(strstr(note, "frame 3"));   /* still there for a warning */
    verify_store(&c);
    verify_against_libpcap(path, &c);
    es_capture_close(&c);

    /* Inside a record header rather than its data. */
    path = write_capture("cut-header.pcap", &b, third_frame + 9);
    expect_refusal(path, false, ES_CAPTURE_TRUNCATED);
    expect_loaded(path, NULL, true, &c);
    ck_assert_uint_eq(c.frame_count, 2);
    es_capture_close(&c);

    /* Inside the very first frame: nothing to salvage, which is still a result. */
    path = write_capture("cut-first.pcap", &b, 24 + 20);
    err = expect_refusal(path, false, ES_CAPTURE_TRUNCATED);
    ck_assert_str_eq(err, "truncated: capture ends inside frame 1 (no frame is intact; "
                          "--allow-truncated analyses them)");
    expect_loaded(path, "tcp", true, &c);
    ck_assert_uint_eq(c.frame_count, 0);
    ck_assert(c.truncated);
    es_capture_close(&c);
    free(b.data);
}
END_TEST

START_TEST(corrupt_record)
{
    struct bytes b = small_pcap(1);
    /* A record claiming 2 GiB of data: libpcap refuses it. */
    put_u32(&b, 1700000001u);
    put_u32(&b, 0);
    put_u32(&b, 0x7fffffffu);
    put_u32(&b, 0x7fffffffu);
    put_bytes(&b, "garbage", 7);
    const char *path = write_capture("corrupt.pcap", &b, SIZE_MAX);
    free(b.data);
    const char *err = expect_refusal(path, false, ES_CAPTURE_CORRUPT);
    ck_assert_msg(strncmp(err, "corrupt: frame 2 is unreadable: ", 32) == 0, "%s", err);
    ck_assert_msg(strstr(err, "(1 frame is intact; --allow-truncated analyses them)") != NULL, "%s",
                  err);

    struct es_capture c;
    expect_loaded(path, NULL, true, &c);
    ck_assert_uint_eq(c.frame_count, 1);
    ck_assert(c.truncated);
    es_capture_close(&c);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Odd but valid captures                                                   */
/* ------------------------------------------------------------------------ */

START_TEST(timestamps_going_backwards_stay_signed)
{
    struct bytes b = {0};
    pcap_file_header(&b, 0xa1b2c3d4u, 2, 65535, DLT_EN10MB);
    pcap_record(&b, 100, 0, 60, 60, 0);
    pcap_record(&b, 99, 500000, 60, 60, 1);
    pcap_record(&b, 101, 0, 60, 60, 2);
    const char *path = write_capture("backwards.pcap", &b, SIZE_MAX);
    free(b.data);
    struct es_capture c;
    expect_loaded(path, NULL, false, &c);
    ck_assert_int_eq(c.map->first_ts_usec, INT64_C(100000000));
    ck_assert_int_eq(((const FRAME *)es_store_frame(c.map, 1))->TimeStamp, -500000);
    ck_assert_int_eq(((const FRAME *)es_store_frame(c.map, 2))->TimeStamp, 1000000);
    es_capture_close(&c);
}
END_TEST

START_TEST(lengths_are_stored_as_the_file_says)
{
    struct bytes b = {0};
    pcap_file_header(&b, 0xa1b2c3d4u, 2, 96, DLT_EN10MB);
    pcap_record(&b, 1, 0, 96, 1514, 0);   /* cut by the snaplen */
    pcap_record(&b, 1, 1, 40, 20, 1);     /* caplen > len: fuzzed, kept verbatim */
    pcap_record(&b, 1, 2, 0, 60, 2);      /* nothing captured */
    pcap_record(&b, 1, 3, 1, 1, 3);       /* padding needed after one byte */
    const char *path = write_capture("lengths.pcap", &b, SIZE_MAX);
    free(b.data);
    struct es_capture c;
    expect_loaded(path, NULL, false, &c);
    ck_assert_uint_eq(c.map->snaplen, 96);
    const FRAME *f = es_store_frame(c.map, 1);
    ck_assert_uint_eq(f->FrameLength, 20);
    ck_assert_uint_eq(f->nBytesAvail, 40);
    f = es_store_frame(c.map, 2);
    ck_assert_uint_eq(f->nBytesAvail, 0);
    ck_assert_uint_eq(es_store_index(c.map)[3] - es_store_index(c.map)[2], ES_STORE_FRAME_HEADER);
    es_capture_close(&c);
}
END_TEST

START_TEST(big_endian_and_nanosecond_pcaps)
{
    struct bytes b = {.big_endian = true};
    pcap_file_header(&b, 0xa1b2c3d4u, 2, 65535, DLT_EN10MB);
    for (unsigned i = 0; i < 4; i++)
        pcap_record(&b, 1000 + i, 10 * i, 70, 70, i);
    const char *path = write_capture("big-endian.pcap", &b, SIZE_MAX);
    free(b.data);
    struct es_capture c;
    expect_loaded(path, NULL, false, &c);
    ck_assert_uint_eq(c.frame_count, 4);
    ck_assert_uint_eq(c.map->flags & ES_STORE_NANOSECOND, 0);
    es_capture_close(&c);

    b = (struct bytes){0};
    pcap_file_header(&b, 0xa1b23c4du, 2, 65535, DLT_EN10MB);
    pcap_record(&b, 5, 999999999u, 60, 60, 0);
    pcap_record(&b, 6, 1999u, 60, 60, 1);
    path = write_capture("nanosecond.pcap", &b, SIZE_MAX);
    free(b.data);
    expect_loaded(path, NULL, false, &c);
    ck_assert_uint_eq(c.map->flags & ES_STORE_NANOSECOND, ES_STORE_NANOSECOND);
    ck_assert_int_eq(c.map->first_ts_usec, INT64_C(5999999));
    ck_assert_int_eq(((const FRAME *)es_store_frame(c.map, 1))->TimeStamp, 6000001 - 5999999);
    es_capture_close(&c);
}
END_TEST

START_TEST(pcapng_whole_and_cut)
{
    struct bytes b = {0};
    pcapng_header(&b);
    for (unsigned i = 0; i < 6; i++)
        pcapng_packet(&b, UINT64_C(1700000000000000) + 1000u * i, 61 + i, 61 + i, i);
    const char *path = write_capture("whole.pcapng", &b, SIZE_MAX);
    struct es_capture c;
    expect_loaded(path, NULL, false, &c);
    ck_assert_uint_eq(c.frame_count, 6);
    ck_assert_int_eq(((const FRAME *)es_store_frame(c.map, 5))->TimeStamp, 5000);
    es_capture_close(&c);

    path = write_capture("cut.pcapng", &b, b.len - 10);
    const char *err = expect_refusal(path, false, ES_CAPTURE_TRUNCATED);
    ck_assert_msg(strstr(err, "frame 6 (5 frames are intact") != NULL, "%s", err);
    expect_loaded(path, NULL, true, &c);
    ck_assert_uint_eq(c.frame_count, 5);
    es_capture_close(&c);
    free(b.data);
}
END_TEST

START_TEST(timestamp_beyond_microsecond_range_is_corrupt)
{
    struct bytes b = {0};
    pcapng_header_in_seconds(&b);
    pcapng_packet(&b, 1700000000u, 60, 60, 0);
    pcapng_packet(&b, UINT64_C(1) << 62, 60, 60, 1);   /* seconds: far beyond int64 µs */
    const char *path = write_capture("far-future.pcapng", &b, SIZE_MAX);
    free(b.data);
    const char *err = expect_refusal(path, false, ES_CAPTURE_CORRUPT);
    ck_assert_str_eq(err, "corrupt: frame 2 is unreadable: timestamp out of range "
                          "(1 frame is intact; --allow-truncated analyses them)");
    struct es_capture c;
    char note[256];
    struct es_capture_options opt = {.allow_truncated = true};
    ck_assert_int_eq(es_capture_load(path, &opt, &c, note, sizeof note), ES_CAPTURE_OK);
    ck_assert_uint_eq(c.frame_count, 1);
    ck_assert(c.truncated);
    ck_assert_int_eq(c.map->first_ts_usec, INT64_C(1700000000000000));
    verify_store(&c);
    es_capture_close(&c);
}
END_TEST

/* splitmix64, for reproducible damage. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/*
 * Hostile input: valid captures with bytes overwritten and cut short, in a
 * reproducible way.  Each must load exactly as libpcap reads it, or be
 * refused with a proper message; damaged ones must give up their intact part.
 */
START_TEST(damaged_captures_load_or_explain)
{
    struct bytes originals[3] = {small_pcap(40), {.big_endian = true}, {0}};
    pcap_file_header(&originals[1], 0xa1b2c3d4u, 2, 200, DLT_EN10MB);
    for (unsigned i = 0; i < 40; i++)
        pcap_record(&originals[1], 50 + i, i, 150 - i, 300, i);
    pcapng_header(&originals[2]);
    for (unsigned i = 0; i < 40; i++)
        pcapng_packet(&originals[2], UINT64_C(1600000000000000) + i * 333u, 60 + i, 60 + i, i);

    uint64_t rng = 20240101;
    unsigned outcomes[ES_CAPTURE_RESOURCE + 1] = {0};
    const char *path = temp_path("damaged.cap");
    uint8_t *mutant = NULL;
    for (unsigned round = 0; round < 600; round++) {
        const struct bytes *original = &originals[round % 3];
        mutant = realloc(mutant, original->len);
        ck_assert(mutant != NULL);
        memcpy(mutant, original->data, original->len);
        size_t len = original->len;
        unsigned flips = 1 + (unsigned)(next_random(&rng) % 4);
        for (unsigned i = 0; i < flips; i++) {
            /* Damage lengths and headers more often than payload bytes.  One
             * draw per statement: the order must not be up to the compiler. */
            size_t span = next_random(&rng) % 2 ? 80 : len;
            size_t at = next_random(&rng) % span;
            mutant[at] = (uint8_t)next_random(&rng);
        }
        if (next_random(&rng) % 3 == 0)
            len = (size_t)(next_random(&rng) % len);
        write_file(path, mutant, len);

        struct es_capture c;
        char err[512];
        enum es_capture_error rc = load(path, NULL, false, &c, err, sizeof err);
        ck_assert_msg(rc != ES_CAPTURE_RESOURCE, "round %u: %s", round, err);
        outcomes[rc]++;
        if (rc == ES_CAPTURE_OK) {
            verify_store(&c);
            verify_against_libpcap(path, &c);
            es_capture_close(&c);
        } else if (strstr(err, "capture file header") != NULL) {
            /* Without a whole file header there is no link type, nothing to
             * salvage: asking for the intact frames changes nothing. */
            enum es_capture_error again = load(path, NULL, true, &c, err, sizeof err);
            ck_assert_msg(again == rc, "round %u: header damage salvaged: %s", round, err);
        } else if (rc == ES_CAPTURE_TRUNCATED || rc == ES_CAPTURE_CORRUPT) {
            rc = load(path, "ip", true, &c, err, sizeof err);
            if (rc == ES_CAPTURE_BAD_FILTER)   /* a damaged link type may not know "ip" */
                rc = load(path, NULL, true, &c, err, sizeof err);
            ck_assert_msg(rc == ES_CAPTURE_OK, "round %u: not salvaged: %s", round, err);
            ck_assert(c.truncated);
            verify_store(&c);
            verify_against_libpcap(path, &c);
            es_capture_close(&c);
        }
    }
    free(mutant);
    for (int i = 0; i < 3; i++)
        free(originals[i].data);
    printf("damaged captures: ok %u, truncated %u, corrupt %u, not a capture %u, empty %u\n",
           outcomes[ES_CAPTURE_OK], outcomes[ES_CAPTURE_TRUNCATED], outcomes[ES_CAPTURE_CORRUPT],
           outcomes[ES_CAPTURE_NOT_CAPTURE], outcomes[ES_CAPTURE_EMPTY]);
    fflush(stdout);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The display filter                                                       */
/* ------------------------------------------------------------------------ */

START_TEST(filter_matches_libpcap)
{
    const char *path = sample_path();
    if (path == NULL)
        return;
    struct es_capture c;
    expect_loaded(path, "tcp", false, &c);
    ck_assert_uint_eq(c.map->flags & ES_STORE_HAS_FILTER, ES_STORE_HAS_FILTER);
    ck_assert(c.map->filter_offset != 0);

    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
    ck_assert_msg(p != NULL, "%s", errbuf);
    struct bpf_program program;
    ck_assert_int_eq(pcap_compile(p, &program, "tcp", 1, PCAP_NETMASK_UNKNOWN), 0);
    struct pcap_pkthdr *ph;
    const u_char *data;
    uint32_t n = 0, passing = 0;
    while (pcap_next_ex(p, &ph, &data) == 1) {
        bool passes = pcap_offline_filter(&program, ph, data) != 0;
        ck_assert_msg(es_store_passes_filter(c.map, n) == passes, "frame %u: bitmap says %d",
                      n + 1, !passes);
        passing += passes;
        n++;
    }
    pcap_freecode(&program);
    pcap_close(p);
    ck_assert_uint_eq(n, c.frame_count);
    ck_assert_uint_eq(passing, c.frames_passing);
    /* A filter that keeps everything or nothing would prove little. */
    ck_assert(passing > 0 && passing < n);
    es_capture_close(&c);
}
END_TEST

START_TEST(bad_filter_reports_libpcap_reason)
{
    struct bytes b = small_pcap(3);
    const char *path = write_capture("for-filter.pcap", &b, SIZE_MAX);
    free(b.data);
    static const char expression[] = "tcp and and port";
    struct es_capture c;
    char err[512];
    ck_assert_int_eq(load(path, expression, false, &c, err, sizeof err), ES_CAPTURE_BAD_FILTER);

    /* The reason libpcap itself gives for the same expression. */
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    struct bpf_program program;
    ck_assert_int_eq(pcap_compile(dead, &program, expression, 1, PCAP_NETMASK_UNKNOWN), -1);
    ck_assert_msg(strstr(err, pcap_geterr(dead)) != NULL, "'%s' lacks '%s'", err,
                  pcap_geterr(dead));
    pcap_close(dead);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Hygiene                                                                  */
/* ------------------------------------------------------------------------ */

#define FAULTED_EXIT_STATUS 42

static void exit_on_fault(int signal_number)
{
    (void)signal_number;
    _exit(FAULTED_EXIT_STATUS);
}

START_TEST(mapping_cannot_be_written)
{
    struct bytes b = small_pcap(3);
    const char *path = write_capture("ro.pcap", &b, SIZE_MAX);
    free(b.data);
    struct es_capture c;
    expect_loaded(path, NULL, false, &c);

    /* A store write through the mapping faults.  The child reports the fault
     * by exit status, so sanitizers that catch SIGSEGV do not blur it. */
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        struct sigaction on_fault = {.sa_handler = exit_on_fault};
        sigaction(SIGSEGV, &on_fault, NULL);
        ((volatile char *)c.map)[0] = 'X';
        _exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert_msg((WIFEXITED(status) && WEXITSTATUS(status) == FAULTED_EXIT_STATUS) ||
                      (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV),
                  "writing the store did not fault: status %#x", status);

    /* Whatever mprotect allows on this kernel, nobody else sees a change. */
    child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        if (mprotect((void *)c.map, (size_t)c.size, PROT_READ | PROT_WRITE) == 0)
            ((volatile char *)c.map)[0] = 'X';
        _exit(0);
    }
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    char first_bytes[8];
    ck_assert_int_eq(pread(c.fd, first_bytes, sizeof first_bytes, 0), (ssize_t)sizeof first_bytes);
    ck_assert(memcmp(first_bytes, ES_STORE_MAGIC, sizeof first_bytes) == 0);
    ck_assert(memcmp(c.map->magic, ES_STORE_MAGIC, sizeof first_bytes) == 0);
    es_capture_close(&c);
}
END_TEST

START_TEST(close_is_idempotent_and_errors_are_bounded)
{
    struct bytes b = small_pcap(2);
    const char *path = write_capture("twice.pcap", &b, SIZE_MAX);
    free(b.data);
    struct es_capture c;
    expect_loaded(path, NULL, false, &c);
    es_capture_close(&c);
    ck_assert_int_eq(c.fd, -1);
    ck_assert_ptr_null(c.map);
    es_capture_close(&c);
    es_capture_close(NULL);

    /* A failed load leaves nothing to close, and closing it anyway is safe. */
    char tiny[6];
    memset(tiny, '#', sizeof tiny);
    ck_assert_int_eq(es_capture_load(temp_path("absent"), NULL, &c, tiny, sizeof tiny),
                     ES_CAPTURE_MISSING);
    ck_assert_str_eq(tiny, "no su");   /* cut to fit, still terminated */
    es_capture_close(&c);
    ck_assert_int_eq(es_capture_load(temp_path("absent"), NULL, &c, NULL, 0), ES_CAPTURE_MISSING);
}
END_TEST

/* 16000 frames of 60..2047 bytes, about 16 MB: the store writer's ring of
 * buffers (4 MiB) goes round several times, so the loader fills slots the
 * writer thread has just emptied and waits for it when the ring is full. */
static const char *many_rings_capture(void)
{
    struct bytes b = {0};
    pcap_file_header(&b, 0xa1b2c3d4u, 2, 65535, DLT_EN10MB);
    for (unsigned i = 0; i < 16000; i++) {
        uint32_t len = 60u + (i * 389u) % 1988u;
        pcap_record(&b, 1700000000u + i / 100u, (i % 100u) * 10000u, len, len, i);
    }
    const char *path = write_capture("many-rings.pcap", &b, SIZE_MAX);
    free(b.data);
    return path;
}

START_TEST(store_larger_than_the_writer_ring)
{
    const char *path = many_rings_capture();
    struct es_capture c;
    expect_loaded(path, NULL, false, &c);
    ck_assert_uint_eq(c.frame_count, 16000);
    es_capture_close(&c);

    /* With a filter the bitmap follows the index through the same writer. */
    expect_loaded(path, "len > 1000", false, &c);
    uint32_t longer = 0;
    for (uint32_t i = 0; i < c.frame_count; i++) {
        bool passes = es_store_passes_filter(c.map, i);
        ck_assert_int_eq(passes, ((const FRAME *)es_store_frame(c.map, i))->FrameLength > 1000);
        longer += passes;
    }
    ck_assert_uint_eq(c.frames_passing, longer);
    es_capture_close(&c);
}
END_TEST

/* A store that cannot be written whole (here RLIMIT_FSIZE, as under
 * `ulimit -f`: the memfd obeys it) is a resource error naming the write,
 * whichever of the loader's two threads made the write that failed; the
 * process survives SIGXFSZ, which the kernel sends to the writing thread.
 * The limit is hit once within the writer's first buffers and once after
 * its ring has gone round, while the loader may be waiting for room. */
START_TEST(store_write_failure_is_reported)
{
    const char *path = many_rings_capture();
    struct es_capture c;
    char err[256];
    ck_assert_int_eq(es_capture_load(path, NULL, &c, err, sizeof err), ES_CAPTURE_OK);
    es_capture_close(&c);

    struct rlimit limit;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &limit), 0);
    static const rlim_t limits[] = {1u << 20, 10u << 20};
    for (size_t i = 0; i < sizeof limits / sizeof *limits; i++) {
        limit.rlim_cur = limits[i];
        ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &limit), 0);
        int before = count_open_descriptors();
        ck_assert_int_eq(es_capture_load(path, NULL, &c, err, sizeof err), ES_CAPTURE_RESOURCE);
        ck_assert_msg(strstr(err, "write") != NULL && strstr(err, strerror(EFBIG)) != NULL,
                      "limit %llu: reason: %s", (unsigned long long)limits[i], err);
        ck_assert_int_eq(count_open_descriptors(), before);
    }
}
END_TEST

/* The index of 70 000 frames (560 000 bytes) is too large for the writer's
 * buffers and is written by the loading thread itself, after the frames:
 * a failure there is reported the same way.  SIGXFSZ is ignored, as the
 * CLI does: unlike the writer thread, the loading thread does not block it. */
START_TEST(index_write_failure_is_reported)
{
    struct bytes b = {0};
    pcap_file_header(&b, 0xa1b2c3d4u, 2, 65535, DLT_EN10MB);
    for (unsigned i = 0; i < 70000; i++)
        pcap_record(&b, 1700000000u + i / 1000u, (i % 1000u) * 1000u, 60, 60, i);
    const char *path = write_capture("long-index.pcap", &b, SIZE_MAX);
    free(b.data);
    struct es_capture c;
    char err[256];
    ck_assert_int_eq(es_capture_load(path, NULL, &c, err, sizeof err), ES_CAPTURE_OK);
    uint64_t index_offset = c.map->index_offset, index_end = index_offset + 70000u * 8u;
    ck_assert_uint_eq(c.map->total_size, index_end);
    es_capture_close(&c);

    signal(SIGXFSZ, SIG_IGN);
    struct rlimit limit;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &limit), 0);
    limit.rlim_cur = index_offset + 4096u;   /* every frame fits, the index does not */
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &limit), 0);
    int before = count_open_descriptors();
    ck_assert_int_eq(es_capture_load(path, NULL, &c, err, sizeof err), ES_CAPTURE_RESOURCE);
    ck_assert_msg(strstr(err, "write") != NULL && strstr(err, strerror(EFBIG)) != NULL, "reason: %s", err);
    ck_assert_int_eq(count_open_descriptors(), before);
}
END_TEST

START_TEST(no_descriptor_leaks)
{
    struct bytes b = small_pcap(4);
    const char *good = write_capture("good.pcap", &b, SIZE_MAX);
    const char *cut = write_capture("cut.pcap", &b, b.len - 5);
    free(b.data);
    const char *empty = temp_path("empty.pcap");
    write_file(empty, "", 0);
    const char *noise = temp_path("noise.pcap");
    write_file(noise, "0123456789", 10);
    const char *absent = temp_path("absent");
    const char *sample = getenv("ES_SAMPLE_PCAP");

    int before = count_open_descriptors();
    for (int round = 0; round < 25; round++) {
        struct es_capture c;
        char err[256];
        struct {
            const char *path, *filter;
            bool allow_truncated;
        } runs[] = {
            {good, NULL, false},   {good, "udp", false},     {good, "not a filter(", false},
            {cut, NULL, false},    {cut, "tcp", true},       {empty, NULL, false},
            {noise, NULL, false},  {temp_dir, NULL, false},  {absent, NULL, false},
            {sample, "tcp", false},
        };
        for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
            if (runs[i].path == NULL)
                continue;
            struct es_capture_options opt = {runs[i].filter, runs[i].allow_truncated};
            if (es_capture_load(runs[i].path, &opt, &c, err, sizeof err) == ES_CAPTURE_OK)
                es_capture_close(&c);
        }
    }
    ck_assert_int_eq(count_open_descriptors(), before);
}
END_TEST

static Suite *framestore_suite(void)
{
    Suite *s = suite_create("framestore");

    TCase *against = tcase_create("against libpcap");
    tcase_add_test(against, sample_matches_libpcap);
    tcase_add_test(against, corpus_matches_libpcap);
    tcase_add_test(against, corpus_loads_or_explains);
    suite_add_tcase(s, against);

    TCase *inputs = tcase_create("inputs");
    tcase_add_unchecked_fixture(inputs, make_temp_dir, remove_temp_dir);
    tcase_add_test(inputs, missing_and_unreadable);
    tcase_add_test(inputs, empty_and_not_captures);
    tcase_add_test(inputs, header_only_is_an_empty_capture);
    tcase_add_test(inputs, truncated_inside_a_frame);
    tcase_add_test(inputs, corrupt_record);
    tcase_add_test(inputs, timestamps_going_backwards_stay_signed);
    tcase_add_test(inputs, lengths_are_stored_as_the_file_says);
    tcase_add_test(inputs, big_endian_and_nanosecond_pcaps);
    tcase_add_test(inputs, pcapng_whole_and_cut);
    tcase_add_test(inputs, timestamp_beyond_microsecond_range_is_corrupt);
    tcase_add_test(inputs, damaged_captures_load_or_explain);
    tcase_add_test(inputs, store_larger_than_the_writer_ring);
    tcase_add_test(inputs, store_write_failure_is_reported);
    tcase_add_test(inputs, index_write_failure_is_reported);
    suite_add_tcase(s, inputs);

    TCase *filter = tcase_create("filter");
    tcase_add_unchecked_fixture(filter, make_temp_dir, remove_temp_dir);
    tcase_add_test(filter, filter_matches_libpcap);
    tcase_add_test(filter, bad_filter_reports_libpcap_reason);
    suite_add_tcase(s, filter);

    TCase *hygiene = tcase_create("hygiene");
    tcase_add_unchecked_fixture(hygiene, make_temp_dir, remove_temp_dir);
    tcase_add_test(hygiene, mapping_cannot_be_written);
    tcase_add_test(hygiene, close_is_idempotent_and_errors_are_bounded);
    tcase_add_test(hygiene, no_descriptor_leaks);
    suite_add_tcase(s, hygiene);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(framestore_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
