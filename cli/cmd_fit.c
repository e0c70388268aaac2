/* optdyn cli — `optdyn fit`: scaling-law fits of a CSV file (issue 6).
 *
 *   optdyn fit FILE.csv --model chinchilla --N COL (--D COL | --flops COL) --loss COL
 *                       [--drop-top K] [--huber DELTA] [--mle] [--bootstrap R] [--compute C]
 *                       [--predict FILE.csv] [--compare E,A,B,alpha,beta] [--seed S] [--json]
 *                       [--out DIR]
 *   optdyn fit FILE.csv --model powerlaw --x COL --y COL [--offset]
 *   optdyn fit FILE.csv --model loglinear --y COL --x COL1,COL2,...
 *   optdyn fit FILE.csv --model lr-batch --batch COL --lr COL --form sgd|surge|both
 *
 * Every input (options, files, columns, cells) is checked before any work; bad input prints one
 * line naming the culprit and exits 2 with nothing written.  Files are written only with --out. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "experiments/scaling_common.h"
#include "scaling/optdyn_scaling.h"

#define CMD "fit"
#define MAX_X 16

typedef enum { M_CHINCHILLA, M_POWERLAW, M_LOGLINEAR, M_LRBATCH } model_id;
static const char *const model_names[] = {"chinchilla", "powerlaw", "loglinear", "lr-batch"};

typedef struct {
    od_cli_common c;
    const char *model, *ncol, *dcol, *fcol, *lcol, *predict, *compare, *x, *y, *batch, *lr, *form;
    long drop, boot;
    double huber, compute;
    int mle, offset;
    model_id m;
    od_scaling_law cmp;
} fit_opts;

/* ---- output helpers ----------------------------------------------------------------------------- */

static void print_json(cJSON *j)
{
    char *s = cJSON_Print(j);
    if (s) {
        puts(s);
        cJSON_free(s);
    }
}

/* Writes the tables and the figure into dir (when dir != NULL) and lists them in the manifest. */
static int write_outputs(const char *dir, od_manifest *m, od_table *const *tabs, size_t nt,
                         const od_figure *fig, const od_cli_common *c)
{
    if (!dir) return OD_OK;
    for (size_t k = 0; k < nt; k++) {
        if (!tabs[k]) continue;
        OD_TRY(od_table_write(tabs[k], dir));
        char name[300];
        snprintf(name, sizeof name, "%s.tsv", od_table_name(tabs[k]));
        od_manifest_file(m, name);
    }
    if (fig) {
        OD_TRY(od_figure_write(fig, dir, c->fmt, !c->no_plot));
        char name[300];
        snprintf(name, sizeof name, "%s.gp", od_figure_name(fig));
        od_manifest_file(m, name);
    }
    return od_manifest_write(m, dir);
}

static cJSON *json_num(cJSON *o, const char *key, double v)
{
    return isfinite(v) ? cJSON_AddNumberToObject(o, key, v) : cJSON_AddNullToObject(o, key);
}

/* ---- chinchilla --------------------------------------------------------------------------------- */

typedef struct {
    double N, D;
} point;

static double predict_fn(const double th[OD_SCALING_NPAR], void *arg)
{
    const point *p = arg;
    od_scaling_law l = od_scaling_law_from_theta(th);
    return od_scaling_law_eval(&l, p->N, p->D);
}

typedef struct {
    double C;
    int what;   /* 0 N_opt, 1 D_opt, 2 tokens per parameter */
} alloc_arg;

static double alloc_fn(const double th[OD_SCALING_NPAR], void *arg)
{
    const alloc_arg *a = arg;
    od_scaling_law l = od_scaling_law_from_theta(th);
    od_scaling_alloc r;
    if (od_scaling_allocate(&l, a->C, &r) != OD_OK) return NAN;
    return a->what == 0 ? r.N_opt : a->what == 1 ? r.D_opt : r.tokens_per_param;
}

static void print_row(const char *name, double v, const od_scaling_boot *b, int q)
{
    if (b && q >= 0)
        printf("  %-18s %-14.6g se %-12.4g 95%% [%.6g, %.6g]\n", name, v, b->se[q], b->lo[q], b->hi[q]);
    else
        printf("  %-18s %.6g\n", name, v);
}

