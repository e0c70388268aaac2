/* optdyn sde — discrete optimizer maps (the zoo), SDE models of optimizers, integrators, SVAG and
 * scaling rules (prefix od_sde_).  Formulas: theory sheet sde.md; the user guide (docs/README.md §7)
 * shows the step API on a problem.
 *
 *   optimizers.c   the zoo: static const vtables od_sde_sgd, od_sde_adam, ... over od_problem,
 *                  hyperparameter tables, the registry, and the od_sde_opt handle (alloc/step/free)
 *   integrators.c  SDE systems, Euler–Maruyama, Milstein (diagonal noise), stochastic Heun (weak
 *                  order 2, additive noise), Brownian increments addressed by (path, step) and
 *                  refined by summation, coupled OU increments, log-log slopes with SE
 *   models.c       SDE models of the optimizers built from the same hyperparameters
 *   rules.c        SVAG coefficients and transforms, the linear and square-root scaling rules
 *   dynamics.c     ensembles of a discrete / SDE / SVAG dynamic with observables (od_ensemble_run)
 *   problems.c     the module's problem catalog (noisy-quadratic)
 */
#ifndef OPTDYN_SDE_H
#define OPTDYN_SDE_H

#include <stddef.h>
#include <stdint.h>

#include "core/optdyn_core.h"

/* ================================================================================================
 * Hyperparameters.  One struct serves every optimizer; each optimizer's table (od_param) lists the
 * keys it reads, with defaults, ranges and help.  Forms (sde.md §2):
 *   sgd        x <- x - lr g
 *   momentum   heavy ball, PyTorch form: b <- momentum b + g,  x <- x - lr b  (b_0 = 0)
 *   nesterov   PyTorch form: b <- momentum b + g,  x <- x - lr (g + momentum b)
 *   rmsprop    v <- beta2 v + (1-beta2) g^2,  x <- x - lr g / (sqrt(v^) + eps)  (v^ = v / (1-beta2^k)
 *              when bias_correction = 1, torch Adam with betas (0, beta2); eps_inside = 1 puts eps
 *              under the root: sqrt(v^ + eps))
 *   adam       m <- beta1 m + (1-beta1) g,  v as above,  x <- x - lr m^ / (sqrt(v^) + eps)
 *   adamw      adam plus decoupled weight decay: x <- x - lr weight_decay x before the Adam step
 *   sam        x <- x - lr grad f_B(x + rho g/||g||),  g = grad f_B(x), the same minibatch B
 *   usam       x <- x - lr grad f_B(x + rho g)
 *   dnsam      x <- x - lr grad f_B(x + rho g/||grad f(x)||)   (full-batch norm)
 *   signsgd    x <- x - lr sign(g)
 *   clipsgd    x <- x - lr min(1, clip/||g||) g
 * ================================================================================================ */
typedef struct {
    double lr;               /* eta > 0 */
    double momentum;         /* mu in [0, 1) */
    double beta1, beta2;     /* in [0, 1) */
    double eps;              /* >= 0 */
    int eps_inside;          /* 1: sqrt(v + eps); 0: sqrt(v) + eps (torch) */
    int bias_correction;     /* 1: torch semantics (m^, v^) */
    double weight_decay;     /* AdamW's decoupled decay, >= 0 */
    double rho;              /* SAM radius >= 0 */
    double clip;             /* clipping threshold > 0 */
} od_sde_hp;

/* Defaults: lr 0.01, momentum 0.9, beta1 0.9, beta2 0.999, eps 1e-8, eps outside, bias correction
 * on, weight decay 0.01, rho 0.05, clip 1. */
od_sde_hp od_sde_hp_default(void);

/* Oracle noise amplification used by SVAG (sde.md §5): the optimizer's gradient becomes
 * r1 g(gamma_1) + r2 g(gamma_2) with two independent minibatches of the same (path, step) address.
 * amp = 1 (r1 = 1, r2 = 0) is the plain oracle. */
typedef struct {
    double r1, r2;
} od_sde_oracle_amp;

/* ================================================================================================
 * Optimizers: static const vtables (DESIGN.md idea 2).
 * ================================================================================================ */
typedef struct od_sde_optimizer od_sde_optimizer;

/* What a step needs: the problem, the batch size (0 = full gradient, i.e. GD), the stream already
 * positioned by the caller at (path, step), the step counter k (0 for the first step), SVAG
 * amplification (NULL = none) and a workspace of work_size(d) doubles. */
