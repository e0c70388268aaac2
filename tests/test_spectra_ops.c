/* optdyn tests — spectra operators: dense / CSR / Gram / restriction products against plain loops,
 * block products equal to single products byte for byte, thread-count invariance, the Matrix Market
 * reader on every format and every bad input (the line named), and the shared helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "od_test.h"
#include "test_spectra.h"

void ts_gaussian(size_t n, size_t d, uint64_t seed, double *X)
{
    od_stream s;
    od_stream_init(&s, seed, 8);
    od_stream_normals(&s, X, n * d);
}

double ts_maxabs(size_t n, const double *x)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
    return m;
}

void ts_rotated(size_t d, const double *lambda, uint64_t seed, double *A)
{
    double *Q = od_vec_alloc(d * d);
    od_stream s;
    od_stream_init(&s, seed, 7);
    CU_ASSERT_EQUAL_FATAL(od_haar_orthogonal(d, &s, Q), OD_OK);
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j <= i; j++) {
            double a = 0;
            for (size_t k = 0; k < d; k++) a += Q[i * d + k] * lambda[k] * Q[j * d + k];
            A[i * d + j] = A[j * d + i] = a;
        }
    od_free(Q);
}

/* Products of the dense, CSR and Gram operators against plain triple loops (rounding-level
 * tolerance: d ε Σ|a||x|), and block products byte-identical to single products. */
static void test_products(void)
{
    const size_t d = 37, n = 53, b = 5;
    double *A = od_vec_alloc(d * d), *X = od_vec_alloc(n * d), *V = od_vec_alloc(b * d),
           *Y = od_vec_alloc(b * d), *y = od_vec_alloc(d), *G = od_vec_alloc(d * d);
    ts_gaussian(n, d, 11, X);
    ts_gaussian(b, d, 12, V);
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j <= i; j++) A[i * d + j] = A[j * d + i] = 0.37 * X[i * d + j] + 1.1 * X[j * d + i];
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++) {
            double s = 0;
            for (size_t k = 0; k < n; k++) s += X[k * d + i] * X[k * d + j];
            G[i * d + j] = s / (double)n;
        }
    /* CSR of A with every other entry of row i dropped symmetrically: keep |i - j| even */
    size_t *rp = calloc(d + 1, sizeof *rp), *col = malloc(d * d * sizeof *col);
    double *val = malloc(d * d * sizeof *val), *S = od_vec_alloc(d * d);
    size_t nnz = 0;
    for (size_t i = 0; i < d; i++) {
        for (size_t j = 0; j < d; j++)
            if ((i + j) % 2 == 0) {
                col[nnz] = j;
                val[nnz++] = S[i * d + j] = A[i * d + j];
            }
        rp[i + 1] = nnz;
    }
    const double *mats[3] = {A, S, G};
    od_spectra_linop *ops[3] = {NULL, NULL, NULL};
    CU_ASSERT_EQUAL_FATAL(od_spectra_linop_dense(d, A, &ops[0]), OD_OK);
    CU_ASSERT_EQUAL_FATAL(od_spectra_linop_csr(d, rp, col, val, &ops[1]), OD_OK);
    CU_ASSERT_EQUAL_FATAL(od_spectra_linop_gram(n, d, X, 0, 1.0 / (double)n, &ops[2]), OD_OK);
    for (int o = 0; o < 3; o++) {
        CU_ASSERT_EQUAL(od_spectra_apply_block(ops[o], b, V, Y), OD_OK);
        CU_ASSERT_EQUAL(ops[o]->matvecs, b);
        for (size_t j = 0; j < b; j++) {
            CU_ASSERT_EQUAL(od_spectra_apply(ops[o], V + j * d, y), OD_OK);
            CU_ASSERT_EQUAL(memcmp(y, Y + j * d, d * sizeof *y), 0);   /* same bytes */
            for (size_t i = 0; i < d; i++) {
                double s = 0, sa = 0;
                for (size_t k = 0; k < d; k++) {
                    s += mats[o][i * d + k] * V[j * d + k];
                    sa += fabs(mats[o][i * d + k] * V[j * d + k]);
                }
                OD_ASSERT_CLOSE(y[i], s, 4 * (double)(d + n) * DBL_EPSILON * sa);
            }
        }
        CU_ASSERT_EQUAL(ops[o]->matvecs, 2 * b);
    }
    /* restriction to [5, 20) of the dense operator = the submatrix */
    od_spectra_linop *r = NULL;
    CU_ASSERT_EQUAL_FATAL(od_spectra_linop_restrict(ops[0], 5, 20, &r), OD_OK);
    CU_ASSERT_EQUAL(r->dim, 15);
    double *Rd = od_vec_alloc(15 * 15);
    CU_ASSERT_EQUAL(od_spectra_linop_to_dense(r, Rd), OD_OK);
    for (size_t i = 0; i < 15; i++)
        for (size_t j = 0; j < 15; j++) CU_ASSERT_EQUAL(Rd[i * 15 + j], A[(i + 5) * d + j + 5]);
    od_spectra_linop *bad = NULL;
    CU_ASSERT_EQUAL(od_spectra_linop_restrict(ops[0], 20, 20, &bad), OD_ERANGE);
    CU_ASSERT_EQUAL(od_spectra_linop_restrict(ops[0], 0, d + 1, &bad), OD_ERANGE);
    od_spectra_linop_free(r);
    for (int o = 0; o < 3; o++) od_spectra_linop_free(ops[o]);
    /* bad matrices: NaN, asymmetry, both named */
    A[3 * d + 4] = NAN;
    CU_ASSERT_EQUAL(od_spectra_linop_dense(d, A, &bad), OD_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "(4, 5)"));
    A[3 * d + 4] = A[4 * d + 3] + 1e-3;
    CU_ASSERT_EQUAL(od_spectra_linop_dense(d, A, &bad), OD_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(od_last_error(), "not symmetric"));
    X[7] = INFINITY;
    CU_ASSERT_EQUAL(od_spectra_linop_gram(n, d, X, 0, 1.0, &bad), OD_EINVAL);
    val[3] += 1.0;
    CU_ASSERT_EQUAL(od_spectra_linop_csr(d, rp, col, val, &bad), OD_EINVAL);
    CU_ASSERT_PTR_NULL(bad);
    od_free(A);
    od_free(X);
    od_free(V);
    od_free(Y);
    od_free(y);
    od_free(G);
    od_free(S);
    od_free(Rd);
    free(rp);
    free(col);
    free(val);
}

