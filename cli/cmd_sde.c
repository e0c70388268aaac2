/* optdyn cli — `optdyn sde`: an optimizer on a problem, run as the discrete map, its SDE and its
 * SVAG simulation on one time axis (the SDE time of the optimizer's clock), with mean and standard
 * error of the observables over time, stationary averages, the weak error between the dynamics
 * and a figure.  Every input is validated before any work; bad input is one line on stderr naming
 * the option, exit status 2, nothing written. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "sde/optdyn_sde.h"

#define MAX_OBS 8
#define MAX_DYN 3

static const char *const dyn_names[] = {"discrete", "sde", "svag"};

typedef struct {
    const char *problem, *optimizer, *hp, *compare, *integrator, *rule, *observe;
    double lr;
    long batch, steps, paths, times;
} sde_args;

typedef struct {
    int on[MAX_DYN];
    double svag_l;
} compare_set;

static int parse_compare(const char *list, compare_set *cs)
{
    memset(cs, 0, sizeof *cs);
    cs->svag_l = 4;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (strcmp(tok, "discrete") == 0) cs->on[0] = 1;
        else if (strcmp(tok, "sde") == 0) cs->on[1] = 1;
        else if (strncmp(tok, "svag", 4) == 0 && (tok[4] == '\0' || tok[4] == ':')) {
            cs->on[2] = 1;
            if (tok[4] == ':') {
                long l;
                if (strncmp(tok + 5, "l=", 2) != 0 || od_parse_long(tok + 7, &l) != OD_OK || l < 1 || l > 64)
                    return od_cli_fail("sde", OD_EXIT_USAGE,
                                       "--compare: '%s' must be svag:l=L with an integer L in [1, 64]", tok);
                cs->svag_l = (double)l;
            }
        } else {
            return od_cli_fail("sde", OD_EXIT_USAGE,
                               "--compare: unknown dynamic '%s' (discrete, sde, svag:l=L)", tok);
        }
    }
    if (!cs->on[0] && !cs->on[1] && !cs->on[2])
        return od_cli_fail("sde", OD_EXIT_USAGE, "--compare: empty list");
    return OD_EXIT_OK;
}

static int parse_observe(const char *list, const od_problem *p, od_sde_observable *obs, size_t *n)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (*n == MAX_OBS) return od_cli_fail("sde", OD_EXIT_USAGE, "--observe: at most %d observables", MAX_OBS);
        if (od_sde_observable_parse(tok, p, &obs[*n]) != OD_OK)
            return od_cli_fail("sde", OD_EXIT_USAGE, "%s", od_last_error());
        (*n)++;
    }
    if (*n == 0) return od_cli_fail("sde", OD_EXIT_USAGE, "--observe: empty list");
    return OD_EXIT_OK;
}

static void usage(const od_cli_opt *opts, size_t n)
{
    printf("usage: optdyn sde --problem NAME[:k=v,...] --optimizer NAME [--hp key=value,...] --lr ETA\n"
           "                  --batch B --steps K [--compare discrete,sde,svag:l=L] [--paths P]\n"
           "                  [--integrator em|milstein|weak2] [--rule linear:kappa=K | sqrt:kappa=K]\n"
           "                  [--observe loss,norm2,coord:i] [--json] [--out DIR]\n\n"
           "Runs an optimizer on a problem as its discrete map, its SDE model and its SVAG simulation,\n"
           "P paths each, and writes OUT/sde/: one table per dynamic (mean and SE of each observable over\n"
           "the SDE time t = k*eta, or k*eta^2 for RMSprop/Adam), weak_error.tsv (|E_sde - E_discrete|\n"
           "and |E_svag - E_discrete|), sde.png and manifest.json.  'stationary' is the average over the\n"
           "second half of the steps and over paths, with an SE from the spread across paths.\n\n"
           "optimizers:");
    for (size_t i = 0; od_sde_optimizers[i]; i++) {
        const od_sde_optimizer *o = od_sde_optimizers[i];
        printf("\n  %-9s %s", o->name, o->help);
        for (size_t k = 0; k < o->n_params; k++) printf("\n  %-9s   --hp %s: %s", "", o->params[k].name,
                                                           o->params[k].help);
    }
    printf("\n\nproblems: noisy-quadratic:d=D,lambda=L1|L2|..,s=S,x0=X and the core's (quadratic,\n"
           "dense-quadratic, linreg, linreg-data, logreg).\n\noptions:\n");
    od_cli_print_opts(opts, n);
}

/* One dynamic's results as JSON, with non-finite values as null. */
static cJSON *num_or_null(double v) { return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull(); }

