/* optdyn experiments — the registry, in gallery order.  Add one line per experiment. */
#include "experiments/optdyn_experiments.h"

extern const od_experiment od_exp_ou_em;
extern const od_experiment od_exp_linreg_exact_mc;
extern const od_experiment od_exp_linreg_ema;
extern const od_experiment od_exp_linreg_asgd;
extern const od_experiment od_exp_linreg_bounds;
extern const od_experiment od_exp_linreg_hb;
extern const od_experiment od_exp_linreg_powerlaw;
extern const od_experiment od_exp_linreg_advani_saxe;
extern const od_experiment od_exp_linreg_stability;

const od_experiment *const od_exp_registry[] = {
    &od_exp_ou_em,
    &od_exp_linreg_exact_mc,
    &od_exp_linreg_ema,
    &od_exp_linreg_asgd,
    &od_exp_linreg_bounds,
    &od_exp_linreg_hb,
    &od_exp_linreg_powerlaw,
    &od_exp_linreg_advani_saxe,
    &od_exp_linreg_stability,
    NULL,
};
