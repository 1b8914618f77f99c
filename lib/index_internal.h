/* index_internal.h: the steps of adding a file to a database (index.c),
 * split so that the expensive middle step can run on another thread while
 * the writer applies the previous file (index_bulk.c).  Private to the
 * library.
 *
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
/* Releases what p holds (not p); p may be zeroed or partly filled. */
void ix_prep_free(ps_prep *p);

#endif
