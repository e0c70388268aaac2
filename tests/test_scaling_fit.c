/* optdyn tests — the Chinchilla fit, its bootstrap and its comparisons: exact recovery, the
 * least-squares limit against an independent GSL solver, thread-count invariance, the polished
 * path against the exhaustive one, the MLE, the chi-square test, the compute-optimal allocation,
 * and (when the public file is present) the Chinchilla data. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_min.h>
#include <gsl/gsl_multifit_nlinear.h>

#include "test_scaling.h"

/* J^T J of the log residuals at theta (written out here, independently of the module): the
 * Gauss-Newton Hessian of half the sum of squares; its smallest eigenvalue bounds the distance to
 * the minimiser of a zero-residual fit: |theta - theta*| <= sqrt(2 J / lambda_min). */
static double lambda_min_jtj(const od_scaling_data *d, const double th[5])
{
    double G[25] = {0}, ev[5];
    for (size_t i = 0; i < d->n; i++) {
        double t1 = exp(th[0]) * pow(d->N[i], -th[3]), t2 = exp(th[1]) * pow(d->D[i], -th[4]);
        double p = exp(th[2]) + t1 + t2;
        double j[5] = {-t1 / p, -t2 / p, -exp(th[2]) / p, t1 * d->lN[i] / p, t2 * d->lD[i] / p};
        for (int a = 0; a < 5; a++)
            for (int b = 0; b < 5; b++) G[a * 5 + b] += j[a] * j[b];
    }
    od_symm_eigen(5, G, ev, NULL);
    return ev[4];
}

static double dist(const double *a, const double *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
    return sqrt(s);
}

static void test_drop_rule(void)
{
    const double L[7] = {2.5, 3.1, 5.0, 4.2, 5.0, 1.9, 3.3};
    unsigned char keep[7];
    size_t kept;
    CU_ASSERT_EQUAL(od_scaling_drop_top(7, L, 0, keep, &kept), OD_OK);
    CU_ASSERT_EQUAL(kept, 7);
    od_scaling_drop_top(7, L, 1, keep, &kept);   /* the cut 5.0 is tied: both 5.0 go */
    CU_ASSERT_EQUAL(kept, 5);
    CU_ASSERT_TRUE(!keep[2] && !keep[4] && keep[3]);
    od_scaling_drop_top(7, L, 2, keep, &kept);
    CU_ASSERT_EQUAL(kept, 5);
    od_scaling_drop_top(7, L, 3, keep, &kept);   /* cut 4.2 */
    CU_ASSERT_EQUAL(kept, 4);
    CU_ASSERT_TRUE(!keep[3] && keep[6]);
    od_scaling_drop_top(7, L, 7, keep, &kept);
    CU_ASSERT_EQUAL(kept, 0);
}

static void test_grid(void)
{
    double *g = malloc(4500 * 5 * sizeof *g);
    CU_ASSERT_EQUAL_FATAL(od_scaling_hoffmann_grid(g), 4500);
    /* itertools.product(alpha, beta, e, a, b): b fastest, alpha slowest; theta = (a, b, e, al, be) */
    CU_ASSERT_TRUE(g[0] == 0 && g[1] == 0 && g[2] == -1 && g[3] == 0 && g[4] == 0);
    CU_ASSERT_TRUE(g[5 + 1] == 5 && g[5 + 0] == 0);
    CU_ASSERT_TRUE(g[5 * 6 + 0] == 5 && g[5 * 6 + 1] == 0);
    CU_ASSERT_TRUE(g[5 * 4499 + 0] == 25 && g[5 * 4499 + 1] == 25 && g[5 * 4499 + 2] == 1 &&
                   g[5 * 4499 + 3] == 2 && g[5 * 4499 + 4] == 2);
    double sum[5] = {0};
    for (int k = 0; k < 4500; k++)
        for (int i = 0; i < 5; i++) sum[i] += g[5 * k + i];
    OD_ASSERT_CLOSE(sum[0] / 4500, 12.5, 1e-12);   /* means of the value sets */
    OD_ASSERT_CLOSE(sum[2] / 4500, 0, 1e-12);
    OD_ASSERT_CLOSE(sum[3] / 4500, 1, 1e-12);
    free(g);
}

