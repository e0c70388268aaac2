/* optdyn tests — the optimizer zoo, SVAG and the scaling rules, against hand computation and
 * algebraic identities.
 *
 * Error model: a hand-computed step and the library's step evaluate the same few operations in a
 * possibly different order, so they agree to |a - b| <= 16 eps (|a| + |update|); identities that
 * hold operation by operation (Adam with beta1 = 0 vs bias-corrected RMSprop, SVAG l = 1 vs SGD)
 * are asserted bit for bit; iterated identities (the momentum forms over K steps) to
 * 64 K eps times the scale of the iterates.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "od_test.h"
#include "sde/optdyn_sde.h"

void od_test_suite_sde_opt(void);

#define EPS DBL_EPSILON
#define SEED 0x9E3779B97F4A7C15ULL

static const double LAM[2] = {2.385, 0.731}, X0[2] = {1.137, -0.482};

static od_problem *quad(int noisy)
{
    const double sd[2] = {0.613, 1.291};
    od_problem *p = NULL;
    CU_ASSERT_EQUAL_FATAL(od_problem_quadratic_diag(2, LAM, NULL, noisy ? sd : NULL, &p), OD_OK);
    return p;
}

/* One full-gradient step of opt from X0; returns x in out. */
static void one_step(const od_sde_optimizer *opt, const od_sde_hp *hp, double *out, int steps)
{
    od_problem *p = quad(0);
    od_sde_opt *o = NULL;
    CU_ASSERT_EQUAL_FATAL(od_sde_opt_alloc(opt, hp, 2, &o), OD_OK);
    memcpy(out, X0, sizeof X0);
    for (int k = 0; k < steps; k++) CU_ASSERT_EQUAL(od_sde_opt_step(o, p, 0, NULL, out), OD_OK);
    od_sde_opt_free(o);
    od_problem_free(p);
}

#define CHECK2(x, e)                                                                   \
    for (int i_ = 0; i_ < 2; i_++)                                                     \
        OD_ASSERT_CLOSE((x)[i_], (e)[i_], 16 * EPS * (fabs((e)[i_]) + fabs(X0[i_]) + 1))

