/* optdyn spectra — scalar networks L(w) = ½ (Π_i w_i − 1)² (theory sheet spectra.md §7.2; Kreisler,
 * Nacson, Soudry & Carmon, "Gradient Descent Monotonically Decreases the Sharpness of Gradient Flow
 * Solutions in Scalar Networks and Beyond", ICML 2023).  Contracts in optdyn_spectra.h.
 *
 * With π = Π w_i and r = π − 1: ∇L = r ∇π, ∂π/∂w_i = Π_{j≠i} w_j, and
 * ∇²L = ∇π∇πᵀ + r ∇²π with ∂²π/∂w_i∂w_j = Π_{k≠i,j} w_k (i ≠ j), 0 on the diagonal.  Products
 * leave out factors instead of dividing, so w_i = 0 is handled.
 */
#include "spectra/optdyn_spectra.h"

#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_roots.h>

/* Π_{k ∉ {i, j}} w_k (j = i for one factor left out). */
static double prod_except(size_t D, const double *w, size_t i, size_t j)
{
    double p = 1;
    for (size_t k = 0; k < D; k++)
        if (k != i && k != j) p *= w[k];
    return p;
}

double od_spectra_scalar_loss(size_t D, const double *w, double *g, double *Hd)
{
    const double r = prod_except(D, w, D, D) - 1.0;
    for (size_t i = 0; g && i < D; i++) g[i] = r * prod_except(D, w, i, i);
    for (size_t i = 0; Hd && i < D; i++)
        for (size_t j = 0; j < D; j++)
            Hd[i * D + j] = prod_except(D, w, i, i) * prod_except(D, w, j, j) + (i != j ? r * prod_except(D, w, i, j) : 0.0);
    return 0.5 * r * r;
}

int od_spectra_scalar_sharpness(size_t D, const double *w, double *lam)
{
    if (D == 0) OD_ERROR("scalar network: D must be at least 1", OD_EINVAL);
    double *H = od_vec_alloc(D * D), *ev = od_vec_alloc(D);
    int st = (H && ev) ? OD_OK : od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
    if (st == OD_OK) {
        od_spectra_scalar_loss(D, w, NULL, H);
        if ((st = od_symm_eigen(D, H, ev, NULL)) == OD_OK) *lam = ev[0];
    }
    od_free(H);
    od_free(ev);
    return st;
}

typedef struct {
    size_t D;
    const double *c;
} gfs_ctx;

static double gfs_f(double s, void *arg)   /* Σ ½ log(s + c_i) */
{
    const gfs_ctx *g = arg;
    double f = 0;
    for (size_t i = 0; i < g->D; i++) f += 0.5 * log(s + g->c[i]);
    return f;
}

int od_spectra_scalar_gfs(size_t D, const double *w, double *S, double *s_out)
{
    if (D == 0) OD_ERROR("scalar network: D must be at least 1", OD_EINVAL);
    for (size_t i = 0; i < D; i++)
        if (!(w[i] > 0) || !isfinite(w[i])) OD_ERRORF(OD_EINVAL, "GFS sharpness: w_%zu = %g is not positive", i, w[i]);
    double *c = od_vec_alloc(D);
    if (!c) OD_ERROR("out of memory", OD_ENOMEM);
    double cmin = 0;
    for (size_t i = 0; i < D; i++) {
        c[i] = w[i] * w[i] - w[0] * w[0];
        cmin = fmin(cmin, c[i]);
    }
    gfs_ctx g = {D, c};
    /* bracket: f → −∞ as s → −cmin, f increasing, f(s) >= ½ D log(s + cmin) */
    double lo = -cmin, hi = -cmin + 1.0, step = 1.0;
    while (gfs_f(hi, &g) < 0) hi = -cmin + (step *= 2);
    double dlo = 1.0;
    while (gfs_f(lo + dlo, &g) >= 0 && dlo > 1e-300) dlo *= 0.5;
    lo += dlo;
    int st = OD_OK;
    if (gfs_f(lo, &g) >= 0) {   /* the root is within 1e-300 of −min c_i: s + c_min underflows */
        st = od_error(OD_ENUMERIC, __FILE__, __LINE__, "GFS sharpness: the limit point is not resolvable in double precision");
    } else {
        gsl_function F = {gfs_f, &g};
        gsl_root_fsolver *sv = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
        if (!sv || gsl_root_fsolver_set(sv, &F, lo, hi) != GSL_SUCCESS) {
            st = od_error(sv ? OD_EGSL : OD_ENOMEM, __FILE__, __LINE__, "GFS sharpness: root finder set-up failed");
        } else {
            int gs = GSL_CONTINUE;
            for (int it = 0; it < 500 && gs == GSL_CONTINUE; it++) {
                gsl_root_fsolver_iterate(sv);
                gs = gsl_root_test_interval(gsl_root_fsolver_x_lower(sv), gsl_root_fsolver_x_upper(sv), 0, 4e-16);
            }
            const double s = gsl_root_fsolver_root(sv);
            double sum = 0;
            for (size_t i = 0; i < D; i++) sum += 1.0 / (s + c[i]);
            *S = sum;
            if (s_out) *s_out = s;
            if (gs != GSL_SUCCESS) st = od_error(OD_EMAXITER, __FILE__, __LINE__, "GFS sharpness: Brent did not converge");
        }
        gsl_root_fsolver_free(sv);
    }
    od_free(c);
    return st;
}
