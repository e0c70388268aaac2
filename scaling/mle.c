/* optdyn scaling — the Huber likelihood of Besiroglu et al. (2024) (theory sheet §2.6): its
 * normalising constant, the negative log-likelihood with its gradient, the profile over the scale,
 * the maximum-likelihood fit and the likelihood-ratio comparison with a published law.
 *
 * Huber_delta(r/sigma) = Huber_{delta sigma}(r) / sigma^2, so the objective's kernel at threshold
 * delta sigma gives both the likelihood and its gradient.
 *
 * The fit.  At the optimum sigma is tiny (about 5e-6 on the Chinchilla data), every scaled residual
 * lies on the linear part, and the likelihood is piecewise linear in the residuals: its minimum is
 * a vertex where a few residuals vanish, where BFGS stalls (its curvature model is meaningless
 * there) and Nelder-Mead wanders.  Iteratively reweighted least squares is the classical method for
 * Huber M-estimation and handles the vertex: with sigma fixed, Huber(r/sigma) is majorised at the
 * current residuals by w_i r_i^2 / 2 with w_i = min(1, delta sigma / |r_i|) (the Huber weights), so
 * one weighted Gauss-Newton step on sum w_i (r_i + J_i step)^2 followed by a backtracking line search
 * on the likelihood profiled over s decreases it; s is then re-profiled.  On the Chinchilla data
 * this reaches Epoch's published estimate. */
#include "scaling/scaling_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_roots.h>

double od_scaling_huber_log_z(double delta)
{
    /* exp(-Huber_delta(x)) integrates to sqrt(2 pi)(1 - 2 Q(delta)) over |x| <= delta and to
     * 2 exp(-delta^2/2)/delta over the two linear tails */
    return log(sqrt(2 * M_PI) * (1 - 2 * gsl_cdf_ugaussian_Q(delta)) +
               2 * exp(-0.5 * delta * delta) / delta);
}

static double weight_sum(const od_scaling_data *d)
{
    if (!d->w) return (double)d->n;
    double s = 0;
    for (size_t i = 0; i < d->n; i++) s += d->w[i];
    return s;
}

double od_scaling_nll(const od_scaling_data *d, const double x[OD_SCALING_NPAR + 1], double delta,
                      double grad[OD_SCALING_NPAR + 1])
{
    const double s = x[OD_SCALING_NPAR], sigma = exp(s), inv2 = 1.0 / (sigma * sigma);
    double g[OD_SCALING_NPAR], sp;
    double J = od_scaling_kernel(d, x, delta * sigma, grad ? g : NULL, &sp);
    double nll = J * inv2 + weight_sum(d) * (od_scaling_huber_log_z(delta) + s);
    if (grad) {
        for (int k = 0; k < OD_SCALING_NPAR; k++) grad[k] = g[k] * inv2;
        /* sum psi_delta(r/sigma) r/sigma = S_psi / sigma^2 */
        grad[OD_SCALING_NPAR] = weight_sum(d) - sp * inv2;
    }
    return isfinite(nll) ? nll : INFINITY;
}

typedef struct {
    const od_scaling_data *d;
    const double *theta;
    double delta;
} profile_arg;

/* d NLL / ds at fixed theta: increasing in s (NLL is convex in s). */
static double dnll_ds(double s, void *arg)
{
    const profile_arg *p = arg;
    double x[OD_SCALING_NPAR + 1], g[OD_SCALING_NPAR + 1];
    memcpy(x, p->theta, OD_SCALING_NPAR * sizeof *x);
    x[OD_SCALING_NPAR] = s;
    od_scaling_nll(p->d, x, p->delta, g);
    return g[OD_SCALING_NPAR];
}

int od_scaling_nll_profile(const od_scaling_data *d, const double theta[OD_SCALING_NPAR],
                           double delta, double *nll, double *s_out)
{
    profile_arg arg = {d, theta, delta};
    gsl_function F = {dnll_ds, &arg};
    /* bracket the root of the increasing derivative, widening from [-1, 1] */
    double lo = -1, hi = 1;
    for (int k = 0; k < 9 && dnll_ds(lo, &arg) > 0; k++) lo = 2 * lo - 1;
    for (int k = 0; k < 9 && dnll_ds(hi, &arg) < 0; k++) hi = 2 * hi + 1;
    if (!(dnll_ds(lo, &arg) <= 0 && dnll_ds(hi, &arg) >= 0))
        OD_ERROR("Huber likelihood: no scale in [e^-1023, e^1023] is optimal (are the residuals "
                 "all zero?)", OD_ENUMERIC);
    gsl_root_fsolver *rs = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
    if (!rs) OD_ERROR("out of memory", OD_ENOMEM);
    gsl_root_fsolver_set(rs, &F, lo, hi);
    int st = GSL_CONTINUE;
    for (int it = 0; it < 200 && st == GSL_CONTINUE; it++) {
        if (gsl_root_fsolver_iterate(rs)) break;
        st = gsl_root_test_interval(gsl_root_fsolver_x_lower(rs), gsl_root_fsolver_x_upper(rs),
                                    1e-13, 0);
    }
    double s = gsl_root_fsolver_root(rs);
    gsl_root_fsolver_free(rs);
    if (st != GSL_SUCCESS) OD_ERROR("Huber likelihood: the scale did not converge", OD_ENUMERIC);
    double x[OD_SCALING_NPAR + 1];
    memcpy(x, theta, OD_SCALING_NPAR * sizeof *x);
    x[OD_SCALING_NPAR] = s;
    *nll = od_scaling_nll(d, x, delta, NULL);
    if (s_out) *s_out = s;
    return OD_OK;
}

