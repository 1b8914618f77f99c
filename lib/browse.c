/* browse.c: facets, timeline order and date order over the exact hits of a
 * query (see ps_browse.h).  Everything here works on a ps_results that
 * holds every exact hit, so the counts are exact too. */
#include "ps_browse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ps_projects.h"

typedef struct counter {
  char **keys;
  size_t *counts;
  size_t n, cap;
} counter;

static int count(counter *c, const char *k, size_t len) {
  for (size_t i = 0; i < c->n; i++)
    if (strlen(c->keys[i]) == len && memcmp(c->keys[i], k, len) == 0) return c->counts[i]++, 0;
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 16;
    char **k2 = realloc(c->keys, cap * sizeof *k2);
    if (k2) c->keys = k2;
    size_t *n2 = realloc(c->counts, cap * sizeof *n2);
    if (n2) c->counts = n2;
    if (!k2 || !n2) return -1;
    c->cap = cap;
  }
  if (!(c->keys[c->n] = strndup(k, len))) return -1;
  c->counts[c->n++] = 1;
  return 0;
}

static int count_list(counter *c, const char *list) {
  while (list && *list) {
    const char *e = strchr(list, ',');
    size_t n = e ? (size_t)(e - list) : strlen(list);
    if (n && count(c, list, n)) return -1;
    list += n + (e ? 1 : 0);
  }
  return 0;
}

static int project_cb(void *ctx, const char *name, size_t len, int kind) {
  (void)kind;
  return count(ctx, name, len) ? PS_ERR_NOMEM : 0;
}

static void counter_free(counter *c) {
  for (size_t i = 0; i < c->n; i++) free(c->keys[i]);
  free(c->keys);
  free(c->counts);
}

/* The counter as a JSON object, largest count first, at most max keys. */
static cJSON *counter_json(const counter *c, size_t max) {
  cJSON *o = cJSON_CreateObject();
  char *used = calloc(c->n + 1, 1);
  for (size_t k = 0; o && used && k < c->n && k < max; k++) {
    size_t best = (size_t)-1;
    for (size_t i = 0; i < c->n; i++)
      if (!used[i] && (best == (size_t)-1 || c->counts[i] > c->counts[best] ||
                       (c->counts[i] == c->counts[best] && strcmp(c->keys[i], c->keys[best]) < 0)))
        best = i;
    used[best] = 1;
    cJSON_AddNumberToObject(o, c->keys[best], (double)c->counts[best]);
  }
  free(used);
  return o;
}

cJSON *ps_browse_facets(const ps_results *r) {
  counter year = {0}, region = {0}, type = {0}, project = {0};
  int bad = 0;
  for (size_t i = 0; i < r->n_hits && !bad; i++) {
    const ps_hit *h = &r->hits[i];
    if (h->related || !h->file) continue;
    bad |= count_list(&year, h->file->years);
    if (h->file->region[0]) bad |= count(&region, h->file->region, strlen(h->file->region));
    bad |= count_list(&type, h->file->types);
    bad |= ps_proj_extract(h->text, h->text_len, project_cb, &project) != PS_OK;
  }
  cJSON *o = bad ? NULL : cJSON_CreateObject();
  if (o) {
    cJSON_AddItemToObject(o, "year", counter_json(&year, (size_t)-1));
    cJSON_AddItemToObject(o, "region", counter_json(&region, (size_t)-1));
    cJSON_AddItemToObject(o, "type", counter_json(&type, (size_t)-1));
    cJSON_AddItemToObject(o, "project", counter_json(&project, 20));
  }
  counter_free(&year);
  counter_free(&region);
  counter_free(&type);
  counter_free(&project);
  return o;
}

char *ps_browse_facets_line(const cJSON *facets) {
  size_t cap = 1024, len = 0;
  char *s = malloc(cap);
  if (!s) return NULL;
  s[0] = '\0';
  static const char *names[] = {"year", "region", "type", "project"};
  for (size_t f = 0; f < 4; f++) {
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(facets, names[f]);
    const cJSON *e;
    size_t k = 0;
    cJSON_ArrayForEach(e, o) {
      if (k == 6) break; /* a line, not a table */
      size_t need = strlen(e->string) + 48;
      if (len + need >= cap) {
        char *t = realloc(s, cap = (cap + need) * 2);
        if (!t) { free(s); return NULL; }
        s = t;
      }
      const char *sep = k ? " · " : (len ? "  |  " : "");
      len += (size_t)snprintf(s + len, cap - len, "%s%s %d", sep, e->string, e->valueint);
      k++;
    }
  }
  return s;
}

const char *ps_browse_year(const ps_hit *h, char *buf) {
  buf[0] = '\0';
  if (h->file) {
    const char *src = h->file->years[0] ? h->file->years : h->file->date;
    snprintf(buf, 5, "%.4s", src);
  }
  return buf;
}

/* Sort keys: "YYYYMMDD" of the document (date, else first year). */
static void date_key(const ps_hit *h, char out[9]) {
  memset(out, '0', 8);
  out[8] = '\0';
  if (!h->file) return;
  const char *d = h->file->date;
  if (strlen(d) >= 10) {
    memcpy(out, d, 4), memcpy(out + 4, d + 5, 2), memcpy(out + 6, d + 8, 2);
  } else if (strlen(h->file->years) >= 4) {
    memcpy(out, h->file->years, 4);
  }
}

static int cmp_date(const void *a, const void *b) {
  const ps_hit *x = a, *y = b;
  char kx[9], ky[9];
  if (x->related != y->related) return x->related - y->related;
  date_key(x, kx), date_key(y, ky);
  int c = strcmp(ky, kx); /* newest first */
  if (c) return c;
  return x->score < y->score ? 1 : x->score > y->score ? -1 : 0;
}

static int cmp_timeline(const void *a, const void *b) {
  const ps_hit *x = a, *y = b;
  char yx[8], yy[8];
  ps_browse_year(x, yx), ps_browse_year(y, yy);
  int c = strcmp(yx, yy);
  if (c) return c;
  c = strcmp(x->file ? x->file->path : "", y->file ? y->file->path : "");
  if (c) return c;
  return x->paragraph < y->paragraph ? -1 : x->paragraph > y->paragraph;
}

void ps_browse_sort_by_date(ps_results *r) {
  if (r->n_hits > 1) qsort(r->hits, r->n_hits, sizeof *r->hits, cmp_date);
}

void ps_browse_sort_timeline(ps_results *r) {
  if (r->n_hits > 1) qsort(r->hits, r->n_hits, sizeof *r->hits, cmp_timeline);
}
