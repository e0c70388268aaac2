/* optdyn core — typed parameter tables (see param.h). */
#include "core/param.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/status.h"

char *od_strdup(const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

int od_parse_double(const char *text, double *out)
{
    if (!text || !*text) return OD_EPARSE;
    char *end;
    errno = 0;
    double x = strtod(text, &end);
    if (*end != '\0' || end == text || !isfinite(x)) return OD_EPARSE;
    if (errno == ERANGE && x != 0.0) return OD_EPARSE;  /* overflow; underflow to 0 is kept */
    *out = x;
    return OD_OK;
}

int od_parse_long(const char *text, long *out)
{
    if (!text || !*text) return OD_EPARSE;
    char *end;
    errno = 0;
    long x = strtol(text, &end, 10);
    if (*end == '\0' && end != text && errno == 0) {
        *out = x;
        return OD_OK;
    }
    /* accept integral values written in floating notation, such as 1e5 */
    double d;
    if (od_parse_double(text, &d) == OD_OK && d == floor(d) && fabs(d) <= 9007199254740992.0) {
        *out = (long)d;
        return OD_OK;
    }
    return OD_EPARSE;
}

static int parse_bool(const char *t, double *out)
{
    static const char *yes[] = {"1", "true", "yes", "on"}, *no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(t, yes[i]) == 0) { *out = 1; return OD_OK; }
        if (strcasecmp(t, no[i]) == 0) { *out = 0; return OD_OK; }
    }
    return OD_EPARSE;
}

/* Index of word in "a|b|c", or -1. */
static int choice_index(const char *choices, const char *word)
{
    size_t wl = strlen(word);
    int k = 0;
    for (const char *c = choices; c && *c; k++) {
        const char *bar = strchr(c, '|');
        size_t len = bar ? (size_t)(bar - c) : strlen(c);
        if (len == wl && strncmp(c, word, len) == 0) return k;
        if (!bar) break;
        c = bar + 1;
    }
    return -1;
}

static char *choice_word(const char *choices, int k)
{
    const char *c = choices;
    for (int i = 0; i < k && c; i++) {
        c = strchr(c, '|');
        if (c) c++;
    }
    if (!c) return NULL;
    const char *bar = strchr(c, '|');
    size_t len = bar ? (size_t)(bar - c) : strlen(c);
    char *w = malloc(len + 1);
    if (w) { memcpy(w, c, len); w[len] = '\0'; }
    return w;
}

void od_param_range_str(const od_param *p, char *buf, size_t len)
{
    switch (p->type) {
    case OD_PARAM_BOOL: snprintf(buf, len, "0|1"); break;
    case OD_PARAM_CHOICE: snprintf(buf, len, "%s", p->choices ? p->choices : ""); break;
    case OD_PARAM_STRING: snprintf(buf, len, "text"); break;
    default:
        snprintf(buf, len, "%c%.6g, %.6g%c", (p->flags & OD_LO_OPEN) ? '(' : '[', p->lo, p->hi,
                 (p->flags & OD_HI_OPEN) ? ')' : ']');
    }
}

static int in_range(const od_param *p, double x)
{
    if (x < p->lo || ((p->flags & OD_LO_OPEN) && x == p->lo)) return 0;
    if (x > p->hi || ((p->flags & OD_HI_OPEN) && x == p->hi)) return 0;
    return 1;
}

