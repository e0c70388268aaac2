/* optdyn tests — the sampling contract of the built-in problems (problem.h): batch_grad is the mean
 * of the rows sample_grads draws, minibatch gradients are unbiased with covariance Sigma1 / B, the
 * per-sample gradients have covariance noise_cov, noise_sample draws N(0, noise_cov) (also for a
 * singular noise covariance of the dense quadratic), and parallel draws are bitwise the serial ones.
 * Monte Carlo checks use z-scores against exact or plug-in standard errors (problem_testutil.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/optdyn_core.h"
#include "od_test.h"
#include "problem_testutil.h"

void od_test_suite_problem_sampling(void);

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

void od_test_suite_problem_sampling(void)
{
    static const od_test_case cases[] = {
        {"batch_grad is the mean of sample_grads", test_batch_is_mean_of_rows},
        {"MC: minibatch gradient is unbiased", test_mc_mean},
        {"MC: per-sample gradient covariance is noise_cov", test_mc_sample_cov},
        {"MC: noise_sample is N(0, noise_cov)", test_mc_noise_sample},
        {"MC: minibatch covariance is Sigma1 / B", test_mc_batch_scaling},
        {"parallel minibatches are bitwise serial", test_parallel_determinism},
        {"dense quadratic: singular and indefinite S", test_dense_noise_factor},
        {NULL, NULL}};
    od_test_add("problem: sampling", cases);
}
