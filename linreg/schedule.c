/* optdyn linreg — step-size schedules: a multiplier m(t) on the algorithm's step sizes (see
 * optdyn_linreg.h for each formula and its source). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "linreg/linreg_internal.h"

#define NTAB(t) (sizeof t / sizeof t[0])

/* ---- multipliers ------------------------------------------------------------------------------ */

static double m_const(const od_linreg_schedule *s, uint64_t t)
{
    (void)s;
    (void)t;
    return 1.0;
}

static double m_poly(const od_linreg_schedule *s, uint64_t t)
{
    return pow(1.0 + (double)t / s->p[0], -s->p[1]);
}

/* Length of a step-decay phase: K = floor((N - S) / ln(N - S)), at least 1. */
uint64_t od_linreg_stepdecay_K(uint64_t N, uint64_t S)
{
    if (N <= S + 2) return 1;
    double n = (double)(N - S), k = floor(n / log(n));
    return k >= 1 ? (uint64_t)k : 1;
}

static double m_stepdecay(const od_linreg_schedule *s, uint64_t t)
{
    uint64_t S = (uint64_t)s->p[0];
    if (t < S) return 1.0;
    uint64_t K = od_linreg_stepdecay_K(s->horizon, S), l = (t - S) / K + 1;
    return pow(s->p[1], -(double)l);
}

static double m_cosine(const od_linreg_schedule *s, uint64_t t)
{
    double f = s->p[0];
    if (t >= s->horizon) return f;
    return f + (1 - f) * 0.5 * (1 + cos(M_PI * (double)t / (double)s->horizon));
}

/* epfl/schedules-and-scaling src/optim/utils.py::wsd_schedule, warmup tested first, init_div 100 */
static double m_wsd(const od_linreg_schedule *s, uint64_t t)
{
    const uint64_t N = s->horizon, n_decay = (uint64_t)floor(s->p[0] * (double)N),
                   n_hold = N - n_decay, warm = (uint64_t)s->p[2];
    const double f = s->p[3];
    if (t < warm) {
        double u = (double)t / (double)warm;
        return u + (1 - u) / 100.0;
    }
    if (t < n_hold) return 1.0;
    if (t < N) {
        double u = (double)(t - n_hold) / (double)n_decay;
        return f + (1 - f) * (s->p[1] == 0 ? 1 - u : 1 - sqrt(u));
    }
    return f;
}

static double m_piecewise(const od_linreg_schedule *s, uint64_t t)
{
    double m = 1.0;
    for (size_t i = 0; i < s->n_pieces && (double)t >= s->at[i]; i++) m = s->val[i];
    return m;
}

/* ---- the types -------------------------------------------------------------------------------- */

static const od_param p_poly[] = {
    {"t0", OD_PARAM_DOUBLE, 100, OD_SAME, 0, INFINITY, OD_LO_OPEN, NULL, NULL, "time scale t0"},
    {"p", OD_PARAM_DOUBLE, 1, OD_SAME, 0, 10, 0, NULL, NULL, "power p"},
};
static const od_param p_stepdecay[] = {
    {"start", OD_PARAM_INT, 0, OD_SAME, 0, 1e15, 0, NULL, NULL, "steps at the initial step size S"},
    {"factor", OD_PARAM_DOUBLE, 2, OD_SAME, 1, 1e6, OD_LO_OPEN, NULL, NULL, "decay factor per phase"},
};
static const od_param p_cosine[] = {
    {"final", OD_PARAM_DOUBLE, 0, OD_SAME, 0, 1, 0, NULL, NULL, "final multiplier f"},
};
static const od_param p_wsd[] = {
    {"cool", OD_PARAM_DOUBLE, 0.2, OD_SAME, 0, 1, OD_LO_OPEN, NULL, NULL,
     "cooldown fraction of the steps"},
    {"shape", OD_PARAM_CHOICE, 0, OD_SAME, 0, 0, 0, "linear|1-sqrt", NULL, "cooldown shape"},
    {"warmup", OD_PARAM_INT, 0, OD_SAME, 0, 1e15, 0, NULL, NULL, "warmup steps (from 1/100)"},
    {"final", OD_PARAM_DOUBLE, 0, OD_SAME, 0, 1, 0, NULL, NULL, "final multiplier f"},
};
static const od_param p_piecewise[] = {
    {"at", OD_PARAM_STRING, 0, OD_SAME, 0, 0, 0, NULL, "", "breakpoints t1|t2|... (increasing)"},
    {"mult", OD_PARAM_STRING, 0, OD_SAME, 0, 0, 0, NULL, "", "multipliers m1|m2|... (> 0)"},
};

