/* optdyn sde — SDE models of the optimizers, built from the same hyperparameters (sde.md §3).
 *
 * Every model is an od_sde_system whose params point to the (immutable) model, so one model serves
 * all threads of an ensemble; callbacks take their scratch from the stack for d <= STACK_D and from
 * the heap above (one allocation per call: the slow path for large d).
 *
 * Noise: Sigma1^{1/2} dW is drawn with the problem's noise_sample (exact and structured: no matrix
 * square root); a problem without it gets the per-sample factor of M per-sample gradients,
 * M^{-1/2} sum_i (g_i - gbar) xi_i (an estimate of Sigma1, flagged by od_sde_model_exact_noise).
 * The SAM-family models assume H_B = H (additive noise, checked); SAM's expectations
 * E[g/||g||] and E[Z g^T/||g||] are closed forms in 1-D (erf, the normal density) and estimated from
 * M draws of the minibatch noise otherwise, its covariance Sigma_B + rho (K H + H K^T) factored by a
 * symmetric eigendecomposition with negative eigenvalues clipped and counted.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sde/optdyn_sde.h"

enum { STACK_D = 512 };

typedef enum { M_SGD, M_MOMENTUM, M_RMSPROP, M_ADAM, M_USAM, M_SAM, M_DNSAM } model_kind;

struct od_sde_model {
    model_kind kind;
    const od_sde_optimizer *opt;
    od_sde_hp hp;
    const od_problem *p;
    size_t d, B, M;
    double clock;
    double sig;          /* SGD/SAM: sqrt(eta/B); momentum: c sqrt(eta'/B); adaptive: sigma0 = eta/sqrt(B) */
    double c, c1, c2, eps0;
    int exact;           /* noise_sample available */
    unsigned pflags;     /* noise structure of the problem */
    double *sdiag;       /* sqrt(diag Sigma1) when additive (constant); NULL otherwise */
    unsigned long clipped;
    od_sde_system sys;
};

/* ---- scratch ------------------------------------------------------------------------------------ */

typedef struct {
    double stack[4 * STACK_D];
    double *p;
} scratch;

static double *scratch_get(scratch *s, size_t n)
{
    s->p = n <= 4 * STACK_D ? s->stack : od_vec_alloc(n);
    return s->p;
}

static void scratch_put(scratch *s)
{
    if (s->p && s->p != s->stack) od_free(s->p);
    s->p = NULL;
}

/* ---- noise of the problem ------------------------------------------------------------------------ */

/* out = a draw of N(0, Sigma1(x)) (exact) or its per-sample-factor estimate; tmp: (M + 1) d. */
static int sigma_half_xi(const od_sde_model *m, const double *x, od_stream *s, double *out,
                         double *tmp)
{
    const od_problem *p = m->p;
    if (m->exact) return od_problem_noise_sample(p, x, s, out);
    const size_t d = m->d, M = m->M;
    double *G = tmp, *mean = tmp + M * d;
    OD_TRY(od_problem_sample_grads(p, x, M, s, G));
    od_zero(d, mean);
    for (size_t i = 0; i < M; i++) od_axpy(d, 1.0 / (double)M, G + i * d, mean);
    od_zero(d, out);
    for (size_t i = 0; i < M; i++) {
        const double xi = od_stream_normal(s);
        for (size_t k = 0; k < d; k++) out[k] += (G[i * d + k] - mean[k]) * xi;
    }
    od_scal(d, 1.0 / sqrt((double)M), out);
    return OD_OK;
}

/* diag Sigma1(x) into out (constant: cached; otherwise from noise_cov, d^2 scratch). */
static int sigma_diag(const od_sde_model *m, const double *x, double *out)
{
    const size_t d = m->d;
    if (m->sdiag) {
        for (size_t k = 0; k < d; k++) out[k] = m->sdiag[k] * m->sdiag[k];
        return OD_OK;
    }
    double *cov = od_vec_alloc(d * d);
    if (!cov) OD_ERROR("out of memory for a noise covariance", OD_ENOMEM);
    int st = od_problem_noise_cov(m->p, x, cov);
    for (size_t k = 0; st == OD_OK && k < d; k++) out[k] = cov[k * d + k];
    od_free(cov);
    return st;
}

