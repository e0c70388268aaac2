/* optdyn tests — linreg: the exact second-moment engine against mathematics.
 *
 *   - exhaustive enumeration of every data sequence on tiny discrete-feature problems (Rademacher
 *     and a three-point law with kurtosis 3), for SGD, minibatches, heavy ball, ASGD, EMA and
 *     averages: equal to rounding;
 *   - the discrete Volterra (renewal) form of §3.1 computed independently;
 *   - reductions: heavy ball with mu = 0 and ASGD with alpha = 1 are SGD, EMA with a = 0 is the
 *     previous iterate, the 1/B structure of the noise term;
 *   - the closed-form stationary risk and kernel norm, the threshold step by bisection against the
 *     eigenvalue closed form.
 * The suites of the other files of this executable are listed in main at the bottom. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linreg/linreg_internal.h"
#include "linreg/optdyn_linreg.h"
#include "od_test.h"

void od_test_suite_linreg_io(void);
void od_test_suite_linreg_mc(void);
void od_test_suite_linreg_bounds(void);
void od_test_suite_linreg_cli(void);

/* ---- exhaustive enumeration ------------------------------------------------------------------- */

/* A discrete law for z (values with probabilities), and label noise xi = +-sigma. */
typedef struct {
    int nv;
    double v[3], p[3];
} law;

static const law rademacher = {2, {-1, 1}, {0.5, 0.5}};
/* {-sqrt3, 0, sqrt3} with probabilities 1/6, 2/3, 1/6: mean 0, variance 1, kurtosis 3 */
static const law three_point = {3, {-1.7320508075688772, 0, 1.7320508075688772}, {1.0 / 6, 2.0 / 3, 1.0 / 6}};

typedef struct {
    size_t d;
    const double *lambda;
    double sigma;
    const law *z;
    const od_linreg_algo *a;
    uint64_t T;
    double *acc;      /* expected output excess at t = 0..T */
} enum_ctx;

/* Output vector at time t from the state (z1, z2) and the output accumulator. */
static double out_excess(const enum_ctx *c, const double *z1, const double *out, uint64_t t)
{
    const od_linreg_algo *a = c->a;
    double e = 0;
    for (size_t k = 0; k < c->d; k++) {
        double o = z1[k];
        if (a->output == OD_LINREG_OUT_EMA) o = out[k];
        if (a->output == OD_LINREG_OUT_AVG && t > 0) o = out[k] / (double)t;
        if (a->output == OD_LINREG_OUT_TAIL && t > a->tail_start) o = out[k] / (double)(t - a->tail_start);
        e += 0.5 * c->lambda[k] * o * o;
    }
    return e;
}

