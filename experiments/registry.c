/* optdyn experiments — the registry, in gallery order.  Add one line per experiment. */
#include "experiments/optdyn_experiments.h"

extern const od_experiment od_exp_ou_em;
extern const od_experiment od_exp_chinchilla_refit;
extern const od_experiment od_exp_synthetic_recovery;

const od_experiment *const od_exp_registry[] = {
    &od_exp_ou_em,
    &od_exp_chinchilla_refit,
    &od_exp_synthetic_recovery,
    NULL,
};
