/* optdyn tests — `optdyn risk` as a user meets it: good runs (files, JSON keys and their values
 * against the library and closed forms), the mean-square-divergent message, and bad input (exit 2,
 * one line naming the option, file or line, nothing written). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "linreg/optdyn_linreg.h"
#include "od_test.h"

void od_test_suite_linreg_cli(void);

#define out_buf od_test_out
#define err_buf od_test_err
#define exists od_test_exists

/* Runs "optdyn risk ARGS"; returns the exit status; fills out_buf and err_buf. */
static int risk(const char *args) { return od_test_cli(OD_CLI_PATH, "risk", args); }

static double num(cJSON *j, const char *k)
{
    cJSON *x = cJSON_GetObjectItem(j, k);
    return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

static void test_risk_good(void)
{
    system("rm -rf od-test-tmp/risk-good");
    CU_ASSERT_EQUAL(risk("--lr 0.5 --noise 0.01 --steps 300 --mc 64 --no-plot --out od-test-tmp/risk-good"), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out_buf, "stationary excess"));
    CU_ASSERT_TRUE(exists("od-test-tmp/risk-good/risk.tsv") && exists("od-test-tmp/risk-good/risk.gp") &&
                   exists("od-test-tmp/risk-good/manifest.json"));
    od_table *t = NULL;
    CU_ASSERT_EQUAL_FATAL(od_table_read("od-test-tmp/risk-good/risk.tsv", &t), OD_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_table_meta_get(t, "convention"), "1/2 sum_k lambda_k"));
    CU_ASSERT_PTR_NOT_NULL(od_table_column(t, "mc_mean"));
    od_table_free(t);

    /* --json: exactly the documented keys, values against the library and the closed forms */
    CU_ASSERT_EQUAL(risk("--lr 0.5 --noise 0.01 --batch 2 --steps 300 --mc 32 --json --no-plot "
                         "--out od-test-tmp/risk-good"), 0);
    CU_ASSERT_EQUAL(err_buf[0], '\0');
    cJSON *j = cJSON_Parse(out_buf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    const char *keys[] = {"t", "excess", "mc_mean", "mc_se"};
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_TRUE(cJSON_IsArray(cJSON_GetObjectItem(j, keys[i])));
        CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(j, keys[i])),
                        cJSON_GetArraySize(cJSON_GetObjectItem(j, "t")));
    }
    CU_ASSERT_TRUE(cJSON_IsTrue(cJSON_GetObjectItem(j, "mean_square_stable")));
    enum { D = 100 };
    double lambda[D], kn = 0, e0 = 0;
    od_linreg_spectrum_powerlaw(D, 2, 1, lambda);
    for (int k = 0; k < D; k++) {
        kn += 0.5 / 2 * lambda[k] / (2 - 1.5 * 0.5 * lambda[k]);   /* (g/B) sum l/(2 - c_B g l) */
        e0 += 0.5 * lambda[k];
    }
    OD_ASSERT_REL(num(j, "kernel_norm"), kn, 1e-13);
    OD_ASSERT_REL(num(j, "stationary_excess"), 0.5 * 0.01 * kn / (1 - kn), 1e-13);
    double closed;
    od_linreg_threshold_lr_closed(D, lambda, 3.0, 2, &closed);
    OD_ASSERT_REL(num(j, "threshold_lr"), closed, 1e-11);
    OD_ASSERT_REL(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "excess"), 0)->valuedouble, e0, 1e-14);
    cJSON *tt = cJSON_GetObjectItem(j, "t");
    CU_ASSERT_EQUAL(cJSON_GetArrayItem(tt, cJSON_GetArraySize(tt) - 1)->valuedouble, 300);
    cJSON_Delete(j);

    /* spectrum and init from files; averaged output; a schedule */
    system("mkdir -p od-test-tmp/risk-files && printf '2\\n1\\n0.5\\n' > od-test-tmp/risk-files/l.txt"
           " && printf '1\\n-1\\n0.25\\n' > od-test-tmp/risk-files/w.txt");
    CU_ASSERT_EQUAL(risk("--spectrum file:od-test-tmp/risk-files/l.txt --init file:od-test-tmp/risk-files/w.txt "
                         "--lr 0.1 --algo tail:start=20 --schedule cosine --steps 50 --times every:5 --json "
                         "--no-plot --out od-test-tmp/risk-files/out"), 0);
    j = cJSON_Parse(out_buf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(j, "t")), 11);
    CU_ASSERT_TRUE(cJSON_IsNull(cJSON_GetObjectItem(j, "mc_mean")));
    CU_ASSERT_TRUE(cJSON_IsNull(cJSON_GetObjectItem(j, "stationary_excess")));   /* not constant */
    OD_ASSERT_REL(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "excess"), 0)->valuedouble,
                  0.5 * (2 * 1 + 1 * 1 + 0.5 * 0.0625), 1e-15);
    cJSON_Delete(j);
}

/* Same seed, same bytes for 1 and 2 threads (Monte Carlo included). */
static void test_risk_threads(void)
{
    CU_ASSERT_EQUAL(risk("--lr 0.3 --noise 0.05 --batch 2 --algo hb:mu=0.5 --steps 200 --mc 100 --threads 1 "
                         "--no-plot --quiet --out od-test-tmp/risk-t1"), 0);
    CU_ASSERT_EQUAL(risk("--lr 0.3 --noise 0.05 --batch 2 --algo hb:mu=0.5 --steps 200 --mc 100 --threads 2 "
                         "--no-plot --quiet --out od-test-tmp/risk-t2"), 0);
    CU_ASSERT_EQUAL(system("cmp -s od-test-tmp/risk-t1/risk.tsv od-test-tmp/risk-t2/risk.tsv"), 0);
}

