/*
 * test_proto.c - the control protocol: round trips of every message, and
 * the broker's bounded, validating decoder against hostile datagrams.
 */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sys/mman.h>
#include <unistd.h>

#include "event_ring.h"
#include "expert.pb-c.h"
#include "message.h"
#include "netmon.h"
#include "ring_reader.h"
#include "wire.h"

static struct es_decoder *decoder;

static void setup(void)
{
    decoder = malloc(sizeof *decoder);
    ck_assert_ptr_nonnull(decoder);
    es_decoder_init(decoder);
}

static void teardown(void)
{
    free(decoder);
}

static ProtobufCBinaryData text(const char *s)
{
    ProtobufCBinaryData b = {strlen(s), (uint8_t *)s};
    return b;
}

/* Packs a worker message and decodes it with the broker's decoder. */
static const Es__WorkerMessage *round_trip(const Es__WorkerMessage *m, char *why, size_t whylen)
{
    static uint8_t buf[ES_MAX_MESSAGE * 4];
    size_t len = es__worker_message__get_packed_size(m);
    ck_assert_uint_le(len, sizeof buf);
    es__worker_message__pack(m, buf);
    return es_decode_worker_message(decoder, buf, len, why, whylen);
}

START_TEST(hello_round_trip)
{
    Es__Hello hello = ES__HELLO__INIT;
    hello.protocol_version = ES_PROTOCOL_VERSION;
    Es__WorkerMessage m = ES__WORKER_MESSAGE__INIT;
    m.body_case = ES__WORKER_MESSAGE__BODY_HELLO;
    m.hello = &hello;
    char why[256];
    const Es__WorkerMessage *got = round_trip(&m, why, sizeof why);
    ck_assert_ptr_nonnull(got);
    ck_assert_int_eq(got->body_case, ES__WORKER_MESSAGE__BODY_HELLO);
    ck_assert_uint_eq(got->hello->protocol_version, ES_PROTOCOL_VERSION);
}
END_TEST

START_TEST(registered_round_trip)
{
    Es__Registered reg = ES__REGISTERED__INIT;
    reg.name = text("Protocol Distribution");
    reg.vendor = text("expert-sandbox");
    reg.description = text("frames and bytes per protocol");
    reg.version = 7;
    reg.flags = EXPERT_ENUM_FLAG_VIEWER_PRIVATE | EXPERT_ENUM_FLAG_ADD_ME_TO_RMC_IN_DETAIL;
    reg.has_configure = true;
    Es__WorkerMessage m = ES__WORKER_MESSAGE__INIT;
    m.body_case = ES__WORKER_MESSAGE__BODY_REGISTERED;
    m.registered = &reg;
    char why[256];
    const Es__WorkerMessage *got = round_trip(&m, why, sizeof why);
    ck_assert_ptr_nonnull(got);
    const Es__Registered *r = got->registered;
    ck_assert_uint_eq(r->name.len, strlen("Protocol Distribution"));
    ck_assert_int_eq(memcmp(r->name.data, "Protocol Distribution", r->name.len), 0);
    ck_assert_int_eq(memcmp(r->vendor.data, "expert-sandbox", r->vendor.len), 0);
    ck_assert_uint_eq(r->version, 7);
    ck_assert_uint_eq(r->flags, 0x22);
    ck_assert(r->has_configure);
}
END_TEST

