/* optdyn tests — linreg: the closed forms behind the bound overlays and the Advani–Saxe curve.
 * Zou et al.'s iterate-average bound is the one bound whose constants were verified (against a
 * public restatement of the theorem): a test asserts that it holds.  The other bounds' constants are
 * recalled, so no test asserts that they hold; the tests check the parts that are mathematics (the
 * EMA and ASGD gradient-descent factors, the step-decay product, reductions between the bounds) and
 * the Marchenko–Pastur integral. */
#include <stdlib.h>
#include <float.h>
#include <math.h>
#include <stdio.h>

#include "linreg/optdyn_linreg.h"
#include "od_test.h"

void od_test_suite_linreg_bounds(void);

static void test_ema_factor(void)
{
    const double a = 0.93, g = 0.41, lams[3] = {0.0173, 0.7, (1 - 0.93) / 0.41};   /* last: a = r */
    for (int i = 0; i < 3; i++) {
        double u = 1, e = 1;
        for (int t = 0; t < 257; t++) {
            e = a * e + (1 - a) * u;
            u = (1 - g * lams[i]) * u;
        }
        /* 257 steps of a contracting two-term recursion: a few hundred roundings */
        OD_ASSERT_REL(od_linreg_ema_gd_factor(a, g, lams[i], 257), e, 1e3 * DBL_EPSILON);
    }
}

static void test_asgd_factors(void)
{
    double s, as;
    od_linreg_asgd_bias_factors(1.0, 0.3, 0.9, 0.2, 0.37, 120, &s, &as);
    OD_ASSERT_REL(as, s, 1e3 * DBL_EPSILON);   /* alpha = 1 is SGD with step delta */
    /* the factor is the squared mean: the exact noiseless engine at a huge batch approaches it */
    const double l = 0.21, om = 1;
    od_linreg_asgd_bias_factors(0.85, 0.2, 0.6, 0.3, l, 90, &s, &as);
    od_linreg_algo a = od_linreg_algo_asgd(0.85, 0.2, 0.6, 0.3, (size_t)1 << 40);
    uint64_t T = 90;
    double r;
    od_linreg_excess_at(1, &l, &om, 0.0, 3.0, &a, 1, &T, &r);
    OD_ASSERT_REL(r, 0.5 * l * as, 1e-9);   /* the noise adds O(1/B) = 1e-12 relative */
}

static void test_bound_structure(void)
{
    enum { D = 200 };
    double lambda[D], omega[D];
    od_linreg_spectrum_powerlaw(D, 1.5, 1.0, lambda);
    for (int k = 0; k < D; k++) omega[k] = 1.0 / sqrt(k + 1.0);
    /* tail averaging from S = 0 is the uniform average */
    double avg = od_linreg_bound_zou_avg(D, lambda, omega, 0.1, 3, 0.1, 500);
    double tail = od_linreg_bound_zou_tail(D, lambda, omega, 0.1, 3, 0.1, 0, 500);
    OD_ASSERT_REL(tail, avg, 16 * DBL_EPSILON);
    /* the bound needs lr < 1 / (alpha tr H) */
    double tr = 0;
    for (int k = 0; k < D; k++) tr += lambda[k];
    CU_ASSERT_TRUE(isinf(od_linreg_bound_zou_avg(D, lambda, omega, 0.1, 3, 1.0 / (3 * tr), 500)));
    /* any order of the spectrum gives the same bound */
    double lr_[D], or_[D];
    for (int k = 0; k < D; k++) lr_[k] = lambda[D - 1 - k], or_[k] = omega[D - 1 - k];
    OD_ASSERT_REL(od_linreg_bound_zou_avg(D, lr_, or_, 0.1, 3, 0.1, 500), avg, 16 * DBL_EPSILON);
    /* Wu et al.'s bias term is the squared product of the schedule's contractions */
    const double g = 0.8;
    const uint64_t S = 300, N = 2000;
    double bias, var;
    od_linreg_bound_wu_stepdecay(D, lambda, omega, 0.0, g, S, N, &bias, &var);
    od_linreg_schedule sch;
    CU_ASSERT_EQUAL(od_linreg_schedule_parse("stepdecay:start=300", N, &sch), OD_OK);
    double direct = 0;
    for (int k = 0; k < D; k++) {
        double p = omega[k];
        for (uint64_t t = 0; t < N; t++) p *= 1 - g * od_linreg_schedule_mult(&sch, t) * lambda[k];
        direct += lambda[k] * p * p;
    }
    OD_ASSERT_REL(bias, direct, 1e-12);
    CU_ASSERT_EQUAL(var, 0.0);
}

/* Zou et al.'s iterate-average bound is a theorem for Gaussian features (M o A = 2HAH + tr(HA) H, so
 * alpha_M = 3) and lr < 1/(3 tr H): it must lie above the exact excess risk of (1/N) sum_{t<N} w_t
 * at every N.  Instances: two power laws, a flat-then-steep spectrum, initial errors of both kinds of
 * alignment, noise 0 and not, steps up to 0.95 of the limit, N from 1 to 3000. */
