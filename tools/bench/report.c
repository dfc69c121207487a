/*
 * report.c - samples, the printed table, targets and the JSON document.
 *
 * Rows are printed as they are produced, so a long run shows its progress
 * and an interrupted one has printed everything measured so far; the JSON
 * (every sample, not only the medians) is written once at the end.
 */
#include <errno.h>
#include <gnu/libc-version.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

struct bench_series {
    char name[160];
    char unit[24];
    double *values;
    size_t count, capacity;
};

struct row {
    char label[96];
    char cells[4][40];
};

struct target {
    char section[32];
    char text[200];
    char measured[200];
    enum target_verdict verdict;
};

struct named_value {
    char key[96];
    bool is_text;
    double number;
    char text[512];
};

struct section {
    char name[32];
    char title[200];
    char columns[4][40];
    struct bench_series **series;
    size_t series_count;
    struct row *rows;
    size_t row_count;
    char **notes;
    size_t note_count;
    struct named_value *values;
    size_t value_count;
};

struct bench_report {
    struct section *sections;
    size_t section_count;
    struct target *targets;
    size_t target_count;
};

/* Growth of the small arrays above; running out of memory in a benchmark
 * is not worth recovering from. */
static void *grow(void *array, size_t count, size_t element)
{
    void *p = realloc(array, (count + 1) * element);
    if (!p) {
        fprintf(stderr, "bench: out of memory\n");
        exit(2);
    }
    return p;
}

struct bench_report *report_new(void)
{
    struct bench_report *r = calloc(1, sizeof *r);
    if (!r) {
        fprintf(stderr, "bench: out of memory\n");
        exit(2);
    }
    return r;
}

void report_free(struct bench_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->section_count; i++) {
        struct section *s = &r->sections[i];
        for (size_t j = 0; j < s->series_count; j++) {
            free(s->series[j]->values);
            free(s->series[j]);
        }
        free(s->series);
        free(s->rows);
        for (size_t j = 0; j < s->note_count; j++)
            free(s->notes[j]);
        free(s->notes);
        free(s->values);
    }
    free(r->sections);
    free(r->targets);
    free(r);
}

static struct section *current(struct bench_report *r)
{
    if (r->section_count == 0)
        report_section(r, "misc", "other measurements");
    return &r->sections[r->section_count - 1];
}

void report_section(struct bench_report *r, const char *name, const char *title)
{
    r->sections = grow(r->sections, r->section_count, sizeof *r->sections);
    struct section *s = &r->sections[r->section_count++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->title, sizeof s->title, "%s", title);
    printf("\n== %s: %s ==\n", name, title);
    fflush(stdout);
}

struct bench_series *report_series(struct bench_report *r, const char *name, const char *unit)
{
    struct section *s = current(r);
    for (size_t i = 0; i < s->series_count; i++)
        if (!strcmp(s->series[i]->name, name))
            return s->series[i];
    s->series = grow(s->series, s->series_count, sizeof *s->series);
    struct bench_series *series = calloc(1, sizeof *series);
    if (!series) {
        fprintf(stderr, "bench: out of memory\n");
        exit(2);
    }
    snprintf(series->name, sizeof series->name, "%s", name);
    snprintf(series->unit, sizeof series->unit, "%s", unit);
    s->series[s->series_count++] = series;
    return series;
}

void series_add(struct bench_series *s, double value)
{
    if (s->count == s->capacity) {
        s->capacity = s->capacity ? 2 * s->capacity : 16;
        double *v = realloc(s->values, s->capacity * sizeof *v);
        if (!v) {
            fprintf(stderr, "bench: out of memory\n");
            exit(2);
        }
        s->values = v;
    }
    s->values[s->count++] = value;
}

