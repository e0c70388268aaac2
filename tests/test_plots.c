/* optdyn tests — the figure driver (plots/): quoting, script contents, rendering to PNG, SVG and
 * PDF with the real gnuplot, error paths, and the behaviour without gnuplot.  The scripts of the
 * figures drawn here are also compared byte for byte with golden copies (tests/golden/plots).
 *
 * Rendering tests need gnuplot on the PATH; without it they check only what is written and say
 * so on stdout. */
#include "od_test.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/optdyn_core.h"
#include "plots/optdyn_plots.h"

/* ---- helpers -------------------------------------------------------------------------------- */

static char *path_of(const char *dir, const char *name)
{
    static char buf[4][1024];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static int file_starts(const char *path, const void *sig, size_t n)
{
    unsigned char b[64];
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t got = fread(b, 1, n, f);
    fclose(f);
    return got == n && memcmp(b, sig, n) == 0;
}

/* Number of entries of dir whose name contains ".tmp". */
static int count_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".tmp")) {
            fprintf(stderr, "\n  left behind: %s/%s\n", dir, e->d_name);
            n++;
        }
    closedir(d);
    return n;
}

static int is_png(const char *path)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    return file_starts(path, sig, 8) && file_size(path) > 1000;
}

/* The script dir/script must equal tests/golden/plots/golden byte for byte, with the version
 * string and the style template (plots/preamble.gp, written verbatim) masked, so that no change of
 * the driver alters a script by accident.  After an intended change, regenerate with
 * `OD_GOLDEN_UPDATE=1 ctest --preset dev -R test_plots` and review `git diff tests/golden`. */
static void check_golden(const char *dir, const char *script, const char *golden)
{
    char *preamble = od_test_slurp(OD_SOURCE_DIR "/plots/preamble.gp");
    CU_ASSERT_PTR_NOT_NULL_FATAL(preamble);
    char want[1024];
    snprintf(want, sizeof want, "%s/tests/golden/plots/%s", OD_SOURCE_DIR, golden);
    const char *const vary[] = {preamble, "@PREAMBLE@\n", od_version(), "@VERSION@", NULL};
    OD_ASSERT_GOLDEN(path_of(dir, script), want, vary);
    free(preamble);
}

static int have_gnuplot(const char *test)
{
    if (od_plot_have_gnuplot()) return 1;
    printf("\n  [%s: gnuplot not found, rendering not checked] ", test);
    return 0;
}

/* A risk curve over log-spaced steps: exact risk, a Monte Carlo estimate of it with standard
 * errors, and a second, slower schedule.  Numbers are high-entropy but deterministic. */
