/* optdyn scaling — bootstrap over rows, intervals, and the comparisons with a published law
 * (theory sheet §2.7).
 *
 * A resample is stored as row multiplicities: the fit of a resample is the weighted fit of the
 * rows drawn at least once (weight = count), which is the same objective as the fit of the
 * resample with its duplicate rows and costs about 63% of it. */
#include "scaling/scaling_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

const char *const od_scaling_q_names[OD_SCALING_NQ] = {"E", "A", "B", "alpha", "beta", "a", "b"};

od_scaling_boot_params od_scaling_boot_default_params(void)
{
    od_scaling_boot_params p = {.R = 1000, .seed = 1, .stream_id = 0x5ca1, .level = 0.95,
                                .progress = 0};
    return p;
}

void od_scaling_quantities(const double theta[OD_SCALING_NPAR], double q[OD_SCALING_NQ])
{
    q[OD_SCALING_Q_E] = exp(theta[2]);
    q[OD_SCALING_Q_A] = exp(theta[0]);
    q[OD_SCALING_Q_B] = exp(theta[1]);
    q[OD_SCALING_Q_ALPHA] = theta[3];
    q[OD_SCALING_Q_BETA] = theta[4];
    q[OD_SCALING_Q_a] = theta[4] / (theta[3] + theta[4]);
    q[OD_SCALING_Q_b] = theta[3] / (theta[3] + theta[4]);
}

void od_scaling_boot_free(od_scaling_boot *b)
{
    if (!b) return;
    free(b->theta);
    free(b->q);
    memset(b, 0, sizeof *b);
}

/* ---- resampling ------------------------------------------------------------------------------- */

typedef struct {
    const od_scaling_data *d;
    const double *theta;
    const od_scaling_fit_params *fp;
    uint64_t seed;
    uint32_t stream_id;
} boot_arg;

typedef struct {
    od_scaling_ws *ws;
    unsigned *count;
    od_scaling_data view;
} boot_ws;

static void boot_ws_free(void *p, void *arg)
{
    (void)arg;
    boot_ws *w = p;
    if (!w) return;
    od_scaling_ws_free(w->ws);
    free(w->count);
    free(w->view.N);
    free(w);
}

static void *boot_ws_alloc(void *arg)
{
    const boot_arg *a = arg;
    const size_t n = a->d->n;
    boot_ws *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->ws = od_scaling_ws_alloc();
    w->count = malloc(n * sizeof *w->count);
    if (!w->ws || !w->count || od_scaling_data_arrays(&w->view, n, 1) != OD_OK) {
        boot_ws_free(w, arg);
        return NULL;
    }
    return w;
}

/* Item k: the fit of resample k, out = theta[5] (NaN when the fit diverged). */
static int boot_item(size_t k, double *out, void *ws, void *arg)
{
    const boot_arg *a = arg;
    boot_ws *w = ws;
    const size_t n = a->d->n;
    od_stream s;
    od_stream_init(&s, a->seed, a->stream_id);
    od_stream_seek(&s, (uint32_t)k, 0);
    memset(w->count, 0, n * sizeof *w->count);
    for (size_t j = 0; j < n; j++) w->count[od_stream_below(&s, (uint32_t)n)]++;
    od_scaling_data_weighted(a->d, w->count, &w->view);
    double th[OD_SCALING_NPAR], f;
    unsigned long ev = 0;
    memcpy(th, a->theta, sizeof th);
    if (od_scaling_ws_run(w->ws, &w->view, a->fp, 1, th, &f, &ev) != OD_OK)
        for (int i = 0; i < OD_SCALING_NPAR; i++) th[i] = NAN;
    memcpy(out, th, sizeof th);
    return 0;
}

/* Sample sd and the percentile interval of x[0..m) (sorted in place). */
static void summarize(double *x, size_t m, double level, double *se, double *lo, double *hi)
{
    *se = gsl_stats_sd(x, 1, m);
    gsl_sort(x, 1, m);
    *lo = gsl_stats_quantile_from_sorted_data(x, 1, m, 0.5 * (1 - level));
    *hi = gsl_stats_quantile_from_sorted_data(x, 1, m, 0.5 * (1 + level));
}