static int run_chinchilla(const fit_opts *o, const char *file, const char *dir, od_manifest *man)
{
    od_exp_scaling_rows rows, pred = {0};
    if (od_exp_scaling_read_rows(file, o->ncol, o->dcol, o->dcol ? NULL : o->fcol, o->lcol, &rows))
        return od_cli_fail(CMD, OD_EXIT_USAGE, "%s", od_last_error());
    if (o->predict &&
        od_exp_scaling_read_rows(o->predict, o->ncol, o->dcol, o->dcol ? NULL : o->fcol, NULL, &pred)) {
        od_exp_scaling_rows_free(&rows);
        return od_cli_fail(CMD, OD_EXIT_USAGE, "--predict: %s", od_last_error());
    }
    int code = OD_EXIT_OK;
    unsigned char *keep = malloc(rows.n ? rows.n : 1);
    od_scaling_data *d = NULL;
    od_scaling_boot boot = {0};
    od_table *tabs[7] = {0};
    od_figure *fig = NULL;
    cJSON *j = cJSON_CreateObject();
    size_t kept = 0;
    if (!keep || od_scaling_drop_top(rows.n, rows.L, (size_t)o->drop, keep, &kept)) {
        code = od_cli_fail(CMD, OD_EXIT_ERROR, "out of memory");
        goto done;
    }
    if (kept < OD_SCALING_NPAR + 1) {
        code = od_cli_fail(CMD, OD_EXIT_USAGE, "%s: %zu usable rows (%zu read, %zu with missing "
                           "values, %zu dropped by --drop-top) for 5 parameters: need at least 6",
                           file, kept, rows.n + rows.n_missing, rows.n_missing, rows.n - kept);
        goto done;
    }
    if (dir && od_mkdir_p(dir) != OD_OK) {
        code = od_cli_fail(CMD, OD_EXIT_USAGE, "%s", od_last_error());
        goto done;
    }
    od_scaling_fit_params fp = od_scaling_fit_default_params();
    fp.delta = o->huber;
    fp.progress = !o->c.quiet && !o->c.json;
    od_scaling_fit fit;
    od_scaling_mle mle = {0};
    int have_mle = 0;
    if (!(d = od_exp_scaling_kept_data(&rows, keep)) || od_scaling_fit_chinchilla(d, &fp, &fit)) {
        code = od_cli_fail(CMD, OD_EXIT_ERROR, "%s", od_last_error());
        goto done;
    }
    if (o->mle || o->compare) {
        if (od_scaling_fit_mle(d, fit.theta, &fp, &mle)) {
            code = od_cli_fail(CMD, OD_EXIT_ERROR, "%s", od_last_error());
            goto done;
        }
        have_mle = 1;
    }
    const double *theta = o->mle ? mle.theta : fit.theta;
    od_scaling_law law = od_scaling_law_from_theta(theta);
    double q[OD_SCALING_NQ];
    od_scaling_quantities(theta, q);
    if (o->boot) {
        od_scaling_boot_params bp = od_scaling_boot_default_params();
        bp.R = (size_t)o->boot;
        bp.seed = (uint64_t)o->c.seed;
        bp.progress = fp.progress;
        if (od_scaling_bootstrap(d, theta, &fp, &bp, &boot)) {
            code = od_cli_fail(CMD, OD_EXIT_ERROR, "%s", od_last_error());
            goto done;
        }
    }
    const od_scaling_boot *bb = o->boot ? &boot : NULL;

    cJSON_AddStringToObject(j, "model", "chinchilla");
    cJSON_AddStringToObject(j, "estimator", o->mle ? "huber-likelihood" : "huber");
    cJSON_AddNumberToObject(j, "n_rows", (double)(rows.n + rows.n_missing));
    cJSON_AddNumberToObject(j, "n_missing", (double)rows.n_missing);
    cJSON_AddNumberToObject(j, "n_dropped", (double)(rows.n - kept));
    cJSON_AddNumberToObject(j, "n_used", (double)kept);
    cJSON_AddNumberToObject(j, "huber_delta", o->huber);
    json_num(j, "objective", od_scaling_objective(d, theta, o->huber, NULL));
    for (int k = 0; k < OD_SCALING_NQ; k++) json_num(j, od_scaling_q_names[k], q[k]);
    if (have_mle && o->mle) {
        json_num(j, "sigma", mle.sigma);
        json_num(j, "nll", mle.nll);
    }
    if (!o->c.json) {
        printf("chinchilla fit of %s: %zu rows used (%zu with missing values, %zu dropped), "
               "Huber delta %g, %s\n", file, kept, rows.n_missing, rows.n - kept, o->huber,
               o->mle ? "Huber-likelihood MLE" : "sum of Huber losses");
        printf("  %-18s %.10g (best of %zu starts, %zu diverged)\n", "objective",
               od_scaling_objective(d, theta, o->huber, NULL), fit.n_starts, fit.n_diverged);
        for (int k = 0; k < OD_SCALING_NQ; k++) print_row(od_scaling_q_names[k], q[k], bb, k);
        if (o->mle) printf("  %-18s %.6g (s = %.6g)\n", "sigma", mle.sigma, mle.s);
    }
    if (o->compute > 0) {
        od_scaling_alloc al;
        if (od_scaling_allocate(&law, o->compute, &al) == OD_OK) {
            json_num(j, "compute", al.C);
            json_num(j, "N_opt", al.N_opt);
            json_num(j, "D_opt", al.D_opt);
            json_num(j, "tokens_per_param", al.tokens_per_param);
            json_num(j, "L_opt", al.L_opt);
            if (!o->c.json)
                printf("  at C = %g FLOP: N_opt %.6g, D_opt %.6g, tokens per parameter %.4g, "
                       "loss %.5g\n", al.C, al.N_opt, al.D_opt, al.tokens_per_param, al.L_opt);
        } else if (!o->c.json) {
            printf("  no compute-optimal allocation: %s\n", od_last_error());
        }
    }
    if (bb) {
        cJSON *jb = cJSON_AddObjectToObject(j, "bootstrap");
        cJSON_AddNumberToObject(jb, "R", (double)boot.R);
        cJSON_AddNumberToObject(jb, "n_ok", (double)boot.n_ok);
        cJSON_AddNumberToObject(jb, "seed", (double)o->c.seed);
        cJSON *se = cJSON_AddObjectToObject(jb, "se"), *ci = cJSON_AddObjectToObject(jb, "ci95");
        for (int k = 0; k < OD_SCALING_NQ; k++) {
            json_num(se, od_scaling_q_names[k], boot.se[k]);
            cJSON *a = cJSON_AddArrayToObject(ci, od_scaling_q_names[k]);
            cJSON_AddItemToArray(a, cJSON_CreateNumber(boot.lo[k]));
            cJSON_AddItemToArray(a, cJSON_CreateNumber(boot.hi[k]));
        }
        if (o->compute > 0) {
            static const char *an[3] = {"N_opt", "D_opt", "tokens_per_param"};
            for (int w = 0; w < 3; w++) {
                alloc_arg aa = {o->compute, w};
                double s, lo, hi;
                if (od_scaling_boot_interval(&boot, alloc_fn, &aa, &s, &lo, &hi) != OD_OK) continue;
                json_num(se, an[w], s);
                cJSON *a = cJSON_AddArrayToObject(ci, an[w]);
                cJSON_AddItemToArray(a, cJSON_CreateNumber(lo));
                cJSON_AddItemToArray(a, cJSON_CreateNumber(hi));
                if (!o->c.json) printf("  %-18s bootstrap 95%% [%.6g, %.6g]\n", an[w], lo, hi);
            }
        }
        if (!o->c.json)
            printf("  bootstrap: %zu of %zu resamples fitted (seed %ld)\n", boot.n_ok, boot.R,
                   o->c.seed);
    }
    if (o->predict) {
        cJSON *jp = cJSON_AddArrayToObject(j, "predictions");
        if (!o->c.json) printf("predictions for %s:\n", o->predict);
        for (size_t i = 0; i < pred.n; i++) {
            point pt = {pred.N[i], pred.D[i]};
            double L = od_scaling_law_eval(&law, pt.N, pt.D), lo = NAN, hi = NAN;
            if (bb) od_scaling_boot_interval(&boot, predict_fn, &pt, NULL, &lo, &hi);
            cJSON *r = cJSON_CreateObject();
            json_num(r, "N", pt.N);
            json_num(r, "D", pt.D);
            json_num(r, "loss", L);
            if (bb) {
                json_num(r, "lo", lo);
                json_num(r, "hi", hi);
            }
            cJSON_AddItemToArray(jp, r);
            if (!o->c.json)
                printf("  line %-5ld N %-12.6g D %-12.6g loss %.6g%s", pred.line[i], pt.N, pt.D, L,
                       bb ? "" : "\n");
            if (!o->c.json && bb) printf("  95%% [%.6g, %.6g]\n", lo, hi);
        }
    }
    if (o->compare) {
        double tp[OD_SCALING_NPAR], lr, lp;
        od_scaling_law_theta(&o->cmp, tp);
        cJSON *jc = cJSON_AddObjectToObject(j, "compare");
        json_num(jc, "objective", od_scaling_objective(d, tp, o->huber, NULL));
        if (od_scaling_lr_test(d, &mle, tp, o->huber, &lr, &lp) == OD_OK) {
            json_num(jc, "lr", lr);
            json_num(jc, "lr_p", lp);
        }
        double chi2 = NAN, cp = NAN;
        const char *why = NULL;
        if (bb) {
            if (od_scaling_chi2_test(&boot, theta, tp, &chi2, &cp) != OD_OK) why = od_last_error();
            json_num(jc, "chi2", chi2);
            json_num(jc, "chi2_p", cp);
            if (why) cJSON_AddStringToObject(jc, "chi2_error", why);
        }
        if (!o->c.json) {
            printf("comparison with E=%g A=%g B=%g alpha=%g beta=%g: objective %.10g (fit %.10g); "
                   "likelihood ratio %.4g, p = %.3g (5 df)", o->cmp.E, o->cmp.A, o->cmp.B,
                   o->cmp.alpha, o->cmp.beta, od_scaling_objective(d, tp, o->huber, NULL),
                   od_scaling_objective(d, theta, o->huber, NULL), lr, lp);
            if (bb && !why) printf("; chi-square %.4g, p = %.3g (5 df, bootstrap covariance)", chi2, cp);
            if (why) printf("; no chi-square test: %s", why);
            printf("%s\n", bb ? "" : "; add --bootstrap R for the chi-square test");
        }
    }
    if (dir) {
        const od_scaling_law *ref = o->compare ? &o->cmp : NULL;
        tabs[0] = od_exp_scaling_data_table("data", &rows, keep, 1, &law, ref);
        tabs[6] = od_exp_scaling_data_table("dropped", &rows, keep, 0, &law, ref);
        tabs[1] = od_exp_scaling_surface_table("surface", &rows, &law, 90, 70);
        tabs[2] = od_exp_scaling_frontier_table("frontier", &rows, &law, ref);
        if (bb) {
            tabs[3] = od_exp_scaling_histogram("boot_alpha", boot.q + OD_SCALING_Q_ALPHA, boot.R,
                                               OD_SCALING_NQ, 40);
            tabs[4] = od_exp_scaling_histogram("boot_beta", boot.q + OD_SCALING_Q_BETA, boot.R,
                                               OD_SCALING_NQ, 40);
            tabs[5] = od_exp_scaling_histogram("boot_a", boot.q + OD_SCALING_Q_a, boot.R,
                                               OD_SCALING_NQ, 40);
        }
        if (!tabs[0] || !tabs[1] || !tabs[2] || !tabs[6] || (bb && (!tabs[3] || !tabs[4] || !tabs[5]))) {
            code = od_cli_fail(CMD, OD_EXIT_ERROR, "out of memory");
            goto done;
        }
        fig = od_exp_scaling_chinchilla_figure("fit", "Chinchilla fit", tabs[0], tabs[6], tabs[1],
                                               tabs[2], "fit", ref ? "compared law" : NULL,
                                               tabs[3], tabs[4], tabs[5]);
    }
    if (write_outputs(dir, man, tabs, 7, fig, &o->c) != OD_OK)
        code = od_cli_fail(CMD, OD_EXIT_ERROR, "%s", od_last_error());
    if (o->c.json && code == OD_EXIT_OK) print_json(j);
done:
    cJSON_Delete(j);
    for (int k = 0; k < 7; k++) od_table_free(tabs[k]);
    od_figure_free(fig);
    od_scaling_boot_free(&boot);
    od_scaling_data_free(d);
    free(keep);
    od_exp_scaling_rows_free(&rows);
    od_exp_scaling_rows_free(&pred);
    return code;
}

