/* optdyn spectra — two-layer networks with squared loss as od_problem types (theory sheet
 * spectra.md §10, §7.1), and the edge-of-stability regression net of Cohen et al. (ICLR 2021).
 *
 * f(x) = Σ_j a_j φ(z_j), z_j = w_j·x + b_j, loss f_i = ½ r_i², r_i = f(x_i) − y_i, mean over samples.
 * Parameters θ = (W (h-by-d_in, row-major), b (h, when biases), a (h)).  With s_j = v_{w_j}·x + v_{b_j}
 * and Jv = Σ_j [v_{a_j} φ_j + a_j φ'_j s_j], the per-sample Hessian-vector product
 * H_i v = J_i (J_iᵀ v) + r_i ∇²f(x_i) v is, neuron by neuron,
 *      (H_i v)_{a_j}       = Jv φ_j + r φ'_j s_j
 *      (H_i v)_{w_j}, _{b_j} = κ_j (x, 1),    κ_j = Jv a_j φ'_j + r (φ'_j v_{a_j} + a_j φ''_j s_j)
 * (the within-neuron second derivatives of §10; blocks across neurons vanish).  O(h d_in) per sample.
 * ReLU uses φ'(0) = 0 and φ'' = 0 (its Hessian away from the kinks).
 */
#include "spectra/internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    size_t din, h;
    od_spectra_act act;
    int biases;
    double *X, *y;
} mlp_data;

static void mlp_free(void *p)
{
    mlp_data *m = p;
    if (m) od_free(m->X);
    free(m);
}

/* Offsets of the blocks in θ. */
static size_t off_b(const mlp_data *m) { return m->h * m->din; }
static size_t off_a(const mlp_data *m) { return m->h * m->din + (m->biases ? m->h : 0); }

static void act(const mlp_data *m, double z, double *f0, double *f1, double *f2)
{
    if (m->act == OD_SPECTRA_ACT_TANH) {
        const double t = tanh(z);
        *f0 = t;
        *f1 = 1 - t * t;
        *f2 = -2 * t * (1 - t * t);
    } else {
        *f0 = z > 0 ? z : 0;
        *f1 = z > 0 ? 1 : 0;
        *f2 = 0;
    }
}

/* Forward pass of sample i: returns r = f(x_i) − y_i; z-activations into F0/F1/F2 (length h). */
static double forward(const od_problem *p, const double *th, size_t i, double *F0, double *F1,
                      double *F2)
{
    const mlp_data *m = p->data;
    const double *x = m->X + i * m->din, *b = th + off_b(m), *a = th + off_a(m);
    double f = 0;
    for (size_t j = 0; j < m->h; j++) {
        const double z = od_dot(m->din, th + j * m->din, x) + (m->biases ? b[j] : 0.0);
        act(m, z, &F0[j], &F1[j], &F2[j]);
        f += a[j] * F0[j];
    }
    return f - m->y[i];
}

/* Scratch for 3h activations: on the stack up to 3 * 512 neurons. */
enum { MLP_STACK_H = 512 };
#define MLP_SCRATCH(m, buf, F0)                                                                   \
    double buf##_stack[3 * MLP_STACK_H], *buf = (m)->h <= MLP_STACK_H ? buf##_stack              \
                                                                      : od_vec_alloc(3 * (m)->h); \
    if (!buf) OD_ERROR("mlp: out of memory", OD_ENOMEM);                                          \
    double *F0 = buf
#define MLP_SCRATCH_FREE(m, buf) \
    if ((m)->h > MLP_STACK_H) od_free(buf)

/* g += scale ∇f_i; returns f_i. */
static double add_grad(const od_problem *p, const double *th, size_t i, double scale, double *g,
                       double *F0)
{
    const mlp_data *m = p->data;
    double *F1 = F0 + m->h, *F2 = F1 + m->h;
    const double r = forward(p, th, i, F0, F1, F2), *a = th + off_a(m), *x = m->X + i * m->din;
    for (size_t j = 0; j < m->h; j++) {
        const double k = scale * r * a[j] * F1[j];
        od_axpy(m->din, k, x, g + j * m->din);
        if (m->biases) g[off_b(m) + j] += k;
        g[off_a(m) + j] += scale * r * F0[j];
    }
    return 0.5 * r * r;
}

