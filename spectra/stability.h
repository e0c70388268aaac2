/* optdyn spectra — stability of SGD at a minimum, the edge of stability and scalar networks.
 * Part of the spectra module's public interface: include spectra/optdyn_spectra.h, which includes
 * this header after the operators and Lanczos it builds on. */
#ifndef OPTDYN_SPECTRA_STABILITY_H
#define OPTDYN_SPECTRA_STABILITY_H

#ifndef OPTDYN_SPECTRA_H
#error "include spectra/optdyn_spectra.h, not spectra/stability.h"
#endif

/* =============================================================================================
 * Stability of SGD at a minimum (theory sheet spectra.md §6; issue 5)
 *
 *   hset.c        per-sample Hessian sets: dense, from per-sample actions (randomised range
 *                 finder), from a problem's sample_hvp, from a file; the reduction to
 *                 W = Σ_i range(H_i) (= range(H) at a minimum, where every H_i is PSD)
 *   stability.c   the mean-square operator T of linearised SGD for three sampling schemes,
 *                 ρ(T) by power iteration with Collatz–Wielandt bounds (matrix-free or on the
 *                 dense matrix), the threshold η*, sharpness, coherence, non-uniformity
 *   lyapunov.c    minibatch samplers, the linear SGD recursion, divergence runs and the top
 *                 Lyapunov exponent from renormalised runs (od_ensemble_run)
 *   eos.c         sharpness tracking by warm-started Lanczos, full-batch GD at the edge of
 *                 stability, and the statistics of its claims (batch means)
 *   scalar_net.c  scalar networks L = ½(Π w_i − 1)²: Hessian, GFS sharpness, the D = 2 identity
 *
 * Linearised SGD at a minimum: x_{t+1} = (I − η Ĥ_t) x_t, Ĥ_t = (1/B) Σ_{i∈S_t} H_i.  Its second
 * moment X_t = E x_t x_tᵀ evolves by the positive map
 *      T(X) = X − η(HX + XH) + η² [(1 + β − α) HXH + α (1/n) Σ_i H_i X H_i],
 * i.e. Q = (1 + β) H⊗H + α (K − H⊗H) with (α, β) = (1/B, 0) with replacement,
 * ((n − B)/(B(n − 1)), 0) without replacement, ((1 − p)/B, (1 − p)/B) Bernoulli (p = B/n).
 * Everything is computed on W: T maps matrices supported on W to themselves and acts as the
 * identity on matrices supported on W^⊥, so the flat directions of an over-parameterised minimum
 * (ρ = 1 for every η there) are left out and ρ, η* refer to T restricted to W.
 * ============================================================================================= */

typedef enum {
    OD_SPECTRA_SAMPLE_REPLACEMENT = 0,  /* B indices i.i.d. uniform on {0..n−1} */
    OD_SPECTRA_SAMPLE_WITHOUT = 1,      /* a uniform B-subset (B <= n) */
    OD_SPECTRA_SAMPLE_BERNOULLI = 2     /* each index kept with p = B/n, the sum divided by B */
} od_spectra_sampling;

/* "replacement" | "without" | "bernoulli" (OD_EPARSE naming the word otherwise), and back. */
int od_spectra_sampling_parse(const char *word, od_spectra_sampling *s);
const char *od_spectra_sampling_name(od_spectra_sampling s);

/* (α, β) of the table above for n samples and batch B.  OD_ERANGE (naming B and n) when B = 0, or
 * B > n for sampling without replacement or Bernoulli sampling (p = B/n must be <= 1). */
int od_spectra_sampling_coef(od_spectra_sampling s, size_t n, size_t B, double *alpha,
                             double *beta);

/* Per-sample action: Y = H_i V for b vectors of length d stored one after another. */
typedef int od_spectra_sample_fn(size_t i, size_t b, const double *V, double *Y, void *ctx);

/* A set of n symmetric per-sample Hessians H_i (d-by-d), held in factored, reduced form:
 * the orthonormal rows u_1..u_r of U span W = Σ_i range(H_i), and H_i = Uᵀ G_iᵀ S_i G_i U with
 * G_i (k_i-by-r, rows = reduced factor vectors) and S_i = diag(sgn) (±1; all +1 when H_i is PSD).
 * The reduced per-sample Hessians are H̃_i = G_iᵀ S_i G_i and the reduced mean Hessian
 * H̃ = U H Uᵀ = (1/n) Σ H̃_i is kept dense (r-by-r). */
