/* Experiment chinchilla-refit — Approach 3 of Hoffmann et al. (2022) refitted on the data that
 * Besiroglu et al. (2024) reconstructed from its Figure 4, with bootstrap intervals and the
 * comparison with Hoffmann's published law.
 *
 * References: J. Hoffmann et al., "Training Compute-Optimal Large Language Models", NeurIPS 2022
 * (arXiv 2203.15556), Approach 3, eq. (10) and the a, b table; T. Besiroglu, E. Erdil, M. Barnett,
 * J. You, "Chinchilla Scaling: A replication attempt", arXiv 2404.10102 (2024), Table 1 and §3;
 * their repository epoch-research/analyzing-chinchilla (data_analysis.ipynb, svg_extracted_data.csv);
 * theory sheet scaling.md §2-3.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "experiments/scaling_common.h"

static const od_param params[] = {
    {"data", OD_PARAM_STRING, 0, OD_SAME, 0, 0, 0, NULL, "",
     "svg_extracted_data.csv (empty: $OPTDYN_SCALING_DATA or the build's data folder)"},
    {"drop", OD_PARAM_INT, 5, OD_SAME, 0, 100, 0, NULL, NULL,
     "drop the K highest losses (Besiroglu et al.: 5)"},
    {"delta", OD_PARAM_DOUBLE, 1e-3, OD_SAME, 0, 1, OD_LO_OPEN, NULL, NULL,
     "Huber threshold on log residuals (Hoffmann et al.: 1e-3)"},
    {"bootstrap", OD_PARAM_INT, 4000, 200, 20, 1e6, 0, NULL, NULL,
     "bootstrap resamples (Besiroglu et al.: 4000)"},
    {"compute", OD_PARAM_DOUBLE, 5.76e23, OD_SAME, 1e15, 1e30, 0, NULL, NULL,
     "compute budget of the allocation claims, FLOP (Gopher's and Chinchilla's: 5.76e23)"},
};

static const od_claim_doc claims[] = {
    {"rows-kept", "the rule loss < sorted(loss)[-5] keeps 240 of the 245 rows (no tie at the cut)"},
    {"objective-vs-epoch", "the grid fit's sum of Huber losses is at most the objective at "
                           "Besiroglu et al.'s published estimate (the fit converged at least as far)"},
    {"mle-reproduces-epoch", "the Huber-likelihood MLE equals Besiroglu et al.'s published log-form "
                             "estimate, max |difference| <= 1e-6 (printed to 8 decimals)"},
    {"within-published-se", "every refitted parameter (E, A, B, alpha, beta of the grid fit) within "
                            "one published bootstrap SE of Besiroglu et al.'s value: max |z| <= 1"},
    {"bootstrap-se-published", "bootstrap SEs of E, alpha, beta equal the published ones (rounded to "
                               "0.01) within half a rounding unit + 4 sampling SEs of an SD, "
                               "SE/sqrt(2(R-1)): max |diff|/tolerance <= 1"},
    {"hoffmann-rejected-chi2", "Hoffmann's unrounded law rejected by the chi-square test with the "
                               "bootstrap covariance (5 df): p <= 1e-6"},
    {"hoffmann-rejected-lr", "Hoffmann's unrounded law rejected by the likelihood ratio under the "
                             "Huber likelihood (5 df): p <= 1e-6"},
    {"hoffmann-overpredicts", "Hoffmann's rounded law over-predicts the loss of more rows than a sign "
                              "test allows: fraction >= 1/2 + 4 sqrt(1/(4n))"},
    {"chinchilla-20-tokens", "Chinchilla's 20 tokens per parameter (1.4T tokens, 70B parameters) lies "
                             "in the bootstrap 95% interval of D_opt/N_opt at the compute budget"},
    {"hoffmann-interval-implausible", "rows needed for Hoffmann's 80% interval of a (width 0.001) at "
                                      "our 80% width, n (w/0.001)^2, exceed the ~500 runs they had"},
};

/* The path of the data file: the `data` key, else the data folder's file. */
static void data_path(const od_params *v, char *buf, size_t len)
{
    const char *given = od_params_str(v, "data");
    if (given && *given) snprintf(buf, len, "%s", given);
    else snprintf(buf, len, "%s/svg_extracted_data.csv", od_scaling_data_dir());
}

