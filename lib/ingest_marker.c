/* ingest_marker.c: small shared pieces of the ingest pipeline.
 *
 * - the heading markers of Chinese official documents (第一章, 第一节, 一、,
 *   （一）, 1. / 1、, （1）) and the "new item" test used when rebuilding
 *   paragraphs from PDF extractions;
 * - UTF-8 helpers (code point at / before a position, display width,
 *   sentence-final punctuation);
 * - the growable string and block list used by all parsers. */
#include "ingest_internal.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "ps_tok.h"

/* ---------------------------------------------------------------- UTF-8 */

int32_t ing_cp_at(const char *s, size_t n, size_t *adv) {
  if (n == 0) {
    if (adv) *adv = 0;
    return -1;
  }
  int32_t c;
  size_t k = ps_tok_decode(s, n, &c);
  if (adv) *adv = k; /* (one byte over a bad one: callers always progress) */
  return k == 1 && c == 0xFFFD ? -1 : c; /* (a real U+FFFD takes 3 bytes) */
}

int32_t ing_last_cp(const char *s, size_t n, size_t *start) {
  if (n == 0) {
    if (start) *start = 0;
    return -1;
  }
  size_t i = n - 1;
  /* back over at most 3 continuation bytes */
  while (i > 0 && n - i < 4 && ((unsigned char)s[i] & 0xC0) == 0x80) i--;
  if (start) *start = i;
  return ing_cp_at(s + i, n - i, NULL);
}

int ing_is_space_cp(int32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
         c == '\v' || c == 0x3000 || c == 0xA0;
}

int ing_display_width(const char *s, size_t n) {
  int w = 0;
  size_t i = 0;
  while (i < n) {
    size_t adv;
    int32_t c = ing_cp_at(s + i, n - i, &adv);
    int cw = c < 0 ? 1 : utf8proc_charwidth(c);
    /* East Asian "ambiguous" punctuation (“ ” ‘ ’ — …) is full-width in
     * Chinese typesetting; utf8proc says 1, which would make lines full of
     * quotes look short. */
    if (cw == 1 && c >= 0x2000) cw = 2;
    w += cw;
    i += adv;
  }
  return w;
}

static int is_closing(int32_t c) {
  return c == 0x201D || c == 0x2019 || c == 0x300D || c == 0x300F ||
         c == 0xFF09 || c == ')' || c == '"' || c == '\'' || c == 0x300B;
}

int ing_ends_sentence(const char *s, size_t n) {
  size_t start;
  int32_t c = ing_last_cp(s, n, &start);
  /* closing quotes count only after a final mark: “……。” ends, （注） not */
  int closers = 0;
  while (c >= 0 && is_closing(c) && closers < 3) {
    n = start;
    c = ing_last_cp(s, n, &start);
    closers++;
  }
  return c == 0x3002 || c == 0xFF01 || c == 0xFF1F || c == 0xFF1B ||
         c == 0xFF1A || c == '.' || c == '!' || c == '?' || c == ';' ||
         c == ':';
}

/* -------------------------------------------------------------- markers */

/* Value of a Chinese numeral digit, -1 if c is not one. */
static int cn_digit(int32_t c) {
  static const int32_t d[] = {0x96F6, 0x4E00, 0x4E8C, 0x4E09, 0x56DB, 0x4E94,
                              0x516D, 0x4E03, 0x516B, 0x4E5D};
  for (int i = 0; i < 10; i++)
    if (d[i] == c) return i;
  if (c == 0x3007) return 0; /* 〇 */
  if (c == 0x4E24) return 2; /* 两 */
  return -1;
}

/* Parses a Chinese numeral (一 .. 九十九, 〇 digits) or ASCII digits at s;
 * returns the number of bytes used (0 if none) and the value in *val. */
static size_t parse_number(const char *s, size_t n, int allow_ascii, int *val) {
  size_t i = 0, adv;
  int v = 0, cur = -1, any = 0;
  if (allow_ascii && n && s[0] >= '0' && s[0] <= '9') {
    while (i < n && i < 3 && s[i] >= '0' && s[i] <= '9') v = v * 10 + (s[i++] - '0');
    if (i < n && s[i] >= '0' && s[i] <= '9') return 0; /* 4+ digits: a year */
    *val = v;
    return i;
  }
  while (i < n) {
    int32_t c = ing_cp_at(s + i, n - i, &adv);
    int d = cn_digit(c);
    if (d >= 0) {
      cur = d;
    } else if (c == 0x5341) { /* 十 */
      v += (cur < 0 ? 1 : cur) * 10;
      cur = -1;
    } else if (c == 0x767E) { /* 百 */
      v += (cur < 0 ? 1 : cur) * 100;
      cur = -1;
    } else {
      break;
    }
    any = 1;
    i += adv;
    if (i > 18) break; /* six CJK characters is plenty */
  }
  if (!any) return 0;
  if (cur > 0) v += cur;
  *val = v;
  return i;
}

static int starts_with(const char *s, size_t n, const char *lit) {
  size_t k = strlen(lit);
  return n >= k && memcmp(s, lit, k) == 0;
}

