/* optdyn tests — stability of SGD at a minimum (theory sheet spectra.md §6): the mean-square operator
 * against exhaustive enumeration of index paths, closed forms (d = 1, orthogonal rank-one samples, the
 * coherence construction of §6.3), the GD limit, the bisection tolerance, positivity, the dense and
 * matrix-free paths against each other and against GSL's nonsymmetric eigensolver, the bounds of the
 * papers (η_WME <= η* <= 2/λ_max, Dexter's condition never fires in a stable cell), the range
 * restriction at over-parameterised minima, and the per-sample sources (dense, actions, file). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_complex_math.h>
#include <gsl/gsl_eigen.h>

#include "od_test.h"
#include "test_spectra.h"

/* A random PSD d-by-d matrix of rank k (Σ_j g_j g_jᵀ, g_j ~ N(0, s² I)) from stream (seed, 9). */
static void rand_psd(size_t d, size_t k, double s, uint64_t seed, uint32_t path, double *A)
{
    od_stream st;
    od_stream_init(&st, seed, 9);
    od_stream_seek(&st, path, 0);
    double g[64];
    od_zero(d * d, A);
    for (size_t j = 0; j < k; j++) {
        od_stream_normals(&st, g, d);
        for (size_t a = 0; a < d; a++)
            for (size_t b = 0; b < d; b++) A[a * d + b] += s * s * g[a] * g[b];
    }
}

static od_spectra_hset *dense_set(size_t n, size_t d, const double *H)
{
    od_spectra_hset *h = NULL;
    CU_ASSERT_EQUAL_FATAL(od_spectra_hset_dense(n, d, H, NULL, &h), OD_OK);
    return h;
}

/* n random PSD samples in d <= 8 dimensions of ranks 1 + i % 3 and scale s (stream (seed, 9)). */
static od_spectra_hset *random_set(size_t n, size_t d, double s, uint64_t seed)
{
    double H[8 * 64];
    for (size_t i = 0; i < n; i++) rand_psd(d, 1 + i % 3, s, seed, (uint32_t)i, H + i * d * d);
    return dense_set(n, d, H);
}

/* ---- exhaustive enumeration ---------------------------------------------------------------------- */

/* E‖x_t‖² by enumerating every batch sequence of t steps: batches listed with probabilities. */
typedef struct {
    size_t n, d, nb;
    int members[64][8];   /* indices of batch b (−1 terminated) */
    int size[64];
    double prob[64];
    double denom;         /* B: the sum is divided by B */
} batches;

static void list_batches(od_spectra_sampling s, size_t n, size_t B, batches *L)
{
    memset(L, 0, sizeof *L);
    L->n = n;
    L->denom = (double)B;
    if (s == OD_SPECTRA_SAMPLE_REPLACEMENT) {   /* ordered tuples of B indices: n^B */
        size_t total = 1;
        for (size_t j = 0; j < B; j++) total *= n;
        for (size_t c = 0; c < total; c++) {
            size_t v = c;
            for (size_t j = 0; j < B; j++, v /= n) L->members[L->nb][j] = (int)(v % n);
            L->size[L->nb] = (int)B;
            L->prob[L->nb++] = 1.0 / (double)total;
        }
        return;
    }
    const double p = (double)B / (double)n;
    size_t cnt = 0;
    for (unsigned m = 0; m < (1u << n); m++) {   /* subsets */
        int k = __builtin_popcount(m);
        if (s == OD_SPECTRA_SAMPLE_WITHOUT && (size_t)k != B) continue;
        int j = 0;
        for (size_t i = 0; i < n; i++)
            if (m >> i & 1u) L->members[L->nb][j++] = (int)i;
        L->size[L->nb] = k;
        L->prob[L->nb++] = s == OD_SPECTRA_SAMPLE_BERNOULLI ? pow(p, k) * pow(1 - p, (double)n - k) : 1.0;
        cnt++;
    }
    if (s == OD_SPECTRA_SAMPLE_WITHOUT)
        for (size_t b = 0; b < L->nb; b++) L->prob[b] = 1.0 / (double)cnt;
}

static double enumerate(const batches *L, const double *H, size_t d, const double *x, int t, double eta)
{
    if (t == 0) return od_dot(d, x, x);
    double e = 0, y[8];
    for (size_t b = 0; b < L->nb; b++) {
        od_copy(d, x, y);
        for (int j = 0; j < L->size[b]; j++)
            od_gemv(0, d, d, -eta / L->denom, H + (size_t)L->members[b][j] * d * d, x, 1.0, y);
        e += L->prob[b] * enumerate(L, H, d, y, t - 1, eta);
    }
    return e;
}