/* ---- power law and log-linear ------------------------------------------------------------------- */

/* Splits "a,b,c" into at most max column names (in place in buf). */
static size_t split_names(char *buf, const char **names, size_t max)
{
    size_t k = 0;
    for (char *tok = strtok(buf, ","); tok && k < max; tok = strtok(NULL, ",")) names[k++] = tok;
    return k;
}

static int read_cols(const char *file, size_t k, const char *const *names, size_t need,
                     od_exp_scaling_cols *c)
{
    if (od_exp_scaling_read_cols(file, k, names, c))
        return od_cli_fail(CMD, OD_EXIT_USAGE, "%s", od_last_error());
    if (c->n < need) {
        int r = od_cli_fail(CMD, OD_EXIT_USAGE, "%s: %zu usable rows (%zu with missing values) for "
                            "this model: need at least %zu", file, c->n, c->n_missing, need);
        od_exp_scaling_cols_free(c);
        return r;
    }
    return OD_EXIT_OK;
}

static void add_curve_table(od_table **t, const char *name, size_t n, const double *x,
                            double (*fn)(double, const void *), const void *arg, int logx)
{
    static const char *cols[] = {"x", "y"};
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        lo = fmin(lo, x[i]);
        hi = fmax(hi, x[i]);
    }
    *t = od_table_alloc(name);
    for (int j = 0; *t && j < 2; j++) od_table_add_double(*t, cols[j], NULL, 0);
    for (int i = 0; *t && i <= 200; i++) {
        double u = i / 200.0, xv = logx ? lo * pow(hi / lo, u) : lo + (hi - lo) * u;
        double row[2] = {xv, fn(xv, arg)};
        od_table_append(*t, row);
    }
}

