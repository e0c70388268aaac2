/* optdyn linreg — the exact second-moment engine (theory sheet §2; the recursion is stated at the top
 * of optdyn_linreg.h).
 *
 * State per mode k: the second moments of z_k (P = C11 for m = 1; C11, C12, C22 for m = 2) and, for
 * an averaged output, the running cross moments with the output:
 *   EMA:            X = E[e z] (m-vector), R = E[e^2];   X' = A (a X + (1-a) C c),
 *                   R' = a^2 R + 2a(1-a) c.X + (1-a)^2 c^T C c
 *   uniform / tail: Y = sum_{s<t} E[z_t c^T z_s], Acc = sum_{s,s'<t} E[c^T z_s c^T z_s'];
 *                   Y' = A (Y + C c), Acc' = Acc + c^T C c + 2 c.Y, output moment Acc / n^2.
 * Right-hand sides use the old values.  The noise of step t is independent of everything before it,
 * which is why no noise term enters the cross moments.
 *
 * Each step is one pass over the modes that updates the state and accumulates, in the fixed 8-stripe
 * order of od_linreg_sum8, the next step's S = sum lambda U and the two risks.  SGD's last iterate
 * (the common and benchmarked case) has two loops in blocks of 8 modes that the compiler vectorizes
 * and that give the same bits: one reads its per-mode coefficient a_k from a cache (32 bytes and 3
 * multiplies per mode-step), the other recomputes a_k from lambda_k in the pass (24 bytes, 7
 * multiplies).  The pass is bound by L2 bandwidth when the multiplies are 8 wide (AVX-512) and by the
 * multiplies otherwise, so the recomputing loop is the default where the CPU has AVX-512 and the
 * cached one elsewhere (od_linreg_exact_set_inline chooses; tests check both against a scalar
 * reference).  Either differs from the generic loops only in the association of the same terms (a
 * few roundings per step). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linreg/linreg_internal.h"

struct od_linreg_exact {
    size_t d;
    unsigned m;
    double *lambda, *omega;
    double sigma2, kappa;
    od_linreg_algo a;
    uint64_t t, diverged;
    double S, excess_out, excess_it;
    double *C11, *C12, *C22;     /* C12, C22: m = 2 only */
    double *Z1, *Z2, *ZR;        /* output cross moments (X or Y), and R or Acc */
    double *coef, coef_mult;     /* m = 1, last iterate: cached a_k for the multiplier coef_mult */
    int inline_coef;             /* m = 1, last iterate: recompute a_k in the pass (same bits) */
};

/* Whether the AVX-512 version of the multi-versioned loops runs on this CPU. */
static int have_avx512(void)
{
#ifdef OD_HAVE_CLONES
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0;
#else
    return 0;
#endif
}

void od_linreg_exact_set_inline(od_linreg_exact *w, int on) { w->inline_coef = on != 0; }
int od_linreg_exact_inline(const od_linreg_exact *w) { return w->inline_coef; }

int od_linreg_model_check(const od_linreg_model *m)
{
    if (!m || m->d == 0 || !m->lambda || !m->omega) OD_ERROR("model: empty spectrum", OD_EINVAL);
    if (!(m->sigma2 >= 0) || !isfinite(m->sigma2))
        OD_ERRORF(OD_ERANGE, "model: noise variance must be >= 0 (got %g)", m->sigma2);
    if (!(m->kappa >= 1) || !isfinite(m->kappa))
        OD_ERRORF(OD_ERANGE, "model: kurtosis must be >= 1 (got %g)", m->kappa);
    for (size_t k = 0; k < m->d; k++) {
        if (!(m->lambda[k] >= 0) || !isfinite(m->lambda[k]))
            OD_ERRORF(OD_ERANGE, "model: eigenvalue %zu is %g (must be finite and >= 0)", k + 1,
                      m->lambda[k]);
        if (!isfinite(m->omega[k]))
            OD_ERRORF(OD_ERANGE, "model: initial error %zu is not finite", k + 1);
    }
    return OD_OK;
}

