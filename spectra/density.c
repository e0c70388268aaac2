/* optdyn spectra — densities from nodes and weights, and distances between them (theory sheet
 * spectra.md §4).
 *
 * Two smoothing modes.  EXACT (the project default) puts the grid around every node of every run,
 * keeps each run's unit mass and reports the mass the grid misses, computed from the Gaussian CDF.
 * PYHESSIAN reproduces amirgholami/PyHessian density_plot.py::density_generate:
 *
 *      lambda_max = mean over runs of max_k θ + overhead;  lambda_min = mean of min_k θ − overhead
 *      grids = linspace(lambda_min, lambda_max, num_bins)
 *      sigma = sigma_squared * max(1, lambda_max − lambda_min)          # a variance
 *      density = mean over runs of Σ_k w_k exp(−(x − θ_k)²/(2 sigma)) / sqrt(2π sigma)
 *      density /= Σ density · (grids[1] − grids[0])
 *
 * whose grid ends are means of per-run extremes: a node outside them loses its mass and the rest is
 * scaled up (the quirk; mass_outside reports how much was lost before the rescaling).
 */
#include "spectra/optdyn_spectra.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>

od_spectra_smooth_params od_spectra_smooth_default_params(void)
{
    return (od_spectra_smooth_params){.mode = OD_SPECTRA_SMOOTH_EXACT, .sigma = 0, .lo = NAN,
                                      .hi = NAN, .n = 1000, .sigma_squared = 1e-5, .overhead = 0.01};
}

void od_spectra_density_free(od_spectra_density *d)
{
    if (!d) return;
    od_free(d->x);
    od_free(d->y);
    memset(d, 0, sizeof *d);
}

static double gauss(double u, double var) { return exp(-u * u / (2.0 * var)) / sqrt(2.0 * M_PI * var); }

/* Mass of N(θ, σ²) outside [lo, hi], from the two tails (accurate when tiny). */
static double tails(double theta, double sigma, double lo, double hi)
{
    return gsl_cdf_ugaussian_P((lo - theta) / sigma) + gsl_cdf_ugaussian_Q((hi - theta) / sigma);
}

/* y[j] += w g(x[j] − θ) for the nodes of one run. */
static void add_run(size_t cnt, const double *th, const double *w, double var, double scale, size_t n,
                    const double *x, double *y)
{
    for (size_t j = 0; j < n; j++) {
        double s = 0;
        for (size_t k = 0; k < cnt; k++) s += gauss(x[j] - th[k], var) * w[k];
        y[j] += scale * s;
    }
}

