/* optdyn linreg — mean-square stability at a constant step (theory sheet §3.3, generalized to the
 * linear-iteration forms of optdyn_linreg.h).
 *
 * Write the noise of mode k as N_k = ((kappa-2) lambda_k^2 U_k + lambda_k (S + sigma2)) / B.  The
 * deterministic per-mode map z' = A z + s n turns a unit noise variance injected at lag tau into
 * (g^T A^tau s)^2 of point variance, so U_k = U_k^det + sum_tau (g^T A^tau s)^2 N_k(t - 1 - tau): a
 * Volterra system with kernel mass H_k = sum_tau (g^T A^tau s)^2 = g^T X g, where X solves the
 * discrete Lyapunov equation X = A X A^T + s s^T.  Closing the loops (self-noise D_k, then the
 * rank-one coupling through S) gives
 *     ||K|| = sum_k (lambda_k^2 H_k / B) / (1 - D_k),   D_k = (kappa - 2) lambda_k^2 H_k / B.
 * For kappa >= 2 every kernel is nonnegative (a positive system), so stability <=> each mean map
 * stable, D_k < 1 and ||K|| < 1 (the Perron root of the gain matrix below 1).  For SGD this is the
 * sheet's (lr/B) sum lambda_k / (2 - c_B lr lambda_k).  For kappa < 2 the SGD recursion is the
 * symmetric matrix diag(a) + (lr^2/B) lambda lambda^T, whose eigenvalues must also stay above -1:
 * checked by inertia (at most one a_k <= -1, and then 1 + c sum lambda^2/(a + 1) < 0). */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_roots.h>

#include "linreg/linreg_internal.h"

/* Solves X = A X A^T + s s^T for symmetric n-by-n X (n <= 3), A row-major n-by-n.  Writes X
 * (row-major, full).  Returns 0, or -1 when singular. */
static int lyapunov(unsigned n, const double *A, const double *s, double *X)
{
    if (n == 1) {   /* x = a^2 x + s^2 */
        if (!(A[0] * A[0] < 1)) return -1;
        X[0] = s[0] * s[0] / (1 - A[0] * A[0]);
        return 0;
    }
    unsigned nu = n * (n + 1) / 2, idx[3][3];
    for (unsigned i = 0, u = 0; i < n; i++)
        for (unsigned j = i; j < n; j++, u++) idx[i][j] = idx[j][i] = u;
    double M[36], b[6], x[6];
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = i; j < n; j++) {
            unsigned r = idx[i][j];
            for (unsigned v = 0; v < nu; v++) M[r * nu + v] = 0;
            M[r * nu + r] = 1;
            b[r] = s[i] * s[j];
            for (unsigned k = 0; k < n; k++)
                for (unsigned l = 0; l < n; l++) M[r * nu + idx[k][l]] -= A[i * n + k] * A[j * n + l];
        }
    gsl_matrix_view mv = gsl_matrix_view_array(M, nu, nu);
    gsl_vector_view bv = gsl_vector_view_array(b, nu), xv = gsl_vector_view_array(x, nu);
    gsl_permutation *p = gsl_permutation_alloc(nu);
    int sg, st = p ? gsl_linalg_LU_decomp(&mv.matrix, p, &sg) : GSL_ENOMEM;
    if (st == GSL_SUCCESS) st = gsl_linalg_LU_solve(&mv.matrix, p, &bv.vector, &xv.vector);
    gsl_permutation_free(p);
    if (st != GSL_SUCCESS) return -1;
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < n; j++) X[i * n + j] = x[idx[i][j]];
    return 0;
}

/* Spectral radius of an m-by-m (m <= 2) matrix. */
static double spectral_radius(unsigned m, const double *A)
{
    if (m == 1) return fabs(A[0]);
    double tr = A[0] + A[3], det = A[0] * A[3] - A[1] * A[2], disc = tr * tr - 4 * det;
    if (disc >= 0) {
        double r = sqrt(disc);
        return fmax(fabs(0.5 * (tr + r)), fabs(0.5 * (tr - r)));
    }
    return sqrt(fmax(det, 0.0));
}

double od_linreg_mean_rate(const od_linreg_algo *a, double lambda)
{
    od_linreg_form f;
    a->method->form(a, 1.0, &f);
    double A[4];
    for (unsigned i = 0; i < f.m; i++)
        for (unsigned j = 0; j < f.m; j++) A[i * f.m + j] = f.Abar[i * f.m + j] - lambda * f.s[i] * f.g[j];
    return spectral_radius(f.m, A);
}

