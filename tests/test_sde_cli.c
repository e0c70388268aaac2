/* optdyn tests — `optdyn sde` as a user meets it: a run with --json and its keys, the same bytes for
 * any --threads, the closed form of SGD's stationary variance on the noisy quadratic, and bad input
 * (one line naming the culprit, exit status 2, nothing written). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cjson/cJSON.h>

#include "od_test.h"

void od_test_suite_sde_cli(void);

#define out_buf od_test_out
#define err_buf od_test_err
#define exists od_test_exists

/* Runs "optdyn sde ARGS"; returns the exit status; fills out_buf and err_buf. */
static int cli(const char *args) { return od_test_cli(OD_CLI_PATH, "sde", args); }

#define BASE "--problem 'noisy-quadratic:d=1,lambda=2,s=1,x0=0' --optimizer sgd --lr 0.05 --batch 2 "

/* SGD on lambda x^2/2 with noise s^2/B: stationary Var = eta s^2/(B lambda (2 - eta lambda))
 * (sde.md §3.1); the SDE (EM with h = eta is the same AR(1) chain in law) gives the same.  The
 * stationary estimate (mean over the second half of the steps and over paths, started at x* = 0,
 * so only the transient of the variance biases it: (1 - r^{2n}) with r^{2 K/2} < 1e-20) within
 * 5 SE. */
static void test_run_json(void)
{
    CU_ASSERT_EQUAL(cli(BASE "--steps 2000 --paths 400 --observe norm2,coord:0 --compare "
                             "discrete,sde,svag:l=2 --json --no-plot --out od-test-tmp/sde-a --threads 1"), 0);
    cJSON *j = cJSON_Parse(out_buf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    cJSON *dyn = cJSON_GetObjectItem(j, "dynamics");
    const double eta = 0.05, lam = 2, B = 2;
    const char *names[] = {"discrete", "sde", "svag"};
    for (int k = 0; k < 3; k++) {
        cJSON *d = cJSON_GetObjectItem(dyn, names[k]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(d);
        CU_ASSERT_TRUE(cJSON_IsArray(cJSON_GetObjectItem(d, "t")));
        CU_ASSERT_TRUE(cJSON_IsArray(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "mean"), "norm2")));
        CU_ASSERT_TRUE(cJSON_IsArray(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "se"), "coord:0")));
        double st = cJSON_GetObjectItem(cJSON_GetObjectItem(d, "stationary"), "norm2")->valuedouble;
        double se = cJSON_GetObjectItem(cJSON_GetObjectItem(d, "stationary_se"), "norm2")->valuedouble;
        const double el = k == 2 ? eta / 2 : eta;   /* SVAG: eta/l, noise l s^2 */
        const double lvar = k == 2 ? 2.0 : 1.0;
        const double exact = el * el * lvar / B / (1 - (1 - el * lam) * (1 - el * lam));
        if (fabs(st - exact) > 5 * se)
            fprintf(stderr, "\n  %s: stationary %g ± %g vs %g", names[k], st, se, exact);
        CU_ASSERT_TRUE(fabs(st - exact) <= 5 * se);
        cJSON *t = cJSON_GetObjectItem(d, "t");
        CU_ASSERT_DOUBLE_EQUAL(cJSON_GetArrayItem(t, cJSON_GetArraySize(t) - 1)->valuedouble, 2000 * eta, 1e-9);
    }
    CU_ASSERT_PTR_NOT_NULL(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "weak_error"), "sde"));
    char *first = strdup(out_buf);
    CU_ASSERT_TRUE(exists("od-test-tmp/sde-a/sde/discrete.tsv") && exists("od-test-tmp/sde-a/sde/manifest.json"));
    /* the same numbers with two threads (the dir differs, so compare the dynamics only) */
    CU_ASSERT_EQUAL(cli(BASE "--steps 2000 --paths 400 --observe norm2,coord:0 --compare "
                             "discrete,sde,svag:l=2 --json --no-plot --out od-test-tmp/sde-a --threads 2"), 0);
    cJSON *j2 = cJSON_Parse(out_buf);
    char *a = cJSON_PrintUnformatted(cJSON_GetObjectItem(j, "dynamics"));
    char *b = cJSON_PrintUnformatted(cJSON_GetObjectItem(j2, "dynamics"));
    CU_ASSERT_STRING_EQUAL(a, b);
    free(a);
    free(b);
    free(first);
    cJSON_Delete(j);
    cJSON_Delete(j2);
    /* the rule transforms lr, batch and steps */
    CU_ASSERT_EQUAL(cli("--problem noisy-quadratic:d=2 --optimizer adam --lr 0.01 --batch 2 --steps 400 "
                        "--rule sqrt:kappa=4 --hp beta1=0.9,beta2=0.99 --paths 20 --json --no-plot "
                        "--out od-test-tmp/sde-b"), 0);
    j = cJSON_Parse(out_buf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(j, "batch")->valueint, 8);
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(j, "steps")->valueint, 100);
    CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "hp"), "lr")->valuedouble, 0.02, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "hp"), "beta1")->valuedouble, 0.6, 1e-15);
    cJSON_Delete(j);
    CU_ASSERT_EQUAL(cli("--help"), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out_buf, "usage: optdyn sde"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out_buf, "bias_correction"));
}

