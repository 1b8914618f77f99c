/* answer.c: a query and a front end's options turned into the finished
 * answer and its JSON (see ps_answer.h).  The command line and the server
 * both call this, so they answer the same query with the same bytes. */
#include "ps_answer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ps_catalog.h"
#include "ps_json.h"
#include "ps_query.h"
#include "ps_snippet.h"

/* How often a search is retried after the database moved under it.  One
 * reopen is normally enough; a few more cover an indexer committing file
 * after file in a tight loop. */
#define RETRIES 5

void ps_answer_opts_init(ps_answer_opts *o) {
  memset(o, 0, sizeof *o);
  o->limit = 10;
  o->collapse = 1;
  o->facets = 1;
}

static int blank(const char *s) {
  for (; s && *s; s++)
    if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r') return 0;
  return 1;
}

/* Appends s to the growing string *b (length *n, capacity *cap). */
static int append(char **b, size_t *n, size_t *cap, const char *s) {
  size_t l = strlen(s);
  if (*n + l + 1 > *cap) {
    size_t c = (*n + l + 1) * 2;
    char *nb = realloc(*b, c);
    if (!nb) return PS_ERR_NOMEM;
    *b = nb, *cap = c;
  }
  memcpy(*b + *n, s, l + 1);
  *n += l;
  return PS_OK;
}

int ps_answer_query(const char *q, const char *const *field, const char *const *value,
                    size_t n, char **out, ps_error *err) {
  char *b = NULL;
  size_t len = 0, cap = 0;
  int rc = PS_OK;
  ps_query *pq = NULL;
  *out = NULL;
  if (!blank(q)) {
    /* Parsed alone first: its errors then name positions the user typed. */
    if ((rc = ps_query_parse(q, &pq, err))) goto done;
    ps_query_free(pq), pq = NULL;
    int filtered = 0;
    for (size_t i = 0; i < n; i++) filtered |= value[i] && *value[i];
    /* Parenthesised only when filters follow, so that "a OR b" stays whole. */
    rc = append(&b, &len, &cap, filtered ? "(" : "");
    if (!rc) rc = append(&b, &len, &cap, q);
    if (!rc) rc = append(&b, &len, &cap, filtered ? ")" : "");
  }
  for (size_t i = 0; rc == PS_OK && i < n; i++) {
    const char *v = value[i];
    if (!v || !*v) continue;
    for (const unsigned char *c = (const unsigned char *)v; *c; c++)
      if (*c == '"' || *c < 0x20 || *c == 0x7f) {
        rc = ps_error_set(err, PS_ERR_QUERY,
                          "%s: the value '%s' contains a %s, which a filter cannot hold",
                          field[i], v, *c == '"' ? "double quote" : "control character");
        goto done;
      }
    /* One filter alone, so that a bad value is reported as such. */
    size_t fl = strlen(field[i]) + strlen(v) + sizeof ":\"=\"";
    char *one = malloc(fl);
    if (!one) { rc = PS_ERR_NOMEM; break; }
    /* equal to the value, as the facets count it (year is exact anyway) */
    snprintf(one, fl, strcmp(field[i], "year") ? "%s:\"=%s\"" : "%s:\"%s\"", field[i], v);
    ps_error e1;
    ps_error_clear(&e1);
    rc = ps_query_parse(one, &pq, &e1);
    ps_query_free(pq), pq = NULL;
    if (rc == PS_OK) {
      if (len) rc = append(&b, &len, &cap, " ");
      if (!rc) rc = append(&b, &len, &cap, one);
    } else {
      ps_error_set(err, rc, "bad %s filter '%s': %s", field[i], v, e1.msg);
    }
    free(one);
  }
  if (rc == PS_OK && len == 0)
    rc = ps_error_set(err, PS_ERR_QUERY, "empty query: give words to search for or a filter");
done:
  if (rc == PS_ERR_NOMEM) ps_error_set(err, rc, "out of memory");
  if (rc) free(b), b = NULL;
  *out = b;
  return rc;
}

/* Full pipeline (facets, order, collapsing, paging of the whole result) or
 * the plain search that pages inside ps_search (policy-search --queries). */
