/* optdyn scaling — scaling-law fits with uncertainty (prefix od_scaling_).
 *
 *   csv.c         CSV files with named columns (quotes, comments, blank lines, missing values)
 *   objective.c   the Chinchilla objective: Huber loss on log residuals of the log-sum-exp law,
 *                 its analytic gradient, and the Huber-likelihood of Besiroglu et al. (2024)
 *   chinchilla.c  data, the drop-the-K-highest-losses rule, the BFGS fit from Hoffmann's grid of
 *                 4500 starts, and the maximum-likelihood variant with a free scale
 *   law.c         published laws, predictions and the compute-optimal allocation
 *   bootstrap.c   bootstrap over rows: standard errors, percentile intervals, the chi-square and
 *                 likelihood-ratio comparisons with a published parameter set
 *   powerlaw.c    power law with offset, log-linear multivariate power law (with standard errors)
 *   lrbatch.c     learning rate vs batch size: McCandlish and Surge forms, their fits, and the
 *                 one-step optimal learning rate of SGD and of sign updates on a quadratic model
 *
 * Conventions (theory sheet scaling.md):
 *   L(N, D) = E + A N^-alpha + B D^-beta,  N parameters, D tokens, C = 6 N D FLOP,
 *   theta = (a, b, e, alpha, beta) with A = e^a, B = e^b, E = e^e (the "log space" of the fit),
 *   log L(N, D) = LSE(a - alpha log N, b - beta log D, e).
 * "log" is the natural logarithm; losses are in nats per token.  Every function returns an od_status
 * and names the culprit in od_last_error(); nothing here aborts or prints.
 */
#ifndef OPTDYN_SCALING_H
#define OPTDYN_SCALING_H

#include <stddef.h>
#include <stdint.h>

#include "core/optdyn_core.h"

/* ---- data files ---------------------------------------------------------------------------------
 * The folder holding the public scaling data (svg_extracted_data.csv, steplaw/, gadre2024/):
 * $OPTDYN_SCALING_DATA when set and not empty, otherwise the folder chosen at build time
 * (../shared/data/scaling next to the source tree, CMake cache variable OD_SCALING_DATA_DIR).
 * The folder may not exist; callers check. */
const char *od_scaling_data_dir(void);

/* ---- CSV ----------------------------------------------------------------------------------------
 * RFC 4180 with the usual conveniences: the first record is the header (column names may contain
 * spaces and commas when quoted); fields are separated by ','; a quoted field may contain commas,
 * newlines and doubled quotes ""; spaces around unquoted fields are trimmed; CRLF line ends and a
 * UTF-8 byte-order mark are accepted; lines that are empty or start with '#' (outside a quoted
 * field) are skipped.  Every record must have as many fields as the header. */
typedef struct od_scaling_csv od_scaling_csv;

/* Reads and parses a file.  Errors: OD_EIO (cannot read, naming the file and the reason), OD_EPARSE
 * (naming the file and line: ragged record, unterminated quote, text after a closing quote, empty
 * or duplicate column name, no header).  *out is NULL on error. */
int od_scaling_csv_read(const char *path, od_scaling_csv **out);
/* Parses text[0..len) the same way; name is used in messages. */
int od_scaling_csv_parse(const char *text, size_t len, const char *name, od_scaling_csv **out);
void od_scaling_csv_free(od_scaling_csv *c);

size_t od_scaling_csv_rows(const od_scaling_csv *c);                  /* data records */
size_t od_scaling_csv_cols(const od_scaling_csv *c);
const char *od_scaling_csv_name(const od_scaling_csv *c);             /* file name for messages */
const char *od_scaling_csv_colname(const od_scaling_csv *c, size_t j);
/* Column index of name (exact match), or -1. */
int od_scaling_csv_find(const od_scaling_csv *c, const char *name);
/* Field text of data record `row` (0-based) in column j, unquoted. */
const char *od_scaling_csv_cell(const od_scaling_csv *c, size_t row, size_t j);
/* File line on which data record `row` starts (1-based), for messages. */
long od_scaling_csv_line(const od_scaling_csv *c, size_t row);

/* Converts column `name` to numbers: out[0..rows).  An empty cell or one of NA, NaN, nan, null
 * (case-insensitive) is a missing value and gives NaN; anything else must be a finite number.
 * Errors: OD_ENOTFOUND (no such column; the message lists the columns), OD_EPARSE naming the file,
 * line, row and column and quoting the cell. */
