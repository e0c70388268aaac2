/* optdyn sde — SDE integrators and the tools of the convergence-order methodology (sde.md §6).
 *
 * Schemes (Kloeden & Platen, "Numerical Solution of SDEs", 1992): Euler–Maruyama (strong 1/2, 1
 * for additive noise; weak 1), Milstein for diagonal (hence commutative) noise (strong 1), and the
 * stochastic Heun scheme for additive noise (weak 2).  Increments are drawn from the caller's
 * stream at its position, so a path is addressed by (path, step) and does not depend on thread
 * count or visiting order; coarse increments of the same path are sums of fine ones.
 */
#include <math.h>
#include <string.h>


#include "sde/optdyn_sde.h"

static const char *const scheme_names[] = {"em", "milstein", "weak2"};

int od_sde_scheme_parse(const char *word, od_sde_scheme *out)
{
    for (int i = 0; i < 3; i++)
        if (word && strcmp(word, scheme_names[i]) == 0) {
            *out = (od_sde_scheme)i;
            return OD_OK;
        }
    OD_ERRORF(OD_EPARSE, "unknown integrator '%s' (em, milstein or weak2)", word ? word : "");
}

const char *od_sde_scheme_name(od_sde_scheme s)
{
    return (unsigned)s < 3 ? scheme_names[s] : "unknown";
}

void od_sde_gaussian_increments(od_stream *s, double h, size_t m, double *dw)
{
    od_stream_normals(s, dw, m);
    od_scal(m, sqrt(h), dw);
}

size_t od_sde_work_size(const od_sde_system *sys)
{
    /* b, noise, ybar, b2 (dim each); dw, sig, dsig (noise_dim each) */
    return 4 * sys->dim + 3 * sys->noise_dim;
}

int od_sde_scheme_check(od_sde_scheme scheme, const od_sde_system *sys)
{
    if (scheme == OD_SDE_MILSTEIN && !(sys->flags & OD_SDE_DIAGONAL))
        OD_ERROR("integrator 'milstein' needs diagonal noise; this SDE's noise is not diagonal "
                 "(use em)", OD_ENOTSUP);
    if (scheme == OD_SDE_WEAK2 && !(sys->flags & OD_SDE_ADDITIVE))
        OD_ERROR("integrator 'weak2' (stochastic Heun) needs additive noise; this SDE's noise "
                 "depends on the state (use em or milstein)", OD_ENOTSUP);
    if ((unsigned)scheme > OD_SDE_WEAK2) OD_ERROR("unknown integrator", OD_EINVAL);
    return OD_OK;
}

/* out = sigma dw for a diagonal system */
static int diag_apply(const od_sde_system *sys, double t, const double *y, const double *dw,
                      double *out, double *sig, double *dsig)
{
    OD_TRY(sys->diag(t, y, sig, dsig, sys->params));
    od_zero(sys->dim, out);
    for (size_t j = 0; j < sys->noise_dim; j++) out[sys->noise_offset + j] = sig[j] * dw[j];
    return OD_OK;
}

/* The scheme on given noise: `noise` holds sigma(t, y) dW; for Milstein dw, sig, dsig too. */
static int advance(od_sde_scheme scheme, const od_sde_system *sys, double t, double h,
                   const double *dw, const double *sig, const double *dsig, double *y, double *work)
{
    const size_t n = sys->dim;
    double *b = work, *noise = work + n, *ybar = work + 2 * n, *b2 = work + 3 * n;
    OD_TRY(sys->drift(t, y, b, sys->params));
    if (scheme == OD_SDE_WEAK2) {
        for (size_t i = 0; i < n; i++) ybar[i] = y[i] + b[i] * h + noise[i];
        OD_TRY(sys->drift(t + h, ybar, b2, sys->params));
        for (size_t i = 0; i < n; i++) y[i] += 0.5 * (b[i] + b2[i]) * h + noise[i];
    } else {
        for (size_t i = 0; i < n; i++) y[i] += b[i] * h + noise[i];
        if (scheme == OD_SDE_MILSTEIN)
            for (size_t j = 0; j < sys->noise_dim; j++)
                y[sys->noise_offset + j] += 0.5 * sig[j] * dsig[j] * (dw[j] * dw[j] - h);
    }
    if (!od_all_finite(n, y)) return OD_EDIVERGED;   /* reported by the caller with its step */
    return OD_OK;
}

