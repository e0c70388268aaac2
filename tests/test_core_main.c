/* optdyn tests — the core module's test executable. */
#include "od_test.h"

void od_test_suite_param(void);
void od_test_suite_stream(void);
void od_test_suite_linalg(void);
void od_test_suite_problem(void);
void od_test_suite_problem_sampling(void);
void od_test_suite_problem_registry(void);
void od_test_suite_problem_frozen(void);
void od_test_suite_output(void);
void od_test_suite_ensemble(void);

int main(int argc, char **argv)
{
    static od_test_suite_fn *const suites[] = {od_test_suite_param,
                                                od_test_suite_stream,
                                                od_test_suite_linalg,
                                                od_test_suite_problem,
                                                od_test_suite_problem_sampling,
                                                od_test_suite_problem_registry,
                                                od_test_suite_problem_frozen,
                                                od_test_suite_output,
                                                od_test_suite_ensemble,
                                                NULL};
    return od_test_main(argc, argv, suites);
}
