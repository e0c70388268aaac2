/* optdyn core — the built-in problems: diagonal and dense quadratics, streaming and finite-data
 * Gaussian linear regression, logistic regression; and the registry entries that build them from
 * parameter tables ("linreg:d=100,exp=2").  Contracts are in problem.h.
 *
 * Random data of the registry entries come from od_stream keyed by (seed, stream id), with a
 * stream id per source so that changing one parameter does not reshuffle an unrelated source:
 *
 *      stream 1  design rows x_i        (row i at path i, step 0: row i does not depend on n)
 *      stream 2  labels                 (label noise / label coin of row i at path i, step 0)
 *      stream 3  model                  (random rotation of dense-quadratic, teacher of logreg;
 *                                        path 0, step 0)
 *
 * The oracles' own draws (minibatches, noise samples) come from the caller's stream at its current
 * position.  Per sample, in this order:
 *      quadratic, dense-quadratic   d normals z (the gradient noise s (.) z or L z; none if noise-free)
 *      linreg (streaming)           d normals z (x = sqrt(lambda) (.) z), then 1 normal (label noise)
 *      linreg-data, logreg          1 index from od_stream_below(n)
 *
 * Methods keep no state and allocate at most one scratch vector per call (never per sample), so
 * they are thread-safe.
 */
#include "core/problem.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cblas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>

#include "core/linalg.h"
#include "core/status.h"

enum { STREAM_DATA = 1, STREAM_LABEL = 2, STREAM_MODEL = 3 };

/* ---- scratch vectors (see problem.c) ----------------------------------------------------------- */

enum { SCRATCH_STACK = 256 };
typedef struct {
    double stack[SCRATCH_STACK];
    double *p;
} scratch;

static double *scratch_get(scratch *s, size_t n)
{
    s->p = n <= SCRATCH_STACK ? s->stack : od_vec_alloc(n);
    return s->p;
}

static void scratch_release(scratch *s)
{
    if (s->p && s->p != s->stack) od_free(s->p);
    s->p = NULL;
}

#define SCRATCH_OR_FAIL(sc, n, var)                                                              \
    double *var = scratch_get(&(sc), (n));                                                       \
    if (!var) OD_ERRORF(OD_ENOMEM, "%s: out of memory for %zu scratch doubles", p->label, (size_t)(n))

/* ---- small helpers ----------------------------------------------------------------------------- */

static int check_finite_vec(const char *who, const char *what, size_t n, const double *v)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            OD_ERRORF(OD_EINVAL, "%s: %s[%zu] = %g is not finite", who, what, i, v[i]);
    return OD_OK;
}

/* A copy of v[0..n) (zeros when v is NULL), or NULL on allocation failure. */
static double *copy_or_zero(size_t n, const double *v)
{
    double *c = od_vec_alloc(n);
    if (c && v) od_copy(n, v, c);
    return c;
}

static void minmax(size_t n, const double *v, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < *lo) *lo = v[i];
        if (v[i] > *hi) *hi = v[i];
    }
}

/* Rejects a matrix that is not symmetric beyond rounding (16 d eps max|M_ij|, the size of the
 * asymmetry a product such as Q D Q^T leaves) and returns the symmetrized copy (M + M^T)/2. */
static int symmetrized_copy(const char *who, const char *what, size_t d, const double *M,
                            double *out)
{
    OD_TRY(check_finite_vec(who, what, d * d, M));
    double mx = 0.0;
    for (size_t i = 0; i < d * d; i++) mx = fmax(mx, fabs(M[i]));
    const double tol = 16.0 * (double)d * DBL_EPSILON * mx;
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j <= i; j++) {
            double a = M[i * d + j], b = M[j * d + i];
            if (fabs(a - b) > tol)
                OD_ERRORF(OD_EINVAL, "%s: %s is not symmetric: %s[%zu][%zu] = %.17g but %s[%zu][%zu] "
                          "= %.17g", who, what, what, i, j, a, what, j, i, b);
            out[i * d + j] = out[j * d + i] = 0.5 * (a + b);
        }
    return OD_OK;
}

/* Installs a copy of x as the known minimizer and sets fstar = f(x). */
static int set_xstar(od_problem *p, const double *x)
{
    p->xstar = copy_or_zero(p->dim, x);
    if (!p->xstar) OD_ERRORF(OD_ENOMEM, "%s: out of memory", p->label);
    return od_problem_loss(p, p->xstar, &p->fstar);
}

/* =================================================================================================
 * Diagonal quadratic f(x) = 1/2 sum_k lambda_k (x_k - c_k)^2, sample gradient grad f(x) + s (.) z.
 * The noise is additive on the gradient, so it has no loss of its own: the minibatch loss that
 * batch_grad reports is f(x).
 * ================================================================================================= */

typedef struct {
    double *lambda, *c, *sd;   /* one block of 3d doubles, owned through lambda */
    int noisy;                 /* some sd_k != 0 */
} quad_diag;

static void qd_free(void *data)
{
    quad_diag *q = data;
    if (q) od_free(q->lambda);
    free(q);
}

static int qd_grad(const od_problem *p, const double *x, double *g, double *f)
{
    const quad_diag *q = p->data;
    double acc = 0.0;
    for (size_t k = 0; k < p->dim; k++) {
        double u = x[k] - q->c[k];
        g[k] = q->lambda[k] * u;
        acc += g[k] * u;
    }
    if (f) *f = 0.5 * acc;
    return OD_OK;
}

static int qd_loss(const od_problem *p, const double *x, double *f)
{
    const quad_diag *q = p->data;
    double acc = 0.0;
    for (size_t k = 0; k < p->dim; k++) {
        double u = x[k] - q->c[k];
        acc += q->lambda[k] * u * u;
    }
    *f = 0.5 * acc;
    return OD_OK;
}

static int qd_hvp(const od_problem *p, const double *x, const double *v, double *hv)
{
    (void)x;
    const quad_diag *q = p->data;
    for (size_t k = 0; k < p->dim; k++) hv[k] = q->lambda[k] * v[k];
    return OD_OK;
}

/* g = grad f + s (.) (1/B) sum_b z_b: the sum of the B samples' normals is gathered in g first. */
static int qd_batch_grad(const od_problem *p, const double *x, size_t B, od_stream *s, double *g,
                         double *f)
{
    const quad_diag *q = p->data;
    const size_t d = p->dim;
    od_zero(d, g);
    if (q->noisy)
        for (size_t b = 0; b < B; b++)
            for (size_t k = 0; k < d; k++) g[k] += od_stream_normal(s);
    const double inv_B = 1.0 / (double)B;
    double acc = 0.0;
    for (size_t k = 0; k < d; k++) {
        double u = x[k] - q->c[k], gk = q->lambda[k] * u;
        acc += gk * u;
        g[k] = gk + q->sd[k] * (g[k] * inv_B);
    }
    if (f) *f = 0.5 * acc;
    return OD_OK;
}

static int qd_sample_grads(const od_problem *p, const double *x, size_t B, od_stream *s, double *G)
{
    const quad_diag *q = p->data;
    const size_t d = p->dim;
    for (size_t b = 0; b < B; b++) {
        double *row = G + b * d;
        qd_grad(p, x, row, NULL);
        if (q->noisy)
            for (size_t k = 0; k < d; k++) row[k] += q->sd[k] * od_stream_normal(s);
    }
    return OD_OK;
}

static int qd_noise_cov(const od_problem *p, const double *x, double *cov)
{
    (void)x;
    const quad_diag *q = p->data;
    const size_t d = p->dim;
    od_zero(d * d, cov);
    for (size_t k = 0; k < d; k++) cov[k * d + k] = q->sd[k] * q->sd[k];
    return OD_OK;
}

