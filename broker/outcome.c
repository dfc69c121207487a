/* outcome.c - names of outcomes and signals, for output and the table. */
#include "outcome.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const outcome_names[ES_OUTCOME_COUNT] = {
    [ES_OUTCOME_DONE] = "done",
    [ES_OUTCOME_ABORTED] = "aborted",
    [ES_OUTCOME_PROBLEM] = "problem",
    [ES_OUTCOME_CRASHED] = "crashed",
    [ES_OUTCOME_VIOLATION] = "violation",
    [ES_OUTCOME_OUT_OF_MEMORY] = "out_of_memory",
    [ES_OUTCOME_CPU_LIMIT] = "cpu_limit",
    [ES_OUTCOME_TIMEOUT] = "timeout",
    [ES_OUTCOME_PROTOCOL_ERROR] = "protocol_error",
    [ES_OUTCOME_LOAD_FAILED] = "load_failed",
    [ES_OUTCOME_REGISTER_FAILED] = "register_failed",
    [ES_OUTCOME_NOT_RUN] = "not_run",
};

const char *es_outcome_name(enum es_outcome_kind kind)
{
    if ((unsigned)kind >= ES_OUTCOME_COUNT)
        return "unknown";
    return outcome_names[kind];
}

bool es_outcome_is_load_failure(enum es_outcome_kind kind)
{
    return kind == ES_OUTCOME_LOAD_FAILED || kind == ES_OUTCOME_REGISTER_FAILED;
}

const char *es_signal_name(int sig, char *buf, size_t len)
{
    const char *abbrev = sigabbrev_np(sig);
    if (abbrev)
        snprintf(buf, len, "SIG%s", abbrev);
    else
        snprintf(buf, len, "signal %d", sig);
    return buf;
}

void es_outcome_init(struct es_outcome *o, size_t index, const char *path)
{
    memset(o, 0, sizeof *o);
    o->index = index;
    o->expert_path = path;
    o->exit_status = -1;
    o->last_frame = -1;
    o->percent = -1;
    o->cpu_seconds = -1;
}

void es_outcome_free(struct es_outcome *o)
{
    free(o->expert_name);
    o->expert_name = NULL;
}
