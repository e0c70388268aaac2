/* optdyn tests — atomic files, TSV tables and manifest.json. */
#include <dirent.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "core/optdyn_core.h"
#include "od_test.h"

void od_test_suite_output(void);

/* Number of entries of dir (other than . and ..) whose name contains needle (every entry when
 * needle is NULL). */
static int count_files(const char *dir, const char *needle)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d) return -1;
    for (struct dirent *e; (e = readdir(d));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        n += !needle || strstr(e->d_name, needle) != NULL;
    }
    closedir(d);
    return n;
}

static void test_roundtrip_bit_exact(void)
{
    const char *dir = od_test_tmpdir("table");
    double x[5] = {0.1, 1.0 / 3.0, -2.385e-300, 6.02214076e23, DBL_MIN};
    double y[5] = {NAN, INFINITY, -INFINITY, 0.0, -0.0};
    long k[5] = {1, -2, 3, 400000000000L, 0};
    od_table *t = od_table_alloc("rt");
    CU_ASSERT_EQUAL(od_table_meta(t, "model", "d = %d, line\nbreak", 3), OD_OK);
    CU_ASSERT_EQUAL(od_table_add_double(t, "x", x, 5), OD_OK);
    CU_ASSERT_EQUAL(od_table_add_double(t, "y", y, 5), OD_OK);
    CU_ASSERT_EQUAL(od_table_add_int(t, "k", k, 5), OD_OK);
    CU_ASSERT_EQUAL(od_table_write(t, dir), OD_OK);
    od_table *r = NULL;
    char path[600];
    snprintf(path, sizeof path, "%s/rt.tsv", dir);
    CU_ASSERT_EQUAL_FATAL(od_table_read(path, &r), OD_OK);
    CU_ASSERT_EQUAL(od_table_rows(r), 5);
    CU_ASSERT_EQUAL(od_table_cols(r), 3);
    const double *rx = od_table_column(r, "x"), *ry = od_table_column(r, "y"), *rk = od_table_column(r, "k");
    for (int i = 0; i < 5; i++) {
        CU_ASSERT_EQUAL(memcmp(&rx[i], &x[i], sizeof(double)), 0);   /* %.17g reads back exactly */
        CU_ASSERT_EQUAL(rk[i], (double)k[i]);
    }
    CU_ASSERT_TRUE(isnan(ry[0]));
    CU_ASSERT_TRUE(isinf(ry[1]) && ry[1] > 0);
    CU_ASSERT_TRUE(isinf(ry[2]) && ry[2] < 0);
    CU_ASSERT_TRUE(ry[4] == 0.0 && signbit(ry[4]));
    CU_ASSERT_STRING_EQUAL(od_table_meta_get(r, "model"), "d = 3, line break");
    CU_ASSERT_EQUAL(od_table_colnum(t, "y"), 2);
    CU_ASSERT_EQUAL(od_table_colnum(t, "nope"), 0);
    CU_ASSERT_EQUAL(count_files(dir, ".tmp"), 0);
    od_table_free(t);
    od_table_free(r);
}

static void test_append_and_errors(void)
{
    const char *dir = od_test_tmpdir("table_err");
    od_table *t = od_table_alloc("ap");
    od_table_add_double(t, "a", NULL, 0);
    od_table_add_double(t, "b", NULL, 0);
    for (int i = 0; i < 100; i++) {
        double row[2] = {i, i * 0.5};
        CU_ASSERT_EQUAL(od_table_append(t, row), OD_OK);
    }
    CU_ASSERT_EQUAL(od_table_rows(t), 100);
    CU_ASSERT_EQUAL(od_table_column(t, "b")[99], 49.5);
    CU_ASSERT_NOT_EQUAL(od_table_add_double(t, "a", NULL, 0), OD_OK);   /* duplicate */
    CU_ASSERT_NOT_EQUAL(od_table_add_double(t, "c\td", NULL, 0), OD_OK); /* tab in name */
    double c[3] = {1, 2, 3};
    CU_ASSERT_EQUAL(od_table_add_double(t, "c", c, 3), OD_OK);
    CU_ASSERT_EQUAL(od_table_write(t, dir), OD_EBADSIZE);               /* ragged columns */
    CU_ASSERT_EQUAL(count_files(dir, NULL), 0);                         /* nothing left */
    CU_ASSERT_EQUAL(count_files(dir, ".tmp"), 0);
    od_table_free(t);
    CU_ASSERT_PTR_NULL(od_table_alloc("bad/name"));
    CU_ASSERT_PTR_NULL(od_table_alloc(""));
}

