/* optdyn sde — the optimizer zoo: static const vtables over od_problem (sde.md §2).
 *
 * Every step reads one stochastic gradient g_k at x_k from the caller's stream, which the caller
 * has positioned at (path, step).  The SAM family draws its ascent and descent gradients from the
 * same minibatch by evaluating both on copies of the stream at the same position.  SVAG replaces
 * g_k by r1 g(batch 1) + r2 g(batch 2), the two batches drawn one after the other at the same
 * position (distinct sub-streams of one address); r2 = 0 draws one batch only, so SVAG with l = 1
 * is the plain optimizer on the same numbers.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sde/sde_impl.h"

od_sde_hp od_sde_hp_default(void)
{
    return (od_sde_hp){.lr = 0.01, .momentum = 0.9, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8,
                       .eps_inside = 0, .bias_correction = 1, .weight_decay = 0.01, .rho = 0.05,
                       .clip = 1.0};
}

/* ---- hyperparameter tables -------------------------------------------------------------------- */

#define HP_MOMENTUM {"momentum", OD_PARAM_DOUBLE, 0.9, OD_SAME, 0, 1, OD_HI_OPEN, NULL, NULL, \
                     "momentum mu (heavy ball, PyTorch form b <- mu b + g, x <- x - lr b)"}
#define HP_BETA1 {"beta1", OD_PARAM_DOUBLE, 0.9, OD_SAME, 0, 1, OD_HI_OPEN, NULL, NULL, \
                  "decay of the first moment m <- beta1 m + (1-beta1) g"}
#define HP_BETA2 {"beta2", OD_PARAM_DOUBLE, 0.999, OD_SAME, 0, 1, OD_HI_OPEN, NULL, NULL, \
                  "decay of the second moment v <- beta2 v + (1-beta2) g^2 (RMSprop's decay)"}
#define HP_EPS {"eps", OD_PARAM_DOUBLE, 1e-8, OD_SAME, 0, 1e6, 0, NULL, NULL, \
                "epsilon of the denominator sqrt(v^) + eps (or sqrt(v^ + eps) with eps_inside=1)"}
#define HP_EPS_IN {"eps_inside", OD_PARAM_BOOL, 0, OD_SAME, 0, 1, 0, NULL, NULL, \
                   "1: eps under the square root, sqrt(v^ + eps); 0: torch, sqrt(v^) + eps"}
#define HP_BIAS {"bias_correction", OD_PARAM_BOOL, 1, OD_SAME, 0, 1, 0, NULL, NULL, \
                 "1: torch semantics m^ = m/(1-beta1^k), v^ = v/(1-beta2^k); 0: raw m, v"}
#define HP_RHO {"rho", OD_PARAM_DOUBLE, 0.05, OD_SAME, 0, 1e6, 0, NULL, NULL, \
                "SAM ascent radius rho"}

static const od_param hp_momentum[] = {HP_MOMENTUM};
static const od_param hp_rmsprop[] = {HP_BETA2, HP_EPS, HP_EPS_IN, HP_BIAS};
static const od_param hp_adam[] = {HP_BETA1, HP_BETA2, HP_EPS, HP_EPS_IN, HP_BIAS};
static const od_param hp_adamw[] = {
    HP_BETA1, HP_BETA2, HP_EPS, HP_EPS_IN, HP_BIAS,
    {"weight_decay", OD_PARAM_DOUBLE, 0.01, OD_SAME, 0, 1e6, 0, NULL, NULL,
     "decoupled weight decay: x <- (1 - lr weight_decay) x before the Adam step"}};
static const od_param hp_sam[] = {HP_RHO};
static const od_param hp_clip[] = {
    {"clip", OD_PARAM_DOUBLE, 1.0, OD_SAME, 0, INFINITY, OD_LO_OPEN | OD_HI_OPEN, NULL, NULL,
     "clipping threshold tau: x <- x - lr min(1, tau/||g||) g"}};

/* Field of od_sde_hp behind each key (a table, not an if-chain). */
typedef struct {
    const char *key;
    size_t offset;
    int is_int;
} hp_field;

