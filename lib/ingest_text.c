/* ingest_text.c: paragraphs from plain text.
 *
 * Two shapes of .txt input exist:
 * - PDF extractions ("pdf-text"): one visual line per line, mostly with
 *   blank lines between them, paragraphs wrapped at a fixed width, words cut
 *   at line ends, page breaks marked by a line starting with a space (a
 *   sentence open at a page break goes on on the next page), page numbers
 *   on lines of their own.  Paragraphs are rebuilt from the line
 *   widths (a paragraph's last line is visibly shorter than the typical full
 *   line), sentence-final punctuation and item markers.
 * - Plain text ("text"): one paragraph per line, with flattened tables (cells
 *   on tab-indented lines, rows separated by blank lines) and chapter headings
 *   that may be wrapped onto a second line.
 * ing_text_looks_pdf tells them apart from line statistics. */
#include "ingest_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct line {
  const char *s; /* trimmed text */
  size_t n;
  int w;         /* display width */
  int lead_tab;  /* raw line started with a tab (table cell) */
  int lead_ws;   /* raw line started with other whitespace */
} line;

typedef struct lines {
  line *v;
  size_t n;
} lines;

/* Trims whitespace (ASCII and U+3000) from both ends of s[0..*n). */
static const char *trim(const char *s, size_t *n) {
  size_t adv, st;
  while (*n) {
    int32_t c = ing_cp_at(s, *n, &adv);
    if (!ing_is_space_cp(c)) break;
    s += adv;
    *n -= adv;
  }
  while (*n) {
    int32_t c = ing_last_cp(s, *n, &st);
    if (!ing_is_space_cp(c)) break;
    *n = st;
  }
  return s;
}

/* Splits s into lines; blank lines are kept (n == 0) when keep_blank. */
static int split_lines(const char *s, size_t n, int keep_blank, lines *out) {
  size_t cap = 64, i = 0;
  out->n = 0;
  out->v = malloc(cap * sizeof *out->v);
  if (!out->v) return PS_ERR_NOMEM;
  while (i < n) {
    const char *nl = memchr(s + i, '\n', n - i);
    size_t end = nl ? (size_t)(nl - s) : n;
    size_t len = end - i;
    line l;
    l.lead_tab = len && s[i] == '\t';
    l.lead_ws = len && (s[i] == ' ' || s[i] == '\t');
    l.n = len;
    l.s = trim(s + i, &l.n);
    l.w = ing_display_width(l.s, l.n);
    i = end + 1;
    if (!l.n && !keep_blank) continue;
    if (out->n == cap) {
      cap *= 2;
      line *v = realloc(out->v, cap * sizeof *v);
      if (!v) {
        free(out->v);
        out->v = NULL;
        return PS_ERR_NOMEM;
      }
      out->v = v;
    }
    out->v[out->n++] = l;
  }
  return PS_OK;
}

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

/* The p-th percentile (0..100) of the widths of the lines. */
static int width_percentile(const lines *ls, int p) {
  if (!ls->n) return 0;
  int *w = malloc(ls->n * sizeof *w);
  if (!w) return 0;
  for (size_t i = 0; i < ls->n; i++) w[i] = ls->v[i].w;
  qsort(w, ls->n, sizeof *w, cmp_int);
  size_t k = ls->n * (size_t)p / 100;
  if (k >= ls->n) k = ls->n - 1;
  int r = w[k];
  free(w);
  return r;
}

int ing_text_looks_pdf(const char *s, size_t n) {
  lines ls;
  if (split_lines(s, n, 0, &ls)) return 0;
  int pdf = 0;
  if (ls.n >= 2) {
    /* A PDF extraction wraps at a fixed, fairly short width, so most lines
     * end in the middle of a sentence; one-paragraph-per-line text has long
     * lines that end with punctuation. */
    size_t open = 0;
    for (size_t i = 0; i < ls.n; i++) open += !ing_ends_sentence(ls.v[i].s, ls.v[i].n);
    pdf = width_percentile(&ls, 90) <= 120 && open * 10 >= ls.n * 3;
  }
  free(ls.v);
  return pdf;
}

static int lit(const line *l, const char *s) {
  size_t k = strlen(s);
  return l->n >= k && memcmp(l->s, s, k) == 0;
}

static int is_dash_cp(int32_t c) {
  return c == '-' || c == 0x2014 || c == 0x2013 || c == 0xFF0D || c == 0x2010 ||
         c == 0x2212;
}

/* A page number on a line of its own: 7, - 7 -, — 7 —, 第 7 页. */
static int is_page_number(const line *l) {
  size_t i = 0, adv;
  int digits = 0;
  if (lit(l, "第")) i = 3;
  while (i < l->n) {
    int32_t c = ing_cp_at(l->s + i, l->n - i, &adv);
    if (c >= '0' && c <= '9') digits++;
    else if (!is_dash_cp(c) && c != ' ' && !(c == 0x9875 && i == l->n - 3)) return 0;
    i += adv;
  }
  return digits >= 1 && digits <= 4;
}

