/* shard_index.c: a sharded database as one ps_index (see ps_shard.h and
 * ps_index.h).  Each shard is an ordinary single database (index.c), opened
 * as a "part"; readers search all parts through Xapian's combined database
 * (docids interleave: docid d is docid (d-1)/N+1 of part (d-1)%N) and see
 * one registry merged from the parts' registries, with file numbers
 * interleaved the same way; writers send each file to the part that
 * ps_shard_route names. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "index_internal.h"
#include "ps_shard.h"

struct ps_shards {
  int writable;
  char stub[PATH_MAX];
  unsigned n;
  ps_index **part;        /* n parts, in shard order */
  ps_xdb *xdb;            /* readers: the parts' Xapian databases as one */
  ps_file_info *files;    /* readers: every part's files, numbers and first
                             docids made global, sorted by path; strings
                             borrowed from the parts */
  size_t n_files;
  uint32_t *by_no;        /* indices into files, sorted by file_no */
};

/* Local id l (docid or file number, from 1) of part i as a global id. */
static uint32_t global_id(const ps_shards *sh, uint32_t l, unsigned i) {
  return (l - 1) * sh->n + i + 1;
}

unsigned ps_shards_count(const ps_shards *sh) { return sh->n; }

ps_index *ps_shards_part(ps_shards *sh, unsigned i) { return sh->part[i]; }

/* (Re)builds the merged registry from the parts' registries. */
static int merge_registry(ps_shards *sh, ps_error *err) {
  size_t total = 0, k;
  free(sh->files);
  free(sh->by_no);
  sh->files = NULL;
  sh->by_no = NULL;
  sh->n_files = 0;
  for (unsigned i = 0; i < sh->n; i++) {
    ps_index_files(sh->part[i], &k);
    total += k;
  }
  sh->files = malloc((total + 1) * sizeof *sh->files);
  sh->by_no = malloc((total + 1) * sizeof *sh->by_no);
  if (!sh->files || !sh->by_no) return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  for (unsigned i = 0; i < sh->n; i++) {
    const ps_file_info *f = ps_index_files(sh->part[i], &k);
    for (size_t j = 0; j < k; j++) {
      ps_file_info g = f[j];
      g.file_no = global_id(sh, f[j].file_no, i);
      g.first = f[j].count ? global_id(sh, f[j].first, i) : 0;
      sh->files[sh->n_files++] = g;
    }
  }
  ix_sort_files(sh->files, sh->n_files, sh->by_no);
  return PS_OK;
}

static int combine(ps_shards *sh, ps_error *err) {
  ps_xdb **x = malloc(sh->n * sizeof *x), *c = NULL;
  if (!x) return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  for (unsigned i = 0; i < sh->n; i++) x[i] = ps_index_xdb(sh->part[i]);
  int rc = ps_xdb_combine(x, sh->n, &c);
  free(x);
  if (rc) {
    ps_error_set(err, rc, "%s: combining the shards: %s", sh->stub,
                 c ? ps_xdb_errmsg(c) : "out of memory");
    ps_xdb_close(c);
    return rc;
  }
  sh->xdb = c;
  return PS_OK;
}

/* A writer on a directory without a stub: creates the sharded database. */
static int create(const char *dir, unsigned n, ps_error *err) {
  char x[PATH_MAX + 16];
  struct stat sb;
  snprintf(x, sizeof x, "%s/xapian", dir);
  if (stat(x, &sb) == 0)
    return ps_error_set(err, PS_ERR_USAGE,
                        "%s: holds a single (unsharded) database; --shards needs a new "
                        "directory: index the documents into one with --shards %u",
                        dir, n);
  if (mkdir(dir, 0755) != 0 && errno != EEXIST)
    return ps_error_set(err, PS_ERR_IO, "%s: cannot create directory: %s", dir,
                        strerror(errno));
  return ps_stub_write(dir, n, err);
}

