/* index_bulk.c: ps_index_add_files, adding many files on several threads.
 *
 * The writer (the calling thread) does everything that touches the
 * database's registry and store: it checks each file against the registry
 * ahead of the one it writes, and applies the prepared files in order
 * (ix_prep_apply: docids, store records, registry).  Two worker threads
 * prepare them (reading, parsing, normalising, building Xapian documents:
 * ix_prep_run, which touches no database).  Files are handed out in groups
 * of consecutive files, a group to one thread, which takes them in order.
 *
 * On a single database, for a load big enough to be worth the merge at its
 * commit (see index_internal.h, "bulk loads"), a group is a few MB of
 * input, and its thread also adds the documents of its files to its own
 * temporary database (a segment, docids 1..k, committed every ~2,000
 * paragraphs), so that the merge at the commit has few, large sources.
 * The thread then keeps only what the writer needs (the text for the
 * store); the writer writes one group after the other, so the thread of
 * the next group runs ahead and its prepared files wait: at most about
 * one group of text, bounded with --max-memory.  Otherwise (small loads,
 * files the writer prepares itself) a group is one file and the documents
 * are added by the writer.  Xapian objects are per thread: a segment is
 * used by its thread, or by the writer once the thread has let it go
 * (under the lock). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "index_internal.h"
#include "ps_hash.h"

#define WORKERS 2     /* threads preparing files */
#define WINDOW 4      /* without temporaries: files checked or prepared ahead */
#define GROUP_FILES 256 /* files of a group at most */
#define FLIGHT (3 * GROUP_FILES) /* bulk: files checked and not yet written */
/* Input bytes of a group: a part of the load (so that both threads have
 * work until near the end; smaller groups towards the end), within these
 * bounds and what --max-memory leaves for waiting text (TEXT_FACTOR).
 * Every group is at least one temporary database, and each adds a postlist
 * chunk per term to the merged tables: on 100 MB, 14 of them +5.9% against
 * the direct path, 12 +4.7% (bench/RESULTS.md, "Bulk loads"). */
#define GROUP_MIN ((uint64_t)1 << 20)
#define GROUP_MAX ((uint64_t)32 << 20)
#define GROUPS_PER_THREAD 2
/* Bytes a prepared file holds, waiting to be written, per byte of input
 * (its normalised text, the store's encoding of the text as written, the
 * section path: ix_prep_compact; about 1.2 on bench/ corpora). */
#define TEXT_FACTOR 2
/* Paragraphs between the commits of a temporary database: smaller batches
 * keep the inverter's maps in cache (less CPU); see bench/RESULTS.md. */
#define DEFAULT_BATCH 2000
/* Bytes a thread holds per uncommitted term occurrence of its batch
 * (Xapian's inverter; as BYTES_PER_TERM in index.c). */
#define BYTES_PER_TERM 48

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One temporary database: the paragraphs of consecutive files, docids
 * 1..docs.  Created by a group's thread (or the writer, for its own files);
 * freed at the end of the run. */
typedef struct seg {
  struct seg *next_all;
  char path[PATH_MAX + 32];
  ps_xdb *db;
  size_t docs;       /* added */
  size_t applied;    /* writer: written to the store */
  size_t last_seq;   /* the last file with paragraphs in it */
  size_t batch_paras, batch_bytes; /* not committed yet */
  int rc;            /* first failure; the segment is then useless */
  ps_error err;
  /* under the lock */
  int busy;          /* its thread is adding to it */
  int taken;         /* being closed (by its thread at the end of its files, or
                      * by the writer cutting it at a commit): no more added */
  int closed;        /* committed and closed */
} seg;

enum { J_FREE = 0, J_QUEUED, J_RUNNING, J_DONE, J_SOLO };

typedef struct job {
  size_t seq;      /* which file (index into paths) the slot holds */
  int state;       /* J_SOLO: the writer prepares it itself (named twice) */
  int rc;          /* of the check or the preparation */
  ps_error err;
  ps_prep prep;
  seg *seg;        /* where its paragraphs went (bulk) */
  size_t bytes;    /* memory held while waiting to be written */
  int applied;     /* written ahead by a flush: rc, err and res are final */
  ps_add_result res;
} job;

