/* Experiment sqrt-scaling-rule — Adam and RMSprop at batch B and kappa B: the square-root rule
 * keeps the trajectories on top of each other, the linear rule does not, and the square-root rule
 * is refused where kappa (1 - beta) >= 1.
 *
 * Malladi, Lyu, Panigrahi & Arora, "On the SDEs and Scaling Rules for Adaptive Gradient
 * Algorithms", NeurIPS 2022 (abstract: the square-root scaling rule; its form is quoted in
 * S. Malladi's 2024 blog "How to Scale Hyperparameters as Batch Size Increases" and matches the
 * SVAG transform of the paper's code, sde.md §4.2):  B -> kappa B, eta -> sqrt(kappa) eta,
 * 1 - beta_i -> kappa (1 - beta_i), eps -> eps / sqrt(kappa), steps -> steps / kappa.
 * [derived] The rule keeps sigma0 = eta/sqrt(B), eps0 = eps eta, c_i = (1 - beta_i)/eta^2 and the
 * clock k eta^2, hence the SDE; samples processed, k B, map to the same SDE time.  The linear rule
 * (eta -> kappa eta, betas and eps unchanged) multiplies sigma0 by sqrt(kappa) and eps0 by kappa: on
 * f = lambda x^2/2 its SDE's stationary variance sigma0^2 s^2/(2 lambda P) (sde.md §3.4) changes by
 * sqrt(kappa)(S + E)/(S + sqrt(kappa) E), S = sigma0 s, E = eps0.  kappa (1 - beta_i) >= 1 would
 * need beta_i <= 0: od_sde_rule_apply refuses it.
 */
#include <math.h>
#include <stdio.h>

#include "experiments/sde_exp.h"

#define NKAP 4
#define NT 11
static const double KAPPAS[NKAP] = {1, 2, 4, 8};

static const od_param params[] = {
    {"lr", OD_PARAM_DOUBLE, 0.05, OD_SAME, 1e-3, 0.2, 0, NULL, NULL, "base learning rate eta (batch B)"},
    {"batch", OD_PARAM_INT, 1, OD_SAME, 1, 64, 0, NULL, NULL, "base batch B"},
    {"S", OD_PARAM_DOUBLE, 1.0, OD_SAME, 0.01, 10, 0, NULL, NULL,
     "sigma0 s = eta s/sqrt(B): the per-sample noise is s = S sqrt(B)/eta"},
    {"E", OD_PARAM_DOUBLE, 0.5, OD_SAME, 0, 10, 0, NULL, NULL, "eps0 = eps eta"},
    {"beta1", OD_PARAM_DOUBLE, 0.875, OD_SAME, 0, 1, OD_HI_OPEN, NULL, NULL,
     "Adam's beta1 at batch B (the square-root rule is refused once kappa (1 - beta1) >= 1)"},
    {"beta2", OD_PARAM_DOUBLE, 0.9975, OD_SAME, 0, 1, OD_HI_OPEN, NULL, NULL, "beta2 at batch B"},
    {"lambda", OD_PARAM_DOUBLE, 1.0, OD_SAME, 0.01, 100, 0, NULL, NULL, "curvature"},
    {"x0", OD_PARAM_DOUBLE, 3.0, OD_SAME, -100, 100, 0, NULL, NULL, "initial point"},
    {"T", OD_PARAM_DOUBLE, 8.0, 6.0, 0.5, 100, 0, NULL, NULL, "horizon in SDE time (t = k eta^2)"},
    {"paths", OD_PARAM_INT, 3000, 500, 100, 1e7, 0, NULL, NULL, "paths per run"},
};

static const od_claim_doc claims[] = {
    {"sqrt-collapse", "square-root rule, Adam and RMSprop, every kappa the rule accepts: E x^2 at 11 "
                      "common SDE times and the stationary variance within 4 SE (of the difference) "
                      "of the kappa = 1 run (measured: max |z|)"},
    {"linear-separates", "linear rule at the largest kappa both rules accept: the stationary variance "
                         "differs from the kappa = 1 run by at least 4 SE, for Adam and RMSprop "
                         "(measured: the smaller z)"},
    {"sqrt-refused", "od_sde_rule_apply refuses the square-root rule exactly at the kappa with "
                     "kappa max_i (1 - beta_i) >= 1 (measured: refused kappa; predicted: those with "
                     "kappa (1 - beta_i) >= 1)"},
};

