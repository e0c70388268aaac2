/* Experiment synthetic-recovery — does the Chinchilla fit recover a known law within its own
 * bootstrap intervals, at the advertised coverage?
 *
 * Each repetition draws losses L_i = L(N_i, D_i) exp(sigma z_i), z_i ~ N(0, 1), from a known law
 * on an iso-FLOP design like Hoffmann et al.'s, fits it exactly as chinchilla-refit does (Huber
 * loss on log residuals from a subset of Hoffmann's grid, BFGS, lowest objective kept), and
 * bootstraps the rows for percentile intervals.  Over M repetitions: the coverage of the intervals
 * (with its binomial standard error), the bias of the estimates, and whether the bootstrap standard
 * error matches the spread of the estimates across repetitions.
 *
 * References: Hoffmann et al. (2022), Approach 3; Besiroglu et al. (2024) §3 (bootstrap);
 * B. Efron & R. Tibshirani, An Introduction to the Bootstrap (1993), ch. 13 (percentile interval);
 * theory sheet scaling.md §2.7 and "Validation ideas".
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_statistics_double.h>

#include "experiments/scaling_common.h"

enum { STREAM_NOISE = 1, STREAM_BOOT0 = 0x1000, MAX_REPS = 50000 };

static const od_param params[] = {
    {"reps", OD_PARAM_INT, 150, 24, 10, MAX_REPS, 0, NULL, NULL, "repetitions (data sets) M"},
    {"bootstrap", OD_PARAM_INT, 150, 60, 20, 100000, 0, NULL, NULL, "bootstrap resamples per data set"},
    {"sigma", OD_PARAM_DOUBLE, 0.01, OD_SAME, 1e-4, 0.5, 0, NULL, NULL,
     "log-normal noise: sd of log L around the law"},
    {"budgets", OD_PARAM_INT, 9, OD_SAME, 3, 40, 0, NULL, NULL,
     "compute budgets, half a decade apart from 1e18 FLOP"},
    {"sizes", OD_PARAM_INT, 24, OD_SAME, 3, 200, 0, NULL, NULL,
     "model sizes per budget, spread over two decades around the optimum"},
    {"delta", OD_PARAM_DOUBLE, 1e-3, OD_SAME, 0, 10, OD_LO_OPEN, NULL, NULL,
     "Huber threshold on log residuals"},
    {"starts", OD_PARAM_INT, 150, 45, 1, 4500, 0, NULL, NULL,
     "starts per fit: every (4500/starts)-th point of Hoffmann's grid"},
    {"level", OD_PARAM_DOUBLE, 0.95, OD_SAME, 0.5, 0.99, 0, NULL, NULL,
     "nominal coverage of the percentile intervals"},
};

static const od_claim_doc claims[] = {
    {"coverage-E", "the percentile interval of E covers the true E at the nominal rate: "
                   "|coverage - level| <= 4 binomial SEs, sqrt(level (1 - level) / M)"},
    {"coverage-alpha", "the same for alpha"},
    {"coverage-beta", "the same for beta"},
    {"coverage-a", "the same for a = beta/(alpha+beta), the exponent of N_opt(C)"},
    {"unbiased", "the mean estimate of E, alpha, beta is within 4 Monte Carlo SEs of the truth "
                 "(measured: max |z| over the three)"},
    {"se-matches-spread", "the mean bootstrap SE of E, alpha, beta equals the SD of the estimates over "
                          "the repetitions within 4 SEs of that SD, sqrt(1/(2(M-1))) relative "
                          "(measured: max |ratio - 1| / tolerance)"},
};

/* One repetition's result: theta[5], then per quantity (E, A, B, alpha, beta, a, b) the estimate,
 * the bootstrap interval and the bootstrap SE, then the number of fitted resamples. */
enum { NQ = OD_SCALING_NQ, O_Q = 5, O_LO = O_Q + NQ, O_HI = O_LO + NQ, O_SE = O_HI + NQ,
       O_OK = O_SE + NQ, ITEM = O_OK + 1 };

typedef struct {
    const od_scaling_data *design;   /* N and D of the design */
    double sigma, level;
    uint64_t seed;
    size_t R;
    od_scaling_fit_params fp;
} cfg;