static void test_exact_recovery(void)
{
    od_scaling_data *d = od_test_scaling_synthetic(0, 1, NULL, NULL, NULL);
    od_scaling_fit_params p = od_scaling_fit_default_params();
    od_scaling_fit f;
    CU_ASSERT_EQUAL_FATAL(od_scaling_fit_chinchilla(d, &p, &f), OD_OK);
    double th[5];
    od_scaling_law_theta(&od_test_scaling_truth, th);
    CU_ASSERT_EQUAL(f.n_starts, 4500);
    /* BFGS stops where the line search stalls (J about 1e-18 here); the quadratic model bounds the
     * distance to the truth by 2 sqrt(2 J / lambda_min) (factor 2 for the model's curvature
     * variation; about 2e-6 here) */
    CU_ASSERT_TRUE(f.objective <= 1e-14);
    double bound = 2 * sqrt(2 * f.objective / lambda_min_jtj(d, th)) + 1e-12;
    if (dist(f.theta, th, 5) > bound)
        fprintf(stderr, "\n  |theta - truth| = %g > %g (J = %g)\n", dist(f.theta, th, 5), bound, f.objective);
    CU_ASSERT_TRUE(dist(f.theta, th, 5) <= bound);
    CU_ASSERT_TRUE(bound < 1e-5);
    od_scaling_data_free(d);
}

/* ---- the least-squares limit, against GSL's trust-region solver written out independently ---- */

static int ls_f(const gsl_vector *x, void *params, gsl_vector *f)
{
    const od_scaling_data *d = params;
    const double *t = x->data;
    for (size_t i = 0; i < d->n; i++)
        gsl_vector_set(f, i, log(d->L[i] / (exp(t[2]) + exp(t[0]) * pow(d->N[i], -t[3]) +
                                            exp(t[1]) * pow(d->D[i], -t[4]))));
    return GSL_SUCCESS;
}

static void test_least_squares_limit(void)
{
    od_scaling_data *d = od_test_scaling_synthetic(0.015, 2, NULL, NULL, NULL);
    od_scaling_fit_params p = od_scaling_fit_default_params();
    p.delta = 1e3;   /* every |r| < delta: J = RSS / 2 */
    od_scaling_fit f;
    CU_ASSERT_EQUAL_FATAL(od_scaling_fit_chinchilla(d, &p, &f), OD_OK);
    gsl_multifit_nlinear_parameters fp = gsl_multifit_nlinear_default_parameters();
    gsl_multifit_nlinear_workspace *w = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &fp, d->n, 5);
    gsl_multifit_nlinear_fdf fdf = {.f = ls_f, .df = NULL, .n = d->n, .p = 5, .params = d};
    double th0[5];
    od_scaling_law_theta(&od_test_scaling_truth, th0);
    gsl_vector_view x0 = gsl_vector_view_array(th0, 5);
    int info;
    gsl_multifit_nlinear_init(&x0.vector, &fdf, w);
    gsl_multifit_nlinear_driver(1000, 1e-14, 1e-14, 1e-14, NULL, NULL, &info, w);
    double rss, *t = gsl_multifit_nlinear_position(w)->data;
    gsl_blas_ddot(gsl_multifit_nlinear_residual(w), gsl_multifit_nlinear_residual(w), &rss);
    /* both are minima of the same smooth function: equal objectives up to the solvers' stopping
     * (the tight rule's relative 1e-12, five times over, and GSL's 1e-14 tolerances), and
     * parameters within the quadratic-model distance of that gap */
    OD_ASSERT_REL(f.objective, 0.5 * rss, 1e-11);
    double gap = fabs(f.objective - 0.5 * rss) + 1e-12 * f.objective;
    CU_ASSERT_TRUE(dist(f.theta, t, 5) <= 2 * sqrt(2 * gap / lambda_min_jtj(d, t)) + 1e-8);
    gsl_multifit_nlinear_free(w);
    od_scaling_data_free(d);
}