/* Recursion over every outcome of step t with probability weight w. */
static void enumerate(const enum_ctx *c, uint64_t t, double w, const double *z1, const double *z2,
                      const double *out)
{
    c->acc[t] += w * out_excess(c, z1, out, t);
    if (t == c->T) return;
    const od_linreg_algo *a = c->a;
    const size_t d = c->d, B = a->batch, per = (size_t)c->z->nv * (size_t)c->z->nv * 2;  /* d = 2 */
    size_t n_out = 1;
    for (size_t b = 0; b < B; b++) n_out *= per;
    od_linreg_form f;
    a->method->form(a, od_linreg_schedule_mult(&a->schedule, t), &f);
    for (size_t o = 0; o < n_out; o++) {
        double G[2] = {0, 0}, wt = w;
        size_t code = o;
        for (size_t b = 0; b < B; b++, code /= per) {
            size_t cb = code % per;
            int i0 = (int)(cb % (size_t)c->z->nv), i1 = (int)(cb / (size_t)c->z->nv % (size_t)c->z->nv);
            int s = (int)(cb / ((size_t)c->z->nv * (size_t)c->z->nv));
            double x[2] = {sqrt(c->lambda[0]) * c->z->v[i0], sqrt(c->lambda[1]) * c->z->v[i1]};
            double xi = s ? c->sigma : -c->sigma, r = -xi;
            wt *= c->z->p[i0] * c->z->p[i1] * 0.5;
            for (size_t k = 0; k < d; k++) r += x[k] * (f.g[0] * z1[k] + (f.m == 2 ? f.g[1] * z2[k] : 0));
            for (size_t k = 0; k < d; k++) G[k] += r * x[k] / (double)B;
        }
        double n1[2], n2[2], no[2];
        for (size_t k = 0; k < d; k++) {
            double it = f.c[0] * z1[k] + (f.m == 2 ? f.c[1] * z2[k] : 0);
            no[k] = out[k];
            if (a->output == OD_LINREG_OUT_EMA) no[k] = a->ema * out[k] + (1 - a->ema) * it;
            if (a->output == OD_LINREG_OUT_AVG || (a->output == OD_LINREG_OUT_TAIL && t >= a->tail_start))
                no[k] = out[k] + it;
            if (f.m == 2) {
                n1[k] = f.Abar[0] * z1[k] + f.Abar[1] * z2[k] - f.s[0] * G[k];
                n2[k] = f.Abar[2] * z1[k] + f.Abar[3] * z2[k] - f.s[1] * G[k];
            } else {
                n1[k] = f.Abar[0] * z1[k] - f.s[0] * G[k];
                n2[k] = 0;
            }
        }
        enumerate(c, t + 1, wt, n1, n2, no);
    }
}

/* Exact engine against enumeration at every t <= T: relative error within 1e3 DBL_EPSILON (the
 * enumeration sums up to 10^5 weighted terms, each with a few roundings). */
