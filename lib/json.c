/* json.c: hits and result sets as JSON (see ps_json.h). */
#include "ps_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ps_projects.h"
#include "ps_snippet.h"

cJSON *ps_json_spans(const char *text, const ps_span *sp, size_t n) {
  cJSON *a = cJSON_CreateArray();
  size_t at = 0, chars = 0;
  for (size_t i = 0; a && i < n; i++) {
    chars += ps_snippet_chars(text + at, sp[i].start - at);
    size_t s = chars;
    chars += ps_snippet_chars(text + sp[i].start, sp[i].end - sp[i].start);
    at = sp[i].end;
    cJSON *pair = cJSON_CreateArray();
    if (!pair) break;
    cJSON_AddItemToArray(pair, cJSON_CreateNumber((double)s));
    cJSON_AddItemToArray(pair, cJSON_CreateNumber((double)chars));
    cJSON_AddItemToArray(a, pair);
  }
  return a;
}

static int add_project(void *ctx, const char *name, size_t len, int kind) {
  (void)kind;
  char *s = strndup(name, len);
  if (!s) return PS_ERR_NOMEM;
  cJSON_AddItemToArray(ctx, cJSON_CreateString(s));
  free(s);
  return 0;
}

cJSON *ps_json_list(const char *list) {
  cJSON *a = cJSON_CreateArray();
  while (a && list && *list) {
    const char *e = strchr(list, ',');
    size_t n = e ? (size_t)(e - list) : strlen(list);
    char *item = strndup(list, n);
    if (item) cJSON_AddItemToArray(a, cJSON_CreateString(item));
    free(item);
    list += n + (e ? 1 : 0);
  }
  return a;
}

cJSON *ps_json_projects(const ps_project *p, size_t n) {
  cJSON *o = cJSON_CreateObject();
  cJSON *arr = cJSON_AddArrayToObject(o, "projects");
  for (size_t i = 0; arr && i < n; i++) {
    cJSON *po = cJSON_CreateObject();
    if (!po) break;
    cJSON_AddStringToObject(po, "name", p[i].name);
    cJSON_AddNumberToObject(po, "count", (double)p[i].count);
    cJSON *docs = cJSON_AddArrayToObject(po, "documents");
    for (size_t k = 0; docs && k < p[i].n_docs; k++) {
      const ps_file_info *f = p[i].docs[k].file;
      cJSON *d = cJSON_CreateObject();
      if (!d) break;
      char year[8] = "";
      snprintf(year, sizeof year, "%.4s", f->years[0] ? f->years : f->date);
      cJSON_AddStringToObject(d, "path", f->path);
      cJSON_AddStringToObject(d, "title", f->title);
      cJSON_AddStringToObject(d, "year", year);
      cJSON_AddNumberToObject(d, "count", (double)p[i].docs[k].count);
      cJSON_AddItemToArray(docs, d);
    }
    cJSON_AddItemToArray(arr, po);
  }
  return o;
}

cJSON *ps_json_hit(const ps_hit *h, int with_score) {
  ps_snippet sn;
  if (ps_snippet_make(h->text, h->text_len, h->highlights, h->n_highlights,
                      PS_SNIPPET_WIDTH, &sn) != PS_OK)
    return NULL;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "doc", ps_json_doc(h->file));
  cJSON_AddNumberToObject(o, "paragraph", h->paragraph);
  cJSON_AddStringToObject(o, "section", h->section ? h->section : "");
  cJSON_AddStringToObject(o, "text", h->text);
  cJSON_AddStringToObject(o, "snippet", sn.text);
  cJSON_AddItemToObject(o, "snippet_highlights", ps_json_spans(sn.text, sn.spans, sn.n_spans));
  cJSON_AddItemToObject(o, "highlights", ps_json_spans(h->text, h->highlights, h->n_highlights));
  cJSON *projects = cJSON_AddArrayToObject(o, "projects");
  for (const char *s = h->projects, *e = s + (s ? h->projects_len : 0), *nl; projects && s && s < e;
       s = nl + 1) {
    if (!(nl = memchr(s, '\n', (size_t)(e - s)))) break;
    add_project(projects, s, (size_t)(nl - s), 0);
  }
  if (with_score) cJSON_AddNumberToObject(o, "score", round(h->score * 1e4) / 1e4);
  if (with_score) cJSON_AddBoolToObject(o, "exact", !h->related);
  ps_snippet_free(&sn);
  return o;
}

cJSON *ps_json_timeline(const ps_results *r) {
  cJSON *years = cJSON_CreateArray();
  cJSON *year_docs = NULL, *hits = NULL;
  char year[8], prev_year[8] = "?";
  const char *prev_path = NULL;
  for (size_t i = 0; years && i < r->n_hits; i++) {
    const ps_hit *h = &r->hits[i];
    year[0] = '\0';
    if (h->file) snprintf(year, 5, "%.4s", h->file->years[0] ? h->file->years : h->file->date);
    if (strcmp(year, prev_year) != 0) {
      cJSON *y = cJSON_CreateObject();
      cJSON_AddStringToObject(y, "year", year);
      year_docs = cJSON_AddArrayToObject(y, "documents");
      cJSON_AddItemToArray(years, y);
      snprintf(prev_year, sizeof prev_year, "%s", year);
      prev_path = NULL;
    }
    if (!prev_path || !h->file || strcmp(prev_path, h->file->path) != 0) {
      cJSON *d = cJSON_CreateObject();
      cJSON_AddStringToObject(d, "path", h->file ? h->file->path : "");
      cJSON_AddStringToObject(d, "title", h->file ? h->file->title : "");
      hits = cJSON_AddArrayToObject(d, "hits");
      cJSON_AddItemToArray(year_docs, d);
      prev_path = h->file ? h->file->path : NULL;
    }
    cJSON *hj = ps_json_hit(h, 1);
    if (hj) cJSON_AddItemToArray(hits, hj);
  }
  return years;
}

cJSON *ps_json_results(const ps_results *r, size_t offset) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "query", r->query);
  cJSON_AddNumberToObject(o, "total", (double)r->total);
  cJSON_AddNumberToObject(o, "related_total", (double)r->related_total);
  cJSON_AddNumberToObject(o, "took_ms", round(r->took_ms * 1000) / 1000);
  cJSON_AddNumberToObject(o, "offset", (double)offset);
  cJSON *hits = cJSON_AddArrayToObject(o, "hits");
  for (size_t i = 0; hits && i < r->n_hits; i++) {
    cJSON *h = ps_json_hit(&r->hits[i], 1);
    if (h) cJSON_AddItemToArray(hits, h);
  }
  return o;
}

cJSON *ps_json_doc(const ps_file_info *f) {
  cJSON *doc = cJSON_CreateObject();
  if (doc) {
    cJSON_AddStringToObject(doc, "path", f ? f->path : "");
    cJSON_AddStringToObject(doc, "title", f ? f->title : "");
    cJSON_AddStringToObject(doc, "date", f ? f->date : "");
    cJSON_AddItemToObject(doc, "years", ps_json_list(f ? f->years : ""));
    cJSON_AddStringToObject(doc, "region", f ? f->region : "");
    cJSON_AddItemToObject(doc, "types", ps_json_list(f ? f->types : ""));
    cJSON_AddStringToObject(doc, "issuer", f ? f->issuer : "");
    cJSON_AddStringToObject(doc, "doc_number", f ? f->doc_number : "");
  }
  return doc;
}

const char *ps_json_str(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : "";
}

double ps_json_num(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : 0;
}
