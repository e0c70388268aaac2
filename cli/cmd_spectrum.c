/* optdyn cli — `optdyn spectrum`: eigenvalues, densities and traces of a symmetric operator given
 * by a Matrix Market file, a random-matrix model or a problem's Hessian (theory sheet spectra.md).
 * Every input is checked before any work; bad input prints one line and exits 2 with nothing
 * written. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "spectra/optdyn_spectra.h"

#define CMD "spectrum"
enum { MAX_BLOCKS = 64 };

typedef struct {
    const char *matrix, *model, *method, *which, *grid, *function, *blocks, *at, *norm;
    long k, steps, probes, train_steps, exact_max;
    double tol, sigma;
    int pyhessian, logy;
    od_cli_common c;
} spec_opts;

typedef enum { M_LANCZOS, M_SLQ, M_KPM, M_HUTCH, M_EXACT } method_id;
static const char *const methods[] = {"lanczos", "slq", "kpm", "hutchinson", "exact", NULL};
static const char *const whiches[] = {"top", "bottom", "both", "magnitude", NULL};
static const char *const ats[] = {"init", "zero", "trained", NULL};
static const char *const norms[] = {"none", "max", "tenth", NULL};

static int word(const char *const *list, const char *w)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], w) == 0) return i;
    return -1;
}

/* ---- output -------------------------------------------------------------------------------------- */

typedef struct {
    od_table *eig, *dens, *trace;
    double *x, *y;           /* density (borrowed from a density / KPM grid) */
    size_t n;
    double trace_v, trace_se, logdet, logdet_se, mass_outside, sigma, js0;
    int have_trace, have_logdet;
    const double *ev, *res;
    size_t nev;
    uint64_t matvecs;
    cJSON *extra;
    char blk[MAX_BLOCKS][32];   /* block column names */
    size_t nblk;
} spec_out;

static cJSON *num_array(const double *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
    return a;
}

static int fail_status(int st)
{
    switch (st) {
    case OD_EPARSE: case OD_ERANGE: case OD_ENOTFOUND: case OD_EINVAL: case OD_EIO: case OD_EBADSIZE:
    case OD_ENOTSUP:
        return OD_EXIT_USAGE;
    default:
        return OD_EXIT_ERROR;
    }
}

/* Parses "lo:hi:n". */
static int parse_grid(const char *g, double *lo, double *hi, long *n)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", g);
    char *a = strchr(buf, ':'), *b = a ? strchr(a + 1, ':') : NULL;
    if (!a || !b) return -1;
    *a = *b = 0;
    if (od_parse_double(buf, lo) || od_parse_double(a + 1, hi) || od_parse_long(b + 1, n)) return -1;
    return (*hi > *lo && *n >= 2 && *n <= 1000000) ? 0 : -1;
}

/* Full-batch gradient descent from x with step lr (1/λ_max at x when lr <= 0). */
static int train(const od_problem *p, double *x, long steps)
{
    od_spectra_linop *H = NULL;
    OD_TRY(od_spectra_linop_hessian(p, x, &H));
    od_spectra_eigs_params ep = od_spectra_eigs_default_params();
    ep.tol = 1e-6;
    od_spectra_eigs_result er;
    int st = od_spectra_eigs(H, &ep, &er);
    const double lam = st == OD_OK ? er.values[0] : NAN;
    od_spectra_eigs_result_free(&er);
    od_spectra_linop_free(H);
    if (st != OD_OK) return st;
    if (!(lam > 0)) OD_ERRORF(OD_ENUMERIC, "--at trained: λ_max = %g at the start is not positive", lam);
    double *g = od_vec_alloc(p->dim);
    if (!g) OD_ERROR("out of memory", OD_ENOMEM);
    for (long t = 0; t < steps && st == OD_OK; t++) {
        st = od_problem_grad(p, x, g, NULL);
        od_axpy(p->dim, -1.0 / lam, g, x);
        if (st == OD_OK && !od_all_finite(p->dim, x))
            st = od_error(OD_EDIVERGED, __FILE__, __LINE__, "--at trained: gradient descent diverged at step %ld", t);
    }
    od_free(g);
    return st;
}

