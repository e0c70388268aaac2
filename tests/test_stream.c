/* optdyn tests — addressed random streams (core/stream.h).
 *
 * What is tested, and against which error model:
 *   - Philox4x32-10 against Random123's published known answers, and the documented counter layout
 *     ctr = {block, step, path, stream}, key = {seed lo, seed hi}: exact.
 *   - Frozen numbers: the first draws at one address and a hash of 10^5 bulk normals, recorded from
 *     the first implementation.  "The same seed gives the same bytes" (DESIGN.md, idea 4) is a
 *     contract with users' published results, so any change to these numbers must be deliberate.
 *   - Moments of uniforms, normals, signs and gamma variates: |estimate - exact| <= 5 standard
 *     errors, the standard error computed from the exact higher moments (never from the sample).
 *   - Distribution shape: Kolmogorov-Smirnov distance below the critical value at level 0.001
 *     (P(K > x) ~ 2 exp(-2 x^2), with Stephens' finite-n factor), and chi-square statistics below
 *     the 0.999 quantile of chi-square with k - 1 degrees of freedom.
 *   - Tail counts: binomial, within 5 standard errors sqrt(n p (1 - p)).
 *   - Bulk versus single calls, addressing, threads and the GSL adapter: bitwise equality.
 * The samples are fixed by their seeds, so every run sees the same numbers; the levels say how
 * unlikely a failure would be for a correct generator.
 */
#include "od_test.h"
#include "core/optdyn_core.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>

void od_test_suite_stream(void);

#define SEED 0x9e3779b97f4a7c15ULL   /* high-entropy default seed */
#define ZIG_R 3.6541528853610088     /* right edge of the ziggurat's base layer (256 layers) */
#define NSE 5.0                      /* tolerance of moment tests, in standard errors */
#define ALPHA 0.001                  /* level of the KS and chi-square tests */

/* ---- statistics helpers ---------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts x and returns the Kolmogorov-Smirnov distance sup |F_n - F|. */
static double ks_distance(double *x, size_t n, double (*cdf)(double))
{
    qsort(x, n, sizeof *x, cmp_double);
    double d = 0;
    for (size_t i = 0; i < n; i++) {
        double f = cdf(x[i]);
        d = fmax(d, fmax(f - (double)i / (double)n, (double)(i + 1) / (double)n - f));
    }
    return d;
}

/* Critical KS distance at level alpha for sample size n: P(sqrt(n) D > x) -> 2 exp(-2 x^2) (the
 * first term of Kolmogorov's series, exact to 1e-12 at this level), with Stephens' factor
 * sqrt(n) + 0.12 + 0.11 / sqrt(n) in place of sqrt(n). */
static double ks_critical(size_t n, double alpha)
{
    double sn = sqrt((double)n);
    return sqrt(-0.5 * log(alpha / 2)) / (sn + 0.12 + 0.11 / sn);
}

static double uniform_cdf(double x) { return x <= 0 ? 0 : x >= 1 ? 1 : x; }

/* Pearson's statistic for counts against equal expected counts n / k. */
static double chisq_equal(const unsigned long *count, size_t k, size_t n)
{
    double e = (double)n / (double)k, c = 0;
    for (size_t i = 0; i < k; i++) c += ((double)count[i] - e) * ((double)count[i] - e) / e;
    return c;
}

/* Asserts |p_hat - p| <= NSE sqrt(p (1 - p) / n) for a count out of n Bernoulli(p) trials. */
static void assert_binomial(size_t count, size_t n, double p)
{
    double se = sqrt(p * (1 - p) / (double)n);
    OD_ASSERT_CLOSE((double)count / (double)n, p, NSE * se);
}

static od_stream stream_at(uint64_t seed, uint32_t id, uint32_t path, uint32_t step)
{
    od_stream s;
    od_stream_init(&s, seed, id);
    od_stream_seek(&s, path, step);
    return s;
}

/* ---- Philox and the counter layout ------------------------------------------------------------ */

