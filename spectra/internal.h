/* optdyn spectra — private declarations shared by the module's files (not installed). */
#ifndef OD_SPECTRA_INTERNAL_H
#define OD_SPECTRA_INTERNAL_H

#include "spectra/optdyn_spectra.h"

/* The module's problem types and their named blocks (blocks.c dispatches on p->type). */
extern const od_problem_type od_spectra_softmax_type, od_spectra_mlp_type,
    od_spectra_blockquad_type;
size_t od_spectra_softmax_blocks(const od_problem *p, od_spectra_block *out, size_t cap);
size_t od_spectra_mlp_blocks(const od_problem *p, od_spectra_block *out, size_t cap);
size_t od_spectra_blockquad_blocks(const od_problem *p, od_spectra_block *out, size_t cap);

/* The catalog entries (blocks.c lists them in od_spectra_problems). */
extern const od_problem_entry od_spectra_entry_softmax, od_spectra_entry_gmm, od_spectra_entry_mlp,
    od_spectra_entry_chebyshev, od_spectra_entry_blocks;

/* Labels a problem "name: k=v, ..." from its parameter table (as the core's registry does). */
void od_spectra_label(od_problem *p, const char *name, const od_params *v);

/* An operator attached to a problem at a point: ctx = od_spectra_point_ctx {p borrowed, x copied
 * (zeros when NULL), sample index i}, products by mv, label "WHAT of <problem label>". */
typedef struct {
    const od_problem *p;
    double *x;
    size_t i;      /* sample index for per-sample Hessians */
} od_spectra_point_ctx;
int od_spectra_point_op(const od_problem *p, const double *x, size_t i, od_spectra_matvec_fn *mv,
                        const char *what, od_spectra_linop **out);

/* (n, d) data-size guard for problems built by name: at most 2^27 doubles. */
int od_spectra_check_size(const char *who, size_t n, size_t d);

#endif
