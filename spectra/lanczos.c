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

/* Chooses `want` Ritz indices among theta[0..j) (ascending) by `which`: the n_top largest (or of
 * largest magnitude) and the n_bot smallest, disjoint, in output order.  Returns the count. */
static size_t wanted(const double *theta, size_t j, od_spectra_which which, size_t n_top,
                     size_t n_bot, size_t *idx)
{
    size_t c = 0;
    if (which == OD_SPECTRA_MAGNITUDE) {
        size_t lo = 0, hi = j;   /* merge from both ends of the sorted list */
        while (c < n_top && lo < hi) idx[c++] = fabs(theta[hi - 1]) >= fabs(theta[lo]) ? --hi : lo++;
        return c;
    }
    for (size_t t = 0; t < n_top && t < j; t++) idx[c++] = j - 1 - t;
    for (size_t b = 0; b < n_bot && b + n_top < j; b++) idx[c++] = b;
    return c;
}

static void split(od_spectra_which which, size_t k, size_t *n_top, size_t *n_bot)
{
    *n_top = which == OD_SPECTRA_BOTTOM ? 0 : (which == OD_SPECTRA_BOTH ? (k + 1) / 2 : k);
    *n_bot = k - *n_top;
}

/* Eigen-decomposition of the leading j-by-j block of the dense projected matrix H (ld = mk):
 * theta ascending, eigenvectors as columns of Y (j-by-j row-major). */
static int projected_eigen(const double *H, size_t mk, size_t j, double *theta, double *Y)
{
    double *S = od_vec_alloc(j * j), *ev = od_vec_alloc(j), *V = od_vec_alloc(j * j);
    if (!S || !ev || !V) {
        od_free(S);
        od_free(ev);
        od_free(V);
        OD_ERROR("eigs: out of memory for the projected matrix", OD_ENOMEM);
    }
    for (size_t r = 0; r < j; r++)
        for (size_t c = 0; c < j; c++) S[r * j + c] = H[r * mk + c];
    int st = od_symm_eigen(j, S, ev, V);   /* decreasing */
    for (size_t c = 0; st == OD_OK && c < j; c++) {
        theta[c] = ev[j - 1 - c];
        for (size_t r = 0; r < j; r++) Y[r * j + c] = V[r * j + (j - 1 - c)];
    }
    od_free(S);
    od_free(ev);
    od_free(V);
    return st;
}

/* The driver is a Krylov–Schur (thick-restart Lanczos) iteration with full orthogonalization
 * (Stewart, SIMAX 23, 2001; Wu & Simon, SIMAX 22, 2000): the basis V_j stays orthonormal by two
 * Gram–Schmidt passes, the projected matrix H_j = V_jᵀ A V_j is kept dense (tridiagonal until the
 * first restart, arrowhead after it), and A V_j = V_j H_j + β_j v_{j+1} e_jᵀ, so a Ritz pair (θ, y)
 * of H_j has residual β_j |e_jᵀ y|.  At max_krylov it keeps the l = k + (m − k)/2 wanted Ritz
 * vectors and v_{j+1} and continues. */
