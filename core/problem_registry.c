/* optdyn core — the registry of the core's built-in problems, od_core_problems[]: for each, the
 * parameter table and the build function that makes the problem from it ("linreg:d=100,exp=2").
 *
 * Random data of the registry entries come from od_stream keyed by (seed, stream id), with a
 * stream id per source so that changing one parameter does not reshuffle an unrelated source:
 *
 *      stream 1  design rows x_i        (row i at path i, step 0: row i does not depend on n)
 *      stream 2  labels                 (label noise / label coin of row i at path i, step 0)
 *      stream 3  model                  (random rotation of dense-quadratic, teacher of logreg;
 *                                        path 0, step 0)
 */
#include "core/problem.h"

#include <math.h>
#include <stdio.h>


#include "core/linalg.h"
#include "core/param.h"
#include "core/problem_impl.h"
#include "core/status.h"

enum { STREAM_DATA = 1, STREAM_LABEL = 2, STREAM_MODEL = 3 };

/* "name: k=v, k=v, ..." from the values of the table (the label of a problem built by name). */
static void label_from_params(od_problem *p, const char *name, const od_params *v)
{
    size_t used = (size_t)snprintf(p->label, sizeof p->label, "%s:", name);
    for (size_t i = 0; i < v->n && used < sizeof p->label; i++) {
        char val[64];
        if (v->spec[i].type == OD_PARAM_DOUBLE)   /* short, not the round-trip %.17g */
            snprintf(val, sizeof val, "%.6g", v->num[i]);
        else
            od_params_value_str(v, i, val, sizeof val);
        used += (size_t)snprintf(p->label + used, sizeof p->label - used, "%s %s=%s",
                                 i ? "," : "", v->spec[i].name, val);
    }
}

/* Reads the '|'-separated list of key into out[0..d): one value is broadcast, otherwise exactly d
 * values are needed.  Errors name the problem and the key. */
static int param_list(const od_params *v, const char *problem, const char *key, size_t d,
                      double *out)
{
    char what[96];
    snprintf(what, sizeof what, "%s: key '%s'", problem, key);
    size_t k = 0;
    OD_TRY(od_parse_doubles(od_params_str(v, key), '|', out, d, &k, what));
    if (k == 1) {
        for (size_t i = 1; i < d; i++) out[i] = out[0];
    } else if (k != d) {
        OD_ERRORF(OD_EBADSIZE, "%s has %zu values; give 1 (broadcast) or d = %zu", what, k, d);
    }
    return OD_OK;
}

/* Sizes from the table: the ranges were checked by od_params_set, so the casts are exact. */
static size_t param_size(const od_params *v, const char *key) { return (size_t)od_params_int(v, key); }

/* Gives the problem built by an entry its label, or frees it on error. */
static int finish(int status, od_problem *p, const char *name, const od_params *v, od_problem **out)
{
    if (status == OD_OK) label_from_params(p, name, v);
    return hand_over(status, p, out);
}

/* ---- quadratic --------------------------------------------------------------------------------- */

static const od_param quadratic_params[] = {
    {"d", OD_PARAM_INT, 10, OD_SAME, 1, 1e7, 0, NULL, NULL, "dimension"},
    {"lambda", OD_PARAM_STRING, 0, OD_SAME, 0, 0, 0, NULL, "1",
     "curvatures lambda_k, any sign: one value (broadcast) or d values separated by '|'"},
    {"noise", OD_PARAM_STRING, 0, OD_SAME, 0, 0, 0, NULL, "0.1",
     "gradient-noise standard deviation s_k >= 0: one value or d values"},
    {"center", OD_PARAM_STRING, 0, OD_SAME, 0, 0, 0, NULL, "1",
     "center c (the minimizer when every lambda_k > 0): one value or d values"},
};

