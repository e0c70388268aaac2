/* optdyn spectra — Matrix Market reader (NIST format, https://math.nist.gov/MatrixMarket/formats.html).
 *
 * Supported: `%%MatrixMarket matrix coordinate|array real|integer|double general|symmetric`, square.
 * Coordinate entries are 1-based "i j value"; a symmetric file stores the lower triangle only.  Array
 * files list values in column-major order (a symmetric one: the lower triangle, column by column).
 * Every error names the file and the line (the header for format errors, the entry's own line for
 * value, range, duplicate and symmetry errors).
 */
#include "spectra/optdyn_spectra.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    size_t i, j;      /* 0-based */
    double v;
    size_t line;
} triplet;

typedef struct {
    FILE *f;
    const char *path;
    size_t line;
    char buf[1024];
} reader;

/* Next non-comment, non-blank line into r->buf; 0 at end of file. */
static int next_line(reader *r)
{
    while (fgets(r->buf, sizeof r->buf, r->f)) {
        r->line++;
        const char *s = r->buf;
        while (isspace((unsigned char)*s)) s++;
        if (*s && *s != '%') return 1;
    }
    return 0;
}

static int cmp_triplet(const void *a, const void *b)
{
    const triplet *x = a, *y = b;
    if (x->i != y->i) return x->i < y->i ? -1 : 1;
    if (x->j != y->j) return x->j < y->j ? -1 : 1;
    return 0;
}

static const triplet *find_triplet(const triplet *t, size_t n, size_t i, size_t j)
{
    triplet key = {i, j, 0, 0};
    return bsearch(&key, t, n, sizeof *t, cmp_triplet);
}

/* Parses "a b [c]" as sizes; returns the count of numbers read (-1 on a malformed token). */
static int parse_sizes(const char *s, size_t *v, int max)
{
    int k = 0;
    char *end;
    while (k < max) {
        while (isspace((unsigned char)*s)) s++;
        if (!*s) break;
        if (!isdigit((unsigned char)*s)) return -1;
        errno = 0;
        unsigned long long x = strtoull(s, &end, 10);
        if (errno || (*end && !isspace((unsigned char)*end))) return -1;
        v[k++] = (size_t)x;
        s = end;
    }
    while (isspace((unsigned char)*s)) s++;
    return *s ? -1 : k;
}

static int parse_value(reader *r, const char *s, double *v)
{
    char *end;
    while (isspace((unsigned char)*s)) s++;
    *v = strtod(s, &end);
    if (end == s) OD_ERRORF(OD_EPARSE, "%s:%zu: malformed value", r->path, r->line);
    while (isspace((unsigned char)*end)) end++;
    if (*end) OD_ERRORF(OD_EPARSE, "%s:%zu: unexpected text after the value", r->path, r->line);
    if (!isfinite(*v)) OD_ERRORF(OD_EINVAL, "%s:%zu: value is not finite", r->path, r->line);
    return OD_OK;
}

