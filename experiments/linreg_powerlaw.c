/* Experiment powerlaw-learning-curves — exact SGD learning curves on power-law spectra against the
 * exponents min((a-1)/b, 2-1/b) and the renewal ratio 1/(1 - ||K||) (theory sheet linreg.md §3).
 *
 * Source: B. Bordelon & C. Pehlevan, "Learning Curves for SGD on Structured Features" (ICLR 2022): with
 * lambda_k ~ k^-b and lambda_k omega_k^2 ~ k^-a, no label noise, the test loss of SGD decays like
 * t^-min{(a-1)/b, 2-1/b}: the gradient-descent (forcing) exponent (a-1)/b until the SGD-noise (kernel)
 * exponent 2 - 1/b takes over.  The discrete Volterra form L_t = F_t + sum_s K_{t-1-s} L_s (§3.1) gives,
 * when the forcing dominates, L_t / F_t -> 1/(1 - ||K||), with F_t = sum_k lambda_k omega_k^2 a_k^t and
 * ||K|| = (lr/B) sum_k lambda_k / (2 - c_B lr lambda_k).  Two runs: a forcing-dominated spectrum
 * (b = 2, a = 3: exponent 1) and a noise-dominated one (b = 1.5, a = 6: exponent 4/3). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "experiments/linreg_exp.h"

static const od_param params[] = {
    {"d", OD_PARAM_INT, 20000, 4000, 100, 1e7, 0, NULL, NULL, "dimension"},
    {"steps", OD_PARAM_INT, 100000, 20000, 1000, 1e9, 0, NULL, NULL, "horizon T (three decades are fitted)"},
    {"lr_frac", OD_PARAM_DOUBLE, 0.5, OD_SAME, 0, 1, OD_LO_OPEN | OD_HI_OPEN, NULL, NULL,
     "step as a fraction of the threshold step"},
    {"b1", OD_PARAM_DOUBLE, 2, OD_SAME, 1.01, 10, 0, NULL, NULL, "forcing-dominated run: spectrum exponent b"},
    {"a1", OD_PARAM_DOUBLE, 3, OD_SAME, 1.01, 20, 0, NULL, NULL, "forcing-dominated run: lambda omega^2 ~ k^-a"},
    {"b2", OD_PARAM_DOUBLE, 1.5, OD_SAME, 1.01, 10, 0, NULL, NULL, "noise-dominated run: spectrum exponent b"},
    {"a2", OD_PARAM_DOUBLE, 6, OD_SAME, 1.01, 20, 0, NULL, NULL, "noise-dominated run: lambda omega^2 ~ k^-a"},
    {"times", OD_PARAM_INT, 121, 61, 20, 10000, 0, NULL, NULL, "log-spaced recording times"},
};

static const od_claim_doc claims[] = {
    {"exponent-run1", "run 1: fitted log-log slope of the exact excess risk over the last decade equals "
                      "-min((a-1)/b, 2-1/b) within twice the slope drift from the previous decade (the "
                      "pre-asymptotic error, assuming it shrinks by at least 1/2 per decade)"},
    {"exponent-run2", "run 2: the same"},
    {"ratio-to-forcing", "run 1 (forcing-dominated): L_t / F_t at the horizon equals 1/(1 - ||K||) within "
                         "twice its drift over the last decade"},
};

typedef struct {
    double b, a, lr, kn, pred, slope, prev, drift, ratio, ratio_drift;
} run_out;

/* One spectrum: exact curve, forcing, local slopes. */
static int one(od_run *r, int idx, double b, double a, od_table *t, run_out *o)
{
    const size_t d = (size_t)od_run_int(r, "d");
    const uint64_t T = (uint64_t)od_run_int(r, "steps");
    double *lambda, *omega;
    OD_TRY(od_exp_linreg_powerlaw_model(d, b, 0.5 * (a - b), &lambda, &omega));   /* lambda omega^2 = k^-a */
    od_linreg_model m = {d, lambda, omega, 0.0, 3.0};
    od_linreg_algo al = od_linreg_algo_sgd(1.0, 1);
    size_t nt;
    uint64_t *times = od_exp_linreg_times(T, (size_t)od_run_int(r, "times"), &nt);
    double *ex = times ? malloc(4 * nt * sizeof *ex) : NULL;
    int st = ex ? od_linreg_threshold_lr(&m, &al, &o->lr) : OD_ENOMEM;
    od_linreg_stability s;
    if (st == OD_OK) {
        al.lr = o->lr *= od_run_num(r, "lr_frac");
        st = od_linreg_stability_compute(&m, &al, &s);
    }
    if (st == OD_OK) st = od_linreg_exact_run(&m, &al, times, nt, ex, NULL, NULL, NULL);
    if (st == OD_OK) {
        double *tt = ex + nt, *F = ex + 2 * nt, *ratio = ex + 3 * nt;
        const double g = al.lr;
        for (size_t i = 0; i < nt; i++) {
            tt[i] = (double)times[i];
            double acc = 0;
            for (size_t k = 0; k < d; k++) {   /* a_k = (1 - g l)^2 + g^2 l^2 (Gaussian, B = 1) */
                double h = g * lambda[k], ak = (1 - h) * (1 - h) + h * h;
                acc += lambda[k] * omega[k] * omega[k] * exp(tt[i] * log(ak));
            }
            F[i] = 0.5 * acc;   /* forcing, in excess units */
            ratio[i] = ex[i] / F[i];
        }
        o->b = b, o->a = a, o->kn = s.kernel_norm;
        o->pred = fmin((a - 1) / b, 2 - 1 / b);
        const double Td = (double)T;
        double s_late, s_early;
        od_loglog_slope(nt, tt, ex, NULL, Td / 10, Td, &s_late, NULL);
        od_loglog_slope(nt, tt, ex, NULL, Td / 100, Td / 10, &s_early, NULL);
        o->slope = -s_late;
        o->prev = -s_early;
        o->drift = fabs(o->slope - o->prev);
        /* ratio at T and at T/10 (nearest recorded) */
        size_t i10 = 0;
        for (size_t i = 0; i < nt; i++)
            if (fabs(log(tt[i] / (Td / 10))) < fabs(log(tt[i10] / (Td / 10)))) i10 = i;
        o->ratio = ratio[nt - 1];
        o->ratio_drift = fabs(ratio[nt - 1] - ratio[i10]);
        char cn[4][32];
        snprintf(cn[0], 32, "excess_%d", idx);
        snprintf(cn[1], 32, "forcing_%d", idx);
        snprintf(cn[2], 32, "ratio_%d", idx);
        snprintf(cn[3], 32, "ref_slope_%d", idx);
        /* reference line of the predicted slope, 4x above the curve at T so that both stay visible */
        for (size_t i = 0; i < nt; i++) tt[i] = 4 * ex[nt - 1] * pow(tt[i] / Td, -o->pred);
        if (idx == 1) {
            for (size_t i = 0; i < nt; i++) ratio[i] = (double)times[i];
            od_table_add_double(t, "t", ratio, nt);
            for (size_t i = 0; i < nt; i++) ratio[i] = ex[i] / F[i];
        }
        od_table_add_double(t, cn[0], ex, nt);
        od_table_add_double(t, cn[1], F, nt);
        od_table_add_double(t, cn[2], ratio, nt);
        od_table_add_double(t, cn[3], tt, nt);
        od_table_meta(t, cn[0], "lambda_k = k^-%g, lambda_k omega_k^2 = k^-%g, d = %zu, lr = %.6g, ||K|| = %.6g; "
                      "predicted exponent %.6g, fitted %.6g over [T/10, T] (drift %.3g)", b, a, d, o->lr,
                      o->kn, o->pred, o->slope, o->drift);
    }
    free(times);
    free(ex);
    od_free(lambda);
    od_free(omega);
    return st;
}

