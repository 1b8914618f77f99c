/* index_internal.h: what index.c (one database) and shard_index.c (a
 * sharded database, see ps_shard.h) need from each other; private to the
 * library.  Programs use ps_index.h only. */
#ifndef PS_INDEX_INTERNAL_H
#define PS_INDEX_INTERNAL_H

#include "ps_index.h"

typedef struct ps_shards ps_shards;

/* ---- index.c, for shard_index.c ---- */

/* Opens one shard's database at dir, like ps_index_open on a single
 * database; with host, its Xapian tables are the remote database served at
 * host:port (readers only) and dir holds a replica of its text store, which
 * is checked to be that shard's (text.id) and to reach its last commit. */
int ps_index__open_part(const char *dir, const char *host, unsigned port, int mode,
                        ps_index **out, ps_error *err);

/* The place a shard recorded ("ps:shard" = "i/n"); *n is 0 when ix is no shard. */
void ps_index__shard(const ps_index *ix, unsigned *i, unsigned *n);

/* Writers: records that ix is shard i of n (committed with the next commit),
 * or checks that it already is: PS_ERR_CORRUPT when it is another shard,
 * PS_ERR_USAGE when it holds documents but is no shard. */
int ps_index__mark_shard(ps_index *ix, unsigned i, unsigned n, ps_error *err);

/* PS_OK, or PS_ERR_RETRY with a message when a reopen of ix (or of one of
 * its shards) did not finish: searching it now could miss paragraphs. */
int ps_index__check(const ps_index *ix, ps_error *err);

/* ---- shard_index.c, for index.c: the ps_index functions of a sharded
 * database (same contracts as in ps_index.h) ---- */

/* Opens the sharded database at dir (its directory or stub file); a writer
 * given n_shards > 0 creates it when dir holds nothing. */
int ps_shards_open(const char *dir, unsigned n_shards, int mode, ps_shards **out,
                   ps_error *err);
void ps_shards_close(ps_shards *sh);
unsigned ps_shards_count(const ps_shards *sh);

int ps_shards_add_file(ps_shards *sh, const char *path, const ps_ingest_opts *opts,
                       ps_add_result *res, ps_error *err);
int ps_shards_remove(ps_shards *sh, const char *path, size_t *removed, ps_error *err);
size_t ps_shards_pending(const ps_shards *sh);
int ps_shards_commit(ps_shards *sh, ps_error *err);
int ps_shards_optimize(ps_shards *sh, ps_error *err);

ps_xdb *ps_shards_xdb(ps_shards *sh);
int ps_shards_live(const ps_shards *sh, uint32_t docid);
int ps_shards_para(const ps_shards *sh, uint32_t docid, ps_store_rec *out);
const ps_file_info *ps_shards_file_by_no(const ps_shards *sh, uint32_t file_no);
const ps_file_info *ps_shards_files(const ps_shards *sh, size_t *n);
void ps_shards_stats(const ps_shards *sh, ps_index_stats *out);
int ps_shards_reopen(ps_shards *sh, int *changed, ps_error *err);
int ps_shards_check(const ps_shards *sh, ps_error *err);

#endif
