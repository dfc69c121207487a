/*
 * frameparse.h - a small, header-only, bounds-checked frame parser shared by
 * the sample experts (tcpretrans, topusers, resptime).
 *
 * It decodes what those experts need from one frame:
 *
 *   Ethernet II (and 802.3 length frames, which stop there), up to two
 *   802.1Q / 802.1ad / 0x9100 VLAN tags; also the link headers of Linux
 *   cooked captures (v1, v2), BSD loopback (NULL, LOOP) and raw IP, so
 *   that a capture of those link types is not lost; ARP, IPv4 (options skipped,
 *   fragments recognised), IPv6 (hop-by-hop, routing, fragment, destination
 *   options, AH and mobility extension headers skipped), TCP, UDP, ICMP and
 *   ICMPv6.
 *
 * Every layer is reported as offsets into the frame plus the header fields
 * the experts use; nothing is copied and nothing is allocated.  Every read is
 * checked against the captured length first, so a frame that is truncated,
 * padded or plain garbage only stops the parse early: it never reads past the
 * end of the frame.  fp_parse_frame() tells how far it got.
 *
 * Lengths follow Wireshark's rules where the experts compare with tshark:
 * a layer's "reported" length comes from the length fields of the headers
 * (IPv4 total length, IPv6 payload length), limited by what was on the wire
 * (FRAME.FrameLength), never by what was captured (nBytesAvail).  So the TCP
 * segment length of a frame cut by the snapshot length is still its real
 * length, and Ethernet padding after a short IP datagram is not payload.
 *
 * Only netmon.h types and <stddef.h>/<stdint.h>/<string.h> are used; all
 * functions are static inline, so an expert that includes this header pays
 * only for what it calls.
 */
#ifndef EXPERTS_FRAMEPARSE_H
#define EXPERTS_FRAMEPARSE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "netmon.h"

/* libpcap link types (DLT_*), as GetCaptureLinkType() gives them. */
#define FP_DLT_NULL 0u          /* BSD loopback, family in host byte order */
#define FP_DLT_EN10MB 1u        /* Ethernet */
#define FP_DLT_RAW 12u          /* raw IPv4 or IPv6 (LINKTYPE_RAW, 101, in files) */
#define FP_DLT_RAW_OPENBSD 14u  /* the same, as OpenBSD numbers it */
#define FP_DLT_LOOP 108u        /* OpenBSD loopback, family in network byte order */
#define FP_DLT_LINUX_SLL 113u   /* Linux "cooked" capture */
#define FP_DLT_IPV4 228u        /* raw IPv4 */
#define FP_DLT_IPV6 229u        /* raw IPv6 */
#define FP_DLT_LINUX_SLL2 276u  /* Linux "cooked" capture, version 2 */

#define FP_ETHERNET_HEADER_LENGTH 14u
#define FP_MAC_LENGTH 6u
#define FP_VLAN_TAG_LENGTH 4u
#define FP_MAX_VLAN_TAGS 2u
#define FP_MIN_ETHERTYPE 0x0600u   /* below: an IEEE 802.3 length, not a type */

#define FP_ETHERTYPE_IPV4 0x0800u
#define FP_ETHERTYPE_ARP 0x0806u
#define FP_ETHERTYPE_VLAN 0x8100u
#define FP_ETHERTYPE_IPV6 0x86DDu
#define FP_ETHERTYPE_QINQ 0x88A8u
#define FP_ETHERTYPE_QINQ_LEGACY 0x9100u

#define FP_IPV4_MIN_HEADER 20u
#define FP_IPV6_HEADER 40u
#define FP_TCP_MIN_HEADER 20u
#define FP_UDP_HEADER 8u
#define FP_ARP_FIXED_HEADER 8u

#define FP_PROTO_HOPOPTS 0u
#define FP_PROTO_ICMP 1u
#define FP_PROTO_TCP 6u
#define FP_PROTO_UDP 17u
#define FP_PROTO_ROUTING 43u
#define FP_PROTO_FRAGMENT 44u
#define FP_PROTO_AH 51u
#define FP_PROTO_ICMPV6 58u
#define FP_PROTO_DSTOPTS 60u
#define FP_PROTO_MOBILITY 135u

