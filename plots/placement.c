/* optdyn plots — reading the data back, and the layout decisions taken from it (see plots_impl.h).
 *
 * Before writing, the driver reads the referenced TSV files back from the output folder (they are
 * what gnuplot will draw) to decide what no template can: which series have no point that can be
 * drawn (all nan/inf, or none positive on a log axis; such series are left out, with a comment,
 * instead of making gnuplot fail), where on log-y axes a band's lower edge must be clipped, which
 * colour each series takes, the visible ranges and the labels of log axes, and which corner of
 * each panel the legend covers the least data in.
 */
#include "plots/plots_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "core/status.h"

/* ---- reading the data back ------------------------------------------------------------------- */

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

int od_plot_data_read(const od_figure *f, const char *dir, int required, datafile **files,
                      size_t *n)
{
    *files = NULL;
    *n = 0;
    int status = OD_OK;
    size_t total = 0;
    for (size_t k = 0; k < f->np; k++) total += f->p[k].ns;
    datafile *v = calloc(total ? total : 1, sizeof *v);
    if (!v) OD_ERROR("out of memory", OD_ENOMEM);
    *files = v;
    for (size_t k = 0; k < f->np && status == OD_OK; k++)
        for (size_t j = 0; j < f->p[k].ns && status == OD_OK; j++) {
            const char *t = f->p[k].s[j].table;
            size_t i = 0;
            while (i < *n && strcmp(v[i].name, t) != 0) i++;
            if (i < *n) continue;
            v[*n].name = f->p[k].s[j].table;
            int rs = datafile_read(&v[*n], dir);
            (*n)++;
            if (rs == OD_ENOMEM) status = od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
            else if (rs == OD_ENOTFOUND && required)
                status = od_error(OD_EIO, __FILE__, __LINE__,
                                  "figure %s: data file '%s.tsv' is not in folder '%s' (write "
                                  "the table before the figure)", f->name, t, dir);
        }
    return status;
}

void od_plot_data_free(datafile *files, size_t n)
{
    for (size_t k = 0; k < n; k++) free(files[k].v);
    free(files);
}

/* ---- per-write analysis of a panel ------------------------------------------------------------ */

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

#define CHAR_PX 8.0
#define LINE_PX 19.0
#define REF_INK 0.25f   /* ink of a reference line: a legend may cover it, on a white box */

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
    double elo = yaxis ? pl->ylo : pl->xlo, ehi = yaxis ? pl->yhi : pl->xhi;
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

/* Where an axis bound is automatic and a reference line lies beyond the data, the bound moves out to
 * show the line (gnuplot autoscales on data only, and would draw the line off the axes): to 4 % of
 * the span past the line on a linear axis, to the line's decade on a log axis. */
static void fit_reflines(plan *pl, int yaxis)
{
    const panel *p = pl->p;
    const int logs = yaxis ? p->logy : p->logx;
    double *lo = yaxis ? &pl->ylo : &pl->xlo, *hi = yaxis ? &pl->yhi : &pl->xhi;
    const refline *l = yaxis ? p->hl : p->vl;
    const size_t n = yaxis ? p->nhl : p->nvl;
    double a, b;
    if (!pl->analysed || !data_extent(pl, yaxis, &a, &b)) return;
    double ra = a, rb = b;   /* the extent the lines need, in axis units (log10 on log axes) */
    for (size_t k = 0; k < n; k++)
        if (finite_on(l[k].at, logs)) {
            ra = fmin(ra, tr(logs, l[k].at));
            rb = fmax(rb, tr(logs, l[k].at));
        }
    const double pad = 0.04 * (rb - ra);
    if (!isfinite(*lo) && ra < a) *lo = logs ? pow(10, floor(ra + 1e-9)) : ra - pad;
    if (!isfinite(*hi) && rb > b) *hi = logs ? pow(10, ceil(rb - 1e-9)) : rb + pad;
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
    int j = od_plot_key_index(best);
    return j >= 0 ? j : KEY_TOP_RIGHT;
}

int od_plot_plan_panel(plan *pl, const od_figure *f, size_t pi, const datafile *files, size_t nf,
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
    pl->xlo = p->xlo;
    pl->xhi = p->xhi;
    pl->ylo = p->ylo;
    pl->yhi = p->yhi;
    fit_reflines(pl, 0);
    fit_reflines(pl, 1);
    /* a log x axis spanning a decade or more is fixed to the data: no empty decade at the end */
    double a, b;
    pl->xfix = pl->heat;
    if (!pl->heat && p->logx && (!isfinite(pl->xlo) || !isfinite(pl->xhi)) && pl->analysed &&
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
        if (pl->entries && key_rect(pl, od_plot_key_places[pl->key].name, r)) {
            pl->key_opaque = covers_only_reflines(pl, r);
            mark_rect(pl, r[0], r[1], r[2], r[3], 3);
        }
        place_ref_labels(pl);
    }
    if (pl->key == KEY_AUTO && pl->entries) pl->key = KEY_TOP_RIGHT;
    return OD_OK;
}

void od_plot_plan_free(plan *pl)
{
    free(pl->s);
    free(pl->hl_at);
    free(pl->vl_at);
}

/* ---- log-axis ticks -------------------------------------------------------------------------- */

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
void od_plot_put_log_tics(FILE *out, char axis, double a, double b)
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
