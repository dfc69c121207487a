/*
 * output.c - JSON Lines records, the human table and `list` output.
 *
 * The schema is documented in docs/output.md; any change to a key, its type
 * or its order there and here bumps ES_OUTPUT_SCHEMA.
 *
 * Every record is first built whole in memory and then written with one
 * fwrite and one fflush.  That way a record is never interleaved with
 * anything else the broker writes, and a run that is interrupted (or a
 * broker that runs out of memory half-way through building a record) never
 * leaves half a line behind.
 *
 * Everything that came from an expert is untrusted bytes, including the
 * "strings" of an event, which are protobuf `bytes` on purpose.  JSON output
 * escapes them and replaces invalid UTF-8; text output additionally makes
 * sure that nothing can reach a terminal as a control sequence.
 */
#include "output.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>   /* isfinite only: a macro, no libm */
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "faults.h"
#include "netmon.h"

#define ES_OUTPUT_SCHEMA 1

/* ------------------------------------------------------------------------ */
/* A growable byte buffer                                                    */
/* ------------------------------------------------------------------------ */

/*
 * Records are built here.  Allocation failure is sticky: the builders do not
 * check every append, the writer checks `failed` once at the end and then
 * refuses to write a record that would be incomplete.
 *
 * A buffer with a `drain` stream does not grow: when it is full its content
 * is written to the stream.  es_json_string uses that so it can escape a
 * string of any length without allocating.
 */
struct es_buf {
    char *data;
    size_t len;
    size_t cap;
    bool failed;
    FILE *drain;
};

static void buf_reset(struct es_buf *b)
{
    b->len = 0;
    b->failed = false;
}

