/* optdyn linreg — exact second-moment risk curves of linear iterations on linear regression, their
 * Monte Carlo overlay, mean-square stability, spectra and initial-error profiles, and published risk
 * bounds (prefix od_linreg_).  Theory sheet: theory/linreg.md (§1–3, §5, §6).
 *
 * Model (§1).  x = sqrt(lambda) (.) z in the eigenbasis of H = E x x^T = diag(lambda), with z_k i.i.d.,
 * E z = 0, E z^2 = 1 and kurtosis kappa = E z^4 (Gaussian 3, Rademacher 1, uniform 9/5);
 * y = <w*, x> + xi with Var xi = sigma2, xi independent of x.  omega = w_0 - w* per eigendirection.
 *
 * Convention.  EXCESS RISK = 1/2 sum_k lambda_k E[(w - w*)_k^2]  (the "1/2" convention:
 * L(w) = 1/2 E(y - <w,x>)^2 = sigma2/2 + excess).  Every risk this module returns is in this
 * convention; papers that use E(y - f)^2 ("MSE units") differ by a factor 2.
 *
 * One description, two engines.  An od_linreg_algo (method, step sizes, batch, output, schedule)
 * is reduced to its linear-iteration form per eigen-mode: a state z_k in R^m (m = 1 for SGD, 2 for
 * heavy ball and ASGD), the gradient-free map Abar, the point where the gradient is evaluated
 * (g^T z_k), where the gradient enters (z' = Abar z - s G, s scaled by the schedule) and the
 * output iterate (c^T z_k).  The exact engine propagates E[z_k z_k^T] through
 *
 *     C_k' = A_k C_k A_k^T + N_k s s^T,    A_k = Abar - lambda_k s g^T,
 *     N_k  = ((kappa - 2) lambda_k^2 U_k + lambda_k (S + sigma2)) / B,
 *     U_k  = g^T C_k g,   S = sum_j lambda_j U_j,
 *
 * which is exact for independent coordinates (§2.3), plus the running cross moments of the output
 * (EMA, uniform or tail average).  The Monte Carlo engine runs the same form on sampled data.  Both
 * cost O(d) per step and per tracked moment.
 */
#ifndef OPTDYN_LINREG_H
#define OPTDYN_LINREG_H

#include <stddef.h>
#include <stdint.h>

#include "core/optdyn_core.h"

/* ================================================================================================
 * Feature laws
 * ============================================================================================== */

/* A law for the standardized coordinates z_k (mean 0, variance 1), with its kurtosis. */
typedef struct od_linreg_features {
    const char *name;       /* "gaussian", "rademacher", "uniform" */
    double kurtosis;        /* kappa = E z^4 */
    /* fills z[0..n) with i.i.d. draws from the stream at its current position */
    void (*fill)(od_stream *s, double *z, size_t n);
} od_linreg_features;

extern const od_linreg_features od_linreg_gaussian;     /* kappa = 3 (od_stream_normals) */
extern const od_linreg_features od_linreg_rademacher;   /* kappa = 1 (od_stream_rademachers) */
extern const od_linreg_features od_linreg_uniform;      /* on [-sqrt 3, sqrt 3], kappa = 9/5 */
/* NULL-terminated list, and lookup by name (NULL when unknown). */
extern const od_linreg_features *const od_linreg_feature_laws[];
const od_linreg_features *od_linreg_features_lookup(const char *name);

/* ================================================================================================
 * Spectra and initial-error profiles (spectrum.c)
 * ============================================================================================== */

/* lambda_k = scale * k^(-a), k = 1..d. */
void od_linreg_spectrum_powerlaw(size_t d, double a, double scale, double *lambda);