static int quadratic_build(const od_params *v, uint64_t seed, od_problem **out)
{
    (void)seed;
    *out = NULL;
    const size_t d = param_size(v, "d");
    double *buf = od_vec_alloc(3 * d);
    if (!buf) OD_ERRORF(OD_ENOMEM, "quadratic: out of memory (d = %zu)", d);
    double *lambda = buf, *sd = buf + d, *c = buf + 2 * d;
    int status = param_list(v, "quadratic", "lambda", d, lambda);
    if (status == OD_OK) status = param_list(v, "quadratic", "noise", d, sd);
    if (status == OD_OK) status = param_list(v, "quadratic", "center", d, c);
    for (size_t k = 0; status == OD_OK && k < d; k++)
        if (sd[k] < 0)
            status = od_error(OD_ERANGE, __FILE__, __LINE__,
                              "quadratic: key 'noise' = %g is negative (a standard deviation)", sd[k]);
    od_problem *p = NULL;
    if (status == OD_OK) status = od_problem_quadratic_diag(d, lambda, c, sd, &p);
    od_free(buf);
    return finish(status, p, "quadratic", v, out);
}

/* ---- dense-quadratic --------------------------------------------------------------------------- */

static const od_param dense_quadratic_params[] = {
    {"d", OD_PARAM_INT, 10, OD_SAME, 1, 4096, 0, NULL, NULL, "dimension"},
    {"cond", OD_PARAM_DOUBLE, 100, OD_SAME, 1, 1e16, 0, NULL, NULL,
     "condition number: eigenvalues log-spaced from 1 down to 1/cond"},
    {"noise", OD_PARAM_DOUBLE, 0.1, OD_SAME, 0, INFINITY, OD_HI_OPEN, NULL, NULL,
     "gradient-noise scale s: covariance S = s^2 I (iso) or s^2 A (hessian)"},
    {"noise_shape", OD_PARAM_CHOICE, 0, OD_SAME, 0, 0, 0, "iso|hessian", NULL,
     "shape of the gradient-noise covariance"},
    {"center", OD_PARAM_DOUBLE, 1, OD_SAME, -INFINITY, INFINITY, OD_LO_OPEN | OD_HI_OPEN, NULL, NULL,
     "every coordinate of the minimizer c"},
};

static int dense_quadratic_build(const od_params *v, uint64_t seed, od_problem **out)
{
    *out = NULL;
    const size_t d = param_size(v, "d");
    const double cond = od_params_num(v, "cond"), s = od_params_num(v, "noise");
    const int hess_noise = od_params_int(v, "noise_shape") == 1;
    double *buf = od_vec_alloc(4 * d * d + 2 * d);
    if (!buf) OD_ERRORF(OD_ENOMEM, "dense-quadratic: out of memory (d = %zu)", d);
    double *Q = buf, *QD = Q + d * d, *A = QD + d * d, *S = A + d * d, *mu = S + d * d, *c = mu + d;
    od_stream st;
    od_stream_init(&st, seed, STREAM_MODEL);
    int status = od_haar_orthogonal(d, &st, Q);
    od_problem *p = NULL;
    if (status == OD_OK) {
        for (size_t k = 0; k < d; k++)
            mu[k] = d == 1 ? 1.0 : pow(cond, -(double)k / (double)(d - 1));
        for (size_t i = 0; i < d; i++)
            for (size_t k = 0; k < d; k++) QD[i * d + k] = Q[i * d + k] * mu[k];
        od_gemm(0, 1, d, d, d, 1.0, QD, Q, 0.0, A);   /* A = Q diag(mu) Q^T */
        for (size_t i = 0; i < d; i++)
            for (size_t j = 0; j < i; j++) A[i * d + j] = A[j * d + i] = 0.5 * (A[i * d + j] + A[j * d + i]);
        for (size_t i = 0; i < d * d; i++) S[i] = hess_noise ? s * s * A[i] : 0.0;
        if (!hess_noise)
            for (size_t i = 0; i < d; i++) S[i * d + i] = s * s;
        for (size_t k = 0; k < d; k++) c[k] = od_params_num(v, "center");
        status = od_problem_quadratic_dense(d, A, c, s > 0 ? S : NULL, &p);
    }
    od_free(buf);
    return finish(status, p, "dense-quadratic", v, out);
}

/* ---- linreg (streaming) ------------------------------------------------------------------------ */

