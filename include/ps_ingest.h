/* ps_ingest.h: turns a file on disk (or a buffer) into a ps_doc.
 *
 * Reading, encoding detection and conversion to UTF-8, format detection
 * (PDF files through poppler's pdftotext, PDF-extracted text, plain text,
 * Markdown, HTML / Jekyll posts with YAML front matter) and paragraph
 * rebuilding all happen here, so that the indexer only ever sees clean
 * paragraphs. */
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
  /* The encoding of text files, any name iconv knows ("GB18030", "BIG5",
   * "UTF-16LE"...), overriding detection; NULL or "" = detect (UTF-8 with or
   * without BOM, UTF-16 with BOM or with ASCII in it, GB18030, Big5).  An
   * unknown name fails with PS_ERR_USAGE.  Not used for PDF files. */
  const char *encoding;
  /* The pdftotext program (poppler-utils) that extracts the text of PDF
   * files; NULL = "pdftotext" searched in PATH. */
  const char *pdftotext;
  /* pdftotext is killed after this many milliseconds (a hostile PDF must
   * never hang indexing); 0 = 60000. */
  int pdf_timeout_ms;
} ps_ingest_opts;

/* Reads and parses the file at path.  On success *out is a new document the
 * caller frees with ps_doc_free.  Errors (unreadable file, binary content,
 * broken PDF: PS_ERR_FORMAT) name the file.  opts may be NULL. */
int ps_ingest_file(const char *path, const ps_ingest_opts *opts, ps_doc **out,
                   ps_error *err);

/* The same for bytes already in memory; name is used for format detection
 * (by extension; the content is sniffed too: "%PDF-" is a PDF whatever the
 * name) and in messages.  data need not be NUL-terminated. */
int ps_ingest_buffer(const char *name, const char *data, size_t len,
                     const ps_ingest_opts *opts, ps_doc **out, ps_error *err);

#ifdef __cplusplus
}
#endif
#endif
