/* optdyn plots — the figure driver: builds a gnuplot script from panels and series, writes it
 * atomically next to the data, and has gnuplot_run.c run gnuplot on it (see optdyn_plots.h).
 *
 * A written script is the house style (plots/preamble.gp, embedded as od_plot_preamble) followed by
 * the figure: terminal, output, multiplot layout, then one block per panel that sets every panel
 * option explicitly (multiplot panels inherit settings from the panel before) and ends in one
 * plot command.  Every piece of text goes through od_plot_quote.  What a panel shows (series
 * left out, colours, ranges and ticks, legend and label positions) is decided from the data read
 * back, by placement.c.
 */
#include "core/param.h"
#include "plots/plots_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/status.h"

extern const char od_plot_preamble[];

#define OD_MAX_GRID 16         /* rows and columns of a layout */

/* ---- the figure ------------------------------------------------------------------------------ */

const key_place od_plot_key_places[] = {
    {"auto", NULL},
    {"off", NULL},
    {"top right", "inside top right vertical"},
    {"top left", "inside top left vertical"},
    {"top center", "inside top center vertical"},
    {"bottom right", "inside bottom right vertical"},
    {"bottom left", "inside bottom left vertical"},
    {"bottom center", "inside bottom center vertical"},
    {"center right", "inside center right vertical"},
    {"center left", "inside center left vertical"},
    {"outside", "outside right top vertical"},
    {"below", "below center horizontal"},
};
#define N_KEY_PLACES (sizeof od_plot_key_places / sizeof od_plot_key_places[0])

int od_plot_key_index(const char *name)
{
    for (size_t k = 0; name && k < N_KEY_PLACES; k++)
        if (strcmp(name, od_plot_key_places[k].name) == 0) return (int)k;
    return -1;
}

static const char *const kind_names[] = {"lines", "points", "linespoints", "band", "errorbars",
                                         "steps", "boxes", "heatmap"};

/* Replaces *dst by a copy of text (NULL or "" clears it). */
static int set_text(char **dst, const char *text)
{
    char *c = NULL;
    if (text && *text && !(c = od_strdup(text))) OD_ERROR("out of memory", OD_ENOMEM);
    free(*dst);
    *dst = c;
    return OD_OK;
}

static int valid_name(const char *name)
{
    if (!name || !*name || name[0] == '.' || name[0] == '-' || strlen(name) > 200) return 0;
    for (const char *c = name; *c; c++)
        if (!(*c >= 'a' && *c <= 'z') && !(*c >= 'A' && *c <= 'Z') && !(*c >= '0' && *c <= '9') &&
            *c != '_' && *c != '-' && *c != '.')
            return 0;
    return 1;
}

static void panel_init(panel *p)
{
    memset(p, 0, sizeof *p);
    p->xlo = p->xhi = p->ylo = p->yhi = p->zlo = p->zhi = NAN;
    p->key = KEY_AUTO;
}

static void panel_clear(panel *p)
{
    free(p->title);
    free(p->xlabel);
    free(p->ylabel);
    for (size_t k = 0; k < p->nhl; k++) free(p->hl[k].label);
    for (size_t k = 0; k < p->nvl; k++) free(p->vl[k].label);
    free(p->hl);
    free(p->vl);
    for (size_t k = 0; k < p->nnotes; k++) free(p->notes[k]);
    free(p->notes);
    for (size_t k = 0; k < p->ns; k++) {
        free(p->s[k].table);
        free(p->s[k].label);
    }
    free(p->s);
}

od_figure *od_figure_alloc(const char *name, const char *title)
{
    if (!valid_name(name)) {
        od_error(OD_EINVAL, __FILE__, __LINE__,
                 "invalid figure name '%s' (up to 200 letters, digits, '_', '-', '.'; not "
                 "starting with '.' or '-')", name ? name : "");
        return NULL;
    }
    od_figure *f = calloc(1, sizeof *f);
    if (!f || !(f->name = od_strdup(name)) || !(f->p = malloc(sizeof *f->p)) ||
        set_text(&f->title, title) != OD_OK) {
        od_figure_free(f);   /* np is still 0: frees what was taken */
        od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
        return NULL;
    }
    f->rows = f->cols = 1;
    f->np = 1;
    panel_init(&f->p[0]);
    return f;
}

