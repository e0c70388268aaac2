/* optdyn spectra — stochastic Lanczos quadrature (theory sheet spectra.md §3).
 *
 * Probe l is z_l (Rademacher or Gaussian, from od_stream(seed, stream) at path l), v_l = z_l/‖z_l‖.
 * m Lanczos steps from v_l give T_m = Y Θ Yᵀ; nodes θ_k and Gauss weights τ_k = (e_1ᵀ y_k)² define
 *      v_lᵀ f(A) v_l ≈ Σ_k τ_k f(θ_k)      (exact for polynomials of degree <= 2m − 1),
 * and tr f(A) ≈ (1/n_v) Σ_l ‖z_l‖² Σ_k τ_k f(θ_k).  After a breakdown (an invariant Krylov space)
 * a probe stops early: its quadrature is then exact.
 *
 * Block mode runs the n_v recurrences in lockstep and applies the operator to all active q_j at once
 * (od_spectra_apply_block), so an operator with a block product (dense, CSR, Gram) reads its data once
 * per step for all probes instead of n_v times.  The arithmetic of each recurrence is unchanged, so
 * the result is byte-identical to one probe at a time.
 */
#include "spectra/optdyn_spectra.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void od_spectra_probe_fill(od_spectra_probe kind, uint64_t seed, uint32_t stream, uint32_t l,
                           size_t d, double *z)
{
    od_stream s;
    od_stream_init(&s, seed, stream);
    od_stream_seek(&s, l, 0);
    if (kind == OD_SPECTRA_GAUSSIAN) od_stream_normals(&s, z, d);
    else od_stream_rademachers(&s, z, d);
}

od_spectra_slq_params od_spectra_slq_default_params(void)
{
    return (od_spectra_slq_params){.steps = 80, .probes = 10, .probe = OD_SPECTRA_RADEMACHER,
                                   .reorth = OD_SPECTRA_REORTH_FULL, .seed = 1, .stream = 1,
                                   .block = 1};
}

void od_spectra_slq_result_free(od_spectra_slq_result *res)
{
    if (!res) return;
    free(res->m);
    od_free(res->nodes);
    od_free(res->weights);
    od_free(res->znorm2);
    memset(res, 0, sizeof *res);
}

/* Nodes and weights of a finished recurrence into probe l's slots. */
static int collect(const od_spectra_lanczos *L, od_spectra_slq_result *res, size_t l)
{
    const size_t off = l * res->steps;
    res->m[l] = L->steps;
    return od_spectra_lanczos_ritz(L, res->nodes + off, res->weights + off, NULL, NULL);
}

