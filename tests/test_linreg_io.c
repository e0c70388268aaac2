/* optdyn tests — linreg: spectra, initial profiles, schedules and algorithm specs (values against
 * their formulas; every error path names the spec, key, file or line). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linreg/optdyn_linreg.h"
#include "od_test.h"

void od_test_suite_linreg_io(void);

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

static void test_powerlaw_and_init(void)
{
    size_t d;
    double *l, *w;
    CU_ASSERT_EQUAL_FATAL(od_linreg_spectrum_from_spec("powerlaw:exp=1.37,d=29,scale=2.5", 1, &d, &l), OD_OK);
    CU_ASSERT_EQUAL(d, 29);
    for (size_t k = 0; k < d; k++) OD_ASSERT_REL(l[k], 2.5 * pow((double)k + 1, -1.37), 2 * DBL_EPSILON);
    CU_ASSERT_EQUAL(od_linreg_init_from_spec("const:-0.73", d, "x", &w), OD_OK);
    for (size_t k = 0; k < d; k++) CU_ASSERT_EQUAL(w[k], -0.73);
    od_free(w);
    CU_ASSERT_EQUAL(od_linreg_init_from_spec("powerlaw:exp=0.61,scale=3", d, "x", &w), OD_OK);
    OD_ASSERT_REL(w[10], 3 * pow(11.0, -0.61), 2 * DBL_EPSILON);
    od_free(w);
    od_free(l);
    /* errors name the spec and the key */
    static const char *bad[][2] = {
        {"powerlaw:exp=abc", "'exp'"}, {"powerlaw:d=0", "'d'"}, {"powerlaw:q=1", "'q'"},
        {"gamma:a=1", "'gamma'"},      {"mp:n=10,d=5000", "'d'"}, {"file:", "path"},
        {"", "empty"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int s = od_linreg_spectrum_from_spec(bad[i][0], 1, &d, &l);
        CU_ASSERT_NOT_EQUAL(s, OD_OK);
        CU_ASSERT_PTR_NULL(l);
        if (!strstr(od_last_error(), bad[i][1]))
            fprintf(stderr, "\n  spectrum '%s': message '%s'\n", bad[i][0], od_last_error());
        CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), bad[i][1]));
    }
    CU_ASSERT_EQUAL(od_linreg_init_from_spec("const:x", 3, "s", &w), OD_EPARSE);
    CU_ASSERT_EQUAL(od_linreg_init_from_spec("spike:k=1", 3, "s", &w), OD_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "spike"));
    CU_ASSERT_EQUAL(od_linreg_init_from_spec("powerlaw:exp=1,bogus=2", 3, "s", &w), OD_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "'bogus'"));
}

/* Marchenko–Pastur design: trace identity to rounding, the mean eigenvalue within 5 SE of 1, and
 * exactly d - n null eigenvalues when n < d. */
static void test_mp(void)
{
    const size_t n = 300, d = 120;
    double *l = od_vec_alloc(d);
    CU_ASSERT_EQUAL_FATAL(od_linreg_spectrum_mp(n, d, 2024, l), OD_OK);
    /* regenerate X from the documented stream layout: rows at (path 0, step i) of stream 0x100 */
    od_stream s;
    od_stream_init(&s, 2024, 0x100);
    double *row = od_vec_alloc(d), sumsq = 0, tr = 0;
    for (size_t i = 0; i < n; i++) {
        od_stream_seek(&s, 0, (uint32_t)i);
        od_stream_normals(&s, row, d);
        for (size_t k = 0; k < d; k++) sumsq += row[k] * row[k];
    }
    for (size_t k = 0; k < d; k++) tr += l[k];
    OD_ASSERT_REL(tr, sumsq / (double)n, 1e3 * DBL_EPSILON);
    for (size_t k = 1; k < d; k++) CU_ASSERT_TRUE(l[k] <= l[k - 1]);
    /* mean eigenvalue = sum of n d squares of N(0,1) / (n d): SE = sqrt(2 / (n d)) */
    OD_ASSERT_CLOSE(tr / (double)d, 1.0, 5 * sqrt(2.0 / (double)(n * d)));
    /* edges of the Marchenko–Pastur law (1 +- sqrt(d/n))^2 contain the spectrum up to finite-n
     * fluctuations of order n^(-2/3) (Tracy–Widom); allow 5 n^(-2/3) */
    double g = sqrt((double)d / (double)n), tw = 5 * pow((double)n, -2.0 / 3);
    CU_ASSERT_TRUE(l[0] <= (1 + g) * (1 + g) + tw && l[d - 1] >= (1 - g) * (1 - g) - tw);
    od_free(l);
    od_free(row);
    const size_t n2 = 40, d2 = 70;
    double *l2 = od_vec_alloc(d2);
    CU_ASSERT_EQUAL_FATAL(od_linreg_spectrum_mp(n2, d2, 7, l2), OD_OK);
    size_t zeros = 0;
    for (size_t k = 0; k < d2; k++) zeros += l2[k] == 0;
    CU_ASSERT_EQUAL(zeros, d2 - n2);
    CU_ASSERT_TRUE(l2[n2 - 1] > 1e-3);
    od_free(l2);
}

