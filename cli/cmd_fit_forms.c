/* optdyn cli — `optdyn fit --model powerlaw | loglinear | lr-batch`: the other forms of issue 6
 * (see cmd_fit.c for the options). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_fit.h"
#include "experiments/scaling_common.h"

/* ---- shared by the three forms ------------------------------------------------------------------ */

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
    *t = od_exp_scaling_table(name, cols, 2);
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

/* ---- power law and log-linear ------------------------------------------------------------------- */

static double powerlaw_fn(double x, const void *arg)
{
    const od_scaling_powerlaw *p = arg;
    return p->c + p->k * pow(x, -p->p);
}

int od_fit_powerlaw(const fit_opts *o, const char *file, const char *dir, od_manifest *man)
{
    const char *names[2] = {o->x, o->y};
    od_exp_scaling_cols c;
    int code = read_cols(file, 2, names, o->offset ? 4 : 3, &c);
    if (code) return code;
    od_scaling_powerlaw f;
    od_table *tabs[2] = {0};
    od_figure *fig = NULL;
    if ((code = od_fit_make_dir(dir))) goto done;
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
        od_fit_json_num(j, "c", f.c);
        od_fit_json_num(j, "k", f.k);
        od_fit_json_num(j, "p", f.p);
        se = cJSON_AddObjectToObject(j, "se");
        od_fit_json_num(se, "c", f.se_c);
        od_fit_json_num(se, "k", f.se_k);
        od_fit_json_num(se, "p", f.se_p);
        od_fit_json_num(j, "rss", f.rss);
        cJSON_AddStringToObject(j, "rss_of", "log y");
        od_fit_print_json(j);
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
    if (od_fit_write_outputs(dir, man, tabs, 2, fig, &o->c) != OD_OK)
        code = od_cli_fail(CMD, OD_EXIT_ERROR, "%s", od_last_error());
done:
    od_table_free(tabs[0]);
    od_table_free(tabs[1]);
    od_figure_free(fig);
    od_exp_scaling_cols_free(&c);
    return code;
}

int od_fit_loglinear(const fit_opts *o, const char *file, const char *dir, od_manifest *man)
{
    char buf[1024];
    const char *names[MAX_X + 1];
    snprintf(buf, sizeof buf, "%s", o->x);
    size_t k = od_fit_split_names(buf, names + 1, MAX_X);
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
    if ((code = od_fit_make_dir(dir))) goto done;
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
        od_fit_json_num(j, "intercept", f.intercept);
        cJSON *ex = cJSON_AddObjectToObject(j, "exponents"), *se = cJSON_AddObjectToObject(j, "se");
        od_fit_json_num(se, "intercept", f.se_intercept);
        for (size_t q = 0; q < k; q++) {
            od_fit_json_num(ex, names[q + 1], f.coef[q]);
            od_fit_json_num(se, names[q + 1], f.se[q]);
        }
        od_fit_json_num(j, "rss", f.rss);
        od_fit_print_json(j);
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
        t = od_exp_scaling_table("data", cols, 2);
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
    if (od_fit_write_outputs(dir, man, &t, 1, fig, &o->c) != OD_OK)
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

int od_fit_lrbatch(const fit_opts *o, const char *file, const char *dir, od_manifest *man)
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
    if ((code = od_fit_make_dir(dir))) goto done;
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
        od_fit_json_num(jf, "eps_max", f[k].eps_max);
        od_fit_json_num(jf, "B_noise", f[k].B_noise);
        od_fit_json_num(jf, "rss", f[k].rss);
        od_fit_json_num(jf, "se_log_eps_max", f[k].se_log_eps_max);
        od_fit_json_num(jf, "se_log_B_noise", f[k].se_log_B_noise);
        cJSON_AddBoolToObject(jf, "identified", f[k].identified);
        if (better < 0 || f[k].rss < f[better].rss) better = k;
        if (!o->c.json)
            printf("  %-6s eps_max %-12.6g B_noise %-12.6g rss %.6g%s\n",
                   od_scaling_lr_form_names[k], f[k].eps_max, f[k].B_noise, f[k].rss,
                   f[k].identified ? "" : "  (B_noise not identified: > 100x outside the data)");
    }
    cJSON_AddStringToObject(j, "better", od_scaling_lr_form_names[better]);
    if (o->c.json) od_fit_print_json(j);
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
    if (od_fit_write_outputs(dir, man, tabs, 3, fig, &o->c) != OD_OK)
        code = od_cli_fail(CMD, OD_EXIT_ERROR, "%s", od_last_error());
done:
    cJSON_Delete(j);
    for (int k = 0; k < 3; k++) od_table_free(tabs[k]);
    od_figure_free(fig);
    od_exp_scaling_cols_free(&c);
    return code;
}

