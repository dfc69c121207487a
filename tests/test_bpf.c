/*
 * test_bpf.c - the worker's BPF interpreter against libpcap's, frame by
 * frame, on real captures; and its checker against programs that would jump
 * or index out of bounds.
 */
#include <check.h>
#include <dirent.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf.h"

static const char *const expressions[] = {
    "tcp", "udp", "ip", "ip6", "arp", "icmp", "icmp6", "vlan", "vlan and tcp", "tcp port 80",
    "udp port 53 or udp port 123", "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0", "ip[6:2] & 0x1fff != 0",
    "len > 1000", "less 100", "ether broadcast", "ether multicast", "net 10.0.0.0/8", "host 192.168.1.1",
    "ip6 and tcp", "portrange 1000-2000", "tcp and (tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420)",
    "not tcp and not udp", "ip proto 47", "ip[0] & 0xf != 5", "udp[8:2] = 0x1234",
};

/* Runs both interpreters over every frame of `path` for every expression
 * that compiles for its link type; returns the number of frames compared. */
static long compare_capture(const char *path)
{
    char err[PCAP_ERRBUF_SIZE];
    long compared = 0;
    for (size_t e = 0; e < sizeof expressions / sizeof *expressions; e++) {
        pcap_t *p = pcap_open_offline(path, err);
        if (!p)
            return compared;
        struct bpf_program prog;
        if (pcap_compile(p, &prog, expressions[e], 1, PCAP_NETMASK_UNKNOWN) != 0) {
            pcap_close(p);
            continue;   /* not every expression fits every link type */
        }
        const struct es_bpf_insn *insns = (const struct es_bpf_insn *)prog.bf_insns;
        ck_assert_msg(es_bpf_valid(insns, prog.bf_len), "%s: libpcap's program for '%s' refused", path,
                      expressions[e]);
        struct pcap_pkthdr *h;
        const u_char *data;
        int rc;
        while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
            uint32_t theirs = bpf_filter(prog.bf_insns, data, h->len, h->caplen);
            uint32_t ours = es_bpf_run(insns, data, h->len, h->caplen);
            ck_assert_msg(theirs == ours, "%s: '%s': libpcap says %u, we say %u", path, expressions[e], theirs,
                          ours);
            compared++;
        }
        pcap_freecode(&prog);
        pcap_close(p);
    }
    return compared;
}

START_TEST(matches_libpcap_on_the_sample)
{
    const char *sample = getenv("ES_SAMPLE_PCAP");
    ck_assert_msg(sample != NULL, "ES_SAMPLE_PCAP not set");
    ck_assert_int_gt(compare_capture(sample), 2000);
}
END_TEST

START_TEST(matches_libpcap_on_the_shared_captures)
{
    const char *dir = getenv("ES_SHARED_CAPTURES");
    DIR *d = dir ? opendir(dir) : NULL;
    if (!d) {
        fprintf(stderr, "ES_SHARED_CAPTURES not readable: skipped\n");
        return;
    }
    long frames = 0;
    int files = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        frames += compare_capture(path);
        files++;
    }
    closedir(d);
    fprintf(stderr, "compared %ld frame decisions over %d captures\n", frames, files);
    ck_assert_int_gt(frames, 10000);
}
END_TEST

static struct es_bpf_insn insn(uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
    struct es_bpf_insn i = {code, jt, jf, k};
    return i;
}

