/* ingest_internal.h: private interfaces shared by the ingest_*.c files.
 *
 * Ingestion is a pipeline: decode bytes to clean UTF-8 (ingest_decode.c,
 * or for PDF files extract their text with pdftotext, ingest_pdf.c),
 * cut the text into blocks according to its format (ingest_text.c for
 * PDF-extracted and plain text, ingest_markup.c for Markdown and HTML), then
 * turn the blocks into a ps_doc with titles, heading levels and section
 * paths (ingest.c, using the heading markers of ingest_marker.c).  Not part
 * of the public API. */
#ifndef PS_INGEST_INTERNAL_H
#define PS_INGEST_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "ps_ingest.h"

/* A growable NUL-terminated string. */
typedef struct ing_buf {
  char *s;
  size_t len, cap;
} ing_buf;

int ing_buf_append(ing_buf *b, const char *p, size_t n);
int ing_buf_putc(ing_buf *b, char c);
/* Appends a visual line to a paragraph being rebuilt: nothing is inserted
 * between CJK (or any non-Latin) characters; a single space is inserted
 * when the text so far ends in an ASCII letter/digit and the line starts
 * with one (Latin words must not run together). */
int ing_buf_join_line(ing_buf *b, const char *line, size_t n);
void ing_buf_free(ing_buf *b);

/* How a block's heading status is decided. */
enum {
  ING_DETECT = -1, /* look for a heading marker (一、 （一） 第一章 ...) */
  ING_BODY = 0     /* never a heading (Markdown list item, table row...) */
  /* > 0: an explicit heading of that level (Markdown #, HTML h1-h6) */
};

typedef struct ing_block {
  char *text;  /* trimmed paragraph text */
  size_t len;
  int level;   /* ING_DETECT, ING_BODY or an explicit heading level */
} ing_block;

typedef struct ing_blocks {
  ing_block *v;
  size_t n, cap;
  char *title;  /* title found by the parser (HTML <title>), or NULL */
} ing_blocks;

/* Appends text[0..n) trimmed of surrounding whitespace; whitespace-only text
 * is silently skipped.  PS_OK or PS_ERR_NOMEM. */
int ing_blocks_add(ing_blocks *b, const char *text, size_t n, int level);
void ing_blocks_free(ing_blocks *b);

/* Decodes raw bytes to UTF-8 (opts->encoding if given, else detected: BOM
 * stripped, UTF-16 / GB18030 / Big5 converted; invalid sequences replaced by
 * U+FFFD with one warning naming the byte offset, CR/CRLF turned into LF).
 * Rejects binary data with PS_ERR_FORMAT, an unknown opts->encoding with
 * PS_ERR_USAGE.  *out is malloc'ed and NUL-terminated. */
int ing_decode(const char *name, const char *data, size_t len,
               const ps_ingest_opts *opts, char **out, size_t *out_len,
               ps_error *err);

/* True when data is a PDF file ("%PDF-" within its first 1024 bytes). */
int ing_looks_pdf_file(const char *data, size_t len);
/* The text of a PDF file, extracted by pdftotext (ingest_pdf.c): UTF-8, one
 * visual line per line, page headers and footers removed, ready for
 * ing_parse_pdftext.  A broken PDF gives PS_ERR_FORMAT "NAME: not a
 * readable PDF (...)".  *out is malloc'ed and NUL-terminated. */
int ing_pdf_text(const char *name, const char *data, size_t len,
                 const ps_ingest_opts *opts, char **out, size_t *out_len,
                 ps_error *err);

/* Format parsers: each appends blocks for the UTF-8 text s[0..n). */
int ing_text_looks_pdf(const char *s, size_t n);
int ing_parse_pdftext(const char *s, size_t n, ing_blocks *out);
int ing_parse_plaintext(const char *s, size_t n, ing_blocks *out);
int ing_parse_markdown(const char *s, size_t n, ing_blocks *out);
int ing_parse_html(const char *name, const char *s, size_t n, ing_blocks *out,
                   ps_error *err);
/* Markdown inline syntax removed from one line or paragraph: links become
 * their text, images and autolinks are dropped, emphasis markers and code
 * backticks removed.  Appends the result to out. */
int ing_md_strip_inline(const char *s, size_t n, ing_buf *out);

/* Heading-marker kinds of Chinese official documents. */
enum {
  ING_MK_NONE = 0,
  ING_MK_CHAPTER,  /* 第一章 */
  ING_MK_SECTION,  /* 第一节 */
  ING_MK_CN,       /* 一、 */
  ING_MK_PCN,      /* （一） or (一) */
  ING_MK_NUM,      /* 1. 1、 1． */
  ING_MK_PNUM,     /* （1） or (1) */
  ING_MK_COUNT
};

/* Recognises a heading marker at the start of s[0..n): returns its kind
 * (ING_MK_NONE if none) and stores the ordinal it carries (1 for 一 / 1). */
int ing_marker(const char *s, size_t n, int *ordinal);
/* True when s starts a new item in a PDF extraction: a heading marker, a
 * dash lead (——) or a box caption (专栏 1, 专题一). */
int ing_item_start(const char *s, size_t n);

/* Unicode helpers. */
int32_t ing_cp_at(const char *s, size_t n, size_t *adv);  /* -1 if invalid */
int32_t ing_last_cp(const char *s, size_t n, size_t *start);
int ing_is_space_cp(int32_t c); /* ASCII space/tab/newline, U+3000, U+00A0 */
int ing_display_width(const char *s, size_t n); /* CJK/full-width count 2 */
/* Sentence-final punctuation (。！？；： and half-width .!?;:) possibly
 * followed by closing quotes/brackets, at the end of s. */
int ing_ends_sentence(const char *s, size_t n);

#endif
