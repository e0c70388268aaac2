/* Experiment edge-of-stability — full-batch gradient descent on the Chebyshev regression net of
 * Cohen et al. (1 → 100 tanh → 1 on chebyshev-3-20, loss ½ mean r²) at two step sizes fixed before
 * the run by a rule on the initial sharpness λ₀ (2/η_k = c_k λ₀, c = 2 and 4).  Sharpness is tracked
 * every k steps by Lanczos on Hessian-vector products (warm-started) and checked against the dense
 * Hessian at checkpoints.  The claims of the paper are tested with models stated in advance: the
 * first crossing of 2/η (progressive sharpening), repeated crossings after it, the time average of
 * λ_max·η/2 after the onset against 1 with a batch-means standard error ("hovers right at, or just
 * above, 2/η") and loss increases after the onset (non-monotone over short horizons).  The paper's
 * long-horizon decrease is measured — mean ln L over the first and the last fifth of the post-onset
 * steps, with batch-means SEs — and reported, not asserted: it did not hold at 4 SE in our runs.
 *
 * Source: Cohen, Kaur, Li, Kolter & Talwalkar, "Gradient Descent on Neural Networks Typically Occurs
 * at the Edge of Stability", ICLR 2021 (abstract; Figure 1 caption; locuslab/edge-of-stability
 * `regression` on `chebyshev-3-20`); theory sheet spectra.md §7.1.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "experiments/optdyn_experiments.h"
#include "spectra/optdyn_spectra.h"

static const od_param params[] = {
    {"model", OD_PARAM_STRING, 0, OD_SAME, 0, 0, 0, NULL, "chebyshev-net:n=20,k=3,h=100",
     "problem (any with Hessian-vector products), started at its x0"},
    {"c1", OD_PARAM_DOUBLE, 2, OD_SAME, 1, 100, OD_LO_OPEN, NULL, NULL,
     "rule for the first step size: 2/η₁ = c1·λ₀ (λ₀ = sharpness at x0)"},
    {"c2", OD_PARAM_DOUBLE, 4, OD_SAME, 1, 100, OD_LO_OPEN, NULL, NULL, "rule for the second step size: 2/η₂ = c2·λ₀"},
    {"lr1", OD_PARAM_DOUBLE, 0, OD_SAME, 0, 100, 0, NULL, NULL, "first step size η₁ if > 0 (overrides the rule)"},
    {"lr2", OD_PARAM_DOUBLE, 0, OD_SAME, 0, 100, 0, NULL, NULL, "second step size η₂ if > 0 (overrides the rule)"},
    {"steps", OD_PARAM_INT, 12000, 4500, 10, 1e7, 0, NULL, NULL, "GD steps per step size"},
    {"every", OD_PARAM_INT, 10, OD_SAME, 1, 1e6, 0, NULL, NULL, "sharpness every k steps (Lanczos, warm-started)"},
    {"checks", OD_PARAM_INT, 8, 3, 2, 100, 0, NULL, NULL, "checkpoints per run where the dense Hessian is diagonalised"},
};

static const od_claim_doc claims[] = {
    {"sharpening", "for each η the sharpness starts below 2/η and a record reaches 2/η within the run (measured: "
                   "number of runs that reach it; the onset steps are in the notes)"},
    {"recrossings", "after the onset the sharpness crosses 2/η again and again: at least 2 sign changes of "
                    "λ_max − 2/η between records, for each η (measured: the smaller count)"},
    {"mean-at-edge", "the time average of λ_max·η/2 over the records from the onset is not below 1: "
                     "z = (mean − 1)/SE >= −4 with a batch-means SE, for each η (measured: the smaller z; "
                     "whether it is at 2/η (|z| <= 4) or above it is in the notes)"},
    {"loss-non-monotone", "after the onset the loss increases at some steps: at least 1, for each η (measured: the "
                          "smaller count)"},
    {"lanczos-vs-dense", "at `checks` records per run the tracked sharpness equals λ_max of the dense Hessian "
                         "within the Lanczos residual tolerance 1e-8 relative (measured: max relative difference)"},
};

/* Dense-Hessian checkpoints, called from the GD run at every sharpness record. */
typedef struct {
    const od_problem *p;
    size_t n_rec, checks, rec, next;
    double *A, *ev, err;
} dense_check;

