/* optdyn sde — SDE models of the optimizers, built from the same hyperparameters (sde.md §3).
 *
 * Every model is an od_sde_system whose params point to the (immutable) model, so one model serves
 * all threads of an ensemble.  The callbacks take their scratch from a pool of workspaces the model
 * allocates once (one per thread of the current OpenMP team, plus one), each claimed by one thread:
 * no allocation and no atomic operation per step, safe from any threads (a thread beyond the pool's
 * size gets a fresh allocation per call, correct but slower).
 *
 * Noise: Sigma1^{1/2} dW is drawn with the problem's noise_sample (exact and structured: no matrix
 * square root); a problem without it gets the per-sample factor of M per-sample gradients,
 * (M - 1)^{-1/2} sum_i (g_i - gbar) xi_i, whose covariance is the unbiased sample covariance of the
 * g_i (an estimate of Sigma1, flagged by od_sde_model_exact_noise).  The structure of Sigma1 is the
 * problem's declaration (od_problem.noise: OD_NOISE_CONSTANT, OD_NOISE_DIAGONAL).
 * The SAM-family models assume H_B = H (additive noise, checked); SAM's expectations
 * E[g/||g||] and E[Z g^T/||g||] are closed forms in 1-D (erf, the normal density) and, in d > 1
 * (constant diagonal noise), sample averages over M fixed antithetic pairs +-Z_i of minibatch-noise
 * draws made once per model (so the drift is a deterministic function of the state, with an O(1/M)
 * bias), its covariance Sigma_B + rho (K H + H K^T) factored by a
 * symmetric eigendecomposition (GSL, workspace in the pool) with negative eigenvalues clipped and
 * counted.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>

#include "sde/sde_impl.h"

typedef enum { M_SGD, M_MOMENTUM, M_RMSPROP, M_ADAM, M_USAM, M_SAM, M_DNSAM } model_kind;

/* One workspace of the pool: ws_size doubles and, for SAM in d > 1, a GSL eigen workspace. */
typedef struct {
    atomic_flag busy;
    double *buf;
    gsl_eigen_symmv_workspace *eig;
} ws_slot;

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
    unsigned pflags;     /* the problem's OD_NOISE_* flags */
    double *sdiag;       /* sqrt(diag Sigma1) when constant; NULL otherwise */
    double *zsam;        /* SAM, d > 1: M draws of the minibatch noise Z = sdiag (.) zeta / sqrt(B) */
    atomic_ulong clipped;
    unsigned long id;    /* unique, for the threads' slot caches */
    size_t ws_size, n_slots;
    ws_slot *slots;
    od_sde_system sys;
};

/* ---- the workspace pool ------------------------------------------------------------------------
 * A thread claims a free slot once per model (an atomic test-and-set) and remembers it in a
 * thread-local cache keyed by the model's unique id, so the steady state costs no atomic operation.
 * A slot stays with its thread until the model is freed; a thread that finds no free slot gets a
 * fresh allocation for the call.  Callbacks of one model never nest. */

static atomic_ulong model_ids = 1;
static _Thread_local unsigned long tl_id;
static _Thread_local size_t tl_slot;

typedef struct {
    double *w;
    gsl_eigen_symmv_workspace *eig;
    int owned;           /* 1: allocated for this call */
} ws_lease;

static int ws_take(const od_sde_model *m, ws_lease *l)
{
    if (tl_id != m->id) {
        size_t i = 0;
        while (i < m->n_slots &&
               atomic_flag_test_and_set_explicit(&m->slots[i].busy, memory_order_acquire))
            i++;
        if (i < m->n_slots) {
            tl_id = m->id;
            tl_slot = i;
        }
    }
    if (tl_id == m->id) {
        *l = (ws_lease){.w = m->slots[tl_slot].buf, .eig = m->slots[tl_slot].eig};
        return OD_OK;
    }
    *l = (ws_lease){.w = od_vec_alloc(m->ws_size), .owned = 1};
    if (m->kind == M_SAM && m->d > 1) l->eig = gsl_eigen_symmv_alloc(m->d);
    if (!l->w || (m->kind == M_SAM && m->d > 1 && !l->eig)) {
        od_free(l->w);
        if (l->eig) gsl_eigen_symmv_free(l->eig);
        OD_ERROR("out of memory for an SDE workspace", OD_ENOMEM);
    }
    return OD_OK;
}

