/* optdyn linreg — feature laws and the Monte Carlo run of an algorithm on streaming linear
 * regression, driven by the same linear-iteration form as the exact engine (see optdyn_linreg.h).
 *
 * Per path and step t: draw z_b ~ law (B d numbers, stream FEATURES at (path, t)) and xi_b ~
 * N(0, sigma2) (stream NOISE at (path, t)); with x_b = sqrt(lambda) (.) z_b and the point
 * y = g^T z (mode-wise), the residuals r_b = <x_b, y> - xi_b give G = (1/B) sum_b r_b x_b; then the
 * output is advanced from the old state and z' = Abar z - s G.  The excess risk of the output is
 * recorded at the requested steps.  Work per step: the B d draws plus (B + 1) passes over d. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linreg/linreg_internal.h"

/* ---- feature laws ----------------------------------------------------------------------------- */

static void fill_gaussian(od_stream *s, double *z, size_t n) { od_stream_normals(s, z, n); }
static void fill_rademacher(od_stream *s, double *z, size_t n) { od_stream_rademachers(s, z, n); }
static void fill_uniform(od_stream *s, double *z, size_t n)
{
    const double r3 = sqrt(3.0);
    od_stream_uniforms(s, z, n);
    for (size_t i = 0; i < n; i++) z[i] = r3 * (2 * z[i] - 1);
}

const od_linreg_features od_linreg_gaussian = {"gaussian", 3.0, fill_gaussian};
const od_linreg_features od_linreg_rademacher = {"rademacher", 1.0, fill_rademacher};
const od_linreg_features od_linreg_uniform = {"uniform", 1.8, fill_uniform};
const od_linreg_features *const od_linreg_feature_laws[] = {&od_linreg_gaussian, &od_linreg_rademacher,
                                                            &od_linreg_uniform, NULL};

const od_linreg_features *od_linreg_features_lookup(const char *name)
{
    for (size_t i = 0; od_linreg_feature_laws[i]; i++)
        if (strcmp(od_linreg_feature_laws[i]->name, name) == 0) return od_linreg_feature_laws[i];
    return NULL;
}

/* ---- the path --------------------------------------------------------------------------------- */

typedef struct {
    const od_linreg_model *m;
    const od_linreg_algo *a;
    const od_linreg_mc_params *p;
    double *sl;        /* sqrt(lambda) */
    double sigma;
} mc_ctx;

typedef struct {
    double *z1, *z2, *out, *y, *x, *xi;
} mc_ws;

static void *ws_alloc(void *arg)
{
    const mc_ctx *c = arg;
    const size_t d = c->m->d, B = c->a->batch;
    mc_ws *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->z1 = od_vec_alloc(d);
    w->z2 = od_vec_alloc(d);
    w->out = od_vec_alloc(d);
    w->y = od_vec_alloc(d);
    w->x = od_vec_alloc(B * d);
    w->xi = od_vec_alloc(B);
    if (!w->z1 || !w->z2 || !w->out || !w->y || !w->x || !w->xi) {
        od_free(w->z1), od_free(w->z2), od_free(w->out), od_free(w->y), od_free(w->x), od_free(w->xi);
        free(w);
        return NULL;
    }
    return w;
}

static void ws_free(void *ws, void *arg)
{
    (void)arg;
    mc_ws *w = ws;
    od_free(w->z1), od_free(w->z2), od_free(w->out), od_free(w->y), od_free(w->x), od_free(w->xi);
    free(w);
}

/* Excess risk of the output at step t. */
static double output_excess(const mc_ctx *c, const mc_ws *w, const od_linreg_form *f, uint64_t t)
{
    const od_linreg_algo *a = c->a;
    const double *lam = c->m->lambda;
    const size_t d = c->m->d;
    double acc[8] = {0}, scale = 1;
    const double *v = w->out;
    int direct = a->output == OD_LINREG_OUT_EMA;
    if (a->output == OD_LINREG_OUT_AVG && t > 0) scale = 1.0 / (double)t, direct = 1;
    if (a->output == OD_LINREG_OUT_TAIL && t > a->tail_start)
        scale = 1.0 / (double)(t - a->tail_start), direct = 1;
    for (size_t k = 0; k < d; k++) {
        double o = direct ? scale * v[k] : f->c[0] * w->z1[k] + (f->m == 2 ? f->c[1] * w->z2[k] : 0);
        acc[k & 7] += lam[k] * o * o;
    }
    return 0.5 * od_linreg_sum8(acc);
}

/* x <- sl (.) x and <x, y> in the 8-stripe order. */
OD_CLONES static double scale_dot(size_t d, const double *restrict sl, double *restrict x,
                                  const double *restrict y)
{
    double acc[8] = {0};
    const size_t d8 = d & ~(size_t)7;
    for (size_t k0 = 0; k0 < d8; k0 += 8)
        for (size_t j = 0; j < 8; j++) {
            const double v = sl[k0 + j] * x[k0 + j];
            x[k0 + j] = v;
            acc[j] += v * y[k0 + j];
        }
    for (size_t k = d8; k < d; k++) {
        x[k] = sl[k] * x[k];
        acc[k & 7] += x[k] * y[k];
    }
    return od_linreg_sum8(acc);
}

/* z <- a z - c x (m = 1, B = 1). */
OD_CLONES static void update1(size_t d, double a, double c, const double *restrict x, double *restrict z)
{
    for (size_t k = 0; k < d; k++) z[k] = a * z[k] - c * x[k];
}

