/* optdyn experiments — lr-batch-rules, private to its two files: lr_batch_rules.c (parameters,
 * claims, SGD on linear regression from the exact risk, the figure) and lr_batch_sign.c (one step
 * of SGD and of sign-SGD on a quadratic with coupled curvature). */
#ifndef OD_EXP_LR_BATCH_RULES_H
#define OD_EXP_LR_BATCH_RULES_H

#include <stddef.h>

#include "experiments/optdyn_experiments.h"

enum { OD_LRB_MAX_B = 64, OD_LRB_CURVES = 4 };

/* The tables of a run, kept for the figure (freed by the run). */
typedef struct {
    od_table *one, *fixed, *curves, *sign_exact, *sign_mc;
    double curve_B[OD_LRB_CURVES];
    size_t n_curves;
    double excess0;   /* excess risk at w0 */
} od_lrb_tables;

/* Batch sizes round(2^(j/2)) from 1 to bmax, without repeats, into B (capacity OD_LRB_MAX_B);
 * returns their number. */
size_t od_lrb_batch_grid(double bmax, double *B);

/* Part 3: writes sign_mc.tsv and sign_exact.tsv (kept in t) and records the claims sgd-mc-exact,
 * sign-mc-exact, surge-small-batch, surge-fits-sign and sign-surge-peak. */
int od_lrb_sign_part(od_run *r, od_lrb_tables *t);

#endif
