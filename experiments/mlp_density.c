/* Experiment hessian-density-mlp — the Hessian spectral density of a two-layer tanh network at
 * initialisation and after full-batch gradient descent (theory sheet spectra.md §3, §10; Ghorbani,
 * Krishnan & Xiao, ICML 2019; Sagun et al. 2017: a bulk near zero and outliers that depend on the
 * data, linked to the covariance of the output gradients).  SLQ estimates against the exact spectrum
 * of the same Hessian (D HVPs and GSL's dense eigensolver), and the split H = G + R into the
 * Gauss–Newton part G = (1/n) Σ J_i J_iᵀ and the residual part R = (1/n) Σ r_i ∇²f(x_i).
 *
 * Outliers.  For Gaussian inputs the Gram matrix of output gradients expands in Hermite polynomials
 * of the inputs: its degree-0 part has rank 1, its degree-1 part rank d_in, and the higher degrees
 * have many more, smaller eigenvalues, so G has 1 + d_in outliers [D, heuristic; checked over seeds
 * in the docs page].  Criterion: the outlier count is the index i ≤ 3(d_in + 1) of the largest
 * ratio λ_i/λ_{i+1} of consecutive positive eigenvalues.  By Weyl, |λ_i(H) − λ_i(G)| ≤ ‖R‖₂, so a
 * gap λ_i(H) − λ_{i+1}(H) > 2‖R‖₂ is a gap of G too: the residual term cannot have made it.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "experiments/optdyn_experiments.h"
#include "spectra/optdyn_spectra.h"

enum { NG = 1000 };

static const od_param params[] = {
    {"n", OD_PARAM_INT, 300, 150, 10, 100000, 0, NULL, NULL, "training samples"},
    {"din", OD_PARAM_INT, 10, OD_SAME, 1, 1000, 0, NULL, NULL, "input dimension"},
    {"h", OD_PARAM_INT, 30, 15, 2, 2000, 0, NULL, NULL, "hidden tanh units"},
    {"gd_steps", OD_PARAM_INT, 3000, 600, 1, 1e7, 0, NULL, NULL, "full-batch GD steps (lr = 1/λ_max at init)"},
    {"steps", OD_PARAM_INT, 60, 40, 5, 1000, 0, NULL, NULL, "Lanczos steps per probe"},
    {"probes", OD_PARAM_INT, 10, OD_SAME, 2, 1000, 0, NULL, NULL, "SLQ probes"},
};

static const od_claim_doc claims[] = {
    {"trace-4se", "SLQ trace within 4 SE of the exact trace, at init and after training (max |z|)"},
    {"density-l1", "L1(SLQ density, exact spectrum) with the same kernel ≤ 3 ∫SE(t)dt (max ratio)"},
    {"lanczos-top", "Lanczos λ_max within its residual bound + 64 D ε λ_max (the dense solver's "
                    "backward error) of the dense λ_max (max ratio)"},
    {"outlier-count", "after training the largest ratio of consecutive eigenvalues among the top "
                      "3(d_in + 1) sits at i = d_in + 1: 1 + d_in outliers (Hermite degrees 0 and 1 of "
                      "the output-gradient kernel, [D]); measured: i"},
    {"outliers-separate", "after training the gap λ_{d_in+1} − λ_{d_in+2} exceeds 2‖R‖₂, R = H − G "
                          "(Weyl: the gap is a property of the Gauss–Newton part); measured: gap/(2‖R‖₂)"},
};

/* Outlier count by the criterion above: the index i (1-based) ≤ K of the largest λ_i/λ_{i+1} among
 * positive eigenvalues (ev decreasing). */
static size_t outlier_count(size_t D, const double *ev, size_t K)
{
    size_t best = 0;
    double rmax = 0;
    for (size_t i = 0; i < K && i + 1 < D && ev[i + 1] > 0; i++)
        if (ev[i] / ev[i + 1] > rmax) {
            rmax = ev[i] / ev[i + 1];
            best = i + 1;
        }
    return best;
}

