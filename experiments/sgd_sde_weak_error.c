/* Experiment sgd-sde-weak-error — SGD against its SDE at a fixed horizon: the weak error shrinks
 * linearly in the learning rate.
 *
 * Li, Tai & E, "Stochastic Modified Equations and Dynamics of Stochastic Gradient Algorithms I:
 * Mathematical Foundations", JMLR 20 (2019) (abstract: the SDE is a weak approximation of SGD); the
 * SDE dX = -grad f dt + (eta Sigma1/B)^{1/2} dW on the clock t = k eta (sde.md §3.1).  For each eta
 * the SDE is a different process (its diffusion scales with sqrt(eta)), so the weak error
 * e(eta) = E phi(x_{T/eta}) - E phi(X_T^eta) compares each SGD run with its own SDE.
 *
 * Quadratic f = lambda x^2/2, noise s^2/B (closed forms, derived): SGD is the AR(1) chain
 *   E x_K^2 = x0^2 r^{2K} + eta^2 (s^2/B) (1 - r^{2K})/(1 - r^2),  r = 1 - eta lambda;
 * its SDE is OU: E X_T^2 = x0^2 e^{-2 lambda T} + (eta s^2/(2 lambda B))(1 - e^{-2 lambda T}).
 * e(eta) = -x0^2 e^{-2 lambda T} lambda^2 T eta + O(eta^2): order 1 exactly.  The SDE is also run
 * (stochastic Heun, h = eta/substeps) and checked against Heun's closed-form moments.
 *
 * Logistic regression (finite data, core problem logreg): the SDE's noise is the exact per-sample
 * factor of the data set (noise_sample: Sigma1 from per-sample gradients, no matrix root); no
 * closed form, so E phi(X_T) is estimated by Euler–Maruyama at h = eta/q and eta/(2q) and
 * Talay–Tubaro extrapolation 2 E_{h/2} - E_h (error O(h^2)); phi = the loss.
 */
#include <math.h>
#include <stdio.h>

#include "experiments/sde_exp.h"

#define NE 4

static const od_param params[] = {
    {"eta_max", OD_PARAM_DOUBLE, 0.1, OD_SAME, 1e-3, 0.5, 0, NULL, NULL,
     "largest learning rate; the others halve it (4 values)"},
    {"T", OD_PARAM_DOUBLE, 1.6, OD_SAME, 0.1, 20, 0, NULL, NULL,
     "horizon in SDE time (a multiple of eta_max)"},
    {"lambda", OD_PARAM_DOUBLE, 1.0, OD_SAME, 0.01, 10, 0, NULL, NULL, "quadratic: curvature"},
    {"s", OD_PARAM_DOUBLE, 1.0, OD_SAME, 0.01, 10, 0, NULL, NULL, "quadratic: noise sd per sample"},
    {"x0", OD_PARAM_DOUBLE, 2.0, OD_SAME, -100, 100, 0, NULL, NULL, "quadratic: initial point"},
    {"substeps", OD_PARAM_INT, 4, OD_SAME, 1, 64, 0, NULL, NULL,
     "quadratic: Heun steps per SGD step for the SDE check"},
    {"n", OD_PARAM_INT, 16, OD_SAME, 4, 4096, 0, NULL, NULL, "logistic regression: samples"},
    {"d", OD_PARAM_INT, 2, OD_SAME, 1, 64, 0, NULL, NULL, "logistic regression: dimension"},
    {"ridge", OD_PARAM_DOUBLE, 1.0, OD_SAME, 0, 10, 0, NULL, NULL, "logistic regression: ridge"},
    {"w0", OD_PARAM_DOUBLE, -3.0, OD_SAME, -100, 100, 0, NULL, NULL,
     "logistic regression: every initial coordinate"},
    {"q", OD_PARAM_INT, 1, OD_SAME, 1, 64, 0, NULL, NULL,
     "logistic regression: EM steps per SGD step (and 2q), extrapolated"},
    {"paths", OD_PARAM_INT, 30000, 3000, 200, 1e8, 0, NULL, NULL, "quadratic: paths per run"},
    {"paths_logreg", OD_PARAM_INT, 8000, 1000, 200, 1e8, 0, NULL, NULL,
     "logistic regression: paths per run"},
};

