/* optdyn tests — the problem (oracle) interface and the core's built-in problems, against
 * mathematics.
 *
 * Error models used throughout (eps = DBL_EPSILON):
 *   - identities of floating-point sums: |computed - exact| <= c (m + 8) eps * (sum of the absolute
 *     values of the terms), m the number of terms summed on the way (n + d here), c = 8; the "scale"
 *     functions below compute those sums of magnitudes for each problem from its closed form;
 *   - central differences with step h = 2^-14: truncation h^2/6 * max|third derivative| plus
 *     rounding (error of f) / h; x +- h may itself round, so coordinate differences divide by the
 *     realised step and directional ones add eps |H| |x| / h;
 *   - Monte Carlo: z-scores against exact standard errors (from noise_cov) or plug-in standard
 *     errors of the estimator, with the threshold max(5, Bonferroni at family-wise 1e-6 over the
 *     number of compared quantities).
 * All randomness comes from od_stream with fixed high-entropy seeds, so the tests are reproducible.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "core/optdyn_core.h"
#include "od_test.h"

void od_test_suite_problem(void);

#define SEED 0x2545F4914F6CDD1DULL
#define EPS DBL_EPSILON
#define FD_H 0x1p-14
/* max |l'''| and |l''''| of l(m) = log(1 + e^-m): p(1-p)(1-2p) <= 1/(6 sqrt 3), |p(1-p)(1-6p+6p^2)| <= 1/8 */
#define LOGIT_D3 0.0962250448649376
#define LOGIT_D4 0.125

/* The threshold for the largest of m z-scores: Bonferroni at family-wise level 1e-6, at least 5. */
static double zcrit(size_t m)
{
    double z = gsl_cdf_ugaussian_Qinv(1e-6 / (2.0 * (double)m));
    return z > 5.0 ? z : 5.0;
}

/* ---- the test problems -------------------------------------------------------------------------
 * Each is built through its constructor from data the test owns, so the closed forms (Hessian,
 * gradient, magnitudes for rounding bounds) can be written here independently of the library. */

enum { QDIAG, QDENSE, LINREG, LDATA, LOGREG, N_KINDS };
enum { MAXD = 6, MAXN = 60 };

typedef struct {
    int kind;
    const char *name;
    od_problem *p;
    size_t d, n;
    double x[MAXD];                      /* the evaluation point */
    double lambda[MAXD], c[MAXD], sd[MAXD];
    double A[MAXD * MAXD], S[MAXD * MAXD];
    double wstar[MAXD], sigma2;
    double X[MAXN * MAXD], y[MAXN], ridge;
} tp;

static void normals(od_stream *s, double *v, size_t n, double scale, double shift)
{
    for (size_t i = 0; i < n; i++) v[i] = shift + scale * od_stream_normal(s);
}

/* Builds test problem `kind` into t (CU_FAIL and t->p = NULL if the constructor fails). */
static void tp_build(tp *t, int kind)
{
    memset(t, 0, sizeof *t);
    t->kind = kind;
    od_stream s;
    od_stream_init(&s, SEED, 100 + (uint32_t)kind);
    int status = OD_EINTERNAL;
    switch (kind) {
    case QDIAG: {   /* a saddle: curvatures of both signs */
        static const double lam[5] = {2.385, -0.731, 1.618, -0.0923, 0.5};
        static const double sd[5] = {0.5, 1.3, 0.2, 0.9, 0.05};
        t->name = "quadratic (saddle)";
        t->d = 5;
        memcpy(t->lambda, lam, sizeof lam);
        memcpy(t->sd, sd, sizeof sd);
        normals(&s, t->c, t->d, 1.1, 0.2);
        status = od_problem_quadratic_diag(t->d, t->lambda, t->c, t->sd, &t->p);
        break;
    }
    case QDENSE: {   /* A symmetric indefinite, S = M M^T / d + 0.1 I */
        t->name = "dense quadratic";
        const size_t d = t->d = 4;
        double G[MAXD * MAXD], M[MAXD * MAXD];
        normals(&s, G, d * d, 1.0, 0.0);
        normals(&s, M, d * d, 1.0, 0.0);
        for (size_t i = 0; i < d; i++)
            for (size_t j = 0; j < d; j++) {
                t->A[i * d + j] = 0.5 * (G[i * d + j] + G[j * d + i]);
                double acc = 0.0;
                for (size_t k = 0; k < d; k++) acc += M[i * d + k] * M[j * d + k];
                t->S[i * d + j] = acc / (double)d + (i == j ? 0.1 : 0.0);
            }
        normals(&s, t->c, d, 0.8, -0.3);
        status = od_problem_quadratic_dense(d, t->A, t->c, t->S, &t->p);
        break;
    }
    case LINREG:
        t->name = "linreg (streaming)";
        t->d = 6;
        for (size_t k = 0; k < t->d; k++) t->lambda[k] = pow((double)(k + 1), -1.3);
        normals(&s, t->wstar, t->d, 0.9, 0.4);
        t->sigma2 = 1.37;
        status = od_problem_linreg_stream(t->d, t->lambda, t->wstar, t->sigma2, &t->p);
        break;
    case LDATA: {
        t->name = "linreg-data";
        const size_t d = t->d = 5, n = t->n = 12;
        normals(&s, t->wstar, d, 1.0, 0.3);
        for (size_t i = 0; i < n; i++) {
            double acc = 0.0;
            for (size_t k = 0; k < d; k++) {
                t->X[i * d + k] = pow((double)(k + 1), -0.35) * od_stream_normal(&s);
                acc += t->X[i * d + k] * t->wstar[k];
            }
            t->y[i] = acc + 0.4 * od_stream_normal(&s);
        }
        status = od_problem_linreg_data(n, d, t->X, t->y, &t->p);
        break;
    }
    case LOGREG: {
        t->name = "logreg";
        const size_t d = t->d = 4, n = t->n = 16;
        normals(&s, t->X, n * d, 1.3, 0.0);
        for (size_t i = 0; i < n; i++) t->y[i] = od_stream_rademacher(&s);
        t->ridge = 0.013;
        status = od_problem_logreg_data(n, d, t->X, t->y, t->ridge, &t->p);
        break;
    }
    }
    CU_ASSERT_EQUAL_FATAL(status, OD_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t->p);
    CU_ASSERT_EQUAL(t->p->dim, t->d);
    CU_ASSERT_EQUAL(t->p->n, t->n);
    normals(&s, t->x, t->d, 0.7, 0.25);
    if (kind == LINREG)   /* near w*, so that the sigma2 H part of Sigma1 weighs as much as the rest */
        for (size_t k = 0; k < t->d; k++) t->x[k] = t->wstar[k] + 0.5 * (t->x[k] - 0.25);
}

static double tp_eps(const tp *t) { return 8.0 * (double)(t->n + t->d + 8) * EPS; }

/* a_i = sum_k |x_ik| |w_k| (+ |y_i| for least squares): the magnitude of a residual or margin. */
static double row_mag(const tp *t, size_t i, const double *w, int with_y)
{
    double a = with_y ? fabs(t->y[i]) : 0.0;
    for (size_t k = 0; k < t->d; k++) a += fabs(t->X[i * t->d + k]) * fabs(w[k]);
    return a;
}

/* Sum of the magnitudes of the terms of f(x) (the rounding scale of the loss). */
static double tp_fscale(const tp *t, const double *x)
{
    const size_t d = t->d, n = t->n;
    double acc = 0.0;
    switch (t->kind) {
    case QDIAG:
        for (size_t k = 0; k < d; k++) acc += 0.5 * fabs(t->lambda[k]) * (x[k] - t->c[k]) * (x[k] - t->c[k]);
        break;
    case QDENSE:
        for (size_t j = 0; j < d; j++)
            for (size_t k = 0; k < d; k++)
                acc += 0.5 * fabs(x[j] - t->c[j]) * fabs(t->A[j * d + k]) * fabs(x[k] - t->c[k]);
        break;
    case LINREG:
        acc = 0.5 * t->sigma2;
        for (size_t k = 0; k < d; k++) acc += 0.5 * t->lambda[k] * (x[k] - t->wstar[k]) * (x[k] - t->wstar[k]);
        break;
    case LDATA:
        for (size_t i = 0; i < n; i++) acc += 0.5 * pow(row_mag(t, i, x, 1), 2) / (double)n;
        break;
    case LOGREG:
        for (size_t i = 0; i < n; i++) acc += (1.0 + row_mag(t, i, x, 0)) / (double)n;
        for (size_t k = 0; k < d; k++) acc += 0.5 * t->ridge * x[k] * x[k];
        break;
    }
    return acc;
}

/* Sums of the magnitudes of the terms of each gradient coordinate. */
static void tp_gscale(const tp *t, const double *x, double *gs)
{
    const size_t d = t->d, n = t->n;
    for (size_t k = 0; k < d; k++) gs[k] = 0.0;
    switch (t->kind) {
    case QDIAG:
        for (size_t k = 0; k < d; k++) gs[k] = fabs(t->lambda[k] * (x[k] - t->c[k]));
        break;
    case QDENSE:
        for (size_t k = 0; k < d; k++)
            for (size_t j = 0; j < d; j++) gs[k] += fabs(t->A[k * d + j]) * fabs(x[j] - t->c[j]);
        break;
    case LINREG:
        for (size_t k = 0; k < d; k++) gs[k] = t->lambda[k] * fabs(x[k] - t->wstar[k]);
        break;
    case LDATA:
        for (size_t i = 0; i < n; i++) {
            double a = row_mag(t, i, x, 1);
            for (size_t k = 0; k < d; k++) gs[k] += a * fabs(t->X[i * d + k]) / (double)n;
        }
        break;
    case LOGREG:
        for (size_t i = 0; i < n; i++) {
            double a = 1.0 + row_mag(t, i, x, 0);
            for (size_t k = 0; k < d; k++) gs[k] += a * fabs(t->X[i * d + k]) / (double)n;
        }
        for (size_t k = 0; k < d; k++) gs[k] += t->ridge * fabs(x[k]);
        break;
    }
}

static double sigm(double m) { return m >= 0 ? 1.0 / (1.0 + exp(-m)) : exp(m) / (1.0 + exp(m)); }

/* The Hessian at x in closed form (H) and the magnitudes of its terms (Hs). */
static void tp_hessian(const tp *t, const double *x, double *H, double *Hs)
{
    const size_t d = t->d, n = t->n;
    for (size_t i = 0; i < d * d; i++) H[i] = Hs[i] = 0.0;
    switch (t->kind) {
    case QDIAG:
    case LINREG:
        for (size_t k = 0; k < d; k++) {
            H[k * d + k] = t->lambda[k];
            Hs[k * d + k] = fabs(t->lambda[k]);
        }
        break;
    case QDENSE:
        for (size_t i = 0; i < d * d; i++) {
            H[i] = t->A[i];
            Hs[i] = fabs(t->A[i]);
        }
        break;
    case LDATA:
    case LOGREG:
        for (size_t i = 0; i < n; i++) {
            const double *xi = t->X + i * d;
            double wgt = 1.0, mag = 1.0;
            if (t->kind == LOGREG) {
                double m = 0.0;
                for (size_t k = 0; k < d; k++) m += xi[k] * x[k];
                wgt = sigm(m) * sigm(-m);
                mag = 0.25 * (1.0 + row_mag(t, i, x, 0));
            }
            for (size_t j = 0; j < d; j++)
                for (size_t k = 0; k < d; k++) {
                    H[j * d + k] += wgt * xi[j] * xi[k] / (double)n;
                    Hs[j * d + k] += mag * fabs(xi[j] * xi[k]) / (double)n;
                }
        }
        for (size_t k = 0; t->kind == LOGREG && k < d; k++) {
            H[k * d + k] += t->ridge;
            Hs[k * d + k] += t->ridge;
        }
        break;
    }
}

