/* optdyn tests — sample paths of linearised SGD (samplers, Monte Carlo E‖x_t‖² against the exact
 * recursion at short horizons, divergence runs, Lyapunov exponents with their bound ½ log ρ(T) and
 * thread invariance), sharpness tracking by warm-started Lanczos against the dense Hessian, gradient
 * descent at the edge of stability, and scalar networks (gradient, Hessian at a minimum, the D = 2
 * identity, GFS sharpness). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "od_test.h"
#include "test_spectra.h"

/* A small per-sample set: n = 4 random PSD 3-by-3 matrices of ranks 1..3. */
static od_spectra_hset *small_set(void)
{
    double H[4 * 9];
    od_stream s;
    od_stream_init(&s, 77, 9);
    for (size_t i = 0; i < 4; i++) {
        double g[9];
        od_stream_normals(&s, g, 9);
        od_zero(9, H + i * 9);
        for (size_t k = 0; k < 1 + i % 3; k++)
            for (size_t a = 0; a < 3; a++)
                for (size_t b = 0; b < 3; b++) H[i * 9 + a * 3 + b] += 0.6 * g[3 * k + a] * g[3 * k + b];
    }
    od_spectra_hset *h = NULL;
    CU_ASSERT_EQUAL_FATAL(od_spectra_hset_dense(4, 3, H, NULL, &h), OD_OK);
    return h;
}

static void test_samplers(void)
{
    const size_t n = 7, B = 3, draws = 20000;
    for (int sc = 0; sc < 3; sc++) {
        od_spectra_batcher *b;
        CU_ASSERT_EQUAL_FATAL(od_spectra_batcher_alloc((od_spectra_sampling)sc, n, B, &b), OD_OK);
        od_stream s;
        od_stream_init(&s, 5, 1);
        uint32_t idx[7];
        double cnt[7] = {0}, size = 0, size2 = 0;
        for (size_t t = 0; t < draws; t++) {
            od_stream_seek(&s, 0, (uint32_t)t);
            const size_t m = od_spectra_batch_draw(b, &s, idx);
            size += (double)m;
            size2 += (double)m * (double)m;
            for (size_t j = 0; j < m; j++) {
                cnt[idx[j]]++;
                if (sc != OD_SPECTRA_SAMPLE_REPLACEMENT)
                    for (size_t k = 0; k < j; k++) CU_ASSERT_NOT_EQUAL(idx[j], idx[k]);
            }
        }
        /* each index: mean count per draw B/n; the per-draw count has variance <= B/n */
        for (size_t i = 0; i < n; i++) {
            const double p = (double)B / (double)n, m = cnt[i] / (double)draws;
            CU_ASSERT_TRUE(fabs(m - p) <= 5 * sqrt(p / (double)draws));
        }
        const double ms = size / (double)draws;
        if (sc == OD_SPECTRA_SAMPLE_BERNOULLI) {   /* |S| ~ Bin(n, B/n): mean B, variance B(1 − B/n) */
            CU_ASSERT_TRUE(fabs(ms - 3.0) <= 5 * sqrt(3.0 * (1 - 3.0 / 7) / (double)draws));
            CU_ASSERT_TRUE(fabs(size2 / (double)draws - ms * ms - 3.0 * (1 - 3.0 / 7)) < 0.05);
        } else {
            CU_ASSERT_EQUAL(ms, 3.0);
        }
        od_spectra_batcher_free(b);
    }
}

/* Monte Carlo E‖x_t‖² from a fixed x_0 against tr T^t(x_0 x_0ᵀ), t = 1..4 (short horizons: the
 * estimator is heavy-tailed later, spectra.md §6.6), within 4 SE. */
