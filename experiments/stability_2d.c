/* Experiment stability-2d — mean-square and almost-sure stability of linearised SGD at a minimum on a
 * small hand-built set of per-sample Hessians (n = 4, d = 2): ρ(T_η) across η for the three sampling
 * schemes and several batch sizes, the threshold η* (ρ = 1) with the GD limit, the one-step bound of
 * Wu, Ma & E below it, Monte Carlo E‖x_t‖² against the exact recursion at short horizons, and the top
 * Lyapunov exponent against ½ log ρ(T) with the almost-sure boundary beyond the mean-square one.
 *
 * Sources: the second-moment recursion of linearised SGD (Wu, Ma & E, NeurIPS 2018, §3; Mulayoff &
 * Michaeli, "Exact Mean Square Linear Stability Analysis for SGD", 2023); the three sampling schemes and
 * the mean-square/almost-sure distinction as in theory sheet spectra.md §6.1, §6.6.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiments/optdyn_experiments.h"
#include "spectra/optdyn_spectra.h"

enum { MAX_B = 6, STREAM_MC = 21, STREAM_LYAP = 22 };

static const od_param params[] = {
    {"hessians", OD_PARAM_STRING, 0, OD_SAME, 0, 0, 0, NULL, "",
     "Hessian file (format of optdyn stability); empty: the built-in 2-D set of 4 samples"},
    {"batches", OD_PARAM_STRING, 0, OD_SAME, 0, 0, 0, NULL, "1|2|3", "batch sizes B (at most 6)"},
    {"grid", OD_PARAM_INT, 120, 60, 10, 10000, 0, NULL, NULL, "η points of the ρ(η) curves on (0, 1.25·2/λ_max]"},
    {"mc_paths", OD_PARAM_INT, 40000, 8000, 100, 1e8, 0, NULL, NULL, "Monte Carlo paths for E‖x_t‖²"},
    {"mc_steps", OD_PARAM_INT, 10, OD_SAME, 1, 40, 0, NULL, NULL, "short horizon t of the Monte Carlo check"},
    {"lyap_steps", OD_PARAM_INT, 4000, 1500, 100, 1e8, 0, NULL, NULL, "steps per Lyapunov run"},
    {"lyap_paths", OD_PARAM_INT, 32, 16, 2, 1e6, 0, NULL, NULL, "Lyapunov runs per η"},
    {"lyap_grid", OD_PARAM_INT, 24, 12, 3, 1000, 0, NULL, NULL, "η points of the Lyapunov curves on [0.25, 3]·η*"},
};

static const od_claim_doc claims[] = {
    {"threshold-rho-one", "at every η* found (3 schemes × batches) ρ(T_η*) = 1 within 1e-8 (bisection to 1e-10 "
                          "relative in η; measured: max |ρ − 1|)"},
    {"gd-limit", "B = n without replacement: η* = 2/λ_max within 1e-9 relative"},
    {"bounds-order", "η_WME <= η* <= 2/λ_max for every scheme and batch (measured: max of η_WME/η* and η* λ_max/2; "
                     "<= 1 + 1e-9)"},
    {"mc-short-horizon", "Monte Carlo mean of ‖x_t‖² within 4 SE of tr T^t(x₀x₀ᵀ) for t <= mc_steps at 0.8η* and "
                         "1.1η* (with replacement, B = 1; measured: max |z|)"},
    {"lyapunov-jensen", "the top Lyapunov exponent never exceeds ½ log ρ(T_η) by more than 4 SE (measured: max z)"},
    {"as-beyond-ms", "the almost-sure boundary (λ_L = 0, interpolated on the grid) lies at or beyond η* for each "
                     "scheme at B = 1 (measured: min η_as/η*)"},
};

/* The built-in set: two full-rank and two rank-one PSD matrices. */
static const double builtin[4 * 4] = {
    2.9, 0.4, 0.4, 0.3,              /* H_1 */
    0.1225, 0.56, 0.56, 2.56,        /* g gᵀ, g = (0.35, 1.6) */
    0.15, 0.0, 0.0, 2.2,             /* H_3 */
    1.44, -1.08, -1.08, 0.81,        /* g gᵀ, g = (1.2, −0.9) */
};