static int qd_noise_sample(const od_problem *p, const double *x, od_stream *s, double *out)
{
    (void)x;
    const quad_diag *q = p->data;
    if (!q->noisy) {
        od_zero(p->dim, out);
        return OD_OK;
    }
    for (size_t k = 0; k < p->dim; k++) out[k] = q->sd[k] * od_stream_normal(s);
    return OD_OK;
}

static const od_problem_type quad_diag_type = {
    .name = "quadratic",
    .loss = qd_loss,
    .grad = qd_grad,
    .hvp = qd_hvp,
    .batch_grad = qd_batch_grad,
    .sample_grads = qd_sample_grads,
    .noise_cov = qd_noise_cov,
    .noise_sample = qd_noise_sample,
    .free_data = qd_free,
};

int od_problem_quadratic_diag(size_t d, const double *lambda, const double *c,
                              const double *noise_sd, od_problem **out)
{
    static const char *who = "od_problem_quadratic_diag";
    if (!out) OD_ERRORF(OD_EINVAL, "%s: NULL output", who);
    *out = NULL;
    if (d == 0) OD_ERRORF(OD_EINVAL, "%s: dimension d = 0", who);
    if (!lambda) OD_ERRORF(OD_EINVAL, "%s: NULL lambda", who);
    OD_TRY(check_finite_vec(who, "lambda", d, lambda));
    if (c) OD_TRY(check_finite_vec(who, "c", d, c));
    if (noise_sd) {
        OD_TRY(check_finite_vec(who, "noise_sd", d, noise_sd));
        for (size_t k = 0; k < d; k++)
            if (noise_sd[k] < 0)
                OD_ERRORF(OD_EINVAL, "%s: noise_sd[%zu] = %g is negative", who, k, noise_sd[k]);
    }
    quad_diag *q = calloc(1, sizeof *q);
    double *block = od_vec_alloc(3 * d);
    od_problem *p = (q && block) ? od_problem_alloc(&quad_diag_type, d, 0, q) : NULL;
    if (!p) {
        od_free(block);
        free(q);
        OD_ERRORF(OD_ENOMEM, "%s: out of memory (d = %zu)", who, d);
    }
    q->lambda = block;
    q->c = block + d;
    q->sd = block + 2 * d;
    od_copy(d, lambda, q->lambda);
    if (c) od_copy(d, c, q->c);
    if (noise_sd) od_copy(d, noise_sd, q->sd);
    q->noisy = 0;
    for (size_t k = 0; k < d; k++) q->noisy |= q->sd[k] != 0.0;

    double lo, hi, slo, shi;
    minmax(d, q->lambda, &lo, &hi);
    minmax(d, q->sd, &slo, &shi);
    snprintf(p->label, sizeof p->label, "quadratic: d=%zu, lambda in [%.4g, %.4g], noise sd <= %.4g",
             d, lo, hi, shi);
    if (lo > 0) {
        int status = set_xstar(p, q->c);
        if (status != OD_OK) {
            od_problem_free(p);
            return status;
        }
    }
    *out = p;
    return OD_OK;
}

/* =================================================================================================
 * Dense quadratic f(x) = 1/2 (x - c)^T A (x - c), sample gradient A (x - c) + L z with L L^T = S.
 * As for the diagonal quadratic, batch_grad reports f(x) as the minibatch loss.
 * ================================================================================================= */

typedef struct {
    double *A, *c, *S, *L;   /* d*d, d, d*d, d*d in one block owned through A; S, L zero if no noise */
    int noisy;
} quad_dense;

static void qdn_free(void *data)
{
    quad_dense *q = data;
    if (q) od_free(q->A);
    free(q);
}

static void sub(size_t d, const double *x, const double *c, double *u)
{
    for (size_t k = 0; k < d; k++) u[k] = x[k] - c[k];
}

static int qdn_loss(const od_problem *p, const double *x, double *f)
{
    const quad_dense *q = p->data;
    const size_t d = p->dim;
    scratch sc;
    SCRATCH_OR_FAIL(sc, d, u);
    sub(d, x, q->c, u);
    double acc = 0.0;
    for (size_t j = 0; j < d; j++) acc += u[j] * od_dot(d, q->A + j * d, u);
    scratch_release(&sc);
    *f = 0.5 * acc;
    return OD_OK;
}

static int qdn_grad(const od_problem *p, const double *x, double *g, double *f)
{
    const quad_dense *q = p->data;
    const size_t d = p->dim;
    scratch sc;
    SCRATCH_OR_FAIL(sc, d, u);
    sub(d, x, q->c, u);
    od_gemv(0, d, d, 1.0, q->A, u, 0.0, g);
    if (f) *f = 0.5 * od_dot(d, u, g);
    scratch_release(&sc);
    return OD_OK;
}

static int qdn_hvp(const od_problem *p, const double *x, const double *v, double *hv)
{
    (void)x;
    const quad_dense *q = p->data;
    od_gemv(0, p->dim, p->dim, 1.0, q->A, v, 0.0, hv);
    return OD_OK;
}

static int qdn_batch_grad(const od_problem *p, const double *x, size_t B, od_stream *s, double *g,
                          double *f)
{
    const quad_dense *q = p->data;
    const size_t d = p->dim;
    scratch sc;
    SCRATCH_OR_FAIL(sc, 2 * d, u);
    double *zsum = u + d;
    sub(d, x, q->c, u);
    od_gemv(0, d, d, 1.0, q->A, u, 0.0, g);
    if (f) *f = 0.5 * od_dot(d, u, g);
    if (q->noisy) {
        od_zero(d, zsum);
        for (size_t b = 0; b < B; b++)
            for (size_t k = 0; k < d; k++) zsum[k] += od_stream_normal(s);
        od_gemv(0, d, d, 1.0 / (double)B, q->L, zsum, 1.0, g);
    }
    scratch_release(&sc);
    return OD_OK;
}

static int qdn_sample_grads(const od_problem *p, const double *x, size_t B, od_stream *s, double *G)
{
    const quad_dense *q = p->data;
    const size_t d = p->dim;
    scratch sc;
    SCRATCH_OR_FAIL(sc, 2 * d, g0);
    double *z = g0 + d;
    int status = qdn_grad(p, x, g0, NULL);
    for (size_t b = 0; b < B && status == OD_OK; b++) {
        double *row = G + b * d;
        od_copy(d, g0, row);
        if (q->noisy) {
            od_stream_normals(s, z, d);
            od_gemv(0, d, d, 1.0, q->L, z, 1.0, row);
        }
    }
    scratch_release(&sc);
    return status;
}

static int qdn_noise_cov(const od_problem *p, const double *x, double *cov)
{
    (void)x;
    const quad_dense *q = p->data;
    od_copy(p->dim * p->dim, q->S, cov);
    return OD_OK;
}

static int qdn_noise_sample(const od_problem *p, const double *x, od_stream *s, double *out)
{
    (void)x;
    const quad_dense *q = p->data;
    const size_t d = p->dim;
    if (!q->noisy) {
        od_zero(d, out);
        return OD_OK;
    }
    scratch sc;
    SCRATCH_OR_FAIL(sc, d, z);
    od_stream_normals(s, z, d);
    od_gemv(0, d, d, 1.0, q->L, z, 0.0, out);
    scratch_release(&sc);
    return OD_OK;
}

static const od_problem_type quad_dense_type = {
    .name = "dense-quadratic",
    .loss = qdn_loss,
    .grad = qdn_grad,
    .hvp = qdn_hvp,
    .batch_grad = qdn_batch_grad,
    .sample_grads = qdn_sample_grads,
    .noise_cov = qdn_noise_cov,
    .noise_sample = qdn_noise_sample,
    .free_data = qdn_free,
};

/* L with L L^T = S for a symmetric positive semi-definite S: the Cholesky factor when S is positive
 * definite, else V diag(sqrt(max(mu, 0))) from the eigendecomposition S = V diag(mu) V^T.  An
 * eigenvalue below -16 d eps max|mu| (beyond the backward error of the eigensolver) means S is
 * indefinite, which is an error; the ones above it are rounding of a zero and are clipped. */
