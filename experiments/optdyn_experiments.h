/* optdyn experiments — the experiment interface, the run context and the registry (prefix od_exp_).
 *
 * An experiment is data, a figure and a verdict (DESIGN.md, idea 5).  It declares its parameters
 * (a table of od_param with defaults, --quick sizes, ranges and help), its source, and the claims it
 * checks; its run function reads parameters from the run context, writes tables and figures through
 * it, and records every claim with the measured value, the predicted value, the tolerance and the
 * verdict.  The framework validates parameters before any work, creates the output folder, times the
 * run and writes manifest.json.  The gallery and `optdyn check` are loops over the registry.
 */
#ifndef OPTDYN_EXPERIMENTS_H
#define OPTDYN_EXPERIMENTS_H

#include <stddef.h>
#include <stdint.h>

#include "core/optdyn_core.h"
#include "plots/optdyn_plots.h"

typedef struct od_run od_run;

typedef struct {
    const char *name;   /* short id, e.g. "weak-order" */
    const char *text;   /* what is asserted and with which tolerance model */
} od_claim_doc;

typedef struct od_experiment {
    const char *name;          /* command-line id: lowercase words joined by '-' */
    const char *title;         /* figure / page title */
    const char *reference;     /* authors, title, venue, year, equation or figure */
    const char *summary;       /* a paragraph for `optdyn describe` */
    const char *doc;           /* docs page, relative to the repository (docs/experiments/NAME.md) */
    const od_param *params;
    size_t n_params;
    const od_claim_doc *claims;
    size_t n_claims;
    /* optional cross-parameter checks, run before any work; return an od_status with a reason
     * naming the keys (OD_ERANGE / OD_EINVAL) */
    int (*validate)(const od_params *v);
    int (*run)(od_run *r);
} od_experiment;

/* ---- registry ---------------------------------------------------------------------------------- */
/* NULL-terminated list of every experiment, in gallery order. */
extern const od_experiment *const od_exp_registry[];
const od_experiment *od_exp_find(const char *name);

/* ---- problems by name ---------------------------------------------------------------------------
 * Every problem catalog of the program (core and modules), NULL-terminated, and a builder that
 * searches all of them: od_exp_problem("linreg:d=100,exp=2", seed, &p). */
extern const od_problem_entry *const *const od_problem_catalogs[];
int od_exp_problem(const char *spec, uint64_t seed, od_problem **out);

/* ---- running ----------------------------------------------------------------------------------- */
typedef struct {
    const char *out_root;   /* the run writes into out_root/NAME/ */
    uint64_t seed;
    int threads;            /* >= 1 */
    int quick;              /* use the --quick sizes */
    int render;             /* run gnuplot */
    od_plot_format format;
    int quiet;              /* no progress and no per-claim lines on stdout */
} od_run_options;

od_run_options od_run_default_options(void);

/* The outcome of a run: claim verdicts (owned by the result). */
typedef struct {
    char *name;
    char *text;
    double measured, predicted, tolerance;
    char relation[64];
    int pass;
} od_claim;

typedef struct {
    const od_experiment *exp;
    int status;              /* OD_OK, or the error that stopped the run */
    char *error;             /* its message, or NULL */
    od_claim *claims;
    size_t n_claims;
    char **notes;
    size_t n_notes;
    char **figures;          /* rendered figure file names (relative to the run folder) */
    size_t n_figures;
    double wall_seconds;
} od_exp_result;

/* Validates the assignments ("key=value", n of them) against exp's table — every error before any
 * work, reported with the key and the experiment named — and returns the value set in *v. */
int od_exp_params(const od_experiment *exp, int quick, char *const *assign, size_t n, od_params *v);

/* Runs exp with values v (from od_exp_params) into opts->out_root/NAME/.  Fills res (free with
 * od_exp_result_free).  Returns OD_OK when the run completed (whatever its verdicts), or an error. */
int od_exp_run(const od_experiment *exp, const od_params *v, const od_run_options *opts,
               od_exp_result *res);
void od_exp_result_free(od_exp_result *res);
/* Number of failed claims. */
size_t od_exp_result_failures(const od_exp_result *res);

/* ---- the run context, for experiment implementations ---------------------------------------- */
const od_params *od_run_values(const od_run *r);
double od_run_num(const od_run *r, const char *key);
long od_run_int(const od_run *r, const char *key);
const char *od_run_str(const od_run *r, const char *key);
uint64_t od_run_seed(const od_run *r);
int od_run_quick(const od_run *r);
const char *od_run_dir(const od_run *r);
/* The progress label for ensembles of this run (NULL when quiet). */
const char *od_run_progress_label(const od_run *r);

/* Writes the table into the run folder and lists it in the manifest. */
int od_run_table(od_run *r, const od_table *t);
/* Writes the figure's script and (unless rendering is off) the picture. */
int od_run_figure(od_run *r, const od_figure *f);

/* Claims.  name must be one of the experiment's documented claims (a typo is an internal error).
 *   close:  |measured - predicted| <= tol
 *   le:     measured <= bound          (predicted = bound, tolerance 0)
 *   ge:     measured >= bound
 *   range:  lo <= measured <= hi       (predicted = (lo + hi)/2, tolerance = (hi - lo)/2)
 *   check:  a boolean verdict with a measured value and what it was compared with. */
int od_run_claim_close(od_run *r, const char *name, double measured, double predicted, double tol);
int od_run_claim_le(od_run *r, const char *name, double measured, double bound);
int od_run_claim_ge(od_run *r, const char *name, double measured, double bound);
int od_run_claim_range(od_run *r, const char *name, double measured, double lo, double hi);
int od_run_claim_check(od_run *r, const char *name, int pass, double measured, double predicted,
                       const char *relation);

/* A free-text note for the verdict section (e.g. a paper's claim that did not hold, and why). */
int od_run_note(od_run *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ---- gallery ---------------------------------------------------------------------------------- */
/* Writes out_root/index.html and out_root/report.md from the results of a gallery run. */
int od_exp_write_gallery(const char *out_root, const od_exp_result *results, size_t n,
                         const od_run_options *opts);

#endif /* OPTDYN_EXPERIMENTS_H */
