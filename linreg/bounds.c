/* optdyn linreg — published risk bounds as overlays (theory sheet §5; each formula, its source and
 * its provenance are in optdyn_linreg.h).  Effective dimensions k* count the eigenvalues above a
 * threshold, so every function works on a copy of the spectrum sorted in decreasing order (with the
 * initial error permuted alongside). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sort.h>

#include "linreg/linreg_internal.h"

/* Sorted copies (lambda decreasing) of lambda and omega (omega may be NULL); NULL on failure. */
static double *sorted_copy(size_t d, const double *lambda, const double *omega, double **om)
{
    double *ls = malloc(2 * d * sizeof *ls), *neg = calloc(d, sizeof *neg);
    size_t *p = malloc(d * sizeof *p);
    if (!ls || !neg || !p) {
        free(ls);
        free(neg);
        free(p);
        return NULL;
    }
    for (size_t k = 0; k < d; k++) neg[k] = -lambda[k];
    gsl_sort_index(p, neg, 1, d);
    for (size_t k = 0; k < d; k++) {
        ls[k] = lambda[p[k]];
        ls[d + k] = omega ? omega[p[k]] : 0.0;
    }
    free(neg);
    free(p);
    *om = ls + d;
    return ls;
}

/* Number of eigenvalues >= thr (lambda sorted decreasing). */
static size_t count_above(size_t d, const double *l, double thr)
{
    size_t k = 0;
    while (k < d && l[k] >= thr) k++;
    return k;
}

static double trace(size_t d, const double *l)
{
    double s = 0;
    for (size_t k = 0; k < d; k++) s += l[k];
    return s;
}

/* Zou et al.'s EffBias and the fourth-moment part of EffVar for initial error om, window N. */
static void zou_bias(size_t d, const double *l, const double *om, double lr, double N, size_t ks,
                     double *bias, double *head)
{
    double b = 0, h = 0;
    for (size_t i = 0; i < d; i++) {
        double o2 = om[i] * om[i];
        if (i < ks) {
            b += o2 / (lr * lr * N * N * l[i]);
            h += o2 / (N * lr);
        } else {
            b += l[i] * o2;
            h += l[i] * o2;
        }
    }
    *bias = b;
    *head = h;
}

double od_linreg_bound_zou_avg(size_t d, const double *lambda, const double *omega, double sigma2,
                               double alpha_M, double lr, uint64_t N)
{
    double *om, *l = sorted_copy(d, lambda, omega, &om);
    if (!l || N == 0) {
        free(l);
        return NAN;
    }
    const double tr = trace(d, l), n = (double)N, gap = 1 - lr * alpha_M * tr;
    double out = INFINITY;
    if (gap > 0) {
        size_t ks = count_above(d, l, 1.0 / (n * lr));
        double bias, head, tail2 = 0;
        zou_bias(d, l, om, lr, n, ks, &bias, &head);
        for (size_t i = ks; i < d; i++) tail2 += l[i] * l[i];
        double var = (sigma2 + 2 * alpha_M * head) / gap * ((double)ks / n + n * lr * lr * tail2);
        out = 2 * bias + 2 * var;
    }
    free(l);
    return out;
}

double od_linreg_bound_zou_tail(size_t d, const double *lambda, const double *omega, double sigma2,
                                double alpha_M, double lr, uint64_t S, uint64_t N)
{
    double *om, *l = sorted_copy(d, lambda, omega, &om);
    if (!l || N == 0) {
        free(l);
        return NAN;
    }
    const double tr = trace(d, l), n = (double)N, sn = (double)(S + N), gap = 1 - lr * alpha_M * tr;
    double out = INFINITY;
    if (gap > 0) {
        size_t ks = count_above(d, l, 1.0 / (n * lr)), kp = count_above(d, l, 1.0 / (sn * lr));
        double bias, head, head0, dummy, mid = 0, tail2 = 0;
        zou_bias(d, l, om, lr, n, ks, &dummy, &head0);   /* fourth-moment part: unshifted omega */
        for (size_t i = 0; i < d; i++) om[i] *= pow(1 - lr * l[i], (double)S);
        zou_bias(d, l, om, lr, n, ks, &bias, &head);
        for (size_t i = ks; i < kp; i++) mid += l[i];
        for (size_t i = kp; i < d; i++) tail2 += l[i] * l[i];
        double var = (sigma2 + 2 * alpha_M * head0) / gap *
                     ((double)ks / n + lr * mid + sn * lr * lr * tail2);
        out = 2 * bias + 2 * var;
    }
    free(l);
    return out;
}