typedef struct {
    size_t n, d;       /* samples, parameters */
    size_t r;          /* dim W (the rank of H when every H_i is PSD) */
    size_t K;          /* Σ k_i */
    double *U;         /* r-by-d row-major: row j is the basis vector u_j of W */
    size_t *k;         /* k_i = rank of H_i (to the drop tolerance) */
    size_t *off;       /* rows of G_i in G: [off[i], off[i] + k[i]) */
    double *G;         /* K-by-r row-major: the reduced factor vectors, sample after sample */
    double *sgn;       /* K signs */
    double *lam1;      /* λ_max(H_i) per sample */
    double *H;         /* r-by-r: U H Uᵀ */
    int psd;           /* 1 when every H_i is positive semi-definite (to the drop tolerance) */
    uint64_t actions;  /* per-sample vector actions spent building the set */
    char label[160];
} od_spectra_hset;

typedef struct {
    double rtol;       /* factor drop tolerance: eigenvalues with |λ| <= rtol · max_i ‖H_i‖ and
                          range-finder residuals below rtol · scale are treated as 0; 1e-10 */
    size_t block;      /* range finder: random vectors per block (default 8) */
    uint64_t seed;     /* range finder: Gaussian vectors from od_stream(seed, stream), sample i at
                          path i, block j at step j */
    uint32_t stream;   /* default 11 */
} od_spectra_hset_params;

od_spectra_hset_params od_spectra_hset_default_params(void);

/* From dense matrices H (n blocks of d-by-d, row-major, copied): each H_i symmetrised after the
 * checks (non-finite entry or |h_ab − h_ba| > 64 ε max|H_i| is OD_EINVAL naming i, a, b) and
 * factored exactly by GSL's symmetric eigensolver.  prm may be NULL (defaults). */
int od_spectra_hset_dense(size_t n, size_t d, const double *H, const od_spectra_hset_params *prm,
                          od_spectra_hset **out);

/* From per-sample actions only: for each i an adaptive randomised range finder (Halko, Martinsson
 * & Tropp, SIAM Rev. 2011, Alg. 4.2: Gaussian blocks, two Gram–Schmidt passes, stop when a whole
 * block adds nothing above rtol) gives Q_i, then H_i = Q_i (Q_iᵀ H_i Q_i) Q_iᵀ is factored.  Cost
 * ≈ n (2 max k_i + 2 block) actions and O(d K r) flops; exact (to rounding) when k_i < d.  The
 * actions must be symmetric (not checked beyond the factor step). */
int od_spectra_hset_actions(size_t n, size_t d, od_spectra_sample_fn *fn, void *ctx,
                            const od_spectra_hset_params *prm, const char *label,
                            od_spectra_hset **out);

/* The per-sample Hessians of a finite-data problem at x through od_problem_sample_hvp (the range
 * finder above).  OD_ENOTSUP when p has no sample_hvp or is streaming (n = 0). */
int od_spectra_hset_problem(const od_problem *p, const double *x, const od_spectra_hset_params *prm,
                            od_spectra_hset **out);

/* Reads the Hessian-file format of `optdyn stability`: a first line "n d", then n blocks of d rows
 * of d numbers (the symmetric H_i, blocks one after another; blank lines and lines beginning with
 * '#' are ignored).  Every error names the file and the line: a malformed size line, a row with
 * the wrong number of fields (inconsistent n/d), a non-numeric or non-finite field (its position),
 * missing or extra rows, an asymmetric H_i (the line of the offending entry and its mirror).
 * OD_EIO (cannot read), OD_EPARSE, OD_EINVAL. */
int od_spectra_hset_read(const char *path, const od_spectra_hset_params *prm, od_spectra_hset **out);

void od_spectra_hset_free(od_spectra_hset *h);

/* The dense reduced H̃_i = G_iᵀ S_i G_i (r-by-r) into out. */
void od_spectra_hset_sample(const od_spectra_hset *h, size_t i, double *out);

/* ---- the mean-square operator ------------------------------------------------------------------ */

typedef struct od_spectra_stab od_spectra_stab;