/* Builds the operator: a Matrix Market file, a random-matrix model, or a problem's Hessian. */
static int build_operator(const spec_opts *o, od_problem **prob, double **point, od_spectra_linop **op)
{
    *prob = NULL;
    *point = NULL;
    if (o->matrix) return od_spectra_mm_read(o->matrix, op);
    int st = od_spectra_model_from_spec(o->model, (uint64_t)o->c.seed, op);
    if (st != OD_ENOTFOUND) return st;
    od_clear_error();
    OD_TRY(od_exp_problem(o->model, (uint64_t)o->c.seed, prob));
    const od_problem *p = *prob;
    *point = od_vec_alloc(p->dim);
    if (!*point) OD_ERROR("out of memory", OD_ENOMEM);
    const int at = word(ats, o->at);
    if (at != 1 && p->x0) od_copy(p->dim, p->x0, *point);
    if (at == 2) OD_TRY(train(p, *point, o->train_steps));
    return od_spectra_linop_hessian(p, *point, op);
}

static int density_table(spec_out *so, const char *name, const double *x, const double *y, size_t n)
{
    so->dens = od_table_alloc(name);
    if (!so->dens) return OD_ENOMEM;
    od_table_add_double(so->dens, "x", x, n);
    od_table_add_double(so->dens, "density", y, n);
    so->x = (double *)x;
    so->y = (double *)y;
    so->n = n;
    return OD_OK;
}

/* ---- the methods ------------------------------------------------------------------------------- */

