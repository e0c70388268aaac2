/* Experiment lr-batch-rules — the optimal learning rate against the batch size: SGD from the linreg
 * engine's exact risk (linear, then saturating) next to sign updates (the Surge form).
 *
 * 1. SGD on Gaussian linear regression, one step from w0: the step minimising the exact expected
 *    risk after one step of batch B (GSL's Brent minimiser on log eta, bracketed by a grid) against
 *    McCandlish et al.'s closed form eps_max / (1 + B_noise/B).
 * 2. The same SGD after a fixed number of samples n = T B: eta_opt(B), fitted with McCandlish's and
 *    the Surge form (od_scaling_fit_lr_batch), with the mean-square stability threshold eta_c(B).
 * 3. One step on a quadratic whose Hessian couples the coordinates, with Gaussian gradient noise
 *    of independent coordinates (Li et al.'s model): the exact optimum of sign(g~) and of SGD, their
 *    Monte Carlo optima through the optimizer zoo (od_sde_signsgd, od_sde_sgd), and the Surge form
 *    as the small-batch limit of the sign optimum.
 *
 * Part 3 lives in lr_batch_sign.c (declarations shared by the two files: lr_batch_rules.h).
 *
 * References: S. McCandlish, J. Kaplan, D. Amodei et al., "An Empirical Model of Large-Batch
 * Training", arXiv 1812.06162 (2018), §2; S. Li, P. Zhao, H. Zhang et al., "Surge
 * Phenomenon in Optimal Learning Rate and Batch Size Scaling", NeurIPS 2024 (arXiv 2405.14578), §3;
 * theory sheets scaling.md §6 and linreg.md §2-3.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_min.h>

#include "experiments/linreg_exp.h"
#include "experiments/lr_batch_rules.h"
#include "experiments/scaling_common.h"
#include "scaling/optdyn_scaling.h"

enum { MAX_GRID = 600, CURVE_PTS = 61 };
#define H_CURV 0.05   /* step of the second difference of log risk in log eta */

static const od_param params[] = {
    {"d", OD_PARAM_INT, 100, 40, 2, 512, 0, NULL, NULL, "linear regression: dimension"},
    {"spectrum", OD_PARAM_DOUBLE, 1.5, OD_SAME, 0.2, 4, 0, NULL, NULL, "eigenvalues lambda_k = k^-a"},
    {"init", OD_PARAM_DOUBLE, 1.0, OD_SAME, 0, 4, 0, NULL, NULL, "initial error omega_k = k^-e"},
    {"sigma2", OD_PARAM_DOUBLE, 0.1, OD_SAME, 0, 100, 0, NULL, NULL, "label-noise variance"},
    {"kurtosis", OD_PARAM_DOUBLE, 3, OD_SAME, 2, 9, 0, NULL, NULL,
     "feature kurtosis (3: Gaussian; >= 2 keeps the exact recursion's coefficients non-negative)"},
    {"samples", OD_PARAM_INT, 98304, 3072, 64, 1 << 24, 0, NULL, NULL,
     "fixed sample budget n = T B; batch sizes 2^k and 3 2^k that divide n"},
    {"min_steps", OD_PARAM_INT, 16, OD_SAME, 2, 1e6, 0, NULL, NULL, "smallest number of steps T"},
    {"grid", OD_PARAM_INT, 4, OD_SAME, 2, 40, 0, NULL, NULL, "bracketing grid: points per decade of eta"},
    {"tol", OD_PARAM_DOUBLE, 1e-6, OD_SAME, 1e-10, 1e-2, 0, NULL, NULL,
     "Brent's absolute tolerance on log eta"},
    {"sign_d", OD_PARAM_INT, 64, OD_SAME, 2, 512, 0, NULL, NULL, "sign problem: dimension"},
    {"rho", OD_PARAM_DOUBLE, 0.5, OD_SAME, 0, 0.95, OD_LO_OPEN, NULL, NULL,
     "sign problem: H = (1 - rho) I + rho 1 1^T"},
    {"nsr", OD_PARAM_DOUBLE, 12, OD_SAME, 0.1, 1e4, 0, NULL, NULL,
     "sign problem: per-example noise sd over |g_i| (geometric mean over coordinates)"},
    {"spread", OD_PARAM_DOUBLE, 1.5, OD_SAME, 1, 100, 0, NULL, NULL,
     "sign problem: largest over smallest noise sd (log-spaced)"},
    {"paths", OD_PARAM_INT, 1000, 100, 100, 1e7, 0, NULL, NULL, "Monte Carlo paths per batch size"},
    {"sign_bmax", OD_PARAM_INT, 2048, 512, 16, 1e6, 0, NULL, NULL, "largest Monte Carlo batch"},
};

