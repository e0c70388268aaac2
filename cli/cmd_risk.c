/* optdyn cli — `optdyn risk`: the exact expected risk curve of SGD, averaging, heavy ball or ASGD on
 * linear regression with a given spectrum, optionally overlaid with Monte Carlo, with the
 * mean-square stability numbers (linreg/optdyn_linreg.h).
 *
 * Every input is validated (spectrum and init files read, schedule and times parsed) before the
 * output folder is created; bad input prints one line naming the option, file or line and exits 2. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "linreg/optdyn_linreg.h"

#define CMD "risk"
#define MAX_TIMES 100000

typedef struct {
    const char *spectrum, *init, *algo, *schedule, *features, *times;
    double noise, lr;
    long batch, steps, mc;
} risk_opts;

typedef struct {
    size_t d;
    double *lambda, *omega;
    od_linreg_model model;
    od_linreg_algo algo;
    const od_linreg_features *law;
    uint64_t *times;
    size_t n_times;
} risk_setup;

static void setup_free(risk_setup *s)
{
    od_free(s->lambda);
    od_free(s->omega);
    free(s->times);
}

static int parse_times(const char *spec, uint64_t T, risk_setup *s)
{
    char name[16];
    const char *rest;
    long k;
    if (od_spec_split(spec, name, sizeof name, &rest) != OD_OK || od_parse_long(rest, &k) != OD_OK ||
        (strcmp(name, "log") != 0 && strcmp(name, "every") != 0))
        return od_cli_fail(CMD, OD_EXIT_USAGE, "--times: expected log:N or every:K, got '%s'", spec);
    int is_log = strcmp(name, "log") == 0;
    if (k < (is_log ? 2 : 1) || (is_log && k > MAX_TIMES) || (!is_log && (uint64_t)k > T) ||
        (!is_log && T / (uint64_t)k + 2 > MAX_TIMES))
        return od_cli_fail(CMD, OD_EXIT_USAGE, "--times %s: %s must be in [%d, %d]%s", spec,
                           is_log ? "N" : "K", is_log ? 2 : 1, is_log ? MAX_TIMES : (int)fmin(T, 2e9),
                           is_log ? "" : " and give at most 100000 times");
    s->times = malloc(MAX_TIMES * sizeof *s->times);
    if (!s->times) return od_cli_fail(CMD, OD_EXIT_ERROR, "out of memory");
    s->n_times = is_log ? od_times_log(T, (size_t)k, s->times, MAX_TIMES)
                        : od_times_every(T, (uint64_t)k, s->times, MAX_TIMES);
    return OD_EXIT_OK;
}

/* Everything the run needs, validated; exit status OD_EXIT_USAGE with the message printed. */
static int setup(const risk_opts *o, uint64_t seed, risk_setup *s)
{
    memset(s, 0, sizeof *s);
    if (od_linreg_spectrum_from_spec(o->spectrum, seed, &s->d, &s->lambda) != OD_OK)
        return od_cli_fail(CMD, OD_EXIT_USAGE, "--spectrum: %s", od_last_error());
    if (od_linreg_init_from_spec(o->init, s->d, o->spectrum, &s->omega) != OD_OK)
        return od_cli_fail(CMD, OD_EXIT_USAGE, "--init: %s", od_last_error());
    s->algo = od_linreg_algo_sgd(isnan(o->lr) ? 0 : o->lr, (size_t)o->batch);
    if (od_linreg_algo_parse(o->algo, &s->algo) != OD_OK)
        return od_cli_fail(CMD, OD_EXIT_USAGE, "--algo: %s", od_last_error());
    int delta_given = s->algo.method == &od_linreg_asgd && strstr(o->algo, "delta=") != NULL;
    if (delta_given && !isnan(o->lr))
        return od_cli_fail(CMD, OD_EXIT_USAGE, "--lr: ASGD's short step is given twice (--lr and delta=)");
    if (isnan(o->lr) && !delta_given)
        return od_cli_fail(CMD, OD_EXIT_USAGE, "--lr: the step size is required (for asgd: --lr or delta=)");
    if (od_linreg_schedule_parse(o->schedule, (uint64_t)o->steps, &s->algo.schedule) != OD_OK)
        return od_cli_fail(CMD, OD_EXIT_USAGE, "--schedule: %s", od_last_error());
    if (s->algo.output == OD_LINREG_OUT_TAIL && s->algo.tail_start >= (uint64_t)o->steps)
        return od_cli_fail(CMD, OD_EXIT_USAGE, "--algo %s: the tail start must be below --steps %ld",
                           o->algo, o->steps);
    if (od_linreg_algo_check(&s->algo) != OD_OK)
        return od_cli_fail(CMD, OD_EXIT_USAGE, "--algo: %s", od_last_error());
    if (!(s->law = od_linreg_features_lookup(o->features)))
        return od_cli_fail(CMD, OD_EXIT_USAGE, "--features: unknown law '%s' (gaussian, rademacher or "
                                               "uniform)", o->features);
    s->model = (od_linreg_model){s->d, s->lambda, s->omega, o->noise, s->law->kurtosis};
    return parse_times(o->times, (uint64_t)o->steps, s);
}