static int check_record(size_t t, const double *x, const double *values, void *ctx)
{
    (void)t;
    dense_check *c = ctx;
    const size_t k = c->rec++, D = c->p->dim;
    /* records ⌊j (n_rec − 1)/(checks − 1)⌋, j = 0..checks−1: the first, the last and evenly between */
    if (c->next >= c->checks || k != c->next * (c->n_rec - 1) / (c->checks - 1)) return OD_OK;
    c->next++;
    od_spectra_linop *H = NULL;
    OD_TRY(od_spectra_linop_hessian(c->p, x, &H));
    int st = od_spectra_linop_to_dense(H, c->A);
    od_spectra_linop_free(H);
    OD_TRY(st);
    for (size_t a = 0; a < D; a++)
        for (size_t b = 0; b < a; b++) c->A[a * D + b] = c->A[b * D + a] = 0.5 * (c->A[a * D + b] + c->A[b * D + a]);
    OD_TRY(od_symm_eigen(D, c->A, c->ev, NULL));
    c->err = fmax(c->err, fabs(values[0] - c->ev[0]) / fabs(c->ev[0]));
    return OD_OK;
}

typedef struct {
    double lr, lam0, dense_err;
    od_spectra_eos_stats s;
    od_spectra_eos_result er;
} eos_run;

static int one_run(od_run *r, const od_problem *p, eos_run *e)
{
    const size_t D = p->dim, steps = (size_t)od_run_int(r, "steps"), every = (size_t)od_run_int(r, "every");
    dense_check dc = {.p = p, .n_rec = steps / every + 1 + (steps % every != 0),
                      .checks = (size_t)od_run_int(r, "checks"), .A = od_vec_alloc(D * D), .ev = od_vec_alloc(D)};
    if (dc.checks > dc.n_rec) dc.checks = dc.n_rec;
    double *x = od_vec_alloc(D);
    od_spectra_eos_params ep = od_spectra_eos_default_params();
    ep.steps = steps;
    ep.every = every;
    ep.seed = od_run_seed(r);
    ep.record = check_record;
    ep.record_ctx = &dc;
    int st = (x && dc.A && dc.ev) ? OD_OK : OD_ENOMEM;
    if (st == OD_OK) {
        od_copy(D, p->x0, x);
        st = od_spectra_eos_run(p, x, e->lr, &ep, &e->er);
    }
    if (st == OD_OK && e->er.diverged_at >= 0)
        st = od_error(OD_EDIVERGED, __FILE__, __LINE__, "GD with η = %g diverged at step %ld", e->lr,
                      e->er.diverged_at);
    if (st == OD_OK && dc.next != dc.checks)
        st = od_error(OD_EINVAL, __FILE__, __LINE__, "%zu of %zu dense checkpoints reached", dc.next, dc.checks);
    if (st == OD_OK) st = od_spectra_eos_analyze(&e->er, e->lr, &e->s);
    e->dense_err = dc.err;
    od_free(x);
    od_free(dc.A);
    od_free(dc.ev);
    return st;
}

