/* optdyn experiments — tables and figures of scaling-law fits (see scaling_common.h). */
#include "experiments/scaling_common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

void od_exp_scaling_cols_free(od_exp_scaling_cols *c)
{
    if (!c) return;
    free(c->v);
    free(c->line);
    memset(c, 0, sizeof *c);
}

int od_exp_scaling_read_cols(const char *path, size_t k, const char *const *names,
                             od_exp_scaling_cols *out)
{
    memset(out, 0, sizeof *out);
    od_scaling_csv *csv;
    OD_TRY(od_scaling_csv_read(path, &csv));
    const size_t n = od_scaling_csv_rows(csv), n1 = n ? n : 1;
    double *v = malloc(k * n1 * sizeof *v);
    long *line = malloc(n1 * sizeof *line);
    int st = OD_OK;
    if (!v || !line) {
        st = od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
        goto fail;
    }
    for (size_t j = 0; j < k; j++)
        if ((st = od_scaling_csv_column(csv, names[j], v + j * n)) != OD_OK) goto fail;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int missing = 0;
        for (size_t j = 0; j < k; j++) missing |= isnan(v[j * n + i]);
        if (missing) {
            out->n_missing++;
            continue;
        }
        for (size_t j = 0; j < k; j++)
            if (!(v[j * n + i] > 0)) {
                st = od_error(OD_ERANGE, __FILE__, __LINE__,
                              "%s:%ld: row %zu, column '%s': %g is not positive", path,
                              od_scaling_csv_line(csv, i), i + 1, names[j], v[j * n + i]);
                goto fail;
            }
        for (size_t j = 0; j < k; j++) v[j * n + m] = v[j * n + i];   /* m <= i: in place */
        line[m++] = od_scaling_csv_line(csv, i);
    }
    for (size_t j = 1; j < k; j++) memmove(v + j * m, v + j * n, m * sizeof *v);
    out->n = m;
    out->k = k;
    out->v = v;
    out->line = line;
    od_scaling_csv_free(csv);
    return OD_OK;
fail:
    free(v);
    free(line);
    od_scaling_csv_free(csv);
    return st;
}

void od_exp_scaling_rows_free(od_exp_scaling_rows *r)
{
    if (!r) return;
    od_exp_scaling_cols_free(&r->cols);
    memset(r, 0, sizeof *r);
}

int od_exp_scaling_read_rows(const char *path, const char *ncol, const char *dcol,
                             const char *ccol, const char *lcol, od_exp_scaling_rows *out)
{
    memset(out, 0, sizeof *out);
    const char *names[3] = {ncol, dcol ? dcol : ccol, lcol};
    OD_TRY(od_exp_scaling_read_cols(path, lcol ? 3 : 2, names, &out->cols));
    const size_t m = out->cols.n;
    out->n = m;
    out->n_missing = out->cols.n_missing;
    out->N = out->cols.v;
    out->D = out->cols.v + m;
    out->L = lcol ? out->cols.v + 2 * m : NULL;
    out->line = out->cols.line;
    if (!dcol) od_scaling_tokens_from_flops(m, out->N, out->D, out->D);   /* C -> D in place */
    return OD_OK;
}

od_scaling_data *od_exp_scaling_kept_data(const od_exp_scaling_rows *rows, const unsigned char *keep)
{
    const size_t n = rows->n;
    double *buf = malloc(3 * (n ? n : 1) * sizeof *buf);
    od_scaling_data *d = NULL;
    if (!buf) {
        od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
        return NULL;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!keep || keep[i]) {
            buf[m] = rows->N[i];
            buf[n + m] = rows->D[i];
            buf[2 * n + m] = rows->L[i];
            m++;
        }
    od_scaling_data_alloc(m, buf, buf + n, buf + 2 * n, NULL, &d);
    free(buf);
    return d;
}

od_table *od_exp_scaling_table(const char *name, const char *const *cols, size_t ncols)
{
    od_table *t = od_table_alloc(name);
    for (size_t j = 0; t && j < ncols; j++)
        if (od_table_add_double(t, cols[j], NULL, 0) != OD_OK) {
            od_table_free(t);
            return NULL;
        }
    return t;
}