/* hv += scale H_i v, or scale J_i J_iᵀ v (the Gauss–Newton term alone) when gn != 0. */
static void add_hvp(const od_problem *p, const double *th, size_t i, const double *v, double scale,
                    double *hv, double *F0, int gn)
{
    const mlp_data *m = p->data;
    double *F1 = F0 + m->h, *F2 = F1 + m->h;
    const double r = gn ? (forward(p, th, i, F0, F1, F2), 0.0) : forward(p, th, i, F0, F1, F2);
    const double *a = th + off_a(m), *x = m->X + i * m->din;
    const double *va = v + off_a(m), *vb = v + off_b(m);
    double Jv = 0;
    /* s_j is recomputed in the second loop rather than stored: no scratch beyond 3h */
    for (size_t j = 0; j < m->h; j++) {
        const double s = od_dot(m->din, v + j * m->din, x) + (m->biases ? vb[j] : 0.0);
        Jv += va[j] * F0[j] + a[j] * F1[j] * s;
    }
    for (size_t j = 0; j < m->h; j++) {
        const double s = od_dot(m->din, v + j * m->din, x) + (m->biases ? vb[j] : 0.0);
        const double k = Jv * a[j] * F1[j] + r * (F1[j] * va[j] + a[j] * F2[j] * s);
        od_axpy(m->din, scale * k, x, hv + j * m->din);
        if (m->biases) hv[off_b(m) + j] += scale * k;
        hv[off_a(m) + j] += scale * (Jv * F0[j] + r * F1[j] * s);
    }
}

static int mlp_sample_loss(const od_problem *p, const double *th, size_t i, double *fi)
{
    const mlp_data *m = p->data;
    MLP_SCRATCH(m, buf, F0);
    const double r = forward(p, th, i, F0, F0 + m->h, F0 + 2 * m->h);
    *fi = 0.5 * r * r;
    MLP_SCRATCH_FREE(m, buf);
    return OD_OK;
}

static int mlp_loss(const od_problem *p, const double *th, double *f)
{
    const mlp_data *m = p->data;
    MLP_SCRATCH(m, buf, F0);
    double acc = 0;
    for (size_t i = 0; i < p->n; i++) {
        const double r = forward(p, th, i, F0, F0 + m->h, F0 + 2 * m->h);
        acc += 0.5 * r * r;
    }
    *f = acc / (double)p->n;
    MLP_SCRATCH_FREE(m, buf);
    return OD_OK;
}

static int mlp_sample_grad(const od_problem *p, const double *th, size_t i, double *gi)
{
    const mlp_data *m = p->data;
    MLP_SCRATCH(m, buf, F0);
    od_zero(p->dim, gi);
    add_grad(p, th, i, 1.0, gi, F0);
    MLP_SCRATCH_FREE(m, buf);
    return OD_OK;
}

static int mlp_grad(const od_problem *p, const double *th, double *g, double *f)
{
    const mlp_data *m = p->data;
    MLP_SCRATCH(m, buf, F0);
    od_zero(p->dim, g);
    double acc = 0;
    for (size_t i = 0; i < p->n; i++) acc += add_grad(p, th, i, 1.0 / (double)p->n, g, F0);
    if (f) *f = acc / (double)p->n;
    MLP_SCRATCH_FREE(m, buf);
    return OD_OK;
}

static int mlp_hvp(const od_problem *p, const double *th, const double *v, double *hv)
{
    const mlp_data *m = p->data;
    MLP_SCRATCH(m, buf, F0);
    od_zero(p->dim, hv);
    for (size_t i = 0; i < p->n; i++) add_hvp(p, th, i, v, 1.0 / (double)p->n, hv, F0, 0);
    MLP_SCRATCH_FREE(m, buf);
    return OD_OK;
}