static const hp_field hp_fields[] = {
    {"momentum", offsetof(od_sde_hp, momentum), 0},
    {"beta1", offsetof(od_sde_hp, beta1), 0},
    {"beta2", offsetof(od_sde_hp, beta2), 0},
    {"eps", offsetof(od_sde_hp, eps), 0},
    {"eps_inside", offsetof(od_sde_hp, eps_inside), 1},
    {"bias_correction", offsetof(od_sde_hp, bias_correction), 1},
    {"weight_decay", offsetof(od_sde_hp, weight_decay), 0},
    {"rho", offsetof(od_sde_hp, rho), 0},
    {"clip", offsetof(od_sde_hp, clip), 0},
};

static const hp_field *field_of(const char *key)
{
    for (size_t i = 0; i < sizeof hp_fields / sizeof hp_fields[0]; i++)
        if (strcmp(hp_fields[i].key, key) == 0) return &hp_fields[i];
    return NULL;
}

static double field_get(const od_sde_hp *hp, const hp_field *f)
{
    const char *base = (const char *)hp + f->offset;
    if (f->is_int) {
        int v;
        memcpy(&v, base, sizeof v);
        return v;
    }
    double v;
    memcpy(&v, base, sizeof v);
    return v;
}

static void field_set(od_sde_hp *hp, const hp_field *f, double value)
{
    char *base = (char *)hp + f->offset;
    if (f->is_int) {
        int v = (int)value;
        memcpy(base, &v, sizeof v);
    } else {
        memcpy(base, &value, sizeof value);
    }
}

int od_sde_hp_parse(const od_sde_optimizer *opt, const char *list, od_sde_hp *hp)
{
    od_params v;
    if (od_params_init(&v, opt->params, opt->n_params, 0) != OD_OK)
        OD_ERROR("out of memory", OD_ENOMEM);
    char where[64];
    snprintf(where, sizeof where, "--hp (optimizer '%s')", opt->name);
    int st = od_params_assign_list(&v, where, list ? list : "", ',');
    for (size_t i = 0; st == OD_OK && i < opt->n_params; i++) {
        if (!v.given[i]) continue;
        const hp_field *f = field_of(opt->params[i].name);
        if (!f) {
            st = od_error(OD_EINTERNAL, __FILE__, __LINE__, "hyperparameter '%s' has no field",
                          opt->params[i].name);
            break;
        }
        field_set(hp, f, v.num[i]);
    }
    od_params_free(&v);
    return st;
}

int od_sde_hp_check(const od_sde_optimizer *opt, const od_sde_hp *hp)
{
    if (!(hp->lr > 0) || !isfinite(hp->lr))
        OD_ERRORF(OD_ERANGE, "optimizer '%s': lr = %g must be a positive finite number", opt->name,
                  hp->lr);
    for (size_t i = 0; i < opt->n_params; i++) {
        const od_param *q = &opt->params[i];
        const hp_field *f = field_of(q->name);
        if (!f || q->type == OD_PARAM_BOOL) continue;
        double x = field_get(hp, f);
        int lo_bad = (q->flags & OD_LO_OPEN) ? !(x > q->lo) : !(x >= q->lo);
        int hi_bad = (q->flags & OD_HI_OPEN) ? !(x < q->hi) : !(x <= q->hi);
        if (lo_bad || hi_bad) {
            char r[64];
            od_param_range_str(q, r, sizeof r);
            OD_ERRORF(OD_ERANGE, "optimizer '%s': %s = %g is outside %s", opt->name, q->name, x, r);
        }
    }
    return OD_OK;
}

/* ---- the oracle --------------------------------------------------------------------------------- */

