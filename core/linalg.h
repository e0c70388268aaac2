/* optdyn core — vectors and small dense linear algebra.
 *
 * Thin, size_t-friendly wrappers over CBLAS (GSL's CBLAS interface, linked to whichever CBLAS the
 * build selects) plus the few vector utilities every module needs.  Matrices are row-major,
 * contiguous, leading dimension = number of columns.
 */
#ifndef OD_LINALG_H
#define OD_LINALG_H

#include <stddef.h>

#include "core/stream.h"

/* Allocates n doubles, zeroed and 64-byte aligned; NULL on failure (or n == 0).  Free with od_free. */
double *od_vec_alloc(size_t n);
void od_free(void *p);

double od_dot(size_t n, const double *x, const double *y);        /* x . y */
double od_nrm2(size_t n, const double *x);                         /* ||x||_2 (overflow-safe) */
void od_axpy(size_t n, double a, const double *x, double *y);      /* y <- a x + y */
void od_scal(size_t n, double a, double *x);                       /* x <- a x */
void od_copy(size_t n, const double *x, double *y);                /* y <- x */
void od_zero(size_t n, double *x);                                 /* x <- 0 */

/* y <- alpha op(A) x + beta y with A m-by-n row-major, op(A) = A or A^T (trans != 0). */
void od_gemv(int trans, size_t m, size_t n, double alpha, const double *A, const double *x,
             double beta, double *y);

/* C <- alpha op(A) op(B) + beta C, row-major, op(A) m-by-k, op(B) k-by-n. */
void od_gemm(int transa, int transb, size_t m, size_t n, size_t k, double alpha, const double *A,
             const double *B, double beta, double *C);

/* 1 if every x[i] is finite, 0 otherwise. */
int od_all_finite(size_t n, const double *x);

/* Eigen-decomposition of a symmetric n-by-n matrix (row-major; only its values are read) through
 * GSL's symmetric eigensolver: eval[0..n) in decreasing order and, if evec != NULL, the matching
 * orthonormal eigenvectors as the columns of evec (row-major n-by-n).  Returns OD_OK, OD_ENOMEM or
 * OD_EGSL. */
int od_symm_eigen(size_t n, const double *A, double *eval, double *evec);

/* Cholesky factor L (lower, row-major, zero above the diagonal) of a symmetric positive definite
 * n-by-n A, A = L L^T.  Also the test for positive definiteness: when A is not positive definite
 * (indefinite, or singular to working precision) it returns OD_ENUMERIC WITHOUT raising an error -
 * the error handler is not called, od_last_error() keeps what it was, L is left untouched - so
 * callers can branch on the answer (the dense quadratic then factors its noise covariance by
 * od_symm_eigen).  Out of memory is a real error (OD_ENOMEM, raised).  Needs GSL's error handler
 * off (gsl_set_error_handler_off, done in main). */
int od_cholesky(size_t n, const double *A, double *L);

/* Q (row-major d-by-d) Haar-distributed on the orthogonal group O(d), drawn from s: the Q factor of
 * a d-by-d matrix of standard normals (drawn row by row) with the signs fixed so that diag R > 0 —
 * without that correction Householder QR does not give the Haar measure (Mezzadri, "How to generate
 * random matrices from the classical compact groups", Notices AMS 54, 2007).  Returns OD_OK,
 * OD_ENOMEM or OD_EGSL. */
int od_haar_orthogonal(size_t d, od_stream *s, double *Q);

/* Least-squares slope of log|y| against log x — a measured convergence order or power-law
 * exponent — over the points with xlo <= x <= xhi, x > 0 and y finite and nonzero (use -INFINITY,
 * INFINITY for all points).  With se != NULL the fit is weighted by 1/(se_i/|y_i|)^2, the delta-method
 * variance of log|y_i| (GSL gsl_fit_wlinear), and *slope_se is the slope's standard error from those
 * variances; with se == NULL it is ordinary least squares (gsl_fit_linear) and *slope_se comes from
 * the residuals.  slope_se may be NULL.  Returns OD_OK, OD_EINVAL when fewer than two points are
 * usable (*slope = NaN), or OD_ENOMEM. */
int od_loglog_slope(size_t n, const double *x, const double *y, const double *se, double xlo,
                    double xhi, double *slope, double *slope_se);

/* Wall-clock seconds from a monotonic clock (for timings; never for results). */
double od_wall_time(void);

#endif /* OD_LINALG_H */
