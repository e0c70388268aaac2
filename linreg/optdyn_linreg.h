/* optdyn linreg — exact second-moment risk curves of linear iterations on linear regression, Monte
 * Carlo linear regression, published risk bounds, the Volterra solver and the power-law
 * random-features model (prefix od_linreg_).  Filled in by its issue; see DESIGN.md. */
#ifndef OPTDYN_LINREG_H
#define OPTDYN_LINREG_H
#include "core/optdyn_core.h"
#endif
