/* optdyn core — addressed random streams on Philox4x32-10 (Random123).
 *
 * Randomness is addressed, not drawn (DESIGN.md, idea 4).  A stream is keyed by (seed, stream id)
 * and positioned by (path, step); inside one position it yields an arbitrary sequence of draws.
 * The Philox counter is the 128-bit word
 *
 *      ctr = { draw block, step, path, stream id },   key = { seed low 32 bits, seed high 32 bits }
 *
 * so the numbers drawn at (seed, stream, path, step) do not depend on which thread, rank or order
 * visits them.  One block gives four 32-bit words; a position can hold 2^32 blocks (2^34 words).
 *
 * Conventions for callers: give every independent source of randomness in an experiment its own
 * stream id (data, label noise, minibatch indices, Brownian increments, ...), index Monte Carlo
 * paths by `path` and time steps by `step`, and call od_stream_seek before drawing at a new
 * (path, step).  Stream ids below 0x10000 are free for callers; higher ids are reserved.
 */
#ifndef OD_STREAM_H
#define OD_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

typedef struct {
    uint32_t key[2];   /* seed */
    uint32_t ctr[4];   /* {block, step, path, stream} of the next block to generate */
    uint32_t buf[4];   /* current block of output */
    unsigned avail;    /* words of buf not yet consumed (taken from the front) */
} od_stream;

/* Keys the stream by (seed, stream id) and positions it at path 0, step 0. */
void od_stream_init(od_stream *s, uint64_t seed, uint32_t stream_id);

/* Positions the stream at (path, step) and discards buffered output: the next draw is the first
 * word of that position.  Cost O(1). */
void od_stream_seek(od_stream *s, uint32_t path, uint32_t step);

/* Next raw 32-bit / 64-bit word (a 64-bit word is two consecutive 32-bit words, low word first). */
uint32_t od_stream_u32(od_stream *s);
uint64_t od_stream_u64(od_stream *s);

/* Uniform double in [0, 1) with 53 random bits: (u64 >> 11) * 2^-53. */
double od_stream_uniform(od_stream *s);

/* Uniform double in the open interval (0, 1): ((u64 >> 11) + 0.5) * 2^-53 rounded to double (in
 * [1/2, 1) the midpoints round to even), except that the top cell, which would round to 1.0, gives
 * 1 - 2^-53.  Never 0 or 1: safe under log() and log1p(-u). */
double od_stream_uniform_pos(od_stream *s);

/* Standard normal by the 256-layer ziggurat of Marsaglia & Tsang (J. Stat. Softw. 5(8), 2000) on
 * 64-bit words (8 bits pick the layer, 1 the sign, 52 the abscissa), with Marsaglia's exact tail
 * sampler.  About one 64-bit word per normal on average. */
double od_stream_normal(od_stream *s);

/* Fills out[0..n) with standard normals: the same numbers as n calls of od_stream_normal, and leaves
 * the stream where those calls would.  For n >= 16 it generates 16 Philox blocks at a time (SIMD on
 * x86-64): about twice as fast per normal as single calls (bench/README.md). */
void od_stream_normals(od_stream *s, double *out, size_t n);

/* Fills out[0..n) with uniform doubles in [0, 1): the same numbers as n calls of od_stream_uniform,
 * and leaves the stream where those calls would. */
void od_stream_uniforms(od_stream *s, double *out, size_t n);

/* Rademacher sign, +1.0 or -1.0 with probability 1/2 each (one 32-bit word per sign). */
double od_stream_rademacher(od_stream *s);

/* Fills out[0..n) with Rademacher signs, 32 signs per 32-bit word: sign 32 j + k is +1 when bit k of
 * the j-th word is set, -1 otherwise; the unused bits of the last word are dropped.  Consumes
 * ceil(n / 32) words (not the same numbers as n calls of od_stream_rademacher). */
void od_stream_rademachers(od_stream *s, double *out, size_t n);

/* Uniform integer in [0, n) without modulo bias (Lemire's multiply-and-reject method on 32-bit
 * words), n >= 1.  For minibatch indices. */
uint32_t od_stream_below(od_stream *s, uint32_t n);

/* The raw Philox4x32-10 bijection (for known-answer tests): out = Philox(ctr, key). */
void od_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* ---- GSL adapter ------------------------------------------------------------------------------
 * od_gsl_rng_type is a gsl_rng_type whose state is an od_stream, so any GSL distribution
 * (gsl_ran_gamma, gsl_ran_levy, ...) can draw from an addressed stream.  gsl_rng_set(r, seed) keys
 * the stream by (seed, 0) at (0, 0); use od_gsl_rng_stream() to re-key or seek it.  gsl_rng_get
 * returns a 32-bit word (max 0xffffffff), gsl_rng_uniform a 53-bit uniform in [0, 1). */
extern const gsl_rng_type *const od_gsl_rng_type;

/* Allocates a gsl_rng of od_gsl_rng_type holding a copy of *s (same key and position).  Free with
 * gsl_rng_free.  Returns NULL on allocation failure. */
gsl_rng *od_stream_gsl_alloc(const od_stream *s);

/* The od_stream inside a gsl_rng of od_gsl_rng_type (NULL for any other type). */
od_stream *od_gsl_rng_stream(gsl_rng *r);

#endif /* OD_STREAM_H */
