/* optdyn spectra — Hutchinson's trace estimator and the diagonal estimator (theory sheet spectra.md
 * §5; Hutchinson, Commun. Stat. Simul. Comput. 18, 1989; Bekas, Kokiopoulou, Saad, Appl. Numer.
 * Math. 57, 2007, for the diagonal).
 *
 * tr A ≈ (1/N) Σ z_iᵀ A z_i with per-probe variance 2‖A‖_F² (Gaussian) or 2(‖A‖_F² − Σ A_ii²)
 * (Rademacher).  Stopping: after at least min_probes, stop at the first N with SE/|mean| < rel_tol,
 * SE = sd/√N.  Probes are computed `block` at a time, but the stopping rule reads them in probe order
 * and ignores any computed past the stopping point, so the answer does not depend on the block size.
 * (PyHessian's rule |mean_k − mean_{k−1}|/(|mean_{k−1}| + 1e-6) < 1e-3 is not an error estimate and
 * is not offered.)
 */
#include "spectra/optdyn_spectra.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

od_spectra_hutch_params od_spectra_hutch_default_params(void)
{
    return (od_spectra_hutch_params){.min_probes = 10, .max_probes = 1000, .rel_tol = 1e-2,
                                     .probe = OD_SPECTRA_RADEMACHER, .seed = 1, .stream = 3,
                                     .block = 10};
}

int od_spectra_hutchinson(od_spectra_linop *op, const od_spectra_hutch_params *prm,
                          od_spectra_hutch_result *res, double *diag)
{
    memset(res, 0, sizeof *res);
    const size_t d = op->dim, bs = prm->block ? prm->block : 1;
    if (prm->max_probes < 1 || prm->min_probes > prm->max_probes)
        OD_ERRORF(OD_EINVAL, "Hutchinson: need 1 <= max_probes (%zu) and min_probes (%zu) <= max_probes",
                  prm->max_probes, prm->min_probes);
    if (prm->rel_tol < 0) OD_ERROR("Hutchinson: rel_tol must be >= 0", OD_EINVAL);
    const uint64_t mv0 = op->matvecs;
    double *Z = od_vec_alloc(bs * d), *AZ = od_vec_alloc(bs * d);
    if (!Z || !AZ) {
        od_free(Z);
        od_free(AZ);
        OD_ERROR("Hutchinson: out of memory", OD_ENOMEM);
    }
    if (diag) od_zero(d, diag);
    double mean = 0, m2 = 0;
    size_t N = 0;
    int st = OD_OK, stop = 0;
    while (!stop && N < prm->max_probes) {
        const size_t b = prm->max_probes - N < bs ? prm->max_probes - N : bs;
        for (size_t j = 0; j < b; j++)
            od_spectra_probe_fill(prm->probe, prm->seed, prm->stream, (uint32_t)(N + j), d, Z + j * d);
        if ((st = od_spectra_apply_block(op, b, Z, AZ)) != OD_OK) break;
        for (size_t j = 0; j < b && !stop; j++) {
            const double *z = Z + j * d, *az = AZ + j * d, q = od_dot(d, z, az);
            N++;
            const double dl = q - mean;
            mean += dl / (double)N;
            m2 += dl * (q - mean);
            if (diag)
                for (size_t i = 0; i < d; i++) diag[i] += z[i] * az[i];
            const double se = N > 1 ? sqrt(m2 / (double)(N - 1) / (double)N) : INFINITY;
            if (prm->rel_tol > 0 && N >= prm->min_probes && se < prm->rel_tol * fabs(mean)) {
                stop = 1;
                res->converged = 1;
            }
        }
    }
    if (diag && N) od_scal(d, 1.0 / (double)N, diag);
    res->trace = mean;
    res->se = N > 1 ? sqrt(m2 / (double)(N - 1) / (double)N) : NAN;
    res->probes = N;
    res->matvecs = op->matvecs - mv0;
    od_free(Z);
    od_free(AZ);
    return st;
}
