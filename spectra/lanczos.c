/* optdyn spectra — Lanczos with full reorthogonalization, Ritz pairs, and the extreme-eigenpair
 * driver (theory sheet spectra.md §2).
 *
 * Reorthogonalization is classical Gram–Schmidt done twice ("twice is enough": Giraud, Langou,
 * Rozložník 2005; the fix of cupy PR #10099), each pass two BLAS-2 products over Q.  The tridiagonal
 * eigenproblem goes to GSL's dense symmetric solver on the j-by-j matrix T_j (j is at most a few
 * hundred).  The convergence test is ARPACK's and Spectra's (SymEigsBase.h::num_converged):
 * β_j |e_jᵀ y_i| < tol · max(ε^{2/3}, |θ_i|), which needs no extra products.
 */
#include "spectra/optdyn_spectra.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_matrix.h>

/* ---- step API ---------------------------------------------------------------------------------- */

od_spectra_lanczos *od_spectra_lanczos_alloc(size_t d, size_t m)
{
    if (d == 0 || m == 0 || m > d) {
        od_error(OD_EINVAL, __FILE__, __LINE__, "Lanczos: steps m = %zu must be in [1, d = %zu]", m, d);
        return NULL;
    }
    od_spectra_lanczos *L = calloc(1, sizeof *L);
    if (L) {
        L->Q = od_vec_alloc((m + 1) * d);
        L->alpha = od_vec_alloc(m);
        L->beta = od_vec_alloc(m);
        L->w = od_vec_alloc(d);
        L->h = od_vec_alloc(m + 1);
    }
    if (!L || !L->Q || !L->alpha || !L->beta || !L->w || !L->h) {
        od_spectra_lanczos_free(L);
        od_error(OD_ENOMEM, __FILE__, __LINE__, "Lanczos: out of memory (d = %zu, m = %zu)", d, m);
        return NULL;
    }
    L->dim = d;
    L->max_steps = m;
    L->reorth = OD_SPECTRA_REORTH_FULL;
    L->break_tol = 100 * DBL_EPSILON;
    return L;
}

void od_spectra_lanczos_free(od_spectra_lanczos *L)
{
    if (!L) return;
    od_free(L->Q);
    od_free(L->alpha);
    od_free(L->beta);
    od_free(L->w);
    od_free(L->h);
    free(L);
}

/* w ← w − Q_k (Q_kᵀ w) over the first k basis vectors, then against the locked vectors. */
static void gs_pass(od_spectra_lanczos *L, size_t k, double *w)
{
    const size_t d = L->dim;
    if (k) {
        od_gemv(0, k, d, 1.0, L->Q, w, 0.0, L->h);
        od_gemv(1, k, d, -1.0, L->Q, L->h, 1.0, w);
    }
    for (size_t l = 0; l < L->nlock; l++) od_axpy(d, -od_dot(d, L->lock + l * d, w), L->lock + l * d, w);
}

int od_spectra_lanczos_start(od_spectra_lanczos *L, const double *v0)
{
    const size_t d = L->dim;
    if (!v0 || !od_all_finite(d, v0)) OD_ERROR("Lanczos: the start vector is NULL or not finite", OD_EINVAL);
    double *q = L->Q;
    od_copy(d, v0, q);
    if (L->nlock) {
        gs_pass(L, 0, q);
        gs_pass(L, 0, q);
    }
    const double nq = od_nrm2(d, q);
    if (!(nq > 0)) OD_ERROR("Lanczos: the start vector is zero (or lies in the locked space)", OD_EINVAL);
    od_scal(d, 1.0 / nq, q);
    L->steps = 0;
    L->breakdown = 0;
    return OD_OK;
}

int od_spectra_lanczos_step(od_spectra_lanczos *L, od_spectra_linop *op)
{
    const size_t d = L->dim, k = L->steps;
    if (k >= L->max_steps || L->breakdown)
        OD_ERRORF(OD_EMAXITER, "Lanczos: no step left (%zu of %zu done%s)", k, L->max_steps,
                  L->breakdown ? ", invariant subspace found" : "");
    if (op->dim != d) OD_ERRORF(OD_EBADSIZE, "Lanczos: operator dimension %zu, workspace %zu", op->dim, d);
    OD_TRY(od_spectra_apply(op, L->Q + k * d, L->w));
    return od_spectra_lanczos_step_given(L, L->w);
}