int od_spectra_smooth(size_t n_runs, const size_t *count, size_t stride, const double *nodes,
                      const double *weights, const od_spectra_smooth_params *prm,
                      od_spectra_density *out)
{
    memset(out, 0, sizeof *out);
    const size_t n = prm->n;
    if (n_runs == 0) OD_ERROR("smooth: no runs", OD_EINVAL);
    if (n < 2) OD_ERRORF(OD_EINVAL, "smooth: %zu grid points (need at least 2)", n);
    double gmin = INFINITY, gmax = -INFINITY, mean_min = 0, mean_max = 0;
    size_t cmax = 0;
    for (size_t l = 0; l < n_runs; l++) {
        if (count[l] == 0) OD_ERRORF(OD_EINVAL, "smooth: run %zu has no nodes", l);
        double rmin = INFINITY, rmax = -INFINITY;
        for (size_t k = 0; k < count[l]; k++) {
            const double t = nodes[l * stride + k];
            if (!isfinite(t) || !isfinite(weights[l * stride + k]))
                OD_ERRORF(OD_EINVAL, "smooth: node %zu of run %zu is not finite", k, l);
            rmin = fmin(rmin, t);
            rmax = fmax(rmax, t);
        }
        gmin = fmin(gmin, rmin);
        gmax = fmax(gmax, rmax);
        mean_min += rmin;
        mean_max += rmax;
        if (count[l] > cmax) cmax = count[l];
    }
    mean_min /= (double)n_runs;
    mean_max /= (double)n_runs;
    double lo, hi, var;
    if (prm->mode == OD_SPECTRA_SMOOTH_PYHESSIAN) {
        if (!(prm->sigma_squared > 0)) OD_ERROR("smooth: sigma_squared must be positive", OD_EINVAL);
        hi = mean_max + prm->overhead;
        lo = mean_min - prm->overhead;
        var = prm->sigma_squared * fmax(1.0, hi - lo);
    } else {
        const double range = gmax - gmin;
        double sg = prm->sigma;
        if (!(sg > 0)) sg = range > 0 ? range / (double)cmax : 1e-3 * fmax(1.0, fabs(gmax));
        var = sg * sg;
        lo = isnan(prm->lo) ? gmin - prm->overhead * range - 4 * sg : prm->lo;
        hi = isnan(prm->hi) ? gmax + prm->overhead * range + 4 * sg : prm->hi;
    }
    if (!(hi > lo)) OD_ERRORF(OD_EINVAL, "smooth: empty grid [%g, %g]", lo, hi);
    out->x = od_vec_alloc(n);
    out->y = od_vec_alloc(n);
    if (!out->x || !out->y) {
        od_spectra_density_free(out);
        OD_ERROR("smooth: out of memory", OD_ENOMEM);
    }
    out->n = n;
    out->sigma = sqrt(var);
    const double step = (hi - lo) / (double)(n - 1);   /* numpy.linspace: arange(n) * step + start */
    for (size_t j = 0; j < n; j++) out->x[j] = (double)j * step + lo;
    out->x[n - 1] = hi;
    /* PyHessian averages the per-run densities: density_output.mean(axis=0) */
    for (size_t l = 0; l < n_runs; l++)
        add_run(count[l], nodes + l * stride, weights + l * stride, var, 1.0, n, out->x, out->y);
    double miss = 0;
    for (size_t l = 0; l < n_runs; l++)
        for (size_t k = 0; k < count[l]; k++)
            miss += weights[l * stride + k] * tails(nodes[l * stride + k], out->sigma, lo, hi);
    out->mass_outside = miss / (double)n_runs;
    for (size_t j = 0; j < n; j++) out->y[j] /= (double)n_runs;
    if (prm->mode == OD_SPECTRA_SMOOTH_PYHESSIAN) {
        double s = 0;
        for (size_t j = 0; j < n; j++) s += out->y[j];
        const double norm = s * (out->x[1] - out->x[0]);
        if (!(norm > 0)) {
            od_spectra_density_free(out);
            OD_ERROR("smooth (PyHessian mode): the density vanishes on its grid", OD_ENUMERIC);
        }
        for (size_t j = 0; j < n; j++) out->y[j] /= norm;
    }
    out->mass_grid = 0;
    for (size_t j = 1; j < n; j++) out->mass_grid += 0.5 * (out->y[j] + out->y[j - 1]) * (out->x[j] - out->x[j - 1]);
    return OD_OK;
}

int od_spectra_slq_density(const od_spectra_slq_result *r, const od_spectra_smooth_params *prm,
                           od_spectra_density *out)
{
    return od_spectra_smooth(r->probes, r->m, r->steps, r->nodes, r->weights, prm, out);
}

int od_spectra_smooth_runs(size_t n_runs, const size_t *count, size_t stride, const double *nodes,
                           const double *weights, double sigma, size_t n, const double *x,
                           double *dens)
{
    if (!(sigma > 0)) OD_ERRORF(OD_EINVAL, "smooth: sigma = %g must be positive", sigma);
    od_zero(n_runs * n, dens);
    for (size_t l = 0; l < n_runs; l++)
        add_run(count[l], nodes + l * stride, weights + l * stride, sigma * sigma, 1.0, n, x,
                dens + l * n);
    return OD_OK;
}

int od_spectra_smooth_mean_se(size_t n_runs, const size_t *count, size_t stride,
                              const double *nodes, const double *weights, double sigma, size_t n,
                              const double *x, double *mean, double *se)
{
    double *per = od_vec_alloc(n_runs * n);
    if (!per) OD_ERROR("smooth: out of memory", OD_ENOMEM);
    int st = od_spectra_smooth_runs(n_runs, count, stride, nodes, weights, sigma, n, x, per);
    for (size_t j = 0; st == OD_OK && j < n; j++) {
        double m = 0, m2 = 0;
        for (size_t l = 0; l < n_runs; l++) {
            const double v = per[l * n + j], dl = v - m;
            m += dl / (double)(l + 1);
            m2 += dl * (v - m);
        }
        mean[j] = m;
        if (se) se[j] = n_runs > 1 ? sqrt(m2 / (double)(n_runs - 1) / (double)n_runs) : NAN;
    }
    od_free(per);
    return st;
}

double od_spectra_step_cdf(size_t n_runs, const size_t *count, size_t stride, const double *nodes,
                           const double *weights, double t)
{
    double F = 0;
    for (size_t l = 0; l < n_runs; l++)
        for (size_t k = 0; k < count[l]; k++)
            if (nodes[l * stride + k] <= t) F += weights[l * stride + k];
    return F / (double)n_runs;
}

