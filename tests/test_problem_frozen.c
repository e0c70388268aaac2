/* optdyn tests — frozen numbers of every built-in problem.
 *
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
 * these (and only these) need new values.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/optdyn_core.h"
#include "od_test.h"
#include "problem_testutil.h"

void od_test_suite_problem_frozen(void);

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

    /* a singular S (eigendecomposition) with an indefinite A (no xstar); rank-deficient data */
    double c[ND_D], S[ND_D * ND_D], A[ND_D * ND_D], X[ND_N * ND_P], y[ND_N];
    tp_not_definite(c, S, A, X, y);
    od_problem *p = NULL;
    CU_ASSERT_EQUAL_FATAL(od_problem_quadratic_dense(ND_D, A, c, S, &p), OD_OK);
    check_frozen("dense quadratic, singular S", p, 0xc5f4ab6738facff4ULL,
                 0x17a94a65489646c5ULL);
    od_problem_free(p);
    CU_ASSERT_EQUAL_FATAL(od_problem_linreg_data(ND_N, ND_P, X, y, &p), OD_OK);
    check_frozen("linreg-data, rank deficient", p, 0xa61b8a2545f4afacULL,
                 0x897021528dc911f2ULL);
    od_problem_free(p);
}

void od_test_suite_problem_frozen(void)
{
    static const od_test_case cases[] = {
        {"frozen numbers of every problem", test_problem_frozen},
        {NULL, NULL}};
    od_test_add("problem: frozen numbers", cases);
}