/* g = the (possibly SVAG-amplified) stochastic gradient at x; tmp: d doubles. */
static int oracle(const od_sde_step_ctx *c, const double *x, double *g, double *tmp)
{
    const od_problem *p = c->problem;
    if (c->batch == 0) return od_problem_grad(p, x, g, NULL);
    OD_TRY(od_problem_batch_grad(p, x, c->batch, c->stream, g, NULL));
    if (!c->amp || (c->amp->r1 == 1.0 && c->amp->r2 == 0.0)) return OD_OK;
    OD_TRY(od_problem_batch_grad(p, x, c->batch, c->stream, tmp, NULL));
    const double r1 = c->amp->r1, r2 = c->amp->r2;
    for (size_t i = 0; i < p->dim; i++) g[i] = r1 * g[i] + r2 * tmp[i];
    return OD_OK;
}

static size_t size_zero(size_t d) { (void)d; return 0; }
static size_t size_d(size_t d) { return d; }
static size_t size_2d(size_t d) { return 2 * d; }
static size_t size_3d(size_t d) { return 3 * d; }

/* ---- SGD, sign-SGD, clipped SGD ---------------------------------------------------------------- */

static int sgd_step(const od_sde_hp *hp, const od_sde_step_ctx *c, double *x, double *state)
{
    (void)state;
    const size_t d = c->problem->dim;
    double *g = c->work;
    OD_TRY(oracle(c, x, g, g + d));
    od_axpy(d, -hp->lr, g, x);
    return OD_OK;
}

static int signsgd_step(const od_sde_hp *hp, const od_sde_step_ctx *c, double *x, double *state)
{
    (void)state;
    const size_t d = c->problem->dim;
    double *g = c->work;
    OD_TRY(oracle(c, x, g, g + d));
    for (size_t i = 0; i < d; i++) x[i] -= hp->lr * (double)((g[i] > 0) - (g[i] < 0));
    return OD_OK;
}

static int clipsgd_step(const od_sde_hp *hp, const od_sde_step_ctx *c, double *x, double *state)
{
    (void)state;
    const size_t d = c->problem->dim;
    double *g = c->work;
    OD_TRY(oracle(c, x, g, g + d));
    const double n = od_nrm2(d, g), f = n > hp->clip ? hp->clip / n : 1.0;
    od_axpy(d, -hp->lr * f, g, x);
    return OD_OK;
}

/* ---- momentum (PyTorch form) ------------------------------------------------------------------- */

static int momentum_common(const od_sde_hp *hp, const od_sde_step_ctx *c, double *x, double *b,
                           int nesterov)
{
    const size_t d = c->problem->dim;
    double *g = c->work;
    OD_TRY(oracle(c, x, g, g + d));
    const double mu = hp->momentum, lr = hp->lr;
    for (size_t i = 0; i < d; i++) {
        b[i] = mu * b[i] + g[i];
        x[i] -= lr * (nesterov ? g[i] + mu * b[i] : b[i]);
    }
    return OD_OK;
}

static int momentum_step(const od_sde_hp *hp, const od_sde_step_ctx *c, double *x, double *state)
{
    return momentum_common(hp, c, x, state, 0);
}

static int nesterov_step(const od_sde_hp *hp, const od_sde_step_ctx *c, double *x, double *state)
{
    return momentum_common(hp, c, x, state, 1);
}

/* ---- RMSprop, Adam, AdamW ---------------------------------------------------------------------- */

double od_sde_impl_bias(const od_sde_hp *hp, double beta, uint64_t k)
{
    return hp->bias_correction ? 1.0 - pow(beta, (double)k + 1.0) : 1.0;
}

/* One kernel, specialised by the compiler for each (has_m, eps_in): torch's arithmetic,
 * denom = sqrt(v)/sqrt(bc2) + eps, x <- shrink x - (lr/bc1) (m/denom). */
static inline int adam_kernel(size_t d, const double *restrict g, double *restrict x,
                              double *restrict m, double *restrict v, double beta1, double b2,
                              double step, double shrink, double bc2, double sbc2, double eps,
                              int has_m, int eps_in)
{
    uint64_t bad = 0;
    for (size_t i = 0; i < d; i++) {
        double num = g[i];
        if (has_m) {
            m[i] = beta1 * m[i] + (1.0 - beta1) * g[i];
            num = m[i];
        }
        v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
        const double den = eps_in ? sqrt(v[i] / bc2 + eps) : sqrt(v[i]) / sbc2 + eps;
        x[i] = shrink * x[i] - step * (num / den);
        bad |= od_sde_impl_nonfinite(x[i]);
    }
    return !bad;
}

