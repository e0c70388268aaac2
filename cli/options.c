/* optdyn cli — option-table parser and common options (see cli.h). */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/optdyn_core.h"

int od_cli_fail(const char *cmd, int status, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "optdyn%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return status;
}

od_cli_common od_cli_common_defaults(void)
{
    od_cli_common c = {.out = "out", .seed = 1, .threads = od_threads(), .format = "png",
                       .fmt = OD_FMT_PNG};
    return c;
}

size_t od_cli_common_opts(od_cli_common *c, int want_quick, od_cli_opt *opts, size_t cap)
{
    const od_cli_opt all[] = {
        {"--out", OD_OPT_STRING, &c->out, 0, 0, "DIR", "output folder (default out)"},
        {"--seed", OD_OPT_INT, &c->seed, 0, 9.0e15, "N", "random seed (default 1)"},
        {"--threads", OD_OPT_INT, &c->threads, 1, 1024, "N", "OpenMP threads (default: all)"},
        {"--format", OD_OPT_STRING, &c->format, 0, 0, "png|svg|pdf", "figure format (default png)"},
        {"--no-plot", OD_OPT_FLAG, &c->no_plot, 0, 0, NULL, "write data and .gp scripts, do not run gnuplot"},
        {"--json", OD_OPT_FLAG, &c->json, 0, 0, NULL, "print results as JSON on stdout"},
        {"--quiet", OD_OPT_FLAG, &c->quiet, 0, 0, NULL, "no progress display, no per-claim lines"},
        {"--help", OD_OPT_FLAG, &c->help, 0, 0, NULL, "show this help"},
        {"--quick", OD_OPT_FLAG, &c->quick, 0, 0, NULL, "use the small --quick sizes"},
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof all / sizeof all[0] && n < cap; i++) {
        if (!want_quick && strcmp(all[i].name, "--quick") == 0) continue;
        opts[n++] = all[i];
    }
    return n;
}

int od_cli_common_finish(const char *cmd, od_cli_common *c)
{
    if (od_plot_format_parse(c->format, &c->fmt) != OD_OK)
        return od_cli_fail(cmd, OD_EXIT_USAGE, "--format: unknown format '%s' (png, svg or pdf)",
                           c->format);
    if (!*c->out) return od_cli_fail(cmd, OD_EXIT_USAGE, "--out: empty folder name");
    od_set_threads((int)c->threads);
    if (c->quiet || c->json) od_progress_enable(0);
    return OD_EXIT_OK;
}

static const od_cli_opt *find_opt(const od_cli_opt *opts, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0) return &opts[i];
    return NULL;
}

int od_cli_parse(const char *cmd, int argc, char **argv, const od_cli_opt *opts, size_t n_opts,
                 char **pos, size_t pos_cap, size_t *npos)
{
    *npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || strcmp(a, "--") == 0) {
            if (*npos >= pos_cap)
                return od_cli_fail(cmd, OD_EXIT_USAGE, "too many arguments at '%s'", a);
            pos[(*npos)++] = argv[i];
            continue;
        }
        const char *eq = strchr(a, '=');
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        const od_cli_opt *o = find_opt(opts, n_opts, a, len);
        if (!o)
            return od_cli_fail(cmd, OD_EXIT_USAGE, "unknown option '%.*s' (see 'optdyn %s --help')",
                               (int)len, a, cmd);
        if (o->kind == OD_OPT_FLAG) {
            if (eq) return od_cli_fail(cmd, OD_EXIT_USAGE, "option %s takes no value", o->name);
            *(int *)o->target = 1;
            continue;
        }
        const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!val) return od_cli_fail(cmd, OD_EXIT_USAGE, "option %s needs a value (%s)", o->name, o->metavar);
        if (o->kind == OD_OPT_STRING) {
            *(const char **)o->target = val;
            continue;
        }
        double x;
        long l = 0;
        int bad = o->kind == OD_OPT_INT ? od_parse_long(val, &l) : od_parse_double(val, &x);
        if (bad)
            return od_cli_fail(cmd, OD_EXIT_USAGE, "option %s expects %s, got '%s'", o->name,
                               o->kind == OD_OPT_INT ? "an integer" : "a number", val);
        if (o->kind == OD_OPT_INT) x = (double)l;
        const int lo_open = (o->flags & OD_LO_OPEN) != 0, hi_open = (o->flags & OD_HI_OPEN) != 0;
        if (x < o->lo || x > o->hi || (lo_open && x == o->lo) || (hi_open && x == o->hi))
            return od_cli_fail(cmd, OD_EXIT_USAGE, "option %s = %s is out of range %c%g, %g%c",
                               o->name, val, lo_open ? '(' : '[', o->lo, o->hi, hi_open ? ')' : ']');
        if (o->kind == OD_OPT_INT) *(long *)o->target = l;
        else *(double *)o->target = x;
    }
    return OD_EXIT_OK;
}

void od_cli_print_opts(const od_cli_opt *opts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char head[64];
        snprintf(head, sizeof head, "%s%s%s", opts[i].name, opts[i].metavar ? " " : "",
                 opts[i].metavar ? opts[i].metavar : "");
        printf("  %-24s %s\n", head, opts[i].help);
    }
}
