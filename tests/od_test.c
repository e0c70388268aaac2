/* optdyn tests — shared helpers (see od_test.h). */
#include "od_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gsl/gsl_errno.h>

#include "core/status.h"
#include "experiments/optdyn_experiments.h"

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

char *od_test_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *s = NULL;
    size_t cap = 0, len = 0, got;
    do {
        if (cap - len < 4096) {
            char *t = realloc(s, cap = 2 * cap + 4096);
            if (!t) {
                free(s);
                fclose(f);
                return NULL;
            }
            s = t;
        }
        got = fread(s + len, 1, cap - len - 1, f);
        len += got;
    } while (got > 0);
    fclose(f);
    s[len] = '\0';
    return s;
}

/* s with every occurrence of from replaced by to (s is freed); NULL when out of memory. */
static char *replace_all(char *s, const char *from, const char *to)
{
    size_t nf = strlen(from), nt = strlen(to), count = 0;
    if (!s || nf == 0) return s;
    for (const char *p = strstr(s, from); p; p = strstr(p + nf, from)) count++;
    char *out = malloc(strlen(s) + count * nt + 1), *o = out;
    if (out) {
        const char *p = s, *q;
        for (; (q = strstr(p, from)); p = q + nf) {
            memcpy(o, p, (size_t)(q - p));
            o += q - p;
            memcpy(o, to, nt);
            o += nt;
        }
        strcpy(o, p);
    }
    free(s);
    return out;
}

void od_test_golden(const char *path, const char *golden, const char *const *vary,
                    const char *file, int line)
{
    char *got = od_test_slurp(path), *want = NULL;
    for (size_t k = 0; got && vary && vary[k] && vary[k + 1]; k += 2)
        got = replace_all(got, vary[k], vary[k + 1]);
    int ok = 0;
    const char *update = getenv("OD_GOLDEN_UPDATE");
    if (!got) {
        fprintf(stderr, "\n  %s:%d: cannot read %s\n", file, line, path);
    } else if (update && strcmp(update, "1") == 0) {
        FILE *f = fopen(golden, "wb");
        ok = f && fputs(got, f) >= 0;
        if (f && fclose(f) != 0) ok = 0;
        fprintf(stderr, "\n  %s golden file %s\n", ok ? "updated" : "cannot write", golden);
    } else if (!(want = od_test_slurp(golden))) {
        fprintf(stderr, "\n  %s:%d: no golden file %s (OD_GOLDEN_UPDATE=1 writes it)\n", file,
                line, golden);
    } else if (!(ok = strcmp(got, want) == 0)) {
        size_t i = 0, start = 0;   /* start of the first line that differs */
        int ln = 1;
        for (; got[i] && got[i] == want[i]; i++)
            if (got[i] == '\n') {
                start = i + 1;
                ln++;
            }
        const char *a = got + start, *b = want + start;
        fprintf(stderr, "\n  %s:%d: %s differs from %s at line %d:\n    got:  %.*s\n"
                "    want: %.*s\n", file, line, path, golden, ln, (int)strcspn(a, "\n"), a,
                (int)strcspn(b, "\n"), b);
    }
    free(got);
    free(want);
    CU_assertImplementation(ok, (unsigned)line, "OD_ASSERT_GOLDEN", file, "", CU_FALSE);
}

int od_test_run(const char *exe, const char *args, char **out, char **err)
{
    char dir[64], cmd[8192], path[128];
    snprintf(dir, sizeof dir, "od-test-tmp/run-%ld", (long)getpid());
    snprintf(cmd, sizeof cmd, "mkdir -p %s && '%s' %s > %s/out 2> %s/err", dir, exe, args, dir, dir);
    int st = system(cmd);
    if (out) {
        snprintf(path, sizeof path, "%s/out", dir);
        *out = od_test_slurp(path);
    }
    if (err) {
        snprintf(path, sizeof path, "%s/err", dir);
        *err = od_test_slurp(path);
    }
    return (st != -1 && WIFEXITED(st)) ? WEXITSTATUS(st) : -1;
}

int od_test_count_lines(const char *s)
{
    int n = 0;
    for (; s && *s; s++) n += *s == '\n';
    return n;
}

char *od_test_out, *od_test_err;

int od_test_cli(const char *exe, const char *cmd, const char *args)
{
    char a[8192];
    snprintf(a, sizeof a, "%s%s%s", cmd ? cmd : "", cmd && *cmd ? " " : "", args);
    free(od_test_out);
    free(od_test_err);
    od_test_out = od_test_err = NULL;
    int st = od_test_run(exe, a, &od_test_out, &od_test_err);
    if (!od_test_out) od_test_out = calloc(1, 1);
    if (!od_test_err) od_test_err = calloc(1, 1);
    return st;
}

int od_test_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int od_test_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    int bad = fputs(text, f) < 0;
    return (fclose(f) != 0 || bad) ? -1 : 0;
}

void od_test_exp_threads(const char *name, char *const *assign, size_t n, const char *const *files)
{
    const od_experiment *e = od_exp_find(name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    char dirs[2][600];
    const int t0 = od_threads();
    for (int t = 1; t <= 2; t++) {
        char tag[128];
        snprintf(tag, sizeof tag, "%s-threads%d", name, t);
        snprintf(dirs[t - 1], sizeof dirs[0], "%s", od_test_tmpdir(tag));
        od_params v;
        CU_ASSERT_EQUAL_FATAL(od_exp_params(e, 1, assign, n, &v), OD_OK);
        od_run_options o = od_run_default_options();
        o.out_root = dirs[t - 1];
        o.threads = t;
        o.render = 0;
        o.quiet = 1;
        od_exp_result res;
        CU_ASSERT_EQUAL(od_exp_run(e, &v, &o, &res), OD_OK);
        od_exp_result_free(&res);
        od_params_free(&v);
    }
    od_set_threads(t0);
    for (size_t k = 0; files[k]; k++) {
        char a[800], b[800];
        snprintf(a, sizeof a, "%s/%s/%s", dirs[0], name, files[k]);
        snprintf(b, sizeof b, "%s/%s/%s", dirs[1], name, files[k]);
        char *ta = od_test_slurp(a), *tb = od_test_slurp(b);
        const int same = ta && tb && strcmp(ta, tb) == 0;
        if (!same) fprintf(stderr, "\n  %s: %s differs between 1 and 2 threads (or is missing)\n", name, files[k]);
        CU_ASSERT_TRUE(same);
        free(ta);
        free(tb);
    }
}
