/* optdyn tests — shared helpers of the spectra test executable. */
#ifndef OD_TEST_SPECTRA_H
#define OD_TEST_SPECTRA_H

#include <stddef.h>
#include <stdint.h>

#include "spectra/optdyn_spectra.h"

void od_test_suite_spectra_ops(void);
void od_test_suite_spectra_lanczos(void);
void od_test_suite_spectra_slq(void);
void od_test_suite_spectra_density(void);
void od_test_suite_spectra_hvp(void);
void od_test_suite_spectra_cli(void);
void od_test_suite_spectra_stability(void);
void od_test_suite_spectra_stability_paths(void);
void od_test_suite_spectra_stability_cli(void);
void od_test_suite_spectra_stability_eos(void);

/* A random symmetric d-by-d matrix Q diag(lambda) Qᵀ with Haar Q (od_haar_orthogonal) from stream
 * (seed, 7) (dense). */
void ts_rotated(size_t d, const double *lambda, uint64_t seed, double *A);
/* Standard normal n-by-d matrix from stream (seed, 8). */
void ts_gaussian(size_t n, size_t d, uint64_t seed, double *X);
/* Largest |entry| of a vector. */
double ts_maxabs(size_t n, const double *x);

#endif
