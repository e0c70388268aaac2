/* optdyn spectra — softmax regression and Gaussian-mixture classification as od_problem types
 * (theory sheet spectra.md §9; Ben Arous, Gheissari, Huang, Jagannath, ICLR 2024, Model 1).
 *
 * Parameters x = (x^0, ..., x^{K−1}) ∈ R^{K d}, class-major.  For a sample (X_i, y_i) with logits
 * u_c = x^c·X_i and π = softmax(u):
 *      f_i   = −u_{y_i} + log Σ_c e^{u_c} + (ridge/2)‖x‖²
 *      ∇f_i  : (π_c − 1{c = y_i}) X_i + ridge x^c
 *      H_i v : π_c (s_c − Σ_c' π_c' s_c') X_i + ridge v^c,   s_c = v^c·X_i
 * so H_i = (diag π − ππᵀ) ⊗ X_i X_iᵀ + ridge I.  log-sum-exp and softmax subtract the largest logit.
 */
#include "spectra/internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SOFTMAX_MAX_K = 64 };

typedef struct {
    size_t K;
    double ridge;
    double *X;       /* n-by-d */
    uint32_t *y;
} softmax_data;

static void softmax_free(void *p)
{
    softmax_data *s = p;
    if (s) {
        od_free(s->X);
        free(s->y);
    }
    free(s);
}

/* Logits u and probabilities π of sample i; returns log Σ e^{u}. */
static double logits(const od_problem *p, const double *x, size_t i, double *u, double *pi)
{
    const softmax_data *s = p->data;
    const size_t d = p->dim / s->K;
    const double *Xi = s->X + i * d;
    double umax = -INFINITY;
    for (size_t c = 0; c < s->K; c++) {
        u[c] = od_dot(d, x + c * d, Xi);
        umax = fmax(umax, u[c]);
    }
    double z = 0;
    for (size_t c = 0; c < s->K; c++) z += (pi[c] = exp(u[c] - umax));
    for (size_t c = 0; c < s->K; c++) pi[c] /= z;
    return umax + log(z);
}

static int sm_sample_loss(const od_problem *p, const double *x, size_t i, double *fi)
{
    const softmax_data *s = p->data;
    double u[SOFTMAX_MAX_K], pi[SOFTMAX_MAX_K];
    const double lse = logits(p, x, i, u, pi);
    *fi = lse - u[s->y[i]] + (s->ridge ? 0.5 * s->ridge * od_dot(p->dim, x, x) : 0.0);
    return OD_OK;
}

/* g += scale · (data part of ∇f_i); returns f_i without the ridge term. */
static double add_grad(const od_problem *p, const double *x, size_t i, double scale, double *g)
{
    const softmax_data *s = p->data;
    const size_t d = p->dim / s->K;
    double u[SOFTMAX_MAX_K], pi[SOFTMAX_MAX_K];
    const double lse = logits(p, x, i, u, pi);
    for (size_t c = 0; c < s->K; c++)
        od_axpy(d, scale * (pi[c] - (c == s->y[i] ? 1.0 : 0.0)), s->X + i * d, g + c * d);
    return lse - u[s->y[i]];
}

static int sm_sample_grad(const od_problem *p, const double *x, size_t i, double *gi)
{
    const softmax_data *s = p->data;
    od_zero(p->dim, gi);
    add_grad(p, x, i, 1.0, gi);
    if (s->ridge) od_axpy(p->dim, s->ridge, x, gi);
    return OD_OK;
}

static int sm_grad(const od_problem *p, const double *x, double *g, double *f)
{
    const softmax_data *s = p->data;
    od_zero(p->dim, g);
    double acc = 0;
    for (size_t i = 0; i < p->n; i++) acc += add_grad(p, x, i, 1.0 / (double)p->n, g);
    const double r2 = s->ridge ? od_dot(p->dim, x, x) : 0.0;
    if (s->ridge) od_axpy(p->dim, s->ridge, x, g);
    if (f) *f = acc / (double)p->n + 0.5 * s->ridge * r2;
    return OD_OK;
}