struct ix_bulk {
  pthread_mutex_t mu;
  pthread_cond_t cv;  /* any change */
  ps_index *ix;
  const ps_ingest_opts *opts;
  char *const *paths;
  size_t n;
  int temps;          /* bulk load: documents go to segments */
  /* groups: group g is files [gstart[g], gstart[g + 1]) */
  size_t *gstart, n_groups;
  job **ring;         /* file i in ring[i % flight] while in flight */
  size_t flight;
  /* under the lock */
  size_t next_group;  /* the next group a thread takes */
  size_t checked;     /* files checked so far (the writer) */
  size_t next;        /* the file the writer writes next */
  size_t buffered, buffer_max; /* bytes of prepared files not written yet */
  size_t buffered_peak;       /* profile */
  int stop;
  unsigned long *seq; /* numbers temporary databases */
  seg *segs;          /* all, to free them at the end */
  /* writer's */
  seg *cur;           /* the segment of the paragraphs written last, not recorded */
  seg *solo;          /* the writer's own segment (files it prepares) */
  char dir[PATH_MAX + 8];
  size_t max_paras, max_bytes;
  uint64_t *seen;     /* hashes of the files checked (paths named twice) */
  size_t cap_seen;
  double add_s[WORKERS], commit_s[WORKERS]; /* profile (PS_BULK_PROFILE) */
  double wait_s[WORKERS], end_s[WORKERS], t0;
  size_t n_segs;
};

/* ---- segments ---- */

/* A new segment, its database created (s->rc tells a failure). */
static seg *seg_new(ix_bulk *b) {
  seg *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  pthread_mutex_lock(&b->mu);
  snprintf(s->path, sizeof s->path, "%s/t%06lu", b->dir, ++*b->seq);
  s->next_all = b->segs;
  b->segs = s;
  b->n_segs++;
  pthread_mutex_unlock(&b->mu);
  s->rc = ps_xdb_open(s->path, PS_XDB_WRITE_CREATE, PS_XDB_NO_TERMLIST | PS_XDB_NO_SYNC, &s->db);
  if (s->rc) {
    ps_error_set(&s->err, s->rc, "%s: %s", s->path, ps_xdb_errmsg(s->db));
    ps_xdb_close(s->db);
    s->db = NULL;
  }
  return s;
}

static void seg_fail(seg *s, int rc, const char *what) {
  if (s->rc) return;
  s->rc = rc;
  ps_error_set(&s->err, rc, "temporary database %s: %s: %s", s->path, what, ps_xdb_errmsg(s->db));
}

static void seg_commit(seg *s, double *commit_s) {
  double t = now_s();
  int rc = s->rc ? PS_OK : ps_xdb_commit(s->db);
  if (rc) seg_fail(s, rc, "commit");
  s->batch_paras = s->batch_bytes = 0;
  if (commit_s) *commit_s += now_s() - t;
}

/* Adds doc (not taken over) as the segment's next document; commits after
 * a batch. */
static void seg_add(ix_bulk *b, seg *s, const ps_xdoc *doc, size_t terms, double *add_s,
                    double *commit_s) {
  if (s->rc) return;
  double t = now_s();
  unsigned id = 0;
  int rc = ps_xdb_add(s->db, doc, &id);
  if (rc) {
    seg_fail(s, rc, "adding a paragraph");
    return;
  }
  if (id != s->docs + 1) { /* a fresh database numbers 1, 2, ... */
    s->rc = ps_error_set(&s->err, PS_ERR_CORRUPT, "temporary database %s: paragraph %zu got "
                         "docid %u", s->path, s->docs + 1, id);
    return;
  }
  s->docs++;
  if (add_s) *add_s += now_s() - t;
  s->batch_paras++;
  s->batch_bytes += terms * BYTES_PER_TERM;
  if (s->batch_paras >= b->max_paras || (b->max_bytes && s->batch_bytes >= b->max_bytes))
    seg_commit(s, commit_s);
}

/* Commits and closes s (its thread's, or the writer's once taken). */
static void seg_close(ix_bulk *b, seg *s, double *commit_s) {
  if (s->db && s->batch_paras) seg_commit(s, commit_s);
  ps_xdb_close(s->db);
  s->db = NULL;
  pthread_mutex_lock(&b->mu);
  s->closed = 1;
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
}