/* The log-log figure "fit" of the data points (columns xc, yc of t); NULL on failure. */
static od_figure *data_figure(const char *title, const char *xlabel, const char *ylabel,
                              const od_table *t, const char *xc, const char *yc)
{
    od_figure *fig = t ? od_figure_alloc("fit", title) : NULL;
    if (!fig) return NULL;
    od_figure_logx(fig, 1);
    od_figure_logy(fig, 1);
    od_figure_xlabel(fig, xlabel);
    od_figure_ylabel(fig, ylabel);
    od_figure_add(fig, &(od_series){.table = t, .x = xc, .y = yc, .kind = OD_PLOT_POINTS,
                                    .label = "data"});
    return fig;
}

static double powerlaw_fn(double x, const void *arg)
{
    const od_scaling_powerlaw *p = arg;
    return p->c + p->k * pow(x, -p->p);
}

static int run_powerlaw(const fit_opts *o, const char *file, const char *dir, od_manifest *man)
{
    const char *names[2] = {o->x, o->y};
    od_exp_scaling_cols c;
    int code = read_cols(file, 2, names, o->offset ? 4 : 3, &c);
    if (code) return code;
    od_scaling_powerlaw f;
    od_table *tabs[2] = {0};
    od_figure *fig = NULL;
    if (dir && od_mkdir_p(dir) != OD_OK) {
        code = od_cli_fail(CMD, OD_EXIT_USAGE, "%s", od_last_error());
        goto done;
    }
    if (od_scaling_fit_powerlaw(c.n, c.v, c.v + c.n, o->offset, &f)) {
        code = od_cli_fail(CMD, OD_EXIT_ERROR, "%s", od_last_error());
        goto done;
    }
    if (o->c.json) {
        cJSON *j = cJSON_CreateObject(), *se;
        cJSON_AddStringToObject(j, "model", "powerlaw");
        cJSON_AddBoolToObject(j, "offset", o->offset);
        cJSON_AddNumberToObject(j, "n_used", (double)c.n);
        cJSON_AddNumberToObject(j, "n_missing", (double)c.n_missing);
        json_num(j, "c", f.c);
        json_num(j, "k", f.k);
        json_num(j, "p", f.p);
        se = cJSON_AddObjectToObject(j, "se");
        json_num(se, "c", f.se_c);
        json_num(se, "k", f.se_k);
        json_num(se, "p", f.se_p);
        json_num(j, "rss", f.rss);
        cJSON_AddStringToObject(j, "rss_of", "log y");
        print_json(j);
        cJSON_Delete(j);
    } else {
        printf("power law y = c + k x^-p fitted to %s (%zu rows, %zu with missing values), least "
               "squares on log y\n", file, c.n, c.n_missing);
        printf("  c %-14.6g se %.4g%s\n  k %-14.6g se %.4g\n  p %-14.6g se %.4g\n  rss %.6g (log y)\n",
               f.c, f.se_c, o->offset ? "" : " (no offset: fixed)", f.k, f.se_k, f.p, f.se_p, f.rss);
    }
    if (dir) {
        static const char *cols[] = {"x", "y"};
        tabs[0] = od_table_alloc("data");
        for (int k = 0; tabs[0] && k < 2; k++) od_table_add_double(tabs[0], cols[k], c.v + k * c.n, c.n);
        add_curve_table(&tabs[1], "curve", c.n, c.v, powerlaw_fn, &f, 1);
        fig = data_figure("power law y = c + k x^−p", o->x, o->y, tabs[0], "x", "y");
        if (!tabs[1] || !fig) {
            code = od_cli_fail(CMD, OD_EXIT_ERROR, "out of memory");
            goto done;
        }
        od_figure_add(fig, &(od_series){.table = tabs[1], .x = "x", .y = "y", .kind = OD_PLOT_LINES,
                                        .label = "fit"});
    }
    if (write_outputs(dir, man, tabs, 2, fig, &o->c) != OD_OK)
        code = od_cli_fail(CMD, OD_EXIT_ERROR, "%s", od_last_error());
done:
    od_table_free(tabs[0]);
    od_table_free(tabs[1]);
    od_figure_free(fig);
    od_exp_scaling_cols_free(&c);
    return code;
}

