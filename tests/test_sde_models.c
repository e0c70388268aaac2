/* optdyn tests — SDE models against their discrete maps, integrators against exact maps and
 * moments, and the ensemble driver against closed forms.
 *
 * One-step moment matching (sde.md §3): on a 1-D quadratic whose minibatch noise is injected
 * (g = lambda x + s z / sqrt(B), the same z for both SAM gradients), the mean and variance of every
 * component after one discrete step are computed by adaptive quadrature over z (GSL qagi, relative
 * error 1e-11), and compared with the SDE's Euler moments over h = clock, y + b h and h sigma sigma^T.
 * Error model: where the SDE matches the map exactly (SGD, USAM, DNSAM, SAM's drift) the difference
 * is quadrature error, <= 1e-9 of the scale; elsewhere the mismatch per unit time e(eta) must vanish
 * at least linearly, i.e. per step to O(eta clock): e(eta/2)/e(eta) <= 0.5 + 0.1, the 0.1 being the
 * O(eta) correction of the Taylor model at these eta (<= 0.02).  Adaptive methods are taken in
 * Malladi et al.'s regime (sigma0 = sigma eta, eps0 = eps eta, c_i = (1-beta_i)/eta^2 fixed), with u
 * in units of sigma^2.  SAM's variance drops an O(rho^2) term: halving rho divides the mismatch by 4.
 *
 * Monte Carlo checks use z-scores <= 5 against exact closed forms.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_integration.h>

#include "od_test.h"
#include "sde/optdyn_sde.h"

void od_test_suite_sde_models(void);

#define EPS DBL_EPSILON
#define SEED 0xD1B54A32D192ED03ULL

/* ---- a 1-D quadratic with injected minibatch noise ------------------------------------------ */

typedef struct {
    double lambda, s;
} inj;
static double z_inject;   /* the standardized batch noise of the next batch_grad */

static int inj_loss(const od_problem *p, const double *x, double *f)
{
    const inj *q = p->data;
    *f = 0.5 * q->lambda * x[0] * x[0];
    return OD_OK;
}
static int inj_grad(const od_problem *p, const double *x, double *g, double *f)
{
    const inj *q = p->data;
    g[0] = q->lambda * x[0];
    if (f) *f = 0.5 * q->lambda * x[0] * x[0];
    return OD_OK;
}
static int inj_hvp(const od_problem *p, const double *x, const double *v, double *hv)
{
    (void)x;
    hv[0] = ((const inj *)p->data)->lambda * v[0];
    return OD_OK;
}
static int inj_batch(const od_problem *p, const double *x, size_t B, od_stream *s, double *g, double *f)
{
    (void)s;
    const inj *q = p->data;
    g[0] = q->lambda * x[0] + q->s * z_inject / sqrt((double)B);
    if (f) *f = 0.5 * q->lambda * x[0] * x[0];
    return OD_OK;
}
static int inj_cov(const od_problem *p, const double *x, double *cov)
{
    (void)x;
    cov[0] = ((const inj *)p->data)->s * ((const inj *)p->data)->s;
    return OD_OK;
}
static int inj_sample(const od_problem *p, const double *x, od_stream *s, double *out)
{
    (void)x;
    out[0] = ((const inj *)p->data)->s * od_stream_normal(s);
    return OD_OK;
}
static const od_problem_type inj_type = {.name = "injected", .loss = inj_loss, .grad = inj_grad,
                                         .hvp = inj_hvp, .batch_grad = inj_batch,
                                         .noise_cov = inj_cov, .noise_sample = inj_sample,
                                         .free_data = free};

static od_problem *inj_problem(double lambda, double s)
{
    inj *q = malloc(sizeof *q);
    q->lambda = lambda;
    q->s = s;
    od_problem *p = od_problem_alloc(&inj_type, 1, 0, q);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    p->noise = OD_NOISE_CONSTANT | OD_NOISE_DIAGONAL;   /* declared, as every problem does */
    return p;
}

/* ---- the discrete step's moments by quadrature ------------------------------------------------ */