static void tp_free(tp *t)
{
    od_problem_free(t->p);
    t->p = NULL;
}

/* ---- derivatives -------------------------------------------------------------------------------- */

/* Gradient against central differences of the loss along each coordinate.  Truncation:
 * h^2/6 max|d^3 f / dx_k^3| (zero for the quadratics and least squares; for logistic regression
 * (1/n) sum_i |l'''| |x_ik|^3); rounding: tp_eps * fscale / h for the difference quotient plus the
 * gradient's own rounding. */
static void test_grad_fd(void)
{
    for (int kind = 0; kind < N_KINDS; kind++) {
        tp t;
        tp_build(&t, kind);
        const size_t d = t.d;
        double g[MAXD], gs[MAXD], f;
        CU_ASSERT_EQUAL(od_problem_grad(t.p, t.x, g, &f), OD_OK);
        tp_gscale(&t, t.x, gs);
        for (size_t k = 0; k < d; k++) {
            double xp[MAXD], xm[MAXD], fp, fm;
            memcpy(xp, t.x, sizeof xp);
            memcpy(xm, t.x, sizeof xm);
            xp[k] += FD_H;
            xm[k] -= FD_H;
            CU_ASSERT_EQUAL(od_problem_loss(t.p, xp, &fp), OD_OK);
            CU_ASSERT_EQUAL(od_problem_loss(t.p, xm, &fm), OD_OK);
            const double step = xp[k] - xm[k];   /* the realised step */
            const double fd = (fp - fm) / step;
            double m3 = 0.0;
            for (size_t i = 0; kind == LOGREG && i < t.n; i++)
                m3 += LOGIT_D3 * pow(fabs(t.X[i * d + k]), 3) / (double)t.n;
            const double tol = FD_H * FD_H / 6.0 * m3 +
                               tp_eps(&t) * fmax(tp_fscale(&t, xp), tp_fscale(&t, xm)) / (0.5 * step) +
                               tp_eps(&t) * gs[k];
            OD_ASSERT_CLOSE(fd, g[k], tol);
        }
        double f2;
        CU_ASSERT_EQUAL(od_problem_loss(t.p, t.x, &f2), OD_OK);
        OD_ASSERT_CLOSE(f, f2, tp_eps(&t) * tp_fscale(&t, t.x));
        tp_free(&t);
    }
}

/* HVP against central differences of the gradient along a random v.  Truncation:
 * h^2/6 max|d^3 g_k / dt^3| (logistic: (1/n) sum_i |l''''| |<x_i, v>|^3 |x_ik|); rounding of the
 * gradients / h. */
static void test_hvp_fd(void)
{
    od_stream s;
    od_stream_init(&s, SEED, 7);
    for (int kind = 0; kind < N_KINDS; kind++) {
        tp t;
        tp_build(&t, kind);
        const size_t d = t.d;
        double v[MAXD], hv[MAXD], xp[MAXD], xm[MAXD], gp[MAXD], gm[MAXD], gsp[MAXD], gsm[MAXD];
        double H[MAXD * MAXD], Hs[MAXD * MAXD];
        normals(&s, v, d, 1.0, 0.0);
        CU_ASSERT_EQUAL(od_problem_hvp(t.p, t.x, v, hv), OD_OK);
        for (size_t k = 0; k < d; k++) {
            xp[k] = t.x[k] + FD_H * v[k];
            xm[k] = t.x[k] - FD_H * v[k];
        }
        CU_ASSERT_EQUAL(od_problem_grad(t.p, xp, gp, NULL), OD_OK);
        CU_ASSERT_EQUAL(od_problem_grad(t.p, xm, gm, NULL), OD_OK);
        tp_gscale(&t, xp, gsp);
        tp_gscale(&t, xm, gsm);
        tp_hessian(&t, t.x, H, Hs);
        for (size_t k = 0; k < d; k++) {
            double m4 = 0.0, hs = 0.0, hx = 0.0;
            for (size_t i = 0; kind == LOGREG && i < t.n; i++) {
                double xv = 0.0;
                for (size_t j = 0; j < d; j++) xv += t.X[i * d + j] * v[j];
                m4 += LOGIT_D4 * pow(fabs(xv), 3) * fabs(t.X[i * d + k]) / (double)t.n;
            }
            for (size_t j = 0; j < d; j++) {
                hs += Hs[k * d + j] * fabs(v[j]);
                hx += Hs[k * d + j] * (fabs(t.x[j]) + FD_H * fabs(v[j]));
            }
            /* x +- h v is rounded: the realised step is 2 h v up to eps |x +- h v| per coordinate,
             * which moves the quotient by at most eps (|H| |x +- h v|)_k / h */
            const double tol = FD_H * FD_H / 6.0 * m4 + tp_eps(&t) * fmax(gsp[k], gsm[k]) / FD_H +
                               EPS * hx / FD_H + tp_eps(&t) * hs;
            OD_ASSERT_CLOSE((gp[k] - gm[k]) / (2.0 * FD_H), hv[k], tol);
        }
        tp_free(&t);
    }
}

/* The dense Hessian from hvp(e_k) against the closed form, entrywise to rounding (tp_eps times
 * the magnitudes of the terms), and its symmetry. */
static void test_hessian_dense(void)
{
    for (int kind = 0; kind < N_KINDS; kind++) {
        tp t;
        tp_build(&t, kind);
        const size_t d = t.d;
        double H[MAXD * MAXD], Hs[MAXD * MAXD], Hp[MAXD * MAXD];
        tp_hessian(&t, t.x, H, Hs);
        for (size_t k = 0; k < d; k++) {
            double e[MAXD] = {0}, col[MAXD];
            e[k] = 1.0;
            CU_ASSERT_EQUAL(od_problem_hvp(t.p, t.x, e, col), OD_OK);
            for (size_t j = 0; j < d; j++) Hp[j * d + k] = col[j];
        }
        for (size_t j = 0; j < d; j++)
            for (size_t k = 0; k < d; k++) {
                OD_ASSERT_CLOSE(Hp[j * d + k], H[j * d + k], tp_eps(&t) * Hs[j * d + k]);
                OD_ASSERT_CLOSE(Hp[j * d + k], Hp[k * d + j], tp_eps(&t) * Hs[j * d + k]);
            }
        tp_free(&t);
    }
}

/* ---- closed forms ------------------------------------------------------------------------------- */

static void test_closed_forms(void)
{
    for (int kind = 0; kind < N_KINDS; kind++) {
        tp t;
        tp_build(&t, kind);
        const size_t d = t.d, n = t.n;
        const double *x = t.x;
        double g[MAXD], gs[MAXD], f, fref = 0.0, gref[MAXD] = {0};
        CU_ASSERT_EQUAL(od_problem_grad(t.p, x, g, &f), OD_OK);
        tp_gscale(&t, x, gs);
        switch (kind) {
        case QDIAG:   /* f = 1/2 sum lambda (x - c)^2, g = lambda (.) (x - c) */
            for (size_t k = 0; k < d; k++) {
                fref += 0.5 * t.lambda[k] * (x[k] - t.c[k]) * (x[k] - t.c[k]);
                gref[k] = t.lambda[k] * (x[k] - t.c[k]);
            }
            break;
        case QDENSE:  /* f = 1/2 u^T A u, g = A u */
            for (size_t j = 0; j < d; j++)
                for (size_t k = 0; k < d; k++) {
                    fref += 0.5 * (x[j] - t.c[j]) * t.A[j * d + k] * (x[k] - t.c[k]);
                    gref[j] += t.A[j * d + k] * (x[k] - t.c[k]);
                }
            break;
        case LINREG:  /* population loss 1/2 sigma^2 + 1/2 ||w - w*||_H^2, g = H (w - w*) */
            fref = 0.5 * t.sigma2;
            for (size_t k = 0; k < d; k++) {
                fref += 0.5 * t.lambda[k] * (x[k] - t.wstar[k]) * (x[k] - t.wstar[k]);
                gref[k] = t.lambda[k] * (x[k] - t.wstar[k]);
            }
            break;
        case LDATA:   /* f = ||X w - y||^2 / 2n, g = X^T (X w - y) / n */
            for (size_t i = 0; i < n; i++) {
                double r = -t.y[i];
                for (size_t k = 0; k < d; k++) r += t.X[i * d + k] * x[k];
                fref += 0.5 * r * r / (double)n;
                for (size_t k = 0; k < d; k++) gref[k] += r * t.X[i * d + k] / (double)n;
            }
            break;
        case LOGREG:  /* f = mean log(1 + exp(-y <x_i, w>)) + ridge/2 ||w||^2 */
            for (size_t i = 0; i < n; i++) {
                double m = 0.0;
                for (size_t k = 0; k < d; k++) m += t.X[i * d + k] * x[k];
                m *= t.y[i];
                fref += log(1.0 + exp(-m)) / (double)n;   /* margins here are O(1): naive is fine */
                for (size_t k = 0; k < d; k++) gref[k] -= t.y[i] * sigm(-m) * t.X[i * d + k] / (double)n;
            }
            for (size_t k = 0; k < d; k++) {
                fref += 0.5 * t.ridge * x[k] * x[k];
                gref[k] += t.ridge * x[k];
            }
            break;
        }
        OD_ASSERT_CLOSE(f, fref, tp_eps(&t) * tp_fscale(&t, x));
        for (size_t k = 0; k < d; k++) OD_ASSERT_CLOSE(g[k], gref[k], tp_eps(&t) * gs[k]);
        tp_free(&t);
    }
}

/* Logistic loss at w = 0 is log 2 for every sample whatever the data (plus ridge * 0); the
 * gradient there is -(1/2n) sum_i y_i x_i. */
static void test_logreg_origin(void)
{
    tp t;
    tp_build(&t, LOGREG);
    double w0[MAXD] = {0}, g[MAXD], f;
    CU_ASSERT_EQUAL(od_problem_grad(t.p, w0, g, &f), OD_OK);
    OD_ASSERT_CLOSE(f, M_LN2, 4.0 * (double)t.n * EPS * M_LN2);
    for (size_t k = 0; k < t.d; k++) {
        double ref = 0.0, mag = 0.0;
        for (size_t i = 0; i < t.n; i++) {
            ref -= 0.5 * t.y[i] * t.X[i * t.d + k] / (double)t.n;
            mag += 0.5 * fabs(t.X[i * t.d + k]) / (double)t.n;
        }
        OD_ASSERT_CLOSE(g[k], ref, tp_eps(&t) * mag);
    }
    tp_free(&t);
}

/* Margins of +-1000: l(1000) = log1p(e^-1000) = 0 in double, l(-1000) = 1000 exactly; the gradient
 * weights are sigma(-1000) = 0 and sigma(1000) = 1; the curvature e^-1000 underflows to 0. */
