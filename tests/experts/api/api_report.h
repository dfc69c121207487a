/*
 * api_report.h - how the API test experts tell the test what they saw.
 *
 * An expert has one way to speak to the outside world: ExpertSubmitEvent.  So
 * every observation becomes one event whose szEventName says what was
 * observed ("probe:fwd_invalid", "walk_forward", ...) and whose columns carry
 * the values, each with the column type that fits it: return codes and
 * counts as UINT32, frame numbers as FRAME, truths as YESNO, text as STRING.
 * tests/test_api.c finds the event by name in the JSON Lines and reads the
 * columns back.
 *
 * The event lives in static storage, not in the expert's heap: the memory
 * test must still be able to report after it has exhausted its quota.
 */
#ifndef API_REPORT_H
#define API_REPORT_H

#include <string.h>

#include "netmon.h"

#define REPORT_MAX_COLUMNS 24

/* NMEVENTDATA ends in Column[1]; the room behind it holds the other columns,
 * as the reference's "allocate sizeof + (N-1) more" asks. */
static union {
    NMEVENTDATA event;
    unsigned char room[sizeof(NMEVENTDATA) + (REPORT_MAX_COLUMNS - 1) * sizeof(NMCOLUMNINFO)];
} report_space;

/* Starts a new observation called `what`. */
static inline void report_begin(const char *what)
{
    memset(&report_space, 0, sizeof report_space);
    report_space.event.EventIdent = 1;
    report_space.event.Flags = NMEVENTFLAG_EXPERT;
    report_space.event.Severity = NMEVENT_SEVERITY_INFORMATIONAL;
    report_space.event.szSourceName = (LPSTR) "api test";
    report_space.event.szEventName = (LPSTR)what;
}

/* The next free column, or NULL when the event is full (the observation
 * then lacks a column and the test says which one it misses). */
static inline NMCOLUMNINFO *report_column(const char *name, NMCOLUMNTYPE type)
{
    NMEVENTDATA *event = &report_space.event;
    if (event->NumColumns >= REPORT_MAX_COLUMNS)
        return NULL;
    NMCOLUMNINFO *column = &event->Column[event->NumColumns++];
    column->szColumnName = (LPSTR)name;
    column->VariantData.Type = type;
    return column;
}

static inline void report_u32(const char *name, DWORD value)
{
    NMCOLUMNINFO *column = report_column(name, NMCOLUMNTYPE_UINT32);
    if (column)
        column->VariantData.Value.Uint32Val = value;
}

/* A 0-based frame number; the JSON shows it 1-based, INVALID_FRAME_NUMBER
 * as null. */
static inline void report_frame(const char *name, DWORD frame)
{
    NMCOLUMNINFO *column = report_column(name, NMCOLUMNTYPE_FRAME);
    if (column)
        column->VariantData.Value.FrameVal = frame;
}

static inline void report_yesno(const char *name, BOOL value)
{
    NMCOLUMNINFO *column = report_column(name, NMCOLUMNTYPE_YESNO);
    if (column)
        column->VariantData.Value.YesNoVal = value;
}

static inline void report_text(const char *name, const char *text)
{
    NMCOLUMNINFO *column = report_column(name, NMCOLUMNTYPE_STRING);
    if (column)
        column->VariantData.Value.pStringVal = text;
}

/* A 64-bit value as two UINT32 columns, name_hi and name_lo: no column type
 * holds 64 bits exactly (FLOAT64 would round). */
static inline void report_u64(const char *name_hi, const char *name_lo, uint64_t value)
{
    report_u32(name_hi, (DWORD)(value >> 32));
    report_u32(name_lo, (DWORD)value);
}

static inline DWORD report_send(HEXPERTKEY key)
{
    return ExpertSubmitEvent(key, &report_space.event);
}

/* Register's common part: the name is what the outcome calls the expert. */
static inline void report_register(PEXPERTENUMINFO info, const char *name, const char *description)
{
    /* Register is given zeroed fields; short texts keep their terminator. */
    memcpy(info->szName, name, strnlen(name, sizeof info->szName - 1));
    memcpy(info->szVendor, "expert-sandbox API tests", sizeof "expert-sandbox API tests");
    memcpy(info->szDescription, description, strnlen(description, sizeof info->szDescription - 1));
    info->Version = 0;
    info->Flags = 0;
}

/* FNV-1a, 64 bits: the frame tests hash what the expert saw and compare with
 * the same hash computed from libpcap's reading of the capture. */
static inline uint64_t report_fnv1a(uint64_t hash, const void *bytes, size_t len)
{
    const unsigned char *p = bytes;
    for (size_t i = 0; i < len; i++) {
        hash ^= p[i];
        hash *= 0x100000001b3ull;
    }
    return hash;
}

#define REPORT_FNV_OFFSET 0xcbf29ce484222325ull

#endif
