/* pool.c: read handles shared by threads (see ps_pool.h). */
#include "ps_pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct slot {
  ps_index *ix;    /* NULL after a failed refresh: opened again on next use */
  int busy;
  dev_t dev;       /* identity of the directory the handle was opened on */
  ino_t ino;
} slot;

struct ps_pool {
  char *dir;
  pthread_mutex_t lock;
  pthread_cond_t freed;
  slot *slots;
  size_t n;
};

/* (Re)opens the handle of s when it has none or the directory was
 * replaced, else moves it to the latest commit. */
static int refresh(ps_pool *p, slot *s, ps_error *err) {
  struct stat sb;
  if (stat(p->dir, &sb) != 0)
    return ps_error_set(err, PS_ERR_NOTFOUND, "%s: the database directory is gone", p->dir);
  if (s->ix && (sb.st_dev != s->dev || sb.st_ino != s->ino)) {
    ps_index_close(s->ix);
    s->ix = NULL;
  }
  if (s->ix) {
    int rc = ps_index_reopen(s->ix, NULL, err);
    if (rc == PS_OK) return PS_OK;
    ps_index_close(s->ix); /* try once from scratch below */
    s->ix = NULL;
    ps_error_clear(err);
  }
  s->dev = sb.st_dev;
  s->ino = sb.st_ino;
  /* A writer committing meanwhile can overwrite what an opening reads
   * (PS_ERR_RETRY): a few more tries, as a search gets */
  int rc = PS_ERR_RETRY;
  for (int attempt = 0; rc == PS_ERR_RETRY && attempt < 4; attempt++) {
    if (attempt) ps_error_clear(err);
    rc = ps_index_open(p->dir, PS_INDEX_READ, &s->ix, err);
  }
  return rc;
}

int ps_pool_open(const char *dir, size_t n, ps_pool **out, ps_error *err) {
  int rc = PS_OK;
  *out = NULL;
  if (n == 0) return ps_error_set(err, PS_ERR_USAGE, "a pool needs at least one handle");
  ps_pool *p = calloc(1, sizeof *p);
  if (!p) return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  pthread_mutex_init(&p->lock, NULL);
  pthread_cond_init(&p->freed, NULL);
  p->dir = strdup(dir);
  p->slots = calloc(n, sizeof *p->slots);
  if (!p->dir || !p->slots) {
    ps_pool_close(p);
    return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  }
  p->n = n;
  for (size_t i = 0; rc == PS_OK && i < n; i++) rc = refresh(p, &p->slots[i], err);
  if (rc) {
    ps_pool_close(p);
    return rc;
  }
  *out = p;
  return PS_OK;
}

void ps_pool_close(ps_pool *p) {
  if (!p) return;
  for (size_t i = 0; p->slots && i < p->n; i++) ps_index_close(p->slots[i].ix);
  free(p->slots);
  free(p->dir);
  pthread_cond_destroy(&p->freed);
  pthread_mutex_destroy(&p->lock);
  free(p);
}

int ps_pool_get(ps_pool *p, ps_index **ix, ps_error *err) {
  slot *s = NULL;
  *ix = NULL;
  pthread_mutex_lock(&p->lock);
  for (;;) {
    for (size_t i = 0; !s && i < p->n; i++)
      if (!p->slots[i].busy) s = &p->slots[i];
    if (s) break;
    pthread_cond_wait(&p->freed, &p->lock);
  }
  s->busy = 1;
  pthread_mutex_unlock(&p->lock);
  /* Outside the lock: a reopen reads the disk, other threads need not wait. */
  int rc = refresh(p, s, err);
  if (rc) {
    pthread_mutex_lock(&p->lock);
    s->busy = 0;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->lock);
    return rc;
  }
  *ix = s->ix;
  return PS_OK;
}

void ps_pool_put(ps_pool *p, ps_index *ix) {
  if (!ix) return;
  pthread_mutex_lock(&p->lock);
  for (size_t i = 0; i < p->n; i++)
    if (p->slots[i].busy && p->slots[i].ix == ix) {
      p->slots[i].busy = 0;
      pthread_cond_signal(&p->freed);
      break;
    }
  pthread_mutex_unlock(&p->lock);
}

const char *ps_pool_dir(const ps_pool *p) { return p->dir; }
