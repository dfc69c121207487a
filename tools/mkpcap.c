/*
 * mkpcap - write a deterministic synthetic capture (classic pcap, Ethernet).
 *
 *     mkpcap [--frames N] [--seed S] [--snaplen N] -o FILE
 *
 * The same seed, frame count and snaplen always give the same bytes, on any
 * machine, and the first k frames of an N-frame capture are the k-frame
 * capture: the generator is one sequential random stream and frames beyond
 * the limit are simply not written.  Output is streamed, never held in
 * memory, so million-frame captures for benchmarks cost only disk and time.
 *
 * The traffic is meant to give protocol-analysing experts something to find
 * (of the generator's steps about 68% are TCP segments, 21% UDP exchanges, 7%
 * ICMP/ICMPv6 echoes and 4% ARP; the exchanges are mostly two frames each):
 *
 *   - Ethernet II; clients 10.0.0.10-15 and 2001:db8:1::10-15 on the local
 *     segment, servers beyond the gateway 10.0.0.1 (so their frames carry the
 *     gateway's MAC), an SNMP agent 10.0.0.2 on the segment.
 *   - One client sits on VLAN 20: its frames carry an 802.1Q tag.
 *   - ARP: who-has requests (broadcast) and their replies.
 *   - TCP over IPv4 and IPv6: up to 8 concurrent connections to ports 80, 443,
 *     22 and 25, each with a 3-way handshake (MSS option), request/response
 *     data in both directions segmented at the MSS, delayed ACKs, a FIN close
 *     from the client, and about one data segment in 40 retransmitted (the
 *     same sequence number and bytes sent again).  Payloads look like the
 *     service: HTTP/1.1 with a correct Content-Length, TLS records, SSH
 *     banners then opaque bytes, SMTP command and reply lines.
 *   - UDP: DNS queries and answers (port 53, A and AAAA), NTP client/server
 *     (123), SNMP GetRequest/GetResponse (161), and random high-port datagrams.
 *   - ICMP echo request/reply and ICMPv6 echo request/reply.
 *   - Valid IPv4 header checksums and valid TCP/UDP/ICMP/ICMPv6 checksums.
 *   - Frame lengths 60 (short frames padded) to 1514 bytes, no FCS.
 *   - Timestamps start at 2024-01-01 00:00:00 UTC and strictly increase in
 *     microsecond steps; replies follow their request closely.
 *
 * Exit status: 0 written, 1 I/O error, 2 bad usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_FRAMES 1000u
#define DEFAULT_SEED 1u
#define DEFAULT_SNAPLEN 65535u
#define MAX_SNAPLEN 262144u   /* what libpcap accepts for Ethernet */

#define EPOCH_2024_01_01 1704067200u
#define LINKTYPE_ETHERNET 1u

#define ETH_HEADER 14u
#define VLAN_TAG 4u
#define ETH_MIN_FRAME 60u     /* 64 on the wire minus the FCS pcap leaves out */
#define ETH_MAX_FRAME 1514u
#define IPV4_HEADER 20u
#define IPV6_HEADER 40u
#define TCP_HEADER 20u
#define UDP_HEADER 8u

#define ETHERTYPE_IPV4 0x0800u
#define ETHERTYPE_ARP 0x0806u
#define ETHERTYPE_VLAN 0x8100u
#define ETHERTYPE_IPV6 0x86ddu

#define PROTO_ICMP 1u
#define PROTO_TCP 6u
#define PROTO_UDP 17u
#define PROTO_ICMPV6 58u

#define TCP_FIN 0x01u
#define TCP_SYN 0x02u
#define TCP_PSH 0x08u
#define TCP_ACK 0x10u

#define MAX_CONNECTIONS 8

/* ------------------------------------------------------------------------ */
/* Deterministic randomness                                                 */
/* ------------------------------------------------------------------------ */

/* splitmix64: tiny, fast, and fully specified, so output never depends on
 * the C library's rand(). */
static uint64_t mix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform-enough integer in [lo, hi]; the modulo bias is irrelevant here. */
static uint32_t rand_range(uint64_t *state, uint32_t lo, uint32_t hi)
{
    return lo + (uint32_t)(mix64(state) % ((uint64_t)hi - lo + 1u));
}

static bool one_in(uint64_t *state, uint32_t n)
{
    return mix64(state) % n == 0;
}

/* Payload bytes are a function of (key, position) rather than of the random
 * stream, so a retransmitted segment repeats its bytes exactly. */
static void fill_payload(uint8_t *out, size_t len, uint64_t key, uint64_t position)
{
    for (size_t i = 0; i < len; i++) {
        uint64_t at = position + i;
        uint64_t word_state = key ^ (at / 8u) * UINT64_C(0x2545f4914f6cdd1d);
        uint64_t word = mix64(&word_state);
        out[i] = (uint8_t)(word >> ((at % 8u) * 8u));
    }
}

/* ------------------------------------------------------------------------ */
/* Byte-order helpers                                                       */
/* ------------------------------------------------------------------------ */

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* The Internet checksum (RFC 1071), accumulated over several pieces. */
static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (len & 1u)
        sum += (uint32_t)p[len - 1] << 8;
    return sum;
}

static uint16_t fold_checksum(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)~sum;
}

/* ------------------------------------------------------------------------ */
/* The network                                                              */
/* ------------------------------------------------------------------------ */

struct host {
    uint8_t mac[6];
    uint8_t ip4[4];
    uint8_t ip6[16];
    uint16_t vlan;       /* 0: untagged */
    bool remote;         /* beyond the gateway: frames use the gateway's MAC */
    uint8_t ttl;
};

enum {
    HOST_GATEWAY,
    HOST_SNMP_AGENT,
    HOST_CLIENT_FIRST,
    HOST_CLIENT_LAST = HOST_CLIENT_FIRST + 5,
    HOST_WEB,
    HOST_SSH,
    HOST_MAIL,
    HOST_DNS,
    HOST_NTP,
    HOST_COUNT
};

