/* optdyn core — the problem (oracle) interface: checked wrappers, allocation, the generic helpers
 * for finite-data problems, and lookup by name (see problem.h for the contracts).
 *
 * The wrappers are the only place that validates calls; the methods behind them may assume a
 * non-NULL problem, B >= 1 and i < n.  The finite-data helpers call the vtable directly after
 * validating once per call, so a per-sample loop costs one method call and no allocation.
 */
#include "core/problem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/linalg.h"
#include "core/problem_impl.h"
#include "core/status.h"

static const char *pname(const od_problem *p)
{
    if (p->label[0]) return p->label;
    return (p->type && p->type->name) ? p->type->name : "(unnamed)";
}

/* ---- wrappers ---------------------------------------------------------------------------------- */

#define CHECK_PROBLEM(p, fn)                                                                     \
    do {                                                                                         \
        if (!(p) || !(p)->type) OD_ERROR("od_problem_" fn ": NULL problem", OD_EINVAL);          \
    } while (0)

#define CHECK_METHOD(p, m)                                                                       \
    do {                                                                                         \
        if (!(p)->type->m)                                                                       \
            OD_ERRORF(OD_ENOTSUP, "problem '%s' has no method '" #m "'", pname(p));              \
    } while (0)

#define CHECK_INDEX(p, i)                                                                        \
    do {                                                                                         \
        if ((i) >= (p)->n)                                                                       \
            OD_ERRORF(OD_ERANGE, "problem '%s': sample index %zu out of range [0, %zu)",         \
                      pname(p), (size_t)(i), (p)->n);                                            \
    } while (0)

#define CHECK_BATCH(p, B)                                                                        \
    do {                                                                                         \
        if ((B) == 0) OD_ERRORF(OD_EINVAL, "problem '%s': empty minibatch (B = 0)", pname(p));    \
    } while (0)

int od_problem_loss(const od_problem *p, const double *x, double *f)
{
    CHECK_PROBLEM(p, "loss");
    CHECK_METHOD(p, loss);
    return p->type->loss(p, x, f);
}

int od_problem_grad(const od_problem *p, const double *x, double *g, double *f)
{
    CHECK_PROBLEM(p, "grad");
    CHECK_METHOD(p, grad);
    return p->type->grad(p, x, g, f);
}

int od_problem_hvp(const od_problem *p, const double *x, const double *v, double *hv)
{
    CHECK_PROBLEM(p, "hvp");
    CHECK_METHOD(p, hvp);
    return p->type->hvp(p, x, v, hv);
}

int od_problem_batch_grad(const od_problem *p, const double *x, size_t B, od_stream *s, double *g,
                          double *f)
{
    CHECK_PROBLEM(p, "batch_grad");
    CHECK_METHOD(p, batch_grad);
    CHECK_BATCH(p, B);
    return p->type->batch_grad(p, x, B, s, g, f);
}

int od_problem_sample_grads(const od_problem *p, const double *x, size_t B, od_stream *s,
                            double *G)
{
    CHECK_PROBLEM(p, "sample_grads");
    CHECK_METHOD(p, sample_grads);
    CHECK_BATCH(p, B);
    return p->type->sample_grads(p, x, B, s, G);
}

int od_problem_sample_loss(const od_problem *p, const double *x, size_t i, double *fi)
{
    CHECK_PROBLEM(p, "sample_loss");
    CHECK_METHOD(p, sample_loss);
    CHECK_INDEX(p, i);
    return p->type->sample_loss(p, x, i, fi);
}

int od_problem_sample_grad(const od_problem *p, const double *x, size_t i, double *gi)
{
    CHECK_PROBLEM(p, "sample_grad");
    CHECK_METHOD(p, sample_grad);
    CHECK_INDEX(p, i);
    return p->type->sample_grad(p, x, i, gi);
}

int od_problem_sample_hvp(const od_problem *p, const double *x, size_t i, const double *v,
                          double *hv)
{
    CHECK_PROBLEM(p, "sample_hvp");
    CHECK_METHOD(p, sample_hvp);
    CHECK_INDEX(p, i);
    return p->type->sample_hvp(p, x, i, v, hv);
}

int od_problem_noise_cov(const od_problem *p, const double *x, double *cov)
{
    CHECK_PROBLEM(p, "noise_cov");
    CHECK_METHOD(p, noise_cov);
    return p->type->noise_cov(p, x, cov);
}

int od_problem_noise_sample(const od_problem *p, const double *x, od_stream *s, double *out)
{
    CHECK_PROBLEM(p, "noise_sample");
    CHECK_METHOD(p, noise_sample);
    return p->type->noise_sample(p, x, s, out);
}

/* ---- allocation -------------------------------------------------------------------------------- */

od_problem *od_problem_alloc(const od_problem_type *type, size_t dim, size_t n, void *data)
{
    od_problem *p = calloc(1, sizeof *p);
    if (!p) return NULL;   /* data stays with the caller */
    p->type = type;
    p->dim = dim;
    p->n = n;
    p->data = data;
    p->xstar = NULL;
    p->fstar = NAN;
    p->x0 = NULL;
    snprintf(p->label, sizeof p->label, "%s", (type && type->name) ? type->name : "");
    return p;
}

od_problem *od_problem_impl_alloc(const od_problem_type *type, size_t dim, size_t n,
                                  size_t data_size, size_t doubles, double **block)
{
    void *data = calloc(1, data_size);
    *block = od_vec_alloc(doubles);
    od_problem *p = (data && *block) ? od_problem_alloc(type, dim, n, data) : NULL;
    if (!p) {
        od_free(*block);
        *block = NULL;
        free(data);
    }
    return p;
}

void od_problem_free(od_problem *p)
{
    if (!p) return;
    if (p->data && p->type && p->type->free_data) p->type->free_data(p->data);
    free(p->xstar);
    free(p->x0);
    free(p);
}

/* ---- finite-data helpers ----------------------------------------------------------------------- */

/* The checks shared by the helpers: a finite problem with a sample_grad method whose n fits the
 * 32-bit index draws of od_stream_below. */
static int check_finite(const od_problem *p, const char *fn, int need_loss)
{
    if (!p || !p->type) OD_ERRORF(OD_EINVAL, "%s: NULL problem", fn);
    if (p->n == 0)
        OD_ERRORF(OD_ENOTSUP, "%s: problem '%s' is streaming (n = 0), not finite data", fn,
                  pname(p));
    if (p->n > UINT32_MAX)
        OD_ERRORF(OD_ERANGE, "%s: problem '%s' has n = %zu samples, more than 2^32 - 1", fn,
                  pname(p), p->n);
    if (!p->type->sample_grad)
        OD_ERRORF(OD_ENOTSUP, "%s: problem '%s' has no method 'sample_grad'", fn, pname(p));
    if (need_loss && !p->type->sample_loss)
        OD_ERRORF(OD_ENOTSUP, "%s: problem '%s' has no method 'sample_loss'", fn, pname(p));
    return OD_OK;
}

/* g = (1/B) sum_b grad f_{i_b}(x), *f likewise, with i_b = idx[b] (idx != NULL) or the b-th draw
 * of od_stream_below(n) from s.  Validation is the caller's. */
static int mean_grad(const od_problem *p, const double *x, const uint32_t *idx, size_t B,
                     od_stream *s, double *g, double *f)
{
    const size_t d = p->dim;
    scratch sc;
    double *gi = scratch_get(&sc, d);
    if (!gi) OD_ERRORF(OD_ENOMEM, "problem '%s': out of memory for a gradient (d = %zu)", pname(p), d);
    int status = OD_OK;
    double fsum = 0.0;
    od_zero(d, g);
    for (size_t b = 0; b < B; b++) {
        size_t i = idx ? idx[b] : od_stream_below(s, (uint32_t)p->n);
        status = p->type->sample_grad(p, x, i, gi);
        if (status != OD_OK) break;
        od_axpy(d, 1.0, gi, g);
        if (f) {
            double fi;
            status = p->type->sample_loss(p, x, i, &fi);
            if (status != OD_OK) break;
            fsum += fi;
        }
    }
    scratch_release(&sc);
    if (status != OD_OK) return status;
    od_scal(d, 1.0 / (double)B, g);
    if (f) *f = fsum / (double)B;
    return OD_OK;
}

int od_problem_index_grad(const od_problem *p, const double *x, const uint32_t *idx, size_t B,
                          double *g, double *f)
{
    OD_TRY(check_finite(p, "od_problem_index_grad", f != NULL));
    CHECK_BATCH(p, B);
    for (size_t b = 0; b < B; b++)   /* validate all first: g is not half-written on error */
        CHECK_INDEX(p, idx[b]);
    return mean_grad(p, x, idx, B, NULL, g, f);
}

int od_problem_finite_batch_grad(const od_problem *p, const double *x, size_t B, od_stream *s,
                                 double *g, double *f)
{
    OD_TRY(check_finite(p, "od_problem_finite_batch_grad", f != NULL));
    CHECK_BATCH(p, B);
    return mean_grad(p, x, NULL, B, s, g, f);
}

int od_problem_finite_sample_grads(const od_problem *p, const double *x, size_t B, od_stream *s,
                                   double *G)
{
    OD_TRY(check_finite(p, "od_problem_finite_sample_grads", 0));
    CHECK_BATCH(p, B);
    const size_t d = p->dim;
    for (size_t b = 0; b < B; b++) {
        uint32_t i = od_stream_below(s, (uint32_t)p->n);   /* the same draws as batch_grad */
        OD_TRY(p->type->sample_grad(p, x, i, G + b * d));
    }
    return OD_OK;
}

/* Two passes: g = grad f(x) (the method itself when the problem has one, so the centring matches
 * the problem's own gradient), then cov = (1/n) sum_i (g_i - g)(g_i - g)^T accumulated as a
 * symmetric rank-1 update of the lower triangle and mirrored.  The centred form avoids the
 * cancellation of E[g g^T] - g g^T when the noise is small against the mean. */
int od_problem_finite_noise_cov(const od_problem *p, const double *x, double *cov)
{
    OD_TRY(check_finite(p, "od_problem_finite_noise_cov", 0));
    const size_t d = p->dim, n = p->n;
    double *g = od_vec_alloc(2 * d);
    if (!g) OD_ERRORF(OD_ENOMEM, "problem '%s': out of memory for the noise covariance", pname(p));
    double *gi = g + d;
    int status = OD_OK;
    if (p->type->grad) {
        status = p->type->grad(p, x, g, NULL);
    } else {   /* the mean of the per-sample gradients */
        for (size_t i = 0; i < n && status == OD_OK; i++) {
            status = p->type->sample_grad(p, x, i, gi);
            if (status == OD_OK) od_axpy(d, 1.0, gi, g);
        }
        od_scal(d, 1.0 / (double)n, g);
    }
    od_zero(d * d, cov);
    for (size_t i = 0; i < n && status == OD_OK; i++) {
        status = p->type->sample_grad(p, x, i, gi);
        if (status != OD_OK) break;
        for (size_t j = 0; j < d; j++) gi[j] -= g[j];
        for (size_t j = 0; j < d; j++) {
            const double a = gi[j];
            double *row = cov + j * d;
            for (size_t k = 0; k <= j; k++) row[k] += a * gi[k];
        }
    }
    od_free(g);
    if (status != OD_OK) return status;
    const double inv_n = 1.0 / (double)n;
    for (size_t j = 0; j < d; j++)
        for (size_t k = 0; k <= j; k++) {
            cov[j * d + k] *= inv_n;
            cov[k * d + j] = cov[j * d + k];
        }
    return OD_OK;
}

/* ---- problems by name -------------------------------------------------------------------------- */

const od_problem_entry *od_problem_lookup(const od_problem_entry *const *const *catalogs,
                                          const char *name)
{
    if (!catalogs || !name) return NULL;
    for (size_t c = 0; catalogs[c]; c++)
        for (size_t e = 0; catalogs[c][e]; e++)
            if (strcmp(catalogs[c][e]->name, name) == 0) return catalogs[c][e];
    return NULL;
}

/* "a, b, c": the names of every entry, for the message of an unknown name. */
static void known_names(const od_problem_entry *const *const *catalogs, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t c = 0; catalogs && catalogs[c]; c++)
        for (size_t e = 0; catalogs[c][e] && used + 1 < len; e++) {
            int w = snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
                             catalogs[c][e]->name);
            if (w < 0) return;
            used += (size_t)w;
        }
    if (!buf[0]) snprintf(buf, len, "none");
}

int od_problem_from_spec(const od_problem_entry *const *const *catalogs, const char *spec,
                         uint64_t seed, od_problem **out)
{
    if (!out) OD_ERROR("od_problem_from_spec: NULL output", OD_EINVAL);
    *out = NULL;
    if (!spec) OD_ERROR("od_problem_from_spec: NULL spec", OD_EINVAL);
    char name[64];
    const char *rest;
    OD_TRY(od_spec_split(spec, name, sizeof name, &rest));
    const od_problem_entry *e = od_problem_lookup(catalogs, name);
    if (!e) {
        char known[512];
        known_names(catalogs, known, sizeof known);
        OD_ERRORF(OD_ENOTFOUND, "%s: unknown problem '%s' (known problems: %s)", spec, name, known);
    }
    od_params v;
    OD_TRY(od_params_init(&v, e->params, e->n_params, 0));
    int status = od_params_assign_list(&v, spec, rest, ',');
    if (status == OD_OK) status = e->build(&v, seed, out);
    od_params_free(&v);
    if (status != OD_OK && *out) {   /* a build must leave *out NULL on error; make sure */
        od_problem_free(*out);
        *out = NULL;
    }
    return status;
}