static void test_exhaustive(void)
{
    const size_t n = 3, d = 2, B = 2;
    double H[3 * 4];
    rand_psd(d, 2, 0.9, 11, 0, H);
    rand_psd(d, 1, 1.3, 11, 1, H + 4);   /* rank one */
    rand_psd(d, 2, 0.7, 11, 2, H + 8);
    const double x0[2] = {0.7316, -1.2209}, eta = 0.4123;
    od_spectra_hset *h = dense_set(n, d, H);
    CU_ASSERT_EQUAL(h->r, 2);
    for (int s = 0; s < 3; s++) {
        od_spectra_stab *st = NULL;
        CU_ASSERT_EQUAL_FATAL(od_spectra_stab_alloc(h, (od_spectra_sampling)s, B, &st), OD_OK);
        batches L;
        list_batches((od_spectra_sampling)s, n, B, &L);
        /* X̃_0 = U x0 x0ᵀ Uᵀ; E‖x_t‖² = tr T^t(X̃_0) (x0 ∈ W = R²) */
        double u[2], X[4], Y[4], Tm[16], v[4], w[4];
        od_gemv(0, 2, 2, 1.0, h->U, x0, 0.0, u);
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++) X[a * 2 + b] = v[a * 2 + b] = u[a] * u[b];
        CU_ASSERT_EQUAL(od_spectra_stab_dense(st, eta, Tm), OD_OK);
        for (int t = 1; t <= 3; t++) {
            od_spectra_stab_apply(st, eta, X, Y);
            memcpy(X, Y, sizeof X);
            od_gemv(0, 4, 4, 1.0, Tm, v, 0.0, w);
            memcpy(v, w, sizeof v);
            const double ex = enumerate(&L, H, d, x0, t, eta);
            /* each of t steps rounds O(d² n B) products: 1e-13 relative is ~500 ε */
            OD_ASSERT_REL(X[0] + X[3], ex, 1e-13);
            OD_ASSERT_REL(v[0] + v[3], ex, 1e-13);
        }
        od_spectra_stab_free(st);
    }
    od_spectra_hset_free(h);
}

/* ---- closed forms ------------------------------------------------------------------------------- */

static double threshold(od_spectra_stab *st, size_t *ncross)
{
    od_spectra_threshold_result tr;
    od_spectra_threshold_params tp = od_spectra_threshold_default_params();
    CU_ASSERT_EQUAL(od_spectra_stab_threshold(st, &tp, &tr), OD_OK);
    if (ncross) *ncross = tr.n_cross;
    return tr.eta;
}

/* d = 1: ρ(η) = 1 − 2ηh̄ + η²[(1+β−α)h̄² + α m₂], η* = 2h̄/((1+β−α)h̄² + α m₂), and the
 * Wu–Ma–E one-step condition is exact. */
static void test_one_dimension(void)
{
    const double h[5] = {0.31, 2.7, 1.05, 0.0, 4.4};
    double hb = 0, m2 = 0;
    for (int i = 0; i < 5; i++) {
        hb += h[i] / 5;
        m2 += h[i] * h[i] / 5;
    }
    od_spectra_hset *hs = dense_set(5, 1, h);
    CU_ASSERT_EQUAL(hs->r, 1);
    const size_t Bs[3] = {1, 2, 5};
    for (int s = 0; s < 3; s++)
        for (int j = 0; j < 3; j++) {
            od_spectra_stab *st;
            CU_ASSERT_EQUAL_FATAL(od_spectra_stab_alloc(hs, (od_spectra_sampling)s, Bs[j], &st), OD_OK);
            double a, b;
            od_spectra_stab_coef(st, &a, &b);
            const double want = 2 * hb / ((1 + b - a) * hb * hb + a * m2);
            size_t nc;
            const double got = threshold(st, &nc);
            CU_ASSERT_EQUAL(nc, 1);
            OD_ASSERT_REL(got, want, 1e-9);   /* the bisection tolerance (1e-10) plus ρ's rounding */
            od_spectra_stab_summary q;
            CU_ASSERT_EQUAL(od_spectra_stab_summarize(st, &q), OD_OK);
            OD_ASSERT_REL(q.wme_lr, want, 1e-12);   /* one-step condition exact in 1-D */
            OD_ASSERT_REL(q.sharpness, hb, 1e-14);
            od_spectra_rho_result rr;
            CU_ASSERT_EQUAL(od_spectra_stab_rho(st, 0.37, NULL, &rr), OD_OK);
            OD_ASSERT_REL(rr.rho, 1 - 0.74 * hb + 0.37 * 0.37 * ((1 + b - a) * hb * hb + a * m2), 1e-13);
            od_spectra_stab_free(st);
        }
    od_spectra_hset_free(hs);
}

/* H_i = a e_i e_iᵀ, n = d: η* = 2/(a[(1+β−α)/n + α]); 2B/a for Bernoulli and without replacement,
 * where Dexter et al.'s condition (σ = 1) is exact; tr H ≤ 2/η is exact for B = 1. */