static int validate(const od_params *v)
{
    char path[4096];
    data_path(v, path, sizeof path);
    if (od_params_given(v, "data") && access(path, R_OK) != 0)
        OD_ERRORF(OD_EINVAL, "data=%s: cannot read the file", path);
    return OD_OK;
}

/* The p-quantile of bootstrap quantity j over the finite resamples. */
static double boot_quantile(const od_scaling_boot *b, int j, double p)
{
    double *x = malloc(b->R * sizeof *x), v = NAN;
    size_t m = 0;
    for (size_t k = 0; x && k < b->R; k++)
        if (isfinite(b->q[k * OD_SCALING_NQ + (size_t)j])) x[m++] = b->q[k * OD_SCALING_NQ + (size_t)j];
    if (m > 1) {
        gsl_sort(x, 1, m);
        v = gsl_stats_quantile_from_sorted_data(x, 1, m, p);
    }
    free(x);
    return v;
}

/* Table of the parameters: ours (grid fit, MLE, bootstrap) and the published values. */
static od_table *params_table(const od_scaling_fit *f, const od_scaling_mle *m,
                              const od_scaling_boot *b)
{
    static const char *cols[] = {"grid_fit", "mle", "boot_se", "boot_lo95", "boot_hi95",
                                 "epoch_table", "epoch_se", "hoffmann"};
    od_table *t = od_table_alloc("parameters");
    if (!t) return NULL;
    od_table_add_string(t, "quantity", od_scaling_q_names, OD_SCALING_NQ);
    double q[4][OD_SCALING_NQ], th[OD_SCALING_NPAR];
    od_scaling_quantities(f->theta, q[0]);
    od_scaling_quantities(m->theta, q[1]);
    od_scaling_law_theta(&od_scaling_besiroglu2024_table, th);
    od_scaling_quantities(th, q[2]);
    od_scaling_law_theta(&od_scaling_hoffmann2022, th);
    od_scaling_quantities(th, q[3]);
    const od_scaling_law *se = &od_scaling_besiroglu2024_se;
    double pse[OD_SCALING_NQ] = {se->E, se->A, se->B, se->alpha, se->beta, NAN, NAN};
    const double *col[8] = {q[0], q[1], b->se, b->lo, b->hi, q[2], pse, q[3]};
    for (int c = 0; c < 8; c++) od_table_add_double(t, cols[c], col[c], OD_SCALING_NQ);
    od_table_meta(t, "epoch", "Besiroglu et al. 2024, Table 1 (values and bootstrap SEs)");
    od_table_meta(t, "hoffmann", "Hoffmann et al. 2022, eq. (10), rounded as printed");
    od_table_meta(t, "bootstrap", "%zu resamples of the rows, %zu fitted", b->R, b->n_ok);
    return t;
}

/* Tokens per parameter against compute: the fit, its bootstrap 95% band, Hoffmann's law. */
static od_table *tokens_table(const od_scaling_law *law, const od_scaling_boot *b)
{
    static const char *cols[] = {"C", "tokens_per_param", "boot_lo95", "boot_hi95", "hoffmann"};
    od_table *t = od_exp_scaling_table("tokens", cols, 5);
    for (int i = 0; t && i <= 60; i++) {
        od_exp_scaling_alloc_arg a = {pow(10, 18 + 8.0 * i / 60), OD_EXP_SCALING_TOKENS};
        od_scaling_alloc x, h;
        double row[5] = {a.C, NAN, NAN, NAN, NAN};
        if (od_scaling_allocate(law, a.C, &x) == OD_OK) row[1] = x.tokens_per_param;
        od_scaling_boot_interval(b, od_exp_scaling_alloc_fn, &a, NULL, &row[2], &row[3]);
        if (od_scaling_allocate(&od_scaling_hoffmann2022, a.C, &h) == OD_OK) row[4] = h.tokens_per_param;
        od_table_append(t, row);
    }
    return t;
}