int ps_shards_open(const char *dir, unsigned n_shards, int mode, ps_shards **out,
                   ps_error *err) {
  ps_stub st = {0};
  int rc = PS_OK;
  ps_shards *sh = calloc(1, sizeof *sh);
  *out = NULL;
  if (!sh) return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  sh->writable = mode == PS_INDEX_WRITE;
  if (!ps_shard_stub_path(dir, sh->stub, sizeof sh->stub)) {
    if (!sh->writable || n_shards == 0) {
      rc = ps_error_set(err, PS_ERR_NOTFOUND, "%s: no sharded Policy Search database here",
                        dir);
      goto done;
    }
    if ((rc = create(dir, n_shards, err))) goto done;
    if (!ps_shard_stub_path(dir, sh->stub, sizeof sh->stub)) {
      rc = ps_error_set(err, PS_ERR_IO, "%s: the stub just written is not there", dir);
      goto done;
    }
  }
  if ((rc = ps_stub_read(sh->stub, &st, err))) goto done;
  if (n_shards && st.n != n_shards) {
    rc = ps_error_set(err, PS_ERR_USAGE,
                      "%s: has %zu shards, not %u (files are placed by their shard "
                      "number, so the number of shards cannot change): leave out "
                      "--shards, or index into a new directory with --shards %u",
                      dir, st.n, n_shards, n_shards);
    goto done;
  }
  if (!(sh->part = calloc(st.n, sizeof *sh->part))) {
    rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
    goto done;
  }
  sh->n = (unsigned)st.n;
  for (unsigned i = 0; i < sh->n && rc == PS_OK; i++) {
    const ps_shard_loc *loc = &st.loc[i];
    if (sh->writable && loc->host[0]) {
      rc = ps_error_set(err, PS_ERR_USAGE,
                        "%s: shard %u is served by xapian-tcpsrv at %s:%u and cannot be "
                        "written from here: run policy-index --db SHARD_DIR on that "
                        "machine (it indexes only the files that belong to that shard)",
                        sh->stub, i, loc->host, loc->port);
      break;
    }
    rc = ps_index__open_part(loc->dir, loc->host[0] ? loc->host : NULL, loc->port, mode,
                             &sh->part[i], err);
    if (rc) {
      ps_error_prefix(err, "shard %u of %s", i, sh->stub);
      break;
    }
    unsigned si, sn;
    ps_index__shard(sh->part[i], &si, &sn);
    if (sh->writable)
      rc = ps_index__mark_shard(sh->part[i], i, sh->n, err);
    else if (sn && (si != i || sn != sh->n)) {
      char where[PATH_MAX + 300];
      if (loc->host[0]) snprintf(where, sizeof where, "%s:%u", loc->host, loc->port);
      else snprintf(where, sizeof where, "%s", loc->dir);
      rc = ps_error_set(err, PS_ERR_CORRUPT,
                        "%s: shard line %u names %s, which is shard %u of %u, not shard %u "
                        "of %u; restore the order of the shards (or the servers' ports)",
                        sh->stub, i + 1, where, si, sn, i, sh->n);
    }
  }
  if (rc == PS_OK && !sh->writable) rc = combine(sh, err);
  if (rc == PS_OK && !sh->writable) rc = merge_registry(sh, err);
done:
  ps_stub_free(&st);
  if (rc) {
    ps_shards_close(sh);
    return rc;
  }
  *out = sh;
  return PS_OK;
}

void ps_shards_close(ps_shards *sh) {
  if (!sh) return;
  ps_xdb_close(sh->xdb);
  for (unsigned i = 0; sh->part && i < sh->n; i++) ps_index_close(sh->part[i]);
  free(sh->part);
  free(sh->files);
  free(sh->by_no);
  free(sh);
}

/* ---- writing ---- */

int ps_shards_add_file(ps_shards *sh, const char *path, const ps_ingest_opts *opts,
                       ps_add_result *res, ps_error *err) {
  char abs[PATH_MAX];
  memset(res, 0, sizeof *res);
  if (!realpath(path, abs)) return ps_error_set(err, PS_ERR_IO, "%s: %s", path, strerror(errno));
  return ps_index_add_file(sh->part[ps_shard_route(abs, sh->n)], path, opts, res, err);
}

/* Relays a shard's per-file report to the caller's fn under the file's
 * index among all the paths given. */
typedef struct relay {
  ps_index_file_fn fn;
  void *ctx;
  const size_t *at; /* per file of the shard's share: its index in paths */
  int stop;         /* fn asked to stop */
} relay;

static int relay_file(void *c, size_t j, int rc, const ps_add_result *res, const ps_error *err) {
  relay *r = c;
  return r->stop = r->fn(r->ctx, r->at[j], rc, res, err);
}

/* Each file to its shard, then each shard's share as one bulk load of that
 * shard (ps_index_add_files: its threads, its temporary databases), shard
 * after shard, so that a sharded build is as fast as a single one (it went
 * file by file: 2.5x slower on 100 MB).  A path that does not resolve is
 * reported first. */
int ps_shards_add_files(ps_shards *sh, char *const *paths, size_t n,
                        const ps_ingest_opts *opts, ps_index_file_fn fn, void *ctx,
                        ps_error *err) {
  int rc = PS_OK;
  unsigned *shard = malloc((n ? n : 1) * sizeof *shard);
  size_t *at = malloc((n ? n : 1) * sizeof *at);
  char **share = malloc((n ? n : 1) * sizeof *share);
  relay r = {fn, ctx, at, 0};
  if (!shard || !at || !share) {
    rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < n && !r.stop; i++) {
    char abs[PATH_MAX];
    shard[i] = sh->n; /* (none: reported here) */
    if (realpath(paths[i], abs)) {
      shard[i] = ps_shard_route(abs, sh->n);
      continue;
    }
    ps_add_result res;
    ps_error e;
    memset(&res, 0, sizeof res);
    ps_error_clear(&e);
    r.stop = fn(ctx, i, ps_error_set(&e, PS_ERR_IO, "%s: %s", paths[i], strerror(errno)), &res, &e);
  }
  for (unsigned s = 0; s < sh->n && !r.stop && rc == PS_OK; s++) {
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
      if (shard[i] == s) at[m] = i, share[m++] = paths[i];
    if (m && (rc = ps_index_add_files(sh->part[s], share, m, opts, relay_file, &r, err)))
      ps_error_prefix(err, "shard %u", s);
  }
done:
  free(shard);
  free(at);
  free(share);
  return rc;
}