static void test_hand_steps(void)
{
    od_sde_hp hp = od_sde_hp_default();
    hp.lr = 0.0737;
    double x[2], e[2], g[2] = {LAM[0] * X0[0], LAM[1] * X0[1]};
    const double gn = hypot(g[0], g[1]);

    one_step(od_sde_sgd, &hp, x, 1);
    for (int i = 0; i < 2; i++) e[i] = X0[i] - hp.lr * g[i];
    CHECK2(x, e);

    /* momentum, two steps: b1 = g0, x1 = x0 - lr g0; b2 = mu g0 + g1, x2 = x1 - lr b2 */
    hp.momentum = 0.813;
    one_step(od_sde_momentum, &hp, x, 2);
    for (int i = 0; i < 2; i++) {
        double x1 = X0[i] - hp.lr * g[i], g1 = LAM[i] * x1;
        e[i] = x1 - hp.lr * (hp.momentum * g[i] + g1);
    }
    CHECK2(x, e);
    /* Nesterov, one step: b1 = g0, x1 = x0 - lr (g0 + mu g0) */
    one_step(od_sde_nesterov, &hp, x, 1);
    for (int i = 0; i < 2; i++) e[i] = X0[i] - hp.lr * (1 + hp.momentum) * g[i];
    CHECK2(x, e);

    /* Adam, bias-corrected, first step: m^ = g, v^ = g^2: x - lr g/(|g| + eps) */
    hp.eps = 0.0123;
    hp.beta1 = 0.871;
    hp.beta2 = 0.9937;
    one_step(od_sde_adam, &hp, x, 1);
    for (int i = 0; i < 2; i++) e[i] = X0[i] - hp.lr * g[i] / (fabs(g[i]) + hp.eps);
    CHECK2(x, e);
    /* Adam without bias correction, eps inside: m = (1-b1) g, v = (1-b2) g^2 */
    hp.bias_correction = 0;
    hp.eps_inside = 1;
    one_step(od_sde_adam, &hp, x, 1);
    for (int i = 0; i < 2; i++)
        e[i] = X0[i] - hp.lr * (1 - hp.beta1) * g[i] / sqrt((1 - hp.beta2) * g[i] * g[i] + hp.eps);
    CHECK2(x, e);
    /* RMSprop likewise: x - lr g / sqrt((1-b2) g^2 + eps) */
    one_step(od_sde_rmsprop, &hp, x, 1);
    for (int i = 0; i < 2; i++) e[i] = X0[i] - hp.lr * g[i] / sqrt((1 - hp.beta2) * g[i] * g[i] + hp.eps);
    CHECK2(x, e);
    /* Adam, bias-corrected, second step */
    hp.bias_correction = 1;
    hp.eps_inside = 0;
    one_step(od_sde_adam, &hp, x, 2);
    for (int i = 0; i < 2; i++) {
        double m1 = (1 - hp.beta1) * g[i], v1 = (1 - hp.beta2) * g[i] * g[i];
        double x1 = X0[i] - hp.lr * g[i] / (fabs(g[i]) + hp.eps), g1 = LAM[i] * x1;
        double m2 = hp.beta1 * m1 + (1 - hp.beta1) * g1, v2 = hp.beta2 * v1 + (1 - hp.beta2) * g1 * g1;
        double mh = m2 / (1 - hp.beta1 * hp.beta1), vh = v2 / (1 - hp.beta2 * hp.beta2);
        e[i] = x1 - hp.lr * mh / (sqrt(vh) + hp.eps);
    }
    CHECK2(x, e);
    /* AdamW: (1 - lr wd) x - lr g/(|g| + eps) */
    hp.weight_decay = 0.317;
    one_step(od_sde_adamw, &hp, x, 1);
    for (int i = 0; i < 2; i++)
        e[i] = (1 - hp.lr * hp.weight_decay) * X0[i] - hp.lr * g[i] / (fabs(g[i]) + hp.eps);
    CHECK2(x, e);

    /* SAM family (full batch: SAM and DNSAM coincide) */
    hp.rho = 0.219;
    one_step(od_sde_sam, &hp, x, 1);
    for (int i = 0; i < 2; i++) e[i] = X0[i] - hp.lr * LAM[i] * (X0[i] + hp.rho * g[i] / gn);
    CHECK2(x, e);
    one_step(od_sde_dnsam, &hp, x, 1);
    CHECK2(x, e);
    one_step(od_sde_usam, &hp, x, 1);
    for (int i = 0; i < 2; i++) e[i] = X0[i] - hp.lr * LAM[i] * (X0[i] + hp.rho * g[i]);
    CHECK2(x, e);

    one_step(od_sde_signsgd, &hp, x, 1);
    for (int i = 0; i < 2; i++) e[i] = X0[i] - hp.lr * (g[i] > 0 ? 1 : -1);
    CHECK2(x, e);
    hp.clip = 0.5 * gn;   /* clipped to half its norm */
    one_step(od_sde_clipsgd, &hp, x, 1);
    for (int i = 0; i < 2; i++) e[i] = X0[i] - hp.lr * 0.5 * g[i];
    CHECK2(x, e);
    hp.clip = 2 * gn;     /* not clipped */
    one_step(od_sde_clipsgd, &hp, x, 1);
    for (int i = 0; i < 2; i++) e[i] = X0[i] - hp.lr * g[i];
    CHECK2(x, e);
}

/* USAM with noise: both gradients come from the same minibatch, so the step is
 * x - lr (H (x + rho g) + Z) with g = H x + Z, Z the batch noise at that stream position. */