/* Every 75th start of the grid (60 starts), delta above the noise so that the minimum is smooth. */
static void sub_grid(double *starts)
{
    double *g = malloc(4500 * 5 * sizeof *g);
    od_scaling_hoffmann_grid(g);
    for (int k = 0; k < 60; k++) memcpy(starts + 5 * k, g + 5 * (75 * k), 5 * sizeof *g);
    free(g);
}

static void test_polish_reproduces_exhaustive(void)
{
    od_scaling_data *d = od_test_scaling_synthetic(0.02, 4, NULL, NULL, NULL);
    double starts[300];
    sub_grid(starts);
    od_scaling_fit_params p = od_scaling_fit_default_params();
    p.delta = 0.05;
    p.starts = starts;
    p.n_starts = 60;
    od_scaling_fit fast, slow;
    CU_ASSERT_EQUAL_FATAL(od_scaling_fit_chinchilla(d, &p, &fast), OD_OK);
    p.polish = 0;
    CU_ASSERT_EQUAL_FATAL(od_scaling_fit_chinchilla(d, &p, &slow), OD_OK);
    CU_ASSERT_EQUAL(slow.n_polished, 0);
    CU_ASSERT_TRUE(fast.n_polished >= 1 && fast.n_polished <= 16);
    CU_ASSERT_TRUE(fast.evals < slow.evals);
    OD_ASSERT_REL(fast.objective, slow.objective, 1e-11);   /* the tight rule: 5 x ftol 1e-12 */
    od_scaling_data_free(d);
}

static void test_thread_invariance(void)
{
    od_scaling_data *d = od_test_scaling_synthetic(0.02, 6, NULL, NULL, NULL);
    od_scaling_fit_params p = od_scaling_fit_default_params();
    od_scaling_boot_params bp = od_scaling_boot_default_params();
    bp.R = 64;
    bp.seed = 99;
    od_scaling_fit f[2];
    od_scaling_boot b[2];
    for (int t = 0; t < 2; t++) {
        od_set_threads(t + 1);
        CU_ASSERT_EQUAL_FATAL(od_scaling_fit_chinchilla(d, &p, &f[t]), OD_OK);
        CU_ASSERT_EQUAL_FATAL(od_scaling_bootstrap(d, f[t].theta, &p, &bp, &b[t]), OD_OK);
    }
    od_set_threads(2);
    CU_ASSERT_EQUAL(memcmp(f[0].theta, f[1].theta, sizeof f[0].theta), 0);
    CU_ASSERT_EQUAL(f[0].objective, f[1].objective);
    CU_ASSERT_EQUAL(f[0].best_start, f[1].best_start);
    CU_ASSERT_EQUAL(memcmp(b[0].theta, b[1].theta, 64 * 5 * sizeof(double)), 0);
    CU_ASSERT_EQUAL(memcmp(b[0].se, b[1].se, sizeof b[0].se), 0);
    /* another seed draws other resamples */
    od_scaling_boot c;
    bp.seed = 100;
    CU_ASSERT_EQUAL_FATAL(od_scaling_bootstrap(d, f[0].theta, &p, &bp, &c), OD_OK);
    CU_ASSERT_NOT_EQUAL(memcmp(b[0].theta, c.theta, 64 * 5 * sizeof(double)), 0);
    od_scaling_boot_free(&b[0]);
    od_scaling_boot_free(&b[1]);
    od_scaling_boot_free(&c);
    od_scaling_data_free(d);
}

static double constant_fn(const double th[5], void *arg)
{
    (void)th;
    return *(double *)arg;
}