static int mlp_sample_hvp(const od_problem *p, const double *th, size_t i, const double *v, double *hv)
{
    const mlp_data *m = p->data;
    MLP_SCRATCH(m, buf, F0);
    od_zero(p->dim, hv);
    add_hvp(p, th, i, v, 1.0, hv, F0, 0);
    MLP_SCRATCH_FREE(m, buf);
    return OD_OK;
}

const od_problem_type od_spectra_mlp_type = {
    .name = "mlp",
    .loss = mlp_loss,
    .grad = mlp_grad,
    .hvp = mlp_hvp,
    .batch_grad = od_problem_finite_batch_grad,
    .sample_grads = od_problem_finite_sample_grads,
    .sample_loss = mlp_sample_loss,
    .sample_grad = mlp_sample_grad,
    .sample_hvp = mlp_sample_hvp,
    .noise_cov = od_problem_finite_noise_cov,
    .free_data = mlp_free,
};

int od_spectra_mlp_problem(size_t n, size_t d_in, size_t h, od_spectra_act activation, int biases,
                           const double *X, const double *y, const double *init, od_problem **out)
{
    *out = NULL;
    if (n == 0 || d_in == 0 || h == 0)
        OD_ERRORF(OD_EINVAL, "mlp: empty sizes (n = %zu, d_in = %zu, h = %zu)", n, d_in, h);
    if (activation != OD_SPECTRA_ACT_TANH && activation != OD_SPECTRA_ACT_RELU)
        OD_ERROR("mlp: unknown activation", OD_EINVAL);
    if (!od_all_finite(n * d_in, X) || !od_all_finite(n, y))
        OD_ERROR("mlp: the data contain a non-finite value", OD_EINVAL);
    const size_t dim = h * d_in + (biases ? h : 0) + h;
    mlp_data *m = calloc(1, sizeof *m);
    if (m) m->X = od_vec_alloc(n * d_in + n);
    od_problem *p = (m && m->X) ? od_problem_alloc(&od_spectra_mlp_type, dim, n, m) : NULL;
    if (!p) {
        mlp_free(m);
        OD_ERROR("mlp: out of memory", OD_ENOMEM);
    }
    m->din = d_in;
    m->h = h;
    m->act = activation;
    m->biases = biases != 0;
    m->y = m->X + n * d_in;
    od_copy(n * d_in, X, m->X);
    od_copy(n, y, m->y);
    if (init) {
        p->x0 = od_vec_alloc(dim);
        if (!p->x0) {
            od_problem_free(p);
            OD_ERROR("mlp: out of memory", OD_ENOMEM);
        }
        od_copy(dim, init, p->x0);
    }
    snprintf(p->label, sizeof p->label, "mlp: n=%zu, %zu-%zu-1 %s%s", n, d_in, h,
             activation == OD_SPECTRA_ACT_TANH ? "tanh" : "relu", biases ? ", biases" : "");
    *out = p;
    return OD_OK;
}

/* ---- the Gauss–Newton operator ------------------------------------------------------------------ */

static int gn_mv(const double *v, double *y, void *c)
{
    const od_spectra_point_ctx *g = c;
    const od_problem *p = g->p;
    const mlp_data *m = p->data;
    MLP_SCRATCH(m, buf, F0);
    od_zero(p->dim, y);
    for (size_t i = 0; i < p->n; i++) add_hvp(p, g->x, i, v, 1.0 / (double)p->n, y, F0, 1);
    MLP_SCRATCH_FREE(m, buf);
    return OD_OK;
}