static int sm_loss(const od_problem *p, const double *x, double *f)
{
    const softmax_data *s = p->data;
    double acc = 0, u[SOFTMAX_MAX_K], pi[SOFTMAX_MAX_K];
    for (size_t i = 0; i < p->n; i++) acc += logits(p, x, i, u, pi) - u[s->y[i]];
    *f = acc / (double)p->n + (s->ridge ? 0.5 * s->ridge * od_dot(p->dim, x, x) : 0.0);
    return OD_OK;
}

/* hv += scale · (data part of H_i v). */
static void add_hvp(const od_problem *p, const double *x, size_t i, const double *v, double scale,
                    double *hv)
{
    const softmax_data *s = p->data;
    const size_t d = p->dim / s->K;
    const double *Xi = s->X + i * d;
    double u[SOFTMAX_MAX_K], pi[SOFTMAX_MAX_K], sc[SOFTMAX_MAX_K], mean = 0;
    logits(p, x, i, u, pi);
    for (size_t c = 0; c < s->K; c++) {
        sc[c] = od_dot(d, v + c * d, Xi);
        mean += pi[c] * sc[c];
    }
    for (size_t c = 0; c < s->K; c++) od_axpy(d, scale * pi[c] * (sc[c] - mean), Xi, hv + c * d);
}

static int sm_hvp(const od_problem *p, const double *x, const double *v, double *hv)
{
    const softmax_data *s = p->data;
    od_zero(p->dim, hv);
    for (size_t i = 0; i < p->n; i++) add_hvp(p, x, i, v, 1.0 / (double)p->n, hv);
    if (s->ridge) od_axpy(p->dim, s->ridge, v, hv);
    return OD_OK;
}

static int sm_sample_hvp(const od_problem *p, const double *x, size_t i, const double *v, double *hv)
{
    const softmax_data *s = p->data;
    od_zero(p->dim, hv);
    add_hvp(p, x, i, v, 1.0, hv);
    if (s->ridge) od_axpy(p->dim, s->ridge, v, hv);
    return OD_OK;
}

const od_problem_type od_spectra_softmax_type = {
    .name = "softmax",
    .loss = sm_loss,
    .grad = sm_grad,
    .hvp = sm_hvp,
    .batch_grad = od_problem_finite_batch_grad,
    .sample_grads = od_problem_finite_sample_grads,
    .sample_loss = sm_sample_loss,
    .sample_grad = sm_sample_grad,
    .sample_hvp = sm_sample_hvp,
    .noise_cov = od_problem_finite_noise_cov,
    .free_data = softmax_free,
};

int od_spectra_softmax_problem(size_t n, size_t d, size_t K, const double *X, const uint32_t *y,
                               double ridge, od_problem **out)
{
    *out = NULL;
    if (n == 0 || d == 0 || K < 2 || K > SOFTMAX_MAX_K)
        OD_ERRORF(OD_EINVAL, "softmax: need n, d >= 1 and 2 <= K <= %d (n = %zu, d = %zu, K = %zu)",
                  SOFTMAX_MAX_K, n, d, K);
    if (!(ridge >= 0) || !isfinite(ridge)) OD_ERRORF(OD_EINVAL, "softmax: ridge = %g must be >= 0", ridge);
    if (!od_all_finite(n * d, X)) OD_ERROR("softmax: the data contain a non-finite value", OD_EINVAL);
    for (size_t i = 0; i < n; i++)
        if (y[i] >= K) OD_ERRORF(OD_EINVAL, "softmax: label y[%zu] = %u is not below K = %zu", i, y[i], K);
    softmax_data *s = calloc(1, sizeof *s);
    if (s) {
        s->X = od_vec_alloc(n * d);
        s->y = malloc(n * sizeof *s->y);
    }
    od_problem *p = (s && s->X && s->y) ? od_problem_alloc(&od_spectra_softmax_type, K * d, n, s) : NULL;
    if (!p) {
        softmax_free(s);
        OD_ERROR("softmax: out of memory", OD_ENOMEM);
    }
    s->K = K;
    s->ridge = ridge;
    od_copy(n * d, X, s->X);
    memcpy(s->y, y, n * sizeof *y);
    snprintf(p->label, sizeof p->label, "softmax: n=%zu, d=%zu, K=%zu, ridge=%g", n, d, K, ridge);
    *out = p;
    return OD_OK;
}

