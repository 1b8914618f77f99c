/* ps_index.h: a Policy Search database: Xapian postings + the paragraph
 * store + the registry of indexed files, kept consistent with each other.
 *
 * Layout (version PS_INDEX_LAYOUT, recorded in the database with the
 * tokenisation scheme PS_TOK_SCHEME): one Xapian document per paragraph,
 * terms from ps_tok_index_terms without positions, no termlist table, no
 * document data; paragraph text in the flat store (ps_store.h).  Without a
 * termlist Xapian cannot delete documents, so re-indexing a file adds its
 * paragraphs under new ids and records the old id range as superseded
 * ("dead:" metadata); readers skip dead ids; ps_index_optimize rebuilds the
 * database from the live paragraphs to reclaim their space.
 *
 * Metadata keys: "ps:scheme", "ps:layout", "ps:dat_len", "ps:idx_len",
 * "ps:next_file", "ps:t2s" (the traditional->simplified table the database
 * was built with, ps_tok_t2s_export: readers normalise with it, so an OpenCC
 * upgrade cannot change what a query matches, and a process need not build
 * it; a database without it gets the current OpenCC's table when next
 * opened for writing), "file:<absolute path>" (a JSON record per file),
 * "dead:<first id, 10 digits>" (count of superseded ids from there).
 *
 * Filter terms on every paragraph (boolean, no weight; content terms are
 * CJK or lower-case, so upper-case prefixes cannot collide):
 *   Y<year>  each year the document covers      R<region>  its region
 *   T<type>  each document type                  P<name>    each project the
 *                                                           paragraph names
 * Value slot PS_SLOT_DATE holds "YYYYMMDD" (or the first year, "YYYY0000")
 * for sorting by date; PS_SLOT_PROJECTS the 64-bit hashes (ps_hash64,
 * little-endian, 8 bytes each) of the project names the paragraph mentions,
 * in the store's order, so that facets count them without reading the
 * store (only where "ps:project_hashes" is "1": set when the database was
 * created, so that every paragraph has it; an older database gets it when
 * rebuilt, or from an --optimize that rebuilds it, not one that only
 * compacts). */
#ifndef PS_INDEX_H
#define PS_INDEX_H

#include <stddef.h>
#include <stdint.h>
#include "ps_error.h"
#include "ps_ingest.h"
#include "ps_store.h"
#include "ps_xapian.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PS_INDEX_LAYOUT "4"
#define PS_SLOT_DATE 0
#define PS_SLOT_PROJECTS 1

typedef struct ps_index ps_index;

/* One indexed source file. */
typedef struct ps_file_info {
  uint32_t file_no;
  char *path;      /* absolute path: the file's identity */
  char *title;     /* document title, or "" */
  char *title_norm;/* the title normalised (ps_tok_normalize), for matching:
                      made once when the registry is read (NULL in records
                      the caller builds) */
  char *date;      /* "YYYY-MM-DD" or "" */
  char *format;
  char *years;     /* metadata (ps_meta.h): comma-separated years covered */
  char *region, *types, *issuer, *doc_number, *categories, *tags;
  char *sidecar;   /* the NAME.meta.json used, "" if none */
  int64_t sidecar_mtime_ns;
  uint64_t size;
  int64_t mtime_ns;
  uint64_t hash;   /* FNV-1a 64 of the bytes */
  uint32_t first;  /* first paragraph docid */
  uint32_t count;  /* number of paragraphs (their docids: ps_index_file_docid) */
} ps_file_info;

enum { PS_INDEX_READ = 0, PS_INDEX_WRITE = 1 };

/* Returns the default database directory: $POLICY_SEARCH_DB, else
 * $XDG_DATA_HOME/policy-search/db, else $HOME/.local/share/policy-search/db.
 * Writes it into buf (size n) and returns buf. */
char *ps_index_default_path(char *buf, size_t n);

/* Opens (a writer creates) the database in directory dir.  Fails with
 * PS_ERR_SCHEME when it was written with another tokenisation scheme or
 * layout, PS_ERR_LOCKED when another writer has it, PS_ERR_NOTFOUND when a
 * reader finds no database.  Release with ps_index_close (accepts NULL);
 * a writer's uncommitted changes are then discarded.
 *
 * dir may also be a sharded database (ps_shard.h): the directory holding
 * the stub, or the stub file itself.  Its shards then work as one database:
 * a reader searches them all (same hits, totals and order as one database
 * holding every file); a writer sends each file to its shard.  Docids and
 * file numbers interleave: docid d is local docid (d-1)/N+1 of shard
 * (d-1)%N, and so is file number f.  Shards served by xapian-tcpsrv
 * ("remote" lines) can be read, not written (PS_ERR_USAGE). */