static void check_enumeration(const law *z, double kappa, const od_linreg_algo *a, uint64_t T)
{
    const double lambda[2] = {1.37, 0.29}, omega[2] = {0.83, -1.21}, sigma2 = 0.0441;
    double acc[8] = {0};
    enum_ctx c = {2, lambda, sqrt(sigma2), z, a, T, acc};
    double out0[2] = {a->output == OD_LINREG_OUT_EMA ? omega[0] : 0, a->output == OD_LINREG_OUT_EMA ? omega[1] : 0};
    enumerate(&c, 0, 1.0, omega, omega, out0);
    od_linreg_model m = {2, lambda, omega, sigma2, kappa};
    od_linreg_exact *w = od_linreg_exact_alloc(&m, a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    for (uint64_t t = 0; t <= T; t++) {
        OD_ASSERT_REL(od_linreg_exact_excess(w), acc[t], 1e3 * DBL_EPSILON);
        if (t < T) CU_ASSERT_EQUAL(od_linreg_exact_step(w), OD_OK);
    }
    od_linreg_exact_free(w);
}

static void test_enumeration(void)
{
    od_linreg_algo sgd = od_linreg_algo_sgd(0.37, 1);
    check_enumeration(&rademacher, 1.0, &sgd, 5);
    check_enumeration(&three_point, 3.0, &sgd, 4);
    od_linreg_algo sgd2 = od_linreg_algo_sgd(0.61, 2);
    check_enumeration(&rademacher, 1.0, &sgd2, 3);
    od_linreg_algo hb = od_linreg_algo_hb(0.23, 0.47, 1);
    check_enumeration(&rademacher, 1.0, &hb, 5);
    check_enumeration(&three_point, 3.0, &hb, 4);
    od_linreg_algo as = od_linreg_algo_asgd(0.71, 0.19, 0.53, 0.31, 1);
    check_enumeration(&three_point, 3.0, &as, 4);
    od_linreg_algo ema = od_linreg_algo_sgd(0.41, 1);
    ema.output = OD_LINREG_OUT_EMA;
    ema.ema = 0.63;
    check_enumeration(&rademacher, 1.0, &ema, 5);
    od_linreg_algo hbema = hb;
    hbema.output = OD_LINREG_OUT_EMA;
    hbema.ema = 0.37;
    check_enumeration(&three_point, 3.0, &hbema, 4);
    od_linreg_algo avg = od_linreg_algo_sgd(0.41, 1);
    avg.output = OD_LINREG_OUT_AVG;
    check_enumeration(&rademacher, 1.0, &avg, 5);
    od_linreg_algo tail = as;
    tail.output = OD_LINREG_OUT_TAIL;
    tail.tail_start = 2;
    check_enumeration(&rademacher, 1.0, &tail, 5);
    od_linreg_algo sched = od_linreg_algo_sgd(0.9, 1);
    CU_ASSERT_EQUAL(od_linreg_schedule_parse("stepdecay:start=1", 5, &sched.schedule), OD_OK);
    check_enumeration(&three_point, 3.0, &sched, 4);
}

/* ---- discrete Volterra form (§3.1), computed independently ------------------------------------ */

static void test_volterra(void)
{
    enum { D = 37, T = 300 };
    double lambda[D], omega[D];
    od_linreg_spectrum_powerlaw(D, 1.3, 0.87, lambda);
    for (int k = 0; k < D; k++) omega[k] = cos(1.7 * k + 0.3);
    const double g = 0.61, sigma2 = 0.027, kappa = 1.8;
    const size_t B = 3;
    od_linreg_algo a = od_linreg_algo_sgd(g, B);
    uint64_t times[T];
    for (int t = 0; t < T; t++) times[t] = (uint64_t)t;
    double ex[T];
    CU_ASSERT_EQUAL_FATAL(od_linreg_excess_at(D, lambda, omega, sigma2, kappa, &a, T, times, ex), OD_OK);
    /* L_t = F_t + sum_{s<t} K_{t-1-s} L_s, L = 2 excess + sigma2 (MSE units) */
    double L[T], F[T], K[T], ak[D];
    for (int k = 0; k < D; k++) {
        double h = g * lambda[k];
        ak[k] = (1 - h) * (1 - h) + g * g / (double)B * (kappa - 2) * lambda[k] * lambda[k];
    }
    for (int t = 0; t < T; t++) {
        F[t] = sigma2;
        K[t] = 0;
        for (int k = 0; k < D; k++) {
            double p = pow(ak[k], t);
            F[t] += lambda[k] * omega[k] * omega[k] * p;
            K[t] += g * g / (double)B * lambda[k] * lambda[k] * p;
        }
        L[t] = 2 * ex[t] + sigma2;
    }
    double worst = 0;
    for (int t = 0; t < T; t++) {
        double v = F[t];
        for (int s = 0; s < t; s++) v += K[t - 1 - s] * L[s];
        worst = fmax(worst, fabs(v - L[t]) / L[t]);
    }
    /* error model: T accumulated roundings of relative size DBL_EPSILON in a contracting sum */
    CU_ASSERT_TRUE(worst <= 10.0 * T * DBL_EPSILON);
    if (worst > 10.0 * T * DBL_EPSILON) fprintf(stderr, "\n  Volterra identity: worst relative %g\n", worst);
}

/* ---- reductions ------------------------------------------------------------------------------- */

static void run_curve(const od_linreg_algo *a, const double *lambda, const double *omega, size_t d,
                      double sigma2, double kappa, size_t n, double *ex)
{
    uint64_t times[512];
    for (size_t t = 0; t < n; t++) times[t] = t;
    CU_ASSERT_EQUAL(od_linreg_excess_at(d, lambda, omega, sigma2, kappa, a, n, times, ex), OD_OK);
}

static void test_reductions(void)
{
    enum { D = 53, N = 400 };
    double lambda[D], omega[D];
    od_linreg_spectrum_powerlaw(D, 1.7, 1.3, lambda);
    for (int k = 0; k < D; k++) omega[k] = 0.5 + sin(2.3 * k);
    const double sigma2 = 0.013;
    double s[N], h[N], as[N], e[N];
    od_linreg_algo sgd = od_linreg_algo_sgd(0.43, 2);
    run_curve(&sgd, lambda, omega, D, sigma2, 3, N, s);
    od_linreg_algo hb = od_linreg_algo_hb(0.43, 0.0, 2);
    run_curve(&hb, lambda, omega, D, sigma2, 3, N, h);
    od_linreg_algo asgd = od_linreg_algo_asgd(1.0, 0.37, 0.91, 0.43, 2);
    run_curve(&asgd, lambda, omega, D, sigma2, 3, N, as);
    /* heavy ball and ASGD run the generic loop, SGD its cached-coefficient loop: the same terms
     * associated differently, a few roundings per step in a contracting recursion, so the relative
     * difference grows at most linearly: 8 (t + 1) DBL_EPSILON */
    for (int t = 0; t < N; t++) {
        OD_ASSERT_REL(h[t], s[t], 8 * (t + 1) * DBL_EPSILON);
        OD_ASSERT_REL(as[t], s[t], 8 * (t + 1) * DBL_EPSILON);
    }
    /* heavy ball with mu = 0 and ASGD with alpha = 1 run the same loop: equal up to additions of
     * exact zeros */
    for (int t = 0; t < N; t++) OD_ASSERT_REL(as[t], h[t], 4 * DBL_EPSILON);
    /* EMA with decay 0 outputs the previous iterate: e_N = w_{N-1} */
    od_linreg_algo ema = sgd;
    ema.output = OD_LINREG_OUT_EMA;
    ema.ema = 0.0;
    run_curve(&ema, lambda, omega, D, sigma2, 3, N, e);
    for (int t = 1; t < N; t++) OD_ASSERT_REL(e[t], s[t - 1], 8 * t * DBL_EPSILON);
    /* tail average from the last step is the iterate before it */
    od_linreg_algo tail = sgd;
    tail.output = OD_LINREG_OUT_TAIL;
    tail.tail_start = 137;
    run_curve(&tail, lambda, omega, D, sigma2, 3, 139, e);
    OD_ASSERT_REL(e[138], s[137], 8 * 138 * DBL_EPSILON);
    OD_ASSERT_REL(e[100], s[100], 8 * 101 * DBL_EPSILON);
}

/* The SGD noise enters as 1/B: (R_B - R_GD) B tends to a constant, and the gradient-descent limit
 * is (1 - g lambda)^(2t) omega^2. */
static void test_batch_limit(void)
{
    enum { D = 11 };
    double lambda[D], omega[D];
    od_linreg_spectrum_powerlaw(D, 1.1, 1.0, lambda);
    for (int k = 0; k < D; k++) omega[k] = 1.0 / (1 + k);
    const uint64_t T = 60;
    const double g = 0.7;
    double gd = 0;
    for (int k = 0; k < D; k++) gd += 0.5 * lambda[k] * omega[k] * omega[k] * pow(1 - g * lambda[k], 2.0 * T);
    double r[2];
    for (int i = 0; i < 2; i++) {
        od_linreg_algo a = od_linreg_algo_sgd(g, (size_t)1 << (20 + i));
        od_linreg_excess_at(D, lambda, omega, 0.0, 3.0, &a, 1, &T, &r[i]);
    }
    /* the 1/B^2 remainder at B = 2^20 is ~1e-6 of the 1/B term */
    OD_ASSERT_REL((r[0] - gd) * (double)(1 << 20), (r[1] - gd) * (double)(1 << 21), 1e-5);
    CU_ASSERT_TRUE(r[0] > gd && r[1] > gd);
}

/* d = 1 noiseless SGD: P_t = a^t omega^2 with a = (1 - h)^2 + (kappa - 1) h^2 / B. */
static void test_one_mode_closed_form(void)
{
    const double l = 1.9, om = 0.77, g = 0.29, kappa = 1.8;
    const size_t B = 3;
    od_linreg_algo a = od_linreg_algo_sgd(g, B);
    const double h = g * l, aa = (1 - h) * (1 - h) + (kappa - 1) * h * h / (double)B;
    uint64_t times[4] = {0, 1, 17, 250};
    double ex[4];
    od_linreg_excess_at(1, &l, &om, 0.0, kappa, &a, 4, times, ex);
    for (int i = 0; i < 4; i++)
        OD_ASSERT_REL(ex[i], 0.5 * l * om * om * pow(aa, (double)times[i]), (4.0 + times[i]) * DBL_EPSILON);
}

/* ---- stability: kernel norm, stationary risk, threshold --------------------------------------- */

static void test_stationary(void)
{
    enum { D = 41 };
    double lambda[D], omega[D];
    od_linreg_spectrum_powerlaw(D, 1.4, 1.1, lambda);
    for (int k = 0; k < D; k++) omega[k] = 0.3 * cos(k);
    const double sigma2 = 0.37;
    od_linreg_model m = {D, lambda, omega, sigma2, 3.0};
    /* SGD: the Lyapunov form equals (g/B) sum lambda / (2 - c_B g lambda) */
    const double g = 0.55;
    const size_t B = 2;
    od_linreg_algo a = od_linreg_algo_sgd(g, B);
    od_linreg_stability st;
    CU_ASSERT_EQUAL_FATAL(od_linreg_stability_compute(&m, &a, &st), OD_OK);
    double kn = 0, cb = 1 + 1.0 / (double)B;
    for (int k = 0; k < D; k++) kn += g / (double)B * lambda[k] / (2 - cb * g * lambda[k]);
    OD_ASSERT_REL(st.kernel_norm, kn, 64 * DBL_EPSILON);
    CU_ASSERT_TRUE(st.stable && st.exact_criterion);
    OD_ASSERT_REL(st.stationary_excess, 0.5 * sigma2 * kn / (1 - kn), 64 * DBL_EPSILON);
    /* the recursion converges to it; each method and the EMA output */
    od_linreg_algo algos[4] = {a, od_linreg_algo_hb(0.21, 0.53, 3), od_linreg_algo_asgd(0.83, 0.11, 0.35, 0.23, 2), a};
    algos[3].output = OD_LINREG_OUT_EMA;
    algos[3].ema = 0.93;
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(od_linreg_stability_compute(&m, &algos[i], &st), OD_OK);
        CU_ASSERT_TRUE(st.stable);
        od_linreg_exact *w = od_linreg_exact_alloc(&m, &algos[i]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(w);
        /* contraction: the slowest mode decays like (1 - c lambda_D)^t; 3e5 steps bring it far
         * below 1e-12 for these steps (lambda_D = 0.0062) */
        for (int t = 0; t < 300000; t++) od_linreg_exact_step(w);
        OD_ASSERT_REL(od_linreg_exact_iterate_excess(w), st.stationary_excess, 1e-10);
        OD_ASSERT_REL(od_linreg_exact_excess(w), st.stationary_output, 1e-10);
        od_linreg_exact_free(w);
    }
}

static void test_threshold(void)
{
    enum { D = 64 };
    double lambda[D], omega[D];
    od_linreg_spectrum_powerlaw(D, 1.2, 2.3, lambda);
    for (int k = 0; k < D; k++) omega[k] = 1;
    const double kappas[3] = {3.0, 1.8, 1.0};
    const size_t Bs[3] = {1, 3, 2};
    for (int i = 0; i < 3; i++) {
        od_linreg_model m = {D, lambda, omega, 0.1, kappas[i]};
        od_linreg_algo a = od_linreg_algo_sgd(0.01, Bs[i]);
        double bis, closed;
        CU_ASSERT_EQUAL_FATAL(od_linreg_threshold_lr(&m, &a, &bis), OD_OK);
        CU_ASSERT_EQUAL_FATAL(od_linreg_threshold_lr_closed(D, lambda, kappas[i], Bs[i], &closed), OD_OK);
        /* bisection to 1e-13 relative; the eigensolver to ~d DBL_EPSILON */
        OD_ASSERT_REL(bis, closed, 1e-11);
        /* ||K|| = 1 there */
        od_linreg_stability st;
        a.lr = closed * (1 - 1e-9);
        od_linreg_stability_compute(&m, &a, &st);
        OD_ASSERT_CLOSE(st.kernel_norm, 1.0, 1e-6);
        CU_ASSERT_TRUE(st.stable);
        a.lr = closed * (1 + 1e-9);
        od_linreg_stability_compute(&m, &a, &st);
        CU_ASSERT_FALSE(st.stable);
    }
    /* heavy ball: the bisection threshold is where ||K|| crosses 1 */
    od_linreg_model m = {D, lambda, omega, 0.1, 3.0};
    od_linreg_algo hb = od_linreg_algo_hb(0.01, 0.6, 4);
    double thr;
    CU_ASSERT_EQUAL_FATAL(od_linreg_threshold_lr(&m, &hb, &thr), OD_OK);
    od_linreg_stability st;
    hb.lr = thr;
    od_linreg_stability_compute(&m, &hb, &st);
    CU_ASSERT_TRUE(st.stable);
    OD_ASSERT_CLOSE(st.kernel_norm, 1.0, 1e-9);
    /* the worked example of the MathOverflow answer the sheet cites (covariance diag(1, 2), Gaussian,
     * B = 1): the necessary and sufficient step bound is 4/(9 + sqrt 17) */
    const double l2[2] = {1, 2}, o2[2] = {1, 1};
    od_linreg_model m2 = {2, l2, o2, 0.1, 3.0};
    od_linreg_algo a2 = od_linreg_algo_sgd(0.1, 1);
    double mo;
    CU_ASSERT_EQUAL(od_linreg_threshold_lr_closed(2, l2, 3.0, 1, &mo), OD_OK);
    OD_ASSERT_REL(mo, 4 / (9 + sqrt(17.0)), 8 * DBL_EPSILON);
    CU_ASSERT_EQUAL(od_linreg_threshold_lr(&m2, &a2, &mo), OD_OK);
    OD_ASSERT_REL(mo, 4 / (9 + sqrt(17.0)), 1e-12);
    /* null directions (a Marchenko–Pastur design with n < d) neither move nor carry noise */
    double lmp[80], omp[80];
    CU_ASSERT_EQUAL_FATAL(od_linreg_spectrum_mp(30, 80, 3, lmp), OD_OK);
    for (int k = 0; k < 80; k++) omp[k] = 1;
    od_linreg_model mmp = {80, lmp, omp, 0.2, 3.0};
    od_linreg_algo amp = od_linreg_algo_sgd(0.1, 2);
    double bmp, cmp;
    CU_ASSERT_EQUAL(od_linreg_threshold_lr(&mmp, &amp, &bmp), OD_OK);
    CU_ASSERT_EQUAL(od_linreg_threshold_lr_closed(80, lmp, 3.0, 2, &cmp), OD_OK);
    OD_ASSERT_REL(bmp, cmp, 1e-11);
    /* closed form refuses c_B <= 0 (Rademacher, B = 1) */
    double x;
    CU_ASSERT_EQUAL(od_linreg_threshold_lr_closed(D, lambda, 1.0, 1, &x), OD_EINVAL);
}

/* Bounded just below the threshold, geometric growth just above, flagged as diverged. */
static void test_divergence(void)
{
    enum { D = 20 };
    double lambda[D], omega[D];
    od_linreg_spectrum_powerlaw(D, 1.0, 1.0, lambda);
    for (int k = 0; k < D; k++) omega[k] = 1;
    od_linreg_model m = {D, lambda, omega, 0.5, 3.0};
    double gc;
    od_linreg_algo a = od_linreg_algo_sgd(0.1, 1);
    CU_ASSERT_EQUAL_FATAL(od_linreg_threshold_lr(&m, &a, &gc), OD_OK);
    a.lr = 1.5 * gc;
    od_linreg_exact *w = od_linreg_exact_alloc(&m, &a);
    int st = OD_OK;
    uint64_t t = 0;
    while (st == OD_OK && t < 100000) st = od_linreg_exact_step(w), t++;
    CU_ASSERT_EQUAL(st, OD_EDIVERGED);
    CU_ASSERT_EQUAL(od_linreg_exact_diverged_at(w), t);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "diverged at step"));
    CU_ASSERT_EQUAL(od_linreg_exact_step(w), OD_EDIVERGED);
    od_linreg_exact_free(w);
    uint64_t times[2] = {10, 100000};
    double ex[2];
    CU_ASSERT_EQUAL(od_linreg_excess_at(D, lambda, omega, 0.5, 3.0, &a, 2, times, ex), OD_OK);
    CU_ASSERT_TRUE(isfinite(ex[0]) && isinf(ex[1]));
}

