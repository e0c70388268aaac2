/* optdyn core — the ensemble runner, parallel maps, recording times and the progress display.
 *
 * An ensemble runs P independent paths of a user function and records, at n_times chosen times,
 * n_obs observables per path; it returns per (time, observable) the mean, the standard error of the
 * mean and, when asked, quantiles.  Paths are grouped in fixed chunks of OD_ENSEMBLE_CHUNK paths;
 * each chunk is reduced in path order and the chunk partials are merged in chunk order (Chan et al.
 * pairwise update of mean and sum of squared deviations).  The work split is therefore independent
 * of the number of threads, and the output bytes are identical for any thread count.  The same
 * decomposition lets a later MPI layer hand chunks to ranks without changing callers.
 *
 * Non-finite observations (a diverged path) are not averaged: the result counts the finite values
 * per (time, observable) in n_ok, and statistics are over those.  A caller must report divergence
 * when n_ok < n_paths rather than plot the mean of the survivors as if nothing happened.
 */
#ifndef OD_ENSEMBLE_H
#define OD_ENSEMBLE_H

#include <stddef.h>
#include <stdint.h>

#define OD_ENSEMBLE_CHUNK 32

/* Runs one path: writes obs[t * n_obs + k] for each recording time t and observable k (the array
 * is pre-filled with NaN).  ws is this thread's workspace (NULL when no ws_alloc was given).
 * Returns 0 on success, < 0 to abort the whole ensemble with that status. */
typedef int od_path_fn(uint32_t path, double *obs, void *ws, void *params);

typedef void *od_ws_alloc_fn(void *params);
typedef void od_ws_free_fn(void *ws, void *params);

typedef struct {
    size_t n_paths;
    size_t n_times;
    size_t n_obs;
    const double *quantiles;  /* n_quantiles probabilities in [0, 1], or NULL */
    size_t n_quantiles;
    od_ws_alloc_fn *ws_alloc; /* optional per-thread workspace */
    od_ws_free_fn *ws_free;
    const char *label;        /* progress label, or NULL for no progress display */
} od_ensemble_params;

typedef struct {
    size_t n_paths, n_times, n_obs, n_quantiles;
    double *mean;      /* [t * n_obs + k] */
    double *se;        /* standard error of the mean: sd / sqrt(n_ok), sd with n_ok - 1 */
    double *sd;        /* sample standard deviation */
    double *quantile;  /* [(t * n_obs + k) * n_quantiles + q], NULL unless asked */
    size_t *n_ok;      /* finite observations */
} od_ensemble_result;

/* Runs the ensemble on the current OpenMP thread count.  res is overwritten; free with
 * od_ensemble_result_free.  Returns OD_OK, OD_ENOMEM, OD_EINVAL, or the first negative status a
 * path returned (the lowest-numbered failing path's, whatever the thread count). */
int od_ensemble_run(const od_ensemble_params *ep, od_path_fn *fn, void *params,
                    od_ensemble_result *res);
void od_ensemble_result_free(od_ensemble_result *res);

/* Step of the first recording time at which observable k has a non-finite value in some path,
 * as an index into the times, or -1 if all are finite. */
long od_ensemble_first_bad(const od_ensemble_result *res, size_t k);

/* Item function of a parallel map: writes item_size doubles for item i into out. */
typedef int od_item_fn(size_t i, double *out, void *ws, void *params);

/* Computes n_items independent items in parallel (dynamic schedule): out[i * item_size ...] is
 * written by item i alone, so the result does not depend on the thread count.  For sweeps over
 * parameter points.  Returns OD_OK or the status of the lowest-numbered failing item.
 * Nesting: an od_map or od_ensemble_run called from inside an item runs on that item's thread only
 * (libgomp leaves nested parallelism off unless OMP_MAX_ACTIVE_LEVELS says otherwise), so the threads
 * are spent on the outer loop; the results are
 * the same either way. */
int od_map(size_t n_items, size_t item_size, double *out, od_item_fn *fn, od_ws_alloc_fn *ws_alloc,
           od_ws_free_fn *ws_free, void *params, const char *label);

/* Threads: od_set_threads(n) sets the OpenMP thread count (n >= 1); od_threads() returns it. */
void od_set_threads(int n);
int od_threads(void);

/* Recording times.  od_times_log: 0 and about n-1 log-spaced integers in [1, T] (rounded, unique,
 * increasing, always ending at T); od_times_every: 0, k, 2k, ..., and T.  Writes at most cap values
 * and returns the count (0 on bad arguments). */
size_t od_times_log(uint64_t T, size_t n, uint64_t *out, size_t cap);
size_t od_times_every(uint64_t T, uint64_t k, uint64_t *out, size_t cap);

/* ---- progress on stderr --------------------------------------------------------------------------
 * Shown only when stderr is a terminal and progress is enabled (the CLI disables it for --quiet).
 * od_progress_add is thread-safe and cheap; the line (label, percent, rate, ETA) is redrawn at most
 * every 0.25 s. */
typedef struct od_progress od_progress;
void od_progress_enable(int on);
od_progress *od_progress_start(const char *label, uint64_t total);  /* NULL when disabled */
void od_progress_add(od_progress *p, uint64_t n);                     /* NULL-tolerant */
void od_progress_finish(od_progress *p);                              /* NULL-tolerant, frees */

#endif /* OD_ENSEMBLE_H */
