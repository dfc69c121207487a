/*
 * recognize.c - a small, bounds-checked walk down a frame's headers.
 *
 * NetMon's parsers filled the recognize data; expert-sandbox has no parsers,
 * only this walk: link layer (per libpcap link type: Ethernet, Linux cooked,
 * raw IP, BSD loopback, 802.11 with or without radiotap, PPP, Cisco HDLC,
 * Frame Relay, NFLOG, IPNET), 802.2 LLC/SNAP, 802.1Q/802.1ad tags, ARP, IPv4
 * (options, first fragments only), IPv6 (with the extension headers that can
 * precede the transport), TCP, UDP, ICMP and ICMPv6.  Where the link layer
 * could be read more than one way, the walk reads it as tshark does, which is
 * what tests/test_api.c compares it with.
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

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[1] << 8 | p[0]);
}

/* Whether `need` bytes from `offset` were captured. */
static bool fits(const struct walk *w, size_t offset, size_t need)
{
    return need <= w->len && offset <= w->len - need;
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

static void ipv6(struct walk *w, size_t offset);

/* The version nibble must agree with the type that led here: a header of
 * another version is not recorded as IPv4, and its bytes are not read as
 * one.  Version 6 behind an IPv4 type is walked as IPv6, as tshark does; any
 * other version ends the table (tshark shows a bogus-version IPv4 header and
 * goes no further). */
static void ipv4(struct walk *w, size_t offset)
{
    if (!fits(w, offset, 1))
        return;
    unsigned version = w->p[offset] >> 4;
    if (version != 4) {
        if (version == 6)
            ipv6(w, offset);
        return;
    }
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

/* Only version 6: tshark shows a bogus-version IPv6 header and stops, the
 * walk records nothing. */
static void ipv6(struct walk *w, size_t offset)
{
    if (!fits(w, offset, 1) || w->p[offset] >> 4 != 6 || !add(w, ES_PROTOCOL_IPV6, offset, 40))
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

/* What follows an EtherType `type` read at `offset` (the caller has checked
 * those two bytes): 802.1Q tags, and 802.1ad (QinQ) tags outside them, as
 * many as the table has room for, each recorded where its TPID is (the
 * previous header's type field), then the protocol after the last tag. */
static void typed_payload(struct walk *w, size_t offset, uint16_t type)
{
    while (type == 0x8100 || type == 0x88A8 || type == 0x9100) {
        if (!add(w, ES_PROTOCOL_VLAN, offset, 4) || !fits(w, offset + 4, 2))
            return;
        type = be16(w->p + offset + 4);
        offset += 4;
    }
    by_ethertype(w, type, offset + 2);
}

/* 802.2 LLC with a SNAP header whose OUI says the protocol ID is an
 * EtherType: AA AA 03, OUI 00-00-00 (RFC 1042) or 00-00-F8 (802.1H
 * bridge tunnel).  Anything else (other SAPs, other OUIs) is not followed. */
static void llc_snap(struct walk *w, size_t offset)
{
    if (!fits(w, offset, 8))
        return;
    const uint8_t *llc = w->p + offset;
    if (llc[0] != 0xAA || llc[1] != 0xAA || llc[2] != 0x03 || llc[3] != 0 || llc[4] != 0 ||
        (llc[5] != 0 && llc[5] != 0xF8))
        return;
    if (add(w, ES_PROTOCOL_LLC_SNAP, offset, 8))
        typed_payload(w, offset + 6, be16(llc + 6));
}

static void ethernet(struct walk *w)
{
    if (!add(w, ES_PROTOCOL_ETHERNET, 0, 14))
        return;
    /* A type field up to 1500 is an 802.3 length: LLC follows. */
    uint16_t type = be16(w->p + 12);
    if (type <= 1500)
        llc_snap(w, 14);
    else
        typed_payload(w, 12, type);
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

/* --- IEEE 802.11 -------------------------------------------------------- */

#define WLAN_TO_DS 0x01
#define WLAN_FROM_DS 0x02
#define WLAN_PROTECTED 0x40
#define WLAN_ORDER 0x80

/* The 802.11 MAC header at `offset`; `datapad` when radiotap says the
 * driver padded the header to a multiple of four bytes.  Only data frames
 * that carry an MSDU in the clear go on to LLC: protected (encrypted)
 * bodies, null (no data) subtypes and A-MSDUs end the table after the MAC
 * header, as do management, control and extension frames. */
static void ieee80211(struct walk *w, size_t offset, bool datapad)
{
    /* Frame control, duration and the first address: the least any frame
     * (ACK, CTS) has. */
    if (!fits(w, offset, 10))
        return;
    const uint8_t *mac = w->p + offset;
    unsigned version = mac[0] & 3, type = (mac[0] >> 2) & 3, subtype = mac[0] >> 4, flags = mac[1];
    if (version != 0 || type != 2) {
        add(w, ES_PROTOCOL_IEEE80211, offset, 10);
        return;
    }
    size_t header = 24;
    if ((flags & (WLAN_TO_DS | WLAN_FROM_DS)) == (WLAN_TO_DS | WLAN_FROM_DS))
        header += 6;   /* the fourth address, between distribution systems */
    bool qos = subtype & 0x8;
    size_t qos_at = offset + header;
    if (qos) {
        header += 2;
        if (flags & WLAN_ORDER)
            header += 4;   /* HT Control: the Order bit means +HTC in QoS data */
    }
    if (!add(w, ES_PROTOCOL_IEEE80211, offset, header))
        return;
    if ((flags & WLAN_PROTECTED) || (subtype & 0x4))
        return;
    size_t body = offset + (datapad ? (header + 3) / 4 * 4 : header);
    if (qos) {
        uint16_t qos_control = le16(w->p + qos_at);
        if (qos_control & 0x0080)
            return;   /* A-MSDU: subframes with their own headers */
        /* A mesh (802.11s) frame's Mesh Control, 6 bytes plus 6 per
         * extended address; tshark takes the Mesh Control Present bit as
         * meaning it only when the mesh flags' reserved bits are clear. */
        if ((qos_control & 0x0100) && fits(w, body, 1) && (w->p[body] & 0xFC) == 0) {
            unsigned extension = w->p[body] & 3;
            if (extension == 3)
                return;
            body += 6 + 6 * (size_t)extension;
        }
    }
    llc_snap(w, body);
}

/* Radiotap: a little-endian header of its own length, then the 802.11
 * frame.  Only the Flags field matters here (data padding); it is the
 * second field of the first presence bitmap, after TSFT if that is
 * present, and the fields start after the last bitmap. */
static void radiotap(struct walk *w)
{
    if (!add(w, ES_PROTOCOL_RADIOTAP, 0, 8))
        return;
    size_t length = le16(w->p + 2);
    if (length < 8)
        return;
    uint32_t present = (uint32_t)le16(w->p + 4) | (uint32_t)le16(w->p + 6) << 16;
    size_t fields = 8;
    for (size_t at = 4; fits(w, at, 4) && (w->p[at + 3] & 0x80) && fields + 4 <= length; at += 4)
        fields += 4;   /* bit 31: another bitmap follows */
    bool datapad = false;
    if (present & 0x2) {
        size_t flags_at = fields;
        if (present & 0x1)
            flags_at = (flags_at + 7) / 8 * 8 + 8;   /* TSFT: 8 bytes, 8-aligned */
        if (flags_at < length && fits(w, flags_at, 1))
            datapad = w->p[flags_at] & 0x20;
    }
    ieee80211(w, length, datapad);
}

/* --- serial links ------------------------------------------------------- */

static void ip_by_type(struct walk *w, uint16_t type, size_t offset)
{
    if (type == 0x0800)
        ipv4(w, offset);
    else if (type == 0x86DD)
        ipv6(w, offset);
}

/* Cisco HDLC: address (0x0F unicast, 0x8F broadcast), control, and an
 * EtherType.  Serial links need no ARP, and tshark follows only IP here. */
static void cisco_hdlc(struct walk *w)
{
    if (add(w, ES_PROTOCOL_CISCO_HDLC, 0, 4))
        ip_by_type(w, be16(w->p + 2), 4);
}

/* PPP, as DLT_PPP and DLT_PPP_SERIAL carry it: an optional FF address (and
 * the control byte after it), then the protocol, one byte when its low bit
 * is set (protocol-field compression).  A frame starting 0F or 8F is Cisco
 * HDLC, which PPP_SERIAL captures also hold. */
static void ppp(struct walk *w)
{
    if (!fits(w, 0, 1))
        return;
    const uint8_t *p = w->p;
    if (p[0] == 0x0F || p[0] == 0x8F) {
        cisco_hdlc(w);
        return;
    }
    size_t at = p[0] == 0xFF ? 2 : 0;
    if (!fits(w, at, 1))
        return;
    bool compressed = p[at] & 1;
    size_t header = at + (compressed ? 1 : 2);
    if (!add(w, ES_PROTOCOL_PPP, 0, header))
        return;
    unsigned protocol = compressed ? p[at] : be16(p + at);
    if (protocol == 0x21)
        ipv4(w, header);
    else if (protocol == 0x57)
        ipv6(w, header);
    else
        ip_by_type(w, (uint16_t)protocol, header);   /* Cisco's EtherTypes in PPP, as tshark reads them */
}

/* Frame Relay: a Q.922 address of two to four bytes (the last has its EA
 * bit set), then either RFC 2427's UI control byte and an NLPID (one
 * padding zero allowed before it; 0x80 is SNAP, whose OUI 00-00-00 means an
 * EtherType), or Cisco's encapsulation, an EtherType. */
static void frame_relay(struct walk *w)
{
    size_t address = 0;
    while (address < 4 && fits(w, address, 1) && !(w->p[address++] & 1))
        ;
    if (address < 2 || !fits(w, address - 1, 1) || !(w->p[address - 1] & 1) || !fits(w, address, 2))
        return;
    const uint8_t *p = w->p;
    if (p[address] != 0x03) {
        if (add(w, ES_PROTOCOL_FRAME_RELAY, 0, address + 2))
            ip_by_type(w, be16(p + address), address + 2);
        return;
    }
    size_t nlpid = address + 1;
    if (p[nlpid] == 0x00)
        nlpid++;
    if (!add(w, ES_PROTOCOL_FRAME_RELAY, 0, nlpid + 1))
        return;
    if (p[nlpid] == 0xCC) {
        ipv4(w, nlpid + 1);
    } else if (p[nlpid] == 0x8E) {
        ipv6(w, nlpid + 1);
    } else if (p[nlpid] == 0x80 && fits(w, nlpid + 1, 5) && p[nlpid + 1] == 0 && p[nlpid + 2] == 0 &&
               p[nlpid + 3] == 0) {
        ip_by_type(w, be16(p + nlpid + 4), nlpid + 6);
    }
}

/* --- capture pseudo-headers ---------------------------------------------- */

/* Linux NFLOG: family, version, resource ID, then TLVs (length including
 * its 4-byte head, type; both in the capturing host's order, which libpcap
 * has turned into ours), each padded to 4 bytes.  The packet is the value of
 * the NFULA_PAYLOAD (9) TLV. */
static void nflog(struct walk *w)
{
    if (!add(w, ES_PROTOCOL_NFLOG, 0, 4))
        return;
    unsigned family = w->p[0];
    size_t at = 4;
    while (fits(w, at, 4)) {
        uint16_t length, type;
        memcpy(&length, w->p + at, 2);
        memcpy(&type, w->p + at + 2, 2);
        if (length < 4)
            return;
        if ((type & 0x7FFF) == 9) {
            if (family == 2)
                ipv4(w, at + 4);
            else if (family == 10)
                ipv6(w, at + 4);
            return;
        }
        at += ((size_t)length + 3) / 4 * 4;
    }
}

/* Solaris IPNET: a 24-byte header whose second byte is the address family
 * (2 IPv4, 26 IPv6). */
static void ipnet(struct walk *w)
{
    if (!add(w, ES_PROTOCOL_IPNET, 0, 24))
        return;
    if (w->p[1] == 2)
        ipv4(w, 24);
    else if (w->p[1] == 26)
        ipv6(w, 24);
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
            typed_payload(&w, 14, be16(bytes + 14));
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
    case DLT_IEEE802_11_RADIO:
        radiotap(&w);
        break;
    case DLT_IEEE802_11:
        ieee80211(&w, 0, false);
        break;
    case DLT_PPP:
    case DLT_PPP_SERIAL:
        ppp(&w);
        break;
    case DLT_C_HDLC:
        cisco_hdlc(&w);
        break;
    case DLT_FRELAY:
        frame_relay(&w);
        break;
    case DLT_NFLOG:
        nflog(&w);
        break;
    case DLT_IPNET:
        ipnet(&w);
        break;
    default:
        break;
    }
}