typedef struct {
    od_spectra_stab *st;
    double eta;
    const double *x0;
    size_t r, steps;
    uint64_t seed;
} mc_cfg;

typedef struct {
    double *x, *w;
    uint32_t *idx;
    od_spectra_batcher *b;
} mc_ws;

static void *mc_alloc(void *arg)
{
    const mc_cfg *c = arg;
    const od_spectra_hset *h = od_spectra_stab_hset(c->st);
    mc_ws *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->x = od_vec_alloc(c->r);
    w->w = od_vec_alloc(c->r);
    w->idx = malloc((h->n + od_spectra_stab_batch(c->st)) * sizeof *w->idx);
    od_spectra_batcher_alloc(od_spectra_stab_sampling(c->st), h->n, od_spectra_stab_batch(c->st), &w->b);
    return w;
}

static void mc_free(void *ws, void *arg)
{
    (void)arg;
    mc_ws *w = ws;
    if (!w) return;
    od_free(w->x);
    od_free(w->w);
    free(w->idx);
    od_spectra_batcher_free(w->b);
    free(w);
}

/* obs[t] = ‖x_t‖², t = 0..steps, from the fixed x0. */
static int mc_path(uint32_t path, double *obs, void *ws, void *arg)
{
    const mc_cfg *c = arg;
    mc_ws *w = ws;
    if (!w || !w->b || !w->idx || !w->x) return -OD_ENOMEM;
    od_stream s;
    od_stream_init(&s, c->seed, STREAM_MC);
    od_copy(c->r, c->x0, w->x);
    od_spectra_batcher_reset(w->b);
    obs[0] = od_dot(c->r, w->x, w->x);
    for (size_t t = 1; t <= c->steps; t++) {
        od_stream_seek(&s, path, (uint32_t)t);
        const size_t m = od_spectra_batch_draw(w->b, &s, w->idx);
        od_spectra_stab_step(c->st, c->eta, w->idx, m, w->x, w->x, w->w);
        obs[t] = od_dot(c->r, w->x, w->x);
    }
    return 0;
}

typedef struct {
    const od_spectra_hset *h;
    const double *eta;
    size_t G;
    const double *bl;
    size_t nb;
} curve_cfg;

/* Item (s, b): ρ(T_η) along the η grid for scheme s and batch bl[b]. */
static int curve_item(size_t i, double *out, void *ws, void *arg)
{
    (void)ws;
    const curve_cfg *c = arg;
    od_spectra_stab *st = NULL;
    OD_TRY(od_spectra_stab_alloc(c->h, (od_spectra_sampling)(i / c->nb), (size_t)c->bl[i % c->nb], &st));
    int e = OD_OK;
    for (size_t j = 0; e == OD_OK && j < c->G; j++) {
        od_spectra_rho_result rr;
        e = od_spectra_stab_rho(st, c->eta[j], NULL, &rr);
        out[j] = rr.rho;
    }
    od_spectra_stab_free(st);
    return e;
}

typedef struct {
    const od_spectra_hset *h;
    double B, eta_star[3];
    size_t LG;
    const od_spectra_run_params *lp;
} lyap_cfg;

/* The Lyapunov grid: η/η* from 0.25 to 3. */
static double lyap_factor(size_t j, size_t LG) { return 0.25 + 2.75 * (double)j / (double)(LG - 1); }