/* The notes: what was measured, in the words of the claims. */
static void notes(od_run *r, const eos_run *e)
{
    const od_spectra_eos_stats *s = &e->s;
    const double edge = 2 / e->lr;
    if (s->onset < 0) {
        od_run_note(r, "η = %.6g: the sharpness did not reach 2/η = %.6g within %zu steps", e->lr, edge, e->er.steps_done);
        return;
    }
    const double z = (s->ratio_mean - 1) / s->ratio_se;
    od_run_note(r, "η = %.6g (2/η = %.6g = %.3g λ₀): λ₀ = %.6g; first record >= 2/η at t = %ld; %zu crossings of 2/η "
                   "in %zu records after it; λ_max·η/2 averages %.4f ± %.4f (batch-means SE, %zu records per batch), "
                   "%s; range [%.3f, %.3f]",
                e->lr, edge, edge / e->lam0, e->lam0, s->onset, s->crossings, s->n_post, s->ratio_mean, s->ratio_se,
                s->ratio_batch,
                fabs(z) <= 4 ? "at 2/η within 4 SE" : z > 4 ? "above 2/η by more than 4 SE" : "below 2/η by more than 4 SE",
                s->ratio_min, s->ratio_max);
    od_run_note(r, "η = %.6g: loss increases at %zu steps after the onset (%zu before); mean ln L over the first / last "
                   "%zu post-onset steps %.4f ± %.4f / %.4f ± %.4f (geometric means %.4g / %.4g); %llu HVPs for %zu "
                   "sharpness evaluations",
                e->lr, s->increases_post, s->increases_pre, s->window, s->logloss_first, s->logloss_first_se,
                s->logloss_last, s->logloss_last_se, exp(s->logloss_first), exp(s->logloss_last),
                (unsigned long long)e->er.matvecs, e->er.n_sharp);
}

/* Tables: the loss every step, the sharpness every k steps (absolute and as λη/2 against the steps
 * since the onset), and the measured levels drawn in the figure. */
static int tables(od_run *r, const eos_run e[2], od_table *tl, od_table *ts, od_table *tq, od_table *tw)
{
    const size_t T = e[0].er.steps_done, ns = e[0].er.n_sharp;
    if (e[1].er.steps_done != T || e[1].er.n_sharp != ns) OD_ERROR("runs of different lengths", OD_EINVAL);
    double *v = od_vec_alloc(T + 1), *w = od_vec_alloc(ns);
    if (!v || !w) {
        od_free(v);
        od_free(w);
        OD_ERROR("out of memory", OD_ENOMEM);
    }
    char c[48];
    for (size_t t = 0; t <= T; t++) v[t] = (double)t;
    od_table_add_double(tl, "t", v, T + 1);
    for (size_t k = 0; k < ns; k++) w[k] = (double)e[0].er.sharp_step[k];
    od_table_add_double(ts, "t", w, ns);
    od_table_add_double(tw, "t", NULL, 0);
    for (int i = 0; i < 2; i++) {
        const od_spectra_eos_stats *s = &e[i].s;
        snprintf(c, sizeof c, "loss_lr%d", i + 1);
        od_table_add_double(tl, c, e[i].er.loss, T + 1);
        snprintf(c, sizeof c, "sharpness_lr%d", i + 1);
        for (size_t k = 0; k < ns; k++) w[k] = e[i].er.sharp[k * e[i].er.k];
        od_table_add_double(ts, c, w, ns);
        /* λη/2 against steps since the onset (NaN before it) */
        snprintf(c, sizeof c, "since_onset_lr%d", i + 1);
        for (size_t k = 0; k < ns; k++) w[k] = s->onset >= 0 && (long)e[i].er.sharp_step[k] >= s->onset ? (double)e[i].er.sharp_step[k] - (double)s->onset : NAN;
        od_table_add_double(tq, c, w, ns);
        snprintf(c, sizeof c, "ratio_lr%d", i + 1);
        for (size_t k = 0; k < ns; k++) w[k] = e[i].er.sharp[k * e[i].er.k] * e[i].lr / 2;
        od_table_add_double(tq, c, w, ns);
        snprintf(c, sizeof c, "ratio_mean_lr%d", i + 1);
        for (size_t k = 0; k < ns; k++) w[k] = s->ratio_mean;
        od_table_add_double(tq, c, w, ns);
        for (int k = 0; k < 2; k++) {
            snprintf(c, sizeof c, "%s_lr%d", k ? "last" : "first", i + 1);
            od_table_add_double(tw, c, NULL, 0);
        }
    }
    /* the two windows of each run: columns first_lr1, last_lr1, first_lr2, last_lr2, each with the two
     * end points of its segment and NaN elsewhere */
    for (int i = 0; i < 2 && e[0].s.onset >= 0 && e[1].s.onset >= 0; i++) {
        const od_spectra_eos_stats *s = &e[i].s;
        const double x[4] = {(double)s->onset, (double)s->onset + (double)s->window, (double)T - (double)s->window, (double)T};
        for (int k = 0; k < 4; k++) {
            double row[5] = {x[k], NAN, NAN, NAN, NAN};
            row[1 + 2 * i + k / 2] = exp(k < 2 ? s->logloss_first : s->logloss_last);
            od_table_append(tw, row);
        }
    }
    od_free(v);
    od_free(w);
    od_table_meta(ts, "lr", "lr1 = %.10g (2/lr1 = %.10g), lr2 = %.10g (2/lr2 = %.10g), lambda0 = %.10g", e[0].lr, 2 / e[0].lr,
                  e[1].lr, 2 / e[1].lr, e[0].lam0);
    od_table_meta(tq, "what", "sharpness * lr/2 against steps since the onset (first record >= 2/lr), and its time average");
    od_table_meta(tw, "what", "geometric mean of the loss over the first and the last fifth of the post-onset steps");
    int st = od_run_table(r, tl);
    if (st == OD_OK) st = od_run_table(r, ts);
    if (st == OD_OK) st = od_run_table(r, tq);
    if (st == OD_OK) st = od_run_table(r, tw);
    return st;
}