/* ---- the maximum-likelihood fit by IRLS ------------------------------------------------------ */

typedef struct {
    size_t n;
    double *r, *J;
    gsl_matrix *X, *cov;
    gsl_vector *y, *w, *c;
    gsl_multifit_linear_workspace *lw;
} irls_ws;

static void irls_free(irls_ws *z)
{
    free(z->r);
    free(z->J);
    if (z->X) gsl_matrix_free(z->X);
    if (z->cov) gsl_matrix_free(z->cov);
    if (z->y) gsl_vector_free(z->y);
    if (z->w) gsl_vector_free(z->w);
    if (z->c) gsl_vector_free(z->c);
    if (z->lw) gsl_multifit_linear_free(z->lw);
}

static int irls_alloc(irls_ws *z, size_t n)
{
    memset(z, 0, sizeof *z);
    z->n = n;
    z->r = malloc(n * sizeof *z->r);
    z->J = malloc(n * OD_SCALING_NPAR * sizeof *z->J);
    z->X = gsl_matrix_alloc(n, OD_SCALING_NPAR);
    z->cov = gsl_matrix_alloc(OD_SCALING_NPAR, OD_SCALING_NPAR);
    z->y = gsl_vector_alloc(n);
    z->w = gsl_vector_alloc(n);
    z->c = gsl_vector_alloc(OD_SCALING_NPAR);
    z->lw = gsl_multifit_linear_alloc(n, OD_SCALING_NPAR);
    if (!z->r || !z->J || !z->X || !z->cov || !z->y || !z->w || !z->c || !z->lw) {
        irls_free(z);
        OD_ERROR("out of memory", OD_ENOMEM);
    }
    return OD_OK;
}

/* The weighted Gauss-Newton step for the Huber weights at threshold c = delta sigma. */
static int irls_step(irls_ws *z, const od_scaling_data *d, const double *theta, double c,
                     double *step)
{
    od_scaling_residuals(d, theta, z->r, z->J);
    for (size_t i = 0; i < z->n; i++) {
        double a = fabs(z->r[i]), wi = a > c ? c / a : 1.0;
        gsl_vector_set(z->w, i, wi * (d->w ? d->w[i] : 1.0));
        gsl_vector_set(z->y, i, -z->r[i]);
        for (int k = 0; k < OD_SCALING_NPAR; k++)
            gsl_matrix_set(z->X, i, (size_t)k, z->J[OD_SCALING_NPAR * i + (size_t)k]);
    }
    double chisq;
    if (gsl_multifit_wlinear(z->X, z->w, z->y, z->c, z->cov, &chisq, z->lw) != GSL_SUCCESS)
        OD_ERROR("Huber likelihood: the weighted least-squares step failed", OD_ENUMERIC);
    for (int k = 0; k < OD_SCALING_NPAR; k++) step[k] = gsl_vector_get(z->c, (size_t)k);
    return od_all_finite(OD_SCALING_NPAR, step) ? OD_OK : OD_ENUMERIC;
}

int od_scaling_fit_mle(const od_scaling_data *d, const double theta0[OD_SCALING_NPAR],
                       const od_scaling_fit_params *p, od_scaling_mle *out)
{
    memset(out, 0, sizeof *out);
    OD_TRY(od_scaling_check_fit_params(d, p));
    double th[OD_SCALING_NPAR], s, nll;
    memcpy(th, theta0, sizeof th);
    OD_TRY(od_scaling_nll_profile(d, th, p->delta, &nll, &s));
    irls_ws z;
    OD_TRY(irls_alloc(&z, d->n));
    int st = OD_OK;
    unsigned calm = 0, it = 0;
    for (; it < p->max_iter; it++) {
        double step[OD_SCALING_NPAR], tr[OD_SCALING_NPAR], nt = INFINITY, snew = s;
        if ((st = irls_step(&z, d, th, p->delta * exp(s), step)) != OD_OK) break;
        /* backtracking on the profiled likelihood */
        double t = 1;
        for (int h = 0; h < 60; h++, t *= 0.5) {
            for (int k = 0; k < OD_SCALING_NPAR; k++) tr[k] = th[k] + t * step[k];
            if (od_scaling_nll_profile(d, tr, p->delta, &nt, &snew) == OD_OK && nt < nll) break;
        }
        if (!(nt < nll)) break;   /* no descent along the step: at the vertex */
        double gain = nll - nt;
        memcpy(th, tr, sizeof th);
        nll = nt;
        s = snew;
        if (gain <= p->ftol * fabs(nll)) {
            if (++calm >= (p->calm ? p->calm : 1)) break;
        } else {
            calm = 0;
        }
    }
    irls_free(&z);
    if (st != OD_OK) return st;
    memcpy(out->theta, th, sizeof th);
    out->s = s;
    out->sigma = exp(s);
    out->nll = nll;
    out->iterations = it;
    out->law = od_scaling_law_from_theta(th);
    return OD_OK;
}

int od_scaling_lr_test(const od_scaling_data *d, const od_scaling_mle *mle,
                       const double theta_pub[OD_SCALING_NPAR], double delta, double *lr,
                       double *p)
{
    double nll_pub;
    OD_TRY(od_scaling_nll_profile(d, theta_pub, delta, &nll_pub, NULL));
    *lr = 2 * (nll_pub - mle->nll);
    *p = gsl_cdf_chisq_Q(fmax(*lr, 0.0), OD_SCALING_NPAR);
    return OD_OK;
}
