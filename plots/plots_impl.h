/* optdyn plots — what the files of the figure driver share.  Private to plots/: not part of the
 * API (optdyn_plots.h is).
 *
 *   figure.c       the figure / panel / series model and the script written from it
 *   placement.c    reading the data back, and the decisions taken from it when a panel is written:
 *                  drawable series, colours, visible ranges and log-axis ticks, legend and label
 *                  positions (the plan of a panel)
 *   gnuplot_run.c  finding gnuplot, running it on a script, capturing its errors
 */
#ifndef OPTDYN_PLOTS_IMPL_H
#define OPTDYN_PLOTS_IMPL_H

#include <math.h>
#include <stddef.h>
#include <stdio.h>

#include "plots/optdyn_plots.h"

#define OD_PALETTE_SIZE 8      /* linetypes defined by preamble.gp */

/* ---- the figure (figure.c) ------------------------------------------------------------------- */

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
    double zlo, zhi;              /* heat-map colour range; NaN = fitted to the data */
    int key;                      /* index into od_plot_key_places */
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

/* Legend positions accepted by od_figure_key, in od_plot_key_places (figure.c).  gp = the `set key`
 * arguments (NULL: decided by the driver for "auto", `unset key` for "off"). */
typedef struct {
    const char *name;
    const char *gp;
} key_place;

enum { KEY_AUTO = 0, KEY_OFF = 1, KEY_TOP_RIGHT = 2 };

extern const key_place od_plot_key_places[];

/* Index of the legend position called name in od_plot_key_places; -1 if there is none. */
int od_plot_key_index(const char *name);

/* 1 if v can be drawn on an axis: finite, and positive on a log axis. */
static inline int finite_on(double v, int logscale) { return isfinite(v) && (!logscale || v > 0); }

/* ---- the data read back (placement.c) -------------------------------------------------------- */

/* A TSV file as gnuplot will see it: every cell as a double (nan for text and empty cells). */
typedef struct {
    char *name;         /* table name */
    int ok;             /* 1 if read */
    size_t rows, cols;
    double *v;          /* rows * cols, row-major */
} datafile;

/* Reads the data file of every table the figure draws, each once, in order of first use, from
 * dir into a new array *files of *n entries (free with od_plot_data_free, also after a failure).
 * A file that is missing is left unread (ok = 0), or is OD_EIO when required != 0 (rendering). */
int od_plot_data_read(const od_figure *f, const char *dir, int required, datafile **files,
                      size_t *n);
void od_plot_data_free(datafile *files, size_t n);

/* ---- the plan of a panel (placement.c) ------------------------------------------------------- */

/* What is decided about one series of the panel being written. */
typedef struct {
    const datafile *d;   /* NULL when the data could not be read */
    size_t valid;        /* rows that can be drawn */
    int color;           /* resolved palette index */
    int omit;            /* 1 if nothing can be drawn */
} series_info;

#define GX 64                    /* the ink grid of a panel, cells across and up */
#define GY 40

/* What placement.c decides for a panel before figure.c writes it (the ink grid is its own). */
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
    double xlo, xhi, ylo, yhi;   /* range bounds written to the script: the panel's, or, where a
                                    bound is automatic and a reference line lies beyond the data,
                                    one that shows the line (NaN = automatic) */
    double pw, ph;           /* plot area, pixels (estimate) */
    float w[GY][GX];         /* ink */
    int *hl_at, *vl_at;      /* chosen label positions of reference lines */
    int key;                 /* index into od_plot_key_places */
    int key_opaque;          /* the legend covers a reference line: give it a white box */
} plan;

/* Analyses panel pi of f on a canvas of width x height pixels, with the data files read back:
 * drawable series, colours, ranges, label and legend positions.  The plan owns its arrays: free
 * them with od_plot_plan_free, also after a failure. */
int od_plot_plan_panel(plan *pl, const od_figure *f, size_t pi, const datafile *files, size_t nf,
                       int width, int height);
void od_plot_plan_free(plan *pl);

/* Writes the tick labels of a log axis ('x' or 'y') showing the log10 range [a, b]. */
void od_plot_put_log_tics(FILE *out, char axis, double a, double b);

/* ---- running gnuplot (gnuplot_run.c) --------------------------------------------------------- */

/* Runs gnuplot on DIR/NAME.gp, which writes DIR/NAME.<ext of fmt> under a temporary name that is
 * renamed when gnuplot succeeded and drew a picture; the temporary is removed in every case.
 * Without gnuplot: one warning per process, OD_OK.  Else OD_OK or OD_EIO naming the script and
 * quoting gnuplot's first error line. */
int od_plot_render(const char *name, const char *dir, od_plot_format fmt);

#endif /* OPTDYN_PLOTS_IMPL_H */