static int read_coordinate(reader *r, size_t d, size_t nnz, int symmetric, od_spectra_linop **out)
{
    size_t cap = symmetric ? 2 * nnz : nnz;
    triplet *t = malloc((cap ? cap : 1) * sizeof *t);
    if (!t) OD_ERRORF(OD_ENOMEM, "%s: out of memory for %zu entries", r->path, nnz);
    int st = OD_OK;
    size_t n = 0;
    for (size_t e = 0; e < nnz && st == OD_OK; e++) {
        if (!next_line(r)) {
            st = od_error(OD_EPARSE, __FILE__, __LINE__, "%s:%zu: file ends after %zu of %zu entries",
                          r->path, r->line, e, nnz);
            break;
        }
        char *s = r->buf, *end;
        unsigned long long ii = strtoull(s, &end, 10), jj = end > s ? strtoull(end, &s, 10) : 0;
        if (end == r->buf || s == end || ii == 0 || jj == 0 || ii > d || jj > d) {
            st = od_error(ii > d || jj > d ? OD_ERANGE : OD_EPARSE, __FILE__, __LINE__,
                          "%s:%zu: expected 'i j value' with 1 <= i, j <= %zu", r->path, r->line, d);
            break;
        }
        double v;
        if ((st = parse_value(r, s, &v)) != OD_OK) break;
        if (symmetric && jj > ii) {
            st = od_error(OD_EPARSE, __FILE__, __LINE__, "%s:%zu: entry (%llu, %llu) above the "
                          "diagonal in a symmetric file (only the lower triangle is stored)",
                          r->path, r->line, ii, jj);
            break;
        }
        t[n++] = (triplet){(size_t)ii - 1, (size_t)jj - 1, v, r->line};
        if (symmetric && ii != jj) t[n++] = (triplet){(size_t)jj - 1, (size_t)ii - 1, v, r->line};
    }
    if (st == OD_OK && next_line(r))
        st = od_error(OD_EPARSE, __FILE__, __LINE__, "%s:%zu: more entries than the %zu declared",
                      r->path, r->line, nnz);
    if (st == OD_OK) qsort(t, n, sizeof *t, cmp_triplet);
    for (size_t k = 1; st == OD_OK && k < n; k++)
        if (t[k].i == t[k - 1].i && t[k].j == t[k - 1].j)
            st = od_error(OD_EPARSE, __FILE__, __LINE__, "%s:%zu: entry (%zu, %zu) repeats line %zu",
                          r->path, t[k].line > t[k - 1].line ? t[k].line : t[k - 1].line, t[k].i + 1,
                          t[k].j + 1, t[k].line > t[k - 1].line ? t[k - 1].line : t[k].line);
    double amax = 0;
    for (size_t k = 0; k < n; k++) amax = fmax(amax, fabs(t[k].v));
    for (size_t k = 0; st == OD_OK && !symmetric && k < n; k++) {
        if (t[k].i == t[k].j) continue;
        const triplet *m = find_triplet(t, n, t[k].j, t[k].i);
        double vt = m ? m->v : 0.0;
        if (fabs(vt - t[k].v) > 64 * DBL_EPSILON * amax)
            st = od_error(OD_EINVAL, __FILE__, __LINE__, "%s:%zu: matrix is not symmetric: A(%zu,%zu) "
                          "= %.17g but A(%zu,%zu) = %.17g%s", r->path, t[k].line, t[k].i + 1,
                          t[k].j + 1, t[k].v, t[k].j + 1, t[k].i + 1, vt, m ? "" : " (not stored)");
    }
    size_t *rp = NULL, *col = NULL;
    double *val = NULL;
    if (st == OD_OK) {
        rp = calloc(d + 1, sizeof *rp);
        col = malloc((n ? n : 1) * sizeof *col);
        val = malloc((n ? n : 1) * sizeof *val);
        if (!rp || !col || !val) st = od_error(OD_ENOMEM, __FILE__, __LINE__, "%s: out of memory", r->path);
    }
    if (st == OD_OK) {
        for (size_t k = 0; k < n; k++) {
            rp[t[k].i + 1]++;
            col[k] = t[k].j;
            val[k] = t[k].v;
        }
        for (size_t i = 0; i < d; i++) rp[i + 1] += rp[i];
        st = od_spectra_linop_csr(d, rp, col, val, out);
    }
    free(rp);
    free(col);
    free(val);
    free(t);
    return st;
}

static int read_array(reader *r, size_t d, int symmetric, od_spectra_linop **out)
{
    double *A = od_vec_alloc(d * d);
    size_t *line = malloc(d * d * sizeof *line);
    int st = OD_OK;
    if (!A || !line) st = od_error(OD_ENOMEM, __FILE__, __LINE__, "%s: out of memory (d = %zu)", r->path, d);
    const size_t want = symmetric ? d * (d + 1) / 2 : d * d;
    size_t got = 0;
    for (size_t j = 0; j < d && st == OD_OK; j++)
        for (size_t i = symmetric ? j : 0; i < d && st == OD_OK; i++, got++) {
            if (!next_line(r)) {
                st = od_error(OD_EPARSE, __FILE__, __LINE__, "%s:%zu: file ends after %zu of %zu values",
                              r->path, r->line, got, want);
                break;
            }
            double v;
            if ((st = parse_value(r, r->buf, &v)) != OD_OK) break;
            A[i * d + j] = v;
            line[i * d + j] = r->line;
            if (symmetric) {
                A[j * d + i] = v;
                line[j * d + i] = r->line;
            }
        }
    if (st == OD_OK && next_line(r))
        st = od_error(OD_EPARSE, __FILE__, __LINE__, "%s:%zu: more values than the %zu expected",
                      r->path, r->line, want);
    if (st == OD_OK && !symmetric) {
        double amax = 0;
        for (size_t k = 0; k < d * d; k++) amax = fmax(amax, fabs(A[k]));
        for (size_t i = 0; i < d && st == OD_OK; i++)
            for (size_t j = 0; j < i && st == OD_OK; j++)
                if (fabs(A[i * d + j] - A[j * d + i]) > 64 * DBL_EPSILON * amax) {
                    /* name the later of the two lines */
                    size_t l1 = line[i * d + j], l2 = line[j * d + i];
                    st = od_error(OD_EINVAL, __FILE__, __LINE__, "%s:%zu: matrix is not symmetric: "
                                  "A(%zu,%zu) = %.17g (line %zu) but A(%zu,%zu) = %.17g", r->path,
                                  l1 > l2 ? l1 : l2, i + 1, j + 1, A[i * d + j], l1, j + 1, i + 1,
                                  A[j * d + i]);
                }
    }
    if (st == OD_OK) st = od_spectra_linop_dense(d, A, out);
    od_free(A);
    free(line);
    return st;
}

