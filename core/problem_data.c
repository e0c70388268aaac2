/* optdyn core — finite data sets: the storage, the minibatch gradient and the noise sampler that
 * linear and logistic regression on data share (declared in problem_impl.h).  A problem brings its
 * per-sample factor c_i(w) (data_coef_fn); everything here is built from it and the rows x_i.
 */
#include "core/problem_impl.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/linalg.h"
#include "core/status.h"

int od_problem_impl_data_problem(const char *who, const od_problem_type *type, data_coef_fn *coef,
                                 size_t n, size_t d, const double *X, const double *y,
                                 od_problem **pp)
{
    *pp = NULL;
    if (n == 0 || d == 0) OD_ERRORF(OD_EINVAL, "%s: empty data set (n = %zu, d = %zu)", who, n, d);
    if (n > UINT32_MAX)
        OD_ERRORF(OD_ERANGE, "%s: n = %zu samples is more than the 2^32 - 1 that minibatch indices "
                  "address", who, n);
    if (d > (SIZE_MAX / sizeof(double) - 1) / n)
        OD_ERRORF(OD_ERANGE, "%s: data set too large (n = %zu, d = %zu)", who, n, d);
    if (!X || !y) OD_ERRORF(OD_EINVAL, "%s: NULL %s", who, X ? "y" : "X");
    OD_TRY(check_finite_vec(who, "X", n * d, X));
    OD_TRY(check_finite_vec(who, "y", n, y));
    double *block;
    od_problem *p = od_problem_impl_alloc(type, d, n, sizeof(data_set), n * d + n, &block);
    if (!p) OD_ERRORF(OD_ENOMEM, "%s: out of memory (n = %zu, d = %zu)", who, n, d);
    data_set *m = p->data;
    m->coef = coef;
    m->X = block;
    m->y = block + n * d;
    od_copy(n * d, X, m->X);
    od_copy(n, y, m->y);
    *pp = p;
    return OD_OK;
}

void od_problem_impl_data_free(void *data)
{
    data_set *m = data;
    if (m) od_free(m->X);
    free(m);
}

/* Accumulates c_i x_i and the data terms with no scratch; the ridge is added once at the end. */
int od_problem_impl_data_batch_grad(const od_problem *p, const double *w, size_t B, od_stream *s,
                                    double *g, double *f)
{
    const data_set *m = p->data;
    const size_t d = p->dim;
    double acc = 0.0;
    od_zero(d, g);
    for (size_t b = 0; b < B; b++) {
        const uint32_t i = od_stream_below(s, (uint32_t)p->n);
        double li;
        const double c = m->coef(p, w, i, &li);
        od_axpy(d, c, m->X + (size_t)i * d, g);
        acc += li;
    }
    od_scal(d, 1.0 / (double)B, g);
    if (m->ridge != 0.0) od_axpy(d, m->ridge, w, g);
    if (f) *f = acc / (double)B + half_ridge_sq(p, w);
    return OD_OK;
}

/* A draw of N(0, Sigma1(w)) for a problem whose sample gradients are c_i x_i + (a term common to
 * every i): out = n^{-1/2} sum_i (z_i - zbar) c_i x_i with z_1..z_n i.i.d. N(0, 1).  Its covariance
 * is (1/n) sum_ij c_i c_j x_i x_j^T (delta_ij - 1/n) = (1/n) sum_i g_i g_i^T - g g^T = Sigma1, and
 * the common term cancels because sum_i (z_i - zbar) = 0.  zbar comes from a first pass over a copy
 * of the stream, so the n normals are drawn twice but nothing is stored: O(n d), no allocation. */
int od_problem_impl_data_noise_sample(const od_problem *p, const double *w, od_stream *s,
                                      double *out)
{
    const data_set *m = p->data;
    const size_t n = p->n, d = p->dim;
    od_stream first = *s;
    double zbar = 0.0;
    for (size_t i = 0; i < n; i++) zbar += od_stream_normal(&first);
    zbar /= (double)n;
    od_zero(d, out);
    for (size_t i = 0; i < n; i++) {
        const double z = od_stream_normal(s) - zbar;
        od_axpy(d, z * m->coef(p, w, i, NULL), m->X + i * d, out);
    }
    od_scal(d, 1.0 / sqrt((double)n), out);
    return OD_OK;
}
