/* index_bulk.c: ps_index_add_files, adding many files on several threads.
 *
 * The writer (the calling thread) does everything that touches the
 * database's registry and store: it checks each file against the registry
 * a few files ahead of the one it writes, and applies the prepared files in
 * order (ix_prep_apply: docids, store records, registry).  Two worker
 * threads prepare them (reading, parsing, normalising, building Xapian
 * documents: ix_prep_run, which touches no database), each taking the next
 * file not taken yet.  The window of files in flight and the builders'
 * queues are small and fixed, which bounds the memory the prepared files
 * take (measured in bench/RESULTS.md against --max-memory).
 *
 * On a single database, for a load big enough to be worth the merge at its
 * commit, the Xapian documents do not go into the database itself (see
 * index_internal.h, "bulk loads"): the writer hands them to two
 * builder threads, each of which adds a batch at a time to its own fresh
 * temporary database (no existing postings to rewrite at its commit, and
 * an inverter that stays small), batches going to the builder with less
 * work queued.  Xapian objects are per thread: a document built on the
 * worker is used by the writer and then by a builder, one after the other,
 * handed over under a mutex; each temporary database is only ever touched
 * by its builder. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "index_internal.h"

#define WINDOW 4 /* files checked or prepared ahead of the one being written */
#define WORKERS 2 /* threads preparing files */
#define BUILDERS 2
#define QUEUE 64 /* documents waiting for one builder */
/* Paragraphs per temporary database: smaller batches keep the inverter's
 * maps in cache (less CPU), but every temporary database adds a postlist
 * chunk per term it holds to the merged one (bigger tables); see
 * bench/RESULTS.md, "Indexing speed". */
#define DEFAULT_BATCH 2000
/* Bytes a builder holds per uncommitted term occurrence of its batch
 * (Xapian's inverter; as BYTES_PER_TERM in index.c). */
#define BYTES_PER_TERM 48

/* ---- builders ---- */

typedef struct item {
  uint32_t docid;
  ps_xdoc *doc;   /* owned; NULL for the end of a batch */
  char *path;     /* on the first document of a batch: its database (owned) */
} item;

typedef struct builder {
  struct ix_bulk *b;
  pthread_t th;
  int started;
  /* under b->mu */
  item q[QUEUE];
  size_t head, len;
  int busy;          /* an item taken from the queue is being worked on */
  size_t batches;    /* batches queued or being built */
  int rc;            /* first failure; later items are dropped */
  ps_error err;
  /* the thread's own */
  ps_xdb *db;        /* the batch's temporary database */
  double add_s, commit_s; /* time in Xapian: the profile (PS_BULK_PROFILE) */
} builder;

struct ix_bulk {
  pthread_mutex_t mu;
  pthread_cond_t cv;  /* any change: work queued, taken, done */
  int stop;
  ps_index *ix;
  builder bld[BUILDERS];
  builder *cur;       /* writer: the builder of the batch being filled */
  size_t cur_paras, cur_bytes;
  size_t max_paras, max_bytes;
};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Adds one item to the builder's database (the thread's own work). */
static int build_item(builder *w, item *it) {
  int rc = PS_OK;
  if (it->path) {
    rc = ps_xdb_open(it->path, PS_XDB_WRITE_CREATE, PS_XDB_NO_TERMLIST | PS_XDB_NO_SYNC, &w->db);
    if (rc) {
      ps_error_set(&w->err, rc, "%s: %s", it->path, ps_xdb_errmsg(w->db));
      ps_xdb_close(w->db);
      w->db = NULL;
      return rc;
    }
  }
  if (it->doc) {
    double t = now_s();
    if ((rc = ps_xdb_replace(w->db, it->docid, it->doc)))
      return ps_error_set(&w->err, rc, "temporary database: adding paragraph %u: %s",
                          (unsigned)it->docid, ps_xdb_errmsg(w->db));
    w->add_s += now_s() - t;
  } else {
    double t = now_s();
    if ((rc = ps_xdb_commit(w->db)))
      return ps_error_set(&w->err, rc, "temporary database: commit: %s", ps_xdb_errmsg(w->db));
    ps_xdb_close(w->db);
    w->db = NULL;
    w->commit_s += now_s() - t;
  }
  return PS_OK;
}