/* Writer: the files of s are all written: wait until it is closed, check
 * it holds what was written, record it for the merge. */
static int seg_finish(ix_bulk *b, seg *s, ps_error *err) {
  if (!s) return PS_OK;
  pthread_mutex_lock(&b->mu);
  while (!s->closed) pthread_cond_wait(&b->cv, &b->mu);
  pthread_mutex_unlock(&b->mu);
  if (s->rc) return ps_error_set(err, s->rc, "%s", s->err.msg);
  if (s->applied != s->docs)
    return ps_error_set(err, PS_ERR_CORRUPT, "internal: temporary database %s holds %zu "
                        "paragraphs, %zu were written", s->path, s->docs, s->applied);
  return s->docs ? ix_temp_record(b->ix, s->path, err) : PS_OK;
}

int ix_bulk_add(ix_bulk *b, uint32_t docid, ps_xdoc *doc, size_t terms, ps_error *err) {
  if (!doc) { /* added by its group's thread */
    if (b->cur && b->cur->rc) return ps_error_set(err, b->cur->rc, "%s", b->cur->err.msg);
    if (!b->cur || b->cur->applied >= b->cur->docs)
      return ps_error_set(err, PS_ERR_CORRUPT, "internal: paragraph %u written but not in a "
                          "temporary database", (unsigned)docid);
    b->cur->applied++;
    return PS_OK;
  }
  if (!b->solo && !(b->solo = seg_new(b))) {
    ps_xdoc_free(doc);
    return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  }
  seg_add(b, b->solo, doc, terms, NULL, NULL);
  ps_xdoc_free(doc);
  if (b->solo->rc) return ps_error_set(err, b->solo->rc, "%s", b->solo->err.msg);
  b->solo->applied++;
  return PS_OK;
}

/* Writer: closes and records its own segment. */
static int solo_finish(ix_bulk *b, ps_error *err) {
  seg *s = b->solo;
  if (!s) return PS_OK;
  b->solo = NULL;
  seg_close(b, s, NULL);
  return seg_finish(b, s, err);
}

/* ---- the writer's side of a file ---- */

static job *job_at(ix_bulk *b, size_t seq) { return b->ring[seq % b->flight]; }

/* Releases what j holds once written (its outcome stays). */
static void job_release(ix_bulk *b, job *j) {
  ix_prep_free(&j->prep);
  pthread_mutex_lock(&b->mu);
  b->buffered -= j->bytes;
  j->bytes = 0;
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
}

/* Writes a file a thread prepared (j->state J_DONE): its segment becomes
 * the current one (the previous one is complete: recorded), then store
 * and registry.  Returns PS_OK or an error that loses the batch (j->rc
 * holds the file's own outcome). */
static int apply_job(ix_bulk *b, job *j, ps_error *err) {
  int rc = PS_OK, current = 1;
  memset(&j->res, 0, sizeof j->res);
  if (j->rc == PS_OK && j->seg && j->seg != b->cur) {
    rc = seg_finish(b, b->cur, err);
    b->cur = j->seg;
  }
  if (rc == PS_OK && j->rc == PS_OK) j->rc = ix_prep_current(b->ix, &j->prep, &current, &j->err);
  if (rc == PS_OK && j->rc == PS_OK && !current) {
    /* The registry moved since the check: cannot happen (paths named
     * twice are found at check time, and only this run writes), except
     * after an unexpected change of the registry under the run.  During a
     * bulk load its paragraphs could not be put in docid order. */
    if (b->temps) {
      j->rc = ps_error_set(&j->err, PS_ERR_CORRUPT, "internal: %s changed in the registry "
                           "during a bulk load", j->prep.path);
    } else { /* start it over on this thread */
      ps_error_clear(&j->err);
      j->rc = ps_index_add_file(b->ix, b->paths[j->seq], b->opts, &j->res, &j->err);
    }
  } else if (rc == PS_OK && j->rc == PS_OK) {
    j->rc = ix_prep_apply(b->ix, &j->prep, &j->res, &j->err);
  }
  j->applied = 1;
  job_release(b, j);
  return rc;
}

