/* optdyn spectra — spectra of symmetric operators given by their action (prefix od_spectra_).
 *
 *   linop.c       operators: dense, CSR, implicit Gram X^T X / n, problem Hessians, per-sample
 *                 Hessians, block restriction; matvec counting; block (multi-vector) products
 *   mmio.c        Matrix Market reader (coordinate / array, real, general / symmetric)
 *   lanczos.c     Lanczos with full reorthogonalization (two classical Gram–Schmidt passes), the
 *                 step API, Ritz pairs and Gauss weights through GSL, and the top-k / bottom-k driver
 *                 with the ARPACK residual test, locking and explicit restarts
 *   slq.c         stochastic Lanczos quadrature: nodes/weights per probe, tr f(A), log-det, moments
 *   density.c     Gaussian smoothing ("exact" and PyHessian-compatible), step CDF, L1, KS, JS
 *   kpm.c         kernel polynomial method with Jackson damping
 *   hutchinson.c  Hutchinson trace and diagonal estimators with a standard-error stopping rule
 *   blocks.c      blockwise spectra (SLQ on named parameter blocks) and JS^0
 *   rmt.c         analytic references (Marchenko–Pastur, semicircle, BBP) and the random-matrix
 *                 models wishart / spiked / wigner of `optdyn spectrum`
 *   softmax.c     problems: softmax regression and Gaussian-mixture classification
 *   mlp.c         problems: two-layer networks (tanh / ReLU, biases) and the 1→100→1 Chebyshev net;
 *                 the Gauss–Newton operator of a two-layer network
 *   blockquad.c   problems: block-diagonal quadratics (Zhang et al. 2024 toy model)
 *   stability.h   stability of SGD at a minimum, edge of stability, scalar networks (hset.c,
 *                 stability.c, lyapunov.c, eos.c, scalar_net.c)
 *
 * Conventions (theory sheet spectra.md): "sharpness" is the largest algebraic eigenvalue; densities
 * are densities of states φ(t) = (1/d) Σ_j δ(t − λ_j) with unit mass; all Lanczos, SLQ and KPM
 * arithmetic is double precision.  Random probes come from od_stream (seed, stream id) with probe l
 * at path l, step 0, so results do not depend on thread counts or on whether probes run as a block.
 */
#ifndef OPTDYN_SPECTRA_H
#define OPTDYN_SPECTRA_H

#include <stddef.h>
#include <stdint.h>

#include "core/optdyn_core.h"

/* =============================================================================================
 * Linear operators
 * ============================================================================================= */

/* y = A x for one vector (x, y of length dim; never aliased).  Returns an od_status. */
typedef int od_spectra_matvec_fn(const double *x, double *y, void *ctx);
/* Y = A X for b vectors stored one after another (vector j is X + j dim).  Must give the same bytes
 * as b calls of the matvec (so a block run reproduces a one-vector run). */
typedef int od_spectra_blockmv_fn(size_t b, const double *X, double *Y, void *ctx);

typedef struct od_spectra_linop {
    size_t dim;
    od_spectra_matvec_fn *matvec;
    od_spectra_blockmv_fn *block;   /* optional: NULL means b single products */
    void *ctx;
    void (*free_ctx)(void *ctx);    /* releases ctx (NULL: ctx is borrowed) */
    uint64_t matvecs;               /* vector applications so far (a block of b counts b) */
    int symmetric;                  /* 1 when the operator is known to be symmetric */
    char label[160];
} od_spectra_linop;

/* Applies op: y = A x, or Y = A X on b vectors; counts op->matvecs.  Checks that the result is
 * finite (OD_ENUMERIC naming the operator otherwise).  An operator is not to be applied from two
 * threads at once (the counter and some contexts are not shared-safe); build one per thread. */
int od_spectra_apply(od_spectra_linop *op, const double *x, double *y);
int od_spectra_apply_block(od_spectra_linop *op, size_t b, const double *X, double *Y);

/* Allocates an operator around a callback; takes ownership of ctx when free_ctx != NULL (also on
 * failure, when it is released).  NULL on allocation failure. */
od_spectra_linop *od_spectra_linop_alloc(size_t dim, od_spectra_matvec_fn *mv,
                                         od_spectra_blockmv_fn *block, void *ctx,
                                         void (*free_ctx)(void *), const char *label);
void od_spectra_linop_free(od_spectra_linop *op);   /* NULL-tolerant; frees ctx if owned */

