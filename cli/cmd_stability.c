/* optdyn cli — `optdyn stability`: mean-square stability of linearised SGD at a minimum from
 * per-sample Hessians (a file or a problem), for one sampling scheme and batch size: ρ(T) at a
 * learning rate or the threshold η*, with sharpness, coherence, non-uniformity, the one-step bound
 * and optionally the top Lyapunov exponent (theory sheet spectra.md §6; issue 5).  Every input is
 * checked before any work; bad input prints one line and exits 2 with nothing written. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "spectra/optdyn_spectra.h"

#define CMD "stability"

typedef struct {
    const char *hessians, *model, *sampling;
    long batch, lyapunov, paths, grid, curve;
    double lr;
    int threshold, dense;
    od_cli_common c;
} stab_opts;

typedef struct {
    od_spectra_stab_summary q;
    double rho, rho_lo, rho_hi, eta_star;
    od_spectra_threshold_result tr;
    od_spectra_lyap_result ly;
    uint64_t applications;
    od_table *curve;
} stab_out;

static int usage_error(int st) { return st == OD_ENOMEM || st == OD_ENUMERIC || st == OD_EGSL ? OD_EXIT_ERROR : OD_EXIT_USAGE; }

/* The per-sample Hessians: a file, or a finite-data problem at its known minimizer (else x0). */
static int build_set(const stab_opts *o, od_spectra_hset **h, od_problem **p)
{
    od_spectra_hset_params hp = od_spectra_hset_default_params();
    hp.seed = (uint64_t)o->c.seed;
    if (o->hessians) return od_spectra_hset_read(o->hessians, &hp, h);
    OD_TRY(od_exp_problem(o->model, (uint64_t)o->c.seed, p));
    const od_problem *pr = *p;
    if (pr->n == 0 || !pr->type->sample_hvp)
        OD_ERRORF(OD_ENOTSUP, "problem '%s' has no per-sample Hessians (finite data with sample_hvp needed: "
                              "linreg-data, logreg, softmax, mlp, chebyshev-net)", pr->label);
    return od_spectra_hset_problem(pr, pr->xstar ? pr->xstar : pr->x0, &hp, h);
}

/* The ρ(η) curve through od_map: point j at η = (j + 1)·step, each with its own workspace (so the
 * bytes do not depend on the thread count); out = {ρ, T applications}. */
typedef struct {
    const od_spectra_hset *h;
    od_spectra_sampling s;
    size_t B;
    const od_spectra_rho_params *rp;
    double step;
} curve_cfg;

static int curve_point(size_t j, double *out, void *ws, void *arg)
{
    (void)ws;
    const curve_cfg *c = arg;
    od_spectra_stab *st = NULL;
    OD_TRY(od_spectra_stab_alloc(c->h, c->s, c->B, &st));
    od_spectra_rho_result rr;
    const int e = od_spectra_stab_rho(st, c->step * (double)(j + 1), c->rp, &rr);
    out[0] = rr.rho;
    out[1] = (double)rr.applications;
    od_spectra_stab_free(st);
    return e;
}