static const od_param linreg_params[] = {
    {"d", OD_PARAM_INT, 100, OD_SAME, 1, 1e8, 0, NULL, NULL, "dimension"},
    {"exp", OD_PARAM_DOUBLE, 2, OD_SAME, 0, 100, 0, NULL, NULL,
     "power-law exponent of the spectrum: lambda_k = k^-exp, k = 1..d"},
    {"sigma2", OD_PARAM_DOUBLE, 0.1, OD_SAME, 0, INFINITY, OD_HI_OPEN, NULL, NULL,
     "label-noise variance sigma^2"},
    {"wstar", OD_PARAM_DOUBLE, 1, OD_SAME, -INFINITY, INFINITY, OD_LO_OPEN | OD_HI_OPEN, NULL, NULL,
     "value of every coordinate of the teacher w*"},
};

static void powerlaw(size_t d, double e, double *lambda)
{
    for (size_t k = 0; k < d; k++) lambda[k] = pow((double)(k + 1), -e);
}

static int linreg_build(const od_params *v, uint64_t seed, od_problem **out)
{
    (void)seed;
    *out = NULL;
    const size_t d = param_size(v, "d");
    double *buf = od_vec_alloc(2 * d);
    if (!buf) OD_ERRORF(OD_ENOMEM, "linreg: out of memory (d = %zu)", d);
    powerlaw(d, od_params_num(v, "exp"), buf);
    for (size_t k = 0; k < d; k++) buf[d + k] = od_params_num(v, "wstar");
    od_problem *p = NULL;
    int status = od_problem_linreg_stream(d, buf, buf + d, od_params_num(v, "sigma2"), &p);
    od_free(buf);
    return finish(status, p, "linreg", v, out);
}

/* ---- linreg-data ------------------------------------------------------------------------------- */

static const od_param linreg_data_params[] = {
    {"n", OD_PARAM_INT, 200, OD_SAME, 1, 1e8, 0, NULL, NULL, "number of samples"},
    {"d", OD_PARAM_INT, 20, OD_SAME, 1, 1e5, 0, NULL, NULL, "dimension"},
    {"exp", OD_PARAM_DOUBLE, 1, OD_SAME, 0, 100, 0, NULL, NULL,
     "power-law exponent of the population covariance: lambda_k = k^-exp"},
    {"sigma2", OD_PARAM_DOUBLE, 0.1, OD_SAME, 0, INFINITY, OD_HI_OPEN, NULL, NULL,
     "label-noise variance sigma^2"},
    {"wstar", OD_PARAM_DOUBLE, 1, OD_SAME, -INFINITY, INFINITY, OD_LO_OPEN | OD_HI_OPEN, NULL, NULL,
     "value of every coordinate of the teacher w*"},
};

/* n * d doubles at most for a data set built by name (2^27 doubles = 1 GiB). */
static int check_data_size(const char *problem, size_t n, size_t d)
{
    if ((double)n * (double)d > 134217728.0)
        OD_ERRORF(OD_ERANGE, "%s: keys 'n' = %zu and 'd' = %zu give a data set of %.3g doubles, more "
                  "than 2^27", problem, n, d, (double)n * (double)d);
    return OD_OK;
}

static int linreg_data_build(const od_params *v, uint64_t seed, od_problem **out)
{
    *out = NULL;
    const size_t n = param_size(v, "n"), d = param_size(v, "d");
    OD_TRY(check_data_size("linreg-data", n, d));
    const double sigma = sqrt(od_params_num(v, "sigma2")), ws = od_params_num(v, "wstar");
    double *X = od_vec_alloc(n * d + n + d);
    if (!X) OD_ERRORF(OD_ENOMEM, "linreg-data: out of memory (n = %zu, d = %zu)", n, d);
    double *y = X + n * d, *sql = y + n;
    powerlaw(d, od_params_num(v, "exp"), sql);
    for (size_t k = 0; k < d; k++) sql[k] = sqrt(sql[k]);
    od_stream sx, sy;
    od_stream_init(&sx, seed, STREAM_DATA);
    od_stream_init(&sy, seed, STREAM_LABEL);
    for (size_t i = 0; i < n; i++) {
        double *xi = X + i * d, dot = 0.0;
        od_stream_seek(&sx, (uint32_t)i, 0);
        od_stream_seek(&sy, (uint32_t)i, 0);
        for (size_t k = 0; k < d; k++) {
            xi[k] = sql[k] * od_stream_normal(&sx);
            dot += ws * xi[k];
        }
        y[i] = dot + sigma * od_stream_normal(&sy);
    }
    od_problem *p = NULL;
    int status = od_problem_linreg_data(n, d, X, y, &p);
    od_free(X);
    return finish(status, p, "linreg-data", v, out);
}