static void test_orthogonal_rank_one(void)
{
    const size_t n = 6;
    const double a = 3.17;
    double H[6 * 36] = {0};
    for (size_t i = 0; i < n; i++) H[i * 36 + i * 6 + i] = a;
    od_spectra_hset *h = dense_set(n, n, H);
    for (int s = 0; s < 3; s++)
        for (size_t B = 1; B <= 4; B += 3) {
            od_spectra_stab *st;
            CU_ASSERT_EQUAL_FATAL(od_spectra_stab_alloc(h, (od_spectra_sampling)s, B, &st), OD_OK);
            double al, be;
            od_spectra_stab_coef(st, &al, &be);
            const double want = 2 / (a * ((1 + be - al) / (double)n + al));
            OD_ASSERT_REL(threshold(st, NULL), want, 1e-9);
            od_spectra_stab_summary q;
            od_spectra_stab_summarize(st, &q);
            OD_ASSERT_REL(q.coherence, 1.0, 1e-14);
            OD_ASSERT_REL(q.trace, a, 1e-14);
            if (s != OD_SPECTRA_SAMPLE_REPLACEMENT) {
                OD_ASSERT_REL(want, 2.0 * (double)B / a, 1e-14);
                OD_ASSERT_REL(q.dexter_lr, want, 1e-13);
            }
            if (s == OD_SPECTRA_SAMPLE_REPLACEMENT && B == 1) OD_ASSERT_REL(want, q.trace_lr, 1e-14);
            od_spectra_stab_free(st);
        }
    od_spectra_hset_free(h);
}

/* GD limit: B = n without replacement gives α = β = 0, T(X) = (I − ηH)X(I − ηH), η* = 2/λ_max. */
static void test_gd_limit(void)
{
    const size_t n = 5;
    od_spectra_hset *h = random_set(n, 4, 0.8, 21);
    od_spectra_stab *st;
    CU_ASSERT_EQUAL_FATAL(od_spectra_stab_alloc(h, OD_SPECTRA_SAMPLE_WITHOUT, n, &st), OD_OK);
    od_spectra_stab_summary q;
    od_spectra_stab_summarize(st, &q);
    size_t nc;
    OD_ASSERT_REL(threshold(st, &nc), 2 / q.sharpness, 1e-9);
    CU_ASSERT_EQUAL(nc, 1);
    OD_ASSERT_REL(q.wme_lr, 2 / q.sharpness, 1e-12);   /* Var Ĥ = 0: the one-step bound is exact */
    od_spectra_stab_free(st);
    od_spectra_hset_free(h);
}

/* §6.3: n = 100, H_i = (2n/σ) e_{k(i)} e_{k(i)}ᵀ; λ_1(H) = 2, σ exact, and T's diagonal factors. */
static void test_coherence_construction(void)
{
    const size_t n = 100;
    const double eta = 0.5;
    const size_t sig[3] = {1, 7, 30}, Bs[3] = {1, 13, 49};
    for (int a = 0; a < 3; a++) {
        const size_t sg = sig[a], d = n - sg + 1;
        double *H = calloc(n * d * d, sizeof *H);
        for (size_t i = 0; i < n; i++) {
            const size_t k = i < sg ? 0 : i - sg + 1;
            H[i * d * d + k * d + k] = 2.0 * (double)n / (double)sg;
        }
        od_spectra_hset *h = dense_set(n, d, H);
        CU_ASSERT_EQUAL(h->r, d);
        for (int b = 0; b < 3; b++) {
            const size_t B = Bs[b];
            od_spectra_stab *st;
            CU_ASSERT_EQUAL_FATAL(od_spectra_stab_alloc(h, OD_SPECTRA_SAMPLE_WITHOUT, B, &st), OD_OK);
            od_spectra_stab_summary q;
            CU_ASSERT_EQUAL(od_spectra_stab_summarize(st, &q), OD_OK);
            OD_ASSERT_REL(q.sharpness, 2.0, 1e-14);
            OD_ASSERT_REL(q.coherence, (double)sg, 1e-13);
            /* T maps E_kk to f_k E_kk; the basis U is the coordinate basis up to order and sign */
            double *X = calloc(d * d, sizeof *X), *Y = calloc(d * d, sizeof *Y);
            const double nn = (double)n, s = (double)sg, bb = (double)B;
            const double fc = pow(1 - 2 * eta, 2) + 4 * eta * eta * (nn - s) * (nn - bb) / (s * bb * (nn - 1));
            const double fu = 1 - 4 * eta / s + 4 * nn * eta * eta / (s * s * bb);
            for (size_t j = 0; j < d; j++) {   /* u_j = ±e_{k_j}: the reduced E_jj is E_kk */
                od_zero(d * d, X);
                X[j * d + j] = 1;
                od_spectra_stab_apply(st, eta, X, Y);
                size_t kj = 0;
                for (size_t c = 0; c < d; c++)
                    if (fabs(h->U[j * d + c]) > 0.5) kj = c;
                OD_ASSERT_REL(Y[j * d + j], kj == 0 ? fc : fu, 1e-13);
                CU_ASSERT_TRUE(ts_maxabs(d * d, Y) <= fabs(Y[j * d + j]) * (1 + 1e-15));
            }
            /* the reconstructed Dexter condition fires only where some factor exceeds 1 */
            if (eta > q.dexter_lr) CU_ASSERT_TRUE(fmax(fc, fu) > 1);
            OD_ASSERT_REL(q.dexter_lr, 2.0 * bb * s / (nn * 2.0), 1e-13);
            /* so ρ = max(f_c, f_u): the power iteration and the threshold agree */
            od_spectra_rho_result rr;
            CU_ASSERT_EQUAL(od_spectra_stab_rho(st, eta, NULL, &rr), OD_OK);
            OD_ASSERT_REL(rr.rho, fmax(fc, d > 1 ? fu : fc), 1e-10);
            free(X);
            free(Y);
            od_spectra_stab_free(st);
        }
        od_spectra_hset_free(h);
        free(H);
    }
}