/* A workspace for T on a set (borrowed: it must outlive the workspace) with one sampling scheme
 * and batch size (errors of od_spectra_sampling_coef). */
int od_spectra_stab_alloc(const od_spectra_hset *h, od_spectra_sampling s, size_t B,
                          od_spectra_stab **out);
void od_spectra_stab_free(od_spectra_stab *st);
const od_spectra_hset *od_spectra_stab_hset(const od_spectra_stab *st);
void od_spectra_stab_coef(const od_spectra_stab *st, double *alpha, double *beta);
od_spectra_sampling od_spectra_stab_sampling(const od_spectra_stab *st);
size_t od_spectra_stab_batch(const od_spectra_stab *st);

/* Y = T_η(X) for a symmetric r-by-r X (reduced coordinates, row-major; Y may not alias X),
 * matrix-free: two products with H̃ and O(Σ_i k_i r²) for the per-sample sum; the result is
 * symmetrised.  Counts one application. */
int od_spectra_stab_apply(od_spectra_stab *st, double eta, const double *X, double *Y);

/* The dense matrix of T_η on row-major vec(X), r² by r² (row-major):
 *   I − η(H̃⊗I + I⊗H̃) + η² [(1 + β − α) H̃⊗H̃ + (α/n) Σ_i H̃_i⊗H̃_i].
 * OD_ERANGE when r > 64 (r⁴ doubles). */
int od_spectra_stab_dense(od_spectra_stab *st, double eta, double *T);

typedef struct {
    double tol;          /* stop when the estimate meets the Collatz–Wielandt upper bound, or
                            stagnates, to tol relative; default 1e-12 */
    size_t max_iter;     /* default 20000 */
    size_t check_every;  /* bounds every k iterations (an r³ eigenproblem); default 10 */
    double decide;       /* if finite: stop as soon as the bounds certify ρ < decide or ρ > decide
                            (threshold search); NaN (default) to converge */
    int dense;           /* 1: power iteration on the dense matrix (r <= 64); 0: matrix-free */
    int warm;            /* 1 (default): start from the last Perron estimate of this workspace
                            when it is positive definite, else from I/r */
    int lanczos;         /* 1: Lanczos (od_spectra_eigs, residual tol) on T, which is self-adjoint
                            for tr(XᵀY), so ρ = λ_max(T); from the same start, with the bounds at
                            the Ritz vector.  Needs O(gap^{-1/2}) applications where the power
                            iteration needs O(gap^{-1}) (gap = 1 − λ_2/ρ, tiny for small η);
                            max_iter, check_every unused.  0 (default): power iteration */
} od_spectra_rho_params;

od_spectra_rho_params od_spectra_rho_default_params(void);

typedef struct {
    double rho;          /* the estimate ‖T(X_k)‖_F, ‖X_k‖_F = 1 */
    double lo, hi;       /* Collatz–Wielandt bounds λ_min/λ_max(X^{-1/2} T(X) X^{-1/2}) at the
                            last check (valid when X was positive definite; else NaN) */
    size_t iters;
    uint64_t applications;
    int converged;       /* 1 tol reached, 2 decided (decide mode), 0 max_iter */
} od_spectra_rho_result;

/* ρ(T_η) restricted to W by power iteration (or, with prm->lanczos, by Lanczos) from a positive
 * definite start.  For a positive map
 * the iterates stay in the PSD cone, the Perron root is ρ and, at a positive definite X,
 * λ_min(X^{-1/2}T(X)X^{-1/2}) <= ρ <= λ_max(X^{-1/2}T(X)X^{-1/2}).  The last iterate (the Perron
 * estimate, unit Frobenius norm) is kept in the workspace: od_spectra_stab_perron. */
int od_spectra_stab_rho(od_spectra_stab *st, double eta, const od_spectra_rho_params *prm,
                        od_spectra_rho_result *res);
const double *od_spectra_stab_perron(const od_spectra_stab *st);
uint64_t od_spectra_stab_applications(const od_spectra_stab *st);

enum { OD_SPECTRA_MAX_CROSSINGS = 8 };

typedef struct {
    size_t grid;                 /* grid points on (0, (1 + 1/grid) 2/λ_max]; default 64 */
    double tol;                  /* bisection: stop when hi − lo <= tol · hi; default 1e-10 */
    od_spectra_rho_params rho;   /* power-iteration settings (decide is set internally) */
} od_spectra_threshold_params;

