/* optdyn tests — linreg: Monte Carlo against the exact engine (4 SE at every recorded time, short
 * runs; the long ones are in `optdyn check`), byte-identical results for 1 and 2 threads, and
 * divergence bookkeeping. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "linreg/optdyn_linreg.h"
#include "od_test.h"

void od_test_suite_linreg_mc(void);

enum { D = 9, NT = 6 };
static const uint64_t times[NT] = {0, 1, 4, 13, 31, 70};

static void model(double *lambda, double *omega, double kappa, od_linreg_model *m)
{
    od_linreg_spectrum_powerlaw(D, 1.3, 1.6, lambda);
    for (int k = 0; k < D; k++) omega[k] = 0.9 * cos(0.7 * k + 0.2);
    *m = (od_linreg_model){D, lambda, omega, 0.083, kappa};
}

/* max |MC - exact| / SE over the recorded times t > 0 (t = 0 has no spread). */
static double max_z(const char *name, const od_linreg_model *m, const od_linreg_algo *a,
                    const od_linreg_features *law, size_t paths, uint64_t seed)
{
    /* precondition: well inside mean-square stability, where means are meaningful */
    od_linreg_stability st;
    CU_ASSERT_EQUAL(od_linreg_stability_compute(m, a, &st), OD_OK);
    if (!(st.stable && st.kernel_norm < 0.7)) fprintf(stderr, "\n  %s: ||K|| = %g\n", name, st.kernel_norm);
    CU_ASSERT_TRUE(st.stable && st.kernel_norm < 0.7);
    double ex[NT];
    CU_ASSERT_EQUAL(od_linreg_exact_run(m, a, times, NT, ex, NULL, NULL, NULL), OD_OK);
    od_linreg_mc_params p = {.n_paths = paths, .times = times, .n_times = NT, .features = law, .seed = seed};
    od_ensemble_result r;
    CU_ASSERT_EQUAL_FATAL(od_linreg_mc_run(m, a, &p, &r), OD_OK);
    OD_ASSERT_REL(r.mean[0], ex[0], 1e-14);   /* t = 0: deterministic */
    double z = 0;
    for (int i = 1; i < NT; i++) {
        CU_ASSERT_EQUAL(r.n_ok[i], paths);
        if (r.se[i] == 0) {   /* a deterministic output (an average of w_0 alone) */
            OD_ASSERT_REL(r.mean[i], ex[i], 1e-14);
            continue;
        }
        z = fmax(z, fabs(r.mean[i] - ex[i]) / r.se[i]);
    }
    od_ensemble_result_free(&r);
    return z;
}

typedef struct {
    const char *name;
    od_linreg_algo a;
    const od_linreg_model *m;
    const od_linreg_features *law;
} mc_case;

static void test_mc_vs_exact(void)
{
    double lambda[D], omega[D];
    od_linreg_model g, rad, uni;
    model(lambda, omega, 3.0, &g);
    rad = uni = g;
    rad.kappa = 1.0;
    uni.kappa = 1.8;
    mc_case cases[12];
    int n = 0;
    cases[n++] = (mc_case){"sgd B=1 gaussian", od_linreg_algo_sgd(0.2, 1), &g, &od_linreg_gaussian};
    cases[n++] = (mc_case){"sgd B=4 rademacher", od_linreg_algo_sgd(0.9, 4), &rad, &od_linreg_rademacher};
    cases[n++] = (mc_case){"sgd B=2 uniform", od_linreg_algo_sgd(0.45, 2), &uni, &od_linreg_uniform};
    cases[n++] = (mc_case){"heavy ball", od_linreg_algo_hb(0.12, 0.6, 2), &g, &od_linreg_gaussian};
    cases[n++] = (mc_case){"asgd", od_linreg_algo_asgd(0.8, 0.15, 0.25, 0.12, 1), &g, &od_linreg_gaussian};
    cases[n] = (mc_case){"ema", od_linreg_algo_sgd(0.2, 1), &g, &od_linreg_gaussian};
    cases[n].a.output = OD_LINREG_OUT_EMA, cases[n++].a.ema = 0.8;
    cases[n] = (mc_case){"uniform average", od_linreg_algo_sgd(0.2, 1), &rad, &od_linreg_rademacher};
    cases[n++].a.output = OD_LINREG_OUT_AVG;
    cases[n] = (mc_case){"tail average, heavy ball", od_linreg_algo_hb(0.08, 0.5, 1), &g, &od_linreg_gaussian};
    cases[n].a.output = OD_LINREG_OUT_TAIL, cases[n++].a.tail_start = 10;
    cases[n] = (mc_case){"step decay", od_linreg_algo_sgd(0.3, 1), &uni, &od_linreg_uniform};
    od_linreg_schedule_parse("stepdecay:start=5", times[NT - 1], &cases[n++].a.schedule);
    cases[n] = (mc_case){"wsd 1-sqrt, asgd ema", od_linreg_algo_asgd(0.7, 0.2, 0.3, 0.2, 3), &g, &od_linreg_gaussian};
    cases[n].a.output = OD_LINREG_OUT_EMA, cases[n].a.ema = 0.5;
    od_linreg_schedule_parse("wsd:cool=0.5,shape=1-sqrt", times[NT - 1], &cases[n++].a.schedule);
    for (int i = 0; i < n; i++) {
        double z = max_z(cases[i].name, cases[i].m, &cases[i].a, cases[i].law, 4000, 11 + (uint64_t)i);
        if (!(z <= 4)) fprintf(stderr, "\n  %s: max |z| = %.2f\n", cases[i].name, z);
        CU_ASSERT_TRUE(z <= 4);   /* 4 SE: last-iterate risk is heavy-tailed, never tighter */
    }
}