int od_scaling_csv_column(const od_scaling_csv *c, const char *name, double *out);

/* ---- the Chinchilla law --------------------------------------------------------------------- */
enum { OD_SCALING_NPAR = 5 };   /* theta = (a, b, e, alpha, beta) */

typedef struct {
    double E, A, B, alpha, beta;
} od_scaling_law;

/* Published laws (theory sheet §2.8, checked against Besiroglu et al. 2024 and their notebook):
 *   od_scaling_hoffmann2022          the rounded values of the paper's text (E 1.69, A 406.4,
 *                                    B 410.7, alpha 0.34, beta 0.28);
 *   od_scaling_hoffmann2022_tex      the unrounded values of its TeX source, as used by Epoch;
 *   od_scaling_besiroglu2024         Epoch's Huber-likelihood estimate (log form 6.17795598,
 *                                    7.64273236, 0.59711196, 0.34781303, 0.36585412);
 *   od_scaling_besiroglu2024_table   the values of their Table 1 (E 1.8172, A 482.01, B 2085.43,
 *                                    alpha 0.3478, beta 0.3658) ...
 *   od_scaling_besiroglu2024_se      ... and its bootstrap standard errors (0.03, 124.58, 1293.23,
 *                                    0.02, 0.02). */
extern const od_scaling_law od_scaling_hoffmann2022;
extern const od_scaling_law od_scaling_hoffmann2022_tex;
extern const od_scaling_law od_scaling_besiroglu2024;
extern const od_scaling_law od_scaling_besiroglu2024_table;
extern const od_scaling_law od_scaling_besiroglu2024_se;

/* theta = (log A, log B, log E, alpha, beta) and back.  The law must have A, B, E > 0. */
void od_scaling_law_theta(const od_scaling_law *law, double theta[OD_SCALING_NPAR]);
od_scaling_law od_scaling_law_from_theta(const double theta[OD_SCALING_NPAR]);

/* L(N, D) = E + A N^-alpha + B D^-beta, evaluated as exp(LSE(...)) (no overflow for any N, D > 0). */
double od_scaling_law_eval(const od_scaling_law *law, double N, double D);

/* Compute-optimal allocation (theory sheet §3): minimising L(N, D) subject to C = 6 N D gives
 *   G = (alpha A / (beta B))^(1/(alpha+beta)),  N_opt = G (C/6)^a,  D_opt = (C/6)^b / G,
 *   a = beta/(alpha+beta),  b = alpha/(alpha+beta),  tokens_per_param = D_opt/N_opt,
 *   L_opt = L(N_opt, D_opt).
 * Requires alpha, beta, A, B > 0 and C > 0 (OD_ERANGE otherwise, naming the value). */
typedef struct {
    double C, N_opt, D_opt, tokens_per_param, L_opt, a, b, G;
} od_scaling_alloc;
int od_scaling_allocate(const od_scaling_law *law, double C, od_scaling_alloc *out);

/* ---- data for the fit ------------------------------------------------------------------------
 * Rows (N_i, D_i, L_i) with their logarithms, and optional non-negative weights (row multiplicities
 * of a bootstrap resample; NULL means 1 for every row).  Read-only after construction. */
typedef struct {
    size_t n;
    double *N, *D, *L;          /* owned copies */
    double *lN, *lD, *lL;       /* their logs */
    double *w;                  /* weights, or NULL */
    double lN_min, lN_max, lD_min, lD_max;
} od_scaling_data;

/* Copies n >= 1 rows (w may be NULL).  OD_ERANGE naming the row (0-based) and the quantity when a
 * value is not finite and positive (weights: finite and >= 0).  Free with od_scaling_data_free. */
int od_scaling_data_alloc(size_t n, const double *N, const double *D, const double *L,
                          const double *w, od_scaling_data **out);
void od_scaling_data_free(od_scaling_data *d);

/* D = C / (6 N) for each row (the tokens of a run given its FLOP and parameters). */
void od_scaling_tokens_from_flops(size_t n, const double *N, const double *C, double *D);

/* The dropped-rows rule of Besiroglu et al.: keep row i when L_i < the K-th largest loss (strict),
 * so K >= 1 drops the K highest losses, and more when there are ties at the cut; K = 0 keeps all.
 * keep[i] is set to 0/1 and *kept to their number.  K >= n keeps none.  OD_ENOMEM only. */
