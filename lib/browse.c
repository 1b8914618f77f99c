/* browse.c: facets, timeline order and date order over the exact hits of a
 * query (see ps_browse.h).  Everything here works on a ps_results that
 * holds every exact hit, so the counts are exact too. */
#include "ps_browse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ps_hash.h"
#include "ps_projects.h"

/* Distinct keys with their counts; a hash table (slots: index + 1, 0 =
 * empty, open addressing) finds a key, since facets count every hit. */
typedef struct counter {
  char **keys;
  size_t *lens, *counts;
  size_t n, cap;
  size_t *slots, n_slots; /* a power of two, more than twice n */
} counter;

/* Rebuilds the slots for n_slots entries. */
static int rehash(counter *c, size_t n_slots) {
  size_t *sl = calloc(n_slots, sizeof *sl);
  if (!sl) return -1;
  for (size_t i = 0; i < c->n; i++) {
    size_t j = (size_t)ps_hash64(c->keys[i], c->lens[i]) & (n_slots - 1);
    while (sl[j]) j = (j + 1) & (n_slots - 1);
    sl[j] = i + 1;
  }
  free(c->slots);
  c->slots = sl;
  c->n_slots = n_slots;
  return 0;
}

/* Adds n to the count of key k. */
static int count(counter *c, const char *k, size_t len, size_t n) {
  if (2 * (c->n + 1) >= c->n_slots && rehash(c, c->n_slots ? 2 * c->n_slots : 64)) return -1;
  size_t j = (size_t)ps_hash64(k, len) & (c->n_slots - 1);
  for (; c->slots[j]; j = (j + 1) & (c->n_slots - 1)) {
    size_t i = c->slots[j] - 1;
    if (c->lens[i] == len && memcmp(c->keys[i], k, len) == 0) return c->counts[i] += n, 0;
  }
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 16;
    char **k2 = realloc(c->keys, cap * sizeof *k2);
    if (k2) c->keys = k2;
    size_t *l2 = realloc(c->lens, cap * sizeof *l2);
    if (l2) c->lens = l2;
    size_t *n2 = realloc(c->counts, cap * sizeof *n2);
    if (n2) c->counts = n2;
    if (!k2 || !l2 || !n2) return -1;
    c->cap = cap;
  }
  if (!(c->keys[c->n] = strndup(k, len))) return -1;
  c->lens[c->n] = len;
  c->counts[c->n++] = n;
  c->slots[j] = c->n;
  return 0;
}

/* Adds times to the count of each key of the comma-separated list. */
static int count_list(counter *c, const char *list, size_t times) {
  while (list && *list) {
    const char *e = strchr(list, ',');
    size_t n = e ? (size_t)(e - list) : strlen(list);
    if (n && count(c, list, n, times)) return -1;
    list += n + (e ? 1 : 0);
  }
  return 0;
}

static int project_cb(void *ctx, const char *name, size_t len, int kind) {
  (void)kind;
  return count(ctx, name, len, 1) ? PS_ERR_NOMEM : 0;
}