START_TEST(checker_refuses_unsafe_programs)
{
    /* 0x06 = RET|K; 0x15 = JMP|JEQ|K; 0x05 = JMP|JA; 0x60 = LD|MEM; 0x02 = ST;
     * 0x34 = ALU|DIV|K; 0x94 = ALU|MOD|K. */
    struct es_bpf_insn ok[] = {insn(0x06, 0, 0, 1)};
    ck_assert(es_bpf_valid(ok, 1));
    ck_assert(!es_bpf_valid(ok, 0));

    struct es_bpf_insn jump_out[] = {insn(0x15, 5, 0, 1), insn(0x06, 0, 0, 0)};
    ck_assert(!es_bpf_valid(jump_out, 2));
    /* One past the last instruction is outside too. */
    struct es_bpf_insn jump_past[] = {insn(0x15, 1, 0, 1), insn(0x06, 0, 0, 0)};
    ck_assert(!es_bpf_valid(jump_past, 2));
    struct es_bpf_insn jump_last[] = {insn(0x15, 1, 0, 1), insn(0x06, 0, 0, 0), insn(0x06, 0, 0, 1)};
    ck_assert(es_bpf_valid(jump_last, 3));
    struct es_bpf_insn ja_out[] = {insn(0x05, 0, 0, 1), insn(0x06, 0, 0, 0)};
    ck_assert(!es_bpf_valid(ja_out, 2));
    struct es_bpf_insn mem_out[] = {insn(0x60, 0, 0, 16), insn(0x06, 0, 0, 0)};
    ck_assert(!es_bpf_valid(mem_out, 2));
    struct es_bpf_insn store_out[] = {insn(0x02, 0, 0, 99), insn(0x06, 0, 0, 0)};
    ck_assert(!es_bpf_valid(store_out, 2));
    struct es_bpf_insn div_zero[] = {insn(0x34, 0, 0, 0), insn(0x06, 0, 0, 0)};
    ck_assert(!es_bpf_valid(div_zero, 2));
    struct es_bpf_insn mod_zero[] = {insn(0x94, 0, 0, 0), insn(0x06, 0, 0, 0)};
    ck_assert(!es_bpf_valid(mod_zero, 2));
    struct es_bpf_insn no_ret[] = {insn(0x00, 0, 0, 0)};
    ck_assert(!es_bpf_valid(no_ret, 1));
    struct es_bpf_insn unknown[] = {insn(0xff, 0, 0, 0), insn(0x06, 0, 0, 0)};
    ck_assert(!es_bpf_valid(unknown, 2));
}
END_TEST

/* Any program the checker accepts runs to a result on any packet, short or
 * empty included, without reading outside it (ASan watches in that build). */
START_TEST(random_valid_programs_run_safely)
{
    unsigned seed = 42;
    uint8_t packet[64];
    for (size_t i = 0; i < sizeof packet; i++)
        packet[i] = (uint8_t)(i * 37);
    static const uint16_t codes[] = {0x00, 0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0x60, 0x80, 0x01, 0x61,
                                     0x81, 0xb1, 0x02, 0x03, 0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c, 0x3c,
                                     0x44, 0x54, 0x64, 0x6c, 0x74, 0x7c, 0x84, 0x9c, 0xa4, 0x05, 0x15,
                                     0x1d, 0x25, 0x2d, 0x35, 0x45, 0x4d, 0x06, 0x0e, 0x16, 0x07, 0x87};
    int accepted = 0;
    for (int round = 0; round < 20000; round++) {
        struct es_bpf_insn prog[16];
        size_t n = 1 + (size_t)(rand_r(&seed) % 16);
        for (size_t i = 0; i < n; i++) {
            prog[i].code = codes[rand_r(&seed) % (int)(sizeof codes / sizeof *codes)];
            prog[i].jt = (uint8_t)(rand_r(&seed) % 4);
            prog[i].jf = (uint8_t)(rand_r(&seed) % 4);
            prog[i].k = (uint32_t)(rand_r(&seed) % 80);
        }
        prog[n - 1] = insn(0x16, 0, 0, 0);   /* RET A */
        if (!es_bpf_valid(prog, n))
            continue;
        accepted++;
        es_bpf_run(prog, packet, sizeof packet, (uint32_t)(rand_r(&seed) % (sizeof packet + 1)));
    }
    ck_assert_int_gt(accepted, 1000);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bpf");
    TCase *tc = tcase_create("interpreter");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, matches_libpcap_on_the_sample);
    tcase_add_test(tc, matches_libpcap_on_the_shared_captures);
    tcase_add_test(tc, checker_refuses_unsafe_programs);
    tcase_add_test(tc, random_valid_programs_run_safely);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
