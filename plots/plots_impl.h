/* optdyn plots — what the files of the figure driver share.  Private to plots/: not part of the
 * API (optdyn_plots.h is).
 *
 *   figure.c       the figure / panel / series model and the script written from it
 *   gnuplot_run.c  finding gnuplot, running it on a script, capturing its errors
 */
#ifndef OPTDYN_PLOTS_IMPL_H
#define OPTDYN_PLOTS_IMPL_H

#include "plots/optdyn_plots.h"

/* Runs gnuplot on DIR/NAME.gp, which writes DIR/NAME.<ext of fmt> under a temporary name that is
 * renamed when gnuplot succeeded and drew a picture; the temporary is removed in every case.
 * Without gnuplot: one warning per process, OD_OK.  Else OD_OK or OD_EIO naming the script and
 * quoting gnuplot's first error line. */
int od_plot_render(const char *name, const char *dir, od_plot_format fmt);

#endif /* OPTDYN_PLOTS_IMPL_H */