static const od_claim_doc claims[] = {
    {"one-step-mccandlish", "one SGD step on linear regression: Brent's optimum of the exact risk "
                            "equals eps_max/(1 + B_noise/B) of McCandlish et al. for every B, "
                            "|log ratio| <= tau_B = tol + 2 sqrt(delta/f''), delta = T (d+4) eps the "
                            "rounding of log risk, f'' its curvature in log eta (measured: max ratio/tau)"},
    {"one-step-fit", "the McCandlish fit of those optima recovers log eps_max and log B_noise within "
                     "sqrt(m) max tau sqrt((J^T J)^-1_jj), the first-order effect of errors <= tau "
                     "(measured: max |error|/tolerance)"},
    {"fixed-n-optimum-found", "after n = T B samples, every eta_opt(B) is an interior minimum of its "
                              "bracketing grid, Brent's interval reached tol and the curvature of log "
                              "risk is positive (measured: batch sizes passing)"},
    {"fixed-n-mccandlish-better", "after n samples McCandlish's form fits log eta_opt(B) better than "
                                  "the Surge form beyond what the optimiser's errors can change: "
                                  "sqrt(rss_surge) - sqrt(rss_mcc) >= 2 sqrt(m) max tau"},
    {"fixed-n-below-threshold", "the optimum stays below the mean-square stability threshold "
                                "eta_c(B), which saturates: max eta_opt/eta_c <= 1"},
    {"sgd-mc-exact", "one SGD step on the coupled quadratic: Monte Carlo optimum (od_sde_sgd) equals "
                     "McCandlish's closed form, max |z| <= 4 over the batch sizes"},
    {"sign-mc-exact", "one sign step (od_sde_signsgd): Monte Carlo optimum equals the exact optimum "
                      "sum g_i m_i / E[V^T H V], m_i = erf(g_i sqrt(B/2)/sigma_i): max |z| <= 4"},
    {"surge-small-batch", "for B with erf linear to 5% (x_i^2 <= 0.15), the exact sign optimum equals "
                          "the Surge form with eps_max = c/(2 sqrt(ab)), B_noise = a/b within the "
                          "erf-linearisation bound (measured: max |log ratio|/bound)"},
    {"surge-fits-sign", "on those batch sizes the Surge form fits the sign optimum better than "
                        "McCandlish's: sqrt(rss_mcc) - sqrt(rss_surge) >= 2 sqrt(m) 1e-12"},
    {"sign-surge-peak", "the exact sign optimum rises, peaks inside the batch range above its "
                        "large-batch limit, and falls back to that limit within the erfc tail bound "
                        "(measured: peak / limit)"},
};

/* ---- SGD on linear regression: the optimum of the exact risk --------------------------------- */

typedef struct {
    size_t d;
    double *lambda, *omega, sigma2, kappa, tol;
    long per_decade;
} lin_cfg;

typedef struct {
    const lin_cfg *c;
    size_t B;
    uint64_t T;
} risk_arg;

/* log of the exact excess risk after T steps of SGD(eta = e^u, B); +inf where it diverged. */
static double log_risk(double u, void *p)
{
    const risk_arg *a = p;
    od_linreg_algo al = od_linreg_algo_sgd(exp(u), a->B);
    double r = INFINITY;
    if (od_linreg_excess_at(a->c->d, a->c->lambda, a->c->omega, a->c->sigma2, a->c->kappa, &al, 1,
                            &a->T, &r) != OD_OK)
        return INFINITY;
    return r > 0 && isfinite(r) ? log(r) : INFINITY;
}

/* Result item of one batch size (od_map writes doubles). */
enum { R_ETA, R_RISK, R_TAU, R_FOUND, R_ETAC, R_ITEM };

/* eta_opt for (B, T): log risk on a grid of `per_decade` points per decade over
 * [1e-6 eta_c, 8 eta_c] (extended downwards while the minimum sits at the bottom), then Brent on
 * the bracket around the grid minimum.  The tolerance on log eta is tol (Brent's interval) plus the
 * half-width 2 sqrt(delta/f'') of the band in which rounding of log risk, delta = T (d + 4) eps
 * (the recursion has non-negative coefficients for kappa >= 2, so relative errors add up), hides
 * the minimum. */