/* Writes a file named twice (the earlier time is written): checked, read
 * and built here, its documents in the writer's own segment. */
static int apply_solo(ix_bulk *b, job *j, ps_error *err) {
  int rc = b->temps ? seg_finish(b, b->cur, err) : PS_OK;
  b->cur = NULL;
  memset(&j->res, 0, sizeof j->res);
  ix_prep_free(&j->prep);
  if (rc == PS_OK) {
    ps_error_clear(&j->err);
    j->rc = ps_index_add_file(b->ix, b->paths[j->seq], b->opts, &j->res, &j->err);
    if (b->temps) rc = solo_finish(b, err);
  }
  j->applied = 1;
  return rc;
}

int ix_bulk_flush(ix_bulk *b, ps_error *err) {
  int rc = solo_finish(b, err);
  seg *s = b->cur;
  if (rc || !s) return rc;
  /* Cut the current segment: take it from its thread between two files,
   * close it, and write the files it already holds beyond the last one
   * written (their results go to the caller later). */
  int mine = 0;
  pthread_mutex_lock(&b->mu);
  while (s->busy) pthread_cond_wait(&b->cv, &b->mu);
  if (!s->taken) s->taken = mine = 1;
  size_t last = s->last_seq;
  pthread_mutex_unlock(&b->mu);
  if (mine) seg_close(b, s, NULL);
  for (size_t seq = b->next; seq <= last && rc == PS_OK; seq++) {
    job *j = job_at(b, seq);
    pthread_mutex_lock(&b->mu);
    int ready = j->seq == seq && j->state == J_DONE;
    pthread_mutex_unlock(&b->mu);
    if (!ready) /* its thread does the files of a group in order */
      return ps_error_set(err, PS_ERR_CORRUPT, "internal: file %zu not prepared at a cut", seq);
    if (!j->applied) rc = apply_job(b, j, err);
  }
  if (rc == PS_OK) rc = seg_finish(b, s, err);
  b->cur = NULL;
  return rc;
}

/* ---- the threads ---- */

/* Thread: adds the documents of j (prepared) to *sp (a new segment when
 * none, or when the writer took it), frees them and the file's bytes. */
static void add_docs(ix_bulk *b, seg **sp, job *j, size_t w) {
  ps_prep *p = &j->prep;
  pthread_mutex_lock(&b->mu);
  if (*sp && (*sp)->taken) *sp = NULL;
  if (*sp) (*sp)->busy = 1;
  pthread_mutex_unlock(&b->mu);
  if (!*sp) {
    if (!(*sp = seg_new(b))) {
      j->rc = ps_error_set(&j->err, PS_ERR_NOMEM, "out of memory");
      return;
    }
    pthread_mutex_lock(&b->mu);
    (*sp)->busy = 1;
    pthread_mutex_unlock(&b->mu);
  }
  seg *s = *sp;
  for (size_t i = 0; i < p->doc->n_paras; i++) {
    seg_add(b, s, p->docs[i], p->terms[i], &b->add_s[w], &b->commit_s[w]);
    ps_xdoc_free(p->docs[i]);
    p->docs[i] = NULL;
  }
  j->seg = s;
  /* What waits for the writer: the normalised text and the store's
   * encoding of the text (ps_store_append would make the same). */
  int rc = ix_prep_compact(p, &j->err);
  if (rc) j->rc = rc;
  /* busy is cleared, and last_seq set, with the job marked done */
}

/* Bytes j holds while it waits to be written. */
static size_t job_bytes(const job *j) {
  const ps_prep *p = &j->prep;
  size_t n = sizeof *j + p->len;
  if (!p->doc) return n;
  for (size_t i = 0; i < p->doc->n_paras; i++) {
    const ps_para *pa = &p->doc->paras[i];
    n += 64 + (pa->text ? pa->len : 0) + (pa->section ? strlen(pa->section) : 0);
    if (p->norms && i < p->n_built)
      n += p->norms[i].len * (1 + (p->norms[i].map ? sizeof(uint32_t) : 0));
    if (p->patches) n += p->patch_lens[i];
  }
  return n;
}

typedef struct worker_arg {
  ix_bulk *b;
  size_t w;
} worker_arg;

