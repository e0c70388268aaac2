/* optdyn tests — the core module's test executable. */
#include "od_test.h"

void od_test_suite_stream(void);

int main(int argc, char **argv)
{
    static od_test_suite_fn *const suites[] = {od_test_suite_stream, NULL};
    return od_test_main(argc, argv, suites);
}
