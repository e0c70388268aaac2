/* optdyn core — vectors and small dense linear algebra (see linalg.h). */
#include "core/linalg.h"

#include <limits.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_cblas.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_fit.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_sort_vector.h>

#include "core/status.h"

double *od_vec_alloc(size_t n)
{
    if (n == 0 || n > SIZE_MAX / sizeof(double) - 8) return NULL;
    size_t bytes = (n * sizeof(double) + 63) / 64 * 64;
    double *p = aligned_alloc(64, bytes);
    if (p) memset(p, 0, bytes);
    return p;
}

void od_free(void *p) { free(p); }

/* CBLAS takes int sizes; every caller's sizes fit (vectors beyond 2^31 doubles are 16 GiB). */
static int isz(size_t n) { return n > INT_MAX ? INT_MAX : (int)n; }

double od_dot(size_t n, const double *x, const double *y) { return cblas_ddot(isz(n), x, 1, y, 1); }
double od_nrm2(size_t n, const double *x) { return cblas_dnrm2(isz(n), x, 1); }
void od_axpy(size_t n, double a, const double *x, double *y) { cblas_daxpy(isz(n), a, x, 1, y, 1); }
void od_scal(size_t n, double a, double *x) { cblas_dscal(isz(n), a, x, 1); }
void od_copy(size_t n, const double *x, double *y) { if (n) memmove(y, x, n * sizeof *x); }
void od_zero(size_t n, double *x) { if (n) memset(x, 0, n * sizeof *x); }

void od_gemv(int trans, size_t m, size_t n, double alpha, const double *A, const double *x,
             double beta, double *y)
{
    cblas_dgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, isz(m), isz(n), alpha, A, isz(n),
                x, 1, beta, y, 1);
}

void od_gemm(int transa, int transb, size_t m, size_t n, size_t k, double alpha, const double *A,
             const double *B, double beta, double *C)
{
    cblas_dgemm(CblasRowMajor, transa ? CblasTrans : CblasNoTrans,
                transb ? CblasTrans : CblasNoTrans, isz(m), isz(n), isz(k), alpha, A,
                transa ? isz(m) : isz(k), B, transb ? isz(k) : isz(n), beta, C, isz(n));
}

int od_all_finite(size_t n, const double *x)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

int od_symm_eigen(size_t n, const double *A, double *eval, double *evec)
{
    if (n == 0) OD_ERROR("od_symm_eigen: empty matrix", OD_EINVAL);
    gsl_matrix *a = gsl_matrix_alloc(n, n);
    gsl_vector *w = gsl_vector_alloc(n);
    gsl_matrix *v = evec ? gsl_matrix_alloc(n, n) : NULL;
    gsl_eigen_symm_workspace *ws = evec ? NULL : gsl_eigen_symm_alloc(n);
    gsl_eigen_symmv_workspace *wsv = evec ? gsl_eigen_symmv_alloc(n) : NULL;
    int status = OD_OK;
    if (!a || !w || (evec && (!v || !wsv)) || (!evec && !ws)) {
        status = od_error(OD_ENOMEM, __FILE__, __LINE__, "od_symm_eigen: out of memory (n = %zu)", n);
        goto done;
    }
    memcpy(a->data, A, n * n * sizeof *A);
    int gs = evec ? gsl_eigen_symmv(a, w, v, wsv) : gsl_eigen_symm(a, w, ws);
    if (gs == GSL_SUCCESS)
        gs = evec ? gsl_eigen_symmv_sort(w, v, GSL_EIGEN_SORT_VAL_DESC) : 0;
    if (gs != GSL_SUCCESS) {
        status = od_error(OD_EGSL, __FILE__, __LINE__, "od_symm_eigen: %s", gsl_strerror(gs));
        goto done;
    }
    if (!evec) {
        /* gsl_eigen_symm leaves the values unordered: sort decreasing */
        gsl_sort_vector_largest(eval, n, w);
    } else {
        memcpy(eval, w->data, n * sizeof *eval);
        memcpy(evec, v->data, n * n * sizeof *evec);
    }
done:
    gsl_matrix_free(a);
    gsl_vector_free(w);
    if (v) gsl_matrix_free(v);
    if (ws) gsl_eigen_symm_free(ws);
    if (wsv) gsl_eigen_symmv_free(wsv);
    return status;
}

