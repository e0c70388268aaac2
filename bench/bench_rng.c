/* optdyn bench — cost of a standard normal: optdyn's Philox streams against GSL and NumPy.
 *
 * Every method fills a buffer of CHUNK doubles (512 KiB, resident in L2) over and over; the number
 * of fills is calibrated so that one measurement takes at least --seconds (default 0.5 s), and the
 * best of --reps (default 3) measurements is reported, in ns per number, with the ratio to
 * od_stream_normals.  NumPy is measured in the same run by bench_rng.py (run with the Python found
 * at configure time, or --python PATH, or $OD_BENCH_PYTHON) on the same chunk size, and its
 * numbers are parsed from its output.
 *
 * The physical limit of a ziggurat on Philox4x32-10 is the cost of the random bits: one Philox
 * block (four 32-bit words) gives two 64-bit words, i.e. two normals on the fast path.  It is
 * reported twice: scalar Random123 (philox4x32_R in a loop), and the batched generator that the
 * bulk functions use, measured through od_stream_uniforms (one 64-bit word and a multiplication
 * per number).
 *
 * usage: bench_rng [--seconds S] [--reps R] [--python PATH] [--no-python]
 */
#include "core/optdyn_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <Random123/philox.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#ifndef OD_BENCH_PYTHON
#define OD_BENCH_PYTHON "python3"
#endif
#ifndef OD_BENCH_SCRIPT
#define OD_BENCH_SCRIPT "bench/bench_rng.py"
#endif
#ifndef OD_BENCH_BUILD_TYPE
#define OD_BENCH_BUILD_TYPE "unknown"
#endif

enum { CHUNK = 1 << 16 };

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ---- the methods: each fills buf[0..CHUNK) ---------------------------------------------------- */

typedef struct {
    od_stream s;
    gsl_rng *mt, *adapter;
    uint32_t philox_ctr[4], philox_key[2];
} bench_state;

typedef void fill_fn(bench_state *st, double *buf);

static void fill_od_normals(bench_state *st, double *buf) { od_stream_normals(&st->s, buf, CHUNK); }

static void fill_od_normal(bench_state *st, double *buf)
{
    for (size_t i = 0; i < CHUNK; i++) buf[i] = od_stream_normal(&st->s);
}

static void fill_od_uniforms(bench_state *st, double *buf) { od_stream_uniforms(&st->s, buf, CHUNK); }

static void fill_gsl_zig_mt(bench_state *st, double *buf)
{
    for (size_t i = 0; i < CHUNK; i++) buf[i] = gsl_ran_gaussian_ziggurat(st->mt, 1.0);
}

static void fill_gsl_polar_mt(bench_state *st, double *buf)
{
    for (size_t i = 0; i < CHUNK; i++) buf[i] = gsl_ran_gaussian(st->mt, 1.0);
}

static void fill_gsl_zig_adapter(bench_state *st, double *buf)
{
    for (size_t i = 0; i < CHUNK; i++) buf[i] = gsl_ran_gaussian_ziggurat(st->adapter, 1.0);
}

/* CHUNK / 2 scalar Philox blocks, i.e. the bits of CHUNK normals; one word kept per block so the
 * work is not optimised away. */
static void fill_philox_scalar(bench_state *st, double *buf)
{
    philox4x32_key_t k = {{st->philox_key[0], st->philox_key[1]}};
    philox4x32_ctr_t c = {{st->philox_ctr[0], st->philox_ctr[1], st->philox_ctr[2], st->philox_ctr[3]}};
    for (size_t i = 0; i < CHUNK / 2; i++) {
        philox4x32_ctr_t r = philox4x32_R(10, c, k);
        c.v[0]++;
        buf[i] = (double)(r.v[0] ^ r.v[1] ^ r.v[2] ^ r.v[3]);
    }
    st->philox_ctr[0] = c.v[0];
}

/* ---- timing ----------------------------------------------------------------------------------- */

static volatile double sink;