static struct host hosts[HOST_COUNT];

static void set_host(int index, uint8_t mac_last, const uint8_t ip4[4], uint16_t ip6_net,
                     uint8_t ip6_last, uint16_t vlan, bool remote, uint8_t ttl)
{
    struct host *h = &hosts[index];
    const uint8_t mac[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, mac_last};
    memcpy(h->mac, mac, sizeof h->mac);
    memcpy(h->ip4, ip4, sizeof h->ip4);
    /* 2001:db8:<net>::<last> */
    memset(h->ip6, 0, sizeof h->ip6);
    put16(h->ip6, 0x2001);
    put16(h->ip6 + 2, 0x0db8);
    put16(h->ip6 + 4, ip6_net);
    h->ip6[15] = ip6_last;
    h->vlan = vlan;
    h->remote = remote;
    h->ttl = ttl;
}

static void build_network(void)
{
    set_host(HOST_GATEWAY, 0x01, (const uint8_t[]){10, 0, 0, 1}, 1, 1, 0, false, 64);
    set_host(HOST_SNMP_AGENT, 0x02, (const uint8_t[]){10, 0, 0, 2}, 1, 2, 0, false, 255);
    for (int i = HOST_CLIENT_FIRST; i <= HOST_CLIENT_LAST; i++) {
        uint8_t last = (uint8_t)(10 + i - HOST_CLIENT_FIRST);
        /* The last client lives on VLAN 20, so its frames are tagged. */
        uint16_t vlan = i == HOST_CLIENT_LAST ? 20 : 0;
        /* A mix of Linux (64) and Windows (128) initial TTLs. */
        uint8_t ttl = (i % 2) ? 128 : 64;
        set_host(i, last, (const uint8_t[]){10, 0, 0, last}, 1, last, vlan, false, ttl);
    }
    set_host(HOST_WEB, 0x80, (const uint8_t[]){192, 0, 2, 80}, 2, 0x80, 0, true, 56);
    set_host(HOST_SSH, 0x22, (const uint8_t[]){192, 0, 2, 22}, 2, 0x22, 0, true, 61);
    set_host(HOST_MAIL, 0x25, (const uint8_t[]){198, 51, 100, 25}, 2, 0x25, 0, true, 52);
    set_host(HOST_DNS, 0x53, (const uint8_t[]){203, 0, 113, 53}, 2, 0x53, 0, true, 58);
    set_host(HOST_NTP, 0x7b, (const uint8_t[]){203, 0, 113, 123}, 2, 0x7b, 0, true, 50);
}

/* ------------------------------------------------------------------------ */
/* Generator state and frame output                                         */
/* ------------------------------------------------------------------------ */

enum tcp_phase {
    TCP_IDLE,
    TCP_SEND_SYN,
    TCP_SEND_SYNACK,
    TCP_SEND_HANDSHAKE_ACK,
    TCP_SEND_REQUEST,
    TCP_SEND_RESPONSE,
    TCP_SEND_CLIENT_ACK,
    TCP_SEND_CLIENT_FIN,
    TCP_SEND_SERVER_FIN,
    TCP_SEND_LAST_ACK,
};

struct tcp_segment {
    bool from_client;
    uint32_t seq, ack;
    uint8_t flags;
    uint32_t len;
};

/* Where a request or response starts in its sender's sequence space. */
struct tcp_message {
    uint32_t start;
    uint32_t len;
};

struct tcp_connection {
    enum tcp_phase phase;
    int client, server;
    bool ipv6;
    uint16_t client_port, server_port;
    uint32_t client_isn, server_isn;
    uint32_t client_seq, server_seq;   /* next sequence number each side sends */
    uint32_t mss;
    uint32_t exchanges_left;
    uint32_t response_left;
    uint32_t segments_unacked;
    uint64_t payload_key;
    struct tcp_message client_message, server_message;   /* the latest of each side */
    bool retransmit_pending;
    struct tcp_segment retransmit;
};

struct generator {
    uint64_t rng;
    FILE *out;
    uint32_t snaplen;
    uint64_t frames_limit;
    uint64_t frames_written;
    uint64_t clock_usec;             /* since EPOCH_2024_01_01 */
    uint16_t ip_id[HOST_COUNT];
    uint16_t icmp_sequence;
    struct tcp_connection connections[MAX_CONNECTIONS];
    uint8_t frame[2048];
    bool write_failed;
};

static bool limit_reached(const struct generator *g)
{
    return g->frames_written >= g->frames_limit || g->write_failed;
}

/* Gaps between unrelated frames are longer than between a request and its
 * reply, so the timing looks like traffic rather than a metronome. */
enum gap { GAP_NEW, GAP_REPLY };

static void write_frame(struct generator *g, size_t len, enum gap gap)
{
    if (limit_reached(g))
        return;
    g->clock_usec += gap == GAP_REPLY ? rand_range(&g->rng, 40, 900) : rand_range(&g->rng, 1, 4000);
    if (len < ETH_MIN_FRAME) {
        memset(g->frame + len, 0, ETH_MIN_FRAME - len);
        len = ETH_MIN_FRAME;
    }
    uint32_t caplen = len < g->snaplen ? (uint32_t)len : g->snaplen;
    uint8_t record[16];
    put32le(record, (uint32_t)(EPOCH_2024_01_01 + g->clock_usec / 1000000u));
    put32le(record + 4, (uint32_t)(g->clock_usec % 1000000u));
    put32le(record + 8, caplen);
    put32le(record + 12, (uint32_t)len);
    if (fwrite(record, sizeof record, 1, g->out) != 1 ||
        fwrite(g->frame, caplen, 1, g->out) != 1)
        g->write_failed = true;
    g->frames_written++;
}

/* Writes the Ethernet header (and VLAN tag) for a frame between two hosts;
 * returns where the layer-3 header starts. */
