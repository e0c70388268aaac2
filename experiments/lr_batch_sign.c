/* Experiment lr-batch-rules, part 3 — one step of SGD and of sign-SGD on a quadratic whose
 * Hessian couples the coordinates, under Gaussian gradient noise with independent coordinates (the
 * model of Li et al., "Surge Phenomenon in Optimal Learning Rate and Batch Size Scaling", NeurIPS
 * 2024, §3): exact optima, Monte Carlo optima through the optimizer zoo, the Surge form as the
 * small-batch limit of the sign optimum.  See lr_batch_rules.c and docs/experiments/lr-batch-rules.md.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "experiments/lr_batch_rules.h"
#include "experiments/scaling_common.h"
#include "scaling/optdyn_scaling.h"
#include "sde/optdyn_sde.h"

enum { STREAM_MC = 0x1b };
#define THETA_SMALL 0.05   /* small-batch regime of the claims: erf linear to 5% */

typedef struct {
    size_t m, nB;
    double *H, *g, *sd, *x0;
    const double *B;
    double *eps[2];   /* exact optimum per batch size: SGD, sign */
    od_problem *p;
    uint64_t seed;
} sign_cfg;

typedef struct {
    od_sde_opt *o[2];
    double *x, *hv;
} mc_ws;

static void mc_ws_free(void *p, void *arg)
{
    (void)arg;
    mc_ws *w = p;
    if (!w) return;
    od_sde_opt_free(w->o[0]);
    od_sde_opt_free(w->o[1]);
    od_free(w->x);
    free(w);
}

static void *mc_ws_alloc(void *arg)
{
    const sign_cfg *c = arg;
    mc_ws *w = calloc(1, sizeof *w);
    od_sde_hp hp = od_sde_hp_default();
    hp.lr = 1;   /* the step is V itself: x0 - x1 */
    if (!w || !(w->x = od_vec_alloc(2 * c->m)) || od_sde_opt_alloc(od_sde_sgd, &hp, c->m, &w->o[0]) ||
        od_sde_opt_alloc(od_sde_signsgd, &hp, c->m, &w->o[1])) {
        mc_ws_free(w, arg);
        return NULL;
    }
    w->hv = w->x + c->m;
    return w;
}

/* Path p: for each batch size j, one step of SGD and one of sign-SGD from x0 on the same minibatch
 * (stream STREAM_MC at (p, j)); observables a = g^T V, b = V^T H V and a - eps_exact b per
 * optimizer, V = x0 - x1.  E a / E b is the optimal step; a - eps b has mean 0 iff eps is it. */
static int mc_path(uint32_t path, double *obs, void *ws, void *arg)
{
    const sign_cfg *c = arg;
    mc_ws *w = ws;
    const size_t m = c->m;
    od_stream s;
    od_stream_init(&s, c->seed, STREAM_MC);
    for (size_t j = 0; j < c->nB; j++)
        for (int k = 0; k < 2; k++) {
            od_copy(m, c->x0, w->x);
            od_stream_seek(&s, path, (uint32_t)j);
            int st = od_sde_opt_step(w->o[k], c->p, (size_t)c->B[j], &s, w->x);
            if (st) return -st;
            for (size_t i = 0; i < m; i++) w->x[i] = c->x0[i] - w->x[i];
            od_gemv(0, m, m, 1.0, c->H, w->x, 0.0, w->hv);
            const double a = od_dot(m, c->g, w->x), b = od_dot(m, w->x, w->hv);
            double *o = obs + 6 * j + 3 * (size_t)k;
            o[0] = a;
            o[1] = b;
            o[2] = a - c->eps[k][j] * b;
        }
    return 0;
}

/* Bound on |log(eps_exact / eps_nominal)| for the sign optimum when E sign(g~_i) = mu_i (1 - t_i)
 * with 0 <= t_i <= tb_i and g_i mu_i >= 0: the numerator moves by at most sum g_i mu_i tb_i, the
 * off-diagonal part of E[V^T H V] by sum_{i != j} |H_ij mu_i mu_j| (tb_i + tb_j + tb_i tb_j). */
