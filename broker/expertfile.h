/*
 * expertfile.h - the broker's look at an expert file before any worker
 * loads it: it exists, can be read, and is a shared object for this machine.
 *
 * The broker never loads expert code, and reads no more of the file than its
 * ELF identification header; whether the entry points exist is the worker's
 * to find out.
 */
#ifndef ES_EXPERTFILE_H
#define ES_EXPERTFILE_H

#include <stddef.h>

/* Opens `path` read-only (close-on-exec) and checks it.  Returns the
 * descriptor, or -1 with a one-line reason in `why` ("no such file", "not an
 * ELF file", ...). */
int es_expert_file_open(const char *path, char *why, size_t whylen);

#endif
