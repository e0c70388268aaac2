/* Experiment advani-saxe — gradient flow on a random linear-regression design: the Marchenko–Pastur
 * generalization curve against exact finite-N realizations, and the overtraining peak near P = N
 * (theory sheet linreg.md §6).
 *
 * Source: M. S. Advani, A. M. Saxe, H. Sompolinsky, "High-dimensional dynamics of generalization error
 * in neural networks" (Neural Networks 132, 2020): x in R^N with entries N(0, 1/N), P examples,
 * a = P/N, teacher wbar ~ N(0, sw2 I), student w(0) ~ N(0, s02 I), label noise N(0, se2); gradient flow
 * w' = X (y - X^T w).  E_g(t) (MSE units, test noise included) is the Marchenko–Pastur integral of the
 * sheet; finite N: each realization diagonalizes X X^T once and solves the flow exactly.  At t = inf
 * the finite-N mean is the inverse-Wishart value se2 N/(P - N - 1) + se2 (P > N + 1) or
 * se2 P/(N - P - 1) + (1 - P/N)(sw2 + s02) + se2 (P < N - 1). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "experiments/linreg_exp.h"

#define MAX_ALPHA 32
#define MAX_SHOW 6
#define NT 31

static const od_param params[] = {
    {"n", OD_PARAM_INT, 100, 40, 10, 2000, 0, NULL, NULL, "input dimension N"},
    {"realizations", OD_PARAM_INT, 200, 60, 10, 1e6, 0, NULL, NULL, "finite-N realizations per a = P/N"},
    {"sw2", OD_PARAM_DOUBLE, 1.0, OD_SAME, 0, 100, 0, NULL, NULL, "teacher variance"},
    {"s02", OD_PARAM_DOUBLE, 0.0, OD_SAME, 0, 100, 0, NULL, NULL, "student initial variance"},
    {"se2", OD_PARAM_DOUBLE, 0.25, OD_SAME, 0, 100, OD_LO_OPEN, NULL, NULL, "label-noise variance"},
    {"grid", OD_PARAM_STRING, 0, OD_SAME, 0, 0, 0, NULL, "0.25|0.5|0.75|0.9|1.1|1.25|1.5|2|3|4",
     "a = P/N values, increasing, '|'-separated (up to 32; a = 1 excluded)", "0.5|0.9|1.1|1.5|3"},
    {"show", OD_PARAM_STRING, 0, OD_SAME, 0, 0, 0, NULL, "0.5|0.9|1.5|3",
     "a values of the grid drawn in time (up to 6)"},
};

static const od_claim_doc claims[] = {
    {"mp-limits", "the Marchenko–Pastur integral at t = inf equals se2 a/(a - 1) (a > 1) and "
                  "se2/(1 - a) + (1 - a)(sw2 + s02) (a < 1) within 1e-8 relative (quadrature accuracy 1e-10)"},
    {"finite-n-limit", "the mean of the finite-N realizations at t = inf is within 4 SE of the inverse-Wishart "
                       "value, for every a in the grid (measured: max |z|)"},
    {"mp-matches-finite-n", "for |a - 1| >= 0.25, at every recorded time, |finite-N mean - MP| <= 4 SE + "
                            "delta_N(a), with delta_N = |finite-N - MP| at t = inf from the closed forms (the "
                            "finite-size gap of the noise term, which grows with t) (measured: max ratio)"},
    {"overtraining-peak", "the finite-N error at t = inf over the a grid peaks at a grid point next to a = 1 "
                          "(measured: |a_max - 1|, bound: the distance to 1 of the farther neighbour, 0.1 "
                          "on the default grid)"},
};

typedef struct {
    size_t N, P;
    double sw, s0, se;
    uint64_t seed;
    const double *t;
} as_ctx;

static int as_path(uint32_t path, double *obs, void *ws, void *arg)
{
    (void)ws;
    const as_ctx *c = arg;
    int st = od_linreg_advani_saxe_sample(c->N, c->P, c->sw, c->s0, c->se, c->seed, path, c->t, NT, obs);
    return st == OD_OK ? 0 : -st;
}

/* Finite-N mean at t = inf (NaN within one of P = N, where it does not exist). */
static double finite_limit(size_t N, size_t P, double sw, double s0, double se)
{
    const double n = (double)N, p = (double)P;
    if (p > n + 1) return se * n / (p - n - 1) + se;
    if (p < n - 1) return se * p / (n - p - 1) + (1 - p / n) * (sw + s0) + se;
    return NAN;
}

