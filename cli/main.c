/* optdyn — the command-line program.  Subcommands are a table; `optdyn --help` lists them. */
#include <stdio.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#include "cli/cli.h"

typedef struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} od_command;

static const od_command commands[] = {
    {"list", od_cmd_list, "list the experiments, one line each"},
    {"describe", od_cmd_describe, "show an experiment's source, parameters and claims"},
    {"run", od_cmd_run, "run one experiment: tables, figures, manifest and verdicts"},
    {"gallery", od_cmd_gallery, "run every experiment; write index.html and report.md"},
    {"check", od_cmd_check, "run every experiment's claims; exit status 1 if any fails"},
    {"sde", od_cmd_sde, "an optimizer, its SDE and SVAG side by side on a problem"},
    {"spectrum", od_cmd_spectrum, "eigenvalues, densities and traces of a matrix or a Hessian"},
    {"fit", od_cmd_fit, "fit a scaling law to a CSV file (Chinchilla, power laws, LR vs batch)"},
    {"risk", od_cmd_risk, "exact expected risk of SGD-family methods on linear regression"},
    {"stability", od_cmd_stability, "mean-square stability of SGD at a minimum: ρ(T), η*, sharpness, coherence"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: optdyn COMMAND [arguments] [options]\n\n"
               "optdyn %s — a workbench for the theory of stochastic optimization.\n\ncommands:\n",
            od_version());
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\ncommon options: --out DIR  --seed N  --threads N  --format png|svg|pdf  "
               "--no-plot  --json  --quiet\n'optdyn COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
    gsl_set_error_handler_off();   /* the library checks GSL's return codes itself */
    if (argc < 2) {
        usage(stderr);
        return OD_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return OD_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("optdyn %s\n", od_version());
        return OD_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].fn(argc - 1, argv + 1);
    return od_cli_fail(NULL, OD_EXIT_USAGE, "unknown command '%s' (see 'optdyn --help')", argv[1]);
}
