/*
 * config_store.h - where experts' EXPERTCONFIG blobs are kept between runs.
 *
 * NetMon persisted each expert's configuration; expert-sandbox keeps it in a
 * file per expert: the EXPERTCONFIG bytes as Configure left them, its first
 * DWORD (RawConfigLength, little-endian) equal to the file's size.  By
 * default the file is $XDG_CONFIG_HOME/expert-sandbox/NAME.config (or
 * ~/.config/...), NAME being the expert file's name without ".so".
 */
#ifndef ES_CONFIG_STORE_H
#define ES_CONFIG_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "supervisor.h"

/* The default file for `expert_path` under `dir` (NULL: the XDG default).
 * Returns a malloc'd path, or NULL if no home directory is known. */
char *es_config_path(const char *dir, const char *expert_path);

/* Reads a stored configuration.  A missing file is no configuration (0,
 * blob empty); a file that is not one gives -1 with a reason in why. */
int es_config_read(const char *path, struct es_config_blob *blob, char *why, size_t whylen);

/* Writes atomically (temporary file and rename), creating the directory. */
int es_config_write(const char *path, const struct es_config_blob *blob, char *why, size_t whylen);

#endif
