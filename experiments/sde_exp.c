/* optdyn experiments — helpers shared by the sde module's experiments. */
#include <math.h>
#include <stdlib.h>

#include "experiments/sde_exp.h"

int od_sde_exp_norm2(const od_sde_exp_run *r, size_t n_times, double *t, double *mean, double *se,
                     od_sde_exp_out *out)
{
    od_sde_observable obs;
    OD_TRY(od_sde_observable_parse("norm2", r->problem, &obs));
    if (n_times < 2) n_times = 2;
    uint64_t *times = malloc(n_times * sizeof *times);
    double *tt = malloc(n_times * sizeof *tt);
    if (!times || !tt) {
        free(times);
        free(tt);
        OD_ERROR("out of memory", OD_ENOMEM);
    }
    size_t nt = 0;
    for (size_t j = 0; j < n_times; j++) {
        uint64_t k = (uint64_t)((double)r->steps * (double)j / (double)(n_times - 1) + 0.5);
        if (nt == 0 || k > times[nt - 1]) times[nt++] = k;
    }
    od_sde_dynamics dy = {.problem = r->problem, .opt = r->opt, .hp = r->hp, .batch = r->batch,
                          .steps = r->steps, .kind = r->kind, .svag_l = r->svag_l,
                          .scheme = OD_SDE_EM, .substeps = r->substeps, .obs = &obs, .n_obs = 1,
                          .times = times, .n_times = nt, .seed = r->seed, .label = r->label};
    od_ensemble_result res;
    int st = od_sde_dynamics_run(&dy, r->paths, &res, tt);
    if (st == OD_OK) {
        out->diverged_t = NAN;
        for (size_t j = 0; j < nt; j++) {
            const int ok = res.n_ok[j] == r->paths;
            if (!ok && isnan(out->diverged_t)) out->diverged_t = tt[j];
            if (t) t[j] = tt[j];
            if (mean) mean[j] = ok ? res.mean[j] : NAN;
            if (se) se[j] = ok ? res.se[j] : NAN;
        }
        for (size_t j = nt; j < n_times; j++) {   /* duplicates removed: repeat the last row */
            if (t) t[j] = t[nt - 1];
            if (mean) mean[j] = mean[nt - 1];
            if (se) se[j] = se[nt - 1];
        }
        const int ok = res.n_ok[nt] == r->paths;
        out->stat = ok ? res.mean[nt] : NAN;
        out->stat_se = ok ? res.se[nt] : NAN;
        od_ensemble_result_free(&res);
    }
    free(times);
    free(tt);
    return st;
}

int od_sde_exp_problem(od_run *r, const char *spec, od_problem **p)
{
    return od_exp_problem(spec, od_run_seed(r), p);
}