int ing_marker(const char *s, size_t n, int *ordinal) {
  int v = 0, dummy;
  size_t k, adv;
  if (!ordinal) ordinal = &dummy;
  *ordinal = 0;
  if (starts_with(s, n, "第")) {
    k = parse_number(s + 3, n - 3, 1, &v);
    if (k) {
      if (k < n - 3 && s[3 + k] == ' ') k++; /* 第 3 章 */
      const char *p = s + 3 + k;
      size_t rest = n - 3 - k;
      if (starts_with(p, rest, "章")) { *ordinal = v; return ING_MK_CHAPTER; }
      if (starts_with(p, rest, "节")) { *ordinal = v; return ING_MK_SECTION; }
    }
    return ING_MK_NONE;
  }
  if (starts_with(s, n, "（") || starts_with(s, n, "(")) {
    size_t open = s[0] == '(' ? 1 : 3;
    int ascii = n > open && s[open] >= '0' && s[open] <= '9';
    k = parse_number(s + open, n - open, 1, &v);
    if (!k) return ING_MK_NONE;
    const char *p = s + open + k;
    size_t rest = n - open - k;
    if (starts_with(p, rest, "）") || starts_with(p, rest, ")")) {
      *ordinal = v;
      return ascii ? ING_MK_PNUM : ING_MK_PCN;
    }
    return ING_MK_NONE;
  }
  if (n && s[0] >= '0' && s[0] <= '9') {
    k = parse_number(s, n, 1, &v);
    if (!k || k > 2) return ING_MK_NONE;
    const char *p = s + k;
    size_t rest = n - k;
    size_t mk;
    if (starts_with(p, rest, ".")) mk = 1;
    else if (starts_with(p, rest, "．") || starts_with(p, rest, "、")) mk = 3;
    else return ING_MK_NONE;
    /* 1.5%, 2.0 are numbers; "1." must be followed by text */
    if (rest <= mk) return ING_MK_NONE;
    int32_t nx = ing_cp_at(p + mk, rest - mk, &adv);
    if ((nx >= '0' && nx <= '9') || nx == '%') return ING_MK_NONE;
    *ordinal = v;
    return ING_MK_NUM;
  }
  k = parse_number(s, n, 0, &v);
  /* 一、 but not 一般 一是 一批 一体化: the numeral must be followed by 、 */
  if (k && k <= 9 && starts_with(s + k, n - k, "、") && v > 0) {
    *ordinal = v;
    return ING_MK_CN;
  }
  return ING_MK_NONE;
}

int ing_item_start(const char *s, size_t n) {
  int v;
  if (ing_marker(s, n, NULL) != ING_MK_NONE) return 1;
  if (starts_with(s, n, "——")) return 1;
  if (starts_with(s, n, "专栏") || starts_with(s, n, "专题")) {
    size_t i = 6;
    while (i < n && s[i] == ' ') i++;
    if (i < n && s[i] >= '0' && s[i] <= '9') return 1;
    if (parse_number(s + i, n - i, 0, &v)) return 1;
  }
  return 0;
}

/* --------------------------------------------------------------- ing_buf */

static int buf_reserve(ing_buf *b, size_t extra) {
  if (b->len + extra + 1 <= b->cap) return PS_OK;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < b->len + extra + 1) cap *= 2;
  char *s = realloc(b->s, cap);
  if (!s) return PS_ERR_NOMEM;
  b->s = s;
  b->cap = cap;
  return PS_OK;
}

int ing_buf_append(ing_buf *b, const char *p, size_t n) {
  if (buf_reserve(b, n)) return PS_ERR_NOMEM;
  if (n) memcpy(b->s + b->len, p, n);
  b->len += n;
  b->s[b->len] = '\0';
  return PS_OK;
}

int ing_buf_putc(ing_buf *b, char c) { return ing_buf_append(b, &c, 1); }

static int ascii_alnum(int c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int ing_buf_join_line(ing_buf *b, const char *line, size_t n) {
  if (n == 0) return PS_OK;
  if (b->len && ascii_alnum((unsigned char)b->s[b->len - 1]) &&
      ascii_alnum((unsigned char)line[0]))
    if (ing_buf_putc(b, ' ')) return PS_ERR_NOMEM;
  return ing_buf_append(b, line, n);
}

void ing_buf_free(ing_buf *b) {
  free(b->s);
  b->s = NULL;
  b->len = b->cap = 0;
}

/* ------------------------------------------------------------ ing_blocks */

int ing_blocks_add(ing_blocks *b, const char *text, size_t n, int level) {
  size_t adv, st;
  /* trim whitespace, including U+3000, on both sides */
  while (n) {
    int32_t c = ing_cp_at(text, n, &adv);
    if (!ing_is_space_cp(c)) break;
    text += adv;
    n -= adv;
  }
  while (n) {
    int32_t c = ing_last_cp(text, n, &st);
    if (!ing_is_space_cp(c)) break;
    n = st;
  }
  if (n == 0) return PS_OK;
  if (b->n == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 32;
    ing_block *v = realloc(b->v, cap * sizeof *v);
    if (!v) return PS_ERR_NOMEM;
    b->v = v;
    b->cap = cap;
  }
  char *t = malloc(n + 1);
  if (!t) return PS_ERR_NOMEM;
  memcpy(t, text, n);
  t[n] = '\0';
  b->v[b->n].text = t;
  b->v[b->n].len = n;
  b->v[b->n].level = level;
  b->n++;
  return PS_OK;
}

void ing_blocks_free(ing_blocks *b) {
  for (size_t i = 0; i < b->n; i++) free(b->v[i].text);
  free(b->v);
  free(b->title);
  b->v = NULL;
  b->title = NULL;
  b->n = b->cap = 0;
}
