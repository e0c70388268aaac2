/* optdyn cli — the experiment subcommands: list, describe, run, gallery, check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"

#define MAX_POS 256

/* ---- shared ---------------------------------------------------------------------------------- */

static void print_usage_block(const char *usage, const char *text, const od_cli_opt *opts, size_t n)
{
    printf("usage: %s\n\n%s\n\noptions:\n", usage, text);
    od_cli_print_opts(opts, n);
}

static od_run_options run_options(const od_cli_common *c, int render)
{
    od_run_options o = od_run_default_options();
    o.out_root = c->out;
    o.seed = (uint64_t)c->seed;
    o.threads = (int)c->threads;
    o.quick = c->quick;
    o.render = render && !c->no_plot;
    o.format = c->fmt;
    o.quiet = c->quiet || c->json;
    return o;
}

static cJSON *result_json(const od_exp_result *r, const char *out_root)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "experiment", r->exp->name);
    char *dir = od_path_join(out_root, r->exp->name);
    cJSON_AddStringToObject(j, "dir", dir ? dir : "");
    free(dir);
    cJSON_AddStringToObject(j, "status", r->status ? "error" : "ok");
    if (r->error) cJSON_AddStringToObject(j, "error", r->error);
    cJSON_AddNumberToObject(j, "wall_seconds", r->wall_seconds);
    cJSON *cl = cJSON_AddArrayToObject(j, "claims");
    for (size_t k = 0; k < r->n_claims; k++) {
        const od_claim *c = &r->claims[k];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", c->name);
        cJSON_AddNumberToObject(o, "measured", c->measured);
        cJSON_AddNumberToObject(o, "predicted", c->predicted);
        cJSON_AddNumberToObject(o, "tolerance", c->tolerance);
        cJSON_AddStringToObject(o, "relation", c->relation);
        cJSON_AddStringToObject(o, "verdict", c->pass ? "PASS" : "FAIL");
        cJSON_AddItemToArray(cl, o);
    }
    cJSON *notes = cJSON_AddArrayToObject(j, "notes");
    for (size_t k = 0; k < r->n_notes; k++) cJSON_AddItemToArray(notes, cJSON_CreateString(r->notes[k]));
    cJSON *figs = cJSON_AddArrayToObject(j, "figures");
    for (size_t k = 0; k < r->n_figures; k++) cJSON_AddItemToArray(figs, cJSON_CreateString(r->figures[k]));
    return j;
}

static void print_json(cJSON *j)
{
    char *s = cJSON_Print(j);
    if (s) {
        puts(s);
        cJSON_free(s);
    }
    cJSON_Delete(j);
}

static void print_claim_line(const char *prefix, const od_claim *c)
{
    printf("%s%s  %-28s measured %-12.6g %-16s predicted %-12.6g tol %.3g\n", prefix,
           c->pass ? "PASS" : "FAIL", c->name, c->measured, c->relation, c->predicted, c->tolerance);
}

/* ---- list ------------------------------------------------------------------------------------ */

int od_cmd_list(int argc, char **argv)
{
    od_cli_common c = od_cli_common_defaults();
    od_cli_opt opts[] = {
        {"--json", OD_OPT_FLAG, &c.json, 0, 0, NULL, "print as JSON"},
        {"--help", OD_OPT_FLAG, &c.help, 0, 0, NULL, "show this help"},
    };
    char *pos[MAX_POS];
    size_t npos;
    int st = od_cli_parse("list", argc, argv, opts, 2, pos, MAX_POS, &npos);
    if (st) return st;
    if (c.help) {
        print_usage_block("optdyn list [--json]", "Lists the experiments, one line each.", opts, 2);
        return OD_EXIT_OK;
    }
    if (npos) return od_cli_fail("list", OD_EXIT_USAGE, "unexpected argument '%s'", pos[0]);
    if (c.json) {
        cJSON *a = cJSON_CreateArray();
        for (size_t i = 0; od_exp_registry[i]; i++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "name", od_exp_registry[i]->name);
            cJSON_AddStringToObject(o, "title", od_exp_registry[i]->title);
            cJSON_AddItemToArray(a, o);
        }
        print_json(a);
        return OD_EXIT_OK;
    }
    for (size_t i = 0; od_exp_registry[i]; i++)
        printf("%-28s %s\n", od_exp_registry[i]->name, od_exp_registry[i]->title);
    return OD_EXIT_OK;
}

/* ---- describe -------------------------------------------------------------------------------- */

static const char *type_word(od_param_type t)
{
    switch (t) {
    case OD_PARAM_DOUBLE: return "real";
    case OD_PARAM_INT: return "int";
    case OD_PARAM_BOOL: return "bool";
    case OD_PARAM_CHOICE: return "choice";
    default: return "text";
    }
}

