/*
 * test_output.c - the JSON Lines records, the table and `list` output
 * (broker/output.c), byte for byte against docs/output.md.
 *
 * Events, columns and registrations are built by hand as the decoder would
 * hand them to the broker, including values no well-behaved worker sends,
 * and rendered into memory streams.  One test pipes every JSON line these
 * fixtures produce through Python's strict JSON parser when python3 exists.
 */
#include <check.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netmon.h"
#include "output.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

/* A memory stream; closing it yields the text written to it. */
struct capture {
    FILE *stream;
    char *text;
    size_t len;
};

static void capture_open(struct capture *c)
{
    c->text = NULL;
    c->len = 0;
    c->stream = open_memstream(&c->text, &c->len);
    ck_assert_ptr_nonnull(c->stream);
}

static char *capture_close(struct capture *c)
{
    ck_assert_int_eq(fclose(c->stream), 0);
    return c->text;
}

static ProtobufCBinaryData bin(const char *bytes, size_t len)
{
    return (ProtobufCBinaryData){.len = len, .data = (uint8_t *)bytes};
}

/* A string literal with its length, embedded NULs included. */
#define LIT(s) (s), (sizeof(s) - 1)
#define BIN(s) bin(LIT(s))

static const struct es_expert_ref dns_expert = {
    .index = 2, .path = "/x/dns.so", .name = "DNS Checker"};

/* An event with nothing optional set and a zero time. */
static void minimal_event(Es__Event *ev, Es__SystemTime *time)
{
    es__event__init(ev);
    es__system_time__init(time);
    ev->time = time;
}

static char *render_event(const struct es_expert_ref *who, const Es__Event *ev)
{
    struct capture c;
    capture_open(&c);
    struct es_output *out = es_output_new(c.stream);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(es_output_event(out, who, ev), 0);
    es_output_free(out);
    return capture_close(&c);
}

static char *render_outcome(const struct es_outcome *o);

/* The text between `"<key>":` and the next `,"<next_key>":` of a line. */
static char *field_of(const char *line, const char *key, const char *next_key)
{
    char start[64], end[64];
    snprintf(start, sizeof start, "\"%s\":", key);
    snprintf(end, sizeof end, ",\"%s\":", next_key);
    const char *from = strstr(line, start);
    ck_assert_msg(from != NULL, "no %s in %s", key, line);
    from += strlen(start);
    const char *to = strstr(from, end);
    ck_assert_msg(to != NULL, "no %s after %s in %s", next_key, key, line);
    return strndup(from, (size_t)(to - from));
}

/* ------------------------------------------------------------------------ */
/* Fixtures: columns                                                         */
/* ------------------------------------------------------------------------ */

enum wire_field { FIELD_NONE, FIELD_UNSIGNED, FIELD_SIGNED, FIELD_DOUBLE, FIELD_BYTES };

struct column_case {
    uint32_t type;
    enum wire_field field;
    uint64_t u;
    int64_t s;
    double d;
    const char *bytes;
    size_t bytes_len;
    const char *expected;   /* the column object, name "c" */
};

#define U(type, v, exp) {type, FIELD_UNSIGNED, .u = (v), .expected = (exp)}
#define S(type, v, exp) {type, FIELD_SIGNED, .s = (v), .expected = (exp)}
#define D(type, v, exp) {type, FIELD_DOUBLE, .d = (v), .expected = (exp)}
#define B(type, lit, exp) \
    {type, FIELD_BYTES, .bytes = (lit), .bytes_len = sizeof(lit) - 1, .expected = (exp)}
#define NONE(type, exp) {type, FIELD_NONE, .expected = (exp)}
#define VALUE(type, v) "{\"name\":\"c\",\"type\":\"" type "\",\"value\":" v "}"
#define INVALID(type) "{\"name\":\"c\",\"type\":\"" type "\",\"value\":null,\"invalid\":true}"