START_TEST(event_round_trip_keeps_every_field)
{
    Es__SystemTime t = ES__SYSTEM_TIME__INIT;
    t.year = 2024;
    t.month = 2;
    t.day_of_week = 4;
    t.day = 29;
    t.hour = 23;
    t.minute = 59;
    t.second = 58;
    t.milliseconds = 999;
    Es__Column cols[4];
    Es__Column *ptrs[4];
    for (int i = 0; i < 4; i++) {
        es__column__init(&cols[i]);
        ptrs[i] = &cols[i];
    }
    uint8_t mac[6] = {0, 0x11, 0x22, 0x33, 0x44, 0xff};
    cols[0].name = text("Frame");
    cols[0].type = NMCOLUMNTYPE_FRAME;
    cols[0].has_unsigned_value = true;
    cols[0].unsigned_value = 41;
    cols[1].name = text("Delta");
    cols[1].type = NMCOLUMNTYPE_SINT32;
    cols[1].has_signed_value = true;
    cols[1].signed_value = -5;
    cols[2].name = text("Ratio");
    cols[2].type = NMCOLUMNTYPE_FLOAT64;
    cols[2].has_double_value = true;
    cols[2].double_value = 0.25;
    cols[3].name = text("MAC");
    cols[3].type = NMCOLUMNTYPE_MACADDR;
    cols[3].has_bytes_value = true;
    cols[3].bytes_value.data = mac;
    cols[3].bytes_value.len = 6;

    Es__Event ev = ES__EVENT__INIT;
    ev.version = 0;
    ev.ident = 3;
    ev.flags = NMEVENTFLAG_EXPERT | NMEVENTFLAG_DO_NOT_DISPLAY_MACHINE;
    ev.severity = NMEVENT_SEVERITY_STRONG_WARNING;
    ev.has_source_name = true;
    ev.source_name = text("TCP Retransmit");
    ev.has_event_name = true;
    ev.event_name = text("Retransmission");
    ev.has_description = true;
    ev.description = text("seq 1000 sent again");
    ev.time = &t;
    ev.n_columns = 4;
    ev.columns = ptrs;
    ev.frames_read = 42;
    Es__WorkerMessage m = ES__WORKER_MESSAGE__INIT;
    m.body_case = ES__WORKER_MESSAGE__BODY_EVENT;
    m.event = &ev;

    char why[256];
    const Es__WorkerMessage *got = round_trip(&m, why, sizeof why);
    ck_assert_ptr_nonnull(got);
    const Es__Event *e = got->event;
    ck_assert_uint_eq(e->ident, 3);
    ck_assert_uint_eq(e->flags, NMEVENTFLAG_EXPERT | NMEVENTFLAG_DO_NOT_DISPLAY_MACHINE);
    ck_assert_uint_eq(e->severity, NMEVENT_SEVERITY_STRONG_WARNING);
    ck_assert(e->has_description);
    ck_assert(!e->has_machine);
    ck_assert(!e->has_justification);
    ck_assert_uint_eq(e->time->day, 29);
    ck_assert_uint_eq(e->time->milliseconds, 999);
    ck_assert_uint_eq(e->n_columns, 4);
    ck_assert_uint_eq(e->columns[0]->unsigned_value, 41);
    ck_assert_int_eq(e->columns[1]->signed_value, -5);
    ck_assert_double_eq(e->columns[2]->double_value, 0.25);
    ck_assert_uint_eq(e->columns[3]->bytes_value.len, 6);
    ck_assert_int_eq(memcmp(e->columns[3]->bytes_value.data, mac, 6), 0);
    ck_assert_uint_eq(e->frames_read, 42);
}
END_TEST

START_TEST(command_round_trip)
{
    Es__StartupInfo si = ES__STARTUP_INFO__INIT;
    si.capture_file = text("/tmp/x.pcap");
    si.frame_count = 1000;
    si.startup_frame = INVALID_FRAME_NUMBER;
    si.startup_flags = EXPERT_STARTUP_FLAG_USE_STARTUP_DATA_OVER_CONFIG_DATA;
    uint8_t config[8] = {8, 0, 0, 0, 1, 2, 3, 4};
    Es__Command cmd = ES__COMMAND__INIT;
    cmd.entry = ES__ENTRY__ENTRY_RUN;
    cmd.startup = &si;
    cmd.has_config = true;
    cmd.config.data = config;
    cmd.config.len = sizeof config;
    uint8_t buf[ES_MAX_MESSAGE];
    size_t len = es_encode_command(&cmd, buf, sizeof buf);
    ck_assert_uint_gt(len, 0);
    Es__Command *got = es__command__unpack(NULL, len, buf);
    ck_assert_ptr_nonnull(got);
    ck_assert_int_eq(got->entry, ES__ENTRY__ENTRY_RUN);
    ck_assert_uint_eq(got->startup->frame_count, 1000);
    ck_assert_uint_eq(got->startup->startup_frame, INVALID_FRAME_NUMBER);
    ck_assert_uint_eq(got->config.len, 8);
    ck_assert_int_eq(memcmp(got->config.data, config, 8), 0);
    es__command__free_unpacked(got, NULL);
}
END_TEST

START_TEST(oversized_datagram_is_refused)
{
    static uint8_t buf[ES_MAX_MESSAGE + 1];
    char why[256];
    ck_assert_ptr_null(es_decode_worker_message(decoder, buf, sizeof buf, why, sizeof why));
    ck_assert_ptr_nonnull(strstr(why, "exceeds"));
}
END_TEST