static double sign_bound(const sign_cfg *c, const double *mu, const double *tb)
{
    double num = 0, dn = 0, den = 0, dd = 0;
    for (size_t i = 0; i < c->m; i++) {
        num += c->g[i] * mu[i];
        dn += c->g[i] * mu[i] * tb[i];
        den += c->H[i * c->m + i];
        for (size_t j = 0; j < c->m; j++) {
            if (j == i) continue;
            const double h = c->H[i * c->m + j] * mu[i] * mu[j];
            den += h;
            dd += fabs(h) * (tb[i] + tb[j] + tb[i] * tb[j]);
        }
    }
    if (!(den > dd) || !(num > dn)) return INFINITY;
    return fmax(log(den / (den - dd)), -log((num - dn) / num * den / (den + dd))) + 1e-13;
}

/* The large-batch form of the bound: E sign(g~_i) = sign(g_i) (1 - erfc(|g_i| sqrt(B/2)/sigma_i)). */
static void sign_limit(const sign_cfg *c, double B, double *mu, double *tb)
{
    for (size_t i = 0; i < c->m; i++) {
        mu[i] = (c->g[i] > 0) - (c->g[i] < 0);
        tb[i] = erfc(fabs(c->g[i] / c->sd[i]) * sqrt(B / 2));
    }
}

/* The coupled quadratic: H = (1 - rho) I + rho 1 1^T, x0 = 1 (minimiser 0), so g = H 1; noise sd
 * sigma_i = nsr |g_i| spread^(i/(m-1) - 1/2).  Exact optima at the batch sizes B[0..nB). */
static int sign_setup(const od_run *r, sign_cfg *c)
{
    const size_t m = (size_t)od_run_int(r, "sign_d");
    const double rho = od_run_num(r, "rho"), nsr = od_run_num(r, "nsr"), spread = od_run_num(r, "spread");
    c->m = m;
    c->H = od_vec_alloc(2 * m * m + 3 * m + 2 * OD_LRB_MAX_B);
    if (!c->H) OD_ERROR("out of memory", OD_ENOMEM);
    double *S = c->H + m * m;
    c->g = S + m * m;
    c->sd = c->g + m;
    c->x0 = c->sd + m;
    c->eps[0] = c->x0 + m;
    c->eps[1] = c->eps[0] + OD_LRB_MAX_B;
    for (size_t i = 0; i < m; i++) {
        c->x0[i] = 1;
        for (size_t j = 0; j < m; j++) c->H[i * m + j] = i == j ? 1 : rho;
    }
    od_gemv(0, m, m, 1.0, c->H, c->x0, 0.0, c->g);
    for (size_t i = 0; i < m; i++) {
        c->sd[i] = nsr * fabs(c->g[i]) * pow(spread, (double)i / (double)(m > 1 ? m - 1 : 1) - 0.5);
        S[i * m + i] = c->sd[i] * c->sd[i];
    }
    return od_problem_quadratic_dense(m, c->H, NULL, S, &c->p);
}

