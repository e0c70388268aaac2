/* optdyn spectra — analytic random-matrix references (theory sheet spectra.md §10) and the
 * random-matrix operators of `optdyn spectrum --model` (wishart, spiked, wigner).
 *
 * Marchenko–Pastur (Marčenko & Pastur, Math. USSR-Sb. 1, 1967): W = XᵀX/n, X ∈ R^{n×d} with
 * i.i.d. entries of variance s², c = d/n:
 *      ρ(x) = sqrt((λ₊ − x)(x − λ₋)) / (2π s² c x) on [λ₋, λ₊],  λ± = s²(1 ± √c)²,
 * plus an atom 1 − 1/c at 0 when c > 1; moments s², s⁴(1 + c), s⁶(1 + 3c + c²); for c < 1
 * ∫ log x dρ = log s² + ((c − 1)/c) log(1 − c) − 1.
 * Wigner semicircle of scale s: ρ(x) = sqrt(4s² − x²)/(2π s²) on [−2s, 2s],
 *      F(x) = 1/2 + x sqrt(4s² − x²)/(4π s²) + asin(x/(2s))/π.
 * BBP (Baik, Ben Arous, Péché, Ann. Probab. 33, 2005; overlap: Paul, Statist. Sinica 17, 2007):
 * population I + ℓ vvᵀ, ℓ > √c: outlier (1 + ℓ)(1 + c/ℓ), |⟨û, v⟩|² → (1 − c/ℓ²)/(1 + c/ℓ).
 */
#include "spectra/optdyn_spectra.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>

void od_spectra_mp_edges(const od_spectra_mp *mp, double *lo, double *hi)
{
    const double r = sqrt(mp->c);
    *lo = mp->s2 * (1 - r) * (1 - r);
    *hi = mp->s2 * (1 + r) * (1 + r);
}

double od_spectra_mp_density(double x, void *p)
{
    const od_spectra_mp *mp = p;
    double lo, hi;
    od_spectra_mp_edges(mp, &lo, &hi);
    if (!(x > lo && x < hi)) return 0.0;
    return sqrt((hi - x) * (x - lo)) / (2 * M_PI * mp->s2 * mp->c * x);
}

/* sqrt(λ₊ − x) / (2π s² c x): the density divided by (x − λ₋)^{1/2}, for QAWS. */
static double mp_left_factor(double x, void *p)
{
    const od_spectra_mp *mp = p;
    double lo, hi;
    od_spectra_mp_edges(mp, &lo, &hi);
    return sqrt(fmax(hi - x, 0.0)) / (2 * M_PI * mp->s2 * mp->c * x);
}

double od_spectra_mp_cdf(double x, void *p)
{
    const od_spectra_mp *mp = p;
    double lo, hi;
    od_spectra_mp_edges(mp, &lo, &hi);
    const double atom = mp->c > 1 ? 1 - 1 / mp->c : 0.0;
    if (x < 0) return 0.0;
    if (x <= lo) return atom;
    if (x >= hi) return 1.0;
    gsl_integration_qaws_table *t = gsl_integration_qaws_table_alloc(0.5, 0.0, 0, 0);
    gsl_integration_workspace *w = gsl_integration_workspace_alloc(500);
    double r = NAN, err;
    if (t && w) {
        gsl_function F = {mp_left_factor, (void *)mp};
        int gs = gsl_integration_qaws(&F, lo, x, t, 1e-13, 1e-11, 500, w, &r, &err);
        if (gs != GSL_SUCCESS && gs != GSL_EROUND) r = NAN;
    }
    gsl_integration_qaws_table_free(t);
    gsl_integration_workspace_free(w);
    return atom + r;
}

double od_spectra_mp_moment(const od_spectra_mp *mp, int j)
{
    const double s2 = mp->s2, c = mp->c;
    switch (j) {
    case 0: return 1.0;
    case 1: return s2;
    case 2: return s2 * s2 * (1 + c);
    case 3: return s2 * s2 * s2 * (1 + 3 * c + c * c);
    default: return NAN;
    }
}