static int compute(const stab_opts *o, od_spectra_stab *st, stab_out *so)
{
    OD_TRY(od_spectra_stab_summarize(st, &so->q));
    /* values of ρ by Lanczos (T is self-adjoint; the power iteration needs O(1/gap) applications and
     * the gap is tiny at small η); the threshold search by the power iteration, whose Collatz–Wielandt
     * bounds decide the side of ρ = 1 in a few iterations away from the crossing */
    od_spectra_rho_params rp = od_spectra_rho_default_params();
    rp.dense = o->dense;
    rp.lanczos = 1;
    so->eta_star = so->rho = so->rho_lo = so->rho_hi = NAN;
    if (o->threshold) {
        od_spectra_threshold_params tp = od_spectra_threshold_default_params();
        tp.grid = (size_t)o->grid;
        tp.rho.dense = o->dense;
        OD_TRY(od_spectra_stab_threshold(st, &tp, &so->tr));
        so->eta_star = so->tr.eta;
    } else {
        od_spectra_rho_result rr;
        OD_TRY(od_spectra_stab_rho(st, o->lr, &rp, &rr));
        so->rho = rr.rho;
        so->rho_lo = rr.lo;
        so->rho_hi = rr.hi;
        if (!rr.converged) fprintf(stderr, "optdyn stability: warning: Lanczos stopped before the residual test (%zu steps)\n", rr.iters);
    }
    /* ρ(T_η) on a grid up to 1.25 · 2/λ_max, for the table and the figure */
    so->curve = od_table_alloc("rho_curve");
    if (!so->curve) return OD_ENOMEM;
    const char *cols[] = {"eta", "rho", "half_log_rho"};
    for (int c = 0; c < 3; c++) od_table_add_double(so->curve, cols[c], NULL, 0);
    curve_cfg cc = {od_spectra_stab_hset(st), od_spectra_stab_sampling(st), od_spectra_stab_batch(st), &rp,
                    1.25 * so->q.gd_threshold / (double)o->curve};
    double *cv = od_vec_alloc(2 * (size_t)o->curve);
    if (!cv) return OD_ENOMEM;
    int e = od_map((size_t)o->curve, 2, cv, curve_point, NULL, NULL, &cc, NULL);
    for (long j = 0; e == OD_OK && j < o->curve; j++) {
        const double row[3] = {cc.step * (double)(j + 1), cv[2 * j], 0.5 * log(cv[2 * j])};
        od_table_append(so->curve, row);
        so->applications += (uint64_t)cv[2 * j + 1];
    }
    od_free(cv);
    OD_TRY(e);
    if (o->lyapunov > 0) {
        od_spectra_run_params lp = od_spectra_run_default_params();
        lp.steps = (size_t)o->lyapunov;
        lp.paths = (size_t)o->paths;
        lp.burn_in = lp.steps / 10;
        lp.seed = (uint64_t)o->c.seed;
        const double eta = o->threshold ? so->eta_star : o->lr;
        OD_TRY(od_spectra_stab_lyapunov(st, eta, &lp, &so->ly));
    }
    so->applications += od_spectra_stab_applications(st);
    return OD_OK;
}

static int write_outputs(const stab_opts *o, const char *dir, const od_spectra_hset *h, stab_out *so)
{
    OD_TRY(od_mkdir_p(dir));
    od_table *t = od_table_alloc("summary");
    od_manifest *m = od_manifest_alloc("stability");
    od_figure *f = od_figure_alloc("stability", "Mean-square stability of linearised SGD");
    od_table *lrp = NULL;
    int st = (t && m && f) ? OD_OK : OD_ENOMEM;
    if (st == OD_OK) {
        od_table_meta(t, "hessians", "%s", h->label);
        od_table_meta(t, "sampling", "%s, B = %ld", o->sampling, o->batch);
        od_table_meta(t, "convention", "sharpness = largest algebraic eigenvalue of H; rho on W = sum of ranges of H_i (dim r)");
        const struct { const char *k; double v; } rows[] = {
            {"n", (double)h->n}, {"d", (double)h->d}, {"r", (double)h->r}, {"batch", (double)o->batch},
            {"sharpness", so->q.sharpness}, {"trace", so->q.trace}, {"gd_threshold", so->q.gd_threshold},
            {"lr", o->threshold ? NAN : o->lr}, {"spectral_radius", so->rho}, {"threshold_lr", so->eta_star},
            {"coherence", so->q.coherence}, {"dexter_lr", so->q.dexter_lr}, {"nonuniformity", so->q.nonuniformity},
            {"wme_sufficient_lr", so->q.wme_lr}, {"trace_lr", so->q.trace_lr},
            {"lyapunov", o->lyapunov > 0 ? so->ly.mean : NAN}, {"lyapunov_se", o->lyapunov > 0 ? so->ly.se : NAN}};
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) od_table_add_double(t, rows[i].k, &rows[i].v, 1);
        od_manifest_param_str(m, "hessians", h->label);
        od_manifest_param_str(m, "sampling", o->sampling);
        od_manifest_param_num(m, "batch", (double)o->batch);
        od_manifest_set_num(m, "seed", (double)o->c.seed);
        if ((st = od_table_write(t, dir)) == OD_OK) st = od_table_write(so->curve, dir);
        od_manifest_file(m, "summary.tsv");
        od_manifest_file(m, "rho_curve.tsv");
        if (st == OD_OK && !o->threshold && (lrp = od_table_alloc("lr_point")) != NULL) {
            od_table_add_double(lrp, "eta", &o->lr, 1);
            od_table_add_double(lrp, "rho", &so->rho, 1);
            st = od_table_write(lrp, dir);
            od_manifest_file(m, "lr_point.tsv");
        }
    }
    if (st == OD_OK) {
        od_figure_xlabel(f, "learning rate η");
        od_figure_ylabel(f, "ρ(T_η), spectral radius of the second-moment map");
        od_figure_add(f, &(od_series){.table = so->curve, .x = "eta", .y = "rho", .kind = OD_PLOT_LINES,
                                      .label = "ρ(T_η) (exact, Lanczos on T)"});
        if (lrp) {   /* the asked η as a point on the curve (a vertical line's label at small η is unreadable) */
            char lab[96];
            snprintf(lab, sizeof lab, "η = %g (--lr): ρ = %.6g", o->lr, so->rho);
            od_figure_add(f, &(od_series){.table = lrp, .x = "eta", .y = "rho", .kind = OD_PLOT_POINTS, .label = lab, .color = 2});
        }
        od_figure_hline(f, 1.0, "ρ = 1");
        od_figure_vline(f, so->q.gd_threshold, "2/λ_max (GD)");
        od_figure_vline(f, so->q.wme_lr, "one-step bound (Wu, Ma & E)");
        if (isfinite(so->eta_star)) od_figure_vline(f, so->eta_star, "η* (mean square)");
        od_figure_yrange(f, 0, 2.5);
        od_figure_key(f, "top left");
        st = od_figure_write(f, dir, o->c.fmt, !o->c.no_plot);
        od_manifest_file(m, "stability.gp");
    }
    if (st == OD_OK) st = od_manifest_write(m, dir);
    od_table_free(t);
    od_table_free(lrp);
    od_manifest_free(m);
    od_figure_free(f);
    return st;
}

