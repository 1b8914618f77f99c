/* browse.c: facets, timeline order, date order and near-duplicate
 * collapsing over the exact hits of a query (see ps_browse.h).  Facets count
 * the docids of every exact hit (so the counts are exact) without reading
 * their paragraphs where the database allows; the orders work on a
 * ps_results that holds every exact hit. */
#include "ps_browse.h"

#include <pthread.h>
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

/* Project names counted by their hashes (ps_index_project_hashes): a table
 * of (hash, count, a paragraph that names it); the names are read back from
 * those paragraphs only for the hashes that can be among the shown ones. */
typedef struct hash_counts {
  uint64_t *hash;
  size_t *count;
  uint32_t *docid;
  size_t n, n_slots; /* a power of two, more than twice n */
} hash_counts;

static int hash_grow(hash_counts *t) {
  size_t ns = t->n_slots ? t->n_slots * 2 : 1024;
  hash_counts g = {calloc(ns, 8), calloc(ns, sizeof(size_t)), calloc(ns, 4), t->n, ns};
  if (!g.hash || !g.count || !g.docid) {
    free(g.hash), free(g.count), free(g.docid);
    return PS_ERR_NOMEM;
  }
  for (size_t i = 0; i < t->n_slots; i++) {
    if (!t->count[i]) continue;
    size_t j = (size_t)t->hash[i] & (ns - 1);
    while (g.count[j]) j = (j + 1) & (ns - 1);
    g.hash[j] = t->hash[i], g.count[j] = t->count[i], g.docid[j] = t->docid[i];
  }
  free(t->hash), free(t->count), free(t->docid);
  *t = g;
  return PS_OK;
}

static int count_hashes(void *ctx, uint32_t docid, const unsigned char *h, size_t k) {
  hash_counts *t = ctx;
  for (size_t i = 0; i < k; i++, h += 8) {
    if (2 * (t->n + 1) >= t->n_slots && hash_grow(t)) return PS_ERR_NOMEM;
    uint64_t v = 0;
    for (int b = 7; b >= 0; b--) v = v << 8 | h[b];
    size_t j = (size_t)v & (t->n_slots - 1);
    while (t->count[j] && t->hash[j] != v) j = (j + 1) & (t->n_slots - 1);
    if (!t->count[j]++) t->hash[j] = v, t->docid[j] = docid, t->n++;
  }
  return 0;
}

static int cmp_size_desc(const void *a, const void *b) {
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return x < y ? 1 : x > y ? -1 : 0;
}

/* The projects of docids by their hashes into c: every name whose count
 * reaches the max-th largest (ties on the boundary are ordered by name, so
 * all of them), named from a paragraph of its own.  PS_ERR_NOTFOUND: the
 * database has no hashes. */
static int projects_by_hash(const ps_index *ix, const uint32_t *docids, size_t n, size_t max,
                            counter *c, ps_error *err) {
  hash_counts t = {0};
  int rc = ps_index_project_hashes(ix, docids, n, count_hashes, &t, err);
  if (rc == PS_ERR_NOMEM) rc = ps_error_set(err, rc, "out of memory");
  size_t *counts = rc ? NULL : malloc((t.n + 1) * sizeof *counts);
  if (!rc && !counts) rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  size_t m = 0, least = 0;
  for (size_t i = 0; !rc && i < t.n_slots; i++)
    if (t.count[i]) counts[m++] = t.count[i];
  if (!rc && m) {
    qsort(counts, m, sizeof *counts, cmp_size_desc);
    least = counts[(m < max ? m : max) - 1];
  }
  for (size_t i = 0; !rc && i < t.n_slots; i++) {
    if (!t.count[i] || t.count[i] < least) continue;
    ps_store_rec rec;
    if (ps_index_para(ix, t.docid[i], &rec) != PS_OK) {
      rc = ps_error_set(err, PS_ERR_CORRUPT, "paragraph %u missing from the store", t.docid[i]);
      break;
    }
    int found = 0;
    for (const char *s = rec.projects, *e = s + rec.projects_len, *nl; s < e && !found;
         s = nl + 1) {
      if (!(nl = memchr(s, '\n', (size_t)(e - s)))) break;
      if (ps_hash64(s, (size_t)(nl - s)) != t.hash[i]) continue;
      found = 1;
      if (count(c, s, (size_t)(nl - s), t.count[i])) rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
    }
    if (!found && !rc)
      rc = ps_error_set(err, PS_ERR_CORRUPT,
                        "paragraph %u: its project hashes do not match its stored names; "
                        "rebuild the database with policy-index --optimize", t.docid[i]);
  }
  free(counts);
  free(t.hash), free(t.count), free(t.docid);
  return rc;
}

/* Facets shown for projects. */
#define PROJECTS_SHOWN 20