void od_figure_free(od_figure *f)
{
    if (!f) return;
    for (size_t k = 0; k < f->np; k++) panel_clear(&f->p[k]);
    free(f->p);
    free(f->name);
    free(f->title);
    free(f);
}

const char *od_figure_name(const od_figure *f) { return f->name; }

static panel *cur(od_figure *f) { return &f->p[f->np - 1]; }

int od_figure_layout(od_figure *f, int rows, int cols)
{
    if (rows < 1 || cols < 1 || rows > OD_MAX_GRID || cols > OD_MAX_GRID)
        OD_ERRORF(OD_ERANGE, "figure %s: layout %dx%d outside 1x1..%dx%d", f->name, rows, cols,
                  OD_MAX_GRID, OD_MAX_GRID);
    if ((size_t)rows * (size_t)cols < f->np)
        OD_ERRORF(OD_ERANGE, "figure %s: layout %dx%d has no room for its %zu panels", f->name,
                  rows, cols, f->np);
    f->rows = rows;
    f->cols = cols;
    return OD_OK;
}

int od_figure_size(od_figure *f, int width, int height)
{
    if (width < 100 || height < 100 || width > 20000 || height > 20000)
        OD_ERRORF(OD_ERANGE, "figure %s: size %dx%d outside 100..20000 pixels", f->name, width,
                  height);
    f->width = width;
    f->height = height;
    return OD_OK;
}

int od_figure_next_panel(od_figure *f, const char *title)
{
    if (f->np >= (size_t)f->rows * (size_t)f->cols)
        OD_ERRORF(OD_ERANGE, "figure %s: layout %dx%d is full (call od_figure_layout first)",
                  f->name, f->rows, f->cols);
    panel *p = realloc(f->p, (f->np + 1) * sizeof *p);
    if (!p) OD_ERROR("out of memory", OD_ENOMEM);
    f->p = p;
    panel_init(&f->p[f->np]);
    f->np++;
    return set_text(&cur(f)->title, title);
}

int od_figure_title(od_figure *f, const char *title) { return set_text(&cur(f)->title, title); }
int od_figure_xlabel(od_figure *f, const char *text) { return set_text(&cur(f)->xlabel, text); }
int od_figure_ylabel(od_figure *f, const char *text) { return set_text(&cur(f)->ylabel, text); }

int od_figure_logx(od_figure *f, int on)
{
    cur(f)->logx = on != 0;
    return OD_OK;
}

int od_figure_logy(od_figure *f, int on)
{
    cur(f)->logy = on != 0;
    return OD_OK;
}

/* Non-finite bounds mean "automatic"; two finite bounds must be increasing. */
static int set_range(od_figure *f, char axis, double lo, double hi, double *plo, double *phi)
{
    if (isfinite(lo) && isfinite(hi) && !(lo < hi))
        OD_ERRORF(OD_EINVAL, "figure %s: %crange [%g:%g] is empty", f->name, axis, lo, hi);
    *plo = isfinite(lo) ? lo : NAN;
    *phi = isfinite(hi) ? hi : NAN;
    return OD_OK;
}

int od_figure_xrange(od_figure *f, double lo, double hi)
{
    return set_range(f, 'x', lo, hi, &cur(f)->xlo, &cur(f)->xhi);
}

int od_figure_yrange(od_figure *f, double lo, double hi)
{
    return set_range(f, 'y', lo, hi, &cur(f)->ylo, &cur(f)->yhi);
}

int od_figure_zrange(od_figure *f, double lo, double hi)
{
    return set_range(f, 'z', lo, hi, &cur(f)->zlo, &cur(f)->zhi);
}

int od_figure_key(od_figure *f, const char *where)
{
    int k = od_plot_key_index(where);
    if (k >= 0) {
        cur(f)->key = k;
        return OD_OK;
    }
    OD_ERRORF(OD_EINVAL,
              "figure %s: unknown key position '%s' (use auto, off, top right, top left, "
              "top center, bottom right, bottom left, bottom center, center right, center left, "
              "outside or below)", f->name, where ? where : "(null)");
}

static int add_refline(refline **v, size_t *n, double at, const char *label)
{
    refline *r = realloc(*v, (*n + 1) * sizeof *r);
    if (!r) OD_ERROR("out of memory", OD_ENOMEM);
    *v = r;
    r[*n].at = at;
    r[*n].label = NULL;
    OD_TRY(set_text(&r[*n].label, label));
    (*n)++;
    return OD_OK;
}

