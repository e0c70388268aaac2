/* optdyn spectra — per-sample Hessian sets for the stability analysis (contracts in
 * optdyn_spectra.h; theory sheet spectra.md §6.1).
 *
 * Every constructor ends the same way: each H_i is written as Σ_j s_ij f_ij f_ijᵀ with factor
 * vectors f_ij ∈ R^d (its eigenvectors scaled by sqrt|λ_ij|, signs s_ij = sign λ_ij, eigenvalues
 * below rtol · max|λ| dropped), the factor vectors of all samples are orthonormalised in order (two
 * classical Gram–Schmidt passes; a vector whose residual is below rtol of its norm lies in the
 * span already) into U, and the factors are stored in the reduced coordinates g = U f.  T maps
 * matrices supported on W = span U to themselves and is the identity on W^⊥, so every stability
 * computation runs in dimension r = dim W instead of d.
 */
#include "spectra/optdyn_spectra.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- factor collection -------------------------------------------------------------------------- */

typedef struct {
    size_t n, d, K, cap;
    double *f;        /* K vectors of length d */
    double *sgn;      /* K */
    size_t *k;        /* n */
    double *lam1;     /* n */
    double scale;     /* max_i max_j |λ_ij| */
} factors;

static void factors_free(factors *F)
{
    od_free(F->f);
    free(F->sgn);
    free(F->k);
    od_free(F->lam1);
}

static int factors_init(factors *F, size_t n, size_t d)
{
    memset(F, 0, sizeof *F);
    F->n = n;
    F->d = d;
    F->k = calloc(n, sizeof *F->k);
    F->lam1 = od_vec_alloc(n);
    if (!F->k || !F->lam1) OD_ERROR("per-sample Hessians: out of memory", OD_ENOMEM);
    return OD_OK;
}

static int factors_push(factors *F, const double *v, double s)
{
    if (F->K == F->cap) {
        size_t cap = F->cap ? 2 * F->cap : 64;
        double *nf = od_vec_alloc(cap * F->d), *ns = realloc(F->sgn, cap * sizeof *ns);
        if (ns) F->sgn = ns;
        if (!nf || !ns) {
            od_free(nf);
            OD_ERROR("per-sample Hessians: out of memory", OD_ENOMEM);
        }
        if (F->K) od_copy(F->K * F->d, F->f, nf);
        od_free(F->f);
        F->f = nf;
        F->cap = cap;
    }
    od_copy(F->d, v, F->f + F->K * F->d);
    F->sgn[F->K++] = s;
    return OD_OK;
}

/* Adds sample i from the eigen-decomposition of its (reduced) matrix: eigenvalues lam[0..m)
 * (decreasing), eigenvectors as the columns of V (m-by-m), mapped to R^d by Q (m vectors of length
 * d, rows) or taken as they are when Q == NULL (m = d).  Eigenvalues with |λ| <= rtol · max|λ| are
 * dropped.  full: m == d (then λ_max(H_i) = lam[0] even when negative). */
static int factors_add(factors *F, size_t i, size_t m, const double *lam, const double *V,
                       const double *Q, double rtol, double *buf)
{
    double amax = 0;
    for (size_t j = 0; j < m; j++) amax = fmax(amax, fabs(lam[j]));
    F->scale = fmax(F->scale, amax);
    F->lam1[i] = m ? lam[0] : 0.0;
    if (m < F->d && F->lam1[i] < 0) F->lam1[i] = 0;   /* H_i has a null space: λ_max >= 0 */
    for (size_t j = 0; j < m; j++) {
        if (!(fabs(lam[j]) > rtol * amax)) continue;
        const double c = sqrt(fabs(lam[j]));
        od_zero(F->d, buf);
        for (size_t a = 0; a < m; a++) {
            const double v = V[a * m + j] * c;
            if (Q) od_axpy(F->d, v, Q + a * F->d, buf);
            else buf[a] = v;
        }
        OD_TRY(factors_push(F, buf, lam[j] > 0 ? 1.0 : -1.0));
        F->k[i]++;
    }
    return OD_OK;
}

/* Orthonormalises w (length d) against the rows Q[0..m) twice; returns its norm before
 * normalisation (w is left normalised when the norm is positive). */