static void ws_give(const od_sde_model *m, ws_lease *l)
{
    (void)m;
    if (!l->owned) return;
    od_free(l->w);
    if (l->eig) gsl_eigen_symmv_free(l->eig);
}

/* ---- noise of the problem ------------------------------------------------------------------------ */

/* out = a draw of N(0, Sigma1(x)) (exact) or its per-sample-factor estimate
 * (M - 1)^{-1/2} sum_i (g_i - gbar) xi_i, whose covariance given the g_i is their unbiased sample
 * covariance, so E out out^T = Sigma1 (sampling with replacement); tmp: (M + 1) d. */
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
    od_scal(d, 1.0 / sqrt((double)(M - 1)), out);
    return OD_OK;
}

/* diag Sigma1(x) into out (constant: cached; otherwise from noise_cov into cov, d^2 scratch). */
static int sigma_diag(const od_sde_model *m, const double *x, double *out, double *cov)
{
    const size_t d = m->d;
    if (m->sdiag) {
        for (size_t k = 0; k < d; k++) out[k] = m->sdiag[k] * m->sdiag[k];
        return OD_OK;
    }
    OD_TRY(od_problem_noise_cov(m->p, x, cov));
    for (size_t k = 0; k < d; k++) out[k] = cov[k * d + k];
    return OD_OK;
}

/* ---- adaptive helpers ---------------------------------------------------------------------------- */

/* gamma_i(t) = 1 - e^{-c t} (1 with bias correction off) */
static double gam(const od_sde_model *m, double c, double t)
{
    return m->hp.bias_correction ? -expm1(-c * t) : 1.0;
}

od_sde_impl_gam od_sde_impl_gammas(const od_sde_model *m, double t)
{
    const double g2 = gam(m, m->c2, t);
    return (od_sde_impl_gam){.g1 = gam(m, m->c1, t), .g2 = g2, .sg2 = sqrt(g2)};
}

/* P_k = sigma0 sqrt(u_k) + eps0 sqrt(g2)   (or sqrt(sigma0^2 u_k + eps eta^2 g2) with eps inside) */
static inline double precond_out(const od_sde_model *m, double u, const od_sde_impl_gam *gm)
{
    return m->sig * sqrt(u > 0 ? u : 0.0) + m->eps0 * gm->sg2;   /* u < 0 only by rounding */
}
static inline double precond(const od_sde_model *m, double u, const od_sde_impl_gam *gm)
{
    const double s0 = m->sig, up = u > 0 ? u : 0.0;
    if (m->hp.eps_inside) return sqrt(s0 * s0 * up + m->hp.eps * m->hp.lr * m->hp.lr * gm->g2);
    return precond_out(m, u, gm);
}

/* Adam: the drift of X_k, -(sqrt(g2)/g1) m_k / P_k (0 at t = 0, where g1 = 0 and m = 0) */
static inline double adam_bx(const od_sde_model *m, const od_sde_impl_gam *gm, double mk, double uk)
{
    const double P = precond(m, uk, gm);
    return ((gm->g1 > 0) & (P > 0)) ? -gm->sg2 / gm->g1 * mk / P : 0.0;   /* & : no branch */
}

/* RMSprop: the drift of X_k, -sqrt(g2) grad_k / P_k, and its noise coefficient for sqrt(Sigma_kk) */
static inline double rms_bx(const od_sde_model *m, const od_sde_impl_gam *gm, double gk, double uk)
{
    const double P = precond(m, uk, gm);
    return P > 0 ? -gm->sg2 * gk / P : 0.0;
}
static inline double rms_sig(const od_sde_model *m, const od_sde_impl_gam *gm, double c, double uk)
{
    const double P = precond(m, uk, gm);
    return P > 0 ? -gm->sg2 * c / P : 0.0;
}

/* ---- drifts ---------------------------------------------------------------------------------------- */

static int sam_drift_noise(const od_sde_model *m, const double *y, double h, od_stream *s,
                           double *b, double *out, double *w, gsl_eigen_symmv_workspace *eig);