static void print_json(const stab_opts *o, const od_spectra_hset *h, const stab_out *so, const char *dir)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "n", (double)h->n);
    cJSON_AddNumberToObject(j, "d", (double)h->d);
    cJSON_AddNumberToObject(j, "r", (double)h->r);
    cJSON_AddStringToObject(j, "sampling", o->sampling);
    cJSON_AddNumberToObject(j, "batch", (double)o->batch);
    cJSON_AddNumberToObject(j, "sharpness", so->q.sharpness);
    cJSON_AddNumberToObject(j, "trace", so->q.trace);
    cJSON_AddNumberToObject(j, "gd_threshold", so->q.gd_threshold);
    if (!o->threshold) {
        cJSON_AddNumberToObject(j, "lr", o->lr);
        cJSON_AddNumberToObject(j, "spectral_radius", so->rho);
        cJSON *b = cJSON_CreateArray();
        cJSON_AddItemToArray(b, cJSON_CreateNumber(so->rho_lo));
        cJSON_AddItemToArray(b, cJSON_CreateNumber(so->rho_hi));
        cJSON_AddItemToObject(j, "spectral_radius_bounds", b);
    } else {
        cJSON_AddNumberToObject(j, "threshold_lr", so->eta_star);
        cJSON *c = cJSON_CreateArray();
        for (size_t k = 0; k < so->tr.n_cross && k < OD_SPECTRA_MAX_CROSSINGS; k++) cJSON_AddItemToArray(c, cJSON_CreateNumber(so->tr.cross[k]));
        cJSON_AddItemToObject(j, "crossings", c);
    }
    cJSON_AddNumberToObject(j, "coherence", so->q.coherence);
    cJSON_AddNumberToObject(j, "dexter_lr", so->q.dexter_lr);
    cJSON_AddNumberToObject(j, "nonuniformity", so->q.nonuniformity);
    cJSON_AddNumberToObject(j, "wme_sufficient_lr", so->q.wme_lr);
    cJSON_AddNumberToObject(j, "trace_lr", so->q.trace_lr);
    if (o->lyapunov > 0) {
        cJSON_AddNumberToObject(j, "lyapunov", so->ly.mean);
        cJSON_AddNumberToObject(j, "lyapunov_se", so->ly.se);
    }
    cJSON_AddNumberToObject(j, "applications", (double)so->applications);
    cJSON_AddStringToObject(j, "dir", dir);
    char *txt = cJSON_Print(j);
    if (txt) puts(txt);
    cJSON_free(txt);
    cJSON_Delete(j);
}

