/*
 * test_proto.c - the control protocol: round trips of every message, and
 * the broker's bounded, validating decoder against hostile datagrams.
 */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "expert.pb-c.h"
#include "message.h"
#include "netmon.h"
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
