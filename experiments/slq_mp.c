/* Experiment slq-vs-marchenko-pastur — stochastic Lanczos quadrature on W = XᵀX/n against the
 * Marchenko–Pastur law (theory sheet spectra.md §3, §4.5, §10).
 *
 * For each aspect ratio c = d/n: the SLQ density (m steps, n_v Rademacher probes, block mode) smoothed
 * with σ = node spacing, the realised spectrum of the same matrix (GSL dense eigensolver) smoothed
 * with the same kernel, and the MP density convolved with the same kernel (GSL QAWS quadrature).
 * Tolerances: probe noise from the per-probe densities (SE(t), the L1 of mean-zero noise has mean
 * 0.8 ∫SE); the finite-d deviation of the realised spectrum from MP, measured on the same axes
 * (triangle inequality); the Chebyshev–Markov–Stieltjes bound max_k τ_k for a Gauss quadrature's
 * distribution function; and for the log-determinant Bartlett's exact law:
 *      log det(XᵀX) = d log s² + Σ_{i<d} log χ²_{n−i},  E = Σ [ψ((n−i)/2) + log 2], Var = Σ ψ'((n−i)/2).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sf_psi.h>

#include "experiments/optdyn_experiments.h"
#include "spectra/optdyn_spectra.h"

enum { MAX_C = 6, NG = 600 };

static const od_param params[] = {
    {"d", OD_PARAM_INT, 500, 200, 20, 4000, 0, NULL, NULL, "dimension d (columns of X)"},
    {"ratios", OD_PARAM_STRING, 0, OD_SAME, 0, 0, 0, NULL, "0.1|0.3|0.6",
     "aspect ratios c = d/n in (0, 1), '|'-separated (at most 6)"},
    {"s2", OD_PARAM_DOUBLE, 1.0, OD_SAME, 0, 100, OD_LO_OPEN, NULL, NULL, "entry variance s²"},
    {"steps", OD_PARAM_INT, 80, 40, 5, 1000, 0, NULL, NULL, "Lanczos steps m per probe"},
    {"probes", OD_PARAM_INT, 10, OD_SAME, 2, 1000, 0, NULL, NULL, "probes n_v (Rademacher)"},
};

static const od_claim_doc claims[] = {
    {"l1-slq-vs-esd", "max over c of L1(SLQ, realised spectrum)/(3 ∫SE(t)dt), both smoothed by the same "
                      "Gaussian: ≤ 1 (probe noise; E L1 of the noise is 0.8 ∫SE)"},
    {"l1-vs-mp", "max over c of L1(SLQ, MP)/(3 ∫SE dt + L1(realised, MP)) ≤ 1 (triangle inequality)"},
    {"ks-vs-mp", "max over c of KS(SLQ step CDF, MP CDF)/(mean max_k τ_k + 4 max_t SE_F(t) + KS(realised, "
                 "MP)) ≤ 1 (Chebyshev–Markov–Stieltjes bound for Gauss quadrature)"},
    {"moments-4se", "SLQ (1/d) tr W^j, j = 1, 2, 3, within 4 SE of the realised moments (quadrature exact "
                    "for j ≤ 2m − 1): max |z|"},
    {"logdet-bartlett", "SLQ log det W / d within 4 SE of Bartlett's exact expectation, SE combining probe "
                        "noise and Var log det (max |z| over c)"},
};

/* (1/(2π s² c x)) for the QAWS smoothing of MP */
static double mp_h(double x, void *p)
{
    const od_spectra_mp *mp = p;
    return 1.0 / (2 * M_PI * mp->s2 * mp->c * x);
}

