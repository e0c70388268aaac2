/* optdyn core — addressed random streams on Philox4x32-10 (see stream.h).
 *
 * Normals: the ziggurat of Marsaglia & Tsang, "The Ziggurat Method for Generating Random
 * Variables", J. Stat. Softw. 5(8), 2000, with 256 layers and 64-bit words: 8 bits choose the
 * layer, 1 bit the sign and 52 bits the abscissa (the layout Doornik, "An Improved Ziggurat Method
 * to Generate Normal Random Samples", 2005, recommends to avoid the correlation between layer and
 * abscissa of the original 32-bit version).  The tables are built once from r, the right edge of the
 * base layer, and the exact common area v = r f(r) + sqrt(pi/2) erfc(r/sqrt 2).
 */
#include "core/stream.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

#include <Random123/philox.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* ---- Philox ----------------------------------------------------------------------------------- */

void od_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    philox4x32_ctr_t c = {{ctr[0], ctr[1], ctr[2], ctr[3]}};
    philox4x32_key_t k = {{key[0], key[1]}};
    philox4x32_ctr_t r = philox4x32_R(10, c, k);
    memcpy(out, r.v, sizeof r.v);
}

static inline void refill(od_stream *s)
{
    philox4x32_ctr_t c = {{s->ctr[0], s->ctr[1], s->ctr[2], s->ctr[3]}};
    philox4x32_key_t k = {{s->key[0], s->key[1]}};
    philox4x32_ctr_t r = philox4x32_R(10, c, k);
    memcpy(s->buf, r.v, sizeof r.v);
    s->ctr[0]++;
    s->avail = 4;
}

static inline uint32_t next32(od_stream *s)
{
    if (s->avail == 0) refill(s);
    return s->buf[4 - s->avail--];
}

static inline uint64_t next64(od_stream *s)
{
    if (s->avail >= 2) {
        unsigned i = 4 - s->avail;
        s->avail -= 2;
        return (uint64_t)s->buf[i] | ((uint64_t)s->buf[i + 1] << 32);
    }
    uint64_t lo = next32(s);
    return lo | ((uint64_t)next32(s) << 32);
}

/* ---- batched Philox for the bulk functions ---------------------------------------------------
 * philox_batch computes the OD_BATCH consecutive blocks ctr[0], ctr[0] + 1, ... (mod 2^32) of one
 * position at once.  The scalar code is bound by its 20 multiplications 32x32->64 per block; on
 * x86-64 the rounds run on four blocks per SSE2 vector (pmuludq does two multiplications per
 * instruction) and four independent vectors at a time, about twice the scalar speed.  The result is
 * bitwise the same as OD_BATCH calls of Random123's philox4x32_R(10, ...): the round function is
 * the one of Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC'11.
 * Without SSE2 it is that loop of Random123 calls. */

#define OD_BATCH 16

#if defined(__SSE2__)
/* hi and lo 32-bit halves of x[i] * m for the four lanes of x. */
static inline void mulhilo_x4(__m128i x, __m128i m, __m128i *hi, __m128i *lo)
{
    __m128 p01 = _mm_castsi128_ps(_mm_mul_epu32(_mm_unpacklo_epi32(x, x), m));   /* x0 m, x1 m */
    __m128 p23 = _mm_castsi128_ps(_mm_mul_epu32(_mm_unpackhi_epi32(x, x), m));   /* x2 m, x3 m */
    *lo = _mm_castps_si128(_mm_shuffle_ps(p01, p23, 0x88));
    *hi = _mm_castps_si128(_mm_shuffle_ps(p01, p23, 0xdd));
}

