/*
 * protodist.c - "Protocol Distribution", a summary expert.
 *
 * Counts, for every protocol found in the capture, the frames that contain
 * it and their bytes, at four levels: the link type, the network protocol
 * the link header names (an EtherType, VLAN tags included), the IP protocol
 * and the well-known TCP/UDP service.  Then it submits one event per
 * protocol and one summary event.  See docs/experts/protodist.md.
 *
 * It is written exactly as an outside author would write it: it includes
 * only netmon.h (and hostcalls.h, the sample experts' shared wrappers of the
 * status and memory helpers, itself only netmon.h), takes all of its memory from ExpertAllocMemory, and checks
 * every helper's return value.
 *
 * It does not assume Ethernet.  The capture's link type comes from
 * GetCaptureLinkType, and where each header starts from the frame's
 * lpRecognizeDataTable, which the host fills for every link type it parses
 * (Ethernet with 802.1Q/802.1ad tags and LLC/SNAP, Linux cooked v1 and v2,
 * BSD/OpenBSD loopback, raw IP, PPP and PPP serial, Cisco HDLC, 802.11 with
 * or without radiotap, Frame Relay, NFLOG, IPNET).  Frames of any other
 * link type are counted under that link type and nothing else: bytes
 * the expert cannot interpret are never guessed at.  The expert itself reads
 * only the fields it counts by (type fields, IP protocol numbers, IPv6 next
 * headers, ports), each read bounds-checked against nBytesAvail, so no
 * frame, however short or odd, is read past its end.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hostcalls.h"
#include "netmon.h"

/* ------------------------------------------------------------------------ */
/* What is counted                                                          */
/* ------------------------------------------------------------------------ */

enum protocol_level {
    LEVEL_LINK,
    LEVEL_NETWORK,
    LEVEL_IP,
    LEVEL_PORT,
    LEVEL_COUNT
};

static const char *const level_names[LEVEL_COUNT] = {"link", "network", "ip", "port"};

/*
 * Link level: the capture's libpcap link type (DLT_*), as GetCaptureLinkType
 * gives it; every frame counts once there.  The numbers are libpcap's, which
 * an expert knows without pcap headers.  LINK_CODE_UNKNOWN: the startup
 * information had no capture handle, so nothing can be said of the link.
 */
#define DLT_CODE_NULL 0u          /* BSD loopback, family in the captor's byte order */
#define DLT_CODE_EN10MB 1u        /* Ethernet */
#define DLT_CODE_PPP 9u           /* PPP, HDLC-like framing optional */
#define DLT_CODE_PPP_SERIAL 50u   /* PPP in HDLC-like framing, or Cisco HDLC */
#define DLT_CODE_C_HDLC 104u      /* Cisco HDLC */
#define DLT_CODE_IEEE802_11 105u  /* 802.11 */
#define DLT_CODE_FRELAY 107u      /* Frame Relay */
#define DLT_CODE_IEEE802_11_RADIO 127u   /* 802.11 behind a radiotap header */
#define DLT_CODE_IPNET 226u       /* Solaris IPNET */
#define DLT_CODE_NFLOG 239u       /* Linux NFLOG */
#define DLT_CODE_RAW 12u          /* raw IPv4 or IPv6 */
#define DLT_CODE_RAW_OPENBSD 14u  /* the same, as OpenBSD numbers it */
#define DLT_CODE_LINKTYPE_RAW 101u
#define DLT_CODE_LOOP 108u        /* OpenBSD loopback, family in network byte order */
#define DLT_CODE_LINUX_SLL 113u   /* Linux cooked capture */
#define DLT_CODE_IPV4 228u        /* raw IPv4 (may hold IPv6: the version decides) */
#define DLT_CODE_IPV6 229u        /* raw IPv6 */
#define DLT_CODE_LINUX_SLL2 276u  /* Linux cooked capture, version 2 */
#define LINK_CODE_UNKNOWN 0xFFFFFFFFu

/*
 * Network level: what the link header says it carries, named by EtherType
 * whatever the link (a loopback family of 2 is IPv4, 0x0800).  Codes above
 * 0xFFFF are not EtherTypes: a type/length field below 0x0600 is an IEEE
 * 802.3 length (the payload is LLC); a frame shorter than its link header
 * has no type at all; the other ranges keep the link's own number when it
 * names no EtherType.
 */
#define NETWORK_CODE_8023_LLC 0x10000u
#define NETWORK_CODE_TRUNCATED 0x10001u
#define NETWORK_CODE_NOT_IP 0x10002u        /* raw IP link, version neither 4 nor 6 */
#define NETWORK_CODE_LINK_NOT_IP 0x10003u   /* Frame Relay, NFLOG, IPNET payload the host did not find IP in */
#define NETWORK_CODE_SLARP 0x10004u         /* Cisco HDLC type 0x8035, which is not RARP there */
#define NETWORK_CODE_80211 0x10010u         /* + 802.11 frame type, for frames with no EtherType */
#define NETWORK_CODE_SLL_OTHER 0x20000u     /* + Linux cooked protocol below 0x0600 */
#define NETWORK_CODE_FAMILY 0x30000u        /* + loopback address family */
#define NETWORK_CODE_FAMILY_INVALID 0x3FFFFu
#define NETWORK_CODE_PPP 0x40000u           /* + PPP protocol that is not IP */
#define NETWORK_CODE_RANGE 0x10000u

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_IPV6 0x86DD
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88A8
#define ETHERTYPE_QINQ_LEGACY 0x9100

#define ETHERNET_TYPE_OFFSET 12
#define VLAN_TAG_LENGTH 4         /* the tag's type and TCI; the inner type follows */
#define SLL_PROTOCOL_OFFSET 14
#define SLL2_PROTOCOL_OFFSET 0
#define LOOPBACK_HEADER_LENGTH 4
#define PPP_HDLC_ADDRESS 0xFF
#define PPP_PROTOCOL_IPV4 0x0021
#define PPP_PROTOCOL_IPV6 0x0057
#define MIN_ETHERTYPE 0x0600
#define SNAP_TYPE_OFFSET 6        /* AA AA 03, the OUI, then the EtherType */
#define CISCO_HDLC_TYPE_OFFSET 2
#define CISCO_HDLC_TYPE_SLARP 0x8035
#define PPP_PROTOCOL_COMPRESSED 0x01   /* an odd first byte is the whole protocol */
#define WLAN_TYPE(frame_control) (((frame_control) >> 2) & 3)

/* Loopback address families: AF_INET everywhere; AF_INET6 differs between
 * the systems that write such captures (Linux, the BSDs, macOS). */
#define FAMILY_INET 2u
#define FAMILY_INET6_LINUX 10u
#define FAMILY_INET6_BSD 24u
#define FAMILY_INET6_FREEBSD 28u
#define FAMILY_INET6_DARWIN 30u

