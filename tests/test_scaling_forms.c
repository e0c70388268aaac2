/* optdyn tests — power laws, the log-linear law and the learning-rate forms against closed forms. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <gsl/gsl_linalg.h>

#include "linreg/optdyn_linreg.h"
#include "sde/optdyn_sde.h"
#include "test_scaling.h"

enum { NP = 25 };

/* x log-spaced over three decades; y = c + k x^-p, times exp(sigma z). */
static void powerlaw_data(double c, double k, double p, double sigma, double *x, double *y)
{
    od_stream s;
    od_stream_init(&s, 21, 3);
    for (int i = 0; i < NP; i++) {
        x[i] = 1e6 * pow(10, 3.0 * i / (NP - 1));
        od_stream_seek(&s, (uint32_t)i, 0);
        y[i] = (c + k * pow(x[i], -p)) * exp(sigma * od_stream_normal(&s));
    }
}

static void test_powerlaw_exact(void)
{
    double x[NP], y[NP];
    od_scaling_powerlaw f;
    /* without offset: OLS on logs recovers k and p to rounding (condition of the design ~ 1e2) */
    powerlaw_data(0, 37.9, 0.283, 0, x, y);
    CU_ASSERT_EQUAL_FATAL(od_scaling_fit_powerlaw(NP, x, y, 0, &f), OD_OK);
    OD_ASSERT_REL(f.k, 37.9, 1e-11);
    OD_ASSERT_REL(f.p, 0.283, 1e-11);
    CU_ASSERT_EQUAL(f.c, 0);
    CU_ASSERT_TRUE(f.rss < 1e-25);
    /* with offset */
    powerlaw_data(1.693, 410.7, 0.2849, 0, x, y);
    CU_ASSERT_EQUAL_FATAL(od_scaling_fit_powerlaw(NP, x, y, 1, &f), OD_OK);
    OD_ASSERT_REL(f.c, 1.693, 1e-8);
    OD_ASSERT_REL(f.k, 410.7, 1e-7);
    OD_ASSERT_REL(f.p, 0.2849, 1e-8);
    CU_ASSERT_TRUE(f.rss < 1e-20);
}

/* Standard errors with noise: OLS against the textbook formulas; the offset fit against
 * s^2 (J^T J)^-1 with J from central differences (error O(h^2) relative). */
static void test_powerlaw_se(void)
{
    double x[NP], y[NP];
    od_scaling_powerlaw f;
    powerlaw_data(0, 37.9, 0.283, 0.05, x, y);
    CU_ASSERT_EQUAL_FATAL(od_scaling_fit_powerlaw(NP, x, y, 0, &f), OD_OK);
    double mx = 0, sxx = 0;
    for (int i = 0; i < NP; i++) mx += log(x[i]) / NP;
    for (int i = 0; i < NP; i++) sxx += (log(x[i]) - mx) * (log(x[i]) - mx);
    double s2 = f.rss / (NP - 2);
    OD_ASSERT_REL(f.se_p, sqrt(s2 / sxx), 1e-10);
    OD_ASSERT_REL(f.se_k, f.k * sqrt(s2 * (1.0 / NP + mx * mx / sxx)), 1e-10);

    powerlaw_data(1.693, 410.7, 0.2849, 0.01, x, y);
    CU_ASSERT_EQUAL_FATAL(od_scaling_fit_powerlaw(NP, x, y, 1, &f), OD_OK);
    double th[3] = {log(f.c), log(f.k), f.p}, J[NP * 3], h = 1e-6;
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < NP; i++) {
            double tp[3], tm[3];
            memcpy(tp, th, sizeof tp);
            memcpy(tm, th, sizeof tm);
            tp[j] += h;
            tm[j] -= h;
            J[i * 3 + j] = (log(exp(tp[0]) + exp(tp[1]) * pow(x[i], -tp[2])) -
                            log(exp(tm[0]) + exp(tm[1]) * pow(x[i], -tm[2]))) / (2 * h);
        }
    double JtJ[9] = {0};
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            for (int i = 0; i < NP; i++) JtJ[a * 3 + b] += J[i * 3 + a] * J[i * 3 + b];
    gsl_matrix_view m = gsl_matrix_view_array(JtJ, 3, 3);
    gsl_linalg_cholesky_decomp1(&m.matrix);
    gsl_linalg_cholesky_invert(&m.matrix);
    double s2o = f.rss / (NP - 3);
    OD_ASSERT_REL(f.se_p, sqrt(s2o * JtJ[8]), 1e-5);
    OD_ASSERT_REL(f.se_c, f.c * sqrt(s2o * JtJ[0]), 1e-5);
    OD_ASSERT_REL(f.se_k, f.k * sqrt(s2o * JtJ[4]), 1e-5);
    /* bad input */
    CU_ASSERT_EQUAL(od_scaling_fit_powerlaw(3, x, y, 1, &f), OD_EINVAL);
    y[4] = -1;
    CU_ASSERT_EQUAL(od_scaling_fit_powerlaw(NP, x, y, 0, &f), OD_ERANGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "row 4: y"));
}