static void test_logreg_extreme_margins(void)
{
    const double X[4] = {1000.0, 0.0, 0.0, -1000.0}, y[2] = {1.0, 1.0}, w[2] = {1.0, 1.0};
    od_problem *p = NULL;
    CU_ASSERT_EQUAL_FATAL(od_problem_logreg_data(2, 2, X, y, 0.0, &p), OD_OK);
    double f, g[2], hv[2], cov[4], fi, gi[2];
    const double v[2] = {0.3, -1.7};
    CU_ASSERT_EQUAL(od_problem_grad(p, w, g, &f), OD_OK);
    OD_ASSERT_CLOSE(f, 500.0, 500.0 * EPS);
    OD_ASSERT_CLOSE(g[0], 0.0, 0.0);
    OD_ASSERT_CLOSE(g[1], 500.0, 500.0 * EPS);   /* -(1/2) * 1 * sigma(1000) * (-1000) */
    CU_ASSERT_EQUAL(od_problem_hvp(p, w, v, hv), OD_OK);
    CU_ASSERT(od_all_finite(2, hv));
    OD_ASSERT_CLOSE(hv[0], 0.0, 1e-300);
    OD_ASSERT_CLOSE(hv[1], 0.0, 1e-300);
    CU_ASSERT_EQUAL(od_problem_noise_cov(p, w, cov), OD_OK);
    CU_ASSERT(od_all_finite(4, cov));
    CU_ASSERT_EQUAL(od_problem_sample_loss(p, w, 0, &fi), OD_OK);
    OD_ASSERT_CLOSE(fi, 0.0, 1e-300);
    CU_ASSERT_EQUAL(od_problem_sample_loss(p, w, 1, &fi), OD_OK);
    OD_ASSERT_CLOSE(fi, 1000.0, 0.0);
    CU_ASSERT_EQUAL(od_problem_sample_grad(p, w, 1, gi), OD_OK);
    CU_ASSERT(od_all_finite(2, gi));
    OD_ASSERT_CLOSE(gi[1], 1000.0, 1000.0 * EPS);
    /* and the opposite signs: w = -(1, 1) swaps the roles */
    const double wm[2] = {-1.0, -1.0};
    CU_ASSERT_EQUAL(od_problem_grad(p, wm, g, &f), OD_OK);
    OD_ASSERT_CLOSE(f, 500.0, 500.0 * EPS);
    CU_ASSERT(od_all_finite(2, g));
    OD_ASSERT_CLOSE(g[0], -500.0, 500.0 * EPS);
    od_problem_free(p);
}

/* The least-squares minimizer has zero gradient up to the rounding of the normal equations:
 * Cholesky is backward stable, (G + E) w = b + e with |E| <= (d + 1) eps |L||L^T| and |L||L^T|_jk <=
 * sqrt(G_jj G_kk); forming G = X^T X and b = X^T y adds n eps |X|^T|X| and n eps |X|^T|y|.  So
 * |grad_k| <= c (n + 2d) eps [sum_j sqrt(G_kk G_jj) |w_j| + (|X|^T |y|)_k] / n (+ the gradient's own
 * rounding). */
static void test_linreg_data_xstar(void)
{
    tp t;
    tp_build(&t, LDATA);
    const size_t d = t.d, n = t.n;
    CU_ASSERT_PTR_NOT_NULL_FATAL(t.p->xstar);
    double g[MAXD], f, gs[MAXD], Gd[MAXD] = {0};
    CU_ASSERT_EQUAL(od_problem_grad(t.p, t.p->xstar, g, &f), OD_OK);
    OD_ASSERT_CLOSE(f, t.p->fstar, 0.0);
    tp_gscale(&t, t.p->xstar, gs);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < d; k++) Gd[k] += t.X[i * d + k] * t.X[i * d + k];
    for (size_t k = 0; k < d; k++) {
        double b = 0.0, gw = 0.0;
        for (size_t i = 0; i < n; i++) b += fabs(t.X[i * d + k] * t.y[i]);
        for (size_t j = 0; j < d; j++) gw += sqrt(Gd[k] * Gd[j]) * fabs(t.p->xstar[j]);
        const double tol = 8.0 * (double)(n + 2 * d + 2) * EPS * (gw + b) / (double)n + tp_eps(&t) * gs[k];
        OD_ASSERT_CLOSE(g[k], 0.0, tol);
    }
    /* any other point has a larger loss: f(x*) <= f(x*) + 1/2 v^T H v exactly for quadratics */
    double w[MAXD], f2;
    for (size_t k = 0; k < d; k++) w[k] = t.p->xstar[k] + 0.01 * (double)(k + 1);
    CU_ASSERT_EQUAL(od_problem_loss(t.p, w, &f2), OD_OK);
    CU_ASSERT(f2 > t.p->fstar);
    tp_free(&t);

    /* rank deficient (a repeated column, or n < d): no minimizer is claimed */
    double X[6 * 3], y[6];
    od_stream s;
    od_stream_init(&s, SEED, 9);
    for (size_t i = 0; i < 6; i++) {
        X[i * 3] = od_stream_normal(&s);
        X[i * 3 + 1] = od_stream_normal(&s);
        X[i * 3 + 2] = X[i * 3];
        y[i] = od_stream_normal(&s);
    }
    od_problem *p = NULL;
    CU_ASSERT_EQUAL_FATAL(od_problem_linreg_data(6, 3, X, y, &p), OD_OK);
    CU_ASSERT_PTR_NULL(p->xstar);
    CU_ASSERT(isnan(p->fstar));
    od_problem_free(p);
    CU_ASSERT_EQUAL_FATAL(od_problem_linreg_data(2, 3, X, y, &p), OD_OK);
    CU_ASSERT_PTR_NULL(p->xstar);
    od_problem_free(p);
    /* numerically rank deficient: columns 0 and 2 differ by 1e-7 relative, so kappa(X^T X) ~ 1e15
     * and the normal equations lose every digit (Cholesky still succeeds here, with a last pivot
     * L_22^2 ~ 1e-15 G_00 below the rank threshold n d eps max G_kk); no minimizer either */
    for (size_t i = 0; i < 6; i++) X[i * 3 + 2] = X[i * 3] * (1.0 + 1e-7 * od_stream_normal(&s));
    CU_ASSERT_EQUAL_FATAL(od_problem_linreg_data(6, 3, X, y, &p), OD_OK);
    CU_ASSERT_PTR_NULL(p->xstar);
    od_problem_free(p);
}

/* A saddle: curvature of both signs.  No minimizer, grad(c) = 0 exactly, e_k^T H e_k = lambda_k,
 * and the loss decreases along a negative-curvature direction. */
static void test_quadratic_saddle(void)
{
    tp t;
    tp_build(&t, QDIAG);
    CU_ASSERT_PTR_NULL(t.p->xstar);
    double g[MAXD], f, hv[MAXD];
    CU_ASSERT_EQUAL(od_problem_grad(t.p, t.c, g, &f), OD_OK);
    for (size_t k = 0; k < t.d; k++) OD_ASSERT_CLOSE(g[k], 0.0, 0.0);
    OD_ASSERT_CLOSE(f, 0.0, 0.0);
    double x[MAXD];
    memcpy(x, t.c, sizeof x);
    x[1] += 0.5;   /* lambda_1 = -0.731 */
    CU_ASSERT_EQUAL(od_problem_loss(t.p, x, &f), OD_OK);
    /* x_1 - c_1 is 0.5 up to the rounding of c_1 + 0.5 */
    OD_ASSERT_CLOSE(f, 0.5 * -0.731 * 0.25, 0.731 * 0.5 * 4.0 * EPS * (fabs(t.c[1]) + 1.0));
    double e1[MAXD] = {0, 1, 0, 0, 0};
    CU_ASSERT_EQUAL(od_problem_hvp(t.p, x, e1, hv), OD_OK);
    OD_ASSERT_CLOSE(hv[1], -0.731, 0.0);
    tp_free(&t);

    /* all curvatures positive: xstar = c, fstar = 0 */
    const double lam[3] = {2.385, 0.731, 1.618}, c[3] = {0.3, -1.2, 0.77};
    od_problem *p = NULL;
    CU_ASSERT_EQUAL_FATAL(od_problem_quadratic_diag(3, lam, c, NULL, &p), OD_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p->xstar);
    for (size_t k = 0; k < 3; k++) OD_ASSERT_CLOSE(p->xstar[k], c[k], 0.0);
    OD_ASSERT_CLOSE(p->fstar, 0.0, 0.0);
    /* noise-free: the minibatch gradient is the gradient and draws nothing */
    od_stream s1, s2;
    od_stream_init(&s1, SEED, 3);
    s2 = s1;
    double gb[3], gg[3], z[3];
    CU_ASSERT_EQUAL(od_problem_batch_grad(p, lam, 4, &s1, gb, NULL), OD_OK);
    CU_ASSERT_EQUAL(od_problem_grad(p, lam, gg, NULL), OD_OK);
    for (size_t k = 0; k < 3; k++) OD_ASSERT_CLOSE(gb[k], gg[k], 0.0);
    CU_ASSERT_EQUAL(od_stream_u32(&s1), od_stream_u32(&s2));
    CU_ASSERT_EQUAL(od_problem_noise_sample(p, lam, &s1, z), OD_OK);
    for (size_t k = 0; k < 3; k++) OD_ASSERT_CLOSE(z[k], 0.0, 0.0);
    od_problem_free(p);
}

/* ---- the sampling contract --------------------------------------------------------------------- */

/* batch_grad and sample_grads on identically positioned streams draw the same batch (and leave
 * the streams at the same position); batch_grad is the mean of the rows up to the rounding of a
 * B-term mean of d-term sums.  For finite data, the same indices through index_grad give the same
 * gradient and the minibatch loss. */
static void test_batch_is_mean_of_rows(void)
{
    enum { B = 7 };
    for (int kind = 0; kind < N_KINDS; kind++) {
        tp t;
        tp_build(&t, kind);
        const size_t d = t.d;
        od_stream s1, s2, s3;
        od_stream_init(&s1, SEED, 17);
        od_stream_seek(&s1, 3, 11);
        s3 = s2 = s1;
        double g[MAXD], G[B * MAXD], f, cov[MAXD * MAXD];
        CU_ASSERT_EQUAL(od_problem_batch_grad(t.p, t.x, B, &s1, g, &f), OD_OK);
        CU_ASSERT_EQUAL(od_problem_sample_grads(t.p, t.x, B, &s2, G), OD_OK);
        CU_ASSERT_EQUAL(od_stream_u32(&s1), od_stream_u32(&s2));
        CU_ASSERT_EQUAL(od_problem_noise_cov(t.p, t.x, cov), OD_OK);
        double tol[MAXD];
        for (size_t k = 0; k < d; k++) {
            double mean = 0.0, mag = 0.0;
            for (size_t b = 0; b < B; b++) {
                mean += G[b * d + k] / B;
                mag += fabs(G[b * d + k]) / B;
            }
            /* the noise terms (L z for the dense quadratic) may cancel inside a row: add a bound
             * on their size, sqrt(d Sigma1_kk) times 10 */
            mag += 10.0 * sqrt((double)d * cov[k * d + k]);
            tol[k] = 8.0 * (double)(B + d + t.n + 2) * EPS * mag;
            OD_ASSERT_CLOSE(g[k], mean, tol[k]);
        }
        if (t.n > 0) {
            uint32_t idx[B];
            for (size_t b = 0; b < B; b++) idx[b] = od_stream_below(&s3, (uint32_t)t.n);
            double gi[MAXD], fi, fl = 0.0;
            CU_ASSERT_EQUAL(od_problem_index_grad(t.p, t.x, idx, B, gi, &fi), OD_OK);
            for (size_t b = 0; b < B; b++) {
                double row[MAXD], l;
                CU_ASSERT_EQUAL(od_problem_sample_grad(t.p, t.x, idx[b], row), OD_OK);
                for (size_t k = 0; k < d; k++) OD_ASSERT_CLOSE(G[b * d + k], row[k], 0.0);
                CU_ASSERT_EQUAL(od_problem_sample_loss(t.p, t.x, idx[b], &l), OD_OK);
                fl += l / B;
            }
            for (size_t k = 0; k < d; k++) OD_ASSERT_CLOSE(gi[k], g[k], tol[k]);
            OD_ASSERT_CLOSE(fi, f, 8.0 * (B + 2) * EPS * fabs(f));
            OD_ASSERT_CLOSE(fl, f, 8.0 * (B + 2) * EPS * fabs(f));
        }
        tp_free(&t);
    }
}