static int has_aux(const od_linreg_algo *a) { return a->output != OD_LINREG_OUT_LAST; }

void od_linreg_exact_free(od_linreg_exact *w)
{
    if (!w) return;
    od_free(w->lambda);
    od_free(w->omega);
    od_free(w->C11);
    od_free(w->C12);
    od_free(w->C22);
    od_free(w->Z1);
    od_free(w->Z2);
    od_free(w->ZR);
    od_free(w->coef);
    free(w);
}

od_linreg_exact *od_linreg_exact_alloc(const od_linreg_model *m, const od_linreg_algo *a)
{
    if (od_linreg_model_check(m) != OD_OK || od_linreg_algo_check(a) != OD_OK) return NULL;
    od_linreg_exact *w = calloc(1, sizeof *w);
    if (!w) {
        od_error(OD_ENOMEM, __FILE__, __LINE__, "exact engine: out of memory");
        return NULL;
    }
    const size_t d = m->d;
    w->d = d;
    w->m = a->method->m;
    w->sigma2 = m->sigma2;
    w->kappa = m->kappa;
    w->a = *a;
    w->lambda = od_vec_alloc(d);
    w->omega = od_vec_alloc(d);
    w->C11 = od_vec_alloc(d);
    int ok = w->lambda && w->omega && w->C11;
    if (w->m == 2) {
        w->C12 = od_vec_alloc(d);
        w->C22 = od_vec_alloc(d);
        ok = ok && w->C12 && w->C22;
    }
    if (w->m == 1 && !has_aux(a)) ok = ok && (w->coef = od_vec_alloc(d)) != NULL;
    w->inline_coef = have_avx512();
    if (has_aux(a)) {
        w->Z1 = od_vec_alloc(d);
        w->ZR = od_vec_alloc(d);
        ok = ok && w->Z1 && w->ZR;
        if (w->m == 2) ok = ok && (w->Z2 = od_vec_alloc(d)) != NULL;
    }
    if (!ok) {
        od_linreg_exact_free(w);
        od_error(OD_ENOMEM, __FILE__, __LINE__, "exact engine: out of memory (d = %zu)", d);
        return NULL;
    }
    od_copy(d, m->lambda, w->lambda);
    od_copy(d, m->omega, w->omega);
    od_linreg_exact_reset(w);
    return w;
}

/* Output second moment of mode k at time t (from the stored state). */
static double out_moment(const od_linreg_exact *w, const od_linreg_form *f, size_t k)
{
    const double c1 = f->c[0], c2 = f->m == 2 ? f->c[1] : 0;
    double it = c1 * c1 * w->C11[k];
    if (w->m == 2) it += 2 * c1 * c2 * w->C12[k] + c2 * c2 * w->C22[k];
    switch (w->a.output) {
    case OD_LINREG_OUT_EMA: return w->ZR[k];
    case OD_LINREG_OUT_AVG: return w->t ? w->ZR[k] / ((double)w->t * (double)w->t) : it;
    case OD_LINREG_OUT_TAIL: {
        uint64_t S = w->a.tail_start;
        return w->t > S ? w->ZR[k] / ((double)(w->t - S) * (double)(w->t - S)) : it;
    }
    default: return it;
    }
}