static void test_read_errors(void)
{
    const char *dir = od_test_tmpdir("table_read");
    char path[600];
    snprintf(path, sizeof path, "%s/bad.tsv", dir);
    FILE *f = fopen(path, "w");
    fputs("# a: b\nx\ty\n1\t2\n3\tabc\n", f);
    fclose(f);
    od_table *t = NULL;
    CU_ASSERT_EQUAL(od_table_read(path, &t), OD_EPARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "bad.tsv:4"));
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "'y'"));
    CU_ASSERT_PTR_NULL(t);
    f = fopen(path, "w");
    fputs("x\ty\n1\t2\t3\n", f);
    fclose(f);
    CU_ASSERT_EQUAL(od_table_read(path, &t), OD_EPARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), ":2"));
    CU_ASSERT_EQUAL(od_table_read("/nonexistent/z.tsv", &t), OD_EIO);
}

static void test_folders(void)
{
    const char *dir = od_test_tmpdir("mk");
    char deep[600];
    snprintf(deep, sizeof deep, "%s/a/b/c", dir);
    CU_ASSERT_EQUAL(od_mkdir_p(deep), OD_OK);
    CU_ASSERT_EQUAL(od_mkdir_p(deep), OD_OK);   /* idempotent */
    char file[600];
    snprintf(file, sizeof file, "%s/plain", dir);
    fclose(fopen(file, "w"));
    CU_ASSERT_EQUAL(od_mkdir_p(file), OD_EIO);  /* a file, not a folder */
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "plain"));
    od_outfile o;
    CU_ASSERT_EQUAL(od_outfile_open(&o, "/nonexistent-dir", "x.tsv"), OD_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "nonexistent-dir"));
    /* an aborted file leaves nothing behind */
    CU_ASSERT_EQUAL_FATAL(od_outfile_open(&o, dir, "aborted.txt"), OD_OK);
    fputs("half", o.f);
    od_outfile_abort(&o);
    char p[600];
    snprintf(p, sizeof p, "%s/aborted.txt", dir);
    struct stat st;
    CU_ASSERT_NOT_EQUAL(stat(p, &st), 0);
    CU_ASSERT_EQUAL(count_files(dir, ".tmp"), 0);
}

static void test_manifest(void)
{
    const char *dir = od_test_tmpdir("manifest");
    od_manifest *m = od_manifest_alloc("run test");
    od_manifest_set_num(m, "seed", 42);
    od_manifest_set_num(m, "seed", 43);   /* replaced, not duplicated */
    od_manifest_param_num(m, "lr", 0.1);
    od_manifest_param_str(m, "features", "gaussian \"quoted\"");
    od_manifest_verdict(m, "claim-a", 1.0 / 3.0, 0.3, 0.05, "|m-p|<=tol", 1);
    od_manifest_file(m, "risk.tsv");
    od_manifest_note(m, "a note");
    CU_ASSERT_EQUAL(od_manifest_write(m, dir), OD_OK);
    od_manifest_free(m);
    char path[600];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    FILE *f = fopen(path, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    cJSON *j = cJSON_Parse(buf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(j, "seed")->valuedouble, 43);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(j, "version")->valuestring, od_version());
    cJSON *v = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "verdicts"), 0);
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(v, "measured")->valuedouble, 1.0 / 3.0);  /* 17 digits */
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(v, "verdict")->valuestring, "PASS");
    CU_ASSERT_STRING_EQUAL(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "parameters"), "features")->valuestring,
        "gaussian \"quoted\"");
    CU_ASSERT_TRUE(strlen(od_version()) > 0);
    cJSON_Delete(j);
}

void od_test_suite_output(void)
{
    static const od_test_case cases[] = {
        {"TSV round trip is bit-exact", test_roundtrip_bit_exact},
        {"append, ragged and invalid columns", test_append_and_errors},
        {"read errors name file, line and column", test_read_errors},
        {"folders and atomic files", test_folders},
        {"manifest.json", test_manifest},
        {NULL, NULL}};
    od_test_add("output", cases);
}
