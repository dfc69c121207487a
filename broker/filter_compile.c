/*
 * filter_compile.c - compile an expert's filter expression for it.
 *
 * The worker asks (ExpertCompileFilter) and the broker compiles with libpcap,
 * so that workers need not load libpcap at all.  Expressions must not name
 * hosts, networks or services: libpcap would look them up, and a lookup of a
 * name the expert chose is a way to send data out of the sandbox (through the
 * name server).  So the expression is read first and refused if it holds a
 * word that is not part of the filter language or a literal.
 */
#include "filter_compile.h"

#include <ctype.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netmon.h"

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

/* A literal needs no lookup: a decimal number or dotted IPv4 address
 * ("80", "10.0.0.1"), a 0x hex number, or, with colons, an IPv6 or MAC
 * address.  A word of hex digits and dots without a colon ("1a.bad.cafe")
 * is a host name to libpcap, and would be resolved. */
static bool is_literal(const char *word, size_t len)
{
    if (len == 0)
        return false;
    bool colon = memchr(word, ':', len) != NULL;
    if (len > 2 && word[0] == '0' && (word[1] == 'x' || word[1] == 'X')) {
        for (size_t i = 2; i < len; i++)
            if (!isxdigit((unsigned char)word[i]))
                return false;
        return true;
    }
    for (size_t i = 0; i < len; i++) {
        char c = word[i];
        bool ok = colon ? (isxdigit((unsigned char)c) || c == ':' || c == '.')
                        : (isdigit((unsigned char)c) || c == '.');
        if (!ok)
            return false;
    }
    return true;
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

int es_compile_filter(uint32_t link_type, uint32_t snaplen, const char *expression, size_t len,
                      struct es_bpf_insn **program, size_t *count, char *why, size_t whylen)
{
    *program = NULL;
    *count = 0;
    char text[ES_MAX_FILTER_TEXT + 1];
    if (len > ES_MAX_FILTER_TEXT || memchr(expression, '\0', len)) {
        snprintf(why, whylen, "expression too long or not text");
        return NMERR_FILTER_INVALID_EXPRESSION;
    }
    memcpy(text, expression, len);
    text[len] = '\0';
    if (!needs_no_lookup(text)) {
        snprintf(why, whylen, "names are not looked up: use numbers and addresses");
        return NMERR_FILTER_INVALID_EXPRESSION;
    }
    pcap_t *dead = pcap_open_dead((int)link_type, snaplen ? (int)snaplen : 262144);
    if (!dead)
        return NMERR_OUT_OF_MEMORY;
    struct bpf_program compiled;
    int rc = pcap_compile(dead, &compiled, text, 1, PCAP_NETMASK_UNKNOWN);
    if (rc != 0) {
        snprintf(why, whylen, "%s", pcap_geterr(dead));
        pcap_close(dead);
        return NMERR_FILTER_INVALID_EXPRESSION;
    }
    pcap_close(dead);
    _Static_assert(sizeof(struct es_bpf_insn) == sizeof(struct bpf_insn), "same instruction layout");
    *program = malloc(compiled.bf_len * sizeof **program);
    if (!*program) {
        pcap_freecode(&compiled);
        return NMERR_OUT_OF_MEMORY;
    }
    memcpy(*program, compiled.bf_insns, compiled.bf_len * sizeof **program);
    *count = compiled.bf_len;
    pcap_freecode(&compiled);
    return NMERR_SUCCESS;
}