int od_scaling_drop_top(size_t n, const double *L, size_t K, unsigned char *keep, size_t *kept);

/* ---- the objective ------------------------------------------------------------------------------
 * Huber_delta(r) = r^2/2 for |r| <= delta, delta (|r| - delta/2) otherwise; psi_delta = its
 * derivative, clamp(r, -delta, delta). */
double od_scaling_huber(double r, double delta);
double od_scaling_huber_psi(double r, double delta);

/* J(theta) = sum_i w_i Huber_delta(log L_i - log Lhat_i(theta)) (the sum, as in Hoffmann et al.;
 * Epoch shows the mean makes L-BFGS stop early) and, when grad != NULL, its analytic gradient
 * (theory sheet §2.3):  dJ/da = -sum psi_i pi_i1,  dJ/dalpha = +sum psi_i pi_i1 log N_i, ...
 * with pi the log-sum-exp softmax weights.  Returns J, or +inf where J overflows.
 * The fast path evaluates exp directly when no exponent can overflow and accumulates the log terms
 * of the linear part as products of at most 16 factors (one log per 16 rows); other theta fall back
 * to the reference. */
double od_scaling_objective(const od_scaling_data *d, const double theta[OD_SCALING_NPAR],
                            double delta, double grad[OD_SCALING_NPAR]);
/* The same quantity row by row with the max-shifted LSE and one log per row: the reference the
 * fast path must reproduce (tests) and the path for extreme theta. */
double od_scaling_objective_ref(const od_scaling_data *d, const double theta[OD_SCALING_NPAR],
                                double delta, double grad[OD_SCALING_NPAR]);

/* Huber-likelihood of Besiroglu et al. (theory sheet §2.6): log residuals i.i.d. with density
 * exp(-Huber_delta(r/sigma)) / (sigma Z_delta), sigma = e^s,
 *   Z_delta = sqrt(2 pi) (1 - 2 Phi_c(delta)) + 2 exp(-delta^2/2) / delta,
 *   NLL(theta, s) = sum_i w_i [Huber_delta(r_i/sigma) + log Z_delta + s].
 * x = (theta, s); grad (6 values) may be NULL. */
double od_scaling_huber_log_z(double delta);
double od_scaling_nll(const od_scaling_data *d, const double x[OD_SCALING_NPAR + 1], double delta,
                      double grad[OD_SCALING_NPAR + 1]);
/* min over s of NLL(theta, s) (a convex problem in s) and the minimiser *s_out. */
int od_scaling_nll_profile(const od_scaling_data *d, const double theta[OD_SCALING_NPAR],
                           double delta, double *nll, double *s_out);

/* ---- the fit ------------------------------------------------------------------------------------
 * Every start runs GSL's vector_bfgs2 (Fletcher line search) with the analytic gradient.  J is C^1
 * but not C^2 (the Huber kink; with delta = 1e-3 most residuals sit on the linear part), so the
 * runs end by a stalled objective or by GSL's "no progress", and convergence is judged by the
 * objective, not by the gradient.  Two stopping rules:
 *   screen: relative decrease below screen_ftol on two successive iterations (ranks the basins);
 *   tight:  relative decrease below ftol on `calm` successive iterations, GSL_ENOPROG, a gradient
 *           below gtol, or max_iter; then BFGS is restarted from that point (a fresh curvature
 *           estimate) up to `restarts` times while a round still lowers the objective by more
 *           than ftol relative.
 * All starts are screened in parallel (od_map; the result does not depend on the thread count),
 * the `polish` lowest distinct end points are continued with the tight rule, and the lowest
 * objective is kept.  polish = 0 runs every start with the tight rule (the exhaustive path the
 * fast one must reproduce; bench_scaling checks that they agree). */
typedef struct {
    double delta;           /* Huber threshold on log residuals; 1e-3 */
    const double *starts;   /* n_starts x 5 theta values, or NULL for Hoffmann's grid */
    size_t n_starts;
    size_t polish;          /* 16; 0 = every start to the tight rule */
    double screen_ftol;     /* 1e-3 */
    double ftol;            /* 1e-12 */
    unsigned calm;          /* 5 */
    double gtol;            /* 1e-13 (max |dJ/dtheta|) */
    unsigned max_iter;      /* 5000 iterations in all (screen: max_iter / 10) */
    unsigned restarts;      /* 20: tight runs restart BFGS where it stalled while that helps */
    double step, line_tol;  /* bfgs2 first step 0.1 and line-search tolerance 0.9 */
    int progress;           /* show a progress line for the screen (when stderr is a terminal) */
} od_scaling_fit_params;