int od_lrb_sign_part(od_run *r, od_lrb_tables *t)
{
    sign_cfg c = {.seed = od_run_seed(r)};
    double B[OD_LRB_MAX_B];
    c.nB = od_lrb_batch_grid((double)od_run_int(r, "sign_bmax"), B);
    c.B = B;
    od_ensemble_result res = {0};
    int st = sign_setup(r, &c);
    const size_t m = c.m;
    double *mu = od_vec_alloc(2 * m), *tb = mu ? mu + m : NULL;
    od_scaling_noise_scale ns;
    if (!st && !mu) st = od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
    if (st || (st = od_scaling_mccandlish(m, c.g, c.H, c.H + m * m, &ns))) goto done;
    for (size_t j = 0; j < c.nB; j++) {
        c.eps[0][j] = od_scaling_lr_eval(OD_SCALING_LR_SGD, ns.eps_max, ns.B_noise, B[j]);
        c.eps[1][j] = od_scaling_sign_lr_opt(m, c.g, c.H, c.sd, B[j]);
    }
    od_ensemble_params ep = {.n_paths = (size_t)od_run_int(r, "paths"), .n_times = c.nB, .n_obs = 6,
                             .ws_alloc = mc_ws_alloc, .ws_free = mc_ws_free,
                             .label = od_run_progress_label(r)};
    if ((st = od_ensemble_run(&ep, mc_path, &c, &res))) goto done;
    const double einf = od_scaling_sign_lr_opt(m, c.g, c.H, c.sd, INFINITY), inf[2] = {ns.eps_max, einf};
    double zmax[2] = {0, 0};
    static const char *cm[] = {"B", "sgd_mc_rel", "sgd_mc_rel_se", "sign_mc_rel", "sign_mc_rel_se",
                               "sgd_z", "sign_z", "sgd_exact", "sign_exact"};
    if (!(t->sign_mc = od_exp_scaling_table("sign_mc", cm, 9))) {
        st = od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
        goto done;
    }
    for (size_t j = 0; j < c.nB; j++) {
        double row[9] = {B[j], 0, 0, 0, 0, 0, 0, c.eps[0][j], c.eps[1][j]};
        for (int k = 0; k < 2; k++) {
            const double *mn = res.mean + 6 * j + 3 * k, *se = res.se + 6 * j + 3 * k;
            row[1 + 2 * k] = mn[0] / mn[1] / inf[k];   /* E a / E b */
            row[2 + 2 * k] = se[2] / mn[1] / inf[k];   /* delta method at the exact optimum */
            row[5 + k] = mn[2] / se[2];
            if (se[2] == 0) {   /* every path took the same step: compare within the erfc tail */
                sign_limit(&c, B[j], mu, tb);
                row[5 + k] = fabs(log(mn[0] / mn[1] / c.eps[k][j])) <= sign_bound(&c, mu, tb) ? 0 : INFINITY;
            }
            zmax[k] = fmax(zmax[k], fabs(row[5 + k]));
        }
        od_table_append(t->sign_mc, row);
    }
    od_table_meta(t->sign_mc, "columns", "Monte Carlo optimum E[g^T V]/E[V^T H V] over %zu paths, "
                  "relative to its B -> infinity limit; z = mean(a - eps_exact b)/SE", ep.n_paths);
    od_run_claim_le(r, "sgd-mc-exact", zmax[0], 4);
    od_run_claim_le(r, "sign-mc-exact", zmax[1], 4);

    /* the Surge form in the small-batch regime, x_i^2 = s_i^2 B/2 <= 3 THETA_SMALL */
    double em = NAN, bn = NAN, s2max = 0, worst = 0, Bs[OD_LRB_MAX_B], es[OD_LRB_MAX_B];
    for (size_t i = 0; i < m; i++) s2max = fmax(s2max, pow(c.g[i] / c.sd[i], 2));
    const double Bsb = 6 * THETA_SMALL / s2max;
    size_t k = 0;
    const int have = od_scaling_surge_params(m, c.g, c.H, c.sd, &em, &bn) == OD_OK;
    for (size_t j = 0; j < c.nB && B[j] <= Bsb; j++, k++) {
        Bs[k] = B[j];
        es[k] = c.eps[1][j];
        for (size_t i = 0; i < m; i++) {
            const double s = c.g[i] / c.sd[i];
            mu[i] = sqrt(2 * B[j] / M_PI) * s;
            tb[i] = s * s * B[j] / 6;   /* erf(x) >= (2/sqrt(pi)) x (1 - x^2/3) for x^2 < 3 */
        }
        const double ratio = have ? fabs(log(es[k] / od_scaling_lr_eval(OD_SCALING_LR_SURGE, em, bn, B[j])))
                                  : INFINITY;
        worst = fmax(worst, ratio / sign_bound(&c, mu, tb));
    }
    if (!have || k == 0) worst = INFINITY;
    od_run_claim_le(r, "surge-small-batch", worst, 1);
    od_scaling_lr_fit fs[2] = {{0}, {0}};
    double gap = -INFINITY;
    if (k >= 4 && !od_scaling_fit_lr_batch(k, Bs, es, OD_SCALING_LR_SGD, &fs[0]) &&
        !od_scaling_fit_lr_batch(k, Bs, es, OD_SCALING_LR_SURGE, &fs[1]))
        gap = sqrt(fs[0].rss) - sqrt(fs[1].rss);
    od_run_claim_ge(r, "surge-fits-sign", gap, 2 * sqrt((double)k) * 1e-12);

    /* the exact curves to 4 sign_bmax, 8 points per octave: peak and large-batch limit */
    static const char *ce[] = {"B", "sgd_rel", "sign_rel", "surge_rel", "sgd", "sign", "surge"};
    if (!(t->sign_exact = od_exp_scaling_table("sign_exact", ce, 7))) {
        st = od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
        goto done;
    }
    const int nfine = (int)floor(8 * log2(4 * B[c.nB - 1]));
    double peak = 0, Bpeak = NAN, last = NAN;
    int ipeak = 0;
    for (int j = 0; j <= nfine; j++) {
        const double b = pow(2, j / 8.0), sg = od_scaling_lr_eval(OD_SCALING_LR_SGD, ns.eps_max, ns.B_noise, b);
        const double sn = od_scaling_sign_lr_opt(m, c.g, c.H, c.sd, b);
        const double su = have ? od_scaling_lr_eval(OD_SCALING_LR_SURGE, em, bn, b) : NAN;
        double row[7] = {b, sg / ns.eps_max, sn / einf, su / einf, sg, sn, su};
        od_table_append(t->sign_exact, row);
        if (sn > peak) {
            peak = sn;
            Bpeak = b;
            ipeak = j;
        }
        last = sn;
    }
    sign_limit(&c, pow(2, nfine / 8.0), mu, tb);
    const double tail = sign_bound(&c, mu, tb);
    od_run_claim_check(r, "sign-surge-peak", ipeak > 0 && ipeak < nfine && log(peak / einf) > tail &&
                                                 fabs(log(last / einf)) <= tail,
                       peak / einf, 1, "interior peak > limit; tail within erfc bound");
    od_table_meta(t->sign_exact, "model", "one step on f = x^T H x / 2, H = (1 - rho) I + rho 1 1^T, "
                  "rho = %g, d = %zu, x0 = 1, g~ ~ N(g, diag(sigma^2)/B); _rel: over the B -> infinity "
                  "limit (SGD %.6g, sign %.6g)", od_run_num(r, "rho"), m, ns.eps_max, einf);
    od_run_note(r, "sign updates: Surge form eps_max = c/(2 sqrt(ab)) = %.5g, B_noise = a/b = %.4g; the "
                   "exact optimum peaks at B = %.3g (%.5g, %.3g times its large-batch limit %.5g); "
                   "small-batch regime B <= %.3g (%zu batch sizes); fits there: Surge rss %.3g, "
                   "McCandlish rss %.3g. SGD on the same problem: B_noise = tr(H Sigma)/g^T H g = %.4g, "
                   "monotone", em, bn, Bpeak, peak, peak / einf, einf, Bsb, k, fs[1].rss, fs[0].rss,
                ns.B_noise);
    if ((st = od_run_table(r, t->sign_mc))) goto done;
    st = od_run_table(r, t->sign_exact);
done:
    od_ensemble_result_free(&res);
    od_problem_free(c.p);
    od_free(c.H);
    od_free(mu);
    return st;
}