static size_t put_ethernet(struct generator *g, const uint8_t dst_mac[6], const uint8_t src_mac[6],
                           uint16_t vlan, uint32_t ethertype)
{
    uint8_t *f = g->frame;
    memcpy(f, dst_mac, 6);
    memcpy(f + 6, src_mac, 6);
    if (vlan != 0) {
        put16(f + 12, ETHERTYPE_VLAN);
        put16(f + 14, vlan);   /* priority 0, DEI 0 */
        put16(f + 16, ethertype);
        return ETH_HEADER + VLAN_TAG;
    }
    put16(f + 12, ethertype);
    return ETH_HEADER;
}

static size_t ip_header_length(bool ipv6)
{
    return ipv6 ? IPV6_HEADER : IPV4_HEADER;
}

static size_t l3_offset(int from, int to)
{
    return hosts[from].vlan || hosts[to].vlan ? ETH_HEADER + VLAN_TAG : ETH_HEADER;
}

/* The most layer-4 bytes (header included) that fit a 1514-byte frame. */
static size_t max_l4_length(int from, int to, bool ipv6)
{
    return ETH_MAX_FRAME - l3_offset(from, to) - ip_header_length(ipv6);
}

/* Where the layer-4 header of the frame being built starts. */
static uint8_t *l4_start(struct generator *g, int from, int to, bool ipv6)
{
    return g->frame + l3_offset(from, to) + ip_header_length(ipv6);
}

/*
 * Completes and writes an IP frame whose layer-4 bytes (l4_len of them) are
 * already at l4_start(): Ethernet, IP header, and the layer-4 checksum.
 */
static void send_ip(struct generator *g, int from, int to, bool ipv6, uint8_t proto,
                    size_t l4_len, enum gap gap)
{
    const struct host *src = &hosts[from], *dst = &hosts[to];
    const struct host *gateway = &hosts[HOST_GATEWAY];
    uint16_t vlan = src->vlan ? src->vlan : dst->vlan;
    size_t l3 = put_ethernet(g, dst->remote ? gateway->mac : dst->mac,
                             src->remote ? gateway->mac : src->mac, vlan,
                             ipv6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4);
    uint8_t *ip = g->frame + l3;
    uint8_t *l4 = ip + ip_header_length(ipv6);
    uint32_t pseudo = 0;

    if (ipv6) {
        put32(ip, 0x60000000u);
        put16(ip + 4, (uint32_t)l4_len);
        ip[6] = proto;
        ip[7] = src->ttl;
        memcpy(ip + 8, src->ip6, 16);
        memcpy(ip + 24, dst->ip6, 16);
        pseudo = sum16(sum16(0, src->ip6, 16), dst->ip6, 16);
    } else {
        ip[0] = 0x45;
        ip[1] = 0;
        put16(ip + 2, (uint32_t)(IPV4_HEADER + l4_len));
        put16(ip + 4, g->ip_id[from]++);
        put16(ip + 6, proto == PROTO_TCP ? 0x4000u : 0u);   /* DF for TCP */
        ip[8] = src->ttl;
        ip[9] = proto;
        put16(ip + 10, 0);
        memcpy(ip + 12, src->ip4, 4);
        memcpy(ip + 16, dst->ip4, 4);
        put16(ip + 10, fold_checksum(sum16(0, ip, IPV4_HEADER)));
        pseudo = sum16(sum16(0, src->ip4, 4), dst->ip4, 4);
    }
    pseudo += proto + (uint32_t)l4_len;

    size_t checksum_at;
    bool with_pseudo = true;
    switch (proto) {
    case PROTO_TCP: checksum_at = 16; break;
    case PROTO_UDP: checksum_at = 6; break;
    case PROTO_ICMP: checksum_at = 2; with_pseudo = false; break;
    default: checksum_at = 2; break;   /* ICMPv6 */
    }
    put16(l4 + checksum_at, 0);
    uint16_t checksum = fold_checksum(sum16(with_pseudo ? pseudo : 0, l4, l4_len));
    if (proto == PROTO_UDP && checksum == 0)
        checksum = 0xffff;   /* 0 means "no checksum" in UDP */
    put16(l4 + checksum_at, checksum);

    write_frame(g, l3 + ip_header_length(ipv6) + l4_len, gap);
}

/* ------------------------------------------------------------------------ */
/* TCP                                                                      */
/* ------------------------------------------------------------------------ */

/*
 * Application bytes.  A direction's current message (request or response)
 * is fixed by where it starts in the sequence space, its length and the
 * connection's key, and any slice of it can be rendered on its own: that is
 * what lets a retransmission repeat its bytes exactly.  The content is shaped
 * like the service on the port so dissectors see plausible protocols:
 *   80   HTTP/1.1 requests and responses with a correct Content-Length
 *   443  TLS records (handshake first, then application data), <= 16 KiB each
 *   22   SSH version banners, then opaque bytes (as if encrypted)
 *   25   SMTP command and reply lines
 */
#define TLS_RECORD_HEADER 5u
#define TLS_MAX_RECORD 16384u
#define SSH_CLIENT_BANNER "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"
#define SSH_SERVER_BANNER "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3\r\n"
#define SMTP_EHLO "EHLO client.example.com\r\n"

static int decimal_digits(uint32_t value)
{
    int digits = 1;
    while (value >= 10u) {
        value /= 10u;
        digits++;
    }
    return digits;
}

