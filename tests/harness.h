/*
 * harness.h - what the integration tests need around the real binaries:
 * run commands as real processes with their output captured, read the JSON
 * Lines they write (strictly: a record that is not valid JSON is a failure,
 * not something to skip), and make scratch files.
 *
 * Nothing here knows the broker's schema; test_integration.c does.
 */
#ifndef ES_TEST_HARNESS_H
#define ES_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------------ */
/* Processes                                                                */
/* ------------------------------------------------------------------------ */

struct hx_result {
    bool exited;          /* ended by exit(): exit_code is valid */
    int exit_code;
    bool signaled;        /* killed by a signal: term_signal is valid */
    int term_signal;
    char *out;            /* everything it wrote on stdout, NUL-terminated */
    size_t out_len;
    char *err;            /* everything it wrote on stderr, NUL-terminated */
    size_t err_len;
};

struct hx_job {
    const char *const *argv;  /* NULL-terminated; argv[0] is the program's path */
    struct hx_result result;  /* filled by hx_run_many */
};

/*
 * Runs argv[0] with stdin on /dev/null and stdout/stderr captured, waits for
 * it and for both pipes to reach end-of-file.  The environment is inherited.
 * Returns 0, or -1 with errno set when the process could not be started or
 * waited for (the result is then zeroed).
 */
int hx_run(const char *const argv[], struct hx_result *result);

/* Runs every job, at most `parallel` at a time; same contract as hx_run for
 * each.  Returns 0 when every job ran, -1 on the first that could not. */
int hx_run_many(struct hx_job *jobs, size_t count, unsigned parallel);

void hx_result_free(struct hx_result *result);

/* "exit 3", "signal 11 (Segmentation fault)", for failure messages. */
const char *hx_describe_status(const struct hx_result *result, char *buf, size_t len);

/* Number of lines in text: newline-terminated ones plus an unterminated tail. */
size_t hx_count_lines(const char *text, size_t len);

/* True if text contains needle. */
bool hx_contains(const char *text, const char *needle);

/* ------------------------------------------------------------------------ */
/* Files                                                                    */
/* ------------------------------------------------------------------------ */

/* A new empty directory under $TMPDIR (or /tmp); malloc'd path, NULL on error. */
char *hx_make_temp_dir(void);

/* Removes a directory tree; 0 or -1. */
int hx_remove_tree(const char *path);

/* dir + "/" + name, malloc'd. */
char *hx_path_join(const char *dir, const char *name);

int hx_write_file(const char *path, const void *data, size_t len);

/* Whole file, NUL-terminated, malloc'd; NULL with errno on error. */
char *hx_read_file(const char *path, size_t *len);

/* Whether this process may trace a child of its own (PTRACE_SEIZE), as the
 * broker's init does with each worker; Yama's ptrace_scope 3 or an LSM may
 * refuse. */
bool hx_can_trace_child(void);

/* ------------------------------------------------------------------------ */
/* JSON                                                                     */
/* ------------------------------------------------------------------------ */

enum hx_json_type {
    HX_JSON_NULL,
    HX_JSON_BOOL,
    HX_JSON_NUMBER,
    HX_JSON_STRING,
    HX_JSON_ARRAY,
    HX_JSON_OBJECT,
};

struct hx_json {
    enum hx_json_type type;
    bool boolean;
    double number;
    char *string;                /* decoded UTF-8, NUL-terminated */
    size_t string_len;           /* without the NUL; a \u0000 may sit inside */
    size_t count;                /* array items or object members */
    struct hx_json *items;       /* array items, or object member values */
    char **keys;                 /* object member names, decoded */
};

/*
 * Parses exactly one JSON value (RFC 8259), strictly: no trailing text, no
 * invalid UTF-8, no unpaired surrogate escapes, no duplicate member names,
 * nesting at most 64 deep.  Returns NULL with a reason in `error` otherwise.
 */
struct hx_json *hx_json_parse(const char *text, size_t len, char *error, size_t error_len);
void hx_json_free(struct hx_json *value);

/* Member of an object, or NULL (also when `object` is not an object). */
const struct hx_json *hx_json_get(const struct hx_json *object, const char *key);
/* The member's string, or NULL when it is missing or not a string. */
const char *hx_json_get_string(const struct hx_json *object, const char *key);
/* True and *out set when the member is a number. */
bool hx_json_get_number(const struct hx_json *object, const char *key, double *out);
/* True when the member exists and is null. */
bool hx_json_is_null(const struct hx_json *object, const char *key);

/* A canonical text of the value (members in their order, numbers with %.17g),
 * for comparing records; malloc'd. */
char *hx_json_serialize(const struct hx_json *value);

/* One JSON Lines document: each line one value. */
struct hx_jsonl {
    struct hx_json **records;
    size_t count;
    size_t bad_line;             /* 1-based line of the first invalid record */
    char error[256];
};

/*
 * Parses text as JSON Lines: every line must be one valid JSON object and
 * the text must end with a newline (or be empty).  Returns 0, or -1 with
 * bad_line and error set (records parsed so far are kept, free them anyway).
 */
int hx_jsonl_parse(const char *text, size_t len, struct hx_jsonl *doc);
void hx_jsonl_free(struct hx_jsonl *doc);

/* Records whose "type" is `type`. */
size_t hx_jsonl_count_type(const struct hx_jsonl *doc, const char *type);
/* The n-th (0-based) record whose "type" is `type`, or NULL. */
const struct hx_json *hx_jsonl_nth(const struct hx_jsonl *doc, const char *type, size_t n);
/* The first record of `type` whose number member `key` equals `value`. */
const struct hx_json *hx_jsonl_find(const struct hx_jsonl *doc, const char *type, const char *key,
                                    double value);
/* How many records of `type` have number member `key` equal to `value`. */
size_t hx_jsonl_count_where(const struct hx_jsonl *doc, const char *type, const char *key,
                            double value);

#endif