/* Marchenko–Pastur from a finite design: eigenvalues (decreasing) of X^T X / n for X an n-by-d matrix
 * of i.i.d. N(0, 1) entries drawn from stream (seed, 0x100 + 0) row by row (row i at path 0, step i),
 * through GSL's symmetric eigensolver.  For n < d, the d - n null eigenvalues come out at rounding
 * level; |lambda| below d * DBL_EPSILON * lambda_max is set to exactly 0.  d <= 4096.
 * Returns OD_OK, OD_EINVAL (sizes), OD_ENOMEM or OD_EGSL. */
int od_linreg_spectrum_mp(size_t n, size_t d, uint64_t seed, double *lambda);

/* Reads one number per line from path ('#' starts a comment; blank lines are skipped) into a new
 * array (free with od_free).  Every value must be finite and, when nonneg != 0, >= 0.  Errors name
 * the file and the line: OD_EIO (cannot read), OD_EPARSE (not a number, or two numbers on a line),
 * OD_ERANGE (negative or non-finite), OD_EINVAL (no values). */
int od_linreg_read_column(const char *path, int nonneg, size_t *n, double **out);

/* Spectrum from a spec string, into a new array (free with od_free):
 *   powerlaw:exp=A,d=D[,scale=S]   lambda_k = S k^-A          (defaults exp=2, d=100, scale=1)
 *   mp:n=N,d=D                     Marchenko–Pastur design (od_linreg_spectrum_mp; seed used)
 *   file:PATH                      one eigenvalue per line (>= 0, at least one > 0)
 * Errors name the spec (and the file and line): OD_ENOTFOUND unknown kind, OD_EPARSE / OD_ERANGE
 * for keys and values, the file errors of od_linreg_read_column. */
int od_linreg_spectrum_from_spec(const char *spec, uint64_t seed, size_t *d, double **lambda);

/* Initial error omega = w_0 - w* per eigendirection from a spec, for a spectrum of size d, into a
 * new array (free with od_free):
 *   const:V                omega_k = V
 *   powerlaw:exp=E[,scale=S]   omega_k = S k^-E            (so lambda_k omega_k^2 = S^2 k^-(a+2E))
 *   file:PATH              one value per line; its length must be d
 * spectrum_name names the spectrum in the size-mismatch error ("... has 50 values, spectrum
 * file:lam.txt has 100"). */
int od_linreg_init_from_spec(const char *spec, size_t d, const char *spectrum_name, double **omega);

/* ================================================================================================
 * Step-size schedules (schedule.c): a multiplier m(t) on every step size of the algorithm
 * ============================================================================================== */

#define OD_LINREG_SCHED_MAXP 16

typedef struct od_linreg_schedule od_linreg_schedule;

typedef struct od_linreg_schedule_type {
    const char *name;
    const char *help;
    const od_param *params;
    size_t n_params;
    double (*mult)(const od_linreg_schedule *s, uint64_t t);
} od_linreg_schedule_type;

struct od_linreg_schedule {
    const od_linreg_schedule_type *type;   /* NULL means constant */
    uint64_t horizon;                        /* N, the number of steps of the run */
    double p[8];                             /* the type's parameters, in table order */
    size_t n_pieces;                         /* piecewise: breakpoints and multipliers */
    double at[OD_LINREG_SCHED_MAXP], val[OD_LINREG_SCHED_MAXP];
};

/* The types.  In every formula t counts steps from 0 and N = horizon.
 *   const                     m = 1
 *   poly:t0=,p=               m = 1 / (1 + t/t0)^p
 *   stepdecay:start=S[,factor=F]   Wu, Zou, Braverman, Gu, Kakade (ICML 2022): m = 1 for t < S, then
 *                             m = F^-l for S + (l-1)K <= t < S + lK, l = 1, 2, ..., with
 *                             K = floor((N - S) / ln(N - S)) (natural log, floor; K >= 1); F = 2.
 *   cosine[:final=f]          m = f + (1 - f) (1 + cos(pi t / N)) / 2
 *   wsd:cool=F,shape=linear|1-sqrt[,warmup=W,final=f]   warmup-stable-decay as in
 *                             epfl/schedules-and-scaling `wsd_schedule` (Hägele et al. 2024):
 *                             N_decay = floor(F N), N_hold = N - N_decay; t < W: t/W + (1 - t/W)/100;
 *                             t < N_hold: 1; t < N: u = (t - N_hold)/N_decay and m = f + (1-f)(1-u)
 *                             (linear) or f + (1-f)(1-sqrt u) (1-sqrt); t >= N: f.
 *   piecewise:at=t1|t2|...,mult=m1|m2|...   m = 1 for t < t1, m_i for t_i <= t < t_{i+1}.
 * Pan, Liu, Wang, Zhang's multi-stage heavy-ball schedule is stepdecay with start=0. */