static void test_threads(void)
{
    double lambda[D], omega[D];
    od_linreg_model m;
    model(lambda, omega, 3.0, &m);
    od_linreg_algo a = od_linreg_algo_hb(0.2, 0.6, 3);
    od_linreg_mc_params p = {.n_paths = 300, .times = times, .n_times = NT, .features = &od_linreg_gaussian, .seed = 5};
    od_ensemble_result r[2];
    for (int t = 0; t < 2; t++) {
        od_set_threads(t + 1);
        CU_ASSERT_EQUAL_FATAL(od_linreg_mc_run(&m, &a, &p, &r[t]), OD_OK);
    }
    CU_ASSERT_EQUAL(memcmp(r[0].mean, r[1].mean, NT * sizeof(double)), 0);
    CU_ASSERT_EQUAL(memcmp(r[0].se, r[1].se, NT * sizeof(double)), 0);
    od_ensemble_result_free(&r[0]);
    od_ensemble_result_free(&r[1]);
    od_set_threads(2);
}

static void test_mc_errors_and_divergence(void)
{
    double lambda[D], omega[D];
    od_linreg_model m;
    model(lambda, omega, 3.0, &m);
    od_linreg_algo a = od_linreg_algo_sgd(0.3, 1);
    od_ensemble_result r;
    od_linreg_mc_params p = {.n_paths = 100, .times = times, .n_times = NT, .features = &od_linreg_rademacher, .seed = 1};
    CU_ASSERT_EQUAL(od_linreg_mc_run(&m, &a, &p, &r), OD_EINVAL);   /* kurtosis 1 vs model 3 */
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "kurtosis"));
    uint64_t bad[2] = {3, 2};
    p = (od_linreg_mc_params){.n_paths = 100, .times = bad, .n_times = 2, .features = &od_linreg_gaussian, .seed = 1};
    CU_ASSERT_EQUAL(od_linreg_mc_run(&m, &a, &p, &r), OD_EINVAL);
    /* far above the threshold every path blows up: NaN from some time on, n_ok < paths */
    a.lr = 5;
    uint64_t far[2] = {1, 4000};
    p = (od_linreg_mc_params){.n_paths = 64, .times = far, .n_times = 2, .features = &od_linreg_gaussian, .seed = 1};
    CU_ASSERT_EQUAL_FATAL(od_linreg_mc_run(&m, &a, &p, &r), OD_OK);
    CU_ASSERT_EQUAL(od_ensemble_first_bad(&r, 0), 1);
    CU_ASSERT_EQUAL(r.n_ok[1], 0);
    od_ensemble_result_free(&r);
}

void od_test_suite_linreg_mc(void)
{
    static const od_test_case cases[] = {
        {"Monte Carlo within 4 SE of exact (10 algorithms and laws)", test_mc_vs_exact},
        {"Monte Carlo: same bytes for 1 and 2 threads", test_threads},
        {"Monte Carlo: bad input, divergence bookkeeping", test_mc_errors_and_divergence},
        {NULL, NULL}};
    od_test_add("linreg-mc", cases);
}