static int run(od_run *r)
{
    od_table *t = od_table_alloc("learning_curves");
    od_figure *f = od_figure_alloc("powerlaw_learning_curves", "SGD learning curves on power-law spectra (exact, σ² = 0)");
    if (!t || !f) {
        od_table_free(t);
        od_figure_free(f);
        OD_ERROR("out of memory", OD_ENOMEM);
    }
    od_table_meta(t, "convention", "excess risk = 1/2 sum_k lambda_k E[(w - w*)_k^2]; forcing = 1/2 sum_k lambda_k "
                  "omega_k^2 a_k^t (the Volterra forcing term without label noise)");
    run_out o[2];
    int status = one(r, 1, od_run_num(r, "b1"), od_run_num(r, "a1"), t, &o[0]);
    if (status == OD_OK) status = one(r, 2, od_run_num(r, "b2"), od_run_num(r, "a2"), t, &o[1]);
    if (status == OD_OK) {
        od_run_claim_close(r, "exponent-run1", o[0].slope, o[0].pred, 2 * o[0].drift);
        od_run_claim_close(r, "exponent-run2", o[1].slope, o[1].pred, 2 * o[1].drift);
        od_run_claim_close(r, "ratio-to-forcing", o[0].ratio, 1 / (1 - o[0].kn), 2 * o[0].ratio_drift);
        for (int i = 0; i < 2; i++)
            od_run_note(r, "run %d (b = %g, a = %g): (a-1)/b = %.4g, 2-1/b = %.4g; fitted exponent %.4f "
                           "(previous decade %.4f); L/F at T = %.5g vs 1/(1-||K||) = %.5g", i + 1, o[i].b,
                        o[i].a, (o[i].a - 1) / o[i].b, 2 - 1 / o[i].b, o[i].slope,
                        o[i].prev, o[i].ratio, 1 / (1 - o[i].kn));
        od_figure_layout(f, 1, 2);
        od_exp_linreg_panel(f, 0, "excess risk and the forcing term",
                            "step t", "excess risk (½ convention)", 1, 1);
        char lab[6][96];
        for (int i = 0; i < 2; i++) {
            char y[4][32];
            snprintf(y[0], 32, "excess_%d", i + 1);
            snprintf(y[1], 32, "forcing_%d", i + 1);
            snprintf(y[2], 32, "ref_slope_%d", i + 1);
            snprintf(lab[2 * i], 96, "b = %g, a = %g: exact SGD", o[i].b, o[i].a);
            snprintf(lab[2 * i + 1], 96, "slope −%.4g = −min((a−1)/b, 2−1/b)", o[i].pred);
            snprintf(lab[4 + i], 96, "b = %g, a = %g: forcing Fₜ (GD part)", o[i].b, o[i].a);
            od_figure_add(f, &(od_series){.table = t, .x = "t", .y = y[0], .kind = OD_PLOT_LINES,
                                          .color = i + 1, .width = 2, .label = lab[2 * i]});
            od_figure_add(f, &(od_series){.table = t, .x = "t", .y = y[1], .kind = OD_PLOT_LINES,
                                          .color = i + 1, .dash = 2, .label = lab[4 + i]});
            od_figure_add(f, &(od_series){.table = t, .x = "t", .y = y[2], .kind = OD_PLOT_LINES,
                                          .color = i + 1, .dash = 3, .label = lab[2 * i + 1]});
        }
        char rt[96];
        snprintf(rt, sizeof rt, "run 1: risk / forcing term, against 1/(1 − ‖K‖) = %.4g (dashed)",
                 1 / (1 - o[0].kn));
        od_exp_linreg_panel(f, 1, rt, "step t", "Lₜ / Fₜ", 1, 0);
        od_figure_add(f, &(od_series){.table = t, .x = "t", .y = "ratio_1", .kind = OD_PLOT_LINES, .color = 1,
                                      .label = "exact Lₜ / Fₜ (forcing-dominated run)"});
        od_figure_hline(f, 1 / (1 - o[0].kn), NULL);
        od_figure_yrange(f, 1, NAN);
        od_figure_key(f, "bottom right");
        if ((status = od_run_table(r, t)) == OD_OK) status = od_run_figure(r, f);
    }
    od_table_free(t);
    od_figure_free(f);
    return status;
}

const od_experiment od_exp_linreg_powerlaw = {
    .name = "powerlaw-learning-curves",
    .title = "Power-law learning curves of SGD: exponents min((a-1)/b, 2-1/b) and the renewal ratio",
    .reference = "B. Bordelon & C. Pehlevan, Learning Curves for SGD on Structured Features (ICLR 2022); "
                 "discrete Volterra form: theory sheet linreg.md §3.1-3.6",
    .summary = "Computes exact noiseless SGD learning curves on two power-law problems, one dominated by the "
               "gradient-descent forcing term and one by the SGD-noise kernel, fits the log-log slope over "
               "the last decade against min((a-1)/b, 2-1/b), and follows the ratio of the risk to the "
               "forcing term towards 1/(1 - ||K||).",
    .doc = "docs/experiments/powerlaw-learning-curves.md",
    .params = params,
    .n_params = sizeof params / sizeof params[0],
    .claims = claims,
    .n_claims = sizeof claims / sizeof claims[0],
    .run = run,
};
