/* optdyn tests — parameter tables and spec strings. */
#include <string.h>

#include "core/optdyn_core.h"
#include "od_test.h"

void od_test_suite_param(void);

static const od_param table[] = {
    {"lr", OD_PARAM_DOUBLE, 0.125, 0.5, 0, 2, OD_LO_OPEN, NULL, NULL, "step"},
    {"steps", OD_PARAM_INT, 1000, 10, 1, 1e6, 0, NULL, NULL, "steps"},
    {"avg", OD_PARAM_BOOL, 0, OD_SAME, 0, 1, 0, NULL, NULL, "average"},
    {"features", OD_PARAM_CHOICE, 1, OD_SAME, 0, 0, 0, "gaussian|rademacher|uniform", NULL, "law"},
    {"file", OD_PARAM_STRING, 0, OD_SAME, 0, 0, 0, NULL, "none", "path", "small.txt"},
    {"tag", OD_PARAM_STRING, 0, OD_SAME, 0, 0, 0, NULL, "t0", "label"},
};
#define NT (sizeof table / sizeof table[0])

static void test_defaults_and_quick(void)
{
    od_params v, q;
    CU_ASSERT_EQUAL_FATAL(od_params_init(&v, table, NT, 0), OD_OK);
    CU_ASSERT_EQUAL_FATAL(od_params_init(&q, table, NT, 1), OD_OK);
    CU_ASSERT_EQUAL(od_params_num(&v, "lr"), 0.125);
    CU_ASSERT_EQUAL(od_params_num(&q, "lr"), 0.5);
    CU_ASSERT_EQUAL(od_params_int(&q, "steps"), 10);
    CU_ASSERT_EQUAL(od_params_int(&q, "avg"), 0);   /* OD_SAME keeps the default */
    CU_ASSERT_STRING_EQUAL(od_params_str(&v, "features"), "rademacher");
    CU_ASSERT_STRING_EQUAL(od_params_str(&v, "file"), "none");
    CU_ASSERT_STRING_EQUAL(od_params_str(&q, "file"), "small.txt");   /* quickstr */
    CU_ASSERT_STRING_EQUAL(od_params_str(&q, "tag"), "t0");           /* no quickstr: default */
    CU_ASSERT_FALSE(od_params_given(&v, "lr"));
    od_params_free(&v);
    od_params_free(&q);
}

static void test_set_valid(void)
{
    od_params v;
    od_params_init(&v, table, NT, 0);
    CU_ASSERT_EQUAL(od_params_assign(&v, "t", "lr=2"), OD_OK);         /* closed upper bound */
    CU_ASSERT_EQUAL(od_params_num(&v, "lr"), 2.0);
    CU_ASSERT_EQUAL(od_params_assign(&v, "t", "steps=1e5"), OD_OK);    /* integral float form */
    CU_ASSERT_EQUAL(od_params_int(&v, "steps"), 100000);
    CU_ASSERT_EQUAL(od_params_assign(&v, "t", "avg=yes"), OD_OK);
    CU_ASSERT_EQUAL(od_params_num(&v, "avg"), 1);
    CU_ASSERT_EQUAL(od_params_assign(&v, "t", "features=uniform"), OD_OK);
    CU_ASSERT_EQUAL(od_params_num(&v, "features"), 2);
    CU_ASSERT_EQUAL(od_params_assign_list(&v, "t", "file=a=b.txt,lr=0.3", ','), OD_OK);
    CU_ASSERT_STRING_EQUAL(od_params_str(&v, "file"), "a=b.txt");
    CU_ASSERT_EQUAL(od_params_num(&v, "lr"), 0.3);
    CU_ASSERT_TRUE(od_params_given(&v, "lr"));
    od_params_free(&v);
}

/* Every error names the context and the key, and leaves the value unchanged. */
static void expect_error(od_params *v, const char *assignment, int status, const char *needle)
{
    double before = v->num[0];
    int s = od_params_assign(v, "ctx", assignment);
    CU_ASSERT_EQUAL(s, status);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), needle));
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "ctx"));
    CU_ASSERT_EQUAL(v->num[0], before);
}