static double orthonormalize(size_t d, size_t m, const double *Q, double *w)
{
    for (int pass = 0; pass < 2; pass++)
        for (size_t j = 0; j < m; j++) od_axpy(d, -od_dot(d, Q + j * d, w), Q + j * d, w);
    const double nw = od_nrm2(d, w);
    if (nw > 0) od_scal(d, 1.0 / nw, w);
    return nw;
}

/* Builds the reduced set from the collected factors (takes nothing from F; F stays owned). */
static int finish(factors *F, double rtol, uint64_t actions, const char *label, od_spectra_hset **out)
{
    const size_t n = F->n, d = F->d, K = F->K;
    od_spectra_hset *h = calloc(1, sizeof *h);
    double *Ub = od_vec_alloc((K ? K : 1) * d), *w = od_vec_alloc(d);
    int st = (h && Ub && w) ? OD_OK : OD_ENOMEM;
    size_t r = 0;
    for (size_t j = 0; st == OD_OK && j < K; j++) {
        od_copy(d, F->f + j * d, w);
        const double n0 = od_nrm2(d, w), nr = orthonormalize(d, r, Ub, w);
        if (nr > rtol * n0) od_copy(d, w, Ub + (r++) * d);
    }
    if (st == OD_OK) {
        h->n = n;
        h->d = d;
        h->r = r;
        h->K = K;
        h->U = od_vec_alloc((r ? r : 1) * d);
        h->k = calloc(n, sizeof *h->k);
        h->off = calloc(n, sizeof *h->off);
        h->G = od_vec_alloc((K ? K : 1) * (r ? r : 1));
        h->sgn = od_vec_alloc(K ? K : 1);
        h->lam1 = od_vec_alloc(n);
        h->H = od_vec_alloc(r ? r * r : 1);
        if (!h->U || !h->k || !h->off || !h->G || !h->sgn || !h->lam1 || !h->H) st = OD_ENOMEM;
    }
    if (st == OD_OK) {
        od_copy(r * d, Ub, h->U);
        size_t o = 0;
        h->psd = 1;
        for (size_t i = 0; i < n; i++) {
            h->k[i] = F->k[i];
            h->off[i] = o;
            h->lam1[i] = F->lam1[i];
            o += F->k[i];
        }
        for (size_t j = 0; j < K; j++) {
            od_gemv(0, r, d, 1.0, h->U, F->f + j * d, 0.0, h->G + j * r);   /* g = U f */
            h->sgn[j] = F->sgn[j];
            if (F->sgn[j] < 0) h->psd = 0;
        }
        for (size_t j = 0; j < K; j++)   /* H̃ = (1/n) Σ s g gᵀ */
            for (size_t a = 0; a < r; a++)
                od_axpy(r, h->sgn[j] * h->G[j * r + a] / (double)n, h->G + j * r, h->H + a * r);
        h->actions = actions;
        snprintf(h->label, sizeof h->label, "%s", label ? label : "per-sample Hessians");
    }
    od_free(Ub);
    od_free(w);
    if (st != OD_OK) {
        od_spectra_hset_free(h);
        OD_ERROR("per-sample Hessians: out of memory", OD_ENOMEM);
    }
    *out = h;
    return OD_OK;
}

void od_spectra_hset_free(od_spectra_hset *h)
{
    if (!h) return;
    od_free(h->U);
    free(h->k);
    free(h->off);
    od_free(h->G);
    od_free(h->sgn);
    od_free(h->lam1);
    od_free(h->H);
    free(h);
}

void od_spectra_hset_sample(const od_spectra_hset *h, size_t i, double *out)
{
    const size_t r = h->r;
    od_zero(r * r, out);
    for (size_t j = h->off[i]; j < h->off[i] + h->k[i]; j++)
        for (size_t a = 0; a < r; a++) od_axpy(r, h->sgn[j] * h->G[j * r + a], h->G + j * r, out + a * r);
}

od_spectra_hset_params od_spectra_hset_default_params(void)
{
    return (od_spectra_hset_params){.rtol = 1e-10, .block = 8, .seed = 1, .stream = 11};
}

static int check_params(const od_spectra_hset_params *p, size_t n, size_t d)
{
    if (n == 0 || d == 0) OD_ERRORF(OD_EINVAL, "per-sample Hessians: need n >= 1 and d >= 1 (n = %zu, d = %zu)", n, d);
    if (!(p->rtol > 0 && p->rtol < 1)) OD_ERRORF(OD_EINVAL, "per-sample Hessians: rtol = %g is not in (0, 1)", p->rtol);
    if (p->block == 0) OD_ERROR("per-sample Hessians: block must be >= 1", OD_EINVAL);
    return OD_OK;
}

