/* optdyn spectra — the edge of stability: sharpness tracked along a full-batch gradient-descent
 * trajectory by Lanczos on the problem's Hessian-vector products, warm-started from the previous top
 * eigenvector (theory sheet spectra.md §7.1; Cohen, Kaur, Li, Kolter & Talwalkar, ICLR 2021, whose
 * code recomputes it every `eig_freq` steps with scipy's eigsh), and the statistics that the
 * edge-of-stability claims are judged by (batch means).  GD steps go through the core problem
 * interface alone (od_problem_grad + od_axpy).  Contracts in optdyn_spectra.h.
 */
#include "spectra/optdyn_spectra.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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
    if (!p || !x) OD_ERROR("edge of stability: NULL problem or start point", OD_EINVAL);
    if (!(lr > 0) || !isfinite(lr)) OD_ERRORF(OD_EINVAL, "edge of stability: lr = %g must be positive", lr);
    if (P.steps == 0 || P.every == 0) OD_ERROR("edge of stability: steps and every must be positive", OD_EINVAL);
    const size_t d = p->dim, cap = P.steps / P.every + 2;
    res->k = P.k;
    res->loss = od_vec_alloc(P.steps + 1);
    res->sharp_step = calloc(cap, sizeof *res->sharp_step);
    res->sharp = od_vec_alloc(cap * P.k);
    double *g = od_vec_alloc(d);
    od_spectra_sharpness *sh = NULL;
    int st = (res->loss && res->sharp_step && res->sharp && g) ? OD_OK
                                                                 : od_error(OD_ENOMEM, __FILE__, __LINE__, "edge of stability: out of memory");
    if (st == OD_OK) st = od_spectra_sharpness_alloc(p, P.k, P.tol, P.seed, &sh);
    double loss0 = NAN;
    for (size_t t = 0; st == OD_OK; t++) {
        /* the loss comes with the gradient (one forward pass); a problem that does not fill it in
         * is asked for it separately */
        double f = NAN;
        if ((st = od_problem_grad(p, x, g, &f)) != OD_OK) break;
        if (isnan(f) && (st = od_problem_loss(p, x, &f)) != OD_OK) break;
        if (t == 0) loss0 = f;
        if (!isfinite(f) || f > P.blowup * fmax(loss0, 1e-300) || !od_all_finite(d, x)) {
            res->diverged_at = (long)t;
            break;
        }
        res->loss[t] = f;
        res->steps_done = t;
        if (t % P.every == 0 || t == P.steps) {
            uint64_t mv = 0;
            double *vals = res->sharp + res->n_sharp * P.k;
            if ((st = od_spectra_sharpness_eval(sh, x, vals, &mv)) != OD_OK) break;
            res->sharp_step[res->n_sharp++] = t;
            res->matvecs += mv;
            if (P.record && (st = P.record(t, x, vals, P.record_ctx)) != OD_OK) break;
        }
        if (t == P.steps) break;
        od_axpy(d, -lr, g, x);   /* x ← x − η ∇f(x) */
    }
    od_free(g);
    od_spectra_sharpness_free(sh);
    if (st != OD_OK) od_spectra_eos_result_free(res);
    return st;
}

/* ---- statistics -------------------------------------------------------------------------------- */

int od_spectra_batch_means(const double *x, size_t n, double *mean, double *se, size_t *batch)
{
    *mean = *se = NAN;
    if (batch) *batch = 0;
    if (!x || n < 4) OD_ERRORF(OD_EINVAL, "batch means: n = %zu values, at least 4 needed", n);
    const size_t b = (size_t)floor(sqrt((double)n)), a = n / b, skip = n - a * b;
    double m = 0, s2 = 0;
    for (size_t j = 0; j < a; j++) {   /* Welford over the batch means, in order */
        double bm = 0;
        for (size_t i = 0; i < b; i++) bm += x[skip + j * b + i];
        bm /= (double)b;
        const double dlt = bm - m;
        m += dlt / (double)(j + 1);
        s2 += dlt * (bm - m);
    }
    *mean = m;
    *se = sqrt(s2 / (double)(a - 1) / (double)a);
    if (batch) *batch = b;
    return OD_OK;
}

int od_spectra_eos_analyze(const od_spectra_eos_result *r, double lr, od_spectra_eos_stats *s)
{
    memset(s, 0, sizeof *s);
    s->onset = -1;
    s->ratio_mean = s->ratio_se = s->ratio_min = s->ratio_max = NAN;
    s->logloss_first = s->logloss_first_se = s->logloss_last = s->logloss_last_se = NAN;
    if (!r || !r->loss || !r->sharp || r->n_sharp == 0) OD_ERROR("edge of stability: empty run", OD_EINVAL);
    if (!(lr > 0) || !isfinite(lr)) OD_ERRORF(OD_EINVAL, "edge of stability: lr = %g must be positive", lr);
    const double edge = 2 / lr;
    size_t k0 = r->n_sharp;
    for (size_t k = 0; k < r->n_sharp && k0 == r->n_sharp; k++)
        if (r->sharp[k * r->k] >= edge) k0 = k;
    const size_t T = r->steps_done;
    s->onset = k0 < r->n_sharp ? (long)r->sharp_step[k0] : -1;
    const size_t t0 = s->onset >= 0 ? (size_t)s->onset : T + 1;
    for (size_t t = 0; t < T; t++) {
        const int up = r->loss[t + 1] > r->loss[t];
        if (t < t0) s->increases_pre += up;
        else s->increases_post += up;
    }
    if (s->onset < 0) return OD_OK;
    /* sharpness: crossings of 2/η and the time average of λ_1 η/2 over the records from the onset */
    s->n_post = r->n_sharp - k0;
    double *q = od_vec_alloc(s->n_post);
    if (!q) OD_ERROR("edge of stability: out of memory", OD_ENOMEM);
    s->ratio_min = INFINITY;
    s->ratio_max = -INFINITY;
    for (size_t k = 0; k < s->n_post; k++) {
        q[k] = r->sharp[(k0 + k) * r->k] / edge;
        s->ratio_min = fmin(s->ratio_min, q[k]);
        s->ratio_max = fmax(s->ratio_max, q[k]);
        if (k > 0) s->crossings += (q[k] >= 1) != (q[k - 1] >= 1);
    }
    if (s->n_post >= 4) od_spectra_batch_means(q, s->n_post, &s->ratio_mean, &s->ratio_se, &s->ratio_batch);
    od_free(q);
    /* loss: mean log L over the first and the last fifth of the steps from the onset */
    s->window = (T + 1 - t0) / 5;
    if (s->window >= 4) {
        double *ll = od_vec_alloc(T + 1 - t0);
        if (!ll) OD_ERROR("edge of stability: out of memory", OD_ENOMEM);
        for (size_t t = t0; t <= T; t++) ll[t - t0] = log(r->loss[t]);
        od_spectra_batch_means(ll, s->window, &s->logloss_first, &s->logloss_first_se, NULL);
        od_spectra_batch_means(ll + (T + 1 - t0) - s->window, s->window, &s->logloss_last, &s->logloss_last_se,
                               &s->loss_batch);
        od_free(ll);
    }
    return OD_OK;
}