static void test_mc_vs_exact(void)
{
    od_spectra_hset *h = small_set();
    const size_t r = h->r, P = 40000;
    for (int sc = 0; sc < 3; sc++) {
        od_spectra_stab *st;
        od_spectra_stab_alloc(h, (od_spectra_sampling)sc, 2, &st);
        const double eta = 0.35;
        double x0[3] = {0.83, -0.41, 0.27}, X[9], Y[9], x[3], w[3], sum[4] = {0}, sum2[4] = {0};
        uint32_t idx[4];
        od_spectra_batcher *b;
        od_spectra_batcher_alloc((od_spectra_sampling)sc, 4, 2, &b);
        od_stream s;
        od_stream_init(&s, 9, 3);
        for (size_t p = 0; p < P; p++) {
            od_copy(r, x0, x);
            od_spectra_batcher_reset(b);
            for (int t = 0; t < 4; t++) {
                od_stream_seek(&s, (uint32_t)p, (uint32_t)t);
                const size_t m = od_spectra_batch_draw(b, &s, idx);
                od_spectra_stab_step(st, eta, idx, m, x, x, w);
                const double v = od_dot(r, x, x);
                sum[t] += v;
                sum2[t] += v * v;
            }
        }
        for (size_t a = 0; a < r; a++)
            for (size_t c = 0; c < r; c++) X[a * r + c] = x0[a] * x0[c];
        for (int t = 0; t < 4; t++) {
            od_spectra_stab_apply(st, eta, X, Y);
            memcpy(X, Y, sizeof X);
            const double ex = X[0] + X[4] + X[8], m = sum[t] / (double)P,
                         se = sqrt((sum2[t] / (double)P - m * m) / (double)(P - 1));
            CU_ASSERT_TRUE(fabs(m - ex) <= 4 * se);
        }
        od_spectra_batcher_free(b);
        od_spectra_stab_free(st);
    }
    od_spectra_hset_free(h);
}

static void test_divergence_and_lyapunov(void)
{
    od_spectra_hset *h = small_set();
    double lam[3];
    od_symm_eigen(h->r, h->H, lam, NULL);
    /* GD limit (B = n without replacement): λ_L = log max_k |1 − ηλ_k| from every start, and the
     * renormalised estimate after t steps lies in [log μ + (1/t) log|c_1|/‖x_0‖, log μ] */
    od_spectra_stab *gd;
    od_spectra_stab_alloc(h, OD_SPECTRA_SAMPLE_WITHOUT, 4, &gd);
    const double eta = 1.3 / lam[0], mu = fmax(fabs(1 - eta * lam[0]), fabs(1 - eta * lam[2]));
    od_spectra_run_params rp = od_spectra_run_default_params();
    rp.steps = 2000;
    rp.paths = 8;
    od_spectra_lyap_result lr;
    CU_ASSERT_EQUAL(od_spectra_stab_lyapunov(gd, eta, &rp, &lr), OD_OK);
    CU_ASSERT_TRUE(lr.mean <= log(mu) + 1e-12);
    CU_ASSERT_TRUE(lr.mean >= log(mu) - 20.0 / 2000);
    CU_ASSERT_EQUAL(lr.zeroed, 0);
    /* divergence: beyond 2/λ_max every run blows up, at the step log(1000)/(2 log μ) roughly */
    size_t t;
    double g;
    CU_ASSERT_EQUAL(od_spectra_stab_diverges(gd, 2.4 / lam[0], &rp, 3, &t, &g), OD_OK);
    CU_ASSERT_TRUE(t > 0 && g >= 1000);
    CU_ASSERT_EQUAL(od_spectra_stab_diverges(gd, 1.9 / lam[0], &rp, 3, &t, &g), OD_OK);
    CU_ASSERT_EQUAL(t, 0);
    CU_ASSERT_TRUE(g < 1);
    od_spectra_stab_free(gd);
    /* SGD: λ_L <= ½ log ρ(T) (Jensen), within 4 SE; thread-count invariance of the bytes */
    for (int sc = 0; sc < 3; sc++) {
        od_spectra_stab *st;
        od_spectra_stab_alloc(h, (od_spectra_sampling)sc, 1, &st);
        od_spectra_threshold_result tr;
        od_spectra_stab_threshold(st, NULL, &tr);
        for (double f = 0.6; f < 2.0; f += 0.6) {
            od_spectra_rho_result rr;
            od_spectra_stab_rho(st, f * tr.eta, NULL, &rr);
            rp.steps = 3000;
            rp.paths = 64;
            od_set_threads(1);
            od_spectra_lyap_result a, b;
            CU_ASSERT_EQUAL(od_spectra_stab_lyapunov(st, f * tr.eta, &rp, &a), OD_OK);
            od_set_threads(2);
            CU_ASSERT_EQUAL(od_spectra_stab_lyapunov(st, f * tr.eta, &rp, &b), OD_OK);
            CU_ASSERT_EQUAL(memcmp(&a.mean, &b.mean, sizeof a.mean), 0);
            CU_ASSERT_EQUAL(memcmp(&a.se, &b.se, sizeof a.se), 0);
            CU_ASSERT_TRUE(a.mean <= 0.5 * log(rr.rho) + 4 * a.se);
        }
        od_spectra_stab_free(st);
    }
    od_spectra_run_params bad = rp;
    bad.burn_in = bad.steps;
    od_spectra_lyap_result lr2;
    od_spectra_stab *st;
    od_spectra_stab_alloc(h, OD_SPECTRA_SAMPLE_REPLACEMENT, 1, &st);
    od_test_errors_begin();
    CU_ASSERT_EQUAL(od_spectra_stab_lyapunov(st, 0.1, &bad, &lr2), OD_EINVAL);
    bad = rp;
    bad.blowup = 0.5;
    CU_ASSERT_EQUAL(od_spectra_stab_diverges(st, 0.1, &bad, 0, &t, &g), OD_EINVAL);
    CU_ASSERT_EQUAL(od_test_errors_end(), 2);
    od_spectra_stab_free(st);
    od_spectra_hset_free(h);
}

