/* optdyn sde — ensembles of a discrete optimizer, its SDE model or its SVAG simulation, observed on
 * one time axis (the SDE time of the optimizer's clock), through od_ensemble_run.
 *
 * Step n of each dynamic draws from its own stream (discrete 21, SDE 22, SVAG 23) at (path, n), so
 * a path is the same for any thread count.  A run of K discrete steps is K SDE steps of h = clock
 * (times `substeps`), or K f SVAG steps (f = l or l^2).  Besides the observables at the recording
 * times, every path reports its average of each observable over the steps n in (N/2, N] — the
 * stationary estimate, averaged over paths with an SE from the spread across paths.
 *
 * Fused loops.  On a diagonal quadratic (od_problem_quadratic_diag_view) the step of discrete SGD,
 * RMSprop, Adam and AdamW at batch B >= 1, and the Euler–Maruyama step of the SGD, RMSprop and Adam
 * SDEs, run as one loop over the coordinates: normals in bulk, the gradient lambda (x - c) formed
 * in place, no oracle call or vtable dispatch, the per-step factors (bias corrections, gamma_i(t))
 * tabulated once per ensemble.  They reproduce the generic path bit for bit (the update arithmetic
 * is shared through sde_impl.h; tests compare the bytes), and od_sde_dynamics.generic = 1 turns
 * them off.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sde/sde_impl.h"

enum { STREAM_DISCRETE = 21, STREAM_SDE = 22, STREAM_SVAG = 23 };

int od_sde_observable_parse(const char *word, const od_problem *p, od_sde_observable *out)
{
    memset(out, 0, sizeof *out);
    if (strcmp(word, "loss") == 0) {
        out->kind = OD_SDE_OBS_LOSS;
    } else if (strcmp(word, "norm2") == 0) {
        if (!p->xstar)
            OD_ERRORF(OD_EINVAL, "--observe norm2: problem '%s' has no known minimizer x*", p->label);
        out->kind = OD_SDE_OBS_NORM2;
    } else if (strncmp(word, "coord:", 6) == 0) {
        long i;
        if (od_parse_long(word + 6, &i) != OD_OK || i < 0 || (size_t)i >= p->dim)
            OD_ERRORF(OD_ERANGE, "--observe '%s': coordinate must be an integer in [0, %zu)", word,
                      p->dim);
        out->kind = OD_SDE_OBS_COORD;
        out->index = (size_t)i;
    } else {
        OD_ERRORF(OD_ENOTFOUND, "--observe: unknown observable '%s' (loss, norm2, coord:i)", word);
    }
    snprintf(out->name, sizeof out->name, "%s", word);
    return OD_OK;
}

/* ||x - c||^2 with four partial sums (a fixed order: the same bytes on every path) */
static double dist2(size_t d, const double *x, const double *c)
{
    double a[4] = {0, 0, 0, 0};
    size_t k = 0;
    for (; k + 4 <= d; k += 4)
        for (size_t j = 0; j < 4; j++) {
            const double u = x[k + j] - c[k + j];
            a[j] += u * u;
        }
    for (; k < d; k++) {
        const double u = x[k] - c[k];
        a[k & 3] += u * u;
    }
    return (a[0] + a[1]) + (a[2] + a[3]);
}

static int observe(const od_sde_dynamics *dy, const double *x, double *v)
{
    const od_problem *p = dy->problem;
    for (size_t j = 0; j < dy->n_obs; j++) {
        const od_sde_observable *o = &dy->obs[j];
        if (o->kind == OD_SDE_OBS_LOSS) {
            OD_TRY(od_problem_loss(p, x, &v[j]));
        } else if (o->kind == OD_SDE_OBS_NORM2) {
            v[j] = dist2(p->dim, x, p->xstar);
        } else {
            v[j] = x[o->index];
        }
    }
    return OD_OK;
}

