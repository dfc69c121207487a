/*
 * hostcalls.h - how the sample experts call the host for progress, problems
 * and memory, shared by protodist, tcpretrans, topusers and resptime.
 *
 * The rules every one of them follows: NMERR_EXPERT_TERMINATE from any
 * helper means "stop now" and is remembered in `terminated`; progress is
 * advisory (a failed report only stops further reports); memory the run
 * cannot do without is reported as a problem when it is refused.  Each
 * expert keeps a struct expert_host in its run state and passes it here.
 *
 * Also the event columns they all fill the same way.
 *
 * Only netmon.h, <stdint.h> and <stdio.h> are used; all functions are
 * static inline.
 */
#ifndef EXPERTS_HOSTCALLS_H
#define EXPERTS_HOSTCALLS_H

#include <stdint.h>
#include <stdio.h>

#include "netmon.h"

/* The sub-status of EXPERTSTATUS_PROBLEM for refused memory, the same in
 * every sample expert (each one's enum problem starts from it). */
#define EXPERT_PROBLEM_OUT_OF_MEMORY 2

struct expert_host {
    HEXPERTKEY key;
    int terminated;           /* the host said NMERR_EXPERT_TERMINATE */
    int status_broken;        /* progress reports failed: stop sending them */
};

static inline void report_problem(struct expert_host *host, DWORD problem, const char *what, DWORD error)
{
    char text[160];
    snprintf(text, sizeof(text), "%s (NMERR %u)", what, (unsigned)error);
    if (ExpertIndicateStatus(host->key, EXPERTSTATUS_PROBLEM, problem, text, 0) == NMERR_EXPERT_TERMINATE)
        host->terminated = 1;
}

/*
 * Progress is advisory.  NMERR_EXPERT_TERMINATE stops the run; any other
 * failure only stops further progress reports.  Returns 0 when the run must
 * stop.
 */
static inline int report_progress(struct expert_host *host, EXPERTSTATUSENUMERATION status, LONG percent)
{
    if (host->status_broken)
        return 1;
    DWORD error = ExpertIndicateStatus(host->key, status, 0, NULL, percent);
    if (error == NMERR_EXPERT_TERMINATE) {
        host->terminated = 1;
        return 0;
    }
    if (error != NMERR_SUCCESS)
        host->status_broken = 1;
    return 1;
}

/* Memory the run cannot do without: a failure is reported and ends it. */
static inline LPVOID allocate(struct expert_host *host, SIZE_T bytes, const char *what)
{
    DWORD error = NMERR_SUCCESS;
    LPVOID block = ExpertAllocMemory(host->key, bytes, &error);
    if (block != NULL)
        return block;
    if (error == NMERR_EXPERT_TERMINATE)
        host->terminated = 1;
    else
        report_problem(host, EXPERT_PROBLEM_OUT_OF_MEMORY, what, error);
    return NULL;
}

/* Growing a table may fail without ending the run; the caller decides.
 * The old block stays valid on failure. */
static inline LPVOID try_resize(struct expert_host *host, LPVOID block, SIZE_T bytes)
{
    DWORD error = NMERR_SUCCESS;
    LPVOID grown = ExpertReallocMemory(host->key, block, bytes, &error);
    if (grown == NULL && error == NMERR_EXPERT_TERMINATE)
        host->terminated = 1;
    return grown;
}

/* Frees a block; returns 0 if the host refused (other than terminating). */
static inline int release(struct expert_host *host, LPVOID block)
{
    if (block == NULL)
        return 1;
    DWORD error = ExpertFreeMemory(host->key, block);
    if (error == NMERR_EXPERT_TERMINATE)
        host->terminated = 1;
    return error == NMERR_SUCCESS || error == NMERR_EXPERT_TERMINATE;
}

static inline void set_string_column(NMCOLUMNINFO *column, char *name, const char *value)
{
    column->szColumnName = name;
    column->VariantData.Type = NMCOLUMNTYPE_STRING;
    column->VariantData.Value.pStringVal = value;
}

/* Counts above a DWORD are shown as the largest DWORD (frame counts cannot
 * exceed it: frame numbers are DWORDs). */
static inline void set_uint32_column(NMCOLUMNINFO *column, char *name, uint64_t value)
{
    column->szColumnName = name;
    column->VariantData.Type = NMCOLUMNTYPE_UINT32;
    column->VariantData.Value.Uint32Val = value > UINT32_MAX ? UINT32_MAX : (DWORD)value;
}

static inline void set_float64_column(NMCOLUMNINFO *column, char *name, double value)
{
    column->szColumnName = name;
    column->VariantData.Type = NMCOLUMNTYPE_FLOAT64;
    column->VariantData.Value.Float64Val = value;
}

#endif
