/* search.c: query execution (see ps_search.h): terms to a Xapian AND query,
 * a match decider that verifies each candidate against the paragraph store,
 * exact totals, and highlight spans for the returned hits. */
#include "ps_search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ps_tok.h"
#include "ps_xapian.h"

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

typedef struct verify_ctx {
  const ps_index *ix;
  const ps_query *pq;
  const int *needs_check;  /* per word */
  int any_check;
} verify_ctx;

static int paragraph_matches(const verify_ctx *v, uint32_t docid) {
  if (!ps_index_live(v->ix, docid)) return 0;
  if (!v->any_check) return 1;
  ps_store_rec rec;
  if (ps_index_para(v->ix, docid, &rec) != PS_OK) return 0;
  for (size_t w = 0; w < v->pq->n_words; w++) {
    if (!v->needs_check[w]) continue;
    const ps_qword *qw = &v->pq->words[w];
    if (ps_tok_find(rec.norm, rec.norm_len, qw->norm, qw->norm_len, 0) == (size_t)-1)
      return 0;
  }
  return 1;
}

static int decider(void *ctx, unsigned docid) {
  return paragraph_matches(ctx, docid);
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
static int match_term_cb(void *vctx, const char *t, size_t len, unsigned tf) {
  match_terms *m = vctx;
  (void)tf;
  if (m->f->field != PS_QF_YEAR) { /* years are exact terms already */
    ps_norm n;
    if (ps_tok_normalize(t + 1, len - 1, 0, &n) != PS_OK) return m->nomem = 1;
    int hit = memmem(n.text, n.len, m->f->value, m->f->value_len) != NULL;
    ps_norm_free(&n);
    if (!hit) return 0;
  }
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

/* The AND of the query's filters, each an OR of the filter terms it
 * accepts.  *none is set when some filter accepts no term at all (the
 * result is then empty).  *out is NULL when there are no filters. */
static int build_filters(ps_index *ix, const ps_query *pq, ps_xq **out, int *none,
                         ps_error *err) {
  static const char prefix[] = {'Y', 'R', 'T', 'P'};
  ps_xq **ands = calloc(pq->n_filters + 1, sizeof *ands);
  size_t na = 0;
  int rc = PS_OK;
  *out = NULL;
  *none = 0;
  if (!ands) return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  for (size_t i = 0; i < pq->n_filters && rc == PS_OK && !*none; i++) {
    const ps_qfilter *f = &pq->filters[i];
    match_terms m = {f, NULL, 0, 0, 0};
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
      ands[na] = m.n == 1 ? m.q[0] : ps_xq_op(PS_XQ_OR, m.q, m.n, 0);
      if (!ands[na]) rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
      na++;
      m.n = 0;
    }
    for (size_t k = 0; k < m.n; k++) ps_xq_free(m.q[k]);
    free(m.q);
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

/* A query whose words have no indexable character at all (only
 * punctuation) and no filter: scan every live paragraph. */
static int scan_all(ps_index *ix, const verify_ctx *v, const ps_search_opts *o,
                    ps_results *res, ps_error *err) {
  ps_index_stats st;
  ps_index_stats_get(ix, &st);
  size_t cap = 0;
  for (uint32_t id = 1; id <= st.lastdocid; id++) {
    if (!paragraph_matches(v, id)) continue;
    if (res->total >= o->offset && res->n_hits < o->limit) {
      if (res->n_hits == cap) {
        cap = cap ? cap * 2 : 16;
        ps_hit *h = realloc(res->hits, cap * sizeof *h);
        if (!h) return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
        res->hits = h;
      }
      memset(&res->hits[res->n_hits], 0, sizeof *res->hits);
      res->hits[res->n_hits++].docid = id;
    }
    res->total++;
  }
  return PS_OK;
}

int ps_search(ps_index *ix, const char *q, const ps_search_opts *opts, ps_results **out,
              ps_error *err) {
  int rc = PS_OK;
  double t0 = now_ms();
  ps_query *pq = NULL;
  term_list tl = {0};
  int *needs = NULL;
  ps_xq *xq = NULL;
  ps_xresult xr = {0};
  ps_search_opts o = {0, 10};
  if (opts) o = *opts;
  ps_results *res = calloc(1, sizeof *res);
  *out = NULL;
  if (!res || !(res->query = strdup(q))) {
    rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
    goto done;
  }
  if ((rc = ps_query_parse(q, &pq, err))) goto done;
  needs = calloc(pq->n_words, sizeof *needs);
  if (!needs) {
    rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
    goto done;
  }
  verify_ctx v = {ix, pq, needs, 0};
  for (size_t w = 0; w < pq->n_words; w++) {
    int exact = 0;
    ps_tok_query_terms(pq->words[w].norm, pq->words[w].norm_len, collect_term, &tl, &exact);
    if (tl.nomem) {
      rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
      goto done;
    }
    needs[w] = !exact;
    v.any_check |= needs[w];
  }
  int none = 0;
  ps_xq *filt = NULL;
  if ((rc = build_filters(ix, pq, &filt, &none, err))) goto done;
  if (none) {
    /* A filter that accepts nothing: an empty result, not an error. */
  } else if (tl.n == 0 && !filt) {
    if ((rc = scan_all(ix, &v, &o, res, err))) goto done;
  } else {
    ps_xq *content = NULL;
    if (tl.n) content = tl.n == 1 ? tl.q[0] : ps_xq_op(PS_XQ_AND, tl.q, tl.n, 0);
    for (size_t i = 0; i < tl.n; i++) tl.q[i] = NULL; /* now owned by content */
    if (content && filt) {
      ps_xq *pair[2] = {content, filt};
      xq = ps_xq_op(PS_XQ_FILTER, pair, 2, 0);
    } else {
      xq = content ? content : filt;
    }
    if (!xq) {
      rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
      goto done;
    }
    ps_xsearch s;
    ps_xsearch_init(&s);
    s.query = xq;
    s.first = (unsigned)o.offset;
    s.max = (unsigned)o.limit;
    s.decider = decider;
    s.decider_ctx = &v;
    rc = ps_xdb_search(ps_index_xdb(ix), &s, &xr);
    if (rc) {
      rc = ps_error_set(err, rc, "search failed: %s", ps_xdb_errmsg(ps_index_xdb(ix)));
      goto done;
    }
    res->total = xr.total_lower;
    if (xr.n) {
      res->hits = calloc(xr.n, sizeof *res->hits);
      if (!res->hits) {
        rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
        goto done;
      }
    }
    for (size_t i = 0; i < xr.n; i++) {
      res->hits[i].docid = xr.matches[i].docid;
      res->hits[i].score = xr.matches[i].weight;
    }
    res->n_hits = xr.n;
  }
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
    h->text = rec.text;
    h->text_len = rec.text_len;
    if (ps_search_highlight(pq, rec.text, rec.text_len, &h->highlights, &h->n_highlights)) {
      rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
      goto done;
    }
  }
  res->took_ms = now_ms() - t0;
done:
  for (size_t i = 0; i < tl.n; i++) ps_xq_free(tl.q[i]);
  term_list_free(&tl);
  ps_xq_free(xq);
  ps_xresult_free(&xr);
  free(needs);
  ps_query_free(pq);
  if (rc) {
    ps_results_free(res);
    return rc;
  }
  *out = res;
  return PS_OK;
}

void ps_results_free(ps_results *r) {
  if (!r) return;
  for (size_t i = 0; i < r->n_hits; i++) free(r->hits[i].highlights);
  free(r->hits);
  free(r->query);
  free(r);
}