int od_spectra_lanczos_step_given(od_spectra_lanczos *L, const double *Aq)
{
    const size_t d = L->dim, k = L->steps;
    if (k >= L->max_steps || L->breakdown)
        OD_ERRORF(OD_EMAXITER, "Lanczos: no step left (%zu of %zu done)", k, L->max_steps);
    const double *q = L->Q + k * d;
    double *w = L->w;
    if (Aq != w) od_copy(d, Aq, w);
    const double a = od_dot(d, q, w);
    od_axpy(d, -a, q, w);
    if (k) od_axpy(d, -L->beta[k - 1], L->Q + (k - 1) * d, w);
    if (L->reorth == OD_SPECTRA_REORTH_FULL) {
        gs_pass(L, k + 1, w);
        gs_pass(L, k + 1, w);
    } else if (L->nlock) {
        gs_pass(L, 0, w);
    }
    const double b = od_nrm2(d, w);
    L->alpha[k] = a;
    L->beta[k] = b;
    L->steps = k + 1;
    if (b <= L->break_tol * fmax(fabs(a), k ? L->beta[k - 1] : 0.0) || b == 0.0) {
        L->breakdown = 1;
        return OD_OK;
    }
    double *qn = L->Q + (k + 1) * d;
    for (size_t i = 0; i < d; i++) qn[i] = w[i] / b;
    return OD_OK;
}

/* Continues after a breakdown from r (orthogonalised against the basis and the locks): β_j = 0, so
 * T_j becomes block diagonal and the quadrature of the first block is untouched.  Returns OD_ENUMERIC
 * when r lies in the span. */
static int lanczos_continue(od_spectra_lanczos *L, double *r)
{
    const size_t d = L->dim, k = L->steps;
    gs_pass(L, k, r);
    gs_pass(L, k, r);
    const double nr = od_nrm2(d, r);
    if (!(nr > 0)) OD_ERROR("Lanczos: restart vector lies in the Krylov space", OD_ENUMERIC);
    double *qn = L->Q + k * d;
    for (size_t i = 0; i < d; i++) qn[i] = r[i] / nr;
    L->beta[k - 1] = 0.0;
    L->breakdown = 0;
    return OD_OK;
}

int od_spectra_lanczos_ritz(const od_spectra_lanczos *L, double *theta, double *tau, double *resid,
                            double *Y)
{
    const size_t j = L->steps;
    if (j == 0) OD_ERROR("Lanczos: no step done", OD_EINVAL);
    gsl_matrix *T = gsl_matrix_calloc(j, j), *V = gsl_matrix_alloc(j, j);
    gsl_vector *ev = gsl_vector_alloc(j);
    gsl_eigen_symmv_workspace *ws = gsl_eigen_symmv_alloc(j);
    int st = OD_OK;
    if (!T || !V || !ev || !ws) {
        st = od_error(OD_ENOMEM, __FILE__, __LINE__, "Lanczos: out of memory for T (j = %zu)", j);
        goto done;
    }
    for (size_t i = 0; i < j; i++) {
        gsl_matrix_set(T, i, i, L->alpha[i]);
        if (i + 1 < j) {
            gsl_matrix_set(T, i, i + 1, L->beta[i]);
            gsl_matrix_set(T, i + 1, i, L->beta[i]);
        }
    }
    int gs = gsl_eigen_symmv(T, ev, V, ws);
    if (gs == GSL_SUCCESS) gs = gsl_eigen_symmv_sort(ev, V, GSL_EIGEN_SORT_VAL_ASC);
    if (gs != GSL_SUCCESS) {
        st = od_error(OD_EGSL, __FILE__, __LINE__, "Lanczos: tridiagonal eigensolver: %s", gsl_strerror(gs));
        goto done;
    }
    const double bj = L->breakdown ? 0.0 : L->beta[j - 1];
    for (size_t k = 0; k < j; k++) {
        if (theta) theta[k] = gsl_vector_get(ev, k);
        if (tau) tau[k] = gsl_matrix_get(V, 0, k) * gsl_matrix_get(V, 0, k);
        if (resid) resid[k] = bj * fabs(gsl_matrix_get(V, j - 1, k));
    }
    if (Y)
        for (size_t r = 0; r < j; r++)
            for (size_t c = 0; c < j; c++) Y[r * j + c] = gsl_matrix_get(V, r, c);
done:
    gsl_matrix_free(T);
    gsl_matrix_free(V);
    gsl_vector_free(ev);
    if (ws) gsl_eigen_symmv_free(ws);
    return st;
}