static void counter_free(counter *c) {
  for (size_t i = 0; i < c->n; i++) free(c->keys[i]);
  free(c->keys);
  free(c->lens);
  free(c->counts);
  free(c->slots);
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
  /* a file's facets are counted once for each run of its hits (the hits
   * after the first ranked ones come in docid order: long runs) */
  const ps_file_info *run = NULL;
  size_t run_n = 0;
  for (size_t i = 0; i <= r->n_hits && !bad; i++) {
    const ps_hit *h = i < r->n_hits ? &r->hits[i] : NULL;
    if (h && (h->related || !h->file)) continue;
    if (run && (!h || h->file != run)) {
      bad |= count_list(&year, run->years, run_n);
      if (run->region[0]) bad |= count(&region, run->region, strlen(run->region), run_n);
      bad |= count_list(&type, run->types, run_n);
      run = NULL;
    }
    if (!h) break;
    if (!run) run = h->file, run_n = 0;
    run_n++;
    for (const char *s = h->projects, *e = s + (s ? h->projects_len : 0), *nl; s && s < e && !bad;
         s = nl + 1) {
      if (!(nl = memchr(s, '\n', (size_t)(e - s)))) break;
      bad |= project_cb(&project, s, (size_t)(nl - s), 0) != 0;
    }
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

/* ---- near-duplicates ---- */

/* The sorted, distinct hashes of the 4-character windows of a hit's
 * normalised text (the whole text when shorter). */
/* A paragraph's distinct 4-character shingles (sorted hashes) and a
 * 1024-bit sketch of them: bit h % 1024 for every shingle h. */
#define SKETCH_WORDS 16
typedef struct shingles {
  uint32_t *h;
  size_t n;
  uint64_t sketch[SKETCH_WORDS];
} shingles;


/* Sorts v[0..n) ascending (quicksort, insertion sort for short runs): a
 * thousand hits of several hundred shingles each, where qsort's calls
 * cost more than the comparisons. */
static void sort_u32(uint32_t *v, size_t n) {
  while (n > 16) {
    uint32_t a = v[0], b = v[n / 2], c = v[n - 1];
    uint32_t pivot = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
    size_t i = 0, j = n - 1;
    for (;;) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i >= j) break;
      uint32_t t = v[i];
      v[i++] = v[j], v[j--] = t;
    }
    /* [0, j] <= pivot <= [j + 1, n): recurse into the smaller side */
    if (j + 1 < n - j - 1) {
      sort_u32(v, j + 1);
      v += j + 1, n -= j + 1;
    } else {
      sort_u32(v + j + 1, n - j - 1);
      n = j + 1;
    }
  }
  for (size_t i = 1; i < n; i++) {
    uint32_t x = v[i];
    size_t k = i;
    while (k > 0 && v[k - 1] > x) v[k] = v[k - 1], k--;
    v[k] = x;
  }
}

static int make_shingles(const ps_hit *hit, shingles *out) {
  const char *t = hit->norm ? hit->norm : "";
  size_t len = hit->norm_len, nc = 0;
  out->h = NULL;
  out->n = 0;
  size_t *starts = malloc((len + 1) * sizeof *starts);
  out->h = malloc((len + 1) * sizeof *out->h);
  if (!starts || !out->h) {
    free(starts);
    return PS_ERR_NOMEM;
  }
  /* each character as its bytes in one word (at most 4 in UTF-8; the
   * shingle's hash mixes its characters' words: a few multiplications
   * instead of one per byte) */
  uint32_t *u = (uint32_t *)starts; /* (reused: a word per character fits) */
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)t[i];
    if ((c & 0xC0) != 0x80 || nc == 0) u[nc++] = c;
    else u[nc - 1] = u[nc - 1] << 8 | c;
  }
  size_t w = nc < 4 ? nc : 4;
  for (size_t k = 0; k + w <= nc && nc; k++) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ w;
    for (size_t j = 0; j < w; j++) h = (h ^ u[k + j]) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
    out->h[out->n++] = (uint32_t)(h >> 32);
  }
  free(starts);
  sort_u32(out->h, out->n);
  size_t m = 0;
  for (size_t i = 0; i < out->n; i++)
    if (!m || out->h[i] != out->h[m - 1]) out->h[m++] = out->h[i];
  out->n = m;
  memset(out->sketch, 0, sizeof out->sketch);
  for (size_t i = 0; i < m; i++) out->sketch[(out->h[i] >> 6) % SKETCH_WORDS] |= 1ull << (out->h[i] & 63);
  return PS_OK;
}

/* A lower bound of the shingles of a missing from b: every sketch bit that a
 * has and b lacks stands for at least one shingle of a that b does not have.
 * It rejects most pairs without walking both lists (no false rejections). */
static size_t missing_generic(const shingles *a, const shingles *b) {
  size_t k = 0;
  for (size_t w = 0; w < SKETCH_WORDS; w++) k += (size_t)__builtin_popcountll(a->sketch[w] & ~b->sketch[w]);
  return k;
}

#if defined(__x86_64__) && defined(__GNUC__)
/* The same with the POPCNT instruction (every x86-64 CPU since 2008, but
 * not the baseline the distribution compiles for): the pairs of a broad
 * query's thousand hits cost ten times less. */
__attribute__((target("popcnt"))) static size_t missing_popcnt(const shingles *a,
                                                                  const shingles *b) {
  size_t k = 0;
  for (size_t w = 0; w < SKETCH_WORDS; w++) k += (size_t)__builtin_popcountll(a->sketch[w] & ~b->sketch[w]);
  return k;
}

static size_t missing_at_least(const shingles *a, const shingles *b) {
  static int hw = -1;
  if (hw < 0) hw = __builtin_cpu_supports("popcnt") ? 1 : 0; /* (benign race: same value) */
  return hw ? missing_popcnt(a, b) : missing_generic(a, b);
}
#else
#define missing_at_least missing_generic
#endif