/* Repetition k: draw the data (stream STREAM_NOISE at path k), fit, bootstrap (stream
 * STREAM_BOOT0 + k).  The inner od_map calls run on one thread inside this parallel item. */
static int rep_item(size_t k, double *out, void *ws, void *arg)
{
    (void)ws;
    const cfg *c = arg;
    const size_t n = c->design->n;
    for (int j = 0; j < ITEM; j++) out[j] = NAN;
    double *L = malloc(n * sizeof *L);
    if (!L) OD_ERROR("out of memory", OD_ENOMEM);
    od_stream s;
    od_stream_init(&s, c->seed, STREAM_NOISE);
    od_stream_seek(&s, (uint32_t)k, 0);
    for (size_t i = 0; i < n; i++)
        L[i] = od_scaling_law_eval(&od_scaling_besiroglu2024, c->design->N[i], c->design->D[i]) *
               exp(c->sigma * od_stream_normal(&s));
    od_scaling_data *d = NULL;
    od_scaling_fit f;
    od_scaling_boot b = {0};
    od_scaling_boot_params bp = od_scaling_boot_default_params();
    bp.R = c->R;
    bp.seed = c->seed;
    bp.stream_id = STREAM_BOOT0 + (uint32_t)k;
    bp.level = c->level;
    int st = od_scaling_data_alloc(n, c->design->N, c->design->D, L, NULL, &d);
    if (!st) st = od_scaling_fit_chinchilla(d, &c->fp, &f);
    if (!st) st = od_scaling_bootstrap(d, f.theta, &c->fp, &bp, &b);
    if (!st) {
        memcpy(out, f.theta, 5 * sizeof *out);
        od_scaling_quantities(f.theta, out + O_Q);
        memcpy(out + O_LO, b.lo, NQ * sizeof *out);
        memcpy(out + O_HI, b.hi, NQ * sizeof *out);
        memcpy(out + O_SE, b.se, NQ * sizeof *out);
        out[O_OK] = (double)b.n_ok;
    }
    free(L);
    od_scaling_boot_free(&b);
    od_scaling_data_free(d);
    return st == OD_ENOMEM ? st : OD_OK;   /* a failed fit is a result (NaN), counted below */
}

/* The iso-FLOP design: budgets C_j = 1e18 10^(j/2), sizes N = sqrt(C)/8 10^(2 (i/(sizes-1)) - 1). */
static od_scaling_data *design(long budgets, long sizes)
{
    size_t n = (size_t)(budgets * sizes), k = 0;
    double *N = malloc(3 * n * sizeof *N);
    od_scaling_data *d = NULL;
    if (!N) return NULL;
    double *D = N + n, *L = N + 2 * n;
    for (long j = 0; j < budgets; j++)
        for (long i = 0; i < sizes; i++, k++) {
            double C = 1e18 * pow(10, 0.5 * (double)j);
            N[k] = sqrt(C) / 8 * pow(10, 2.0 * (double)i / (double)(sizes - 1) - 1);
            D[k] = C / (6 * N[k]);
            L[k] = 1;   /* placeholder: each repetition draws its own losses */
        }
    od_scaling_data_alloc(n, N, D, L, NULL, &d);
    free(N);
    return d;
}