/* ---- outputs ---------------------------------------------------------------------------------- */

static void add_array(cJSON *j, const char *key, const double *v, size_t n)
{
    if (!v) {
        cJSON_AddNullToObject(j, key);
        return;
    }
    cJSON *a = cJSON_AddArrayToObject(j, key);
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(a, isfinite(v[i]) ? cJSON_CreateNumber(v[i]) : cJSON_CreateNull());
}

static void add_num(cJSON *j, const char *key, double v)
{
    if (isfinite(v)) cJSON_AddNumberToObject(j, key, v);
    else cJSON_AddNullToObject(j, key);
}

typedef struct {
    double *t, *excess, *mc_mean, *mc_se, *mc_ok;
    od_linreg_stability st;
    double threshold;
    int constant;
    uint64_t diverged, mc_bad;   /* exact divergence step; first MC time with a diverged path */
} risk_result;

static int write_outputs(const risk_opts *o, const od_cli_common *c, const risk_setup *s,
                         const risk_result *r)
{
    char desc[256];
    od_linreg_algo_describe(&s->algo, desc, sizeof desc);
    od_table *t = od_table_alloc("risk");
    od_figure *f = NULL;
    int st = t ? OD_OK : OD_ENOMEM;
    if (st == OD_OK) {
        od_table_meta(t, "convention", "excess risk = 1/2 sum_k lambda_k E[(w - w*)_k^2] (1/2 convention)");
        od_table_meta(t, "spectrum", "%s (d = %zu)", o->spectrum, s->d);
        od_table_meta(t, "init", "%s (w0 - w* per eigendirection)", o->init);
        od_table_meta(t, "algorithm", "%s", desc);
        od_table_meta(t, "noise", "sigma2 = %.17g, features %s (kurtosis %g)", o->noise, s->law->name,
                      s->law->kurtosis);
        od_table_meta(t, "kernel_norm", "%.17g at the base step (threshold lr %.17g)",
                      r->st.kernel_norm, r->threshold);
        od_table_meta(t, "mean_square_stable", "%s", r->st.stable ? "yes" : "no: the expected risk diverges");
        if (r->diverged != UINT64_MAX)
            od_table_meta(t, "exact", "diverged at step %llu (inf from there on)", (unsigned long long)r->diverged);
        od_table_add_double(t, "t", r->t, s->n_times);
        od_table_add_double(t, "excess", r->excess, s->n_times);
        if (r->mc_mean) {
            od_table_meta(t, "monte_carlo", "%ld paths, seed %ld; mc_mean is nan where a path diverged%s",
                          o->mc, c->seed, r->st.stable || !r->constant ? ""
                          : "; NOT the expected risk (mean-square divergent: dominated by rare runs)");
            od_table_add_double(t, "mc_mean", r->mc_mean, s->n_times);
            od_table_add_double(t, "mc_se", r->mc_se, s->n_times);
            od_table_add_double(t, "mc_paths_ok", r->mc_ok, s->n_times);
        }
        st = od_table_write(t, c->out);
    }
    if (st == OD_OK && (f = od_figure_alloc("risk", "Expected excess risk")) == NULL) st = OD_ENOMEM;
    if (st == OD_OK) {
        od_figure_logx(f, 1);
        od_figure_logy(f, 1);
        od_figure_xlabel(f, "step t");
        od_figure_ylabel(f, "excess risk ½ Σ λₖ E(w − w*)ₖ²");
        char sub[512];
        snprintf(sub, sizeof sub, "%s; %s, σ² = %g, %s features", desc, o->spectrum, o->noise, s->law->name);
        od_figure_title(f, sub);
        int show_mc = r->mc_mean && (r->st.stable || !r->constant);
        if (show_mc)
            od_figure_add(f, &(od_series){.table = t, .x = "t", .y = "mc_mean", .err = "mc_se",
                                          .kind = OD_PLOT_ERRORBARS, .label = "Monte Carlo mean ± 2 SE"});
        od_figure_add(f, &(od_series){.table = t, .x = "t", .y = "excess", .kind = OD_PLOT_LINES,
                                      .label = "exact", .width = 2});
        char note[256];
        if (r->constant && !r->st.stable) {
            if (isinf(r->st.kernel_norm))
                snprintf(note, sizeof note, "mean-square divergent (a mode is unstable on its own)%s",
                         r->mc_mean ? ": Monte Carlo means not shown" : "");
            else
                snprintf(note, sizeof note, "mean-square divergent (‖K‖ = %.4g ≥ 1)%s", r->st.kernel_norm,
                         r->mc_mean ? ": Monte Carlo means not shown" : "");
            if (r->diverged != UINT64_MAX) {
                const size_t len = strlen(note);
                snprintf(note + len, sizeof note - len, "; past %g at step %llu", OD_LINREG_DIVERGED,
                         (unsigned long long)r->diverged);
            }
            od_figure_note(f, note);
        } else if (r->constant && isfinite(r->st.stationary_excess)) {
            /* the figure driver widens an automatic axis to show reference lines */
            od_figure_hline(f, r->st.stationary_excess,
                            s->algo.method == &od_linreg_sgd ? "last iterate, t → ∞: ½σ²‖K‖/(1 − ‖K‖)"
                                                             : "last iterate, t → ∞");
            if (s->algo.output == OD_LINREG_OUT_EMA && isfinite(r->st.stationary_output))
                od_figure_hline(f, r->st.stationary_output, "EMA output, t → ∞");
        }
        st = od_figure_write(f, c->out, c->fmt, !c->no_plot);
    }
    od_table_free(t);
    od_figure_free(f);
    if (st != OD_OK) return st;
    od_manifest *m = od_manifest_alloc("risk");
    if (!m) return OD_ENOMEM;
    const char *keys[] = {"spectrum", "init", "algo", "schedule", "features", "times"};
    const char *vals[] = {o->spectrum, o->init, o->algo, o->schedule, o->features, o->times};
    for (int i = 0; i < 6; i++) od_manifest_param_str(m, keys[i], vals[i]);
    od_manifest_param_num(m, "noise", o->noise);
    od_manifest_param_num(m, "lr", s->algo.lr);
    od_manifest_param_num(m, "batch", (double)o->batch);
    od_manifest_param_num(m, "steps", (double)o->steps);
    od_manifest_param_num(m, "mc", (double)o->mc);
    od_manifest_set_num(m, "seed", (double)c->seed);
    od_manifest_set_num(m, "threads", (double)od_threads());
    od_manifest_file(m, "risk.tsv");
    od_manifest_file(m, "risk.gp");
    st = od_manifest_write(m, c->out);
    od_manifest_free(m);
    return st;
}