static int run_method(const spec_opts *o, method_id m, od_spectra_linop *op, const od_problem *prob,
                      spec_out *so, od_spectra_eigs_result *er, od_spectra_slq_result *sr,
                      od_spectra_density *den, od_spectra_kpm_result *kr, double **bufs)
{
    const size_t d = op->dim;
    double lo = NAN, hi = NAN;
    long gn = 0;
    if (o->grid) parse_grid(o->grid, &lo, &hi, &gn);
    od_spectra_smooth_params sm = od_spectra_smooth_default_params();
    if (o->grid) sm.lo = lo, sm.hi = hi, sm.n = (size_t)gn;
    if (o->sigma > 0) sm.sigma = o->sigma;
    if (o->pyhessian) {
        sm.mode = OD_SPECTRA_SMOOTH_PYHESSIAN;
        if (!o->grid) sm.n = 10000;
    }
    const uint64_t mv0 = op->matvecs;
    int st = OD_OK;
    if (m == M_LANCZOS) {
        od_spectra_eigs_params ep = od_spectra_eigs_default_params();
        ep.k = (size_t)o->k;
        ep.which = (od_spectra_which)word(whiches, o->which);
        ep.tol = o->tol > 0 ? o->tol : 1e-10;
        ep.seed = (uint64_t)o->c.seed;
        if (o->steps) ep.max_krylov = (size_t)o->steps;
        st = od_spectra_eigs(op, &ep, er);
        if (st == OD_OK || st == OD_EMAXITER) {
            so->ev = er->values;
            so->res = er->residuals;
            so->nev = er->k;
        }
    } else if (m == M_EXACT) {
        double *A = od_vec_alloc(d * d), *ev = od_vec_alloc(d), *w = od_vec_alloc(d);
        bufs[0] = A;
        bufs[1] = ev;
        bufs[2] = w;
        if (!A || !ev || !w) return od_error(OD_ENOMEM, __FILE__, __LINE__, "exact: out of memory");
        if ((st = od_spectra_linop_to_dense(op, A)) == OD_OK) st = od_symm_eigen(d, A, ev, NULL);
        if (st != OD_OK) return st;
        if (word(whiches, o->which) == 1)   /* bottom first */
            for (size_t i = 0; i < d / 2; i++) {
                double t = ev[i];
                ev[i] = ev[d - 1 - i];
                ev[d - 1 - i] = t;
            }
        so->ev = ev;
        so->nev = o->k ? (size_t)o->k : d;
        for (size_t i = 0; i < d; i++) w[i] = 1.0 / (double)d;
        double tr = 0;
        for (size_t i = 0; i < d; i++) tr += ev[i];
        so->trace_v = tr;
        so->trace_se = 0;
        so->have_trace = 1;
        if (o->function) {
            so->logdet = 0;
            for (size_t i = 0; i < d; i++) so->logdet += log(ev[i]);
            so->logdet_se = 0;
            so->have_logdet = 1;
            if (!isfinite(so->logdet))
                return od_error(OD_ENUMERIC, __FILE__, __LINE__, "logdet: the matrix is not positive definite");
        }
        if ((st = od_spectra_smooth(1, &d, d, ev, w, &sm, den)) != OD_OK) return st;
        so->mass_outside = den->mass_outside;
        so->sigma = den->sigma;
        st = density_table(so, "density", den->x, den->y, den->n);
    } else if (m == M_SLQ) {
        od_spectra_slq_params sp = od_spectra_slq_default_params();
        sp.steps = o->steps ? (size_t)o->steps : 80;
        if (sp.steps > d) sp.steps = d;
        sp.probes = o->probes ? (size_t)o->probes : 10;
        sp.seed = (uint64_t)o->c.seed;
        if (o->blocks) {
            od_spectra_block auto_b[MAX_BLOCKS], bl[MAX_BLOCKS];
            size_t na = 1, nb;
            if (prob) od_spectra_problem_blocks(prob, auto_b, MAX_BLOCKS, &na);
            else auto_b[0] = (od_spectra_block){"all", 0, d};
            if ((st = od_spectra_blocks_parse(o->blocks, d, auto_b, na, bl, MAX_BLOCKS, &nb)) != OD_OK) return st;
            od_spectra_slq_result *br = calloc(nb, sizeof *br);
            double *scale = od_vec_alloc(nb);
            if (!br || !scale) return od_error(OD_ENOMEM, __FILE__, __LINE__, "blocks: out of memory");
            st = od_spectra_block_slq(op, nb, bl, &sp, (od_spectra_block_norm)word(norms, o->norm), br, scale);
            double gmin = INFINITY, gmax = -INFINITY, smax = 0;
            for (size_t b = 0; st == OD_OK && b < nb; b++)
                for (size_t l = 0; l < br[b].probes; l++)
                    for (size_t k = 0; k < br[b].m[l]; k++) {
                        gmin = fmin(gmin, br[b].nodes[l * br[b].steps + k]);
                        gmax = fmax(gmax, br[b].nodes[l * br[b].steps + k]);
                        smax = fmax(smax, (double)br[b].m[l]);
                    }
            const size_t n = o->grid ? (size_t)gn : 1000;
            const double sg = o->sigma > 0 ? o->sigma : (gmax - gmin) / fmax(smax, 1.0);
            if (!o->grid) lo = gmin - 4 * sg, hi = gmax + 4 * sg;
            double *x = od_vec_alloc(n), *D = od_vec_alloc(nb * n), *js = od_vec_alloc(nb * nb);
            bufs[0] = x;
            bufs[1] = D;
            bufs[2] = js;
            cJSON *jb = cJSON_CreateArray();
            so->dens = od_table_alloc("block_density");
            if (st == OD_OK && (!x || !D || !js || !so->dens)) st = od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
            for (size_t i = 0; st == OD_OK && i < n; i++) x[i] = lo + (hi - lo) * (double)i / (double)(n - 1);
            if (st == OD_OK) od_table_add_double(so->dens, "x", x, n);
            for (size_t b = 0; st == OD_OK && b < nb; b++) {
                double *per = od_vec_alloc(br[b].probes * n);
                if (!per) {
                    st = OD_ENOMEM;
                    break;
                }
                od_spectra_smooth_runs(br[b].probes, br[b].m, br[b].steps, br[b].nodes, br[b].weights,
                                       sg > 0 ? sg : 1e-3, n, x, per);
                for (size_t i = 0; i < n; i++) {
                    double s = 0;
                    for (size_t l = 0; l < br[b].probes; l++) s += per[l * n + i];
                    D[b * n + i] = s / (double)br[b].probes;
                }
                od_free(per);
                od_table_add_double(so->dens, bl[b].name, D + b * n, n);
                memcpy(so->blk[b], bl[b].name, sizeof so->blk[b]);
                so->nblk = b + 1;
                cJSON *ob = cJSON_CreateObject();
                cJSON_AddStringToObject(ob, "name", bl[b].name);
                cJSON_AddNumberToObject(ob, "lo", (double)bl[b].lo);
                cJSON_AddNumberToObject(ob, "hi", (double)bl[b].hi);
                cJSON_AddNumberToObject(ob, "scale", scale[b]);
                cJSON_AddItemToArray(jb, ob);
            }
            if (st == OD_OK) {
                so->js0 = od_spectra_js_matrix(nb, n, D, 0, js);
                for (size_t b = 0; b < nb; b++)
                    cJSON_AddItemToObject(cJSON_GetArrayItem(jb, (int)b), "js", num_array(js + b * nb, nb));
                cJSON_AddItemToObject(so->extra, "blocks", jb);
                cJSON_AddNumberToObject(so->extra, "js0", so->js0);
                cJSON_AddNumberToObject(so->extra, "js_base", M_E);
                so->sigma = sg;
            } else {
                cJSON_Delete(jb);
            }
            for (size_t b = 0; b < nb; b++) od_spectra_slq_result_free(&br[b]);
            free(br);
            od_free(scale);
            so->matvecs = op->matvecs - mv0;
            return st;
        }
        if ((st = od_spectra_slq(op, &sp, sr)) != OD_OK) return st;
        so->have_trace = 1;
        if ((st = od_spectra_slq_moment(sr, 1, &so->trace_v, &so->trace_se)) != OD_OK) return st;
        so->trace_v *= (double)d;
        so->trace_se *= (double)d;
        if (o->function) {
            if ((st = od_spectra_slq_logdet(sr, &so->logdet, &so->logdet_se)) != OD_OK) return st;
            so->have_logdet = 1;
        }
        if ((st = od_spectra_slq_density(sr, &sm, den)) != OD_OK) return st;
        so->mass_outside = den->mass_outside;
        so->sigma = den->sigma;
        st = density_table(so, "density", den->x, den->y, den->n);
    } else if (m == M_KPM) {
        od_spectra_kpm_params kp = od_spectra_kpm_default_params();
        kp.moments = o->steps ? (size_t)o->steps : 100;
        kp.probes = o->probes ? (size_t)o->probes : 10;
        kp.seed = (uint64_t)o->c.seed;
        if ((st = od_spectra_kpm(op, &kp, kr)) != OD_OK) return st;
        const size_t n = o->grid ? (size_t)gn : 1000;
        if (!o->grid) lo = kr->c - kr->e, hi = kr->c + kr->e;
        double *x = od_vec_alloc(n), *y = od_vec_alloc(n);
        bufs[0] = x;
        bufs[1] = y;
        if (!x || !y) return od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory");
        for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * ((double)i + 0.5) / (double)n;
        od_spectra_kpm_density(kr, n, x, y);
        so->have_trace = 1;   /* tr A = d (c μ_0 + e μ_1) */
        so->trace_v = (double)d * (kr->c * kr->mu[0] + kr->e * kr->mu[1]);
        so->trace_se = (double)d * sqrt(pow(kr->c * kr->mu_se[0], 2) + pow(kr->e * kr->mu_se[1], 2));
        st = density_table(so, "density", x, y, n);
    } else {
        od_spectra_hutch_params hp = od_spectra_hutch_default_params();
        hp.seed = (uint64_t)o->c.seed;
        if (o->probes) hp.max_probes = (size_t)o->probes;
        if (hp.min_probes > hp.max_probes) hp.min_probes = hp.max_probes;
        hp.rel_tol = o->tol > 0 ? o->tol : 1e-2;
        od_spectra_hutch_result hr;
        if ((st = od_spectra_hutchinson(op, &hp, &hr, NULL)) != OD_OK) return st;
        so->have_trace = 1;
        so->trace_v = hr.trace;
        so->trace_se = hr.se;
        cJSON_AddNumberToObject(so->extra, "probes", (double)hr.probes);
        cJSON_AddBoolToObject(so->extra, "converged", hr.converged);
    }
    so->matvecs = op->matvecs - mv0;
    return st;
}

