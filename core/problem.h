/* optdyn core — the problem (oracle) interface and the built-in problems of the core.
 *
 * A problem is an oracle (DESIGN.md, idea 1).  Optimizers, SDEs, Lanczos and the stability analysis
 * only ever talk to this interface.  An od_problem bundles the dimension d, the objective
 *
 *      f(x) = (1/n) sum_i f_i(x)          (finite data, n > 0)
 *      f(x) = E_xi f(x; xi)               (streaming, n = 0; f is the population objective)
 *
 * its gradient, Hessian-vector products, stochastic minibatch gradients drawn from an od_stream,
 * per-sample gradients and, where known, per-sample Hessian actions, the exact per-sample gradient
 * covariance Sigma1(x) = Cov(grad f_xi(x)) and a sampler of N(0, Sigma1(x)) that avoids a matrix
 * square root.
 *
 * Sampling contract.  A minibatch is drawn from the stream at its current position: streaming
 * problems draw B fresh samples, finite problems draw B indices uniformly with replacement with
 * od_stream_below(n).  batch_grad and sample_grads called on identically positioned streams use the
 * same batch, and batch_grad equals the mean of the B rows of sample_grads (up to rounding).
 * A minibatch gradient therefore has covariance Sigma1(x) / B.
 *
 * Problems are immutable after construction; every method is thread-safe.
 */
#ifndef OD_PROBLEM_H
#define OD_PROBLEM_H

#include <stddef.h>
#include <stdint.h>

#include "core/param.h"
#include "core/stream.h"

typedef struct od_problem od_problem;

/* The vtable.  Methods return an od_status; a NULL method means "not available" and the wrapper
 * functions below return OD_ENOTSUP for it. */
typedef struct od_problem_type {
    const char *name;
    /* *f = f(x) */
    int (*loss)(const od_problem *p, const double *x, double *f);
    /* g = grad f(x); also *f = f(x) when f != NULL */
    int (*grad)(const od_problem *p, const double *x, double *g, double *f);
    /* hv = H(x) v */
    int (*hvp)(const od_problem *p, const double *x, const double *v, double *hv);
    /* g = (1/B) sum_b grad f_{xi_b}(x) over a minibatch drawn from s; *f = minibatch loss if f != NULL */
    int (*batch_grad)(const od_problem *p, const double *x, size_t B, od_stream *s, double *g,
                      double *f);
    /* G (B-by-d, row-major) = the per-sample gradients of the minibatch batch_grad would draw */
    int (*sample_grads)(const od_problem *p, const double *x, size_t B, od_stream *s, double *G);
    /* finite data only: f_i(x), grad f_i(x), H_i(x) v */
    int (*sample_loss)(const od_problem *p, const double *x, size_t i, double *fi);
    int (*sample_grad)(const od_problem *p, const double *x, size_t i, double *gi);
    int (*sample_hvp)(const od_problem *p, const double *x, size_t i, const double *v, double *hv);
    /* cov (d-by-d) = Sigma1(x), the per-sample gradient covariance, exactly */
    int (*noise_cov)(const od_problem *p, const double *x, double *cov);
    /* out = a draw of N(0, Sigma1(x)) from s, using the structure of Sigma1 (no square root) */
    int (*noise_sample)(const od_problem *p, const double *x, od_stream *s, double *out);
    /* releases p->data */
    void (*free_data)(void *data);
} od_problem_type;

/* What is known about the structure of Sigma1(x), as flags in od_problem.noise (0 = nothing known,
 * e.g. multiplicative noise that depends on x).  Integrators use them to choose schemes (Milstein
 * reduces to Euler-Maruyama for constant noise; diagonal noise permits componentwise Milstein). */
enum {
    OD_NOISE_CONSTANT = 1u,   /* Sigma1(x) does not depend on x (additive noise) */
    OD_NOISE_DIAGONAL = 2u    /* Sigma1(x) is diagonal for every x */
};

