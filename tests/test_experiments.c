/* optdyn tests — the experiment framework and the registry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "experiments/optdyn_experiments.h"
#include "od_test.h"

/* ---- a tiny experiment exercising every claim relation ---------------------------------------- */
static const od_param toy_params[] = {
    {"x", OD_PARAM_DOUBLE, 1.5, 0.5, 0, 10, 0, NULL, NULL, "a value"},
    {"n", OD_PARAM_INT, 4, OD_SAME, 1, 100, 0, NULL, NULL, "a count"},
};
static const od_claim_doc toy_claims[] = {
    {"close-pass", "1.5 close to 1.4"}, {"close-fail", "1.5 not close to 1"},
    {"le", "x <= 2"}, {"ge", "x >= 2"}, {"range", "x in [1, 2]"}, {"check", "a boolean"},
};
static int toy_validate(const od_params *v)
{
    if (od_params_num(v, "x") > (double)od_params_int(v, "n"))
        OD_ERROR("x must not exceed n", OD_ERANGE);
    return OD_OK;
}
static int toy_run(od_run *r)
{
    double x = od_run_num(r, "x");
    od_table *t = od_table_alloc("toy");
    double col[3] = {x, 2 * x, 3 * x};
    od_table_add_double(t, "v", col, 3);
    int s = od_run_table(r, t);
    od_table_free(t);
    if (s) return s;
    od_run_claim_close(r, "close-pass", x, x - 0.1, 0.2);
    od_run_claim_close(r, "close-fail", x, x - 0.5, 0.2);
    od_run_claim_le(r, "le", x, 2);
    od_run_claim_ge(r, "ge", x, 2);
    od_run_claim_range(r, "range", x, 1, 2);
    od_run_claim_check(r, "check", 1, NAN, 0, "is finite");   /* non-finite measured fails */
    od_run_note(r, "seed %llu", (unsigned long long)od_run_seed(r));
    CU_ASSERT_EQUAL(od_run_claim_le(r, "undocumented", 0, 1), OD_EINTERNAL);
    return OD_OK;
}
static const od_experiment toy = {
    .name = "toy", .title = "toy", .reference = "none", .summary = "test", .params = toy_params,
    .n_params = 2, .claims = toy_claims, .n_claims = 6, .validate = toy_validate, .run = toy_run};

static void test_toy_run(void)
{
    const char *dir = od_test_tmpdir("exp");
    od_params v;
    char *assign[] = {"x=1.5"};
    CU_ASSERT_EQUAL_FATAL(od_exp_params(&toy, 0, assign, 1, &v), OD_OK);
    od_run_options o = od_run_default_options();
    o.out_root = dir;
    o.render = 0;
    o.quiet = 1;
    od_exp_result res;
    CU_ASSERT_EQUAL_FATAL(od_exp_run(&toy, &v, &o, &res), OD_OK);
    CU_ASSERT_EQUAL(res.n_claims, 6);
    int expect[6] = {1, 0, 1, 0, 1, 0};
    for (int i = 0; i < 6; i++) CU_ASSERT_EQUAL(res.claims[i].pass, expect[i]);
    CU_ASSERT_EQUAL(od_exp_result_failures(&res), 3);
    CU_ASSERT_EQUAL(res.n_notes, 1);
    char p[600];
    struct stat st;
    snprintf(p, sizeof p, "%s/toy/toy.tsv", dir);
    CU_ASSERT_EQUAL(stat(p, &st), 0);
    snprintf(p, sizeof p, "%s/toy/manifest.json", dir);
    CU_ASSERT_EQUAL(stat(p, &st), 0);
    od_exp_result_free(&res);
    od_params_free(&v);
}

static void test_params_validated_first(void)
{
    od_params v;
    char *bad_key[] = {"y=1"}, *bad_range[] = {"x=11"}, *bad_cross[] = {"x=5", "n=3"};
    CU_ASSERT_EQUAL(od_exp_params(&toy, 0, bad_key, 1, &v), OD_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "toy"));
    CU_ASSERT_EQUAL(od_exp_params(&toy, 0, bad_range, 1, &v), OD_ERANGE);
    CU_ASSERT_EQUAL(od_exp_params(&toy, 0, bad_cross, 2, &v), OD_ERANGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "x must not exceed n"));
    CU_ASSERT_EQUAL(od_exp_params(&toy, 1, NULL, 0, &v), OD_OK);
    CU_ASSERT_EQUAL(od_params_num(&v, "x"), 0.5);   /* quick value */
    od_params_free(&v);
}

