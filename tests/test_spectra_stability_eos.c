/* optdyn tests — gradient descent at the edge of stability through the core problem interface
 * (the same bytes as the optimizer zoo's SGD with B = 0, which it replaced), the record callback,
 * batch means, the edge-of-stability statistics on hand-made series, and the thread invariance of
 * the stability sweeps (od_map in coherence-map and stability-2d: the same table bytes for 1 and 2
 * threads). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "od_test.h"
#include "sde/optdyn_sde.h"
#include "test_spectra.h"

/* The record callback's view: the steps and a copy of every iterate it was shown. */
typedef struct {
    size_t d, n, cap, stop_at;
    size_t t[16];
    double *x;
} rec_log;

static int log_record(size_t t, const double *x, const double *values, void *ctx)
{
    rec_log *L = ctx;
    CU_ASSERT_TRUE(isfinite(values[0]));
    if (L->n < L->cap) {
        L->t[L->n] = t;
        od_copy(L->d, x, L->x + L->n * L->d);
    }
    L->n++;
    return L->n == L->stop_at ? OD_EMAXITER : OD_OK;
}

/* od_spectra_eos_run against the zoo's SGD with B = 0 and od_problem_loss (the former
 * implementation): the loss at every step and the last iterate agree byte for byte, and the record
 * callback sees the replayed iterate at each record step. */
static void test_gd_core_interface(void)
{
    od_problem *p = NULL;
    CU_ASSERT_EQUAL_FATAL(od_spectra_chebyshev_net(20, 3, 12, 5, &p), OD_OK);
    const size_t D = p->dim, steps = 61, every = 7;
    const double lr = 0.213;
    double *x = od_vec_alloc(D), *y = od_vec_alloc(D), *X = od_vec_alloc(16 * D);
    rec_log L = {.d = D, .cap = 16, .x = X};
    od_spectra_eos_params ep = od_spectra_eos_default_params();
    ep.steps = steps;
    ep.every = every;
    ep.record = log_record;
    ep.record_ctx = &L;
    od_spectra_eos_result er;
    od_copy(D, p->x0, x);
    CU_ASSERT_EQUAL_FATAL(od_spectra_eos_run(p, x, lr, &ep, &er), OD_OK);
    CU_ASSERT_EQUAL(er.steps_done, steps);
    CU_ASSERT_EQUAL(er.n_sharp, steps / every + 2);   /* 0, 7, ..., 56 and the end 61 */
    CU_ASSERT_EQUAL(L.n, er.n_sharp);
    od_sde_hp hp = od_sde_hp_default();
    hp.lr = lr;
    od_sde_opt *opt = NULL;
    CU_ASSERT_EQUAL_FATAL(od_sde_opt_alloc(od_sde_sgd, &hp, D, &opt), OD_OK);
    od_copy(D, p->x0, y);
    size_t k = 0;
    for (size_t t = 0; t <= steps; t++) {
        double f;
        CU_ASSERT_EQUAL(od_problem_loss(p, y, &f), OD_OK);
        CU_ASSERT_EQUAL(memcmp(&f, &er.loss[t], sizeof f), 0);
        if (k < L.n && L.t[k] == t) {
            CU_ASSERT_EQUAL(er.sharp_step[k], t);
            CU_ASSERT_EQUAL(memcmp(y, X + k * D, D * sizeof *y), 0);
            k++;
        }
        if (t < steps) CU_ASSERT_EQUAL(od_sde_opt_step(opt, p, 0, NULL, y), OD_OK);
    }
    CU_ASSERT_EQUAL(k, L.n);
    CU_ASSERT_EQUAL(memcmp(x, y, D * sizeof *x), 0);
    od_sde_opt_free(opt);
    od_spectra_eos_result_free(&er);
    /* a callback that returns a status stops the run at that record and the status comes back */
    L.n = 0;
    L.stop_at = 3;
    od_copy(D, p->x0, x);
    CU_ASSERT_EQUAL(od_spectra_eos_run(p, x, lr, &ep, &er), OD_EMAXITER);
    CU_ASSERT_EQUAL(L.n, 3);
    CU_ASSERT_PTR_NULL(er.loss);
    /* bad arguments */
    od_test_errors_begin();
    CU_ASSERT_EQUAL(od_spectra_eos_run(p, x, -0.1, NULL, &er), OD_EINVAL);
    CU_ASSERT_EQUAL(od_spectra_eos_run(p, x, INFINITY, NULL, &er), OD_EINVAL);
    ep.every = 0;
    CU_ASSERT_EQUAL(od_spectra_eos_run(p, x, lr, &ep, &er), OD_EINVAL);
    CU_ASSERT_EQUAL(od_spectra_eos_run(NULL, x, lr, NULL, &er), OD_EINVAL);
    CU_ASSERT_EQUAL(od_test_errors_end(), 4);
    od_free(x);
    od_free(y);
    od_free(X);
    od_problem_free(p);
}