static void print_json(const risk_setup *s, const risk_result *r)
{
    cJSON *j = cJSON_CreateObject();
    add_array(j, "t", r->t, s->n_times);
    add_array(j, "excess", r->excess, s->n_times);
    add_array(j, "mc_mean", r->mc_mean, s->n_times);
    add_array(j, "mc_se", r->mc_se, s->n_times);
    add_num(j, "kernel_norm", r->st.kernel_norm);
    add_num(j, "threshold_lr", r->threshold);
    add_num(j, "stationary_excess", r->constant ? r->st.stationary_excess : NAN);
    add_num(j, "stationary_output", r->constant ? r->st.stationary_output : NAN);
    cJSON_AddBoolToObject(j, "mean_square_stable", r->st.stable);
    cJSON_AddStringToObject(j, "convention", "excess risk = 1/2 sum_k lambda_k E[(w - w*)_k^2]");
    if (r->diverged != UINT64_MAX) cJSON_AddNumberToObject(j, "diverged_at", (double)r->diverged);
    char *txt = cJSON_PrintUnformatted(j);
    if (txt) puts(txt);
    cJSON_free(txt);
    cJSON_Delete(j);
}

/* ---- the command ------------------------------------------------------------------------------ */

static const char *usage_text =
    "Computes the exact expected excess risk 1/2 sum_k lambda_k E[(w_t - w*)_k^2] of an SGD-family\n"
    "method on linear regression with covariance diag(lambda) (the eigenbasis of H), in O(d) per\n"
    "step, and optionally the Monte Carlo mean over --mc paths.  Writes DIR/risk.tsv (t, excess,\n"
    "and with --mc mc_mean, mc_se, mc_paths_ok), DIR/risk.gp, the figure and manifest.json.\n"
    "Also reports the kernel norm ||K|| at the base step, the threshold step (bisection) and, for\n"
    "a constant step, the stationary excess of the last iterate (SGD: 1/2 sigma2 ||K||/(1 - ||K||))\n"
    "and of an EMA output.  When ||K|| >= 1 the expected risk diverges: the tool says so and does\n"
    "not draw Monte Carlo means, which are then dominated by rare runs.\n\n"
    "  --spectrum  powerlaw:exp=A,d=D[,scale=S] | mp:n=N,d=D | file:PATH (one eigenvalue a line)\n"
    "  --init      const:V | powerlaw:exp=E[,scale=S] | file:PATH   (w0 - w* per eigendirection)\n"
    "  --algo      sgd | avg | tail:start=S | ema:alpha=A | hb:mu=M | asgd:alpha=,beta=,gamma=[,delta=]\n"
    "  --schedule  const | poly:t0=,p= | stepdecay:start=S[,factor=F] | cosine[:final=f]\n"
    "              | wsd:cool=F,shape=linear|1-sqrt[,warmup=W,final=f] | piecewise:at=t1|t2,mult=m1|m2\n"
    "  --times     log:N (about N log-spaced steps) | every:K\n\n"
    "example:\n"
    "  optdyn risk --spectrum powerlaw:exp=2,d=1000 --init const:1 --noise 0.01 --lr 0.5 \\\n"
    "              --steps 10000 --algo ema:alpha=0.99 --mc 200 --out out/ema";

