/* optdyn scaling — published laws, evaluation and the compute-optimal allocation (theory sheet
 * §2.8, §3). */
#include "scaling/optdyn_scaling.h"

#include <math.h>
#include <stdlib.h>

#ifndef OD_SCALING_DATA_DIR
#define OD_SCALING_DATA_DIR "../shared/data/scaling"
#endif

const char *od_scaling_data_dir(void)
{
    const char *env = getenv("OPTDYN_SCALING_DATA");
    return env && *env ? env : OD_SCALING_DATA_DIR;
}

/* Hoffmann et al. (2022), "Training Compute-Optimal Large Language Models", Approach 3 (eq. 10 of
 * the arXiv text), as rounded in the paper. */
const od_scaling_law od_scaling_hoffmann2022 = {.E = 1.69, .A = 406.4, .B = 410.7, .alpha = 0.34,
                                                .beta = 0.28};
/* The unrounded values of the TeX source, as Besiroglu et al.'s notebook uses them:
 * theta = (6.0073404, 6.0179186, 0.5267228, 0.33917084, 0.2849083). */
const od_scaling_law od_scaling_hoffmann2022_tex = {
    .E = 1.693373681, .A = 406.4010175, .B = 410.7228269, .alpha = 0.33917084, .beta = 0.2849083};
/* Besiroglu, Erdil, Barnett & You (2024), "Chinchilla Scaling: A replication attempt": the
 * Huber-likelihood estimate as printed by their notebook in log form,
 * theta = (6.17795598, 7.64273236, 0.59711196, 0.34781303, 0.36585412). */
const od_scaling_law od_scaling_besiroglu2024 = {
    .E = 1.81686404, .A = 482.0057194, .B = 2085.434196, .alpha = 0.34781303, .beta = 0.36585412};
/* ... and the values and bootstrap standard errors of the paper's table. */
const od_scaling_law od_scaling_besiroglu2024_table = {.E = 1.8172, .A = 482.01, .B = 2085.43,
                                                       .alpha = 0.3478, .beta = 0.3658};
const od_scaling_law od_scaling_besiroglu2024_se = {.E = 0.03, .A = 124.58, .B = 1293.23,
                                                    .alpha = 0.02, .beta = 0.02};

void od_scaling_law_theta(const od_scaling_law *law, double theta[OD_SCALING_NPAR])
{
    theta[0] = log(law->A);
    theta[1] = log(law->B);
    theta[2] = log(law->E);
    theta[3] = law->alpha;
    theta[4] = law->beta;
}

od_scaling_law od_scaling_law_from_theta(const double theta[OD_SCALING_NPAR])
{
    od_scaling_law l = {.A = exp(theta[0]), .B = exp(theta[1]), .E = exp(theta[2]),
                        .alpha = theta[3], .beta = theta[4]};
    return l;
}

double od_scaling_law_eval(const od_scaling_law *law, double N, double D)
{
    double u1 = log(law->A) - law->alpha * log(N), u2 = log(law->B) - law->beta * log(D);
    double u3 = log(law->E), m = fmax(u1, fmax(u2, u3));
    return exp(m) * (exp(u1 - m) + exp(u2 - m) + exp(u3 - m));
}

int od_scaling_allocate(const od_scaling_law *law, double C, od_scaling_alloc *out)
{
    const double al = law->alpha, be = law->beta;
    if (!(al > 0 && be > 0))
        OD_ERRORF(OD_ERANGE, "allocation: the exponents must be positive (alpha = %g, beta = %g)",
                  al, be);
    if (!(law->A > 0 && law->B > 0 && isfinite(law->A) && isfinite(law->B)))
        OD_ERRORF(OD_ERANGE, "allocation: A = %g and B = %g must be positive", law->A, law->B);
    if (!(C > 0 && isfinite(C))) OD_ERRORF(OD_ERANGE, "allocation: compute C = %g must be positive", C);
    const double s = al + be, lc = log(C / 6.0);
    /* in logs: log G = (log(alpha A) - log(beta B)) / (alpha + beta) */
    const double lG = (log(al) + log(law->A) - log(be) - log(law->B)) / s;
    out->C = C;
    out->a = be / s;
    out->b = al / s;
    out->G = exp(lG);
    out->N_opt = exp(lG + out->a * lc);
    out->D_opt = exp(out->b * lc - lG);
    out->tokens_per_param = exp((out->b - out->a) * lc - 2 * lG);
    out->L_opt = od_scaling_law_eval(law, out->N_opt, out->D_opt);
    return OD_OK;
}