static od_table *risk_table(const char *name, size_t n)
{
    od_table *t = od_table_alloc(name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    od_table_meta(t, "experiment", "plots test: risk of SGD on a quadratic");
    od_table_meta(t, "seed", "%d", 20240917);
    CU_ASSERT_EQUAL(od_table_add_double(t, "t", NULL, 0), OD_OK);
    od_table_add_double(t, "exact", NULL, 0);
    od_table_add_double(t, "mc_mean", NULL, 0);
    od_table_add_double(t, "mc_se", NULL, 0);
    od_table_add_double(t, "slow", NULL, 0);
    for (size_t k = 0; k < n; k++) {
        double step = floor(pow(10, 3.3 * (double)k / (double)(n - 1)));
        double exact = 0.7316 / (1 + step / 37.2) + 0.0125;
        double slow = 0.7316 / sqrt(1 + step / 11.9) + 0.0125;
        double se = exact * (0.05 + 0.1 / sqrt(1 + (double)k));
        double mc = exact * (1 + 0.6 * (se / exact) * sin(2.385 * (double)k));
        double row[5] = {step, exact, mc, se, slow};
        od_table_append(t, row);
    }
    return t;
}

/* Loss against step on a linear scale with error bars (second panel). */
static od_table *loss_table(const char *name)
{
    od_table *t = od_table_alloc(name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    od_table_add_double(t, "step", NULL, 0);
    od_table_add_double(t, "loss", NULL, 0);
    od_table_add_double(t, "se", NULL, 0);
    od_table_add_double(t, "sde", NULL, 0);
    for (int k = 0; k <= 24; k++) {
        double s = 25.0 * k;
        double sde = 1.318 * exp(-s / 161.0) + 0.2071;
        double row[4] = {s, sde * (1 + 0.04 * cos(1.7 * k)), 0.021 + 0.0013 * k, sde};
        od_table_append(t, row);
    }
    return t;
}

/* The figure the rendering tests draw: 2 panels, lines + band + error bars, log axes,
 * reference lines and a note. */
static od_figure *demo_figure(const od_table *risk, const od_table *loss, const char *name)
{
    od_figure *f = od_figure_alloc(name, "SGD on a quadratic: exact risk against Monte Carlo");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(od_figure_layout(f, 1, 2), OD_OK);
    CU_ASSERT_EQUAL(od_figure_title(f, "risk, log-log"), OD_OK);
    od_figure_xlabel(f, "step t");
    od_figure_ylabel(f, "excess risk");
    CU_ASSERT_EQUAL(od_figure_logx(f, 1), OD_OK);
    CU_ASSERT_EQUAL(od_figure_logy(f, 1), OD_OK);
    CU_ASSERT_EQUAL(od_figure_add(f, &(od_series){.table = risk, .x = "t", .y = "mc_mean",
                                                  .err = "mc_se", .kind = OD_PLOT_BAND,
                                                  .label = "Monte Carlo mean +- 2 SE"}),
                    OD_OK);
    CU_ASSERT_EQUAL(od_figure_add(f, &(od_series){.table = risk, .x = "t", .y = "exact",
                                                  .kind = OD_PLOT_LINES, .label = "exact"}),
                    OD_OK);
    CU_ASSERT_EQUAL(od_figure_add(f, &(od_series){.table = risk, .x = "t", .y = "mc_mean",
                                                  .kind = OD_PLOT_LINES, .width = 1.2}),
                    OD_OK);
    CU_ASSERT_EQUAL(od_figure_add(f, &(od_series){.table = risk, .x = "t", .y = "slow",
                                                  .kind = OD_PLOT_LINES, .dash = 2,
                                                  .label = "1/sqrt(t) schedule"}),
                    OD_OK);
    CU_ASSERT_EQUAL(od_figure_hline(f, 0.0125, "stationary risk 0.0125"), OD_OK);
    CU_ASSERT_EQUAL(od_figure_vline(f, 37.2, "t* = 37.2"), OD_OK);
    CU_ASSERT_EQUAL(od_figure_next_panel(f, "loss, linear axes"), OD_OK);
    od_figure_xlabel(f, "step");
    od_figure_ylabel(f, "loss");
    CU_ASSERT_EQUAL(od_figure_add(f, &(od_series){.table = loss, .x = "step", .y = "sde",
                                                  .kind = OD_PLOT_LINES, .label = "SDE"}),
                    OD_OK);
    CU_ASSERT_EQUAL(od_figure_add(f, &(od_series){.table = loss, .x = "step", .y = "loss",
                                                  .err = "se", .kind = OD_PLOT_ERRORBARS,
                                                  .label = "SGD, 64 paths"}),
                    OD_OK);
    CU_ASSERT_EQUAL(od_figure_note(f, "batch 8, lr 0.05"), OD_OK);
    return f;
}

/* ---- quoting -------------------------------------------------------------------------------- */

static void test_quote(void)
{
    char b[128];
    od_plot_quote("plain text", b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, "'plain text'");
    od_plot_quote("it's", b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, "'it'.\"'\".'s'");
    od_plot_quote("''", b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, "''.\"'\".''.\"'\".''");
    od_plot_quote("line one\nline two\r\tend\x1b[0m\x7f", b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, "'line oneline twoend[0m'");
    od_plot_quote("back\\slash\\", b, sizeof b);   /* literal in single quotes */
    CU_ASSERT_STRING_EQUAL(b, "'back\\slash\\'");
    od_plot_quote("'; system(\"touch pwned\")", b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, "''.\"'\".'; system(\"touch pwned\")'");
    od_plot_quote(NULL, b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, "''");
    od_plot_quote("@macro `cmd` $1 {x}_2", b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, "'@macro `cmd` $1 {x}_2'");

    /* truncation keeps a valid string: never half a quote splice, never half a UTF-8 character */
    od_plot_quote("abcdef", b, 6);
    CU_ASSERT_STRING_EQUAL(b, "'abc'");
    od_plot_quote("ab'cd", b, 12);   /* 'ab + the 7-byte splice + ' + NUL */
    CU_ASSERT_STRING_EQUAL(b, "'ab'.\"'\".''");
    od_plot_quote("ab'cd", b, 11);
    CU_ASSERT_STRING_EQUAL(b, "'ab'");
    od_plot_quote("a\xce\xb7\xce\xb7", b, 7);   /* "a" then two 2-byte etas */
    CU_ASSERT_STRING_EQUAL(b, "'a\xce\xb7'");
    od_plot_quote("a\xce", b, sizeof b);         /* a broken UTF-8 sequence is dropped */
    CU_ASSERT_STRING_EQUAL(b, "'a'");
    od_plot_quote("anything", b, 3);
    CU_ASSERT_STRING_EQUAL(b, "''");
    od_plot_quote("anything", b, 2);
    CU_ASSERT_STRING_EQUAL(b, "");
}

/* What gnuplot itself reads back: every string, and every truncation of it, prints as the text
 * (without control characters) or a prefix of it, and runs nothing. */
static void test_quote_roundtrip(void)
{
    if (!have_gnuplot("quote round trip")) return;
    const char *dir = od_test_tmpdir("plots_quote");
    static const char *const texts[] = {
        "'", "''", "'''", "'a", "a'", "a''b", "it's", "'; system(\"touch pwned\")",
        "\"; system(\"touch pwned\"); \"", "`touch pwned`", "@pwned", "$1 {x}_2^3 & # not a comment",
        "back\\slash\\", "\\\"", "new\nline\r\ttab", "\xce\xb7 = 0.05, \xe2\x88\x9a(t)", "",
        "x'\n'y''z'''"};
    const size_t nt = sizeof texts / sizeof texts[0];
    FILE *f = fopen(path_of(dir, "q.gp"), "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("pwned = 'macro expanded'\n", f);
    size_t nlines = 0;
    for (size_t k = 0; k < nt; k++) {
        char b[256];
        od_plot_quote(texts[k], b, sizeof b);
        for (size_t len = strlen(b) + 1; len >= 3; len--) {   /* the whole text, then truncations */
            od_plot_quote(texts[k], b, len);
            fprintf(f, "print '<' . %s . '>'\n", b);
            nlines++;
        }
    }
    fclose(f);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cd '%s' && gnuplot q.gp 2> out.txt", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
    char *out = od_test_slurp(path_of(dir, "out.txt"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    char *line = out;
    size_t checked = 0;
    for (size_t k = 0; k < nt; k++) {
        char want[256];
        size_t o = 0;
        for (const char *c = texts[k]; *c; c++)
            if ((unsigned char)*c >= 0x20) want[o++] = *c;
        want[o] = '\0';
        char b[256];
        od_plot_quote(texts[k], b, sizeof b);
        size_t full = strlen(b) + 1;
        for (size_t len = full; len >= 3 && line && *line; len--) {
            char *e = strchr(line, '\n');
            if (e) *e = '\0';
            size_t n = strlen(line);
            /* "<text>" for the whole string, "<prefix of text>" for a truncation */
            int ok = n >= 2 && line[0] == '<' && line[n - 1] == '>' &&
                     strncmp(line + 1, want, n - 2) == 0 && (len < full || n - 2 == strlen(want));
            CU_ASSERT(ok);
            if (!ok) fprintf(stderr, "\n  gnuplot read %s for text %zu\n", line, k);
            checked++;
            line = e ? e + 1 : NULL;
        }
    }
    CU_ASSERT_EQUAL(checked, nlines);
    CU_ASSERT_EQUAL(file_size(path_of(dir, "pwned")), -1);
    free(out);
}

static void test_formats(void)
{
    od_plot_format fmt = OD_FMT_PNG;
    CU_ASSERT_EQUAL(od_plot_format_parse("svg", &fmt), OD_OK);
    CU_ASSERT_EQUAL(fmt, OD_FMT_SVG);
    CU_ASSERT_EQUAL(od_plot_format_parse("PDF", &fmt), OD_OK);
    CU_ASSERT_EQUAL(fmt, OD_FMT_PDF);
    CU_ASSERT_EQUAL(od_plot_format_parse("jpeg", &fmt), OD_EPARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "jpeg"));
    CU_ASSERT_EQUAL(fmt, OD_FMT_PDF);   /* untouched on failure */
    CU_ASSERT_EQUAL(od_plot_format_parse(NULL, &fmt), OD_EPARSE);
    CU_ASSERT_STRING_EQUAL(od_plot_ext(OD_FMT_PNG), "png");
    CU_ASSERT_STRING_EQUAL(od_plot_ext(OD_FMT_SVG), "svg");
    CU_ASSERT_STRING_EQUAL(od_plot_ext(OD_FMT_PDF), "pdf");
    CU_ASSERT_PTR_NULL(od_plot_ext((od_plot_format)7));
}

/* ---- argument checks ------------------------------------------------------------------------ */

static void test_missing_column(void)
{
    od_table *t = risk_table("risk_cols", 9);
    od_figure *f = od_figure_alloc("cols", "t");
    CU_ASSERT_EQUAL(od_figure_add(f, &(od_series){.table = t, .x = "t", .y = "mc_maen"}),
                    OD_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "mc_maen"));
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "risk_cols"));
    CU_ASSERT_EQUAL(od_figure_add(f, &(od_series){.table = t, .x = "step", .y = "exact"}),
                    OD_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "'step'"));
    /* a band needs its error column, a heat map its z column */
    CU_ASSERT_EQUAL(od_figure_add(f, &(od_series){.table = t, .x = "t", .y = "exact",
                                                  .kind = OD_PLOT_BAND}),
                    OD_EINVAL);
    CU_ASSERT_EQUAL(od_figure_add(f, &(od_series){.table = t, .x = "t", .y = "exact",
                                                  .err = "se", .kind = OD_PLOT_ERRORBARS}),
                    OD_ENOTFOUND);
    CU_ASSERT_EQUAL(od_figure_add(f, &(od_series){.table = t, .x = "t", .y = "exact",
                                                  .kind = OD_PLOT_HEATMAP}),
                    OD_EINVAL);
    CU_ASSERT_EQUAL(od_figure_add(f, &(od_series){.table = t, .x = "t", .y = "exact",
                                                  .width = -1}),
                    OD_EINVAL);
    CU_ASSERT_EQUAL(od_figure_add(f, &(od_series){.table = t, .x = "t", .y = "exact",
                                                  .err_mult = NAN}),
                    OD_EINVAL);
    CU_ASSERT_EQUAL(od_figure_add(f, &(od_series){.x = "t", .y = "exact"}), OD_EINVAL);
    CU_ASSERT_EQUAL(od_figure_add(f, &(od_series){.table = t, .x = "t", .y = "exact"}), OD_OK);
    od_figure_free(f);
    od_table_free(t);
}

