/* optdyn experiments — the registry, in gallery order.  Add one line per experiment. */
#include "experiments/optdyn_experiments.h"

extern const od_experiment od_exp_ou_em;
extern const od_experiment od_exp_svag_convergence;
extern const od_experiment od_exp_adam_rmsprop_sde;
extern const od_experiment od_exp_linear_scaling_rule;
extern const od_experiment od_exp_sam_sde;
extern const od_experiment od_exp_integrator_orders;
extern const od_experiment od_exp_sgd_sde_weak_error;
extern const od_experiment od_exp_sqrt_scaling_rule;

const od_experiment *const od_exp_registry[] = {
    &od_exp_ou_em,
    &od_exp_svag_convergence,
    &od_exp_adam_rmsprop_sde,
    &od_exp_linear_scaling_rule,
    &od_exp_sam_sde,
    &od_exp_integrator_orders,
    &od_exp_sgd_sde_weak_error,
    &od_exp_sqrt_scaling_rule,
    NULL,
};
