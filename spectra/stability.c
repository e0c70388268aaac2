/* optdyn spectra — the mean-square stability operator of linearised SGD at a minimum, its spectral
 * radius, the threshold learning rate and the quantities of the papers (contracts in
 * optdyn_spectra.h; theory sheet spectra.md §6.1–6.4).
 *
 * T_η(X) = X − η(HX + XH) + η² [(1 + β − α) HXH + α (1/n) Σ_i H_i X H_i] in the reduced
 * coordinates of the set (dimension r = dim W).  ρ(T_η) is the Perron root of a positive map: power
 * iteration from a positive definite start stays in the PSD cone, and at a positive definite
 * iterate X the Collatz–Wielandt bounds λ_min(X^{-1/2}T(X)X^{-1/2}) <= ρ <= λ_max(…) hold (T(X) ⪯ cX
 * gives T^k(X) ⪯ c^k X; T(X) ⪰ cX gives T^k(X) ⪰ c^k X).  The bounds certify the sign of ρ − 1 far
 * from the threshold in a few iterations, which is what the grid and the bisection need.
 */
#include "spectra/optdyn_spectra.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct od_spectra_stab {
    const od_spectra_hset *h;
    od_spectra_sampling s;
    size_t B;
    double alpha, beta;
    double lam1;                 /* λ_max(H̃) */
    double *HX, *P, *X, *Y;      /* r-by-r scratch and iterates */
    double *perron;              /* last Perron estimate (r-by-r, ‖·‖_F = 1) */
    int have_perron;
    double *A, *C, *M;           /* per-sample scratch: kmax-by-r, kmax-by-r, kmax-by-kmax */
    size_t kmax;
    double *Qm, *Td;             /* dense path: the η² part (r⁴) and T (r⁴) */
    double Td_eta;
    double *ev, *V, *W, *Z;      /* bounds scratch */
    uint64_t applications;
};

/* ---- sampling schemes --------------------------------------------------------------------------- */

static const char *const scheme_names[] = {"replacement", "without", "bernoulli"};

int od_spectra_sampling_parse(const char *word, od_spectra_sampling *s)
{
    for (int i = 0; i < 3; i++)
        if (word && strcmp(word, scheme_names[i]) == 0) {
            *s = (od_spectra_sampling)i;
            return OD_OK;
        }
    OD_ERRORF(OD_EPARSE, "unknown sampling scheme '%s' (replacement, without, bernoulli)", word ? word : "");
}

const char *od_spectra_sampling_name(od_spectra_sampling s)
{
    return (unsigned)s < 3 ? scheme_names[s] : "unknown";
}

int od_spectra_sampling_coef(od_spectra_sampling s, size_t n, size_t B, double *alpha, double *beta)
{
    if (B == 0) OD_ERROR("batch size B must be at least 1", OD_ERANGE);
    if (n == 0) OD_ERROR("no samples (n = 0)", OD_ERANGE);
    const double nb = (double)n, b = (double)B;
    switch (s) {
    case OD_SPECTRA_SAMPLE_REPLACEMENT:
        *alpha = 1.0 / b;
        *beta = 0;
        return OD_OK;
    case OD_SPECTRA_SAMPLE_WITHOUT:
        if (B > n) OD_ERRORF(OD_ERANGE, "batch B = %zu exceeds n = %zu samples (sampling without replacement)", B, n);
        *alpha = n > 1 ? (nb - b) / (b * (nb - 1)) : 0.0;
        *beta = 0;
        return OD_OK;
    case OD_SPECTRA_SAMPLE_BERNOULLI:
        if (B > n) OD_ERRORF(OD_ERANGE, "batch B = %zu exceeds n = %zu samples (Bernoulli sampling needs p = B/n <= 1)", B, n);
        *alpha = *beta = (1.0 - b / nb) / b;
        return OD_OK;
    }
    OD_ERROR("unknown sampling scheme", OD_EINVAL);
}

/* ---- workspace ---------------------------------------------------------------------------------- */

void od_spectra_stab_free(od_spectra_stab *st)
{
    if (!st) return;
    double *bufs[] = {st->HX, st->P, st->X, st->Y, st->perron, st->A, st->C, st->M, st->Qm, st->Td,
                      st->ev, st->V, st->W, st->Z};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) od_free(bufs[i]);
    free(st);
}