/* S, iterate and output risks of the stored state, by the fixed summation order. */
static void recompute_sums(od_linreg_exact *w)
{
    od_linreg_form f;
    w->a.method->form(&w->a, 1.0, &f);
    const double g1 = f.g[0], g2 = f.m == 2 ? f.g[1] : 0, c1 = f.c[0], c2 = f.m == 2 ? f.c[1] : 0;
    double sS[8] = {0}, sI[8] = {0}, sO[8] = {0};
    for (size_t k = 0; k < w->d; k++) {
        double u = g1 * g1 * w->C11[k], it = c1 * c1 * w->C11[k];
        if (w->m == 2) {
            u = u + 2 * g1 * g2 * w->C12[k] + g2 * g2 * w->C22[k];
            it = it + 2 * c1 * c2 * w->C12[k] + c2 * c2 * w->C22[k];
        }
        sS[k & 7] += w->lambda[k] * u;
        sI[k & 7] += w->lambda[k] * it;
        sO[k & 7] += w->lambda[k] * out_moment(w, &f, k);
    }
    w->S = od_linreg_sum8(sS);
    w->excess_it = 0.5 * od_linreg_sum8(sI);
    w->excess_out = 0.5 * od_linreg_sum8(sO);
}

void od_linreg_exact_reset(od_linreg_exact *w)
{
    const size_t d = w->d;
    for (size_t k = 0; k < d; k++) {
        double o2 = w->omega[k] * w->omega[k];
        w->C11[k] = o2;
        if (w->m == 2) w->C12[k] = w->C22[k] = o2;
    }
    if (w->ZR) {
        /* EMA: e_0 = w_0, so X_0 = E[e_0 z_0] = omega^2 (1, 1) and R_0 = omega^2; averages start at 0 */
        int ema = w->a.output == OD_LINREG_OUT_EMA;
        for (size_t k = 0; k < d; k++) {
            double o2 = ema ? w->omega[k] * w->omega[k] : 0.0;
            w->Z1[k] = w->ZR[k] = o2;
            if (w->Z2) w->Z2[k] = o2;
        }
    }
    w->t = 0;
    w->diverged = UINT64_MAX;
    w->coef_mult = NAN;
    recompute_sums(w);
}

/* Per-step scalars shared by the loops. */
typedef struct {
    od_linreg_form f;
    double L, qB, c1k;   /* S + sigma2, 1/B, (kappa - 2) */
} step_consts;

/* P'_k = a_k P_k + cL lambda_k and sum_k lambda_k P'_k, in 8 stripes: 3 loads, 1 store, 4 flops. */
OD_CLONES static double m1_kernel(size_t d, const double *restrict a, const double *restrict lam,
                                  double *restrict P, double cL)
{
    double acc[8] = {0};
    const size_t d8 = d & ~(size_t)7;
    for (size_t k0 = 0; k0 < d8; k0 += 8)
        for (size_t j = 0; j < 8; j++) {
            const double pn = a[k0 + j] * P[k0 + j] + cL * lam[k0 + j];
            P[k0 + j] = pn;
            acc[j] += lam[k0 + j] * pn;
        }
    for (size_t k = d8; k < d; k++) {
        const double pn = a[k] * P[k] + cL * lam[k];
        P[k] = pn;
        acc[k & 7] += lam[k] * pn;
    }
    return od_linreg_sum8(acc);
}

/* The same with a_k = A^2 + c2 lambda_k^2, A = Ab - lambda_k sg, recomputed in the pass exactly as
 * loop_m1_last caches it (same expression, so the same bits): 2 loads, 1 store, 11 flops. */
OD_CLONES static double m1_kernel_inline(size_t d, const double *restrict lam, double *restrict P,
                                         double Ab, double sg, double c2, double cL)
{
    double acc[8] = {0};
    const size_t d8 = d & ~(size_t)7;
    for (size_t k0 = 0; k0 < d8; k0 += 8)
        for (size_t j = 0; j < 8; j++) {
            const double l = lam[k0 + j], A = Ab - l * sg, a = A * A + c2 * (l * l);
            const double pn = a * P[k0 + j] + cL * l;
            P[k0 + j] = pn;
            acc[j] += l * pn;
        }
    for (size_t k = d8; k < d; k++) {
        const double l = lam[k], A = Ab - l * sg, a = A * A + c2 * (l * l);
        const double pn = a * P[k] + cL * l;
        P[k] = pn;
        acc[k & 7] += l * pn;
    }
    return od_linreg_sum8(acc);
}

