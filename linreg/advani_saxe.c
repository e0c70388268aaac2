/* optdyn linreg — Advani & Saxe: generalization error of gradient flow on a random design, as the
 * Marchenko–Pastur integral and as an exact finite-N realization (theory sheet §6; formulas in
 * optdyn_linreg.h). */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>

#include "linreg/linreg_internal.h"

enum { STREAM_AS_X = 0x110, STREAM_AS_TEACHER = 0x111, STREAM_AS_STUDENT = 0x112, STREAM_AS_NOISE = 0x113 };

typedef struct {
    double t, sw, se, lo;   /* lo: lambda_-, kept to handle a = 1 */
    int edge_in_f;          /* 1 when the 1/lambda of rho is folded into the weight (a = 1) */
} eg_ctx;

/* The integrand of E_g without the square-root weights: (1/(2 pi lambda)) [ ... ]. */
static double eg_f(double l, void *p)
{
    const eg_ctx *c = p;
    double bias, var;
    if (isinf(c->t)) {
        bias = 0;
        var = c->se / l;
    } else {
        double e = exp(-l * c->t), one = -expm1(-l * c->t);
        bias = c->sw * e * e;
        var = c->se * (l > 0 ? one * one / l : 0);
    }
    double v = (bias + var) / (2 * M_PI);
    return c->edge_in_f ? v : v / l;
}

double od_linreg_advani_saxe_eg(double a, double t, double sw2, double s02, double se2)
{
    if (!(a > 0) || !(t >= 0)) return NAN;
    if (a == 1 && isinf(t) && se2 > 0) return INFINITY;
    const double lo = (1 - sqrt(a)) * (1 - sqrt(a)), hi = (1 + sqrt(a)) * (1 + sqrt(a));
    eg_ctx c = {t, sw2 + s02, se2, lo, a == 1};
    gsl_function F = {eg_f, &c};
    gsl_integration_workspace *ws = gsl_integration_workspace_alloc(1000);
    /* weights (l - lo)^al (hi - l)^1/2; for a = 1 (lo = 0) the 1/l of rho joins the weight */
    gsl_integration_qaws_table *tb = gsl_integration_qaws_table_alloc(a == 1 ? -0.5 : 0.5, 0.5, 0, 0);
    double res = NAN, err;
    if (ws && tb && gsl_integration_qaws(&F, lo, hi, tb, 0, 1e-10, 1000, ws, &res, &err) != GSL_SUCCESS)
        res = NAN;
    gsl_integration_qaws_table_free(tb);
    gsl_integration_workspace_free(ws);
    return res + (a < 1 ? (1 - a) * (sw2 + s02) : 0) + se2;
}

int od_linreg_advani_saxe_sample(size_t N, size_t P, double sw2, double s02, double se2,
                                 uint64_t seed, uint32_t path, const double *t, size_t nt,
                                 double *eg)
{
    if (N == 0 || P == 0 || N > 4096) OD_ERRORF(OD_EINVAL, "Advani–Saxe sample: N = %zu, P = %zu", N, P);
    double *X = od_vec_alloc(N * P), *K = od_vec_alloc(N * N), *V = od_vec_alloc(N * N),
           *ev = od_vec_alloc(N), *e0 = od_vec_alloc(N), *b = od_vec_alloc(N), *eps = od_vec_alloc(P),
           *pe = od_vec_alloc(N), *pb = od_vec_alloc(N);
    int st = X && K && V && ev && e0 && b && eps && pe && pb ? OD_OK : OD_ENOMEM;
    if (st == OD_OK) {
        od_stream s;
        od_stream_init(&s, seed, STREAM_AS_X);
        for (size_t i = 0; i < N; i++) {   /* row i of X at (path, i) */
            od_stream_seek(&s, path, (uint32_t)i);
            od_stream_normals(&s, X + i * P, P);
        }
        od_scal(N * P, 1.0 / sqrt((double)N), X);
        double *wbar = pe;   /* scratch before projection */
        od_stream_init(&s, seed, STREAM_AS_TEACHER);
        od_stream_seek(&s, path, 0);
        od_stream_normals(&s, wbar, N);
        od_stream_init(&s, seed, STREAM_AS_STUDENT);
        od_stream_seek(&s, path, 0);
        od_stream_normals(&s, e0, N);
        for (size_t i = 0; i < N; i++) e0[i] = sqrt(s02) * e0[i] - sqrt(sw2) * wbar[i];
        od_stream_init(&s, seed, STREAM_AS_NOISE);
        od_stream_seek(&s, path, 0);
        od_stream_normals(&s, eps, P);
        od_scal(P, sqrt(se2), eps);
        od_gemv(0, N, P, 1.0, X, eps, 0.0, b);            /* b = X eps */
        od_gemm(0, 1, N, N, P, 1.0, X, X, 0.0, K);         /* K = X X^T */
        st = od_symm_eigen(N, K, ev, V);
    }
    if (st == OD_OK) {
        od_gemv(1, N, N, 1.0, V, e0, 0.0, pe);            /* coordinates in the eigenbasis */
        od_gemv(1, N, N, 1.0, V, b, 0.0, pb);
        const double null = (double)N * DBL_EPSILON * fabs(ev[0]);
        for (size_t j = 0; j < nt; j++) {
            double acc[8] = {0};
            for (size_t i = 0; i < N; i++) {
                double e;
                if (ev[i] <= null) e = pe[i];   /* null direction: gradient flow never moves it */
                else if (isinf(t[j])) e = pb[i] / ev[i];
                else e = pe[i] * exp(-ev[i] * t[j]) + pb[i] / ev[i] * -expm1(-ev[i] * t[j]);
                acc[i & 7] += e * e;
            }
            eg[j] = od_linreg_sum8(acc) / (double)N + se2;
        }
    } else if (st == OD_ENOMEM) {
        od_error(OD_ENOMEM, __FILE__, __LINE__, "Advani–Saxe sample: out of memory (N = %zu, P = %zu)", N, P);
    }
    od_free(X), od_free(K), od_free(V), od_free(ev), od_free(e0), od_free(b), od_free(eps), od_free(pe),
        od_free(pb);
    return st;
}