static int noise_factor(const char *who, size_t d, const double *S, double *L)
{
    if (od_cholesky(d, S, L) == OD_OK) return OD_OK;
    od_clear_error();   /* the failed Cholesky is expected for a singular S */
    double *mu = od_vec_alloc(d + d * d);
    if (!mu) OD_ERRORF(OD_ENOMEM, "%s: out of memory factoring S (d = %zu)", who, d);
    double *V = mu + d;
    int status = od_symm_eigen(d, S, mu, V);
    if (status == OD_OK) {
        const double top = fmax(fabs(mu[0]), fabs(mu[d - 1]));
        const double tol = 16.0 * (double)d * DBL_EPSILON * top;
        if (mu[d - 1] < -tol) {
            status = od_error(OD_EINVAL, __FILE__, __LINE__,
                              "%s: noise covariance S is indefinite (smallest eigenvalue %.6g, "
                              "largest %.6g); it must be positive semi-definite", who, mu[d - 1],
                              mu[0]);
        } else {
            for (size_t k = 0; k < d; k++) {
                const double r = sqrt(fmax(mu[k], 0.0));
                for (size_t i = 0; i < d; i++) L[i * d + k] = V[i * d + k] * r;
            }
        }
    }
    od_free(mu);
    return status;
}

int od_problem_quadratic_dense(size_t d, const double *A, const double *c, const double *S,
                               od_problem **out)
{
    static const char *who = "od_problem_quadratic_dense";
    if (!out) OD_ERRORF(OD_EINVAL, "%s: NULL output", who);
    *out = NULL;
    if (d == 0) OD_ERRORF(OD_EINVAL, "%s: dimension d = 0", who);
    if (!A) OD_ERRORF(OD_EINVAL, "%s: NULL matrix A", who);
    if (c) OD_TRY(check_finite_vec(who, "c", d, c));
    quad_dense *q = calloc(1, sizeof *q);
    double *block = od_vec_alloc(3 * d * d + d);
    od_problem *p = (q && block) ? od_problem_alloc(&quad_dense_type, d, 0, q) : NULL;
    if (!p) {
        od_free(block);
        free(q);
        OD_ERRORF(OD_ENOMEM, "%s: out of memory (d = %zu)", who, d);
    }
    q->A = block;
    q->S = block + d * d;
    q->L = block + 2 * d * d;
    q->c = block + 3 * d * d;
    if (c) od_copy(d, c, q->c);
    int status = symmetrized_copy(who, "A", d, A, q->A);
    if (status == OD_OK && S) status = symmetrized_copy(who, "S", d, S, q->S);
    if (status == OD_OK && S) {
        for (size_t i = 0; i < d * d; i++) q->noisy |= q->S[i] != 0.0;
        if (q->noisy) status = noise_factor(who, d, q->S, q->L);
    }
    if (status == OD_OK) {
        snprintf(p->label, sizeof p->label, "dense-quadratic: d=%zu%s", d,
                 q->noisy ? ", gaussian gradient noise" : "");
        /* c is the minimizer when A is positive definite (a successful Cholesky says so) */
        double *tmp = od_vec_alloc(d * d);
        if (!tmp) {
            status = od_error(OD_ENOMEM, __FILE__, __LINE__, "%s: out of memory", who);
        } else {
            int pd = od_cholesky(d, q->A, tmp) == OD_OK;
            if (!pd) od_clear_error();
            od_free(tmp);
            if (pd) status = set_xstar(p, q->c);
        }
    }
    if (status != OD_OK) {
        od_problem_free(p);
        return status;
    }
    *out = p;
    return OD_OK;
}

/* =================================================================================================
 * Streaming Gaussian linear regression: x = sqrt(lambda) (.) z, y = <wstar, x> + sigma xi,
 * f_xi(w) = 1/2 r^2 with r = <w, x> - y = <w - wstar, x> - sigma xi, grad f_xi(w) = r x.
 * ================================================================================================= */

typedef struct {
    double *lambda, *sqrt_lambda, *wstar;   /* one block of 3d doubles owned through lambda */
    double sigma2, sigma;
} linreg_stream;

static void ls_free(void *data)
{
    linreg_stream *m = data;
    if (m) od_free(m->lambda);
    free(m);
}

static int ls_loss(const od_problem *p, const double *w, double *f)
{
    const linreg_stream *m = p->data;
    double acc = 0.0;
    for (size_t k = 0; k < p->dim; k++) {
        double dk = w[k] - m->wstar[k];
        acc += m->lambda[k] * dk * dk;
    }
    *f = 0.5 * (m->sigma2 + acc);
    return OD_OK;
}

static int ls_grad(const od_problem *p, const double *w, double *g, double *f)
{
    const linreg_stream *m = p->data;
    double acc = 0.0;
    for (size_t k = 0; k < p->dim; k++) {
        double dk = w[k] - m->wstar[k];
        g[k] = m->lambda[k] * dk;
        acc += g[k] * dk;
    }
    if (f) *f = 0.5 * (m->sigma2 + acc);
    return OD_OK;
}

static int ls_hvp(const od_problem *p, const double *w, const double *v, double *hv)
{
    (void)w;
    const linreg_stream *m = p->data;
    for (size_t k = 0; k < p->dim; k++) hv[k] = m->lambda[k] * v[k];
    return OD_OK;
}

/* Draws one sample: x into xs, and returns the residual r = <w - wstar, x> - sigma xi. */
static double ls_draw(const linreg_stream *m, size_t d, const double *w, od_stream *s, double *xs)
{
    double r = 0.0;
    for (size_t k = 0; k < d; k++) {
        xs[k] = m->sqrt_lambda[k] * od_stream_normal(s);
        r += (w[k] - m->wstar[k]) * xs[k];
    }
    return r - m->sigma * od_stream_normal(s);
}

static int ls_batch_grad(const od_problem *p, const double *w, size_t B, od_stream *s, double *g,
                         double *f)
{
    const linreg_stream *m = p->data;
    const size_t d = p->dim;
    scratch sc;
    SCRATCH_OR_FAIL(sc, d, xs);
    double fsum = 0.0;
    od_zero(d, g);
    for (size_t b = 0; b < B; b++) {
        double r = ls_draw(m, d, w, s, xs);
        od_axpy(d, r, xs, g);
        fsum += 0.5 * r * r;
    }
    scratch_release(&sc);
    od_scal(d, 1.0 / (double)B, g);
    if (f) *f = fsum / (double)B;
    return OD_OK;
}

static int ls_sample_grads(const od_problem *p, const double *w, size_t B, od_stream *s, double *G)
{
    const linreg_stream *m = p->data;
    const size_t d = p->dim;
    for (size_t b = 0; b < B; b++) {
        double *row = G + b * d;
        od_scal(d, ls_draw(m, d, w, s, row), row);
    }
    return OD_OK;
}

/* Sigma1(w) = H dl dl^T H + (dl^T H dl + sigma2) H, dl = w - wstar: for Gaussian x the fourth
 * moment is E[x x^T A x x^T] = 2 H A H + tr(H A) H (linreg.md, section 1), so
 * E[g g^T] = 2 H dl dl^T H + (dl^T H dl) H + sigma2 H and the mean H dl is subtracted once. */
static int ls_noise_cov(const od_problem *p, const double *w, double *cov)
{
    const linreg_stream *m = p->data;
    const size_t d = p->dim;
    double q = 0.0;
    for (size_t k = 0; k < d; k++) {
        double dk = w[k] - m->wstar[k];
        q += m->lambda[k] * dk * dk;
    }
    for (size_t j = 0; j < d; j++) {
        const double uj = m->lambda[j] * (w[j] - m->wstar[j]);
        for (size_t k = 0; k < d; k++) cov[j * d + k] = uj * m->lambda[k] * (w[k] - m->wstar[k]);
        cov[j * d + j] += (q + m->sigma2) * m->lambda[j];
    }
    return OD_OK;
}