/* Random123's published known-answer vectors (DEShawResearch/random123, tests/kat_vectors):
 * counter[4] key[2] -> output[4] for philox4x32 with 10 rounds. */
static void test_philox_kat(void)
{
    static const uint32_t v[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d,
         0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09,
         0x94fdcceb, 0x5001e420, 0x24126ea1}};
    for (int i = 0; i < 3; i++) {
        uint32_t out[4];
        od_philox4x32_10(v[i], v[i] + 4, out);
        for (int j = 0; j < 4; j++) CU_ASSERT_EQUAL(out[j], v[i][6 + j]);
    }
}

/* The raw words at (seed, stream, path, step) are Philox({block, step, path, stream}, seed),
 * block by block, low word first; u64 is two consecutive u32 words, low word first. */
static void test_counter_layout(void)
{
    const uint32_t id = 0x2b7e, path = 0x15162, step = 0x8aed2;
    od_stream s = stream_at(SEED, id, path, step);
    const uint32_t key[2] = {(uint32_t)SEED, (uint32_t)(SEED >> 32)};
    for (uint32_t block = 0; block < 3; block++) {
        uint32_t ctr[4] = {block, step, path, id}, out[4];
        od_philox4x32_10(ctr, key, out);
        for (int j = 0; j < 4; j++) CU_ASSERT_EQUAL(od_stream_u32(&s), out[j]);
    }
    od_stream t = stream_at(SEED, id, path, step);
    od_stream_u32(&t);   /* odd offset: the u64 straddles blocks 0 and 1 */
    od_stream_u32(&t);
    od_stream_u32(&t);
    uint32_t ctr0[4] = {0, step, path, id}, ctr1[4] = {1, step, path, id}, b0[4], b1[4];
    od_philox4x32_10(ctr0, key, b0);
    od_philox4x32_10(ctr1, key, b1);
    CU_ASSERT_EQUAL(od_stream_u64(&t), (uint64_t)b0[3] | ((uint64_t)b1[0] << 32));
}