enum { MAXN = 3 };
typedef struct {
    const od_sde_optimizer *opt;
    const od_sde_hp *hp;
    const od_problem *p;
    size_t B;
    double x0, st0[2];     /* x and the optimizer state before the step */
    int comp, power;       /* which output and which power (1 mean, 2 second moment) */
    int n_out;
    int has_break;         /* the step jumps at z = zbreak (SAM: the sign of the batch gradient) */
    double zbreak;
    double (*map_out)(int comp, double x, const double *st);   /* discrete -> SDE coordinates */
    double scale[MAXN];
} qctx;

static double step_out(const qctx *c, double z)
{
    od_sde_opt *o = NULL;
    od_sde_opt_alloc(c->opt, c->hp, 1, &o);
    double *st = od_sde_opt_state(o);
    st[0] = c->st0[0];
    st[1] = c->st0[1];
    double x = c->x0;
    z_inject = z;
    od_stream s;
    od_stream_init(&s, 1, 1);
    od_sde_opt_step(o, c->p, c->B, &s, &x);
    double v = c->map_out(c->comp, x, od_sde_opt_state(o));
    od_sde_opt_free(o);
    return v;
}

static double integrand(double z, void *arg)
{
    const qctx *c = arg;
    double v = step_out(c, z);
    return (c->power == 2 ? v * v : v) * exp(-0.5 * z * z) / sqrt(2 * M_PI);
}

static double expect(qctx *c, int comp, int power)
{
    c->comp = comp;
    c->power = power;
    gsl_integration_workspace *w = gsl_integration_workspace_alloc(2000);
    gsl_function F = {integrand, c};
    double r, err;
    if (c->has_break) {   /* integrate each side of the jump */
        double r2;
        gsl_integration_qagil(&F, c->zbreak, 1e-14, 1e-11, 2000, w, &r, &err);
        gsl_integration_qagiu(&F, c->zbreak, 1e-14, 1e-11, 2000, w, &r2, &err);
        r += r2;
    } else {
        gsl_integration_qagi(&F, 1e-14, 1e-11, 2000, w, &r, &err);
    }
    gsl_integration_workspace_free(w);
    return r;
}

/* Mismatch per unit time between the discrete step's (mean, variance) and the SDE's Euler
 * moments, each component in its own scale: max over components. */
static double mismatch(qctx *c, const od_sde_model *m, const double *y, double t)
{
    const od_sde_system *sys = od_sde_model_system(m);
    const double h = od_sde_model_clock(m);
    double mean[MAXN], cov[MAXN * MAXN];
    CU_ASSERT_EQUAL_FATAL(od_sde_model_em_moments(m, t, y, h, mean, cov), OD_OK);
    double e = 0;
    for (int i = 0; i < c->n_out; i++) {
        double m1 = expect(c, i, 1), m2 = expect(c, i, 2), var = m2 - m1 * m1;
        double sc = c->scale[i];
        e = fmax(e, fabs(m1 - mean[i]) / sc / h);
        e = fmax(e, fabs(var - cov[i * sys->dim + i]) / (sc * sc) / h);
    }
    return e;
}

static double out_x(int comp, double x, const double *st) { (void)comp; (void)st; return x; }

static double xm_scale = 1.0;   /* (1 - mu) for momentum: m = (1 - mu) b */
static double out_xm(int comp, double x, const double *st) { return comp == 0 ? x : xm_scale * st[0]; }
static double out_xu(int comp, double x, const double *st) { return comp == 0 ? x : st[0]; }
static double out_xmu(int comp, double x, const double *st)
{
    return comp == 0 ? x : comp == 1 ? st[0] : st[1];
}

/* Exact matches: SGD, USAM, DNSAM (additive noise, H_B = H) */
static void test_moments_exact(void)
{
    od_problem *p = inj_problem(1.7, 0.9);
    const od_sde_optimizer *opts[] = {od_sde_sgd, od_sde_usam, od_sde_dnsam};
    for (int i = 0; i < 3; i++) {
        od_sde_hp hp = od_sde_hp_default();
        hp.lr = 0.0371;
        hp.rho = 0.113;
        od_sde_model_opts mo = {.batch = 3};
        od_sde_model *m = NULL;
        CU_ASSERT_EQUAL_FATAL(od_sde_model_alloc(opts[i], &hp, p, &mo, &m), OD_OK);
        qctx c = {.opt = opts[i], .hp = &hp, .p = p, .B = 3, .x0 = 0.83, .n_out = 1,
                  .map_out = out_x, .scale = {1}};
        double y[1] = {0.83};
        double e = mismatch(&c, m, y, 0.0);
        if (e > 1e-9) fprintf(stderr, "\n  %s: mismatch per unit time %g", opts[i]->name, e);
        CU_ASSERT_TRUE(e <= 1e-9);
        od_sde_model_free(m);
    }
    od_problem_free(p);
}

