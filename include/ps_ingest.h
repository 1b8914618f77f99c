/* ps_ingest.h: turns a file on disk (or a buffer) into a ps_doc.
 *
 * Reading, encoding detection and conversion to UTF-8, format detection
 * (PDF-extracted text, plain text, Markdown, HTML / Jekyll posts with YAML
 * front matter) and paragraph rebuilding all happen here, so that the indexer
 * only ever sees clean paragraphs. */
#ifndef PS_INGEST_H
#define PS_INGEST_H

#include <stddef.h>
#include "ps_doc.h"
#include "ps_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Receives non-fatal problems (an invalid byte sequence at some offset...).
 * msg is only valid during the call. */
typedef void (*ps_ingest_warn_fn)(void *ctx, const char *msg);

typedef struct ps_ingest_opts {
  ps_ingest_warn_fn warn; /* may be NULL: warnings are dropped */
  void *warn_ctx;
} ps_ingest_opts;

/* Reads and parses the file at path.  On success *out is a new document the
 * caller frees with ps_doc_free.  Errors (unreadable file, binary content)
 * name the file.  opts may be NULL. */
int ps_ingest_file(const char *path, const ps_ingest_opts *opts, ps_doc **out,
                   ps_error *err);

/* The same for bytes already in memory; name is used for format detection
 * (by extension) and in messages.  data need not be NUL-terminated. */
int ps_ingest_buffer(const char *name, const char *data, size_t len,
                     const ps_ingest_opts *opts, ps_doc **out, ps_error *err);

#ifdef __cplusplus
}
#endif
#endif