static const od_claim_doc claims[] = {
    {"quadratic-discrete-4se", "quadratic: Monte Carlo E x_K^2 of SGD within 4 SE of the AR(1) "
                               "closed form at every eta (measured: max |z|)"},
    {"quadratic-sde-4se", "quadratic: the SGD SDE integrated by stochastic Heun (h = eta/substeps) "
                          "within 4 SE of Heun's closed-form E X^2 at every eta (measured: max |z|)"},
    {"quadratic-order-1", "quadratic: fitted slope of |e(eta)| (Monte Carlo SGD minus the exact SDE) "
                          "= 1; tolerance 4 SE(slope) + |closed-form slope - 1|"},
    {"logreg-order-1", "logistic regression: fitted slope of |e(eta)| (Monte Carlo SGD minus the "
                       "Talay–Tubaro-extrapolated SDE) = 1; tolerance 4 SE(slope) + 0.1 (the "
                       "O(eta) term of the weak error: on the quadratic the same grid bends the "
                       "slope by less than 0.05)"},
};

/* E obs(x_K) and its SE for one dynamic on one problem. */
static int mean_at(const od_problem *p, const od_sde_optimizer *opt, double eta, uint64_t K,
                   od_sde_dyn_kind kind, od_sde_scheme sch, unsigned sub, const char *obsname,
                   const double *x0, size_t paths, uint64_t seed, const char *label, double *mean,
                   double *se)
{
    od_sde_observable obs;
    OD_TRY(od_sde_observable_parse(obsname, p, &obs));
    od_sde_hp hp = od_sde_hp_default();
    hp.lr = eta;
    const uint64_t times[1] = {K};
    od_sde_dynamics dy = {.problem = p, .opt = opt, .hp = hp, .batch = 1, .steps = K, .kind = kind,
                          .scheme = sch, .substeps = sub, .x0 = x0, .obs = &obs, .n_obs = 1,
                          .times = times, .n_times = 1, .seed = seed, .label = label};
    od_ensemble_result res;
    OD_TRY(od_sde_dynamics_run(&dy, paths, &res, NULL));
    const int ok = res.n_ok[0] == paths;
    *mean = res.mean[0];
    *se = res.se[0];
    od_ensemble_result_free(&res);
    if (!ok) OD_ERRORF(OD_EDIVERGED, "sgd-sde-weak-error: a path diverged at eta = %g", eta);
    return OD_OK;
}

static int validate(const od_params *v)
{
    const double K0 = od_params_num(v, "T") / od_params_num(v, "eta_max");
    if (fabs(K0 - nearbyint(K0)) > 1e-9 * K0 || K0 < 1)
        OD_ERROR("T must be a whole multiple of eta_max", OD_ERANGE);
    if (od_params_num(v, "eta_max") * od_params_num(v, "lambda") >= 1)
        OD_ERROR("eta_max*lambda must be below 1", OD_ERANGE);
    return OD_OK;
}

