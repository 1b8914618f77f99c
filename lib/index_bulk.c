/* index_bulk.c: ps_index_add_files, adding many files with two threads.
 *
 * The writer (the calling thread) does everything that touches the
 * database: it checks each file against the registry a few files ahead of
 * the one it writes, and applies the prepared files in order.  One worker
 * thread prepares them (reading, parsing, normalising, building Xapian
 * documents: ix_prep_run, which touches no database), so that parsing the
 * next file overlaps Xapian's work (and the commits' syncs) on this one.
 * The window of files in flight is small and fixed, which bounds the
 * memory the prepared files take.  Every job moves between the threads
 * under one mutex; Xapian documents built on the worker are used by the
 * writer only after that hand-over. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "index_internal.h"

#define WINDOW 4 /* files checked or prepared ahead of the one being written */

enum { J_EMPTY = 0, J_QUEUED, J_DONE };

typedef struct job {
  size_t seq;      /* which file (index into paths) the slot holds */
  int state;
  int rc;          /* of the check or the preparation */
  ps_error err;
  ps_prep prep;
} job;

typedef struct bulk {
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
  pthread_mutex_lock(&b->mu);
  for (;;) {
    while (!b->stop && b->next_run >= b->queued) pthread_cond_wait(&b->cv, &b->mu);
    if (b->stop) break;
    job *j = &b->ring[b->next_run % WINDOW];
    if (j->seq != b->next_run || j->state != J_QUEUED) {
      /* decided at check time (nothing to prepare), maybe already written
       * and the slot reused for a later file */
      b->next_run++;
      continue;
    }
    pthread_mutex_unlock(&b->mu);
    ps_error_clear(&j->err);
    int rc = ix_prep_run(&j->prep, b->opts, &j->err);
    pthread_mutex_lock(&b->mu);
    j->rc = rc;
    j->state = J_DONE;
    b->next_run++;
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
  pthread_t th;
  pthread_mutex_init(&b->mu, NULL);
  pthread_cond_init(&b->cv, NULL);
  b->opts = opts;
  if (pthread_create(&th, NULL, worker, b) != 0) {
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    free(b);
    return ps_error_set(err, PS_ERR_NOMEM, "cannot start the indexing thread");
  }
  int stopped = 0;
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
    if (fn(ctx, next, rc, &res, &j->err)) stopped = 1;
  }
  pthread_mutex_lock(&b->mu);
  b->stop = 1;
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
  pthread_join(th, NULL);
  for (size_t i = 0; i < WINDOW; i++) ix_prep_free(&b->ring[i].prep);
  pthread_mutex_destroy(&b->mu);
  pthread_cond_destroy(&b->cv);
  free(b);
  return PS_OK;
}
