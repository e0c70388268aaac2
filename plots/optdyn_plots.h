/* optdyn plots — figures drawn by gnuplot from TSV tables (prefix od_plot_ / od_figure_).
 *
 * A figure is a grid of panels; a panel has axes settings and a list of series; a series draws
 * columns of a table (referred to by column name, resolved to column numbers when added, so a typo
 * fails early).  od_figure_write writes NAME.gp — a self-contained script that starts with the
 * style template plots/preamble.gp and is runnable by hand (`gnuplot -c NAME.gp` in the output
 * folder) — and, unless rendering is off, runs gnuplot on it to produce NAME.png|svg|pdf.
 *
 * Every piece of text (titles, labels, file names) is written by od_plot_quote as single-quoted
 * gnuplot strings with control characters removed, and the terminal is `noenhanced`, so no text can
 * inject gnuplot commands or be reinterpreted as markup.
 *
 * Without gnuplot on the PATH (or $OPTDYN_GNUPLOT), one warning is printed per process and
 * everything except the picture is still written.
 */
#ifndef OPTDYN_PLOTS_H
#define OPTDYN_PLOTS_H

#include <stddef.h>

#include "core/output.h"

typedef enum {
    OD_PLOT_LINES,        /* y against x */
    OD_PLOT_POINTS,
    OD_PLOT_LINESPOINTS,
    OD_PLOT_BAND,         /* filled band y -/+ err_mult * err (err column required), drawn behind */
    OD_PLOT_ERRORBARS,    /* points with y -/+ err_mult * err bars */
    OD_PLOT_STEPS,        /* histogram-like steps */
    OD_PLOT_BOXES,        /* bars */
    OD_PLOT_HEATMAP       /* x, y, z columns on a regular grid, drawn with image */
} od_plot_kind;

typedef enum { OD_FMT_PNG, OD_FMT_SVG, OD_FMT_PDF } od_plot_format;

/* One series.  Unset fields take defaults (designated initializers are the intended style):
 *   od_figure_add(f, &(od_series){ .table = t, .x = "t", .y = "mean", .err = "se",
 *                                  .kind = OD_PLOT_BAND, .label = "Monte Carlo mean +- 2 SE" }); */
typedef struct {
    const od_table *table;  /* the data (must be written as table->name.tsv in the same folder);
                               only its name and column numbers are kept, so it may be freed
                               after od_figure_add */
    const char *x, *y;      /* column names */
    const char *err;        /* error column for BAND / ERRORBARS */
    const char *z;          /* value column for HEATMAP */
    od_plot_kind kind;
    const char *label;      /* legend entry; NULL or "" for none */
    int color;              /* 1-based index into the template palette; 0 = next in turn */
    int dash;               /* gnuplot dashtype; 0 = solid */
    double width;           /* line width; 0 = template default */
    double err_mult;        /* band / bar half-width in units of err; 0 = 2 (mean +- 2 SE) */
    int every;              /* plot every k-th row (points); 0 = all */
} od_series;

typedef struct od_figure od_figure;

/* A figure written as NAME.gp / NAME.<ext>, with one panel (rows = cols = 1) and a title. */
od_figure *od_figure_alloc(const char *name, const char *title);
void od_figure_free(od_figure *f);

/* Sets the panel grid (default 1x1) and the canvas size in pixels (default 900x600 per figure;
 * scaled for grids unless set).  Panels fill row by row. */
int od_figure_layout(od_figure *f, int rows, int cols);
int od_figure_size(od_figure *f, int width, int height);

/* Starts the next panel (the first exists from od_figure_alloc); the settings below and
 * od_figure_add act on the current panel. */
int od_figure_next_panel(od_figure *f, const char *title);

int od_figure_title(od_figure *f, const char *title);   /* current panel title */
int od_figure_xlabel(od_figure *f, const char *text);
int od_figure_ylabel(od_figure *f, const char *text);
int od_figure_logx(od_figure *f, int on);
int od_figure_logy(od_figure *f, int on);
int od_figure_xrange(od_figure *f, double lo, double hi);  /* NaN or +-Inf bound = automatic */
int od_figure_yrange(od_figure *f, double lo, double hi);
/* Colour range of heat maps in the current panel (values outside take the end colours); NaN bound =
 * fitted to the data. */
int od_figure_zrange(od_figure *f, double lo, double hi);
/* Legend position, one of: "auto" (the default: the inside corner covering the least data, or
 * "below" when every corner is crowded), "off", "top right", "top left", "top center",
 * "bottom right", "bottom left", "bottom center", "center right", "center left", "outside" (right
 * of the plot) and "below".  OD_EINVAL for anything else. */
int od_figure_key(od_figure *f, const char *where);
/* Horizontal / vertical reference line with optional label (dashed, behind the data; it does not
 * widen the automatic range).  A value that is not finite, or not positive on a log axis, draws
 * nothing (the script says so in a comment). */
int od_figure_hline(od_figure *f, double y, const char *label);
int od_figure_vline(od_figure *f, double x, const char *label);
/* A note written inside the panel (top left), e.g. "mean-square divergent: MC means not shown". */
int od_figure_note(od_figure *f, const char *text);
/* Adds a series to the current panel.  OD_ENOTFOUND naming the column when a column is missing. */
int od_figure_add(od_figure *f, const od_series *s);

const char *od_figure_name(const od_figure *f);

/* Writes DIR/NAME.gp atomically and, if render != 0, renders DIR/NAME.<ext> (atomically: gnuplot
 * writes a temporary file that is renamed).  The tables referenced must already be in DIR (when
 * rendering, a missing one is OD_EIO); series without a single finite point (positive on log
 * axes) are left out rather than failing, and a panel left empty says so.
 * Returns OD_OK when the script was written (even if gnuplot is missing: a warning is printed);
 * OD_EIO if the script cannot be written or gnuplot fails (the reason names the script). */
int od_figure_write(const od_figure *f, const char *dir, od_plot_format fmt, int render);

/* File extension of a format ("png", "svg", "pdf"; NULL for a value outside the enum) and parsing
 * of that word, case-insensitively (OD_EPARSE if unknown; *fmt is then left unchanged). */
const char *od_plot_ext(od_plot_format fmt);
int od_plot_format_parse(const char *word, od_plot_format *fmt);

/* 1 if a gnuplot executable is available (PATH or $OPTDYN_GNUPLOT). */
int od_plot_have_gnuplot(void);

/* Writes text into buf as a safe gnuplot string: a single-quoted literal, in which each quote of the
 * text is spliced in as '."'".' (gnuplot 5.4 misreads a doubled quote at the start of a string or
 * next to another one, and double-quoted strings would run `backquoted` commands); control
 * characters, newlines included, are dropped; truncated to fit without splitting a splice or a
 * UTF-8 character.  len < 3 gives "".  Exposed for tests. */
void od_plot_quote(const char *text, char *buf, size_t len);

#endif /* OPTDYN_PLOTS_H */
