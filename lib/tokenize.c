/* tokenize.c: normaliser, index/query term generation and the match verifier
 * (the contract is described in ps_tok.h).  Everything here works on one
 * character at a time so that normalised offsets map back to the original. */
#include "ps_tok.h"

#include <opencc/opencc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "ps_memfind.h"

/* ---- traditional → simplified ------------------------------------------
 * Simplified and traditional Chinese are the same for search.  OpenCC's
 * t2s conversion is applied character by character (so that every
 * normalised byte still maps back to one source character) through a table
 * that is immutable once a process has one.  The table comes from the
 * database when it holds one (ps_tok_t2s_adopt: a database is searched with
 * the table it was built with, whatever OpenCC is installed now), else it
 * is built from OpenCC on first use (~25 ms: 27,000 conversions). */

#define T2S_FIRST 0x3400
#define T2S_LAST 0x9FFF
#define T2S_N (T2S_LAST - T2S_FIRST + 1)
#define T2S_HEADER "t2s 3400-9fff\n"

static int is_cjk(int32_t c);

static _Atomic(int32_t *) t2s_table; /* [T2S_N]; set once, then only read */
static pthread_mutex_t t2s_lock = PTHREAD_MUTEX_INITIALIZER;
static char t2s_error[256];          /* why OpenCC gave no table; under t2s_lock */

static int32_t *t2s_from_opencc(void) {
  char *in = malloc(T2S_N * 4 + 1), *p = in, *out = NULL;
  int32_t *table = malloc(T2S_N * sizeof *table);
  opencc_t cc = opencc_open("t2s.json");
  if (!in || !table || cc == (opencc_t)-1) {
    snprintf(t2s_error, sizeof t2s_error, "OpenCC: cannot load t2s.json (%s); install opencc",
             cc == (opencc_t)-1 ? opencc_error() : "out of memory");
    goto fail;
  }
  for (int32_t c = T2S_FIRST; c <= T2S_LAST; c++) {
    p += utf8proc_encode_char(c, (utf8proc_uint8_t *)p);
    *p++ = '\n';
  }
  out = opencc_convert_utf8(cc, in, (size_t)(p - in));
  if (!out) {
    snprintf(t2s_error, sizeof t2s_error, "OpenCC: conversion failed: %s", opencc_error());
    goto fail;
  }
  /* One line per character; a line that is one other ideograph maps it
   * (ps_tok_t2s_adopt accepts nothing else from a database either). */
  const char *q = out;
  for (size_t k = 0; k < T2S_N; k++) table[k] = T2S_FIRST + (int32_t)k;
  for (size_t k = 0; k < T2S_N; k++) {
    const char *nl = strchr(q, '\n');
    size_t len = nl ? (size_t)(nl - q) : strlen(q);
    if (len > 0) {
      int32_t to;
      size_t used = ps_tok_decode(q, len, &to);
      if (used == len && is_cjk(to)) table[k] = to;
    }
    if (!nl) break;
    q = nl + 1;
  }
  goto done;
fail:
  free(table);
  table = NULL;
done:
  if (out) opencc_convert_utf8_free(out);
  if (cc != (opencc_t)-1 && cc) opencc_close(cc);
  free(in);
  return table;
}

/* The table in use, built from OpenCC if there is none yet; NULL (and
 * t2s_error says why) when OpenCC cannot give one. */
static int32_t *t2s_get(void) {
  int32_t *t = atomic_load_explicit(&t2s_table, memory_order_acquire);
  if (t) return t;
  pthread_mutex_lock(&t2s_lock);
  t = atomic_load_explicit(&t2s_table, memory_order_relaxed);
  if (!t && !t2s_error[0]) {
    t = t2s_from_opencc();
    if (t) atomic_store_explicit(&t2s_table, t, memory_order_release);
  }
  pthread_mutex_unlock(&t2s_lock);
  return t;
}