/* ---- positivity, bounds, dense vs matrix-free vs GSL ------------------------------------------- */

static void test_positivity_and_bounds(void)
{
    for (uint32_t inst = 0; inst < 24; inst++) {
        const size_t d = 2 + inst % 4, n = 3 + inst % 5, B = 1 + inst % n;
        double H[8 * 36];
        for (size_t i = 0; i < n; i++) rand_psd(d, 1 + (i + inst) % d, 0.5 + 0.1 * (double)i, 100 + inst, (uint32_t)i, H + i * d * d);
        od_spectra_hset *h = dense_set(n, d, H);
        for (int s = 0; s < 3; s++) {
            od_spectra_stab *st;
            CU_ASSERT_EQUAL_FATAL(od_spectra_stab_alloc(h, (od_spectra_sampling)s, B, &st), OD_OK);
            od_spectra_stab_summary q;
            od_spectra_stab_summarize(st, &q);
            const double eta_star = threshold(st, NULL);
            /* η_WME <= η* <= 2/λ_max (the one-step matrix bounds T*(I); Var Ĥ ⪰ 0) */
            CU_ASSERT_TRUE(q.wme_lr <= eta_star * (1 + 1e-9));
            CU_ASSERT_TRUE(eta_star <= q.gd_threshold * (1 + 1e-9));
            const size_t r = h->r;
            double X[36], Y[36], ev[6], lam[6];
            /* positivity: T_η(X) ⪰ 0 for a random PSD X, at η on both sides of η* */
            rand_psd(r, 1 + inst % r, 1.0, 500 + inst, 0, X);
            for (double f = 0.5; f < 2.6; f += 1.0) {
                od_spectra_stab_apply(st, f * eta_star, X, Y);
                od_symm_eigen(r, Y, ev, NULL);
                CU_ASSERT_TRUE(ev[r - 1] >= -1e-13 * ev[0]);
                /* ρ >= max_k (1 − ηλ_k)² */
                od_spectra_rho_result rr;
                od_spectra_stab_rho(st, f * eta_star, NULL, &rr);
                od_symm_eigen(r, h->H, lam, NULL);
                const double lb = fmax(pow(1 - f * eta_star * lam[0], 2), pow(1 - f * eta_star * lam[r - 1], 2));
                CU_ASSERT_TRUE(rr.rho >= lb * (1 - 1e-10));
                /* the Perron estimate is PSD */
                od_symm_eigen(r, od_spectra_stab_perron(st), ev, NULL);
                CU_ASSERT_TRUE(ev[r - 1] >= -1e-12);
            }
            od_spectra_stab_free(st);
        }
        od_spectra_hset_free(h);
    }
}

/* The sheet's reconstruction of Dexter et al.'s sufficient condition, η λ_1 > 2Bσ/n, is not a
 * sufficient condition for mean-square instability in general: a 2-D, 3-sample counterexample
 * (random PSD samples of ranks 1, 2, 1; B = 1 without replacement) where it fires while ρ(T) < 1.
 * (On the coherence construction it is exact for the unique coordinates: test above.) */
static void test_dexter_reconstruction_counterexample(void)
{
    const size_t n = 3, d = 2;
    double H[12];
    for (size_t i = 0; i < n; i++) rand_psd(d, 1 + (i + 0) % d, 0.5 + 0.1 * (double)i, 100, (uint32_t)i, H + i * 4);
    od_spectra_hset *h = dense_set(n, d, H);
    od_spectra_stab *st;
    od_spectra_stab_alloc(h, OD_SPECTRA_SAMPLE_WITHOUT, 1, &st);
    od_spectra_stab_summary q;
    od_spectra_stab_summarize(st, &q);
    od_spectra_rho_result rr;
    od_spectra_stab_rho(st, q.dexter_lr * (1 + 1e-6), NULL, &rr);
    CU_ASSERT_TRUE(rr.converged == 1 && rr.rho < 0.9);   /* fires, yet contracting in mean square */
    CU_ASSERT_TRUE(threshold(st, NULL) > 1.1 * q.dexter_lr);
    od_spectra_stab_free(st);
    od_spectra_hset_free(h);
}

/* ρ from the power iteration (matrix-free and dense) against all eigenvalues of the dense T by
 * GSL's nonsymmetric eigensolver (max modulus). */