static void test_sam_same_batch(void)
{
    od_problem *p = quad(1);
    od_sde_hp hp = od_sde_hp_default();
    hp.lr = 0.0611;
    hp.rho = 0.173;
    od_sde_opt *o = NULL;
    CU_ASSERT_EQUAL_FATAL(od_sde_opt_alloc(od_sde_usam, &hp, 2, &o), OD_OK);
    od_stream s, s2;
    od_stream_init(&s, SEED, 5);
    od_stream_seek(&s, 17, 3);
    s2 = s;
    double g[2], x[2] = {X0[0], X0[1]}, e[2];
    CU_ASSERT_EQUAL(od_problem_batch_grad(p, X0, 3, &s2, g, NULL), OD_OK);
    CU_ASSERT_EQUAL(od_sde_opt_step(o, p, 3, &s, x), OD_OK);
    for (int i = 0; i < 2; i++) {
        double z = g[i] - LAM[i] * X0[i];
        e[i] = X0[i] - hp.lr * (LAM[i] * (X0[i] + hp.rho * g[i]) + z);
    }
    CHECK2(x, e);
    /* the stream advanced past one batch only */
    CU_ASSERT_EQUAL(memcmp(&s, &s2, sizeof s), 0);
    od_sde_opt_free(o);
    od_problem_free(p);
}

/* Runs opt for K noisy steps at batch B from X0 on streams (seed, 7) at (path 3, k). */
static void run_noisy(const od_sde_optimizer *opt, const od_sde_hp *hp, const od_sde_oracle_amp *amp,
                      int K, double *traj)
{
    od_problem *p = quad(1);
    od_sde_opt *o = NULL;
    CU_ASSERT_EQUAL_FATAL(od_sde_opt_alloc(opt, hp, 2, &o), OD_OK);
    od_sde_opt_set_amp(o, amp);
    od_stream s;
    od_stream_init(&s, SEED, 7);
    double x[2] = {X0[0], X0[1]};
    for (int k = 0; k < K; k++) {
        od_stream_seek(&s, 3, (uint32_t)k);
        CU_ASSERT_EQUAL(od_sde_opt_step(o, p, 2, &s, x), OD_OK);
        traj[2 * k] = x[0];
        traj[2 * k + 1] = x[1];
    }
    od_sde_opt_free(o);
    od_problem_free(p);
}

static void test_identities(void)
{
    enum { K = 40 };
    double a[2 * K], b[2 * K];
    od_sde_hp hp = od_sde_hp_default();
    hp.lr = 0.0417;
    /* Adam with beta1 = 0 is bias-corrected RMSprop, bit for bit */
    hp.beta1 = 0;
    hp.beta2 = 0.937;
    run_noisy(od_sde_adam, &hp, NULL, K, a);
    run_noisy(od_sde_rmsprop, &hp, NULL, K, b);
    CU_ASSERT_EQUAL(memcmp(a, b, sizeof a), 0);
    /* SVAG with l = 1 (r = (1, 0)) is SGD on the same draws */
    od_sde_oracle_amp one = od_sde_svag_coeffs(1.0);
    CU_ASSERT_EQUAL(one.r1, 1.0);
    CU_ASSERT_EQUAL(one.r2, 0.0);
    run_noisy(od_sde_sgd, &hp, &one, K, a);
    run_noisy(od_sde_sgd, &hp, NULL, K, b);
    CU_ASSERT_EQUAL(memcmp(a, b, sizeof a), 0);
    /* PyTorch momentum = heavy ball x_{k+1} = x_k - lr g_k + mu (x_k - x_{k-1}) on the same draws */
    hp.momentum = 0.887;
    run_noisy(od_sde_momentum, &hp, NULL, K, a);
    od_problem *p = quad(1);
    od_stream s;
    od_stream_init(&s, SEED, 7);
    double x[2] = {X0[0], X0[1]}, xm[2] = {X0[0], X0[1]}, g[2], scale = 0;
    for (int k = 0; k < K; k++) {
        od_stream_seek(&s, 3, (uint32_t)k);
        CU_ASSERT_EQUAL(od_problem_batch_grad(p, x, 2, &s, g, NULL), OD_OK);
        for (int i = 0; i < 2; i++) {
            double xn = x[i] - hp.lr * g[i] + hp.momentum * (x[i] - xm[i]);
            xm[i] = x[i];
            x[i] = xn;
            scale = fmax(scale, fabs(xn));
            OD_ASSERT_CLOSE(a[2 * k + i], xn, 64.0 * (k + 1) * EPS * (scale + 1));
        }
    }
    od_problem_free(p);
}