/* An IPv6 chain longer than this is treated as malformed: real traffic
 * rarely carries more than two or three extension headers. */
#define FP_MAX_IPV6_EXTENSION_HEADERS 8u

/* TCP flag bits, in the low 9 bits of the 16-bit word at offset 12. */
#define FP_TCP_FIN 0x001u
#define FP_TCP_SYN 0x002u
#define FP_TCP_RST 0x004u
#define FP_TCP_PSH 0x008u
#define FP_TCP_ACK 0x010u
#define FP_TCP_URG 0x020u
#define FP_TCP_ECE 0x040u
#define FP_TCP_CWR 0x080u
#define FP_TCP_NS 0x100u

/* How far fp_parse_frame() got.  Each value implies the ones before it. */
enum fp_layer {
    FP_LAYER_NONE = 0,        /* no link header this parser reads */
    FP_LAYER_LINK = 1,        /* link header (and VLAN tags): type, MACs for Ethernet */
    FP_LAYER_NETWORK = 2,     /* ARP, IPv4 or IPv6 header */
    FP_LAYER_TRANSPORT = 3,   /* TCP, UDP, ICMP or ICMPv6 header */
};

enum fp_network {
    FP_NETWORK_NONE = 0,      /* unknown type, 802.3 frame, or unreadable header */
    FP_NETWORK_ARP,
    FP_NETWORK_IPV4,
    FP_NETWORK_IPV6,
};

enum fp_transport {
    FP_TRANSPORT_NONE = 0,    /* not parsed: other protocol, later fragment, cut short */
    FP_TRANSPORT_TCP,
    FP_TRANSPORT_UDP,
    FP_TRANSPORT_ICMP,
    FP_TRANSPORT_ICMPV6,
};

struct fp_packet {
    const BYTE *frame;            /* the frame, as given */
    size_t captured_length;       /* bytes readable at frame */
    size_t wire_length;           /* bytes that were on the wire (>= captured) */

    /* Link layer: valid from FP_LAYER_LINK on. */
    const BYTE *destination_mac;  /* 6 bytes; Ethernet only, else NULL */
    const BYTE *source_mac;       /* 6 bytes; Ethernet only, else NULL */
    unsigned vlan_tags;           /* tags skipped (0 to FP_MAX_VLAN_TAGS) */
    WORD vlan_id;                 /* VLAN id of the outer tag, 0 without one */
    WORD ethertype;               /* type after the tags; < 0x0600: 802.3 length */
    size_t network_offset;        /* first byte after the link header(s) */

    /* Network layer: valid from FP_LAYER_NETWORK on. */
    enum fp_network network;
    size_t network_header_length; /* IPv4 with options; IPv6 with extensions; ARP fixed+addresses */
    const BYTE *source_ip;        /* 4 or 16 bytes; NULL for ARP */
    const BYTE *destination_ip;
    unsigned ip_address_length;   /* 4 or 16 */
    BYTE ip_protocol;             /* upper-layer protocol after any extension headers */
    BYTE ip_ttl;                  /* TTL or hop limit */
    int ip_header_complete;       /* every IP header byte (IPv4 options, IPv6 extension
                                   * headers) was captured and lies inside the datagram */
    int is_fragment;              /* an IPv4 or IPv6 fragment (first or later) */
    int is_later_fragment;        /* a fragment at a non-zero offset: no transport header */
    uint32_t ip_payload_length;   /* reported bytes after the IP header(s), see above */
    WORD arp_operation;           /* ARP: 1 request, 2 reply */
    const BYTE *arp_sender_ip;    /* ARP over Ethernet/IPv4 only, else NULL */
    const BYTE *arp_target_ip;

    /* Transport layer: valid from FP_LAYER_TRANSPORT on. */
    enum fp_transport transport;
    size_t transport_offset;      /* first byte of the TCP/UDP/ICMP header */
    WORD source_port;             /* TCP and UDP */
    WORD destination_port;
    DWORD tcp_sequence;
    DWORD tcp_acknowledgement;
    WORD tcp_flags;               /* FP_TCP_* */
    WORD tcp_window;              /* as sent, unscaled */
    size_t tcp_header_length;     /* data offset * 4 */
    BYTE icmp_type;               /* ICMP and ICMPv6 */
    BYTE icmp_code;
    size_t payload_offset;        /* TCP/UDP payload's first byte (may be past the capture) */
    uint32_t payload_length;      /* reported TCP/UDP payload bytes */
};

