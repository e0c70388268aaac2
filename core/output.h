/* optdyn core — output files: atomic writes, output folders, tables (TSV) and manifests (JSON).
 *
 * Every file optdyn writes goes to a temporary name in the destination folder and is renamed into
 * place only after it has been written and closed without error, so a crash or a failure never
 * leaves a half-written file under the final name.
 *
 * TSV format (DESIGN.md): zero or more "# key: value" lines, one tab-separated row of column names,
 * then one row per record; doubles printed with %.17g (so they read back bit-exactly), integers
 * with %ld, strings verbatim (tabs and newlines replaced by spaces).  Non-finite doubles print as
 * nan, inf, -inf.
 */
#ifndef OD_OUTPUT_H
#define OD_OUTPUT_H

#include <stdio.h>
#include <stddef.h>

/* ---- atomic files ----------------------------------------------------------------------------- */
typedef struct {
    FILE *f;        /* write here */
    char *tmp;      /* DIR/.NAME.tmp.PID */
    char *final;    /* DIR/NAME */
} od_outfile;

/* Opens DIR/.NAME.tmp.PID for writing.  OD_EIO with a message naming the folder on failure. */
int od_outfile_open(od_outfile *o, const char *dir, const char *name);
/* Closes and renames to DIR/NAME.  On any write or close error removes the temporary file and
 * returns OD_EIO naming the file.  Frees the strings in both cases. */
int od_outfile_commit(od_outfile *o);
/* Closes and removes the temporary file (NULL-tolerant, idempotent). */
void od_outfile_abort(od_outfile *o);

/* Creates dir and its parents (mode 0777 & ~umask) if missing; OD_EIO naming the folder and the
 * reason if it cannot be created or is not a writable folder. */
int od_mkdir_p(const char *dir);

/* Joins dir and name with '/' into a new string (free with free()); NULL on allocation failure. */
char *od_path_join(const char *dir, const char *name);

/* ---- tables ----------------------------------------------------------------------------------- */
typedef enum { OD_COL_DOUBLE, OD_COL_INT, OD_COL_STRING } od_col_type;

typedef struct od_table od_table;

/* A new empty table that will be written as NAME.tsv (name: [A-Za-z0-9_.-]+).  NULL on failure. */
od_table *od_table_alloc(const char *name);
void od_table_free(od_table *t);

/* Adds a "# key: value" header line (value formatted like printf; newlines become spaces). */
int od_table_meta(od_table *t, const char *key, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Adds a column and copies n values into it (v may be NULL with n = 0 to declare a column that
 * od_table_append fills).  All columns must end with the same number of rows when written.
 * Column names are unique and contain no tab or newline. */
int od_table_add_double(od_table *t, const char *col, const double *v, size_t n);
int od_table_add_int(od_table *t, const char *col, const long *v, size_t n);
int od_table_add_string(od_table *t, const char *col, const char *const *v, size_t n);

/* Appends one row to a table whose columns are all OD_COL_DOUBLE: row[0..ncols). */
int od_table_append(od_table *t, const double *row);

size_t od_table_rows(const od_table *t);
size_t od_table_cols(const od_table *t);
const char *od_table_name(const od_table *t);
/* 1-based column number of col (gnuplot's convention), 0 if absent. */
size_t od_table_colnum(const od_table *t, const char *col);
/* Values of a double column (NULL if absent or not double). */
const double *od_table_column(const od_table *t, const char *col);

/* Writes DIR/NAME.tsv atomically.  OD_EBADSIZE if the columns have different lengths. */
int od_table_write(const od_table *t, const char *dir);
/* Writes the TSV text to an open stream (used by od_table_write and for stdout). */
int od_table_fprint(const od_table *t, FILE *f);

/* Reads a TSV file written by od_table_write (every column read as double; "# key: value" lines
 * kept as metadata; name = file stem).  OD_EIO / OD_EPARSE with the file and line named. */
int od_table_read(const char *path, od_table **out);
/* Metadata value of key, or NULL. */
const char *od_table_meta_get(const od_table *t, const char *key);

/* ---- manifest.json ---------------------------------------------------------------------------- */
typedef struct od_manifest od_manifest;

/* A manifest for one command ("run ou-euler-maruyama", "risk", ...), with program name and version,
 * start time (UTC, ISO 8601) and the host's thread count filled in.  NULL on failure. */
od_manifest *od_manifest_alloc(const char *command);
void od_manifest_free(od_manifest *m);

/* Top-level scalars ("seed", "threads", "wall_seconds", ...). */
int od_manifest_set_num(od_manifest *m, const char *key, double value);
int od_manifest_set_str(od_manifest *m, const char *key, const char *value);
int od_manifest_set_bool(od_manifest *m, const char *key, int value);
/* Entries of the "parameters" object. */
int od_manifest_param_num(od_manifest *m, const char *key, double value);
int od_manifest_param_str(od_manifest *m, const char *key, const char *value);
/* Appends to "verdicts": name, measured, predicted, tolerance, relation ("|m-p|<=tol", "m<=p", ...),
 * pass. */
int od_manifest_verdict(od_manifest *m, const char *name, double measured, double predicted,
                        double tolerance, const char *relation, int pass);
/* Appends to "files" and "notes". */
int od_manifest_file(od_manifest *m, const char *name);
int od_manifest_note(od_manifest *m, const char *text);
/* The underlying cJSON object (cJSON *), for additions this API does not cover. */
void *od_manifest_json(od_manifest *m);

/* Writes DIR/manifest.json atomically (pretty-printed, numbers with 17 significant digits). */
int od_manifest_write(const od_manifest *m, const char *dir);

/* The program version: `git describe --always --dirty` at build time, or the CMake project
 * version when built outside git. */
const char *od_version(void);

#endif /* OD_OUTPUT_H */
