/* optdyn experiments — helpers shared by the linreg experiments (not a public interface). */
#ifndef OD_EXP_LINREG_H
#define OD_EXP_LINREG_H

#include "experiments/optdyn_experiments.h"
#include "linreg/optdyn_linreg.h"

/* lambda_k = k^-a and omega_k = k^-e (k = 1..d) in new arrays (od_free both); OD_ENOMEM. */
int od_exp_linreg_powerlaw_model(size_t d, double a, double e, double **lambda, double **omega);

/* About n log-spaced recording steps in [0, T] (od_times_log) in a new array (free()); *nt = count.
 * NULL on allocation failure. */
uint64_t *od_exp_linreg_times(uint64_t T, size_t n, size_t *nt);

/* max_i |mean_i - exact_i| / se_i over the entries with se_i > 0 (deterministic entries, se = 0,
 * must agree to 1e-12 relative or count as +INFINITY). */
double od_exp_linreg_max_z(const od_ensemble_result *r, const double *exact, size_t n);

/* The y-axis label of excess-risk panels. */
#define OD_EXP_LINREG_RISK "excess risk ½ Σ λₖ E(w − w*)ₖ²"

/* Starts panel `index` of f (0: the first panel, which od_figure_alloc made) with its title, axis
 * labels and log scales. */
void od_exp_linreg_panel(od_figure *f, int index, const char *title, const char *xlabel,
                         const char *ylabel, int logx, int logy);

/* Least-squares slope of y on x (gsl_fit_linear, which centres the data); NaN with n < 2. */
double od_exp_linreg_slope(size_t n, const double *x, const double *y);

#endif
