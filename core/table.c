/* optdyn core — typed tables written as TSV (see output.h). */
#include "core/output.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/param.h"
#include "core/status.h"

typedef struct {
    char *name;
    od_col_type type;
    size_t n, cap;
    double *d;
    long *i;
    char **s;
} column;

struct od_table {
    char *name;
    char **meta;      /* "key: value" */
    size_t n_meta;
    column *cols;
    size_t n_cols;
};

/* Replaces tabs, newlines and other control characters by spaces. */
static void sanitize(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20) *s = ' ';
}

static int valid_name(const char *name)
{
    if (!name || !*name) return 0;
    for (const char *c = name; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-' && *c != '.') return 0;
    return 1;
}

od_table *od_table_alloc(const char *name)
{
    if (!valid_name(name)) {
        od_error(OD_EINVAL, __FILE__, __LINE__, "invalid table name '%s'", name ? name : "");
        return NULL;
    }
    od_table *t = calloc(1, sizeof *t);
    if (!t || !(t->name = od_strdup(name))) {
        free(t);
        return NULL;
    }
    return t;
}

void od_table_free(od_table *t)
{
    if (!t) return;
    for (size_t j = 0; j < t->n_cols; j++) {
        column *c = &t->cols[j];
        if (c->s)
            for (size_t k = 0; k < c->n; k++) free(c->s[k]);
        free(c->name);
        free(c->d);
        free(c->i);
        free(c->s);
    }
    for (size_t k = 0; k < t->n_meta; k++) free(t->meta[k]);
    free(t->meta);
    free(t->cols);
    free(t->name);
    free(t);
}

int od_table_meta(od_table *t, const char *key, const char *fmt, ...)
{
    char value[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    size_t len = strlen(key) + strlen(value) + 3;
    char *line = malloc(len);
    char **m = realloc(t->meta, (t->n_meta + 1) * sizeof *m);
    if (!line || !m) {
        free(line);
        if (m) t->meta = m;
        OD_ERROR("out of memory", OD_ENOMEM);
    }
    t->meta = m;
    snprintf(line, len, "%s: %s", key, value);
    sanitize(line);
    t->meta[t->n_meta++] = line;
    return OD_OK;
}

const char *od_table_meta_get(const od_table *t, const char *key)
{
    size_t kl = strlen(key);
    for (size_t k = 0; k < t->n_meta; k++)
        if (strncmp(t->meta[k], key, kl) == 0 && t->meta[k][kl] == ':')
            return t->meta[k] + kl + (t->meta[k][kl + 1] == ' ' ? 2 : 1);
    return NULL;
}

static column *find(const od_table *t, const char *name)
{
    for (size_t j = 0; j < t->n_cols; j++)
        if (strcmp(t->cols[j].name, name) == 0) return &t->cols[j];
    return NULL;
}

static column *add_column(od_table *t, const char *name, od_col_type type, size_t n)
{
    if (!name || !*name || strpbrk(name, "\t\n\r")) {
        od_error(OD_EINVAL, __FILE__, __LINE__, "table %s: invalid column name", t->name);
        return NULL;
    }
    if (find(t, name)) {
        od_error(OD_EINVAL, __FILE__, __LINE__, "table %s: duplicate column '%s'", t->name, name);
        return NULL;
    }
    column *cols = realloc(t->cols, (t->n_cols + 1) * sizeof *cols);
    if (!cols) return NULL;
    t->cols = cols;
    column *c = &t->cols[t->n_cols];
    memset(c, 0, sizeof *c);
    c->type = type;
    c->cap = n ? n : 16;
    c->name = od_strdup(name);
    if (type == OD_COL_DOUBLE) c->d = malloc(c->cap * sizeof *c->d);
    if (type == OD_COL_INT) c->i = malloc(c->cap * sizeof *c->i);
    if (type == OD_COL_STRING) c->s = calloc(c->cap, sizeof *c->s);
    if (!c->name || (!c->d && !c->i && !c->s)) {
        free(c->name);
        free(c->d);
        free(c->i);
        free(c->s);
        od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
        return NULL;
    }
    t->n_cols++;
    return c;
}

int od_table_add_double(od_table *t, const char *col, const double *v, size_t n)
{
    column *c = add_column(t, col, OD_COL_DOUBLE, n);
    if (!c) return OD_EINVAL;
    if (n) memcpy(c->d, v, n * sizeof *v);
    c->n = n;
    return OD_OK;
}

int od_table_add_int(od_table *t, const char *col, const long *v, size_t n)
{
    column *c = add_column(t, col, OD_COL_INT, n);
    if (!c) return OD_EINVAL;
    if (n) memcpy(c->i, v, n * sizeof *v);
    c->n = n;
    return OD_OK;
}

int od_table_add_string(od_table *t, const char *col, const char *const *v, size_t n)
{
    column *c = add_column(t, col, OD_COL_STRING, n);
    if (!c) return OD_EINVAL;
    for (size_t k = 0; k < n; k++) {
        c->s[k] = od_strdup(v[k] ? v[k] : "");
        if (!c->s[k]) OD_ERROR("out of memory", OD_ENOMEM);
        sanitize(c->s[k]);
        c->n = k + 1;
    }
    return OD_OK;
}

int od_table_append(od_table *t, const double *row)
{
    for (size_t j = 0; j < t->n_cols; j++)
        if (t->cols[j].type != OD_COL_DOUBLE)
            OD_ERRORF(OD_EINVAL, "table %s: od_table_append needs double columns only", t->name);
    for (size_t j = 0; j < t->n_cols; j++) {
        column *c = &t->cols[j];
        if (c->n == c->cap) {
            double *d = realloc(c->d, 2 * c->cap * sizeof *d);
            if (!d) OD_ERROR("out of memory", OD_ENOMEM);
            c->d = d;
            c->cap *= 2;
        }
        c->d[c->n++] = row[j];
    }
    return OD_OK;
}

size_t od_table_rows(const od_table *t) { return t->n_cols ? t->cols[0].n : 0; }
size_t od_table_cols(const od_table *t) { return t->n_cols; }
const char *od_table_name(const od_table *t) { return t->name; }

size_t od_table_colnum(const od_table *t, const char *col)
{
    for (size_t j = 0; j < t->n_cols; j++)
        if (strcmp(t->cols[j].name, col) == 0) return j + 1;
    return 0;
}

const double *od_table_column(const od_table *t, const char *col)
{
    column *c = find(t, col);
    return (c && c->type == OD_COL_DOUBLE) ? c->d : NULL;
}

static void print_double(FILE *f, double x)
{
    if (isnan(x)) fputs("nan", f);
    else if (isinf(x)) fputs(x > 0 ? "inf" : "-inf", f);
    else fprintf(f, "%.17g", x);
}

int od_table_fprint(const od_table *t, FILE *f)
{
    size_t rows = od_table_rows(t);
    for (size_t j = 0; j < t->n_cols; j++)
        if (t->cols[j].n != rows)
            OD_ERRORF(OD_EBADSIZE, "table %s: column '%s' has %zu rows, column '%s' has %zu",
                      t->name, t->cols[j].name, t->cols[j].n, t->cols[0].name, rows);
    for (size_t k = 0; k < t->n_meta; k++) fprintf(f, "# %s\n", t->meta[k]);
    for (size_t j = 0; j < t->n_cols; j++) fprintf(f, "%s%s", j ? "\t" : "", t->cols[j].name);
    fputc('\n', f);
    for (size_t r = 0; r < rows; r++) {
        for (size_t j = 0; j < t->n_cols; j++) {
            const column *c = &t->cols[j];
            if (j) fputc('\t', f);
            if (c->type == OD_COL_DOUBLE) print_double(f, c->d[r]);
            else if (c->type == OD_COL_INT) fprintf(f, "%ld", c->i[r]);
            else fputs(c->s[r], f);
        }
        fputc('\n', f);
    }
    return OD_OK;
}

int od_table_write(const od_table *t, const char *dir)
{
    char name[512];
    snprintf(name, sizeof name, "%s.tsv", t->name);
    od_outfile o;
    OD_TRY(od_outfile_open(&o, dir, name));
    int status = od_table_fprint(t, o.f);
    if (status != OD_OK) {
        od_outfile_abort(&o);
        return status;
    }
    return od_outfile_commit(&o);
}

/* ---- reading ---------------------------------------------------------------------------------- */

static int parse_cell(const char *s, double *x)
{
    if (strcmp(s, "nan") == 0 || strcmp(s, "-nan") == 0) { *x = NAN; return OD_OK; }
    if (strcmp(s, "inf") == 0) { *x = INFINITY; return OD_OK; }
    if (strcmp(s, "-inf") == 0) { *x = -INFINITY; return OD_OK; }
    return od_parse_double(s, x);
}

int od_table_read(const char *path, od_table **out)
{
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f) OD_ERRORF(OD_EIO, "cannot open '%s': %s", path, strerror(errno));
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char stem[256];
    snprintf(stem, sizeof stem, "%s", base);
    char *dot = strrchr(stem, '.');
    if (dot && dot != stem) *dot = '\0';
    for (char *c = stem; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-' && *c != '.') *c = '_';
    od_table *t = od_table_alloc(stem);
    if (!t) {
        fclose(f);
        OD_ERROR("out of memory", OD_ENOMEM);
    }
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    int status = OD_OK, have_header = 0;
    double *row = NULL;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        if (line[0] == '#') {
            const char *kv = line + 1 + (line[1] == ' ');
            const char *colon = strchr(kv, ':');
            if (colon) {
                char key[256];
                size_t kl = (size_t)(colon - kv) < sizeof key - 1 ? (size_t)(colon - kv) : sizeof key - 1;
                memcpy(key, kv, kl);
                key[kl] = '\0';
                status = od_table_meta(t, key, "%s", colon + 1 + (colon[1] == ' '));
                if (status) break;
            }
            continue;
        }
        if (len == 0) continue;
        if (!have_header) {
            for (char *tok = strtok(line, "\t"); tok; tok = strtok(NULL, "\t"))
                if ((status = od_table_add_double(t, tok, NULL, 0)) != OD_OK) break;
            if (status) break;
            have_header = 1;
            row = malloc((t->n_cols ? t->n_cols : 1) * sizeof *row);
            if (!row) { status = OD_ENOMEM; break; }
            continue;
        }
        size_t j = 0;
        char *save = line;
        for (char *cell = save;; j++) {
            char *tab = strchr(cell, '\t');
            if (tab) *tab = '\0';
            if (j >= t->n_cols) { j++; break; }
            if (parse_cell(cell, &row[j]) != OD_OK) {
                status = od_error(OD_EPARSE, __FILE__, __LINE__,
                                  "%s:%ld: column '%s': '%s' is not a number", path, lineno,
                                  t->cols[j].name, cell);
                break;
            }
            if (!tab) { j++; break; }
            cell = tab + 1;
        }
        if (status) break;
        if (j != t->n_cols) {
            status = od_error(OD_EPARSE, __FILE__, __LINE__, "%s:%ld: %zu fields, expected %zu",
                              path, lineno, j, t->n_cols);
            break;
        }
        if ((status = od_table_append(t, row)) != OD_OK) break;
    }
    free(row);
    free(line);
    fclose(f);
    if (status == OD_OK && !have_header)
        status = od_error(OD_EPARSE, __FILE__, __LINE__, "%s: no header row", path);
    if (status != OD_OK) {
        od_table_free(t);
        return status;
    }
    *out = t;
    return OD_OK;
}
