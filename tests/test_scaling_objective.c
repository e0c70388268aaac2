/* optdyn tests — the Chinchilla objective and the Huber likelihood against mathematics: the Huber
 * function's pieces, the fast path against the reference and against the formula written out,
 * analytic gradients against central differences, Z_delta against quadrature. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <gsl/gsl_integration.h>

#include "test_scaling.h"

static void test_huber(void)
{
    const double d = 0.0137;
    /* below, at and above delta, both signs */
    OD_ASSERT_CLOSE(od_scaling_huber(0.004, d), 0.5 * 0.004 * 0.004, 1e-20);
    OD_ASSERT_CLOSE(od_scaling_huber(-d, d), 0.5 * d * d, 1e-20);
    OD_ASSERT_CLOSE(od_scaling_huber(-0.3, d), d * (0.3 - 0.5 * d), 1e-18);
    OD_ASSERT_CLOSE(od_scaling_huber(2.5, d), d * (2.5 - 0.5 * d), 1e-17);
    CU_ASSERT_EQUAL(od_scaling_huber_psi(0.004, d), 0.004);
    CU_ASSERT_EQUAL(od_scaling_huber_psi(0.2, d), d);
    CU_ASSERT_EQUAL(od_scaling_huber_psi(-0.2, d), -d);
    /* C^1 at the joint: the value and the slope agree from both sides (within 2 ulp of the
     * one-sided difference at step 1e-9) */
    const double h = 1e-9;
    for (int s = -1; s <= 1; s += 2) {
        double j = s * d;
        OD_ASSERT_CLOSE(od_scaling_huber(j + h, d) - od_scaling_huber(j - h, d),
                        2 * h * od_scaling_huber_psi(j, d), 4 * h * h + 8 * DBL_EPSILON * d * d);
    }
}

/* Random theta around the truth: log-space offsets of +-0.3 and exponents within +-0.05. */
static void random_theta(od_stream *s, double th[5])
{
    od_scaling_law_theta(&od_test_scaling_truth, th);
    th[0] += 0.6 * (od_stream_uniform(s) - 0.5);
    th[1] += 0.6 * (od_stream_uniform(s) - 0.5);
    th[2] += 0.2 * (od_stream_uniform(s) - 0.5);
    th[3] += 0.1 * (od_stream_uniform(s) - 0.5);
    th[4] += 0.1 * (od_stream_uniform(s) - 0.5);
}

/* The objective written out directly: sum Huber(log L - log(E + A N^-alpha + B D^-beta)). */
static double direct(const od_scaling_data *d, const double th[5], double delta)
{
    double J = 0;
    for (size_t i = 0; i < d->n; i++) {
        double pred = exp(th[2]) + exp(th[0]) * pow(d->N[i], -th[3]) + exp(th[1]) * pow(d->D[i], -th[4]);
        J += od_scaling_huber(log(d->L[i]) - log(pred), delta);
    }
    return J;
}

