/* optdyn scaling — optimal learning rate against batch size (theory sheet §6):
 *   sgd   (McCandlish et al. 2018, "An Empirical Model of Large-Batch Training"):
 *         eps(B) = eps_max / (1 + B_noise/B),  log eps = log eps_max - softplus(log B_noise - log B)
 *   surge (Li et al. 2024, "Surge Phenomenon in Optimal Learning Rate and Batch Size Scaling"):
 *         eps(B) = eps_max / (1/2 (sqrt(B_noise/B) + sqrt(B/B_noise)))
 *                = eps_max / cosh((log B - log B_noise)/2)
 * Both are fitted by least squares on log eps in (log eps_max, log B_noise). */
#include "scaling/scaling_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const od_scaling_lr_form_names[2] = {"sgd", "surge"};

/* log(1 + e^z) and log cosh z without overflow. */
static double softplus(double z) { return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z)); }
static double logcosh(double z)
{
    double a = fabs(z);
    return a + log1p(exp(-2 * a)) - M_LN2;
}

/* The penalty log(eps_max / eps) and its derivative in log B_noise. */
static double penalty(od_scaling_lr_form form, double lB, double lBn, double *dlBn)
{
    if (form == OD_SCALING_LR_SGD) {
        double z = lBn - lB;
        if (dlBn) *dlBn = 1.0 / (1.0 + exp(-z));   /* logistic(z) */
        return softplus(z);
    }
    double z = 0.5 * (lB - lBn);
    if (dlBn) *dlBn = -0.5 * tanh(z);
    return logcosh(z);
}

double od_scaling_lr_eval(od_scaling_lr_form form, double eps_max, double B_noise, double B)
{
    return eps_max * exp(-penalty(form, log(B), log(B_noise), NULL));
}

typedef struct {
    od_scaling_lr_form form;
    const double *lB;
    size_t n;
} lr_arg;

static int lr_model(const double *x, double *model, double *jac, void *arg)
{
    const lr_arg *a = arg;
    for (size_t i = 0; i < a->n; i++) {
        double d;
        model[i] = x[0] - penalty(a->form, a->lB[i], x[1], &d);
        if (jac) {
            jac[2 * i] = 1.0;
            jac[2 * i + 1] = -d;
        }
    }
    return 0;
}

int od_scaling_fit_lr_batch(size_t n, const double *B, const double *eps, od_scaling_lr_form form,
                            od_scaling_lr_fit *out)
{
    memset(out, 0, sizeof *out);
    out->form = form;
    if (form != OD_SCALING_LR_SGD && form != OD_SCALING_LR_SURGE)
        OD_ERROR("lr-batch fit: unknown form", OD_EINVAL);
    if (n < 3) OD_ERRORF(OD_EINVAL, "lr-batch fit: %zu points for 2 parameters (need 3)", n);
    OD_TRY(od_scaling_check_positive(n, B, "batch size"));
    OD_TRY(od_scaling_check_positive(n, eps, "learning rate"));
    double *lB = malloc(2 * n * sizeof *lB);
    if (!lB) OD_ERROR("out of memory", OD_ENOMEM);
    double *le = lB + n, lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        lB[i] = log(B[i]);
        le[i] = log(eps[i]);
        lo = fmin(lo, lB[i]);
        hi = fmax(hi, lB[i]);
    }
    /* starts: log B_noise on 9 points from 2 below to 2 above the data's log range, and for each
     * the log eps_max that is optimal given it (the mean of log eps + penalty) */
    enum { NS = 9 };
    double starts[2 * NS];
    for (int s = 0; s < NS; s++) {
        double lBn = lo - 2 + (hi - lo + 4) * s / (NS - 1), m = 0;
        for (size_t i = 0; i < n; i++) m += (le[i] + penalty(form, lB[i], lBn, NULL)) / (double)n;
        starts[2 * s] = m;
        starts[2 * s + 1] = lBn;
    }
    lr_arg a = {form, lB, n};
    od_scaling_nls_result res;
    int st = od_scaling_nls(n, 2, le, lr_model, &a, starts, NS, &res);
    free(lB);
    if (st != OD_OK) return st;
    out->eps_max = exp(res.x[0]);
    out->B_noise = exp(res.x[1]);
    out->se_log_eps_max = res.se[0];
    out->se_log_B_noise = res.se[1];
    out->rss = res.rss;
    out->identified = res.x[1] >= lo - log(100.0) && res.x[1] <= hi + log(100.0);
    return OD_OK;
}