unsigned od_sde_problem_noise_flags(const od_problem *p)
{
    const size_t d = p->dim;
    if (!p->type->noise_cov || d > 2048) return 0;
    double *buf = od_vec_alloc(2 * d * d + 2 * d);
    if (!buf) return 0;
    double *c1 = buf, *c2 = buf + d * d, *x1 = c2 + d * d, *x2 = x1 + d;
    for (size_t k = 0; k < d; k++) {   /* two unrelated points */
        x1[k] = p->x0 ? p->x0[k] : 0.0;
        x2[k] = x1[k] + 0.7318 + 0.2113 * (double)(k % 7);
    }
    unsigned flags = 0;
    if (od_problem_noise_cov(p, x1, c1) == OD_OK && od_problem_noise_cov(p, x2, c2) == OD_OK) {
        if (memcmp(c1, c2, d * d * sizeof *c1) == 0) flags |= OD_SDE_ADDITIVE;
        int diag = 1;
        for (size_t i = 0; i < d && diag; i++)
            for (size_t j = 0; j < d; j++)
                if (i != j && (c1[i * d + j] != 0 || c2[i * d + j] != 0)) {
                    diag = 0;
                    break;
                }
        if (diag) flags |= OD_SDE_DIAGONAL;
    }
    od_free(buf);
    return flags;
}

/* ---- adaptive helpers ---------------------------------------------------------------------------- */

/* gamma_i(t) = 1 - e^{-c t} (1 with bias correction off) */
static double gam(const od_sde_model *m, double c, double t)
{
    return m->hp.bias_correction ? -expm1(-c * t) : 1.0;
}

/* P_k = sigma0 sqrt(u_k) + eps0 sqrt(g2)   (or sqrt(sigma0^2 u_k + eps eta^2 g2) with eps inside) */
static double precond(const od_sde_model *m, double u, double g2)
{
    const double s0 = m->sig;
    if (m->hp.eps_inside) return sqrt(s0 * s0 * fmax(u, 0.0) + m->hp.eps * m->hp.lr * m->hp.lr * g2);
    return s0 * sqrt(fmax(u, 0.0)) + m->eps0 * sqrt(g2);
}

/* ---- drifts ---------------------------------------------------------------------------------------- */

static int drift(double t, const double *y, double *b, void *params)
{
    const od_sde_model *m = params;
    const size_t d = m->d;
    const double rho = m->hp.rho;
    scratch sc = {.p = NULL};
    double *w = scratch_get(&sc, 4 * d);
    if (!w) OD_ERROR("out of memory", OD_ENOMEM);
    double *g = w, *hg = w + d, *dg = w + 2 * d;
    int st = od_problem_grad(m->p, y, g, NULL);
    if (st != OD_OK) goto done;
    switch (m->kind) {
    case M_SGD:
        for (size_t k = 0; k < d; k++) b[k] = -g[k];
        break;
    case M_MOMENTUM:
        for (size_t k = 0; k < d; k++) {
            b[k] = -y[d + k];
            b[d + k] = m->c * (g[k] - y[d + k]);
        }
        break;
    case M_RMSPROP: {
        const double g2 = gam(m, m->c2, t);
        if ((st = sigma_diag(m, y, dg)) != OD_OK) goto done;
        for (size_t k = 0; k < d; k++) {
            const double P = precond(m, y[d + k], g2);
            b[k] = P > 0 ? -sqrt(g2) * g[k] / P : 0.0;
            b[d + k] = m->c2 * (dg[k] - y[d + k]);
        }
        break;
    }
    case M_ADAM: {
        const double g1 = gam(m, m->c1, t), g2 = gam(m, m->c2, t);
        if ((st = sigma_diag(m, y, dg)) != OD_OK) goto done;
        for (size_t k = 0; k < d; k++) {
            const double P = precond(m, y[2 * d + k], g2);
            b[k] = (g1 > 0 && P > 0) ? -sqrt(g2) / g1 * y[d + k] / P : 0.0;
            b[d + k] = m->c1 * (g[k] - y[d + k]);
            b[2 * d + k] = m->c2 * (dg[k] - y[2 * d + k]);
        }
        break;
    }
    case M_USAM:
    case M_DNSAM: {
        double a = rho;
        if (m->kind == M_DNSAM) {
            const double n = od_nrm2(d, g);
            a = n > 0 ? rho / n : 0.0;
        }
        if ((st = od_problem_hvp(m->p, y, g, hg)) != OD_OK) goto done;
        for (size_t k = 0; k < d; k++) b[k] = -(g[k] + a * hg[k]);
        break;
    }
    case M_SAM:
        break;   /* sam_drift_noise */
    }
done:
    scratch_put(&sc);
    return st;
}

