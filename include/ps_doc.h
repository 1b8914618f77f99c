/* ps_doc.h: the in-memory model of one ingested document.
 *
 * A document is a title, some metadata and an ordered list of paragraphs.
 * The paragraph is the unit of retrieval: everything the indexer stores and
 * the searcher returns is one ps_para.  Produced by ps_ingest (ps_ingest.h),
 * consumed by ps_index (ps_index.h).  Everything is owned by the ps_doc and
 * released by ps_doc_free. */
#ifndef PS_DOC_H
#define PS_DOC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ps_para {
  char *text;        /* the paragraph as written, UTF-8, NUL-terminated; the visual
                        lines of a PDF extraction joined (no spaces inserted
                        between CJK characters), markup removed */
  size_t len;        /* strlen(text) */
  char *section;     /* heading path of the section this paragraph is in, the
                        levels joined by " › " ("" when before any heading);
                        a heading paragraph's own path ends with itself */
  int heading_level; /* 0 for body text; 1.. for a heading (1 = outermost) */
} ps_para;

typedef struct ps_doc {
  char *title;       /* document title ("" if none found) */
  char *date;        /* ISO date "YYYY-MM-DD" if known, else "" */
  const char *format;/* static string: "pdf-text", "text", "markdown", "html", "pdf" */
  char *categories;  /* YAML front matter categories, comma-separated ("" if none) */
  char *tags;        /* YAML front matter tags, comma-separated ("" if none) */
  ps_para *paras;
  size_t n_paras;
  size_t cap_paras;
} ps_doc;

/* Allocates an empty document (title and date ""), NULL when out of memory. */
ps_doc *ps_doc_new(void);

/* Appends a copy of text[0..len) as a paragraph with the given section path
 * (copied; NULL means "") and heading level.  Returns PS_OK or PS_ERR_NOMEM. */
int ps_doc_add(ps_doc *d, const char *text, size_t len, const char *section,
               int heading_level);

/* Replaces the title / date with a copy of s.  PS_OK or PS_ERR_NOMEM. */
int ps_doc_set_title(ps_doc *d, const char *s);
int ps_doc_set_date(ps_doc *d, const char *s);
int ps_doc_set_categories(ps_doc *d, const char *s);
int ps_doc_set_tags(ps_doc *d, const char *s);

/* Frees d and everything it owns.  Accepts NULL. */
void ps_doc_free(ps_doc *d);

#ifdef __cplusplus
}
#endif
#endif
