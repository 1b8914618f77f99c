/* verify.c: verification (see verify_internal.h): a query's expression on
 * a stored paragraph, and the candidates of a Xapian query verified on every
 * core while Xapian walks them. */
#include "verify_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "index_internal.h"
#include "ps_tok.h"

static int cmp_docid(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static size_t count_chars(const char *s, size_t n) {
  size_t c = 0;
  for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
  return c;
}

/* Normalised text of s contains v (ps_tok_find when words, else bytes), or
 * with as_word == 2, equals it. */
static int norm_contains(const char *s, size_t len, const char *v, size_t vl, int as_word) {
  if (!s || !len) return 0;
  ps_norm n;
  if (ps_tok_normalize(s, len, 0, &n) != PS_OK) return 0;
  int r = as_word == 2 ? n.len == vl && memcmp(n.text, v, vl) == 0
          : as_word    ? ps_tok_find(n.text, n.len, v, vl, 0) != (size_t)-1
                       : memmem(n.text, n.len, v, vl) != NULL;
  ps_norm_free(&n);
  return r;
}

/* a NEAR/d b on normalised text t: two matches with at most d characters
 * between them, either order (overlapping ones count as 0). */
static int near_match(const char *t, size_t tl, const ps_qword *a, const ps_qword *b,
                      unsigned d) {
  size_t pa, pb;
  for (size_t fa = 0; (pa = ps_tok_find(t, tl, a->norm, a->norm_len, fa)) != (size_t)-1;
       fa = pa + 1) {
    size_t ea = pa + a->norm_len;
    for (size_t fb = 0; (pb = ps_tok_find(t, tl, b->norm, b->norm_len, fb)) != (size_t)-1;
         fb = pb + 1) {
      size_t eb = pb + b->norm_len;
      if (pb >= ea) {
        if (count_chars(t + ea, pb - ea) <= d) return 1;
        break; /* later matches of b are farther */
      }
      if (pa >= eb) {
        if (count_chars(t + eb, pa - eb) <= d) return 1;
      } else {
        return 1; /* overlapping */
      }
    }
  }
  return 0;
}

int ps_verify_node(const verify_ctx *v, const ps_qnode *n, uint32_t docid,
                   const ps_store_rec *rec) {
  switch (n->type) {
    case PS_QN_WORD:
      return ps_tok_find(rec->norm, rec->norm_len, n->word.norm, n->word.norm_len, 0) !=
             (size_t)-1;
    case PS_QN_NEAR:
      return near_match(rec->norm, rec->norm_len, &n->kids[0]->word, &n->kids[1]->word,
                        n->near);
    case PS_QN_NOT:
      return !ps_verify_node(v, n->kids[0], docid, rec);
    case PS_QN_AND:
      for (size_t i = 0; i < n->n_kids; i++)
        if (!(n == v->root && v->implied[i]) && !ps_verify_node(v, n->kids[i], docid, rec)) return 0;
      return 1;
    case PS_QN_OR:
      for (size_t i = 0; i < n->n_kids; i++)
        if (ps_verify_node(v, n->kids[i], docid, rec)) return 1;
      return 0;
    case PS_QN_FILTER: {
      const ps_qfilter *f = &n->filter;
      if (f->field == PS_QF_SECTION)
        return norm_contains(rec->section, rec->section_len, f->value, f->value_len,
                             f->exact ? 2 : 1);
      if (f->field == PS_QF_TITLE || f->field == PS_QF_DOC) {
        const ps_file_info *fi = ps_index_file_by_no(v->ix, rec->file_no);
        if (!fi) return 0;
        if (f->field == PS_QF_TITLE)
          return norm_contains(fi->title, fi->title ? strlen(fi->title) : 0, f->value,
                               f->value_len, f->exact ? 2 : 1);
        const char *base = strrchr(fi->path, '/');
        base = base ? base + 1 : fi->path;
        return norm_contains(base, strlen(base), f->value, f->value_len, f->exact ? 2 : 0);
      }
      for (size_t i = 0; i < v->n_sets; i++)
        if (v->sets[i].node == n) /* (no ids at all: a filter that accepts nothing) */
          return v->sets[i].n &&
                 bsearch(&docid, v->sets[i].ids, v->sets[i].n, sizeof docid, cmp_docid) != NULL;
      return 1; /* implied by the candidate query */
    }
  }
  return 0;
}

int ps_verify_para(const verify_ctx *v, uint32_t docid) {
  if (!ps_index_live(v->ix, docid)) return 0;
  if (!v->any_check) return 1;
  if (v->implied[0] && v->root->type != PS_QN_AND) return 1;
  ps_store_rec rec;
  if (ps_index_para(v->ix, docid, &rec) != PS_OK) {
    if (v->damaged) __atomic_store_n(v->damaged, docid, __ATOMIC_RELAXED);
    return 0;
  }
  return ps_verify_node(v, v->root, docid, &rec);
}

int ps_verify_decider(void *ctx, unsigned docid) { return ps_verify_para(ctx, docid); }

/* ---- every candidate, on every core ----
 *
 * Verifying is most of the time of a query whose words need it (a name of
 * three characters or more: thousands of candidates, each a paragraph to
 * read and scan), and Xapian's walk over the candidates is most of the
 * rest.  So the walk only collects docids, in blocks; a block is verified
 * by a worker thread as soon as it is full, while Xapian goes on, and when
 * the walk ends the calling thread verifies what is left with them.  The
 * store is read-only memory and the query read-only: the threads share
 * only the block list, under a mutex.  Few candidates: no thread at all. */
#define BLOCK 1024     /* candidates per block */
#define PAR_MIN 2048   /* candidates from which workers start */
#define PAR_MAX 8      /* threads at most */

typedef struct vpipe {
  /* the walk's thread alone, on every candidate: a cache line of its own,
   * or each write would take the line from the workers and back */
  struct {
    uint32_t *cur;      /* the last block */
    size_t fill;        /* candidates in it */
  } walk __attribute__((aligned(64)));
  const verify_ctx *v __attribute__((aligned(64)));
  uint32_t **blk;       /* blocks of candidates, in Xapian's order */
  unsigned char **ok;   /* per block: the verdicts */
  size_t n_blk, cap_blk;
  size_t ready;         /* blocks complete, for the workers */
  size_t next;          /* the next block to verify */
  int done;             /* the walk ended: every block is ready */
  int nomem;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t th[PAR_MAX];
  size_t n_th;
  /* walking shard `shard` of `shards` alone: its docids made global */
  unsigned shard, shards;
} vpipe;

static int cpus;
static pthread_once_t cpus_once = PTHREAD_ONCE_INIT;

static void cpus_count(void) {
  long c = sysconf(_SC_NPROCESSORS_ONLN);
  cpus = c < 1 ? 1 : c > PAR_MAX ? PAR_MAX : (int)c;
}

/* Verifies blocks until none is left to take (and, before the walk ends,
 * waits for more). */
static void verify_blocks(vpipe *p) {
  const verify_ctx *v = p->v;
  for (;;) {
    pthread_mutex_lock(&p->mu);
    while (p->next >= p->ready && !p->done) pthread_cond_wait(&p->cv, &p->mu);
    if (p->next >= p->ready) {
      pthread_mutex_unlock(&p->mu);
      return;
    }
    size_t i = p->next++;
    const uint32_t *d = p->blk[i];
    unsigned char *ok = p->ok[i];
    /* (the last block is ready once the walk ended: its fill is final) */
    size_t n = i + 1 == p->n_blk ? p->walk.fill : BLOCK;
    pthread_mutex_unlock(&p->mu);
    int reads = v->any_check; /* (else only whether each is current: no record read) */
    for (size_t k = 0; k < n; k++) {
      if (reads) ps_index_para_hint(v->ix, d, sizeof *d, k, n, PS_HINT_TEXT);
      ok[k] = (unsigned char)ps_verify_para(v, d[k]);
    }
  }
}

static void *worker(void *arg) {
  verify_blocks(arg);
  return NULL;
}

/* The walk's decider: collects docid into the last block; a full block is
 * handed to the workers (started once there are PAR_MIN candidates). */
static int collect(void *ctx, unsigned docid) {
  vpipe *p = ctx;
  if (p->nomem) return 0;
  if (!p->walk.cur || p->walk.fill == BLOCK) {
    uint32_t *d = malloc(BLOCK * sizeof *d);
    unsigned char *ok = malloc(BLOCK);
    pthread_mutex_lock(&p->mu);
    if (d && ok && p->n_blk == p->cap_blk) {
      size_t cap = p->cap_blk ? p->cap_blk * 2 : 64;
      uint32_t **b = realloc(p->blk, cap * sizeof *b);
      if (b) p->blk = b;
      unsigned char **o = b ? realloc(p->ok, cap * sizeof *o) : NULL;
      if (o) p->ok = o, p->cap_blk = cap;
    }
    if (!d || !ok || p->n_blk == p->cap_blk) {
      pthread_mutex_unlock(&p->mu);
      free(d);
      free(ok);
      p->nomem = 1;
      return 0;
    }
    p->ready = p->n_blk; /* every block before the new one is full */
    p->blk[p->n_blk] = d;
    p->ok[p->n_blk++] = ok;
    p->walk.cur = d;
    p->walk.fill = 0;
    pthread_once(&cpus_once, cpus_count);
    while (p->ready * BLOCK >= PAR_MIN && p->n_th + 1 < (size_t)cpus &&
           pthread_create(&p->th[p->n_th], NULL, worker, p) == 0)
      p->n_th++;
    if (p->ready) pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
  }
  p->walk.cur[p->walk.fill++] = p->shards ? (docid - 1) * p->shards + p->shard + 1 : docid;
  return 1;
}

/* The candidates of q into p.  A sharded database whose shards are all
 * local is walked shard by shard, each through its own Xapian database:
 * a walk of the combined database that a decider must see comes back as
 * an MSet of every candidate (search_deciding_here), and the one term of
 * a counting walk is not read directly. */
static int walk(ps_index *ix, ps_xsearch *s, vpipe *p, ps_xresult *best, ps_xdb **failed) {
  ps_shards *sh = s->flat_top ? NULL : ps_index__shards(ix);
  *failed = ps_index_xdb(ix); /* (remote when any shard is) */
  unsigned n = sh && !ps_xdb_is_remote(*failed) ? ps_shards_count(sh) : 0;
  if (!n) return ps_xdb_search(*failed, s, best);
  int rc = PS_OK;
  p->shards = n;
  for (unsigned i = 0; i < n && rc == PS_OK; i++) {
    ps_xresult part = {0};
    p->shard = i;
    *failed = ps_index_xdb(ps_shards_part(sh, i));
    rc = ps_xdb_search(*failed, s, &part);
    ps_xresult_free(&part);
  }
  return rc;
}

/* Puts xr's matches, walked shard by shard (each shard's ascending), in
 * docid order through a bitmap of them: O(n) where qsort took 9.7% of a
 * count of 123,790 matches at 1 GB (its merge buffer mmapped each time).
 * PS_OK or PS_ERR_NOMEM. */
static int in_order(ps_xresult *xr) {
  uint32_t top = 0;
  for (size_t i = 0; i < xr->n; i++)
    if (xr->matches[i].docid > top) top = xr->matches[i].docid;
  uint64_t *bits = calloc((size_t)top / 64 + 1, sizeof *bits);
  if (!bits) return PS_ERR_NOMEM;
  for (size_t i = 0; i < xr->n; i++) bits[xr->matches[i].docid / 64] |= 1ull << (xr->matches[i].docid % 64);
  size_t k = 0;
  for (size_t w = 0; w <= top / 64; w++)
    for (uint64_t m = bits[w]; m; m &= m - 1)
      xr->matches[k++] = (ps_xmatch){(unsigned)(w * 64 + (unsigned)__builtin_ctzll(m)), 0};
  free(bits);
  return PS_OK;
}

int ps_verify_collect(ps_index *ix, const ps_xq *q, const verify_ctx *v,
                      const ps_xsearch *rank, ps_xresult *xr, ps_xresult *top,
                      size_t *fetched, ps_error *err) {
  memset(xr, 0, sizeof *xr);
  if (top) memset(top, 0, sizeof *top);
  vpipe p;
  memset(&p, 0, sizeof p);
  p.v = v;
  pthread_mutex_init(&p.mu, NULL);
  pthread_cond_init(&p.cv, NULL);
  ps_xsearch s;
  ps_xsearch_init(&s);
  if (rank) {
    /* every candidate reaches the collector (no weight floor), and ranking
     * them costs the walk little (ps_xsearch.flat_top) */
    s = *rank;
    s.first = 0;
    s.check_at_least = 0;
    s.min_weight = 0;
    s.flat_top = 1;
  } else {
    s.max = 0;
    s.weighting = PS_XW_BOOL;
  }
  s.query = q;
  s.decider = collect;
  s.decider_ctx = &p;
  ps_xresult best = {0};
  ps_xdb *walked; /* (the one an error is on) */
  int rc = walk(ix, &s, &p, &best, &walked);
  /* the walk is over: the calling thread verifies with the workers */
  pthread_mutex_lock(&p.mu);
  p.ready = p.n_blk;
  p.done = 1;
  pthread_cond_broadcast(&p.cv);
  pthread_mutex_unlock(&p.mu);
  if (rc == PS_OK && !p.nomem) {
    verify_blocks(&p);
  } else {
    pthread_mutex_lock(&p.mu);
    p.next = p.n_blk; /* nothing more to verify: the workers stop */
    pthread_mutex_unlock(&p.mu);
  }
  for (size_t t = 0; t < p.n_th; t++) pthread_join(p.th[t], NULL);
  if (rc) {
    rc = ps_error_set(err, rc, "search failed: %s", ps_xdb_errmsg(walked));
  } else if (!p.nomem) {
    size_t n = 0;
    for (size_t b = 0; b < p.n_blk; b++) {
      size_t m = b + 1 == p.n_blk ? p.walk.fill : BLOCK;
      for (size_t k = 0; k < m; k++) n += p.ok[b][k];
    }
    if (n && !(xr->matches = malloc(n * sizeof *xr->matches))) p.nomem = 1;
    for (size_t b = 0; !p.nomem && b < p.n_blk; b++) {
      size_t m = b + 1 == p.n_blk ? p.walk.fill : BLOCK;
      for (size_t k = 0; k < m; k++)
        if (p.ok[b][k]) xr->matches[xr->n++] = (ps_xmatch){p.blk[b][k], 0};
    }
    if (p.shards && xr->n > 1 && !p.nomem && in_order(xr)) p.nomem = 1;
    xr->total_lower = xr->total_estimate = xr->total_upper = (unsigned)xr->n;
    if (top && !p.nomem) { /* the best candidates that are matches, in order */
      *fetched = best.n;
      top->matches = best.matches;
      best.matches = NULL;
      for (size_t i = 0; i < best.n; i++)
        if (xr->n && bsearch(&top->matches[i].docid, xr->matches, xr->n,
                             sizeof *xr->matches, cmp_docid)) /* (docid leads ps_xmatch) */
          top->matches[top->n++] = top->matches[i];
      top->total_lower = top->total_estimate = top->total_upper = (unsigned)xr->n;
    }
  }
  ps_xresult_free(&best);
  if (p.nomem && !rc) {
    ps_xresult_free(xr);
    ps_xresult_free(top);
    rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  }
  for (size_t b = 0; b < p.n_blk; b++) free(p.blk[b]), free(p.ok[b]);
  free(p.blk);
  free(p.ok);
  pthread_mutex_destroy(&p.mu);
  pthread_cond_destroy(&p.cv);
  return rc;
}
