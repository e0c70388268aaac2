/* optdyn spectra — linear operators: the applying wrappers, dense / CSR / implicit Gram matrices,
 * problem Hessians, per-sample Hessians and block restrictions (contracts in optdyn_spectra.h).
 *
 * Reproducibility.  A product never depends on the thread count: a dense or CSR row is computed by
 * one thread in a fixed order, and the Gram operator sums fixed chunks of rows in chunk order.  A
 * block product computes every vector exactly as the one-vector product does, so SLQ and Hutchinson
 * give the same bytes whether their probes run as a block or one at a time.
 */
#include "spectra/internal.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- generic ----------------------------------------------------------------------------------- */

static int check_result(const od_spectra_linop *op, size_t n, const double *y)
{
    if (!od_all_finite(n, y))
        OD_ERRORF(OD_ENUMERIC, "operator '%s' produced a non-finite value", op->label);
    return OD_OK;
}

int od_spectra_apply(od_spectra_linop *op, const double *x, double *y)
{
    if (!op || !x || !y) OD_ERROR("od_spectra_apply: NULL argument", OD_EINVAL);
    OD_TRY(op->matvec(x, y, op->ctx));
    op->matvecs++;
    return check_result(op, op->dim, y);
}

int od_spectra_apply_block(od_spectra_linop *op, size_t b, const double *X, double *Y)
{
    if (!op || (b && (!X || !Y))) OD_ERROR("od_spectra_apply_block: NULL argument", OD_EINVAL);
    if (op->block && b > 1) {
        OD_TRY(op->block(b, X, Y, op->ctx));
    } else {
        for (size_t j = 0; j < b; j++) OD_TRY(op->matvec(X + j * op->dim, Y + j * op->dim, op->ctx));
    }
    op->matvecs += b;
    return check_result(op, b * op->dim, Y);
}

od_spectra_linop *od_spectra_linop_alloc(size_t dim, od_spectra_matvec_fn *mv,
                                         od_spectra_blockmv_fn *block, void *ctx,
                                         void (*free_ctx)(void *), const char *label)
{
    od_spectra_linop *op = calloc(1, sizeof *op);
    if (!op || dim == 0 || !mv) {
        if (free_ctx) free_ctx(ctx);
        free(op);
        od_error(op ? OD_EINVAL : OD_ENOMEM, __FILE__, __LINE__,
                 "od_spectra_linop_alloc: %s", op ? "zero dimension or NULL matvec" : "out of memory");
        return NULL;
    }
    op->dim = dim;
    op->matvec = mv;
    op->block = block;
    op->ctx = ctx;
    op->free_ctx = free_ctx;
    op->symmetric = 1;
    snprintf(op->label, sizeof op->label, "%s", label ? label : "operator");
    return op;
}

void od_spectra_linop_free(od_spectra_linop *op)
{
    if (!op) return;
    if (op->free_ctx) op->free_ctx(op->ctx);
    free(op);
}

int od_spectra_linop_to_dense(od_spectra_linop *op, double *A)
{
    const size_t d = op->dim;
    double *e = od_vec_alloc(2 * d);
    if (!e) OD_ERRORF(OD_ENOMEM, "operator '%s': out of memory for its dense form", op->label);
    double *col = e + d;
    int st = OD_OK;
    for (size_t j = 0; j < d && st == OD_OK; j++) {
        e[j] = 1.0;
        st = od_spectra_apply(op, e, col);
        e[j] = 0.0;
        for (size_t i = 0; i < d; i++) A[i * d + j] = col[i];
    }
    od_free(e);
    return st;
}

/* Dot product with four accumulators in a fixed order (vectorisable, deterministic). */
static double dot4(size_t n, const double *restrict a, const double *restrict b)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t k = 0;
    for (; k + 4 <= n; k += 4) {
        s0 += a[k] * b[k];
        s1 += a[k + 1] * b[k + 1];
        s2 += a[k + 2] * b[k + 2];
        s3 += a[k + 3] * b[k + 3];
    }
    for (; k < n; k++) s0 += a[k] * b[k];
    return (s0 + s1) + (s2 + s3);
}

