/* Experiment coherence-map — Dexter et al.'s construction with controllable coherence σ: n = 100
 * samples, H_i = (2n/σ) e_{k(i)} e_{k(i)}ᵀ with the first σ samples sharing e_0 (λ_1(H) = 2 and the
 * coherence measure is σ exactly), SGD without replacement at η = 0.5.  The (σ, B) divergence map
 * (majority vote of runs, ‖w‖² >= 1000 ‖w_0‖² within the horizon) is drawn with the exact mean-square
 * boundary (ρ(T) = 1, from the per-coordinate factors of spectra.md §6.3), the exact almost-sure
 * boundary (top Lyapunov exponent = 0: the coordinates decouple, so λ_L is an expectation over the
 * hypergeometric number of coherent samples in a batch) and the reconstructed sufficient condition
 * η λ_1 > 2Bσ/n.
 *
 * Source: Dexter, Ocejo, Keerthi, Gupta, Acharya & Khanna, "A Precise Characterization of SGD
 * Stability Using Loss Surface Geometry", ICLR 2024 (coherence measure; the synthetic construction
 * and protocol as in the follow-up code changwk1001/Stability_Analysis_and_Simplicity-Bias,
 * coherence_local.py); theory sheet spectra.md §6.3, §6.6.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "experiments/optdyn_experiments.h"
#include "spectra/optdyn_spectra.h"

enum { STREAM_MAP = 31, STREAM_RANDOM = 32 };

static const od_param params[] = {
    {"n", OD_PARAM_INT, 100, OD_SAME, 10, 1000, 0, NULL, NULL, "samples n"},
    {"eta", OD_PARAM_DOUBLE, 0.5, OD_SAME, 1e-3, 0.99, OD_LO_OPEN, NULL, NULL, "learning rate η (λ_1(H) = 2: GD-stable below 1)"},
    {"sigma_max", OD_PARAM_INT, 50, OD_SAME, 2, 1000, 0, NULL, NULL, "largest coherence σ (< n)"},
    {"sigma_step", OD_PARAM_INT, 2, 5, 1, 100, 0, NULL, NULL, "σ grid: 1, 1 + step, ..."},
    {"batch_max", OD_PARAM_INT, 49, OD_SAME, 1, 1000, 0, NULL, NULL, "largest batch size B (<= n)"},
    {"batch_step", OD_PARAM_INT, 2, 5, 1, 100, 0, NULL, NULL, "B grid: 1, 1 + step, ..."},
    {"reps", OD_PARAM_INT, 10, 5, 1, 1000, 0, NULL, NULL, "runs per cell (majority vote)"},
    {"steps", OD_PARAM_INT, 1000, 400, 10, 1e7, 0, NULL, NULL, "steps per run"},
    {"random_sets", OD_PARAM_INT, 200, 60, 0, 1e6, 0, NULL, NULL,
     "random rank-one sets on which the reconstructed condition is tested beyond the construction"},
};

static const od_claim_doc claims[] = {
    {"construction", "for every σ the computed coherence is σ and λ_1(H) = 2, and ρ(T) from the power iteration "
                     "equals the closed form max(f_c, f_u) on the diagonal cells (measured: max relative error; "
                     "<= 1e-9)"},
    {"ms-stable-cells-converge", "no cell with ρ(T) <= 1 diverges by majority vote: there ‖w_t‖² is a "
                                 "supermartingale and Ville's inequality bounds the chance of a run diverging by "
                                 "1/1000 (measured: count)"},
    {"lyapunov-decisive", "every cell whose exact Lyapunov exponent predicts divergence decisively (T λ_L − 4 sd > "
                          "½ ln(1000 r) + ln 100 for one coordinate) diverges by majority (measured: failures)"},
    {"dexter-on-construction", "on the construction the reconstructed condition η λ_1 > 2Bσ/n fires only in "
                               "mean-square-unstable cells (measured: firing cells with ρ <= 1)"},
};

typedef struct {
    size_t n, nsig, nb, reps, steps;
    double eta;
    const size_t *sig, *bat;
    od_spectra_hset **hs;
    uint64_t seed;
} map_cfg;

/* out = {majority diverged, fraction diverged, mean divergence step (NaN if none)} */
static int map_item(size_t i, double *out, void *ws, void *arg)
{
    (void)ws;
    const map_cfg *c = arg;
    const size_t a = i / c->nb, b = i % c->nb;
    od_spectra_stab *st = NULL;
    OD_TRY(od_spectra_stab_alloc(c->hs[a], OD_SPECTRA_SAMPLE_WITHOUT, c->bat[b], &st));
    od_spectra_run_params rp = od_spectra_run_default_params();
    rp.steps = c->steps;
    rp.seed = c->seed;
    rp.stream = STREAM_MAP;
    size_t div = 0;
    double tsum = 0;
    int e = OD_OK;
    for (size_t k = 0; e == OD_OK && k < c->reps; k++) {
        size_t t;
        e = od_spectra_stab_diverges(st, c->eta, &rp, (uint32_t)(i * c->reps + k), &t, NULL);
        if (t) {
            div++;
            tsum += (double)t;
        }
    }
    od_spectra_stab_free(st);
    out[0] = 2 * div > c->reps;
    out[1] = (double)div / (double)c->reps;
    out[2] = div ? tsum / (double)div : NAN;
    return e;
}

