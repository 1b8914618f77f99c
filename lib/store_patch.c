/* store_patch.c: the text as written, kept as a patch on the normalised text.
 *
 * The store needs the normalised text of every paragraph (candidates are
 * verified against it) but the text as written only for the paragraphs that
 * are shown.  Normalisation changes few characters of Chinese text (mostly
 * full-width punctuation, some letters' case, spaces PDF extraction left), so
 * the text as written is stored as the list of places where it differs:
 *
 *   op      = varint(copy << 1 | 1)                        widen
 *           | varint(copy << 1) varint(skip) varint(n) n bytes   literal
 *
 * Each op first copies `copy` bytes of the normalised text unchanged; a
 * widen op then turns the next normalised byte, an ASCII character 0x21-0x7E,
 * into its full-width form U+FF01-U+FF5E (，；：（） in Chinese text: the
 * commonest difference, two bytes or fewer an occurrence); a literal op skips
 * `skip` normalised bytes and writes n bytes of the original.  After the last
 * op the rest of the normalised text is copied.  An empty patch means the
 * text is its normalised form.
 *
 * The encoder reads the normaliser's map (ps_tok.h: normalised byte ->
 * offset of the original character that produced it), so it needs no
 * knowledge of the normalisation itself; it checks its own output and falls
 * back to one literal of the whole text if the map does not describe it. */
#include <stdlib.h>
#include <string.h>

#include "ps_store.h"

typedef struct pbuf {
  unsigned char *p;
  size_t len, cap;
  int ok;
} pbuf;

static void put(pbuf *b, const void *src, size_t n) {
  if (!b->ok || !n) return;
  if (b->len + n > b->cap) {
    size_t c = b->cap ? b->cap * 2 : 64;
    while (c < b->len + n) c *= 2;
    unsigned char *q = realloc(b->p, c);
    if (!q) {
      b->ok = 0;
      return;
    }
    b->p = q;
    b->cap = c;
  }
  memcpy(b->p + b->len, src, n);
  b->len += n;
}

static void put_varint(pbuf *b, size_t v) {
  unsigned char tmp[10];
  size_t n = 0;
  do {
    tmp[n++] = (unsigned char)((v & 0x7F) | (v > 0x7F ? 0x80 : 0));
    v >>= 7;
  } while (v);
  put(b, tmp, n);
}

static int get_varint(const unsigned char **p, const unsigned char *end, size_t *v) {
  size_t r = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*p == end) return 0;
    unsigned char c = *(*p)++;
    r |= (size_t)(c & 0x7F) << shift;
    if (!(c & 0x80)) {
      *v = r;
      return 1;
    }
  }
  return 0;
}

/* Is orig[0..olen) the full-width form of the one ASCII byte c? */
static int is_widened(unsigned char c, const unsigned char *orig, size_t olen) {
  if (c < 0x21 || c > 0x7E || olen != 3) return 0;
  unsigned cp = 0xFF01 + (c - 0x21);
  return orig[0] == 0xEF && orig[1] == (0x80 | ((cp >> 6) & 0x3F)) &&
         orig[2] == (0x80 | (cp & 0x3F));
}

/* Rebuilds into b; returns 1, or 0 for a patch that does not fit norm. */
static int apply(const unsigned char *norm, size_t nlen, const unsigned char *patch,
                 size_t plen, pbuf *b) {
  const unsigned char *p = patch, *end = patch + plen;
  size_t pos = 0;
  while (p < end) {
    size_t v, copy, skip, n;
    if (!get_varint(&p, end, &v)) return 0;
    copy = v >> 1;
    if (copy > nlen - pos) return 0;
    put(b, norm + pos, copy);
    pos += copy;
    if (v & 1) {
      if (pos == nlen || norm[pos] < 0x21 || norm[pos] > 0x7E) return 0;
      unsigned cp = 0xFF01 + (norm[pos++] - 0x21);
      unsigned char w[3] = {0xEF, (unsigned char)(0x80 | ((cp >> 6) & 0x3F)),
                            (unsigned char)(0x80 | (cp & 0x3F))};
      put(b, w, 3);
    } else {
      if (!get_varint(&p, end, &skip) || !get_varint(&p, end, &n)) return 0;
      if (skip > nlen - pos || n > (size_t)(end - p)) return 0;
      pos += skip;
      put(b, p, n);
      p += n;
    }
  }
  put(b, norm + pos, nlen - pos);
  return 1;
}