/* Dense symmetric d-by-d matrix (row-major), copied.  Rejects non-finite entries (OD_EINVAL naming
 * the entry) and asymmetry beyond |a_ij − a_ji| > 64 ε max|a| (OD_EINVAL).  The block product makes
 * one pass over A for all b vectors; rows are split in fixed chunks across OpenMP threads, each row
 * computed by one thread in a fixed order, so the bytes do not depend on the thread count. */
int od_spectra_linop_dense(size_t d, const double *A, od_spectra_linop **out);

/* Sparse symmetric matrix in CSR form (row_ptr[d + 1], col[nnz], val[nnz], every entry stored,
 * both triangles), copied.  Same checks as the dense form (symmetry is checked entry by entry). */
int od_spectra_linop_csr(size_t d, const size_t *row_ptr, const size_t *col, const double *val,
                         od_spectra_linop **out);

/* The implicit Gram operator A = scale X^T X with X n-by-d row-major (copied unless own_X, in which
 * case X must come from od_vec_alloc and is freed with the operator).  One pass over X per product:
 * y = scale Σ_i x_i (x_i · v), rows in fixed chunks summed in chunk order (thread-count invariant).
 * The block product does b vectors per pass over X. */
int od_spectra_linop_gram(size_t n, size_t d, double *X, int own_X, double scale,
                          od_spectra_linop **out);

/* The Hessian of problem p at x: y = ∇²f(x) v through od_problem_hvp.  p is borrowed (must outlive
 * the operator); x is copied. */
int od_spectra_linop_hessian(const od_problem *p, const double *x, od_spectra_linop **out);

/* The per-sample Hessian H_i(x) of a finite-data problem (od_problem_sample_hvp), for the stability
 * operator of issue 5.  OD_ENOTSUP when p has no sample_hvp, OD_ERANGE when i >= n. */
int od_spectra_linop_sample_hessian(const od_problem *p, const double *x, size_t i,
                                    od_spectra_linop **out);

/* The restriction of parent to the coordinates [lo, hi): y = P A Pᵀ v, with the other coordinates
 * held at zero (block spectra).  parent is borrowed; its matvec counter counts the products. */
int od_spectra_linop_restrict(od_spectra_linop *parent, size_t lo, size_t hi,
                              od_spectra_linop **out);

/* The dense matrix of op (d applications on the unit vectors; for tests and small d): A[i d + j]. */
int od_spectra_linop_to_dense(od_spectra_linop *op, double *A);

/* Reads a Matrix Market file: `%%MatrixMarket matrix coordinate|array real|integer
 * general|symmetric`.  The matrix must be square and symmetric; coordinate files give a CSR operator,
 * array files a dense one.  Every error names the file and the line: a malformed header or size line,
 * an entry out of range or malformed, NaN/Inf values, a missing or extra entry, a general matrix
 * that is not symmetric (the line of the offending entry), an unsupported field (complex, pattern)
 * or format.  OD_EIO (cannot read), OD_EPARSE (malformed), OD_EINVAL (not square / not symmetric /
 * not finite). */
int od_spectra_mm_read(const char *path, od_spectra_linop **out);

/* =============================================================================================
 * Lanczos
 * ============================================================================================= */

typedef enum {
    OD_SPECTRA_REORTH_NONE = 0,   /* the plain three-term recurrence (ghosts appear) */
    OD_SPECTRA_REORTH_FULL = 1    /* full reorthogonalization, two classical Gram–Schmidt passes */
} od_spectra_reorth;

/* The Lanczos workspace: Q (up to max_steps + 1 vectors of length d), α, β.  Step API:
 *      od_spectra_lanczos *L = od_spectra_lanczos_alloc(d, m);
 *      od_spectra_lanczos_start(L, v0);                 // v0 normalised inside
 *      while (L->steps < m && !L->breakdown) od_spectra_lanczos_step(L, op);
 *      od_spectra_lanczos_ritz(L, theta, tau, resid, Y);
 * After j steps: α_1..α_j, β_1..β_j (β_j couples q_j and q_{j+1}); T_j = tridiag(β; α; β). */
typedef struct {
    size_t dim, max_steps;
    size_t steps;            /* j, steps done */
    int breakdown;           /* 1 when β_j fell below break_tol · max(|α_j|, β_{j−1}) */
    od_spectra_reorth reorth;
    double break_tol;        /* ε_break, default 100 ε_mach */
    double *Q;               /* q_1..q_{j+1}, vector k at Q + k d (k from 0) */
    double *alpha, *beta;    /* length max_steps */
    double *w;               /* scratch d */
    double *h;               /* scratch max_steps + 1 (Gram–Schmidt coefficients) */
    const double *lock;      /* optional: nlock orthonormal vectors kept out of the Krylov space */
    size_t nlock;
} od_spectra_lanczos;