typedef struct {
    const od_problem *problem;
    size_t batch;
    od_stream *stream;
    uint64_t k;
    const od_sde_oracle_amp *amp;
    double *work;
    unsigned long *zero_norm_events;  /* SAM family: count of zero normalizing norms (may be NULL) */
} od_sde_step_ctx;

struct od_sde_optimizer {
    const char *name;           /* "adam" */
    const char *help;           /* one line, with the parametrisation */
    const od_param *params;     /* the keys this optimizer reads, with defaults, ranges, help */
    size_t n_params;
    size_t (*state_size)(size_t d);   /* doubles of optimizer state (zeroed by init) */
    size_t (*work_size)(size_t d);    /* doubles of scratch per step */
    /* x <- one step from x; state updated.  Returns an od_status (problem errors pass through). */
    int (*step)(const od_sde_hp *hp, const od_sde_step_ctx *c, double *x, double *state);
    unsigned flags;             /* OD_SDE_OPT_* */
};

enum {
    OD_SDE_OPT_ADAPTIVE = 1u,   /* clock t = k eta^2 (RMSprop, Adam) instead of t = k eta */
    OD_SDE_OPT_SAM = 2u         /* two gradient calls on the same minibatch */
};

extern const od_sde_optimizer *const od_sde_sgd, *const od_sde_momentum, *const od_sde_nesterov,
    *const od_sde_rmsprop, *const od_sde_adam, *const od_sde_adamw, *const od_sde_sam,
    *const od_sde_usam, *const od_sde_dnsam, *const od_sde_signsgd, *const od_sde_clipsgd;

/* NULL-terminated registry, and lookup by name (NULL if unknown). */
extern const od_sde_optimizer *const od_sde_optimizers[];
const od_sde_optimizer *od_sde_optimizer_find(const char *name);

/* Builds hp from od_sde_hp_default() and a list "k=v,k=v" checked against the optimizer's table
 * (unknown key: OD_ENOTFOUND; value out of its range: OD_ERANGE; messages name the key and the
 * optimizer).  lr is set separately (it is not in the tables). */
int od_sde_hp_parse(const od_sde_optimizer *opt, const char *list, od_sde_hp *hp);

/* Checks hp against the optimizer's ranges (beta in [0, 1), eps >= 0, ...) and lr > 0. */
int od_sde_hp_check(const od_sde_optimizer *opt, const od_sde_hp *hp);

/* A running optimizer on a problem: state, scratch and step counter in one object.
 *   od_sde_opt *o; od_sde_opt_alloc(od_sde_adam, &hp, p->dim, &o);
 *   for (k...) { od_stream_seek(&s, path, k); od_sde_opt_step(o, p, B, &s, x); }
 * batch 0 takes full gradients (deterministic, s may be NULL).  The handle copies hp. */
typedef struct od_sde_opt od_sde_opt;
int od_sde_opt_alloc(const od_sde_optimizer *type, const od_sde_hp *hp, size_t d, od_sde_opt **out);
int od_sde_opt_step(od_sde_opt *o, const od_problem *p, size_t batch, od_stream *s, double *x);
void od_sde_opt_reset(od_sde_opt *o);                 /* state 0, k = 0 */
uint64_t od_sde_opt_steps(const od_sde_opt *o);       /* steps taken */
double *od_sde_opt_state(od_sde_opt *o);              /* e.g. Adam: m[0..d), v[d..2d); writable */
void od_sde_opt_set_amp(od_sde_opt *o, const od_sde_oracle_amp *amp);  /* SVAG (NULL: off) */
unsigned long od_sde_opt_zero_norm_events(const od_sde_opt *o);
void od_sde_opt_free(od_sde_opt *o);

/* The SDE clock of one discrete step: eta (SGD-type) or eta^2 (adaptive). */
double od_sde_clock(const od_sde_optimizer *opt, const od_sde_hp *hp);

/* ================================================================================================
 * SDE systems and integrators (sde.md §6).  dY = b(t, Y) dt + sigma(t, Y) dW.
 * ================================================================================================ */
typedef enum { OD_SDE_EM, OD_SDE_MILSTEIN, OD_SDE_WEAK2 } od_sde_scheme;

/* Parses "em" | "milstein" | "weak2"; name of a scheme. */
int od_sde_scheme_parse(const char *word, od_sde_scheme *out);
const char *od_sde_scheme_name(od_sde_scheme s);

enum {
    OD_SDE_ADDITIVE = 1u,   /* sigma does not depend on Y (may depend on t) */
    OD_SDE_DIAGONAL = 2u    /* noise j acts on component noise_offset + j only, with coefficient
                               sig_j(t, Y) depending on Y only through that component and
                               noise-free components (commutative: Milstein needs no Levy areas) */
};

