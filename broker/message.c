/* message.c - bounded decoding and validation of worker messages. */
#include "message.h"

#include <stdio.h>
#include <string.h>

#include "filter_compile.h"
#include "netmon.h"
#include "wire.h"

static void *arena_alloc(void *data, size_t size)
{
    struct es_decoder *d = data;
    size_t aligned = (size + 15) & ~(size_t)15;
    if (aligned < size || aligned > sizeof d->arena - d->used)
        return NULL;   /* protobuf-c turns this into a failed unpack */
    void *p = d->arena + d->used;
    d->used += aligned;
    return p;
}

static void arena_free(void *data, void *p)
{
    /* Everything goes at once when the next message resets the arena. */
    (void)data;
    (void)p;
}

void es_decoder_init(struct es_decoder *d)
{
    d->allocator.alloc = arena_alloc;
    d->allocator.free = arena_free;
    d->allocator.allocator_data = d;
    d->used = 0;
}

static int check_text(protobuf_c_boolean present, const ProtobufCBinaryData *b, size_t cap,
                      const char *what, char *why, size_t whylen)
{
    if (present && b->len > cap) {
        snprintf(why, whylen, "%s of %zu bytes exceeds %zu", what, b->len, cap);
        return -1;
    }
    return 0;
}

static int check_event(const Es__Event *ev, char *why, size_t whylen)
{
    if (ev->n_columns > UINT8_MAX) {
        snprintf(why, whylen, "event with %zu columns", ev->n_columns);
        return -1;
    }
    if (check_text(ev->has_source_name, &ev->source_name, ES_MAX_NAME_TEXT, "source name", why, whylen) ||
        check_text(ev->has_event_name, &ev->event_name, ES_MAX_NAME_TEXT, "event name", why, whylen) ||
        check_text(ev->has_machine, &ev->machine, ES_MAX_NAME_TEXT, "machine", why, whylen) ||
        check_text(ev->has_description, &ev->description, ES_MAX_LONG_TEXT, "description", why, whylen) ||
        check_text(ev->has_justification, &ev->justification, ES_MAX_LONG_TEXT, "justification", why,
                   whylen))
        return -1;
    for (size_t i = 0; i < ev->n_columns; i++) {
        const Es__Column *c = ev->columns[i];
        if (check_text(1, &c->name, ES_MAX_NAME_TEXT, "column name", why, whylen) ||
            check_text(c->has_bytes_value, &c->bytes_value, ES_MAX_COLUMN_TEXT, "column value", why,
                       whylen))
            return -1;
    }
    return 0;
}

static int check_message(const Es__WorkerMessage *m, char *why, size_t whylen)
{
    switch (m->body_case) {
    case ES__WORKER_MESSAGE__BODY_HELLO:
        return check_text(m->hello->has_layer_report, &m->hello->layer_report, 1024, "layer report", why,
                          whylen);
    case ES__WORKER_MESSAGE__BODY_LOADED:
    case ES__WORKER_MESSAGE__BODY_FINISHED:
    case ES__WORKER_MESSAGE__BODY_EVENTS_PENDING:
        return 0;
    case ES__WORKER_MESSAGE__BODY_COMPILE_FILTER:
        return check_text(1, &m->compile_filter->expression, ES_MAX_FILTER_TEXT, "filter expression", why,
                          whylen);
    case ES__WORKER_MESSAGE__BODY_REGISTERED: {
        const Es__Registered *r = m->registered;
        /* The EXPERTENUMINFO fields are char[260]: 259 bytes and a NUL. */
        if (check_text(1, &r->name, EXPERTSTRINGLENGTH, "expert name", why, whylen) ||
            check_text(1, &r->vendor, EXPERTSTRINGLENGTH, "vendor", why, whylen) ||
            check_text(1, &r->description, EXPERTSTRINGLENGTH, "description", why, whylen))
            return -1;
        return 0;
    }
    case ES__WORKER_MESSAGE__BODY_FAILURE:
        return check_text(1, &m->failure->reason, 1024, "failure reason", why, whylen);
    case ES__WORKER_MESSAGE__BODY_STATUS:
        return check_text(m->status->has_text, &m->status->text, EXPERTSTRINGLENGTH, "status text", why,
                          whylen);
    case ES__WORKER_MESSAGE__BODY_EVENT:
        return check_event(m->event, why, whylen);
    default:
        snprintf(why, whylen, "message without a body");
        return -1;
    }
}

const Es__WorkerMessage *es_decode_worker_message(struct es_decoder *d, const uint8_t *data,
                                                  size_t len, char *why, size_t whylen)
{
    if (len > ES_MAX_MESSAGE) {
        snprintf(why, whylen, "message of %zu bytes exceeds the %d-byte limit", len, ES_MAX_MESSAGE);
        return NULL;
    }
    d->used = 0;
    Es__WorkerMessage *m = es__worker_message__unpack(&d->allocator, len, data);
    if (!m) {
        snprintf(why, whylen, "undecodable message of %zu bytes", len);
        return NULL;
    }
    if (check_message(m, why, whylen) != 0)
        return NULL;
    return m;
}

size_t es_encode_command(const Es__Command *cmd, uint8_t *buf, size_t buflen)
{
    size_t size = es__command__get_packed_size(cmd);
    if (size > buflen)
        return 0;
    return es__command__pack(cmd, buf);
}