/* ---- logreg ------------------------------------------------------------------------------------ */

static const od_param logreg_params[] = {
    {"n", OD_PARAM_INT, 200, OD_SAME, 1, 1e8, 0, NULL, NULL, "number of samples"},
    {"d", OD_PARAM_INT, 10, OD_SAME, 1, 1e5, 0, NULL, NULL, "dimension"},
    {"ridge", OD_PARAM_DOUBLE, 1e-3, OD_SAME, 0, INFINITY, OD_HI_OPEN, NULL, NULL,
     "ridge (L2) penalty: f_i += ridge/2 ||w||^2"},
    {"scale", OD_PARAM_DOUBLE, 2, OD_SAME, 0, 1e3, 0, NULL, NULL,
     "norm of the teacher; the teacher's margins are N(0, scale^2), larger is less label noise"},
};

/* X_ij ~ N(0, 1); a teacher u of norm `scale` in a uniformly random direction; labels
 * y_i = +1 with probability sigma(<u, x_i>) (the logistic link), else -1. */
static int logreg_build(const od_params *v, uint64_t seed, od_problem **out)
{
    *out = NULL;
    const size_t n = param_size(v, "n"), d = param_size(v, "d");
    OD_TRY(check_data_size("logreg", n, d));
    double *X = od_vec_alloc(n * d + n + d);
    if (!X) OD_ERRORF(OD_ENOMEM, "logreg: out of memory (n = %zu, d = %zu)", n, d);
    double *y = X + n * d, *u = y + n;
    od_stream s;
    od_stream_init(&s, seed, STREAM_MODEL);
    od_stream_normals(&s, u, d);
    const double nu = od_nrm2(d, u);
    od_scal(d, nu > 0 ? od_params_num(v, "scale") / nu : 0.0, u);
    od_stream sx, sy;
    od_stream_init(&sx, seed, STREAM_DATA);
    od_stream_init(&sy, seed, STREAM_LABEL);
    for (size_t i = 0; i < n; i++) {
        double *xi = X + i * d;
        od_stream_seek(&sx, (uint32_t)i, 0);
        od_stream_seek(&sy, (uint32_t)i, 0);
        od_stream_normals(&sx, xi, d);
        /* P(y = +1) = sigma(t) = 1 - sigma(-t) */
        y[i] = od_stream_uniform(&sy) < 1.0 - sigmoid_neg(od_dot(d, u, xi)) ? 1.0 : -1.0;
    }
    od_problem *p = NULL;
    int status = od_problem_logreg_data(n, d, X, y, od_params_num(v, "ridge"), &p);
    od_free(X);
    return finish(status, p, "logreg", v, out);
}

/* ---- the catalog ------------------------------------------------------------------------------- */

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const od_problem_entry entry_quadratic = {
    "quadratic", "diagonal quadratic 1/2 sum lambda_k (x_k - c_k)^2 with additive Gaussian gradient "
    "noise (saddles allowed)", quadratic_params, N_OF(quadratic_params), quadratic_build};
static const od_problem_entry entry_dense_quadratic = {
    "dense-quadratic", "quadratic with a Haar-rotated Hessian of log-spaced eigenvalues and Gaussian "
    "gradient noise", dense_quadratic_params, N_OF(dense_quadratic_params), dense_quadratic_build};
static const od_problem_entry entry_linreg = {
    "linreg", "streaming Gaussian linear regression with power-law spectrum lambda_k = k^-exp",
    linreg_params, N_OF(linreg_params), linreg_build};
static const od_problem_entry entry_linreg_data = {
    "linreg-data", "linear regression on n Gaussian samples with power-law covariance",
    linreg_data_params, N_OF(linreg_data_params), linreg_data_build};
static const od_problem_entry entry_logreg = {
    "logreg", "ridge logistic regression on Gaussian data labelled by a logistic teacher",
    logreg_params, N_OF(logreg_params), logreg_build};

const od_problem_entry *const od_core_problems[] = {
    &entry_quadratic, &entry_dense_quadratic, &entry_linreg, &entry_linreg_data, &entry_logreg, NULL};
