/* optdyn bench — an ensemble of Adam paths and of its SDE: optdyn against NumPy.
 *
 * The issue-7 benchmark: 10^4 paths of torch Adam on a d = 100 noisy quadratic (lambda_i log-spaced
 * in [1, 10], gradient noise N(0, I), x0 = 1, lr 0.01, betas (0.9, 0.999), eps 1e-8) for 10^3 steps,
 * and 10^4 paths of its SDE (Malladi et al. 2022) by Euler–Maruyama with h = eta^2, both through
 * od_sde_dynamics_run (od_ensemble_run: chunks of paths, fixed-order reductions), on one thread and
 * on two.  od_sde_dynamics_run takes its fused loops here (dynamics.c); the generic path (oracle call
 * and vtable per step, generic = 1) runs on a tenth of the paths for comparison, and the bench checks
 * that its numbers are the fused path's, byte for byte.  The NumPy reference (bench_sde.py,
 * vectorised over paths the way papers' code does it) runs in the same process tree on the same
 * problem.  Both report the stationary E||x||^2 (second half of the steps, SE across paths): the two
 * implementations use different random numbers, so agreement is checked as a z-score.
 *
 * Physical limit: one step of one coordinate needs one standard normal plus a few flops and a
 * square root; the limit printed is the measured cost of P K d normals drawn in bulk
 * (od_stream_normals, d at a time as the ensemble draws them), on one thread.
 *
 * usage: bench_sde [--paths P] [--steps K] [--d D] [--python PATH] [--no-python]
 */
#include "sde/optdyn_sde.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef OD_BENCH_PYTHON
#define OD_BENCH_PYTHON "python3"
#endif
#ifndef OD_BENCH_SCRIPT
#define OD_BENCH_SCRIPT "bench/bench_sde.py"
#endif
#ifndef OD_BENCH_BUILD_TYPE
#define OD_BENCH_BUILD_TYPE "unknown"
#endif

typedef struct {
    char name[96];
    double seconds, cpu, mean, se;   /* wall and process CPU seconds */
    size_t paths;
} result;

/* CPU seconds of the whole process (all threads): unlike the wall time, it does not count the time
 * other jobs on a shared machine take the cores away. */