od_scaling_fit_params od_scaling_fit_default_params(void);

/* Hoffmann's grid (theory sheet §2.4), 4500 starts in the order alpha, beta, e, a, b (the last
 * varying fastest, as itertools.product in the replication's notebook); writes 4500 x 5 values
 * (a, b, e, alpha, beta) into starts (capacity >= 22500).  Returns 4500. */
size_t od_scaling_hoffmann_grid(double *starts);

typedef struct {
    double theta[OD_SCALING_NPAR];
    double objective;
    od_scaling_law law;
    size_t best_start;      /* index of the start that led to it */
    size_t n_starts;
    size_t n_diverged;      /* screened starts ending at a non-finite objective (discarded) */
    size_t n_polished;
    unsigned long evals;    /* objective evaluations, all runs */
} od_scaling_fit;

/* Fits the law to d.  OD_EINVAL for bad parameters (delta <= 0, fewer rows than 6), OD_ENUMERIC
 * when every start diverged, OD_ENOMEM. */
int od_scaling_fit_chinchilla(const od_scaling_data *d, const od_scaling_fit_params *p,
                              od_scaling_fit *out);

/* One run of the minimiser from theta (overwritten with the end point) under the tight (tight != 0)
 * or the screen rule; *f = objective there, *evals += evaluations.  Returns OD_OK, or OD_ENUMERIC
 * when the objective is not finite at the start or the end. */
int od_scaling_minimize(const od_scaling_data *d, const od_scaling_fit_params *p, int tight,
                        double theta[OD_SCALING_NPAR], double *f, unsigned long *evals);

/* Maximum-likelihood fit under the Huber likelihood (theory sheet §2.6) from theta0 (for example
 * a grid fit), with s at its profile optimum: iteratively reweighted least squares with the Huber
 * weights min(1, delta sigma/|r_i|), a weighted Gauss-Newton step and a backtracking line search on
 * the likelihood profiled over s, until a step gains less than ftol relative on `calm` successive
 * iterations or cannot descend (mle.c explains why not BFGS).  Caveat of the theory sheet: the
 * fitted sigma is tiny, every scaled residual is on the linear part, and the MLE is effectively a
 * least-absolute-deviation fit in log space. */
typedef struct {
    double theta[OD_SCALING_NPAR];
    double s, sigma, nll;
    od_scaling_law law;
    unsigned iterations;
} od_scaling_mle;
int od_scaling_fit_mle(const od_scaling_data *d, const double theta0[OD_SCALING_NPAR],
                       const od_scaling_fit_params *p, od_scaling_mle *out);

/* ---- bootstrap ----------------------------------------------------------------------------------
 * R resamples of the rows with replacement (resample k draws n indices with od_stream_below from
 * stream (seed, stream_id) at (path = k, step = 0)); each is fitted from the full-data estimate with
 * the tight rule, in parallel with od_map, so the output is the same for any thread count.
 * Quantities: the natural parameters and the allocation exponents, in the order below. */
enum {
    OD_SCALING_Q_E, OD_SCALING_Q_A, OD_SCALING_Q_B, OD_SCALING_Q_ALPHA, OD_SCALING_Q_BETA,
    OD_SCALING_Q_a, OD_SCALING_Q_b, OD_SCALING_NQ
};
/* Names of the quantities: "E", "A", "B", "alpha", "beta", "a", "b". */
extern const char *const od_scaling_q_names[OD_SCALING_NQ];

typedef struct {
    size_t R;               /* resamples */
    uint64_t seed;
    uint32_t stream_id;     /* 0x5ca1 by default */
    double level;           /* central interval probability, 0.95 */
    int progress;
} od_scaling_boot_params;

od_scaling_boot_params od_scaling_boot_default_params(void);

typedef struct {
    size_t R, n_ok;                              /* resamples, and those whose fit is finite */
    double level;
    double *theta;                               /* R x 5 log-space fits (NaN rows: failed) */
    double *q;                                   /* R x OD_SCALING_NQ quantities */
    double se[OD_SCALING_NQ];                    /* bootstrap standard deviations */
    double lo[OD_SCALING_NQ], hi[OD_SCALING_NQ]; /* percentile interval at `level` */
    double cov[OD_SCALING_NPAR * OD_SCALING_NPAR];/* covariance of theta (log space) */
} od_scaling_boot;