/* Everything measured at one point x (when: 0 init, 1 trained): out[] as listed in `cols` of run. */
enum { N_OUT = 12 };
static int analyse(od_run *r, od_problem *p, const double *x, int when, od_table *t, double *out)
{
    const size_t D = p->dim, din = (size_t)od_run_int(r, "din");
    od_spectra_linop *H = NULL, *G = NULL;
    OD_TRY(od_spectra_linop_hessian(p, x, &H));
    double *A = od_vec_alloc(D * D), *R = od_vec_alloc(D * D), *ev = od_vec_alloc(D), *er_ = od_vec_alloc(D),
           *w = od_vec_alloc(D), *ys = od_vec_alloc(NG), *se = od_vec_alloc(NG), *ye = od_vec_alloc(NG),
           *zero = od_vec_alloc(NG);
    od_spectra_slq_result sr = {0};
    od_spectra_density den = {0};
    int st = (A && R && ev && er_ && w && ys && se && ye && zero) ? OD_OK : OD_ENOMEM;
    if (st == OD_OK) st = od_spectra_mlp_gauss_newton(p, x, &G);
    if (st == OD_OK) st = od_spectra_linop_to_dense(H, A);
    if (st == OD_OK) st = od_spectra_linop_to_dense(G, R);
    if (st == OD_OK) st = od_symm_eigen(D, R, er_, NULL);   /* G's spectrum first */
    const double g_count = st == OD_OK ? (double)outlier_count(D, er_, 3 * (din + 1)) : NAN;
    for (size_t k = 0; st == OD_OK && k < D * D; k++) R[k] = A[k] - R[k];   /* R = H − G */
    if (st == OD_OK) st = od_symm_eigen(D, A, ev, NULL);
    if (st == OD_OK) st = od_symm_eigen(D, R, er_, NULL);
    od_spectra_slq_params sp = od_spectra_slq_default_params();
    sp.steps = (size_t)od_run_int(r, "steps") < D ? (size_t)od_run_int(r, "steps") : D;
    sp.probes = (size_t)od_run_int(r, "probes");
    sp.seed = od_run_seed(r) + (uint64_t)when;
    if (st == OD_OK) st = od_spectra_slq(H, &sp, &sr);
    od_spectra_smooth_params sm = od_spectra_smooth_default_params();
    sm.n = NG;
    if (st == OD_OK) st = od_spectra_slq_density(&sr, &sm, &den);
    od_spectra_eigs_params ep = od_spectra_eigs_default_params();
    od_spectra_eigs_result er = {0};
    if (st == OD_OK) st = od_spectra_eigs(H, &ep, &er);
    if (st == OD_OK) {
        double tr = 0, trs, trse;
        for (size_t i = 0; i < D; i++) {
            tr += ev[i];
            w[i] = 1.0 / (double)D;
        }
        od_spectra_slq_moment(&sr, 1, &trs, &trse);
        od_spectra_smooth_mean_se(sr.probes, sr.m, sr.steps, sr.nodes, sr.weights, den.sigma, NG, den.x, ys, se);
        od_spectra_smooth_runs(1, &D, D, ev, w, den.sigma, NG, den.x, ye);
        const double normR = fmax(fabs(er_[0]), fabs(er_[D - 1]));
        out[0] = fabs(trs * (double)D - tr) / (trse * (double)D);
        out[1] = od_spectra_l1(NG, den.x, ys, ye) / (3 * od_spectra_l1(NG, den.x, se, zero));
        out[2] = fabs(er.values[0] - ev[0]) / (er.residuals[0] + 64 * (double)D * DBL_EPSILON * fabs(ev[0]));
        out[3] = (double)outlier_count(D, ev, 3 * (din + 1));
        out[4] = (ev[din] - ev[din + 1]) / (2 * normR);
        out[5] = normR;
        out[6] = ev[0];
        out[7] = ev[D - 1];
        out[8] = ev[din] / ev[din + 1];
        out[9] = g_count;
        out[10] = ev[din];
        out[11] = ev[din + 1];
        char c1[32], c2[32], c3[32];
        snprintf(c1, sizeof c1, "x_%s", when ? "trained" : "init");
        snprintf(c2, sizeof c2, "slq_%s", when ? "trained" : "init");
        snprintf(c3, sizeof c3, "exact_%s", when ? "trained" : "init");
        od_table_add_double(t, c1, den.x, NG);
        od_table_add_double(t, c2, ys, NG);
        od_table_add_double(t, c3, ye, NG);
    }
    od_spectra_eigs_result_free(&er);
    od_spectra_slq_result_free(&sr);
    od_spectra_density_free(&den);
    od_spectra_linop_free(H);
    od_spectra_linop_free(G);
    od_free(A);
    od_free(R);
    od_free(ev);
    od_free(er_);
    od_free(w);
    od_free(ys);
    od_free(se);
    od_free(ye);
    od_free(zero);
    return st;
}

