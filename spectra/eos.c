/* optdyn spectra — the edge of stability: sharpness tracked along a full-batch gradient-descent
 * trajectory by Lanczos on the problem's Hessian-vector products, warm-started from the previous top
 * eigenvector (theory sheet spectra.md §7.1; Cohen, Kaur, Li, Kolter & Talwalkar, ICLR 2021, whose
 * code recomputes it every `eig_freq` steps with scipy's eigsh).  GD steps are the optimizer zoo's
 * SGD with B = 0 (sde/optdyn_sde.h).  Contracts in optdyn_spectra.h.
 */
#include "spectra/optdyn_spectra.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sde/optdyn_sde.h"

struct od_spectra_sharpness {
    const od_problem *p;
    size_t k;
    double tol;
    uint64_t seed;
    double *v0, *z;
    int have_v0;
    uint32_t calls;
};

int od_spectra_sharpness_alloc(const od_problem *p, size_t k, double tol, uint64_t seed,
                               od_spectra_sharpness **out)
{
    *out = NULL;
    if (!p) OD_ERROR("sharpness: NULL problem", OD_EINVAL);
    if (k == 0 || k >= p->dim) OD_ERRORF(OD_EINVAL, "sharpness: k = %zu must be in [1, d) (d = %zu)", k, p->dim);
    if (!(tol > 0 && tol < 1)) OD_ERRORF(OD_EINVAL, "sharpness: tol = %g must be in (0, 1)", tol);
    od_spectra_sharpness *s = calloc(1, sizeof *s);
    if (s) s->v0 = od_vec_alloc(p->dim);
    if (s) s->z = od_vec_alloc(p->dim);
    if (!s || !s->v0 || !s->z) {
        od_spectra_sharpness_free(s);
        OD_ERROR("sharpness: out of memory", OD_ENOMEM);
    }
    s->p = p;
    s->k = k;
    s->tol = tol;
    s->seed = seed;
    *out = s;
    return OD_OK;
}

void od_spectra_sharpness_free(od_spectra_sharpness *s)
{
    if (!s) return;
    od_free(s->v0);
    od_free(s->z);
    free(s);
}

int od_spectra_sharpness_eval(od_spectra_sharpness *s, const double *x, double *values,
                              uint64_t *matvecs)
{
    od_spectra_linop *H = NULL;
    OD_TRY(od_spectra_linop_hessian(s->p, x, &H));
    od_spectra_eigs_params ep = od_spectra_eigs_default_params();
    ep.k = s->k;
    ep.which = OD_SPECTRA_TOP;
    ep.tol = s->tol;
    ep.want_vectors = 1;
    if (s->have_v0) {   /* warm start, mixed with a random direction so a crossing from below is seen */
        od_stream st;
        od_stream_init(&st, s->seed, 13);
        od_stream_seek(&st, s->calls, 0);
        od_stream_normals(&st, s->z, s->p->dim);
        od_axpy(s->p->dim, 0.1 / od_nrm2(s->p->dim, s->z), s->z, s->v0);
    }
    ep.v0 = s->have_v0 ? s->v0 : NULL;
    ep.seed = s->seed + s->calls++;
    od_spectra_eigs_result er;
    int st = od_spectra_eigs(H, &ep, &er);
    if (st == OD_OK || st == OD_EMAXITER) {
        memcpy(values, er.values, s->k * sizeof *values);
        od_copy(s->p->dim, er.vectors, s->v0);
        s->have_v0 = 1;
        if (matvecs) *matvecs = er.matvecs;
        st = OD_OK;
    }
    od_spectra_eigs_result_free(&er);
    od_spectra_linop_free(H);
    return st;
}

od_spectra_eos_params od_spectra_eos_default_params(void)
{
    return (od_spectra_eos_params){.steps = 1000, .every = 10, .k = 1, .tol = 1e-8, .blowup = 1e6, .seed = 1};
}

void od_spectra_eos_result_free(od_spectra_eos_result *res)
{
    if (!res) return;
    od_free(res->loss);
    free(res->sharp_step);
    od_free(res->sharp);
    memset(res, 0, sizeof *res);
}

int od_spectra_eos_run(const od_problem *p, double *x, double lr, const od_spectra_eos_params *prm,
                       od_spectra_eos_result *res)
{
    const od_spectra_eos_params P = prm ? *prm : od_spectra_eos_default_params();
    memset(res, 0, sizeof *res);
    res->diverged_at = -1;
    if (!(lr > 0) || !isfinite(lr)) OD_ERRORF(OD_EINVAL, "edge of stability: lr = %g must be positive", lr);
    if (P.steps == 0 || P.every == 0) OD_ERROR("edge of stability: steps and every must be positive", OD_EINVAL);
    const size_t cap = P.steps / P.every + 2;
    res->k = P.k;
    res->loss = od_vec_alloc(P.steps + 1);
    res->sharp_step = calloc(cap, sizeof *res->sharp_step);
    res->sharp = od_vec_alloc(cap * P.k);
    od_spectra_sharpness *sh = NULL;
    od_sde_opt *opt = NULL;
    od_sde_hp hp = od_sde_hp_default();
    hp.lr = lr;
    int st = (res->loss && res->sharp_step && res->sharp) ? OD_OK : od_error(OD_ENOMEM, __FILE__, __LINE__, "edge of stability: out of memory");
    if (st == OD_OK) st = od_spectra_sharpness_alloc(p, P.k, P.tol, P.seed, &sh);
    if (st == OD_OK) st = od_sde_opt_alloc(od_sde_sgd, &hp, p->dim, &opt);
    double loss0 = NAN;
    for (size_t t = 0; st == OD_OK; t++) {
        double f;
        if ((st = od_problem_loss(p, x, &f)) != OD_OK) break;
        if (t == 0) loss0 = f;
        if (!isfinite(f) || f > P.blowup * fmax(loss0, 1e-300) || !od_all_finite(p->dim, x)) {
            res->diverged_at = (long)t;
            break;
        }
        res->loss[t] = f;
        res->steps_done = t;
        if (t % P.every == 0 || t == P.steps) {
            uint64_t mv = 0;
            if ((st = od_spectra_sharpness_eval(sh, x, res->sharp + res->n_sharp * P.k, &mv)) != OD_OK) break;
            res->sharp_step[res->n_sharp++] = t;
            res->matvecs += mv;
        }
        if (t == P.steps) break;
        st = od_sde_opt_step(opt, p, 0, NULL, x);
    }
    od_sde_opt_free(opt);
    od_spectra_sharpness_free(sh);
    if (st != OD_OK) od_spectra_eos_result_free(res);
    return st;
}