static void test_files(void)
{
    const char *dir = od_test_tmpdir("linreg-files");
    char sp[600], ip[600], bad[600], spec[700], spec2[700];
    snprintf(sp, sizeof sp, "%s/lam.txt", dir);
    snprintf(ip, sizeof ip, "%s/init.txt", dir);
    write_file(sp, "# eigenvalues\n1.5\n\n  0.25  # a comment\n0.125\n");
    write_file(ip, "0.5\n-2\n");
    snprintf(spec, sizeof spec, "file:%s", sp);
    size_t d;
    double *l, *w;
    CU_ASSERT_EQUAL_FATAL(od_linreg_spectrum_from_spec(spec, 1, &d, &l), OD_OK);
    CU_ASSERT_EQUAL(d, 3);
    CU_ASSERT_EQUAL(l[0], 1.5);
    CU_ASSERT_EQUAL(l[1], 0.25);
    CU_ASSERT_EQUAL(l[2], 0.125);
    /* d mismatch names both files */
    snprintf(spec2, sizeof spec2, "file:%s", ip);
    CU_ASSERT_EQUAL(od_linreg_init_from_spec(spec2, d, spec, &w), OD_EBADSIZE);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), ip));
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), sp));
    CU_ASSERT_PTR_NULL(w);
    od_free(l);
    /* malformed lines are named */
    static const char *cases[][2] = {
        {"1\n2\nthree\n", "line 3"}, {"1\n-2\n", "line 2"}, {"1 2\n", "line 1"},
        {"# only comments\n\n", "no values"}, {"1\nnan\n", "line 2"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(bad, sizeof bad, "%s/bad%zu.txt", dir, i);
        write_file(bad, cases[i][0]);
        snprintf(spec, sizeof spec, "file:%s", bad);
        CU_ASSERT_NOT_EQUAL(od_linreg_spectrum_from_spec(spec, 1, &d, &l), OD_OK);
        if (!strstr(od_last_error(), cases[i][1]))
            fprintf(stderr, "\n  case %zu: message '%s'\n", i, od_last_error());
        CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), cases[i][1]));
        CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), bad));
    }
    snprintf(spec, sizeof spec, "file:%s/missing.txt", dir);
    CU_ASSERT_EQUAL(od_linreg_spectrum_from_spec(spec, 1, &d, &l), OD_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "missing.txt"));
    /* all-zero spectrum */
    snprintf(bad, sizeof bad, "%s/zeros.txt", dir);
    write_file(bad, "0\n0\n");
    snprintf(spec, sizeof spec, "file:%s", bad);
    CU_ASSERT_EQUAL(od_linreg_spectrum_from_spec(spec, 1, &d, &l), OD_ERANGE);
}

static void test_schedules(void)
{
    od_linreg_schedule s;
    const uint64_t N = 1000;
    CU_ASSERT_EQUAL_FATAL(od_linreg_schedule_parse("stepdecay:start=200", N, &s), OD_OK);
    const uint64_t K = (uint64_t)floor(800 / log(800.0));   /* 119 */
    CU_ASSERT_EQUAL(od_linreg_schedule_mult(&s, 199), 1.0);
    CU_ASSERT_EQUAL(od_linreg_schedule_mult(&s, 200), 0.5);
    CU_ASSERT_EQUAL(od_linreg_schedule_mult(&s, 200 + K - 1), 0.5);
    CU_ASSERT_EQUAL(od_linreg_schedule_mult(&s, 200 + K), 0.25);
    CU_ASSERT_EQUAL(od_linreg_schedule_mult(&s, 200 + 6 * K), 1.0 / 128);
    CU_ASSERT_EQUAL_FATAL(od_linreg_schedule_parse("poly:t0=7,p=0.6", N, &s), OD_OK);
    OD_ASSERT_REL(od_linreg_schedule_mult(&s, 33), pow(1 + 33 / 7.0, -0.6), 2 * DBL_EPSILON);
    CU_ASSERT_EQUAL_FATAL(od_linreg_schedule_parse("cosine:final=0.1", N, &s), OD_OK);
    CU_ASSERT_EQUAL(od_linreg_schedule_mult(&s, 0), 1.0);
    OD_ASSERT_CLOSE(od_linreg_schedule_mult(&s, 500), 0.55, 4 * DBL_EPSILON);
    CU_ASSERT_EQUAL(od_linreg_schedule_mult(&s, N), 0.1);
    /* warmup-stable-decay: hold to 800, cooldown over 200 */
    CU_ASSERT_EQUAL_FATAL(od_linreg_schedule_parse("wsd:cool=0.2,shape=1-sqrt,warmup=50,final=0.05", N, &s), OD_OK);
    OD_ASSERT_CLOSE(od_linreg_schedule_mult(&s, 10), 0.2 + 0.8 / 100, 4 * DBL_EPSILON);
    CU_ASSERT_EQUAL(od_linreg_schedule_mult(&s, 799), 1.0);
    OD_ASSERT_CLOSE(od_linreg_schedule_mult(&s, 850), 0.05 + 0.95 * (1 - 0.5), 4 * DBL_EPSILON);
    CU_ASSERT_EQUAL(od_linreg_schedule_mult(&s, N), 0.05);
    CU_ASSERT_EQUAL_FATAL(od_linreg_schedule_parse("wsd:cool=0.2,shape=linear", N, &s), OD_OK);
    OD_ASSERT_CLOSE(od_linreg_schedule_mult(&s, 850), 0.75, 4 * DBL_EPSILON);
    CU_ASSERT_EQUAL_FATAL(od_linreg_schedule_parse("piecewise:at=10|20,mult=0.5|0.125", N, &s), OD_OK);
    CU_ASSERT_EQUAL(od_linreg_schedule_mult(&s, 9), 1.0);
    CU_ASSERT_EQUAL(od_linreg_schedule_mult(&s, 15), 0.5);
    CU_ASSERT_EQUAL(od_linreg_schedule_mult(&s, 25), 0.125);
    CU_ASSERT_EQUAL_FATAL(od_linreg_schedule_parse("const", N, &s), OD_OK);
    CU_ASSERT_TRUE(od_linreg_schedule_is_const(&s));
    static const char *bad[][2] = {
        {"exp:rate=1", "'exp'"},         {"stepdecay:start=1000", "start"},
        {"wsd:shape=sqrt", "'shape'"},   {"cosine:final=2", "'final'"},
        {"piecewise:at=5|3,mult=1|2", "increase"}, {"piecewise:at=5,mult=1|2", "same number"},
        {"const:x=1", "no parameters"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_NOT_EQUAL(od_linreg_schedule_parse(bad[i][0], N, &s), OD_OK);
        if (!strstr(od_last_error(), bad[i][1]))
            fprintf(stderr, "\n  schedule '%s': '%s'\n", bad[i][0], od_last_error());
        CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), bad[i][1]));
    }
}