extern const od_linreg_schedule_type od_linreg_sched_const, od_linreg_sched_poly,
    od_linreg_sched_stepdecay, od_linreg_sched_cosine, od_linreg_sched_wsd,
    od_linreg_sched_piecewise;
extern const od_linreg_schedule_type *const od_linreg_schedule_types[];   /* NULL-terminated */

/* Parses "name[:k=v,...]" for a run of `horizon` steps.  Errors name the spec and key. */
int od_linreg_schedule_parse(const char *spec, uint64_t horizon, od_linreg_schedule *out);

/* The multiplier at step t (1 for a NULL type). */
double od_linreg_schedule_mult(const od_linreg_schedule *s, uint64_t t);

/* Whether the schedule is constant (NULL type or "const"). */
int od_linreg_schedule_is_const(const od_linreg_schedule *s);

/* ================================================================================================
 * Algorithms (algo.c)
 * ============================================================================================== */

typedef enum {
    OD_LINREG_OUT_LAST,   /* w_t */
    OD_LINREG_OUT_AVG,    /* (1/t) sum_{s<t} w_s (w_0 at t = 0) */
    OD_LINREG_OUT_TAIL,   /* (1/(t-S)) sum_{S<=s<t} w_s for t > S; w_t for t <= S */
    OD_LINREG_OUT_EMA     /* Li & Gu: e_0 = w_0, e_{t+1} = a e_t + (1 - a) w_t, so
                             e_N = a^N w_0 + (1 - a) sum_{t<N} a^(N-1-t) w_t */
} od_linreg_output;

/* The linear-iteration form of one step (see the top of this header), at a given step multiplier.
 * Row-major m-by-m Abar; vectors of length m. */
typedef struct {
    unsigned m;
    double Abar[4];
    double g[2];    /* gradient point  g^T z */
    double s[2];    /* gradient injection */
    double c[2];    /* output iterate  c^T z */
} od_linreg_form;

typedef struct od_linreg_algo od_linreg_algo;

typedef struct od_linreg_method {
    const char *name;   /* "sgd", "hb", "asgd" */
    unsigned m;         /* state dimension per mode */
    /* the form at step multiplier `mult` (the schedule's value): step sizes are scaled by mult */
    void (*form)(const od_linreg_algo *a, double mult, od_linreg_form *f);
} od_linreg_method;

/* SGD:        w' = w - lr G(w)                                          (m = 1)
 * heavy ball: w' = w - lr G(w) + mu (w - w_prev), w_{-1} = w_0            (m = 2, z = (w, w_prev))
 * ASGD, Jain et al. (COLT 2018) four-parameter form, v_0 = w_0:          (m = 2, z = (w, v))
 *     u = alpha w + (1 - alpha) v,  w' = u - delta G(u),  v' = beta u + (1 - beta) v - gamma G(u);
 *     delta is `lr`, gamma is `gamma`; the schedule scales both.  The output is w.
 * G is the batch-averaged stochastic gradient (1/B) sum_b x_b (<x_b, w> - y_b). */
extern const od_linreg_method od_linreg_sgd, od_linreg_hb, od_linreg_asgd;