/* Item (j, s): {λ_L, its SE, ½ log ρ(T), zeroed paths} at η = lyap_factor(j) η*_s, batch B. */
static int lyap_item(size_t i, double *out, void *ws, void *arg)
{
    (void)ws;
    const lyap_cfg *c = arg;
    const size_t j = i / 3, s = i % 3;
    const double eta = lyap_factor(j, c->LG) * c->eta_star[s];
    od_spectra_stab *st = NULL;
    OD_TRY(od_spectra_stab_alloc(c->h, (od_spectra_sampling)s, (size_t)c->B, &st));
    od_spectra_lyap_result ly;
    od_spectra_rho_result rr;
    int e = od_spectra_stab_lyapunov(st, eta, c->lp, &ly);
    if (e == OD_OK) e = od_spectra_stab_rho(st, eta, NULL, &rr);
    if (e == OD_OK) {
        out[0] = ly.mean;
        out[1] = ly.se;
        out[2] = 0.5 * log(rr.rho);
        out[3] = (double)ly.zeroed;
    }
    od_spectra_stab_free(st);
    return e;
}

static int validate(const od_params *v)
{
    double b[MAX_B];
    size_t nb;
    OD_TRY(od_parse_doubles(od_params_str(v, "batches"), '|', b, MAX_B, &nb, "batches"));
    for (size_t i = 0; i < nb; i++)
        if (!(b[i] >= 1) || b[i] != floor(b[i])) OD_ERRORF(OD_ERANGE, "batches: %g is not a positive integer", b[i]);
    return OD_OK;
}

static const char *const sname[3] = {"replacement", "without", "bernoulli"};