/* Every registered experiment is complete, documented, and valid at its default and quick sizes. */
static void test_registry(void)
{
    size_t n = 0;
    for (; od_exp_registry[n]; n++) {
        const od_experiment *e = od_exp_registry[n];
        CU_ASSERT_PTR_NOT_NULL(e->title);
        CU_ASSERT_TRUE(e->reference && strlen(e->reference) > 10);
        CU_ASSERT_TRUE(e->summary && strlen(e->summary) > 20);
        CU_ASSERT_TRUE(e->n_claims > 0);
        CU_ASSERT_PTR_EQUAL(od_exp_find(e->name), e);
        for (size_t m = 0; m < n; m++) CU_ASSERT_STRING_NOT_EQUAL(od_exp_registry[m]->name, e->name);
        for (size_t i = 0; i < e->n_params; i++) CU_ASSERT_TRUE(e->params[i].help && *e->params[i].help);
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", OD_SOURCE_DIR, e->doc ? e->doc : "(none)");
        struct stat st;
        if (stat(path, &st) != 0) fprintf(stderr, "\n  %s: missing docs page %s\n", e->name, path);
        CU_ASSERT_EQUAL(stat(path, &st), 0);
        for (int quick = 0; quick <= 1; quick++) {
            od_params v;
            int s = od_exp_params(e, quick, NULL, 0, &v);
            if (s) fprintf(stderr, "\n  %s: %s\n", e->name, od_last_error());
            CU_ASSERT_EQUAL(s, OD_OK);
            if (s == OD_OK) {
                /* every default lies in its documented range: re-setting it is accepted */
                for (size_t i = 0; i < v.n; i++) {
                    char text[128];
                    od_params_value_str(&v, i, text, sizeof text);
                    CU_ASSERT_EQUAL(od_params_set(&v, e->name, e->params[i].name, text), OD_OK);
                }
                od_params_free(&v);
            }
        }
    }
    CU_ASSERT_TRUE(n >= 1);
    CU_ASSERT_PTR_NULL(od_exp_find("no-such-experiment"));
}

/* The OU experiment at quick sizes writes identical tables with 1 and 2 threads. */
static void test_thread_invariant_run(void)
{
    char *assign[] = {"paths=2000", "series_paths=500", "series_steps=256"};
    const char *files[] = {"orders.tsv", "ou_moments.tsv", NULL};
    od_test_exp_threads("ou-euler-maruyama", assign, 3, files);
}

/* Every catalogued problem builds from its defaults, and lookups across catalogs name the spec. */
static void test_problem_catalogs(void)
{
    size_t n = 0;
    for (size_t c = 0; od_problem_catalogs[c]; c++)
        for (size_t i = 0; od_problem_catalogs[c][i]; i++, n++) {
            od_problem *p = NULL;
            int s = od_exp_problem(od_problem_catalogs[c][i]->name, 7, &p);
            if (s) fprintf(stderr, "\n  %s: %s\n", od_problem_catalogs[c][i]->name, od_last_error());
            CU_ASSERT_EQUAL(s, OD_OK);
            CU_ASSERT_TRUE(p && p->dim > 0);
            od_problem_free(p);
        }
    CU_ASSERT_TRUE(n >= 5);
    od_problem *p = NULL;
    CU_ASSERT_EQUAL(od_exp_problem("no-such-problem:d=3", 7, &p), OD_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "no-such-problem"));
    CU_ASSERT_EQUAL(od_exp_problem("linreg:d=0", 7, &p), OD_ERANGE);
    CU_ASSERT_PTR_NULL(p);
}

static void od_test_suite_experiments(void)
{
    static const od_test_case cases[] = {
        {"a run records claims, notes, tables and the manifest", test_toy_run},
        {"parameters are validated before any work", test_params_validated_first},
        {"registry entries are complete and valid", test_registry},
        {"same tables for 1 and 2 threads", test_thread_invariant_run},
        {"every catalogued problem builds", test_problem_catalogs},
        {NULL, NULL}};
    od_test_add("experiments", cases);
}

int main(int argc, char **argv)
{
    static od_test_suite_fn *const suites[] = {od_test_suite_experiments, NULL};
    return od_test_main(argc, argv, suites);
}