/* out = sqrt(dl^T H dl + sigma2) sqrt(lambda) (.) z1 + (H dl) z2 with z1 ~ N(0, I_d), z2 ~ N(0, 1)
 * independent: the two terms have covariances (dl^T H dl + sigma2) H and H dl dl^T H, whose sum is
 * Sigma1(w).  Draws d + 1 normals (z1 first), O(d), no square root of a matrix. */
static int ls_noise_sample(const od_problem *p, const double *w, od_stream *s, double *out)
{
    const linreg_stream *m = p->data;
    const size_t d = p->dim;
    double q = 0.0;
    for (size_t k = 0; k < d; k++) {
        double dk = w[k] - m->wstar[k];
        q += m->lambda[k] * dk * dk;
    }
    const double a = sqrt(q + m->sigma2);
    od_stream_normals(s, out, d);
    const double z2 = od_stream_normal(s);
    for (size_t k = 0; k < d; k++)
        out[k] = a * m->sqrt_lambda[k] * out[k] + m->lambda[k] * (w[k] - m->wstar[k]) * z2;
    return OD_OK;
}

static const od_problem_type linreg_stream_type = {
    .name = "linreg",
    .loss = ls_loss,
    .grad = ls_grad,
    .hvp = ls_hvp,
    .batch_grad = ls_batch_grad,
    .sample_grads = ls_sample_grads,
    .noise_cov = ls_noise_cov,
    .noise_sample = ls_noise_sample,
    .free_data = ls_free,
};

int od_problem_linreg_stream(size_t d, const double *lambda, const double *wstar, double sigma2,
                             od_problem **out)
{
    static const char *who = "od_problem_linreg_stream";
    if (!out) OD_ERRORF(OD_EINVAL, "%s: NULL output", who);
    *out = NULL;
    if (d == 0) OD_ERRORF(OD_EINVAL, "%s: dimension d = 0", who);
    if (!lambda) OD_ERRORF(OD_EINVAL, "%s: NULL lambda", who);
    OD_TRY(check_finite_vec(who, "lambda", d, lambda));
    for (size_t k = 0; k < d; k++)
        if (lambda[k] < 0)
            OD_ERRORF(OD_EINVAL, "%s: lambda[%zu] = %g is negative (H = diag(lambda) is a "
                      "covariance)", who, k, lambda[k]);
    if (wstar) OD_TRY(check_finite_vec(who, "wstar", d, wstar));
    if (!isfinite(sigma2) || sigma2 < 0)
        OD_ERRORF(OD_EINVAL, "%s: sigma2 = %g must be finite and >= 0", who, sigma2);
    linreg_stream *m = calloc(1, sizeof *m);
    double *block = od_vec_alloc(3 * d);
    od_problem *p = (m && block) ? od_problem_alloc(&linreg_stream_type, d, 0, m) : NULL;
    if (!p) {
        od_free(block);
        free(m);
        OD_ERRORF(OD_ENOMEM, "%s: out of memory (d = %zu)", who, d);
    }
    m->lambda = block;
    m->sqrt_lambda = block + d;
    m->wstar = block + 2 * d;
    od_copy(d, lambda, m->lambda);
    for (size_t k = 0; k < d; k++) m->sqrt_lambda[k] = sqrt(lambda[k]);
    if (wstar) od_copy(d, wstar, m->wstar);
    m->sigma2 = sigma2;
    m->sigma = sqrt(sigma2);
    double lo, hi;
    minmax(d, m->lambda, &lo, &hi);
    snprintf(p->label, sizeof p->label, "linreg: d=%zu, lambda in [%.4g, %.4g], sigma2=%.4g", d, lo,
             hi, sigma2);
    int status = set_xstar(p, m->wstar);   /* f(wstar) = sigma2 / 2 */
    if (status != OD_OK) {
        od_problem_free(p);
        return status;
    }
    *out = p;
    return OD_OK;
}

/* =================================================================================================
 * Finite data sets (linear and logistic regression).  Both have per-sample gradients of the form
 * c_i(w) x_i (+ ridge w), which gives batch gradients without scratch and a noise sampler of the
 * per-sample-factor kind (sde.md section 1 (c)).
 * ================================================================================================= */

typedef struct {
    double *X, *y;   /* n*d and n doubles in one block owned through X */
    double ridge;    /* logistic only */
} data_set;

static void ds_free(void *data)
{
    data_set *m = data;
    if (m) od_free(m->X);
    free(m);
}

/* A draw of N(0, Sigma1(w)) for a problem whose sample gradients are c_i x_i + (a term common to
 * every i): out = n^{-1/2} sum_i (z_i - zbar) c_i x_i with z_1..z_n i.i.d. N(0, 1).  Its covariance
 * is (1/n) sum_ij c_i c_j x_i x_j^T (delta_ij - 1/n) = (1/n) sum_i g_i g_i^T - g g^T = Sigma1, and
 * the common term cancels because sum_i (z_i - zbar) = 0.  zbar comes from a first pass over a copy
 * of the stream, so the n normals are drawn twice but nothing is stored: O(n d), no allocation. */
static int rowwise_noise_sample(const od_problem *p, const double *w, od_stream *s, double *out,
                                double (*coef)(const od_problem *, const double *, size_t))
{
    const data_set *m = p->data;
    const size_t n = p->n, d = p->dim;
    od_stream first = *s;
    double zbar = 0.0;
    for (size_t i = 0; i < n; i++) zbar += od_stream_normal(&first);
    zbar /= (double)n;
    od_zero(d, out);
    for (size_t i = 0; i < n; i++) {
        const double z = od_stream_normal(s) - zbar;
        od_axpy(d, z * coef(p, w, i), m->X + i * d, out);
    }
    od_scal(d, 1.0 / sqrt((double)n), out);
    return OD_OK;
}

/* ---- linear regression on data: f_i(w) = 1/2 (<x_i, w> - y_i)^2 ------------------------------- */

static double ld_resid(const od_problem *p, const double *w, size_t i)
{
    const data_set *m = p->data;
    return od_dot(p->dim, m->X + i * p->dim, w) - m->y[i];
}

static int ld_loss(const od_problem *p, const double *w, double *f)
{
    double acc = 0.0;
    for (size_t i = 0; i < p->n; i++) {
        double r = ld_resid(p, w, i);
        acc += r * r;
    }
    *f = 0.5 * acc / (double)p->n;
    return OD_OK;
}

static int ld_grad(const od_problem *p, const double *w, double *g, double *f)
{
    const data_set *m = p->data;
    const size_t d = p->dim;
    double acc = 0.0;
    od_zero(d, g);
    for (size_t i = 0; i < p->n; i++) {
        double r = ld_resid(p, w, i);
        od_axpy(d, r, m->X + i * d, g);
        acc += r * r;
    }
    od_scal(d, 1.0 / (double)p->n, g);
    if (f) *f = 0.5 * acc / (double)p->n;
    return OD_OK;
}

static int ld_hvp(const od_problem *p, const double *w, const double *v, double *hv)
{
    (void)w;
    const data_set *m = p->data;
    const size_t d = p->dim;
    od_zero(d, hv);
    for (size_t i = 0; i < p->n; i++) od_axpy(d, od_dot(d, m->X + i * d, v), m->X + i * d, hv);
    od_scal(d, 1.0 / (double)p->n, hv);
    return OD_OK;
}

static int ld_sample_loss(const od_problem *p, const double *w, size_t i, double *fi)
{
    double r = ld_resid(p, w, i);
    *fi = 0.5 * r * r;
    return OD_OK;
}