/* Monte Carlo: the mean of M minibatch gradients (B = 3) is unbiased, each coordinate within
 * zcrit(d + 1) exact standard errors sqrt(Sigma1_kk / (B M)); so is the minibatch loss, within
 * zcrit(d + 1) plug-in standard errors (the additive-noise quadratics report f(x) exactly). */
static void test_mc_mean(void)
{
    enum { B = 3, M = 50000 };
    for (int kind = 0; kind < N_KINDS; kind++) {
        tp t;
        tp_build(&t, kind);
        const size_t d = t.d;
        double g[MAXD], gb[MAXD], sum[MAXD] = {0}, cov[MAXD * MAXD], f, fb, f1 = 0.0, f2 = 0.0;
        CU_ASSERT_EQUAL(od_problem_grad(t.p, t.x, g, &f), OD_OK);
        CU_ASSERT_EQUAL(od_problem_noise_cov(t.p, t.x, cov), OD_OK);
        od_stream s;
        od_stream_init(&s, SEED, 21);
        for (uint32_t m = 0; m < M; m++) {
            od_stream_seek(&s, m, 0);
            CU_ASSERT_EQUAL(od_problem_batch_grad(t.p, t.x, B, &s, gb, &fb), OD_OK);
            for (size_t k = 0; k < d; k++) sum[k] += gb[k];
            f1 += fb;
            f2 += fb * fb;
        }
        for (size_t k = 0; k < d; k++) {
            const double se = sqrt(cov[k * d + k] / (B * (double)M));
            OD_ASSERT_CLOSE(sum[k] / M, g[k], zcrit(d + 1) * se);
        }
        const double se_f = sqrt(fmax(f2 - f1 * f1 / M, 0.0) / (M - 1) / M);
        OD_ASSERT_CLOSE(f1 / M, f, zcrit(d + 1) * se_f + 8.0 * M * EPS * fabs(f));
        tp_free(&t);
    }
}

/* Entrywise comparison of the empirical covariance of M samples (rows of Y, M-by-d) with C, each
 * entry within zcrit(d(d+1)/2) plug-in standard errors of the covariance estimator:
 * Var(C_hat_jk) ~ Var((y_j - mu_j)(y_k - mu_k)) / M. */
static void check_cov(const char *what, size_t M, size_t d, const double *Y, const double *C)
{
    double mean[MAXD] = {0};
    for (size_t m = 0; m < M; m++)
        for (size_t k = 0; k < d; k++) mean[k] += Y[m * d + k] / (double)M;
    const double z = zcrit(d * (d + 1) / 2);
    for (size_t j = 0; j < d; j++)
        for (size_t k = 0; k <= j; k++) {
            double s1 = 0.0, s2 = 0.0;
            for (size_t m = 0; m < M; m++) {
                double q = (Y[m * d + j] - mean[j]) * (Y[m * d + k] - mean[k]);
                s1 += q;
                s2 += q * q;
            }
            const double chat = s1 / (double)(M - 1);
            const double var_q = (s2 - s1 * s1 / (double)M) / (double)(M - 1);
            const double se = sqrt(fmax(var_q, 0.0) / (double)M);
            const double zz = se > 0 ? fabs(chat - C[j * d + k]) / se : (chat == C[j * d + k] ? 0 : INFINITY);
            if (zz > z)
                fprintf(stderr, "\n  %s: cov[%zu][%zu] = %.6g vs %.6g (%.2f SE > %.2f)\n", what, j, k,
                        chat, C[j * d + k], zz, z);
            CU_ASSERT(zz <= z);
        }
}

