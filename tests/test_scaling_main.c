/* optdyn tests — the scaling module (one executable; suites in test_scaling_*.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_scaling.h"

const od_scaling_law od_test_scaling_truth = {.E = 1.7312, .A = 391.7, .B = 1187.3,
                                              .alpha = 0.3137, .beta = 0.2791};

od_scaling_data *od_test_scaling_synthetic(double sigma, uint64_t seed, double *N, double *D,
                                           double *L)
{
    double n[OD_TEST_SCALING_ROWS], d[OD_TEST_SCALING_ROWS], l[OD_TEST_SCALING_ROWS];
    od_stream s;
    od_stream_init(&s, seed, 77);
    size_t k = 0;
    for (int c = 0; c < 7; c++) {
        double C = pow(10, 18 + 0.5 * c);
        for (int j = 0; j < 9; j++, k++) {
            n[k] = sqrt(C) / 8 * pow(10, (j - 4) / 4.0);
            d[k] = C / (6 * n[k]);
            od_stream_seek(&s, (uint32_t)k, 0);
            l[k] = od_scaling_law_eval(&od_test_scaling_truth, n[k], d[k]) *
                   (sigma > 0 ? exp(sigma * od_stream_normal(&s)) : 1.0);
        }
    }
    if (N) memcpy(N, n, sizeof n);
    if (D) memcpy(D, d, sizeof d);
    if (L) memcpy(L, l, sizeof l);
    od_scaling_data *out = NULL;
    if (od_scaling_data_alloc(OD_TEST_SCALING_ROWS, n, d, l, NULL, &out) != OD_OK) return NULL;
    return out;
}

od_scaling_data *od_test_scaling_epoch(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/svg_extracted_data.csv", od_scaling_data_dir());
    od_scaling_csv *c;
    if (od_scaling_csv_read(path, &c) != OD_OK) {
        fprintf(stderr, "\n  NOTICE: %s is absent: the checks on the Chinchilla data are skipped "
                        "(set OPTDYN_SCALING_DATA to the folder holding it)\n", path);
        return NULL;
    }
    size_t n = od_scaling_csv_rows(c), m = 0, kept;
    double *N = malloc(4 * n * sizeof *N), *C = N + n, *L = N + 2 * n, *D = N + 3 * n;
    unsigned char *keep = malloc(n);
    od_scaling_data *d = NULL;
    if (N && keep && !od_scaling_csv_column(c, "Model Size", N) &&
        !od_scaling_csv_column(c, "Training FLOP", C) && !od_scaling_csv_column(c, "loss", L) &&
        !od_scaling_drop_top(n, L, 5, keep, &kept)) {
        od_scaling_tokens_from_flops(n, N, C, D);
        for (size_t i = 0; i < n; i++)
            if (keep[i]) {
                N[m] = N[i];
                D[m] = D[i];
                L[m] = L[i];
                m++;
            }
        od_scaling_data_alloc(m, N, D, L, NULL, &d);
    }
    free(N);
    free(keep);
    od_scaling_csv_free(c);
    return d;
}

int main(int argc, char **argv)
{
    static od_test_suite_fn *const suites[] = {
        od_test_suite_scaling_csv, od_test_suite_scaling_objective, od_test_suite_scaling_fit,
        od_test_suite_scaling_forms, od_test_suite_scaling_cli, NULL};
    return od_test_main(argc, argv, suites);
}
