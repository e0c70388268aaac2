/* optdyn tests — the scaling module: suites and shared fixtures. */
#ifndef OD_TEST_SCALING_H
#define OD_TEST_SCALING_H

#include "od_test.h"
#include "scaling/optdyn_scaling.h"

void od_test_suite_scaling_csv(void);
void od_test_suite_scaling_objective(void);
void od_test_suite_scaling_fit(void);
void od_test_suite_scaling_forms(void);
void od_test_suite_scaling_cli(void);

/* The law of the synthetic data (high-entropy values, not round numbers). */
extern const od_scaling_law od_test_scaling_truth;

/* An iso-FLOP design like Hoffmann's: 7 budgets C from 1e18 to 1e21 (half decades), 9 model sizes
 * per budget spread over two decades around C^0.5/8; L from the truth, times exp(sigma z) with z
 * standard normal from stream (seed, 77) when sigma > 0.  n = 63 rows; free with
 * od_scaling_data_free.  Also returns the arrays when N, D, L are not NULL (capacity 63). */
enum { OD_TEST_SCALING_ROWS = 63 };
od_scaling_data *od_test_scaling_synthetic(double sigma, uint64_t seed, double *N, double *D,
                                           double *L);

/* The svg_extracted_data.csv rows kept by the 5-highest-losses rule, or NULL (with a printed
 * notice) when the public data file is absent. */
od_scaling_data *od_test_scaling_epoch(void);

#endif