/* Exact per-coordinate quantities for (σ, B) without replacement at η: mean-square factors f_c, f_u;
 * Lyapunov exponents λ_c, λ_u of the coordinates and the per-step standard deviations of their log
 * multipliers. */
static void exact_cell(size_t n, size_t sg, size_t B, double eta, double *fc, double *fu, double *lc, double *lu,
                       double *sc, double *su)
{
    const double nn = (double)n, s = (double)sg, b = (double)B, c = 2 * nn * eta / (s * b), p = b / nn;
    *fc = pow(1 - 2 * eta, 2) + 4 * eta * eta * (nn - s) * (nn - b) / (s * b * (nn - 1));
    *fu = 1 - 4 * eta / s + 4 * nn * eta * eta / (s * s * b);
    const double l1 = log(fabs(1 - c));   /* −inf when c = 1: the coordinate is zeroed */
    *lu = p * l1;
    *su = isfinite(l1) ? sqrt(p * (1 - p)) * fabs(l1) : 0;
    double m = 0, m2 = 0;
    for (unsigned h = 0; h <= B && h <= sg; h++) {
        const double ph = gsl_ran_hypergeometric_pdf(h, (unsigned)sg, (unsigned)(n - sg), (unsigned)B);
        if (ph <= 0) continue;
        const double l = log(fabs(1 - c * h));
        m += ph * l;
        m2 += ph * l * l;
    }
    *lc = m;
    *sc = isfinite(m) ? sqrt(fmax(0, m2 - m * m)) : 0;
}

static int validate(const od_params *v)
{
    const long n = od_params_int(v, "n");
    if (od_params_int(v, "sigma_max") >= n) OD_ERROR("sigma_max must be below n", OD_ERANGE);
    if (od_params_int(v, "batch_max") > n) OD_ERROR("batch_max must not exceed n", OD_ERANGE);
    return OD_OK;
}

/* Random rank-one sets (n = 6, d = 4): how often the reconstructed condition fires while ρ(T) < 1. */
static int random_sets(od_run *r, size_t count, size_t *fired, size_t *counter)
{
    *fired = *counter = 0;
    od_stream s;
    od_stream_init(&s, od_run_seed(r), STREAM_RANDOM);
    for (size_t k = 0; k < count; k++) {
        double H[6 * 16], g[4], u[2];
        od_stream_seek(&s, (uint32_t)k, 0);
        for (size_t i = 0; i < 6; i++) {
            od_stream_normals(&s, g, 4);
            od_stream_uniforms(&s, u, 2);
            for (size_t a = 0; a < 16; a++) H[i * 16 + a] = (0.3 + 1.7 * u[0]) * g[a / 4] * g[a % 4];
        }
        const size_t B = 1 + od_stream_below(&s, 6);
        od_spectra_hset *h = NULL;
        od_spectra_stab *st = NULL;
        OD_TRY(od_spectra_hset_dense(6, 4, H, NULL, &h));
        int e = od_spectra_stab_alloc(h, OD_SPECTRA_SAMPLE_WITHOUT, B, &st);
        od_spectra_stab_summary q;
        od_spectra_rho_result rr;
        if (e == OD_OK) e = od_spectra_stab_summarize(st, &q);
        if (e == OD_OK) e = od_spectra_stab_rho(st, q.dexter_lr * (1 + 1e-6), NULL, &rr);
        if (e == OD_OK) {
            (*fired)++;
            *counter += rr.rho < 1;
        }
        od_spectra_stab_free(st);
        od_spectra_hset_free(h);
        OD_TRY(e);
    }
    return OD_OK;
}

