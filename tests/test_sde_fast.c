/* optdyn tests — the fused ensemble loops against the generic path (bit for bit), the per-sample
 * noise fallback against the exact covariance (Monte Carlo), and the SDE workspace pool under
 * threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "od_test.h"
#include "sde/optdyn_sde.h"

void od_test_suite_sde_fast(void);

#define SEED 0x5DEECE66DULL

/* Runs dy twice, fused (generic = 0) and generic (generic = 1), and compares every byte of the
 * means, SEs and counts. */
static void same_bytes(od_sde_dynamics dy, size_t paths, const char *what)
{
    od_ensemble_result a, b;
    dy.generic = 0;
    CU_ASSERT_EQUAL_FATAL(od_sde_dynamics_run(&dy, paths, &a, NULL), OD_OK);
    dy.generic = 1;
    CU_ASSERT_EQUAL_FATAL(od_sde_dynamics_run(&dy, paths, &b, NULL), OD_OK);
    const size_t n = (dy.n_times + 1) * dy.n_obs;
    const int same = memcmp(a.mean, b.mean, n * sizeof *a.mean) == 0 &&
                     memcmp(a.se, b.se, n * sizeof *a.se) == 0 &&
                     memcmp(a.n_ok, b.n_ok, n * sizeof *a.n_ok) == 0;
    if (!same) fprintf(stderr, "\n  fused and generic differ: %s (mean %.17g vs %.17g)", what, a.mean[n - 1], b.mean[n - 1]);
    CU_ASSERT_TRUE(same);
    od_ensemble_result_free(&a);
    od_ensemble_result_free(&b);
}

/* The fused discrete SGD, RMSprop, Adam, AdamW (batch 1 and 3, eps outside and inside, bias
 * correction on and off) and the fused EM steps of the SGD, RMSprop and Adam SDEs reproduce the
 * generic path bit for bit on a diagonal quadratic with a non-zero centre and unequal noise. */
static void test_fused_bitwise(void)
{
    const double lam[5] = {2.385, 0.731, 1.618, 0.0917, 4.2}, c[5] = {0.3, -1.2, 0.77, 4.1, 0.0},
                 sd[5] = {0.9, 1.7, 0.0, 0.35, 2.2}, x0[5] = {-0.41, 2.2, 1.3, 0.05, 0.9};
    od_problem *p = NULL;
    CU_ASSERT_EQUAL_FATAL(od_problem_quadratic_diag(5, lam, c, sd, &p), OD_OK);
    od_sde_observable obs[3];
    CU_ASSERT_EQUAL(od_sde_observable_parse("norm2", p, &obs[0]), OD_OK);
    CU_ASSERT_EQUAL(od_sde_observable_parse("loss", p, &obs[1]), OD_OK);
    CU_ASSERT_EQUAL(od_sde_observable_parse("coord:3", p, &obs[2]), OD_OK);
    const uint64_t times[] = {0, 3, 17, 40};
    const od_sde_optimizer *opts[] = {od_sde_sgd, od_sde_rmsprop, od_sde_adam, od_sde_adamw};
    for (int i = 0; i < 4; i++)
        for (int v = 0; v < 3; v++) {
            od_sde_hp hp = od_sde_hp_default();
            hp.lr = 0.0371;
            hp.beta1 = 0.83;
            hp.beta2 = 0.97;
            hp.eps = 0.013;
            hp.eps_inside = v == 1;
            hp.bias_correction = v != 2;
            od_sde_dynamics dy = {.problem = p, .opt = opts[i], .hp = hp, .batch = v == 2 ? 3 : 1,
                                  .steps = 40, .kind = OD_SDE_DYN_DISCRETE, .scheme = OD_SDE_EM,
                                  .x0 = x0, .obs = obs, .n_obs = 3, .times = times, .n_times = 4,
                                  .seed = SEED};
            same_bytes(dy, 70, opts[i]->name);
            if (i == 3) continue;   /* no AdamW SDE */
            hp.lr = 0.11;           /* the adaptive SDEs' clock is eta^2: a longer horizon */
            dy.hp = hp;
            dy.kind = OD_SDE_DYN_SDE;
            dy.substeps = v == 2 ? 3 : 1;
            same_bytes(dy, 70, opts[i]->name);
        }
    od_problem_free(p);
}

/* A finite-data problem with noise_sample hidden: the models fall back to the per-sample factor. */
static od_problem_type hidden_type;

static od_problem *hide_noise_sample(const od_problem *inner)
{
    hidden_type = *inner->type;
    hidden_type.name = "hidden-noise-sample";
    hidden_type.noise_sample = NULL;
    hidden_type.free_data = NULL;   /* the data stays the inner problem's */
    od_problem *p = od_problem_alloc(&hidden_type, inner->dim, inner->n, inner->data);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    p->noise = inner->noise;
    return p;
}

/* The SGD SDE's noise over h = 1 with eta = B = 1 is the fallback draw itself,
 * (M - 1)^{-1/2} sum_i (g_i - gbar) xi_i over M per-sample gradients.  Its second moments must
 * match Sigma1 = noise_cov (finite data, sampling with replacement): each of the d(d+1)/2 entries
 * of the Monte Carlo mean of out out^T within 5 SE of Sigma1 (SE from the spread of the products,
 * N = 40000 draws).  With M = 5 the biased factor M^{-1/2} would be off by 20%, about 15 SE. */