int od_figure_hline(od_figure *f, double y, const char *label)
{
    return add_refline(&cur(f)->hl, &cur(f)->nhl, y, label);
}

int od_figure_vline(od_figure *f, double x, const char *label)
{
    return add_refline(&cur(f)->vl, &cur(f)->nvl, x, label);
}

int od_figure_note(od_figure *f, const char *text)
{
    if (!text || !*text) return OD_OK;
    panel *p = cur(f);
    char **n = realloc(p->notes, (p->nnotes + 1) * sizeof *n);
    if (!n) OD_ERROR("out of memory", OD_ENOMEM);
    p->notes = n;
    if (!(n[p->nnotes] = od_strdup(text))) OD_ERROR("out of memory", OD_ENOMEM);
    p->nnotes++;
    return OD_OK;
}

/* Column number of name in t, or OD_ENOTFOUND naming the column and the table. */
static int resolve(const od_figure *f, const od_table *t, const char *what, const char *name,
                   size_t *col)
{
    if (!name || !*name)
        OD_ERRORF(OD_EINVAL, "figure %s: series on table %s needs a %s column", f->name,
                  od_table_name(t), what);
    *col = od_table_colnum(t, name);
    if (*col == 0)
        OD_ERRORF(OD_ENOTFOUND, "figure %s: table %s has no column '%s' (%s)", f->name,
                  od_table_name(t), name, what);
    return OD_OK;
}

int od_figure_add(od_figure *f, const od_series *s)
{
    if (!s || !s->table) OD_ERRORF(OD_EINVAL, "figure %s: series without a table", f->name);
    if ((int)s->kind < 0 || (int)s->kind > (int)OD_PLOT_HEATMAP)
        OD_ERRORF(OD_EINVAL, "figure %s: unknown series kind %d", f->name, (int)s->kind);
    if (s->color < 0 || s->dash < 0 || s->every < 0 || !(s->width >= 0) || !isfinite(s->width) ||
        !(s->err_mult >= 0) || !isfinite(s->err_mult))
        OD_ERRORF(OD_EINVAL, "figure %s: series on table %s: color, dash, every, width and "
                  "err_mult must be finite and >= 0", f->name, od_table_name(s->table));
    if (strlen(od_table_name(s->table)) > 400)
        OD_ERRORF(OD_EINVAL, "figure %s: table name too long", f->name);
    series n;
    memset(&n, 0, sizeof n);
    OD_TRY(resolve(f, s->table, "x", s->x, &n.cx));
    OD_TRY(resolve(f, s->table, "y", s->y, &n.cy));
    if (s->kind == OD_PLOT_BAND || s->kind == OD_PLOT_ERRORBARS)
        OD_TRY(resolve(f, s->table, "err", s->err, &n.ce));
    if (s->kind == OD_PLOT_HEATMAP) OD_TRY(resolve(f, s->table, "z", s->z, &n.cz));
    n.kind = s->kind;
    n.color = s->color;
    n.dash = s->dash;
    n.every = s->every;
    n.width = s->width;
    n.err_mult = s->err_mult > 0 ? s->err_mult : 2.0;
    panel *p = cur(f);
    series *v = realloc(p->s, (p->ns + 1) * sizeof *v);
    if (!v) OD_ERROR("out of memory", OD_ENOMEM);
    p->s = v;
    n.table = od_strdup(od_table_name(s->table));
    if (!n.table || set_text(&n.label, s->label) != OD_OK) {
        free(n.table);
        OD_ERROR("out of memory", OD_ENOMEM);
    }
    p->s[p->ns++] = n;
    return OD_OK;
}

/* ---- formats and quoting --------------------------------------------------------------------- */

static const char *const format_ext[] = {"png", "svg", "pdf"};

const char *od_plot_ext(od_plot_format fmt)
{
    return ((int)fmt >= 0 && (int)fmt <= (int)OD_FMT_PDF) ? format_ext[fmt] : NULL;
}

int od_plot_format_parse(const char *word, od_plot_format *fmt)
{
    for (int k = 0; word && k <= (int)OD_FMT_PDF; k++)
        if (strcasecmp(word, format_ext[k]) == 0) {
            *fmt = (od_plot_format)k;
            return OD_OK;
        }
    OD_ERRORF(OD_EPARSE, "unknown figure format '%s' (use png, svg or pdf)", word ? word : "");
}