/* Allocates for dimension d and at most m steps (1 <= m <= d).  Defaults: full reorthogonalization,
 * break_tol = 100 ε.  NULL on failure (reason in od_last_error). */
od_spectra_lanczos *od_spectra_lanczos_alloc(size_t d, size_t m);
void od_spectra_lanczos_free(od_spectra_lanczos *L);

/* Resets to step 0 with q_1 = v0 / ‖v0‖ (after removing the locked vectors' components).
 * OD_EINVAL for a zero or non-finite v0. */
int od_spectra_lanczos_start(od_spectra_lanczos *L, const double *v0);

/* One step (theory sheet §2.1): w = A q_j − α_j q_j − β_{j−1} q_{j−1}, then (full mode) two passes
 * w ← w − Q_j(Q_jᵀ w) (and against the locked vectors), β_j = ‖w‖, q_{j+1} = w/β_j.  On breakdown
 * it sets L->breakdown and stores β_j (no q_{j+1}).  OD_EMAXITER when max_steps are done. */
int od_spectra_lanczos_step(od_spectra_lanczos *L, od_spectra_linop *op);

/* The same step with the product A q_j already computed (Aq, length d, may be L->w): for drivers
 * that apply the operator to several recurrences at once through a block product. */
int od_spectra_lanczos_step_given(od_spectra_lanczos *L, const double *Aq);

/* Ritz pairs of T_j (j = L->steps) through GSL's dense symmetric eigensolver on the j-by-j
 * tridiagonal matrix, in increasing order: theta[0..j), Gauss weights tau[k] = (e_1ᵀ y_k)² (they sum
 * to 1), residual bounds resid[k] = β_j |e_jᵀ y_k| (= ‖A Q y_k − θ_k Q y_k‖ in exact arithmetic;
 * 0 after a breakdown), and when Y != NULL the eigenvectors of T as the columns of Y (j-by-j,
 * row-major).  Any output may be NULL. */
int od_spectra_lanczos_ritz(const od_spectra_lanczos *L, double *theta, double *tau, double *resid,
                            double *Y);

/* Ritz vector Q_j y for a column y of T's eigenvectors (length j): out (length d). */
void od_spectra_lanczos_ritz_vector(const od_spectra_lanczos *L, const double *y, double *out);

/* ‖Q_{j+1}ᵀ Q_{j+1} − I‖_max, the loss of orthogonality (for tests and the ghosts experiment). */
double od_spectra_lanczos_orth_error(const od_spectra_lanczos *L);

typedef enum {
    OD_SPECTRA_TOP = 0,      /* largest algebraic, top first */
    OD_SPECTRA_BOTTOM = 1,   /* smallest algebraic, bottom first */
    OD_SPECTRA_BOTH = 2,     /* ceil(k/2) from the top (top first), then floor(k/2) from the bottom */
    OD_SPECTRA_MAGNITUDE = 3 /* largest |λ| (what scipy eigsh's default 'LM' and PyHessian return) */
} od_spectra_which;

typedef struct {
    size_t k;                 /* wanted pairs, 1 <= k < d */
    od_spectra_which which;
    double tol;               /* converged when β_m |y_{m,i}| < tol · max(ε^{2/3}, |θ_i|); 1e-10 */
    size_t max_krylov;        /* Krylov size before a restart; 0 = min(d, max(2k + 20, 200)) */
    size_t max_restarts;      /* explicit restarts with locking; default 50 */
    od_spectra_reorth reorth; /* default full */
    int want_vectors;         /* return the eigenvectors */
    const double *v0;         /* start vector (warm start), or NULL for a random one */
    uint64_t seed;            /* random start: od_stream(seed, stream), path 0 */
    uint32_t stream;
} od_spectra_eigs_params;

od_spectra_eigs_params od_spectra_eigs_default_params(void);

typedef struct {
    size_t k;
    double *values;      /* k eigenvalue estimates in the order of `which` */
    double *residuals;   /* their Ritz residual bounds β |e_mᵀ y| */
    double *vectors;     /* k-by-d row-major when asked, else NULL */
    size_t n_converged;  /* pairs that passed the residual test */
    size_t steps;        /* Lanczos steps in total */
    size_t restarts;
    uint64_t matvecs;
} od_spectra_eigs_result;

