/* optdyn spectra — block-diagonal quadratics, the toy model of Zhang, Chen, Ding, Li, Sun, Luo,
 * "Why Transformers Need Adam: A Hessian Perspective" (NeurIPS 2024), as specified in the theory
 * sheet spectra.md §8: f(w) = ½ wᵀ H w, H = blockdiag(H_1, ..., H_L), H_l = Q_l diag(λ_l) Q_lᵀ with
 * Q_l Haar-distributed (QR of a Gaussian matrix with the signs of R's diagonal fixed; Mezzadri 2007).
 * Each H_l is stored dense (sizes are hundreds), so a product costs Σ_l b_l².
 */
#include "spectra/internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>

enum { BQ_MAX_BLOCKS = 64 };

typedef struct {
    size_t nb;
    size_t off[BQ_MAX_BLOCKS + 1];
    double *H[BQ_MAX_BLOCKS];    /* b_l-by-b_l, row-major */
} bq_data;

static void bq_free(void *p)
{
    bq_data *q = p;
    if (q)
        for (size_t l = 0; l < q->nb; l++) od_free(q->H[l]);
    free(q);
}

static int bq_hvp(const od_problem *p, const double *x, const double *v, double *hv)
{
    (void)x;
    const bq_data *q = p->data;
    for (size_t l = 0; l < q->nb; l++) {
        const size_t o = q->off[l], b = q->off[l + 1] - o;
        od_gemv(0, b, b, 1.0, q->H[l], v + o, 0.0, hv + o);
    }
    return OD_OK;
}

static int bq_grad(const od_problem *p, const double *x, double *g, double *f)
{
    bq_hvp(p, x, x, g);
    if (f) *f = 0.5 * od_dot(p->dim, x, g);
    return OD_OK;
}

static int bq_loss(const od_problem *p, const double *x, double *f)
{
    double *g = od_vec_alloc(p->dim);
    if (!g) OD_ERROR("blocks: out of memory", OD_ENOMEM);
    bq_grad(p, x, g, f);
    od_free(g);
    return OD_OK;
}

/* Noise-free: a minibatch gradient is the gradient. */
static int bq_batch_grad(const od_problem *p, const double *x, size_t B, od_stream *s, double *g,
                         double *f)
{
    (void)B;
    (void)s;
    return bq_grad(p, x, g, f);
}

static int bq_sample_grads(const od_problem *p, const double *x, size_t B, od_stream *s, double *G)
{
    (void)s;
    bq_grad(p, x, G, NULL);
    for (size_t b = 1; b < B; b++) od_copy(p->dim, G, G + b * p->dim);
    return OD_OK;
}

const od_problem_type od_spectra_blockquad_type = {
    .name = "blocks",
    .loss = bq_loss,
    .grad = bq_grad,
    .hvp = bq_hvp,
    .batch_grad = bq_batch_grad,
    .sample_grads = bq_sample_grads,
    .free_data = bq_free,
};

int od_spectra_blockquad_problem(size_t n_blocks, const size_t *sizes, const double *lambda,
                                 uint64_t seed, od_problem **out)
{
    *out = NULL;
    if (n_blocks == 0 || n_blocks > BQ_MAX_BLOCKS)
        OD_ERRORF(OD_EINVAL, "blocks: %zu blocks (1 to %d)", n_blocks, BQ_MAX_BLOCKS);
    bq_data *q = calloc(1, sizeof *q);
    if (!q) OD_ERROR("blocks: out of memory", OD_ENOMEM);
    q->nb = n_blocks;
    int st = OD_OK;
    for (size_t l = 0; l < n_blocks && st == OD_OK; l++) {
        if (sizes[l] == 0 || sizes[l] > 4096)
            st = od_error(OD_EINVAL, __FILE__, __LINE__, "blocks: block %zu has size %zu (1 to 4096)", l, sizes[l]);
        q->off[l + 1] = q->off[l] + sizes[l];
    }
    const size_t d = q->off[n_blocks];
    if (st == OD_OK && !od_all_finite(d, lambda))
        st = od_error(OD_EINVAL, __FILE__, __LINE__, "blocks: an eigenvalue is not finite");
    od_stream s;
    od_stream_init(&s, seed, 3);
    for (size_t l = 0; l < n_blocks && st == OD_OK; l++) {
        const size_t b = sizes[l];
        double *Q = od_vec_alloc(2 * b * b);
        q->H[l] = od_vec_alloc(b * b);
        if (!Q || !q->H[l]) {
            od_free(Q);
            st = od_error(OD_ENOMEM, __FILE__, __LINE__, "blocks: out of memory");
            break;
        }
        od_stream_seek(&s, (uint32_t)l, 0);
        if ((st = od_haar_orthogonal(b, &s, Q)) == OD_OK) {
            double *QL = Q + b * b;
            for (size_t i = 0; i < b; i++)
                for (size_t k = 0; k < b; k++) QL[i * b + k] = Q[i * b + k] * lambda[q->off[l] + k];
            od_gemm(0, 1, b, b, b, 1.0, QL, Q, 0.0, q->H[l]);
            for (size_t i = 0; i < b; i++)   /* exact symmetry */
                for (size_t j = 0; j < i; j++)
                    q->H[l][i * b + j] = q->H[l][j * b + i] = 0.5 * (q->H[l][i * b + j] + q->H[l][j * b + i]);
        }
        od_free(Q);
    }
    od_problem *p = st == OD_OK ? od_problem_alloc(&od_spectra_blockquad_type, d, 0, q) : NULL;
    if (!p) {
        bq_free(q);
        return st != OD_OK ? st : od_error(OD_ENOMEM, __FILE__, __LINE__, "blocks: out of memory");
    }
    p->xstar = od_vec_alloc(d);
    p->fstar = 0;
    if (!p->xstar) {
        od_problem_free(p);
        OD_ERROR("blocks: out of memory", OD_ENOMEM);
    }
    snprintf(p->label, sizeof p->label, "blocks: %zu blocks, d=%zu", n_blocks, d);
    *out = p;
    return OD_OK;
}