static void print_text(const stab_opts *o, const od_spectra_hset *h, const stab_out *so, const char *dir)
{
    printf("%s%s\n  n = %zu, d = %zu, dim W = r = %zu%s; sampling %s, B = %ld\n", o->hessians ? "per-sample Hessians from " : "",
           h->label, h->n, h->d, h->r, h->r < h->d ? " (flat directions left out)" : "", o->sampling, o->batch);
    printf("  sharpness λ_max(H) = %.10g, tr H = %.10g, GD threshold 2/λ_max = %.10g\n", so->q.sharpness, so->q.trace,
           so->q.gd_threshold);
    if (o->threshold) {
        printf("  threshold η* (ρ(T) = 1) = %.12g", so->eta_star);
        if (so->tr.n_cross > 1) printf("   (%zu crossings of ρ = 1 on the grid: see --json)", so->tr.n_cross);
        printf("\n");
    } else {
        printf("  ρ(T) at η = %g: %.12g  (%s in mean square; certified bounds [%.10g, %.10g])\n", o->lr, so->rho,
               so->rho < 1 ? "stable" : "unstable", so->rho_lo, so->rho_hi);
    }
    printf("  coherence σ = %.6g (Dexter et al.), reconstructed sufficient condition for instability: η > %.6g\n",
           so->q.coherence, so->q.dexter_lr);
    printf("  non-uniformity s = %.6g (Wu, Ma & E); one-step sufficient condition for stability: η <= %.6g\n",
           so->q.nonuniformity, so->q.wme_lr);
    printf("  2/tr H = %.6g (Wu & Su 2023)\n", so->q.trace_lr);
    if (o->lyapunov > 0)
        printf("  top Lyapunov exponent at η = %g: %.6g ± %.2g (SE; %zu paths of %ld steps, the first %ld not averaged)\n",
               o->threshold ? so->eta_star : o->lr, so->ly.mean, so->ly.se, so->ly.paths, o->lyapunov,
               o->lyapunov - (long)so->ly.steps);
    printf("  written to %s/\n", dir);
}

