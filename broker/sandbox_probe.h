/*
 * sandbox_probe.h - `expert-broker check`: what this machine offers the sandbox,
 * and what the broker will use.
 */
#ifndef ES_SANDBOX_PROBE_H
#define ES_SANDBOX_PROBE_H

#include <stdbool.h>
#include <stdio.h>

#include "broker.h"

struct es_check_options {
    struct es_sandbox_options sandbox;
    bool json;
    FILE *out;
};

/* Prints one row (or JSON object) per layer and mechanism.  Returns
 * ES_EXIT_SANDBOX if a --require'd layer is unavailable, else ES_EXIT_OK. */
enum es_exit es_check(const struct es_check_options *opt);

#endif