static int ld_sample_grad(const od_problem *p, const double *w, size_t i, double *gi)
{
    const data_set *m = p->data;
    od_copy(p->dim, m->X + i * p->dim, gi);
    od_scal(p->dim, ld_resid(p, w, i), gi);
    return OD_OK;
}

static int ld_sample_hvp(const od_problem *p, const double *w, size_t i, const double *v,
                         double *hv)
{
    (void)w;
    const data_set *m = p->data;
    const double *xi = m->X + i * p->dim;
    od_copy(p->dim, xi, hv);
    od_scal(p->dim, od_dot(p->dim, xi, v), hv);
    return OD_OK;
}

/* Same index draws as od_problem_finite_sample_grads; accumulates r_i x_i with no scratch. */
static int ld_batch_grad(const od_problem *p, const double *w, size_t B, od_stream *s, double *g,
                         double *f)
{
    const data_set *m = p->data;
    const size_t d = p->dim;
    double acc = 0.0;
    od_zero(d, g);
    for (size_t b = 0; b < B; b++) {
        const uint32_t i = od_stream_below(s, (uint32_t)p->n);
        const double r = ld_resid(p, w, i);
        od_axpy(d, r, m->X + (size_t)i * d, g);
        acc += 0.5 * r * r;
    }
    od_scal(d, 1.0 / (double)B, g);
    if (f) *f = acc / (double)B;
    return OD_OK;
}

static int ld_noise_sample(const od_problem *p, const double *w, od_stream *s, double *out)
{
    return rowwise_noise_sample(p, w, s, out, ld_resid);
}

static const od_problem_type linreg_data_type = {
    .name = "linreg-data",
    .loss = ld_loss,
    .grad = ld_grad,
    .hvp = ld_hvp,
    .batch_grad = ld_batch_grad,
    .sample_grads = od_problem_finite_sample_grads,
    .sample_loss = ld_sample_loss,
    .sample_grad = ld_sample_grad,
    .sample_hvp = ld_sample_hvp,
    .noise_cov = od_problem_finite_noise_cov,
    .noise_sample = ld_noise_sample,
    .free_data = ds_free,
};

/* Validates and copies a data set into a fresh problem of the given type. */
static int data_problem(const char *who, const od_problem_type *type, size_t n, size_t d,
                        const double *X, const double *y, od_problem **pp)
{
    *pp = NULL;
    if (n == 0 || d == 0) OD_ERRORF(OD_EINVAL, "%s: empty data set (n = %zu, d = %zu)", who, n, d);
    if (n > UINT32_MAX)
        OD_ERRORF(OD_ERANGE, "%s: n = %zu samples is more than the 2^32 - 1 that minibatch indices "
                  "address", who, n);
    if (d > (SIZE_MAX / sizeof(double) - 1) / n)
        OD_ERRORF(OD_ERANGE, "%s: data set too large (n = %zu, d = %zu)", who, n, d);
    if (!X || !y) OD_ERRORF(OD_EINVAL, "%s: NULL %s", who, X ? "y" : "X");
    OD_TRY(check_finite_vec(who, "X", n * d, X));
    OD_TRY(check_finite_vec(who, "y", n, y));
    data_set *m = calloc(1, sizeof *m);
    double *block = od_vec_alloc(n * d + n);
    od_problem *p = (m && block) ? od_problem_alloc(type, d, n, m) : NULL;
    if (!p) {
        od_free(block);
        free(m);
        OD_ERRORF(OD_ENOMEM, "%s: out of memory (n = %zu, d = %zu)", who, n, d);
    }
    m->X = block;
    m->y = block + n * d;
    od_copy(n * d, X, m->X);
    od_copy(n, y, m->y);
    *pp = p;
    return OD_OK;
}

enum { LSQ_MAX_DIM = 4096 };

/* The least-squares solution through the normal equations X^T X w = X^T y by Cholesky.  X counts as
 * rank deficient when Cholesky fails or a pivot L_kk^2 falls below n d eps max_k (X^T X)_kk (the
 * rounding level of the formed X^T X); then no minimizer is installed. */
static int ld_least_squares(od_problem *p)
{
    const data_set *m = p->data;
    const size_t n = p->n, d = p->dim;
    double *G = od_vec_alloc(2 * d * d + d);
    if (!G) OD_ERRORF(OD_ENOMEM, "%s: out of memory for X^T X (d = %zu)", p->label, d);
    double *L = G + d * d, *w = L + d * d;
    /* G = X^T X by gemm: with GSL's reference CBLAS, dsyrk on a transposed row-major operand is
     * several times slower than the full product despite half the flops */
    od_gemm(1, 0, d, d, n, 1.0, m->X, m->X, 0.0, G);
    od_gemv(1, n, d, 1.0, m->X, m->y, 0.0, w);
    int status = OD_OK;
    if (od_cholesky(d, G, L) == OD_OK) {
        double gmax = 0.0, lmin = INFINITY;
        for (size_t k = 0; k < d; k++) {
            gmax = fmax(gmax, G[k * d + k]);
            lmin = fmin(lmin, L[k * d + k] * L[k * d + k]);
        }
        if (lmin > (double)n * (double)d * DBL_EPSILON * gmax) {
            cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, (int)d, L, (int)d, w,
                        1);
            cblas_dtrsv(CblasRowMajor, CblasLower, CblasTrans, CblasNonUnit, (int)d, L, (int)d, w, 1);
            status = set_xstar(p, w);
        }
    } else {
        od_clear_error();   /* rank deficient: no unique minimizer, not an error */
    }
    od_free(G);
    return status;
}

int od_problem_linreg_data(size_t n, size_t d, const double *X, const double *y, od_problem **out)
{
    static const char *who = "od_problem_linreg_data";
    if (!out) OD_ERRORF(OD_EINVAL, "%s: NULL output", who);
    *out = NULL;
    od_problem *p;
    OD_TRY(data_problem(who, &linreg_data_type, n, d, X, y, &p));
    snprintf(p->label, sizeof p->label, "linreg-data: n=%zu, d=%zu", n, d);
    /* full column rank needs n >= d; the O(n d^2 + d^3) solve is done up to LSQ_MAX_DIM */
    int status = (n >= d && d <= LSQ_MAX_DIM) ? ld_least_squares(p) : OD_OK;
    if (status != OD_OK) {
        od_problem_free(p);
        *out = NULL;
        return status;
    }
    *out = p;
    return OD_OK;
}

/* ---- logistic regression: f_i(w) = log(1 + exp(-y_i <x_i, w>)) + ridge/2 ||w||^2 --------------
 * With the margin m = y <x, w>:  l(m) = log(1 + e^-m),  l'(m) = -sigma(-m),
 * l''(m) = sigma(m) sigma(-m).  Each is evaluated on the branch where exp() cannot overflow:
 *      l(m)        = log1p(e^-m)          (m > 0)    = -m + log1p(e^m)        (m <= 0)
 *      sigma(-m)   = e^-m / (1 + e^-m)    (m >= 0)   = 1 / (1 + e^m)          (m < 0)
 *      l''(m)      = e / (1 + e)^2 with e = e^-|m|.                                              */

static double logistic_loss(double m) { return m > 0 ? log1p(exp(-m)) : -m + log1p(exp(m)); }

static double sigmoid_neg(double m)
{
    if (m >= 0) {
        const double e = exp(-m);
        return e / (1.0 + e);
    }
    return 1.0 / (1.0 + exp(m));
}

static double logistic_curv(double m)
{
    const double e = exp(-fabs(m));
    return e / ((1.0 + e) * (1.0 + e));
}

static double lr_margin(const od_problem *p, const double *w, size_t i)
{
    const data_set *m = p->data;
    return m->y[i] * od_dot(p->dim, m->X + i * p->dim, w);
}