static void test_loglinear(void)
{
    enum { N = 30 };
    double X[N * 2], y[N];
    od_stream s;
    od_stream_init(&s, 4, 4);
    for (int i = 0; i < N; i++) {
        X[2 * i] = exp(8 + 6 * od_stream_uniform(&s));
        X[2 * i + 1] = exp(20 + 4 * od_stream_uniform(&s));
        y[i] = exp(0.317) * pow(X[2 * i], 0.713) * pow(X[2 * i + 1], -0.2491);
    }
    od_scaling_loglinear f;
    CU_ASSERT_EQUAL_FATAL(od_scaling_fit_loglinear(N, 2, X, y, &f), OD_OK);
    OD_ASSERT_CLOSE(f.intercept, 0.317, 1e-9);
    OD_ASSERT_CLOSE(f.coef[0], 0.713, 1e-11);
    OD_ASSERT_CLOSE(f.coef[1], -0.2491, 1e-11);
    CU_ASSERT_TRUE(f.rss < 1e-20);
    od_scaling_loglinear_free(&f);
    /* one regressor with noise: the same numbers as the power law without offset (two GSL paths) */
    double x1[NP], y1[NP];
    powerlaw_data(0, 37.9, 0.283, 0.05, x1, y1);
    od_scaling_powerlaw p;
    od_scaling_fit_powerlaw(NP, x1, y1, 0, &p);
    CU_ASSERT_EQUAL_FATAL(od_scaling_fit_loglinear(NP, 1, x1, y1, &f), OD_OK);
    OD_ASSERT_CLOSE(f.coef[0], -p.p, 1e-11);
    OD_ASSERT_CLOSE(f.intercept, log(p.k), 1e-10);
    OD_ASSERT_REL(f.se[0], p.se_p, 1e-9);
    OD_ASSERT_REL(f.rss, p.rss, 1e-9);
    od_scaling_loglinear_free(&f);
    /* collinear regressors: x2 = x1^2 */
    for (int i = 0; i < N; i++) X[2 * i + 1] = X[2 * i] * X[2 * i];
    CU_ASSERT_EQUAL(od_scaling_fit_loglinear(N, 2, X, y, &f), OD_ENUMERIC);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "collinear"));
    CU_ASSERT_EQUAL(od_scaling_fit_loglinear(3, 2, X, y, &f), OD_EINVAL);
}

