/* Experiment outlier-alignment — Ben Arous, Gheissari, Huang, Jagannath, "High-dimensional SGD aligns
 * with emerging outlier eigenspaces" (ICLR 2024), Model 1 as in theory sheet spectra.md §9: softmax
 * regression x ∈ R^{k×d} on a k-component Gaussian mixture (means e_a, noise Z/√λ, uniform classes),
 * loss −x^y·Y + log Σ exp(x^c·Y) + (β/2)‖x‖², online SGD (one fresh sample per step) with step
 * lr = lr_scale / E‖Y‖².  At recorded times, on a fixed test set of M = d samples: the top-k
 * eigenvectors of each class block Ĥ_cc of the empirical Hessian and Ĝ_cc of the gradient second
 * moment G = (1/M) Σ ∇L_i ∇L_iᵀ (Lanczos on block-restricted operators), and the alignment
 * A_c = ‖P_top-k x^c‖ / ‖x^c‖.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiments/optdyn_experiments.h"
#include "spectra/optdyn_spectra.h"

enum { MAXK = 8, MAXREC = 64 };

static const od_param params[] = {
    {"d", OD_PARAM_INT, 200, 80, 20, 5000, 0, NULL, NULL, "dimension d"},
    {"k", OD_PARAM_INT, 4, 3, 2, MAXK, 0, NULL, NULL, "classes (mixture components)"},
    {"snr", OD_PARAM_DOUBLE, 100, OD_SAME, 0.1, 1e4, 0, NULL, NULL, "signal-to-noise ratio λ"},
    {"ridge", OD_PARAM_DOUBLE, 1e-3, OD_SAME, 0, 10, 0, NULL, NULL, "ridge β"},
    {"horizon", OD_PARAM_INT, 20, 10, 1, 1000, 0, NULL, NULL, "SGD steps in units of d"},
    {"lr_scale", OD_PARAM_DOUBLE, 0.5, OD_SAME, 1e-3, 2, 0, NULL, NULL, "step = lr_scale / (1 + d/λ)"},
    {"records", OD_PARAM_INT, 12, 8, 3, MAXREC, 0, NULL, NULL, "recording times (log-spaced from step d/10)"},
};

static const od_claim_doc claims[] = {
    {"above-random", "at the end the squared alignments A_c² of xᶜ with the top-k eigenspaces of Ĥ(c,c) "
                     "and Ĝ(c,c) (mean over classes) exceed a random vector's, k/d, by 4 null SDs: "
                     "A² of a uniformly random direction is Beta(k/2, (d−k)/2), SD √(2k(d−k)/(d²(d+2))); "
                     "measured: min over the two of (mean A² − k/d)/(4 SD)"},
    {"outliers-on-means", "at the end the top-k eigenvectors of Ĥ(c,c) lie in the span of the class "
                          "means: their mean squared projection on it exceeds k/d by 4 null SDs (same "
                          "Beta null); measured: (p̄ − k/d)/(4 SD)"},
};

/* ∇ of the data term at one sample, plus ridge: g^c = (π_c − 1{c = y}) Y + β x^c. */
static void sample_grad(size_t d, size_t k, const double *x, const double *Y, uint32_t y, double beta, double *g)
{
    double u[MAXK], um = -INFINITY, z = 0;
    for (size_t c = 0; c < k; c++) um = fmax(um, u[c] = od_dot(d, x + c * d, Y));
    for (size_t c = 0; c < k; c++) z += (u[c] = exp(u[c] - um));
    for (size_t c = 0; c < k; c++) {
        const double coef = u[c] / z - (c == y ? 1.0 : 0.0);
        for (size_t i = 0; i < d; i++) g[c * d + i] = coef * Y[i] + beta * x[c * d + i];
    }
}

/* Alignment of x^c with the top-k eigenspace of the block c of op, and the mean squared projection
 * of those eigenvectors on span{e_1..e_k}. */
static int align(od_spectra_linop *op, size_t d, size_t k, size_t c, const double *x, uint64_t seed,
                 double *a, double *mu_proj)
{
    od_spectra_linop *R = NULL;
    OD_TRY(od_spectra_linop_restrict(op, c * d, (c + 1) * d, &R));
    od_spectra_eigs_params ep = od_spectra_eigs_default_params();
    ep.k = k;
    ep.tol = 1e-8;
    ep.want_vectors = 1;
    ep.seed = seed;
    od_spectra_eigs_result er;
    int st = od_spectra_eigs(R, &ep, &er);
    if (st == OD_OK) {
        double p2 = 0, mp = 0;
        for (size_t j = 0; j < k; j++) {
            const double t = od_dot(d, er.vectors + j * d, x + c * d);
            p2 += t * t;
            for (size_t q = 0; q < k; q++) mp += er.vectors[j * d + q] * er.vectors[j * d + q] / (double)k;
        }
        const double nx = od_nrm2(d, x + c * d);
        *a = nx > 0 ? sqrt(p2) / nx : NAN;
        *mu_proj = mp;
    }
    od_spectra_eigs_result_free(&er);
    od_spectra_linop_free(R);
    return st;
}

