/* optdyn tests — the problem (oracle) interface and the core's built-in problems against
 * mathematics: derivatives against finite differences, losses and gradients against closed forms,
 * logistic stability, known minimizers, and the finite-data helpers (sample means, the empirical
 * noise covariance, a toy problem built from per-sample methods only).  The error models are stated
 * in problem_testutil.h.  The sampling contract is in test_problem_sampling.c, the registry and
 * error paths in test_problem_registry.c, the frozen numbers in test_problem_frozen.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/optdyn_core.h"
#include "od_test.h"
#include "problem_testutil.h"

void od_test_suite_problem(void);

#define FD_H 0x1p-14
/* max |l'''| and |l''''| of l(m) = log(1 + e^-m): p(1-p)(1-2p) <= 1/(6 sqrt 3), |p(1-p)(1-6p+6p^2)| <= 1/8 */
#define LOGIT_D3 0.0962250448649376
#define LOGIT_D4 0.125

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

/* The diagonal quadratic's view: the documented formula reproduces batch_grad bit for bit at B = 1
 * and B = 3, and leaves the stream where batch_grad does; other problems give no view. */
static void test_quadratic_diag_view(void)
{
    const double lam[4] = {2.385, 0.731, 1.618, 0.0917}, c[4] = {0.3, -1.2, 0.77, 4.1},
                 sd[4] = {0.9, 1.7, 0.0, 0.35}, x[4] = {-0.41, 2.2, 1.3, 0.05};
    od_problem *p = NULL, *q = NULL;
    CU_ASSERT_EQUAL_FATAL(od_problem_quadratic_diag(4, lam, c, sd, &p), OD_OK);
    od_quadratic_diag_view v;
    CU_ASSERT_EQUAL_FATAL(od_problem_quadratic_diag_view(p, &v), 1);
    CU_ASSERT_TRUE(v.noisy);
    for (size_t B = 1; B <= 3; B += 2) {
        od_stream s1, s2;
        od_stream_init(&s1, SEED, 41);
        od_stream_seek(&s1, 7, 11);
        s2 = s1;
        double g[4], h[4], z[4];
        CU_ASSERT_EQUAL(od_problem_batch_grad(p, x, B, &s1, g, NULL), OD_OK);
        for (size_t k = 0; k < 4; k++) h[k] = 0.0;
        for (size_t b = 0; b < B; b++) {
            od_stream_normals(&s2, z, 4);
            for (size_t k = 0; k < 4; k++) h[k] = B == 1 ? z[k] : h[k] + z[k];
        }
        for (size_t k = 0; k < 4; k++)
            h[k] = v.lambda[k] * (x[k] - v.c[k]) + v.sd[k] * (h[k] * (1.0 / (double)B));
        CU_ASSERT_EQUAL(memcmp(g, h, sizeof g), 0);
        CU_ASSERT_EQUAL(od_stream_u32(&s1), od_stream_u32(&s2));
    }
    const double A[4] = {2.0, 0.3, 0.3, 1.0};
    CU_ASSERT_EQUAL_FATAL(od_problem_quadratic_dense(2, A, NULL, NULL, &q), OD_OK);
    CU_ASSERT_EQUAL(od_problem_quadratic_diag_view(q, &v), 0);
    CU_ASSERT_EQUAL(od_problem_quadratic_diag_view(NULL, &v), 0);
    od_problem_free(p);
    od_problem_free(q);
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
        {"diagonal quadratic view reproduces batch_grad", test_quadratic_diag_view},
        {"finite data: sample means are loss, grad, hvp", test_finite_means},
        {"finite data: noise_cov against its definition", test_finite_noise_cov},
        {"finite helpers on a toy problem; wrapper errors", test_finite_helpers_generic},
        {NULL, NULL}};
    od_test_add("problem", cases);
}
