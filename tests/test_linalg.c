/* optdyn tests — small dense linear algebra (core/linalg.h): the Cholesky factor against its
 * backward-error bound, its contract for matrices that are not positive definite, and Haar
 * orthogonal matrices.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "core/optdyn_core.h"
#include "od_test.h"

void od_test_suite_linalg(void);

enum { N = 5 };

/* A = M M^T / N + 0.3 I from normals: symmetric positive definite, well conditioned. */
static void spd(double *A)
{
    double M[N * N];
    od_stream s;
    od_stream_init(&s, 0x2545F4914F6CDD1DULL, 70);
    od_stream_normals(&s, M, N * N);
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < N; j++) A[i * N + j] = od_dot(N, M + i * N, M + j * N) / N + (i == j ? 0.3 : 0.0);
}

/* L is lower triangular with a positive diagonal and L L^T = A to the backward error of Cholesky,
 * |A - L L^T| <= gamma_{n+1} |L| |L^T| with gamma_k = k eps / (1 - k eps) (Higham, Accuracy and
 * Stability of Numerical Algorithms, 2002, theorem 10.3), taken twice for the rounding of the
 * product formed here. */
static void test_cholesky_factor(void)
{
    double A[N * N], L[N * N];
    spd(A);
    CU_ASSERT_EQUAL_FATAL(od_cholesky(N, A, L), OD_OK);
    const double gamma = (N + 1) * DBL_EPSILON / (1.0 - (N + 1) * DBL_EPSILON);
    for (size_t i = 0; i < N; i++) {
        CU_ASSERT(L[i * N + i] > 0.0);
        for (size_t j = i + 1; j < N; j++) CU_ASSERT_EQUAL(L[i * N + j], 0.0);
        for (size_t j = 0; j < N; j++) {
            double llt = 0.0, mag = 0.0;
            for (size_t k = 0; k < N; k++) {
                llt += L[i * N + k] * L[j * N + k];
                mag += fabs(L[i * N + k] * L[j * N + k]);
            }
            OD_ASSERT_CLOSE(llt, A[i * N + j], 2.0 * gamma * mag);
        }
    }
}

/* Not positive definite is an answer, not an error: OD_ENUMERIC, no call of the error handler, the
 * caller's last error kept, L untouched.  Indefinite (a negative diagonal entry) and singular
 * (rank 1) matrices both. */
static void test_cholesky_not_definite(void)
{
    const double u[N] = {0.8, -0.3, 1.2, 0.05, -0.7};
    double A[N * N], R1[N * N], L[N * N];
    spd(A);
    A[2 * N + 2] = -0.4;
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < N; j++) R1[i * N + j] = u[i] * u[j];
    const double *cases[2] = {A, R1};
    for (size_t c = 0; c < 2; c++) {
        for (size_t i = 0; i < N * N; i++) L[i] = 2.385;
        od_error(OD_EINTERNAL, __FILE__, __LINE__, "the caller's error");
        od_test_errors_begin();
        CU_ASSERT_EQUAL(od_cholesky(N, cases[c], L), OD_ENUMERIC);
        CU_ASSERT_EQUAL(od_test_errors_end(), 0);
        CU_ASSERT_STRING_EQUAL(od_last_error(), "the caller's error");
        int untouched = 1;
        for (size_t i = 0; i < N * N; i++) untouched &= L[i] == 2.385;
        CU_ASSERT(untouched);
    }
    od_clear_error();
}

/* Q^T Q = I to rounding; over 4000 draws of Q in O(5), E Q_ij = 0 and E Q_ij^2 = 1/d within 5 SE
 * (Var Q_ij^2 = 3/(d(d+2)) - 1/d^2 for Haar Q), and det Q = +1 and -1 equally often (5 SE): a QR
 * without the sign correction fails the mean test (GSL's Householder QR biases the diagonal to -0.37). */