static void optimum(const lin_cfg *c, size_t B, uint64_t T, double *out)
{
    risk_arg a = {c, B, T};
    double etac = NAN, f[MAX_GRID];
    out[R_ETA] = out[R_RISK] = out[R_TAU] = NAN;
    out[R_FOUND] = 0;
    if (od_linreg_threshold_lr_closed(c->d, c->lambda, c->kappa, B, &etac) != OD_OK) return;
    out[R_ETAC] = etac;
    const double step = M_LN10 / (double)c->per_decade, top = log(8 * etac);
    double lo = log(etac) - 6 * M_LN10;
    int n = 0, ib = 0;
    for (int widen = 0; widen < 4; widen++) {
        n = (int)ceil((top - lo) / step);
        if (n + 1 > MAX_GRID) break;
        ib = 0;
        for (int i = 0; i <= n; i++) {
            f[i] = log_risk(lo + step * i, &a);
            if (f[i] < f[ib]) ib = i;
        }
        if (ib > 0) break;
        lo -= 3 * M_LN10;
    }
    if (ib <= 0 || ib >= n || !isfinite(f[ib])) return;   /* not bracketed */
    gsl_function F = {log_risk, &a};
    gsl_min_fminimizer *m = gsl_min_fminimizer_alloc(gsl_min_fminimizer_brent);
    if (!m) return;
    const double fl = isfinite(f[ib - 1]) ? f[ib - 1] : DBL_MAX, fu = isfinite(f[ib + 1]) ? f[ib + 1] : DBL_MAX;
    int st = gsl_min_fminimizer_set_with_values(m, &F, lo + step * ib, f[ib], lo + step * (ib - 1), fl,
                                                lo + step * (ib + 1), fu);
    for (int it = 0; st == GSL_SUCCESS && it < 100; it++) {
        if (gsl_min_fminimizer_iterate(m) != GSL_SUCCESS) break;
        st = gsl_min_test_interval(gsl_min_fminimizer_x_lower(m), gsl_min_fminimizer_x_upper(m),
                                   c->tol, 0);
        if (st == GSL_SUCCESS) break;
        st = GSL_SUCCESS;
        if (it == 99) st = GSL_CONTINUE;
    }
    const double u = gsl_min_fminimizer_x_minimum(m), fu0 = gsl_min_fminimizer_f_minimum(m);
    gsl_min_fminimizer_free(m);
    const double fpp = (log_risk(u + H_CURV, &a) - 2 * fu0 + log_risk(u - H_CURV, &a)) / (H_CURV * H_CURV);
    const double delta = (double)T * (double)(c->d + 4) * DBL_EPSILON;
    out[R_ETA] = exp(u);
    out[R_RISK] = exp(fu0);
    out[R_TAU] = fpp > 0 ? c->tol + 2 * sqrt(delta / fpp) : INFINITY;
    out[R_FOUND] = st == GSL_SUCCESS && fpp > 0 && isfinite(fpp);
}

typedef struct {
    const lin_cfg *c;
    const double *B;
    uint64_t n;   /* samples; 0: one step */
} sweep_arg;

static int sweep_item(size_t i, double *out, void *ws, void *arg)
{
    (void)ws;
    const sweep_arg *s = arg;
    const size_t B = (size_t)s->B[i];
    optimum(s->c, B, s->n ? s->n / B : 1, out);
    return OD_OK;
}

/* Risk curves after n samples against the per-sample step eta/B, for OD_LRB_CURVES batch sizes, over
 * [eta_opt / 30, 1.5 eta_c] (NaN where the recursion diverged). */
typedef struct {
    const lin_cfg *c;
    const double *B, *eta_opt, *eta_c;
    uint64_t n;
} curve_arg;

static int curve_item(size_t i, double *out, void *ws, void *arg)
{
    (void)ws;
    const curve_arg *a = arg;
    const size_t k = i / CURVE_PTS, j = i % CURVE_PTS;
    const double lo = log(a->eta_opt[k] / 30), hi = log(1.5 * a->eta_c[k]);
    const double u = lo + (hi - lo) * (double)j / (CURVE_PTS - 1);
    risk_arg r = {a->c, (size_t)a->B[k], a->n / (uint64_t)a->B[k]};
    const double lr = log_risk(u, &r);
    out[0] = exp(u);
    out[1] = isfinite(lr) ? exp(lr) : NAN;
    return OD_OK;
}