int od_spectra_stab_alloc(const od_spectra_hset *h, od_spectra_sampling s, size_t B,
                          od_spectra_stab **out)
{
    *out = NULL;
    if (!h) OD_ERROR("od_spectra_stab_alloc: NULL set", OD_EINVAL);
    if (h->r == 0) OD_ERRORF(OD_EINVAL, "%s: every per-sample Hessian vanishes (W = {0})", h->label);
    double alpha, beta;
    OD_TRY(od_spectra_sampling_coef(s, h->n, B, &alpha, &beta));
    od_spectra_stab *st = calloc(1, sizeof *st);
    if (!st) OD_ERROR("out of memory", OD_ENOMEM);
    const size_t r = h->r;
    st->h = h;
    st->s = s;
    st->B = B;
    st->alpha = alpha;
    st->beta = beta;
    st->Td_eta = NAN;
    for (size_t i = 0; i < h->n; i++) st->kmax = h->k[i] > st->kmax ? h->k[i] : st->kmax;
    const size_t km = st->kmax ? st->kmax : 1;
    st->HX = od_vec_alloc(r * r);
    st->P = od_vec_alloc(r * r);
    st->X = od_vec_alloc(r * r);
    st->Y = od_vec_alloc(r * r);
    st->perron = od_vec_alloc(r * r);
    st->A = od_vec_alloc(km * r);
    st->C = od_vec_alloc(km * r);
    st->M = od_vec_alloc(km * km);
    st->ev = od_vec_alloc(r);
    st->V = od_vec_alloc(r * r);
    st->W = od_vec_alloc(r * r);
    st->Z = od_vec_alloc(r * r);
    if (!st->HX || !st->P || !st->X || !st->Y || !st->perron || !st->A || !st->C || !st->M || !st->ev ||
        !st->V || !st->W || !st->Z) {
        od_spectra_stab_free(st);
        OD_ERROR("out of memory", OD_ENOMEM);
    }
    int e = od_symm_eigen(r, h->H, st->ev, NULL);
    if (e != OD_OK) {
        od_spectra_stab_free(st);
        return e;
    }
    st->lam1 = st->ev[0];
    *out = st;
    return OD_OK;
}

const od_spectra_hset *od_spectra_stab_hset(const od_spectra_stab *st) { return st->h; }

od_spectra_sampling od_spectra_stab_sampling(const od_spectra_stab *st) { return st->s; }

size_t od_spectra_stab_batch(const od_spectra_stab *st) { return st->B; }

void od_spectra_stab_coef(const od_spectra_stab *st, double *alpha, double *beta)
{
    *alpha = st->alpha;
    *beta = st->beta;
}

const double *od_spectra_stab_perron(const od_spectra_stab *st) { return st->have_perron ? st->perron : NULL; }

uint64_t od_spectra_stab_applications(const od_spectra_stab *st) { return st->applications; }

/* ---- T, matrix-free ----------------------------------------------------------------------------- */

/* Y += c Σ_i H̃_i X H̃_i, H̃_i = G_iᵀ S_i G_i: A = G_i X, M = S (A G_iᵀ) S, Y += c G_iᵀ (M G_i). */
static void add_sample_sandwich(od_spectra_stab *st, double c, const double *X, double *Y)
{
    const od_spectra_hset *h = st->h;
    const size_t r = h->r;
    for (size_t i = 0; i < h->n; i++) {
        const size_t k = h->k[i];
        const double *Gi = h->G + h->off[i] * r, *si = h->sgn + h->off[i];
        if (k == 0) continue;
        if (k == 1) {   /* rank one: Y += c (gᵀXg) g gᵀ */
            od_gemv(0, r, r, 1.0, X, Gi, 0.0, st->A);
            const double m = c * od_dot(r, Gi, st->A);
            for (size_t a = 0; a < r; a++) od_axpy(r, m * Gi[a], Gi, Y + a * r);
            continue;
        }
        od_gemm(0, 0, k, r, r, 1.0, Gi, X, 0.0, st->A);
        od_gemm(0, 1, k, k, r, 1.0, st->A, Gi, 0.0, st->M);
        for (size_t a = 0; a < k; a++)
            for (size_t b = 0; b < k; b++) st->M[a * k + b] *= si[a] * si[b];
        od_gemm(0, 0, k, r, k, 1.0, st->M, Gi, 0.0, st->C);
        od_gemm(1, 0, r, r, k, c, Gi, st->C, 1.0, Y);
    }
}

