/* optdyn scaling — scaling-law fits (Chinchilla-style L(N, D), power laws), bootstrap intervals,
 * compute-optimal allocation, learning-rate / batch-size rules (prefix od_scaling_).  Filled in by
 * its issue; see DESIGN.md. */
#ifndef OPTDYN_SCALING_H
#define OPTDYN_SCALING_H
#include "core/optdyn_core.h"
#endif