static int count_cps(const char *s, size_t n) {
  int k = 0;
  for (size_t i = 0; i < n; i++) k += ((unsigned char)s[i] & 0xC0) != 0x80;
  return k;
}

static int is_cjk_cp(int32_t c) {
  return (c >= 0x3400 && c <= 0x9FFF) || (c >= 0xF900 && c <= 0xFAFF) ||
         (c >= 0x20000 && c <= 0x3FFFF);
}

/* 〇 一 二 ... 九 十: the digits of a date written in Chinese numerals. */
static int is_cn_numeral(int32_t c) {
  static const int32_t d[] = {0x3007, 0x96F6, 0x4E00, 0x4E8C, 0x4E09, 0x56DB,
                              0x4E94, 0x516D, 0x4E03, 0x516B, 0x4E5D, 0x5341};
  for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
    if (d[i] == c) return 1;
  return 0;
}

/* Lines that make up a paragraph of their own in a title block or cover
 * page: a date (2021年 12月 20日), a fully bracketed note (（此件主动公开）),
 * a spaced-out title (政 府 工 作 报 告), a signature (代理区长 殷学武), a
 * salutation (各位代表：).  Only short lines qualify. */
static int standalone(const line *l, int full) {
  size_t i, adv;
  if (l->w * 2 > full + 4 || l->n == 0) return 0;
  int32_t first = ing_cp_at(l->s, l->n, NULL);
  int32_t last = ing_last_cp(l->s, l->n, NULL);
  if ((last == 0xFF1A || last == ':') && l->w * 2 <= full) return 1;
  if ((first == 0xFF08 || first == '(') && (last == 0xFF09 || last == ')')) return 1;
  /* date */
  int has_year = 0, ok = 1;
  for (i = 0; i < l->n; i += adv) {
    int32_t c = ing_cp_at(l->s + i, l->n - i, &adv);
    if (c == 0x5E74) has_year = 1;
    else if (!((c >= '0' && c <= '9') || c == ' ' || c == 0x6708 || c == 0x65E5 ||
               is_cn_numeral(c)))
      ok = 0;
  }
  if (ok && has_year && last == 0x65E5) return 1;
  /* spaced-out characters: X X X (each token one CJK character) */
  int tokens = 0, single = 1, cur = 0;
  for (i = 0; i < l->n; i += adv) {
    int32_t c = ing_cp_at(l->s + i, l->n - i, &adv);
    if (c == ' ') {
      if (cur) tokens++;
      if (cur != 1) single = 0;
      cur = 0;
    } else {
      cur = is_cjk_cp(c) ? cur + 1 : 99;
    }
  }
  if (cur) tokens++;
  if (cur != 1) single = 0;
  if (single && tokens >= 3) return 1;
  /* signature: "<office> <name>", the name 2-4 CJK characters */
  const char *sp = NULL;
  for (i = 0; i < l->n; i++)
    if (l->s[i] == ' ') sp = l->s + i;
  if (sp && count_cps(l->s, l->n) <= 24) {
    const char *name = sp + 1;
    size_t nn = (size_t)(l->s + l->n - name);
    int k = 0;
    for (i = 0; i < nn; i += adv) {
      if (!is_cjk_cp(ing_cp_at(name + i, nn - i, &adv))) return 0;
      k++;
    }
    for (i = 0; i < (size_t)(sp - l->s); i += adv)
      if (!is_cjk_cp(ing_cp_at(l->s + i, (size_t)(sp - l->s) - i, &adv))) return 0;
    return k >= 2 && k <= 4;
  }
  return 0;
}

static int contains_full_stop(const line *l) {
  return memmem(l->s, l->n, "。", 3) != NULL;
}

/* Decides whether the paragraph being rebuilt ends after line i. */
static int pdf_para_ends(const lines *ls, size_t i, int first, int para_marker,
                         int full) {
  const line *l = &ls->v[i];
  if (i + 1 >= ls->n) return 1;
  const line *nx = &ls->v[i + 1];
  int fin = ing_ends_sentence(l->s, l->n);
  if (standalone(l, full) || standalone(nx, full)) return 1;
  /* the next line opens an item (一、 （一） 1. —— 专栏): the current line
   * must have finished its sentence or stopped short of the margin */
  if (ing_item_start(nx->s, nx->n) && (fin || l->w < full - 1)) return 1;
  if (fin) {
    /* A paragraph's first line is indented by two characters (width 4), so
     * it is "short" only when it falls well before the margin. */
    if (l->w < (first ? full - 5 : full - 1)) return 1;
    int32_t last = ing_last_cp(l->s, l->n, NULL);
    if (first && (last == 0xFF1A || last == ':')) return 1; /* addressee line */
    return 0;
  }
  /* a short heading line: 一、过去五年工作回顾 */
  if (first && para_marker && !contains_full_stop(l) && l->w < full - 3) return 1;
  /* a page break (the next page's first line starts with a space) inside a
   * sentence: the paragraph goes on on the next page */
  if (nx->lead_ws && !ing_item_start(nx->s, nx->n)) return 0;
  /* title block: a very short line ends its paragraph when body text (a
   * full line) follows; consecutive short lines are one title */
  if (l->w * 2 < full && !para_marker && nx->w >= full - 5) return 1;
  return 0;
}

