/* optdyn bench — Lanczos and SLQ against SciPy/NumPy on the same matrices, in the same run.
 *
 * (a) top-10 eigenvalues of W = XᵀX/n given implicitly (n = 10000, d = 2000, Gaussian X): optdyn's
 *     od_spectra_eigs (Krylov–Schur with full orthogonalization, ARPACK residual test at tol 1e-10)
 *     against scipy.sparse.linalg.eigsh(LinearOperator, k=10, which='LA', tol=1e-10) — seconds and
 *     products.  Physical limit: one product reads X once (160 MB); optdyn's Gram product is one pass.
 * (b) SLQ (d = 2000, m = 80, n_v = 10) on the dense matrix W: optdyn's block SLQ (all probes through
 *     one pass over W per step) against NumPy one probe at a time (PyHessian's loop).  Limit: m passes
 *     over W's 32 MB, against n_v m passes for one-at-a-time code.
 * Timings are wall clock on this machine (2 cores, shared: numbers are noisy).
 *
 * usage: bench_spectra [--n N] [--d D] [--python PATH] [--no-python]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#include "spectra/optdyn_spectra.h"

#ifndef OD_BENCH_PYTHON
#define OD_BENCH_PYTHON "python3"
#endif
#ifndef OD_BENCH_SCRIPT
#define OD_BENCH_SCRIPT "bench/bench_spectra.py"
#endif
#ifndef OD_BENCH_BUILD_TYPE
#define OD_BENCH_BUILD_TYPE "unknown"
#endif

int main(int argc, char **argv)
{
    size_t n = 10000, d = 2000;
    const char *python = getenv("OD_BENCH_PYTHON");
    int use_python = 1;
    if (!python || !*python) python = OD_BENCH_PYTHON;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--n") && i + 1 < argc) n = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--d") && i + 1 < argc) d = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--python") && i + 1 < argc) python = argv[++i];
        else if (!strcmp(argv[i], "--no-python")) use_python = 0;
        else {
            fprintf(stderr, "usage: %s [--n N] [--d D] [--python PATH] [--no-python]\n", argv[0]);
            return 2;
        }
    }
    gsl_set_error_handler_off();
    double *X = od_vec_alloc(n * d), *W = od_vec_alloc(d * d), *E = od_vec_alloc(d * 100);
    if (!X || !W || !E) return 1;
    od_stream s;
    od_stream_init(&s, 2024, 1);
    od_stream_normals(&s, X, n * d);
    od_spectra_linop *G = NULL, *Wd = NULL;
    od_spectra_linop_gram(n, d, X, 0, 1.0 / (double)n, &G);
    for (size_t j0 = 0; j0 < d; j0 += 100) {   /* W densely, for (b) */
        od_zero(100 * d, E);
        for (size_t j = 0; j < 100; j++) E[j * d + j0 + j] = 1.0;
        od_spectra_apply_block(G, 100, E, W + j0 * d);
    }
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < i; j++) W[i * d + j] = W[j * d + i] = 0.5 * (W[i * d + j] + W[j * d + i]);
    od_spectra_linop_dense(d, W, &Wd);
    const char *xf = "bench_spectra_X.f64", *wf = "bench_spectra_W.f64";
    FILE *f = fopen(xf, "wb");
    fwrite(X, sizeof(double), n * d, f);
    fclose(f);
    f = fopen(wf, "wb");
    fwrite(W, sizeof(double), d * d, f);
    fclose(f);
    printf("optdyn bench_spectra: n = %zu, d = %zu, %d OpenMP threads, build %s\n\n", n, d, od_threads(),
           OD_BENCH_BUILD_TYPE);
    /* (a) */
    od_spectra_eigs_params ep = od_spectra_eigs_default_params();
    ep.k = 10;
    ep.tol = 1e-10;
    od_spectra_eigs_result er;
    double t0 = od_wall_time();
    int st = od_spectra_eigs(G, &ep, &er);
    const double ta = od_wall_time() - t0;
    /* (b) */
    od_spectra_slq_params sp = od_spectra_slq_default_params();
    sp.steps = 80;
    sp.probes = 10;
    od_spectra_slq_result sr, sr1;
    t0 = od_wall_time();
    od_spectra_slq(Wd, &sp, &sr);
    const double tb = od_wall_time() - t0;
    sp.block = 0;
    t0 = od_wall_time();
    od_spectra_slq(Wd, &sp, &sr1);
    const double tb1 = od_wall_time() - t0;
    const int same = !memcmp(sr.nodes, sr1.nodes, 800 * sizeof(double)) && !memcmp(sr.weights, sr1.weights, 800 * sizeof(double));
    double py_a = -1, py_b = -1, py_av[10];
    long py_am = -1;
    char info[256] = "";
    if (use_python) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "'%s' '%s' --x %s --dense %s --n %zu --d %zu", python, OD_BENCH_SCRIPT, xf, wf, n, d);
        FILE *p = popen(cmd, "r");
        char line[8192];
        while (p && fgets(line, sizeof line, p)) {
            if (!strncmp(line, "INFO\t", 5)) snprintf(info, sizeof info, "%.200s", line + 5);
            if (!strncmp(line, "RESULT\teigsh\t", 13)) {
                char *q = line + 13;
                py_a = strtod(q, &q);
                py_am = strtol(q, &q, 10);
                for (int i = 0; i < 10; i++) py_av[i] = strtod(q + 1, &q);
            }
            if (!strncmp(line, "RESULT\tslq_numpy\t", 17)) py_b = strtod(line + 17, NULL);
        }
        if (p) pclose(p);
    }
    remove(xf);
    remove(wf);
    printf("(a) top-10 of X^T X / n, implicit, tol 1e-10\n");
    printf("  %-44s %9s %9s %10s\n", "method", "seconds", "products", "max |Δλ|");
    double dmax = 0;
    if (py_a > 0)
        for (int i = 0; i < 10; i++) dmax = fmax(dmax, fabs(er.values[i] - py_av[i]));
    printf("  %-44s %9.3f %9llu %10s\n", "optdyn od_spectra_eigs (Krylov-Schur)", ta,
           (unsigned long long)er.matvecs, st == OD_OK ? "" : "not converged");
    if (py_a > 0) {
        printf("  %-44s %9.3f %9ld %10.2g\n", "scipy eigsh(LinearOperator, which='LA')", py_a, py_am, dmax);
        printf("  ratio (eigsh / optdyn): time %.2fx, products %.2fx   [target: >= 2x time, fewer products]\n",
               py_a / ta, (double)py_am / (double)er.matvecs);
    }
    printf("  limit: one product = one pass over X (%.0f MB)\n\n", (double)(n * d * 8) / 1e6);
    printf("(b) SLQ density, d = %zu, m = 80, n_v = 10\n", d);
    printf("  %-44s %9.3f\n", "optdyn od_spectra_slq, probes as a block", tb);
    printf("  %-44s %9.3f   (same numbers: %s)\n", "optdyn od_spectra_slq, one probe at a time", tb1, same ? "yes, byte-identical" : "NO");
    if (py_b > 0) {
        printf("  %-44s %9.3f\n", "NumPy, one probe at a time (PyHessian loop)", py_b);
        printf("  ratio (NumPy / optdyn block): %.2fx   [target: >= 3x]\n", py_b / tb);
    }
    printf("  limit: m = 80 passes over W (%.0f MB) in block mode, n_v m = 800 one at a time\n", (double)(d * d * 8) / 1e6);
    if (info[0]) printf("\nPython: %s", info);
    od_spectra_eigs_result_free(&er);
    od_spectra_slq_result_free(&sr);
    od_spectra_slq_result_free(&sr1);
    od_spectra_linop_free(G);
    od_spectra_linop_free(Wd);
    od_free(X);
    od_free(W);
    od_free(E);
    return 0;
}
