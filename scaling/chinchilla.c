/* optdyn scaling — data, the dropped-rows rule, and the Approach-3 fit of Hoffmann et al. (2022)
 * as replicated by Besiroglu et al. (2024): Huber loss on log residuals, Hoffmann's grid of 4500
 * starts, quasi-Newton runs with the analytic gradient, lowest objective kept (theory sheet §2). */
#include "scaling/scaling_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_multimin.h>

/* ---- data ------------------------------------------------------------------------------------- */

void od_scaling_data_free(od_scaling_data *d)
{
    if (!d) return;
    free(d->N);   /* one block holds N, D, L, lN, lD, lL and w */
    free(d);
}

int od_scaling_data_arrays(od_scaling_data *d, size_t n, int weighted)
{
    double *blk = malloc((weighted ? 7 : 6) * n * sizeof *blk);
    if (!blk) OD_ERROR("out of memory", OD_ENOMEM);
    d->n = n;
    d->N = blk;
    d->D = blk + n;
    d->L = blk + 2 * n;
    d->lN = blk + 3 * n;
    d->lD = blk + 4 * n;
    d->lL = blk + 5 * n;
    d->w = weighted ? blk + 6 * n : NULL;
    return OD_OK;
}

static void data_ranges(od_scaling_data *d)
{
    d->lN_min = d->lD_min = INFINITY;
    d->lN_max = d->lD_max = -INFINITY;
    for (size_t i = 0; i < d->n; i++) {
        d->lN_min = fmin(d->lN_min, d->lN[i]);
        d->lN_max = fmax(d->lN_max, d->lN[i]);
        d->lD_min = fmin(d->lD_min, d->lD[i]);
        d->lD_max = fmax(d->lD_max, d->lD[i]);
    }
}

int od_scaling_data_alloc(size_t n, const double *N, const double *D, const double *L,
                          const double *w, od_scaling_data **out)
{
    *out = NULL;
    if (n == 0) OD_ERROR("scaling data: no rows", OD_EINVAL);
    static const char *what[3] = {"N", "D", "loss"};
    const double *v[3] = {N, D, L};
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < 3; k++)
            if (!(isfinite(v[k][i]) && v[k][i] > 0))
                OD_ERRORF(OD_ERANGE, "scaling data: row %zu: %s = %g is not a positive number", i,
                          what[k], v[k][i]);
        if (w && !(isfinite(w[i]) && w[i] >= 0))
            OD_ERRORF(OD_ERANGE, "scaling data: row %zu: weight %g is not finite and >= 0", i, w[i]);
    }
    od_scaling_data *d = calloc(1, sizeof *d);
    if (!d) OD_ERROR("out of memory", OD_ENOMEM);
    if (od_scaling_data_arrays(d, n, w != NULL) != OD_OK) {
        free(d);
        return OD_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        d->N[i] = N[i];
        d->D[i] = D[i];
        d->L[i] = L[i];
        d->lN[i] = log(N[i]);
        d->lD[i] = log(D[i]);
        d->lL[i] = log(L[i]);
        if (w) d->w[i] = w[i];
    }
    data_ranges(d);
    *out = d;
    return OD_OK;
}

void od_scaling_data_weighted(const od_scaling_data *src, const unsigned *count,
                              od_scaling_data *dst)
{
    size_t m = 0;
    for (size_t i = 0; i < src->n; i++) {
        if (!count[i]) continue;
        dst->N[m] = src->N[i];
        dst->D[m] = src->D[i];
        dst->L[m] = src->L[i];
        dst->lN[m] = src->lN[i];
        dst->lD[m] = src->lD[i];
        dst->lL[m] = src->lL[i];
        dst->w[m] = (double)count[i] * (src->w ? src->w[i] : 1.0);
        m++;
    }
    dst->n = m;
    data_ranges(dst);
}