/* c_i(w) with grad of the data term of f_i = c_i x_i: c_i = -y_i sigma(-m_i). */
static double lr_coef(const od_problem *p, const double *w, size_t i)
{
    const data_set *m = p->data;
    return -m->y[i] * sigmoid_neg(lr_margin(p, w, i));
}

static double half_ridge_sq(const od_problem *p, const double *w)
{
    const data_set *m = p->data;
    return m->ridge == 0.0 ? 0.0 : 0.5 * m->ridge * od_dot(p->dim, w, w);
}

static int lr_loss(const od_problem *p, const double *w, double *f)
{
    double acc = 0.0;
    for (size_t i = 0; i < p->n; i++) acc += logistic_loss(lr_margin(p, w, i));
    *f = acc / (double)p->n + half_ridge_sq(p, w);
    return OD_OK;
}

static int lr_grad(const od_problem *p, const double *w, double *g, double *f)
{
    const data_set *m = p->data;
    const size_t d = p->dim;
    double acc = 0.0;
    od_zero(d, g);
    for (size_t i = 0; i < p->n; i++) {
        const double mi = lr_margin(p, w, i);
        od_axpy(d, -m->y[i] * sigmoid_neg(mi), m->X + i * d, g);
        acc += logistic_loss(mi);
    }
    od_scal(d, 1.0 / (double)p->n, g);
    if (m->ridge != 0.0) od_axpy(d, m->ridge, w, g);
    if (f) *f = acc / (double)p->n + half_ridge_sq(p, w);
    return OD_OK;
}

static int lr_hvp(const od_problem *p, const double *w, const double *v, double *hv)
{
    const data_set *m = p->data;
    const size_t d = p->dim;
    od_zero(d, hv);
    for (size_t i = 0; i < p->n; i++) {
        const double *xi = m->X + i * d;
        od_axpy(d, logistic_curv(lr_margin(p, w, i)) * od_dot(d, xi, v), xi, hv);
    }
    od_scal(d, 1.0 / (double)p->n, hv);
    if (m->ridge != 0.0) od_axpy(d, m->ridge, v, hv);
    return OD_OK;
}

static int lr_sample_loss(const od_problem *p, const double *w, size_t i, double *fi)
{
    *fi = logistic_loss(lr_margin(p, w, i)) + half_ridge_sq(p, w);
    return OD_OK;
}

static int lr_sample_grad(const od_problem *p, const double *w, size_t i, double *gi)
{
    const data_set *m = p->data;
    od_copy(p->dim, m->X + i * p->dim, gi);
    od_scal(p->dim, lr_coef(p, w, i), gi);
    if (m->ridge != 0.0) od_axpy(p->dim, m->ridge, w, gi);
    return OD_OK;
}

static int lr_sample_hvp(const od_problem *p, const double *w, size_t i, const double *v,
                         double *hv)
{
    const data_set *m = p->data;
    const double *xi = m->X + i * p->dim;
    od_copy(p->dim, xi, hv);
    od_scal(p->dim, logistic_curv(lr_margin(p, w, i)) * od_dot(p->dim, xi, v), hv);
    if (m->ridge != 0.0) od_axpy(p->dim, m->ridge, v, hv);
    return OD_OK;
}

static int lr_batch_grad(const od_problem *p, const double *w, size_t B, od_stream *s, double *g,
                         double *f)
{
    const data_set *m = p->data;
    const size_t d = p->dim;
    double acc = 0.0;
    od_zero(d, g);
    for (size_t b = 0; b < B; b++) {
        const uint32_t i = od_stream_below(s, (uint32_t)p->n);
        const double mi = lr_margin(p, w, i);
        od_axpy(d, -m->y[i] * sigmoid_neg(mi), m->X + (size_t)i * d, g);
        acc += logistic_loss(mi);
    }
    od_scal(d, 1.0 / (double)B, g);
    if (m->ridge != 0.0) od_axpy(d, m->ridge, w, g);
    if (f) *f = acc / (double)B + half_ridge_sq(p, w);
    return OD_OK;
}

static int lr_noise_sample(const od_problem *p, const double *w, od_stream *s, double *out)
{
    return rowwise_noise_sample(p, w, s, out, lr_coef);
}

static const od_problem_type logreg_type = {
    .name = "logreg",
    .loss = lr_loss,
    .grad = lr_grad,
    .hvp = lr_hvp,
    .batch_grad = lr_batch_grad,
    .sample_grads = od_problem_finite_sample_grads,
    .sample_loss = lr_sample_loss,
    .sample_grad = lr_sample_grad,
    .sample_hvp = lr_sample_hvp,
    .noise_cov = od_problem_finite_noise_cov,
    .noise_sample = lr_noise_sample,
    .free_data = ds_free,
};

int od_problem_logreg_data(size_t n, size_t d, const double *X, const double *y, double ridge,
                           od_problem **out)
{
    static const char *who = "od_problem_logreg_data";
    if (!out) OD_ERRORF(OD_EINVAL, "%s: NULL output", who);
    *out = NULL;
    if (!isfinite(ridge) || ridge < 0)
        OD_ERRORF(OD_EINVAL, "%s: ridge = %g must be finite and >= 0", who, ridge);
    for (size_t i = 0; y && i < n; i++)
        if (y[i] != 1.0 && y[i] != -1.0)
            OD_ERRORF(OD_EINVAL, "%s: label y[%zu] = %g is not -1 or +1", who, i, y[i]);
    od_problem *p;
    OD_TRY(data_problem(who, &logreg_type, n, d, X, y, &p));
    ((data_set *)p->data)->ridge = ridge;
    snprintf(p->label, sizeof p->label, "logreg: n=%zu, d=%zu, ridge=%.4g", n, d, ridge);
    *out = p;
    return OD_OK;
}

/* =================================================================================================
 * Registry entries
 * ================================================================================================= */

/* "name: k=v, k=v, ..." from the values of the table (the label of a problem built by name). */
static void label_from_params(od_problem *p, const char *name, const od_params *v)
{
    size_t used = (size_t)snprintf(p->label, sizeof p->label, "%s:", name);
    for (size_t i = 0; i < v->n && used < sizeof p->label; i++) {
        char val[64];
        if (v->spec[i].type == OD_PARAM_DOUBLE)   /* short, not the round-trip %.17g */
            snprintf(val, sizeof val, "%.6g", v->num[i]);
        else
            od_params_value_str(v, i, val, sizeof val);
        used += (size_t)snprintf(p->label + used, sizeof p->label - used, "%s %s=%s",
                                 i ? "," : "", v->spec[i].name, val);
    }
}

/* Reads the '|'-separated list of key into out[0..d): one value is broadcast, otherwise exactly d
 * values are needed.  Errors name the problem and the key. */
static int param_list(const od_params *v, const char *problem, const char *key, size_t d,
                      double *out)
{
    char what[96];
    snprintf(what, sizeof what, "%s: key '%s'", problem, key);
    size_t k = 0;
    OD_TRY(od_parse_doubles(od_params_str(v, key), '|', out, d, &k, what));
    if (k == 1) {
        for (size_t i = 1; i < d; i++) out[i] = out[0];
    } else if (k != d) {
        OD_ERRORF(OD_EBADSIZE, "%s has %zu values; give 1 (broadcast) or d = %zu", what, k, d);
    }
    return OD_OK;
}

/* Sizes from the table: the ranges were checked by od_params_set, so the casts are exact. */
static size_t param_size(const od_params *v, const char *key) { return (size_t)od_params_int(v, key); }

/* Gives the problem built by an entry its label, or frees it on error. */
static int finish(int status, od_problem *p, const char *name, const od_params *v, od_problem **out)
{
    if (status != OD_OK) {
        od_problem_free(p);
        *out = NULL;
        return status;
    }
    label_from_params(p, name, v);
    *out = p;
    return OD_OK;
}

/* ---- quadratic --------------------------------------------------------------------------------- */