static void test_batch_means(void)
{
    /* x_i = 2.3 i + 0.7, n = 30: b = 5, a = 6 batches, none dropped; batch means 2.3(5j + 2) + 0.7
     * are evenly spaced by 5·2.3, so their sd is 11.5 sqrt(a(a + 1)/12) and SE = sd/sqrt(a) */
    double x[40], m, se;
    size_t b;
    for (int i = 0; i < 40; i++) x[i] = 2.3 * i + 0.7;
    CU_ASSERT_EQUAL(od_spectra_batch_means(x, 30, &m, &se, &b), OD_OK);
    CU_ASSERT_EQUAL(b, 5);
    OD_ASSERT_REL(m, 2.3 * 14.5 + 0.7, 8 * DBL_EPSILON);
    OD_ASSERT_REL(se, 11.5 * sqrt(6.0 * 7 / 12) / sqrt(6.0), 32 * DBL_EPSILON);
    /* n = 10: b = 3, a = 3, the earliest value is dropped */
    x[0] = 1e9;
    CU_ASSERT_EQUAL(od_spectra_batch_means(x, 10, &m, &se, NULL), OD_OK);
    OD_ASSERT_REL(m, 2.3 * 5 + 0.7, 8 * DBL_EPSILON);
    /* i.i.d. normals: SE ≈ 1/sqrt(n'); with a = 200 batches the SE estimate has a relative sd of
     * 1/sqrt(2·199) = 5 %, so within 20 % (4 sd); the mean within 4 SE of 0 */
    const size_t n = 40000;
    double *z = od_vec_alloc(n);
    od_stream s;
    od_stream_init(&s, 2024, 5);
    od_stream_normals(&s, z, n);
    CU_ASSERT_EQUAL(od_spectra_batch_means(z, n, &m, &se, &b), OD_OK);
    CU_ASSERT_EQUAL(b, 200);
    CU_ASSERT_TRUE(fabs(se * sqrt((double)n) - 1) <= 0.2);
    CU_ASSERT_TRUE(fabs(m) <= 4 * se);
    od_free(z);
    od_test_errors_begin();
    CU_ASSERT_EQUAL(od_spectra_batch_means(x, 3, &m, &se, &b), OD_EINVAL);
    CU_ASSERT_TRUE(isnan(m) && isnan(se));
    CU_ASSERT_EQUAL(od_test_errors_end(), 1);
}

/* A hand-made run at η = 0.5 (edge 4), records every step: onset, crossings, the time average of
 * λη/2 (equal to batch means of the post-onset ratios), loss increases before and after the onset and
 * the window means of ln L. */