static void test_svag_coeffs(void)
{
    const double as[] = {1, 2, 4, 8, 2.37, 64};
    for (size_t i = 0; i < sizeof as / sizeof as[0]; i++) {
        od_sde_oracle_amp r = od_sde_svag_coeffs(as[i]);
        OD_ASSERT_CLOSE(r.r1 + r.r2, 1.0, 4 * EPS);
        OD_ASSERT_CLOSE(r.r1 * r.r1 + r.r2 * r.r2, as[i], 8 * EPS * as[i]);
    }
    od_sde_hp hp = od_sde_hp_default(), h2;
    od_sde_oracle_amp amp;
    double f;
    hp.lr = 0.03;
    CU_ASSERT_EQUAL(od_sde_svag(od_sde_sgd, &hp, 4, &h2, &amp, &f), OD_OK);
    CU_ASSERT_EQUAL(f, 4.0);
    OD_ASSERT_CLOSE(h2.lr, 0.0075, EPS);
    OD_ASSERT_CLOSE(amp.r1 * amp.r1 + amp.r2 * amp.r2, 4.0, 8 * EPS * 4);
    /* adaptive: the code's convention, l^2; SVAG = square-root rule with kappa = 1/l^2, so
     * sigma0 = eta sigma (sigma -> l sigma), eps0 = eps eta and c_i = (1 - beta_i)/eta^2 are kept */
    hp.beta1 = 0.9;
    hp.beta2 = 0.99;
    hp.eps = 1e-3;
    CU_ASSERT_EQUAL(od_sde_svag(od_sde_adam, &hp, 2, &h2, &amp, &f), OD_OK);
    CU_ASSERT_EQUAL(f, 4.0);
    OD_ASSERT_CLOSE(h2.lr * 2.0, hp.lr, 2 * EPS * hp.lr);   /* eta/l x (l sigma) = eta sigma */
    OD_ASSERT_CLOSE(h2.eps * h2.lr, hp.eps * hp.lr, 4 * EPS * hp.eps * hp.lr);
    OD_ASSERT_CLOSE((1 - h2.beta1) / (h2.lr * h2.lr), (1 - hp.beta1) / (hp.lr * hp.lr), 1e-12 * 111.2);
    OD_ASSERT_CLOSE((1 - h2.beta2) / (h2.lr * h2.lr), (1 - hp.beta2) / (hp.lr * hp.lr), 1e-12 * 11.2);
    OD_ASSERT_CLOSE(amp.r1 * amp.r1 + amp.r2 * amp.r2, 4.0, 32 * EPS);
    CU_ASSERT_EQUAL(od_sde_svag(od_sde_sam, &hp, 2, &h2, &amp, &f), OD_ENOTSUP);
    CU_ASSERT_EQUAL(od_sde_svag(od_sde_sgd, &hp, 0.5, &h2, &amp, &f), OD_ERANGE);
}