static void test_bad_input(void)
{
    static const char *cases[][2] = {
        {"--optimizer sgd --lr 0.1 --steps 10", "--problem"},
        {"--problem noisy-quadratic --lr 0.1 --steps 10", "--optimizer"},
        {"--problem noisy-quadratic --optimizer sgd --steps 10", "--lr"},
        {"--problem noisy-quadratic --optimizer sgd --lr 0.1", "--steps"},
        {"--problem noisy-quadratic --optimizer adagrad --lr 0.1 --steps 10", "'adagrad'"},
        {"--problem noisy-quadratic --optimizer sgd --lr 0.1 --steps 10 --hp beta1=0.9", "beta1"},
        {"--problem noisy-quadratic --optimizer adam --lr 0.1 --steps 10 --hp beta1=1", "beta1"},
        {"--problem noisy-quadratic --optimizer adam --lr 0.1 --steps 10 --hp beta2=-0.5", "beta2"},
        {"--problem noisy-quadratic --optimizer rmsprop --lr 0.1 --steps 10 --hp bogus=1", "'bogus'"},
        {"--problem noisy-quadratic --optimizer adam --lr 0.1 --steps 10 --rule sqrt:kappa=20", "kappa (1 - beta) = 2"},
        {"--problem noisy-quadratic --optimizer adam --lr 0.1 --steps 10 --rule cubic:kappa=2", "'cubic'"},
        {"--problem noisy-quadratic --optimizer sgd --lr 0.1 --steps 10 --rule linear", "kappa"},
        {"--problem noisy-quadratic --optimizer rmsprop --lr 0.1 --steps 10 --integrator weak2", "weak2"},
        {"--problem logreg --optimizer sgd --lr 0.1 --steps 10 --integrator milstein", "milstein"},
        {"--problem noisy-quadratic --optimizer sgd --lr 0.1 --steps 10 --integrator rk4", "'rk4'"},
        {"--problem noisy-quadratic --optimizer signsgd --lr 0.1 --steps 10", "signsgd"},
        {"--problem noisy-quadratic --optimizer sgd --lr 0.1 --steps 10 --compare sde,ode", "'ode'"},
        {"--problem noisy-quadratic --optimizer sgd --lr 0.1 --steps 10 --compare svag:l=0", "svag:l=0"},
        {"--problem noisy-quadratic --optimizer sam --lr 0.1 --steps 10 --compare svag", "svag"},
        {"--problem noisy-quadratic --optimizer sgd --lr 0.1 --steps 10 --observe coord:10", "coord:10"},
        {"--problem noisy-quadratic --optimizer sgd --lr 0.1 --steps 10 --observe energy", "'energy'"},
        {"--problem logreg --optimizer sgd --lr 0.1 --steps 10 --observe norm2", "norm2"},
        {"--problem nope --optimizer sgd --lr 0.1 --steps 10", "'nope'"},
        {"--problem noisy-quadratic:lambda=-1 --optimizer sgd --lr 0.1 --steps 10", "lambda"},
        {"--problem noisy-quadratic --optimizer sgd --lr -0.1 --steps 10", "--lr"},
        {"--problem noisy-quadratic --optimizer sgd --lr 0.1 --steps 10 --batch 0", "--batch"},
        {"--problem noisy-quadratic --optimizer usam --lr 0.1 --steps 10 --compare sde --problem linreg", "usam"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char args[1024];
        system("rm -rf od-test-tmp/sde-bad");
        snprintf(args, sizeof args, "%s --out od-test-tmp/sde-bad", cases[i][0]);
        int code = cli(args);
        int nl = 0;
        for (const char *q = err_buf; *q; q++) nl += *q == '\n';
        int ok = code == 2 && nl == 1 && strstr(err_buf, cases[i][1]) && !exists("od-test-tmp/sde-bad");
        if (!ok) fprintf(stderr, "\n  'optdyn sde %s': exit %d, stderr: %s", args, code, err_buf);
        CU_ASSERT_TRUE(ok);
    }
}

void od_test_suite_sde_cli(void)
{
    static const od_test_case cases[] = {
        {"optdyn sde: JSON keys, stationary closed form, threads, rule", test_run_json},
        {"optdyn sde: bad input", test_bad_input},
        {NULL, NULL}};
    od_test_add("sde command line", cases);
}