int od_spectra_eigs(od_spectra_linop *op, const od_spectra_eigs_params *prm,
                    od_spectra_eigs_result *res)
{
    memset(res, 0, sizeof *res);
    const size_t d = op->dim, k = prm->k;
    if (k == 0 || k >= d)
        OD_ERRORF(OD_EINVAL, "eigs: k = %zu must be in [1, d - 1] (d = %zu)", k, d);
    if (!(prm->tol > 0)) OD_ERRORF(OD_EINVAL, "eigs: tol = %g must be positive", prm->tol);
    size_t mk = prm->max_krylov ? prm->max_krylov : (2 * k + 20 > 200 ? 2 * k + 20 : 200);
    if (mk > d) mk = d;
    if (mk < k + 2 && mk < d) mk = k + 2 < d ? k + 2 : d;
    size_t n_top, n_bot;
    split(prm->which, k, &n_top, &n_bot);
    const uint64_t mv0 = op->matvecs;
    const double eps23 = pow(DBL_EPSILON, 2.0 / 3.0);
    double *V = od_vec_alloc((mk + 1) * d), *H = od_vec_alloc(mk * mk), *h = od_vec_alloc(mk + 1),
           *theta = od_vec_alloc(mk), *Y = od_vec_alloc(mk * mk), *U = od_vec_alloc(mk * d);
    size_t *idx = calloc(mk, sizeof *idx);
    int st = OD_OK, done = 0;
    size_t j = 0, steps = 0, restarts = 0, conv = 0, last_check = 0;
    double beta = 0;
    if (!V || !H || !h || !theta || !Y || !U || !idx) {
        st = od_error(OD_ENOMEM, __FILE__, __LINE__, "eigs: out of memory (d = %zu, Krylov size %zu)", d, mk);
        goto out;
    }
    od_stream s;
    od_stream_init(&s, prm->seed, prm->stream);
    uint32_t fresh = 1;
    if (prm->v0) {
        if (!od_all_finite(d, prm->v0)) {
            st = od_error(OD_EINVAL, __FILE__, __LINE__, "eigs: the start vector is not finite");
            goto out;
        }
        od_copy(d, prm->v0, V);
    } else {
        od_stream_seek(&s, 0, 0);
        od_stream_normals(&s, V, d);
    }
    double nv = od_nrm2(d, V);
    if (!(nv > 0)) {
        st = od_error(OD_EINVAL, __FILE__, __LINE__, "eigs: the start vector is zero");
        goto out;
    }
    od_scal(d, 1.0 / nv, V);
    while (!done) {
        /* extend the basis by one vector: column j of H */
        double *w = V + (j + 1) * d;
        if ((st = od_spectra_apply(op, V + j * d, w)) != OD_OK) goto out;
        steps++;
        od_zero(j + 1, h);
        for (int pass = 0; pass < 2 && prm->reorth == OD_SPECTRA_REORTH_FULL; pass++) {
            od_gemv(0, j + 1, d, 1.0, V, w, 0.0, theta);   /* theta: scratch for Vᵀw */
            od_gemv(1, j + 1, d, -1.0, V, theta, 1.0, w);
            od_axpy(j + 1, 1.0, theta, h);
        }
        if (prm->reorth != OD_SPECTRA_REORTH_FULL) {   /* plain three-term recurrence */
            h[j] = od_dot(d, V + j * d, w);
            od_axpy(d, -h[j], V + j * d, w);
            if (j) {
                h[j - 1] = beta;   /* β_{j−1} from the previous step */
                od_axpy(d, -h[j - 1], V + (j - 1) * d, w);
            }
        }
        for (size_t i = 0; i <= j; i++) H[i * mk + j] = H[j * mk + i] = h[i];
        beta = od_nrm2(d, w);
        j++;
        const int full = j == mk || j == d;
        if (beta <= 100 * DBL_EPSILON * fabs(h[j - 1]) || beta == 0.0) {
            /* invariant subspace: continue from a fresh random vector orthogonal to the basis */
            beta = 0.0;
            if (!full) {
                od_stream_seek(&s, fresh++, 0);
                od_stream_normals(&s, w, d);
                for (int pass = 0; pass < 2; pass++) {
                    od_gemv(0, j, d, 1.0, V, w, 0.0, theta);
                    od_gemv(1, j, d, -1.0, V, theta, 1.0, w);
                }
                const double nw = od_nrm2(d, w);
                if (!(nw > 0)) {
                    st = od_error(OD_ENUMERIC, __FILE__, __LINE__, "eigs: cannot extend the basis");
                    goto out;
                }
                od_scal(d, 1.0 / nw, w);
                continue;
            }
        } else {
            od_scal(d, 1.0 / beta, w);
        }
        if (j < k || (!full && j - last_check < (j / 8 > 5 ? j / 8 : 5))) continue;
        last_check = j;
        if ((st = projected_eigen(H, mk, j, theta, Y)) != OD_OK) goto out;
        const size_t nw = wanted(theta, j, prm->which, n_top, n_bot, idx);
        conv = 0;
        for (size_t c = 0; c < nw; c++)
            if (beta * fabs(Y[(j - 1) * j + idx[c]]) < prm->tol * fmax(eps23, fabs(theta[idx[c]]))) conv++;
        if (conv == k || j == d) {
            done = 1;
            break;
        }
        if (!full) continue;
        if (restarts >= prm->max_restarts) break;
        /* thick restart: keep l wanted Ritz vectors and the residual vector */
        size_t lt, lb, l = k + (mk - k) / 2;
        if (l > mk - 1) l = mk - 1;
        split(prm->which, l, &lt, &lb);
        if (prm->which == OD_SPECTRA_BOTH) lt = n_top + (l - k) / 2, lb = l - lt;
        l = wanted(theta, j, prm->which, lt, lb, idx);
        for (size_t c = 0; c < l; c++) {
            for (size_t r = 0; r < j; r++) h[r] = Y[r * j + idx[c]];
            od_gemv(1, j, d, 1.0, V, h, 0.0, U + c * d);
        }
        od_zero(mk * mk, H);
        for (size_t c = 0; c < l; c++) {
            H[c * mk + c] = theta[idx[c]];
            H[c * mk + l] = H[l * mk + c] = beta * Y[(j - 1) * j + idx[c]];
        }
        od_copy(d, V + j * d, V + l * d);   /* the residual direction v_{j+1} */
        od_copy(l * d, U, V);
        /* the next step recomputes column l of H by Gram–Schmidt (its entries s_c reappear) */
        j = l;
        last_check = j;
        restarts++;
    }
    res->k = k;
    res->values = od_vec_alloc(k);
    res->residuals = od_vec_alloc(k);
    if (prm->want_vectors) res->vectors = od_vec_alloc(k * d);
    if (!res->values || !res->residuals || (prm->want_vectors && !res->vectors)) {
        st = od_error(OD_ENOMEM, __FILE__, __LINE__, "eigs: out of memory for the result");
        goto out;
    }
    {
        const size_t nw = wanted(theta, j, prm->which, n_top, n_bot, idx);
        for (size_t c = 0; c < k; c++) {
            res->values[c] = c < nw ? theta[idx[c]] : NAN;
            res->residuals[c] = c < nw ? beta * fabs(Y[(j - 1) * j + idx[c]]) : NAN;
            if (res->vectors && c < nw) {
                for (size_t r = 0; r < j; r++) h[r] = Y[r * j + idx[c]];
                od_gemv(1, j, d, 1.0, V, h, 0.0, res->vectors + c * d);
            }
        }
    }
    res->n_converged = conv;
    if (!done)
        st = od_error(OD_EMAXITER, __FILE__, __LINE__, "eigs: %zu of %zu pairs converged after %zu "
                      "restarts (raise max_krylov, max_restarts or tol)", conv, k, restarts);
out:
    res->steps = steps;
    res->restarts = restarts;
    res->matvecs = op->matvecs - mv0;
    if (st != OD_OK && st != OD_EMAXITER) od_spectra_eigs_result_free(res);
    od_free(V);
    od_free(H);
    od_free(h);
    od_free(theta);
    od_free(Y);
    od_free(U);
    free(idx);
    return st;
}