static int write_outputs(const spec_opts *o, const char *dir, spec_out *so, const char *label,
                         method_id m)
{
    OD_TRY(od_mkdir_p(dir));
    od_manifest *man = od_manifest_alloc("spectrum");
    if (!man) return OD_ENOMEM;
    od_manifest_param_str(man, "operator", label);
    od_manifest_param_str(man, "method", methods[m]);
    od_manifest_set_num(man, "seed", (double)o->c.seed);
    od_manifest_set_num(man, "matvecs", (double)so->matvecs);
    int st = OD_OK;
    if (so->nev) {
        so->eig = od_table_alloc("eigenvalues");
        od_table_meta(so->eig, "operator", "%s", label);
        od_table_meta(so->eig, "method", "%s, which = %s", methods[m], o->which);
        double *idx = od_vec_alloc(so->nev);
        for (size_t i = 0; idx && i < so->nev; i++) idx[i] = (double)i + 1;
        od_table_add_double(so->eig, "index", idx, so->nev);
        od_table_add_double(so->eig, "eigenvalue", so->ev, so->nev);
        if (so->res) od_table_add_double(so->eig, "residual_bound", so->res, so->nev);
        od_free(idx);
        st = od_table_write(so->eig, dir);
        od_manifest_file(man, "eigenvalues.tsv");
    }
    if (st == OD_OK && so->have_trace) {
        so->trace = od_table_alloc("trace");
        od_table_meta(so->trace, "operator", "%s", label);
        const double row[4] = {so->trace_v, so->trace_se, so->have_logdet ? so->logdet : NAN,
                               so->have_logdet ? so->logdet_se : NAN};
        const char *cols[4] = {"trace", "trace_se", "logdet", "logdet_se"};
        for (int c = 0; c < 4; c++) od_table_add_double(so->trace, cols[c], &row[c], 1);
        st = od_table_write(so->trace, dir);
        od_manifest_file(man, "trace.tsv");
    }
    if (st == OD_OK && so->dens) {
        od_table_meta(so->dens, "operator", "%s", label);
        od_table_meta(so->dens, "smoothing", "%s, sigma = %.6g, mass outside the grid = %.3g",
                      o->pyhessian ? "PyHessian-compatible" : "Gaussian, exact mode", so->sigma, so->mass_outside);
        st = od_table_write(so->dens, dir);
        od_manifest_file(man, od_table_name(so->dens));
        od_figure *f = od_figure_alloc(od_table_name(so->dens), label);
        if (f) {
            /* a log axis is floored 6 decades below the largest plotted value: the Gaussian tails of
             * the kernel would otherwise stretch it over tens of decades */
            const size_t nr = od_table_rows(so->dens), nc = so->nblk ? so->nblk : 1;
            double ymax = 0;
            for (size_t c = 0; c < nc; c++) {
                const double *ys = od_table_column(so->dens, so->nblk ? so->blk[c] : "density");
                for (size_t i = 0; ys && i < nr; i++) ymax = fmax(ymax, ys[i]);
            }
            od_figure_xlabel(f, "λ");
            od_figure_ylabel(f, o->logy ? "spectral density (log scale)" : "spectral density");
            if (o->logy) {
                od_figure_logy(f, 1);
                if (ymax > 0) od_figure_yrange(f, 1e-6 * ymax, NAN);
            }
            if (so->nblk == 0)
                od_figure_add(f, &(od_series){.table = so->dens, .x = "x", .y = "density", .kind = OD_PLOT_LINES,
                                              .label = o->pyhessian ? "slq, PyHessian-compatible smoothing" : methods[m]});
            for (size_t b = 0; b < so->nblk; b++)
                od_figure_add(f, &(od_series){.table = so->dens, .x = "x", .y = so->blk[b], .kind = OD_PLOT_LINES,
                                              .label = so->blk[b]});
            if (st == OD_OK) st = od_figure_write(f, dir, o->c.fmt, !o->c.no_plot);
            od_figure_free(f);
        }
    }
    if (st == OD_OK) st = od_manifest_write(man, dir);
    od_manifest_free(man);
    return st;
}

