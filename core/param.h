/* optdyn core — typed parameters with defaults, documented ranges and help.
 *
 * One table type serves every place where a user sets a value by name: experiment parameters
 * (`optdyn run NAME key=value`), the keys of a spec string (`powerlaw:exp=2,d=100`), optimizer
 * hyperparameters and problem options.  A table is a static const array of od_param; a value set
 * (od_params) holds one value per entry, starts from the defaults and is changed only through
 * od_params_set, which checks type and range and names the key in its error message.
 */
#ifndef OD_PARAM_H
#define OD_PARAM_H

#include <math.h>
#include <stddef.h>

typedef enum {
    OD_PARAM_DOUBLE,  /* a finite real number */
    OD_PARAM_INT,     /* an integer (stored as a double, exact below 2^53) */
    OD_PARAM_BOOL,    /* 0/1, true/false, yes/no, on/off */
    OD_PARAM_CHOICE,  /* one word of `choices` ("gaussian|rademacher|uniform"); value = its index */
    OD_PARAM_STRING   /* free text (a path, a list such as "1|0.1|0.01") */
} od_param_type;

/* Range flags: the bounds lo/hi are inclusive unless marked open. */
enum { OD_LO_OPEN = 1u, OD_HI_OPEN = 2u };

typedef struct {
    const char *name;     /* key, [a-z0-9_-]+ */
    od_param_type type;
    double def;           /* default value (numbers, bools, and CHOICE as index) */
    double quick;         /* value under --quick; NaN (use OD_SAME) means "same as def" */
    double lo, hi;        /* range for DOUBLE and INT (use -INFINITY / INFINITY for none) */
    unsigned flags;       /* OD_LO_OPEN | OD_HI_OPEN */
    const char *choices;  /* CHOICE: words separated by '|' */
    const char *defstr;   /* STRING: default text (may be "") */
    const char *help;     /* one line: meaning and unit */
    const char *quickstr; /* STRING: value under --quick (NULL: same as defstr) */
} od_param;

#define OD_SAME NAN

/* A set of values for a table. */
typedef struct {
    const od_param *spec;
    size_t n;
    double *num;          /* n numeric values (BOOL 0/1, CHOICE index) */
    char **str;           /* n strings: STRING text, CHOICE word; NULL for numeric types */
    unsigned char *given; /* 1 where the value was set explicitly */
} od_params;

/* Initializes v with the defaults of spec[0..n) (the quick values when quick != 0).
 * Returns OD_OK or OD_ENOMEM.  Free with od_params_free (NULL-tolerant contents). */
int od_params_init(od_params *v, const od_param *spec, size_t n, int quick);
void od_params_free(od_params *v);

/* Sets key to the value written in text, checking type and range.  Errors (with a one-line reason
 * naming `where`, the key and the value): OD_ENOTFOUND unknown key, OD_EPARSE wrong type,
 * OD_ERANGE out of range.  `where` names the context for messages ("parameter", "--spectrum", ...);
 * NULL means "parameter". */
int od_params_set(od_params *v, const char *where, const char *key, const char *text);

/* Applies "key=value". */
int od_params_assign(od_params *v, const char *where, const char *assignment);

/* Applies a list "k=v<sep>k=v..." (empty text is allowed). */
int od_params_assign_list(od_params *v, const char *where, const char *list, char sep);

/* Index of key in the table, or -1. */
int od_params_index(const od_params *v, const char *key);

/* Typed getters by key.  Asking for a key the table does not have is a programming error: it is
 * reported through OD_ERROR and NaN / 0 / "" is returned. */
double od_params_num(const od_params *v, const char *key);
long od_params_int(const od_params *v, const char *key);
const char *od_params_str(const od_params *v, const char *key);
int od_params_given(const od_params *v, const char *key);

/* Writes the documented range of p ("(0, inf)", "[1, 100000]", "gaussian|rademacher") into buf. */
void od_param_range_str(const od_param *p, char *buf, size_t len);

/* Writes the value of entry i as text (numbers as %.17g, bools as 0/1) into buf. */
void od_params_value_str(const od_params *v, size_t i, char *buf, size_t len);

/* Splits "name:rest" (or just "name") into name (copied, at most len-1 bytes) and a pointer to rest
 * inside text ("" when there is no ':').  Returns OD_EPARSE for an empty or over-long name. */
int od_spec_split(const char *text, char *name, size_t len, const char **rest);

/* Parses a list of doubles separated by sep ("1|0.1|0.01") into out[0..max).  Sets *n.  Errors name
 * `what`.  Returns OD_EPARSE on a malformed element, OD_ERANGE when more than max. */
int od_parse_doubles(const char *text, char sep, double *out, size_t max, size_t *n, const char *what);

/* A malloc'd copy of s (NULL when s is NULL or allocation fails); release with free(). */
char *od_strdup(const char *s);

/* Strict number parsing: the whole string must be a finite number (no trailing text). */
int od_parse_double(const char *text, double *out);
int od_parse_long(const char *text, long *out);

#endif /* OD_PARAM_H */