size_t od_spectra_blockquad_blocks(const od_problem *p, od_spectra_block *out, size_t cap)
{
    const bq_data *q = p->data;
    size_t c = 0;
    for (; c < q->nb && c < cap; c++) {
        snprintf(out[c].name, sizeof out[c].name, "block%zu", c);
        out[c].lo = q->off[c];
        out[c].hi = q->off[c + 1];
    }
    return c;
}

/* ---- by name: blocks:sizes=100|100|100,ranges=1:10|100:1000|1000:10000,shuffle=0 ------------- */

static const od_param bq_params[] = {
    {"sizes", OD_PARAM_STRING, 0, OD_SAME, 0, 0, 0, NULL, "100|100|100", "block sizes, '|'-separated"},
    {"ranges", OD_PARAM_STRING, 0, OD_SAME, 0, 0, 0, NULL, "1:10|100:1000|1000:10000",
     "per block lo:hi, eigenvalues i.i.d. uniform on [lo, hi]"},
    {"shuffle", OD_PARAM_BOOL, 0, OD_SAME, 0, 1, 0, NULL, NULL,
     "permute all eigenvalues across blocks (the homogeneous control)"},
};

static int bq_build(const od_params *v, uint64_t seed, od_problem **out)
{
    *out = NULL;
    double sz[BQ_MAX_BLOCKS], rg[2 * BQ_MAX_BLOCKS];
    size_t nb = 0, nr = 0;
    OD_TRY(od_parse_doubles(od_params_str(v, "sizes"), '|', sz, BQ_MAX_BLOCKS, &nb, "blocks: key 'sizes'"));
    /* ranges: "lo:hi|lo:hi": parse as '|' items, then split each at ':' */
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", od_params_str(v, "ranges"));
    for (char *save = NULL, *tok = strtok_r(buf, "|", &save); tok; tok = strtok_r(NULL, "|", &save)) {
        char *colon = strchr(tok, ':');
        if (!colon || nr + 2 > 2 * BQ_MAX_BLOCKS)
            OD_ERRORF(OD_EPARSE, "blocks: key 'ranges': item '%s' is not lo:hi", tok);
        *colon = 0;
        if (od_parse_double(tok, &rg[nr]) || od_parse_double(colon + 1, &rg[nr + 1]) ||
            !(rg[nr] <= rg[nr + 1]))
            OD_ERRORF(OD_EPARSE, "blocks: key 'ranges': item '%s:%s' is not lo:hi with lo <= hi", tok,
                      colon + 1);
        nr += 2;
    }
    if (nr / 2 != nb)
        OD_ERRORF(OD_EBADSIZE, "blocks: %zu sizes but %zu ranges", nb, nr / 2);
    size_t sizes[BQ_MAX_BLOCKS], d = 0;
    for (size_t l = 0; l < nb; l++) {
        if (sz[l] < 1 || sz[l] > 4096 || sz[l] != floor(sz[l]))
            OD_ERRORF(OD_ERANGE, "blocks: key 'sizes': %g is not an integer in [1, 4096]", sz[l]);
        d += sizes[l] = (size_t)sz[l];
    }
    double *lam = od_vec_alloc(d);
    if (!lam) OD_ERROR("blocks: out of memory", OD_ENOMEM);
    od_stream s;
    od_stream_init(&s, seed, 2);
    for (size_t l = 0, o = 0; l < nb; o += sizes[l], l++)
        for (size_t k = 0; k < sizes[l]; k++) {
            od_stream_seek(&s, (uint32_t)l, (uint32_t)k);
            lam[o + k] = rg[2 * l] + (rg[2 * l + 1] - rg[2 * l]) * od_stream_uniform(&s);
        }
    if (od_params_int(v, "shuffle")) {   /* Fisher–Yates on stream 4 */
        od_stream_init(&s, seed, 4);
        for (size_t i = d - 1; i > 0; i--) {
            const size_t j = od_stream_below(&s, (uint32_t)(i + 1));
            const double t = lam[i];
            lam[i] = lam[j];
            lam[j] = t;
        }
    }
    int st = od_spectra_blockquad_problem(nb, sizes, lam, seed, out);
    od_free(lam);
    if (st == OD_OK) od_spectra_label(*out, "blocks", v);
    return st;
}

const od_problem_entry od_spectra_entry_blocks = {
    "blocks", "block-diagonal quadratic with Haar-rotated blocks of uniform spectra (Zhang et al. 2024)",
    bq_params, sizeof bq_params / sizeof bq_params[0], bq_build};
