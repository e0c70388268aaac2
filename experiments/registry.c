/* optdyn experiments — the registry, in gallery order.  Add one line per experiment. */
#include "experiments/optdyn_experiments.h"

extern const od_experiment od_exp_ou_em;
extern const od_experiment od_exp_svag_convergence;
extern const od_experiment od_exp_adam_rmsprop_sde;
extern const od_experiment od_exp_linear_scaling_rule;
extern const od_experiment od_exp_sam_sde;
extern const od_experiment od_exp_slq_mp;
extern const od_experiment od_exp_bbp;
extern const od_experiment od_exp_ghosts;
extern const od_experiment od_exp_block_het;
extern const od_experiment od_exp_outlier_align;
extern const od_experiment od_exp_mlp_density;
extern const od_experiment od_exp_chinchilla_refit;
extern const od_experiment od_exp_synthetic_recovery;
extern const od_experiment od_exp_lr_batch_rules;
extern const od_experiment od_exp_linreg_exact_mc;
extern const od_experiment od_exp_linreg_ema;
extern const od_experiment od_exp_linreg_asgd;
extern const od_experiment od_exp_linreg_bounds;
extern const od_experiment od_exp_linreg_hb;
extern const od_experiment od_exp_linreg_powerlaw;
extern const od_experiment od_exp_linreg_advani_saxe;
extern const od_experiment od_exp_linreg_stability;
extern const od_experiment od_exp_integrator_orders;
extern const od_experiment od_exp_sgd_sde_weak_error;
extern const od_experiment od_exp_sqrt_scaling_rule;
extern const od_experiment od_exp_stability_2d;
extern const od_experiment od_exp_coherence_map;
extern const od_experiment od_exp_edge_of_stability;
extern const od_experiment od_exp_scalar_network_sharpness;

const od_experiment *const od_exp_registry[] = {
    &od_exp_ou_em,
    &od_exp_integrator_orders,
    &od_exp_sgd_sde_weak_error,
    &od_exp_svag_convergence,
    &od_exp_adam_rmsprop_sde,
    &od_exp_linear_scaling_rule,
    &od_exp_sam_sde,
    &od_exp_sqrt_scaling_rule,
    &od_exp_linreg_exact_mc,
    &od_exp_linreg_ema,
    &od_exp_linreg_asgd,
    &od_exp_linreg_bounds,
    &od_exp_linreg_hb,
    &od_exp_linreg_powerlaw,
    &od_exp_linreg_advani_saxe,
    &od_exp_linreg_stability,
    &od_exp_slq_mp,
    &od_exp_bbp,
    &od_exp_ghosts,
    &od_exp_block_het,
    &od_exp_outlier_align,
    &od_exp_mlp_density,
    &od_exp_stability_2d,
    &od_exp_coherence_map,
    &od_exp_edge_of_stability,
    &od_exp_scalar_network_sharpness,
    &od_exp_chinchilla_refit,
    &od_exp_synthetic_recovery,
    &od_exp_lr_batch_rules,
    NULL,
};