static void *worker(void *arg) {
  ix_bulk *b = ((worker_arg *)arg)->b;
  size_t w = ((worker_arg *)arg)->w;
  pthread_setname_np(pthread_self(), "ps-prep"); /* for profiles */
  pthread_mutex_lock(&b->mu);
  while (!b->stop && b->next_group < b->n_groups) {
    size_t g = b->next_group++;
    seg *s = NULL;
    for (size_t i = b->gstart[g]; i < b->gstart[g + 1]; i++) {
      while (!b->stop && b->checked <= i) pthread_cond_wait(&b->cv, &b->mu);
      if (b->stop) break;
      job *j = job_at(b, i);
      if (j->seq != i || j->state == J_DONE) continue; /* nothing to prepare */
      if (j->state == J_SOLO) {
        /* The writer builds it between this group's segments. */
        if (s && !s->taken) {
          s->taken = 1; /* closing it: the writer waits */
          pthread_mutex_unlock(&b->mu);
          seg_close(b, s, &b->commit_s[w]);
          pthread_mutex_lock(&b->mu);
        }
        s = NULL;
        continue;
      }
      /* Text waits for the writer while it writes earlier groups: bounded
       * (the writer's own group never waits). */
      double tw = now_s();
      while (!b->stop && b->temps && b->buffered > b->buffer_max && b->next < b->gstart[g])
        pthread_cond_wait(&b->cv, &b->mu);
      b->wait_s[w] += now_s() - tw;
      if (b->stop) break;
      j->state = J_RUNNING;
      pthread_mutex_unlock(&b->mu);
      ps_error_clear(&j->err);
      int rc = ix_prep_run(&j->prep, b->opts, &j->err);
      j->rc = rc;
      int built = rc == PS_OK && b->temps && !j->prep.touched && j->prep.doc &&
                  j->prep.doc->n_paras > 0;
      if (built) add_docs(b, &s, j, w);
      size_t bytes = b->temps ? job_bytes(j) : 0;
      pthread_mutex_lock(&b->mu);
      if (built && j->seg) {
        j->seg->busy = 0;
        j->seg->last_seq = i;
      }
      j->bytes = bytes;
      b->buffered += bytes;
      if (b->buffered > b->buffered_peak) b->buffered_peak = b->buffered;
      j->state = J_DONE;
      pthread_cond_broadcast(&b->cv);
    }
    if (s && !s->taken) {
      s->taken = 1;
      pthread_mutex_unlock(&b->mu);
      seg_close(b, s, &b->commit_s[w]);
      pthread_mutex_lock(&b->mu);
    }
  }
  b->end_s[w] = now_s() - b->t0;
  pthread_mutex_unlock(&b->mu);
  return NULL;
}

/* ---- the run ---- */

/* Writer: whether path's file (abs) was checked before in this run; adds
 * it.  A collision of hashes only makes a file take the slower way. */
static int seen_before(ix_bulk *b, const char *abs) {
  uint64_t h = ps_hash64(abs, strlen(abs)) | 1; /* 0: empty slot */
  size_t mask = b->cap_seen - 1, i = h & mask;
  for (; b->seen[i]; i = (i + 1) & mask)
    if (b->seen[i] == h) return 1;
  b->seen[i] = h;
  return 0;
}

/* Writer: checks files ahead of the one written next (the registry is
 * read on this thread only). */
static void check_ahead(ix_bulk *b, size_t next) {
  while (b->checked < b->n && b->checked - next < b->flight) {
    size_t seq = b->checked;
    job *j = job_at(b, seq);
    pthread_mutex_lock(&b->mu); /* threads read seq and state under the lock */
    j->seq = (size_t)-1;
    j->state = J_FREE;
    pthread_mutex_unlock(&b->mu);
    ps_error_clear(&j->err);
    memset(&j->res, 0, sizeof j->res);
    j->seg = NULL;
    j->bytes = 0;
    j->applied = 0;
    int rc = ix_prep_check(b->ix, b->paths[seq], &j->prep, &j->err);
    int twice = rc == PS_OK && !j->prep.unchanged && seen_before(b, j->prep.abs);
    if (rc == PS_OK && j->prep.unchanged && !j->prep.elsewhere) seen_before(b, j->prep.abs);
    pthread_mutex_lock(&b->mu);
    j->seq = seq;
    j->rc = rc;
    j->state = rc != PS_OK || j->prep.unchanged ? J_DONE : twice ? J_SOLO : J_QUEUED;
    b->checked++;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
  }
}

