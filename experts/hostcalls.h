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
 * And the walk over the capture's frames they all make.
 *
 * Only netmon.h, <stdint.h>, <stdio.h> and <string.h> are used; all functions are
 * static inline.
 */
#ifndef EXPERTS_HOSTCALLS_H
#define EXPERTS_HOSTCALLS_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "netmon.h"

/* The sub-status of EXPERTSTATUS_PROBLEM for refused memory, the same in
 * every sample expert (each one's enum problem starts from it). */
#define EXPERT_PROBLEM_OUT_OF_MEMORY 2
/* ExpertGetFrame failed, or the host did not move forward: the same codes
 * in every sample expert too. */
#define EXPERT_PROBLEM_FRAME_READ 1
#define EXPERT_PROBLEM_HOST_FRAME_ORDER 4

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

/*
 * A forward walk over the capture, with the host checked and progress
 * reported on the way:
 *
 *     struct frame_walk walk;
 *     frame_walk_begin(&walk, capture, FLAGS_DEFER_TO_UI_FILTER);
 *     int got;
 *     while ((got = frame_walk_next(host, &walk)) > 0) {
 *         ... walk.descriptor ...
 *         if (!frame_walk_progress(host, &walk))
 *             return FALSE;
 *     }
 *     return got == 0;
 */
struct frame_walk {
    EXPERTFRAMEDESCRIPTOR descriptor;
    DWORD previous;           /* the last frame returned, or INVALID_FRAME_NUMBER */
    DWORD request_flags;      /* for ExpertGetFrame */
    uint64_t total;           /* frames the host announced; 0: no percentage */
    LONG reported_percent;
};

static inline void frame_walk_begin(struct frame_walk *walk, HCAPTURE capture, DWORD request_flags)
{
    memset(walk, 0, sizeof(*walk));
    walk->previous = INVALID_FRAME_NUMBER;
    walk->request_flags = request_flags;
    /* 0 (no percentage) when the startup information has no capture handle. */
    walk->total = capture != NULL ? GetCaptureTotalFrames(capture) : 0;
}

/* 1: the next frame is in walk->descriptor; 0: no more frames; -1: stop
 * (terminated, or a problem reported). */
static inline int frame_walk_next(struct expert_host *host, struct frame_walk *walk)
{
    DWORD error = ExpertGetFrame(host->key, GET_FRAME_NEXT_FORWARD, walk->request_flags, walk->previous, NULL,
                                 &walk->descriptor);
    if (error == NMERR_NO_MORE_FRAMES)
        return 0;
    if (error == NMERR_EXPERT_TERMINATE) {
        host->terminated = 1;
        return -1;
    }
    if (error != NMERR_SUCCESS) {
        report_problem(host, EXPERT_PROBLEM_FRAME_READ, "ExpertGetFrame failed", error);
        return -1;
    }
    /* A host that does not move forward would keep us here forever:
     * INVALID_FRAME_NUMBER as the next request would start over. */
    DWORD number = walk->descriptor.FrameNumber;
    if (number == INVALID_FRAME_NUMBER || (walk->previous != INVALID_FRAME_NUMBER && number <= walk->previous)) {
        report_problem(host, EXPERT_PROBLEM_HOST_FRAME_ORDER, "ExpertGetFrame did not move forward",
                       NMERR_FRAME_NOT_FOUND);
        return -1;
    }
    walk->previous = number;
    return 1;
}

/* Reports the percentage when it grows (at most 99: the host sets 100 when
 * Run returns TRUE); 0 when the run must stop. */
static inline int frame_walk_progress(struct expert_host *host, struct frame_walk *walk)
{
    if (host->terminated)
        return 0;
    if (walk->total == 0)
        return 1;
    uint64_t percent = (uint64_t)walk->descriptor.FrameNumber * 100 / walk->total;
    if (percent > 99)
        percent = 99;
    if ((LONG)percent <= walk->reported_percent)
        return 1;
    walk->reported_percent = (LONG)percent;
    return report_progress(host, EXPERTSTATUS_RUNNING, walk->reported_percent);
}

#endif
