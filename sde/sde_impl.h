/* optdyn sde — private to the module: the pieces that the generic steps and the fused loops of the
 * ensembles share, so that both compute the same numbers by construction (not a public API). */
#ifndef OD_SDE_IMPL_H
#define OD_SDE_IMPL_H

#include <stdint.h>
#include <string.h>

#include "sde/optdyn_sde.h"

/* The sign bit set when x is Inf or NaN (exponent all ones), 0 otherwise: integer operations only,
 * so that a loop OR-ing it over coordinates still vectorises (isfinite does not). */
static inline uint64_t od_sde_impl_nonfinite(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return ((b & 0x7ff0000000000000ULL) + 0x0010000000000000ULL) & 0x8000000000000000ULL;
}

/* ---- optimizers.c ---------------------------------------------------------------------------- */
/* Adam's bias correction 1 - beta^(k+1) of step k (0-based), or 1 when bias correction is off. */
double od_sde_impl_bias(const od_sde_hp *hp, double beta, uint64_t k);

/* The Adam family's update from the gradient g (d values), in torch's arithmetic:
 * m <- beta1 m + (1-beta1) g (m may be NULL: RMSprop, numerator g), v <- beta2 v + (1-beta2) g^2,
 * denom = sqrt(v)/sqrt(bc2) + eps (or sqrt(v/bc2 + eps) with eps_inside),
 * x <- (1 - lr decay) x - (lr/bc1) (m/denom).  Returns 1 when every x_i is finite afterwards. */
int od_sde_impl_adam_update(const od_sde_hp *hp, size_t d, const double *g, double bc1, double bc2,
                            double beta1, double decay, double *x, double *m, double *v);

/* ---- models.c --------------------------------------------------------------------------------- */
/* The time factors of the adaptive SDEs at time t: gamma_1, gamma_2 and sqrt(gamma_2). */
typedef struct {
    double g1, g2, sg2;
} od_sde_impl_gam;
od_sde_impl_gam od_sde_impl_gammas(const od_sde_model *m, double t);

/* 1 when m (an SGD, RMSprop or Adam model on a problem with constant diagonal noise) has a fused
 * Euler–Maruyama step on the diagonal quadratic q. */
int od_sde_impl_fused_ok(const od_sde_model *m, const od_quadratic_diag_view *q);

/* One Euler–Maruyama step of length h of such a model, given the d standard normals z of the step
 * and the factors gm at its start time: the numbers od_sde_step(OD_SDE_EM, ...) computes, bit for
 * bit.  Returns OD_EDIVERGED when y becomes non-finite. */
int od_sde_impl_fused_em(const od_sde_model *m, const od_quadratic_diag_view *q,
                         const od_sde_impl_gam *gm, double h, const double *z, double *y);

#endif