/* ------------------------------------------------------------------------ */
/* Bounds-checked reads                                                     */
/* ------------------------------------------------------------------------ */

/* True when length bytes starting at offset lie inside the captured frame;
 * written so that no sum can overflow. */
static inline int fp_have(const struct fp_packet *packet, size_t offset, size_t length)
{
    return offset <= packet->captured_length && packet->captured_length - offset >= length;
}

static inline BYTE fp_u8(const struct fp_packet *packet, size_t offset)
{
    return packet->frame[offset];
}

static inline WORD fp_u16(const struct fp_packet *packet, size_t offset)
{
    return (WORD)((packet->frame[offset] << 8) | packet->frame[offset + 1]);
}

static inline DWORD fp_u32(const struct fp_packet *packet, size_t offset)
{
    return ((DWORD)packet->frame[offset] << 24) | ((DWORD)packet->frame[offset + 1] << 16) |
           ((DWORD)packet->frame[offset + 2] << 8) | (DWORD)packet->frame[offset + 3];
}

/* Bytes that were on the wire from offset to the end of the frame. */
static inline size_t fp_wire_remaining(const struct fp_packet *packet, size_t offset)
{
    return offset < packet->wire_length ? packet->wire_length - offset : 0;
}

static inline int fp_is_vlan_ethertype(WORD ethertype)
{
    return ethertype == FP_ETHERTYPE_VLAN || ethertype == FP_ETHERTYPE_QINQ ||
           ethertype == FP_ETHERTYPE_QINQ_LEGACY;
}

/* ------------------------------------------------------------------------ */
/* Layers                                                                   */
/* ------------------------------------------------------------------------ */

/* The datagram length the IP header claims, limited to what was on the wire
 * after the IP header's start, as Wireshark's reported length is.  A length
 * of 0 is what TCP segmentation offload leaves in locally captured frames:
 * the datagram then runs to the end of the frame. */
static inline size_t fp_ip_datagram_length(const struct fp_packet *packet, size_t claimed)
{
    size_t on_wire = fp_wire_remaining(packet, packet->network_offset);
    if (claimed == 0 || claimed > on_wire)
        return on_wire;
    return claimed;
}

static inline int fp_parse_ipv4(struct fp_packet *packet)
{
    size_t at = packet->network_offset;
    if (!fp_have(packet, at, FP_IPV4_MIN_HEADER) || (fp_u8(packet, at) >> 4) != 4)
        return 0;
    size_t header_length = (size_t)(fp_u8(packet, at) & 0x0F) * 4;
    size_t total_length = fp_u16(packet, at + 2);
    /* A header shorter than 20 bytes, longer than the datagram, or cut off
     * by the capture (options included) is not trusted at all: Wireshark
     * does not count such a datagram either. */
    if (header_length < FP_IPV4_MIN_HEADER || !fp_have(packet, at, header_length))
        return 0;
    if (total_length != 0 && total_length < header_length)
        return 0;
    WORD fragment_field = fp_u16(packet, at + 6);
    size_t datagram = fp_ip_datagram_length(packet, total_length);

    packet->network = FP_NETWORK_IPV4;
    packet->ip_header_complete = 1;   /* checked above */
    packet->network_header_length = header_length;
    packet->ip_ttl = fp_u8(packet, at + 8);
    packet->ip_protocol = fp_u8(packet, at + 9);
    packet->source_ip = packet->frame + at + 12;
    packet->destination_ip = packet->frame + at + 16;
    packet->ip_address_length = 4;
    /* More-fragments flag or a non-zero offset: part of a larger datagram. */
    packet->is_fragment = (fragment_field & 0x3FFF) != 0;
    packet->is_later_fragment = (fragment_field & 0x1FFF) != 0;
    packet->ip_payload_length = datagram > header_length ? (uint32_t)(datagram - header_length) : 0;
    packet->transport_offset = at + header_length;
    return 1;
}

/* The Jumbo Payload option (RFC 2675) of a hop-by-hop header at offset, if
 * it has one: the datagram's length when the payload length field is 0. */
