/* optdyn tests — the sde module's test executable. */
#include "od_test.h"

void od_test_suite_sde_opt(void);
void od_test_suite_sde_models(void);
void od_test_suite_sde_cli(void);
void od_test_suite_sde_fast(void);

int main(int argc, char **argv)
{
    static od_test_suite_fn *const suites[] = {od_test_suite_sde_opt, od_test_suite_sde_models,
                                                od_test_suite_sde_cli, od_test_suite_sde_fast, NULL};
    return od_test_main(argc, argv, suites);
}