int od_cmd_stability(int argc, char **argv)
{
    stab_opts o = {.sampling = "replacement", .batch = 1, .paths = 32, .grid = 64, .curve = 60, .lr = NAN,
                   .c = od_cli_common_defaults()};
    od_cli_opt opts[24] = {
        {"--hessians", OD_OPT_STRING, &o.hessians, 0, 0, "FILE", "per-sample Hessians: 'n d', then n blocks of d rows of d numbers"},
        {"--model", OD_OPT_STRING, &o.model, 0, 0, "NAME[:k=v,...]", "a finite-data problem (linreg-data, logreg, mlp, ...) at its minimizer or start"},
        {"--sampling", OD_OPT_STRING, &o.sampling, 0, 0, "S", "replacement (default) | without | bernoulli"},
        {"--batch", OD_OPT_INT, &o.batch, 1, 1e9, "B", "batch size (default 1)"},
        {"--lr", OD_OPT_DOUBLE, &o.lr, 0, 1e300, "ETA", "learning rate: report ρ(T) there"},
        {"--threshold", OD_OPT_FLAG, &o.threshold, 0, 0, NULL, "find η* where ρ(T) crosses 1 (grid + bisection)"},
        {"--lyapunov", OD_OPT_INT, &o.lyapunov, 1, 1e9, "STEPS", "also the top Lyapunov exponent from runs of STEPS steps"},
        {"--paths", OD_OPT_INT, &o.paths, 2, 1e7, "P", "--lyapunov: runs (default 32)"},
        {"--grid", OD_OPT_INT, &o.grid, 2, 1e5, "G", "--threshold: grid points on (0, 2/λ_max] (default 64)"},
        {"--curve", OD_OPT_INT, &o.curve, 2, 1e5, "N", "points of the ρ(η) table and figure (default 60)"},
        {"--dense", OD_OPT_FLAG, &o.dense, 0, 0, NULL, "apply T as its dense r²-by-r² matrix (r <= 64)"},
    };
    size_t n = 11;
    n += od_cli_common_opts(&o.c, 0, opts + n, 24 - n);
    char *pos[4];
    size_t npos;
    int st = od_cli_parse(CMD, argc, argv, opts, n, pos, 4, &npos);
    if (st) return st;
    if (o.c.help) {
        printf("usage: optdyn stability (--hessians FILE | --model NAME[:k=v,...]) [--sampling S] [--batch B]\n"
               "                        (--lr ETA | --threshold) [--lyapunov STEPS] [options]\n\n"
               "Mean-square stability of linearised SGD at a minimum, x ← (I − η Ĥ) x with Ĥ the mean of B\n"
               "per-sample Hessians drawn with replacement, without replacement, or each kept with p = B/n\n"
               "(Bernoulli).  ρ(T) is the spectral radius of the second-moment map T; SGD is stable in mean\n"
               "square iff ρ(T) <= 1.  Flat directions (common null space of the H_i) are left out: ρ and η*\n"
               "refer to W, the span of the ranges of the H_i.  Also reports the sharpness λ_max(H), Dexter\n"
               "et al.'s coherence σ, Wu, Ma & E's non-uniformity with their one-step bound (a bound, not the\n"
               "boundary), 2/tr H (Wu & Su), and with --lyapunov the almost-sure (sample-path) exponent.\n"
               "Writes OUT/stability/: summary.tsv, rho_curve.tsv, stability.png, manifest.json.\n\n"
               "Hessian file: a first line 'n d', then n blocks of d rows of d numbers (symmetric H_i);\n"
               "lines beginning with '#' are comments.\n\n"
               "examples:\n"
               "  optdyn stability --hessians H.txt --sampling without --batch 4 --threshold --json\n"
               "  optdyn stability --model linreg-data:n=50,d=200 --batch 5 --lr 0.01 --lyapunov 5000\n\noptions:\n");
        od_cli_print_opts(opts, n);
        return OD_EXIT_OK;
    }
    if (npos) return od_cli_fail(CMD, OD_EXIT_USAGE, "unexpected argument '%s'", pos[0]);
    if ((st = od_cli_common_finish(CMD, &o.c)) != OD_EXIT_OK) return st;
    if (!o.hessians == !o.model) return od_cli_fail(CMD, OD_EXIT_USAGE, "give exactly one of --hessians FILE and --model SPEC");
    if (o.threshold == !isnan(o.lr)) return od_cli_fail(CMD, OD_EXIT_USAGE, "give exactly one of --lr ETA and --threshold");
    if (!o.threshold && !(o.lr > 0)) return od_cli_fail(CMD, OD_EXIT_USAGE, "--lr = %g must be positive", o.lr);
    od_spectra_sampling sm;
    if (od_spectra_sampling_parse(o.sampling, &sm) != OD_OK) return od_cli_fail(CMD, OD_EXIT_USAGE, "--sampling: %s", od_last_error());

    od_spectra_hset *h = NULL;
    od_problem *prob = NULL;
    if ((st = build_set(&o, &h, &prob)) != OD_OK) {
        const int code = usage_error(st);
        od_cli_fail(CMD, code, "%s%s", o.model ? "--model: " : "", od_last_error());
        od_problem_free(prob);
        return code;
    }
    od_spectra_stab *sw = NULL;
    int code = OD_EXIT_OK;
    if (od_spectra_stab_alloc(h, sm, (size_t)o.batch, &sw) != OD_OK)
        code = od_cli_fail(CMD, OD_EXIT_USAGE, "--batch %ld: %s", o.batch, od_last_error());
    else if (o.dense && h->r > 64)
        code = od_cli_fail(CMD, OD_EXIT_USAGE, "--dense: dim W = %zu is above 64 (drop --dense)", h->r);
    stab_out so = {0};
    if (!code && (st = compute(&o, sw, &so)) != OD_OK) code = od_cli_fail(CMD, OD_EXIT_ERROR, "%s", od_last_error());
    if (!code) {
        char *dir = od_path_join(o.c.out, "stability");
        if (!dir || write_outputs(&o, dir, h, &so) != OD_OK) code = od_cli_fail(CMD, OD_EXIT_ERROR, "%s", od_last_error());
        else if (o.c.json) print_json(&o, h, &so, dir);
        else if (!o.c.quiet) print_text(&o, h, &so, dir);
        free(dir);
    }
    od_table_free(so.curve);
    od_spectra_stab_free(sw);
    od_spectra_hset_free(h);
    od_problem_free(prob);
    return code;
}