static void philox_batch(const uint32_t key[2], const uint32_t ctr[4], uint32_t out[4 * OD_BATCH])
{
    enum { NV = OD_BATCH / 4 };
    const __m128i m0 = _mm_set1_epi32((int)PHILOX_M4x32_0), m1 = _mm_set1_epi32((int)PHILOX_M4x32_1);
    __m128i x0[NV], x1[NV], x2[NV], x3[NV];
    for (int v = 0; v < NV; v++) {   /* lane j of vector v is block ctr[0] + 4 v + j */
        x0[v] = _mm_add_epi32(_mm_set1_epi32((int)(ctr[0] + 4u * (unsigned)v)), _mm_set_epi32(3, 2, 1, 0));
        x1[v] = _mm_set1_epi32((int)ctr[1]);
        x2[v] = _mm_set1_epi32((int)ctr[2]);
        x3[v] = _mm_set1_epi32((int)ctr[3]);
    }
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        const __m128i kk0 = _mm_set1_epi32((int)k0), kk1 = _mm_set1_epi32((int)k1);
        for (int v = 0; v < NV; v++) {
            __m128i hi0, lo0, hi1, lo1;
            mulhilo_x4(x0[v], m0, &hi0, &lo0);
            mulhilo_x4(x2[v], m1, &hi1, &lo1);
            x0[v] = _mm_xor_si128(_mm_xor_si128(hi1, x1[v]), kk0);
            x1[v] = lo1;
            x2[v] = _mm_xor_si128(_mm_xor_si128(hi0, x3[v]), kk1);
            x3[v] = lo0;
        }
        k0 += PHILOX_W32_0;
        k1 += PHILOX_W32_1;
    }
    for (int v = 0; v < NV; v++) {   /* transpose back to block-major order */
        __m128i t0 = _mm_unpacklo_epi32(x0[v], x1[v]), t1 = _mm_unpacklo_epi32(x2[v], x3[v]);
        __m128i t2 = _mm_unpackhi_epi32(x0[v], x1[v]), t3 = _mm_unpackhi_epi32(x2[v], x3[v]);
        uint32_t *o = out + 16 * v;
        _mm_storeu_si128((__m128i *)o, _mm_unpacklo_epi64(t0, t1));
        _mm_storeu_si128((__m128i *)(o + 4), _mm_unpackhi_epi64(t0, t1));
        _mm_storeu_si128((__m128i *)(o + 8), _mm_unpacklo_epi64(t2, t3));
        _mm_storeu_si128((__m128i *)(o + 12), _mm_unpackhi_epi64(t2, t3));
    }
}
#else
static void philox_batch(const uint32_t key[2], const uint32_t ctr[4], uint32_t out[4 * OD_BATCH])
{
    philox4x32_key_t k = {{key[0], key[1]}};
    for (uint32_t j = 0; j < OD_BATCH; j++) {
        philox4x32_ctr_t c = {{ctr[0] + j, ctr[1], ctr[2], ctr[3]}};
        philox4x32_ctr_t r = philox4x32_R(10, c, k);
        memcpy(out + 4 * j, r.v, sizeof r.v);
    }
}
#endif

/* A word reader for the bulk functions: it takes over a stream, hands out the same words in the
 * same order as next32/next64 would, but fills its buffer OD_BATCH blocks at a time, and on close
 * leaves the stream exactly where the serial draws would have left it.
 * Invariant: w[0 .. len) holds whole consecutive blocks, the last one being block s->ctr[0] - 1;
 * pos is the next unread word.  `left` is the caller's estimate of the 64-bit words it still needs:
 * from half a batch (OD_BATCH words) up, a whole batch is generated; below that only the
 * ceil(left / 2) blocks needed (plus one), block by block, so short fills waste no Philox work. */
typedef struct {
    od_stream *s;
    size_t left;
    unsigned pos, len;
    uint32_t w[4 + 4 * OD_BATCH];
} wide;

static void wide_open(wide *b, od_stream *s)
{
    b->s = s;
    b->left = 0;
    b->pos = b->len = 0;
    if (s->avail) {   /* the stream's current block is block ctr[0] - 1 */
        memcpy(b->w, s->buf, sizeof s->buf);
        b->len = 4;
        b->pos = 4 - s->avail;
    }
}

static void wide_refill(wide *b)   /* called with fewer than 2 unread words */
{
    od_stream *s = b->s;
    unsigned keep = 0;
    if (b->pos < b->len) {   /* keep the block that holds the last unread word */
        memmove(b->w, b->w + b->len - 4, 4 * sizeof *b->w);
        keep = 4;
        b->pos = 4 - (b->len - b->pos);
    } else {
        b->pos = 0;
    }
    if (b->left >= OD_BATCH) {   /* at least half a batch will be used */
        philox_batch(s->key, s->ctr, b->w + keep);
        s->ctr[0] += OD_BATCH;
        b->len = keep + 4 * OD_BATCH;
    } else {
        size_t nb = b->left / 2 + 1;
        b->len = keep;
        for (size_t j = 0; j < nb && j < OD_BATCH; j++) {
            refill(s);
            memcpy(b->w + b->len, s->buf, sizeof s->buf);
            b->len += 4;
        }
    }
}

static inline uint64_t wide_next64(wide *b)
{
    if (b->len - b->pos < 2) wide_refill(b);
    uint64_t lo = b->w[b->pos], hi = b->w[b->pos + 1];
    b->pos += 2;
    return lo | (hi << 32);
}

static inline uint32_t wide_next32(wide *b)
{
    if (b->pos == b->len) wide_refill(b);
    return b->w[b->pos++];
}

static void wide_close(wide *b)
{
    od_stream *s = b->s;
    unsigned rem = b->len - b->pos, full = rem / 4, part = rem % 4;
    s->ctr[0] -= full;   /* blocks generated but not touched are given back */
    if (part) memcpy(s->buf, b->w + b->len - 4 * (full + 1), sizeof s->buf);
    s->avail = part;
}