static void test_lr_forms(void)
{
    const double em = 3.7e-3, bn = 413.0;
    /* Surge: the peak is at B_noise with value eps_max; the two asymptotes 2 eps_max sqrt(B/Bn)
     * and 2 eps_max sqrt(Bn/B) with relative error B/Bn (resp. Bn/B) */
    OD_ASSERT_REL(od_scaling_lr_eval(OD_SCALING_LR_SURGE, em, bn, bn), em, 4 * DBL_EPSILON);
    for (int s = -1; s <= 1; s += 2) {
        double B = bn * exp(s * 1e-3);
        CU_ASSERT_TRUE(od_scaling_lr_eval(OD_SCALING_LR_SURGE, em, bn, B) < em);
    }
    double Bs = bn * 1e-6, Bl = bn * 1e6;
    OD_ASSERT_REL(od_scaling_lr_eval(OD_SCALING_LR_SURGE, em, bn, Bs), 2 * em * sqrt(Bs / bn), 2e-6);
    OD_ASSERT_REL(od_scaling_lr_eval(OD_SCALING_LR_SURGE, em, bn, Bl), 2 * em * sqrt(bn / Bl), 2e-6);
    /* McCandlish: increasing, eps_max/2 at B_noise, linear below, saturating above */
    OD_ASSERT_REL(od_scaling_lr_eval(OD_SCALING_LR_SGD, em, bn, bn), em / 2, 4 * DBL_EPSILON);
    OD_ASSERT_REL(od_scaling_lr_eval(OD_SCALING_LR_SGD, em, bn, Bs), em * Bs / bn, 2e-6);
    OD_ASSERT_REL(od_scaling_lr_eval(OD_SCALING_LR_SGD, em, bn, Bl), em, 2e-6);
    double prev = 0;
    for (int i = 0; i < 50; i++) {
        double v = od_scaling_lr_eval(OD_SCALING_LR_SGD, em, bn, pow(10, 0.2 * i));
        CU_ASSERT_TRUE(v > prev);
        prev = v;
    }
    /* the closed forms: ε_max / (1 + Bn/B) and ε_max / (½(√(Bn/B) + √(B/Bn))) */
    OD_ASSERT_REL(od_scaling_lr_eval(OD_SCALING_LR_SGD, em, bn, 97.0), em / (1 + bn / 97.0), 4 * DBL_EPSILON);
    OD_ASSERT_REL(od_scaling_lr_eval(OD_SCALING_LR_SURGE, em, bn, 97.0),
                  em / (0.5 * (sqrt(bn / 97.0) + sqrt(97.0 / bn))), 8 * DBL_EPSILON);
}

static void test_lr_fits(void)
{
    enum { NB = 10 };
    double B[NB], e[2][NB];
    const double em = 3.7e-3, bn = 413.0;
    od_stream s;
    od_stream_init(&s, 8, 8);
    for (int i = 0; i < NB; i++) {
        B[i] = 32 * pow(2, i);   /* 32 to 16384 */
        for (int f = 0; f < 2; f++) e[f][i] = od_scaling_lr_eval((od_scaling_lr_form)f, em, bn, B[i]);
    }
    /* each form's exact data: recovered, zero rss, and the other form fits worse */
    for (int f = 0; f < 2; f++) {
        od_scaling_lr_fit fit[2];
        for (int g = 0; g < 2; g++)
            CU_ASSERT_EQUAL_FATAL(od_scaling_fit_lr_batch(NB, B, e[f], (od_scaling_lr_form)g, &fit[g]), OD_OK);
        OD_ASSERT_REL(fit[f].eps_max, em, 1e-8);
        OD_ASSERT_REL(fit[f].B_noise, bn, 1e-8);
        CU_ASSERT_TRUE(fit[f].identified);
        CU_ASSERT_TRUE(fit[f].rss < 1e-20);
        CU_ASSERT_TRUE(fit[1 - f].rss > 1e-4);
    }
    /* noisy Surge data: Surge fits better */
    for (int i = 0; i < NB; i++) {
        od_stream_seek(&s, (uint32_t)i, 0);
        e[1][i] *= exp(0.05 * od_stream_normal(&s));
    }
    od_scaling_lr_fit a, b;
    od_scaling_fit_lr_batch(NB, B, e[1], OD_SCALING_LR_SGD, &a);
    od_scaling_fit_lr_batch(NB, B, e[1], OD_SCALING_LR_SURGE, &b);
    CU_ASSERT_TRUE(b.rss < a.rss);
    CU_ASSERT_TRUE(b.se_log_B_noise > 0 && b.se_log_B_noise < 1);
    /* data far below B_noise: sgd's B_noise runs off and is flagged */
    double Bsmall[NB], elin[NB];
    for (int i = 0; i < NB; i++) {
        Bsmall[i] = 1 + i;
        elin[i] = 1e-5 * Bsmall[i];
    }
    CU_ASSERT_EQUAL(od_scaling_fit_lr_batch(NB, Bsmall, elin, OD_SCALING_LR_SGD, &a), OD_OK);
    CU_ASSERT_FALSE(a.identified);
    CU_ASSERT_EQUAL(od_scaling_fit_lr_batch(2, B, e[0], OD_SCALING_LR_SGD, &a), OD_EINVAL);
    Bsmall[3] = 0;
    CU_ASSERT_EQUAL(od_scaling_fit_lr_batch(NB, Bsmall, elin, OD_SCALING_LR_SGD, &a), OD_ERANGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "row 3: batch size"));
}

