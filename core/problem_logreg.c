/* optdyn core — the built-in ridge logistic regression on a finite data set (contract in
 * problem.h).  Its draws come from the caller's stream at its current position: per sample, 1 index
 * from od_stream_below(n).
 */
#include "core/problem.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "core/linalg.h"
#include "core/problem_impl.h"
#include "core/status.h"

/* ---- logistic regression: f_i(w) = log(1 + exp(-y_i <x_i, w>)) + ridge/2 ||w||^2 --------------
 * With the margin m = y <x, w>:  l(m) = log(1 + e^-m),  l'(m) = -sigma(-m),
 * l''(m) = sigma(m) sigma(-m).  Each is evaluated on the branch where exp() cannot overflow:
 *      l(m)        = log1p(e^-m)          (m > 0)    = -m + log1p(e^m)        (m <= 0)
 *      sigma(-m)   = e^-m / (1 + e^-m)    (m >= 0)   = 1 / (1 + e^m)          (m < 0)
 *      l''(m)      = e / (1 + e)^2 with e = e^-|m|.
 * sigmoid_neg is in problem_impl.h: the registry draws the logistic labels with it too. */

static double logistic_loss(double m) { return m > 0 ? log1p(exp(-m)) : -m + log1p(exp(m)); }

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

/* c_i = -y_i sigma(-m_i), the data term l(m_i) (the minibatch gradient and the noise sampler need
 * these). */
static double lr_coef(const od_problem *p, const double *w, size_t i, double *loss)
{
    const data_set *m = p->data;
    const double mi = lr_margin(p, w, i);
    if (loss) *loss = logistic_loss(mi);
    return -m->y[i] * sigmoid_neg(mi);
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
    od_scal(p->dim, lr_coef(p, w, i, NULL), gi);
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


static const od_problem_type logreg_type = {
    .name = "logreg",
    .loss = lr_loss,
    .grad = lr_grad,
    .hvp = lr_hvp,
    .batch_grad = od_problem_impl_data_batch_grad,
    .sample_grads = od_problem_finite_sample_grads,
    .sample_loss = lr_sample_loss,
    .sample_grad = lr_sample_grad,
    .sample_hvp = lr_sample_hvp,
    .noise_cov = od_problem_finite_noise_cov,
    .noise_sample = od_problem_impl_data_noise_sample,
    .free_data = od_problem_impl_data_free,
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
    OD_TRY(od_problem_impl_data_problem(who, &logreg_type, lr_coef, n, d, X, y, &p));
    ((data_set *)p->data)->ridge = ridge;
    snprintf(p->label, sizeof p->label, "logreg: n=%zu, d=%zu, ridge=%.4g", n, d, ridge);
    *out = p;
    return OD_OK;
}