/* A quote in the text is written as '."'".' (close the literal, append a double-quoted quote,
 * reopen): gnuplot 5.4's scanner reads a doubled quote only after another character of the
 * string, so '' fails at the start of a string and next to another doubled quote.  A
 * double-quoted string is no alternative: gnuplot runs `backquoted` commands inside it. */
static const char quote_splice[] = "'.\"'\".'";

void od_plot_quote(const char *text, char *buf, size_t len)
{
    if (!buf || len == 0) return;
    if (len < 3) {           /* no room for even '' */
        buf[0] = '\0';
        return;
    }
    size_t k = 0;
    buf[k++] = '\'';
    for (const unsigned char *c = (const unsigned char *)(text ? text : ""); *c; c++) {
        if (*c < 0x20 || *c == 0x7f) continue;   /* control characters, newlines included */
        const unsigned char *piece = c;
        size_t m = 1;
        if (*c == '\'') {
            piece = (const unsigned char *)quote_splice;
            m = sizeof quote_splice - 1;
        } else if (*c >= 0xc0) {                 /* a UTF-8 sequence is copied whole or not at all */
            size_t want = *c >= 0xf0 ? 4 : *c >= 0xe0 ? 3 : 2;
            size_t avail = 1;
            while (avail < want && (c[avail] & 0xc0) == 0x80) avail++;
            if (avail < want) continue;          /* broken sequence: drop its lead byte */
            m = want;
        }
        if (k + m + 2 > len) break;              /* keep room for the closing quote and NUL */
        memcpy(buf + k, piece, m);
        k += m;
        if (piece == c) c += m - 1;
    }
    buf[k++] = '\'';
    buf[k] = '\0';
}

/* Writes text quoted into the script. */
static void put_q(FILE *out, const char *text)
{
    size_t n = (sizeof quote_splice) * strlen(text ? text : "") + 3;
    char small[512];
    char *b = n <= sizeof small ? small : malloc(n);
    if (!b) {                      /* cannot happen in practice; keep the script valid */
        fputs("''", out);
        return;
    }
    od_plot_quote(text, b, n);
    fputs(b, out);
    if (b != small) free(b);
}

/* ---- writing the script ---------------------------------------------------------------------- */

/* A bound of a range: the number, or '*' when automatic (or not positive on a log axis). */
static void put_bound(FILE *out, double v, int logscale)
{
    if (finite_on(v, logscale)) fprintf(out, "%.17g", v);
    else fputc('*', out);
}

static void put_axis(FILE *out, const plan *pl, char axis)
{
    const panel *p = pl->p;
    int x = axis == 'x', logs = x ? p->logx : p->logy;
    int fix = x ? pl->xfix : pl->heat;
    double lo = x ? pl->xlo : pl->ylo, hi = x ? pl->xhi : pl->yhi;
    fprintf(out, "%s logscale %c%s\n", logs ? "set" : "unset", axis, logs ? " 10" : "");
    fprintf(out, "set autoscale %c%s\n", axis, fix ? "fix" : "");
    if (logs && ((isfinite(lo) && lo <= 0) || (isfinite(hi) && hi <= 0)))
        fprintf(out, "# a %crange bound that is not positive is automatic on a log axis\n", axis);
    fprintf(out, "set %crange [", axis);
    put_bound(out, lo, logs);
    fputc(':', out);
    put_bound(out, hi, logs);
    fprintf(out, "]\nset %ctics autofreq\n", axis);
    if (logs && pl->have_range)
        od_plot_put_log_tics(out, axis, x ? pl->x0 : pl->y0, x ? pl->x1 : pl->y1);
    else fprintf(out, "set format %c '%%g'\n", axis);
}

static void put_text_setting(FILE *out, const char *what, const char *text)
{
    if (text) {
        fprintf(out, "set %s ", what);
        put_q(out, text);
        fputc('\n', out);
    } else {
        fprintf(out, "unset %s\n", what);
    }
}

