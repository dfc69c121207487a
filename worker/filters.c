/*
 * filters.c - compile and run an expert's BPF display filters.
 *
 * libpcap compiles the expression once (pcap_open_dead needs no capture);
 * each frame is then judged by bpf_filter, a pure function.  Expressions
 * must not name hosts, networks or services: libpcap would look them up,
 * which means opening /etc/services or a socket to a name server, and the
 * sandbox ends an expert that tries.  So the expression is read first and
 * refused if it holds a word that is not part of the filter language.
 */
#include "filters.h"

#include <ctype.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#define FILTER_MAGIC 0x46494c54u   /* "FILT" */
#define MAX_FILTERS 64

struct _FILTER {
    uint32_t magic;
    struct bpf_program program;
};

/* Live filters: a handle is believed only if it is in this table, so an
 * expert cannot make the helpers run a program it forged. */
static struct _FILTER *live[MAX_FILTERS];

/* The words of pcap-filter(7) that are not names to look up. */
static const char *const keywords[] = {
    "and", "or", "not", "host", "net", "mask", "port", "portrange", "src", "dst", "ether", "fddi", "tr",
    "wlan", "ip", "ip6", "arp", "rarp", "tcp", "udp", "icmp", "icmp6", "igmp", "igrp", "pim", "ah", "esp",
    "vrrp", "sctp", "proto", "protochain", "broadcast", "multicast", "gateway", "less", "greater", "len",
    "vlan", "mpls", "pppoed", "pppoes", "geneve", "vxlan", "inbound", "outbound", "ifname", "on", "rnr",
    "rulenum", "reason", "rset", "ruleset", "srnr", "subrulenum", "action", "type", "subtype", "ra", "ta",
    "addr1", "addr2", "addr3", "addr4", "dir", "atalk", "aarp", "decnet", "iso", "stp", "ipx", "netbeui",
    "lat", "moprc", "mopdl", "llc", "isis", "clnp", "esis", "l1", "l2", "iih", "lsp", "snp", "csnp", "psnp",
    "icmptype", "icmpcode", "icmp-echoreply", "icmp-unreach", "icmp-sourcequench", "icmp-redirect",
    "icmp-echo", "icmp-routeradvert", "icmp-routersolicit", "icmp-timxceed", "icmp-paramprob",
    "icmp-tstamp", "icmp-tstampreply", "icmp-ireq", "icmp-ireqreply", "icmp-maskreq", "icmp-maskreply",
    "icmp6type", "icmp6code", "tcpflags", "tcp-fin", "tcp-syn", "tcp-rst", "tcp-push", "tcp-ack",
    "tcp-urg", "tcp-ece", "tcp-cwr", "link", "ppp", "slip", "hdlc",
};

static bool is_keyword(const char *word, size_t len)
{
    for (size_t i = 0; i < sizeof keywords / sizeof *keywords; i++)
        if (strlen(keywords[i]) == len && !strncmp(keywords[i], word, len))
            return true;
    return false;
}

/* A word made of hex digits and separators (numbers, IPv4, IPv6 and MAC
 * addresses, 0x...) needs no lookup either. */
static bool is_literal(const char *word, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = word[i];
        if (!isxdigit((unsigned char)c) && c != '.' && c != ':' && c != 'x' && c != 'X' && c != '/')
            return false;
    }
    return len > 0 && (isdigit((unsigned char)word[0]) || word[0] == ':' ||
                       (len >= 2 && strchr(word, ':') != NULL));
}

static bool needs_no_lookup(const char *expression)
{
    const char *p = expression;
    while (*p) {
        if (!isalnum((unsigned char)*p) && *p != '_') {
            p++;
            continue;
        }
        const char *start = p;
        while (isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '.' || *p == ':')
            p++;
        size_t len = (size_t)(p - start);
        if (!is_keyword(start, len) && !is_literal(start, len))
            return false;
    }
    return true;
}

HFILTER es_filter_compile(uint32_t link_type, uint32_t snaplen, const char *expression, DWORD *error)
{
    *error = NMERR_FILTER_INVALID_EXPRESSION;
    if (!expression || strlen(expression) > 4096 || !needs_no_lookup(expression))
        return NULL;
    size_t slot = 0;
    while (slot < MAX_FILTERS && live[slot])
        slot++;
    struct _FILTER *f = calloc(1, sizeof *f);
    pcap_t *dead = f && slot < MAX_FILTERS ? pcap_open_dead((int)link_type, snaplen ? (int)snaplen : 262144)
                                           : NULL;
    if (!dead) {
        free(f);
        *error = NMERR_OUT_OF_MEMORY;
        return NULL;
    }
    int rc = pcap_compile(dead, &f->program, expression, 1, PCAP_NETMASK_UNKNOWN);
    pcap_close(dead);
    if (rc != 0) {
        free(f);
        return NULL;
    }
    f->magic = FILTER_MAGIC;
    live[slot] = f;
    *error = NMERR_SUCCESS;
    return f;
}

bool es_filter_known(HFILTER h)
{
    for (size_t i = 0; h && i < MAX_FILTERS; i++)
        if (live[i] == h)
            return h->magic == FILTER_MAGIC;
    return false;
}

bool es_filter_passes(HFILTER h, const FRAME *frame)
{
    return bpf_filter(h->program.bf_insns, frame->MacFrame, frame->FrameLength, frame->nBytesAvail) != 0;
}

DWORD es_filter_destroy(HFILTER h)
{
    for (size_t i = 0; h && i < MAX_FILTERS; i++) {
        if (live[i] == h) {
            live[i] = NULL;
            pcap_freecode(&h->program);
            h->magic = 0;
            free(h);
            return NMERR_SUCCESS;
        }
    }
    return NMERR_INVALID_HFILTER;
}