static void test_bad_model(void)
{
    double lambda[2] = {1, -0.5}, omega[2] = {1, 1}, r;
    od_linreg_algo a = od_linreg_algo_sgd(0.1, 1);
    uint64_t T = 3;
    CU_ASSERT_EQUAL(od_linreg_excess_at(2, lambda, omega, 0.1, 3, &a, 1, &T, &r), OD_ERANGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "eigenvalue 2"));
    lambda[1] = 0.5;
    CU_ASSERT_EQUAL(od_linreg_excess_at(2, lambda, omega, -0.1, 3, &a, 1, &T, &r), OD_ERANGE);
    CU_ASSERT_EQUAL(od_linreg_excess_at(2, lambda, omega, 0.1, 0.5, &a, 1, &T, &r), OD_ERANGE);
    a.lr = 0;
    CU_ASSERT_EQUAL(od_linreg_excess_at(2, lambda, omega, 0.1, 3, &a, 1, &T, &r), OD_ERANGE);
    a = od_linreg_algo_sgd(0.1, 0);
    CU_ASSERT_EQUAL(od_linreg_excess_at(2, lambda, omega, 0.1, 3, &a, 1, &T, &r), OD_ERANGE);
    a = od_linreg_algo_hb(0.1, 1.0, 1);
    CU_ASSERT_EQUAL(od_linreg_excess_at(2, lambda, omega, 0.1, 3, &a, 1, &T, &r), OD_ERANGE);
    a = od_linreg_algo_sgd(0.1, 1);
    uint64_t bad[2] = {5, 5};
    double r2[2];
    CU_ASSERT_EQUAL(od_linreg_excess_at(2, lambda, omega, 0.1, 3, &a, 2, bad, r2), OD_EINVAL);
}

