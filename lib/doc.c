/* doc.c: the in-memory document model (see ps_doc.h).
 *
 * A ps_doc owns its title, date and a growable array of paragraphs; every
 * string is a private copy so that producers can reuse their buffers. */
#include "ps_doc.h"
#include "ps_error.h"

#include <stdlib.h>
#include <string.h>

static char *dup_n(const char *s, size_t n) {
  char *p = malloc(n + 1);
  if (!p) return NULL;
  if (n) memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

ps_doc *ps_doc_new(void) {
  ps_doc *d = calloc(1, sizeof *d);
  if (!d) return NULL;
  d->title = dup_n("", 0);
  d->date = dup_n("", 0);
  d->categories = dup_n("", 0);
  d->tags = dup_n("", 0);
  d->format = "text";
  if (!d->title || !d->date || !d->categories || !d->tags) {
    ps_doc_free(d);
    return NULL;
  }
  return d;
}

int ps_doc_add(ps_doc *d, const char *text, size_t len, const char *section,
               int heading_level) {
  if (!d || (!text && len)) return PS_ERR_USAGE;
  if (d->n_paras == d->cap_paras) {
    size_t cap = d->cap_paras ? d->cap_paras * 2 : 16;
    ps_para *p = realloc(d->paras, cap * sizeof *p);
    if (!p) return PS_ERR_NOMEM;
    d->paras = p;
    d->cap_paras = cap;
  }
  if (!section) section = "";
  ps_para *p = &d->paras[d->n_paras];
  p->text = dup_n(text ? text : "", len);
  p->section = dup_n(section, strlen(section));
  if (!p->text || !p->section) {
    free(p->text);
    free(p->section);
    return PS_ERR_NOMEM;
  }
  p->len = len;
  p->heading_level = heading_level;
  d->n_paras++;
  return PS_OK;
}

/* Shared by the two setters: replace *slot with a copy of s (NULL = ""). */
static int set_string(char **slot, const char *s) {
  if (!s) s = "";
  char *c = dup_n(s, strlen(s));
  if (!c) return PS_ERR_NOMEM;
  free(*slot);
  *slot = c;
  return PS_OK;
}

int ps_doc_set_title(ps_doc *d, const char *s) {
  if (!d) return PS_ERR_USAGE;
  return set_string(&d->title, s);
}

int ps_doc_set_date(ps_doc *d, const char *s) {
  if (!d) return PS_ERR_USAGE;
  return set_string(&d->date, s);
}

int ps_doc_set_categories(ps_doc *d, const char *s) {
  if (!d) return PS_ERR_USAGE;
  return set_string(&d->categories, s);
}

int ps_doc_set_tags(ps_doc *d, const char *s) {
  if (!d) return PS_ERR_USAGE;
  return set_string(&d->tags, s);
}

void ps_doc_free(ps_doc *d) {
  if (!d) return;
  for (size_t i = 0; i < d->n_paras; i++) {
    free(d->paras[i].text);
    free(d->paras[i].section);
  }
  free(d->paras);
  free(d->title);
  free(d->date);
  free(d->categories);
  free(d->tags);
  free(d);
}
