/* optdyn tests — `optdyn stability` as a user meets it: help, the --json keys of issue 5 with values
 * checked against closed forms, --model, thread invariance, and every kind of bad input (one line
 * naming the culprit and the file line, exit status 2, nothing written). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "od_test.h"
#include "test_spectra.h"

static char *out_buf, *err_buf;

static int cli(const char *args)
{
    free(out_buf);
    free(err_buf);
    int st = od_test_run(OD_CLI_PATH, args, &out_buf, &err_buf);
    if (!out_buf) out_buf = calloc(1, 1);
    if (!err_buf) err_buf = calloc(1, 1);
    return st;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

static double num(cJSON *j, const char *key)
{
    cJSON *v = cJSON_GetObjectItem(j, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* d = 1, h = (0.5, 1.7, 2.9): η* = 2h̄/((1 + β − α)h̄² + α m₂) (spectra.md §6.1 in one dimension). */
static void test_json(void)
{
    system("rm -rf od-test-tmp/stab-run");
    CU_ASSERT_EQUAL(cli("stability --help"), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out_buf, "usage: optdyn stability"));
    write_file("od-test-tmp/stab-1d.txt", "# scalar per-sample Hessians\n3 1\n0.5\n1.7\n\n2.9\n");
    CU_ASSERT_EQUAL_FATAL(cli("stability --hessians od-test-tmp/stab-1d.txt --sampling without --batch 2 --threshold "
                              "--json --no-plot --out od-test-tmp/stab-run"), 0);
    cJSON *j = cJSON_Parse(out_buf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    static const char *keys[] = {"n", "d", "sharpness", "gd_threshold", "threshold_lr", "coherence", "nonuniformity",
                                 "wme_sufficient_lr"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) CU_ASSERT_PTR_NOT_NULL(cJSON_GetObjectItem(j, keys[k]));
    CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(j, "spectral_radius"));
    CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(j, "lyapunov"));
    const double hb = 5.1 / 3, m2 = (0.25 + 2.89 + 8.41) / 3, al = 1.0 / 4;   /* (n − B)/(B(n − 1)) */
    const double want = 2 * hb / ((1 - al) * hb * hb + al * m2);
    CU_ASSERT_EQUAL(num(j, "n"), 3);
    CU_ASSERT_EQUAL(num(j, "d"), 1);
    OD_ASSERT_REL(num(j, "sharpness"), hb, 1e-14);
    OD_ASSERT_REL(num(j, "gd_threshold"), 2 / hb, 1e-14);
    OD_ASSERT_REL(num(j, "threshold_lr"), want, 1e-9);
    OD_ASSERT_REL(num(j, "wme_sufficient_lr"), want, 1e-12);   /* exact in one dimension */
    OD_ASSERT_REL(num(j, "nonuniformity"), sqrt(m2 - hb * hb), 1e-12);
    /* S_ij = sqrt(h_i h_j) (1-D) = v_i v_j with v_i = sqrt(h_i): λ_1(S) = Σ h_i, σ = Σ h_i / max h_i */
    OD_ASSERT_REL(num(j, "coherence"), 5.1 / 2.9, 1e-12);
    cJSON_Delete(j);
    struct stat sb;
    CU_ASSERT_EQUAL(stat("od-test-tmp/stab-run/stability/summary.tsv", &sb), 0);
    CU_ASSERT_EQUAL(stat("od-test-tmp/stab-run/stability/manifest.json", &sb), 0);
    /* --lr: spectral_radius (ρ = 1 − 2ηh̄ + η²[(1−α)h̄² + αm₂] in 1-D), and --lyapunov */
    CU_ASSERT_EQUAL_FATAL(cli("stability --hessians od-test-tmp/stab-1d.txt --sampling without --batch 2 --lr 0.61 "
                              "--lyapunov 400 --paths 8 --json --no-plot --out od-test-tmp/stab-run"), 0);
    j = cJSON_Parse(out_buf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    OD_ASSERT_REL(num(j, "spectral_radius"), 1 - 1.22 * hb + 0.61 * 0.61 * ((1 - al) * hb * hb + al * m2), 1e-12);
    CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(j, "threshold_lr"));
    CU_ASSERT_TRUE(num(j, "lyapunov") <= 0.5 * log(num(j, "spectral_radius")) + 4 * num(j, "lyapunov_se"));
    cJSON_Delete(j);
    /* a problem's per-sample Hessians; the same bytes on 1 and 2 threads */
    const char *m = "stability --model linreg-data:n=12,d=30 --batch 3 --lr 0.01 --lyapunov 300 --paths 40 --json --no-plot "
                    "--out od-test-tmp/stab-run";
    char args[512];
    snprintf(args, sizeof args, "%s --threads 1", m);
    CU_ASSERT_EQUAL_FATAL(cli(args), 0);
    j = cJSON_Parse(out_buf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_EQUAL(num(j, "n"), 12);
    CU_ASSERT_EQUAL(num(j, "d"), 30);
    CU_ASSERT_EQUAL(num(j, "r"), 12);   /* over-parameterised: W = span of the 12 inputs */
    cJSON_Delete(j);
    char *a = strdup(out_buf), *ca = od_test_slurp("od-test-tmp/stab-run/stability/rho_curve.tsv");
    snprintf(args, sizeof args, "%s --threads 2", m);
    CU_ASSERT_EQUAL(cli(args), 0);
    CU_ASSERT_STRING_EQUAL(a, out_buf);
    char *cb = od_test_slurp("od-test-tmp/stab-run/stability/rho_curve.tsv");   /* the curve is an od_map */
    CU_ASSERT_TRUE(ca && cb && strcmp(ca, cb) == 0);
    free(a);
    free(ca);
    free(cb);
}

