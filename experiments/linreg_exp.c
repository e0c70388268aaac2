/* optdyn experiments — helpers shared by the linreg experiments (see linreg_exp.h). */
#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_fit.h>

#include "experiments/linreg_exp.h"

int od_exp_linreg_powerlaw_model(size_t d, double a, double e, double **lambda, double **omega)
{
    *lambda = od_vec_alloc(d);
    *omega = od_vec_alloc(d);
    if (!*lambda || !*omega) {
        od_free(*lambda);
        od_free(*omega);
        *lambda = *omega = NULL;
        OD_ERROR("out of memory", OD_ENOMEM);
    }
    od_linreg_spectrum_powerlaw(d, a, 1.0, *lambda);
    od_linreg_spectrum_powerlaw(d, e, 1.0, *omega);
    return OD_OK;
}

uint64_t *od_exp_linreg_times(uint64_t T, size_t n, size_t *nt)
{
    uint64_t *t = malloc((n + 2) * sizeof *t);
    if (t) *nt = od_times_log(T, n, t, n + 2);
    return t;
}

double od_exp_linreg_max_z(const od_ensemble_result *r, const double *exact, size_t n)
{
    double z = 0;
    for (size_t i = 0; i < n; i++) {
        if (r->se[i] > 0) z = fmax(z, fabs(r->mean[i] - exact[i]) / r->se[i]);
        else if (!(fabs(r->mean[i] - exact[i]) <= 1e-12 * fabs(exact[i]))) z = INFINITY;
    }
    return z;
}

double od_exp_linreg_slope(size_t n, const double *x, const double *y)
{
    double c0, c1, c00, c01, c11, ss;
    if (n < 2 || gsl_fit_linear(x, 1, y, 1, n, &c0, &c1, &c00, &c01, &c11, &ss) != 0) return NAN;
    return c1;
}

void od_exp_linreg_panel(od_figure *f, int index, const char *title, const char *xlabel,
                         const char *ylabel, int logx, int logy)
{
    if (index) od_figure_next_panel(f, title);
    else od_figure_title(f, title);
    od_figure_logx(f, logx);
    od_figure_logy(f, logy);
    od_figure_xlabel(f, xlabel);
    od_figure_ylabel(f, ylabel);
}
