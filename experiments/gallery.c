/* optdyn experiments — the gallery pages: index.html and report.md (see optdyn_experiments.h). */
#include "experiments/optdyn_experiments.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static void html(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* Markdown table cells: escape the pipe. */
static void md(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|') fputs("\\|", f);
        else if (*s == '\n') fputc(' ', f);
        else fputc(*s, f);
    }
}

static size_t count_claims(const od_exp_result *r, size_t n, size_t *failed)
{
    size_t c = 0;
    *failed = 0;
    for (size_t i = 0; i < n; i++) {
        c += r[i].n_claims;
        *failed += od_exp_result_failures(&r[i]);
    }
    return c;
}

static void stamp(char *buf, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm);
}

static int write_html(const char *dir, const od_exp_result *res, size_t n, const od_run_options *o)
{
    od_outfile out;
    OD_TRY(od_outfile_open(&out, dir, "index.html"));
    FILE *f = out.f;
    size_t failed, total = count_claims(res, n, &failed);
    char when[64];
    stamp(when, sizeof when);
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<title>optdyn gallery</title>\n<style>\n"
          "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;"
          "color:#222;line-height:1.45}\n"
          "h1{margin-bottom:.2em} .meta{color:#666} img{max-width:100%;border:1px solid #ddd;"
          "margin:.5em 0}\n"
          "table{border-collapse:collapse;margin:.6em 0;font-size:.92em}"
          "td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}\n"
          ".PASS{color:#1a7f37;font-weight:bold} .FAIL{color:#cf222e;font-weight:bold}\n"
          ".error{color:#cf222e} section{border-top:2px solid #eee;margin-top:2em}"
          " code{background:#f4f4f4;padding:0 .2em}\n"
          "</style></head><body>\n<h1>optdyn gallery</h1>\n", f);
    fprintf(f, "<p class=\"meta\">optdyn %s &middot; %s &middot; seed %llu &middot; %d threads"
               "%s &middot; %zu experiments, %zu claims, <span class=\"%s\">%zu failed</span></p>\n",
            od_version(), when, (unsigned long long)o->seed, o->threads,
            o->quick ? " &middot; quick sizes" : "", n, total, failed ? "FAIL" : "PASS", failed);
    fputs("<ul>\n", f);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "<li><a href=\"#%s\">", res[i].exp->name);
        html(f, res[i].exp->title);
        size_t nf = od_exp_result_failures(&res[i]);
        fprintf(f, "</a> &mdash; <span class=\"%s\">%s</span></li>\n",
                (nf || res[i].status) ? "FAIL" : "PASS",
                res[i].status ? "error" : nf ? "claims failed" : "all claims pass");
    }
    fputs("</ul>\n", f);
    for (size_t i = 0; i < n; i++) {
        const od_exp_result *r = &res[i];
        fprintf(f, "<section id=\"%s\"><h2>", r->exp->name);
        html(f, r->exp->title);
        fprintf(f, "</h2>\n<p class=\"meta\"><code>optdyn run %s</code> &middot; ", r->exp->name);
        html(f, r->exp->reference);
        fprintf(f, " &middot; %.1f s &middot; <a href=\"%s/manifest.json\">manifest</a></p>\n",
                r->wall_seconds, r->exp->name);
        fputs("<p>", f);
        html(f, r->exp->summary);
        fputs("</p>\n", f);
        if (r->status) {
            fputs("<p class=\"error\">The run stopped with an error: ", f);
            html(f, r->error ? r->error : "unknown");
            fputs("</p>\n", f);
        }
        for (size_t k = 0; k < r->n_figures; k++) {
            const char *fig = r->figures[k];
            if (strstr(fig, ".pdf")) fprintf(f, "<p><a href=\"%s/%s\">%s</a></p>\n", r->exp->name, fig, fig);
            else fprintf(f, "<img src=\"%s/%s\" alt=\"%s\">\n", r->exp->name, fig, fig);
        }
        if (r->n_claims) {
            fputs("<table><tr><th>claim</th><th>what is asserted</th><th>measured</th>"
                  "<th>predicted</th><th>tolerance</th><th>relation</th><th>verdict</th></tr>\n", f);
            for (size_t k = 0; k < r->n_claims; k++) {
                const od_claim *c = &r->claims[k];
                fputs("<tr><td>", f);
                html(f, c->name);
                fputs("</td><td>", f);
                html(f, c->text);
                fprintf(f, "</td><td>%.6g</td><td>%.6g</td><td>%.3g</td><td>", c->measured,
                        c->predicted, c->tolerance);
                html(f, c->relation);
                fprintf(f, "</td><td class=\"%s\">%s</td></tr>\n", c->pass ? "PASS" : "FAIL",
                        c->pass ? "PASS" : "FAIL");
            }
            fputs("</table>\n", f);
        }
        for (size_t k = 0; k < r->n_notes; k++) {
            fputs("<p><b>Note.</b> ", f);
            html(f, r->notes[k]);
            fputs("</p>\n", f);
        }
        fputs("</section>\n", f);
    }
    fputs("</body></html>\n", f);
    return od_outfile_commit(&out);
}