static inline int fp_find_jumbo_length(const struct fp_packet *packet, size_t offset, size_t length,
                                       DWORD *jumbo_length)
{
    size_t option = offset + 2;
    while (option < offset + length && fp_have(packet, option, 1)) {
        BYTE type = fp_u8(packet, option);
        if (type == 0) {   /* Pad1 has no length byte */
            option++;
            continue;
        }
        if (!fp_have(packet, option, 2))
            return 0;
        BYTE option_length = fp_u8(packet, option + 1);
        if (type == 0xC2 && option_length == 4 && fp_have(packet, option + 2, 4)) {
            *jumbo_length = fp_u32(packet, option + 2);
            return 1;
        }
        option += 2 + (size_t)option_length;
    }
    return 0;
}

static inline int fp_parse_ipv6(struct fp_packet *packet)
{
    size_t at = packet->network_offset;
    if (!fp_have(packet, at, FP_IPV6_HEADER) || (fp_u8(packet, at) >> 4) != 6)
        return 0;
    size_t payload_length = fp_u16(packet, at + 4);
    BYTE next_header = fp_u8(packet, at + 6);

    packet->network = FP_NETWORK_IPV6;
    packet->ip_ttl = fp_u8(packet, at + 7);
    packet->source_ip = packet->frame + at + 8;
    packet->destination_ip = packet->frame + at + 24;
    packet->ip_address_length = 16;

    /* A payload length of 0 means a jumbogram when a hop-by-hop header
     * follows, whose Jumbo Payload option then holds the length (malformed
     * without one, as Wireshark sees it); otherwise it is what TCP
     * segmentation offload leaves in a locally captured frame, and the
     * datagram runs to the end of the frame. */
    int complete = 1;
    size_t datagram;
    if (payload_length != 0 || next_header != FP_PROTO_HOPOPTS) {
        datagram = fp_ip_datagram_length(packet, payload_length == 0 ? 0 : payload_length + FP_IPV6_HEADER);
    } else {
        DWORD jumbo_length = 0;
        size_t first = at + FP_IPV6_HEADER;
        if (fp_have(packet, first, 2) &&
            fp_find_jumbo_length(packet, first, ((size_t)fp_u8(packet, first + 1) + 1) * 8, &jumbo_length)) {
            datagram = fp_ip_datagram_length(packet, (size_t)jumbo_length + FP_IPV6_HEADER);
        } else {
            complete = 0;
            datagram = fp_wire_remaining(packet, at);
        }
    }

    /* Walk the extension headers to the upper-layer protocol.  A header cut
     * off by the capture, or running past the datagram, ends the walk and
     * marks the IP header incomplete; so does a chain longer than the limit.
     * The protocol is then that of the header not walked, and no transport
     * is parsed past the capture. */
    size_t offset = at + FP_IPV6_HEADER;
    unsigned hops = 0;
    for (;;) {
        size_t extension_length;
        if (next_header == FP_PROTO_HOPOPTS || next_header == FP_PROTO_ROUTING ||
            next_header == FP_PROTO_DSTOPTS || next_header == FP_PROTO_MOBILITY) {
            extension_length = fp_have(packet, offset, 2) ? ((size_t)fp_u8(packet, offset + 1) + 1) * 8 : 8;
        } else if (next_header == FP_PROTO_AH) {
            /* AH counts its length in 4-byte words, minus 2. */
            extension_length = fp_have(packet, offset, 2) ? ((size_t)fp_u8(packet, offset + 1) + 2) * 4 : 8;
        } else if (next_header == FP_PROTO_FRAGMENT) {
            extension_length = 8;
        } else {
            break;
        }
        if (hops++ == FP_MAX_IPV6_EXTENSION_HEADERS || !fp_have(packet, offset, extension_length) ||
            offset - at + extension_length > datagram) {
            complete = 0;
            break;
        }
        if (next_header == FP_PROTO_FRAGMENT) {
            packet->is_fragment = 1;
            if ((fp_u16(packet, offset + 2) & 0xFFF8) != 0)
                packet->is_later_fragment = 1;
        }
        next_header = fp_u8(packet, offset);
        offset += extension_length;
    }
    packet->ip_header_complete = complete;
    packet->ip_protocol = next_header;
    packet->network_header_length = offset - at;
    size_t headers = offset - at;
    packet->ip_payload_length = datagram > headers ? (uint32_t)(datagram - headers) : 0;
    packet->transport_offset = offset;
    return 1;
}