/* SGD-type (m = 1) last iterate.  P' = A^2 P + s^2 N with N = ((kappa-2) l^2 g^2 P + l L)/B is
 * P' = a P + cL l, a = A^2 + s^2 (kappa-2) g^2 l^2 / B and cL = s^2 L / B: the per-mode a_k depend on
 * the step only: either recomputed in the pass (m1_kernel_inline) or cached and recomputed when the
 * schedule's multiplier changes (every step for a smooth schedule, once per phase for step decay,
 * never for a constant step). */
static void loop_m1_last(od_linreg_exact *w, const step_consts *q, double mult, double sums[3])
{
    const double ss = q->f.s[0] * q->f.s[0], gg = q->f.g[0] * q->f.g[0], cL = ss * q->L * q->qB;
    const double Ab = q->f.Abar[0], sg = q->f.s[0] * q->f.g[0], c2 = ss * q->c1k * gg * q->qB;
    double sp;
    if (w->inline_coef) {
        sp = m1_kernel_inline(w->d, w->lambda, w->C11, Ab, sg, c2, cL);
    } else {
        if (!(w->coef_mult == mult)) {
            for (size_t k = 0; k < w->d; k++) {
                const double l = w->lambda[k], A = Ab - l * sg;
                w->coef[k] = A * A + c2 * (l * l);
            }
            w->coef_mult = mult;
        }
        sp = m1_kernel(w->d, w->coef, w->lambda, w->C11, cL);
    }
    sums[0] = gg * sp;
    sums[1] = sums[2] = q->f.c[0] * q->f.c[0] * sp;
}

/* m = 1 with an averaged output. */
static void loop_m1_aux(od_linreg_exact *w, const step_consts *q, int ema, int active, double sums[3])
{
    const double Ab = q->f.Abar[0], sg = q->f.s[0] * q->f.g[0], ss = q->f.s[0] * q->f.s[0],
                 gg = q->f.g[0] * q->f.g[0], c = q->f.c[0], L = q->L, qB = q->qB, ck = q->c1k;
    const double al = w->a.ema, bl = 1 - al;
    double sS[8] = {0}, sO[8] = {0};
    for (size_t k = 0; k < w->d; k++) {
        const double l = w->lambda[k], p = w->C11[k], A = Ab - l * sg;
        const double N = (ck * (l * l) * (gg * p) + l * L) * qB;
        const double pn = (A * A) * p + ss * N, cp = c * p;
        if (ema) {
            const double x = w->Z1[k];
            w->ZR[k] = al * al * w->ZR[k] + 2 * al * bl * (c * x) + bl * bl * (c * cp);
            w->Z1[k] = A * (al * x + bl * cp);
        } else if (active) {
            const double y = w->Z1[k];
            w->ZR[k] = w->ZR[k] + c * cp + 2 * (c * y);
            w->Z1[k] = A * (y + cp);
        }
        w->C11[k] = pn;
        sS[k & 7] += l * pn;
        sO[k & 7] += l * w->ZR[k];
    }
    const double sp = od_linreg_sum8(sS);
    sums[0] = gg * sp;
    sums[1] = c * c * sp;
    sums[2] = od_linreg_sum8(sO);
}