static int run(od_run *r)
{
    const size_t M = (size_t)od_run_int(r, "reps");
    const double level = od_run_num(r, "level");
    cfg c = {.sigma = od_run_num(r, "sigma"), .level = level, .seed = od_run_seed(r),
             .R = (size_t)od_run_int(r, "bootstrap"), .fp = od_scaling_fit_default_params()};
    c.fp.delta = od_run_num(r, "delta");
    c.fp.polish = 4;
    const size_t ns = (size_t)od_run_int(r, "starts"), stride = 4500 / ns;
    double *grid = malloc(4500 * 5 * sizeof *grid), *starts = malloc(ns * 5 * sizeof *starts);
    double *res = malloc(M * ITEM * sizeof *res), *col = malloc(M * sizeof *col);
    od_scaling_data *dz = design(od_run_int(r, "budgets"), od_run_int(r, "sizes"));
    od_table *tc = NULL, *th = NULL, *tn = NULL;
    od_figure *fig = NULL;
    int st = OD_OK;
    if (!grid || !starts || !res || !col || !dz) {
        st = od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
        goto done;
    }
    od_scaling_hoffmann_grid(grid);
    for (size_t i = 0; i < ns; i++) memcpy(starts + 5 * i, grid + 5 * (i * stride), 5 * sizeof *grid);
    c.fp.starts = starts;
    c.fp.n_starts = ns;
    c.design = dz;
    if ((st = od_map(M, ITEM, res, rep_item, NULL, NULL, &c, od_run_progress_label(r)))) goto done;

    double truth[NQ], th5[5];
    od_scaling_law_theta(&od_scaling_besiroglu2024, th5);
    od_scaling_quantities(th5, truth);
    size_t ok = 0;
    for (size_t k = 0; k < M; k++) ok += isfinite(res[k * ITEM + O_OK]);
    if (ok < M) od_run_note(r, "%zu of %zu repetitions failed to fit and are left out", M - ok, M);
    if (ok < 10) {
        st = od_error(OD_ENUMERIC, __FILE__, __LINE__, "only %zu repetitions fitted", ok);
        goto done;
    }
    static const char *cols[] = {"index", "truth", "mean_estimate", "mc_sd", "mc_se_of_mean",
                                 "mean_boot_se", "coverage", "coverage_se"};
    double tab[8][NQ];
    const double cov_se = sqrt(level * (1 - level) / (double)ok);
    double zbias = 0, zse = 0;
    for (int j = 0; j < NQ; j++) {
        size_t m = 0, in = 0;
        double se_sum = 0;
        for (size_t k = 0; k < M; k++) {
            const double *x = res + k * ITEM;
            if (!isfinite(x[O_OK])) continue;
            col[m++] = x[O_Q + j];
            in += x[O_LO + j] <= truth[j] && truth[j] <= x[O_HI + j];
            se_sum += x[O_SE + j];
        }
        double mean = gsl_stats_mean(col, 1, m), sd = gsl_stats_sd(col, 1, m);
        double row[8] = {j + 1, truth[j], mean, sd, sd / sqrt((double)m), se_sum / (double)m,
                         (double)in / (double)m, cov_se};
        for (int c8 = 0; c8 < 8; c8++) tab[c8][j] = row[c8];
        if (j == OD_SCALING_Q_E || j == OD_SCALING_Q_ALPHA || j == OD_SCALING_Q_BETA) {
            zbias = fmax(zbias, fabs(mean - truth[j]) / row[4]);
            zse = fmax(zse, fabs(row[5] / sd - 1) / (4 * sqrt(1 / (2.0 * ((double)m - 1)))));
        }
    }
    const double *cover = tab[6];
    tc = od_table_alloc("coverage");
    if (!tc) {
        st = od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
        goto done;
    }
    od_table_add_string(tc, "quantity", od_scaling_q_names, NQ);
    for (int j = 0; j < 8; j++) od_table_add_double(tc, cols[j], tab[j], NQ);
    od_table_meta(tc, "design", "%ld budgets x %ld sizes = %zu runs, log-normal noise sd %g, truth = "
                  "Besiroglu et al.'s estimate", od_run_int(r, "budgets"), od_run_int(r, "sizes"),
                  dz->n, c.sigma);
    od_table_meta(tc, "intervals", "bootstrap percentile, level %g, %zu resamples, %zu repetitions",
                  level, c.R, ok);
    od_run_claim_close(r, "coverage-E", cover[OD_SCALING_Q_E], level, 4 * cov_se);
    od_run_claim_close(r, "coverage-alpha", cover[OD_SCALING_Q_ALPHA], level, 4 * cov_se);
    od_run_claim_close(r, "coverage-beta", cover[OD_SCALING_Q_BETA], level, 4 * cov_se);
    od_run_claim_close(r, "coverage-a", cover[OD_SCALING_Q_a], level, 4 * cov_se);
    od_run_claim_le(r, "unbiased", zbias, 4);
    od_run_claim_le(r, "se-matches-spread", zse, 1);
    od_run_note(r, "coverage at level %.2f over %zu data sets (binomial SE %.3f): E %.3f, A %.3f, "
                   "B %.3f, alpha %.3f, beta %.3f, a %.3f, b %.3f", level, ok, cov_se,
                cover[0], cover[1], cover[2], cover[3], cover[4], cover[5], cover[6]);
    if ((st = od_run_table(r, tc))) goto done;

    /* t = (alpha_hat - alpha) / bootstrap SE, against the standard normal */
    for (size_t k = 0; k < M; k++) {
        const double *x = res + k * ITEM;
        col[k] = isfinite(x[O_OK]) ? (x[O_Q + OD_SCALING_Q_ALPHA] - truth[OD_SCALING_Q_ALPHA]) /
                                         x[O_SE + OD_SCALING_Q_ALPHA]
                                   : NAN;
    }
    th = od_exp_scaling_histogram("t_alpha", col, M, 1, (size_t)sqrt((double)M) + 4);
    tn = od_table_alloc("normal");
    if (!th || !tn) {
        st = od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
        goto done;
    }
    od_table_add_double(tn, "x", NULL, 0);
    od_table_add_double(tn, "density", NULL, 0);
    for (int i = 0; i <= 120; i++) {
        double x = -4 + 8.0 * i / 120, row[2] = {x, exp(-0.5 * x * x) / sqrt(2 * M_PI)};
        od_table_append(tn, row);
    }
    if ((st = od_run_table(r, th)) || (st = od_run_table(r, tn))) goto done;
    fig = od_figure_alloc("recovery", "recovering a known law: bootstrap interval coverage");
    if (!fig) {
        st = od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
        goto done;
    }
    od_figure_layout(fig, 1, 2);
    od_figure_title(fig, "coverage of the percentile intervals (± 2 binomial SE)");
    od_figure_xlabel(fig, "1 E   2 A   3 B   4 α   5 β   6 a   7 b");
    od_figure_ylabel(fig, "fraction of data sets whose interval covers the truth");
    od_figure_xrange(fig, 0.5, 7.5);
    od_figure_yrange(fig, NAN, 1.0);   /* a coverage cannot exceed 1; the bars are cut there */
    od_figure_add(fig, &(od_series){.table = tc, .x = "index", .y = "coverage", .err = "coverage_se",
                                    .kind = OD_PLOT_ERRORBARS, .label = "measured"});
    od_figure_hline(fig, level, "nominal");
    od_figure_next_panel(fig, "(α̂ − α) / bootstrap SE over the data sets");
    od_figure_xlabel(fig, "t");
    od_figure_ylabel(fig, "density");
    od_figure_add(fig, &(od_series){.table = th, .x = "x", .y = "density", .kind = OD_PLOT_STEPS,
                                    .label = "data sets"});
    od_figure_add(fig, &(od_series){.table = tn, .x = "x", .y = "density", .kind = OD_PLOT_LINES,
                                    .label = "standard normal", .dash = 2});
    st = od_run_figure(r, fig);
done:
    od_table_free(tc);
    od_table_free(th);
    od_table_free(tn);
    od_figure_free(fig);
    od_scaling_data_free(dz);
    free(grid);
    free(starts);
    free(res);
    free(col);
    return st;
}