static double cpu_time(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int run_c(od_problem *p, od_sde_dyn_kind kind, size_t P, uint64_t K, int threads, int generic,
                 result *r, od_ensemble_result *keep)
{
    od_sde_hp hp = od_sde_hp_default();
    hp.lr = 0.01;
    hp.beta1 = 0.9;
    hp.beta2 = 0.999;
    hp.eps = 1e-8;
    od_sde_observable obs;
    od_sde_observable_parse("norm2", p, &obs);
    uint64_t times[2] = {0, K};
    od_sde_dynamics dy = {.problem = p, .opt = od_sde_adam, .hp = hp, .batch = 1, .steps = K,
                          .kind = kind, .scheme = OD_SDE_EM, .obs = &obs, .n_obs = 1,
                          .times = times, .n_times = 2, .seed = 2024, .generic = generic};
    od_set_threads(threads);
    od_ensemble_result res;
    double t0 = od_wall_time(), c0 = cpu_time();
    int st = od_sde_dynamics_run(&dy, P, &res, NULL);
    r->seconds = od_wall_time() - t0;
    r->cpu = cpu_time() - c0;
    r->paths = P;
    if (st != OD_OK) return st;
    r->mean = res.mean[2];
    r->se = res.se[2];
    if (keep) *keep = res;
    else od_ensemble_result_free(&res);
    return OD_OK;
}

int main(int argc, char **argv)
{
    size_t P = 10000, d = 100;
    uint64_t K = 1000;
    int use_python = 1;
    const char *python = getenv("OD_BENCH_PYTHON");
    if (!python || !*python) python = OD_BENCH_PYTHON;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--paths") == 0 && i + 1 < argc) P = (size_t)atol(argv[++i]);
        else if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc) K = (uint64_t)atol(argv[++i]);
        else if (strcmp(argv[i], "--d") == 0 && i + 1 < argc) d = (size_t)atol(argv[++i]);
        else if (strcmp(argv[i], "--python") == 0 && i + 1 < argc) python = argv[++i];
        else if (strcmp(argv[i], "--no-python") == 0) use_python = 0;
        else {
            fprintf(stderr, "usage: bench_sde [--paths P] [--steps K] [--d D] [--python PATH] [--no-python]\n");
            return 2;
        }
    }
    double *lam = malloc(d * sizeof *lam), *sd = malloc(d * sizeof *sd);
    for (size_t i = 0; i < d; i++) {
        lam[i] = pow(10.0, d > 1 ? (double)i / (double)(d - 1) : 0.0);
        sd[i] = 1.0;
    }
    od_problem *p = NULL;
    if (od_problem_quadratic_diag(d, lam, NULL, sd, &p) != OD_OK) return 3;
    p->x0 = od_vec_alloc(d);
    for (size_t i = 0; i < d; i++) p->x0[i] = 1.0;

    printf("optdyn bench_sde: %zu paths of Adam (and of its SDE, EM with h = eta^2) on a d = %zu noisy "
           "quadratic, %llu steps\nbuild type: %s; timings on a shared 2-core machine (measured under "
           "load: other builds run in parallel)\n\n", P, d, (unsigned long long)K, OD_BENCH_BUILD_TYPE);
    /* fused (default) on P paths, 1 and 2 threads; generic on P/10 paths, 1 thread */
    result c[6];
    const char *names[6] = {"optdyn adam discrete, 1 thread", "optdyn adam discrete, 2 threads",
                            "optdyn adam SDE (EM), 1 thread", "optdyn adam SDE (EM), 2 threads",
                            "  generic path, discrete, 1 thread", "  generic path, SDE, 1 thread"};
    const size_t Pg = P / 10 > 0 ? P / 10 : 1;
    int same = 1;
    for (int k = 0; k < 6; k++) {
        snprintf(c[k].name, sizeof c[k].name, "%s", names[k]);
        const od_sde_dyn_kind kind = (k < 2 || k == 4) ? OD_SDE_DYN_DISCRETE : OD_SDE_DYN_SDE;
        od_ensemble_result a, b;
        int st;
        if (k < 4) {
            st = run_c(p, kind, P, K, 1 + (k & 1), 0, &c[k], NULL);
        } else {   /* the generic path, and the fused one on the same paths: the same bytes? */
            result tmp;
            st = run_c(p, kind, Pg, K, 1, 1, &c[k], &a);
            if (st == OD_OK) st = run_c(p, kind, Pg, K, 1, 0, &tmp, &b);
            if (st == OD_OK) {
                same &= memcmp(a.mean, b.mean, 3 * sizeof *a.mean) == 0 &&
                        memcmp(a.se, b.se, 3 * sizeof *a.se) == 0;
                od_ensemble_result_free(&a);
                od_ensemble_result_free(&b);
            }
        }
        if (st != OD_OK) {
            fprintf(stderr, "bench_sde: %s\n", od_last_error());
            return 3;
        }
    }
    /* the limit: P K d normals in bulk, d at a time, one thread (measured on 1/100 of them) */
    od_stream s;
    od_stream_init(&s, 1, 1);
    const size_t nblk = P * (size_t)K / 100;
    double *zb = od_vec_alloc(d);
    volatile double sink = 0;
    double t0 = od_wall_time(), c0 = cpu_time();
    for (size_t i = 0; i < nblk; i++) {
        od_stream_seek(&s, (uint32_t)(i / K), (uint32_t)(i % K));
        od_stream_normals(&s, zb, d);
        sink += zb[i % d];
    }
    const double limit = (od_wall_time() - t0) * 100.0, limit_cpu = (cpu_time() - c0) * 100.0;
    (void)sink;
    od_free(zb);

    result py[2];
    int npy = 0;
    if (use_python) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "'%s' '%s' --paths %zu --d %zu --steps %llu", python, OD_BENCH_SCRIPT,
                 P, d, (unsigned long long)K);
        FILE *f = popen(cmd, "r");
        char line[512];
        while (f && fgets(line, sizeof line, f)) {
            if (strncmp(line, "RESULT\t", 7) == 0 && npy < 2) {
                char *name = line + 7, *tab = strchr(name, '\t');
                if (!tab) continue;
                *tab = '\0';
                snprintf(py[npy].name, sizeof py[npy].name, "%.80s", name);
                py[npy].cpu = NAN;
                if (sscanf(tab + 1, "%lf %lf %lf %lf", &py[npy].seconds, &py[npy].mean, &py[npy].se,
                           &py[npy].cpu) >= 3)
                    npy++;
            } else if (strncmp(line, "INFO\t", 5) == 0) {
                printf("numpy: %s", line + 5);
            }
        }
        if (f) pclose(f);
    }
    const double work = (double)P * (double)K * (double)d, lim_ns = 1e9 * limit / work;
    const double lim_cpu = 1e9 * limit_cpu / work;
    printf("\n  %-36s %8s %8s %8s %8s %8s %8s   %-24s %s\n", "method (ns per path·step·coordinate)",
           "seconds", "wall ns", "cpu ns", "NumPy/x", "cpu/x", "x/limit", "stationary E||x||^2", "z vs NumPy");
    for (int k = 0; k < 6; k++) {
        const result *ref = npy == 2 ? &py[(k < 2 || k == 4) ? 0 : 1] : NULL;
        const double per = 1e9 / ((double)c[k].paths * (double)K * (double)d);
        const double ns = c[k].seconds * per, cns = c[k].cpu * per;
        printf("  %-36s %8.3f %8.2f %8.2f", c[k].name, c[k].seconds, ns, cns);
        if (ref) printf(" %8.1f %8.1f", 1e9 * ref->seconds / work / ns, 1e9 * ref->cpu / work / cns);
        else printf(" %8s %8s", "-", "-");
        printf(" %8.2f   %.6g ± %.2g", cns / lim_cpu, c[k].mean, c[k].se);
        if (ref && k < 4) printf("   %+.2f", (c[k].mean - ref->mean) / hypot(c[k].se, ref->se));
        printf("\n");
    }
    for (int k = 0; k < npy; k++)
        printf("  %-36s %8.3f %8.2f %8.2f %8.1f %8.1f %8.2f   %.6g ± %.2g\n", py[k].name, py[k].seconds,
               1e9 * py[k].seconds / work, 1e9 * py[k].cpu / work, 1.0, 1.0,
               1e9 * py[k].cpu / work / lim_cpu, py[k].mean, py[k].se);
    if (!npy && use_python) printf("  (NumPy rows missing: %s could not run %s)\n", python, OD_BENCH_SCRIPT);
    printf("\n  (generic rows: %zu paths, timed per path·step·coordinate; their numbers equal the fused "
           "path's on the same paths: %s)\n", Pg, same ? "yes, byte for byte" : "NO");
    printf("  limit: P·K·d normals in bulk (od_stream_normals, %zu at a time), 1 thread: %.3f s wall, "
           "%.2f ns each (%.2f ns of CPU time); x/limit = cpu ns / the limit's CPU ns\n", d, limit,
           lim_ns, lim_cpu);
    if (npy == 2) {
        const double np_ns = 1e9 * py[0].cpu / work;
        printf("  the most any implementation can gain on NumPy here, one thread: NumPy %.2f ns / "
               "limit %.2f ns (CPU) = %.1fx (the issue asks 20x)\n", np_ns, lim_cpu, np_ns / lim_cpu);
    }
    printf("  speed-up from 2 threads: discrete %.2fx, SDE %.2fx (wall); CPU time of the 2-thread runs "
           "over the 1-thread runs: %.2f, %.2f (1.00 = no parallel overhead)\n",
           c[0].seconds / c[1].seconds, c[2].seconds / c[3].seconds, c[1].cpu / c[0].cpu,
           c[3].cpu / c[2].cpu);
    printf("  (cpu ns: process CPU time per path·step·coordinate, all threads; on a loaded machine the "
           "wall-time rows count time the cores were taken by other jobs, the CPU rows do not)\n");
    od_problem_free(p);
    free(lam);
    free(sd);
    return same ? 0 : 4;
}