/* (z1, z2) <- Abar (z1, z2) - s G, G = sum_b r_b x_b (m = 2). */
static void update2(size_t d, size_t B, const od_linreg_form *f, const double *r, const double *x,
                    double *z1, double *z2)
{
    for (size_t k = 0; k < d; k++) {
        double G = 0;
        for (size_t b = 0; b < B; b++) G += r[b] * x[b * d + k];
        const double u1 = z1[k], u2 = z2[k];
        z1[k] = f->Abar[0] * u1 + f->Abar[1] * u2 - f->s[0] * G;
        z2[k] = f->Abar[2] * u1 + f->Abar[3] * u2 - f->s[1] * G;
    }
}

static int path_fn(uint32_t path, double *obs, void *ws, void *arg)
{
    const mc_ctx *c = arg;
    mc_ws *w = ws;
    const od_linreg_algo *a = c->a;
    const od_linreg_mc_params *p = c->p;
    const size_t d = c->m->d, B = a->batch;
    const double *sl = c->sl;
    const int ema = a->output == OD_LINREG_OUT_EMA, two = a->method->m == 2;
    od_stream sf, sn;
    od_stream_init(&sf, p->seed, OD_LINREG_STREAM_FEATURES);
    od_stream_init(&sn, p->seed, OD_LINREG_STREAM_NOISE);
    for (size_t k = 0; k < d; k++) {
        w->z1[k] = w->z2[k] = c->m->omega[k];
        w->out[k] = ema ? c->m->omega[k] : 0.0;
    }
    const uint64_t T = p->times[p->n_times - 1];
    size_t next = 0;
    od_linreg_form f;
    a->method->form(a, 1.0, &f);
    for (uint64_t t = 0;; t++) {
        if (t == p->times[next]) {
            double e = output_excess(c, w, &f, t);
            if (!(e <= OD_LINREG_DIVERGED)) break;   /* diverged: this and later times stay NaN */
            obs[next++] = e;
            if (next == p->n_times) break;
        }
        if (t == T) break;
        a->method->form(a, od_linreg_schedule_mult(&a->schedule, t), &f);
        od_stream_seek(&sf, path, (uint32_t)t);
        od_stream_seek(&sn, path, (uint32_t)t);
        p->features->fill(&sf, w->x, B * d);
        od_stream_normals(&sn, w->xi, B);
        const double *y = w->z1;
        if (two || f.g[0] != 1.0) {
            for (size_t k = 0; k < d; k++) w->y[k] = f.g[0] * w->z1[k] + (two ? f.g[1] * w->z2[k] : 0);
            y = w->y;
        }
        /* x_b = sqrt(lambda) (.) z_b in place; residuals r_b = (<x_b, y> - xi_b) / B, kept in xi */
        for (size_t b = 0; b < B; b++)
            w->xi[b] = (scale_dot(d, sl, w->x + b * d, y) - c->sigma * w->xi[b]) / (double)B;
        /* output from the old state */
        const int active = a->output == OD_LINREG_OUT_AVG ||
                           (a->output == OD_LINREG_OUT_TAIL && t >= a->tail_start);
        if (ema || active) {
            const double al = ema ? a->ema : 1.0, bl = ema ? 1 - a->ema : 1.0;
            for (size_t k = 0; k < d; k++)
                w->out[k] = al * w->out[k] + bl * (f.c[0] * w->z1[k] + (two ? f.c[1] * w->z2[k] : 0));
        }
        /* z' = Abar z - s G, G = sum_b r_b x_b */
        if (two) {
            update2(d, B, &f, w->xi, w->x, w->z1, w->z2);
        } else if (B == 1) {
            update1(d, f.Abar[0], f.s[0] * w->xi[0], w->x, w->z1);
        } else {
            for (size_t k = 0; k < d; k++) {
                double G = 0;
                for (size_t b = 0; b < B; b++) G += w->xi[b] * w->x[b * d + k];
                w->z1[k] = f.Abar[0] * w->z1[k] - f.s[0] * G;
            }
        }
    }
    return 0;
}

int od_linreg_mc_run(const od_linreg_model *m, const od_linreg_algo *a, const od_linreg_mc_params *p,
                     od_ensemble_result *res)
{
    memset(res, 0, sizeof *res);
    OD_TRY(od_linreg_model_check(m));
    OD_TRY(od_linreg_algo_check(a));
    if (!p || !p->features || p->n_paths == 0 || p->n_times == 0 || !p->times)
        OD_ERROR("Monte Carlo: need paths, recording times and a feature law", OD_EINVAL);
    if (p->features->kurtosis != m->kappa)
        OD_ERRORF(OD_EINVAL, "Monte Carlo: %s features have kurtosis %g but the model says %g",
                  p->features->name, p->features->kurtosis, m->kappa);
    for (size_t i = 1; i < p->n_times; i++)
        if (p->times[i] <= p->times[i - 1]) OD_ERROR("Monte Carlo: times must increase strictly", OD_EINVAL);
    if (p->times[p->n_times - 1] >= UINT32_MAX)
        OD_ERROR("Monte Carlo: at most 2^32 - 1 steps (stream step counter)", OD_ERANGE);
    mc_ctx c = {m, a, p, od_vec_alloc(m->d), sqrt(m->sigma2)};
    if (!c.sl) OD_ERROR("Monte Carlo: out of memory", OD_ENOMEM);
    for (size_t k = 0; k < m->d; k++) c.sl[k] = sqrt(m->lambda[k]);
    od_ensemble_params ep = {.n_paths = p->n_paths, .n_times = p->n_times, .n_obs = 1,
                             .quantiles = p->quantiles, .n_quantiles = p->n_quantiles,
                             .ws_alloc = ws_alloc, .ws_free = ws_free, .label = p->label};
    int st = od_ensemble_run(&ep, path_fn, &c, res);
    od_free(c.sl);
    return st;
}