int od_cmd_describe(int argc, char **argv)
{
    od_cli_common c = od_cli_common_defaults();
    od_cli_opt opts[] = {{"--help", OD_OPT_FLAG, &c.help, 0, 0, NULL, "show this help"}};
    char *pos[MAX_POS];
    size_t npos;
    int st = od_cli_parse("describe", argc, argv, opts, 1, pos, MAX_POS, &npos);
    if (st) return st;
    if (c.help) {
        print_usage_block("optdyn describe NAME",
                          "Shows an experiment's source, parameters (type, default, --quick value, "
                          "range) and the claims it checks.", opts, 1);
        return OD_EXIT_OK;
    }
    if (npos != 1) return od_cli_fail("describe", OD_EXIT_USAGE, "expected one experiment name (see 'optdyn list')");
    const od_experiment *e = od_exp_find(pos[0]);
    if (!e) return od_cli_fail("describe", OD_EXIT_USAGE, "unknown experiment '%s' (see 'optdyn list')", pos[0]);
    printf("%s — %s\n\nreference: %s\ndocs:      %s\n\n%s\n\nparameters (optdyn run %s key=value ...):\n",
           e->name, e->title, e->reference, e->doc ? e->doc : "-", e->summary, e->name);
    od_params dv, qv;
    if (od_params_init(&dv, e->params, e->n_params, 0) || od_params_init(&qv, e->params, e->n_params, 1))
        return od_cli_fail("describe", OD_EXIT_ERROR, "out of memory");
    printf("  %-14s %-7s %-14s %-14s %-22s %s\n", "key", "type", "default", "--quick", "range", "meaning");
    for (size_t i = 0; i < e->n_params; i++) {
        char d[64], q[64], range[128];
        od_params_value_str(&dv, i, d, sizeof d);
        od_params_value_str(&qv, i, q, sizeof q);
        od_param_range_str(&e->params[i], range, sizeof range);
        printf("  %-14s %-7s %-14s %-14s %-22s %s\n", e->params[i].name, type_word(e->params[i].type),
               d, strcmp(d, q) ? q : "=", range, e->params[i].help);
    }
    od_params_free(&dv);
    od_params_free(&qv);
    printf("\nclaims:\n");
    for (size_t i = 0; i < e->n_claims; i++) printf("  %-26s %s\n", e->claims[i].name, e->claims[i].text);
    return OD_EXIT_OK;
}

/* ---- run ------------------------------------------------------------------------------------- */

int od_cmd_run(int argc, char **argv)
{
    od_cli_common c = od_cli_common_defaults();
    od_cli_opt opts[16];
    size_t n = od_cli_common_opts(&c, 1, opts, 16);
    char *pos[MAX_POS];
    size_t npos;
    int st = od_cli_parse("run", argc, argv, opts, n, pos, MAX_POS, &npos);
    if (st) return st;
    if (c.help) {
        print_usage_block("optdyn run NAME [key=value ...] [options]",
                          "Runs one experiment into OUTDIR/NAME/: TSV tables, manifest.json, .gp "
                          "scripts and figures, and prints its claims.\nParameters are listed by "
                          "'optdyn describe NAME'.  Exit status: 0 all claims pass, 1 a claim "
                          "failed, 2 bad input, 3 the run failed.", opts, n);
        return OD_EXIT_OK;
    }
    if ((st = od_cli_common_finish("run", &c))) return st;
    if (npos < 1) return od_cli_fail("run", OD_EXIT_USAGE, "expected an experiment name (see 'optdyn list')");
    const od_experiment *e = od_exp_find(pos[0]);
    if (!e) return od_cli_fail("run", OD_EXIT_USAGE, "unknown experiment '%s' (see 'optdyn list')", pos[0]);
    od_params v;
    if (od_exp_params(e, c.quick, pos + 1, npos - 1, &v) != OD_OK)
        return od_cli_fail("run", OD_EXIT_USAGE, "%s", od_last_error());
    if (od_mkdir_p(c.out) != OD_OK) {
        od_params_free(&v);
        return od_cli_fail("run", OD_EXIT_USAGE, "%s", od_last_error());
    }
    od_run_options ro = run_options(&c, 1);
    od_exp_result res;
    int s = od_exp_run(e, &v, &ro, &res);
    od_params_free(&v);
    int code = s ? OD_EXIT_ERROR : od_exp_result_failures(&res) ? OD_EXIT_FAIL : OD_EXIT_OK;
    if (c.json) {
        print_json(result_json(&res, c.out));
    } else if (!s) {
        if (!c.quiet)
            for (size_t k = 0; k < res.n_claims; k++) print_claim_line("  ", &res.claims[k]);
        if (!c.quiet)
            for (size_t k = 0; k < res.n_notes; k++) printf("  note: %s\n", res.notes[k]);
        printf("%s: %zu claims, %zu failed, %.1f s -> %s/%s/\n", e->name, res.n_claims,
               od_exp_result_failures(&res), res.wall_seconds, c.out, e->name);
    }
    if (s) od_cli_fail("run", OD_EXIT_ERROR, "%s: %s", e->name, res.error ? res.error : od_strerror(s));
    od_exp_result_free(&res);
    return code;
}