int ps_tok_init(ps_error *err) {
  if (t2s_get()) return PS_OK;
  pthread_mutex_lock(&t2s_lock);
  int rc = ps_error_set(err, PS_ERR_USAGE, "%s", t2s_error);
  pthread_mutex_unlock(&t2s_lock);
  return rc;
}

int ps_tok_t2s_export(char **out, ps_error *err) {
  *out = NULL;
  int rc = ps_tok_init(err);
  if (rc) return rc;
  const int32_t *t = atomic_load_explicit(&t2s_table, memory_order_acquire);
  size_t n = 0;
  for (size_t k = 0; k < T2S_N; k++) n += t[k] != T2S_FIRST + (int32_t)k;
  char *s = malloc(sizeof T2S_HEADER + n * 8), *p = s;
  if (!s) return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  memcpy(p, T2S_HEADER, sizeof T2S_HEADER - 1);
  p += sizeof T2S_HEADER - 1;
  for (size_t k = 0; k < T2S_N; k++) {
    if (t[k] == T2S_FIRST + (int32_t)k) continue;
    p += utf8proc_encode_char(T2S_FIRST + (int32_t)k, (utf8proc_uint8_t *)p);
    p += utf8proc_encode_char(t[k], (utf8proc_uint8_t *)p);
  }
  *p = '\0';
  *out = s;
  return PS_OK;
}

/* Reads a table written by ps_tok_t2s_export; NULL when s is not one. */
static int32_t *t2s_parse(const char *s, size_t len) {
  size_t hl = sizeof T2S_HEADER - 1;
  if (len < hl || memcmp(s, T2S_HEADER, hl) != 0) return NULL;
  int32_t *t = malloc(T2S_N * sizeof *t);
  if (!t) return NULL;
  for (size_t k = 0; k < T2S_N; k++) t[k] = T2S_FIRST + (int32_t)k;
  for (size_t i = hl; i < len;) {
    utf8proc_int32_t from, to;
    utf8proc_ssize_t a = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
                                          (utf8proc_ssize_t)(len - i), &from);
    if (a <= 0 || from < T2S_FIRST || from > T2S_LAST) goto bad;
    i += (size_t)a;
    utf8proc_ssize_t b = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
                                          (utf8proc_ssize_t)(len - i), &to);
    if (b <= 0 || !is_cjk(to)) goto bad; /* (no control, no ASCII from a damaged file) */
    i += (size_t)b;
    t[from - T2S_FIRST] = to;
  }
  return t;
bad:
  free(t);
  return NULL;
}

int ps_tok_t2s_adopt(const char *s, size_t len, ps_error *err) {
  int32_t *t = t2s_parse(s, len);
  if (!t) return ps_error_set(err, PS_ERR_CORRUPT, "unreadable traditional->simplified table");
  int rc = PS_OK;
  pthread_mutex_lock(&t2s_lock);
  const int32_t *have = atomic_load_explicit(&t2s_table, memory_order_relaxed);
  if (!have) {
    atomic_store_explicit(&t2s_table, t, memory_order_release);
    t = NULL;
  } else if (memcmp(have, t, T2S_N * sizeof *t) != 0) {
    rc = ps_error_set(err, PS_ERR_SCHEME,
                      "built with a different traditional->simplified table (another "
                      "OpenCC version) than the database this program already uses");
  }
  pthread_mutex_unlock(&t2s_lock);
  free(t);
  return rc;
}

static int32_t t2s(int32_t c) {
  if (c < T2S_FIRST || c > T2S_LAST) return c;
  const int32_t *t = t2s_get();
  return t ? t[c - T2S_FIRST] : c;
}

/* The code point of a three-byte sequence (validity checked by the caller). */
static inline int32_t decode3(const unsigned char *u) {
  return (int32_t)((u[0] & 0x0F) << 12 | (u[1] & 0x3F) << 6 | (u[2] & 0x3F));
}

