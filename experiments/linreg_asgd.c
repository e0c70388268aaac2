/* Experiment asgd-vs-sgd — accelerated SGD (Jain et al.'s four-parameter form) against SGD,
 * exactly, per eigen-subspace (theory sheet linreg.md §2.6 and §5.4).
 *
 * Source: X. Li, Y. Deng, J. Wu, D. Zhou, Q. Gu, "Risk Bounds of Accelerated SGD for
 * Overparameterized Linear Regression" (ICLR 2024), abstract: ASGD outperforms SGD in the subspace
 * of small eigenvalues (faster exponential decay of the bias), is slower in the subspace of large
 * eigenvalues, and its variance is always larger; the paper's experiment uses d = 2000,
 * lambda_i = i^-2, sigma2 = 0.01, w* = 0 and w_0 - w* in the small-eigenvalue subspace.
 * ASGD (Jain, Kakade, Kidambi, Netrapalli, Sidford, COLT 2018): u = alpha w + (1 - alpha) v,
 * w' = u - delta G(u), v' = beta u + (1 - beta) v - gamma G(u).  The paper's hyper-parameters are not
 * published; the defaults here follow its couplings (delta ~ 1/(psi tr H), gamma >= delta,
 * alpha = 1/(1 + beta)). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "experiments/linreg_exp.h"

static const od_param params[] = {
    {"d", OD_PARAM_INT, 2000, 500, 10, 100000, 0, NULL, NULL, "dimension"},
    {"sigma2", OD_PARAM_DOUBLE, 0.01, OD_SAME, 0, 100, OD_LO_OPEN, NULL, NULL, "label-noise variance"},
    {"delta", OD_PARAM_DOUBLE, 0.1, OD_SAME, 0, 10, OD_LO_OPEN, NULL, NULL, "short step delta (also SGD's step)"},
    {"gamma", OD_PARAM_DOUBLE, 1.0, OD_SAME, 0, 100, OD_LO_OPEN, NULL, NULL, "long step gamma"},
    {"beta", OD_PARAM_DOUBLE, 0.01, OD_SAME, 0, 1, OD_LO_OPEN, NULL, NULL, "beta; alpha = 1/(1 + beta)"},
    {"small_from", OD_PARAM_INT, 100, 50, 2, 100000, 0, NULL, NULL,
     "small-eigenvalue subspace: modes k >= small_from carry the initial error"},
    {"large_to", OD_PARAM_INT, 2, OD_SAME, 1, 100000, 0, NULL, NULL,
     "large-eigenvalue subspace: modes k <= large_to"},
    {"steps", OD_PARAM_INT, 100000, 20000, 100, 1e7, 0, NULL, NULL, "horizon N"},
    {"times", OD_PARAM_INT, 40, 25, 5, 1000, 0, NULL, NULL, "log-spaced recording times"},
};

static const od_claim_doc claims[] = {
    {"stable", "both methods are mean-square stable at these steps (max ||K|| < 1)"},
    {"asgd-wins-small-subspace", "with w_0 - w* in the small-eigenvalue subspace (the paper's setup), "
                                 "ASGD's exact excess risk at N is below SGD's (measured: ratio ASGD/SGD, "
                                 "bound 1)"},
    {"asgd-loses-large-subspace", "with w_0 - w* in the large-eigenvalue subspace, ASGD's exact bias at N "
                                  "is above SGD's (measured: ratio ASGD/SGD, bound 1)"},
    {"asgd-variance-larger", "the variance (w_0 = w*) of ASGD is above SGD's at every recorded time t >= 2 "
                             "(at t = 1 both are -delta G(w_0)) (measured: min ratio ASGD/SGD, bound 1)"},
    {"one-crossover", "per mode, the noiseless decay rates -ln rho (rho: spectral radius of the mean "
                      "map) cross once: ASGD slower for the largest eigenvalues, faster below a "
                      "crossover (measured: number of sign changes over the modes)"},
};

static int validate(const od_params *v)
{
    long d = od_params_int(v, "d");
    if (od_params_int(v, "small_from") > d || od_params_int(v, "large_to") >= od_params_int(v, "small_from"))
        OD_ERROR("need large_to < small_from <= d", OD_ERANGE);
    if (od_params_num(v, "gamma") < od_params_num(v, "delta"))
        OD_ERROR("gamma must be >= delta (the long step)", OD_ERANGE);
    return OD_OK;
}

static int run(od_run *r)
{
    const size_t d = (size_t)od_run_int(r, "d"), ks = (size_t)od_run_int(r, "small_from"),
                 kl = (size_t)od_run_int(r, "large_to");
    const double dl = od_run_num(r, "delta"), ga = od_run_num(r, "gamma"), be = od_run_num(r, "beta");
    const uint64_t N = (uint64_t)od_run_int(r, "steps");
    double *lambda = NULL, *ones = NULL;
    size_t nt;
    OD_TRY(od_exp_linreg_powerlaw_model(d, 2.0, 0.0, &lambda, &ones));
    uint64_t *times = od_exp_linreg_times(N, (size_t)od_run_int(r, "times"), &nt);
    const size_t nn = times ? nt : 1;
    double *om[3] = {od_vec_alloc(d), od_vec_alloc(d), od_vec_alloc(d)};   /* small, large, zero */
    double *col = malloc(nn * sizeof *col), *res[2][3];
    for (int a = 0; a < 2; a++)
        for (int c = 0; c < 3; c++) res[a][c] = malloc(nn * sizeof(double));
    od_table *t = od_table_alloc("asgd_vs_sgd"), *tm = od_table_alloc("mode_factors");
    od_figure *f = od_figure_alloc("asgd_vs_sgd", "ASGD vs SGD per eigen-subspace (exact)");
    int status = times && om[0] && om[1] && om[2] && col && t && tm && f ? OD_OK : OD_ENOMEM;
    for (int a = 0; a < 2; a++)
        for (int c = 0; c < 3; c++)
            if (!res[a][c]) status = OD_ENOMEM;
    od_linreg_algo algos[2] = {od_linreg_algo_sgd(dl, 1), od_linreg_algo_asgd(1 / (1 + be), be, ga, dl, 1)};
    double kmax = 0;
    if (status == OD_OK) {
        for (size_t k = 0; k < d; k++) {
            om[0][k] = k + 1 >= ks ? 1.0 : 0.0;
            om[1][k] = k + 1 <= kl ? 1.0 : 0.0;
        }
        const double s2[3] = {0, 0, od_run_num(r, "sigma2")};
        for (int a = 0; a < 2 && status == OD_OK; a++) {
            od_linreg_model mv = {d, lambda, om[2], s2[2], 3.0};
            od_linreg_stability st;
            if ((status = od_linreg_stability_compute(&mv, &algos[a], &st)) != OD_OK) break;
            kmax = fmax(kmax, st.kernel_norm);
            for (int c = 0; c < 3 && status == OD_OK; c++) {
                od_linreg_model m = {d, lambda, om[c], s2[c], 3.0};
                status = od_linreg_exact_run(&m, &algos[a], times, nt, res[a][c], NULL, NULL, NULL);
            }
        }
    }
    double rs = NAN, rl = NAN, rv = INFINITY;
    int crossings = -1;
    if (status == OD_OK) {
        for (size_t i = 0; i < nt; i++) col[i] = (double)times[i];
        od_table_add_double(t, "t", col, nt);
        od_table_meta(t, "convention", "excess risk = 1/2 sum_k lambda_k E[(w - w*)_k^2]");
        od_table_meta(t, "model", "d = %zu, lambda_i = i^-2, Gaussian features; bias runs sigma2 = 0 with "
                      "omega = 1 on k >= %zu (small) or k <= %zu (large); variance run omega = 0, sigma2 = %g",
                      d, ks, kl, od_run_num(r, "sigma2"));
        od_table_meta(t, "algorithms", "SGD delta = %g; ASGD alpha = %.6g, beta = %g, gamma = %g, delta = %g",
                      dl, 1 / (1 + be), be, ga, dl);
        const char *cn[2][3] = {{"sgd_small", "sgd_large", "sgd_var"}, {"asgd_small", "asgd_large", "asgd_var"}};
        for (int a = 0; a < 2; a++)
            for (int c = 0; c < 3; c++) od_table_add_double(t, cn[a][c], res[a][c], nt);
        rs = res[1][0][nt - 1] / res[0][0][nt - 1];
        rl = res[1][1][nt - 1] / res[0][1][nt - 1];
        for (size_t i = 0; i < nt; i++)   /* from t = 2: after one step both are -delta G(w_0) */
            if (times[i] >= 2) rv = fmin(rv, res[1][2][i] / res[0][2][i]);
        /* per mode: noiseless decay rates -ln rho and the squared factors at N */
        double row[5];
        const char *mc[5] = {"lambda", "sgd_rate", "asgd_rate", "sgd_factor", "asgd_factor"};
        for (int c = 0; c < 5; c++) od_table_add_double(tm, mc[c], NULL, 0);
        od_table_meta(tm, "columns", "lambda_k; decay rates -ln rho of the noiseless mean map (SGD: "
                      "-ln|1 - delta lambda|); squared noiseless error factors at N = %llu per unit omega_k^2",
                      (unsigned long long)N);
        int prev = 0;
        double cross = NAN;
        crossings = 0;
        for (size_t k = 0; k < d; k++) {
            row[0] = lambda[k];
            row[1] = -log(od_linreg_mean_rate(&algos[0], lambda[k]));
            row[2] = -log(od_linreg_mean_rate(&algos[1], lambda[k]));
            od_linreg_asgd_bias_factors(1 / (1 + be), be, ga, dl, lambda[k], N, &row[3], &row[4]);
            od_table_append(tm, row);
            int sgn = row[2] < row[1] ? 1 : -1;   /* +1: ASGD slower */
            if (prev && sgn != prev) {
                crossings++;
                cross = lambda[k];
            }
            prev = sgn;
        }
        od_run_note(r, "ratios ASGD/SGD at N = %llu: small-subspace bias %.4g, large-subspace bias %.4g, "
                       "variance %.4g (minimum over t >= 2: %.4g); per-mode crossover near lambda = %.3g",
                    (unsigned long long)N, rs, rl, res[1][2][nt - 1] / res[0][2][nt - 1], rv, cross);
    }
    od_run_claim_check(r, "stable", kmax < 1, kmax, 1, "max ||K|| < 1");
    od_run_claim_le(r, "asgd-wins-small-subspace", rs, 1.0);
    od_run_claim_ge(r, "asgd-loses-large-subspace", rl, 1.0);
    od_run_claim_ge(r, "asgd-variance-larger", rv, 1.0);
    od_run_claim_check(r, "one-crossover", crossings == 1, crossings, 1, "sign changes == 1");
    if (status == OD_OK) {
        const char *titles[3] = {"bias, w₀ − w* in the small-eigenvalue subspace",
                                 "bias, w₀ − w* in the large-eigenvalue subspace", "variance (w₀ = w*)"};
        const char *cs[3] = {"small", "large", "var"};
        od_figure_layout(f, 2, 2);
        for (int c = 0; c < 3; c++) {
            char y0[32], y1[32];
            od_exp_linreg_panel(f, c != 0, titles[c], "step t", OD_EXP_LINREG_RISK, 1, 1);
            snprintf(y0, sizeof y0, "sgd_%s", cs[c]);
            snprintf(y1, sizeof y1, "asgd_%s", cs[c]);
            od_figure_add(f, &(od_series){.table = t, .x = "t", .y = y0, .kind = OD_PLOT_LINES, .label = "SGD"});
            od_figure_add(f, &(od_series){.table = t, .x = "t", .y = y1, .kind = OD_PLOT_LINES, .label = "ASGD"});
        }
        od_exp_linreg_panel(f, 1, "per-mode noiseless decay rate",
                            "eigenvalue λₖ", "−ln ρ (error ∝ ρᵗ)", 1, 1);
        od_figure_add(f, &(od_series){.table = tm, .x = "lambda", .y = "sgd_rate", .kind = OD_PLOT_LINES,
                                      .label = "SGD: −ln(1 − δλ)"});
        od_figure_add(f, &(od_series){.table = tm, .x = "lambda", .y = "asgd_rate", .kind = OD_PLOT_LINES,
                                      .label = "ASGD: −ln ρ, ρ = spectral radius of the mean map"});
        od_figure_key(f, "top left");
        if ((status = od_run_table(r, t)) == OD_OK && (status = od_run_table(r, tm)) == OD_OK)
            status = od_run_figure(r, f);
    }
    for (int a = 0; a < 2; a++)
        for (int c = 0; c < 3; c++) free(res[a][c]);
    for (int c = 0; c < 3; c++) od_free(om[c]);
    free(col);
    free(times);
    od_free(lambda);
    od_free(ones);
    od_table_free(t);
    od_table_free(tm);
    od_figure_free(f);
    return status;
}

const od_experiment od_exp_linreg_asgd = {
    .name = "asgd-vs-sgd",
    .title = "Accelerated SGD vs SGD: faster in the small-eigenvalue subspace, larger variance",
    .reference = "X. Li, Y. Deng, J. Wu, D. Zhou, Q. Gu, Risk Bounds of Accelerated SGD for "
                 "Overparameterized Linear Regression (ICLR 2024), abstract and experimental setup",
    .summary = "Computes exactly, with lambda_i = i^-2, d = 2000, sigma2 = 0.01 and Gaussian features, the "
               "excess risk of SGD and of Jain-form ASGD with the initial error confined to the "
               "small-eigenvalue subspace (the paper's setup) or to the top modes, and their variances; "
               "and the per-mode noiseless bias factors at the horizon, which cross once.",
    .doc = "docs/experiments/asgd-vs-sgd.md",
    .params = params,
    .n_params = sizeof params / sizeof params[0],
    .claims = claims,
    .n_claims = sizeof claims / sizeof claims[0],
    .validate = validate,
    .run = run,
};