/* SGD's last iterate in the engine's order of operations, one scalar mode at a time, compiled for
 * the baseline ISA (this file has no multi-versioning): P_k = omega_k^2, S = sum8(lambda P), and per
 * step s = lr m(t), a_k = (1 - lambda_k s)^2 + ((s^2 (kappa - 2)) / B) lambda_k^2,
 * P_k' = a_k P_k + ((s^2 (S + sigma2)) / B) lambda_k, S' = sum8(lambda P').  ex[t] = S_t / 2. */
static void ref_sgd_last(size_t d, const double *lam, const double *om, double sigma2, double kappa,
                         const od_linreg_algo *a, uint64_t T, double *ex, double *P)
{
    double acc[8] = {0};
    for (size_t k = 0; k < d; k++) {
        P[k] = om[k] * om[k];
        acc[k & 7] += lam[k] * P[k];
    }
    double S = od_linreg_sum8(acc);
    const double qB = 1.0 / (double)a->batch, ck = kappa - 2;
    ex[0] = 0.5 * S;
    for (uint64_t t = 0; t < T; t++) {
        const double s = a->lr * od_linreg_schedule_mult(&a->schedule, t), ss = s * s;
        const double c2 = ss * ck * qB, cL = ss * (S + sigma2) * qB;
        memset(acc, 0, sizeof acc);
        for (size_t k = 0; k < d; k++) {
            const double l = lam[k], A = 1 - l * s, c = A * A + c2 * (l * l), pn = c * P[k] + cL * l;
            P[k] = pn;
            acc[k & 7] += l * pn;
        }
        S = od_linreg_sum8(acc);
        ex[t + 1] = 0.5 * S;
    }
}