static int run(od_run *r)
{
    char path[4096];
    data_path(od_run_values(r), path, sizeof path);
    if (access(path, R_OK) != 0) {
        od_run_note(r, "the data file %s is not readable, so nothing was checked. It is "
                       "data/svg_extracted_data.csv of github.com/epoch-research/analyzing-chinchilla "
                       "(245 rows). Point the experiment at it with `optdyn run chinchilla-refit "
                       "data=PATH/svg_extracted_data.csv`, or set OPTDYN_SCALING_DATA to the folder "
                       "holding it.", path);
        return OD_OK;
    }
    const double delta = od_run_num(r, "delta"), Cb = od_run_num(r, "compute");
    od_exp_scaling_rows rows;
    OD_TRY(od_exp_scaling_read_rows(path, "Model Size", NULL, "Training FLOP", "loss", &rows));
    int st = OD_OK;
    unsigned char *keep = malloc(rows.n);
    od_scaling_data *d = NULL;
    od_scaling_boot b = {0};
    od_table *t[9] = {0};
    od_figure *f1 = NULL, *f2 = NULL;
    size_t kept;
    if (!keep) {
        st = od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
        goto done;
    }
    if ((st = od_scaling_drop_top(rows.n, rows.L, (size_t)od_run_int(r, "drop"), keep, &kept))) goto done;
    if (!(d = od_exp_scaling_kept_data(&rows, keep))) {
        st = OD_ENOMEM;
        goto done;
    }
    od_run_claim_close(r, "rows-kept", (double)kept, 240, 0);

    /* ---- the grid fit and the MLE --------------------------------------------------------- */
    od_scaling_fit_params fp = od_scaling_fit_default_params();
    fp.delta = delta;
    fp.progress = od_run_progress_label(r) != NULL;
    od_scaling_fit fit;
    od_scaling_mle mle;
    if ((st = od_scaling_fit_chinchilla(d, &fp, &fit)) || (st = od_scaling_fit_mle(d, fit.theta, &fp, &mle)))
        goto done;
    double te[5], tt[5], th[5], thr[5];
    od_scaling_law_theta(&od_scaling_besiroglu2024, te);
    od_scaling_law_theta(&od_scaling_besiroglu2024_table, tt);
    od_scaling_law_theta(&od_scaling_hoffmann2022_tex, th);
    od_scaling_law_theta(&od_scaling_hoffmann2022, thr);
    od_run_claim_le(r, "objective-vs-epoch", fit.objective, od_scaling_objective(d, te, delta, NULL));
    double dmax = 0;
    for (int i = 0; i < 5; i++) dmax = fmax(dmax, fabs(mle.theta[i] - te[i]));
    od_run_claim_le(r, "mle-reproduces-epoch", dmax, 1e-6);
    const od_scaling_law *L = &fit.law, *P = &od_scaling_besiroglu2024_table, *S = &od_scaling_besiroglu2024_se;
    double z[5] = {(L->E - P->E) / S->E, (L->A - P->A) / S->A, (L->B - P->B) / S->B,
                   (L->alpha - P->alpha) / S->alpha, (L->beta - P->beta) / S->beta}, zmax = 0;
    for (int i = 0; i < 5; i++) zmax = fmax(zmax, fabs(z[i]));
    od_run_claim_le(r, "within-published-se", zmax, 1.0);
    od_run_note(r, "grid fit (%zu starts, %zu diverged): E %.4f, A %.2f, B %.1f, alpha %.4f, beta %.4f, "
                   "objective %.10g; z against Table 1 of Besiroglu et al.: %+.3f %+.3f %+.3f %+.3f %+.3f",
                fit.n_starts, fit.n_diverged, L->E, L->A, L->B, L->alpha, L->beta, fit.objective,
                z[0], z[1], z[2], z[3], z[4]);
    od_run_note(r, "Huber-likelihood MLE: theta = (%.8f, %.8f, %.8f, %.8f, %.8f), s = %.4f (sigma "
                   "%.3g), NLL %.7f; published (6.17795598, 7.64273236, 0.59711196, 0.34781303, "
                   "0.36585412)", mle.theta[0], mle.theta[1], mle.theta[2], mle.theta[3], mle.theta[4],
                mle.s, mle.sigma, mle.nll);

    /* ---- bootstrap ------------------------------------------------------------------------ */
    od_scaling_boot_params bp = od_scaling_boot_default_params();
    bp.R = (size_t)od_run_int(r, "bootstrap");
    bp.seed = od_run_seed(r);
    bp.progress = fp.progress;
    if ((st = od_scaling_bootstrap(d, fit.theta, &fp, &bp, &b))) goto done;
    const double sampling = 4.0 / sqrt(2.0 * (double)(b.n_ok - 1));
    const int qs[3] = {OD_SCALING_Q_E, OD_SCALING_Q_ALPHA, OD_SCALING_Q_BETA};
    const double pub[3] = {S->E, S->alpha, S->beta};
    double worst = 0;
    for (int k = 0; k < 3; k++)
        worst = fmax(worst, fabs(b.se[qs[k]] - pub[k]) / (0.005 + sampling * pub[k]));
    od_run_claim_le(r, "bootstrap-se-published", worst, 1.0);
    od_run_note(r, "bootstrap (%zu of %zu resamples fitted) SEs: E %.4f, A %.1f, B %.0f, alpha %.4f, "
                   "beta %.4f, a %.4f; published: 0.03, 124.58, 1293.23, 0.02, 0.02", b.n_ok, b.R,
                b.se[0], b.se[1], b.se[2], b.se[3], b.se[4], b.se[5]);
    double chi2, pc, lr, pl;
    if ((st = od_scaling_chi2_test(&b, fit.theta, th, &chi2, &pc)) ||
        (st = od_scaling_lr_test(d, &mle, th, delta, &lr, &pl)))
        goto done;
    od_run_claim_le(r, "hoffmann-rejected-chi2", pc, 1e-6);
    od_run_claim_le(r, "hoffmann-rejected-lr", pl, 1e-6);
    od_run_note(r, "Hoffmann et al.'s unrounded law: chi-square %.1f (p = %.2g), likelihood ratio "
                   "%.1f (p = %.2g); objective %.6g against the fit's %.6g (rounded law: %.6g)",
                chi2, pc, lr, pl, od_scaling_objective(d, th, delta, NULL), fit.objective,
                od_scaling_objective(d, thr, delta, NULL));
    size_t over = 0;
    for (size_t i = 0; i < d->n; i++)
        over += od_scaling_law_eval(&od_scaling_hoffmann2022, d->N[i], d->D[i]) > d->L[i];
    const double frac = (double)over / (double)d->n;
    od_run_claim_ge(r, "hoffmann-overpredicts", frac, 0.5 + 4 * sqrt(0.25 / (double)d->n));

    /* ---- allocation and the width of Hoffmann's interval ------------------------------------ */
    od_scaling_alloc al;
    od_exp_scaling_alloc_arg ta = {Cb, OD_EXP_SCALING_TOKENS};
    double tlo = NAN, thi = NAN;
    if ((st = od_scaling_allocate(L, Cb, &al)) ||
        (st = od_scaling_boot_interval(&b, od_exp_scaling_alloc_fn, &ta, NULL, &tlo, &thi)))
        goto done;
    od_run_claim_check(r, "chinchilla-20-tokens", 20 >= tlo && 20 <= thi, al.tokens_per_param, 20,
                       "20 in 95% interval");
    od_run_note(r, "at C = %.3g FLOP: N_opt %.3g, D_opt %.3g, %.1f tokens per parameter (bootstrap "
                   "95%% [%.1f, %.1f]); a = %.4f (95%% [%.4f, %.4f])", Cb, al.N_opt, al.D_opt,
                al.tokens_per_param, tlo, thi, al.a, b.lo[OD_SCALING_Q_a], b.hi[OD_SCALING_Q_a]);
    double a10 = boot_quantile(&b, OD_SCALING_Q_a, 0.1), a90 = boot_quantile(&b, OD_SCALING_Q_a, 0.9);
    double need = (double)d->n * pow((a90 - a10) / 0.001, 2);
    od_run_claim_ge(r, "hoffmann-interval-implausible", need, 500);
    od_run_note(r, "80%% bootstrap interval of a: [%.4f, %.4f] (Besiroglu et al.: about [0.49, 0.54]); "
                   "Hoffmann's 80%% interval (0.454, 0.455) would need about %.0f rows at this width "
                   "(Besiroglu et al.: over 600,000)", a10, a90, need);

    /* ---- tables and figures ------------------------------------------------------------------ */
    t[0] = params_table(&fit, &mle, &b);
    t[1] = od_exp_scaling_data_table("data", &rows, keep, 1, L, &od_scaling_hoffmann2022);
    t[2] = od_exp_scaling_data_table("dropped", &rows, keep, 0, L, &od_scaling_hoffmann2022);
    t[3] = od_exp_scaling_surface_table("surface", &rows, L, 90, 70);
    t[4] = od_exp_scaling_frontier_table("frontier", &rows, L, &od_scaling_hoffmann2022);
    t[5] = od_exp_scaling_histogram("boot_alpha", b.q + OD_SCALING_Q_ALPHA, b.R, OD_SCALING_NQ, 40);
    t[6] = od_exp_scaling_histogram("boot_beta", b.q + OD_SCALING_Q_BETA, b.R, OD_SCALING_NQ, 40);
    t[7] = od_exp_scaling_histogram("boot_a", b.q + OD_SCALING_Q_a, b.R, OD_SCALING_NQ, 40);
    t[8] = tokens_table(L, &b);
    for (int k = 0; k < 9; k++)
        if (!t[k] || (st = od_run_table(r, t[k]))) {
            if (!t[k]) st = od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
            goto done;
        }
    f1 = od_exp_scaling_chinchilla_figure("refit", "Chinchilla Approach 3 refitted on the data of "
                                          "Besiroglu et al. (2024)", t[1], t[2], t[3], t[4],
                                          "refit", "Hoffmann et al. (2022), rounded", t[5], t[6], t[7]);
    if (!f1) {
        st = od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
        goto done;
    }
    /* the helper leaves the histogram of a as the current panel */
    od_figure_xrange(f1, fmin(0.45, b.lo[OD_SCALING_Q_a] - 0.02), NAN);
    od_figure_vline(f1, 0.46, "Hoffmann et al.: a = 0.46");
    if ((st = od_run_figure(r, f1))) goto done;
    f2 = od_figure_alloc("tokens", "compute-optimal tokens per parameter");
    if (!f2) {
        st = od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
        goto done;
    }
    od_figure_logx(f2, 1);
    od_figure_logy(f2, 1);
    od_figure_xlabel(f2, "compute C (FLOP)");
    od_figure_ylabel(f2, "D_opt / N_opt (tokens per parameter)");
    od_figure_add(f2, &(od_series){.table = t[8], .x = "C", .y = "tokens_per_param",
                                   .kind = OD_PLOT_LINES, .label = "refit", .color = 1});
    od_figure_add(f2, &(od_series){.table = t[8], .x = "C", .y = "boot_lo95", .kind = OD_PLOT_LINES,
                                   .label = "bootstrap 95% interval", .color = 1, .dash = 2, .width = 1});
    od_figure_add(f2, &(od_series){.table = t[8], .x = "C", .y = "boot_hi95", .kind = OD_PLOT_LINES,
                                   .color = 1, .dash = 2, .width = 1});
    od_figure_add(f2, &(od_series){.table = t[8], .x = "C", .y = "hoffmann", .kind = OD_PLOT_LINES,
                                   .label = "Hoffmann et al. (2022), rounded", .color = 2});
    od_figure_hline(f2, 20, "Chinchilla: 20 tokens per parameter");
    od_figure_vline(f2, Cb, "Chinchilla's budget");
    st = od_run_figure(r, f2);
done:
    for (int k = 0; k < 9; k++) od_table_free(t[k]);
    od_figure_free(f1);
    od_figure_free(f2);
    od_scaling_boot_free(&b);
    od_scaling_data_free(d);
    free(keep);
    od_exp_scaling_rows_free(&rows);
    return st;
}

