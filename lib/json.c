/* json.c: hits and result sets as JSON (see ps_json.h). */
#include "ps_json.h"

#include <math.h>

#include "ps_snippet.h"

static cJSON *spans_json(const char *text, const ps_span *sp, size_t n) {
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

cJSON *ps_json_hit(const ps_hit *h, int with_score) {
  ps_snippet sn;
  if (ps_snippet_make(h->text, h->text_len, h->highlights, h->n_highlights,
                      PS_SNIPPET_WIDTH, &sn) != PS_OK)
    return NULL;
  cJSON *o = cJSON_CreateObject();
  cJSON *doc = cJSON_AddObjectToObject(o, "doc");
  if (doc) {
    cJSON_AddStringToObject(doc, "path", h->file ? h->file->path : "");
    cJSON_AddStringToObject(doc, "title", h->file ? h->file->title : "");
  }
  cJSON_AddNumberToObject(o, "paragraph", h->paragraph);
  cJSON_AddStringToObject(o, "section", h->section ? h->section : "");
  cJSON_AddStringToObject(o, "text", h->text);
  cJSON_AddStringToObject(o, "snippet", sn.text);
  cJSON_AddItemToObject(o, "snippet_highlights", spans_json(sn.text, sn.spans, sn.n_spans));
  cJSON_AddItemToObject(o, "highlights", spans_json(h->text, h->highlights, h->n_highlights));
  if (with_score) cJSON_AddNumberToObject(o, "score", round(h->score * 1e4) / 1e4);
  ps_snippet_free(&sn);
  return o;
}

cJSON *ps_json_results(const ps_results *r, size_t offset) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "query", r->query);
  cJSON_AddNumberToObject(o, "total", (double)r->total);
  cJSON_AddNumberToObject(o, "took_ms", round(r->took_ms * 1000) / 1000);
  cJSON_AddNumberToObject(o, "offset", (double)offset);
  cJSON *hits = cJSON_AddArrayToObject(o, "hits");
  for (size_t i = 0; hits && i < r->n_hits; i++) {
    cJSON *h = ps_json_hit(&r->hits[i], 1);
    if (h) cJSON_AddItemToArray(hits, h);
  }
  return o;
}