/* SAM in 1-D: the drift is exact, the variance drops lambda^2 rho^2 Var(sign g): halving rho
 * divides the mismatch by 4 exactly. */
static void test_moments_sam(void)
{
    od_problem *p = inj_problem(1.7, 0.9);
    double e[2];
    for (int r = 0; r < 2; r++) {
        od_sde_hp hp = od_sde_hp_default();
        hp.lr = 0.0371;
        hp.rho = 0.113 / (r + 1);
        od_sde_model_opts mo = {.batch = 2};
        od_sde_model *m = NULL;
        CU_ASSERT_EQUAL_FATAL(od_sde_model_alloc(od_sde_sam, &hp, p, &mo, &m), OD_OK);
        qctx c = {.opt = od_sde_sam, .hp = &hp, .p = p, .B = 2, .x0 = 0.41, .n_out = 1,
                  .map_out = out_x, .scale = {1}, .has_break = 1,
                  .zbreak = -1.7 * 0.41 * sqrt(2.0) / 0.9};   /* g = lambda x + s z/sqrt(B) = 0 */
        double y[1] = {0.41}, mean[1], cov[1];
        CU_ASSERT_EQUAL(od_sde_model_em_moments(m, 0, y, hp.lr, mean, cov), OD_OK);
        OD_ASSERT_CLOSE(expect(&c, 0, 1), mean[0], 1e-10);
        e[r] = mismatch(&c, m, y, 0.0);
        od_sde_model_free(m);
    }
    OD_ASSERT_CLOSE(e[1] / e[0], 0.25, 1e-6);
    od_problem_free(p);
}

/* Momentum (c fixed), RMSprop and Adam (Malladi et al.'s regime): mismatch per unit time -> 0 at
 * least linearly in eta. */
static void test_moments_ratio(void)
{
    const double lam = 1.7, sbase = 0.9, sigma0 = 0.35, eps0 = 0.2, c1 = 3.0, c2 = 2.0, cm = 2.3;
    const od_sde_optimizer *opts[] = {od_sde_momentum, od_sde_rmsprop, od_sde_adam};
    for (int i = 0; i < 3; i++) {
        double e[2];
        for (int r = 0; r < 2; r++) {
            const double eta = 0.02 / (r + 1);
            od_sde_hp hp = od_sde_hp_default();
            od_problem *p;
            qctx c = {.opt = opts[i], .hp = &hp, .B = 1, .x0 = 0.8, .scale = {1, 1, 1}};
            double y[3] = {0.8, 0, 0};
            if (opts[i] == od_sde_momentum) {   /* eta' = eta, c = cm fixed: mu = 1 - cm eta' */
                hp.momentum = 1 - cm * eta;
                hp.lr = eta * (1 - hp.momentum);
                xm_scale = 1 - hp.momentum;
                p = inj_problem(lam, sbase);
                c.st0[0] = 0.3 / xm_scale;   /* b, so that m = 0.3 */
                y[1] = 0.3;
                c.n_out = 2;
                c.map_out = out_xm;
            } else {
                const double s_eff = sigma0 * sbase / eta;   /* sigma = sigma0/eta at B = 1 */
                hp.lr = eta;
                hp.eps = eps0 / eta;
                hp.beta1 = 1 - c1 * eta * eta;
                hp.beta2 = 1 - c2 * eta * eta;
                hp.bias_correction = 0;
                p = inj_problem(lam, s_eff);
                const int adam = opts[i] == od_sde_adam;
                c.n_out = adam ? 3 : 2;
                c.map_out = adam ? out_xmu : out_xu;
                c.st0[0] = adam ? 0.3 : 0.7 * s_eff * s_eff;   /* m (Adam) or v */
                c.st0[1] = 0.7 * s_eff * s_eff;                 /* v (Adam) */
                y[1] = c.st0[0];
                y[2] = c.st0[1];
                c.scale[adam ? 2 : 1] = s_eff * s_eff;         /* u in units of sigma^2 */
            }
            c.p = p;
            od_sde_model_opts mo = {.batch = 1};
            od_sde_model *m = NULL;
            CU_ASSERT_EQUAL_FATAL(od_sde_model_alloc(opts[i], &hp, p, &mo, &m), OD_OK);
            e[r] = mismatch(&c, m, y, 0.0);
            od_sde_model_free(m);
            od_problem_free(p);
        }
        if (!(e[1] / e[0] <= 0.6))
            fprintf(stderr, "\n  %s: e(eta) = %g, e(eta/2) = %g", opts[i]->name, e[0], e[1]);
        CU_ASSERT_TRUE(e[1] / e[0] <= 0.6);
        CU_ASSERT_TRUE(e[0] > 0);
    }
}

