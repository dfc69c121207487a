/*
 * confine.c - the order in which the worker confines itself, and which
 * layers are asked for.  Every layer's own decisions live in its own file.
 *
 * Order matters: namespaces need root (or a fresh user namespace), so they
 * come before dropping privileges; RLIMIT_NPROC only binds once we are not
 * root; Landlock needs no_new_privs; seccomp comes last, because after it
 * every call outside its table waits for the broker's answer.
 */
#include "confine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "layers.h"
#include "wire.h"

static bool parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

int es_worker_config_parse(int argc, char **argv, struct es_worker_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->layers = ES_LAYER_ALL;
    if (argc < 2)
        return -1;
    cfg->expert_name = argv[1];
    for (int i = 2; i + 1 < argc; i += 2) {
        uint64_t v;
        if (!strcmp(argv[i], "--inject")) {
            cfg->inject = argv[i + 1];
            continue;
        }
        if (!parse_u64(argv[i + 1], &v))
            return -1;
        if (!strcmp(argv[i], "--layers"))
            cfg->layers = (uint32_t)v & ES_LAYER_ALL;
        else if (!strcmp(argv[i], "--require"))
            cfg->required = (uint32_t)v & ES_LAYER_ALL;
        else if (!strcmp(argv[i], "--uid"))
            cfg->uid = (uid_t)v;
        else if (!strcmp(argv[i], "--gid"))
            cfg->gid = (gid_t)v;
        else if (!strcmp(argv[i], "--cpu"))
            cfg->cpu_seconds = v;
        else if (!strcmp(argv[i], "--address-space"))
            cfg->address_space = v;
        else if (!strcmp(argv[i], "--pid-namespace"))
            cfg->pid_namespace = v != 0;
        else
            return -1;
    }
    return 0;
}

static void note(struct es_confinement *c, const char *layer, const char *why)
{
    size_t used = strlen(c->report);
    snprintf(c->report + used, sizeof c->report - used, "%s%s: %s", used ? "; " : "", layer, why);
}

/* Records the result of one layer.  Returns -1 only when it failed and was
 * required. */
static int settle(const struct es_worker_config *cfg, struct es_confinement *c, uint32_t layer,
                  const char *name, int rc, const char *why)
{
    if (rc == 0) {
        c->applied |= layer;
        return 0;
    }
    note(c, name, why);
    return (cfg->required & layer) ? -1 : 0;
}

/* Whether the worker is built with AddressSanitizer, whose shadow memory
 * needs terabytes of address space: RLIMIT_AS cannot apply there. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

int es_confine_before_load(const struct es_worker_config *cfg, struct es_confinement *c)
{
    char why[256];
    memset(c, 0, sizeof *c);
    c->listener_fd = -1;

    /* Not layers: always in force. */
    if (es_limit_die_with_broker(cfg->pid_namespace, why, sizeof why) != 0 ||
        es_limit_session_and_dumps(why, sizeof why) != 0) {
        note(c, "process", why);
        return -1;
    }

    if (cfg->layers & ES_LAYER_NAMESPACES) {
        int rc = es_enter_namespaces(why, sizeof why);
        if (settle(cfg, c, ES_LAYER_NAMESPACES, "namespaces", rc, why) != 0)
            return -1;
        if (rc == 0 && !cfg->pid_namespace)
            note(c, "namespaces", "no PID namespace (it needs a root broker and a kernel that allows it)");
    }
    if (cfg->layers & ES_LAYER_USER) {
        /* A broker that is not root starts workers that are not either. */
        int rc = geteuid() == 0 ? es_drop_privileges(cfg->uid, cfg->gid, why, sizeof why) : 0;
        if (settle(cfg, c, ES_LAYER_USER, "user", rc, why) != 0)
            return -1;
    }
    if (cfg->layers & ES_LAYER_RLIMITS) {
        uint64_t as = UNDER_ASAN ? 0 : cfg->address_space;
        int rc = es_limit_resources(cfg->cpu_seconds, as, why, sizeof why);
        if (settle(cfg, c, ES_LAYER_RLIMITS, "rlimits", rc, why) != 0)
            return -1;
        if (UNDER_ASAN && cfg->address_space)
            note(c, "rlimits", "no address-space limit under AddressSanitizer");
    }
    /* Always: no capabilities, no way to gain privileges through exec. */
    if (es_no_new_privileges(why, sizeof why) != 0) {
        note(c, "process", why);
        return -1;
    }
    if (cfg->layers & ES_LAYER_LANDLOCK) {
        int rc = es_landlock_restrict(ES_FD_EXPERT, why, sizeof why);
        if (settle(cfg, c, ES_LAYER_LANDLOCK, "landlock", rc, why) != 0)
            return -1;
    }
    if (cfg->layers & ES_LAYER_SECCOMP) {
        int rc = es_seccomp_load_stage(&c->listener_fd, why, sizeof why);
        if (settle(cfg, c, ES_LAYER_SECCOMP, "seccomp", rc, why) != 0)
            return -1;
    }
    return 0;
}

int es_confine_address_space(const struct es_worker_config *cfg, struct es_confinement *c, uint64_t bytes)
{
    if (!(cfg->layers & ES_LAYER_RLIMITS) || UNDER_ASAN || bytes == 0)
        return 0;
    char why[256];
    if (es_limit_address_space(bytes, why, sizeof why) == 0)
        return 0;
    /* Hello has gone: a layer that was reported in place and then failed
     * only matters if it was required. */
    note(c, "rlimits", why);
    return (cfg->required & ES_LAYER_RLIMITS) ? -1 : 0;
}