/* Cuts paths into groups: by input size for a bulk load, else one file
 * each. */
static int make_groups(ix_bulk *b, const uint64_t *sizes, uint64_t input, ps_error *err) {
  size_t n = b->n;
  if (!(b->gstart = malloc((n + 1) * sizeof *b->gstart)))
    return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  uint64_t target = input / (WORKERS * GROUPS_PER_THREAD);
  if (target > GROUP_MAX) target = GROUP_MAX;
  if (target < GROUP_MIN) target = GROUP_MIN;
  if (b->buffer_max && target > b->buffer_max / TEXT_FACTOR) target = b->buffer_max / TEXT_FACTOR;
  size_t g = 0, files = 0;
  uint64_t bytes = 0, left = input, cut = target;
  for (size_t i = 0; i < n; i++) {
    if (i == 0 || !b->temps || files == GROUP_FILES || bytes >= cut) {
      b->gstart[g++] = i;
      files = 0;
      bytes = 0;
      /* Towards the end, smaller groups: the last ones end together
       * instead of one thread finishing a whole group alone. */
      cut = left / WORKERS < target ? left / WORKERS : target;
      if (cut < GROUP_MIN && target >= GROUP_MIN) cut = GROUP_MIN;
    }
    files++;
    bytes += sizes[i];
    left -= sizes[i];
  }
  b->gstart[g] = n;
  b->n_groups = g;
  return PS_OK;
}

/* The end of a run: writes what a cut left (ok) and reports it, stops the
 * threads, ends the bulk load.  Returns an error that lost the batch. */
static int run_end(ix_bulk *b, size_t next, int ok, int rc, ps_index_file_fn fn, void *ctx,
                   pthread_t *th, size_t started, ps_error *err) {
  pthread_mutex_lock(&b->mu);
  b->stop = 1; /* stopped early: no more files prepared */
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
  if (b->temps && ok && rc == PS_OK) {
    /* Stopped early: the current segment may hold files beyond the last
     * one reported; they are written by the flush and reported now. */
    rc = ix_bulk_flush(b, err);
    for (size_t i = next; rc == PS_OK && i < b->checked; i++) {
      job *j = job_at(b, i);
      if (j->seq != i || !j->applied) break;
      fn(ctx, i, j->rc, &j->res, &j->err); /* the run stops anyway */
    }
  }
  for (size_t i = 0; i < started; i++) pthread_join(th[i], NULL);
  if (b->temps) ix_bulk_end(b->ix, ok && rc == PS_OK);
  if (getenv("PS_BULK_PROFILE") && b->temps)
    for (size_t w = 0; w < WORKERS; w++)
      fprintf(stderr, "ps bulk: thread %zu: %.2f s adding, %.2f s committing, %.2f s waiting "
              "for memory, done at %.2f s (%zu groups, %zu temporary databases in all, "
              "prepared text waiting at most %.1f MiB)\n", w, b->add_s[w], b->commit_s[w],
              b->wait_s[w], b->end_s[w], b->n_groups, b->n_segs, b->buffered_peak / 1048576.0);
  return rc;
}

static void bulk_free(ix_bulk *b) {
  for (seg *s = b->segs, *nx; s; s = nx) {
    nx = s->next_all;
    ps_xdb_close(s->db); /* left open by a failure: discarded with DIR.bulk */
    free(s);
  }
  for (size_t i = 0; b->ring && i < b->flight; i++) {
    if (b->ring[i]) ix_prep_free(&b->ring[i]->prep);
    free(b->ring[i]);
  }
  free(b->ring);
  free(b->gstart);
  free(b->seen);
  pthread_mutex_destroy(&b->mu);
  pthread_cond_destroy(&b->cv);
  free(b);
}

