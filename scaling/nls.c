/* optdyn scaling — small nonlinear least-squares fits from several starts (GSL multifit_nlinear),
 * shared by the power law with offset and the learning-rate forms. */
#include "scaling/scaling_internal.h"

#include <math.h>
#include <string.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit_nlinear.h>

typedef struct {
    const double *y;
    od_scaling_nls_fn *fn;
    void *arg;
    size_t n, p;
    double *model, *jac;   /* scratch n and n x p */
} nls_ctx;

static int nls_f(const gsl_vector *x, void *params, gsl_vector *f)
{
    nls_ctx *c = params;
    if (c->fn(x->data, c->model, NULL, c->arg)) return GSL_EDOM;
    for (size_t i = 0; i < c->n; i++) gsl_vector_set(f, i, c->model[i] - c->y[i]);
    return GSL_SUCCESS;
}

static int nls_df(const gsl_vector *x, void *params, gsl_matrix *J)
{
    nls_ctx *c = params;
    if (c->fn(x->data, c->model, c->jac, c->arg)) return GSL_EDOM;
    for (size_t i = 0; i < c->n; i++)
        for (size_t j = 0; j < c->p; j++) gsl_matrix_set(J, i, j, c->jac[i * c->p + j]);
    return GSL_SUCCESS;
}

int od_scaling_nls(size_t n, size_t p, const double *y, od_scaling_nls_fn *fn, void *arg,
                   const double *starts, size_t n_starts, od_scaling_nls_result *out)
{
    memset(out, 0, sizeof *out);
    out->rss = INFINITY;
    if (p == 0 || p > 4) OD_ERROR("nls: 1 to 4 parameters", OD_EINVAL);
    if (n <= p) OD_ERRORF(OD_EINVAL, "%zu points for %zu parameters (need more points)", n, p);
    double *scratch = od_vec_alloc(n * (p + 1));
    gsl_multifit_nlinear_parameters fp = gsl_multifit_nlinear_default_parameters();
    gsl_multifit_nlinear_workspace *w =
        gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &fp, n, p);
    gsl_matrix *cov = gsl_matrix_alloc(p, p);
    if (!scratch || !w || !cov) {
        od_free(scratch);
        if (w) gsl_multifit_nlinear_free(w);
        if (cov) gsl_matrix_free(cov);
        OD_ERROR("out of memory", OD_ENOMEM);
    }
    nls_ctx c = {y, fn, arg, n, p, scratch, scratch + n};
    gsl_multifit_nlinear_fdf fdf = {.f = nls_f, .df = nls_df, .fvv = NULL, .n = n, .p = p,
                                    .params = &c};
    for (size_t s = 0; s < n_starts; s++) {
        gsl_vector_const_view x0 = gsl_vector_const_view_array(starts + s * p, p);
        if (fn(x0.vector.data, c.model, NULL, arg)) continue;   /* start outside the domain */
        if (gsl_multifit_nlinear_init(&x0.vector, &fdf, w) != GSL_SUCCESS) continue;
        int info;
        gsl_multifit_nlinear_driver(500, 1e-12, 1e-12, 1e-12, NULL, NULL, &info, w);
        const gsl_vector *x = gsl_multifit_nlinear_position(w);
        const gsl_vector *f = gsl_multifit_nlinear_residual(w);
        double rss;
        gsl_blas_ddot(f, f, &rss);
        if (!(isfinite(rss) && od_all_finite(p, x->data)) || !(rss < out->rss)) continue;
        out->rss = rss;
        memcpy(out->x, x->data, p * sizeof *x->data);
        gsl_matrix *J = gsl_multifit_nlinear_jac(w);
        double s2 = rss / (double)(n - p);
        int ok = gsl_multifit_nlinear_covar(J, 0.0, cov) == GSL_SUCCESS;
        for (size_t j = 0; j < p; j++)
            out->se[j] = ok ? sqrt(s2 * gsl_matrix_get(cov, j, j)) : NAN;
    }
    od_free(scratch);
    gsl_multifit_nlinear_free(w);
    gsl_matrix_free(cov);
    if (!isfinite(out->rss)) OD_ERROR("nonlinear least squares: no start converged", OD_ENUMERIC);
    return OD_OK;
}
