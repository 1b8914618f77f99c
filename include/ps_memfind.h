/* ps_memfind.h: the byte-string search under every phrase match (the
 * verification of candidates, snippets).  Same contract as memmem, faster on
 * the long UTF-8 paragraphs verification scans: it compares two bytes of
 * the needle with 32 (AVX2) or 16 (SSE2) positions of the text at a time
 * and checks the whole needle only where both agree; glibc's memmem where
 * neither instruction set exists.  The bytes chosen are the last byte of
 * the needle's first character and its last byte: in CJK text a
 * character's lead byte (E4..E9) is in nearly every position, its last
 * byte one of 64. */
#ifndef PS_MEMFIND_H
#define PS_MEMFIND_H
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif

/* The first occurrence of n[0..nl) in h[0..hl), or NULL (NULL also when nl
 * is 0, unlike memmem).  Reads only h[0..hl) and n[0..nl).  Thread-safe. */
const char *ps_memfind(const char *h, size_t hl, const char *n, size_t nl);

#ifdef __cplusplus
}
#endif
#endif