static void test_dense_vs_free_vs_gsl(void)
{
    od_spectra_hset *h = random_set(4, 3, 0.9, 31);
    for (int s = 0; s < 3; s++) {
        od_spectra_stab *st;
        CU_ASSERT_EQUAL_FATAL(od_spectra_stab_alloc(h, (od_spectra_sampling)s, 2, &st), OD_OK);
        for (double eta = 0.05; eta < 1.5; eta += 0.29) {
            const size_t r2 = h->r * h->r;
            double T[81];
            od_spectra_stab_dense(st, eta, T);
            gsl_matrix_view m = gsl_matrix_view_array(T, r2, r2);
            gsl_vector_complex *ev = gsl_vector_complex_alloc(r2);
            gsl_eigen_nonsymm_workspace *w = gsl_eigen_nonsymm_alloc(r2);
            CU_ASSERT_EQUAL(gsl_eigen_nonsymm(&m.matrix, ev, w), 0);
            double rho = 0;
            for (size_t k = 0; k < r2; k++) rho = fmax(rho, gsl_complex_abs(gsl_vector_complex_get(ev, k)));
            gsl_eigen_nonsymm_free(w);
            gsl_vector_complex_free(ev);
            od_spectra_rho_params rp = od_spectra_rho_default_params();
            od_spectra_rho_result a, b;
            CU_ASSERT_EQUAL(od_spectra_stab_rho(st, eta, &rp, &a), OD_OK);
            rp.dense = 1;
            rp.warm = 0;
            CU_ASSERT_EQUAL(od_spectra_stab_rho(st, eta, &rp, &b), OD_OK);
            CU_ASSERT_TRUE(a.converged == 1 && b.converged == 1);
            OD_ASSERT_REL(a.rho, rho, 1e-9);
            OD_ASSERT_REL(b.rho, rho, 1e-9);
            CU_ASSERT_TRUE(a.lo <= rho * (1 + 1e-10) && rho <= a.hi * (1 + 1e-10));
        }
        od_spectra_stab_free(st);
    }
    od_spectra_hset_free(h);
}

/* The Lanczos path: the dense T is symmetric (T is self-adjoint for tr(XᵀY)), so ρ = λ_max(T) from
 * GSL's symmetric eigensolver; Lanczos (matrix-free and on the dense T) reaches it to the residual
 * tolerance, inside the Collatz–Wielandt bounds at its Ritz vector.  At small η, where ρ and the next
 * eigenvalue of T are close, it converges where 2000 power iterations do not.  d = 1: T is a number. */
static void test_rho_lanczos(void)
{
    od_spectra_hset *h = random_set(6, 4, 0.7, 47);
    const size_t r2 = h->r * h->r;
    double T[256], ev[16];
    for (int s = 0; s < 3; s++) {
        od_spectra_stab *st;
        CU_ASSERT_EQUAL_FATAL(od_spectra_stab_alloc(h, (od_spectra_sampling)s, 3, &st), OD_OK);
        for (double eta = 0.0013; eta < 1.6; eta *= 3.7) {
            CU_ASSERT_EQUAL(od_spectra_stab_dense(st, eta, T), OD_OK);
            double asym = 0, big = 0;
            for (size_t p = 0; p < r2; p++)
                for (size_t q = 0; q < r2; q++) {
                    asym = fmax(asym, fabs(T[p * r2 + q] - T[q * r2 + p]));
                    big = fmax(big, fabs(T[p * r2 + q]));
                }
            CU_ASSERT_TRUE(asym <= 8 * DBL_EPSILON * big);
            CU_ASSERT_EQUAL(od_symm_eigen(r2, T, ev, NULL), OD_OK);
            od_spectra_rho_params rp = od_spectra_rho_default_params();
            rp.lanczos = 1;
            for (int dense = 0; dense <= 1; dense++) {
                rp.dense = dense;
                od_spectra_rho_result a;
                CU_ASSERT_EQUAL(od_spectra_stab_rho(st, eta, &rp, &a), OD_OK);
                CU_ASSERT_EQUAL(a.converged, 1);
                OD_ASSERT_REL(a.rho, ev[0], 1e-10);   /* residual 1e-12 ρ; the dense solver ~r² ε */
                CU_ASSERT_TRUE(a.lo <= ev[0] * (1 + 1e-10) && ev[0] <= a.hi * (1 + 1e-10));
            }
        }
        /* small η: power iteration stalls, Lanczos does not */
        const double eta = 2e-3;
        od_spectra_rho_params rp = od_spectra_rho_default_params();
        rp.max_iter = 2000;
        rp.warm = 0;
        od_spectra_rho_result pw, lz;
        CU_ASSERT_EQUAL(od_spectra_stab_rho(st, eta, &rp, &pw), OD_OK);
        rp.lanczos = 1;
        CU_ASSERT_EQUAL(od_spectra_stab_rho(st, eta, &rp, &lz), OD_OK);
        CU_ASSERT_EQUAL(od_spectra_stab_dense(st, eta, T), OD_OK);
        CU_ASSERT_EQUAL(od_symm_eigen(r2, T, ev, NULL), OD_OK);
        CU_ASSERT_EQUAL(pw.converged, 0);
        CU_ASSERT_EQUAL(lz.converged, 1);
        CU_ASSERT_TRUE(lz.applications < 2000);
        OD_ASSERT_REL(lz.rho, ev[0], 1e-10);
        od_spectra_stab_free(st);
    }
    od_spectra_hset_free(h);
    const double h1[3] = {0.5, 1.7, 2.9};
    od_spectra_hset *one = dense_set(3, 1, h1);
    od_spectra_stab *st;
    CU_ASSERT_EQUAL_FATAL(od_spectra_stab_alloc(one, OD_SPECTRA_SAMPLE_REPLACEMENT, 2, &st), OD_OK);
    od_spectra_rho_params rp = od_spectra_rho_default_params();
    rp.lanczos = 1;
    od_spectra_rho_result a;
    CU_ASSERT_EQUAL(od_spectra_stab_rho(st, 0.61, &rp, &a), OD_OK);
    const double hb = 5.1 / 3, m2 = (0.25 + 2.89 + 8.41) / 3;   /* 1 − 2ηh̄ + η²[(1 − α)h̄² + α m₂], α = 1/2 */
    OD_ASSERT_REL(a.rho, 1 - 1.22 * hb + 0.61 * 0.61 * (0.5 * hb * hb + 0.5 * m2), 1e-14);
    od_spectra_stab_free(st);
    od_spectra_hset_free(one);
}