static inline int fp_parse_arp(struct fp_packet *packet)
{
    size_t at = packet->network_offset;
    if (!fp_have(packet, at, FP_ARP_FIXED_HEADER))
        return 0;
    WORD hardware_type = fp_u16(packet, at);
    WORD protocol_type = fp_u16(packet, at + 2);
    BYTE hardware_length = fp_u8(packet, at + 4);
    BYTE protocol_length = fp_u8(packet, at + 5);
    size_t addresses = 2 * ((size_t)hardware_length + protocol_length);

    packet->network = FP_NETWORK_ARP;
    packet->arp_operation = fp_u16(packet, at + 6);
    packet->network_header_length = FP_ARP_FIXED_HEADER + addresses;
    /* Sender and target IPv4 addresses only for the usual Ethernet/IPv4
     * shape, and only when all of it was captured. */
    if (hardware_type == 1 && protocol_type == FP_ETHERTYPE_IPV4 && hardware_length == FP_MAC_LENGTH &&
        protocol_length == 4 && fp_have(packet, at, FP_ARP_FIXED_HEADER + addresses)) {
        packet->arp_sender_ip = packet->frame + at + FP_ARP_FIXED_HEADER + FP_MAC_LENGTH;
        packet->arp_target_ip = packet->frame + at + FP_ARP_FIXED_HEADER + 2 * FP_MAC_LENGTH + 4;
    }
    return 1;
}

/* Transport header of an IPv4/IPv6 packet; returns 1 when one was parsed. */
static inline int fp_parse_transport(struct fp_packet *packet)
{
    size_t at = packet->transport_offset;
    if (packet->is_later_fragment || !packet->ip_header_complete)
        return 0;
    switch (packet->ip_protocol) {
    case FP_PROTO_TCP: {
        if (!fp_have(packet, at, FP_TCP_MIN_HEADER))
            return 0;
        size_t header_length = (size_t)(fp_u8(packet, at + 12) >> 4) * 4;
        /* A data offset below 5 words cannot hold the fixed header: the
         * segment is garbage, and its length would be meaningless. */
        if (header_length < FP_TCP_MIN_HEADER)
            return 0;
        packet->transport = FP_TRANSPORT_TCP;
        packet->source_port = fp_u16(packet, at);
        packet->destination_port = fp_u16(packet, at + 2);
        packet->tcp_sequence = fp_u32(packet, at + 4);
        packet->tcp_acknowledgement = fp_u32(packet, at + 8);
        packet->tcp_flags = (WORD)(fp_u16(packet, at + 12) & 0x01FF);
        packet->tcp_window = fp_u16(packet, at + 14);
        packet->tcp_header_length = header_length;
        packet->payload_offset = at + header_length;
        packet->payload_length = packet->ip_payload_length > header_length
                                     ? (uint32_t)(packet->ip_payload_length - header_length)
                                     : 0;
        return 1;
    }
    case FP_PROTO_UDP: {
        if (!fp_have(packet, at, FP_UDP_HEADER))
            return 0;
        packet->transport = FP_TRANSPORT_UDP;
        packet->source_port = fp_u16(packet, at);
        packet->destination_port = fp_u16(packet, at + 2);
        size_t claimed = fp_u16(packet, at + 4);
        size_t available = packet->ip_payload_length;
        /* The smaller of what UDP and what IP say, never below the header. */
        size_t length = claimed != 0 && claimed < available ? claimed : available;
        packet->payload_offset = at + FP_UDP_HEADER;
        packet->payload_length = length > FP_UDP_HEADER ? (uint32_t)(length - FP_UDP_HEADER) : 0;
        return 1;
    }
    case FP_PROTO_ICMP:
    case FP_PROTO_ICMPV6:
        if (!fp_have(packet, at, 2))
            return 0;
        packet->transport = packet->ip_protocol == FP_PROTO_ICMP ? FP_TRANSPORT_ICMP : FP_TRANSPORT_ICMPV6;
        packet->icmp_type = fp_u8(packet, at);
        packet->icmp_code = fp_u8(packet, at + 1);
        return 1;
    default:
        return 0;
    }
}