static int run(od_run *r)
{
    const double T = od_run_num(r, "T"), lam = od_run_num(r, "lambda"), s = od_run_num(r, "s"),
                 x0 = od_run_num(r, "x0");
    const long K0 = lround(T / od_run_num(r, "eta_max"));
    const unsigned sub = (unsigned)od_run_int(r, "substeps"), q = (unsigned)od_run_int(r, "q");
    const uint64_t seed = od_run_seed(r);
    const char *label = od_run_progress_label(r);
    double eta[NE], qd[NE], qd_se[NE], qd_cf[NE], qs[NE], qs_se[NE], qs_cf[NE], qe[NE], qe_se[NE],
        qe_cf[NE], ld[NE], ld_se[NE], lsde[NE], lsde_se[NE], le[NE], le_se[NE];
    double zd = 0, zs = 0;
    char spec[160];
    snprintf(spec, sizeof spec, "noisy-quadratic:d=1,lambda=%.17g,s=%.17g,x0=%.17g", lam, s, x0);
    od_problem *pq = NULL, *pl = NULL;
    int st = od_sde_exp_problem(r, spec, &pq);
    if (st == OD_OK) {
        snprintf(spec, sizeof spec, "logreg:n=%ld,d=%ld,ridge=%.17g", od_run_int(r, "n"),
                 od_run_int(r, "d"), od_run_num(r, "ridge"));
        st = od_sde_exp_problem(r, spec, &pl);
    }
    double w0[64];
    for (long k = 0; k < od_run_int(r, "d"); k++) w0[k] = od_run_num(r, "w0");
    const size_t P = (size_t)od_run_int(r, "paths"), PL = (size_t)od_run_int(r, "paths_logreg");
    for (int i = 0; i < NE && st == OD_OK; i++) {
        const uint64_t K = (uint64_t)K0 << i, sd = seed + 10 * (uint64_t)i;
        eta[i] = T / (double)K;
        /* quadratic: SGD, its SDE by Heun, closed forms */
        st = mean_at(pq, od_sde_sgd, eta[i], K, OD_SDE_DYN_DISCRETE, OD_SDE_EM, 1, "norm2", NULL, P,
                     sd, label, &qd[i], &qd_se[i]);
        if (st == OD_OK)
            st = mean_at(pq, od_sde_sgd, eta[i], K, OD_SDE_DYN_SDE, OD_SDE_WEAK2, sub, "norm2", NULL,
                         P, sd + 1, label, &qs[i], &qs_se[i]);
        if (st != OD_OK) break;
        const double rr = 1 - eta[i] * lam, r2K = pow(rr, 2.0 * (double)K), v1 = eta[i] * s * s;
        qd_cf[i] = x0 * x0 * r2K + eta[i] * v1 * (1 - r2K) / (1 - rr * rr);
        const double e2 = exp(-2 * lam * T), exact = x0 * x0 * e2 + v1 / (2 * lam) * (1 - e2);
        const double h = eta[i] / sub, rh = 1 - lam * h + 0.5 * lam * lam * h * h, qh = 1 - 0.5 * lam * h;
        const double rhn = pow(rh, 2.0 * (double)(K * sub));
        qs_cf[i] = x0 * x0 * rhn + v1 * qh * qh * h * (1 - rhn) / (1 - rh * rh);
        zd = fmax(zd, fabs(qd[i] - qd_cf[i]) / qd_se[i]);
        zs = fmax(zs, fabs(qs[i] - qs_cf[i]) / qs_se[i]);
        qe[i] = fabs(qd[i] - exact);
        qe_se[i] = qd_se[i];
        qe_cf[i] = fabs(qd_cf[i] - exact);
        /* logistic regression: SGD, and its SDE by EM at eta/q and eta/2q, extrapolated */
        double m1, s1, m2, s2;
        st = mean_at(pl, od_sde_sgd, eta[i], K, OD_SDE_DYN_DISCRETE, OD_SDE_EM, 1, "loss", w0, PL,
                     sd + 2, label, &ld[i], &ld_se[i]);
        if (st == OD_OK)
            st = mean_at(pl, od_sde_sgd, eta[i], K, OD_SDE_DYN_SDE, OD_SDE_EM, q, "loss", w0, PL,
                         sd + 3, label, &m1, &s1);
        if (st == OD_OK)
            st = mean_at(pl, od_sde_sgd, eta[i], K, OD_SDE_DYN_SDE, OD_SDE_EM, 2 * q, "loss", w0, PL,
                         sd + 4, label, &m2, &s2);
        if (st != OD_OK) break;
        lsde[i] = 2 * m2 - m1;
        lsde_se[i] = hypot(2 * s2, s1);
        le[i] = fabs(ld[i] - lsde[i]);
        le_se[i] = hypot(ld_se[i], lsde_se[i]);
    }
    od_problem_free(pq);
    od_problem_free(pl);
    if (st != OD_OK) return st;
    od_run_claim_le(r, "quadratic-discrete-4se", zd, 4.0);
    od_run_claim_le(r, "quadratic-sde-4se", zs, 4.0);
    double pq_, pq_se, pq_cf, pl_, pl_se, dummy;
    od_loglog_slope(NE, eta, qe, qe_se, -INFINITY, INFINITY, &pq_, &pq_se);
    od_loglog_slope(NE, eta, qe_cf, NULL, -INFINITY, INFINITY, &pq_cf, &dummy);
    od_loglog_slope(NE, eta, le, le_se, -INFINITY, INFINITY, &pl_, &pl_se);
    od_run_claim_close(r, "quadratic-order-1", pq_, 1.0, 4 * pq_se + fabs(pq_cf - 1));
    od_run_claim_close(r, "logreg-order-1", pl_, 1.0, 4 * pl_se + 0.1);
    od_run_note(r, "quadratic: weak-error slope %.3f ± %.3f (closed form %.4f); logistic regression: "
                   "slope %.3f ± %.3f", pq_, pq_se, pq_cf, pl_, pl_se);
    for (int i = 0; i < NE; i++)
        od_run_note(r, "eta %g: quadratic e = %.4g ± %.2g (closed form %.4g); logreg E f: SGD %.6g ± "
                       "%.2g, SDE %.6g ± %.2g, e = %.3g ± %.2g", eta[i], qe[i], qe_se[i], qe_cf[i],
                    ld[i], ld_se[i], lsde[i], lsde_se[i], le[i], le_se[i]);

    od_table *t = od_table_alloc("weak_error");
    od_figure *f = od_figure_alloc("sgd_sde_weak_error", "SGD vs its SDE: weak error at t = T against η");
    if (!t || !f) st = OD_ENOMEM;
    if (st == OD_OK) {
        od_table_meta(t, "quadratic", "f = lambda x^2/2, lambda = %g, s = %g, B = 1, x0 = %g, phi = x^2, T = %g",
                      lam, s, x0, T);
        od_table_meta(t, "logreg", "%s, w0 = %g, phi = loss, SDE by EM at eta/%u and eta/%u, Talay-Tubaro",
                      spec, od_run_num(r, "w0"), q, 2 * q);
        double ref[NE];
        for (int i = 0; i < NE; i++) ref[i] = le[0] * eta[i] / eta[0];
        const char *names[] = {"eta", "quad_sgd", "quad_sgd_se", "quad_sgd_closed_form", "quad_sde_heun",
                               "quad_sde_heun_se", "quad_sde_heun_closed_form", "quad_weak_error",
                               "quad_weak_error_se", "quad_weak_error_closed_form", "logreg_sgd",
                               "logreg_sgd_se", "logreg_sde", "logreg_sde_se", "logreg_weak_error",
                               "logreg_weak_error_se", "slope_1"};
        const double *cols[] = {eta, qd, qd_se, qd_cf, qs, qs_se, qs_cf, qe, qe_se, qe_cf, ld, ld_se,
                                lsde, lsde_se, le, le_se, ref};
        for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) od_table_add_double(t, names[k], cols[k], NE);
        st = od_run_table(r, t);
    }
    if (st == OD_OK) {
        od_figure_logx(f, 1);
        od_figure_logy(f, 1);
        od_figure_xlabel(f, "learning rate η (SGD at batch 1, horizon T fixed)");
        od_figure_ylabel(f, "weak error |E φ(SGD after T/η steps) − E φ(X_T)|");
        od_figure_xrange(f, 0.8 * eta[NE - 1], 1.25 * eta[0]);
        od_figure_add(f, &(od_series){.table = t, .x = "eta", .y = "quad_weak_error_closed_form",
                                      .kind = OD_PLOT_LINES, .dash = 2, .color = 1,
                                      .label = "quadratic, closed form"});
        od_figure_add(f, &(od_series){.table = t, .x = "eta", .y = "quad_weak_error", .err = "quad_weak_error_se",
                                      .kind = OD_PLOT_ERRORBARS, .color = 1,
                                      .label = "quadratic, φ = x², Monte Carlo ± 2 SE"});
        od_figure_add(f, &(od_series){.table = t, .x = "eta", .y = "logreg_weak_error",
                                      .err = "logreg_weak_error_se", .kind = OD_PLOT_ERRORBARS, .color = 2,
                                      .label = "logistic regression, φ = loss, Monte Carlo ± 2 SE"});
        od_figure_add(f, &(od_series){.table = t, .x = "eta", .y = "slope_1", .kind = OD_PLOT_LINES,
                                      .dash = 3, .color = 2, .label = "slope 1"});
        od_figure_key(f, "bottom right");
        st = od_run_figure(r, f);
    }
    od_table_free(t);
    od_figure_free(f);
    return st;
}

const od_experiment od_exp_sgd_sde_weak_error = {
    .name = "sgd-sde-weak-error",
    .title = "SGD vs its SDE: weak error against the learning rate, slope 1",
    .reference = "Li, Tai & E, Stochastic Modified Equations and Dynamics of Stochastic Gradient "
                 "Algorithms I, JMLR 20 (2019); theory sheet sde.md §3.1",
    .summary = "Runs SGD and its SDE at four learning rates to a fixed SDE time, on a noisy quadratic "
               "(closed forms for both, and for the Heun-integrated SDE) and on logistic regression "
               "(the SDE's noise from the per-sample gradients of the data set, EM with Talay–Tubaro "
               "extrapolation); fits the log-log slope of the weak error with its SE.",
    .doc = "docs/experiments/sgd-sde-weak-error.md",
    .params = params,
    .n_params = sizeof params / sizeof params[0],
    .claims = claims,
    .n_claims = sizeof claims / sizeof claims[0],
    .validate = validate,
    .run = run,
};