/* Numbers recorded from the first implementation of the streams (see the header comment). */
static void test_frozen_numbers(void)
{
    od_stream s = stream_at(SEED, 7, 3, 11);
    CU_ASSERT_EQUAL(od_stream_normal(&s), -0x1.f21245343b03dp-2);
    CU_ASSERT_EQUAL(od_stream_normal(&s), -0x1.695213868cd62p-2);
    CU_ASSERT_EQUAL(od_stream_normal(&s), -0x1.805cae5837917p-2);
    CU_ASSERT_EQUAL(od_stream_normal(&s), 0x1.40c23e1db8f3ep-1);
    CU_ASSERT_EQUAL(od_stream_uniform(&s), 0x1.a1dd67755c171p-1);
    CU_ASSERT_EQUAL(od_stream_uniform_pos(&s), 0x1.6add1930ff51ep-1);
    CU_ASSERT_EQUAL(od_stream_u32(&s), 0xb92d7a00u);
    CU_ASSERT_EQUAL(od_stream_below(&s, 7), 4u);

    /* FNV-1a of the bytes of 10^5 bulk normals at (5, 2): covers the wedges and the tail
     * (34 of these normals lie beyond r). */
    enum { N = 100000 };
    double *x = malloc(N * sizeof *x);
    CU_ASSERT_FATAL(x != NULL);
    od_stream_seek(&s, 5, 2);
    od_stream_normals(&s, x, N);
    uint64_t h = 0xcbf29ce484222325ULL;
    const unsigned char *p = (const unsigned char *)x;
    for (size_t i = 0; i < N * sizeof *x; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    CU_ASSERT_EQUAL(h, 0x6471580bb45413b6ULL);
    free(x);
}

/* ---- uniforms --------------------------------------------------------------------------------- */

static void test_uniform_edges(void)
{
    /* The extreme 64-bit words, planted in the stream's buffer: all ones must stay below 1 in
     * both forms (the open form once returned exactly 1.0 there: (2^53 - 1 + 0.5) rounds up to
     * 2^53), all zeros gives exactly 0 for [0, 1) and 2^-54 for (0, 1). */
    od_stream s = stream_at(SEED, 0, 0, 0);
    memset(s.buf, 0xff, sizeof s.buf);
    s.avail = 4;
    CU_ASSERT_EQUAL(od_stream_uniform(&s), 1.0 - 0x1.0p-53);
    double top = od_stream_uniform_pos(&s);
    CU_ASSERT(top < 1.0);
    CU_ASSERT_EQUAL(top, 1.0 - 0x1.0p-53);
    memset(s.buf, 0, sizeof s.buf);
    s.avail = 4;
    CU_ASSERT_EQUAL(od_stream_uniform(&s), 0.0);
    CU_ASSERT_EQUAL(od_stream_uniform_pos(&s), 0x1.0p-54);
}

static void test_uniform_moments_ks(void)
{
    enum { N = 1 << 21 };
    double *u = malloc(N * sizeof *u);
    CU_ASSERT_FATAL(u != NULL);
    od_stream s = stream_at(SEED, 1, 2, 3);
    od_stream_uniforms(&s, u, N);
    double m1 = 0, m2 = 0, lo = 1, hi = 0;
    for (size_t i = 0; i < N; i++) {
        m1 += u[i];
        m2 += (u[i] - 0.5) * (u[i] - 0.5);
        lo = fmin(lo, u[i]);
        hi = fmax(hi, u[i]);
    }
    m1 /= N;
    m2 /= N;
    CU_ASSERT(lo >= 0.0);
    CU_ASSERT(hi < 1.0);
    /* E u = 1/2, Var u = 1/12; E (u - 1/2)^2 = 1/12 with Var = 1/80 - 1/144 = 1/180. */
    OD_ASSERT_CLOSE(m1, 0.5, NSE * sqrt(1.0 / 12 / N));
    OD_ASSERT_CLOSE(m2, 1.0 / 12, NSE * sqrt(1.0 / 180 / N));
    double d = ks_distance(u, N, uniform_cdf);
    CU_ASSERT(d < ks_critical(N, ALPHA));

    /* The open-interval form: in (0, 1), same law. */
    for (size_t i = 0; i < N; i++) u[i] = od_stream_uniform_pos(&s);
    double mp = 0, lop = 1, hip = 0;
    for (size_t i = 0; i < N; i++) {
        mp += u[i];
        lop = fmin(lop, u[i]);
        hip = fmax(hip, u[i]);
    }
    CU_ASSERT(lop > 0.0);
    CU_ASSERT(hip < 1.0);
    OD_ASSERT_CLOSE(mp / N, 0.5, NSE * sqrt(1.0 / 12 / N));
    CU_ASSERT(ks_distance(u, N, uniform_cdf) < ks_critical(N, ALPHA));
    free(u);
}

/* ---- normals ---------------------------------------------------------------------------------- */

static void test_normal_moments_ks_chisq(void)
{
    enum { N = 1 << 21, BINS = 100 };
    double *x = malloc(N * sizeof *x);
    CU_ASSERT_FATAL(x != NULL);
    od_stream s = stream_at(SEED, 2, 0, 0);
    od_stream_normals(&s, x, N);
    double m1 = 0, m2 = 0, m4 = 0;
    for (size_t i = 0; i < N; i++) {
        double x2 = x[i] * x[i];
        m1 += x[i];
        m2 += x2;
        m4 += x2 * x2;
    }
    m1 /= N;
    m2 /= N;
    m4 /= N;
    /* E Z = 0 (Var 1), E Z^2 = 1 (Var 3 - 1 = 2), E Z^4 = 3 (Var 105 - 9 = 96). */
    OD_ASSERT_CLOSE(m1, 0.0, NSE * sqrt(1.0 / N));
    OD_ASSERT_CLOSE(m2, 1.0, NSE * sqrt(2.0 / N));
    OD_ASSERT_CLOSE(m4, 3.0, NSE * sqrt(96.0 / N));

    /* KS against Phi, and chi-square over 100 bins of equal probability, bin = floor(100 Phi(x)).
     * A wrong layer table shifts mass between layers by far more than the chi-square's noise
     * (sd sqrt(2 * 99) ~ 14 around 99). */
    double d = ks_distance(x, N, gsl_cdf_ugaussian_P);
    double dcrit = ks_critical(N, ALPHA);
    if (!(d < dcrit)) fprintf(stderr, "\n  KS distance %.3g >= critical %.3g\n", d, dcrit);
    CU_ASSERT(d < dcrit);
    unsigned long count[BINS] = {0};
    for (size_t i = 0; i < N; i++) {
        size_t b = (size_t)(BINS * gsl_cdf_ugaussian_P(x[i]));
        count[b < BINS ? b : BINS - 1]++;
    }
    double c = chisq_equal(count, BINS, N), ccrit = gsl_cdf_chisq_Qinv(ALPHA, BINS - 1);
    if (!(c < ccrit)) fprintf(stderr, "\n  chi-square %.4g >= critical %.4g\n", c, ccrit);
    CU_ASSERT(c < ccrit);
    free(x);
}

/* The base layer's tail beyond r comes from Marsaglia's exact tail sampler, which ~2.6e-4 of the
 * draws reach.  With 5e7 normals: P(|Z| > r) and P(|Z| > 4.5) against 2 Q(.) within 5 binomial
 * SE, and the conditional mean E(|Z| | |Z| > r) = phi(r) / Q(r) within 5 SE of the conditional
 * law (variance 1 + r lambda - lambda^2, lambda = phi(r) / Q(r)). */
static void test_normal_tail(void)
{
    enum { CHUNK = 1 << 16 };
    const size_t n = 50000000;
    double *x = malloc(CHUNK * sizeof *x);
    CU_ASSERT_FATAL(x != NULL);
    od_stream s = stream_at(SEED, 3, 0, 0);
    size_t beyond_r = 0, beyond_45 = 0, pos = 0;
    double sum_tail = 0;
    for (size_t done = 0; done < n; done += CHUNK) {
        size_t m = n - done < CHUNK ? n - done : CHUNK;
        od_stream_normals(&s, x, m);
        for (size_t i = 0; i < m; i++) {
            double a = fabs(x[i]);
            if (a > ZIG_R) {
                beyond_r++;
                sum_tail += a;
                pos += x[i] > 0;
            }
            beyond_45 += a > 4.5;
        }
    }
    free(x);
    double pr = 2 * gsl_cdf_ugaussian_Q(ZIG_R), p45 = 2 * gsl_cdf_ugaussian_Q(4.5);
    assert_binomial(beyond_r, n, pr);
    assert_binomial(beyond_45, n, p45);
    assert_binomial(pos, beyond_r, 0.5);   /* the tail is symmetric */
    double lambda = gsl_ran_ugaussian_pdf(ZIG_R) / gsl_cdf_ugaussian_Q(ZIG_R);
    double var = 1 + ZIG_R * lambda - lambda * lambda;
    OD_ASSERT_CLOSE(sum_tail / (double)beyond_r, lambda, NSE * sqrt(var / (double)beyond_r));
}

/* od_stream_normals gives the same bits as repeated od_stream_normal and leaves the stream in the
 * same place, for short and long fills (the bulk path batches 16 Philox blocks), from every
 * offset inside a block (odd offsets make each 64-bit word straddle two blocks), and across the
 * wrap of the 32-bit block counter. */
static void test_normals_bulk_equals_single(void)
{
    static const size_t ns[] = {0, 1, 2, 3, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 1000, 4099, 70001};
    enum { NMAX = 70001 };
    double *a = malloc(NMAX * sizeof *a), *b = malloc(NMAX * sizeof *b);
    CU_ASSERT_FATAL(a != NULL && b != NULL);
    for (unsigned wrap = 0; wrap < 2; wrap++)
        for (unsigned skip = 0; skip < 4; skip++)
            for (size_t k = 0; k < sizeof ns / sizeof *ns; k++) {
                od_stream s = stream_at(SEED, 4, (uint32_t)k, skip);
                if (wrap) s.ctr[0] = 0xfffffff5u;   /* the next fill runs past block 2^32 - 1 */
                for (unsigned j = 0; j < skip; j++) od_stream_u32(&s);
                od_stream t = s;
                od_stream_normals(&s, a, ns[k]);
                for (size_t i = 0; i < ns[k]; i++) b[i] = od_stream_normal(&t);
                CU_ASSERT(memcmp(a, b, ns[k] * sizeof *a) == 0);
                for (int j = 0; j < 9; j++) CU_ASSERT_EQUAL(od_stream_u32(&s), od_stream_u32(&t));
            }
    free(a);
    free(b);
}

static void test_uniforms_bulk_equals_single(void)
{
    static const size_t ns[] = {0, 1, 5, 16, 17, 33, 64, 65, 999, 5000};
    double a[5000], b[5000];
    for (unsigned skip = 0; skip < 4; skip++)
        for (size_t k = 0; k < sizeof ns / sizeof *ns; k++) {
            od_stream s = stream_at(SEED, 5, skip, (uint32_t)k);
            for (unsigned j = 0; j < skip; j++) od_stream_u32(&s);
            od_stream t = s;
            od_stream_uniforms(&s, a, ns[k]);
            for (size_t i = 0; i < ns[k]; i++) b[i] = od_stream_uniform(&t);
            CU_ASSERT(memcmp(a, b, ns[k] * sizeof *a) == 0);
            for (int j = 0; j < 9; j++) CU_ASSERT_EQUAL(od_stream_u32(&s), od_stream_u32(&t));
        }
}

/* ---- Rademacher signs ------------------------------------------------------------------------- */

static void test_rademacher(void)
{
    enum { N = 1 << 20 };
    double *x = malloc(N * sizeof *x);
    CU_ASSERT_FATAL(x != NULL);
    od_stream s = stream_at(SEED, 6, 1, 1);
    double sum = 0;
    int ok = 1;
    for (size_t i = 0; i < N; i++) {
        double r = od_stream_rademacher(&s);
        ok &= r == 1.0 || r == -1.0;
        sum += r;
    }
    CU_ASSERT(ok);
    OD_ASSERT_CLOSE(sum / N, 0.0, NSE / sqrt(N));   /* Var = 1 */

    /* Bulk: values, mean, and the lag-1 product (signs from the same word must be independent:
     * E r_i r_{i+1} = 0 with Var 1). */
    od_stream_rademachers(&s, x, N);
    double sb = 0, lag = 0;
    ok = 1;
    for (size_t i = 0; i < N; i++) {
        ok &= x[i] == 1.0 || x[i] == -1.0;
        sb += x[i];
        if (i + 1 < N) lag += x[i] * x[i + 1];
    }
    CU_ASSERT(ok);
    OD_ASSERT_CLOSE(sb / N, 0.0, NSE / sqrt(N));
    OD_ASSERT_CLOSE(lag / (N - 1), 0.0, NSE / sqrt(N - 1));

    /* The documented layout: sign 32 j + k is bit k of the j-th 32-bit word, 1 -> +1; the rest of
     * the last word is dropped.  From every offset in a block, short and long fills. */
    static const size_t ns[] = {1, 31, 32, 33, 100, 1000, 5000};
    for (unsigned skip = 0; skip < 4; skip++)
        for (size_t m = 0; m < sizeof ns / sizeof *ns; m++) {
            od_stream t = stream_at(SEED, 6, 2, (uint32_t)m), u;
            for (unsigned j = 0; j < skip; j++) od_stream_u32(&t);
            u = t;
            od_stream_rademachers(&t, x, ns[m]);
            ok = 1;
            for (size_t j = 0; 32 * j < ns[m]; j++) {
                uint32_t w = od_stream_u32(&u);
                for (size_t k = 0; k < 32 && 32 * j + k < ns[m]; k++)
                    ok &= x[32 * j + k] == (((w >> k) & 1u) ? 1.0 : -1.0);
            }
            CU_ASSERT(ok);
            CU_ASSERT_EQUAL(od_stream_u32(&t), od_stream_u32(&u));
        }
    free(x);
}

/* ---- bounded integers ------------------------------------------------------------------------- */

static void test_below(void)
{
    od_stream s = stream_at(SEED, 8, 0, 0);
    static const uint32_t ns[] = {1, 2, 3, 7, 1000003, 3u << 30, 0xffffffffu};
    for (size_t k = 0; k < sizeof ns / sizeof *ns; k++) {
        uint32_t mx = 0;
        for (int i = 0; i < 10000; i++) {
            uint32_t v = od_stream_below(&s, ns[k]);
            mx = v > mx ? v : mx;
        }
        CU_ASSERT(mx < ns[k]);
    }

    /* Chi-square over the 7 values (6 degrees of freedom). */
    enum { N7 = 700000 };
    unsigned long count[7] = {0};
    for (int i = 0; i < N7; i++) count[od_stream_below(&s, 7)]++;
    CU_ASSERT(chisq_equal(count, 7, N7) < gsl_cdf_chisq_Qinv(ALPHA, 6));

    /* n = 3 * 2^30, where the rejection step matters: u32 % n would put 1/2 of the draws below
     * 2^30 (instead of 1/3), and the multiply without rejection would put 1/2 on multiples of 3
     * (instead of 1/3).  Binomial, 5 SE (a gap of 1/6 is ~350 SE). */
    enum { N = 1000000 };
    const uint32_t n = 3u << 30;
    size_t low = 0, mult3 = 0;
    for (int i = 0; i < N; i++) {
        uint32_t v = od_stream_below(&s, n);
        low += v < (1u << 30);
        mult3 += v % 3 == 0;
    }
    assert_binomial(low, N, 1.0 / 3);
    assert_binomial(mult3, N, 1.0 / 3);
}

/* ---- addressing ------------------------------------------------------------------------------- */

static void test_address_independent_of_history(void)
{
    double a[10], b[10];
    od_stream s = stream_at(SEED, 9, 123, 456);
    od_stream_normals(&s, a, 10);

    od_stream t;
    od_stream_init(&t, SEED, 9);
    double junk[333];
    od_stream_normals(&t, junk, 333);   /* draw elsewhere first, and leave an odd offset */
    od_stream_u32(&t);
    od_stream_seek(&t, 124, 456);
    od_stream_uniforms(&t, junk, 17);
    od_stream_seek(&t, 123, 456);
    od_stream_normals(&t, b, 10);
    CU_ASSERT(memcmp(a, b, sizeof a) == 0);
}

static void test_address_components_matter(void)
{
    uint32_t base[8], other[8];
    od_stream s = stream_at(SEED, 10, 20, 30);
    for (int i = 0; i < 8; i++) base[i] = od_stream_u32(&s);
    const od_stream variants[] = {
        stream_at(SEED, 10, 21, 30),                    /* path */
        stream_at(SEED, 10, 20, 31),                    /* step */
        stream_at(SEED, 11, 20, 30),                    /* stream id */
        stream_at(SEED ^ 1, 10, 20, 30),                /* seed, low word */
        stream_at(SEED ^ (1ULL << 32), 10, 20, 30),     /* seed, high word */
        stream_at(SEED, 10, 30, 20),                    /* path and step swapped */
    };
    for (size_t v = 0; v < sizeof variants / sizeof *variants; v++) {
        od_stream t = variants[v];
        int same = 0;
        for (int i = 0; i < 8; i++) {
            other[i] = od_stream_u32(&t);
            same += other[i] == base[i];
        }
        /* Each word of an unrelated stream matches with probability 2^-32. */
        CU_ASSERT(same == 0);
    }
}

static void test_seek_discards_buffer(void)
{
    od_stream s = stream_at(SEED, 12, 5, 6);
    uint32_t first = od_stream_u32(&s);   /* leaves three words buffered */
    od_stream_seek(&s, 5, 6);
    CU_ASSERT_EQUAL(od_stream_u32(&s), first);
    od_stream_seek(&s, 5, 7);
    od_stream t = stream_at(SEED, 12, 5, 7);
    CU_ASSERT_EQUAL(od_stream_u32(&s), od_stream_u32(&t));
}

/* Positions (path, step) visited by two threads in a scrambled order, each with its own stream,
 * give the same bits as a serial visit in order. */
static void test_openmp_positions(void)
{
    enum { PATHS = 37, STEPS = 23, POS = PATHS * STEPS, PER = 41 };
    double *serial = malloc(POS * PER * sizeof *serial), *par = malloc(POS * PER * sizeof *par);
    CU_ASSERT_FATAL(serial != NULL && par != NULL);
    for (int q = 0; q < POS; q++) {
        od_stream s = stream_at(SEED, 13, (uint32_t)(q / STEPS), (uint32_t)(q % STEPS));
        double *o = serial + (size_t)q * PER;
        od_stream_normals(&s, o, PER - 3);
        o[PER - 3] = od_stream_uniform(&s);
        o[PER - 2] = od_stream_below(&s, 1000);
        o[PER - 1] = od_stream_normal(&s);
    }
    int threads = 0;
#pragma omp parallel num_threads(2)
    {
#pragma omp single
        threads = omp_get_num_threads();
        od_stream s;
        od_stream_init(&s, SEED, 13);
#pragma omp for schedule(dynamic, 3)
        for (int i = 0; i < POS; i++) {
            int q = (int)((i * 389L + 101) % POS);   /* 389 is prime to POS = 851 = 23 * 37 */
            od_stream_seek(&s, (uint32_t)(q / STEPS), (uint32_t)(q % STEPS));
            double *o = par + (size_t)q * PER;
            od_stream_normals(&s, o, PER - 3);
            o[PER - 3] = od_stream_uniform(&s);
            o[PER - 2] = od_stream_below(&s, 1000);
            o[PER - 1] = od_stream_normal(&s);
        }
    }
    CU_ASSERT(threads >= 2);
    CU_ASSERT(memcmp(serial, par, POS * PER * sizeof *par) == 0);
    free(serial);
    free(par);
}

/* ---- GSL adapter ------------------------------------------------------------------------------ */

static void test_gsl_adapter_draws(void)
{
    od_stream s = stream_at(SEED, 14, 3, 4);
    od_stream_u32(&s);   /* a copy must carry the buffered words too */
    gsl_rng *r = od_stream_gsl_alloc(&s);
    CU_ASSERT_FATAL(r != NULL);
    CU_ASSERT_EQUAL(gsl_rng_max(r), 0xffffffffUL);
    CU_ASSERT_EQUAL(gsl_rng_min(r), 0UL);
    CU_ASSERT_PTR_NOT_NULL(od_gsl_rng_stream(r));
    od_stream t = s;
    for (int i = 0; i < 1000; i++) {
        if (i % 3) {
            CU_ASSERT_EQUAL(gsl_rng_get(r), (unsigned long)od_stream_u32(&t));
        } else {
            CU_ASSERT_EQUAL(gsl_rng_uniform(r), od_stream_uniform(&t));
        }
    }
    /* The adapter holds a copy: s itself has not moved. */
    od_stream u = stream_at(SEED, 14, 3, 4);
    od_stream_u32(&u);
    CU_ASSERT_EQUAL(od_stream_u32(&s), od_stream_u32(&u));

    /* Seeking through the adapter's stream. */
    od_stream_seek(od_gsl_rng_stream(r), 9, 9);
    od_stream v = stream_at(SEED, 14, 9, 9);
    CU_ASSERT_EQUAL(gsl_rng_get(r), (unsigned long)od_stream_u32(&v));

    /* gsl_rng_set keys by (seed, 0) at (0, 0). */
    gsl_rng_set(r, (unsigned long)SEED);
    od_stream w;
    od_stream_init(&w, SEED, 0);
    for (int i = 0; i < 10; i++) CU_ASSERT_EQUAL(gsl_rng_get(r), (unsigned long)od_stream_u32(&w));
    gsl_rng_free(r);

    gsl_rng *mt = gsl_rng_alloc(gsl_rng_mt19937);
    CU_ASSERT_FATAL(mt != NULL);
    CU_ASSERT_PTR_NULL(od_gsl_rng_stream(mt));
    CU_ASSERT_PTR_NULL(od_gsl_rng_stream(NULL));
    gsl_rng_free(mt);

    gsl_rng *g = gsl_rng_alloc(od_gsl_rng_type);   /* the plain GSL way works too */
    CU_ASSERT_FATAL(g != NULL);
    CU_ASSERT_STRING_EQUAL(gsl_rng_name(g), "optdyn-philox4x32-10");
    gsl_rng_free(g);
}

/* A GSL distribution through the adapter: Gamma(a, b) has mean a b, variance a b^2 and excess
 * kurtosis 6 / a, so the sample mean has SE sqrt(a b^2 / n) and the sample variance SE
 * sigma^2 sqrt((2 + 6 / a) / n). */
static void test_gsl_adapter_gamma(void)
{
    const double a = 2.385, b = 1.7;
    enum { N = 1000000 };
    od_stream s = stream_at(SEED, 15, 0, 0);
    gsl_rng *r = od_stream_gsl_alloc(&s);
    CU_ASSERT_FATAL(r != NULL);
    double m = 0, q = 0;
    for (int i = 0; i < N; i++) {   /* Welford */
        double x = gsl_ran_gamma(r, a, b), d = x - m;
        m += d / (i + 1);
        q += d * (x - m);
    }
    gsl_rng_free(r);
    double var = q / (N - 1), s2 = a * b * b;
    OD_ASSERT_CLOSE(m, a * b, NSE * sqrt(s2 / N));
    OD_ASSERT_CLOSE(var, s2, NSE * s2 * sqrt((2 + 6 / a) / N));
}

void od_test_suite_stream(void)
{
    static const od_test_case philox[] = {{"philox known answers", test_philox_kat},
                                           {"counter layout", test_counter_layout},
                                           {"frozen numbers", test_frozen_numbers},
                                           {NULL, NULL}};
    static const od_test_case dists[] = {
        {"uniform edge words", test_uniform_edges},
        {"uniform moments and KS", test_uniform_moments_ks},
        {"normal moments, KS and chi-square", test_normal_moments_ks_chisq},
        {"normal tail beyond r", test_normal_tail},
        {"normals bulk = single", test_normals_bulk_equals_single},
        {"uniforms bulk = single", test_uniforms_bulk_equals_single},
        {"rademacher", test_rademacher},
        {"below: range, chi-square, no modulo bias", test_below},
        {NULL, NULL}};
    static const od_test_case address[] = {
        {"same address, same numbers", test_address_independent_of_history},
        {"every address component matters", test_address_components_matter},
        {"seek discards buffered words", test_seek_discards_buffer},
        {"OpenMP positions = serial", test_openmp_positions},
        {NULL, NULL}};
    static const od_test_case gsl[] = {{"adapter draws and keys", test_gsl_adapter_draws},
                                       {"gamma through the adapter", test_gsl_adapter_gamma},
                                       {NULL, NULL}};
    od_test_add("stream: philox", philox);
    od_test_add("stream: distributions", dists);
    od_test_add("stream: addressing", address);
    od_test_add("stream: gsl adapter", gsl);
}