static void test_key_vocabulary(void)
{
    od_figure *f = od_figure_alloc("keys", NULL);
    const char *good[] = {"auto", "off", "top right", "top left", "top center", "bottom right",
                          "bottom left", "bottom center", "center right", "center left",
                          "outside", "below"};
    for (size_t k = 0; k < sizeof good / sizeof good[0]; k++)
        CU_ASSERT_EQUAL(od_figure_key(f, good[k]), OD_OK);
    const char *bad[] = {"upper right", "top  right", "TOP RIGHT", "", "top right; system('x')",
                         "at 0.5,0.5"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        CU_ASSERT_EQUAL(od_figure_key(f, bad[k]), OD_EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "key position"));
    }
    CU_ASSERT_EQUAL(od_figure_key(f, NULL), OD_EINVAL);
    od_figure_free(f);
}

static void test_layout_and_names(void)
{
    CU_ASSERT_PTR_NULL(od_figure_alloc("../escape", "t"));
    CU_ASSERT_PTR_NULL(od_figure_alloc("has space", "t"));
    CU_ASSERT_PTR_NULL(od_figure_alloc(".hidden", "t"));
    CU_ASSERT_PTR_NULL(od_figure_alloc(NULL, "t"));
    od_figure *f = od_figure_alloc("grid", "t");
    CU_ASSERT_STRING_EQUAL(od_figure_name(f), "grid");
    CU_ASSERT_EQUAL(od_figure_next_panel(f, "second"), OD_ERANGE);   /* 1x1 is full */
    CU_ASSERT_EQUAL(od_figure_layout(f, 2, 2), OD_OK);
    for (int k = 0; k < 3; k++) CU_ASSERT_EQUAL(od_figure_next_panel(f, NULL), OD_OK);
    CU_ASSERT_EQUAL(od_figure_next_panel(f, NULL), OD_ERANGE);
    CU_ASSERT_EQUAL(od_figure_layout(f, 1, 3), OD_ERANGE);           /* 4 panels exist */
    CU_ASSERT_EQUAL(od_figure_layout(f, 0, 3), OD_ERANGE);
    CU_ASSERT_EQUAL(od_figure_size(f, 50, 600), OD_ERANGE);
    CU_ASSERT_EQUAL(od_figure_size(f, 1600, 1000), OD_OK);
    CU_ASSERT_EQUAL(od_figure_xrange(f, 2.5, 1.5), OD_EINVAL);
    CU_ASSERT_EQUAL(od_figure_yrange(f, 3.0, 3.0), OD_EINVAL);
    CU_ASSERT_EQUAL(od_figure_xrange(f, NAN, INFINITY), OD_OK);
    od_figure_free(f);
    od_figure_free(NULL);
}