static const od_param quadratic_params[] = {
    {"d", OD_PARAM_INT, 10, OD_SAME, 1, 1e7, 0, NULL, NULL, "dimension"},
    {"lambda", OD_PARAM_STRING, 0, OD_SAME, 0, 0, 0, NULL, "1",
     "curvatures lambda_k, any sign: one value (broadcast) or d values separated by '|'"},
    {"noise", OD_PARAM_STRING, 0, OD_SAME, 0, 0, 0, NULL, "0.1",
     "gradient-noise standard deviation s_k >= 0: one value or d values"},
    {"center", OD_PARAM_STRING, 0, OD_SAME, 0, 0, 0, NULL, "1",
     "center c (the minimizer when every lambda_k > 0): one value or d values"},
};

static int quadratic_build(const od_params *v, uint64_t seed, od_problem **out)
{
    (void)seed;
    *out = NULL;
    const size_t d = param_size(v, "d");
    double *buf = od_vec_alloc(3 * d);
    if (!buf) OD_ERRORF(OD_ENOMEM, "quadratic: out of memory (d = %zu)", d);
    double *lambda = buf, *sd = buf + d, *c = buf + 2 * d;
    int status = param_list(v, "quadratic", "lambda", d, lambda);
    if (status == OD_OK) status = param_list(v, "quadratic", "noise", d, sd);
    if (status == OD_OK) status = param_list(v, "quadratic", "center", d, c);
    for (size_t k = 0; status == OD_OK && k < d; k++)
        if (sd[k] < 0)
            status = od_error(OD_ERANGE, __FILE__, __LINE__,
                              "quadratic: key 'noise' = %g is negative (a standard deviation)", sd[k]);
    od_problem *p = NULL;
    if (status == OD_OK) status = od_problem_quadratic_diag(d, lambda, c, sd, &p);
    od_free(buf);
    return finish(status, p, "quadratic", v, out);
}

/* ---- dense-quadratic --------------------------------------------------------------------------- */

/* Q (row-major d-by-d) Haar-distributed on O(d): the Q factor of a Gaussian matrix G = Q R with the
 * signs fixed so that diag R > 0 (without that, Householder QR does not give the Haar measure;
 * Mezzadri, "How to generate random matrices from the classical compact groups", 2007). */
static int haar_orthogonal(size_t d, od_stream *s, double *Q)
{
    gsl_matrix *G = gsl_matrix_alloc(d, d), *Qm = gsl_matrix_alloc(d, d),
               *R = gsl_matrix_alloc(d, d);
    gsl_vector *tau = gsl_vector_alloc(d);
    int status = OD_OK;
    if (!G || !Qm || !R || !tau) {
        status = od_error(OD_ENOMEM, __FILE__, __LINE__, "dense-quadratic: out of memory (d = %zu)", d);
    } else {
        for (size_t i = 0; i < d; i++)
            for (size_t j = 0; j < d; j++) gsl_matrix_set(G, i, j, od_stream_normal(s));
        int gs = gsl_linalg_QR_decomp(G, tau);
        if (gs == GSL_SUCCESS) gs = gsl_linalg_QR_unpack(G, tau, Qm, R);
        if (gs != GSL_SUCCESS) {
            status = od_error(OD_EGSL, __FILE__, __LINE__, "dense-quadratic: QR failed: %s",
                              gsl_strerror(gs));
        } else {
            for (size_t j = 0; j < d; j++) {
                const double sgn = gsl_matrix_get(R, j, j) < 0 ? -1.0 : 1.0;
                for (size_t i = 0; i < d; i++) Q[i * d + j] = sgn * gsl_matrix_get(Qm, i, j);
            }
        }
    }
    gsl_matrix_free(G);
    gsl_matrix_free(Qm);
    gsl_matrix_free(R);
    gsl_vector_free(tau);
    return status;
}

static const od_param dense_quadratic_params[] = {
    {"d", OD_PARAM_INT, 10, OD_SAME, 1, 4096, 0, NULL, NULL, "dimension"},
    {"cond", OD_PARAM_DOUBLE, 100, OD_SAME, 1, 1e16, 0, NULL, NULL,
     "condition number: eigenvalues log-spaced from 1 down to 1/cond"},
    {"noise", OD_PARAM_DOUBLE, 0.1, OD_SAME, 0, INFINITY, OD_HI_OPEN, NULL, NULL,
     "gradient-noise scale s: covariance S = s^2 I (iso) or s^2 A (hessian)"},
    {"noise_shape", OD_PARAM_CHOICE, 0, OD_SAME, 0, 0, 0, "iso|hessian", NULL,
     "shape of the gradient-noise covariance"},
    {"center", OD_PARAM_DOUBLE, 1, OD_SAME, -INFINITY, INFINITY, OD_LO_OPEN | OD_HI_OPEN, NULL, NULL,
     "every coordinate of the minimizer c"},
};

static int dense_quadratic_build(const od_params *v, uint64_t seed, od_problem **out)
{
    *out = NULL;
    const size_t d = param_size(v, "d");
    const double cond = od_params_num(v, "cond"), s = od_params_num(v, "noise");
    const int hess_noise = od_params_int(v, "noise_shape") == 1;
    double *buf = od_vec_alloc(4 * d * d + 2 * d);
    if (!buf) OD_ERRORF(OD_ENOMEM, "dense-quadratic: out of memory (d = %zu)", d);
    double *Q = buf, *QD = Q + d * d, *A = QD + d * d, *S = A + d * d, *mu = S + d * d, *c = mu + d;
    od_stream st;
    od_stream_init(&st, seed, STREAM_MODEL);
    int status = haar_orthogonal(d, &st, Q);
    od_problem *p = NULL;
    if (status == OD_OK) {
        for (size_t k = 0; k < d; k++)
            mu[k] = d == 1 ? 1.0 : pow(cond, -(double)k / (double)(d - 1));
        for (size_t i = 0; i < d; i++)
            for (size_t k = 0; k < d; k++) QD[i * d + k] = Q[i * d + k] * mu[k];
        od_gemm(0, 1, d, d, d, 1.0, QD, Q, 0.0, A);   /* A = Q diag(mu) Q^T */
        for (size_t i = 0; i < d; i++)
            for (size_t j = 0; j < i; j++) A[i * d + j] = A[j * d + i] = 0.5 * (A[i * d + j] + A[j * d + i]);
        for (size_t i = 0; i < d * d; i++) S[i] = hess_noise ? s * s * A[i] : 0.0;
        if (!hess_noise)
            for (size_t i = 0; i < d; i++) S[i * d + i] = s * s;
        for (size_t k = 0; k < d; k++) c[k] = od_params_num(v, "center");
        status = od_problem_quadratic_dense(d, A, c, s > 0 ? S : NULL, &p);
    }
    od_free(buf);
    return finish(status, p, "dense-quadratic", v, out);
}

/* ---- linreg (streaming) ------------------------------------------------------------------------ */

static const od_param linreg_params[] = {
    {"d", OD_PARAM_INT, 100, OD_SAME, 1, 1e8, 0, NULL, NULL, "dimension"},
    {"exp", OD_PARAM_DOUBLE, 2, OD_SAME, 0, 100, 0, NULL, NULL,
     "power-law exponent of the spectrum: lambda_k = k^-exp, k = 1..d"},
    {"sigma2", OD_PARAM_DOUBLE, 0.1, OD_SAME, 0, INFINITY, OD_HI_OPEN, NULL, NULL,
     "label-noise variance sigma^2"},
    {"wstar", OD_PARAM_DOUBLE, 1, OD_SAME, -INFINITY, INFINITY, OD_LO_OPEN | OD_HI_OPEN, NULL, NULL,
     "value of every coordinate of the teacher w*"},
};

static void powerlaw(size_t d, double e, double *lambda)
{
    for (size_t k = 0; k < d; k++) lambda[k] = pow((double)(k + 1), -e);
}

