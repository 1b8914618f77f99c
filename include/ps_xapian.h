/* ps_xapian.h: the C face of Xapian, the only place where C++ is spoken.
 *
 * A small extern "C" API over Xapian 1.4: databases, documents, metadata,
 * queries, enquire.  It knows nothing of Chinese, paragraphs or JSON.  No
 * exception crosses it: every entry point catches Xapian::Error,
 * std::exception and anything else, and turns it into a status code from
 * ps_error.h plus a message kept in the handle (ps_xdb_errmsg), never in a
 * global, so separate handles may be used from separate threads (one handle
 * must not be shared between threads without a lock). */
#ifndef PS_XAPIAN_H
#define PS_XAPIAN_H

#include <stddef.h>
#include "ps_error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ps_xdb ps_xdb;     /* an open database, readable or writable */
typedef struct ps_xdoc ps_xdoc;   /* a document being built for adding */
typedef struct ps_xq ps_xq;       /* a query tree */

/* Open modes. */
enum { PS_XDB_READ = 0, PS_XDB_WRITE_CREATE = 1, PS_XDB_WRITE_OPEN = 2 };
/* Open flags (OR them). */
enum {
  PS_XDB_NO_TERMLIST = 1, /* writable only: no termlist table (smaller; documents
                             can then be added but not replaced or deleted) */
  PS_XDB_NO_SYNC = 2      /* writable only: no fsync at commit (tests, bulk) */
};

/* Opens the database at path (a directory or a stub file).  *out is always
 * set to a handle (NULL only when out of memory), even on failure, so the
 * message can be read with ps_xdb_errmsg; release it with ps_xdb_close.
 * Returns PS_OK, PS_ERR_NOTFOUND, PS_ERR_LOCKED (another writer),
 * PS_ERR_CORRUPT, PS_ERR_NOMEM or PS_ERR_XAPIAN.  A writable handle never
 * commits on its own (automatic flushing is disabled): only ps_xdb_commit. */
int ps_xdb_open(const char *path, int mode, int flags, ps_xdb **out);

/* Opens a read-only handle on a database served by xapian-tcpsrv at
 * host:port; timeout_ms bounds connecting and each request (0: 10 s).  Same
 * contract for *out and the result as ps_xdb_open. */
int ps_xdb_open_remote(const char *host, unsigned port, unsigned timeout_ms, ps_xdb **out);

/* A read-only handle that searches parts[0..n) (readable handles, local or
 * remote) as one database, as Xapian's stub files do: docid d of the
 * combination is document (d-1)/n+1 of part (d-1)%n; statistics (document
 * count, lengths, term frequencies) are summed, so BM25 weights are those of
 * one database holding every part's documents.  The parts share their
 * underlying databases with it: reopening them moves it too, and closing it
 * leaves them open; the parts must outlive it (it asks them whether a read
 * met DatabaseModifiedError).  Metadata is read from each part, not from it.
 * A search with a decider on it (or on a remote handle) runs the decider in
 * this process on the global docids, after Xapian's match: Xapian refuses
 * a decider over the remote backend and gives it shard-local docids over
 * local shards.  Every candidate is fetched; results are the same. */
int ps_xdb_combine(ps_xdb *const *parts, size_t n, ps_xdb **out);

/* 1 if db is remote or combines a remote part (NULL: 0). */
int ps_xdb_is_remote(const ps_xdb *db);

/* Closes the handle; uncommitted changes of a writable handle are discarded.
 * Accepts NULL. */
void ps_xdb_close(ps_xdb *db);

/* The message of the last failed call on db ("" if none).  Valid until the
 * next call on db. */
const char *ps_xdb_errmsg(const ps_xdb *db);

/* Readers: moves to the latest commit.  *changed (may be NULL) tells whether
 * there was a newer one (or the handle had met DatabaseModifiedError).
 * After a call on a handle fails with PS_ERR_RETRY (DatabaseModifiedError:
 * a commit overwrote what it was reading), every later call on it (or on a
 * combination of it) fails the same way until this succeeds: its tables may
 * be at two revisions, and Xapian would give postings of documents newer
 * than its document count. */
int ps_xdb_reopen(ps_xdb *db, int *changed);

/* Writers: makes all changes durable and visible atomically. */
int ps_xdb_commit(ps_xdb *db);