static int drift(double t, const double *y, double *b, void *params)
{
    const od_sde_model *m = params;
    const size_t d = m->d;
    const double rho = m->hp.rho;
    ws_lease l;
    OD_TRY(ws_take(m, &l));
    double *g = l.w, *hg = l.w + d, *dg = l.w + 2 * d, *cov = l.w + 3 * d;
    int st = m->kind == M_SAM ? sam_drift_noise(m, y, 0.0, NULL, b, NULL, l.w, l.eig)
                              : od_problem_grad(m->p, y, g, NULL);
    if (st != OD_OK || m->kind == M_SAM) goto done;
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
        const od_sde_impl_gam gm = od_sde_impl_gammas(m, t);
        if ((st = sigma_diag(m, y, dg, cov)) != OD_OK) goto done;
        for (size_t k = 0; k < d; k++) {
            b[k] = rms_bx(m, &gm, g[k], y[d + k]);
            b[d + k] = m->c2 * (dg[k] - y[d + k]);
        }
        break;
    }
    case M_ADAM: {
        const od_sde_impl_gam gm = od_sde_impl_gammas(m, t);
        if ((st = sigma_diag(m, y, dg, cov)) != OD_OK) goto done;
        for (size_t k = 0; k < d; k++) {
            b[k] = adam_bx(m, &gm, y[d + k], y[2 * d + k]);
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
        break;
    }
done:
    ws_give(m, &l);
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

/* Doubles of scratch sam_drift_noise needs (after the d of the caller's b). */
static size_t sam_ws(size_t d) { return 6 * d + 3 * d * d; }

/* SAM drift b and noise out (= sqrt(eta h) Sigma_S^{1/2} xi drawn from s), sharing the
 * expectations; w holds sam_ws(d) doubles, eig a GSL workspace for d (d > 1 with out != NULL). */
static int sam_drift_noise(const od_sde_model *m, const double *y, double h, od_stream *s,
                           double *b, double *out, double *w, gsl_eigen_symmv_workspace *eig)
{
    const size_t d = m->d, M = m->M;
    const double rho = m->hp.rho, invB = 1.0 / (double)m->B;
    double *g = w, *e = w + d, *he = w + 2 * d, *z = w + 3 * d, *ev = w + 4 * d, *xi = w + 5 * d;
    double *K = w + 6 * d, *S = K + d * d, *V = S + d * d;
    OD_TRY(od_problem_grad(m->p, y, g, NULL));
    if (d == 1) {
        const double sd = m->sdiag[0] * sqrt(invB);
        sam_expect_1d(g[0], sd, &e[0], &K[0]);
    } else {   /* sample averages over the pairs +-Z_i */
        od_zero(d, e);
        od_zero(d * d, K);
        for (size_t i = 0; i < 2 * M; i++) {
            const double sgn = i & 1 ? -1.0 : 1.0;
            for (size_t k = 0; k < d; k++) z[k] = sgn * m->zsam[(i / 2) * d + k];
            double gn = 0;
            for (size_t k = 0; k < d; k++) gn += (g[k] + z[k]) * (g[k] + z[k]);
            gn = sqrt(gn);
            if (!(gn > 0)) continue;
            for (size_t k = 0; k < d; k++) {
                e[k] += (g[k] + z[k]) / gn / (double)(2 * M);
                for (size_t l = 0; l < d; l++) K[k * d + l] += z[k] * (g[l] + z[l]) / gn / (double)(2 * M);
            }
        }
    }
    OD_TRY(od_problem_hvp(m->p, y, e, he));
    for (size_t k = 0; k < d; k++) b[k] = -(g[k] + rho * he[k]);
    if (!out) return OD_OK;
    /* Sigma_S = Sigma1/B + rho (K H + H K^T); H K^T column by column through hvp (H symmetric) */
    for (size_t l = 0; l < d; l++) {
        for (size_t k = 0; k < d; k++) z[k] = K[k * d + l];   /* column l of K */
        OD_TRY(od_problem_hvp(m->p, y, z, ev));
        for (size_t k = 0; k < d; k++) V[k * d + l] = ev[k];   /* (H K)_{kl} */
    }
    for (size_t k = 0; k < d; k++)
        for (size_t l = 0; l < d; l++)
            S[k * d + l] = (k == l ? m->sdiag[k] * m->sdiag[k] * invB : 0.0) +
                           rho * (V[k * d + l] + V[l * d + k]);
    if (d == 1) {
        ev[0] = S[0];
        V[0] = 1.0;
    } else {
        gsl_matrix_view Sv = gsl_matrix_view_array(S, d, d), Vv = gsl_matrix_view_array(V, d, d);
        gsl_vector_view ew = gsl_vector_view_array(ev, d);
        const int gs = gsl_eigen_symmv(&Sv.matrix, &ew.vector, &Vv.matrix, eig);   /* S destroyed */
        if (gs != GSL_SUCCESS)
            OD_ERRORF(OD_EGSL, "sam SDE: eigendecomposition of the noise covariance: %s", gsl_strerror(gs));
    }
    od_stream_normals(s, xi, d);
    od_zero(d, out);
    unsigned long clipped = 0;
    for (size_t j = 0; j < d; j++) {
        if (ev[j] < 0) clipped++;
        const double a = sqrt(fmax(ev[j], 0.0)) * xi[j];
        for (size_t k = 0; k < d; k++) out[k] += V[k * d + j] * a;
    }
    if (clipped) atomic_fetch_add_explicit(&((od_sde_model *)m)->clipped, clipped, memory_order_relaxed);
    od_scal(d, sqrt(m->hp.lr * h), out);
    return OD_OK;
}

/* ---- noise ------------------------------------------------------------------------------------------ */

static int noise(double t, const double *y, double h, od_stream *s, double *out, void *params)
{
    const od_sde_model *m = params;
    const size_t d = m->d;
    ws_lease l;
    OD_TRY(ws_take(m, &l));
    double *xi = l.w, *g = l.w + d, *hv = l.w + 2 * d, *tmp = l.w + 3 * d;
    int st;
    if (m->kind == M_SAM) {   /* the drift is recomputed by the scheme; here only its noise */
        st = sam_drift_noise(m, y, h, s, l.w, out, l.w + d, l.eig);
        goto done;
    }
    if ((st = sigma_half_xi(m, y, s, xi, tmp)) != OD_OK) goto done;
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
        const od_sde_impl_gam gm = od_sde_impl_gammas(m, t);
        for (size_t k = 0; k < d; k++) {
            out[k] = rms_sig(m, &gm, sh * xi[k], y[d + k]);
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
    ws_give(m, &l);
    return st;
}

/* Diagonal coefficients, for problems with constant diagonal noise (dsig = 0 throughout: the
 * coefficient of X's noise depends only on the noise-free u). */
static int diag(double t, const double *y, double *sig, double *dsig, void *params)
{
    const od_sde_model *m = params;
    const size_t d = m->d;
    const od_sde_impl_gam gm = m->kind == M_RMSPROP ? od_sde_impl_gammas(m, t) : (od_sde_impl_gam){0};
    for (size_t k = 0; k < d; k++) {
        double c = m->sig * m->sdiag[k];
        if (m->kind == M_ADAM) c *= m->c1;
        if (m->kind == M_RMSPROP) c = rms_sig(m, &gm, c, y[d + k]);
        sig[k] = c;
        dsig[k] = 0.0;
    }
    return OD_OK;
}

/* ---- the fused Euler–Maruyama step (sde_impl.h) ---------------------------------------------------- */

int od_sde_impl_fused_ok(const od_sde_model *m, const od_quadratic_diag_view *q)
{
    (void)q;
    return (m->kind == M_SGD || m->kind == M_RMSPROP || m->kind == M_ADAM) &&
           (m->sys.flags & OD_SDE_DIAGONAL) && m->sys.diag == diag && m->sdiag && !m->hp.eps_inside;
}

/* Mirrors od_sde_step(EM): dw = sqrt(h) z, the drift b and the coefficients sig from the old state,
 * y += b h + noise with noise = sig dw on the noisy components and 0 elsewhere; the quadratic's
 * gradient lambda (x - c) as its grad computes it. */
int od_sde_impl_fused_em(const od_sde_model *m, const od_quadratic_diag_view *q,
                         const od_sde_impl_gam *gm, double h, const double *z, double *y)
{
    const size_t d = m->d;
    const double sh = sqrt(h), g1 = gm->g1, sg2 = gm->sg2, s0 = m->sig, e0 = m->eps0 * gm->sg2;
    const double c1 = m->c1, c2 = m->c2;
    uint64_t bad = 0;
    switch (m->kind) {
    case M_SGD:
        for (size_t k = 0; k < d; k++) {
            const double gk = q->lambda[k] * (y[k] - q->c[k]);
            y[k] += -gk * h + m->sig * m->sdiag[k] * (sh * z[k]);
            bad |= od_sde_impl_nonfinite(y[k]);
        }
        break;
    case M_RMSPROP: {
        double *restrict X = y, *restrict U = y + d;
        const double *restrict lam = q->lambda, *restrict c = q->c, *restrict sd = m->sdiag,
                               *restrict zz = z;
        for (size_t k = 0; k < d; k++) {
            const double gk = lam[k] * (X[k] - c[k]), uk = U[k], P = s0 * sqrt(uk > 0 ? uk : 0.0) + e0;
            const double bxv = -sg2 * gk / P, sgv = -sg2 * (s0 * sd[k]) / P;
            const double bx = P > 0 ? bxv : 0.0, bu = c2 * (sd[k] * sd[k] - uk);
            const double sig = P > 0 ? sgv : 0.0;   /* computed, then selected: no branch */
            X[k] += bx * h + sig * (sh * zz[k]);
            U[k] += bu * h + 0.0;
            bad |= od_sde_impl_nonfinite(X[k]) | od_sde_impl_nonfinite(U[k]);
        }
        break;
    }
    case M_ADAM: {
        double *restrict X = y, *restrict M = y + d, *restrict U = y + 2 * d;
        const double *restrict lam = q->lambda, *restrict c = q->c, *restrict sd = m->sdiag,
                               *restrict zz = z;
        for (size_t k = 0; k < d; k++) {
            const double gk = lam[k] * (X[k] - c[k]), mk = M[k], uk = U[k];
            const double P = s0 * sqrt(uk > 0 ? uk : 0.0) + e0;
            const double bxv = -sg2 / g1 * mk / P;
            const double bx = ((g1 > 0) & (P > 0)) ? bxv : 0.0;
            const double bm = c1 * (gk - mk);
            const double bu = c2 * (sd[k] * sd[k] - uk);
            double sig = s0 * sd[k];
            sig *= c1;
            X[k] += bx * h + 0.0;
            M[k] += bm * h + sig * (sh * zz[k]);
            U[k] += bu * h + 0.0;
            bad |= od_sde_impl_nonfinite(X[k]) | od_sde_impl_nonfinite(M[k]) | od_sde_impl_nonfinite(U[k]);
        }
        break;
    }
    default:
        OD_ERROR("od_sde_impl_fused_em: no fused step for this model", OD_EINTERNAL);
    }
    return bad ? OD_EDIVERGED : OD_OK;
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
    if (M < 2)
        OD_ERRORF(OD_ERANGE, "sample_m = %zu: the per-sample noise estimate needs at least 2 "
                             "per-sample gradients", M);
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
    m->pflags = p->noise;
    const double eta = hp->lr, sB = 1.0 / sqrt((double)B);
    int st = OD_OK;
    if ((m->kind == M_SAM || m->kind == M_USAM || m->kind == M_DNSAM) &&
        !(m->pflags & OD_NOISE_CONSTANT))
        st = od_error(OD_ENOTSUP, __FILE__, __LINE__,
                      "the %s SDE is implemented for problems with additive gradient noise "
                      "(minibatch Hessian = Hessian); '%s' is not one", opt->name, p->label);
    if (m->kind == M_SAM && d > 1 && !(m->pflags & OD_NOISE_DIAGONAL))
        st = od_error(OD_ENOTSUP, __FILE__, __LINE__, "the sam SDE needs diagonal noise covariance");
    if (st == OD_OK && (m->pflags & OD_NOISE_CONSTANT)) {
        m->sdiag = od_vec_alloc(d);
        double *cov = od_vec_alloc(d * d);
        if (!m->sdiag || !cov) st = od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
        if (st == OD_OK) st = od_problem_noise_cov(p, p->x0 ? p->x0 : m->sdiag, cov);
        for (size_t k = 0; st == OD_OK && k < d; k++) m->sdiag[k] = sqrt(fmax(cov[k * d + k], 0.0));
        od_free(cov);
    }
    if (st == OD_OK && m->kind == M_SAM && d > 1) {   /* the fixed draws of the SAM expectations */
        m->zsam = od_vec_alloc(M * d);
        if (!m->zsam) st = od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
        od_stream zs;
        od_stream_init(&zs, 0x5A4D5344ULL, 0);   /* a fixed key: the model is a function of its inputs */
        for (size_t i = 0; st == OD_OK && i < M; i++) {
            od_stream_seek(&zs, (uint32_t)i, 0);
            od_stream_normals(&zs, m->zsam + i * d, d);
            for (size_t k = 0; k < d; k++) m->zsam[i * d + k] *= m->sdiag[k] * sqrt(1.0 / (double)B);
        }
    }
    if (st != OD_OK) {
        od_sde_model_free(m);
        return st;
    }
    size_t dim = d;
    unsigned flags = 0;
    const int diag_ok = (m->pflags & OD_NOISE_CONSTANT) && (m->pflags & OD_NOISE_DIAGONAL);
    size_t offset = 0;
    switch (m->kind) {
    case M_SGD:
    case M_USAM:
    case M_DNSAM:
    case M_SAM:
        m->clock = eta;
        m->sig = sqrt(eta) * sB;
        if (m->kind == M_SGD) flags = diag_ok ? OD_SDE_ADDITIVE | OD_SDE_DIAGONAL : 0;
        if (m->kind == M_USAM && (m->pflags & OD_NOISE_CONSTANT)) flags = OD_SDE_ADDITIVE;
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
                             .drift = drift, .noise = noise,
                             .diag = (flags & OD_SDE_DIAGONAL) ? diag : NULL, .params = m};
    /* the pool: drift needs 3d (+ d^2 for a non-constant noise diagonal), noise (M + 4) d, SAM
     * d + sam_ws; one workspace per thread of the current team, plus one */
    m->ws_size = (M + 4) * d;
    if (!m->sdiag && m->ws_size < 3 * d + d * d) m->ws_size = 3 * d + d * d;
    if (m->kind == M_SAM) m->ws_size = d + sam_ws(d);
    m->id = atomic_fetch_add(&model_ids, 1);
    m->n_slots = (size_t)od_threads() + 1;
    m->slots = calloc(m->n_slots, sizeof *m->slots);
    for (size_t i = 0; m->slots && i < m->n_slots; i++) {
        atomic_flag_clear(&m->slots[i].busy);
        m->slots[i].buf = od_vec_alloc(m->ws_size);
        if (m->kind == M_SAM && d > 1) m->slots[i].eig = gsl_eigen_symmv_alloc(d);
        if (!m->slots[i].buf || (m->kind == M_SAM && d > 1 && !m->slots[i].eig)) st = OD_ENOMEM;
    }
    if (!m->slots || st != OD_OK) {
        od_sde_model_free(m);
        OD_ERRORF(OD_ENOMEM, "out of memory for the workspaces of the %s SDE (d = %zu)", opt->name, d);
    }
    *out = m;
    return OD_OK;
}

void od_sde_model_free(od_sde_model *m)
{
    if (!m) return;
    od_free(m->sdiag);
    od_free(m->zsam);
    for (size_t i = 0; m->slots && i < m->n_slots; i++) {
        od_free(m->slots[i].buf);
        if (m->slots[i].eig) gsl_eigen_symmv_free(m->slots[i].eig);
    }
    free(m->slots);
    free(m);
}

const od_sde_system *od_sde_model_system(const od_sde_model *m) { return &m->sys; }
double od_sde_model_clock(const od_sde_model *m) { return m->clock; }
unsigned long od_sde_model_clipped(const od_sde_model *m) { return atomic_load(&m->clipped); }
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
            const od_sde_impl_gam gm = od_sde_impl_gammas(m, t);
            col[j] = rms_sig(m, &gm, sh, y[d + j]);
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