static size_t message_header(const struct tcp_connection *c, bool from_client, bool first,
                             uint32_t message_len, char *out, size_t outlen)
{
    int n = 0;
    switch (c->server_port) {
    case 80:
        if (from_client)
            n = snprintf(out, outlen,
                         "GET /object/%08x HTTP/1.1\r\nHost: www.example.com\r\n"
                         "User-Agent: mkpcap/1\r\nX-Padding: ",
                         (unsigned)(c->payload_key >> 32));
        else {
            /* Content-Length counts the body, whose size depends on how many
             * digits Content-Length takes: use the fewest that work (with a
             * leading zero in the rare case where none fits exactly). */
            static const char fixed[] = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream"
                                        "\r\nContent-Length: \r\n\r\n";
            for (int digits = 1; digits <= 10; digits++) {
                uint32_t body = message_len - (uint32_t)(sizeof fixed - 1u) - (uint32_t)digits;
                if (decimal_digits(body) <= digits) {
                    n = snprintf(out, outlen,
                                 "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                                 "Content-Length: %0*u\r\n\r\n",
                                 digits, (unsigned)body);
                    break;
                }
            }
        }
        break;
    case 22:
        if (first)
            n = snprintf(out, outlen, "%s", from_client ? SSH_CLIENT_BANNER : SSH_SERVER_BANNER);
        break;
    case 25:
        if (from_client)
            n = snprintf(out, outlen, "%s", first ? SMTP_EHLO : "NOOP ");
        else
            n = snprintf(out, outlen, "250 ");
        break;
    default:
        break;
    }
    return n > 0 ? (size_t)n : 0;
}

static uint8_t message_byte(const struct tcp_connection *c, bool from_client, bool first,
                            uint32_t message_len, uint32_t offset, const char *header,
                            size_t header_len, uint64_t key)
{
    if (offset < header_len)
        return (uint8_t)header[offset];
    uint8_t random_byte;
    fill_payload(&random_byte, 1, key, offset);
    switch (c->server_port) {
    case 80:
        if (from_client) {
            /* The padding header's value, then the blank line that ends the request. */
            if (offset + 4u >= message_len)
                return (uint8_t)"\r\n\r\n"[4u - (message_len - offset)];
            return (uint8_t)('a' + random_byte % 26u);
        }
        return random_byte;
    case 443: {
        uint32_t record = offset / (TLS_RECORD_HEADER + TLS_MAX_RECORD);
        uint32_t within = offset % (TLS_RECORD_HEADER + TLS_MAX_RECORD);
        if (within >= TLS_RECORD_HEADER)
            return random_byte;
        uint32_t record_start = record * (TLS_RECORD_HEADER + TLS_MAX_RECORD);
        uint32_t body = message_len - record_start - TLS_RECORD_HEADER;
        if (body > TLS_MAX_RECORD)
            body = TLS_MAX_RECORD;
        /* Content type: handshake for the first flight, application data after. */
        const uint8_t record_header[TLS_RECORD_HEADER] = {first ? 0x16 : 0x17, 0x03, 0x03,
                                                          (uint8_t)(body >> 8), (uint8_t)body};
        return record_header[within];
    }
    case 25:
        if (first && from_client)
            return random_byte;   /* unreachable: EHLO is the whole message */
        if (offset + 2u >= message_len)
            return (uint8_t)"\r\n"[2u - (message_len - offset)];
        return (uint8_t)('a' + random_byte % 26u);
    default:
        return random_byte;
    }
}

static void render_payload(const struct tcp_connection *c, bool from_client, uint32_t seq,
                           uint32_t len, uint8_t *out)
{
    const struct tcp_message *m = from_client ? &c->client_message : &c->server_message;
    uint32_t isn = from_client ? c->client_isn : c->server_isn;
    bool first = m->start == isn + 1u;
    uint64_t key = c->payload_key ^ (from_client ? 0u : UINT64_C(0xa5a5a5a5a5a5a5a5)) ^ m->start;
    char header[256];
    size_t header_len = message_header(c, from_client, first, m->len, header, sizeof header);
    for (uint32_t i = 0; i < len; i++)
        out[i] = message_byte(c, from_client, first, m->len, seq + i - m->start, header,
                              header_len, key);
}

/* Length of a message on this connection that fits its service's framing. */
static uint32_t message_length(struct generator *g, const struct tcp_connection *c,
                               bool from_client)
{
    bool first = (from_client ? c->client_seq == c->client_isn + 1u
                              : c->server_seq == c->server_isn + 1u);
    uint32_t len;
    switch (c->server_port) {
    case 80:
        len = from_client ? rand_range(&g->rng, 200, 700) : rand_range(&g->rng, 300, 30000);
        break;
    case 443:
        len = from_client ? rand_range(&g->rng, 100, 1500) : rand_range(&g->rng, 1000, 60000);
        /* Never leave a last record too short to hold its own header and a byte. */
        if (len % (TLS_RECORD_HEADER + TLS_MAX_RECORD) <= TLS_RECORD_HEADER)
            len += TLS_RECORD_HEADER + 1u;
        break;
    case 22:
        if (first)
            return (uint32_t)strlen(from_client ? SSH_CLIENT_BANNER : SSH_SERVER_BANNER);
        len = from_client ? rand_range(&g->rng, 36, 200) : rand_range(&g->rng, 36, 600);
        break;
    default:
        if (first && from_client)
            return (uint32_t)strlen(SMTP_EHLO);
        len = from_client ? rand_range(&g->rng, 20, 120) : rand_range(&g->rng, 20, 200);
        break;
    }
    /* A request is one segment. */
    if (from_client && len > c->mss)
        len = c->mss;
    return len;
}

static void send_tcp_segment(struct generator *g, const struct tcp_connection *c,
                             const struct tcp_segment *s, enum gap gap)
{
    int from = s->from_client ? c->client : c->server;
    int to = s->from_client ? c->server : c->client;
    uint8_t *tcp = l4_start(g, from, to, c->ipv6);
    bool syn = s->flags & TCP_SYN;
    size_t header = syn ? TCP_HEADER + 4u : TCP_HEADER;

    put16(tcp, s->from_client ? c->client_port : c->server_port);
    put16(tcp + 2, s->from_client ? c->server_port : c->client_port);
    put32(tcp + 4, s->seq);
    put32(tcp + 8, s->ack);
    tcp[12] = (uint8_t)((header / 4u) << 4);
    tcp[13] = s->flags;
    put16(tcp + 14, s->from_client ? 64240u : 65160u);
    put16(tcp + 16, 0);
    put16(tcp + 18, 0);
    if (syn) {
        tcp[20] = 2;   /* MSS option */
        tcp[21] = 4;
        put16(tcp + 22, c->mss);
    }

    if (s->len > 0)
        render_payload(c, s->from_client, s->seq, s->len, tcp + header);
    send_ip(g, from, to, c->ipv6, PROTO_TCP, header + s->len, gap);
}