void od_scaling_tokens_from_flops(size_t n, const double *N, const double *C, double *D)
{
    for (size_t i = 0; i < n; i++) D[i] = C[i] / (6.0 * N[i]);
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

int od_scaling_drop_top(size_t n, const double *L, size_t K, unsigned char *keep, size_t *kept)
{
    *kept = 0;
    if (K == 0 || K >= n) {
        memset(keep, K == 0, n);
        *kept = K == 0 ? n : 0;
        return OD_OK;
    }
    double *s = malloc(n * sizeof *s);
    if (!s) OD_ERROR("out of memory", OD_ENOMEM);
    memcpy(s, L, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    const double cut = s[n - K];   /* sorted(loss)[-K] */
    free(s);
    for (size_t i = 0; i < n; i++) *kept += (keep[i] = L[i] < cut);
    return OD_OK;
}

/* ---- parameters and the grid ----------------------------------------------------------------- */

od_scaling_fit_params od_scaling_fit_default_params(void)
{
    od_scaling_fit_params p = {.delta = 1e-3, .starts = NULL, .n_starts = 0, .polish = 16,
                               .screen_ftol = 1e-3, .ftol = 1e-12, .calm = 5, .gtol = 1e-13,
                               .max_iter = 5000, .restarts = 20, .step = 0.1, .line_tol = 0.9, .progress = 0};
    return p;
}

size_t od_scaling_hoffmann_grid(double *starts)
{
    static const double ab[6] = {0, 5, 10, 15, 20, 25}, ev[5] = {-1, -0.5, 0, 0.5, 1},
                        ex[5] = {0, 0.5, 1, 1.5, 2};
    size_t k = 0;
    for (int i1 = 0; i1 < 5; i1++)             /* alpha */
        for (int i2 = 0; i2 < 5; i2++)         /* beta */
            for (int i3 = 0; i3 < 5; i3++)     /* e */
                for (int i4 = 0; i4 < 6; i4++) /* a */
                    for (int i5 = 0; i5 < 6; i5++, k++) {
                        double *t = starts + 5 * k;
                        t[0] = ab[i4];
                        t[1] = ab[i5];
                        t[2] = ev[i3];
                        t[3] = ex[i1];
                        t[4] = ex[i2];
                    }
    return k;
}

/* ---- the minimiser ---------------------------------------------------------------------------- */

enum { DIM = OD_SCALING_NPAR };

/* The function seen by GSL, in centred coordinates y = (a - alpha cN, b - beta cD, e, alpha,
 * beta), i.e. the law written as A' (N/N_c)^-alpha + B' (D/D_c)^-beta with log N_c = cN and
 * log D_c = cD at the middle of the data.  In theta, a and alpha are almost collinear (log N is
 * about 20 with a spread of 2), and BFGS crawls along that valley; the centred coordinates remove
 * the collinearity (same minimum, a linear change of variables), which cut the iterations of a
 * zero-residual fit six-fold.  With a one-point cache: the line search asks for f and for its
 * gradient at the same point in separate calls. */
typedef struct {
    const od_scaling_data *d;
    double delta, cN, cD;
    int have;
    double cx[DIM], cf, cg[DIM];
    unsigned long evals;
} fn_ctx;

static void to_theta(const fn_ctx *c, const double *y, double *th)
{
    th[0] = y[0] + y[3] * c->cN;
    th[1] = y[1] + y[4] * c->cD;
    th[2] = y[2];
    th[3] = y[3];
    th[4] = y[4];
}

static void to_centred(const fn_ctx *c, const double *th, double *y)
{
    y[0] = th[0] - th[3] * c->cN;
    y[1] = th[1] - th[4] * c->cD;
    y[2] = th[2];
    y[3] = th[3];
    y[4] = th[4];
}

static void fn_eval(fn_ctx *c, const double *y)
{
    if (c->have && memcmp(y, c->cx, sizeof c->cx) == 0) return;
    memcpy(c->cx, y, sizeof c->cx);
    double th[DIM], g[DIM];
    to_theta(c, y, th);
    c->cf = od_scaling_objective(c->d, th, c->delta, g);
    /* chain rule: d/dalpha at fixed a' = d/dalpha + cN d/da */
    c->cg[0] = g[0];
    c->cg[1] = g[1];
    c->cg[2] = g[2];
    c->cg[3] = g[3] + c->cN * g[0];
    c->cg[4] = g[4] + c->cD * g[1];
    c->have = 1;
    c->evals++;
}

static double gsl_f(const gsl_vector *x, void *p)
{
    fn_ctx *c = p;
    fn_eval(c, x->data);
    return c->cf;
}

static void gsl_df(const gsl_vector *x, void *p, gsl_vector *g)
{
    fn_ctx *c = p;
    fn_eval(c, x->data);
    for (size_t k = 0; k < DIM; k++) gsl_vector_set(g, k, c->cg[k]);
}

static void gsl_fdf(const gsl_vector *x, void *p, double *f, gsl_vector *g)
{
    gsl_df(x, p, g);
    *f = ((fn_ctx *)p)->cf;
}

struct od_scaling_ws {
    gsl_multimin_fdfminimizer *m;
};

void od_scaling_ws_free(od_scaling_ws *ws)
{
    if (!ws) return;
    if (ws->m) gsl_multimin_fdfminimizer_free(ws->m);
    free(ws);
}

od_scaling_ws *od_scaling_ws_alloc(void)
{
    od_scaling_ws *ws = calloc(1, sizeof *ws);
    if (ws && !(ws->m = gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, DIM))) {
        od_scaling_ws_free(ws);
        return NULL;
    }
    return ws;
}

void *od_scaling_ws_map_alloc(void *params)
{
    (void)params;
    return od_scaling_ws_alloc();
}

void od_scaling_ws_map_free(void *ws, void *params)
{
    (void)params;
    od_scaling_ws_free(ws);
}

static double max_abs(const gsl_vector *g)
{
    double m = 0;
    for (size_t k = 0; k < g->size; k++) m = fmax(m, fabs(gsl_vector_get(g, k)));
    return m;
}

int od_scaling_ws_run(od_scaling_ws *ws, const od_scaling_data *d, const od_scaling_fit_params *p,
                      int tight, double *x, double *f, unsigned long *evals)
{
    fn_ctx c = {.d = d, .delta = p->delta, .cN = 0.5 * (d->lN_min + d->lN_max),
                .cD = 0.5 * (d->lD_min + d->lD_max)};
    gsl_multimin_function_fdf F = {gsl_f, gsl_df, gsl_fdf, DIM, &c};
    gsl_multimin_fdfminimizer *m = ws->m;
    double y[DIM];
    to_centred(&c, x, y);
    gsl_vector_view xv = gsl_vector_view_array(y, DIM);   /* y holds the best point so far */
    double best = gsl_f(&xv.vector, &c);
    *f = INFINITY;
    if (!isfinite(best)) {
        *evals += c.evals;
        OD_ERROR("scaling fit: the objective is not finite at the start", OD_ENUMERIC);
    }
    const unsigned max_iter = tight ? p->max_iter : (p->max_iter / 10 ? p->max_iter / 10 : 1);
    const double ftol = tight ? p->ftol : p->screen_ftol;
    const unsigned need = tight ? (p->calm ? p->calm : 1) : 2;
    unsigned it = 0;
    /* A tight run restarts BFGS (a fresh curvature estimate) from where it stopped for as long as a
     * round improves the objective by more than ftol: at the kinks the estimate goes stale and the
     * line search stalls, and a restart is what moves on. */
    for (unsigned round = 0; round <= (tight ? p->restarts : 0) && it < max_iter; round++) {
        gsl_multimin_fdfminimizer_set(m, &F, &xv.vector, p->step, p->line_tol);
        double fprev = best;
        unsigned calm = 0;
        for (; it < max_iter; it++) {
            int st = gsl_multimin_fdfminimizer_iterate(m);
            if (st != GSL_SUCCESS || !isfinite(m->f)) break;   /* GSL_ENOPROG: stalled at a kink */
            if (fprev - m->f <= ftol * fabs(m->f)) {
                if (++calm >= need) break;
            } else {
                calm = 0;
            }
            fprev = m->f;
            if (tight && max_abs(m->gradient) <= p->gtol) break;
        }
        if (!(isfinite(m->f) && m->f < best)) break;
        const double gain = best - m->f;
        best = m->f;
        gsl_vector_memcpy(&xv.vector, gsl_multimin_fdfminimizer_x(m));
        if (gain <= ftol * fabs(best) || max_abs(m->gradient) <= p->gtol) break;
    }
    *evals += c.evals;
    *f = best;
    to_theta(&c, y, x);
    if (!od_all_finite(DIM, x)) {
        *f = INFINITY;
        OD_ERROR("scaling fit: the run diverged", OD_ENUMERIC);
    }
    return OD_OK;
}

int od_scaling_minimize(const od_scaling_data *d, const od_scaling_fit_params *p, int tight,
                        double theta[OD_SCALING_NPAR], double *f, unsigned long *evals)
{
    od_scaling_ws *ws = od_scaling_ws_alloc();
    if (!ws) OD_ERROR("out of memory", OD_ENOMEM);
    unsigned long ev = 0;
    int st = od_scaling_ws_run(ws, d, p, tight, theta, f, &ev);
    if (evals) *evals += ev;
    od_scaling_ws_free(ws);
    return st;
}

/* ---- the grid fit ----------------------------------------------------------------------------- */

/* One od_map item: out = {f, theta[5], evals}. */
enum { ITEM = 7 };

typedef struct {
    const od_scaling_data *d;
    const od_scaling_fit_params *p;
    const double *from;     /* start points, 5 per item, indexed through idx when given */
    const size_t *idx;
    int tight;
} run_arg;

static int run_item(size_t i, double *out, void *ws, void *arg)
{
    const run_arg *a = arg;
    size_t j = a->idx ? a->idx[i] : i;
    double th[OD_SCALING_NPAR], f;
    unsigned long ev = 0;
    memcpy(th, a->from + OD_SCALING_NPAR * j, sizeof th);
    if (od_scaling_ws_run(ws, a->d, a->p, a->tight, th, &f, &ev) != OD_OK) f = INFINITY;
    out[0] = f;
    memcpy(out + 1, th, sizeof th);
    out[6] = (double)ev;
    return 0;   /* a diverged start is a result (counted), not an error */
}

typedef struct {
    double f;
    size_t i;
} ranked;

static int cmp_ranked(const void *x, const void *y)
{
    const ranked *a = x, *b = y;
    if (a->f != b->f) return a->f < b->f ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

int od_scaling_check_fit_params(const od_scaling_data *d, const od_scaling_fit_params *p)
{
    if (!(p->delta > 0 && isfinite(p->delta)))
        OD_ERRORF(OD_EINVAL, "scaling fit: Huber delta = %g must be positive", p->delta);
    if (d->n < OD_SCALING_NPAR + 1)
        OD_ERRORF(OD_EINVAL, "scaling fit: %zu rows for %d parameters (need at least %d)", d->n,
                  OD_SCALING_NPAR, OD_SCALING_NPAR + 1);
    if (p->starts && p->n_starts == 0) OD_ERROR("scaling fit: no starting points", OD_EINVAL);
    if (!(p->ftol >= 0 && p->screen_ftol >= 0 && p->step > 0 && p->line_tol > 0))
        OD_ERROR("scaling fit: tolerances must be >= 0 and step, line_tol > 0", OD_EINVAL);
    return OD_OK;
}

int od_scaling_fit_chinchilla(const od_scaling_data *d, const od_scaling_fit_params *p,
                              od_scaling_fit *out)
{
    memset(out, 0, sizeof *out);
    OD_TRY(od_scaling_check_fit_params(d, p));
    double *grid = NULL;
    const double *starts = p->starts;
    size_t ns = p->n_starts;
    if (!starts) {
        if (!(grid = malloc(4500 * OD_SCALING_NPAR * sizeof *grid)))
            OD_ERROR("out of memory", OD_ENOMEM);
        ns = od_scaling_hoffmann_grid(grid);
        starts = grid;
    }
    const int exhaustive = p->polish == 0;
    double *screen = malloc(ns * ITEM * sizeof *screen);
    ranked *rk = malloc(ns * sizeof *rk);
    size_t *pick = malloc(ns * sizeof *pick);
    double *pol = NULL;
    int status = OD_OK;
    if (!screen || !rk || !pick) {
        status = od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
        goto done;
    }
    run_arg ra = {d, p, starts, NULL, exhaustive};
    status = od_map(ns, ITEM, screen, run_item, od_scaling_ws_map_alloc, od_scaling_ws_map_free, &ra,
                    p->progress ? "fit: starts" : NULL);
    if (status != OD_OK) goto done;
    out->n_starts = ns;
    for (size_t i = 0; i < ns; i++) {
        rk[i] = (ranked){screen[ITEM * i], i};
        out->evals += (unsigned long)screen[ITEM * i + 6];
        out->n_diverged += !isfinite(rk[i].f);
    }
    if (out->n_diverged == ns) {
        status = od_error(OD_ENUMERIC, __FILE__, __LINE__,
                          "scaling fit: every one of the %zu starts diverged", ns);
        goto done;
    }
    qsort(rk, ns, sizeof *rk, cmp_ranked);
    size_t best = rk[0].i;
    const double *bt = screen + ITEM * best;   /* f, theta */
    if (!exhaustive) {
        /* the `polish` lowest end points that differ by more than 1e-3 in some coordinate */
        size_t np = 0;
        for (size_t r = 0; r < ns && np < p->polish && isfinite(rk[r].f); r++) {
            const double *t = screen + ITEM * rk[r].i + 1;
            int dup = 0;
            for (size_t q = 0; q < np && !dup; q++) {
                const double *u = screen + ITEM * pick[q] + 1;
                double dm = 0;
                for (int k = 0; k < OD_SCALING_NPAR; k++) dm = fmax(dm, fabs(t[k] - u[k]));
                dup = dm < 1e-3;
            }
            if (!dup) pick[np++] = rk[r].i;
        }
        double *ends = malloc(ns * OD_SCALING_NPAR * sizeof *ends);
        pol = malloc(np * ITEM * sizeof *pol);
        if (!ends || !pol) {
            free(ends);
            status = od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < ns; i++) memcpy(ends + OD_SCALING_NPAR * i, screen + ITEM * i + 1,
                                                OD_SCALING_NPAR * sizeof *ends);
        run_arg rp = {d, p, ends, pick, 1};
        status = od_map(np, ITEM, pol, run_item, od_scaling_ws_map_alloc, od_scaling_ws_map_free,
                        &rp, NULL);
        free(ends);
        if (status != OD_OK) goto done;
        size_t bq = 0;
        for (size_t q = 0; q < np; q++) {
            out->evals += (unsigned long)pol[ITEM * q + 6];
            if (pol[ITEM * q] < pol[ITEM * bq] ||
                (pol[ITEM * q] == pol[ITEM * bq] && pick[q] < pick[bq]))
                bq = q;
        }
        out->n_polished = np;
        if (isfinite(pol[ITEM * bq]) && pol[ITEM * bq] <= bt[0]) {
            best = pick[bq];
            bt = pol + ITEM * bq;
        }
    }
    out->best_start = best;
    out->objective = bt[0];
    memcpy(out->theta, bt + 1, sizeof out->theta);
    out->law = od_scaling_law_from_theta(out->theta);
done:
    free(grid);
    free(screen);
    free(rk);
    free(pick);
    free(pol);
    return status;
}
