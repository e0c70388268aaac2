/* optdyn core — private helpers of the problem code (problem.c and the built-in problems in
 * problem_quadratic.c, problem_linreg.c, problem_logreg.c, problem_data.c, problem_registry.c).
 * Not part of the public API: optdyn_core.h does not include it and nothing outside core/ should.
 * Small helpers are static inline; the functions with external linkage carry the od_problem_impl_
 * prefix.
 *
 * Methods of the built-in problems keep no state and allocate at most one scratch vector per call
 * (never per sample), so they are thread-safe.
 */
#ifndef OD_PROBLEM_IMPL_H
#define OD_PROBLEM_IMPL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "core/linalg.h"
#include "core/problem.h"
#include "core/status.h"

/* ---- scratch vectors ---------------------------------------------------------------------------
 * Methods must stay thread-safe, so they cannot share a workspace inside the (immutable) problem.
 * A call that needs a d-vector takes it from the stack when it is small and from the heap, once per
 * call and never per sample, when it is not. */
enum { SCRATCH_STACK = 256 };
typedef struct {
    double stack[SCRATCH_STACK];
    double *p;
} scratch;

static inline double *scratch_get(scratch *s, size_t n)
{
    s->p = n <= SCRATCH_STACK ? s->stack : od_vec_alloc(n);
    return s->p;
}

static inline void scratch_release(scratch *s)
{
    if (s->p && s->p != s->stack) od_free(s->p);
    s->p = NULL;
}

/* Declares double *var = n scratch doubles, or returns OD_ENOMEM naming problem p. */
#define SCRATCH_OR_FAIL(sc, n, var)                                                              \
    double *var = scratch_get(&(sc), (n));                                                       \
    if (!var) OD_ERRORF(OD_ENOMEM, "%s: out of memory for %zu scratch doubles", p->label, (size_t)(n))

/* ---- small helpers of the constructors --------------------------------------------------------- */

/* Allocates a problem of the given type, dimension and n whose data is a zeroed struct of data_size
 * bytes, plus a zeroed block of `doubles` doubles for the caller to hang into that struct at once
 * (the type's free_data releases both).  NULL on failure, with nothing left allocated. */
od_problem *od_problem_impl_alloc(const od_problem_type *type, size_t dim, size_t n,
                                  size_t data_size, size_t doubles, double **block);

/* Ends a constructor: on OD_OK hands p over through *out, otherwise frees p and sets *out = NULL.
 * Returns status. */
static inline int hand_over(int status, od_problem *p, od_problem **out)
{
    if (status != OD_OK) {
        od_problem_free(p);
        p = NULL;
    }
    *out = p;
    return status;
}

/* OD_OK if every v[i] is finite, else OD_EINVAL naming the caller, the vector and the entry. */
static inline int check_finite_vec(const char *who, const char *what, size_t n, const double *v)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            OD_ERRORF(OD_EINVAL, "%s: %s[%zu] = %g is not finite", who, what, i, v[i]);
    return OD_OK;
}

/* A copy of v[0..n) (zeros when v is NULL), or NULL on allocation failure. */
static inline double *copy_or_zero(size_t n, const double *v)
{
    double *c = od_vec_alloc(n);
    if (c && v) od_copy(n, v, c);
    return c;
}

static inline void minmax(size_t n, const double *v, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < *lo) *lo = v[i];
        if (v[i] > *hi) *hi = v[i];
    }
}

/* Installs a copy of x as the known minimizer and sets fstar = f(x). */
static inline int set_xstar(od_problem *p, const double *x)
{
    p->xstar = copy_or_zero(p->dim, x);
    if (!p->xstar) OD_ERRORF(OD_ENOMEM, "%s: out of memory", p->label);
    return od_problem_loss(p, p->xstar, &p->fstar);
}

/* ---- the logistic function ---------------------------------------------------------------------
 * sigma(-m) = 1 / (1 + e^m), on the branch where exp() cannot overflow:
 *      sigma(-m) = e^-m / (1 + e^-m)  (m >= 0),   1 / (1 + e^m)  (m < 0).
 * Used by the logistic regression's oracles and by the registry's logistic labels. */
static inline double sigmoid_neg(double m)
{
    if (m >= 0) {
        const double e = exp(-m);
        return e / (1.0 + e);
    }
    return 1.0 / (1.0 + exp(m));
}

/* ---- finite data sets (problem_data.c) ---------------------------------------------------------
 * Linear and logistic regression on data share their storage, their minibatch gradient and their
 * noise sampler: both have per-sample gradients of the form c_i(w) x_i (+ ridge w), which gives
 * batch gradients without scratch and a noise sampler of the per-sample-factor kind (sde.md
 * section 1 (c)).  A problem supplies c_i through its data_coef_fn. */

/* c_i(w), the factor with grad of the data term of f_i = c_i x_i; also *loss = that data term
 * (f_i without the ridge) when loss != NULL. */
typedef double data_coef_fn(const od_problem *p, const double *w, size_t i, double *loss);

typedef struct {
    double *X, *y;        /* n*d and n doubles in one block owned through X */
    double ridge;         /* f_i += ridge/2 ||w||^2 (logistic only; 0 for least squares) */
    data_coef_fn *coef;
} data_set;

/* ridge/2 ||w||^2, exactly 0 without a ridge. */
static inline double half_ridge_sq(const od_problem *p, const double *w)
{
    const data_set *m = p->data;
    return m->ridge == 0.0 ? 0.0 : 0.5 * m->ridge * od_dot(p->dim, w, w);
}

/* free_data of the data-set problems. */
void od_problem_impl_data_free(void *data);

/* Validates X (n-by-d) and y (n) and copies them into a fresh problem of the given type, whose
 * data is a data_set with the given coef and ridge 0.  Errors name who; on error *pp is NULL. */
int od_problem_impl_data_problem(const char *who, const od_problem_type *type, data_coef_fn *coef,
                                 size_t n, size_t d, const double *X, const double *y,
                                 od_problem **pp);

/* batch_grad of the data-set problems: g = (1/B) sum_b c_{i_b} x_{i_b} (+ ridge w) over B indices
 * from od_stream_below(n), the draws of od_problem_finite_sample_grads; *f = the minibatch loss. */
int od_problem_impl_data_batch_grad(const od_problem *p, const double *w, size_t B, od_stream *s,
                                    double *g, double *f);

/* noise_sample of the data-set problems: a draw of N(0, Sigma1(w)) from the c_i (see
 * problem_data.c).  Advances s by n normals. */
int od_problem_impl_data_noise_sample(const od_problem *p, const double *w, od_stream *s,
                                      double *out);

#endif /* OD_PROBLEM_IMPL_H */