#define IPPROTO_NUMBER_ICMP 1
#define IPPROTO_NUMBER_TCP 6
#define IPPROTO_NUMBER_UDP 17
#define IPPROTO_NUMBER_IPV6_HOPOPTS 0
#define IPPROTO_NUMBER_IPV6_ROUTING 43
#define IPPROTO_NUMBER_IPV6_FRAGMENT 44
#define IPPROTO_NUMBER_IPV6_DSTOPTS 60
#define IPPROTO_NUMBER_AH 51
#define IPPROTO_NUMBER_ICMPV6 58

/* An IPv6 header chain longer than this is treated as malformed; real
 * traffic rarely carries more than two or three extension headers. */
#define MAX_IPV6_EXTENSION_HEADERS 8

struct named_code {
    DWORD code;
    const char *name;
};

static const struct named_code link_names[] = {
    {DLT_CODE_NULL, "BSD loopback"},
    {DLT_CODE_EN10MB, "Ethernet"},
    {DLT_CODE_PPP, "PPP"},
    {DLT_CODE_PPP_SERIAL, "PPP"},
    {DLT_CODE_C_HDLC, "Cisco HDLC"},
    {DLT_CODE_IEEE802_11, "802.11"},
    {DLT_CODE_FRELAY, "Frame Relay"},
    {DLT_CODE_IEEE802_11_RADIO, "802.11 radiotap"},
    {DLT_CODE_IPNET, "IPNET"},
    {DLT_CODE_NFLOG, "NFLOG"},
    {DLT_CODE_RAW, "Raw IP"},
    {DLT_CODE_RAW_OPENBSD, "Raw IP"},
    {DLT_CODE_LINKTYPE_RAW, "Raw IP"},
    {DLT_CODE_LOOP, "OpenBSD loopback"},
    {DLT_CODE_LINUX_SLL, "Linux cooked"},
    {DLT_CODE_IPV4, "Raw IPv4"},
    {DLT_CODE_IPV6, "Raw IPv6"},
    {DLT_CODE_LINUX_SLL2, "Linux cooked v2"},
    {LINK_CODE_UNKNOWN, "Unknown link type (not parsed)"},
};

static const struct named_code network_names[] = {
    {ETHERTYPE_IPV4, "IPv4"},
    {ETHERTYPE_ARP, "ARP"},
    {0x8035, "RARP"},
    {0x809B, "AppleTalk"},
    {ETHERTYPE_VLAN, "802.1Q VLAN"},
    {0x8137, "IPX"},
    {ETHERTYPE_IPV6, "IPv6"},
    {0x8808, "Ethernet flow control"},
    {0x8847, "MPLS"},
    {0x8848, "MPLS multicast"},
    {0x8863, "PPPoE discovery"},
    {0x8864, "PPPoE session"},
    {0x888E, "EAPOL"},
    {ETHERTYPE_QINQ, "802.1ad QinQ"},
    {0x88CC, "LLDP"},
    {0x88F7, "PTP"},
    {ETHERTYPE_QINQ_LEGACY, "VLAN (0x9100)"},
    {NETWORK_CODE_8023_LLC, "IEEE 802.3 (LLC)"},
    {NETWORK_CODE_TRUNCATED, "Truncated link header"},
    {NETWORK_CODE_NOT_IP, "Not IP (raw IP link)"},
    {NETWORK_CODE_LINK_NOT_IP, "Not IP (link payload)"},
    {NETWORK_CODE_SLARP, "Cisco SLARP"},
    {NETWORK_CODE_80211 + 0, "802.11 management"},
    {NETWORK_CODE_80211 + 1, "802.11 control"},
    {NETWORK_CODE_80211 + 2, "802.11 data, no EtherType"},
    {NETWORK_CODE_80211 + 3, "802.11 extension"},
    {NETWORK_CODE_FAMILY_INVALID, "Loopback family out of range"},
};

static const struct named_code ip_protocol_names[] = {
    {IPPROTO_NUMBER_ICMP, "ICMP"},
    {2, "IGMP"},
    {4, "IP-in-IP"},
    {IPPROTO_NUMBER_TCP, "TCP"},
    {IPPROTO_NUMBER_UDP, "UDP"},
    {41, "IPv6-in-IPv4"},
    {47, "GRE"},
    {50, "ESP"},
    {51, "AH"},
    {58, "ICMPv6"},
    {59, "IPv6 no next header"},
    {88, "EIGRP"},
    {89, "OSPF"},
    {103, "PIM"},
    {112, "VRRP"},
    {132, "SCTP"},
};

/*
 * Well-known TCP/UDP services.  Several ports may name one service (HTTP on
 * 80 and 8080), so a port-level counter is keyed by the service name's index
 * in service_names, not by port.  The port table is sorted for bsearch-like
 * lookup; the transport is not distinguished (DNS over TCP is still DNS).
 */
enum service {
    SERVICE_FTP,
    SERVICE_SSH,
    SERVICE_TELNET,
    SERVICE_SMTP,
    SERVICE_DNS,
    SERVICE_DHCP,
    SERVICE_TFTP,
    SERVICE_HTTP,
    SERVICE_KERBEROS,
    SERVICE_POP3,
    SERVICE_PORTMAP,
    SERVICE_NTP,
    SERVICE_NETBIOS,
    SERVICE_IMAP,
    SERVICE_SNMP,
    SERVICE_BGP,
    SERVICE_LDAP,
    SERVICE_HTTPS,
    SERVICE_SMB,
    SERVICE_ISAKMP,
    SERVICE_SYSLOG,
    SERVICE_RIP,
    SERVICE_DHCPV6,
    SERVICE_LDAPS,
    SERVICE_IMAPS,
    SERVICE_POP3S,
    SERVICE_OPENVPN,
    SERVICE_L2TP,
    SERVICE_PPTP,
    SERVICE_RADIUS,
    SERVICE_SSDP,
    SERVICE_HSRP,
    SERVICE_NFS,
    SERVICE_MYSQL,
    SERVICE_RDP,
    SERVICE_SIP,
    SERVICE_MDNS,
    SERVICE_LLMNR,
    SERVICE_UNLISTED,   /* TCP/UDP, but neither port is in the table */
    SERVICE_COUNT
};