static void *builder_main(void *arg) {
  builder *w = arg;
  ix_bulk *b = w->b;
  pthread_setname_np(pthread_self(), "ps-build"); /* for profiles */
  pthread_mutex_lock(&b->mu);
  for (;;) {
    while (!w->len && !b->stop) pthread_cond_wait(&b->cv, &b->mu);
    if (!w->len) break;
    item it = w->q[w->head];
    w->head = (w->head + 1) % QUEUE;
    w->len--;
    w->busy = 1;
    int failed = w->rc;
    pthread_mutex_unlock(&b->mu);
    int rc = failed ? failed : build_item(w, &it);
    ps_xdoc_free(it.doc);
    free(it.path);
    pthread_mutex_lock(&b->mu);
    if (rc && !w->rc) w->rc = rc;
    if (!it.doc) w->batches--;
    w->busy = 0;
    pthread_cond_broadcast(&b->cv);
  }
  pthread_mutex_unlock(&b->mu);
  ps_xdb_close(w->db); /* a batch left open by a failure: discarded */
  w->db = NULL;
  return NULL;
}

/* Queues an item for w, waiting for room; fails with w's error. */
static int push(ix_bulk *b, builder *w, item it, ps_error *err) {
  pthread_mutex_lock(&b->mu);
  while (w->len == QUEUE && !w->rc) pthread_cond_wait(&b->cv, &b->mu);
  int rc = w->rc;
  if (rc) {
    ps_error_set(err, rc, "%s", w->err.msg);
  } else {
    w->q[(w->head + w->len) % QUEUE] = it;
    w->len++;
    if (!it.doc) w->batches++;
    pthread_cond_broadcast(&b->cv);
  }
  pthread_mutex_unlock(&b->mu);
  if (rc) {
    ps_xdoc_free(it.doc);
    free(it.path);
  }
  return rc;
}

/* Ends the batch being filled (its builder commits and closes it). */
static int end_batch(ix_bulk *b, ps_error *err) {
  if (!b->cur) return PS_OK;
  builder *w = b->cur;
  b->cur = NULL;
  b->cur_paras = b->cur_bytes = 0;
  item it = {0, NULL, NULL};
  return push(b, w, it, err);
}

int ix_bulk_add(ix_bulk *b, uint32_t docid, ps_xdoc *doc, size_t terms, ps_error *err) {
  item it = {docid, doc, NULL};
  if (!b->cur) { /* a new batch, to the builder with less to do */
    char path[PATH_MAX + 32];
    int rc = ix_temp_new(b->ix, path, sizeof path, err);
    if (rc == PS_OK && !(it.path = strdup(path)))
      rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
    if (rc) {
      ps_xdoc_free(doc);
      return rc;
    }
    pthread_mutex_lock(&b->mu);
    builder *best = &b->bld[0];
    for (size_t i = 1; i < BUILDERS; i++)
      if (b->bld[i].batches < best->batches ||
          (b->bld[i].batches == best->batches && b->bld[i].len < best->len))
        best = &b->bld[i];
    pthread_mutex_unlock(&b->mu);
    b->cur = best;
  }
  int rc = push(b, b->cur, it, err);
  if (rc) return rc;
  b->cur_paras++;
  b->cur_bytes += terms * BYTES_PER_TERM;
  if (b->cur_paras >= b->max_paras || (b->max_bytes && b->cur_bytes >= b->max_bytes))
    rc = end_batch(b, err);
  return rc;
}

int ix_bulk_flush(ix_bulk *b, ps_error *err) {
  int rc = end_batch(b, err);
  pthread_mutex_lock(&b->mu);
  for (size_t i = 0; i < BUILDERS; i++) {
    builder *w = &b->bld[i];
    while ((w->len || w->busy) && !w->rc) pthread_cond_wait(&b->cv, &b->mu);
    if (w->rc && rc == PS_OK) rc = ps_error_set(err, w->rc, "%s", w->err.msg);
  }
  pthread_mutex_unlock(&b->mu);
  return rc;
}

