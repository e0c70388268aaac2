/* placeholder replaced below */
#include "od_test.h"
#include "test_spectra.h"
void od_test_suite_spectra_cli(void) {}
