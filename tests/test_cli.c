/* optdyn tests — the command-line program as a user meets it: help, version, listing, a run, JSON,
 * and every kind of bad input (one line naming the culprit, exit status 2, nothing written). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cjson/cJSON.h>

#include "od_test.h"

#define out_buf od_test_out
#define err_buf od_test_err

/* Runs "optdyn ARGS"; returns the exit status; fills out_buf and err_buf. */
static int cli(const char *args) { return od_test_cli(OD_CLI_PATH, NULL, args); }

#define lines od_test_count_lines
#define exists od_test_exists

static void test_help_version_list(void)
{
    CU_ASSERT_EQUAL(cli("--version"), 0);
    CU_ASSERT_EQUAL(strncmp(out_buf, "optdyn ", 7), 0);
    CU_ASSERT_EQUAL(cli("--help"), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out_buf, "gallery"));
    const char *subs[] = {"list", "describe", "run", "gallery", "check"};
    for (int i = 0; i < 5; i++) {
        char a[64];
        snprintf(a, sizeof a, "%s --help", subs[i]);
        CU_ASSERT_EQUAL(cli(a), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(out_buf, "usage: optdyn"));
    }
    CU_ASSERT_EQUAL(cli("list"), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out_buf, "ou-euler-maruyama"));
    CU_ASSERT_EQUAL(cli("describe ou-euler-maruyama"), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out_buf, "lambda"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out_buf, "weak-order-1"));
    CU_ASSERT_EQUAL(cli("list --json"), 0);
    cJSON *j = cJSON_Parse(out_buf);
    CU_ASSERT_TRUE(cJSON_IsArray(j) && cJSON_GetArraySize(j) >= 1);
    cJSON_Delete(j);
}

static void test_bad_input(void)
{
    /* each: arguments, a word the one-line message must contain */
    static const char *cases[][2] = {
        {"", "usage"},
        {"frobnicate", "'frobnicate'"},
        {"run", "experiment name"},
        {"run no-such-experiment", "'no-such-experiment'"},
        {"run ou-euler-maruyama bogus=1", "'bogus'"},
        {"run ou-euler-maruyama lambda=abc", "'lambda'"},
        {"run ou-euler-maruyama lambda=-2", "out of range"},
        {"run ou-euler-maruyama paths=1.5", "'paths'"},
        {"run ou-euler-maruyama lambda", "key=value"},
        {"run ou-euler-maruyama --bogus", "'--bogus'"},
        {"run ou-euler-maruyama --threads 0", "--threads"},
        {"run ou-euler-maruyama --threads two", "--threads"},
        {"run ou-euler-maruyama --seed", "--seed"},
        {"run ou-euler-maruyama --format gif", "'gif'"},
        {"run ou-euler-maruyama --no-plot=1", "--no-plot"},
        {"run ou-euler-maruyama lambda=40", "lambda*T/steps0"},
        {"describe", "experiment name"},
        {"describe nope", "'nope'"},
        {"list extra", "'extra'"},
        {"check --quick --bogus", "'--bogus'"},
        {"gallery --format tiff", "'tiff'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char args[512];
        system("rm -rf od-test-tmp/cli-bad");
        /* commands that write take --out; list and describe reject it */
        int writes = strncmp(cases[i][0], "run", 3) == 0 || strncmp(cases[i][0], "check", 5) == 0 ||
                     strncmp(cases[i][0], "gallery", 7) == 0;
        snprintf(args, sizeof args, "%s%s", cases[i][0], writes ? " --out od-test-tmp/cli-bad" : "");
        int code = cli(args);
        int ok = code == 2 && lines(err_buf) == (*cases[i][0] ? 1 : lines(err_buf)) &&
                 strstr(err_buf, cases[i][1]) != NULL && !exists("od-test-tmp/cli-bad");
        if (!ok) fprintf(stderr, "\n  'optdyn %s': exit %d, stderr: %s", args, code, err_buf);
        CU_ASSERT_TRUE(ok);
    }
    /* unwritable output folder: a path below a regular file */
    system("mkdir -p od-test-tmp && touch od-test-tmp/plainfile");
    CU_ASSERT_EQUAL(cli("run ou-euler-maruyama --quick --out od-test-tmp/plainfile/sub"), 2);
    CU_ASSERT_EQUAL(lines(err_buf), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err_buf, "od-test-tmp/plainfile/sub"));
}