/* The empirical covariance of M per-sample gradients is Sigma1 = noise_cov. */
static void test_mc_sample_cov(void)
{
    enum { M = 100000 };
    double *Y = malloc(M * MAXD * sizeof *Y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(Y);
    for (int kind = 0; kind < N_KINDS; kind++) {
        tp t;
        tp_build(&t, kind);
        double cov[MAXD * MAXD];
        CU_ASSERT_EQUAL(od_problem_noise_cov(t.p, t.x, cov), OD_OK);
        od_stream s;
        od_stream_init(&s, SEED, 22);
        CU_ASSERT_EQUAL(od_problem_sample_grads(t.p, t.x, M, &s, Y), OD_OK);
        check_cov(t.name, M, t.d, Y, cov);
        tp_free(&t);
    }
    free(Y);
}

/* noise_sample draws N(0, Sigma1): mean within zcrit(d) exact SE of 0, covariance = noise_cov. */
static void test_mc_noise_sample(void)
{
    enum { M = 100000 };
    double *Y = malloc(M * MAXD * sizeof *Y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(Y);
    for (int kind = 0; kind < N_KINDS; kind++) {
        tp t;
        tp_build(&t, kind);
        const size_t d = t.d;
        double cov[MAXD * MAXD], sum[MAXD] = {0};
        CU_ASSERT_EQUAL(od_problem_noise_cov(t.p, t.x, cov), OD_OK);
        od_stream s;
        od_stream_init(&s, SEED, 23);
        for (size_t m = 0; m < M; m++) {
            CU_ASSERT_EQUAL(od_problem_noise_sample(t.p, t.x, &s, Y + m * d), OD_OK);
            for (size_t k = 0; k < d; k++) sum[k] += Y[m * d + k];
        }
        for (size_t k = 0; k < d; k++)
            OD_ASSERT_CLOSE(sum[k] / M, 0.0, zcrit(d) * sqrt(cov[k * d + k] / M));
        check_cov(t.name, M, d, Y, cov);
        tp_free(&t);
    }
    free(Y);
}

/* The covariance of a minibatch gradient is Sigma1 / B: the trace and a random quadratic form of
 * the empirical covariance of M batch gradients (B = 8) against tr Sigma1 / B and u^T Sigma1 u / B,
 * each within zcrit(2) plug-in standard errors. */
static void test_mc_batch_scaling(void)
{
    enum { B = 8, M = 20000 };
    double *Y = malloc(M * MAXD * sizeof *Y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(Y);
    od_stream su;
    od_stream_init(&su, SEED, 8);
    for (int kind = 0; kind < N_KINDS; kind++) {
        tp t;
        tp_build(&t, kind);
        const size_t d = t.d;
        double cov[MAXD * MAXD], mean[MAXD] = {0}, u[MAXD];
        normals(&su, u, d, 1.0, 0.0);
        CU_ASSERT_EQUAL(od_problem_noise_cov(t.p, t.x, cov), OD_OK);
        od_stream s;
        od_stream_init(&s, SEED, 24);
        for (uint32_t m = 0; m < M; m++) {
            od_stream_seek(&s, m, 0);
            CU_ASSERT_EQUAL(od_problem_batch_grad(t.p, t.x, B, &s, Y + m * d, NULL), OD_OK);
            for (size_t k = 0; k < d; k++) mean[k] += Y[m * d + k] / M;
        }
        double tr_ref = 0.0, q_ref = 0.0;
        for (size_t j = 0; j < d; j++) {
            tr_ref += cov[j * d + j] / B;
            for (size_t k = 0; k < d; k++) q_ref += u[j] * cov[j * d + k] * u[k] / B;
        }
        double t1 = 0.0, t2 = 0.0, q1 = 0.0, q2 = 0.0;
        for (size_t m = 0; m < M; m++) {
            double tr = 0.0, pr = 0.0;
            for (size_t k = 0; k < d; k++) {
                double e = Y[m * d + k] - mean[k];
                tr += e * e;
                pr += u[k] * e;
            }
            t1 += tr;
            t2 += tr * tr;
            q1 += pr * pr;
            q2 += pr * pr * pr * pr;
        }
        const double tr_hat = t1 / (M - 1), q_hat = q1 / (M - 1);
        const double se_tr = sqrt((t2 - t1 * t1 / M) / (M - 1) / M);
        const double se_q = sqrt((q2 - q1 * q1 / M) / (M - 1) / M);
        OD_ASSERT_CLOSE(tr_hat, tr_ref, zcrit(2) * se_tr);
        OD_ASSERT_CLOSE(q_hat, q_ref, zcrit(2) * se_q);
        tp_free(&t);
    }
    free(Y);
}

/* Thread safety and addressed randomness: minibatch gradients over 64 paths computed by OpenMP
 * threads are bitwise the serial ones. */
static void test_parallel_determinism(void)
{
    enum { P = 64, B = 5 };
    static const int kinds[] = {QDENSE, LINREG, LOGREG};
    for (size_t q = 0; q < sizeof kinds / sizeof kinds[0]; q++) {
        tp t;
        tp_build(&t, kinds[q]);
        const size_t d = t.d;
        double serial[P * MAXD], par[P * MAXD];
        int bad = 0;
        for (uint32_t i = 0; i < P; i++) {
            od_stream s;
            od_stream_init(&s, SEED, 30);
            od_stream_seek(&s, i, 2);
            bad |= od_problem_batch_grad(t.p, t.x, B, &s, serial + i * d, NULL);
        }
#pragma omp parallel for schedule(dynamic, 1) reduction(| : bad)
        for (int i = 0; i < P; i++) {
            od_stream s;
            od_stream_init(&s, SEED, 30);
            od_stream_seek(&s, (uint32_t)i, 2);
            bad |= od_problem_batch_grad(t.p, t.x, B, &s, par + (size_t)i * d, NULL);
        }
        CU_ASSERT_EQUAL(bad, 0);
        CU_ASSERT_EQUAL(memcmp(serial, par, P * d * sizeof(double)), 0);
        tp_free(&t);
    }
}

/* ---- finite-data helpers ----------------------------------------------------------------------- */

/* The means of sample_loss / sample_grad / sample_hvp over all i are loss / grad / hvp, to the
 * rounding of n-term means. */
static void test_finite_means(void)
{
    static const int kinds[] = {LDATA, LOGREG};
    od_stream s;
    od_stream_init(&s, SEED, 10);
    for (size_t q = 0; q < 2; q++) {
        tp t;
        tp_build(&t, kinds[q]);
        const size_t d = t.d, n = t.n;
        double g[MAXD], gs[MAXD], f, hv[MAXD], v[MAXD], H[MAXD * MAXD], Hs[MAXD * MAXD];
        double gm[MAXD] = {0}, hm[MAXD] = {0}, fm = 0.0, row[MAXD];
        normals(&s, v, d, 1.0, 0.0);
        CU_ASSERT_EQUAL(od_problem_grad(t.p, t.x, g, &f), OD_OK);
        CU_ASSERT_EQUAL(od_problem_hvp(t.p, t.x, v, hv), OD_OK);
        for (size_t i = 0; i < n; i++) {
            double fi;
            CU_ASSERT_EQUAL(od_problem_sample_loss(t.p, t.x, i, &fi), OD_OK);
            fm += fi / (double)n;
            CU_ASSERT_EQUAL(od_problem_sample_grad(t.p, t.x, i, row), OD_OK);
            for (size_t k = 0; k < d; k++) gm[k] += row[k] / (double)n;
            CU_ASSERT_EQUAL(od_problem_sample_hvp(t.p, t.x, i, v, row), OD_OK);
            for (size_t k = 0; k < d; k++) hm[k] += row[k] / (double)n;
        }
        tp_gscale(&t, t.x, gs);
        tp_hessian(&t, t.x, H, Hs);
        OD_ASSERT_CLOSE(fm, f, tp_eps(&t) * tp_fscale(&t, t.x));
        for (size_t k = 0; k < d; k++) {
            double hs = 0.0;
            for (size_t j = 0; j < d; j++) hs += Hs[k * d + j] * fabs(v[j]);
            OD_ASSERT_CLOSE(gm[k], g[k], tp_eps(&t) * gs[k]);
            OD_ASSERT_CLOSE(hm[k], hv[k], tp_eps(&t) * hs);
        }
        tp_free(&t);
    }
}

/* od_problem_finite_noise_cov against its definition, evaluated here the other way round:
 * (1/n) sum g_i g_i^T - g g^T in long double (the raw second moment, a different algorithm from
 * the centred sum of the library), entrywise within tp_eps * ((1/n) sum |g_ij g_ik| + |g_j g_k|);
 * symmetric exactly; positive semi-definite to rounding. */
static void test_finite_noise_cov(void)
{
    static const int kinds[] = {LDATA, LOGREG};
    for (size_t q = 0; q < 2; q++) {
        tp t;
        tp_build(&t, kinds[q]);
        const size_t d = t.d, n = t.n;
        double cov[MAXD * MAXD], row[MAXD], mag[MAXD * MAXD] = {0}, ev[MAXD];
        long double m2[MAXD * MAXD] = {0}, m1[MAXD] = {0};
        CU_ASSERT_EQUAL(od_problem_finite_noise_cov(t.p, t.x, cov), OD_OK);
        for (size_t i = 0; i < n; i++) {
            CU_ASSERT_EQUAL(od_problem_sample_grad(t.p, t.x, i, row), OD_OK);
            for (size_t j = 0; j < d; j++) {
                m1[j] += row[j];
                for (size_t k = 0; k < d; k++) {
                    m2[j * d + k] += (long double)row[j] * row[k];
                    mag[j * d + k] += fabs(row[j] * row[k]) / (double)n;
                }
            }
        }
        for (size_t j = 0; j < d; j++)
            for (size_t k = 0; k < d; k++) {
                long double mj = m1[j] / n, mk = m1[k] / n;
                double ref = (double)(m2[j * d + k] / n - mj * mk);
                OD_ASSERT_CLOSE(cov[j * d + k], ref, tp_eps(&t) * (mag[j * d + k] + fabs((double)(mj * mk))));
                CU_ASSERT_EQUAL(cov[j * d + k], cov[k * d + j]);
            }
        CU_ASSERT_EQUAL(od_symm_eigen(d, cov, ev, NULL), OD_OK);
        OD_ASSERT_CLOSE(fmin(ev[d - 1], 0.0), 0.0, tp_eps(&t) * ev[0]);
        tp_free(&t);
    }
}

/* A toy finite problem built only from per-sample methods and the generic helpers:
 * f_i(x) = 1/2 ||x - a_i||^2, grad f_i = x - a_i; no grad and no hvp method.  d = 300 exceeds the
 * helpers' stack scratch, so their heap path runs too. */
typedef struct {
    size_t n;
    const double *a;
} toy_data;

static int toy_sample_loss(const od_problem *p, const double *x, size_t i, double *fi)
{
    const toy_data *t = p->data;
    double acc = 0.0;
    for (size_t k = 0; k < p->dim; k++) acc += 0.5 * (x[k] - t->a[i * p->dim + k]) * (x[k] - t->a[i * p->dim + k]);
    *fi = acc;
    return OD_OK;
}

static int toy_sample_grad(const od_problem *p, const double *x, size_t i, double *gi)
{
    const toy_data *t = p->data;
    for (size_t k = 0; k < p->dim; k++) gi[k] = x[k] - t->a[i * p->dim + k];
    return OD_OK;
}

static const od_problem_type toy_type = {
    .name = "toy",
    .batch_grad = od_problem_finite_batch_grad,
    .sample_grads = od_problem_finite_sample_grads,
    .sample_loss = toy_sample_loss,
    .sample_grad = toy_sample_grad,
    .noise_cov = od_problem_finite_noise_cov,
};

static void test_finite_helpers_generic(void)
{
    enum { N = 5, D = 300, B = 9 };
    double *a = malloc(N * D * sizeof *a), *x = malloc(D * sizeof *x), *g = malloc(D * sizeof *g);
    double *G = malloc(B * D * sizeof *G), *cov = malloc(D * D * sizeof *cov);
    CU_ASSERT_FATAL(a && x && g && G && cov);
    od_stream s;
    od_stream_init(&s, SEED, 11);
    normals(&s, a, N * D, 1.0, 0.0);
    normals(&s, x, D, 0.5, 0.1);
    toy_data td = {N, a};
    od_problem *p = od_problem_alloc(&toy_type, D, N, &td);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_STRING_EQUAL(p->label, "toy");
    CU_ASSERT(isnan(p->fstar));
    CU_ASSERT_PTR_NULL(p->xstar);
    CU_ASSERT_PTR_NULL(p->x0);

    /* batch = x - mean of the drawn a_i; the rows are x - a_i for the same draws */
    od_stream s1, s2, s3;
    od_stream_init(&s1, SEED, 12);
    s3 = s2 = s1;
    double f;
    CU_ASSERT_EQUAL(od_problem_batch_grad(p, x, B, &s1, g, &f), OD_OK);
    CU_ASSERT_EQUAL(od_problem_sample_grads(p, x, B, &s2, G), OD_OK);
    CU_ASSERT_EQUAL(od_stream_u32(&s1), od_stream_u32(&s2));
    uint32_t idx[B];
    double fref = 0.0;
    for (size_t b = 0; b < B; b++) {
        idx[b] = od_stream_below(&s3, N);
        double fi;
        toy_sample_loss(p, x, idx[b], &fi);
        fref += fi / B;
    }
    OD_ASSERT_CLOSE(f, fref, 8.0 * (B + D) * EPS * fref);
    for (size_t k = 0; k < D; k++) {
        double am = 0.0, mag = fabs(x[k]);
        for (size_t b = 0; b < B; b++) {
            am += a[idx[b] * D + k] / B;
            mag += fabs(a[idx[b] * D + k]) / B;
            OD_ASSERT_CLOSE(G[b * D + k], x[k] - a[idx[b] * D + k], 0.0);
        }
        OD_ASSERT_CLOSE(g[k], x[k] - am, 8.0 * (B + 2) * EPS * mag);
    }
    double gi[D];
    CU_ASSERT_EQUAL(od_problem_index_grad(p, x, idx, B, gi, NULL), OD_OK);
    for (size_t k = 0; k < D; k++) OD_ASSERT_CLOSE(gi[k], g[k], 0.0);   /* the same code path */

    /* noise_cov = the covariance of the a_i (the x cancels), computed here in long double */
    CU_ASSERT_EQUAL(od_problem_noise_cov(p, x, cov), OD_OK);
    int ok = 1;
    for (size_t j = 0; j < D && ok; j++)
        for (size_t k = 0; k < D && ok; k++) {
            long double mj = 0, mk = 0, c = 0, mag = 0;
            for (size_t i = 0; i < N; i++) {
                mj += a[i * D + j] / (long double)N;
                mk += a[i * D + k] / (long double)N;
            }
            for (size_t i = 0; i < N; i++) {
                c += (a[i * D + j] - mj) * (a[i * D + k] - mk) / N;
                mag += fabsl((x[j] - a[i * D + j]) * (x[k] - a[i * D + k])) / N;
            }
            ok = fabs(cov[j * D + k] - (double)c) <= 8.0 * (N + 8) * EPS * (double)mag;
            if (!ok) OD_ASSERT_CLOSE(cov[j * D + k], (double)c, 8.0 * (N + 8) * EPS * (double)mag);
        }
    CU_ASSERT(ok);

    /* missing methods and bad indices */
    od_clear_error();
    CU_ASSERT_EQUAL(od_problem_hvp(p, x, x, g), OD_ENOTSUP);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "hvp"));
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "toy"));
    CU_ASSERT_EQUAL(od_problem_grad(p, x, g, NULL), OD_ENOTSUP);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "'grad'"));
    CU_ASSERT_EQUAL(od_problem_noise_sample(p, x, &s, g), OD_ENOTSUP);
    CU_ASSERT_EQUAL(od_problem_sample_grad(p, x, N, g), OD_ERANGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "index 5"));
    CU_ASSERT_EQUAL(od_problem_sample_loss(p, x, (size_t)-1, &f), OD_ERANGE);
    uint32_t bad[2] = {1, N};
    CU_ASSERT_EQUAL(od_problem_index_grad(p, x, bad, 2, g, NULL), OD_ERANGE);
    CU_ASSERT_EQUAL(od_problem_batch_grad(p, x, 0, &s, g, NULL), OD_EINVAL);
    CU_ASSERT_EQUAL(od_problem_sample_grads(p, x, 0, &s, G), OD_EINVAL);
    CU_ASSERT_EQUAL(od_problem_loss(NULL, x, &f), OD_EINVAL);
    od_problem_free(p);
    od_problem_free(NULL);

    free(a);
    free(x);
    free(g);
    free(G);
    free(cov);
}

/* Streaming problems have no per-sample methods; the helpers refuse them. */
static void test_streaming_refuses_samples(void)
{
    tp t;
    tp_build(&t, LINREG);
    double g[MAXD], f;
    od_clear_error();
    CU_ASSERT_EQUAL(od_problem_sample_grad(t.p, t.x, 0, g), OD_ENOTSUP);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "sample_grad"));
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "linreg"));
    CU_ASSERT_EQUAL(od_problem_sample_loss(t.p, t.x, 0, &f), OD_ENOTSUP);
    CU_ASSERT_EQUAL(od_problem_sample_hvp(t.p, t.x, 0, t.x, g), OD_ENOTSUP);
    uint32_t idx = 0;
    CU_ASSERT_EQUAL(od_problem_index_grad(t.p, t.x, &idx, 1, g, NULL), OD_ENOTSUP);
    CU_ASSERT_EQUAL(od_problem_finite_noise_cov(t.p, t.x, g), OD_ENOTSUP);
    tp_free(&t);
}

/* ---- dense quadratic: the noise factor --------------------------------------------------------- */

/* A singular PSD S = u u^T + v v^T (rank 2 in d = 4) is accepted (clipped eigendecomposition);
 * noise samples lie in span{u, v} to rounding and have covariance S; an indefinite or asymmetric
 * input is refused with a message that says so. */
