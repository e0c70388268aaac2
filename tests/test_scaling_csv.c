/* optdyn tests — CSV reading: quoting, comments, blank lines, missing values, and every error. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "test_scaling.h"

static od_scaling_csv *parse(const char *text)
{
    od_scaling_csv *c = NULL;
    int st = od_scaling_csv_parse(text, strlen(text), "t.csv", &c);
    if (st) fprintf(stderr, "\n  parse failed: %s\n", od_last_error());
    return c;
}

static void test_quoting_and_layout(void)
{
    const char *text =
        "\xEF\xBB\xBF# a comment before the header\n"
        "\"Model Size\", \"Training FLOP\" ,loss,note\r\n"
        "\n"
        "5.5e8, 1.25e20 ,2.837,\"quoted, with a comma\"\r\n"
        "   # an indented comment\n"
        "7e8,2.5e20,2.75,\"two\n"
        "lines and a \"\"quote\"\"\"\n"
        "\t\n"
        "9e8,5e20,NA,plain\n"
        "1.1e9,1e21,,\n";
    od_scaling_csv *c = parse(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(od_scaling_csv_cols(c), 4);
    CU_ASSERT_EQUAL(od_scaling_csv_rows(c), 4);
    CU_ASSERT_STRING_EQUAL(od_scaling_csv_colname(c, 0), "Model Size");
    CU_ASSERT_STRING_EQUAL(od_scaling_csv_colname(c, 1), "Training FLOP");
    CU_ASSERT_EQUAL(od_scaling_csv_find(c, "loss"), 2);
    CU_ASSERT_EQUAL(od_scaling_csv_find(c, "Loss"), -1);
    CU_ASSERT_STRING_EQUAL(od_scaling_csv_cell(c, 0, 3), "quoted, with a comma");
    CU_ASSERT_STRING_EQUAL(od_scaling_csv_cell(c, 1, 3), "two\nlines and a \"quote\"");
    CU_ASSERT_STRING_EQUAL(od_scaling_csv_cell(c, 0, 1), "1.25e20");   /* spaces trimmed */
    CU_ASSERT_PTR_NULL(od_scaling_csv_cell(c, 4, 0));
    /* file lines where the records start: the header is on line 2, the 2-line record on 6 */
    CU_ASSERT_EQUAL(od_scaling_csv_line(c, 0), 4);
    CU_ASSERT_EQUAL(od_scaling_csv_line(c, 1), 6);
    CU_ASSERT_EQUAL(od_scaling_csv_line(c, 2), 9);
    CU_ASSERT_EQUAL(od_scaling_csv_line(c, 3), 10);
    double v[4];
    CU_ASSERT_EQUAL(od_scaling_csv_column(c, "loss", v), OD_OK);
    CU_ASSERT_EQUAL(v[0], 2.837);
    CU_ASSERT_EQUAL(v[1], 2.75);
    CU_ASSERT_TRUE(isnan(v[2]) && isnan(v[3]));   /* NA and empty are missing */
    CU_ASSERT_EQUAL(od_scaling_csv_column(c, "Training FLOP", v), OD_OK);
    CU_ASSERT_EQUAL(v[3], 1e21);
    od_scaling_csv_free(c);

    /* a header only: zero rows; a final line without newline; a one-column file */
    c = parse("a,b");
    CU_ASSERT_TRUE(c && od_scaling_csv_rows(c) == 0 && od_scaling_csv_cols(c) == 2);
    od_scaling_csv_free(c);
    c = parse("x\n1\n2");
    CU_ASSERT_TRUE(c && od_scaling_csv_rows(c) == 2);
    od_scaling_csv_free(c);
}

/* Each bad text, the status, and a fragment the message must contain. */
static void test_errors(void)
{
    static const struct {
        const char *text;
        int status;
        const char *says;
    } bad[] = {
        {"a,b\n1,2\n3\n", OD_EPARSE, "t.csv:3: 1 fields, the header has 2"},
        {"a,b\n1,\"open\n2,3\n", OD_EPARSE, "t.csv:2: unterminated"},
        {"a,b\n1,\"x\"y\n", OD_EPARSE, "t.csv:2: text after the closing quote"},
        {"a,b\n1,x\"y\n", OD_EPARSE, "t.csv:2: a quote inside an unquoted field"},
        {"a,,c\n1,2,3\n", OD_EPARSE, "column 2 has an empty name"},
        {"a,b,a\n1,2,3\n", OD_EPARSE, "duplicate column name 'a'"},
        {"", OD_EPARSE, "no header row"},
        {"# only a comment\n\n", OD_EPARSE, "no header row"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        od_scaling_csv *c = (od_scaling_csv *)1;
        int st = od_scaling_csv_parse(bad[i].text, strlen(bad[i].text), "t.csv", &c);
        int ok = st == bad[i].status && c == NULL && strstr(od_last_error(), bad[i].says);
        if (!ok) fprintf(stderr, "\n  case %zu: status %d, message '%s'\n", i, st, od_last_error());
        CU_ASSERT_TRUE(ok);
    }
    /* cells: row and column named, with the file line */
    od_scaling_csv *c = parse("N,loss\n# skip\n1e9,2.5\n2e9,abc\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    double v[2];
    CU_ASSERT_EQUAL(od_scaling_csv_column(c, "loss", v), OD_EPARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "t.csv:4: row 2, column 'loss': 'abc'"));
    CU_ASSERT_EQUAL(od_scaling_csv_column(c, "tokens", v), OD_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "no column 'tokens' (columns: 'N', 'loss')"));
    od_scaling_csv_free(c);
    c = parse("x\ninf\n");   /* not a finite number */
    CU_ASSERT_EQUAL(od_scaling_csv_column(c, "x", v), OD_EPARSE);
    od_scaling_csv_free(c);
    c = (od_scaling_csv *)1;
    CU_ASSERT_EQUAL(od_scaling_csv_read("od-test-tmp/no/such/file.csv", &c), OD_EIO);
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "od-test-tmp/no/such/file.csv: cannot open"));
}

/* A file read from disk gives the same table as the same bytes parsed from memory. */
static void test_read_file(void)
{
    const char *dir = od_test_tmpdir("scaling-csv");
    char path[600];
    snprintf(path, sizeof path, "%s/f.csv", dir);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (int i = 0; i < 5000; i++) fprintf(f, i ? "%d,\"%d,%d\"\n" : "i,pair\n", i, i, i);
    fclose(f);
    od_scaling_csv *c;
    CU_ASSERT_EQUAL_FATAL(od_scaling_csv_read(path, &c), OD_OK);
    CU_ASSERT_EQUAL(od_scaling_csv_rows(c), 4999);
    CU_ASSERT_STRING_EQUAL(od_scaling_csv_cell(c, 4998, 1), "4999,4999");
    CU_ASSERT_EQUAL(od_scaling_csv_line(c, 4998), 5000);
    od_scaling_csv_free(c);
}

void od_test_suite_scaling_csv(void)
{
    static const od_test_case cases[] = {
        {"quotes, comments, blank lines, CRLF, BOM, missing values", test_quoting_and_layout},
        {"every malformation is named with file and line", test_errors},
        {"files larger than the first read buffer", test_read_file},
        {NULL, NULL}};
    od_test_add("scaling csv", cases);
}