static const char *const service_names[SERVICE_COUNT] = {
    [SERVICE_FTP] = "FTP",
    [SERVICE_SSH] = "SSH",
    [SERVICE_TELNET] = "Telnet",
    [SERVICE_SMTP] = "SMTP",
    [SERVICE_DNS] = "DNS",
    [SERVICE_DHCP] = "DHCP",
    [SERVICE_TFTP] = "TFTP",
    [SERVICE_HTTP] = "HTTP",
    [SERVICE_KERBEROS] = "Kerberos",
    [SERVICE_POP3] = "POP3",
    [SERVICE_PORTMAP] = "Portmap",
    [SERVICE_NTP] = "NTP",
    [SERVICE_NETBIOS] = "NetBIOS",
    [SERVICE_IMAP] = "IMAP",
    [SERVICE_SNMP] = "SNMP",
    [SERVICE_BGP] = "BGP",
    [SERVICE_LDAP] = "LDAP",
    [SERVICE_HTTPS] = "HTTPS",
    [SERVICE_SMB] = "SMB",
    [SERVICE_ISAKMP] = "ISAKMP",
    [SERVICE_SYSLOG] = "Syslog",
    [SERVICE_RIP] = "RIP",
    [SERVICE_DHCPV6] = "DHCPv6",
    [SERVICE_LDAPS] = "LDAPS",
    [SERVICE_IMAPS] = "IMAPS",
    [SERVICE_POP3S] = "POP3S",
    [SERVICE_OPENVPN] = "OpenVPN",
    [SERVICE_L2TP] = "L2TP",
    [SERVICE_PPTP] = "PPTP",
    [SERVICE_RADIUS] = "RADIUS",
    [SERVICE_SSDP] = "SSDP",
    [SERVICE_HSRP] = "HSRP",
    [SERVICE_NFS] = "NFS",
    [SERVICE_MYSQL] = "MySQL",
    [SERVICE_RDP] = "RDP",
    [SERVICE_SIP] = "SIP",
    [SERVICE_MDNS] = "mDNS",
    [SERVICE_LLMNR] = "LLMNR",
    [SERVICE_UNLISTED] = "Other TCP/UDP ports",
};

struct port_service {
    WORD port;
    enum service service;
};

/* Sorted by port: find_service relies on it. */
static const struct port_service well_known_ports[] = {
    {20, SERVICE_FTP},      {21, SERVICE_FTP},       {22, SERVICE_SSH},
    {23, SERVICE_TELNET},   {25, SERVICE_SMTP},      {53, SERVICE_DNS},
    {67, SERVICE_DHCP},     {68, SERVICE_DHCP},      {69, SERVICE_TFTP},
    {80, SERVICE_HTTP},     {88, SERVICE_KERBEROS},  {110, SERVICE_POP3},
    {111, SERVICE_PORTMAP}, {123, SERVICE_NTP},      {137, SERVICE_NETBIOS},
    {138, SERVICE_NETBIOS}, {139, SERVICE_NETBIOS},  {143, SERVICE_IMAP},
    {161, SERVICE_SNMP},    {162, SERVICE_SNMP},     {179, SERVICE_BGP},
    {389, SERVICE_LDAP},    {443, SERVICE_HTTPS},    {445, SERVICE_SMB},
    {500, SERVICE_ISAKMP},  {514, SERVICE_SYSLOG},   {520, SERVICE_RIP},
    {546, SERVICE_DHCPV6},  {547, SERVICE_DHCPV6},   {587, SERVICE_SMTP},
    {636, SERVICE_LDAPS},   {993, SERVICE_IMAPS},    {995, SERVICE_POP3S},
    {1194, SERVICE_OPENVPN}, {1701, SERVICE_L2TP},   {1723, SERVICE_PPTP},
    {1812, SERVICE_RADIUS}, {1813, SERVICE_RADIUS},  {1900, SERVICE_SSDP},
    {1985, SERVICE_HSRP},   {2049, SERVICE_NFS},     {3306, SERVICE_MYSQL},
    {3389, SERVICE_RDP},    {4500, SERVICE_ISAKMP},  {5060, SERVICE_SIP},
    {5061, SERVICE_SIP},    {5353, SERVICE_MDNS},    {5355, SERVICE_LLMNR},
    {8080, SERVICE_HTTP},
};

#define ARRAY_LENGTH(array) (sizeof(array) / sizeof((array)[0]))

/* ------------------------------------------------------------------------ */
/* Counters                                                                 */
/* ------------------------------------------------------------------------ */

/*
 * Distinct protocols kept per run.  IP and port levels are bounded (256
 * protocol numbers, SERVICE_COUNT services) and a capture has one link
 * type; only the network level is open-ended, and a capture with hundreds of
 * distinct EtherTypes is garbage or an attack.  Protocols beyond the table
 * are counted in one overflow row per level.
 */
#define MAX_PROTOCOLS 512

struct protocol_counter {
    DWORD level;
    DWORD code;
    uint64_t frames;
    uint64_t bytes;
    uint64_t last_frame_counted;   /* 1-based frame sequence; stops double counts */
};

struct distribution {
    uint64_t total_frames;
    uint64_t total_bytes;
    uint64_t truncated_frames;     /* stored fewer bytes than were on the wire */
    DWORD used;
    DWORD recent[LEVEL_COUNT];     /* index + 1 of each level's last counter; 0: none */
    uint16_t ip_counter[256];      /* index + 1 of each IP protocol's counter; 0: none */
    uint16_t port_counter[SERVICE_COUNT];   /* the same per service */
    struct protocol_counter overflow[LEVEL_COUNT];
    struct protocol_counter counters[MAX_PROTOCOLS];
};

/*
 * The counter of a protocol, made on first sight.  This runs several times
 * per frame, so the bounded levels (256 IP protocols, SERVICE_COUNT
 * services) are indexed directly, and for the others, where consecutive
 * frames mostly repeat their protocols (one link type, a few network
 * types), the level's last counter is tried before the table is searched.
 */
static uint16_t *direct_index(struct distribution *dist, DWORD level, DWORD code)
{
    if (level == LEVEL_IP && code < ARRAY_LENGTH(dist->ip_counter))
        return &dist->ip_counter[code];
    if (level == LEVEL_PORT && code < ARRAY_LENGTH(dist->port_counter))
        return &dist->port_counter[code];
    return NULL;
}

static struct protocol_counter *counter_for(struct distribution *dist, DWORD level, DWORD code)
{
    uint16_t *direct = direct_index(dist, level, code);
    if (direct != NULL && *direct != 0)
        return &dist->counters[*direct - 1];
    DWORD recent = dist->recent[level];
    if (direct == NULL && recent != 0 && dist->counters[recent - 1].code == code)
        return &dist->counters[recent - 1];
    if (direct == NULL) {
        for (DWORD index = 0; index < dist->used; index++) {
            if (dist->counters[index].level == level && dist->counters[index].code == code) {
                dist->recent[level] = index + 1;
                return &dist->counters[index];
            }
        }
    }
    if (dist->used == MAX_PROTOCOLS)
        return &dist->overflow[level];
    struct protocol_counter *fresh = &dist->counters[dist->used++];
    fresh->level = level;
    fresh->code = code;
    if (direct != NULL)
        *direct = (uint16_t)dist->used;
    else
        dist->recent[level] = dist->used;
    return fresh;
}

/* Counts the current frame (dist->total_frames, already advanced) for a
 * protocol once, however often the protocol occurs in it (two 802.1Q tags
 * are one VLAN frame). */
