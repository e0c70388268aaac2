/* optdyn tests — SLQ, KPM and Hutchinson against mathematics: SLQ moments against the realised
 * spectrum within 4 SE of the probe average, and the realised spectrum against Marchenko–Pastur
 * moments within its exact fluctuation; log-determinant against the exact one; block and
 * one-probe-at-a-time runs byte-identical, on any thread count; KPM moments against the exact
 * Chebyshev moments; Hutchinson variance formulas, exactness on diagonal matrices, the stopping rule
 * and its independence of the block size. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "od_test.h"
#include "test_spectra.h"

/* W = XᵀX/n for Gaussian X (n-by-d) as a Gram operator, with its exact eigenvalues (descending). */
static od_spectra_linop *wishart(size_t n, size_t d, uint64_t seed, double *ev)
{
    double *X = od_vec_alloc(n * d), *W = od_vec_alloc(d * d);
    ts_gaussian(n, d, seed, X);
    od_gemm(1, 0, d, d, n, 1.0 / (double)n, X, X, 0.0, W);
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < i; j++) W[i * d + j] = W[j * d + i];
    od_symm_eigen(d, W, ev, NULL);
    od_spectra_linop *op = NULL;
    od_spectra_linop_gram(n, d, X, 1, 1.0 / (double)n, &op);
    od_free(W);
    return op;
}

static void test_slq_moments(void)
{
    const size_t n = 1600, d = 400;
    double *ev = od_vec_alloc(d);
    od_spectra_linop *op = wishart(n, d, 61, ev);
    od_spectra_slq_params sp = od_spectra_slq_default_params();
    sp.steps = 30;
    sp.probes = 20;
    od_spectra_slq_result r;
    CU_ASSERT_EQUAL_FATAL(od_spectra_slq(op, &sp, &r), OD_OK);
    CU_ASSERT_EQUAL(r.matvecs, 30 * 20);
    for (size_t l = 0; l < sp.probes; l++) {
        double w = 0;
        for (size_t k = 0; k < r.m[l]; k++) w += r.weights[l * r.steps + k];
        OD_ASSERT_CLOSE(w, 1.0, 10 * 30 * DBL_EPSILON);
        OD_ASSERT_CLOSE(r.znorm2[l], (double)d, 0);
    }
    const od_spectra_mp mp = {1.0, (double)d / (double)n};
    for (int j = 1; j <= 3; j++) {
        double m, se, exact = 0;
        CU_ASSERT_EQUAL(od_spectra_slq_moment(&r, j, &m, &se), OD_OK);
        for (size_t i = 0; i < d; i++) exact += pow(ev[i], j);
        exact /= (double)d;
        /* the quadrature is exact for degree j <= 2m − 1: only probe noise remains */
        CU_ASSERT_TRUE(fabs(m - exact) <= 4 * se);
        /* realised vs Marchenko–Pastur; j = 1 has the exact fluctuation sd sqrt(2/(n d)) and E = s²;
         * higher moments get the finite-n bias O(1/n) of Wishart moments on top (E m₂ = 1 + c + 1/n) */
        const double sd1 = sqrt(2.0 / ((double)n * (double)d));
        if (j == 1) CU_ASSERT_TRUE(fabs(exact - 1.0) <= 5 * sd1);
        if (j == 2) CU_ASSERT_TRUE(fabs(exact - (od_spectra_mp_moment(&mp, 2) + 1.0 / (double)n)) <= 5 * 4 * sd1);
    }
    /* log-det: the nodes lie in [λ_min, λ_max] of an SPD matrix; quadrature error with m = 30 and
     * κ ≈ 9 is below e^{-2m/√κ} ≈ 1e-9 relative (Ubaru et al. 2017), so 4 SE is the tolerance */
    double ld, lse, exact = 0;
    CU_ASSERT_EQUAL(od_spectra_slq_logdet(&r, &ld, &lse), OD_OK);
    for (size_t i = 0; i < d; i++) exact += log(ev[i]);
    CU_ASSERT_TRUE(fabs(ld - exact) <= 4 * lse + 1e-6 * fabs(exact));
    /* block and sequential runs, and 1 or 2 threads: the same bytes */
    od_spectra_slq_result r2, r3;
    sp.block = 0;
    CU_ASSERT_EQUAL(od_spectra_slq(op, &sp, &r2), OD_OK);
    sp.block = 1;
    const int t0 = od_threads();
    od_set_threads(1);
    CU_ASSERT_EQUAL(od_spectra_slq(op, &sp, &r3), OD_OK);
    od_set_threads(t0);
    CU_ASSERT_EQUAL(memcmp(r.nodes, r2.nodes, sp.probes * sp.steps * sizeof(double)), 0);
    CU_ASSERT_EQUAL(memcmp(r.weights, r2.weights, sp.probes * sp.steps * sizeof(double)), 0);
    CU_ASSERT_EQUAL(memcmp(r.nodes, r3.nodes, sp.probes * sp.steps * sizeof(double)), 0);
    od_spectra_slq_result_free(&r2);
    od_spectra_slq_result_free(&r3);
    /* errors */
    sp.steps = 0;
    CU_ASSERT_EQUAL(od_spectra_slq(op, &sp, &r2), OD_EINVAL);
    sp.steps = d + 1;
    CU_ASSERT_EQUAL(od_spectra_slq(op, &sp, &r2), OD_EINVAL);
    sp.steps = 5;
    sp.probes = 0;
    CU_ASSERT_EQUAL(od_spectra_slq(op, &sp, &r2), OD_EINVAL);
    od_spectra_slq_result_free(&r);
    od_spectra_linop_free(op);
    od_free(ev);
}

