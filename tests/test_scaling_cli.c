/* optdyn tests — `optdyn fit` as a user meets it: each model with the JSON keys issue 6 lists, the
 * files of --out, thread-count invariance, and every kind of bad input (one line naming the
 * culprit, exit status 2, nothing written). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "experiments/optdyn_experiments.h"
#include "test_scaling.h"

#define DIR "od-test-tmp/scaling-cli"

#define std_out od_test_out
#define std_err od_test_err

/* Runs `optdyn fit ARGS`; returns the exit status and leaves the output in std_out and std_err
 * (never NULL). */
static int fit(const char *args) { return od_test_cli(OD_CLI_PATH, "fit", args); }

static void write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, DIR "/%s", name);
    CU_ASSERT_EQUAL(od_test_write_file(path, text), 0);
}

/* The synthetic Chinchilla rows as a CSV with spaces in column names, a quoted text column with
 * commas, comments, a blank line, and one row with a missing loss. */
static void write_chinchilla_csv(void)
{
    double N[OD_TEST_SCALING_ROWS], D[OD_TEST_SCALING_ROWS], L[OD_TEST_SCALING_ROWS];
    od_scaling_data_free(od_test_scaling_synthetic(0, 1, N, D, L));
    FILE *f = fopen(DIR "/chin.csv", "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fprintf(f, "# synthetic runs\n\"Model Size\",\"Training FLOP\",loss,note\n\n");
    for (int i = 0; i < OD_TEST_SCALING_ROWS; i++)
        fprintf(f, "%.17g,%.17g,%.17g,\"run %d, budget %d\"\n", N[i], 6 * N[i] * D[i], L[i], i, i / 9);
    fprintf(f, "1e9,1e20,NA,\"a run without a loss\"\n");
    fclose(f);
    write_file("pred.csv", "Model Size,Training FLOP\n7e10,5.76e23\n1e9,1e21\n3.3e8,2e19\n");
}

static cJSON *parse_out(void)
{
    cJSON *j = cJSON_Parse(std_out);
    if (!j) fprintf(stderr, "\n  not JSON: %.300s\n", std_out);
    return j;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

#define CHIN "--model chinchilla --N 'Model Size' --flops 'Training FLOP' --loss loss"

static void test_chinchilla(void)
{
    system("rm -rf " DIR " && mkdir -p " DIR);
    write_chinchilla_csv();
    CU_ASSERT_EQUAL_FATAL(fit(DIR "/chin.csv " CHIN " --json"), 0);
    cJSON *j = parse_out();
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    static const char *keys[] = {"n_used", "objective", "E", "A", "B", "alpha", "beta", "a", "b"};
    for (int k = 0; k < 9; k++) CU_ASSERT_TRUE(isfinite(num(j, keys[k])));
    CU_ASSERT_EQUAL(num(j, "n_used"), OD_TEST_SCALING_ROWS);
    CU_ASSERT_EQUAL(num(j, "n_missing"), 1);
    /* exact data: within the bound 2 sqrt(2 J / lambda_min) < 1e-5 of test_exact_recovery */
    OD_ASSERT_CLOSE(log(num(j, "E")), log(od_test_scaling_truth.E), 1e-5);
    OD_ASSERT_CLOSE(num(j, "alpha"), od_test_scaling_truth.alpha, 1e-5);
    CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(j, "N_opt"));
    CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(j, "bootstrap"));
    CU_ASSERT_EQUAL(std_err[0], '\0');
    cJSON_Delete(j);

    /* --compute, --bootstrap, --predict, --compare; the same bytes for 1 and 2 threads */
    const char *more = DIR "/chin.csv " CHIN " --compute 5.76e23 --bootstrap 8 --seed 3 --predict "
                       DIR "/pred.csv --compare 1.69,406.4,410.7,0.34,0.28 --json";
    char args[1024];
    snprintf(args, sizeof args, "%s --threads 1", more);
    CU_ASSERT_EQUAL_FATAL(fit(args), 0);
    char *first = std_out;
    std_out = NULL;   /* keep the first run's output */
    snprintf(args, sizeof args, "%s --threads 2", more);
    CU_ASSERT_EQUAL(fit(args), 0);
    CU_ASSERT_STRING_EQUAL(first, std_out);
    free(first);
    j = parse_out();
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    for (int k = 0; k < 3; k++) CU_ASSERT_TRUE(num(j, (const char *[]){"N_opt", "D_opt", "tokens_per_param"}[k]) > 0);
    OD_ASSERT_REL(6 * num(j, "N_opt") * num(j, "D_opt"), 5.76e23, 1e-14);
    const cJSON *b = cJSON_GetObjectItem(j, "bootstrap");
    const cJSON *se = cJSON_GetObjectItem(b, "se"), *ci = cJSON_GetObjectItem(b, "ci95");
    CU_ASSERT_TRUE(cJSON_IsObject(se) && cJSON_IsObject(ci));
    for (int k = 0; k < OD_SCALING_NQ; k++) {
        CU_ASSERT_TRUE(num(se, od_scaling_q_names[k]) >= 0);
        CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(ci, od_scaling_q_names[k])), 2);
    }
    const cJSON *pr = cJSON_GetObjectItem(j, "predictions");
    CU_ASSERT_EQUAL_FATAL(cJSON_GetArraySize(pr), 3);
    const cJSON *p0 = cJSON_GetArrayItem(pr, 0);
    OD_ASSERT_REL(num(p0, "loss"), od_scaling_law_eval(&od_test_scaling_truth, 7e10, 5.76e23 / 4.2e11), 1e-5);
    const cJSON *cmp = cJSON_GetObjectItem(j, "compare");
    CU_ASSERT_TRUE(num(cmp, "objective") > num(j, "objective"));
    CU_ASSERT_TRUE(num(cmp, "lr_p") < 1e-6);
    /* exact data: every resample gives the same fit, the bootstrap covariance is singular, and
     * the chi-square test says so instead of printing a number */
    CU_ASSERT_TRUE(cJSON_IsNull(cJSON_GetObjectItem(cmp, "chi2")));
    CU_ASSERT_PTR_NOT_NULL(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(cmp, "chi2_error")),
                                  "not positive definite"));
    cJSON_Delete(j);

    /* --out: tables, script and manifest; text output */
    CU_ASSERT_EQUAL(fit(DIR "/chin.csv " CHIN " --drop-top 2 --no-plot --out " DIR "/out"), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(std_out, "2 dropped"));
    static const char *files[] = {"data.tsv", "dropped.tsv", "surface.tsv", "frontier.tsv",
                                  "fit.gp", "manifest.json"};
    struct stat st;
    for (int k = 0; k < 6; k++) {
        char path[300];
        snprintf(path, sizeof path, DIR "/out/%s", files[k]);
        CU_ASSERT_EQUAL(stat(path, &st), 0);
    }
}