const od_experiment od_exp_chinchilla_refit = {
    .name = "chinchilla-refit",
    .title = "Chinchilla Approach 3 refitted: bootstrap intervals and Hoffmann's law rejected",
    .reference = "Hoffmann et al., Training Compute-Optimal Large Language Models, NeurIPS 2022, "
                 "Approach 3 (eq. 10); Besiroglu, Erdil, Barnett & You, Chinchilla Scaling: A "
                 "replication attempt, arXiv 2404.10102 (2024), Table 1",
    .summary = "Reads the 245 runs Besiroglu et al. reconstructed from Hoffmann et al.'s Figure 4, "
               "drops the 5 highest losses, fits L = E + A/N^alpha + B/D^beta by Huber loss (delta "
               "1e-3) on log residuals from Hoffmann's 4500 starts, and the Huber-likelihood MLE; "
               "bootstraps the rows for standard errors and intervals; tests Hoffmann's published "
               "law by chi-square and likelihood ratio; and reports the compute-optimal allocation "
               "at Chinchilla's budget.  Without the data file it explains how to point it at one.",
    .doc = "docs/experiments/chinchilla-refit.md",
    .params = params,
    .n_params = sizeof params / sizeof params[0],
    .claims = claims,
    .n_claims = sizeof claims / sizeof claims[0],
    .validate = validate,
    .run = run,
};