/* Wigner (semicircle): SLQ second and fourth moments against the realised spectrum (4 SE), and the
 * realised second moment against its exact expectation s²(N + 1)/N (GOE: diagonal variance 2s²/N). */
static void test_semicircle_moments(void)
{
    const size_t N = 300;
    const double s = 1.7;
    od_spectra_linop *op = NULL;
    CU_ASSERT_EQUAL_FATAL(od_spectra_model_from_spec("wigner:n=300,s=1.7", 5, &op), OD_OK);
    double *A = od_vec_alloc(N * N), *ev = od_vec_alloc(N);
    od_spectra_linop_to_dense(op, A);
    od_symm_eigen(N, A, ev, NULL);
    od_spectra_slq_params sp = od_spectra_slq_default_params();
    sp.steps = 20;
    sp.probes = 30;
    sp.probe = OD_SPECTRA_GAUSSIAN;
    od_spectra_slq_result r;
    CU_ASSERT_EQUAL_FATAL(od_spectra_slq(op, &sp, &r), OD_OK);
    for (int j = 2; j <= 4; j += 2) {
        double m, se, exact = 0;
        od_spectra_slq_moment(&r, j, &m, &se);
        for (size_t i = 0; i < N; i++) exact += pow(ev[i], j);
        exact /= (double)N;
        CU_ASSERT_TRUE(fabs(m - exact) <= 4 * se);
        /* semicircle m₂ = s² (E = s²(N+1)/N, sd ≈ 2s²/N: tolerance s²/N + 5 sd) and m₄ = 2s⁴ with
         * an O(s⁴/N) finite-N correction (tolerance 20 s⁴/N, [D]: GOE's 1/N term is a few s⁴/N) */
        if (j == 2) CU_ASSERT_TRUE(fabs(exact - s * s) <= 11 * s * s / (double)N);
        if (j == 4) CU_ASSERT_TRUE(fabs(exact - 2 * pow(s, 4)) <= 20 * pow(s, 4) / (double)N);
    }
    double m2 = 0;
    for (size_t i = 0; i < N * N; i++) m2 += A[i] * A[i];
    m2 /= (double)N;   /* (1/N) tr A² = (1/N) Σ a_ij² */
    /* Var of (1/N) Σ a_ij²: (1/N²)(Σ_diag 2(2s²/N)² + Σ_{i<j} 4·2(s²/N)²) ≈ 4 s⁴ / N² */
    CU_ASSERT_TRUE(fabs(m2 - s * s * (double)(N + 1) / (double)N) <= 5 * 2 * s * s / (double)N);
    od_spectra_slq_result_free(&r);
    od_spectra_linop_free(op);
    od_free(A);
    od_free(ev);
}

/* KPM: moments against the exact μ_k = (1/d) Σ_i T_k(t_i) within 4 SE; the damped density has
 * ∫ φ = g_0 μ_0 and ∫ t φ = g_1 μ_1 (Gauss–Chebyshev quadrature, exact for these polynomials). */