static void test_bootstrap(void)
{
    /* noise-free data: every resample has zero residuals at the truth, so every fit is the truth
     * to the accuracy of the exact-recovery test */
    od_scaling_data *d = od_test_scaling_synthetic(0, 1, NULL, NULL, NULL);
    od_scaling_fit_params p = od_scaling_fit_default_params();
    od_scaling_boot_params bp = od_scaling_boot_default_params();
    bp.R = 40;
    double th[5], q[OD_SCALING_NQ];
    od_scaling_law_theta(&od_test_scaling_truth, th);
    od_scaling_quantities(th, q);
    od_scaling_boot b;
    CU_ASSERT_EQUAL_FATAL(od_scaling_bootstrap(d, th, &p, &bp, &b), OD_OK);
    CU_ASSERT_EQUAL(b.n_ok, 40);
    for (int k = 0; k < OD_SCALING_NQ; k++) {
        CU_ASSERT_TRUE(b.se[k] <= 1e-7 * q[k]);
        CU_ASSERT_TRUE(b.lo[k] <= b.hi[k]);
        OD_ASSERT_REL(b.lo[k], q[k], 1e-7);
    }
    double c = 2.375, se, lo, hi;
    CU_ASSERT_EQUAL(od_scaling_boot_interval(&b, constant_fn, &c, &se, &lo, &hi), OD_OK);
    CU_ASSERT_TRUE(se == 0 && lo == c && hi == c);
    od_scaling_boot_free(&b);
    bp.R = 1;
    CU_ASSERT_EQUAL(od_scaling_bootstrap(d, th, &p, &bp, &b), OD_EINVAL);
    bp.R = 10;
    bp.level = 1;
    CU_ASSERT_EQUAL(od_scaling_bootstrap(d, th, &p, &bp, &b), OD_EINVAL);
    od_scaling_data_free(d);

    /* noisy data: the percentile interval brackets the estimate and is consistent with the
     * stored resamples */
    d = od_test_scaling_synthetic(0.02, 8, NULL, NULL, NULL);
    od_scaling_fit f;
    CU_ASSERT_EQUAL_FATAL(od_scaling_fit_chinchilla(d, &p, &f), OD_OK);
    bp = od_scaling_boot_default_params();
    bp.R = 100;
    CU_ASSERT_EQUAL_FATAL(od_scaling_bootstrap(d, f.theta, &p, &bp, &b), OD_OK);
    size_t below = 0;
    for (size_t k = 0; k < b.R; k++) below += b.q[k * OD_SCALING_NQ + OD_SCALING_Q_ALPHA] < b.lo[OD_SCALING_Q_ALPHA];
    CU_ASSERT_TRUE(below >= 1 && below <= 4);   /* 2.5% of 100 with linear interpolation */
    OD_ASSERT_CLOSE(b.cov[3 * 5 + 3], b.se[OD_SCALING_Q_ALPHA] * b.se[OD_SCALING_Q_ALPHA], 1e-12);
    od_scaling_boot_free(&b);
    od_scaling_data_free(d);
}