static void symmetrize(size_t r, double *Y)
{
    for (size_t a = 0; a < r; a++)
        for (size_t b = a + 1; b < r; b++) Y[a * r + b] = Y[b * r + a] = 0.5 * (Y[a * r + b] + Y[b * r + a]);
}

int od_spectra_stab_apply(od_spectra_stab *st, double eta, const double *X, double *Y)
{
    const od_spectra_hset *h = st->h;
    const size_t r = h->r;
    od_gemm(0, 0, r, r, r, 1.0, h->H, X, 0.0, st->HX);        /* HX */
    od_gemm(0, 0, r, r, r, 1.0, st->HX, h->H, 0.0, st->P);    /* HXH */
    for (size_t a = 0; a < r; a++)
        for (size_t b = 0; b < r; b++)
            Y[a * r + b] = X[a * r + b] - eta * (st->HX[a * r + b] + st->HX[b * r + a]) +
                           eta * eta * (1.0 + st->beta - st->alpha) * st->P[a * r + b];
    if (st->alpha != 0) add_sample_sandwich(st, eta * eta * st->alpha / (double)h->n, X, Y);
    symmetrize(r, Y);
    st->applications++;
    if (!od_all_finite(r * r, Y)) OD_ERRORF(OD_ENUMERIC, "T applied at η = %g gave a non-finite value", eta);
    return OD_OK;
}

/* ---- T, dense ----------------------------------------------------------------------------------- */

/* Qm = (1 + β − α) H̃⊗H̃ + (α/n) Σ H̃_i⊗H̃_i, row-major vec: (A⊗B)[(a,b),(c,e)] = A_ac B_be. */
static int build_qm(od_spectra_stab *st)
{
    const od_spectra_hset *h = st->h;
    const size_t r = h->r, r2 = r * r;
    if (st->Qm) return OD_OK;
    st->Qm = od_vec_alloc(r2 * r2);
    st->Td = od_vec_alloc(r2 * r2);
    double *Hi = od_vec_alloc(r2);
    if (!st->Qm || !st->Td || !Hi) {
        od_free(Hi);
        od_free(st->Qm);
        od_free(st->Td);
        st->Qm = st->Td = NULL;
        OD_ERRORF(OD_ENOMEM, "dense T: out of memory (r⁴ = %zu doubles)", r2 * r2);
    }
    const double c0 = 1.0 + st->beta - st->alpha;
    for (size_t p = 0; p < r2; p++)
        for (size_t q = 0; q < r2; q++)
            st->Qm[p * r2 + q] = c0 * h->H[(p / r) * r + q / r] * h->H[(p % r) * r + q % r];
    for (size_t i = 0; st->alpha != 0 && i < h->n; i++) {
        od_spectra_hset_sample(h, i, Hi);
        const double c = st->alpha / (double)h->n;
        for (size_t p = 0; p < r2; p++)
            for (size_t q = 0; q < r2; q++) st->Qm[p * r2 + q] += c * Hi[(p / r) * r + q / r] * Hi[(p % r) * r + q % r];
    }
    od_free(Hi);
    return OD_OK;
}

int od_spectra_stab_dense(od_spectra_stab *st, double eta, double *T)
{
    const od_spectra_hset *h = st->h;
    const size_t r = h->r, r2 = r * r;
    if (r > 64) OD_ERRORF(OD_ERANGE, "dense T: r = %zu is above 64 (r⁴ doubles); use the matrix-free path", r);
    OD_TRY(build_qm(st));
    for (size_t p = 0; p < r2 * r2; p++) T[p] = eta * eta * st->Qm[p];
    for (size_t a = 0; a < r; a++)
        for (size_t b = 0; b < r; b++) {
            const size_t p = a * r + b;
            T[p * r2 + p] += 1.0;
            for (size_t c = 0; c < r; c++) {
                T[p * r2 + c * r + b] -= eta * h->H[a * r + c];   /* H⊗I */
                T[p * r2 + a * r + c] -= eta * h->H[b * r + c];   /* I⊗H */
            }
        }
    return OD_OK;
}