int od_cholesky(size_t n, const double *A, double *L)
{
    gsl_matrix *a = gsl_matrix_alloc(n, n);
    if (!a) OD_ERROR("od_cholesky: out of memory", OD_ENOMEM);
    memcpy(a->data, A, n * n * sizeof *A);
    int gs = gsl_linalg_cholesky_decomp1(a);   /* needs GSL's handler off (done in main) */
    if (gs != GSL_SUCCESS) {
        gsl_matrix_free(a);
        return OD_ENUMERIC;   /* not positive definite: an answer for the caller, not an error */
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) L[i * n + j] = j <= i ? gsl_matrix_get(a, i, j) : 0.0;
    gsl_matrix_free(a);
    return OD_OK;
}

int od_haar_orthogonal(size_t d, od_stream *s, double *Q)
{
    gsl_matrix *G = gsl_matrix_alloc(d, d), *Qm = gsl_matrix_alloc(d, d),
               *R = gsl_matrix_alloc(d, d);
    gsl_vector *tau = gsl_vector_alloc(d);
    int status = OD_OK;
    if (!G || !Qm || !R || !tau) {
        status = od_error(OD_ENOMEM, __FILE__, __LINE__, "od_haar_orthogonal: out of memory (d = %zu)", d);
    } else {
        for (size_t i = 0; i < d; i++)
            for (size_t j = 0; j < d; j++) gsl_matrix_set(G, i, j, od_stream_normal(s));
        int gs = gsl_linalg_QR_decomp(G, tau);
        if (gs == GSL_SUCCESS) gs = gsl_linalg_QR_unpack(G, tau, Qm, R);
        if (gs != GSL_SUCCESS) {
            status = od_error(OD_EGSL, __FILE__, __LINE__, "od_haar_orthogonal: QR failed: %s",
                              gsl_strerror(gs));
        } else {
            for (size_t j = 0; j < d; j++) {
                const double sgn = gsl_matrix_get(R, j, j) < 0 ? -1.0 : 1.0;
                for (size_t i = 0; i < d; i++) Q[i * d + j] = sgn * gsl_matrix_get(Qm, i, j);
            }
        }
    }
    gsl_matrix_free(G);
    gsl_matrix_free(Qm);
    gsl_matrix_free(R);
    gsl_vector_free(tau);
    return status;
}

int od_loglog_slope(size_t n, const double *x, const double *y, const double *se, double xlo,
                    double xhi, double *slope, double *slope_se)
{
    *slope = NAN;
    if (slope_se) *slope_se = NAN;
    double *lx = malloc(3 * (n ? n : 1) * sizeof *lx);
    if (!lx) OD_ERROR("od_loglog_slope: out of memory", OD_ENOMEM);
    double *ly = lx + n, *w = ly + n;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(x[i] >= xlo && x[i] <= xhi && x[i] > 0) || !isfinite(y[i]) || y[i] == 0) continue;
        lx[m] = log(x[i]);
        ly[m] = log(fabs(y[i]));
        const double rel = se ? se[i] / fabs(y[i]) : 1.0;
        w[m++] = 1.0 / (rel * rel > 1e-300 ? rel * rel : 1e-300);
    }
    if (m < 2) {
        free(lx);
        OD_ERRORF(OD_EINVAL, "od_loglog_slope: %zu usable points (2 needed)", m);
    }
    double c0, c1, c00, c01, c11, r;
    if (se) gsl_fit_wlinear(lx, 1, w, 1, ly, 1, m, &c0, &c1, &c00, &c01, &c11, &r);
    else gsl_fit_linear(lx, 1, ly, 1, m, &c0, &c1, &c00, &c01, &c11, &r);
    free(lx);
    *slope = c1;
    if (slope_se) *slope_se = sqrt(c11);
    return OD_OK;
}

double od_wall_time(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