/* Seconds for `fills` calls of f. */
static double time_fills(fill_fn *f, bench_state *st, double *buf, size_t fills)
{
    double t0 = now(), acc = 0;
    for (size_t i = 0; i < fills; i++) {
        f(st, buf);
        acc += buf[i % CHUNK];
    }
    double t = now() - t0;
    sink += acc;
    return t;
}

/* Best-of-reps ns per number, each rep lasting at least `seconds`. */
static double measure(fill_fn *f, bench_state *st, double *buf, double seconds, int reps)
{
    size_t fills = 1;
    double t = time_fills(f, st, buf, fills);   /* warm-up and first estimate */
    while (t < 0.05) {
        fills *= 2;
        t = time_fills(f, st, buf, fills);
    }
    fills = (size_t)((double)fills * seconds / t * 1.05) + 1;
    double best = 1e300;
    for (int r = 0; r < reps; r++) {
        double tr = time_fills(f, st, buf, fills);
        if (tr < best) best = tr;
    }
    return best / ((double)fills * CHUNK) * 1e9;
}

/* ---- NumPy, through bench_rng.py ---------------------------------------------------------------- */

typedef struct {
    char name[512];
    double ns;
} py_result;

/* Runs the Python half and collects its "RESULT<TAB>name<TAB>ns" lines; returns how many, or -1
 * when Python could not be run.  Lines "INFO<TAB>text" are copied to info. */
static int run_python(const char *python, double seconds, int reps, py_result *res, int max, char *info,
                      size_t info_len)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' '%s' --chunk %d --seconds %g --reps %d", python, OD_BENCH_SCRIPT,
             CHUNK, seconds, reps);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    char line[512];
    int n = 0;
    info[0] = 0;
    while (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = 0;
        if (strncmp(line, "RESULT\t", 7) == 0 && n < max) {
            char *name = line + 7, *tab = strchr(name, '\t');
            if (!tab) continue;
            *tab = 0;
            snprintf(res[n].name, sizeof res[n].name, "%s", name);
            res[n].ns = strtod(tab + 1, NULL);
            n++;
        } else if (strncmp(line, "INFO\t", 5) == 0) {
            size_t used = strlen(info);
            snprintf(info + used, info_len - used, "%s%s", used ? "; " : "", line + 5);
        }
    }
    int status = pclose(p);
    return status == 0 ? n : (n > 0 ? n : -1);
}

/* ---- report ----------------------------------------------------------------------------------- */

static void cpu_model(char *out, size_t len)
{
    snprintf(out, len, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *c = strchr(line, ':');
            if (c) {
                c += 2;
                c[strcspn(c, "\n")] = 0;
                snprintf(out, len, "%s", c);
            }
            break;
        }
    }
    fclose(f);
}

static void row(const char *name, double ns, double ref)
{
    printf("  %-66s %9.2f %10.2f\n", name, ns, ns / ref);
}