/* ---- rendering ------------------------------------------------------------------------------ */

static void render_demo(od_plot_format fmt, const char *dir)
{
    od_table *risk = risk_table("risk", 61), *loss = loss_table("loss");
    CU_ASSERT_EQUAL_FATAL(od_table_write(risk, dir), OD_OK);
    CU_ASSERT_EQUAL_FATAL(od_table_write(loss, dir), OD_OK);
    od_figure *f = demo_figure(risk, loss, "demo");
    od_table_free(risk);   /* the figure keeps what it needs */
    od_table_free(loss);
    int st = od_figure_write(f, dir, fmt, 1);
    CU_ASSERT_EQUAL(st, OD_OK);
    if (st) fprintf(stderr, "\n  %s\n", od_last_error());
    od_figure_free(f);
    char golden[32];
    snprintf(golden, sizeof golden, "demo-%s.gp", od_plot_ext(fmt));
    check_golden(dir, "demo.gp", golden);

    char *gp = od_test_slurp(path_of(dir, "demo.gp"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "set datafile separator tab"));   /* the template */
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "'risk.tsv' using 1:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "noenhanced"));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "set logscale x 10"));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "unset logscale x"));   /* panel 2 resets it */
    /* the stationary-risk line (0.0125) lies below the data on log y: the automatic lower bound
     * moves to its decade so the line is drawn inside the axes */
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "set yrange [0.01:*]"));
    /* the band is drawn before (behind) the lines of the same panel */
    char *band = strstr(gp, "with filledcurves"), *line = strstr(gp, "with lines");
    CU_ASSERT(band && line && band < line);
    /* the band and the line of the same mean share a colour; the others take the next ones */
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "with filledcurves lt 1 "));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "'risk.tsv' using 1:3 with lines lt 1 "));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "'risk.tsv' using 1:2 with lines lt 2 "));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "'risk.tsv' using 1:5 with lines lt 3 dt 2 "));
    /* the log y axis spans two decades: labelled at 1, 2 and 5 times each power of ten */
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "'0.02' 0.02, '0.05' 0.05"));
    /* the log x axis is fitted to the data, 1 .. 1995 */
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "set autoscale xfix"));
    free(gp);
    CU_ASSERT_EQUAL(count_tmp(dir), 0);
    if (!have_gnuplot("render")) return;
    const char *pic = path_of(dir, fmt == OD_FMT_PNG ? "demo.png"
                                   : fmt == OD_FMT_SVG ? "demo.svg" : "demo.pdf");
    CU_ASSERT(file_size(pic) > 1000);
    if (fmt == OD_FMT_PNG) CU_ASSERT(is_png(pic));
    if (fmt == OD_FMT_SVG) CU_ASSERT(file_starts(pic, "<?xml", 5) || file_starts(pic, "<svg", 4));
    if (fmt == OD_FMT_PDF) CU_ASSERT(file_starts(pic, "%PDF", 4));
}

