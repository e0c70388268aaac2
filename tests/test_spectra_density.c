/* optdyn tests — densities and distances: the PyHessian-compatible smoothing against its reference
 * arithmetic written out here (numpy.linspace grid, variance sigma_squared·max(1, range), mean over
 * runs, Riemann renormalisation), including the multi-run quirk; "exact" mode conserves mass;
 * KS, L1 and JS identities; analytic Marchenko–Pastur and semicircle references against quadrature;
 * blockwise spectra and JS⁰ on a block quadratic with known spectra. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_integration.h>

#include "od_test.h"
#include "test_spectra.h"

/* Two runs whose extremes differ: run 1 nodes {0, 1}, run 2 nodes {0.5, 3}. */
static void test_pyhessian(void)
{
    const size_t cnt[2] = {2, 2};
    const double th[4] = {0.0, 1.0, 0.5, 3.0}, w[4] = {0.5, 0.5, 0.25, 0.75};
    od_spectra_smooth_params p = od_spectra_smooth_default_params();
    p.mode = OD_SPECTRA_SMOOTH_PYHESSIAN;
    p.n = 10000;
    od_spectra_density out;
    CU_ASSERT_EQUAL_FATAL(od_spectra_smooth(2, cnt, 2, th, w, &p, &out), OD_OK);
    /* the reference arithmetic */
    const double lmax = (1.0 + 3.0) / 2 + 0.01, lmin = (0.0 + 0.5) / 2 - 0.01;
    const double var = 1e-5 * fmax(1.0, lmax - lmin), step = (lmax - lmin) / 9999.0;
    double *ref = malloc(10000 * sizeof *ref), s = 0;
    for (size_t j = 0; j < 10000; j++) {
        const double x = j == 9999 ? lmax : (double)j * step + lmin;
        OD_ASSERT_CLOSE(out.x[j], x, 0);
        double r = 0;
        for (int l = 0; l < 2; l++) {
            double rr = 0;
            for (int k = 0; k < 2; k++)
                rr += exp(-pow(x - th[2 * l + k], 2) / (2 * var)) / sqrt(2 * M_PI * var) * w[2 * l + k];
            r += rr;
        }
        ref[j] = r / 2;
        s += ref[j];
    }
    const double norm = s * step;
    double err = 0;
    for (size_t j = 0; j < 10000; j++) err = fmax(err, fabs(out.y[j] - ref[j] / norm) / fmax(1e-300, ref[j] / norm));
    CU_ASSERT_TRUE(err < 1e-12);
    /* the quirk: the grid is [0.24, 2.01] (means of the run extremes ∓ 0.01, σ = 0.0042): node 3 of
     * run 2 (weight 0.75) lies 0.99 above it and node 0 of run 1 (weight 0.5) 0.24 below it, so
     * (0.75 + 0.5)/2 = 0.625 of the mass is dropped (tails of the others < 1e-12) */
    OD_ASSERT_CLOSE(out.mass_outside, 0.625, 1e-12);
    /* and the Riemann sum of the rescaled density is 1 */
    double rs = 0;
    for (size_t j = 0; j < 10000; j++) rs += out.y[j];
    OD_ASSERT_CLOSE(rs * step, 1.0, 1e-12);
    od_spectra_density_free(&out);
    /* exact mode keeps the unit mass: trapezoid mass + mass outside = 1 (grid error O(h²/σ²)) */
    p = od_spectra_smooth_default_params();
    p.n = 4000;
    CU_ASSERT_EQUAL(od_spectra_smooth(2, cnt, 2, th, w, &p, &out), OD_OK);
    OD_ASSERT_CLOSE(out.sigma, 3.0 / 2, 0);   /* automatic width: range / max count */
    OD_ASSERT_CLOSE(out.mass_grid + out.mass_outside, 1.0, 1e-6);
    CU_ASSERT_TRUE(out.mass_outside < 1e-4);  /* grid extends 4σ past the extreme nodes */
    od_spectra_density_free(&out);
    p.lo = 0.25;   /* a cut grid: the missing mass is reported, the rest is not rescaled */
    p.hi = 10;
    p.sigma = 0.01;
    CU_ASSERT_EQUAL(od_spectra_smooth(2, cnt, 2, th, w, &p, &out), OD_OK);
    OD_ASSERT_CLOSE(out.mass_outside, 0.25, 1e-12);   /* node 0 of run 1 (weight 0.5 / 2 runs) */
    OD_ASSERT_CLOSE(out.mass_grid, 0.75, 1e-6);
    od_spectra_density_free(&out);
    p.n = 1;
    CU_ASSERT_EQUAL(od_spectra_smooth(2, cnt, 2, th, w, &p, &out), OD_EINVAL);
    free(ref);
}