static int run(od_run *r)
{
    const size_t d = (size_t)od_run_int(r, "d"), k = (size_t)od_run_int(r, "k"), M = d,
                 T = (size_t)od_run_int(r, "horizon") * d, nrec = (size_t)od_run_int(r, "records");
    const double snr = od_run_num(r, "snr"), beta = od_run_num(r, "ridge"),
                 lr = od_run_num(r, "lr_scale") / (1 + (double)d / snr);
    if (k > d) OD_ERROR("outlier-alignment: k must not exceed d", OD_ERANGE);
    const size_t D = k * d;
    double *x = od_vec_alloc(D), *g = od_vec_alloc(D), *Y = od_vec_alloc(d), *Xt = od_vec_alloc(M * d),
           *Gm = NULL;
    uint32_t *yt = malloc(M * sizeof *yt), y1;
    od_table *t = od_table_alloc("alignment");
    od_figure *f = od_figure_alloc("outlier_alignment", "SGD aligns with the outlier eigenspaces");
    od_problem *test = NULL;
    int st = OD_OK;
    if (!x || !g || !Y || !Xt || !yt || !t || !f) {
        st = od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
        goto done;
    }
    od_spectra_gmm_sample(M, d, k, snr, od_run_seed(r), 2, 0, Xt, yt);
    if ((st = od_spectra_softmax_problem(M, d, k, Xt, yt, beta, &test)) != OD_OK) goto done;
    const char *cols[] = {"step", "align_hessian", "align_g", "align_means", "mu_proj_hessian", "mu_proj_g", "test_loss"};
    for (int c = 0; c < 7; c++) od_table_add_double(t, cols[c], NULL, 0);
    double last_h = NAN, last_g = NAN, last_m = NAN, last_h2 = NAN, last_g2 = NAN, last_p = NAN;
    /* log-spaced recording times from d/10 to T: the burn-in is short (Ben Arous et al.: SGD
     * "rapidly aligns") */
    uint64_t times[MAXREC + 1];
    const size_t t0 = d / 10 > 0 ? d / 10 : 1;
    size_t n_times = 0;
    for (size_t q = 0; q < nrec; q++) {
        const uint64_t tq = (uint64_t)llround((double)t0 * pow((double)T / (double)t0, (double)q / (double)(nrec - 1)));
        if (!n_times || tq > times[n_times - 1]) times[n_times++] = tq;
    }
    size_t rec = 0;
    for (size_t s = 0; s < T && st == OD_OK; s++) {
        od_spectra_gmm_sample(1, d, k, snr, od_run_seed(r), 1, (uint32_t)s, Y, &y1);
        sample_grad(d, k, x, Y, y1, beta, g);
        od_axpy(D, -lr, g, x);
        if (rec < n_times && s + 1 == times[rec]) {
            rec++;
            od_spectra_linop *H = NULL, *G = NULL;
            if ((st = od_spectra_linop_hessian(test, x, &H)) != OD_OK) break;
            Gm = od_vec_alloc(M * D);
            for (size_t i = 0; Gm && i < M; i++) {
                od_problem_sample_grad(test, x, i, Gm + i * D);
                if (beta) od_axpy(D, -beta, x, Gm + i * D);   /* data term only */
            }
            st = Gm ? od_spectra_linop_gram(M, D, Gm, 1, 1.0 / (double)M, &G) : OD_ENOMEM;
            Gm = NULL;
            double ah = 0, ag = 0, am = 0, ah2 = 0, ag2 = 0, ph = 0, pg = 0;
            for (size_t c = 0; c < k && st == OD_OK; c++) {
                double a1, a2, p1, p2;
                if ((st = align(H, d, k, c, x, od_run_seed(r) + c, &a1, &p1)) != OD_OK) break;
                if ((st = align(G, d, k, c, x, od_run_seed(r) + c, &a2, &p2)) != OD_OK) break;
                const double a3 = sqrt(od_dot(k, x + c * d, x + c * d)) / od_nrm2(d, x + c * d);   /* span(μ) = span(e_1..e_k) */
                ah += a1 / (double)k;
                ag += a2 / (double)k;
                ah2 += a1 * a1 / (double)k;
                ag2 += a2 * a2 / (double)k;
                am += a3 / (double)k;
                ph += p1 / (double)k;
                pg += p2 / (double)k;
            }
            double loss = NAN;
            od_problem_loss(test, x, &loss);
            const double row[7] = {(double)(s + 1), ah, ag, am, ph, pg, loss};
            od_table_append(t, row);
            last_h = ah;
            last_g = ag;
            last_m = am;
            last_h2 = ah2;
            last_g2 = ag2;
            last_p = ph;
            od_spectra_linop_free(H);
            od_spectra_linop_free(G);
        }
    }
    if (st != OD_OK) goto done;
    od_table_meta(t, "model", "softmax on a %zu-class Gaussian mixture, d = %zu, snr = %g, ridge = %g; online SGD lr = %.4g; test set M = %zu", k, d, snr, beta, lr, M);
    od_table_meta(t, "columns", "align_hessian / align_g / align_means: mean over classes of ||P x^c|| / ||x^c|| with P the projector on the top-k eigenspace of the class block of H / G, or on the span of the means; mu_proj_*: mean squared projection of the top-k eigenvectors on span(means)");
    if ((st = od_run_table(r, t)) != OD_OK) goto done;
    od_figure_xlabel(f, "SGD step (one fresh sample each)");
    od_figure_ylabel(f, "alignment ‖P xᶜ‖ / ‖xᶜ‖ (mean over classes)");
    od_figure_logx(f, 1);
    od_figure_yrange(f, 0, 1.05);
    od_figure_add(f, &(od_series){.table = t, .x = "step", .y = "align_hessian", .kind = OD_PLOT_LINESPOINTS, .label = "P: top-k eigenspace of Ĥ(c,c)"});
    od_figure_add(f, &(od_series){.table = t, .x = "step", .y = "align_g", .kind = OD_PLOT_LINESPOINTS, .label = "P: top-k eigenspace of Ĝ(c,c)"});
    od_figure_add(f, &(od_series){.table = t, .x = "step", .y = "align_means", .kind = OD_PLOT_LINES, .dash = 2, .label = "P: span of the class means"});
    od_figure_add(f, &(od_series){.table = t, .x = "step", .y = "mu_proj_hessian", .kind = OD_PLOT_LINES, .dash = 3, .label = "Ĥ(c,c) eigenvectors: mean squared projection on the means"});
    od_figure_hline(f, sqrt((double)k / (double)d), "random direction: √(k/d)");
    od_figure_key(f, "center right");
    if ((st = od_run_figure(r, f)) != OD_OK) goto done;
    /* the Beta(k/2, (d − k)/2) null of a random direction's squared projection on a k-space */
    const double kd = (double)k / (double)d, sd0 = sqrt(2.0 * (double)k * (double)(d - k) / ((double)d * (double)d * (double)(d + 2)));
    od_run_claim_ge(r, "above-random", fmin(last_h2, last_g2) - kd, 4 * sd0);
    od_run_claim_ge(r, "outliers-on-means", last_p - kd, 4 * sd0);
    const double sh = sqrt(fmax(0, 1 - last_h * last_h)), sm = sqrt(fmax(0, 1 - last_m * last_m));
    od_run_note(r, "at the end: alignment with Ĥ %.4f, with Ĝ %.4f, with the span of the means %.5f; sines of "
                   "the angles √(1 − A²): %.3f (Ĥ), %.4f (means) = %.2f/√λ and %.2f/√λ.  The rate 1 − A = "
                   "O(λ^−1/2) of the theory sheet is recalled, not verified, and is not asserted",
                last_h, last_g, last_m, sh, sm, sh * sqrt(snr), sm * sqrt(snr));
done:
    od_problem_free(test);
    od_free(x);
    od_free(g);
    od_free(Y);
    od_free(Xt);
    free(yt);
    od_table_free(t);
    od_figure_free(f);
    return st;
}

const od_experiment od_exp_outlier_align = {
    .name = "outlier-alignment",
    .title = "Online SGD aligns with the outlier eigenspaces of the Hessian and G-matrix",
    .reference = "Ben Arous, Gheissari, Huang & Jagannath, High-dimensional SGD aligns with emerging "
                 "outlier eigenspaces, ICLR 2024 (Model 1: k-class Gaussian mixture, softmax); theory "
                 "sheet spectra.md §9",
    .summary = "Online SGD on softmax regression of a k-component Gaussian mixture; at recorded times the "
               "top-k eigenvectors of each class block of the empirical test Hessian and of the gradient "
               "second-moment matrix (Lanczos on block-restricted operators) and the alignment of the "
               "class weights with them.",
    .doc = "docs/experiments/outlier-alignment.md",
    .params = params,
    .n_params = sizeof params / sizeof params[0],
    .claims = claims,
    .n_claims = sizeof claims / sizeof claims[0],
    .run = run,
};