static void test_kpm(void)
{
    const size_t n = 1200, d = 300;
    double *ev = od_vec_alloc(d);
    od_spectra_linop *op = wishart(n, d, 71, ev);
    od_spectra_kpm_params kp = od_spectra_kpm_default_params();
    kp.moments = 25;
    kp.probes = 16;
    od_spectra_kpm_result r;
    CU_ASSERT_EQUAL_FATAL(od_spectra_kpm(op, &kp, &r), OD_OK);
    CU_ASSERT_EQUAL(r.n_mu, 51);
    CU_ASSERT_TRUE(r.c - r.e < ev[d - 1] && r.c + r.e > ev[0]);   /* bounds contain the spectrum */
    for (size_t k = 0; k < r.n_mu; k++) {
        double exact = 0;
        for (size_t i = 0; i < d; i++) exact += cos((double)k * acos((ev[i] - r.c) / r.e));
        exact /= (double)d;
        CU_ASSERT_TRUE(fabs(r.mu[k] - exact) <= 4 * r.mu_se[k] + 1e-12);
    }
    OD_ASSERT_CLOSE(r.mu[0], 1.0, 1e-15);   /* Rademacher: zᵀz/d = 1 exactly */
    /* Gauss–Chebyshev: ∫ φ(λ) p(λ) dλ = (π/N) Σ φ(λ_j) e √(1 − t_j²) p(λ_j) at t_j = cos((j+½)π/N) */
    const size_t Nq = 200;
    double *x = od_vec_alloc(Nq), *y = od_vec_alloc(Nq), I0 = 0, I1 = 0;
    for (size_t j = 0; j < Nq; j++) x[j] = r.c + r.e * cos(((double)j + 0.5) * M_PI / (double)Nq);
    od_spectra_kpm_density(&r, Nq, x, y);
    for (size_t j = 0; j < Nq; j++) {
        const double t = (x[j] - r.c) / r.e, wq = M_PI / (double)Nq * r.e * sqrt(1 - t * t);
        I0 += wq * y[j];
        I1 += wq * y[j] * t;
    }
    const size_t K = r.n_mu - 1;
    OD_ASSERT_CLOSE(od_spectra_jackson(0, K), 1.0, 1e-15);
    OD_ASSERT_CLOSE(I0, r.mu[0], 1e-12);
    OD_ASSERT_CLOSE(I1, od_spectra_jackson(1, K) * r.mu[1], 1e-12);
    for (size_t k = 1; k <= K; k++) CU_ASSERT_TRUE(od_spectra_jackson(k, K) < od_spectra_jackson(k - 1, K));
    od_spectra_kpm_result_free(&r);
    od_spectra_linop_free(op);
    od_free(ev);
    od_free(x);
    od_free(y);
}

/* Hutchinson: per-probe variance 2‖A‖_F² (Gaussian) and 2(‖A‖_F² − Σ A_ii²) (Rademacher), checked
 * within 5 SE of the sample variance (SE from the fourth moments of the samples). */