static const struct column_case column_cases[] = {
    /* integers: the low bits of the column's width, never the raw wire value */
    U(NMCOLUMNTYPE_UINT8, 0, VALUE("uint8", "0")),
    U(NMCOLUMNTYPE_UINT8, 255, VALUE("uint8", "255")),
    U(NMCOLUMNTYPE_UINT8, 300, VALUE("uint8", "44")),
    U(NMCOLUMNTYPE_UINT8, UINT64_MAX, VALUE("uint8", "255")),
    NONE(NMCOLUMNTYPE_UINT8, INVALID("uint8")),
    S(NMCOLUMNTYPE_UINT8, 5, INVALID("uint8")),          /* wrong field for the type */
    S(NMCOLUMNTYPE_SINT8, -128, VALUE("sint8", "-128")),
    S(NMCOLUMNTYPE_SINT8, 127, VALUE("sint8", "127")),
    S(NMCOLUMNTYPE_SINT8, 200, VALUE("sint8", "-56")),
    S(NMCOLUMNTYPE_SINT8, -129, VALUE("sint8", "127")),
    U(NMCOLUMNTYPE_SINT8, 1, INVALID("sint8")),
    U(NMCOLUMNTYPE_UINT16, 65535, VALUE("uint16", "65535")),
    U(NMCOLUMNTYPE_UINT16, 65536, VALUE("uint16", "0")),
    S(NMCOLUMNTYPE_SINT16, -32768, VALUE("sint16", "-32768")),
    S(NMCOLUMNTYPE_SINT16, 40000, VALUE("sint16", "-25536")),
    U(NMCOLUMNTYPE_UINT32, 4294967295u, VALUE("uint32", "4294967295")),
    U(NMCOLUMNTYPE_UINT32, 0x100000005ull, VALUE("uint32", "5")),
    S(NMCOLUMNTYPE_SINT32, INT32_MIN, VALUE("sint32", "-2147483648")),
    S(NMCOLUMNTYPE_SINT32, INT32_MAX, VALUE("sint32", "2147483647")),
    S(NMCOLUMNTYPE_SINT32, INT64_MIN, VALUE("sint32", "0")),
    S(NMCOLUMNTYPE_SINT32, -1, VALUE("sint32", "-1")),
    NONE(NMCOLUMNTYPE_SINT32, INVALID("sint32")),
    /* FLOAT64: shortest round trip, always with a fraction or exponent */
    D(NMCOLUMNTYPE_FLOAT64, 1.5, VALUE("float64", "1.5")),
    D(NMCOLUMNTYPE_FLOAT64, 0.1, VALUE("float64", "0.1")),
    D(NMCOLUMNTYPE_FLOAT64, 3.0, VALUE("float64", "3.0")),
    D(NMCOLUMNTYPE_FLOAT64, -0.0, VALUE("float64", "-0.0")),
    D(NMCOLUMNTYPE_FLOAT64, 1.0 / 3.0, VALUE("float64", "0.3333333333333333")),
    D(NMCOLUMNTYPE_FLOAT64, 1e300, VALUE("float64", "1e+300")),
    D(NMCOLUMNTYPE_FLOAT64, 2.2250738585072014e-308, VALUE("float64", "2.2250738585072014e-308")),
    D(NMCOLUMNTYPE_FLOAT64, NAN, VALUE("float64", "null")),
    D(NMCOLUMNTYPE_FLOAT64, INFINITY, VALUE("float64", "null")),
    D(NMCOLUMNTYPE_FLOAT64, -INFINITY, VALUE("float64", "null")),
    NONE(NMCOLUMNTYPE_FLOAT64, INVALID("float64")),
    /* FRAME: 0-based on the wire, 1-based in the output */
    U(NMCOLUMNTYPE_FRAME, 0, VALUE("frame", "1")),
    U(NMCOLUMNTYPE_FRAME, 41, VALUE("frame", "42")),
    U(NMCOLUMNTYPE_FRAME, 0xFFFFFFFEu, VALUE("frame", "4294967295")),
    U(NMCOLUMNTYPE_FRAME, INVALID_FRAME_NUMBER, VALUE("frame", "null")),
    NONE(NMCOLUMNTYPE_FRAME, INVALID("frame")),
    /* booleans: any non-zero 32-bit BOOL is true */
    U(NMCOLUMNTYPE_YESNO, 1, VALUE("yesno", "\"yes\"")),
    U(NMCOLUMNTYPE_YESNO, 0, VALUE("yesno", "\"no\"")),
    U(NMCOLUMNTYPE_YESNO, 0xFFFFFFFFu, VALUE("yesno", "\"yes\"")),
    U(NMCOLUMNTYPE_YESNO, 0x100000000ull, VALUE("yesno", "\"no\"")),
    U(NMCOLUMNTYPE_ONOFF, 2, VALUE("onoff", "\"on\"")),
    U(NMCOLUMNTYPE_ONOFF, 0, VALUE("onoff", "\"off\"")),
    U(NMCOLUMNTYPE_TRUEFALSE, 1, VALUE("truefalse", "true")),
    U(NMCOLUMNTYPE_TRUEFALSE, 0, VALUE("truefalse", "false")),
    NONE(NMCOLUMNTYPE_TRUEFALSE, INVALID("truefalse")),
    /* addresses */
    B(NMCOLUMNTYPE_MACADDR, "\x00\x1a\x2b\x3c\x4d\xff", VALUE("macaddr", "\"00:1a:2b:3c:4d:ff\"")),
    B(NMCOLUMNTYPE_MACADDR, "\x00\x1a\x2b\x3c\x4d", INVALID("macaddr")),
    B(NMCOLUMNTYPE_MACADDR, "\x00\x1a\x2b\x3c\x4d\xff\x01", INVALID("macaddr")),
    NONE(NMCOLUMNTYPE_MACADDR, INVALID("macaddr")),
    B(NMCOLUMNTYPE_IPXADDR, "\x0a\x0b\x0c\x0d\xaa\xbb\xcc\xdd\xee\xff",
      VALUE("ipxaddr", "\"0a0b0c0d.aabbccddeeff\"")),
    B(NMCOLUMNTYPE_IPXADDR, "\x0a\x0b\x0c\x0d\xaa\xbb\xcc\xdd\xee", INVALID("ipxaddr")),
    B(NMCOLUMNTYPE_IPXADDR, "", INVALID("ipxaddr")),
    U(NMCOLUMNTYPE_IPADDR, 0x0100A8C0u, VALUE("ipaddr", "\"192.168.0.1\"")),
    U(NMCOLUMNTYPE_IPADDR, 0, VALUE("ipaddr", "\"0.0.0.0\"")),
    U(NMCOLUMNTYPE_IPADDR, 0xFFFFFFFFu, VALUE("ipaddr", "\"255.255.255.255\"")),
    U(NMCOLUMNTYPE_IPADDR, 0x70100000Aull, VALUE("ipaddr", "\"10.0.0.1\"")),
    NONE(NMCOLUMNTYPE_IPADDR, INVALID("ipaddr")),
    /* VARTIME: OLE automation dates */
    D(NMCOLUMNTYPE_VARTIME, 0.0, VALUE("vartime", "\"1899-12-30T00:00:00.000\"")),
    D(NMCOLUMNTYPE_VARTIME, 2.5, VALUE("vartime", "\"1900-01-01T12:00:00.000\"")),
    D(NMCOLUMNTYPE_VARTIME, 36526.0, VALUE("vartime", "\"2000-01-01T00:00:00.000\"")),
    D(NMCOLUMNTYPE_VARTIME, 45351.0, VALUE("vartime", "\"2024-02-29T00:00:00.000\"")),
    D(NMCOLUMNTYPE_VARTIME, 45292.75, VALUE("vartime", "\"2024-01-01T18:00:00.000\"")),
    D(NMCOLUMNTYPE_VARTIME, 1.0 + 1.5 / 86400, VALUE("vartime", "\"1899-12-31T00:00:01.500\"")),
    D(NMCOLUMNTYPE_VARTIME, 45000.123456789, VALUE("vartime", "\"2023-03-15T02:57:46.667\"")),
    D(NMCOLUMNTYPE_VARTIME, -1.25, VALUE("vartime", "\"1899-12-29T06:00:00.000\"")),
    D(NMCOLUMNTYPE_VARTIME, -657434.0, VALUE("vartime", "\"0100-01-01T00:00:00.000\"")),
    D(NMCOLUMNTYPE_VARTIME, 2958465.999994, VALUE("vartime", "\"9999-12-31T23:59:59.482\"")),
    D(NMCOLUMNTYPE_VARTIME, 2958465.9999999999, INVALID("vartime")),  /* rounds to year 10000 */
    D(NMCOLUMNTYPE_VARTIME, -657435.0, INVALID("vartime")),
    D(NMCOLUMNTYPE_VARTIME, 2958466.0, INVALID("vartime")),
    D(NMCOLUMNTYPE_VARTIME, NAN, INVALID("vartime")),
    D(NMCOLUMNTYPE_VARTIME, INFINITY, INVALID("vartime")),
    NONE(NMCOLUMNTYPE_VARTIME, INVALID("vartime")),
    /* STRING: untrusted bytes */
    B(NMCOLUMNTYPE_STRING, "hello", VALUE("string", "\"hello\"")),
    B(NMCOLUMNTYPE_STRING, "", VALUE("string", "\"\"")),
    B(NMCOLUMNTYPE_STRING, "say \"hi\"\n", VALUE("string", "\"say \\\"hi\\\"\\n\"")),
    B(NMCOLUMNTYPE_STRING, "a\0b\xff", VALUE("string", "\"a\\u0000b\xEF\xBF\xBD\"")),
    NONE(NMCOLUMNTYPE_STRING, INVALID("string")),
    /* unknown types: named by number, never interpreted */
    U(16, 1, "{\"name\":\"c\",\"type\":\"type_16\",\"value\":null}"),
    B(0xFFFFFFFFu, "x", "{\"name\":\"c\",\"type\":\"type_4294967295\",\"value\":null}"),
};

static void make_column(Es__Column *col, const struct column_case *cc)
{
    es__column__init(col);
    col->name = BIN("c");
    col->type = cc->type;
    switch (cc->field) {
    case FIELD_NONE:
        break;
    case FIELD_UNSIGNED:
        col->has_unsigned_value = 1;
        col->unsigned_value = cc->u;
        break;
    case FIELD_SIGNED:
        col->has_signed_value = 1;
        col->signed_value = cc->s;
        break;
    case FIELD_DOUBLE:
        col->has_double_value = 1;
        col->double_value = cc->d;
        break;
    case FIELD_BYTES:
        col->has_bytes_value = 1;
        col->bytes_value = bin(cc->bytes, cc->bytes_len);
        break;
    }
}

static char *render_column_case(const struct column_case *cc)
{
    Es__Event ev;
    Es__SystemTime time;
    Es__Column col;
    Es__Column *cols[1] = {&col};
    minimal_event(&ev, &time);
    make_column(&col, cc);
    ev.n_columns = 1;
    ev.columns = cols;
    return render_event(&dns_expert, &ev);
}

START_TEST(column_rendering)
{
    const struct column_case *cc = &column_cases[_i];
    char *line = render_column_case(cc);
    char *columns = field_of(line, "columns", "frames");
    char expected[512];
    snprintf(expected, sizeof expected, "[%s]", cc->expected);
    ck_assert_msg(strcmp(columns, expected) == 0, "case %d: got %s, want %s", _i, columns, expected);
    free(columns);
    free(line);
}
END_TEST

START_TEST(every_column_type_is_covered)
{
    bool seen[16] = {false};
    for (size_t i = 0; i < sizeof column_cases / sizeof column_cases[0]; i++)
        if (column_cases[i].type < 16 && !strstr(column_cases[i].expected, "\"invalid\""))
            seen[column_cases[i].type] = true;
    for (int t = 0; t < 16; t++)
        ck_assert_msg(seen[t], "no valid case for column type %d", t);
}
END_TEST

START_TEST(numbers_ignore_decimal_comma_locales)
{
    /* An embedding program may switch LC_NUMERIC; JSON numbers must not
     * follow it.  Skipped where no such locale is installed. */
    const char *const candidates[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8",
                                      "nl_NL.UTF-8", "ru_RU.UTF-8"};
    const char *found = NULL;
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0] && !found; i++)
        if (setlocale(LC_NUMERIC, candidates[i]))
            found = candidates[i];
    if (!found) {
        fprintf(stderr, "numbers_ignore_decimal_comma_locales: no such locale, skipped\n");
        return;
    }
    const struct column_case half = D(NMCOLUMNTYPE_FLOAT64, -1.25, VALUE("float64", "-1.25"));
    char *line = render_column_case(&half);
    char *columns = field_of(line, "columns", "frames");
    ck_assert_str_eq(columns, "[" VALUE("float64", "-1.25") "]");
    free(columns);
    free(line);

    struct es_outcome o;
    es_outcome_init(&o, 0, "x.so");
    o.elapsed_seconds = 2.5;
    line = render_outcome(&o);
    ck_assert_ptr_nonnull(strstr(line, "\"elapsed_seconds\":2.500,"));
    free(line);
    setlocale(LC_NUMERIC, "C");
}
END_TEST