static void test_dense_noise_factor(void)
{
    enum { D = 4, M = 20000 };
    const double u[D] = {0.8, -0.3, 1.2, 0.05}, v[D] = {-0.4, 1.1, 0.3, 0.7};
    double S[D * D], A[D * D] = {0};
    for (size_t i = 0; i < D; i++) {
        A[i * D + i] = 1.0 + 0.5 * (double)i;
        for (size_t j = 0; j < D; j++) S[i * D + j] = u[i] * u[j] + v[i] * v[j];
    }
    od_problem *p = NULL;
    CU_ASSERT_EQUAL_FATAL(od_problem_quadratic_dense(D, A, NULL, S, &p), OD_OK);
    CU_ASSERT_PTR_NOT_NULL(p->xstar);   /* A is positive definite: xstar = c = 0 */
    double cov[D * D], x[D] = {0.1, 0.2, 0.3, 0.4};
    CU_ASSERT_EQUAL(od_problem_noise_cov(p, x, cov), OD_OK);
    for (size_t i = 0; i < D * D; i++) OD_ASSERT_CLOSE(cov[i], S[i], 0.0);
    /* the orthogonal complement of span{u, v}: Gram-Schmidt of two more vectors */
    double w1[D] = {1, 0, 0, 0}, w2[D] = {0, 1, 0, 0}, basis[4][D];
    memcpy(basis[0], u, sizeof u);
    memcpy(basis[1], v, sizeof v);
    memcpy(basis[2], w1, sizeof w1);
    memcpy(basis[3], w2, sizeof w2);
    for (size_t b = 0; b < 4; b++) {
        for (size_t c = 0; c < b; c++) od_axpy(D, -od_dot(D, basis[b], basis[c]), basis[c], basis[b]);
        od_scal(D, 1.0 / od_nrm2(D, basis[b]), basis[b]);
    }
    double *Y = malloc(M * D * sizeof *Y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(Y);
    od_stream s;
    od_stream_init(&s, SEED, 40);
    double worst = 0.0, maxnorm = 0.0;
    for (size_t m = 0; m < M; m++) {
        CU_ASSERT_EQUAL(od_problem_noise_sample(p, x, &s, Y + m * D), OD_OK);
        worst = fmax(worst, fmax(fabs(od_dot(D, basis[2], Y + m * D)), fabs(od_dot(D, basis[3], Y + m * D))));
        maxnorm = fmax(maxnorm, od_nrm2(D, Y + m * D));
    }
    /* the factor V diag(sqrt(mu)) has rounding eps*D per entry, and the clipped eigenvalues of
     * size ~ D eps ||S|| contribute sqrt(D eps ||S||) |z|: bound by that with |z| <= 7 */
    const double snorm = od_dot(D, u, u) + od_dot(D, v, v);
    OD_ASSERT_CLOSE(worst, 0.0, 16.0 * D * EPS * maxnorm + 7.0 * sqrt(16.0 * D * EPS * snorm));
    check_cov("singular S", M, D, Y, S);
    free(Y);
    od_problem_free(p);

    /* indefinite S: refused, and the message says why */
    S[0] -= 2.0;   /* u^T S u < 0 now */
    od_clear_error();
    CU_ASSERT_EQUAL(od_problem_quadratic_dense(D, A, NULL, S, &p), OD_EINVAL);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "indefinite"));
    /* asymmetric A */
    A[1] = 0.5;
    CU_ASSERT_EQUAL(od_problem_quadratic_dense(D, A, NULL, NULL, &p), OD_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "not symmetric"));
    CU_ASSERT_PTR_NULL(p);
}

/* Constructors refuse bad input and leave *out NULL. */
static void test_constructor_errors(void)
{
    od_problem *p = (od_problem *)&p;   /* not NULL, to see it cleared */
    const double lam[2] = {1.0, NAN}, ok[2] = {1.0, 2.0}, neg[2] = {1.0, -0.5};
    const double X[4] = {1, 2, 3, 4}, ybad[2] = {1.0, 0.5};
    CU_ASSERT_EQUAL(od_problem_quadratic_diag(2, lam, NULL, NULL, &p), OD_EINVAL);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "lambda[1]"));
    CU_ASSERT_EQUAL(od_problem_quadratic_diag(2, ok, NULL, neg, &p), OD_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "noise_sd[1]"));
    CU_ASSERT_EQUAL(od_problem_quadratic_diag(0, ok, NULL, NULL, &p), OD_EINVAL);
    CU_ASSERT_EQUAL(od_problem_linreg_stream(2, neg, NULL, 0.1, &p), OD_EINVAL);
    CU_ASSERT_EQUAL(od_problem_linreg_stream(2, ok, NULL, -0.1, &p), OD_EINVAL);
    CU_ASSERT_EQUAL(od_problem_logreg_data(2, 2, X, ybad, 0.0, &p), OD_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "y[1]"));
    CU_ASSERT_EQUAL(od_problem_logreg_data(2, 2, X, ok, -1.0, &p), OD_EINVAL);
    CU_ASSERT_EQUAL(od_problem_linreg_data(0, 2, X, ok, &p), OD_EINVAL);
    CU_ASSERT_PTR_NULL(p);
}

/* ---- registry ---------------------------------------------------------------------------------- */

static const od_problem_entry *const *const core_catalogs[] = {od_core_problems, NULL};

/* Every entry builds from its defaults; the result is usable (finite loss and gradient at the
 * origin, symmetric noise covariance) and labelled with its name. */
static void test_registry_defaults(void)
{
    size_t count = 0;
    for (size_t e = 0; od_core_problems[e]; e++, count++) {
        const od_problem_entry *en = od_core_problems[e];
        CU_ASSERT_PTR_EQUAL(od_problem_lookup(core_catalogs, en->name), en);
        CU_ASSERT(en->help && en->help[0]);
        for (size_t i = 0; i < en->n_params; i++) CU_ASSERT(en->params[i].help && en->params[i].help[0]);
        od_problem *p = NULL;
        int status = od_problem_from_spec(core_catalogs, en->name, SEED, &p);
        if (status != OD_OK) fprintf(stderr, "\n  %s: %s\n", en->name, od_last_error());
        CU_ASSERT_EQUAL_FATAL(status, OD_OK);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        CU_ASSERT(p->dim > 0);
        CU_ASSERT_EQUAL(strncmp(p->label, en->name, strlen(en->name)), 0);
        const size_t d = p->dim;
        double *x = calloc(d, sizeof *x), *g = calloc(d, sizeof *g), *gb = calloc(d, sizeof *gb);
        CU_ASSERT_FATAL(x && g && gb);
        double f;
        CU_ASSERT_EQUAL(od_problem_grad(p, x, g, &f), OD_OK);
        CU_ASSERT(isfinite(f) && od_all_finite(d, g));
        od_stream s;
        od_stream_init(&s, SEED, 50);
        CU_ASSERT_EQUAL(od_problem_batch_grad(p, x, 4, &s, gb, &f), OD_OK);
        CU_ASSERT(isfinite(f) && od_all_finite(d, gb));
        CU_ASSERT_EQUAL(od_problem_noise_sample(p, x, &s, gb), OD_OK);
        CU_ASSERT(od_all_finite(d, gb));
        if (d <= 200) {
            double *cov = malloc(d * d * sizeof *cov);
            CU_ASSERT_FATAL(cov != NULL);
            CU_ASSERT_EQUAL(od_problem_noise_cov(p, x, cov), OD_OK);
            for (size_t j = 0; j < d; j++)
                for (size_t k = 0; k < j; k++) CU_ASSERT_EQUAL(cov[j * d + k], cov[k * d + j]);
            free(cov);
        }
        free(x);
        free(g);
        free(gb);
        od_problem_free(p);
    }
    CU_ASSERT(count >= 5);
    CU_ASSERT_PTR_NULL(od_problem_lookup(core_catalogs, "nosuch"));
}

/* Specs with keys, against closed forms. */
static void test_registry_specs(void)
{
    od_problem *p = NULL;
    /* quadratic: lists and broadcast */
    CU_ASSERT_EQUAL_FATAL(od_problem_from_spec(core_catalogs,
                          "quadratic:d=3,lambda=2.385|-0.731|1.618,noise=0.5,center=0.3|-1.2|0.77",
                          SEED, &p), OD_OK);
    {
        const double lam[3] = {2.385, -0.731, 1.618}, c[3] = {0.3, -1.2, 0.77}, x[3] = {1.1, 0.4, -0.6};
        double f, g[3], cov[9], fref = 0.0;
        CU_ASSERT_EQUAL(p->dim, 3);
        CU_ASSERT_EQUAL(od_problem_grad(p, x, g, &f), OD_OK);
        CU_ASSERT_EQUAL(od_problem_noise_cov(p, x, cov), OD_OK);
        for (size_t k = 0; k < 3; k++) {
            fref += 0.5 * lam[k] * (x[k] - c[k]) * (x[k] - c[k]);
            OD_ASSERT_CLOSE(g[k], lam[k] * (x[k] - c[k]), 0.0);
            OD_ASSERT_CLOSE(cov[k * 3 + k], 0.25, 0.0);
        }
        OD_ASSERT_CLOSE(f, fref, 16 * EPS * 3.0);
        CU_ASSERT_PTR_NULL(p->xstar);   /* a saddle */
        CU_ASSERT_PTR_NOT_NULL(strstr(p->label, "lambda=2.385|-0.731|1.618"));
    }
    od_problem_free(p);

    /* linreg: lambda_k = k^-exp, loss(0) = sigma2/2 + wstar^2/2 sum lambda_k, xstar = wstar */
    CU_ASSERT_EQUAL_FATAL(od_problem_from_spec(core_catalogs, "linreg:d=7,exp=1.5,sigma2=0.25,wstar=0.5",
                                               SEED, &p), OD_OK);
    {
        double x[7] = {0}, f, fref = 0.125, e[7] = {0}, hv[7];
        CU_ASSERT_EQUAL(p->dim, 7);
        CU_ASSERT_EQUAL(p->n, 0);
        for (size_t k = 0; k < 7; k++) {
            fref += 0.5 * 0.25 * pow((double)(k + 1), -1.5);
            OD_ASSERT_CLOSE(p->xstar[k], 0.5, 0.0);
            e[k] = 1.0;
            CU_ASSERT_EQUAL(od_problem_hvp(p, x, e, hv), OD_OK);
            OD_ASSERT_CLOSE(hv[k], pow((double)(k + 1), -1.5), 2 * EPS);
            e[k] = 0.0;
        }
        CU_ASSERT_EQUAL(od_problem_loss(p, x, &f), OD_OK);
        OD_ASSERT_CLOSE(f, fref, 16 * 7 * EPS * fref);
        OD_ASSERT_CLOSE(p->fstar, 0.125, 0.0);
    }
    od_problem_free(p);
}

/* dense-quadratic: the Hessian's eigenvalues are cond^(-k/(d-1)) to rounding (the rotation is
 * orthogonal: errors ~ d eps); the Hessian noise shape gives S = s^2 A; the same seed gives the
 * same matrix, another seed another one. */
