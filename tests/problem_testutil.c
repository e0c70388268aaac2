/* optdyn tests — the test problems of the problem tests (see problem_testutil.h). */
#include "problem_testutil.h"

#include <math.h>
#include <string.h>

#include "od_test.h"

const od_problem_entry *const *const core_catalogs[] = {od_core_problems, NULL};

void tp_build(tp *t, int kind)
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

double tp_eps(const tp *t) { return 8.0 * (double)(t->n + t->d + 8) * EPS; }

/* a_i = sum_k |x_ik| |w_k| (+ |y_i| for least squares): the magnitude of a residual or margin. */
static double row_mag(const tp *t, size_t i, const double *w, int with_y)
{
    double a = with_y ? fabs(t->y[i]) : 0.0;
    for (size_t k = 0; k < t->d; k++) a += fabs(t->X[i * t->d + k]) * fabs(w[k]);
    return a;
}

double tp_fscale(const tp *t, const double *x)
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

void tp_gscale(const tp *t, const double *x, double *gs)
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

void tp_hessian(const tp *t, const double *x, double *H, double *Hs)
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

void tp_not_definite(double *c, double *S, double *A, double *X, double *y)
{
    enum { D = ND_D };
    const double u[D] = {0.8, -0.3, 1.2, 0.05}, v[D] = {-0.4, 1.1, 0.3, 0.7};
    for (size_t i = 0; i < D; i++)
        for (size_t j = 0; j < D; j++) {
            S[i * D + j] = u[i] * u[j] + v[i] * v[j];
            A[i * D + j] = (i == j ? 1.5 - (double)i : 0.0) + 0.1 * (double)(i + j);
        }
    memcpy(c, u, sizeof u);
    od_stream s;
    od_stream_init(&s, SEED, 62);
    for (size_t i = 0; i < ND_N; i++) {
        X[i * ND_P] = X[i * ND_P + ND_P - 1] = od_stream_normal(&s);
        X[i * ND_P + 1] = od_stream_normal(&s);
        y[i] = od_stream_normal(&s);
    }
}

void tp_free(tp *t)
{
    od_problem_free(t->p);
    t->p = NULL;
}