/* Pending literal of the encoder: skip normalised bytes, write original ones. */
typedef struct lit {
  int on;
  size_t skip, from, len;
} lit;

static void flush_lit(pbuf *b, lit *l, size_t *copy, const unsigned char *text) {
  if (!l->on) return;
  put_varint(b, *copy << 1), put_varint(b, l->skip), put_varint(b, l->len);
  put(b, text + l->from, l->len);
  l->on = 0;
  *copy = 0;
}

static void add_lit(lit *l, size_t skip, size_t from, size_t len) {
  if (!l->on) l->on = 1, l->skip = 0, l->from = from, l->len = 0;
  l->skip += skip;
  l->len += len; /* segments are consecutive in the original */
}

/* The ops for norm/map/text; 0 when map does not describe text. */
static int encode(const unsigned char *norm, size_t nlen, const uint32_t *map,
                  const unsigned char *text, size_t tlen, pbuf *b) {
  size_t copy = 0, i = 0, o = 0; /* normalised byte, original offset reached */
  lit l = {0, 0, 0, 0};
  if (map[nlen] != tlen) return 0;
  while (i < nlen || o < tlen) {
    /* One segment: the normalised bytes [i, j) that original offset o
     * produced and the original bytes [o, next) up to the next offset that
     * produced something (characters that produced nothing, such as
     * removed spaces, go with the character before them). */
    size_t j = i, next;
    if (i < nlen && map[i] < o) return 0; /* not monotonic */
    if (i < nlen && map[i] == o) {
      while (j < nlen && map[j] == o) j++;
      next = j < nlen ? map[j] : tlen;
    } else {
      next = i < nlen ? map[i] : tlen; /* leading bytes that produced nothing */
    }
    if (next < o || next > tlen || (next == o && j == i)) return 0;
    const unsigned char *orig = text + o;
    size_t olen = next - o, sn = j - i;
    if (sn <= olen && !memcmp(norm + i, orig, sn)) {
      if (sn) flush_lit(b, &l, &copy, text), copy += sn;
      if (olen > sn) add_lit(&l, 0, o + sn, olen - sn);
    } else if (sn == 1 && is_widened(norm[i], orig, olen)) {
      flush_lit(b, &l, &copy, text);
      put_varint(b, copy << 1 | 1);
      copy = 0;
    } else {
      add_lit(&l, sn, o, olen);
    }
    i = j;
    o = next;
  }
  flush_lit(b, &l, &copy, text);
  return 1;
}

int ps_store_patch(const char *norm, size_t nlen, const uint32_t *map, const char *text,
                   size_t tlen, unsigned char **out, size_t *out_len) {
  pbuf b = {NULL, 0, 0, 1}, check = {NULL, 0, 0, 1};
  const unsigned char *n = (const unsigned char *)norm, *t = (const unsigned char *)text;
  int good = map && encode(n, nlen, map, t, tlen, &b) && b.ok;
  if (good) { /* the patch must give the text back, byte for byte */
    good = apply(n, nlen, b.p, b.len, &check) && check.ok && check.len == tlen &&
           (tlen == 0 || !memcmp(check.p, t, tlen));
    if (!check.ok) b.ok = 0;
    free(check.p);
  }
  if (!good && b.ok) { /* one literal: skip all of norm, write all of text */
    b.len = 0;
    put_varint(&b, 0), put_varint(&b, nlen), put_varint(&b, tlen);
    put(&b, t, tlen);
  }
  if (!b.ok) {
    free(b.p);
    *out = NULL;
    *out_len = 0;
    return PS_ERR_NOMEM;
  }
  *out = b.p;
  *out_len = b.len;
  return PS_OK;
}

int ps_store_text(const ps_store_rec *rec, char **out, size_t *len) {
  pbuf b = {NULL, 0, 0, 1};
  *out = NULL;
  *len = 0;
  if (rec->text) { /* a record being written still has its text */
    put(&b, rec->text, rec->text_len);
  } else if (!apply((const unsigned char *)rec->norm, rec->norm_len, rec->patch,
                    rec->patch_len, &b)) {
    free(b.p);
    return PS_ERR_CORRUPT;
  }
  put(&b, "", 1);
  if (!b.ok) {
    free(b.p);
    return PS_ERR_NOMEM;
  }
  *out = (char *)b.p;
  *len = b.len - 1;
  return PS_OK;
}