static int apply_dense(od_spectra_stab *st, double eta, const double *X, double *Y)
{
    const size_t r2 = st->h->r * st->h->r;
    if (!(st->Td && st->Td_eta == eta)) {
        OD_TRY(build_qm(st));
        OD_TRY(od_spectra_stab_dense(st, eta, st->Td));
        st->Td_eta = eta;
    }
    od_gemv(0, r2, r2, 1.0, st->Td, X, 0.0, Y);
    symmetrize(st->h->r, Y);
    st->applications++;
    if (!od_all_finite(r2, Y)) OD_ERRORF(OD_ENUMERIC, "dense T at η = %g gave a non-finite value", eta);
    return OD_OK;
}

/* ---- spectral radius ---------------------------------------------------------------------------- */

od_spectra_rho_params od_spectra_rho_default_params(void)
{
    return (od_spectra_rho_params){.tol = 1e-12, .max_iter = 20000, .check_every = 10, .decide = NAN,
                                   .dense = 0, .warm = 1, .lanczos = 0};
}

/* Collatz–Wielandt bounds at X (unit norm) with Y = T(X): NaN when X is not positive definite. */
static int cw_bounds(od_spectra_stab *st, const double *X, const double *Y, double *lo, double *hi)
{
    const size_t r = st->h->r;
    *lo = *hi = NAN;
    OD_TRY(od_symm_eigen(r, X, st->ev, st->V));
    /* rounding in Y is amplified by cond(X): use the bounds only for cond(X) <= 1e8 */
    if (!(st->ev[r - 1] > 1e-8 * st->ev[0])) return OD_OK;
    for (size_t a = 0; a < r; a++)   /* W = D^{-1/2} Vᵀ */
        for (size_t b = 0; b < r; b++) st->W[a * r + b] = st->V[b * r + a] / sqrt(st->ev[a]);
    od_gemm(0, 0, r, r, r, 1.0, st->W, Y, 0.0, st->P);
    od_gemm(0, 1, r, r, r, 1.0, st->P, st->W, 0.0, st->Z);
    symmetrize(r, st->Z);
    OD_TRY(od_symm_eigen(r, st->Z, st->ev, NULL));
    *lo = st->ev[r - 1];
    *hi = st->ev[0];
    return OD_OK;
}

static int is_pd(od_spectra_stab *st, const double *X)
{
    const size_t r = st->h->r;
    if (od_symm_eigen(r, X, st->ev, NULL) != OD_OK) return 0;
    return st->ev[r - 1] > 1e-13 * st->ev[0];
}

/* ρ by Lanczos.  T commutes with transposition and is self-adjoint for <X, Y> = tr(XᵀY) (each term
 * X ↦ AXB with A, B symmetric is), so S T S (S the orthogonal projection X ↦ (X + Xᵀ)/2) is T on
 * symmetric matrices and 0 on antisymmetric ones, and self-adjoint on all of R^{r²} — Lanczos may
 * bring in non-symmetric vectors (rounding, a restart after an invariant subspace), on which the
 * applications above are not T, hence the projection of the input.  A positive map's Perron root is
 * its largest eigenvalue, with a PSD eigenvector that has a positive overlap tr(X P) with any positive
 * definite start.  So ρ = λ_max(S T S), found by od_spectra_eigs from the start X; X and Y = T(X)
 * return the Ritz vector (unit norm, tr X > 0) and its image, for the Collatz–Wielandt bounds. */
typedef struct {
    od_spectra_stab *st;
    double eta;
    int dense;
    double *xs;   /* r-by-r scratch: the symmetric part of the input */
} t_op;

static int t_matvec(const double *x, double *y, void *ctx)
{
    t_op *c = ctx;
    const size_t r = c->st->h->r;
    for (size_t a = 0; a < r; a++)
        for (size_t b = 0; b <= a; b++) c->xs[a * r + b] = c->xs[b * r + a] = 0.5 * (x[a * r + b] + x[b * r + a]);
    return c->dense ? apply_dense(c->st, c->eta, c->xs, y) : od_spectra_stab_apply(c->st, c->eta, c->xs, y);
}

