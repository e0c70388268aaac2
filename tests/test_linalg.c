/* optdyn tests — small dense linear algebra (core/linalg.h): the Cholesky factor against its
 * backward-error bound, and its contract for matrices that are not positive definite.
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

void od_test_suite_linalg(void)
{
    static const od_test_case cases[] = {
        {"cholesky: L L^T = A to backward error", test_cholesky_factor},
        {"cholesky: not positive definite is no error", test_cholesky_not_definite},
        {NULL, NULL}};
    od_test_add("linalg", cases);
}
