/* optdyn experiments — the registry, in gallery order.  Add one line per experiment. */
#include "experiments/optdyn_experiments.h"

extern const od_experiment od_exp_ou_em;
extern const od_experiment od_exp_svag_convergence;
extern const od_experiment od_exp_adam_rmsprop_sde;

const od_experiment *const od_exp_registry[] = {
    &od_exp_ou_em,
    &od_exp_svag_convergence,
    &od_exp_adam_rmsprop_sde,
    NULL,
};
