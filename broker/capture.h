/*
 * capture.h - read a capture once with libpcap into a sealed frame store.
 */
#ifndef ES_CAPTURE_H
#define ES_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "framestore.h"

/* Why a capture was refused; the CLI maps all of them to exit status 3. */
enum es_capture_error {
    ES_CAPTURE_OK = 0,
    ES_CAPTURE_MISSING,      /* no such file */
    ES_CAPTURE_UNREADABLE,   /* permission denied, a directory, an I/O error */
    ES_CAPTURE_EMPTY,        /* zero bytes */
    ES_CAPTURE_NOT_CAPTURE,  /* libpcap does not recognise the format */
    ES_CAPTURE_TRUNCATED,    /* ends inside a record header or frame */
    ES_CAPTURE_CORRUPT,      /* a record libpcap refuses (bad length, bad block) */
    ES_CAPTURE_BAD_FILTER,   /* the --filter expression does not compile */
    ES_CAPTURE_RESOURCE,     /* memfd, memory or sealing failed */
};

struct es_capture_options {
    const char *filter;       /* tcpdump/BPF expression, or NULL */
    bool allow_truncated;     /* keep the frames before a truncation or corrupt record */
};

struct es_capture {
    int fd;                   /* the sealed memfd; -1 when closed */
    uint64_t size;
    uint32_t frame_count;
    uint32_t frames_passing;  /* frames that pass the filter (all when none) */
    uint32_t link_type;
    bool truncated;           /* allow_truncated was used: frames after the damage are missing */
    const struct es_store_header *map;  /* read-only mapping of the whole store */
};

/*
 * Loads `path`.  On success fills *out and returns ES_CAPTURE_OK; err is
 * empty, or holds a one-line warning when allow_truncated salvaged a damaged
 * capture.  On failure returns the reason and writes one line for a person
 * into err (without the file name, which the caller prepends), e.g. "not a
 * pcap or pcapng file".  Initialise *out with fd = -1 before the call if it
 * may be closed without having been loaded.
 */
enum es_capture_error es_capture_load(const char *path, const struct es_capture_options *opt,
                                      struct es_capture *out, char *err, size_t errlen);
void es_capture_close(struct es_capture *c);

#endif