/* ---- SAM: E[g/||g||] and K = E[Z g^T/||g||], g = grad f + Z, Z ~ N(0, Sigma1/B) ---------------- */

/* 1-D closed forms (sde.md §3.5): E sign(g) = erf(mu/(sqrt2 s)), E[Z sign(g)] = 2 s phi(mu/s). */
static void sam_expect_1d(double mu, double s, double *e, double *k)
{
    if (s <= 0) {
        *e = (double)((mu > 0) - (mu < 0));
        *k = 0;
        return;
    }
    *e = erf(mu / (M_SQRT2 * s));
    *k = 2.0 * s * exp(-0.5 * (mu / s) * (mu / s)) / sqrt(2.0 * M_PI);
}

/* SAM drift b and noise out (= sqrt(eta h) Sigma_S^{1/2} xi), sharing the expectations. */
static int sam_drift_noise(const od_sde_model *m, const double *y, double h, od_stream *s,
                           double *b, double *out)
{
    const size_t d = m->d, M = m->M;
    const double rho = m->hp.rho, invB = 1.0 / (double)m->B;
    double *w = od_vec_alloc(6 * d + 3 * d * d + (M + 1) * d);
    if (!w) OD_ERROR("out of memory", OD_ENOMEM);
    double *g = w, *e = w + d, *he = w + 2 * d, *z = w + 3 * d, *ev = w + 4 * d, *xi = w + 5 * d;
    double *K = w + 6 * d, *S = K + d * d, *V = S + d * d, *tmp = V + d * d;
    int st = od_problem_grad(m->p, y, g, NULL);
    if (st != OD_OK) goto done;
    if (d == 1) {
        const double sd = m->sdiag[0] * sqrt(invB);
        sam_expect_1d(g[0], sd, &e[0], &K[0]);
    } else {
        od_zero(d, e);
        od_zero(d * d, K);
        for (size_t i = 0; i < M; i++) {
            if ((st = sigma_half_xi(m, y, s, z, tmp)) != OD_OK) goto done;
            od_scal(d, sqrt(invB), z);
            double gn = 0;
            for (size_t k = 0; k < d; k++) gn += (g[k] + z[k]) * (g[k] + z[k]);
            gn = sqrt(gn);
            if (!(gn > 0)) continue;
            for (size_t k = 0; k < d; k++) {
                e[k] += (g[k] + z[k]) / gn / (double)M;
                for (size_t l = 0; l < d; l++) K[k * d + l] += z[k] * (g[l] + z[l]) / gn / (double)M;
            }
        }
    }
    if ((st = od_problem_hvp(m->p, y, e, he)) != OD_OK) goto done;
    for (size_t k = 0; k < d; k++) b[k] = -(g[k] + rho * he[k]);
    if (!out) goto done;
    /* Sigma_S = Sigma1/B + rho (K H + H K^T); H K^T column by column through hvp (H symmetric) */
    for (size_t l = 0; l < d; l++) {
        for (size_t k = 0; k < d; k++) z[k] = K[k * d + l];   /* column l of K */
        if ((st = od_problem_hvp(m->p, y, z, ev)) != OD_OK) goto done;
        for (size_t k = 0; k < d; k++) V[k * d + l] = ev[k];   /* (H K)_{kl} */
    }
    for (size_t k = 0; k < d; k++)
        for (size_t l = 0; l < d; l++)
            S[k * d + l] = (k == l ? m->sdiag[k] * m->sdiag[k] * invB : 0.0) +
                           rho * (V[k * d + l] + V[l * d + k]);
    if ((st = od_symm_eigen(d, S, ev, V)) != OD_OK) goto done;
    od_stream_normals(s, xi, d);
    od_zero(d, out);
    unsigned long clipped = 0;
    for (size_t j = 0; j < d; j++) {
        if (ev[j] < 0) clipped++;
        const double a = sqrt(fmax(ev[j], 0.0)) * xi[j];
        for (size_t k = 0; k < d; k++) out[k] += V[k * d + j] * a;
    }
    if (clipped) {
        od_sde_model *mm = (od_sde_model *)m;   /* a counter, not state */
#pragma omp atomic
        mm->clipped += clipped;
    }
    od_scal(d, sqrt(m->hp.lr * h), out);
done:
    od_free(w);
    return st;
}