int ps_index_add_files(ps_index *ix, char *const *paths, size_t n,
                       const ps_ingest_opts *opts, ps_index_file_fn fn, void *ctx,
                       ps_error *err) {
  ps_shards *sh = ps_index__shards(ix);
  if (sh) return ps_shards_add_files(sh, paths, n, opts, fn, ctx, err);
  ix_bulk *b = calloc(1, sizeof *b);
  uint64_t *sizes = calloc(n + 1, sizeof *sizes);
  if (!b || !sizes) {
    free(b);
    free(sizes);
    return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  }
  pthread_mutex_init(&b->mu, NULL);
  pthread_cond_init(&b->cv, NULL);
  b->ix = ix;
  b->opts = opts;
  b->paths = paths;
  b->n = n;
  /* Big enough for the bulk path?  (Else straight into the database.) */
  uint64_t input = 0;
  for (size_t i = 0; i < n; i++) {
    struct stat sb;
    if (stat(paths[i], &sb) == 0 && S_ISREG(sb.st_mode)) input += sizes[i] = (uint64_t)sb.st_size;
  }
  b->temps = ix_bulk_wanted(ix, input);
  size_t paras, memory;
  ix_bulk_params(ix, &paras, &memory);
  b->max_paras = paras ? paras : DEFAULT_BATCH;
  /* --max-memory: a quarter for each thread's uncommitted postings, a
   * quarter for the prepared text waiting to be written. */
  b->max_bytes = memory / (2 * WORKERS);
  b->buffer_max = memory ? memory / 4 : (size_t)GROUP_MAX * TEXT_FACTOR * WORKERS;
  b->flight = b->temps ? FLIGHT : WINDOW;
  b->cap_seen = 64;
  while (b->cap_seen < 2 * n) b->cap_seen *= 2;
  int rc0 = PS_OK;
  if (!(b->ring = calloc(b->flight, sizeof *b->ring)) ||
      !(b->seen = calloc(b->cap_seen, sizeof *b->seen)))
    rc0 = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  for (size_t i = 0; rc0 == PS_OK && i < b->flight; i++)
    if (!(b->ring[i] = calloc(1, sizeof *b->ring[i])))
      rc0 = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  if (rc0 == PS_OK) rc0 = make_groups(b, sizes, input, err);
  free(sizes);
  if (rc0 == PS_OK && b->temps) rc0 = ix_temp_dir(ix, b->dir, sizeof b->dir, &b->seq, err);
  if (rc0 == PS_OK && b->temps) rc0 = ix_bulk_begin(ix, b, err);
  if (rc0 != PS_OK) b->temps = 0; /* not begun */
  pthread_t th[WORKERS];
  worker_arg wa[WORKERS];
  b->t0 = now_s();
  size_t started = 0;
  while (rc0 == PS_OK && started < WORKERS) {
    wa[started].b = b;
    wa[started].w = started;
    if (pthread_create(&th[started], NULL, worker, &wa[started]) != 0) {
      rc0 = ps_error_set(err, PS_ERR_NOMEM, "cannot start an indexing thread");
      break;
    }
    started++;
  }
  int stopped = rc0 != PS_OK, failed = 0, rc1 = PS_OK;
  size_t next = 0;
  for (; next < n && !stopped; next++) {
    check_ahead(b, next);
    job *j = job_at(b, next);
    pthread_mutex_lock(&b->mu);
    while (j->state != J_DONE && j->state != J_SOLO) pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
    if (!j->applied)
      rc1 = j->state == J_SOLO ? apply_solo(b, j, err) : apply_job(b, j, err);
    pthread_mutex_lock(&b->mu);
    b->next = next + 1;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    if (rc1) { /* a temporary database failed: the batch is lost */
      failed = stopped = 1;
      break;
    }
    if (j->rc != PS_OK && j->rc != PS_ERR_IO && j->rc != PS_ERR_FORMAT) failed = 1;
    if (fn(ctx, next, j->rc, &j->res, &j->err)) stopped = 1;
  }
  /* A failure loses the uncommitted changes: the caller is told to stop,
   * and commits nothing. */
  int rc2 = run_end(b, next, rc0 == PS_OK && !failed, rc1, fn, ctx, th, started, err);
  bulk_free(b);
  return rc0 ? rc0 : rc1 ? rc1 : rc2;
}
