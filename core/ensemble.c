/* optdyn core — ensemble runner, parallel map, recording times (see ensemble.h).
 *
 * Determinism: paths are grouped in chunks of OD_ENSEMBLE_CHUNK consecutive indices; a chunk is
 * reduced by one thread in path order (Welford), and the chunk partials are merged in chunk order
 * (Chan, Golub & LeVeque's pairwise update).  Neither depends on which thread ran which chunk.
 */
#include "core/ensemble.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <omp.h>

#include "core/status.h"

void od_set_threads(int n)
{
    if (n >= 1) omp_set_num_threads(n);
}

int od_threads(void) { return omp_get_max_threads(); }

void od_ensemble_result_free(od_ensemble_result *res)
{
    if (!res) return;
    free(res->mean);
    free(res->se);
    free(res->sd);
    free(res->quantile);
    free(res->n_ok);
    memset(res, 0, sizeof *res);
}

typedef struct {
    double *n, *mean, *m2;   /* per chunk, M values each */
} partials;

/* Merges partial b (count nb, mean mb, m2b) into a. */
static inline void chan_merge(double *na, double *ma, double *m2a, double nb, double mb, double m2b)
{
    if (nb == 0) return;
    if (*na == 0) {
        *na = nb;
        *ma = mb;
        *m2a = m2b;
        return;
    }
    double n = *na + nb, delta = mb - *ma;
    *ma += delta * nb / n;
    *m2a += m2b + delta * delta * (*na) * nb / n;
    *na = n;
}

int od_ensemble_run(const od_ensemble_params *ep, od_path_fn *fn, void *params,
                    od_ensemble_result *res)
{
    memset(res, 0, sizeof *res);
    if (!ep || !fn || ep->n_paths == 0 || ep->n_times == 0 || ep->n_obs == 0)
        OD_ERROR("od_ensemble_run: empty ensemble", OD_EINVAL);
    if (ep->n_paths > UINT32_MAX) OD_ERROR("od_ensemble_run: more than 2^32 paths", OD_EINVAL);
    for (size_t q = 0; q < ep->n_quantiles; q++)
        if (!(ep->quantiles[q] >= 0 && ep->quantiles[q] <= 1))
            OD_ERRORF(OD_ERANGE, "od_ensemble_run: quantile %g outside [0, 1]", ep->quantiles[q]);
    const size_t P = ep->n_paths, M = ep->n_times * ep->n_obs, Q = ep->n_quantiles;
    const size_t n_chunks = (P + OD_ENSEMBLE_CHUNK - 1) / OD_ENSEMBLE_CHUNK;
    partials pt = {calloc(n_chunks * M, sizeof(double)), calloc(n_chunks * M, sizeof(double)),
                   calloc(n_chunks * M, sizeof(double))};
    double *all = Q ? malloc(P * M * sizeof(double)) : NULL;
    res->n_paths = P;
    res->n_times = ep->n_times;
    res->n_obs = ep->n_obs;
    res->n_quantiles = Q;
    res->mean = calloc(M, sizeof(double));
    res->se = calloc(M, sizeof(double));
    res->sd = calloc(M, sizeof(double));
    res->n_ok = calloc(M, sizeof(size_t));
    res->quantile = Q ? calloc(M * Q, sizeof(double)) : NULL;
    if (!pt.n || !pt.mean || !pt.m2 || (Q && (!all || !res->quantile)) || !res->mean || !res->se ||
        !res->sd || !res->n_ok) {
        free(pt.n);
        free(pt.mean);
        free(pt.m2);
        free(all);
        od_ensemble_result_free(res);
        OD_ERRORF(OD_ENOMEM, "od_ensemble_run: out of memory (%zu paths x %zu values)", P, M);
    }

    uint32_t fail_path = UINT32_MAX;
    int fail_status = OD_OK;
    od_progress *prog = od_progress_start(ep->label, P);

#pragma omp parallel
    {
        void *ws = ep->ws_alloc ? ep->ws_alloc(params) : NULL;
        double *obs = malloc(M * sizeof(double));
        int ok = obs && (!ep->ws_alloc || ws);
        if (!ok) {
#pragma omp critical(od_ensemble_fail)
            {
                if (fail_path > 0 || fail_status == OD_OK) {
                    fail_path = 0;
                    fail_status = OD_ENOMEM;
                }
            }
        }
#pragma omp for schedule(dynamic, 1)
        for (size_t c = 0; c < n_chunks; c++) {
            if (!ok) continue;
            double *cn = pt.n + c * M, *cm = pt.mean + c * M, *c2 = pt.m2 + c * M;
            size_t end = (c + 1) * OD_ENSEMBLE_CHUNK < P ? (c + 1) * OD_ENSEMBLE_CHUNK : P;
            for (size_t p = c * OD_ENSEMBLE_CHUNK; p < end; p++) {
                uint32_t fp;
#pragma omp atomic read
                fp = fail_path;
                if (p > fp) break;
                for (size_t j = 0; j < M; j++) obs[j] = NAN;
                int s = fn((uint32_t)p, obs, ws, params);
                if (s < 0) {
#pragma omp critical(od_ensemble_fail)
                    {
                        if ((uint32_t)p < fail_path) {
#pragma omp atomic write
                            fail_path = (uint32_t)p;
                            fail_status = s;
                        }
                    }
                    break;
                }
                for (size_t j = 0; j < M; j++) {
                    double x = obs[j];
                    if (!isfinite(x)) continue;
                    cn[j] += 1;
                    double d = x - cm[j];
                    cm[j] += d / cn[j];
                    c2[j] += d * (x - cm[j]);
                }
                if (all) memcpy(all + p * M, obs, M * sizeof(double));
                od_progress_add(prog, 1);
            }
        }
        free(obs);
        if (ws && ep->ws_free) ep->ws_free(ws, params);
    }
    od_progress_finish(prog);

    int status = fail_status;
    if (status == OD_OK) {
        for (size_t j = 0; j < M; j++) {
            double n = 0, m = 0, m2 = 0;
            for (size_t c = 0; c < n_chunks; c++)
                chan_merge(&n, &m, &m2, pt.n[c * M + j], pt.mean[c * M + j], pt.m2[c * M + j]);
            res->n_ok[j] = (size_t)n;
            res->mean[j] = n > 0 ? m : NAN;
            res->sd[j] = n > 1 ? sqrt(m2 / (n - 1)) : NAN;
            res->se[j] = n > 1 ? res->sd[j] / sqrt(n) : NAN;
        }
        if (Q) {
            double *col = malloc(P * sizeof(double));
            if (!col) status = od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
            for (size_t j = 0; col && j < M; j++) {
                size_t k = 0;
                for (size_t p = 0; p < P; p++)
                    if (isfinite(all[p * M + j])) col[k++] = all[p * M + j];
                gsl_sort(col, 1, k);
                for (size_t q = 0; q < Q; q++)
                    res->quantile[j * Q + q] =
                        k ? gsl_stats_quantile_from_sorted_data(col, 1, k, ep->quantiles[q]) : NAN;
            }
            free(col);
        }
    } else if (status == OD_ENOMEM) {
        od_error(OD_ENOMEM, __FILE__, __LINE__, "od_ensemble_run: out of memory in a worker");
    }
    free(pt.n);
    free(pt.mean);
    free(pt.m2);
    free(all);
    if (status != OD_OK) od_ensemble_result_free(res);
    return status;
}