typedef struct {
    const od_sde_dynamics *dy;
    od_sde_model *model;     /* SDE */
    od_sde_hp hp;            /* discrete / SVAG hyperparameters */
    od_sde_oracle_amp amp;
    uint64_t factor;         /* steps per discrete step */
    double h;                /* SDE step */
    int fused;               /* use the fused step (see the top of the file) */
    od_quadratic_diag_view q;
    double *tab;             /* per step: (bc1, bc2) discrete, (g1, g2, sg2) SDE; NULL: computed */
} run_cfg;

typedef struct {
    od_sde_opt *opt;
    double *x, *y, *work, *v, *acc, *z, *g;
} run_ws;

static void ws_free(void *p, void *params)
{
    (void)params;
    run_ws *w = p;
    if (!w) return;
    od_sde_opt_free(w->opt);
    od_free(w->x);
    free(w);
}

static void *ws_alloc(void *params)
{
    const run_cfg *c = params;
    const od_sde_dynamics *dy = c->dy;
    run_ws *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    const size_t d = dy->problem->dim;
    const size_t ny = c->model ? od_sde_model_system(c->model)->dim : d;
    const size_t nw = c->model ? od_sde_work_size(od_sde_model_system(c->model)) : 0;
    w->x = od_vec_alloc(ny + nw + 2 * dy->n_obs + 1 + 2 * d);
    if (!w->x) {
        free(w);
        return NULL;
    }
    w->y = w->x;
    w->work = w->x + ny;
    w->v = w->work + nw;
    w->acc = w->v + dy->n_obs;
    w->z = w->acc + dy->n_obs + 1;
    w->g = w->z + d;
    if (!c->model) {
        if (od_sde_opt_alloc(dy->opt, &c->hp, d, &w->opt) != OD_OK) {
            ws_free(w, params);
            return NULL;
        }
        if (dy->kind == OD_SDE_DYN_SVAG) od_sde_opt_set_amp(w->opt, &c->amp);
    }
    return w;
}

/* ---- fused steps ------------------------------------------------------------------------------- */

/* The diagonal quadratic's minibatch gradient, as its batch_grad computes it (core/problem.h). */
static void quad_batch_grad(const od_quadratic_diag_view *q, size_t d, size_t B, od_stream *s,
                            const double *x, double *g, double *z)
{
    od_zero(d, g);
    if (q->noisy) {
        if (B == 1) {
            od_stream_normals(s, g, d);
        } else {
            for (size_t b = 0; b < B; b++) {
                od_stream_normals(s, z, d);
                for (size_t k = 0; k < d; k++) g[k] += z[k];
            }
        }
    }
    const double inv_B = 1.0 / (double)B;
    for (size_t k = 0; k < d; k++) {
        const double u = x[k] - q->c[k], gk = q->lambda[k] * u;
        g[k] = gk + q->sd[k] * (g[k] * inv_B);
    }
}

static int fused_step(const run_cfg *c, run_ws *w, od_stream *s, uint64_t n)
{
    const od_sde_dynamics *dy = c->dy;
    const size_t d = dy->problem->dim;
    if (c->model) {
        od_stream_normals(s, w->z, d);
        const od_sde_impl_gam gm = c->tab ? (od_sde_impl_gam){c->tab[3 * n], c->tab[3 * n + 1], c->tab[3 * n + 2]}
                                          : od_sde_impl_gammas(c->model, (double)n * c->h);
        return od_sde_impl_fused_em(c->model, &c->q, &gm, c->h, w->z, w->y);
    }
    quad_batch_grad(&c->q, d, dy->batch, s, w->x, w->g, w->z);
    if (dy->opt == od_sde_sgd) {
        od_axpy(d, -c->hp.lr, w->g, w->x);
        return od_all_finite(d, w->x) ? OD_OK : OD_EDIVERGED;
    }
    double *st = od_sde_opt_state(w->opt);
    const int rms = dy->opt == od_sde_rmsprop;
    const double beta1 = rms ? 0.0 : c->hp.beta1;
    const double bc1 = rms ? 1.0 : c->tab ? c->tab[2 * n] : od_sde_impl_bias(&c->hp, beta1, n);
    const double bc2 = c->tab ? c->tab[2 * n + 1] : od_sde_impl_bias(&c->hp, c->hp.beta2, n);
    const int ok = od_sde_impl_adam_update(&c->hp, d, w->g, bc1, bc2, beta1,
                                           dy->opt == od_sde_adamw ? c->hp.weight_decay : 0.0, w->x,
                                           rms ? NULL : st, rms ? st : st + d);
    return ok ? OD_OK : OD_EDIVERGED;
}

