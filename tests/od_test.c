/* optdyn tests — shared helpers (see od_test.h). */
#include "od_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#include "core/status.h"

int od_test_main(int argc, char **argv, od_test_suite_fn *const *suites)
{
    (void)argc;
    (void)argv;
    gsl_set_error_handler_off();
    if (CU_initialize_registry() != CUE_SUCCESS) return 2;
    for (size_t i = 0; suites[i]; i++) suites[i]();
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_tests_failed() + CU_get_number_of_failures();
    unsigned ran = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    if (ran == 0) {
        fprintf(stderr, "no tests ran\n");
        return 1;
    }
    return failed ? 1 : 0;
}

void od_test_add(const char *suite, const od_test_case *cases)
{
    CU_pSuite s = CU_add_suite(suite, NULL, NULL);
    for (size_t i = 0; s && cases[i].name; i++) CU_add_test(s, cases[i].name, cases[i].fn);
}

void od_test_close(double a, double b, double tol, const char *ea, const char *eb, const char *file,
                   int line)
{
    int ok = fabs(a - b) <= tol || (a == b);
    if (!ok) fprintf(stderr, "\n  %s:%d: %s = %.17g vs %s = %.17g (|diff| %.3g > tol %.3g)\n", file,
                     line, ea, a, eb, b, fabs(a - b), tol);
    CU_assertImplementation(ok, (unsigned)line, "OD_ASSERT_CLOSE", file, "", CU_FALSE);
}

static int errors_raised;
static od_error_handler_fn *errors_saved;

static void count_error(const char *reason, const char *file, int line, int status)
{
    (void)reason;
    (void)file;
    (void)line;
    (void)status;
    errors_raised++;
}

void od_test_errors_begin(void)
{
    errors_raised = 0;
    errors_saved = od_set_error_handler(count_error);
}

int od_test_errors_end(void)
{
    od_set_error_handler(errors_saved);
    return errors_raised;
}

const char *od_test_tmpdir(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "od-test-tmp/%s", name);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", path, path);
    if (system(cmd) != 0) fprintf(stderr, "cannot prepare %s\n", path);
    return path;
}