void ps_shards_set_bulk(ps_shards *sh, size_t batch_paragraphs, size_t memory_bytes,
                        uint64_t min_bytes) {
  for (unsigned i = 0; i < sh->n; i++)
    ps_index_set_bulk(sh->part[i], batch_paragraphs, memory_bytes, min_bytes);
}

/* A directory's files may be in every shard: ask them all. */
int ps_shards_remove(ps_shards *sh, const char *path, size_t *removed, ps_error *err) {
  int rc = PS_OK;
  *removed = 0;
  for (unsigned i = 0; i < sh->n && rc == PS_OK; i++) {
    size_t r = 0;
    rc = ps_index_remove(sh->part[i], path, &r, err);
    *removed += r;
  }
  return rc;
}

size_t ps_shards_pending(const ps_shards *sh) {
  size_t n = 0;
  for (unsigned i = 0; i < sh->n; i++) n += ps_index_pending(sh->part[i]);
  return n;
}

size_t ps_shards_pending_bytes(const ps_shards *sh) {
  size_t n = 0;
  for (unsigned i = 0; i < sh->n; i++) n += ps_index_pending_bytes(sh->part[i]);
  return n;
}

int ps_shards_commit(ps_shards *sh, ps_error *err) {
  int rc = PS_OK;
  for (unsigned i = 0; i < sh->n && rc == PS_OK; i++)
    if ((rc = ps_index_commit(sh->part[i], err))) ps_error_prefix(err, "shard %u", i);
  return rc;
}

int ps_shards_optimize(ps_shards *sh, ps_error *err) {
  int rc = PS_OK;
  for (unsigned i = 0; i < sh->n && rc == PS_OK; i++)
    if ((rc = ps_index_optimize(sh->part[i], err))) ps_error_prefix(err, "shard %u", i);
  return rc;
}

/* ---- reading ---- */

ps_xdb *ps_shards_xdb(ps_shards *sh) { return sh->xdb; }

int ps_shards_live(const ps_shards *sh, uint32_t docid) {
  if (docid == 0) return 0;
  return ps_index_live(sh->part[(docid - 1) % sh->n], (docid - 1) / sh->n + 1);
}

int ps_shards_para(const ps_shards *sh, uint32_t docid, ps_store_rec *out) {
  if (docid == 0) return PS_ERR_NOTFOUND;
  unsigned i = (docid - 1) % sh->n;
  int rc = ps_index_para(sh->part[i], (docid - 1) / sh->n + 1, out);
  if (rc == PS_OK) out->file_no = global_id(sh, out->file_no, i);
  return rc;
}

void ps_shards_prefetch(const ps_shards *sh, uint32_t docid, int stage) {
  if (docid) ps_index__prefetch(sh->part[(docid - 1) % sh->n], (docid - 1) / sh->n + 1, stage);
}

const ps_file_info *ps_shards_file_by_no(const ps_shards *sh, uint32_t file_no) {
  return ix_file_by_no(sh->files, sh->by_no, sh->n_files, file_no);
}

const ps_file_info *ps_shards_files(const ps_shards *sh, size_t *n) {
  *n = sh->n_files;
  return sh->files;
}

void ps_shards_stats(const ps_shards *sh, ps_index_stats *out) {
  memset(out, 0, sizeof *out);
  for (unsigned i = 0; i < sh->n; i++) {
    ps_index_stats s;
    ps_index_stats_get(sh->part[i], &s);
    out->files += s.files;
    out->paragraphs += s.paragraphs;
    out->superseded += s.superseded;
    out->text_bytes += s.text_bytes;
    if (s.lastdocid && global_id(sh, s.lastdocid, i) > out->lastdocid)
      out->lastdocid = global_id(sh, s.lastdocid, i);
  }
}

int ps_shards_check(const ps_shards *sh, ps_error *err) {
  int rc = PS_OK;
  for (unsigned i = 0; i < sh->n && rc == PS_OK; i++)
    if ((rc = ps_index__check(sh->part[i], err))) ps_error_prefix(err, "shard %u", i);
  return rc;
}

int ps_shards_reopen(ps_shards *sh, int *changed, ps_error *err) {
  int any = 0, rc = PS_OK;
  for (unsigned i = 0; i < sh->n && rc == PS_OK; i++) {
    int ch = 0;
    if ((rc = ps_index_reopen(sh->part[i], &ch, err))) ps_error_prefix(err, "shard %u", i);
    any |= ch;
  }
  /* The combined handle shares the parts' databases, so it has moved with
   * them (and stays the same handle for callers).  The merged registry is
   * rebuilt even after a failure part-way: the parts that did move must not
   * be seen through stale arrays. */
  if (any) {
    int r2 = merge_registry(sh, rc ? NULL : err);
    if (rc == PS_OK) rc = r2;
  }
  if (changed) *changed = any;
  return rc;
}