typedef struct ps_xdb_stats {
  unsigned doccount;
  unsigned lastdocid;
  double avlength;
} ps_xdb_stats;
int ps_xdb_stats_get(ps_xdb *db, ps_xdb_stats *out);

/* ---- documents ---- */

/* A reusable document builder; NULL when out of memory.  Free with
 * ps_xdoc_free (accepts NULL). */
ps_xdoc *ps_xdoc_new(void);
void ps_xdoc_free(ps_xdoc *doc);
/* Empties the builder for the next document. */
void ps_xdoc_clear(ps_xdoc *doc);
/* Adds wdf to the within-document frequency of a term (wdf 0 adds a
 * boolean filter term).  PS_OK or PS_ERR_NOMEM (or PS_ERR_USAGE for a term
 * longer than Xapian accepts, 245 bytes). */
int ps_xdoc_add_term(ps_xdoc *doc, const char *term, size_t len, unsigned wdf);
int ps_xdoc_add_posting(ps_xdoc *doc, const char *term, size_t len, unsigned pos);
int ps_xdoc_set_value(ps_xdoc *doc, unsigned slot, const char *val, size_t len);
int ps_xdoc_set_data(ps_xdoc *doc, const char *data, size_t len);

/* Writers.  add: *docid (may be NULL) receives the new document's id. */
int ps_xdb_add(ps_xdb *db, const ps_xdoc *doc, unsigned *docid);
int ps_xdb_replace(ps_xdb *db, unsigned docid, const ps_xdoc *doc);
int ps_xdb_delete(ps_xdb *db, unsigned docid);

/* Readers of a stored document.  *out is malloc'd (NUL-terminated, *len
 * bytes before the NUL) and freed by the caller.  PS_ERR_NOTFOUND if no
 * such document. */
int ps_xdb_get_data(ps_xdb *db, unsigned docid, char **out, size_t *len);
int ps_xdb_get_value(ps_xdb *db, unsigned docid, unsigned slot, char **out, size_t *len);

/* ---- metadata (user key/value pairs stored with the database) ---- */

/* *out is malloc'd and NUL-terminated; a missing key gives "" (len 0). */
int ps_xdb_get_metadata(ps_xdb *db, const char *key, char **out, size_t *len);
/* Writers; an empty value deletes the key.  Committed with the next commit. */
int ps_xdb_set_metadata(ps_xdb *db, const char *key, const char *val, size_t len);

/* Callbacks return 0 to go on, anything else to stop (that value is then
 * returned by the walk).  Pointers passed to them live only for the call. */
typedef int (*ps_xdb_key_fn)(void *ctx, const char *key, size_t len);
typedef int (*ps_xdb_term_fn)(void *ctx, const char *term, size_t len, unsigned termfreq);
typedef int (*ps_xdb_posting_fn)(void *ctx, unsigned docid, unsigned wdf);
typedef int (*ps_xdb_value_fn)(void *ctx, unsigned docid, const char *val, size_t len);

/* Walks the metadata keys that start with prefix, in byte order. */
int ps_xdb_metadata_keys(ps_xdb *db, const char *prefix, ps_xdb_key_fn fn, void *ctx);

/* ---- terms and postings ---- */

int ps_xdb_termfreq(ps_xdb *db, const char *term, size_t len, unsigned *out);
/* The same for n terms (terms[i], lens[i] bytes) into out[0..n): on a remote
 * database (or a combination with one) in one exchange per server instead
 * of one per term. */
int ps_xdb_termfreqs(ps_xdb *db, const char *const *terms, const size_t *lens, size_t n,
                     unsigned *out);
/* Walks every term that starts with prefix[0..len), in byte order. */
int ps_xdb_allterms(ps_xdb *db, const char *prefix, size_t len, ps_xdb_term_fn fn,
                    void *ctx);
/* Walks the postings of a term in docid order. */
int ps_xdb_postings(ps_xdb *db, const char *term, size_t len, ps_xdb_posting_fn fn,
                    void *ctx);
/* The values in slot of docids[0..n) (ascending): fn for each that has
 * one, in order (one walk of the slot's value stream, skipping ahead). */
int ps_xdb_values(ps_xdb *db, unsigned slot, const unsigned *docids, size_t n,
                  ps_xdb_value_fn fn, void *ctx);

/* ---- queries ---- */