/* Extreme eigenpairs of the symmetric operator op.  Lanczos runs up to max_krylov steps, checking
 * the residual test periodically (no extra products); when the k wanted pairs have not converged it
 * locks the converged ones, restarts from the sum of the unconverged wanted Ritz vectors, and keeps
 * the next Krylov space orthogonal to the locked vectors.  If the Krylov space becomes invariant
 * first, it continues from a random vector orthogonal to it.  Returns OD_OK with
 * res->n_converged == k, or OD_EMAXITER with the best estimates filled in.  OD_EINVAL for k >= d or
 * k = 0.  res is overwritten; free with od_spectra_eigs_result_free.
 *
 * Limit — multiple eigenvalues.  A Krylov space grown from one start vector holds, in exact
 * arithmetic, a single direction of each eigenspace (the start vector's projection on it).  Further
 * copies of a multiple eigenvalue enter only through rounding (amplified at a rate set by the gap to
 * the rest of the spectrum), through the fresh vectors taken after a breakdown, or through restarts.
 * The residual test certifies each returned pair on its own, not that the k pairs span the wanted
 * k-dimensional invariant subspace, so the driver can return a multiple eigenvalue fewer times than
 * its multiplicity — with the next eigenvalue in its place and every residual small — when v0 has
 * no component along some copies, or when the wanted pairs converge before rounding reveals the
 * copies (small gaps).  Remedies: ask for more pairs than needed, compare runs from different seeds,
 * or lock the returned vectors (od_spectra_lanczos.lock) and check that the largest eigenvalue left
 * is below the k-th returned one.  ARPACK (scipy eigsh) has the same limit. */
int od_spectra_eigs(od_spectra_linop *op, const od_spectra_eigs_params *prm,
                    od_spectra_eigs_result *res);
void od_spectra_eigs_result_free(od_spectra_eigs_result *res);

/* =============================================================================================
 * Stochastic Lanczos quadrature
 * ============================================================================================= */

typedef enum { OD_SPECTRA_RADEMACHER = 0, OD_SPECTRA_GAUSSIAN = 1 } od_spectra_probe;

/* Fills z (length d) with probe l: Rademacher signs or standard normals from od_stream(seed, stream)
 * at path l, step 0. */
void od_spectra_probe_fill(od_spectra_probe kind, uint64_t seed, uint32_t stream, uint32_t l,
                           size_t d, double *z);

typedef struct {
    size_t steps;             /* m, Lanczos steps per probe (1 <= m <= d) */
    size_t probes;            /* n_v */
    od_spectra_probe probe;   /* default Rademacher */
    od_spectra_reorth reorth; /* default full */
    uint64_t seed;
    uint32_t stream;          /* default 1 */
    int block;                /* 1: run the probes in lockstep through the block product (default);
                                 0: one probe at a time.  Same numbers either way. */
} od_spectra_slq_params;

od_spectra_slq_params od_spectra_slq_default_params(void);

typedef struct {
    size_t dim, probes, steps;
    size_t *m;          /* steps actually done per probe (< steps after a breakdown) */
    double *nodes;      /* probe l: nodes[l steps + k], k < m[l], increasing */
    double *weights;    /* Gauss weights, Σ_k weights[l steps + k] = 1 */
    double *znorm2;     /* ‖z_l‖² (= d for Rademacher) */
    uint64_t matvecs;
} od_spectra_slq_result;

/* Runs SLQ (theory sheet §3.1).  res overwritten; free with od_spectra_slq_result_free. */
int od_spectra_slq(od_spectra_linop *op, const od_spectra_slq_params *prm,
                   od_spectra_slq_result *res);
void od_spectra_slq_result_free(od_spectra_slq_result *res);

typedef double od_spectra_fn(double x, void *params);

/* tr f(A) ≈ (1/n_v) Σ_l ‖z_l‖² Σ_k τ_k f(θ_k), with the standard error over probes in *se (NaN for
 * one probe).  OD_ENUMERIC when f is not finite at a node (e.g. log of a non-positive node). */
int od_spectra_slq_trace(const od_spectra_slq_result *r, od_spectra_fn *f, void *params,
                         double *trace, double *se);