static int run_loglinear(const fit_opts *o, const char *file, const char *dir, od_manifest *man)
{
    char buf[1024];
    const char *names[MAX_X + 1];
    snprintf(buf, sizeof buf, "%s", o->x);
    size_t k = split_names(buf, names + 1, MAX_X);
    names[0] = o->y;
    od_exp_scaling_cols c;
    int code = read_cols(file, k + 1, names, k + 3, &c);
    if (code) return code;
    double *X = malloc(c.n * k * sizeof *X);
    od_scaling_loglinear f = {0};
    od_table *t = NULL;
    od_figure *fig = NULL;
    if (!X) {
        code = od_cli_fail(CMD, OD_EXIT_ERROR, "out of memory");
        goto done;
    }
    if (dir && od_mkdir_p(dir) != OD_OK) {
        code = od_cli_fail(CMD, OD_EXIT_USAGE, "%s", od_last_error());
        goto done;
    }
    for (size_t i = 0; i < c.n; i++)
        for (size_t j = 0; j < k; j++) X[i * k + j] = c.v[(j + 1) * c.n + i];
    if (od_scaling_fit_loglinear(c.n, k, X, c.v, &f)) {
        code = od_cli_fail(CMD, OD_EXIT_ERROR, "%s", od_last_error());
        goto done;
    }
    if (o->c.json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "model", "loglinear");
        cJSON_AddNumberToObject(j, "n_used", (double)c.n);
        cJSON_AddNumberToObject(j, "n_missing", (double)c.n_missing);
        json_num(j, "intercept", f.intercept);
        cJSON *ex = cJSON_AddObjectToObject(j, "exponents"), *se = cJSON_AddObjectToObject(j, "se");
        json_num(se, "intercept", f.se_intercept);
        for (size_t q = 0; q < k; q++) {
            json_num(ex, names[q + 1], f.coef[q]);
            json_num(se, names[q + 1], f.se[q]);
        }
        json_num(j, "rss", f.rss);
        print_json(j);
        cJSON_Delete(j);
    } else {
        printf("log-linear law log %s = c0 + sum c_j log x_j fitted to %s (%zu rows, %zu with "
               "missing values), natural logs\n", o->y, file, c.n, c.n_missing);
        printf("  %-18s %-14.6g se %.4g\n", "intercept", f.intercept, f.se_intercept);
        for (size_t q = 0; q < k; q++)
            printf("  %-18s %-14.6g se %.4g\n", names[q + 1], f.coef[q], f.se[q]);
        printf("  rss %.6g\n", f.rss);
    }
    if (dir) {
        static const char *cols[] = {"observed", "fitted"};
        t = od_table_alloc("data");
        for (int q = 0; t && q < 2; q++) od_table_add_double(t, cols[q], NULL, 0);
        for (size_t i = 0; t && i < c.n; i++) {
            double ly = f.intercept;
            for (size_t q = 0; q < k; q++) ly += f.coef[q] * log(X[i * k + q]);
            double row[2] = {c.v[i], exp(ly)};
            od_table_append(t, row);
        }
        fig = data_figure("log-linear law: fitted against observed", "observed", "fitted", t,
                          "observed", "fitted");
        if (!fig) {
            code = od_cli_fail(CMD, OD_EXIT_ERROR, "out of memory");
            goto done;
        }
        od_figure_add(fig, &(od_series){.table = t, .x = "observed", .y = "observed",
                                        .kind = OD_PLOT_LINES, .label = "fitted = observed", .dash = 2});
    }
    if (write_outputs(dir, man, &t, 1, fig, &o->c) != OD_OK)
        code = od_cli_fail(CMD, OD_EXIT_ERROR, "%s", od_last_error());
done:
    od_table_free(t);
    od_figure_free(fig);
    od_scaling_loglinear_free(&f);
    free(X);
    od_exp_scaling_cols_free(&c);
    return code;
}

/* ---- learning rate vs batch size ---------------------------------------------------------------- */

static double lr_fn(double B, const void *arg)
{
    const od_scaling_lr_fit *f = arg;
    return od_scaling_lr_eval(f->form, f->eps_max, f->B_noise, B);
}