static int run(od_run *r)
{
    od_spectra_hset *h = NULL;
    const char *hf = od_run_str(r, "hessians");
    OD_TRY(*hf ? od_spectra_hset_read(hf, NULL, &h) : od_spectra_hset_dense(4, 2, builtin, NULL, &h));
    double bl[MAX_B];
    size_t nb;
    od_parse_doubles(od_run_str(r, "batches"), '|', bl, MAX_B, &nb, "batches");
    for (size_t i = 0; i < nb; i++)
        if ((size_t)bl[i] > h->n) {
            od_spectra_hset_free(h);
            OD_ERRORF(OD_ERANGE, "batches: B = %g exceeds n = %zu", bl[i], h->n);
        }
    const size_t r_ = h->r, G = (size_t)od_run_int(r, "grid");
    od_table *tt = od_table_alloc("thresholds"), *tc = od_table_alloc("rho_curves"), *tm = od_table_alloc("mc_vs_exact"),
             *tly = od_table_alloc("lyapunov");
    od_figure *f = od_figure_alloc("stability_2d", "Stability of linearised SGD at a minimum (2-D, 4 samples)");
    od_spectra_stab *sw[3][MAX_B] = {{0}};
    od_ensemble_result er = {0};
    int st = (tt && tc && tm && tly && f) ? OD_OK : OD_ENOMEM;
    double eta_star[3][MAX_B], max_rho_err = 0, max_order = 0, lam1 = 0;
    const char *tcols[] = {"scheme", "B", "eta_star", "crossings", "rho_at_eta_star", "wme_lr", "gd_threshold", "dexter_lr"};
    for (int c = 1; c < 8; c++) od_table_add_double(tt, tcols[c], NULL, 0);
    const char **snames = calloc(3 * (MAX_B + 1), sizeof *snames);
    size_t nrows = 0;
    for (int s = 0; st == OD_OK && s < 3; s++)
        for (size_t b = 0; st == OD_OK && b < nb; b++) {
            if ((st = od_spectra_stab_alloc(h, (od_spectra_sampling)s, (size_t)bl[b], &sw[s][b])) != OD_OK) break;
            od_spectra_threshold_result tr;
            od_spectra_stab_summary q;
            od_spectra_rho_result rr;
            if ((st = od_spectra_stab_summarize(sw[s][b], &q)) != OD_OK || (st = od_spectra_stab_threshold(sw[s][b], NULL, &tr)) != OD_OK ||
                (st = od_spectra_stab_rho(sw[s][b], tr.eta, NULL, &rr)) != OD_OK)
                break;
            lam1 = q.sharpness;
            eta_star[s][b] = tr.eta;
            max_rho_err = fmax(max_rho_err, fabs(rr.rho - 1));
            max_order = fmax(max_order, fmax(q.wme_lr / tr.eta, tr.eta / q.gd_threshold));
            if (tr.n_cross > 1) od_run_note(r, "%s, B = %g: %zu crossings of ρ = 1 on the grid", sname[s], bl[b], tr.n_cross);
            const double row[7] = {bl[b], tr.eta, (double)tr.n_cross, rr.rho, q.wme_lr, q.gd_threshold, q.dexter_lr};
            od_table_append(tt, row);
            snames[nrows++] = sname[s];
        }
    /* the GD limit: B = n without replacement */
    double gd_err = NAN;
    if (st == OD_OK) {
        od_spectra_stab *g = NULL;
        od_spectra_threshold_result tr;
        if ((st = od_spectra_stab_alloc(h, OD_SPECTRA_SAMPLE_WITHOUT, h->n, &g)) == OD_OK && (st = od_spectra_stab_threshold(g, NULL, &tr)) == OD_OK)
            gd_err = fabs(tr.eta * lam1 / 2 - 1);
        od_spectra_stab_free(g);
    }
    if (st != OD_OK) goto done;
    od_table_add_string(tt, "scheme", snames, nrows);
    od_table_meta(tt, "hessians", "%s", h->label);
    od_run_claim_le(r, "threshold-rho-one", max_rho_err, 1e-8);
    od_run_claim_le(r, "gd-limit", gd_err, 1e-9);
    od_run_claim_le(r, "bounds-order", max_order, 1 + 1e-9);
    /* ρ(η) curves: one od_map item per (scheme, batch), each with its own workspace (the power
     * iteration warm-starts from the previous η of the same curve, so the bytes do not depend on the
     * thread count) */
    {
        double *ev = od_vec_alloc(G), *curves = od_vec_alloc(3 * nb * G);
        for (size_t j = 0; ev && j < G; j++) ev[j] = 1.25 * (2 / lam1) * (double)(j + 1) / (double)G;
        curve_cfg cc = {h, ev, G, bl, nb};
        st = ev && curves ? od_map(3 * nb, G, curves, curve_item, NULL, NULL, &cc, od_run_progress_label(r)) : OD_ENOMEM;
        if (st == OD_OK) od_table_add_double(tc, "eta", ev, G);
        for (int s = 0; st == OD_OK && s < 3; s++)
            for (size_t b = 0; b < nb; b++) {
                char c[48];
                snprintf(c, sizeof c, "rho_%s_B%g", sname[s], bl[b]);
                od_table_add_double(tc, c, curves + ((size_t)s * nb + b) * G, G);
            }
        od_table_meta(tc, "what", "spectral radius of the second-moment map T on W, power iteration");
        od_free(ev);
        od_free(curves);
    }
    /* Monte Carlo vs the exact recursion at short horizons (with replacement, B = bl[0]) */
    const size_t T = (size_t)od_run_int(r, "mc_steps");
    double x0[64] = {0}, zmax = 0;
    for (size_t a = 0; a < r_ && a < 64; a++) x0[a] = 0.83 - 0.61 * (double)a;
    od_table_add_double(tm, "t", NULL, 0);
    const char *mcols[] = {"mc_low", "mc_low_se", "exact_low", "mc_high", "mc_high_se", "exact_high"};
    for (int c = 0; c < 6; c++) od_table_add_double(tm, mcols[c], NULL, 0);
    double *X = od_vec_alloc(r_ * r_), *Y = od_vec_alloc(r_ * r_), *rows = od_vec_alloc((T + 1) * 7);
    const double fac[2] = {0.8, 1.1};
    for (int k = 0; st == OD_OK && k < 2; k++) {
        mc_cfg c = {sw[0][0], fac[k] * eta_star[0][0], x0, r_, T, od_run_seed(r)};
        od_ensemble_params ep = {.n_paths = (size_t)od_run_int(r, "mc_paths"), .n_times = T + 1, .n_obs = 1,
                                 .ws_alloc = mc_alloc, .ws_free = mc_free, .label = od_run_progress_label(r)};
        od_ensemble_result_free(&er);
        if ((st = od_ensemble_run(&ep, mc_path, &c, &er)) != OD_OK) break;
        for (size_t a = 0; a < r_; a++)
            for (size_t b = 0; b < r_; b++) X[a * r_ + b] = x0[a] * x0[b];
        for (size_t t = 0; t <= T; t++) {
            double ex = 0;
            for (size_t a = 0; a < r_; a++) ex += X[a * r_ + a];
            rows[t * 7] = (double)t;
            rows[t * 7 + 1 + 3 * k] = er.mean[t];
            rows[t * 7 + 2 + 3 * k] = er.se[t];
            rows[t * 7 + 3 + 3 * k] = ex;
            if (t > 0) zmax = fmax(zmax, fabs(er.mean[t] - ex) / er.se[t]);
            od_spectra_stab_apply(sw[0][0], c.eta, X, Y);
            od_copy(r_ * r_, Y, X);
        }
    }
    for (size_t t = 0; st == OD_OK && t <= T; t++) od_table_append(tm, rows + t * 7);
    od_table_meta(tm, "what", "E|x_t|^2 from x0, with replacement, B = %g: low = 0.8 eta*, high = 1.1 eta* (eta* = %.10g)", bl[0], eta_star[0][0]);
    od_free(X);
    od_free(Y);
    od_free(rows);
    if (st != OD_OK) goto done;
    od_run_claim_le(r, "mc-short-horizon", zmax, 4.0);
    /* Lyapunov exponents for each scheme at B = bl[0] */
    const size_t LG = (size_t)od_run_int(r, "lyap_grid");
    od_spectra_run_params lp = od_spectra_run_default_params();
    lp.steps = (size_t)od_run_int(r, "lyap_steps");
    lp.paths = (size_t)od_run_int(r, "lyap_paths");
    lp.burn_in = lp.steps / 10;
    lp.seed = od_run_seed(r);
    lp.stream = STREAM_LYAP;
    lp.uniform_start = 0;
    double zj = -INFINITY, as_ratio = INFINITY;
    od_table_add_double(tly, "eta_over_eta_star", NULL, 0);
    for (int s = 0; s < 3; s++) {
        char c[3][48];
        snprintf(c[0], sizeof c[0], "lyap_%s", sname[s]);
        snprintf(c[1], sizeof c[1], "lyap_%s_se", sname[s]);
        snprintf(c[2], sizeof c[2], "half_log_rho_%s", sname[s]);
        for (int k = 0; k < 3; k++) od_table_add_double(tly, c[k], NULL, 0);
    }
    /* one od_map item per (η point, scheme): λ_L ± SE, ½ log ρ(T), zeroed paths */
    double *ly = od_vec_alloc(LG * 3 * 4), *lrow = od_vec_alloc(10 * LG), prev[3] = {NAN, NAN, NAN}, eprev = 0,
           eas[3] = {INFINITY, INFINITY, INFINITY};
    lyap_cfg lc = {.h = h, .B = bl[0], .eta_star = {eta_star[0][0], eta_star[1][0], eta_star[2][0]}, .LG = LG, .lp = &lp};
    st = ly && lrow ? od_map(LG * 3, 4, ly, lyap_item, NULL, NULL, &lc, od_run_progress_label(r)) : OD_ENOMEM;
    for (size_t j = 0; st == OD_OK && j < LG; j++) {
        const double fj = lyap_factor(j, LG);
        lrow[j * 10] = fj;
        for (int s = 0; s < 3; s++) {
            const double *o = ly + (j * 3 + (size_t)s) * 4;
            lrow[j * 10 + 1 + 3 * s] = o[0];
            lrow[j * 10 + 2 + 3 * s] = o[1];
            lrow[j * 10 + 3 + 3 * s] = o[2];
            if (o[3] > 0) od_run_note(r, "%s, η = %.4g: %g of %zu Lyapunov paths were zeroed exactly (I − ηĤ singular)", sname[s],
                                      fj * eta_star[s][0], o[3], lp.paths);
            if (isfinite(o[0]) && o[1] > 0) zj = fmax(zj, (o[0] - o[2]) / o[1]);
            if (j > 0 && isinf(eas[s]) && prev[s] <= 0 && o[0] > 0)   /* first sign change, interpolated */
                eas[s] = eprev + (fj - eprev) * (0 - prev[s]) / (o[0] - prev[s]);
            prev[s] = o[0];
        }
        eprev = fj;
        od_table_append(tly, lrow + j * 10);
    }
    od_free(ly);
    od_free(lrow);
    if (st != OD_OK) goto done;
    for (int s = 0; s < 3; s++) {
        as_ratio = fmin(as_ratio, isinf(eas[s]) ? 3.0 : eas[s]);
        od_run_note(r, "%s, B = %g: mean-square η* = %.6g; almost-sure boundary %s%.4g η*", sname[s], bl[0], eta_star[s][0],
                    isinf(eas[s]) ? "beyond " : "at ", isinf(eas[s]) ? 3.0 : eas[s]);
    }
    od_table_meta(tly, "what", "top Lyapunov exponent on W (mean ± SE over %zu runs of %zu steps, burn-in %zu) and 1/2 log rho(T)", lp.paths, lp.steps, lp.burn_in);
    od_run_claim_le(r, "lyapunov-jensen", zj, 4.0);
    od_run_claim_ge(r, "as-beyond-ms", as_ratio, 1.0);
    if ((st = od_run_table(r, tt)) != OD_OK || (st = od_run_table(r, tc)) != OD_OK || (st = od_run_table(r, tm)) != OD_OK ||
        (st = od_run_table(r, tly)) != OD_OK)
        goto done;
    /* figure */
    od_figure_layout(f, 2, 2);
    od_figure_size(f, 1400, 1000);
    od_figure_title(f, "ρ(T_η): mean-square stable where ρ < 1");
    od_figure_xlabel(f, "learning rate η");
    od_figure_ylabel(f, "spectral radius ρ(T_η)");
    for (int s = 0; s < 3; s++)
        for (size_t b = 0; b < nb && b < 2; b++) {
            char c[48], lab[64];
            snprintf(c, sizeof c, "rho_%s_B%g", sname[s], bl[b]);
            snprintf(lab, sizeof lab, "%s, B = %g%s", sname[s], bl[b], s == 0 && bl[b] == 1 ? " (= without)" : "");
            od_figure_add(f, &(od_series){.table = tc, .x = "eta", .y = c, .kind = OD_PLOT_LINES, .label = lab, .color = s + 1, .dash = b ? 2 : 0});
        }
    od_figure_hline(f, 1, "ρ = 1");
    od_figure_vline(f, 2 / lam1, "2/λ_max");
    od_figure_yrange(f, 0, 2);
    od_figure_key(f, "top left");
    od_figure_next_panel(f, "η* against B (grid + bisection)");
    od_figure_xlabel(f, "batch size B");
    od_figure_ylabel(f, "threshold η*");
    od_table *tb = od_table_alloc("threshold_by_batch");
    if (tb) {
        od_table_add_double(tb, "B", bl, nb);
        for (int s = 0; s < 3; s++) {
            double col[MAX_B];
            for (size_t b = 0; b < nb; b++) col[b] = eta_star[s][b];
            od_table_add_double(tb, sname[s], col, nb);
        }
        if ((st = od_run_table(r, tb)) == OD_OK)
            for (int s = 0; s < 3; s++)
                od_figure_add(f, &(od_series){.table = tb, .x = "B", .y = sname[s], .kind = OD_PLOT_LINESPOINTS, .label = sname[s], .color = s + 1});
        od_table_free(tb);
    }
    od_figure_hline(f, 2 / lam1, "2/λ_max (GD)");
    od_figure_yrange(f, 0, 1.1 * 2 / lam1);
    od_figure_key(f, "bottom right");
    od_figure_next_panel(f, "E‖x_t‖²: Monte Carlo (±2 SE) and the exact recursion");
    od_figure_xlabel(f, "step t");
    od_figure_ylabel(f, "E‖x_t‖² (log scale)");
    od_figure_logy(f, 1);
    od_figure_add(f, &(od_series){.table = tm, .x = "t", .y = "mc_low", .err = "mc_low_se", .kind = OD_PLOT_ERRORBARS, .label = "MC, η = 0.8η*", .color = 1});
    od_figure_add(f, &(od_series){.table = tm, .x = "t", .y = "exact_low", .kind = OD_PLOT_LINES, .label = "exact tr Tᵗ(x₀x₀ᵀ)", .color = 1, .dash = 2});
    od_figure_add(f, &(od_series){.table = tm, .x = "t", .y = "mc_high", .err = "mc_high_se", .kind = OD_PLOT_ERRORBARS, .label = "MC, η = 1.1η*", .color = 2});
    od_figure_add(f, &(od_series){.table = tm, .x = "t", .y = "exact_high", .kind = OD_PLOT_LINES, .label = "exact", .color = 2, .dash = 2});
    od_figure_key(f, "bottom left");
    od_figure_next_panel(f, "top Lyapunov exponent (±2 SE) and ½ log ρ(T)");
    od_figure_xlabel(f, "η / η* (mean-square threshold of each scheme, B = 1)");
    od_figure_ylabel(f, "exponent per step");
    for (int s = 0; s < 3; s++) {
        char c[3][48], lab[64];
        snprintf(c[0], sizeof c[0], "lyap_%s", sname[s]);
        snprintf(c[1], sizeof c[1], "lyap_%s_se", sname[s]);
        snprintf(c[2], sizeof c[2], "half_log_rho_%s", sname[s]);
        snprintf(lab, sizeof lab, "λ_L, %s%s", sname[s], s == 0 ? " (= without at B = 1)" : "");
        od_figure_add(f, &(od_series){.table = tly, .x = "eta_over_eta_star", .y = c[0], .err = c[1], .kind = OD_PLOT_ERRORBARS, .label = lab, .color = s + 1});
        od_figure_add(f, &(od_series){.table = tly, .x = "eta_over_eta_star", .y = c[2], .kind = OD_PLOT_LINES, .color = s + 1, .dash = 2,
                                      .label = s == 0 ? "½ log ρ(T) (dashed, one per scheme)" : NULL});
    }
    od_figure_hline(f, 0, NULL);
    od_figure_vline(f, 1, "η*");
    od_figure_key(f, "top left");
    if (st == OD_OK) st = od_run_figure(r, f);
done:
    for (int s = 0; s < 3; s++)
        for (size_t b = 0; b < MAX_B; b++) od_spectra_stab_free(sw[s][b]);
    od_ensemble_result_free(&er);
    free(snames);
    od_table_free(tt);
    od_table_free(tc);
    od_table_free(tm);
    od_table_free(tly);
    od_figure_free(f);
    od_spectra_hset_free(h);
    return st;
}

