/* optdyn experiments — tables and figures of scaling-law fits, shared by `optdyn fit`
 * (cli/cmd_fit.c) and the experiments chinchilla-refit and synthetic-recovery (prefix
 * od_exp_scaling_). */
#ifndef OD_EXP_SCALING_COMMON_H
#define OD_EXP_SCALING_COMMON_H

#include <stddef.h>

#include "experiments/optdyn_experiments.h"
#include "scaling/optdyn_scaling.h"

/* Numeric columns of a CSV file: v[j * n + i] is column j of kept row i.  Rows with a missing
 * value (empty, NA, NaN, null) in any of the columns are left out and counted; every other value
 * must be a positive number. */
typedef struct {
    size_t n, k, n_missing;
    double *v;
    long *line;          /* file line of each kept row */
} od_exp_scaling_cols;

/* Reads the k named columns.  Errors name the file, line, row and column: a missing column, a cell
 * that is not a number, a value that is not positive.  Free with od_exp_scaling_cols_free. */
int od_exp_scaling_read_cols(const char *path, size_t k, const char *const *names,
                             od_exp_scaling_cols *out);
void od_exp_scaling_cols_free(od_exp_scaling_cols *c);

/* The rows of an (N, D, loss) data set: views into cols. */
typedef struct {
    od_exp_scaling_cols cols;
    size_t n, n_missing;
    double *N, *D, *L;   /* L is NULL without a loss column */
    long *line;
} od_exp_scaling_rows;

/* Reads columns ncol, dcol (or, when dcol is NULL, the compute column ccol, giving D = C/(6N)) and
 * lcol (may be NULL) with the checks of od_exp_scaling_read_cols. */
int od_exp_scaling_read_rows(const char *path, const char *ncol, const char *dcol,
                             const char *ccol, const char *lcol, od_exp_scaling_rows *out);
void od_exp_scaling_rows_free(od_exp_scaling_rows *r);

/* The rows with keep[i] != 0 (every row when keep is NULL) as fit data; NULL on failure (the reason
 * in od_last_error()). */
od_scaling_data *od_exp_scaling_kept_data(const od_exp_scaling_rows *rows, const unsigned char *keep);

/* A new table NAME with the double columns cols[0..ncols) and no rows (filled with
 * od_table_append), or NULL on failure. */
od_table *od_exp_scaling_table(const char *name, const char *const *cols, size_t ncols);

/* A quantity of the compute-optimal allocation at compute C as a function of theta (for
 * od_scaling_boot_interval): arg is an od_exp_scaling_alloc_arg; NaN where the allocation is not
 * defined. */
enum { OD_EXP_SCALING_N_OPT, OD_EXP_SCALING_D_OPT, OD_EXP_SCALING_TOKENS };
typedef struct {
    double C;
    int what;   /* OD_EXP_SCALING_N_OPT, _D_OPT or _TOKENS (tokens per parameter) */
} od_exp_scaling_alloc_arg;
double od_exp_scaling_alloc_fn(const double theta[OD_SCALING_NPAR], void *arg);

/* Table NAME of the rows used in the fit (kept != 0: keep[i] != 0, or every row when keep is
 * NULL) or of the rows left out (kept == 0): log10_C, log10_N, N, D, loss, fit (the law's
 * prediction), residual (log loss - log fit), ref_residual (against `ref`, NaN without), line (in
 * the file). */
od_table *od_exp_scaling_data_table(const char *name, const od_exp_scaling_rows *rows,
                                    const unsigned char *keep, int kept, const od_scaling_law *fit,
                                    const od_scaling_law *ref);

/* Table NAME of the fitted loss on an nx by ny grid of (log10 C, log10 N) covering the rows with a
 * margin of a quarter decade: columns log10_C, log10_N, loss. */
od_table *od_exp_scaling_surface_table(const char *name, const od_exp_scaling_rows *rows,
                                       const od_scaling_law *fit, size_t nx, size_t ny);

/* Table NAME of the compute-optimal frontier over the same log10 C range: log10_C, log10_N_opt,
 * tokens_per_param, and the same for `ref` (NaN without). */
od_table *od_exp_scaling_frontier_table(const char *name, const od_exp_scaling_rows *rows,
                                        const od_scaling_law *fit, const od_scaling_law *ref);

/* Histogram table NAME of the finite x[k * stride] (k < n): columns x (bin centre) and density
 * (count / (n_finite * width)), `bins` equal bins between the 0.5 and 99.5 percentiles. */
od_table *od_exp_scaling_histogram(const char *name, const double *x, size_t n, size_t stride,
                                   size_t bins);

/* The figure of a Chinchilla fit: (1) the fitted loss over (log10 C, log10 N), its colour scale
 * ending at the largest observed loss, with the rows (used and dropped) and the compute-optimal
 * frontier (and ref's, dashed); (2) log residuals against
 * compute for the fit (and ref); with bootstrap histograms of alpha and beta, and of
 * a = beta/(alpha+beta), two more panels.  dropped, ref_label and the histograms may be NULL. */
od_figure *od_exp_scaling_chinchilla_figure(const char *name, const char *title,
                                            const od_table *data, const od_table *dropped,
                                            const od_table *surface,
                                            const od_table *frontier, const char *fit_label,
                                            const char *ref_label, const od_table *hist_alpha,
                                            const od_table *hist_beta, const od_table *hist_a);

#endif