static void start_connection(struct generator *g, struct tcp_connection *c)
{
    static const struct {
        int server;
        uint16_t port;
    } services[] = {
        {HOST_WEB, 80}, {HOST_WEB, 443}, {HOST_WEB, 443}, {HOST_SSH, 22}, {HOST_MAIL, 25},
    };
    unsigned pick = rand_range(&g->rng, 0, sizeof services / sizeof services[0] - 1u);
    memset(c, 0, sizeof *c);
    c->phase = TCP_SEND_SYN;
    c->client = (int)rand_range(&g->rng, HOST_CLIENT_FIRST, HOST_CLIENT_LAST);
    c->server = services[pick].server;
    c->server_port = services[pick].port;
    c->client_port = (uint16_t)rand_range(&g->rng, 49152, 65535);
    c->ipv6 = one_in(&g->rng, 4);
    c->client_isn = (uint32_t)mix64(&g->rng);
    c->server_isn = (uint32_t)mix64(&g->rng);
    c->client_seq = c->client_isn;
    c->server_seq = c->server_isn;
    c->payload_key = mix64(&g->rng);
    /* The MSS the path allows, so no frame exceeds 1514 bytes. */
    c->mss = (uint32_t)max_l4_length(c->client, c->server, c->ipv6) - TCP_HEADER;
    c->exchanges_left = c->server_port == 22   ? rand_range(&g->rng, 5, 30)
                        : c->server_port == 25 ? rand_range(&g->rng, 4, 10)
                                               : rand_range(&g->rng, 1, 4);
}

/* Sends a data segment; occasionally arranges for it to be sent again. */
static void send_data(struct generator *g, struct tcp_connection *c, const struct tcp_segment *s)
{
    send_tcp_segment(g, c, s, s->from_client ? GAP_NEW : GAP_REPLY);
    if (one_in(&g->rng, 40)) {
        c->retransmit_pending = true;
        c->retransmit = *s;
    }
}

/* Moves one connection on by one segment. */
static void advance_connection(struct generator *g, struct tcp_connection *c)
{
    if (c->retransmit_pending) {
        c->retransmit_pending = false;
        send_tcp_segment(g, c, &c->retransmit, GAP_NEW);
        return;
    }
    struct tcp_segment s = {0};
    switch (c->phase) {
    case TCP_IDLE:
        return;
    case TCP_SEND_SYN:
        s = (struct tcp_segment){true, c->client_seq, 0, TCP_SYN, 0};
        c->client_seq++;
        send_tcp_segment(g, c, &s, GAP_NEW);
        c->phase = TCP_SEND_SYNACK;
        return;
    case TCP_SEND_SYNACK:
        s = (struct tcp_segment){false, c->server_seq, c->client_seq, TCP_SYN | TCP_ACK, 0};
        c->server_seq++;
        send_tcp_segment(g, c, &s, GAP_REPLY);
        c->phase = TCP_SEND_HANDSHAKE_ACK;
        return;
    case TCP_SEND_HANDSHAKE_ACK:
        s = (struct tcp_segment){true, c->client_seq, c->server_seq, TCP_ACK, 0};
        send_tcp_segment(g, c, &s, GAP_REPLY);
        c->phase = TCP_SEND_REQUEST;
        return;
    case TCP_SEND_REQUEST:
        c->client_message = (struct tcp_message){c->client_seq, message_length(g, c, true)};
        s = (struct tcp_segment){true, c->client_seq, c->server_seq, TCP_PSH | TCP_ACK,
                                 c->client_message.len};
        c->client_seq += s.len;
        c->server_message = (struct tcp_message){c->server_seq, message_length(g, c, false)};
        c->response_left = c->server_message.len;
        c->segments_unacked = 0;
        send_data(g, c, &s);
        c->phase = TCP_SEND_RESPONSE;
        return;
    case TCP_SEND_RESPONSE: {
        uint32_t len = c->response_left < c->mss ? c->response_left : c->mss;
        c->response_left -= len;
        uint8_t flags = c->response_left == 0 ? TCP_PSH | TCP_ACK : TCP_ACK;
        s = (struct tcp_segment){false, c->server_seq, c->client_seq, flags, len};
        c->server_seq += len;
        send_data(g, c, &s);
        /* Delayed ACK: the client acknowledges every second segment. */
        if (++c->segments_unacked == 2 || c->response_left == 0)
            c->phase = TCP_SEND_CLIENT_ACK;
        return;
    }
    case TCP_SEND_CLIENT_ACK:
        s = (struct tcp_segment){true, c->client_seq, c->server_seq, TCP_ACK, 0};
        send_tcp_segment(g, c, &s, GAP_REPLY);
        c->segments_unacked = 0;
        if (c->response_left > 0)
            c->phase = TCP_SEND_RESPONSE;
        else if (--c->exchanges_left > 0)
            c->phase = TCP_SEND_REQUEST;
        else
            c->phase = TCP_SEND_CLIENT_FIN;
        return;
    case TCP_SEND_CLIENT_FIN:
        s = (struct tcp_segment){true, c->client_seq, c->server_seq, TCP_FIN | TCP_ACK, 0};
        c->client_seq++;
        send_tcp_segment(g, c, &s, GAP_NEW);
        c->phase = TCP_SEND_SERVER_FIN;
        return;
    case TCP_SEND_SERVER_FIN:
        s = (struct tcp_segment){false, c->server_seq, c->client_seq, TCP_FIN | TCP_ACK, 0};
        c->server_seq++;
        send_tcp_segment(g, c, &s, GAP_REPLY);
        c->phase = TCP_SEND_LAST_ACK;
        return;
    case TCP_SEND_LAST_ACK:
        s = (struct tcp_segment){true, c->client_seq, c->server_seq, TCP_ACK, 0};
        send_tcp_segment(g, c, &s, GAP_REPLY);
        c->phase = TCP_IDLE;
        return;
    }
}