int od_params_init(od_params *v, const od_param *spec, size_t n, int quick)
{
    memset(v, 0, sizeof *v);
    v->spec = spec;
    v->n = n;
    v->num = calloc(n ? n : 1, sizeof *v->num);
    v->str = calloc(n ? n : 1, sizeof *v->str);
    v->given = calloc(n ? n : 1, 1);
    if (!v->num || !v->str || !v->given) {
        od_params_free(v);
        OD_ERROR("out of memory for a parameter table", OD_ENOMEM);
    }
    for (size_t i = 0; i < n; i++) {
        const od_param *p = &spec[i];
        v->num[i] = (quick && !isnan(p->quick)) ? p->quick : p->def;
        if (p->type == OD_PARAM_STRING) {
            const char *text = (quick && p->quickstr) ? p->quickstr : p->defstr;
            v->str[i] = od_strdup(text ? text : "");
        } else if (p->type == OD_PARAM_CHOICE) {
            v->str[i] = choice_word(p->choices, (int)v->num[i]);
        } else {
            continue;
        }
        if (!v->str[i]) {
            od_params_free(v);
            OD_ERROR("out of memory for a parameter table", OD_ENOMEM);
        }
    }
    return OD_OK;
}

void od_params_free(od_params *v)
{
    if (!v) return;
    if (v->str)
        for (size_t i = 0; i < v->n; i++) free(v->str[i]);
    free(v->str);
    free(v->num);
    free(v->given);
    memset(v, 0, sizeof *v);
}

int od_params_index(const od_params *v, const char *key)
{
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->spec[i].name, key) == 0) return (int)i;
    return -1;
}

int od_params_set(od_params *v, const char *where, const char *key, const char *text)
{
    if (!where) where = "parameter";
    int i = od_params_index(v, key);
    if (i < 0) {
        char known[512] = "";
        size_t used = 0;
        for (size_t j = 0; j < v->n && used + 2 < sizeof known; j++)
            used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", j ? ", " : "",
                                     v->spec[j].name);
        if (v->n == 0) snprintf(known, sizeof known, "none");
        OD_ERRORF(OD_ENOTFOUND, "%s: unknown key '%s' (known keys: %s)", where, key, known);
    }
    const od_param *p = &v->spec[i];
    char range[256];
    od_param_range_str(p, range, sizeof range);
    double x = 0;
    long l;
    switch (p->type) {
    case OD_PARAM_DOUBLE:
        if (od_parse_double(text, &x) != OD_OK)
            OD_ERRORF(OD_EPARSE, "%s: key '%s' expects a number, got '%s'", where, key, text);
        break;
    case OD_PARAM_INT:
        if (od_parse_long(text, &l) != OD_OK)
            OD_ERRORF(OD_EPARSE, "%s: key '%s' expects an integer, got '%s'", where, key, text);
        x = (double)l;
        break;
    case OD_PARAM_BOOL:
        if (parse_bool(text, &x) != OD_OK)
            OD_ERRORF(OD_EPARSE, "%s: key '%s' expects 0|1|true|false, got '%s'", where, key, text);
        break;
    case OD_PARAM_CHOICE: {
        int k = choice_index(p->choices, text);
        if (k < 0)
            OD_ERRORF(OD_EPARSE, "%s: key '%s' must be one of %s, got '%s'", where, key, range, text);
        char *w = od_strdup(text);
        if (!w) OD_ERROR("out of memory", OD_ENOMEM);
        free(v->str[i]);
        v->str[i] = w;
        v->num[i] = k;
        v->given[i] = 1;
        return OD_OK;
    }
    case OD_PARAM_STRING: {
        char *w = od_strdup(text);
        if (!w) OD_ERROR("out of memory", OD_ENOMEM);
        free(v->str[i]);
        v->str[i] = w;
        v->given[i] = 1;
        return OD_OK;
    }
    }
    if ((p->type == OD_PARAM_DOUBLE || p->type == OD_PARAM_INT) && !in_range(p, x))
        OD_ERRORF(OD_ERANGE, "%s: key '%s' = %s is out of range %s", where, key, text, range);
    v->num[i] = x;
    v->given[i] = 1;
    return OD_OK;
}

int od_params_assign(od_params *v, const char *where, const char *assignment)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        OD_ERRORF(OD_EPARSE, "%s: expected key=value, got '%s'", where ? where : "parameter",
                  assignment);
    char key[128];
    size_t kl = (size_t)(eq - assignment);
    if (kl >= sizeof key)
        OD_ERRORF(OD_EPARSE, "%s: key too long in '%s'", where ? where : "parameter", assignment);
    memcpy(key, assignment, kl);
    key[kl] = '\0';
    return od_params_set(v, where, key, eq + 1);
}