/* log det A = tr log A (A must be positive definite; a node ≤ 0 is OD_ENUMERIC naming it). */
int od_spectra_slq_logdet(const od_spectra_slq_result *r, double *logdet, double *se);
/* Normalised moment (1/d) tr A^j, exact for each probe's quadratic form when j <= 2m − 1. */
int od_spectra_slq_moment(const od_spectra_slq_result *r, int j, double *moment, double *se);

/* =============================================================================================
 * Densities and distances
 * ============================================================================================= */

typedef enum {
    OD_SPECTRA_SMOOTH_EXACT = 0,    /* project default: global grid, no renormalisation */
    OD_SPECTRA_SMOOTH_PYHESSIAN = 1 /* PyHessian density_generate, quirk included (§4.2) */
} od_spectra_smooth_mode;

typedef struct {
    od_spectra_smooth_mode mode;
    double sigma;          /* EXACT: kernel standard deviation; <= 0 = automatic (below) */
    double lo, hi;         /* EXACT: grid ends; NaN = automatic */
    size_t n;              /* grid points (default 1000; PyHessian's default is 10000) */
    double sigma_squared;  /* PYHESSIAN: the variance scale (default 1e-5) */
    double overhead;       /* grid widening (default 0.01, PyHessian's) */
} od_spectra_smooth_params;

od_spectra_smooth_params od_spectra_smooth_default_params(void);

typedef struct {
    size_t n;
    double *x, *y;          /* grid and density */
    double sigma;           /* kernel standard deviation used */
    double mass_outside;    /* mass of the smoothed estimate outside [x_0, x_{n−1}] (before any
                               renormalisation), from the Gaussian CDF */
    double mass_grid;       /* trapezoid integral of y over the grid */
} od_spectra_density;

/* Smooths the nodes/weights of n_runs runs (run l: count[l] nodes at nodes + l stride, weights
 * likewise; weights of a run sum to 1) with a Gaussian kernel:
 *   φ̂(t) = (1/n_runs) Σ_l Σ_k τ_k g_σ(t − θ_k).
 * EXACT: grid on [min θ − overhead·range − 4σ, max θ + overhead·range + 4σ] unless lo/hi given; σ
 * automatic = (max θ − min θ) / max_l count[l] (the node spacing, theory sheet §4.1; a tiny fallback
 * for a single point).  PYHESSIAN: reproduces amirgholami/PyHessian density_plot.py::density_generate
 * — grid = linspace(mean of run minima − overhead, mean of run maxima + overhead, n), variance
 * sigma_squared · max(1, range), mean over runs, then y ← y / (Σ y · Δx) — including the quirk that
 * mass outside the grid is dropped and the rest scaled up (mass_outside reports it).
 * out is overwritten; free with od_spectra_density_free. */
int od_spectra_smooth(size_t n_runs, const size_t *count, size_t stride, const double *nodes,
                      const double *weights, const od_spectra_smooth_params *prm,
                      od_spectra_density *out);
/* The same on an SLQ result. */
int od_spectra_slq_density(const od_spectra_slq_result *r, const od_spectra_smooth_params *prm,
                           od_spectra_density *out);
void od_spectra_density_free(od_spectra_density *d);

/* Evaluates the smoothed SLQ density of each probe separately on x[0..n) (dens: n_runs-by-n) —
 * for standard errors of the mean density. */
int od_spectra_smooth_runs(size_t n_runs, const size_t *count, size_t stride, const double *nodes,
                           const double *weights, double sigma, size_t n, const double *x,
                           double *dens);

/* The mean over runs of the per-run smoothed densities at x[0..n) and its standard error over runs
 * (se may be NULL; NaN for one run). */
int od_spectra_smooth_mean_se(size_t n_runs, const size_t *count, size_t stride,
                              const double *nodes, const double *weights, double sigma, size_t n,
                              const double *x, double *mean, double *se);

/* Step distribution F̂(t) = (1/n_runs) Σ_l Σ_k τ_k 1{θ_k ≤ t}. */
double od_spectra_step_cdf(size_t n_runs, const size_t *count, size_t stride, const double *nodes,
                           const double *weights, double t);

/* KS distance sup_t |F̂(t) − F(t)| between the step distribution and a continuous CDF F (checked at
 * every node, both sides of each jump). */
double od_spectra_ks(size_t n_runs, const size_t *count, size_t stride, const double *nodes,
                     const double *weights, od_spectra_fn *cdf, void *params);

/* ∫ |f − g| dx by the trapezoid rule on a common grid x[0..n). */
double od_spectra_l1(size_t n, const double *x, const double *f, const double *g);