static int sam_drift(double t, const double *y, double *b, void *params)
{
    (void)t;
    return sam_drift_noise(params, y, 0.0, NULL, b, NULL);
}

/* ---- noise ------------------------------------------------------------------------------------------ */

static int noise(double t, const double *y, double h, od_stream *s, double *out, void *params)
{
    const od_sde_model *m = params;
    const size_t d = m->d;
    if (m->kind == M_SAM) {
        double *b = od_vec_alloc(d);
        if (!b) OD_ERROR("out of memory", OD_ENOMEM);
        int st = sam_drift_noise(m, y, h, s, b, out);
        od_free(b);
        return st;
    }
    scratch sc = {.p = NULL};
    double *w = scratch_get(&sc, (m->M + 4) * d);
    if (!w) OD_ERROR("out of memory", OD_ENOMEM);
    double *xi = w, *g = w + d, *hv = w + 2 * d, *tmp = w + 3 * d;
    int st = sigma_half_xi(m, y, s, xi, tmp);
    if (st != OD_OK) goto done;
    const double sh = m->sig * sqrt(h);
    switch (m->kind) {
    case M_SGD:
        for (size_t k = 0; k < d; k++) out[k] = sh * xi[k];
        break;
    case M_MOMENTUM:
        for (size_t k = 0; k < d; k++) {
            out[k] = 0;
            out[d + k] = sh * xi[k];
        }
        break;
    case M_RMSPROP: {
        const double g2 = gam(m, m->c2, t);
        for (size_t k = 0; k < d; k++) {
            const double P = precond(m, y[d + k], g2);
            out[k] = P > 0 ? -sqrt(g2) * sh * xi[k] / P : 0.0;
            out[d + k] = 0;
        }
        break;
    }
    case M_ADAM:
        for (size_t k = 0; k < d; k++) {
            out[k] = out[2 * d + k] = 0;
            out[d + k] = m->c1 * sh * xi[k];
        }
        break;
    case M_USAM:
    case M_DNSAM: {
        double a = m->hp.rho;
        if (m->kind == M_DNSAM) {
            if ((st = od_problem_grad(m->p, y, g, NULL)) != OD_OK) goto done;
            const double n = od_nrm2(d, g);
            a = n > 0 ? a / n : 0.0;
        }
        if ((st = od_problem_hvp(m->p, y, xi, hv)) != OD_OK) goto done;
        for (size_t k = 0; k < d; k++) out[k] = sh * (xi[k] + a * hv[k]);
        break;
    }
    case M_SAM:
        break;
    }
done:
    scratch_put(&sc);
    return st;
}

/* Diagonal coefficients, for problems with constant diagonal noise (dsig = 0 throughout: the
 * coefficient of X's noise depends only on the noise-free u). */
static int diag(double t, const double *y, double *sig, double *dsig, void *params)
{
    const od_sde_model *m = params;
    const size_t d = m->d;
    for (size_t k = 0; k < d; k++) {
        double c = m->sig * m->sdiag[k];
        if (m->kind == M_ADAM) c *= m->c1;
        if (m->kind == M_RMSPROP) {
            const double g2 = gam(m, m->c2, t), P = precond(m, y[d + k], g2);
            c = P > 0 ? -sqrt(g2) * c / P : 0.0;
        }
        sig[k] = c;
        dsig[k] = 0.0;
    }
    return OD_OK;
}

/* ---- construction ------------------------------------------------------------------------------------ */