/* Runs the bootstrap around `fit` (its theta starts every resample).  out is overwritten; free
 * with od_scaling_boot_free.  OD_EINVAL for R < 2 or a level outside (0, 1), OD_ENUMERIC when
 * fewer than 2 resamples give a finite fit. */
int od_scaling_bootstrap(const od_scaling_data *d, const double theta[OD_SCALING_NPAR],
                         const od_scaling_fit_params *fp, const od_scaling_boot_params *bp,
                         od_scaling_boot *out);
void od_scaling_boot_free(od_scaling_boot *b);

/* Quantities of one theta, in the order above. */
void od_scaling_quantities(const double theta[OD_SCALING_NPAR], double q[OD_SCALING_NQ]);

/* Bootstrap standard deviation and percentile interval (at b->level) of any scalar function of
 * theta over the finite resamples, e.g. a prediction L(N, D) for a held-out row or the tokens per
 * parameter at a compute budget.  Any output pointer may be NULL.  OD_ENUMERIC with fewer than 2
 * finite values. */
typedef double od_scaling_theta_fn(const double theta[OD_SCALING_NPAR], void *arg);
int od_scaling_boot_interval(const od_scaling_boot *b, od_scaling_theta_fn *fn, void *arg,
                             double *se, double *lo, double *hi);

/* Chi-square comparison with a published law (theory sheet §2.7): with d = theta_hat - theta_pub
 * in log space, chi2 = d^T cov^-1 d on 5 degrees of freedom, *p = P(chi2_5 > chi2).  OD_ENUMERIC
 * when the covariance is not positive definite. */
int od_scaling_chi2_test(const od_scaling_boot *b, const double theta_hat[OD_SCALING_NPAR],
                         const double theta_pub[OD_SCALING_NPAR], double *chi2, double *p);

/* Likelihood-ratio comparison under the Huber likelihood: LR = 2 (min_s NLL(theta_pub, s) -
 * mle->nll), *p = P(chi2_5 > LR). */
int od_scaling_lr_test(const od_scaling_data *d, const od_scaling_mle *mle,
                       const double theta_pub[OD_SCALING_NPAR], double delta, double *lr,
                       double *p);

/* ---- other forms --------------------------------------------------------------------------------
 * Power law y = c + k x^-p.  Without offset (c = 0): ordinary least squares of log y on log x
 * (GSL gsl_fit_linear).  With offset: nonlinear least squares on log y in (log c, log k, p)
 * (GSL multifit_nlinear, trust region with Levenberg-Marquardt steps) from starts built by OLS on
 * log(y - c0) for c0 = {0.25, 0.5, 0.75, 0.9, 0.99} min y; the lowest residual sum of squares is
 * kept.  Standard errors from s^2 (J^T J)^-1, s^2 = rss/(n - params), by the delta method for c
 * and k.  rss is on log y.  Needs n > params, x, y > 0. */
typedef struct {
    int offset;
    double c, k, p;
    double se_c, se_k, se_p;
    double rss;
    size_t n;
} od_scaling_powerlaw;
int od_scaling_fit_powerlaw(size_t n, const double *x, const double *y, int offset,
                            od_scaling_powerlaw *out);

/* Log-linear law log y = c0 + sum_j c_j log x_j (natural logs) by OLS (GSL multifit_linear), with
 * standard errors s^2 (X^T X)^-1 and the residual sum of squares.  X is n x k row-major, k >= 1,
 * n > k + 1, all values > 0.  coef and se are allocated (k values); free with
 * od_scaling_loglinear_free. */
typedef struct {
    size_t n, k;
    double intercept, se_intercept;
    double *coef, *se;
    double rss;
} od_scaling_loglinear;
int od_scaling_fit_loglinear(size_t n, size_t k, const double *X, const double *y,
                             od_scaling_loglinear *out);
void od_scaling_loglinear_free(od_scaling_loglinear *f);

/* Learning rate vs batch size (theory sheet §6):
 *   sgd   (McCandlish et al. 2018):  eps(B) = eps_max / (1 + B_noise/B)
 *   surge (Li et al. 2024):          eps(B) = eps_max / (1/2 (sqrt(B_noise/B) + sqrt(B/B_noise)))
 * fitted by least squares on log eps in (log eps_max, log B_noise) (GSL multifit_nlinear) from
 * B_noise starts spread over the data's range, keeping the lowest residual sum of squares. */
