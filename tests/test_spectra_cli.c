/* optdyn tests — `optdyn spectrum` as a user meets it: help, each method on a small model, the
 * --json keys of issue 4 with values checked against mathematics, Matrix Market input, and every
 * kind of bad input (one line naming the culprit, exit status 2, nothing written). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "od_test.h"
#include "test_spectra.h"

#define exists od_test_exists

/* Runs "optdyn ARGS"; returns the exit status; io.out and io.err hold what it printed. */
static struct {
    char *out, *err;
} io;
static int cli(const char *args)
{
    int code = od_test_cli(OD_CLI_PATH, NULL, args);
    io.out = od_test_out;
    io.err = od_test_err;
    return code;
}

static double num(cJSON *j, const char *key)
{
    cJSON *v = cJSON_GetObjectItem(j, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void test_methods_json(void)
{
    system("rm -rf od-test-tmp/spectrum-run");
    CU_ASSERT_EQUAL(cli("spectrum --help"), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(io.out, "usage: optdyn spectrum"));
    /* Lanczos top-3 of a Matrix Market diagonal: exact values, residuals, top first */
    FILE *f = fopen("od-test-tmp/spectrum-diag.mtx", "w");
    fprintf(f, "%%%%MatrixMarket matrix coordinate real symmetric\n40 40 40\n");
    for (int i = 1; i <= 40; i++) fprintf(f, "%d %d %.17g\n", i, i, 0.25 * i - 3.1);
    fclose(f);
    CU_ASSERT_EQUAL_FATAL(cli("spectrum --matrix od-test-tmp/spectrum-diag.mtx --k 3 --json --no-plot "
                              "--out od-test-tmp/spectrum-run"), 0);
    cJSON *j = cJSON_Parse(io.out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    cJSON *ev = cJSON_GetObjectItem(j, "eigenvalues"), *res = cJSON_GetObjectItem(j, "residuals");
    CU_ASSERT_EQUAL_FATAL(cJSON_GetArraySize(ev), 3);
    for (int i = 0; i < 3; i++) {
        OD_ASSERT_CLOSE(cJSON_GetArrayItem(ev, i)->valuedouble, 0.25 * (40 - i) - 3.1, 1e-12);
        CU_ASSERT_TRUE(cJSON_GetArrayItem(res, i)->valuedouble < 1e-10 * 7);
    }
    CU_ASSERT_TRUE(num(j, "matvecs") >= 3);
    cJSON_Delete(j);
    CU_ASSERT_TRUE(exists("od-test-tmp/spectrum-run/spectrum/eigenvalues.tsv"));
    CU_ASSERT_TRUE(exists("od-test-tmp/spectrum-run/spectrum/manifest.json"));
    /* SLQ with log-det on a Wishart: trace within 5 SE of d s² (E tr W = d s²), density keys */
    CU_ASSERT_EQUAL_FATAL(cli("spectrum --model wishart:n=800,d=200,s2=1.3 --method slq --steps 30 "
                              "--function logdet --json --no-plot --out od-test-tmp/spectrum-run"), 0);
    j = cJSON_Parse(io.out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    cJSON *dj = cJSON_GetObjectItem(j, "density");
    CU_ASSERT_TRUE(cJSON_GetArraySize(cJSON_GetObjectItem(dj, "x")) == 1000);
    CU_ASSERT_TRUE(cJSON_GetArraySize(cJSON_GetObjectItem(dj, "y")) == 1000);
    /* the realised trace fluctuates by s² sqrt(2 d / n) around d s²; SLQ adds its SE */
    CU_ASSERT_TRUE(fabs(num(j, "trace") - 260) <= 5 * sqrt(pow(num(j, "trace_se"), 2) + pow(1.3 * sqrt(400.0 / 800), 2)));
    CU_ASSERT_TRUE(isfinite(num(j, "logdet")) && num(j, "logdet_se") > 0);
    CU_ASSERT_EQUAL(num(j, "matvecs"), 300);
    cJSON_Delete(j);
    /* the same seed gives the same bytes on 1 and 2 threads */
    cli("spectrum --model wishart:n=800,d=200 --method slq --steps 20 --json --no-plot --threads 1 --out od-test-tmp/spectrum-run");
    char *a = strdup(io.out);
    cli("spectrum --model wishart:n=800,d=200 --method slq --steps 20 --json --no-plot --threads 2 --out od-test-tmp/spectrum-run");
    CU_ASSERT_STRING_EQUAL(a, io.out);
    free(a);
    /* exact, kpm, hutchinson, blocks, PyHessian, a problem's Hessian after training */
    static const char *runs[] = {
        "--model wigner:n=120 --method exact --k 4",
        "--model wishart:n=400,d=100 --method kpm --steps 40",
        "--model wishart:n=400,d=100 --method hutchinson --tol 0.01",
        "--model 'blocks:sizes=20|20,ranges=1:2|10:20' --method slq --blocks auto --normalize none",
        "--model wishart:n=400,d=100 --method slq --pyhessian",
        "--model mlp:n=50,d=3,h=6 --at trained --train-steps 20 --method lanczos --which both --k 2",
        "--model logreg:n=300,d=20,ridge=0 --at zero --method slq --steps 10 --blocks W=0:10,rest=10:20",
    };
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        char args[512];
        snprintf(args, sizeof args, "spectrum %s --json --no-plot --out od-test-tmp/spectrum-run", runs[r]);
        int code = cli(args);
        j = cJSON_Parse(io.out);
        if (code || !j) fprintf(stderr, "\n  '%s': exit %d: %s\n", args, code, io.err);
        CU_ASSERT_EQUAL(code, 0);
        CU_ASSERT_PTR_NOT_NULL(j);
        if (j) CU_ASSERT_TRUE(num(j, "matvecs") > 0);
        if (j && r == 2) CU_ASSERT_TRUE(fabs(num(j, "trace") - 100) < 5 * (num(j, "trace_se") + sqrt(2 * 100.0 / 400)));
        if (j && r == 3) CU_ASSERT_TRUE(num(j, "js0") > 0.8 && num(j, "js0") <= sqrt(M_LN2) + 1e-12);
        cJSON_Delete(j);
    }
}

static void test_bad_input(void)
{
    FILE *f = fopen("od-test-tmp/spectrum-bad.mtx", "w");
    fprintf(f, "%%%%MatrixMarket matrix coordinate real general\n3 3 3\n1 1 1\n1 2 2\n3 3 1\n");
    fclose(f);
    f = fopen("od-test-tmp/spectrum-nan.mtx", "w");
    fprintf(f, "%%%%MatrixMarket matrix array real symmetric\n2 2\n1\nnan\n2\n");
    fclose(f);
    static const char *cases[][2] = {
        {"spectrum", "--matrix"},
        {"spectrum --model wishart --matrix x.mtx", "exactly one"},
        {"spectrum --matrix od-test-tmp/spectrum-bad.mtx", "spectrum-bad.mtx:4:"},
        {"spectrum --matrix od-test-tmp/spectrum-nan.mtx", "spectrum-nan.mtx:4:"},
        {"spectrum --matrix od-test-tmp/none.mtx", "none.mtx"},
        {"spectrum --model wishart:d=50 --k 50", "--k 50"},
        {"spectrum --model wishart:d=50 --k 0", "--k"},
        {"spectrum --model wishart:d=50 --method slq --steps 0", "--steps"},
        {"spectrum --model wishart:d=50 --method slq --steps 51", "--steps 51"},
        {"spectrum --model wishart:d=50,bogus=1", "'bogus'"},
        {"spectrum --model wishart:d=-4", "'d'"},
        {"spectrum --model nosuch", "'nosuch'"},
        {"spectrum --model wishart --method magic", "'magic'"},
        {"spectrum --model wishart --which sideways", "'sideways'"},
        {"spectrum --model wishart --method slq --grid 1:0:10", "--grid"},
        {"spectrum --model wishart --method slq --function trace", "'trace'"},
        {"spectrum --model wishart --method kpm --function logdet", "--function"},
        {"spectrum --model wishart --method slq --sigma 0.1 --pyhessian", "--pyhessian"},
        {"spectrum --model wishart --method kpm --blocks auto", "--blocks"},
        {"spectrum --model wishart:d=20,n=40 --method slq --blocks a=0:30", "a=0:30"},
        {"spectrum --model wishart --tol -1", "--tol"},
        {"spectrum --model mlp --at later", "'later'"},
        {"spectrum --model wishart --bogus", "'--bogus'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char args[512];
        system("rm -rf od-test-tmp/spectrum-bad-out");
        snprintf(args, sizeof args, "%s --out od-test-tmp/spectrum-bad-out", cases[i][0]);
        const int code = cli(args);
        const int ok = code == 2 && od_test_count_lines(io.err) == 1 && strstr(io.err, cases[i][1]) &&
                       !exists("od-test-tmp/spectrum-bad-out");
        if (!ok) fprintf(stderr, "\n  'optdyn %s': exit %d, stderr: %s", args, code, io.err);
        CU_ASSERT_TRUE(ok);
    }
}

void od_test_suite_spectra_cli(void)
{
    static const od_test_case cases[] = {
        {"optdyn spectrum: methods, --json keys and values", test_methods_json},
        {"optdyn spectrum: bad input, one line, exit 2, nothing written", test_bad_input},
        {NULL, NULL}};
    od_test_add("spectra CLI", cases);
}