int ing_parse_pdftext(const char *s, size_t n, ing_blocks *out) {
  lines ls;
  ing_buf para = {0};
  int rc = split_lines(s, n, 0, &ls);
  if (rc) return rc;
  /* page numbers are layout, not text */
  size_t k = 0;
  for (size_t i = 0; i < ls.n; i++)
    if (!is_page_number(&ls.v[i])) ls.v[k++] = ls.v[i];
  ls.n = k;
  int full = width_percentile(&ls, 75);
  int para_marker = 0;
  for (size_t i = 0; i < ls.n; i++) {
    int first = para.len == 0;
    if (first) para_marker = ing_marker(ls.v[i].s, ls.v[i].n, NULL) != ING_MK_NONE;
    if ((rc = ing_buf_join_line(&para, ls.v[i].s, ls.v[i].n))) goto done;
    if (pdf_para_ends(&ls, i, first, para_marker, full)) {
      if ((rc = ing_blocks_add(out, para.s, para.len, ING_DETECT))) goto done;
      para.len = 0;
    }
  }
done:
  ing_buf_free(&para);
  free(ls.v);
  return rc;
}

/* A short cell-continuation line in a table: 任务目标, 基本同步. */
static int short_fragment(const line *l) {
  return l->w <= 16 && !ing_ends_sentence(l->s, l->n) && !ing_item_start(l->s, l->n);
}

int ing_parse_plaintext(const char *s, size_t n, ing_blocks *out) {
  lines ls;
  ing_buf row = {0}, head = {0};
  int rc = split_lines(s, n, 1, &ls);
  if (rc) return rc;
  int in_row = 0, row_gap = 0; /* a table row is open / a blank line followed it */
  for (size_t i = 0; i < ls.n; i++) {
    const line *l = &ls.v[i];
    if (!l->n) {
      if (in_row) row_gap = 1;
      continue;
    }
    if (in_row) {
      if (l->lead_tab && !row_gap) {  /* next cell of the row */
        if ((rc = ing_buf_putc(&row, ' ')) || (rc = ing_buf_append(&row, l->s, l->n)))
          goto done;
        continue;
      }
      if (!l->lead_tab && (l->lead_ws || row_gap) && short_fragment(l)) {
        /* the cell text wrapped onto a line of its own */
        if ((rc = ing_buf_join_line(&row, l->s, l->n))) goto done;
        row_gap = 0;
        continue;
      }
      if (!l->lead_tab && l->lead_ws && !row_gap) {
        if ((rc = ing_buf_join_line(&row, l->s, l->n))) goto done;
        continue;
      }
      if ((rc = ing_blocks_add(out, row.s, row.len, ING_BODY))) goto done;
      row.len = 0;
      in_row = row_gap = 0;
    }
    if (l->lead_tab) {
      if ((rc = ing_buf_append(&row, l->s, l->n))) goto done;
      in_row = 1;
      continue;
    }
    int mk = ing_marker(l->s, l->n, NULL);
    if ((mk == ING_MK_CHAPTER || mk == ING_MK_SECTION) && !contains_full_stop(l)) {
      /* 第一章  全面建成高质量小康社会，/ 开启全面建设...新征程: a heading
       * wrapped onto a second short line without a sentence of its own */
      size_t j = i + 1;
      while (j < ls.n && !ls.v[j].n) j++;
      head.len = 0;
      if ((rc = ing_buf_append(&head, l->s, l->n))) goto done;
      if (j < ls.n && ls.v[j].w <= 60 && !ls.v[j].lead_tab &&
          !contains_full_stop(&ls.v[j]) && !ing_ends_sentence(ls.v[j].s, ls.v[j].n) &&
          !ing_item_start(ls.v[j].s, ls.v[j].n)) {
        if ((rc = ing_buf_join_line(&head, ls.v[j].s, ls.v[j].n))) goto done;
        i = j;
      }
      if ((rc = ing_blocks_add(out, head.s, head.len, ING_DETECT))) goto done;
      continue;
    }
    if ((rc = ing_blocks_add(out, l->s, l->n, ING_DETECT))) goto done;
  }
  if (in_row) rc = ing_blocks_add(out, row.s, row.len, ING_BODY);
done:
  ing_buf_free(&row);
  ing_buf_free(&head);
  free(ls.v);
  return rc;
}