/* ---- one step on a quadratic model ------------------------------------------------------------ */

int od_scaling_mccandlish(size_t d, const double *g, const double *H, const double *Sigma,
                          od_scaling_noise_scale *out)
{
    memset(out, 0, sizeof *out);
    double *Hg = od_vec_alloc(d ? d : 1);
    if (!Hg) OD_ERROR("out of memory", OD_ENOMEM);
    od_gemv(0, d, d, 1.0, H, g, 0.0, Hg);
    const double gg = od_dot(d, g, g), gHg = od_dot(d, g, Hg);
    od_free(Hg);
    /* tr(H Sigma) = sum_ij H_ij Sigma_ji = sum_ij H_ij Sigma_ij for symmetric Sigma */
    const double trHS = od_dot(d * d, H, Sigma);
    double trS = 0;
    for (size_t i = 0; i < d; i++) trS += Sigma[i * d + i];
    if (!(gg > 0)) OD_ERRORF(OD_ERANGE, "McCandlish noise scale: |g|^2 = %g (no descent direction)", gg);
    if (!(gHg > 0))
        OD_ERRORF(OD_ERANGE, "McCandlish noise scale: g^T H g = %g is not positive (no finite "
                  "optimal step)", gHg);
    out->eps_max = gg / gHg;
    out->B_noise = trHS / gHg;
    out->B_simple = trS / gg;
    out->dL_max = 0.5 * gg * gg / gHg;
    return OD_OK;
}

double od_scaling_sign_lr_opt(size_t d, const double *g, const double *H, const double *sigma,
                              double B)
{
    double *m = od_vec_alloc(d ? d : 1);
    if (!m) return NAN;
    double num = 0, trH = 0, diag = 0;   /* diag = sum_i H_ii m_i^2 */
    for (size_t i = 0; i < d; i++) {
        m[i] = isinf(B) ? (g[i] > 0) - (g[i] < 0) : erf(g[i] * sqrt(0.5 * B) / sigma[i]);
        num += g[i] * m[i];
        trH += H[i * d + i];
        diag += H[i * d + i] * m[i] * m[i];
    }
    double mHm = 0;
    for (size_t i = 0; i < d; i++) mHm += m[i] * od_dot(d, H + i * d, m);
    od_free(m);
    return num / (trH + mHm - diag);
}

int od_scaling_surge_params(size_t d, const double *g, const double *H, const double *sigma,
                            double *eps_max, double *B_noise)
{
    double c = 0, a = 0, b = 0;
    for (size_t i = 0; i < d; i++) {
        const double si = g[i] / sigma[i];
        c += g[i] * si;
        a += H[i * d + i];
        for (size_t j = 0; j < d; j++)
            if (j != i) b += H[i * d + j] * si * (g[j] / sigma[j]);
    }
    c *= sqrt(2 / M_PI);
    b *= 2 / M_PI;
    *eps_max = *B_noise = NAN;
    if (!(a > 0) || !(b > 0))
        OD_ERRORF(OD_ERANGE, "Surge form: tr H = %g and the off-diagonal term b = %g must both be "
                  "positive for a peak (b <= 0: the small-batch optimum grows like sqrt(B))", a, b);
    *eps_max = c / (2 * sqrt(a * b));
    *B_noise = a / b;
    return OD_OK;
}
