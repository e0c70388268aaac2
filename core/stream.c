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
    for (size_t i = 0; i < n; i++) out[i] = u01(next64(s));
}

/* The slow paths: the base layer's tail beyond r, and the wedges of the other layers. */
static double zig_slow(od_stream *s, uint64_t w)
{
    for (;;) {
        unsigned idx = (unsigned)(w & 0xff);
        uint64_t sign = (w >> 8) & 1;
        uint64_t a = (w >> 9) & 0x000fffffffffffffULL;
        double x = (double)a * zig_w[idx];
        if (a < zig_k[idx]) return sign ? -x : x;
        if (idx == 0) {   /* tail: Marsaglia's exact sampler of x > r */
            double xx, yy;
            do {
                xx = -log(u01_pos(next64(s))) / ZIG_R;
                yy = -log(u01_pos(next64(s)));
            } while (yy + yy < xx * xx);
            return sign ? -(ZIG_R + xx) : ZIG_R + xx;
        }
        if (zig_f[idx] + u01(next64(s)) * (zig_f[idx - 1] - zig_f[idx]) < exp(-0.5 * x * x))
            return sign ? -x : x;
        w = next64(s);
    }
}

static inline double zig_normal(od_stream *s)
{
    uint64_t w = next64(s);
    unsigned idx = (unsigned)(w & 0xff);
    uint64_t a = (w >> 9) & 0x000fffffffffffffULL;
    if (a < zig_k[idx]) {
        double x = (double)a * zig_w[idx];
        return ((w >> 8) & 1) ? -x : x;
    }
    return zig_slow(s, w);
}

double od_stream_normal(od_stream *s) { return zig_normal(s); }

void od_stream_normals(od_stream *s, double *out, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = zig_normal(s);
}

double od_stream_rademacher(od_stream *s) { return (next32(s) & 1u) ? 1.0 : -1.0; }

void od_stream_rademachers(od_stream *s, double *out, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint32_t w = next32(s);
        for (unsigned b = 0; b < 32 && i < n; b++, i++) out[i] = ((w >> b) & 1u) ? 1.0 : -1.0;
    }
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