struct od_problem {
    const od_problem_type *type;
    size_t dim;        /* d */
    size_t n;          /* number of samples (finite data), 0 for streaming problems */
    void *data;        /* owned by the problem, released by type->free_data */
    double *xstar;     /* a known minimizer (owned), or NULL */
    double fstar;      /* f(xstar) when xstar != NULL */
    double *x0;        /* suggested initial point (owned), or NULL for the origin */
    unsigned noise;    /* OD_NOISE_* flags describing Sigma1(x); 0 when nothing is known */
    char label[128];   /* human-readable description, e.g. "linreg: d=100, powerlaw exp=2" */
};

/* Wrappers: check for a NULL method (OD_ENOTSUP) and for i < n where it applies (OD_ERANGE). */
int od_problem_loss(const od_problem *p, const double *x, double *f);
int od_problem_grad(const od_problem *p, const double *x, double *g, double *f);
int od_problem_hvp(const od_problem *p, const double *x, const double *v, double *hv);
int od_problem_batch_grad(const od_problem *p, const double *x, size_t B, od_stream *s, double *g,
                          double *f);
int od_problem_sample_grads(const od_problem *p, const double *x, size_t B, od_stream *s,
                            double *G);
int od_problem_sample_loss(const od_problem *p, const double *x, size_t i, double *fi);
int od_problem_sample_grad(const od_problem *p, const double *x, size_t i, double *gi);
int od_problem_sample_hvp(const od_problem *p, const double *x, size_t i, const double *v,
                          double *hv);
int od_problem_noise_cov(const od_problem *p, const double *x, double *cov);
int od_problem_noise_sample(const od_problem *p, const double *x, od_stream *s, double *out);

/* Mean gradient over the listed indices (finite data): g = (1/B) sum_b grad f_{idx[b]}(x).  For
 * drivers that sample without replacement or by epochs.  *f = mean loss if f != NULL. */
int od_problem_index_grad(const od_problem *p, const double *x, const uint32_t *idx, size_t B,
                          double *g, double *f);

/* Releases a problem (NULL-tolerant). */
void od_problem_free(od_problem *p);

/* For implementers: allocates an od_problem with the given type and dimension, xstar/x0 NULL,
 * fstar NaN and label = type->name.  The problem owns data from then on (od_problem_free releases
 * it with type->free_data); on allocation failure it returns NULL and data stays with the caller. */
od_problem *od_problem_alloc(const od_problem_type *type, size_t dim, size_t n, void *data);

/* For implementers of finite-data problems: batch_grad / sample_grads built from sample_grad
 * (indices with replacement from od_stream_below).  Plug these into the vtable. */
int od_problem_finite_batch_grad(const od_problem *p, const double *x, size_t B, od_stream *s,
                                 double *g, double *f);
int od_problem_finite_sample_grads(const od_problem *p, const double *x, size_t B, od_stream *s,
                                   double *G);
/* ... and the empirical per-sample gradient covariance (1/n) sum_i (g_i - g)(g_i - g)^T. */
int od_problem_finite_noise_cov(const od_problem *p, const double *x, double *cov);

/* ---- built-in problems -------------------------------------------------------------------------
 * Every constructor copies its inputs and returns OD_OK with *out set, or an error with *out NULL. */

/* Diagonal quadratic f(x) = 1/2 sum_i lambda_i (x_i - c_i)^2 (c = NULL: origin) with additive
 * gradient noise: a sample gradient is grad f(x) + s (.) z, z ~ N(0, I) (noise_sd = NULL: no noise),
 * so Sigma1 = diag(s^2) and a minibatch of B has covariance diag(s^2)/B.  Streaming.
 * lambda_i may be of any sign (saddles).  xstar = c when every lambda_i > 0.  The noise lives on
 * the gradient only: the minibatch loss batch_grad reports is f(x). */
int od_problem_quadratic_diag(size_t d, const double *lambda, const double *c,
                              const double *noise_sd, od_problem **out);

/* A read-only view of a problem built by od_problem_quadratic_diag, for fused loops that want to
 * reproduce its minibatch gradient without a call per step (sde/'s ensembles).  Returns 1 and fills
 * *v when p is such a problem (the arrays stay owned by p), 0 otherwise (v untouched).
 * batch_grad at batch B is, bit for bit: when noisy, B blocks of d normals z_b drawn with
 * od_stream_normals (B = 1: straight into g; B > 1: g = ((0 + z_1) + z_2) + ... in block order),
 * then g_k = lambda_k (x_k - c_k) + sd_k (g_k (1/B)); when not noisy, no draws and g_k =
 * lambda_k (x_k - c_k) + sd_k (0 (1/B)). */