/* Bias correction: gamma_i(t) -> 1 as t -> infinity, so the bias-corrected Adam SDE's drift equals
 * the uncorrected one at t >> 1/c; and at t = 0 (m = 0, gamma_1 = 0) the X drift is 0, not NaN. */
static void test_bias_correction_limits(void)
{
    od_problem *p = inj_problem(1.3, 2.1);
    od_sde_hp hp = od_sde_hp_default();
    hp.lr = 0.05;
    hp.beta1 = 0.9;
    hp.beta2 = 0.99;
    hp.eps = 0.01;
    od_sde_model *mb = NULL, *mn = NULL;
    od_sde_model_opts mo = {.batch = 1};
    CU_ASSERT_EQUAL_FATAL(od_sde_model_alloc(od_sde_adam, &hp, p, &mo, &mb), OD_OK);
    hp.bias_correction = 0;
    CU_ASSERT_EQUAL_FATAL(od_sde_model_alloc(od_sde_adam, &hp, p, &mo, &mn), OD_OK);
    const od_sde_system *sb = od_sde_model_system(mb), *sn = od_sde_model_system(mn);
    double y[3] = {0.7, 0.25, 4.1}, bb[3], bn[3];
    /* c2 = 0.01/0.0025 = 4: at t = 20, e^{-c2 t} = e^-80 is below rounding */
    sb->drift(20.0, y, bb, sb->params);
    sn->drift(20.0, y, bn, sn->params);
    for (int i = 0; i < 3; i++) OD_ASSERT_CLOSE(bb[i], bn[i], 4 * EPS * fabs(bn[i]));
    double y0[3] = {0.7, 0, 0};
    sb->drift(0.0, y0, bb, sb->params);
    CU_ASSERT_EQUAL(bb[0], 0.0);
    /* discrete: the first bias-corrected Adam step is lr g/(|g| + eps) whatever beta1, beta2 */
    od_sde_model_free(mb);
    od_sde_model_free(mn);
    od_problem_free(p);
}

/* ---- integrators --------------------------------------------------------------------------------- */

/* GBM dX = a X dt + b X dW, or OU (a = -lambda, b = s, additive) */
typedef struct {
    double a, b;
    int additive;
} lin;

static od_sde_system lin_system(lin *l)
{
    static od_sde_linear coef[8];
    static int next;
    od_sde_linear *c = &coef[next++ % 8];
    *c = (od_sde_linear){l->a, l->b, !l->additive};
    return od_sde_linear_system(c);
}