static int run(od_run *r)
{
    const size_t n = (size_t)od_run_int(r, "n"), reps = (size_t)od_run_int(r, "reps"), steps = (size_t)od_run_int(r, "steps");
    const double eta = od_run_num(r, "eta");
    size_t sig[1000], bat[1000], ns = 0, nb = 0;
    for (long s = 1; s <= od_run_int(r, "sigma_max"); s += od_run_int(r, "sigma_step")) sig[ns++] = (size_t)s;
    for (long b = 1; b <= od_run_int(r, "batch_max"); b += od_run_int(r, "batch_step")) bat[nb++] = (size_t)b;
    od_spectra_hset **hs = calloc(ns, sizeof *hs);
    double *out = od_vec_alloc(ns * nb * 3), cons_err = 0;
    od_table *tm = od_table_alloc("map"), *tb = od_table_alloc("boundaries"), *td = od_table_alloc("dexter_condition");
    od_figure *f = od_figure_alloc("coherence_map", "Divergence map of SGD on Dexter et al.'s coherence construction");
    int st = (hs && out && tm && tb && td && f) ? OD_OK : OD_ENOMEM;
    /* the construction, one set per σ */
    for (size_t a = 0; st == OD_OK && a < ns; a++) {
        const size_t d = n - sig[a] + 1;
        double *H = calloc(n * d * d, sizeof *H);
        if (!H) {
            st = OD_ENOMEM;
            break;
        }
        for (size_t i = 0; i < n; i++) {
            const size_t k = i < sig[a] ? 0 : i - sig[a] + 1;
            H[i * d * d + k * d + k] = 2.0 * (double)n / (double)sig[a];
        }
        st = od_spectra_hset_dense(n, d, H, NULL, &hs[a]);
        free(H);
        od_spectra_stab *sw = NULL;
        od_spectra_stab_summary q;
        if (st == OD_OK && (st = od_spectra_stab_alloc(hs[a], OD_SPECTRA_SAMPLE_WITHOUT, bat[a < nb ? a : nb - 1], &sw)) == OD_OK &&
            (st = od_spectra_stab_summarize(sw, &q)) == OD_OK) {
            cons_err = fmax(cons_err, fmax(fabs(q.coherence / (double)sig[a] - 1), fabs(q.sharpness / 2 - 1)));
            od_spectra_rho_result rr;   /* the diagonal cell (σ_a, B_a): power iteration against the closed form */
            double fc, fu, lc, lu, sc, su;
            exact_cell(n, sig[a], bat[a < nb ? a : nb - 1], eta, &fc, &fu, &lc, &lu, &sc, &su);
            if ((st = od_spectra_stab_rho(sw, eta, NULL, &rr)) == OD_OK) cons_err = fmax(cons_err, fabs(rr.rho / fmax(fc, fu) - 1));
        }
        od_spectra_stab_free(sw);
    }
    if (st != OD_OK) goto done;
    od_run_claim_le(r, "construction", cons_err, 1e-9);
    /* the map */
    map_cfg mc = {n, ns, nb, reps, steps, eta, sig, bat, hs, od_run_seed(r)};
    if ((st = od_map(ns * nb, 3, out, map_item, NULL, NULL, &mc, od_run_progress_label(r))) != OD_OK) goto done;
    const char *cols[] = {"sigma", "B", "diverged", "fraction_diverged", "mean_divergence_step", "rho", "ms_unstable",
                          "lyapunov", "as_unstable", "dexter_fires"};
    for (int c = 0; c < 10; c++) od_table_add_double(tm, cols[c], NULL, 0);
    size_t ms_bad = 0, ly_fail = 0, ly_decisive = 0, dex_bad = 0, agree_ms = 0, agree_ly = 0;
    /* per σ row, the batch size where the exact prediction changes, at the cell edge between the last
     * unstable and the first stable B (the left edge of the first cell when every B is stable) */
    const double hb = 0.5 * (double)od_run_int(r, "batch_step"), hsg = 0.5 * (double)od_run_int(r, "sigma_step");
    double *bms = od_vec_alloc(ns), *bly = od_vec_alloc(ns);
    for (size_t a = 0; bms && bly && a < ns; a++) {
        bms[a] = bly[a] = (double)bat[0] - hb;
        for (size_t b = 0; b < nb; b++) {
            const double *o = out + 3 * (a * nb + b);
            double fc, fu, lc, lu, sc, su;
            exact_cell(n, sig[a], bat[b], eta, &fc, &fu, &lc, &lu, &sc, &su);
            const double rho = fmax(fc, fu), lam = fmax(lc, lu);
            const int msu = rho > 1, asu = lam > 0, dex = eta * 2 > 2.0 * (double)bat[b] * (double)sig[a] / (double)n;
            if (msu) bms[a] = (double)bat[b] + hb;
            if (asu) bly[a] = (double)bat[b] + hb;
            ms_bad += !msu && o[0] > 0;
            dex_bad += dex && !msu;
            agree_ms += msu == (o[0] > 0);
            agree_ly += asu == (o[0] > 0);
            const double T = (double)steps, need = 0.5 * log(1000 * (double)(n - sig[a] + 1)) + log(100.0);
            const int decisive = (isfinite(lc) && T * lc - 4 * sqrt(T) * sc > need) || (isfinite(lu) && T * lu - 4 * sqrt(T) * su > need);
            ly_decisive += decisive;
            ly_fail += decisive && !(o[0] > 0);
            const double row[10] = {(double)sig[a], (double)bat[b], o[0], o[1], o[2], rho, msu, lam, asu, dex};
            od_table_append(tm, row);
        }
    }
    od_table_meta(tm, "construction", "n = %zu, H_i = (2n/sigma) e_k e_k^T, first sigma samples share e_0; SGD without replacement, eta = %g", n, eta);
    od_table_meta(tm, "protocol", "%zu runs per cell of %zu steps, w_0 ~ U[0,1]^d, diverged when |w|^2 >= 1000 |w_0|^2; majority vote", reps, steps);
    /* the boundaries as staircases along the cell edges: (B, σ − hsg), (B, σ + hsg) per σ row */
    const char *bcols[] = {"sigma", "B_mean_square", "B_lyapunov"};
    for (int c = 0; c < 3; c++) od_table_add_double(tb, bcols[c], NULL, 0);
    for (size_t a = 0; bms && bly && a < ns; a++)
        for (int k = 0; k < 2; k++) {
            const double row[3] = {(double)sig[a] + (k ? hsg : -hsg), bms[a], bly[a]};
            od_table_append(tb, row);
        }
    od_table_meta(tb, "what", "per sigma row (cell edges sigma -/+ step/2): the batch size where the exact mean-square / "
                              "almost-sure prediction changes from unstable to stable, at the cell edge");
    od_free(bms);
    od_free(bly);
    /* the reconstructed condition fires for B sigma < n eta lambda_1/2 (lambda_1 = 2): a hyperbola */
    double sc[200], bc[200];
    for (int k = 0; k < 200; k++) {
        sc[k] = 0.5 + ((double)sig[ns - 1] + hsg - 0.5) * (double)k / 199.0;
        bc[k] = (double)n * eta / sc[k];
    }
    od_table_add_double(td, "sigma", sc, 200);
    od_table_add_double(td, "B", bc, 200);
    od_table_meta(td, "what", "B sigma = n eta lambda_1 / 2: the reconstructed sufficient condition for instability fires left of it");
    const double cells = (double)(ns * nb);
    od_run_claim_check(r, "ms-stable-cells-converge", ms_bad == 0, (double)ms_bad, 0, "count = 0");
    od_run_claim_check(r, "lyapunov-decisive", ly_fail == 0, (double)ly_fail, 0, "failures = 0");
    od_run_claim_check(r, "dexter-on-construction", dex_bad == 0, (double)dex_bad, 0, "count = 0");
    od_run_note(r, "the map agrees with the exact almost-sure (Lyapunov) prediction in %.1f%% of %g cells and with the "
                   "mean-square prediction in %.1f%%; %zu cells were decisive for the Lyapunov claim",
                100 * (double)agree_ly / cells, cells, 100 * (double)agree_ms / cells, ly_decisive);
    size_t fired = 0, counter = 0;
    if ((st = random_sets(r, (size_t)od_run_int(r, "random_sets"), &fired, &counter)) != OD_OK) goto done;
    if (fired)
        od_run_note(r, "beyond the construction the reconstructed condition η λ_1 > 2Bσ/n is not a sufficient condition: on "
                       "%zu random rank-one sets (n = 6, d = 4, without replacement) ρ(T) < 1 just above it in %zu (%.1f%%)",
                    fired, counter, 100.0 * (double)counter / (double)fired);
    if ((st = od_run_table(r, tm)) != OD_OK || (st = od_run_table(r, tb)) != OD_OK || (st = od_run_table(r, td)) != OD_OK) goto done;
    od_figure_title(f, "fraction of the runs that diverged per cell (a cell diverges by majority above 0.5), with the predicted boundaries");
    od_figure_size(f, 1000, 800);
    od_figure_xlabel(f, "batch size B");
    od_figure_ylabel(f, "coherence σ");
    od_figure_add(f, &(od_series){.table = tm, .x = "B", .y = "sigma", .z = "fraction_diverged", .kind = OD_PLOT_HEATMAP});
    od_figure_zrange(f, 0, 1);
    od_figure_add(f, &(od_series){.table = tb, .x = "B_mean_square", .y = "sigma", .kind = OD_PLOT_LINES, .width = 2.5,
                                  .label = "mean square: ρ(T) = 1 (exact; unstable left of it)", .color = 2});
    od_figure_add(f, &(od_series){.table = tb, .x = "B_lyapunov", .y = "sigma", .kind = OD_PLOT_LINES, .width = 2.5, .dash = 2,
                                  .label = "almost sure: λ_L = 0 (exact; unstable left of it)", .color = 3});
    od_figure_add(f, &(od_series){.table = td, .x = "B", .y = "sigma", .kind = OD_PLOT_LINES, .width = 2.5, .dash = 3,
                                  .label = "Bσ = nηλ₁/2 (reconstructed condition fires left of it)", .color = 1});
    od_figure_xrange(f, (double)bat[0] - hb, (double)bat[nb - 1] + hb);
    od_figure_yrange(f, (double)sig[0] - hsg, (double)sig[ns - 1] + hsg);
    od_figure_key(f, "below");
    st = od_run_figure(r, f);
done:
    for (size_t a = 0; hs && a < ns; a++) od_spectra_hset_free(hs[a]);
    free(hs);
    od_free(out);
    od_table_free(tm);
    od_table_free(tb);
    od_table_free(td);
    od_figure_free(f);
    return st;
}

const od_experiment od_exp_coherence_map = {
    .name = "coherence-map",
    .title = "Coherence map: SGD divergence over (σ, B) against the mean-square and almost-sure boundaries",
    .reference = "Dexter, Ocejo, Keerthi, Gupta, Acharya & Khanna, A Precise Characterization of SGD Stability Using "
                 "Loss Surface Geometry, ICLR 2024 (coherence measure, synthetic construction); theory sheet "
                 "spectra.md §6.3, §6.6",
    .summary = "Per-sample Hessians with controllable coherence σ (n = 100, λ_1(H) = 2) and SGD without replacement at "
               "η = 0.5: the majority-vote divergence map over (σ, B) with the exact mean-square boundary, the exact "
               "Lyapunov (almost-sure) boundary and the reconstructed sufficient condition ηλ_1 > 2Bσ/n, which is "
               "also tested on random rank-one sets.",
    .doc = "docs/experiments/coherence-map.md",
    .params = params,
    .n_params = sizeof params / sizeof params[0],
    .claims = claims,
    .n_claims = sizeof claims / sizeof claims[0],
    .validate = validate,
    .run = run,
};
