/* optdyn tests — shared helpers for the CUnit test executables (one executable per module).
 *
 * Each test file exposes suite adders `void od_test_suite_NAME(void)` that register a CUnit suite
 * and its tests; a module's main lists them and calls od_test_main, which runs every suite in
 * verbose mode and returns non-zero when any test failed (CU_basic_run_tests alone returns 0 even
 * then).
 */
#ifndef OD_TEST_H
#define OD_TEST_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <float.h>
#include <math.h>

typedef void od_test_suite_fn(void);

/* Runs the NULL-terminated list of suite adders; returns the process exit status. */
int od_test_main(int argc, char **argv, od_test_suite_fn *const *suites);

/* Adds a suite with the given tests (NULL-terminated array of {name, fn}). */
typedef struct {
    const char *name;
    void (*fn)(void);
} od_test_case;
void od_test_add(const char *suite, const od_test_case *cases);

/* |a - b| <= tol, printing both values on failure. */
#define OD_ASSERT_CLOSE(a, b, tol) od_test_close((a), (b), (tol), #a, #b, __FILE__, __LINE__)
void od_test_close(double a, double b, double tol, const char *ea, const char *eb, const char *file,
                   int line);

/* |a - b| <= rel * max(|a|, |b|) + abs. */
#define OD_ASSERT_REL(a, b, rel) od_test_close((a), (b), (rel) * fmax(fabs(a), fabs(b)), #a, #b, \
                                               __FILE__, __LINE__)

/* Counting the errors a call raises: od_test_errors_begin installs a handler that counts every
 * od_error, od_test_errors_end restores the previous handler and returns the count.  For checking
 * that an expected outcome (not positive definite, rank deficient) is not reported as an error. */
void od_test_errors_begin(void);
int od_test_errors_end(void);

/* A fresh scratch folder under the test's working directory (removed first if present); returns a
 * static path. */
const char *od_test_tmpdir(const char *name);

/* The whole file as a NUL-terminated string (the caller frees it); NULL if it cannot be read. */
char *od_test_slurp(const char *path);

/* Golden files: the file at path must equal the file golden byte for byte, after every occurrence
 * in it of vary[2k] is replaced by vary[2k + 1] (pairs in a NULL-terminated list; NULL for none),
 * which masks what legitimately varies, such as the version string.  On a difference the first
 * differing line of each is printed.  With OD_GOLDEN_UPDATE=1 in the environment the masked file
 * is written to golden instead (the check then passes): review the diff before committing it. */
#define OD_ASSERT_GOLDEN(path, golden, vary) od_test_golden((path), (golden), (vary), __FILE__, \
                                                            __LINE__)
void od_test_golden(const char *path, const char *golden, const char *const *vary,
                    const char *file, int line);

/* Runs `exe args` through the shell (args is shell text: quote it as a user would), with stdout and
 * stderr captured through files in od-test-tmp/.  Returns the exit status, or -1 when the program
 * did not exit normally.  *out and *err (either may be NULL) receive the captured text, malloc'd
 * (free with free()). */
int od_test_run(const char *exe, const char *args, char **out, char **err);

/* For CLI tests: runs "exe cmd args" (cmd may be NULL for no subcommand) through od_test_run and
 * keeps the captured text in od_test_out and od_test_err — never NULL, "" when nothing was
 * captured — until the next call.  Returns the exit status. */
extern char *od_test_out, *od_test_err;
int od_test_cli(const char *exe, const char *cmd, const char *args);

/* 1 if path exists (file or folder). */
int od_test_exists(const char *path);

/* Writes text to path (truncating); 0 on success. */
int od_test_write_file(const char *path, const char *text);

/* Number of newline characters in s. */
int od_test_count_lines(const char *s);

/* Thread invariance of an experiment: runs `name` at --quick sizes with the n assignments
 * ("key=value") on 1 and then 2 threads, without pictures, into od_test_tmpdir folders, asserts that
 * both runs complete, and compares the tables named in `files` (NULL-terminated, relative to the run
 * folder) byte for byte, naming any that differ.  The thread count is restored afterwards. */
void od_test_exp_threads(const char *name, char *const *assign, size_t n, const char *const *files);

#endif