od_spectra_threshold_params od_spectra_threshold_default_params(void);

typedef struct {
    double eta;                          /* η*, the first crossing of ρ = 1 (NaN if none) */
    size_t n_cross;                      /* sign changes of ρ − 1 found on the grid */
    double cross[OD_SPECTRA_MAX_CROSSINGS];   /* each bisected, in increasing order */
    int up[OD_SPECTRA_MAX_CROSSINGS];    /* 1 where ρ goes from < 1 to > 1 */
    size_t evaluations;                  /* ρ evaluations */
    uint64_t applications;               /* T applications in total */
} od_spectra_threshold_result;

/* The threshold learning rate: ρ(T_η) − 1 on a grid of `grid` points η_j = j (2/λ_max)/grid,
 * j = 1..grid+1 (the last beyond 2/λ_max, where ρ >= (1 − ηλ_max)² > 1), then bisection of every
 * bracket to tol.  Reports more than one crossing instead of hiding it.  η* <= 2/λ_max always
 * (ρ >= max_k (1 − ηλ_k)²). */
int od_spectra_stab_threshold(od_spectra_stab *st, const od_spectra_threshold_params *prm,
                              od_spectra_threshold_result *res);

typedef struct {
    double sharpness;      /* λ_max(H) (largest algebraic eigenvalue) */
    double lambda_min_w;   /* smallest eigenvalue of H on W */
    double trace;          /* tr H */
    double gd_threshold;   /* 2/λ_max */
    double coherence;      /* Dexter et al. (ICLR 2024): σ = λ_1(S)/max_i λ_1(H_i),
                              S_ij = sqrt(tr(H_i H_j)); NaN unless every H_i is PSD */
    double dexter_lr;      /* 2Bσ/(n λ_max): η above it is mean-square unstable by the
                              reconstructed sufficient condition η λ_1 > 2Bσ/n (docs) */
    double nonuniformity;  /* Wu, Ma & E (NeurIPS 2018): s = λ_max(Σ)^{1/2},
                              Σ = (1/n) Σ_i H_i² − H² */
    double wme_lr;         /* largest η with λ_max((I − ηH)² + η² Var Ĥ) <= 1, Var Ĥ = αΣ + βH²
                              (the scheme's one-step matrix): a sufficient condition for mean-square
                              stability, so wme_lr <= η* (equality for d = 1) — a bound, never the
                              boundary */
    double trace_lr;       /* 2/tr H: the η at which tr H = 2/η (Wu & Su 2023, B = 1) */
} od_spectra_stab_summary;

/* The quantities above (O(r³ + n² k² r) work; no T applications). */
int od_spectra_stab_summarize(od_spectra_stab *st, od_spectra_stab_summary *q);

/* ---- sample paths: runs, divergence, Lyapunov exponents ---------------------------------------- */

/* A minibatch sampler for a scheme: od_spectra_batch_draw writes the indices of one batch drawn
 * from s (at its current position) into idx and returns their count (B, except Bernoulli).
 * Without replacement it keeps a permutation and does B steps of Fisher–Yates on it. */
typedef struct od_spectra_batcher od_spectra_batcher;
int od_spectra_batcher_alloc(od_spectra_sampling s, size_t n, size_t B, od_spectra_batcher **out);
/* idx must hold n entries for Bernoulli sampling, B otherwise. */
size_t od_spectra_batch_draw(od_spectra_batcher *b, od_stream *s, uint32_t *idx);
/* Resets the kept permutation to the identity: call at the start of each path, so a path's
 * batches depend only on its stream addresses (not on the paths a thread ran before). */
void od_spectra_batcher_reset(od_spectra_batcher *b);
void od_spectra_batcher_free(od_spectra_batcher *b);

/* One step of linearised SGD in reduced coordinates: x ← x − (η/B) Σ_{i∈batch} H̃_i x (x, y of
 * length r; y may alias x).  m = the batch's index count. */
void od_spectra_stab_step(const od_spectra_stab *st, double eta, const uint32_t *idx, size_t m,
                          const double *x, double *y, double *work);