static void test_fast_matches_reference(void)
{
    od_scaling_data *d = od_test_scaling_synthetic(0.02, 5, NULL, NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    od_stream s;
    od_stream_init(&s, 11, 1);
    /* error model: each of the n rows contributes rounding of a few ulp of its terms; sums of n
     * terms: |J_fast - J_ref| <= 32 n eps J (generous constant for exp/log/product rounding) */
    const double tol = 32.0 * (double)d->n * DBL_EPSILON;
    for (int k = 0; k < 200; k++) {
        double th[5], g1[5], g2[5];
        random_theta(&s, th);
        double delta = k % 2 ? 1e-3 : 0.05;   /* mostly linear / mostly quadratic */
        double J1 = od_scaling_objective(d, th, delta, g1), J2 = od_scaling_objective_ref(d, th, delta, g2);
        OD_ASSERT_REL(J1, J2, tol);
        OD_ASSERT_REL(J2, direct(d, th, delta), tol);
        double gmax = 0;
        for (int i = 0; i < 5; i++) gmax = fmax(gmax, fabs(g2[i]));
        for (int i = 0; i < 5; i++) OD_ASSERT_CLOSE(g1[i], g2[i], tol * gmax * 30);
    }
    /* weights: weight 2 on a row equals the row twice */
    double w[OD_TEST_SCALING_ROWS], N[OD_TEST_SCALING_ROWS], D[OD_TEST_SCALING_ROWS],
        L[OD_TEST_SCALING_ROWS];
    od_scaling_data *d2 = od_test_scaling_synthetic(0.02, 5, N, D, L), *dw = NULL;
    for (int i = 0; i < OD_TEST_SCALING_ROWS; i++) w[i] = i % 3;
    CU_ASSERT_EQUAL_FATAL(od_scaling_data_alloc(OD_TEST_SCALING_ROWS, N, D, L, w, &dw), OD_OK);
    double th[5], J = 0, Jw;
    random_theta(&s, th);
    for (int i = 0; i < OD_TEST_SCALING_ROWS; i++) {
        od_scaling_data *one;
        od_scaling_data_alloc(1, &N[i], &D[i], &L[i], NULL, &one);
        J += w[i] * od_scaling_objective_ref(one, th, 1e-3, NULL);
        od_scaling_data_free(one);
    }
    Jw = od_scaling_objective(dw, th, 1e-3, NULL);
    OD_ASSERT_REL(Jw, J, tol);
    /* extreme theta (exponents of 800): the fast path defers to the reference, finite result */
    double ext[5] = {800, 5, 0.5, 0.1, 0.3}, ge[5], gr[5];
    double Je = od_scaling_objective(d, ext, 1e-3, ge);
    CU_ASSERT_TRUE(isfinite(Je));
    CU_ASSERT_EQUAL(Je, od_scaling_objective_ref(d, ext, 1e-3, gr));
    od_scaling_data_free(d);
    od_scaling_data_free(d2);
    od_scaling_data_free(dw);
}

/* Central differences with step h have error h^2/6 |f'''| + 2 eps |f| / h.  Along a coordinate,
 * the third derivative of Huber(r_i(theta)) is bounded by 8 R_i^3 (|psi_i| + |r_i| + 1) with
 * R_i = max(1, |log N_i|, |log D_i|) (the log-sum-exp's derivatives of order k are bounded by
 * 2^(k-1) R^k), as long as no residual crosses +-delta within the step; the test picks delta so
 * that none does. */
static void test_gradient_finite_differences(void)
{
    od_scaling_data *d = od_test_scaling_synthetic(0.03, 9, NULL, NULL, NULL);
    od_stream s;
    od_stream_init(&s, 12, 1);
    const double h = 1e-5;
    for (int k = 0; k < 40; k++) {
        double th[5], g[5], r[OD_TEST_SCALING_ROWS];
        random_theta(&s, th);
        double delta = k % 2 ? 1e-3 : 0.04;
        double J = od_scaling_objective(d, th, delta, g), M3 = 0, margin = INFINITY;
        for (size_t i = 0; i < d->n; i++) {
            double pred = exp(th[2]) + exp(th[0]) * pow(d->N[i], -th[3]) + exp(th[1]) * pow(d->D[i], -th[4]);
            r[i] = log(d->L[i] / pred);
            double R = fmax(1, fmax(fabs(d->lN[i]), fabs(d->lD[i])));
            M3 += 8 * R * R * R * (delta + fabs(r[i]) + 1);
            margin = fmin(margin, fabs(fabs(r[i]) - delta) / R);
        }
        if (margin < 10 * h) continue;   /* a kink within the stencil: no error model */
        for (int i = 0; i < 5; i++) {
            double tp[5], tm[5];
            memcpy(tp, th, sizeof tp);
            memcpy(tm, th, sizeof tm);
            tp[i] += h;
            tm[i] -= h;
            double fd = (od_scaling_objective(d, tp, delta, NULL) - od_scaling_objective(d, tm, delta, NULL)) / (2 * h);
            OD_ASSERT_CLOSE(g[i], fd, h * h / 6 * M3 + 4 * DBL_EPSILON * J / h);
        }
    }
    od_scaling_data_free(d);
}

static double huber_density(double x, void *p) { return exp(-od_scaling_huber(x, *(double *)p)); }

static void test_log_z_quadrature(void)
{
    gsl_integration_workspace *w = gsl_integration_workspace_alloc(1000);
    const double deltas[] = {1e-3, 0.37, 1.0, 2.5};
    for (int k = 0; k < 4; k++) {
        double dl = deltas[k], lo, hi, tails, e1, e2, e3;
        gsl_function F = {huber_density, &dl};
        /* the kinks at +-delta split the line: [-delta, delta] and the two tails */
        gsl_integration_qags(&F, -dl, dl, 0, 1e-13, 1000, w, &lo, &e1);
        gsl_integration_qagiu(&F, dl, 0, 1e-13, 1000, w, &hi, &e2);
        gsl_integration_qagil(&F, -dl, 0, 1e-13, 1000, w, &tails, &e3);
        double Z = lo + hi + tails;
        OD_ASSERT_CLOSE(od_scaling_huber_log_z(dl), log(Z), 1e-11 + (e1 + e2 + e3) / Z);
    }
    /* delta -> infinity: the Gaussian constant sqrt(2 pi) */
    OD_ASSERT_CLOSE(od_scaling_huber_log_z(40.0), 0.5 * log(2 * M_PI), 1e-14);
    gsl_integration_workspace_free(w);
}

static void test_likelihood(void)
{
    od_scaling_data *d = od_test_scaling_synthetic(0.02, 3, NULL, NULL, NULL);
    double th[5], x[6], g[6];
    od_scaling_law_theta(&od_test_scaling_truth, th);
    memcpy(x, th, sizeof th);
    x[5] = log(0.013);   /* a scale where both Huber pieces occur */
    const double delta = 1.1, sigma = exp(x[5]);
    /* NLL written out: sum [Huber(r/sigma) + log Z + s] */
    double nll = 0;
    for (size_t i = 0; i < d->n; i++) {
        double pred = od_scaling_law_eval(&od_test_scaling_truth, d->N[i], d->D[i]);
        nll += od_scaling_huber(log(d->L[i] / pred) / sigma, delta) + od_scaling_huber_log_z(delta) + x[5];
    }
    double v = od_scaling_nll(d, x, delta, g);
    OD_ASSERT_REL(v, nll, 64 * (double)d->n * DBL_EPSILON);
    /* gradient against central differences, with the a-posteriori error model of the difference
     * quotient: |D_h - f'| ~ |D_2h - D_h| / 3 (Richardson), plus rounding 2 eps |f| / h */
    const double h = 1e-6;
    for (int i = 0; i < 6; i++) {
        double fd[2];
        for (int k = 0; k < 2; k++) {
            double xp[6], xm[6], hk = h * (k + 1);
            memcpy(xp, x, sizeof xp);
            memcpy(xm, x, sizeof xm);
            xp[i] += hk;
            xm[i] -= hk;
            fd[k] = (od_scaling_nll(d, xp, delta, NULL) - od_scaling_nll(d, xm, delta, NULL)) / (2 * hk);
        }
        OD_ASSERT_CLOSE(g[i], fd[0], fabs(fd[1] - fd[0]) + 8 * DBL_EPSILON * fabs(v) / h);
    }
    /* the profile: zero derivative in s and a minimum */
    double pn, ps;
    CU_ASSERT_EQUAL_FATAL(od_scaling_nll_profile(d, th, delta, &pn, &ps), OD_OK);
    x[5] = ps;
    od_scaling_nll(d, x, delta, g);
    OD_ASSERT_CLOSE(g[5], 0, 1e-9 * (double)d->n);
    for (int sgn = -1; sgn <= 1; sgn += 2) {
        x[5] = ps + sgn * 1e-3;
        CU_ASSERT_TRUE(od_scaling_nll(d, x, delta, NULL) >= pn);
    }
    /* exact data: the residuals are rounding errors (|r| <= 64 eps), so is the optimal scale:
     * sigma <= delta max |r|, or no scale at all */
    od_scaling_data *z = od_test_scaling_synthetic(0, 3, NULL, NULL, NULL);
    int st = od_scaling_nll_profile(z, th, delta, &pn, &ps);
    CU_ASSERT_TRUE(st == OD_ENUMERIC || exp(ps) <= delta * 64 * DBL_EPSILON);
    od_scaling_data_free(z);
    od_scaling_data_free(d);
}

static void test_data_checks(void)
{
    double N[3] = {1e8, 2e8, 3e8}, D[3] = {1e9, 2e9, 3e9}, L[3] = {3, 2.9, 2.8}, w[3] = {1, 0, 2};
    od_scaling_data *d = (od_scaling_data *)1;
    D[1] = -2e9;
    CU_ASSERT_EQUAL(od_scaling_data_alloc(3, N, D, L, NULL, &d), OD_ERANGE);
    CU_ASSERT_PTR_NULL(d);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "row 1: D = -2e+09 is not a positive number"));
    D[1] = 2e9;
    L[2] = NAN;
    CU_ASSERT_EQUAL(od_scaling_data_alloc(3, N, D, L, NULL, &d), OD_ERANGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "row 2: loss"));
    L[2] = 2.8;
    w[1] = -1;
    CU_ASSERT_EQUAL(od_scaling_data_alloc(3, N, D, L, w, &d), OD_ERANGE);
    CU_ASSERT_EQUAL(od_scaling_data_alloc(0, N, D, L, NULL, &d), OD_EINVAL);
    double C[3] = {6e17, 2.4e18, 5.4e18}, Dc[3];
    od_scaling_tokens_from_flops(3, N, C, Dc);
    for (int i = 0; i < 3; i++) OD_ASSERT_REL(6 * N[i] * Dc[i], C[i], 2 * DBL_EPSILON);
}

void od_test_suite_scaling_objective(void)
{
    static const od_test_case cases[] = {
        {"Huber pieces, derivative and C1 joint", test_huber},
        {"fast objective = reference = formula; weights; extreme theta", test_fast_matches_reference},
        {"analytic gradient = central differences (error model)", test_gradient_finite_differences},
        {"Z_delta = quadrature of exp(-Huber)", test_log_z_quadrature},
        {"likelihood: formula, gradient, profile over the scale", test_likelihood},
        {"data: non-positive values and weights rejected, D = C/(6N)", test_data_checks},
        {NULL, NULL}};
    od_test_add("scaling objective", cases);
}