int ps_index_open(const char *dir, int mode, ps_index **out, ps_error *err);
void ps_index_close(ps_index *ix);

/* ps_index_open, except that a writer given n_shards > 0 creates a sharded
 * database of n_shards shards in dir (when dir holds nothing yet), or checks
 * that the one there has exactly n_shards (PS_ERR_USAGE for another number
 * or for a single database). */
int ps_index_open_sharded(const char *dir, unsigned n_shards, int mode, ps_index **out,
                          ps_error *err);

/* The number of shards; 0 for a single database. */
unsigned ps_index_shards(const ps_index *ix);

/* ---- writing ---- */

/* PS_ADD_ELSEWHERE: ix is one shard of a sharded database (opened on its own
 * directory, e.g. on the shard's machine) and the file belongs to another
 * shard: nothing was done. */
enum { PS_ADD_INDEXED = 0, PS_ADD_UNCHANGED = 1, PS_ADD_ELSEWHERE = 2 };

typedef struct ps_add_result {
  int status;         /* PS_ADD_INDEXED, PS_ADD_UNCHANGED or PS_ADD_ELSEWHERE */
  size_t paragraphs;  /* paragraphs the file has now */
  int replaced;       /* 1 when an earlier version was superseded */
} ps_add_result;

/* Indexes one file (not committed yet: see ps_index_commit).  An unchanged
 * file (same size and mtime, or same content) is skipped.  Errors that
 * concern only this file (unreadable, binary) leave the database as it was
 * and return PS_ERR_IO / PS_ERR_FORMAT; other errors (Xapian, disk full)
 * mean the uncommitted batch is lost and the caller should stop.  opts may
 * be NULL. */
int ps_index_add_file(ps_index *ix, const char *path, const ps_ingest_opts *opts,
                      ps_add_result *res, ps_error *err);

/* Supersedes every paragraph of the file at path, or of every indexed file
 * under it when it names a directory (path need not exist any more).
 * *removed receives the number of files removed; 0 files is not an error. */
int ps_index_remove(ps_index *ix, const char *path, size_t *removed, ps_error *err);

/* Paragraphs added since the last commit. */
size_t ps_index_pending(const ps_index *ix);

/* Estimated memory (bytes) the writer holds for them until the commit
 * (Xapian's uncommitted postings and the store's buffers): commit when it
 * passes a budget to bound the writer's peak memory.  Paragraphs of a bulk
 * load (ps_index_add_files) do not count: their postings go to temporary
 * databases on disk batch by batch (bounded by ps_index_set_bulk). */
size_t ps_index_pending_bytes(const ps_index *ix);

/* Indexes paths[0..n) in order, like ps_index_add_file on each, with the
 * same result (the same docids, registry and store), but on several
 * threads: two read, parse and build the documents of the next files while
 * this one writes the store and the registry.  On a single database, when
 * the files are big enough (ps_index_set_bulk), the postings do not go
 * into the database itself: the files are cut into groups of consecutive
 * files, and each of the two threads adds its group's documents to its own
 * temporary database (in DIR.bulk beside DIR, docids 1..k); ps_index_commit
 * merges them with the last commit into a new copy of the database (one
 * compact() that renumbers them after it) that it swaps in, as
 * ps_index_compact does; readers see the last commit until then, and
 * closing without a commit discards them.  A sharded database
 * takes the files one by one (ps_index_add_file, each to its shard).
 * After each file, fn (on the calling thread, which may commit) receives
 * its index, the return code, the result and the error; a non-zero return
 * from fn stops the run (the files already handed to fn stay added).
 * Returns PS_OK, PS_ERR_NOMEM / an error starting a thread, or the error
 * of a temporary database (disk full...): the uncommitted changes are then
 * lost, and ps_index_commit refuses to commit. */
typedef int (*ps_index_file_fn)(void *ctx, size_t i, int rc, const ps_add_result *res,
                                const ps_error *err);
int ps_index_add_files(ps_index *ix, char *const *paths, size_t n,
                       const ps_ingest_opts *opts, ps_index_file_fn fn, void *ctx,
                       ps_error *err);

/* Tunes bulk loads (ps_index_add_files on a single database): a thread
 * commits its temporary database every batch_paragraphs paragraphs (0: the
 * default, 2000); memory_bytes (0: no bound but the batch size and the
 * groups' size) bounds, a quarter each, the two threads' uncommitted
 * postings and the prepared text waiting for the writer, and so the size
 * of a group; ps_index_commit merges the temporaries.  Since the
 * merge rewrites the whole database, ps_index_add_files takes that path
 * only when the files' sizes add up to min_bytes (0: the default, 1/50 of
 * the text already indexed and 1 MB at least); smaller updates go into the
 * database directly, as ps_index_add_file does. */
