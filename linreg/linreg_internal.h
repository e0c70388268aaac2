/* optdyn linreg — private helpers shared by the module's files (not installed, not public). */
#ifndef OD_LINREG_INTERNAL_H
#define OD_LINREG_INTERNAL_H

#include "linreg/optdyn_linreg.h"

/* Initializes v from the table and applies the comma-separated "k=v" list `rest`; errors name
 * `where` (the whole spec string).  On error v is freed. */
int od_linreg_spec_params(const char *where, const od_param *tab, size_t n, const char *rest,
                          od_params *v);

/* Step decay's phase length K = floor((N - S) / ln(N - S)), at least 1 (1 when N - S <= 2). */
uint64_t od_linreg_stepdecay_K(uint64_t N, uint64_t S);

/* Checks the model's sizes and values (one line naming the field). */
int od_linreg_model_check(const od_linreg_model *m);

/* Fixed-order summation in 8 stripes: acc[k & 7] += ...; od_linreg_sum8 adds the stripes pairwise.
 * Every loop that sums over modes uses this order, so a vectorized and a scalar loop give the same
 * bits. */
static inline double od_linreg_sum8(const double acc[8])
{
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* Function multi-versioning for the hot loops: the same source compiled for AVX-512, AVX2 and the
 * baseline, chosen at load time.  Strict C11 disables FMA contraction, and the loops keep their
 * 8-stripe summation order, so every version gives the same bits. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(__SANITIZE_ADDRESS__)
#define OD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#define OD_HAVE_CLONES 1
#else
#define OD_CLONES
#endif

/* SGD's last-iterate loop of the exact engine: on != 0 recomputes the per-mode coefficient in the
 * pass (fewer bytes, more multiplies), 0 reads it from a cache.  Both give the same bits; the
 * default is the recomputing loop on CPUs with AVX-512.  For tests and the benchmark. */
void od_linreg_exact_set_inline(od_linreg_exact *w, int on);
int od_linreg_exact_inline(const od_linreg_exact *w);

#endif