/* ps_browse_facets; with records set, from the stored records alone. */
static int facets(const ps_index *ix, const uint32_t *docids, size_t n, int records,
                  cJSON **out, ps_error *err) {
  counter year = {0}, region = {0}, type = {0}, project = {0};
  int bad = 0;
  *out = NULL;
  /* projects from their hashes in Xapian's value stream (docid order,
   * nothing read from the store), else from the stored records */
  int rc = records ? PS_ERR_NOTFOUND : projects_by_hash(ix, docids, n, PROJECTS_SHOWN, &project, err);
  int by_hash = rc == PS_OK;
  if (rc == PS_ERR_NOTFOUND) rc = PS_OK, ps_error_clear(err);
  /* a file's facets are counted once for each run of its paragraphs (in
   * docid order a file's paragraphs are one run on a single database) */
  uint32_t run_no = 0;
  const ps_file_info *run = NULL;
  size_t run_n = 0;
  for (size_t i = 0; i <= n && !bad && !rc; i++) {
    ps_store_rec rec;
    const ps_file_info *f = NULL;
    if (i < n && by_hash) {
      /* the file from the docid ranges: the same file as the last one mostly */
      f = run && docids[i] - run->first < run->count ? run : ps_index_file_of(ix, docids[i]);
      rec.file_no = f ? f->file_no : UINT32_MAX;
    } else if (i < n) {
      ps_index_para_hint(ix, docids, sizeof *docids, i, n, PS_HINT_PROJECTS);
      if (ps_index_para(ix, docids[i], &rec) != PS_OK) {
        rc = ps_error_set(err, PS_ERR_CORRUPT, "paragraph %u missing from the store", docids[i]);
        break;
      }
    }
    if (run_n && (i == n || rec.file_no != run_no)) {
      if (run) {
        bad |= count_list(&year, run->years, run_n);
        if (run->region[0]) bad |= count(&region, run->region, strlen(run->region), run_n);
        bad |= count_list(&type, run->types, run_n);
      }
      run_n = 0;
    }
    if (i == n) break;
    if (!run_n) run_no = rec.file_no, run = f ? f : ps_index_file_by_no(ix, rec.file_no);
    run_n++;
    if (by_hash || !run) continue; /* (a file the registry does not know: not counted) */
    for (const char *s = rec.projects, *e = s + rec.projects_len, *nl; s < e && !bad; s = nl + 1) {
      if (!(nl = memchr(s, '\n', (size_t)(e - s)))) break;
      bad |= count(&project, s, (size_t)(nl - s), 1) != 0;
    }
  }
  cJSON *o = bad || rc ? NULL : cJSON_CreateObject();
  if (o) {
    cJSON_AddItemToObject(o, "year", counter_json(&year, (size_t)-1));
    cJSON_AddItemToObject(o, "region", counter_json(&region, (size_t)-1));
    cJSON_AddItemToObject(o, "type", counter_json(&type, (size_t)-1));
    cJSON_AddItemToObject(o, "project", counter_json(&project, PROJECTS_SHOWN));
  }
  counter_free(&year);
  counter_free(&region);
  counter_free(&type);
  counter_free(&project);
  if (!rc && !o) rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  *out = o;
  return rc;
}

/* PS_CHECK_FACETS set (tests): the facets are counted from the records
 * too, and a difference fails the answer. */
static int check_facets;
static pthread_once_t check_once = PTHREAD_ONCE_INIT;
static void check_read(void) { check_facets = getenv("PS_CHECK_FACETS") != NULL; }

int ps_browse_facets(const ps_index *ix, const uint32_t *docids, size_t n, cJSON **out,
                     ps_error *err) {
  int rc = facets(ix, docids, n, 0, out, err);
  pthread_once(&check_once, check_read);
  cJSON *again = NULL;
  if (rc == PS_OK && check_facets && (rc = facets(ix, docids, n, 1, &again, err)) == PS_OK &&
      !cJSON_Compare(*out, again, 1)) {
    char *a = cJSON_PrintUnformatted(*out), *b = cJSON_PrintUnformatted(again);
    rc = ps_error_set(err, PS_ERR_CORRUPT, "PS_CHECK_FACETS: %.400s differs from the records' %.400s",
                      a ? a : "?", b ? b : "?");
    free(a), free(b);
  }
  cJSON_Delete(again);
  if (rc) cJSON_Delete(*out), *out = NULL;
  return rc;
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

/* A paragraph's distinct 4-character shingles (hashes of the windows of
 * its normalised text, the whole text when shorter; sorted only once a
 * comparison needs them: most pairs are told apart by the sketch) and a
 * 1024-bit sketch of them: bit h % 1024 for every shingle h. */
#define SKETCH_WORDS 16
typedef struct shingles {
  uint32_t *h;
  size_t n;
  int sorted;
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
  /* distinct ones, by a table (0 marks a free slot: the hash 0 apart) */
  size_t cap = 16, m = 0;
  while (cap < 2 * out->n) cap <<= 1;
  uint32_t *tab = calloc(cap, sizeof *tab);
  if (!tab) return PS_ERR_NOMEM;
  int zero = 0;
  for (size_t i = 0; i < out->n; i++) {
    uint32_t x = out->h[i];
    if (!x) {
      if (!zero) zero = 1, out->h[m++] = 0;
      continue;
    }
    size_t j = x & (cap - 1); /* (x is a hash already) */
    while (tab[j] && tab[j] != x) j = (j + 1) & (cap - 1);
    if (!tab[j]) tab[j] = x, out->h[m++] = x;
  }
  free(tab);
  out->n = m;
  out->sorted = 0;
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
static double containment(shingles *a, shingles *b) {
  if (!a->sorted) sort_u32(a->h, a->n), a->sorted = 1;
  if (!b->sorted) sort_u32(b->h, b->n), b->sorted = 1;
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