static void test_other_models(void)
{
    char text[8192], *w = text;
    /* power law with offset, log-linear, lr-batch: exact data of known laws */
    w += sprintf(w, "x,y,N,D,z\n");
    for (int i = 0; i < 20; i++) {
        double x = 1e3 * pow(10, 0.2 * i), N = 1e8 * pow(1.7, i), D = 3e9 * pow(1.3, (i * 7) % 20);
        w += sprintf(w, "%.17g,%.17g,%.17g,%.17g,%.17g\n", x, 0.57 + 23.1 * pow(x, -0.41), N, D,
                     exp(1.3) * pow(N, -0.713) * pow(D, 0.307));
    }
    write_file("forms.csv", text);
    CU_ASSERT_EQUAL_FATAL(fit(DIR "/forms.csv --model powerlaw --x x --y y --offset --json"), 0);
    cJSON *j = parse_out();
    OD_ASSERT_REL(num(j, "c"), 0.57, 1e-7);
    OD_ASSERT_REL(num(j, "k"), 23.1, 1e-6);
    OD_ASSERT_REL(num(j, "p"), 0.41, 1e-7);
    CU_ASSERT_TRUE(num(j, "rss") < 1e-18);
    const cJSON *se = cJSON_GetObjectItem(j, "se");
    CU_ASSERT_TRUE(isfinite(num(se, "c")) && isfinite(num(se, "k")) && isfinite(num(se, "p")));
    cJSON_Delete(j);

    CU_ASSERT_EQUAL_FATAL(fit(DIR "/forms.csv --model loglinear --y z --x N,D --json"), 0);
    j = parse_out();
    OD_ASSERT_CLOSE(num(j, "intercept"), 1.3, 1e-8);
    const cJSON *ex = cJSON_GetObjectItem(j, "exponents");
    OD_ASSERT_CLOSE(num(ex, "N"), -0.713, 1e-10);
    OD_ASSERT_CLOSE(num(ex, "D"), 0.307, 1e-10);
    se = cJSON_GetObjectItem(j, "se");
    CU_ASSERT_TRUE(isfinite(num(se, "intercept")) && isfinite(num(se, "N")) && isfinite(num(se, "D")));
    CU_ASSERT_TRUE(isfinite(num(j, "rss")));
    cJSON_Delete(j);

    w = text;
    w += sprintf(w, "bs,lr\n");
    for (int i = 0; i < 10; i++) {
        double B = 32 * pow(2, i);
        w += sprintf(w, "%.17g,%.17g\n", B, od_scaling_lr_eval(OD_SCALING_LR_SURGE, 2e-3, 700, B));
    }
    write_file("lr.csv", text);
    CU_ASSERT_EQUAL_FATAL(fit(DIR "/lr.csv --model lr-batch --batch bs --lr lr --form both --json"), 0);
    j = parse_out();
    const cJSON *sg = cJSON_GetObjectItem(j, "sgd"), *su = cJSON_GetObjectItem(j, "surge");
    CU_ASSERT_TRUE(isfinite(num(sg, "eps_max")) && isfinite(num(sg, "B_noise")) && isfinite(num(sg, "rss")));
    OD_ASSERT_REL(num(su, "B_noise"), 700.0, 1e-7);
    CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(cJSON_GetObjectItem(j, "better")), "surge");
    cJSON_Delete(j);

    CU_ASSERT_EQUAL(fit("--help"), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(std_out, "usage: optdyn fit FILE.csv --model chinchilla"));
    CU_ASSERT_PTR_NOT_NULL(strstr(std_out, "--compare E,A,B,alpha,beta"));
}