/* ---- edge of stability ----------------------------------------------------------------------------- */

static void test_sharpness_tracking(void)
{
    od_problem *p = NULL;
    CU_ASSERT_EQUAL_FATAL(od_spectra_chebyshev_net(20, 3, 12, 5, &p), OD_OK);
    const size_t D = p->dim;
    double *A = od_vec_alloc(D * D), *ev = od_vec_alloc(D), *x = od_vec_alloc(D), v[2];
    od_copy(D, p->x0, x);
    od_spectra_linop *H;
    od_spectra_linop_hessian(p, x, &H);
    od_spectra_linop_to_dense(H, A);
    for (size_t a = 0; a < D; a++)
        for (size_t b = 0; b < a; b++) A[a * D + b] = A[b * D + a] = 0.5 * (A[a * D + b] + A[b * D + a]);
    od_symm_eigen(D, A, ev, NULL);
    od_spectra_sharpness *sh;
    CU_ASSERT_EQUAL_FATAL(od_spectra_sharpness_alloc(p, 2, 1e-10, 3, &sh), OD_OK);
    uint64_t m1, m2;
    CU_ASSERT_EQUAL(od_spectra_sharpness_eval(sh, x, v, &m1), OD_OK);
    /* residual test 1e-10 |θ|: the eigenvalue error is below the residual */
    OD_ASSERT_REL(v[0], ev[0], 1e-9);
    OD_ASSERT_REL(v[1], ev[1], 1e-9);
    CU_ASSERT_EQUAL(od_spectra_sharpness_eval(sh, x, v, &m2), OD_OK);
    CU_ASSERT_TRUE(m1 > 0 && m2 > 0);   /* the second call starts from the first's top eigenvector */
    OD_ASSERT_REL(v[0], ev[0], 1e-9);
    od_spectra_sharpness_free(sh);
    /* GD with lr = 0.5/λ_max: no divergence, loss decreasing at first; records at 0, k, 2k, ..., end */
    od_spectra_eos_params ep = od_spectra_eos_default_params();
    ep.steps = 45;
    ep.every = 10;
    od_spectra_eos_result er;
    CU_ASSERT_EQUAL(od_spectra_eos_run(p, x, 0.5 / ev[0], &ep, &er), OD_OK);
    CU_ASSERT_EQUAL(er.diverged_at, -1);
    CU_ASSERT_EQUAL(er.steps_done, 45);
    CU_ASSERT_EQUAL(er.n_sharp, 6);
    CU_ASSERT_EQUAL(er.sharp_step[5], 45);
    CU_ASSERT_TRUE(er.loss[45] < er.loss[0]);
    OD_ASSERT_REL(er.sharp[0], ev[0], 1e-7);
    od_spectra_eos_result_free(&er);
    /* a step far beyond 2/λ_max diverges and says when */
    od_copy(D, p->x0, x);
    CU_ASSERT_EQUAL(od_spectra_eos_run(p, x, 400 / ev[0], &ep, &er), OD_OK);
    CU_ASSERT_TRUE(er.diverged_at > 0 && er.diverged_at <= 45);
    CU_ASSERT_EQUAL(er.steps_done + 1, (size_t)er.diverged_at);
    od_spectra_eos_result_free(&er);
    od_spectra_linop_free(H);
    od_free(A);
    od_free(ev);
    od_free(x);
    od_problem_free(p);
}

