/* optdyn tests — Hessian-vector products of the problems a theorist studies: least squares and
 * logistic regression (core), softmax regression, Gaussian-mixture classification, two-layer
 * networks (tanh / ReLU, with and without biases), the Chebyshev regression net and block
 * quadratics.  Each against central finite differences of the gradient (truncation h²/6 ‖∇³f‖ plus
 * rounding ε‖∇f‖/h with h = 1e-5: tolerance 1e-7 (1 + |Hv|)), against the dense Hessian written
 * out entry by entry from its closed form (rounding: 1e-12 relative), and per-sample actions and
 * gradients averaging to the full ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "od_test.h"
#include "test_spectra.h"

static double sigm(double t) { return 1.0 / (1.0 + exp(-t)); }

/* FD check of the HVP and of the gradient (against the loss) at x along two random directions;
 * mean of per-sample quantities = full ones when the problem has them. */
static void check_problem(od_problem *p, const double *x, uint64_t seed)
{
    const size_t d = p->dim;
    double *v = od_vec_alloc(d), *hv = od_vec_alloc(d), *gp = od_vec_alloc(d), *gm = od_vec_alloc(d),
           *xp = od_vec_alloc(d), *g = od_vec_alloc(d), *acc = od_vec_alloc(d), *t = od_vec_alloc(d);
    const double h = 1e-5;
    for (int rep = 0; rep < 2; rep++) {
        ts_gaussian(1, d, seed + (uint64_t)rep, v);
        CU_ASSERT_EQUAL_FATAL(od_problem_hvp(p, x, v, hv), OD_OK);
        od_copy(d, x, xp);
        od_axpy(d, h, v, xp);
        od_problem_grad(p, xp, gp, NULL);
        od_copy(d, x, xp);
        od_axpy(d, -h, v, xp);
        od_problem_grad(p, xp, gm, NULL);
        double err = 0, scale = 1 + ts_maxabs(d, hv);
        for (size_t i = 0; i < d; i++) err = fmax(err, fabs((gp[i] - gm[i]) / (2 * h) - hv[i]));
        if (err > 1e-7 * scale) fprintf(stderr, "\n  %s: HVP vs FD %.3g (scale %.3g)\n", p->label, err, scale);
        CU_ASSERT_TRUE(err <= 1e-7 * scale);
        /* gradient against the loss: directional derivative */
        double fp, fm;
        od_copy(d, x, xp);
        od_axpy(d, h, v, xp);
        od_problem_loss(p, xp, &fp);
        od_copy(d, x, xp);
        od_axpy(d, -h, v, xp);
        od_problem_loss(p, xp, &fm);
        od_problem_grad(p, x, g, NULL);
        const double dd = od_dot(d, g, v);
        OD_ASSERT_CLOSE((fp - fm) / (2 * h), dd, 1e-7 * (1 + fabs(dd)));
    }
    if (p->n > 0 && p->type->sample_hvp) {
        od_zero(d, acc);
        for (size_t i = 0; i < p->n; i++) {
            CU_ASSERT_EQUAL(od_problem_sample_hvp(p, x, i, v, t), OD_OK);
            od_axpy(d, 1.0 / (double)p->n, t, acc);
        }
        for (size_t i = 0; i < d; i++) OD_ASSERT_CLOSE(acc[i], hv[i], 1e-12 * (1 + ts_maxabs(d, hv)));
        od_zero(d, acc);
        for (size_t i = 0; i < p->n; i++) {
            od_problem_sample_grad(p, x, i, t);
            od_axpy(d, 1.0 / (double)p->n, t, acc);
        }
        od_problem_grad(p, x, g, NULL);
        for (size_t i = 0; i < d; i++) OD_ASSERT_CLOSE(acc[i], g[i], 1e-12 * (1 + ts_maxabs(d, g)));
        CU_ASSERT_EQUAL(od_problem_sample_hvp(p, x, p->n, v, t), OD_ERANGE);
    }
    od_free(v);
    od_free(hv);
    od_free(gp);
    od_free(gm);
    od_free(xp);
    od_free(g);
    od_free(acc);
    od_free(t);
}

