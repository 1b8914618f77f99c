/* ps_store.h: the flat paragraph store that lives beside the Xapian tables.
 *
 * Xapian holds only the postings (bigrams, unigrams, tokens: no positions,
 * no termlist, no document data); the paragraphs themselves live here, in
 * two append-only files of the database directory:
 *   text.dat  one record per paragraph: its normalised text (what candidates
 *             are verified against), its text as written stored as a patch
 *             on the normalised text (most characters normalise to
 *             themselves, so the paragraph is kept about once instead of
 *             twice), its section and its project names;
 *   text.idx  an array of little-endian u64, entry d = offset of docid d's
 *             record in text.dat.
 * Readers memory-map both files.  Consistency with Xapian: the writer syncs
 * both files before each Xapian commit, and the committed lengths are kept
 * in Xapian metadata in that same commit; anything past them (a crash
 * between the two) is ignored by readers and cut off by the next writer. */
#ifndef PS_STORE_H
#define PS_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "ps_error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ps_store ps_store;

/* One paragraph record.  For a record read with ps_store_get the pointers
 * point into the mapping and live until ps_store_close / ps_store_remap; each
 * string is NUL-terminated.  A record read has text == NULL: the text as
 * written is rebuilt on demand by ps_store_text (only shown paragraphs need
 * it). */
typedef struct ps_store_rec {
  uint32_t file_no;      /* which source file (see ps_index.h) */
  uint32_t para_no;      /* 0-based paragraph number within the file */
  uint32_t heading_level;/* 0 body text, 1.. heading */
  const char *norm;      /* normalised text (ps_tok_normalize) */
  size_t norm_len;
  const char *text;      /* writers: the text as written (readers: NULL) */
  size_t text_len;       /* length of the text as written (both) */
  const uint32_t *norm_map; /* writers, optional: the map of norm into text
                            (ps_tok_normalize with want_map); without it, or
                            when it does not describe text, the text is
                            stored whole */
  const unsigned char *patch; /* readers: the text as a patch on norm (opaque,
                            for ps_store_text); writers: when set (a record
                            copied from another store) stored as is and
                            text / norm_map are not used */
  size_t patch_len;
  const char *section;   /* section path */
  size_t section_len;
  const char *projects;  /* the project names the paragraph mentions
                            (ps_projects.h), each followed by '\n' */
  size_t projects_len;
} ps_store_rec;

/* Opens the store of database directory dir.  Writers (writable != 0) create
 * the files if needed and cut them to dat_len / idx_len (the committed
 * lengths); readers map exactly that much and fail with PS_ERR_CORRUPT if
 * the files are shorter.  *out is released with ps_store_close. */
int ps_store_open(const char *dir, int writable, uint64_t dat_len, uint64_t idx_len,
                  ps_store **out, ps_error *err);
void ps_store_close(ps_store *st);

/* Writers: appends the record of docid, which must be the next id (one more
 * than the last appended, or than the committed count). */
int ps_store_append(ps_store *st, uint32_t docid, const ps_store_rec *rec, ps_error *err);

/* Writers: writes out buffered records and syncs both files; *dat_len and
 * *idx_len receive the lengths to record in the commit. */
int ps_store_sync(ps_store *st, uint64_t *dat_len, uint64_t *idx_len, ps_error *err);

/* Readers: maps the files anew at the given committed lengths (after the
 * database moved to a newer commit). */
int ps_store_remap(ps_store *st, uint64_t dat_len, uint64_t idx_len, ps_error *err);

/* Readers: the record of docid; PS_ERR_NOTFOUND if beyond the store. */
int ps_store_get(const ps_store *st, uint32_t docid, ps_store_rec *out);

/* Readers: hints that the record of docid will be read soon.  Stage 0
 * fetches its slot in the offsets file into the cache, stage 1 (a few
 * records later, when the slot is there) the start of the record, stage 2
 * (later again, when that is there) the rest of its normalised text, or
 * stage 3 instead its project names (what facets read).  Only
 * a hint: never fails, any docid is accepted.  Callers walking thousands of
 * scattered records overlap the memory latency that way (a record read
 * cold is most of the time of verifying it). */
void ps_store_prefetch(const ps_store *st, uint32_t docid, int stage);

/* Rebuilds the text as written of a record read with ps_store_get into
 * *out (malloc'd, NUL-terminated, the caller frees it; *len = its length).
 * PS_OK, PS_ERR_NOMEM, or PS_ERR_CORRUPT for a damaged patch. */
int ps_store_text(const ps_store_rec *rec, char **out, size_t *len);

/* Writers and tests: encodes text[0..tlen) as a patch on norm[0..nlen)
 * given map (NULL: the whole text as a literal), into *out (malloc'd).
 * The patch always rebuilds text exactly: a map that does not describe the
 * text gives the literal form.  PS_OK or PS_ERR_NOMEM. */
int ps_store_patch(const char *norm, size_t nlen, const uint32_t *map, const char *text,
                   size_t tlen, unsigned char **out, size_t *out_len);

/* The number of docid slots (highest docid + 1) and bytes of text.dat. */
uint32_t ps_store_slots(const ps_store *st);
uint64_t ps_store_bytes(const ps_store *st);

#ifdef __cplusplus
}
#endif
#endif