static void test_scheme_maps(void)
{
    double work[8];
    const double h = 0.0731, dw = 0.2917, x = 1.213;
    lin g = {0.35, 0.8, 0}, ou = {-1.3, 0.7, 1};
    od_sde_system sg = lin_system(&g), so = lin_system(&ou);
    double y = x;
    CU_ASSERT_EQUAL(od_sde_step_dw(OD_SDE_EM, &sg, 0, h, &dw, &y, work), OD_OK);
    OD_ASSERT_CLOSE(y, x * (1 + g.a * h + g.b * dw), 8 * EPS * x);
    y = x;
    CU_ASSERT_EQUAL(od_sde_step_dw(OD_SDE_MILSTEIN, &sg, 0, h, &dw, &y, work), OD_OK);
    OD_ASSERT_CLOSE(y, x * (1 + g.a * h + g.b * dw + 0.5 * g.b * g.b * (dw * dw - h)), 8 * EPS * x);
    /* Heun on OU: y -> r y + (1 - lambda h / 2) s dW with r = 1 - lambda h + lambda^2 h^2 / 2 */
    y = x;
    CU_ASSERT_EQUAL(od_sde_step_dw(OD_SDE_WEAK2, &so, 0, h, &dw, &y, work), OD_OK);
    const double lam = 1.3;
    OD_ASSERT_CLOSE(y, (1 - lam * h + 0.5 * lam * lam * h * h) * x + (1 - 0.5 * lam * h) * ou.b * dw,
                    16 * EPS * x);
    /* structure checks */
    CU_ASSERT_EQUAL(od_sde_scheme_check(OD_SDE_WEAK2, &sg), OD_ENOTSUP);
    CU_ASSERT_EQUAL(od_sde_scheme_check(OD_SDE_WEAK2, &so), OD_OK);
    od_sde_system gen = sg;
    gen.flags = 0;
    gen.diag = NULL;
    CU_ASSERT_EQUAL(od_sde_scheme_check(OD_SDE_MILSTEIN, &gen), OD_ENOTSUP);
    od_stream s;
    od_stream_init(&s, SEED, 3);
    CU_ASSERT_EQUAL(od_sde_step(OD_SDE_MILSTEIN, &gen, 0, h, &s, &y, work), OD_ENOTSUP);
    od_sde_scheme sc;
    CU_ASSERT_EQUAL(od_sde_scheme_parse("weak2", &sc), OD_OK);
    CU_ASSERT_EQUAL(sc, OD_SDE_WEAK2);
    CU_ASSERT_EQUAL(od_sde_scheme_parse("rk4", &sc), OD_EPARSE);
    /* a diverging step is reported */
    lin big = {1e308, 0.1, 1};
    od_sde_system sb = lin_system(&big);
    y = 10;
    CU_ASSERT_EQUAL(od_sde_step_dw(OD_SDE_EM, &sb, 0, 10.0, &dw, &y, work), OD_EDIVERGED);
}

static void test_brownian_and_coupling(void)
{
    od_stream s;
    od_stream_init(&s, SEED, 9);
    double coarse[3], fine[3], z[3], sum[3] = {0, 0, 0};
    const double hf = 0.013;
    od_sde_brownian_sum(&s, 5, 2, 3, hf, 3, coarse);   /* fine steps 16..23 */
    for (uint32_t k = 16; k < 24; k++) {
        od_stream_seek(&s, 5, k);
        od_sde_gaussian_increments(&s, hf, 3, fine);
        (void)z;
        for (int j = 0; j < 3; j++) sum[j] += fine[j];
    }
    for (int j = 0; j < 3; j++) OD_ASSERT_CLOSE(coarse[j], sum[j], 32 * EPS * (fabs(sum[j]) + 1));
    const double lam = 1.7, h = 0.093;
    od_sde_ou_coupling c = od_sde_ou_coupling_make(lam, h);
    OD_ASSERT_CLOSE(c.cw * c.cw, h, 4 * EPS * h);
    OD_ASSERT_CLOSE(c.ci * c.ci + c.di * c.di, (1 - exp(-2 * lam * h)) / (2 * lam), 64 * EPS);
    OD_ASSERT_CLOSE(c.cw * c.ci, (1 - exp(-lam * h)) / lam, 64 * EPS);
    OD_ASSERT_CLOSE(c.decay, exp(-lam * h), 4 * EPS);
    const double hs[] = {0.1, 0.05, 0.025, 0.0125}, ys[] = {3 * pow(0.1, 1.5), 3 * pow(0.05, 1.5),
                                                            3 * pow(0.025, 1.5), 3 * pow(0.0125, 1.5)};
    double sl, se;
    od_loglog_slope(4, hs, ys, NULL, -INFINITY, INFINITY, &sl, &se);
    OD_ASSERT_CLOSE(sl, 1.5, 1e-12);
}