double od_exp_scaling_alloc_fn(const double theta[OD_SCALING_NPAR], void *arg)
{
    const od_exp_scaling_alloc_arg *a = arg;
    const od_scaling_law l = od_scaling_law_from_theta(theta);
    od_scaling_alloc r;
    if (od_scaling_allocate(&l, a->C, &r) != OD_OK) return NAN;
    return a->what == OD_EXP_SCALING_N_OPT ? r.N_opt : a->what == OD_EXP_SCALING_D_OPT ? r.D_opt
                                                                                     : r.tokens_per_param;
}

od_table *od_exp_scaling_data_table(const char *name, const od_exp_scaling_rows *rows,
                                    const unsigned char *keep, int kept, const od_scaling_law *fit,
                                    const od_scaling_law *ref)
{
    static const char *cols[] = {"log10_C", "log10_N", "N", "D", "loss", "fit", "residual",
                                 "ref_residual", "line"};
    od_table *t = od_exp_scaling_table(name, cols, 9);
    if (!t) return NULL;
    od_table_meta(t, "law", "L(N, D) = E + A N^-alpha + B D^-beta, E = %.6g, A = %.6g, B = %.6g, "
                  "alpha = %.6g, beta = %.6g", fit->E, fit->A, fit->B, fit->alpha, fit->beta);
    od_table_meta(t, "residual", "log loss - log fit (natural log); C = 6 N D");
    od_table_meta(t, "rows", "%s", kept ? "rows used in the fit" : "rows left out of the fit");
    for (size_t i = 0; i < rows->n; i++) {
        if ((keep ? keep[i] != 0 : 1) != (kept != 0)) continue;
        double N = rows->N[i], D = rows->D[i], L = rows->L ? rows->L[i] : NAN;
        double F = od_scaling_law_eval(fit, N, D);
        double row[9] = {log10(6 * N * D), log10(N), N, D, L, F, log(L / F),
                         ref ? log(L / od_scaling_law_eval(ref, N, D)) : NAN,
                         (double)rows->line[i]};
        if (od_table_append(t, row) != OD_OK) {
            od_table_free(t);
            return NULL;
        }
    }
    return t;
}

/* log10 ranges of C and N over the rows, widened by a quarter decade on each side. */
static void ranges(const od_exp_scaling_rows *rows, double *c0, double *c1, double *n0, double *n1)
{
    *c0 = *n0 = INFINITY;
    *c1 = *n1 = -INFINITY;
    for (size_t i = 0; i < rows->n; i++) {
        double lc = log10(6 * rows->N[i] * rows->D[i]), ln = log10(rows->N[i]);
        *c0 = fmin(*c0, lc);
        *c1 = fmax(*c1, lc);
        *n0 = fmin(*n0, ln);
        *n1 = fmax(*n1, ln);
    }
    *c0 -= 0.25;
    *c1 += 0.25;
    *n0 -= 0.25;
    *n1 += 0.25;
}

od_table *od_exp_scaling_surface_table(const char *name, const od_exp_scaling_rows *rows,
                                       const od_scaling_law *fit, size_t nx, size_t ny)
{
    static const char *cols[] = {"log10_C", "log10_N", "loss"};
    od_table *t = od_exp_scaling_table(name, cols, 3);
    if (!t || nx < 2 || ny < 2) {
        od_table_free(t);
        return NULL;
    }
    double c0, c1, n0, n1;
    ranges(rows, &c0, &c1, &n0, &n1);
    od_table_meta(t, "grid", "%zu x %zu points, loss = L(N, C/(6N)) of the fitted law", nx, ny);
    for (size_t j = 0; j < ny; j++)
        for (size_t i = 0; i < nx; i++) {
            double lc = c0 + (c1 - c0) * (double)i / (double)(nx - 1);
            double ln = n0 + (n1 - n0) * (double)j / (double)(ny - 1);
            double N = pow(10, ln), D = pow(10, lc) / (6 * N);
            double row[3] = {lc, ln, od_scaling_law_eval(fit, N, D)};
            if (od_table_append(t, row) != OD_OK) {
                od_table_free(t);
                return NULL;
            }
        }
    return t;
}

