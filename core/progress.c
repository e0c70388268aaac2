/* optdyn core — progress display on stderr (see ensemble.h). */
#include "core/ensemble.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/linalg.h"

struct od_progress {
    char label[64];
    uint64_t total;
    uint64_t done;        /* updated atomically */
    double start;
    double last_draw;     /* guarded by the critical section */
};

static int od_progress_on = -1;   /* -1: undecided (decide from isatty at first use) */

void od_progress_enable(int on) { od_progress_on = on ? 1 : 0; }

static int enabled(void)
{
    if (od_progress_on < 0) od_progress_on = isatty(STDERR_FILENO) ? 1 : 0;
    return od_progress_on && isatty(STDERR_FILENO);
}

od_progress *od_progress_start(const char *label, uint64_t total)
{
    if (!label || !enabled() || total == 0) return NULL;
    od_progress *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    snprintf(p->label, sizeof p->label, "%s", label);
    p->total = total;
    p->start = od_wall_time();
    return p;
}

static void fmt_time(double s, char *buf, size_t len)
{
    if (s < 0 || s > 1e7) snprintf(buf, len, "--");
    else if (s < 60) snprintf(buf, len, "%.0fs", s);
    else if (s < 3600) snprintf(buf, len, "%.0fm%02.0fs", s / 60 - 0.5, (double)((long)s % 60));
    else snprintf(buf, len, "%.1fh", s / 3600);
}

static void draw(od_progress *p, uint64_t done, double now)
{
    double el = now - p->start, frac = (double)done / (double)p->total;
    double rate = el > 0 ? (double)done / el : 0, eta = rate > 0 ? (double)(p->total - done) / rate : -1;
    char e1[16], e2[16];
    fmt_time(el, e1, sizeof e1);
    fmt_time(eta, e2, sizeof e2);
    fprintf(stderr, "\r%-28s %5.1f%%  %.3g/s  elapsed %s  eta %s   ", p->label, 100 * frac, rate,
            e1, e2);
    fflush(stderr);
}

void od_progress_add(od_progress *p, uint64_t n)
{
    if (!p) return;
    uint64_t done;
#pragma omp atomic capture
    done = p->done += n;
    double now = od_wall_time(), last;
#pragma omp atomic read
    last = p->last_draw;
    if (now - last < 0.25 && done < p->total) return;
#pragma omp critical(od_progress_draw)
    {
        if (now - p->last_draw >= 0.25 || done >= p->total) {
#pragma omp atomic write
            p->last_draw = now;
            draw(p, done, now);
        }
    }
}

void od_progress_finish(od_progress *p)
{
    if (!p) return;
    fprintf(stderr, "\r%*s\r", 90, "");
    fflush(stderr);
    free(p);
}