static void test_chi2(void)
{
    /* a hand-built covariance: chi2 = d^T C^-1 d by an independent LU solve */
    od_scaling_boot b = {0};
    double C[25] = {0}, dv[5] = {0.3, -0.2, 0.05, 0.01, -0.02}, hat[5] = {6, 7, 0.6, 0.35, 0.37}, pub[5];
    for (int i = 0; i < 5; i++) {
        C[i * 5 + i] = 0.01 * (i + 1) * (i < 3 ? 1 : 0.01);
        pub[i] = hat[i] - dv[i];
    }
    C[0 * 5 + 1] = C[1 * 5 + 0] = 0.004;
    C[3 * 5 + 4] = C[4 * 5 + 3] = 0.00005;
    memcpy(b.cov, C, sizeof C);
    double chi2, p;
    CU_ASSERT_EQUAL_FATAL(od_scaling_chi2_test(&b, hat, pub, &chi2, &p), OD_OK);
    gsl_matrix_view m = gsl_matrix_view_array(C, 5, 5);
    gsl_permutation *perm = gsl_permutation_alloc(5);
    gsl_vector_view bv = gsl_vector_view_array(dv, 5);
    gsl_vector *x = gsl_vector_alloc(5);
    int sgn;
    gsl_linalg_LU_decomp(&m.matrix, perm, &sgn);
    gsl_linalg_LU_solve(&m.matrix, perm, &bv.vector, x);
    double ref;
    gsl_blas_ddot(&bv.vector, x, &ref);
    OD_ASSERT_REL(chi2, ref, 1e-12);
    OD_ASSERT_REL(p, gsl_cdf_chisq_Q(ref, 5), 1e-12);
    /* the tabulated tail P(chi2_5 > 11.0705) = 0.05 */
    OD_ASSERT_CLOSE(gsl_cdf_chisq_Q(11.0705, 5), 0.05, 1e-5);
    gsl_permutation_free(perm);
    gsl_vector_free(x);
    /* a singular covariance is an error, not a number */
    memset(b.cov, 0, sizeof b.cov);
    CU_ASSERT_EQUAL(od_scaling_chi2_test(&b, hat, pub, &chi2, &p), OD_ENUMERIC);
}

static void test_mle(void)
{
    od_scaling_data *d = od_test_scaling_synthetic(0.02, 10, NULL, NULL, NULL);
    od_scaling_fit_params p = od_scaling_fit_default_params();
    od_scaling_fit f;
    od_scaling_mle m;
    CU_ASSERT_EQUAL_FATAL(od_scaling_fit_chinchilla(d, &p, &f), OD_OK);
    CU_ASSERT_EQUAL_FATAL(od_scaling_fit_mle(d, f.theta, &p, &m), OD_OK);
    double x[6];
    memcpy(x, m.theta, sizeof m.theta);
    x[5] = m.s;
    OD_ASSERT_REL(od_scaling_nll(d, x, p.delta, NULL), m.nll, 1e-14);
    /* a minimum: no random direction of length 1e-4 (or 1e-6) lowers the profiled likelihood */
    od_stream s;
    od_stream_init(&s, 3, 9);
    for (int k = 0; k < 40; k++) {
        double t[5], v, sv, step = k % 2 ? 1e-4 : 1e-6;
        for (int i = 0; i < 5; i++) t[i] = m.theta[i] + step * od_stream_normal(&s);
        CU_ASSERT_EQUAL(od_scaling_nll_profile(d, t, p.delta, &v, &sv), OD_OK);
        CU_ASSERT_TRUE(v >= m.nll - 1e-12 * fabs(m.nll));
    }
    /* the likelihood ratio against itself is zero */
    double lr, pv;
    CU_ASSERT_EQUAL(od_scaling_lr_test(d, &m, m.theta, p.delta, &lr, &pv), OD_OK);
    OD_ASSERT_CLOSE(lr, 0, 1e-9 * fabs(m.nll));
    OD_ASSERT_CLOSE(pv, 1, 1e-9);
    /* sigma: at the MLE every scaled residual is on the linear part (noise 0.02 >> delta sigma),
     * where the optimal scale is delta * mean |r| */
    double mean_abs = 0;
    for (size_t i = 0; i < d->n; i++)
        mean_abs += fabs(log(d->L[i] / od_scaling_law_eval(&m.law, d->N[i], d->D[i]))) / (double)d->n;
    OD_ASSERT_REL(m.sigma, p.delta * mean_abs, 1e-6);
    od_scaling_data_free(d);
}

static double loss_at(double lN, void *arg)
{
    const od_scaling_law *l = arg;
    double N = exp(lN);
    return od_scaling_law_eval(l, N, 5.76e23 / (6 * N));
}