static int run_lrbatch(const fit_opts *o, const char *file, const char *dir, od_manifest *man)
{
    const char *names[2] = {o->batch, o->lr};
    od_exp_scaling_cols c;
    int code = read_cols(file, 2, names, 3, &c);
    if (code) return code;
    const int want[2] = {strcmp(o->form, "surge") != 0, strcmp(o->form, "sgd") != 0};
    od_scaling_lr_fit f[2];
    od_table *tabs[3] = {0};
    od_figure *fig = NULL;
    cJSON *j = cJSON_CreateObject();
    int better = -1;
    if (dir && od_mkdir_p(dir) != OD_OK) {
        code = od_cli_fail(CMD, OD_EXIT_USAGE, "%s", od_last_error());
        goto done;
    }
    if (!o->c.json)
        printf("learning rate vs batch size fitted to %s (%zu rows, %zu with missing values), "
               "least squares on log lr\n", file, c.n, c.n_missing);
    for (int k = 0; k < 2; k++) {
        if (!want[k]) continue;
        if (od_scaling_fit_lr_batch(c.n, c.v, c.v + c.n, (od_scaling_lr_form)k, &f[k])) {
            code = od_cli_fail(CMD, OD_EXIT_ERROR, "%s", od_last_error());
            goto done;
        }
        cJSON *jf = cJSON_AddObjectToObject(j, od_scaling_lr_form_names[k]);
        json_num(jf, "eps_max", f[k].eps_max);
        json_num(jf, "B_noise", f[k].B_noise);
        json_num(jf, "rss", f[k].rss);
        json_num(jf, "se_log_eps_max", f[k].se_log_eps_max);
        json_num(jf, "se_log_B_noise", f[k].se_log_B_noise);
        cJSON_AddBoolToObject(jf, "identified", f[k].identified);
        if (better < 0 || f[k].rss < f[better].rss) better = k;
        if (!o->c.json)
            printf("  %-6s eps_max %-12.6g B_noise %-12.6g rss %.6g%s\n",
                   od_scaling_lr_form_names[k], f[k].eps_max, f[k].B_noise, f[k].rss,
                   f[k].identified ? "" : "  (B_noise not identified: > 100x outside the data)");
    }
    cJSON_AddStringToObject(j, "better", od_scaling_lr_form_names[better]);
    if (o->c.json) print_json(j);
    else printf("  better by residual sum of squares: %s\n", od_scaling_lr_form_names[better]);
    if (dir) {
        static const char *cols[] = {"B", "lr"};
        tabs[0] = od_table_alloc("data");
        for (int k = 0; tabs[0] && k < 2; k++) od_table_add_double(tabs[0], cols[k], c.v + k * c.n, c.n);
        fig = data_figure("optimal learning rate against batch size", o->batch, o->lr, tabs[0], "B", "lr");
        if (!fig) {
            code = od_cli_fail(CMD, OD_EXIT_ERROR, "out of memory");
            goto done;
        }
        static const char *lab[2] = {"McCandlish: ε_max/(1 + B_noise/B)",
                                     "Surge: ε_max/(½(√(B_noise/B) + √(B/B_noise)))"};
        for (int k = 0; k < 2; k++) {
            if (!want[k]) continue;
            add_curve_table(&tabs[1 + k], k ? "surge" : "sgd", c.n, c.v, lr_fn, &f[k], 1);
            if (!tabs[1 + k]) {
                code = od_cli_fail(CMD, OD_EXIT_ERROR, "out of memory");
                goto done;
            }
            od_figure_add(fig, &(od_series){.table = tabs[1 + k], .x = "x", .y = "y",
                                            .kind = OD_PLOT_LINES, .label = lab[k], .dash = k ? 2 : 0});
        }
    }
    if (write_outputs(dir, man, tabs, 3, fig, &o->c) != OD_OK)
        code = od_cli_fail(CMD, OD_EXIT_ERROR, "%s", od_last_error());
done:
    cJSON_Delete(j);
    for (int k = 0; k < 3; k++) od_table_free(tabs[k]);
    od_figure_free(fig);
    od_exp_scaling_cols_free(&c);
    return code;
}

/* ---- options ------------------------------------------------------------------------------------ */

static const char usage_text[] =
    "optdyn fit FILE.csv --model chinchilla --N COL (--D COL | --flops COL) --loss COL\n"
    "                    [--drop-top K] [--huber DELTA] [--mle] [--bootstrap R] [--compute C]\n"
    "                    [--predict FILE.csv] [--compare E,A,B,alpha,beta] [--seed S] [--json]\n"
    "                    [--out DIR]\n"
    "       optdyn fit FILE.csv --model powerlaw --x COL --y COL [--offset]            [--json]\n"
    "       optdyn fit FILE.csv --model loglinear --y COL --x COL1,COL2,...            [--json]\n"
    "       optdyn fit FILE.csv --model lr-batch --batch COL --lr COL --form sgd|surge|both [--json]";

static const char help_text[] =
    "Fits a scaling law to the rows of a CSV file (header row of column names; quoted fields,\n"
    "'#' comment lines and blank lines allowed; rows with a missing value in a used column are\n"
    "left out and counted).\n\n"
    "  chinchilla  L(N, D) = E + A/N^alpha + B/D^beta by the Approach 3 of Hoffmann et al. (2022) as\n"
    "              replicated by Besiroglu et al. (2024): Huber loss (delta) on log residuals,\n"
    "              Hoffmann's 4500 starting points, BFGS, the lowest objective kept.  D comes from\n"
    "              --D or from compute as C/(6N).  --drop-top K drops the K highest losses (more on\n"
    "              ties).  --mle reports the Huber-likelihood estimate with a free scale instead.\n"
    "              --bootstrap R adds standard errors and 95% percentile intervals (resamples of\n"
    "              the rows, reproducible from --seed for any --threads).  --compute C gives the\n"
    "              compute-optimal N_opt, D_opt and tokens per parameter, a = beta/(alpha+beta).\n"
    "              --predict FILE predicts the loss of the rows of another file (same columns).\n"
    "              --compare E,A,B,alpha,beta tests a published law: likelihood ratio under the\n"
    "              Huber likelihood, and with --bootstrap the chi-square test of Besiroglu et al.\n"
    "  powerlaw    y = c + k x^-p (c = 0 without --offset), least squares on log y.\n"
    "  loglinear   log y = c0 + sum_j c_j log x_j by ordinary least squares (natural logs).\n"
    "  lr-batch    learning rate vs batch size: McCandlish eps_max/(1 + B_noise/B) (sgd) and\n"
    "              Surge eps_max/(1/2 (sqrt(B_noise/B) + sqrt(B/B_noise))), least squares on\n"
    "              log lr; the better one by residual sum of squares.\n\n"
    "Prints a summary, or with --json one JSON object.  With --out DIR it also writes TSV tables,\n"
    "a figure (fit.png and fit.gp) and manifest.json into DIR.  Exit status: 0 done, 2 bad input\n"
    "(one line names the option, file, line or column), 3 the fit failed.\n\n"
    "example (the replication of Besiroglu et al.):\n"
    "  optdyn fit svg_extracted_data.csv --model chinchilla --N \"Model Size\" \\\n"
    "      --flops \"Training FLOP\" --loss loss --drop-top 5 --bootstrap 4000 --compute 5.76e23";