static void tcp_event(struct generator *g, bool prefer_new)
{
    struct tcp_connection *active[MAX_CONNECTIONS], *idle = NULL;
    unsigned n_active = 0;
    for (unsigned i = 0; i < MAX_CONNECTIONS; i++) {
        if (g->connections[i].phase != TCP_IDLE)
            active[n_active++] = &g->connections[i];
        else if (idle == NULL)
            idle = &g->connections[i];
    }
    if (idle != NULL && (prefer_new || n_active == 0)) {
        start_connection(g, idle);
        advance_connection(g, idle);
        return;
    }
    if (n_active > 0)
        advance_connection(g, active[rand_range(&g->rng, 0, n_active - 1u)]);
}

/* ------------------------------------------------------------------------ */
/* UDP, ICMP and ARP                                                        */
/* ------------------------------------------------------------------------ */

static int random_client(struct generator *g)
{
    return (int)rand_range(&g->rng, HOST_CLIENT_FIRST, HOST_CLIENT_LAST);
}

/* Writes a UDP header at l4 and sends the datagram (payload already in place). */
static void send_udp(struct generator *g, int from, int to, bool ipv6, uint16_t sport,
                     uint16_t dport, size_t payload_len, enum gap gap)
{
    uint8_t *udp = l4_start(g, from, to, ipv6);
    put16(udp, sport);
    put16(udp + 2, dport);
    put16(udp + 4, (uint32_t)(UDP_HEADER + payload_len));
    send_ip(g, from, to, ipv6, PROTO_UDP, UDP_HEADER + payload_len, gap);
}

static size_t put_dns_name(uint8_t *p, const char *name)
{
    size_t at = 0;
    while (*name) {
        const char *dot = strchr(name, '.');
        size_t label = dot ? (size_t)(dot - name) : strlen(name);
        p[at++] = (uint8_t)label;
        memcpy(p + at, name, label);
        at += label;
        name += label + (dot ? 1u : 0u);
    }
    p[at++] = 0;
    return at;
}

static void dns_event(struct generator *g)
{
    static const char *const names[] = {"www.example.com", "mail.example.org", "api.example.net",
                                        "cdn.example.com", "ntp.example.org", "ssh.example.net"};
    int client = random_client(g);
    bool ipv6 = one_in(&g->rng, 5);
    bool want_aaaa = one_in(&g->rng, 3);
    uint16_t port = (uint16_t)rand_range(&g->rng, 32768, 60999);
    uint16_t id = (uint16_t)mix64(&g->rng);
    const char *name = names[rand_range(&g->rng, 0, sizeof names / sizeof names[0] - 1u)];

    for (int answer = 0; answer < 2; answer++) {
        int from = answer ? HOST_DNS : client, to = answer ? client : HOST_DNS;
        uint8_t *dns = l4_start(g, from, to, ipv6) + UDP_HEADER;
        put16(dns, id);
        put16(dns + 2, answer ? 0x8180u : 0x0100u);   /* response, RD, RA / query, RD */
        put16(dns + 4, 1);
        put16(dns + 6, answer ? 1u : 0u);
        put16(dns + 8, 0);
        put16(dns + 10, 0);
        size_t len = 12 + put_dns_name(dns + 12, name);
        put16(dns + len, want_aaaa ? 28u : 1u);
        put16(dns + len + 2, 1);   /* IN */
        len += 4;
        if (answer) {
            put16(dns + len, 0xc00c);   /* pointer to the question's name */
            put16(dns + len + 2, want_aaaa ? 28u : 1u);
            put16(dns + len + 4, 1);
            put32(dns + len + 6, 300);
            const uint8_t *addr = want_aaaa ? hosts[HOST_WEB].ip6 : hosts[HOST_WEB].ip4;
            uint32_t addr_len = want_aaaa ? 16u : 4u;
            put16(dns + len + 10, addr_len);
            memcpy(dns + len + 12, addr, addr_len);
            len += 12 + addr_len;
        }
        send_udp(g, from, to, ipv6, answer ? 53 : port, answer ? port : 53, len,
                 answer ? GAP_REPLY : GAP_NEW);
    }
}

static void ntp_event(struct generator *g)
{
    int client = random_client(g);
    for (int reply = 0; reply < 2; reply++) {
        int from = reply ? HOST_NTP : client, to = reply ? client : HOST_NTP;
        uint8_t *ntp = l4_start(g, from, to, false) + UDP_HEADER;
        memset(ntp, 0, 48);
        ntp[0] = reply ? 0x24 : 0x23;   /* LI 0, version 4, mode server / client */
        ntp[1] = reply ? 2 : 0;         /* stratum */
        ntp[2] = 6;                     /* poll */
        ntp[3] = 0xec;                  /* precision 2^-20 */
        /* Transmit timestamp: seconds since 1900 and a fraction from the clock. */
        uint64_t seconds = 2208988800u + EPOCH_2024_01_01 + g->clock_usec / 1000000u;
        put32(ntp + 40, (uint32_t)seconds);
        put32(ntp + 44, (uint32_t)((g->clock_usec % 1000000u) * 4294u));
        send_udp(g, from, to, false, 123, 123, 48, reply ? GAP_REPLY : GAP_NEW);
    }
}