/* More dimensions than samples (r = 12 > n = 2, ranks 6): the non-uniformity s = λ_max(Σ)^{1/2},
 * Σ = (1/n) Σ H_i² − H², against a direct computation (its eigenvalues are r numbers, not n). */
static void test_summary_r_above_n(void)
{
    enum { D = 12 };
    double H[2 * D * D], Hm[D * D], M[D * D], ev[D];
    rand_psd(D, 6, 0.8, 61, 0, H);
    rand_psd(D, 6, 1.1, 61, 1, H + D * D);
    od_spectra_hset *h = dense_set(2, D, H);
    CU_ASSERT_EQUAL(h->r, D);
    od_spectra_stab *st;
    CU_ASSERT_EQUAL_FATAL(od_spectra_stab_alloc(h, OD_SPECTRA_SAMPLE_REPLACEMENT, 1, &st), OD_OK);
    od_spectra_stab_summary q;
    CU_ASSERT_EQUAL(od_spectra_stab_summarize(st, &q), OD_OK);
    for (size_t a = 0; a < D * D; a++) Hm[a] = 0.5 * (H[a] + H[D * D + a]);
    for (size_t a = 0; a < D; a++)
        for (size_t b = 0; b < D; b++) {
            double v = 0;
            for (size_t c = 0; c < D; c++)
                v += 0.5 * (H[a * D + c] * H[c * D + b] + H[D * D + a * D + c] * H[D * D + c * D + b]) - Hm[a * D + c] * Hm[c * D + b];
            M[a * D + b] = v;
        }
    CU_ASSERT_EQUAL(od_symm_eigen(D, M, ev, NULL), OD_OK);
    OD_ASSERT_REL(q.nonuniformity, sqrt(ev[0]), 1e-11);
    od_spectra_stab_free(st);
    od_spectra_hset_free(h);
}

/* Over-parameterised minimum: n = 4 rank-one samples in d = 11.  W = span{g_i} (r = 4); ρ on W
 * matches the full d² operator's spectrum minus the neutral flat part (ρ_full = max(ρ_W, 1)). */
static void test_flat_directions(void)
{
    const size_t n = 4, d = 11;
    double *H = calloc(n * d * d, sizeof *H);
    for (size_t i = 0; i < n; i++) rand_psd(d, 1, 0.6, 41, (uint32_t)i, H + i * d * d);
    od_spectra_hset *h = dense_set(n, d, H);
    CU_ASSERT_EQUAL(h->r, 4);
    CU_ASSERT_EQUAL(h->K, 4);
    CU_ASSERT_TRUE(h->psd);
    od_spectra_stab *st;
    od_spectra_stab_alloc(h, OD_SPECTRA_SAMPLE_REPLACEMENT, 2, &st);
    const double eta = 0.6 * threshold(st, NULL);
    od_spectra_rho_result rr;
    od_spectra_stab_rho(st, eta, NULL, &rr);
    CU_ASSERT_TRUE(rr.rho < 1);
    /* the same T in the full space on a matrix supported on W equals Uᵀ T_W(U X Uᵀ) U */
    double *X = calloc(d * d, sizeof *X), *Xr = calloc(16, sizeof *Xr), *Yr = calloc(16, sizeof *Yr),
           *Hb = calloc(d * d, sizeof *Hb), *Y = calloc(d * d, sizeof *Y), *t1 = calloc(d * d, sizeof *t1);
    double xw[11] = {0}, al, be;
    od_spectra_stab_coef(st, &al, &be);
    for (size_t j = 0; j < 4; j++) od_axpy(d, 0.3 + 0.1 * (double)j, h->U + j * d, xw);
    for (size_t a = 0; a < d; a++)
        for (size_t b = 0; b < d; b++) X[a * d + b] = xw[a] * xw[b];
    for (size_t i = 0; i < n; i++) od_axpy(d * d, 1.0 / (double)n, H + i * d * d, Hb);
    /* full: Y = X − η(HX + XH) + η²[(1+β−α) HXH + (α/n) Σ H_i X H_i] */
    od_gemm(0, 0, d, d, d, 1.0, Hb, X, 0.0, t1);
    for (size_t a = 0; a < d * d; a++) Y[a] = X[a] - eta * (t1[a] + t1[(a % d) * d + a / d]);
    od_gemm(0, 0, d, d, d, eta * eta * (1 + be - al), t1, Hb, 1.0, Y);
    for (size_t i = 0; i < n; i++) {
        od_gemm(0, 0, d, d, d, 1.0, H + i * d * d, X, 0.0, t1);
        od_gemm(0, 0, d, d, d, eta * eta * al / (double)n, t1, H + i * d * d, 1.0, Y);
    }
    double u[4];
    od_gemv(0, 4, d, 1.0, h->U, xw, 0.0, u);
    for (size_t a = 0; a < 4; a++)
        for (size_t b = 0; b < 4; b++) Xr[a * 4 + b] = u[a] * u[b];
    od_spectra_stab_apply(st, eta, Xr, Yr);
    double maxdiff = 0;   /* back to R^d: Uᵀ Yr U */
    for (size_t a = 0; a < d; a++)
        for (size_t b = 0; b < d; b++) {
            double v = 0;
            for (size_t p = 0; p < 4; p++)
                for (size_t q = 0; q < 4; q++) v += h->U[p * d + a] * Yr[p * 4 + q] * h->U[q * d + b];
            maxdiff = fmax(maxdiff, fabs(v - Y[a * d + b]));
        }
    CU_ASSERT_TRUE(maxdiff <= 1e-13 * ts_maxabs(d * d, Y));
    free(X), free(Xr), free(Yr), free(Hb), free(Y), free(t1), free(H);
    od_spectra_stab_free(st);
    od_spectra_hset_free(h);
}