/* The SGD kappa < 2 condition: no eigenvalue of diag(a) + c lambda lambda^T at or below -1. */
static int sgd_lower_ok(const od_linreg_model *m, double lr, size_t B)
{
    const double c = lr * lr / (double)B, cb = 1 + (m->kappa - 2) / (double)B;
    size_t bad = 0;
    double sum = 0;
    for (size_t k = 0; k < m->d; k++) {
        const double h = lr * m->lambda[k], a1 = 1 - 2 * h + cb * h * h + 1;   /* a_k + 1 */
        if (!(a1 > 64 * DBL_EPSILON)) bad++;
        else sum += m->lambda[k] * m->lambda[k] / a1;
        if (bad > 1) return 0;
    }
    if (bad == 0) return 1;
    /* one a_j + 1 <= 0: recompute the sum over the others plus that one */
    sum = 0;
    for (size_t k = 0; k < m->d; k++) {
        const double h = lr * m->lambda[k], a1 = 1 - 2 * h + cb * h * h + 1;
        if (a1 == 0) return 0;
        sum += m->lambda[k] * m->lambda[k] / a1;
    }
    return 1 + c * sum < 0;
}

/* Stability at step multiplier `mult`. */
static int compute(const od_linreg_model *m, const od_linreg_algo *a, double mult,
                   od_linreg_stability *out)
{
    od_linreg_form f;
    a->method->form(a, mult, &f);
    const unsigned mm = f.m;
    const int ema = a->output == OD_LINREG_OUT_EMA;
    const double B = (double)a->batch, ck = m->kappa - 2;
    double *H = malloc(3 * m->d * sizeof *H);
    if (!H) OD_ERROR("stability: out of memory", OD_ENOMEM);
    double *Hc = H + m->d, *He = Hc + m->d;
    int mode_ok = 1;
    double knorm = 0;
    for (size_t k = 0; k < m->d && mode_ok; k++) {
        const double l = m->lambda[k];
        double A[4], Aa[9], sa[3], X[9];
        if (l == 0) {   /* a null direction: no gradient, no noise, its moments never change */
            H[k] = Hc[k] = He[k] = 0;
            continue;
        }
        for (unsigned i = 0; i < mm; i++)
            for (unsigned j = 0; j < mm; j++) A[i * mm + j] = f.Abar[i * mm + j] - l * f.s[i] * f.g[j];
        if (!(spectral_radius(mm, A) < 1)) {
            mode_ok = 0;
            break;
        }
        /* augmented with the EMA output e' = a e + (1 - a) c^T z when asked */
        const unsigned n = mm + (ema ? 1 : 0);
        for (unsigned i = 0; i < n; i++) {
            sa[i] = i < mm ? f.s[i] : 0;
            for (unsigned j = 0; j < n; j++) {
                double v = 0;
                if (i < mm && j < mm) v = A[i * mm + j];
                else if (i == mm && j < mm) v = (1 - a->ema) * f.c[j];
                else if (i == mm && j == mm) v = a->ema;
                Aa[i * n + j] = v;
            }
        }
        if (lyapunov(n, Aa, sa, X) != 0) {
            mode_ok = 0;
            break;
        }
        double hg = 0, hc = 0;
        for (unsigned i = 0; i < mm; i++)
            for (unsigned j = 0; j < mm; j++) {
                hg += f.g[i] * X[i * n + j] * f.g[j];
                hc += f.c[i] * X[i * n + j] * f.c[j];
            }
        const double D = ck * l * l * hg / B;
        if (!(D < 1)) {
            mode_ok = 0;
            break;
        }
        H[k] = hg / (1 - D);   /* point variance per unit lambda (S + sigma2) / B, loops closed */
        Hc[k] = hc / (1 - D);
        He[k] = ema ? X[mm * n + mm] / (1 - D) : hc / (1 - D);
        knorm += l * l * H[k] / B;
    }
    out->exact_criterion = m->kappa >= 2 || a->method == &od_linreg_sgd;
    if (!mode_ok || !isfinite(knorm)) knorm = INFINITY;
    out->kernel_norm = knorm;
    out->stable = knorm < 1;
    if (out->stable && m->kappa < 2 && a->method == &od_linreg_sgd)
        out->stable = sgd_lower_ok(m, a->lr * mult, a->batch);
    out->stationary_excess = out->stationary_output = INFINITY;
    if (out->stable) {
        const double Sinf = m->sigma2 * knorm / (1 - knorm), L = Sinf + m->sigma2;
        double si[8] = {0}, so[8] = {0};
        for (size_t k = 0; k < m->d; k++) {
            const double l = m->lambda[k], N = l * L / B;
            si[k & 7] += l * Hc[k] * N;
            so[k & 7] += l * He[k] * N;
        }
        out->stationary_excess = 0.5 * od_linreg_sum8(si);
        out->stationary_output = a->output == OD_LINREG_OUT_LAST ? out->stationary_excess
                                 : ema ? 0.5 * od_linreg_sum8(so) : NAN;
    }
    free(H);
    return OD_OK;
}