static void test_render_png(void) { render_demo(OD_FMT_PNG, od_test_tmpdir("plots_png")); }
static void test_render_svg(void) { render_demo(OD_FMT_SVG, od_test_tmpdir("plots_svg")); }
static void test_render_pdf(void) { render_demo(OD_FMT_PDF, od_test_tmpdir("plots_pdf")); }

/* The script alone reproduces the picture: run by hand in its folder, without arguments. */
static void test_script_by_hand(void)
{
    const char *dir = od_test_tmpdir("plots_hand");
    od_table *risk = risk_table("risk", 25), *loss = loss_table("loss");
    od_table_write(risk, dir);
    od_table_write(loss, dir);
    od_figure *f = demo_figure(risk, loss, "byhand");
    CU_ASSERT_EQUAL(od_figure_write(f, dir, OD_FMT_PNG, 0), OD_OK);
    CU_ASSERT(file_size(path_of(dir, "byhand.gp")) > 0);
    CU_ASSERT_EQUAL(file_size(path_of(dir, "byhand.png")), -1);   /* render = 0 */
    od_figure_free(f);
    od_table_free(risk);
    od_table_free(loss);
    if (!have_gnuplot("by hand")) return;
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cd '%s' && gnuplot -c byhand.gp 2>/dev/null", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
    CU_ASSERT(is_png(path_of(dir, "byhand.png")));
}

/* Every series kind, including a heat map with its colour box, in a 2x2 grid. */
static void test_render_kinds(void)
{
    const char *dir = od_test_tmpdir("plots_kinds");
    od_table *h = od_table_alloc("surface");
    od_table_add_double(h, "lr", NULL, 0);
    od_table_add_double(h, "batch", NULL, 0);
    od_table_add_double(h, "loss", NULL, 0);
    for (int j = 0; j < 12; j++)
        for (int i = 0; i < 16; i++) {
            double lr = 0.01 * (i + 1), b = 4.0 * (j + 1);
            double row[3] = {lr, b, log(1 + pow(lr * 31.7 - b / 19.3, 2)) + 0.137 * lr * b};
            od_table_append(h, row);
        }
    od_table *d = od_table_alloc("density");
    od_table_add_double(d, "lambda", NULL, 0);
    od_table_add_double(d, "rho", NULL, 0);
    od_table_add_double(d, "mp", NULL, 0);
    for (int k = 0; k < 40; k++) {
        double x = 0.05 + 0.0725 * k;
        double mp = (x > 0.0858 && x < 2.914) ? sqrt((2.914 - x) * (x - 0.0858)) / (2 * M_PI * 0.5 * x)
                                              : 0;
        double row[3] = {x, mp * (1 + 0.08 * sin(3.1 * k)), mp};
        od_table_append(d, row);
    }
    CU_ASSERT_EQUAL(od_table_write(h, dir), OD_OK);
    CU_ASSERT_EQUAL(od_table_write(d, dir), OD_OK);
    od_figure *f = od_figure_alloc("kinds", "every series kind");
    od_figure_layout(f, 2, 2);
    od_figure_title(f, "heat map");
    od_figure_xlabel(f, "learning rate");
    od_figure_ylabel(f, "batch size");
    CU_ASSERT_EQUAL(od_figure_add(f, &(od_series){.table = h, .x = "lr", .y = "batch", .z = "loss",
                                                  .kind = OD_PLOT_HEATMAP, .label = "final loss"}),
                    OD_OK);
    CU_ASSERT_EQUAL(od_figure_zrange(f, 3.5, 1.0), OD_EINVAL);   /* empty colour range */
    CU_ASSERT_EQUAL(od_figure_zrange(f, NAN, 3.5), OD_OK);       /* cap the colours only */
    od_figure_next_panel(f, "boxes and steps");
    od_figure_add(f, &(od_series){.table = d, .x = "lambda", .y = "rho", .kind = OD_PLOT_BOXES,
                                  .label = "Lanczos histogram"});
    od_figure_add(f, &(od_series){.table = d, .x = "lambda", .y = "mp", .kind = OD_PLOT_STEPS,
                                  .label = "Marchenko-Pastur"});
    od_figure_next_panel(f, "points and linespoints");
    od_figure_add(f, &(od_series){.table = d, .x = "lambda", .y = "rho", .kind = OD_PLOT_POINTS,
                                  .label = "samples", .every = 2});
    od_figure_add(f, &(od_series){.table = d, .x = "lambda", .y = "mp",
                                  .kind = OD_PLOT_LINESPOINTS, .color = 4, .label = "law"});
    od_figure_key(f, "outside");
    od_figure_next_panel(f, "key below");
    od_figure_add(f, &(od_series){.table = d, .x = "lambda", .y = "mp", .kind = OD_PLOT_LINES,
                                  .label = "law"});
    od_figure_key(f, "below");
    int st = od_figure_write(f, dir, OD_FMT_PNG, 1);
    CU_ASSERT_EQUAL(st, OD_OK);
    if (st) fprintf(stderr, "\n  %s\n", od_last_error());
    check_golden(dir, "kinds.gp", "kinds.gp");
    char *gp = od_test_slurp(path_of(dir, "kinds.gp"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "with image"));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "set cblabel 'final loss'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "set cbrange [*:3.5]"));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "with boxes"));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "every 2"));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "set key outside"));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "set key below"));
    free(gp);
    if (have_gnuplot("kinds")) CU_ASSERT(is_png(path_of(dir, "kinds.png")));
    CU_ASSERT_EQUAL(count_tmp(dir), 0);
    od_figure_free(f);
    od_table_free(h);
    od_table_free(d);
}

