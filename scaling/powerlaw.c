/* optdyn scaling — power law with offset y = c + k x^-p, and the log-linear multivariate power law
 * log y = c0 + sum_j c_j log x_j (theory sheet §5). */
#include "scaling/scaling_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_fit.h>
#include <gsl/gsl_multifit.h>

int od_scaling_check_positive(size_t n, const double *v, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (!(isfinite(v[i]) && v[i] > 0))
            OD_ERRORF(OD_ERANGE, "row %zu: %s = %g is not a positive number", i, what, v[i]);
    return OD_OK;
}

/* log y = LSE(lk - p log x, lc), x = (lc, lk, p). */
typedef struct {
    const double *lx;
    size_t n;
} pl_arg;

static int pl_model(const double *x, double *model, double *jac, void *arg)
{
    const pl_arg *a = arg;
    for (size_t i = 0; i < a->n; i++) {
        double u1 = x[1] - x[2] * a->lx[i], u2 = x[0], m = fmax(u1, u2);
        double t1 = exp(u1 - m), t2 = exp(u2 - m), S = t1 + t2;
        model[i] = m + log(S);
        if (jac) {
            double p1 = t1 / S, p2 = t2 / S;
            jac[3 * i + 0] = p2;
            jac[3 * i + 1] = p1;
            jac[3 * i + 2] = -p1 * a->lx[i];
        }
    }
    return 0;
}

int od_scaling_fit_powerlaw(size_t n, const double *x, const double *y, int offset,
                            od_scaling_powerlaw *out)
{
    memset(out, 0, sizeof *out);
    const size_t np = offset ? 3 : 2;
    if (n <= np) OD_ERRORF(OD_EINVAL, "power law: %zu points for %zu parameters", n, np);
    OD_TRY(od_scaling_check_positive(n, x, "x"));
    OD_TRY(od_scaling_check_positive(n, y, "y"));
    double *lx = malloc(2 * n * sizeof *lx);
    if (!lx) OD_ERROR("out of memory", OD_ENOMEM);
    double *ly = lx + n, ymin = INFINITY;
    for (size_t i = 0; i < n; i++) {
        lx[i] = log(x[i]);
        ly[i] = log(y[i]);
        ymin = fmin(ymin, y[i]);
    }
    out->offset = offset;
    out->n = n;
    int st = OD_OK;
    if (!offset) {
        double c0, c1, c00, c01, c11, rss;
        gsl_fit_linear(lx, 1, ly, 1, n, &c0, &c1, &c00, &c01, &c11, &rss);
        /* gsl_fit_linear's covariance is already scaled by rss / (n - 2) */
        out->k = exp(c0);
        out->p = -c1;
        out->se_k = out->k * sqrt(c00);
        out->se_p = sqrt(c11);
        out->rss = rss;
        free(lx);
        return OD_OK;
    }
    /* starts: for c0 = f min y, OLS of log(y - c0) on log x */
    static const double frac[5] = {0.25, 0.5, 0.75, 0.9, 0.99};
    double starts[5 * 3], *z = malloc(n * sizeof *z);
    if (!z) {
        free(lx);
        OD_ERROR("out of memory", OD_ENOMEM);
    }
    for (int s = 0; s < 5; s++) {
        double c0 = frac[s] * ymin, b0, b1, v00, v01, v11, r;
        for (size_t i = 0; i < n; i++) z[i] = log(y[i] - c0);
        gsl_fit_linear(lx, 1, z, 1, n, &b0, &b1, &v00, &v01, &v11, &r);
        starts[3 * s + 0] = log(c0);
        starts[3 * s + 1] = b0;
        starts[3 * s + 2] = -b1;
    }
    free(z);
    pl_arg a = {lx, n};
    od_scaling_nls_result res;
    st = od_scaling_nls(n, 3, ly, pl_model, &a, starts, 5, &res);
    free(lx);
    if (st != OD_OK) return st;
    out->c = exp(res.x[0]);
    out->k = exp(res.x[1]);
    out->p = res.x[2];
    out->se_c = out->c * res.se[0];   /* delta method: d e^u = e^u du */
    out->se_k = out->k * res.se[1];
    out->se_p = res.se[2];
    out->rss = res.rss;
    return OD_OK;
}

void od_scaling_loglinear_free(od_scaling_loglinear *f)
{
    if (!f) return;
    free(f->coef);
    memset(f, 0, sizeof *f);
}

int od_scaling_fit_loglinear(size_t n, size_t k, const double *X, const double *y,
                             od_scaling_loglinear *out)
{
    memset(out, 0, sizeof *out);
    if (k == 0) OD_ERROR("log-linear fit: no regressors", OD_EINVAL);
    if (n <= k + 1) OD_ERRORF(OD_EINVAL, "log-linear fit: %zu points for %zu parameters", n, k + 1);
    OD_TRY(od_scaling_check_positive(n, y, "y"));
    OD_TRY(od_scaling_check_positive(n * k, X, "x (row-major index)"));
    const size_t p = k + 1;
    gsl_matrix *A = gsl_matrix_alloc(n, p), *cov = gsl_matrix_alloc(p, p);
    gsl_vector *b = gsl_vector_alloc(n), *c = gsl_vector_alloc(p);
    gsl_multifit_linear_workspace *w = gsl_multifit_linear_alloc(n, p);
    out->coef = malloc(2 * k * sizeof *out->coef);
    int st = OD_OK;
    if (!A || !cov || !b || !c || !w || !out->coef) {
        st = od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
        goto done;
    }
    out->se = out->coef + k;
    for (size_t i = 0; i < n; i++) {
        gsl_matrix_set(A, i, 0, 1.0);
        for (size_t j = 0; j < k; j++) gsl_matrix_set(A, i, j + 1, log(X[i * k + j]));
        gsl_vector_set(b, i, log(y[i]));
    }
    double rss;
    size_t rank;
    /* SVD-based: rank-deficient designs (collinear columns) are detected rather than amplified */
    if (gsl_multifit_linear_tsvd(A, b, 1e-12, c, cov, &rss, &rank, w) != 0 || rank < p) {
        st = od_error(OD_ENUMERIC, __FILE__, __LINE__,
                      "log-linear fit: the columns are collinear (rank %zu of %zu)", rank, p);
        goto done;
    }
    /* GSL scales the covariance by rss / (n - rank) already: cov = s^2 (X^T X)^-1 */
    out->n = n;
    out->k = k;
    out->intercept = gsl_vector_get(c, 0);
    out->se_intercept = sqrt(gsl_matrix_get(cov, 0, 0));
    for (size_t j = 0; j < k; j++) {
        out->coef[j] = gsl_vector_get(c, j + 1);
        out->se[j] = sqrt(gsl_matrix_get(cov, j + 1, j + 1));
    }
    out->rss = rss;
done:
    if (A) gsl_matrix_free(A);
    if (cov) gsl_matrix_free(cov);
    if (b) gsl_vector_free(b);
    if (c) gsl_vector_free(c);
    if (w) gsl_multifit_linear_free(w);
    if (st != OD_OK) od_scaling_loglinear_free(out);
    return st;
}