/* ---- ziggurat tables -------------------------------------------------------------------------- */

#define ZIG_R 3.6541528853610087963519472518    /* right edge of the base layer, 256 layers */
#define ZIG_M 4503599627370496.0                /* 2^52: range of the abscissa bits */

static uint64_t zig_k[256];   /* fast-path thresholds on the 52-bit abscissa */
static double zig_w[256];     /* abscissa scale per layer */
static double zig_f[256];     /* f(x_i) = exp(-x_i^2 / 2) at the layer edges */
static pthread_once_t zig_once = PTHREAD_ONCE_INIT;

static void zig_build(void)
{
    const double f_r = exp(-0.5 * ZIG_R * ZIG_R);
    const double v = ZIG_R * f_r + sqrt(M_PI / 2) * erfc(ZIG_R / M_SQRT2);   /* common layer area */
    const double q = v / f_r;                                                /* base pseudo-width */
    double dn = ZIG_R, tn = ZIG_R;
    zig_k[0] = (uint64_t)((dn / q) * ZIG_M);
    zig_k[1] = 0;
    zig_w[0] = q / ZIG_M;
    zig_w[255] = dn / ZIG_M;
    zig_f[0] = 1.0;
    zig_f[255] = f_r;
    for (int i = 254; i >= 1; i--) {
        dn = sqrt(-2.0 * log(v / dn + exp(-0.5 * dn * dn)));
        zig_k[i + 1] = (uint64_t)((dn / tn) * ZIG_M);
        tn = dn;
        zig_f[i] = exp(-0.5 * dn * dn);
        zig_w[i] = dn / ZIG_M;
    }
}

/* ---- public API ------------------------------------------------------------------------------- */

void od_stream_init(od_stream *s, uint64_t seed, uint32_t stream_id)
{
    pthread_once(&zig_once, zig_build);
    s->key[0] = (uint32_t)seed;
    s->key[1] = (uint32_t)(seed >> 32);
    s->ctr[0] = 0;
    s->ctr[1] = 0;
    s->ctr[2] = 0;
    s->ctr[3] = stream_id;
    s->avail = 0;
}

void od_stream_seek(od_stream *s, uint32_t path, uint32_t step)
{
    s->ctr[0] = 0;
    s->ctr[1] = step;
    s->ctr[2] = path;
    s->avail = 0;
}

uint32_t od_stream_u32(od_stream *s) { return next32(s); }
uint64_t od_stream_u64(od_stream *s) { return next64(s); }

static inline double u01(uint64_t w) { return (double)(w >> 11) * 0x1.0p-53; }

/* The midpoint (k + 1/2) 2^-53 of the k-th cell, k = w >> 11.  For k >= 2^52 the midpoint needs 54
 * significant bits and rounds to even; for the top cell, k = 2^53 - 1, that is 1.0, which would
 * break the open interval, so that one cell returns 1 - 2^-53, the largest double below 1. */
static inline double u01_pos(uint64_t w)
{
    double u = ((double)(w >> 11) + 0.5) * 0x1.0p-53;
    return u < 1.0 ? u : 0x1.fffffffffffffp-1;
}

double od_stream_uniform(od_stream *s) { return u01(next64(s)); }
double od_stream_uniform_pos(od_stream *s) { return u01_pos(next64(s)); }

void od_stream_uniforms(od_stream *s, double *out, size_t n)
{
    if (n < OD_BATCH) {
        for (size_t i = 0; i < n; i++) out[i] = u01(next64(s));
        return;
    }
    wide b;
    wide_open(&b, s);
    size_t i = 0;
    while (i < n) {
        b.left = n - i;
        if (b.len - b.pos < 2) wide_refill(&b);
        size_t m = (b.len - b.pos) / 2;
        if (m > n - i) m = n - i;
        const uint32_t *w = b.w + b.pos;
        for (size_t k = 0; k < m; k++) out[i + k] = u01(w[2 * k] | ((uint64_t)w[2 * k + 1] << 32));
        b.pos += 2 * (unsigned)m;
        i += m;
    }
    wide_close(&b);
}

/* x with its sign flipped when bit 8 of w is set: the same bits as (w >> 8 & 1) ? -x : x, without a
 * branch on a coin flip (which the processor mispredicts half of the time). */
static inline double zig_sign(double x, uint64_t w)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    bits ^= (w & 0x100u) << 55;
    memcpy(&x, &bits, sizeof x);
    return x;
}

/* The ziggurat draws its extra words through a word source, so that the single-call path (the
 * stream itself) and the bulk path (a wide reader over it) share one implementation. */
typedef uint64_t word_fn(void *src);
static uint64_t stream_word(void *src) { return next64(src); }
static uint64_t wide_word(void *src) { return wide_next64(src); }