static void test_allocation(void)
{
    const od_scaling_law *l = &od_test_scaling_truth;
    od_scaling_alloc a;
    const double C = 5.76e23;
    CU_ASSERT_EQUAL_FATAL(od_scaling_allocate(l, C, &a), OD_OK);
    /* N_opt and D_opt are exp of sums of logs of size L = |log N_opt| + |log D_opt| (about 60):
     * each carries a relative error of about L eps */
    const double lt = 4 * (fabs(log(a.N_opt)) + fabs(log(a.D_opt))) * DBL_EPSILON;
    OD_ASSERT_REL(6 * a.N_opt * a.D_opt, C, lt);
    OD_ASSERT_REL(a.a + a.b, 1.0, 2 * DBL_EPSILON);
    OD_ASSERT_REL(a.tokens_per_param, a.D_opt / a.N_opt, lt);
    /* the constrained gradient vanishes: alpha A N^-alpha = beta B D^-beta */
    OD_ASSERT_REL(l->alpha * l->A * pow(a.N_opt, -l->alpha), l->beta * l->B * pow(a.D_opt, -l->beta), 1e-13);
    OD_ASSERT_REL(a.L_opt, od_scaling_law_eval(l, a.N_opt, a.D_opt), 4 * DBL_EPSILON);
    /* against a golden-section minimisation of L(N, C/(6N)) over log N (GSL): the minimiser of a
     * smooth function is located to sqrt(eps) relative by comparisons of values */
    gsl_function F = {loss_at, (void *)l};
    gsl_min_fminimizer *m = gsl_min_fminimizer_alloc(gsl_min_fminimizer_goldensection);
    gsl_min_fminimizer_set(m, &F, log(a.N_opt) + 0.7, log(a.N_opt) - 3, log(a.N_opt) + 3);
    for (int it = 0; it < 200; it++) {
        gsl_min_fminimizer_iterate(m);
        if (gsl_min_fminimizer_x_upper(m) - gsl_min_fminimizer_x_lower(m) < 1e-9) break;
    }
    OD_ASSERT_CLOSE(gsl_min_fminimizer_x_minimum(m), log(a.N_opt), 1e-6);
    gsl_min_fminimizer_free(m);
    /* exponents: N_opt scales as C^a */
    od_scaling_alloc b;
    od_scaling_allocate(l, 1e3 * C, &b);
    OD_ASSERT_REL(log(b.N_opt / a.N_opt) / log(1e3), l->beta / (l->alpha + l->beta), 1e-12);
    /* bad input */
    od_scaling_law bad = *l;
    bad.alpha = -0.1;
    CU_ASSERT_EQUAL(od_scaling_allocate(&bad, C, &a), OD_ERANGE);
    CU_ASSERT_EQUAL(od_scaling_allocate(l, 0, &a), OD_ERANGE);
    /* theta round trip and the evaluation of the law */
    double th[5];
    od_scaling_law_theta(l, th);
    od_scaling_law r = od_scaling_law_from_theta(th);
    OD_ASSERT_REL(r.A, l->A, 4 * DBL_EPSILON);
    OD_ASSERT_REL(od_scaling_law_eval(l, 3.7e9, 8.1e10), l->E + l->A * pow(3.7e9, -l->alpha) + l->B * pow(8.1e10, -l->beta), 8 * DBL_EPSILON);
}

