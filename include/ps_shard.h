/* ps_shard.h: a Policy Search database split into shards, searched as one.
 *
 * A sharded database is a directory DIR holding N shards DIR/shard-0 ..
 * DIR/shard-<N-1> (each a complete single database: xapian/, text store,
 * registry) and the stub file DIR/XAPIANDB that names them.  The stub is a
 * Xapian stub database file (xapian-delve DIR opens all shards as one), one
 * line per shard, in shard order:
 *   auto shard-0/xapian        a local shard (relative to the stub's directory)
 *   remote HOST:PORT           a shard served by xapian-tcpsrv ("remote tcp
 *                              HOST PORT" is accepted too, though Xapian 1.4's
 *                              own stub reader knows only HOST:PORT)
 *   #text DIR                  after a remote line: the directory holding a
 *                              replica of that shard's text store (text.dat,
 *                              text.idx, text.id); default shard-<i>
 * Other lines starting with '#' and blank lines are comments.
 *
 * A file belongs to shard ps_shard_route(absolute path, N), so re-indexing or
 * removing it always reaches the same shard; each shard records its place
 * ("ps:shard" = "i/N" in its metadata), checked when the stub is opened (a
 * reordered stub or swapped ports are an error, not silently wrong results).
 *
 * ps_index_open handles all of this (ps_index.h); these functions are what
 * it is built on, and what tools that write or inspect stubs use. */
#ifndef PS_SHARD_H
#define PS_SHARD_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include "ps_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The stub file's name inside a sharded database directory (Xapian's own
 * name for a "stub directory"). */
#define PS_SHARD_STUB "XAPIANDB"

/* The shard (0 .. n-1) of the file whose absolute path is path: FNV-1a 64 of
 * the path's bytes, modulo n.  Stable across runs, machines and versions. */
unsigned ps_shard_route(const char *path, unsigned n);

/* Is path a sharded database: the stub file itself, or a directory with
 * the stub in it?  Writes the stub's path into buf (size n) and returns 1;
 * returns 0 otherwise (a single database, or nothing). */
int ps_shard_stub_path(const char *path, char *buf, size_t n);

/* One shard as the stub names it. */
typedef struct ps_shard_loc {
  char dir[PATH_MAX];  /* its database directory (local), or the replica of
                          its text store (remote) */
  char host[256];      /* remote: host name or address; "" for a local shard */
  unsigned port;       /* remote: TCP port */
} ps_shard_loc;

typedef struct ps_stub {
  size_t n;
  ps_shard_loc *loc;   /* n entries, in shard order; owned */
} ps_stub;

/* Reads the stub file at path.  PS_ERR_NOTFOUND if it cannot be read,
 * PS_ERR_USAGE with "path:line: ..." for a line it does not understand or a
 * stub without shards.  Free with ps_stub_free (accepts NULL and zeroed). */
int ps_stub_read(const char *path, ps_stub *out, ps_error *err);
void ps_stub_free(ps_stub *st);

/* Writes the stub of a new database of n local shards: dir/XAPIANDB naming
 * shard-0/xapian .. shard-<n-1>/xapian (written to a temporary file and
 * renamed, so a reader never sees half of it). */
int ps_stub_write(const char *dir, unsigned n, ps_error *err);

#ifdef __cplusplus
}
#endif
#endif