static int linreg_build(const od_params *v, uint64_t seed, od_problem **out)
{
    (void)seed;
    *out = NULL;
    const size_t d = param_size(v, "d");
    double *buf = od_vec_alloc(2 * d);
    if (!buf) OD_ERRORF(OD_ENOMEM, "linreg: out of memory (d = %zu)", d);
    powerlaw(d, od_params_num(v, "exp"), buf);
    for (size_t k = 0; k < d; k++) buf[d + k] = od_params_num(v, "wstar");
    od_problem *p = NULL;
    int status = od_problem_linreg_stream(d, buf, buf + d, od_params_num(v, "sigma2"), &p);
    od_free(buf);
    return finish(status, p, "linreg", v, out);
}

/* ---- linreg-data ------------------------------------------------------------------------------- */

static const od_param linreg_data_params[] = {
    {"n", OD_PARAM_INT, 200, OD_SAME, 1, 1e8, 0, NULL, NULL, "number of samples"},
    {"d", OD_PARAM_INT, 20, OD_SAME, 1, 1e5, 0, NULL, NULL, "dimension"},
    {"exp", OD_PARAM_DOUBLE, 1, OD_SAME, 0, 100, 0, NULL, NULL,
     "power-law exponent of the population covariance: lambda_k = k^-exp"},
    {"sigma2", OD_PARAM_DOUBLE, 0.1, OD_SAME, 0, INFINITY, OD_HI_OPEN, NULL, NULL,
     "label-noise variance sigma^2"},
    {"wstar", OD_PARAM_DOUBLE, 1, OD_SAME, -INFINITY, INFINITY, OD_LO_OPEN | OD_HI_OPEN, NULL, NULL,
     "value of every coordinate of the teacher w*"},
};

/* n * d doubles at most for a data set built by name (2^27 doubles = 1 GiB). */
static int check_data_size(const char *problem, size_t n, size_t d)
{
    if ((double)n * (double)d > 134217728.0)
        OD_ERRORF(OD_ERANGE, "%s: keys 'n' = %zu and 'd' = %zu give a data set of %.3g doubles, more "
                  "than 2^27", problem, n, d, (double)n * (double)d);
    return OD_OK;
}

static int linreg_data_build(const od_params *v, uint64_t seed, od_problem **out)
{
    *out = NULL;
    const size_t n = param_size(v, "n"), d = param_size(v, "d");
    OD_TRY(check_data_size("linreg-data", n, d));
    const double sigma = sqrt(od_params_num(v, "sigma2")), ws = od_params_num(v, "wstar");
    double *X = od_vec_alloc(n * d + n + d);
    if (!X) OD_ERRORF(OD_ENOMEM, "linreg-data: out of memory (n = %zu, d = %zu)", n, d);
    double *y = X + n * d, *sql = y + n;
    powerlaw(d, od_params_num(v, "exp"), sql);
    for (size_t k = 0; k < d; k++) sql[k] = sqrt(sql[k]);
    od_stream sx, sy;
    od_stream_init(&sx, seed, STREAM_DATA);
    od_stream_init(&sy, seed, STREAM_LABEL);
    for (size_t i = 0; i < n; i++) {
        double *xi = X + i * d, dot = 0.0;
        od_stream_seek(&sx, (uint32_t)i, 0);
        od_stream_seek(&sy, (uint32_t)i, 0);
        for (size_t k = 0; k < d; k++) {
            xi[k] = sql[k] * od_stream_normal(&sx);
            dot += ws * xi[k];
        }
        y[i] = dot + sigma * od_stream_normal(&sy);
    }
    od_problem *p = NULL;
    int status = od_problem_linreg_data(n, d, X, y, &p);
    od_free(X);
    return finish(status, p, "linreg-data", v, out);
}

/* ---- logreg ------------------------------------------------------------------------------------ */

static const od_param logreg_params[] = {
    {"n", OD_PARAM_INT, 200, OD_SAME, 1, 1e8, 0, NULL, NULL, "number of samples"},
    {"d", OD_PARAM_INT, 10, OD_SAME, 1, 1e5, 0, NULL, NULL, "dimension"},
    {"ridge", OD_PARAM_DOUBLE, 1e-3, OD_SAME, 0, INFINITY, OD_HI_OPEN, NULL, NULL,
     "ridge (L2) penalty: f_i += ridge/2 ||w||^2"},
    {"scale", OD_PARAM_DOUBLE, 2, OD_SAME, 0, 1e3, 0, NULL, NULL,
     "norm of the teacher; the teacher's margins are N(0, scale^2), larger is less label noise"},
};

/* X_ij ~ N(0, 1); a teacher u of norm `scale` in a uniformly random direction; labels
 * y_i = +1 with probability sigma(<u, x_i>) (the logistic link), else -1. */
static int logreg_build(const od_params *v, uint64_t seed, od_problem **out)
{
    *out = NULL;
    const size_t n = param_size(v, "n"), d = param_size(v, "d");
    OD_TRY(check_data_size("logreg", n, d));
    double *X = od_vec_alloc(n * d + n + d);
    if (!X) OD_ERRORF(OD_ENOMEM, "logreg: out of memory (n = %zu, d = %zu)", n, d);
    double *y = X + n * d, *u = y + n;
    od_stream s;
    od_stream_init(&s, seed, STREAM_MODEL);
    od_stream_normals(&s, u, d);
    const double nu = od_nrm2(d, u);
    od_scal(d, nu > 0 ? od_params_num(v, "scale") / nu : 0.0, u);
    od_stream sx, sy;
    od_stream_init(&sx, seed, STREAM_DATA);
    od_stream_init(&sy, seed, STREAM_LABEL);
    for (size_t i = 0; i < n; i++) {
        double *xi = X + i * d;
        od_stream_seek(&sx, (uint32_t)i, 0);
        od_stream_seek(&sy, (uint32_t)i, 0);
        od_stream_normals(&sx, xi, d);
        /* P(y = +1) = sigma(t) = 1 - sigma(-t) */
        y[i] = od_stream_uniform(&sy) < 1.0 - sigmoid_neg(od_dot(d, u, xi)) ? 1.0 : -1.0;
    }
    od_problem *p = NULL;
    int status = od_problem_logreg_data(n, d, X, y, od_params_num(v, "ridge"), &p);
    od_free(X);
    return finish(status, p, "logreg", v, out);
}

/* ---- the catalog ------------------------------------------------------------------------------- */

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const od_problem_entry entry_quadratic = {
    "quadratic", "diagonal quadratic 1/2 sum lambda_k (x_k - c_k)^2 with additive Gaussian gradient "
    "noise (saddles allowed)", quadratic_params, N_OF(quadratic_params), quadratic_build};
static const od_problem_entry entry_dense_quadratic = {
    "dense-quadratic", "quadratic with a Haar-rotated Hessian of log-spaced eigenvalues and Gaussian "
    "gradient noise", dense_quadratic_params, N_OF(dense_quadratic_params), dense_quadratic_build};
static const od_problem_entry entry_linreg = {
    "linreg", "streaming Gaussian linear regression with power-law spectrum lambda_k = k^-exp",
    linreg_params, N_OF(linreg_params), linreg_build};
static const od_problem_entry entry_linreg_data = {
    "linreg-data", "linear regression on n Gaussian samples with power-law covariance",
    linreg_data_params, N_OF(linreg_data_params), linreg_data_build};
static const od_problem_entry entry_logreg = {
    "logreg", "ridge logistic regression on Gaussian data labelled by a logistic teacher",
    logreg_params, N_OF(logreg_params), logreg_build};

const od_problem_entry *const od_core_problems[] = {
    &entry_quadratic, &entry_dense_quadratic, &entry_linreg, &entry_linreg_data, &entry_logreg, NULL};