/* Decides whether the fused step applies and tabulates its per-step factors (NULL when the run is
 * long: then they are computed at each step, the same numbers). */
static int fused_setup(run_cfg *c)
{
    const od_sde_dynamics *dy = c->dy;
    const od_sde_optimizer *o = dy->opt;
    if (dy->generic || !od_problem_quadratic_diag_view(dy->problem, &c->q)) return OD_OK;
    uint64_t N = dy->steps * c->factor;
    if (dy->kind == OD_SDE_DYN_DISCRETE)
        c->fused = dy->batch >= 1 && (o == od_sde_sgd || o == od_sde_rmsprop || o == od_sde_adam ||
                                      o == od_sde_adamw);
    else if (dy->kind == OD_SDE_DYN_SDE)
        c->fused = dy->scheme == OD_SDE_EM && od_sde_impl_fused_ok(c->model, &c->q);
    if (!c->fused || o == od_sde_sgd || N > ((uint64_t)1 << 22)) return OD_OK;
    const size_t per = dy->kind == OD_SDE_DYN_SDE ? 3 : 2;
    c->tab = malloc((size_t)N * per * sizeof *c->tab);
    if (!c->tab) OD_ERROR("out of memory for the step tables", OD_ENOMEM);
    for (uint64_t n = 0; n < N; n++) {
        if (per == 3) {
            const od_sde_impl_gam gm = od_sde_impl_gammas(c->model, (double)n * c->h);
            c->tab[3 * n] = gm.g1;
            c->tab[3 * n + 1] = gm.g2;
            c->tab[3 * n + 2] = gm.sg2;
        } else {
            c->tab[2 * n] = od_sde_impl_bias(&c->hp, c->hp.beta1, n);
            c->tab[2 * n + 1] = od_sde_impl_bias(&c->hp, c->hp.beta2, n);
        }
    }
    return OD_OK;
}

static int path_fn(uint32_t path, double *obs, void *wsp, void *params)
{
    const run_cfg *c = params;
    const od_sde_dynamics *dy = c->dy;
    run_ws *w = wsp;
    const od_problem *p = dy->problem;
    const size_t d = p->dim, no = dy->n_obs;
    const uint64_t N = dy->steps * c->factor, half = N / 2;
    const double *x0 = dy->x0 ? dy->x0 : p->x0;
    od_stream s;
    uint32_t sid = c->model ? STREAM_SDE : dy->kind == OD_SDE_DYN_SVAG ? STREAM_SVAG : STREAM_DISCRETE;
    od_stream_init(&s, dy->seed, sid);
    if (c->model) {
        od_sde_model_init(c->model, x0, w->y);
    } else {
        if (x0) od_copy(d, x0, w->x);
        else od_zero(d, w->x);
        od_sde_opt_reset(w->opt);
    }
    od_zero(no, w->acc);
    size_t j = 0;
    int diverged = 0;
    const od_sde_system *sys = c->model ? od_sde_model_system(c->model) : NULL;
    for (uint64_t n = 0;; n++) {
        const int rec = j < dy->n_times && n == dy->times[j] * c->factor;
        if (!diverged && (rec || n > half)) {
            OD_TRY(observe(dy, w->x, w->v));
            if (!od_all_finite(no, w->v)) diverged = 1;
        }
        if (rec) {
            for (size_t k = 0; k < no; k++) obs[j * no + k] = diverged ? NAN : w->v[k];
            j++;
        }
        if (n > half && !diverged)
            for (size_t k = 0; k < no; k++) w->acc[k] += w->v[k];
        if (n == N) break;
        if (diverged) {
            if (j >= dy->n_times) break;
            continue;
        }
        od_stream_seek(&s, path, (uint32_t)n);
        int st;
        if (c->fused) st = fused_step(c, w, &s, n);
        else if (c->model) st = od_sde_step(dy->scheme, sys, (double)n * c->h, c->h, &s, w->y, w->work);
        else st = od_sde_opt_step(w->opt, p, dy->batch, &s, w->x);
        if (st == OD_EDIVERGED || (!c->fused && !od_all_finite(d, w->x))) diverged = 1;   /* fused: checked */
        else if (st != OD_OK) return -st;
    }
    const uint64_t cnt = N - half;
    for (size_t k = 0; k < no; k++)
        obs[dy->n_times * no + k] = diverged || cnt == 0 ? NAN : w->acc[k] / (double)cnt;
    return 0;
}