START_TEST(garbage_is_refused)
{
    uint8_t buf[4096];
    char why[256];
    unsigned seed = 12345;
    int refused = 0;
    /* Random bytes occasionally form a valid empty message; what matters is
     * that nothing crashes and that what is accepted has a valid body. */
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)(rand_r(&seed) % (int)sizeof buf);
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)rand_r(&seed);
        const Es__WorkerMessage *m = es_decode_worker_message(decoder, buf, len, why, sizeof why);
        if (!m)
            refused++;
        else
            ck_assert_int_ne(m->body_case, ES__WORKER_MESSAGE__BODY__NOT_SET);
    }
    ck_assert_int_gt(refused, 19000);
}
END_TEST

START_TEST(truncated_message_is_refused)
{
    Es__Registered reg = ES__REGISTERED__INIT;
    reg.name = text("an expert with a name");
    reg.vendor = text("v");
    reg.description = text("d");
    Es__WorkerMessage m = ES__WORKER_MESSAGE__INIT;
    m.body_case = ES__WORKER_MESSAGE__BODY_REGISTERED;
    m.registered = &reg;
    uint8_t buf[1024];
    size_t len = es__worker_message__pack(&m, buf);
    char why[256];
    for (size_t cut = 1; cut < len; cut++)
        ck_assert_ptr_null(es_decode_worker_message(decoder, buf, cut, why, sizeof why));
}
END_TEST

START_TEST(empty_message_has_no_body)
{
    char why[256];
    ck_assert_ptr_null(es_decode_worker_message(decoder, (const uint8_t *)"", 0, why, sizeof why));
    ck_assert_str_eq(why, "message without a body");
}
END_TEST

START_TEST(overlong_strings_are_refused)
{
    static char big[ES_MAX_LONG_TEXT + 2];
    memset(big, 'x', sizeof big - 1);
    Es__SystemTime t = ES__SYSTEM_TIME__INIT;
    Es__Event ev = ES__EVENT__INIT;
    ev.time = &t;
    ev.has_description = true;
    ev.description = text(big);
    Es__WorkerMessage m = ES__WORKER_MESSAGE__INIT;
    m.body_case = ES__WORKER_MESSAGE__BODY_EVENT;
    m.event = &ev;
    char why[256];
    ck_assert_ptr_null(round_trip(&m, why, sizeof why));
    ck_assert_ptr_nonnull(strstr(why, "description"));

    /* Exactly at the limit is fine. */
    ev.description.len = ES_MAX_LONG_TEXT;
    ck_assert_ptr_nonnull(round_trip(&m, why, sizeof why));

    Es__Status st = ES__STATUS__INIT;
    st.has_text = true;
    st.text = text(big);
    st.text.len = EXPERTSTRINGLENGTH + 1;
    m.body_case = ES__WORKER_MESSAGE__BODY_STATUS;
    m.status = &st;
    ck_assert_ptr_null(round_trip(&m, why, sizeof why));
}
END_TEST

/* A datagram within the size limit that would decode into a huge number of
 * structures must fail inside the arena, not grow the broker's memory. */