static void count(struct distribution *dist, DWORD level, DWORD code, DWORD frame_length)
{
    struct protocol_counter *counter = counter_for(dist, level, code);
    if (counter->last_frame_counted == dist->total_frames)
        return;
    counter->last_frame_counted = dist->total_frames;
    counter->frames++;
    counter->bytes += frame_length;
}

/* ------------------------------------------------------------------------ */
/* Classifying one frame                                                    */
/* ------------------------------------------------------------------------ */

/*
 * The host has already walked the frame's headers: lpRecognizeDataTable says
 * where each protocol it knows starts (ES_PROTOCOL_*), and only lists a
 * header when its smallest size was captured.  The expert takes those
 * offsets rather than parsing the link layer itself; it reads only the
 * fields it counts by (the link's type field, the IP protocol number, the
 * ports), each read checked against nBytesAvail, since a table entry says
 * nothing of the bytes around it.
 */
struct byte_view {
    const BYTE *bytes;
    size_t length;
};

struct frame_context {
    struct distribution *dist;
    DWORD frame_length;
    struct byte_view bytes;
    const RECOGNIZEDATATABLE *recognized;   /* NULL: the host gave none */
};

static int read_u16(struct byte_view view, size_t offset, WORD *value)
{
    if (offset > view.length || view.length - offset < 2)
        return 0;
    *value = (WORD)((view.bytes[offset] << 8) | view.bytes[offset + 1]);
    return 1;
}

static int read_u8(struct byte_view view, size_t offset, BYTE *value)
{
    if (offset >= view.length)
        return 0;
    *value = view.bytes[offset];
    return 1;
}

static struct byte_view view_from(struct byte_view view, size_t offset)
{
    struct byte_view rest = {view.bytes + offset, view.length - offset};
    return rest;
}

/* Where the first header of this protocol starts; 0 if the host did not
 * recognise one (or put it past the captured bytes). */
static int recognized_at(const struct frame_context *frame, WORD protocol, size_t *offset)
{
    if (frame->recognized == NULL)
        return 0;
    for (WORD index = 0; index < frame->recognized->nRecognizeDatas; index++) {
        const RECOGNIZEDATA *entry = &frame->recognized->RecognizeData[index];
        if (entry->ProtocolID == protocol && entry->nProtocolOffset < frame->bytes.length) {
            *offset = entry->nProtocolOffset;
            return 1;
        }
    }
    return 0;
}

static void count_here(const struct frame_context *frame, DWORD level, DWORD code)
{
    count(frame->dist, level, code, frame->frame_length);
}

static int find_service(WORD port)
{
    size_t low = 0, high = ARRAY_LENGTH(well_known_ports);
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (well_known_ports[middle].port == port)
            return (int)well_known_ports[middle].service;
        if (well_known_ports[middle].port < port)
            low = middle + 1;
        else
            high = middle;
    }
    return -1;
}

/* The service of a TCP/UDP segment: the lower of its two ports that is in
 * the table, since the lower port is usually the server's. */
static int classify_ports(struct byte_view transport)
{
    WORD source_port, destination_port;
    if (!read_u16(transport, 0, &source_port) || !read_u16(transport, 2, &destination_port))
        return -1;
    WORD low_port = source_port < destination_port ? source_port : destination_port;
    WORD high_port = source_port < destination_port ? destination_port : source_port;
    int service = find_service(low_port);
    if (service < 0)
        service = find_service(high_port);
    return service < 0 ? SERVICE_UNLISTED : service;
}

/*
 * The upper-layer protocol of an IPv6 packet whose transport header the host
 * did not recognise (another protocol, a later fragment, a header cut
 * short): the next header after the extension headers the host skips too.
 * -1 if the chain runs past the captured bytes or is implausibly long.
 */
static int ipv6_upper_protocol(struct byte_view packet)
{
    BYTE next_header;
    if (!read_u8(packet, 6, &next_header))
        return -1;
    size_t offset = 40;
    for (int hops = 0; hops < MAX_IPV6_EXTENSION_HEADERS; hops++) {
        BYTE following, length_units;
        if (next_header != IPPROTO_NUMBER_IPV6_HOPOPTS && next_header != IPPROTO_NUMBER_IPV6_ROUTING &&
            next_header != IPPROTO_NUMBER_IPV6_DSTOPTS && next_header != IPPROTO_NUMBER_IPV6_FRAGMENT &&
            next_header != IPPROTO_NUMBER_AH)
            return next_header;
        if (!read_u8(packet, offset, &following) || !read_u8(packet, offset + 1, &length_units))
            return -1;
        if (next_header == IPPROTO_NUMBER_IPV6_FRAGMENT)
            offset += 8;
        else if (next_header == IPPROTO_NUMBER_AH)
            offset += ((size_t)length_units + 2) * 4;   /* AH counts 32-bit words, less 2 */
        else
            offset += ((size_t)length_units + 1) * 8;
        next_header = following;
    }
    return -1;
}

/* The ip and port levels of a frame whose network header is IPv4 or IPv6
 * (network_code): from the host's IP and transport offsets. */
static void classify_ip(const struct frame_context *frame, DWORD network_code)
{
    size_t ip_offset;
    BYTE first;
    int is_ipv4 = network_code == ETHERTYPE_IPV4;
    if (!recognized_at(frame, is_ipv4 ? ES_PROTOCOL_IPV4 : ES_PROTOCOL_IPV6, &ip_offset) ||
        !read_u8(frame->bytes, ip_offset, &first))
        return;   /* the IP header was cut short */
    /* The host takes the link's word for the version; a header that says
     * otherwise, or an IPv4 header length below 20, is not followed. */
    if ((first >> 4) != (is_ipv4 ? 4 : 6) || (is_ipv4 && (first & 0x0F) < 5))
        return;

    static const struct {
        WORD recognized;
        BYTE ip_protocol;
    } transports[] = {
        {ES_PROTOCOL_TCP, IPPROTO_NUMBER_TCP},
        {ES_PROTOCOL_UDP, IPPROTO_NUMBER_UDP},
        {ES_PROTOCOL_ICMP, IPPROTO_NUMBER_ICMP},
        {ES_PROTOCOL_ICMPV6, IPPROTO_NUMBER_ICMPV6},
    };
    for (size_t index = 0; index < ARRAY_LENGTH(transports); index++) {
        size_t transport_offset;
        if (!recognized_at(frame, transports[index].recognized, &transport_offset) ||
            transport_offset <= ip_offset)
            continue;
        count_here(frame, LEVEL_IP, transports[index].ip_protocol);
        if (transports[index].ip_protocol == IPPROTO_NUMBER_TCP ||
            transports[index].ip_protocol == IPPROTO_NUMBER_UDP) {
            int service = classify_ports(view_from(frame->bytes, transport_offset));
            if (service >= 0)
                count_here(frame, LEVEL_PORT, (DWORD)service);
        }
        return;
    }

    /* No transport header the host knows (or a later fragment, which has
     * none): the protocol number still says what the packet carries. */
    struct byte_view packet = view_from(frame->bytes, ip_offset);
    int protocol = -1;
    BYTE ipv4_protocol;
    if (is_ipv4)
        protocol = read_u8(packet, 9, &ipv4_protocol) ? ipv4_protocol : -1;
    else
        protocol = ipv6_upper_protocol(packet);
    if (protocol >= 0)
        count_here(frame, LEVEL_IP, (DWORD)protocol);
}