static int parse_compare(const char *text, od_scaling_law *law)
{
    double v[5];
    size_t n;
    if (od_parse_doubles(text, ',', v, 5, &n, "--compare") != OD_OK || n != 5)
        return od_cli_fail(CMD, OD_EXIT_USAGE, "--compare: expected five numbers E,A,B,alpha,beta, "
                           "got '%s'", text);
    if (!(v[0] > 0 && v[1] > 0 && v[2] > 0))
        return od_cli_fail(CMD, OD_EXIT_USAGE, "--compare: E, A and B must be positive, got '%s'",
                           text);
    *law = (od_scaling_law){.E = v[0], .A = v[1], .B = v[2], .alpha = v[3], .beta = v[4]};
    return OD_EXIT_OK;
}

/* Which options each model takes; anything else given is an error naming the option. */
static int check_model_options(fit_opts *o)
{
    struct {
        const char *name;
        int given;
        unsigned models;   /* bit m: allowed for model m */
    } t[] = {
        {"--N", o->ncol != NULL, 1u << M_CHINCHILLA},
        {"--D", o->dcol != NULL, 1u << M_CHINCHILLA},
        {"--flops", o->fcol != NULL, 1u << M_CHINCHILLA},
        {"--loss", o->lcol != NULL, 1u << M_CHINCHILLA},
        {"--drop-top", o->drop != 0, 1u << M_CHINCHILLA},
        {"--huber", o->huber != 1e-3, 1u << M_CHINCHILLA},
        {"--mle", o->mle, 1u << M_CHINCHILLA},
        {"--bootstrap", o->boot != 0, 1u << M_CHINCHILLA},
        {"--compute", o->compute != 0, 1u << M_CHINCHILLA},
        {"--predict", o->predict != NULL, 1u << M_CHINCHILLA},
        {"--compare", o->compare != NULL, 1u << M_CHINCHILLA},
        {"--x", o->x != NULL, 1u << M_POWERLAW | 1u << M_LOGLINEAR},
        {"--y", o->y != NULL, 1u << M_POWERLAW | 1u << M_LOGLINEAR},
        {"--offset", o->offset, 1u << M_POWERLAW},
        {"--batch", o->batch != NULL, 1u << M_LRBATCH},
        {"--lr", o->lr != NULL, 1u << M_LRBATCH},
        {"--form", o->form != NULL, 1u << M_LRBATCH},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i].given && !(t[i].models & (1u << o->m)))
            return od_cli_fail(CMD, OD_EXIT_USAGE, "%s does not apply to --model %s", t[i].name,
                               model_names[o->m]);
    const char *missing = NULL;
    switch (o->m) {
    case M_CHINCHILLA:
        missing = !o->ncol ? "--N" : !o->lcol ? "--loss" : (!o->dcol && !o->fcol) ? "--D or --flops" : NULL;
        if (o->dcol && o->fcol)
            return od_cli_fail(CMD, OD_EXIT_USAGE, "give either --D or --flops, not both");
        if (o->compare && parse_compare(o->compare, &o->cmp)) return OD_EXIT_USAGE;
        break;
    case M_POWERLAW:
        missing = !o->x ? "--x" : !o->y ? "--y" : NULL;
        if (o->x && strchr(o->x, ','))
            return od_cli_fail(CMD, OD_EXIT_USAGE, "--x: one column for --model powerlaw (several "
                               "are for --model loglinear)");
        break;
    case M_LOGLINEAR: {
        missing = !o->x ? "--x" : !o->y ? "--y" : NULL;
        if (!o->x) break;
        char buf[1024];
        const char *nm[MAX_X + 1];
        if (strlen(o->x) >= sizeof buf || o->x[0] == ',' || strstr(o->x, ",,") ||
            o->x[strlen(o->x) - 1] == ',')
            return od_cli_fail(CMD, OD_EXIT_USAGE, "--x: expected COL1,COL2,..., got '%s'", o->x);
        snprintf(buf, sizeof buf, "%s", o->x);
        size_t k = split_names(buf, nm, MAX_X + 1);
        if (k > MAX_X)
            return od_cli_fail(CMD, OD_EXIT_USAGE, "--x: at most %d columns", MAX_X);
        for (size_t a = 0; a < k; a++)
            for (size_t b = 0; b < a; b++)
                if (strcmp(nm[a], nm[b]) == 0)
                    return od_cli_fail(CMD, OD_EXIT_USAGE, "--x: column '%s' given twice", nm[a]);
        break;
    }
    case M_LRBATCH:
        missing = !o->batch ? "--batch" : !o->lr ? "--lr" : NULL;
        if (!o->form) o->form = "both";
        if (strcmp(o->form, "sgd") && strcmp(o->form, "surge") && strcmp(o->form, "both"))
            return od_cli_fail(CMD, OD_EXIT_USAGE, "--form: unknown form '%s' (sgd, surge or both)",
                               o->form);
        break;
    }
    if (missing)
        return od_cli_fail(CMD, OD_EXIT_USAGE, "--model %s needs %s", model_names[o->m], missing);
    return OD_EXIT_OK;
}