int od_cmd_spectrum(int argc, char **argv)
{
    spec_opts o = {.method = "lanczos", .which = "top", .at = "init", .norm = "none", .k = 0,
                   .train_steps = 200, .exact_max = 4000, .c = od_cli_common_defaults()};
    od_cli_opt opts[32] = {
        {"--matrix", OD_OPT_STRING, &o.matrix, 0, 0, "FILE.mtx", "Matrix Market file (coordinate or array, real, symmetric or general)"},
        {"--model", OD_OPT_STRING, &o.model, 0, 0, "NAME[:k=v,...]", "wishart, spiked, wigner, or a problem (logreg, mlp, blocks, ...): its Hessian"},
        {"--method", OD_OPT_STRING, &o.method, 0, 0, "M", "lanczos (default) | slq | kpm | hutchinson | exact"},
        {"--k", OD_OPT_INT, &o.k, 1, 1e6, "K", "lanczos: eigenpairs wanted (default 1); exact: how many to list"},
        {"--which", OD_OPT_STRING, &o.which, 0, 0, "W", "top (default) | bottom | both | magnitude"},
        {"--steps", OD_OPT_INT, &o.steps, 1, 1e6, "M", "slq: Lanczos steps (80); kpm: Chebyshev degree (100); lanczos: Krylov size"},
        {"--probes", OD_OPT_INT, &o.probes, 1, 1e6, "NV", "slq/kpm: probes (10); hutchinson: at most (1000)"},
        {"--tol", OD_OPT_DOUBLE, &o.tol, 0, 1, "T", "lanczos: residual tolerance (1e-10); hutchinson: SE/|trace| (1e-2)"},
        {"--sigma", OD_OPT_DOUBLE, &o.sigma, 0, 1e300, "S", "Gaussian smoothing width (default: node spacing)"},
        {"--pyhessian", OD_OPT_FLAG, &o.pyhessian, 0, 0, NULL, "PyHessian-compatible density (grid, variance, renormalisation)"},
        {"--grid", OD_OPT_STRING, &o.grid, 0, 0, "LO:HI:N", "density grid"},
        {"--logy", OD_OPT_FLAG, &o.logy, 0, 0, NULL, "log-scale density in the figure"},
        {"--function", OD_OPT_STRING, &o.function, 0, 0, "logdet", "slq/exact: also log det A"},
        {"--blocks", OD_OPT_STRING, &o.blocks, 0, 0, "auto|N=LO:HI,...", "slq: blockwise spectra and JS distances"},
        {"--normalize", OD_OPT_STRING, &o.norm, 0, 0, "none|max|tenth", "--blocks: divide by the block's largest / 10th-largest eigenvalue"},
        {"--at", OD_OPT_STRING, &o.at, 0, 0, "init|zero|trained", "problems: Hessian at x0 (init), 0, or after GD"},
        {"--train-steps", OD_OPT_INT, &o.train_steps, 1, 1e7, "N", "--at trained: GD steps with lr 1/λ_max (200)"},
    };
    size_t n = 17;
    n += od_cli_common_opts(&o.c, 0, opts + n, 32 - n);
    char *pos[4];
    size_t npos;
    int st = od_cli_parse(CMD, argc, argv, opts, n, pos, 4, &npos);
    if (st) return st;
    if (o.c.help) {
        printf("usage: optdyn spectrum (--matrix FILE.mtx | --model NAME[:k=v,...]) [--method M] [options]\n\n"
               "Eigenvalues (Lanczos with full reorthogonalization, ARPACK residual test), spectral\n"
               "densities (stochastic Lanczos quadrature, KPM), traces (Hutchinson, SLQ) and log-determinants\n"
               "of a symmetric operator.  Writes OUT/spectrum/: eigenvalues.tsv, density.tsv (or\n"
               "block_density.tsv), trace.tsv, manifest.json and a density figure.\n\n"
               "models: wishart:n=,d=,s2= | spiked:n=,d=,ell= | wigner:n=,s= | any problem spec\n"
               "(logreg:n=,d=  mlp:n=,d=,h=,act=  blocks:sizes=,ranges=  softmax  gmm  chebyshev-net ...)\n\n"
               "examples:\n"
               "  optdyn spectrum --model wishart:n=4000,d=1000 --method slq --function logdet\n"
               "  optdyn spectrum --model spiked:n=2000,d=500,ell=3 --k 5 --json\n"
               "  optdyn spectrum --model blocks --method slq --blocks auto --normalize none\n\noptions:\n");
        od_cli_print_opts(opts, n);
        return OD_EXIT_OK;
    }
    if (npos) return od_cli_fail(CMD, OD_EXIT_USAGE, "unexpected argument '%s'", pos[0]);
    if ((st = od_cli_common_finish(CMD, &o.c)) != OD_EXIT_OK) return st;
    if (!o.matrix == !o.model) return od_cli_fail(CMD, OD_EXIT_USAGE, "give exactly one of --matrix FILE and --model SPEC");
    const int mi = word(methods, o.method);
    if (mi < 0) return od_cli_fail(CMD, OD_EXIT_USAGE, "--method: unknown method '%s' (lanczos, slq, kpm, hutchinson, exact)", o.method);
    if (word(whiches, o.which) < 0) return od_cli_fail(CMD, OD_EXIT_USAGE, "--which: unknown '%s' (top, bottom, both, magnitude)", o.which);
    if (word(ats, o.at) < 0) return od_cli_fail(CMD, OD_EXIT_USAGE, "--at: unknown '%s' (init, zero, trained)", o.at);
    if (word(norms, o.norm) < 0) return od_cli_fail(CMD, OD_EXIT_USAGE, "--normalize: unknown '%s' (none, max, tenth)", o.norm);
    double glo, ghi;
    long gn;
    if (o.grid && parse_grid(o.grid, &glo, &ghi, &gn))
        return od_cli_fail(CMD, OD_EXIT_USAGE, "--grid: '%s' is not LO:HI:N with LO < HI and 2 <= N <= 1000000", o.grid);
    if (o.function && strcmp(o.function, "logdet") != 0)
        return od_cli_fail(CMD, OD_EXIT_USAGE, "--function: unknown function '%s' (logdet)", o.function);
    if (o.function && mi != M_SLQ && mi != M_EXACT)
        return od_cli_fail(CMD, OD_EXIT_USAGE, "--function logdet needs --method slq or exact");
    if (o.sigma > 0 && o.pyhessian) return od_cli_fail(CMD, OD_EXIT_USAGE, "--sigma and --pyhessian exclude each other (PyHessian fixes its own width)");
    if (o.blocks && mi != M_SLQ) return od_cli_fail(CMD, OD_EXIT_USAGE, "--blocks needs --method slq");
    if (o.k && mi != M_LANCZOS && mi != M_EXACT) return od_cli_fail(CMD, OD_EXIT_USAGE, "--k applies to --method lanczos or exact");
    if (!o.k && mi == M_LANCZOS) o.k = 1;

    od_problem *prob = NULL;
    double *point = NULL;
    od_spectra_linop *op = NULL;
    st = build_operator(&o, &prob, &point, &op);
    if (st != OD_OK) {
        int code = fail_status(st);
        od_cli_fail(CMD, code, "%s%s", o.matrix ? "" : "--model: ", od_last_error());
        od_problem_free(prob);
        od_free(point);
        return code;
    }
    const size_t d = op->dim;
    int code = OD_EXIT_OK;
    if (o.k && (size_t)o.k >= d && mi == M_LANCZOS) code = od_cli_fail(CMD, OD_EXIT_USAGE, "--k %ld must be below the dimension d = %zu", o.k, d);
    else if (o.k && (size_t)o.k > d) code = od_cli_fail(CMD, OD_EXIT_USAGE, "--k %ld exceeds the dimension d = %zu", o.k, d);
    else if (mi == M_SLQ && o.steps && (size_t)o.steps > d) code = od_cli_fail(CMD, OD_EXIT_USAGE, "--steps %ld exceeds the dimension d = %zu", o.steps, d);
    else if (mi == M_EXACT && d > (size_t)o.exact_max) code = od_cli_fail(CMD, OD_EXIT_USAGE, "--method exact: d = %zu is above %ld (use slq or lanczos)", d, o.exact_max);
    else if (o.blocks) {   /* the block list is input: check it before any work */
        od_spectra_block auto_b[MAX_BLOCKS], bl[MAX_BLOCKS];
        size_t na = 1, nb;
        if (prob) od_spectra_problem_blocks(prob, auto_b, MAX_BLOCKS, &na);
        else auto_b[0] = (od_spectra_block){"all", 0, d};
        if (od_spectra_blocks_parse(o.blocks, d, auto_b, na, bl, MAX_BLOCKS, &nb) != OD_OK)
            code = od_cli_fail(CMD, OD_EXIT_USAGE, "%s", od_last_error());
    }
    if (code) {
        od_spectra_linop_free(op);
        od_problem_free(prob);
        od_free(point);
        return code;
    }
    spec_out so = {.extra = cJSON_CreateObject()};
    od_spectra_eigs_result er = {0};
    od_spectra_slq_result sr = {0};
    od_spectra_density den = {0};
    od_spectra_kpm_result kr = {0};
    double *bufs[3] = {NULL, NULL, NULL};
    char label[200];
    snprintf(label, sizeof label, "%s", op->label);
    st = run_method(&o, (method_id)mi, op, prob, &so, &er, &sr, &den, &kr, bufs);
    if (st != OD_OK && st != OD_EMAXITER) {
        code = od_cli_fail(CMD, OD_EXIT_ERROR, "%s", od_last_error());
    } else {
        char *dir = od_path_join(o.c.out, "spectrum");
        int wst = dir ? write_outputs(&o, dir, &so, label, (method_id)mi) : OD_ENOMEM;
        if (wst != OD_OK) code = od_cli_fail(CMD, OD_EXIT_ERROR, "%s", od_last_error());
        if (st == OD_EMAXITER && !o.c.json) fprintf(stderr, "optdyn spectrum: warning: %s\n", od_last_error());
        if (!code && o.c.json) {
            cJSON *j = so.extra;
            so.extra = NULL;
            cJSON_AddStringToObject(j, "operator", label);
            cJSON_AddStringToObject(j, "method", methods[mi]);
            cJSON_AddNumberToObject(j, "dim", (double)d);
            if (so.nev) {
                cJSON_AddItemToObject(j, "eigenvalues", num_array(so.ev, so.nev));
                if (so.res) cJSON_AddItemToObject(j, "residuals", num_array(so.res, so.nev));
                if (mi == M_LANCZOS) cJSON_AddNumberToObject(j, "converged", (double)er.n_converged);
            }
            if (so.dens && so.x) {
                cJSON *dj = cJSON_CreateObject();
                cJSON_AddItemToObject(dj, "x", num_array(so.x, so.n));
                cJSON_AddItemToObject(dj, "y", num_array(so.y, so.n));
                cJSON_AddNumberToObject(dj, "sigma", so.sigma);
                cJSON_AddNumberToObject(dj, "mass_outside", so.mass_outside);
                cJSON_AddItemToObject(j, "density", dj);
            }
            if (so.have_trace) {
                cJSON_AddNumberToObject(j, "trace", so.trace_v);
                cJSON_AddNumberToObject(j, "trace_se", so.trace_se);
            }
            if (so.have_logdet) {
                cJSON_AddNumberToObject(j, "logdet", so.logdet);
                cJSON_AddNumberToObject(j, "logdet_se", so.logdet_se);
            }
            cJSON_AddNumberToObject(j, "matvecs", (double)so.matvecs);
            if (dir) cJSON_AddStringToObject(j, "dir", dir);
            char *txt = cJSON_Print(j);
            if (txt) puts(txt);
            cJSON_free(txt);
            cJSON_Delete(j);
        } else if (!code && !o.c.quiet) {
            printf("operator: %s (d = %zu), method %s, %llu products\n", label, d, methods[mi],
                   (unsigned long long)so.matvecs);
            for (size_t i = 0; i < so.nev && i < 20; i++)
                printf("  λ_%zu = %.12g%s%.3g\n", i + 1, so.ev[i], so.res ? "   residual ≤ " : "",
                       so.res ? so.res[i] : 0.0);
            if (so.nev > 20) printf("  ... (%zu in eigenvalues.tsv)\n", so.nev);
            if (so.have_trace) printf("  trace = %.10g ± %.3g (SE)\n", so.trace_v, so.trace_se);
            if (so.have_logdet) printf("  log det = %.10g ± %.3g (SE)\n", so.logdet, so.logdet_se);
            if (so.dens && so.x) printf("  density on %zu points, σ = %.4g, mass outside the grid %.3g\n", so.n, so.sigma, so.mass_outside);
            if (o.blocks) printf("  JS0 (mean pairwise Jensen–Shannon distance, natural log) = %.6f\n", so.js0);
            printf("  written to %s/\n", dir ? dir : "?");
        }
        free(dir);
    }
    cJSON_Delete(so.extra);
    od_table_free(so.eig);
    od_table_free(so.dens);
    od_table_free(so.trace);
    od_spectra_eigs_result_free(&er);
    od_spectra_slq_result_free(&sr);
    od_spectra_density_free(&den);
    od_spectra_kpm_result_free(&kr);
    for (int i = 0; i < 3; i++) od_free(bufs[i]);
    od_spectra_linop_free(op);
    od_problem_free(prob);
    od_free(point);
    return code;
}