/* Symmetry and finiteness of a dense matrix: OD_EINVAL naming the first bad entry. */
static int check_symmetric_dense(const char *who, size_t d, const double *A)
{
    double amax = 0;
    for (size_t i = 0; i < d * d; i++) {
        if (!isfinite(A[i]))
            OD_ERRORF(OD_EINVAL, "%s: entry (%zu, %zu) is not finite", who, i / d + 1, i % d + 1);
        amax = fmax(amax, fabs(A[i]));
    }
    const double tol = 64 * DBL_EPSILON * amax;
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < i; j++)
            if (fabs(A[i * d + j] - A[j * d + i]) > tol)
                OD_ERRORF(OD_EINVAL, "%s: not symmetric: A(%zu,%zu) = %.17g but A(%zu,%zu) = %.17g",
                          who, i + 1, j + 1, A[i * d + j], j + 1, i + 1, A[j * d + i]);
    return OD_OK;
}

/* ---- dense ------------------------------------------------------------------------------------- */

typedef struct {
    size_t d;
    double *A;
} dense_ctx;

static void dense_free(void *c)
{
    dense_ctx *x = c;
    if (x) od_free(x->A);
    free(x);
}

static int dense_block(size_t b, const double *X, double *Y, void *c)
{
    const dense_ctx *x = c;
    const size_t d = x->d;
    const double *A = x->A;
    /* one pass over A: row i stays in cache while it meets the b vectors */
#pragma omp parallel for schedule(static) if (d * d * b > 200000)
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < b; j++) Y[j * d + i] = dot4(d, A + i * d, X + j * d);
    return OD_OK;
}

static int dense_mv(const double *v, double *y, void *c) { return dense_block(1, v, y, c); }

int od_spectra_linop_dense(size_t d, const double *A, od_spectra_linop **out)
{
    *out = NULL;
    if (d == 0 || !A) OD_ERROR("od_spectra_linop_dense: empty matrix", OD_EINVAL);
    OD_TRY(check_symmetric_dense("dense matrix", d, A));
    dense_ctx *c = calloc(1, sizeof *c);
    if (c) c->A = od_vec_alloc(d * d);
    if (!c || !c->A) {
        dense_free(c);
        OD_ERRORF(OD_ENOMEM, "dense matrix: out of memory (d = %zu)", d);
    }
    c->d = d;
    od_copy(d * d, A, c->A);
    char label[64];
    snprintf(label, sizeof label, "dense %zux%zu", d, d);
    *out = od_spectra_linop_alloc(d, dense_mv, dense_block, c, dense_free, label);
    return *out ? OD_OK : OD_ENOMEM;
}

/* ---- CSR --------------------------------------------------------------------------------------- */

typedef struct {
    size_t d;
    size_t *rp, *col;
    double *val;
} csr_ctx;

static void csr_free(void *c)
{
    csr_ctx *x = c;
    if (x) {
        free(x->rp);
        free(x->col);
        free(x->val);
    }
    free(x);
}

static int csr_block(size_t b, const double *X, double *Y, void *c)
{
    const csr_ctx *x = c;
    const size_t d = x->d;
#pragma omp parallel for schedule(static) if (x->rp[d] * b > 100000)
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < b; j++) {
            double s = 0;
            for (size_t k = x->rp[i]; k < x->rp[i + 1]; k++) s += x->val[k] * X[j * d + x->col[k]];
            Y[j * d + i] = s;
        }
    return OD_OK;
}

static int csr_mv(const double *v, double *y, void *c) { return csr_block(1, v, y, c); }