int od_sde_model_alloc(const od_sde_optimizer *opt, const od_sde_hp *hp, const od_problem *p,
                       const od_sde_model_opts *opts, od_sde_model **out)
{
    *out = NULL;
    static const struct {
        const od_sde_optimizer *const *opt;
        model_kind kind;
    } map[] = {{&od_sde_sgd, M_SGD},         {&od_sde_momentum, M_MOMENTUM},
               {&od_sde_nesterov, M_MOMENTUM}, {&od_sde_rmsprop, M_RMSPROP},
               {&od_sde_adam, M_ADAM},       {&od_sde_usam, M_USAM},
               {&od_sde_sam, M_SAM},         {&od_sde_dnsam, M_DNSAM}};
    int found = -1;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (*map[i].opt == opt) found = (int)i;
    if (found < 0)
        OD_ERRORF(OD_ENOTSUP, "optimizer '%s' has no SDE model (models: sgd, momentum, nesterov, "
                              "rmsprop, adam, usam, sam, dnsam)", opt->name);
    OD_TRY(od_sde_hp_check(opt, hp));
    const size_t B = opts && opts->batch ? opts->batch : 1;
    const size_t M = opts && opts->sample_m ? opts->sample_m : 64;
    if (!p->type->noise_sample && !p->type->sample_grads)
        OD_ERRORF(OD_ENOTSUP, "problem '%s' has neither noise_sample nor sample_grads: no SDE noise",
                  p->label);
    od_sde_model *m = calloc(1, sizeof *m);
    if (!m) OD_ERROR("out of memory", OD_ENOMEM);
    const size_t d = p->dim;
    m->kind = map[found].kind;
    m->opt = opt;
    m->hp = *hp;
    m->p = p;
    m->d = d;
    m->B = B;
    m->M = M;
    m->exact = p->type->noise_sample != NULL;
    m->pflags = od_sde_problem_noise_flags(p);
    const double eta = hp->lr, sB = 1.0 / sqrt((double)B);
    int st = OD_OK;
    if ((m->kind == M_SAM || m->kind == M_USAM || m->kind == M_DNSAM) &&
        !(m->pflags & OD_SDE_ADDITIVE))
        st = od_error(OD_ENOTSUP, __FILE__, __LINE__,
                      "the %s SDE is implemented for problems with additive gradient noise "
                      "(minibatch Hessian = Hessian); '%s' is not one", opt->name, p->label);
    if (m->kind == M_SAM && d > 1 && !(m->pflags & OD_SDE_DIAGONAL))
        st = od_error(OD_ENOTSUP, __FILE__, __LINE__, "the sam SDE needs diagonal noise covariance");
    if (st == OD_OK && (m->pflags & OD_SDE_ADDITIVE)) {
        m->sdiag = od_vec_alloc(d);
        double *cov = od_vec_alloc(d * d);
        if (!m->sdiag || !cov) st = od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
        if (st == OD_OK) st = od_problem_noise_cov(p, p->x0 ? p->x0 : m->sdiag, cov);
        for (size_t k = 0; st == OD_OK && k < d; k++) m->sdiag[k] = sqrt(fmax(cov[k * d + k], 0.0));
        od_free(cov);
    }
    if (st != OD_OK) {
        od_sde_model_free(m);
        return st;
    }
    size_t dim = d;
    unsigned flags = 0;
    const int diag_ok = (m->pflags & OD_SDE_ADDITIVE) && (m->pflags & OD_SDE_DIAGONAL);
    size_t offset = 0;
    switch (m->kind) {
    case M_SGD:
    case M_USAM:
    case M_DNSAM:
    case M_SAM:
        m->clock = eta;
        m->sig = sqrt(eta) * sB;
        if (m->kind == M_SGD) flags = diag_ok ? OD_SDE_ADDITIVE | OD_SDE_DIAGONAL : 0;
        if (m->kind == M_USAM && (m->pflags & OD_SDE_ADDITIVE)) flags = OD_SDE_ADDITIVE;
        break;
    case M_MOMENTUM: {
        const double etap = eta / (1.0 - hp->momentum);
        m->clock = etap;
        m->c = (1.0 - hp->momentum) / etap;
        m->sig = m->c * sqrt(etap) * sB;
        dim = 2 * d;
        offset = d;
        flags = diag_ok ? OD_SDE_ADDITIVE | OD_SDE_DIAGONAL : 0;
        break;
    }
    case M_RMSPROP:
    case M_ADAM:
        m->clock = eta * eta;
        m->sig = eta * sB;   /* sigma0 */
        m->eps0 = hp->eps * eta;
        m->c1 = (1.0 - hp->beta1) / (eta * eta);
        m->c2 = (1.0 - hp->beta2) / (eta * eta);
        dim = m->kind == M_ADAM ? 3 * d : 2 * d;
        offset = m->kind == M_ADAM ? d : 0;
        if (diag_ok) flags = OD_SDE_DIAGONAL | (m->kind == M_ADAM ? OD_SDE_ADDITIVE : 0u);
        break;
    }
    m->sys = (od_sde_system){.dim = dim, .noise_dim = d, .noise_offset = offset, .flags = flags,
                             .drift = m->kind == M_SAM ? sam_drift : drift, .noise = noise,
                             .diag = (flags & OD_SDE_DIAGONAL) ? diag : NULL, .params = m};
    *out = m;
    return OD_OK;
}

