/* optdyn cli — `optdyn fit --model chinchilla`: L(N, D) = E + A/N^alpha + B/D^beta by Approach 3,
 * with the Huber-likelihood MLE, the bootstrap, the compute-optimal allocation, predictions for
 * another file and the tests of a published law (see cmd_fit.c for the options). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_fit.h"
#include "experiments/scaling_common.h"

typedef struct {
    double N, D;
} point;

static double predict_fn(const double th[OD_SCALING_NPAR], void *arg)
{
    const point *p = arg;
    od_scaling_law l = od_scaling_law_from_theta(th);
    return od_scaling_law_eval(&l, p->N, p->D);
}

static void print_row(const char *name, double v, const od_scaling_boot *b, int q)
{
    if (b && q >= 0)
        printf("  %-18s %-14.6g se %-12.4g 95%% [%.6g, %.6g]\n", name, v, b->se[q], b->lo[q], b->hi[q]);
    else
        printf("  %-18s %.6g\n", name, v);
}

int od_fit_chinchilla(const fit_opts *o, const char *file, const char *dir, od_manifest *man)
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
    if ((code = od_fit_make_dir(dir))) goto done;
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
    od_fit_json_num(j, "objective", od_scaling_objective(d, theta, o->huber, NULL));
    for (int k = 0; k < OD_SCALING_NQ; k++) od_fit_json_num(j, od_scaling_q_names[k], q[k]);
    if (have_mle && o->mle) {
        od_fit_json_num(j, "sigma", mle.sigma);
        od_fit_json_num(j, "nll", mle.nll);
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
            od_fit_json_num(j, "compute", al.C);
            od_fit_json_num(j, "N_opt", al.N_opt);
            od_fit_json_num(j, "D_opt", al.D_opt);
            od_fit_json_num(j, "tokens_per_param", al.tokens_per_param);
            od_fit_json_num(j, "L_opt", al.L_opt);
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
            od_fit_json_num(se, od_scaling_q_names[k], boot.se[k]);
            cJSON *a = cJSON_AddArrayToObject(ci, od_scaling_q_names[k]);
            cJSON_AddItemToArray(a, cJSON_CreateNumber(boot.lo[k]));
            cJSON_AddItemToArray(a, cJSON_CreateNumber(boot.hi[k]));
        }
        if (o->compute > 0) {
            static const char *an[3] = {"N_opt", "D_opt", "tokens_per_param"};
            for (int w = 0; w < 3; w++) {
                od_exp_scaling_alloc_arg aa = {o->compute, w};
                double s, lo, hi;
                if (od_scaling_boot_interval(&boot, od_exp_scaling_alloc_fn, &aa, &s, &lo, &hi) != OD_OK) continue;
                od_fit_json_num(se, an[w], s);
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
            od_fit_json_num(r, "N", pt.N);
            od_fit_json_num(r, "D", pt.D);
            od_fit_json_num(r, "loss", L);
            if (bb) {
                od_fit_json_num(r, "lo", lo);
                od_fit_json_num(r, "hi", hi);
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
        od_fit_json_num(jc, "objective", od_scaling_objective(d, tp, o->huber, NULL));
        if (od_scaling_lr_test(d, &mle, tp, o->huber, &lr, &lp) == OD_OK) {
            od_fit_json_num(jc, "lr", lr);
            od_fit_json_num(jc, "lr_p", lp);
        }
        double chi2 = NAN, cp = NAN;
        const char *why = NULL;
        if (bb) {
            if (od_scaling_chi2_test(&boot, theta, tp, &chi2, &cp) != OD_OK) why = od_last_error();
            od_fit_json_num(jc, "chi2", chi2);
            od_fit_json_num(jc, "chi2_p", cp);
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
    if (od_fit_write_outputs(dir, man, tabs, 7, fig, &o->c) != OD_OK)
        code = od_cli_fail(CMD, OD_EXIT_ERROR, "%s", od_last_error());
    if (o->c.json && code == OD_EXIT_OK) od_fit_print_json(j);
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