void od_spectra_lanczos_ritz_vector(const od_spectra_lanczos *L, const double *y, double *out)
{
    od_gemv(1, L->steps, L->dim, 1.0, L->Q, y, 0.0, out);
}

double od_spectra_lanczos_orth_error(const od_spectra_lanczos *L)
{
    const size_t d = L->dim, nq = L->steps + (L->breakdown ? 0 : 1);
    double err = 0;
    for (size_t a = 0; a < nq; a++)
        for (size_t b = 0; b <= a; b++) {
            double g = od_dot(d, L->Q + a * d, L->Q + b * d) - (a == b ? 1.0 : 0.0);
            err = fmax(err, fabs(g));
        }
    return err;
}

/* ---- extreme eigenpairs -------------------------------------------------------------------------- */

od_spectra_eigs_params od_spectra_eigs_default_params(void)
{
    return (od_spectra_eigs_params){.k = 1, .which = OD_SPECTRA_TOP, .tol = 1e-10, .max_krylov = 0,
                                    .max_restarts = 50, .reorth = OD_SPECTRA_REORTH_FULL,
                                    .want_vectors = 0, .v0 = NULL, .seed = 1, .stream = 4};
}

void od_spectra_eigs_result_free(od_spectra_eigs_result *res)
{
    if (!res) return;
    od_free(res->values);
    od_free(res->residuals);
    od_free(res->vectors);
    memset(res, 0, sizeof *res);
}

/* A found pair: value, residual bound, group (0 top / magnitude, 1 bottom), vector (in locked). */
typedef struct {
    double value, resid;
    int group;
} pair;

/* Chooses the wanted Ritz indices among theta[0..j) (ascending): up to n_top from the top (or of
 * largest magnitude) and n_bot from the bottom, disjoint.  Writes indices and groups; returns count. */
static size_t wanted(const double *theta, size_t j, od_spectra_which which, size_t n_top,
                     size_t n_bot, size_t *idx, int *grp)
{
    size_t c = 0;
    if (which == OD_SPECTRA_MAGNITUDE) {
        size_t lo = 0, hi = j;   /* merge from both ends of the sorted list */
        while (c < n_top && lo < hi) {
            if (fabs(theta[hi - 1]) >= fabs(theta[lo])) idx[c] = --hi;
            else idx[c] = lo++;
            grp[c++] = 0;
        }
        return c;
    }
    for (size_t t = 0; t < n_top && t < j; t++) {
        idx[c] = j - 1 - t;
        grp[c++] = 0;
    }
    for (size_t b = 0; b < n_bot && b + n_top < j; b++) {
        idx[c] = b;
        grp[c++] = 1;
    }
    return c;
}

static int cmp_desc(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    if (x->group != y->group) return x->group - y->group;
    return x->group == 0 ? (x->value < y->value) - (x->value > y->value)
                         : (x->value > y->value) - (x->value < y->value);
}

static int cmp_mag(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    return (fabs(x->value) < fabs(y->value)) - (fabs(x->value) > fabs(y->value));
}