static void test_bad_fit_input(void)
{
    double N[5] = {1e8, 2e8, 3e8, 4e8, 5e8}, D[5] = {1e9, 2e9, 3e9, 4e9, 5e9}, L[5] = {3, 2.9, 2.8, 2.7, 2.6};
    od_scaling_data *d;
    CU_ASSERT_EQUAL_FATAL(od_scaling_data_alloc(5, N, D, L, NULL, &d), OD_OK);
    od_scaling_fit_params p = od_scaling_fit_default_params();
    od_scaling_fit f;
    CU_ASSERT_EQUAL(od_scaling_fit_chinchilla(d, &p, &f), OD_EINVAL);   /* 5 rows, 5 parameters */
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "5 rows for 5 parameters"));
    od_scaling_data_free(d);
    d = od_test_scaling_synthetic(0.01, 1, NULL, NULL, NULL);
    p.delta = 0;
    CU_ASSERT_EQUAL(od_scaling_fit_chinchilla(d, &p, &f), OD_EINVAL);
    /* starts where the objective overflows are counted as diverged, not fatal */
    p = od_scaling_fit_default_params();
    double starts[10] = {1e308, 1e308, 1e308, -1e308, -1e308, 6, 7, 0.5, 0.3, 0.3};
    p.starts = starts;
    p.n_starts = 2;
    CU_ASSERT_EQUAL(od_scaling_fit_chinchilla(d, &p, &f), OD_OK);
    CU_ASSERT_EQUAL(f.n_diverged, 1);
    CU_ASSERT_EQUAL(f.best_start, 1);
    p.n_starts = 1;
    CU_ASSERT_EQUAL(od_scaling_fit_chinchilla(d, &p, &f), OD_ENUMERIC);
    od_scaling_data_free(d);
}

/* The public Chinchilla data (skipped with a notice when absent). */
static void test_chinchilla_data(void)
{
    od_scaling_data *d = od_test_scaling_epoch();
    if (!d) return;
    CU_ASSERT_EQUAL(d->n, 240);   /* 245 rows, the 5 highest losses dropped (no ties at the cut) */
    od_scaling_fit_params p = od_scaling_fit_default_params();
    od_scaling_fit f;
    CU_ASSERT_EQUAL_FATAL(od_scaling_fit_chinchilla(d, &p, &f), OD_OK);
    double te[5], th[5], tr[5];
    od_scaling_law_theta(&od_scaling_besiroglu2024, te);
    od_scaling_law_theta(&od_scaling_hoffmann2022_tex, th);
    od_scaling_law_theta(&od_scaling_hoffmann2022, tr);
    CU_ASSERT_TRUE(f.objective <= od_scaling_objective(d, te, p.delta, NULL));
    CU_ASSERT_TRUE(od_scaling_objective(d, tr, p.delta, NULL) > 2 * f.objective);
    /* the MLE lands on Epoch's published log-form estimate (printed to 8 decimals) */
    od_scaling_mle m;
    CU_ASSERT_EQUAL_FATAL(od_scaling_fit_mle(d, f.theta, &p, &m), OD_OK);
    static const double epoch[5] = {6.17795598, 7.64273236, 0.59711196, 0.34781303, 0.36585412};
    for (int i = 0; i < 5; i++) OD_ASSERT_CLOSE(m.theta[i], epoch[i], 1e-6);
    OD_ASSERT_CLOSE(m.s, -12.27, 0.01);
    double lr, pv;
    CU_ASSERT_EQUAL(od_scaling_lr_test(d, &m, th, p.delta, &lr, &pv), OD_OK);
    CU_ASSERT_TRUE(pv < 1e-6);
    od_scaling_data_free(d);
}

void od_test_suite_scaling_fit(void)
{
    static const od_test_case cases[] = {
        {"drop the K highest losses (ties)", test_drop_rule},
        {"Hoffmann's grid: 4500 starts in itertools order", test_grid},
        {"noise-free data: the grid fit recovers the law", test_exact_recovery},
        {"delta -> infinity is least squares (independent GSL solver)", test_least_squares_limit},
        {"polished fit = exhaustive fit", test_polish_reproduces_exhaustive},
        {"same fit and bootstrap for 1 and 2 threads", test_thread_invariance},
        {"bootstrap: exact data, intervals, bad parameters", test_bootstrap},
        {"chi-square test against an independent solve", test_chi2},
        {"Huber-likelihood MLE: a minimum; LR = 0 at itself", test_mle},
        {"compute-optimal allocation: constraint, stationarity, exponents", test_allocation},
        {"bad input to the fit", test_bad_fit_input},
        {"Chinchilla data: 240 rows, objective, Epoch's MLE, Hoffmann rejected", test_chinchilla_data},
        {NULL, NULL}};
    od_test_add("scaling fit", cases);
}