size_t ps_tok_decode(const char *s, size_t len, int32_t *cp) {
  const unsigned char *u = (const unsigned char *)s;
  if (u[0] < 0x80) {
    *cp = u[0];
    return 1;
  }
  /* Three bytes led by E1..EC or EE..EF (Chinese text, full-width forms):
   * every pair of continuation bytes is a valid character there (E0 and ED
   * have overlong and surrogate forms: utf8proc checks those). */
  if (len >= 3 && ((u[0] >= 0xE1 && u[0] <= 0xEC) || u[0] >= 0xEE) && u[0] <= 0xEF &&
      (u[1] & 0xC0) == 0x80 && (u[2] & 0xC0) == 0x80) {
    *cp = decode3(u);
    return 3;
  }
  utf8proc_int32_t c;
  utf8proc_ssize_t n = utf8proc_iterate(u, (utf8proc_ssize_t)(len > 4 ? 4 : len), &c);
  if (n <= 0) {
    *cp = 0xFFFD;
    return 1;
  }
  *cp = c;
  return (size_t)n;
}

static int is_cjk(int32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x3FFFF) || (c >= 0xF900 && c <= 0xFAFF) ||
         (c >= 0x2E80 && c <= 0x2FDF) || (c >= 0x3005 && c <= 0x3007) ||
         (c >= 0x3021 && c <= 0x3029) || (c >= 0x3038 && c <= 0x303B) ||
         (c >= 0x3040 && c <= 0x30FF && c != 0x30FB) || (c >= 0x3100 && c <= 0x312F) ||
         (c >= 0x31A0 && c <= 0x31BF) || (c >= 0x31F0 && c <= 0x31FF) ||
         (c >= 0xAC00 && c <= 0xD7AF) || (c >= 0x1100 && c <= 0x11FF);
}

int ps_tok_class(int32_t c) {
  if (c < 0x80) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
      return PS_TOK_ALNUM;
    if (c == ' ' || (c >= '\t' && c <= '\r')) return PS_TOK_SPACE;
    return PS_TOK_OTHER;
  }
  if (is_cjk(c)) return PS_TOK_CJK;
  switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC:
      return PS_TOK_ALNUM;
    case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP:
      return PS_TOK_SPACE;
    default:
      return PS_TOK_OTHER;
  }
}

/* ---- normalisation ---------------------------------------------------- */

typedef struct nbuf {
  char *text;
  uint32_t *map;
  size_t len, cap;
  int ok;
} nbuf;

static void nb_put(nbuf *b, int32_t cp, uint32_t src) {
  if (!b->ok) return;
  if (b->len + 5 > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 256;
    char *t = realloc(b->text, cap);
    if (!t) { b->ok = 0; return; }
    b->text = t;
    if (b->map) {
      uint32_t *m = realloc(b->map, (cap + 1) * sizeof *m);
      if (!m) { b->ok = 0; return; }
      b->map = m;
    }
    b->cap = cap;
  }
  utf8proc_ssize_t n = utf8proc_encode_char(cp, (utf8proc_uint8_t *)b->text + b->len);
  if (b->map)
    for (utf8proc_ssize_t i = 0; i < n; i++) b->map[b->len + i] = src;
  b->len += (size_t)n;
}

/* Brackets of every shape are one: document numbers are written 〔2021〕,
 * [2021], ［2021］ or (2021) and must all match one another. */
static int32_t unify_bracket(int32_t c) {
  switch (c) {
    case '[': case 0x3014: case 0x3010: case 0x3016: case 0x3018: return '(';
    case ']': case 0x3015: case 0x3011: case 0x3017: case 0x3019: return ')';
    default: return c;
  }
}

/* Folds one code point into out[] (up to 18 code points) before the t2s
 * table (the caller applies it); returns the count, 0 when the character
 * disappears (format characters, controls). */
