/*
 * test_analysis.c - the analysing sample experts (tcpretrans, topusers,
 * resptime, and protodist's figures) end to end: real broker processes, real workers, real captures,
 * and tshark as the reference where it is installed.
 *
 * Environment (tests/meson.build's test_env sets it):
 *   ES_BROKER            the built expert-broker
 *   ES_SAMPLE_PCAP       the capture tools/mkpcap generates for the build
 *   ES_SAMPLE_EXPERT_DIR where the sample experts of experts/ are built
 *   ES_SHARED_CAPTURES   tcpdump's test captures, many of them malformed
 * tools/mkloss.sh is found through ES_MKLOSS, ES_SOURCE_DIR, or where the
 * build says it is.
 *
 * Three kinds of checks:
 *   - synthetic captures written here, with every expected event spelled
 *     out (and cross-checked with tshark when it is there);
 *   - the sample capture and real captures against tshark's own analysis
 *     (`-Y tcp.analysis.retransmission`, `-z conv,tcp`, `-z endpoints,...`,
 *     `-z io,phs`, `http.time`);
 *   - every shared capture through all four experts: none may crash.
 * Without tshark the comparisons are skipped with a message on stderr.
 */
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

/* ------------------------------------------------------------------------ */
/* Paths and programs                                                       */
/* ------------------------------------------------------------------------ */

static const char *required_env(const char *name)
{
    const char *value = getenv(name);
    if (value == NULL || *value == '\0') {
        fprintf(stderr, "test_analysis: %s is not set (run it through meson test)\n", name);
        exit(EXIT_FAILURE);
    }
    return value;
}

/* Paths handed out live until the test process ends; kept reachable so
 * that LeakSanitizer does not count them. */
static char *kept[512];
static size_t kept_count;

static const char *keep(char *text)
{
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(kept_count < sizeof(kept) / sizeof(kept[0]), "too many kept strings");
    kept[kept_count++] = text;
    return text;
}

static const char *expert_path(const char *name)
{
    char file[64];
    snprintf(file, sizeof(file), "%s.so", name);
    const char *path = keep(hx_path_join(required_env("ES_SAMPLE_EXPERT_DIR"), file));
    ck_assert_msg(access(path, R_OK) == 0, "expert %s is not built", path);
    return path;
}

/* The full path of a program on $PATH, or NULL: the harness starts programs
 * by path, without a search. */
static const char *find_program(const char *name)
{
    const char *path = getenv("PATH");
    if (path == NULL)
        return NULL;
    const char *start = path;
    for (;;) {
        const char *end = strchr(start, ':');
        size_t length = end ? (size_t)(end - start) : strlen(start);
        char candidate[4096];
        if (length > 0 && length + strlen(name) + 2 < sizeof(candidate)) {
            snprintf(candidate, sizeof(candidate), "%.*s/%s", (int)length, start, name);
            struct stat info;
            if (stat(candidate, &info) == 0 && S_ISREG(info.st_mode) && access(candidate, X_OK) == 0)
                return keep(strdup(candidate));
        }
        if (end == NULL)
            return NULL;
        start = end + 1;
    }
}

/* tshark, or NULL after saying why the caller's comparison is skipped. */
static const char *tshark_or_skip(const char *what)
{
    const char *tshark = find_program("tshark");
    if (tshark == NULL)
        fprintf(stderr, "test_analysis: tshark is not installed: skipping %s\n", what);
    return tshark;
}

static char *scratch_dir;

static void scratch_setup(void)
{
    scratch_dir = hx_make_temp_dir();
    ck_assert_msg(scratch_dir != NULL, "cannot make a temporary directory: %s", strerror(errno));
}

static void scratch_teardown(void)
{
    if (scratch_dir != NULL) {
        hx_remove_tree(scratch_dir);
        free(scratch_dir);
        scratch_dir = NULL;
    }
}

static const char *scratch_file(const char *name)
{
    ck_assert_ptr_nonnull(scratch_dir);
    return keep(hx_path_join(scratch_dir, name));
}

/* A shared capture by name, or NULL (with a message) when it is missing. */
static const char *shared_capture(const char *name)
{
    const char *path = keep(hx_path_join(required_env("ES_SHARED_CAPTURES"), name));
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "test_analysis: %s is missing: skipped\n", path);
        return NULL;
    }
    return path;
}

/* ------------------------------------------------------------------------ */
/* Running the broker and tshark                                            */
/* ------------------------------------------------------------------------ */

struct broker_run {
    struct hx_result result;
    struct hx_jsonl doc;
    char status[96];
};

/* Runs the broker over capture with the experts named (NULL-terminated),
 * and requires exit 0, valid JSON Lines and outcome "done" for each. */
static void run_experts(struct broker_run *run, const char *capture, ...)
{
    const char *argv[32];
    size_t count = 0;
    argv[count++] = required_env("ES_BROKER");
    argv[count++] = "run";
    argv[count++] = "-q";
    argv[count++] = "-j";
    argv[count++] = "2";
    argv[count++] = "-r";
    argv[count++] = capture;
    va_list names;
    va_start(names, capture);
    for (const char *name = va_arg(names, const char *); name != NULL; name = va_arg(names, const char *)) {
        ck_assert(count < sizeof(argv) / sizeof(argv[0]) - 3);
        argv[count++] = "-e";
        argv[count++] = expert_path(name);
    }
    va_end(names);
    argv[count] = NULL;

    memset(run, 0, sizeof(*run));
    ck_assert_msg(hx_run(argv, &run->result) == 0, "cannot run the broker: %s", strerror(errno));
    hx_describe_status(&run->result, run->status, sizeof(run->status));
    ck_assert_msg(run->result.exited && run->result.exit_code == 0, "broker on %s: %s; stderr:\n%s", capture,
                  run->status, run->result.err);
    ck_assert_msg(hx_jsonl_parse(run->result.out, run->result.out_len, &run->doc) == 0,
                  "broker output is not JSON Lines (line %zu: %s)", run->doc.bad_line, run->doc.error);
    for (size_t index = 0; index < hx_jsonl_count_type(&run->doc, "outcome"); index++) {
        const struct hx_json *outcome = hx_jsonl_nth(&run->doc, "outcome", index);
        const char *kind = hx_json_get_string(outcome, "outcome");
        ck_assert_msg(kind != NULL && strcmp(kind, "done") == 0, "%s on %s: outcome %s (%s)",
                      hx_json_get_string(outcome, "expert_file"), capture, kind ? kind : "?",
                      hx_json_get_string(outcome, "detail"));
    }
}

static void broker_run_free(struct broker_run *run)
{
    hx_jsonl_free(&run->doc);
    hx_result_free(&run->result);
}

/* The events of one expert (by its registered name) with one EventIdent,
 * in output order; returns how many, up to `room`. */
static size_t events_of(const struct broker_run *run, const char *expert, double ident,
                        const struct hx_json **events, size_t room)
{
    size_t found = 0;
    for (size_t index = 0; index < run->doc.count; index++) {
        const struct hx_json *record = run->doc.records[index];
        const char *type = hx_json_get_string(record, "type");
        const char *name = hx_json_get_string(record, "expert");
        double event_ident;
        if (type == NULL || strcmp(type, "event") != 0 || name == NULL || strcmp(name, expert) != 0 ||
            !hx_json_get_number(record, "event_ident", &event_ident) || event_ident != ident)
            continue;
        ck_assert_msg(found < room, "more than %zu events of %s, ident %g", room, expert, ident);
        events[found++] = record;
    }
    return found;
}

static const struct hx_json *column(const struct hx_json *event, const char *name, const char *type)
{
    const struct hx_json *columns = hx_json_get(event, "columns");
    ck_assert_msg(columns != NULL && columns->type == HX_JSON_ARRAY, "event without columns");
    for (size_t index = 0; index < columns->count; index++) {
        const char *column_name = hx_json_get_string(&columns->items[index], "name");
        if (column_name == NULL || strcmp(column_name, name) != 0)
            continue;
        const char *column_type = hx_json_get_string(&columns->items[index], "type");
        ck_assert_msg(column_type != NULL && strcmp(column_type, type) == 0, "column %s is %s, not %s", name,
                      column_type ? column_type : "?", type);
        const struct hx_json *value = hx_json_get(&columns->items[index], "value");
        ck_assert_ptr_nonnull(value);
        return value;
    }
    char *text = hx_json_serialize(event);
    ck_abort_msg("no column \"%s\" in %s", name, text);
    return NULL;
}

/* A column's value whatever its type (an address is IPADDR for IPv4 and
 * STRING for IPv6); NULL when the event has no such column. */
static const struct hx_json *column_any(const struct hx_json *event, const char *name)
{
    const struct hx_json *columns = hx_json_get(event, "columns");
    for (size_t index = 0; columns != NULL && index < columns->count; index++) {
        const char *column_name = hx_json_get_string(&columns->items[index], "name");
        if (column_name != NULL && strcmp(column_name, name) == 0)
            return hx_json_get(&columns->items[index], "value");
    }
    return NULL;
}

static double column_number(const struct hx_json *event, const char *name, const char *type)
{
    const struct hx_json *value = column(event, name, type);
    ck_assert_msg(value->type == HX_JSON_NUMBER, "column %s is not a number", name);
    return value->number;
}

static const char *column_text(const struct hx_json *event, const char *name, const char *type)
{
    const struct hx_json *value = column(event, name, type);
    ck_assert_msg(value->type == HX_JSON_STRING, "column %s is not text", name);
    return value->string;
}

/* Runs tshark with the arguments up to NULL; its stdout, malloc'd. */
static char *tshark_output(const char *tshark, ...)
{
    const char *argv[48];
    size_t count = 0;
    argv[count++] = tshark;
    va_list arguments;
    va_start(arguments, tshark);
    for (const char *argument = va_arg(arguments, const char *); argument != NULL;
         argument = va_arg(arguments, const char *)) {
        ck_assert(count < sizeof(argv) / sizeof(argv[0]) - 1);
        argv[count++] = argument;
    }
    va_end(arguments);
    argv[count] = NULL;

    struct hx_result result;
    char status[96];
    ck_assert_msg(hx_run(argv, &result) == 0, "cannot run tshark: %s", strerror(errno));
    hx_describe_status(&result, status, sizeof(status));
    ck_assert_msg(result.exited && result.exit_code == 0, "tshark: %s\n%s", status, result.err);
    char *out = result.out;
    result.out = NULL;
    hx_result_free(&result);
    return out;
}

/* Splits text into lines in place; returns how many (at most room). */
static size_t split_lines(char *text, char **lines, size_t room)
{
    size_t count = 0;
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        ck_assert_msg(count < room, "more than %zu lines", room);
        lines[count++] = line;
    }
    return count;
}

/* ------------------------------------------------------------------------ */
/* tcpretrans against tshark                                                */
/* ------------------------------------------------------------------------ */

#define MAX_RETRANSMISSIONS 4096

struct retransmission {
    unsigned frame;      /* 1-based */
    char kind[32];
};

static int compare_retransmissions(const void *left, const void *right)
{
    const struct retransmission *a = left, *b = right;
    return a->frame < b->frame ? -1 : a->frame > b->frame;
}

/* What tshark marks: every tcp.analysis.retransmission (fast and spurious
 * ones carry it too), with the sub-kind. */
