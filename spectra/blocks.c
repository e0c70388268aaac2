/* optdyn spectra — blockwise spectra (theory sheet spectra.md §4.6, §8): SLQ on each named
 * parameter block's restriction of the operator, optional normalisation by the block's largest or
 * 10th-largest eigenvalue (Zhang et al. 2024, Fig. 3), JS distances between smoothed block
 * densities and JS⁰ = their mean over pairs; plus the module's problem catalog.
 */
#include "spectra/internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const od_problem_entry *const od_spectra_problems[] = {
    &od_spectra_entry_softmax, &od_spectra_entry_gmm, &od_spectra_entry_mlp,
    &od_spectra_entry_chebyshev, &od_spectra_entry_blocks, NULL};

void od_spectra_label(od_problem *p, const char *name, const od_params *v)
{
    size_t used = (size_t)snprintf(p->label, sizeof p->label, "%s:", name);
    for (size_t i = 0; i < v->n && used < sizeof p->label; i++) {
        char val[64];
        if (v->spec[i].type == OD_PARAM_DOUBLE) snprintf(val, sizeof val, "%.6g", v->num[i]);
        else od_params_value_str(v, i, val, sizeof val);
        used += (size_t)snprintf(p->label + used, sizeof p->label - used, "%s%s=%s", i ? "," : "",
                                 v->spec[i].name, val);
    }
}

int od_spectra_problem_blocks(const od_problem *p, od_spectra_block *out, size_t cap, size_t *n)
{
    *n = 0;
    if (!p || cap == 0) OD_ERROR("od_spectra_problem_blocks: NULL problem or no room", OD_EINVAL);
    if (p->type == &od_spectra_softmax_type) *n = od_spectra_softmax_blocks(p, out, cap);
    else if (p->type == &od_spectra_mlp_type) *n = od_spectra_mlp_blocks(p, out, cap);
    else if (p->type == &od_spectra_blockquad_type) *n = od_spectra_blockquad_blocks(p, out, cap);
    else {
        snprintf(out[0].name, sizeof out[0].name, "all");
        out[0].lo = 0;
        out[0].hi = p->dim;
        *n = 1;
    }
    return OD_OK;
}

int od_spectra_blocks_parse(const char *text, size_t d, const od_spectra_block *auto_blocks,
                            size_t n_auto, od_spectra_block *out, size_t cap, size_t *n)
{
    *n = 0;
    if (strcmp(text, "auto") == 0) {
        if (n_auto > cap) OD_ERRORF(OD_ERANGE, "--blocks: %zu blocks, at most %zu", n_auto, cap);
        memcpy(out, auto_blocks, n_auto * sizeof *out);
        *n = n_auto;
        return OD_OK;
    }
    char buf[2048];
    if (strlen(text) >= sizeof buf) OD_ERROR("--blocks: list too long", OD_ERANGE);
    snprintf(buf, sizeof buf, "%s", text);
    for (char *save = NULL, *it = strtok_r(buf, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(it, '='), *colon = eq ? strchr(eq, ':') : NULL;
        long lo, hi;
        if (!eq || !colon || eq == it || (size_t)(eq - it) >= sizeof out->name)
            OD_ERRORF(OD_EPARSE, "--blocks: item '%s' is not name=lo:hi (or the word auto)", it);
        *eq = *colon = 0;
        if (od_parse_long(eq + 1, &lo) || od_parse_long(colon + 1, &hi) || lo < 0 || hi <= lo ||
            (size_t)hi > d)
            OD_ERRORF(OD_ERANGE, "--blocks: item '%s=%s:%s' needs 0 <= lo < hi <= d = %zu", it, eq + 1,
                      colon + 1, d);
        if (*n >= cap) OD_ERRORF(OD_ERANGE, "--blocks: more than %zu blocks", cap);
        snprintf(out[*n].name, sizeof out[*n].name, "%s", it);
        out[*n].lo = (size_t)lo;
        out[*n].hi = (size_t)hi;
        (*n)++;
    }
    if (*n == 0) OD_ERROR("--blocks: no block given", OD_EPARSE);
    return OD_OK;
}

int od_spectra_block_slq(od_spectra_linop *op, size_t n_blocks, const od_spectra_block *blocks,
                         const od_spectra_slq_params *prm, od_spectra_block_norm norm,
                         od_spectra_slq_result *res, double *scale)
{
    for (size_t b = 0; b < n_blocks; b++) memset(&res[b], 0, sizeof res[b]);
    int st = OD_OK;
    for (size_t b = 0; b < n_blocks && st == OD_OK; b++) {
        od_spectra_linop *r = NULL;
        if ((st = od_spectra_linop_restrict(op, blocks[b].lo, blocks[b].hi, &r)) != OD_OK) break;
        const size_t db = r->dim;
        od_spectra_slq_params p = *prm;
        if (p.steps > db) p.steps = db;
        p.stream = prm->stream + (uint32_t)(16 * b);   /* a fresh probe stream per block */
        double sc = 1.0;
        if (norm != OD_SPECTRA_NORM_NONE) {
            od_spectra_eigs_params ep = od_spectra_eigs_default_params();
            ep.k = norm == OD_SPECTRA_NORM_TENTH ? 10 : 1;
            ep.tol = 1e-8;
            ep.seed = prm->seed;
            if (ep.k >= db) {
                st = od_error(OD_EINVAL, __FILE__, __LINE__, "block '%s' has %zu coordinates: too few "
                              "for its %s-largest eigenvalue", blocks[b].name, db,
                              ep.k == 10 ? "10th" : "1st");
            } else {
                od_spectra_eigs_result er;
                st = od_spectra_eigs(r, &ep, &er);
                if (st == OD_OK) sc = er.values[ep.k - 1];
                od_spectra_eigs_result_free(&er);
                if (st == OD_OK && !(sc > 0))
                    st = od_error(OD_ENUMERIC, __FILE__, __LINE__, "block '%s': normalising eigenvalue "
                                  "%g is not positive", blocks[b].name, sc);
            }
        }
        if (st == OD_OK) st = od_spectra_slq(r, &p, &res[b]);
        if (st == OD_OK && sc != 1.0)
            for (size_t k = 0; k < res[b].probes * res[b].steps; k++) res[b].nodes[k] /= sc;
        if (scale) scale[b] = sc;
        od_spectra_linop_free(r);
    }
    if (st != OD_OK)
        for (size_t b = 0; b < n_blocks; b++) od_spectra_slq_result_free(&res[b]);
    return st;
}

double od_spectra_js_matrix(size_t n_blocks, size_t n, const double *dens, double base, double *js)
{
    double sum = 0;
    size_t pairs = 0;
    for (size_t i = 0; i < n_blocks; i++) {
        js[i * n_blocks + i] = 0;
        for (size_t j = 0; j < i; j++) {
            const double v = od_spectra_js(n, dens + i * n, dens + j * n, base);
            js[i * n_blocks + j] = js[j * n_blocks + i] = v;
            sum += v;
            pairs++;
        }
    }
    return pairs ? sum / (double)pairs : 0.0;
}