int od_linreg_stability_compute(const od_linreg_model *m, const od_linreg_algo *a,
                                od_linreg_stability *out)
{
    OD_TRY(od_linreg_model_check(m));
    OD_TRY(od_linreg_algo_check(a));
    return compute(m, a, 1.0, out);
}

typedef struct {
    const od_linreg_model *m;
    const od_linreg_algo *a;
    int status;
} thr_ctx;

/* Negative where stable (||K|| - 1), positive where not. */
static double margin(double c, void *p)
{
    thr_ctx *x = p;
    od_linreg_stability s;
    int st = compute(x->m, x->a, c, &s);
    if (st != OD_OK) x->status = st;
    return s.stable ? s.kernel_norm - 1 : (isfinite(s.kernel_norm) && s.kernel_norm >= 1 ? s.kernel_norm - 1 : 1.0);
}

int od_linreg_threshold_lr(const od_linreg_model *m, const od_linreg_algo *a, double *lr_c)
{
    OD_TRY(od_linreg_model_check(m));
    OD_TRY(od_linreg_algo_check(a));
    thr_ctx x = {m, a, OD_OK};
    double lo = 1, hi = 1;
    int k = 0;
    if (margin(1, &x) < 0) {
        while (margin(hi, &x) < 0 && k++ < 60) lo = hi, hi *= 2;
    } else {
        while (margin(lo, &x) >= 0 && k++ < 60) hi = lo, lo /= 2;
    }
    OD_TRY(x.status);
    if (k > 60 || !(margin(lo, &x) < 0) || !(margin(hi, &x) >= 0))
        OD_ERROR("threshold step: no stability boundary between 2^-60 and 2^60 times the step",
                 OD_EMAXITER);
    gsl_function F = {margin, &x};
    gsl_root_fsolver *s = gsl_root_fsolver_alloc(gsl_root_fsolver_bisection);
    if (!s) OD_ERROR("threshold step: out of memory", OD_ENOMEM);
    gsl_root_fsolver_set(s, &F, lo, hi);
    int st = GSL_CONTINUE;
    for (int it = 0; it < 300 && st == GSL_CONTINUE; it++) {
        gsl_root_fsolver_iterate(s);
        st = gsl_root_test_interval(gsl_root_fsolver_x_lower(s), gsl_root_fsolver_x_upper(s), 0, 1e-13);
    }
    /* report the stable end of the final bracket */
    *lr_c = gsl_root_fsolver_x_lower(s) * a->lr;
    gsl_root_fsolver_free(s);
    OD_TRY(x.status);
    return st == GSL_SUCCESS ? OD_OK : od_error(OD_EMAXITER, __FILE__, __LINE__,
                                                "threshold step: bisection did not converge");
}

int od_linreg_threshold_lr_closed(size_t d, const double *lambda, double kappa, size_t batch,
                                  double *lr_c)
{
    const double B = (double)batch, cb = 1 + (kappa - 2) / B;
    if (!(cb > 0)) OD_ERRORF(OD_EINVAL, "closed-form threshold needs c_B = 1 + (kappa-2)/B > 0 (got %g)", cb);
    if (d == 0 || d > 4096) OD_ERRORF(OD_EINVAL, "closed-form threshold: d = %zu outside [1, 4096]", d);
    double *M = od_vec_alloc(d * d), *ev = od_vec_alloc(d);
    if (!M || !ev) {
        od_free(M);
        od_free(ev);
        OD_ERROR("closed-form threshold: out of memory", OD_ENOMEM);
    }
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++)
            M[i * d + j] = sqrt(lambda[i]) * sqrt(lambda[j]) / B + (i == j ? cb * lambda[i] : 0);
    int st = od_symm_eigen(d, M, ev, NULL);
    if (st == OD_OK) *lr_c = 2.0 / ev[0];
    od_free(M);
    od_free(ev);
    return st;
}