/* Starts the builders and makes ix hand its paragraphs to them. */
static int bulk_start(ix_bulk *b, ps_index *ix, ps_error *err) {
  size_t paras, memory;
  memset(b, 0, sizeof *b);
  pthread_mutex_init(&b->mu, NULL);
  pthread_cond_init(&b->cv, NULL);
  b->ix = ix;
  ix_bulk_params(ix, &paras, &memory);
  b->max_paras = paras ? paras : DEFAULT_BATCH;
  b->max_bytes = memory / BUILDERS;
  for (size_t i = 0; i < BUILDERS; i++) {
    b->bld[i].b = b;
    if (pthread_create(&b->bld[i].th, NULL, builder_main, &b->bld[i]) != 0)
      return ps_error_set(err, PS_ERR_NOMEM, "cannot start an indexing thread");
    b->bld[i].started = 1;
  }
  return ix_bulk_begin(ix, b, err);
}

/* Finishes the batches (ok: when the run went well; else they are dropped
 * with the uncommitted changes), stops the builders. */
static int bulk_stop(ix_bulk *b, int ok, ps_error *err) {
  int rc = ok ? ix_bulk_flush(b, err) : PS_OK;
  ix_bulk_end(b->ix, ok && rc == PS_OK);
  pthread_mutex_lock(&b->mu);
  b->stop = 1;
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
  for (size_t i = 0; i < BUILDERS; i++)
    if (b->bld[i].started) pthread_join(b->bld[i].th, NULL);
  if (getenv("PS_BULK_PROFILE"))
    for (size_t i = 0; i < BUILDERS; i++)
      fprintf(stderr, "ps bulk: builder %zu: %.2f s adding, %.2f s committing\n", i,
              b->bld[i].add_s, b->bld[i].commit_s);
  for (size_t i = 0; i < BUILDERS; i++)
    for (; b->bld[i].len; b->bld[i].len--) { /* dropped after a failure */
      item *it = &b->bld[i].q[b->bld[i].head];
      ps_xdoc_free(it->doc);
      free(it->path);
      b->bld[i].head = (b->bld[i].head + 1) % QUEUE;
    }
  pthread_mutex_destroy(&b->mu);
  pthread_cond_destroy(&b->cv);
  return rc;
}

/* ---- preparing files ---- */

enum { J_EMPTY = 0, J_QUEUED, J_RUNNING, J_DONE };

typedef struct job {
  size_t seq;      /* which file (index into paths) the slot holds */
  int state;
  int rc;          /* of the check or the preparation */
  ps_error err;
  ps_prep prep;
} job;

typedef struct bulk {
  ix_bulk builders;  /* single databases: where the documents go */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  job ring[WINDOW];
  size_t next_run;   /* worker: the next job to prepare */
  size_t queued;     /* writer: jobs handed out so far (checked) */
  int stop;
  const ps_ingest_opts *opts;
} bulk;

static void *worker(void *arg) {
  bulk *b = arg;
  pthread_setname_np(pthread_self(), "ps-prep"); /* for profiles */
  pthread_mutex_lock(&b->mu);
  for (;;) {
    while (!b->stop && b->next_run >= b->queued) pthread_cond_wait(&b->cv, &b->mu);
    if (b->stop) break;
    job *j = &b->ring[b->next_run % WINDOW];
    /* Not ours when decided at check time (nothing to prepare), maybe
     * already written and the slot reused for a later file. */
    int mine = j->seq == b->next_run && j->state == J_QUEUED;
    b->next_run++; /* claimed: the other worker takes the next one */
    if (!mine) continue;
    j->state = J_RUNNING;
    pthread_mutex_unlock(&b->mu);
    ps_error_clear(&j->err);
    int rc = ix_prep_run(&j->prep, b->opts, &j->err);
    pthread_mutex_lock(&b->mu);
    j->rc = rc;
    j->state = J_DONE;
    pthread_cond_broadcast(&b->cv);
  }
  pthread_mutex_unlock(&b->mu);
  return NULL;
}