size_t series_count(const struct bench_series *s)
{
    return s ? s->count : 0;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double *sorted_copy(const struct bench_series *s)
{
    double *v = malloc((s->count ? s->count : 1) * sizeof *v);
    if (!v) {
        fprintf(stderr, "bench: out of memory\n");
        exit(2);
    }
    memcpy(v, s->values, s->count * sizeof *v);
    qsort(v, s->count, sizeof *v, compare_doubles);
    return v;
}

double series_median(const struct bench_series *s)
{
    if (!s || s->count == 0)
        return NAN;
    double *v = sorted_copy(s);
    double m = s->count % 2 ? v[s->count / 2] : (v[s->count / 2 - 1] + v[s->count / 2]) / 2;
    free(v);
    return m;
}

double series_percentile(const struct bench_series *s, double p)
{
    if (!s || s->count == 0)
        return NAN;
    double *v = sorted_copy(s);
    /* Nearest rank: the smallest sample with at least p% of the samples at
     * or below it.  With 100 samples p99 is the second largest. */
    size_t rank = (size_t)ceil(p / 100.0 * (double)s->count);
    if (rank < 1)
        rank = 1;
    if (rank > s->count)
        rank = s->count;
    double value = v[rank - 1];
    free(v);
    return value;
}

static void print_cells(const char *label, const char cells[4][40])
{
    printf("  %-40s", label);
    for (int i = 0; i < 4; i++)
        if (cells[i][0])
            printf(" %14s", cells[i]);
    printf("\n");
    fflush(stdout);
}

void report_columns(struct bench_report *r, const char *c1, const char *c2, const char *c3, const char *c4)
{
    struct section *s = current(r);
    const char *in[4] = {c1, c2, c3, c4};
    for (int i = 0; i < 4; i++)
        snprintf(s->columns[i], sizeof s->columns[i], "%s", in[i] ? in[i] : "");
    print_cells("", (const char(*)[40])s->columns);
}

void report_row(struct bench_report *r, const char *label, const char *c1, const char *c2, const char *c3,
                const char *c4)
{
    struct section *s = current(r);
    s->rows = grow(s->rows, s->row_count, sizeof *s->rows);
    struct row *row = &s->rows[s->row_count++];
    snprintf(row->label, sizeof row->label, "%s", label);
    const char *in[4] = {c1, c2, c3, c4};
    for (int i = 0; i < 4; i++)
        snprintf(row->cells[i], sizeof row->cells[i], "%s", in[i] ? in[i] : "");
    print_cells(row->label, (const char(*)[40])row->cells);
}

void report_target(struct bench_report *r, const char *target, const char *measured, enum target_verdict v)
{
    struct section *s = current(r);
    r->targets = grow(r->targets, r->target_count, sizeof *r->targets);
    struct target *t = &r->targets[r->target_count++];
    snprintf(t->section, sizeof t->section, "%s", s->name);
    snprintf(t->text, sizeof t->text, "%s", target);
    snprintf(t->measured, sizeof t->measured, "%s", measured);
    t->verdict = v;
    static const char *const words[] = {"MET", "MISSED", "not measured"};
    printf("  target: %s -> %s (%s)\n", target, words[v], measured);
    fflush(stdout);
}

void report_note(struct bench_report *r, const char *fmt, ...)
{
    struct section *s = current(r);
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    s->notes = grow(s->notes, s->note_count, sizeof *s->notes);
    s->notes[s->note_count] = strdup(buf);
    if (!s->notes[s->note_count]) {
        fprintf(stderr, "bench: out of memory\n");
        exit(2);
    }
    s->note_count++;
    printf("  note: %s\n", buf);
    fflush(stdout);
}

static struct named_value *new_value(struct bench_report *r, const char *key)
{
    struct section *s = current(r);
    s->values = grow(s->values, s->value_count, sizeof *s->values);
    struct named_value *v = &s->values[s->value_count++];
    memset(v, 0, sizeof *v);
    snprintf(v->key, sizeof v->key, "%s", key);
    return v;
}

void report_value(struct bench_report *r, const char *key, double value)
{
    new_value(r, key)->number = value;
}

void report_text(struct bench_report *r, const char *key, const char *value)
{
    struct named_value *v = new_value(r, key);
    v->is_text = true;
    snprintf(v->text, sizeof v->text, "%s", value ? value : "");
}

void report_print_targets(const struct bench_report *r, FILE *to)
{
    static const char *const words[] = {"met", "MISSED", "not measured"};
    fprintf(to, "\n== targets (ratios measured in this run) ==\n");
    for (size_t i = 0; i < r->target_count; i++) {
        const struct target *t = &r->targets[i];
        fprintf(to, "  %-8s %-52s %-12s %s\n", t->section, t->text, words[t->verdict], t->measured);
    }
}

/* ------------------------------------------------------------------ JSON */

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* JSON has no NaN or infinity: a value that was not measured is null. */
static void json_number(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.9g", v);
    else
        fputs("null", f);
}

static void read_first_line(const char *path, const char *prefix, char *out, size_t len)
{
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, prefix, strlen(prefix)) != 0)
            continue;
        const char *colon = strchr(line, ':');
        if (!colon)
            continue;
        colon++;
        while (*colon == ' ' || *colon == '\t')
            colon++;
        snprintf(out, len, "%s", colon);
        out[strcspn(out, "\n")] = '\0';
        break;
    }
    fclose(f);
}