static void test_run_and_json(void)
{
    system("rm -rf od-test-tmp/cli-run");
    const char *small = "paths=2000 series_paths=500 series_steps=256";
    char args[512];
    snprintf(args, sizeof args, "run ou-euler-maruyama %s --quick --no-plot --out od-test-tmp/cli-run", small);
    CU_ASSERT_EQUAL(cli(args), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out_buf, "PASS"));
    CU_ASSERT_TRUE(exists("od-test-tmp/cli-run/ou-euler-maruyama/manifest.json"));
    CU_ASSERT_TRUE(exists("od-test-tmp/cli-run/ou-euler-maruyama/orders.tsv"));
    CU_ASSERT_TRUE(exists("od-test-tmp/cli-run/ou-euler-maruyama/orders.gp"));
    snprintf(args, sizeof args, "run ou-euler-maruyama %s --json --no-plot --out od-test-tmp/cli-run", small);
    CU_ASSERT_EQUAL(cli(args), 0);
    cJSON *j = cJSON_Parse(out_buf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(j, "status")->valuestring, "ok");
    cJSON *claims = cJSON_GetObjectItem(j, "claims");
    CU_ASSERT_FATAL(cJSON_GetArraySize(claims) == 5);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(cJSON_GetArrayItem(claims, 0), "verdict")->valuestring, "PASS");
    cJSON_Delete(j);
    CU_ASSERT_EQUAL(err_buf[0], '\0');   /* --json: nothing on stderr */
}

/* Progress (rate and ETA) is drawn on stderr only when it is a terminal, and never with --quiet:
 * run under a pseudo-terminal with script(1), then with stderr redirected to a file. */
static void test_progress_only_on_terminals(void)
{
    const char *args = "run ou-euler-maruyama paths=2000 series_paths=500 series_steps=256 --quick "
                       "--no-plot --out od-test-tmp/cli-prog";
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "script -qec \"'%s' %s\" /dev/null > od-test-tmp/cli-io/tty 2>&1",
             OD_CLI_PATH, args);
    CU_ASSERT_EQUAL_FATAL(system("mkdir -p od-test-tmp/cli-io"), 0);
    if (system(cmd) != 0) {
        fprintf(stderr, "\n  script(1) unavailable: progress test skipped\n");
        return;
    }
    char *buf = od_test_slurp("od-test-tmp/cli-io/tty");
    CU_ASSERT_PTR_NOT_NULL(buf && strstr(buf, "eta"));
    free(buf);
    snprintf(cmd, sizeof cmd, "script -qec \"'%s' %s --quiet\" /dev/null > od-test-tmp/cli-io/tty 2>&1",
             OD_CLI_PATH, args);
    CU_ASSERT_EQUAL(system(cmd), 0);
    buf = od_test_slurp("od-test-tmp/cli-io/tty");
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    CU_ASSERT_PTR_NULL(strstr(buf, "eta"));
    free(buf);
    char plain[512];
    snprintf(plain, sizeof plain, "%s", args);
    CU_ASSERT_EQUAL(cli(plain), 0);   /* stderr is a file here */
    CU_ASSERT_PTR_NULL(strstr(err_buf, "eta"));
}

static void od_test_suite_cli(void)
{
    static const od_test_case cases[] = {
        {"help, version, list, describe", test_help_version_list},
        {"bad input: one line, exit 2, nothing written", test_bad_input},
        {"run writes its files; --json parses", test_run_and_json},
        {"progress only on terminals, never with --quiet", test_progress_only_on_terminals},
        {NULL, NULL}};
    od_test_add("cli", cases);
}

int main(int argc, char **argv)
{
    static od_test_suite_fn *const suites[] = {od_test_suite_cli, NULL};
    return od_test_main(argc, argv, suites);
}