/* Value of entry (i, j) in a CSR matrix with sorted or unsorted rows, and whether it is stored. */
static int csr_get(const size_t *rp, const size_t *col, const double *val, size_t i, size_t j,
                   double *v)
{
    for (size_t k = rp[i]; k < rp[i + 1]; k++)
        if (col[k] == j) {
            *v = val[k];
            return 1;
        }
    *v = 0;
    return 0;
}

int od_spectra_linop_csr(size_t d, const size_t *row_ptr, const size_t *col, const double *val,
                         od_spectra_linop **out)
{
    *out = NULL;
    if (d == 0 || !row_ptr || row_ptr[0] != 0) OD_ERROR("CSR matrix: empty or bad row_ptr", OD_EINVAL);
    const size_t nnz = row_ptr[d];
    double amax = 0;
    for (size_t i = 0; i < d; i++) {
        if (row_ptr[i + 1] < row_ptr[i]) OD_ERRORF(OD_EINVAL, "CSR matrix: row_ptr decreases at row %zu", i + 1);
        for (size_t k = row_ptr[i]; k < row_ptr[i + 1]; k++) {
            if (col[k] >= d) OD_ERRORF(OD_EINVAL, "CSR matrix: column %zu out of range in row %zu", col[k] + 1, i + 1);
            if (!isfinite(val[k]))
                OD_ERRORF(OD_EINVAL, "CSR matrix: entry (%zu, %zu) is not finite", i + 1, col[k] + 1);
            amax = fmax(amax, fabs(val[k]));
        }
    }
    for (size_t i = 0; i < d; i++)
        for (size_t k = row_ptr[i]; k < row_ptr[i + 1]; k++) {
            double t;
            csr_get(row_ptr, col, val, col[k], i, &t);
            if (fabs(t - val[k]) > 64 * DBL_EPSILON * amax)
                OD_ERRORF(OD_EINVAL, "CSR matrix: not symmetric: A(%zu,%zu) = %.17g but A(%zu,%zu) = %.17g",
                          i + 1, col[k] + 1, val[k], col[k] + 1, i + 1, t);
        }
    csr_ctx *c = calloc(1, sizeof *c);
    if (c) {
        c->rp = malloc((d + 1) * sizeof *c->rp);
        c->col = malloc((nnz ? nnz : 1) * sizeof *c->col);
        c->val = malloc((nnz ? nnz : 1) * sizeof *c->val);
    }
    if (!c || !c->rp || !c->col || !c->val) {
        csr_free(c);
        OD_ERRORF(OD_ENOMEM, "CSR matrix: out of memory (nnz = %zu)", nnz);
    }
    c->d = d;
    memcpy(c->rp, row_ptr, (d + 1) * sizeof *c->rp);
    if (nnz) {
        memcpy(c->col, col, nnz * sizeof *c->col);
        memcpy(c->val, val, nnz * sizeof *c->val);
    }
    char label[80];
    snprintf(label, sizeof label, "sparse %zux%zu, %zu entries", d, d, nnz);
    *out = od_spectra_linop_alloc(d, csr_mv, csr_block, c, csr_free, label);
    return *out ? OD_OK : OD_ENOMEM;
}

/* ---- implicit Gram: scale X^T X ------------------------------------------------------------------ */

enum { GRAM_CHUNKS = 16 };

typedef struct {
    size_t n, d;
    double *X;
    int own;
    double scale;
    double *part;      /* GRAM_CHUNKS * cap_b * d partial sums */
    size_t cap_b;
} gram_ctx;

static void gram_free(void *c)
{
    gram_ctx *g = c;
    if (g) {
        if (g->own) od_free(g->X);
        od_free(g->part);
    }
    free(g);
}

