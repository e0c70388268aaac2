/* optdyn tests — problems by name and the error paths: every registry entry builds from its
 * defaults, specs against closed forms, the statistics of the generated data (dense-quadratic's Haar
 * rotation, linreg-data's covariance and noise, logreg's teacher), errors that name the key, several
 * catalogs; constructors that refuse bad input and streaming problems that refuse per-sample calls.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/optdyn_core.h"
#include "od_test.h"
#include "problem_testutil.h"

void od_test_suite_problem_registry(void);

/* ---- errors ------------------------------------------------------------------------------------ */

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

/* The constructors ask od_cholesky whether S and A are positive definite and whether X has full
 * column rank; "no" is an answer, not an error.  A singular S (falls back to the eigendecomposition),
 * an indefinite A and a repeated column of X (no xstar) raise nothing and keep the caller's last
 * error. */
static void test_not_definite_is_no_error(void)
{
    double c[ND_D], S[ND_D * ND_D], A[ND_D * ND_D], X[ND_N * ND_P], y[ND_N];
    tp_not_definite(c, S, A, X, y);
    od_problem *pq = NULL, *pl = NULL;
    od_error(OD_EINTERNAL, __FILE__, __LINE__, "the caller's error");
    od_test_errors_begin();
    CU_ASSERT_EQUAL(od_problem_quadratic_dense(ND_D, A, c, S, &pq), OD_OK);
    CU_ASSERT_EQUAL(od_problem_linreg_data(ND_N, ND_P, X, y, &pl), OD_OK);
    CU_ASSERT_EQUAL(od_test_errors_end(), 0);
    CU_ASSERT_STRING_EQUAL(od_last_error(), "the caller's error");
    CU_ASSERT_FATAL(pq != NULL && pl != NULL);
    CU_ASSERT_PTR_NULL(pq->xstar);
    CU_ASSERT_PTR_NULL(pl->xstar);
    od_problem_free(pq);
    od_problem_free(pl);
    od_clear_error();
}

/* ---- registry ---------------------------------------------------------------------------------- */

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

/* The declared noise structure matches the exact covariance: constant problems give the same
 * Sigma1 at two points; diagonal ones have no off-diagonal entries there. */
static void test_noise_flags(void)
{
    static const char *specs[] = {"quadratic:d=4,lambda=1|2|3|4,noise=0.3",
                                  "dense-quadratic:d=4,noise=0.2", "dense-quadratic:d=4,noise=0",
                                  "dense-quadratic:d=4,noise=0.2,noise_shape=hessian",
                                  "linreg:d=4", "linreg-data:n=30,d=4", "logreg:n=30,d=4"};
    static const unsigned expect[] = {OD_NOISE_CONSTANT | OD_NOISE_DIAGONAL, OD_NOISE_CONSTANT | OD_NOISE_DIAGONAL,
                                      OD_NOISE_CONSTANT | OD_NOISE_DIAGONAL, OD_NOISE_CONSTANT, 0, 0, 0};
    const od_problem_entry *const *const cat[] = {od_core_problems, NULL};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        od_problem *p = NULL;
        CU_ASSERT_EQUAL_FATAL(od_problem_from_spec(cat, specs[i], 11, &p), OD_OK);
        CU_ASSERT_EQUAL(p->noise, expect[i]);
        const size_t d = p->dim;
        double x1[4] = {0.3, -1.2, 2.385, 0.7}, x2[4] = {-2.0, 0.5, 0.25, 1.9}, c1[16], c2[16];
        CU_ASSERT_EQUAL_FATAL(od_problem_noise_cov(p, x1, c1), OD_OK);
        CU_ASSERT_EQUAL_FATAL(od_problem_noise_cov(p, x2, c2), OD_OK);
        int same = 1, diag = 1;
        for (size_t k = 0; k < d * d; k++) {
            same &= c1[k] == c2[k];
            diag &= (k % (d + 1) == 0) || (c1[k] == 0 && c2[k] == 0);
        }
        if (p->noise & OD_NOISE_CONSTANT) CU_ASSERT_TRUE(same);
        if (p->noise & OD_NOISE_DIAGONAL) CU_ASSERT_TRUE(diag);
        if (expect[i] == 0) CU_ASSERT_FALSE(same);   /* the flags are not merely conservative */
        od_problem_free(p);
    }
}

void od_test_suite_problem_registry(void)
{
    static const od_test_case cases[] = {
        {"streaming problems refuse per-sample calls", test_streaming_refuses_samples},
        {"constructors refuse bad input", test_constructor_errors},
        {"not positive definite is no error", test_not_definite_is_no_error},
        {"registry: every entry builds from defaults", test_registry_defaults},
        {"registry: specs against closed forms", test_registry_specs},
        {"registry: dense-quadratic spectrum and seeds", test_registry_dense_quadratic},
        {"registry: linreg-data and logreg data", test_registry_linreg_data},
        {"registry: errors name the key", test_registry_errors},
        {"registry: several catalogs", test_registry_catalogs},
        {"declared noise structure matches the covariance", test_noise_flags},
        {NULL, NULL}};
    od_test_add("problem: registry", cases);
}