/* Skips up to FP_MAX_VLAN_TAGS tags after a type field at offset - 2.  A
 * tag is 2 bytes of priority and VLAN id, then the inner type; a tag cut
 * off by the capture is left in place, with the tag's own type. */
static inline void fp_skip_vlan_tags(struct fp_packet *packet, WORD ethertype, size_t offset)
{
    while (packet->vlan_tags < FP_MAX_VLAN_TAGS && fp_is_vlan_ethertype(ethertype) &&
           fp_have(packet, offset, FP_VLAN_TAG_LENGTH)) {
        if (packet->vlan_tags == 0)
            packet->vlan_id = (WORD)(fp_u16(packet, offset) & 0x0FFF);
        ethertype = fp_u16(packet, offset + 2);
        offset += FP_VLAN_TAG_LENGTH;
        packet->vlan_tags++;
    }
    packet->ethertype = ethertype;
    packet->network_offset = offset;
}

/* The EtherType of a raw IP packet: its version nibble says which. */
static inline int fp_raw_ip(struct fp_packet *packet, size_t offset)
{
    if (!fp_have(packet, offset, 1))
        return 0;
    BYTE version = fp_u8(packet, offset) >> 4;
    if (version != 4 && version != 6)
        return 0;
    packet->ethertype = (WORD)(version == 4 ? FP_ETHERTYPE_IPV4 : FP_ETHERTYPE_IPV6);
    packet->network_offset = offset;
    return 1;
}

/* The EtherType for a BSD address family (DLT_NULL, DLT_LOOP).  IPv6's
 * value differs between the systems that write such captures. */
static inline int fp_address_family(struct fp_packet *packet, DWORD family)
{
    if (family == 2)
        packet->ethertype = FP_ETHERTYPE_IPV4;
    else if (family == 10 || family == 24 || family == 28 || family == 30)
        packet->ethertype = FP_ETHERTYPE_IPV6;   /* Linux, NetBSD/OpenBSD, FreeBSD, macOS */
    else
        return 0;
    packet->network_offset = 4;
    return 1;
}

/*
 * The link-layer header of a supported link type: fills network_offset and
 * ethertype (and, for Ethernet, the MACs and VLAN tags).  Returns 0 when
 * the frame is too short for it or carries nothing this parser reads.
 */
static inline int fp_parse_link(struct fp_packet *packet, DWORD link_type)
{
    switch (link_type) {
    case FP_DLT_EN10MB:
        if (!fp_have(packet, 0, FP_ETHERNET_HEADER_LENGTH))
            return 0;
        packet->destination_mac = packet->frame;
        packet->source_mac = packet->frame + FP_MAC_LENGTH;
        fp_skip_vlan_tags(packet, fp_u16(packet, 12), FP_ETHERNET_HEADER_LENGTH);
        return 1;
    case FP_DLT_LINUX_SLL:
        /* Packet type, hardware type, address length, 8 address bytes,
         * then the protocol: an EtherType for everything IP. */
        if (!fp_have(packet, 0, 16))
            return 0;
        fp_skip_vlan_tags(packet, fp_u16(packet, 14), 16);
        return 1;
    case FP_DLT_LINUX_SLL2:
        /* The protocol first, then the rest, 20 bytes in all. */
        if (!fp_have(packet, 0, 20))
            return 0;
        fp_skip_vlan_tags(packet, fp_u16(packet, 0), 20);
        return 1;
    case FP_DLT_RAW:
    case FP_DLT_RAW_OPENBSD:
    case FP_DLT_IPV4:
    case FP_DLT_IPV6:
        /* Even the IPv4-only and IPv6-only link types are read by the
         * version nibble: Wireshark does so too, and captures exist with
         * the other version in them. */
        return fp_raw_ip(packet, 0);
    case FP_DLT_NULL: {
        /* The family in the byte order of the machine that wrote it.  Read
         * little-endian, the usual case; a value with bits in its upper half
         * was big-endian, so read it that way, as Wireshark does. */
        if (!fp_have(packet, 0, 4))
            return 0;
        DWORD family = fp_u32(packet, 0);
        DWORD swapped = (family >> 24) | ((family >> 8) & 0xFF00u) | ((family << 8) & 0xFF0000u) | (family << 24);
        return fp_address_family(packet, (swapped & 0xFFFF0000u) != 0 ? family : swapped);
    }
    case FP_DLT_LOOP:
        if (!fp_have(packet, 0, 4))
            return 0;
        return fp_address_family(packet, fp_u32(packet, 0));
    default:
        return 0;
    }
}