static void test_bad_input(void)
{
    write_file("bad.csv", "N,D,loss\n1e9,2e10,2.5\n2e9,4e10,abc\n");
    write_file("neg.csv", "N,D,loss\n# comment\n-5,2e10,2.5\n");
    write_file("few.csv", "N,D,loss\n1e8,2e9,3.1\n2e8,3e9,2.9\n3e8,5e9,2.8\n4e8,7e9,2.7\n5e8,9e9,2.6\n");
    static const char *cases[][2] = {
        {"", "expected a CSV file"},
        {DIR "/chin.csv " DIR "/few.csv " CHIN, "expected one CSV file"},
        {DIR "/chin.csv", "--model is required"},
        {DIR "/chin.csv --model foo", "unknown model 'foo'"},
        {DIR "/nofile.csv " CHIN, "nofile.csv: cannot open"},
        {DIR "/chin.csv --model chinchilla --N 'Model Size' --flops 'Training FLOP' --loss Loss", "no column 'Loss'"},
        {DIR "/bad.csv --model chinchilla --N N --D D --loss loss", "bad.csv:3: row 2, column 'loss': 'abc'"},
        {DIR "/neg.csv --model chinchilla --N N --D D --loss loss", "neg.csv:3: row 1, column 'N'"},
        {DIR "/few.csv --model chinchilla --N N --D D --loss loss", "need at least 6"},
        {DIR "/chin.csv " CHIN " --drop-top 60", "need at least 6"},
        {DIR "/chin.csv --model chinchilla --N 'Model Size' --flops 'Training FLOP'", "needs --loss"},
        {DIR "/chin.csv " CHIN " --offset", "--offset does not apply to --model chinchilla"},
        {DIR "/chin.csv " CHIN " --D loss", "either --D or --flops"},
        {DIR "/chin.csv " CHIN " --compare 1,2,3", "--compare"},
        {DIR "/chin.csv " CHIN " --compare 1,-2,3,0.3,0.3", "must be positive"},
        {DIR "/chin.csv " CHIN " --predict " DIR "/missing.csv", "--predict: " DIR "/missing.csv: cannot open"},
        {DIR "/chin.csv " CHIN " --bootstrap 1", "--bootstrap"},
        {DIR "/chin.csv " CHIN " --huber -1", "--huber"},
        {DIR "/chin.csv " CHIN " --format gif", "'gif'"},
        {DIR "/lr.csv --model lr-batch --batch bs --lr lr --form adam", "unknown form 'adam'"},
        {DIR "/forms.csv --model loglinear --y z --x N,N", "column 'N' given twice"},
        {DIR "/forms.csv --model loglinear --y z --x N,,D", "--x"},
        {DIR "/forms.csv --model powerlaw --x N,D --y z", "one column"},
        {DIR "/forms.csv --model powerlaw --x x --y y --bootstrap 5", "--bootstrap does not apply"},
        {DIR "/few.csv --model powerlaw --x N --y loss --out " DIR "/x --offset --form sgd", "--form does not apply"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char args[1024];
        system("rm -rf " DIR "/never");
        snprintf(args, sizeof args, "%s --out " DIR "/never", cases[i][0]);
        int code = fit(args);
        const int lines = od_test_count_lines(std_err);
        struct stat st;
        int ok = code == 2 && lines == 1 && strstr(std_err, cases[i][1]) && stat(DIR "/never", &st) != 0;
        if (!ok) fprintf(stderr, "\n  'optdyn fit %s': exit %d, stderr: %s", args, code, std_err);
        CU_ASSERT_TRUE(ok);
    }
}

/* The three experiments write the same tables (every .tsv) for 1 and 2 threads (small sizes). */
static void test_experiments_thread_invariant(void)
{
    static const struct {
        const char *name;
        char *assign[3];
        size_t n;
    } runs[] = {
        {"synthetic-recovery", {"reps=10", "bootstrap=20", "starts=20"}, 3},
        {"chinchilla-refit", {"bootstrap=20"}, 1},
        {"lr-batch-rules", {"samples=768"}, 1},
    };
    for (size_t e = 0; e < sizeof runs / sizeof runs[0]; e++) {
        const od_experiment *x = od_exp_find(runs[e].name);
        CU_ASSERT_PTR_NOT_NULL_FATAL(x);
        char dirs[2][300];
        for (int t = 0; t < 2; t++) {
            snprintf(dirs[t], sizeof dirs[t], DIR "/threads%d", t + 1);
            od_params v;
            CU_ASSERT_EQUAL_FATAL(od_exp_params(x, 1, runs[e].assign, runs[e].n, &v), OD_OK);
            od_run_options o = od_run_default_options();
            o.out_root = dirs[t];
            o.threads = t + 1;
            o.render = 0;
            o.quiet = 1;
            od_exp_result res;
            CU_ASSERT_EQUAL(od_exp_run(x, &v, &o, &res), OD_OK);
            CU_ASSERT_EQUAL(od_exp_result_failures(&res), 0);
            od_exp_result_free(&res);
            od_params_free(&v);
        }
        /* chinchilla-refit writes no table without its data file: nothing to compare then */
        char cmd[1400];
        snprintf(cmd, sizeof cmd, "for f in %s/%s/*.tsv; do test ! -e \"$f\" || cmp -s \"$f\" "
                 "%s/%s/\"$(basename \"$f\")\" || exit 1; done", dirs[0], runs[e].name, dirs[1],
                 runs[e].name);
        CU_ASSERT_EQUAL(system(cmd), 0);
    }
    od_set_threads(2);
    free(std_out);
    free(std_err);
    std_out = std_err = NULL;
}

void od_test_suite_scaling_cli(void)
{
    static const od_test_case cases[] = {
        {"chinchilla: JSON keys, options, threads, --out", test_chinchilla},
        {"powerlaw, loglinear, lr-batch: JSON keys and values; --help", test_other_models},
        {"bad input: one line, exit 2, nothing written", test_bad_input},
        {"experiments: same tables for 1 and 2 threads", test_experiments_thread_invariant},
        {NULL, NULL}};
    od_test_add("scaling cli", cases);
}
