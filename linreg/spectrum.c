/* optdyn linreg — spectra (power law, Marchenko–Pastur design, file) and initial-error profiles
 * (constant, power law, file), from spec strings (see optdyn_linreg.h). */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linreg/linreg_internal.h"

enum { STREAM_MP_DESIGN = 0x100, MP_BLOCK = 256, MP_MAX_D = 4096 };

int od_linreg_spec_params(const char *where, const od_param *tab, size_t n, const char *rest,
                          od_params *v)
{
    OD_TRY(od_params_init(v, tab, n, 0));
    int s = od_params_assign_list(v, where, rest, ',');
    if (s != OD_OK) od_params_free(v);
    return s;
}

void od_linreg_spectrum_powerlaw(size_t d, double a, double scale, double *lambda)
{
    for (size_t k = 0; k < d; k++) lambda[k] = scale * pow((double)(k + 1), -a);
}

int od_linreg_spectrum_mp(size_t n, size_t d, uint64_t seed, double *lambda)
{
    if (n == 0 || d == 0 || d > MP_MAX_D)
        OD_ERRORF(OD_EINVAL, "Marchenko–Pastur design: need n >= 1 and 1 <= d <= %d (got n = %zu, "
                             "d = %zu)", MP_MAX_D, n, d);
    double *G = od_vec_alloc(d * d), *X = od_vec_alloc(MP_BLOCK * d);
    if (!G || !X) {
        od_free(G);
        od_free(X);
        OD_ERROR("Marchenko–Pastur design: out of memory", OD_ENOMEM);
    }
    od_stream s;
    od_stream_init(&s, seed, STREAM_MP_DESIGN);
    /* G = X^T X accumulated over blocks of rows; row i is drawn at (path 0, step i) */
    for (size_t i0 = 0; i0 < n; i0 += MP_BLOCK) {
        size_t rows = n - i0 < MP_BLOCK ? n - i0 : MP_BLOCK;
        for (size_t r = 0; r < rows; r++) {
            od_stream_seek(&s, 0, (uint32_t)(i0 + r));
            od_stream_normals(&s, X + r * d, d);
        }
        od_gemm(1, 0, d, d, rows, 1.0, X, X, 1.0, G);
    }
    od_free(X);
    od_scal(d * d, 1.0 / (double)n, G);
    int st = od_symm_eigen(d, G, lambda, NULL);
    od_free(G);
    if (st != OD_OK) return st;
    const double floor_ = (double)d * DBL_EPSILON * fabs(lambda[0]);
    for (size_t k = 0; k < d; k++)
        if (fabs(lambda[k]) < floor_) lambda[k] = 0.0;
    return OD_OK;
}

int od_linreg_read_column(const char *path, int nonneg, size_t *n, double **out)
{
    *n = 0;
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f) OD_ERRORF(OD_EIO, "cannot read '%s': %s", path, strerror(errno));
    size_t cap = 256, len = 0;
    double *v = malloc(cap * sizeof *v);
    char line[4096];
    long lineno = 0;
    int status = v ? OD_OK : od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory reading '%s'", path);
    while (status == OD_OK && fgets(line, sizeof line, f)) {
        lineno++;
        size_t ll = strlen(line);
        if (ll == sizeof line - 1 && line[ll - 1] != '\n') {
            status = od_error(OD_EPARSE, __FILE__, __LINE__, "%s line %ld: line too long", path, lineno);
            break;
        }
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        char *p = line;
        while (isspace((unsigned char)*p)) p++;
        if (!*p) continue;
        char *end = p + strlen(p);
        while (end > p && isspace((unsigned char)end[-1])) *--end = '\0';
        double x;
        if (od_parse_double(p, &x) != OD_OK) {
            status = od_error(OD_EPARSE, __FILE__, __LINE__,
                              "%s line %ld: '%s' is not a number (one value per line)", path, lineno, p);
            break;
        }
        if (nonneg && x < 0) {
            status = od_error(OD_ERANGE, __FILE__, __LINE__, "%s line %ld: %s is negative", path,
                              lineno, p);
            break;
        }
        if (len == cap) {
            double *nv = realloc(v, 2 * cap * sizeof *v);
            if (!nv) {
                status = od_error(OD_ENOMEM, __FILE__, __LINE__, "out of memory reading '%s'", path);
                break;
            }
            v = nv;
            cap *= 2;
        }
        v[len++] = x;
    }
    if (status == OD_OK && ferror(f))
        status = od_error(OD_EIO, __FILE__, __LINE__, "error reading '%s'", path);
    fclose(f);
    if (status == OD_OK && len == 0)
        status = od_error(OD_EINVAL, __FILE__, __LINE__, "%s: no values", path);
    if (status != OD_OK) {
        free(v);
        return status;
    }
    /* hand out an od_vec_alloc'd copy, so every array of this module is freed with od_free */
    double *a = od_vec_alloc(len);
    if (!a) {
        free(v);
        OD_ERRORF(OD_ENOMEM, "out of memory reading '%s'", path);
    }
    memcpy(a, v, len * sizeof *v);
    free(v);
    *n = len;
    *out = a;
    return OD_OK;
}

/* ---- spectra from specs ----------------------------------------------------------------------- */