/* The two loops for SGD's last iterate (coefficients cached, or recomputed in the pass: whichever
 * ISA version the CPU dispatches) give the bits of the scalar reference, step by step, for a size
 * that is not a multiple of 8, kurtosis below 2 (negative correction) and well above 3, B = 3, and
 * schedules that change the step every step (cosine) or by phases (step decay). */
static void test_sgd_loops_bitwise(void)
{
    enum { D = 1003, T = 400 };
    double *lam = malloc(D * sizeof *lam), *om = malloc(D * sizeof *om), *P = malloc(D * sizeof *P);
    double *mom = malloc(D * sizeof *mom), ex_ref[T + 1], ex[2][T + 1];
    for (size_t k = 0; k < D; k++) {
        lam[k] = pow((double)k + 1, -1.3) * (1 + 0.1 * sin(0.7 * (double)k));
        om[k] = cos(0.37 * (double)k) + 0.2;
    }
    const char *scheds[] = {"cosine:final=0.05", "stepdecay:start=150"};
    const double kappas[] = {1.8, 7.3};   /* 7.3: the fourth-moment term is as large as A^2 */
    for (int q = 0; q < 4; q++) {
        od_linreg_algo a = od_linreg_algo_sgd(0.2381, 3);
        CU_ASSERT_EQUAL_FATAL(od_linreg_schedule_parse(scheds[q & 1], T, &a.schedule), OD_OK);
        const od_linreg_model m = {D, lam, om, 0.0731, kappas[q >> 1]};
        ref_sgd_last(D, lam, om, m.sigma2, m.kappa, &a, T, ex_ref, P);
        for (int v = 0; v < 2; v++) {
            od_linreg_exact *w = od_linreg_exact_alloc(&m, &a);
            CU_ASSERT_PTR_NOT_NULL_FATAL(w);
            od_linreg_exact_set_inline(w, v);
            ex[v][0] = od_linreg_exact_excess(w);
            for (int t = 0; t < T; t++) {
                CU_ASSERT_EQUAL(od_linreg_exact_step(w), OD_OK);
                ex[v][t + 1] = od_linreg_exact_excess(w);
            }
            od_linreg_exact_iterate_moments(w, mom);
            CU_ASSERT_EQUAL(memcmp(mom, P, D * sizeof *P), 0);
            CU_ASSERT_EQUAL(memcmp(ex[v], ex_ref, sizeof ex_ref), 0);
            od_linreg_exact_free(w);
        }
        CU_ASSERT_TRUE(ex_ref[T] < 0.5 * ex_ref[0]);   /* the run did something */
    }
    free(lam), free(om), free(P), free(mom);
}