static void write_machine(FILE *f)
{
    struct utsname u;
    char cpu[256];
    read_first_line("/proc/cpuinfo", "model name", cpu, sizeof cpu);
    double load[3] = {0, 0, 0};
    if (getloadavg(load, 3) != 3)
        load[0] = load[1] = load[2] = NAN;
    fprintf(f, "\"machine\":{\"cpu\":");
    json_string(f, cpu);
    fprintf(f, ",\"cpus_online\":%ld,\"kernel\":", sysconf(_SC_NPROCESSORS_ONLN));
    if (uname(&u) == 0) {
        char kernel[600];
        snprintf(kernel, sizeof kernel, "%s %s %s", u.sysname, u.release, u.machine);
        json_string(f, kernel);
    } else {
        fputs("null", f);
    }
    fprintf(f, ",\"glibc\":");
    json_string(f, gnu_get_libc_version());
    fprintf(f, ",\"compiler\":");
    json_string(f, __VERSION__);
    fprintf(f, ",\"load_average_at_end\":[");
    for (int i = 0; i < 3; i++) {
        if (i)
            fputc(',', f);
        json_number(f, load[i]);
    }
    fprintf(f, "]}");
}

int report_write_json(const struct bench_report *r, const struct bench_config *cfg, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "{\"schema\":1,\"generated\":%lld,", (long long)time(NULL));
    write_machine(f);
    fprintf(f, ",\"settings\":{\"quick\":%s,\"samples\":%u,\"frames\":%u,\"synthetic_capture\":",
            cfg->quick ? "true" : "false", cfg->samples, cfg->frames);
    json_string(f, cfg->synthetic_capture);
    fprintf(f, ",\"real_capture\":");
    if (cfg->real_capture[0])
        json_string(f, cfg->real_capture);
    else
        fputs("null", f);
    fprintf(f, "},\"sections\":[");
    for (size_t i = 0; i < r->section_count; i++) {
        const struct section *s = &r->sections[i];
        fprintf(f, "%s{\"name\":", i ? "," : "");
        json_string(f, s->name);
        fprintf(f, ",\"title\":");
        json_string(f, s->title);
        fprintf(f, ",\"series\":[");
        for (size_t j = 0; j < s->series_count; j++) {
            const struct bench_series *se = s->series[j];
            fprintf(f, "%s{\"name\":", j ? "," : "");
            json_string(f, se->name);
            fprintf(f, ",\"unit\":");
            json_string(f, se->unit);
            fprintf(f, ",\"median\":");
            json_number(f, series_median(se));
            fprintf(f, ",\"p99\":");
            json_number(f, series_percentile(se, 99));
            fprintf(f, ",\"samples\":[");
            for (size_t k = 0; k < se->count; k++) {
                if (k)
                    fputc(',', f);
                json_number(f, se->values[k]);
            }
            fprintf(f, "]}");
        }
        fprintf(f, "],\"columns\":[");
        for (int c = 0; c < 4; c++) {
            if (c)
                fputc(',', f);
            json_string(f, s->columns[c]);
        }
        fprintf(f, "],\"rows\":[");
        for (size_t j = 0; j < s->row_count; j++) {
            fprintf(f, "%s{\"label\":", j ? "," : "");
            json_string(f, s->rows[j].label);
            fprintf(f, ",\"cells\":[");
            for (int c = 0; c < 4; c++) {
                if (c)
                    fputc(',', f);
                json_string(f, s->rows[j].cells[c]);
            }
            fprintf(f, "]}");
        }
        fprintf(f, "],\"values\":{");
        for (size_t j = 0; j < s->value_count; j++) {
            if (j)
                fputc(',', f);
            json_string(f, s->values[j].key);
            fputc(':', f);
            if (s->values[j].is_text)
                json_string(f, s->values[j].text);
            else
                json_number(f, s->values[j].number);
        }
        fprintf(f, "},\"notes\":[");
        for (size_t j = 0; j < s->note_count; j++) {
            if (j)
                fputc(',', f);
            json_string(f, s->notes[j]);
        }
        fprintf(f, "]}");
    }
    fprintf(f, "],\"targets\":[");
    static const char *const words[] = {"met", "missed", "not_measured"};
    for (size_t i = 0; i < r->target_count; i++) {
        const struct target *t = &r->targets[i];
        fprintf(f, "%s{\"section\":", i ? "," : "");
        json_string(f, t->section);
        fprintf(f, ",\"target\":");
        json_string(f, t->text);
        fprintf(f, ",\"measured\":");
        json_string(f, t->measured);
        fprintf(f, ",\"verdict\":\"%s\"}", words[t->verdict]);
    }
    fprintf(f, "]}\n");
    int rc = ferror(f) ? -1 : 0;
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}