static int validate(const od_params *v)
{
    if (od_params_int(v, "budgets") * od_params_int(v, "sizes") < 12)
        OD_ERROR("budgets * sizes must be at least 12 runs", OD_ERANGE);
    return OD_OK;
}

const od_experiment od_exp_synthetic_recovery = {
    .name = "synthetic-recovery",
    .title = "Recovering a known scaling law: bootstrap coverage of the Chinchilla fit",
    .reference = "Hoffmann et al. (2022), Approach 3; Besiroglu et al. (2024), arXiv 2404.10102, "
                 "§3 (bootstrap); Efron & Tibshirani, An Introduction to the Bootstrap (1993), "
                 "ch. 13",
    .summary = "Draws M data sets from Besiroglu et al.'s law on an iso-FLOP design with log-normal "
               "noise, fits each exactly as chinchilla-refit does and bootstraps it, then measures "
               "how often the percentile intervals cover the true parameters (with a binomial "
               "standard error), the bias of the estimates, and whether the bootstrap SE matches "
               "the spread of the estimates across data sets.",
    .doc = "docs/experiments/synthetic-recovery.md",
    .params = params,
    .n_params = sizeof params / sizeof params[0],
    .claims = claims,
    .n_claims = sizeof claims / sizeof claims[0],
    .validate = validate,
    .run = run,
};