/* Increments of the driving noise for one step of length h at the stream's position: writes m
 * increments.  Gaussian: sqrt(h) z.  (The slot for alpha-stable increments, h^{1/alpha} L.) */
typedef void od_sde_increments_fn(od_stream *s, double h, size_t m, double *dw);
void od_sde_gaussian_increments(od_stream *s, double h, size_t m, double *dw);

typedef struct {
    size_t dim;            /* components of Y */
    size_t noise_dim;      /* components of W (DIAGONAL: noisy components) */
    size_t noise_offset;   /* DIAGONAL: first noisy component */
    unsigned flags;        /* OD_SDE_ADDITIVE | OD_SDE_DIAGONAL */
    /* b = b(t, y) */
    int (*drift)(double t, const double *y, double *b, void *params);
    /* out (dim) = sigma(t, y) dW for an increment over a step h drawn from s (general noise:
     * the system draws its own noise, e.g. through a problem's structured noise_sample) */
    int (*noise)(double t, const double *y, double h, od_stream *s, double *out, void *params);
    /* DIAGONAL systems: sig[j] = sigma_j(t, y) and dsig[j] = d sigma_j / d y_{offset+j} */
    int (*diag)(double t, const double *y, double *sig, double *dsig, void *params);
    od_sde_increments_fn *increments;   /* NULL: Gaussian */
    void *params;
} od_sde_system;

/* Doubles of workspace od_sde_step needs for sys. */
size_t od_sde_work_size(const od_sde_system *sys);

/* Checks that the scheme fits the noise structure: MILSTEIN needs DIAGONAL, WEAK2 needs ADDITIVE
 * (OD_ENOTSUP with a message naming both otherwise). */
int od_sde_scheme_check(od_sde_scheme scheme, const od_sde_system *sys);

/* One step of length h from (t, y), drawing the noise from s at its current position (the caller
 * seeks it to (path, step)).  y is overwritten.
 *   EM        y + b h + sigma dW
 *   MILSTEIN  EM + 1/2 sum_j sig_j dsig_j (dW_j^2 - h)                    (diagonal noise)
 *   WEAK2     stochastic Heun: ybar = y + b(y) h + sigma dW,
 *             y + 1/2 (b(t, y) + b(t+h, ybar)) h + sigma dW               (additive noise)
 * Returns OD_EDIVERGED when y becomes non-finite. */
int od_sde_step(od_sde_scheme scheme, const od_sde_system *sys, double t, double h, od_stream *s,
                double *y, double *work);

/* The same with given increments dw[0..noise_dim) (DIAGONAL systems only): for refining one
 * Brownian path (coarse increments = sums of fine ones, od_sde_brownian_sum). */
int od_sde_step_dw(od_sde_scheme scheme, const od_sde_system *sys, double t, double h,
                   const double *dw, double *y, double *work);

/* dw[0..m) = sum of the 2^r fine Gaussian increments of steps n 2^r .. (n+1) 2^r - 1 of length
 * hf each, each drawn at (path, fine step) of stream s: the coarse increment of the same path. */
void od_sde_brownian_sum(od_stream *s, uint32_t path, uint64_t n, unsigned r, double hf, size_t m,
                         double *dw);

/* Scalar linear SDEs with known solutions, as systems for the integrators (sde.md §6):
 *   multiplicative = 1:  dX = a X dt + b X dW   (geometric Brownian motion; DIAGONAL)
 *   multiplicative = 0:  dX = a X dt + b dW     (Ornstein–Uhlenbeck with a = -lambda; DIAGONAL and
 *                                                ADDITIVE, so Heun (weak2) applies)
 * The system points to coef, which must outlive it. */
typedef struct {
    double a, b;
    int multiplicative;
} od_sde_linear;
od_sde_system od_sde_linear_system(const od_sde_linear *coef);

/* Exact OU coupling over a step h (sde.md §6.2): from two standard normals z1, z2 gives
 * dW = sqrt(h) z1 and I = int_t^{t+h} e^{-lambda (t+h-u)} dW_u with the right joint law. */
typedef struct {
    double decay;          /* e^{-lambda h} */
    double cw, ci, di;     /* dW = cw z1,  I = ci z1 + di z2 */
} od_sde_ou_coupling;
od_sde_ou_coupling od_sde_ou_coupling_make(double lambda, double h);