/* The slow paths: the base layer's tail beyond r, and the wedges of the other layers. */
static double zig_slow(uint64_t w, word_fn *next, void *src)
{
    for (;;) {
        unsigned idx = (unsigned)(w & 0xff);
        uint64_t a = (w >> 9) & 0x000fffffffffffffULL;
        double x = (double)a * zig_w[idx];
        if (a < zig_k[idx]) return zig_sign(x, w);
        if (idx == 0) {   /* tail: Marsaglia's exact sampler of x > r */
            double xx, yy;
            do {
                xx = -log(u01_pos(next(src))) / ZIG_R;
                yy = -log(u01_pos(next(src)));
            } while (yy + yy < xx * xx);
            return zig_sign(ZIG_R + xx, w);
        }
        if (zig_f[idx] + u01(next(src)) * (zig_f[idx - 1] - zig_f[idx]) < exp(-0.5 * x * x))
            return zig_sign(x, w);
        w = next(src);
    }
}

/* The fast path (about 99% of draws): one 64-bit word, a table look-up and a multiplication. */
static inline double zig_fast(uint64_t w, word_fn *next, void *src)
{
    unsigned idx = (unsigned)(w & 0xff);
    uint64_t a = (w >> 9) & 0x000fffffffffffffULL;
    if (a < zig_k[idx]) return zig_sign((double)a * zig_w[idx], w);
    return zig_slow(w, next, src);
}

double od_stream_normal(od_stream *s) { return zig_fast(next64(s), stream_word, s); }

void od_stream_normals(od_stream *s, double *out, size_t n)
{
    if (n < OD_BATCH) {
        for (size_t i = 0; i < n; i++) out[i] = zig_fast(next64(s), stream_word, s);
        return;
    }
    /* The reader's position lives in a local variable between slow paths, so that the fast path
     * does not go through memory on every normal. */
    wide b;
    wide_open(&b, s);
    size_t i = 0;
    while (i < n) {
        b.left = n - i;
        if (b.len - b.pos < 2) wide_refill(&b);
        unsigned pos = b.pos;
        while (pos + 1 < b.len && i < n) {
            uint64_t w = b.w[pos] | ((uint64_t)b.w[pos + 1] << 32);
            pos += 2;
            unsigned idx = (unsigned)(w & 0xff);
            uint64_t a = (w >> 9) & 0x000fffffffffffffULL;
            if (a < zig_k[idx]) {
                out[i++] = zig_sign((double)a * zig_w[idx], w);
            } else {
                b.pos = pos;
                b.left = n - i;
                out[i++] = zig_slow(w, wide_word, &b);
                pos = b.pos;
            }
        }
        b.pos = pos;
    }
    wide_close(&b);
}

/* +1.0 for bit 1, -1.0 for bit 0, computed rather than branched on. */
static inline double sign_of_bit(uint32_t bit) { return (double)((int)bit * 2 - 1); }

double od_stream_rademacher(od_stream *s) { return sign_of_bit(next32(s) & 1u); }

void od_stream_rademachers(od_stream *s, double *out, size_t n)
{
    wide b;
    wide_open(&b, s);
    size_t i = 0;
    while (i < n) {
        b.left = (n - i + 63) / 64;
        uint32_t w = wide_next32(&b);
        for (unsigned k = 0; k < 32 && i < n; k++, i++) out[i] = sign_of_bit((w >> k) & 1u);
    }
    wide_close(&b);
}

uint32_t od_stream_below(od_stream *s, uint32_t n)
{
    /* Lemire, "Fast Random Integer Generation in an Interval", ACM TOMACS 29(1), 2019. */
    uint64_t m = (uint64_t)next32(s) * n;
    uint32_t l = (uint32_t)m;
    if (l < n) {
        uint32_t t = (uint32_t)(-n) % n;
        while (l < t) {
            m = (uint64_t)next32(s) * n;
            l = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

/* ---- GSL adapter ------------------------------------------------------------------------------ */

static void gsl_set(void *state, unsigned long seed) { od_stream_init(state, seed, 0); }
static unsigned long gsl_get(void *state) { return next32(state); }
static double gsl_get_double(void *state) { return u01(next64(state)); }

static const gsl_rng_type od_gsl_type = {
    "optdyn-philox4x32-10", 0xffffffffUL, 0, sizeof(od_stream), gsl_set, gsl_get, gsl_get_double};

const gsl_rng_type *const od_gsl_rng_type = &od_gsl_type;

gsl_rng *od_stream_gsl_alloc(const od_stream *s)
{
    gsl_rng *r = gsl_rng_alloc(od_gsl_rng_type);
    if (r) memcpy(r->state, s, sizeof *s);
    return r;
}

od_stream *od_gsl_rng_stream(gsl_rng *r)
{
    return (r && r->type == od_gsl_rng_type) ? (od_stream *)r->state : NULL;
}