static const od_param powerlaw_spec[] = {
    {"exp", OD_PARAM_DOUBLE, 2, OD_SAME, 0, 20, 0, NULL, NULL, "exponent a of lambda_k = scale k^-a"},
    {"d", OD_PARAM_INT, 100, OD_SAME, 1, 1e8, 0, NULL, NULL, "dimension"},
    {"scale", OD_PARAM_DOUBLE, 1, OD_SAME, 0, 1e12, OD_LO_OPEN, NULL, NULL, "lambda_1"},
};
static const od_param mp_spec[] = {
    {"n", OD_PARAM_INT, 200, OD_SAME, 1, 1e7, 0, NULL, NULL, "number of samples (rows of X)"},
    {"d", OD_PARAM_INT, 100, OD_SAME, 1, MP_MAX_D, 0, NULL, NULL, "dimension (columns of X)"},
};

#define NTAB(t) (sizeof t / sizeof t[0])

static int file_spectrum(const char *spec, const char *path, size_t *d, double **lambda)
{
    if (!*path) OD_ERRORF(OD_EPARSE, "'%s': file: needs a path", spec);
    OD_TRY(od_linreg_read_column(path, 1, d, lambda));
    double mx = 0;
    for (size_t k = 0; k < *d; k++) mx = fmax(mx, (*lambda)[k]);
    if (!(mx > 0)) {
        od_free(*lambda);
        *lambda = NULL;
        OD_ERRORF(OD_ERANGE, "%s: every eigenvalue is 0", path);
    }
    return OD_OK;
}

int od_linreg_spectrum_from_spec(const char *spec, uint64_t seed, size_t *d, double **lambda)
{
    char name[32];
    const char *rest;
    *lambda = NULL;
    *d = 0;
    OD_TRY(od_spec_split(spec, name, sizeof name, &rest));
    if (strcmp(name, "file") == 0) return file_spectrum(spec, rest, d, lambda);
    int is_pl = strcmp(name, "powerlaw") == 0, is_mp = strcmp(name, "mp") == 0;
    if (!is_pl && !is_mp)
        OD_ERRORF(OD_ENOTFOUND, "'%s': unknown spectrum '%s' (powerlaw, mp or file)", spec, name);
    od_params v;
    OD_TRY(od_linreg_spec_params(spec, is_pl ? powerlaw_spec : mp_spec,
                                 is_pl ? NTAB(powerlaw_spec) : NTAB(mp_spec), rest, &v));
    size_t dd = (size_t)od_params_int(&v, "d");
    double *l = od_vec_alloc(dd);
    int st = l ? OD_OK : od_error(OD_ENOMEM, __FILE__, __LINE__, "'%s': out of memory", spec);
    if (st == OD_OK && is_pl)
        od_linreg_spectrum_powerlaw(dd, od_params_num(&v, "exp"), od_params_num(&v, "scale"), l);
    else if (st == OD_OK)
        st = od_linreg_spectrum_mp((size_t)od_params_int(&v, "n"), dd, seed, l);
    od_params_free(&v);
    if (st != OD_OK) {
        od_free(l);
        return st;
    }
    *d = dd;
    *lambda = l;
    return OD_OK;
}

/* ---- initial error ---------------------------------------------------------------------------- */

static const od_param init_pl_spec[] = {
    {"exp", OD_PARAM_DOUBLE, 0.5, OD_SAME, -10, 20, 0, NULL, NULL, "exponent E of omega_k = scale k^-E"},
    {"scale", OD_PARAM_DOUBLE, 1, OD_SAME, -1e12, 1e12, 0, NULL, NULL, "omega_1"},
};

int od_linreg_init_from_spec(const char *spec, size_t d, const char *spectrum_name, double **omega)
{
    char name[32];
    const char *rest;
    *omega = NULL;
    OD_TRY(od_spec_split(spec, name, sizeof name, &rest));
    if (strcmp(name, "file") == 0) {
        if (!*rest) OD_ERRORF(OD_EPARSE, "'%s': file: needs a path", spec);
        size_t n;
        OD_TRY(od_linreg_read_column(rest, 0, &n, omega));
        if (n != d) {
            od_free(*omega);
            *omega = NULL;
            OD_ERRORF(OD_EBADSIZE, "%s has %zu values but spectrum %s has %zu", rest, n,
                      spectrum_name ? spectrum_name : "(given)", d);
        }
        return OD_OK;
    }
    double *w = od_vec_alloc(d);
    if (!w) OD_ERRORF(OD_ENOMEM, "'%s': out of memory", spec);
    if (strcmp(name, "const") == 0) {
        double c;
        if (od_parse_double(rest, &c) != OD_OK) {
            od_free(w);
            OD_ERRORF(OD_EPARSE, "'%s': const: expects a number, as in const:1", spec);
        }
        for (size_t k = 0; k < d; k++) w[k] = c;
    } else if (strcmp(name, "powerlaw") == 0) {
        od_params v;
        int st = od_linreg_spec_params(spec, init_pl_spec, NTAB(init_pl_spec), rest, &v);
        if (st != OD_OK) {
            od_free(w);
            return st;
        }
        od_linreg_spectrum_powerlaw(d, od_params_num(&v, "exp"), od_params_num(&v, "scale"), w);
        od_params_free(&v);
    } else {
        od_free(w);
        OD_ERRORF(OD_ENOTFOUND, "'%s': unknown initial profile '%s' (const, powerlaw or file)", spec,
                  name);
    }
    *omega = w;
    return OD_OK;
}