int od_scaling_bootstrap(const od_scaling_data *d, const double theta[OD_SCALING_NPAR],
                         const od_scaling_fit_params *fp, const od_scaling_boot_params *bp,
                         od_scaling_boot *out)
{
    memset(out, 0, sizeof *out);
    if (bp->R < 2) OD_ERRORF(OD_EINVAL, "bootstrap: R = %zu resamples (need at least 2)", bp->R);
    if (!(bp->level > 0 && bp->level < 1))
        OD_ERRORF(OD_EINVAL, "bootstrap: level = %g must lie in (0, 1)", bp->level);
    if (d->n > UINT32_MAX) OD_ERROR("bootstrap: too many rows", OD_EINVAL);
    const size_t R = bp->R;
    out->R = R;
    out->level = bp->level;
    out->theta = malloc(R * OD_SCALING_NPAR * sizeof *out->theta);
    out->q = malloc(R * OD_SCALING_NQ * sizeof *out->q);
    double *col = malloc(R * sizeof *col);
    if (!out->theta || !out->q || !col) {
        free(col);
        od_scaling_boot_free(out);
        OD_ERROR("out of memory", OD_ENOMEM);
    }
    boot_arg a = {d, theta, fp, bp->seed, bp->stream_id};
    int st = od_map(R, OD_SCALING_NPAR, out->theta, boot_item, boot_ws_alloc, boot_ws_free, &a,
                    bp->progress ? "bootstrap" : NULL);
    if (st != OD_OK) {
        free(col);
        od_scaling_boot_free(out);
        return st;
    }
    /* compact the finite fits to the front, in resample order */
    size_t m = 0;
    for (size_t k = 0; k < R; k++) {
        const double *t = out->theta + OD_SCALING_NPAR * k;
        double q[OD_SCALING_NQ];
        od_scaling_quantities(t, q);
        memcpy(out->q + OD_SCALING_NQ * k, q, sizeof q);
        m += od_all_finite(OD_SCALING_NPAR, t) && od_all_finite(OD_SCALING_NQ, q);
    }
    out->n_ok = m;
    if (m < 2) {
        free(col);
        od_scaling_boot_free(out);
        OD_ERRORF(OD_ENUMERIC, "bootstrap: only %zu of %zu resamples gave a finite fit", m, R);
    }
    for (int j = 0; j < OD_SCALING_NQ; j++) {
        size_t c = 0;
        for (size_t k = 0; k < R; k++)
            if (od_all_finite(OD_SCALING_NPAR, out->theta + OD_SCALING_NPAR * k) &&
                od_all_finite(OD_SCALING_NQ, out->q + OD_SCALING_NQ * k))
                col[c++] = out->q[OD_SCALING_NQ * k + (size_t)j];
        summarize(col, c, bp->level, &out->se[j], &out->lo[j], &out->hi[j]);
    }
    /* log-space covariance over the finite fits */
    double mean[OD_SCALING_NPAR] = {0};
    for (size_t k = 0; k < R; k++) {
        const double *t = out->theta + OD_SCALING_NPAR * k;
        if (!od_all_finite(OD_SCALING_NPAR, t)) continue;
        for (int i = 0; i < OD_SCALING_NPAR; i++) mean[i] += t[i] / (double)m;
    }
    memset(out->cov, 0, sizeof out->cov);
    for (size_t k = 0; k < R; k++) {
        const double *t = out->theta + OD_SCALING_NPAR * k;
        if (!od_all_finite(OD_SCALING_NPAR, t)) continue;
        for (int i = 0; i < OD_SCALING_NPAR; i++)
            for (int j = 0; j < OD_SCALING_NPAR; j++)
                out->cov[i * OD_SCALING_NPAR + j] +=
                    (t[i] - mean[i]) * (t[j] - mean[j]) / (double)(m - 1);
    }
    free(col);
    return OD_OK;
}

int od_scaling_boot_interval(const od_scaling_boot *b, od_scaling_theta_fn *fn, void *arg,
                             double *se, double *lo, double *hi)
{
    double *x = malloc(b->R * sizeof *x);
    if (!x) OD_ERROR("out of memory", OD_ENOMEM);
    size_t m = 0;
    for (size_t k = 0; k < b->R; k++) {
        const double *t = b->theta + OD_SCALING_NPAR * k;
        if (!od_all_finite(OD_SCALING_NPAR, t)) continue;
        double v = fn(t, arg);
        if (isfinite(v)) x[m++] = v;
    }
    if (m < 2) {
        free(x);
        OD_ERROR("bootstrap interval: fewer than 2 finite values", OD_ENUMERIC);
    }
    double s, l, h;
    summarize(x, m, b->level, &s, &l, &h);
    free(x);
    if (se) *se = s;
    if (lo) *lo = l;
    if (hi) *hi = h;
    return OD_OK;
}

/* ---- comparisons with a published law --------------------------------------------------------- */

int od_scaling_chi2_test(const od_scaling_boot *b, const double theta_hat[OD_SCALING_NPAR],
                         const double theta_pub[OD_SCALING_NPAR], double *chi2, double *p)
{
    enum { K = OD_SCALING_NPAR };
    double Lc[K * K], y[K];
    int st = od_cholesky(K, b->cov, Lc);
    if (st == OD_ENUMERIC)
        OD_ERROR("chi-square test: the bootstrap covariance is not positive definite", OD_ENUMERIC);
    if (st != OD_OK) return st;
    /* chi2 = |L^-1 d|^2 by forward substitution */
    double s = 0;
    for (int i = 0; i < K; i++) {
        double v = theta_hat[i] - theta_pub[i];
        for (int j = 0; j < i; j++) v -= Lc[i * K + j] * y[j];
        y[i] = v / Lc[i * K + i];
        s += y[i] * y[i];
    }
    *chi2 = s;
    *p = gsl_cdf_chisq_Q(s, K);
    return OD_OK;
}