static int gram_block(size_t b, const double *V, double *Y, void *c)
{
    gram_ctx *g = c;
    const size_t n = g->n, d = g->d;
    if (b > g->cap_b) {
        od_free(g->part);
        g->part = od_vec_alloc(GRAM_CHUNKS * b * d);
        if (!g->part) {
            g->cap_b = 0;
            OD_ERROR("Gram operator: out of memory for partial sums", OD_ENOMEM);
        }
        g->cap_b = b;
    }
    double *part = g->part;
    const double *X = g->X;
    /* chunk ch holds rows [ch n / C, (ch + 1) n / C); its partial sums are reduced in chunk order */
#pragma omp parallel for schedule(dynamic, 1) if (n * d * b > 200000)
    for (size_t ch = 0; ch < GRAM_CHUNKS; ch++) {
        double *P = part + ch * b * d;
        memset(P, 0, b * d * sizeof *P);
        const size_t i0 = ch * n / GRAM_CHUNKS, i1 = (ch + 1) * n / GRAM_CHUNKS;
        for (size_t i = i0; i < i1; i++) {
            const double *restrict xi = X + i * d;
            for (size_t j = 0; j < b; j++) {
                const double t = dot4(d, xi, V + j * d);
                double *restrict pj = P + j * d;
                for (size_t k = 0; k < d; k++) pj[k] += t * xi[k];
            }
        }
    }
    for (size_t j = 0; j < b; j++) {
        double *y = Y + j * d;
        for (size_t k = 0; k < d; k++) {
            double s = 0;
            for (size_t ch = 0; ch < GRAM_CHUNKS; ch++) s += part[(ch * b + j) * d + k];
            y[k] = g->scale * s;
        }
    }
    return OD_OK;
}

static int gram_mv(const double *v, double *y, void *c) { return gram_block(1, v, y, c); }

int od_spectra_linop_gram(size_t n, size_t d, double *X, int own_X, double scale,
                          od_spectra_linop **out)
{
    *out = NULL;
    if (n == 0 || d == 0 || !X) {
        if (own_X) od_free(X);
        OD_ERROR("Gram operator: empty data", OD_EINVAL);
    }
    if (!od_all_finite(n * d, X)) {
        if (own_X) od_free(X);
        OD_ERROR("Gram operator: the data contain a non-finite value", OD_EINVAL);
    }
    gram_ctx *g = calloc(1, sizeof *g);
    if (!g) {
        if (own_X) od_free(X);
        OD_ERROR("Gram operator: out of memory", OD_ENOMEM);
    }
    g->n = n;
    g->d = d;
    g->scale = scale;
    g->own = 1;
    if (own_X) {
        g->X = X;
    } else {
        g->X = od_vec_alloc(n * d);
        if (!g->X) {
            free(g);
            OD_ERRORF(OD_ENOMEM, "Gram operator: out of memory (n = %zu, d = %zu)", n, d);
        }
        od_copy(n * d, X, g->X);
    }
    char label[96];
    snprintf(label, sizeof label, "%.6g X^T X, X %zux%zu", scale, n, d);
    *out = od_spectra_linop_alloc(d, gram_mv, gram_block, g, gram_free, label);
    return *out ? OD_OK : OD_ENOMEM;
}

/* ---- problem Hessians ---------------------------------------------------------------------------- */

static void hess_free(void *c)
{
    od_spectra_point_ctx *h = c;
    if (h) od_free(h->x);
    free(h);
}

static int hess_mv(const double *v, double *y, void *c)
{
    const od_spectra_point_ctx *h = c;
    return od_problem_hvp(h->p, h->x, v, y);
}

static int sample_hess_mv(const double *v, double *y, void *c)
{
    const od_spectra_point_ctx *h = c;
    return od_problem_sample_hvp(h->p, h->x, h->i, v, y);
}

