/* optdyn tests — shared helpers of the problem tests (test_problem*.c): the five test problems
 * built from data the tests own, with their closed forms and rounding scales, and the Monte Carlo
 * threshold.
 *
 * Error models used throughout (eps = DBL_EPSILON):
 *   - identities of floating-point sums: |computed - exact| <= c (m + 8) eps * (sum of the absolute
 *     values of the terms), m the number of terms summed on the way (n + d here), c = 8; the "scale"
 *     functions below compute those sums of magnitudes for each problem from its closed form;
 *   - central differences with step h = 2^-14: truncation h^2/6 * max|third derivative| plus
 *     rounding (error of f) / h; x +- h may itself round, so coordinate differences divide by the
 *     realised step and directional ones add eps |H| |x| / h;
 *   - Monte Carlo: z-scores against exact standard errors (from noise_cov) or plug-in standard
 *     errors of the estimator, with the threshold max(5, Bonferroni at family-wise 1e-6 over the
 *     number of compared quantities).
 * All randomness comes from od_stream with fixed high-entropy seeds, so the tests are reproducible.
 */
#ifndef OD_PROBLEM_TESTUTIL_H
#define OD_PROBLEM_TESTUTIL_H

#include <float.h>
#include <math.h>
#include <stddef.h>

#include <gsl/gsl_cdf.h>

#include "core/optdyn_core.h"

#define SEED 0x2545F4914F6CDD1DULL
#define EPS DBL_EPSILON

/* The threshold for the largest of m z-scores: Bonferroni at family-wise level 1e-6, at least 5. */
static inline double zcrit(size_t m)
{
    double z = gsl_cdf_ugaussian_Qinv(1e-6 / (2.0 * (double)m));
    return z > 5.0 ? z : 5.0;
}

/* v[i] = shift + scale z_i with z_i the next normals of s. */
static inline void normals(od_stream *s, double *v, size_t n, double scale, double shift)
{
    for (size_t i = 0; i < n; i++) v[i] = shift + scale * od_stream_normal(s);
}

/* The logistic function sigma(m), on the branch where exp() cannot overflow. */
static inline double sigm(double m) { return m >= 0 ? 1.0 / (1.0 + exp(-m)) : exp(m) / (1.0 + exp(m)); }

/* ---- the test problems -------------------------------------------------------------------------
 * Each is built through its constructor from data the test owns, so the closed forms (Hessian,
 * gradient, magnitudes for rounding bounds) can be written here independently of the library. */

enum { QDIAG, QDENSE, LINREG, LDATA, LOGREG, N_KINDS };
enum { MAXD = 6, MAXN = 60 };

typedef struct {
    int kind;
    const char *name;
    od_problem *p;
    size_t d, n;
    double x[MAXD];                      /* the evaluation point */
    double lambda[MAXD], c[MAXD], sd[MAXD];
    double A[MAXD * MAXD], S[MAXD * MAXD];
    double wstar[MAXD], sigma2;
    double X[MAXN * MAXD], y[MAXN], ridge;
} tp;

/* Builds test problem `kind` into t (CU_FAIL and t->p = NULL if the constructor fails). */
void tp_build(tp *t, int kind);

/* The relative rounding level c (n + d + 8) eps of sums over a test problem's terms. */
double tp_eps(const tp *t);

/* Sum of the magnitudes of the terms of f(x) (the rounding scale of the loss). */
double tp_fscale(const tp *t, const double *x);

/* Sums of the magnitudes of the terms of each gradient coordinate. */
void tp_gscale(const tp *t, const double *x, double *gs);

/* The Hessian at x in closed form (H) and the magnitudes of its terms (Hs). */
void tp_hessian(const tp *t, const double *x, double *H, double *Hs);

void tp_free(tp *t);

/* Inputs the constructors must find not positive definite, none of them an error: a rank-2 noise
 * covariance S = u u^T + v v^T and an indefinite A (both ND_D-by-ND_D, u returned as a center c), and
 * a data set X (ND_N-by-ND_P) whose first and last columns are equal, with labels y. */
enum { ND_D = 4, ND_N = 6, ND_P = 3 };
void tp_not_definite(double *c, double *S, double *A, double *X, double *y);

/* The core's registry, as the one catalog od_problem_from_spec searches. */
extern const od_problem_entry *const *const core_catalogs[];

#endif /* OD_PROBLEM_TESTUTIL_H */