static void test_registry_dense_quadratic(void)
{
    enum { D = 6 };
    const char *spec = "dense-quadratic:d=6,cond=1000,noise=0.2,noise_shape=hessian,center=0.5";
    od_problem *p = NULL, *p2 = NULL, *p3 = NULL;
    CU_ASSERT_EQUAL_FATAL(od_problem_from_spec(core_catalogs, spec, SEED, &p), OD_OK);
    CU_ASSERT_EQUAL_FATAL(od_problem_from_spec(core_catalogs, spec, SEED, &p2), OD_OK);
    CU_ASSERT_EQUAL_FATAL(od_problem_from_spec(core_catalogs, spec, SEED + 1, &p3), OD_OK);
    double H[D * D], H2[D * D], H3[D * D], ev[D], cov[D * D], x[D] = {0};
    for (size_t k = 0; k < D; k++) {
        double e[D] = {0};
        e[k] = 1.0;
        od_problem_hvp(p, x, e, H + k * D);   /* columns = rows: H is symmetric */
        od_problem_hvp(p2, x, e, H2 + k * D);
        od_problem_hvp(p3, x, e, H3 + k * D);
    }
    CU_ASSERT_EQUAL(memcmp(H, H2, sizeof H), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(H, H3, sizeof H), 0);
    CU_ASSERT_EQUAL(od_symm_eigen(D, H, ev, NULL), OD_OK);
    for (size_t k = 0; k < D; k++) OD_ASSERT_CLOSE(ev[k], pow(1000.0, -(double)k / (D - 1)), 16.0 * D * EPS);
    CU_ASSERT_EQUAL(od_problem_noise_cov(p, x, cov), OD_OK);
    for (size_t i = 0; i < D * D; i++) OD_ASSERT_CLOSE(cov[i], 0.04 * H[i], 4 * EPS * fabs(0.04 * H[i]));
    CU_ASSERT_PTR_NOT_NULL(p->xstar);
    for (size_t k = 0; k < D; k++) OD_ASSERT_CLOSE(p->xstar[k], 0.5, 0.0);
    od_problem_free(p);
    od_problem_free(p2);
    od_problem_free(p3);

    /* a Haar rotation makes the law of A invariant under conjugation, so E A = (tr A / d) I: over
     * R seeds, each entry's mean within zcrit(6) plug-in standard errors of that */
    enum { R = 2000, D3 = 3 };
    double s1[D3 * D3] = {0}, s2[D3 * D3] = {0}, mu_mean = 0.0;
    for (size_t k = 0; k < D3; k++) mu_mean += pow(10.0, -(double)k) / D3;   /* cond 100, d = 3 */
    for (uint64_t r = 0; r < R; r++) {
        CU_ASSERT_EQUAL_FATAL(od_problem_from_spec(core_catalogs, "dense-quadratic:d=3,cond=100,noise=0",
                                                   SEED ^ (r * 0x9E3779B97F4A7C15ULL), &p), OD_OK);
        for (size_t k = 0; k < D3; k++) {
            double e[D3] = {0}, col[D3];
            e[k] = 1.0;
            od_problem_hvp(p, x, e, col);
            for (size_t j = 0; j < D3; j++) {
                s1[j * D3 + k] += col[j];
                s2[j * D3 + k] += col[j] * col[j];
            }
        }
        od_problem_free(p);
    }
    for (size_t j = 0; j < D3; j++)
        for (size_t k = 0; k <= j; k++) {
            const double m = s1[j * D3 + k] / R, se = sqrt((s2[j * D3 + k] / R - m * m) / (R - 1));
            OD_ASSERT_CLOSE(m, j == k ? mu_mean : 0.0, zcrit(6) * se);
        }
}

/* linreg-data rows are sqrt(lambda) (.) z: the diagonal of X^T X / n (from hvp) is lambda_k within
 * zcrit(d) standard errors lambda_k sqrt(2/n); the labels carry noise sigma2: the least-squares
 * residual loss has mean sigma2 (n - d) / 2n and standard error sigma2 sqrt(2(n - d)) / 2n; the
 * least-squares w is within zcrit(d) standard errors sqrt(sigma2 / (n lambda_k)) of w*. */
static void test_registry_linreg_data(void)
{
    enum { N = 4000, D = 4 };
    od_problem *p = NULL;
    CU_ASSERT_EQUAL_FATAL(od_problem_from_spec(core_catalogs, "linreg-data:n=4000,d=4,exp=1,sigma2=0.3,wstar=0.9",
                                               0x9E3779B97F4A7C15ULL, &p), OD_OK);
    CU_ASSERT_EQUAL(p->n, N);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p->xstar);
    double x[D] = {0};
    for (size_t k = 0; k < D; k++) {
        double e[D] = {0}, hv[D];
        e[k] = 1.0;
        CU_ASSERT_EQUAL(od_problem_hvp(p, x, e, hv), OD_OK);
        const double lam = 1.0 / (double)(k + 1);
        OD_ASSERT_CLOSE(hv[k], lam, zcrit(D * (D + 1) / 2) * lam * sqrt(2.0 / N));
        for (size_t j = 0; j < k; j++)   /* independent coordinates: SE sqrt(lambda_j lambda_k / n) */
            OD_ASSERT_CLOSE(hv[j], 0.0, zcrit(D * (D + 1) / 2) * sqrt(lam / (double)(j + 1) / N));
        OD_ASSERT_CLOSE(p->xstar[k], 0.9, zcrit(D) * sqrt(0.3 / (N * lam)));
    }
    OD_ASSERT_CLOSE(p->fstar, 0.3 * (N - D) / (2.0 * N), zcrit(1) * 0.3 * sqrt(2.0 * (N - D)) / (2.0 * N));
    od_problem_free(p);

    /* logreg: the teacher and the link.  With x ~ N(0, I), P(y = 1 | x) = sigma(<u, x>) and
     * ||u|| = scale, Stein's lemma gives E[y x] = E[x tanh(<u, x>/2)] = u E[sech^2(t/2)] / 2 with
     * t ~ N(0, scale^2).  The gradient at 0 is -(1/2n) sum y_i x_i, so ||grad f(0)|| estimates
     * (scale/4) E sech^2(t/2): compare ||g||^2 - tr(Sigma1)/n (unbiased for ||E g||^2) with it,
     * within zcrit(1) delta-method standard errors 2 sqrt(g^T Sigma1 g / n). */
    {
        enum { NL = 20000, DL = 3 };
        const double scale = 2.0;
        CU_ASSERT_EQUAL_FATAL(od_problem_from_spec(core_catalogs, "logreg:n=20000,d=3,ridge=0,scale=2",
                                                   0xD1B54A32D192ED03ULL, &p), OD_OK);
        double w0[DL] = {0}, g[DL], cov[DL * DL], e_sech = 0.0;
        CU_ASSERT_EQUAL(od_problem_grad(p, w0, g, NULL), OD_OK);
        CU_ASSERT_EQUAL(od_problem_noise_cov(p, w0, cov), OD_OK);
        /* E sech^2(scale tau / 2), tau ~ N(0, 1), by the midpoint rule on [-12, 12] */
        const int K = 24000;
        for (int k = 0; k < K; k++) {
            const double tau = -12.0 + 24.0 * (k + 0.5) / K, c = cosh(0.5 * scale * tau);
            e_sech += exp(-0.5 * tau * tau) / sqrt(2.0 * M_PI) / (c * c) * (24.0 / K);
        }
        double gg = 0.0, tr = 0.0, gsg = 0.0;
        for (size_t j = 0; j < DL; j++) {
            gg += g[j] * g[j];
            tr += cov[j * DL + j];
            for (size_t k = 0; k < DL; k++) gsg += g[j] * cov[j * DL + k] * g[k];
        }
        const double target = pow(0.25 * scale * e_sech, 2);
        OD_ASSERT_CLOSE(gg - tr / NL, target, zcrit(1) * 2.0 * sqrt(gsg / NL));
        od_problem_free(p);
    }

    /* logreg: labels are +-1 and the loss at the origin is log 2 */
    CU_ASSERT_EQUAL_FATAL(od_problem_from_spec(core_catalogs, "logreg:n=300,d=5,ridge=0.1,scale=3", SEED, &p), OD_OK);
    double w0[5] = {0}, f;
    CU_ASSERT_EQUAL(od_problem_loss(p, w0, &f), OD_OK);
    OD_ASSERT_CLOSE(f, M_LN2, 4 * 300 * EPS);
    for (size_t i = 0; i < p->n; i++) {
        double g[5], fi;
        CU_ASSERT_EQUAL(od_problem_sample_grad(p, w0, i, g), OD_OK);
        CU_ASSERT_EQUAL(od_problem_sample_loss(p, w0, i, &fi), OD_OK);
        OD_ASSERT_CLOSE(fi, M_LN2, 2 * EPS);
    }
    od_problem_free(p);
}

/* Errors name what is wrong: the status and od_last_error() are both checked, and *out is NULL. */
static void test_registry_errors(void)
{
    static const struct {
        const char *spec;
        int status;
        const char *needle[2];
    } cases[] = {
        {"nosuch:d=3", OD_ENOTFOUND, {"'nosuch'", "linreg-data"}},
        {"linreg:foo=1", OD_ENOTFOUND, {"'foo'", "linreg:foo=1"}},
        {"linreg:d=abc", OD_EPARSE, {"'d'", "abc"}},
        {"linreg:d=2.5", OD_EPARSE, {"'d'", NULL}},
        {"linreg:d=0", OD_ERANGE, {"'d'", "linreg:d=0"}},
        {"linreg:sigma2=-1", OD_ERANGE, {"'sigma2'", NULL}},
        {"logreg:ridge=nan", OD_EPARSE, {"'ridge'", NULL}},
        {"dense-quadratic:noise_shape=cubic", OD_EPARSE, {"'noise_shape'", "iso|hessian"}},
        {"quadratic:d=4,lambda=1|2", OD_EBADSIZE, {"'lambda'", "d = 4"}},
        {"quadratic:d=2,lambda=1|x", OD_EPARSE, {"'lambda'", NULL}},
        {"quadratic:d=2,noise=-1", OD_ERANGE, {"'noise'", NULL}},
        {"linreg:d", OD_EPARSE, {"key=value", NULL}},
        {":d=3", OD_EPARSE, {"empty name", NULL}},
        {"linreg-data:n=100000,d=100000", OD_ERANGE, {"'n'", "'d'"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        od_problem *p = (od_problem *)&p;
        od_clear_error();
        int status = od_problem_from_spec(core_catalogs, cases[i].spec, SEED, &p);
        if (status != cases[i].status)
            fprintf(stderr, "\n  %s: status %d (%s), expected %d\n", cases[i].spec, status, od_last_error(),
                    cases[i].status);
        CU_ASSERT_EQUAL(status, cases[i].status);
        CU_ASSERT_PTR_NULL(p);
        for (size_t j = 0; j < 2; j++) {
            if (!cases[i].needle[j]) continue;
            int found = strstr(od_last_error(), cases[i].needle[j]) != NULL;
            if (!found) fprintf(stderr, "\n  %s: '%s' not in \"%s\"\n", cases[i].spec, cases[i].needle[j], od_last_error());
            CU_ASSERT(found);
        }
    }
}

/* A second catalog is searched too, and its names are listed in the unknown-name message. */
static int toy_build(const od_params *v, uint64_t seed, od_problem **out)
{
    (void)seed;
    const double lam = od_params_num(v, "lam");
    return od_problem_quadratic_diag(1, &lam, NULL, NULL, out);
}
static const od_param toy_params[] = {
    {"lam", OD_PARAM_DOUBLE, 2.0, OD_SAME, 0, 10, OD_LO_OPEN, NULL, NULL, "curvature"}};
static const od_problem_entry toy_entry = {"toy-quad", "a one-dimensional quadratic", toy_params, 1,
                                           toy_build};
static const od_problem_entry *const toy_catalog[] = {&toy_entry, NULL};

static void test_registry_catalogs(void)
{
    const od_problem_entry *const *const cats[] = {od_core_problems, toy_catalog, NULL};
    od_problem *p = NULL;
    CU_ASSERT_EQUAL_FATAL(od_problem_from_spec(cats, "toy-quad:lam=3.25", SEED, &p), OD_OK);
    double x = 2.0, f;
    CU_ASSERT_EQUAL(od_problem_loss(p, &x, &f), OD_OK);
    OD_ASSERT_CLOSE(f, 0.5 * 3.25 * 4.0, 0.0);
    od_problem_free(p);
    CU_ASSERT_EQUAL(od_problem_from_spec(cats, "toy-quad:lam=0", SEED, &p), OD_ERANGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "'lam'"));
    CU_ASSERT_EQUAL(od_problem_from_spec(cats, "nope", SEED, &p), OD_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "toy-quad"));
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "quadratic"));
    CU_ASSERT_PTR_EQUAL(od_problem_lookup(cats, "toy-quad"), &toy_entry);
}

