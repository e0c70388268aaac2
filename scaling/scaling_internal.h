/* optdyn scaling — private declarations shared by the module's files (not installed, not public). */
#ifndef OD_SCALING_INTERNAL_H
#define OD_SCALING_INTERNAL_H

#include <stddef.h>

#include "scaling/optdyn_scaling.h"

/* The objective's kernel: returns J = sum w Huber_delta(r) (possibly inf/nan), fills grad (5, may
 * be NULL) and *s_psi = sum w psi_delta(r) r (may be NULL).  Fast path with reference fallback. */
double od_scaling_kernel(const od_scaling_data *d, const double *theta, double delta, double *grad,
                         double *s_psi);

/* Log residuals r_i = log L_i - log Lhat_i(theta) and, when J != NULL, their Jacobian
 * J[5 i + k] = d r_i / d theta_k (max-shifted LSE, one log per row). */
void od_scaling_residuals(const od_scaling_data *d, const double *theta, double *r, double *J);

/* A minimiser workspace (one per thread): GSL vector_bfgs2 for the 5 parameters of the law. */
typedef struct od_scaling_ws od_scaling_ws;
od_scaling_ws *od_scaling_ws_alloc(void);
void od_scaling_ws_free(od_scaling_ws *ws);

/* One run from theta (overwritten) on the Huber objective, under the tight or the screen rule of
 * od_scaling_fit_params. */
int od_scaling_ws_run(od_scaling_ws *ws, const od_scaling_data *d, const od_scaling_fit_params *p,
                      int tight, double *theta, double *f, unsigned long *evals);

/* Parameter checks shared by the fits (OD_EINVAL naming the value). */
int od_scaling_check_fit_params(const od_scaling_data *d, const od_scaling_fit_params *p);

/* od_map workspace adapters for od_scaling_ws. */
void *od_scaling_ws_map_alloc(void *params);
void od_scaling_ws_map_free(void *ws, void *params);

/* Points the arrays of d into one new block for n rows (w too when weighted; free(d->N) frees the
 * block).  OD_ENOMEM. */
int od_scaling_data_arrays(od_scaling_data *d, size_t n, int weighted);

/* OD_ERANGE naming "row i: WHAT = v" unless every v[i] is finite and positive. */
int od_scaling_check_positive(size_t n, const double *v, const char *what);

/* Fills dst (capacity src->n rows, allocated by the caller with the same n) with the rows of src
 * whose count is positive and weight = count: the weighted form of a bootstrap resample. */
void od_scaling_data_weighted(const od_scaling_data *src, const unsigned *count,
                              od_scaling_data *dst);

/* ---- small nonlinear least squares (nls.c), for the power law with offset and the LR forms ---- */
/* Residuals f_i(x) = y_i - model_i(x) and the Jacobian of the model, J_ij = d model_i / d x_j
 * (row-major n x p).  Return 0, or non-zero when x is outside the model's domain. */
typedef int od_scaling_nls_fn(const double *x, double *model, double *jac, void *arg);

typedef struct {
    double x[4];      /* best parameters */
    double se[4];     /* standard errors from s^2 (J^T J)^-1 */
    double rss;
} od_scaling_nls_result;

/* Minimises sum (y_i - model_i)^2 over x (p <= 4 parameters) from each of the n_starts starting
 * points (n_starts x p) with GSL's trust-region solver (Levenberg-Marquardt steps), keeping the
 * lowest residual sum of squares.  Needs n > p.  OD_ENUMERIC when no start converges. */
int od_scaling_nls(size_t n, size_t p, const double *y, od_scaling_nls_fn *fn, void *arg,
                   const double *starts, size_t n_starts, od_scaling_nls_result *out);

#endif