static double uniform_cdf(double x, void *p)
{
    (void)p;
    return x < 0 ? 0 : (x > 1 ? 1 : x);
}

static void test_distances(void)
{
    /* KS of a step distribution against U(0, 1): jumps at 0.25 (w 0.5) and 0.9 (w 0.5) */
    const size_t cnt = 2;
    const double th[2] = {0.25, 0.9}, w[2] = {0.5, 0.5};
    OD_ASSERT_CLOSE(od_spectra_ks(1, &cnt, 2, th, w, uniform_cdf, NULL), 0.4, 1e-15);
    OD_ASSERT_CLOSE(od_spectra_step_cdf(1, &cnt, 2, th, w, 0.5), 0.5, 0);
    /* JS: identical 0, symmetric, disjoint √ln2 (base e) and 1 (base 2) */
    enum { N = 2001 };
    double *x = malloc(N * sizeof *x), *f = malloc(N * sizeof *f), *g = malloc(N * sizeof *g),
           *h = malloc(N * sizeof *h);
    for (size_t i = 0; i < N; i++) {
        x[i] = -8 + 16.0 * (double)i / (N - 1);
        f[i] = exp(-0.5 * x[i] * x[i]) / sqrt(2 * M_PI);
        g[i] = exp(-0.5 * (x[i] - 1.3) * (x[i] - 1.3)) / sqrt(2 * M_PI);
        h[i] = x[i] < 0 ? 1.0 : 0.0;
    }
    OD_ASSERT_CLOSE(od_spectra_js(N, f, f, 0), 0.0, 1e-8);
    OD_ASSERT_CLOSE(od_spectra_js(N, f, g, 0), od_spectra_js(N, g, f, 0), 1e-15);
    double hc[N];
    for (size_t i = 0; i < N; i++) hc[i] = 1.0 - h[i];
    /* rounding of N-term sums: N ε */
    OD_ASSERT_CLOSE(od_spectra_js(N, h, hc, 0), sqrt(M_LN2), N * DBL_EPSILON);
    OD_ASSERT_CLOSE(od_spectra_js(N, h, hc, 2), 1.0, N * DBL_EPSILON);
    /* JS of N(0,1) vs N(1.3,1) on the grid against the continuous value by quadrature (midpoint of a
     * smooth integrand on [-8, 8]: discretisation error O(h²) with h = 0.008, below 1e-4) */
    double js2 = 0;
    const double hq = 1e-4;
    for (double t = -12; t < 12; t += hq) {
        const double p = exp(-0.5 * t * t) / sqrt(2 * M_PI), q = exp(-0.5 * (t - 1.3) * (t - 1.3)) / sqrt(2 * M_PI);
        const double m = 0.5 * (p + q);
        js2 += hq * 0.5 * (p * log(p / m) + q * log(q / m));
    }
    OD_ASSERT_CLOSE(od_spectra_js(N, f, g, 0), sqrt(js2), 1e-4);
    /* L1 of a density against itself shifted: 2 (1 − 2Φ(−δ/2)) for unit Gaussians */
    OD_ASSERT_CLOSE(od_spectra_l1(N, x, f, g), 2 * (1 - 2 * gsl_cdf_ugaussian_P(-0.65)), 1e-4);
    f[3] = -1;
    CU_ASSERT_TRUE(isnan(od_spectra_js(N, f, g, 0)));
    free(x);
    free(f);
    free(g);
    free(h);
}

static double semi_h(double x, void *p)
{
    (void)x;
    const double s = *(const double *)p;
    return 1.0 / (2 * M_PI * s * s);
}

typedef struct {
    od_spectra_fn *f;
    void *p;
    int j;
} mom_arg;