static int fold_char(int32_t c, int32_t out[18]) {
  c = unify_bracket(c);
  if (c < 0x80) {
    if (c >= 'A' && c <= 'Z') c += 'a' - 'A';
    if (c < 0x20 || c == 0x7F) {
      if (c >= '\t' && c <= '\r') { out[0] = ' '; return 1; }
      return 0;
    }
    out[0] = c;
    return 1;
  }
  if (c >= 0x4E00 && c <= 0x9FFF) { out[0] = c; return 1; }
  utf8proc_int32_t buf[18];
  int last = 0;
  utf8proc_ssize_t n = utf8proc_decompose_char(
      c, buf, 18,
      UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE |
          UTF8PROC_STRIPCC,
      &last);
  if (n < 0 || n > 18) { out[0] = c; return 1; }
  if (n > 1) {
    n = utf8proc_normalize_utf32(buf, n, UTF8PROC_COMPOSE | UTF8PROC_STABLE);
    if (n < 0) { out[0] = c; return 1; }
  }
  int k = 0;
  for (utf8proc_ssize_t i = 0; i < n; i++) {
    if (utf8proc_category(buf[i]) == UTF8PROC_CATEGORY_CF) continue;
    out[k++] = unify_bracket(buf[i]);
  }
  return k;
}

/* fold_char's answers for the Basic Multilingual Plane, and the class of
 * their one code point, remembered for the process: outside the ideographs
 * (which have their own fast path) a character costs a utf8proc
 * decomposition and a category look-up, and Chinese text is a tenth
 * punctuation (，。、“”（）), section paths and snippets more.  An entry is
 * 0 until first met; fold_char is a pure function, so threads that fill
 * one entry at once write the same value.  Before the t2s table, which
 * stays the caller's (it maps ideographs to ideographs, so the class holds
 * unless t2s changes the character, where it is taken again). */
#define FM_KNOWN 0x80000000u
#define FM_MANY 0x40000000u /* folds to several: fold_char every time */
#define FM_NONE 0x20000000u /* folds to nothing */
#define FM_CLASS_SHIFT 24
static _Atomic uint32_t fold_memo[0x10000];

/* The fold of c (k code points into out, after t2s) with, when k == 1,
 * the class of out[0] in *cls (else *cls = -1: the caller classifies). */
static int fold_known(int32_t c, int32_t out[18], int *cls) {
  uint32_t e = c >= 0 && c < 0x10000
                   ? atomic_load_explicit(&fold_memo[c], memory_order_relaxed) : FM_MANY;
  *cls = -1;
  if (e & FM_KNOWN && !(e & FM_MANY)) {
    if (e & FM_NONE) return 0;
    int32_t f = (int32_t)(e & 0x1FFFFF), s = t2s(f);
    out[0] = s;
    *cls = s == f ? (int)(e >> FM_CLASS_SHIFT & 3) : ps_tok_class(s);
    return 1;
  }
  int k = fold_char(c, out);
  if (!(e & FM_KNOWN)) {
    e = k > 1 ? FM_KNOWN | FM_MANY
        : k == 0 ? FM_KNOWN | FM_NONE
                 : FM_KNOWN | (uint32_t)ps_tok_class(out[0]) << FM_CLASS_SHIFT | (uint32_t)out[0];
    atomic_store_explicit(&fold_memo[c], e, memory_order_relaxed);
  }
  for (int j = 0; j < k; j++) out[j] = t2s(out[j]);
  return k;
}