static void test_set_errors(void)
{
    od_params v;
    od_params_init(&v, table, NT, 0);
    expect_error(&v, "lr=0", OD_ERANGE, "'lr'");          /* open lower bound */
    expect_error(&v, "lr=2.0000001", OD_ERANGE, "'lr'");
    expect_error(&v, "lr=abc", OD_EPARSE, "'lr'");
    expect_error(&v, "lr=1x", OD_EPARSE, "'lr'");
    expect_error(&v, "lr=nan", OD_EPARSE, "'lr'");
    expect_error(&v, "lr=inf", OD_EPARSE, "'lr'");
    expect_error(&v, "lr=", OD_EPARSE, "'lr'");
    expect_error(&v, "steps=2.5", OD_EPARSE, "'steps'");
    expect_error(&v, "steps=0", OD_ERANGE, "'steps'");
    expect_error(&v, "avg=maybe", OD_EPARSE, "'avg'");
    expect_error(&v, "features=cauchy", OD_EPARSE, "gaussian|rademacher|uniform");
    expect_error(&v, "nosuch=1", OD_ENOTFOUND, "'nosuch'");
    expect_error(&v, "=1", OD_EPARSE, "key=value");
    expect_error(&v, "lr", OD_EPARSE, "key=value");
    od_params_free(&v);
}

static void test_spec_split_and_lists(void)
{
    char name[32];
    const char *rest;
    CU_ASSERT_EQUAL(od_spec_split("powerlaw:exp=2,d=100", name, sizeof name, &rest), OD_OK);
    CU_ASSERT_STRING_EQUAL(name, "powerlaw");
    CU_ASSERT_STRING_EQUAL(rest, "exp=2,d=100");
    CU_ASSERT_EQUAL(od_spec_split("file:/a:b/c", name, sizeof name, &rest), OD_OK);
    CU_ASSERT_STRING_EQUAL(rest, "/a:b/c");
    CU_ASSERT_EQUAL(od_spec_split("sgd", name, sizeof name, &rest), OD_OK);
    CU_ASSERT_STRING_EQUAL(rest, "");
    CU_ASSERT_EQUAL(od_spec_split(":x=1", name, sizeof name, &rest), OD_EPARSE);
    double xs[4];
    size_t n;
    CU_ASSERT_EQUAL(od_parse_doubles("1|0.1|2.5e-3", '|', xs, 4, &n, "lambda"), OD_OK);
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_EQUAL(xs[2], 2.5e-3);
    CU_ASSERT_EQUAL(od_parse_doubles("1||2", '|', xs, 4, &n, "lambda"), OD_EPARSE);
    CU_ASSERT_EQUAL(od_parse_doubles("1|2|", '|', xs, 4, &n, "lambda"), OD_EPARSE);
    CU_ASSERT_EQUAL(od_parse_doubles("1|2|3|4|5", '|', xs, 4, &n, "lambda"), OD_ERANGE);
    CU_ASSERT_EQUAL(od_parse_doubles("1|x", '|', xs, 4, &n, "lambda"), OD_EPARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "lambda"));
}

static void test_range_text(void)
{
    char buf[64];
    od_param_range_str(&table[0], buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "(0, 2]");
    od_param_range_str(&table[3], buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "gaussian|rademacher|uniform");
}

static void test_status_list(void)
{
    CU_ASSERT_STRING_EQUAL(od_strerror(OD_OK), "success");
    CU_ASSERT_STRING_EQUAL(od_strerror(OD_EDIVERGED), "iteration diverged");
    CU_ASSERT_STRING_EQUAL(od_strerror(12345), "unknown status");
}

static int handler_calls, handler_status;
static void counting_handler(const char *reason, const char *file, int line, int status)
{
    (void)reason;
    (void)file;
    CU_ASSERT_TRUE(line > 0);
    handler_calls++;
    handler_status = status;
}

static int raise_range(void) { OD_ERRORF(OD_ERANGE, "value %d too big", 7); }

static void test_error_handler(void)
{
    od_error_handler_fn *old = od_set_error_handler(counting_handler);
    handler_calls = 0;
    CU_ASSERT_EQUAL(raise_range(), OD_ERANGE);
    CU_ASSERT_EQUAL(handler_calls, 1);
    CU_ASSERT_EQUAL(handler_status, OD_ERANGE);
    CU_ASSERT_STRING_EQUAL(od_last_error(), "value 7 too big");
    od_set_error_handler(old);
    od_clear_error();
    CU_ASSERT_STRING_EQUAL(od_last_error(), "");
}

void od_test_suite_param(void)
{
    static const od_test_case cases[] = {
        {"defaults and quick values", test_defaults_and_quick},
        {"valid assignments", test_set_valid},
        {"errors name the key and change nothing", test_set_errors},
        {"spec strings and lists", test_spec_split_and_lists},
        {"range text", test_range_text},
        {"status list", test_status_list},
        {"error handler", test_error_handler},
        {NULL, NULL}};
    od_test_add("param", cases);
}
