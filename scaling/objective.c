/* optdyn scaling — the Chinchilla objective and its gradient.
 *
 * Row i has u_i1 = a - alpha log N_i, u_i2 = b - beta log D_i, u_3 = e, the prediction
 * log Lhat_i = LSE(u_i1, u_i2, u_3), the log residual r_i = log L_i - log Lhat_i, and the softmax
 * weights pi_ij = exp(u_ij - log Lhat_i).  With psi = Huber' (theory sheet §2.3):
 *   J = sum w_i Huber(r_i),  dJ/d(a, b, e) = -sum w_i psi_i pi_i(1, 2, 3),
 *   dJ/dalpha = sum w_i psi_i pi_i1 log N_i,  dJ/dbeta = sum w_i psi_i pi_i2 log D_i.
 *
 * Both evaluators also return S_psi = sum w_i psi(r_i) r_i, which the likelihood's derivative in
 * its scale needs (Huber_delta(r/sigma) = Huber_{delta sigma}(r) / sigma^2, so one kernel serves
 * both objectives).
 *
 * The fast path (kernel_fast) is what makes the 4500-start fit cheap.  Per row it costs two exp,
 * one division and a few multiplications, and no log:
 *   - exp(u) is taken directly, without the max shift, when theta guarantees every u <= 700 and
 *     e >= -700 (so Lhat cannot overflow and is at least e^-700);
 *   - whether |r_i| <= delta is decided by comparing Lhat_i with L_i e^(+-delta), so only rows on
 *     the quadratic part need log Lhat_i;
 *   - on the linear part |r_i| enters J linearly, so sum over those rows of +-log Lhat_i is the log
 *     of one product of Lhat_i^(+-1); the product is folded into a log every 16 factors, each
 *     factor kept in [2^-60, 2^60] (larger ones go through log directly), so it cannot overflow.
 * kernel_ref evaluates the same sums row by row with the max-shifted LSE; the tests check that the
 * two agree to rounding, and the fast path defers to it for extreme theta.
 */
#include "scaling/scaling_internal.h"

#include <math.h>
#include <string.h>

double od_scaling_huber(double r, double delta)
{
    double a = fabs(r);
    return a <= delta ? 0.5 * r * r : delta * (a - 0.5 * delta);
}

double od_scaling_huber_psi(double r, double delta)
{
    return r > delta ? delta : r < -delta ? -delta : r;
}

typedef struct {
    double J, S_psi;
    double g[OD_SCALING_NPAR];
} kern_out;

static void kernel_ref(const od_scaling_data *d, const double *th, double delta, kern_out *o)
{
    const double a = th[0], b = th[1], e = th[2], al = th[3], be = th[4];
    double J = 0, sp = 0, g[5] = {0};
    for (size_t i = 0; i < d->n; i++) {
        const double w = d->w ? d->w[i] : 1.0;
        if (w == 0) continue;
        double u1 = a - al * d->lN[i], u2 = b - be * d->lD[i];
        double m = fmax(u1, fmax(u2, e));
        double t1 = exp(u1 - m), t2 = exp(u2 - m), t3 = exp(e - m), S = t1 + t2 + t3;
        double r = d->lL[i] - (m + log(S));
        double psi = od_scaling_huber_psi(r, delta);
        J += w * od_scaling_huber(r, delta);
        sp += w * psi * r;
        double c = w * psi / S;
        g[0] -= c * t1;
        g[1] -= c * t2;
        g[2] -= c * t3;
        g[3] += c * t1 * d->lN[i];
        g[4] += c * t2 * d->lD[i];
    }
    o->J = J;
    o->S_psi = sp;
    memcpy(o->g, g, sizeof g);
}

/* Largest value of u = c - k x over x in [lo, hi]. */
static double umax(double c, double k, double lo, double hi) { return c - k * (k >= 0 ? lo : hi); }

#define FOLD 16
#define BIG 0x1p60
#define SMALL 0x1p-60