static void test_bad_input(void)
{
    write_file("od-test-tmp/stab-asym.txt", "2 2\n1 0.5\n0.5 1\n# H_2\n2 0.3\n0.1 1\n");
    write_file("od-test-tmp/stab-cols.txt", "2 2\n1 0\n0 1\n1 0 0\n0 1\n");
    write_file("od-test-tmp/stab-short.txt", "2 2\n1 0\n0 1\n1 0\n");
    write_file("od-test-tmp/stab-long.txt", "1 2\n1 0\n0 1\n5 5\n");
    write_file("od-test-tmp/stab-nan.txt", "1 2\n1 zero\n0 1\n");
    write_file("od-test-tmp/stab-size.txt", "2 two\n");
    write_file("od-test-tmp/stab-ok.txt", "2 2\n1 0\n0 1\n2 0\n0 3\n");
    static const char *cases[][2] = {
        {"stability --hessians od-test-tmp/stab-asym.txt --threshold", "stab-asym.txt:5: H_2 is not symmetric"},
        {"stability --hessians od-test-tmp/stab-cols.txt --threshold", "stab-cols.txt:4: expected d = 2 numbers"},
        {"stability --hessians od-test-tmp/stab-short.txt --threshold", "stab-short.txt:4: the file ends after 3 of"},
        {"stability --hessians od-test-tmp/stab-long.txt --threshold", "stab-long.txt:4: extra data"},
        {"stability --hessians od-test-tmp/stab-nan.txt --threshold", "stab-nan.txt:2: field 2 'zero'"},
        {"stability --hessians od-test-tmp/stab-size.txt --threshold", "stab-size.txt:1: expected the sizes"},
        {"stability --hessians od-test-tmp/none.txt --threshold", "none.txt: cannot read"},
        {"stability --hessians od-test-tmp/stab-ok.txt --sampling without --batch 3 --threshold", "--batch 3: batch B = 3 exceeds n = 2"},
        {"stability --hessians od-test-tmp/stab-ok.txt --sampling bernoulli --batch 5 --threshold", "exceeds n = 2"},
        {"stability --hessians od-test-tmp/stab-ok.txt --sampling shuffle --threshold", "'shuffle'"},
        {"stability --hessians od-test-tmp/stab-ok.txt", "exactly one of --lr"},
        {"stability --hessians od-test-tmp/stab-ok.txt --lr 0.1 --threshold", "exactly one of --lr"},
        {"stability --hessians od-test-tmp/stab-ok.txt --lr 0", "--lr"},
        {"stability --threshold", "exactly one of --hessians"},
        {"stability --hessians od-test-tmp/stab-ok.txt --model logreg --threshold", "exactly one of --hessians"},
        {"stability --model quadratic:d=3 --threshold", "no per-sample Hessians"},
        {"stability --model nosuch --threshold", "'nosuch'"},
        {"stability --hessians od-test-tmp/stab-ok.txt --batch 0 --threshold", "--batch"},
        {"stability --hessians od-test-tmp/stab-ok.txt --threshold --lyapunov -5", "--lyapunov"},
        {"stability --hessians od-test-tmp/stab-ok.txt --threshold --bogus", "'--bogus'"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        system("rm -rf od-test-tmp/stab-bad");
        char args[512];
        snprintf(args, sizeof args, "%s --out od-test-tmp/stab-bad", cases[c][0]);
        const int code = cli(args);
        const int ok = code == 2 && strstr(err_buf, cases[c][1]) && od_test_count_lines(err_buf) == 1;
        if (!ok) fprintf(stderr, "\n  '%s': exit %d, stderr: %s", args, code, err_buf);
        CU_ASSERT_TRUE(ok);
        struct stat sb;
        CU_ASSERT_NOT_EQUAL(stat("od-test-tmp/stab-bad", &sb), 0);   /* nothing written */
    }
}

void od_test_suite_spectra_stability_cli(void)
{
    static const od_test_case cases[] = {
        {"optdyn stability: --json keys against closed forms, --model, threads", test_json},
        {"optdyn stability: bad input (file line named, exit 2, nothing written)", test_bad_input},
        {NULL, NULL}};
    od_test_add("spectra stability CLI", cases);
}
