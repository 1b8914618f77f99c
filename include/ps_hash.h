/* ps_hash.h: the one 64-bit string hash of the library (FNV-1a shape, with
 * the offset basis 1469598103934665603 it has always used).  Its values are
 * stored: file hashes in the registry and the shard a file is routed to,
 * so it must never change. */
#ifndef PS_HASH_H
#define PS_HASH_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

/* The hash of p[0..n).  Cannot fail. */
uint64_t ps_hash64(const void *p, size_t n);

#ifdef __cplusplus
}
#endif
#endif