od_table *od_exp_scaling_frontier_table(const char *name, const od_exp_scaling_rows *rows,
                                        const od_scaling_law *fit, const od_scaling_law *ref)
{
    static const char *cols[] = {"log10_C", "log10_N_opt", "tokens_per_param", "ref_log10_N_opt",
                                 "ref_tokens_per_param"};
    od_table *t = od_exp_scaling_table(name, cols, 5);
    if (!t) return NULL;
    double c0, c1, n0, n1;
    ranges(rows, &c0, &c1, &n0, &n1);
    od_table_meta(t, "frontier", "N_opt(C) minimising L(N, D) subject to C = 6 N D");
    for (int i = 0; i <= 100; i++) {
        double lc = c0 + (c1 - c0) * i / 100.0, C = pow(10, lc);
        od_scaling_alloc a, b;
        double row[5] = {lc, NAN, NAN, NAN, NAN};
        if (od_scaling_allocate(fit, C, &a) == OD_OK) {
            row[1] = log10(a.N_opt);
            row[2] = a.tokens_per_param;
        }
        if (ref && od_scaling_allocate(ref, C, &b) == OD_OK) {
            row[3] = log10(b.N_opt);
            row[4] = b.tokens_per_param;
        }
        if (od_table_append(t, row) != OD_OK) {
            od_table_free(t);
            return NULL;
        }
    }
    return t;
}

od_table *od_exp_scaling_histogram(const char *name, const double *x, size_t n, size_t stride,
                                   size_t bins)
{
    static const char *cols[] = {"x", "density"};
    double *v = malloc((n ? n : 1) * sizeof *v);
    double *cnt = calloc(bins ? bins : 1, sizeof *cnt);
    od_table *t = od_exp_scaling_table(name, cols, 2);
    size_t m = 0;
    if (!v || !cnt || !t || bins == 0) goto fail;
    for (size_t k = 0; k < n; k++)
        if (isfinite(x[k * stride])) v[m++] = x[k * stride];
    if (m < 2) goto fail;
    gsl_sort(v, 1, m);
    double lo = gsl_stats_quantile_from_sorted_data(v, 1, m, 0.005);
    double hi = gsl_stats_quantile_from_sorted_data(v, 1, m, 0.995);
    if (!(hi > lo)) hi = lo + 1e-12 * (fabs(lo) + 1);
    const double w = (hi - lo) / (double)bins;
    for (size_t k = 0; k < m; k++)
        if (v[k] >= lo && v[k] <= hi) {
            size_t b = (size_t)((v[k] - lo) / w);
            cnt[b < bins ? b : bins - 1] += 1;
        }
    od_table_meta(t, "histogram", "%zu values, %zu bins over the 0.5-99.5 percentile range", m, bins);
    for (size_t b = 0; b < bins; b++) {
        double row[2] = {lo + w * ((double)b + 0.5), cnt[b] / ((double)m * w)};
        if (od_table_append(t, row) != OD_OK) goto fail;
    }
    free(v);
    free(cnt);
    return t;
fail:
    free(v);
    free(cnt);
    od_table_free(t);
    return NULL;
}