static void put_plot_item(FILE *out, const series *s, const series_info *in, const plan *pl)
{
    char file[600];
    snprintf(file, sizeof file, "%s.tsv", s->table);
    put_q(out, file);
    size_t x = s->cx, y = s->cy, e = s->ce;
    double m = s->err_mult;
    switch (s->kind) {
    case OD_PLOT_BAND:
        if (pl->p->logy && pl->clip > 0)   /* NaN <= 0 is false: missing values stay missing */
            fprintf(out, " using %zu:(od_lo = $%zu - %.17g*$%zu, od_lo <= 0 ? %.17g : od_lo)"
                         ":($%zu + %.17g*$%zu)", x, y, m, e, pl->clip, y, m, e);
        else
            fprintf(out, " using %zu:($%zu - %.17g*$%zu):($%zu + %.17g*$%zu)", x, y, m, e, y, m,
                    e);
        break;
    case OD_PLOT_ERRORBARS:
        fprintf(out, " using %zu:%zu:($%zu - %.17g*$%zu):($%zu + %.17g*$%zu)", x, y, y, m, e, y,
                m, e);
        break;
    case OD_PLOT_HEATMAP:
        fprintf(out, " using %zu:%zu:%zu", x, y, s->cz);
        break;
    default:
        fprintf(out, " using %zu:%zu", x, y);
        break;
    }
    if (s->every > 1) fprintf(out, " every %d", s->every);
    static const char *const with[] = {"lines", "points", "linespoints", "filledcurves",
                                       "yerrorbars", "histeps", "boxes", "image"};
    fprintf(out, " with %s", with[s->kind]);
    if (s->kind != OD_PLOT_HEATMAP) fprintf(out, " lt %d", in->color);
    if (s->width > 0) fprintf(out, " lw %.6g", s->width);
    else if (s->kind == OD_PLOT_ERRORBARS || s->kind == OD_PLOT_BOXES) fputs(" lw 1.2", out);
    if (s->dash > 0) fprintf(out, " dt %d", s->dash);
    if (s->kind == OD_PLOT_BAND) fputs(" fs transparent solid od_band_alpha noborder", out);
    if (s->kind == OD_PLOT_BOXES) fputs(" fs transparent solid od_box_alpha border", out);
    if (s->label && s->kind != OD_PLOT_HEATMAP) {
        fputs(" title ", out);
        put_q(out, s->label);
    } else {
        fputs(" notitle", out);
    }
}

/* Drawing layers: images first, then bands and bars (behind), then everything else, each in the
 * order the series were added. */
static int layer(od_plot_kind k)
{
    return k == OD_PLOT_HEATMAP ? 0 : k == OD_PLOT_BAND ? 1 : k == OD_PLOT_BOXES ? 2 : 3;
}

/* A reference line, horizontal or vertical, on an axis that is log or not, with its label in
 * position at (chosen by placement.c; see hl_rect and vl_rect there). */
static void put_refline(FILE *out, const refline *l, int vertical, int logs, int at)
{
    double v = l->at;
    if (!finite_on(v, logs)) {
        fprintf(out, "# %s line at %g not drawn (not a %s number)\n",
                vertical ? "vertical" : "horizontal", v, logs ? "positive finite" : "finite");
        return;
    }
    if (vertical)
        fprintf(out, "set arrow from first %.17g, graph 0 to first %.17g, graph 1 as 8\n", v, v);
    else
        fprintf(out, "set arrow from graph 0, first %.17g to graph 1, first %.17g as 8\n", v, v);
    if (!l->label) return;
    fputs("set label ", out);
    put_q(out, l->label);
    if (vertical)
        fprintf(out, " at first %.17g, graph %s %s rotate by 90 offset %s, 0 tc rgb od_ref_color "
                     "front\n", v, at % 2 ? "0.02" : "0.98", at % 2 ? "left" : "right",
                at < 2 ? "-1.1" : "1.1");
    else
        fprintf(out, " at graph %s, first %.17g %s offset 0, %s tc rgb od_ref_color front\n",
                at % 2 ? "0.01" : "0.99", v, at % 2 ? "left" : "right", at < 2 ? "0.6" : "-0.6");
}

static void put_reflines(FILE *out, const plan *pl)
{
    const panel *p = pl->p;
    for (size_t k = 0; k < p->nhl; k++) put_refline(out, &p->hl[k], 0, p->logy, pl->hl_at[k]);
    for (size_t k = 0; k < p->nvl; k++) put_refline(out, &p->vl[k], 1, p->logx, pl->vl_at[k]);
    for (size_t k = 0; k < p->nnotes; k++) {
        fputs("set label ", out);
        put_q(out, p->notes[k]);
        fprintf(out, " at graph 0.02, graph 0.97 left offset 0, %.2f tc rgb od_note_color "
                     "front boxed\n", -1.4 * (double)k);
    }
}

