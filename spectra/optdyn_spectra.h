/* optdyn spectra — linear operators, Lanczos, stochastic Lanczos quadrature, Hutchinson, densities
 * and distances, stability of SGD at a minimum, sharpness tracking (prefix od_spectra_).  Filled in
 * by its issue; see DESIGN.md. */
#ifndef OPTDYN_SPECTRA_H
#define OPTDYN_SPECTRA_H
#include "core/optdyn_core.h"
#endif