static int rho_lanczos(od_spectra_stab *st, double eta, const od_spectra_rho_params *p, double *X, double *Y,
                       od_spectra_rho_result *res)
{
    const size_t r = st->h->r, r2 = r * r;
    t_op c = {st, eta, p->dense, st->Z};   /* Z: scratch of the bounds, not in use here */
    if (r2 < 2) {   /* one dimension: T is the number T(1) */
        OD_TRY(t_matvec(X, Y, &c));
        res->rho = fabs(Y[0] / X[0]);
        res->iters = 1;
        res->converged = 1;
        return OD_OK;
    }
    od_spectra_linop *op = od_spectra_linop_alloc(r2, t_matvec, NULL, &c, NULL, "second-moment map T");
    if (!op) OD_ERROR("ρ(T): out of memory", OD_ENOMEM);
    op->symmetric = 1;
    od_spectra_eigs_params ep = od_spectra_eigs_default_params();
    ep.k = 1;
    ep.which = OD_SPECTRA_TOP;
    ep.tol = p->tol;
    ep.want_vectors = 1;
    ep.v0 = X;
    od_spectra_eigs_result er;
    int e = od_spectra_eigs(op, &ep, &er);
    od_spectra_linop_free(op);
    if (e != OD_OK && e != OD_EMAXITER) return e;
    double tr = 0;
    for (size_t a = 0; a < r; a++) tr += er.vectors[a * r + a];
    od_copy(r2, er.vectors, X);
    od_scal(r2, (tr < 0 ? -1.0 : 1.0) / od_nrm2(r2, X), X);
    symmetrize(r, X);
    res->rho = er.values[0];
    res->iters = er.steps;
    res->converged = e == OD_OK;
    od_spectra_eigs_result_free(&er);
    return t_matvec(X, Y, &c);
}

int od_spectra_stab_rho(od_spectra_stab *st, double eta, const od_spectra_rho_params *prm,
                        od_spectra_rho_result *res)
{
    const od_spectra_rho_params p = prm ? *prm : od_spectra_rho_default_params();
    const size_t r = st->h->r, r2 = r * r;
    memset(res, 0, sizeof *res);
    res->lo = res->hi = NAN;
    if (!(eta >= 0) || !isfinite(eta)) OD_ERRORF(OD_EINVAL, "ρ(T): η = %g must be finite and >= 0", eta);
    if (p.dense && r > 64) OD_ERRORF(OD_ERANGE, "ρ(T), dense path: r = %zu is above 64", r);
    if (p.max_iter == 0 || p.check_every == 0 || !(p.tol > 0))
        OD_ERROR("ρ(T): max_iter, check_every and tol must be positive", OD_EINVAL);
    const uint64_t a0 = st->applications;
    double *X = st->X, *Y = st->Y;
    if (p.warm && st->have_perron && is_pd(st, st->perron)) {
        od_copy(r2, st->perron, X);
    } else {
        od_zero(r2, X);
        for (size_t a = 0; a < r; a++) X[a * r + a] = 1.0 / sqrt((double)r);
    }
    if (p.lanczos) {
        OD_TRY(rho_lanczos(st, eta, &p, X, Y, res));
        OD_TRY(cw_bounds(st, X, Y, &res->lo, &res->hi));
        if (isfinite(p.decide) && (res->hi < p.decide * (1 - 1e-6) || res->lo > p.decide * (1 + 1e-6))) res->converged = 2;
        od_copy(r2, X, st->perron);
        st->have_perron = res->rho > 0;
        res->applications = st->applications - a0;
        return OD_OK;
    }
    double prev = NAN;
    size_t still = 0;
    for (size_t it = 1; it <= p.max_iter; it++) {
        OD_TRY(p.dense ? apply_dense(st, eta, X, Y) : od_spectra_stab_apply(st, eta, X, Y));
        const double nrm = od_nrm2(r2, Y);
        res->rho = nrm;
        res->iters = it;
        const int steady = isfinite(prev) && fabs(nrm - prev) <= p.tol * nrm;
        if (it == 1 || it % p.check_every == 0) {
            OD_TRY(cw_bounds(st, X, Y, &res->lo, &res->hi));
            /* certified with a margin well above the bounds' rounding (cond <= 1e8) */
            if (isfinite(p.decide) && (res->hi < p.decide * (1 - 1e-6) || res->lo > p.decide * (1 + 1e-6)))
                res->converged = 2;
            else if (steady && isfinite(res->hi) && res->hi - nrm <= p.tol * nrm) res->converged = 1;
        }
        /* without usable bounds (a singular iterate): a long stagnation */
        still = (isfinite(prev) && fabs(nrm - prev) <= 0.1 * p.tol * nrm) ? still + 1 : 0;
        if (still >= 20 && !isfinite(res->hi)) res->converged = 1;
        prev = nrm;
        if (nrm == 0) {   /* T^k X = 0: nilpotent on this start (ρ = 0 when the start spans) */
            res->converged = 1;
            break;
        }
        od_scal(r2, 1.0 / nrm, Y);
        double *t = X;
        X = Y;
        Y = t;
        if (res->converged) break;
    }
    od_copy(r2, X, st->perron);
    st->have_perron = res->rho > 0;
    if (X != st->X) {   /* keep the buffers where they belong */
        st->Y = st->X;
        st->X = X;
    }
    res->applications = st->applications - a0;
    return OD_OK;
}

