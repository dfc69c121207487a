/* injection.c - parse and print fault-injection specifications. */
#include "injection.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool parse_count(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || v == 0)
        return false;
    *out = v;
    return true;
}

static int parse_signal(const char *s)
{
    if (!strncmp(s, "SIG", 3))
        s += 3;
    for (int sig = 1; sig < NSIG; sig++) {
        const char *name = sigabbrev_np(sig);
        if (name && !strcmp(name, s))
            return sig;
    }
    char *end;
    long v = strtol(s, &end, 10);
    return (*s && !*end && v > 0 && v < NSIG) ? (int)v : 0;
}

static int parse_item(char *item, struct es_injection *inj, char *why, size_t whylen)
{
    char *value = strchr(item, '=');
    if (!value) {
        snprintf(why, whylen, "'%s': expected NAME=VALUE", item);
        return -1;
    }
    *value++ = '\0';
    uint64_t n = 0;
    if (!strcmp(item, "alloc") && parse_count(value, &n)) {
        inj->alloc_at = n;
    } else if (!strcmp(item, "alloc-every") && parse_count(value, &n)) {
        inj->alloc_every = n;
    } else if (!strcmp(item, "alloc-rate")) {
        char *end;
        double p = strtod(value, &end);
        if (end == value || *end || !(p > 0 && p <= 1)) {
            snprintf(why, whylen, "alloc-rate takes a share above 0 and at most 1, not '%s'", value);
            return -1;
        }
        inj->alloc_rate_ppm = (uint32_t)(p * 1e6 + 0.5);
    } else if (!strcmp(item, "terminate") && parse_count(value, &n)) {
        inj->terminate_at = n;
    } else if (!strcmp(item, "kill")) {
        char *colon = strchr(value, ':');
        if (colon)
            *colon++ = '\0';
        int sig = colon ? parse_signal(colon) : SIGSEGV;
        if (!parse_count(value, &n) || sig == 0) {
            snprintf(why, whylen, "kill takes N or N:SIGNAL, such as 10:SEGV");
            return -1;
        }
        /* The sandbox forbids an expert to send itself SIGKILL or a stop
         * signal: injecting one would show as a violation, not a death. */
        if (sig == SIGKILL || (sig >= SIGSTOP && sig <= SIGTTOU)) {
            snprintf(why, whylen, "kill: SIG%s cannot be raised inside the sandbox; use SEGV, ABRT, BUS...",
                     sigabbrev_np(sig));
            return -1;
        }
        inj->kill_at = n;
        inj->kill_signal = sig;
    } else if (!strcmp(item, "slow-frames") && parse_count(value, &n) && n <= 10000000) {
        inj->slow_frames_us = (uint32_t)n;
    } else if (!strcmp(item, "short-capture")) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(value, &end, 10);
        if (errno || end == value || *end || *value == '-' || v > UINT32_MAX) {
            snprintf(why, whylen, "short-capture takes a number of frames, not '%s'", value);
            return -1;
        }
        inj->short_capture = true;
        inj->short_capture_frames = (uint32_t)v;
    } else if (!strcmp(item, "seed")) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(value, &end, 0);
        if (errno || end == value || *end) {
            snprintf(why, whylen, "seed takes a number, not '%s'", value);
            return -1;
        }
        inj->seed = v;
    } else {
        snprintf(why, whylen,
                 "'%s=%s': expected alloc=N, alloc-every=N, alloc-rate=P, terminate=N, kill=N[:SIG], "
                 "slow-frames=US, short-capture=N or seed=S (N from 1)",
                 item, value);
        return -1;
    }
    return 0;
}

int es_injection_parse(const char *text, struct es_injection *inj, char *why, size_t whylen)
{
    char copy[512];
    if (snprintf(copy, sizeof copy, "%s", text) >= (int)sizeof copy) {
        snprintf(why, whylen, "fault specification too long");
        return -1;
    }
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save))
        if (parse_item(item, inj, why, whylen) != 0)
            return -1;
    return 0;
}

bool es_injection_any(const struct es_injection *inj)
{
    return inj->alloc_at || inj->alloc_every || inj->alloc_rate_ppm || inj->terminate_at || inj->kill_at ||
           inj->slow_frames_us || inj->short_capture;
}

void es_injection_format(const struct es_injection *inj, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
#define ITEM(...)                                                                     \
    do {                                                                              \
        if (used < len)                                                               \
            used += (size_t)snprintf(buf + used, len - used, "%s", used ? "," : "");  \
        if (used < len)                                                               \
            used += (size_t)snprintf(buf + used, len - used, __VA_ARGS__);            \
    } while (0)
    if (inj->alloc_at)
        ITEM("alloc=%llu", (unsigned long long)inj->alloc_at);
    if (inj->alloc_every)
        ITEM("alloc-every=%llu", (unsigned long long)inj->alloc_every);
    if (inj->alloc_rate_ppm)
        ITEM("alloc-rate=%.6f", inj->alloc_rate_ppm / 1e6);
    if (inj->terminate_at)
        ITEM("terminate=%llu", (unsigned long long)inj->terminate_at);
    if (inj->kill_at)
        ITEM("kill=%llu:%d", (unsigned long long)inj->kill_at, inj->kill_signal);
    if (inj->slow_frames_us)
        ITEM("slow-frames=%u", inj->slow_frames_us);
    if (inj->short_capture)
        ITEM("short-capture=%u", inj->short_capture_frames);
    if (inj->seed && es_injection_any(inj))
        ITEM("seed=%llu", (unsigned long long)inj->seed);
#undef ITEM
}