typedef struct {
    double t[NT], m[NT], se[NT], stat, stat_se;
    int ran;         /* 0: the rule refused this kappa */
    double limit;    /* kappa max (1 - beta) of the rule report */
} curve;

static int run(od_run *r)
{
    const double eta = od_run_num(r, "lr"), S = od_run_num(r, "S"), E = od_run_num(r, "E"),
                 lam = od_run_num(r, "lambda"), T = od_run_num(r, "T");
    const size_t B = (size_t)od_run_int(r, "batch"), paths = (size_t)od_run_int(r, "paths");
    const double s = S * sqrt((double)B) / eta;
    char spec[160];
    snprintf(spec, sizeof spec, "noisy-quadratic:d=1,lambda=%.17g,s=%.17g,x0=%.17g", lam, s,
             od_run_num(r, "x0"));
    od_problem *p = NULL;
    OD_TRY(od_sde_exp_problem(r, spec, &p));
    const od_sde_optimizer *opts[2] = {od_sde_adam, od_sde_rmsprop};
    const od_sde_rule_kind kinds[2] = {OD_SDE_RULE_SQRT, OD_SDE_RULE_LINEAR};
    const uint64_t K = (uint64_t)ceil(T / (eta * eta) / 80.0) * 80;   /* divisible by 8 x 10 */
    static curve cv[2][2][NKAP];
    int st = OD_OK, refused = 0, expected_refused = 0;
    for (int o = 0; o < 2 && st == OD_OK; o++) {
        od_sde_hp hp = od_sde_hp_default();
        hp.lr = eta;
        hp.eps = E / eta;
        hp.beta1 = od_run_num(r, "beta1");
        hp.beta2 = od_run_num(r, "beta2");
        const double omb = fmax(opts[o] == od_sde_adam ? 1 - hp.beta1 : 0.0, 1 - hp.beta2);
        for (int k = 0; k < 2 && st == OD_OK; k++)
            for (int i = 0; i < NKAP && st == OD_OK; i++) {
                curve *c = &cv[o][k][i];
                od_sde_rule rule = {kinds[k], KAPPAS[i]};
                od_sde_hp h2;
                size_t B2;
                uint64_t K2;
                od_sde_rule_report rep;
                od_error_handler_fn *prev = od_set_error_handler(NULL);   /* a refusal is data here */
                const int ra = od_sde_rule_apply(&rule, opts[o], &hp, B, K, &h2, &B2, &K2, &rep);
                od_set_error_handler(prev);
                c->limit = rep.limit;
                if (k == 0) {
                    expected_refused += KAPPAS[i] * omb >= 1;
                    refused += ra == OD_ERANGE;
                }
                if (ra == OD_ERANGE) continue;
                if ((st = ra) != OD_OK) break;
                od_sde_exp_run rr = {.problem = p, .opt = opts[o], .hp = h2, .batch = B2, .steps = K2,
                                     .kind = OD_SDE_DYN_DISCRETE, .paths = paths,
                                     .seed = od_run_seed(r) + (uint64_t)(100 * o + 10 * k + i),
                                     .label = od_run_progress_label(r)};
                od_sde_exp_out out;
                if ((st = od_sde_exp_norm2(&rr, NT, c->t, c->m, c->se, &out)) != OD_OK) break;
                /* the axis: samples processed, as SDE time of the base run (linear: t / kappa) */
                for (int j = 0; j < NT; j++) c->t[j] *= k ? 1.0 / KAPPAS[i] : 1.0;
                c->stat = out.stat;
                c->stat_se = out.stat_se;
                c->ran = 1;
                if (!isnan(out.diverged_t))
                    od_run_note(r, "%s, %s rule, kappa %g: diverged at t = %g", opts[o]->name,
                                k ? "linear" : "square-root", KAPPAS[i], out.diverged_t);
            }
    }
    od_problem_free(p);
    if (st != OD_OK) return st;

    double zmax = 0, zsep = INFINITY;
    int last = 0;
    for (int i = 0; i < NKAP; i++)
        if (cv[0][0][i].ran && cv[0][1][i].ran && cv[1][0][i].ran && cv[1][1][i].ran) last = i;
    for (int o = 0; o < 2; o++) {
        const curve *b = &cv[o][0][0];
        for (int i = 1; i < NKAP; i++) {
            const curve *c = &cv[o][0][i];
            if (!c->ran) continue;
            for (int j = 1; j < NT; j++) zmax = fmax(zmax, fabs(c->m[j] - b->m[j]) / hypot(c->se[j], b->se[j]));
            zmax = fmax(zmax, fabs(c->stat - b->stat) / hypot(c->stat_se, b->stat_se));
        }
        const curve *l = &cv[o][1][last];
        zsep = fmin(zsep, fabs(l->stat - b->stat) / hypot(l->stat_se, b->stat_se));
        const double kap = KAPPAS[last], pred = sqrt(kap) * (S + E) / (S + sqrt(kap) * E);
        od_run_note(r, "%s, linear rule at kappa %g: stationary variance ratio to kappa = 1 %.4f ± %.4f "
                       "(the SDE's closed form predicts %.4f)", opts[o]->name, kap, l->stat / b->stat,
                    hypot(l->stat_se / b->stat, l->stat * b->stat_se / (b->stat * b->stat)), pred);
    }
    od_run_claim_le(r, "sqrt-collapse", zmax, 4.0);
    od_run_claim_ge(r, "linear-separates", zsep, 4.0);
    od_run_claim_check(r, "sqrt-refused", refused == expected_refused, refused, expected_refused,
                       "refused = expected");
    for (int i = 0; i < NKAP; i++)
        if (!cv[0][0][i].ran)
            od_run_note(r, "adam, square-root rule, kappa %g: refused, kappa (1 - beta1) = %g >= 1 "
                           "(beta1 would be %g); not run", KAPPAS[i], cv[0][0][i].limit,
                        1 - cv[0][0][i].limit);
    od_run_note(r, "stationary variance of the SDE (closed form, every kappa under the square-root "
                   "rule): %.5g; kappa = 1 measured: adam %.5g ± %.2g, rmsprop %.5g ± %.2g",
                S * S / (2 * lam * (S + E)), cv[0][0][0].stat, cv[0][0][0].stat_se, cv[1][0][0].stat,
                cv[1][0][0].stat_se);

    /* one table for the curves, one for the stationary values */
    od_table *t = od_table_alloc("trajectories"), *ts = od_table_alloc("stationary");
    od_figure *f = od_figure_alloc("sqrt_scaling_rule", "Batch B → κB: square-root rule vs linear rule");
    if (!t || !ts || !f) st = OD_ENOMEM;
    static const char *const on[2] = {"adam", "rmsprop"}, *const kn[2] = {"sqrt", "linear"};
    if (st == OD_OK) {
        od_table_meta(t, "problem", "%s, base batch %zu, eta %g, eps0 %g, beta1 %g, beta2 %g", spec, B,
                      eta, E, od_run_num(r, "beta1"), od_run_num(r, "beta2"));
        od_table_meta(t, "axis", "t = samples processed / B x eta^2, the SDE time of the base run");
        od_table_add_double(t, "t", cv[0][0][0].t, NT);
        double ka[NKAP], col[NKAP], colse[NKAP], nanv[NT];
        for (int j = 0; j < NT; j++) nanv[j] = NAN;
        for (int o = 0; o < 2; o++)
            for (int k = 0; k < 2; k++)
                for (int i = 0; i < NKAP; i++) {
                    char name[64];
                    const curve *c = &cv[o][k][i];
                    snprintf(name, sizeof name, "%s_%s_k%g", on[o], kn[k], KAPPAS[i]);
                    od_table_add_double(t, name, c->ran ? c->m : nanv, NT);
                    snprintf(name, sizeof name, "%s_%s_k%g_se", on[o], kn[k], KAPPAS[i]);
                    od_table_add_double(t, name, c->ran ? c->se : nanv, NT);
                }
        for (int i = 0; i < NKAP; i++) ka[i] = KAPPAS[i];
        od_table_add_double(ts, "kappa", ka, NKAP);
        for (int o = 0; o < 2; o++)
            for (int k = 0; k < 2; k++) {
                char name[64];
                for (int i = 0; i < NKAP; i++) {
                    col[i] = cv[o][k][i].ran ? cv[o][k][i].stat : NAN;
                    colse[i] = cv[o][k][i].ran ? cv[o][k][i].stat_se : NAN;
                }
                snprintf(name, sizeof name, "%s_%s", on[o], kn[k]);
                od_table_add_double(ts, name, col, NKAP);
                snprintf(name, sizeof name, "%s_%s_se", on[o], kn[k]);
                od_table_add_double(ts, name, colse, NKAP);
            }
        st = od_run_table(r, t);
        if (st == OD_OK) st = od_run_table(r, ts);
    }
    if (st == OD_OK) {
        od_figure_layout(f, 2, 2);
        for (int o = 0; o < 2; o++)
            for (int k = 0; k < 2; k++) {
                char title[160];
                if (!cv[o][k][NKAP - 1].ran)
                    snprintf(title, sizeof title, "%s, %s rule (κ = %g refused: κ(1−β₁) = %g ≥ 1)",
                             o ? "RMSprop" : "Adam", k ? "linear" : "square-root", KAPPAS[NKAP - 1],
                             cv[o][k][NKAP - 1].limit);
                else
                    snprintf(title, sizeof title, "%s, %s rule", o ? "RMSprop" : "Adam",
                             k ? "linear" : "square-root");
                if (o || k) od_figure_next_panel(f, title);
                else od_figure_title(f, title);
                od_figure_xlabel(f, "samples processed, as SDE time of batch B (t = kη²)");
                od_figure_ylabel(f, "E x²");
                od_figure_logy(f, 1);
                od_figure_xrange(f, 0, T);
                for (int i = 0; i < NKAP; i++) {
                    if (!cv[o][k][i].ran) continue;
                    char y[40], e[64], lab[64];
                    snprintf(y, sizeof y, "%.8s_%.8s_k%g", on[o], kn[k], KAPPAS[i]);
                    snprintf(e, sizeof e, "%s_se", y);
                    snprintf(lab, sizeof lab, "κ = %g (batch %g)", KAPPAS[i], KAPPAS[i] * (double)B);
                    od_figure_add(f, &(od_series){.table = t, .x = "t", .y = y, .err = e,
                                                  .kind = OD_PLOT_BAND, .color = i + 1, .label = lab});
                }
                od_figure_key(f, "top right");
            }
        st = od_run_figure(r, f);
    }
    od_table_free(t);
    od_table_free(ts);
    od_figure_free(f);
    return st;
}