long od_ensemble_first_bad(const od_ensemble_result *res, size_t k)
{
    for (size_t t = 0; t < res->n_times; t++)
        if (res->n_ok[t * res->n_obs + k] < res->n_paths) return (long)t;
    return -1;
}

int od_map(size_t n_items, size_t item_size, double *out, od_item_fn *fn, od_ws_alloc_fn *ws_alloc,
           od_ws_free_fn *ws_free, void *params, const char *label)
{
    if (!fn || (n_items && !out)) OD_ERROR("od_map: bad arguments", OD_EINVAL);
    size_t fail_item = SIZE_MAX;
    int fail_status = OD_OK;
    od_progress *prog = od_progress_start(label, n_items);
#pragma omp parallel
    {
        void *ws = ws_alloc ? ws_alloc(params) : NULL;
        int ok = !ws_alloc || ws;
        if (!ok) {
#pragma omp critical(od_map_fail)
            {
                fail_item = 0;
                fail_status = OD_ENOMEM;
            }
        }
#pragma omp for schedule(dynamic, 1)
        for (size_t i = 0; i < n_items; i++) {
            size_t fi;
#pragma omp atomic read
            fi = fail_item;
            if (!ok || i > fi) continue;
            int s = fn(i, out + i * item_size, ws, params);
            if (s != 0) {
#pragma omp critical(od_map_fail)
                {
                    if (i < fail_item) {
#pragma omp atomic write
                        fail_item = i;
                        fail_status = s;
                    }
                }
            }
            od_progress_add(prog, 1);
        }
        if (ws && ws_free) ws_free(ws, params);
    }
    od_progress_finish(prog);
    return fail_status;
}

size_t od_times_log(uint64_t T, size_t n, uint64_t *out, size_t cap)
{
    if (n < 2 || cap < 2) return 0;
    size_t k = 0;
    out[k++] = 0;
    if (T == 0) return 1;
    size_t m = n - 1;
    for (size_t i = 0; i < m && k < cap; i++) {
        double e = m > 1 ? (double)i / (double)(m - 1) : 1.0;
        uint64_t v = (uint64_t)llround(pow((double)T, e));
        if (v < 1) v = 1;
        if (v > T || i == m - 1) v = T;
        if (v > out[k - 1]) out[k++] = v;
    }
    if (out[k - 1] != T) {
        if (k < cap) out[k++] = T;
        else out[k - 1] = T;
    }
    return k;
}

size_t od_times_every(uint64_t T, uint64_t every, uint64_t *out, size_t cap)
{
    if (every == 0 || cap == 0) return 0;
    size_t k = 0;
    for (uint64_t t = 0; t <= T && k < cap; t += every) out[k++] = t;
    if (out[k - 1] != T) {
        if (k < cap) out[k++] = T;
        else return 0;
    }
    return k;
}