int od_cmd_sde(int argc, char **argv)
{
    sde_args a = {.compare = "discrete,sde", .integrator = "em", .observe = "loss", .hp = "",
                  .batch = 1, .paths = 1000, .times = 51, .lr = NAN, .steps = 0};
    od_cli_common c = od_cli_common_defaults();
    od_cli_opt opts[24] = {
        {"--problem", OD_OPT_STRING, &a.problem, 0, 0, "SPEC", "problem, e.g. noisy-quadratic:d=2,lambda=1|4,s=0.5 (required)"},
        {"--optimizer", OD_OPT_STRING, &a.optimizer, 0, 0, "NAME", "optimizer (required; list in --help)"},
        {"--hp", OD_OPT_STRING, &a.hp, 0, 0, "k=v,...", "hyperparameters of the optimizer (see above)"},
        {"--lr", OD_OPT_DOUBLE, &a.lr, 1e-12, 1e6, "ETA", "learning rate (required)"},
        {"--batch", OD_OPT_INT, &a.batch, 1, 1e7, "B", "minibatch size (default 1)"},
        {"--steps", OD_OPT_INT, &a.steps, 1, 1e8, "K", "discrete steps (required)"},
        {"--compare", OD_OPT_STRING, &a.compare, 0, 0, "LIST", "dynamics: discrete,sde,svag:l=L (default discrete,sde)"},
        {"--paths", OD_OPT_INT, &a.paths, 2, 1e8, "P", "paths per dynamic (default 1000)"},
        {"--integrator", OD_OPT_STRING, &a.integrator, 0, 0, "em|milstein|weak2", "SDE scheme (default em)"},
        {"--rule", OD_OPT_STRING, &a.rule, 0, 0, "RULE:kappa=K", "scale hp, batch and steps by linear or sqrt rule"},
        {"--observe", OD_OPT_STRING, &a.observe, 0, 0, "LIST", "loss, norm2 (=||x-x*||^2), coord:i (default loss)"},
        {"--times", OD_OPT_INT, &a.times, 2, 10000, "N", "recording times (default 51)"},
    };
    size_t no = 12;
    no += od_cli_common_opts(&c, 0, opts + no, 24 - no);
    char *pos[4];
    size_t npos;
    int st = od_cli_parse("sde", argc, argv, opts, no, pos, 4, &npos);
    if (st) return st;
    if (c.help) {
        usage(opts, no);
        return OD_EXIT_OK;
    }
    if (npos) return od_cli_fail("sde", OD_EXIT_USAGE, "unexpected argument '%s'", pos[0]);
    if ((st = od_cli_common_finish("sde", &c))) return st;
    if (!a.problem) return od_cli_fail("sde", OD_EXIT_USAGE, "--problem is required");
    if (!a.optimizer) return od_cli_fail("sde", OD_EXIT_USAGE, "--optimizer is required");
    if (isnan(a.lr)) return od_cli_fail("sde", OD_EXIT_USAGE, "--lr is required");
    if (a.steps == 0) return od_cli_fail("sde", OD_EXIT_USAGE, "--steps is required");
    const od_sde_optimizer *opt = od_sde_optimizer_find(a.optimizer);
    if (!opt) return od_cli_fail("sde", OD_EXIT_USAGE, "--optimizer: unknown optimizer '%s' (see 'optdyn sde --help')", a.optimizer);
    od_sde_hp hp = od_sde_hp_default();
    hp.lr = a.lr;
    if (od_sde_hp_parse(opt, a.hp, &hp) != OD_OK || od_sde_hp_check(opt, &hp) != OD_OK)
        return od_cli_fail("sde", OD_EXIT_USAGE, "%s", od_last_error());
    od_sde_scheme scheme;
    if (od_sde_scheme_parse(a.integrator, &scheme) != OD_OK)
        return od_cli_fail("sde", OD_EXIT_USAGE, "--integrator: %s", od_last_error());
    compare_set cs;
    if ((st = parse_compare(a.compare, &cs))) return st;
    size_t batch = (size_t)a.batch;
    uint64_t steps = (uint64_t)a.steps;
    od_sde_rule rule;
    od_sde_rule_report rep = {0, 1};
    if (a.rule) {
        od_sde_hp h2;
        if (od_sde_rule_parse(a.rule, &rule) != OD_OK ||
            od_sde_rule_apply(&rule, opt, &hp, batch, steps, &h2, &batch, &steps, &rep) != OD_OK)
            return od_cli_fail("sde", OD_EXIT_USAGE, "%s", od_last_error());
        hp = h2;
    }
    od_problem *p = NULL;
    if (od_exp_problem(a.problem, (uint64_t)c.seed, &p) != OD_OK)
        return od_cli_fail("sde", OD_EXIT_USAGE, "--problem: %s", od_last_error());
    od_sde_observable obs[MAX_OBS];
    size_t n_obs;
    if ((st = parse_observe(a.observe, p, obs, &n_obs))) goto out;
    if (cs.on[1]) {   /* the model and the integrator must fit before any work */
        od_sde_model *m = NULL;
        od_sde_model_opts mo = {.batch = batch};
        int e = od_sde_model_alloc(opt, &hp, p, &mo, &m);
        if (e == OD_OK) e = od_sde_scheme_check(scheme, od_sde_model_system(m));
        od_sde_model_free(m);
        if (e != OD_OK) {
            st = od_cli_fail("sde", OD_EXIT_USAGE, "--integrator %s / --optimizer %s: %s", a.integrator,
                             opt->name, od_last_error());
            goto out;
        }
    }
    if (cs.on[2]) {
        od_sde_hp h2;
        od_sde_oracle_amp amp;
        double f;
        if (od_sde_svag(opt, &hp, cs.svag_l, &h2, &amp, &f) != OD_OK) {
            st = od_cli_fail("sde", OD_EXIT_USAGE, "--compare svag: %s", od_last_error());
            goto out;
        }
    }
    char *dir = od_path_join(c.out, "sde");
    if (!dir || od_mkdir_p(dir) != OD_OK) {
        st = od_cli_fail("sde", OD_EXIT_USAGE, "--out: %s", dir ? od_last_error() : "out of memory");
        free(dir);
        goto out;
    }

    /* ---- the work ---------------------------------------------------------------------------- */
    size_t nt = (size_t)a.times;
    uint64_t *times = malloc(nt * sizeof *times);
    nt = od_times_every(steps, steps / (nt - 1) ? steps / (nt - 1) : 1, times, nt);
    if (times[nt - 1] != steps) times[nt - 1] = steps;
    double *t = malloc(nt * sizeof *t);
    od_ensemble_result res[MAX_DYN] = {{0}};
    od_table *tab[MAX_DYN] = {NULL}, *tw = NULL;
    od_manifest *man = od_manifest_alloc("sde");
    od_figure *fig = od_figure_alloc("sde", "optimizer vs its SDE");
    cJSON *root = cJSON_CreateObject(), *jd = cJSON_AddObjectToObject(root, "dynamics");
    const double clock = od_sde_clock(opt, &hp);
    const double t0 = od_wall_time();
    for (int k = 0; k < MAX_DYN && st == OD_EXIT_OK; k++) {
        if (!cs.on[k]) continue;
        od_sde_dynamics dy = {.problem = p, .opt = opt, .hp = hp, .batch = batch, .steps = steps,
                              .kind = (od_sde_dyn_kind)k, .svag_l = cs.svag_l, .scheme = scheme,
                              .obs = obs, .n_obs = n_obs, .times = times, .n_times = nt,
                              .seed = (uint64_t)c.seed, .label = c.quiet || c.json ? NULL : dyn_names[k]};
        if (od_sde_dynamics_run(&dy, (size_t)a.paths, &res[k], t) != OD_OK) {
            st = od_cli_fail("sde", OD_EXIT_ERROR, "%s: %s", dyn_names[k], od_last_error());
            break;
        }
        tab[k] = od_table_alloc(dyn_names[k]);
        od_table_meta(tab[k], "problem", "%s", p->label);
        od_table_meta(tab[k], "optimizer", "%s, lr %g, batch %zu, %llu steps, clock %g", opt->name,
                      hp.lr, batch, (unsigned long long)steps, clock);
        od_table_meta(tab[k], "dynamic", "%s%s", dyn_names[k],
                      k == 1 ? od_sde_scheme_name(scheme) : "");
        od_table_add_double(tab[k], "t", t, nt);
        cJSON *o = cJSON_AddObjectToObject(jd, dyn_names[k]);
        cJSON *jt = cJSON_AddArrayToObject(o, "t"), *jm = cJSON_AddObjectToObject(o, "mean"),
              *js = cJSON_AddObjectToObject(o, "se"), *jst = cJSON_AddObjectToObject(o, "stationary"),
              *jss = cJSON_AddObjectToObject(o, "stationary_se");
        for (size_t j = 0; j < nt; j++) cJSON_AddItemToArray(jt, cJSON_CreateNumber(t[j]));
        double tdiv = NAN;
        for (size_t q = 0; q < n_obs; q++) {
            double *mcol = malloc(2 * nt * sizeof *mcol), *scol = mcol + nt;
            cJSON *am = cJSON_AddArrayToObject(jm, obs[q].name), *as = cJSON_AddArrayToObject(js, obs[q].name);
            for (size_t j = 0; j < nt; j++) {
                const int ok = res[k].n_ok[j * n_obs + q] == (size_t)a.paths;
                mcol[j] = ok ? res[k].mean[j * n_obs + q] : NAN;
                scol[j] = ok ? res[k].se[j * n_obs + q] : NAN;
                if (!ok && isnan(tdiv)) tdiv = t[j];
                cJSON_AddItemToArray(am, num_or_null(mcol[j]));
                cJSON_AddItemToArray(as, num_or_null(scol[j]));
            }
            char cm[48], cse[48];
            snprintf(cm, sizeof cm, "mean_%s", obs[q].name);
            snprintf(cse, sizeof cse, "se_%s", obs[q].name);
            od_table_add_double(tab[k], cm, mcol, nt);
            od_table_add_double(tab[k], cse, scol, nt);
            free(mcol);
            const size_t last = nt * n_obs + q;
            const int ok = res[k].n_ok[last] == (size_t)a.paths;
            cJSON_AddItemToObject(jst, obs[q].name, num_or_null(ok ? res[k].mean[last] : NAN));
            cJSON_AddItemToObject(jss, obs[q].name, num_or_null(ok ? res[k].se[last] : NAN));
            od_table_meta(tab[k], cm, "stationary (second half) %.10g ± %.3g (SE)",
                          ok ? res[k].mean[last] : NAN, ok ? res[k].se[last] : NAN);
        }
        cJSON_AddItemToObject(o, "diverged_at", num_or_null(tdiv));
        if (!isnan(tdiv))
            fprintf(stderr, "optdyn sde: %s diverged at t = %g (some paths non-finite; their means are "
                            "not reported)\n", dyn_names[k], tdiv);
        if (od_table_write(tab[k], dir) != OD_OK) st = od_cli_fail("sde", OD_EXIT_ERROR, "%s", od_last_error());
        od_manifest_file(man, dyn_names[k]);
    }
    if (st == OD_EXIT_OK && cs.on[0] && (cs.on[1] || cs.on[2])) {   /* weak error vs discrete */
        tw = od_table_alloc("weak_error");
        od_table_add_double(tw, "t", t, nt);
        cJSON *jw = cJSON_AddObjectToObject(root, "weak_error");
        for (int k = 1; k < MAX_DYN; k++) {
            if (!cs.on[k]) continue;
            cJSON *jk = cJSON_AddObjectToObject(jw, dyn_names[k]);
            for (size_t q = 0; q < n_obs; q++) {
                double *e = malloc(2 * nt * sizeof *e), *se = e + nt;
                cJSON *ae = cJSON_AddArrayToObject(jk, obs[q].name);
                for (size_t j = 0; j < nt; j++) {
                    const size_t i = j * n_obs + q;
                    e[j] = fabs(res[k].mean[i] - res[0].mean[i]);
                    se[j] = hypot(res[k].se[i], res[0].se[i]);
                    cJSON_AddItemToArray(ae, num_or_null(e[j]));
                }
                char cn[64];
                snprintf(cn, sizeof cn, "%s_%s", dyn_names[k], obs[q].name);
                od_table_add_double(tw, cn, e, nt);
                snprintf(cn, sizeof cn, "%s_%s_se", dyn_names[k], obs[q].name);
                od_table_add_double(tw, cn, se, nt);
                free(e);
            }
        }
        od_table_meta(tw, "weak_error", "|E_dynamic - E_discrete| at equal SDE time; SE = hypot of the two SEs");
        if (od_table_write(tw, dir) != OD_OK) st = od_cli_fail("sde", OD_EXIT_ERROR, "%s", od_last_error());
    }
    if (st == OD_EXIT_OK) {   /* the figure: one panel per observable */
        od_figure_layout(fig, 1, (int)n_obs);
        for (size_t q = 0; q < n_obs; q++) {
            if (q) od_figure_next_panel(fig, obs[q].name);
            else od_figure_title(fig, obs[q].name);
            od_figure_xlabel(fig, (opt->flags & OD_SDE_OPT_ADAPTIVE) ? "SDE time t = k·η²" : "SDE time t = k·η");
            od_figure_ylabel(fig, obs[q].name);
            if (obs[q].kind != OD_SDE_OBS_COORD) od_figure_logy(fig, 1);
            char cm[48], cse[48], lab[64];
            snprintf(cm, sizeof cm, "mean_%s", obs[q].name);
            snprintf(cse, sizeof cse, "se_%s", obs[q].name);
            for (int k = 0; k < MAX_DYN; k++) {
                if (!tab[k]) continue;
                snprintf(lab, sizeof lab, "%s%s (mean ± 2 SE)", dyn_names[k], k == 2 ? " " : "");
                if (k == 2) snprintf(lab, sizeof lab, "SVAG l = %g (mean ± 2 SE)", cs.svag_l);
                od_figure_add(fig, &(od_series){.table = tab[k], .x = "t", .y = cm, .err = cse,
                                                .kind = OD_PLOT_BAND, .color = k + 1});
                od_figure_add(fig, &(od_series){.table = tab[k], .x = "t", .y = cm, .kind = OD_PLOT_LINES,
                                                .label = lab, .color = k + 1, .dash = k});
            }
        }
        if (od_figure_write(fig, dir, c.fmt, !c.no_plot) != OD_OK)
            st = od_cli_fail("sde", OD_EXIT_ERROR, "%s", od_last_error());
    }
    if (st == OD_EXIT_OK) {
        od_manifest_param_str(man, "problem", a.problem);
        od_manifest_param_str(man, "optimizer", opt->name);
        od_manifest_param_num(man, "lr", hp.lr);
        od_manifest_param_num(man, "batch", (double)batch);
        od_manifest_param_num(man, "steps", (double)steps);
        od_manifest_param_num(man, "paths", (double)a.paths);
        od_manifest_param_str(man, "hp", a.hp);
        od_manifest_param_str(man, "compare", a.compare);
        od_manifest_param_str(man, "integrator", a.integrator);
        if (a.rule) od_manifest_param_str(man, "rule", a.rule);
        od_manifest_set_num(man, "seed", (double)c.seed);
        od_manifest_set_num(man, "threads", (double)od_threads());
        od_manifest_set_num(man, "wall_seconds", od_wall_time() - t0);
        if (od_manifest_write(man, dir) != OD_OK) st = od_cli_fail("sde", OD_EXIT_ERROR, "%s", od_last_error());
    }
    if (st == OD_EXIT_OK) {
        cJSON *jh = cJSON_AddObjectToObject(root, "hp");
        cJSON_AddNumberToObject(jh, "lr", hp.lr);
        cJSON_AddNumberToObject(jh, "beta1", hp.beta1);
        cJSON_AddNumberToObject(jh, "beta2", hp.beta2);
        cJSON_AddNumberToObject(jh, "momentum", hp.momentum);
        cJSON_AddNumberToObject(jh, "eps", hp.eps);
        cJSON_AddNumberToObject(root, "batch", (double)batch);
        cJSON_AddNumberToObject(root, "steps", (double)steps);
        cJSON_AddNumberToObject(root, "clock", clock);
        if (a.rule) {
            cJSON *jr = cJSON_AddObjectToObject(root, "rule");
            cJSON_AddStringToObject(jr, "rule", a.rule);
            cJSON_AddNumberToObject(jr, "limit", rep.limit);
            cJSON_AddBoolToObject(jr, "valid", rep.valid);
        }
        cJSON_AddStringToObject(root, "dir", dir);
        if (c.json) {
            char *s = cJSON_Print(root);
            if (s) puts(s);
            cJSON_free(s);
        } else if (!c.quiet) {
            printf("optdyn sde: %s on %s, lr %g, batch %zu, %llu steps, %ld paths -> %s/\n", opt->name,
                   p->label, hp.lr, batch, (unsigned long long)steps, a.paths, dir);
            for (int k = 0; k < MAX_DYN; k++)
                for (size_t q = 0; tab[k] && q < n_obs; q++) {
                    const size_t last = nt * n_obs + q;
                    printf("  %-9s stationary %-8s %.6g ± %.2g (SE)\n", dyn_names[k], obs[q].name,
                           res[k].mean[last], res[k].se[last]);
                }
        }
    }
    cJSON_Delete(root);
    for (int k = 0; k < MAX_DYN; k++) {
        od_ensemble_result_free(&res[k]);
        od_table_free(tab[k]);
    }
    od_table_free(tw);
    od_figure_free(fig);
    od_manifest_free(man);
    free(times);
    free(t);
    free(dir);
out:
    od_problem_free(p);
    return st;
}