/* McCandlish's eps_opt(B) = eps_max / (1 + B_noise/B) against the linreg engine's exact one-step
 * risk of SGD on Gaussian linear regression, whose per-example gradient x (x^T u - xi) has mean
 * g = H u and covariance Sigma = H u u^T H + (u^T H u + sigma2) H + (kappa - 3) diag(lambda^2 u^2).
 * The engine's risk is a quadratic in eta; its minimiser from three exact values (second
 * differences at step h = 0.1, rounding ~ 16 d eps / h^2 relative) must equal the formula. */
static void test_mccandlish(void)
{
    enum { D = 4 };
    const double lam[D] = {1.83, 0.71, 0.262, 0.0937}, u[D] = {0.61, -1.27, 0.88, 2.03};
    const double sigma2 = 0.37, kappas[2] = {3.0, 1.8}, h = 0.1;
    for (int kk = 0; kk < 2; kk++) {
        const double kappa = kappas[kk];
        double g[D], H[D * D] = {0}, S[D * D], uHu = 0;
        for (int i = 0; i < D; i++) {
            g[i] = lam[i] * u[i];
            H[i * D + i] = lam[i];
            uHu += lam[i] * u[i] * u[i];
        }
        for (int i = 0; i < D; i++)
            for (int j = 0; j < D; j++)
                S[i * D + j] = g[i] * g[j] + (i == j ? (uHu + sigma2) * lam[i] +
                                                           (kappa - 3) * g[i] * g[i] : 0);
        od_scaling_noise_scale ns;
        CU_ASSERT_EQUAL_FATAL(od_scaling_mccandlish(D, g, H, S, &ns), OD_OK);
        for (size_t B = 1; B <= 4096; B *= 8) {
            const uint64_t T = 1;
            double r[3];
            for (int k = 0; k < 3; k++) {
                od_linreg_algo a = od_linreg_algo_sgd(k * h, B);
                if (k == 0) a.lr = 1e-300;   /* the engine wants lr > 0: the step changes nothing */
                CU_ASSERT_EQUAL_FATAL(od_linreg_excess_at(D, lam, u, sigma2, kappa, &a, 1, &T, &r[k]), OD_OK);
            }
            const double c2 = (r[2] - 2 * r[1] + r[0]) / (h * h), c1 = (r[1] - r[0]) / h - 0.5 * c2 * h;
            OD_ASSERT_REL(-c1 / c2, ns.eps_max / (1 + ns.B_noise / (double)B), 1e-11);
        }
        OD_ASSERT_REL(ns.dL_max, 0.5 * od_dot(D, g, g) * ns.eps_max, 8 * DBL_EPSILON);
    }
    /* H proportional to I: B_noise = B_simple (McCandlish et al.); scaling H by 2.7 divides eps_max */
    const double g3[3] = {0.43, -1.12, 0.265};
    double H3[9] = {0}, S3[9] = {0.81, 0.12, -0.05, 0.12, 0.57, 0.09, -0.05, 0.09, 1.33};
    for (int i = 0; i < 3; i++) H3[4 * i] = 2.3;
    od_scaling_noise_scale a, b;
    CU_ASSERT_EQUAL_FATAL(od_scaling_mccandlish(3, g3, H3, S3, &a), OD_OK);
    OD_ASSERT_REL(a.B_noise, a.B_simple, 4 * DBL_EPSILON);
    for (int i = 0; i < 3; i++) H3[4 * i] = 2.3 * 2.7;
    CU_ASSERT_EQUAL_FATAL(od_scaling_mccandlish(3, g3, H3, S3, &b), OD_OK);
    OD_ASSERT_REL(b.eps_max, a.eps_max / 2.7, 4 * DBL_EPSILON);
    OD_ASSERT_REL(b.B_noise, a.B_noise, 4 * DBL_EPSILON);
    /* no finite optimum */
    const double zero3[3] = {0};
    CU_ASSERT_EQUAL(od_scaling_mccandlish(3, zero3, H3, S3, &a), OD_ERANGE);
    for (int i = 0; i < 9; i++) H3[i] = 0;
    CU_ASSERT_EQUAL(od_scaling_mccandlish(3, g3, H3, S3, &a), OD_ERANGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "g^T H g = 0"));
}