typedef struct {
    size_t steps;            /* steps per run */
    size_t paths;            /* independent runs */
    size_t burn_in;          /* steps not counted in the Lyapunov average (default 0) */
    double blowup;           /* divergence: ‖x‖² >= blowup ‖x_0‖² (default 1000, Dexter et al.'s
                                protocol) */
    int uniform_start;       /* 1: x_0 ~ U[0,1]^r (the protocol of Dexter et al.'s code);
                                0: x_0 ~ N(0, I_r) */
    uint64_t seed;
    uint32_t stream;         /* x_0 at (path, 0), batches at (path, t + 1); default 12 */
} od_spectra_run_params;

od_spectra_run_params od_spectra_run_default_params(void);

/* One run of the linear recursion from x_0 (path `path`): returns the first step t at which
 * ‖x_t‖² >= blowup ‖x_0‖² (t >= 1), or 0 when it never happens within `steps` (also reports
 * ‖x_steps‖²/‖x_0‖² in *growth when growth != NULL). */
int od_spectra_stab_diverges(const od_spectra_stab *st, double eta, const od_spectra_run_params *prm,
                             uint32_t path, size_t *t_div, double *growth);

typedef struct {
    double mean, se;         /* the top Lyapunov exponent on W: mean over paths of
                                (1/t) Σ_s log(‖x_{s+1}‖/‖x_s‖) (renormalised every step), and its SE */
    size_t paths, steps;
    size_t zeroed;           /* paths in which an iterate became exactly 0 (I − ηH̃_i singular) */
} od_spectra_lyap_result;

/* The top Lyapunov exponent λ_L of x_{t+1} = (I − ηĤ_t) x_t on W, from `paths` renormalised runs
 * of `steps` steps after `burn_in`, through od_ensemble_run (byte-identical for any thread count).
 * λ_L <= ½ log ρ(T) (Jensen).  A path whose iterate is zeroed exactly contributes −inf: it is
 * counted in `zeroed` and the mean is over the others (see the caution of spectra.md §6.6). */
int od_spectra_stab_lyapunov(const od_spectra_stab *st, double eta, const od_spectra_run_params *prm,
                             od_spectra_lyap_result *res);

/* ---- edge of stability: sharpness tracking ------------------------------------------------------ */

/* Tracks λ_max of a problem's Hessian along a trajectory by Lanczos (od_spectra_eigs, top-k
 * algebraic), each call warm-started from the previous top eigenvector plus 0.1 times a random unit
 * vector (od_stream(seed, 13), path = call number): a pure warm start can miss an eigenvalue that
 * crosses the tracked one from below, because the start vector is then nearly orthogonal to it. */
typedef struct od_spectra_sharpness od_spectra_sharpness;
int od_spectra_sharpness_alloc(const od_problem *p, size_t k, double tol, uint64_t seed,
                               od_spectra_sharpness **out);
/* λ_1..λ_k at x into values (top first); *matvecs gets the HVPs this call spent (may be NULL). */
int od_spectra_sharpness_eval(od_spectra_sharpness *s, const double *x, double *values,
                              uint64_t *matvecs);
void od_spectra_sharpness_free(od_spectra_sharpness *s);

/* Called at every sharpness record of od_spectra_eos_run with the step t, the iterate x_t (length d,
 * read-only, valid during the call) and the k eigenvalues just computed.  OD_OK to go on; any other
 * status stops the run, which returns it. */
typedef int od_spectra_eos_record_fn(size_t t, const double *x, const double *values, void *ctx);

typedef struct {
    size_t steps;            /* GD steps */
    size_t every;            /* sharpness every k steps (and at 0 and the end) */
    size_t k;                /* eigenvalues tracked (default 1) */
    double tol;              /* Lanczos residual tolerance (default 1e-8) */
    double blowup;           /* divergence: loss > blowup · loss_0 or non-finite (default 1e6) */
    uint64_t seed;
    od_spectra_eos_record_fn *record;   /* optional (default NULL) */
    void *record_ctx;
} od_spectra_eos_params;

od_spectra_eos_params od_spectra_eos_default_params(void);

typedef struct {
    size_t steps_done;       /* steps taken (< steps when diverged) */
    long diverged_at;        /* step at which the run diverged, or −1 */
    double *loss;            /* steps_done + 1 values: loss before step t */
    size_t n_sharp;          /* sharpness records */
    size_t *sharp_step;      /* their steps */
    double *sharp;           /* n_sharp-by-k: λ_1..λ_k at those steps */
    size_t k;
    uint64_t matvecs;        /* HVPs spent on sharpness */
} od_spectra_eos_result;

