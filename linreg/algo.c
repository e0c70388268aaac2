/* optdyn linreg — algorithm descriptions: SGD, heavy ball and Jain-form ASGD as linear-iteration
 * forms per eigen-mode, their outputs, checks and the `--algo` spec parser (see optdyn_linreg.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "linreg/linreg_internal.h"

#define NTAB(t) (sizeof t / sizeof t[0])

/* ---- forms ------------------------------------------------------------------------------------ */

static void form_sgd(const od_linreg_algo *a, double mult, od_linreg_form *f)
{
    *f = (od_linreg_form){.m = 1, .Abar = {1}, .g = {1}, .s = {a->lr * mult}, .c = {1}};
}

/* z = (w_t, w_{t-1}):  w' = (1 + mu) w - mu w_prev - lr G(w) */
static void form_hb(const od_linreg_algo *a, double mult, od_linreg_form *f)
{
    *f = (od_linreg_form){.m = 2,
                          .Abar = {1 + a->mu, -a->mu, 1, 0},
                          .g = {1, 0},
                          .s = {a->lr * mult, 0},
                          .c = {1, 0}};
}

/* z = (w, v), u = alpha w + (1 - alpha) v:  w' = u - delta G(u),
 * v' = beta u + (1 - beta) v - gamma G(u) */
static void form_asgd(const od_linreg_algo *a, double mult, od_linreg_form *f)
{
    const double al = a->alpha, be = a->beta;
    *f = (od_linreg_form){.m = 2,
                          .Abar = {al, 1 - al, be * al, be * (1 - al) + (1 - be)},
                          .g = {al, 1 - al},
                          .s = {a->lr * mult, a->gamma * mult},
                          .c = {1, 0}};
}

const od_linreg_method od_linreg_sgd = {"sgd", 1, form_sgd};
const od_linreg_method od_linreg_hb = {"hb", 2, form_hb};
const od_linreg_method od_linreg_asgd = {"asgd", 2, form_asgd};

/* ---- constructors and checks ------------------------------------------------------------------ */

od_linreg_algo od_linreg_algo_sgd(double lr, size_t batch)
{
    return (od_linreg_algo){.method = &od_linreg_sgd, .lr = lr, .batch = batch,
                            .output = OD_LINREG_OUT_LAST};
}

od_linreg_algo od_linreg_algo_hb(double lr, double mu, size_t batch)
{
    od_linreg_algo a = od_linreg_algo_sgd(lr, batch);
    a.method = &od_linreg_hb;
    a.mu = mu;
    return a;
}

od_linreg_algo od_linreg_algo_asgd(double alpha, double beta, double gamma, double delta, size_t batch)
{
    od_linreg_algo a = od_linreg_algo_sgd(delta, batch);
    a.method = &od_linreg_asgd;
    a.alpha = alpha;
    a.beta = beta;
    a.gamma = gamma;
    return a;
}

int od_linreg_algo_check(const od_linreg_algo *a)
{
    if (!a || !a->method) OD_ERROR("algorithm: no method", OD_EINVAL);
    if (!(a->lr > 0) || !isfinite(a->lr))
        OD_ERRORF(OD_ERANGE, "algorithm: the step size must be > 0 (got %g)", a->lr);
    if (a->batch < 1) OD_ERROR("algorithm: the batch size must be >= 1", OD_ERANGE);
    if (a->method == &od_linreg_hb && !(a->mu >= 0 && a->mu < 1))
        OD_ERRORF(OD_ERANGE, "algorithm: heavy-ball momentum mu must be in [0, 1) (got %g)", a->mu);
    if (a->method == &od_linreg_asgd) {
        if (!(a->alpha > 0 && a->alpha <= 1) || !(a->beta > 0 && a->beta <= 1))
            OD_ERRORF(OD_ERANGE, "algorithm: ASGD alpha and beta must be in (0, 1] (got %g, %g)",
                      a->alpha, a->beta);
        if (!(a->gamma > 0) || !isfinite(a->gamma))
            OD_ERRORF(OD_ERANGE, "algorithm: ASGD gamma must be > 0 (got %g)", a->gamma);
    }
    if (a->output == OD_LINREG_OUT_EMA && !(a->ema >= 0 && a->ema < 1))
        OD_ERRORF(OD_ERANGE, "algorithm: EMA decay must be in [0, 1) (got %g)", a->ema);
    if (a->output > OD_LINREG_OUT_EMA) OD_ERROR("algorithm: unknown output", OD_EINVAL);
    if (a->schedule.type && !a->schedule.type->mult) OD_ERROR("algorithm: bad schedule", OD_EINVAL);
    return OD_OK;
}

/* ---- the --algo spec -------------------------------------------------------------------------- */