static void test_algo_specs(void)
{
    od_linreg_algo a = od_linreg_algo_sgd(0.3, 4);
    CU_ASSERT_EQUAL(od_linreg_algo_parse("ema:alpha=0.97", &a), OD_OK);
    CU_ASSERT_TRUE(a.method == &od_linreg_sgd && a.output == OD_LINREG_OUT_EMA && a.ema == 0.97);
    CU_ASSERT_EQUAL(a.batch, 4);
    CU_ASSERT_EQUAL(od_linreg_algo_parse("tail:start=50", &a), OD_OK);
    CU_ASSERT_TRUE(a.output == OD_LINREG_OUT_TAIL && a.tail_start == 50);
    CU_ASSERT_EQUAL(od_linreg_algo_parse("avg", &a), OD_OK);
    CU_ASSERT_EQUAL(a.output, OD_LINREG_OUT_AVG);
    CU_ASSERT_EQUAL(od_linreg_algo_parse("hb:mu=0.8", &a), OD_OK);
    CU_ASSERT_TRUE(a.method == &od_linreg_hb && a.mu == 0.8 && a.output == OD_LINREG_OUT_LAST);
    CU_ASSERT_EQUAL(od_linreg_algo_parse("asgd:alpha=0.9,beta=0.2,gamma=1.5,delta=0.05", &a), OD_OK);
    CU_ASSERT_TRUE(a.method == &od_linreg_asgd && a.gamma == 1.5 && a.lr == 0.05);
    CU_ASSERT_EQUAL(od_linreg_algo_parse("sgd", &a), OD_OK);
    CU_ASSERT_TRUE(a.method == &od_linreg_sgd && a.output == OD_LINREG_OUT_LAST);
    static const char *bad[][2] = {
        {"adam", "'adam'"}, {"ema:alpha=1", "'alpha'"}, {"hb:mu=0.5,nu=1", "'nu'"},
        {"sgd:lr=1", "no parameters"}, {"tail:start=-1", "'start'"}, {":x", "empty"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_NOT_EQUAL(od_linreg_algo_parse(bad[i][0], &a), OD_OK);
        if (!strstr(od_last_error(), bad[i][1]))
            fprintf(stderr, "\n  algo '%s': '%s'\n", bad[i][0], od_last_error());
        CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), bad[i][1]));
    }
    char buf[256];
    a = od_linreg_algo_hb(0.2, 0.5, 8);
    od_linreg_algo_describe(&a, buf, sizeof buf);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "heavy ball"));
    CU_ASSERT_PTR_NOT_NULL(od_linreg_features_lookup("uniform"));
    CU_ASSERT_PTR_NULL(od_linreg_features_lookup("cauchy"));
}

void od_test_suite_linreg_io(void)
{
    static const od_test_case cases[] = {
        {"power-law spectra and initial profiles; spec errors", test_powerlaw_and_init},
        {"Marchenko–Pastur design spectrum", test_mp},
        {"spectrum and init files; malformed lines named", test_files},
        {"schedules against their formulas", test_schedules},
        {"--algo specs", test_algo_specs},
        {NULL, NULL}};
    od_test_add("linreg-io", cases);
}