/* McCandlish's form in log space, log eps = x0 - softplus(x1 - log B): max_j |dx_j| / tol_j of the
 * fit against the closed form, tol_j = sqrt(m) tau sqrt((J^T J)^-1_jj). */
static double fit_recovery(const double *B, size_t m, double tau, const od_scaling_lr_fit *f,
                           const od_scaling_noise_scale *ns)
{
    double s11 = 0, s12 = 0, s22 = 0;   /* J^T J with J_i = (1, -logistic(x1 - log B_i)) */
    for (size_t i = 0; i < m; i++) {
        const double q = -1 / (1 + B[i] / ns->B_noise);
        s11 += 1;
        s12 += q;
        s22 += q * q;
    }
    const double det = s11 * s22 - s12 * s12;
    const double t0 = sqrt((double)m) * tau * sqrt(s22 / det), t1 = sqrt((double)m) * tau * sqrt(s11 / det);
    return fmax(fabs(log(f->eps_max / ns->eps_max)) / t0, fabs(log(f->B_noise / ns->B_noise)) / t1);
}

/* Batch sizes round(2^(j/2)) from 1 to bmax, without repeats. */
size_t od_lrb_batch_grid(double bmax, double *B)
{
    size_t n = 0;
    for (int j = 0; n < OD_LRB_MAX_B; j++) {
        const double b = round(pow(2, 0.5 * j));
        if (b > bmax) break;
        if (!n || b > B[n - 1]) B[n++] = b;
    }
    return n;
}

/* Batch sizes 2^k and 3 2^k that divide n with n/B >= tmin, increasing. */
static size_t divisor_grid(uint64_t n, uint64_t tmin, double *B)
{
    size_t k = 0;
    for (uint64_t b = 1; b <= n / tmin && k < OD_LRB_MAX_B; b *= 2) {
        if (n % b == 0) B[k++] = (double)b;
        if (3 * b <= n / tmin && n % (3 * b) == 0 && k < OD_LRB_MAX_B) B[k++] = (double)(3 * b);
    }
    /* 1, 3, 2, 6, 4, 12, ...: sort */
    for (size_t i = 1; i < k; i++)
        for (size_t j = i; j > 0 && B[j - 1] > B[j]; j--) {
            const double t = B[j];
            B[j] = B[j - 1];
            B[j - 1] = t;
        }
    return k;
}

/* McCandlish's quantities at w0 for linear regression: g = H omega and the per-example covariance
 * Sigma = H w w^T H + (w^T H w + sigma2) H + (kappa - 3) diag(lambda^2 w^2), w = omega. */
static int linreg_noise_scale(const lin_cfg *c, od_scaling_noise_scale *ns)
{
    const size_t d = c->d;
    double *H = od_vec_alloc(2 * d * d + d), *S = H ? H + d * d : NULL, *g = H ? S + d * d : NULL;
    if (!H) OD_ERROR("out of memory", OD_ENOMEM);
    double wHw = 0;
    for (size_t i = 0; i < d; i++) {
        g[i] = c->lambda[i] * c->omega[i];
        H[i * d + i] = c->lambda[i];
        wHw += g[i] * c->omega[i];
    }
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++)
            S[i * d + j] = g[i] * g[j] + (i == j ? (wHw + c->sigma2) * c->lambda[i] +
                                                       (c->kappa - 3) * g[i] * g[i] : 0);
    int st = od_scaling_mccandlish(d, g, H, S, ns);
    od_free(H);
    return st;
}

/* The expected noise scale of the iterate after the run at the optimum of the smallest batch:
 * with P_k = E (w - w*)_k^2, B_noise = ((kappa - 2) sum lambda^3 P + (sum lambda P + sigma2)
 * sum lambda^2) / sum lambda^3 P (ratio of the expectations of McCandlish's tr(H Sigma) and G^T H G). */
static double end_noise_scale(const lin_cfg *c, double eta, size_t B, uint64_t T)
{
    od_linreg_model mod = {c->d, c->lambda, c->omega, c->sigma2, c->kappa};
    od_linreg_algo al = od_linreg_algo_sgd(eta, B);
    od_linreg_exact *w = od_linreg_exact_alloc(&mod, &al);
    double *P = od_vec_alloc(c->d), l3 = 0, l2 = 0, S = 0, v = NAN;
    if (w && P) {
        for (uint64_t t = 0; t < T; t++) od_linreg_exact_step(w);
        od_linreg_exact_iterate_moments(w, P);
        for (size_t k = 0; k < c->d; k++) {
            const double l = c->lambda[k];
            l3 += l * l * l * P[k];
            l2 += l * l;
            S += l * P[k];
        }
        v = ((c->kappa - 2) * l3 + (S + c->sigma2) * l2) / l3;
    }
    od_linreg_exact_free(w);
    od_free(P);
    return v;
}

