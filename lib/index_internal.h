/* index_internal.h: private to the library (programs use ps_index.h only).
 * It holds the steps of adding a file to one database (index.c, run on two
 * threads by index_bulk.c), and what index.c (one database) and
 * shard_index.c (a sharded database, see ps_shard.h) need from each other.
 *
 * Adding a file, in three steps so that the expensive middle one can run on
 * another thread while the writer applies the previous file:
 *   ix_prep_check  on the writer's thread: realpath, the registry record,
 *                  stat; decides "unchanged" (same size and mtime);
 *   ix_prep_run    on any thread, no database access: reads and hashes the
 *                  file ("touched" when the bytes are the same), parses it,
 *                  derives its metadata, normalises every paragraph and
 *                  builds its Xapian document;
 *   ix_prep_apply  on the writer's thread: adds the documents and store
 *                  records, supersedes the old version, writes the registry.
 * Between check and apply the registry may have changed (the same path
 * named twice): ix_prep_current tells, and the caller then starts over. */
#ifndef PS_INDEX_INTERNAL_H
#define PS_INDEX_INTERNAL_H

#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>

#include "ps_index.h"
#include "ps_meta.h"
#include "ps_tok.h"

typedef struct ps_prep {
  /* ix_prep_check */
  const char *path;          /* as given (borrowed), for messages and format */
  char abs[PATH_MAX];        /* absolute: the file's identity */
  int found;                 /* the registry has a record of it ... */
  ps_file_info old;          /* ... this one (owned when found) */
  char sidecar[PATH_MAX];
  int64_t sc_mtime;
  int same_sidecar;
  int unchanged;             /* nothing to do */
  int elsewhere;             /* ix is one shard and the file is another's */
  /* ix_prep_run */
  char *data;
  size_t len;
  struct stat sb;
  uint64_t hash;
  int touched;               /* same bytes: only the mtime is recorded */
  ps_doc *doc;
  ps_meta meta;
  ps_norm *norms;            /* per paragraph */
  ps_xdoc **docs;            /* per paragraph, built */
  size_t *terms;             /* per paragraph: term occurrences */
  char **projects;           /* per paragraph: project names for the store */
  unsigned char **patches;   /* per paragraph, when set (bulk loads, ix_prep_compact):
                              * the text as written encoded for the store */
  size_t *patch_lens;
  size_t n_built;            /* entries of norms/docs to free */
} ps_prep;

int ix_prep_check(ps_index *ix, const char *path, ps_prep *p, ps_error *err);
int ix_prep_run(ps_prep *p, const ps_ingest_opts *opts, ps_error *err);
int ix_prep_apply(ps_index *ix, ps_prep *p, ps_add_result *res, ps_error *err);
/* *current = 1 when the registry record of p's file is still the one
 * ix_prep_check saw. */
int ix_prep_current(ps_index *ix, const ps_prep *p, int *current, ps_error *err);
/* The store record of paragraph i (pointers into p). */
void ix_prep_rec(const ps_prep *p, size_t i, uint32_t file_no, ps_store_rec *rec);
/* Once the documents are built: encodes each paragraph's text for the
 * store (ps_store_patch) and frees what the store no longer needs (the
 * text as written, the offset maps, the file's bytes), so that a prepared
 * file waiting to be written holds about its normalised text only. */
int ix_prep_compact(ps_prep *p, ps_error *err);
/* Releases what p holds (not p); p may be zeroed or partly filled. */
void ix_prep_free(ps_prep *p);

/* ---- bulk loads: index_bulk.c and index.c ----
 *
 * A bulk load (ps_index_add_files on a single database, big enough) does
 * not add paragraphs to the database.  The files are cut into groups of
 * consecutive files (a few MB of input each, by their sizes); one thread
 * takes a group at a time and prepares its files in order, adding their
 * documents to temporary databases of its own under DIR.bulk with local
 * docids 1..k (a "segment": one temporary database, committed inside
 * every ~2,000 paragraphs so that Xapian's inverter stays small while its
 * postlists grow in full chunks).  The writer (ix_prep_apply, on the
 * caller's thread) writes store records and the registry in file order as
 * always, giving the docids the database would have given, and records
 * each segment (ix_temp_record) once all of its files are written: the
 * recorded segments are in docid order.  ps_index_commit calls
 * ix_bulk_flush, which cuts the segment being written at a file boundary
 * (the files its thread added ahead are written then, their results handed
 * to the caller later), and then merges [last commit, segments...] into a
 * new copy of the database with one renumbering compact(): each segment's
 * docids follow the previous one's, the last commit's 1..lastdocid stay
 * (ix_bulk_wanted takes this path only when it has no gaps), and the
 * result is checked to end where the store does.  Few, large segments
 * instead of one per 2,000 paragraphs: compact() copies postlist chunks
 * without joining them, so every temporary database adds a chunk per term
 * (bench/RESULTS.md, "Bulk loads").  The copy is swapped in; readers and a
 * crash see the last commit until then; ps_index_close without a commit
 * removes DIR.bulk. */
