/* Experiment sgd-exact-vs-mc — the exact second-moment recursion of mini-batch SGD against Monte
 * Carlo, for several batch sizes.
 *
 * Model: lambda_k = k^-a (k <= d), omega_k = k^-e, label noise sigma2, features Gaussian, Rademacher
 * or uniform (kurtosis 3, 1, 9/5).  Exact: P_k' = [(1 - g l)^2 + (g^2/B)(kappa - 2) l^2] P_k
 * + (g^2/B) l (S + sigma2) (theory sheet linreg.md §2.2-2.3).  Monte Carlo: the same algorithm
 * description, x = sqrt(lambda) (.) z, through od_ensemble_run.  Each batch size runs at a fixed
 * fraction of its own threshold step (so that every run is mean-square stable and means are the
 * expected risk).  Source: Bordelon & Pehlevan, "Learning Curves for SGD on Structured Features"
 * (ICLR 2022), the Gaussian recursion (their theorem); the kurtosis correction is derived in the
 * sheet. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "experiments/linreg_exp.h"

#define MAX_B 8

static const od_param params[] = {
    {"d", OD_PARAM_INT, 100, 40, 1, 100000, 0, NULL, NULL, "dimension"},
    {"exp", OD_PARAM_DOUBLE, 1.5, OD_SAME, 0, 10, 0, NULL, NULL, "spectrum lambda_k = k^-exp"},
    {"init_exp", OD_PARAM_DOUBLE, 0.25, OD_SAME, -2, 10, 0, NULL, NULL, "initial error omega_k = k^-init_exp"},
    {"sigma2", OD_PARAM_DOUBLE, 0.05, OD_SAME, 0, 100, 0, NULL, NULL, "label-noise variance"},
    {"lr_frac", OD_PARAM_DOUBLE, 0.3, OD_SAME, 0, 1, OD_LO_OPEN | OD_HI_OPEN, NULL, NULL,
     "step as a fraction of each batch size's threshold step"},
    {"batches", OD_PARAM_STRING, 0, OD_SAME, 0, 0, 0, NULL, "1|2|8", "batch sizes, '|'-separated (up to 8)"},
    {"features", OD_PARAM_CHOICE, 0, OD_SAME, 0, 0, 0, "gaussian|rademacher|uniform", NULL, "feature law"},
    {"steps", OD_PARAM_INT, 1000, 200, 10, 1e7, 0, NULL, NULL, "SGD steps"},
    {"paths", OD_PARAM_INT, 2000, 1000, 10, 1e8, 0, NULL, NULL, "Monte Carlo paths per batch size"},
    {"times", OD_PARAM_INT, 30, 15, 3, 1000, 0, NULL, NULL, "log-spaced recording times"},
};

static const od_claim_doc claims[] = {
    {"stable-runs", "every batch size runs mean-square stable (max ||K|| < 1), so Monte Carlo means "
                    "estimate the expected risk"},
    {"agreement-4se", "Monte Carlo mean within 4 SE of the exact excess risk at every recorded time "
                      "t > 0 and every batch size (measured: max |z|)"},
};

static int validate(const od_params *v)
{
    double b[MAX_B];
    size_t nb;
    OD_TRY(od_parse_doubles(od_params_str(v, "batches"), '|', b, MAX_B, &nb, "batches"));
    for (size_t i = 0; i < nb; i++)
        if (!(b[i] >= 1 && b[i] <= 4096 && b[i] == floor(b[i])))
            OD_ERRORF(OD_ERANGE, "batches: %g is not an integer in [1, 4096]", b[i]);
    if (od_params_int(v, "times") > od_params_int(v, "steps"))
        OD_ERROR("times must not exceed steps", OD_ERANGE);
    return OD_OK;
}

static int run(od_run *r)
{
    const size_t d = (size_t)od_run_int(r, "d");
    const od_linreg_features *law = od_linreg_feature_laws[od_run_int(r, "features")];
    double bs[MAX_B], *lambda = NULL, *omega = NULL, *ex = NULL;
    size_t nb, nt;
    od_parse_doubles(od_run_str(r, "batches"), '|', bs, MAX_B, &nb, "batches");
    OD_TRY(od_exp_linreg_powerlaw_model(d, od_run_num(r, "exp"), od_run_num(r, "init_exp"), &lambda, &omega));
    const od_linreg_model m = {d, lambda, omega, od_run_num(r, "sigma2"), law->kurtosis};
    uint64_t *times = od_exp_linreg_times((uint64_t)od_run_int(r, "steps"), (size_t)od_run_int(r, "times"), &nt);
    od_table *t = od_table_alloc("sgd_exact_mc");
    od_figure *f = od_figure_alloc("sgd_exact_mc", "Mini-batch SGD: exact excess risk and Monte Carlo");
    ex = malloc((times ? nt : 1) * sizeof *ex);
    int status = times && t && f && ex ? OD_OK : OD_ENOMEM;
    double zmax = 0, kmax = 0, *col = NULL;
    if (status == OD_OK) {
        col = malloc(nt * sizeof *col);
        for (size_t i = 0; col && i < nt; i++) col[i] = (double)times[i];
        status = col ? od_table_add_double(t, "t", col, nt) : OD_ENOMEM;
        od_table_meta(t, "convention", "excess risk = 1/2 sum_k lambda_k E[(w - w*)_k^2]");
        od_table_meta(t, "model", "lambda_k = k^-%g, omega_k = k^-%g, d = %zu, sigma2 = %g, %s features",
                      od_run_num(r, "exp"), od_run_num(r, "init_exp"), d, m.sigma2, law->name);
        od_figure_layout(f, 1, 2);
        od_exp_linreg_panel(f, 0, "excess risk: exact (lines), Monte Carlo mean ± 2 SE (points)", "step t",
                            OD_EXP_LINREG_RISK, 1, 1);
    }
    for (size_t b = 0; b < nb && status == OD_OK; b++) {
        od_linreg_algo a = od_linreg_algo_sgd(1.0, (size_t)bs[b]);
        double thr;
        od_linreg_stability st;
        if ((status = od_linreg_threshold_lr(&m, &a, &thr)) != OD_OK) break;
        a.lr = od_run_num(r, "lr_frac") * thr;
        if ((status = od_linreg_stability_compute(&m, &a, &st)) != OD_OK) break;
        kmax = fmax(kmax, st.kernel_norm);
        if ((status = od_linreg_exact_run(&m, &a, times, nt, ex, NULL, NULL, NULL)) != OD_OK) break;
        od_linreg_mc_params mp = {.n_paths = (size_t)od_run_int(r, "paths"), .times = times, .n_times = nt,
                                  .features = law, .seed = od_run_seed(r) + b,
                                  .label = od_run_progress_label(r)};
        od_ensemble_result er;
        if ((status = od_linreg_mc_run(&m, &a, &mp, &er)) != OD_OK) break;
        double z = od_exp_linreg_max_z(&er, ex, nt);
        zmax = fmax(zmax, z);
        char cn[4][32], lab[64];
        snprintf(cn[0], 32, "exact_B%g", bs[b]);
        snprintf(cn[1], 32, "mc_B%g", bs[b]);
        snprintf(cn[2], 32, "se_B%g", bs[b]);
        snprintf(cn[3], 32, "z_B%g", bs[b]);
        for (size_t i = 0; i < nt; i++) col[i] = er.se[i] > 0 ? (er.mean[i] - ex[i]) / er.se[i] : NAN;
        od_table_add_double(t, cn[0], ex, nt);
        od_table_add_double(t, cn[1], er.mean, nt);
        od_table_add_double(t, cn[2], er.se, nt);
        od_table_add_double(t, cn[3], col, nt);
        od_table_meta(t, cn[0], "B = %g, lr = %.6g (%.2f of the threshold %.6g), ||K|| = %.4f, %zu paths, "
                      "max |z| = %.2f", bs[b], a.lr, od_run_num(r, "lr_frac"), thr, st.kernel_norm,
                      mp.n_paths, z);
        od_run_note(r, "B = %g: lr = %.4g, ||K|| = %.3f, max |z| = %.2f over %zu times", bs[b], a.lr,
                    st.kernel_norm, z, nt - 1);
        snprintf(lab, sizeof lab, "B = %g", bs[b]);
        od_figure_add(f, &(od_series){.table = t, .x = "t", .y = cn[1], .err = cn[2],
                                      .kind = OD_PLOT_ERRORBARS, .color = (int)b + 1, .label = NULL});
        od_figure_add(f, &(od_series){.table = t, .x = "t", .y = cn[0], .kind = OD_PLOT_LINES,
                                      .color = (int)b + 1, .label = lab});
        od_ensemble_result_free(&er);
    }
    if (status == OD_OK) {
        od_exp_linreg_panel(f, 1, "Monte Carlo − exact, in standard errors", "step t",
                            "z = (MC − exact) / SE", 1, 0);
        od_figure_yrange(f, -5, 5);
        od_figure_key(f, "below");
        for (size_t b = 0; b < nb; b++) {
            char cn[32], lab[32];
            snprintf(cn, 32, "z_B%g", bs[b]);
            snprintf(lab, 32, "B = %g", bs[b]);
            od_figure_add(f, &(od_series){.table = t, .x = "t", .y = cn, .kind = OD_PLOT_LINESPOINTS,
                                          .color = (int)b + 1, .label = lab});
        }
        od_figure_hline(f, 4, "claim: |z| ≤ 4");
        od_figure_hline(f, -4, NULL);
        od_run_claim_check(r, "stable-runs", kmax < 1, kmax, 1, "max ||K|| < 1");
        od_run_claim_le(r, "agreement-4se", zmax, 4.0);
        if ((status = od_run_table(r, t)) == OD_OK) status = od_run_figure(r, f);
    }
    free(col);
    free(ex);
    free(times);
    od_free(lambda);
    od_free(omega);
    od_table_free(t);
    od_figure_free(f);
    return status;
}

const od_experiment od_exp_linreg_exact_mc = {
    .name = "sgd-exact-vs-mc",
    .title = "Mini-batch SGD on linear regression: exact risk recursion against Monte Carlo",
    .reference = "Bordelon & Pehlevan, Learning Curves for SGD on Structured Features (ICLR 2022), "
                 "Gaussian second-moment recursion; kurtosis correction: theory sheet linreg.md §2.3",
    .summary = "For each batch size B, runs SGD at a fixed fraction of its mean-square threshold step "
               "on a power-law spectrum and compares the exact expected excess risk (O(d) recursion, "
               "kurtosis-corrected for Rademacher and uniform features) with the Monte Carlo mean of "
               "the same algorithm description over many paths, at log-spaced times.",
    .doc = "docs/experiments/sgd-exact-vs-mc.md",
    .params = params,
    .n_params = sizeof params / sizeof params[0],
    .claims = claims,
    .n_claims = sizeof claims / sizeof claims[0],
    .validate = validate,
    .run = run,
};
