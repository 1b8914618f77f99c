/* query.c: the query parser (see ps_query.h). */
#include "ps_query.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ps_tok.h"

static int is_space_at(const char *s, size_t *n) {
  unsigned char c = (unsigned char)s[0];
  if (c == ' ' || (c >= '\t' && c <= '\r')) { *n = 1; return 1; }
  if (c == 0xE3 && s[1] == '\x80' && s[2] == '\x80') { *n = 3; return 1; } /* U+3000 */
  return 0;
}

/* Opening quote at s: returns its byte length, 0 if none; sets the closer.
 * Only ASCII quotes: Chinese “” are text that users paste (“通武廊”) and are
 * matched literally. */
static size_t open_quote(const char *s, const char **closer) {
  if (s[0] == '"') { *closer = "\""; return 1; }
  return 0;
}

static size_t char_pos(const char *q, size_t byte) {
  size_t n = 0;
  for (size_t i = 0; i < byte; i++) n += ((unsigned char)q[i] & 0xC0) != 0x80;
  return n;
}

static int add_word(ps_query *pq, size_t *cap, const char *w, size_t len, int quoted,
                    size_t pos, ps_error *err) {
  ps_norm n;
  if (ps_tok_normalize(w, len, 0, &n) != PS_OK)
    return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  if (n.len == 0) {
    ps_norm_free(&n);
    return PS_OK;
  }
  if (pq->n_words == *cap) {
    size_t c = *cap ? *cap * 2 : 8;
    ps_qword *nw = realloc(pq->words, c * sizeof *nw);
    if (!nw) {
      ps_norm_free(&n);
      return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
    }
    pq->words = nw;
    *cap = c;
  }
  ps_qword *qw = &pq->words[pq->n_words];
  qw->raw = strndup(w, len);
  qw->norm = n.text;
  qw->norm_len = n.len;
  qw->quoted = quoted;
  qw->pos = pos;
  if (!qw->raw) {
    ps_norm_free(&n);
    return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  }
  pq->n_words++;
  return PS_OK;
}

static const char *const field_names[] = {"year", "region", "type", "project"};

/* FIELD: at q+i (ASCII letters then ':')?  Returns the length of "FIELD:"
 * and the field (-1 when the letters name no field), 0 when not a field. */
static size_t field_prefix(const char *s, int *field) {
  size_t n = 0;
  while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z')) n++;
  if (n == 0 || s[n] != ':') return 0;
  *field = -1;
  for (int f = 0; f < (int)(sizeof field_names / sizeof *field_names); f++)
    if (strlen(field_names[f]) == n && strncasecmp(s, field_names[f], n) == 0) *field = f;
  return n + 1;
}

