/* optdyn spectra — sample paths of linearised SGD at a minimum: minibatch samplers, the linear
 * recursion x_{t+1} = (I − η Ĥ_t) x_t in the reduced coordinates of a per-sample Hessian set,
 * divergence runs (the protocol of Dexter et al.'s code: ‖x‖² >= 1000 ‖x_0‖²) and the top Lyapunov
 * exponent from renormalised runs (theory sheet spectra.md §6.6).  Contracts in optdyn_spectra.h.
 *
 * Randomness: x_0 of path p at (p, 0) and the batch of step t at (p, t) of od_stream(seed, stream),
 * so a path's numbers do not depend on the thread that runs it; Lyapunov paths go through
 * od_ensemble_run (fixed chunks, fixed reduction order).
 */
#include "spectra/optdyn_spectra.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- minibatch samplers ------------------------------------------------------------------------ */

struct od_spectra_batcher {
    od_spectra_sampling s;
    size_t n, B;
    double p;
    uint32_t *perm;
};

int od_spectra_batcher_alloc(od_spectra_sampling s, size_t n, size_t B, od_spectra_batcher **out)
{
    *out = NULL;
    double a, b;
    OD_TRY(od_spectra_sampling_coef(s, n, B, &a, &b));
    if (n > UINT32_MAX) OD_ERROR("batcher: n above 2^32", OD_ERANGE);
    od_spectra_batcher *bt = calloc(1, sizeof *bt);
    if (bt) bt->perm = malloc(n * sizeof *bt->perm);
    if (!bt || !bt->perm) {
        od_spectra_batcher_free(bt);
        OD_ERROR("batcher: out of memory", OD_ENOMEM);
    }
    bt->s = s;
    bt->n = n;
    bt->B = B;
    bt->p = (double)B / (double)n;
    od_spectra_batcher_reset(bt);
    *out = bt;
    return OD_OK;
}

void od_spectra_batcher_reset(od_spectra_batcher *b)
{
    for (size_t i = 0; i < b->n; i++) b->perm[i] = (uint32_t)i;
}

void od_spectra_batcher_free(od_spectra_batcher *b)
{
    if (!b) return;
    free(b->perm);
    free(b);
}

size_t od_spectra_batch_draw(od_spectra_batcher *b, od_stream *s, uint32_t *idx)
{
    switch (b->s) {
    case OD_SPECTRA_SAMPLE_REPLACEMENT:
        for (size_t j = 0; j < b->B; j++) idx[j] = od_stream_below(s, (uint32_t)b->n);
        return b->B;
    case OD_SPECTRA_SAMPLE_WITHOUT:   /* B steps of Fisher–Yates: a uniform B-subset from any permutation */
        for (size_t j = 0; j < b->B; j++) {
            const size_t k = j + od_stream_below(s, (uint32_t)(b->n - j));
            const uint32_t t = b->perm[j];
            b->perm[j] = b->perm[k];
            b->perm[k] = t;
            idx[j] = b->perm[j];
        }
        return b->B;
    case OD_SPECTRA_SAMPLE_BERNOULLI: {
        size_t m = 0;
        for (size_t i = 0; i < b->n; i++)
            if (od_stream_uniform(s) < b->p) idx[m++] = (uint32_t)i;
        return m;
    }
    }
    return 0;
}

/* ---- the linear recursion ------------------------------------------------------------------------ */

void od_spectra_stab_step(const od_spectra_stab *st, double eta, const uint32_t *idx, size_t m,
                          const double *x, double *y, double *work)
{
    const od_spectra_hset *h = od_spectra_stab_hset(st);
    const size_t r = h->r;
    od_zero(r, work);
    for (size_t j = 0; j < m; j++) {   /* work = Σ_{i∈batch} H̃_i x */
        const size_t i = idx[j];
        for (size_t a = h->off[i]; a < h->off[i] + h->k[i]; a++)
            od_axpy(r, h->sgn[a] * od_dot(r, h->G + a * r, x), h->G + a * r, work);
    }
    const double c = eta / (double)od_spectra_stab_batch(st);
    for (size_t a = 0; a < r; a++) y[a] = x[a] - c * work[a];
}

od_spectra_run_params od_spectra_run_default_params(void)
{
    return (od_spectra_run_params){.steps = 1000, .paths = 10, .burn_in = 0, .blowup = 1000,
                                   .uniform_start = 1, .seed = 1, .stream = 12};
}

/* Per-thread workspace of a run. */
typedef struct {
    double *x, *work;
    uint32_t *idx;
    od_spectra_batcher *b;
} run_ws;

static void run_ws_free(run_ws *w)
{
    if (!w) return;
    od_free(w->x);
    od_free(w->work);
    free(w->idx);
    od_spectra_batcher_free(w->b);
    free(w);
}

static run_ws *run_ws_alloc(const od_spectra_stab *st)
{
    const od_spectra_hset *h = od_spectra_stab_hset(st);
    const size_t B = od_spectra_stab_batch(st), m = B > h->n ? B : h->n;
    run_ws *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->x = od_vec_alloc(h->r);
    w->work = od_vec_alloc(h->r);
    w->idx = malloc(m * sizeof *w->idx);
    if (!w->x || !w->work || !w->idx ||
        od_spectra_batcher_alloc(od_spectra_stab_sampling(st), h->n, B, &w->b) != OD_OK) {
        run_ws_free(w);
        return NULL;
    }
    return w;
}