/* Counts what a link header's EtherType-valued field carries. */
static void classify_ethertype(const struct frame_context *frame, WORD type)
{
    count_here(frame, LEVEL_NETWORK, type);
    if (type == ETHERTYPE_IPV4 || type == ETHERTYPE_IPV6)
        classify_ip(frame, type);
}

/* The EtherType at type_offset, through any VLAN tags after it: each VLAN
 * entry starts at a tag's own type (0x8100, 0x88A8, 0x9100); the type after
 * the last tag is what the frame carries. */
static void classify_tagged(const struct frame_context *frame, size_t type_offset)
{
    for (WORD index = 0; frame->recognized != NULL && index < frame->recognized->nRecognizeDatas; index++) {
        const RECOGNIZEDATA *entry = &frame->recognized->RecognizeData[index];
        WORD tag_type;
        if (entry->ProtocolID != ES_PROTOCOL_VLAN || entry->nProtocolOffset < type_offset ||
            !read_u16(frame->bytes, entry->nProtocolOffset, &tag_type))
            continue;
        count_here(frame, LEVEL_NETWORK, tag_type);
        if (entry->nProtocolOffset + (size_t)VLAN_TAG_LENGTH > type_offset)
            type_offset = entry->nProtocolOffset + (size_t)VLAN_TAG_LENGTH;
    }
    WORD type;
    if (!read_u16(frame->bytes, type_offset, &type))
        return;   /* cut inside a tag */
    if (type < MIN_ETHERTYPE)
        count_here(frame, LEVEL_NETWORK, NETWORK_CODE_8023_LLC);   /* a tagged 802.3 frame */
    else
        classify_ethertype(frame, type);
}

static void classify_ethernet(const struct frame_context *frame)
{
    size_t offset;
    WORD type;
    if (!recognized_at(frame, ES_PROTOCOL_ETHERNET, &offset) ||
        !read_u16(frame->bytes, offset + ETHERNET_TYPE_OFFSET, &type)) {
        count_here(frame, LEVEL_NETWORK, NETWORK_CODE_TRUNCATED);
        return;
    }
    /* An 802.3 length: LLC follows, and with SNAP (which the host records
     * only when its OUI means an EtherType) the EtherType it carries. */
    if (type >= MIN_ETHERTYPE)
        classify_tagged(frame, offset + ETHERNET_TYPE_OFFSET);
    else if (recognized_at(frame, ES_PROTOCOL_LLC_SNAP, &offset))
        classify_tagged(frame, offset + SNAP_TYPE_OFFSET);
    else
        count_here(frame, LEVEL_NETWORK, NETWORK_CODE_8023_LLC);
}

static void classify_linux_cooked(const struct frame_context *frame, size_t protocol_offset)
{
    size_t offset;
    WORD protocol;
    if (!recognized_at(frame, ES_PROTOCOL_LINUX_SLL, &offset) ||
        !read_u16(frame->bytes, offset + protocol_offset, &protocol)) {
        count_here(frame, LEVEL_NETWORK, NETWORK_CODE_TRUNCATED);
        return;
    }
    /* Below 0x0600 the field is one of Linux's own ETH_P_* numbers
     * (802.2 LLC, CAN, netlink families, ...), not an EtherType. */
    if (protocol < MIN_ETHERTYPE)
        count_here(frame, LEVEL_NETWORK, NETWORK_CODE_SLL_OTHER + protocol);
    else
        classify_ethertype(frame, protocol);
}