static size_t tshark_retransmissions(const char *tshark, const char *capture, struct retransmission *out)
{
    char *text = tshark_output(tshark, "-n", "-r", capture, "-Y", "tcp.analysis.retransmission", "-T", "fields",
                               "-e", "frame.number", "-e", "tcp.analysis.fast_retransmission", "-e",
                               "tcp.analysis.spurious_retransmission", NULL);
    size_t count = 0;
    for (char *line = text; *line != '\0';) {
        char *end = strchr(line, '\n');
        if (end != NULL)
            *end = '\0';
        unsigned frame;
        char fast[8] = "", spurious[8] = "";
        /* Fields are tab-separated and empty when absent. */
        char *tab1 = strchr(line, '\t');
        char *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
        if (sscanf(line, "%u", &frame) == 1) {
            if (tab1 != NULL)
                snprintf(fast, sizeof(fast), "%.*s", (int)(tab2 ? tab2 - tab1 - 1 : 0), tab1 + 1);
            if (tab2 != NULL)
                snprintf(spurious, sizeof(spurious), "%s", tab2 + 1);
            ck_assert(count < MAX_RETRANSMISSIONS);
            out[count].frame = frame;
            snprintf(out[count].kind, sizeof(out[count].kind), "%s",
                     fast[0] ? "fast retransmission"
                             : spurious[0] ? "spurious retransmission" : "retransmission");
            count++;
        }
        if (end == NULL)
            break;
        line = end + 1;
    }
    free(text);
    qsort(out, count, sizeof(*out), compare_retransmissions);
    return count;
}

static size_t our_retransmissions(const struct broker_run *run, struct retransmission *out)
{
    static const struct hx_json *events[MAX_RETRANSMISSIONS];
    size_t count = events_of(run, "TCP Retransmit", 1, events, MAX_RETRANSMISSIONS);
    for (size_t index = 0; index < count; index++) {
        out[index].frame = (unsigned)column_number(events[index], "Frame", "frame");
        snprintf(out[index].kind, sizeof(out[index].kind), "%s", column_text(events[index], "Kind", "string"));
    }
    qsort(out, count, sizeof(*out), compare_retransmissions);
    return count;
}

/* Every retransmission tshark finds, of the same kind, and no other. */
static void assert_retransmissions_match_tshark(const char *tshark, const char *capture)
{
    static struct retransmission ours[MAX_RETRANSMISSIONS], theirs[MAX_RETRANSMISSIONS];
    struct broker_run run;
    run_experts(&run, capture, "tcpretrans", NULL);
    size_t our_count = our_retransmissions(&run, ours);
    size_t their_count = tshark_retransmissions(tshark, capture, theirs);
    broker_run_free(&run);

    size_t index = 0;
    for (; index < our_count && index < their_count; index++) {
        ck_assert_msg(ours[index].frame == theirs[index].frame,
                      "%s: retransmission #%zu: we found frame %u, tshark frame %u", capture, index + 1,
                      ours[index].frame, theirs[index].frame);
        ck_assert_msg(strcmp(ours[index].kind, theirs[index].kind) == 0, "%s: frame %u: we say %s, tshark %s",
                      capture, ours[index].frame, ours[index].kind, theirs[index].kind);
    }
    ck_assert_msg(our_count == their_count, "%s: we found %zu retransmissions, tshark %zu (first extra: frame %u)",
                  capture, our_count, their_count,
                  our_count > their_count ? ours[index].frame : theirs[index].frame);
}

/* ------------------------------------------------------------------------ */
/* Writing synthetic captures                                               */
/* ------------------------------------------------------------------------ */

struct capture_writer {
    FILE *file;
    unsigned frames;        /* written so far: the next frame is frames + 1 */
    uint32_t snaplen;
    uint64_t time_us;       /* of the last frame */
};

static void put_u16(uint8_t *at, unsigned value)
{
    at[0] = (uint8_t)(value >> 8);
    at[1] = (uint8_t)value;
}

static void put_u32(uint8_t *at, uint32_t value)
{
    at[0] = (uint8_t)(value >> 24);
    at[1] = (uint8_t)(value >> 16);
    at[2] = (uint8_t)(value >> 8);
    at[3] = (uint8_t)value;
}

static void write_le32(FILE *file, uint32_t value)
{
    uint8_t bytes[4] = {(uint8_t)value, (uint8_t)(value >> 8), (uint8_t)(value >> 16), (uint8_t)(value >> 24)};
    ck_assert(fwrite(bytes, 1, 4, file) == 4);
}

/* A classic little-endian pcap, Ethernet, microsecond timestamps. */
static void capture_open_link(struct capture_writer *writer, const char *path, uint32_t snaplen,
                              uint32_t link_type)
{
    memset(writer, 0, sizeof(*writer));
    writer->file = fopen(path, "wb");
    ck_assert_msg(writer->file != NULL, "cannot write %s: %s", path, strerror(errno));
    writer->snaplen = snaplen;
    write_le32(writer->file, 0xA1B2C3D4u);
    write_le32(writer->file, 2u | (4u << 16));   /* version 2.4 */
    write_le32(writer->file, 0);                 /* time zone */
    write_le32(writer->file, 0);                 /* accuracy */
    write_le32(writer->file, snaplen);
    write_le32(writer->file, link_type);
}

static void capture_open(struct capture_writer *writer, const char *path, uint32_t snaplen)
{
    capture_open_link(writer, path, snaplen, 1);   /* LINKTYPE_ETHERNET */
}

/* Writes a frame `delay_us` after the previous one, cut to the snaplen;
 * returns its 1-based number.  Timestamps start at 2024-01-01. */
static unsigned capture_frame(struct capture_writer *writer, uint64_t delay_us, const uint8_t *frame,
                              size_t length)
{
    writer->time_us += delay_us;
    uint64_t absolute = 1704067200ull * 1000000ull + writer->time_us;
    size_t captured = length < writer->snaplen ? length : writer->snaplen;
    write_le32(writer->file, (uint32_t)(absolute / 1000000));
    write_le32(writer->file, (uint32_t)(absolute % 1000000));
    write_le32(writer->file, (uint32_t)captured);
    write_le32(writer->file, (uint32_t)length);
    ck_assert(fwrite(frame, 1, captured, writer->file) == captured);
    return ++writer->frames;
}

static void capture_close(struct capture_writer *writer)
{
    ck_assert(fclose(writer->file) == 0);
    writer->file = NULL;
}

struct host {
    uint8_t mac[6];
    uint8_t ip4[4];
    uint8_t ip6[16];
};

static struct host make_host(unsigned number)
{
    struct host host;
    memset(&host, 0, sizeof(host));
    uint8_t mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, (uint8_t)number};
    uint8_t ip4[4] = {10, 1, 0, (uint8_t)number};
    memcpy(host.mac, mac, 6);
    memcpy(host.ip4, ip4, 4);
    host.ip6[0] = 0x20;
    host.ip6[1] = 0x01;
    host.ip6[2] = 0x0d;
    host.ip6[3] = 0xb8;
    host.ip6[15] = (uint8_t)number;
    return host;
}

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_PSH 0x08
#define TCP_ACK 0x10

struct packet_spec {
    const struct host *from, *to;
    bool ipv6;
    unsigned vlan_tags;          /* 0-2; 802.1ad outside, 802.1Q inside */
    bool hop_by_hop;             /* IPv6: an 8-byte hop-by-hop header first */
    uint8_t protocol;            /* 6 TCP, 17 UDP */
    uint16_t source_port, destination_port;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t window;
    size_t payload;
};

/* Builds Ethernet [VLAN...] IPv4|IPv6 TCP|UDP with `payload` bytes of 'x';
 * checksums are left 0 (tshark does not check them by default). */
static size_t build_packet(uint8_t *out, size_t size, const struct packet_spec *spec)
{
    size_t transport_header = spec->protocol == 6 ? 20 : 8;
    size_t ip_header = spec->ipv6 ? 40 + (spec->hop_by_hop ? 8 : 0) : 20;
    size_t length = 14 + 4 * spec->vlan_tags + ip_header + transport_header + spec->payload;
    ck_assert(length <= size);
    memset(out, 0, length);
    memcpy(out, spec->to->mac, 6);
    memcpy(out + 6, spec->from->mac, 6);
    size_t at = 12;
    for (unsigned tag = 0; tag < spec->vlan_tags; tag++) {
        put_u16(out + at, tag == 0 && spec->vlan_tags == 2 ? 0x88A8 : 0x8100);
        put_u16(out + at + 2, 100 + tag);
        at += 4;
    }
    put_u16(out + at, spec->ipv6 ? 0x86DD : 0x0800);
    at += 2;
    size_t ip_payload = transport_header + spec->payload;
    if (spec->ipv6) {
        out[at] = 0x60;
        put_u16(out + at + 4, (unsigned)(ip_payload + (spec->hop_by_hop ? 8 : 0)));
        out[at + 6] = spec->hop_by_hop ? 0 : spec->protocol;
        out[at + 7] = 64;
        memcpy(out + at + 8, spec->from->ip6, 16);
        memcpy(out + at + 24, spec->to->ip6, 16);
        at += 40;
        if (spec->hop_by_hop) {
            out[at] = spec->protocol;   /* next header; length 0 = 8 bytes; PadN */
            out[at + 2] = 1;
            out[at + 3] = 4;
            at += 8;
        }
    } else {
        out[at] = 0x45;
        put_u16(out + at + 2, (unsigned)(20 + ip_payload));
        out[at + 8] = 64;
        out[at + 9] = spec->protocol;
        memcpy(out + at + 12, spec->from->ip4, 4);
        memcpy(out + at + 16, spec->to->ip4, 4);
        at += 20;
    }
    put_u16(out + at, spec->source_port);
    put_u16(out + at + 2, spec->destination_port);
    if (spec->protocol == 6) {
        put_u32(out + at + 4, spec->seq);
        put_u32(out + at + 8, spec->ack);
        out[at + 12] = 5 << 4;
        out[at + 13] = spec->flags;
        put_u16(out + at + 14, spec->window);
    } else {
        put_u16(out + at + 4, (unsigned)(8 + spec->payload));
    }
    memset(out + at + transport_header, 'x', spec->payload);
    return length;
}

/* One TCP connection in a synthetic capture; sequence numbers are given
 * relative, as Wireshark shows them (the SYN is 0, the first byte 1). */
struct connection {
    struct capture_writer *writer;
    const struct host *client, *server;
    uint16_t client_port, server_port;
    uint32_t client_isn, server_isn;
    bool ipv6;
    unsigned vlan_tags;
    bool hop_by_hop;
};

static unsigned segment(struct connection *c, bool from_client, uint64_t delay_us, uint8_t flags,
                        uint32_t relative_seq, uint32_t relative_ack, size_t payload)
{
    struct packet_spec spec = {
        .from = from_client ? c->client : c->server,
        .to = from_client ? c->server : c->client,
        .ipv6 = c->ipv6,
        .vlan_tags = c->vlan_tags,
        .hop_by_hop = c->hop_by_hop,
        .protocol = 6,
        .source_port = from_client ? c->client_port : c->server_port,
        .destination_port = from_client ? c->server_port : c->client_port,
        .seq = (from_client ? c->client_isn : c->server_isn) + relative_seq,
        .ack = (flags & TCP_ACK) ? (from_client ? c->server_isn : c->client_isn) + relative_ack : 0,
        .flags = flags,
        .window = 65535,
        .payload = payload,
    };
    uint8_t frame[2048];
    size_t length = build_packet(frame, sizeof(frame), &spec);
    return capture_frame(c->writer, delay_us, frame, length);
}

/* SYN, SYN-ACK, ACK, each `gap_us` after the last. */
static unsigned handshake(struct connection *c, uint64_t gap_us)
{
    unsigned syn = segment(c, true, gap_us, TCP_SYN, 0, 0, 0);
    segment(c, false, gap_us, TCP_SYN | TCP_ACK, 0, 1, 0);
    segment(c, true, gap_us, TCP_ACK, 1, 1, 0);
    return syn;
}

/* ------------------------------------------------------------------------ */
/* tcpretrans                                                               */
/* ------------------------------------------------------------------------ */

struct expected_retransmission {
    unsigned frame;
    unsigned repeats;          /* 0: not in the capture (null) */
    const char *kind;
    unsigned seq;              /* relative */
    unsigned length;
};

