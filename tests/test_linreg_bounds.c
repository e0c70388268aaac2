/* optdyn tests — linreg: the closed forms behind the bound overlays and the Advani–Saxe curve.
 * The published bounds' constants are recalled, not verified, so no test asserts that a bound holds;
 * the tests check the parts that are mathematics (the EMA and ASGD gradient-descent factors, the
 * step-decay product, reductions between the bounds) and the Marchenko–Pastur integral. */
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
        {"Advani–Saxe: Marchenko–Pastur integral, moments and limits", test_advani_saxe_integral},
        {"Advani–Saxe: finite-N realizations vs inverse-Wishart mean", test_advani_saxe_sample},
        {NULL, NULL}};
    od_test_add("linreg-bounds", cases);
}