struct od_linreg_algo {
    const od_linreg_method *method;
    double lr;                  /* SGD and heavy-ball step, ASGD's short step delta; > 0 */
    double mu;                  /* heavy ball: momentum in [0, 1) */
    double alpha, beta, gamma;  /* ASGD: alpha, beta in (0, 1], long step gamma > 0 */
    size_t batch;               /* B >= 1 */
    od_linreg_output output;
    double ema;                 /* EMA decay a in [0, 1) */
    uint64_t tail_start;        /* tail average start S */
    od_linreg_schedule schedule;   /* type NULL: constant */
};

/* Constructors by value (constant schedule, last-iterate output); change fields afterwards. */
od_linreg_algo od_linreg_algo_sgd(double lr, size_t batch);
od_linreg_algo od_linreg_algo_hb(double lr, double mu, size_t batch);
od_linreg_algo od_linreg_algo_asgd(double alpha, double beta, double gamma, double delta, size_t batch);

/* Checks ranges (one line naming the field): OD_ERANGE / OD_EINVAL. */
int od_linreg_algo_check(const od_linreg_algo *a);

/* Parses the method-and-output spec of `optdyn risk --algo` into *a, keeping a->lr, a->batch and
 * a->schedule as they are:
 *   sgd | avg | tail:start=S | ema:alpha=A | hb:mu=M | asgd:alpha=,beta=,gamma=[,delta=]
 * (asgd's delta, when given, sets a->lr).  Errors name the spec and key. */
int od_linreg_algo_parse(const char *spec, od_linreg_algo *a);

/* One-line description ("SGD, lr 0.5, B 4, EMA 0.99, schedule stepdecay:start=100"). */
void od_linreg_algo_describe(const od_linreg_algo *a, char *buf, size_t len);

/* ================================================================================================
 * The exact second-moment engine (exact.c)
 * ============================================================================================== */

typedef struct {
    size_t d;
    const double *lambda;   /* eigenvalues of H, >= 0 (borrowed) */
    const double *omega;    /* w_0 - w* per eigendirection (borrowed) */
    double sigma2;          /* label-noise variance >= 0 */
    double kappa;           /* feature kurtosis >= 1 (3 for Gaussian features) */
} od_linreg_model;

/* A moment is declared diverged once a risk is non-finite or above this value. */
#define OD_LINREG_DIVERGED 1e200

typedef struct od_linreg_exact od_linreg_exact;

/* Workspace for the exact recursion of algorithm a on model m (both copied: the caller may free
 * its arrays afterwards), positioned at t = 0 (C = omega omega^T per mode).  NULL on failure
 * (od_last_error says why: a bad model or algorithm, or no memory). */
od_linreg_exact *od_linreg_exact_alloc(const od_linreg_model *m, const od_linreg_algo *a);
void od_linreg_exact_free(od_linreg_exact *w);

/* Back to t = 0. */
void od_linreg_exact_reset(od_linreg_exact *w);

/* One step t -> t + 1: O(d) work for each tracked moment.  Returns OD_OK, or OD_EDIVERGED once the
 * output's or the iterate's excess risk is non-finite or above OD_LINREG_DIVERGED (the reason says
 * at which step); further steps keep returning OD_EDIVERGED without work. */
int od_linreg_exact_step(od_linreg_exact *w);

/* Accessors of the current state. */
uint64_t od_linreg_exact_time(const od_linreg_exact *w);
/* Excess risk of the output, 1/2 sum_k lambda_k E[(out - w*)_k^2]. */
double od_linreg_exact_excess(const od_linreg_exact *w);
/* Excess risk of the last iterate w_t (equal to the output's for OD_LINREG_OUT_LAST). */
double od_linreg_exact_iterate_excess(const od_linreg_exact *w);
/* Per-mode second moments: E[(w_t - w*)_k^2] (the iterate) and E[(out_t - w*)_k^2] (the output),
 * written into out[0..d). */