static int figure(od_run *r, const eos_run e[2], const od_table *tl, const od_table *ts, const od_table *tq,
                  const od_table *tw)
{
    od_figure *f = od_figure_alloc("edge_of_stability", "Gradient descent at the edge of stability");
    if (!f) OD_ERROR("out of memory", OD_ENOMEM);
    char lab[2][96], c[48];
    for (int i = 0; i < 2; i++) snprintf(lab[i], sizeof lab[i], "η = %.4g (2/η = %.3g λ₀)", e[i].lr, 2 / e[i].lr / e[i].lam0);
    od_figure_layout(f, 3, 1);
    od_figure_size(f, 1000, 1250);
    od_figure_title(f, "sharpness λ_max(H) (Lanczos every k steps) and the stability edges 2/η (dashed)");
    od_figure_xlabel(f, "GD step t");
    od_figure_ylabel(f, "sharpness λ_max(H)");
    for (int i = 0; i < 2; i++) {
        char hl[48];
        snprintf(c, sizeof c, "sharpness_lr%d", i + 1);
        snprintf(hl, sizeof hl, "2/η = %.4g", 2 / e[i].lr);
        od_figure_add(f, &(od_series){.table = ts, .x = "t", .y = c, .kind = OD_PLOT_LINES, .label = lab[i], .color = i + 1});
        od_figure_hline(f, 2 / e[i].lr, hl);
    }
    od_figure_yrange(f, 0, 1.35 * fmax(2 / e[0].lr, 2 / e[1].lr));
    od_figure_key(f, "bottom right");
    od_figure_next_panel(f, "after the onset: λ_max·η/2 (1 = the edge 2/η) and its time average (dashed)");
    od_figure_xlabel(f, "GD steps since the onset (first record with λ_max >= 2/η)");
    od_figure_ylabel(f, "λ_max·η/2");
    for (int i = 0; i < 2; i++) {
        char x[48], m[48], ml[96];
        snprintf(x, sizeof x, "since_onset_lr%d", i + 1);
        snprintf(c, sizeof c, "ratio_lr%d", i + 1);
        snprintf(m, sizeof m, "ratio_mean_lr%d", i + 1);
        snprintf(ml, sizeof ml, "time average %.4f ± %.4f (SE)", e[i].s.ratio_mean, e[i].s.ratio_se);
        od_figure_add(f, &(od_series){.table = tq, .x = x, .y = c, .kind = OD_PLOT_LINES, .label = lab[i], .color = i + 1});
        od_figure_add(f, &(od_series){.table = tq, .x = x, .y = m, .kind = OD_PLOT_LINES, .label = ml, .color = i + 1, .dash = 2});
    }
    od_figure_hline(f, 1.0, NULL);
    od_figure_yrange(f, 0.6, 1.5);
    od_figure_key(f, "top right");
    od_figure_next_panel(f, "training loss, and its geometric mean over the first and the last fifth after the onset");
    od_figure_xlabel(f, "GD step t");
    od_figure_ylabel(f, "loss ½ mean r² (log scale)");
    od_figure_logy(f, 1);
    for (int i = 0; i < 2; i++) {
        snprintf(c, sizeof c, "loss_lr%d", i + 1);
        od_figure_add(f, &(od_series){.table = tl, .x = "t", .y = c, .kind = OD_PLOT_LINES, .label = lab[i], .color = i + 1, .width = 0.7});
    }
    for (int i = 0; i < 2; i++) {
        for (int k = 0; k < 2; k++) {
            char w[48];
            snprintf(w, sizeof w, "%s_lr%d", k ? "last" : "first", i + 1);
            od_figure_add(f, &(od_series){.table = tw, .x = "t", .y = w, .kind = OD_PLOT_LINES, .color = i + 1, .width = 3,
                                          .label = i == 0 && k == 0 ? "window geometric means (thick)" : NULL});
        }
        if (e[i].s.onset >= 0) od_figure_vline(f, (double)e[i].s.onset, i == 0 ? "onset η₁" : "onset η₂");
    }
    od_figure_key(f, "top right");
    int st = od_run_figure(r, f);
    od_figure_free(f);
    return st;
}