typedef enum { OD_SCALING_LR_SGD, OD_SCALING_LR_SURGE } od_scaling_lr_form;
extern const char *const od_scaling_lr_form_names[2];   /* "sgd", "surge" */

typedef struct {
    od_scaling_lr_form form;
    double eps_max, B_noise;
    double se_log_eps_max, se_log_B_noise;  /* standard errors of the logs */
    double rss;                             /* on log eps */
    int identified;   /* 0 when the fitted B_noise lies more than 100x outside the batch range */
} od_scaling_lr_fit;

double od_scaling_lr_eval(od_scaling_lr_form form, double eps_max, double B_noise, double B);
/* Needs n >= 3 points with B, eps > 0. */
int od_scaling_fit_lr_batch(size_t n, const double *B, const double *eps, od_scaling_lr_form form,
                            od_scaling_lr_fit *out);

/* ---- the optimal learning rate of one step on a quadratic model (theory sheet §6) --------------
 * On f(x) = f(x0) + g^T u + 1/2 u^T H u (u = x - x0; H symmetric d x d, row-major) one step
 * x0 - eps V with a random direction V has the expected loss f(x0) - eps g^T E[V] + eps^2/2 E[V^T H V],
 * so the optimal step is eps_opt = g^T E[V] / E[V^T H V], with no approximation. */

/* SGD: V = the mean of B per-example gradients with mean g and covariance Sigma (d x d, symmetric),
 * so E[V^T H V] = g^T H g + tr(H Sigma)/B and, after McCandlish, Kaplan, Amodei et al.,
 * "An Empirical Model of Large-Batch Training" (arXiv 1812.06162, 2018, §2):
 *   eps_opt(B) = eps_max / (1 + B_noise/B),   eps_max = |g|^2 / g^T H g,
 *   B_noise = tr(H Sigma) / g^T H g,  B_simple = tr(Sigma) / |g|^2,  dL_max = |g|^4 / (2 g^T H g)
 * (dL_max: the loss decrease of the optimal full-batch step).  OD_ERANGE when g = 0 or
 * g^T H g <= 0 (no finite optimal step), naming the value. */
typedef struct {
    double eps_max, B_noise, B_simple, dL_max;
} od_scaling_noise_scale;
int od_scaling_mccandlish(size_t d, const double *g, const double *H, const double *Sigma,
                          od_scaling_noise_scale *out);

/* Sign updates (sign-SGD; also the first step of Adam with bias correction and eps = 0, for any
 * beta1, beta2):
 * V = sign(g~) with g~ ~ N(g, diag(sigma^2)/B), the model of Li et al., "Surge Phenomenon in
 * Optimal Learning Rate and Batch Size Scaling" (NeurIPS 2024, §3).  With independent coordinates
 * m_i = E V_i = erf(g_i sqrt(B/2) / sigma_i), E V_i V_j = m_i m_j (i != j) and V_i^2 = 1, so exactly
 *   eps_opt(B) = sum_i g_i m_i / (tr H + m^T H m - sum_i H_ii m_i^2).
 * B > 0 real; B = INFINITY gives the noiseless limit sum_i |g_i| / (s^T H s), s = sign(g).
 * sigma_i > 0; the denominator is E[V^T H V] > 0 for positive definite H. */
double od_scaling_sign_lr_opt(size_t d, const double *g, const double *H, const double *sigma,
                              double B);

/* The Surge form as the small-batch limit of od_scaling_sign_lr_opt (theory sheet §6.2 [D]; Li et
 * al.'s regime B << pi sigma_i^2 / (2 g_i^2)): with erf(x) ~ 2x / sqrt(pi),
 *   eps_opt(B) ~ c sqrt(B) / (a + b B),   c = sqrt(2/pi) sum_i g_i^2 / sigma_i,   a = tr H,
 *   b = (2/pi) sum_{i != j} H_ij g_i g_j / (sigma_i sigma_j),
 * which is eps_max / (1/2 (sqrt(B_noise/B) + sqrt(B/B_noise))) with B_noise = a/b and
 * eps_max = c / (2 sqrt(a b)).  OD_ERANGE when a <= 0 or b <= 0 (no turning point: the
 * small-batch optimum grows like sqrt(B) throughout, as with a diagonal H). */
int od_scaling_surge_params(size_t d, const double *g, const double *H, const double *sigma,
                            double *eps_max, double *B_noise);

#endif /* OPTDYN_SCALING_H */