void ps_index_set_bulk(ps_index *ix, size_t batch_paragraphs, size_t memory_bytes,
                       uint64_t min_bytes);

/* Makes everything since the last commit durable and visible at once (on
 * a sharded database: each shard at once, one after the other).  After a
 * bulk load this is the merge (about 1 s per 100 MB of text in the
 * database); the tables are then compacted, and ps_index_compact has
 * nothing to do. */
int ps_index_commit(ps_index *ix, ps_error *err);

/* Rebuilds the database from its live paragraphs into a fresh, compacted
 * one and swaps it in place (superseded paragraphs no longer take space);
 * with nothing superseded, only compacts (ps_index_compact).  The writer
 * must have nothing uncommitted. */
int ps_index_optimize(ps_index *ix, ps_error *err);

/* Compacts the Xapian tables (Xapian::Database::compact, docids kept) into
 * a copy and swaps it in place, keeping the store as it is: about half the
 * size of tables grown by adding, in seconds (about 1 s per 100 MB of
 * text).  Superseded paragraphs stay.  The writer must have nothing
 * uncommitted. */
int ps_index_compact(ps_index *ix, ps_error *err);

/* ---- reading ---- */

/* The Xapian handle, for building searches.  Borrowed: lives as long as ix.
 * On a sharded database: the shards' databases combined (read-only; NULL
 * for a sharded writer). */
ps_xdb *ps_index_xdb(ps_index *ix);

/* Is docid a current (not superseded) paragraph? */
int ps_index_live(const ps_index *ix, uint32_t docid);

/* The stored paragraph of docid (pointers valid until ps_index_close or
 * ps_index_reopen).  PS_ERR_NOTFOUND for ids the store does not have. */
int ps_index_para(const ps_index *ix, uint32_t docid, ps_store_rec *out);

/* What a walk reads of each paragraph: its normalised text (verifying,
 * scoring) or only its project names (facets). */
enum { PS_HINT_TEXT = 2, PS_HINT_PROJECTS = 3 };

/* For a walk over n items (each starting with its uint32_t docid, stride
 * bytes apart) that reads their paragraphs in order: at item i, hints the
 * records the walk reads soon (ps_store_prefetch's stages at 24, 16 and 8
 * items ahead, the last one `part`), so that their memory latency overlaps
 * the work on the current ones (a record read cold is most of the time of
 * verifying it).  Never fails. */
void ps_index_para_hint(const ps_index *ix, const void *items, size_t stride, size_t i,
                        size_t n, int part);

/* The file holding docid, from the files' docid ranges (borrowed; NULL
 * when none does, or on a sharded database: read the record's file_no). */
const ps_file_info *ps_index_file_of(const ps_index *ix, uint32_t docid);

/* The project names of docids[0..n) (ascending) as their hashes (see
 * PS_SLOT_PROJECTS): fn(ctx, docid, hashes, k) for each paragraph that
 * names k > 0 projects, hashes[8 * j ..] the j-th; a non-zero return stops
 * the walk and is returned.  PS_ERR_NOTFOUND when this database cannot
 * tell (sharded, or written before the hashes: read the records), Xapian's
 * errors otherwise. */
typedef int (*ps_index_hashes_fn)(void *ctx, uint32_t docid, const unsigned char *hashes,
                                  size_t k);
int ps_index_project_hashes(const ps_index *ix, const uint32_t *docids, size_t n,
                            ps_index_hashes_fn fn, void *ctx, ps_error *err);

/* The file a paragraph came from (borrowed; NULL if unknown). */
const ps_file_info *ps_index_file_by_no(const ps_index *ix, uint32_t file_no);

/* All indexed files sorted by path (borrowed array of *n entries). */
const ps_file_info *ps_index_files(const ps_index *ix, size_t *n);

/* The docid of paragraph k (0 .. f->count-1) of file f (from this index).
 * f->first + k on a single database; on a sharded one a file's paragraphs
 * are N docids apart. */
uint32_t ps_index_file_docid(const ps_index *ix, const ps_file_info *f, uint32_t k);

/* Totals: live paragraphs, files, highest docid. */
typedef struct ps_index_stats {
  size_t files, paragraphs, superseded;
  uint32_t lastdocid;
  uint64_t text_bytes;
} ps_index_stats;
void ps_index_stats_get(const ps_index *ix, ps_index_stats *out);

/* Readers: moves to the latest commit (new files appear).  *changed may be NULL.
 * If it fails part-way (a remote shard's text replica behind that shard),
 * searches fail with PS_ERR_RETRY until a later reopen succeeds. */
int ps_index_reopen(ps_index *ix, int *changed, ps_error *err);

#ifdef __cplusplus
}
#endif
#endif