static void test_noise_fallback(void)
{
    static const od_problem_entry *const *const cats[] = {od_core_problems, NULL};
    od_problem *inner = NULL;
    CU_ASSERT_EQUAL_FATAL(od_problem_from_spec(cats, "logreg:n=40,d=3", 7, &inner), OD_OK);
    od_problem *p = hide_noise_sample(inner);
    const size_t d = 3, N = 40000;
    const double x[3] = {0.37, -1.1, 0.58};
    double cov[9];
    CU_ASSERT_EQUAL_FATAL(od_problem_noise_cov(p, x, cov), OD_OK);
    od_sde_hp hp = od_sde_hp_default();
    hp.lr = 1.0;
    od_sde_model_opts mo = {.batch = 1, .sample_m = 5};
    od_sde_model *m = NULL;
    CU_ASSERT_EQUAL_FATAL(od_sde_model_alloc(od_sde_sgd, &hp, p, &mo, &m), OD_OK);
    CU_ASSERT_EQUAL(od_sde_model_exact_noise(m), 0);
    const od_sde_system *sys = od_sde_model_system(m);
    CU_ASSERT_EQUAL(sys->flags, 0u);   /* logistic regression declares no structure */
    double sum[9] = {0}, sum2[9] = {0}, out[3];
    od_stream s;
    od_stream_init(&s, SEED, 5);
    for (size_t i = 0; i < N; i++) {
        od_stream_seek(&s, (uint32_t)i, 0);
        CU_ASSERT_EQUAL_FATAL(sys->noise(0.0, x, 1.0, &s, out, sys->params), OD_OK);
        for (size_t k = 0; k < d; k++)
            for (size_t l = 0; l < d; l++) {
                sum[k * d + l] += out[k] * out[l];
                sum2[k * d + l] += out[k] * out[k] * out[l] * out[l];
            }
    }
    double zmax = 0;
    for (size_t k = 0; k < d; k++)
        for (size_t l = k; l < d; l++) {
            const double mean = sum[k * d + l] / (double)N;
            const double var = (sum2[k * d + l] / (double)N - mean * mean) * (double)N / (double)(N - 1);
            zmax = fmax(zmax, fabs(mean - cov[k * d + l]) / sqrt(var / (double)N));
        }
    if (zmax > 5) fprintf(stderr, "\n  per-sample noise fallback: max |z| = %g", zmax);
    CU_ASSERT_TRUE(zmax <= 5);
    /* sample_m = 1 cannot estimate a covariance */
    od_sde_model *bad = NULL;
    mo.sample_m = 1;
    CU_ASSERT_EQUAL(od_sde_model_alloc(od_sde_sgd, &hp, p, &mo, &bad), OD_ERANGE);
    od_sde_model_free(m);
    od_problem_free(p);
    od_problem_free(inner);
}

/* The SAM SDE in d = 2 (expectations estimated, eigendecomposition per step) draws its scratch from
 * the model's pool: same bytes on 1 and 2 threads, and on a team larger than the pool. */
static void test_sam_pool_threads(void)
{
    const double lam[2] = {1.3, 0.4}, sd[2] = {0.8, 1.1}, x0[2] = {0.5, -0.7};
    od_problem *p = NULL;
    CU_ASSERT_EQUAL_FATAL(od_problem_quadratic_diag(2, lam, NULL, sd, &p), OD_OK);
    od_sde_observable obs;
    CU_ASSERT_EQUAL(od_sde_observable_parse("norm2", p, &obs), OD_OK);
    const uint64_t times[] = {5, 20};
    od_sde_hp hp = od_sde_hp_default();
    hp.lr = 0.05;
    hp.rho = 0.07;
    od_sde_dynamics dy = {.problem = p, .opt = od_sde_sam, .hp = hp, .batch = 2, .steps = 20,
                          .kind = OD_SDE_DYN_SDE, .scheme = OD_SDE_EM, .x0 = x0, .obs = &obs,
                          .n_obs = 1, .times = times, .n_times = 2, .seed = SEED, .sample_m = 8};
    const int th = od_threads();
    od_ensemble_result r[2];
    for (int k = 0; k < 2; k++) {
        od_set_threads(k + 1);
        CU_ASSERT_EQUAL_FATAL(od_sde_dynamics_run(&dy, 40, &r[k], NULL), OD_OK);
    }
    od_set_threads(th);
    CU_ASSERT_EQUAL(memcmp(r[0].mean, r[1].mean, 3 * sizeof(double)), 0);
    CU_ASSERT_EQUAL(memcmp(r[0].se, r[1].se, 3 * sizeof(double)), 0);
    CU_ASSERT_TRUE(isfinite(r[0].mean[2]) && r[0].mean[2] > 0);
    od_ensemble_result_free(&r[0]);
    od_ensemble_result_free(&r[1]);
    od_problem_free(p);
}

void od_test_suite_sde_fast(void)
{
    static const od_test_case cases[] = {
        {"fused ensemble loops reproduce the generic path bit for bit", test_fused_bitwise},
        {"per-sample noise fallback against noise_cov (Monte Carlo, 5 SE)", test_noise_fallback},
        {"SAM SDE workspace pool: same bytes on 1 and 2 threads", test_sam_pool_threads},
        {NULL, NULL}};
    od_test_add("sde fused loops and workspaces", cases);
}