START_TEST(test_tcpretrans_synthetic)
{
    const char *path = scratch_file("retrans.pcap");
    struct capture_writer writer;
    /* Frames are cut at 96 bytes, just after the longest header stack
     * (two VLAN tags, IPv6, hop-by-hop, TCP): the segment lengths must come
     * from the IP header, not from what was captured. */
    capture_open(&writer, path, 96);
    struct host client = make_host(10), server = make_host(20);
    struct expected_retransmission expected[16];
    size_t expected_count = 0;

    /* Connection 1, IPv4: a timeout retransmission, a spurious one, and
     * keep-alives (which are not retransmissions). */
    struct connection one = {&writer, &client, &server, 40000, 80, 1000, 5000, false, 0, false};
    handshake(&one, 1000);
    unsigned request = segment(&one, true, 1000, TCP_PSH | TCP_ACK, 1, 1, 100);
    unsigned again = segment(&one, true, 300000, TCP_PSH | TCP_ACK, 1, 1, 100);
    expected[expected_count++] = (struct expected_retransmission){again, request, "retransmission", 1, 100};
    segment(&one, false, 1000, TCP_ACK, 1, 101, 0);
    unsigned reply = segment(&one, false, 1000, TCP_PSH | TCP_ACK, 1, 101, 50);
    segment(&one, true, 1000, TCP_ACK, 101, 51, 0);
    unsigned late = segment(&one, false, 500000, TCP_PSH | TCP_ACK, 1, 101, 50);
    expected[expected_count++] = (struct expected_retransmission){late, reply, "spurious retransmission", 1, 50};
    segment(&one, true, 1000, TCP_ACK, 101, 51, 0);
    segment(&one, true, 10000000, TCP_ACK, 100, 51, 0);   /* keep-alive, 0 bytes */
    segment(&one, false, 1000, TCP_ACK, 51, 101, 0);      /* its ACK */
    segment(&one, true, 10000000, TCP_ACK, 100, 51, 1);   /* keep-alive, 1 byte */

    /* Connection 2, IPv6 with a hop-by-hop header, two VLAN tags: a fast
     * retransmission after three duplicate ACKs. */
    struct connection two = {&writer, &client, &server, 40001, 443, 70000, 90000, true, 2, true};
    handshake(&two, 2000);
    segment(&two, false, 1000, TCP_ACK, 1, 1, 1000);
    unsigned lost = segment(&two, false, 100, TCP_ACK, 1001, 1, 1000);
    segment(&two, false, 100, TCP_ACK, 2001, 1, 1000);
    segment(&two, false, 100, TCP_ACK, 3001, 1, 1000);
    segment(&two, true, 1000, TCP_ACK, 1, 1001, 0);
    segment(&two, true, 100, TCP_ACK, 1, 1001, 0);
    segment(&two, true, 100, TCP_ACK, 1, 1001, 0);
    segment(&two, true, 100, TCP_ACK, 1, 1001, 0);
    unsigned fast = segment(&two, false, 2000, TCP_ACK, 1001, 1, 1000);
    expected[expected_count++] = (struct expected_retransmission){fast, lost, "fast retransmission", 1001, 1000};
    segment(&two, true, 1000, TCP_ACK, 1, 4001, 0);

    /* Connection 3: a segment overtaken by the next one within the
     * handshake's round-trip time is out of order, not retransmitted. */
    struct connection three = {&writer, &client, &server, 40002, 25, 300, 700, false, 1, false};
    handshake(&three, 10000);
    segment(&three, true, 1000, TCP_ACK, 1001, 1, 1000);
    segment(&three, true, 500, TCP_ACK, 1, 1, 1000);

    /* Connection 4: a repeated SYN and FIN are retransmissions too. */
    struct connection four = {&writer, &client, &server, 40003, 22, 9000, 9900, false, 0, false};
    unsigned syn = segment(&four, true, 1000, TCP_SYN, 0, 0, 0);
    unsigned syn_again = segment(&four, true, 1000000, TCP_SYN, 0, 0, 0);
    expected[expected_count++] = (struct expected_retransmission){syn_again, syn, "retransmission", 0, 0};
    segment(&four, false, 1000, TCP_SYN | TCP_ACK, 0, 1, 0);
    segment(&four, true, 1000, TCP_ACK, 1, 1, 0);
    unsigned fin = segment(&four, true, 1000, TCP_FIN | TCP_ACK, 1, 1, 0);
    unsigned fin_again = segment(&four, true, 400000, TCP_FIN | TCP_ACK, 1, 1, 0);
    expected[expected_count++] = (struct expected_retransmission){fin_again, fin, "retransmission", 1, 0};

    /* Connection 5 reuses connection 1's addresses and ports with a new
     * initial sequence number: a new connection, nothing repeated. */
    struct connection five = one;
    five.client_isn = 123456;
    five.server_isn = 654321;
    handshake(&five, 1000);
    segment(&five, true, 1000, TCP_PSH | TCP_ACK, 1, 1, 100);
    capture_close(&writer);

    struct broker_run run;
    run_experts(&run, path, "tcpretrans", NULL);
    const struct hx_json *events[32];
    size_t count = events_of(&run, "TCP Retransmit", 1, events, 32);
    ck_assert_msg(count == expected_count, "expected %zu retransmissions, got %zu:\n%s", expected_count, count,
                  run.result.out);
    for (size_t index = 0; index < count; index++) {
        const struct hx_json *event = events[index];
        const struct expected_retransmission *want = &expected[index];
        ck_assert_uint_eq((unsigned)column_number(event, "Frame", "frame"), want->frame);
        const struct hx_json *repeats = column(event, "Repeats frame", "frame");
        ck_assert_msg(repeats->type == HX_JSON_NUMBER && (unsigned)repeats->number == want->repeats,
                      "frame %u repeats frame %u, got %s", want->frame, want->repeats, hx_json_serialize(repeats));
        ck_assert_str_eq(column_text(event, "Kind", "string"), want->kind);
        ck_assert_uint_eq((unsigned)column_number(event, "Seq", "uint32"), want->seq);
        ck_assert_uint_eq((unsigned)column_number(event, "Length", "uint32"), want->length);
        ck_assert_str_eq(hx_json_get_string(event, "severity"), "warning");
    }
    ck_assert_str_eq(column_text(events[0], "Connection", "string"), "10.1.0.10:40000 -> 10.1.0.20:80");
    ck_assert_str_eq(column_text(events[1], "Connection", "string"), "10.1.0.20:80 -> 10.1.0.10:40000");
    ck_assert_str_eq(column_text(events[2], "Connection", "string"), "[2001:db8::14]:443 -> [2001:db8::a]:40001");

    /* A summary per connection with retransmissions (1, 2 and 4), then
     * the capture's. */
    count = events_of(&run, "TCP Retransmit", 2, events, 32);
    ck_assert_uint_eq(count, 3);
    ck_assert_str_eq(column_text(events[0], "Connection", "string"), "10.1.0.10:40000 -> 10.1.0.20:80");
    ck_assert_uint_eq((unsigned)column_number(events[0], "Retransmissions", "uint32"), 2);
    ck_assert_uint_eq((unsigned)column_number(events[0], "Spurious retransmissions", "uint32"), 1);
    ck_assert_uint_eq((unsigned)column_number(events[0], "Retransmitted bytes", "float64"), 150);
    ck_assert_str_eq(hx_json_get_string(events[0], "severity"), "informational");
    ck_assert_uint_eq((unsigned)column_number(events[1], "Fast retransmissions", "uint32"), 1);
    count = events_of(&run, "TCP Retransmit", 3, events, 32);
    ck_assert_uint_eq(count, 1);
    ck_assert_uint_eq((unsigned)column_number(events[0], "Connections", "uint32"), 5);
    ck_assert_uint_eq((unsigned)column_number(events[0], "Retransmissions", "uint32"), expected_count);
    broker_run_free(&run);

    /* And tshark agrees on every frame and kind. */
    const char *tshark = tshark_or_skip("the tshark comparison of the synthetic capture");
    if (tshark != NULL)
        assert_retransmissions_match_tshark(tshark, path);
}
END_TEST

START_TEST(test_tcpretrans_sample_matches_tshark)
{
    /* mkpcap repeats about one data segment in 40; tshark calls each a
     * retransmission. */
    const char *tshark = tshark_or_skip("the tcpretrans comparison on the sample capture");
    if (tshark != NULL)
        assert_retransmissions_match_tshark(tshark, required_env("ES_SAMPLE_PCAP"));
}
END_TEST

/*
 * Real captures with TCP retransmissions (all those of the set in which
 * tshark finds any, found by running it over every file), and a few with
 * TCP but none.  Ethernet, and one Linux cooked capture
 * (bgp-infinite-loop.pcap, DLT_LINUX_SLL).
 */
static const char *const real_tcp_captures[] = {
    "bgp-shutdown-communication.pcapng", "kday3.pcap", "kday4.pcap", "kday7.pcap",
    "of10_inv_OFPST_FLOW.pcap", "pptp.pcap", "ssh.pcap", "bgp-infinite-loop.pcap", "mptcp-v0.pcap",
    "of10_s4810.pcap", "bgp-4byte-asn.pcap", "mptcp-v1.pcap",
};

START_TEST(test_tcpretrans_real_captures_match_tshark)
{
    const char *tshark = tshark_or_skip("the tcpretrans comparison on real captures");
    if (tshark == NULL)
        return;
    for (size_t index = 0; index < sizeof(real_tcp_captures) / sizeof(real_tcp_captures[0]); index++) {
        const char *capture = shared_capture(real_tcp_captures[index]);
        if (capture != NULL)
            assert_retransmissions_match_tshark(tshark, capture);
    }
}
END_TEST

/* ---- tcpretrans's per-connection figures against tshark -z conv,tcp ---- */

#define MAX_CONVERSATIONS 4096

struct tcp_endpoint {
    int family;              /* AF_INET or AF_INET6 */
    uint8_t address[16];
    unsigned port;
};

struct conversation {
    struct tcp_endpoint a, b;
    double frames;           /* tshark's Total Frames */
    bool matched;
};

/* "192.0.2.1:80", "2001:db8::1:443" (tshark) or "[2001:db8::1]:443" (ours). */
static bool parse_tcp_endpoint(const char *text, struct tcp_endpoint *endpoint)
{
    char address[64];
    const char *port;
    memset(endpoint, 0, sizeof(*endpoint));
    if (text[0] == '[') {
        const char *close = strstr(text, "]:");
        if (close == NULL || (size_t)(close - text - 1) >= sizeof(address))
            return false;
        snprintf(address, sizeof(address), "%.*s", (int)(close - text - 1), text + 1);
        port = close + 2;
    } else {
        const char *colon = strrchr(text, ':');
        if (colon == NULL || (size_t)(colon - text) >= sizeof(address))
            return false;
        snprintf(address, sizeof(address), "%.*s", (int)(colon - text), text);
        port = colon + 1;
    }
    if (sscanf(port, "%u", &endpoint->port) != 1)
        return false;
    if (inet_pton(AF_INET, address, endpoint->address) == 1) {
        endpoint->family = AF_INET;
        return true;
    }
    endpoint->family = AF_INET6;
    return inet_pton(AF_INET6, address, endpoint->address) == 1;
}

static bool same_endpoint(const struct tcp_endpoint *left, const struct tcp_endpoint *right)
{
    return left->family == right->family && left->port == right->port &&
           memcmp(left->address, right->address, 16) == 0;
}

/* The rows of `tshark -z conv,tcp[,filter]`: one per TCP stream, so a
 * connection whose ports were reused is a row of its own, as it is a
 * connection of its own for the expert. */