/* Jensen–Shannon distance between two densities on a common grid (each normalised to a probability
 * vector p_i ∝ f(x_i)), sqrt(½ KL(p‖m) + ½ KL(q‖m)), m = (p + q)/2, 0 log 0 = 0; logarithm base e
 * (base = 0 or e) or 2 (base = 2).  Equals scipy.spatial.distance.jensenshannon.  Maximum √(ln 2)
 * (base e) or 1 (base 2).  NaN when a density has no positive mass or a negative value. */
double od_spectra_js(size_t n, const double *f, const double *g, double base);

/* Gaussian smoothing of an analytic density ρ supported on [a, b] with square-root edges
 * ρ(x) = sqrt((x − a)(b − x)) · h(x): (ρ ∗ g_σ)(t) for every t = x[i], by GSL's QAWS quadrature
 * (tolerance 1e-10 relative). */
int od_spectra_smooth_sqrt_edge(od_spectra_fn *h, void *hp, double a, double b, double sigma,
                                size_t n, const double *x, double *y);

/* =============================================================================================
 * Kernel polynomial method
 * ============================================================================================= */

typedef struct {
    size_t moments;         /* M (Chebyshev degree); 2M moments come from M products per probe */
    size_t probes;
    od_spectra_probe probe;
    uint64_t seed;
    uint32_t stream;        /* default 2 */
    double lo, hi;          /* spectral bounds; NaN = from a 30-step Lanczos run, widened by 1% */
} od_spectra_kpm_params;

od_spectra_kpm_params od_spectra_kpm_default_params(void);

typedef struct {
    size_t n_mu;            /* 2M + 1 moments μ_0..μ_2M of the rescaled operator */
    double *mu;
    double *mu_se;          /* standard error over probes */
    double c, e;            /* Â = (A − c I)/e */
    uint64_t matvecs;
} od_spectra_kpm_result;

/* Moments μ_k = (1/d) E zᵀ T_k(Â) z by the Chebyshev recurrence and the doubling trick (§4.4). */
int od_spectra_kpm(od_spectra_linop *op, const od_spectra_kpm_params *prm,
                   od_spectra_kpm_result *res);
void od_spectra_kpm_result_free(od_spectra_kpm_result *res);

/* The Jackson-damped KPM density in the original variable at x[0..n):
 *   φ(λ) = [g_0 μ_0 + 2 Σ_{k=1}^{K} g_k μ_k T_k(t)] / (π e √(1 − t²)),  t = (λ − c)/e,
 * K = n_mu − 1, g_k Jackson's coefficients; 0 outside (−1, 1). */
int od_spectra_kpm_density(const od_spectra_kpm_result *r, size_t n, const double *x, double *y);

/* Jackson coefficient g_k for degree M (theory sheet §4.4). */
double od_spectra_jackson(size_t k, size_t M);

/* =============================================================================================
 * Hutchinson
 * ============================================================================================= */

typedef struct {
    size_t min_probes;      /* default 10 */
    size_t max_probes;      /* default 1000 */
    double rel_tol;         /* stop when SE/|mean| < rel_tol (after min_probes); 0 = run max_probes */
    od_spectra_probe probe;
    uint64_t seed;
    uint32_t stream;        /* default 3 */
    size_t block;           /* probes per block product (default 10; 1 = one at a time) */
} od_spectra_hutch_params;

od_spectra_hutch_params od_spectra_hutch_default_params(void);

typedef struct {
    double trace, se;       /* mean of z_iᵀ A z_i and its standard error */
    size_t probes;
    int converged;          /* 1 when the SE rule stopped it */
    uint64_t matvecs;
} od_spectra_hutch_result;

/* tr A ≈ (1/N) Σ z_iᵀ A z_i; if diag != NULL also the diagonal estimate mean(z ⊙ A z) (length d).
 * Per-probe variance: 2‖A‖_F² (Gaussian), 2(‖A‖_F² − Σ A_ii²) (Rademacher). */
int od_spectra_hutchinson(od_spectra_linop *op, const od_spectra_hutch_params *prm,
                          od_spectra_hutch_result *res, double *diag);

/* =============================================================================================
 * Blockwise spectra
 * ============================================================================================= */

typedef struct {
    char name[32];
    size_t lo, hi;          /* coordinates [lo, hi) */
} od_spectra_block;

typedef enum {
    OD_SPECTRA_NORM_NONE = 0,
    OD_SPECTRA_NORM_MAX = 1,     /* divide each block's nodes by its largest eigenvalue */
    OD_SPECTRA_NORM_TENTH = 2    /* by its 10th-largest (Zhang et al. 2024, Fig. 3) */
} od_spectra_block_norm;