/* ---- frozen numbers ----------------------------------------------------------------------------
 * FNV-1a over the bytes of what the built-in problems return, for fixed specs, seeds and streams.
 * Two hashes a case:
 *   data     what the problem holds: label, xstar, fstar and the Hessian at the origin read column
 *            by column through hvp(e_k) (exact for the quadratics: A e_k sums one product with
 *            zeros, so dense-quadratic's A enters bit for bit); for finite data, every sample's
 *            loss and gradient at the origin (y_i^2 / 2 and -y_i x_i for linreg-data, log 2 and
 *            -y_i x_i / 2 for logreg): X and y as far as the problem shows them;
 *   oracles  every method at a fixed point, with the minibatches and noise drawn from a fixed
 *            stream and the stream's position after each draw.
 * Reorganising the problem code must keep both bitwise.  The values are those of GSL's reference
 * CBLAS under strict C11 (no FMA contraction); another CBLAS may round differently, and then
 * these (and only these) need new values. */

static uint64_t fnv(uint64_t h, const void *data, size_t bytes)
{
    const unsigned char *c = data;
    for (size_t i = 0; i < bytes; i++) h = (h ^ c[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t fnv_status(uint64_t h, int status)
{
    CU_ASSERT_EQUAL(status, OD_OK);
    return fnv(h, &status, sizeof status);
}

static uint64_t fnv_u32(uint64_t h, od_stream *s)
{
    const uint32_t u = od_stream_u32(s);
    return fnv(h, &u, sizeof u);
}

enum { FROZEN_MAXD = 300, FROZEN_B = 5 };

static uint64_t frozen_data(const od_problem *p)
{
    const size_t d = p->dim;
    double *buf = calloc(3 * d, sizeof *buf);
    CU_ASSERT_FATAL(buf != NULL);
    double *w0 = buf, *e = buf + d, *col = buf + 2 * d;
    uint64_t h = fnv(0xcbf29ce484222325ULL, p->label, strlen(p->label));
    h = fnv(h, &p->dim, sizeof p->dim);
    h = fnv(h, &p->n, sizeof p->n);
    h = fnv(h, &p->fstar, sizeof p->fstar);
    if (p->xstar) h = fnv(h, p->xstar, d * sizeof *p->xstar);
    for (size_t k = 0; k < d && k < 8; k++) {
        e[k] = 1.0;
        h = fnv_status(h, od_problem_hvp(p, w0, e, col));
        h = fnv(h, col, d * sizeof *col);
        e[k] = 0.0;
    }
    for (size_t i = 0; i < p->n; i++) {
        double fi;
        h = fnv_status(h, od_problem_sample_loss(p, w0, i, &fi));
        h = fnv(h, &fi, sizeof fi);
        h = fnv_status(h, od_problem_sample_grad(p, w0, i, col));
        h = fnv(h, col, d * sizeof *col);
    }
    free(buf);
    return h;
}

static uint64_t frozen_oracles(const od_problem *p)
{
    const size_t d = p->dim;
    double *buf = malloc((4 * d + FROZEN_B * d + d * d) * sizeof *buf);
    CU_ASSERT_FATAL(buf != NULL);
    double *x = buf, *v = x + d, *g = v + d, *hv = g + d, *G = hv + d, *cov = G + FROZEN_B * d;
    od_stream s;
    od_stream_init(&s, SEED, 61);
    normals(&s, x, d, 0.7, 0.25);
    normals(&s, v, d, 1.0, 0.0);
    od_stream_seek(&s, 5, 3);
    uint64_t h = 0xcbf29ce484222325ULL;
    double f;
    h = fnv_status(h, od_problem_loss(p, x, &f));
    h = fnv(h, &f, sizeof f);
    h = fnv_status(h, od_problem_grad(p, x, g, &f));
    h = fnv(h, g, d * sizeof *g);
    h = fnv(h, &f, sizeof f);
    h = fnv_status(h, od_problem_hvp(p, x, v, hv));
    h = fnv(h, hv, d * sizeof *hv);
    h = fnv_status(h, od_problem_batch_grad(p, x, FROZEN_B, &s, g, &f));
    h = fnv(h, g, d * sizeof *g);
    h = fnv(h, &f, sizeof f);
    h = fnv_u32(h, &s);
    h = fnv_status(h, od_problem_sample_grads(p, x, FROZEN_B, &s, G));
    h = fnv(h, G, FROZEN_B * d * sizeof *G);
    h = fnv_u32(h, &s);
    h = fnv_status(h, od_problem_noise_sample(p, x, &s, g));
    h = fnv(h, g, d * sizeof *g);
    h = fnv_u32(h, &s);
    h = fnv_status(h, od_problem_noise_cov(p, x, cov));
    h = fnv(h, cov, d * d * sizeof *cov);
    for (size_t i = 0; i < p->n; i++) {
        h = fnv_status(h, od_problem_sample_loss(p, x, i, &f));
        h = fnv(h, &f, sizeof f);
        h = fnv_status(h, od_problem_sample_grad(p, x, i, g));
        h = fnv(h, g, d * sizeof *g);
        h = fnv_status(h, od_problem_sample_hvp(p, x, i, v, hv));
        h = fnv(h, hv, d * sizeof *hv);
    }
    free(buf);
    return h;
}

static void check_frozen(const char *what, const od_problem *p, uint64_t data, uint64_t oracles)
{
    CU_ASSERT_FATAL(p != NULL && p->dim <= FROZEN_MAXD);
    const uint64_t hd = frozen_data(p), ho = frozen_oracles(p);
    if (hd != data || ho != oracles)
        fprintf(stderr, "\n  %s: data 0x%016llxULL, oracles 0x%016llxULL\n", what,
                (unsigned long long)hd, (unsigned long long)ho);
    CU_ASSERT_EQUAL(hd, data);
    CU_ASSERT_EQUAL(ho, oracles);
}

/* Every registry entry (both noise shapes of dense-quadratic, a noise-free quadratic, a d above
 * the 256-double stack scratch) and the constructor paths the registry does not reach: a singular
 * noise covariance (eigendecomposition), rank-deficient data (no xstar). */
static void test_problem_frozen(void)
{
    static const struct {
        const char *spec;
        uint64_t data, oracles;
    } cases[] = {
        {"quadratic:d=5,lambda=2.385|-0.731|1.618|-0.0923|0.5,noise=0.5|1.3|0.2|0.9|0.05,center=0.3",
         0x1ae27444d32c9290ULL, 0xe38687f2b69e8581ULL},
        {"quadratic:d=4,lambda=1.7,noise=0,center=-0.4",
         0xb4bcd9cdcf2f2f70ULL, 0xbc7a5bfcb4858806ULL},
        {"dense-quadratic:d=6,cond=1000,noise=0.2,noise_shape=hessian,center=0.5",
         0x30c65abca70a79e3ULL, 0x08fe967b37a5c9ccULL},
        {"dense-quadratic:d=5,cond=50,noise=0.3",
         0x167af1b66ef253b8ULL, 0x974b95bdba436096ULL},
        {"dense-quadratic:d=3,cond=10,noise=0",
         0x6e6b64fbea2a58b9ULL, 0x7648793c18feeb2dULL},
        {"linreg:d=7,exp=1.5,sigma2=0.25,wstar=0.5",
         0xc5d9206eea0b9604ULL, 0xacfaa91e1cfb254cULL},
        {"linreg:d=300,exp=1.2,sigma2=0.1,wstar=-0.3",
         0xe82ba23b4d6484d3ULL, 0xf53af7df5c35c1e4ULL},
        {"linreg-data:n=40,d=6,exp=1,sigma2=0.3,wstar=0.9",
         0x7a1eea5015787e78ULL, 0x8d5a6bfe38c17fd6ULL},
        {"logreg:n=50,d=5,ridge=0.01,scale=3",
         0x05496b7f55b82364ULL, 0xd65314837de0016eULL},
        {"logreg:n=30,d=4,ridge=0,scale=2",
         0x07a5581f7dd28f37ULL, 0xaa5ee53c5f8d4330ULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        od_problem *p = NULL;
        CU_ASSERT_EQUAL_FATAL(od_problem_from_spec(core_catalogs, cases[i].spec, SEED, &p), OD_OK);
        check_frozen(cases[i].spec, p, cases[i].data, cases[i].oracles);
        od_problem_free(p);
    }

    /* S = u u^T + v v^T, rank 2 in d = 4; A indefinite */
    enum { D = 4 };
    const double u[D] = {0.8, -0.3, 1.2, 0.05}, v[D] = {-0.4, 1.1, 0.3, 0.7};
    double S[D * D], A[D * D];
    for (size_t i = 0; i < D; i++)
        for (size_t j = 0; j < D; j++) {
            S[i * D + j] = u[i] * u[j] + v[i] * v[j];
            A[i * D + j] = (i == j ? 1.5 - (double)i : 0.0) + 0.1 * (double)(i + j);
        }
    od_problem *p = NULL;
    CU_ASSERT_EQUAL_FATAL(od_problem_quadratic_dense(D, A, u, S, &p), OD_OK);
    check_frozen("dense quadratic, singular S", p, 0xc5f4ab6738facff4ULL,
                 0x17a94a65489646c5ULL);
    od_problem_free(p);

    /* a repeated column: rank deficient */
    double X[6 * 3], y[6];
    od_stream s;
    od_stream_init(&s, SEED, 62);
    for (size_t i = 0; i < 6; i++) {
        X[i * 3] = X[i * 3 + 2] = od_stream_normal(&s);
        X[i * 3 + 1] = od_stream_normal(&s);
        y[i] = od_stream_normal(&s);
    }
    CU_ASSERT_EQUAL_FATAL(od_problem_linreg_data(6, 3, X, y, &p), OD_OK);
    check_frozen("linreg-data, rank deficient", p, 0xa61b8a2545f4afacULL,
                 0x897021528dc911f2ULL);
    od_problem_free(p);
}

void od_test_suite_problem(void)
{
    static const od_test_case cases[] = {
        {"gradient vs central differences", test_grad_fd},
        {"hvp vs differences of the gradient", test_hvp_fd},
        {"dense Hessian from hvp vs closed form", test_hessian_dense},
        {"loss and gradient closed forms", test_closed_forms},
        {"logistic loss at the origin is log 2", test_logreg_origin},
        {"logistic stability at margins +-1000", test_logreg_extreme_margins},
        {"linreg-data xstar has zero gradient", test_linreg_data_xstar},
        {"quadratic saddle and noise-free quadratic", test_quadratic_saddle},
        {"batch_grad is the mean of sample_grads", test_batch_is_mean_of_rows},
        {"MC: minibatch gradient is unbiased", test_mc_mean},
        {"MC: per-sample gradient covariance is noise_cov", test_mc_sample_cov},
        {"MC: noise_sample is N(0, noise_cov)", test_mc_noise_sample},
        {"MC: minibatch covariance is Sigma1 / B", test_mc_batch_scaling},
        {"parallel minibatches are bitwise serial", test_parallel_determinism},
        {"finite data: sample means are loss, grad, hvp", test_finite_means},
        {"finite data: noise_cov against its definition", test_finite_noise_cov},
        {"finite helpers on a toy problem; wrapper errors", test_finite_helpers_generic},
        {"streaming problems refuse per-sample calls", test_streaming_refuses_samples},
        {"dense quadratic: singular and indefinite S", test_dense_noise_factor},
        {"constructors refuse bad input", test_constructor_errors},
        {"registry: every entry builds from defaults", test_registry_defaults},
        {"registry: specs against closed forms", test_registry_specs},
        {"registry: dense-quadratic spectrum and seeds", test_registry_dense_quadratic},
        {"registry: linreg-data and logreg data", test_registry_linreg_data},
        {"registry: errors name the key", test_registry_errors},
        {"registry: several catalogs", test_registry_catalogs},
        {"frozen numbers of every problem", test_problem_frozen},
        {NULL, NULL}};
    od_test_add("problem", cases);
}
