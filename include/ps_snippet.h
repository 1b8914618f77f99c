/* ps_snippet.h: choosing the part of a paragraph to show for a hit, and
 * offsets in characters for JSON.
 *
 * The window is the stretch of at most `width` characters of the text as
 * written that covers the most highlighted characters (earliest on ties),
 * widened to start a little before its first match; cut ends get "…". */
#ifndef PS_SNIPPET_H
#define PS_SNIPPET_H

#include <stddef.h>
#include <stdio.h>
#include "ps_search.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ps_snippet {
  char *text;        /* owned, NUL-terminated */
  size_t len;
  ps_span *spans;    /* owned: highlights, in bytes of text */
  size_t n_spans;
} ps_snippet;

/* Makes the snippet of text[0..len) with highlights hl[0..n) (bytes, sorted,
 * disjoint).  PS_OK or PS_ERR_NOMEM; release with ps_snippet_free. */
int ps_snippet_make(const char *text, size_t len, const ps_span *hl, size_t n,
                    size_t width, ps_snippet *out);
void ps_snippet_free(ps_snippet *s);

/* Writes text with every span wrapped in open / close. */
void ps_snippet_write(FILE *f, const char *text, size_t len, const ps_span *sp, size_t n,
                      const char *open, const char *close);

/* Number of characters (code points) in s[0..byte). */
size_t ps_snippet_chars(const char *s, size_t byte);

#ifdef __cplusplus
}
#endif
#endif
