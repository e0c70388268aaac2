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
 * line naming the culprit and exits 2 with nothing written.  Files are written only with --out.
 *
 * The models run in cmd_fit_chinchilla.c and cmd_fit_forms.c (declarations in cmd_fit.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_fit.h"

const char *const od_fit_model_names[4] = {"chinchilla", "powerlaw", "loglinear", "lr-batch"};

/* ---- output helpers ----------------------------------------------------------------------------- */

void od_fit_print_json(cJSON *j)
{
    char *s = cJSON_Print(j);
    if (s) {
        puts(s);
        cJSON_free(s);
    }
}

/* Writes the tables and the figure into dir (when dir != NULL) and lists them in the manifest. */
int od_fit_write_outputs(const char *dir, od_manifest *m, od_table *const *tabs, size_t nt,
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

cJSON *od_fit_json_num(cJSON *o, const char *key, double v)
{
    return isfinite(v) ? cJSON_AddNumberToObject(o, key, v) : cJSON_AddNullToObject(o, key);
}


/* Splits "a,b,c" into at most max column names (in place in buf). */
int od_fit_make_dir(const char *dir)
{
    if (dir && od_mkdir_p(dir) != OD_OK) return od_cli_fail(CMD, OD_EXIT_USAGE, "%s", od_last_error());
    return OD_EXIT_OK;
}

size_t od_fit_split_names(char *buf, const char **names, size_t max)
{
    size_t k = 0;
    for (char *tok = strtok(buf, ","); tok && k < max; tok = strtok(NULL, ",")) names[k++] = tok;
    return k;
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
                               od_fit_model_names[o->m]);
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
        size_t k = od_fit_split_names(buf, nm, MAX_X + 1);
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
        return od_cli_fail(CMD, OD_EXIT_USAGE, "--model %s needs %s", od_fit_model_names[o->m], missing);
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
        if (strcmp(o.model, od_fit_model_names[m]) == 0) {
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
    case M_CHINCHILLA: st = od_fit_chinchilla(&o, pos[0], dir, man); break;
    case M_POWERLAW: st = od_fit_powerlaw(&o, pos[0], dir, man); break;
    case M_LOGLINEAR: st = od_fit_loglinear(&o, pos[0], dir, man); break;
    case M_LRBATCH: st = od_fit_lrbatch(&o, pos[0], dir, man); break;
    }
    od_manifest_free(man);
    return st;
}