static void test_hutchinson(void)
{
    const size_t d = 25, N = 4000;
    double *A = od_vec_alloc(d * d), *lam = od_vec_alloc(d), *z = od_vec_alloc(d), *Az = od_vec_alloc(d);
    for (size_t k = 0; k < d; k++) lam[k] = 0.3 + 0.17 * (double)k - (k % 3 ? 0.0 : 1.9);
    ts_rotated(d, lam, 81, A);
    double fro = 0, dsq = 0, tr = 0;
    for (size_t i = 0; i < d * d; i++) fro += A[i] * A[i];
    for (size_t i = 0; i < d; i++) {
        dsq += A[i * d + i] * A[i * d + i];
        tr += A[i * d + i];
    }
    od_spectra_linop *op = NULL;
    od_spectra_linop_dense(d, A, &op);
    for (int kind = 0; kind < 2; kind++) {
        const od_spectra_probe pk = kind ? OD_SPECTRA_GAUSSIAN : OD_SPECTRA_RADEMACHER;
        double *q = od_vec_alloc(N);
        for (size_t i = 0; i < N; i++) {
            od_spectra_probe_fill(pk, 9, 3, (uint32_t)i, d, z);
            od_spectra_apply(op, z, Az);
            q[i] = od_dot(d, z, Az);
        }
        double mean = 0, var = 0, m4 = 0;
        for (size_t i = 0; i < N; i++) mean += q[i] / (double)N;
        for (size_t i = 0; i < N; i++) var += (q[i] - mean) * (q[i] - mean) / (double)(N - 1);
        for (size_t i = 0; i < N; i++) m4 += pow(q[i] - mean, 4) / (double)N;
        const double pred = kind ? 2 * fro : 2 * (fro - dsq), se_var = sqrt((m4 - var * var) / (double)N);
        CU_ASSERT_TRUE(fabs(var - pred) <= 5 * se_var);
        /* the estimator over the same probes: mean and SE² N = sample variance */
        od_spectra_hutch_params hp = od_spectra_hutch_default_params();
        hp.probe = pk;
        hp.seed = 9;
        hp.rel_tol = 0;
        hp.max_probes = N;
        od_spectra_hutch_result hr;
        CU_ASSERT_EQUAL(od_spectra_hutchinson(op, &hp, &hr, NULL), OD_OK);
        CU_ASSERT_EQUAL(hr.probes, N);
        OD_ASSERT_CLOSE(hr.trace, mean, 1e-10 * fabs(mean) + 1e-12);
        OD_ASSERT_CLOSE(hr.se * hr.se * (double)N, var, 1e-9 * var);
        CU_ASSERT_TRUE(fabs(hr.trace - tr) <= 4 * hr.se);
        od_free(q);
    }
    /* stopping rule: SE/|mean| < tol after >= min_probes; block size does not change the answer */
    od_spectra_hutch_params hp = od_spectra_hutch_default_params();
    hp.rel_tol = 0.02;
    od_spectra_hutch_result h1, h2;
    hp.block = 1;
    CU_ASSERT_EQUAL(od_spectra_hutchinson(op, &hp, &h1, NULL), OD_OK);
    hp.block = 7;
    CU_ASSERT_EQUAL(od_spectra_hutchinson(op, &hp, &h2, NULL), OD_OK);
    CU_ASSERT_TRUE(h1.converged && h1.probes >= hp.min_probes && h1.se < 0.02 * fabs(h1.trace));
    CU_ASSERT_EQUAL(h1.probes, h2.probes);
    CU_ASSERT_EQUAL(memcmp(&h1.trace, &h2.trace, sizeof(double)), 0);
    hp.min_probes = 5;
    hp.max_probes = 3;
    CU_ASSERT_EQUAL(od_spectra_hutchinson(op, &hp, &h1, NULL), OD_EINVAL);
    od_spectra_linop_free(op);
    /* Rademacher on a diagonal matrix: every probe is exact, trace and diagonal */
    for (size_t i = 0; i < d * d; i++) A[i] = 0;
    for (size_t i = 0; i < d; i++) A[i * d + i] = lam[i];
    od_spectra_linop_dense(d, A, &op);
    hp = od_spectra_hutch_default_params();
    hp.rel_tol = 0;
    hp.min_probes = 1;
    hp.max_probes = 3;
    double diag[25], trd = 0;
    for (size_t i = 0; i < d; i++) trd += lam[i];
    CU_ASSERT_EQUAL(od_spectra_hutchinson(op, &hp, &h1, diag), OD_OK);
    OD_ASSERT_CLOSE(h1.trace, trd, 4 * (double)d * DBL_EPSILON * trd);
    OD_ASSERT_CLOSE(h1.se, 0.0, 4 * (double)d * DBL_EPSILON * trd);
    for (size_t i = 0; i < d; i++) OD_ASSERT_CLOSE(diag[i], lam[i], 4 * DBL_EPSILON * fabs(lam[i]));
    od_spectra_linop_free(op);
    od_free(A);
    od_free(lam);
    od_free(z);
    od_free(Az);
}

void od_test_suite_spectra_slq(void)
{
    static const od_test_case cases[] = {
        {"SLQ moments and log-det vs realised spectrum and MP; block = sequential", test_slq_moments},
        {"SLQ on Wigner: semicircle moments", test_semicircle_moments},
        {"KPM moments, Jackson damping identities", test_kpm},
        {"Hutchinson variance formulas, diagonal exactness, stopping rule", test_hutchinson},
        {NULL, NULL}};
    od_test_add("spectra SLQ, KPM, Hutchinson", cases);
}