static void test_zou_average_holds(void)
{
    enum { D = 300, NT = 40 };
    double *lambda = malloc(D * sizeof *lambda), *omega = malloc(D * sizeof *omega), ex[NT];
    uint64_t times[NT];
    for (int i = 0; i < NT; i++) times[i] = (uint64_t)llround(pow(3000.0, i / (NT - 1.0)));
    size_t nt = 0;   /* drop repeated times */
    for (int i = 0; i < NT; i++)
        if (nt == 0 || times[i] > times[nt - 1]) times[nt++] = times[i];
    const double sig2[3] = {0.0, 0.0173, 0.61}, frac[3] = {0.2, 0.6, 0.95};
    double rmin = INFINITY;
    for (int c = 0; c < 9; c++) {
        double tr = 0;
        for (int k = 0; k < D; k++) {
            const double kk = k + 1.0;
            lambda[k] = c % 3 == 0 ? pow(kk, -1.5) : c % 3 == 1 ? pow(kk, -2.3) : (k < 20 ? 0.05 : 0.05 * pow(kk / 20, -3));
            omega[k] = c < 3 ? 1.0 : c < 6 ? pow(kk, 0.4) * (1 + 0.3 * sin(kk)) : cos(0.77 * kk);
            tr += lambda[k];
        }
        od_linreg_algo a = od_linreg_algo_sgd(frac[c % 3] / (3 * tr), 1);
        a.output = OD_LINREG_OUT_AVG;
        const double s2 = sig2[(c / 3 + c) % 3];
        CU_ASSERT_EQUAL_FATAL(od_linreg_excess_at(D, lambda, omega, s2, 3.0, &a, nt, times, ex), OD_OK);
        for (size_t i = 0; i < nt; i++) {
            const double b = od_linreg_bound_zou_avg(D, lambda, omega, s2, 3.0, a.lr, times[i]);
            rmin = fmin(rmin, b / ex[i]);
            if (!(b >= ex[i]))
                fprintf(stderr, "\n  case %d, N = %llu: bound %.6g < exact %.6g", c,
                        (unsigned long long)times[i], b, ex[i]);
            CU_ASSERT_TRUE(b >= ex[i]);
        }
    }
    CU_ASSERT_TRUE(rmin >= 1 && isfinite(rmin));
    free(lambda);
    free(omega);
}

/* The Marchenko–Pastur integral: total mass min(1, a) plus the atom, mean a, second moment
 * a (1 + a), checked through E_g(0) and its Taylor expansion in t, and the t -> infinity limits of
 * the sheet. */
static void test_advani_saxe_integral(void)
{
    const double sw = 0.8, s0 = 0.15, se = 0.3, c = sw + s0;
    const double as[4] = {0.35, 0.9, 1.0, 2.7};
    for (int i = 0; i < 4; i++) {
        const double a = as[i], h = 1e-3;
        OD_ASSERT_REL(od_linreg_advani_saxe_eg(a, 0, sw, s0, se), c + se, 1e-9);
        /* E_g(h) = E_0 - 2 a c h + h^2 (2 c a (1 + a) + se a) + O(h^3) */
        double pred = c + se - 2 * a * c * h + h * h * (2 * c * a * (1 + a) + se * a);
        /* remainder: third moments of e^{-2 l h} and of (1 - e^{-l h})^2 / l, with
         * int l^3 rho = a^3 + 3a^2 + a, plus the quadrature's 1e-10 relative accuracy */
        double tol = h * h * h * (4.0 / 3 * c * (a * a * a + 3 * a * a + a) + se * a * (1 + a)) + 1e-9;
        OD_ASSERT_CLOSE(od_linreg_advani_saxe_eg(a, h, sw, s0, se), pred, tol);
    }
    OD_ASSERT_REL(od_linreg_advani_saxe_eg(2.7, INFINITY, sw, s0, se), se * 2.7 / 1.7, 1e-9);
    OD_ASSERT_REL(od_linreg_advani_saxe_eg(0.35, INFINITY, sw, s0, se), se / 0.65 + 0.65 * c, 1e-9);
    CU_ASSERT_TRUE(isinf(od_linreg_advani_saxe_eg(1.0, INFINITY, sw, s0, se)));
    /* long times approach the limit */
    OD_ASSERT_REL(od_linreg_advani_saxe_eg(2.7, 1e4, sw, s0, se), se * 2.7 / 1.7, 1e-8);
}

/* Finite-N realizations average to the exact finite-N values: E_g(0) = sw + s0 + se and, for
 * P > N + 1, E_g(inf) = se N / (P - N - 1) + se (inverse-Wishart mean); 4 SE. */
static void test_advani_saxe_sample(void)
{
    enum { R = 300 };
    const size_t N = 30, P = 75;
    const double sw = 0.7, s0 = 0.2, se = 0.25, t[2] = {0, INFINITY};
    double m[2] = {0, 0}, q[2] = {0, 0};
    for (uint32_t r = 0; r < R; r++) {
        double eg[2];
        CU_ASSERT_EQUAL_FATAL(od_linreg_advani_saxe_sample(N, P, sw, s0, se, 99, r, t, 2, eg), OD_OK);
        for (int j = 0; j < 2; j++) m[j] += eg[j], q[j] += eg[j] * eg[j];
    }
    const double pred[2] = {sw + s0 + se, se * (double)N / (double)(P - N - 1) + se};
    for (int j = 0; j < 2; j++) {
        double mean = m[j] / R, sd = sqrt((q[j] - R * mean * mean) / (R - 1));
        OD_ASSERT_CLOSE(mean, pred[j], 4 * sd / sqrt((double)R));
    }
}

void od_test_suite_linreg_bounds(void)
{
    static const od_test_case cases[] = {
        {"EMA gradient-descent factor (closed form = iteration)", test_ema_factor},
        {"ASGD bias factors: alpha=1 is SGD; mean of the noiseless engine", test_asgd_factors},
        {"bounds: tail from 0 = average, order-free, step-decay product", test_bound_structure},
        {"Zou et al.'s iterate-average bound holds (verified constants)", test_zou_average_holds},
        {"Advani–Saxe: Marchenko–Pastur integral, moments and limits", test_advani_saxe_integral},
        {"Advani–Saxe: finite-N realizations vs inverse-Wishart mean", test_advani_saxe_sample},
        {NULL, NULL}};
    od_test_add("linreg-bounds", cases);
}
