/* optdyn experiments — parameters, runs, claims and the run context (see optdyn_experiments.h). */
#include "experiments/optdyn_experiments.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct od_run {
    const od_experiment *exp;
    const od_params *v;
    const od_run_options *opts;
    char *dir;
    char label[96];
    od_manifest *m;
    od_exp_result *res;
};

od_run_options od_run_default_options(void)
{
    od_run_options o = {.out_root = "out", .seed = 1, .threads = od_threads(), .quick = 0,
                        .render = 1, .format = OD_FMT_PNG, .quiet = 0};
    return o;
}

const od_experiment *od_exp_find(const char *name)
{
    for (size_t i = 0; od_exp_registry[i]; i++)
        if (strcmp(od_exp_registry[i]->name, name) == 0) return od_exp_registry[i];
    return NULL;
}

int od_exp_params(const od_experiment *exp, int quick, char *const *assign, size_t n, od_params *v)
{
    char where[160];
    snprintf(where, sizeof where, "%s", exp->name);
    OD_TRY(od_params_init(v, exp->params, exp->n_params, quick));
    for (size_t i = 0; i < n; i++) {
        int s = od_params_assign(v, where, assign[i]);
        if (s != OD_OK) {
            od_params_free(v);
            return s;
        }
    }
    if (exp->validate) {
        int s = exp->validate(v);
        if (s != OD_OK) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s: %s", exp->name, od_last_error());
            od_params_free(v);
            OD_ERROR(msg, s);
        }
    }
    return OD_OK;
}

static int push_str(char ***arr, size_t *n, const char *s)
{
    char **a = realloc(*arr, (*n + 1) * sizeof *a);
    if (!a) OD_ERROR("out of memory", OD_ENOMEM);
    *arr = a;
    if (!(a[*n] = od_strdup(s))) OD_ERROR("out of memory", OD_ENOMEM);
    (*n)++;
    return OD_OK;
}

void od_exp_result_free(od_exp_result *res)
{
    if (!res) return;
    for (size_t i = 0; i < res->n_claims; i++) {
        free(res->claims[i].name);
        free(res->claims[i].text);
    }
    for (size_t i = 0; i < res->n_notes; i++) free(res->notes[i]);
    for (size_t i = 0; i < res->n_figures; i++) free(res->figures[i]);
    free(res->claims);
    free(res->notes);
    free(res->figures);
    free(res->error);
    memset(res, 0, sizeof *res);
}

size_t od_exp_result_failures(const od_exp_result *res)
{
    size_t f = 0;
    for (size_t i = 0; i < res->n_claims; i++) f += !res->claims[i].pass;
    return f;
}

int od_exp_run(const od_experiment *exp, const od_params *v, const od_run_options *opts,
               od_exp_result *res)
{
    memset(res, 0, sizeof *res);
    res->exp = exp;
    od_run r = {.exp = exp, .v = v, .opts = opts, .res = res};
    r.dir = od_path_join(opts->out_root, exp->name);
    if (!r.dir) OD_ERROR("out of memory", OD_ENOMEM);
    int status = od_mkdir_p(r.dir);
    if (status != OD_OK) {
        free(r.dir);
        return status;
    }
    char cmd[160];
    snprintf(cmd, sizeof cmd, "run %s", exp->name);
    r.m = od_manifest_alloc(cmd);
    if (!r.m) {
        free(r.dir);
        OD_ERROR("out of memory", OD_ENOMEM);
    }
    snprintf(r.label, sizeof r.label, "%s", exp->name);
    for (size_t i = 0; i < v->n; i++) {
        const od_param *p = &v->spec[i];
        if (p->type == OD_PARAM_STRING || p->type == OD_PARAM_CHOICE)
            od_manifest_param_str(r.m, p->name, v->str[i]);
        else
            od_manifest_param_num(r.m, p->name, v->num[i]);
    }
    od_manifest_set_str(r.m, "experiment", exp->name);
    od_manifest_set_str(r.m, "title", exp->title);
    od_manifest_set_str(r.m, "reference", exp->reference);
    od_manifest_set_num(r.m, "seed", (double)opts->seed);
    od_manifest_set_num(r.m, "threads", opts->threads);
    od_manifest_set_bool(r.m, "quick", opts->quick);

    od_set_threads(opts->threads);
    double t0 = od_wall_time();
    od_clear_error();
    status = exp->run(&r);
    res->wall_seconds = od_wall_time() - t0;
    res->status = status;
    if (status != OD_OK) {
        res->error = od_strdup(*od_last_error() ? od_last_error() : od_strerror(status));
        od_manifest_set_str(r.m, "error", res->error ? res->error : "");
    }
    od_manifest_set_num(r.m, "wall_seconds", res->wall_seconds);
    for (size_t i = 0; i < res->n_claims; i++) {
        const od_claim *c = &res->claims[i];
        od_manifest_verdict(r.m, c->name, c->measured, c->predicted, c->tolerance, c->relation,
                            c->pass);
    }
    for (size_t i = 0; i < res->n_notes; i++) od_manifest_note(r.m, res->notes[i]);
    int ws = od_manifest_write(r.m, r.dir);
    od_manifest_free(r.m);
    free(r.dir);
    return status != OD_OK ? status : ws;
}

