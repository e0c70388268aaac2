/* optdyn core — the built-in Gaussian linear regressions (contracts in problem.h):
 *
 *      linreg        streaming: x = sqrt(lambda) (.) z, y = <wstar, x> + sigma xi, fresh samples
 *      linreg-data   a finite data set X, y: f(w) = (1/2n) ||X w - y||^2
 *
 * Their draws come from the caller's stream at its current position.  Per sample, in this order:
 *      linreg (streaming)   d normals z (x = sqrt(lambda) (.) z), then 1 normal (label noise)
 *      linreg-data          1 index from od_stream_below(n)
 */
#include "core/problem.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <gsl/gsl_cblas.h>

#include "core/linalg.h"
#include "core/problem_impl.h"
#include "core/status.h"

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

/* dl^T H dl with dl = w - wstar: twice the excess loss. */
static double ls_excess2(const linreg_stream *m, size_t d, const double *w)
{
    double acc = 0.0;
    for (size_t k = 0; k < d; k++) {
        double dk = w[k] - m->wstar[k];
        acc += m->lambda[k] * dk * dk;
    }
    return acc;
}

static int ls_loss(const od_problem *p, const double *w, double *f)
{
    const linreg_stream *m = p->data;
    *f = 0.5 * (m->sigma2 + ls_excess2(m, p->dim, w));
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
    const double q = ls_excess2(m, d, w);
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
    const double a = sqrt(ls_excess2(m, d, w) + m->sigma2);
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
    double *block;
    od_problem *p = od_problem_impl_alloc(&linreg_stream_type, d, 0, sizeof(linreg_stream), 3 * d,
                                          &block);
    if (!p) OD_ERRORF(OD_ENOMEM, "%s: out of memory (d = %zu)", who, d);
    linreg_stream *m = p->data;
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
    return hand_over(set_xstar(p, m->wstar), p, out);   /* f(wstar) = sigma2 / 2 */
}


/* =================================================================================================
 * Linear regression on a finite data set: f_i(w) = 1/2 (<x_i, w> - y_i)^2.
 * ================================================================================================= */

static double ld_resid(const od_problem *p, const double *w, size_t i)
{
    const data_set *m = p->data;
    return od_dot(p->dim, m->X + i * p->dim, w) - m->y[i];
}

/* c_i = r_i, the data term 1/2 r_i^2 (the minibatch gradient and the noise sampler need these) */
static double ld_coef(const od_problem *p, const double *w, size_t i, double *loss)
{
    const double r = ld_resid(p, w, i);
    if (loss) *loss = 0.5 * r * r;
    return r;
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


static const od_problem_type linreg_data_type = {
    .name = "linreg-data",
    .loss = ld_loss,
    .grad = ld_grad,
    .hvp = ld_hvp,
    .batch_grad = od_problem_impl_data_batch_grad,
    .sample_grads = od_problem_finite_sample_grads,
    .sample_loss = ld_sample_loss,
    .sample_grad = ld_sample_grad,
    .sample_hvp = ld_sample_hvp,
    .noise_cov = od_problem_finite_noise_cov,
    .noise_sample = od_problem_impl_data_noise_sample,
    .free_data = od_problem_impl_data_free,
};

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
    int status = od_cholesky(d, G, L);
    if (status == OD_OK) {
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
    } else if (status == OD_ENUMERIC) {
        status = OD_OK;   /* rank deficient: no unique minimizer, not an error */
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
    OD_TRY(od_problem_impl_data_problem(who, &linreg_data_type, ld_coef, n, d, X, y, &p));
    snprintf(p->label, sizeof p->label, "linreg-data: n=%zu, d=%zu", n, d);
    /* full column rank needs n >= d; the O(n d^2 + d^3) solve is done up to LSQ_MAX_DIM */
    return hand_over((n >= d && d <= LSQ_MAX_DIM) ? ld_least_squares(p) : OD_OK, p, out);
}

