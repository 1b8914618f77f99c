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

static const char *const field_names[] = {"year",    "region", "type",   "project",
                                          "doc",     "title",  "section"};

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

static int make_filter(ps_qfilter *f, int field, const char *v, size_t len, size_t pos,
                       ps_error *err) {
  memset(f, 0, sizeof *f);
  f->field = field;
  f->pos = pos;
  if (field == PS_QF_YEAR) {
    const char *dots = NULL;
    for (size_t i = 0; i + 1 < len; i++)
      if (v[i] == '.' && v[i + 1] == '.') { dots = v + i; break; }
    int bad = dots ? parse_year(v, (size_t)(dots - v), &f->year_from) ||
                         parse_year(dots + 2, len - (size_t)(dots - v) - 2, &f->year_to)
                   : parse_year(v, len, &f->year_from);
    if (!dots) f->year_to = f->year_from;
    if (bad || f->year_from > f->year_to)
      return ps_error_set(err, PS_ERR_QUERY,
                          "bad year at character %zu: '%.*s' (write year:2024 or "
                          "year:2020..2024)", pos + 1, (int)len, v);
  } else {
    ps_norm n;
    if (len > 1 && v[0] == '=') { /* field:=value: equal, not contained */
      f->exact = 1;
      v++, len--;
    }
    if (ps_tok_normalize(v, len, 0, &n) != PS_OK)
      return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
    if (n.len == 0) {
      ps_norm_free(&n);
      return ps_error_set(err, PS_ERR_QUERY, "empty value for %s: at character %zu",
                          field_names[field], pos + 1);
    }
    f->value = n.text;
    f->value_len = n.len;
  }
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

/* ---- lexer ---- */

enum { T_END = 0, T_WORD, T_FIELD, T_LPAR, T_RPAR, T_OR, T_AND, T_NOT, T_MINUS, T_NEAR };

typedef struct parser {
  const char *q;
  size_t len, i;     /* i: next byte to lex */
  /* the current token */
  int tok;
  size_t tpos;       /* its character position */
  const char *tv;    /* T_WORD: text; T_FIELD: value */
  size_t tvl;
  int quoted, field;
  unsigned near;
  ps_error *err;
  int depth;
} parser;

static int is_break(const char *s) {
  size_t n;
  return *s == 0 || is_space_at(s, &n) || *s == '"' || *s == '(' || *s == ')';
}

static int lex(parser *p) {
  size_t n;
  const char *closer;
  const char *q = p->q;
  for (;;) {
    while (p->i < p->len && is_space_at(q + p->i, &n)) p->i += n;
    p->tpos = char_pos(q, p->i);
    p->quoted = 0;
    if (p->i >= p->len) return p->tok = T_END, PS_OK;
    char c = q[p->i];
    if (c == '(') { p->i++; return p->tok = T_LPAR, PS_OK; }
    if (c == ')') { p->i++; return p->tok = T_RPAR, PS_OK; }
    if (c == '-' && (p->i + 1 >= p->len || is_break(q + p->i + 1)) && q[p->i + 1] != '"' &&
        q[p->i + 1] != '(')
      return ps_error_set(p->err, PS_ERR_QUERY,
                          "'-' at character %zu has nothing to exclude (write -word)",
                          p->tpos + 1);
    if (c == '-') { p->i++; return p->tok = T_MINUS, PS_OK; }
    int field;
    size_t fl;
    if ((fl = field_prefix(q + p->i, &field))) {
      if (field < 0)
        return ps_error_set(p->err, PS_ERR_QUERY,
                            "unknown field '%.*s' at character %zu (fields: year, region, "
                            "type, project, doc, title, section)",
                            (int)(fl - 1), q + p->i, p->tpos + 1);
      p->i += fl;
      if (open_quote(q + p->i, &closer)) {
        int rc = read_quoted(q, &p->i, &p->tv, &p->tvl, p->err);
        if (rc) return rc;
      } else {
        p->tv = q + p->i;
        while (p->i < p->len && !is_space_at(q + p->i, &n) && q[p->i] != ')') p->i++;
        p->tvl = (size_t)(q + p->i - p->tv);
      }
      if (p->tvl == 0)
        return ps_error_set(p->err, PS_ERR_QUERY, "empty value for %s: at character %zu",
                            field_names[field], p->tpos + 1);
      p->field = field;
      return p->tok = T_FIELD, PS_OK;
    }
    if (open_quote(q + p->i, &closer)) {
      int rc = read_quoted(q, &p->i, &p->tv, &p->tvl, p->err);
      if (rc) return rc;
      p->quoted = 1;
    } else {
      p->tv = q + p->i;
      while (p->i < p->len && !is_break(q + p->i)) p->i++;
      p->tvl = (size_t)(q + p->i - p->tv);
      const char *v = p->tv;
      size_t vl = p->tvl;
      if (vl == 2 && memcmp(v, "OR", 2) == 0) return p->tok = T_OR, PS_OK;
      if (vl == 3 && memcmp(v, "AND", 3) == 0) return p->tok = T_AND, PS_OK;
      if (vl == 3 && memcmp(v, "NOT", 3) == 0) return p->tok = T_NOT, PS_OK;
      if (vl >= 5 && memcmp(v, "NEAR/", 5) == 0) {
        unsigned long d = 0;
        int ok = vl > 5 && vl <= 5 + 6;
        for (size_t k = 5; k < vl && ok; k++) {
          if (v[k] < '0' || v[k] > '9') ok = 0;
          else d = d * 10 + (unsigned long)(v[k] - '0');
        }
        if (!ok)
          return ps_error_set(p->err, PS_ERR_QUERY,
                              "bad distance in '%.*s' at character %zu (write NEAR/5: at "
                              "most 5 characters between)", (int)vl, v, p->tpos + 1);
        p->near = (unsigned)d;
        return p->tok = T_NEAR, PS_OK;
      }
    }
    /* a word that normalises to nothing (format characters only) is skipped */
    ps_norm nn;
    if (ps_tok_normalize(p->tv, p->tvl, 0, &nn) != PS_OK)
      return ps_error_set(p->err, PS_ERR_NOMEM, "out of memory");
    size_t nl = nn.len;
    ps_norm_free(&nn);
    if (nl) return p->tok = T_WORD, PS_OK;
  }
}

static const char *tok_name(int t) {
  switch (t) {
    case T_OR: return "OR";
    case T_AND: return "AND";
    case T_NOT: return "NOT";
    case T_MINUS: return "-";
    case T_NEAR: return "NEAR";
    case T_RPAR: return ")";
    default: return "?";
  }
}

/* ---- tree ---- */

static void node_free(ps_qnode *n) {
  if (!n) return;
  for (size_t i = 0; i < n->n_kids; i++) node_free(n->kids[i]);
  free(n->kids);
  free(n->word.raw);
  free(n->word.norm);
  free(n->filter.value);
  free(n);
}

static ps_qnode *node_new(int type, size_t pos) {
  ps_qnode *n = calloc(1, sizeof *n);
  if (n) {
    n->type = type;
    n->pos = pos;
  }
  return n;
}

/* Appends kid to n's kids (kid is freed on failure).  Flattens a kid of the
 * same AND/OR type. */
static int node_add(ps_qnode *n, ps_qnode *kid) {
  if (kid->type == n->type && (n->type == PS_QN_AND || n->type == PS_QN_OR)) {
    for (size_t i = 0; i < kid->n_kids; i++) {
      if (node_add(n, kid->kids[i])) {
        for (size_t j = i + 1; j < kid->n_kids; j++) node_free(kid->kids[j]);
        kid->n_kids = 0;
        node_free(kid);
        return -1;
      }
    }
    kid->n_kids = 0;
    node_free(kid);
    return 0;
  }
  ps_qnode **k = realloc(n->kids, (n->n_kids + 1) * sizeof *k);
  if (!k) {
    node_free(kid);
    return -1;
  }
  n->kids = k;
  n->kids[n->n_kids++] = kid;
  return 0;
}

static int set_word(ps_qword *w, const char *v, size_t len, int quoted, size_t pos) {
  ps_norm n;
  if (ps_tok_normalize(v, len, 0, &n) != PS_OK) return -1;
  w->raw = strndup(v, len);
  w->norm = n.text;
  w->norm_len = n.len;
  w->quoted = quoted;
  w->pos = pos;
  return w->raw ? 0 : -1;
}

static ps_qnode *copy_word(const ps_qnode *src) {
  ps_qnode *n = node_new(PS_QN_WORD, src->pos);
  if (!n) return NULL;
  n->word = src->word;
  n->word.raw = strdup(src->word.raw);
  n->word.norm = malloc(src->word.norm_len + 1);
  if (!n->word.raw || !n->word.norm) {
    node_free(n);
    return NULL;
  }
  memcpy(n->word.norm, src->word.norm, src->word.norm_len + 1);
  return n;
}

#define NOMEM(p) ps_error_set((p)->err, PS_ERR_NOMEM, "out of memory")

static int parse_or(parser *p, ps_qnode **out);

static int missing_operand(parser *p, const char *op, size_t pos) {
  if (p->tok == T_END)
    return ps_error_set(p->err, PS_ERR_QUERY,
                        "%s at character %zu has nothing after it", op, pos + 1);
  return ps_error_set(p->err, PS_ERR_QUERY,
                      "%s at character %zu is followed by '%s' at character %zu instead of "
                      "something to search for", op, pos + 1, tok_name(p->tok), p->tpos + 1);
}

static int parse_unary(parser *p, ps_qnode **out) {
  int rc;
  *out = NULL;
  if (p->tok == T_NOT || p->tok == T_MINUS) {
    size_t pos = p->tpos;
    const char *op = p->tok == T_NOT ? "NOT" : "-";
    if ((rc = lex(p))) return rc;
    if (p->tok == T_END || p->tok == T_RPAR || p->tok == T_OR || p->tok == T_AND ||
        p->tok == T_NEAR)
      return missing_operand(p, op, pos);
    ps_qnode *kid, *n;
    if ((rc = parse_unary(p, &kid))) return rc;
    if (!(n = node_new(PS_QN_NOT, pos))) {
      node_free(kid);
      return NOMEM(p);
    }
    if (node_add(n, kid)) {
      node_free(n);
      return NOMEM(p);
    }
    *out = n;
    return PS_OK;
  }
  if (p->tok == T_LPAR) {
    size_t pos = p->tpos;
    if (++p->depth > 100)
      return ps_error_set(p->err, PS_ERR_QUERY, "parentheses nested too deep at character %zu",
                          pos + 1);
    if ((rc = lex(p))) return rc;
    if (p->tok == T_RPAR)
      return ps_error_set(p->err, PS_ERR_QUERY, "empty parentheses at character %zu", pos + 1);
    if (p->tok == T_END)
      return ps_error_set(p->err, PS_ERR_QUERY,
                          "unbalanced parenthesis: the ( at character %zu is never closed",
                          pos + 1);
    ps_qnode *n;
    if ((rc = parse_or(p, &n))) return rc;
    if (p->tok != T_RPAR) {
      node_free(n);
      return ps_error_set(p->err, PS_ERR_QUERY,
                          "unbalanced parenthesis: the ( at character %zu is never closed",
                          pos + 1);
    }
    p->depth--;
    if ((rc = lex(p))) {
      node_free(n);
      return rc;
    }
    *out = n;
    return PS_OK;
  }
  if (p->tok == T_WORD) {
    ps_qnode *n = node_new(PS_QN_WORD, p->tpos);
    if (!n || set_word(&n->word, p->tv, p->tvl, p->quoted, p->tpos)) {
      node_free(n);
      return NOMEM(p);
    }
    if ((rc = lex(p))) {
      node_free(n);
      return rc;
    }
    *out = n;
    return PS_OK;
  }
  if (p->tok == T_FIELD) {
    ps_qnode *n = node_new(PS_QN_FILTER, p->tpos);
    if (!n) return NOMEM(p);
    if ((rc = make_filter(&n->filter, p->field, p->tv, p->tvl, p->tpos, p->err)) ||
        (rc = lex(p))) {
      node_free(n);
      return rc;
    }
    *out = n;
    return PS_OK;
  }
  if (p->tok == T_RPAR)
    return ps_error_set(p->err, PS_ERR_QUERY,
                        "unbalanced parenthesis: the ) at character %zu has no matching (",
                        p->tpos + 1);
  if (p->tok == T_END)
    return ps_error_set(p->err, PS_ERR_QUERY, "empty query: nothing to search for");
  return ps_error_set(p->err, PS_ERR_QUERY, "%s at character %zu has nothing before it",
                      tok_name(p->tok), p->tpos + 1);
}

static int parse_near(parser *p, ps_qnode **out) {
  int rc;
  ps_qnode *first;
  *out = NULL;
  if ((rc = parse_unary(p, &first))) return rc;
  if (p->tok != T_NEAR) {
    *out = first;
    return PS_OK;
  }
  ps_qnode *and = node_new(PS_QN_AND, first->pos), *prev = first;
  if (!and) {
    node_free(first);
    return NOMEM(p);
  }
  int owned = 0; /* prev is in the tree already */
  while (p->tok == T_NEAR) {
    size_t pos = p->tpos;
    unsigned d = p->near;
    if (prev->type != PS_QN_WORD) {
      rc = ps_error_set(p->err, PS_ERR_QUERY,
                        "NEAR at character %zu needs a word or \"phrase\" before it", pos + 1);
      break;
    }
    if ((rc = lex(p))) break;
    if (p->tok != T_WORD) {
      rc = p->tok == T_END || p->tok == T_OR || p->tok == T_AND || p->tok == T_NEAR ||
                   p->tok == T_RPAR
               ? missing_operand(p, "NEAR", pos)
               : ps_error_set(p->err, PS_ERR_QUERY,
                              "NEAR at character %zu needs a word or \"phrase\" after it",
                              pos + 1);
      break;
    }
    ps_qnode *next;
    if ((rc = parse_unary(p, &next))) break;
    ps_qnode *nr = node_new(PS_QN_NEAR, pos), *a = owned ? copy_word(prev) : prev;
    owned = 1;
    if (!nr || !a || node_add(nr, a) || (a = NULL, node_add(nr, next))) {
      if (!nr) {
        node_free(a);
        node_free(next);
      }
      node_free(nr);
      rc = NOMEM(p);
      break;
    }
    nr->near = d;
    prev = next;
    if (node_add(and, nr)) {
      rc = NOMEM(p);
      break;
    }
  }
  if (!owned) node_free(prev);
  if (rc) {
    node_free(and);
    return rc;
  }
  if (and->n_kids == 1) {
    *out = and->kids[0];
    and->n_kids = 0;
    node_free(and);
  } else {
    *out = and;
  }
  return PS_OK;
}

static int starts_operand(int t) {
  return t == T_WORD || t == T_FIELD || t == T_LPAR || t == T_NOT || t == T_MINUS;
}

/* Adds kid to *group, the n-ary node of kind that is created around *first
 * on the first call (*first then belongs to it).  kid is always taken. */
static int join(parser *p, int kind, ps_qnode **group, ps_qnode **first, ps_qnode *kid) {
  if (!*group) {
    ps_qnode *g = node_new(kind, (*first)->pos), *f = *first;
    if (!g) {
      node_free(kid);
      return NOMEM(p);
    }
    *group = g;
    *first = NULL;
    if (node_add(g, f)) {
      node_free(kid);
      return NOMEM(p);
    }
  }
  return node_add(*group, kid) ? NOMEM(p) : PS_OK;
}

static int parse_and(parser *p, ps_qnode **out) {
  int rc;
  ps_qnode *n;
  *out = NULL;
  if ((rc = parse_near(p, &n))) return rc;
  ps_qnode *and = NULL;
  while (starts_operand(p->tok) || p->tok == T_AND) {
    if (p->tok == T_AND) {
      size_t pos = p->tpos;
      if ((rc = lex(p))) break;
      if (!starts_operand(p->tok)) {
        rc = missing_operand(p, "AND", pos);
        break;
      }
    }
    ps_qnode *kid;
    if ((rc = parse_near(p, &kid))) break;
    if ((rc = join(p, PS_QN_AND, &and, &n, kid))) break;
  }
  if (rc) {
    node_free(n);
    node_free(and);
    return rc;
  }
  *out = and ? and : n;
  return PS_OK;
}

static int parse_or(parser *p, ps_qnode **out) {
  int rc;
  ps_qnode *n, *or = NULL;
  *out = NULL;
  if (p->tok == T_OR)
    return ps_error_set(p->err, PS_ERR_QUERY, "OR at character %zu has nothing before it",
                        p->tpos + 1);
  if ((rc = parse_and(p, &n))) return rc;
  while (p->tok == T_OR) {
    size_t pos = p->tpos;
    if ((rc = lex(p))) break;
    if (!starts_operand(p->tok)) {
      rc = missing_operand(p, "OR", pos);
      break;
    }
    ps_qnode *kid;
    if ((rc = parse_and(p, &kid))) break;
    if ((rc = join(p, PS_QN_OR, &or, &n, kid))) break;
  }
  if (rc) {
    node_free(n);
    node_free(or);
    return rc;
  }
  *out = or ? or : n;
  return PS_OK;
}

/* ---- the flat views ---- */

static int collect_words(ps_query *pq, const ps_qnode *n, size_t *cap, int neg) {
  if (n->type == PS_QN_NOT) return collect_words(pq, n->kids[0], cap, !neg);
  if (neg) return 0;
  if (n->type == PS_QN_WORD) {
    for (size_t i = 0; i < pq->n_words; i++)
      if (pq->words[i].pos == n->word.pos) return 0; /* a word shared by two NEARs */
    if (pq->n_words == *cap) {
      size_t c = *cap ? *cap * 2 : 8;
      ps_qword *w = realloc(pq->words, c * sizeof *w);
      if (!w) return -1;
      pq->words = w;
      *cap = c;
    }
    ps_qword *w = &pq->words[pq->n_words];
    *w = n->word;
    w->raw = strdup(n->word.raw);
    w->norm = malloc(n->word.norm_len + 1);
    if (w->norm) memcpy(w->norm, n->word.norm, n->word.norm_len + 1);
    pq->n_words++;
    return w->raw && w->norm ? 0 : -1;
  }
  for (size_t i = 0; i < n->n_kids; i++)
    if (collect_words(pq, n->kids[i], cap, neg)) return -1;
  return 0;
}

static int add_top_filter(ps_query *pq, const ps_qnode *n) {
  if (n->type != PS_QN_FILTER) return 0;
  ps_qfilter *f = realloc(pq->filters, (pq->n_filters + 1) * sizeof *f);
  if (!f) return -1;
  pq->filters = f;
  f[pq->n_filters] = n->filter;
  if (n->filter.value) {
    f[pq->n_filters].value = malloc(n->filter.value_len + 1);
    if (!f[pq->n_filters].value) return -1;
    memcpy(f[pq->n_filters].value, n->filter.value, n->filter.value_len + 1);
  }
  pq->n_filters++;
  return 0;
}

/* Does n only exclude (NOT x with x positive, or an AND of such)? */
static int only_negative(const ps_qnode *n) {
  if (n->type == PS_QN_NOT) return !only_negative(n->kids[0]);
  if (n->type != PS_QN_AND) return 0;
  for (size_t i = 0; i < n->n_kids; i++)
    if (!only_negative(n->kids[i])) return 0;
  return 1;
}

int ps_query_parse(const char *q, ps_query **out, ps_error *err) {
  int rc;
  parser p;
  memset(&p, 0, sizeof p);
  p.q = q;
  p.len = strlen(q);
  p.err = err;
  *out = NULL;
  ps_query *pq = calloc(1, sizeof *pq);
  if (!pq) return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  if ((rc = lex(&p))) goto fail;
  if (p.tok == T_END) {
    rc = ps_error_set(err, PS_ERR_QUERY, "empty query: nothing to search for");
    goto fail;
  }
  if ((rc = parse_or(&p, &pq->root))) goto fail;
  if (p.tok == T_RPAR) {
    rc = ps_error_set(err, PS_ERR_QUERY,
                      "unbalanced parenthesis: the ) at character %zu has no matching (",
                      p.tpos + 1);
    goto fail;
  }
  if (p.tok != T_END) { /* cannot happen: every other token starts or joins an operand */
    rc = ps_error_set(err, PS_ERR_QUERY, "unexpected '%s' at character %zu", tok_name(p.tok),
                      p.tpos + 1);
    goto fail;
  }
  const ps_qnode *r = pq->root;
  if (only_negative(r)) {
    rc = ps_error_set(err, PS_ERR_QUERY,
                      "the query at character %zu only excludes: add something to search "
                      "for", r->pos + 1);
    goto fail;
  }
  size_t cap = 0;
  if (collect_words(pq, r, &cap, 0)) goto nomem;
  if (r->type == PS_QN_AND) {
    for (size_t i = 0; i < r->n_kids; i++)
      if (add_top_filter(pq, r->kids[i])) goto nomem;
  } else if (add_top_filter(pq, r)) {
    goto nomem;
  }
  *out = pq;
  return PS_OK;
nomem:
  rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
fail:
  ps_query_free(pq);
  return rc;
}

void ps_query_free(ps_query *q) {
  if (!q) return;
  node_free(q->root);
  for (size_t i = 0; i < q->n_words; i++) {
    free(q->words[i].raw);
    free(q->words[i].norm);
  }
  free(q->words);
  for (size_t i = 0; i < q->n_filters; i++) free(q->filters[i].value);
  free(q->filters);
  free(q);
}