/* The named parameter blocks of a problem built by this module (layers, classes, quadratic blocks),
 * or one block "all" for any other problem.  Writes at most cap blocks; *n gets the count. */
int od_spectra_problem_blocks(const od_problem *p, od_spectra_block *out, size_t cap, size_t *n);

/* Parses "auto" (uses auto_blocks) or "name=lo:hi,name=lo:hi,..." for dimension d.  Errors name the
 * offending item. */
int od_spectra_blocks_parse(const char *text, size_t d, const od_spectra_block *auto_blocks,
                            size_t n_auto, od_spectra_block *out, size_t cap, size_t *n);

/* SLQ on each block's restriction of op; res[b] per block.  norm: nodes divided by the block's
 * largest / 10th-largest eigenvalue (from od_spectra_eigs, tol 1e-8); scale[b] receives the divisor
 * (1 without normalisation). */
int od_spectra_block_slq(od_spectra_linop *op, size_t n_blocks, const od_spectra_block *blocks,
                         const od_spectra_slq_params *prm, od_spectra_block_norm norm,
                         od_spectra_slq_result *res, double *scale);

/* JS distances between all pairs of smoothed densities on a common grid (dens: n_blocks-by-n);
 * js[i n_blocks + j]; returns JS^0 = mean over pairs i < j. */
double od_spectra_js_matrix(size_t n_blocks, size_t n, const double *dens, double base, double *js);

/* =============================================================================================
 * Analytic references (theory sheet §10)
 * ============================================================================================= */

typedef struct {
    double s2, c;           /* entry variance s², aspect ratio c = d/n */
} od_spectra_mp;

double od_spectra_mp_density(double x, void *mp);   /* absolutely continuous part (c > 1: atom 1 − 1/c at 0) */
double od_spectra_mp_cdf(double x, void *mp);       /* by QAWS quadrature, atom included */
void od_spectra_mp_edges(const od_spectra_mp *mp, double *lo, double *hi);
double od_spectra_mp_moment(const od_spectra_mp *mp, int j);   /* j = 1, 2, 3 */
double od_spectra_mp_logmoment(const od_spectra_mp *mp);       /* ∫ log x dρ, c < 1 */
double od_spectra_semicircle_density(double x, void *s);       /* s: pointer to the scale s */
double od_spectra_semicircle_cdf(double x, void *s);
/* BBP: outlier location (1 + ℓ)(1 + c/ℓ) and squared overlap (1 − c/ℓ²)/(1 + c/ℓ) for ℓ > √c;
 * the edge (1 + √c)² and 0 below. */
void od_spectra_bbp(double ell, double c, double *lambda, double *overlap2);

/* Random-matrix operators of `optdyn spectrum --model`:
 *   wishart:n=,d=,s2=    X^T X / n with X_ij ~ N(0, s2)                    (implicit Gram)
 *   spiked:n=,d=,ell=    X^T X / n with rows ~ N(0, I + ℓ e_1 e_1^T)         (implicit Gram)
 *   wigner:n=,s=         (G + Gᵀ) s / sqrt(2n), G_ij ~ N(0, 1)               (dense)
 * Data from od_stream(seed, 1) with row i at path i (row i does not depend on n). */
typedef struct {
    const char *name;
    const char *help;
    const od_param *params;
    size_t n_params;
    int (*build)(const od_params *v, uint64_t seed, od_spectra_linop **out);
} od_spectra_model_entry;

extern const od_spectra_model_entry *const od_spectra_models[];   /* NULL-terminated */

/* Builds an operator from "name[:k=v,...]" if name is one of od_spectra_models; OD_ENOTFOUND
 * otherwise (so a caller can fall back to the problem catalogs). */
int od_spectra_model_from_spec(const char *spec, uint64_t seed, od_spectra_linop **out);

/* =============================================================================================
 * Problems (od_problem types) for Hessian spectra
 * ============================================================================================= */

/* Softmax (multinomial logistic) regression with K classes on data X (n-by-d), labels y_i in
 * {0..K−1}: parameters x = (x^0, ..., x^{K−1}) ∈ R^{K d} (class-major),
 *   f_i(x) = −x^{y_i}·X_i + log Σ_c exp(x^c·X_i) + (ridge/2)‖x‖².
 * Hessian: H = (1/n) Σ_i (diag π_i − π_i π_iᵀ) ⊗ X_i X_iᵀ + ridge I, π_i = softmax(x·X_i).
 * Finite data: sample_loss/grad/hvp, minibatches with replacement, empirical noise covariance.
 * Blocks: one per class ("class0", ...). */