static int parse_year(const char *s, size_t n, int *y) {
  if (n != 4) return -1;
  int v = 0;
  for (size_t i = 0; i < 4; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  *y = v;
  return 0;
}

static int add_filter(ps_query *pq, size_t *cap, int field, const char *v, size_t len,
                      size_t pos, ps_error *err) {
  ps_qfilter f;
  memset(&f, 0, sizeof f);
  f.field = field;
  f.pos = pos;
  if (field == PS_QF_YEAR) {
    const char *dots = NULL;
    for (size_t i = 0; i + 1 < len; i++)
      if (v[i] == '.' && v[i + 1] == '.') { dots = v + i; break; }
    int bad = dots ? parse_year(v, (size_t)(dots - v), &f.year_from) ||
                         parse_year(dots + 2, len - (size_t)(dots - v) - 2, &f.year_to)
                   : parse_year(v, len, &f.year_from);
    if (!dots) f.year_to = f.year_from;
    if (bad || f.year_from > f.year_to)
      return ps_error_set(err, PS_ERR_QUERY,
                          "bad year at character %zu: '%.*s' (write year:2024 or "
                          "year:2020..2024)", pos + 1, (int)len, v);
  } else {
    ps_norm n;
    if (ps_tok_normalize(v, len, 0, &n) != PS_OK)
      return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
    if (n.len == 0) {
      ps_norm_free(&n);
      return ps_error_set(err, PS_ERR_QUERY, "empty value for %s: at character %zu",
                          field_names[field], pos + 1);
    }
    f.value = n.text;
    f.value_len = n.len;
  }
  if (pq->n_filters == *cap) {
    size_t c = *cap ? *cap * 2 : 4;
    ps_qfilter *nf = realloc(pq->filters, c * sizeof *nf);
    if (!nf) {
      free(f.value);
      return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
    }
    pq->filters = nf;
    *cap = c;
  }
  pq->filters[pq->n_filters++] = f;
  return PS_OK;
}

/* Reads the quoted text that starts at q + *i: its contents in *v, *vl;
 * *i moves past the closing quote. */
static int read_quoted(const char *q, size_t *i, const char **v, size_t *vl, ps_error *err) {
  const char *closer;
  size_t n = open_quote(q + *i, &closer);
  const char *end = strstr(q + *i + n, closer);
  if (!end)
    return ps_error_set(err, PS_ERR_QUERY,
                        "unbalanced quote: the quote at character %zu is never closed",
                        char_pos(q, *i) + 1);
  *v = q + *i + n;
  *vl = (size_t)(end - *v);
  *i = (size_t)(end - q) + strlen(closer);
  return PS_OK;
}

int ps_query_parse(const char *q, ps_query **out, ps_error *err) {
  int rc = PS_OK, field;
  size_t cap = 0, fcap = 0, i = 0, len = strlen(q), fl;
  ps_query *pq = calloc(1, sizeof *pq);
  *out = NULL;
  if (!pq) return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  while (i < len && rc == PS_OK) {
    size_t n;
    const char *closer;
    if (is_space_at(q + i, &n)) {
      i += n;
    } else if ((fl = field_prefix(q + i, &field))) {
      size_t pos = char_pos(q, i);
      if (field < 0) {
        rc = ps_error_set(err, PS_ERR_QUERY,
                          "unknown field '%.*s' at character %zu (fields: year, region, "
                          "type, project)", (int)(fl - 1), q + i, pos + 1);
        break;
      }
      i += fl;
      const char *v = q + i;
      size_t vl;
      if (open_quote(q + i, &closer)) {
        if ((rc = read_quoted(q, &i, &v, &vl, err))) break;
      } else {
        while (i < len && !is_space_at(q + i, &n)) i++;
        vl = (size_t)(q + i - v);
      }
      if (vl == 0) {
        rc = ps_error_set(err, PS_ERR_QUERY, "empty value for %s: at character %zu",
                          field_names[field], pos + 1);
        break;
      }
      rc = add_filter(pq, &fcap, field, v, vl, pos, err);
    } else if (open_quote(q + i, &closer)) {
      size_t pos = char_pos(q, i), vl;
      const char *v;
      if ((rc = read_quoted(q, &i, &v, &vl, err))) break;
      rc = add_word(pq, &cap, v, vl, 1, pos, err);
    } else {
      size_t st = i;
      while (i < len && !is_space_at(q + i, &n) && !open_quote(q + i, &closer)) i++;
      rc = add_word(pq, &cap, q + st, i - st, 0, char_pos(q, st), err);
    }
  }
  if (rc == PS_OK && pq->n_words == 0 && pq->n_filters == 0)
    rc = ps_error_set(err, PS_ERR_QUERY, "empty query: nothing to search for");
  if (rc) {
    ps_query_free(pq);
    return rc;
  }
  *out = pq;
  return PS_OK;
}

void ps_query_free(ps_query *q) {
  if (!q) return;
  for (size_t i = 0; i < q->n_words; i++) {
    free(q->words[i].raw);
    free(q->words[i].norm);
  }
  free(q->words);
  for (size_t i = 0; i < q->n_filters; i++) free(q->filters[i].value);
  free(q->filters);
  free(q);
}