/* ---- per-sample sources -------------------------------------------------------------------------- */

typedef struct {
    size_t d;
    const double *H;
} dense_ctx;

static int dense_action(size_t i, size_t b, const double *V, double *Y, void *c)
{
    const dense_ctx *dc = c;
    for (size_t j = 0; j < b; j++) od_gemv(0, dc->d, dc->d, 1.0, dc->H + i * dc->d * dc->d, V + j * dc->d, 0.0, Y + j * dc->d);
    return OD_OK;
}

static void test_sources(void)
{
    const size_t n = 5, d = 9;
    double *H = calloc(n * d * d, sizeof *H);
    for (size_t i = 0; i < n; i++) rand_psd(d, 1 + 2 * (i % 3), 0.7, 51, (uint32_t)i, H + i * d * d);
    od_spectra_hset *a = dense_set(n, d, H), *b = NULL;
    dense_ctx dc = {d, H};
    CU_ASSERT_EQUAL_FATAL(od_spectra_hset_actions(n, d, dense_action, &dc, NULL, "test", &b), OD_OK);
    CU_ASSERT_EQUAL(a->r, b->r);
    CU_ASSERT_EQUAL(a->K, b->K);
    for (size_t i = 0; i < n; i++) CU_ASSERT_EQUAL(b->k[i], 1 + 2 * (i % 3));
    CU_ASSERT_TRUE(b->actions > 0 && b->actions <= n * (2 * 5 + 16));
    od_spectra_stab *sa, *sb;
    od_spectra_stab_alloc(a, OD_SPECTRA_SAMPLE_BERNOULLI, 2, &sa);
    od_spectra_stab_alloc(b, OD_SPECTRA_SAMPLE_BERNOULLI, 2, &sb);
    od_spectra_stab_summary qa, qb;
    od_spectra_stab_summarize(sa, &qa);
    od_spectra_stab_summarize(sb, &qb);
    OD_ASSERT_REL(qa.sharpness, qb.sharpness, 1e-12);
    OD_ASSERT_REL(qa.coherence, qb.coherence, 1e-12);
    OD_ASSERT_REL(qa.nonuniformity, qb.nonuniformity, 1e-10);
    OD_ASSERT_REL(threshold(sa, NULL), threshold(sb, NULL), 1e-9);
    /* λ_max(H_i) per sample against the dense eigensolver */
    double ev[9];
    for (size_t i = 0; i < n; i++) {
        od_symm_eigen(d, H + i * d * d, ev, NULL);
        OD_ASSERT_REL(a->lam1[i], ev[0], 1e-13);
        OD_ASSERT_REL(b->lam1[i], ev[0], 1e-11);
    }
    /* the reduced per-sample matrices reproduce H_i: Uᵀ H̃_i U = H_i */
    double Hi[81];
    od_spectra_hset_sample(b, 2, Hi);
    double md = 0;
    for (size_t p = 0; p < d; p++)
        for (size_t q = 0; q < d; q++) {
            double v = 0;
            for (size_t s = 0; s < b->r; s++)
                for (size_t t = 0; t < b->r; t++) v += b->U[s * d + p] * Hi[s * b->r + t] * b->U[t * d + q];
            md = fmax(md, fabs(v - H[2 * d * d + p * d + q]));
        }
    CU_ASSERT_TRUE(md <= 1e-12 * ts_maxabs(d * d, H + 2 * d * d));
    /* errors */
    od_spectra_hset *z = NULL;
    H[3] += 1e-3;   /* H_1 asymmetric */
    od_test_errors_begin();
    CU_ASSERT_EQUAL(od_spectra_hset_dense(n, d, H, NULL, &z), OD_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "H_1 is not symmetric"));
    H[3] = NAN;
    CU_ASSERT_EQUAL(od_spectra_hset_dense(n, d, H, NULL, &z), OD_EINVAL);
    CU_ASSERT_EQUAL(od_spectra_hset_dense(0, d, H, NULL, &z), OD_EINVAL);
    od_spectra_stab *sx;
    CU_ASSERT_EQUAL(od_spectra_stab_alloc(a, OD_SPECTRA_SAMPLE_WITHOUT, n + 1, &sx), OD_ERANGE);
    CU_ASSERT_EQUAL(od_spectra_stab_alloc(a, OD_SPECTRA_SAMPLE_BERNOULLI, n + 1, &sx), OD_ERANGE);
    CU_ASSERT_EQUAL(od_spectra_stab_alloc(a, OD_SPECTRA_SAMPLE_REPLACEMENT, 0, &sx), OD_ERANGE);
    od_spectra_sampling sm;
    CU_ASSERT_EQUAL(od_spectra_sampling_parse("shuffle", &sm), OD_EPARSE);
    CU_ASSERT_TRUE(od_test_errors_end() >= 7);
    CU_ASSERT_EQUAL(od_spectra_sampling_parse("without", &sm), OD_OK);
    CU_ASSERT_EQUAL(sm, OD_SPECTRA_SAMPLE_WITHOUT);
    CU_ASSERT_STRING_EQUAL(od_spectra_sampling_name(OD_SPECTRA_SAMPLE_BERNOULLI), "bernoulli");
    od_spectra_stab_free(sa);
    od_spectra_stab_free(sb);
    od_spectra_hset_free(a);
    od_spectra_hset_free(b);
    free(H);
}