int od_spectra_eigs(od_spectra_linop *op, const od_spectra_eigs_params *prm,
                    od_spectra_eigs_result *res)
{
    memset(res, 0, sizeof *res);
    const size_t d = op->dim, k = prm->k;
    if (k == 0 || k >= d)
        OD_ERRORF(OD_EINVAL, "eigs: k = %zu must be in [1, d - 1] (d = %zu)", k, d);
    if (!(prm->tol > 0)) OD_ERRORF(OD_EINVAL, "eigs: tol = %g must be positive", prm->tol);
    size_t n_top = k, n_bot = 0;
    if (prm->which == OD_SPECTRA_BOTTOM) n_top = 0, n_bot = k;
    if (prm->which == OD_SPECTRA_BOTH) n_top = (k + 1) / 2, n_bot = k / 2;
    size_t mk = prm->max_krylov ? prm->max_krylov : (2 * k + 20 > 200 ? 2 * k + 20 : 200);
    if (mk > d) mk = d;
    if (mk < k + 1 && mk < d) mk = k + 1 < d ? k + 1 : d;
    const uint64_t mv0 = op->matvecs;
    size_t nlock = 0, top_locked = 0, bot_locked = 0, ncur = 0, restarts = 0, steps_total = 0;
    uint32_t fresh = 1;
    const double eps23 = pow(DBL_EPSILON, 2.0 / 3.0);

    od_spectra_lanczos *L = od_spectra_lanczos_alloc(d, mk);
    double *locked = od_vec_alloc(k * d), *theta = od_vec_alloc(mk), *resid = od_vec_alloc(mk),
           *Y = od_vec_alloc(mk * mk), *v = od_vec_alloc(d);
    pair *found = calloc(k, sizeof *found), *cur = calloc(k, sizeof *cur);
    size_t *idx = calloc(k, sizeof *idx);
    int *grp = calloc(k, sizeof *grp);
    int st = OD_OK;
    if (!L || !locked || !theta || !resid || !Y || !v || !found || !cur || !idx || !grp) {
        st = od_error(OD_ENOMEM, __FILE__, __LINE__, "eigs: out of memory (d = %zu, Krylov size %zu)", d, mk);
        goto done;
    }
    L->reorth = prm->reorth;
    L->lock = locked;
    od_stream s;
    od_stream_init(&s, prm->seed, prm->stream);
    if (prm->v0) {
        od_copy(d, prm->v0, v);
    } else {
        od_stream_seek(&s, 0, 0);
        od_stream_normals(&s, v, d);
    }
    for (;;) {
        L->nlock = nlock;
        L->max_steps = mk < d - nlock ? mk : d - nlock;
        if ((st = od_spectra_lanczos_start(L, v)) != OD_OK) goto done;
        size_t last_check = 0, conv = 0;
        const size_t want_top = n_top - top_locked, want_bot = n_bot - bot_locked;
        const size_t want = want_top + want_bot;
        for (;;) {
            if ((st = od_spectra_lanczos_step(L, op)) != OD_OK) goto done;
            const size_t j = L->steps;
            const int last = j == L->max_steps;
            if (L->breakdown && !last) {
                /* invariant subspace: it cannot show eigenvalues outside it, so continue with a
                 * fresh random vector orthogonal to it (ARPACK's getv0 does the same) */
                od_stream_seek(&s, fresh++, 0);
                od_stream_normals(&s, L->w, d);
                if ((st = lanczos_continue(L, L->w)) != OD_OK) goto done;
                continue;
            }
            if (j < want || (!last && j - last_check < (j / 8 > 5 ? j / 8 : 5))) continue;
            last_check = j;
            if ((st = od_spectra_lanczos_ritz(L, theta, NULL, resid, Y)) != OD_OK) goto done;
            ncur = wanted(theta, j, prm->which, want_top, want_bot, idx, grp);
            conv = 0;
            for (size_t c = 0; c < ncur; c++) {
                cur[c] = (pair){theta[idx[c]], resid[idx[c]], grp[c]};
                if (resid[idx[c]] < prm->tol * fmax(eps23, fabs(theta[idx[c]]))) conv++;
            }
            if ((conv == want && ncur == want) || last) break;
        }
        steps_total += L->steps;
        const size_t j = L->steps;
        if (conv == want && ncur == want) {
            for (size_t c = 0; c < ncur; c++) found[nlock + c] = cur[c];
            /* ritz_vector reads a column: Y is row-major j-by-j, so gather it first */
            if (prm->want_vectors)
                for (size_t c = 0; c < ncur; c++) {
                    for (size_t r = 0; r < j; r++) theta[r] = Y[r * j + idx[c]];
                    od_spectra_lanczos_ritz_vector(L, theta, locked + (nlock + c) * d);
                }
            nlock += ncur;
            break;
        }
        if (restarts >= prm->max_restarts || nlock + want >= d) {
            for (size_t c = 0; c < ncur && nlock + c < k; c++) found[nlock + c] = cur[c];
            nlock += ncur;
            st = od_error(OD_EMAXITER, __FILE__, __LINE__, "eigs: %zu of %zu pairs converged after %zu "
                          "restarts (raise max_krylov or tol)", nlock - ncur + conv, k, restarts);
            goto done;
        }
        /* lock the converged wanted pairs; restart from the sum of the others */
        od_zero(d, v);
        double *col = od_vec_alloc(j), *rv = od_vec_alloc(d);
        if (!col || !rv) {
            od_free(col);
            od_free(rv);
            st = od_error(OD_ENOMEM, __FILE__, __LINE__, "eigs: out of memory at restart");
            goto done;
        }
        size_t nl = nlock;
        for (size_t c = 0; c < ncur; c++) {
            for (size_t r = 0; r < j; r++) col[r] = Y[r * j + idx[c]];
            od_spectra_lanczos_ritz_vector(L, col, rv);
            if (cur[c].resid < prm->tol * fmax(eps23, fabs(cur[c].value))) {
                od_copy(d, rv, locked + nl * d);
                found[nl++] = cur[c];
                if (cur[c].group == 0) top_locked++;
                else bot_locked++;
            } else {
                od_axpy(d, 1.0, rv, v);
            }
        }
        od_free(col);
        od_free(rv);
        nlock = nl;
        restarts++;
    }
    res->n_converged = k;
done:
    if (st == OD_OK || st == OD_EMAXITER) {
        res->k = k;
        res->values = od_vec_alloc(k);
        res->residuals = od_vec_alloc(k);
        if (prm->want_vectors) res->vectors = od_vec_alloc(k * d);
        if (!res->values || !res->residuals || (prm->want_vectors && !res->vectors)) {
            od_spectra_eigs_result_free(res);
            st = od_error(OD_ENOMEM, __FILE__, __LINE__, "eigs: out of memory for the result");
        } else {
            /* order the pairs (remembering where their vectors are) */
            size_t nf = nlock < k ? nlock : k;
            size_t *perm = calloc(nf ? nf : 1, sizeof *perm);
            pair *tmp = calloc(nf ? nf : 1, sizeof *tmp);
            if (perm && tmp) {
                for (size_t i = 0; i < nf; i++) {
                    tmp[i] = found[i];
                    tmp[i].resid = found[i].resid;
                    perm[i] = i;
                }
                /* sort indices by the pair order */
                for (size_t a = 1; a < nf; a++)
                    for (size_t b = a; b > 0; b--) {
                        int (*cmp)(const void *, const void *) =
                            prm->which == OD_SPECTRA_MAGNITUDE ? cmp_mag : cmp_desc;
                        if (cmp(&found[perm[b]], &found[perm[b - 1]]) < 0) {
                            size_t t = perm[b];
                            perm[b] = perm[b - 1];
                            perm[b - 1] = t;
                        } else {
                            break;
                        }
                    }
                for (size_t i = 0; i < k; i++) {
                    res->values[i] = i < nf ? found[perm[i]].value : NAN;
                    res->residuals[i] = i < nf ? found[perm[i]].resid : NAN;
                    if (res->vectors && i < nf) od_copy(d, locked + perm[i] * d, res->vectors + i * d);
                }
            }
            free(perm);
            free(tmp);
        }
        res->steps = steps_total;
        res->restarts = restarts;
        res->matvecs = op->matvecs - mv0;
    }
    od_spectra_lanczos_free(L);
    od_free(locked);
    od_free(theta);
    od_free(resid);
    od_free(Y);
    od_free(v);
    free(found);
    free(cur);
    free(idx);
    free(grp);
    return st;
}
