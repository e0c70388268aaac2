/* optdyn cli — shared pieces of the command-line program: the option-table parser, the common
 * options of DESIGN.md, exit statuses and error printing.  Every subcommand (list, run, risk, ...)
 * parses its arguments through od_cli_parse with a table of its own options plus the common ones,
 * so `--help`, error messages and range checks look the same everywhere. */
#ifndef OD_CLI_H
#define OD_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "experiments/optdyn_experiments.h"

/* Exit statuses. */
enum {
    OD_EXIT_OK = 0,      /* success, every claim passed */
    OD_EXIT_FAIL = 1,    /* ran, but a claim failed (run, check, gallery) */
    OD_EXIT_USAGE = 2,   /* bad input: unknown command, option, key, value, file, folder */
    OD_EXIT_ERROR = 3    /* a run failed (numerical or I/O error during the work) */
};

typedef enum { OD_OPT_FLAG, OD_OPT_INT, OD_OPT_DOUBLE, OD_OPT_STRING } od_opt_kind;

/* One option: "--name" with an argument (INT, DOUBLE: checked against [lo, hi], with either bound
 * open when flags has OD_LO_OPEN / OD_HI_OPEN from core/param.h; STRING) or none (FLAG sets
 * *(int *)target = 1).  target points to long, double, const char * or int. */
typedef struct {
    const char *name;
    od_opt_kind kind;
    void *target;
    double lo, hi;
    const char *metavar;
    const char *help;
    unsigned flags;   /* OD_LO_OPEN | OD_HI_OPEN */
} od_cli_opt;

/* The common options of DESIGN.md. */
typedef struct {
    const char *out;
    long seed;
    long threads;
    const char *format;
    int no_plot, json, quiet, quick, help;
    od_plot_format fmt;   /* parsed from format by od_cli_common_finish */
} od_cli_common;

/* Defaults: out "out", seed 1, threads = OpenMP's default, png. */
od_cli_common od_cli_common_defaults(void);

/* The table entries for the common options (with `quick` only when want_quick != 0); writes at most
 * cap entries into opts and returns the count. */
size_t od_cli_common_opts(od_cli_common *c, int want_quick, od_cli_opt *opts, size_t cap);

/* Checks the common values (format word), applies threads and quiet.  Returns OD_EXIT_OK or prints
 * the error and returns OD_EXIT_USAGE. */
int od_cli_common_finish(const char *cmd, od_cli_common *c);

/* Parses argv[1..argc) against opts.  Arguments not starting with "--" are collected in order into
 * pos (capacity pos_cap; count in *npos).  "--name value" and "--name=value" are both accepted.
 * On an unknown option, a missing or malformed argument or an out-of-range value, prints one line
 * "optdyn CMD: ..." to stderr and returns OD_EXIT_USAGE; otherwise OD_EXIT_OK. */
int od_cli_parse(const char *cmd, int argc, char **argv, const od_cli_opt *opts, size_t n_opts,
                 char **pos, size_t pos_cap, size_t *npos);

/* Prints the option table as help text. */
void od_cli_print_opts(const od_cli_opt *opts, size_t n);

/* Prints "optdyn CMD: <message>" on stderr and returns status. */
int od_cli_fail(const char *cmd, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Subcommands. */
int od_cmd_list(int argc, char **argv);
int od_cmd_describe(int argc, char **argv);
int od_cmd_run(int argc, char **argv);
int od_cmd_gallery(int argc, char **argv);
int od_cmd_check(int argc, char **argv);
int od_cmd_sde(int argc, char **argv);
int od_cmd_spectrum(int argc, char **argv);
int od_cmd_fit(int argc, char **argv);        /* cmd_fit.c: scaling-law fits */
int od_cmd_risk(int argc, char **argv);
int od_cmd_stability(int argc, char **argv);

#endif
