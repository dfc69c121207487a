/*
 * progress.h - what each running expert is doing, for the person watching.
 *
 * On a terminal: one line per running expert, redrawn in place (name,
 * percent from ExpertIndicateStatus, frames per second, elapsed time, state).
 * Otherwise: plain lines every few seconds, for logs.  Nothing with --quiet.
 */
#ifndef ES_PROGRESS_H
#define ES_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct es_progress;

/* to: where lines go (stderr); NULL or quiet gives a progress that does nothing. */
struct es_progress *es_progress_new(FILE *to, size_t experts, bool quiet);
void es_progress_free(struct es_progress *p);

/* How often es_progress_tick wants to be called, in seconds (0: never). */
double es_progress_interval(const struct es_progress *p);

void es_progress_started(struct es_progress *p, size_t index, const char *name);
void es_progress_named(struct es_progress *p, size_t index, const char *name);
/* status is an EXPERTSTATUSENUMERATION; percent -1 when unknown. */
void es_progress_status(struct es_progress *p, size_t index, uint32_t status, int32_t percent);
void es_progress_frames(struct es_progress *p, size_t index, uint64_t frames_read);
void es_progress_ended(struct es_progress *p, size_t index);

/* Redraws (terminal) or prints (log) the running experts' lines. */
void es_progress_tick(struct es_progress *p);

/* Removes the lines from the terminal, before the summary table. */
void es_progress_clear(struct es_progress *p);

#endif
