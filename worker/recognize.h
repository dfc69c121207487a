/*
 * recognize.h - where each protocol of a frame starts: the data behind
 * EXPERTFRAMEDESCRIPTOR.lpRecognizeDataTable.
 */
#ifndef ES_RECOGNIZE_H
#define ES_RECOGNIZE_H

#include <stddef.h>
#include <stdint.h>

#include "netmon.h"

#define ES_MAX_RECOGNIZED 16

/* Bytes a RECOGNIZEDATATABLE with ES_MAX_RECOGNIZED entries takes; the
 * caller provides them, aligned as RECOGNIZEDATATABLE. */
#define ES_RECOGNIZED_SIZE (sizeof(RECOGNIZEDATATABLE) + ES_MAX_RECOGNIZED * sizeof(RECOGNIZEDATA))

/* Fills *out with the protocols found in the frame's stored bytes, outermost
 * first, for the given libpcap link type.  Parses only what was captured:
 * a header that does not fit ends the table.  Makes no system call. */
void es_recognize(uint32_t link_type, const uint8_t *bytes, size_t captured, RECOGNIZEDATATABLE *out);

#endif
