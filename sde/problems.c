/* optdyn sde — the module's problem catalog.
 *
 * noisy-quadratic:d=D,lambda=L1|L2|..,s=S (issue 7): f(x) = 1/2 sum_i lambda_i x_i^2 with gradient
 * noise N(0, s^2 I) per sample (variance s^2/B at batch B), x* = 0, started at x0 = (x0, ..., x0).
 * Built on the core's od_problem_quadratic_diag with centre 0.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "sde/optdyn_sde.h"

static const od_param nq_params[] = {
    {"d", OD_PARAM_INT, 10, OD_SAME, 1, 1e6, 0, NULL, NULL, "dimension"},
    {"lambda", OD_PARAM_STRING, 0, OD_SAME, 0, 0, 0, NULL, "1",
     "curvatures lambda_i > 0: one value (broadcast) or d values separated by '|'"},
    {"s", OD_PARAM_DOUBLE, 1, OD_SAME, 0, 1e6, 0, NULL, NULL,
     "gradient-noise standard deviation per sample (variance s^2/B at batch B)"},
    {"x0", OD_PARAM_DOUBLE, 1, OD_SAME, -1e6, 1e6, 0, NULL, NULL, "initial value of every coordinate"},
};

static int nq_build(const od_params *v, uint64_t seed, od_problem **out)
{
    (void)seed;
    *out = NULL;
    const size_t d = (size_t)od_params_int(v, "d");
    double *buf = od_vec_alloc(2 * d);
    if (!buf) OD_ERRORF(OD_ENOMEM, "noisy-quadratic: out of memory (d = %zu)", d);
    double *lambda = buf, *sd = buf + d;
    size_t k = 0;
    int st = od_parse_doubles(od_params_str(v, "lambda"), '|', lambda, d, &k,
                              "noisy-quadratic: key 'lambda'");
    if (st == OD_OK && k != 1 && k != d)
        st = od_error(OD_EBADSIZE, __FILE__, __LINE__,
                      "noisy-quadratic: key 'lambda' has %zu values; give 1 (broadcast) or d = %zu", k, d);
    for (size_t i = 1; st == OD_OK && k == 1 && i < d; i++) lambda[i] = lambda[0];
    for (size_t i = 0; st == OD_OK && i < d; i++)
        if (!(lambda[i] > 0))
            st = od_error(OD_ERANGE, __FILE__, __LINE__,
                          "noisy-quadratic: key 'lambda' value %g must be > 0", lambda[i]);
    for (size_t i = 0; i < d; i++) sd[i] = od_params_num(v, "s");
    od_problem *p = NULL;
    if (st == OD_OK) st = od_problem_quadratic_diag(d, lambda, NULL, sd, &p);
    od_free(buf);
    if (st != OD_OK) return st;
    p->x0 = od_vec_alloc(d);
    if (!p->x0) {
        od_problem_free(p);
        OD_ERROR("noisy-quadratic: out of memory", OD_ENOMEM);
    }
    for (size_t i = 0; i < d; i++) p->x0[i] = od_params_num(v, "x0");
    snprintf(p->label, sizeof p->label, "noisy-quadratic: d=%zu, lambda=%s, s=%g", d,
             od_params_str(v, "lambda"), od_params_num(v, "s"));
    *out = p;
    return OD_OK;
}

static const od_problem_entry entry_noisy_quadratic = {
    "noisy-quadratic", "f = 1/2 sum lambda_i x_i^2 with gradient noise N(0, s^2 I) per sample, x* = 0",
    nq_params, sizeof nq_params / sizeof nq_params[0], nq_build};

const od_problem_entry *const od_sde_problems[] = {&entry_noisy_quadratic, NULL};