/* A finite-data problem: linear regression's per-sample Hessians are x_i x_iᵀ, whatever w. */
static void test_problem_source(void)
{
    const size_t n = 7, d = 12;
    double *X = calloc(n * d, sizeof *X), y[7] = {0};
    ts_gaussian(n, d, 61, X);
    od_problem *p = NULL;
    CU_ASSERT_EQUAL_FATAL(od_problem_linreg_data(n, d, X, y, &p), OD_OK);
    od_spectra_hset *h = NULL;
    CU_ASSERT_EQUAL_FATAL(od_spectra_hset_problem(p, NULL, NULL, &h), OD_OK);
    CU_ASSERT_EQUAL(h->r, n);
    CU_ASSERT_EQUAL(h->K, n);
    for (size_t i = 0; i < n; i++) OD_ASSERT_REL(h->lam1[i], od_dot(d, X + i * d, X + i * d), 1e-12);
    od_spectra_stab *st;
    od_spectra_stab_alloc(h, OD_SPECTRA_SAMPLE_REPLACEMENT, 1, &st);
    od_spectra_stab_summary q;
    od_spectra_stab_summarize(st, &q);
    double tr = 0;
    for (size_t i = 0; i < n * d; i++) tr += X[i] * X[i] / (double)n;
    OD_ASSERT_REL(q.trace, tr, 1e-12);
    od_spectra_stab_free(st);
    od_spectra_hset_free(h);
    od_problem_free(p);
    free(X);
}

void od_test_suite_spectra_stability(void)
{
    static const od_test_case cases[] = {
        {"exhaustive enumeration = T^t (three schemes, matrix-free and dense)", test_exhaustive},
        {"d = 1: closed-form threshold, ρ, exact one-step condition", test_one_dimension},
        {"orthogonal rank-one samples: closed forms, σ = 1, Dexter exact", test_orthogonal_rank_one},
        {"GD limit B = n without replacement: η* = 2/λ_max", test_gd_limit},
        {"coherence construction (§6.3): σ, λ_1 = 2, per-coordinate factors", test_coherence_construction},
        {"positivity, ρ lower bound, η_WME <= η* <= 2/λ", test_positivity_and_bounds},
        {"the reconstructed Dexter condition: a counterexample in 2-D", test_dexter_reconstruction_counterexample},
        {"ρ: matrix-free = dense = GSL nonsymmetric eigensolver", test_dense_vs_free_vs_gsl},
        {"ρ by Lanczos: T symmetric, = λ_max(T), inside the bounds, where the power iteration stalls", test_rho_lanczos},
        {"summary with more dimensions than samples: non-uniformity", test_summary_r_above_n},
        {"over-parameterised minimum: reduction to W = range(H)", test_flat_directions},
        {"per-sample sources: dense = actions (range finder); errors", test_sources},
        {"problem source: linear regression x_i x_iᵀ", test_problem_source},
        {NULL, NULL}};
    od_test_add("spectra stability", cases);
}