typedef struct ix_bulk ix_bulk;

/* index.c.  begin: from now on paragraphs go to b (commits first what was
 * added to the database itself, which the merge would not see). */
int ix_bulk_begin(ps_index *ix, ix_bulk *b, ps_error *err);
/* end: ok 0 when batches were lost (a temporary database failed, or the
 * run stopped on an error that loses the uncommitted changes): the next
 * commit then fails instead of merging what is left. */
void ix_bulk_end(ps_index *ix, int ok);
/* The directory of temporary databases (DIR.bulk, created) into dir (n
 * bytes), and the counter that numbers them (*seq: the last number given;
 * during a run only under the run's lock). */
int ix_temp_dir(ps_index *ix, char *dir, size_t n, unsigned long **seq, ps_error *err);
/* Records the temporary database at path (docids 1..k, none missing) for
 * the next merge, after those recorded before. */
int ix_temp_record(ps_index *ix, const char *path, ps_error *err);
/* Whether files of input_bytes in all are worth a bulk load (see
 * ps_index_set_bulk) and the database allows one (docids without gaps);
 * always when one is waiting for its merge. */
int ix_bulk_wanted(ps_index *ix, uint64_t input_bytes);
/* What ps_index_set_bulk set (0: defaults). */
void ix_bulk_params(const ps_index *ix, size_t *paras, size_t *memory);

/* index_bulk.c, on the writer's thread.  add: paragraph docid was written
 * to the store; doc is NULL when a group's thread already added it to its
 * segment (only counted), else (a file the writer prepared itself: a path
 * named twice) taken over (freed also on failure) and added to the
 * writer's own segment; terms is its number of term occurrences (memory
 * estimate).  flush: makes every paragraph written so far part of a
 * recorded segment (see above); an error of a temporary database is
 * returned by either. */
int ix_bulk_add(ix_bulk *b, uint32_t docid, ps_xdoc *doc, size_t terms, ps_error *err);
int ix_bulk_flush(ix_bulk *b, ps_error *err);

/* Sorts files[0..n) by path and fills by_no (n entries) with their indices
 * sorted by file_no, for ps_index_files and ix_file_by_no. */
void ix_sort_files(ps_file_info *files, size_t n, uint32_t *by_no);

/* The file numbered file_no among files[0..n), by_no their indices sorted
 * by file_no (NULL if none). */
const ps_file_info *ix_file_by_no(const ps_file_info *files, const uint32_t *by_no, size_t n,
                                  uint32_t file_no);

/* ---- shards ---- */

typedef struct ps_shards ps_shards;

/* The shards of a sharded database (several shards opened as one; owned by
 * ix), else NULL. */
ps_shards *ps_index__shards(ps_index *ix);

/* ps_store_prefetch of docid's record (stage as there), in its shard's
 * store when ix is sharded. */
void ps_index__prefetch(const ps_index *ix, uint32_t docid, int stage);

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
/* Shard i (i < ps_shards_count), owned by sh. */
ps_index *ps_shards_part(ps_shards *sh, unsigned i);

int ps_shards_add_file(ps_shards *sh, const char *path, const ps_ingest_opts *opts,
                       ps_add_result *res, ps_error *err);
int ps_shards_add_files(ps_shards *sh, char *const *paths, size_t n,
                        const ps_ingest_opts *opts, ps_index_file_fn fn, void *ctx,
                        ps_error *err);
void ps_shards_set_bulk(ps_shards *sh, size_t batch_paragraphs, size_t memory_bytes,
                        uint64_t min_bytes);
int ps_shards_remove(ps_shards *sh, const char *path, size_t *removed, ps_error *err);
size_t ps_shards_pending(const ps_shards *sh);
size_t ps_shards_pending_bytes(const ps_shards *sh);
int ps_shards_commit(ps_shards *sh, ps_error *err);
int ps_shards_optimize(ps_shards *sh, ps_error *err);

ps_xdb *ps_shards_xdb(ps_shards *sh);
int ps_shards_live(const ps_shards *sh, uint32_t docid);
int ps_shards_para(const ps_shards *sh, uint32_t docid, ps_store_rec *out);
void ps_shards_prefetch(const ps_shards *sh, uint32_t docid, int stage);
const ps_file_info *ps_shards_file_by_no(const ps_shards *sh, uint32_t file_no);
const ps_file_info *ps_shards_files(const ps_shards *sh, size_t *n);
void ps_shards_stats(const ps_shards *sh, ps_index_stats *out);
int ps_shards_reopen(ps_shards *sh, int *changed, ps_error *err);
int ps_shards_check(const ps_shards *sh, ps_error *err);

#endif