/* ---- dense -------------------------------------------------------------------------------------- */

int od_spectra_hset_dense(size_t n, size_t d, const double *H, const od_spectra_hset_params *prm,
                          od_spectra_hset **out)
{
    *out = NULL;
    const od_spectra_hset_params p = prm ? *prm : od_spectra_hset_default_params();
    OD_TRY(check_params(&p, n, d));
    for (size_t i = 0; i < n; i++) {
        const double *A = H + i * d * d;
        double amax = 0;
        for (size_t a = 0; a < d * d; a++) {
            if (!isfinite(A[a])) OD_ERRORF(OD_EINVAL, "H_%zu: entry (%zu, %zu) is not finite", i + 1, a / d + 1, a % d + 1);
            amax = fmax(amax, fabs(A[a]));
        }
        for (size_t a = 0; a < d; a++)
            for (size_t b = a + 1; b < d; b++)
                if (fabs(A[a * d + b] - A[b * d + a]) > 64 * DBL_EPSILON * amax)
                    OD_ERRORF(OD_EINVAL, "H_%zu is not symmetric: entry (%zu, %zu) = %.17g but (%zu, %zu) = %.17g",
                              i + 1, a + 1, b + 1, A[a * d + b], b + 1, a + 1, A[b * d + a]);
    }
    factors F;
    int st = factors_init(&F, n, d);
    double *S = od_vec_alloc(d * d), *lam = od_vec_alloc(d), *V = od_vec_alloc(d * d), *buf = od_vec_alloc(d);
    if (st == OD_OK && (!S || !lam || !V || !buf)) st = od_error(OD_ENOMEM, __FILE__, __LINE__, "per-sample Hessians: out of memory");
    for (size_t i = 0; st == OD_OK && i < n; i++) {
        const double *A = H + i * d * d;
        for (size_t a = 0; a < d; a++)
            for (size_t b = 0; b < d; b++) S[a * d + b] = 0.5 * (A[a * d + b] + A[b * d + a]);
        if ((st = od_symm_eigen(d, S, lam, V)) == OD_OK) st = factors_add(&F, i, d, lam, V, NULL, p.rtol, buf);
    }
    if (st == OD_OK) st = finish(&F, p.rtol, 0, "dense per-sample Hessians", out);
    factors_free(&F);
    od_free(S);
    od_free(lam);
    od_free(V);
    od_free(buf);
    return st;
}

/* ---- from actions: adaptive randomised range finder ------------------------------------------- */