int od_spectra_softmax_problem(size_t n, size_t d, size_t K, const double *X, const uint32_t *y,
                               double ridge, od_problem **out);

/* Draws n samples of the k-component Gaussian mixture of Ben Arous et al. (ICLR 2024): class a
 * uniform on {0..k−1}, Y = μ_a + Z / sqrt(snr) with μ_a = e_a (orthonormal means) and Z ~ N(0, I_d).
 * Sample i uses od_stream(seed, stream) at path i, step `step` (so online SGD can draw sample t at
 * step t).  X: n-by-d, y: n labels. */
void od_spectra_gmm_sample(size_t n, size_t d, size_t k, double snr, uint64_t seed, uint32_t stream,
                           uint32_t step, double *X, uint32_t *y);

typedef enum { OD_SPECTRA_ACT_TANH = 0, OD_SPECTRA_ACT_RELU = 1 } od_spectra_act;

/* Two-layer network f(x) = Σ_j a_j φ(w_j·x + b_j) with MSE loss f_i = ½ (f(x_i) − y_i)², on data X
 * (n-by-d_in), y (n).  Parameters θ = (W (h-by-d_in, row-major), b (h, only when biases), a (h)).
 * Hessian (theory sheet §10): H = (1/n) Σ_i [J_i J_iᵀ + r_i ∇²f(x_i)], with the within-neuron second
 * derivatives; ReLU uses φ'' = 0 (a.e.).  x0 (the suggested start) = init when init != NULL.
 * Blocks: "W", "b" (when biases), "a". */
int od_spectra_mlp_problem(size_t n, size_t d_in, size_t h, od_spectra_act act, int biases,
                           const double *X, const double *y, const double *init, od_problem **out);

/* The Gauss–Newton part of the Hessian of a two-layer network built by od_spectra_mlp_problem (also
 * by name: mlp, chebyshev-net) at θ = x:
 *      G = (1/n) Σ_i J_i J_iᵀ,  J_i = ∇_θ f(x_i),   so that   H = G + R,  R = (1/n) Σ_i r_i ∇²f(x_i).
 * G is positive semidefinite, does not depend on the labels, and by Weyl every eigenvalue of H lies
 * within ‖R‖₂ of the matching eigenvalue of G (Sagun et al. 2017 link the Hessian's outliers to G).
 * p is borrowed (must outlive the operator); x is copied.  OD_ENOTSUP for any other problem,
 * OD_EINVAL for a NULL or non-finite x. */
int od_spectra_mlp_gauss_newton(const od_problem *p, const double *x, od_spectra_linop **out);

/* The edge-of-stability regression net of Cohen et al. (ICLR 2021, locuslab/edge-of-stability
 * `regression` on `chebyshev-k-20`): n points x_i = linspace(−1, 1, n), y_i = T_k(x_i); 1 → h tanh
 * → 1 with first-layer bias and no output bias; init W ~ N(0, (1.9 sqrt(2/(1+h)))²), b = 0,
 * a ~ N(0, 2/(1+h)) from od_stream(seed, 3).  Loss ½ mean r² (their SquaredLoss / n). */
int od_spectra_chebyshev_net(size_t n, int degree, size_t h, uint64_t seed, od_problem **out);

/* Block-diagonal quadratic f(w) = ½ wᵀ H w, H = blockdiag(Q_l diag(λ_l) Q_lᵀ), Q_l Haar (QR of a
 * Gaussian matrix, signs fixed), eigenvalues given per block (lambda: Σ sizes values, block after
 * block).  Streaming, noise-free; xstar = 0.  Blocks: "block0", ... */
int od_spectra_blockquad_problem(size_t n_blocks, const size_t *sizes, const double *lambda,
                                 uint64_t seed, od_problem **out);

/* The module's problems by name (softmax, gmm, mlp, chebyshev-net, blocks), NULL-terminated; listed
 * in experiments/catalog.c. */
extern const od_problem_entry *const od_spectra_problems[];

/* Stability of SGD at a minimum, sharpness tracking and scalar networks: spectra/stability.h,
 * part of this module's public interface. */
#include "spectra/stability.h"

#endif /* OPTDYN_SPECTRA_H */