int ps_tok_normalize(const char *in, size_t len, int want_map, ps_norm *out) {
  nbuf b = {0};
  b.ok = 1;
  if (want_map) {
    b.map = malloc(sizeof *b.map);
    if (!b.map) return PS_ERR_NOMEM;
  }
  int prev_class = PS_TOK_OTHER; /* class of the last emitted character */
  int pending_space = 0;
  uint32_t space_src = 0;
  size_t i = 0;
  while (i < len && b.ok) {
    int32_t cp, f[18];
    /* Most of the text: an ideograph of U+4E00..U+9FFF (lead byte E4..E9,
     * always a valid sequence), which only the t2s table changes; decoded,
     * folded and written here (what the general path below does for it,
     * without its calls per character). */
    const unsigned char *u = (const unsigned char *)in + i;
    if (u[0] >= 0xE4 && u[0] <= 0xE9 && len - i >= 3 && (u[1] & 0xC0) == 0x80 &&
        (u[2] & 0xC0) == 0x80) {
      cp = decode3(u);
      int32_t s = cp >= 0x4E00 ? t2s(cp) : -1;
      if (s >= 0x4E00 && s <= 0x9FFF && b.len + 5 <= b.cap) {
        pending_space = 0; /* (dropped: a CJK character is not a letter or digit) */
        char *t = b.text + b.len;
        t[0] = (char)(0xE0 | s >> 12);
        t[1] = (char)(0x80 | (s >> 6 & 0x3F));
        t[2] = (char)(0x80 | (s & 0x3F));
        if (b.map) b.map[b.len] = b.map[b.len + 1] = b.map[b.len + 2] = (uint32_t)i;
        b.len += 3;
        prev_class = PS_TOK_CJK;
        i += 3;
        continue;
      }
    }
    size_t n = ps_tok_decode(in + i, len - i, &cp);
    int cls1;
    int k = fold_known(cp, f, &cls1);
    for (int j = 0; j < k; j++) {
      int cls = cls1 >= 0 ? cls1 : ps_tok_class(f[j]);
      if (cls == PS_TOK_SPACE) {
        if (!pending_space) space_src = (uint32_t)i;
        pending_space = 1;
        continue;
      }
      if (pending_space && prev_class == PS_TOK_ALNUM && cls == PS_TOK_ALNUM)
        nb_put(&b, ' ', space_src);
      pending_space = 0;
      nb_put(&b, f[j], (uint32_t)i);
      prev_class = cls;
    }
    i += n;
  }
  if (b.ok && !b.text) nb_put(&b, 'x', 0), b.len = 0; /* allocate for "" */
  if (!b.ok) {
    free(b.text);
    free(b.map);
    return PS_ERR_NOMEM;
  }
  b.text[b.len] = '\0';
  if (b.map) b.map[b.len] = (uint32_t)len;
  out->text = b.text;
  out->len = b.len;
  out->map = b.map;
  return PS_OK;
}

void ps_norm_free(ps_norm *n) {
  if (!n) return;
  free(n->text);
  free(n->map);
  n->text = NULL;
  n->map = NULL;
  n->len = 0;
}

/* ---- character classes in context --------------------------------------- */

static int is_digit_at(const char *s, size_t len, size_t i) {
  if (i >= len) return 0;
  unsigned char c = (unsigned char)s[i];
  if (c < 0x80) return c >= '0' && c <= '9';
  int32_t cp;
  ps_tok_decode(s + i, len - i, &cp);
  return utf8proc_category(cp) == UTF8PROC_CATEGORY_ND;
}

/* Start of the character that ends just before byte i (i > 0). */
static size_t prev_start(const char *s, size_t i) {
  size_t j = i - 1;
  while (j > 0 && ((unsigned char)s[j] & 0xC0) == 0x80) j--;
  return j;
}

/* Is the character starting at byte i part of a token? ('.' only between
 * two digits.) */
static int tok_char_at(const char *s, size_t len, size_t i) {
  unsigned char c = (unsigned char)s[i];
  if (c == '.')
    return i > 0 && is_digit_at(s, len, prev_start(s, i)) && is_digit_at(s, len, i + 1);
  if (c < 0x80)
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  int32_t cp;
  ps_tok_decode(s + i, len - i, &cp);
  return ps_tok_class(cp) == PS_TOK_ALNUM;
}