const od_linreg_schedule_type od_linreg_sched_const = {"const", "constant step", NULL, 0, m_const};
const od_linreg_schedule_type od_linreg_sched_poly = {
    "poly", "polynomial decay 1/(1 + t/t0)^p", p_poly, NTAB(p_poly), m_poly};
const od_linreg_schedule_type od_linreg_sched_stepdecay = {
    "stepdecay", "geometric step decay of Wu et al. (ICML 2022)", p_stepdecay, NTAB(p_stepdecay),
    m_stepdecay};
const od_linreg_schedule_type od_linreg_sched_cosine = {
    "cosine", "cosine decay to `final` at the horizon", p_cosine, NTAB(p_cosine), m_cosine};
const od_linreg_schedule_type od_linreg_sched_wsd = {
    "wsd", "warmup-stable-decay (Hägele et al. 2024)", p_wsd, NTAB(p_wsd), m_wsd};
const od_linreg_schedule_type od_linreg_sched_piecewise = {
    "piecewise", "piecewise-constant multipliers", p_piecewise, NTAB(p_piecewise), m_piecewise};

const od_linreg_schedule_type *const od_linreg_schedule_types[] = {
    &od_linreg_sched_const, &od_linreg_sched_poly,   &od_linreg_sched_stepdecay,
    &od_linreg_sched_cosine, &od_linreg_sched_wsd,   &od_linreg_sched_piecewise, NULL};

double od_linreg_schedule_mult(const od_linreg_schedule *s, uint64_t t)
{
    return s && s->type ? s->type->mult(s, t) : 1.0;
}

int od_linreg_schedule_is_const(const od_linreg_schedule *s)
{
    return !s || !s->type || s->type == &od_linreg_sched_const;
}

static int parse_pieces(const char *spec, const od_params *v, od_linreg_schedule *s)
{
    size_t na, nm;
    OD_TRY(od_parse_doubles(od_params_str(v, "at"), '|', s->at, OD_LINREG_SCHED_MAXP, &na, spec));
    OD_TRY(od_parse_doubles(od_params_str(v, "mult"), '|', s->val, OD_LINREG_SCHED_MAXP, &nm, spec));
    if (na != nm || na == 0)
        OD_ERRORF(OD_EINVAL, "'%s': 'at' and 'mult' need the same number (>= 1) of values", spec);
    for (size_t i = 0; i < na; i++) {
        if (!(s->val[i] > 0) || s->at[i] < 0 || (i && !(s->at[i] > s->at[i - 1])))
            OD_ERRORF(OD_ERANGE, "'%s': breakpoints must increase from 0 and multipliers be > 0", spec);
    }
    s->n_pieces = na;
    return OD_OK;
}

int od_linreg_schedule_parse(const char *spec, uint64_t horizon, od_linreg_schedule *out)
{
    char name[32];
    const char *rest;
    memset(out, 0, sizeof *out);
    OD_TRY(od_spec_split(spec, name, sizeof name, &rest));
    const od_linreg_schedule_type *t = NULL;
    for (size_t i = 0; od_linreg_schedule_types[i]; i++)
        if (strcmp(od_linreg_schedule_types[i]->name, name) == 0) t = od_linreg_schedule_types[i];
    if (!t)
        OD_ERRORF(OD_ENOTFOUND, "'%s': unknown schedule '%s' (const, poly, stepdecay, cosine, wsd, "
                                "piecewise)", spec, name);
    if (t->n_params == 0 && *rest) OD_ERRORF(OD_EPARSE, "'%s': %s takes no parameters", spec, name);
    out->type = t;
    out->horizon = horizon;
    if (t->n_params == 0) return OD_OK;
    od_params v;
    OD_TRY(od_linreg_spec_params(spec, t->params, t->n_params, rest, &v));
    for (size_t i = 0; i < t->n_params && i < 8; i++) out->p[i] = v.num[i];
    int st = OD_OK;
    if (t == &od_linreg_sched_piecewise) st = parse_pieces(spec, &v, out);
    if (st == OD_OK && t == &od_linreg_sched_stepdecay && out->p[0] >= (double)horizon)
        st = od_error(OD_ERANGE, __FILE__, __LINE__, "'%s': start must be below the number of "
                                                     "steps %llu", spec, (unsigned long long)horizon);
    od_params_free(&v);
    return st;
}
