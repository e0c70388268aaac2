/* optdyn scaling — CSV files with named columns (see optdyn_scaling.h).
 *
 * The whole file is read into one buffer and parsed in place: every field becomes a NUL-terminated
 * string inside a second buffer (quotes removed, "" turned into "), and the table keeps pointers to
 * them, row-major.  One pass, no limit on field or line length. */
#include "scaling/optdyn_scaling.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct od_scaling_csv {
    char *name;        /* file name for messages */
    char *text;        /* unquoted field texts, NUL-separated */
    size_t cols, rows;
    char **cell;       /* (rows + 1) x cols: the header first */
    long *line;        /* rows + 1 starting lines */
};

void od_scaling_csv_free(od_scaling_csv *c)
{
    if (!c) return;
    free(c->name);
    free(c->text);
    free(c->cell);
    free(c->line);
    free(c);
}

/* Growable arrays of field pointers and record lines. */
typedef struct {
    char **cell;
    size_t n, cap;
    long *line;
    size_t nrec, reccap;
} builder;

static int push_cell(builder *b, char *s)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 64;
        char **p = realloc(b->cell, cap * sizeof *p);
        if (!p) OD_ERROR("out of memory", OD_ENOMEM);
        b->cell = p;
        b->cap = cap;
    }
    b->cell[b->n++] = s;
    return OD_OK;
}

static int push_line(builder *b, long line)
{
    if (b->nrec == b->reccap) {
        size_t cap = b->reccap ? 2 * b->reccap : 64;
        long *p = realloc(b->line, cap * sizeof *p);
        if (!p) OD_ERROR("out of memory", OD_ENOMEM);
        b->line = p;
        b->reccap = cap;
    }
    b->line[b->nrec++] = line;
    return OD_OK;
}

/* Trims spaces and tabs at both ends of the NUL-terminated s in place; returns the new start. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = '\0';
    return s;
}

/* The parser: src[0..len) is read, dst receives the unquoted fields. */
static int parse(const char *src, size_t len, const char *name, char *dst, builder *b,
                 size_t *ncols)
{
    size_t i = 0;
    long line = 1;
    char *o = dst;
    size_t fields_in_rec = 0;
    *ncols = 0;
    if (len >= 3 && (unsigned char)src[0] == 0xEF && (unsigned char)src[1] == 0xBB &&
        (unsigned char)src[2] == 0xBF)
        i = 3;
    while (i < len) {
        /* at the start of a record: skip blank lines and comments */
        size_t j = i;
        while (j < len && (src[j] == ' ' || src[j] == '\t' || src[j] == '\r')) j++;
        if (j == len) break;
        if (src[j] == '\n' || src[j] == '#') {
            while (j < len && src[j] != '\n') j++;
            i = j + 1;
            line++;
            continue;
        }
        OD_TRY(push_line(b, line));
        long rec_line = line;
        fields_in_rec = 0;
        for (;;) {   /* one field per iteration */
            char *start = o;
            int quoted = 0;
            size_t k = i;
            while (k < len && (src[k] == ' ' || src[k] == '\t')) k++;
            if (k < len && src[k] == '"') {
                quoted = 1;
                long qline = line;
                k++;
                for (;;) {
                    if (k >= len)
                        OD_ERRORF(OD_EPARSE, "%s:%ld: unterminated quoted field", name, qline);
                    if (src[k] == '"') {
                        if (k + 1 < len && src[k + 1] == '"') {
                            *o++ = '"';
                            k += 2;
                            continue;
                        }
                        k++;
                        break;
                    }
                    if (src[k] == '\n') line++;
                    *o++ = src[k++];
                }
                while (k < len && (src[k] == ' ' || src[k] == '\t' || src[k] == '\r')) k++;
                if (k < len && src[k] != ',' && src[k] != '\n')
                    OD_ERRORF(OD_EPARSE, "%s:%ld: text after the closing quote of a field", name,
                              line);
            } else {
                k = i;
                while (k < len && src[k] != ',' && src[k] != '\n') {
                    if (src[k] == '"')
                        OD_ERRORF(OD_EPARSE, "%s:%ld: a quote inside an unquoted field (quote the "
                                             "whole field and double the quote)", name, line);
                    if (src[k] != '\r') *o++ = src[k];
                    k++;
                }
            }
            *o++ = '\0';
            OD_TRY(push_cell(b, quoted ? start : trim(start)));
            fields_in_rec++;
            if (k < len && src[k] == ',') {
                i = k + 1;
                continue;
            }
            i = k + 1;   /* past the newline (or the end) */
            line++;
            break;
        }
        if (b->nrec == 1) {
            *ncols = fields_in_rec;
        } else if (fields_in_rec != *ncols) {
            OD_ERRORF(OD_EPARSE, "%s:%ld: %zu fields, the header has %zu", name, rec_line,
                      fields_in_rec, *ncols);
        }
    }
    if (b->nrec == 0) OD_ERRORF(OD_EPARSE, "%s: no header row (the file is empty)", name);
    for (size_t j = 0; j < *ncols; j++) {
        if (!*b->cell[j])
            OD_ERRORF(OD_EPARSE, "%s:%ld: column %zu has an empty name", name, b->line[0], j + 1);
        for (size_t m = 0; m < j; m++)
            if (strcmp(b->cell[m], b->cell[j]) == 0)
                OD_ERRORF(OD_EPARSE, "%s:%ld: duplicate column name '%s'", name, b->line[0],
                          b->cell[j]);
    }
    return OD_OK;
}