/* SNMPv2c GetRequest/GetResponse for sysUpTime.0, BER with short lengths. */
static void snmp_event(struct generator *g)
{
    static const uint8_t sys_uptime_oid[] = {0x06, 0x08, 0x2b, 0x06, 0x01, 0x02,
                                             0x01, 0x01, 0x03, 0x00};
    int client = random_client(g);
    uint16_t port = (uint16_t)rand_range(&g->rng, 32768, 60999);
    uint32_t request_id = (uint32_t)mix64(&g->rng) & 0x7fffffffu;
    uint32_t uptime = (uint32_t)(g->clock_usec / 10000u) + 123456u;

    for (int reply = 0; reply < 2; reply++) {
        int from = reply ? HOST_SNMP_AGENT : client, to = reply ? client : HOST_SNMP_AGENT;
        uint8_t value[6];
        size_t value_len;
        if (reply) {
            value[0] = 0x43;   /* TimeTicks */
            value[1] = 4;
            put32(value + 2, uptime);
            value_len = 6;
        } else {
            value[0] = 0x05;   /* NULL */
            value[1] = 0;
            value_len = 2;
        }
        size_t varbind_len = sizeof sys_uptime_oid + value_len;
        size_t pdu_len = 6 + 3 + 3 + 2 + 2 + varbind_len;
        size_t message_len = 3 + 8 + 2 + pdu_len;

        uint8_t *p = l4_start(g, from, to, false) + UDP_HEADER;
        size_t at = 0;
        p[at++] = 0x30;
        p[at++] = (uint8_t)message_len;
        memcpy(p + at, "\x02\x01\x01\x04\x06public", 11);   /* version 2c, community */
        at += 11;
        p[at++] = reply ? 0xa2 : 0xa0;
        p[at++] = (uint8_t)pdu_len;
        p[at++] = 0x02;
        p[at++] = 4;
        put32(p + at, request_id);
        at += 4;
        memcpy(p + at, "\x02\x01\x00\x02\x01\x00", 6);   /* error-status, error-index */
        at += 6;
        p[at++] = 0x30;
        p[at++] = (uint8_t)(2 + varbind_len);
        p[at++] = 0x30;
        p[at++] = (uint8_t)varbind_len;
        memcpy(p + at, sys_uptime_oid, sizeof sys_uptime_oid);
        at += sizeof sys_uptime_oid;
        memcpy(p + at, value, value_len);
        at += value_len;
        send_udp(g, from, to, false, reply ? 161 : port, reply ? port : 161, at,
                 reply ? GAP_REPLY : GAP_NEW);
    }
}

static void random_udp_event(struct generator *g)
{
    int client = random_client(g);
    int peer = (int)rand_range(&g->rng, HOST_WEB, HOST_NTP);
    bool ipv6 = one_in(&g->rng, 4);
    uint16_t sport = (uint16_t)rand_range(&g->rng, 1024, 65535);
    uint16_t dport = (uint16_t)rand_range(&g->rng, 1024, 65535);
    int datagrams = one_in(&g->rng, 2) ? 2 : 1;
    uint64_t key = mix64(&g->rng);
    for (int i = 0; i < datagrams; i++) {
        int from = i ? peer : client, to = i ? client : peer;
        size_t room = max_l4_length(from, to, ipv6) - UDP_HEADER;
        size_t len = rand_range(&g->rng, 20, 1400);
        if (len > room)
            len = room;
        fill_payload(l4_start(g, from, to, ipv6) + UDP_HEADER, len, key, (uint64_t)i << 32);
        send_udp(g, from, to, ipv6, i ? dport : sport, i ? sport : dport, len,
                 i ? GAP_REPLY : GAP_NEW);
    }
}

static void echo_event(struct generator *g, bool ipv6)
{
    int client = random_client(g);
    int peer = (int)rand_range(&g->rng, HOST_GATEWAY, HOST_NTP);
    if (peer >= HOST_CLIENT_FIRST && peer <= HOST_CLIENT_LAST)
        peer = HOST_WEB;   /* clients ping infrastructure, not each other */
    uint16_t id = (uint16_t)rand_range(&g->rng, 1, 65535);
    uint16_t seq = g->icmp_sequence++;
    uint8_t proto = ipv6 ? PROTO_ICMPV6 : PROTO_ICMP;
    for (int reply = 0; reply < 2; reply++) {
        int from = reply ? peer : client, to = reply ? client : peer;
        uint8_t *icmp = l4_start(g, from, to, ipv6);
        icmp[0] = ipv6 ? (reply ? 129 : 128) : (reply ? 0 : 8);
        icmp[1] = 0;
        put16(icmp + 4, id);
        put16(icmp + 6, seq);
        /* Like ping: 8 bytes of send time, then a counting pattern. */
        put32(icmp + 8, (uint32_t)(EPOCH_2024_01_01 + g->clock_usec / 1000000u));
        put32(icmp + 12, (uint32_t)(g->clock_usec % 1000000u));
        for (unsigned i = 16; i < 64; i++)
            icmp[i] = (uint8_t)i;
        send_ip(g, from, to, ipv6, proto, 64, reply ? GAP_REPLY : GAP_NEW);
    }
}

static void arp_event(struct generator *g)
{
    static const uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    int asker = random_client(g);
    int target = one_in(&g->rng, 2) ? HOST_GATEWAY : HOST_SNMP_AGENT;
    for (int reply = 0; reply < 2; reply++) {
        int from = reply ? target : asker, to = reply ? asker : target;
        uint16_t vlan = hosts[asker].vlan;
        size_t l3 = put_ethernet(g, reply ? hosts[to].mac : broadcast, hosts[from].mac, vlan,
                                 ETHERTYPE_ARP);
        uint8_t *arp = g->frame + l3;
        put16(arp, 1);                    /* Ethernet */
        put16(arp + 2, ETHERTYPE_IPV4);
        arp[4] = 6;
        arp[5] = 4;
        put16(arp + 6, reply ? 2u : 1u);
        memcpy(arp + 8, hosts[from].mac, 6);
        memcpy(arp + 14, hosts[from].ip4, 4);
        if (reply)
            memcpy(arp + 18, hosts[to].mac, 6);
        else
            memset(arp + 18, 0, 6);
        memcpy(arp + 24, hosts[to].ip4, 4);
        write_frame(g, l3 + 28, reply ? GAP_REPLY : GAP_NEW);
    }
}

/* One step of traffic: a TCP segment most of the time, otherwise a short
 * request/reply exchange of another protocol. */