double od_linreg_bound_wu_stepdecay(size_t d, const double *lambda, const double *omega,
                                    double sigma2, double lr, uint64_t S, uint64_t N, double *bias,
                                    double *var)
{
    double *om, *l = sorted_copy(d, lambda, omega, &om);
    if (!l || N <= S + 1) {
        free(l);
        return NAN;
    }
    const double K = (double)od_linreg_stepdecay_K(N, S);
    /* bias: || prod_t (I - lr_t H) omega ||_H^2; the step is lr for S steps, then lr / 2^l for K
     * steps (the last phase cut at N), so each mode is a product over O(log N) phases */
    double b = 0;
    for (size_t i = 0; i < d; i++) {
        double lg = (double)S * log(fabs(1 - lr * l[i])), m = 1;
        int zero = 1 - lr * l[i] == 0 && S > 0;
        for (uint64_t t0 = S; t0 < N && !zero; t0 += (uint64_t)K) {
            m *= 0.5;
            double len = fmin(K, (double)(N - t0)), f = 1 - lr * m * l[i];
            if (f == 0) zero = 1;
            else lg += len * log(fabs(f));
        }
        if (!zero) b += l[i] * om[i] * om[i] * exp(2 * lg);
    }
    size_t ks = count_above(d, l, 1.0 / (K * lr)), kp = count_above(d, l, 1.0 / (((double)S + K) * lr));
    double mid = 0, tail2 = 0;
    for (size_t i = ks; i < kp; i++) mid += l[i];
    for (size_t i = kp; i < d; i++) tail2 += l[i] * l[i];
    double v = sigma2 * ((double)ks / K + lr * mid + ((double)S + K) * lr * lr * tail2);
    free(l);
    if (bias) *bias = b;
    if (var) *var = v;
    return b + v;
}

double od_linreg_bound_ligu_ema(size_t d, const double *lambda, const double *omega, double sigma2,
                                double psi, double lr, double a, uint64_t N, double *bias,
                                double *var)
{
    double *om, *l = sorted_copy(d, lambda, omega, &om);
    if (!l) return NAN;
    const double n = (double)N, gap = 1 - psi * lr * trace(d, l);
    size_t k1 = count_above(d, l, (1 - a) / lr), k2 = count_above(d, l, 1.0 / (n * lr));
    if (k2 < k1) k2 = k1;
    double b = 0, mid = 0, tail2 = 0;
    for (size_t i = 0; i < d; i++) {
        double f = i < k1 ? pow(a, 2 * n) : pow(1 - lr * l[i], 2 * n);
        b += l[i] * om[i] * om[i] * f;
        if (i >= k1 && i < k2) mid += l[i];
        if (i >= k2) tail2 += l[i] * l[i];
    }
    double v = gap > 0 ? sigma2 / gap * ((1 - a) * (double)k1 + lr * mid + n * lr * lr * tail2) : INFINITY;
    free(l);
    if (bias) *bias = b;
    if (var) *var = v;
    return b + v;
}

double od_linreg_ema_gd_factor(double a, double lr, double lambda, uint64_t N)
{
    const double r = 1 - lr * lambda, n = (double)N;
    if (a == r) return pow(a, n) + (1 - a) * n * pow(a, n - 1);
    return pow(a, n) + (1 - a) * (pow(a, n) - pow(r, n)) / (a - r);
}

void od_linreg_asgd_bias_factors(double alpha, double beta, double gamma, double delta,
                                 double lambda, uint64_t N, double *sgd, double *asgd)
{
    od_linreg_algo a = od_linreg_algo_asgd(alpha, beta, gamma, delta, 1);
    od_linreg_form f;
    a.method->form(&a, 1.0, &f);
    double A[4];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) A[2 * i + j] = f.Abar[2 * i + j] - lambda * f.s[i] * f.g[j];
    double w = 1, v = 1;
    for (uint64_t t = 0; t < N; t++) {
        double w2 = A[0] * w + A[1] * v, v2 = A[2] * w + A[3] * v;
        w = w2;
        v = v2;
    }
    *asgd = w * w;
    *sgd = pow(1 - delta * lambda, 2 * (double)N);
}

double od_linreg_bound_pan_shb(size_t d, const double *lambda, double excess0, double sigma2,
                               uint64_t T)
{
    double mx = 0, mn = INFINITY;
    for (size_t k = 0; k < d; k++) {
        if (lambda[k] > 0) mn = fmin(mn, lambda[k]);
        mx = fmax(mx, lambda[k]);
    }
    if (T < 2 || !(mn > 0)) return NAN;
    const double t = (double)T;
    return exp(-t / (sqrt(mx / mn) * log(t))) * excess0 + (double)d * sigma2 / t;
}