static void buf_release(struct es_buf *b)
{
    if (!b->drain)
        free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static void buf_drain(struct es_buf *b)
{
    if (b->drain && b->len > 0) {
        /* Errors stick in the stream; the caller of es_json_string checks ferror. */
        (void)fwrite(b->data, 1, b->len, b->drain);
        b->len = 0;
    }
}

/* Makes room for `extra` more bytes; false (and failed set) if it cannot. */
static bool buf_reserve(struct es_buf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (extra <= b->cap - b->len)
        return true;
    if (b->drain) {
        buf_drain(b);
        if (extra <= b->cap)
            return true;
        b->failed = true;
        return false;
    }
    if (extra > SIZE_MAX / 2 - b->len) {
        b->failed = true;
        return false;
    }
    size_t new_cap = b->cap ? b->cap * 2 : 512;
    while (new_cap < b->len + extra)
        new_cap *= 2;
    char *grown = realloc(b->data, new_cap);
    if (!grown) {
        b->failed = true;
        return false;
    }
    b->data = grown;
    b->cap = new_cap;
    return true;
}

static void buf_append_slow(struct es_buf *b, const void *data, size_t n)
{
    const char *from = data;
    if (b->drain) {
        /* A draining buffer has a fixed size: copy through it in pieces. */
        while (n > 0 && !b->failed) {
            if (b->len == b->cap)
                buf_drain(b);
            size_t piece = b->cap - b->len < n ? b->cap - b->len : n;
            memcpy(b->data + b->len, from, piece);
            b->len += piece;
            from += piece;
            n -= piece;
        }
        return;
    }
    if (n == 0 || !buf_reserve(b, n))
        return;
    memcpy(b->data + b->len, from, n);
    b->len += n;
}

/* The common case inline: room in a growable buffer.  With a constant
 * length (a literal through buf_puts) the copy becomes a few moves. */
static inline void buf_append(struct es_buf *b, const void *data, size_t n)
{
    if (__builtin_expect(n != 0 && n <= b->cap - b->len && !b->drain && !b->failed, 1)) {
        memcpy(b->data + b->len, data, n);
        b->len += n;
        return;
    }
    buf_append_slow(b, data, n);
}

static inline void buf_puts(struct es_buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

static inline void buf_putc(struct es_buf *b, char c)
{
    if (__builtin_expect(b->len < b->cap && !b->drain && !b->failed, 1)) {
        b->data[b->len++] = c;
        return;
    }
    buf_append_slow(b, &c, 1);
}

__attribute__((format(printf, 2, 3)))
static void buf_printf(struct es_buf *b, const char *fmt, ...)
{
    char small[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        buf_append(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->failed = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf_append(b, big, (size_t)n);
    free(big);
}

/*
 * Numbers without printf: events are written by the million, and
 * vsnprintf's format parsing was most of their cost.  Each writes exactly
 * what the printf conversion it replaces would ("%" PRIu64, "%0*" PRIu64,
 * "%02x").
 */
static const char digit_pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                  "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                  "8081828384858687888990919293949596979899";

/* Two digits per division: most numbers of an event are below 100. */
static inline void buf_u64_padded(struct es_buf *b, uint64_t v, int width)
{
    char text[24];
    char *end = text + sizeof text, *p = end;
    while (v >= 100) {
        unsigned pair = (unsigned)(v % 100);
        v /= 100;
        p -= 2;
        memcpy(p, digit_pairs + 2 * pair, 2);
    }
    if (v >= 10) {
        p -= 2;
        memcpy(p, digit_pairs + 2 * v, 2);
    } else {
        *--p = (char)('0' + v);
    }
    while (end - p < width)
        *--p = '0';
    buf_append(b, p, (size_t)(end - p));
}

static void buf_u64(struct es_buf *b, uint64_t v)
{
    buf_u64_padded(b, v, 1);
}

static void buf_i64(struct es_buf *b, int64_t v)
{
    if (v < 0) {
        buf_putc(b, '-');
        buf_u64(b, 0 - (uint64_t)v);
    } else {
        buf_u64(b, (uint64_t)v);
    }
}

static const char hex_digits[] = "0123456789abcdef";

static void buf_hex2(struct es_buf *b, unsigned byte)
{
    char text[2] = {hex_digits[byte >> 4 & 0xF], hex_digits[byte & 0xF]};
    buf_append(b, text, 2);
}

/*
 * Writes a finished record with one fwrite and flushes it.  A record whose
 * building failed is not written at all: a consumer would rather miss a line
 * than read a wrong one.
 */
static int write_record(FILE *to, const struct es_buf *b)
{
    if (b->failed) {
        errno = ENOMEM;
        return -1;
    }
    errno = 0;
    if (b->len > 0 && (ES_FAULT(ES_FAULT_OUTPUT_WRITE, ENOSPC) || fwrite(b->data, 1, b->len, to) != b->len))
        goto failed;
    if (fflush(to) != 0)
        goto failed;
    return 0;
failed:
    if (errno == 0)
        errno = EIO;
    return -1;
}

/* ------------------------------------------------------------------------ */
/* UTF-8                                                                     */
/* ------------------------------------------------------------------------ */

/*
 * Decodes one well-formed UTF-8 sequence at s.  Returns its length (1-4) and
 * the code point, or 0 when the byte at s does not start one: a stray
 * continuation byte, an overlong form, a surrogate, a value above U+10FFFF,
 * or a sequence cut short.  The caller then replaces that one byte and
 * resumes at the next, so every invalid byte costs exactly one U+FFFD.
 */
static size_t utf8_decode(const uint8_t *s, size_t avail, uint32_t *cp)
{
    uint8_t lead = s[0];
    if (lead < 0x80) {
        *cp = lead;
        return 1;
    }
    size_t len;
    uint32_t value;
    /* The first continuation byte's range is where overlongs, surrogates
     * and values past U+10FFFF are excluded. */
    uint8_t second_min = 0x80, second_max = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        len = 2;
        value = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        len = 3;
        value = lead & 0x0F;
        if (lead == 0xE0)
            second_min = 0xA0;   /* below: overlong */
        else if (lead == 0xED)
            second_max = 0x9F;   /* above: UTF-16 surrogates */
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        len = 4;
        value = lead & 0x07;
        if (lead == 0xF0)
            second_min = 0x90;   /* below: overlong */
        else if (lead == 0xF4)
            second_max = 0x8F;   /* above: past U+10FFFF */
    } else {
        return 0;                /* continuation byte, C0/C1 overlong lead, F5..FF */
    }
    if (avail < len)
        return 0;
    if (s[1] < second_min || s[1] > second_max)
        return 0;
    value = (value << 6) | (s[1] & 0x3F);
    for (size_t i = 2; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        value = (value << 6) | (s[i] & 0x3F);
    }
    *cp = value;
    return len;
}

/*
 * Code points that are valid but that we never show raw: C0 and C1 controls
 * and DEL (a terminal may act on them: ESC and CSI start escape sequences),
 * the line and paragraph separators (JavaScript treats them as line ends,
 * some log viewers too), and the bidirectional overrides and isolates (they
 * can make text display in an order other than the one it has).
 */
static bool needs_escape(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x200E || cp == 0x200F ||
           cp == 0x2028 || cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

static const char replacement_char[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* Printable ASCII other than '"' and '\\': copied as it is. */
static const bool plain_ascii_table[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

static inline bool plain_ascii(uint8_t c)
{
    return plain_ascii_table[c];
}

static void buf_json_string(struct es_buf *b, const uint8_t *bytes, size_t len)
{
    buf_putc(b, '"');
    size_t i = 0;
    while (i < len && !b->failed) {
        /* The common case, a run of plain ASCII, in one copy. */
        size_t run = i;
        while (run < len && plain_ascii(bytes[run]))
            run++;
        if (run > i) {
            buf_append(b, bytes + i, run - i);
            i = run;
            continue;
        }
        uint32_t cp;
        size_t n = utf8_decode(bytes + i, len - i, &cp);
        if (n == 0) {
            buf_puts(b, replacement_char);
            i++;
            continue;
        }
        switch (cp) {
        case '"': buf_puts(b, "\\\""); break;
        case '\\': buf_puts(b, "\\\\"); break;
        case '\n': buf_puts(b, "\\n"); break;
        case '\t': buf_puts(b, "\\t"); break;
        case '\r': buf_puts(b, "\\r"); break;
        case '\b': buf_puts(b, "\\b"); break;
        case '\f': buf_puts(b, "\\f"); break;
        default:
            if (needs_escape(cp)) {
                /* Every code point needs_escape accepts is below U+10000. */
                buf_puts(b, "\\u");
                buf_hex2(b, cp >> 8 & 0xFF);
                buf_hex2(b, cp & 0xFF);
            } else
                buf_append(b, bytes + i, n);
            break;
        }
        i += n;
    }
    buf_putc(b, '"');
}

static void buf_json_cstring(struct es_buf *b, const char *s)
{
    if (!s)
        buf_puts(b, "null");
    else
        buf_json_string(b, (const uint8_t *)s, strlen(s));
}

static void buf_json_bytes_or_null(struct es_buf *b, bool present, const ProtobufCBinaryData *d)
{
    if (!present)
        buf_puts(b, "null");
    else
        buf_json_string(b, d->data, d->len);
}

void es_json_string(FILE *to, const uint8_t *bytes, size_t len)
{
    char window[512];
    struct es_buf b = {.data = window, .cap = sizeof window, .drain = to};
    buf_json_string(&b, bytes, len);
    buf_drain(&b);
}

/*
 * Text for a person's terminal.  Valid, printable UTF-8 passes through;
 * every invalid byte and every control byte becomes \xNN, the code points of
 * needs_escape() above U+007F become \uNNNN, and a backslash is doubled so
 * that the escapes cannot be confused with text that merely looks like one.
 */
static void buf_text(struct es_buf *b, const uint8_t *bytes, size_t len)
{
    size_t i = 0;
    while (i < len && !b->failed) {
        uint32_t cp;
        size_t n = utf8_decode(bytes + i, len - i, &cp);
        if (n == 0) {
            buf_printf(b, "\\x%02x", bytes[i]);
            i++;
            continue;
        }
        if (cp == '\\')
            buf_puts(b, "\\\\");
        else if (cp < 0x80 && needs_escape(cp))
            buf_printf(b, "\\x%02" PRIx32, cp);
        else if (needs_escape(cp))
            buf_printf(b, "\\u%04" PRIx32, cp);
        else
            buf_append(b, bytes + i, n);
        i += n;
    }
}

static void buf_text_cstring(struct es_buf *b, const char *s)
{
    buf_text(b, (const uint8_t *)s, strlen(s));
}

/*
 * Columns a code point takes on a terminal, roughly: 2 for the East Asian
 * wide and fullwidth blocks and emoji, 0 for combining marks and zero-width
 * characters, 1 otherwise.  Only used to align the table; we do not depend
 * on the locale's wcwidth because the broker may run without one.
 */
static size_t codepoint_width(uint32_t cp)
{
    if ((cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x200B && cp <= 0x200F) ||
        (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0xFEFF)
        return 0;
    if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
        (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
        (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
        (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
        (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x20000 && cp <= 0x3FFFD))
        return 2;
    return 1;
}

/* Display width of text that buf_text produced (so: valid UTF-8). */
static size_t text_width(const char *s, size_t len)
{
    size_t width = 0;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = utf8_decode((const uint8_t *)s + i, len - i, &cp);
        if (n == 0) {            /* cannot happen after buf_text; count it anyway */
            width++;
            i++;
            continue;
        }
        width += codepoint_width(cp);
        i += n;
    }
    return width;
}

/* ------------------------------------------------------------------------ */
/* Numbers                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * printf honours LC_NUMERIC, which an embedding program may have set to a
 * locale with a decimal comma.  Whatever the locale put between the digits
 * is replaced by a single '.', so the number stays valid JSON.
 */
static void normalise_decimal_point(char *s)
{
    char *out = s;
    bool in_separator = false;
    for (const char *in = s; *in; in++) {
        bool numeric = (*in >= '0' && *in <= '9') || *in == '-' || *in == '+' || *in == 'e' ||
                       *in == 'E';
        if (numeric) {
            *out++ = *in;
            in_separator = false;
        } else if (!in_separator) {
            *out++ = '.';
            in_separator = true;
        }
    }
    *out = '\0';
}

/*
 * A finite double as the shortest of %.15g, %.16g, %.17g that reads back to
 * the same value, so 0.1 stays "0.1" and nothing is lost.  A result without
 * a fraction or exponent gets ".0", so JSON readers that tell integers from
 * floats (Python's, for one) always see a float here.
 */
static void buf_json_double(struct es_buf *b, double value)
{
    if (!isfinite(value)) {
        buf_puts(b, "null");
        return;
    }
    char text[40];
    for (int precision = 15; precision <= 17; precision++) {
        snprintf(text, sizeof text, "%.*g", precision, value);
        if (strtod(text, NULL) == value)
            break;
    }
    normalise_decimal_point(text);
    buf_puts(b, text);
    if (!strpbrk(text, ".eE"))
        buf_puts(b, ".0");
}

static void buf_json_bool(struct es_buf *b, bool value)
{
    buf_puts(b, value ? "true" : "false");
}

/* ------------------------------------------------------------------------ */
/* The output object                                                         */
/* ------------------------------------------------------------------------ */

struct es_output {
    FILE *json;
    struct es_buf line;      /* reused for every record: no allocation per event */
    struct es_buf batch;     /* events of a batch (es_output_begin_batch), whole records */
    unsigned batching;       /* nesting depth of begin_batch */
    /* The start of the last expert's event records, up to "seq": the same
     * for all its events, so its name and file are escaped once. */
    struct es_buf prefix;
    size_t prefix_index;
    char *prefix_name, *prefix_path;   /* copies: NULL for a NULL name */
    bool prefix_valid;
    uint64_t *last_seq;      /* by expert index: seq of its last event */
    size_t last_seq_len;
    bool text;               /* events for people instead of JSON Lines */
};

static int flush_batch(struct es_output *out);

struct es_output *es_output_new(FILE *json)
{
    struct es_output *out = calloc(1, sizeof *out);
    if (!out)
        return NULL;
    out->json = json;
    return out;
}

void es_output_free(struct es_output *out)
{
    if (!out)
        return;
    buf_release(&out->line);
    buf_release(&out->batch);
    buf_release(&out->prefix);
    free(out->prefix_name);
    free(out->prefix_path);
    free(out->last_seq);
    free(out);
}

/* The next per-expert sequence number (1, 2, ...), or 0 without memory. */
static uint64_t next_seq(struct es_output *out, size_t index)
{
    if (index >= out->last_seq_len) {
        if (index >= SIZE_MAX / sizeof *out->last_seq / 2)
            return 0;
        size_t new_len = out->last_seq_len ? out->last_seq_len * 2 : 8;
        while (new_len <= index)
            new_len *= 2;
        uint64_t *grown = realloc(out->last_seq, new_len * sizeof *grown);
        if (!grown)
            return 0;
        memset(grown + out->last_seq_len, 0, (new_len - out->last_seq_len) * sizeof *grown);
        out->last_seq = grown;
        out->last_seq_len = new_len;
    }
    return ++out->last_seq[index];
}

/* ------------------------------------------------------------------------ */
/* run                                                                       */
/* ------------------------------------------------------------------------ */

int es_output_run(struct es_output *out, const struct es_run_info *run)
{
    if (out && out->text)
        return 0;   /* people get the summary table instead */
    if (!out || !out->json)
        return 0;
    if (flush_batch(out) != 0)
        return -1;
    struct es_buf *b = &out->line;
    buf_reset(b);
    buf_printf(b, "{\"type\":\"run\",\"schema\":%d,\"capture\":", ES_OUTPUT_SCHEMA);
    buf_json_cstring(b, run->capture_path);
    buf_printf(b, ",\"frames\":%" PRIu32 ",\"link_type\":%" PRIu32 ",\"link_type_name\":",
               run->frame_count, run->link_type);
    /* libpcap knows the DLT_ names; a value it does not know has none. */
    const char *link_name =
        run->link_type <= INT32_MAX ? pcap_datalink_val_to_name((int)run->link_type) : NULL;
    buf_json_cstring(b, link_name);
    buf_puts(b, ",\"filter\":");
    buf_json_cstring(b, run->filter);
    buf_printf(b, ",\"heap_quota\":%" PRIu64 ",\"jobs\":%u,\"experts\":%zu}\n", run->heap_quota,
               run->jobs, run->expert_count);
    return write_record(out->json, b);
}

/* ------------------------------------------------------------------------ */
/* event                                                                     */
/* ------------------------------------------------------------------------ */

static const char *const severity_names[] = {
    [NMEVENT_SEVERITY_INFORMATIONAL] = "informational",
    [NMEVENT_SEVERITY_WARNING] = "warning",
    [NMEVENT_SEVERITY_STRONG_WARNING] = "strong_warning",
    [NMEVENT_SEVERITY_ERROR] = "error",
    [NMEVENT_SEVERITY_SEVERE_ERROR] = "severe_error",
    [NMEVENT_SEVERITY_CRITICAL_ERROR] = "critical_error",
};

/* In the order of their bits, highest first, as the API digest lists them. */
static const struct {
    uint32_t flag;
    const char *column;
} hidden_columns[] = {
    {NMEVENTFLAG_DO_NOT_DISPLAY_SEVERITY, "severity"},
    {NMEVENTFLAG_DO_NOT_DISPLAY_SOURCE, "source"},
    {NMEVENTFLAG_DO_NOT_DISPLAY_EVENT_NAME, "event_name"},
    {NMEVENTFLAG_DO_NOT_DISPLAY_DESCRIPTION, "description"},
    {NMEVENTFLAG_DO_NOT_DISPLAY_MACHINE, "machine"},
    {NMEVENTFLAG_DO_NOT_DISPLAY_TIME, "time"},
    {NMEVENTFLAG_DO_NOT_DISPLAY_DATE, "date"},
};

static const char *const column_type_names[] = {
    [NMCOLUMNTYPE_UINT8] = "uint8",
    [NMCOLUMNTYPE_SINT8] = "sint8",
    [NMCOLUMNTYPE_UINT16] = "uint16",
    [NMCOLUMNTYPE_SINT16] = "sint16",
    [NMCOLUMNTYPE_UINT32] = "uint32",
    [NMCOLUMNTYPE_SINT32] = "sint32",
    [NMCOLUMNTYPE_FLOAT64] = "float64",
    [NMCOLUMNTYPE_FRAME] = "frame",
    [NMCOLUMNTYPE_YESNO] = "yesno",
    [NMCOLUMNTYPE_ONOFF] = "onoff",
    [NMCOLUMNTYPE_TRUEFALSE] = "truefalse",
    [NMCOLUMNTYPE_MACADDR] = "macaddr",
    [NMCOLUMNTYPE_IPXADDR] = "ipxaddr",
    [NMCOLUMNTYPE_IPADDR] = "ipaddr",
    [NMCOLUMNTYPE_VARTIME] = "vartime",
    [NMCOLUMNTYPE_STRING] = "string",
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/*
 * OLE automation dates that VariantTimeToSystemTime accepts: from
 * 0100-01-01 (-657434) to 9999-12-31 (2958465), as whole days.
 */
#define OLE_FIRST_DAY (-657434LL)
#define OLE_LAST_DAY 2958465LL
#define MS_PER_DAY 86400000LL

static bool is_leap_year(long long year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

/*
 * Days since 1899-12-30 to a proleptic Gregorian date.  The calendar repeats
 * every 400 years (146097 days), so we step to the cycle that holds the day,
 * then walk years and months; within the OLE range that is at most 400 + 12
 * small steps.
 */
static void ole_day_to_date(long long ole_day, long long *year, int *month, int *day)
{
    /* 1600-01-01 starts a cycle; 1899-12-30 is 109571 days after it. */
    const long long days_per_cycle = 146097;
    long long since_1600 = ole_day + 109571;
    long long cycles = since_1600 / days_per_cycle;
    long long rest = since_1600 % days_per_cycle;
    if (rest < 0) {              /* make the division floor, not truncate */
        rest += days_per_cycle;
        cycles--;
    }
    long long y = 1600 + 400 * cycles;
    for (;;) {
        long long year_days = is_leap_year(y) ? 366 : 365;
        if (rest < year_days)
            break;
        rest -= year_days;
        y++;
    }
    static const int month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int m = 0;
    for (;;) {
        long long len = month_days[m] + (m == 1 && is_leap_year(y) ? 1 : 0);
        if (rest < len)
            break;
        rest -= len;
        m++;
    }
    *year = y;
    *month = m + 1;
    *day = (int)rest + 1;
}

/*
 * VARTIME: an OLE automation date, days since 1899-12-30 with the time of
 * day as the fraction.  As in OLE, the fraction counts forward from midnight
 * even for negative dates: -1.25 is 1899-12-29 06:00, not 1899-12-28 18:00.
 * False when the value is no date OLE can represent.
 */
static bool buf_ole_date(struct es_buf *b, double value)
{
    if (!(value > (double)(OLE_FIRST_DAY - 1) && value < (double)(OLE_LAST_DAY + 1)))
        return false;            /* NaN, infinities and everything out of range */
    /* Plain casts and arithmetic instead of trunc/llround: the range check
     * above makes them exact enough, and the broker need not link libm. */
    long long ole_day = (long long)value;          /* truncates toward zero */
    double fraction = value - (double)ole_day;
    if (fraction < 0)
        fraction = -fraction;
    long long ms = (long long)(fraction * (double)MS_PER_DAY + 0.5);
    if (ms >= MS_PER_DAY) {      /* rounded up to the next midnight */
        ms -= MS_PER_DAY;
        ole_day++;
    }
    if (ole_day < OLE_FIRST_DAY || ole_day > OLE_LAST_DAY)
        return false;
    long long year;
    int month, day;
    ole_day_to_date(ole_day, &year, &month, &day);
    buf_printf(b, "\"%04lld-%02d-%02dT%02lld:%02lld:%02lld.%03lld\"", year, month, day,
               ms / 3600000, ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
    return true;
}

/*
 * Integers come as uint64/sint64 on the wire whatever the column's width, and
 * a worker we do not trust may send any value.  We keep the low bits of the
 * column's width, which is exactly what the expert's C union member could
 * have held, and reinterpret them as signed for the SINT types.
 */
static uint64_t low_bits(uint64_t value, unsigned bits)
{
    return bits >= 64 ? value : value & ((UINT64_C(1) << bits) - 1);
}

static int64_t low_bits_signed(int64_t value, unsigned bits)
{
    uint64_t low = low_bits((uint64_t)value, bits);
    uint64_t sign = UINT64_C(1) << (bits - 1);
    /* Two's complement by hand: converting an out-of-range unsigned value to
     * a signed type is implementation-defined in C17. */
    return (low & sign) ? -(int64_t)(sign - (low & (sign - 1))) : (int64_t)low;
}

static unsigned integer_bits(uint32_t type)
{
    switch (type) {
    case NMCOLUMNTYPE_UINT8:
    case NMCOLUMNTYPE_SINT8:
        return 8;
    case NMCOLUMNTYPE_UINT16:
    case NMCOLUMNTYPE_SINT16:
        return 16;
    default:
        return 32;
    }
}

/* 1-based frame number of a FRAME column, or 0 for none (INVALID_FRAME_NUMBER). */
static uint64_t frame_number_1based(uint64_t wire_value)
{
    uint64_t frame = low_bits(wire_value, 32);
    return frame == INVALID_FRAME_NUMBER ? 0 : frame + 1;
}

/* Writes the value of a column (after "value":); false if it is invalid. */
static bool buf_column_value(struct es_buf *b, const Es__Column *col)
{
    const ProtobufCBinaryData *bytes = &col->bytes_value;
    switch (col->type) {
    case NMCOLUMNTYPE_UINT8:
    case NMCOLUMNTYPE_UINT16:
    case NMCOLUMNTYPE_UINT32: {
        if (!col->has_unsigned_value)
            return false;
        buf_u64(b, low_bits(col->unsigned_value, integer_bits(col->type)));
        return true;
    }
    case NMCOLUMNTYPE_SINT8:
    case NMCOLUMNTYPE_SINT16:
    case NMCOLUMNTYPE_SINT32: {
        if (!col->has_signed_value)
            return false;
        buf_i64(b, low_bits_signed(col->signed_value, integer_bits(col->type)));
        return true;
    }
    case NMCOLUMNTYPE_FLOAT64:
        if (!col->has_double_value)
            return false;
        buf_json_double(b, col->double_value);
        return true;
    case NMCOLUMNTYPE_FRAME: {
        if (!col->has_unsigned_value)
            return false;
        uint64_t frame = frame_number_1based(col->unsigned_value);
        if (frame == 0)
            buf_puts(b, "null");
        else
            buf_u64(b, frame);
        return true;
    }
    case NMCOLUMNTYPE_YESNO:
    case NMCOLUMNTYPE_ONOFF:
    case NMCOLUMNTYPE_TRUEFALSE: {
        if (!col->has_unsigned_value)
            return false;
        /* A BOOL is 32 bits and any non-zero value is TRUE. */
        bool on = low_bits(col->unsigned_value, 32) != 0;
        if (col->type == NMCOLUMNTYPE_YESNO)
            buf_puts(b, on ? "\"yes\"" : "\"no\"");
        else if (col->type == NMCOLUMNTYPE_ONOFF)
            buf_puts(b, on ? "\"on\"" : "\"off\"");
        else
            buf_json_bool(b, on);
        return true;
    }
    case NMCOLUMNTYPE_MACADDR:
        if (!col->has_bytes_value || bytes->len != MAC_ADDRESS_SIZE)
            return false;
        buf_putc(b, '"');
        for (size_t i = 0; i < MAC_ADDRESS_SIZE; i++) {
            if (i > 0)
                buf_putc(b, ':');
            buf_hex2(b, bytes->data[i]);
        }
        buf_putc(b, '"');
        return true;
    case NMCOLUMNTYPE_IPXADDR:
        if (!col->has_bytes_value || bytes->len != sizeof(IPX_ADDR))
            return false;
        /* IPX_ADDR: 4 bytes network (Subnet), then 6 bytes node (Address). */
        buf_putc(b, '"');
        for (size_t i = 0; i < sizeof(IPX_ADDR); i++) {
            if (i == 4)
                buf_putc(b, '.');
            buf_hex2(b, bytes->data[i]);
        }
        buf_putc(b, '"');
        return true;
    case NMCOLUMNTYPE_IPADDR: {
        if (!col->has_unsigned_value)
            return false;
        /* The DWORD holds the address as the frame stores it, so on the
         * little-endian ABI we re-create the first octet is the low byte. */
        uint64_t addr = low_bits(col->unsigned_value, 32);
        buf_putc(b, '"');
        for (unsigned shift = 0; shift < 32; shift += 8) {
            if (shift > 0)
                buf_putc(b, '.');
            buf_u64(b, addr >> shift & 0xFF);
        }
        buf_putc(b, '"');
        return true;
    }
    case NMCOLUMNTYPE_VARTIME:
        if (!col->has_double_value)
            return false;
        return buf_ole_date(b, col->double_value);
    case NMCOLUMNTYPE_STRING:
        if (!col->has_bytes_value)
            return false;
        buf_json_string(b, bytes->data, bytes->len);
        return true;
    default:
        return false;
    }
}

static void buf_column(struct es_buf *b, const Es__Column *col)
{
    buf_puts(b, "{\"name\":");
    buf_json_string(b, col->name.data, col->name.len);
    bool known = col->type < ARRAY_LEN(column_type_names);
    if (known) {
        buf_puts(b, ",\"type\":\"");
        buf_puts(b, column_type_names[col->type]);
        buf_puts(b, "\",\"value\":");
    } else {
        buf_puts(b, ",\"type\":\"type_");
        buf_u64(b, col->type);
        buf_puts(b, "\",\"value\":null}");
    }
    if (!known)
        return;
    /* The value may be written before we learn it is invalid (a VARTIME out
     * of range writes nothing, all others check first), so remember where it
     * starts and replace whatever is there by null. */
    size_t value_at = b->len;
    if (buf_column_value(b, col)) {
        buf_putc(b, '}');
    } else {
        if (!b->failed)
            b->len = value_at;
        buf_puts(b, "null,\"invalid\":true}");
    }
}

/* "%04u-%02u-%02u" and "%02u:%02u:%02u.%03u" of a SYSTEMTIME. */
static void buf_date(struct es_buf *b, const Es__SystemTime *t)
{
    buf_u64_padded(b, t->year, 4);
    buf_putc(b, '-');
    buf_u64_padded(b, t->month, 2);
    buf_putc(b, '-');
    buf_u64_padded(b, t->day, 2);
}

static void buf_time(struct es_buf *b, const Es__SystemTime *t)
{
    buf_u64_padded(b, t->hour, 2);
    buf_putc(b, ':');
    buf_u64_padded(b, t->minute, 2);
    buf_putc(b, ':');
    buf_u64_padded(b, t->second, 2);
    buf_putc(b, '.');
    buf_u64_padded(b, t->milliseconds, 3);
}

static void buf_system_time(struct es_buf *b, const Es__SystemTime *t)
{
    if (!t) {
        buf_puts(b, "null");
        return;
    }
    /* Printed as given: the reference calls it "relative to the beginning of
     * the capture" and experts usually leave it zero, so any normalising
     * would invent a meaning it does not have. */
    buf_putc(b, '"');
    buf_date(b, t);
    buf_putc(b, ' ');
    buf_time(b, t);
    buf_putc(b, '"');
}

/* A column's value for a person: as in JSON, without the quotes; strings
 * through the terminal-safe escaper. */
static void buf_column_text(struct es_buf *b, const Es__Column *col)
{
    if (col->type == NMCOLUMNTYPE_STRING && col->has_bytes_value) {
        buf_text(b, col->bytes_value.data, col->bytes_value.len);
        return;
    }
    size_t at = b->len;
    if (col->type >= ARRAY_LEN(column_type_names) || !buf_column_value(b, col)) {
        if (!b->failed)
            b->len = at;
        buf_puts(b, "(invalid)");
        return;
    }
    /* What buf_column_value quotes (addresses, yes/no, dates) holds no
     * escapes, so dropping the quotes leaves the plain text. */
    if (!b->failed && b->len >= at + 2 && b->data[at] == '"') {
        memmove(b->data + at, b->data + at + 1, b->len - at - 2);
        b->len -= 2;
    }
}

static void buf_text_field_or_dash(struct es_buf *b, bool present, const ProtobufCBinaryData *d)
{
    if (present)
        buf_text(b, d->data, d->len);
    else
        buf_putc(b, '-');
}

/* The Event Viewer's view of an event, one block per event; the columns
 * the expert asked to hide (NMEVENTFLAG_DO_NOT_DISPLAY_*) are not shown. */
static void build_event_text(struct es_buf *b, const struct es_expert_ref *who, uint64_t seq,
                             const Es__Event *ev)
{
    buf_putc(b, '[');
    buf_u64(b, who->index);
    buf_putc(b, '.');
    buf_u64(b, seq);
    buf_puts(b, "] ");
    buf_text_cstring(b, who->name ? who->name : who->path);
    if (!(ev->flags & NMEVENTFLAG_DO_NOT_DISPLAY_SEVERITY)) {
        if (ev->severity < ARRAY_LEN(severity_names)) {
            buf_putc(b, ' ');
            buf_puts(b, severity_names[ev->severity]);
        } else {
            buf_puts(b, " severity_");
            buf_u64(b, ev->severity);
        }
    }
    if (!(ev->flags & NMEVENTFLAG_DO_NOT_DISPLAY_EVENT_NAME)) {
        buf_puts(b, ": ");
        buf_text_field_or_dash(b, ev->has_event_name, &ev->event_name);
    }
    if (!(ev->flags & NMEVENTFLAG_DO_NOT_DISPLAY_DESCRIPTION) && ev->has_description) {
        buf_puts(b, " - ");
        buf_text(b, ev->description.data, ev->description.len);
    }
    buf_putc(b, '\n');
    bool any = false;
    if (!(ev->flags & NMEVENTFLAG_DO_NOT_DISPLAY_SOURCE) && ev->has_source_name) {
        buf_puts(b, "    source: ");
        buf_text(b, ev->source_name.data, ev->source_name.len);
        any = true;
    }
    if (!(ev->flags & NMEVENTFLAG_DO_NOT_DISPLAY_MACHINE) && ev->has_machine) {
        buf_puts(b, any ? "  machine: " : "    machine: ");
        buf_text(b, ev->machine.data, ev->machine.len);
        any = true;
    }
    bool show_date = !(ev->flags & NMEVENTFLAG_DO_NOT_DISPLAY_DATE);
    bool show_time = !(ev->flags & NMEVENTFLAG_DO_NOT_DISPLAY_TIME);
    if (ev->time && (show_date || show_time)) {
        const Es__SystemTime *t = ev->time;
        buf_puts(b, any ? "  at: " : "    at: ");
        if (show_date) {
            buf_date(b, t);
            if (show_time)
                buf_putc(b, ' ');
        }
        if (show_time)
            buf_time(b, t);
        any = true;
    }
    if (any)
        buf_putc(b, '\n');
    for (size_t i = 0; i < ev->n_columns; i++) {
        const Es__Column *col = ev->columns[i];
        if (!col)
            continue;
        buf_puts(b, "    ");
        buf_text(b, col->name.data, col->name.len);
        buf_puts(b, ": ");
        buf_column_text(b, col);
        buf_putc(b, '\n');
    }
    if (ev->has_justification) {
        buf_puts(b, "    why: ");
        buf_text(b, ev->justification.data, ev->justification.len);
        buf_putc(b, '\n');
    }
    if (ev->truncated)
        buf_puts(b, "    (cut to fit: a text or the column list was too long)\n");
}

void es_output_set_text(struct es_output *out, bool text)
{
    if (out)
        out->text = text;
}

static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static char *copy_or_null(const char *s, bool *failed)
{
    if (!s)
        return NULL;
    char *copy = strdup(s);
    if (!copy)
        *failed = true;
    return copy;
}

/* Appends the record's start, from the cache when the expert is the one
 * of the last event (compared by content: a name may be freed and another
 * allocated at the same address). */
static void put_event_prefix(struct es_output *out, struct es_buf *b, const struct es_expert_ref *who)
{
    if (!out->prefix_valid || out->prefix_index != who->index || !same_text(out->prefix_name, who->name) ||
        !same_text(out->prefix_path, who->path)) {
        struct es_buf *p = &out->prefix;
        buf_reset(p);
        buf_puts(p, "{\"type\":\"event\",\"expert\":");
        buf_json_cstring(p, who->name);
        buf_puts(p, ",\"expert_file\":");
        buf_json_cstring(p, who->path);
        buf_puts(p, ",\"expert_index\":");
        buf_u64(p, who->index);
        buf_puts(p, ",\"seq\":");
        free(out->prefix_name);
        free(out->prefix_path);
        bool failed = p->failed;
        out->prefix_name = copy_or_null(who->name, &failed);
        out->prefix_path = copy_or_null(who->path, &failed);
        out->prefix_index = who->index;
        out->prefix_valid = !failed;
        if (failed) {
            b->failed = true;   /* the record cannot be built: the caller reports ENOMEM */
            return;
        }
    }
    buf_append(b, out->prefix.data, out->prefix.len);
}

static void build_event_json(struct es_output *out, struct es_buf *b, const struct es_expert_ref *who,
                             uint64_t seq, const Es__Event *ev)
{
    put_event_prefix(out, b, who);
    buf_u64(b, seq);
    buf_puts(b, ",\"severity\":\"");
    if (ev->severity < ARRAY_LEN(severity_names)) {
        buf_puts(b, severity_names[ev->severity]);
    } else {
        buf_puts(b, "severity_");
        buf_u64(b, ev->severity);
    }
    buf_puts(b, "\",\"severity_code\":");
    buf_u64(b, ev->severity);
    buf_puts(b, ",\"event_ident\":");
    buf_u64(b, ev->ident);
    buf_puts(b, ",\"event_name\":");
    buf_json_bytes_or_null(b, ev->has_event_name, &ev->event_name);
    buf_puts(b, ",\"source\":");
    buf_json_bytes_or_null(b, ev->has_source_name, &ev->source_name);
    buf_puts(b, ",\"description\":");
    buf_json_bytes_or_null(b, ev->has_description, &ev->description);
    buf_puts(b, ",\"machine\":");
    buf_json_bytes_or_null(b, ev->has_machine, &ev->machine);
    buf_puts(b, ",\"justification\":");
    buf_json_bytes_or_null(b, ev->has_justification, &ev->justification);

    buf_puts(b, ",\"flags\":");
    buf_u64(b, ev->flags);
    buf_puts(b, ",\"hidden\":[");
    bool first = true;
    for (size_t i = 0; i < ARRAY_LEN(hidden_columns); i++) {
        if (ev->flags & hidden_columns[i].flag) {
            buf_puts(b, first ? "\"" : ",\"");
            buf_puts(b, hidden_columns[i].column);
            buf_putc(b, '"');
            first = false;
        }
    }
    buf_puts(b, "],\"time\":");
    buf_system_time(b, ev->time);

    buf_puts(b, ",\"columns\":[");
    first = true;
    for (size_t i = 0; i < ev->n_columns; i++) {
        if (!ev->columns[i])
            continue;
        if (!first)
            buf_putc(b, ',');
        buf_column(b, ev->columns[i]);
        first = false;
    }
    buf_puts(b, "],\"frames\":[");
    first = true;
    for (size_t i = 0; i < ev->n_columns; i++) {
        const Es__Column *col = ev->columns[i];
        if (!col || col->type != NMCOLUMNTYPE_FRAME || !col->has_unsigned_value)
            continue;
        uint64_t frame = frame_number_1based(col->unsigned_value);
        if (frame == 0)
            continue;
        if (!first)
            buf_putc(b, ',');
        buf_u64(b, frame);
        first = false;
    }
    buf_puts(b, "],\"frames_read\":");
    buf_u64(b, ev->frames_read);
    buf_puts(b, ",\"truncated\":");
    buf_json_bool(b, ev->truncated);
    buf_puts(b, "}\n");
}

/* A batch is flushed early once it holds this much, so that its buffer
 * stays small and a consumer sees records at a steady pace. */
#define BATCH_FLUSH_BYTES (256 * 1024)

static int flush_batch(struct es_output *out)
{
    if (out->batch.len == 0)
        return 0;
    int rc = write_record(out->json, &out->batch);
    buf_reset(&out->batch);
    return rc;
}

void es_output_begin_batch(struct es_output *out)
{
    if (out)
        out->batching++;
}

int es_output_end_batch(struct es_output *out)
{
    if (!out || out->batching == 0)
        return 0;
    if (--out->batching > 0 || !out->json)
        return 0;
    return flush_batch(out);
}

int es_output_event(struct es_output *out, const struct es_expert_ref *who, const Es__Event *ev)
{
    if (!out || !out->json)
        return 0;
    uint64_t seq = next_seq(out, who->index);
    if (seq == 0) {
        errno = ENOMEM;
        return -1;
    }
    if (!out->batching) {
        struct es_buf *b = &out->line;
        buf_reset(b);
        if (out->text)
            build_event_text(b, who, seq, ev);
        else
            build_event_json(out, b, who, seq, ev);
        return write_record(out->json, b);
    }
    /* In a batch the record is appended whole or not at all. */
    struct es_buf *b = &out->batch;
    size_t start = b->len;
    if (out->text)
        build_event_text(b, who, seq, ev);
    else
        build_event_json(out, b, who, seq, ev);
    if (b->failed) {
        b->len = start;
        b->failed = false;
        errno = ENOMEM;
        return -1;
    }
    return b->len >= BATCH_FLUSH_BYTES ? flush_batch(out) : 0;
}

/* ------------------------------------------------------------------------ */
/* outcome                                                                   */
/* ------------------------------------------------------------------------ */

static const char *const status_names[] = {
    [EXPERTSTATUS_INACTIVE] = "inactive", [EXPERTSTATUS_STARTING] = "starting",
    [EXPERTSTATUS_RUNNING] = "running",   [EXPERTSTATUS_PROBLEM] = "problem",
    [EXPERTSTATUS_ABORTED] = "aborted",   [EXPERTSTATUS_DONE] = "done",
};

/* detail is a fixed array the supervisor fills; never read past it. */
static size_t detail_len(const struct es_outcome *o)
{
    return strnlen(o->detail, sizeof o->detail);
}

/* "layers":["rlimits",...] as the worker reported them in its Hello, and
 * "layer_report": what was missing and why (null when nothing was). */
static void put_layers(struct es_buf *b, const struct es_outcome *o)
{
    static const char *const names[] = {"rlimits", "user", "namespaces", "landlock", "seccomp"};
    buf_puts(b, ",\"layers\":[");
    bool first = true;
    for (unsigned i = 0; i < ARRAY_LEN(names); i++) {
        if (o->layers & (1u << i)) {
            buf_printf(b, "%s\"%s\"", first ? "" : ",", names[i]);
            first = false;
        }
    }
    buf_puts(b, "],\"layer_report\":");
    size_t len = strnlen(o->layer_report, sizeof o->layer_report);
    if (len)
        buf_json_string(b, (const uint8_t *)o->layer_report, len);
    else
        buf_puts(b, "null");
}

/* The system call as the kernel reported it to the broker. */
static void put_violation(struct es_buf *b, const struct es_outcome *o)
{
    buf_puts(b, ",\"violation\":");
    if (!o->has_violation) {
        buf_puts(b, "null");
        return;
    }
    buf_puts(b, "{\"syscall\":");
    buf_json_string(b, (const uint8_t *)o->violation_syscall,
                    strnlen(o->violation_syscall, sizeof o->violation_syscall));
    buf_puts(b, ",\"arch\":");
    buf_json_string(b, (const uint8_t *)o->violation_arch,
                    strnlen(o->violation_arch, sizeof o->violation_arch));
    buf_printf(b, ",\"number\":%d,\"args\":[", o->violation_number);
    for (int i = 0; i < 6; i++)
        buf_printf(b, "%s\"0x%" PRIx64 "\"", i ? "," : "", o->violation_args[i]);
    buf_printf(b, "],\"instruction_pointer\":\"0x%" PRIx64 "\",\"path\":", o->violation_ip);
    size_t len = strnlen(o->violation_path, sizeof o->violation_path);
    if (len)
        buf_json_string(b, (const uint8_t *)o->violation_path, len);
    else
        buf_puts(b, "null");
    buf_puts(b, "}");
}

int es_output_outcome(struct es_output *out, const struct es_outcome *o)
{
    if (out && out->text)
        return 0;
    if (!out || !out->json)
        return 0;
    if (flush_batch(out) != 0)
        return -1;
    struct es_buf *b = &out->line;
    buf_reset(b);
    buf_puts(b, "{\"type\":\"outcome\",\"expert\":");
    buf_json_cstring(b, o->expert_name);
    buf_puts(b, ",\"expert_file\":");
    buf_json_cstring(b, o->expert_path);
    buf_printf(b, ",\"expert_index\":%zu,\"outcome\":\"%s\",\"detail\":", o->index,
               es_outcome_name(o->kind));
    buf_json_string(b, (const uint8_t *)o->detail, detail_len(o));

    buf_puts(b, ",\"signal\":");
    if (o->signal != 0) {
        char name[32];
        buf_json_cstring(b, es_signal_name(o->signal, name, sizeof name));
        buf_printf(b, ",\"signal_number\":%d", o->signal);
    } else {
        buf_puts(b, "null,\"signal_number\":null");
    }
    buf_puts(b, ",\"fault_address\":");
    if (o->has_fault_address)
        buf_printf(b, "\"0x%" PRIx64 "\"", o->fault_address);
    else
        buf_puts(b, "null");
    buf_puts(b, ",\"exit_status\":");
    if (o->exit_status >= 0)
        buf_printf(b, "%d", o->exit_status);
    else
        buf_puts(b, "null");
    buf_puts(b, ",\"run_result\":");
    if (o->has_run_result)
        buf_json_bool(b, o->run_result);
    else
        buf_puts(b, "null");
    buf_printf(b, ",\"events\":%" PRIu64 ",\"frames_read\":%" PRIu64 ",\"last_frame\":",
               o->events, o->frames_read);
    if (o->last_frame >= 0)
        buf_printf(b, "%" PRId64, o->last_frame + 1);
    else
        buf_puts(b, "null");

    buf_puts(b, ",\"status\":");
    if (o->has_status) {
        if (o->status < ARRAY_LEN(status_names))
            buf_printf(b, "{\"status\":\"%s\"", status_names[o->status]);
        else
            buf_printf(b, "{\"status\":\"status_%" PRIu32 "\"", o->status);
        buf_printf(b, ",\"sub_status\":%" PRIu32 ",\"percent\":", o->sub_status);
        if (o->percent >= 0)
            buf_printf(b, "%" PRId32 "}", o->percent);
        else
            buf_puts(b, "null}");
    } else {
        buf_puts(b, "null");
    }
    buf_printf(b, ",\"heap\":{\"quota\":%" PRIu64 ",\"peak\":%" PRIu64 ",\"in_use\":%" PRIu64
                  ",\"blocks\":%" PRIu64 "}",
               o->heap_quota, o->heap_peak, o->heap_in_use, o->heap_blocks);
    buf_printf(b, ",\"helper_calls\":%" PRIu64 ",\"alloc_calls\":%" PRIu64, o->helper_calls, o->alloc_calls);
    buf_puts(b, ",\"elapsed_seconds\":");
    if (isfinite(o->elapsed_seconds) && o->elapsed_seconds >= 0) {
        char text[64];
        snprintf(text, sizeof text, "%.3f", o->elapsed_seconds);
        normalise_decimal_point(text);
        buf_puts(b, text);
    } else {
        buf_puts(b, "null");
    }
    buf_puts(b, ",\"cpu_seconds\":");
    if (isfinite(o->cpu_seconds) && o->cpu_seconds >= 0) {
        char text[64];
        snprintf(text, sizeof text, "%.3f", o->cpu_seconds);
        normalise_decimal_point(text);
        buf_puts(b, text);
    } else {
        buf_puts(b, "null");
    }
    put_layers(b, o);
    put_violation(b, o);
    buf_puts(b, ",\"output_tail\":");
    if (o->output_tail_len > 0)
        buf_json_string(b, (const uint8_t *)o->output_tail,
                        o->output_tail_len < sizeof o->output_tail ? o->output_tail_len
                                                                   : sizeof o->output_tail);
    else
        buf_puts(b, "null");
    buf_puts(b, ",\"output_cut\":");
    buf_json_bool(b, o->output_tail_cut);
    buf_puts(b, "}\n");
    return write_record(out->json, b);
}

/* ------------------------------------------------------------------------ */
/* table                                                                     */
/* ------------------------------------------------------------------------ */

#define TABLE_NAME_MAX_WIDTH 32

enum { COL_INDEX, COL_EXPERT, COL_OUTCOME, COL_EVENTS, COL_FRAMES, COL_DETAIL, TABLE_COLUMNS };

static const char *const table_headers[TABLE_COLUMNS] = {"#", "EXPERT", "OUTCOME",
                                                         "EVENTS", "FRAMES", "DETAIL"};
static const bool table_right_aligned[TABLE_COLUMNS] = {true, false, false, true, true, false};

struct table_cell {
    size_t offset;     /* into the table's cell buffer */
    size_t len;
    size_t width;
};

/* Cuts sanitised text to at most max_width columns, ending in "..." if cut. */
static void truncate_to_width(struct es_buf *cells, struct table_cell *cell, size_t max_width)
{
    if (cell->width <= max_width)
        return;
    const char *s = cells->data + cell->offset;
    size_t keep = 0, width = 0;
    while (keep < cell->len) {
        uint32_t cp;
        size_t n = utf8_decode((const uint8_t *)s + keep, cell->len - keep, &cp);
        size_t w = n ? codepoint_width(cp) : 1;
        if (n == 0)
            n = 1;
        if (width + w > max_width - 3)
            break;
        width += w;
        keep += n;
    }
    /* The cell is the last thing in the buffer, so it can be cut in place. */
    cells->len = cell->offset + keep;
    buf_puts(cells, "...");
    cell->len = keep + 3;
    cell->width = width + 3;
}

static void add_cell(struct es_buf *cells, struct table_cell *cell, const char *text, size_t len,
                     bool sanitise)
{
    cell->offset = cells->len;
    if (sanitise)
        buf_text(cells, (const uint8_t *)text, len);
    else
        buf_append(cells, text, len);
    cell->len = cells->failed ? 0 : cells->len - cell->offset;
    cell->width = cells->failed ? 0 : text_width(cells->data + cell->offset, cell->len);
}

static const char *path_basename(const char *path)
{
    if (!path)
        return "?";
    const char *slash = strrchr(path, '/');
    return slash && slash[1] ? slash + 1 : path;
}

int es_output_table(FILE *to, const struct es_outcome *const *outcomes, size_t n)
{
    size_t rows = 0;
    for (size_t i = 0; i < n; i++)
        rows += outcomes[i] != NULL;
    if (rows > SIZE_MAX / sizeof(struct table_cell) / TABLE_COLUMNS - 1) {
        errno = ENOMEM;
        return -1;
    }
    /* Row 0 is the header. */
    struct table_cell (*cells)[TABLE_COLUMNS] = calloc(rows + 1, sizeof *cells);
    if (!cells) {
        errno = ENOMEM;
        return -1;
    }
    struct es_buf text = {0};
    for (int c = 0; c < TABLE_COLUMNS; c++)
        add_cell(&text, &cells[0][c], table_headers[c], strlen(table_headers[c]), false);

    size_t row = 1;
    for (size_t i = 0; i < n; i++) {
        const struct es_outcome *o = outcomes[i];
        if (!o)
            continue;
        char number[32];
        int len = snprintf(number, sizeof number, "%zu", o->index);
        add_cell(&text, &cells[row][COL_INDEX], number, (size_t)len, false);
        const char *name = o->expert_name ? o->expert_name : path_basename(o->expert_path);
        add_cell(&text, &cells[row][COL_EXPERT], name, strlen(name), true);
        if (!text.failed)
            truncate_to_width(&text, &cells[row][COL_EXPERT], TABLE_NAME_MAX_WIDTH);
        const char *kind = es_outcome_name(o->kind);
        add_cell(&text, &cells[row][COL_OUTCOME], kind, strlen(kind), false);
        len = snprintf(number, sizeof number, "%" PRIu64, o->events);
        add_cell(&text, &cells[row][COL_EVENTS], number, (size_t)len, false);
        len = snprintf(number, sizeof number, "%" PRIu64, o->frames_read);
        add_cell(&text, &cells[row][COL_FRAMES], number, (size_t)len, false);
        add_cell(&text, &cells[row][COL_DETAIL], o->detail, detail_len(o), true);
        row++;
    }

    size_t widths[TABLE_COLUMNS] = {0};
    for (size_t r = 0; r <= rows; r++)
        for (int c = 0; c < TABLE_COLUMNS; c++)
            if (cells[r][c].width > widths[c])
                widths[c] = cells[r][c].width;

    struct es_buf table = {0};
    for (size_t r = 0; r <= rows && !text.failed; r++) {
        size_t line_start = table.len;
        for (int c = 0; c < TABLE_COLUMNS; c++) {
            const struct table_cell *cell = &cells[r][c];
            size_t pad = widths[c] - cell->width;
            if (c > 0)
                buf_puts(&table, "  ");
            if (table_right_aligned[c])
                buf_printf(&table, "%*s", (int)pad, "");
            buf_append(&table, text.data + cell->offset, cell->len);
            if (!table_right_aligned[c])
                buf_printf(&table, "%*s", (int)pad, "");
        }
        /* Padding the last columns leaves blanks at the end; drop them. */
        while (!table.failed && table.len > line_start && table.data[table.len - 1] == ' ')
            table.len--;
        buf_putc(&table, '\n');
    }
    if (text.failed)
        table.failed = true;
    int rc = write_record(to, &table);
    int saved = errno;
    buf_release(&table);
    buf_release(&text);
    free(cells);
    errno = saved;
    return rc;
}

/* ------------------------------------------------------------------------ */
/* registration (`expert-broker list`)                                       */
/* ------------------------------------------------------------------------ */

static const struct {
    uint32_t flag;
    const char *name;
} enum_flag_names[] = {
    {EXPERT_ENUM_FLAG_CONFIGURABLE, "configurable"},
    {EXPERT_ENUM_FLAG_VIEWER_PRIVATE, "viewer_private"},
    {EXPERT_ENUM_FLAG_NO_VIEWER, "no_viewer"},
    {EXPERT_ENUM_FLAG_ADD_ME_TO_RMC_IN_SUMMARY, "add_me_to_rmc_in_summary"},
    {EXPERT_ENUM_FLAG_ADD_ME_TO_RMC_IN_DETAIL, "add_me_to_rmc_in_detail"},
};

/* Name of one bit of EXPERTENUMINFO.Flags; unknown bits as "0x0008". */
static const char *enum_flag_name(uint32_t bit, char *buf, size_t len)
{
    for (size_t i = 0; i < ARRAY_LEN(enum_flag_names); i++)
        if (enum_flag_names[i].flag == bit)
            return enum_flag_names[i].name;
    snprintf(buf, len, "0x%04" PRIx32, bit);
    return buf;
}

/* Writes the names of the set bits, lowest first, each wrapped by quote. */
static void buf_flag_names(struct es_buf *b, uint32_t flags, const char *quote)
{
    bool first = true;
    for (unsigned bit = 0; bit < 32; bit++) {
        uint32_t mask = UINT32_C(1) << bit;
        if (!(flags & mask))
            continue;
        char unknown[16];
        buf_printf(b, "%s%s%s%s", first ? "" : (*quote ? "," : ", "), quote,
                   enum_flag_name(mask, unknown, sizeof unknown), quote);
        first = false;
    }
}

static void buf_text_field(struct es_buf *b, const char *label, const ProtobufCBinaryData *d)
{
    buf_printf(b, "  %s: ", label);
    buf_text(b, d->data, d->len);
    buf_putc(b, '\n');
}

int es_output_registration(FILE *to, const struct es_expert_ref *who, const Es__Registered *reg,
                           bool json)
{
    if (!reg) {
        errno = EINVAL;
        return -1;
    }
    struct es_buf b = {0};
    if (json) {
        buf_puts(&b, "{\"type\":\"expert\",\"expert_file\":");
        buf_json_cstring(&b, who->path);
        buf_printf(&b, ",\"expert_index\":%zu,\"name\":", who->index);
        buf_json_string(&b, reg->name.data, reg->name.len);
        buf_puts(&b, ",\"vendor\":");
        buf_json_string(&b, reg->vendor.data, reg->vendor.len);
        buf_puts(&b, ",\"description\":");
        buf_json_string(&b, reg->description.data, reg->description.len);
        buf_printf(&b, ",\"version\":%" PRIu32 ",\"flags\":%" PRIu32 ",\"flag_names\":[",
                   reg->version, reg->flags);
        buf_flag_names(&b, reg->flags, "\"");
        buf_puts(&b, "],\"configurable\":");
        buf_json_bool(&b, reg->has_configure);
        buf_puts(&b, "}\n");
    } else {
        buf_text_cstring(&b, who->path ? who->path : "?");
        buf_putc(&b, '\n');
        buf_text_field(&b, "name", &reg->name);
        buf_text_field(&b, "vendor", &reg->vendor);
        buf_text_field(&b, "description", &reg->description);
        buf_printf(&b, "  version: %" PRIu32 "\n  flags: 0x%04" PRIx32, reg->version, reg->flags);
        if (reg->flags) {
            buf_puts(&b, " (");
            buf_flag_names(&b, reg->flags, "");
            buf_putc(&b, ')');
        }
        buf_printf(&b, "\n  configure: %s\n", reg->has_configure ? "yes" : "no");
    }
    int rc = write_record(to, &b);
    int saved = errno;
    buf_release(&b);
    errno = saved;
    return rc;
}