static double lr_of(const od_scaling_lr_fit *f, double B)
{
    return od_scaling_lr_eval(f->form, f->eps_max, f->B_noise, B);
}

/* ---- the run ---------------------------------------------------------------------------------- */

/* Parts 1 and 2: SGD on linear regression, one step and after n samples. */
static int sgd_part(od_run *r, od_lrb_tables *t)
{
    lin_cfg c = {.d = (size_t)od_run_int(r, "d"), .sigma2 = od_run_num(r, "sigma2"),
                 .kappa = od_run_num(r, "kurtosis"), .tol = od_run_num(r, "tol"),
                 .per_decade = od_run_int(r, "grid")};
    OD_TRY(od_exp_linreg_powerlaw_model(c.d, od_run_num(r, "spectrum"), od_run_num(r, "init"),
                                        &c.lambda, &c.omega));
    const uint64_t n = (uint64_t)od_run_int(r, "samples");
    double B1[OD_LRB_MAX_B], Bf[OD_LRB_MAX_B], e1[OD_LRB_MAX_B], ef[OD_LRB_MAX_B], res1[OD_LRB_MAX_B * R_ITEM], resf[OD_LRB_MAX_B * R_ITEM];
    const size_t n1 = od_lrb_batch_grid(1 << 20, B1), nf = divisor_grid(n, (uint64_t)od_run_int(r, "min_steps"), Bf);
    const char *label = od_run_progress_label(r);
    od_scaling_noise_scale ns;
    od_scaling_lr_fit f1[2], ff[2];
    double *cv = NULL;
    int st;
    if ((st = linreg_noise_scale(&c, &ns)) ||
        (st = od_map(n1, R_ITEM, res1, sweep_item, NULL, NULL, &(sweep_arg){&c, B1, 0}, label)) ||
        (st = od_map(nf, R_ITEM, resf, sweep_item, NULL, NULL, &(sweep_arg){&c, Bf, n}, label)))
        goto done;

    /* 1. one step: Brent against the closed form, and the fit of the forms */
    double worst = 0, tau1 = 0;
    for (size_t i = 0; i < n1; i++) {
        const double *x = res1 + i * R_ITEM;
        e1[i] = x[R_ETA];
        tau1 = fmax(tau1, x[R_TAU]);
        const double cf = od_scaling_lr_eval(OD_SCALING_LR_SGD, ns.eps_max, ns.B_noise, B1[i]);
        worst = fmax(worst, x[R_FOUND] ? fabs(log(e1[i] / cf)) / x[R_TAU] : INFINITY);
    }
    od_run_claim_le(r, "one-step-mccandlish", worst, 1);
    for (int k = 0; k < 2; k++)
        if ((st = od_scaling_fit_lr_batch(n1, B1, e1, (od_scaling_lr_form)k, &f1[k]))) goto done;
    od_run_claim_le(r, "one-step-fit", fit_recovery(B1, n1, tau1, &f1[0], &ns), 1);
    od_run_note(r, "one step from w0: McCandlish's eps_max = |g|^2/g^T H g = %.8g, B_noise = "
                   "tr(H Sigma)/g^T H g = %.8g (B_simple %.6g); fitted to the %zu optima: eps_max %.8g, "
                   "B_noise %.8g (rss %.2g); Surge form rss %.3g", ns.eps_max, ns.B_noise, ns.B_simple,
                n1, f1[0].eps_max, f1[0].B_noise, f1[0].rss, f1[1].rss);

    /* 2. after n samples */
    size_t found = 0;
    double tauf = 0, above = 0;
    for (size_t i = 0; i < nf; i++) {
        const double *x = resf + i * R_ITEM;
        ef[i] = x[R_ETA];
        found += x[R_FOUND] != 0;
        tauf = fmax(tauf, x[R_TAU]);
        above = fmax(above, ef[i] / x[R_ETAC]);
    }
    od_run_claim_check(r, "fixed-n-optimum-found", found == nf, (double)found, (double)nf, "all found");
    if (found < nf) {
        od_run_note(r, "%zu of %zu batch sizes have no bracketed optimum; the fits below use them anyway",
                    nf - found, nf);
        for (size_t i = 0; i < nf; i++) if (!isfinite(ef[i])) ef[i] = 1;   /* keep the fit defined */
    }
    for (int k = 0; k < 2; k++)
        if ((st = od_scaling_fit_lr_batch(nf, Bf, ef, (od_scaling_lr_form)k, &ff[k]))) goto done;
    od_run_claim_ge(r, "fixed-n-mccandlish-better", sqrt(ff[1].rss) - sqrt(ff[0].rss),
                    2 * sqrt((double)nf) * tauf);
    od_run_claim_le(r, "fixed-n-below-threshold", above, 1);
    const double bend = end_noise_scale(&c, ef[0], (size_t)Bf[0], n / (uint64_t)Bf[0]);
    od_run_note(r, "after n = %llu samples (B = %g to %g): McCandlish fit eps_max %.5g, B_noise %.5g "
                   "(rss %.3g); Surge fit eps_max %.3g, B_noise %.3g%s (rss %.3g); eta_opt(B)/B falls "
                   "from %.5g to %.5g; the noise scale is %.4g at w0 and %.5g after the run at the "
                   "smallest batch's optimum (it grows as the loss falls)",
                (unsigned long long)n, Bf[0], Bf[nf - 1], ff[0].eps_max, ff[0].B_noise, ff[0].rss,
                ff[1].eps_max, ff[1].B_noise, ff[1].identified ? "" : " (not identified)", ff[1].rss,
                ef[0] / Bf[0], ef[nf - 1] / Bf[nf - 1], ns.B_noise, bend);

    /* tables; risk curves at four batch sizes */
    static const char *c1[] = {"B", "eta_opt", "tol_log_eta", "closed_form", "mccandlish_fit", "surge_fit"};
    static const char *c2[] = {"B", "T", "eta_opt", "tol_log_eta", "excess_opt", "eta_per_sample",
                               "eta_c", "mccandlish_fit", "surge_fit", "found"};
    t->one = od_exp_scaling_table("one_step", c1, 6);
    t->fixed = od_exp_scaling_table("fixed_n", c2, 10);
    if (!t->one || !t->fixed) {
        st = od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n1; i++) {
        double row[6] = {B1[i], e1[i], res1[i * R_ITEM + R_TAU],
                         od_scaling_lr_eval(OD_SCALING_LR_SGD, ns.eps_max, ns.B_noise, B1[i]),
                         lr_of(&f1[0], B1[i]), lr_of(&f1[1], B1[i])};
        od_table_append(t->one, row);
    }
    for (size_t i = 0; i < nf; i++) {
        const double *x = resf + i * R_ITEM;
        double row[10] = {Bf[i], (double)(n / (uint64_t)Bf[i]), x[R_ETA], x[R_TAU], x[R_RISK],
                          x[R_ETA] / Bf[i], x[R_ETAC], lr_of(&ff[0], Bf[i]), lr_of(&ff[1], Bf[i]), x[R_FOUND]};
        od_table_append(t->fixed, row);
    }
    od_table_meta(t->one, "model", "SGD, one step from w0 on Gaussian linear regression: d = %zu, "
                  "lambda_k = k^-%g, omega_k = k^-%g, sigma2 = %g, kurtosis %g", c.d,
                  od_run_num(r, "spectrum"), od_run_num(r, "init"), c.sigma2, c.kappa);
    od_table_meta(t->fixed, "model", "SGD after n = T B = %llu samples, same model; eta_c: mean-square "
                  "stability threshold", (unsigned long long)n);
    if ((st = od_run_table(r, t->one)) || (st = od_run_table(r, t->fixed))) goto done;
    t->excess0 = 0;
    for (size_t k = 0; k < c.d; k++) t->excess0 += 0.5 * c.lambda[k] * c.omega[k] * c.omega[k];
    t->n_curves = nf < OD_LRB_CURVES ? nf : OD_LRB_CURVES;
    double ce[OD_LRB_CURVES], cc[OD_LRB_CURVES];
    for (size_t k = 0; k < t->n_curves; k++) {
        const size_t i = t->n_curves > 1 ? k * (nf - 1) / (t->n_curves - 1) : 0;
        t->curve_B[k] = Bf[i];
        ce[k] = ef[i];
        cc[k] = resf[i * R_ITEM + R_ETAC];
    }
    const size_t items = t->n_curves * CURVE_PTS;
    if (!(cv = malloc(2 * items * sizeof *cv))) {
        st = od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
        goto done;
    }
    curve_arg ca = {&c, t->curve_B, ce, cc, n};
    if ((st = od_map(items, 2, cv, curve_item, NULL, NULL, &ca, label))) goto done;
    static const char *cn[2 * OD_LRB_CURVES] = {"x0", "r0", "x1", "r1", "x2", "r2", "x3", "r3"};
    if (!(t->curves = od_exp_scaling_table("risk_curves", cn, 2 * t->n_curves))) {
        st = od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
        goto done;
    }
    for (size_t j = 0; j < CURVE_PTS; j++) {
        double row[2 * OD_LRB_CURVES];
        for (size_t k = 0; k < t->n_curves; k++) {
            row[2 * k] = cv[2 * (k * CURVE_PTS + j)] / t->curve_B[k];   /* eta / B */
            row[2 * k + 1] = cv[2 * (k * CURVE_PTS + j) + 1];
        }
        od_table_append(t->curves, row);
    }
    char bl[128] = "";
    for (size_t k = 0, used = 0; k < t->n_curves && used < sizeof bl; k++)
        used += (size_t)snprintf(bl + used, sizeof bl - used, "%s%g", k ? ", " : "", t->curve_B[k]);
    od_table_meta(t->curves, "columns", "x_k = eta/B, r_k = exact excess risk after n samples at batch "
                  "B_k = %s (NaN: the recursion diverged)", bl);
    st = od_run_table(r, t->curves);
done:
    free(cv);
    od_free(c.lambda);
    od_free(c.omega);
    return st;
}