/* True for the link types fp_parse_frame() understands. */
static inline int fp_link_type_supported(DWORD link_type)
{
    switch (link_type) {
    case FP_DLT_EN10MB:
    case FP_DLT_LINUX_SLL:
    case FP_DLT_LINUX_SLL2:
    case FP_DLT_RAW:
    case FP_DLT_RAW_OPENBSD:
    case FP_DLT_IPV4:
    case FP_DLT_IPV6:
    case FP_DLT_NULL:
    case FP_DLT_LOOP:
        return 1;
    default:
        return 0;
    }
}

/*
 * Parses one frame of the given libpcap link type (GetCaptureLinkType; see
 * fp_link_type_supported).  frame may be NULL only with captured_length 0.
 * wire_length is FRAME.FrameLength; a value below captured_length (which a
 * sane host never gives) is raised to it.  Returns the deepest layer
 * parsed; *packet is filled for that layer and the ones before it, and
 * every other field is zero.  MAC addresses are set for Ethernet only.
 */
static inline enum fp_layer fp_parse_frame(DWORD link_type, const BYTE *frame, size_t captured_length,
                                           size_t wire_length, struct fp_packet *packet)
{
    memset(packet, 0, sizeof(*packet));
    packet->frame = frame;
    packet->captured_length = frame != NULL ? captured_length : 0;
    packet->wire_length = wire_length > packet->captured_length ? wire_length : packet->captured_length;

    if (!fp_parse_link(packet, link_type))
        return FP_LAYER_NONE;
    int parsed = 0;
    if (packet->ethertype == FP_ETHERTYPE_IPV4)
        parsed = fp_parse_ipv4(packet);
    else if (packet->ethertype == FP_ETHERTYPE_IPV6)
        parsed = fp_parse_ipv6(packet);
    else if (packet->ethertype == FP_ETHERTYPE_ARP)
        parsed = fp_parse_arp(packet);
    if (!parsed) {
        packet->network = FP_NETWORK_NONE;
        return FP_LAYER_LINK;
    }
    if (packet->network == FP_NETWORK_ARP || !fp_parse_transport(packet))
        return FP_LAYER_NETWORK;
    return FP_LAYER_TRANSPORT;
}

/* ------------------------------------------------------------------------ */
/* Formatting addresses                                                     */
/* ------------------------------------------------------------------------ */

/* Longest text fp_format_ip writes: an IPv6 address in full, with the NUL. */
#define FP_IP_TEXT_SIZE 40u
/* "[" address "]:" port, with the NUL. */
#define FP_ENDPOINT_TEXT_SIZE (FP_IP_TEXT_SIZE + 8u)

static inline size_t fp_append(char *out, size_t size, size_t used, const char *text)
{
    while (*text != '\0' && used + 1 < size)
        out[used++] = *text++;
    if (size != 0)
        out[used < size ? used : size - 1] = '\0';
    return used;
}

static inline size_t fp_append_unsigned(char *out, size_t size, size_t used, unsigned long value,
                                        unsigned base)
{
    char digits[24];
    size_t count = 0;
    do {
        digits[count++] = "0123456789abcdef"[value % base];
        value /= base;
    } while (value != 0 && count < sizeof(digits));
    char text[sizeof(digits) + 1];
    for (size_t index = 0; index < count; index++)
        text[index] = digits[count - 1 - index];
    text[count] = '\0';
    return fp_append(out, size, used, text);
}

/*
 * Writes an IPv4 address as a dotted quad or an IPv6 address in the form of
 * RFC 5952 (lower case, the longest run of two or more zero groups as "::",
 * the first run on a tie, a dotted quad at the end of IPv4-mapped and
 * IPv4-compatible addresses), which is what glibc's inet_ntop, and so
 * Wireshark, print.  Done here rather than
 * with inet_ntop so that an expert needs nothing beyond the C library's
 * string functions.  Always NUL-terminates when size > 0.
 */
