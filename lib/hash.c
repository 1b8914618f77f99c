/* hash.c: the library's string hash (see ps_hash.h). */
#include "ps_hash.h"

uint64_t ps_hash64(const void *p, size_t n) {
  const unsigned char *s = p;
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ULL;
  return h;
}
