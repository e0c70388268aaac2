/* optdyn plots — the figure driver: builds a gnuplot script from panels and series, writes it
 * atomically next to the data, and has gnuplot_run.c run gnuplot on it (see optdyn_plots.h).
 *
 * A written script is the house style (plots/preamble.gp, embedded as od_plot_preamble) followed by
 * the figure: terminal, output, multiplot layout, then one block per panel that sets every panel
 * option explicitly (multiplot panels inherit settings from the panel before) and ends in one
 * plot command.  Every piece of text goes through od_plot_quote.
 *
 * Before writing, the driver reads the referenced TSV files back from the output folder (they are
 * what gnuplot will draw) to decide three things no template can: which series have no point that
 * can be drawn (all nan/inf, or none positive on a log axis; such series are left out, with a
 * comment, instead of making gnuplot fail), where on log-y axes a band's lower edge must be
 * clipped, and which corner of each panel the legend covers the least data in.
 */
#include "plots/plots_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "core/status.h"

extern const char od_plot_preamble[];

#define OD_PALETTE_SIZE 8      /* linetypes defined by preamble.gp */
#define OD_MAX_GRID 16         /* rows and columns of a layout */

/* ---- the figure ------------------------------------------------------------------------------ */

typedef struct {
    od_plot_kind kind;
    char *table;            /* table name; the data file is table + ".tsv" */
    size_t cx, cy, ce, cz;  /* 1-based column numbers, 0 = unused */
    char *label;            /* NULL = no legend entry */
    int color, dash, every;
    double width, err_mult;
} series;

typedef struct {
    double at;
    char *label;
} refline;

typedef struct {
    char *title, *xlabel, *ylabel;
    int logx, logy;
    double xlo, xhi, ylo, yhi;    /* NaN = automatic */
    int key;                      /* index into key_places */
    refline *hl, *vl;
    size_t nhl, nvl;
    char **notes;
    size_t nnotes;
    series *s;
    size_t ns;
} panel;

struct od_figure {
    char *name, *title;
    int rows, cols;
    int width, height;            /* 0 = automatic */
    panel *p;
    size_t np;
};

/* Legend positions accepted by od_figure_key.  gp = the `set key` arguments (NULL: decided by the
 * driver for "auto", `unset key` for "off"). */
typedef struct {
    const char *name;
    const char *gp;
} key_place;

enum { KEY_AUTO = 0, KEY_OFF = 1, KEY_TOP_RIGHT = 2 };