int od_sde_dynamics_run(const od_sde_dynamics *dy, size_t paths, od_ensemble_result *res, double *t)
{
    run_cfg c = {.dy = dy, .hp = dy->hp, .factor = 1, .amp = {1.0, 0.0}};
    if (!dy->problem || !dy->opt || dy->n_obs == 0 || paths == 0 || dy->steps == 0)
        OD_ERROR("od_sde_dynamics_run: missing problem, optimizer, observables, paths or steps", OD_EINVAL);
    if (dy->steps * 64 > UINT32_MAX) OD_ERROR("od_sde_dynamics_run: too many steps", OD_ERANGE);
    for (size_t j = 0; j < dy->n_times; j++)
        if (dy->times[j] > dy->steps || (j && dy->times[j] <= dy->times[j - 1]))
            OD_ERROR("od_sde_dynamics_run: recording times must increase and not exceed steps",
                     OD_EINVAL);
    OD_TRY(od_sde_hp_check(dy->opt, &dy->hp));
    const double clock = od_sde_clock(dy->opt, &dy->hp);
    int st = OD_OK;
    if (dy->kind == OD_SDE_DYN_SDE) {
        od_sde_model_opts mo = {.batch = dy->batch ? dy->batch : 1, .sample_m = dy->sample_m};
        OD_TRY(od_sde_model_alloc(dy->opt, &dy->hp, dy->problem, &mo, &c.model));
        st = od_sde_scheme_check(dy->scheme, od_sde_model_system(c.model));
        c.factor = dy->substeps ? dy->substeps : 1;
        c.h = od_sde_model_clock(c.model) / (double)c.factor;
    } else if (dy->kind == OD_SDE_DYN_SVAG) {
        double f;
        OD_TRY(od_sde_svag(dy->opt, &dy->hp, dy->svag_l, &c.hp, &c.amp, &f));
        if (fabs(f - nearbyint(f)) > 1e-12)
            OD_ERRORF(OD_ERANGE, "SVAG: l = %g must make the step factor (%g) an integer", dy->svag_l, f);
        c.factor = (uint64_t)nearbyint(f);
        if (dy->batch == 0) OD_ERROR("SVAG needs minibatches (batch >= 1)", OD_EINVAL);
    }
    if (st == OD_OK && dy->steps * c.factor > UINT32_MAX)
        st = od_error(OD_ERANGE, __FILE__, __LINE__, "too many steps (%llu x %llu)",
                      (unsigned long long)dy->steps, (unsigned long long)c.factor);
    if (st == OD_OK) st = fused_setup(&c);
    if (st == OD_OK) {
        od_ensemble_params ep = {.n_paths = paths, .n_times = dy->n_times + 1, .n_obs = dy->n_obs,
                                 .ws_alloc = ws_alloc, .ws_free = ws_free, .label = dy->label};
        st = od_ensemble_run(&ep, path_fn, &c, res);
        if (st < 0) st = -st;
    }
    if (t)
        for (size_t j = 0; j < dy->n_times; j++) t[j] = (double)dy->times[j] * clock;
    od_sde_model_free(c.model);
    free(c.tab);
    return st;
}