int od_spectra_mlp_gauss_newton(const od_problem *p, const double *x, od_spectra_linop **out)
{
    *out = NULL;
    if (!p || p->type != &od_spectra_mlp_type)
        OD_ERRORF(OD_ENOTSUP, "Gauss-Newton operator: '%s' is not a two-layer network (mlp)",
                  p ? p->label : "(null)");
    if (!x || !od_all_finite(p->dim, x))
        OD_ERRORF(OD_EINVAL, "Gauss-Newton operator of '%s': the point is NULL or not finite", p->label);
    return od_spectra_point_op(p, x, 0, gn_mv, "Gauss-Newton matrix", out);
}

size_t od_spectra_mlp_blocks(const od_problem *p, od_spectra_block *out, size_t cap)
{
    const mlp_data *m = p->data;
    od_spectra_block all[3] = {{"W", 0, off_b(m)}, {"b", off_b(m), off_a(m)}, {"a", off_a(m), p->dim}};
    size_t c = 0;
    for (size_t k = 0; k < 3 && c < cap; k++)
        if (all[k].hi > all[k].lo) out[c++] = all[k];
    return c;
}

/* Initial parameters: W ~ N(0, sw²), b = 0, a ~ N(0, sa²), from od_stream(seed, 3). */
static void init_params(size_t din, size_t h, int biases, double sw, double sa, uint64_t seed,
                        double *th)
{
    od_stream s;
    od_stream_init(&s, seed, 3);
    od_stream_normals(&s, th, h * din);
    od_scal(h * din, sw, th);
    double *b = th + h * din, *a = b + (biases ? h : 0);
    if (biases) od_zero(h, b);
    od_stream_normals(&s, a, h);
    od_scal(h, sa, a);
}

int od_spectra_chebyshev_net(size_t n, int degree, size_t h, uint64_t seed, od_problem **out)
{
    *out = NULL;
    if (n < 2 || degree < 0 || h == 0)
        OD_ERRORF(OD_EINVAL, "chebyshev-net: need n >= 2, degree >= 0, h >= 1 (n = %zu, degree = %d)",
                  n, degree);
    const size_t dim = 3 * h;
    double *buf = od_vec_alloc(2 * n + dim);
    if (!buf) OD_ERROR("chebyshev-net: out of memory", OD_ENOMEM);
    double *X = buf, *y = X + n, *th = y + n;
    for (size_t i = 0; i < n; i++) {
        X[i] = -1.0 + 2.0 * (double)i / (double)(n - 1);       /* torch.linspace(-1, 1, n) */
        y[i] = cos((double)degree * acos(fmax(-1.0, fmin(1.0, X[i]))));   /* T_k(x) */
    }
    /* Xavier-normal: sd = gain sqrt(2 / (fan_in + fan_out)) */
    init_params(1, h, 1, 1.9 * sqrt(2.0 / (1.0 + (double)h)), sqrt(2.0 / (1.0 + (double)h)), seed, th);
    int st = od_spectra_mlp_problem(n, 1, h, OD_SPECTRA_ACT_TANH, 1, X, y, th, out);
    od_free(buf);
    if (st == OD_OK)
        snprintf((*out)->label, sizeof (*out)->label, "chebyshev-net: T_%d on %zu points, 1-%zu-1 tanh",
                 degree, n, h);
    return st;
}

/* ---- by name ------------------------------------------------------------------------------------ */

static const od_param mlp_params[] = {
    {"n", OD_PARAM_INT, 200, OD_SAME, 1, 1e6, 0, NULL, NULL, "number of samples"},
    {"d", OD_PARAM_INT, 10, OD_SAME, 1, 1e4, 0, NULL, NULL, "input dimension d_in"},
    {"h", OD_PARAM_INT, 20, OD_SAME, 1, 1e4, 0, NULL, NULL, "hidden units"},
    {"act", OD_PARAM_CHOICE, 0, OD_SAME, 0, 0, 0, "tanh|relu", NULL, "activation"},
    {"biases", OD_PARAM_BOOL, 1, OD_SAME, 0, 1, 0, NULL, NULL, "first-layer biases"},
    {"noise", OD_PARAM_DOUBLE, 0.1, OD_SAME, 0, 1e3, 0, NULL, NULL, "label-noise standard deviation"},
};