static int write_md(const char *dir, const od_exp_result *res, size_t n, const od_run_options *o)
{
    od_outfile out;
    OD_TRY(od_outfile_open(&out, dir, "report.md"));
    FILE *f = out.f;
    size_t failed, total = count_claims(res, n, &failed);
    char when[64];
    stamp(when, sizeof when);
    fprintf(f, "# optdyn report\n\noptdyn %s, %s, seed %llu, %d threads%s.\n\n"
               "%zu experiments, %zu claims, %zu failed.\n\n",
            od_version(), when, (unsigned long long)o->seed, o->threads,
            o->quick ? ", quick sizes" : "", n, total, failed);
    fputs("| experiment | claims | failed | seconds |\n|---|---|---|---|\n", f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "| [%s](#%s) | %zu | %zu%s | %.1f |\n", res[i].exp->name, res[i].exp->name,
                res[i].n_claims, od_exp_result_failures(&res[i]), res[i].status ? " (error)" : "",
                res[i].wall_seconds);
    for (size_t i = 0; i < n; i++) {
        const od_exp_result *r = &res[i];
        fprintf(f, "\n## %s\n\n%s  \n`optdyn run %s` — %s\n\n", r->exp->name, r->exp->title,
                r->exp->name, r->exp->reference);
        if (r->status) fprintf(f, "**Error:** %s\n\n", r->error ? r->error : "unknown");
        for (size_t k = 0; k < r->n_figures; k++)
            fprintf(f, "![%s](%s/%s)\n\n", r->figures[k], r->exp->name, r->figures[k]);
        if (r->n_claims) {
            fputs("| claim | measured | predicted | tolerance | relation | verdict |\n"
                  "|---|---|---|---|---|---|\n", f);
            for (size_t k = 0; k < r->n_claims; k++) {
                const od_claim *c = &r->claims[k];
                fputs("| ", f);
                md(f, c->name);
                fprintf(f, " | %.6g | %.6g | %.3g | ", c->measured, c->predicted, c->tolerance);
                md(f, c->relation);
                fprintf(f, " | %s |\n", c->pass ? "PASS" : "**FAIL**");
            }
            fputc('\n', f);
        }
        for (size_t k = 0; k < r->n_notes; k++) fprintf(f, "> %s\n\n", r->notes[k]);
    }
    return od_outfile_commit(&out);
}

int od_exp_write_gallery(const char *out_root, const od_exp_result *results, size_t n,
                         const od_run_options *opts)
{
    OD_TRY(od_mkdir_p(out_root));
    OD_TRY(write_html(out_root, results, n, opts));
    return write_md(out_root, results, n, opts);
}