/* The Hessian operator's dense form against a closed-form dense Hessian. */
static void check_dense(od_problem *p, const double *x, const double *Hexact)
{
    const size_t d = p->dim;
    od_spectra_linop *op = NULL;
    CU_ASSERT_EQUAL_FATAL(od_spectra_linop_hessian(p, x, &op), OD_OK);
    double *H = od_vec_alloc(d * d);
    CU_ASSERT_EQUAL(od_spectra_linop_to_dense(op, H), OD_OK);
    const double sc = ts_maxabs(d * d, Hexact);
    double err = 0;
    for (size_t i = 0; i < d * d; i++) err = fmax(err, fabs(H[i] - Hexact[i]));
    if (err > 1e-12 * sc) fprintf(stderr, "\n  %s: dense Hessian error %.3g (scale %.3g)\n", p->label, err, sc);
    CU_ASSERT_TRUE(err <= 1e-12 * sc);
    od_spectra_linop_free(op);
    od_free(H);
}

static void test_regressions(void)
{
    const size_t n = 23, d = 7;
    double *X = od_vec_alloc(n * d), *y = od_vec_alloc(n), *w = od_vec_alloc(d), *H = od_vec_alloc(d * d);
    ts_gaussian(n, d, 101, X);
    ts_gaussian(1, n, 102, y);
    ts_gaussian(1, d, 103, w);
    od_scal(d, 0.4, w);
    /* least squares: H = XᵀX/n */
    od_problem *p = NULL;
    CU_ASSERT_EQUAL_FATAL(od_problem_linreg_data(n, d, X, y, &p), OD_OK);
    for (size_t a = 0; a < d; a++)
        for (size_t b = 0; b < d; b++) {
            double s = 0;
            for (size_t i = 0; i < n; i++) s += X[i * d + a] * X[i * d + b];
            H[a * d + b] = s / (double)n;
        }
    check_problem(p, w, 104);
    check_dense(p, w, H);
    od_problem_free(p);
    /* logistic: H = (1/n) Σ σ(m)σ(−m) x xᵀ + ridge I, m = y x·w, labels ±1 */
    for (size_t i = 0; i < n; i++) y[i] = y[i] > 0 ? 1.0 : -1.0;
    CU_ASSERT_EQUAL_FATAL(od_problem_logreg_data(n, d, X, y, 0.0371, &p), OD_OK);
    for (size_t a = 0; a < d; a++)
        for (size_t b = 0; b < d; b++) {
            double s = 0;
            for (size_t i = 0; i < n; i++) {
                const double m = y[i] * od_dot(d, X + i * d, w);
                s += sigm(m) * sigm(-m) * X[i * d + a] * X[i * d + b];
            }
            H[a * d + b] = s / (double)n + (a == b ? 0.0371 : 0.0);
        }
    check_problem(p, w, 105);
    check_dense(p, w, H);
    /* per-sample Hessian operator: H_i = σσ' x_i x_iᵀ + ridge I is rank one plus ridge */
    od_spectra_linop *Hi = NULL;
    CU_ASSERT_EQUAL_FATAL(od_spectra_linop_sample_hessian(p, w, 4, &Hi), OD_OK);
    od_spectra_eigs_params ep = od_spectra_eigs_default_params();
    od_spectra_eigs_result er;
    CU_ASSERT_EQUAL(od_spectra_eigs(Hi, &ep, &er), OD_OK);
    const double m4 = y[4] * od_dot(d, X + 4 * d, w);
    OD_ASSERT_CLOSE(er.values[0], sigm(m4) * sigm(-m4) * od_dot(d, X + 4 * d, X + 4 * d) + 0.0371, 1e-10);
    od_spectra_eigs_result_free(&er);
    od_spectra_linop_free(Hi);
    CU_ASSERT_EQUAL(od_spectra_linop_sample_hessian(p, w, n, &Hi), OD_ERANGE);
    od_problem_free(p);
    /* a streaming problem has no per-sample Hessian */
    double lam[3] = {1, 2, 3};
    CU_ASSERT_EQUAL(od_problem_quadratic_diag(3, lam, NULL, NULL, &p), OD_OK);
    CU_ASSERT_EQUAL(od_spectra_linop_sample_hessian(p, NULL, 0, &Hi), OD_ENOTSUP);
    od_problem_free(p);
    od_free(X);
    od_free(y);
    od_free(w);
    od_free(H);
}