void od_sde_model_free(od_sde_model *m)
{
    if (!m) return;
    od_free(m->sdiag);
    free(m);
}

const od_sde_system *od_sde_model_system(const od_sde_model *m) { return &m->sys; }
double od_sde_model_clock(const od_sde_model *m) { return m->clock; }
unsigned long od_sde_model_clipped(const od_sde_model *m) { return m->clipped; }
int od_sde_model_exact_noise(const od_sde_model *m) { return m->exact; }

void od_sde_model_init(const od_sde_model *m, const double *x0, double *y)
{
    od_zero(m->sys.dim, y);
    if (x0) od_copy(m->d, x0, y);
}

int od_sde_model_em_moments(const od_sde_model *m, double t, const double *y, double h,
                            double *mean, double *cov)
{
    const size_t n = m->sys.dim, d = m->d;
    if (!m->p->type->noise_cov) OD_ERROR("em_moments needs the problem's exact noise_cov", OD_ENOTSUP);
    if (m->kind == M_SAM && d > 1) OD_ERROR("em_moments: sam in d > 1 uses estimated moments", OD_ENOTSUP);
    OD_TRY(m->sys.drift(t, y, mean, m->sys.params));
    for (size_t i = 0; i < n; i++) mean[i] = y[i] + h * mean[i];
    /* sigma sigma^T h: apply the noise map to the columns of Sigma1^{1/2} is not available in
     * general; use A Sigma1 A^T with A the linear map xi -> noise (linear in xi for every model). */
    double *S = od_vec_alloc(d * d + n * d + 2 * n + 2 * d);
    if (!S) OD_ERROR("out of memory", OD_ENOMEM);
    double *A = S + d * d, *e = A + n * d, *col = e + d, *tmp = col + n;
    int st = od_problem_noise_cov(m->p, y, S);
    if (st == OD_OK && m->kind == M_SAM) {   /* 1-D: Sigma_S = s^2/B + 4 lambda rho s phi */
        double b[1], k, ee;
        double g;
        st = od_problem_grad(m->p, y, &g, NULL);
        const double sd = sqrt(S[0] / (double)m->B);
        sam_expect_1d(g, sd, &ee, &k);
        double one = 1.0, lam;
        if (st == OD_OK) st = od_problem_hvp(m->p, y, &one, &lam);
        cov[0] = h * m->hp.lr * fmax(sd * sd + 2.0 * m->hp.rho * lam * k, 0.0);
        (void)b;
        goto done;
    }
    /* A e_j: the model's noise for xi = e_j, computed by the linear structure of each model */
    for (size_t j = 0; st == OD_OK && j < d; j++) {
        od_zero(d, e);
        e[j] = 1.0;
        od_zero(n, col);
        const double sh = m->sig;   /* per unit h^{1/2} */
        if (m->kind == M_SGD) col[j] = sh;
        else if (m->kind == M_MOMENTUM) col[d + j] = sh;
        else if (m->kind == M_ADAM) col[d + j] = m->c1 * sh;
        else if (m->kind == M_RMSPROP) {
            const double g2 = gam(m, m->c2, t), P = precond(m, y[d + j], g2);
            col[j] = P > 0 ? -sqrt(g2) * sh / P : 0.0;
        } else {   /* USAM, DNSAM: (I + a H) e_j */
            double a = m->hp.rho;
            if (m->kind == M_DNSAM) {
                st = od_problem_grad(m->p, y, tmp, NULL);
                const double nn = od_nrm2(d, tmp);
                a = nn > 0 ? a / nn : 0.0;
            }
            if (st == OD_OK) st = od_problem_hvp(m->p, y, e, tmp);
            for (size_t k = 0; k < d; k++) col[k] = sh * (e[k] + a * tmp[k]);
        }
        for (size_t i = 0; i < n; i++) A[i * d + j] = col[i];
    }
    if (st == OD_OK) {
        /* cov = h A S A^T */
        double *AS = od_vec_alloc(n * d);
        if (!AS) st = od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
        else {
            od_gemm(0, 0, n, d, d, 1.0, A, S, 0.0, AS);
            od_gemm(0, 1, n, n, d, h, AS, A, 0.0, cov);
            od_free(AS);
        }
    }
done:
    od_free(S);
    return st;
}
