/* memfind.c: memmem with a SIMD filter (see ps_memfind.h).  The filter is
 * Wojciech Mula's "generic SIMD" substring search: for each of W positions
 * p, compare h[p + a] with n[a] and h[p + b] with n[b] in two vector
 * compares, and memcmp only the positions where both match. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "ps_memfind.h"

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

/* The filter over every position p with p + b + W <= hl; returns the match
 * or NULL and sets *done to the first position it did not examine. */
#define FILTER_LOOP(W, LOAD, SET1, CMPEQ, AND, MOVEMASK)                        \
  do {                                                                          \
    const __typeof__(SET1(0)) va = SET1((char)n[a]), vb = SET1((char)n[b]);     \
    size_t i = 0;                                                               \
    for (; i + b + (W) <= hl; i += (W)) {                                       \
      uint32_t m = (uint32_t)MOVEMASK(AND(CMPEQ(LOAD(h + i + a), va),           \
                                          CMPEQ(LOAD(h + i + b), vb)));         \
      for (; m; m &= m - 1) {                                                   \
        size_t p = i + (size_t)__builtin_ctz(m);                                \
        if (memcmp(h + p, n, nl) == 0) return h + p;                            \
      }                                                                         \
    }                                                                           \
    *done = i;                                                                  \
    return NULL;                                                                \
  } while (0)

#define LOAD256(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define LOAD128(p) _mm_loadu_si128((const __m128i *)(const void *)(p))

__attribute__((target("avx2"))) static const char *filter_avx2(const char *h, size_t hl,
                                                               const char *n, size_t nl,
                                                               size_t a, size_t b,
                                                               size_t *done) {
  FILTER_LOOP(32, LOAD256, _mm256_set1_epi8, _mm256_cmpeq_epi8, _mm256_and_si256,
              _mm256_movemask_epi8);
}

static const char *filter_sse2(const char *h, size_t hl, const char *n, size_t nl, size_t a,
                               size_t b, size_t *done) {
  FILTER_LOOP(16, LOAD128, _mm_set1_epi8, _mm_cmpeq_epi8, _mm_and_si128, _mm_movemask_epi8);
}

static int has_avx2(void) {
  static int known = -1; /* (a benign race: every thread computes the same) */
  int v = __atomic_load_n(&known, __ATOMIC_RELAXED);
  if (v < 0) {
    __builtin_cpu_init();
    v = __builtin_cpu_supports("avx2") ? 1 : 0;
    __atomic_store_n(&known, v, __ATOMIC_RELAXED);
  }
  return v;
}
#endif

const char *ps_memfind(const char *h, size_t hl, const char *n, size_t nl) {
  if (nl == 0 || hl < nl) return NULL;
  if (nl == 1) return memchr(h, (unsigned char)n[0], hl);
  size_t done = 0;
#if defined(__x86_64__)
  /* a: the last byte of the first character (0 when that is the whole
   * needle); b: the last byte */
  const unsigned char *u = (const unsigned char *)n;
  size_t a = 0, b = nl - 1;
  if (u[0] >= 0xC0)
    while (a + 1 < nl && (u[a + 1] & 0xC0) == 0x80) a++;
  if (a == b) a = 0;
  const char *r = has_avx2() ? filter_avx2(h, hl, n, nl, a, b, &done)
                             : filter_sse2(h, hl, n, nl, a, b, &done);
  if (r) return r;
#endif
  return memmem(h + done, hl - done, n, nl);
}