static void test_eos_analyze(void)
{
    enum { T = 60 };
    double loss[T + 1], sharp[T + 1], q[T + 1];
    size_t steps[T + 1];
    for (int t = 0; t <= T; t++) {
        steps[t] = (size_t)t;
        /* rises 0.5 → 1 up to t = 10, then alternates 1.1, 0.9, 1.2, 0.95, ... (a crossing every record) */
        q[t] = t < 10 ? 0.5 + 0.05 * t : (t % 2 == 0 ? 1.1 + 0.001 * t : 0.9 + 0.0005 * t);
        sharp[t] = 4 * q[t];
        /* decreasing before t = 10, then a zigzag with a decreasing trend: increases at odd t >= 11 */
        loss[t] = t <= 10 ? exp(-0.1 * t) : exp(-1 - 0.02 * t + (t % 2 == 0 ? 0.3 : 0));
    }
    od_spectra_eos_result r = {.steps_done = T, .diverged_at = -1, .loss = loss, .n_sharp = T + 1, .sharp_step = steps,
                               .sharp = sharp, .k = 1};
    od_spectra_eos_stats s;
    CU_ASSERT_EQUAL_FATAL(od_spectra_eos_analyze(&r, 0.5, &s), OD_OK);
    CU_ASSERT_EQUAL(s.onset, 10);   /* q = 1.1 at t = 10 is the first >= 1 (q(9) = 0.95) */
    CU_ASSERT_EQUAL(s.n_post, T + 1 - 10);
    CU_ASSERT_EQUAL(s.crossings, T - 10);
    double m, se;
    od_spectra_batch_means(q + 10, T + 1 - 10, &m, &se, NULL);
    CU_ASSERT_EQUAL(memcmp(&m, &s.ratio_mean, sizeof m), 0);
    CU_ASSERT_EQUAL(memcmp(&se, &s.ratio_se, sizeof se), 0);
    OD_ASSERT_REL(s.ratio_max, 1.1 + 0.06, 1e-15);
    OD_ASSERT_REL(s.ratio_min, 0.9 + 0.0005 * 11, 1e-15);
    CU_ASSERT_EQUAL(s.increases_pre, 0);
    CU_ASSERT_EQUAL(s.increases_post, 25);   /* t = 11, 13, ..., 59: L(t + 1) carries the +0.3 */
    /* windows of (61 − 10)/5 = 10 steps: ln L over t = 10..19 and 51..60 */
    CU_ASSERT_EQUAL(s.window, 10);
    double ll[10];
    for (int i = 0; i < 10; i++) ll[i] = log(loss[10 + i]);
    od_spectra_batch_means(ll, 10, &m, &se, NULL);
    OD_ASSERT_REL(s.logloss_first, m, 1e-15);
    OD_ASSERT_REL(s.logloss_first_se, se, 1e-15);
    for (int i = 0; i < 10; i++) ll[i] = log(loss[51 + i]);
    od_spectra_batch_means(ll, 10, &m, &se, NULL);
    OD_ASSERT_REL(s.logloss_last, m, 1e-15);
    /* never reaching the edge: no onset, NaN statistics, every increase counted before it */
    CU_ASSERT_EQUAL(od_spectra_eos_analyze(&r, 0.25, &s), OD_OK);
    CU_ASSERT_EQUAL(s.onset, -1);
    CU_ASSERT_TRUE(isnan(s.ratio_mean) && isnan(s.logloss_first));
    CU_ASSERT_EQUAL(s.increases_pre, 25);
    od_test_errors_begin();
    CU_ASSERT_EQUAL(od_spectra_eos_analyze(&r, 0, &s), OD_EINVAL);
    r.n_sharp = 0;
    CU_ASSERT_EQUAL(od_spectra_eos_analyze(&r, 0.5, &s), OD_EINVAL);
    CU_ASSERT_EQUAL(od_test_errors_end(), 2);
}

/* The divergence map of coherence-map (od_map over cells, runs inside) and the ρ(η) curves and
 * Lyapunov sweep of stability-2d (od_map over curves and grid points, ensembles inside). */
static void test_sweeps_thread_invariant(void)
{
    char *cm[] = {"n=40", "sigma_max=20", "sigma_step=3", "batch_max=20", "batch_step=3", "reps=5", "steps=300",
                  "random_sets=10"};
    const char *cm_files[] = {"map.tsv", "boundaries.tsv", "dexter_condition.tsv", NULL};
    od_test_exp_threads("coherence-map", cm, sizeof cm / sizeof cm[0], cm_files);
    char *s2[] = {"grid=20", "mc_paths=500", "lyap_steps=400", "lyap_paths=40", "lyap_grid=6"};
    const char *s2_files[] = {"rho_curves.tsv", "lyapunov.tsv", "thresholds.tsv", "mc_vs_exact.tsv", NULL};
    od_test_exp_threads("stability-2d", s2, sizeof s2 / sizeof s2[0], s2_files);
}

void od_test_suite_spectra_stability_eos(void)
{
    static const od_test_case cases[] = {
        {"GD through od_problem_grad + od_axpy = the zoo's SGD with B = 0, byte for byte; records", test_gd_core_interface},
        {"batch means: a linear series exactly, the dropped head, i.i.d. normals", test_batch_means},
        {"edge-of-stability statistics on a hand-made run", test_eos_analyze},
        {"stability sweeps through od_map: the same tables for 1 and 2 threads", test_sweeps_thread_invariant},
        {NULL, NULL}};
    od_test_add("spectra edge of stability and sweeps", cases);
}
