/* optdyn sde — private to the module: the pieces that the generic steps and the fused loops of the
 * ensembles share, so that both compute the same numbers by construction (not a public API). */
#ifndef OD_SDE_IMPL_H
#define OD_SDE_IMPL_H

#include "sde/optdyn_sde.h"

/* ---- optimizers.c ---------------------------------------------------------------------------- */
/* Adam's bias correction 1 - beta^(k+1) of step k (0-based), or 1 when bias correction is off. */
double od_sde_impl_bias(const od_sde_hp *hp, double beta, uint64_t k);

/* The Adam family's update from the gradient g (d values):  m <- beta1 m + (1-beta1) g (m may be
 * NULL: RMSprop), v <- beta2 v + (1-beta2) g^2, x <- (1 - lr decay) x - lr m^/den with den =
 * sqrt(v/bc2) + eps (or sqrt(v/bc2 + eps) with eps_inside). */
void od_sde_impl_adam_update(const od_sde_hp *hp, size_t d, const double *g, double bc1, double bc2,
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
