/* Experiment sgd-stability — the mean-square stability threshold of SGD on linear regression: bounded
 * below it, geometric growth above it, and Monte Carlo means that mislead past ||K|| = 1 (theory sheet
 * linreg.md §3.3-3.4).
 *
 * With a_k = (1 - g l_k)^2 + (g^2/B) l_k^2 (Gaussian features), the diagonal second moments obey
 * P' = A P + (g^2/B) sigma2 lambda with the symmetric matrix A = diag(a) + (g^2/B) lambda lambda^T.
 * Stable iff rho(A) < 1 iff ||K|| = (g/B) sum_k l_k/(2 - c_B g l_k) < 1 (c_B = 1 + 1/B); the threshold
 * g_c solves ||K|| = 1, in closed form 2/rho(c_B diag(lambda) + (1/B) lambda 1^T) (a MathOverflow answer
 * citing a note by Y. Bulatov, for B = 1); the stationary excess is 1/2 sigma2 ||K||/(1 - ||K||).
 * Above g_c the expected risk grows like rho(A)^t while most individual runs still converge, so a
 * Monte Carlo mean is dominated by rare runs and lies far below the expected value. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "experiments/linreg_exp.h"

#define NG 3

static const od_param params[] = {
    {"d", OD_PARAM_INT, 100, OD_SAME, 2, 4096, 0, NULL, NULL, "dimension (<= 4096: eigen-decompositions)"},
    {"exp", OD_PARAM_DOUBLE, 2, OD_SAME, 0, 10, 0, NULL, NULL, "spectrum lambda_k = k^-exp"},
    {"sigma2", OD_PARAM_DOUBLE, 0.1, OD_SAME, 0, 100, OD_LO_OPEN, NULL, NULL, "label-noise variance"},
    {"batch", OD_PARAM_INT, 1, OD_SAME, 1, 4096, 0, NULL, NULL, "batch size B"},
    {"below", OD_PARAM_DOUBLE, 0.9, OD_SAME, 0, 1, OD_LO_OPEN | OD_HI_OPEN, NULL, NULL, "step below: g / g_c"},
    {"above", OD_PARAM_DOUBLE, 1.1, OD_SAME, 1, 2, OD_LO_OPEN, NULL, NULL, "step above: g / g_c"},
    {"steps", OD_PARAM_INT, 2000, 500, 100, 1e6, 0, NULL, NULL, "steps of the Monte Carlo runs and the growth fit"},
    {"long_steps", OD_PARAM_INT, 200000, 50000, 1000, 1e8, 0, NULL, NULL, "steps of the convergence check below g_c"},
    {"paths", OD_PARAM_INT, 2000, 1000, 10, 1e8, 0, NULL, NULL, "Monte Carlo paths"},
};

static const od_claim_doc claims[] = {
    {"threshold-closed-form", "bisection threshold equals the eigenvalue closed form 2/rho(c_B diag(lambda) + "
                              "(1/B) lambda 1^T) within 1e-10 relative (bisection to 1e-13, eigensolver d eps)"},
    {"kernel-norm-one-at-threshold", "||K|| at the threshold equals 1 within 1e-9"},
    {"bounded-below", "below the threshold the exact excess after long_steps equals 1/2 sigma2 ||K||/(1 - ||K||) "
                      "within 1/2 |lambda| rho(A)^T |P_0 - P_inf| + 1e-12 relative (measured: |excess - "
                      "stationary| / that bound)"},
    {"geometric-growth-above", "above the threshold ln(excess) grows linearly at the rate ln rho(A): fitted "
                               "slope over [T/2, T] within 1e-6 relative (the next eigenvalue's share decays "
                               "like (rho_2/rho)^(T/2))"},
    {"flagged", "the stability check flags the step above as mean-square divergent (||K|| >= 1) and the step "
                "below as stable"},
    {"mc-misleads-above", "above the threshold the Monte Carlo mean at T is far below the exact expected risk: "
                          "ratio exact / MC mean >= 100 (measured)"},
};

/* Eigenvalues (decreasing) of A = diag(a) + (g^2/B) lambda lambda^T. */
static int a_eigs(size_t d, const double *l, double g, size_t B, double *ev)
{
    double *A = od_vec_alloc(d * d);
    if (!A) OD_ERROR("out of memory", OD_ENOMEM);
    const double c = g * g / (double)B;
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++) {
            double h = g * l[i];
            A[i * d + j] = c * l[i] * l[j] + (i == j ? (1 - h) * (1 - h) + c * l[i] * l[i] : 0);
        }
    int st = od_symm_eigen(d, A, ev, NULL);
    od_free(A);
    return st;
}