static void test_risk_divergent(void)
{
    /* lr 1.5 is above the threshold of powerlaw:exp=2,d=100 with B = 1 (about 0.6) */
    CU_ASSERT_EQUAL(risk("--lr 1.5 --noise 0.01 --steps 400 --mc 16 --no-plot --out od-test-tmp/risk-div"), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out_buf, "mean-square divergent"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out_buf, "not drawn"));
    CU_ASSERT_EQUAL(risk("--lr 1.5 --noise 0.01 --steps 400 --json --no-plot --out od-test-tmp/risk-div"), 0);
    cJSON *j = cJSON_Parse(out_buf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_TRUE(cJSON_IsFalse(cJSON_GetObjectItem(j, "mean_square_stable")));
    CU_ASSERT_TRUE(num(j, "kernel_norm") >= 1 || cJSON_IsNull(cJSON_GetObjectItem(j, "kernel_norm")));
    CU_ASSERT_TRUE(cJSON_IsNull(cJSON_GetObjectItem(j, "stationary_excess")));
    cJSON_Delete(j);
    /* the gnuplot script carries the note, and no Monte Carlo series */
    CU_ASSERT_EQUAL(risk("--lr 1.5 --steps 100 --mc 8 --no-plot --out od-test-tmp/risk-div2"), 0);
    char *gp = od_test_slurp("od-test-tmp/risk-div2/risk.gp");
    CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
    CU_ASSERT_PTR_NOT_NULL(strstr(gp, "mean-square divergent"));
    CU_ASSERT_PTR_NULL(strstr(gp, "Monte Carlo mean ± 2 SE"));
    free(gp);
}

static void test_risk_bad(void)
{
    system("mkdir -p od-test-tmp/risk-files && printf '1\\n2\\nthree\\n' > od-test-tmp/risk-files/bad.txt"
           " && printf '1\\n2\\n' > od-test-tmp/risk-files/two.txt && printf '1\\n2\\n3\\n' > "
           "od-test-tmp/risk-files/three.txt");
    static const char *cases[][2] = {
        {"--lr 0", "--lr"},
        {"--lr -0.1", "--lr"},
        {"", "--lr"},
        {"--lr 0.1 --batch 0", "--batch"},
        {"--lr 0.1 --algo adam", "'adam'"},
        {"--lr 0.1 --algo ema:alpha=1.5", "'alpha'"},
        {"--lr 0.1 --spectrum file:od-test-tmp/risk-files/bad.txt", "line 3"},
        {"--lr 0.1 --spectrum file:od-test-tmp/risk-files/three.txt --init file:od-test-tmp/risk-files/two.txt",
         "three.txt"},
        {"--lr 0.1 --spectrum file:od-test-tmp/risk-files/nope.txt", "nope.txt"},
        {"--lr 0.1 --spectrum powerlaw:exp=x", "'exp'"},
        {"--lr 0.1 --init const:abc", "--init"},
        {"--lr 0.1 --features cauchy", "'cauchy'"},
        {"--lr 0.1 --times log:1", "--times"},
        {"--lr 0.1 --times minutes:3", "--times"},
        {"--lr 0.1 --schedule exp:rate=1", "'exp'"},
        {"--lr 0.1 --noise -1", "--noise"},
        {"--lr 0.1 --algo tail:start=500 --steps 100", "tail start"},
        {"--lr 0.1 --algo asgd:alpha=0.9,beta=0.1,gamma=1,delta=0.2", "twice"},
        {"--lr 0.1 --bogus", "'--bogus'"},
        {"--lr 0.1 extra", "'extra'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        system("rm -rf od-test-tmp/risk-bad");
        char args[1024];
        snprintf(args, sizeof args, "%s --no-plot --out od-test-tmp/risk-bad", cases[i][0]);
        int code = risk(args);
        int ok = code == 2 && od_test_count_lines(err_buf) == 1 && strstr(err_buf, cases[i][1]) &&
                 !exists("od-test-tmp/risk-bad");
        if (!ok) fprintf(stderr, "\n  'optdyn risk %s': exit %d, stderr: %s", args, code, err_buf);
        CU_ASSERT_TRUE(ok);
    }
    /* the mismatch message names both files */
    risk("--lr 0.1 --spectrum file:od-test-tmp/risk-files/three.txt --init file:od-test-tmp/risk-files/two.txt "
         "--out od-test-tmp/risk-bad");
    CU_ASSERT_PTR_NOT_NULL(strstr(err_buf, "two.txt"));
    CU_ASSERT_EQUAL(risk("--help"), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out_buf, "usage: optdyn risk"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out_buf, "1/2 sum_k lambda_k"));
}

void od_test_suite_linreg_cli(void)
{
    static const od_test_case cases[] = {
        {"optdyn risk: files, JSON keys and values", test_risk_good},
        {"optdyn risk: same bytes for 1 and 2 threads", test_risk_threads},
        {"optdyn risk: mean-square divergent runs say so", test_risk_divergent},
        {"optdyn risk: bad input, one line, exit 2, nothing written", test_risk_bad},
        {NULL, NULL}};
    od_test_add("linreg-cli", cases);
}