/* Milstein on GBM: E u_n^2 = u0^2 ((1 + a h)^2 + b^2 h + b^4 h^2 / 2)^n (sde.md §6.3), by Monte Carlo
 * within 5 SE. */
static void test_gbm_milstein_moment(void)
{
    lin g = {0.35, 0.8, 0};
    od_sde_system sg = lin_system(&g);
    const int n = 8, P = 40000;
    const double h = 0.125;
    double work[8], sum = 0, sum2 = 0;
    od_stream s;
    od_stream_init(&s, SEED, 11);
    for (int p = 0; p < P; p++) {
        double y = 1.0;
        for (int k = 0; k < n; k++) {
            od_stream_seek(&s, (uint32_t)p, (uint32_t)k);
            CU_ASSERT_EQUAL(od_sde_step(OD_SDE_MILSTEIN, &sg, k * h, h, &s, &y, work), OD_OK);
        }
        sum += y * y;
        sum2 += y * y * y * y;
    }
    const double m = sum / P, sd = sqrt((sum2 / P - m * m) * P / (P - 1.0));
    const double q = (1 + g.a * h) * (1 + g.a * h) + g.b * g.b * h + pow(g.b, 4) * h * h / 2;
    const double exact = pow(q, n);
    const double z = (m - exact) / (sd / sqrt((double)P));
    if (fabs(z) > 5) fprintf(stderr, "\n  GBM Milstein E u^2: MC %g exact %g z %g", m, exact, z);
    CU_ASSERT_TRUE(fabs(z) <= 5);
}

/* ---- dynamics -------------------------------------------------------------------------------------- */

/* 1-D SGD on f = lambda x^2/2 with noise s^2/B is the AR(1) x <- r x + eta Z, r = 1 - eta lambda:
 * E x_n = r^n x0, Var x_n = eta^2 s^2/B (1 - r^{2n})/(1 - r^2).  EM on the SGD SDE with h = eta is
 * the same chain in law; SVAG(l) has r = 1 - eta lambda/l and step variance (eta/l)^2 l s^2/B per
 * step, l steps per discrete step.  The ensemble mean of x^2 at every recorded time within 5 SE. */