static void test_rules(void)
{
    od_sde_hp hp = od_sde_hp_default(), h2, h3;
    hp.lr = 2.5e-3;
    hp.beta1 = 0.95;
    hp.beta2 = 0.998;
    hp.eps = 3.7e-4;
    od_sde_rule r;
    size_t B2, B3;
    uint64_t K2, K3;
    od_sde_rule_report rep;
    CU_ASSERT_EQUAL(od_sde_rule_parse("sqrt:kappa=4", &r), OD_OK);
    CU_ASSERT_EQUAL(r.kind, OD_SDE_RULE_SQRT);
    CU_ASSERT_EQUAL(od_sde_rule_apply(&r, od_sde_adam, &hp, 8, 1000, &h2, &B2, &K2, &rep), OD_OK);
    CU_ASSERT_EQUAL(B2, 32);
    CU_ASSERT_EQUAL(K2, 250);
    OD_ASSERT_CLOSE(rep.limit, 4 * 0.05, 1e-15);
    /* invariants of the Adam SDE: sigma0 = eta/sqrt(B), eps0 = eps eta, c_i = (1-beta_i)/eta^2,
     * and the SDE time K eta^2 */
    OD_ASSERT_REL(h2.lr / sqrt(32.0), hp.lr / sqrt(8.0), 4 * EPS);
    OD_ASSERT_REL(h2.eps * h2.lr, hp.eps * hp.lr, 4 * EPS);
    OD_ASSERT_REL((1 - h2.beta1) / (h2.lr * h2.lr), (1 - hp.beta1) / (hp.lr * hp.lr), 1e-13);
    OD_ASSERT_REL((1 - h2.beta2) / (h2.lr * h2.lr), (1 - hp.beta2) / (hp.lr * hp.lr), 1e-12);
    OD_ASSERT_REL((double)K2 * h2.lr * h2.lr, 1000.0 * hp.lr * hp.lr, 4 * EPS);
    /* SRSR(1/kappa) undoes SRSR(kappa) */
    od_sde_rule back = {OD_SDE_RULE_SQRT, 0.25};
    CU_ASSERT_EQUAL(od_sde_rule_apply(&back, od_sde_adam, &h2, B2, K2, &h3, &B3, &K3, &rep), OD_OK);
    CU_ASSERT_EQUAL(B3, 8);
    CU_ASSERT_EQUAL(K3, 1000);
    OD_ASSERT_REL(h3.lr, hp.lr, 4 * EPS);
    OD_ASSERT_REL(h3.eps, hp.eps, 4 * EPS);
    OD_ASSERT_CLOSE(h3.beta1, hp.beta1, 4 * EPS);
    OD_ASSERT_CLOSE(h3.beta2, hp.beta2, 4 * EPS);
    /* validity: kappa (1 - beta1) >= 1 is refused with the product in the message */
    od_sde_rule big = {OD_SDE_RULE_SQRT, 20};
    CU_ASSERT_EQUAL(od_sde_rule_apply(&big, od_sde_adam, &hp, 8, 1000, &h2, &B2, &K2, &rep), OD_ERANGE);
    CU_ASSERT_FALSE(rep.valid);
    OD_ASSERT_CLOSE(rep.limit, 1.0, 1e-14);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "kappa (1 - beta) = 1"));
    /* RMSprop only uses beta2: kappa = 20 is fine there (20 x 0.002 = 0.04) */
    CU_ASSERT_EQUAL(od_sde_rule_apply(&big, od_sde_rmsprop, &hp, 8, 1000, &h2, &B2, &K2, &rep), OD_OK);
    /* linear rule: lr x kappa, nothing else */
    CU_ASSERT_EQUAL(od_sde_rule_parse("linear:kappa=3", &r), OD_OK);
    CU_ASSERT_EQUAL(od_sde_rule_apply(&r, od_sde_sgd, &hp, 5, 999, &h2, &B2, &K2, &rep), OD_OK);
    CU_ASSERT_EQUAL(B2, 15);
    CU_ASSERT_EQUAL(K2, 333);
    OD_ASSERT_REL(h2.lr, 3 * hp.lr, 2 * EPS);
    CU_ASSERT_EQUAL(h2.beta1, hp.beta1);
    /* bad input */
    CU_ASSERT_EQUAL(od_sde_rule_parse("cubic:kappa=2", &r), OD_ENOTFOUND);
    CU_ASSERT_EQUAL(od_sde_rule_parse("sqrt", &r), OD_EINVAL);
    CU_ASSERT_EQUAL(od_sde_rule_parse("sqrt:kappa=-1", &r), OD_ERANGE);
    CU_ASSERT_EQUAL(od_sde_rule_parse("sqrt:gamma=2", &r), OD_ENOTFOUND);
    od_sde_rule frac = {OD_SDE_RULE_LINEAR, 0.3};
    CU_ASSERT_EQUAL(od_sde_rule_apply(&frac, od_sde_sgd, &hp, 5, 10, &h2, &B2, &K2, &rep), OD_ERANGE);
}