int od_cmd_risk(int argc, char **argv)
{
    od_cli_common c = od_cli_common_defaults();
    c.out = "out/risk";
    risk_opts o = {.spectrum = "powerlaw:exp=2,d=100", .init = "const:1", .algo = "sgd",
                   .schedule = "const", .features = "gaussian", .times = "log:60", .noise = 0,
                   .lr = NAN, .batch = 1, .steps = 1000, .mc = 0};
    od_cli_opt opts[32] = {
        {"--spectrum", OD_OPT_STRING, &o.spectrum, 0, 0, "SPEC", "eigenvalues of H (default powerlaw:exp=2,d=100)"},
        {"--init", OD_OPT_STRING, &o.init, 0, 0, "SPEC", "w0 - w* per eigendirection (default const:1)"},
        {"--noise", OD_OPT_DOUBLE, &o.noise, 0, INFINITY, "SIGMA2", "label-noise variance (default 0)",
         OD_HI_OPEN},
        {"--lr", OD_OPT_DOUBLE, &o.lr, 0, INFINITY, "G", "step size (required; ASGD: delta)",
         OD_LO_OPEN | OD_HI_OPEN},
        {"--batch", OD_OPT_INT, &o.batch, 1, 1e9, "B", "batch size (default 1)"},
        {"--steps", OD_OPT_INT, &o.steps, 1, 4e9, "T", "number of steps (default 1000)"},
        {"--algo", OD_OPT_STRING, &o.algo, 0, 0, "SPEC", "method and output (default sgd)"},
        {"--schedule", OD_OPT_STRING, &o.schedule, 0, 0, "SPEC", "step-size schedule (default const)"},
        {"--features", OD_OPT_STRING, &o.features, 0, 0, "LAW", "gaussian|rademacher|uniform (default gaussian)"},
        {"--mc", OD_OPT_INT, &o.mc, 0, 1e8, "PATHS", "Monte Carlo paths (default 0: none)"},
        {"--times", OD_OPT_STRING, &o.times, 0, 0, "log:N|every:K", "recording times (default log:60)"},
    };
    size_t n = 11;
    n += od_cli_common_opts(&c, 0, opts + n, 32 - n);
    char *pos[8];
    size_t npos;
    int st = od_cli_parse(CMD, argc, argv, opts, n, pos, 8, &npos);
    if (st) return st;
    if (c.help) {
        printf("usage: optdyn risk --lr G [options]\n\n%s\n\noptions:\n", usage_text);
        od_cli_print_opts(opts, n);
        return OD_EXIT_OK;
    }
    if (npos) return od_cli_fail(CMD, OD_EXIT_USAGE, "unexpected argument '%s'", pos[0]);
    if ((st = od_cli_common_finish(CMD, &c))) return st;
    risk_setup s;
    if ((st = setup(&o, (uint64_t)c.seed, &s)) != OD_EXIT_OK) {
        setup_free(&s);
        return st;
    }
    if (o.mc > 0 && (uint64_t)o.steps >= UINT32_MAX) {
        setup_free(&s);
        return od_cli_fail(CMD, OD_EXIT_USAGE, "--steps: Monte Carlo runs at most 2^32 - 1 steps");
    }
    if (od_mkdir_p(c.out) != OD_OK) {
        setup_free(&s);
        return od_cli_fail(CMD, OD_EXIT_USAGE, "%s", od_last_error());
    }

    /* ---- work ----------------------------------------------------------------------------- */
    const size_t nt = s.n_times;
    risk_result r = {.t = malloc(nt * sizeof(double)), .excess = malloc(nt * sizeof(double)),
                     .constant = od_linreg_schedule_is_const(&s.algo.schedule), .mc_bad = UINT64_MAX};
    od_ensemble_result er = {0};
    int code = OD_EXIT_OK;
    if (!r.t || !r.excess) code = od_cli_fail(CMD, OD_EXIT_ERROR, "out of memory");
    for (size_t i = 0; code == OD_EXIT_OK && i < nt; i++) r.t[i] = (double)s.times[i];
    if (code == OD_EXIT_OK && (od_linreg_stability_compute(&s.model, &s.algo, &r.st) != OD_OK ||
                               od_linreg_threshold_lr(&s.model, &s.algo, &r.threshold) != OD_OK))
        code = od_cli_fail(CMD, OD_EXIT_ERROR, "%s", od_last_error());
    if (code == OD_EXIT_OK && od_linreg_exact_run(&s.model, &s.algo, s.times, nt, r.excess, &r.diverged,
                                                  NULL, NULL) != OD_OK)
        code = od_cli_fail(CMD, OD_EXIT_ERROR, "%s", od_last_error());
    if (code == OD_EXIT_OK && o.mc > 0) {
        od_linreg_mc_params mp = {.n_paths = (size_t)o.mc, .times = s.times, .n_times = nt, .features = s.law,
                                  .seed = (uint64_t)c.seed,
                                  .label = c.quiet || c.json ? NULL : "risk: Monte Carlo"};
        if (od_linreg_mc_run(&s.model, &s.algo, &mp, &er) != OD_OK) {
            code = od_cli_fail(CMD, OD_EXIT_ERROR, "%s", od_last_error());
        } else {
            r.mc_mean = er.mean;
            r.mc_se = er.se;
            r.mc_ok = malloc(nt * sizeof(double));
            long bad = od_ensemble_first_bad(&er, 0);
            if (bad >= 0) r.mc_bad = s.times[bad];
            for (size_t i = 0; r.mc_ok && i < nt; i++) {
                r.mc_ok[i] = (double)er.n_ok[i];
                if (er.n_ok[i] < er.n_paths) er.mean[i] = er.se[i] = NAN;   /* no survivor means */
            }
            if (!r.mc_ok) code = od_cli_fail(CMD, OD_EXIT_ERROR, "out of memory");
        }
    }
    if (code == OD_EXIT_OK && write_outputs(&o, &c, &s, &r) != OD_OK)
        code = od_cli_fail(CMD, OD_EXIT_ERROR, "%s", od_last_error());
    if (code == OD_EXIT_OK && c.json) {
        print_json(&s, &r);
    } else if (code == OD_EXIT_OK && !c.quiet) {
        char desc[256];
        od_linreg_algo_describe(&s.algo, desc, sizeof desc);
        printf("%s on %s (d = %zu), sigma2 = %g\n", desc, o.spectrum, s.d, o.noise);
        const int mc_shown = r.mc_mean && (r.st.stable || !r.constant);
        if (isfinite(r.excess[nt - 1]))
            printf("  excess risk at t = %llu: %.6g (exact)", (unsigned long long)s.times[nt - 1],
                   r.excess[nt - 1]);
        else
            printf("  excess risk at t = %llu: diverged (the exact recursion passed %g at step %llu)",
                   (unsigned long long)s.times[nt - 1], OD_LINREG_DIVERGED, (unsigned long long)r.diverged);
        if (mc_shown && isfinite(r.mc_mean[nt - 1]))
            printf(", Monte Carlo %.6g ± %.2g (SE, %ld paths)", r.mc_mean[nt - 1], r.mc_se[nt - 1], o.mc);
        printf("\n  ||K|| = %.6g at the base step; threshold lr = %.6g\n", r.st.kernel_norm, r.threshold);
        if (!r.st.stable)
            printf("  mean-square divergent (||K|| >= 1 or a mode unstable): the expected risk grows "
                   "geometrically%s\n", r.mc_mean ? "; Monte Carlo means are dominated by rare runs "
                                                    "and are not drawn" : "");
        else if (r.constant)
            printf("  stationary excess of the last iterate%s = %.6g\n",
                   s.algo.method == &od_linreg_sgd ? " 1/2 sigma2 ||K|| / (1 - ||K||)" : "",
                   r.st.stationary_excess);
        if (r.st.stable && r.constant && s.algo.output == OD_LINREG_OUT_EMA)
            printf("  stationary excess of the EMA output = %.6g\n", r.st.stationary_output);
        if (r.mc_bad != UINT64_MAX)
            printf("  Monte Carlo: paths diverged by step %llu; means from there on are not reported\n",
                   (unsigned long long)r.mc_bad);
        printf("  -> %s/risk.tsv, %s/risk.gp\n", c.out, c.out);
    }
    od_ensemble_result_free(&er);
    free(r.t);
    free(r.excess);
    free(r.mc_ok);
    setup_free(&s);
    return code;
}
