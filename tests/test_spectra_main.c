/* optdyn tests — the spectra module: operators, Lanczos, SLQ, densities, KPM, Hutchinson, blockwise
 * spectra, Hessian-vector products of the module's problems, and `optdyn spectrum`. */
#include "od_test.h"
#include "test_spectra.h"

int main(int argc, char **argv)
{
    static od_test_suite_fn *const suites[] = {
        od_test_suite_spectra_ops, od_test_suite_spectra_lanczos, od_test_suite_spectra_slq,
        od_test_suite_spectra_density, od_test_suite_spectra_hvp, od_test_suite_spectra_cli, od_test_suite_spectra_stability,
        od_test_suite_spectra_stability_paths, od_test_suite_spectra_stability_cli, od_test_suite_spectra_stability_eos, NULL};
    return od_test_main(argc, argv, suites);
}
