/* catalog.c: the corpus-wide project list (see ps_catalog.h), read from the
 * P<name> filter terms: each term's postings are the paragraphs naming it,
 * of which only the current (not superseded) ones count. */
#include "ps_catalog.h"

#include <stdlib.h>
#include <string.h>

#include "ps_tok.h"

typedef struct walk_ctx {
  ps_index *ix;
  const char *q;             /* normalised query, NULL for all */
  size_t qlen;
  ps_project *list;
  size_t n, cap;
  ps_project *cur;           /* project whose postings are being read */
  int rc;
} walk_ctx;

static int posting_cb(void *vctx, unsigned docid, unsigned wdf) {
  walk_ctx *w = vctx;
  ps_project *p = w->cur;
  ps_store_rec rec;
  (void)wdf;
  if (!ps_index_live(w->ix, docid) || ps_index_para(w->ix, docid, &rec) != PS_OK) return 0;
  const ps_file_info *f = ps_index_file_by_no(w->ix, rec.file_no);
  if (!f) return 0;
  p->count++;
  for (size_t i = 0; i < p->n_docs; i++)
    if (p->docs[i].file == f) {
      p->docs[i].count++;
      return 0;
    }
  ps_project_doc *d = realloc(p->docs, (p->n_docs + 1) * sizeof *d);
  if (!d) return w->rc = PS_ERR_NOMEM;
  p->docs = d;
  p->docs[p->n_docs].file = f;
  p->docs[p->n_docs].count = 1;
  p->n_docs++;
  return 0;
}

static int cmp_doc(const void *a, const void *b) {
  return strcmp(((const ps_project_doc *)a)->file->path, ((const ps_project_doc *)b)->file->path);
}

static int term_cb(void *vctx, const char *t, size_t len, unsigned tf) {
  walk_ctx *w = vctx;
  (void)tf;
  if (w->q) {
    ps_norm n;
    if (ps_tok_normalize(t + 1, len - 1, 0, &n) != PS_OK) return w->rc = PS_ERR_NOMEM;
    int hit = memmem(n.text, n.len, w->q, w->qlen) != NULL;
    ps_norm_free(&n);
    if (!hit) return 0;
  }
  if (w->n == w->cap) {
    size_t c = w->cap ? w->cap * 2 : 64;
    ps_project *l = realloc(w->list, c * sizeof *l);
    if (!l) return w->rc = PS_ERR_NOMEM;
    w->list = l;
    w->cap = c;
  }
  ps_project *p = &w->list[w->n];
  memset(p, 0, sizeof *p);
  if (!(p->name = strndup(t + 1, len - 1))) return w->rc = PS_ERR_NOMEM;
  w->n++;
  w->cur = p;
  int rc = ps_xdb_postings(ps_index_xdb(w->ix), t, len, posting_cb, w);
  if (w->rc) return w->rc;
  if (rc) return w->rc = rc;
  if (p->count == 0) { /* only superseded paragraphs name it */
    free(p->name);
    free(p->docs);
    w->n--;
  } else {
    qsort(p->docs, p->n_docs, sizeof *p->docs, cmp_doc);
  }
  return 0;
}

static int cmp_project(const void *a, const void *b) {
  const ps_project *x = a, *y = b;
  if (x->count != y->count) return x->count < y->count ? 1 : -1;
  return strcmp(x->name, y->name);
}

int ps_catalog_projects(ps_index *ix, const char *query, ps_project **out, size_t *n,
                        ps_error *err) {
  walk_ctx w;
  ps_norm qn = {0};
  memset(&w, 0, sizeof w);
  w.ix = ix;
  *out = NULL;
  *n = 0;
  if (query && *query) {
    if (ps_tok_normalize(query, strlen(query), 0, &qn) != PS_OK)
      return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
    w.q = qn.text;
    w.qlen = qn.len;
  }
  int rc = ps_xdb_allterms(ps_index_xdb(ix), "P", 1, term_cb, &w);
  ps_norm_free(&qn);
  if (w.rc || rc) {
    ps_catalog_free(w.list, w.n);
    if (w.rc == PS_ERR_NOMEM) return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
    return ps_error_set(err, w.rc ? w.rc : rc, "listing projects: %s",
                        ps_xdb_errmsg(ps_index_xdb(ix)));
  }
  qsort(w.list, w.n, sizeof *w.list, cmp_project);
  *out = w.list;
  *n = w.n;
  return PS_OK;
}

void ps_catalog_free(ps_project *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(p[i].name);
    free(p[i].docs);
  }
  free(p);
}
