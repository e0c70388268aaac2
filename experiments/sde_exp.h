/* optdyn experiments — helpers shared by the sde module's experiments (not a public API). */
#ifndef OD_SDE_EXP_H
#define OD_SDE_EXP_H

#include "experiments/optdyn_experiments.h"
#include "sde/optdyn_sde.h"

/* A run of one dynamic observing norm2 = ||x - x*||^2: the curve at n_times evenly spaced times
 * (t, mean, se; caller-owned arrays of n_times, or NULL) and the stationary average over the second
 * half (mean, se).  Returns an od_status; a diverged run gives NaN and *diverged_t = the SDE time of
 * the first non-finite record (NaN if none). */
typedef struct {
    const od_problem *problem;
    const od_sde_optimizer *opt;
    od_sde_hp hp;
    size_t batch;
    uint64_t steps;
    od_sde_dyn_kind kind;
    double svag_l;
    unsigned substeps;
    size_t paths;
    uint64_t seed;
    const char *label;
} od_sde_exp_run;

typedef struct {
    double stat, stat_se, diverged_t;
} od_sde_exp_out;

int od_sde_exp_norm2(const od_sde_exp_run *r, size_t n_times, double *t, double *mean, double *se,
                     od_sde_exp_out *out);

/* Builds a problem from a spec through the program's catalogs, reporting errors through the run. */
int od_sde_exp_problem(od_run *r, const char *spec, od_problem **p);

#endif