void od_linreg_exact_iterate_moments(const od_linreg_exact *w, double *out);
void od_linreg_exact_output_moments(const od_linreg_exact *w, double *out);
/* The step at which the recursion diverged, or UINT64_MAX. */
uint64_t od_linreg_exact_diverged_at(const od_linreg_exact *w);

/* Called by the driver at each recording time i (t = times[i]); nonzero stops the run (< 0 is
 * returned as the driver's status). */
typedef int od_linreg_record_fn(const od_linreg_exact *w, size_t i, void *params);

/* Driver: runs to times[n-1] (times strictly increasing) and writes the output's excess risk at
 * each times[i] into excess[i] (NULL allowed when only the callback is wanted).  If the recursion
 * diverges, excess[i] = +INFINITY from the step of divergence on and *diverged_at (if not NULL) is
 * set to that step (UINT64_MAX otherwise); the status is still OD_OK. */
int od_linreg_exact_run(const od_linreg_model *m, const od_linreg_algo *a, const uint64_t *times,
                        size_t n, double *excess, uint64_t *diverged_at, od_linreg_record_fn *cb,
                        void *params);

/* The short form for sweeps (e.g. learning rate against batch size at fixed samples n = T B):
 *
 *     od_linreg_algo a = od_linreg_algo_sgd(eta, B);
 *     uint64_t T = n_samples / B;
 *     od_linreg_excess_at(d, lambda, omega, sigma2, 3.0, &a, 1, &T, &risk);
 *
 * Exact expected excess risk (1/2 convention) of algorithm a at each of times[0..n) (increasing),
 * for spectrum lambda, initial error omega, label noise sigma2 and feature kurtosis kappa.
 * Returns OD_OK; excess[i] = +INFINITY where the recursion diverged (so a sweep keeps going). */
int od_linreg_excess_at(size_t d, const double *lambda, const double *omega, double sigma2,
                        double kappa, const od_linreg_algo *a, size_t n, const uint64_t *times,
                        double *excess);

/* ================================================================================================
 * Mean-square stability at a constant step (stability.c; theory sheet §3.3)
 * ============================================================================================== */

typedef struct {
    double kernel_norm;        /* ||K||: the gain of the noise feedback loop; +INFINITY if some
                                  mode is unstable on its own */
    int stable;                /* mean-square stable */
    int exact_criterion;       /* 1 when `stable` is exact (kappa >= 2, or SGD); 0 when only the
                                  necessary real-axis condition was checked (heavy ball or ASGD
                                  with kappa < 2) */
    double stationary_excess;  /* lim_t of the LAST iterate's excess risk (for SGD:
                                  1/2 sigma2 ||K|| / (1 - ||K||)); +INFINITY when unstable */
    double stationary_output;  /* the same for the output when it has a limit (last, EMA);
                                  NaN for uniform and tail averages */
} od_linreg_stability;

/* Stability of algorithm a (its schedule ignored: the base step sizes) on model m.  Per mode it
 * solves the discrete Lyapunov equation X = A X A^T + s s^T of the deterministic map (H_k = g^T X g,
 * the point's response to unit noise) and forms
 *     D_k = (kappa - 2) lambda_k^2 H_k / B,   ||K|| = sum_k (lambda_k^2 H_k / B) / (1 - D_k);
 * stable iff every mode's mean map has spectral radius < 1, every D_k < 1 and ||K|| < 1.  For SGD
 * this is ||K|| = (lr/B) sum_k lambda_k / (2 - c_B lr lambda_k), c_B = 1 + (kappa - 2)/B; with
 * kappa < 2 SGD also checks that A = diag(a) + (lr^2/B) lambda lambda^T has no eigenvalue <= -1.
 * Stationary excess: U_k = lambda_k (S + sigma2) H_k / (B (1 - D_k)), S = sigma2 ||K||/(1 - ||K||).
 * Returns OD_OK (whatever the verdict), OD_EINVAL for a bad model or algorithm, OD_ENOMEM. */
int od_linreg_stability_compute(const od_linreg_model *m, const od_linreg_algo *a,
                                od_linreg_stability *out);