static int full_pipeline(const ps_answer_opts *o) {
  return o->facets || o->collapse || o->sort_date || o->timeline;
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int ps_answer_run(ps_index *ix, const char *q, const ps_answer_opts *o, ps_answer **out,
                  ps_error *err) {
  int rc;
  double t0 = now_ms();
  ps_answer *a = calloc(1, sizeof *a);
  *out = NULL;
  if (!a) return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  a->opts = *o;
  if (a->opts.limit > PS_ANSWER_MAX_LIMIT) a->opts.limit = PS_ANSWER_MAX_LIMIT;
  if (a->opts.sort_date || a->opts.timeline) a->opts.exact = 1;
  if (a->opts.timeline) a->opts.collapse = 0;
  ps_search_opts so = {.offset = a->opts.offset, .limit = a->opts.limit, .exact = a->opts.exact};
  int full = !a->opts.count_only && full_pipeline(&a->opts);
  if (a->opts.count_only) so.limit = 0, so.exact = 1; /* Xapian counts, nothing fetched */
  /* Date order and the timeline need every hit: search them all, then
   * order, collapse and cut the page.  In ranked order only the hits that
   * can reach the page after collapsing (it removes at most its window from
   * before the page) are listed, ranked; the facets count every exact hit
   * from its docid alone (a broad query has hundreds of thousands). */
  if (full) {
    so.offset = 0, so.page_only_text = 1, so.want_matches = a->opts.facets;
    so.limit = PS_ANSWER_MAX_LIMIT;
    if (!a->opts.sort_date && !a->opts.timeline) {
      size_t reach = a->opts.offset + a->opts.limit + (a->opts.collapse ? PS_COLLAPSE_WINDOW : 0);
      if (reach >= a->opts.offset && reach < so.limit) so.limit = so.rank_first = reach;
    }
  }
  for (int attempt = 0;; attempt++) {
    rc = ps_search(ix, q, &so, &a->res, err);
    if (rc != PS_ERR_RETRY || attempt == RETRIES) break;
    ps_results_free(a->res), a->res = NULL;
    ps_error e2;
    ps_error_clear(&e2);
    if (ps_index_reopen(ix, NULL, &e2) != PS_OK) break;
    ps_error_clear(err);
  }
  if (rc) goto fail;
  if (full) {
    if (a->opts.facets &&
        (rc = ps_browse_facets(ix, a->res->matches, a->res->n_matches, &a->facets, err)))
      goto fail;
    free(a->res->matches), a->res->matches = NULL, a->res->n_matches = 0; /* counted */
    if (a->opts.sort_date) ps_browse_sort_by_date(a->res);
    if (a->opts.timeline) ps_browse_sort_timeline(a->res);
    if (a->opts.collapse && ps_browse_collapse(a->res, &a->groups, &a->collapsed) != PS_OK)
      goto nomem;
    if (!a->opts.timeline) ps_browse_page(a->res, a->groups, a->opts.offset, a->opts.limit);
    /* text and highlights only for the hits that are shown */
    if ((rc = ps_results_fill(ix, a->res, err))) goto fail;
  }
  /* took_ms: the whole answer (facets and collapsing can cost more than the
   * search itself), retries included. */
  a->res->took_ms = now_ms() - t0;
  *out = a;
  return PS_OK;
nomem:
  rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
fail:
  ps_answer_free(a);
  return rc;
}

void ps_answer_free(ps_answer *a) {
  if (!a) return;
  if (a->groups) ps_collapsed_free(a->groups, a->res ? a->res->n_hits : 0);
  cJSON_Delete(a->facets);
  ps_results_free(a->res);
  free(a);
}

/* Adds "also_in": [{"path", "title", "paragraph"}] (the near-duplicates
 * folded into hit i) to hit; returns it. */
static cJSON *with_sources(cJSON *hit, const ps_answer *a, size_t i) {
  if (!hit || !a->groups) return hit;
  cJSON *arr = cJSON_AddArrayToObject(hit, "also_in");
  for (size_t k = 0; arr && k < a->groups[i].n; k++) {
    const ps_also *s = &a->groups[i].also[k];
    cJSON *o = cJSON_CreateObject();
    if (!o) break;
    cJSON_AddStringToObject(o, "path", s->file ? s->file->path : "");
    cJSON_AddStringToObject(o, "title", s->file ? s->file->title : "");
    cJSON_AddNumberToObject(o, "paragraph", s->paragraph);
    cJSON_AddItemToArray(arr, o);
  }
  return hit;
}

cJSON *ps_answer_hit_json(const ps_answer *a, size_t i) {
  return with_sources(ps_json_hit(&a->res->hits[i], 1), a, i);
}

cJSON *ps_answer_json(const ps_answer *a) {
  cJSON *o = ps_json_results(a->res, a->opts.offset);
  cJSON *hits = cJSON_GetObjectItemCaseSensitive(o, "hits");
  if (!hits || cJSON_GetArraySize(hits) != (int)a->res->n_hits) goto nomem;
  cJSON *h = hits->child;
  for (size_t i = 0; h; i++, h = h->next) with_sources(h, a, i);
  if (!a->opts.count_only && full_pipeline(&a->opts))
    cJSON_AddNumberToObject(o, "collapsed", (double)a->collapsed);
  if (a->facets) {
    cJSON *f = cJSON_Duplicate(a->facets, 1);
    if (!f) goto nomem;
    cJSON_AddItemToObject(o, "facets", f);
  }
  if (a->opts.timeline) {
    cJSON *t = ps_json_timeline(a->res);
    if (!t) goto nomem;
    cJSON_AddItemToObject(o, "timeline", t);
  }
  return o;
nomem:
  cJSON_Delete(o);
  return NULL;
}

static int by_path(const void *key, const void *elem) {
  return strcmp(key, ((const ps_file_info *)elem)->path);
}

int ps_answer_doc(ps_index *ix, const char *path, size_t para, size_t before, size_t after,
                  const char *q, cJSON **out, ps_error *err) {
  size_t n;
  const ps_file_info *files = ps_index_files(ix, &n);
  const ps_file_info *f = path ? bsearch(path, files, n, sizeof *files, by_path) : NULL;
  *out = NULL;
  if (!f) return ps_error_set(err, PS_ERR_NOTFOUND, "no indexed document has the path '%s'",
                              path ? path : "");
  if (para >= f->count)
    return ps_error_set(err, PS_ERR_NOTFOUND, "%s has %u paragraphs (0..%u), not %zu", f->path,
                        f->count, f->count ? f->count - 1 : 0, para);
  size_t first = para > before ? para - before : 0;
  size_t last = after < f->count - 1 - para ? para + after : f->count - 1;
  ps_query *pq = NULL;
  int rc = !blank(q) ? ps_query_parse(q, &pq, err) : PS_OK;
  if (rc) return rc;
  cJSON *o = cJSON_CreateObject();
  if (!o) {
    ps_query_free(pq);
    return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  }
  cJSON_AddItemToObject(o, "doc", ps_json_doc(f));
  cJSON_AddNumberToObject(o, "paragraph", (double)para);
  cJSON_AddNumberToObject(o, "first", (double)first);
  cJSON_AddNumberToObject(o, "paragraphs_total", f->count);
  cJSON *arr = cJSON_AddArrayToObject(o, "paragraphs");
  for (size_t k = first; arr && k <= last; k++) {
    ps_store_rec rec;
    if (ps_index_para(ix, ps_index_file_docid(ix, f, (uint32_t)k), &rec) != PS_OK) {
      rc = ps_error_set(err, PS_ERR_CORRUPT, "paragraph %zu of %s missing from the store", k,
                        f->path);
      break;
    }
    ps_span *sp = NULL;
    size_t n_sp = 0, text_len = 0;
    char *text = NULL;
    if ((rc = ps_store_text(&rec, &text, &text_len)) != PS_OK) {
      rc = rc == PS_ERR_NOMEM ? ps_error_set(err, rc, "out of memory")
                              : ps_error_set(err, rc, "paragraph %zu of %s is damaged in the store",
                                             k, f->path);
      break;
    }
    if (pq && ps_search_highlight(pq, text, text_len, &sp, &n_sp) != PS_OK) {
      free(text);
      rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
      break;
    }
    cJSON *p = cJSON_CreateObject();
    if (p) {
      cJSON_AddNumberToObject(p, "paragraph", (double)k);
      cJSON_AddStringToObject(p, "section", rec.section ? rec.section : "");
      cJSON_AddNumberToObject(p, "heading_level", rec.heading_level);
      cJSON_AddStringToObject(p, "text", text);
      cJSON_AddItemToObject(p, "highlights", ps_json_spans(text, sp, n_sp));
      cJSON_AddItemToArray(arr, p);
    }
    free(sp);
    free(text);
    if (!p) {
      rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
      break;
    }
  }
  ps_query_free(pq);
  if (rc) {
    cJSON_Delete(o);
    return rc;
  }
  *out = o;
  return PS_OK;
}

cJSON *ps_answer_stats(ps_index *ix, const char *dir) {
  ps_index_stats st;
  ps_index_stats_get(ix, &st);
  char when[32] = "";
  char path[4096];
  struct stat sb;
  /* Glass rewrites its version file at every commit. */
  snprintf(path, sizeof path, "%s/xapian/iamglass", dir ? dir : ".");
  if (dir && stat(path, &sb) == 0) {
    struct tm tm;
    gmtime_r(&sb.st_mtime, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  }
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  cJSON_AddNumberToObject(o, "documents", (double)st.files);
  cJSON_AddNumberToObject(o, "paragraphs", (double)st.paragraphs);
  cJSON_AddNumberToObject(o, "superseded", (double)st.superseded);
  cJSON_AddNumberToObject(o, "text_bytes", (double)st.text_bytes);
  cJSON_AddStringToObject(o, "last_indexed", when);
  return o;
}

int ps_answer_projects(ps_index *ix, const char *q, size_t limit, cJSON **out, ps_error *err) {
  ps_project *p = NULL;
  size_t n = 0;
  *out = NULL;
  int rc;
  for (int attempt = 0;; attempt++) { /* as ps_answer_run: a commit meanwhile is retried */
    rc = ps_catalog_projects(ix, q, &p, &n, err);
    if (rc != PS_ERR_RETRY || attempt == RETRIES || ps_index_reopen(ix, NULL, NULL)) break;
    ps_error_clear(err);
  }
  if (rc) return rc;
  *out = ps_json_projects(p, n < limit ? n : limit);
  ps_catalog_free(p, n);
  if (!*out) return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  return PS_OK;
}
