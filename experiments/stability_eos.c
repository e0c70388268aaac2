/* Experiment edge-of-stability — full-batch gradient descent on the Chebyshev regression net of
 * Cohen et al. (1 → 100 tanh → 1 on chebyshev-3-20, loss ½ mean r²) for two step sizes: the sharpness
 * λ_max(H) rises until it reaches 2/η (progressive sharpening), then hovers in a band around it while
 * the loss keeps decreasing over long horizons but is non-monotone over short ones.  Sharpness is
 * tracked every k steps by Lanczos on Hessian-vector products, warm-started from the last top
 * eigenvector, and checked against the dense Hessian at the end.
 *
 * Source: Cohen, Kaur, Li, Kolter & Talwalkar, "Gradient Descent on Neural Networks Typically Occurs
 * at the Edge of Stability", ICLR 2021 (Figures 1–2; locuslab/edge-of-stability `regression` on
 * `chebyshev-3-20`); theory sheet spectra.md §7.1.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "experiments/optdyn_experiments.h"
#include "sde/optdyn_sde.h"
#include "spectra/optdyn_spectra.h"

static const od_param params[] = {
    {"model", OD_PARAM_STRING, 0, OD_SAME, 0, 0, 0, NULL, "chebyshev-net:n=20,k=3,h=100",
     "problem (any with Hessian-vector products), started at its x0"},
    {"lr1", OD_PARAM_DOUBLE, 0.25, OD_SAME, 1e-6, 100, 0, NULL, NULL, "first step size η₁"},
    {"lr2", OD_PARAM_DOUBLE, 0.15, OD_SAME, 1e-6, 100, 0, NULL, NULL, "second step size η₂"},
    {"steps", OD_PARAM_INT, 6000, 4000, 10, 1e7, 0, NULL, NULL, "GD steps"},
    {"every", OD_PARAM_INT, 10, OD_SAME, 1, 1e6, 0, NULL, NULL, "sharpness every k steps (Lanczos, warm-started)"},
    {"band", OD_PARAM_DOUBLE, 0.25, OD_SAME, 0.01, 1, 0, NULL, NULL,
     "half-width of the edge-of-stability band, relative to 2/η (the band's definition)"},
};

static const od_claim_doc claims[] = {
    {"sharpening", "for each η the sharpness starts below 2/η and later reaches it (measured: min over η "
                   "of max_t λ_max(t)·η/2; claim >= 1)"},
    {"band", "after first reaching 2/η the sharpness stays within (1 ± band)·2/η (measured: max relative "
             "deviation over both runs; the band is a definition, default ±25%)"},
    {"loss-non-monotone", "after the onset the loss increases at some steps (measured: min over η of the "
                          "number of increasing steps; >= 1) — GD below 2/λ would decrease it monotonically"},
    {"loss-decreases-long", "over long horizons the loss decreases: its mean over the last fifth of the post-onset "
                            "steps is below its mean over the first fifth, for each η (measured: max ratio; the loss "
                            "oscillates, so single values are not compared)"},
    {"lanczos-vs-dense", "at 8 checkpoints along each run (GD replayed) the tracked sharpness equals λ_max of "
                         "the dense Hessian within the residual tolerance 1e-8 relative (measured: max relative "
                         "difference)"},
};

typedef struct {
    double edge, max_ratio, max_dev, end_ratio, dense_err;
    long onset, increases;
} eos_summary;

static int one_run(od_run *r, od_problem *p, double lr, int idx, od_table *tl, od_table *ts, eos_summary *s)
{
    const size_t D = p->dim;
    double *x = od_vec_alloc(D), *A = od_vec_alloc(D * D), *ev = od_vec_alloc(D);
    od_spectra_eos_params ep = od_spectra_eos_default_params();
    ep.steps = (size_t)od_run_int(r, "steps");
    ep.every = (size_t)od_run_int(r, "every");
    ep.seed = od_run_seed(r);
    od_spectra_eos_result er = {0};
    od_spectra_linop *H = NULL;
    int st = (x && A && ev) ? OD_OK : OD_ENOMEM;
    if (st == OD_OK) {
        od_copy(D, p->x0, x);
        st = od_spectra_eos_run(p, x, lr, &ep, &er);
    }
    if (st == OD_OK && er.diverged_at >= 0)
        st = od_error(OD_EDIVERGED, __FILE__, __LINE__, "edge-of-stability: GD with η = %g diverged at step %ld", lr, er.diverged_at);
    /* replay GD (deterministic) and compare the tracked sharpness with the dense Hessian at 8 checkpoints */
    double dense_err = 0;
    if (st == OD_OK) {
        od_sde_hp hp = od_sde_hp_default();
        hp.lr = lr;
        od_sde_opt *opt = NULL;
        st = od_sde_opt_alloc(od_sde_sgd, &hp, D, &opt);
        od_copy(D, p->x0, x);
        const size_t stride = er.n_sharp >= 8 ? er.n_sharp / 8 : 1;
        size_t t = 0;
        for (size_t k = 0; st == OD_OK && k < er.n_sharp; k += stride) {
            for (; st == OD_OK && t < er.sharp_step[k]; t++) st = od_sde_opt_step(opt, p, 0, NULL, x);
            if (st == OD_OK) st = od_spectra_linop_hessian(p, x, &H);
            if (st == OD_OK) st = od_spectra_linop_to_dense(H, A);
            od_spectra_linop_free(H);
            H = NULL;
            if (st != OD_OK) break;
            for (size_t a = 0; a < D; a++)
                for (size_t b = 0; b < a; b++) A[a * D + b] = A[b * D + a] = 0.5 * (A[a * D + b] + A[b * D + a]);
            if ((st = od_symm_eigen(D, A, ev, NULL)) == OD_OK) dense_err = fmax(dense_err, fabs(er.sharp[k * er.k] - ev[0]) / ev[0]);
        }
        od_sde_opt_free(opt);
    }
    if (st != OD_OK) goto done;
    const double edge = 2 / lr;
    s->edge = edge;
    s->onset = -1;
    s->max_ratio = s->max_dev = 0;
    for (size_t k = 0; k < er.n_sharp; k++) {
        const double q = er.sharp[k] / edge;
        s->max_ratio = fmax(s->max_ratio, q);
        if (s->onset < 0 && q >= 1) s->onset = (long)er.sharp_step[k];
        if (s->onset >= 0) s->max_dev = fmax(s->max_dev, fabs(q - 1));
    }
    s->increases = 0;
    const size_t T = er.steps_done;
    for (size_t t = s->onset >= 0 ? (size_t)s->onset : T; t < T; t++) s->increases += er.loss[t + 1] > er.loss[t];
    /* long horizon: mean loss over the last fifth of the post-onset steps against the first fifth */
    s->end_ratio = NAN;
    if (s->onset >= 0 && T - (size_t)s->onset >= 10) {
        const size_t W = (T - (size_t)s->onset) / 5;
        double a = 0, b = 0;
        for (size_t t = 0; t < W; t++) {
            a += er.loss[(size_t)s->onset + t];
            b += er.loss[T - t];
        }
        s->end_ratio = b / a;
    }
    s->dense_err = dense_err;
    if (s->onset < 0) od_run_note(r, "η = %g: the sharpness never reached 2/η = %g within %zu steps (max %.4g)", lr, edge, T, s->max_ratio * edge);
    else od_run_note(r, "η = %g: sharpness %.4g at t = 0, reaches 2/η = %g at t = %ld; then within ±%.1f%% of it; "
                        "mean loss over the last fifth / the first fifth after the onset = %.3f; %ld increasing steps; "
                        "%llu HVPs for %zu sharpness evaluations",
                     lr, er.sharp[0], edge, s->onset, 100 * s->max_dev, s->end_ratio, s->increases,
                     (unsigned long long)er.matvecs, er.n_sharp);
    /* tables: loss every step, sharpness every k steps */
    char c[32];
    double *tv = od_vec_alloc(T + 1), *sv = od_vec_alloc(er.n_sharp);
    if (!tv || !sv) st = OD_ENOMEM;
    for (size_t t = 0; st == OD_OK && t <= T; t++) tv[t] = (double)t;
    for (size_t k = 0; st == OD_OK && k < er.n_sharp; k++) sv[k] = (double)er.sharp_step[k];
    if (st == OD_OK) {
        if (idx == 0) od_table_add_double(tl, "t", tv, T + 1);
        snprintf(c, sizeof c, "loss_lr%d", idx + 1);
        od_table_add_double(tl, c, er.loss, T + 1);
        if (idx == 0) od_table_add_double(ts, "t", sv, er.n_sharp);
        snprintf(c, sizeof c, "sharpness_lr%d", idx + 1);
        double *col = od_vec_alloc(er.n_sharp);
        for (size_t k = 0; col && k < er.n_sharp; k++) col[k] = er.sharp[k * er.k];
        od_table_add_double(ts, c, col, er.n_sharp);
        od_free(col);
    }
    od_free(tv);
    od_free(sv);
