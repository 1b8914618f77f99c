/* search.c: query execution (see ps_search.h): the query expression to a
 * Xapian query whose candidates verify.c checks against the paragraph
 * store, exact totals, re-ranking of the verified matches, related hits from
 * query expansion (synonyms in $POLICY_SEARCH_DATA or PS_DATA_DIR, and
 * feedback from the top hits), and highlight spans for the returned hits. */
#include "ps_search.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "index_internal.h"
#include "ps_hash.h"
#include "ps_tok.h"
#include "ps_xapian.h"
#include "verify_internal.h"

typedef struct term_list {
  ps_xq **q;
  size_t n, cap;
  char **seen;   /* terms already added (queries are short: linear search) */
  size_t *seen_len;
  int nomem;
} term_list;

static int collect_term(void *vctx, const char *t, size_t n) {
  term_list *tl = vctx;
  for (size_t i = 0; i < tl->n; i++)
    if (tl->seen_len[i] == n && memcmp(tl->seen[i], t, n) == 0) return 0;
  if (tl->n == tl->cap) {
    size_t c = tl->cap ? tl->cap * 2 : 16;
    ps_xq **q = realloc(tl->q, c * sizeof *q);
    if (q) tl->q = q;
    char **s = realloc(tl->seen, c * sizeof *s);
    if (s) tl->seen = s;
    size_t *sl = realloc(tl->seen_len, c * sizeof *sl);
    if (sl) tl->seen_len = sl;
    if (!q || !s || !sl) return tl->nomem = 1;
    tl->cap = c;
  }
  tl->q[tl->n] = ps_xq_term(t, n, 1);
  tl->seen[tl->n] = strndup(t, n);
  tl->seen_len[tl->n] = n;
  if (!tl->q[tl->n] || !tl->seen[tl->n]) {
    ps_xq_free(tl->q[tl->n]);
    free(tl->seen[tl->n]);
    return tl->nomem = 1;
  }
  tl->n++;
  return 0;
}

static void term_list_free(term_list *tl) {
  for (size_t i = 0; i < tl->n; i++) free(tl->seen[i]);
  free(tl->seen);
  free(tl->seen_len);
  free(tl->q);
}

static int cmp_u32(const void *a, const void *b);