/* The figure: four panels from the tables of the three parts. */
static int draw(od_run *r, const od_lrb_tables *t)
{
    od_figure *f = od_figure_alloc("lr_batch", "optimal learning rate against batch size: SGD "
                                              "(McCandlish) and sign updates (Surge)");
    if (!f) OD_ERROR("out of memory", OD_ENOMEM);
    od_figure_layout(f, 2, 2);
    od_figure_size(f, 1400, 1050);
    od_exp_linreg_panel(f, 0, "SGD on linear regression: optimum after n = T·B samples", "batch size B",
                        "optimal learning rate η", 1, 1);
    od_figure_add(f, &(od_series){.table = t->fixed, .x = "B", .y = "eta_c", .kind = OD_PLOT_LINES,
                                  .label = "stability threshold η_c(B)", .color = 8, .dash = 3});
    od_figure_add(f, &(od_series){.table = t->fixed, .x = "B", .y = "mccandlish_fit", .kind = OD_PLOT_LINES,
                                  .label = "McCandlish fit ε_max/(1 + B_noise/B)", .color = 1});
    od_figure_add(f, &(od_series){.table = t->fixed, .x = "B", .y = "surge_fit", .kind = OD_PLOT_LINES,
                                  .label = "Surge fit", .color = 2, .dash = 2});
    od_figure_add(f, &(od_series){.table = t->fixed, .x = "B", .y = "eta_opt", .kind = OD_PLOT_POINTS,
                                  .label = "η_opt of the exact risk", .color = 7});
    od_figure_key(f, "top left");
    od_exp_linreg_panel(f, 1, "exact excess risk after n samples", "per-sample step η/B",
                        OD_EXP_LINREG_RISK, 1, 1);
    for (size_t k = 0; k < t->n_curves; k++) {
        char x[8], y[8], lab[64];
        snprintf(x, sizeof x, "x%zu", k);
        snprintf(y, sizeof y, "r%zu", k);
        snprintf(lab, sizeof lab, "B = %g", t->curve_B[k]);
        od_figure_add(f, &(od_series){.table = t->curves, .x = x, .y = y, .kind = OD_PLOT_LINES,
                                      .label = lab, .color = (int)k + 1});
    }
    od_figure_add(f, &(od_series){.table = t->fixed, .x = "eta_per_sample", .y = "excess_opt",
                                  .kind = OD_PLOT_POINTS, .label = "minimum, every B", .color = 7});
    od_figure_yrange(f, NAN, 100 * t->excess0);   /* above: the geometric blow-up past eta_c */
    od_figure_hline(f, t->excess0, "excess risk at w₀");
    od_exp_linreg_panel(f, 2, "SGD on linear regression: one step from w₀", "batch size B",
                        "optimal learning rate η", 1, 1);
    od_figure_add(f, &(od_series){.table = t->one, .x = "B", .y = "closed_form", .kind = OD_PLOT_LINES,
                                  .label = "McCandlish: |g|²/gᵀHg / (1 + B_noise/B)", .color = 1});
    od_figure_add(f, &(od_series){.table = t->one, .x = "B", .y = "surge_fit", .kind = OD_PLOT_LINES,
                                  .label = "Surge fit", .color = 2, .dash = 2});
    od_figure_add(f, &(od_series){.table = t->one, .x = "B", .y = "eta_opt", .kind = OD_PLOT_POINTS,
                                  .label = "η_opt of the exact risk", .color = 7});
    od_figure_key(f, "bottom right");
    od_exp_linreg_panel(f, 3, "one step on a coupled quadratic: SGD against sign(g̃)", "batch size B",
                        "ε_opt(B) / ε_opt(B → ∞)", 1, 1);
    od_figure_add(f, &(od_series){.table = t->sign_exact, .x = "B", .y = "sgd_rel", .kind = OD_PLOT_LINES,
                                  .label = "SGD, McCandlish (exact)", .color = 1});
    od_figure_add(f, &(od_series){.table = t->sign_exact, .x = "B", .y = "sign_rel", .kind = OD_PLOT_LINES,
                                  .label = "sign-SGD, exact (erf)", .color = 3});
    od_figure_add(f, &(od_series){.table = t->sign_exact, .x = "B", .y = "surge_rel", .kind = OD_PLOT_LINES,
                                  .label = "Surge form (small-batch limit)", .color = 2, .dash = 2});
    od_figure_add(f, &(od_series){.table = t->sign_mc, .x = "B", .y = "sgd_mc_rel", .err = "sgd_mc_rel_se",
                                  .kind = OD_PLOT_ERRORBARS, .label = "SGD, Monte Carlo ± 2 SE", .color = 1});
    od_figure_add(f, &(od_series){.table = t->sign_mc, .x = "B", .y = "sign_mc_rel", .err = "sign_mc_rel_se",
                                  .kind = OD_PLOT_ERRORBARS, .label = "sign-SGD, Monte Carlo ± 2 SE", .color = 3});
    od_figure_key(f, "bottom right");
    const int st = od_run_figure(r, f);
    od_figure_free(f);
    return st;
}