typedef struct {
    double t, w;
} tw;

static int cmp_tw(const void *a, const void *b)
{
    const tw *x = a, *y = b;
    return (x->t > y->t) - (x->t < y->t);
}

double od_spectra_ks(size_t n_runs, const size_t *count, size_t stride, const double *nodes,
                     const double *weights, od_spectra_fn *cdf, void *params)
{
    size_t tot = 0;
    for (size_t l = 0; l < n_runs; l++) tot += count[l];
    tw *a = malloc((tot ? tot : 1) * sizeof *a);
    if (!a) return NAN;
    size_t c = 0;
    for (size_t l = 0; l < n_runs; l++)
        for (size_t k = 0; k < count[l]; k++)
            a[c++] = (tw){nodes[l * stride + k], weights[l * stride + k] / (double)n_runs};
    qsort(a, tot, sizeof *a, cmp_tw);
    double F = 0, ks = 0;
    for (size_t i = 0; i < tot;) {
        const double t = a[i].t, Ft = cdf(t, params);
        ks = fmax(ks, fabs(F - Ft));   /* just left of the jump */
        while (i < tot && a[i].t == t) F += a[i++].w;
        ks = fmax(ks, fabs(F - Ft));   /* at the jump */
    }
    free(a);
    return ks;
}

double od_spectra_l1(size_t n, const double *x, const double *f, const double *g)
{
    double s = 0;
    for (size_t j = 1; j < n; j++)
        s += 0.5 * (fabs(f[j] - g[j]) + fabs(f[j - 1] - g[j - 1])) * (x[j] - x[j - 1]);
    return s;
}

double od_spectra_js(size_t n, const double *f, const double *g, double base)
{
    double sf = 0, sg = 0;
    for (size_t i = 0; i < n; i++) {
        if (f[i] < 0 || g[i] < 0 || !isfinite(f[i]) || !isfinite(g[i])) return NAN;
        sf += f[i];
        sg += g[i];
    }
    if (!(sf > 0) || !(sg > 0)) return NAN;
    double js = 0;
    for (size_t i = 0; i < n; i++) {
        /* p log(p/m) as p log(2p/(p + q)): no underflow of m = (p + q)/2 for denormal p, q */
        const double p = f[i] / sf, q = g[i] / sg;
        if (p > 0) js += 0.5 * p * log(2 * p / (p + q));
        if (q > 0) js += 0.5 * q * log(2 * q / (p + q));
    }
    if (js < 0) js = 0;   /* rounding */
    if (base == 2.0) js /= M_LN2;
    return sqrt(js);
}

/* ---- smoothing an analytic density with square-root edges, by QAWS ------------------------------ */

typedef struct {
    od_spectra_fn *h;
    void *hp;
    double t, var;
} qaws_arg;

static double qaws_integrand(double x, void *p)
{
    const qaws_arg *a = p;
    return a->h(x, a->hp) * gauss(a->t - x, a->var);
}

int od_spectra_smooth_sqrt_edge(od_spectra_fn *h, void *hp, double a, double b, double sigma,
                                size_t n, const double *x, double *y)
{
    if (!(b > a) || !(sigma > 0)) OD_ERROR("smooth_sqrt_edge: need a < b and sigma > 0", OD_EINVAL);
    gsl_integration_qaws_table *tab = gsl_integration_qaws_table_alloc(0.5, 0.5, 0, 0);
    gsl_integration_workspace *ws = gsl_integration_workspace_alloc(1000);
    int st = OD_OK;
    if (!tab || !ws) st = od_error(OD_ENOMEM, __FILE__, __LINE__, "smooth_sqrt_edge: out of memory");
    qaws_arg arg = {h, hp, 0, sigma * sigma};
    gsl_function F = {qaws_integrand, &arg};
    for (size_t j = 0; j < n && st == OD_OK; j++) {
        arg.t = x[j];
        double r, err;
        /* beyond 12 σ of the support the value is below 1e-31 of the peak: 0 */
        if (x[j] < a - 12 * sigma || x[j] > b + 12 * sigma) {
            y[j] = 0;
            continue;
        }
        int gs = gsl_integration_qaws(&F, a, b, tab, 0, 1e-10, 1000, ws, &r, &err);
        if (gs != GSL_SUCCESS && gs != GSL_EROUND)
            st = od_error(OD_EGSL, __FILE__, __LINE__, "smooth_sqrt_edge: QAWS at t = %g: %s", x[j],
                          gsl_strerror(gs));
        y[j] = r;
    }
    gsl_integration_qaws_table_free(tab);
    gsl_integration_workspace_free(ws);
    return st;
}