double od_spectra_mp_logmoment(const od_spectra_mp *mp)
{
    const double c = mp->c;
    if (!(c > 0 && c < 1)) return NAN;
    return log(mp->s2) + ((c - 1) / c) * log(1 - c) - 1;
}

double od_spectra_semicircle_density(double x, void *p)
{
    const double s = *(const double *)p;
    return fabs(x) < 2 * s ? sqrt(4 * s * s - x * x) / (2 * M_PI * s * s) : 0.0;
}

double od_spectra_semicircle_cdf(double x, void *p)
{
    const double s = *(const double *)p;
    if (x <= -2 * s) return 0.0;
    if (x >= 2 * s) return 1.0;
    return 0.5 + x * sqrt(4 * s * s - x * x) / (4 * M_PI * s * s) + asin(x / (2 * s)) / M_PI;
}

void od_spectra_bbp(double ell, double c, double *lambda, double *overlap2)
{
    if (ell > sqrt(c)) {
        *lambda = (1 + ell) * (1 + c / ell);
        *overlap2 = (1 - c / (ell * ell)) / (1 + c / ell);
    } else {
        *lambda = (1 + sqrt(c)) * (1 + sqrt(c));
        *overlap2 = 0.0;
    }
}

/* ---- random-matrix models ---------------------------------------------------------------------- */

enum { STREAM_DATA = 1 };

static const od_param wishart_params[] = {
    {"n", OD_PARAM_INT, 4000, OD_SAME, 1, 1e8, 0, NULL, NULL, "samples (rows of X)"},
    {"d", OD_PARAM_INT, 1000, OD_SAME, 2, 1e6, 0, NULL, NULL, "dimension (columns of X)"},
    {"s2", OD_PARAM_DOUBLE, 1, OD_SAME, 0, 1e6, OD_LO_OPEN, NULL, NULL, "entry variance s^2"},
};

static const od_param spiked_params[] = {
    {"n", OD_PARAM_INT, 4000, OD_SAME, 1, 1e8, 0, NULL, NULL, "samples (rows of X)"},
    {"d", OD_PARAM_INT, 1000, OD_SAME, 2, 1e6, 0, NULL, NULL, "dimension (columns of X)"},
    {"ell", OD_PARAM_DOUBLE, 2, OD_SAME, 0, 1e6, 0, NULL, NULL,
     "spike strength: population covariance I + ell e_1 e_1^T"},
};

static const od_param wigner_params[] = {
    {"n", OD_PARAM_INT, 1000, OD_SAME, 2, 20000, 0, NULL, NULL, "dimension"},
    {"s", OD_PARAM_DOUBLE, 1, OD_SAME, 0, 1e6, OD_LO_OPEN, NULL, NULL,
     "scale: off-diagonal variance s^2/n, spectrum on [-2s, 2s]"},
};

/* Gaussian rows: row i = sqrt(var) z with z from stream 1 at path i; column 0 scaled by sqrt(1 + ell). */
static int gaussian_rows(const char *who, size_t n, size_t d, double var, double ell, uint64_t seed,
                         od_spectra_linop **out)
{
    if ((double)n * (double)d > 134217728.0)
        OD_ERRORF(OD_ERANGE, "%s: keys 'n' = %zu and 'd' = %zu give %.3g doubles, more than 2^27", who,
                  n, d, (double)n * (double)d);
    double *X = od_vec_alloc(n * d);
    if (!X) OD_ERRORF(OD_ENOMEM, "%s: out of memory (n = %zu, d = %zu)", who, n, d);
    od_stream s;
    od_stream_init(&s, seed, STREAM_DATA);
    const double sd = sqrt(var), s0 = sqrt(1 + ell);
    for (size_t i = 0; i < n; i++) {
        od_stream_seek(&s, (uint32_t)i, 0);
        od_stream_normals(&s, X + i * d, d);
        if (sd != 1.0) od_scal(d, sd, X + i * d);
        X[i * d] *= s0;
    }
    OD_TRY(od_spectra_linop_gram(n, d, X, 1, 1.0 / (double)n, out));
    snprintf((*out)->label, sizeof (*out)->label, "%s: n=%zu, d=%zu", who, n, d);
    return OD_OK;
}