static int run(od_run *r)
{
    const size_t d = (size_t)od_run_int(r, "d"), B = (size_t)od_run_int(r, "batch");
    const double s2 = od_run_num(r, "sigma2");
    const uint64_t T = (uint64_t)od_run_int(r, "steps"), TL = (uint64_t)od_run_int(r, "long_steps");
    double *lambda = NULL, *ones = NULL;
    OD_TRY(od_exp_linreg_powerlaw_model(d, od_run_num(r, "exp"), 0.0, &lambda, &ones));
    const od_linreg_model m = {d, lambda, ones, s2, 3.0};
    size_t nt;
    uint64_t *times = od_exp_linreg_times(T, 40, &nt);
    double *ev = od_vec_alloc(d), *cols = malloc((1 + 4 * NG) * (times ? nt : 1) * sizeof *cols);
    od_table *t = od_table_alloc("stability");
    od_figure *f = od_figure_alloc("sgd_stability", "SGD mean-square stability threshold");
    int status = times && ev && cols && t && f ? OD_OK : OD_ENOMEM;
    od_linreg_algo a = od_linreg_algo_sgd(1.0, B);
    double gc = NAN, gcc = NAN, knc = NAN;
    if (status == OD_OK) status = od_linreg_threshold_lr(&m, &a, &gc);
    if (status == OD_OK) status = od_linreg_threshold_lr_closed(d, lambda, 3.0, B, &gcc);
    if (status == OD_OK) {
        od_linreg_stability st;
        a.lr = gc;
        od_linreg_stability_compute(&m, &a, &st);
        knc = st.kernel_norm;
    }
    od_run_claim_le(r, "threshold-closed-form", fabs(gc / gcc - 1), 1e-10);
    od_run_claim_close(r, "kernel-norm-one-at-threshold", knc, 1.0, 1e-9);
    const double fr[NG] = {0.5, od_run_num(r, "below"), od_run_num(r, "above")};
    double bound_ratio = NAN, rate_err = NAN, mis = NAN;
    int flag_ok = 0;
    od_linreg_stability sb, sa;
    if (status == OD_OK) {
        /* below: long run against the stationary value, with the contraction bound */
        a.lr = fr[1] * gc;
        od_linreg_stability_compute(&m, &a, &sb);
        double ex;
        if ((status = od_linreg_exact_run(&m, &a, &TL, 1, &ex, NULL, NULL, NULL)) == OD_OK &&
            (status = a_eigs(d, lambda, a.lr, B, ev)) == OD_OK) {
            const double g = a.lr, c = g * g / (double)B, L = s2 / (1 - sb.kernel_norm);
            double nl = 0, dp = 0;
            for (size_t k = 0; k < d; k++) {
                double h = g * lambda[k], ak = (1 - h) * (1 - h) + c * lambda[k] * lambda[k];
                double pinf = c * lambda[k] * L / (1 - ak);
                nl += lambda[k] * lambda[k];
                dp += (1 - pinf) * (1 - pinf);   /* P_0 = omega^2 = 1 */
            }
            double bound = 0.5 * sqrt(nl) * pow(fabs(ev[0]), (double)TL) * sqrt(dp) + 1e-12 * sb.stationary_excess;
            bound_ratio = fabs(ex - sb.stationary_excess) / bound;
            od_run_note(r, "below (g = %.4g g_c): ||K|| = %.6g, rho(A) = %.10g; excess after %llu steps %.12g, "
                           "stationary %.12g", fr[1], sb.kernel_norm, ev[0], (unsigned long long)TL, ex,
                        sb.stationary_excess);
        }
    }
    if (status == OD_OK) {
        /* above: growth rate against ln rho(A) */
        a.lr = fr[2] * gc;
        od_linreg_stability_compute(&m, &a, &sa);
        flag_ok = !sa.stable && sa.kernel_norm >= 1 && sb.stable;
        if ((status = a_eigs(d, lambda, a.lr, B, ev)) == OD_OK) {
            double x[64], y[64];
            uint64_t ts[64];
            for (int q = 0; q < 64; q++) ts[q] = T / 2 + (uint64_t)q * (T / 2) / 63;
            if ((status = od_linreg_exact_run(&m, &a, ts, 64, y, NULL, NULL, NULL)) == OD_OK) {
                for (int q = 0; q < 64; q++) x[q] = (double)ts[q], y[q] = log(y[q]);
                double slope = od_exp_linreg_slope(64, x, y);
                rate_err = fabs(slope / log(ev[0]) - 1);
                od_run_note(r, "above (g = %.4g g_c): ||K|| = %.6g, rho(A) = %.10g; fitted growth rate %.10g per "
                               "step, ln rho(A) = %.10g", fr[2], sa.kernel_norm, ev[0], slope, log(ev[0]));
            }
        }
    }
    od_run_claim_le(r, "bounded-below", bound_ratio, 1.0);
    od_run_claim_le(r, "geometric-growth-above", rate_err, 1e-6);
    od_run_claim_check(r, "flagged", flag_ok, sa.kernel_norm, 1, "above unstable, below stable");
    /* curves: exact and Monte Carlo (mean and median) at the three steps */
    const double q50 = 0.5;
    for (int j = 0; j < NG && status == OD_OK; j++) {
        a.lr = fr[j] * gc;
        double *ex = cols + (1 + 4 * j) * nt;
        if ((status = od_linreg_exact_run(&m, &a, times, nt, ex, NULL, NULL, NULL)) != OD_OK) break;
        od_linreg_mc_params mp = {.n_paths = (size_t)od_run_int(r, "paths"), .times = times, .n_times = nt,
                                  .features = &od_linreg_gaussian, .seed = od_run_seed(r) + (uint64_t)j,
                                  .label = od_run_progress_label(r), .quantiles = &q50, .n_quantiles = 1};
        od_ensemble_result er;
        if ((status = od_linreg_mc_run(&m, &a, &mp, &er)) != OD_OK) break;
        for (size_t i = 0; i < nt; i++) {
            cols[(2 + 4 * j) * nt + i] = er.mean[i];
            cols[(3 + 4 * j) * nt + i] = er.se[i];
            cols[(4 + 4 * j) * nt + i] = er.quantile[i];
        }
        if (j == 2) {
            mis = ex[nt - 1] / er.mean[nt - 1];
            od_run_note(r, "above, t = %llu: exact %.4g, Monte Carlo mean %.4g ± %.2g (SE), median %.4g over %zu "
                           "paths (%zu finite)", (unsigned long long)T, ex[nt - 1], er.mean[nt - 1],
                        er.se[nt - 1], er.quantile[nt - 1], er.n_paths, er.n_ok[nt - 1]);
        }
        od_ensemble_result_free(&er);
    }
    od_run_claim_ge(r, "mc-misleads-above", mis, 100);
    if (status == OD_OK) {
        for (size_t i = 0; i < nt; i++) cols[i] = (double)times[i];
        od_table_add_double(t, "t", cols, nt);
        for (int j = 0; j < NG; j++) {
            char cn[4][32];
            snprintf(cn[0], 32, "exact_%d", j);
            snprintf(cn[1], 32, "mc_mean_%d", j);
            snprintf(cn[2], 32, "mc_se_%d", j);
            snprintf(cn[3], 32, "mc_median_%d", j);
            for (int c = 0; c < 4; c++) od_table_add_double(t, cn[c], cols + (1 + 4 * j + c) * nt, nt);
            od_table_meta(t, cn[0], "g = %.4g g_c = %.10g", fr[j], fr[j] * gc);
        }
        od_table_meta(t, "convention", "excess risk = 1/2 sum_k lambda_k E[(w - w*)_k^2]");
        od_table_meta(t, "model", "lambda_k = k^-%g, d = %zu, omega = 1, sigma2 = %g, B = %zu, Gaussian features; "
                      "g_c = %.12g (bisection), %.12g (closed form)", od_run_num(r, "exp"), d, s2, B, gc, gcc);
        od_figure_layout(f, 1, 2);
        char below[128];
        snprintf(below, sizeof below, "below the threshold γc (dashed: ½σ²‖K‖/(1 − ‖K‖) at %.2f γc)", fr[1]);
        od_exp_linreg_panel(f, 0, below, "step t", OD_EXP_LINREG_RISK, 1, 1);
        char lab[6][96];
        for (int j = 0; j < 2; j++) {
            snprintf(lab[3 + j], 96, "γ = %.2f γc: Monte Carlo mean ± 2 SE", fr[j]);
            char y[3][32];
            snprintf(y[0], 32, "exact_%d", j);
            snprintf(y[1], 32, "mc_mean_%d", j);
            snprintf(y[2], 32, "mc_se_%d", j);
            snprintf(lab[j], 96, "γ = %.2f γc: exact", fr[j]);
            od_figure_add(f, &(od_series){.table = t, .x = "t", .y = y[1], .err = y[2], .kind = OD_PLOT_BAND,
                                          .color = j + 1, .label = lab[3 + j]});
            od_figure_add(f, &(od_series){.table = t, .x = "t", .y = y[0], .kind = OD_PLOT_LINES, .color = j + 1,
                                          .label = lab[j]});
        }
        od_figure_hline(f, sb.stationary_excess, NULL);
        od_exp_linreg_panel(f, 1, "above the threshold: mean-square divergent",
                            "step t", "excess risk", 1, 1);
        snprintf(lab[2], 96, "γ = %.2f γc: exact expected risk", fr[2]);
        od_figure_add(f, &(od_series){.table = t, .x = "t", .y = "exact_2", .kind = OD_PLOT_LINES, .color = 3,
                                      .width = 2, .label = lab[2]});
        od_figure_add(f, &(od_series){.table = t, .x = "t", .y = "mc_mean_2", .kind = OD_PLOT_POINTS, .color = 4,
                                      .label = "Monte Carlo mean: NOT the expected risk"});
        od_figure_add(f, &(od_series){.table = t, .x = "t", .y = "mc_median_2", .kind = OD_PLOT_LINES, .color = 5,
                                      .dash = 2, .label = "Monte Carlo median (a typical run)"});
        char note[128];
        snprintf(note, sizeof note, "‖K‖ = %.3f ≥ 1: the expected risk grows like ρ(A)ᵗ", sa.kernel_norm);
        od_figure_note(f, note);
        /* Monte Carlo mean and median within ten decades of the range: the exact curve leaves the
         * panel through the top (its growth rate is in the note) rather than squeezing them */
        double lo = INFINITY, hi = 0;
        for (size_t i = 0; i < nt; i++) {
            const double md = cols[(1 + 4 * 2 + 3) * nt + i], mn = cols[(1 + 4 * 2 + 1) * nt + i];
            if (md > 0 && isfinite(md)) lo = fmin(lo, md);
            if (isfinite(mn)) hi = fmax(hi, mn);
        }
        if (isfinite(lo) && hi > 0) od_figure_yrange(f, lo / 3, hi * 1e10);
        od_figure_key(f, "below");
        if ((status = od_run_table(r, t)) == OD_OK) status = od_run_figure(r, f);
    }
    free(times);
    free(cols);
    od_free(ev);
    od_free(lambda);
    od_free(ones);
    od_table_free(t);
    od_figure_free(f);
    return status;
}

const od_experiment od_exp_linreg_stability = {
    .name = "sgd-stability",
    .title = "SGD's mean-square stability threshold: bounded below, geometric growth and misleading means above",
    .reference = "Theory sheet linreg.md §3.3-3.4 (kernel norm and threshold; the closed form 2/rho(2 diag(lambda) "
                 "+ lambda 1^T) for B = 1 from a MathOverflow answer citing Y. Bulatov); Bordelon & Pehlevan, "
                 "ICLR 2022, second-moment recursion",
    .summary = "Finds SGD's threshold step by bisection on ||K|| = 1 and checks it against the eigenvalue "
               "closed form; below it, the exact risk converges to 1/2 sigma2 ||K||/(1 - ||K||); above it, the "
               "exact expected risk grows at the rate ln rho(A) while the Monte Carlo mean and median of "
               "the same runs stay small: the tool flags the run as mean-square divergent instead.",
    .doc = "docs/experiments/sgd-stability.md",
    .params = params,
    .n_params = sizeof params / sizeof params[0],
    .claims = claims,
    .n_claims = sizeof claims / sizeof claims[0],
    .run = run,
};
