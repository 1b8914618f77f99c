/* snippet.c: snippet windows and highlight rendering (see ps_snippet.h). */
#include "ps_snippet.h"

#include <stdlib.h>
#include <string.h>

size_t ps_snippet_chars(const char *s, size_t byte) {
  size_t n = 0;
  for (size_t i = 0; i < byte; i++) n += ((unsigned char)s[i] & 0xC0) != 0x80;
  return n;
}

/* Byte offset of the character that starts k characters after byte i. */
static size_t advance(const char *s, size_t len, size_t i, size_t k) {
  while (i < len && k) {
    i++;
    while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80) i++;
    k--;
  }
  return i;
}

/* Byte offset k characters before byte i. */
static size_t back(const char *s, size_t i, size_t k) {
  while (i > 0 && k) {
    i--;
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80) i--;
    k--;
  }
  return i;
}

static size_t covered(const char *text, const ps_span *hl, size_t n, size_t ws, size_t we) {
  size_t c = 0;
  for (size_t i = 0; i < n; i++) {
    size_t s = hl[i].start > ws ? hl[i].start : ws;
    size_t e = hl[i].end < we ? hl[i].end : we;
    if (s < e) c += ps_snippet_chars(text + s, e - s);
  }
  return c;
}

int ps_snippet_make(const char *text, size_t len, const ps_span *hl, size_t n,
                    size_t width, ps_snippet *out) {
  memset(out, 0, sizeof *out);
  size_t total_chars = ps_snippet_chars(text, len);
  size_t ws = 0, we = len;
  if (total_chars > width) {
    size_t lead = width / 6;
    size_t best = 0, best_s = 0;
    for (size_t i = 0; i < n || (i == 0 && n == 0); i++) {
      size_t s = n ? back(text, hl[i].start, lead) : 0;
      size_t e = advance(text, len, s, width);
      size_t c = n ? covered(text, hl, n, s, e) : 0;
      if (i == 0 || c > best) {
        best = c;
        best_s = s;
      }
      if (!n) break;
    }
    ws = best_s;
    we = advance(text, len, ws, width);
    if (we == len) ws = back(text, len, width); /* fill the window at the end */
  }
  static const char ell[] = "\xe2\x80\xa6"; /* … */
  size_t pre = ws > 0 ? 3 : 0, post = we < len ? 3 : 0;
  out->text = malloc(pre + (we - ws) + post + 1);
  out->spans = malloc((n ? n : 1) * sizeof *out->spans);
  if (!out->text || !out->spans) {
    ps_snippet_free(out);
    return PS_ERR_NOMEM;
  }
  memcpy(out->text, ell, pre);
  memcpy(out->text + pre, text + ws, we - ws);
  memcpy(out->text + pre + (we - ws), ell, post);
  out->len = pre + (we - ws) + post;
  out->text[out->len] = '\0';
  for (size_t i = 0; i < n; i++) {
    size_t s = hl[i].start > ws ? hl[i].start : ws;
    size_t e = hl[i].end < we ? hl[i].end : we;
    if (s >= e) continue;
    out->spans[out->n_spans].start = s - ws + pre;
    out->spans[out->n_spans].end = e - ws + pre;
    out->n_spans++;
  }
  return PS_OK;
}

void ps_snippet_free(ps_snippet *s) {
  if (!s) return;
  free(s->text);
  free(s->spans);
  memset(s, 0, sizeof *s);
}

void ps_snippet_write(FILE *f, const char *text, size_t len, const ps_span *sp, size_t n,
                      const char *open, const char *close) {
  size_t at = 0;
  for (size_t i = 0; i < n; i++) {
    fwrite(text + at, 1, sp[i].start - at, f);
    fputs(open, f);
    fwrite(text + sp[i].start, 1, sp[i].end - sp[i].start, f);
    fputs(close, f);
    at = sp[i].end;
  }
  fwrite(text + at, 1, len - at, f);
}