/* ================================================================================================
 * SDE models of optimizers (sde.md §3), built from the same hyperparameters.
 *   sgd, signsgd*, clipsgd*   dX = -grad f dt + sqrt(eta/B) Sigma1^{1/2} dW,  t = k eta
 *   momentum, nesterov        EMA form with beta = momentum, eta' = eta/(1-beta):
 *                             dX = -m dt, dm = c (grad f - m) dt + c sqrt(eta'/B) Sigma1^{1/2} dW,
 *                             c = (1-beta)/eta', t = k eta'
 *   rmsprop, adam (Malladi et al. 2022; state X, m, u; t = k eta^2, sigma = 1/sqrt(B)):
 *                             sigma0 = sigma eta, eps0 = eps eta, c1 = (1-beta1)/eta^2,
 *                             c2 = (1-beta2)/eta^2, gamma_i = 1 - e^{-c_i t} (bias correction)
 *   usam, sam, dnsam (Compagnoni et al. 2023; problems with additive noise, H_B = H):
 *                             drift -E d, diffusion sqrt(eta Cov d), d = (I + rho H / n) grad f_B
 *   (*) signsgd and clipsgd have no SDE here (OD_ENOTSUP).
 * The noise Sigma1^{1/2} dW comes from the problem's noise_sample (exact, structured, no matrix
 * root); problems without it use the per-sample factor (M - 1)^{-1/2} sum_i (g_i - gbar) xi_i of
 * M = sample_m per-sample gradients (an unbiased estimate of the covariance).  The structure of the
 * noise is what the problem declares in od_problem.noise: OD_NOISE_CONSTANT (additive) and
 * OD_NOISE_DIAGONAL decide the system's OD_SDE_ADDITIVE / OD_SDE_DIAGONAL flags, hence which
 * integrators fit; the SAM family needs OD_NOISE_CONSTANT.  The model owns a copy of hp and a pool
 * of callback workspaces (no allocation per step); the problem must outlive it.
 * ================================================================================================ */
typedef struct od_sde_model od_sde_model;

typedef struct {
    size_t batch;        /* B >= 1 */
    size_t sample_m;     /* per-sample gradients for estimated noise / SAM expectations (default 64) */
    unsigned long clipped_eigs;   /* out: SAM covariance eigenvalues clipped to 0 */
} od_sde_model_opts;

int od_sde_model_alloc(const od_sde_optimizer *opt, const od_sde_hp *hp, const od_problem *p,
                       const od_sde_model_opts *opts, od_sde_model **out);
void od_sde_model_free(od_sde_model *m);
/* The system (dimension: d for SGD/SAM, 2d momentum and RMSprop (X, u), 3d Adam (X, m, u)). */
const od_sde_system *od_sde_model_system(const od_sde_model *m);
/* Initial state from x0 (NULL: origin; auxiliaries 0). */
void od_sde_model_init(const od_sde_model *m, const double *x0, double *y);
/* SDE time of one discrete step (eta, eta', or eta^2). */
double od_sde_model_clock(const od_sde_model *m);
/* Number of clipped eigenvalues so far (SAM), exact-noise flag. */
unsigned long od_sde_model_clipped(const od_sde_model *m);
int od_sde_model_exact_noise(const od_sde_model *m);

/* One-step moments of the SDE's Euler map at (t, y) over h, in closed form: mean[dim] = y + b h and
 * cov[dim*dim] = h sigma sigma^T, for models whose noise covariance is known exactly (problem has
 * noise_cov).  For the moment-matching tests. */
int od_sde_model_em_moments(const od_sde_model *m, double t, const double *y, double h,
                            double *mean, double *cov);


/* ================================================================================================
 * SVAG and scaling rules (sde.md §4-5)
 * ================================================================================================ */
/* r_{1,2} = (1 +- sqrt(2a - 1))/2 with a = l (Li, Malladi & Arora 2021, SGD) or a = l^2 (the
 * Adaptive-SDE code, RMSprop/Adam): r1 + r2 = 1, r1^2 + r2^2 = a.  l >= 1. */
od_sde_oracle_amp od_sde_svag_coeffs(double a);

/* SVAG transform of a run: hp_out and amp for amplification l >= 1, and the factor by which the
 * number of steps grows for the same SDE time (l for SGD-type, l^2 for adaptive).  SGD-type:
 * eta -> eta/l, a = l.  Adaptive: eta -> eta/l, 1-beta_i -> (1-beta_i)/l^2, eps -> eps l, a = l^2.
 * Optimizers without an SVAG (SAM family, sign, clip): OD_ENOTSUP. */
int od_sde_svag(const od_sde_optimizer *opt, const od_sde_hp *hp, double l, od_sde_hp *hp_out,
                od_sde_oracle_amp *amp, double *step_factor);

typedef enum { OD_SDE_RULE_LINEAR, OD_SDE_RULE_SQRT } od_sde_rule_kind;