int od_spectra_hset_actions(size_t n, size_t d, od_spectra_sample_fn *fn, void *ctx,
                            const od_spectra_hset_params *prm, const char *label,
                            od_spectra_hset **out)
{
    *out = NULL;
    const od_spectra_hset_params p = prm ? *prm : od_spectra_hset_default_params();
    OD_TRY(check_params(&p, n, d));
    if (!fn) OD_ERROR("od_spectra_hset_actions: NULL action", OD_EINVAL);
    const size_t b = p.block < d ? p.block : d;
    factors F;
    int st = factors_init(&F, n, d);
    double *Q = od_vec_alloc(d * d), *HQ = od_vec_alloc(d * d), *Om = od_vec_alloc(b * d),
           *Y = od_vec_alloc(b * d), *C = od_vec_alloc(d * d), *lam = od_vec_alloc(d),
           *V = od_vec_alloc(d * d), *buf = od_vec_alloc(d);
    if (st == OD_OK && (!Q || !HQ || !Om || !Y || !C || !lam || !V || !buf))
        st = od_error(OD_ENOMEM, __FILE__, __LINE__, "per-sample Hessians: out of memory");
    uint64_t actions = 0;
    od_stream s;
    od_stream_init(&s, p.seed, p.stream);
    for (size_t i = 0; st == OD_OK && i < n; i++) {
        size_t m = 0;
        double ymax = 0;
        for (uint32_t blk = 0; st == OD_OK && m < d; blk++) {
            od_stream_seek(&s, (uint32_t)i, blk);
            od_stream_normals(&s, Om, b * d);
            if ((st = fn(i, b, Om, Y, ctx)) != OD_OK) break;
            actions += b;
            if (!od_all_finite(b * d, Y)) {
                st = od_error(OD_ENUMERIC, __FILE__, __LINE__, "%s: sample %zu: the action produced a non-finite value", label ? label : "per-sample Hessians", i);
                break;
            }
            for (size_t j = 0; j < b; j++) ymax = fmax(ymax, od_nrm2(d, Y + j * d));
            size_t added = 0;
            for (size_t j = 0; j < b && m < d; j++) {
                double *w = Y + j * d;
                if (orthonormalize(d, m, Q, w) > p.rtol * ymax) {
                    od_copy(d, w, Q + (m++) * d);
                    added++;
                }
            }
            if (added == 0) break;   /* a whole block lies in span Q: the range is captured */
        }
        if (st != OD_OK || m == 0) continue;   /* H_i = 0: no factor */
        if ((st = fn(i, m, Q, HQ, ctx)) != OD_OK) break;
        actions += m;
        for (size_t a = 0; a < m; a++)
            for (size_t c = 0; c <= a; c++) {
                const double v = 0.5 * (od_dot(d, Q + a * d, HQ + c * d) + od_dot(d, Q + c * d, HQ + a * d));
                C[a * m + c] = C[c * m + a] = v;
            }
        if ((st = od_symm_eigen(m, C, lam, V)) == OD_OK) {
            /* the zero eigenvalues outside span Q are not in lam: λ_max(H_i) >= 0 when m < d */
            st = factors_add(&F, i, m, lam, V, Q, p.rtol, buf);
        }
    }
    if (st == OD_OK) st = finish(&F, p.rtol, actions, label, out);
    factors_free(&F);
    od_free(Q);
    od_free(HQ);
    od_free(Om);
    od_free(Y);
    od_free(C);
    od_free(lam);
    od_free(V);
    od_free(buf);
    return st;
}

typedef struct {
    const od_problem *p;
    const double *x;
} problem_ctx;

static int problem_action(size_t i, size_t b, const double *V, double *Y, void *c)
{
    const problem_ctx *pc = c;
    const size_t d = pc->p->dim;
    for (size_t j = 0; j < b; j++) OD_TRY(od_problem_sample_hvp(pc->p, pc->x, i, V + j * d, Y + j * d));
    return OD_OK;
}

int od_spectra_hset_problem(const od_problem *p, const double *x, const od_spectra_hset_params *prm,
                            od_spectra_hset **out)
{
    *out = NULL;
    if (!p) OD_ERROR("od_spectra_hset_problem: NULL problem", OD_EINVAL);
    if (!p->type->sample_hvp || p->n == 0)
        OD_ERRORF(OD_ENOTSUP, "problem '%s' has no per-sample Hessians (finite data with sample_hvp needed)", p->label);
    double *x0 = od_vec_alloc(p->dim);
    if (!x0) OD_ERROR("out of memory", OD_ENOMEM);
    if (x) od_copy(p->dim, x, x0);
    problem_ctx pc = {p, x0};
    char label[160];
    snprintf(label, sizeof label, "per-sample Hessians of %s", p->label);
    int st = od_spectra_hset_actions(p->n, p->dim, problem_action, &pc, prm, label, out);
    od_free(x0);
    return st;
}

/* ---- the Hessian file ------------------------------------------------------------------------- */

/* Next data line (skipping blank and '#' lines): returns its text (in *line) or NULL at the end;
 * *lineno counts physical lines. */
static char *next_line(FILE *f, char **line, size_t *cap, size_t *lineno)
{
    while (getline(line, cap, f) >= 0) {
        (*lineno)++;
        char *s = *line;
        while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') s++;
        if (*s == '\0' || *s == '#') continue;
        return s;
    }
    return NULL;
}

/* Splits s into whitespace-separated fields (in place); at most cap; returns the count (which may
 * exceed cap: the rest are counted, not stored). */
static size_t split_fields(char *s, char **fields, size_t cap)
{
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r(s, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
        if (n < cap) fields[n] = t;
        n++;
    }
    return n;
}