int od_params_assign_list(od_params *v, const char *where, const char *list, char sep)
{
    if (!list || !*list) return OD_OK;
    size_t n = strlen(list);
    char *buf = malloc(n + 1);
    if (!buf) OD_ERROR("out of memory", OD_ENOMEM);
    memcpy(buf, list, n + 1);
    int status = OD_OK;
    char *item = buf;
    for (;;) {
        char *next = strchr(item, sep);
        if (next) *next = '\0';
        status = od_params_assign(v, where, item);
        if (status != OD_OK || !next) break;
        item = next + 1;
    }
    free(buf);
    return status;
}

static int lookup(const od_params *v, const char *key)
{
    int i = od_params_index(v, key);
    if (i < 0) od_error(OD_EINTERNAL, __FILE__, __LINE__, "no parameter named '%s'", key);
    return i;
}

double od_params_num(const od_params *v, const char *key)
{
    int i = lookup(v, key);
    return i < 0 ? NAN : v->num[i];
}

long od_params_int(const od_params *v, const char *key)
{
    int i = lookup(v, key);
    return i < 0 ? 0 : (long)v->num[i];
}

const char *od_params_str(const od_params *v, const char *key)
{
    int i = lookup(v, key);
    return (i < 0 || !v->str[i]) ? "" : v->str[i];
}

int od_params_given(const od_params *v, const char *key)
{
    int i = lookup(v, key);
    return i < 0 ? 0 : v->given[i];
}

void od_params_value_str(const od_params *v, size_t i, char *buf, size_t len)
{
    const od_param *p = &v->spec[i];
    if (p->type == OD_PARAM_STRING || p->type == OD_PARAM_CHOICE)
        snprintf(buf, len, "%s", v->str[i] ? v->str[i] : "");
    else if (p->type == OD_PARAM_INT || p->type == OD_PARAM_BOOL)
        snprintf(buf, len, "%.0f", v->num[i]);
    else
        snprintf(buf, len, "%.17g", v->num[i]);
}

int od_spec_split(const char *text, char *name, size_t len, const char **rest)
{
    const char *colon = strchr(text, ':');
    size_t nl = colon ? (size_t)(colon - text) : strlen(text);
    if (nl == 0) OD_ERRORF(OD_EPARSE, "empty name in '%s'", text);
    if (nl >= len) OD_ERRORF(OD_EPARSE, "name too long in '%s'", text);
    memcpy(name, text, nl);
    name[nl] = '\0';
    *rest = colon ? colon + 1 : text + nl;
    return OD_OK;
}

int od_parse_doubles(const char *text, char sep, double *out, size_t max, size_t *n,
                     const char *what)
{
    *n = 0;
    const char *c = text;
    char item[64];
    while (*c) {
        const char *end = strchr(c, sep);
        size_t len = end ? (size_t)(end - c) : strlen(c);
        if (len == 0 || len >= sizeof item)
            OD_ERRORF(OD_EPARSE, "%s: malformed list '%s'", what, text);
        memcpy(item, c, len);
        item[len] = '\0';
        if (*n >= max) OD_ERRORF(OD_ERANGE, "%s: more than %zu values in '%s'", what, max, text);
        if (od_parse_double(item, &out[*n]) != OD_OK)
            OD_ERRORF(OD_EPARSE, "%s: '%s' is not a number (in '%s')", what, item, text);
        (*n)++;
        if (!end) break;
        c = end + 1;
        if (!*c) OD_ERRORF(OD_EPARSE, "%s: malformed list '%s'", what, text);
    }
    if (*n == 0) OD_ERRORF(OD_EPARSE, "%s: empty list", what);
    return OD_OK;
}