int od_sde_impl_adam_update(const od_sde_hp *hp, size_t d, const double *g, double bc1, double bc2,
                            double beta1, double decay, double *x, double *m, double *v)
{
    const double b2 = hp->beta2, step = hp->lr / bc1, shrink = 1.0 - hp->lr * decay;
    const double sbc2 = sqrt(bc2), eps = hp->eps;
    if (m && !hp->eps_inside) return adam_kernel(d, g, x, m, v, beta1, b2, step, shrink, bc2, sbc2, eps, 1, 0);
    if (m) return adam_kernel(d, g, x, m, v, beta1, b2, step, shrink, bc2, sbc2, eps, 1, 1);
    if (!hp->eps_inside) return adam_kernel(d, g, x, NULL, v, beta1, b2, step, shrink, bc2, sbc2, eps, 0, 0);
    return adam_kernel(d, g, x, NULL, v, beta1, b2, step, shrink, bc2, sbc2, eps, 0, 1);
}

/* The Adam family on state (m, v): beta1 = 0 without m is RMSprop.  decay: AdamW's factor. */
static int adam_common(const od_sde_hp *hp, const od_sde_step_ctx *c, double *x, double *m,
                       double *v, double beta1, double decay)
{
    const size_t d = c->problem->dim;
    double *g = c->work;
    OD_TRY(oracle(c, x, g, g + d));
    const double bc1 = m ? od_sde_impl_bias(hp, beta1, c->k) : 1.0;
    od_sde_impl_adam_update(hp, d, g, bc1, od_sde_impl_bias(hp, hp->beta2, c->k), beta1, decay, x,
                            m, v);
    return OD_OK;   /* the driver checks finiteness */
}

static int rmsprop_step(const od_sde_hp *hp, const od_sde_step_ctx *c, double *x, double *state)
{
    return adam_common(hp, c, x, NULL, state, 0.0, 0.0);
}

static int adam_step(const od_sde_hp *hp, const od_sde_step_ctx *c, double *x, double *state)
{
    return adam_common(hp, c, x, state, state + c->problem->dim, hp->beta1, 0.0);
}

static int adamw_step(const od_sde_hp *hp, const od_sde_step_ctx *c, double *x, double *state)
{
    return adam_common(hp, c, x, state, state + c->problem->dim, hp->beta1, hp->weight_decay);
}

/* ---- SAM family ---------------------------------------------------------------------------------- */

enum { SAM_NORMALIZED, SAM_UNNORMALIZED, SAM_DETERMINISTIC };

/* x <- x - lr grad f_B(x + rho g / n), g = grad f_B(x), the same batch for both gradients. */
static int sam_common(const od_sde_hp *hp, const od_sde_step_ctx *c, double *x, int kind)
{
    const od_problem *p = c->problem;
    const size_t d = p->dim;
    double *g = c->work, *y = g + d, *full = y + d;
    od_stream s0;
    if (c->batch) s0 = *c->stream;
    od_sde_step_ctx c1 = *c;
    c1.amp = NULL;
    OD_TRY(oracle(&c1, x, g, NULL));
    double n = 1.0;
    if (kind == SAM_NORMALIZED) n = od_nrm2(d, g);
    if (kind == SAM_DETERMINISTIC) {
        OD_TRY(od_problem_grad(p, x, full, NULL));
        n = od_nrm2(d, full);
    }
    const double a = n > 0 ? hp->rho / n : 0.0;
    if (!(n > 0) && c->zero_norm_events) (*c->zero_norm_events)++;
    for (size_t i = 0; i < d; i++) y[i] = x[i] + a * g[i];
    if (c->batch) *c->stream = s0;   /* the same minibatch again */
    OD_TRY(oracle(&c1, y, g, NULL));
    od_axpy(d, -hp->lr, g, x);
    return OD_OK;
}