int ps_index_add_files(ps_index *ix, char *const *paths, size_t n,
                       const ps_ingest_opts *opts, ps_index_file_fn fn, void *ctx,
                       ps_error *err) {
  if (ps_index__sharded(ix)) { /* file by file, each to its shard */
    for (size_t i = 0; i < n; i++) {
      ps_add_result res;
      ps_error e;
      ps_error_clear(&e);
      int rc = ps_index_add_file(ix, paths[i], opts, &res, &e);
      if (fn(ctx, i, rc, &res, &e)) break;
    }
    return PS_OK;
  }
  bulk *b = calloc(1, sizeof *b);
  if (!b) return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  pthread_t th[WORKERS];
  size_t started = 0;
  pthread_mutex_init(&b->mu, NULL);
  pthread_cond_init(&b->cv, NULL);
  b->opts = opts;
  while (started < WORKERS && pthread_create(&th[started], NULL, worker, b) == 0) started++;
  /* Big enough for the bulk path?  (Else straight into the database.) */
  uint64_t input = 0;
  for (size_t i = 0; i < n; i++) {
    struct stat sb;
    if (stat(paths[i], &sb) == 0 && S_ISREG(sb.st_mode)) input += (uint64_t)sb.st_size;
  }
  int use_bulk = ix_bulk_wanted(ix, input);
  int rc0 = started < WORKERS ? ps_error_set(err, PS_ERR_NOMEM, "cannot start an indexing thread")
            : use_bulk        ? bulk_start(&b->builders, ix, err)
                              : PS_OK;
  int stopped = rc0 != PS_OK, failed = 0;
  for (size_t next = 0; next < n && !stopped; next++) {
    /* Check the files ahead (the registry is read on this thread only). */
    while (b->queued < n && b->queued - next < WINDOW) {
      job *j = &b->ring[b->queued % WINDOW];
      ps_error_clear(&j->err);
      int rc = ix_prep_check(ix, paths[b->queued], &j->prep, &j->err);
      pthread_mutex_lock(&b->mu);
      j->seq = b->queued;
      j->rc = rc;
      j->state = (rc == PS_OK && !j->prep.unchanged) ? J_QUEUED : J_DONE;
      b->queued++;
      pthread_cond_broadcast(&b->cv);
      pthread_mutex_unlock(&b->mu);
    }
    job *j = &b->ring[next % WINDOW];
    pthread_mutex_lock(&b->mu);
    while (j->state != J_DONE) pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
    ps_add_result res;
    memset(&res, 0, sizeof res);
    int rc = j->rc, current = 1;
    if (rc == PS_OK) rc = ix_prep_current(ix, &j->prep, &current, &j->err);
    if (rc == PS_OK && !current) {
      /* The registry moved since the check (the same file named twice):
       * start this file over, on this thread. */
      ps_error_clear(&j->err);
      rc = ps_index_add_file(ix, paths[next], opts, &res, &j->err);
    } else if (rc == PS_OK) {
      rc = ix_prep_apply(ix, &j->prep, &res, &j->err);
    }
    ix_prep_free(&j->prep);
    pthread_mutex_lock(&b->mu);
    j->state = J_EMPTY;
    pthread_mutex_unlock(&b->mu);
    if (rc != PS_OK && rc != PS_ERR_IO && rc != PS_ERR_FORMAT) failed = 1;
    if (fn(ctx, next, rc, &res, &j->err)) stopped = 1;
  }
  /* Builders: finish the last batch (a failure loses the uncommitted
   * changes: the caller is told to stop, and commits nothing). */
  int rc1 = started == WORKERS && use_bulk
                ? bulk_stop(&b->builders, rc0 == PS_OK && !failed, err) : PS_OK;
  pthread_mutex_lock(&b->mu);
  b->stop = 1;
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
  for (size_t i = 0; i < started; i++) pthread_join(th[i], NULL);
  for (size_t i = 0; i < WINDOW; i++) ix_prep_free(&b->ring[i].prep);
  pthread_mutex_destroy(&b->mu);
  pthread_cond_destroy(&b->cv);
  free(b);
  return rc0 ? rc0 : rc1;
}