size_t od_spectra_softmax_blocks(const od_problem *p, od_spectra_block *out, size_t cap)
{
    const softmax_data *s = p->data;
    const size_t d = p->dim / s->K;
    size_t c = 0;
    for (; c < s->K && c < cap; c++) {
        snprintf(out[c].name, sizeof out[c].name, "class%zu", c);
        out[c].lo = c * d;
        out[c].hi = (c + 1) * d;
    }
    return c;
}

void od_spectra_gmm_sample(size_t n, size_t d, size_t k, double snr, uint64_t seed, uint32_t stream,
                           uint32_t step, double *X, uint32_t *y)
{
    od_stream s;
    od_stream_init(&s, seed, stream);
    const double sd = 1.0 / sqrt(snr);
    for (size_t i = 0; i < n; i++) {
        od_stream_seek(&s, (uint32_t)i, step);
        const uint32_t a = od_stream_below(&s, (uint32_t)k);
        double *xi = X + i * d;
        od_stream_normals(&s, xi, d);
        od_scal(d, sd, xi);
        xi[a] += 1.0;
        y[i] = a;
    }
}

/* ---- by name ------------------------------------------------------------------------------------ */

static const od_param softmax_params[] = {
    {"n", OD_PARAM_INT, 500, OD_SAME, 1, 1e7, 0, NULL, NULL, "number of samples"},
    {"d", OD_PARAM_INT, 50, OD_SAME, 1, 1e5, 0, NULL, NULL, "input dimension"},
    {"k", OD_PARAM_INT, 3, OD_SAME, 2, SOFTMAX_MAX_K, 0, NULL, NULL, "classes"},
    {"ridge", OD_PARAM_DOUBLE, 1e-3, OD_SAME, 0, 1e6, 0, NULL, NULL, "ridge penalty (ridge/2)||x||^2"},
    {"scale", OD_PARAM_DOUBLE, 2, OD_SAME, 0, 1e3, 0, NULL, NULL,
     "teacher logit scale: labels drawn from softmax(U X_i), rows of U of norm scale"},
};

static const od_param gmm_params[] = {
    {"n", OD_PARAM_INT, 1000, OD_SAME, 1, 1e7, 0, NULL, NULL, "number of samples"},
    {"d", OD_PARAM_INT, 100, OD_SAME, 2, 1e5, 0, NULL, NULL, "dimension"},
    {"k", OD_PARAM_INT, 4, OD_SAME, 2, SOFTMAX_MAX_K, 0, NULL, NULL, "mixture components = classes (k <= d)"},
    {"snr", OD_PARAM_DOUBLE, 10, OD_SAME, 0, 1e8, OD_LO_OPEN, NULL, NULL,
     "signal-to-noise ratio lambda: Y = mu_a + Z / sqrt(lambda)"},
    {"ridge", OD_PARAM_DOUBLE, 1e-3, OD_SAME, 0, 1e6, 0, NULL, NULL, "ridge penalty beta"},
};

int od_spectra_check_size(const char *who, size_t n, size_t d)
{
    if ((double)n * (double)d > 134217728.0)
        OD_ERRORF(OD_ERANGE, "%s: keys 'n' = %zu and 'd' = %zu give a data set of %.3g doubles, more "
                  "than 2^27", who, n, d, (double)n * (double)d);
    return OD_OK;
}

