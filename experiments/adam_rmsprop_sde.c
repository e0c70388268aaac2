/* Experiment adam-rmsprop-sde — discrete RMSprop and Adam against their SDEs as eta -> 0.
 *
 * Malladi, Lyu, Panigrahi & Arora, "On the SDEs and Scaling Rules for Adaptive Gradient
 * Algorithms", NeurIPS 2022 (the RMSprop and Adam SDEs on the t = k eta^2 clock).  In the regime
 * of the theorem sigma0 = sigma eta, eps0 = eps eta, c_i = (1 - beta_i)/eta^2 stay fixed as eta -> 0;
 * here sigma = 1 (B = 1) and the per-sample noise is s = S/eta, eps = E/eta, beta_i = 1 - c_i eta^2,
 * so every eta has the same SDE.  On f = lambda x^2/2 with constant noise (sde.md §3.4, derived):
 *     Var X_inf = sigma0^2 s^2 / (2 lambda P),  P = sigma0 s + eps0 = S + E,
 * for both SDEs (torch semantics with u_0 = 0 and m_0 = 0: u(t) = gamma_2 s^2, the stationary-u
 * process from t = 0).  The SDE is integrated by Euler–Maruyama with h = eta^2 / substeps,
 * substeps chosen so that c1 h <= h_c (the stiff auxiliary variables).
 */
#include <math.h>
#include <stdio.h>

#include "experiments/sde_exp.h"

#define NE 3

static const od_param params[] = {
    {"S", OD_PARAM_DOUBLE, 1.0, OD_SAME, 0, 10, OD_LO_OPEN, NULL, NULL, "sigma0 s (fixed noise scale)"},
    {"E", OD_PARAM_DOUBLE, 0.5, OD_SAME, 0, 10, 0, NULL, NULL, "eps0 = eps eta (fixed)"},
    {"c1", OD_PARAM_DOUBLE, 10, OD_SAME, 0.01, 100, 0, NULL, NULL, "(1 - beta1)/eta^2"},
    {"c2", OD_PARAM_DOUBLE, 1, OD_SAME, 0.01, 100, 0, NULL, NULL, "(1 - beta2)/eta^2"},
    {"lambda", OD_PARAM_DOUBLE, 1, OD_SAME, 0.01, 100, 0, NULL, NULL, "curvature"},
    {"eta_max", OD_PARAM_DOUBLE, 0.1, OD_SAME, 1e-3, 0.3, 0, NULL, NULL,
     "largest learning rate; the others are eta_max/2 and eta_max/4"},
    {"relax", OD_PARAM_DOUBLE, 12, 8, 4, 100, 0, NULL, NULL, "horizon in relaxation times P/lambda"},
    {"hc", OD_PARAM_DOUBLE, 0.01, OD_SAME, 1e-4, 0.1, 0, NULL, NULL, "bound on c1 h for the SDE steps"},
    {"paths", OD_PARAM_INT, 1500, 200, 100, 1e7, 0, NULL, NULL, "paths per run"},
};

static const od_claim_doc claims[] = {
    {"sde-closed-form-4se", "RMSprop and Adam SDEs (Euler–Maruyama, c1 h <= hc): stationary variance "
                            "within 4 SE of sigma0^2 s^2/(2 lambda P) (measured: max |z| over the two SDEs "
                            "and the three eta, each eta a separate run of the same SDE)"},
    {"discrete-4se", "discrete RMSprop and Adam (torch semantics): stationary variance within 4 SE of "
                     "the SDE's closed form at every eta (measured: max |z|); the O(eta) deviation the "
                     "theorem allows is reported in a note, not asserted: at these sizes it is below the "
                     "Monte Carlo resolution"},
};