/* The legend goes where there is no data: a rising curve leaves the top left corner free, a
 * falling one the top right; a long log axis is labelled with powers of ten. */
static void test_key_placement(void)
{
    const char *dir = od_test_tmpdir("plots_key");
    od_table *t = od_table_alloc("curves");
    od_table_add_double(t, "n", NULL, 0);
    od_table_add_double(t, "rise", NULL, 0);
    od_table_add_double(t, "fall", NULL, 0);
    for (int k = 0; k <= 60; k++) {
        double n = pow(10, 1 + 7.0 * k / 60);
        double row[3] = {n, 1 - exp(-n / 2.71e4), 3.17 * pow(n, -0.413)};
        od_table_append(t, row);
    }
    CU_ASSERT_EQUAL(od_table_write(t, dir), OD_OK);
    od_figure *f = od_figure_alloc("keys", NULL);
    od_figure_layout(f, 1, 2);
    od_figure_logx(f, 1);
    od_figure_add(f, &(od_series){.table = t, .x = "n", .y = "rise", .label = "accuracy"});
    od_figure_next_panel(f, NULL);
    od_figure_logx(f, 1);
    od_figure_logy(f, 1);
    od_figure_add(f, &(od_series){.table = t, .x = "n", .y = "fall", .label = "loss"});
    CU_ASSERT_EQUAL(od_figure_write(f, dir, OD_FMT_PNG, have_gnuplot("keys")), OD_OK);
    check_golden(dir, "keys.gp", "keys.gp");
    char *gp = od_test_slurp(path_of(dir, "keys.gp"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
    char *p2 = strstr(gp, "# ---- panel 2");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p2);
    char *k1 = strstr(gp, "set key inside top left"), *k2 = strstr(p2, "set key inside top right");
    CU_ASSERT(k1 && k1 < p2);
    CU_ASSERT_PTR_NOT_NULL(k2);
    /* seven decades on x: 10^1 .. 10^8 as superscripts, every decade */
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "'10\xc2\xb9' 10, '10\xc2\xb2' 100"));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "'10\xe2\x81\xb8' 100000000"));
    free(gp);
    od_figure_free(f);
    od_table_free(t);
}

