/* optdyn core — the built-in quadratics (contracts in problem.h):
 *
 *      quadratic         f(x) = 1/2 sum_k lambda_k (x_k - c_k)^2, gradient noise s (.) z
 *      dense-quadratic   f(x) = 1/2 (x - c)^T A (x - c), gradient noise L z with L L^T = S
 *
 * Both are streaming problems with additive Gaussian gradient noise.  Their draws come from the
 * caller's stream at its current position: per sample, d normals z (none if noise-free).
 */
#include "core/problem.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/linalg.h"
#include "core/problem_impl.h"
#include "core/status.h"

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

/* g = grad f + s (.) (1/B) sum_b z_b: the B samples' normals are drawn in bulk (the same numbers as
 * one at a time) and summed in g first. */
static int qd_batch_grad(const od_problem *p, const double *x, size_t B, od_stream *s, double *g,
                         double *f)
{
    const quad_diag *q = p->data;
    const size_t d = p->dim;
    od_zero(d, g);
    if (q->noisy) {
        if (B == 1) {
            od_stream_normals(s, g, d);
        } else {
            scratch sc;
            SCRATCH_OR_FAIL(sc, d, z);
            for (size_t b = 0; b < B; b++) {
                od_stream_normals(s, z, d);
                for (size_t k = 0; k < d; k++) g[k] += z[k];
            }
            scratch_release(&sc);
        }
    }
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
        if (q->noisy) {
            od_stream_normals(s, row, d);
            for (size_t k = 0; k < d; k++) row[k] = q->lambda[k] * (x[k] - q->c[k]) + q->sd[k] * row[k];
        } else {
            qd_grad(p, x, row, NULL);
        }
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
    od_stream_normals(s, out, p->dim);
    for (size_t k = 0; k < p->dim; k++) out[k] *= q->sd[k];
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
    double *block;
    od_problem *p = od_problem_impl_alloc(&quad_diag_type, d, 0, sizeof(quad_diag), 3 * d, &block);
    if (!p) OD_ERRORF(OD_ENOMEM, "%s: out of memory (d = %zu)", who, d);
    quad_diag *q = p->data;
    q->lambda = block;
    q->c = block + d;
    q->sd = block + 2 * d;
    od_copy(d, lambda, q->lambda);
    if (c) od_copy(d, c, q->c);
    if (noise_sd) od_copy(d, noise_sd, q->sd);
    q->noisy = 0;
    for (size_t k = 0; k < d; k++) q->noisy |= q->sd[k] != 0.0;
    p->noise = OD_NOISE_CONSTANT | OD_NOISE_DIAGONAL;

    double lo, hi, slo, shi;
    minmax(d, q->lambda, &lo, &hi);
    minmax(d, q->sd, &slo, &shi);
    snprintf(p->label, sizeof p->label, "quadratic: d=%zu, lambda in [%.4g, %.4g], noise sd <= %.4g",
             d, lo, hi, shi);
    return hand_over(lo > 0 ? set_xstar(p, q->c) : OD_OK, p, out);
}

int od_problem_quadratic_diag_view(const od_problem *p, od_quadratic_diag_view *v)
{
    if (!p || p->type != &quad_diag_type) return 0;
    const quad_diag *q = p->data;
    *v = (od_quadratic_diag_view){.lambda = q->lambda, .c = q->c, .sd = q->sd, .noisy = q->noisy};
    return 1;
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
        for (size_t b = 0; b < B; b++) {
            od_stream_normals(s, u, d);   /* u is free once g is formed */
            for (size_t k = 0; k < d; k++) zsum[k] += u[k];
        }
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


/* L with L L^T = S for a symmetric positive semi-definite S: the Cholesky factor when S is positive
 * definite, else V diag(sqrt(max(mu, 0))) from the eigendecomposition S = V diag(mu) V^T.  An
 * eigenvalue below -16 d eps max|mu| (beyond the backward error of the eigensolver) means S is
 * indefinite, which is an error; the ones above it are rounding of a zero and are clipped. */
static int noise_factor(const char *who, size_t d, const double *S, double *L)
{
    const int chol = od_cholesky(d, S, L);
    if (chol != OD_ENUMERIC) return chol;   /* factored, or out of memory */
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
    double *block;
    od_problem *p = od_problem_impl_alloc(&quad_dense_type, d, 0, sizeof(quad_dense), 3 * d * d + d,
                                          &block);
    if (!p) OD_ERRORF(OD_ENOMEM, "%s: out of memory (d = %zu)", who, d);
    quad_dense *q = p->data;
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
    p->noise = OD_NOISE_CONSTANT;
    int diagonal = 1;
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++) diagonal &= i == j || q->S[i * d + j] == 0.0;
    if (diagonal) p->noise |= OD_NOISE_DIAGONAL;
    if (status == OD_OK) {
        snprintf(p->label, sizeof p->label, "dense-quadratic: d=%zu%s", d,
                 q->noisy ? ", gaussian gradient noise" : "");
        /* c is the minimizer when A is positive definite (a successful Cholesky says so) */
        double *tmp = od_vec_alloc(d * d);
        if (!tmp) {
            status = od_error(OD_ENOMEM, __FILE__, __LINE__, "%s: out of memory", who);
        } else {
            const int chol = od_cholesky(d, q->A, tmp);
            od_free(tmp);
            if (chol == OD_OK) status = set_xstar(p, q->c);
            else if (chol != OD_ENUMERIC) status = chol;   /* out of memory */
        }
    }
    return hand_over(status, p, out);
}