/* ---- context -------------------------------------------------------------------------------- */
const od_params *od_run_values(const od_run *r) { return r->v; }
double od_run_num(const od_run *r, const char *key) { return od_params_num(r->v, key); }
long od_run_int(const od_run *r, const char *key) { return od_params_int(r->v, key); }
const char *od_run_str(const od_run *r, const char *key) { return od_params_str(r->v, key); }
uint64_t od_run_seed(const od_run *r) { return r->opts->seed; }
int od_run_quick(const od_run *r) { return r->opts->quick; }
const char *od_run_dir(const od_run *r) { return r->dir; }
const char *od_run_progress_label(const od_run *r) { return r->opts->quiet ? NULL : r->label; }

int od_run_table(od_run *r, const od_table *t)
{
    OD_TRY(od_table_write(t, r->dir));
    char name[300];
    snprintf(name, sizeof name, "%s.tsv", od_table_name(t));
    return od_manifest_file(r->m, name);
}

int od_run_figure(od_run *r, const od_figure *f)
{
    OD_TRY(od_figure_write(f, r->dir, r->opts->format, r->opts->render));
    char name[300];
    snprintf(name, sizeof name, "%s.gp", od_figure_name(f));
    od_manifest_file(r->m, name);
    if (r->opts->render && od_plot_have_gnuplot()) {
        snprintf(name, sizeof name, "%s.%s", od_figure_name(f), od_plot_ext(r->opts->format));
        od_manifest_file(r->m, name);
        OD_TRY(push_str(&r->res->figures, &r->res->n_figures, name));
    }
    return OD_OK;
}

static int add_claim(od_run *r, const char *name, int pass, double measured, double predicted,
                     double tol, const char *relation)
{
    const od_claim_doc *doc = NULL;
    for (size_t i = 0; i < r->exp->n_claims; i++)
        if (strcmp(r->exp->claims[i].name, name) == 0) doc = &r->exp->claims[i];
    if (!doc) OD_ERRORF(OD_EINTERNAL, "%s: claim '%s' is not documented", r->exp->name, name);
    od_exp_result *res = r->res;
    od_claim *c = realloc(res->claims, (res->n_claims + 1) * sizeof *c);
    if (!c) OD_ERROR("out of memory", OD_ENOMEM);
    res->claims = c;
    c = &c[res->n_claims];
    memset(c, 0, sizeof *c);
    c->name = od_strdup(name);
    c->text = od_strdup(doc->text);
    if (!c->name || !c->text) {
        free(c->name);
        free(c->text);
        OD_ERROR("out of memory", OD_ENOMEM);
    }
    c->measured = measured;
    c->predicted = predicted;
    c->tolerance = tol;
    c->pass = pass && isfinite(measured);
    snprintf(c->relation, sizeof c->relation, "%s", relation);
    res->n_claims++;
    return OD_OK;
}

int od_run_claim_close(od_run *r, const char *name, double measured, double predicted, double tol)
{
    return add_claim(r, name, fabs(measured - predicted) <= tol, measured, predicted, tol,
                     "|m-p|<=tol");
}

int od_run_claim_le(od_run *r, const char *name, double measured, double bound)
{
    return add_claim(r, name, measured <= bound, measured, bound, 0, "m<=p");
}

int od_run_claim_ge(od_run *r, const char *name, double measured, double bound)
{
    return add_claim(r, name, measured >= bound, measured, bound, 0, "m>=p");
}

int od_run_claim_range(od_run *r, const char *name, double measured, double lo, double hi)
{
    return add_claim(r, name, measured >= lo && measured <= hi, measured, 0.5 * (lo + hi),
                     0.5 * (hi - lo), "p-tol<=m<=p+tol");
}

int od_run_claim_check(od_run *r, const char *name, int pass, double measured, double predicted,
                       const char *relation)
{
    return add_claim(r, name, pass, measured, predicted, 0, relation ? relation : "check");
}

int od_run_note(od_run *r, const char *fmt, ...)
{
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return push_str(&r->res->notes, &r->res->n_notes, text);
}
