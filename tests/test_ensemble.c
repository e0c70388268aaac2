/* optdyn tests — the ensemble runner (statistics, thread invariance, divergence, errors), the
 * parallel map and recording times. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "core/optdyn_core.h"
#include "od_test.h"

void od_test_suite_ensemble(void);

#define SEED 0x9E3779B97F4A7C15ULL

/* A random walk with drift: obs at time t (t = 0..n_times-1) is the value after 7t steps and its
 * square. */
static int walk_path(uint32_t path, double *obs, void *ws, void *params)
{
    (void)ws;
    const size_t *n_times = params;
    od_stream s;
    od_stream_init(&s, SEED, 5);
    double x = 0.25;
    for (size_t t = 0; t < *n_times; t++) {
        obs[2 * t] = x;
        obs[2 * t + 1] = x * x;
        for (int k = 0; k < 7; k++) {
            od_stream_seek(&s, path, (uint32_t)(7 * t + (size_t)k));
            x += 0.01 + 0.3 * od_stream_normal(&s);
        }
    }
    return 0;
}

static void run_walk(int threads, size_t paths, od_ensemble_result *res, const double *q, size_t nq)
{
    static size_t n_times = 9;
    od_set_threads(threads);
    od_ensemble_params ep = {.n_paths = paths, .n_times = n_times, .n_obs = 2, .quantiles = q,
                             .n_quantiles = nq};
    CU_ASSERT_EQUAL_FATAL(od_ensemble_run(&ep, walk_path, &n_times, res), OD_OK);
}

static void test_statistics_match_direct(void)
{
    const size_t P = 1000;   /* not a multiple of the chunk size */
    const double q[3] = {0.1, 0.5, 0.9};
    od_ensemble_result res;
    run_walk(2, P, &res, q, 3);
    size_t nt = 9;
    double *col = malloc(P * sizeof *col), *obs = malloc(nt * 2 * sizeof *obs);
    for (size_t t = 1; t < nt; t++) {
        for (uint32_t p = 0; p < P; p++) {
            walk_path(p, obs, NULL, &nt);
            col[p] = obs[2 * t];
        }
        double m = gsl_stats_mean(col, 1, P), sd = gsl_stats_sd_m(col, 1, P, m);
        /* two summation orders of the same numbers: agreement to a few ulps of the magnitudes */
        OD_ASSERT_CLOSE(res.mean[2 * t], m, 64 * DBL_EPSILON * (fabs(m) + sd));
        OD_ASSERT_REL(res.sd[2 * t], sd, 1e-12);
        OD_ASSERT_REL(res.se[2 * t], sd / sqrt((double)P), 1e-12);
        CU_ASSERT_EQUAL(res.n_ok[2 * t], P);
        gsl_sort(col, 1, P);
        for (int k = 0; k < 3; k++)
            CU_ASSERT_EQUAL(res.quantile[(2 * t) * 3 + k], gsl_stats_quantile_from_sorted_data(col, 1, P, q[k]));
        /* and the walk's law: mean 0.25 + 0.07 t, variance 7 t 0.09; within 5 SE */
        OD_ASSERT_CLOSE(res.mean[2 * t], 0.25 + 0.07 * (double)t, 5 * res.se[2 * t]);
    }
    free(col);
    free(obs);
    od_ensemble_result_free(&res);
}

static void test_thread_invariance(void)
{
    od_ensemble_result a, b, c;
    const double q[2] = {0.25, 0.75};
    run_walk(1, 777, &a, q, 2);
    run_walk(2, 777, &b, q, 2);
    run_walk(3, 777, &c, q, 2);   /* more threads than cores: still the same bytes */
    size_t M = a.n_times * a.n_obs;
    CU_ASSERT_EQUAL(memcmp(a.mean, b.mean, M * sizeof(double)), 0);
    CU_ASSERT_EQUAL(memcmp(a.se, b.se, M * sizeof(double)), 0);
    CU_ASSERT_EQUAL(memcmp(a.quantile, b.quantile, 2 * M * sizeof(double)), 0);
    CU_ASSERT_EQUAL(memcmp(a.mean, c.mean, M * sizeof(double)), 0);
    CU_ASSERT_EQUAL(memcmp(a.sd, c.sd, M * sizeof(double)), 0);
    od_ensemble_result_free(&a);
    od_ensemble_result_free(&b);
    od_ensemble_result_free(&c);
    od_set_threads(2);
}

/* Paths with index divisible by 10 blow up from time 3 on. */
static int diverging_path(uint32_t path, double *obs, void *ws, void *params)
{
    (void)ws;
    (void)params;
    for (size_t t = 0; t < 5; t++) obs[t] = (path % 10 == 0 && t >= 3) ? INFINITY : (double)path;
    return 0;
}