static const key_place key_places[] = {
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
#define N_KEY_PLACES (sizeof key_places / sizeof key_places[0])

static const char *const kind_names[] = {"lines", "points", "linespoints", "band", "errorbars",
                                         "steps", "boxes", "heatmap"};

static char *dupstr(const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* Replaces *dst by a copy of text (NULL or "" clears it). */
static int set_text(char **dst, const char *text)
{
    char *c = NULL;
    if (text && *text && !(c = dupstr(text))) OD_ERROR("out of memory", OD_ENOMEM);
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
    p->xlo = p->xhi = p->ylo = p->yhi = NAN;
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
    if (!f || !(f->name = dupstr(name)) || !(f->p = malloc(sizeof *f->p)) ||
        set_text(&f->title, title) != OD_OK) {
        if (f) {
            free(f->name);
            free(f->p);
            free(f->title);
        }
        free(f);
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

int od_figure_key(od_figure *f, const char *where)
{
    for (size_t k = 0; where && k < N_KEY_PLACES; k++)
        if (strcmp(where, key_places[k].name) == 0) {
            cur(f)->key = (int)k;
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
    if (!(n[p->nnotes] = dupstr(text))) OD_ERROR("out of memory", OD_ENOMEM);
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
    n.table = dupstr(od_table_name(s->table));
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


/* ---- reading the data back ------------------------------------------------------------------- */

/* A TSV file as gnuplot will see it: every cell as a double (nan for text and empty cells). */
typedef struct {
    char *name;         /* table name */
    int ok;             /* 1 if read */
    size_t rows, cols;
    double *v;          /* rows * cols, row-major */
} datafile;

static double cell_value(const char *s, const char *end)
{
    char tmp[64];
    size_t n = (size_t)(end - s);
    if (n == 0 || n >= sizeof tmp) return NAN;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *stop;
    double x = strtod(tmp, &stop);
    return (stop == tmp || *stop) ? NAN : x;
}

static int datafile_read(datafile *d, const char *dir)
{
    char name[600];
    snprintf(name, sizeof name, "%s.tsv", d->name);
    char *path = od_path_join(dir, name);
    if (!path) return OD_ENOMEM;
    FILE *in = fopen(path, "r");
    free(path);
    if (!in) return OD_ENOTFOUND;
    char *line = NULL;
    size_t cap = 0, rcap = 0;
    ssize_t len;
    int header = 0, status = OD_OK;
    while ((len = getline(&line, &cap, in)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        if (line[0] == '#' || len == 0) continue;
        if (!header) {
            d->cols = 1;
            for (char *c = line; *c; c++) d->cols += *c == '\t';
            header = 1;
            continue;
        }
        if (d->rows == rcap) {
            rcap = rcap ? 2 * rcap : 256;
            double *v = realloc(d->v, rcap * d->cols * sizeof *v);
            if (!v) {
                status = OD_ENOMEM;
                break;
            }
            d->v = v;
        }
        double *row = d->v + d->rows * d->cols;
        const char *c = line;
        for (size_t j = 0; j < d->cols; j++) {
            const char *e = c ? strchr(c, '\t') : NULL;
            row[j] = c ? cell_value(c, e ? e : c + strlen(c)) : NAN;
            c = e ? e + 1 : NULL;
        }
        d->rows++;
    }
    free(line);
    fclose(in);
    d->ok = status == OD_OK && header;
    return status;
}

/* Value of column col (1-based) in row r; NaN outside the file. */
static double dval(const datafile *d, size_t r, size_t col)
{
    return (col >= 1 && col <= d->cols) ? d->v[r * d->cols + col - 1] : NAN;
}

/* ---- per-write analysis of a panel ------------------------------------------------------------ */

typedef struct {
    const datafile *d;   /* NULL when the data could not be read */
    size_t valid;        /* rows that can be drawn */
    int color;           /* resolved palette index */
    int omit;            /* 1 if nothing can be drawn */
} series_info;

static int finite_on(double v, int logscale) { return isfinite(v) && (!logscale || v > 0); }

/* Band edges and error-bar ends of row r. */
static void err_edges(const series *s, const datafile *d, size_t r, double *lo, double *hi)
{
    double y = dval(d, r, s->cy), e = dval(d, r, s->ce);
    *lo = y - s->err_mult * e;
    *hi = y + s->err_mult * e;
}

/* Whether row r of series s gives a point gnuplot draws (clip > 0: a band's lower edge on a log
 * axis is clipped to clip, so only its upper edge must be positive). */
static int row_valid(const series *s, const panel *p, const datafile *d, size_t r, double clip)
{
    double x = dval(d, r, s->cx), y = dval(d, r, s->cy);
    if (!finite_on(x, p->logx)) return 0;
    if (s->kind == OD_PLOT_HEATMAP)
        return finite_on(y, p->logy) && isfinite(dval(d, r, s->cz));
    if (s->kind == OD_PLOT_BAND) {
        double lo, hi;
        err_edges(s, d, r, &lo, &hi);
        return isfinite(lo) && finite_on(hi, p->logy) && (!p->logy || lo > 0 || clip > 0);
    }
    if (s->kind == OD_PLOT_ERRORBARS) {
        double lo, hi;
        err_edges(s, d, r, &lo, &hi);
        return finite_on(y, p->logy) && isfinite(lo) && isfinite(hi);
    }
    return finite_on(y, p->logy);
}

/* Smallest positive value drawn on the y axis of a log-y panel, excluding band lower edges that
 * are not positive: the level a band's lower edge is clipped to.  0 if unknown. */
static double log_floor(const panel *p, const series_info *info)
{
    if (!p->logy) return 0;
    if (isfinite(p->ylo) && p->ylo > 0) return p->ylo;
    double m = INFINITY;
    for (size_t k = 0; k < p->ns; k++) {
        const series *s = &p->s[k];
        const datafile *d = info[k].d;
        if (!d) return 0;     /* cannot know: leave band edges unclipped */
        for (size_t r = 0; r < d->rows; r++) {
            if (!finite_on(dval(d, r, s->cx), p->logx)) continue;
            double y = dval(d, r, s->cy);
            if (s->kind == OD_PLOT_BAND || s->kind == OD_PLOT_ERRORBARS) {
                double lo, hi;
                err_edges(s, d, r, &lo, &hi);
                if (lo > 0 && lo < m) m = lo;
                if (s->kind == OD_PLOT_BAND) y = hi;
            }
            if (y > 0 && isfinite(y) && y < m) m = y;
        }
    }
    return isfinite(m) ? m : 0;
}

/* Colours: an explicit colour wins; series drawing the same table and y column share a colour
 * (a band and the line of its mean, a line and its error bars); every other series takes the next
 * palette colour no series of the panel has asked for explicitly. */
static void assign_colors(const panel *p, series_info *info)
{
    int used[OD_PALETTE_SIZE + 1] = {0};
    for (size_t k = 0; k < p->ns; k++)
        if (p->s[k].color > 0) used[(p->s[k].color - 1) % OD_PALETTE_SIZE + 1] = 1;
    int turn = 0;
    for (size_t k = 0; k < p->ns; k++) {
        const series *s = &p->s[k];
        info[k].color = s->color;
        if (s->color > 0 || s->kind == OD_PLOT_HEATMAP) continue;
        for (size_t j = 0; j < p->ns && !info[k].color; j++) {
            const series *o = &p->s[j];
            if (j == k || o->kind == OD_PLOT_HEATMAP || o->cy != s->cy ||
                strcmp(o->table, s->table) != 0)
                continue;
            if (o->color > 0) info[k].color = o->color;
            else if (j < k) info[k].color = info[j].color;
        }
        if (info[k].color) continue;
        int c = 0;
        for (int tries = 0; tries < OD_PALETTE_SIZE && !c; tries++) {
            int cand = turn % OD_PALETTE_SIZE + 1;
            turn++;
            if (!used[cand]) c = cand;
        }
        if (!c) c = (turn++) % OD_PALETTE_SIZE + 1;   /* every colour taken: cycle */
        used[c] = 1;
        info[k].color = c;
    }
}

/* ---- the plan of a panel ----------------------------------------------------------------------
 * What the driver decides from the data before writing a panel: which series are drawn, the
 * visible ranges (for log ticks), and where the legend and the labels of reference lines go.
 * Placement rasterises the panel onto a coarse grid in axis coordinates (log10 on log axes) and
 * picks, among a few candidate positions, the one covering the least ink.  Text sizes are
 * estimated for the template's 11 pt font at 96 dpi: ~8 px per character, ~19 px per line. */

#define GX 64
#define GY 40
#define CHAR_PX 8.0
#define LINE_PX 19.0
#define REF_INK 0.25f   /* ink of a reference line: a legend may cover it, on a white box */

typedef struct {
    const panel *p;
    series_info *s;
    int analysed;            /* every data file of the panel was read */
    int heat;                /* the panel has a heat map */
    double clip;             /* log y: band lower edges are drawn at least here (0 = unclipped) */
    size_t drawn, entries, longest;
    int xfix;                /* autoscale x fixed to the data (log x over a decade or more) */
    int have_range;          /* x0..y1 known */
    double x0, x1, y0, y1;   /* visible ranges, log10 on log axes */
    double pw, ph;           /* plot area, pixels (estimate) */
    float w[GY][GX];         /* ink */
    int *hl_at, *vl_at;      /* chosen label positions of reference lines */
    int key;                 /* index into key_places */
    int key_opaque;          /* the legend covers a reference line: give it a white box */
} plan;

static double tr(int logs, double v) { return logs ? log10(v) : v; }
static double to_u(const plan *pl, double x) { return (tr(pl->p->logx, x) - pl->x0) / (pl->x1 - pl->x0); }
static double to_v(const plan *pl, double y) { return (tr(pl->p->logy, y) - pl->y0) / (pl->y1 - pl->y0); }

static void mark_uv(plan *pl, double u, double v, float w)
{
    if (!(u >= 0 && u <= 1 && v >= 0 && v <= 1)) return;
    int i = (int)(u * GX), j = (int)(v * GY);
    if (i == GX) i--;
    if (j == GY) j--;
    if (pl->w[j][i] < w) pl->w[j][i] = w;
}

static void mark_seg(plan *pl, double u0, double v0, double u1, double v1, float w)
{
    if (!isfinite(u0) || !isfinite(v0) || !isfinite(u1) || !isfinite(v1)) return;
    double n = fmin(ceil(2.0 * fmax(fabs(u1 - u0) * GX, fabs(v1 - v0) * GY)), 4 * (GX + GY));
    for (double t = 0; t <= n; t++) {
        double a = n > 0 ? t / n : 0;
        mark_uv(pl, u0 + a * (u1 - u0), v0 + a * (v1 - v0), w);
    }
}

static void mark_span(plan *pl, double u, double v0, double v1, float w)
{
    if (!isfinite(v0) || !isfinite(v1)) return;
    double a = fmax(fmin(v0, v1), 0), b = fmin(fmax(v0, v1), 1);
    for (double v = a; v <= b; v += 0.5 / GY) mark_uv(pl, u, v, w);
}

static void mark_rect(plan *pl, double u0, double u1, double v0, double v1, float w)
{
    for (double u = fmax(u0, 0); u <= fmin(u1, 1); u += 0.5 / GX) mark_span(pl, u, v0, v1, w);
}

/* Ink under a rectangle of the panel. */
static double ink(const plan *pl, double u0, double u1, double v0, double v1)
{
    double sum = 0;
    int i0 = (int)floor(u0 * GX), i1 = (int)ceil(u1 * GX), j0 = (int)floor(v0 * GY),
        j1 = (int)ceil(v1 * GY);
    for (int j = j0 < 0 ? 0 : j0; j < j1 && j < GY; j++)
        for (int i = i0 < 0 ? 0 : i0; i < i1 && i < GX; i++) sum += pl->w[j][i];
    return sum;
}

/* 1 if the rectangle covers reference lines but no data: a white box behind the legend then
 * hides only the dashes, never data. */
static int covers_only_reflines(const plan *pl, const double r[4])
{
    int refs = 0;
    for (int j = (int)floor(r[2] * GY); j < (int)ceil(r[3] * GY) && j < GY; j++)
        for (int i = (int)floor(r[0] * GX); i < (int)ceil(r[1] * GX) && i < GX; i++) {
            if (i < 0 || j < 0) continue;
            if (pl->w[j][i] > REF_INK) return 0;
            refs += pl->w[j][i] > 0;
        }
    return refs > 0;
}

/* Data extent of the panel on one axis (transformed); 0 if there is none. */
static int data_extent(const plan *pl, int yaxis, double *lo, double *hi)
{
    const panel *p = pl->p;
    int logs = yaxis ? p->logy : p->logx;
    double a = INFINITY, b = -INFINITY;
    for (size_t k = 0; k < p->ns; k++) {
        const series *s = &p->s[k];
        const datafile *d = pl->s[k].d;
        if (!d || pl->s[k].omit) continue;
        for (size_t r = 0; r < d->rows; r++) {
            if (!row_valid(s, p, d, r, pl->clip)) continue;
            double v[3] = {dval(d, r, yaxis ? s->cy : s->cx), NAN, NAN};
            if (yaxis && (s->kind == OD_PLOT_BAND || s->kind == OD_PLOT_ERRORBARS)) {
                err_edges(s, d, r, &v[1], &v[2]);
                if (logs && !(v[1] > 0)) v[1] = pl->clip;
            }
            if (yaxis && s->kind == OD_PLOT_BOXES && !logs) v[1] = 0;
            for (int j = 0; j < 3; j++)
                if (finite_on(v[j], logs)) {
                    double t = tr(logs, v[j]);
                    a = fmin(a, t);
                    b = fmax(b, t);
                }
        }
    }
    *lo = a;
    *hi = b;
    return a <= b;
}

/* The visible range of an axis: explicit bounds, else the data (log axes: out to whole decades,
 * as gnuplot's autoscaling does, unless fixed).  0 if unknown. */
static int visible_range(const plan *pl, int yaxis, int fix, double *lo, double *hi)
{
    const panel *p = pl->p;
    int logs = yaxis ? p->logy : p->logx;
    double elo = yaxis ? p->ylo : p->xlo, ehi = yaxis ? p->yhi : p->xhi;
    double a, b;
    int have = pl->analysed && data_extent(pl, yaxis, &a, &b);
    if (have && logs && !fix) {
        a = floor(a + 1e-9);
        b = ceil(b - 1e-9);
    }
    if (finite_on(elo, logs)) a = tr(logs, elo);
    else if (!have) return 0;
    if (finite_on(ehi, logs)) b = tr(logs, ehi);
    else if (!have) return 0;
    if (!(a < b)) {
        double c = a, h = logs ? 0.5 : fmax(0.5, 0.05 * fabs(a));
        a = c - h;
        b = c + h;
    }
    *lo = a;
    *hi = b;
    return 1;
}

static void rasterise(plan *pl)
{
    const panel *p = pl->p;
    memset(pl->w, 0, sizeof pl->w);
    for (size_t k = 0; k < p->ns; k++) {
        const series *s = &p->s[k];
        const datafile *d = pl->s[k].d;
        if (!d || pl->s[k].omit || s->kind == OD_PLOT_HEATMAP) continue;
        int have = 0;
        double pu = 0, pv = 0, plo = 0, phi = 0;
        for (size_t r = 0; r < d->rows; r++) {
            if (!row_valid(s, p, d, r, pl->clip)) continue;
            double u = to_u(pl, dval(d, r, s->cx)), v = to_v(pl, dval(d, r, s->cy));
            double lo = v, hi = v;
            if (s->kind == OD_PLOT_BAND || s->kind == OD_PLOT_ERRORBARS) {
                double elo, ehi;
                err_edges(s, d, r, &elo, &ehi);
                if (p->logy && !(elo > 0)) elo = pl->clip;
                lo = to_v(pl, elo);
                hi = to_v(pl, ehi);
            }
            switch (s->kind) {
            case OD_PLOT_POINTS:
                mark_uv(pl, u, v, 1);
                break;
            case OD_PLOT_ERRORBARS:
                mark_span(pl, u, lo, hi, 1);
                break;
            case OD_PLOT_BOXES:
                mark_span(pl, u, p->logy ? 0 : to_v(pl, 0), v, 1);
                break;
            case OD_PLOT_BAND:
                if (have) {
                    double n = ceil(fabs(u - pu) * GX * 2);
                    for (double t = 0; t <= n; t++) {
                        double a = n > 0 ? t / n : 0;
                        mark_span(pl, pu + a * (u - pu), plo + a * (lo - plo),
                                  phi + a * (hi - phi), 1);
                    }
                }
                mark_span(pl, u, lo, hi, 1);
                break;
            default:   /* lines, linespoints, steps */
                if (have) mark_seg(pl, pu, pv, u, v, 1);
                mark_uv(pl, u, v, 1);
                break;
            }
            have = 1;
            pu = u;
            pv = v;
            plo = lo;
            phi = hi;
        }
    }
    for (size_t k = 0; k < p->nhl; k++)
        if (finite_on(p->hl[k].at, p->logy)) {
            double v = to_v(pl, p->hl[k].at);
            mark_seg(pl, 0, v, 1, v, REF_INK);
        }
    for (size_t k = 0; k < p->nvl; k++)
        if (finite_on(p->vl[k].at, p->logx)) {
            double u = to_u(pl, p->vl[k].at);
            mark_seg(pl, u, 0, u, 1, REF_INK);
        }
    if (p->nnotes) {   /* notes sit in the top left corner: never cover them */
        size_t longest = 0;
        for (size_t k = 0; k < p->nnotes; k++) longest = strlen(p->notes[k]) > longest
                                                             ? strlen(p->notes[k]) : longest;
        double w = 0.02 + ((double)longest + 1) * CHAR_PX / pl->pw;
        double h = 0.03 + (double)p->nnotes * 1.4 * LINE_PX / pl->ph;
        mark_rect(pl, 0, w, 1 - h, 1, 3);
    }
}

/* Label positions of reference lines.  Horizontal: 0 right above, 1 left above, 2 right below,
 * 3 left below the line.  Vertical (text rotated, reading upwards): 0 top left, 1 bottom left,
 * 2 top right, 3 bottom right of the line.  Each takes the position with the least ink, which
 * is then inked so the legend avoids it. */
static void hl_rect(const plan *pl, double v, size_t len, int pos, double r[4])
{
    double w = ((double)len + 1) * CHAR_PX / pl->pw, h = 1.1 * LINE_PX / pl->ph;
    r[0] = (pos % 2 == 0) ? 0.99 - w : 0.01;
    r[1] = r[0] + w;
    r[2] = pos < 2 ? v : v - h;
    r[3] = r[2] + h;
}

static void vl_rect(const plan *pl, double u, size_t len, int pos, double r[4])
{
    double w = 1.1 * LINE_PX / pl->pw, h = ((double)len + 1) * CHAR_PX / pl->ph;
    r[0] = pos < 2 ? u - w : u;
    r[1] = r[0] + w;
    r[2] = (pos % 2 == 0) ? 0.98 - h : 0.02;
    r[3] = r[2] + h;
}

static void place_ref_labels(plan *pl)
{
    const panel *p = pl->p;
    for (int pass = 0; pass < 2; pass++) {
        size_t n = pass ? p->nvl : p->nhl;
        for (size_t k = 0; k < n; k++) {
            const refline *l = pass ? &p->vl[k] : &p->hl[k];
            int *at = pass ? &pl->vl_at[k] : &pl->hl_at[k];
            *at = 0;
            if (!l->label || !finite_on(l->at, pass ? p->logx : p->logy)) continue;
            double c = pass ? to_u(pl, l->at) : to_v(pl, l->at), r[4], best = INFINITY;
            for (int pos = 0; pos < 4; pos++) {
                if (pass) vl_rect(pl, c, strlen(l->label), pos, r);
                else hl_rect(pl, c, strlen(l->label), pos, r);
                double s = ink(pl, r[0], r[1], r[2], r[3]);
                if (r[0] < 0 || r[1] > 1 || r[2] < 0 || r[3] > 1) s += 1e4;   /* off the frame */
                if (s < best - 0.5) {
                    best = s;
                    *at = pos;
                }
            }
            if (pass) vl_rect(pl, c, strlen(l->label), *at, r);
            else hl_rect(pl, c, strlen(l->label), *at, r);
            mark_rect(pl, r[0], r[1], r[2], r[3], 3);
        }
    }
}

/* The legend rectangle of an inside position (0 if the position is not inside the plot). */
static int key_rect(const plan *pl, const char *name, double r[4])
{
    if (strcmp(name, "outside") == 0 || strcmp(name, "below") == 0 || strcmp(name, "off") == 0 ||
        strcmp(name, "auto") == 0)
        return 0;
    double kw = fmin(1, ((double)pl->longest + 6) * CHAR_PX / pl->pw);
    double kh = fmin(1, ((double)pl->entries * LINE_PX + 10) / pl->ph);
    r[0] = strstr(name, "left") ? 0.01 : strstr(name, "right") ? 0.99 - kw : (1 - kw) / 2;
    r[2] = strncmp(name, "top", 3) == 0 ? 0.99 - kh : strncmp(name, "bottom", 6) == 0 ? 0.01
                                                                                     : (1 - kh) / 2;
    r[1] = r[0] + kw;
    r[3] = r[2] + kh;
    return 1;
}

/* The legend: the inside corner with the least ink under it; below the plot when even that
 * corner would hide more than a few percent of its area. */
static int place_key(const plan *pl)
{
    static const char *const order[] = {"top right", "top left", "bottom right", "bottom left",
                                        "top center", "bottom center"};
    const char *best = order[0];
    double best_ink = INFINITY, r[4] = {0, 0, 0, 0}, cells = 1;
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
        key_rect(pl, order[k], r);
        double s = ink(pl, r[0], r[1], r[2], r[3]);
        if (s < best_ink - 0.5) {     /* earlier candidates win near-ties */
            best_ink = s;
            best = order[k];
            cells = (r[1] - r[0]) * GX * (r[3] - r[2]) * GY;
        }
    }
    if (best_ink > 0.05 * cells) best = "below";
    for (size_t j = 0; j < N_KEY_PLACES; j++)
        if (strcmp(key_places[j].name, best) == 0) return (int)j;
    return KEY_TOP_RIGHT;
}

/* Analyses panel pi: drawable series, colours, ranges, label and legend positions.  The plan
 * owns its arrays (plan_free). */
static int plan_panel(plan *pl, const od_figure *f, size_t pi, const datafile *files, size_t nf,
                      int width, int height)
{
    const panel *p = &f->p[pi];
    memset(pl, 0, sizeof *pl);
    pl->p = p;
    pl->s = calloc(p->ns + 1, sizeof *pl->s);
    pl->hl_at = calloc(p->nhl + 1, sizeof *pl->hl_at);
    pl->vl_at = calloc(p->nvl + 1, sizeof *pl->vl_at);
    if (!pl->s || !pl->hl_at || !pl->vl_at) OD_ERROR("out of memory", OD_ENOMEM);
    assign_colors(p, pl->s);
    pl->analysed = 1;
    for (size_t k = 0; k < p->ns; k++) {
        for (size_t j = 0; j < nf; j++)
            if (files[j].ok && strcmp(files[j].name, p->s[k].table) == 0) pl->s[k].d = &files[j];
        if (!pl->s[k].d) pl->analysed = 0;
        if (p->s[k].kind == OD_PLOT_HEATMAP) pl->heat = 1;
    }
    pl->clip = log_floor(p, pl->s);
    for (size_t k = 0; k < p->ns; k++) {
        const datafile *d = pl->s[k].d;
        if (d) {
            for (size_t r = 0; r < d->rows; r++)
                pl->s[k].valid += (size_t)row_valid(&p->s[k], p, d, r, pl->clip);
            pl->s[k].omit = pl->s[k].valid == 0;
        }
        if (pl->s[k].omit) continue;
        pl->drawn++;
        if (p->s[k].label && p->s[k].kind != OD_PLOT_HEATMAP) {
            pl->entries++;
            if (strlen(p->s[k].label) > pl->longest) pl->longest = strlen(p->s[k].label);
        }
    }
    /* a log x axis spanning a decade or more is fixed to the data: no empty decade at the end */
    double a, b;
    pl->xfix = pl->heat;
    if (!pl->heat && p->logx && (!isfinite(p->xlo) || !isfinite(p->xhi)) && pl->analysed &&
        data_extent(pl, 0, &a, &b) && b - a >= 1)
        pl->xfix = 1;
    pl->have_range = visible_range(pl, 0, pl->xfix, &pl->x0, &pl->x1) &&
                     visible_range(pl, 1, pl->heat, &pl->y0, &pl->y1);
    pl->pw = fmax((double)width / f->cols - 130, 100);
    pl->ph = fmax((double)height / f->rows - 110, 80);
    pl->key = p->key;
    if (pl->analysed && pl->have_range) {
        /* the legend first (it is the larger), then the labels of reference lines around it */
        rasterise(pl);
        if (pl->key == KEY_AUTO && pl->entries) pl->key = place_key(pl);
        double r[4];
        if (pl->entries && key_rect(pl, key_places[pl->key].name, r)) {
            pl->key_opaque = covers_only_reflines(pl, r);
            mark_rect(pl, r[0], r[1], r[2], r[3], 3);
        }
        place_ref_labels(pl);
    }
    if (pl->key == KEY_AUTO && pl->entries) pl->key = KEY_TOP_RIGHT;
    return OD_OK;
}

static void plan_free(plan *pl)
{
    free(pl->s);
    free(pl->hl_at);
    free(pl->vl_at);
}

/* ---- writing the script ---------------------------------------------------------------------- */

/* A bound of a range: the number, or '*' when automatic (or not positive on a log axis). */
static void put_bound(FILE *out, double v, int logscale)
{
    if (finite_on(v, logscale)) fprintf(out, "%.17g", v);
    else fputc('*', out);
}

/* Writes 10^e as "10" with a superscript exponent, in UTF-8 (the template sets encoding utf8). */
static void put_power(FILE *out, int e)
{
    static const char *const sup[10] = {"\xe2\x81\xb0", "\xc2\xb9", "\xc2\xb2", "\xc2\xb3",
                                        "\xe2\x81\xb4", "\xe2\x81\xb5", "\xe2\x81\xb6",
                                        "\xe2\x81\xb7", "\xe2\x81\xb8", "\xe2\x81\xb9"};
    char digits[16];
    snprintf(digits, sizeof digits, "%d", e < 0 ? -e : e);
    fputs("10", out);
    if (e < 0) fputs("\xe2\x81\xbb", out);   /* superscript minus */
    for (const char *d = digits; *d; d++) fputs(sup[*d - '0'], out);
}

/* Tick labels of a log axis showing log10 range [a, b]: gnuplot labels only whole decades, which
 * leaves one label or none on a short axis and prints 0.00000001 on a long one.  The decades are
 * labelled 0.01 ... 1000 when all of them lie in [1e-3, 1e4], else as 10 to a superscript power;
 * a long axis labels every 2nd, 5th or 10th decade, a short one adds 2 and 5 (and 3, or all
 * mantissas, on shorter ones).  gnuplot's own ticks stay (unlabelled) for the minor ticks. */
static void put_log_tics(FILE *out, char axis, double a, double b)
{
    double span = b - a;
    int stride = span <= 7.5 ? 1 : span <= 15 ? 2 : span <= 40 ? 5 : 10;
    static const int m_all[] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, m_1235[] = {1, 2, 3, 5},
                     m_125[] = {1, 2, 5}, m_1[] = {1};
    const int *m = span <= 0.5 ? m_all : span <= 1.2 ? m_1235 : span <= 2.2 ? m_125 : m_1;
    size_t nm = span <= 0.5 ? 9 : span <= 1.2 ? 4 : span <= 2.2 ? 3 : 1;
    int e0 = (int)floor(a) - 1, e1 = (int)ceil(b) + 1;
    int plain = 1;
    for (int e = e0 + 1; e < e1; e++)
        if (e % stride == 0 && (e < -3 || e > 4)) plain = 0;
    fprintf(out, "set format %c ''\nset %ctics add (", axis, axis);
    int first = 1;
    for (int e = e0; e <= e1; e++) {
        if (e % stride) continue;
        for (size_t i = 0; i < nm; i++) {
            double v = m[i] * pow(10, e);
            double t = log10(v);
            if (t < a - 1e-9 || t > b + 1e-9) continue;
            fputs(first ? "'" : ", '", out);
            first = 0;
            if (plain) fprintf(out, "%g", v);
            else {
                if (m[i] != 1) fprintf(out, "%d\xc3\x97", m[i]);   /* times sign */
                put_power(out, e);
            }
            fprintf(out, "' %.17g", v);
        }
    }
    fputs(")\n", out);
}

static void put_axis(FILE *out, const plan *pl, char axis)
{
    const panel *p = pl->p;
    int x = axis == 'x', logs = x ? p->logx : p->logy;
    int fix = x ? pl->xfix : pl->heat;
    double lo = x ? p->xlo : p->ylo, hi = x ? p->xhi : p->yhi;
    fprintf(out, "%s logscale %c%s\n", logs ? "set" : "unset", axis, logs ? " 10" : "");
    fprintf(out, "set autoscale %c%s\n", axis, fix ? "fix" : "");
    if (logs && ((isfinite(lo) && lo <= 0) || (isfinite(hi) && hi <= 0)))
        fprintf(out, "# a %crange bound that is not positive is automatic on a log axis\n", axis);
    fprintf(out, "set %crange [", axis);
    put_bound(out, lo, logs);
    fputc(':', out);
    put_bound(out, hi, logs);
    fprintf(out, "]\nset %ctics autofreq\n", axis);
    if (logs && pl->have_range) put_log_tics(out, axis, x ? pl->x0 : pl->y0, x ? pl->x1 : pl->y1);
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

static void put_reflines(FILE *out, const plan *pl)
{
    const panel *p = pl->p;
    for (size_t k = 0; k < p->nhl; k++) {
        double y = p->hl[k].at;
        if (!finite_on(y, p->logy)) {
            fprintf(out, "# horizontal line at %g not drawn (not a %s number)\n", y,
                    p->logy ? "positive finite" : "finite");
            continue;
        }
        fprintf(out, "set arrow from graph 0, first %.17g to graph 1, first %.17g as 8\n", y, y);
        if (!p->hl[k].label) continue;
        int at = pl->hl_at[k];
        fputs("set label ", out);
        put_q(out, p->hl[k].label);
        fprintf(out, " at graph %s, first %.17g %s offset 0, %s tc rgb od_ref_color front\n",
                at % 2 ? "0.01" : "0.99", y, at % 2 ? "left" : "right", at < 2 ? "0.6" : "-0.6");
    }
    for (size_t k = 0; k < p->nvl; k++) {
        double x = p->vl[k].at;
        if (!finite_on(x, p->logx)) {
            fprintf(out, "# vertical line at %g not drawn (not a %s number)\n", x,
                    p->logx ? "positive finite" : "finite");
            continue;
        }
        fprintf(out, "set arrow from first %.17g, graph 0 to first %.17g, graph 1 as 8\n", x, x);
        if (!p->vl[k].label) continue;
        int at = pl->vl_at[k];
        fputs("set label ", out);
        put_q(out, p->vl[k].label);
        fprintf(out, " at first %.17g, graph %s %s rotate by 90 offset %s, 0 tc rgb od_ref_color "
                     "front\n", x, at % 2 ? "0.02" : "0.98", at % 2 ? "left" : "right",
                at < 2 ? "-1.1" : "1.1");
    }
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
    int status = plan_panel(pl, f, pi, files, nf, width, height);
    if (status != OD_OK) {
        plan_free(pl);
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
    else fprintf(out, "set key %s %s\n", key_places[pl->key].gp,
                 pl->key_opaque ? "opaque" : "noopaque");

    /* heat maps: colour box labelled with the heat map's label, colour range fitted to the data */
    const char *cblabel = NULL;
    for (size_t k = 0; k < p->ns; k++)
        if (p->s[k].kind == OD_PLOT_HEATMAP && !pl->s[k].omit && p->s[k].label)
            cblabel = p->s[k].label;
    fputs(pl->heat ? "set colorbox\nset autoscale cbfix\n" : "unset colorbox\n", out);
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
    plan_free(pl);
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
    int status = OD_OK;
    /* the data files, each once, in order of first use */
    size_t total = 0;
    for (size_t k = 0; k < f->np; k++) total += f->p[k].ns;
    c.files = calloc(total ? total : 1, sizeof *c.files);
    if (!c.files) OD_ERROR("out of memory", OD_ENOMEM);
    for (size_t k = 0; k < f->np && status == OD_OK; k++)
        for (size_t j = 0; j < f->p[k].ns && status == OD_OK; j++) {
            const char *t = f->p[k].s[j].table;
            size_t i = 0;
            while (i < c.nfiles && strcmp(c.files[i].name, t) != 0) i++;
            if (i < c.nfiles) continue;
            c.files[c.nfiles].name = f->p[k].s[j].table;
            int rs = datafile_read(&c.files[c.nfiles], dir);
            c.nfiles++;
            if (rs == OD_ENOMEM) status = od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
            else if (rs == OD_ENOTFOUND && do_render)
                status = od_error(OD_EIO, __FILE__, __LINE__,
                                  "figure %s: data file '%s.tsv' is not in folder '%s' (write "
                                  "the table before the figure)", f->name, t, dir);
        }
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
    for (size_t k = 0; k < c.nfiles; k++) free(c.files[k].v);
    free(c.files);
    if (status == OD_OK && do_render) status = od_plot_render(f->name, dir, fmt);
    return status;
}