static int validate(const od_params *v)
{
    if (od_params_num(v, "lr") * od_params_num(v, "lr") * 10 > od_params_num(v, "T"))
        OD_ERROR("T must be at least 10 lr^2 (ten recording times)", OD_ERANGE);
    return OD_OK;
}

const od_experiment od_exp_sqrt_scaling_rule = {
    .name = "sqrt-scaling-rule",
    .title = "Square-root scaling rule for Adam and RMSprop: collapse, the linear rule's failure, "
             "the kappa (1 - beta) < 1 limit",
    .reference = "Malladi, Lyu, Panigrahi & Arora, On the SDEs and Scaling Rules for Adaptive Gradient "
                 "Algorithms, NeurIPS 2022 (square-root scaling rule); theory sheet sde.md §4.2, §3.4",
    .summary = "Runs torch Adam and RMSprop on a noisy 1-D quadratic in the SDE regime at batch B and at "
               "kappa B = 2B, 4B, 8B with hyperparameters scaled by the square-root rule and by the "
               "linear rule, on the axis of samples processed; checks that the square-root-scaled "
               "trajectories coincide with the base run, that the linear rule's do not, and that the "
               "square-root rule is refused where kappa (1 - beta1) >= 1.",
    .doc = "docs/experiments/sqrt-scaling-rule.md",
    .params = params,
    .n_params = sizeof params / sizeof params[0],
    .claims = claims,
    .n_claims = sizeof claims / sizeof claims[0],
    .validate = validate,
    .run = run,
};