int main(int argc, char **argv)
{
    double seconds = 0.5;
    int reps = 3, use_python = 1;
    const char *python = getenv("OD_BENCH_PYTHON");
    if (!python || !*python) python = OD_BENCH_PYTHON;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            seconds = atof(argv[++i]);
        } else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            reps = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--python") == 0 && i + 1 < argc) {
            python = argv[++i];
        } else if (strcmp(argv[i], "--no-python") == 0) {
            use_python = 0;
        } else {
            fprintf(stderr, "usage: %s [--seconds S] [--reps R] [--python PATH] [--no-python]\n", argv[0]);
            return 2;
        }
    }
    if (!(seconds > 0) || reps < 1) {
        fprintf(stderr, "bench_rng: --seconds must be > 0 and --reps >= 1\n");
        return 2;
    }
    gsl_set_error_handler_off();

    double *buf = malloc(CHUNK * sizeof *buf);
    bench_state st;
    od_stream_init(&st.s, 0x9e3779b97f4a7c15ULL, 1);
    st.mt = gsl_rng_alloc(gsl_rng_mt19937);
    st.adapter = od_stream_gsl_alloc(&st.s);
    st.philox_ctr[0] = 0;
    st.philox_ctr[1] = 1;
    st.philox_ctr[2] = 2;
    st.philox_ctr[3] = 3;
    st.philox_key[0] = 0x7f4a7c15;
    st.philox_key[1] = 0x9e3779b9;
    if (!buf || !st.mt || !st.adapter) {
        fprintf(stderr, "bench_rng: out of memory\n");
        return 1;
    }
    gsl_rng_set(st.mt, 5489);

    char cpu[160];
    cpu_model(cpu, sizeof cpu);
    printf("optdyn bench_rng: ns per standard normal, one thread, best of %d runs of >= %.2g s each,\n"
           "buffers of %d doubles\n", reps, seconds, CHUNK);
    printf("machine: %s, %ld logical CPUs; compiler: gcc %s; build type: %s\n\n", cpu,
           sysconf(_SC_NPROCESSORS_ONLN), __VERSION__, OD_BENCH_BUILD_TYPE);
    fflush(stdout);

    struct {
        const char *name;
        fill_fn *fn;
        double ns;
    } m[] = {
        {"od_stream_normals (bulk; Philox4x32-10 + 256-layer ziggurat)", fill_od_normals, 0},
        {"od_stream_normal (one call per normal)", fill_od_normal, 0},
        {"od_stream_uniforms (bulk uniforms in [0,1), for scale)", fill_od_uniforms, 0},
        {"gsl_ran_gaussian_ziggurat on gsl_rng_mt19937", fill_gsl_zig_mt, 0},
        {"gsl_ran_gaussian (polar Box-Muller) on gsl_rng_mt19937", fill_gsl_polar_mt, 0},
        {"gsl_ran_gaussian_ziggurat on od_gsl_rng_type (our adapter)", fill_gsl_zig_adapter, 0},
    };
    const size_t nm = sizeof m / sizeof *m;
    for (size_t i = 0; i < nm; i++) m[i].ns = measure(m[i].fn, &st, buf, seconds, reps);
    double philox_ns = measure(fill_philox_scalar, &st, buf, seconds, reps);

    py_result py[8];
    char info[512] = "";
    int npy = use_python ? run_python(python, seconds, reps, py, 8, info, sizeof info) : 0;

    /* 64-bit words the ziggurat consumes per normal (fast path: exactly one). */
    od_stream w;
    od_stream_init(&w, 0x9e3779b97f4a7c15ULL, 2);
    const size_t nw = 10 * (size_t)CHUNK;
    for (size_t done = 0; done < nw; done += CHUNK) od_stream_normals(&w, buf, CHUNK);
    double words = (4.0 * w.ctr[0] - w.avail) / 2.0 / (double)nw;

    const double ref = m[0].ns;
    printf("  %-66s %9s %10s\n", "method", "ns/normal", "ratio");
    for (size_t i = 0; i < nm; i++) row(m[i].name, m[i].ns, ref);
    if (npy > 0) {
        for (int i = 0; i < npy; i++) row(py[i].name, py[i].ns, ref);
    } else if (use_python) {
        printf("  NumPy: not measured (could not run '%s %s' with numpy; set --python or "
               "OD_BENCH_PYTHON)\n", python, OD_BENCH_SCRIPT);
    }
    printf("  (ratio = ns of the method / ns of od_stream_normals; above 1 is slower)\n");
    printf("\nphysical limit: one Philox4x32-10 block (four 32-bit words) per two normals\n");
    row("Philox4x32-10 scalar (Random123 philox4x32_R), half a block", philox_ns, ref);
    row("Philox4x32-10 batched, 16 blocks SSE2 (at most od_stream_uniforms)", m[2].ns, ref);
    printf("  ziggurat: %.4f 64-bit words per normal (1 on the fast path)\n", words);
    printf("  so about %.0f%% of od_stream_normals' time goes to the Philox bits, the rest to the "
           "ziggurat\n", 100 * m[2].ns * words / ref);
    if (info[0]) printf("\nPython: %s\n", info);
    if (strcmp(OD_BENCH_BUILD_TYPE, "Release") != 0)
        printf("\nnote: built as %s; numbers for the record come from `cmake --preset release`.\n",
               OD_BENCH_BUILD_TYPE);

    gsl_rng_free(st.mt);
    gsl_rng_free(st.adapter);
    free(buf);
    return 0;
}