/* x_0 of a path: U[0,1)^r or N(0, I_r) at (path, 0). */
static void start(const od_spectra_run_params *p, size_t r, uint32_t path, od_stream *s, double *x)
{
    od_stream_seek(s, path, 0);
    if (p->uniform_start) od_stream_uniforms(s, x, r);
    else od_stream_normals(s, x, r);
}

static int check_run(const od_spectra_run_params *p)
{
    if (p->steps == 0 || p->steps >= UINT32_MAX || p->paths == 0 || p->paths > UINT32_MAX)
        OD_ERROR("runs: need 1 <= steps < 2^32 and 1 <= paths <= 2^32", OD_EINVAL);
    if (!(p->blowup > 1)) OD_ERRORF(OD_EINVAL, "runs: blowup = %g must exceed 1", p->blowup);
    if (p->burn_in >= p->steps) OD_ERROR("runs: burn_in must be below steps", OD_EINVAL);
    return OD_OK;
}

static int diverges_ws(const od_spectra_stab *st, double eta, const od_spectra_run_params *p,
                       uint32_t path, run_ws *w, size_t *t_div, double *growth)
{
    const size_t r = od_spectra_stab_hset(st)->r;
    od_stream s;
    od_stream_init(&s, p->seed, p->stream);
    start(p, r, path, &s, w->x);
    od_spectra_batcher_reset(w->b);
    const double n0 = od_dot(r, w->x, w->x);
    double q = 1;
    *t_div = 0;
    for (size_t t = 1; t <= p->steps; t++) {
        od_stream_seek(&s, path, (uint32_t)t);
        const size_t m = od_spectra_batch_draw(w->b, &s, w->idx);
        od_spectra_stab_step(st, eta, w->idx, m, w->x, w->x, w->work);
        q = od_dot(r, w->x, w->x) / n0;
        if (!(q < p->blowup)) {   /* also NaN / inf */
            *t_div = t;
            break;
        }
    }
    if (growth) *growth = q;
    return OD_OK;
}

int od_spectra_stab_diverges(const od_spectra_stab *st, double eta, const od_spectra_run_params *prm,
                             uint32_t path, size_t *t_div, double *growth)
{
    const od_spectra_run_params p = prm ? *prm : od_spectra_run_default_params();
    OD_TRY(check_run(&p));
    run_ws *w = run_ws_alloc(st);
    if (!w) OD_ERROR("runs: out of memory", OD_ENOMEM);
    int e = diverges_ws(st, eta, &p, path, w, t_div, growth);
    run_ws_free(w);
    return e;
}

/* ---- Lyapunov exponent --------------------------------------------------------------------------- */

typedef struct {
    const od_spectra_stab *st;
    double eta;
    od_spectra_run_params p;
} lyap_cfg;

static void *lyap_ws_alloc(void *arg) { return run_ws_alloc(((lyap_cfg *)arg)->st); }
static void lyap_ws_free(void *ws, void *arg)
{
    (void)arg;
    run_ws_free(ws);
}

/* obs[0] = (1/t) Σ log(‖x_{s+1}‖/‖x_s‖) after burn-in (−inf when an iterate is zeroed), obs[1] = zeroed. */
static int lyap_path(uint32_t path, double *obs, void *ws, void *arg)
{
    const lyap_cfg *c = arg;
    run_ws *w = ws;
    if (!w) return -OD_ENOMEM;
    const size_t r = od_spectra_stab_hset(c->st)->r;
    od_stream s;
    od_stream_init(&s, c->p.seed, c->p.stream);
    start(&c->p, r, path, &s, w->x);
    od_spectra_batcher_reset(w->b);
    double nx = od_nrm2(r, w->x), sum = 0;
    od_scal(r, 1.0 / nx, w->x);
    obs[1] = 0;
    for (size_t t = 1; t <= c->p.steps; t++) {
        od_stream_seek(&s, path, (uint32_t)t);
        const size_t m = od_spectra_batch_draw(w->b, &s, w->idx);
        od_spectra_stab_step(c->st, c->eta, w->idx, m, w->x, w->x, w->work);
        nx = od_nrm2(r, w->x);
        if (!(nx > 0) || !isfinite(nx)) {
            obs[0] = nx == 0 ? -INFINITY : NAN;
            obs[1] = nx == 0;
            return 0;
        }
        if (t > c->p.burn_in) sum += log(nx);
        od_scal(r, 1.0 / nx, w->x);
    }
    obs[0] = sum / (double)(c->p.steps - c->p.burn_in);
    return 0;
}

int od_spectra_stab_lyapunov(const od_spectra_stab *st, double eta, const od_spectra_run_params *prm,
                             od_spectra_lyap_result *res)
{
    lyap_cfg c = {st, eta, prm ? *prm : od_spectra_run_default_params()};
    memset(res, 0, sizeof *res);
    OD_TRY(check_run(&c.p));
    od_ensemble_params ep = {.n_paths = c.p.paths, .n_times = 1, .n_obs = 2,
                             .ws_alloc = lyap_ws_alloc, .ws_free = lyap_ws_free};
    od_ensemble_result er;
    OD_TRY(od_ensemble_run(&ep, lyap_path, &c, &er));
    res->mean = er.n_ok[0] ? er.mean[0] : NAN;
    res->se = er.n_ok[0] > 1 ? er.se[0] : NAN;
    res->paths = c.p.paths;
    res->steps = c.p.steps - c.p.burn_in;
    res->zeroed = (size_t)llround(er.mean[1] * (double)er.n_ok[1]);
    od_ensemble_result_free(&er);
    return OD_OK;
}