static void od_test_suite_linreg_exact(void)
{
    static const od_test_case cases[] = {
        {"recursion = exhaustive enumeration (SGD, B=2, HB, ASGD, EMA, avg, tail, step decay)",
         test_enumeration},
        {"recursion = discrete Volterra form", test_volterra},
        {"HB mu=0 and ASGD alpha=1 are SGD; EMA 0 and tail reductions", test_reductions},
        {"batch noise enters as 1/B, GD limit", test_batch_limit},
        {"one mode: closed form a^t", test_one_mode_closed_form},
        {"stationary risk and kernel norm, every method", test_stationary},
        {"threshold: bisection = eigenvalue closed form", test_threshold},
        {"mean-square divergence is flagged", test_divergence},
        {"bad models and algorithms name the field", test_bad_model},
        {"SGD's cached and recomputing loops = scalar reference, bit for bit", test_sgd_loops_bitwise},
        {NULL, NULL}};
    od_test_add("linreg-exact", cases);
}

int main(int argc, char **argv)
{
    static od_test_suite_fn *const suites[] = {od_test_suite_linreg_exact, od_test_suite_linreg_io,
                                               od_test_suite_linreg_mc, od_test_suite_linreg_bounds,
                                               od_test_suite_linreg_cli, NULL};
    return od_test_main(argc, argv, suites);
}