/* Text that tries to break out of its string must end up printed, not executed. */
static void test_injection(void)
{
    const char *dir = od_test_tmpdir("plots_inject");
    od_table *t = risk_table("risk", 12);
    od_table_write(t, dir);
    const char *evil = "'; system(\"touch pwned\"); print '";
    od_figure *f = od_figure_alloc("inject", evil);
    od_figure_title(f, "x'\nsystem('touch pwned')\n#");
    od_figure_xlabel(f, "`touch pwned` @evil \\' \\");
    od_figure_ylabel(f, "\"; system(\"touch pwned\") ; \"");
    od_figure_note(f, "'\r\nset output 'pwned'\n");
    od_figure_hline(f, 0.3, "');system('touch pwned');('");
    od_figure_add(f, &(od_series){.table = t, .x = "t", .y = "exact", .label = evil});
    int st = od_figure_write(f, dir, OD_FMT_PNG, 1);
    CU_ASSERT_EQUAL(st, OD_OK);
    if (st) fprintf(stderr, "\n  %s\n", od_last_error());
    CU_ASSERT_EQUAL(file_size(path_of(dir, "pwned")), -1);
    CU_ASSERT_EQUAL(file_size("pwned"), -1);
    if (have_gnuplot("injection")) CU_ASSERT(is_png(path_of(dir, "inject.png")));
    /* the script has no line that starts with the injected command */
    check_golden(dir, "inject.gp", "inject.gp");
    char *gp = od_test_slurp(path_of(dir, "inject.gp"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
    CU_ASSERT_PTR_NULL(strstr(gp, "\nsystem("));
    CU_ASSERT_PTR_NULL(strstr(gp, "\nset output 'pwned'"));
    free(gp);
    od_figure_free(f);
    od_table_free(t);
}

/* nan and inf rows: the finite points are drawn; a series with no finite point is left out; a
 * panel with nothing to draw is an empty frame; non-finite ranges and lines write no number. */
static void test_nan_rows(void)
{
    const char *dir = od_test_tmpdir("plots_nan");
    od_table *t = od_table_alloc("diverging");
    od_table_add_double(t, "t", NULL, 0);
    od_table_add_double(t, "loss", NULL, 0);
    od_table_add_double(t, "se", NULL, 0);
    od_table_add_double(t, "dead", NULL, 0);
    for (int k = 1; k <= 30; k++) {
        double loss = k % 7 == 3 ? NAN : k == 26 ? INFINITY : 0.913 * pow(k, -0.61);
        double row[4] = {k, loss, k % 5 == 0 ? NAN : 0.02 * loss, NAN};
        od_table_append(t, row);
    }
    CU_ASSERT_EQUAL(od_table_write(t, dir), OD_OK);
    od_figure *f = od_figure_alloc("nonfinite", "rows that are not finite");
    od_figure_layout(f, 1, 2);
    od_figure_logy(f, 1);
    od_figure_xrange(f, NAN, INFINITY);
    od_figure_yrange(f, -1.0, NAN);   /* not positive on a log axis: automatic */
    od_figure_hline(f, NAN, "nan line");
    od_figure_vline(f, INFINITY, NULL);
    od_figure_hline(f, -2.0, "negative on log axis");
    od_figure_add(f, &(od_series){.table = t, .x = "t", .y = "loss", .err = "se",
                                  .kind = OD_PLOT_BAND, .label = "band"});
    od_figure_add(f, &(od_series){.table = t, .x = "t", .y = "loss", .label = "loss"});
    od_figure_add(f, &(od_series){.table = t, .x = "t", .y = "dead", .label = "all nan"});
    od_figure_next_panel(f, "nothing finite");
    od_figure_add(f, &(od_series){.table = t, .x = "t", .y = "dead", .label = "all nan"});
    int st = od_figure_write(f, dir, OD_FMT_PNG, 1);
    CU_ASSERT_EQUAL(st, OD_OK);
    if (st) fprintf(stderr, "\n  %s\n", od_last_error());
    check_golden(dir, "nonfinite.gp", "nonfinite.gp");
    char *gp = od_test_slurp(path_of(dir, "nonfinite.gp"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "set xrange [*:*]"));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "set yrange [*:*]"));
    /* no command line carries a non-finite number */
    for (char *l = gp; l; l = strchr(l, '\n')) {
        if (*l == '\n') l++;
        if (*l == '#' || !*l) continue;
        char *e = strchr(l, '\n');
        size_t n = e ? (size_t)(e - l) : strlen(l);
        char line[2048];
        snprintf(line, sizeof line, "%.*s", (int)(n < 2047 ? n : 2047), l);
        if (strstr(line, "datafile missing")) continue;
        CU_ASSERT_PTR_NULL(strstr(line, "nan"));
        CU_ASSERT_PTR_NULL(strstr(line, "inf"));
    }
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "no finite data to show"));
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "left out"));
    free(gp);
    if (have_gnuplot("nan")) CU_ASSERT(is_png(path_of(dir, "nonfinite.png")));
    CU_ASSERT_EQUAL(count_tmp(dir), 0);
    od_figure_free(f);
    od_table_free(t);
}

/* ---- failures ------------------------------------------------------------------------------- */

static int unsetenv_ok(void) { return unsetenv("OPTDYN_GNUPLOT") == 0; }

/* Without gnuplot: the script is written, OD_OK, no picture, one warning per process. */
static void test_no_gnuplot(void)
{
    const char *dir = od_test_tmpdir("plots_nognuplot");
    od_table *risk = risk_table("risk", 11), *loss = loss_table("loss");
    od_table_write(risk, dir);
    od_table_write(loss, dir);
    od_figure *f = demo_figure(risk, loss, "nog");
    CU_ASSERT_EQUAL_FATAL(setenv("OPTDYN_GNUPLOT", "/nonexistent", 1), 0);
    CU_ASSERT_EQUAL(od_plot_have_gnuplot(), 0);
    /* capture stderr to count the warnings */
    fflush(stderr);
    int saved = dup(2);
    FILE *cap = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(cap);
    dup2(fileno(cap), 2);
    int s1 = od_figure_write(f, dir, OD_FMT_PNG, 1);
    int s2 = od_figure_write(f, dir, OD_FMT_SVG, 1);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    CU_ASSERT(unsetenv_ok());
    CU_ASSERT_EQUAL(s1, OD_OK);
    CU_ASSERT_EQUAL(s2, OD_OK);
    char text[2048] = "";
    rewind(cap);
    size_t n = fread(text, 1, sizeof text - 1, cap);
    text[n] = '\0';
    fclose(cap);
    char *w = strstr(text, "gnuplot not found");
    CU_ASSERT_PTR_NOT_NULL(w);
    CU_ASSERT(w && !strstr(w + 1, "gnuplot not found"));   /* once */
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "optdyn: warning:"));
    CU_ASSERT(file_size(path_of(dir, "nog.gp")) > 0);
    CU_ASSERT_EQUAL(file_size(path_of(dir, "nog.png")), -1);
    CU_ASSERT_EQUAL(file_size(path_of(dir, "nog.svg")), -1);
    CU_ASSERT_EQUAL(count_tmp(dir), 0);
    od_figure_free(f);
    od_table_free(risk);
    od_table_free(loss);
}

