/* optdyn spectra — the kernel polynomial method with Jackson damping (theory sheet spectra.md §4.4;
 * Weiße, Wellein, Alvermann, Fehske, "The kernel polynomial method", Rev. Mod. Phys. 78, 2006).
 *
 * The operator is mapped into [−1, 1] as Â = (A − cI)/e; per probe z the Chebyshev vectors
 * t_0 = z, t_1 = Âz, t_{k+1} = 2Ât_k − t_{k−1} give, with the doubling identities
 *      μ_{2k} = 2 t_kᵀt_k/d − μ_0,     μ_{2k+1} = 2 t_{k+1}ᵀt_k/d − μ_1,
 * the moments μ_0..μ_{2M} from M products.  Probes run in lockstep through the block product.
 */
#include "spectra/optdyn_spectra.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

od_spectra_kpm_params od_spectra_kpm_default_params(void)
{
    return (od_spectra_kpm_params){.moments = 100, .probes = 10, .probe = OD_SPECTRA_RADEMACHER,
                                   .seed = 1, .stream = 2, .lo = NAN, .hi = NAN};
}

void od_spectra_kpm_result_free(od_spectra_kpm_result *res)
{
    if (!res) return;
    od_free(res->mu);
    od_free(res->mu_se);
    memset(res, 0, sizeof *res);
}

double od_spectra_jackson(size_t k, size_t M)
{
    const double a = M_PI / (double)(M + 1);
    return ((double)(M - k + 1) * cos((double)k * a) + sin((double)k * a) / tan(a)) / (double)(M + 1);
}

/* Spectral bounds from a 30-step Lanczos run: extreme Ritz values pushed out by their residual
 * bounds (every eigenvalue lies within the residual of some Ritz value, and the extreme Ritz values
 * are inside the spectrum's hull), then widened by 1% of the range. */
static int kpm_bounds(od_spectra_linop *op, const od_spectra_kpm_params *prm, double *lo, double *hi)
{
    const size_t d = op->dim, m = d < 30 ? d : 30;
    od_spectra_lanczos *L = od_spectra_lanczos_alloc(d, m);
    double *th = od_vec_alloc(2 * m), *z = od_vec_alloc(d);
    int st = OD_OK;
    if (!L || !th || !z) {
        st = od_error(OD_ENOMEM, __FILE__, __LINE__, "KPM: out of memory for the bounds");
        goto done;
    }
    od_spectra_probe_fill(OD_SPECTRA_GAUSSIAN, prm->seed, prm->stream, 0xFFFFu, d, z);
    if ((st = od_spectra_lanczos_start(L, z)) != OD_OK) goto done;
    while (L->steps < m && !L->breakdown)
        if ((st = od_spectra_lanczos_step(L, op)) != OD_OK) goto done;
    if ((st = od_spectra_lanczos_ritz(L, th, NULL, th + m, NULL)) != OD_OK) goto done;
    const size_t j = L->steps;
    double a = th[0] - th[m], b = th[j - 1] + th[m + j - 1];
    const double w = fmax(b - a, 1e-12 * fmax(1.0, fabs(b)));
    *lo = a - 0.01 * w;
    *hi = b + 0.01 * w;
done:
    od_spectra_lanczos_free(L);
    od_free(th);
    od_free(z);
    return st;
}