static void generate_event(struct generator *g)
{
    uint32_t roll = rand_range(&g->rng, 0, 99);
    if (roll < 60)
        tcp_event(g, false);
    else if (roll < 68)
        tcp_event(g, true);
    else if (roll < 76)
        dns_event(g);
    else if (roll < 79)
        ntp_event(g);
    else if (roll < 82)
        snmp_event(g);
    else if (roll < 89)
        random_udp_event(g);
    else if (roll < 93)
        echo_event(g, false);
    else if (roll < 96)
        echo_event(g, true);
    else
        arp_event(g);
}

/* ------------------------------------------------------------------------ */
/* Command line                                                             */
/* ------------------------------------------------------------------------ */

static void print_help(FILE *to)
{
    fprintf(to,
            "usage: mkpcap [--frames N] [--seed S] [--snaplen N] -o FILE\n"
            "\n"
            "Writes a deterministic synthetic capture (classic pcap, little-endian,\n"
            "microsecond timestamps, Ethernet).  The same options give the same bytes.\n"
            "\n"
            "  --frames N    number of frames (default %u; 0 writes only the file header)\n"
            "  --seed S      random seed, 0..2^64-1 (default %u)\n"
            "  --snaplen N   bytes stored per frame, 1..%u (default %u); longer frames\n"
            "                are cut, keeping their original length\n"
            "  -o FILE       output file ('-' for standard output)\n"
            "  --help        this text\n"
            "\n"
            "Traffic: Ethernet II, IPv4 and IPv6, some 802.1Q-tagged frames (VLAN 20),\n"
            "ARP request/reply; TCP connections to ports 80, 443, 22 and 25 with\n"
            "handshake, data both ways, delayed ACKs, FIN close and occasional\n"
            "retransmissions; UDP DNS (53), NTP (123), SNMP (161) and random high ports;\n"
            "ICMP and ICMPv6 echo request/reply.  Checksums are valid, frames are 60 to\n"
            "1514 bytes, timestamps rise from 2024-01-01 00:00:00 UTC.\n",
            DEFAULT_FRAMES, DEFAULT_SEED, MAX_SNAPLEN, DEFAULT_SNAPLEN);
}

static _Noreturn void usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "mkpcap: %s%s%s (try --help)\n", what, arg ? ": " : "", arg ? arg : "");
    exit(2);
}

static uint64_t parse_number(const char *option, const char *text, uint64_t min, uint64_t max)
{
    if (text == NULL)
        usage_error("missing value for", option);
    if (text[0] < '0' || text[0] > '9')
        usage_error("not a number", text);
    errno = 0;
    char *end;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || value < min || value > max) {
        char what[96];
        snprintf(what, sizeof what, "%s must be a number from %" PRIu64 " to %" PRIu64, option,
                 min, max);
        usage_error(what, text);
    }
    return value;
}

int main(int argc, char **argv)
{
    uint64_t frames = DEFAULT_FRAMES, seed = DEFAULT_SEED, snaplen = DEFAULT_SNAPLEN;
    const char *output = NULL;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        /* Accept both "--frames N" and "--frames=N". */
        const char *inline_value = NULL;
        char name[32];
        const char *eq = strchr(arg, '=');
        if (strncmp(arg, "--", 2) == 0 && eq != NULL && (size_t)(eq - arg) < sizeof name) {
            memcpy(name, arg, (size_t)(eq - arg));
            name[eq - arg] = '\0';
            arg = name;
            inline_value = eq + 1;
        }
        const char *value = inline_value ? inline_value : (i + 1 < argc ? argv[i + 1] : NULL);

        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            print_help(stdout);
            return 0;
        } else if (strcmp(arg, "--frames") == 0) {
            frames = parse_number(arg, value, 0, UINT32_MAX - 1u);
        } else if (strcmp(arg, "--seed") == 0) {
            seed = parse_number(arg, value, 0, UINT64_MAX);
        } else if (strcmp(arg, "--snaplen") == 0) {
            snaplen = parse_number(arg, value, 1, MAX_SNAPLEN);
        } else if (strcmp(arg, "-o") == 0 || strcmp(arg, "--output") == 0) {
            if (value == NULL || value[0] == '\0')
                usage_error("missing value for", arg);
            output = value;
        } else {
            usage_error("unknown argument", argv[i]);
        }
        if (inline_value == NULL)
            i++;
    }
    if (output == NULL)
        usage_error("no output file given (-o FILE)", NULL);

    bool to_stdout = strcmp(output, "-") == 0;
    FILE *out = to_stdout ? stdout : fopen(output, "wb");
    if (out == NULL) {
        fprintf(stderr, "mkpcap: cannot create %s: %s\n", output, strerror(errno));
        return 1;
    }
    static char out_buffer[1u << 20];
    setvbuf(out, out_buffer, _IOFBF, sizeof out_buffer);

    build_network();
    /* Large enough to be a struct we do not want on the stack. */
    static struct generator g;
    g.rng = seed;
    g.out = out;
    g.snaplen = (uint32_t)snaplen;
    g.frames_limit = frames;

    uint8_t file_header[24];
    put32le(file_header, 0xa1b2c3d4u);
    file_header[4] = 2;   /* version 2.4, little-endian */
    file_header[5] = 0;
    file_header[6] = 4;
    file_header[7] = 0;
    put32le(file_header + 8, 0);    /* thiszone */
    put32le(file_header + 12, 0);   /* sigfigs */
    put32le(file_header + 16, (uint32_t)snaplen);
    put32le(file_header + 20, LINKTYPE_ETHERNET);
    if (fwrite(file_header, sizeof file_header, 1, out) != 1)
        g.write_failed = true;

    while (!limit_reached(&g))
        generate_event(&g);

    bool failed = g.write_failed || fflush(out) != 0 || ferror(out);
    int saved_errno = errno;
    if (!to_stdout && fclose(out) != 0 && !failed) {
        failed = true;
        saved_errno = errno;
    }
    if (failed) {
        fprintf(stderr, "mkpcap: cannot write %s: %s\n", output, strerror(saved_errno));
        return 1;
    }
    return 0;
}