static int validate(const od_params *v)
{
    const double l1 = od_params_num(v, "lr1"), l2 = od_params_num(v, "lr2");
    if (l1 > 0 && l1 == l2) OD_ERROR("lr1 and lr2 must differ", OD_EINVAL);
    if (!(l1 > 0) && !(l2 > 0) && od_params_num(v, "c1") == od_params_num(v, "c2")) OD_ERROR("c1 and c2 must differ", OD_EINVAL);
    return OD_OK;
}

static int run(od_run *r)
{
    od_problem *p = NULL;
    OD_TRY(od_exp_problem(od_run_str(r, "model"), od_run_seed(r), &p));
    if (!p->x0) {
        od_problem_free(p);
        OD_ERROR("the model has no start point x0", OD_EINVAL);
    }
    if (p->dim > 3000) {
        od_problem_free(p);
        OD_ERROR("d above 3000 (the checkpoints build the dense Hessian)", OD_ERANGE);
    }
    /* the step sizes, from the sharpness at x0 before any step */
    eos_run e[2] = {{0}};
    od_spectra_sharpness *sh = NULL;
    double lam0 = NAN;
    int st = od_spectra_sharpness_alloc(p, 1, 1e-10, od_run_seed(r), &sh);
    if (st == OD_OK) st = od_spectra_sharpness_eval(sh, p->x0, &lam0, NULL);
    od_spectra_sharpness_free(sh);
    if (st == OD_OK && !(lam0 > 0)) st = od_error(OD_EINVAL, __FILE__, __LINE__, "sharpness %g at x0 is not positive", lam0);
    for (int i = 0; st == OD_OK && i < 2; i++) {
        const double given = od_run_num(r, i ? "lr2" : "lr1");
        e[i].lam0 = lam0;
        e[i].lr = given > 0 ? given : 2 / (od_run_num(r, i ? "c2" : "c1") * lam0);
        st = one_run(r, p, &e[i]);
    }
    od_table *tl = od_table_alloc("loss"), *ts = od_table_alloc("sharpness"), *tq = od_table_alloc("sharpness_after_onset"),
             *tw = od_table_alloc("loss_windows");
    if (st == OD_OK && !(tl && ts && tq && tw)) st = OD_ENOMEM;
    if (st != OD_OK) goto done;
    od_table_meta(tl, "model", "%s, %zu parameters, full-batch GD", p->label, p->dim);
    for (int i = 0; i < 2; i++) notes(r, &e[i]);
    if ((st = tables(r, e, tl, ts, tq, tw)) != OD_OK) goto done;
    /* claims: stated before the run (docs/experiments/edge-of-stability.md) */
    const od_spectra_eos_stats *a = &e[0].s, *b = &e[1].s;
    const int both = a->onset >= 0 && b->onset >= 0;
    od_run_claim_check(r, "sharpening", both && lam0 < 2 / e[0].lr && lam0 < 2 / e[1].lr, (double)((a->onset >= 0) + (b->onset >= 0)), 2,
                       "runs reaching 2/η = 2");
    od_run_claim_ge(r, "recrossings", both ? (double)(a->crossings < b->crossings ? a->crossings : b->crossings) : 0, 2);
    const double za = (a->ratio_mean - 1) / a->ratio_se, zb = (b->ratio_mean - 1) / b->ratio_se;
    od_run_claim_ge(r, "mean-at-edge", both && isfinite(za) && isfinite(zb) ? fmin(za, zb) : -INFINITY, -4);
    od_run_claim_ge(r, "loss-non-monotone", both ? (double)(a->increases_post < b->increases_post ? a->increases_post : b->increases_post) : 0, 1);
    /* the long-horizon decrease is measured and reported, not asserted: it did not hold at 4 SE in our
     * runs (docs page, "What differs from the paper") */
    for (int i = 0; i < 2 && both; i++) {
        const od_spectra_eos_stats *s = &e[i].s;
        const double z = (s->logloss_first - s->logloss_last) / hypot(s->logloss_first_se, s->logloss_last_se);
        od_run_note(r, "η = %.6g: long horizon (not asserted): mean ln L changed by %+.3f from the first to the last "
                       "fifth after the onset, a decrease of z = %.2f combined SE — %s", e[i].lr, s->logloss_last - s->logloss_first, z,
                    z >= 4 ? "a decrease resolved at 4 SE" : z <= -4 ? "an increase resolved at 4 SE" : "not resolved at 4 SE");
    }
    od_run_claim_le(r, "lanczos-vs-dense", fmax(e[0].dense_err, e[1].dense_err), 1e-8);
    st = figure(r, e, tl, ts, tq, tw);
done:
    for (int i = 0; i < 2; i++) od_spectra_eos_result_free(&e[i].er);
    od_table_free(tl);
    od_table_free(ts);
    od_table_free(tq);
    od_table_free(tw);
    od_problem_free(p);
    return st;
}