static size_t tshark_tcp_conversations(const char *tshark, const char *capture, const char *filter,
                                       struct conversation *out)
{
    char statistic[160];
    snprintf(statistic, sizeof(statistic), "conv,tcp%s%s", filter ? "," : "", filter ? filter : "");
    char *text = tshark_output(tshark, "-n", "-q", "-r", capture, "-z", statistic, NULL);
    static char *lines[MAX_CONVERSATIONS + 16];
    size_t line_count = split_lines(text, lines, sizeof(lines) / sizeof(lines[0]));
    size_t count = 0;
    for (size_t index = 0; index < line_count; index++) {
        /* A <-> B  frames bytes unit  frames bytes unit  frames bytes unit  start duration:
         * sizes are printed with a unit ("4243 bytes", "10 kB"), frames are
         * plain numbers. */
        char a[80], arrow[8], b[80], unit[3][16];
        double frames[3], bytes[3];
        if (sscanf(lines[index], "%79s %7s %79s %lf %lf %15s %lf %lf %15s %lf %lf %15s", a, arrow, b, &frames[0],
                   &bytes[0], unit[0], &frames[1], &bytes[1], unit[1], &frames[2], &bytes[2], unit[2]) != 12 ||
            strcmp(arrow, "<->") != 0)
            continue;
        ck_assert(count < MAX_CONVERSATIONS);
        ck_assert_msg(parse_tcp_endpoint(a, &out[count].a) && parse_tcp_endpoint(b, &out[count].b),
                      "tshark conversation %s <-> %s", a, b);
        out[count].frames = frames[2];
        out[count].matched = false;
        count++;
    }
    free(text);
    return count;
}

/*
 * What TCP Retransmit says of connections against tshark's conversation
 * table.  The summary's "Connections" is the number of TCP conversations
 * (streams) tshark finds.  Each per-connection event (EventIdent 2) names a
 * conversation of tshark's table, and its "Segments" (segments with data,
 * SYN or FIN, both directions) is that conversation's frame count when the
 * table is made of just those segments (`-z conv,tcp,<filter>`).  tshark's
 * bytes are frame bytes and ours payload bytes, so they are not compared
 * (docs/experts/tcpretrans.md).
 */
static void assert_connections_match_tshark_conv(const char *tshark, const char *capture)
{
    static struct conversation all[MAX_CONVERSATIONS], segments[MAX_CONVERSATIONS];
    size_t all_count = tshark_tcp_conversations(tshark, capture, NULL, all);
    size_t segment_count = tshark_tcp_conversations(
        tshark, capture, "tcp.len>0 || tcp.flags.syn==1 || tcp.flags.fin==1", segments);

    struct broker_run run;
    run_experts(&run, capture, "tcpretrans", NULL);
    const struct hx_json *summary[2];
    ck_assert_uint_eq(events_of(&run, "TCP Retransmit", 3, summary, 2), 1);
    double connections = column_number(summary[0], "Connections", "uint32");
    ck_assert_msg(connections == (double)all_count, "%s: we see %.0f TCP connections, tshark -z conv,tcp %zu",
                  capture, connections, all_count);

    static const struct hx_json *events[MAX_CONVERSATIONS];
    size_t count = events_of(&run, "TCP Retransmit", 2, events, MAX_CONVERSATIONS);
    for (size_t index = 0; index < count; index++) {
        const char *connection = column_text(events[index], "Connection", "string");
        double our_segments = column_number(events[index], "Segments", "uint32");
        char left[80];
        const char *arrow = strstr(connection, " -> ");
        ck_assert_msg(arrow != NULL && (size_t)(arrow - connection) < sizeof(left), "connection %s", connection);
        snprintf(left, sizeof(left), "%.*s", (int)(arrow - connection), connection);
        struct tcp_endpoint one, other;
        ck_assert_msg(parse_tcp_endpoint(left, &one) && parse_tcp_endpoint(arrow + 4, &other), "connection %s",
                      connection);
        /* Several rows may share the endpoints (ports reused): the first
         * unmatched one with the same figure is this connection. */
        bool found = false, endpoints_found = false;
        for (size_t row = 0; row < segment_count && !found; row++) {
            struct conversation *candidate = &segments[row];
            if (!((same_endpoint(&candidate->a, &one) && same_endpoint(&candidate->b, &other)) ||
                  (same_endpoint(&candidate->a, &other) && same_endpoint(&candidate->b, &one))))
                continue;
            endpoints_found = true;
            if (!candidate->matched && candidate->frames == our_segments)
                found = candidate->matched = true;
        }
        ck_assert_msg(endpoints_found, "%s: connection %s is not in tshark -z conv,tcp", capture, connection);
        ck_assert_msg(found, "%s: connection %s: we count %.0f segments with data, SYN or FIN; tshark's "
                             "conversation has another figure", capture, connection, our_segments);
    }
    broker_run_free(&run);
}

START_TEST(test_tcpretrans_connections_match_tshark_conv)
{
    const char *tshark = tshark_or_skip("the tcpretrans comparison with -z conv,tcp");
    if (tshark == NULL)
        return;
    assert_connections_match_tshark_conv(tshark, required_env("ES_SAMPLE_PCAP"));
    for (size_t index = 0; index < sizeof(real_tcp_captures) / sizeof(real_tcp_captures[0]); index++) {
        const char *capture = shared_capture(real_tcp_captures[index]);
        if (capture != NULL)
            assert_connections_match_tshark_conv(tshark, capture);
    }
}
END_TEST

/* tools/mkloss.sh: $ES_MKLOSS, else the one in $ES_SOURCE_DIR, else the
 * source tree's as meson knew it when building the test. */
static const char *mkloss_path(void)
{
    const char *path = getenv("ES_MKLOSS");
    const char *source = getenv("ES_SOURCE_DIR");
    if ((path == NULL || *path == '\0') && source != NULL && *source != '\0')
        path = keep(hx_path_join(source, "tools/mkloss.sh"));
#ifdef ES_MKLOSS_DEFAULT
    if (path == NULL || *path == '\0')
        path = ES_MKLOSS_DEFAULT;
#endif
    ck_assert_msg(path != NULL && access(path, R_OK) == 0, "tools/mkloss.sh not found (set ES_MKLOSS)");
    return path;
}

/* Real Linux TCP with random loss, made by tools/mkloss.sh: needs root,
 * iproute2, nftables, tcpdump, python3 and curl, and tshark to compare. */
