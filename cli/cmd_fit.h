/* optdyn cli — private declarations of `optdyn fit` (cli/cmd_fit*.c):
 *
 *   cmd_fit.c             options, help, checks of every input, dispatch, output helpers
 *   cmd_fit_chinchilla.c  --model chinchilla: the fit, MLE, bootstrap, allocation, predictions, tests
 *   cmd_fit_forms.c       --model powerlaw | loglinear | lr-batch
 */
#ifndef OD_CLI_CMD_FIT_H
#define OD_CLI_CMD_FIT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "scaling/optdyn_scaling.h"

#define CMD "fit"
#define MAX_X 16   /* regressor columns of --model loglinear */

typedef enum { M_CHINCHILLA, M_POWERLAW, M_LOGLINEAR, M_LRBATCH } model_id;
extern const char *const od_fit_model_names[4];   /* "chinchilla", "powerlaw", ... */

/* The parsed options (cmd_fit.c checks them before any run function is called). */
typedef struct {
    od_cli_common c;
    const char *model, *ncol, *dcol, *fcol, *lcol, *predict, *compare, *x, *y, *batch, *lr, *form;
    long drop, boot;
    double huber, compute;
    int mle, offset;
    model_id m;
    od_scaling_law cmp;   /* --compare, parsed */
} fit_opts;

/* Prints j on stdout (indented). */
void od_fit_print_json(cJSON *j);
/* Adds key: v, or null when v is not finite; returns the item. */
cJSON *od_fit_json_num(cJSON *o, const char *key, double v);
/* Writes the tables (NULL entries skipped), the figure (when not NULL) and the manifest into dir,
 * listing the files in the manifest; does nothing when dir is NULL. */
int od_fit_write_outputs(const char *dir, od_manifest *m, od_table *const *tabs, size_t nt,
                         const od_figure *fig, const od_cli_common *c);
/* Creates the output folder dir (nothing when NULL) once the input has been read and checked;
 * returns OD_EXIT_OK or, having printed the reason, OD_EXIT_USAGE. */
int od_fit_make_dir(const char *dir);
/* Splits "a,b,c" into at most max column names (in place in buf); returns the count. */
size_t od_fit_split_names(char *buf, const char **names, size_t max);

/* The models: read FILE, fit, print (text or --json) and, with dir != NULL, write files.  Return an
 * exit status, having printed one line for a failure. */
int od_fit_chinchilla(const fit_opts *o, const char *file, const char *dir, od_manifest *man);
int od_fit_powerlaw(const fit_opts *o, const char *file, const char *dir, od_manifest *man);
int od_fit_loglinear(const fit_opts *o, const char *file, const char *dir, od_manifest *man);
int od_fit_lrbatch(const fit_opts *o, const char *file, const char *dir, od_manifest *man);

#endif