static int write_panel(FILE *out, const od_figure *f, size_t pi, const datafile *files,
                       size_t nf, int width, int height)
{
    plan *pl = malloc(sizeof *pl);
    if (!pl) OD_ERROR("out of memory", OD_ENOMEM);
    int status = od_plot_plan_panel(pl, f, pi, files, nf, width, height);
    if (status != OD_OK) {
        od_plot_plan_free(pl);
        free(pl);
        return status;
    }
    const panel *p = pl->p;
    fprintf(out, "\n# ---- panel %zu of %zu\n", pi + 1, f->np);
    put_text_setting(out, "title", p->title);
    put_text_setting(out, "xlabel", p->xlabel);
    put_text_setting(out, "ylabel", p->ylabel);
    put_axis(out, pl, 'x');
    put_axis(out, pl, 'y');
    /* a log x axis fixed to the data gets a hair of room, else gnuplot drops the tick labels
     * that fall exactly on its ends */
    fputs(pl->xfix && !pl->heat ? "set offsets graph 0.002, graph 0.002, 0, 0\n"
                                : "set offsets 0, 0, 0, 0\n", out);
    fputs("unset arrow\nunset label\n", out);
    put_reflines(out, pl);
    if (pl->key == KEY_OFF || pl->key == KEY_AUTO || pl->entries == 0) fputs("unset key\n", out);
    else fprintf(out, "set key %s %s\n", od_plot_key_places[pl->key].gp,
                 pl->key_opaque ? "opaque" : "noopaque");

    /* heat maps: colour box labelled with the heat map's label, colour range fitted to the data */
    const char *cblabel = NULL;
    for (size_t k = 0; k < p->ns; k++)
        if (p->s[k].kind == OD_PLOT_HEATMAP && !pl->s[k].omit && p->s[k].label)
            cblabel = p->s[k].label;
    fputs(pl->heat ? "set colorbox\nset autoscale cbfix\n" : "unset colorbox\n", out);
    if (pl->heat && (isfinite(p->zlo) || isfinite(p->zhi))) {
        fputs("set cbrange [", out);
        put_bound(out, p->zlo, 0);
        fputc(':', out);
        put_bound(out, p->zhi, 0);
        fputs("]\n", out);
    }
    put_text_setting(out, "cblabel", cblabel);

    for (size_t k = 0; k < p->ns; k++)
        if (pl->s[k].omit)
            fprintf(out, "# series %zu (%s of %s.tsv) has no point that can be drawn: left out\n",
                    k + 1, kind_names[p->s[k].kind], p->s[k].table);
    for (size_t k = 0; k < p->ns && p->logy && pl->clip > 0; k++)
        if (p->s[k].kind == OD_PLOT_BAND && !pl->s[k].omit) {
            fprintf(out, "# log y: band edges that are not positive are drawn at %.6g, the lowest "
                         "value shown\n", pl->clip);
            break;
        }

    if (pl->drawn == 0) {
        /* nothing to draw: an empty frame that says so, instead of a gnuplot error */
        fputs("set label 'no finite data to show' at graph 0.5, graph 0.5 center "
              "tc rgb od_note_color front\n", out);
        if (!isfinite(p->xlo) && !isfinite(p->xhi)) fputs("set xrange [1:10]\n", out);
        if (!isfinite(p->ylo) && !isfinite(p->yhi)) fputs("set yrange [1:10]\n", out);
        fputs("unset key\nplot NaN notitle\n", out);
    } else {
        fputs("plot \\\n", out);
        size_t written = 0;
        for (int l = 0; l <= 3; l++)
            for (size_t k = 0; k < p->ns; k++) {
                if (pl->s[k].omit || layer(p->s[k].kind) != l) continue;
                fputs(written++ ? ", \\\n    " : "    ", out);
                put_plot_item(out, &p->s[k], &pl->s[k], pl);
            }
        fputc('\n', out);
    }
    od_plot_plan_free(pl);
    free(pl);
    return OD_OK;
}

static void canvas_size(const od_figure *f, int *w, int *h)
{
    if (f->width > 0) {
        *w = f->width;
        *h = f->height;
    } else if (f->rows == 1 && f->cols == 1) {
        *w = 900;
        *h = 600;
    } else {
        *w = 560 * f->cols;
        *h = 420 * f->rows + (f->title ? 30 : 0);
    }
}