START_TEST(column_name_is_escaped)
{
    Es__Event ev;
    Es__SystemTime time;
    Es__Column col;
    Es__Column *cols[1] = {&col};
    minimal_event(&ev, &time);
    es__column__init(&col);
    col.name = BIN("na\"me\x1b\xc3");
    col.type = NMCOLUMNTYPE_UINT8;
    col.has_unsigned_value = 1;
    col.unsigned_value = 7;
    ev.n_columns = 1;
    ev.columns = cols;
    char *line = render_event(&dns_expert, &ev);
    char *columns = field_of(line, "columns", "frames");
    ck_assert_str_eq(columns,
                     "[{\"name\":\"na\\\"me\\u001b\xEF\xBF\xBD\",\"type\":\"uint8\",\"value\":7}]");
    free(columns);
    free(line);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Fixtures: strings                                                         */
/* ------------------------------------------------------------------------ */

struct string_case {
    const char *bytes;
    size_t len;
    const char *expected;
};

#define REPLACED "\xEF\xBF\xBD"

static const struct string_case string_cases[] = {
    {LIT(""), "\"\""},
    {LIT("plain ASCII text"), "\"plain ASCII text\""},
    {LIT("a\"b\\c/d"), "\"a\\\"b\\\\c/d\""},
    {LIT("\n\t\r\b\f"), "\"\\n\\t\\r\\b\\f\""},
    {LIT("\x01\x1b[31m\x1f\x7f"), "\"\\u0001\\u001b[31m\\u001f\\u007f\""},
    {LIT("a\0b\0"), "\"a\\u0000b\\u0000\""},
    {LIT("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},
    {LIT("\xf4\x8f\xbf\xbf"), "\"\xf4\x8f\xbf\xbf\""},                    /* U+10FFFF */
    {LIT("\xef\xbf\xbd"), "\"" REPLACED "\""},                               /* U+FFFD itself */
    {LIT("a\xe2\x80\xa8" "b\xe2\x80\xa9"), "\"a\\u2028b\\u2029\""},
    {LIT("\xc2\x9b" "1m\xc2\x80"), "\"\\u009b1m\\u0080\""},                  /* C1 controls */
    {LIT("\xe2\x80\xae" "txt.exe"), "\"\\u202etxt.exe\""},                   /* bidi override */
    {LIT("\x80"), "\"" REPLACED "\""},                                       /* lone continuation */
    {LIT("\xff\xfe"), "\"" REPLACED REPLACED "\""},
    {LIT("\xc0\xaf"), "\"" REPLACED REPLACED "\""},                          /* overlong '/' */
    {LIT("\xc1\xbf"), "\"" REPLACED REPLACED "\""},
    {LIT("\xe0\x80\xaf"), "\"" REPLACED REPLACED REPLACED "\""},             /* overlong, 3 bytes */
    {LIT("\xf0\x80\x80\xaf"), "\"" REPLACED REPLACED REPLACED REPLACED "\""},
    {LIT("\xed\xa0\x80"), "\"" REPLACED REPLACED REPLACED "\""},             /* surrogate D800 */
    {LIT("\xed\xbf\xbf"), "\"" REPLACED REPLACED REPLACED "\""},             /* surrogate DFFF */
    {LIT("\xf4\x90\x80\x80"), "\"" REPLACED REPLACED REPLACED REPLACED "\""}, /* U+110000 */
    {LIT("\xf5\x80\x80\x80"), "\"" REPLACED REPLACED REPLACED REPLACED "\""},
    {LIT("\xe2\x82"), "\"" REPLACED REPLACED "\""},                          /* cut at the end */
    {LIT("\xe2\x82" "A"), "\"" REPLACED REPLACED "A\""},                     /* cut in the middle */
    {LIT("\xed\x9f\xbf"), "\"\xed\x9f\xbf\""},                               /* U+D7FF is fine */
};

static char *render_string(const char *bytes, size_t len)
{
    struct capture c;
    capture_open(&c);
    es_json_string(c.stream, (const uint8_t *)bytes, len);
    return capture_close(&c);
}

START_TEST(json_string_escaping)
{
    const struct string_case *sc = &string_cases[_i];
    char *got = render_string(sc->bytes, sc->len);
    ck_assert_msg(strcmp(got, sc->expected) == 0, "case %d: got %s, want %s", _i, got, sc->expected);
    free(got);
}
END_TEST

START_TEST(json_string_longer_than_any_buffer)
{
    /* es_json_string streams through a fixed window; check the seams. */
    size_t len = 5000;
    char *bytes = malloc(len);
    ck_assert_ptr_nonnull(bytes);
    for (size_t i = 0; i < len; i++)
        bytes[i] = i % 3 == 0 ? '\n' : (i % 3 == 1 ? '\xff' : 'x');
    char *got = render_string(bytes, len);
    size_t pos = 0;
    ck_assert_int_eq(got[pos++], '"');
    for (size_t i = 0; i < len; i++) {
        const char *want = i % 3 == 0 ? "\\n" : (i % 3 == 1 ? REPLACED : "x");
        ck_assert_msg(strncmp(got + pos, want, strlen(want)) == 0, "byte %zu", i);
        pos += strlen(want);
    }
    ck_assert_str_eq(got + pos, "\"");
    free(got);
    free(bytes);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Events                                                                    */
/* ------------------------------------------------------------------------ */

/* A DNS-expert event with everything set: the full-record fixture. */
struct full_event {
    Es__Event ev;
    Es__SystemTime time;
    Es__Column cols[3];
    Es__Column *col_ptrs[3];
};

static void make_full_event(struct full_event *f)
{
    minimal_event(&f->ev, &f->time);
    Es__Event *ev = &f->ev;
    ev->ident = 7;
    ev->flags = NMEVENTFLAG_EXPERT | NMEVENTFLAG_DO_NOT_DISPLAY_SEVERITY;
    ev->severity = NMEVENT_SEVERITY_WARNING;
    ev->has_source_name = 1;
    ev->source_name = BIN("DNS");
    ev->has_event_name = 1;
    ev->event_name = BIN("Slow reply");
    ev->has_description = 1;
    ev->description = BIN("Reply took 2.5 s");
    ev->has_justification = 1;
    ev->justification = BIN("Why:\n\"late\"");
    f->time = (Es__SystemTime)ES__SYSTEM_TIME__INIT;
    f->time.year = 2024;
    f->time.month = 2;
    f->time.day_of_week = 4;
    f->time.day = 29;
    f->time.hour = 13;
    f->time.minute = 5;
    f->time.second = 9;
    f->time.milliseconds = 7;
    for (int i = 0; i < 3; i++) {
        es__column__init(&f->cols[i]);
        f->cols[i].has_unsigned_value = 1;
        f->col_ptrs[i] = &f->cols[i];
    }
    f->cols[0].name = BIN("Request");
    f->cols[0].type = NMCOLUMNTYPE_FRAME;
    f->cols[0].unsigned_value = 41;
    f->cols[1].name = BIN("Reply");
    f->cols[1].type = NMCOLUMNTYPE_FRAME;
    f->cols[1].unsigned_value = INVALID_FRAME_NUMBER;
    f->cols[2].name = BIN("Port");
    f->cols[2].type = NMCOLUMNTYPE_UINT16;
    f->cols[2].unsigned_value = 53;
    ev->n_columns = 3;
    ev->columns = f->col_ptrs;
    ev->frames_read = 100;
}

static const char full_event_json[] =
    "{\"type\":\"event\",\"expert\":\"DNS Checker\",\"expert_file\":\"/x/dns.so\","
    "\"expert_index\":2,\"seq\":1,\"severity\":\"warning\",\"severity_code\":1,"
    "\"event_ident\":7,\"event_name\":\"Slow reply\",\"source\":\"DNS\","
    "\"description\":\"Reply took 2.5 s\",\"machine\":null,"
    "\"justification\":\"Why:\\n\\\"late\\\"\",\"flags\":2147483649,\"hidden\":[\"severity\"],"
    "\"time\":\"2024-02-29 13:05:09.007\",\"columns\":["
    "{\"name\":\"Request\",\"type\":\"frame\",\"value\":42},"
    "{\"name\":\"Reply\",\"type\":\"frame\",\"value\":null},"
    "{\"name\":\"Port\",\"type\":\"uint16\",\"value\":53}],"
    "\"frames\":[42],\"frames_read\":100,\"truncated\":false}\n";

START_TEST(event_full_record)
{
    struct full_event f;
    make_full_event(&f);
    char *line = render_event(&dns_expert, &f.ev);
    ck_assert_str_eq(line, full_event_json);
    free(line);
}
END_TEST

START_TEST(event_minimal_record)
{
    Es__Event ev;
    Es__SystemTime time;
    minimal_event(&ev, &time);
    /* Present-but-empty is "", absent is null whatever the data says. */
    ev.has_source_name = 1;
    ev.source_name = BIN("");
    ev.event_name = BIN("ignored: has_event_name is false");
    ev.truncated = 1;
    const struct es_expert_ref nameless = {.index = 0, .path = "a.so", .name = NULL};
    char *line = render_event(&nameless, &ev);
    ck_assert_str_eq(line,
                     "{\"type\":\"event\",\"expert\":null,\"expert_file\":\"a.so\",\"expert_index\":0,"
                     "\"seq\":1,\"severity\":\"informational\",\"severity_code\":0,\"event_ident\":0,"
                     "\"event_name\":null,\"source\":\"\",\"description\":null,\"machine\":null,"
                     "\"justification\":null,\"flags\":0,\"hidden\":[],"
                     "\"time\":\"0000-00-00 00:00:00.000\",\"columns\":[],\"frames\":[],"
                     "\"frames_read\":0,\"truncated\":true}\n");
    free(line);
}
END_TEST

START_TEST(event_untrusted_strings)
{
    Es__Event ev;
    Es__SystemTime time;
    minimal_event(&ev, &time);
    ev.has_event_name = 1;
    ev.event_name = BIN("\x1b]0;owned\x07");
    ev.has_description = 1;
    ev.description = BIN("nul\0inside \xe2\x80\xa8 and \xc0\x80");
    ev.has_machine = 1;
    ev.machine = BIN("\"\\");
    char *line = render_event(&dns_expert, &ev);
    char *name = field_of(line, "event_name", "source");
    ck_assert_str_eq(name, "\"\\u001b]0;owned\\u0007\"");
    char *description = field_of(line, "description", "machine");
    ck_assert_str_eq(description, "\"nul\\u0000inside \\u2028 and " REPLACED REPLACED "\"");
    char *machine = field_of(line, "machine", "justification");
    ck_assert_str_eq(machine, "\"\\\"\\\\\"");
    /* One line: nothing inside may end it early. */
    ck_assert_ptr_eq(strchr(line, '\n'), line + strlen(line) - 1);
    free(name);
    free(description);
    free(machine);
    free(line);
}
END_TEST

static const struct {
    uint32_t flags;
    const char *hidden;
} hidden_cases[] = {
    {0, "[]"},
    {NMEVENTFLAG_EXPERT, "[]"},
    {NMEVENTFLAG_DO_NOT_DISPLAY_SEVERITY, "[\"severity\"]"},
    {NMEVENTFLAG_DO_NOT_DISPLAY_DATE | NMEVENTFLAG_DO_NOT_DISPLAY_SOURCE, "[\"source\",\"date\"]"},
    {NMEVENTFLAG_DO_NOT_DISPLAY_FIXED_COLUMNS | NMEVENTFLAG_EXPERT,
     "[\"severity\",\"source\",\"event_name\",\"description\",\"machine\",\"time\",\"date\"]"},
    {0x01FFFFFEu, "[]"},   /* bits without a column to hide */
};

START_TEST(event_hidden_columns)
{
    Es__Event ev;
    Es__SystemTime time;
    minimal_event(&ev, &time);
    ev.flags = hidden_cases[_i].flags;
    char *line = render_event(&dns_expert, &ev);
    char *hidden = field_of(line, "hidden", "time");
    ck_assert_str_eq(hidden, hidden_cases[_i].hidden);
    char *flags = field_of(line, "flags", "hidden");
    ck_assert_uint_eq(strtoull(flags, NULL, 10), hidden_cases[_i].flags);
    free(flags);
    free(hidden);
    free(line);
}
END_TEST

static const struct {
    uint32_t code;
    const char *name;
} severity_cases[] = {
    {0, "\"informational\""}, {1, "\"warning\""},      {2, "\"strong_warning\""},
    {3, "\"error\""},         {4, "\"severe_error\""}, {5, "\"critical_error\""},
    {6, "\"severity_6\""},    {0xFFFFFFFFu, "\"severity_4294967295\""},
};

START_TEST(event_severities)
{
    Es__Event ev;
    Es__SystemTime time;
    minimal_event(&ev, &time);
    ev.severity = severity_cases[_i].code;
    char *line = render_event(&dns_expert, &ev);
    char *name = field_of(line, "severity", "severity_code");
    ck_assert_str_eq(name, severity_cases[_i].name);
    char *code = field_of(line, "severity_code", "event_ident");
    ck_assert_uint_eq(strtoull(code, NULL, 10), severity_cases[_i].code);
    free(code);
    free(name);
    free(line);
}
END_TEST

START_TEST(event_time_printed_as_given)
{
    Es__Event ev;
    Es__SystemTime time;
    minimal_event(&ev, &time);
    time.year = 1;
    time.month = 13;      /* no such month: printed, not corrected */
    time.day = 0;
    time.hour = 25;
    time.minute = 61;
    time.second = 99;
    time.milliseconds = 1000;
    char *line = render_event(&dns_expert, &ev);
    char *t = field_of(line, "time", "columns");
    ck_assert_str_eq(t, "\"0001-13-00 25:61:99.1000\"");
    free(t);
    free(line);

    time.year = 4294967295u;
    time.month = 65535;
    line = render_event(&dns_expert, &ev);
    t = field_of(line, "time", "columns");
    ck_assert_str_eq(t, "\"4294967295-65535-00 25:61:99.1000\"");
    free(t);
    free(line);

    ev.time = NULL;       /* a required field a hand-built message may lack */
    line = render_event(&dns_expert, &ev);
    t = field_of(line, "time", "columns");
    ck_assert_str_eq(t, "null");
    free(t);
    free(line);
}
END_TEST

START_TEST(event_frames_list)
{
    Es__Event ev;
    Es__SystemTime time;
    minimal_event(&ev, &time);
    Es__Column cols[6];
    Es__Column *ptrs[7];
    const uint64_t frame_values[] = {0, INVALID_FRAME_NUMBER, 9, 0xFFFFFFFEu};
    for (int i = 0; i < 4; i++) {
        es__column__init(&cols[i]);
        cols[i].name = BIN("f");
        cols[i].type = NMCOLUMNTYPE_FRAME;
        cols[i].has_unsigned_value = 1;
        cols[i].unsigned_value = frame_values[i];
        ptrs[i] = &cols[i];
    }
    es__column__init(&cols[4]);   /* a FRAME without a value: invalid, not listed */
    cols[4].name = BIN("f");
    cols[4].type = NMCOLUMNTYPE_FRAME;
    ptrs[4] = &cols[4];
    es__column__init(&cols[5]);   /* a UINT32 that looks like a frame: not listed */
    cols[5].name = BIN("n");
    cols[5].type = NMCOLUMNTYPE_UINT32;
    cols[5].has_unsigned_value = 1;
    cols[5].unsigned_value = 3;
    ptrs[5] = &cols[5];
    ptrs[6] = NULL;               /* skipped, never dereferenced */
    ev.n_columns = 7;
    ev.columns = ptrs;
    char *line = render_event(&dns_expert, &ev);
    char *frames = field_of(line, "frames", "frames_read");
    ck_assert_str_eq(frames, "[1,10,4294967295]");
    free(frames);
    free(line);
}
END_TEST

static uint64_t seq_of(const char *line)
{
    char *seq = field_of(line, "seq", "severity");
    uint64_t value = strtoull(seq, NULL, 10);
    free(seq);
    return value;
}

START_TEST(event_seq_counts_per_expert)
{
    Es__Event ev;
    Es__SystemTime time;
    minimal_event(&ev, &time);
    struct capture c;
    capture_open(&c);
    struct es_output *out = es_output_new(c.stream);
    ck_assert_ptr_nonnull(out);
    /* Experts interleave as their workers run; each keeps its own count,
     * including an index far beyond the first allocation. */
    const size_t order[] = {0, 0, 5, 0, 2, 5, 100, 2, 0};
    const uint64_t expected[] = {1, 2, 1, 3, 1, 2, 1, 2, 4};
    const size_t n = sizeof order / sizeof order[0];
    for (size_t i = 0; i < n; i++) {
        struct es_expert_ref who = {.index = order[i], .path = "e.so", .name = "E"};
        ck_assert_int_eq(es_output_event(out, &who, &ev), 0);
    }
    es_output_free(out);
    char *text = capture_close(&c);
    char *line = text;
    for (size_t i = 0; i < n; i++) {
        char *end = strchr(line, '\n');
        ck_assert_ptr_nonnull(end);
        *end = '\0';
        ck_assert_msg(seq_of(line) == expected[i], "event %zu: %s", i, line);
        char index[32];
        snprintf(index, sizeof index, "\"expert_index\":%zu,", order[i]);
        ck_assert_ptr_nonnull(strstr(line, index));
        line = end + 1;
    }
    ck_assert_str_eq(line, "");
    free(text);

    /* A new output starts counting again. */
    char *again = render_event(&dns_expert, &ev);
    ck_assert_uint_eq(seq_of(again), 1);
    free(again);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Run records                                                               */
/* ------------------------------------------------------------------------ */

static char *render_run(const struct es_run_info *run)
{
    struct capture c;
    capture_open(&c);
    struct es_output *out = es_output_new(c.stream);
    ck_assert_int_eq(es_output_run(out, run), 0);
    es_output_free(out);
    return capture_close(&c);
}

static const struct es_run_info run_ethernet = {
    .capture_path = "/data/a.pcap", .frame_count = 1234, .link_type = 1, .filter = NULL,
    .heap_quota = 268435456, .jobs = 4, .expert_count = 3};
static const struct es_run_info run_unknown_link = {
    .capture_path = "/data/\"odd\"\xff.pcapng", .frame_count = 0, .link_type = 65000,
    .filter = "tcp port 53", .heap_quota = 1, .jobs = 1, .expert_count = 0};

START_TEST(run_record)
{
    char *line = render_run(&run_ethernet);
    ck_assert_str_eq(line, "{\"type\":\"run\",\"schema\":1,\"capture\":\"/data/a.pcap\",\"frames\":1234,"
                           "\"link_type\":1,\"link_type_name\":\"EN10MB\",\"filter\":null,"
                           "\"heap_quota\":268435456,\"jobs\":4,\"experts\":3}\n");
    free(line);
    line = render_run(&run_unknown_link);
    ck_assert_str_eq(line, "{\"type\":\"run\",\"schema\":1,\"capture\":\"/data/\\\"odd\\\"" REPLACED
                           ".pcapng\",\"frames\":0,\"link_type\":65000,\"link_type_name\":null,"
                           "\"filter\":\"tcp port 53\",\"heap_quota\":1,\"jobs\":1,\"experts\":0}\n");
    free(line);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Outcomes                                                                  */
/* ------------------------------------------------------------------------ */

static void outcome_done(struct es_outcome *o)
{
    es_outcome_init(o, 0, "experts/counter.so");
    o->kind = ES_OUTCOME_DONE;
    o->expert_name = strdup("Counter");
    o->exit_status = 0;
    o->has_run_result = true;
    o->run_result = true;
    o->events = 12;
    o->frames_read = 100;
    o->last_frame = 99;
    o->has_status = true;
    o->status = EXPERTSTATUS_DONE;
    o->percent = 100;
    o->heap_quota = 268435456;
    o->heap_peak = 4096;
    o->elapsed_seconds = 0.25;
    snprintf(o->detail, sizeof o->detail, "Run returned TRUE");
}

static void outcome_crashed(struct es_outcome *o)
{
    es_outcome_init(o, 1, "/tmp/crash_after_events.so");
    o->kind = ES_OUTCOME_CRASHED;
    o->signal = 11;
    o->has_fault_address = true;
    o->fault_address = 0xdeadbeef;
    o->events = 3;
    o->frames_read = 7;
    o->has_status = true;
    o->status = EXPERTSTATUS_RUNNING;
    o->heap_quota = 1048576;
    o->heap_peak = 65536;
    o->heap_in_use = 512;
    o->elapsed_seconds = 1.0005;
    snprintf(o->detail, sizeof o->detail, "killed by SIGSEGV at 0xdeadbeef");
}

static void outcome_violation(struct es_outcome *o)
{
    es_outcome_init(o, 10, "evil.so");
    o->kind = ES_OUTCOME_VIOLATION;
    o->expert_name = strdup("Evil\x1b[31m\xff");
    o->signal = 31;
    o->last_frame = 0;
    o->has_status = true;
    o->status = 9;
    o->sub_status = 42;
    o->percent = 0;
    o->elapsed_seconds = 12.3456;
    snprintf(o->detail, sizeof o->detail, "syscall socket(2, 1, 0): \"no\"\n");
    o->cpu_seconds = 0.5;
    o->layers = 0x1f;
    snprintf(o->layer_report, sizeof o->layer_report, "none missing");
    o->has_violation = true;
    snprintf(o->violation_syscall, sizeof o->violation_syscall, "socket");
    snprintf(o->violation_arch, sizeof o->violation_arch, "x86_64");
    o->violation_number = 41;
    o->violation_args[0] = 2;
    o->violation_args[1] = 1;
    o->violation_ip = 0x7f00deadbeefull;
    memcpy(o->output_tail, "oops\n", 5);
    o->output_tail_len = 5;
    o->output_tail_cut = true;
}

static void outcome_load_failed(struct es_outcome *o)
{
    es_outcome_init(o, 3, "missing.so");
    o->kind = ES_OUTCOME_LOAD_FAILED;
    o->exit_status = 120;
    o->has_run_result = false;
    o->elapsed_seconds = 0.0;
    snprintf(o->detail, sizeof o->detail, "cannot open missing.so: No such file or directory");
}

static void outcome_problem(struct es_outcome *o)
{
    es_outcome_init(o, 4, "sub/dir/");
    o->kind = ES_OUTCOME_PROBLEM;
    o->has_run_result = true;
    o->run_result = false;
    o->exit_status = 0;
    /* A detail filled to the last byte, without a terminating NUL. */
    memset(o->detail, 'd', sizeof o->detail);
}

typedef void outcome_maker(struct es_outcome *);
static outcome_maker *const outcome_makers[] = {outcome_done, outcome_crashed, outcome_violation,
                                                outcome_load_failed, outcome_problem};
#define OUTCOME_COUNT (sizeof outcome_makers / sizeof outcome_makers[0])

static char *render_outcome(const struct es_outcome *o)
{
    struct capture c;
    capture_open(&c);
    struct es_output *out = es_output_new(c.stream);
    ck_assert_int_eq(es_output_outcome(out, o), 0);
    es_output_free(out);
    return capture_close(&c);
}

START_TEST(outcome_records)
{
    struct es_outcome o;
    char *line;

    outcome_done(&o);
    line = render_outcome(&o);
    ck_assert_str_eq(line,
                     "{\"type\":\"outcome\",\"expert\":\"Counter\",\"expert_file\":\"experts/counter.so\","
                     "\"expert_index\":0,\"outcome\":\"done\",\"detail\":\"Run returned TRUE\","
                     "\"signal\":null,\"signal_number\":null,\"fault_address\":null,\"exit_status\":0,"
                     "\"run_result\":true,\"events\":12,\"frames_read\":100,\"last_frame\":100,"
                     "\"status\":{\"status\":\"done\",\"sub_status\":0,\"percent\":100},"
                     "\"heap\":{\"quota\":268435456,\"peak\":4096,\"in_use\":0,\"blocks\":0},\"helper_calls\":0,\"alloc_calls\":0,"
                     "\"elapsed_seconds\":0.250,\"cpu_seconds\":null,\"layers\":[],\"layer_report\":null,\"violation\":null,"
                     "\"output_tail\":null,\"output_cut\":false}\n");
    free(line);
    es_outcome_free(&o);

    outcome_crashed(&o);
    line = render_outcome(&o);
    ck_assert_str_eq(line,
                     "{\"type\":\"outcome\",\"expert\":null,\"expert_file\":\"/tmp/crash_after_events.so\","
                     "\"expert_index\":1,\"outcome\":\"crashed\","
                     "\"detail\":\"killed by SIGSEGV at 0xdeadbeef\",\"signal\":\"SIGSEGV\","
                     "\"signal_number\":11,\"fault_address\":\"0xdeadbeef\",\"exit_status\":null,"
                     "\"run_result\":null,\"events\":3,\"frames_read\":7,\"last_frame\":null,"
                     "\"status\":{\"status\":\"running\",\"sub_status\":0,\"percent\":null},"
                     "\"heap\":{\"quota\":1048576,\"peak\":65536,\"in_use\":512,\"blocks\":0},\"helper_calls\":0,\"alloc_calls\":0,"
                     "\"elapsed_seconds\":1.000,\"cpu_seconds\":null,\"layers\":[],\"layer_report\":null,\"violation\":null,"
                     "\"output_tail\":null,\"output_cut\":false}\n");
    free(line);
    es_outcome_free(&o);

    outcome_violation(&o);
    line = render_outcome(&o);
    ck_assert_str_eq(line,
                     "{\"type\":\"outcome\",\"expert\":\"Evil\\u001b[31m" REPLACED "\","
                     "\"expert_file\":\"evil.so\",\"expert_index\":10,\"outcome\":\"violation\","
                     "\"detail\":\"syscall socket(2, 1, 0): \\\"no\\\"\\n\",\"signal\":\"SIGSYS\","
                     "\"signal_number\":31,\"fault_address\":null,\"exit_status\":null,"
                     "\"run_result\":null,\"events\":0,\"frames_read\":0,\"last_frame\":1,"
                     "\"status\":{\"status\":\"status_9\",\"sub_status\":42,\"percent\":0},"
                     "\"heap\":{\"quota\":0,\"peak\":0,\"in_use\":0,\"blocks\":0},\"helper_calls\":0,\"alloc_calls\":0,\"elapsed_seconds\":12.346,"
                     "\"cpu_seconds\":0.500,\"layers\":[\"rlimits\",\"user\",\"namespaces\",\"landlock\",\"seccomp\"],"
                     "\"layer_report\":\"none missing\",\"violation\":{\"syscall\":\"socket\",\"arch\":\"x86_64\","
                     "\"number\":41,\"args\":[\"0x2\",\"0x1\",\"0x0\",\"0x0\",\"0x0\",\"0x0\"],"
                     "\"instruction_pointer\":\"0x7f00deadbeef\",\"path\":null},"
                     "\"output_tail\":\"oops\\n\",\"output_cut\":true}\n");
    free(line);
    es_outcome_free(&o);

    outcome_load_failed(&o);
    line = render_outcome(&o);
    ck_assert_str_eq(line,
                     "{\"type\":\"outcome\",\"expert\":null,\"expert_file\":\"missing.so\","
                     "\"expert_index\":3,\"outcome\":\"load_failed\","
                     "\"detail\":\"cannot open missing.so: No such file or directory\","
                     "\"signal\":null,\"signal_number\":null,\"fault_address\":null,"
                     "\"exit_status\":120,\"run_result\":null,\"events\":0,\"frames_read\":0,"
                     "\"last_frame\":null,\"status\":null,"
                     "\"heap\":{\"quota\":0,\"peak\":0,\"in_use\":0,\"blocks\":0},\"helper_calls\":0,\"alloc_calls\":0,\"elapsed_seconds\":0.000,\"cpu_seconds\":null,\"layers\":[],\"layer_report\":null,\"violation\":null,"
                     "\"output_tail\":null,\"output_cut\":false}\n");
    free(line);
    es_outcome_free(&o);
}
END_TEST

START_TEST(outcome_detail_without_terminator)
{
    struct es_outcome o;
    outcome_problem(&o);
    char *line = render_outcome(&o);
    char *detail = field_of(line, "detail", "signal");
    ck_assert_uint_eq(strlen(detail), sizeof o.detail + 2);
    ck_assert_ptr_nonnull(strstr(line, "\"outcome\":\"problem\""));
    ck_assert_ptr_nonnull(strstr(line, "\"run_result\":false"));
    free(detail);
    free(line);
    es_outcome_free(&o);
}
END_TEST

START_TEST(outcome_every_kind_is_named)
{
    for (int kind = 0; kind < ES_OUTCOME_COUNT; kind++) {
        struct es_outcome o;
        es_outcome_init(&o, 0, "x.so");
        o.kind = (enum es_outcome_kind)kind;
        char *line = render_outcome(&o);
        char want[64];
        snprintf(want, sizeof want, "\"outcome\":\"%s\"", es_outcome_name(o.kind));
        ck_assert_ptr_nonnull(strstr(line, want));
        ck_assert_ptr_null(strstr(line, "unknown"));
        free(line);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Writing                                                                   */
/* ------------------------------------------------------------------------ */

START_TEST(no_json_stream_writes_nothing)
{
    struct es_output *out = es_output_new(NULL);
    ck_assert_ptr_nonnull(out);
    struct full_event f;
    make_full_event(&f);
    struct es_outcome o;
    outcome_done(&o);
    ck_assert_int_eq(es_output_run(out, &run_ethernet), 0);
    ck_assert_int_eq(es_output_event(out, &dns_expert, &f.ev), 0);
    ck_assert_int_eq(es_output_outcome(out, &o), 0);
    es_outcome_free(&o);
    es_output_free(out);
    es_output_free(NULL);
}
END_TEST

START_TEST(write_failure_is_reported)
{
    FILE *full = fopen("/dev/full", "w");
    if (!full) {
        fprintf(stderr, "write_failure_is_reported: no /dev/full, skipped\n");
        return;
    }
    struct es_output *out = es_output_new(full);
    struct full_event f;
    make_full_event(&f);
    errno = 0;
    ck_assert_int_eq(es_output_event(out, &dns_expert, &f.ev), -1);
    ck_assert_int_eq(errno, ENOSPC);
    errno = 0;
    ck_assert_int_eq(es_output_run(out, &run_ethernet), -1);
    ck_assert_int_ne(errno, 0);
    es_output_free(out);
    fclose(full);

    full = fopen("/dev/full", "w");
    struct es_outcome o;
    outcome_done(&o);
    const struct es_outcome *list[] = {&o};
    errno = 0;
    ck_assert_int_eq(es_output_table(full, list, 1), -1);
    ck_assert_int_ne(errno, 0);
    Es__Registered reg = ES__REGISTERED__INIT;
    errno = 0;
    ck_assert_int_eq(es_output_registration(full, &dns_expert, &reg, true), -1);
    ck_assert_int_ne(errno, 0);
    es_outcome_free(&o);
    fclose(full);
}
END_TEST


/* The same events, one record at a time and in one batch: the same bytes,
 * in JSON and in text; the expert changing (its name known only after
 * Register, at the same index) changes the records' start. */
static char *render_events(bool batch, bool text)
{
    struct capture c;
    capture_open(&c);
    struct es_output *out = es_output_new(c.stream);
    ck_assert_ptr_nonnull(out);
    es_output_set_text(out, text);
    struct full_event f;
    make_full_event(&f);
    Es__Event hostile;
    Es__SystemTime time;
    minimal_event(&hostile, &time);
    hostile.has_description = 1;
    hostile.description = BIN("nul\0inside \xe2\x80\xa8 \x7f and \xc0\x80\\");
    char name[] = "Renamed";
    const struct es_expert_ref unnamed = {.index = 2, .path = "/x/dns.so", .name = NULL};
    const struct es_expert_ref renamed = {.index = 2, .path = "/x/dns.so", .name = name};
    const struct es_expert_ref *who[] = {&unnamed, &dns_expert, &renamed, &renamed, &dns_expert};
    if (batch)
        es_output_begin_batch(out);
    for (size_t i = 0; i < sizeof who / sizeof *who; i++) {
        ck_assert_int_eq(es_output_event(out, who[i], i % 2 ? &hostile : &f.ev), 0);
        if (i == 2)
            name[0] = 'r';   /* same address, other text: the cache must notice */
    }
    if (batch) {
        /* Nothing is written before the batch ends. */
        fflush(c.stream);
        ck_assert_uint_eq(c.len, 0);
        ck_assert_int_eq(es_output_end_batch(out), 0);
    }
    es_output_free(out);
    return capture_close(&c);
}

START_TEST(event_batch_writes_the_same_bytes)
{
    for (int text = 0; text <= 1; text++) {
        char *one_by_one = render_events(false, text);
        char *batched = render_events(true, text);
        ck_assert_str_eq(batched, one_by_one);
        if (!text) {
            ck_assert_ptr_nonnull(strstr(one_by_one, "\"expert\":null,"));
            ck_assert_ptr_nonnull(strstr(one_by_one, "\"expert\":\"Renamed\","));
            ck_assert_ptr_nonnull(strstr(one_by_one, "\"expert\":\"renamed\","));
            ck_assert_ptr_nonnull(strstr(one_by_one, "\"seq\":5,"));
        }
        free(one_by_one);
        free(batched);
    }
}
END_TEST

START_TEST(event_batch_write_failure_is_reported)
{
    FILE *full = fopen("/dev/full", "w");
    if (!full) {
        fprintf(stderr, "event_batch_write_failure_is_reported: no /dev/full, skipped\n");
        return;
    }
    struct es_output *out = es_output_new(full);
    struct full_event f;
    make_full_event(&f);
    es_output_begin_batch(out);
    ck_assert_int_eq(es_output_event(out, &dns_expert, &f.ev), 0);
    errno = 0;
    ck_assert_int_eq(es_output_end_batch(out), -1);
    ck_assert_int_eq(errno, ENOSPC);
    es_output_free(out);
    fclose(full);
}
END_TEST

START_TEST(records_are_single_lines)
{
    /* Every record is one complete line, so a reader can split on '\n'. */
    struct capture c;
    capture_open(&c);
    struct es_output *out = es_output_new(c.stream);
    struct full_event f;
    make_full_event(&f);
    ck_assert_int_eq(es_output_run(out, &run_ethernet), 0);
    ck_assert_int_eq(es_output_event(out, &dns_expert, &f.ev), 0);
    /* Everything written so far is already in the stream: flushed per record. */
    ck_assert_uint_gt(c.len, 0);
    ck_assert_int_eq(c.text[c.len - 1], '\n');
    size_t after_event = c.len;
    for (size_t i = 0; i < OUTCOME_COUNT; i++) {
        struct es_outcome o;
        outcome_makers[i](&o);
        ck_assert_int_eq(es_output_outcome(out, &o), 0);
        ck_assert_uint_gt(c.len, after_event);
        ck_assert_int_eq(c.text[c.len - 1], '\n');
        es_outcome_free(&o);
    }
    es_output_free(out);
    char *text = capture_close(&c);
    size_t lines = 0;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    ck_assert_uint_eq(lines, 2 + OUTCOME_COUNT);
    free(text);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Table                                                                     */
/* ------------------------------------------------------------------------ */

static char *render_table(const struct es_outcome *const *list, size_t n)
{
    struct capture c;
    capture_open(&c);
    ck_assert_int_eq(es_output_table(c.stream, list, n), 0);
    return capture_close(&c);
}

START_TEST(table_rows_are_aligned)
{
    struct es_outcome done, crashed, violation;
    outcome_done(&done);
    outcome_crashed(&crashed);
    outcome_violation(&violation);
    const struct es_outcome *list[] = {&done, NULL, &crashed, &violation};
    char *table = render_table(list, 4);
    ck_assert_str_eq(table,
                     " #  EXPERT                 OUTCOME    EVENTS  FRAMES  DETAIL\n"
                     " 0  Counter                done           12     100  Run returned TRUE\n"
                     " 1  crash_after_events.so  crashed         3       7  killed by SIGSEGV at 0xdeadbeef\n"
                     "10  Evil\\x1b[31m\\xff       violation       0       0  "
                     "syscall socket(2, 1, 0): \"no\"\\x0a\n");
    free(table);
    es_outcome_free(&done);
    es_outcome_free(&crashed);
    es_outcome_free(&violation);
}
END_TEST

START_TEST(table_truncates_long_names)
{
    struct es_outcome longname, wide, empty_detail;
    es_outcome_init(&longname, 0, "a.so");
    longname.expert_name = strdup("An expert with a name far too long for any table");
    snprintf(longname.detail, sizeof longname.detail, "x");
    es_outcome_init(&wide, 1, "b.so");
    /* 20 wide characters (40 columns) and a combining accent (0 columns) */
    wide.expert_name = strdup("e\xcc\x81\xe6\xbc\xa2\xe6\xbc\xa2\xe6\xbc\xa2\xe6\xbc\xa2\xe6\xbc\xa2"
                              "\xe6\xbc\xa2\xe6\xbc\xa2\xe6\xbc\xa2\xe6\xbc\xa2\xe6\xbc\xa2"
                              "\xe6\xbc\xa2\xe6\xbc\xa2\xe6\xbc\xa2\xe6\xbc\xa2\xe6\xbc\xa2"
                              "\xe6\xbc\xa2\xe6\xbc\xa2\xe6\xbc\xa2\xe6\xbc\xa2\xe6\xbc\xa2");
    snprintf(wide.detail, sizeof wide.detail, "y");
    es_outcome_init(&empty_detail, 2, "/p/short.so");
    const struct es_outcome *list[] = {&longname, &wide, &empty_detail};
    char *table = render_table(list, 3);
    ck_assert_str_eq(table,
                     "#  EXPERT                            OUTCOME  EVENTS  FRAMES  DETAIL\n"
                     "0  An expert with a name far too...  done          0       0  x\n"
                     "1  e\xcc\x81\xe6\xbc\xa2\xe6\xbc\xa2\xe6\xbc\xa2\xe6\xbc\xa2\xe6\xbc\xa2"
                     "\xe6\xbc\xa2\xe6\xbc\xa2\xe6\xbc\xa2\xe6\xbc\xa2\xe6\xbc\xa2\xe6\xbc\xa2"
                     "\xe6\xbc\xa2\xe6\xbc\xa2\xe6\xbc\xa2...  done          0       0  y\n"
                     "2  short.so                          done          0       0\n");
    free(table);
    es_outcome_free(&longname);
    es_outcome_free(&wide);
    es_outcome_free(&empty_detail);
}
END_TEST

START_TEST(table_without_experts)
{
    char *table = render_table(NULL, 0);
    ck_assert_str_eq(table, "#  EXPERT  OUTCOME  EVENTS  FRAMES  DETAIL\n");
    free(table);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Registration                                                              */
/* ------------------------------------------------------------------------ */

static void make_registration(Es__Registered *reg)
{
    es__registered__init(reg);
    reg->name = BIN("DNS Checker");
    reg->vendor = BIN("ACME");
    reg->description = BIN("Finds slow replies");
    reg->version = 0;
    reg->flags = EXPERT_ENUM_FLAG_VIEWER_PRIVATE | EXPERT_ENUM_FLAG_ADD_ME_TO_RMC_IN_SUMMARY;
    reg->has_configure = 1;
}

/* What `list` says about a hostile expert: escapes, a lying flag word. */
static void make_hostile_registration(Es__Registered *reg)
{
    es__registered__init(reg);
    reg->name = BIN("Bad\x1b]0;pwned\x07\xff\\ caf\xc3\xa9");
    reg->vendor = BIN("\xc2\x9b" "2J\xe2\x80\xae" "rev\0nul");
    reg->description = BIN("line one\nline two\r\t");
    reg->version = 4294967295u;
    reg->flags = EXPERT_ENUM_FLAG_CONFIGURABLE | 0x8 | 0x100 | 0x80000000u;
    reg->has_configure = 0;
}

static char *render_registration(const struct es_expert_ref *who, const Es__Registered *reg,
                                 bool json)
{
    struct capture c;
    capture_open(&c);
    ck_assert_int_eq(es_output_registration(c.stream, who, reg, json), 0);
    return capture_close(&c);
}

START_TEST(registration_text)
{
    Es__Registered reg;
    make_registration(&reg);
    char *text = render_registration(&dns_expert, &reg, false);
    ck_assert_str_eq(text, "/x/dns.so\n"
                           "  name: DNS Checker\n"
                           "  vendor: ACME\n"
                           "  description: Finds slow replies\n"
                           "  version: 0\n"
                           "  flags: 0x0012 (viewer_private, add_me_to_rmc_in_summary)\n"
                           "  configure: yes\n");
    free(text);

    reg.flags = 0;
    reg.has_configure = 0;
    text = render_registration(&dns_expert, &reg, false);
    ck_assert_ptr_nonnull(strstr(text, "\n  flags: 0x0000\n  configure: no\n"));
    free(text);
}
END_TEST

START_TEST(registration_text_is_terminal_safe)
{
    Es__Registered reg;
    make_hostile_registration(&reg);
    const struct es_expert_ref who = {.index = 1, .path = "/tmp/\x1b[2Jx.so", .name = NULL};
    char *text = render_registration(&who, &reg, false);
    ck_assert_str_eq(text, "/tmp/\\x1b[2Jx.so\n"
                           "  name: Bad\\x1b]0;pwned\\x07\\xff\\\\ caf\xc3\xa9\n"
                           "  vendor: \\u009b2J\\u202erev\\x00nul\n"
                           "  description: line one\\x0aline two\\x0d\\x09\n"
                           "  version: 4294967295\n"
                           "  flags: 0x80000109 (configurable, 0x0008, 0x0100, 0x80000000)\n"
                           "  configure: no\n");
    for (const char *p = text; *p; p++)
        ck_assert_msg((unsigned char)*p >= 0x20 || *p == '\n', "control byte in text output");
    free(text);
}
END_TEST

START_TEST(registration_json)
{
    Es__Registered reg;
    make_registration(&reg);
    char *line = render_registration(&dns_expert, &reg, true);
    ck_assert_str_eq(line, "{\"type\":\"expert\",\"expert_file\":\"/x/dns.so\",\"expert_index\":2,"
                           "\"name\":\"DNS Checker\",\"vendor\":\"ACME\","
                           "\"description\":\"Finds slow replies\",\"version\":0,\"flags\":18,"
                           "\"flag_names\":[\"viewer_private\",\"add_me_to_rmc_in_summary\"],"
                           "\"configurable\":true}\n");
    free(line);

    make_hostile_registration(&reg);
    line = render_registration(&dns_expert, &reg, true);
    ck_assert_str_eq(line, "{\"type\":\"expert\",\"expert_file\":\"/x/dns.so\",\"expert_index\":2,"
                           "\"name\":\"Bad\\u001b]0;pwned\\u0007" REPLACED "\\\\ caf\xc3\xa9\","
                           "\"vendor\":\"\\u009b2J\\u202erev\\u0000nul\","
                           "\"description\":\"line one\\nline two\\r\\t\",\"version\":4294967295,"
                           "\"flags\":2147483913,"
                           "\"flag_names\":[\"configurable\",\"0x0008\",\"0x0100\",\"0x80000000\"],"
                           "\"configurable\":false}\n");
    free(line);

    ck_assert_int_eq(es_output_registration(stdout, &dns_expert, NULL, true), -1);
    ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Every JSON line parses                                                    */
/* ------------------------------------------------------------------------ */

/* Writes every JSON line the fixtures above produce; returns how many. */
static size_t write_all_json_lines(FILE *to)
{
    size_t lines = 0;
    struct es_output *out = es_output_new(to);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(es_output_run(out, &run_ethernet), 0);
    ck_assert_int_eq(es_output_run(out, &run_unknown_link), 0);
    lines += 2;

    for (size_t i = 0; i < sizeof column_cases / sizeof column_cases[0]; i++) {
        char *line = render_column_case(&column_cases[i]);
        fputs(line, to);
        free(line);
        lines++;
    }
    for (size_t i = 0; i < sizeof string_cases / sizeof string_cases[0]; i++) {
        es_json_string(to, (const uint8_t *)string_cases[i].bytes, string_cases[i].len);
        fputc('\n', to);
        lines++;
    }
    struct full_event f;
    make_full_event(&f);
    ck_assert_int_eq(es_output_event(out, &dns_expert, &f.ev), 0);
    lines++;
    for (size_t i = 0; i < sizeof hidden_cases / sizeof hidden_cases[0]; i++) {
        f.ev.flags = hidden_cases[i].flags;
        f.ev.severity = severity_cases[i].code;
        ck_assert_int_eq(es_output_event(out, &dns_expert, &f.ev), 0);
        lines++;
    }
    for (size_t i = 0; i < OUTCOME_COUNT; i++) {
        struct es_outcome o;
        outcome_makers[i](&o);
        ck_assert_int_eq(es_output_outcome(out, &o), 0);
        es_outcome_free(&o);
        lines++;
    }
    Es__Registered reg;
    make_registration(&reg);
    ck_assert_int_eq(es_output_registration(to, &dns_expert, &reg, true), 0);
    make_hostile_registration(&reg);
    ck_assert_int_eq(es_output_registration(to, &dns_expert, &reg, true), 0);
    lines += 2;
    es_output_free(out);
    return lines;
}

/* Strict: no NaN/Infinity extensions, UTF-8 only, no raw U+2028/U+2029, and
 * exactly the expected number of lines. */
static const char json_checker[] =
    "import json, sys\n"
    "def reject(token): raise ValueError('non-standard token ' + token)\n"
    "data = sys.stdin.buffer.read()\n"
    "assert data.endswith(b'\\n'), 'last line unterminated'\n"
    "lines = data.split(b'\\n')[:-1]\n"
    "for raw in lines:\n"
    "    text = raw.decode('utf-8')\n"
    "    assert '\\u2028' not in text and '\\u2029' not in text, text\n"
    "    json.loads(text, parse_constant=reject)\n"
    "sys.exit(0 if len(lines) == int(sys.argv[1]) else 3)\n";

START_TEST(every_json_line_parses)
{
    if (system("command -v python3 >/dev/null 2>&1") != 0) {
        fprintf(stderr, "every_json_line_parses: no python3, skipped\n");
        return;
    }
    char script_path[] = "/tmp/test_output_check_XXXXXX";
    int fd = mkstemp(script_path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, json_checker, sizeof json_checker - 1),
                     (ssize_t)(sizeof json_checker - 1));
    close(fd);

    /* Count first, into memory, so the pipe gets the same lines. */
    struct capture c;
    capture_open(&c);
    size_t lines = write_all_json_lines(c.stream);
    char *text = capture_close(&c);

    char command[128];
    snprintf(command, sizeof command, "python3 %s %zu", script_path, lines);
    FILE *python = popen(command, "w");
    ck_assert_ptr_nonnull(python);
    fputs(text, python);
    int status = pclose(python);
    unlink(script_path);
    free(text);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "python3 rejected the JSON output (status %d)", status);
}
END_TEST

/* ------------------------------------------------------------------------ */

static Suite *output_suite(void)
{
    Suite *s = suite_create("output");

    TCase *columns = tcase_create("columns");
    tcase_add_loop_test(columns, column_rendering, 0,
                        (int)(sizeof column_cases / sizeof column_cases[0]));
    tcase_add_test(columns, every_column_type_is_covered);
    tcase_add_test(columns, column_name_is_escaped);
    tcase_add_test(columns, numbers_ignore_decimal_comma_locales);
    suite_add_tcase(s, columns);

    TCase *strings = tcase_create("strings");
    tcase_add_loop_test(strings, json_string_escaping, 0,
                        (int)(sizeof string_cases / sizeof string_cases[0]));
    tcase_add_test(strings, json_string_longer_than_any_buffer);
    suite_add_tcase(s, strings);

    TCase *events = tcase_create("events");
    tcase_add_test(events, event_full_record);
    tcase_add_test(events, event_minimal_record);
    tcase_add_test(events, event_untrusted_strings);
    tcase_add_loop_test(events, event_hidden_columns, 0,
                        (int)(sizeof hidden_cases / sizeof hidden_cases[0]));
    tcase_add_loop_test(events, event_severities, 0,
                        (int)(sizeof severity_cases / sizeof severity_cases[0]));
    tcase_add_test(events, event_time_printed_as_given);
    tcase_add_test(events, event_frames_list);
    tcase_add_test(events, event_seq_counts_per_expert);
    suite_add_tcase(s, events);

    TCase *records = tcase_create("records");
    tcase_add_test(records, run_record);
    tcase_add_test(records, outcome_records);
    tcase_add_test(records, outcome_detail_without_terminator);
    tcase_add_test(records, outcome_every_kind_is_named);
    tcase_add_test(records, no_json_stream_writes_nothing);
    tcase_add_test(records, write_failure_is_reported);
    tcase_add_test(records, event_batch_writes_the_same_bytes);
    tcase_add_test(records, event_batch_write_failure_is_reported);
    tcase_add_test(records, records_are_single_lines);
    tcase_add_test(records, every_json_line_parses);
    suite_add_tcase(s, records);

    TCase *people = tcase_create("people");
    tcase_add_test(people, table_rows_are_aligned);
    tcase_add_test(people, table_truncates_long_names);
    tcase_add_test(people, table_without_experts);
    tcase_add_test(people, registration_text);
    tcase_add_test(people, registration_text_is_terminal_safe);
    tcase_add_test(people, registration_json);
    suite_add_tcase(s, people);

    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(output_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