/* Full-batch GD x ← x − lr ∇f(x) through the core problem interface (od_problem_grad, od_axpy)
 * from x (overwritten with the last iterate), recording the loss every step (the value the
 * problem's gradient returns with it, else od_problem_loss) and the top-k Hessian eigenvalues every
 * `every` steps.  A divergence stops the run and is reported in diverged_at (the records end there).
 * res is overwritten; free with od_spectra_eos_result_free. */
int od_spectra_eos_run(const od_problem *p, double *x, double lr, const od_spectra_eos_params *prm,
                       od_spectra_eos_result *res);
void od_spectra_eos_result_free(od_spectra_eos_result *res);

/* Batch means (Flegal & Jones, Ann. Statist. 2010, with batch size b = floor(sqrt(n))): the n − a b
 * earliest values (a = floor(n/b) batches) are dropped, *mean is the mean of the rest and *se the
 * standard deviation of the a batch means over sqrt(a) — the standard error of a time average of a
 * correlated series when a batch is longer than its correlation time (for a periodic series with a
 * shorter batch it overestimates).  *batch = b when batch != NULL.  OD_EINVAL for n < 4. */
int od_spectra_batch_means(const double *x, size_t n, double *mean, double *se, size_t *batch);

/* What the edge-of-stability claims are judged by (experiment edge-of-stability; Cohen et al.,
 * ICLR 2021: progressive sharpening to 2/η, then the sharpness "hovers right at, or just above" 2/η,
 * the loss non-monotone over short timescales and decreasing over long ones). */
typedef struct {
    long onset;              /* step of the first record with λ_1 >= 2/η, −1 if none */
    size_t n_post;           /* records from the onset on (the onset record included) */
    size_t crossings;        /* changes of the sign of λ_1 − 2/η between consecutive records from
                                the onset on */
    double ratio_mean, ratio_se;   /* time average of λ_1 η/2 over those records, batch-means SE
                                      (NaN for fewer than 4 records) */
    size_t ratio_batch;      /* records per batch */
    double ratio_min, ratio_max;   /* its extremes */
    size_t increases_pre, increases_post;   /* steps t with L(t+1) > L(t), t before / from the onset */
    size_t window;           /* a fifth of the steps from the onset to the end */
    double logloss_first, logloss_first_se;   /* mean of ln L over the first window, batch-means SE */
    double logloss_last, logloss_last_se;     /* the same over the last window (NaN when window < 4) */
    size_t loss_batch;       /* steps per batch */
} od_spectra_eos_stats;

/* The statistics above from a run at step size lr. */
int od_spectra_eos_analyze(const od_spectra_eos_result *r, double lr, od_spectra_eos_stats *s);

/* ---- scalar networks (Kreisler, Nacson, Soudry & Carmon, ICML 2023; spectra.md §7.2) ---------- */

/* L(w) = ½ (Π_{i<D} w_i − 1)²: loss, gradient (g may be NULL), and the dense D-by-D Hessian
 * H = ∇π∇πᵀ + (π − 1)∇²π (Hd may be NULL). */
double od_spectra_scalar_loss(size_t D, const double *w, double *g, double *Hd);

/* The sharpness λ_max of the Hessian at w (GSL's symmetric eigensolver on the D-by-D matrix). */
int od_spectra_scalar_sharpness(size_t D, const double *w, double *lam);

/* The sharpness of the gradient-flow solution from w (all w_i > 0): gradient flow conserves
 * w_i² − w_j², so its limit is w_i² = s + c_i, c_i = w_i² − w_0², with Π (s + c_i) = 1; solved by
 * GSL's Brent root finder on Σ ½ log(s + c_i) = 0 (increasing in s on s > −min c_i); S_GFS =
 * Σ 1/(s + c_i).  For D = 2, S_GFS = sqrt((u² − v²)² + 4).  OD_EINVAL unless every w_i > 0. */
int od_spectra_scalar_gfs(size_t D, const double *w, double *S, double *s_out);

#endif /* OPTDYN_SPECTRA_STABILITY_H */