static int run(od_run *r)
{
    const size_t d = (size_t)od_run_int(r, "d"), m0 = (size_t)od_run_int(r, "steps"),
                 nv = (size_t)od_run_int(r, "probes");
    const double s2 = od_run_num(r, "s2");
    double cs[MAX_C];
    size_t nc;
    OD_TRY(od_parse_doubles(od_run_str(r, "ratios"), '|', cs, MAX_C, &nc, "slq-vs-marchenko-pastur: key 'ratios'"));
    for (size_t i = 0; i < nc; i++)
        if (!(cs[i] > 0 && cs[i] < 1)) OD_ERRORF(OD_ERANGE, "key 'ratios': c = %g is not in (0, 1)", cs[i]);
    const size_t m = m0 < d ? m0 : d;
    int st = OD_OK;
    od_table *td = od_table_alloc("densities"), *ts = od_table_alloc("summary");
    od_figure *f = od_figure_alloc("slq_mp", "SLQ density against Marchenko–Pastur");
    double *x = od_vec_alloc(NG), *ys = od_vec_alloc(NG), *se = od_vec_alloc(NG), *ye = od_vec_alloc(NG),
           *ym = od_vec_alloc(NG), *lo2 = od_vec_alloc(NG), *hi2 = od_vec_alloc(NG), *ev = od_vec_alloc(d),
           *W = od_vec_alloc(d * d), *E = od_vec_alloc(d * 50), *wts = od_vec_alloc(d);
    if (!td || !ts || !f || !x || !ys || !se || !ye || !ym || !lo2 || !hi2 || !ev || !W || !E || !wts) {
        st = od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
        goto done;
    }
    od_figure_layout(f, 1, (int)nc);
    const char *scols[] = {"c", "n", "sigma", "l1_slq_esd", "tol_slq_esd", "l1_slq_mp", "l1_esd_mp",
                           "ks_slq_mp", "ks_esd_mp", "cms_bound", "logdet_slq", "logdet_slq_se",
                           "logdet_bartlett", "logdet_bartlett_sd", "logdet_mp", "matvecs"};
    for (size_t k = 0; k < 16; k++) od_table_add_double(ts, scols[k], NULL, 0);
    double worst_l1 = 0, worst_mp = 0, worst_ks = 0, zmax_mom = 0, zmax_ld = 0, ytop[MAX_C] = {0};
    for (size_t ci = 0; ci < nc && st == OD_OK; ci++) {
        const double c = cs[ci];
        const size_t n = (size_t)llround((double)d / c);
        od_spectra_linop *op = NULL;
        char spec[128];
        snprintf(spec, sizeof spec, "wishart:n=%zu,d=%zu,s2=%.17g", n, d, s2);
        if ((st = od_spectra_model_from_spec(spec, od_run_seed(r) + ci, &op)) != OD_OK) break;
        /* realised spectrum: W by block products on the unit vectors, then GSL */
        for (size_t j0 = 0; j0 < d && st == OD_OK; j0 += 50) {
            const size_t b = d - j0 < 50 ? d - j0 : 50;
            od_zero(b * d, E);
            for (size_t j = 0; j < b; j++) E[j * d + j0 + j] = 1.0;
            st = od_spectra_apply_block(op, b, E, W + j0 * d);
        }
        if (st == OD_OK) st = od_symm_eigen(d, W, ev, NULL);
        const uint64_t mv0 = op->matvecs;
        od_spectra_slq_params sp = od_spectra_slq_default_params();
        sp.steps = m;
        sp.probes = nv;
        sp.seed = od_run_seed(r) + 100 + ci;
        od_spectra_slq_result sr = {0};
        od_spectra_density den = {0};
        if (st == OD_OK) st = od_spectra_slq(op, &sp, &sr);
        od_spectra_smooth_params smp = od_spectra_smooth_default_params();
        smp.n = NG;
        if (st == OD_OK) st = od_spectra_slq_density(&sr, &smp, &den);
        if (st != OD_OK) {
            od_spectra_slq_result_free(&sr);
            od_spectra_linop_free(op);
            break;
        }
        const double sigma = den.sigma;
        od_copy(NG, den.x, x);
        od_spectra_smooth_mean_se(sr.probes, sr.m, sr.steps, sr.nodes, sr.weights, sigma, NG, x, ys, se);
        for (size_t i = 0; i < d; i++) wts[i] = 1.0 / (double)d;
        od_spectra_smooth_runs(1, &d, d, ev, wts, sigma, NG, x, ye);
        od_spectra_mp mp = {s2, c};
        double a, b;
        od_spectra_mp_edges(&mp, &a, &b);
        if ((st = od_spectra_smooth_sqrt_edge(mp_h, &mp, a, b, sigma, NG, x, ym)) != OD_OK) break;
        double intse = 0, zero[NG];
        for (size_t i = 0; i < NG; i++) zero[i] = 0;
        intse = od_spectra_l1(NG, x, se, zero);
        for (size_t i = 0; i < NG; i++) ytop[ci] = fmax(ytop[ci], fmax(ys[i] + 2 * se[i], fmax(ye[i], ym[i])));
        const double l1se = od_spectra_l1(NG, x, ys, ye), l1sm = od_spectra_l1(NG, x, ys, ym),
                     l1em = od_spectra_l1(NG, x, ye, ym);
        worst_l1 = fmax(worst_l1, l1se / (3 * intse));
        worst_mp = fmax(worst_mp, l1sm / (3 * intse + l1em));
        /* KS: SLQ step CDF and the realised spectrum's CDF against MP */
        const double ks_s = od_spectra_ks(sr.probes, sr.m, sr.steps, sr.nodes, sr.weights, od_spectra_mp_cdf, &mp);
        const double ks_e = od_spectra_ks(1, &d, d, ev, wts, od_spectra_mp_cdf, &mp);
        double cms = 0, sef = 0;
        for (size_t l = 0; l < sr.probes; l++) {
            double wmax = 0;
            for (size_t k = 0; k < sr.m[l]; k++) wmax = fmax(wmax, sr.weights[l * sr.steps + k]);
            cms += wmax / (double)sr.probes;
        }
        for (size_t i = 0; i < NG; i += 10) {   /* SE of F̂(t) over probes */
            double mu = 0, m2 = 0;
            for (size_t l = 0; l < sr.probes; l++) {
                const double F = od_spectra_step_cdf(1, &sr.m[l], sr.steps, sr.nodes + l * sr.steps,
                                                     sr.weights + l * sr.steps, x[i]);
                const double dl = F - mu;
                mu += dl / (double)(l + 1);
                m2 += dl * (F - mu);
            }
            sef = fmax(sef, sqrt(m2 / (double)(sr.probes - 1) / (double)sr.probes));
        }
        worst_ks = fmax(worst_ks, ks_s / (cms + 4 * sef + ks_e));
        /* moments */
        for (int j = 1; j <= 3; j++) {
            double mo, mse, ex = 0;
            od_spectra_slq_moment(&sr, j, &mo, &mse);
            for (size_t i = 0; i < d; i++) ex += pow(ev[i], j) / (double)d;
            zmax_mom = fmax(zmax_mom, fabs(mo - ex) / mse);
        }
        /* log-det against Bartlett */
        double ld, ldse, eb = (double)d * log(s2) - (double)d * log((double)n), vb = 0;
        od_spectra_slq_logdet(&sr, &ld, &ldse);
        for (size_t i = 0; i < d; i++) {
            eb += gsl_sf_psi(0.5 * (double)(n - i)) + M_LN2;
            vb += gsl_sf_psi_1(0.5 * (double)(n - i));
        }
        zmax_ld = fmax(zmax_ld, fabs(ld - eb) / sqrt(ldse * ldse + vb));
        const double row[16] = {c, (double)n, sigma, l1se, 3 * intse, l1sm, l1em, ks_s, ks_e, cms,
                                ld / (double)d, ldse / (double)d, eb / (double)d, sqrt(vb) / (double)d,
                                od_spectra_mp_logmoment(&mp), (double)(op->matvecs - mv0)};
        od_table_append(ts, row);
        char col[64];
        if (ci == 0) od_table_add_double(td, "x_c1", x, NG);
        snprintf(col, sizeof col, "x_c%zu", ci + 1);
        if (ci) od_table_add_double(td, col, x, NG);
        const char *names[4] = {"slq", "slq_se", "realised", "mp"};
        const double *vals[4] = {ys, se, ye, ym};
        for (int k = 0; k < 4; k++) {
            snprintf(col, sizeof col, "%s_c%zu", names[k], ci + 1);
            od_table_add_double(td, col, vals[k], NG);
        }
        od_spectra_density_free(&den);
        od_spectra_slq_result_free(&sr);
        od_spectra_linop_free(op);
    }
    if (st != OD_OK) goto done;
    od_table_meta(td, "model", "W = X^T X / n, X_ij ~ N(0, %g), d = %zu; SLQ m = %zu, n_v = %zu Rademacher", s2, d, m, nv);
    od_table_meta(ts, "model", "W = X^T X / n, d = %zu; logdet columns are per dimension", d);
    if ((st = od_run_table(r, td)) != OD_OK || (st = od_run_table(r, ts)) != OD_OK) goto done;
    for (size_t ci = 0; ci < nc; ci++) {
        char xs[32], a[32], b[32], cc[32], e[32], title[64];
        snprintf(xs, sizeof xs, "x_c%zu", ci + 1);
        snprintf(a, sizeof a, "slq_c%zu", ci + 1);
        snprintf(b, sizeof b, "slq_se_c%zu", ci + 1);
        snprintf(cc, sizeof cc, "realised_c%zu", ci + 1);
        snprintf(e, sizeof e, "mp_c%zu", ci + 1);
        snprintf(title, sizeof title, "c = d/n = %g", cs[ci]);
        if (ci) od_figure_next_panel(f, title);
        else od_figure_title(f, title);
        od_figure_xlabel(f, "λ");
        od_figure_ylabel(f, "density (smoothed)");
        od_figure_yrange(f, 0, 1.4 * ytop[ci]);   /* headroom for the legend above the data */
        od_figure_key(f, "top right");
        od_figure_add(f, &(od_series){.table = td, .x = xs, .y = a, .err = b, .kind = OD_PLOT_BAND, .label = "SLQ ± 2 SE"});
        od_figure_add(f, &(od_series){.table = td, .x = xs, .y = cc, .kind = OD_PLOT_LINES, .dash = 2, .label = "realised spectrum"});
        od_figure_add(f, &(od_series){.table = td, .x = xs, .y = e, .kind = OD_PLOT_LINES, .label = "Marchenko–Pastur"});
    }
    if ((st = od_run_figure(r, f)) != OD_OK) goto done;
    od_run_claim_le(r, "l1-slq-vs-esd", worst_l1, 1.0);
    od_run_claim_le(r, "l1-vs-mp", worst_mp, 1.0);
    od_run_claim_le(r, "ks-vs-mp", worst_ks, 1.0);
    od_run_claim_le(r, "moments-4se", zmax_mom, 4.0);
    od_run_claim_le(r, "logdet-bartlett", zmax_ld, 4.0);
done:
    od_table_free(td);
    od_table_free(ts);
    od_figure_free(f);
    od_free(x);
    od_free(ys);
    od_free(se);
    od_free(ye);
    od_free(ym);
    od_free(lo2);
    od_free(hi2);
    od_free(ev);
    od_free(W);
    od_free(E);
    od_free(wts);
    return st;
}

const od_experiment od_exp_slq_mp = {
    .name = "slq-vs-marchenko-pastur",
    .title = "Stochastic Lanczos quadrature against the Marchenko–Pastur law",
    .reference = "Marčenko & Pastur, Math. USSR-Sb. 1 (1967); Ubaru, Chen & Saad, SIMAX 38 (2017) (SLQ); "
                 "Lin, Saad & Yang, SIAM Review 58 (2016) (smoothed-density accuracy); Bartlett (1933) "
                 "for the exact law of log det; theory sheet spectra.md §3, §4.5, §10",
    .summary = "SLQ on the implicit Wishart operator X^T X / n for several aspect ratios: the smoothed "
               "density against the realised spectrum (dense GSL eigensolver) and the Marchenko–Pastur law "
               "convolved with the same kernel (L1), the SLQ step CDF against the MP CDF (KS), moments "
               "against the realised ones, and the log-determinant against Bartlett's exact expectation.",
    .doc = "docs/experiments/slq-vs-marchenko-pastur.md",
    .params = params,
    .n_params = sizeof params / sizeof params[0],
    .claims = claims,
    .n_claims = sizeof claims / sizeof claims[0],
    .run = run,
};