/* A match may begin or end at byte p only if p does not split a token. */
static int is_boundary(const char *s, size_t len, size_t p) {
  if (p == 0 || p >= len) return 1;
  return !(tok_char_at(s, len, prev_start(s, p)) && tok_char_at(s, len, p));
}

/* ---- term walks ---------------------------------------------------------- */

static size_t clip_term(const char *t, size_t n) {
  if (n <= PS_TOK_MAX_TERM) return n;
  n = PS_TOK_MAX_TERM;
  while (n > 0 && ((unsigned char)t[n] & 0xC0) == 0x80) n--;
  return n;
}

/* Walks the runs of s, emitting the terms described in ps_tok.h. */
typedef struct walk {
  ps_tok_term_fn fn;
  void *ctx;
  int query;     /* query mode: bigrams only for CJK runs of 2+ characters */
  int n_cjk_chars, n_tokens, n_other;
  size_t token_len;
} walk;

static int walk_terms(walk *w, const char *s, size_t len) {
  size_t i = 0;
  int rc = PS_OK;
  while (i < len) {
    int32_t cp;
    size_t n = ps_tok_decode(s + i, len - i, &cp);
    int cls = ps_tok_class(cp);
    if (cls == PS_TOK_CJK) {
      size_t prev = 0, run = 0;
      while (i < len) {
        n = ps_tok_decode(s + i, len - i, &cp);
        if (ps_tok_class(cp) != PS_TOK_CJK) break;
        if (!w->query && (rc = w->fn(w->ctx, s + i, n))) return rc;
        if (run > 0 && (rc = w->fn(w->ctx, s + prev, i + n - prev))) return rc;
        prev = i;
        run++;
        i += n;
      }
      w->n_cjk_chars += (int)run;
      if (w->query && run == 1 && (rc = w->fn(w->ctx, s + prev, i - prev))) return rc;
    } else if (tok_char_at(s, len, i)) {
      size_t st = i;
      while (i < len && tok_char_at(s, len, i)) i += ps_tok_decode(s + i, len - i, &cp);
      w->n_tokens++;
      size_t tl = clip_term(s + st, i - st);
      w->token_len = tl < i - st ? (size_t)-1 : tl;
      if ((rc = w->fn(w->ctx, s + st, tl))) return rc;
    } else {
      if (cls != PS_TOK_SPACE) w->n_other++;
      i += n;
    }
  }
  return rc;
}

int ps_tok_index_terms(const char *norm, size_t len, ps_tok_term_fn fn, void *ctx) {
  walk w = {fn, ctx, 0, 0, 0, 0, 0};
  return walk_terms(&w, norm, len);
}

int ps_tok_query_terms(const char *q, size_t qlen, ps_tok_term_fn fn, void *ctx,
                       int *exact) {
  walk w = {fn, ctx, 1, 0, 0, 0, 0};
  int rc = walk_terms(&w, q, qlen);
  if (exact) {
    int cjk_only = w.n_tokens == 0 && w.n_other == 0 && w.n_cjk_chars >= 1 &&
                   w.n_cjk_chars <= 2;
    int tok_only = w.n_tokens == 1 && w.n_cjk_chars == 0 && w.n_other == 0 &&
                   w.token_len == qlen;
    *exact = cjk_only || tok_only;
  }
  return rc;
}

size_t ps_tok_find(const char *text, size_t tlen, const char *q, size_t qlen,
                   size_t from) {
  if (qlen == 0 || qlen > tlen) return (size_t)-1;
  while (from + qlen <= tlen) {
    const char *hit = ps_memfind(text + from, tlen - from, q, qlen);
    if (!hit) return (size_t)-1;
    size_t p = (size_t)(hit - text);
    if (is_boundary(text, tlen, p) && is_boundary(text, tlen, p + qlen)) return p;
    from = p + 1;
    while (from < tlen && ((unsigned char)text[from] & 0xC0) == 0x80) from++;
  }
  return (size_t)-1;
}