static void test_hp_and_registry(void)
{
    for (size_t i = 0; od_sde_optimizers[i]; i++) {
        CU_ASSERT_PTR_EQUAL(od_sde_optimizer_find(od_sde_optimizers[i]->name), od_sde_optimizers[i]);
        od_sde_hp hp = od_sde_hp_default();
        CU_ASSERT_EQUAL(od_sde_hp_check(od_sde_optimizers[i], &hp), OD_OK);
    }
    CU_ASSERT_PTR_NULL(od_sde_optimizer_find("adagrad"));
    od_sde_hp hp = od_sde_hp_default();
    CU_ASSERT_EQUAL(od_sde_hp_parse(od_sde_adam, "beta1=0.5,eps=0.25,bias_correction=0", &hp), OD_OK);
    CU_ASSERT_EQUAL(hp.beta1, 0.5);
    CU_ASSERT_EQUAL(hp.eps, 0.25);
    CU_ASSERT_EQUAL(hp.bias_correction, 0);
    CU_ASSERT_EQUAL(hp.beta2, 0.999);
    CU_ASSERT_EQUAL(od_sde_hp_parse(od_sde_adam, "beta1=1", &hp), OD_ERANGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "beta1"));
    CU_ASSERT_EQUAL(od_sde_hp_parse(od_sde_adam, "beta2=-0.1", &hp), OD_ERANGE);
    CU_ASSERT_EQUAL(od_sde_hp_parse(od_sde_sgd, "beta1=0.9", &hp), OD_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "beta1"));
    CU_ASSERT_EQUAL(od_sde_hp_parse(od_sde_momentum, "momentum=abc", &hp), OD_EPARSE);
    hp = od_sde_hp_default();
    hp.beta2 = 1.0;
    CU_ASSERT_EQUAL(od_sde_hp_check(od_sde_rmsprop, &hp), OD_ERANGE);
    hp = od_sde_hp_default();
    hp.lr = 0;
    od_sde_opt *o = NULL;
    CU_ASSERT_EQUAL(od_sde_opt_alloc(od_sde_sgd, &hp, 2, &o), OD_ERANGE);
    CU_ASSERT_PTR_NULL(o);
    /* a problem of the wrong size */
    hp.lr = 0.1;
    CU_ASSERT_EQUAL_FATAL(od_sde_opt_alloc(od_sde_sgd, &hp, 3, &o), OD_OK);
    od_problem *p = quad(0);
    double x[3] = {0};
    CU_ASSERT_EQUAL(od_sde_opt_step(o, p, 0, NULL, x), OD_EBADSIZE);
    od_problem_free(p);
    od_sde_opt_free(o);
    od_sde_opt_free(NULL);
}

void od_test_suite_sde_opt(void)
{
    static const od_test_case cases[] = {
        {"each optimizer against a hand-computed step", test_hand_steps},
        {"SAM family: one minibatch for ascent and descent", test_sam_same_batch},
        {"identities: Adam(beta1=0)=RMSprop, SVAG(1)=SGD, momentum forms", test_identities},
        {"SVAG coefficients and transforms", test_svag_coeffs},
        {"scaling rules: invariants, inverse, validity limit", test_rules},
        {"hyperparameter tables, registry and bad input", test_hp_and_registry},
        {NULL, NULL}};
    od_test_add("sde optimizers", cases);
}