const od_experiment od_exp_edge_of_stability = {
    .name = "edge-of-stability",
    .title = "Edge of stability: progressive sharpening to 2/η and the sharpness after it under full-batch GD",
    .reference = "Cohen, Kaur, Li, Kolter & Talwalkar, Gradient Descent on Neural Networks Typically Occurs at the "
                 "Edge of Stability, ICLR 2021 (abstract, Fig. 1); theory sheet spectra.md §7.1",
    .summary = "Full-batch GD on the 1 → 100 tanh → 1 Chebyshev regression net at two step sizes set by a rule on the "
               "initial sharpness λ₀ (2/η = 2λ₀ and 4λ₀), the sharpness tracked by warm-started Lanczos every k "
               "steps.  Claims with models stated in advance: the first crossing of 2/η, repeated crossings after "
               "it, the time average of λ_max·η/2 after the onset against 1 (batch-means SE), loss increases after "
               "the onset.  The long-horizon change of mean ln L (window means with their SEs) is reported, not "
               "asserted: it did not hold at 4 SE.  The tracked sharpness is checked against the dense Hessian.",
    .doc = "docs/experiments/edge-of-stability.md",
    .params = params,
    .n_params = sizeof params / sizeof params[0],
    .claims = claims,
    .n_claims = sizeof claims / sizeof claims[0],
    .validate = validate,
    .run = run,
};