static int sam_step(const od_sde_hp *hp, const od_sde_step_ctx *c, double *x, double *state)
{
    (void)state;
    return sam_common(hp, c, x, SAM_NORMALIZED);
}

static int usam_step(const od_sde_hp *hp, const od_sde_step_ctx *c, double *x, double *state)
{
    (void)state;
    return sam_common(hp, c, x, SAM_UNNORMALIZED);
}

static int dnsam_step(const od_sde_hp *hp, const od_sde_step_ctx *c, double *x, double *state)
{
    (void)state;
    return sam_common(hp, c, x, SAM_DETERMINISTIC);
}

/* ---- the vtables -------------------------------------------------------------------------------- */

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const od_sde_optimizer t_sgd = {
    "sgd", "SGD: x <- x - lr g", NULL, 0, size_zero, size_2d, sgd_step, 0};
static const od_sde_optimizer t_momentum = {
    "momentum", "heavy-ball momentum, PyTorch form: b <- mu b + g, x <- x - lr b",
    hp_momentum, N_OF(hp_momentum), size_d, size_2d, momentum_step, 0};
static const od_sde_optimizer t_nesterov = {
    "nesterov", "Nesterov momentum, PyTorch form: b <- mu b + g, x <- x - lr (g + mu b)",
    hp_momentum, N_OF(hp_momentum), size_d, size_2d, nesterov_step, 0};
static const od_sde_optimizer t_rmsprop = {
    "rmsprop", "RMSprop: v <- beta2 v + (1-beta2) g^2, x <- x - lr g/(sqrt(v^) + eps) "
    "(bias_correction=1 is torch Adam with betas (0, beta2))",
    hp_rmsprop, N_OF(hp_rmsprop), size_d, size_2d, rmsprop_step, OD_SDE_OPT_ADAPTIVE};
static const od_sde_optimizer t_adam = {
    "adam", "Adam (torch semantics): x <- x - lr m^/(sqrt(v^) + eps)",
    hp_adam, N_OF(hp_adam), size_2d, size_2d, adam_step, OD_SDE_OPT_ADAPTIVE};
static const od_sde_optimizer t_adamw = {
    "adamw", "AdamW: x <- (1 - lr wd) x, then the Adam step with the gradient at the old x",
    hp_adamw, N_OF(hp_adamw), size_2d, size_2d, adamw_step, OD_SDE_OPT_ADAPTIVE};
static const od_sde_optimizer t_sam = {
    "sam", "SAM: x <- x - lr grad f_B(x + rho g/||g||), one minibatch for both gradients",
    hp_sam, N_OF(hp_sam), size_zero, size_3d, sam_step, OD_SDE_OPT_SAM};
static const od_sde_optimizer t_usam = {
    "usam", "USAM: x <- x - lr grad f_B(x + rho g), one minibatch for both gradients",
    hp_sam, N_OF(hp_sam), size_zero, size_3d, usam_step, OD_SDE_OPT_SAM};
static const od_sde_optimizer t_dnsam = {
    "dnsam", "DNSAM: x <- x - lr grad f_B(x + rho g/||grad f(x)||), one minibatch for both",
    hp_sam, N_OF(hp_sam), size_zero, size_3d, dnsam_step, OD_SDE_OPT_SAM};
static const od_sde_optimizer t_signsgd = {
    "signsgd", "sign-SGD: x <- x - lr sign(g)", NULL, 0, size_zero, size_2d, signsgd_step, 0};
static const od_sde_optimizer t_clipsgd = {
    "clipsgd", "clipped SGD: x <- x - lr min(1, clip/||g||) g", hp_clip, N_OF(hp_clip), size_zero,
    size_2d, clipsgd_step, 0};

const od_sde_optimizer *const od_sde_sgd = &t_sgd, *const od_sde_momentum = &t_momentum,
                              *const od_sde_nesterov = &t_nesterov, *const od_sde_rmsprop = &t_rmsprop,
                              *const od_sde_adam = &t_adam, *const od_sde_adamw = &t_adamw,
                              *const od_sde_sam = &t_sam, *const od_sde_usam = &t_usam,
                              *const od_sde_dnsam = &t_dnsam, *const od_sde_signsgd = &t_signsgd,
                              *const od_sde_clipsgd = &t_clipsgd;