/* m = 2: C' = A C A^T + N s s^T, with any output. */
static void loop_m2(od_linreg_exact *w, const step_consts *q, int ema, int active, double sums[3])
{
    const od_linreg_form *f = &q->f;
    const double g1 = f->g[0], g2 = f->g[1], s1 = f->s[0], s2 = f->s[1], c1 = f->c[0], c2 = f->c[1];
    const double sg11 = s1 * g1, sg12 = s1 * g2, sg21 = s2 * g1, sg22 = s2 * g2;
    const double L = q->L, qB = q->qB, ck = q->c1k, al = w->a.ema, bl = 1 - al;
    double sS[8] = {0}, sI[8] = {0}, sO[8] = {0};
    for (size_t k = 0; k < w->d; k++) {
        const double l = w->lambda[k], x11 = w->C11[k], x12 = w->C12[k], x22 = w->C22[k];
        const double A11 = f->Abar[0] - l * sg11, A12 = f->Abar[1] - l * sg12,
                     A21 = f->Abar[2] - l * sg21, A22 = f->Abar[3] - l * sg22;
        const double U = g1 * g1 * x11 + 2 * g1 * g2 * x12 + g2 * g2 * x22;
        const double N = (ck * (l * l) * U + l * L) * qB;
        const double n11 = (A11 * A11) * x11 + (2 * A11 * A12) * x12 + (A12 * A12) * x22 + (s1 * s1) * N;
        const double n12 = (A11 * A21) * x11 + (A11 * A22 + A12 * A21) * x12 + (A12 * A22) * x22 +
                           (s1 * s2) * N;
        const double n22 = (A21 * A21) * x11 + (2 * A21 * A22) * x12 + (A22 * A22) * x22 + (s2 * s2) * N;
        if (w->ZR && (ema || active)) {
            const double cc1 = x11 * c1 + x12 * c2, cc2 = x12 * c1 + x22 * c2, cCc = c1 * cc1 + c2 * cc2;
            const double z1 = w->Z1[k], z2 = w->Z2[k], cz = c1 * z1 + c2 * z2;
            double t1, t2;
            if (ema) {
                w->ZR[k] = al * al * w->ZR[k] + 2 * al * bl * cz + bl * bl * cCc;
                t1 = al * z1 + bl * cc1;
                t2 = al * z2 + bl * cc2;
            } else {
                w->ZR[k] = w->ZR[k] + cCc + 2 * cz;
                t1 = z1 + cc1;
                t2 = z2 + cc2;
            }
            w->Z1[k] = A11 * t1 + A12 * t2;
            w->Z2[k] = A21 * t1 + A22 * t2;
        }
        w->C11[k] = n11;
        w->C12[k] = n12;
        w->C22[k] = n22;
        sS[k & 7] += l * (g1 * g1 * n11 + 2 * g1 * g2 * n12 + g2 * g2 * n22);
        sI[k & 7] += l * (c1 * c1 * n11 + 2 * c1 * c2 * n12 + c2 * c2 * n22);
        if (w->ZR) sO[k & 7] += l * w->ZR[k];
    }
    sums[0] = od_linreg_sum8(sS);
    sums[1] = od_linreg_sum8(sI);
    sums[2] = od_linreg_sum8(sO);
}

int od_linreg_exact_step(od_linreg_exact *w)
{
    if (w->diverged != UINT64_MAX)
        OD_ERRORF(OD_EDIVERGED, "exact recursion diverged at step %llu",
                  (unsigned long long)w->diverged);
    step_consts q;
    const double mult = od_linreg_schedule_mult(&w->a.schedule, w->t);
    w->a.method->form(&w->a, mult, &q.f);
    q.L = w->S + w->sigma2;
    q.qB = 1.0 / (double)w->a.batch;
    q.c1k = w->kappa - 2;
    const od_linreg_output out = w->a.output;
    const int ema = out == OD_LINREG_OUT_EMA;
    /* an average accumulates from step 0 (uniform) or from step S (tail) on */
    const int active = out == OD_LINREG_OUT_AVG || (out == OD_LINREG_OUT_TAIL && w->t >= w->a.tail_start);
    double sums[3];
    if (w->m == 1 && out == OD_LINREG_OUT_LAST) loop_m1_last(w, &q, mult, sums);
    else if (w->m == 1) loop_m1_aux(w, &q, ema, active, sums);
    else loop_m2(w, &q, ema, active, sums);
    w->t++;
    w->S = sums[0];
    w->excess_it = 0.5 * sums[1];
    if (out == OD_LINREG_OUT_LAST || (out == OD_LINREG_OUT_TAIL && w->t <= w->a.tail_start)) {
        w->excess_out = w->excess_it;
    } else {
        double n = ema ? 1.0 : (double)(out == OD_LINREG_OUT_AVG ? w->t : w->t - w->a.tail_start);
        w->excess_out = 0.5 * sums[2] / (n * n);
    }
    if (!(w->excess_out <= OD_LINREG_DIVERGED) || !(w->excess_it <= OD_LINREG_DIVERGED) ||
        !(w->S <= OD_LINREG_DIVERGED)) {
        w->diverged = w->t;
        OD_ERRORF(OD_EDIVERGED, "exact recursion diverged at step %llu (excess risk %g)",
                  (unsigned long long)w->t, w->excess_it);
    }
    return OD_OK;
}

