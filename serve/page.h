/* page.h: the HTML of policy-serve's search page, reader page and error
 * pages, rendered on the server from the same JSON the API returns, so the
 * page works without JavaScript.  Every text that comes from a query or a
 * document is HTML-escaped here and nowhere else. */
#ifndef PS_SERVE_PAGE_H
#define PS_SERVE_PAGE_H

#include <stddef.h>
#include <cjson/cJSON.h>

/* A growing string.  All functions leave it unchanged-but-flagged (oom = 1)
 * when memory runs out; the owner frees s. */
typedef struct sbuf {
  char *s;
  size_t len, cap;
  int oom;
} sbuf;

void sb_put(sbuf *b, const char *s, size_t n);
void sb_puts(sbuf *b, const char *s);
void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s with & < > " ' escaped. */
void sb_html(sbuf *b, const char *s);
/* Appends s percent-encoded for a URL query component. */
void sb_url(sbuf *b, const char *s);

/* The search form's state, as given in the request (NULL: absent). */
typedef struct page_params {
  const char *q, *year, *region, *type, *project;
  const char *sort;   /* "date" or NULL (relevance) */
  const char *view;   /* "timeline" or NULL (list) */
  size_t offset, limit;
} page_params;

/* The search page for pp: answer is ps_answer_json's object (NULL when
 * there is no query yet or error is set); error, if not NULL, is shown
 * instead of results.  partial != 0 gives only the results block (what
 * the page's script swaps in while typing).  Appends to out. */
void page_search(sbuf *out, const page_params *pp, const cJSON *answer, const char *error,
                 int partial);

/* The reader page: doc is ps_answer_doc's object (the whole document),
 * para the paragraph to show in context, q (may be NULL) the query to go
 * back to. */
void page_read(sbuf *out, const cJSON *doc, size_t para, const char *q);

/* A small HTML page for an error status. */
void page_error(sbuf *out, int status, const char *msg);

#endif