int od_scaling_csv_parse(const char *text, size_t len, const char *name, od_scaling_csv **out)
{
    *out = NULL;
    if (!name) name = "(csv)";
    od_scaling_csv *c = calloc(1, sizeof *c);
    builder b = {0};
    if (!c || !(c->name = strdup(name)) || !(c->text = malloc(len + 1))) {
        od_scaling_csv_free(c);
        OD_ERROR("out of memory", OD_ENOMEM);
    }
    size_t ncols;
    int st = parse(text, len, c->name, c->text, &b, &ncols);
    if (st != OD_OK) {
        free(b.cell);
        free(b.line);
        od_scaling_csv_free(c);
        return st;
    }
    c->cols = ncols;
    c->rows = b.nrec - 1;
    c->cell = b.cell;
    c->line = b.line;
    *out = c;
    return OD_OK;
}

int od_scaling_csv_read(const char *path, od_scaling_csv **out)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) OD_ERRORF(OD_EIO, "%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 65536 > cap) {
            cap = cap ? 2 * cap : 1 << 17;
            char *p = realloc(buf, cap);
            if (!p) {
                free(buf);
                fclose(f);
                OD_ERROR("out of memory", OD_ENOMEM);
            }
            buf = p;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        OD_ERRORF(OD_EIO, "%s: read error", path);
    }
    int st = od_scaling_csv_parse(buf ? buf : "", len, path, out);
    free(buf);
    return st;
}

size_t od_scaling_csv_rows(const od_scaling_csv *c) { return c->rows; }
size_t od_scaling_csv_cols(const od_scaling_csv *c) { return c->cols; }
const char *od_scaling_csv_name(const od_scaling_csv *c) { return c->name; }

const char *od_scaling_csv_colname(const od_scaling_csv *c, size_t j)
{
    return j < c->cols ? c->cell[j] : NULL;
}

int od_scaling_csv_find(const od_scaling_csv *c, const char *name)
{
    for (size_t j = 0; j < c->cols; j++)
        if (strcmp(c->cell[j], name) == 0) return (int)j;
    return -1;
}

const char *od_scaling_csv_cell(const od_scaling_csv *c, size_t row, size_t j)
{
    return row < c->rows && j < c->cols ? c->cell[(row + 1) * c->cols + j] : NULL;
}

long od_scaling_csv_line(const od_scaling_csv *c, size_t row)
{
    return row < c->rows ? c->line[row + 1] : -1;
}

static int is_missing(const char *s)
{
    return !*s || strcasecmp(s, "na") == 0 || strcasecmp(s, "nan") == 0 ||
           strcasecmp(s, "null") == 0;
}

int od_scaling_csv_column(const od_scaling_csv *c, const char *name, double *out)
{
    int j = od_scaling_csv_find(c, name);
    if (j < 0) {
        char list[512] = "";
        size_t used = 0;
        for (size_t k = 0; k < c->cols && used + 4 < sizeof list; k++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s'%s'", k ? ", " : "",
                                     c->cell[k]);
        OD_ERRORF(OD_ENOTFOUND, "%s: no column '%s' (columns: %s)", c->name, name, list);
    }
    for (size_t r = 0; r < c->rows; r++) {
        const char *s = od_scaling_csv_cell(c, r, (size_t)j);
        if (is_missing(s)) {
            out[r] = NAN;
        } else if (od_parse_double(s, &out[r]) != OD_OK) {
            OD_ERRORF(OD_EPARSE, "%s:%ld: row %zu, column '%s': '%s' is not a number", c->name,
                      od_scaling_csv_line(c, r), r + 1, name, s);
        }
    }
    return OD_OK;
}