uint64_t od_linreg_exact_time(const od_linreg_exact *w) { return w->t; }
double od_linreg_exact_excess(const od_linreg_exact *w) { return w->excess_out; }
double od_linreg_exact_iterate_excess(const od_linreg_exact *w) { return w->excess_it; }
uint64_t od_linreg_exact_diverged_at(const od_linreg_exact *w) { return w->diverged; }

void od_linreg_exact_iterate_moments(const od_linreg_exact *w, double *out)
{
    od_linreg_form f;
    w->a.method->form(&w->a, 1.0, &f);
    const double c1 = f.c[0], c2 = f.m == 2 ? f.c[1] : 0;
    for (size_t k = 0; k < w->d; k++) {
        out[k] = c1 * c1 * w->C11[k];
        if (w->m == 2) out[k] += 2 * c1 * c2 * w->C12[k] + c2 * c2 * w->C22[k];
    }
}

void od_linreg_exact_output_moments(const od_linreg_exact *w, double *out)
{
    od_linreg_form f;
    w->a.method->form(&w->a, 1.0, &f);
    for (size_t k = 0; k < w->d; k++) out[k] = out_moment(w, &f, k);
}

int od_linreg_exact_run(const od_linreg_model *m, const od_linreg_algo *a, const uint64_t *times,
                        size_t n, double *excess, uint64_t *diverged_at, od_linreg_record_fn *cb,
                        void *params)
{
    if (diverged_at) *diverged_at = UINT64_MAX;
    if (n == 0 || !times) OD_ERROR("exact run: no recording times", OD_EINVAL);
    for (size_t i = 1; i < n; i++)
        if (times[i] <= times[i - 1]) OD_ERROR("exact run: times must increase strictly", OD_EINVAL);
    OD_TRY(od_linreg_model_check(m));
    OD_TRY(od_linreg_algo_check(a));
    od_linreg_exact *w = od_linreg_exact_alloc(m, a);
    if (!w) return OD_ENOMEM;
    int status = OD_OK;
    for (size_t i = 0; i < n && status == OD_OK; i++) {
        while (w->t < times[i] && w->diverged == UINT64_MAX) od_linreg_exact_step(w);
        int gone = w->diverged != UINT64_MAX;
        if (excess) excess[i] = gone ? INFINITY : w->excess_out;
        if (cb && !gone) {
            int r = cb(w, i, params);
            if (r != 0) status = r < 0 ? r : OD_OK;
            if (r != 0) break;
        }
    }
    if (diverged_at) *diverged_at = w->diverged;
    od_linreg_exact_free(w);
    return status;
}

int od_linreg_excess_at(size_t d, const double *lambda, const double *omega, double sigma2,
                        double kappa, const od_linreg_algo *a, size_t n, const uint64_t *times,
                        double *excess)
{
    od_linreg_model m = {.d = d, .lambda = lambda, .omega = omega, .sigma2 = sigma2, .kappa = kappa};
    return od_linreg_exact_run(&m, a, times, n, excess, NULL, NULL, NULL);
}