done:
    od_spectra_linop_free(H);
    od_spectra_eos_result_free(&er);
    od_free(x);
    od_free(A);
    od_free(ev);
    return st;
}

static int validate(const od_params *v)
{
    if (od_params_num(v, "lr1") == od_params_num(v, "lr2")) OD_ERROR("lr1 and lr2 must differ", OD_EINVAL);
    return OD_OK;
}

static int run(od_run *r)
{
    od_problem *p = NULL;
    OD_TRY(od_exp_problem(od_run_str(r, "model"), od_run_seed(r), &p));
    if (!p->x0) {
        od_problem_free(p);
        OD_ERROR("edge-of-stability: the model has no start point x0", OD_EINVAL);
    }
    if (p->dim > 3000) {
        od_problem_free(p);
        OD_ERROR("edge-of-stability: d above 3000 (the end check builds the dense Hessian)", OD_ERANGE);
    }
    const double lr[2] = {od_run_num(r, "lr1"), od_run_num(r, "lr2")};
    od_table *tl = od_table_alloc("loss"), *ts = od_table_alloc("sharpness");
    od_figure *f = od_figure_alloc("edge_of_stability", "Gradient descent at the edge of stability");
    eos_summary s[2];
    int st = (tl && ts && f) ? OD_OK : OD_ENOMEM;
    for (int i = 0; st == OD_OK && i < 2; i++) st = one_run(r, p, lr[i], i, tl, ts, &s[i]);
    if (st != OD_OK) goto done;
    od_table_meta(tl, "model", "%s, %zu parameters, full-batch GD", p->label, p->dim);
    od_table_meta(ts, "model", "%s; sharpness = largest algebraic Hessian eigenvalue (Lanczos, warm-started)", p->label);
    od_table_meta(ts, "lr", "lr1 = %g (2/lr1 = %g), lr2 = %g (2/lr2 = %g)", lr[0], 2 / lr[0], lr[1], 2 / lr[1]);
    if ((st = od_run_table(r, tl)) != OD_OK || (st = od_run_table(r, ts)) != OD_OK) goto done;
    od_run_claim_ge(r, "sharpening", fmin(s[0].max_ratio, s[1].max_ratio), 1.0);
    const int both = s[0].onset >= 0 && s[1].onset >= 0;
    od_run_claim_le(r, "band", both ? fmax(s[0].max_dev, s[1].max_dev) : INFINITY, od_run_num(r, "band"));
    od_run_claim_ge(r, "loss-non-monotone", both ? (double)(s[0].increases < s[1].increases ? s[0].increases : s[1].increases) : 0, 1);
    od_run_claim_le(r, "loss-decreases-long", both ? fmax(s[0].end_ratio, s[1].end_ratio) : INFINITY, 1.0 - 1e-12);
    od_run_claim_le(r, "lanczos-vs-dense", fmax(s[0].dense_err, s[1].dense_err), 1e-8);
    od_figure_layout(f, 2, 1);
    od_figure_size(f, 1000, 900);
    od_figure_title(f, "sharpness λ_max(H) (Lanczos every k steps) and 2/η");
    od_figure_xlabel(f, "GD step t");
    od_figure_ylabel(f, "sharpness");
    char lab[2][64], hl[2][32];
    for (int i = 0; i < 2; i++) {
        snprintf(lab[i], sizeof lab[i], "η = %g", lr[i]);
        snprintf(hl[i], sizeof hl[i], "2/η = %g", 2 / lr[i]);
        char c[32];
        snprintf(c, sizeof c, "sharpness_lr%d", i + 1);
        od_figure_add(f, &(od_series){.table = ts, .x = "t", .y = c, .kind = OD_PLOT_LINES, .label = lab[i], .color = i + 1});
        od_figure_hline(f, 2 / lr[i], hl[i]);
    }
    od_figure_yrange(f, 0, 1.3 * fmax(2 / lr[0], 2 / lr[1]));
    od_figure_key(f, "bottom right");
    od_figure_next_panel(f, "training loss: non-monotone over short horizons, decreasing over long ones");
    od_figure_xlabel(f, "GD step t");
    od_figure_ylabel(f, "loss ½ mean r² (log scale)");
    od_figure_logy(f, 1);
    for (int i = 0; i < 2; i++) {
        char c[32];
        snprintf(c, sizeof c, "loss_lr%d", i + 1);
        od_figure_add(f, &(od_series){.table = tl, .x = "t", .y = c, .kind = OD_PLOT_LINES, .label = lab[i], .color = i + 1, .width = 0.7});
    }
    od_figure_key(f, "top right");
    st = od_run_figure(r, f);
done:
    od_table_free(tl);
    od_table_free(ts);
    od_figure_free(f);
    od_problem_free(p);
    return st;
}

const od_experiment od_exp_edge_of_stability = {
    .name = "edge-of-stability",
    .title = "Edge of stability: progressive sharpening to 2/η and oscillation around it under full-batch GD",
    .reference = "Cohen, Kaur, Li, Kolter & Talwalkar, Gradient Descent on Neural Networks Typically Occurs at the "
                 "Edge of Stability, ICLR 2021 (Figs. 1–2); theory sheet spectra.md §7.1",
    .summary = "Full-batch GD (the optimizer zoo's SGD with B = 0) on the 1 → 100 tanh → 1 Chebyshev regression "
               "net for two step sizes, with the sharpness tracked by warm-started Lanczos every k steps: it "
               "rises to 2/η, then stays in a band around it; the loss is non-monotone after the onset but "
               "lower at the end.  The final sharpness is checked against the dense Hessian.",
    .doc = "docs/experiments/edge-of-stability.md",
    .params = params,
    .n_params = sizeof params / sizeof params[0],
    .claims = claims,
    .n_claims = sizeof claims / sizeof claims[0],
    .validate = validate,
    .run = run,
};