const od_sde_optimizer *const od_sde_optimizers[] = {
    &t_sgd, &t_momentum, &t_nesterov, &t_rmsprop, &t_adam, &t_adamw,
    &t_sam, &t_usam, &t_dnsam, &t_signsgd, &t_clipsgd, NULL};

const od_sde_optimizer *od_sde_optimizer_find(const char *name)
{
    for (size_t i = 0; name && od_sde_optimizers[i]; i++)
        if (strcmp(od_sde_optimizers[i]->name, name) == 0) return od_sde_optimizers[i];
    return NULL;
}

double od_sde_clock(const od_sde_optimizer *opt, const od_sde_hp *hp)
{
    if (opt->flags & OD_SDE_OPT_ADAPTIVE) return hp->lr * hp->lr;
    if (opt == od_sde_momentum || opt == od_sde_nesterov) return hp->lr / (1.0 - hp->momentum);
    return hp->lr;
}

/* ---- the handle ----------------------------------------------------------------------------------- */

struct od_sde_opt {
    const od_sde_optimizer *type;
    od_sde_hp hp;
    size_t d, ns, nw;
    uint64_t k;
    od_sde_oracle_amp amp;
    int use_amp;
    unsigned long zero_norm;
    double *state, *work;   /* one block */
};

int od_sde_opt_alloc(const od_sde_optimizer *type, const od_sde_hp *hp, size_t d, od_sde_opt **out)
{
    *out = NULL;
    if (!type || !hp || d == 0) OD_ERROR("od_sde_opt_alloc: NULL type or hp, or d = 0", OD_EINVAL);
    OD_TRY(od_sde_hp_check(type, hp));
    od_sde_opt *o = calloc(1, sizeof *o);
    if (!o) OD_ERROR("out of memory", OD_ENOMEM);
    o->type = type;
    o->hp = *hp;
    o->d = d;
    o->ns = type->state_size(d);
    o->nw = type->work_size(d);
    o->state = od_vec_alloc(o->ns + o->nw);
    if (!o->state) {
        free(o);
        OD_ERRORF(OD_ENOMEM, "out of memory for optimizer '%s' (d = %zu)", type->name, d);
    }
    o->work = o->state + o->ns;
    *out = o;
    return OD_OK;
}

int od_sde_opt_step(od_sde_opt *o, const od_problem *p, size_t batch, od_stream *s, double *x)
{
    if (p->dim != o->d)
        OD_ERRORF(OD_EBADSIZE, "optimizer '%s' was allocated for d = %zu, problem has d = %zu",
                  o->type->name, o->d, p->dim);
    if (batch && !s) OD_ERROR("od_sde_opt_step: a minibatch needs a stream", OD_EINVAL);
    od_sde_step_ctx c = {.problem = p, .batch = batch, .stream = s, .k = o->k,
                         .amp = o->use_amp ? &o->amp : NULL, .work = o->work,
                         .zero_norm_events = &o->zero_norm};
    OD_TRY(o->type->step(&o->hp, &c, x, o->state));
    o->k++;
    return OD_OK;
}

void od_sde_opt_reset(od_sde_opt *o)
{
    od_zero(o->ns, o->state);
    o->k = 0;
    o->zero_norm = 0;
}

uint64_t od_sde_opt_steps(const od_sde_opt *o) { return o->k; }
double *od_sde_opt_state(od_sde_opt *o) { return o->state; }
unsigned long od_sde_opt_zero_norm_events(const od_sde_opt *o) { return o->zero_norm; }

void od_sde_opt_set_amp(od_sde_opt *o, const od_sde_oracle_amp *amp)
{
    o->use_amp = amp != NULL;
    if (amp) o->amp = *amp;
}

void od_sde_opt_free(od_sde_opt *o)
{
    if (!o) return;
    od_free(o->state);
    free(o);
}