int od_sde_step_dw(od_sde_scheme scheme, const od_sde_system *sys, double t, double h,
                   const double *dw, double *y, double *work)
{
    if (!(sys->flags & OD_SDE_DIAGONAL) || !sys->diag)
        OD_ERROR("od_sde_step_dw needs a diagonal system", OD_ENOTSUP);
    const size_t n = sys->dim, m = sys->noise_dim;
    double *sig = work + 4 * n + m, *dsig = sig + m;
    OD_TRY(diag_apply(sys, t, y, dw, work + n, sig, dsig));
    return advance(scheme, sys, t, h, dw, sig, dsig, y, work);
}

int od_sde_step(od_sde_scheme scheme, const od_sde_system *sys, double t, double h, od_stream *s,
                double *y, double *work)
{
    const size_t n = sys->dim, m = sys->noise_dim;
    if (sys->flags & OD_SDE_DIAGONAL && sys->diag) {
        double *dw = work + 4 * n;
        (sys->increments ? sys->increments : od_sde_gaussian_increments)(s, h, m, dw);
        return od_sde_step_dw(scheme, sys, t, h, dw, y, work);
    }
    if (scheme == OD_SDE_MILSTEIN) return od_sde_scheme_check(scheme, sys);
    OD_TRY(sys->noise(t, y, h, s, work + n, sys->params));
    return advance(scheme, sys, t, h, NULL, NULL, NULL, y, work);
}

void od_sde_brownian_sum(od_stream *s, uint32_t path, uint64_t n, unsigned r, double hf, size_t m,
                         double *dw)
{
    double z[64];
    od_zero(m, dw);
    const uint64_t per = (uint64_t)1 << r;
    for (uint64_t k = n * per; k < (n + 1) * per; k++) {
        od_stream_seek(s, path, (uint32_t)k);
        for (size_t j0 = 0; j0 < m; j0 += 64) {
            size_t len = m - j0 < 64 ? m - j0 : 64;
            od_stream_normals(s, z, len);
            for (size_t j = 0; j < len; j++) dw[j0 + j] += z[j];
        }
    }
    od_scal(m, sqrt(hf), dw);
}

od_sde_ou_coupling od_sde_ou_coupling_make(double lambda, double h)
{
    const double e1 = exp(-lambda * h);
    const double var_i = -expm1(-2 * lambda * h) / (2 * lambda);
    const double cov = -expm1(-lambda * h) / lambda;
    const double ci = cov / sqrt(h);
    return (od_sde_ou_coupling){.decay = e1, .cw = sqrt(h), .ci = ci,
                                .di = sqrt(fmax(var_i - ci * ci, 0.0))};
}

/* ---- scalar linear SDEs ------------------------------------------------------------------------ */

static int lin_drift(double t, const double *y, double *b, void *p)
{
    (void)t;
    b[0] = ((const od_sde_linear *)p)->a * y[0];
    return OD_OK;
}

static int lin_diag(double t, const double *y, double *sig, double *dsig, void *p)
{
    (void)t;
    const od_sde_linear *l = p;
    sig[0] = l->multiplicative ? l->b * y[0] : l->b;
    dsig[0] = l->multiplicative ? l->b : 0.0;
    return OD_OK;
}

static int lin_noise(double t, const double *y, double h, od_stream *s, double *out, void *p)
{
    double sig, dsig;
    lin_diag(t, y, &sig, &dsig, p);
    out[0] = sig * sqrt(h) * od_stream_normal(s);
    return OD_OK;
}

od_sde_system od_sde_linear_system(const od_sde_linear *coef)
{
    return (od_sde_system){.dim = 1, .noise_dim = 1,
                           .flags = OD_SDE_DIAGONAL | (coef->multiplicative ? 0u : OD_SDE_ADDITIVE),
                           .drift = lin_drift, .noise = lin_noise, .diag = lin_diag,
                           .params = (void *)coef};
}