static inline void fp_format_ip(const BYTE *address, unsigned length, char *out, size_t size)
{
    size_t used = 0;
    if (size == 0)
        return;
    out[0] = '\0';
    if (length == 4) {
        for (unsigned index = 0; index < 4; index++) {
            if (index > 0)
                used = fp_append(out, size, used, ".");
            used = fp_append_unsigned(out, size, used, address[index], 10);
        }
        return;
    }
    if (length != 16)
        return;

    WORD groups[8];
    for (unsigned index = 0; index < 8; index++)
        groups[index] = (WORD)((address[2 * index] << 8) | address[2 * index + 1]);

    int best_start = -1, best_length = 0;
    for (int index = 0; index < 8;) {
        if (groups[index] != 0) {
            index++;
            continue;
        }
        int run = index;
        while (run < 8 && groups[run] == 0)
            run++;
        if (run - index > best_length) {
            best_start = index;
            best_length = run - index;
        }
        index = run;
    }
    if (best_length < 2)
        best_start = -1;

    /* The IPv4-mapped (::ffff:a.b.c.d) and the old IPv4-compatible
     * (::a.b.c.d) forms end in a dotted quad, as inet_ntop writes them. */
    if (best_start == 0 && (best_length == 6 || (best_length == 5 && groups[5] == 0xFFFF))) {
        used = fp_append(out, size, used, best_length == 5 ? "::ffff:" : "::");
        fp_format_ip(address + 12, 4, out + used, size - used);
        return;
    }

    for (int index = 0; index < 8; index++) {
        if (index == best_start) {
            used = fp_append(out, size, used, "::");
            index += best_length - 1;
            continue;
        }
        if (index > 0 && index != best_start + best_length)
            used = fp_append(out, size, used, ":");
        used = fp_append_unsigned(out, size, used, groups[index], 16);
    }
}

/* "10.0.0.1:80" or "[2001:db8::1]:443". */
static inline void fp_format_endpoint(const BYTE *address, unsigned length, WORD port, char *out,
                                      size_t size)
{
    char text[FP_IP_TEXT_SIZE];
    size_t used = 0;
    if (size == 0)
        return;
    out[0] = '\0';
    fp_format_ip(address, length, text, sizeof(text));
    if (length == 16)
        used = fp_append(out, size, used, "[");
    used = fp_append(out, size, used, text);
    if (length == 16)
        used = fp_append(out, size, used, "]");
    used = fp_append(out, size, used, ":");
    fp_append_unsigned(out, size, used, port, 10);
}

/* "00:1a:2b:3c:4d:5e". out must hold 18 bytes. */
static inline void fp_format_mac(const BYTE *mac, char *out, size_t size)
{
    size_t used = 0;
    if (size == 0)
        return;
    out[0] = '\0';
    for (unsigned index = 0; index < FP_MAC_LENGTH; index++) {
        if (index > 0)
            used = fp_append(out, size, used, ":");
        if (mac[index] < 16)
            used = fp_append(out, size, used, "0");
        used = fp_append_unsigned(out, size, used, mac[index], 16);
    }
}

/* ------------------------------------------------------------------------ */
/* TCP sequence arithmetic (RFC 1982 serial numbers, modulo 2^32)            */
/* ------------------------------------------------------------------------ */

static inline int fp_seq_lt(DWORD left, DWORD right)
{
    return (int32_t)(left - right) < 0;
}

static inline int fp_seq_le(DWORD left, DWORD right)
{
    return (int32_t)(left - right) <= 0;
}

static inline int fp_seq_gt(DWORD left, DWORD right)
{
    return (int32_t)(left - right) > 0;
}

/* The capture's link type, for fp_parse_frame.  Without a capture handle (a
 * host that gives none) the frames are taken for Ethernet, the common case. */
static inline DWORD fp_capture_link_type(HCAPTURE capture)
{
    DWORD link_type = capture != NULL ? GetCaptureLinkType(capture) : (DWORD)-1;
    return link_type == (DWORD)-1 ? FP_DLT_EN10MB : link_type;
}

#endif /* EXPERTS_FRAMEPARSE_H */