int od_spectra_point_op(const od_problem *p, const double *x, size_t i, od_spectra_matvec_fn *mv,
                        const char *what, od_spectra_linop **out)
{
    *out = NULL;
    if (!p) OD_ERROR("od_spectra_linop_hessian: NULL problem", OD_EINVAL);
    od_spectra_point_ctx *h = calloc(1, sizeof *h);
    if (h) h->x = od_vec_alloc(p->dim);
    if (!h || !h->x) {
        hess_free(h);
        OD_ERRORF(OD_ENOMEM, "%s: out of memory", p->label);
    }
    h->p = p;
    h->i = i;
    if (x) od_copy(p->dim, x, h->x);
    char label[160];
    snprintf(label, sizeof label, "%s of %s", what, p->label);
    *out = od_spectra_linop_alloc(p->dim, mv, NULL, h, hess_free, label);
    return *out ? OD_OK : OD_ENOMEM;
}

int od_spectra_linop_hessian(const od_problem *p, const double *x, od_spectra_linop **out)
{
    return od_spectra_point_op(p, x, 0, hess_mv, "Hessian", out);
}

int od_spectra_linop_sample_hessian(const od_problem *p, const double *x, size_t i,
                                    od_spectra_linop **out)
{
    *out = NULL;
    if (!p) OD_ERROR("od_spectra_linop_sample_hessian: NULL problem", OD_EINVAL);
    if (!p->type->sample_hvp)
        OD_ERRORF(OD_ENOTSUP, "problem '%s' has no per-sample Hessian (sample_hvp)", p->label);
    if (i >= p->n) OD_ERRORF(OD_ERANGE, "problem '%s': sample %zu of %zu", p->label, i, p->n);
    char what[48];
    snprintf(what, sizeof what, "Hessian of sample %zu", i);
    return od_spectra_point_op(p, x, i, sample_hess_mv, what, out);
}

/* ---- block restriction ------------------------------------------------------------------------- */

typedef struct {
    od_spectra_linop *parent;
    size_t lo, hi;
    double *buf;    /* 2 * parent dim * cap_b */
    size_t cap_b;
} restrict_ctx;

static void restrict_free(void *c)
{
    restrict_ctx *r = c;
    if (r) od_free(r->buf);
    free(r);
}

static int restrict_block(size_t b, const double *V, double *Y, void *c)
{
    restrict_ctx *r = c;
    const size_t D = r->parent->dim, m = r->hi - r->lo;
    if (b > r->cap_b) {
        od_free(r->buf);
        r->buf = od_vec_alloc(2 * D * b);
        r->cap_b = r->buf ? b : 0;
        if (!r->buf) OD_ERROR("restricted operator: out of memory", OD_ENOMEM);
    }
    double *E = r->buf, *F = r->buf + D * b;
    od_zero(D * b, E);
    for (size_t j = 0; j < b; j++) od_copy(m, V + j * m, E + j * D + r->lo);
    OD_TRY(od_spectra_apply_block(r->parent, b, E, F));
    for (size_t j = 0; j < b; j++) od_copy(m, F + j * D + r->lo, Y + j * m);
    return OD_OK;
}

static int restrict_mv(const double *v, double *y, void *c) { return restrict_block(1, v, y, c); }

int od_spectra_linop_restrict(od_spectra_linop *parent, size_t lo, size_t hi,
                              od_spectra_linop **out)
{
    *out = NULL;
    if (!parent || lo >= hi || hi > parent->dim)
        OD_ERRORF(OD_ERANGE, "block [%zu, %zu) is empty or outside the operator's %zu coordinates",
                  lo, hi, parent ? parent->dim : 0);
    restrict_ctx *r = calloc(1, sizeof *r);
    if (!r) OD_ERROR("restricted operator: out of memory", OD_ENOMEM);
    r->parent = parent;
    r->lo = lo;
    r->hi = hi;
    char label[160];
    snprintf(label, sizeof label, "block [%zu, %zu) of %.100s", lo, hi, parent->label);
    *out = od_spectra_linop_alloc(hi - lo, restrict_mv, restrict_block, r, restrict_free, label);
    return *out ? OD_OK : OD_ENOMEM;
}