static int run(od_run *r)
{
    const double S = od_run_num(r, "S"), E = od_run_num(r, "E"), c1 = od_run_num(r, "c1"),
                 c2 = od_run_num(r, "c2"), lam = od_run_num(r, "lambda"), hc = od_run_num(r, "hc");
    const double P = S + E, vcf = S * S / (2 * lam * P), T = od_run_num(r, "relax") * P / lam;
    const size_t paths = (size_t)od_run_int(r, "paths");
    const od_sde_optimizer *opts[2] = {od_sde_rmsprop, od_sde_adam};
    double eta[NE], disc[2][NE], dse[2][NE], sde[2][NE], sse[2][NE];
    double zmax = 0, zdisc = 0;
    int st = OD_OK;
    for (int e = 0; e < NE && st == OD_OK; e++) {
        eta[e] = od_run_num(r, "eta_max") / (double)(1 << e);
        char spec[160];
        snprintf(spec, sizeof spec, "noisy-quadratic:d=1,lambda=%.17g,s=%.17g,x0=0", lam, S / eta[e]);
        od_problem *p = NULL;
        if ((st = od_sde_exp_problem(r, spec, &p)) != OD_OK) break;
        for (int k = 0; k < 2 && st == OD_OK; k++) {
            od_sde_hp hp = od_sde_hp_default();
            hp.lr = eta[e];
            hp.eps = E / eta[e];
            hp.beta1 = 1 - c1 * eta[e] * eta[e];
            hp.beta2 = 1 - c2 * eta[e] * eta[e];
            od_sde_exp_run rr = {.problem = p, .opt = opts[k], .hp = hp, .batch = 1,
                                 .steps = (uint64_t)ceil(T / (eta[e] * eta[e])), .paths = paths,
                                 .seed = od_run_seed(r) + (uint64_t)(10 * e + k), .label = od_run_progress_label(r)};
            od_sde_exp_out o;
            rr.kind = OD_SDE_DYN_DISCRETE;
            if ((st = od_sde_exp_norm2(&rr, 2, NULL, NULL, NULL, &o)) != OD_OK) break;
            disc[k][e] = o.stat;
            dse[k][e] = o.stat_se;
            zdisc = fmax(zdisc, fabs(o.stat - vcf) / o.stat_se);
            rr.kind = OD_SDE_DYN_SDE;
            rr.substeps = (unsigned)ceil(fmax(c1, c2) * eta[e] * eta[e] / hc);
            if ((st = od_sde_exp_norm2(&rr, 2, NULL, NULL, NULL, &o)) != OD_OK) break;
            sde[k][e] = o.stat;
            sse[k][e] = o.stat_se;
            zmax = fmax(zmax, fabs(o.stat - vcf) / o.stat_se);
        }
        od_problem_free(p);
    }
    if (st != OD_OK) return st;
    for (int k = 0; k < 2; k++) {
        od_run_note(r, "%s: discrete relative deviation from the SDE value %.4f ± %.4f (eta %g) -> %.4f ± %.4f (eta %g)",
                    opts[k]->name, disc[k][0] / vcf - 1, dse[k][0] / vcf, eta[0],
                    disc[k][NE - 1] / vcf - 1, dse[k][NE - 1] / vcf, eta[NE - 1]);
    }
    od_run_claim_le(r, "sde-closed-form-4se", zmax, 4.0);
    od_run_claim_le(r, "discrete-4se", zdisc, 4.0);
    od_table *t = od_table_alloc("stationary");
    od_table_meta(t, "regime", "sigma0 s = %g, eps0 = %g, c1 = %g, c2 = %g, lambda = %g, B = 1", S, E, c1, c2, lam);
    od_table_meta(t, "closed_form", "%.17g", vcf);
    od_table_add_double(t, "eta", eta, NE);
    const char *names[8] = {"rmsprop_discrete", "rmsprop_discrete_se", "rmsprop_sde", "rmsprop_sde_se",
                            "adam_discrete", "adam_discrete_se", "adam_sde", "adam_sde_se"};
    for (int k = 0; k < 2; k++) {
        od_table_add_double(t, names[4 * k], disc[k], NE);
        od_table_add_double(t, names[4 * k + 1], dse[k], NE);
        od_table_add_double(t, names[4 * k + 2], sde[k], NE);
        od_table_add_double(t, names[4 * k + 3], sse[k], NE);
    }
    double cf[NE] = {vcf, vcf, vcf};
    od_table_add_double(t, "closed_form", cf, NE);
    od_figure *f = od_figure_alloc("adam_rmsprop_sde", "RMSprop and Adam vs their SDEs (Malladi et al. 2022)");
    od_figure_logx(f, 1);
    od_figure_xlabel(f, "learning rate η (σ₀, ε₀, c₁, c₂ fixed)");
    od_figure_ylabel(f, "stationary Var x");
    od_figure_add(f, &(od_series){.table = t, .x = "eta", .y = "closed_form", .kind = OD_PLOT_LINES,
                                  .label = "SDE closed form σ₀²s²/(2λP)", .dash = 2});
    const char *labels[4] = {"RMSprop discrete", "RMSprop SDE (EM)", "Adam discrete", "Adam SDE (EM)"};
    for (int k = 0; k < 4; k++)
        od_figure_add(f, &(od_series){.table = t, .x = "eta", .y = names[2 * k], .err = names[2 * k + 1],
                                      .kind = OD_PLOT_ERRORBARS, .label = labels[k]});
    od_figure_key(f, "outside");
    od_figure_xrange(f, 0.8 * eta[NE - 1], 1.25 * eta[0]);
    st = od_run_table(r, t);
    if (st == OD_OK) st = od_run_figure(r, f);
    od_table_free(t);
    od_figure_free(f);
    return st;
}

const od_experiment od_exp_adam_rmsprop_sde = {
    .name = "adam-rmsprop-sde",
    .title = "Discrete RMSprop and Adam vs their SDEs as eta -> 0: stationary variance vs closed form",
    .reference = "Malladi, Lyu, Panigrahi & Arora, On the SDEs and Scaling Rules for Adaptive Gradient "
                 "Algorithms, NeurIPS 2022 (RMSprop and Adam SDEs); theory sheet sde.md §3.2-3.4",
    .summary = "Runs bias-corrected (torch) RMSprop and Adam on a noisy 1-D quadratic at three learning "
               "rates in the SDE's scaling regime (sigma0, eps0, c1, c2 fixed), and their SDEs by "
               "Euler–Maruyama; compares stationary variances with the closed form of the SDEs and "
               "checks that the discrete runs approach it as eta shrinks.",
    .doc = "docs/experiments/adam-rmsprop-sde.md",
    .params = params,
    .n_params = sizeof params / sizeof params[0],
    .claims = claims,
    .n_claims = sizeof claims / sizeof claims[0],
    .run = run,
};