/* Spectral radius of the per-mode mean map A = Abar - lambda s g^T of algorithm a at its base step:
 * the noiseless error in an eigen-subspace decays like rho^t (SGD: |1 - lr lambda|). */
double od_linreg_mean_rate(const od_linreg_algo *a, double lambda);

/* The threshold step: the largest multiplier c such that the algorithm with every step size scaled
 * by c is mean-square stable, times a->lr; found by bisection (GSL's bisection root solver on the
 * stability verdict, relative tolerance 1e-13) after bracketing by doubling.  The algorithm's
 * parameters other than the steps are kept.  Returns OD_OK or OD_EMAXITER when no bracket was
 * found within 2^-60 .. 2^60. */
int od_linreg_threshold_lr(const od_linreg_model *m, const od_linreg_algo *a, double *lr_c);

/* SGD's threshold in closed form (§3.3): lr_c = 2 / rho(c_B diag(lambda) + (1/B) lambda 1^T), computed
 * as the top eigenvalue of the similar symmetric matrix c_B diag(lambda) + (1/B) sqrt(lambda)
 * sqrt(lambda)^T with GSL's symmetric eigensolver (O(d^3): d <= 4096).  Valid for c_B > 0; it is the
 * ||K|| = 1 crossing (for kappa < 2 and B = 1 a mode can lose stability earlier through a_k <= -1;
 * od_linreg_threshold_lr checks both).  OD_EINVAL when c_B <= 0 or d is too large. */
int od_linreg_threshold_lr_closed(size_t d, const double *lambda, double kappa, size_t batch,
                                  double *lr_c);

/* ================================================================================================
 * Monte Carlo (mc.c)
 * ============================================================================================== */

typedef struct {
    size_t n_paths;
    const uint64_t *times;   /* recording steps, strictly increasing, last < 2^32 */
    size_t n_times;
    const od_linreg_features *features;   /* law of z; its kurtosis must equal the model's kappa */
    uint64_t seed;
    const char *label;       /* progress label or NULL */
    const double *quantiles; /* optional: probabilities for per-time quantiles of the path risks */
    size_t n_quantiles;
} od_linreg_mc_params;

/* Stream ids of the Monte Carlo run: features (B d draws per step) and label noise (B normals per
 * step), each at (path, step). */
enum { OD_LINREG_STREAM_FEATURES = 0x101, OD_LINREG_STREAM_NOISE = 0x102 };

/* Runs n_paths independent paths of algorithm a on model m, with x = sqrt(lambda) (.) z, z drawn
 * from p->features, xi ~ N(0, sigma2), w_0 - w* = omega, through od_ensemble_run: res (one
 * observable: the output's excess risk 1/2 sum lambda_k (out - w*)_k^2) holds mean, SE and n_ok per
 * recording time; same bytes for any thread count.  A path whose risk becomes non-finite or exceeds
 * OD_LINREG_DIVERGED records NaN from there on (n_ok < n_paths).  Free res with
 * od_ensemble_result_free. */
int od_linreg_mc_run(const od_linreg_model *m, const od_linreg_algo *a, const od_linreg_mc_params *p,
                     od_ensemble_result *res);

/* ================================================================================================
 * Published risk bounds (bounds.c; theory sheet §5).  All return excess risk in the 1/2 convention
 * and take lambda in any order (they sort a copy).  Only Zou et al.'s iterate-average bound has its
 * constants verified (against a public restatement of the theorem, not the paper's own text); the
 * others keep the sheet's recalled constants: docs/experiments/averaging-bounds.md says what was
 * checked where.
 * ============================================================================================== */