/* gnuplot failing: OD_EIO naming the script and quoting gnuplot's error; no picture and no
 * temporary file left.  Also a "gnuplot" that exits 0 without drawing, and a missing data file. */
static void test_gnuplot_fails(void)
{
    const char *dir = od_test_tmpdir("plots_fail");
    /* gnuplot cannot open its output (a folder sits at the temporary picture name) */
    od_table *t = risk_table("risk", 8);
    od_table_write(t, dir);
    od_figure *f = od_figure_alloc("broken", "broken");
    od_figure_add(f, &(od_series){.table = t, .x = "t", .y = "slow", .label = "slow"});
    if (have_gnuplot("failure")) {
        char blocker[64];
        snprintf(blocker, sizeof blocker, ".broken.png.tmp.%ld", (long)getpid());
        CU_ASSERT_EQUAL_FATAL(mkdir(path_of(dir, blocker), 0755), 0);
        int st = od_figure_write(f, dir, OD_FMT_PNG, 1);
        CU_ASSERT_EQUAL(st, OD_EIO);
        CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "broken.gp"));
        CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "line"));
        printf("\n  [reason: %s] ", od_last_error());
        CU_ASSERT_EQUAL(file_size(path_of(dir, "broken.png")), -1);
        CU_ASSERT(file_size(path_of(dir, "broken.gp")) > 0);   /* kept, for debugging */
        rmdir(path_of(dir, blocker));
        CU_ASSERT_EQUAL(count_tmp(dir), 0);
    }

    /* a gnuplot that succeeds without writing the picture */
    char fake[1024];
    snprintf(fake, sizeof fake, "%s/fake-gnuplot", dir);
    FILE *s = fopen(fake, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    fputs("#!/bin/sh\necho 'this gnuplot draws nothing' >&2\nexit 0\n", s);
    fclose(s);
    chmod(fake, 0755);
    char abs[2048];
    CU_ASSERT_PTR_NOT_NULL_FATAL(realpath(fake, abs));
    setenv("OPTDYN_GNUPLOT", abs, 1);
    CU_ASSERT_EQUAL(od_figure_write(f, dir, OD_FMT_PNG, 1), OD_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "no picture"));
    CU_ASSERT_EQUAL(file_size(path_of(dir, "broken.png")), -1);
    CU_ASSERT_EQUAL(count_tmp(dir), 0);
    /* a gnuplot that fails with a message: the message is quoted */
    s = fopen(fake, "w");
    fputs("#!/bin/sh\necho '         ^' >&2\necho '\"x.gp\" line 7: undefined variable: zz' >&2\n"
          "exit 1\n", s);
    fclose(s);
    CU_ASSERT_EQUAL(od_figure_write(f, dir, OD_FMT_PNG, 1), OD_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "line 7: undefined variable: zz"));
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "exit status 1"));
    CU_ASSERT_EQUAL(count_tmp(dir), 0);
    unsetenv("OPTDYN_GNUPLOT");

    /* rendering a figure whose data is not in the folder fails before gnuplot runs; writing
     * only the script does not need the data */
    const char *empty = od_test_tmpdir("plots_nodata");
    CU_ASSERT_EQUAL(od_figure_write(f, empty, OD_FMT_PNG, 1), OD_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "risk.tsv"));
    CU_ASSERT_EQUAL(od_figure_write(f, empty, OD_FMT_PNG, 0), OD_OK);
    check_golden(empty, "broken.gp", "nodata.gp");   /* drawn without reading the data back */
    CU_ASSERT_EQUAL(od_figure_write(f, "/nonexistent-folder/x", OD_FMT_PNG, 0), OD_EIO);
    CU_ASSERT_EQUAL(count_tmp(empty), 0);
    od_figure_free(f);
    od_table_free(t);
}

static void suite_plots(void)
{
    static const od_test_case cases[] = {
        {"quoting", test_quote},
        {"quoting round-trips through gnuplot", test_quote_roundtrip},
        {"formats", test_formats},
        {"missing column", test_missing_column},
        {"key vocabulary", test_key_vocabulary},
        {"layout and names", test_layout_and_names},
        {"render png", test_render_png},
        {"render svg", test_render_svg},
        {"render pdf", test_render_pdf},
        {"script runs by hand", test_script_by_hand},
        {"every series kind", test_render_kinds},
        {"legend placement and log ticks", test_key_placement},
        {"injection is inert", test_injection},
        {"nan rows", test_nan_rows},
        {"no gnuplot", test_no_gnuplot},
        {"gnuplot fails", test_gnuplot_fails},
        {NULL, NULL}};
    od_test_add("plots", cases);
}

int main(int argc, char **argv)
{
    static od_test_suite_fn *const suites[] = {suite_plots, NULL};
    return od_test_main(argc, argv, suites);
}