int od_spectra_kpm(od_spectra_linop *op, const od_spectra_kpm_params *prm,
                   od_spectra_kpm_result *res)
{
    memset(res, 0, sizeof *res);
    const size_t d = op->dim, M = prm->moments, nv = prm->probes;
    if (M < 1 || nv < 1) OD_ERROR("KPM: moments and probes must be at least 1", OD_EINVAL);
    const uint64_t mv0 = op->matvecs;
    double lo = prm->lo, hi = prm->hi;
    if (isnan(lo) || isnan(hi)) OD_TRY(kpm_bounds(op, prm, &lo, &hi));
    if (!(hi > lo)) OD_ERRORF(OD_EINVAL, "KPM: bounds [%g, %g] are empty", lo, hi);
    res->c = 0.5 * (lo + hi);
    res->e = 0.5 * (hi - lo);
    const size_t nmu = 2 * M + 1;
    res->n_mu = nmu;
    res->mu = od_vec_alloc(nmu);
    res->mu_se = od_vec_alloc(nmu);
    double *T0 = od_vec_alloc(nv * d), *T1 = od_vec_alloc(nv * d), *T2 = od_vec_alloc(nv * d),
           *mu = od_vec_alloc(nv * nmu);
    int st = OD_OK;
    if (!res->mu || !res->mu_se || !T0 || !T1 || !T2 || !mu) {
        st = od_error(OD_ENOMEM, __FILE__, __LINE__, "KPM: out of memory (d = %zu, n_v = %zu)", d, nv);
        goto done;
    }
    const double dd = (double)d, c = res->c, e = res->e;
    for (size_t l = 0; l < nv; l++)
        od_spectra_probe_fill(prm->probe, prm->seed, prm->stream, (uint32_t)l, d, T0 + l * d);
    /* T1 = Â T0 */
    if ((st = od_spectra_apply_block(op, nv, T0, T1)) != OD_OK) goto done;
    for (size_t l = 0; l < nv; l++) {
        double *t0 = T0 + l * d, *t1 = T1 + l * d, *ml = mu + l * nmu;
        for (size_t i = 0; i < d; i++) t1[i] = (t1[i] - c * t0[i]) / e;
        ml[0] = od_dot(d, t0, t0) / dd;
        ml[1] = od_dot(d, t0, t1) / dd;
        ml[2] = 2 * od_dot(d, t1, t1) / dd - ml[0];
    }
    for (size_t k = 1; k < M; k++) {
        /* T2 = 2 Â T1 − T0 = t_{k+1} */
        if ((st = od_spectra_apply_block(op, nv, T1, T2)) != OD_OK) goto done;
        for (size_t l = 0; l < nv; l++) {
            double *t0 = T0 + l * d, *t1 = T1 + l * d, *t2 = T2 + l * d, *ml = mu + l * nmu;
            for (size_t i = 0; i < d; i++) t2[i] = 2 * (t2[i] - c * t1[i]) / e - t0[i];
            ml[2 * k + 1] = 2 * od_dot(d, t2, t1) / dd - ml[1];
            ml[2 * k + 2] = 2 * od_dot(d, t2, t2) / dd - ml[0];
        }
        double *tmp = T0;
        T0 = T1;
        T1 = T2;
        T2 = tmp;
    }
    for (size_t k = 0; k < nmu; k++) {
        double mean = 0, m2 = 0;
        for (size_t l = 0; l < nv; l++) {
            const double x = mu[l * nmu + k], dl = x - mean;
            mean += dl / (double)(l + 1);
            m2 += dl * (x - mean);
        }
        res->mu[k] = mean;
        res->mu_se[k] = nv > 1 ? sqrt(m2 / (double)(nv - 1) / (double)nv) : NAN;
    }
done:
    od_free(T0);
    od_free(T1);
    od_free(T2);
    od_free(mu);
    res->matvecs = op->matvecs - mv0;
    if (st != OD_OK) od_spectra_kpm_result_free(res);
    return st;
}

int od_spectra_kpm_density(const od_spectra_kpm_result *r, size_t n, const double *x, double *y)
{
    if (!r->mu || r->n_mu < 2) OD_ERROR("KPM density: no moments", OD_EINVAL);
    const size_t K = r->n_mu - 1;
    for (size_t j = 0; j < n; j++) {
        const double t = (x[j] - r->c) / r->e;
        if (!(t > -1 && t < 1)) {
            y[j] = 0;
            continue;
        }
        /* Chebyshev recurrence T_{k+1} = 2t T_k − T_{k−1} */
        double tkm1 = 1, tk = t, s = od_spectra_jackson(0, K) * r->mu[0];
        for (size_t k = 1; k <= K; k++) {
            s += 2 * od_spectra_jackson(k, K) * r->mu[k] * tk;
            const double tn = 2 * t * tk - tkm1;
            tkm1 = tk;
            tk = tn;
        }
        y[j] = s / (M_PI * r->e * sqrt(1 - t * t));
    }
    return OD_OK;
}