int od_cmd_fit(int argc, char **argv)
{
    fit_opts o = {.c = od_cli_common_defaults(), .huber = 1e-3};
    o.c.out = NULL;   /* files are written only when --out is given */
    od_cli_opt opts[40] = {
        {"--model", OD_OPT_STRING, &o.model, 0, 0, "NAME", "chinchilla | powerlaw | loglinear | lr-batch"},
        {"--N", OD_OPT_STRING, &o.ncol, 0, 0, "COL", "chinchilla: column of parameters N"},
        {"--D", OD_OPT_STRING, &o.dcol, 0, 0, "COL", "chinchilla: column of training tokens D"},
        {"--flops", OD_OPT_STRING, &o.fcol, 0, 0, "COL", "chinchilla: column of compute C (D = C/(6N))"},
        {"--loss", OD_OPT_STRING, &o.lcol, 0, 0, "COL", "chinchilla: column of the loss (nats/token)"},
        {"--drop-top", OD_OPT_INT, &o.drop, 0, 1e9, "K", "chinchilla: drop the K highest losses (default 0)"},
        {"--huber", OD_OPT_DOUBLE, &o.huber, 1e-12, 1e12, "DELTA", "chinchilla: Huber threshold on log residuals (default 1e-3)"},
        {"--mle", OD_OPT_FLAG, &o.mle, 0, 0, NULL, "chinchilla: report the Huber-likelihood estimate"},
        {"--bootstrap", OD_OPT_INT, &o.boot, 2, 1e6, "R", "chinchilla: R bootstrap resamples"},
        {"--compute", OD_OPT_DOUBLE, &o.compute, 1e-300, 1e300, "C", "chinchilla: compute-optimal allocation at C FLOP"},
        {"--predict", OD_OPT_STRING, &o.predict, 0, 0, "FILE", "chinchilla: predict the rows of FILE"},
        {"--compare", OD_OPT_STRING, &o.compare, 0, 0, "E,A,B,alpha,beta", "chinchilla: test this law against the data"},
        {"--x", OD_OPT_STRING, &o.x, 0, 0, "COL[,COL...]", "powerlaw / loglinear: regressor column(s)"},
        {"--y", OD_OPT_STRING, &o.y, 0, 0, "COL", "powerlaw / loglinear: response column"},
        {"--offset", OD_OPT_FLAG, &o.offset, 0, 0, NULL, "powerlaw: fit the offset c"},
        {"--batch", OD_OPT_STRING, &o.batch, 0, 0, "COL", "lr-batch: batch size column"},
        {"--lr", OD_OPT_STRING, &o.lr, 0, 0, "COL", "lr-batch: optimal learning rate column"},
        {"--form", OD_OPT_STRING, &o.form, 0, 0, "sgd|surge|both", "lr-batch: forms to fit (default both)"},
    };
    size_t n = 18;
    n += od_cli_common_opts(&o.c, 0, opts + n, 40 - n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(opts[i].name, "--out") == 0)
            opts[i].help = "write tables, the figure and manifest.json here (default: nothing)";
    char *pos[8];
    size_t npos;
    int st = od_cli_parse(CMD, argc, argv, opts, n, pos, 8, &npos);
    if (st) return st;
    if (o.c.help) {
        printf("usage: %s\n\n%s\n\noptions:\n", usage_text, help_text);
        od_cli_print_opts(opts, n);
        return OD_EXIT_OK;
    }
    const char *dir = o.c.out;
    if (!o.c.out) o.c.out = "out";   /* od_cli_common_finish wants a folder name */
    if ((st = od_cli_common_finish(CMD, &o.c))) return st;
    if (npos != 1)
        return od_cli_fail(CMD, OD_EXIT_USAGE, npos ? "expected one CSV file, got %zu arguments"
                                                    : "expected a CSV file (see 'optdyn fit --help')",
                           npos);
    if (!o.model) return od_cli_fail(CMD, OD_EXIT_USAGE, "--model is required (chinchilla, "
                                     "powerlaw, loglinear or lr-batch)");
    int found = 0;
    for (int m = 0; m < 4; m++)
        if (strcmp(o.model, model_names[m]) == 0) {
            o.m = (model_id)m;
            found = 1;
        }
    if (!found)
        return od_cli_fail(CMD, OD_EXIT_USAGE, "--model: unknown model '%s' (chinchilla, powerlaw, "
                           "loglinear or lr-batch)", o.model);
    if ((st = check_model_options(&o))) return st;
    od_manifest *man = od_manifest_alloc("fit");
    if (!man) return od_cli_fail(CMD, OD_EXIT_ERROR, "out of memory");
    od_manifest_set_str(man, "file", pos[0]);
    od_manifest_set_str(man, "model", o.model);
    od_manifest_set_num(man, "seed", (double)o.c.seed);
    od_manifest_set_num(man, "threads", (double)o.c.threads);
    char line[4096] = "optdyn fit";
    for (int i = 1; i < argc; i++) {
        size_t used = strlen(line);
        snprintf(line + used, sizeof line - used, " %s", argv[i]);
    }
    od_manifest_set_str(man, "command_line", line);
    switch (o.m) {
    case M_CHINCHILLA: st = run_chinchilla(&o, pos[0], dir, man); break;
    case M_POWERLAW: st = run_powerlaw(&o, pos[0], dir, man); break;
    case M_LOGLINEAR: st = run_loglinear(&o, pos[0], dir, man); break;
    case M_LRBATCH: st = run_lrbatch(&o, pos[0], dir, man); break;
    }
    od_manifest_free(man);
    return st;
}