static const od_param p_tail[] = {
    {"start", OD_PARAM_INT, 0, OD_SAME, 0, 1e15, 0, NULL, NULL, "first averaged step S"},
};
static const od_param p_ema[] = {
    {"alpha", OD_PARAM_DOUBLE, 0.99, OD_SAME, 0, 1, OD_HI_OPEN, NULL, NULL, "EMA decay (Li & Gu)"},
};
static const od_param p_hb[] = {
    {"mu", OD_PARAM_DOUBLE, 0.9, OD_SAME, 0, 1, OD_HI_OPEN, NULL, NULL, "momentum"},
};
static const od_param p_asgd[] = {
    {"alpha", OD_PARAM_DOUBLE, 0.9, OD_SAME, 0, 1, OD_LO_OPEN, NULL, NULL, "coupling alpha"},
    {"beta", OD_PARAM_DOUBLE, 0.1, OD_SAME, 0, 1, OD_LO_OPEN, NULL, NULL, "coupling beta"},
    {"gamma", OD_PARAM_DOUBLE, 0.1, OD_SAME, 0, INFINITY, OD_LO_OPEN, NULL, NULL, "long step gamma"},
    {"delta", OD_PARAM_DOUBLE, 0, OD_SAME, 0, INFINITY, OD_LO_OPEN, NULL, NULL,
     "short step delta (default: --lr)"},
};

typedef struct {
    const char *name;
    const od_param *params;
    size_t n;
    void (*apply)(const od_params *v, od_linreg_algo *a);
} algo_spec;

static void ap_sgd(const od_params *v, od_linreg_algo *a) { (void)v; (void)a; }
static void ap_avg(const od_params *v, od_linreg_algo *a) { (void)v; a->output = OD_LINREG_OUT_AVG; }
static void ap_tail(const od_params *v, od_linreg_algo *a)
{
    a->output = OD_LINREG_OUT_TAIL;
    a->tail_start = (uint64_t)od_params_int(v, "start");
}
static void ap_ema(const od_params *v, od_linreg_algo *a)
{
    a->output = OD_LINREG_OUT_EMA;
    a->ema = od_params_num(v, "alpha");
}
static void ap_hb(const od_params *v, od_linreg_algo *a)
{
    a->method = &od_linreg_hb;
    a->mu = od_params_num(v, "mu");
}
static void ap_asgd(const od_params *v, od_linreg_algo *a)
{
    a->method = &od_linreg_asgd;
    a->alpha = od_params_num(v, "alpha");
    a->beta = od_params_num(v, "beta");
    a->gamma = od_params_num(v, "gamma");
    if (od_params_given(v, "delta")) a->lr = od_params_num(v, "delta");
}

static const algo_spec specs[] = {
    {"sgd", NULL, 0, ap_sgd},        {"avg", NULL, 0, ap_avg},
    {"tail", p_tail, NTAB(p_tail), ap_tail}, {"ema", p_ema, NTAB(p_ema), ap_ema},
    {"hb", p_hb, NTAB(p_hb), ap_hb}, {"asgd", p_asgd, NTAB(p_asgd), ap_asgd},
};

int od_linreg_algo_parse(const char *spec, od_linreg_algo *a)
{
    char name[32];
    const char *rest;
    OD_TRY(od_spec_split(spec, name, sizeof name, &rest));
    for (size_t i = 0; i < NTAB(specs); i++) {
        if (strcmp(specs[i].name, name) != 0) continue;
        if (specs[i].n == 0 && *rest) OD_ERRORF(OD_EPARSE, "'%s': %s takes no parameters", spec, name);
        a->method = &od_linreg_sgd;
        a->output = OD_LINREG_OUT_LAST;
        if (specs[i].n == 0) {
            specs[i].apply(NULL, a);
            return OD_OK;
        }
        od_params v;
        OD_TRY(od_linreg_spec_params(spec, specs[i].params, specs[i].n, rest, &v));
        specs[i].apply(&v, a);
        od_params_free(&v);
        return OD_OK;
    }
    OD_ERRORF(OD_ENOTFOUND, "'%s': unknown algorithm '%s' (sgd, avg, tail, ema, hb, asgd)", spec, name);
}

void od_linreg_algo_describe(const od_linreg_algo *a, char *buf, size_t len)
{
    char m[96], o[48] = "", s[96] = "";
    if (a->method == &od_linreg_hb)
        snprintf(m, sizeof m, "heavy ball, lr %g, mu %g", a->lr, a->mu);
    else if (a->method == &od_linreg_asgd)
        snprintf(m, sizeof m, "ASGD (Jain form), alpha %g, beta %g, gamma %g, delta %g", a->alpha,
                 a->beta, a->gamma, a->lr);
    else
        snprintf(m, sizeof m, "SGD, lr %g", a->lr);
    if (a->output == OD_LINREG_OUT_AVG) snprintf(o, sizeof o, ", uniform average");
    if (a->output == OD_LINREG_OUT_TAIL)
        snprintf(o, sizeof o, ", tail average from %llu", (unsigned long long)a->tail_start);
    if (a->output == OD_LINREG_OUT_EMA) snprintf(o, sizeof o, ", EMA %g", a->ema);
    if (!od_linreg_schedule_is_const(&a->schedule))
        snprintf(s, sizeof s, ", schedule %s", a->schedule.type->name);
    snprintf(buf, len, "%s, B %zu%s%s", m, a->batch, o, s);
}