/* The terminal.  od_fs is the font size in the terminal's unit: points for the cairo terminals
 * (pngcairo renders at 96 dpi), pixels for svg (4/3 of the points); the pdf page has the PNG's
 * proportions at 96 pixels per inch, so all three look alike. */
static void put_terminal(FILE *out, od_plot_format fmt, int w, int h)
{
    switch (fmt) {
    case OD_FMT_PNG:
        fprintf(out, "od_fs = od_fontsize\n"
                     "set terminal pngcairo noenhanced size %d,%d background rgb 'white' "
                     "font sprintf('%%s,%%g', od_font, od_fs)\n", w, h);
        break;
    case OD_FMT_SVG:
        fprintf(out, "od_fs = od_fontsize * 4.0/3\n"
                     "set terminal svg noenhanced size %d,%d background rgb 'white' "
                     "font sprintf('%%s,%%g', od_font, od_fs)\n", w, h);
        break;
    case OD_FMT_PDF:
        fprintf(out, "od_fs = od_fontsize\n"
                     "set terminal pdfcairo noenhanced size %.4fin,%.4fin linewidth 1.5 "
                     "font sprintf('%%s,%%g', od_font, od_fs)\n", w / 96.0, h / 96.0);
        break;
    }
}

typedef struct {
    datafile *files;       /* each data file once, in order of first use */
    size_t nfiles;
    int width, height;     /* canvas, pixels */
} write_ctx;

static int write_script(FILE *out, const od_figure *f, od_plot_format fmt, const write_ctx *c)
{
    const char *ext = od_plot_ext(fmt);
    fprintf(out, "# %s.gp: optdyn figure", f->name);
    if (f->title) {
        fputc(' ', out);
        put_q(out, f->title);
    }
    fprintf(out, ", written by optdyn %s.\n", od_version());
    fprintf(out, "# Redraw in this folder with `gnuplot -c %s.gp` (writes %s.%s; an output file\n"
                 "# name may be given as the first argument).  Data:", f->name, f->name, ext);
    for (size_t k = 0; k < c->nfiles; k++) fprintf(out, " %s.tsv", c->files[k].name);
    fputs("\n\n", out);
    fputs(od_plot_preamble, out);
    fputs("\n# ---- the figure ----\n", out);
    char dflt[600];
    snprintf(dflt, sizeof dflt, "%s.%s", f->name, ext);
    fputs("od_out = ARGC >= 1 ? ARG1 : ", out);
    put_q(out, dflt);
    fputc('\n', out);
    put_terminal(out, fmt, c->width, c->height);
    fputs("set output od_out\n", out);
    fprintf(out, "set multiplot layout %d,%d rowsfirst", f->rows, f->cols);
    if (f->title) {
        fputs(" title ", out);
        put_q(out, f->title);
        fputs(" font sprintf(',%g', od_fs * 1.2)", out);
    }
    fputc('\n', out);
    for (size_t k = 0; k < f->np; k++)
        OD_TRY(write_panel(out, f, k, c->files, c->nfiles, c->width, c->height));
    fputs("\nunset multiplot\nset output\n", out);
    return OD_OK;
}


int od_figure_write(const od_figure *f, const char *dir, od_plot_format fmt, int do_render)
{
    if (!f || !dir || !*dir) OD_ERROR("od_figure_write: no figure or folder", OD_EINVAL);
    if (!od_plot_ext(fmt)) OD_ERRORF(OD_EINVAL, "figure %s: unknown format %d", f->name, (int)fmt);
    write_ctx c;
    memset(&c, 0, sizeof c);
    canvas_size(f, &c.width, &c.height);
    int status = od_plot_data_read(f, dir, do_render, &c.files, &c.nfiles);
    if (status == OD_OK) {
        char name[600];
        snprintf(name, sizeof name, "%s.gp", f->name);
        od_outfile o;
        status = od_outfile_open(&o, dir, name);
        if (status == OD_OK) {
            status = write_script(o.f, f, fmt, &c);
            if (status == OD_OK) status = od_outfile_commit(&o);
            else od_outfile_abort(&o);
        }
    }
    od_plot_data_free(c.files, c.nfiles);
    if (status == OD_OK && do_render) status = od_plot_render(f->name, dir, fmt);
    return status;
}