/* Zou, Wu, Braverman, Gu, Kakade, "Benign Overfitting of Constant-Stepsize SGD for Linear
 * Regression" (COLT 2021; JMLR 24(326), 2023), upper bound for the iterate average
 * (1/N) sum_{t<N} w_t: with k* = max{k : lambda_k >= 1/(N lr)} and alpha_M the fourth-moment constant
 * (M o A <= alpha_M tr(HA) H; 3 for Gaussian), for lr < 1/(alpha_M tr H),
 *   bound = 2 EffBias + 2 EffVar,
 *   EffBias = sum_{i<=k*} omega_i^2 / (lr^2 N^2 lambda_i) + sum_{i>k*} lambda_i omega_i^2,
 *   EffVar  = [sigma2 + 2 alpha_M (sum_{i<=k*} omega_i^2 / (N lr) + sum_{i>k*} lambda_i omega_i^2)]
 *             / (1 - lr alpha_M tr H) * (k* / N + N lr^2 sum_{i>k*} lambda_i^2).
 * Constants as restated, with the proof's steps, in public reading notes of the paper (the sheet's
 * recollection had alpha_M where the restatement has 2 alpha_M).  Returns +INFINITY when
 * lr >= 1/(alpha_M tr H); N >= 1. */
double od_linreg_bound_zou_avg(size_t d, const double *lambda, const double *omega, double sigma2,
                               double alpha_M, double lr, uint64_t N);

/* Same paper, tail average of w_S .. w_{S+N-1} (sheet §5.1): EffBias of (I - lr H)^S omega, and EffVar
 * with the variance factor
 *   k* / N + lr sum_{k*<i<=k+} lambda_i + (S+N) lr^2 sum_{i>k+} lambda_i^2,  k+ = max{k : lambda_k >= 1/((S+N) lr)}
 * in place of (k* / N + N lr^2 sum_{i>k*} lambda_i^2), assembled as 2 EffBias + 2 EffVar with the
 * average's 2 alpha_M (so S = 0 gives od_linreg_bound_zou_avg).  Recalled, not verified.  The fourth-
 * moment part of EffVar keeps the unshifted omega (the larger of the two readings of the sheet). */
double od_linreg_bound_zou_tail(size_t d, const double *lambda, const double *omega, double sigma2,
                                double alpha_M, double lr, uint64_t S, uint64_t N);

/* Wu, Zou, Braverman, Gu, Kakade, "Last Iterate Risk Bounds of SGD with Decaying Stepsize for
 * Overparameterized Linear Regression" (ICML 2022), as recalled in the sheet §5.2, with the
 * absolute constants of its "<~" set to 1 and the terms written literally (no 1/2, so in this
 * module's convention the bias term is twice the gradient-descent part of the excess risk): for the
 * step-decay schedule (start S, horizon N, K = floor((N - S)/ln(N - S))),
 *   bias = || prod_{t<N} (I - lr_t H) omega ||_H^2,
 *   var  = sigma2 (k* / K + lr sum_{k*<i<=k+} lambda_i + (S + K) lr^2 sum_{i>k+} lambda_i^2),
 * k* = max{k : lambda_k >= 1/(K lr)}, k+ = max{k : lambda_k >= 1/((S+K) lr)}; returns bias + var and
 * writes the parts when bias/var are not NULL.  A rate, not a certified bound: see the docs. */
double od_linreg_bound_wu_stepdecay(size_t d, const double *lambda, const double *omega,
                                    double sigma2, double lr, uint64_t S, uint64_t N, double *bias,
                                    double *var);

/* Li & Gu, "Understanding SGD with Exponential Moving Average: A Case Study in Linear Regression"
 * (arXiv:2502.14123, 2025), structure recalled in the sheet §5.3 with unit constants, written
 * literally (no 1/2): k1 = max{k : lambda_k >= (1 - a)/lr}, k2 = max{k : lambda_k >= 1/(N lr)},
 *   var  = sigma2 / (1 - psi lr tr H) ((1 - a) k1 + lr sum_{k1<i<=k2} lambda_i + N lr^2 sum_{i>k2} lambda_i^2),
 *   bias = a^{2N} sum_{i<=k1} lambda_i omega_i^2 + sum_{i>k1} lambda_i (1 - lr lambda_i)^{2N} omega_i^2;
 * var = +INFINITY when psi lr tr H >= 1. */