typedef struct {
    od_sde_rule_kind kind;
    double kappa;        /* batch multiplier, > 0 */
} od_sde_rule;

/* Parses "linear:kappa=K" or "sqrt:kappa=K" (od_spec_split + a parameter table). */
int od_sde_rule_parse(const char *spec, od_sde_rule *out);

/* What applying the rule did, for the user. */
typedef struct {
    double limit;        /* max over the decay rates in use of kappa (1 - beta) (sqrt rule), or 0 */
    int valid;           /* limit < 1 */
} od_sde_rule_report;

/* Applies the rule to (hp, B, steps): B -> kappa B, steps -> steps/kappa (rounded; >= 1), and
 *   linear:  lr -> kappa lr (every other hp unchanged)
 *   sqrt:    lr -> sqrt(kappa) lr, 1-beta_i -> kappa (1-beta_i) (beta1 for Adam and momentum,
 *            beta2 for RMSprop/Adam), eps -> eps / sqrt(kappa)
 * The square-root rule needs kappa (1 - beta_i) < 1 for every decay rate in use: otherwise it
 * returns OD_ERANGE with a message giving the product (report still filled).  B must stay >= 1.
 * The linear rule applied to an adaptive optimizer is allowed (a negative control) and the
 * square-root rule to SGD-type optimizers scales lr only. */
int od_sde_rule_apply(const od_sde_rule *rule, const od_sde_optimizer *opt, const od_sde_hp *hp,
                      size_t batch, uint64_t steps, od_sde_hp *hp_out, size_t *batch_out,
                      uint64_t *steps_out, od_sde_rule_report *report);

/* ================================================================================================
 * Dynamics: ensembles of a discrete, SDE or SVAG run with observables, through od_ensemble_run.
 * ================================================================================================ */
typedef enum { OD_SDE_OBS_LOSS, OD_SDE_OBS_NORM2, OD_SDE_OBS_COORD } od_sde_obs_kind;
typedef struct {
    od_sde_obs_kind kind;
    size_t index;        /* COORD */
    char name[32];       /* "loss", "norm2", "coord:3" */
} od_sde_observable;

/* Parses "loss", "norm2" (||x - x*||^2; needs p->xstar) or "coord:i" (0-based, i < d). */
int od_sde_observable_parse(const char *word, const od_problem *p, od_sde_observable *out);

typedef enum { OD_SDE_DYN_DISCRETE, OD_SDE_DYN_SDE, OD_SDE_DYN_SVAG } od_sde_dyn_kind;

typedef struct {
    const od_problem *problem;
    const od_sde_optimizer *opt;
    od_sde_hp hp;
    size_t batch;
    uint64_t steps;             /* discrete steps K; the horizon is T = K clock */
    od_sde_dyn_kind kind;
    double svag_l;              /* SVAG amplification (kind SVAG) */
    od_sde_scheme scheme;       /* SDE integrator */
    unsigned substeps;          /* SDE steps per discrete step (default 1: h = clock) */
    const double *x0;           /* NULL: p->x0 or the origin */
    const od_sde_observable *obs;
    size_t n_obs;
    const uint64_t *times;      /* recording steps in units of discrete steps, increasing, <= K */
    size_t n_times;
    uint64_t seed;
    const char *label;          /* progress label or NULL */
    size_t sample_m;            /* for models: see od_sde_model_opts */
    int generic;                /* 1: never the fused loops (tests, benchmarks); 0: fused where
                                   they apply (dynamics.c) — the same numbers either way */
} od_sde_dynamics;

/* Runs P paths.  res (free with od_ensemble_result_free) has n_times + 1 rows of n_obs values: row j
 * < n_times is the observable at times[j]; the last row is each path's average over the second half
 * of the steps (the stationary estimate: its mean and SE across paths).  t[j] = times[j] clock is the
 * SDE time.  Streams: discrete 21, SDE 22, SVAG 23, at (path, step).  A path that becomes
 * non-finite records NaN from then on; od_ensemble_first_bad reports where. */
int od_sde_dynamics_run(const od_sde_dynamics *dyn, size_t paths, od_ensemble_result *res,
                        double *t);

/* ================================================================================================
 * Problems of the module: noisy-quadratic:d=D,lambda=L1|L2|..,s=S (f = 1/2 sum lambda_i x_i^2,
 * gradient noise N(0, s^2 I) per sample, x* = 0, x0 = 1).  NULL-terminated.
 * ================================================================================================ */
extern const od_problem_entry *const od_sde_problems[];

#endif /* OPTDYN_SDE_H */