/* The Gram and dense block products give the same bytes on 1 and 2 threads. */
static void test_threads(void)
{
    const size_t n = 3000, d = 200, b = 4;
    double *X = od_vec_alloc(n * d), *V = od_vec_alloc(b * d), *Y1 = od_vec_alloc(b * d),
           *Y2 = od_vec_alloc(b * d);
    ts_gaussian(n, d, 21, X);
    ts_gaussian(b, d, 22, V);
    od_spectra_linop *g = NULL;
    CU_ASSERT_EQUAL_FATAL(od_spectra_linop_gram(n, d, X, 0, 1.0 / (double)n, &g), OD_OK);
    const int t0 = od_threads();
    od_set_threads(1);
    od_spectra_apply_block(g, b, V, Y1);
    od_set_threads(2);
    od_spectra_apply_block(g, b, V, Y2);
    od_set_threads(t0);
    CU_ASSERT_EQUAL(memcmp(Y1, Y2, b * d * sizeof *Y1), 0);
    od_spectra_linop_free(g);
    od_free(X);
    od_free(V);
    od_free(Y1);
    od_free(Y2);
}

/* ---- Matrix Market ----------------------------------------------------------------------------- */

static const char *write_file(const char *name, const char *text)
{
    static char path[600];
    snprintf(path, sizeof path, "od-test-tmp/spectra-mm/%s", name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

/* The matrix [[2.5, -1.25, 0], [-1.25, 3.75, 0.5], [0, 0.5, -4]] in four encodings. */
static void test_mm_formats(void)
{
    od_test_tmpdir("spectra-mm");
    const double want[9] = {2.5, -1.25, 0, -1.25, 3.75, 0.5, 0, 0.5, -4};
    const char *files[] = {
        "%%MatrixMarket matrix coordinate real symmetric\n% comment\n3 3 4\n1 1 2.5\n2 1 -1.25\n"
        "2 2 3.75\n3 2 0.5\n3 3 -4\n",
        "%%MatrixMarket matrix coordinate real general\n3 3 7\n1 1 2.5\n2 1 -1.25\n1 2 -1.25\n"
        "2 2 3.75\n3 2 0.5\n2 3 0.5\n3 3 -4\n",
        "%%MatrixMarket matrix array real general\n3 3\n2.5\n-1.25\n0\n-1.25\n3.75\n0.5\n0\n0.5\n-4\n",
        "%%MatrixMarket matrix array real symmetric\n3 3\n2.5\n-1.25\n0\n3.75\n0.5\n-4\n",
    };
    /* the first file declares 4 entries but lists 5: fix the count */
    char first[512];
    snprintf(first, sizeof first, "%s", files[0]);
    char *p = strstr(first, "3 3 4");
    p[4] = '5';
    files[0] = first;
    for (int f = 0; f < 4; f++) {
        char name[32];
        snprintf(name, sizeof name, "ok%d.mtx", f);
        od_spectra_linop *op = NULL;
        int st = od_spectra_mm_read(write_file(name, files[f]), &op);
        if (st) fprintf(stderr, "\n  %s\n", od_last_error());
        CU_ASSERT_EQUAL_FATAL(st, OD_OK);
        double A[9];
        CU_ASSERT_EQUAL(od_spectra_linop_to_dense(op, A), OD_OK);
        CU_ASSERT_EQUAL(memcmp(A, want, sizeof A), 0);
        od_spectra_linop_free(op);
    }
}

/* Every bad input is rejected with the file and the offending line named. */
static void test_mm_errors(void)
{
    od_test_tmpdir("spectra-mm");
    static const char *cases[][3] = {
        {"%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1\n1 2 5\n", ":4:", "not symmetric"},
        {"%%MatrixMarket matrix coordinate real general\n2 2 3\n1 1 1\n2 1 5\n1 2 4\n", ":5:", "not symmetric"},
        {"%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n4\n", ":5:", "not symmetric"},
        {"%%MatrixMarket matrix coordinate real symmetric\n2 2 2\n1 1 nan\n2 2 1\n", ":3:", "not finite"},
        {"%%MatrixMarket matrix array real symmetric\n2 2\n1\ninf\n3\n", ":4:", "not finite"},
        {"%%MatrixMarket matrix coordinate real symmetric\n2 2 2\n1 1 1\n3 1 1\n", ":4:", "1 <= i, j <= 2"},
        {"%%MatrixMarket matrix coordinate real symmetric\n2 2 2\n1 1 1\n2 x 1\n", ":4:", "i j value"},
        {"%%MatrixMarket matrix coordinate real symmetric\n2 2 2\n1 1 1\n1 2 1\n", ":4:", "above the diagonal"},
        {"%%MatrixMarket matrix coordinate real symmetric\n2 2 3\n1 1 1\n2 2 1\n", ":4:", "after 2 of 3"},
        {"%%MatrixMarket matrix coordinate real symmetric\n2 2 1\n1 1 1\n2 2 1\n", ":4:", "more entries"},
        {"%%MatrixMarket matrix coordinate real symmetric\n2 2 2\n1 1 1\n1 1 2\n", ":4:", "repeats line 3"},
        {"%%MatrixMarket matrix coordinate real symmetric\n2 2 1\n1 1 1 junk\n", ":3:", "unexpected text"},
        {"%%MatrixMarket matrix coordinate pattern symmetric\n2 2 1\n1 1\n", ":1:", "'pattern'"},
        {"%%MatrixMarket matrix coordinate complex general\n2 2 1\n1 1 1 0\n", ":1:", "'complex'"},
        {"%%MatrixMarket matrix coordinate real hermitian\n2 2 1\n1 1 1\n", ":1:", "'hermitian'"},
        {"%%MatrixMarket vector coordinate real general\n2 2 1\n", ":1:", "MatrixMarket matrix"},
        {"hello\n", ":1:", "MatrixMarket"},
        {"%%MatrixMarket matrix coordinate real general\n2 3 1\n1 1 1\n", ":2:", "not square"},
        {"%%MatrixMarket matrix coordinate real general\n2 2\n", ":2:", "size line"},
        {"%%MatrixMarket matrix array real general\n2 2\n1\n0\n0\n", ":5:", "after 3 of 4"},
        {"%%MatrixMarket matrix coordinate real general\n% only comments\n", ":2:", "missing size line"},
        {"", ":1:", "empty file"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char name[32];
        snprintf(name, sizeof name, "bad%zu.mtx", c);
        const char *path = write_file(name, cases[c][0]);
        od_spectra_linop *op = (od_spectra_linop *)1;
        int st = od_spectra_mm_read(path, &op);
        int ok = st != OD_OK && op == NULL && strstr(od_last_error(), path) &&
                 strstr(od_last_error(), cases[c][1]) && strstr(od_last_error(), cases[c][2]);
        if (!ok) fprintf(stderr, "\n  case %zu: status %d, message '%s'\n", c, st, od_last_error());
        CU_ASSERT_TRUE(ok);
    }
    od_spectra_linop *op = NULL;
    CU_ASSERT_EQUAL(od_spectra_mm_read("od-test-tmp/spectra-mm/does-not-exist.mtx", &op), OD_EIO);
}

void od_test_suite_spectra_ops(void)
{
    static const od_test_case cases[] = {
        {"dense, CSR, Gram, restriction against loops; blocks = singles", test_products},
        {"block products are thread-count invariant", test_threads},
        {"Matrix Market: four encodings of one matrix", test_mm_formats},
        {"Matrix Market: bad input names the file and line", test_mm_errors},
        {NULL, NULL}};
    od_test_add("spectra operators", cases);
}