od_figure *od_exp_scaling_chinchilla_figure(const char *name, const char *title,
                                            const od_table *data, const od_table *dropped,
                                            const od_table *surface,
                                            const od_table *frontier, const char *fit_label,
                                            const char *ref_label, const od_table *hist_alpha,
                                            const od_table *hist_beta, const od_table *hist_a)
{
    od_figure *f = od_figure_alloc(name, title);
    if (!f) return NULL;
    const int boot = hist_alpha && hist_beta && hist_a;
    od_figure_layout(f, boot ? 2 : 1, 2);
    if (boot) od_figure_size(f, 1400, 1050);
    else od_figure_size(f, 1400, 560);
    char lab[160];
    od_figure_title(f, "fitted loss (colour), runs and compute-optimal frontier");
    od_figure_xlabel(f, "log₁₀ C (FLOP)");
    od_figure_ylabel(f, "log₁₀ N (parameters)");
    od_figure_add(f, &(od_series){.table = surface, .x = "log10_C", .y = "log10_N", .z = "loss",
                                  .kind = OD_PLOT_HEATMAP});
    /* the colour scale spans the observed losses: the fitted surface grows far beyond them in the
     * corner of small N and small C, which would wash the data's range out */
    double top = 0;
    const od_table *obs[2] = {data, dropped};
    for (int k = 0; k < 2; k++) {
        const double *L = obs[k] ? od_table_column(obs[k], "loss") : NULL;
        for (size_t i = 0; L && i < od_table_rows(obs[k]); i++) top = fmax(top, L[i]);
    }
    if (top > 0) od_figure_zrange(f, NAN, top);
    od_figure_add(f, &(od_series){.table = data, .x = "log10_C", .y = "log10_N",
                                  .kind = OD_PLOT_POINTS, .label = "runs used", .color = 7});
    if (dropped && od_table_rows(dropped))
        od_figure_add(f, &(od_series){.table = dropped, .x = "log10_C", .y = "log10_N",
                                      .kind = OD_PLOT_POINTS, .label = "runs dropped", .color = 2});
    snprintf(lab, sizeof lab, "N_opt(C), %s", fit_label);
    od_figure_add(f, &(od_series){.table = frontier, .x = "log10_C", .y = "log10_N_opt",
                                  .kind = OD_PLOT_LINES, .label = lab, .color = 5, .width = 3});
    if (ref_label) {
        char rl[160];
        snprintf(rl, sizeof rl, "N_opt(C), %s", ref_label);
        od_figure_add(f, &(od_series){.table = frontier, .x = "log10_C", .y = "ref_log10_N_opt",
                                      .kind = OD_PLOT_LINES, .label = rl, .color = 6, .dash = 2,
                                      .width = 3});
    }
    od_figure_key(f, "top left");
    od_figure_next_panel(f, "log residuals");
    od_figure_xlabel(f, "log₁₀ C (FLOP)");
    od_figure_ylabel(f, "log L − log L̂");
    od_figure_add(f, &(od_series){.table = data, .x = "log10_C", .y = "residual",
                                  .kind = OD_PLOT_POINTS, .label = fit_label, .color = 1});
    if (ref_label)
        od_figure_add(f, &(od_series){.table = data, .x = "log10_C", .y = "ref_residual",
                                      .kind = OD_PLOT_POINTS, .label = ref_label, .color = 6});
    if (dropped && od_table_rows(dropped))
        od_figure_add(f, &(od_series){.table = dropped, .x = "log10_C", .y = "residual",
                                      .kind = OD_PLOT_POINTS, .label = "dropped runs", .color = 2});
    od_figure_hline(f, 0, NULL);
    if (boot) {
        od_figure_next_panel(f, "bootstrap distribution of the exponents");
        od_figure_xlabel(f, "exponent");
        od_figure_ylabel(f, "density");
        od_figure_add(f, &(od_series){.table = hist_alpha, .x = "x", .y = "density",
                                      .kind = OD_PLOT_STEPS, .label = "α", .color = 1});
        od_figure_add(f, &(od_series){.table = hist_beta, .x = "x", .y = "density",
                                      .kind = OD_PLOT_STEPS, .label = "β", .color = 2});
        od_figure_next_panel(f, "bootstrap distribution of a = β/(α+β), N_opt ∝ C^a");
        od_figure_xlabel(f, "a");
        od_figure_ylabel(f, "density");
        od_figure_add(f, &(od_series){.table = hist_a, .x = "x", .y = "density",
                                      .kind = OD_PLOT_STEPS, .label = "bootstrap", .color = 3});
    }
    return f;
}