int od_spectra_slq(od_spectra_linop *op, const od_spectra_slq_params *prm,
                   od_spectra_slq_result *res)
{
    memset(res, 0, sizeof *res);
    const size_t d = op->dim, m = prm->steps, nv = prm->probes;
    if (m < 1 || m > d) OD_ERRORF(OD_EINVAL, "SLQ: steps m = %zu must be in [1, d = %zu]", m, d);
    if (nv < 1) OD_ERROR("SLQ: probes must be at least 1", OD_EINVAL);
    const uint64_t mv0 = op->matvecs;
    res->dim = d;
    res->probes = nv;
    res->steps = m;
    res->m = calloc(nv, sizeof *res->m);
    res->nodes = od_vec_alloc(nv * m);
    res->weights = od_vec_alloc(nv * m);
    res->znorm2 = od_vec_alloc(nv);
    const size_t nb = prm->block ? nv : 1;   /* recurrences alive at once */
    od_spectra_lanczos **L = calloc(nb, sizeof *L);
    double *X = od_vec_alloc(nb * d), *Y = od_vec_alloc(nb * d);
    size_t *act = calloc(nb, sizeof *act);
    int st = OD_OK;
    if (!res->m || !res->nodes || !res->weights || !res->znorm2 || !L || !X || !Y || !act) {
        st = od_error(OD_ENOMEM, __FILE__, __LINE__, "SLQ: out of memory (d = %zu, m = %zu, n_v = %zu)",
                      d, m, nv);
        goto done;
    }
    for (size_t b = 0; b < nb; b++) {
        if (!(L[b] = od_spectra_lanczos_alloc(d, m))) {
            st = OD_ENOMEM;
            goto done;
        }
        L[b]->reorth = prm->reorth;
    }
    for (size_t l0 = 0; l0 < nv; l0 += nb) {
        const size_t cnt = nv - l0 < nb ? nv - l0 : nb;
        for (size_t b = 0; b < cnt; b++) {
            od_spectra_probe_fill(prm->probe, prm->seed, prm->stream, (uint32_t)(l0 + b), d, X);
            res->znorm2[l0 + b] = od_dot(d, X, X);
            if ((st = od_spectra_lanczos_start(L[b], X)) != OD_OK) goto done;
        }
        for (;;) {
            size_t na = 0;
            for (size_t b = 0; b < cnt; b++)
                if (L[b]->steps < m && !L[b]->breakdown) {
                    act[na] = b;
                    od_copy(d, L[b]->Q + L[b]->steps * d, X + na * d);
                    na++;
                }
            if (na == 0) break;
            if ((st = od_spectra_apply_block(op, na, X, Y)) != OD_OK) goto done;
            for (size_t a = 0; a < na; a++)
                if ((st = od_spectra_lanczos_step_given(L[act[a]], Y + a * d)) != OD_OK) goto done;
        }
        for (size_t b = 0; b < cnt; b++)
            if ((st = collect(L[b], res, l0 + b)) != OD_OK) goto done;
    }
done:
    if (L)
        for (size_t b = 0; b < nb; b++) od_spectra_lanczos_free(L[b]);
    free(L);
    od_free(X);
    od_free(Y);
    free(act);
    res->matvecs = op->matvecs - mv0;
    if (st != OD_OK) od_spectra_slq_result_free(res);
    return st;
}

int od_spectra_slq_trace(const od_spectra_slq_result *r, od_spectra_fn *f, void *params,
                         double *trace, double *se)
{
    double mean = 0, m2 = 0;
    for (size_t l = 0; l < r->probes; l++) {
        double q = 0;
        for (size_t k = 0; k < r->m[l]; k++) {
            const double th = r->nodes[l * r->steps + k], fv = f(th, params);
            if (!isfinite(fv))
                OD_ERRORF(OD_ENUMERIC, "SLQ trace: f is not finite at the node %.17g (probe %zu)", th, l);
            q += r->weights[l * r->steps + k] * fv;
        }
        q *= r->znorm2[l];
        const double dl = q - mean;   /* Welford, in probe order */
        mean += dl / (double)(l + 1);
        m2 += dl * (q - mean);
    }
    *trace = mean;
    if (se) *se = r->probes > 1 ? sqrt(m2 / (double)(r->probes - 1) / (double)r->probes) : NAN;
    return OD_OK;
}

static double f_log(double x, void *p)
{
    (void)p;
    return x > 0 ? log(x) : NAN;
}

int od_spectra_slq_logdet(const od_spectra_slq_result *r, double *logdet, double *se)
{
    for (size_t l = 0; l < r->probes; l++)
        for (size_t k = 0; k < r->m[l]; k++)
            if (!(r->nodes[l * r->steps + k] > 0))
                OD_ERRORF(OD_ENUMERIC, "SLQ log-det: node %.17g <= 0 (probe %zu): the operator is not "
                          "positive definite", r->nodes[l * r->steps + k], l);
    return od_spectra_slq_trace(r, f_log, NULL, logdet, se);
}

static double f_pow(double x, void *p) { return pow(x, (double)*(const int *)p); }

int od_spectra_slq_moment(const od_spectra_slq_result *r, int j, double *moment, double *se)
{
    if (j < 0) OD_ERRORF(OD_EINVAL, "SLQ moment: order %d < 0", j);
    OD_TRY(od_spectra_slq_trace(r, f_pow, &j, moment, se));
    *moment /= (double)r->dim;
    if (se) *se /= (double)r->dim;
    return OD_OK;
}