static void test_haar(void)
{
    enum { D = 5, M = 4000 };
    double Q[D * D], sum[D * D] = {0}, sum2[D * D] = {0};
    int pos = 0;
    od_stream s;
    od_stream_init(&s, 0x5DEECE66DULL, 9);
    for (int m = 0; m < M; m++) {
        od_stream_seek(&s, (uint32_t)m, 0);
        CU_ASSERT_EQUAL_FATAL(od_haar_orthogonal(D, &s, Q), OD_OK);
        double err = 0;
        for (int i = 0; i < D; i++)
            for (int j = 0; j < D; j++) {
                double g = 0;
                for (int k = 0; k < D; k++) g += Q[k * D + i] * Q[k * D + j];
                err = fmax(err, fabs(g - (i == j)));
            }
        if (m < 50) CU_ASSERT_TRUE(err < 20 * D * DBL_EPSILON);
        for (int k = 0; k < D * D; k++) {
            sum[k] += Q[k];
            sum2[k] += Q[k] * Q[k];
        }
        double L[D * D], A[D * D];   /* sign of det Q from the Cholesky-free route: det = prod of R's */
        for (int k = 0; k < D * D; k++) A[k] = Q[k];
        /* Gaussian elimination with partial pivoting for the sign of the determinant */
        int sign = 1;
        for (int c = 0; c < D; c++) {
            int piv = c;
            for (int r = c + 1; r < D; r++)
                if (fabs(A[r * D + c]) > fabs(A[piv * D + c])) piv = r;
            if (piv != c) {
                sign = -sign;
                for (int k = 0; k < D; k++) {
                    double t = A[c * D + k];
                    A[c * D + k] = A[piv * D + k];
                    A[piv * D + k] = t;
                }
            }
            if (A[c * D + c] < 0) sign = -sign;
            for (int r = c + 1; r < D; r++) {
                L[r * D + c] = A[r * D + c] / A[c * D + c];
                for (int k = c; k < D; k++) A[r * D + k] -= L[r * D + c] * A[c * D + k];
            }
        }
        pos += sign > 0;
    }
    const double var_sq = 3.0 / (D * (D + 2.0)) - 1.0 / (D * D);
    for (int k = 0; k < D * D; k++) {
        OD_ASSERT_CLOSE(sum[k] / M, 0.0, 5 * sqrt(1.0 / D / M));
        OD_ASSERT_CLOSE(sum2[k] / M, 1.0 / D, 5 * sqrt(var_sq / M));
    }
    OD_ASSERT_CLOSE((double)pos / M, 0.5, 5 * sqrt(0.25 / M));
}

/* log-log slopes: exact power laws give the exponent to rounding (weighted or not, 200 points — past
 * the old 64-point cap); the window and the skipped points (zero, NaN, x <= 0) are honoured; the
 * weighted SE equals the closed form sqrt(1 / (S_ww - S_w^2/S)) for weights w = (y/se)^2; fewer than
 * two usable points is OD_EINVAL with a NaN slope. */
static void test_loglog_slope(void)
{
    enum { NP = 200 };
    double x[NP], y[NP], se[NP], sl, sl_se;
    for (int i = 0; i < NP; i++) {
        x[i] = 0.5 * pow(1.07, i);
        y[i] = 2.385 * pow(x[i], -1.37);
        se[i] = 0.01 * y[i] * (1 + (i % 3));   /* relative SEs of 1, 2, 3 % */
    }
    CU_ASSERT_EQUAL(od_loglog_slope(NP, x, y, NULL, -INFINITY, INFINITY, &sl, &sl_se), OD_OK);
    OD_ASSERT_CLOSE(sl, -1.37, 1e-12);
    CU_ASSERT_TRUE(sl_se < 1e-12);                       /* residuals are rounding only */
    CU_ASSERT_EQUAL(od_loglog_slope(NP, x, y, se, -INFINITY, INFINITY, &sl, &sl_se), OD_OK);
    OD_ASSERT_CLOSE(sl, -1.37, 1e-12);
    double S = 0, Sx = 0, Sxx = 0;                       /* weighted normal equations */
    for (int i = 0; i < NP; i++) {
        const double w = 1.0 / pow(se[i] / y[i], 2), lx = log(x[i]);
        S += w;
        Sx += w * lx;
        Sxx += w * lx * lx;
    }
    OD_ASSERT_REL(sl_se, sqrt(S / (S * Sxx - Sx * Sx)), 1e-10);
    /* a window and points that must be skipped: a kink outside the window does not matter */
    y[0] = 0;
    y[1] = NAN;
    x[2] = -1;
    for (int i = 150; i < NP; i++) y[i] *= pow(x[i] / x[150], 0.8);
    CU_ASSERT_EQUAL(od_loglog_slope(NP, x, y, NULL, 0, x[149], &sl, NULL), OD_OK);
    OD_ASSERT_CLOSE(sl, -1.37, 1e-12);
    CU_ASSERT_EQUAL(od_loglog_slope(NP, x, y, NULL, x[150], INFINITY, &sl, NULL), OD_OK);
    OD_ASSERT_CLOSE(sl, -1.37 + 0.8, 1e-12);
    CU_ASSERT_EQUAL(od_loglog_slope(NP, x, y, NULL, x[10], x[10], &sl, &sl_se), OD_EINVAL);
    CU_ASSERT_TRUE(isnan(sl) && isnan(sl_se));
}

void od_test_suite_linalg(void)
{
    static const od_test_case cases[] = {
        {"Haar orthogonal matrices", test_haar},
        {"log-log slopes", test_loglog_slope},
        {"cholesky: L L^T = A to backward error", test_cholesky_factor},
        {"cholesky: not positive definite is no error", test_cholesky_not_definite},
        {NULL, NULL}};
    od_test_add("linalg", cases);
}