START_TEST(column_bomb_stays_inside_the_arena)
{
    static uint8_t buf[ES_MAX_MESSAGE];
    size_t len = 0;
    /* field 5 (event), length-delimited, then the event body. */
    size_t body = ES_MAX_MESSAGE - 8;
    buf[len++] = (5 << 3) | 2;
    /* varint of body length */
    size_t v = body;
    while (v >= 0x80) {
        buf[len++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    buf[len++] = (uint8_t)v;
    /* Each empty column: tag (11<<3|2) and length 0: two bytes each. */
    while (len + 2 <= sizeof buf && len < body) {
        buf[len++] = (11 << 3) | 2;
        buf[len++] = 0;
    }
    char why[256];
    ck_assert_ptr_null(es_decode_worker_message(decoder, buf, len, why, sizeof why));
    ck_assert_uint_le(decoder->used, ES_DECODE_ARENA);
}
END_TEST

START_TEST(too_many_columns_are_refused)
{
    Es__SystemTime t = ES__SYSTEM_TIME__INIT;
    Es__Column cols[300];
    Es__Column *ptrs[300];
    for (int i = 0; i < 300; i++) {
        es__column__init(&cols[i]);
        cols[i].type = NMCOLUMNTYPE_UINT8;
        ptrs[i] = &cols[i];
    }
    Es__Event ev = ES__EVENT__INIT;
    ev.time = &t;
    ev.n_columns = 300;
    ev.columns = ptrs;
    Es__WorkerMessage m = ES__WORKER_MESSAGE__INIT;
    m.body_case = ES__WORKER_MESSAGE__BODY_EVENT;
    m.event = &ev;
    char why[256];
    ck_assert_ptr_null(round_trip(&m, why, sizeof why));
    ck_assert_ptr_nonnull(strstr(why, "300 columns"));
    ev.n_columns = 255;
    ck_assert_ptr_nonnull(round_trip(&m, why, sizeof why));
}
END_TEST


/* ------------------------------------------------------------------ event ring */

/* A ring in a real memfd mapping, as the broker maps it, written here the
 * way a worker (honest or not) would. */
static struct es_event_ring_header *ring_hdr;
static uint8_t *ring_data;
static struct es_ring_reader reader;
static struct es_ring_scratch *scratch;

static void ring_setup(void)
{
    int fd = memfd_create("test-ring", MFD_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, ES_EVENT_RING_AREA), 0);
    void *area = mmap(NULL, ES_EVENT_RING_AREA, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ck_assert_ptr_ne(area, MAP_FAILED);
    close(fd);
    ring_hdr = area;
    ring_data = (uint8_t *)area + ES_EVENT_RING_HEADER;
    ring_hdr->magic = ES_EVENT_RING_MAGIC;
    ring_hdr->capacity = ES_EVENT_RING_CAPACITY;
    es_ring_reader_init(&reader, ring_hdr);
    scratch = malloc(sizeof *scratch);
    ck_assert_ptr_nonnull(scratch);
}

static void ring_teardown(void)
{
    munmap(ring_hdr, ES_EVENT_RING_AREA);
    free(scratch);
}

static void ring_write_at(uint64_t at, const void *bytes, size_t len)
{
    for (size_t i = 0; i < len; i++)
        ring_data[(at + i) & (ES_EVENT_RING_CAPACITY - 1)] = ((const uint8_t *)bytes)[i];
}

struct record {
    uint8_t bytes[ES_EVENT_RING_MAX_RECORD + 64];
    size_t len;
};

static void record_put(struct record *r, const void *p, size_t n)
{
    ck_assert_uint_le(r->len + n, sizeof r->bytes);
    memcpy(r->bytes + r->len, p, n);
    r->len += n;
}

/* An event with every text and one column of each value kind. */
static void honest_record(struct record *r, struct es_ring_event *h)
{
    static const char *texts[ES_RING_TEXTS] = {"source", "name", "description", "machine", "why"};
    memset(h, 0, sizeof *h);
    h->version = 1;
    h->ident = 42;
    h->flags = 7;
    h->severity = 3;
    h->frames_read = 99;
    for (int i = 0; i < 8; i++)
        h->time[i] = (uint16_t)(2000 + i);
    h->present = 0x1F;
    h->n_columns = 4;
    for (int i = 0; i < ES_RING_TEXTS; i++)
        h->text_len[i] = (uint16_t)strlen(texts[i]);
    r->len = sizeof *h;
    for (int i = 0; i < ES_RING_TEXTS; i++)
        record_put(r, texts[i], h->text_len[i]);
    struct es_ring_column c;
    memset(&c, 0, sizeof c);
    c.type = NMCOLUMNTYPE_UINT32, c.name_len = 1, c.kind = ES_RING_VALUE_UNSIGNED, c.value = 12345;
    record_put(r, &c, sizeof c);
    record_put(r, "u", 1);
    c.type = NMCOLUMNTYPE_SINT32, c.kind = ES_RING_VALUE_SIGNED, c.value = (uint64_t)-5;
    record_put(r, &c, sizeof c);
    record_put(r, "s", 1);
    double d = 0.25;
    c.type = NMCOLUMNTYPE_FLOAT64, c.kind = ES_RING_VALUE_DOUBLE;
    memcpy(&c.value, &d, sizeof d);
    record_put(r, &c, sizeof c);
    record_put(r, "d", 1);
    c.type = NMCOLUMNTYPE_STRING, c.kind = ES_RING_VALUE_BYTES, c.value = 0, c.value_len = 3;
    record_put(r, &c, sizeof c);
    record_put(r, "b", 1);
    record_put(r, "abc", 3);
    h->size = (uint32_t)r->len;
    memcpy(r->bytes, h, sizeof *h);
}

static uint64_t aligned8(uint64_t n)
{
    return (n + 7) & ~(uint64_t)7;
}

/* Places a record at the head and publishes it; returns the new head. */
static uint64_t publish(uint64_t head, const struct record *r)
{
    ring_write_at(head, r->bytes, r->len);
    head += aligned8(r->len);
    ring_hdr->head = head;
    return head;
}

static int read_one(const Es__Event **ev, char *why, size_t whylen)
{
    uint64_t head;
    if (es_ring_reader_head(&reader, &head, why, whylen) != 0)
        return -1;
    return es_ring_reader_next(&reader, head, scratch, ev, why, whylen);
}

START_TEST(ring_record_round_trip_across_the_end)
{
    /* Start 40 bytes before the end, so that the record wraps. */
    uint64_t start = 5 * (uint64_t)ES_EVENT_RING_CAPACITY - 40;
    reader.tail = reader.published = start;
    struct record r;
    struct es_ring_event h;
    honest_record(&r, &h);
    uint64_t head = publish(start, &r);
    const Es__Event *ev;
    char why[256] = "";
    ck_assert_int_eq(read_one(&ev, why, sizeof why), 1);
    ck_assert_uint_eq(reader.tail, head);
    ck_assert_uint_eq(ev->ident, 42);
    ck_assert_uint_eq(ev->flags, 7);
    ck_assert_uint_eq(ev->severity, 3);
    ck_assert_uint_eq(ev->frames_read, 99);
    ck_assert_uint_eq(ev->time->year, 2000);
    ck_assert_uint_eq(ev->time->milliseconds, 2007);
    ck_assert(ev->has_source_name && ev->source_name.len == 6 && !memcmp(ev->source_name.data, "source", 6));
    ck_assert(ev->has_justification && ev->justification.len == 3);
    ck_assert_uint_eq(ev->n_columns, 4);
    ck_assert(ev->columns[0]->has_unsigned_value && ev->columns[0]->unsigned_value == 12345);
    ck_assert(ev->columns[1]->has_signed_value && ev->columns[1]->signed_value == -5);
    ck_assert(ev->columns[2]->has_double_value && ev->columns[2]->double_value == 0.25);
    ck_assert(ev->columns[3]->has_bytes_value && ev->columns[3]->bytes_value.len == 3 &&
              !memcmp(ev->columns[3]->bytes_value.data, "abc", 3));
    ck_assert_int_eq(read_one(&ev, why, sizeof why), 0);

    /* The space goes back to the worker; the broker may sleep. */
    es_ring_reader_release(&reader);
    ck_assert_uint_eq(ring_hdr->tail, head);
    ck_assert(es_ring_reader_sleep(&reader));
    ck_assert_uint_eq(ring_hdr->broker_sleeping, 1);
    /* A record published after: not asleep after all. */
    publish(head, &r);
    ck_assert(!es_ring_reader_sleep(&reader));
    ck_assert_uint_eq(ring_hdr->broker_sleeping, 0);
}
END_TEST

/* Expects the reader to refuse what is at the tail, saying `words`, and
 * not to move. */
static void expect_refused(const char *words)
{
    uint64_t tail = reader.tail;
    const Es__Event *ev;
    char why[256] = "";
    ck_assert_int_eq(read_one(&ev, why, sizeof why), -1);
    ck_assert_msg(strstr(why, words) != NULL, "\"%s\" does not say \"%s\"", why, words);
    ck_assert_uint_eq(reader.tail, tail);
}

START_TEST(ring_heads_out_of_bounds_are_refused)
{
    reader.tail = 4096;
    ring_hdr->head = 4096 + 3;
    expect_refused("not a record boundary");
    ring_hdr->head = 4096 + ES_EVENT_RING_CAPACITY + 8;
    expect_refused("not a record boundary");
    ring_hdr->head = 4096 - 8;   /* behind the tail */
    expect_refused("not a record boundary");
    ring_hdr->head = UINT64_MAX - 7;
    expect_refused("not a record boundary");
}
END_TEST

START_TEST(ring_sizes_out_of_bounds_are_refused)
{
    uint32_t sizes[] = {0, 8, sizeof(struct es_ring_event) - 1, ES_EVENT_RING_MAX_RECORD + 1, UINT32_MAX};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        ring_write_at(0, &sizes[i], sizeof sizes[i]);
        ring_hdr->head = ES_EVENT_RING_CAPACITY;
        expect_refused("record size out of bounds");
    }
    /* A size within bounds but beyond what the head published. */
    struct record r;
    struct es_ring_event h;
    honest_record(&r, &h);
    ring_write_at(0, r.bytes, r.len);
    ring_hdr->head = aligned8(r.len) - 8;
    expect_refused("record size out of bounds");
}
END_TEST

START_TEST(ring_lying_records_are_refused)
{
    struct record r;
    struct es_ring_event h;

    honest_record(&r, &h);
    h.present = 0x3F;   /* a sixth text */
    memcpy(r.bytes, &h, sizeof h);
    publish(0, &r);
    expect_refused("undefined bits");

    honest_record(&r, &h);
    h.text_len[ES_RING_TEXT_SOURCE] = ES_MAX_NAME_TEXT + 1;
    memcpy(r.bytes, &h, sizeof h);
    publish(0, &r);
    expect_refused("text longer than its limit");

    honest_record(&r, &h);
    h.n_columns = 5;   /* one more column than there are bytes for */
    memcpy(r.bytes, &h, sizeof h);
    publish(0, &r);
    expect_refused("column past the end of its record");

    honest_record(&r, &h);
    h.n_columns = 3;   /* bytes left over */
    memcpy(r.bytes, &h, sizeof h);
    publish(0, &r);
    expect_refused("record longer than its contents");

    honest_record(&r, &h);
    struct es_ring_column c;
    size_t first_column = sizeof h + strlen("sourcenamedescriptionmachinewhy");
    memcpy(&c, r.bytes + first_column, sizeof c);
    c.name_len = 200;  /* within the limit, past the record */
    memcpy(r.bytes + first_column, &c, sizeof c);
    publish(0, &r);
    expect_refused("column text past the end of its record");

    honest_record(&r, &h);
    memcpy(&c, r.bytes + first_column, sizeof c);
    c.kind = 9;
    memcpy(r.bytes + first_column, &c, sizeof c);
    publish(0, &r);
    expect_refused("undefined bits");
}
END_TEST

/* Garbage of every size at every alignment: refused or parsed, never read
 * past (the sanitizer build checks the "never"). */
START_TEST(ring_garbage_never_reads_out_of_bounds)
{
    uint64_t state = 88172645463325252ull;
    for (int round = 0; round < 3000; round++) {
        reader.tail = reader.published = (uint64_t)round * 4104;
        for (uint64_t at = 0; at < 512; at += 8) {
            state ^= state << 13, state ^= state >> 7, state ^= state << 17;
            ring_write_at(reader.tail + at, &state, sizeof state);
        }
        /* A size that points into the garbage, sometimes a plausible one. */
        uint32_t size = (uint32_t)(state % 600);
        if (round % 2)
            ring_write_at(reader.tail, &size, sizeof size);
        ring_hdr->head = reader.tail + 512;
        const Es__Event *ev;
        char why[256];
        uint64_t head;
        ck_assert_int_eq(es_ring_reader_head(&reader, &head, why, sizeof why), 0);
        int rc;
        while ((rc = es_ring_reader_next(&reader, head, scratch, &ev, why, sizeof why)) > 0)
            ck_assert_uint_le(reader.tail, head);
    }
}
END_TEST

static Suite *proto_suite(void)
{
    Suite *s = suite_create("proto");
    TCase *tc = tcase_create("round trips");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, hello_round_trip);
    tcase_add_test(tc, registered_round_trip);
    tcase_add_test(tc, event_round_trip_keeps_every_field);
    tcase_add_test(tc, command_round_trip);
    suite_add_tcase(s, tc);
    tc = tcase_create("hostile datagrams");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, oversized_datagram_is_refused);
    tcase_add_test(tc, garbage_is_refused);
    tcase_add_test(tc, truncated_message_is_refused);
    tcase_add_test(tc, empty_message_has_no_body);
    tcase_add_test(tc, overlong_strings_are_refused);
    tcase_add_test(tc, column_bomb_stays_inside_the_arena);
    tcase_add_test(tc, too_many_columns_are_refused);
    suite_add_tcase(s, tc);
    tc = tcase_create("event ring");
    tcase_add_checked_fixture(tc, ring_setup, ring_teardown);
    tcase_add_test(tc, ring_record_round_trip_across_the_end);
    tcase_add_test(tc, ring_heads_out_of_bounds_are_refused);
    tcase_add_test(tc, ring_sizes_out_of_bounds_are_refused);
    tcase_add_test(tc, ring_lying_records_are_refused);
    tcase_add_test(tc, ring_garbage_never_reads_out_of_bounds);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(proto_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