static double mom_integrand(double x, void *a)
{
    const mom_arg *m = a;
    return m->f(x, m->p) * pow(x, m->j);
}

typedef struct {
    od_spectra_mp *mp;
    double z;
} stieltjes_arg;

static double stieltjes_integrand(double x, void *a)
{
    const stieltjes_arg *q = a;
    return od_spectra_mp_density(x, q->mp) / (q->z - x);
}

static void test_rmt_references(void)
{
    gsl_integration_workspace *ws = gsl_integration_workspace_alloc(1000);
    /* MP density: moments 0..3 by quadrature against the closed forms; CDF at the edges */
    const double cs[3] = {0.1, 0.35, 0.8};
    for (int ci = 0; ci < 3; ci++) {
        od_spectra_mp mp = {1.7, cs[ci]};
        double lo, hi;
        od_spectra_mp_edges(&mp, &lo, &hi);
        for (int j = 0; j <= 3; j++) {
            mom_arg a = {od_spectra_mp_density, &mp, j};
            gsl_function F = {mom_integrand, &a};
            double r, e;
            gsl_integration_qags(&F, lo, hi, 0, 1e-11, 1000, ws, &r, &e);
            OD_ASSERT_CLOSE(r, od_spectra_mp_moment(&mp, j), 1e-8 * pow(hi, j));
        }
        OD_ASSERT_CLOSE(od_spectra_mp_cdf(hi * 0.999999999, &mp), 1.0, 1e-6);
        OD_ASSERT_CLOSE(od_spectra_mp_cdf(lo, &mp), 0.0, 0);
        /* log-moment */
        double sum = 0;
        const int M = 200000;
        for (int i = 0; i < M; i++) {   /* Chebyshev-type substitution x = m + r cos θ */
            const double t = M_PI * ((double)i + 0.5) / M, mid = 0.5 * (lo + hi), rad = 0.5 * (hi - lo);
            const double xx = mid + rad * cos(t);
            sum += log(xx) * od_spectra_mp_density(xx, &mp) * rad * sin(t) * M_PI / M;
        }
        OD_ASSERT_CLOSE(sum, od_spectra_mp_logmoment(&mp), 1e-6);
    }
    od_spectra_mp big = {1.0, 2.5};   /* c > 1: the atom at 0 */
    OD_ASSERT_CLOSE(od_spectra_mp_cdf(0.0, &big), 1 - 1 / 2.5, 1e-15);
    /* semicircle CDF derivative = density; moments 2 and 4 */
    const double s = 0.83;
    for (double x = -1.5; x < 1.6; x += 0.37) {
        const double hh = 1e-6;
        const double dF = (od_spectra_semicircle_cdf(x + hh, (void *)&s) - od_spectra_semicircle_cdf(x - hh, (void *)&s)) / (2 * hh);
        OD_ASSERT_CLOSE(dF, od_spectra_semicircle_density(x, (void *)&s), 1e-6);
    }
    for (int j = 2; j <= 4; j += 2) {
        mom_arg a = {od_spectra_semicircle_density, (void *)&s, j};
        gsl_function F = {mom_integrand, &a};
        double r, e;
        gsl_integration_qags(&F, -2 * s, 2 * s, 0, 1e-12, 1000, ws, &r, &e);
        OD_ASSERT_CLOSE(r, j == 2 ? s * s : 2 * pow(s, 4), 1e-9);
    }
    /* smoothing the semicircle (sqrt edges, h = 1/(2π s²)) keeps its unit mass (trapezoid error
     * O(h²) on a grid of step 0.002 against σ = 0.05: below 1e-5) and matches a brute-force
     * convolution at a point */
    enum { NG = 3001 };
    double *x = malloc(NG * sizeof *x), *y = malloc(NG * sizeof *y), one[NG];
    for (size_t i = 0; i < NG; i++) {
        x[i] = -3 + 6.0 * (double)i / (NG - 1);
        one[i] = 0;
    }
    CU_ASSERT_EQUAL(od_spectra_smooth_sqrt_edge(semi_h, (void *)&s, -2 * s, 2 * s, 0.05, NG, x, y), OD_OK);
    OD_ASSERT_CLOSE(od_spectra_l1(NG, x, y, one), 1.0, 1e-5);
    double conv = 0;
    const int M = 400000;
    for (int i = 0; i < M; i++) {
        const double t = -2 * s + 4 * s * ((double)i + 0.5) / M;
        conv += od_spectra_semicircle_density(t, (void *)&s) * exp(-pow(x[1700] - t, 2) / (2 * 0.0025)) /
                sqrt(2 * M_PI * 0.0025) * 4 * s / M;
    }
    OD_ASSERT_CLOSE(y[1700], conv, 1e-6);
    CU_ASSERT_EQUAL(od_spectra_smooth_sqrt_edge(semi_h, (void *)&s, 1, 0, 0.05, NG, x, y), OD_EINVAL);
    free(x);
    free(y);
    /* BBP */
    double lam, ov;
    od_spectra_bbp(2.0, 0.25, &lam, &ov);
    OD_ASSERT_CLOSE(lam, 3.0 * 1.125, 1e-15);
    OD_ASSERT_CLOSE(ov, (1 - 0.0625) / 1.125, 1e-15);
    od_spectra_bbp(0.3, 0.25, &lam, &ov);
    OD_ASSERT_CLOSE(lam, 2.25, 1e-15);
    OD_ASSERT_CLOSE(ov, 0.0, 0);
    /* [D] the BBP location solves the secular equation of a rank-one multiplicative spike,
     * z g(z) = (1 + ℓ)/ℓ with g(z) = ∫ ρ_MP(x)/(z − x) dx (c = 0.3, s² = 1), the Stieltjes transform
     * computed here by quadrature (smooth integrand outside the support: tolerance 1e-9) */
    const double ells[3] = {0.8, 1.7, 4.2};
    for (int e = 0; e < 3; e++) {
        od_spectra_mp mp = {1.0, 0.3};
        double lo, hi, z, r, err;
        od_spectra_mp_edges(&mp, &lo, &hi);
        od_spectra_bbp(ells[e], 0.3, &z, &ov);
        CU_ASSERT_TRUE(z > hi);
        stieltjes_arg sa = {&mp, z};
        gsl_function F = {stieltjes_integrand, &sa};
        gsl_integration_qags(&F, lo, hi, 0, 1e-12, 1000, ws, &r, &err);
        OD_ASSERT_CLOSE(z * r, (1 + ells[e]) / ells[e], 1e-9);
    }
    gsl_integration_workspace_free(ws);
}