static void test_softmax(void)
{
    const size_t n = 19, din = 6, K = 4, d = K * din;
    double *X = od_vec_alloc(n * din), *x = od_vec_alloc(d), *H = od_vec_alloc(d * d);
    uint32_t y[19];
    ts_gaussian(n, din, 111, X);
    ts_gaussian(1, d, 112, x);
    for (size_t i = 0; i < n; i++) y[i] = (uint32_t)((i * 7 + 3) % K);
    const double ridge = 0.0213;
    od_problem *p = NULL;
    CU_ASSERT_EQUAL_FATAL(od_spectra_softmax_problem(n, din, K, X, y, ridge, &p), OD_OK);
    for (size_t i = 0; i < n; i++) {
        double u[4], pi[4], z = 0, um = -INFINITY;
        for (size_t c = 0; c < K; c++) um = fmax(um, u[c] = od_dot(din, x + c * din, X + i * din));
        for (size_t c = 0; c < K; c++) z += (pi[c] = exp(u[c] - um));
        for (size_t c = 0; c < K; c++) pi[c] /= z;
        for (size_t c = 0; c < K; c++)
            for (size_t cc = 0; cc < K; cc++)
                for (size_t a = 0; a < din; a++)
                    for (size_t b = 0; b < din; b++)
                        H[(c * din + a) * d + cc * din + b] +=
                            (pi[c] * (c == cc) - pi[c] * pi[cc]) * X[i * din + a] * X[i * din + b] / (double)n;
    }
    for (size_t i = 0; i < d; i++) H[i * d + i] += ridge;
    check_problem(p, x, 113);
    check_dense(p, x, H);
    od_spectra_block bl[8];
    size_t nb;
    od_spectra_problem_blocks(p, bl, 8, &nb);
    CU_ASSERT_EQUAL(nb, K);
    CU_ASSERT_EQUAL(bl[2].lo, 2 * din);
    od_problem_free(p);
    y[3] = 4;
    CU_ASSERT_EQUAL(od_spectra_softmax_problem(n, din, K, X, y, ridge, &p), OD_EINVAL);
    /* the Gaussian mixture builder: means e_a, noise 1/sqrt(snr): class means within 5 SE */
    CU_ASSERT_EQUAL_FATAL(od_problem_from_spec((const od_problem_entry *const *const[]){od_spectra_problems, NULL},
                                               "gmm:n=300,d=20,k=3,snr=4", 7, &p), OD_OK);
    CU_ASSERT_EQUAL(p->dim, 60);
    double *x60 = od_vec_alloc(60);
    ts_gaussian(1, 60, 115, x60);
    check_problem(p, x60, 114);
    od_free(x60);
    od_problem_free(p);
    CU_ASSERT_EQUAL(od_problem_from_spec((const od_problem_entry *const *const[]){od_spectra_problems, NULL},
                                         "gmm:d=3,k=4", 7, &p), OD_ERANGE);
    /* the mixture sampler: class a has mean e_a and per-coordinate sd 1/sqrt(snr) = 0.5; class
     * frequencies and means within 5 SE */
    enum { NS = 4000 };
    double *Y = od_vec_alloc(NS * 5), mean[2][5] = {{0}};
    uint32_t *lab = malloc(NS * sizeof *lab);
    size_t cnt[2] = {0, 0};
    od_spectra_gmm_sample(NS, 5, 2, 4.0, 3, 1, 0, Y, lab);
    for (size_t i = 0; i < NS; i++) {
        cnt[lab[i]]++;
        for (size_t k = 0; k < 5; k++) mean[lab[i]][k] += Y[i * 5 + k];
    }
    CU_ASSERT_TRUE(fabs((double)cnt[0] - NS / 2.0) < 5 * sqrt(NS / 4.0));
    for (int a = 0; a < 2; a++)
        for (size_t k = 0; k < 5; k++)
            CU_ASSERT_TRUE(fabs(mean[a][k] / (double)cnt[a] - (k == (size_t)a)) < 5 * 0.5 / sqrt((double)cnt[a]));
    od_free(Y);
    free(lab);
    od_free(X);
    od_free(x);
    od_free(H);
}

