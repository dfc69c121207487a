/*
 * recognize.c - a small, bounds-checked walk down a frame's headers.
 *
 * NetMon's parsers filled the recognize data; expert-sandbox has no parsers,
 * only this walk: link layer (per libpcap link type), 802.1Q/802.1ad tags,
 * ARP, IPv4 (options, first fragments only), IPv6 (with the extension
 * headers that can precede the transport), TCP, UDP, ICMP and ICMPv6.
 */
#include "recognize.h"

#include <pcap/dlt.h>
#include <stdbool.h>
#include <string.h>

struct walk {
    const uint8_t *p;
    size_t len;
    RECOGNIZEDATATABLE *out;
};

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Records a protocol starting at `offset` whose smallest header is `need`
 * bytes; false (and nothing recorded) if that does not fit. */
static bool add(struct walk *w, WORD protocol, size_t offset, size_t need)
{
    RECOGNIZEDATATABLE *t = w->out;
    if (offset > 0xFFFF || need > w->len || offset > w->len - need || t->nRecognizeDatas >= ES_MAX_RECOGNIZED)
        return false;
    RECOGNIZEDATA *r = &t->RecognizeData[t->nRecognizeDatas++];
    r->ProtocolID = protocol;
    r->nProtocolOffset = (WORD)offset;
    r->InstData = NULL;
    return true;
}

static void transport(struct walk *w, unsigned proto, size_t offset)
{
    switch (proto) {
    case 6:
        add(w, ES_PROTOCOL_TCP, offset, 20);
        break;
    case 17:
        add(w, ES_PROTOCOL_UDP, offset, 8);
        break;
    case 1:
        add(w, ES_PROTOCOL_ICMP, offset, 4);
        break;
    case 58:
        add(w, ES_PROTOCOL_ICMPV6, offset, 4);
        break;
    default:
        break;
    }
}

static void ipv4(struct walk *w, size_t offset)
{
    if (!add(w, ES_PROTOCOL_IPV4, offset, 20))
        return;
    const uint8_t *ip = w->p + offset;
    size_t header = (size_t)(ip[0] & 0x0F) * 4;
    uint16_t fragment_offset = be16(ip + 6) & 0x1FFF;
    /* Later fragments carry no transport header. */
    if (header < 20 || fragment_offset != 0)
        return;
    transport(w, ip[9], offset + header);
}

static bool is_ipv6_extension(unsigned next)
{
    return next == 0 || next == 43 || next == 60 || next == 44 || next == 51;
}

static void ipv6(struct walk *w, size_t offset)
{
    if (!add(w, ES_PROTOCOL_IPV6, offset, 40))
        return;
    unsigned next = w->p[offset + 6];
    size_t at = offset + 40;
    for (int hops = 0; hops < 8 && is_ipv6_extension(next); hops++) {
        if (at + 8 > w->len)
            return;
        const uint8_t *ext = w->p + at;
        size_t len;
        if (next == 44) {
            if ((be16(ext + 2) & 0xFFF8) != 0)
                return;   /* not the first fragment */
            len = 8;
        } else if (next == 51) {
            len = ((size_t)ext[1] + 2) * 4;
        } else {
            len = ((size_t)ext[1] + 1) * 8;
        }
        next = ext[0];
        at += len;
    }
    transport(w, next, at);
}

static void by_ethertype(struct walk *w, uint16_t type, size_t offset)
{
    if (type == 0x0800)
        ipv4(w, offset);
    else if (type == 0x86DD)
        ipv6(w, offset);
    else if (type == 0x0806)
        add(w, ES_PROTOCOL_ARP, offset, 8);
}

static void ethernet(struct walk *w)
{
    if (!add(w, ES_PROTOCOL_ETHERNET, 0, 14))
        return;
    size_t offset = 12;
    uint16_t type = be16(w->p + offset);
    /* 802.1Q tags, and 802.1ad (QinQ) tags outside them, as many as the
     * table has room for. */
    while (type == 0x8100 || type == 0x88A8 || type == 0x9100) {
        if (!add(w, ES_PROTOCOL_VLAN, offset, 4) || offset + 6 > w->len)
            return;
        type = be16(w->p + offset + 4);
        offset += 4;
    }
    by_ethertype(w, type, offset + 2);
}

static void raw_ip(struct walk *w, size_t offset)
{
    if (offset >= w->len)
        return;
    unsigned version = w->p[offset] >> 4;
    if (version == 4)
        ipv4(w, offset);
    else if (version == 6)
        ipv6(w, offset);
}

/* BSD loopback: a 4-byte address family, host order (NULL) or network order
 * (LOOP); IPv6's family number differs between systems. */
static void loopback(struct walk *w, bool network_order)
{
    if (!add(w, ES_PROTOCOL_LOOPBACK, 0, 4))
        return;
    const uint8_t *p = w->p;
    uint32_t family = network_order ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
                                    : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
    /* NULL is in the byte order of the machine that captured, which may not
     * be ours: families are small numbers, so a value with only its high
     * half set was written the other way round. */
    if ((family & 0xFFFF) == 0 && family != 0)
        family = __builtin_bswap32(family);
    if (family == 2)
        ipv4(w, 4);
    else if (family == 10 || family == 24 || family == 28 || family == 30)
        ipv6(w, 4);
}

void es_recognize(uint32_t link_type, const uint8_t *bytes, size_t captured, RECOGNIZEDATATABLE *out)
{
    struct walk w = {bytes, captured, out};
    out->nRecognizeDatas = 0;
    switch (link_type) {
    case DLT_EN10MB:
        ethernet(&w);
        break;
    case DLT_LINUX_SLL:
        if (add(&w, ES_PROTOCOL_LINUX_SLL, 0, 16))
            by_ethertype(&w, be16(bytes + 14), 16);
        break;
    case DLT_LINUX_SLL2:
        if (add(&w, ES_PROTOCOL_LINUX_SLL, 0, 20))
            by_ethertype(&w, be16(bytes), 20);
        break;
    case DLT_RAW:
    case 101: /* LINKTYPE_RAW, should libpcap pass it through */
    case DLT_IPV4:
    case DLT_IPV6:
        raw_ip(&w, 0);
        break;
    case DLT_NULL:
        loopback(&w, false);
        break;
    case DLT_LOOP:
        loopback(&w, true);
        break;
    case DLT_PPP:
        if (captured >= 4 && bytes[0] == 0xFF && bytes[1] == 0x03) {
            uint16_t proto = be16(bytes + 2);
            if (proto == 0x0021)
                ipv4(&w, 4);
            else if (proto == 0x0057)
                ipv6(&w, 4);
        }
        break;
    default:
        break;
    }
}