/* ---- gallery and check ----------------------------------------------------------------------- */

static int run_all(const char *cmd, int argc, char **argv, int gallery)
{
    od_cli_common c = od_cli_common_defaults();
    od_cli_opt opts[16];
    size_t n = od_cli_common_opts(&c, 1, opts, 16);
    char *pos[MAX_POS];
    size_t npos;
    int st = od_cli_parse(cmd, argc, argv, opts, n, pos, MAX_POS, &npos);
    if (st) return st;
    if (c.help) {
        if (gallery)
            print_usage_block("optdyn gallery [--quick] [options]",
                              "Runs every experiment into OUTDIR/NAME/ and writes OUTDIR/index.html "
                              "(every figure with its title, reference and verdicts) and "
                              "OUTDIR/report.md.  Exit status 1 if any claim failed.", opts, n);
        else
            print_usage_block("optdyn check [--quick] [options]",
                              "Runs every experiment without drawing figures (unless --format is "
                              "given) and prints one line per claim.  Exit status 1 if any claim "
                              "fails, 3 if an experiment stops with an error.", opts, n);
        return OD_EXIT_OK;
    }
    if ((st = od_cli_common_finish(cmd, &c))) return st;
    if (npos) return od_cli_fail(cmd, OD_EXIT_USAGE, "unexpected argument '%s'", pos[0]);
    if (od_mkdir_p(c.out) != OD_OK) return od_cli_fail(cmd, OD_EXIT_USAGE, "%s", od_last_error());
    int render = gallery;
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], "--format", 8) == 0) render = 1;
    od_run_options ro = run_options(&c, render);
    size_t ne = 0;
    while (od_exp_registry[ne]) ne++;
    od_exp_result *res = calloc(ne ? ne : 1, sizeof *res);
    if (!res) return od_cli_fail(cmd, OD_EXIT_ERROR, "out of memory");
    size_t failed = 0, errors = 0, total = 0;
    cJSON *ja = c.json ? cJSON_CreateArray() : NULL;
    for (size_t i = 0; i < ne; i++) {
        const od_experiment *e = od_exp_registry[i];
        od_params v;
        if (od_exp_params(e, c.quick, NULL, 0, &v) != OD_OK) {
            od_cli_fail(cmd, OD_EXIT_ERROR, "%s", od_last_error());
            errors++;
            res[i].exp = e;
            res[i].status = OD_EINTERNAL;
            continue;
        }
        int s = od_exp_run(e, &v, &ro, &res[i]);
        od_params_free(&v);
        res[i].status = s;
        failed += od_exp_result_failures(&res[i]);
        total += res[i].n_claims;
        if (s) errors++;
        if (ja) {
            cJSON_AddItemToArray(ja, result_json(&res[i], c.out));
            continue;
        }
        if (gallery) {
            printf("%-28s %zu/%zu claims pass  %6.1f s%s%s\n", e->name,
                   res[i].n_claims - od_exp_result_failures(&res[i]), res[i].n_claims,
                   res[i].wall_seconds, s ? "  ERROR: " : "", s ? (res[i].error ? res[i].error : "") : "");
        } else {
            char prefix[128];
            snprintf(prefix, sizeof prefix, "%s/", e->name);
            for (size_t k = 0; k < res[i].n_claims; k++) {
                const od_claim *cl = &res[i].claims[k];
                printf("%s %s/%s: measured %.6g %s predicted %.6g (tol %.3g)\n", cl->pass ? "PASS" : "FAIL",
                       e->name, cl->name, cl->measured, cl->relation, cl->predicted, cl->tolerance);
            }
            if (s) printf("ERROR %s: %s\n", e->name, res[i].error ? res[i].error : od_strerror(s));
        }
        fflush(stdout);
    }
    int code = errors ? OD_EXIT_ERROR : failed ? OD_EXIT_FAIL : OD_EXIT_OK;
    if (gallery && od_exp_write_gallery(c.out, res, ne, &ro) != OD_OK) {
        od_cli_fail(cmd, OD_EXIT_ERROR, "%s", od_last_error());
        code = OD_EXIT_ERROR;
    }
    if (ja) {
        print_json(ja);
    } else {
        printf("%zu experiments, %zu claims, %zu failed, %zu errors", ne, total, failed, errors);
        if (gallery) printf(" -> %s/index.html, %s/report.md", c.out, c.out);
        printf("\n");
    }
    for (size_t i = 0; i < ne; i++) od_exp_result_free(&res[i]);
    free(res);
    return code;
}

int od_cmd_gallery(int argc, char **argv) { return run_all("gallery", argc, argv, 1); }
int od_cmd_check(int argc, char **argv) { return run_all("check", argc, argv, 0); }