/* ---- threshold ---------------------------------------------------------------------------------- */

od_spectra_threshold_params od_spectra_threshold_default_params(void)
{
    return (od_spectra_threshold_params){.grid = 64, .tol = 1e-10, .rho = od_spectra_rho_default_params()};
}

/* Sign of ρ(T_η) − 1: +1, −1 (0 never: an exact tie counts as +1, i.e. not stable). */
static int side(od_spectra_stab *st, double eta, const od_spectra_rho_params *rp, size_t *evals)
{
    od_spectra_rho_result rr;
    od_spectra_rho_params p = *rp;
    p.decide = 1.0;
    (*evals)++;
    if (od_spectra_stab_rho(st, eta, &p, &rr) != OD_OK) return 2;
    if (rr.converged == 2) return rr.lo > 1.0 ? 1 : -1;
    return rr.rho >= 1.0 ? 1 : -1;
}

int od_spectra_stab_threshold(od_spectra_stab *st, const od_spectra_threshold_params *prm,
                              od_spectra_threshold_result *res)
{
    const od_spectra_threshold_params p = prm ? *prm : od_spectra_threshold_default_params();
    memset(res, 0, sizeof *res);
    res->eta = NAN;
    if (p.grid < 2 || !(p.tol > 0)) OD_ERROR("threshold: need grid >= 2 and tol > 0", OD_EINVAL);
    if (!(st->lam1 > 0)) OD_ERRORF(OD_EINVAL, "threshold: λ_max(H) = %g is not positive (not a minimum)", st->lam1);
    const uint64_t a0 = st->applications;
    const double top = 2.0 / st->lam1;
    int prev = 0;
    double eprev = 0;
    for (size_t j = 1; j <= p.grid + 1; j++) {
        const double eta = top * (double)j / (double)p.grid;
        const int sd = side(st, eta, &p.rho, &res->evaluations);
        if (sd == 2) return od_error(OD_ENUMERIC, __FILE__, __LINE__, "threshold: ρ(T) failed at η = %g: %s", eta, od_last_error());
        if (j == 1 && sd > 0) {   /* unstable for the smallest η: H is not PSD on W */
            res->eta = 0;
        } else if (j > 1 && sd != prev && res->n_cross < OD_SPECTRA_MAX_CROSSINGS) {
            double lo = eprev, hi = eta;   /* side(lo) = prev, side(hi) = sd */
            while (hi - lo > p.tol * hi) {
                const double mid = 0.5 * (lo + hi);
                const int sm = side(st, mid, &p.rho, &res->evaluations);
                if (sm == 2) return od_error(OD_ENUMERIC, __FILE__, __LINE__, "threshold: ρ(T) failed at η = %g", mid);
                if (sm == prev) lo = mid;
                else hi = mid;
            }
            res->cross[res->n_cross] = 0.5 * (lo + hi);
            res->up[res->n_cross] = sd > 0;
            if (sd > 0 && isnan(res->eta)) res->eta = res->cross[res->n_cross];
            res->n_cross++;
        } else if (j > 1 && sd != prev) {
            res->n_cross++;   /* counted, not bisected */
        }
        prev = sd;
        eprev = eta;
    }
    res->applications = st->applications - a0;
    return OD_OK;
}

/* ---- the quantities of the papers ---------------------------------------------------------------- */