static int collect_posting(void *ctx, unsigned docid, unsigned wdf) {
  filter_set *fs = ctx;
  (void)wdf;
  if (fs->n == fs->cap) {
    size_t c = fs->cap ? fs->cap * 2 : 256;
    uint32_t *ids = realloc(fs->ids, c * sizeof *ids);
    if (!ids) return fs->nomem = 1;
    fs->ids = ids;
    fs->cap = c;
  }
  fs->ids[fs->n++] = docid;
  return 0;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_span(const void *a, const void *b) {
  const ps_span *x = a, *y = b;
  if (x->start != y->start) return x->start < y->start ? -1 : 1;
  return x->end < y->end ? -1 : x->end > y->end;
}

int ps_search_highlight(const ps_query *pq, const char *text, size_t len, ps_span **out,
                        size_t *n) {
  ps_norm norm;
  size_t cap = 8, cnt = 0;
  ps_span *sp = malloc(cap * sizeof *sp);
  *out = NULL;
  *n = 0;
  if (!sp) return PS_ERR_NOMEM;
  if (ps_tok_normalize(text, len, 1, &norm) != PS_OK) {
    free(sp);
    return PS_ERR_NOMEM;
  }
  for (size_t w = 0; w < pq->n_words; w++) {
    const ps_qword *qw = &pq->words[w];
    size_t from = 0, p;
    while ((p = ps_tok_find(norm.text, norm.len, qw->norm, qw->norm_len, from)) != (size_t)-1) {
      size_t last = p + qw->norm_len - 1; /* last byte of the match */
      size_t s = norm.map[p], e = norm.map[last];
      int32_t cp;
      e += ps_tok_decode(text + e, len - e, &cp); /* end of that source character */
      if (cnt == cap) {
        ps_span *ns = realloc(sp, (cap *= 2) * sizeof *ns);
        if (!ns) {
          free(sp);
          ps_norm_free(&norm);
          return PS_ERR_NOMEM;
        }
        sp = ns;
      }
      sp[cnt].start = s;
      sp[cnt].end = e;
      cnt++;
      from = p + 1;
    }
  }
  ps_norm_free(&norm);
  qsort(sp, cnt, sizeof *sp, cmp_span);
  size_t m = 0; /* merge overlapping and touching spans */
  for (size_t i = 0; i < cnt; i++) {
    if (m && sp[i].start <= sp[m - 1].end) {
      if (sp[i].end > sp[m - 1].end) sp[m - 1].end = sp[i].end;
    } else {
      sp[m++] = sp[i];
    }
  }
  *out = sp;
  *n = m;
  return PS_OK;
}

/* ---- field filters ---- */

typedef struct match_terms {
  const ps_qfilter *f;
  ps_xq **q;
  size_t n, cap;
  int nomem;
} match_terms;

/* Keeps the filter terms (prefix + value) whose value contains f's value
 * after normalisation. */
/* Does filter f accept term t (prefix + value)?  -1 when out of memory. */
static int filter_accepts(const ps_qfilter *f, const char *t, size_t len) {
  if (f->field == PS_QF_YEAR) return 1; /* years are exact terms already */
  ps_norm n;
  if (ps_tok_normalize(t + 1, len - 1, 0, &n) != PS_OK) return -1;
  int hit = f->exact ? n.len == f->value_len && memcmp(n.text, f->value, n.len) == 0
                     : memmem(n.text, n.len, f->value, f->value_len) != NULL;
  ps_norm_free(&n);
  return hit;
}

static int match_term_cb(void *vctx, const char *t, size_t len, unsigned tf) {
  match_terms *m = vctx;
  (void)tf;
  int hit = filter_accepts(m->f, t, len);
  if (hit < 0) return m->nomem = 1;
  if (!hit) return 0;
  if (m->n == m->cap) {
    size_t c = m->cap ? m->cap * 2 : 8;
    ps_xq **q = realloc(m->q, c * sizeof *q);
    if (!q) return m->nomem = 1;
    m->q = q;
    m->cap = c;
  }
  if (!(m->q[m->n] = ps_xq_term(t, len, 1))) return m->nomem = 1;
  m->n++;
  return 0;
}

static int is_xapian_field(int field) {
  return field == PS_QF_YEAR || field == PS_QF_REGION || field == PS_QF_TYPE ||
         field == PS_QF_PROJECT;
}

/* The OR of the filter terms that filter f (a Xapian field) accepts, in
 * *out; *none is set (and *out NULL) when it accepts no term at all. */
static int filter_query(ps_index *ix, const ps_qfilter *f, ps_xq **out, int *none,
                        ps_error *err) {
  static const char prefix[] = {'Y', 'R', 'T', 'P'};
  match_terms m = {f, NULL, 0, 0, 0};
  int rc = PS_OK;
  *out = NULL;
  *none = 0;
  if (f->field == PS_QF_YEAR) {
    for (int y = f->year_from; y <= f->year_to && y - f->year_from < 1000 && !m.nomem; y++) {
      char t[16];
      int n = snprintf(t, sizeof t, "Y%d", y);
      unsigned tf = 0;
      if (ps_xdb_termfreq(ps_index_xdb(ix), t, (size_t)n, &tf) == PS_OK && tf)
        match_term_cb(&m, t, (size_t)n, tf);
    }
  } else {
    char p[2] = {prefix[f->field], 0};
    int xr = ps_xdb_allterms(ps_index_xdb(ix), p, 1, match_term_cb, &m);
    if (xr && !m.nomem)
      rc = ps_error_set(err, xr, "reading filter terms: %s", ps_xdb_errmsg(ps_index_xdb(ix)));
  }
  if (m.nomem) rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  if (rc == PS_OK && m.n == 0) *none = 1;
  if (rc == PS_OK && m.n) {
    *out = m.n == 1 ? m.q[0] : ps_xq_op(PS_XQ_OR, m.q, m.n, 0);
    if (!*out) rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
    m.n = 0;
  }
  for (size_t k = 0; k < m.n; k++) ps_xq_free(m.q[k]);
  free(m.q);
  return rc;
}

/* The AND of the query's top-level filters on Xapian fields, each an OR of
 * the filter terms it accepts.  *none is set when some filter accepts no
 * term at all (the result is then empty).  *out is NULL when there are no
 * such filters. */
static int build_filters(ps_index *ix, const ps_query *pq, ps_xq **out, int *none,
                         ps_error *err) {
  ps_xq **ands = calloc(pq->n_filters + 1, sizeof *ands);
  size_t na = 0;
  int rc = PS_OK;
  *out = NULL;
  *none = 0;
  if (!ands) return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  for (size_t i = 0; i < pq->n_filters && rc == PS_OK && !*none; i++) {
    if (!is_xapian_field(pq->filters[i].field)) continue;
    rc = filter_query(ix, &pq->filters[i], &ands[na], none, err);
    if (ands[na]) na++;
  }
  if (rc == PS_OK && !*none && na) {
    *out = na == 1 ? ands[0] : ps_xq_op(PS_XQ_AND, ands, na, 0);
    if (!*out) rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  } else {
    for (size_t k = 0; k < na; k++) ps_xq_free(ands[k]);
  }
  free(ands);
  return rc;
}

typedef struct set_fill {
  ps_index *ix;
  filter_set *fs;
} set_fill;

static int fill_term_cb(void *vctx, const char *t, size_t len, unsigned tf) {
  set_fill *sf = vctx;
  (void)tf;
  int hit = filter_accepts(sf->fs->node ? &sf->fs->node->filter : NULL, t, len);
  if (hit < 0) return sf->fs->nomem = 1;
  if (!hit) return 0;
  int rc = ps_xdb_postings(ps_index_xdb(sf->ix), t, len, collect_posting, sf->fs);
  return sf->fs->nomem ? 1 : rc;
}

/* The docids that pass filter node n (a Xapian field): the postings of the
 * filter terms it accepts. */
static int fill_filter_set(ps_index *ix, const ps_qnode *n, filter_set *fs, ps_error *err) {
  static const char prefix[] = {'Y', 'R', 'T', 'P'};
  const ps_qfilter *f = &n->filter;
  int rc = PS_OK;
  fs->node = n;
  if (f->field == PS_QF_YEAR) {
    for (int y = f->year_from; y <= f->year_to && y - f->year_from < 1000 && !rc; y++) {
      char t[16];
      int k = snprintf(t, sizeof t, "Y%d", y);
      rc = ps_xdb_postings(ps_index_xdb(ix), t, (size_t)k, collect_posting, fs);
    }
  } else {
    set_fill sf = {ix, fs};
    char p[2] = {prefix[f->field], 0};
    rc = ps_xdb_allterms(ps_index_xdb(ix), p, 1, fill_term_cb, &sf);
  }
  if (fs->nomem) return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  if (rc) return ps_error_set(err, rc, "reading filter postings: %s",
                              ps_xdb_errmsg(ps_index_xdb(ix)));
  if (fs->n) qsort(fs->ids, fs->n, sizeof *fs->ids, cmp_u32);
  return PS_OK;
}

/* ---- candidates: the expression as a Xapian query ----
 *
 * Each node gives a Xapian query whose matches include every paragraph the
 * node matches (C_Q), or "every paragraph" (C_ALL: no restriction, e.g. a
 * word without indexable terms, title:), or "none" (C_NONE: a filter that
 * accepts no term).  exact says the candidates are exactly the node's
 * matches, so that they need no verification: words proven by their terms,
 * Xapian-field filters, and AND / OR / NOT of exact nodes.  A NOT child of
 * an AND becomes AND_NOT only when exact (excluding more would lose hits). */

enum { C_ALL = 0, C_NONE, C_Q };

typedef struct cres {
  int kind;
  int exact;
  ps_xq *q;
} cres;

static ps_xq *terms_query(const char *t, size_t n, int *nomem, int *exact);

typedef struct xq_vec {
  ps_xq **q;
  size_t n, cap;
  int nomem;
} xq_vec;

static void xq_push(xq_vec *v, ps_xq *q, double scale) {
  if (!q) return;
  if (scale != 1.0 && !(q = ps_xq_scale(q, scale))) {
    v->nomem = 1;
    return;
  }
  if (v->n == v->cap) {
    size_t c = v->cap ? v->cap * 2 : 16;
    ps_xq **nq = realloc(v->q, c * sizeof *nq);
    if (!nq) {
      ps_xq_free(q);
      v->nomem = 1;
      return;
    }
    v->q = nq;
    v->cap = c;
  }
  v->q[v->n++] = q;
}


static int cand_build(ps_index *ix, const ps_qnode *n, cres *out, ps_error *err);

/* AND (filters through OP_FILTER, so that they do not weigh) minus nots. */
static int cand_and(ps_index *ix, ps_qnode *const *kids, size_t nk, cres *out,
                    unsigned char *implied, ps_error *err) {
  xq_vec pos = {0}, filt = {0}, nots = {0};
  int rc = PS_OK, exact = 1, none = 0;
  for (size_t i = 0; i < nk && rc == PS_OK && !none; i++) {
    const ps_qnode *k = kids[i];
    int is_not = k->type == PS_QN_NOT;
    cres c;
    if ((rc = cand_build(ix, is_not ? k->kids[0] : k, &c, err))) break;
    if (implied) implied[i] = c.exact;
    if (is_not) {
      if (!c.exact) { exact = 0; if (implied) implied[i] = 0; }
      else if (c.kind == C_ALL) none = 1;
      else if (c.kind == C_Q) xq_push(&nots, c.q, 1.0), c.q = NULL;
    } else {
      exact &= c.exact;
      if (c.kind == C_NONE) none = 1;
      else if (c.kind == C_Q && k->type == PS_QN_FILTER) xq_push(&filt, c.q, 1.0), c.q = NULL;
      else if (c.kind == C_Q) xq_push(&pos, c.q, 1.0), c.q = NULL;
    }
    ps_xq_free(c.q);
  }
  if (pos.nomem || filt.nomem || nots.nomem) rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  out->exact = exact;
  out->q = NULL;
  if (rc == PS_OK && none) {
    out->kind = C_NONE;
    out->exact = 1;
  } else if (rc == PS_OK) {
    ps_xq *base = NULL;
    if (pos.n) base = pos.n == 1 ? pos.q[0] : ps_xq_op(PS_XQ_AND, pos.q, pos.n, 0);
    ps_xq *f = NULL;
    if (filt.n) f = filt.n == 1 ? filt.q[0] : ps_xq_op(PS_XQ_AND, filt.q, filt.n, 0);
    int bad = (pos.n && !base) || (filt.n && !f);
    pos.n = filt.n = 0;
    if (base && f) {
      ps_xq *pair[2] = {base, f};
      base = ps_xq_op(PS_XQ_FILTER, pair, 2, 0);
      bad |= !base;
    } else if (f) {
      base = f;
    }
    if (!bad && nots.n) {
      ps_xq *neg = nots.n == 1 ? nots.q[0] : ps_xq_op(PS_XQ_OR, nots.q, nots.n, 0);
      nots.n = 0;
      if (!base) base = ps_xq_match_all();
      ps_xq *pair[2] = {base, neg};
      base = ps_xq_op(PS_XQ_AND_NOT, pair, 2, 0);
      bad |= !base;
    }
    if (bad) {
      ps_xq_free(base);
      rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
    } else {
      out->kind = base ? C_Q : C_ALL;
      out->q = base;
    }
  }
  for (size_t i = 0; i < pos.n; i++) ps_xq_free(pos.q[i]);
  for (size_t i = 0; i < filt.n; i++) ps_xq_free(filt.q[i]);
  for (size_t i = 0; i < nots.n; i++) ps_xq_free(nots.q[i]);
  free(pos.q);
  free(filt.q);
  free(nots.q);
  return rc;
}

static int cand_build(ps_index *ix, const ps_qnode *n, cres *out, ps_error *err) {
  int rc = PS_OK;
  out->kind = C_ALL;
  out->exact = 0;
  out->q = NULL;
  switch (n->type) {
    case PS_QN_WORD: {
      int nomem = 0;
      out->q = terms_query(n->word.norm, n->word.norm_len, &nomem, &out->exact);
      if (nomem) return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
      if (out->q) out->kind = C_Q;
      else out->exact = 0;
      return PS_OK;
    }
    case PS_QN_FILTER: {
      if (!is_xapian_field(n->filter.field)) return PS_OK;
      int none = 0;
      if ((rc = filter_query(ix, &n->filter, &out->q, &none, err))) return rc;
      out->exact = 1;
      out->kind = none ? C_NONE : C_Q;
      return PS_OK;
    }
    case PS_QN_NOT: {
      cres c;
      if ((rc = cand_build(ix, n->kids[0], &c, err))) return rc;
      if (!c.exact) {
        ps_xq_free(c.q);
        return PS_OK;
      }
      out->exact = 1;
      if (c.kind == C_ALL) out->kind = C_NONE;
      if (c.kind == C_Q) {
        ps_xq *pair[2] = {ps_xq_match_all(), c.q};
        if (!pair[0]) {
          ps_xq_free(c.q);
          return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
        }
        if (!(out->q = ps_xq_op(PS_XQ_AND_NOT, pair, 2, 0)))
          return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
        out->kind = C_Q;
      }
      return PS_OK;
    }
    case PS_QN_AND:
      return cand_and(ix, n->kids, n->n_kids, out, NULL, err);
    case PS_QN_NEAR:
      rc = cand_and(ix, n->kids, n->n_kids, out, NULL, err);
      out->exact = 0;
      return rc;
    case PS_QN_OR: {
      xq_vec v = {0};
      int exact = 1, all = 0;
      for (size_t i = 0; i < n->n_kids && rc == PS_OK; i++) {
        cres c;
        if ((rc = cand_build(ix, n->kids[i], &c, err))) break;
        exact &= c.exact;
        if (c.kind == C_ALL) all = 1;
        if (c.kind == C_Q) xq_push(&v, c.q, 1.0);
      }
      if (rc == PS_OK && v.nomem) rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
      out->exact = exact;
      if (rc == PS_OK && !all) {
        if (v.n == 0) {
          out->kind = C_NONE;
        } else {
          out->q = v.n == 1 ? v.q[0] : ps_xq_op(PS_XQ_OR, v.q, v.n, 0);
          v.n = 0;
          if (!out->q) rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
          out->kind = C_Q;
        }
      }
      for (size_t i = 0; i < v.n; i++) ps_xq_free(v.q[i]);
      free(v.q);
      return rc;
    }
  }
  return PS_OK;
}

/* Xapian-field filter nodes whose truth the verifier must look up (all but
 * those the root AND implies). */
static int collect_sets(ps_index *ix, const verify_ctx *v, const ps_qnode *n, filter_set **sets,
                        size_t *ns, ps_error *err) {
  if (n->type == PS_QN_FILTER) {
    if (!is_xapian_field(n->filter.field)) return PS_OK;
    filter_set *s = realloc(*sets, (*ns + 1) * sizeof *s);
    if (!s) return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
    *sets = s;
    memset(&s[*ns], 0, sizeof *s);
    (*ns)++;
    return fill_filter_set(ix, n, &s[*ns - 1], err);
  }
  for (size_t i = 0; i < n->n_kids; i++) {
    if (n == v->root && n->type == PS_QN_AND && v->implied[i]) continue;
    int rc = collect_sets(ix, v, n->kids[i], sets, ns, err);
    if (rc) return rc;
  }
  return PS_OK;
}

/* ---- ranking ----
 *
 * Every verified match is fetched (the candidate sets are small) and
 * re-ranked in C, so that paging is consistent: Xapian's BM25 over the
 * bigrams is the base; a whole-query phrase, keywords close together,
 * keywords in the section heading or document title, and match density add
 * to it; heading lines and very short paragraphs are damped.  Then, unless
 * the caller asks for exact hits only, a second stage looks for related
 * paragraphs (see "expansion" below) and appends them after every exact
 * hit.  The weights were tuned on tests/eval (score_ranking.py). */

enum {
  R_BM25,       /* weight of BM25, normalised to the best exact candidate */
  R_PHRASE,     /* the query's words, in order and adjacent (several words) */
  R_PROX,       /* keywords close together: 1 / (1 + gap / R_PROX_SCALE) */
  R_PROX_SCALE, /* characters */
  R_SECTION,    /* a query word in the paragraph's section path */
  R_TITLE,      /* a query word in the document title */
  R_DENS,       /* share of the paragraph's characters covered by matches ... */
  R_DENS_SCALE, /* ... times this, capped at 1 */
  R_SHORT,      /* paragraphs shorter than this many characters ... */
  R_SHORT_PEN,  /* ... and heading lines are multiplied by this */
  R_FB_DOCS,    /* expansion: how many top exact hits feed back terms */
  R_FB_TERMS,   /* how many feedback bigrams are used */
  R_FB_MINDOCS, /* a feedback bigram must occur in this many of them */
  R_FB_MAXDF,   /* and in at most this share of all paragraphs */
  R_FB_MIN,     /* a related paragraph needs this many expansion bigrams ... */
  R_W_WORD,     /* scale of one query word (queries of several words) */
  R_W_SYN,      /* scale of a synonym phrase */
  R_W_FB,       /* scale of a feedback bigram */
  R_W_QB,       /* scale of a bigram of the query itself */
  R_K1,         /* BM25 k1 (term frequency saturation) */
  R_B,          /* BM25 b (length normalisation) */
  R_FETCH,      /* a ranked page first asks Xapian for at least this many
                   matches (not a weight: tests set it low to page in passes) */
  R_N
};
static double R[R_N] = {
    [R_BM25] = 1.0,      [R_PHRASE] = 0.15,  [R_PROX] = 0.15,    [R_PROX_SCALE] = 10,
    [R_SECTION] = 0.15,  [R_TITLE] = 0.1,    [R_DENS] = 0,       [R_DENS_SCALE] = 4,
    [R_SHORT] = 25,      [R_SHORT_PEN] = 0.5, [R_FB_DOCS] = 20,  [R_FB_TERMS] = 10,
    [R_FB_MINDOCS] = 2,  [R_FB_MAXDF] = 0.1, [R_FB_MIN] = 2,     [R_W_WORD] = 2.0,
    [R_W_SYN] = 1.0,     [R_W_FB] = 0.25,    [R_W_QB] = 0.5,     [R_K1] = 1.2,
    [R_B] = 0,           [R_FETCH] = 128,
};

/* The candidates a verifying walk ranks at least (ps_verify_collect): a
 * larger heap costs that walk little, and a second pass costs a whole walk
 * (1 GB: 武清 2024年 needed 11,021 for its page). */
#define FETCH_VERIFIED 16384

static void set_bm25(ps_xsearch *s) {
  s->k1 = R[R_K1];
  s->k2 = 0;
  s->k3 = 1;
  /* b = 0: no length normalisation, so Xapian reads no document lengths
   * (15% of a ranked page's time); long paragraphs are the substantive
   * ones in these reports anyway (nDCG@10 0.942 against 0.938 at b 0.1). */
  s->b = R[R_B] > 0 ? R[R_B] : 0;
  s->min_normlen = 0.5;
}

/* Runs xq over the whole database: the `max` best matches by BM25 weight
 * that the decider accepts (every one when max is 0; with min_weight > 0
 * only those weighing at least that) in *xr, and their exact number in
 * xr->total_lower (known_total when given: then min_weight may be used),
 * so that ranking and paging can happen in C.  flat: kept as plain pairs
 * (ps_xsearch.flat_top: a large max costs little, but no early end). */
static int search_top(ps_index *ix, const ps_xq *xq, ps_xdecider_fn fn, void *ctx,
                      const unsigned *only, size_t n_only, size_t max, double min_weight,
                      const size_t *known_total, int flat, ps_xresult *xr, ps_error *err) {
  ps_xdb_stats st;
  ps_xdb_stats_get(ps_index_xdb(ix), &st);
  ps_xsearch s;
  ps_xsearch_init(&s);
  s.query = xq;
  s.max = st.lastdocid ? st.lastdocid : 1;
  if (max && max < s.max) s.max = (unsigned)max;
  set_bm25(&s);
  s.decider = fn;
  s.decider_ctx = ctx;
  s.only = only; /* (instead of fn) */
  s.n_only = n_only;
  if (known_total) s.min_weight = min_weight; /* (it would change the count) */
  /* A total known already needs no counting: Xapian then only finds the
   * best `max` (the same ones), and stops early when it can (3x faster for
   * a word of one or two characters). */
  if (known_total) s.check_at_least = 1;
  s.flat_top = flat;
  int rc = ps_xdb_search(ps_index_xdb(ix), &s, xr);
  if (rc) return ps_error_set(err, rc, "search failed: %s", ps_xdb_errmsg(ps_index_xdb(ix)));
  if (known_total) xr->total_lower = xr->total_estimate = xr->total_upper = *known_total;
  return PS_OK;
}

/* The exact number of matches: those verified (ps_verify_collect) when
 * candidates need it; otherwise Xapian's count, nothing fetched, with the
 * decider only when some paragraph is superseded (decide). */
static int count_every(ps_index *ix, const ps_xq *xq, const verify_ctx *v, int decide,
                       size_t *total, ps_error *err) {
  ps_xresult xr = {0};
  int rc;
  if (v->any_check) {
    rc = ps_verify_collect(ix, xq, v, NULL, &xr, NULL, NULL, err);
  } else {
    ps_xsearch s;
    ps_xsearch_init(&s);
    s.query = xq;
    s.max = 0;
    s.weighting = PS_XW_BOOL;
    s.decider = decide ? ps_verify_decider : NULL;
    s.decider_ctx = (void *)v;
    rc = ps_xdb_search(ps_index_xdb(ix), &s, &xr);
    if (rc) rc = ps_error_set(err, rc, "search failed: %s", ps_xdb_errmsg(ps_index_xdb(ix)));
  }
  *total = xr.total_lower;
  ps_xresult_free(&xr);
  return rc;
}

/* A set of docids as bits (up to the database's last docid). */
typedef struct docset {
  uint64_t *bits;
  size_t n_bits;
} docset;

static int docset_has(const docset *d, unsigned docid) {
  return docid < d->n_bits && (d->bits[docid / 64] >> (docid % 64) & 1);
}

/* A decider that only puts the candidate in the set (and keeps nothing). */
static int docset_add(void *ctx, unsigned docid) {
  docset *d = ctx;
  if (docid < d->n_bits) d->bits[docid / 64] |= 1ull << (docid % 64);
  return 0;
}

/* Every match of q into d, sized here (the caller frees d->bits, also on
 * failure): the matches are only walked, a decider takes them. */
static int docset_fill(ps_index *ix, const ps_xq *q, docset *d, ps_error *err) {
  ps_xdb_stats st;
  ps_xdb_stats_get(ps_index_xdb(ix), &st);
  d->n_bits = (size_t)st.lastdocid + 1;
  if (!(d->bits = calloc(d->n_bits / 64 + 1, sizeof *d->bits)))
    return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  ps_xsearch s;
  ps_xsearch_init(&s);
  s.query = q;
  s.weighting = PS_XW_BOOL;
  s.max = 0;
  s.decider = docset_add;
  s.decider_ctx = d;
  ps_xresult xr = {0};
  int rc = ps_xdb_search(ps_index_xdb(ix), &s, &xr);
  ps_xresult_free(&xr);
  if (rc) return ps_error_set(err, rc, "search failed: %s", ps_xdb_errmsg(ps_index_xdb(ix)));
  return PS_OK;
}

/* The docids of xr's matches as a set. */
static int docset_of(const ps_xresult *xr, docset *d) {
  unsigned top = 0;
  for (size_t i = 0; i < xr->n; i++)
    if (xr->matches[i].docid > top) top = xr->matches[i].docid;
  d->n_bits = (size_t)top + 1;
  if (!(d->bits = calloc(d->n_bits / 64 + 1, sizeof *d->bits))) return PS_ERR_NOMEM;
  for (size_t i = 0; i < xr->n; i++) docset_add(d, xr->matches[i].docid);
  return PS_OK;
}

/* The docids of xr's matches (ascending when they are) into *ids (the
 * caller frees it, also after a failure) and *n. */
static int docids_of(const ps_xresult *xr, unsigned **ids, size_t *n, ps_error *err) {
  if (!(*ids = malloc((xr->n ? xr->n : 1) * sizeof **ids)))
    return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  for (*n = 0; *n < xr->n; ++*n) (*ids)[*n] = xr->matches[*n].docid;
  return PS_OK;
}

/* Whether ix is a sharded database whose shards are all local (a
 * combination is remote when any of them is). */
static int local_shards(ps_index *ix) {
  return ps_index_shards(ix) && !ps_xdb_is_remote(ps_index_xdb(ix));
}

/* The verified matches as a set, for ranking: Xapian then finds the best
 * by weight among them with this decider, which only looks a docid up. */
static int docset_decider(void *ctx, unsigned docid) { return docset_has(ctx, docid); }

/* Appends to *ex (and *excl) every match of the query that the ranking
 * passes did not fetch, in docid order, unranked (score -1): from acc for
 * verified words, else from the candidates of xq that are current. */
typedef struct cand cand;
static int complete_matches(ps_index *ix, const ps_xq *xq, const verify_ctx *v,
                            const docset *acc, cand **ex, size_t *n_ex, uint32_t **excl,
                            ps_error *err);

/* For tuning only: PS_RANK_TUNE="i=v,i=v..." overrides R[i] (the enum order
 * above), e.g. PS_RANK_TUNE=20=0.3 python3 tests/eval/score_ranking.py ... */
static pthread_once_t tune_once = PTHREAD_ONCE_INIT;

static void rank_tune_read(void) {
  const char *e = getenv("PS_RANK_TUNE");
  while (e && *e) {
    int i;
    double v;
    int n = 0;
    if (sscanf(e, "%d=%lf%n", &i, &v, &n) != 2) break;
    if (i >= 0 && i < R_N) R[i] = v;
    e += n;
    if (*e == ',') e++;
  }
}

/* Once per process: the weights are then only read, also by server threads. */
static void rank_tune(void) { pthread_once(&tune_once, rank_tune_read); }

struct cand {
  uint32_t docid; /* (first: ps_index_para_hint reads it) */
  double w;      /* Xapian's weight */
  double score;  /* the ranking score */
  uint64_t key;  /* ties: stable_key */
};

static int complete_matches(ps_index *ix, const ps_xq *xq, const verify_ctx *v,
                            const docset *acc, cand **ex, size_t *n_ex, uint32_t **excl,
                            ps_error *err) {
  ps_xresult all = {0};
  int rc = PS_OK;
  if (acc) { /* the verified matches */
    size_t n = 0;
    for (size_t w = 0; w <= acc->n_bits / 64; w++) n += (size_t)__builtin_popcountll(acc->bits[w]);
    if (!(all.matches = malloc((n + 1) * sizeof *all.matches)))
      return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
    for (size_t d = 0; d < acc->n_bits; d++)
      if (docset_has(acc, (unsigned)d)) all.matches[all.n++] = (ps_xmatch){(unsigned)d, 0};
  } else if ((rc = ps_verify_collect(ix, xq, v, NULL, &all, NULL, NULL, err))) { /* (nothing to check: current) */
    return rc;
  }
  size_t top = 0;
  for (size_t i = 0; i < *n_ex; i++)
    if ((*ex)[i].docid > top) top = (*ex)[i].docid;
  uint64_t *seen = calloc(top / 64 + 1, sizeof *seen);
  cand *e = realloc(*ex, (*n_ex + all.n + 1) * sizeof *e);
  if (e) *ex = e;
  uint32_t *x = e ? realloc(*excl, (*n_ex + all.n + 1) * sizeof *x) : NULL;
  if (x) *excl = x;
  if (!seen || !e || !x) {
    rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < *n_ex; i++) seen[(*ex)[i].docid / 64] |= 1ull << ((*ex)[i].docid % 64);
  for (size_t i = 0; i < all.n; i++) {
    uint32_t d = all.matches[i].docid;
    if (d <= top && (seen[d / 64] >> (d % 64) & 1)) continue;
    e[*n_ex] = (cand){d, 0, -1, UINT64_MAX};
    x[(*n_ex)++] = d;
  }
done:
  free(seen);
  ps_xresult_free(&all);
  return rc;
}

/* Xapian's weight, rounded to 1e-9: the same documents weigh the same to
 * the last bit whether they are in one database or in shards (Xapian sums
 * the weights of an OR in an order that depends on each shard's term
 * frequencies, which moves the last bits of a double). */
static double quantize(double w) { return nearbyint(w * 1e9) / 1e9; }

/* Equal scores are ordered by a key that is the same whatever the docids
 * (one database or shards, before or after an optimise): the file's rank by
 * path, then the paragraph's number in it. */
static uint64_t stable_key(const ps_index *ix, const ps_store_rec *rec) {
  size_t n;
  const ps_file_info *files = ps_index_files(ix, &n);
  const ps_file_info *f = ps_index_file_by_no(ix, rec->file_no);
  uint64_t rank = f ? (uint64_t)(f - files) : UINT32_MAX;
  return rank << 32 | rec->para_no;
}

static int cmp_cand(const void *a, const void *b) {
  const cand *x = a, *y = b;
  if (x->score != y->score) return x->score > y->score ? -1 : 1;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  return x->docid < y->docid ? -1 : x->docid > y->docid;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* Keeps in heap (cap entries, a binary heap whose top is the worst by
 * cmp_cand) the best candidates offered so far. */
static void heap_offer(cand *heap, size_t *n, size_t cap, const cand *c) {
  size_t i;
  if (*n < cap) {
    i = (*n)++;
    while (i > 0 && cmp_cand(&heap[(i - 1) / 2], c) < 0) {
      heap[i] = heap[(i - 1) / 2];
      i = (i - 1) / 2;
    }
    heap[i] = *c;
    return;
  }
  if (cmp_cand(c, &heap[0]) >= 0) return; /* not better than the worst kept */
  i = 0;
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, w = i;
    const cand *wv = c;
    if (l < *n && cmp_cand(&heap[l], wv) > 0) w = l, wv = &heap[l];
    if (r < *n && cmp_cand(&heap[r], wv) > 0) w = r, wv = &heap[r];
    if (w == i) break;
    heap[i] = heap[w];
    i = w;
  }
  heap[i] = *c;
}

static size_t nchars(const char *s, size_t n) {
  size_t c = 0;
  for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
  return c;
}

/* Does normalised text t contain a word of pq? */
static int has_word(const ps_query *pq, const char *t, size_t n) {
  for (size_t w = 0; w < pq->n_words; w++)
    if (ps_tok_find(t, n, pq->words[w].norm, pq->words[w].norm_len, 0) != (size_t)-1) return 1;
  return 0;
}

static int has_word_raw(const ps_query *pq, const char *s) {
  if (!s || !*s) return 0;
  ps_norm n;
  if (ps_tok_normalize(s, strlen(s), 0, &n) != PS_OK) return 0;
  int r = has_word(pq, n.text, n.len);
  ps_norm_free(&n);
  return r;
}

typedef struct occ {
  size_t pos, end;
  size_t word;
} occ;

static int cmp_occ(const void *a, const void *b) {
  const occ *x = a, *y = b;
  return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Whether a query word is in a paragraph's section path or its document's
 * title, remembered for one search: normalising a section is the dearest
 * part of scoring a hit, and sections and files repeat across hits.
 * Sections are remembered by their bytes (the same headings recur in many
 * documents; a section shared by consecutive paragraphs is stored once, so
 * they also share its address, checked first); titles are normalised once,
 * in the registry (title_norm), and remembered per file. */
#define WORD_CACHE 4096
typedef struct word_cache {
  const char *sec_at[WORD_CACHE]; /* a section seen (in the store); NULL = empty slot */
  uint32_t sec_len[WORD_CACHE];
  unsigned char sec_has[WORD_CACHE];
  unsigned char *title_has;       /* per file position: 0 unknown, 1 no, 2 yes (owned) */
  size_t n_files;
} word_cache;

static int section_has_word(word_cache *wc, const ps_query *pq, const char *sec, size_t len) {
  /* the slot from the length and the first and last bytes: a clash only
   * costs a normalisation (the bytes are compared) */
  uint64_t h = len, a = 0, z = 0;
  memcpy(&a, sec, len < 8 ? len : 8);
  if (len > 8) memcpy(&z, sec + len - 8, 8);
  h = (h * 0x9E3779B97F4A7C15ull ^ a) * 0x9E3779B97F4A7C15ull ^ z;
  size_t slot = (size_t)((h * 0x9E3779B97F4A7C15ull) >> 52) % WORD_CACHE;
  const char *at = wc->sec_at[slot];
  if (at && wc->sec_len[slot] == len && (at == sec || memcmp(at, sec, len) == 0))
    return wc->sec_has[slot];
  int r = has_word_raw(pq, sec);
  wc->sec_at[slot] = sec;
  wc->sec_len[slot] = (uint32_t)len;
  wc->sec_has[slot] = (unsigned char)r;
  return r;
}

static int title_has_word(const ps_query *pq, const ps_file_info *f) {
  if (!f->title_norm) return has_word_raw(pq, f->title);
  return has_word(pq, f->title_norm, strlen(f->title_norm));
}

static int title_has_word_cached(word_cache *wc, const ps_index *ix, const ps_query *pq,
                                 const ps_file_info *f) {
  size_t n;
  const ps_file_info *files = ps_index_files(ix, &n);
  size_t i = (size_t)(f - files);
  if (!wc->title_has && n && (wc->title_has = calloc(n, 1))) wc->n_files = n;
  if (i >= wc->n_files) return title_has_word(pq, f);
  if (!wc->title_has[i]) wc->title_has[i] = title_has_word(pq, f) ? 2 : 1;
  return wc->title_has[i] == 2;
}

/* The largest amount the features add to the normalised BM25 weight (the
 * bound behind scoring only as many hits as a page needs); < 0 when the
 * weights (PS_RANK_TUNE) make scores not bounded that way. */
static double bonus_bound(const ps_index *ix, const ps_query *pq, word_cache *wc) {
  for (int i = 0; i < R_N; i++)
    if (R[i] < 0) return -1;
  if (R[R_SHORT_PEN] > 1) return -1;
  double b = R[R_DENS] + R[R_SECTION];
  if (pq->n_words > 1) b += R[R_PROX] + R[R_PHRASE];
  /* the title bonus only when some document's title has a query word */
  size_t n;
  const ps_file_info *files = ps_index_files(ix, &n);
  for (size_t i = 0; i < n; i++)
    if (title_has_word_cached(wc, ix, pq, &files[i])) return b + R[R_TITLE]; /* kept for scoring */
  return b;
}

/* What a paragraph's place adds: a query word in its document's title; in
 * its section path (with section == 0: the most that can add, so that a
 * bound can be taken before the section is normalised). */
static double place_bonus(const ps_index *ix, const ps_query *pq, const ps_store_rec *rec,
                          word_cache *wc, int section) {
  double b = 0;
  if (rec->section_len &&
      (!section || section_has_word(wc, pq, rec->section, rec->section_len)))
    b += R[R_SECTION];
  const ps_file_info *f = ps_index_file_by_no(ix, rec->file_no);
  if (f && title_has_word_cached(wc, ix, pq, f)) b += R[R_TITLE];
  return b;
}

/* The features of an exact hit: a score from its Xapian weight (normalised
 * by wmax) and its stored paragraph. */
static double exact_score(const ps_index *ix, const ps_query *pq, const ps_store_rec *rec,
                          double w, double wmax, word_cache *wc) {
  enum { MAXOCC = 256 };
  occ oc[MAXOCC];
  size_t no = 0, covered = 0;
  /* the words' places only for what uses them (one word without density:
   * nothing), the characters only for the density or for a paragraph whose
   * bytes do not already rule out its being short (at most 4 per character) */
  int dens_on = R[R_DENS] != 0;
  int counted = dens_on || (double)rec->norm_len < 4 * R[R_SHORT];
  for (size_t k = 0; k < pq->n_words && (pq->n_words > 1 || dens_on); k++) {
    const ps_qword *qw = &pq->words[k];
    size_t from = 0, p;
    size_t qc = nchars(qw->norm, qw->norm_len);
    while ((p = ps_tok_find(rec->norm, rec->norm_len, qw->norm, qw->norm_len, from)) !=
           (size_t)-1) {
      covered += qc;
      if (no < MAXOCC) oc[no++] = (occ){p, p + qw->norm_len, k};
      from = p + qw->norm_len;
    }
  }
  size_t len = counted ? nchars(rec->norm, rec->norm_len) : 0;
  double s = R[R_BM25] * (wmax > 0 ? w / wmax : 0);
  if (dens_on) {
    double dens = len ? R[R_DENS_SCALE] * (double)covered / (double)len : 0;
    s += R[R_DENS] * (dens > 1 ? 1 : dens);
  }
  if (pq->n_words > 1 && no) {
    /* smallest window holding every word, and whether they are in order and
     * adjacent somewhere (the whole query as a phrase) */
    qsort(oc, no, sizeof *oc, cmp_occ);
    size_t cnt[64] = {0}, have = 0, nw = pq->n_words < 64 ? pq->n_words : 64, best = (size_t)-1;
    int phrase = 0;
    for (size_t i = 0, j = 0; j < no; j++) {
      if (oc[j].word < nw && cnt[oc[j].word]++ == 0) have++;
      while (have == nw) {
        size_t span = oc[j].end - oc[i].pos;
        if (span < best) best = span;
        if (oc[i].word < nw && --cnt[oc[i].word] == 0) have--;
        i++;
      }
    }
    for (size_t j = 0; j + 1 < no; j++)
      if (oc[j].end == oc[j + 1].pos && oc[j + 1].word == oc[j].word + 1) phrase = 1;
    if (best != (size_t)-1) {
      size_t wl = 0;
      for (size_t k = 0; k < pq->n_words; k++) wl += pq->words[k].norm_len;
      double gap = best > wl ? (double)(best - wl) / 3.0 : 0; /* bytes to CJK characters */
      s += R[R_PROX] / (1 + gap / R[R_PROX_SCALE]);
    }
    s += R[R_PHRASE] * phrase;
  }
  s += place_bonus(ix, pq, rec, wc, 1);
  if (counted && len < R[R_SHORT]) s *= R[R_SHORT_PEN];
  return s;
}

/* At least exact_score, from what is known without reading the paragraph's
 * text: the weight, the section (section != 0: whether it has a word; 0:
 * the most it can add) and title bonuses, the most proximity and phrase
 * can add (phrase_ok 0: the words cannot stand together, see junctions),
 * and the short-paragraph damping when the paragraph is surely short
 * (fewer bytes than the threshold in characters). */
static double score_bound(const ps_index *ix, const ps_query *pq, const ps_store_rec *rec,
                          double w, double wmax, word_cache *wc, int section, int phrase_ok) {
  double s = R[R_BM25] * (wmax > 0 ? w / wmax : 0) + R[R_DENS];
  if (pq->n_words > 1) s += R[R_PROX] + (phrase_ok ? R[R_PHRASE] : 0);
  s += place_bonus(ix, pq, rec, wc, section);
  if ((double)rec->norm_len < R[R_SHORT]) s *= R[R_SHORT_PEN];
  return s;
}

/* ---- expansion ----
 *
 * Related paragraphs are those that do not match the query as typed but are
 * about its topic: they hold one of the query's words (for a query of
 * several words), a synonym of a word from data/synonyms.tsv, or enough of
 * the bigrams that characterise the top exact hits (pseudo relevance
 * feedback: the bigrams frequent in those hits and rare in the collection,
 * weighted by idf; Xapian's ESet needs the termlist, which the database does
 * not keep).  They are ranked by BM25 over an OR of all those, and only ever
 * after the exact hits. */

typedef struct strvec {
  char **s;
  size_t *len;
  size_t n, cap;
} strvec;

static int strvec_add(strvec *v, const char *s, size_t n) {
  for (size_t i = 0; i < v->n; i++)
    if (v->len[i] == n && memcmp(v->s[i], s, n) == 0) return PS_OK;
  if (v->n == v->cap) {
    size_t c = v->cap ? v->cap * 2 : 16;
    char **ns = realloc(v->s, c * sizeof *ns);
    if (ns) v->s = ns;
    size_t *nl = realloc(v->len, c * sizeof *nl);
    if (nl) v->len = nl;
    if (!ns || !nl) return PS_ERR_NOMEM;
    v->cap = c;
  }
  if (!(v->s[v->n] = strndup(s, n))) return PS_ERR_NOMEM;
  v->len[v->n++] = n;
  return PS_OK;
}

static void strvec_free(strvec *v) {
  for (size_t i = 0; i < v->n; i++) free(v->s[i]);
  free(v->s);
  free(v->len);
}

#ifndef PS_DATA_DIR
#define PS_DATA_DIR "data"
#endif

/* The synonym groups of data/synonyms.tsv, normalised, read once per
 * process (the first search that needs them; the file is part of the
 * installation, not of a database). */
static struct {
  ps_norm *terms;   /* every group's terms, one group after another */
  size_t *group_end;/* group g is terms[group_end[g-1] .. group_end[g]) */
  size_t n_terms, n_groups;
  int failed;       /* out of memory while reading */
} syn_table;
static pthread_once_t syn_once = PTHREAD_ONCE_INIT;

static void syn_load(void) {
  const char *dir = getenv("POLICY_SEARCH_DATA");
  char path[4096];
  snprintf(path, sizeof path, "%s/synonyms.tsv", dir && *dir ? dir : PS_DATA_DIR);
  FILE *f = fopen(path, "r");
  if (!f) return; /* no file, no synonyms */
  char *line = NULL;
  size_t cap = 0, tcap = 0, gcap = 0;
  while (!syn_table.failed && getline(&line, &cap, f) != -1) {
    if (line[0] == '#') continue;
    size_t first = syn_table.n_terms;
    for (char *save = NULL, *t = strtok_r(line, "\t\r\n", &save); t;
         t = strtok_r(NULL, "\t\r\n", &save)) {
      ps_norm m;
      if (ps_tok_normalize(t, strlen(t), 0, &m) != PS_OK) {
        syn_table.failed = 1;
        break;
      }
      if (!m.len) {
        ps_norm_free(&m);
        continue;
      }
      if (syn_table.n_terms == tcap) {
        tcap = tcap ? tcap * 2 : 64;
        ps_norm *nt = realloc(syn_table.terms, tcap * sizeof *nt);
        if (!nt) {
          ps_norm_free(&m);
          syn_table.failed = 1;
          break;
        }
        syn_table.terms = nt;
      }
      syn_table.terms[syn_table.n_terms++] = m;
    }
    if (syn_table.failed || syn_table.n_terms == first) continue;
    if (syn_table.n_groups == gcap) {
      gcap = gcap ? gcap * 2 : 32;
      size_t *ng = realloc(syn_table.group_end, gcap * sizeof *ng);
      if (!ng) {
        syn_table.failed = 1;
        break;
      }
      syn_table.group_end = ng;
    }
    syn_table.group_end[syn_table.n_groups++] = syn_table.n_terms;
  }
  free(line);
  fclose(f);
}

/* Adds to out the synonyms of pq's words: data/synonyms.tsv holds groups of
 * terms, one group a line, tab-separated ('#' starts a comment line); a
 * query word that contains a member of a group brings in the other members
 * (those it does not already contain).  A missing file means no synonyms. */
static int load_synonyms(const ps_query *pq, strvec *out) {
  pthread_once(&syn_once, syn_load);
  if (syn_table.failed) return PS_ERR_NOMEM;
  int rc = PS_OK;
  for (size_t g = 0, from = 0; rc == PS_OK && g < syn_table.n_groups;
       from = syn_table.group_end[g++]) {
    const ps_norm *m = syn_table.terms + from;
    size_t nm = syn_table.group_end[g] - from;
    for (size_t w = 0; rc == PS_OK && w < pq->n_words; w++) {
      const ps_qword *qw = &pq->words[w];
      int hit = 0;
      for (size_t i = 0; i < nm && !hit; i++)
        hit = ps_tok_find(qw->norm, qw->norm_len, m[i].text, m[i].len, 0) != (size_t)-1;
      for (size_t i = 0; hit && rc == PS_OK && i < nm; i++)
        if (ps_tok_find(qw->norm, qw->norm_len, m[i].text, m[i].len, 0) == (size_t)-1)
          rc = strvec_add(out, m[i].text, m[i].len);
    }
  }
  return rc;
}

typedef struct bigram {
  char t[6];
  uint32_t doc;
} bigram;

typedef struct bigram_list {
  bigram *b;
  size_t n, cap;
  uint32_t doc;
  int nomem;
} bigram_list;

static int is_cjk_at(const char *s, size_t n) {
  int32_t cp;
  return ps_tok_decode(s, n, &cp) == 3 && ps_tok_class(cp) == PS_TOK_CJK;
}

/* Is term t[0..n) a bigram (two CJK characters)? */
static int is_cjk_bigram(const char *t, size_t n) {
  return n == 6 && is_cjk_at(t, 3) && is_cjk_at(t + 3, 3);
}

static int collect_bigram(void *vctx, const char *t, size_t n) {
  bigram_list *bl = vctx;
  if (!is_cjk_bigram(t, n)) return 0;
  if (bl->n == bl->cap) {
    size_t c = bl->cap ? bl->cap * 2 : 256;
    bigram *nb = realloc(bl->b, c * sizeof *nb);
    if (!nb) return bl->nomem = 1;
    bl->b = nb;
    bl->cap = c;
  }
  memcpy(bl->b[bl->n].t, t, 6);
  bl->b[bl->n++].doc = bl->doc;
  return 0;
}

static int cmp_bigram(const void *a, const void *b) {
  const bigram *x = a, *y = b;
  int c = memcmp(x->t, y->t, 6);
  return c ? c : (x->doc < y->doc ? -1 : x->doc > y->doc);
}

typedef struct scored_term {
  char t[6];
  double w;
} scored_term;

static int cmp_scored(const void *a, const void *b) {
  const scored_term *x = a, *y = b;
  if (x->w != y->w) return x->w > y->w ? -1 : 1;
  return memcmp(x->t, y->t, 6);
}

/* Is the 6-byte bigram t inside a query word or a synonym? */
static int in_query(const ps_query *pq, const strvec *syn, const char *t) {
  for (size_t w = 0; w < pq->n_words; w++)
    if (memmem(pq->words[w].norm, pq->words[w].norm_len, t, 6)) return 1;
  for (size_t i = 0; i < syn->n; i++)
    if (memmem(syn->s[i], syn->len[i], t, 6)) return 1;
  return 0;
}

/* Feedback bigrams from the top exact hits into out (6 bytes each). */
static int feedback_terms(ps_index *ix, const ps_query *pq, const strvec *syn,
                          const cand *top, size_t ntop, strvec *out) {
  bigram_list bl = {0};
  int rc = PS_OK;
  for (size_t i = 0; i < ntop && !bl.nomem; i++) {
    ps_store_rec rec;
    if (ps_index_para(ix, top[i].docid, &rec) != PS_OK) continue;
    bl.doc = (uint32_t)i;
    ps_tok_index_terms(rec.norm, rec.norm_len, collect_bigram, &bl);
  }
  if (bl.nomem) {
    free(bl.b);
    return PS_ERR_NOMEM;
  }
  if (bl.n) qsort(bl.b, bl.n, sizeof *bl.b, cmp_bigram);
  ps_xdb_stats st;
  if (ps_xdb_stats_get(ps_index_xdb(ix), &st) != PS_OK || st.doccount == 0) {
    free(bl.b);
    return PS_OK;
  }
  scored_term *sc = malloc((bl.n + 1) * sizeof *sc);
  size_t ns = 0;
  if (!sc) {
    free(bl.b);
    return PS_ERR_NOMEM;
  }
  double mindocs = R[R_FB_MINDOCS];
  if (mindocs > (double)ntop) mindocs = (double)ntop;
  /* the candidates (in enough of the top hits, not the query's own), then
   * their document frequencies in one batch (one exchange per remote shard) */
  const char **terms = malloc((bl.n + 1) * sizeof *terms);
  size_t *lens = malloc((bl.n + 1) * sizeof *lens);
  unsigned *dfs = malloc((bl.n + 1) * sizeof *dfs);
  if (!terms || !lens || !dfs) rc = PS_ERR_NOMEM;
  for (size_t i = 0; i < bl.n && rc == PS_OK;) {
    size_t j = i, docs = 0;
    while (j < bl.n && memcmp(bl.b[j].t, bl.b[i].t, 6) == 0) {
      if (j == i || bl.b[j].doc != bl.b[j - 1].doc) docs++;
      j++;
    }
    if ((double)docs >= mindocs && !in_query(pq, syn, bl.b[i].t)) {
      memcpy(sc[ns].t, bl.b[i].t, 6);
      sc[ns].w = (double)docs;
      terms[ns] = sc[ns].t;
      lens[ns++] = 6;
    }
    i = j;
  }
  if (rc == PS_OK && ns && ps_xdb_termfreqs(ps_index_xdb(ix), terms, lens, ns, dfs) != PS_OK)
    ns = 0; /* as before: a term whose frequency cannot be read is left out */
  size_t kept = 0;
  for (size_t i = 0; i < ns; i++) {
    unsigned df = dfs[i];
    if (df && df <= R[R_FB_MAXDF] * st.doccount) {
      memmove(sc[kept].t, sc[i].t, 6);
      sc[kept++].w = sc[i].w * log((double)st.doccount / df);
    }
  }
  ns = kept;
  free(terms);
  free(lens);
  free(dfs);
  qsort(sc, ns, sizeof *sc, cmp_scored);
  for (size_t i = 0; i < ns && i < (size_t)R[R_FB_TERMS] && rc == PS_OK; i++)
    rc = strvec_add(out, sc[i].t, 6);
  free(sc);
  free(bl.b);
  return rc;
}

typedef struct rel_ctx {
  const ps_index *ix;
  const ps_query *pq;
  docset exact;          /* the exact hits */
  const strvec *syn;     /* synonym phrases */
  int exclusions;        /* the query excludes words or has doc:/title:/section: */
  int all_enough;        /* R_FB_MIN <= 0: every candidate has enough bigrams */
  int all_maybe;         /* a word or synonym without terms: any may hold it */
  docset enough;         /* paragraphs with R_FB_MIN of the expansion bigrams */
  docset proven;         /* paragraphs with a word (of several) or synonym proven
                            by its terms */
  docset maybe;          /* paragraphs with every term of a word or synonym that
                            its terms do not prove */
  const strvec *bg;      /* the expansion bigrams (for the self-check) */
  unsigned wrong;        /* the self-check disagreed on this docid */
} rel_ctx;

/* PS_CHECK_RELATED set (tests): every candidate is also decided from its
 * text alone, the way the sets stand for, and a disagreement fails the
 * search. */
static int check_related;
static pthread_once_t check_once = PTHREAD_ONCE_INIT;
static void check_read(void) { check_related = getenv("PS_CHECK_RELATED") != NULL; }

/* Whether the paragraph holds one of the query's words (several words) or
 * a synonym. */
static int has_word_or_synonym(const rel_ctx *c, const ps_store_rec *rec) {
  if (c->pq->n_words > 1 && has_word(c->pq, rec->norm, rec->norm_len)) return 1;
  for (size_t i = 0; i < c->syn->n; i++)
    if (ps_tok_find(rec->norm, rec->norm_len, c->syn->s[i], c->syn->len[i], 0) != (size_t)-1)
      return 1;
  return 0;
}

/* related_matches from the text alone: words, synonyms and R_FB_MIN of
 * the bigrams looked for in the paragraph (exclusions aside). */
static int related_by_text(const rel_ctx *c, const ps_store_rec *rec) {
  if (has_word_or_synonym(c, rec)) return 1;
  size_t have = 0;
  for (size_t i = 0; i < c->bg->n; i++)
    if (memmem(rec->norm, rec->norm_len, c->bg->s[i], c->bg->len[i])) have++;
  return (double)have >= R[R_FB_MIN];
}

/* A related paragraph: current, not an exact hit, within the query's
 * exclusions, and holding one of the query's words (several words), a
 * synonym, or R_FB_MIN of the expansion bigrams.  Xapian's postings answer
 * most of it (a bigram's term is there exactly when the bigram is: sets
 * made before the ranking pass); the text is read only to check
 * exclusions and words or synonyms that their terms do not prove. */
static int related_matches(rel_ctx *c, uint32_t docid) {
  if (!ps_index_live(c->ix, docid)) return 0;
  int enough = c->all_enough || docset_has(&c->enough, docid) || docset_has(&c->proven, docid);
  if (check_related) {
    ps_store_rec rec;
    int sets = enough ? 1 : docset_has(&c->maybe, docid) || c->all_maybe ? -1 : 0;
    if (ps_index_para(c->ix, docid, &rec) == PS_OK && sets >= 0 &&
        related_by_text(c, &rec) != sets)
      c->wrong = docid;
  }
  if (!enough && !c->all_maybe && !docset_has(&c->maybe, docid)) return 0;
  if (docset_has(&c->exact, docid)) return 0;
  if (enough && !c->exclusions) return 1;
  ps_store_rec rec;
  if (ps_index_para(c->ix, docid, &rec) != PS_OK) return 0;
  /* related hits obey the query's top-level exclusions of words and its
   * doc: / title: / section: conditions too */
  const ps_qnode *root = c->pq->root;
  size_t nk = root->type == PS_QN_AND ? root->n_kids : 1;
  unsigned char no_implied[1] = {0};
  verify_ctx v = {c->ix, NULL, no_implied, NULL, 0, 1, NULL};
  for (size_t i = 0; i < nk; i++) {
    const ps_qnode *k = root->type == PS_QN_AND ? root->kids[i] : root;
    if ((k->type == PS_QN_NOT && k->kids[0]->type == PS_QN_WORD) ||
        (k->type == PS_QN_FILTER && !is_xapian_field(k->filter.field)))
      if (!ps_verify_node(&v, k, docid, &rec)) return 0;
  }
  return enough || has_word_or_synonym(c, &rec);
}

static int rel_decider(void *ctx, unsigned docid) {
  return related_matches(ctx, docid);
}

/* The number of related paragraphs from the sets, when every related
 * paragraph is in one (R_FB_MIN > 0, every word and synonym has terms) and
 * no field filter restricts them (1; else 0: Xapian's pass must count).
 * Each member is decided as that pass decides its candidates (the matches
 * of the OR of the sets' terms: exactly their members), without weighing
 * the OR's postings. */
static int count_related(rel_ctx *c, size_t *total) {
  if (c->all_enough || c->all_maybe || c->pq->n_filters) return 0;
  const docset *s[3] = {&c->enough, &c->proven, &c->maybe};
  size_t words = 0, n = 0;
  for (int k = 0; k < 3; k++)
    if (s[k]->bits && s[k]->n_bits / 64 + 1 > words) words = s[k]->n_bits / 64 + 1;
  for (size_t w = 0; w < words; w++) {
    uint64_t m = 0;
    for (int k = 0; k < 3; k++)
      if (s[k]->bits && w <= s[k]->n_bits / 64) m |= s[k]->bits[w];
    for (; m; m &= m - 1)
      n += related_matches(c, (uint32_t)(w * 64 + (unsigned)__builtin_ctzll(m))) != 0;
  }
  *total = n;
  return 1;
}

/* The AND of the terms of normalised text t (NULL if it has none or when
 * out of memory: *nomem tells). */
static ps_xq *terms_query(const char *t, size_t n, int *nomem, int *exact) {
  term_list tl = {0};
  int ex = 0;
  ps_tok_query_terms(t, n, collect_term, &tl, &ex);
  if (exact) *exact = ex;
  ps_xq *q = NULL;
  if (tl.nomem) *nomem = 1;
  else if (tl.n) q = tl.n == 1 ? tl.q[0] : ps_xq_op(PS_XQ_AND, tl.q, tl.n, 0);
  if (tl.n && !q) *nomem = 1;
  if (tl.nomem)
    for (size_t i = 0; i < tl.n; i++) ps_xq_free(tl.q[i]);
  term_list_free(&tl);
  return q;
}

/* Candidates for counting a word that is verified anyway: its rarest term,
 * and the next rarest too unless the rarest is a bigram or the next is
 * four times as common.  A long name's other bigrams (产业, 发展: hundreds
 * of thousands of postings) cost Xapian a seek per candidate and remove
 * almost nothing that verification would not: the rarest bigram of a name
 * seldom stands outside it (1 GB: 准农 39,972 paragraphs, 高标准农田 39,968;
 * 冀协 123,870, 京津冀协同发展 123,790), and a walk of the second term's
 * postings costs more than verifying the few candidates it would remove
 * (1 GB count: 高标准农田 6.8 -> 4.7 ms, 184个 1.75 -> 0.75 ms with 个 left
 * out).  A number or a single character is another matter (2035 stands in
 * 23,023 paragraphs, 2035年远景目标 in 4,529; its next term 年远 removes
 * most: 1.2 ms with it, 4.1 without).  NULL when the word has one term or
 * on any failure: the caller keeps the full query (a Xapian error comes
 * back from its walk: a handle that met DatabaseModifiedError refuses every
 * call until reopened, ps_xdb_reopen). */
static ps_xq *rarest_terms_query(ps_index *ix, const char *t, size_t n) {
  term_list tl = {0};
  int ex = 0;
  ps_xq *q = NULL;
  unsigned *tf = NULL;
  ps_tok_query_terms(t, n, collect_term, &tl, &ex);
  if (tl.nomem || tl.n <= 1 || !(tf = malloc(tl.n * sizeof *tf)) ||
      ps_xdb_termfreqs(ps_index_xdb(ix), (const char *const *)tl.seen, tl.seen_len, tl.n, tf))
    goto done;
  size_t r1 = 0, r2 = tl.n; /* the rarest and the next */
  for (size_t i = 1; i < tl.n; i++)
    if (tf[i] < tf[r1]) r1 = i;
  for (size_t i = 0; i < tl.n; i++)
    if (i != r1 && (r2 == tl.n || tf[i] < tf[r2])) r2 = i;
  int alone = is_cjk_bigram(tl.seen[r1], tl.seen_len[r1]) || tf[r2] / 4 >= tf[r1];
  if (alone) {
    q = tl.q[r1];
    tl.q[r1] = NULL;
  } else if (tl.n > 2) {
    ps_xq *pick[2] = {tl.q[r1], tl.q[r2]};
    tl.q[r1] = tl.q[r2] = NULL;
    q = ps_xq_op(PS_XQ_AND, pick, 2, 0); /* takes pick, also when it fails */
  }
done:
  for (size_t i = 0; i < tl.n; i++) ps_xq_free(tl.q[i]);
  term_list_free(&tl);
  free(tf);
  return q;
}

typedef struct coord_count {
  unsigned char *n; /* per docid, saturating at 255 */
  size_t size;
} coord_count;

static int coord_posting(void *ctx, unsigned docid, unsigned wdf) {
  (void)wdf;
  coord_count *c = ctx;
  if (docid < c->size && c->n[docid] < 255) c->n[docid]++;
  return 0;
}

/* coord_set through Xapian's matcher: an OR of the terms (each scaled by
 * how often it is listed) weighed by Xapian's CoordWeight, so that a
 * match's weight is its count, kept from `need` on; d is sized by the
 * caller.  Over the remote backend, where reading a
 * posting list costs ~12 us a posting (100 MB, 2 shards on loopback: 12
 * lists in 480-720 ms), the servers find the set instead (~25 ms). */
static int coord_set_matched(ps_index *ix, const strvec *t, double need, docset *d,
                             ps_error *err) {
  xq_vec v = {0};
  int rc = PS_OK;
  for (size_t i = 0; i < t->n; i++) {
    size_t times = 0, seen = 0;
    for (size_t j = 0; j < t->n; j++)
      if (t->len[j] == t->len[i] && memcmp(t->s[j], t->s[i], t->len[i]) == 0)
        times++, seen += j < i;
    if (seen) continue;
    ps_xq *term = ps_xq_term(t->s[i], t->len[i], 1);
    if (!term) v.nomem = 1;
    xq_push(&v, term, (double)times);
  }
  ps_xq *q = NULL;
  if (v.nomem) {
    for (size_t i = 0; i < v.n; i++) ps_xq_free(v.q[i]);
  } else {
    q = ps_xq_op(PS_XQ_OR, v.q, v.n, 0); /* takes the subqueries, also when it fails */
  }
  free(v.q);
  if (!q) return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  ps_xsearch s;
  ps_xsearch_init(&s);
  s.query = q;
  s.weighting = PS_XW_COORD;
  s.max = (unsigned)(d->n_bits ? d->n_bits : 1);
  ps_xresult xr = {0};
  if ((rc = ps_xdb_search(ps_index_xdb(ix), &s, &xr)))
    rc = ps_error_set(err, rc, "search failed: %s", ps_xdb_errmsg(ps_index_xdb(ix)));
  /* (not a weight cutoff in the match: Xapian 1.4.22 then loses matches,
   * e.g. the last docid of an OR of 14 terms cut at 1.5) */
  for (size_t i = 0; rc == PS_OK && i < xr.n; i++)
    if (xr.matches[i].weight > need - 0.5) docset_add(d, xr.matches[i].docid);
  ps_xresult_free(&xr);
  ps_xq_free(q);
  return rc;
}

/* The paragraphs holding at least `need` of the terms t[0..n) (a term
 * listed twice counts twice) into d, sized here (the caller frees d->bits,
 * also on failure): each term's postings counted per docid.  Xapian's
 * matcher with a coordinate weight finds the same set, ten times slower (it
 * weighs every candidate of the OR): only over the remote backend, where
 * reading the postings is slower still (coord_set_matched). */
static int coord_set(ps_index *ix, const strvec *t, double need, docset *d, ps_error *err) {
  ps_xdb_stats st;
  ps_xdb_stats_get(ps_index_xdb(ix), &st);
  if (ps_xdb_is_remote(ps_index_xdb(ix))) {
    d->n_bits = (size_t)st.lastdocid + 1;
    if (!(d->bits = calloc(d->n_bits / 64 + 1, sizeof *d->bits)))
      return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
    return coord_set_matched(ix, t, need, d, err);
  }
  coord_count c = {calloc((size_t)st.lastdocid + 1, 1), (size_t)st.lastdocid + 1};
  d->n_bits = c.size;
  d->bits = calloc(d->n_bits / 64 + 1, sizeof *d->bits);
  int rc = !c.n || !d->bits ? ps_error_set(err, PS_ERR_NOMEM, "out of memory") : PS_OK;
  for (size_t i = 0; rc == PS_OK && i < t->n; i++)
    if ((rc = ps_xdb_postings(ps_index_xdb(ix), t->s[i], t->len[i], coord_posting, &c)))
      rc = ps_error_set(err, rc, "reading postings failed: %s", ps_xdb_errmsg(ps_index_xdb(ix)));
  for (size_t k = 0; rc == PS_OK && k < c.size; k++)
    if (c.n[k] >= need) d->bits[k / 64] |= 1ull << (k % 64);
  free(c.n);
  return rc;
}

/* The sets behind related_matches: paragraphs with R_FB_MIN of the
 * expansion bigrams (duplicates count twice, as in the text), counted from
 * their postings (coord_set); and the
 * candidates of the words (of several) and synonyms, as proven by their
 * terms or only maybe.  Also whether the query has exclusions. */
static int related_sets(ps_index *ix, const ps_query *pq, const strvec *syn, const strvec *bg,
                        rel_ctx *c, ps_error *err) {
  const ps_qnode *root = pq->root;
  size_t nk = root->type == PS_QN_AND ? root->n_kids : 1;
  for (size_t i = 0; i < nk; i++) {
    const ps_qnode *k = root->type == PS_QN_AND ? root->kids[i] : root;
    if ((k->type == PS_QN_NOT && k->kids[0]->type == PS_QN_WORD) ||
        (k->type == PS_QN_FILTER && !is_xapian_field(k->filter.field)))
      c->exclusions = 1;
  }
  int rc = PS_OK, nomem = 0;
  xq_vec proven = {0}, maybe = {0};
  double need = ceil(R[R_FB_MIN]);
  c->all_enough = need <= 0;
  if (!c->all_enough && (double)bg->n >= need && (rc = coord_set(ix, bg, need, &c->enough, err)))
    return rc;
  size_t nw = pq->n_words > 1 ? pq->n_words : 0;
  for (size_t i = 0; i < nw + syn->n; i++) {
    const char *t = i < nw ? pq->words[i].norm : syn->s[i - nw];
    size_t tl = i < nw ? pq->words[i].norm_len : syn->len[i - nw];
    int exact = 0, none = 0;
    ps_xq *q = terms_query(t, tl, &none, &exact);
    if (none) nomem = 1;
    else if (!q) c->all_maybe = 1; /* no terms: only the text tells */
    else xq_push(exact ? &proven : &maybe, q, 1);
  }
  if (nomem || proven.nomem || maybe.nomem) {
    rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
    goto done;
  }
  xq_vec *vs[2] = {&proven, &maybe};
  docset *ds[2] = {&c->proven, &c->maybe};
  for (int k = 0; k < 2 && rc == PS_OK; k++) {
    if (!vs[k]->n) continue;
    ps_xq *q = ps_xq_op(PS_XQ_OR, vs[k]->q, vs[k]->n, 0); /* takes the subqueries */
    vs[k]->n = 0;
    if (!q) {
      rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
      break;
    }
    rc = docset_fill(ix, q, ds[k], err);
    ps_xq_free(q);
  }
done:
  for (int k = 0; k < 2; k++) {
    xq_vec *v = k == 0 ? &proven : &maybe;
    for (size_t i = 0; i < v->n; i++) ps_xq_free(v->q[i]);
    free(v->q);
  }
  return rc;
}

/* Finds the related paragraphs of pq (none of excl): the best `want` of
 * them, ranked, into *out (*n_out), and their number in *total. */
static int expand(ps_index *ix, const ps_query *pq, const cand *exact, size_t n_exact,
                  const uint32_t *excl, size_t want, cand **out, size_t *n_out,
                  size_t *total, ps_error *err) {
  strvec syn = {0}, bg = {0};
  xq_vec v = {0};
  ps_xq *xq = NULL;
  ps_xresult xr = {0};
  int rc = load_synonyms(pq, &syn);
  *out = NULL;
  *n_out = 0;
  size_t ntop = n_exact < (size_t)R[R_FB_DOCS] ? n_exact : (size_t)R[R_FB_DOCS];
  if (rc == PS_OK) rc = feedback_terms(ix, pq, &syn, exact, ntop, &bg);
  if (rc) goto done;
  size_t n_fb = bg.n;
  /* the query's own bigrams also count as evidence (a paragraph about 文化
   * and 旅游 is related to 文化旅游) */
  for (size_t w = 0; w < pq->n_words && rc == PS_OK; w++) {
    const ps_qword *qw = &pq->words[w];
    for (size_t i = 0; i + 6 <= qw->norm_len && rc == PS_OK;) {
      if (is_cjk_at(qw->norm + i, qw->norm_len - i) &&
          is_cjk_at(qw->norm + i + 3, qw->norm_len - i - 3)) {
        rc = strvec_add(&bg, qw->norm + i, 6);
        i += 3;
      } else {
        int32_t cp;
        i += ps_tok_decode(qw->norm + i, qw->norm_len - i, &cp);
      }
    }
  }
  if (rc) goto done;
  int nomem = 0;
  if (pq->n_words > 1)
    for (size_t w = 0; w < pq->n_words; w++)
      xq_push(&v, terms_query(pq->words[w].norm, pq->words[w].norm_len, &nomem, NULL), R[R_W_WORD]);
  for (size_t i = 0; i < syn.n; i++) xq_push(&v, terms_query(syn.s[i], syn.len[i], &nomem, NULL), R[R_W_SYN]);
  for (size_t i = 0; i < bg.n; i++)
    xq_push(&v, ps_xq_term(bg.s[i], bg.len[i], 1), i < n_fb ? R[R_W_FB] : R[R_W_QB]);
  if (nomem || v.nomem) {
    rc = PS_ERR_NOMEM;
    goto done;
  }
  if (v.n == 0) goto done;
  xq = v.n == 1 ? v.q[0] : ps_xq_op(PS_XQ_OR, v.q, v.n, 0);
  v.n = 0;
  if (!xq) {
    rc = PS_ERR_NOMEM;
    goto done;
  }
  if (pq->n_filters) { /* related hits obey the query's field filters too */
    ps_xq *filt = NULL;
    int none = 0;
    if ((rc = build_filters(ix, pq, &filt, &none, err))) goto done;
    if (none || !filt) { /* (cannot happen: the exact stage found them) */
      ps_xq_free(filt);
      goto done;
    }
    ps_xq *pair[2] = {xq, filt};
    if (!(xq = ps_xq_op(PS_XQ_FILTER, pair, 2, 0))) {
      rc = PS_ERR_NOMEM;
      goto done;
    }
  }
  cand *r = NULL; /* the related matches fetched, best first */
  size_t nr = 0;
  rel_ctx c;
  memset(&c, 0, sizeof c);
  c.ix = ix;
  c.pq = pq;
  c.syn = &syn;
  c.bg = &bg;
  pthread_once(&check_once, check_read);
  ps_xdb_stats st;
  ps_xdb_stats_get(ps_index_xdb(ix), &st);
  c.exact.n_bits = (size_t)st.lastdocid + 1;
  if (!(c.exact.bits = calloc(c.exact.n_bits / 64 + 1, sizeof *c.exact.bits))) {
    rc = PS_ERR_NOMEM;
    goto rel_done;
  }
  for (size_t i = 0; i < n_exact; i++) docset_add(&c.exact, excl[i]);
  if ((rc = related_sets(ix, pq, &syn, &bg, &c, err))) goto rel_done;
  /* The best `want` by score, and how many there are in all.  A score is
   * the weight, halved for a short paragraph: Xapian's best by weight are
   * enough once the last of them weighs less than the want-th best score
   * among them (nothing unseen can reach it); else one more pass takes
   * every match weighing that much (a weight cutoff).  The first pass
   * counts them all. */
  /* counted from the sets when they can tell: then only a page is fetched */
  int counted = count_related(&c, total);
  /* (a penalty above 1 would raise scores over weights: then all of them) */
  size_t fetch = !want ? 0 : R[R_SHORT_PEN] <= 1 ? want * 2 + 16 : SIZE_MAX;
  double min_w = 0;
  for (int pass = 0; rc == PS_OK && !(counted && !want); pass++) {
    ps_xsearch s;
    ps_xsearch_init(&s);
    s.query = xq;
    s.max = fetch && fetch < st.lastdocid ? (unsigned)fetch : fetch ? st.lastdocid : 0;
    set_bm25(&s);
    s.decider = rel_decider;
    s.decider_ctx = &c;
    if (pass) s.min_weight = min_w;
    if (pass || counted) s.check_at_least = 1; /* (counted already) */
    ps_xresult_free(&xr);
    if ((rc = ps_xdb_search(ps_index_xdb(ix), &s, &xr))) {
      rc = ps_error_set(err, rc, "search failed: %s", ps_xdb_errmsg(ps_index_xdb(ix)));
      break;
    }
    if (!pass && !counted) *total = xr.total_lower;
    free(r);
    nr = xr.n;
    if (!(r = malloc((nr + 1) * sizeof *r))) {
      rc = PS_ERR_NOMEM;
      break;
    }
    for (size_t i = 0; i < nr; i++) {
      r[i].docid = xr.matches[i].docid;
      r[i].w = r[i].score = quantize(xr.matches[i].weight);
      r[i].key = UINT64_MAX;
      ps_store_rec rec;
      if (ps_index_para(ix, r[i].docid, &rec) == PS_OK) {
        r[i].key = stable_key(ix, &rec);
        if (nchars(rec.norm, rec.norm_len) < R[R_SHORT]) r[i].score *= R[R_SHORT_PEN];
      }
    }
    double last_w = nr ? r[nr - 1].w : 0;
    qsort(r, nr, sizeof *r, cmp_cand);
    if (pass || !want || nr < s.max || nr < want || last_w < r[want - 1].score) break;
    min_w = r[want - 1].score - 1e-6;
  }
  if (rc == PS_OK && c.wrong)
    rc = ps_error_set(err, PS_ERR_CORRUPT,
                      "PS_CHECK_RELATED: paragraph %u is related by its text but not by the "
                      "postings, or the other way", c.wrong);
rel_done:
  free(c.exact.bits);
  free(c.enough.bits);
  free(c.proven.bits);
  free(c.maybe.bits);
  if (rc) {
    free(r);
    goto done;
  }
  if (nr > want) nr = want;
  if (nr) {
    *out = r;
    *n_out = nr;
  } else {
    free(r);
  }
done:
  if (rc == PS_ERR_NOMEM) ps_error_set(err, rc, "out of memory");
  for (size_t i = 0; i < v.n; i++) ps_xq_free(v.q[i]);
  free(v.q);
  ps_xq_free(xq);
  ps_xresult_free(&xr);
  strvec_free(&syn);
  strvec_free(&bg);
  return rc;
}

static int count_term(void *ctx, const char *t, size_t n) {
  (void)t;
  (void)n;
  ++*(size_t *)ctx;
  return 0;
}

static int no_superseded(const ps_index *ix) {
  ps_index_stats st;
  ps_index_stats_get(ix, &st);
  return st.superseded == 0;
}

typedef struct one_term {
  const char *t;
  size_t len, n;
} one_term;

static int take_term(void *ctx, const char *t, size_t n) {
  one_term *o = ctx;
  if (o->n++ == 0) o->t = t, o->len = n;
  return 0;
}

/* The total of a query that is one word whose single term proves a match
 * (one or two CJK characters, one token), in a database where no paragraph
 * is superseded (clean): the term's frequency, no posting read (microseconds, where
 * counting the postings of 发展 takes milliseconds and grows with the
 * corpus).  Returns 1 when it applies. */
static int count_by_termfreq(ps_index *ix, const ps_query *pq, int clean, size_t *total) {
  const ps_qnode *n = pq->root;
  if (n->type != PS_QN_WORD || !clean) return 0;
  one_term o = {NULL, 0, 0};
  int exact = 0;
  ps_tok_query_terms(n->word.norm, n->word.norm_len, take_term, &o, &exact);
  unsigned tf = 0;
  if (!exact || o.n != 1 || ps_xdb_termfreq(ps_index_xdb(ix), o.t, o.len, &tf) != PS_OK)
    return 0;
  *total = tf;
  return 1;
}

/* The text as written of hit h (record rec) and its highlights for pq. */
static int fill_hit(const ps_query *pq, const ps_store_rec *rec, ps_hit *h, ps_error *err) {
  int rc = ps_store_text(rec, &h->text, &h->text_len);
  if (rc == PS_ERR_CORRUPT)
    return ps_error_set(err, rc, "paragraph %u is damaged in the store", h->docid);
  if (rc == PS_OK && ps_search_highlight(pq, h->text, h->text_len, &h->highlights,
                                         &h->n_highlights))
    rc = PS_ERR_NOMEM;
  return rc == PS_ERR_NOMEM ? ps_error_set(err, rc, "out of memory") : rc;
}

/* The paragraphs where two consecutive words of pq can stand together
 * (the phrase bonus of exact_score): those with the bigram where one ends
 * and the next begins, a term of the index.  *all = 1 (and no set) when
 * some pair does not meet between two CJK characters: then any may. */
static int junctions(ps_index *ix, const ps_query *pq, docset *d, int *all, ps_error *err) {
  *all = 1;
  if (pq->n_words < 2) return PS_OK;
  xq_vec v = {0};
  for (size_t k = 0; k + 1 < pq->n_words; k++) {
    const ps_qword *a = &pq->words[k], *b = &pq->words[k + 1];
    if (a->norm_len < 3 || b->norm_len < 3 || !is_cjk_at(a->norm + a->norm_len - 3, 3) ||
        !is_cjk_at(b->norm, b->norm_len)) {
      for (size_t i = 0; i < v.n; i++) ps_xq_free(v.q[i]);
      free(v.q);
      return PS_OK;
    }
    char t[6];
    memcpy(t, a->norm + a->norm_len - 3, 3);
    memcpy(t + 3, b->norm, 3);
    xq_push(&v, ps_xq_term(t, 6, 1), 1);
  }
  ps_xq *q = v.nomem ? NULL : ps_xq_op(PS_XQ_OR, v.q, v.n, 0); /* takes v.q's queries */
  if (v.nomem)
    for (size_t i = 0; i < v.n; i++) ps_xq_free(v.q[i]);
  free(v.q);
  if (!q) return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  int rc = docset_fill(ix, q, d, err);
  ps_xq_free(q);
  if (rc == PS_OK) *all = 0;
  return rc;
}

/* Docid ranges of the files whose title has a word of pq (from the title
 * cache bonus_bound filled), so that the title bonus is known before a
 * paragraph is read.  Single databases only (a file's paragraphs are
 * consecutive docids there). */
typedef struct title_ranges {
  uint32_t *first, *end; /* sorted, disjoint: [first[i], end[i]) */
  size_t n;
  int known;             /* 0: not built (the bonus is then assumed) */
} title_ranges;

static int cmp_range(const void *a, const void *b) {
  const uint32_t *x = a, *y = b;
  return x[0] < y[0] ? -1 : x[0] > y[0];
}

static int title_ranges_make(ps_index *ix, const ps_query *pq, word_cache *wc, title_ranges *t) {
  memset(t, 0, sizeof *t);
  if (ps_index_shards(ix)) return PS_OK;
  size_t n;
  const ps_file_info *files = ps_index_files(ix, &n);
  uint32_t *pairs = malloc((n + 1) * 2 * sizeof *pairs);
  if (!pairs) return PS_ERR_NOMEM;
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (files[i].count && title_has_word_cached(wc, ix, pq, &files[i]))
      pairs[2 * k] = files[i].first, pairs[2 * k + 1] = files[i].first + files[i].count, k++;
  qsort(pairs, k, 2 * sizeof *pairs, cmp_range);
  t->first = malloc((k + 1) * sizeof *t->first);
  t->end = malloc((k + 1) * sizeof *t->end);
  if (!t->first || !t->end) {
    free(pairs);
    free(t->first), free(t->end);
    memset(t, 0, sizeof *t);
    return PS_ERR_NOMEM;
  }
  for (size_t i = 0; i < k; i++) t->first[i] = pairs[2 * i], t->end[i] = pairs[2 * i + 1];
  t->n = k;
  t->known = 1;
  free(pairs);
  return PS_OK;
}

/* Whether docid may have the title bonus. */
static int title_maybe(const title_ranges *t, uint32_t docid) {
  if (!t->known) return 1;
  size_t lo = 0, hi = t->n;
  while (lo < hi) { /* the last range starting at or before docid */
    size_t mid = (lo + hi) / 2;
    if (t->first[mid] <= docid) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 && docid < t->end[lo - 1];
}

int ps_search(ps_index *ix, const char *q, const ps_search_opts *opts, ps_results **out,
              ps_error *err) {
  int rc = PS_OK;
  double t0 = now_ms();
  ps_query *pq = NULL;
  unsigned char *implied = NULL;
  filter_set *sets = NULL;
  size_t n_sets = 0;
  ps_xq *xq = NULL;
  ps_xresult xr = {0};
  cand *ex = NULL, *rel = NULL;
  uint32_t *excl = NULL;
  size_t n_ex = 0, n_rel = 0;
  word_cache wc;
  memset(&wc, 0, sizeof wc);
  docset junc = {NULL, 0}; /* matches where the words can stand together */
  int junc_all = 1;         /* ... any of them (no set) */
  title_ranges titles = {NULL, NULL, 0, 0};
  docset acc = {NULL, 0}; /* the verified matches */
  unsigned *only = NULL;   /* the same, ascending, when they filter the ranking */
  size_t n_only = 0;
  ps_xq *cq = NULL; /* a cheaper candidate query for verified words */
  unsigned damaged = 0; /* a paragraph whose stored record does not read */
  ps_search_opts o = {.limit = 10};
  if (opts) o = *opts;
  rank_tune();
  ps_results *res = calloc(1, sizeof *res);
  *out = NULL;
  if (!res || !(res->query = strdup(q))) {
    rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
    goto done;
  }
  if ((rc = ps_index__check(ix, err))) goto done; /* a reopen left unfinished */
  if ((rc = ps_query_parse(q, &pq, err))) goto done;
  implied = calloc(pq->root->n_kids + 1, 1);
  if (!implied) {
    rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
    goto done;
  }
  cres c = {C_ALL, 0, NULL};
  if (pq->root->type == PS_QN_AND)
    rc = cand_and(ix, pq->root->kids, pq->root->n_kids, &c, implied, err);
  else
    rc = cand_build(ix, pq->root, &c, err);
  if (rc) goto done;
  if (pq->root->type != PS_QN_AND) implied[0] = (unsigned char)c.exact;
  verify_ctx v = {ix, pq->root, implied, NULL, 0, !c.exact, &damaged};
  if (v.any_check && (rc = collect_sets(ix, &v, pq->root, &sets, &n_sets, err))) {
    ps_xq_free(c.q);
    goto done;
  }
  v.sets = sets;
  v.n_sets = n_sets;
  size_t n_terms = 0; /* of the positive words: related hits need some */
  for (size_t w = 0; w < pq->n_words; w++)
    ps_tok_query_terms(pq->words[w].norm, pq->words[w].norm_len, count_term, &n_terms, NULL);
  if (c.kind == C_NONE) {
    /* A filter that accepts nothing: an empty result, not an error. */
  } else {
    xq = c.kind == C_Q ? c.q : ps_xq_match_all();
    if (!xq) {
      rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
      goto done;
    }
    int want_related = !o.exact && n_terms;
    int clean = no_superseded(ix);
    /* the candidates of a verified word, for a walk that only verifies:
     * its rarest terms are enough */
    int rarest = v.any_check && pq->root->type == PS_QN_WORD;
    if (o.limit == 0 && !want_related && !o.want_matches) {
      /* the total alone: counted by Xapian with the same check, nothing
       * fetched or scored */
      if (count_by_termfreq(ix, pq, clean, &res->total)) goto page;
      if (rarest) cq = rarest_terms_query(ix, pq->root->word.norm, pq->root->word.norm_len);
      if ((rc = count_every(ix, cq ? cq : xq, &v, !clean, &res->total, err))) goto done;
      goto page;
    }
    /* Matches are ranked here so that pages stay consistent.  Xapian gives
     * them by weight, largest first, and the features add at most `bound`
     * to a normalised weight: once the next weight plus that cannot reach
     * the need-th best score so far, no later match can enter the first
     * `need`, which are then exactly those a full ranking gives.  Only they
     * are scored and sorted.  Without related hits nothing else is needed,
     * so Xapian is asked for the best `fetch` by weight only (it still
     * checks every candidate: the total stays exact), and for more only
     * while an unseen match could still reach the page. */
    size_t page_end = o.offset + o.limit < o.offset ? SIZE_MAX : o.offset + o.limit;
    size_t need = o.rank_first && o.rank_first < page_end ? o.rank_first : page_end;
    if (want_related && need < (size_t)R[R_FB_DOCS]) need = (size_t)R[R_FB_DOCS];
    double bound = bonus_bound(ix, pq, &wc);
    int bounds_known = 0; /* junc and titles made (when the bound first may prune) */
    size_t fetch = bound >= 0 && need <= 10000
                       ? (need * 8 > R[R_FETCH] ? need * 8 : (size_t)R[R_FETCH]) : 0;
    size_t scored = 0, tf_total = 0;
    double min_w = 0; /* > 0: the last pass asks for matches weighing that much */
    int known = count_by_termfreq(ix, pq, clean, &tf_total);
    /* Candidates to verify: all verified first (every core), which gives
     * the total; Xapian then ranks among the accepted ones.  Nothing to
     * verify and nothing superseded: no decider at all. */
    ps_xdecider_fn fn = !v.any_check && !clean ? ps_verify_decider : NULL;
    void *fn_ctx = &v;
    ps_xresult top = {0}; /* the first pass's matches, ranked by the verifying walk */
    size_t fetched = 0;   /* its candidates (a pass fetched all when fewer than fetch) */
    int ranked = 0;
    if (v.any_check) {
      /* Every pass walks all the candidates (the AND of every term of the
       * words), so ask at once for what usually completes the page (the
       * matches that can reach it are 2-4% of them on the benchmark's
       * corpora).  The verifying walk also ranks: the best `fetch`
       * candidates by weight (FETCH_VERIFIED at least), of which the
       * matches are the best matches, so the first pass below costs
       * nothing and the ranking overlaps verification on the other core
       * (1 GB top-10: 乡村振兴 高标准农田 36 -> 20 ms; 京津冀协同发展 60 -> 42
       * when the other core is free, the same when it is not).  That walk
       * is then over every term of a name rather than its two rarest,
       * which costs less than a second walk.  Sharded databases decide
       * remote matches after Xapian's ranking: there the walk only
       * verifies, over the rarest terms. */
      ps_xsearch rank;
      ps_xsearch_init(&rank);
      set_bm25(&rank);
      ranked = fetch && ps_index_shards(ix) == 0;
      if (ranked) rank.max = (unsigned)(fetch > FETCH_VERIFIED ? fetch : FETCH_VERIFIED);
      else if (rarest)
        cq = rarest_terms_query(ix, pq->root->word.norm, pq->root->word.norm_len);
      if ((rc = ps_verify_collect(ix, cq ? cq : xq, &v, ranked ? &rank : NULL,
                                  &xr, ranked ? &top : NULL, &fetched, err)))
        goto done;
      if (docset_of(&xr, &acc)) {
        ps_xresult_free(&top);
        rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
        goto done;
      }
      known = 1;
      tf_total = xr.n;
      /* Local shards: the verified matches filter the ranking inside
       * Xapian's match (ps_xsearch.only), where a decider would see every
       * candidate after the match (an MSet of all of them, or batches). */
      if (!ranked && local_shards(ix) && (rc = docids_of(&xr, &only, &n_only, err))) goto done;
      if (ranked) fetch = rank.max;
      else if (fetch && fetch < tf_total / 20) fetch = tf_total / 20;
      fn = docset_decider;
      fn_ctx = &acc;
    }
    /* Nothing to verify, several terms in an AND: Xapian walks every match
     * whatever it is asked for (the AND's weight bound rarely falls under
     * the floor), so the first pass asks for many as plain pairs, which
     * usually completes the page at once (1 GB, 京津 湿地: 10,622 matches
     * to score, 2 passes of 22 ms before).  A word alone (one term) keeps
     * Xapian's early end. */
    int flat = fetch && !v.any_check && n_terms >= 2 && pq->root->type == PS_QN_AND;
    if (flat && ps_index_shards(ix)) {
      /* Local shards: the matches are listed shard by shard first (the
       * verifying walk, which reads no record here), so that the pass
       * below can keep the best in the spy through the docid filter
       * (1 GB, 2 shards, 京津 湿地: 41 -> 29 ms; one database 18). */
      flat = 0;
      if (local_shards(ix)) {
        ps_xresult all = {0};
        if ((rc = ps_verify_collect(ix, xq, &v, NULL, &all, NULL, NULL, err)) == PS_OK)
          rc = docids_of(&all, &only, &n_only, err);
        ps_xresult_free(&all);
        if (rc) goto done;
        known = 1;
        tf_total = n_only;
        if (fetch < tf_total / 20) fetch = tf_total / 20;
      }
    }
    flat = flat || (fetch && only); /* (local shards: the spy follows the docid filter) */
    if (flat && fetch < FETCH_VERIFIED) fetch = FETCH_VERIFIED;
    for (;;) {
      ps_xresult_free(&xr);
      if (ranked) { /* the first pass is the verifying walk's */
        xr = top;
        ranked = 0;
      } else {
        if ((rc = search_top(ix, xq, only ? NULL : fn, fn_ctx, only, n_only, fetch, min_w,
                             known ? &tf_total : NULL, flat,
                             &xr, err)))
          goto done;
        fetched = xr.n;
        flat = 0;
      }
      res->total = xr.total_lower;
      /* the previous pass's matches and scores: the new one starts with
       * the same matches in the same order (more of them), scored alike */
      cand *prev = ex;
      size_t prev_scored = scored;
      n_ex = xr.n;
      free(excl);
      ex = malloc((n_ex + 1) * sizeof *ex);
      excl = malloc((n_ex + 1) * sizeof *excl);
      if (!ex || !excl) {
        free(prev);
        rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
        goto done;
      }
      double wmax = 0;
      size_t reuse = 0; /* leading matches whose scores the last pass found */
      for (size_t i = 0; i < n_ex; i++) {
        ex[i].docid = excl[i] = xr.matches[i].docid;
        ex[i].w = quantize(xr.matches[i].weight);
        ex[i].score = -1;
        ex[i].key = UINT64_MAX;
        if (ex[i].w > wmax) wmax = ex[i].w;
        if (reuse == i && i < prev_scored && prev[i].docid == ex[i].docid && prev[i].w == ex[i].w) {
          ex[i].score = prev[i].score;
          ex[i].key = prev[i].key;
          reuse++;
        }
      }
      free(prev);
      cand *heap = NULL; /* the need best so far, worst at the top */
      size_t n_heap = 0;
      int prune = bound >= 0 && wmax > 0 && need < n_ex / 2 && need <= 10000;
      if (prune && !(heap = malloc(need * sizeof *heap))) {
        rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
        goto done;
      }
      for (scored = 0; scored < n_ex; scored++) {
        cand *c = &ex[scored];
        if (prune && n_heap == need && R[R_BM25] * c->w / wmax + bound < heap[0].score) break;
        if (scored < reuse) { /* scored by the last pass (or ruled out: -1, no key) */
          if (prune && !(c->score == -1 && c->key == UINT64_MAX)) heap_offer(heap, &n_heap, need, c);
          continue;
        }
        ps_index_para_hint(ix, ex, sizeof *ex, scored, n_ex, PS_HINT_TEXT);
        /* ruled out by the bound: before the paragraph is read if it can
         * (the title from the file's docids, the phrase from the words'
         * junctions: made once, when the bound first may rule a match out),
         * then before the section is looked at */
        if (prune && n_heap == need && !bounds_known) {
          bounds_known = 1;
          if ((rc = junctions(ix, pq, &junc, &junc_all, err)) ||
              (title_ranges_make(ix, pq, &wc, &titles) &&
               (rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory")))) {
            free(heap);
            goto done;
          }
        }
        int phrase_ok = junc_all || docset_has(&junc, c->docid);
        if (prune && n_heap == need &&
            R[R_BM25] * c->w / wmax + R[R_DENS] + R[R_SECTION] +
                    (pq->n_words > 1 ? R[R_PROX] + (phrase_ok ? R[R_PHRASE] : 0) : 0) +
                    (title_maybe(&titles, c->docid) ? R[R_TITLE] : 0) <
                heap[0].score) {
          c->score = -1;
          c->key = UINT64_MAX;
          continue;
        }
        ps_store_rec rec;
        int have = ps_index_para(ix, c->docid, &rec) == PS_OK;
        if (have && prune && n_heap == need &&
            (score_bound(ix, pq, &rec, c->w, wmax, &wc, 0, phrase_ok) < heap[0].score ||
             score_bound(ix, pq, &rec, c->w, wmax, &wc, 1, phrase_ok) < heap[0].score)) {
          c->score = -1; /* cannot reach the page: below every score */
          c->key = UINT64_MAX;
          continue;
        }
        c->score = have ? exact_score(ix, pq, &rec, c->w, wmax, &wc) : 0;
        c->key = have ? stable_key(ix, &rec) : UINT64_MAX;
        if (prune) heap_offer(heap, &n_heap, need, c);
      }
      /* complete: every match fetched, or the bound stopped the scoring, or
       * no match past the last fetched one (weighing at most as much) can
       * reach the page */
      int complete = fetch == 0 || fetched < fetch || scored < n_ex ||
                     (prune && n_heap == need && n_ex &&
                      R[R_BM25] * ex[n_ex - 1].w / wmax + bound < heap[0].score);
      /* More: every match that weighs enough to reach the page with the
       * scores seen so far (the scoring loop's own test, a little lower
       * for the rounding of weights), which completes the page; without
       * such a weight, eight times as many, then every match.  The total
       * is known from now on. */
      double cut = prune && n_heap == need && R[R_BM25] > 0
                       ? (heap[0].score - bound) * wmax / R[R_BM25] - 1e-6 : 0;
      free(heap);
      if (complete) break;
      known = 1;
      tf_total = res->total;
      if (cut > 0) {
        fetch = 0;
        min_w = cut;
      } else {
        fetch = fetch <= res->total / 8 ? fetch * 8 : 0;
      }
    }
    /* Every exact match listed (for a page past the ranked ones), known
     * (related hits must not be exact ones) or handed over (facets), when
     * the passes fetched only the best: the others follow, unranked, in
     * docid order. */
    if (n_ex < res->total && (want_related || page_end > need || o.want_matches) &&
        (rc = complete_matches(ix, xq, &v, v.any_check ? &acc : NULL, &ex, &n_ex, &excl, err)))
      goto done;
    qsort(ex, scored, sizeof *ex, cmp_cand);
    if (want_related || o.want_matches) qsort(excl, n_ex, sizeof *excl, cmp_u32);
    /* related hits (queries with words only; filters restrict them too) */
    /* related hits come after every exact one: only those a page or the
     * first `need` can reach are ranked, the others only counted */
    size_t rel_want = need > n_ex ? need - n_ex : 0, rel_total = 0;
    if (!o.exact && n_terms &&
        (rc = expand(ix, pq, ex, n_ex, excl, rel_want, &rel, &n_rel, &rel_total, err)))
      goto done;
    res->related_total = rel_total;
    if (o.want_matches) res->matches = excl, res->n_matches = n_ex, excl = NULL;
    size_t all = n_ex + n_rel, first = o.offset < all ? o.offset : all;
    size_t n = all - first < o.limit ? all - first : o.limit;
    if (n) {
      res->hits = calloc(n, sizeof *res->hits);
      if (!res->hits) {
        rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
        goto done;
      }
    }
    for (size_t i = 0; i < n; i++) {
      size_t k = first + i;
      const cand *c = k < n_ex ? &ex[k] : &rel[k - n_ex];
      res->hits[i].docid = c->docid;
      res->hits[i].score = c->score;
      res->hits[i].related = k >= n_ex;
    }
    res->n_hits = n;
  }
page:
  for (size_t i = 0; i < res->n_hits; i++) {
    ps_hit *h = &res->hits[i];
    ps_store_rec rec;
    if (ps_index_para(ix, h->docid, &rec) != PS_OK) {
      rc = ps_error_set(err, PS_ERR_CORRUPT, "paragraph %u missing from the store", h->docid);
      goto done;
    }
    h->file = ps_index_file_by_no(ix, rec.file_no);
    h->paragraph = rec.para_no;
    h->section = rec.section;
    h->norm = rec.norm;
    h->norm_len = rec.norm_len;
    h->projects = rec.projects;
    h->projects_len = rec.projects_len;
    if (!o.page_only_text && (rc = fill_hit(pq, &rec, h, err))) goto done;
  }
  if (damaged) /* silently fewer hits would be a wrong answer */
    rc = ps_error_set(err, PS_ERR_CORRUPT,
                      "paragraph %u is damaged in the store; rebuild the database with "
                      "policy-index", damaged);
  res->took_ms = now_ms() - t0;
done:
  free(junc.bits);
  free(titles.first);
  free(titles.end);
  free(wc.title_has);
  free(acc.bits);
  free(only);
  ps_xq_free(cq);
  for (size_t i = 0; i < n_sets; i++) free(sets[i].ids);
  free(sets);
  free(implied);
  ps_xq_free(xq);
  ps_xresult_free(&xr);
  free(ex);
  free(rel);
  free(excl);
  ps_query_free(pq);
  if (rc) {
    ps_results_free(res);
    return rc;
  }
  *out = res;
  return PS_OK;
}

int ps_results_fill(ps_index *ix, ps_results *r, ps_error *err) {
  ps_query *pq = NULL;
  int rc = ps_query_parse(r->query, &pq, err); /* it parsed once already */
  for (size_t i = 0; rc == PS_OK && i < r->n_hits; i++) {
    ps_hit *h = &r->hits[i];
    ps_store_rec rec;
    if (h->text) continue;
    if (ps_index_para(ix, h->docid, &rec) != PS_OK)
      rc = ps_error_set(err, PS_ERR_CORRUPT, "paragraph %u missing from the store", h->docid);
    else
      rc = fill_hit(pq, &rec, h, err);
  }
  ps_query_free(pq);
  return rc;
}

void ps_results_free(ps_results *r) {
  if (!r) return;
  for (size_t i = 0; i < r->n_hits; i++) free(r->hits[i].highlights), free(r->hits[i].text);
  free(r->hits);
  free(r->matches);
  free(r->query);
  free(r);
}