static int softmax_build(const od_params *v, uint64_t seed, od_problem **out)
{
    *out = NULL;
    const size_t n = (size_t)od_params_int(v, "n"), d = (size_t)od_params_int(v, "d"),
                 K = (size_t)od_params_int(v, "k");
    OD_TRY(od_spectra_check_size("softmax", n, d));
    double *X = od_vec_alloc(n * d + K * d), *U = X ? X + n * d : NULL;
    uint32_t *y = malloc(n * sizeof *y);
    int st = OD_OK;
    if (!X || !y) {
        st = od_error(OD_ENOMEM, __FILE__, __LINE__, "softmax: out of memory");
    } else {
        od_stream s;
        od_stream_init(&s, seed, 3);
        od_stream_normals(&s, U, K * d);
        for (size_t c = 0; c < K; c++) {
            const double nu = od_nrm2(d, U + c * d);
            od_scal(d, nu > 0 ? od_params_num(v, "scale") / nu : 0.0, U + c * d);
        }
        od_stream sx, sy;
        od_stream_init(&sx, seed, 1);
        od_stream_init(&sy, seed, 2);
        for (size_t i = 0; i < n; i++) {
            od_stream_seek(&sx, (uint32_t)i, 0);
            od_stream_seek(&sy, (uint32_t)i, 0);
            od_stream_normals(&sx, X + i * d, d);
            double u[SOFTMAX_MAX_K], umax = -INFINITY, z = 0;
            for (size_t c = 0; c < K; c++) umax = fmax(umax, u[c] = od_dot(d, U + c * d, X + i * d));
            for (size_t c = 0; c < K; c++) z += (u[c] = exp(u[c] - umax));
            double r = od_stream_uniform(&sy) * z, acc = 0;
            y[i] = (uint32_t)(K - 1);
            for (size_t c = 0; c < K; c++)
                if (r < (acc += u[c])) {
                    y[i] = (uint32_t)c;
                    break;
                }
        }
        st = od_spectra_softmax_problem(n, d, K, X, y, od_params_num(v, "ridge"), out);
    }
    od_free(X);
    free(y);
    if (st == OD_OK) od_spectra_label(*out, "softmax", v);
    return st;
}

static int gmm_build(const od_params *v, uint64_t seed, od_problem **out)
{
    *out = NULL;
    const size_t n = (size_t)od_params_int(v, "n"), d = (size_t)od_params_int(v, "d"),
                 K = (size_t)od_params_int(v, "k");
    if (K > d) OD_ERRORF(OD_ERANGE, "gmm: key 'k' = %zu exceeds 'd' = %zu (orthonormal means)", K, d);
    OD_TRY(od_spectra_check_size("gmm", n, d));
    double *X = od_vec_alloc(n * d);
    uint32_t *y = malloc(n * sizeof *y);
    int st = OD_OK;
    if (!X || !y) {
        st = od_error(OD_ENOMEM, __FILE__, __LINE__, "gmm: out of memory");
    } else {
        od_spectra_gmm_sample(n, d, K, od_params_num(v, "snr"), seed, 1, 0, X, y);
        st = od_spectra_softmax_problem(n, d, K, X, y, od_params_num(v, "ridge"), out);
    }
    od_free(X);
    free(y);
    if (st == OD_OK) od_spectra_label(*out, "gmm", v);
    return st;
}

const od_problem_entry od_spectra_entry_softmax = {
    "softmax", "softmax regression on Gaussian inputs labelled by a softmax teacher",
    softmax_params, sizeof softmax_params / sizeof softmax_params[0], softmax_build};
const od_problem_entry od_spectra_entry_gmm = {
    "gmm", "softmax classification of a k-component Gaussian mixture (Ben Arous et al. 2024)",
    gmm_params, sizeof gmm_params / sizeof gmm_params[0], gmm_build};
