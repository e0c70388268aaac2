/* optdyn sde — SVAG (Li, Malladi & Arora 2021; the Adaptive-SDE code of Malladi et al. 2022) and
 * the linear and square-root scaling rules (sde.md §4-5).
 *
 * Both SVAG conventions are kept apart by the optimizer's clock: SGD-type optimizers use the
 * paper's a = l (variance factor l, eta/l, l times the steps); adaptive ones the code's a = l^2
 * (eta/l, 1-beta -> (1-beta)/l^2, eps -> eps l, l^2 times the steps), which is the square-root
 * rule with kappa = 1/l^2 whose smaller batch the r-weights emulate.
 */
#include <math.h>
#include <string.h>

#include "sde/optdyn_sde.h"

od_sde_oracle_amp od_sde_svag_coeffs(double a)
{
    const double q = sqrt(2.0 * a - 1.0);
    return (od_sde_oracle_amp){.r1 = 0.5 * (1.0 + q), .r2 = 0.5 * (1.0 - q)};
}

static int is_momentum(const od_sde_optimizer *opt)
{
    return opt == od_sde_momentum || opt == od_sde_nesterov;
}

int od_sde_svag(const od_sde_optimizer *opt, const od_sde_hp *hp, double l, od_sde_hp *hp_out,
                od_sde_oracle_amp *amp, double *step_factor)
{
    if (!(l >= 1.0) || !isfinite(l)) OD_ERRORF(OD_ERANGE, "SVAG: l = %g must be >= 1", l);
    if (opt->flags & OD_SDE_OPT_SAM || opt == od_sde_signsgd || opt == od_sde_clipsgd || is_momentum(opt))
        OD_ERRORF(OD_ENOTSUP, "SVAG is defined for sgd, rmsprop, adam and adamw, not '%s'", opt->name);
    *hp_out = *hp;
    hp_out->lr = hp->lr / l;
    if (opt->flags & OD_SDE_OPT_ADAPTIVE) {
        const double l2 = l * l;
        hp_out->beta1 = 1.0 - (1.0 - hp->beta1) / l2;
        hp_out->beta2 = 1.0 - (1.0 - hp->beta2) / l2;
        hp_out->eps = hp->eps * l;
        *amp = od_sde_svag_coeffs(l2);
        *step_factor = l2;
    } else {
        *amp = od_sde_svag_coeffs(l);
        *step_factor = l;
    }
    return OD_OK;
}

/* ---- scaling rules -------------------------------------------------------------------------------- */

static const od_param rule_params[] = {
    {"kappa", OD_PARAM_DOUBLE, 2, OD_SAME, 0, 1e6, OD_LO_OPEN, NULL, NULL,
     "batch multiplier: B -> kappa B, steps -> steps / kappa"},
};

int od_sde_rule_parse(const char *spec, od_sde_rule *out)
{
    char name[32];
    const char *rest;
    if (od_spec_split(spec, name, sizeof name, &rest) != OD_OK)
        OD_ERRORF(OD_EPARSE, "--rule '%s': expected linear:kappa=K or sqrt:kappa=K", spec);
    static const struct {
        const char *name;
        od_sde_rule_kind kind;
    } kinds[] = {{"linear", OD_SDE_RULE_LINEAR}, {"sqrt", OD_SDE_RULE_SQRT}};
    int k = -1;
    for (int i = 0; i < 2; i++)
        if (strcmp(name, kinds[i].name) == 0) k = i;
    if (k < 0) OD_ERRORF(OD_ENOTFOUND, "--rule: unknown rule '%s' (linear or sqrt)", name);
    od_params v;
    if (od_params_init(&v, rule_params, 1, 0) != OD_OK) OD_ERROR("out of memory", OD_ENOMEM);
    int st = od_params_assign_list(&v, "--rule", rest, ',');
    if (st == OD_OK && !od_params_given(&v, "kappa"))
        st = od_error(OD_EINVAL, __FILE__, __LINE__, "--rule '%s': kappa=K is required", spec);
    if (st == OD_OK) *out = (od_sde_rule){.kind = kinds[k].kind, .kappa = od_params_num(&v, "kappa")};
    od_params_free(&v);
    return st;
}

int od_sde_rule_apply(const od_sde_rule *rule, const od_sde_optimizer *opt, const od_sde_hp *hp,
                      size_t batch, uint64_t steps, od_sde_hp *hp_out, size_t *batch_out,
                      uint64_t *steps_out, od_sde_rule_report *report)
{
    const double kappa = rule->kappa;
    if (!(kappa > 0) || !isfinite(kappa)) OD_ERRORF(OD_ERANGE, "--rule: kappa = %g must be > 0", kappa);
    const double nb = kappa * (double)batch;
    if (batch == 0 || nb < 1.0 || fabs(nb - nearbyint(nb)) > 1e-9 * nb)
        OD_ERRORF(OD_ERANGE, "--rule: kappa B = %g x %zu = %g is not a whole batch size >= 1", kappa,
                  batch, nb);
    *hp_out = *hp;
    *batch_out = (size_t)nearbyint(nb);
    double ns = nearbyint((double)steps / kappa);
    *steps_out = ns < 1 ? 1 : (uint64_t)ns;
    report->limit = 0;
    report->valid = 1;
    if (rule->kind == OD_SDE_RULE_LINEAR) {
        hp_out->lr = kappa * hp->lr;
        return OD_OK;
    }
    hp_out->lr = sqrt(kappa) * hp->lr;
    const int adaptive = (opt->flags & OD_SDE_OPT_ADAPTIVE) != 0;
    const int uses_b1 = opt == od_sde_adam || opt == od_sde_adamw;
    if (adaptive) {
        report->limit = kappa * (1.0 - hp->beta2);
        if (uses_b1) report->limit = fmax(report->limit, kappa * (1.0 - hp->beta1));
        hp_out->beta2 = 1.0 - kappa * (1.0 - hp->beta2);
        if (uses_b1) hp_out->beta1 = 1.0 - kappa * (1.0 - hp->beta1);
        hp_out->eps = hp->eps / sqrt(kappa);
    } else if (is_momentum(opt)) {
        report->limit = kappa * (1.0 - hp->momentum);
        hp_out->momentum = 1.0 - kappa * (1.0 - hp->momentum);
    }
    report->valid = report->limit < 1.0;
    if (!report->valid)
        OD_ERRORF(OD_ERANGE, "--rule sqrt:kappa=%g: kappa (1 - beta) = %g >= 1 (the square-root "
                             "rule would need beta < 0; largest valid kappa is below %g)",
                  kappa, report->limit, kappa / report->limit);
    return OD_OK;
}