int od_spectra_mm_read(const char *path, od_spectra_linop **out)
{
    *out = NULL;
    reader r = {.path = path};
    r.f = fopen(path, "r");
    if (!r.f) OD_ERRORF(OD_EIO, "%s: cannot open: %s", path, strerror(errno));
    int st = OD_OK;
    char w[5][64] = {{0}};
    if (!fgets(r.buf, sizeof r.buf, r.f)) {
        st = od_error(OD_EPARSE, __FILE__, __LINE__, "%s:1: empty file (expected a %%%%MatrixMarket header)", path);
        goto done;
    }
    r.line = 1;
    if (sscanf(r.buf, "%63s %63s %63s %63s %63s", w[0], w[1], w[2], w[3], w[4]) != 5 ||
        strcmp(w[0], "%%MatrixMarket") != 0 || strcasecmp(w[1], "matrix") != 0) {
        st = od_error(OD_EPARSE, __FILE__, __LINE__, "%s:1: expected '%%%%MatrixMarket matrix FORMAT "
                      "FIELD SYMMETRY'", path);
        goto done;
    }
    const int coord = strcasecmp(w[2], "coordinate") == 0, array = strcasecmp(w[2], "array") == 0;
    const int real = strcasecmp(w[3], "real") == 0 || strcasecmp(w[3], "integer") == 0 ||
                     strcasecmp(w[3], "double") == 0;
    const int sym = strcasecmp(w[4], "symmetric") == 0, gen = strcasecmp(w[4], "general") == 0;
    if (!coord && !array) {
        st = od_error(OD_EPARSE, __FILE__, __LINE__, "%s:1: format '%s' is not coordinate or array", path, w[2]);
        goto done;
    }
    if (!real) {
        st = od_error(OD_EPARSE, __FILE__, __LINE__, "%s:1: field '%s' is not supported (real or "
                      "integer only)", path, w[3]);
        goto done;
    }
    if (!sym && !gen) {
        st = od_error(OD_EPARSE, __FILE__, __LINE__, "%s:1: symmetry '%s' is not supported (general "
                      "or symmetric)", path, w[4]);
        goto done;
    }
    if (!next_line(&r)) {
        st = od_error(OD_EPARSE, __FILE__, __LINE__, "%s:%zu: missing size line", path, r.line);
        goto done;
    }
    size_t sz[3];
    int k = parse_sizes(r.buf, sz, 3);
    if (k != (coord ? 3 : 2)) {
        st = od_error(OD_EPARSE, __FILE__, __LINE__, "%s:%zu: expected the size line '%s'", path,
                      r.line, coord ? "rows cols entries" : "rows cols");
        goto done;
    }
    if (sz[0] != sz[1] || sz[0] == 0) {
        st = od_error(OD_EINVAL, __FILE__, __LINE__, "%s:%zu: matrix is %zux%zu, not square and "
                      "non-empty", path, r.line, sz[0], sz[1]);
        goto done;
    }
    if (sz[0] > 100000000 || (array && sz[0] > 46340) || (coord && sz[2] > sz[0] * sz[0])) {
        st = od_error(OD_ERANGE, __FILE__, __LINE__, "%s:%zu: sizes too large", path, r.line);
        goto done;
    }
    st = coord ? read_coordinate(&r, sz[0], sz[2], sym, out) : read_array(&r, sz[0], sym, out);
    if (st == OD_OK) {
        const char *base = strrchr(path, '/');
        snprintf((*out)->label, sizeof (*out)->label, "%.100s (%s %s, %zux%zu)", base ? base + 1 : path,
                 coord ? "coordinate" : "array", sym ? "symmetric" : "general", sz[0], sz[0]);
    }
done:
    fclose(r.f);
    return st;
}
