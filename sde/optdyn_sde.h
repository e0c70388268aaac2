/* optdyn sde — discrete optimizer maps (the zoo), SDE models of optimizers, integrators, SVAG,
 * heavy-tailed noise and scaling rules (prefix od_sde_).  Filled in by its issue; see DESIGN.md. */
#ifndef OPTDYN_SDE_H
#define OPTDYN_SDE_H
#include "core/optdyn_core.h"
#endif