/* Dense Hessian of a two-layer net from the closed-form derivatives of §10, entry by entry. */
static void mlp_dense(size_t n, size_t din, size_t h, int relu, int biases, const double *X,
                      const double *y, const double *th, double *H)
{
    const size_t D = h * din + (biases ? h : 0) + h, ob = h * din, oa = ob + (biases ? h : 0);
    double *J = malloc(D * sizeof *J), *F = malloc(D * D * sizeof *F);
    memset(H, 0, D * D * sizeof *H);
    for (size_t i = 0; i < n; i++) {
        const double *x = X + i * din;
        double f = 0;
        memset(J, 0, D * sizeof *J);
        memset(F, 0, D * D * sizeof *F);
        for (size_t j = 0; j < h; j++) {
            double z = (biases ? th[ob + j] : 0);
            for (size_t q = 0; q < din; q++) z += th[j * din + q] * x[q];
            const double p0 = relu ? fmax(z, 0) : tanh(z), p1 = relu ? (z > 0) : 1 - tanh(z) * tanh(z),
                         p2 = relu ? 0 : -2 * tanh(z) * (1 - tanh(z) * tanh(z)), a = th[oa + j];
            f += a * p0;
            J[oa + j] = p0;
            for (size_t q = 0; q < din; q++) {
                J[j * din + q] = a * p1 * x[q];
                F[(oa + j) * D + j * din + q] = F[(j * din + q) * D + oa + j] = p1 * x[q];
                for (size_t r = 0; r < din; r++) F[(j * din + q) * D + j * din + r] = a * p2 * x[q] * x[r];
                if (biases) F[(j * din + q) * D + ob + j] = F[(ob + j) * D + j * din + q] = a * p2 * x[q];
            }
            if (biases) {
                J[ob + j] = a * p1;
                F[(oa + j) * D + ob + j] = F[(ob + j) * D + oa + j] = p1;
                F[(ob + j) * D + ob + j] = a * p2;
            }
        }
        const double r = f - y[i];
        for (size_t u = 0; u < D; u++)
            for (size_t v = 0; v < D; v++) H[u * D + v] += (J[u] * J[v] + r * F[u * D + v]) / (double)n;
    }
    free(J);
    free(F);
}

static void test_mlp(void)
{
    const size_t n = 17, din = 4, h = 5;
    double *X = od_vec_alloc(n * din), *y = od_vec_alloc(n), *th = od_vec_alloc(64), *H = od_vec_alloc(64 * 64);
    ts_gaussian(n, din, 121, X);
    ts_gaussian(1, n, 122, y);
    ts_gaussian(1, 64, 123, th);
    for (int relu = 0; relu < 2; relu++)
        for (int biases = 0; biases < 2; biases++) {
            od_problem *p = NULL;
            CU_ASSERT_EQUAL_FATAL(od_spectra_mlp_problem(n, din, h, relu ? OD_SPECTRA_ACT_RELU : OD_SPECTRA_ACT_TANH,
                                                         biases, X, y, NULL, &p), OD_OK);
            CU_ASSERT_EQUAL(p->dim, h * din + (biases ? h : 0) + h);
            mlp_dense(n, din, h, relu, biases, X, y, th, H);
            check_problem(p, th, 124);
            check_dense(p, th, H);
            od_spectra_block bl[4];
            size_t nb;
            od_spectra_problem_blocks(p, bl, 4, &nb);
            CU_ASSERT_EQUAL(nb, biases ? 3 : 2);
            CU_ASSERT_STRING_EQUAL(bl[nb - 1].name, "a");
            od_problem_free(p);
        }
    /* the Chebyshev net: 300 parameters, T_3 targets on linspace(-1, 1, 20), Xavier-normal init */
    od_problem *p = NULL;
    CU_ASSERT_EQUAL_FATAL(od_spectra_chebyshev_net(20, 3, 100, 9, &p), OD_OK);
    CU_ASSERT_EQUAL(p->dim, 300);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p->x0);
    double sw = 0, sa = 0;
    for (size_t j = 0; j < 100; j++) {
        sw += p->x0[j] * p->x0[j] / 100;
        sa += p->x0[200 + j] * p->x0[200 + j] / 100;
        CU_ASSERT_EQUAL(p->x0[100 + j], 0.0);
    }
    /* sample variances of 100 normals: relative SE sqrt(2/100) = 0.14, 4 SE */
    const double vw = 1.9 * 1.9 * 2 / 101.0, va = 2 / 101.0;
    CU_ASSERT_TRUE(fabs(sw / vw - 1) < 4 * 0.1414);
    CU_ASSERT_TRUE(fabs(sa / va - 1) < 4 * 0.1414);
    double r0;   /* sample 0: x = −1, T_3(−1) = −1; the net outputs a·tanh(−w + b) */
    od_problem_sample_loss(p, p->x0, 0, &r0);
    double f0 = 0;
    for (size_t j = 0; j < 100; j++) f0 += p->x0[200 + j] * tanh(-p->x0[j]);
    OD_ASSERT_CLOSE(r0, 0.5 * (f0 + 1) * (f0 + 1), 1e-14);
    check_problem(p, p->x0, 125);
    od_problem_free(p);
    CU_ASSERT_EQUAL(od_spectra_chebyshev_net(1, 3, 100, 9, &p), OD_EINVAL);
    od_free(X);
    od_free(y);
    od_free(th);
    od_free(H);
}