/* ---- scalar networks --------------------------------------------------------------------------------- */

static void test_scalar_network(void)
{
    const double w[4] = {1.31, 0.62, 1.77, 0.83};
    double g[4], H[16], wp[4], wm[4], gp[4], gm[4];
    od_spectra_scalar_loss(4, w, g, H);
    for (size_t i = 0; i < 4; i++) {   /* central differences: error O(h²) ≈ 1e-10 at h = 1e-5 */
        memcpy(wp, w, sizeof w);
        memcpy(wm, w, sizeof w);
        wp[i] += 1e-5;
        wm[i] -= 1e-5;
        OD_ASSERT_CLOSE(g[i], (od_spectra_scalar_loss(4, wp, gp, NULL) - od_spectra_scalar_loss(4, wm, gm, NULL)) / 2e-5, 1e-8);
        for (size_t j = 0; j < 4; j++) OD_ASSERT_CLOSE(H[i * 4 + j], (gp[j] - gm[j]) / 2e-5, 1e-8);
    }
    /* at a minimum (Π w = 1): H = ∇π∇πᵀ, λ_max = Σ 1/w_i², and the GFS is the point itself */
    double m[3] = {1.7, 0.45, 0}, lam, S, s;
    m[2] = 1 / (m[0] * m[1]);
    CU_ASSERT_EQUAL(od_spectra_scalar_sharpness(3, m, &lam), OD_OK);
    const double want = 1 / (m[0] * m[0]) + 1 / (m[1] * m[1]) + 1 / (m[2] * m[2]);
    OD_ASSERT_REL(lam, want, 1e-13);
    CU_ASSERT_EQUAL(od_spectra_scalar_gfs(3, m, &S, &s), OD_OK);
    OD_ASSERT_REL(S, want, 1e-13);
    OD_ASSERT_REL(s, m[0] * m[0], 1e-13);
    /* D = 2: S_GFS = sqrt((u² − v²)² + 4); one GD step maps u² − v² to (u² − v²)(1 − η² r²) */
    double u[2] = {2.3, 0.21};
    const double eta = 0.37;
    for (int t = 0; t < 30; t++) {
        CU_ASSERT_EQUAL(od_spectra_scalar_gfs(2, u, &S, NULL), OD_OK);
        const double q = u[0] * u[0] - u[1] * u[1];
        OD_ASSERT_REL(S, sqrt(q * q + 4), 1e-14);
        const double r = u[0] * u[1] - 1;
        od_spectra_scalar_loss(2, u, g, NULL);
        u[0] -= eta * g[0];
        u[1] -= eta * g[1];
        /* a few roundings of numbers of size max(u², v²) */
        OD_ASSERT_CLOSE(u[0] * u[0] - u[1] * u[1], q * (1 - eta * eta * r * r),
                        16 * DBL_EPSILON * fmax(1, fmax(u[0] * u[0], u[1] * u[1])));
    }
    double bad[2] = {1.0, -0.5};
    od_test_errors_begin();
    CU_ASSERT_EQUAL(od_spectra_scalar_gfs(2, bad, &S, NULL), OD_EINVAL);
    CU_ASSERT_EQUAL(od_test_errors_end(), 1);
}

void od_test_suite_spectra_stability_paths(void)
{
    static const od_test_case cases[] = {
        {"minibatch samplers: inclusion probabilities, distinct indices, Bernoulli sizes", test_samplers},
        {"Monte Carlo E‖x_t‖² = tr T^t(x0 x0ᵀ) at t <= 4 within 4 SE", test_mc_vs_exact},
        {"divergence runs; Lyapunov: GD limit, <= ½ log ρ(T), thread invariance", test_divergence_and_lyapunov},
        {"sharpness by warm-started Lanczos = dense Hessian; GD records; divergence", test_sharpness_tracking},
        {"scalar networks: gradient, Hessian, GFS sharpness, the D = 2 identity", test_scalar_network},
        {NULL, NULL}};
    od_test_add("spectra stability paths", cases);
}