/* Share of the smaller set contained in the larger. */
static double containment(const shingles *a, const shingles *b) {
  size_t i = 0, j = 0, common = 0, small = a->n < b->n ? a->n : b->n;
  if (!small) return 0;
  while (i < a->n && j < b->n) {
    if (a->h[i] == b->h[j]) common++, i++, j++;
    else if (a->h[i] < b->h[j]) i++;
    else j++;
  }
  return (double)common / (double)small;
}

int ps_browse_collapse(ps_results *r, ps_collapsed **groups, size_t *removed) {
  size_t n = r->n_hits, kept = 0;
  size_t window = n < PS_COLLAPSE_WINDOW ? n : PS_COLLAPSE_WINDOW;
  shingles *sh = calloc(window + 1, sizeof *sh); /* (hits after the window have none) */
  ps_collapsed *g = calloc(n + 1, sizeof *g);
  int rc = (sh && g) ? PS_OK : PS_ERR_NOMEM;
  *groups = NULL;
  *removed = 0;
  for (size_t i = 0; i < window && rc == PS_OK; i++) rc = make_shingles(&r->hits[i], &sh[i]);
  for (size_t i = 0; i < window && rc == PS_OK; i++) {
    size_t into = (size_t)-1;
    for (size_t j = 0; i < window && j < kept && into == (size_t)-1; j++) {
      /* Only paragraphs of similar substance: a short sentence repeated
       * inside a long paragraph is a quotation, not a duplicate. */
      size_t a = sh[i].n, b = sh[j].n;
      if (r->hits[j].related != r->hits[i].related || a * 3 < b || b * 3 < a || a < 8) continue;
      /* containment >= 0.9 lets at most a tenth of the smaller set miss */
      const shingles *small = a <= b ? &sh[i] : &sh[j], *large = a <= b ? &sh[j] : &sh[i];
      if (missing_at_least(small, large) * 10 > small->n) continue;
      if (containment(&sh[i], &sh[j]) >= 0.9)
        into = j;
    }
    if (into == (size_t)-1) {
      r->hits[kept] = r->hits[i]; /* compact in place: kept <= i */
      sh[kept] = sh[i];
      if (kept != i) sh[i] = (shingles){.h = NULL};
      kept++;
    } else {
      ps_collapsed *c = &g[into];
      ps_also *na = realloc(c->also, (c->n + 1) * sizeof *na);
      if (!na) { rc = PS_ERR_NOMEM; break; }
      c->also = na;
      c->also[c->n].file = r->hits[i].file;
      c->also[c->n].paragraph = r->hits[i].paragraph;
      c->n++;
      free(r->hits[i].highlights);
    free(r->hits[i].text);
      free(sh[i].h);
      sh[i] = (shingles){.h = NULL};
      (*removed)++;
    }
  }
  /* the hits after the window stay as they are, moved up past the ones
   * folded (one move: a broad query has hundreds of thousands) */
  if (rc == PS_OK && n > window) {
    if (kept != window) memmove(&r->hits[kept], &r->hits[window], (n - window) * sizeof *r->hits);
    kept += n - window;
  }
  if (rc == PS_OK) r->n_hits = kept;
  for (size_t i = 0; sh && i < window; i++) free(sh[i].h);
  free(sh);
  if (rc) {
    ps_collapsed_free(g, n);
    return rc;
  }
  *groups = g;
  return PS_OK;
}

void ps_collapsed_free(ps_collapsed *g, size_t n) {
  for (size_t i = 0; g && i < n; i++) free(g[i].also);
  free(g);
}

void ps_browse_page(ps_results *r, ps_collapsed *groups, size_t offset, size_t limit) {
  size_t from = offset < r->n_hits ? offset : r->n_hits;
  size_t to = limit < r->n_hits - from ? from + limit : r->n_hits;
  for (size_t i = 0; i < r->n_hits; i++) {
    if (i >= from && i < to) continue;
    free(r->hits[i].highlights);
    if (groups) free(groups[i].also), groups[i].also = NULL, groups[i].n = 0;
  }
  if (to > from && from > 0) { /* memmove with NULL is undefined even for 0 bytes */
    memmove(r->hits, r->hits + from, (to - from) * sizeof *r->hits);
    if (groups) memmove(groups, groups + from, (to - from) * sizeof *groups);
  }
  r->n_hits = to - from;
}
