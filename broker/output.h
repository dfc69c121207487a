/*
 * output.h - results as JSON Lines (docs/output.md) and as a table for people.
 *
 * Every record is written whole and flushed at once, so a run that is
 * interrupted keeps everything reported before; events written inside a
 * batch are flushed together when the batch ends (one write per batch
 * instead of one per event), still as whole records.  Text from experts is
 * untrusted bytes: it is escaped, and invalid UTF-8 is replaced, never passed
 * through.
 */
#ifndef ES_OUTPUT_H
#define ES_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "expert.pb-c.h"
#include "outcome.h"

struct es_run_info {
    const char *capture_path;
    uint32_t frame_count;
    uint32_t link_type;
    const char *filter;        /* NULL if none */
    uint64_t heap_quota;
    unsigned jobs;
    size_t expert_count;
};

/* Who an event or a listing is about. */
struct es_expert_ref {
    size_t index;              /* position on the command line, 0-based */
    const char *path;          /* as given */
    const char *name;          /* from Register; may be NULL */
};

struct es_output;

/* json may be NULL (no JSON output).  Returns NULL only on allocation failure. */
struct es_output *es_output_new(FILE *json);
void es_output_free(struct es_output *out);

/* Events as text for people (the Event Viewer's view, hidden columns left
 * out) instead of JSON Lines; run and outcome records are then not written
 * (the summary table says how each expert ended). */
void es_output_set_text(struct es_output *out, bool text);

/* Each returns 0, or -1 with errno set when writing failed. */
int es_output_run(struct es_output *out, const struct es_run_info *run);
int es_output_event(struct es_output *out, const struct es_expert_ref *who, const Es__Event *ev);

/* Between these, es_output_event appends whole records to a buffer that
 * es_output_end_batch writes and flushes at once (and that is flushed early
 * when it grows past 256 KiB).  Batches nest; the outermost end flushes.
 * es_output_end_batch returns 0, or -1 with errno set when writing failed. */
void es_output_begin_batch(struct es_output *out);
int es_output_end_batch(struct es_output *out);
int es_output_outcome(struct es_output *out, const struct es_outcome *o);

/* Human summary: one row per expert (outcome, events, frames, detail). */
int es_output_table(FILE *to, const struct es_outcome *const *outcomes, size_t n);

/* `expert-broker list`: one expert's registration, as text or one JSON object. */
int es_output_registration(FILE *to, const struct es_expert_ref *who, const Es__Registered *reg,
                           bool json);

/* Writes the JSON string literal for untrusted bytes (quotes included). */
void es_json_string(FILE *to, const uint8_t *bytes, size_t len);

#endif