double od_linreg_bound_ligu_ema(size_t d, const double *lambda, const double *omega, double sigma2,
                                double psi, double lr, double a, uint64_t N, double *bias,
                                double *var);

/* Exact noiseless per-mode EMA factor (sheet §5.3, [D]): with r = 1 - lr lambda,
 * b(N) = a^N + (1 - a)(a^N - r^N)/(a - r), and a^N + (1 - a) N a^(N-1) when a = r; the deterministic
 * (gradient-descent) error of the EMA output per unit omega.  Square it for the bias. */
double od_linreg_ema_gd_factor(double a, double lr, double lambda, uint64_t N);

/* Li, Deng, Wu, Zhou, Gu, "Risk Bounds of Accelerated SGD for Overparameterized Linear Regression"
 * (ICLR 2024): the per-eigen-subspace bias decay factors compared in the paper (sheet §5.4, [R]):
 * SGD (1 - delta lambda)^(2N) and ASGD's deterministic mean map raised to N, i.e. the exact
 * noiseless ASGD error (its largest eigenvalue modulus ~ 1 - sqrt(beta gamma lambda) for small
 * lambda).  Writes both factors (per unit omega^2, excess units lambda/2 excluded). */
void od_linreg_asgd_bias_factors(double alpha, double beta, double gamma, double delta,
                                 double lambda, uint64_t N, double *sgd, double *asgd);

/* Pan, Liu, Wang, Zhang, "Accelerated Convergence of Stochastic Heavy Ball Method under Anisotropic
 * Gradient Noise" (ICLR 2024), main rate as recalled in the sheet §5.5 with unit constants:
 * exp(-T / (sqrt(kappa_H) ln T)) * excess_0 + d_eff sigma2 / T, kappa_H = lambda_max / lambda_min
 * and d_eff = d.  A rate shape for display, not a certified bound. */
double od_linreg_bound_pan_shb(size_t d, const double *lambda, double excess0, double sigma2,
                               uint64_t T);

/* ================================================================================================
 * Advani & Saxe (advani_saxe.c; theory sheet §6): gradient flow on a Marchenko–Pastur design
 * ============================================================================================== */

/* Generalization error E_g(t) in MSE units, test noise included, for measurement density
 * a = P/N, as the Marchenko–Pastur integral of the sheet:
 *   E_g = int rho_MP(l) [(sw2 + s02) e^{-2 l t} + (se2 / l)(1 - e^{-l t})^2] dl
 *         + (1 - a)_+ (sw2 + s02) + se2,
 * t in units of tau; t = INFINITY gives the limits.  Integrated by GSL QAWS (the square-root edges
 * as weights), to relative accuracy 1e-10.  Returns NaN when a <= 0, or a = 1 with t = INFINITY is
 * +INFINITY. */
double od_linreg_advani_saxe_eg(double a, double t, double sw2, double s02, double se2);

/* One finite-N realization, exactly in the eigenbasis of X X^T: X (N-by-P, entries N(0, 1/N)),
 * teacher wbar ~ N(0, sw2 I), student w(0) ~ N(0, s02 I), label noise N(0, se2), all drawn from
 * streams keyed by seed at path `path`; gradient flow w' = X (y - X^T w) solved in closed form.
 * Writes E_g(t_i) = |w(t_i) - wbar|^2 / N + se2 for each t_i (t = INFINITY allowed: the
 * minimum-norm-change limit) into eg[0..nt).  N <= 4096.  OD_OK, OD_ENOMEM or OD_EGSL. */
int od_linreg_advani_saxe_sample(size_t N, size_t P, double sw2, double s02, double se2,
                                 uint64_t seed, uint32_t path, const double *t, size_t nt,
                                 double *eg);

#endif /* OPTDYN_LINREG_H */