/* Blockwise spectra of a block quadratic with disjoint block spectra: SLQ per block sees exactly its
 * block's eigenvalues (m = block size reproduces them), JS between disjoint blocks is √ln2 up to the
 * kernel overlap, and normalisation by the largest eigenvalue maps each block's top node to 1. */
static void test_blocks(void)
{
    od_problem *p = NULL;
    CU_ASSERT_EQUAL_FATAL(od_problem_from_spec((const od_problem_entry *const *const[]){od_spectra_problems, NULL},
                                               "blocks:sizes=30|20|25,ranges=1:2|10:20|100:200", 3, &p),
                          OD_OK);
    od_spectra_block bl[8];
    size_t nb;
    CU_ASSERT_EQUAL(od_spectra_problem_blocks(p, bl, 8, &nb), OD_OK);
    CU_ASSERT_EQUAL(nb, 3);
    CU_ASSERT_EQUAL(bl[1].lo, 30);
    CU_ASSERT_EQUAL(bl[1].hi, 50);
    CU_ASSERT_STRING_EQUAL(bl[2].name, "block2");
    od_spectra_linop *H = NULL;
    CU_ASSERT_EQUAL_FATAL(od_spectra_linop_hessian(p, NULL, &H), OD_OK);
    od_spectra_slq_params sp = od_spectra_slq_default_params();
    sp.steps = 30;   /* clipped to each block's size: the quadrature then holds every eigenvalue */
    sp.probes = 2;
    od_spectra_slq_result r[3];
    double scale[3];
    CU_ASSERT_EQUAL_FATAL(od_spectra_block_slq(H, 3, bl, &sp, OD_SPECTRA_NORM_NONE, r, scale), OD_OK);
    const double lo[3] = {1, 10, 100}, hi[3] = {2, 20, 200};
    for (int b = 0; b < 3; b++) {
        CU_ASSERT_EQUAL(scale[b], 1.0);
        for (size_t k = 0; k < r[b].m[0]; k++) {
            CU_ASSERT_TRUE(r[b].nodes[k] > lo[b] - 1e-9 && r[b].nodes[k] < hi[b] + 1e-9);
        }
    }
    /* densities on a common log grid and JS: disjoint supports → √ln2 within the Gaussian overlap */
    enum { NG = 600 };
    double *x = malloc(NG * sizeof *x), *dens = malloc(3 * NG * sizeof *dens), js[9];
    for (size_t i = 0; i < NG; i++) x[i] = -0.5 + 3.0 * (double)i / (NG - 1);
    for (int b = 0; b < 3; b++) {
        double *lg = malloc(r[b].probes * r[b].steps * sizeof *lg);
        for (size_t k = 0; k < r[b].probes * r[b].steps; k++) lg[k] = r[b].nodes[k] > 0 ? log10(r[b].nodes[k]) : 0;
        double *per = malloc(r[b].probes * NG * sizeof *per);
        od_spectra_smooth_runs(r[b].probes, r[b].m, r[b].steps, lg, r[b].weights, 0.02, NG, x, per);
        for (size_t i = 0; i < NG; i++) dens[b * NG + i] = 0.5 * (per[i] + per[NG + i]);
        free(per);
        free(lg);
    }
    const double js0 = od_spectra_js_matrix(3, NG, dens, 0, js);
    /* supports in log10 are [0, .301], [1, 1.301], [2, 2.301]: gaps of 0.7 = 35 σ, so the overlap is
     * below 1e-200 and every pair is at the maximum */
    OD_ASSERT_CLOSE(js0, sqrt(M_LN2), 1e-12);
    OD_ASSERT_CLOSE(js[1 * 3 + 2], sqrt(M_LN2), 1e-12);
    for (int b = 0; b < 3; b++) od_spectra_slq_result_free(&r[b]);
    CU_ASSERT_EQUAL_FATAL(od_spectra_block_slq(H, 3, bl, &sp, OD_SPECTRA_NORM_MAX, r, scale), OD_OK);
    for (int b = 0; b < 3; b++) {
        CU_ASSERT_TRUE(scale[b] > lo[b] && scale[b] < hi[b]);
        OD_ASSERT_CLOSE(r[b].nodes[r[b].m[0] - 1], 1.0, 1e-8);
        od_spectra_slq_result_free(&r[b]);
    }
    CU_ASSERT_EQUAL(od_spectra_block_slq(H, 3, bl, &sp, OD_SPECTRA_NORM_TENTH, r, scale), OD_OK);
    for (int b = 0; b < 3; b++) od_spectra_slq_result_free(&r[b]);
    /* block lists */
    od_spectra_block out[4];
    size_t n;
    CU_ASSERT_EQUAL(od_spectra_blocks_parse("auto", 75, bl, 3, out, 4, &n), OD_OK);
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_EQUAL(od_spectra_blocks_parse("W=0:10,a=10:75", 75, bl, 3, out, 4, &n), OD_OK);
    CU_ASSERT_EQUAL(out[1].lo, 10);
    CU_ASSERT_EQUAL(od_spectra_blocks_parse("W=0:10,a=10:76", 75, bl, 3, out, 4, &n), OD_ERANGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "a=10:76"));
    CU_ASSERT_EQUAL(od_spectra_blocks_parse("W0:10", 75, bl, 3, out, 4, &n), OD_EPARSE);
    CU_ASSERT_EQUAL(od_spectra_blocks_parse("W=5:5", 75, bl, 3, out, 4, &n), OD_ERANGE);
    free(x);
    free(dens);
    od_spectra_linop_free(H);
    od_problem_free(p);
}

void od_test_suite_spectra_density(void)
{
    static const od_test_case cases[] = {
        {"PyHessian-compatible smoothing and its quirk; exact mode conserves mass", test_pyhessian},
        {"KS, L1 and JS identities", test_distances},
        {"Marchenko–Pastur, semicircle and BBP references", test_rmt_references},
        {"blockwise spectra, normalisation, JS^0, block lists", test_blocks},
        {NULL, NULL}};
    od_test_add("spectra densities and distances", cases);
}