typedef struct {
    const double *lambda, *c, *sd;   /* d values each */
    int noisy;                       /* some sd_k != 0 */
} od_quadratic_diag_view;
int od_problem_quadratic_diag_view(const od_problem *p, od_quadratic_diag_view *v);

/* Dense quadratic f(x) = 1/2 (x - c)^T A (x - c), A symmetric d-by-d, with additive Gaussian
 * gradient noise of covariance S (NULL: none; S must be positive semi-definite and is factored once,
 * by Cholesky or, if singular, by a clipped eigendecomposition; an indefinite S is OD_EINVAL).
 * A (and S) must be symmetric up to rounding and are stored symmetrized.  Streaming.
 * xstar = c when A is positive definite.  The minibatch loss batch_grad reports is f(x).
 * noise = OD_NOISE_CONSTANT, with OD_NOISE_DIAGONAL when S is diagonal or absent. */
int od_problem_quadratic_dense(size_t d, const double *A, const double *c, const double *S,
                               od_problem **out);

/* Gaussian linear regression, streaming: x = sqrt(lambda) (.) z with z ~ N(0, I_d), so
 * H = E x x^T = diag(lambda); y = <wstar, x> + xi, xi ~ N(0, sigma2); f_xi(w) = 1/2 (<w,x> - y)^2.
 * f(w) = 1/2 sigma2 + 1/2 sum_k lambda_k (w - wstar)_k^2 (the 1/2 convention; excess = f - fstar).
 * Sigma1(w) = H d d^T H + (d^T H d + sigma2) H with d = w - wstar, sampled without a square root.
 * lambda_k >= 0; wstar = NULL means the origin.  xstar = wstar, fstar = sigma2 / 2. */
int od_problem_linreg_stream(size_t d, const double *lambda, const double *wstar, double sigma2,
                             od_problem **out);

/* Linear regression on a finite data set X (n-by-d, row-major), y (n): f(w) = (1/2n) ||X w - y||^2,
 * f_i(w) = 1/2 (<x_i, w> - y_i)^2, H = X^T X / n.  xstar = the least-squares solution when X has
 * full column rank (computed by Cholesky of X^T X, which costs O(n d^2); done for d <= 4096 only,
 * larger problems get xstar = NULL). */
int od_problem_linreg_data(size_t n, size_t d, const double *X, const double *y, od_problem **out);

/* Logistic regression on a finite data set with labels y_i in {-1, +1}:
 * f_i(w) = log(1 + exp(-y_i <x_i, w>)) + (ridge/2) ||w||^2 (ridge >= 0), evaluated stably. */
int od_problem_logreg_data(size_t n, size_t d, const double *X, const double *y, double ridge,
                           od_problem **out);

/* ---- problems by name --------------------------------------------------------------------------
 * An entry builds a problem from a parameter table, so users can write "linreg:d=100,exp=2". */
typedef struct {
    const char *name;
    const char *help;                 /* one line */
    const od_param *params;
    size_t n_params;
    /* builds from validated values; draws any random data from streams keyed by seed */
    int (*build)(const od_params *v, uint64_t seed, od_problem **out);
} od_problem_entry;

/* The core's entries (quadratic, dense-quadratic, linreg, linreg-data, logreg), NULL-terminated.
 * Modules keep their own NULL-terminated arrays; the program searches all of them. */
extern const od_problem_entry *const od_core_problems[];

/* Looks name up in the NULL-terminated catalogs (themselves a NULL-terminated array of arrays). */
const od_problem_entry *od_problem_lookup(const od_problem_entry *const *const *catalogs,
                                          const char *name);

/* Builds a problem from "name[:k=v,...]" using the catalogs.  Errors name the spec: OD_ENOTFOUND
 * for an unknown name, the od_params_set errors for keys and values. */
int od_problem_from_spec(const od_problem_entry *const *const *catalogs, const char *spec,
                         uint64_t seed, od_problem **out);

#endif /* OD_PROBLEM_H */