static int wishart_build(const od_params *v, uint64_t seed, od_spectra_linop **out)
{
    return gaussian_rows("wishart", (size_t)od_params_int(v, "n"), (size_t)od_params_int(v, "d"),
                         od_params_num(v, "s2"), 0.0, seed, out);
}

static int spiked_build(const od_params *v, uint64_t seed, od_spectra_linop **out)
{
    OD_TRY(gaussian_rows("spiked", (size_t)od_params_int(v, "n"), (size_t)od_params_int(v, "d"), 1.0,
                         od_params_num(v, "ell"), seed, out));
    size_t len = strlen((*out)->label);
    snprintf((*out)->label + len, sizeof (*out)->label - len, ", ell=%g", od_params_num(v, "ell"));
    return OD_OK;
}

static int wigner_build(const od_params *v, uint64_t seed, od_spectra_linop **out)
{
    const size_t n = (size_t)od_params_int(v, "n");
    const double sc = od_params_num(v, "s") / sqrt(2.0 * (double)n);
    double *G = od_vec_alloc(2 * n * n);
    if (!G) OD_ERRORF(OD_ENOMEM, "wigner: out of memory (n = %zu)", n);
    double *A = G + n * n;
    od_stream s;
    od_stream_init(&s, seed, STREAM_DATA);
    for (size_t i = 0; i < n; i++) {
        od_stream_seek(&s, (uint32_t)i, 0);
        od_stream_normals(&s, G + i * n, n);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) A[i * n + j] = sc * (G[i * n + j] + G[j * n + i]);
    int st = od_spectra_linop_dense(n, A, out);
    od_free(G);
    if (st == OD_OK)
        snprintf((*out)->label, sizeof (*out)->label, "wigner: n=%zu, s=%g", n, od_params_num(v, "s"));
    return st;
}

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
static const od_spectra_model_entry model_wishart = {
    "wishart", "X^T X / n with Gaussian X (Marchenko–Pastur), implicit", wishart_params,
    N_OF(wishart_params), wishart_build};
static const od_spectra_model_entry model_spiked = {
    "spiked", "sample covariance of N(0, I + ell e1 e1^T) data (BBP), implicit", spiked_params,
    N_OF(spiked_params), spiked_build};
static const od_spectra_model_entry model_wigner = {
    "wigner", "GOE Wigner matrix (semicircle on [-2s, 2s]), dense", wigner_params,
    N_OF(wigner_params), wigner_build};

const od_spectra_model_entry *const od_spectra_models[] = {&model_wishart, &model_spiked,
                                                           &model_wigner, NULL};

int od_spectra_model_from_spec(const char *spec, uint64_t seed, od_spectra_linop **out)
{
    *out = NULL;
    char name[64];
    const char *rest;
    OD_TRY(od_spec_split(spec, name, sizeof name, &rest));
    const od_spectra_model_entry *e = NULL;
    for (size_t i = 0; od_spectra_models[i]; i++)
        if (strcmp(od_spectra_models[i]->name, name) == 0) e = od_spectra_models[i];
    if (!e) OD_ERRORF(OD_ENOTFOUND, "unknown model '%s'", name);
    od_params v;
    OD_TRY(od_params_init(&v, e->params, e->n_params, 0));
    char where[80];
    snprintf(where, sizeof where, "model '%s'", name);
    int st = od_params_assign_list(&v, where, rest, ',');
    if (st == OD_ENOTFOUND) {   /* an unknown key: not to be mistaken for an unknown model */
        char msg[512];
        snprintf(msg, sizeof msg, "%s", od_last_error());
        st = od_error(OD_EPARSE, __FILE__, __LINE__, "%s", msg);
    }
    if (st == OD_OK) st = e->build(&v, seed, out);
    od_params_free(&v);
    return st;
}