static void test_divergence_counted(void)
{
    od_ensemble_params ep = {.n_paths = 100, .n_times = 5, .n_obs = 1};
    od_ensemble_result res;
    CU_ASSERT_EQUAL_FATAL(od_ensemble_run(&ep, diverging_path, NULL, &res), OD_OK);
    CU_ASSERT_EQUAL(res.n_ok[2], 100);
    CU_ASSERT_EQUAL(res.n_ok[3], 90);
    CU_ASSERT_EQUAL(od_ensemble_first_bad(&res, 0), 3);
    CU_ASSERT_EQUAL(res.mean[2], 49.5);
    od_ensemble_result_free(&res);
}

static int failing_path(uint32_t path, double *obs, void *ws, void *params)
{
    (void)ws;
    (void)params;
    obs[0] = path;
    if (path == 333) return -OD_ENUMERIC;
    if (path == 700) return -OD_EIO;
    return 0;
}

static void test_failure_is_lowest_path(void)
{
    for (int threads = 1; threads <= 2; threads++) {
        od_set_threads(threads);
        od_ensemble_params ep = {.n_paths = 1000, .n_times = 1, .n_obs = 1};
        od_ensemble_result res;
        CU_ASSERT_EQUAL(od_ensemble_run(&ep, failing_path, NULL, &res), -OD_ENUMERIC);
        CU_ASSERT_PTR_NULL(res.mean);
    }
    od_ensemble_params bad = {.n_paths = 0, .n_times = 1, .n_obs = 1};
    od_ensemble_result res;
    CU_ASSERT_EQUAL(od_ensemble_run(&bad, failing_path, NULL, &res), OD_EINVAL);
    double q = 1.5;
    od_ensemble_params badq = {.n_paths = 3, .n_times = 1, .n_obs = 1, .quantiles = &q, .n_quantiles = 1};
    CU_ASSERT_EQUAL(od_ensemble_run(&badq, failing_path, NULL, &res), OD_ERANGE);
}

typedef struct {
    int allocs;
} ws_count;

static void *ws_alloc(void *params)
{
    ws_count *c = params;
#pragma omp atomic
    c->allocs++;
    return malloc(64);
}

static void ws_free(void *ws, void *params)
{
    (void)params;
    free(ws);
}

static int square_item(size_t i, double *out, void *ws, void *params)
{
    (void)params;
    CU_ASSERT_PTR_NOT_NULL(ws);
    out[0] = (double)(i * i);
    out[1] = -(double)i;
    return 0;
}

static void test_map(void)
{
    double out[2 * 50];
    ws_count c = {0};
    od_set_threads(2);
    CU_ASSERT_EQUAL(od_map(50, 2, out, square_item, ws_alloc, ws_free, &c, NULL), OD_OK);
    for (size_t i = 0; i < 50; i++) {
        CU_ASSERT_EQUAL(out[2 * i], (double)(i * i));
        CU_ASSERT_EQUAL(out[2 * i + 1], -(double)i);
    }
    CU_ASSERT_TRUE(c.allocs >= 1 && c.allocs <= 2);   /* one workspace per thread */
}

static void test_times(void)
{
    uint64_t t[64];
    size_t n = od_times_log(100000, 40, t, 64);
    CU_ASSERT_TRUE(n >= 30 && n <= 40);
    CU_ASSERT_EQUAL(t[0], 0);
    CU_ASSERT_EQUAL(t[1], 1);
    CU_ASSERT_EQUAL(t[n - 1], 100000);
    for (size_t i = 1; i < n; i++) CU_ASSERT_TRUE(t[i] > t[i - 1]);
    /* log spacing: consecutive ratios near (1e5)^(1/38) once rounding no longer matters */
    double ratio = pow(1e5, 1.0 / 38.0);
    OD_ASSERT_REL((double)t[n - 1] / (double)t[n - 2], ratio, 0.01);
    n = od_times_every(10, 3, t, 64);
    CU_ASSERT_EQUAL(n, 5);
    CU_ASSERT_EQUAL(t[3], 9);
    CU_ASSERT_EQUAL(t[4], 10);
    CU_ASSERT_EQUAL(od_times_every(10, 0, t, 64), 0);
    CU_ASSERT_EQUAL(od_times_log(10, 1, t, 64), 0);
}

void od_test_suite_ensemble(void)
{
    static const od_test_case cases[] = {
        {"statistics equal direct computation", test_statistics_match_direct},
        {"same bytes for 1, 2 and 3 threads", test_thread_invariance},
        {"non-finite observations are counted", test_divergence_counted},
        {"the lowest failing path's status, any thread count", test_failure_is_lowest_path},
        {"parallel map", test_map},
        {"recording times", test_times},
        {NULL, NULL}};
    od_test_add("ensemble", cases);
}