/* X ~ N(0, I); labels from a teacher of the same shape (W ~ N(0, 1/d), a ~ N(0, 1/h), b = 0) plus
 * noise; the student starts from W ~ N(0, 1/d), b = 0, a ~ N(0, 1/h) (stream 3). */
static int mlp_build(const od_params *v, uint64_t seed, od_problem **out)
{
    *out = NULL;
    const size_t n = (size_t)od_params_int(v, "n"), din = (size_t)od_params_int(v, "d"),
                 h = (size_t)od_params_int(v, "h");
    const int biases = (int)od_params_int(v, "biases");
    const od_spectra_act a = (od_spectra_act)od_params_int(v, "act");
    OD_TRY(od_spectra_check_size("mlp", n, din));
    const size_t dim = h * din + (biases ? h : 0) + h;
    double *X = od_vec_alloc(n * din + n + 2 * dim + 3 * h);
    if (!X) OD_ERROR("mlp: out of memory", OD_ENOMEM);
    double *y = X + n * din, *teach = y + n, *th = teach + dim, *F = th + dim;
    init_params(din, h, biases, 1 / sqrt((double)din), 1 / sqrt((double)h), seed ^ 0x7eac4e5ULL, teach);
    init_params(din, h, biases, 1 / sqrt((double)din), 1 / sqrt((double)h), seed, th);
    od_stream sx, sy;
    od_stream_init(&sx, seed, 1);
    od_stream_init(&sy, seed, 2);
    for (size_t i = 0; i < n; i++) {
        od_stream_seek(&sx, (uint32_t)i, 0);
        od_stream_seek(&sy, (uint32_t)i, 0);
        od_stream_normals(&sx, X + i * din, din);
        y[i] = 0;
    }
    /* teacher outputs through a temporary problem with zero labels: r_i = f_teacher(x_i) */
    od_problem *tp = NULL;
    int st = od_spectra_mlp_problem(n, din, h, a, biases, X, y, NULL, &tp);
    for (size_t i = 0; st == OD_OK && i < n; i++)
        y[i] = forward(tp, teach, i, F, F + h, F + 2 * h) + od_params_num(v, "noise") * od_stream_normal(&sy);
    od_problem_free(tp);
    if (st == OD_OK) st = od_spectra_mlp_problem(n, din, h, a, biases, X, y, th, out);
    od_free(X);
    if (st == OD_OK) od_spectra_label(*out, "mlp", v);
    return st;
}

static const od_param cheb_params[] = {
    {"n", OD_PARAM_INT, 20, OD_SAME, 2, 1e5, 0, NULL, NULL, "points x_i = linspace(-1, 1, n)"},
    {"k", OD_PARAM_INT, 3, OD_SAME, 0, 100, 0, NULL, NULL, "Chebyshev degree: y_i = T_k(x_i)"},
    {"h", OD_PARAM_INT, 100, OD_SAME, 1, 1e5, 0, NULL, NULL, "hidden tanh units"},
};

static int cheb_build(const od_params *v, uint64_t seed, od_problem **out)
{
    return od_spectra_chebyshev_net((size_t)od_params_int(v, "n"), (int)od_params_int(v, "k"),
                                    (size_t)od_params_int(v, "h"), seed, out);
}

const od_problem_entry od_spectra_entry_mlp = {
    "mlp", "two-layer network (tanh or ReLU, biases) with squared loss on a teacher's labels",
    mlp_params, sizeof mlp_params / sizeof mlp_params[0], mlp_build};
const od_problem_entry od_spectra_entry_chebyshev = {
    "chebyshev-net", "1-h-1 tanh regression net on Chebyshev targets (Cohen et al. 2021, EoS)",
    cheb_params, sizeof cheb_params / sizeof cheb_params[0], cheb_build};