START_TEST(test_tcpretrans_lossy_transfer_matches_tshark)
{
    const char *tshark = tshark_or_skip("the tcpretrans comparison on a lossy transfer");
    if (tshark == NULL)
        return;
    if (geteuid() != 0) {
        fprintf(stderr, "test_analysis: not root: skipping tools/mkloss.sh\n");
        return;
    }
    static const char *const tools[] = {"ip", "nft", "tcpdump", "python3", "curl", "bash"};
    for (size_t index = 0; index < sizeof(tools) / sizeof(tools[0]); index++) {
        if (find_program(tools[index]) == NULL) {
            fprintf(stderr, "test_analysis: %s is not installed: skipping tools/mkloss.sh\n", tools[index]);
            return;
        }
    }
    const char *capture = scratch_file("lossy.pcap");
    const char *argv[] = {find_program("bash"), mkloss_path(), "-o", capture, "-l", "6", "-s",
                          "1500000", "-t", "30", NULL};
    struct hx_result result;
    char status[96];
    ck_assert_msg(hx_run(argv, &result) == 0, "cannot run mkloss.sh: %s", strerror(errno));
    hx_describe_status(&result, status, sizeof(status));
    if (result.exited && result.exit_code == 77) {
        fprintf(stderr, "test_analysis: mkloss.sh cannot run here, skipped: %s", result.err);
        hx_result_free(&result);
        return;
    }
    ck_assert_msg(result.exited && result.exit_code == 0, "mkloss.sh: %s\n%s", status, result.err);
    hx_result_free(&result);

    static struct retransmission theirs[MAX_RETRANSMISSIONS];
    /* At 6 % loss over some 1000 segments the server must have
     * retransmitted; if not, the capture is not what this test needs. */
    ck_assert_msg(tshark_retransmissions(tshark, capture, theirs) > 0, "no loss in the mkloss capture");
    assert_retransmissions_match_tshark(tshark, capture);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* topusers                                                                 */
/* ------------------------------------------------------------------------ */

static unsigned udp_frame(struct capture_writer *writer, const struct host *from, const struct host *to, bool ipv6,
                          size_t payload, unsigned vlan_tags)
{
    struct packet_spec spec = {.from = from, .to = to, .ipv6 = ipv6, .vlan_tags = vlan_tags, .protocol = 17,
                               .source_port = 5000, .destination_port = 53, .payload = payload};
    uint8_t frame[2048];
    size_t length = build_packet(frame, sizeof(frame), &spec);
    return capture_frame(writer, 1000, frame, length);
}

/* The rank-ordered events of one ranking; returns how many. */
static size_t ranking(const struct broker_run *run, unsigned ident, const struct hx_json **events, size_t room)
{
    size_t count = events_of(run, "Top Users", ident, events, room);
    for (size_t index = 0; index < count; index++)
        ck_assert_uint_eq((unsigned)column_number(events[index], "Rank", "uint32"), index + 1);
    return count;
}

START_TEST(test_topusers_synthetic)
{
    const char *path = scratch_file("users.pcap");
    struct capture_writer writer;
    capture_open(&writer, path, 65535);
    struct host a = make_host(1), b = make_host(2), c = make_host(3);
    struct host broadcast;
    memset(&broadcast, 0xFF, sizeof(broadcast));

    /* A sends most frames, B most bytes; C talks IPv6 and ARP. */
    for (int index = 0; index < 3; index++)
        udp_frame(&writer, &a, &b, false, 58, 0);          /* 100 bytes each */
    udp_frame(&writer, &b, &a, false, 958, 0);             /* 1000 bytes */
    udp_frame(&writer, &c, &b, true, 138, 0);              /* 200 bytes */
    udp_frame(&writer, &c, &b, true, 138, 0);
    udp_frame(&writer, &a, &c, false, 18, 1);              /* 64 bytes, VLAN tagged */
    uint8_t arp[60] = {0};
    memcpy(arp, broadcast.mac, 6);
    memcpy(arp + 6, c.mac, 6);
    put_u16(arp + 12, 0x0806);
    capture_frame(&writer, 1000, arp, sizeof(arp));
    uint8_t runt[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};   /* no Ethernet header: not counted */
    capture_frame(&writer, 1000, runt, sizeof(runt));
    capture_close(&writer);

    struct broker_run run;
    run_experts(&run, path, "topusers", NULL);
    const struct hx_json *events[16];

    /* Ethernet senders by bytes (ident 1): B 1000, C 460, A 364. */
    size_t count = ranking(&run, 1, events, 16);
    ck_assert_uint_eq(count, 3);
    ck_assert_str_eq(column_text(events[0], "Address", "macaddr"), "02:00:00:00:00:02");
    ck_assert_uint_eq((unsigned)column_number(events[0], "Bytes", "float64"), 1000);
    ck_assert_uint_eq((unsigned)column_number(events[0], "Frames", "uint32"), 1);
    ck_assert_str_eq(column_text(events[1], "Address", "macaddr"), "02:00:00:00:00:03");
    ck_assert_uint_eq((unsigned)column_number(events[1], "Bytes", "float64"), 460);
    ck_assert_str_eq(column_text(events[2], "Address", "macaddr"), "02:00:00:00:00:01");
    ck_assert_uint_eq((unsigned)column_number(events[2], "Bytes", "float64"), 364);
    ck_assert_str_eq(column_text(events[0], "Role", "string"), "sender");
    ck_assert_str_eq(column_text(events[0], "Ranked by", "string"), "bytes");
    ck_assert_str_eq(column_text(events[0], "Family", "string"), "Ethernet");

    /* Ethernet senders by frames (ident 2): A 4, C 3, B 1. */
    count = ranking(&run, 2, events, 16);
    ck_assert_uint_eq(count, 3);
    ck_assert_str_eq(column_text(events[0], "Address", "macaddr"), "02:00:00:00:00:01");
    ck_assert_uint_eq((unsigned)column_number(events[0], "Frames", "uint32"), 4);

    /* Ethernet receivers by bytes (ident 3): B 700, A 1000 ... A first. */
    count = ranking(&run, 3, events, 16);
    ck_assert_uint_eq(count, 4);   /* A, B, C and the broadcast address */
    ck_assert_str_eq(column_text(events[0], "Address", "macaddr"), "02:00:00:00:00:01");
    ck_assert_str_eq(column_text(events[3], "Address", "macaddr"), "ff:ff:ff:ff:ff:ff");

    /* IPv4 senders by bytes (ident 5): B 1000, A 364; an IPADDR column. */
    count = ranking(&run, 5, events, 16);
    ck_assert_uint_eq(count, 2);
    ck_assert_str_eq(column_text(events[0], "Address", "ipaddr"), "10.1.0.2");
    ck_assert_str_eq(column_text(events[1], "Address", "ipaddr"), "10.1.0.1");
    ck_assert_uint_eq((unsigned)column_number(events[1], "Frames", "uint32"), 4);

    /* IPv6 receivers by frames (ident 12): B, 2 frames, 400 bytes, as text. */
    count = ranking(&run, 12, events, 16);
    ck_assert_uint_eq(count, 1);
    ck_assert_str_eq(column_text(events[0], "Address", "string"), "2001:db8::2");
    ck_assert_uint_eq((unsigned)column_number(events[0], "Frames", "uint32"), 2);
    ck_assert_uint_eq((unsigned)column_number(events[0], "Bytes", "float64"), 400);
    ck_assert(fabs(column_number(events[0], "Frames %", "float64") - 100.0) < 1e-9);

    /* One summary per family: 8 Ethernet frames (not the runt), 5 IPv4,
     * 2 IPv6. */
    count = events_of(&run, "Top Users", 13, events, 16);
    ck_assert_uint_eq(count, 3);
    ck_assert_uint_eq((unsigned)column_number(events[0], "Frames", "uint32"), 8);
    ck_assert_uint_eq((unsigned)column_number(events[0], "Addresses", "uint32"), 4);
    ck_assert_uint_eq((unsigned)column_number(events[1], "Frames", "uint32"), 5);
    ck_assert_uint_eq((unsigned)column_number(events[2], "Frames", "uint32"), 2);
    broker_run_free(&run);
}
END_TEST

/* ---- topusers against tshark -z endpoints ---- */

#define MAX_ENDPOINTS 4096

struct endpoint_counts {
    int family;              /* 0 Ethernet, 1 IPv4, 2 IPv6 */
    uint8_t address[16];
    double tx_frames, tx_bytes, rx_frames, rx_bytes;
};

static const char *const family_names[3] = {"Ethernet", "IPv4", "IPv6"};

/* Addresses compare as bytes, whatever their text form. */
static bool parse_address(int family, const char *text, uint8_t *address)
{
    memset(address, 0, 16);
    if (family == 0) {
        unsigned bytes[6];
        if (sscanf(text, "%x:%x:%x:%x:%x:%x", &bytes[0], &bytes[1], &bytes[2], &bytes[3], &bytes[4], &bytes[5]) != 6)
            return false;
        for (int index = 0; index < 6; index++)
            address[index] = (uint8_t)bytes[index];
        return true;
    }
    return inet_pton(family == 1 ? AF_INET : AF_INET6, text, address) == 1;
}

static size_t tshark_endpoints(const char *tshark, const char *capture, struct endpoint_counts *out)
{
    /* -n: addresses as numbers, not vendor or host names. */
    char *text = tshark_output(tshark, "-n", "-q", "-r", capture, "-z", "endpoints,eth", "-z", "endpoints,ip", "-z",
                               "endpoints,ipv6", NULL);
    static char *lines[3 * MAX_ENDPOINTS];
    size_t line_count = split_lines(text, lines, sizeof(lines) / sizeof(lines[0]));
    size_t count = 0;
    int family = -1;
    for (size_t index = 0; index < line_count; index++) {
        const char *line = lines[index];
        if (strncmp(line, "Ethernet Endpoints", 18) == 0)
            family = 0;
        else if (strncmp(line, "IPv4 Endpoints", 14) == 0)
            family = 1;
        else if (strncmp(line, "IPv6 Endpoints", 14) == 0)
            family = 2;
        char address[64];
        double frames, bytes, tx_frames, tx_bytes, rx_frames, rx_bytes;
        if (family < 0 || line[0] == ' ' || line[0] == '=' ||
            sscanf(line, "%63s %lf %lf %lf %lf %lf %lf", address, &frames, &bytes, &tx_frames, &tx_bytes,
                   &rx_frames, &rx_bytes) != 7)
            continue;
        ck_assert(count < MAX_ENDPOINTS);
        ck_assert_msg(parse_address(family, address, out[count].address), "tshark address %s", address);
        out[count].family = family;
        out[count].tx_frames = tx_frames;
        out[count].tx_bytes = tx_bytes;
        out[count].rx_frames = rx_frames;
        out[count].rx_bytes = rx_bytes;
        count++;
    }
    free(text);
    return count;
}

/* (primary, secondary) of an endpoint for a role and a metric. */
static void ranking_key(const struct endpoint_counts *endpoint, int role, int metric, double *primary,
                        double *secondary)
{
    double frames = role == 0 ? endpoint->tx_frames : endpoint->rx_frames;
    double bytes = role == 0 ? endpoint->tx_bytes : endpoint->rx_bytes;
    *primary = metric == 0 ? bytes : frames;
    *secondary = metric == 0 ? frames : bytes;
}

/*
 * Each of our ranking events names an address with exactly tshark's Tx (for
 * senders) or Rx (for receivers) frames and bytes, and each ranking holds
 * the ten largest values tshark's table has, in order.  Values, not
 * addresses, are compared for the order: ties may be broken differently.
 */
static void assert_endpoints_match_tshark(const char *tshark, const char *capture)
{
    static struct endpoint_counts theirs[MAX_ENDPOINTS];
    size_t their_count = tshark_endpoints(tshark, capture, theirs);
    struct broker_run run;
    run_experts(&run, capture, "topusers", NULL);

    for (unsigned ident = 1; ident <= 12; ident++) {
        int family = (int)(ident - 1) / 4, role = (int)((ident - 1) / 2) % 2, metric = (int)(ident - 1) % 2;
        const struct hx_json *events[16];
        size_t count = ranking(&run, ident, events, 16);

        /* The expected values: tshark's top ten for this ranking. */
        double expected[10][2];
        size_t expected_count = 0;
        for (size_t index = 0; index < their_count; index++) {
            double primary, secondary;
            ranking_key(&theirs[index], role, metric, &primary, &secondary);
            if (theirs[index].family != family || (role == 0 ? theirs[index].tx_frames : theirs[index].rx_frames) == 0)
                continue;
            size_t slot = expected_count < 10 ? expected_count++ : 10;
            while (slot > 0 && (primary > expected[slot - 1][0] ||
                                (primary == expected[slot - 1][0] && secondary > expected[slot - 1][1]))) {
                if (slot < 10) {
                    expected[slot][0] = expected[slot - 1][0];
                    expected[slot][1] = expected[slot - 1][1];
                }
                slot--;
            }
            if (slot < 10) {
                expected[slot][0] = primary;
                expected[slot][1] = secondary;
            }
        }
        ck_assert_msg(count == expected_count, "%s: %s ranking %u has %zu entries, tshark %zu", capture,
                      family_names[family], ident, count, expected_count);

        for (size_t rank = 0; rank < count; rank++) {
            const char *type = family == 0 ? "macaddr" : family == 1 ? "ipaddr" : "string";
            const char *text = column_text(events[rank], "Address", type);
            uint8_t address[16];
            ck_assert_msg(parse_address(family, text, address), "our address %s", text);
            const struct endpoint_counts *match = NULL;
            for (size_t index = 0; index < their_count && match == NULL; index++) {
                if (theirs[index].family == family && memcmp(theirs[index].address, address, 16) == 0)
                    match = &theirs[index];
            }
            ck_assert_msg(match != NULL, "%s: %s %s is not among tshark's endpoints", capture,
                          family_names[family], text);
            double primary, secondary;
            ranking_key(match, role, metric, &primary, &secondary);
            double frames = column_number(events[rank], "Frames", "uint32");
            double bytes = column_number(events[rank], "Bytes", "float64");
            ck_assert_msg(frames == (metric == 0 ? secondary : primary) && bytes == (metric == 0 ? primary : secondary),
                          "%s: %s %s as %s: %.0f frames, %.0f bytes; tshark %.0f, %.0f", capture,
                          family_names[family], text, role == 0 ? "sender" : "receiver", frames, bytes,
                          metric == 0 ? secondary : primary, metric == 0 ? primary : secondary);
            ck_assert_msg(primary == expected[rank][0] && secondary == expected[rank][1],
                          "%s: %s ranking %u, rank %zu: %.0f/%.0f, tshark's %.0f/%.0f", capture,
                          family_names[family], ident, rank + 1, primary, secondary, expected[rank][0],
                          expected[rank][1]);
        }
    }
    broker_run_free(&run);
}

START_TEST(test_topusers_sample_matches_tshark)
{
    const char *tshark = tshark_or_skip("the topusers comparison on the sample capture");
    if (tshark != NULL)
        assert_endpoints_match_tshark(tshark, required_env("ES_SAMPLE_PCAP"));
}
END_TEST

/*
 * Real captures: plain Ethernet/IPv4/IPv6 traffic, VLAN tags, IPv6
 * extension headers, frames cut by the snapshot length, TSO-sized
 * datagrams; and the other link types the parser reads: Linux cooked, BSD
 * loopback, raw IP (one of them raw "IPv4" holding IPv6).  Tunnelled
 * traffic is not among them: tshark counts the inner addresses too (IP in
 * IP, GRE, VXLAN, Geneve, MPLS, MACsec...), the expert only the outermost
 * ones (docs/experts/topusers.md).
 */
static const char *const endpoint_captures[] = {
    "kday4.pcap", "pptp.pcap", "ssh.pcap", "802.1ad_QinQ.pcap", "ipv6-routing-header.pcap",
    "bigtcp-ipv6-hbh.pcap", "bigtcp-ipv6.pcap", "gso-ipv6.pcap", "ipv6_missing_jumbo_payload_option.pcap",
    "mptcp-v0.pcap", "resp_3_malicious.pcap", "babel.pcap", "ikev2four.pcap", "LINKTYPE_RAW_ipv6.pcap",
    "LINKTYPE_IPV4_invalid.pcap", "babel_rtt.pcap",
};

START_TEST(test_topusers_real_captures_match_tshark)
{
    const char *tshark = tshark_or_skip("the topusers comparison on real captures");
    if (tshark == NULL)
        return;
    for (size_t index = 0; index < sizeof(endpoint_captures) / sizeof(endpoint_captures[0]); index++) {
        const char *capture = shared_capture(endpoint_captures[index]);
        if (capture != NULL)
            assert_endpoints_match_tshark(tshark, capture);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* protodist against tshark -z io,phs                                       */
/* ------------------------------------------------------------------------ */

/*
 * The protocols whose meaning is the same on both sides: our (level,
 * protocol) and tshark's protocol hierarchy name.  Port-level services are
 * not among them: tshark names applications by dissecting payloads and by
 * heuristics, we by port numbers (docs/experts/protodist.md).
 */
static const struct {
    const char *level, *protocol, *tshark;
} comparable_protocols[] = {
    {"link", "Ethernet", "eth"},         {"link", "Linux cooked", "sll"},
    {"link", "Linux cooked v2", "sll"},  {"link", "BSD loopback", "null"},
    {"link", "Raw IP", "raw"},           {"link", "PPP", "ppp"},
    {"link", "Cisco HDLC", "chdlc"},     {"link", "802.11 radiotap", "radiotap"},
    {"link", "Frame Relay", "fr"},       {"link", "IPNET", "ipnet"},
    {"network", "802.1Q VLAN", "vlan"},  {"network", "802.1ad QinQ", "ieee8021ad"},
    {"network", "ARP", "arp"},           {"network", "RARP", "arp"},
    {"network", "IPv4", "ip"},
    {"network", "IPv6", "ipv6"},         {"ip", "TCP", "tcp"},
    {"ip", "UDP", "udp"},                {"ip", "ICMP", "icmp"},
    {"ip", "ICMPv6", "icmpv6"},
};

#define COMPARABLE_COUNT (sizeof(comparable_protocols) / sizeof(comparable_protocols[0]))

/* tshark's hierarchy nodes the expert looks through: link headers (802.11's
 * radio information, MAC header and LLC among them), VLAN tags and the
 * (outermost) IP header.  tshark's NFLOG dissector adds no node of its own:
 * the IP header is at the top of its hierarchy, and NFLOG is compared there. */
static bool is_carrier(const char *name)
{
    static const char *const carriers[] = {"eth",  "sll", "null", "raw",   "ppp",  "chdlc",      "radiotap",
                                           "wlan_radio", "wlan", "llc", "fr", "ipnet", "vlan", "ieee8021ad",
                                           "ip",   "ipv6"};
    for (size_t index = 0; index < sizeof(carriers) / sizeof(carriers[0]); index++) {
        if (strcmp(name, carriers[index]) == 0)
            return true;
    }
    return false;
}

static bool is_ip_name(const char *name)
{
    return strcmp(name, "ip") == 0 || strcmp(name, "ipv6") == 0;
}

struct distribution_counts {
    double frames[COMPARABLE_COUNT];
    double bytes[COMPARABLE_COUNT];
};

static size_t comparable_by_tshark_name(const char *name)
{
    for (size_t index = 0; index < COMPARABLE_COUNT; index++) {
        if (strcmp(comparable_protocols[index].tshark, name) == 0)
            return index;
    }
    return COMPARABLE_COUNT;
}

static void add_tshark_count(struct distribution_counts *counts, const char *name, double frames, double bytes)
{
    size_t index = comparable_by_tshark_name(name);
    if (index < COMPARABLE_COUNT) {
        counts->frames[index] += frames;
        counts->bytes[index] += bytes;
    }
}

/*
 * tshark's figures in the expert's terms.  `-z io,phs` counts a frame under
 * every path of protocols it holds; the expert looks only at the outermost
 * packet, so a node counts when all its ancestors are link, VLAN or IP nodes,
 * at most one of them IP and that one its parent, and only at the node's
 * topmost occurrence (two 802.1Q tags are one VLAN frame).  Reassembly is
 * off, so a fragmented datagram's transport shows on its first fragment, as
 * ours does; later fragments hold no transport header, but the expert counts
 * them at the ip level by their protocol number, so tshark's later
 * fragments are added by ip.proto / the fragment header's next header.
 */
static void tshark_distribution(const char *tshark, const char *capture, struct distribution_counts *out)
{
    memset(out, 0, sizeof(*out));
    char *text = tshark_output(tshark, "-n", "-q", "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
                               "-r", capture, "-z", "io,phs", NULL);
    static char *lines[4096];
    size_t line_count = split_lines(text, lines, sizeof(lines) / sizeof(lines[0]));
    char path[32][48];
    for (size_t index = 0; index < line_count; index++) {
        const char *line = lines[index];
        size_t indent = strspn(line, " ");
        char name[48];
        double frames, bytes;
        if (sscanf(line + indent, "%47s frames:%lf bytes:%lf", name, &frames, &bytes) != 3)
            continue;
        size_t depth = indent / 2;
        ck_assert_msg(depth < 32, "%s: protocol hierarchy deeper than 32", capture);
        snprintf(path[depth], sizeof(path[depth]), "%s", name);
        bool counted = true;
        for (size_t above = 0; above < depth && counted; above++) {
            counted = is_carrier(path[above]) && strcmp(path[above], name) != 0 &&
                      (above + 1 == depth || !is_ip_name(path[above]));
        }
        if (counted && depth > 0 && is_ip_name(name) && is_ip_name(path[depth - 1]))
            counted = false;   /* IP in IP: a tunnel, counted as its carrier */
        if (counted)
            add_tshark_count(out, name, frames, bytes);
    }
    free(text);

    text = tshark_output(tshark, "-n", "-r", capture, "-Y", "ip.frag_offset > 0 || ipv6.fraghdr.offset > 0", "-T",
                         "fields", "-E", "occurrence=f", "-e", "frame.len", "-e", "ip.proto", "-e",
                         "ipv6.fraghdr.nxt", NULL);
    line_count = split_lines(text, lines, sizeof(lines) / sizeof(lines[0]));
    for (size_t index = 0; index < line_count; index++) {
        double length;
        unsigned protocol = 0;
        char *tab = strchr(lines[index], '\t');
        if (sscanf(lines[index], "%lf", &length) != 1 || tab == NULL)
            continue;
        if (sscanf(tab + 1, "%u", &protocol) != 1 && (tab = strchr(tab + 1, '\t')) != NULL)
            sscanf(tab + 1, "%u", &protocol);
        const char *known = protocol == 6 ? "tcp" : protocol == 17 ? "udp" : protocol == 1 ? "icmp"
                          : protocol == 58 ? "icmpv6" : NULL;
        /* Copied to a buffer as large as the hierarchy's names: gcc -O3
         * otherwise warns that a short literal never equals a long one. */
        char name[48];
        if (known != NULL) {
            snprintf(name, sizeof(name), "%s", known);
            add_tshark_count(out, name, 1, length);
        }
    }
    free(text);
}

static void our_distribution(const struct broker_run *run, struct distribution_counts *out)
{
    memset(out, 0, sizeof(*out));
    static const struct hx_json *events[1024];
    size_t count = events_of(run, "Protocol Distribution", 1, events, 1024);
    for (size_t event = 0; event < count; event++) {
        const char *level = column_text(events[event], "Level", "string");
        const char *protocol = column_text(events[event], "Protocol", "string");
        for (size_t index = 0; index < COMPARABLE_COUNT; index++) {
            if (strcmp(level, comparable_protocols[index].level) == 0 &&
                strcmp(protocol, comparable_protocols[index].protocol) == 0) {
                out->frames[index] += column_number(events[event], "Frames", "uint32");
                out->bytes[index] += column_number(events[event], "Bytes", "float64");
            }
        }
    }
}

/*
 * Where tshark's dissection legitimately differs, each case spelled out:
 * the capture, the tshark protocol, our figures and tshark's.  Every other
 * comparable protocol of these captures must still agree, and these must
 * differ exactly so (docs/experts/protodist.md, "Compared with tshark").
 */
static const struct known_difference {
    const char *capture, *tshark;
    double our_frames, our_bytes, their_frames, their_bytes;
} known_differences[] = {
    /* DLT_IPV6 carrying an IPv4 packet: tshark believes the link type, the
     * host and the expert the version nibble. */
    {"LINKTYPE_IPV6_invalid.pcap", "ip", 1, 57, 0, 0},
    {"LINKTYPE_IPV6_invalid.pcap", "ipv6", 0, 0, 1, 57},
    {"LINKTYPE_IPV6_invalid.pcap", "udp", 1, 57, 0, 0},
    /* IPv6 payload length 0 without a Jumbo Payload option (a BIG TCP
     * packet captured before the option is added): tshark stops at the IPv6
     * header, the host still finds the TCP header behind it. */
    {"bigtcp-ipv6.pcap", "tcp", 1, 80054, 0, 0},
    /* test_protodist_synthetic_links: a 10-byte frame, shorter than the
     * SLL2 header, is a frame of its capture's link type to the expert (the
     * link level always counts every frame); tshark counts it only as
     * malformed. */
    {"sll2.pcap", "sll", 4, 198, 3, 188},
};

static void assert_distribution_matches_tshark(const char *tshark, const char *capture)
{
    struct distribution_counts ours, theirs;
    struct broker_run run;
    run_experts(&run, capture, "protodist", NULL);
    our_distribution(&run, &ours);
    broker_run_free(&run);
    tshark_distribution(tshark, capture, &theirs);

    const char *base = strrchr(capture, '/') ? strrchr(capture, '/') + 1 : capture;
    for (size_t index = 0; index < COMPARABLE_COUNT; index++) {
        const char *name = comparable_protocols[index].tshark;
        /* Two of our names map to "sll": compare each tshark name once. */
        if (comparable_by_tshark_name(name) != index)
            continue;
        double our_frames = ours.frames[index], our_bytes = ours.bytes[index];
        for (size_t other = index + 1; other < COMPARABLE_COUNT; other++) {
            if (strcmp(comparable_protocols[other].tshark, name) == 0) {
                our_frames += ours.frames[other];
                our_bytes += ours.bytes[other];
            }
        }
        double want_frames = theirs.frames[index], want_bytes = theirs.bytes[index];
        for (size_t known = 0; known < sizeof(known_differences) / sizeof(known_differences[0]); known++) {
            const struct known_difference *difference = &known_differences[known];
            if (strcmp(difference->capture, base) != 0 || strcmp(difference->tshark, name) != 0)
                continue;
            ck_assert_msg(want_frames == difference->their_frames && want_bytes == difference->their_bytes,
                          "%s: %s: tshark now says %.0f frames, %.0f bytes; the known difference expects "
                          "%.0f, %.0f",
                          base, name, want_frames, want_bytes, difference->their_frames, difference->their_bytes);
            want_frames = difference->our_frames;
            want_bytes = difference->our_bytes;
        }
        ck_assert_msg(our_frames == want_frames && our_bytes == want_bytes,
                      "%s: %s: we count %.0f frames, %.0f bytes; expected %.0f, %.0f (tshark -z io,phs: %.0f, %.0f)",
                      base, name, our_frames, our_bytes, want_frames, want_bytes, theirs.frames[index],
                      theirs.bytes[index]);
    }
}

/* The figure of one (level, protocol) in protodist's events; 0 if absent. */
static double distribution_frames(const struct broker_run *run, const char *level, const char *protocol,
                                  size_t *events_seen)
{
    static const struct hx_json *events[1024];
    size_t count = events_of(run, "Protocol Distribution", 1, events, 1024);
    *events_seen = count;
    for (size_t index = 0; index < count; index++) {
        if (strcmp(column_text(events[index], "Level", "string"), level) == 0 &&
            strcmp(column_text(events[index], "Protocol", "string"), protocol) == 0)
            return column_number(events[index], "Frames", "uint32");
    }
    return 0;
}

/*
 * Linux cooked v2 (LINKTYPE_LINUX_SLL2), which tcpdump's collection lacks,
 * and a link type the host does not parse (LINKTYPE_USER0), written here
 * with every expected count spelled out; the SLL2 capture is also compared
 * with tshark.
 */
START_TEST(test_protodist_synthetic_links)
{
    const char *sll2_path = scratch_file("sll2.pcap");
    struct capture_writer writer;
    capture_open_link(&writer, sll2_path, 65535, 276);
    struct host a = make_host(1), b = make_host(2);
    uint8_t ethernet[256], frame[256];
    struct packet_spec spec = {.from = &a, .to = &b, .protocol = 6, .source_port = 40000, .destination_port = 443,
                               .seq = 1, .ack = 1, .flags = TCP_ACK, .window = 100, .payload = 10};
    /* An SLL2 header: protocol, reserved, interface index, ARPHRD_ETHER,
     * packet type, address length 6, the address padded to 8. */
    uint8_t header[20] = {0x08, 0x00, 0, 0, 0, 0, 0, 2, 0x00, 0x01, 4, 6, 2, 0, 0, 0, 0, 1, 0, 0};
    size_t length = build_packet(ethernet, sizeof(ethernet), &spec);
    memcpy(frame, header, 20);
    memcpy(frame + 20, ethernet + 14, length - 14);
    capture_frame(&writer, 1000, frame, length - 14 + 20);            /* IPv4 TCP 443 */
    spec.ipv6 = true;
    spec.protocol = 17;
    spec.source_port = 5000;
    spec.destination_port = 53;
    length = build_packet(ethernet, sizeof(ethernet), &spec);
    put_u16(frame, 0x86DD);
    memcpy(frame + 20, ethernet + 14, length - 14);
    capture_frame(&writer, 1000, frame, length - 14 + 20);            /* IPv6 UDP 53 */
    put_u16(frame, 0x0004);                                           /* ETH_P_802_2: LLC */
    memset(frame + 20, 0x42, 20);
    capture_frame(&writer, 1000, frame, 40);
    capture_frame(&writer, 1000, frame, 10);                          /* cut inside the header */
    capture_close(&writer);

    struct broker_run run;
    run_experts(&run, sll2_path, "protodist", NULL);
    static const struct {
        const char *level, *protocol;
        double frames;
    } expected[] = {
        {"link", "Linux cooked v2", 4}, {"network", "IPv4", 1}, {"network", "IPv6", 1},
        {"network", "Linux cooked protocol 0x0004", 1}, {"network", "Truncated link header", 1},
        {"ip", "TCP", 1}, {"ip", "UDP", 1}, {"port", "HTTPS", 1}, {"port", "DNS", 1},
    };
    size_t events_seen = 0;
    for (size_t index = 0; index < sizeof(expected) / sizeof(expected[0]); index++) {
        double frames = distribution_frames(&run, expected[index].level, expected[index].protocol, &events_seen);
        ck_assert_msg(frames == expected[index].frames, "SLL2: %s %s: %.0f frames, expected %.0f",
                      expected[index].level, expected[index].protocol, frames, expected[index].frames);
    }
    ck_assert_uint_eq(events_seen, sizeof(expected) / sizeof(expected[0]));
    broker_run_free(&run);

    const char *tshark = tshark_or_skip("the protodist comparison on a Linux cooked v2 capture");
    if (tshark != NULL)
        assert_distribution_matches_tshark(tshark, sll2_path);

    /* LINKTYPE_USER0 (147) holding what would parse as Ethernet/IPv4: the
     * frames count under their link type and nowhere else. */
    const char *user_path = scratch_file("user0.pcap");
    capture_open_link(&writer, user_path, 65535, 147);
    spec.ipv6 = false;
    length = build_packet(ethernet, sizeof(ethernet), &spec);
    for (int index = 0; index < 3; index++)
        capture_frame(&writer, 1000, ethernet, length);
    capture_close(&writer);
    run_experts(&run, user_path, "protodist", NULL);
    ck_assert_int_eq((int)distribution_frames(&run, "link", "Link type 147 (not parsed)", &events_seen), 3);
    ck_assert_uint_eq(events_seen, 1);
    broker_run_free(&run);
}
END_TEST

START_TEST(test_protodist_sample_matches_tshark)
{
    const char *tshark = tshark_or_skip("the protodist comparison on the sample capture");
    if (tshark != NULL)
        assert_distribution_matches_tshark(tshark, required_env("ES_SAMPLE_PCAP"));
}
END_TEST

/*
 * Real captures of every link type the host parses and tcpdump's
 * collection has: Ethernet (with 802.1Q and 802.1ad tags, IPv6 routing and
 * hop-by-hop headers, IP fragments, ARP), Linux cooked (SLL; the collection
 * has no SLL2), BSD loopback, raw IP (LINKTYPE_RAW, LINKTYPE_IPV4 and
 * LINKTYPE_IPV6, one "IPv4" capture holding IPv6), PPP (with and without
 * address and control, protocol field compressed, PPP_SERIAL), Cisco HDLC
 * (IP, SLARP, CDP), 802.11 with radiotap (data through LLC/SNAP, management,
 * control), Frame Relay, NFLOG and IPNET; and the named differences above.
 */
static const char *const distribution_captures[] = {
    "kday4.pcap", "ssh.pcap", "802.1ad_QinQ.pcap", "arista_ether.pcap", "MSTP_Intra-Region_BPDUs.pcap",
    "ipv6-routing-header.pcap", "ipv6-srh-ext-header.pcap", "bigtcp-ipv6-hbh.pcap", "afs.pcap",
    "babel.pcap", "mptcp-v1.pcap", "resp_3_malicious.pcap", "forces2.pcap",
    "ikev2four.pcap", "quic_handshake.pcap", "icmpv6-RFC2894-RR.pcap", "dns-badcookie.pcap",
    "babel_rtt.pcap", "LINKTYPE_RAW_ipv6.pcap", "LINKTYPE_IPV4.pcap", "LINKTYPE_IPV6.pcap",
    "LINKTYPE_IPV4_invalid.pcap", "ipv6_mobility_1.pcap",
    "LINKTYPE_IPV6_invalid.pcap", "bigtcp-ipv6.pcap", "ppp_ip_udp_dns.pcap", "bgp_vpn_attrset.pcap",
    "lspping-fec-ldp.pcap", "ppp-invalid-lengths.pcap", "mlppp-oobr.pcap", "HDLC.pcap",
    "ieee802.11_htc.pcap", "ieee802.11_exthdr.pcap", "OSPFv3_NBMA_adjacencies.pcap", "nflog.pcap",
    "e1000g.pcap",
};

START_TEST(test_protodist_real_captures_match_tshark)
{
    const char *tshark = tshark_or_skip("the protodist comparison on real captures");
    if (tshark == NULL)
        return;
    for (size_t index = 0; index < sizeof(distribution_captures) / sizeof(distribution_captures[0]); index++) {
        const char *capture = shared_capture(distribution_captures[index]);
        if (capture != NULL)
            assert_distribution_matches_tshark(tshark, capture);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* resptime                                                                 */
/* ------------------------------------------------------------------------ */

/* The event of the server with this port; fails if there is none. */
static const struct hx_json *server_event(const struct broker_run *run, unsigned port)
{
    const struct hx_json *events[64];
    size_t count = events_of(run, "Average Server Response Time", 1, events, 64);
    for (size_t index = 0; index < count; index++) {
        if ((unsigned)column_number(events[index], "Port", "uint16") == port)
            return events[index];
    }
    ck_abort_msg("no server with port %u:\n%s", port, run->result.out);
    return NULL;
}

static void assert_close(double got, double want, const char *what)
{
    ck_assert_msg(fabs(got - want) < 1e-9, "%s: got %.9f, want %.9f", what, got, want);
}

START_TEST(test_resptime_synthetic)
{
    const char *path = scratch_file("resp.pcap");
    struct capture_writer writer;
    capture_open(&writer, path, 65535);
    struct host client = make_host(10), server = make_host(20), other = make_host(30);

    /* The server listens on a high port and the client has port 80: the
     * handshake, not the ports, says who is the server. */
    struct connection web = {&writer, &client, &server, 80, 50000, 100, 200, false, 0, false};
    handshake(&web, 1000);
    segment(&web, true, 1000, TCP_PSH | TCP_ACK, 1, 1, 100);             /* request 1 */
    segment(&web, false, 250000, TCP_PSH | TCP_ACK, 1, 101, 500);        /* 0.25 s later */
    segment(&web, false, 1000, TCP_PSH | TCP_ACK, 501, 101, 500);        /* more of the answer */
    segment(&web, true, 1000000, TCP_PSH | TCP_ACK, 101, 1001, 100);      /* request 2, first part */
    segment(&web, true, 100000, TCP_PSH | TCP_ACK, 201, 1001, 100);      /* ... last part */
    segment(&web, true, 200000, TCP_PSH | TCP_ACK, 201, 1001, 100);      /* retransmitted: no new request */
    unsigned slowest = segment(&web, false, 300000, TCP_PSH | TCP_ACK, 1001, 301, 10); /* 0.5 s after 201 */
    segment(&web, false, 1000, TCP_PSH | TCP_ACK, 1001, 301, 10);       /* a repeat: not a response */

    /* Mid-stream, no handshake: the well-known port is the server's. */
    struct connection tls = {&writer, &client, &other, 51515, 443, 1000, 2000, false, 0, false};
    segment(&tls, true, 1000, TCP_PSH | TCP_ACK, 1, 1, 50);
    segment(&tls, false, 100000, TCP_PSH | TCP_ACK, 1, 51, 50);

    /* No handshake, both ports high: the lower one is the server's. */
    struct connection alt = {&writer, &client, &other, 40000, 8443, 3000, 4000, true, 0, false};
    segment(&alt, false, 1000, TCP_PSH | TCP_ACK, 1, 1, 20);            /* the server speaks first: no request */
    segment(&alt, true, 1000, TCP_PSH | TCP_ACK, 1, 21, 50);
    segment(&alt, false, 200000, TCP_PSH | TCP_ACK, 21, 51, 50);

    /* Equal ports and no handshake: no way to tell, not measured. */
    struct connection peer = {&writer, &server, &other, 7000, 7000, 5000, 6000, false, 0, false};
    segment(&peer, true, 1000, TCP_PSH | TCP_ACK, 1, 1, 50);
    segment(&peer, false, 100000, TCP_PSH | TCP_ACK, 1, 51, 50);
    capture_close(&writer);

    struct broker_run run;
    run_experts(&run, path, "resptime", NULL);
    const struct hx_json *events[8];
    ck_assert_uint_eq(events_of(&run, "Average Server Response Time", 1, events, 8), 3);
    /* Slowest average first. */
    ck_assert_uint_eq((unsigned)column_number(events[0], "Port", "uint16"), 50000);

    const struct hx_json *web_server = server_event(&run, 50000);
    ck_assert_str_eq(column_text(web_server, "Server", "ipaddr"), "10.1.0.20");
    ck_assert_uint_eq((unsigned)column_number(web_server, "Requests", "uint32"), 2);
    assert_close(column_number(web_server, "Average (s)", "float64"), 0.375, "average");
    assert_close(column_number(web_server, "Minimum (s)", "float64"), 0.25, "minimum");
    assert_close(column_number(web_server, "Maximum (s)", "float64"), 0.5, "maximum");
    ck_assert_uint_eq((unsigned)column_number(web_server, "Connections", "uint32"), 1);
    ck_assert_uint_eq((unsigned)column_number(web_server, "Slowest response frame", "frame"), slowest);

    const struct hx_json *tls_server = server_event(&run, 443);
    ck_assert_str_eq(column_text(tls_server, "Server", "ipaddr"), "10.1.0.30");
    assert_close(column_number(tls_server, "Average (s)", "float64"), 0.1, "443 average");

    const struct hx_json *alt_server = server_event(&run, 8443);
    ck_assert_str_eq(column_text(alt_server, "Server", "string"), "2001:db8::1e");
    ck_assert_uint_eq((unsigned)column_number(alt_server, "Requests", "uint32"), 1);
    assert_close(column_number(alt_server, "Average (s)", "float64"), 0.2, "8443 average");

    ck_assert_uint_eq(events_of(&run, "Average Server Response Time", 2, events, 8), 1);
    ck_assert_uint_eq((unsigned)column_number(events[0], "Servers", "uint32"), 3);
    ck_assert_uint_eq((unsigned)column_number(events[0], "Requests", "uint32"), 4);
    broker_run_free(&run);
}
END_TEST

/*
 * On the sample capture, every HTTP exchange is one GET in one segment,
 * answered before the next: the expert's time for a port-80 server is then
 * exactly what tshark calls http.time (request frame to the response's
 * first frame, with body reassembly off so that the response is dissected
 * in its first frame).  Other protocols have no tshark counterpart.
 */
START_TEST(test_resptime_sample_matches_http_time)
{
    const char *tshark = tshark_or_skip("the resptime comparison with http.time");
    if (tshark == NULL)
        return;
    const char *capture = required_env("ES_SAMPLE_PCAP");
    char *text = tshark_output(tshark, "-n", "-r", capture, "-o", "http.desegment_body:FALSE", "-Y",
                               "http.response && tcp.srcport == 80", "-T", "fields", "-e", "ip.src", "-e",
                               "ipv6.src", "-e", "http.time", NULL);
    struct broker_run run;
    run_experts(&run, capture, "resptime", NULL);
    const struct hx_json *events[64];
    size_t count = events_of(&run, "Average Server Response Time", 1, events, 64);
    size_t compared = 0;
    for (size_t index = 0; index < count; index++) {
        if ((unsigned)column_number(events[index], "Port", "uint16") != 80)
            continue;
        const struct hx_json *server = column_any(events[index], "Server");
        ck_assert_msg(server != NULL && server->type == HX_JSON_STRING, "a server without an address");
        const char *address = server->string;
        double total = 0, minimum = INFINITY, maximum = 0;
        unsigned responses = 0;
        char *copy = strdup(text);
        static char *lines[4096];
        size_t line_count = split_lines(copy, lines, 4096);
        for (size_t line = 0; line < line_count; line++) {
            char source4[64] = "", source6[64] = "";
            double seconds;
            /* ip.src<TAB>ipv6.src<TAB>http.time, one of the first two empty */
            if (sscanf(lines[line], "%63[^\t]\t\t%lf", source4, &seconds) != 2 &&
                sscanf(lines[line], "\t%63[^\t]\t%lf", source6, &seconds) != 2)
                continue;
            if (strcmp(source4[0] ? source4 : source6, address) != 0)
                continue;
            responses++;
            total += seconds;
            minimum = seconds < minimum ? seconds : minimum;
            maximum = seconds > maximum ? seconds : maximum;
        }
        free(copy);
        ck_assert_msg(responses > 0, "tshark has no HTTP responses from %s", address);
        ck_assert_uint_eq((unsigned)column_number(events[index], "Requests", "uint32"), responses);
        assert_close(column_number(events[index], "Average (s)", "float64"), total / responses, address);
        assert_close(column_number(events[index], "Minimum (s)", "float64"), minimum, address);
        assert_close(column_number(events[index], "Maximum (s)", "float64"), maximum, address);
        compared++;
    }
    free(text);
    ck_assert_msg(compared > 0, "no HTTP server in the sample capture's results");
    broker_run_free(&run);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Malformed frames and the whole capture collection                        */
/* ------------------------------------------------------------------------ */

/* Frames cut inside every header the parser reads, headers whose lengths
 * lie, and random bytes: every expert must finish, and nothing in them may
 * look like a TCP retransmission or a timed response. */
START_TEST(test_malformed_frames)
{
    const char *path = scratch_file("garbage.pcap");
    struct capture_writer writer;
    capture_open(&writer, path, 65535);
    struct host a = make_host(1), b = make_host(2);
    struct packet_spec spec = {.from = &a, .to = &b, .protocol = 6, .source_port = 1, .destination_port = 2,
                               .seq = 1, .ack = 1, .flags = TCP_ACK, .window = 1, .payload = 40};
    uint8_t good4[256], good6[256], frame[256];
    size_t length4 = build_packet(good4, sizeof(good4), &spec);
    spec.ipv6 = true;
    spec.vlan_tags = 2;
    spec.hop_by_hop = true;
    size_t length6 = build_packet(good6, sizeof(good6), &spec);

    /* Every prefix of a good IPv4 and a good IPv6 (two tags, hop-by-hop)
     * TCP frame, twice, so that cut-off repeats could look retransmitted. */
    for (int round = 0; round < 2; round++) {
        for (size_t cut = 1; cut < length4; cut++)
            capture_frame(&writer, 1000, good4, cut);
        for (size_t cut = 1; cut < length6; cut++)
            capture_frame(&writer, 1000, good6, cut);
    }
    /* Lying lengths: IPv4 header length 0 and 60, total length below the
     * header, TCP data offset 0 and 15, IPv6 hop-by-hop running past the
     * frame; and an unknown EtherType in front of VLAN-tagged IPv6. */
    static const struct {
        size_t offset;
        uint8_t value;
        bool ipv6;
    } lies[] = {
        {14, 0x40, false}, {14, 0x4F, false}, {17, 10, false}, {16, 0, false},
        {46, 0x00, false}, {46, 0xF0, false}, {63, 200, true}, {12, 0x81, true},
    };
    for (int round = 0; round < 2; round++) {
        for (size_t index = 0; index < sizeof(lies) / sizeof(lies[0]); index++) {
            size_t length = lies[index].ipv6 ? length6 : length4;
            memcpy(frame, lies[index].ipv6 ? good6 : good4, length);
            frame[lies[index].offset] = lies[index].value;
            capture_frame(&writer, 1000, frame, length);
        }
    }
    /* Random bytes, deterministic, behind a plausible Ethernet header. */
    uint32_t random_state = 12345;
    for (int index = 0; index < 400; index++) {
        size_t length = 14 + index % 120;
        for (size_t byte = 0; byte < length; byte++) {
            random_state = random_state * 1103515245u + 12345u;
            frame[byte] = (uint8_t)(random_state >> 16);
        }
        put_u16(frame + 12, index % 3 == 0 ? 0x0800 : index % 3 == 1 ? 0x86DD : 0x8100);
        if (index % 2 == 0)
            frame[14] = index % 4 == 0 ? 0x45 : 0x60;
        capture_frame(&writer, 1000, frame, length);
    }
    capture_close(&writer);

    struct broker_run run;
    run_experts(&run, path, "tcpretrans", "topusers", "resptime", "protodist", NULL);
    /* Each expert finishes with its summaries.  (The cut-off copies that
     * still hold a whole TCP header are whole segments to TCP analysis,
     * tshark's too, so repeats among them may be reported: that is not
     * asserted either way.) */
    const struct hx_json *events[512];
    ck_assert_uint_eq(events_of(&run, "TCP Retransmit", 3, events, 512), 1);
    ck_assert_uint_eq(events_of(&run, "Top Users", 13, events, 512), 3);
    ck_assert_uint_eq(events_of(&run, "Average Server Response Time", 2, events, 512), 1);
    ck_assert_uint_eq(events_of(&run, "Protocol Distribution", 2, events, 512), 1);
    broker_run_free(&run);
}
END_TEST

static int compare_names(const void *left, const void *right)
{
    return strcmp(*(const char *const *)left, *(const char *const *)right);
}

/*
 * Every capture of the collection through the four experts, one broker run
 * per capture with -j 2, one run at a time (the machine is shared): each
 * expert must end "done", or the broker must refuse the capture (exit 3:
 * not a capture, truncated, empty).  This is the parser's fuzz test.
 */
START_TEST(test_all_captures_no_crash)
{
    const char *directory = required_env("ES_SHARED_CAPTURES");
    DIR *listing = opendir(directory);
    if (listing == NULL) {
        fprintf(stderr, "test_analysis: %s: %s: skipped\n", directory, strerror(errno));
        return;
    }
    static char *names[4096];
    size_t count = 0;
    for (struct dirent *entry = readdir(listing); entry != NULL; entry = readdir(listing)) {
        if (entry->d_name[0] == '.')
            continue;
        ck_assert(count < sizeof(names) / sizeof(names[0]));
        names[count++] = strdup(entry->d_name);
    }
    closedir(listing);
    qsort(names, count, sizeof(names[0]), compare_names);

    const char *tcpretrans = expert_path("tcpretrans"), *topusers = expert_path("topusers"),
               *resptime = expert_path("resptime"), *protodist = expert_path("protodist");
    size_t analysed = 0, refused = 0;
    for (size_t index = 0; index < count; index++) {
        char *capture = hx_path_join(directory, names[index]);
        struct stat info;
        if (stat(capture, &info) != 0 || !S_ISREG(info.st_mode)) {
            free(capture);
            continue;
        }
        const char *argv[] = {required_env("ES_BROKER"), "run", "-q", "-j", "2", "-r", capture,
                              "-e", tcpretrans, "-e", topusers, "-e", resptime, "-e", protodist, NULL};
        struct hx_result result;
        char status[96];
        ck_assert_msg(hx_run(argv, &result) == 0, "cannot run the broker: %s", strerror(errno));
        hx_describe_status(&result, status, sizeof(status));
        if (result.exited && result.exit_code == 3) {
            refused++;
        } else {
            ck_assert_msg(result.exited && result.exit_code == 0, "%s: broker %s; stderr:\n%s", names[index],
                          status, result.err);
            struct hx_jsonl doc;
            ck_assert_msg(hx_jsonl_parse(result.out, result.out_len, &doc) == 0, "%s: bad JSON Lines",
                          names[index]);
            ck_assert_uint_eq(hx_jsonl_count_type(&doc, "outcome"), 4);
            for (size_t expert = 0; expert < 4; expert++) {
                const char *outcome = hx_json_get_string(hx_jsonl_nth(&doc, "outcome", expert), "outcome");
                ck_assert_msg(outcome != NULL && strcmp(outcome, "done") == 0, "%s: an expert ended %s: %s",
                              names[index], outcome ? outcome : "?",
                              hx_json_get_string(hx_jsonl_nth(&doc, "outcome", expert), "detail"));
            }
            hx_jsonl_free(&doc);
            analysed++;
        }
        hx_result_free(&result);
        free(capture);
    }
    for (size_t index = 0; index < count; index++)
        free(names[index]);
    fprintf(stderr, "test_analysis: %zu captures analysed, %zu refused by the broker\n", analysed, refused);
    ck_assert_msg(analysed > 0 || count == 0, "no capture could be analysed");
}
END_TEST

/* ------------------------------------------------------------------------ */

static Suite *analysis_suite(void)
{
    Suite *suite = suite_create("analysis");

    TCase *retransmissions = tcase_create("tcpretrans");
    tcase_add_checked_fixture(retransmissions, scratch_setup, scratch_teardown);
    tcase_set_timeout(retransmissions, 300);
    tcase_add_test(retransmissions, test_tcpretrans_synthetic);
    tcase_add_test(retransmissions, test_tcpretrans_sample_matches_tshark);
    tcase_add_test(retransmissions, test_tcpretrans_real_captures_match_tshark);
    tcase_add_test(retransmissions, test_tcpretrans_connections_match_tshark_conv);
    tcase_add_test(retransmissions, test_tcpretrans_lossy_transfer_matches_tshark);
    suite_add_tcase(suite, retransmissions);

    TCase *users = tcase_create("topusers");
    tcase_add_checked_fixture(users, scratch_setup, scratch_teardown);
    tcase_set_timeout(users, 300);
    tcase_add_test(users, test_topusers_synthetic);
    tcase_add_test(users, test_topusers_sample_matches_tshark);
    tcase_add_test(users, test_topusers_real_captures_match_tshark);
    suite_add_tcase(suite, users);

    TCase *distribution = tcase_create("protodist");
    tcase_add_checked_fixture(distribution, scratch_setup, scratch_teardown);
    tcase_set_timeout(distribution, 300);
    tcase_add_test(distribution, test_protodist_synthetic_links);
    tcase_add_test(distribution, test_protodist_sample_matches_tshark);
    tcase_add_test(distribution, test_protodist_real_captures_match_tshark);
    suite_add_tcase(suite, distribution);

    TCase *response = tcase_create("resptime");
    tcase_add_checked_fixture(response, scratch_setup, scratch_teardown);
    tcase_set_timeout(response, 300);
    tcase_add_test(response, test_resptime_synthetic);
    tcase_add_test(response, test_resptime_sample_matches_http_time);
    suite_add_tcase(suite, response);

    TCase *robustness = tcase_create("robustness");
    tcase_add_checked_fixture(robustness, scratch_setup, scratch_teardown);
    tcase_set_timeout(robustness, 900);
    tcase_add_test(robustness, test_malformed_frames);
    tcase_add_test(robustness, test_all_captures_no_crash);
    suite_add_tcase(suite, robustness);
    return suite;
}

int main(void)
{
    SRunner *runner = srunner_create(analysis_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    for (size_t index = 0; index < kept_count; index++)
        free(kept[index]);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