int od_spectra_stab_summarize(od_spectra_stab *st, od_spectra_stab_summary *q)
{
    const od_spectra_hset *h = st->h;
    const size_t r = h->r, n = h->n;
    memset(q, 0, sizeof *q);
    double *lam = od_vec_alloc(r), *V = od_vec_alloc(r * r), *Sg = od_vec_alloc(r * r),
           *A = od_vec_alloc(r * r), *S = od_vec_alloc(n * n), *ls = od_vec_alloc(n > r ? n : r);   /* eigenvalues of S and Σ */
    int e = (lam && V && Sg && A && S && ls) ? OD_OK : od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
    if (e == OD_OK) e = od_symm_eigen(r, h->H, lam, V);
    if (e != OD_OK) goto done;
    q->sharpness = lam[0];
    q->lambda_min_w = lam[r - 1];
    for (size_t a = 0; a < r; a++) q->trace += lam[a];
    q->gd_threshold = 2.0 / lam[0];
    q->trace_lr = 2.0 / q->trace;
    /* coherence: S_ij = sqrt(tr H_i H_j) = sqrt(Σ_{a∈i, b∈j} (g_a·g_b)²) for PSD H_i */
    q->coherence = q->dexter_lr = NAN;
    if (h->psd) {
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j <= i; j++) {
                double t = 0;
                for (size_t a = h->off[i]; a < h->off[i] + h->k[i]; a++)
                    for (size_t b = h->off[j]; b < h->off[j] + h->k[j]; b++) {
                        const double g = od_dot(r, h->G + a * r, h->G + b * r);
                        t += g * g;
                    }
                S[i * n + j] = S[j * n + i] = sqrt(t);
            }
        double l1max = 0;
        for (size_t i = 0; i < n; i++) l1max = fmax(l1max, h->lam1[i]);
        if ((e = od_symm_eigen(n, S, ls, NULL)) != OD_OK) goto done;
        q->coherence = ls[0] / l1max;
        q->dexter_lr = 2.0 * (double)st->B * q->coherence / ((double)n * lam[0]);
    }
    /* Σ = (1/n) Σ H_i² − H²; H_i² = G_iᵀ S (G_i G_iᵀ) S G_i */
    od_gemm(0, 0, r, r, r, -1.0, h->H, h->H, 0.0, Sg);
    for (size_t i = 0; i < n; i++) {
        const size_t k = h->k[i];
        const double *Gi = h->G + h->off[i] * r, *si = h->sgn + h->off[i];
        for (size_t a = 0; a < k; a++)
            for (size_t b = 0; b < k; b++) {
                const double m = si[a] * si[b] * od_dot(r, Gi + a * r, Gi + b * r) / (double)n;
                for (size_t c = 0; c < r; c++) od_axpy(r, m * Gi[a * r + c], Gi + b * r, Sg + c * r);
            }
    }
    symmetrize(r, Sg);
    /* A = (1 + β) H² + α Σ, the η² part of the one-step matrix E(I − ηĤ)² */
    od_gemm(0, 0, r, r, r, 1.0 + st->beta, h->H, h->H, 0.0, A);
    od_axpy(r * r, st->alpha, Sg, A);
    if ((e = od_symm_eigen(r, Sg, ls, NULL)) != OD_OK) goto done;
    q->nonuniformity = sqrt(fmax(0.0, ls[0]));
    /* λ_max(I − 2ηH + η²A) <= 1 ⟺ η A ⪯ 2H: η_wme = 2/λ_max(D^{-1/2} Vᵀ A V D^{-1/2}) when H ≻ 0 on W */
    if (!(lam[r - 1] > 0)) {
        q->wme_lr = 0;
    } else {
        for (size_t a = 0; a < r; a++)   /* Sg ← D^{-1/2} Vᵀ */
            for (size_t b = 0; b < r; b++) Sg[a * r + b] = V[b * r + a] / sqrt(lam[a]);
        od_gemm(0, 0, r, r, r, 1.0, Sg, A, 0.0, V);
        od_gemm(0, 1, r, r, r, 1.0, V, Sg, 0.0, A);
        symmetrize(r, A);
        if ((e = od_symm_eigen(r, A, lam, NULL)) != OD_OK) goto done;
        q->wme_lr = 2.0 / lam[0];
    }
done:
    od_free(lam);
    od_free(V);
    od_free(Sg);
    od_free(A);
    od_free(S);
    od_free(ls);
    return e;
}