static void test_dynamics_closed_form(void)
{
    static const od_problem_entry *const *const cats[] = {od_sde_problems, NULL};
    od_problem *p = NULL;
    CU_ASSERT_EQUAL_FATAL(od_problem_from_spec(cats, "noisy-quadratic:d=1,lambda=1.7,s=0.9,x0=1.3",
                                               1, &p), OD_OK);
    od_sde_observable obs[2];
    CU_ASSERT_EQUAL(od_sde_observable_parse("norm2", p, &obs[0]), OD_OK);
    CU_ASSERT_EQUAL(od_sde_observable_parse("coord:0", p, &obs[1]), OD_OK);
    const uint64_t times[] = {0, 5, 20, 60};
    const double eta = 0.05, lam = 1.7, s2 = 0.81, B = 2, x0 = 1.3;
    od_sde_hp hp = od_sde_hp_default();
    hp.lr = eta;
    const od_sde_dyn_kind kinds[] = {OD_SDE_DYN_DISCRETE, OD_SDE_DYN_SDE, OD_SDE_DYN_SVAG};
    for (int k = 0; k < 3; k++) {
        od_sde_dynamics dy = {.problem = p, .opt = od_sde_sgd, .hp = hp, .batch = 2, .steps = 60,
                              .kind = kinds[k], .svag_l = 4, .scheme = OD_SDE_EM, .obs = obs,
                              .n_obs = 2, .times = times, .n_times = 4, .seed = SEED};
        od_ensemble_result res;
        double t[4];
        CU_ASSERT_EQUAL_FATAL(od_sde_dynamics_run(&dy, 4000, &res, t), OD_OK);
        const double l = kinds[k] == OD_SDE_DYN_SVAG ? 4.0 : 1.0;
        const double r = 1 - eta * lam / l, v1 = (eta / l) * (eta / l) * l * s2 / B;
        for (int j = 0; j < 4; j++) {
            const double n = (double)times[j] * l, rn = pow(r, n);
            const double ex2 = rn * rn * x0 * x0 + v1 * (1 - rn * rn) / (1 - r * r);
            OD_ASSERT_CLOSE(t[j], (double)times[j] * eta, 4 * EPS * t[j]);
            if (j == 0) {
                CU_ASSERT_EQUAL(res.mean[0], x0 * x0);
                continue;
            }
            const double z = (res.mean[j * 2] - ex2) / res.se[j * 2];
            const double zm = (res.mean[j * 2 + 1] - rn * x0) / res.se[j * 2 + 1];
            if (fabs(z) > 5 || fabs(zm) > 5)
                fprintf(stderr, "\n  kind %d t %g: E x^2 %g vs %g (z %g), E x z %g", k, t[j],
                        res.mean[j * 2], ex2, z, zm);
            CU_ASSERT_TRUE(fabs(z) <= 5 && fabs(zm) <= 5);
        }
        od_ensemble_result_free(&res);
    }
    /* same bytes for 1 and 2 threads (Adam SDE, Adam discrete) */
    hp.lr = 0.02;
    hp.beta1 = 0.9;
    hp.beta2 = 0.99;
    for (int k = 0; k < 2; k++) {
        od_sde_dynamics dy = {.problem = p, .opt = od_sde_adam, .hp = hp, .batch = 1, .steps = 50,
                              .kind = k ? OD_SDE_DYN_SDE : OD_SDE_DYN_DISCRETE, .scheme = OD_SDE_EM,
                              .obs = obs, .n_obs = 2, .times = times + 1, .n_times = 2, .seed = SEED};
        od_ensemble_result r1, r2;
        int th = od_threads();
        od_set_threads(1);
        CU_ASSERT_EQUAL_FATAL(od_sde_dynamics_run(&dy, 300, &r1, NULL), OD_OK);
        od_set_threads(2);
        CU_ASSERT_EQUAL_FATAL(od_sde_dynamics_run(&dy, 300, &r2, NULL), OD_OK);
        od_set_threads(th);
        CU_ASSERT_EQUAL(memcmp(r1.mean, r2.mean, 6 * sizeof(double)), 0);
        CU_ASSERT_EQUAL(memcmp(r1.se, r2.se, 6 * sizeof(double)), 0);
        od_ensemble_result_free(&r1);
        od_ensemble_result_free(&r2);
    }
    /* bad input: observables, an integrator that does not fit, an optimizer without an SDE */
    od_sde_observable o;
    CU_ASSERT_EQUAL(od_sde_observable_parse("coord:1", p, &o), OD_ERANGE);
    CU_ASSERT_EQUAL(od_sde_observable_parse("energy", p, &o), OD_ENOTFOUND);
    od_sde_dynamics dy = {.problem = p, .opt = od_sde_rmsprop, .hp = hp, .batch = 1, .steps = 5,
                          .kind = OD_SDE_DYN_SDE, .scheme = OD_SDE_WEAK2, .obs = obs, .n_obs = 1,
                          .times = times, .n_times = 2, .seed = SEED};
    od_ensemble_result res;
    CU_ASSERT_EQUAL(od_sde_dynamics_run(&dy, 10, &res, NULL), OD_ENOTSUP);
    dy.opt = od_sde_signsgd;
    dy.scheme = OD_SDE_EM;
    CU_ASSERT_EQUAL(od_sde_dynamics_run(&dy, 10, &res, NULL), OD_ENOTSUP);
    od_problem_free(p);
}

void od_test_suite_sde_models(void)
{
    static const od_test_case cases[] = {
        {"one-step moments: exact for SGD, USAM, DNSAM", test_moments_exact},
        {"one-step moments: SAM drift exact, variance O(rho^2)", test_moments_sam},
        {"one-step moments: momentum, RMSprop, Adam to O(eta clock)", test_moments_ratio},
        {"bias-correction limits of the Adam SDE", test_bias_correction_limits},
        {"EM, Milstein and Heun maps; structure checks", test_scheme_maps},
        {"Brownian refinement, OU coupling, log-log slope", test_brownian_and_coupling},
        {"GBM Milstein second moment (Monte Carlo, 5 SE)", test_gbm_milstein_moment},
        {"dynamics: SGD, its SDE and SVAG against the AR(1) closed form", test_dynamics_closed_form},
        {NULL, NULL}};
    od_test_add("sde models and integrators", cases);
}