int od_spectra_hset_read(const char *path, const od_spectra_hset_params *prm, od_spectra_hset **out)
{
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f) OD_ERRORF(OD_EIO, "%s: cannot read (%s)", path, strerror(errno));
    char *line = NULL, *fields[3];
    size_t cap = 0, lineno = 0;
    long n = 0, d = 0;
    double *H = NULL;
    size_t *rowline = NULL;
    char **fv = NULL;
    int st = OD_OK;
    char *s = next_line(f, &line, &cap, &lineno);
    if (!s) {
        st = od_error(OD_EPARSE, __FILE__, __LINE__, "%s: empty file (expected a first line 'n d')", path);
        goto done;
    }
    size_t nf = split_fields(s, fields, 3);
    if (nf != 2 || od_parse_long(fields[0], &n) || od_parse_long(fields[1], &d) || n < 1 || d < 1) {
        st = od_error(OD_EPARSE, __FILE__, __LINE__, "%s:%zu: expected the sizes 'n d' (two positive integers)", path, lineno);
        goto done;
    }
    if ((double)n * (double)d * (double)d > (double)(1u << 27)) {
        st = od_error(OD_ERANGE, __FILE__, __LINE__, "%s:%zu: n d² = %.3g numbers is above the limit 2^27", path, lineno, (double)n * (double)d * (double)d);
        goto done;
    }
    const size_t N = (size_t)n, D = (size_t)d, rows = N * D;
    H = od_vec_alloc(N * D * D);
    rowline = calloc(rows, sizeof *rowline);
    fv = malloc((D + 1) * sizeof *fv);
    if (!H || !rowline || !fv) {
        st = od_error(OD_ENOMEM, __FILE__, __LINE__, "%s: out of memory", path);
        goto done;
    }
    for (size_t row = 0; row < rows; row++) {
        if (!(s = next_line(f, &line, &cap, &lineno))) {
            st = od_error(OD_EPARSE, __FILE__, __LINE__,
                          "%s:%zu: the file ends after %zu of the n·d = %zu rows (n = %zu blocks of d = %zu rows): inconsistent n/d",
                          path, lineno, row, rows, N, D);
            goto done;
        }
        rowline[row] = lineno;
        nf = split_fields(s, fv, D + 1);
        if (nf != D) {
            st = od_error(OD_EPARSE, __FILE__, __LINE__, "%s:%zu: expected d = %zu numbers (row %zu of H_%zu), found %zu: inconsistent n/d",
                          path, lineno, D, row % D + 1, row / D + 1, nf);
            goto done;
        }
        for (size_t j = 0; j < D; j++) {
            double v;
            if (od_parse_double(fv[j], &v) || !isfinite(v)) {
                st = od_error(OD_EPARSE, __FILE__, __LINE__, "%s:%zu: field %zu '%.40s' is not a finite number", path, lineno, j + 1, fv[j]);
                goto done;
            }
            H[row * D + j] = v;
        }
    }
    if ((s = next_line(f, &line, &cap, &lineno))) {
        st = od_error(OD_EPARSE, __FILE__, __LINE__, "%s:%zu: extra data after the n = %zu blocks of d = %zu rows: inconsistent n/d",
                      path, lineno, N, D);
        goto done;
    }
    for (size_t i = 0; i < N; i++) {   /* symmetry, with the lines of both entries */
        const double *A = H + i * D * D;
        double amax = 0;
        for (size_t a = 0; a < D * D; a++) amax = fmax(amax, fabs(A[a]));
        for (size_t a = 0; a < D; a++)
            for (size_t b = a + 1; b < D; b++)
                if (fabs(A[a * D + b] - A[b * D + a]) > 64 * DBL_EPSILON * amax) {
                    st = od_error(OD_EINVAL, __FILE__, __LINE__,
                                  "%s:%zu: H_%zu is not symmetric: entry (%zu, %zu) = %.17g on this line but (%zu, %zu) = %.17g on line %zu",
                                  path, rowline[i * D + a], i + 1, a + 1, b + 1, A[a * D + b], b + 1, a + 1, A[b * D + a], rowline[i * D + b]);
                    goto done;
                }
    }
    st = od_spectra_hset_dense(N, D, H, prm, out);
    if (st == OD_OK) snprintf((*out)->label, sizeof (*out)->label, "%s (n = %zu, d = %zu)", path, N, D);
done:
    fclose(f);
    free(line);
    free(rowline);
    free(fv);
    od_free(H);
    return st;
}