/* Unicode subscript digits of n (< 100): part 0 the tens (or "" below 10), part 1 the units. */
static const char *sub(long n, int part)
{
    static const char *const d[10] = {"₀", "₁", "₂", "₃", "₄", "₅", "₆", "₇", "₈", "₉"};
    if (part == 0) return n >= 10 ? d[(n / 10) % 10] : "";
    return d[n % 10];
}

static int run(od_run *r)
{
    char spec[160];
    snprintf(spec, sizeof spec, "mlp:n=%ld,d=%ld,h=%ld,act=tanh,biases=1,noise=0.1", od_run_int(r, "n"),
             od_run_int(r, "din"), od_run_int(r, "h"));
    od_problem *p = NULL;
    OD_TRY(od_exp_problem(spec, od_run_seed(r), &p));
    const size_t D = p->dim;
    double *x = od_vec_alloc(D), *g = od_vec_alloc(D), res[2][N_OUT];
    od_table *t = od_table_alloc("hessian_density"), *ts = od_table_alloc("summary");
    od_figure *f = od_figure_alloc("hessian_density_mlp", "Hessian spectrum of a two-layer tanh network");
    int st = (x && g && t && ts && f) ? OD_OK : OD_ENOMEM;
    double loss0 = NAN, loss1 = NAN;
    if (st == OD_OK) {
        od_copy(D, p->x0, x);
        od_problem_loss(p, x, &loss0);
        st = analyse(r, p, x, 0, t, res[0]);
    }
    const double lr = st == OD_OK ? 1.0 / res[0][6] : 0;
    const long steps = od_run_int(r, "gd_steps");
    for (long s = 0; st == OD_OK && s < steps; s++) {
        od_problem_grad(p, x, g, NULL);
        od_axpy(D, -lr, g, x);
        if (!od_all_finite(D, x)) st = od_error(OD_EDIVERGED, __FILE__, __LINE__, "GD diverged at step %ld", s);
    }
    if (st == OD_OK) {
        od_problem_loss(p, x, &loss1);
        st = analyse(r, p, x, 1, t, res[1]);
    }
    if (st != OD_OK) goto done;
    const char *cols[] = {"when", "trace_z", "l1_ratio", "lanczos_ratio", "outlier_count", "gap_over_2normR",
                          "normR", "lambda_max", "lambda_min", "gap_ratio", "outlier_count_gauss_newton", "loss"};
    for (int c = 0; c < 12; c++) od_table_add_double(ts, cols[c], NULL, 0);
    for (int w = 0; w < 2; w++) {
        double row[12] = {w};
        for (int k = 0; k < 10; k++) row[1 + k] = res[w][k];
        row[11] = w ? loss1 : loss0;
        od_table_append(ts, row);
    }
    od_table_meta(t, "model", "%s, %zu parameters; GD %ld steps, lr = %.4g", p->label, D, steps, lr);
    od_table_meta(ts, "when", "0 = initialisation, 1 = after GD");
    if ((st = od_run_table(r, t)) != OD_OK || (st = od_run_table(r, ts)) != OD_OK) goto done;
    const long din = od_run_int(r, "din");
    od_figure_layout(f, 1, 2);
    for (int w = 0; w < 2; w++) {
        char title[96], xs[32], a[32], b[32];
        snprintf(title, sizeof title, "%s (loss %.3g)", w ? "after gradient descent" : "at initialisation", w ? loss1 : loss0);
        if (w) od_figure_next_panel(f, title);
        else od_figure_title(f, title);
        snprintf(xs, sizeof xs, "x_%s", w ? "trained" : "init");
        snprintf(a, sizeof a, "slq_%s", w ? "trained" : "init");
        snprintf(b, sizeof b, "exact_%s", w ? "trained" : "init");
        od_figure_xlabel(f, "λ");
        od_figure_ylabel(f, "density (log scale)");
        od_figure_logy(f, 1);
        od_figure_yrange(f, 1e-4, NAN);
        od_figure_add(f, &(od_series){.table = t, .x = xs, .y = b, .kind = OD_PLOT_LINES, .width = 3, .label = "exact spectrum, smoothed"});
        od_figure_add(f, &(od_series){.table = t, .x = xs, .y = a, .kind = OD_PLOT_LINES, .dash = 2, .label = "SLQ"});
        /* the gap after the (d_in + 1)-th eigenvalue, where the outliers begin */
        char gl[96];
        snprintf(gl, sizeof gl, "λ%s%s/λ%s%s = %.3g", sub(din + 1, 0), sub(din + 1, 1), sub(din + 2, 0),
                 sub(din + 2, 1), res[w][8]);
        od_figure_vline(f, sqrt(fmax(res[w][10], 0) * fmax(res[w][11], 0)), gl);
    }
    if ((st = od_run_figure(r, f)) != OD_OK) goto done;
    od_run_claim_le(r, "trace-4se", fmax(res[0][0], res[1][0]), 4.0);
    od_run_claim_le(r, "density-l1", fmax(res[0][1], res[1][1]), 1.0);
    od_run_claim_le(r, "lanczos-top", fmax(res[0][2], res[1][2]), 1.0);
    od_run_claim_check(r, "outlier-count", res[1][3] == (double)(din + 1), res[1][3], (double)(din + 1), "m==p");
    od_run_claim_ge(r, "outliers-separate", res[1][4], 1.0);
    od_run_note(r, "outlier count of the Gauss–Newton part G by the same criterion: %.0f at initialisation, "
                   "%.0f after training", res[0][9], res[1][9]);
    od_run_note(r, "at initialisation: largest consecutive ratio at i = %.0f; λ_%ld/λ_%ld = %.3g (after training "
                   "%.3g); gap/(2‖R‖₂) = %.3g with ‖R‖₂ = %.3g (after training %.3g, ‖R‖₂ = %.3g); λ_max %.4g → "
                   "%.4g, λ_min %.4g → %.4g",
                res[0][3], din + 1, din + 2, res[0][8], res[1][8], res[0][4], res[0][5], res[1][4], res[1][5],
                res[0][6], res[1][6], res[0][7], res[1][7]);
done:
    od_problem_free(p);
    od_free(x);
    od_free(g);
    od_table_free(t);
    od_table_free(ts);
    od_figure_free(f);
    return st;
}

const od_experiment od_exp_mlp_density = {
    .name = "hessian-density-mlp",
    .title = "Hessian spectral density of a two-layer network before and after training",
    .reference = "Ghorbani, Krishnan & Xiao, An Investigation into Neural Net Optimization via Hessian "
                 "Eigenvalue Density, ICML 2019; Sagun, Evci, Güney, Dauphin & Bottou, Empirical Analysis "
                 "of the Hessian of Over-Parametrized Neural Networks, 2017; theory sheet spectra.md §3, §10",
    .summary = "SLQ density, trace and Lanczos top eigenvalue of the Hessian of a two-layer tanh network "
               "(teacher labels) at initialisation and after full-batch gradient descent, against the "
               "exact spectrum of the same Hessian; the separation of the top eigenvalue from the bulk.",
    .doc = "docs/experiments/hessian-density-mlp.md",
    .params = params,
    .n_params = sizeof params / sizeof params[0],
    .claims = claims,
    .n_claims = sizeof claims / sizeof claims[0],
    .run = run,
};