/* The grid (increasing, > 0, without 1) and the shown values (members of the grid). */
static int read_grid(const char *grid, const char *shown, double *g, size_t *ng, double *show, size_t *ns)
{
    OD_TRY(od_parse_doubles(grid, '|', g, MAX_ALPHA, ng, "grid"));
    OD_TRY(od_parse_doubles(shown, '|', show, MAX_SHOW, ns, "show"));
    for (size_t j = 0; j < *ng; j++)
        if (!(g[j] > 0 && g[j] <= 100 && g[j] != 1 && (j == 0 || g[j] > g[j - 1])))
            OD_ERRORF(OD_ERANGE, "grid: %g must be in (0, 100], not 1, and above the previous value", g[j]);
    for (size_t s = 0; s < *ns; s++) {
        size_t j = 0;
        while (j < *ng && g[j] != show[s]) j++;
        if (j == *ng) OD_ERRORF(OD_ERANGE, "show: %g is not in the grid", show[s]);
    }
    return OD_OK;
}

static int validate(const od_params *v)
{
    double g[MAX_ALPHA], s[MAX_SHOW];
    size_t ng, ns;
    return read_grid(od_params_str(v, "grid"), od_params_str(v, "show"), g, &ng, s, &ns);
}

static int run(od_run *r)
{
    double alphas[MAX_ALPHA], show[MAX_SHOW];
    size_t NALPHA, nshow;
    OD_TRY(read_grid(od_run_str(r, "grid"), od_run_str(r, "show"), alphas, &NALPHA, show, &nshow));
    const size_t N = (size_t)od_run_int(r, "n");
    const double sw = od_run_num(r, "sw2"), s0 = od_run_num(r, "s02"), se = od_run_num(r, "se2");
    double t[NT];
    for (int i = 0; i < NT - 1; i++) t[i] = pow(10.0, -2 + 6.0 * i / (NT - 2));
    t[NT - 1] = INFINITY;
    od_table *tc = od_table_alloc("curves"), *ta = od_table_alloc("alpha_sweep"), *tm = od_table_alloc("mp_fine");
    od_figure *f = od_figure_alloc("advani_saxe", "Gradient flow on a random design: Marchenko–Pastur vs finite N");
    int status = tc && ta && tm && f ? OD_OK : OD_ENOMEM;
    double zlim = 0, rmax = 0, lim_err = 0, emax = -1, amax = NAN;
    size_t jmax = 0;
    double sim_inf[MAX_ALPHA], sim_inf_se[MAX_ALPHA], mp_inf[MAX_ALPHA], fin_inf[MAX_ALPHA], mp_min[MAX_ALPHA];
    if (status == OD_OK) {
        od_table_add_double(tc, "t", t, NT - 1);
        od_table_meta(tc, "convention", "E_g in MSE units (test noise included), t in units of tau");
        od_table_meta(tc, "model", "N = %zu, sw2 = %g, s02 = %g, se2 = %g, %ld realizations per a", N, sw, s0, se,
                      od_run_int(r, "realizations"));
    }
    for (size_t j = 0; j < NALPHA && status == OD_OK; j++) {
        const double a = alphas[j];
        as_ctx c = {N, (size_t)llround(a * (double)N), sw, s0, se, od_run_seed(r) + (uint64_t)j, t};
        od_ensemble_params ep = {.n_paths = (size_t)od_run_int(r, "realizations"), .n_times = NT, .n_obs = 1,
                                 .label = od_run_progress_label(r)};
        od_ensemble_result er;
        if ((status = od_ensemble_run(&ep, as_path, &c, &er)) != OD_OK) break;
        const double ae = (double)c.P / (double)N;   /* the realized a */
        double mp[NT], mn = INFINITY;
        for (int i = 0; i < NT; i++) {
            mp[i] = od_linreg_advani_saxe_eg(ae, t[i], sw, s0, se);
            if (i < NT - 1) mn = fmin(mn, mp[i]);
        }
        sim_inf[j] = er.mean[NT - 1];
        sim_inf_se[j] = er.se[NT - 1];
        mp_inf[j] = mp[NT - 1];
        mp_min[j] = mn;
        fin_inf[j] = finite_limit(N, c.P, sw, s0, se);
        double exact = ae > 1 ? se * ae / (ae - 1) : se / (1 - ae) + (1 - ae) * (sw + s0);
        lim_err = fmax(lim_err, fabs(mp_inf[j] / exact - 1));
        if (isfinite(fin_inf[j])) zlim = fmax(zlim, fabs(sim_inf[j] - fin_inf[j]) / sim_inf_se[j]);
        if (fabs(a - 1) >= 0.25 && isfinite(fin_inf[j])) {
            const double dN = fabs(fin_inf[j] - mp_inf[j]);
            for (int i = 0; i < NT; i++) rmax = fmax(rmax, fabs(er.mean[i] - mp[i]) / (4 * er.se[i] + dN));
        }
        if (sim_inf[j] > emax) emax = sim_inf[j], amax = a, jmax = j;
        int shown = 0;
        for (size_t s = 0; s < nshow; s++) shown |= show[s] == a;
        if (shown) {
            char cn[3][32];
            snprintf(cn[0], 32, "mp_a%g", a);
            snprintf(cn[1], 32, "sim_a%g", a);
            snprintf(cn[2], 32, "se_a%g", a);
            od_table_add_double(tc, cn[0], mp, NT - 1);
            od_table_add_double(tc, cn[1], er.mean, NT - 1);
            od_table_add_double(tc, cn[2], er.se, NT - 1);
        }
        od_ensemble_result_free(&er);
    }
    if (status == OD_OK) {
        double av[MAX_ALPHA];
        for (size_t j = 0; j < NALPHA; j++) av[j] = alphas[j];
        const char *cn[6] = {"a", "sim_inf", "sim_inf_se", "finite_n_inf", "mp_inf", "mp_early_stopped"};
        double *cv[6] = {av, sim_inf, sim_inf_se, fin_inf, mp_inf, mp_min};
        for (int c = 0; c < 6; c++) od_table_add_double(ta, cn[c], cv[c], NALPHA);
        od_table_meta(ta, "columns", "a = P/N; finite-N mean and SE at t = inf; inverse-Wishart value; MP limit; "
                      "MP minimum over the recorded finite t (early stopping)");
        /* the MP curves on a fine grid, avoiding a = 1 */
        od_table_add_double(tm, "a", NULL, 0);
        od_table_add_double(tm, "mp_inf", NULL, 0);
        od_table_add_double(tm, "mp_early_stopped", NULL, 0);
        for (int q = 0; q < 120; q++) {
            double a = 0.1 * pow(50.0, q / 119.0), row[3] = {a, NAN, INFINITY};
            if (fabs(a - 1) < 0.02) continue;
            row[1] = od_linreg_advani_saxe_eg(a, INFINITY, sw, s0, se);
            for (int i = 0; i < NT - 1; i++) row[2] = fmin(row[2], od_linreg_advani_saxe_eg(a, t[i], sw, s0, se));
            od_table_append(tm, row);
        }
        od_run_note(r, "finite-N error at t = inf peaks at a = %g (%.4g); early stopping (MP, best recorded t) "
                       "there gives %.4g", amax, emax, mp_min[jmax]);
    }
    od_run_claim_le(r, "mp-limits", lim_err, 1e-8);
    od_run_claim_le(r, "finite-n-limit", zlim, 4.0);
    od_run_claim_le(r, "mp-matches-finite-n", rmax, 1.0);
    double gap1 = 0;   /* distance to a = 1 of the farther of its two grid neighbours */
    for (size_t j = 0; j + 1 < NALPHA; j++)
        if (alphas[j] < 1 && alphas[j + 1] > 1) gap1 = fmax(1 - alphas[j], alphas[j + 1] - 1);
    od_run_claim_le(r, "overtraining-peak", fabs(amax - 1), gap1 + 1e-12);
    if (status == OD_OK) {
        od_figure_layout(f, 1, 2);
        od_exp_linreg_panel(f, 0, "Eg(t): MP integral (lines), finite N ± 2 SE (points, bars)", "time t (units of τ)",
                            "generalization error Eg (MSE)", 1, 1);
        for (int s = 0; s < (int)nshow; s++) {
            char y0[32], y1[32], y2[32], lab[32];
            snprintf(y0, 32, "mp_a%g", show[s]);
            snprintf(y1, 32, "sim_a%g", show[s]);
            snprintf(y2, 32, "se_a%g", show[s]);
            snprintf(lab, 32, "a = P/N = %g", show[s]);
            od_figure_add(f, &(od_series){.table = tc, .x = "t", .y = y0, .kind = OD_PLOT_LINES, .color = s + 1,
                                          .label = lab});
            od_figure_add(f, &(od_series){.table = tc, .x = "t", .y = y1, .err = y2, .kind = OD_PLOT_ERRORBARS,
                                          .color = s + 1});
        }
        od_exp_linreg_panel(f, 1, "the overtraining peak at P = N",
                            "a = P/N (examples per parameter)", "Eg (MSE)", 1, 1);
        od_figure_add(f, &(od_series){.table = tm, .x = "a", .y = "mp_inf", .kind = OD_PLOT_LINES, .color = 1,
                                      .label = "t = ∞, MP"});
        od_figure_add(f, &(od_series){.table = ta, .x = "a", .y = "sim_inf", .err = "sim_inf_se",
                                      .kind = OD_PLOT_ERRORBARS, .color = 1, .label = "t = ∞, finite N ± 2 SE"});
        od_figure_add(f, &(od_series){.table = tm, .x = "a", .y = "mp_early_stopped", .kind = OD_PLOT_LINES,
                                      .color = 2, .dash = 2, .label = "early stopped (min over t), MP"});
        od_figure_vline(f, 1, "P = N");
        if ((status = od_run_table(r, tc)) == OD_OK && (status = od_run_table(r, ta)) == OD_OK &&
            (status = od_run_table(r, tm)) == OD_OK)
            status = od_run_figure(r, f);
    }
    od_table_free(tc);
    od_table_free(ta);
    od_table_free(tm);
    od_figure_free(f);
    return status;
}

const od_experiment od_exp_linreg_advani_saxe = {
    .name = "advani-saxe",
    .title = "Gradient flow on a Marchenko–Pastur design: generalization curve and the P = N peak",
    .reference = "M. S. Advani, A. M. Saxe, H. Sompolinsky, High-dimensional dynamics of generalization error "
                 "in neural networks (Neural Networks 132, 2020); theory sheet linreg.md §6",
    .summary = "Computes the generalization error of gradient flow on linear regression with a random design "
               "as the Marchenko–Pastur integral (GSL QAWS) and from exact finite-N realizations "
               "(eigendecomposition of X X^T, closed-form flow), over time and over a = P/N; checks both "
               "t -> infinity limits, the finite-N inverse-Wishart limit, their agreement away from P = N, "
               "and the overtraining peak at P = N that early stopping removes.",
    .doc = "docs/experiments/advani-saxe.md",
    .params = params,
    .n_params = sizeof params / sizeof params[0],
    .claims = claims,
    .n_claims = sizeof claims / sizeof claims[0],
    .validate = validate,
    .run = run,
};