static void classify_loopback(const struct frame_context *frame, int network_order)
{
    size_t offset;
    BYTE bytes[LOOPBACK_HEADER_LENGTH];
    int readable = recognized_at(frame, ES_PROTOCOL_LOOPBACK, &offset);
    for (size_t index = 0; readable && index < LOOPBACK_HEADER_LENGTH; index++)
        readable = read_u8(frame->bytes, offset + index, &bytes[index]);
    if (!readable) {
        count_here(frame, LEVEL_NETWORK, NETWORK_CODE_TRUNCATED);
        return;
    }
    uint32_t family = network_order
                          ? (uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 | (uint32_t)bytes[2] << 8 | bytes[3]
                          : (uint32_t)bytes[3] << 24 | (uint32_t)bytes[2] << 16 | (uint32_t)bytes[1] << 8 | bytes[0];
    /* DLT_NULL is in the byte order of the machine that captured: families
     * are small, so a value with only its high half set was written the
     * other way round. */
    if ((family & 0xFFFF) == 0 && family != 0)
        family = family >> 24 | (family >> 8 & 0xFF00);
    if (family == FAMILY_INET)
        classify_ethertype(frame, ETHERTYPE_IPV4);
    else if (family == FAMILY_INET6_LINUX || family == FAMILY_INET6_BSD || family == FAMILY_INET6_FREEBSD ||
             family == FAMILY_INET6_DARWIN)
        classify_ethertype(frame, ETHERTYPE_IPV6);
    else if (family < NETWORK_CODE_RANGE - 1)
        count_here(frame, LEVEL_NETWORK, NETWORK_CODE_FAMILY + family);
    else
        count_here(frame, LEVEL_NETWORK, NETWORK_CODE_FAMILY_INVALID);
}

/* Raw IP: the version nibble is the only type there is. */
static void classify_raw_ip(const struct frame_context *frame)
{
    BYTE first;
    if (!read_u8(frame->bytes, 0, &first))
        count_here(frame, LEVEL_NETWORK, NETWORK_CODE_TRUNCATED);
    else if ((first >> 4) == 4)
        classify_ethertype(frame, ETHERTYPE_IPV4);
    else if ((first >> 4) == 6)
        classify_ethertype(frame, ETHERTYPE_IPV6);
    else
        count_here(frame, LEVEL_NETWORK, NETWORK_CODE_NOT_IP);
}

/* Cisco HDLC: an EtherType, except that 0x8035 is Cisco's SLARP (serial
 * line address resolution) rather than RARP. */
static void classify_cisco_hdlc(const struct frame_context *frame)
{
    size_t offset;
    WORD type;
    if (!recognized_at(frame, ES_PROTOCOL_CISCO_HDLC, &offset) ||
        !read_u16(frame->bytes, offset + CISCO_HDLC_TYPE_OFFSET, &type))
        count_here(frame, LEVEL_NETWORK, NETWORK_CODE_TRUNCATED);
    else if (type == CISCO_HDLC_TYPE_SLARP)
        count_here(frame, LEVEL_NETWORK, NETWORK_CODE_SLARP);
    else
        classify_ethertype(frame, type);
}

/* PPP: an optional 0xFF address (with the control byte after it), then the
 * protocol, one byte when compressed.  An EtherType in its place is IP as
 * Cisco sends it, which the host and tshark read so too. */
static void classify_ppp(const struct frame_context *frame)
{
    size_t offset;
    BYTE first;
    if (!recognized_at(frame, ES_PROTOCOL_PPP, &offset) || !read_u8(frame->bytes, offset, &first)) {
        count_here(frame, LEVEL_NETWORK, NETWORK_CODE_TRUNCATED);
        return;
    }
    if (first == PPP_HDLC_ADDRESS)
        offset += 2;
    BYTE high;
    WORD protocol;
    if (!read_u8(frame->bytes, offset, &high)) {
        count_here(frame, LEVEL_NETWORK, NETWORK_CODE_TRUNCATED);
        return;
    }
    if (high & PPP_PROTOCOL_COMPRESSED)
        protocol = high;
    else if (!read_u16(frame->bytes, offset, &protocol)) {
        count_here(frame, LEVEL_NETWORK, NETWORK_CODE_TRUNCATED);
        return;
    }
    if (protocol == PPP_PROTOCOL_IPV4 || protocol == ETHERTYPE_IPV4)
        classify_ethertype(frame, ETHERTYPE_IPV4);
    else if (protocol == PPP_PROTOCOL_IPV6 || protocol == ETHERTYPE_IPV6)
        classify_ethertype(frame, ETHERTYPE_IPV6);
    else
        count_here(frame, LEVEL_NETWORK, NETWORK_CODE_PPP + protocol);
}

/* 802.11: the EtherType of the LLC/SNAP header the host found after the MAC
 * header, or else the frame's type (management, control, data without an
 * EtherType: protected, null, A-MSDU, other LLC; extension). */
static void classify_80211(const struct frame_context *frame)
{
    size_t offset;
    BYTE frame_control;
    if (recognized_at(frame, ES_PROTOCOL_LLC_SNAP, &offset))
        classify_tagged(frame, offset + SNAP_TYPE_OFFSET);
    else if (recognized_at(frame, ES_PROTOCOL_IEEE80211, &offset) && read_u8(frame->bytes, offset, &frame_control))
        count_here(frame, LEVEL_NETWORK, NETWORK_CODE_80211 + WLAN_TYPE(frame_control));
    else
        count_here(frame, LEVEL_NETWORK, NETWORK_CODE_TRUNCATED);
}

/* Frame Relay, NFLOG, IPNET: their own numbers (NLPIDs, address families)
 * name the payload; the expert goes by the IP header the host found behind
 * the link header. */
static void classify_by_ip_found(const struct frame_context *frame, WORD link_protocol)
{
    size_t offset;
    if (!recognized_at(frame, link_protocol, &offset))
        count_here(frame, LEVEL_NETWORK, NETWORK_CODE_TRUNCATED);
    else if (recognized_at(frame, ES_PROTOCOL_IPV4, &offset))
        classify_ethertype(frame, ETHERTYPE_IPV4);
    else if (recognized_at(frame, ES_PROTOCOL_IPV6, &offset))
        classify_ethertype(frame, ETHERTYPE_IPV6);
    else
        count_here(frame, LEVEL_NETWORK, NETWORK_CODE_LINK_NOT_IP);
}

static void count_frame(struct distribution *dist, DWORD link_type, const EXPERTFRAMEDESCRIPTOR *descriptor)
{
    const FRAME *raw = descriptor->pFrame;
    dist->total_frames++;
    dist->total_bytes += raw->FrameLength;
    if (raw->nBytesAvail < raw->FrameLength)
        dist->truncated_frames++;

    struct frame_context frame = {
        .dist = dist,
        .frame_length = raw->FrameLength,
        .bytes = {raw->MacFrame, raw->nBytesAvail},
        .recognized = descriptor->lpRecognizeDataTable,
    };
    /* PPP links also carry Cisco HDLC frames: those count as Cisco HDLC. */
    size_t offset;
    if ((link_type == DLT_CODE_PPP || link_type == DLT_CODE_PPP_SERIAL) &&
        recognized_at(&frame, ES_PROTOCOL_CISCO_HDLC, &offset))
        link_type = DLT_CODE_C_HDLC;
    count_here(&frame, LEVEL_LINK, link_type);
    switch (link_type) {
    case DLT_CODE_EN10MB:
        classify_ethernet(&frame);
        break;
    case DLT_CODE_LINUX_SLL:
        classify_linux_cooked(&frame, SLL_PROTOCOL_OFFSET);
        break;
    case DLT_CODE_LINUX_SLL2:
        classify_linux_cooked(&frame, SLL2_PROTOCOL_OFFSET);
        break;
    case DLT_CODE_NULL:
        classify_loopback(&frame, 0);
        break;
    case DLT_CODE_LOOP:
        classify_loopback(&frame, 1);
        break;
    case DLT_CODE_RAW:
    case DLT_CODE_RAW_OPENBSD:
    case DLT_CODE_LINKTYPE_RAW:
    case DLT_CODE_IPV4:
    case DLT_CODE_IPV6:
        classify_raw_ip(&frame);
        break;
    case DLT_CODE_PPP:
    case DLT_CODE_PPP_SERIAL:
        classify_ppp(&frame);
        break;
    case DLT_CODE_C_HDLC:
        classify_cisco_hdlc(&frame);
        break;
    case DLT_CODE_IEEE802_11:
    case DLT_CODE_IEEE802_11_RADIO:
        classify_80211(&frame);
        break;
    case DLT_CODE_FRELAY:
        classify_by_ip_found(&frame, ES_PROTOCOL_FRAME_RELAY);
        break;
    case DLT_CODE_NFLOG:
        classify_by_ip_found(&frame, ES_PROTOCOL_NFLOG);
        break;
    case DLT_CODE_IPNET:
        classify_by_ip_found(&frame, ES_PROTOCOL_IPNET);
        break;
    default:
        /* A link this expert does not know: counted at the link level only,
         * rather than guessed at from bytes it cannot interpret. */
        break;
    }
}

/* Event order: by level, then most frames first, then by code, so that two
 * runs over one capture give identical output.  Insertion sort: the table
 * is small, and qsort may call malloc, which an expert should not. */
static int counter_precedes(const struct protocol_counter *left, const struct protocol_counter *right)
{
    if (left->level != right->level)
        return left->level < right->level;
    if (left->frames != right->frames)
        return left->frames > right->frames;
    return left->code < right->code;
}

static void sort_counters(struct distribution *dist)
{
    /* Sorting moves the counters the indexes point at; nothing is
     * counted after it, but stale indexes must not survive it either. */
    memset(dist->recent, 0, sizeof(dist->recent));
    memset(dist->ip_counter, 0, sizeof(dist->ip_counter));
    memset(dist->port_counter, 0, sizeof(dist->port_counter));
    for (DWORD sorted = 1; sorted < dist->used; sorted++) {
        struct protocol_counter moving = dist->counters[sorted];
        DWORD slot = sorted;
        while (slot > 0 && counter_precedes(&moving, &dist->counters[slot - 1])) {
            dist->counters[slot] = dist->counters[slot - 1];
            slot--;
        }
        dist->counters[slot] = moving;
    }
}

static const char *lookup_name(const struct named_code *table, size_t length, DWORD code)
{
    for (size_t index = 0; index < length; index++) {
        if (table[index].code == code)
            return table[index].name;
    }
    return NULL;
}

static void describe_protocol(const struct protocol_counter *counter, int is_overflow, char *name,
                              size_t name_size)
{
    const char *known = NULL;
    if (is_overflow) {
        snprintf(name, name_size, "Other %s protocols (table full)", level_names[counter->level]);
        return;
    }
    switch (counter->level) {
    case LEVEL_LINK:
        known = lookup_name(link_names, ARRAY_LENGTH(link_names), counter->code);
        if (known == NULL)
            snprintf(name, name_size, "Link type %u (not parsed)", (unsigned)counter->code);
        break;
    case LEVEL_NETWORK:
        known = lookup_name(network_names, ARRAY_LENGTH(network_names), counter->code);
        if (known != NULL)
            break;
        if (counter->code < NETWORK_CODE_RANGE)
            snprintf(name, name_size, "EtherType 0x%04X", (unsigned)counter->code);
        else if (counter->code - NETWORK_CODE_SLL_OTHER < NETWORK_CODE_RANGE)
            snprintf(name, name_size, "Linux cooked protocol 0x%04X",
                     (unsigned)(counter->code - NETWORK_CODE_SLL_OTHER));
        else if (counter->code - NETWORK_CODE_FAMILY < NETWORK_CODE_RANGE)
            snprintf(name, name_size, "Loopback family %u", (unsigned)(counter->code - NETWORK_CODE_FAMILY));
        else if (counter->code - NETWORK_CODE_PPP < NETWORK_CODE_RANGE)
            snprintf(name, name_size, "PPP protocol 0x%04X", (unsigned)(counter->code - NETWORK_CODE_PPP));
        else
            snprintf(name, name_size, "Network code 0x%X", (unsigned)counter->code);
        break;
    case LEVEL_IP:
        known = lookup_name(ip_protocol_names, ARRAY_LENGTH(ip_protocol_names), counter->code);
        if (known == NULL)
            snprintf(name, name_size, "IP proto %u", (unsigned)counter->code);
        break;
    default:
        known = counter->code < SERVICE_COUNT ? service_names[counter->code] : "?";
        break;
    }
    if (known != NULL)
        snprintf(name, name_size, "%s", known);
}

/* ------------------------------------------------------------------------ */
/* Talking to the host                                                      */
/* ------------------------------------------------------------------------ */

/* EXPERTSTATUS_PROBLEM sub-statuses, documented in docs/experts/protodist.md. */
enum problem {
    PROBLEM_FRAME_READ = EXPERT_PROBLEM_FRAME_READ,
    PROBLEM_OUT_OF_MEMORY = EXPERT_PROBLEM_OUT_OF_MEMORY,
    PROBLEM_SUBMIT = 3,
    PROBLEM_HOST_FRAME_ORDER = EXPERT_PROBLEM_HOST_FRAME_ORDER,
    PROBLEM_FREE = 5,
};

/* Events name at most 7 columns: the six per-protocol ones plus the
 * summary's protocol count.  One block of this size is reused for all. */
#define EVENT_COLUMNS 7
#define EVENT_IDENT_PROTOCOL 1
#define EVENT_IDENT_SUMMARY 2

static char expert_name[] = "Protocol Distribution";
static char column_level[] = "Level";
static char column_protocol[] = "Protocol";
static char column_frames[] = "Frames";
static char column_bytes[] = "Bytes";
static char column_frames_percent[] = "Frames %";
static char column_bytes_percent[] = "Bytes %";
static char column_protocols[] = "Protocols";

struct run_state {
    struct expert_host host;  /* key, terminated, status_broken */
    HCAPTURE capture;
    DWORD link_type;          /* the capture's DLT_*, or LINK_CODE_UNKNOWN */
    struct distribution *dist;
    NMEVENTDATA *event;
};

/* Releases everything and gives Run's return value. */
static BOOL finish(struct run_state *run, BOOL succeeded)
{
    int freed_event = release(&run->host, run->event);
    int freed_dist = release(&run->host, run->dist);
    run->event = NULL;
    run->dist = NULL;
    if (run->host.terminated)
        return FALSE;
    if (!freed_event || !freed_dist) {
        if (succeeded)
            report_problem(&run->host, PROBLEM_FREE, "ExpertFreeMemory refused a block of ours",
                           NMERR_INVALID_PARAMETER);
        return FALSE;
    }
    return succeeded;
}

static const char *plural(uint64_t amount, const char *one, const char *many)
{
    return amount == 1 ? one : many;
}

static double percent_of(uint64_t part, uint64_t whole)
{
    return whole == 0 ? 0.0 : (double)part * 100.0 / (double)whole;
}

/* Fills the six columns every event has; returns how many were set. */
static BYTE fill_common_columns(NMEVENTDATA *event, const char *level, const char *protocol,
                                uint64_t frames, uint64_t bytes, const struct distribution *dist)
{
    set_string_column(&event->Column[0], column_level, level);
    set_string_column(&event->Column[1], column_protocol, protocol);
    set_uint32_column(&event->Column[2], column_frames, frames);
    /* Bytes can pass 4 GiB in a long capture; a double is exact to 2^53. */
    set_float64_column(&event->Column[3], column_bytes, (double)bytes);
    set_float64_column(&event->Column[4], column_frames_percent, percent_of(frames, dist->total_frames));
    set_float64_column(&event->Column[5], column_bytes_percent, percent_of(bytes, dist->total_bytes));
    return 6;
}

static void prepare_event(NMEVENTDATA *event, DWORD ident, char *event_name, char *description)
{
    memset(event, 0, sizeof(*event) + (EVENT_COLUMNS - 1) * sizeof(NMCOLUMNINFO));
    event->Version = 0;
    event->EventIdent = ident;
    event->Flags = NMEVENTFLAG_EXPERT;
    event->Severity = NMEVENT_SEVERITY_INFORMATIONAL;
    event->szSourceName = expert_name;
    event->szEventName = event_name;
    event->szDescription = description;
}

/* Returns 0 when the run must stop (terminated or the submit failed). */
static int submit(struct run_state *run, const char *what)
{
    DWORD error = ExpertSubmitEvent(run->host.key, run->event);
    if (error == NMERR_SUCCESS)
        return 1;
    if (error == NMERR_EXPERT_TERMINATE) {
        run->host.terminated = 1;
    } else {
        char text[128];
        snprintf(text, sizeof(text), "could not submit the event for %s", what);
        report_problem(&run->host, PROBLEM_SUBMIT, text, error);
    }
    return 0;
}

static int submit_protocol_event(struct run_state *run, const struct protocol_counter *counter,
                                 int is_overflow)
{
    char name[64];
    char description[192];
    const struct distribution *dist = run->dist;
    describe_protocol(counter, is_overflow, name, sizeof(name));
    snprintf(description, sizeof(description),
             "%s: %llu %s (%.1f%%), %llu %s (%.1f%%)", name, (unsigned long long)counter->frames,
             plural(counter->frames, "frame", "frames"), percent_of(counter->frames, dist->total_frames),
             (unsigned long long)counter->bytes, plural(counter->bytes, "byte", "bytes"),
             percent_of(counter->bytes, dist->total_bytes));

    prepare_event(run->event, EVENT_IDENT_PROTOCOL, name, description);
    run->event->NumColumns = fill_common_columns(run->event, level_names[counter->level], name,
                                                 counter->frames, counter->bytes, dist);
    return submit(run, name);
}

static int submit_summary_event(struct run_state *run)
{
    static char summary_name[] = "Summary";
    char description[192];
    const struct distribution *dist = run->dist;
    DWORD protocols = dist->used;
    for (int level = 0; level < LEVEL_COUNT; level++)
        protocols += dist->overflow[level].frames != 0;

    snprintf(description, sizeof(description),
             "%llu %s, %llu %s, %u %s; %llu %s cut short by the snapshot length",
             (unsigned long long)dist->total_frames, plural(dist->total_frames, "frame", "frames"),
             (unsigned long long)dist->total_bytes, plural(dist->total_bytes, "byte", "bytes"),
             (unsigned)protocols, plural(protocols, "protocol", "protocols"),
             (unsigned long long)dist->truncated_frames,
             plural(dist->truncated_frames, "frame", "frames"));

    prepare_event(run->event, EVENT_IDENT_SUMMARY, summary_name, description);
    BYTE columns = fill_common_columns(run->event, "total", "All protocols", dist->total_frames,
                                       dist->total_bytes, dist);
    run->event->Column[columns].szColumnName = column_protocols;
    run->event->Column[columns].VariantData.Type = NMCOLUMNTYPE_UINT32;
    run->event->Column[columns].VariantData.Value.Uint32Val = protocols;
    run->event->NumColumns = (BYTE)(columns + 1);
    return submit(run, "the summary");
}

/*
 * Honour the display filter the analyst gave the host (--filter), as the
 * SDK's boilerplate expert does: the distribution is then that of the frames
 * the analyst selected.  Without a filter every frame passes.
 */
#define FRAME_REQUEST_FLAGS FLAGS_DEFER_TO_UI_FILTER

static BOOL count_all_frames(struct run_state *run)
{
    struct frame_walk walk;
    frame_walk_begin(&walk, run->capture, FRAME_REQUEST_FLAGS);
    int got;
    while ((got = frame_walk_next(&run->host, &walk)) > 0) {
        if (walk.descriptor.pFrame != NULL) {
            count_frame(run->dist, run->link_type, &walk.descriptor);
        } else {
            /* No bytes to parse: still a frame of the capture, of no
             * known length, counted at the link level only. */
            run->dist->total_frames++;
            count(run->dist, LEVEL_LINK, run->link_type, 0);
        }
        if (!frame_walk_progress(&run->host, &walk))
            return FALSE;
    }
    return got == 0;
}

static BOOL submit_all_events(struct run_state *run)
{
    sort_counters(run->dist);
    for (DWORD index = 0; index < run->dist->used; index++) {
        if (!submit_protocol_event(run, &run->dist->counters[index], 0))
            return FALSE;
    }
    for (int level = 0; level < LEVEL_COUNT; level++) {
        if (run->dist->overflow[level].frames != 0 &&
            !submit_protocol_event(run, &run->dist->overflow[level], 1))
            return FALSE;
    }
    return submit_summary_event(run);
}

/* ------------------------------------------------------------------------ */
/* Entry points                                                             */
/* ------------------------------------------------------------------------ */

BOOL WINAPI Register(PEXPERTENUMINFO pExpertInfo)
{
    if (pExpertInfo == NULL)
        return FALSE;
    snprintf(pExpertInfo->szName, sizeof(pExpertInfo->szName), "%s", expert_name);
    snprintf(pExpertInfo->szVendor, sizeof(pExpertInfo->szVendor), "expert-sandbox");
    snprintf(pExpertInfo->szDescription, sizeof(pExpertInfo->szDescription),
             "Frames and bytes per protocol at the link, network (EtherType), IP "
             "protocol and well-known TCP/UDP port levels, with percentages of the capture.");
    pExpertInfo->Version = 0;
    pExpertInfo->Flags = 0;
    return TRUE;
}

BOOL WINAPI Run(HEXPERTKEY hExpertKey, PEXPERTCONFIG pConfig, PEXPERTSTARTUPINFO pExpertStartupInfo,
                DWORD StartupFlags, HWND hWndParent)
{
    /* Not configurable, and the whole capture is analysed whatever had the
     * focus: of the startup data only the capture handle is used. */
    (void)pConfig;
    (void)StartupFlags;
    (void)hWndParent;

    struct run_state run = {.host = {.key = hExpertKey}, .capture = pExpertStartupInfo ? pExpertStartupInfo->hCapture : NULL};
    /* (DWORD)-1 for a handle that is not the capture's, which is also
     * LINK_CODE_UNKNOWN: then no frame is parsed beyond the link level. */
    run.link_type = run.capture != NULL ? GetCaptureLinkType(run.capture) : LINK_CODE_UNKNOWN;
    if (!report_progress(&run.host, EXPERTSTATUS_STARTING, 0))
        return FALSE;

    run.dist = allocate(&run.host, sizeof(*run.dist), "no memory for the protocol table");
    if (run.dist == NULL)
        return finish(&run, FALSE);
    run.event = allocate(&run.host, sizeof(NMEVENTDATA) + (EVENT_COLUMNS - 1) * sizeof(NMCOLUMNINFO),
                         "no memory for an event");
    if (run.event == NULL)
        return finish(&run, FALSE);
    /* The host's zero-filling is not part of the reference API. */
    memset(run.dist, 0, sizeof(*run.dist));
    for (DWORD level = 0; level < LEVEL_COUNT; level++)
        run.dist->overflow[level].level = level;

    if (!report_progress(&run.host, EXPERTSTATUS_RUNNING, 0))
        return finish(&run, FALSE);
    if (!count_all_frames(&run))
        return finish(&run, FALSE);
    if (!submit_all_events(&run))
        return finish(&run, FALSE);
    return finish(&run, TRUE);
}