/* The exact one-step optimum of sign updates against closed forms. */
static void test_sign_lr(void)
{
    /* equicorrelated H (H_ii = h, H_ij = rho h), equal g_i = gam and sigma_i = s:
     * eps = gam m / (h (1 + rho (d - 1) m^2)), m = erf(gam sqrt(B/2) / s) */
    enum { D = 7 };
    const double h = 1.9, rho = 0.37, gam = 0.83, s = 4.1;
    double H[D * D], g[D], sd[D];
    for (int i = 0; i < D; i++) {
        g[i] = gam;
        sd[i] = s;
        for (int j = 0; j < D; j++) H[i * D + j] = i == j ? h : rho * h;
    }
    const double Bs[] = {0.37, 3, 41, 517, 2e4};
    for (int k = 0; k < 5; k++) {
        const double m = erf(gam * sqrt(Bs[k] / 2) / s);
        OD_ASSERT_REL(od_scaling_sign_lr_opt(D, g, H, sd, Bs[k]),
                      gam * m / (h * (1 + rho * (D - 1) * m * m)), 64 * DBL_EPSILON);
    }
    OD_ASSERT_REL(od_scaling_sign_lr_opt(D, g, H, sd, INFINITY), gam / (h * (1 + rho * (D - 1))),
                  16 * DBL_EPSILON);
    /* Surge params of this H: a = d h, b = (2/pi) rho h d (d-1) (gam/s)^2, c = sqrt(2/pi) d gam^2/s;
     * the small-batch optimum c sqrt(B) / (a + b B) is the Surge form exactly, and the exact sign
     * optimum approaches it with relative error <= 2 x^2 (x = gam sqrt(B/2)/s; erf's series) */
    double em, bn;
    CU_ASSERT_EQUAL_FATAL(od_scaling_surge_params(D, g, H, sd, &em, &bn), OD_OK);
    const double a = D * h, b = 2 / M_PI * rho * h * D * (D - 1) * pow(gam / s, 2),
                 c = sqrt(2 / M_PI) * D * gam * gam / s;
    OD_ASSERT_REL(bn, a / b, 16 * DBL_EPSILON);
    OD_ASSERT_REL(em, c / (2 * sqrt(a * b)), 16 * DBL_EPSILON);
    for (int k = 0; k < 5; k++)
        OD_ASSERT_REL(od_scaling_lr_eval(OD_SCALING_LR_SURGE, em, bn, Bs[k]),
                      c * sqrt(Bs[k]) / (a + b * Bs[k]), 32 * DBL_EPSILON);
    for (double B = 1e-6; B <= 1e-2; B *= 10) {
        const double x2 = gam * gam * B / (2 * s * s);
        OD_ASSERT_REL(od_scaling_sign_lr_opt(D, g, H, sd, B), od_scaling_lr_eval(OD_SCALING_LR_SURGE, em, bn, B),
                      2 * x2 + 64 * DBL_EPSILON);
    }
    /* diagonal H, mixed signs: the optimum rises with B to sum |g_i| / tr H (no surge), and the
     * Surge form does not exist */
    const double lam[4] = {2.71, 0.93, 0.318, 0.0471}, g4[4] = {-0.62, 0.145, 1.37, -0.0883},
                 sd4[4] = {3.3, 0.71, 12.9, 0.52};
    double H4[16] = {0};
    for (int i = 0; i < 4; i++) H4[5 * i] = lam[i];
    double prev = 0, l1 = 0, tr = 0;
    for (int i = 0; i < 4; i++) {
        l1 += fabs(g4[i]);
        tr += lam[i];
    }
    for (int k = 0; k <= 60; k++) {
        const double v = od_scaling_sign_lr_opt(4, g4, H4, sd4, pow(10, -2 + 0.15 * k));
        CU_ASSERT_TRUE(v >= prev);
        prev = v;
    }
    OD_ASSERT_REL(od_scaling_sign_lr_opt(4, g4, H4, sd4, 1e30), l1 / tr, 4 * DBL_EPSILON);
    OD_ASSERT_REL(od_scaling_sign_lr_opt(4, g4, H4, sd4, INFINITY), l1 / tr, 4 * DBL_EPSILON);
    CU_ASSERT_EQUAL(od_scaling_surge_params(4, g4, H4, sd4, &em, &bn), OD_ERANGE);
    CU_ASSERT_TRUE(isnan(em) && isnan(bn));
}