/* Block quadratic: the Hessian's eigenvalues are exactly the given ones (dense GSL eigensolver,
 * tolerance 100 b ε max λ), blocks are invariant, and the problem is a plain quadratic. */
static void test_blockquad(void)
{
    const size_t sizes[3] = {8, 5, 11};
    double lam[24], *x = od_vec_alloc(24);
    for (size_t i = 0; i < 24; i++) lam[i] = 0.5 + 1.37 * (double)((i * 11) % 24);
    od_problem *p = NULL;
    CU_ASSERT_EQUAL_FATAL(od_spectra_blockquad_problem(3, sizes, lam, 17, &p), OD_OK);
    od_spectra_linop *op = NULL;
    od_spectra_linop_hessian(p, NULL, &op);
    double *H = od_vec_alloc(24 * 24), ev[24], want[24];
    od_spectra_linop_to_dense(op, H);
    od_symm_eigen(24, H, ev, NULL);
    memcpy(want, lam, sizeof want);
    for (size_t i = 0; i < 24; i++)   /* sort descending */
        for (size_t j = i + 1; j < 24; j++)
            if (want[j] > want[i]) {
                double t = want[i];
                want[i] = want[j];
                want[j] = t;
            }
    for (size_t i = 0; i < 24; i++) OD_ASSERT_CLOSE(ev[i], want[i], 100 * 11 * DBL_EPSILON * want[0]);
    for (size_t i = 0; i < 8; i++)
        for (size_t j = 8; j < 24; j++) CU_ASSERT_EQUAL(H[i * 24 + j], 0.0);
    ts_gaussian(1, 24, 131, x);
    check_problem(p, x, 132);
    double f, g[24];
    od_problem_grad(p, x, g, &f);
    od_spectra_apply(op, x, H);
    OD_ASSERT_CLOSE(f, 0.5 * od_dot(24, x, H), 1e-12 * fabs(f));
    od_spectra_linop_free(op);
    od_problem_free(p);
    CU_ASSERT_EQUAL(od_problem_from_spec((const od_problem_entry *const *const[]){od_spectra_problems, NULL},
                                         "blocks:sizes=3|4,ranges=1:2", 1, &p), OD_EBADSIZE);
    CU_ASSERT_EQUAL(od_problem_from_spec((const od_problem_entry *const *const[]){od_spectra_problems, NULL},
                                         "blocks:sizes=3|4,ranges=1:2|5:4", 1, &p), OD_EPARSE);
    od_free(x);
    od_free(H);
}

void od_test_suite_spectra_hvp(void)
{
    static const od_test_case cases[] = {
        {"least squares and logistic regression (core): FD, dense, per-sample", test_regressions},
        {"softmax regression and Gaussian mixtures", test_softmax},
        {"two-layer nets (tanh/ReLU, biases) and the Chebyshev net", test_mlp},
        {"block-diagonal quadratics", test_blockquad},
        {NULL, NULL}};
    od_test_add("spectra Hessian-vector products", cases);
}