const od_experiment od_exp_stability_2d = {
    .name = "stability-2d",
    .title = "Mean-square and almost-sure stability of linearised SGD on a 2-D set of per-sample Hessians",
    .reference = "Wu, Ma & E, How SGD Selects the Global Minima in Over-parameterized Learning, NeurIPS 2018 (§3, the "
                 "second-moment recursion); Mulayoff & Michaeli, Exact Mean Square Linear Stability Analysis for SGD, "
                 "2023; theory sheet spectra.md §6.1, §6.6",
    .summary = "A hand-built set of 4 per-sample Hessians in 2-D: ρ(T_η) across η for sampling with and without "
               "replacement and Bernoulli sampling at several batch sizes; η* by grid + bisection, the GD limit, "
               "the one-step bound of Wu, Ma & E (never the boundary); Monte Carlo E‖x_t‖² against the exact "
               "recursion at short horizons; the top Lyapunov exponent from renormalised runs against ½ log ρ(T), "
               "with the almost-sure boundary beyond the mean-square one.",
    .doc = "docs/experiments/stability-2d.md",
    .params = params,
    .n_params = sizeof params / sizeof params[0],
    .claims = claims,
    .n_claims = sizeof claims / sizeof claims[0],
    .validate = validate,
    .run = run,
};