/* The docs' premise for sign updates: Adam's first step (torch's bias correction, eps = 0) is
 * sign(g~) for any beta1, beta2 — the same step as od_sde_signsgd on the same minibatch, up to the
 * rounding of m^/sqrt(v^) (a few ulps). */
static void test_adam_first_step_is_sign(void)
{
    enum { D = 5 };
    const double A[D * D] = {2.1, 0.3, 0, 0, 0.1, 0.3, 1.7, 0.2, 0, 0, 0, 0.2, 0.9, 0.05, 0,
                             0, 0, 0.05, 0.47, 0.11, 0.1, 0, 0, 0.11, 0.33};
    double S[D * D] = {0}, x0[D] = {0.7, -1.3, 0.22, 2.9, -0.41};
    for (int i = 0; i < D; i++) S[i * D + i] = 0.5 + 0.3 * i;
    od_problem *p;
    CU_ASSERT_EQUAL_FATAL(od_problem_quadratic_dense(D, A, NULL, S, &p), OD_OK);
    const double betas[3][2] = {{0.9, 0.999}, {0, 0}, {0.37, 0.81}};
    for (int k = 0; k < 3; k++) {
        od_sde_hp hp = od_sde_hp_default();
        hp.lr = 1;
        hp.eps = 0;
        hp.beta1 = betas[k][0];
        hp.beta2 = betas[k][1];
        od_sde_opt *adam, *sign;
        CU_ASSERT_EQUAL_FATAL(od_sde_opt_alloc(od_sde_adam, &hp, D, &adam), OD_OK);
        CU_ASSERT_EQUAL_FATAL(od_sde_opt_alloc(od_sde_signsgd, &hp, D, &sign), OD_OK);
        for (uint32_t path = 0; path < 20; path++) {
            double xa[D], xs[D];
            od_stream s;
            od_stream_init(&s, 5, 9);
            memcpy(xa, x0, sizeof xa);
            memcpy(xs, x0, sizeof xs);
            od_stream_seek(&s, path, 0);
            od_sde_opt_reset(adam);
            CU_ASSERT_EQUAL(od_sde_opt_step(adam, p, 3, &s, xa), OD_OK);
            od_stream_seek(&s, path, 0);
            CU_ASSERT_EQUAL(od_sde_opt_step(sign, p, 3, &s, xs), OD_OK);
            for (int i = 0; i < D; i++) OD_ASSERT_CLOSE(xa[i], xs[i], 8 * DBL_EPSILON * 4);
        }
        od_sde_opt_free(adam);
        od_sde_opt_free(sign);
    }
    od_problem_free(p);
}

void od_test_suite_scaling_forms(void)
{
    static const od_test_case cases[] = {
        {"power law with and without offset: exact recovery", test_powerlaw_exact},
        {"power-law standard errors: textbook OLS and s^2 (J^T J)^-1", test_powerlaw_se},
        {"log-linear law: exact, equals the power law, collinear rejected", test_loglinear},
        {"McCandlish and Surge: peak, asymptotes, monotonicity", test_lr_forms},
        {"LR-batch fits: recovery, the better form by RSS, runaway B_noise", test_lr_fits},
        {"McCandlish's eps_opt(B) = the linreg engine's one-step optimum", test_mccandlish},
        {"sign updates: exact optimum, Surge small-batch limit, diagonal H", test_sign_lr},
        {"Adam's first step is the sign step", test_adam_first_step_is_sign},
        {NULL, NULL}};
    od_test_add("scaling forms", cases);
}