static int run(od_run *r)
{
    od_lrb_tables t = {0};
    int st = sgd_part(r, &t);
    if (!st) st = od_lrb_sign_part(r, &t);
    if (!st) st = draw(r, &t);
    od_table_free(t.one);
    od_table_free(t.fixed);
    od_table_free(t.curves);
    od_table_free(t.sign_exact);
    od_table_free(t.sign_mc);
    return st;
}

static int validate(const od_params *v)
{
    double B[OD_LRB_MAX_B];
    const size_t n = divisor_grid((uint64_t)od_params_int(v, "samples"),
                                  (uint64_t)od_params_int(v, "min_steps"), B);
    if (n < 6)
        OD_ERRORF(OD_ERANGE, "samples=%ld, min_steps=%ld give %zu batch sizes (2^k and 3 2^k dividing "
                  "samples with samples/B >= min_steps); need at least 6", od_params_int(v, "samples"),
                  od_params_int(v, "min_steps"), n);
    return OD_OK;
}

const od_experiment od_exp_lr_batch_rules = {
    .name = "lr-batch-rules",
    .title = "Optimal learning rate against batch size: SGD's exact risk (McCandlish) and sign "
             "updates (Surge)",
    .reference = "McCandlish, Kaplan, Amodei et al., An Empirical Model of Large-Batch Training, arXiv "
                 "1812.06162 (2018), §2; Li, Zhao, Zhang et al., Surge Phenomenon in Optimal Learning "
                 "Rate and Batch Size Scaling, NeurIPS 2024 (arXiv 2405.14578), §3",
    .summary = "Finds the learning rate that minimises the linreg engine's exact expected risk of SGD "
               "(Brent on log eta, bracketed by a grid) for a range of batch sizes, after one step "
               "(against McCandlish's closed form) and after a fixed number of samples n = T B "
               "(fitted by McCandlish's and the Surge form, with the stability threshold); then one "
               "step of SGD and of sign-SGD on a quadratic with coupled curvature and Gaussian "
               "gradient noise: exact optima, Monte Carlo optima through the optimizer zoo, and the "
               "Surge form as the small-batch limit of the sign optimum.",
    .doc = "docs/experiments/lr-batch-rules.md",
    .params = params,
    .n_params = sizeof params / sizeof params[0],
    .claims = claims,
    .n_claims = sizeof claims / sizeof claims[0],
    .validate = validate,
    .run = run,
};