enum { PS_XQ_AND = 0, PS_XQ_OR, PS_XQ_AND_NOT, PS_XQ_PHRASE, PS_XQ_NEAR,
       PS_XQ_AND_MAYBE, PS_XQ_FILTER };

/* Query constructors return NULL only when out of memory.  ps_xq_op takes
 * ownership of subs[0..n) (they are freed with it, also on failure); subs
 * may contain NULL only if the result is then NULL.  window is for PHRASE /
 * NEAR (0 = number of subqueries). */
ps_xq *ps_xq_term(const char *term, size_t len, unsigned wqf);
ps_xq *ps_xq_wildcard(const char *prefix, size_t len);
ps_xq *ps_xq_match_all(void);
ps_xq *ps_xq_op(int op, ps_xq **subs, size_t n, unsigned window);
ps_xq *ps_xq_scale(ps_xq *sub, double factor);
void ps_xq_free(ps_xq *q);
/* A readable rendering for debugging; malloc'd, caller frees. */
char *ps_xq_describe(const ps_xq *q);

/* ---- enquire ---- */

/* Returns non-zero to accept the document.  Must not fail. */
typedef int (*ps_xdecider_fn)(void *ctx, unsigned docid);

/* BM25; no weights; a weight of 1 for each subquery that matches (times
 * its scale: Xapian's CoordWeight). */
enum { PS_XW_BM25 = 0, PS_XW_BOOL = 1, PS_XW_COORD = 2 };

typedef struct ps_xsearch {
  const ps_xq *query;
  unsigned first;          /* offset of the first match to return */
  unsigned max;            /* how many matches to return */
  unsigned check_at_least; /* 0 = check every candidate: exact totals */
  int weighting;           /* PS_XW_BM25, PS_XW_BOOL or PS_XW_COORD */
  double k1, k2, k3, b, min_normlen; /* BM25 parameters; all 0 = Xapian defaults */
  int sort_slot;           /* -1: by relevance; else by this value, then relevance */
  int sort_descending;     /* with sort_slot: largest value first */
  ps_xdecider_fn decider;  /* may be NULL */
  void *decider_ctx;
  double min_weight;       /* > 0: only matches weighing at least this
                              (Enquire::set_cutoff; totals then count those) */
  int flat_top;            /* 1: the best max (first 0, by relevance) kept as
                              plain (docid, weight) pairs (appended above a
                              floor, selected when 2 * max are there: O(1)
                              each) instead of Xapian's MSet, whose heap
                              moves a heavy item for
                              every match that ties its weight floor (most of
                              them when most weigh the same) but can stop
                              early; here every candidate is weighed and
                              decided, each cheaply.  Totals stay exact.
                              Ignored on remote and combined databases. */
  const unsigned *only;    /* non-NULL: the matches are those of query among
                              these n_only docids (ascending): a filter in
                              the match, where a decider would have to see
                              every candidate on a combined database.  Not
                              on remote databases (PS_ERR_USAGE). */
  size_t n_only;
} ps_xsearch;

typedef struct ps_xmatch {
  unsigned docid;
  double weight;
} ps_xmatch;

typedef struct ps_xresult {
  ps_xmatch *matches;      /* n entries, owned, freed by ps_xresult_free */
  size_t n;
  unsigned total_lower, total_estimate, total_upper;
} ps_xresult;

/* Initialises s with defaults (first 0, max 10, exact totals, BM25). */
void ps_xsearch_init(ps_xsearch *s);
/* Runs the search.  With check_at_least 0, total_lower == total_upper ==
 * the exact number of matches the decider accepted. */
int ps_xdb_search(ps_xdb *db, const ps_xsearch *s, ps_xresult *out);
void ps_xresult_free(ps_xresult *r);

/* Writes a compacted copy of the (readable) database to dest. */
int ps_xdb_compact(ps_xdb *db, const char *dest);

/* Writes to dest one compacted database holding the documents of db (a
 * readable handle) and then those of the databases at paths[0..n), in that
 * order, renumbered: each source's used docids are shifted (gaps inside it
 * kept) to start after the previous source's last used one, db's to start
 * at 1 (so db's docids stay only when its first used one is 1).  User
 * metadata comes from db where a key is in several.  Errors are reported
 * on db. */
int ps_xdb_merge(ps_xdb *db, const char *const *paths, size_t n, const char *dest);

#ifdef __cplusplus
}
#endif
#endif