/* Returns 0 when theta is outside the safe region (the caller then uses kernel_ref). */
static int kernel_fast(const od_scaling_data *d, const double *th, double delta, kern_out *o)
{
    const double a = th[0], b = th[1], e = th[2], al = th[3], be = th[4];
    if (!(umax(a, al, d->lN_min, d->lN_max) <= 700 && umax(b, be, d->lD_min, d->lD_max) <= 700 &&
          e <= 700 && e >= -700))
        return 0;
    const double t3 = exp(e), up = exp(delta), down = exp(-delta);
    double Jq = 0, Sq = 0;            /* quadratic rows: sum w r^2 / 2 and sum w r^2 */
    double lin_logL = 0, lin_w = 0;   /* linear rows: sum +-w log L_i, sum w */
    double lin_log = 0, P = 1;        /* sum +-w log Lhat_i = lin_log + log P */
    int nP = 0;
    double g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0;
    for (size_t i = 0; i < d->n; i++) {
        const double w = d->w ? d->w[i] : 1.0;
        if (w == 0) continue;
        double t1 = exp(a - al * d->lN[i]), t2 = exp(b - be * d->lD[i]);
        double S = t1 + t2 + t3, inv = 1.0 / S, L = d->L[i], psi;
        if (L > S * up || L < S * down) {              /* |r| > delta: linear part */
            double sgn = L > S * up ? 1.0 : -1.0;      /* sign of r */
            psi = sgn * delta;
            lin_logL += sgn * w * d->lL[i];
            lin_w += w;
            if (w != 1.0 || S > BIG || S < SMALL) {
                lin_log += sgn * w * log(S);
            } else {
                P *= sgn > 0 ? S : inv;
                if (++nP == FOLD) {
                    lin_log += log(P);
                    P = 1;
                    nP = 0;
                }
            }
        } else {                                       /* quadratic part */
            double r = d->lL[i] - log(S);
            psi = r;
            Jq += 0.5 * w * r * r;
            Sq += w * r * r;
        }
        double c = w * psi * inv;
        g0 -= c * t1;
        g1 -= c * t2;
        g2 -= c * t3;
        g3 += c * t1 * d->lN[i];
        g4 += c * t2 * d->lD[i];
    }
    lin_log += log(P);
    /* linear part: sum w (delta |r| - delta^2/2), sum w |r| = sum +-w log L - sum +-w log Lhat */
    double abs_r = lin_logL - lin_log;
    o->J = Jq + delta * abs_r - 0.5 * delta * delta * lin_w;
    o->S_psi = Sq + delta * abs_r;
    o->g[0] = g0;
    o->g[1] = g1;
    o->g[2] = g2;
    o->g[3] = g3;
    o->g[4] = g4;
    return 1;
}

double od_scaling_kernel(const od_scaling_data *d, const double *theta, double delta, double *grad,
                         double *s_psi)
{
    kern_out o;
    if (!kernel_fast(d, theta, delta, &o)) kernel_ref(d, theta, delta, &o);
    if (s_psi) *s_psi = o.S_psi;
    if (grad) memcpy(grad, o.g, sizeof o.g);
    return o.J;
}

void od_scaling_residuals(const od_scaling_data *d, const double *th, double *r, double *J)
{
    const double a = th[0], b = th[1], e = th[2], al = th[3], be = th[4];
    for (size_t i = 0; i < d->n; i++) {
        double u1 = a - al * d->lN[i], u2 = b - be * d->lD[i];
        double m = fmax(u1, fmax(u2, e));
        double t1 = exp(u1 - m), t2 = exp(u2 - m), t3 = exp(e - m), S = t1 + t2 + t3;
        r[i] = d->lL[i] - (m + log(S));
        if (J) {
            double p1 = t1 / S, p2 = t2 / S, *Ji = J + OD_SCALING_NPAR * i;
            Ji[0] = -p1;
            Ji[1] = -p2;
            Ji[2] = -t3 / S;
            Ji[3] = p1 * d->lN[i];
            Ji[4] = p2 * d->lD[i];
        }
    }
}

double od_scaling_objective(const od_scaling_data *d, const double theta[OD_SCALING_NPAR],
                            double delta, double grad[OD_SCALING_NPAR])
{
    double J = od_scaling_kernel(d, theta, delta, grad, NULL);
    return isfinite(J) ? J : INFINITY;
}

double od_scaling_objective_ref(const od_scaling_data *d, const double theta[OD_SCALING_NPAR],
                                double delta, double grad[OD_SCALING_NPAR])
{
    kern_out o;
    kernel_ref(d, theta, delta, &o);
    if (grad) memcpy(grad, o.g, sizeof o.g);
    return isfinite(o.J) ? o.J : INFINITY;
}

