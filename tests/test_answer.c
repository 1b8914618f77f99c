/* test_answer.c: ps_answer (the query text built from filters, the answer
 * and its JSON, a document in context) and ps_pool (handles that follow
 * new commits and an optimised database, used from several threads while a
 * writer commits). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ps_answer.h"
#include "ps_pool.h"

static char g_dir[256], g_db[300];

static const char *write_doc(int k) {
  static char p[512];
  snprintf(p, sizeof p, "%s/doc-%d.txt", g_dir, k);
  FILE *f = fopen(p, "w");
  fprintf(f, "第%d号文件\n\n推进通武廊合作，第%d段。\n\n另一段文字，关于京津冀。\n", k, k);
  fclose(f);
  return p;
}

static void add_docs(int from, int to) {
  ps_index *w = NULL;
  ps_error err;
  ps_error_clear(&err);
  CHECK_INT(ps_index_open(g_db, PS_INDEX_WRITE, &w, &err), PS_OK);
  for (int k = from; w && k < to; k++) {
    ps_add_result r;
    CHECK_INT(ps_index_add_file(w, write_doc(k), NULL, &r, &err), PS_OK);
    CHECK_INT(ps_index_commit(w, &err), PS_OK); /* one commit per file */
  }
  ps_index_close(w);
}

static size_t count(ps_index *ix, const char *q) {
  ps_answer_opts o;
  ps_answer_opts_init(&o);
  o.count_only = 1;
  ps_answer *a = NULL;
  ps_error err;
  ps_error_clear(&err);
  int rc = ps_answer_run(ix, q, &o, &a, &err);
  if (rc) fprintf(stderr, "search %s: %s\n", q, err.msg);
  size_t n = rc ? (size_t)-1 : a->res->total;
  ps_answer_free(a);
  return n;
}

static void test_query_text(void) {
  const char *f[] = {"year", "region", "type", "project"};
  const char *v[] = {"2024", "武清 区", NULL, ""};
  char *q = NULL;
  ps_error err;
  ps_error_clear(&err);
  CHECK_INT(ps_answer_query("a OR b", f, v, 0, &q, &err), PS_OK);
  CHECK_STR(q, "a OR b"); /* no filter: as typed */
  free(q);
  CHECK_INT(ps_answer_query("a OR b", f, v, 4, &q, &err), PS_OK);
  CHECK_STR(q, "(a OR b) year:\"2024\" region:\"=武清 区\"");
  free(q);
  CHECK_INT(ps_answer_query("  ", f, v, 2, &q, &err), PS_OK);
  CHECK_STR(q, "year:\"2024\" region:\"=武清 区\""); /* filters alone, equal values */
  free(q);
  CHECK_INT(ps_answer_query(NULL, f, v, 0, &q, &err), PS_ERR_QUERY);
  CHECK(q == NULL && strstr(err.msg, "empty query"));
  /* Errors in q name positions of q itself, not of the built text. */
  CHECK_INT(ps_answer_query("通武廊 (京津", f, v, 2, &q, &err), PS_ERR_QUERY);
  CHECK(strstr(err.msg, "character 5") != NULL);
  const char *bad[] = {"a\"b", "x"};
  CHECK_INT(ps_answer_query("q", f + 1, bad, 2, &q, &err), PS_ERR_QUERY);
  CHECK(strstr(err.msg, "region") && strstr(err.msg, "double quote"));
  const char *ctl[] = {"a\nb"};
  CHECK_INT(ps_answer_query("q", f, ctl, 1, &q, &err), PS_ERR_QUERY);
  CHECK(strstr(err.msg, "control character") != NULL);
  const char *year[] = {"20x4"};
  CHECK_INT(ps_answer_query("q", f, year, 1, &q, &err), PS_ERR_QUERY);
  CHECK(strstr(err.msg, "bad year filter '20x4'") != NULL);
}

static void test_answer(ps_index *ix) {
  ps_answer_opts o;
  ps_answer_opts_init(&o);
  o.limit = 1;
  ps_answer *a = NULL;
  ps_error err;
  ps_error_clear(&err);
  CHECK_INT(ps_answer_run(ix, "通武廊", &o, &a, &err), PS_OK);
  if (!a) return;
  CHECK_INT(a->res->total, 2);
  CHECK_INT(a->res->n_hits, 1);
  cJSON *j = ps_answer_json(a);
  CHECK(cJSON_GetObjectItemCaseSensitive(j, "facets") != NULL);
  CHECK(cJSON_GetObjectItemCaseSensitive(j, "collapsed") != NULL);
  CHECK(cJSON_GetObjectItemCaseSensitive(j, "timeline") == NULL);
  cJSON *hits = cJSON_GetObjectItemCaseSensitive(j, "hits");
  CHECK_INT(cJSON_GetArraySize(hits), 1);
  CHECK(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(hits, 0), "also_in") != NULL);

  /* The same hit's document, around it. */
  const ps_hit *h = &a->res->hits[0];
  cJSON *doc = NULL;
  CHECK_INT(ps_answer_doc(ix, h->file->path, h->paragraph, 1, 1, "通武廊", &doc, &err), PS_OK);
  cJSON *paras = cJSON_GetObjectItemCaseSensitive(doc, "paragraphs");
  size_t first = h->paragraph ? h->paragraph - 1 : 0;
  size_t last = h->paragraph + 1 < h->file->count ? h->paragraph + 1 : h->file->count - 1;
  CHECK_INT(cJSON_GetArraySize(paras), last - first + 1);
  CHECK_INT(cJSON_GetObjectItemCaseSensitive(doc, "first")->valuedouble, first);
  cJSON *p1 = cJSON_GetArrayItem(paras, (int)(h->paragraph - first));
  CHECK_STR(cJSON_GetObjectItemCaseSensitive(p1, "text")->valuestring, h->text);
  /* The hit's highlights, the same in characters as in the hit's JSON. */
  cJSON *hit0 = cJSON_GetArrayItem(hits, 0);
  char *want = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(hit0, "highlights"));
  char *got = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(p1, "highlights"));
  CHECK_STR(got, want);
  CHECK(got && strcmp(got, "[]") != 0);
  free(want), free(got);
  cJSON_Delete(doc);
  CHECK_INT(ps_answer_doc(ix, h->file->path, h->paragraph, 0, 0, "通武廊 (", &doc, &err),
            PS_ERR_QUERY);
  CHECK_INT(ps_answer_doc(ix, h->file->path, 99, 1, 1, NULL, &doc, &err), PS_ERR_NOTFOUND);
  CHECK(doc == NULL && strstr(err.msg, "paragraphs"));
  CHECK_INT(ps_answer_doc(ix, "/nowhere.txt", 0, 1, 1, NULL, &doc, &err), PS_ERR_NOTFOUND);
  cJSON_Delete(j);
  ps_answer_free(a);

  /* Timeline: every exact hit, not paged, and no collapsing. */
  o.timeline = 1;
  CHECK_INT(ps_answer_run(ix, "通武廊", &o, &a, &err), PS_OK);
  CHECK_INT(a->res->n_hits, 2);
  CHECK(a->groups == NULL);
  j = ps_answer_json(a);
  CHECK(cJSON_GetObjectItemCaseSensitive(j, "timeline") != NULL);
  cJSON_Delete(j);
  ps_answer_free(a);
  CHECK_INT(ps_answer_run(ix, "通武廊 (", &o, &a, &err), PS_ERR_QUERY);
  CHECK(a == NULL);
}

typedef struct worker {
  ps_pool *pool;
  int errors, runs;
  size_t last;
} worker;

static void *search_loop(void *arg) {
  worker *w = arg;
  for (int i = 0; i < 40; i++) {
    ps_index *ix = NULL;
    ps_error err;
    ps_error_clear(&err);
    if (ps_pool_get(w->pool, &ix, &err) != PS_OK) {
      fprintf(stderr, "pool: %s\n", err.msg);
      w->errors++;
      continue;
    }
    size_t n = count(ix, "通武廊");
    ps_pool_put(w->pool, ix);
    if (n == (size_t)-1 || n < w->last) w->errors++; /* never fails, never goes back */
    w->last = n;
    w->runs++;
  }
  return NULL;
}

static void test_pool(void) {
  ps_pool *pool = NULL;
  ps_index *a = NULL, *b = NULL;
  ps_error err;
  ps_error_clear(&err);
  char nodb[400];
  snprintf(nodb, sizeof nodb, "%s/none", g_dir);
  CHECK_INT(ps_pool_open(nodb, 2, &pool, &err), PS_ERR_NOTFOUND);
  CHECK(pool == NULL);
  CHECK_INT(ps_pool_open(g_db, 2, &pool, &err), PS_OK);
  if (!pool) return;
  CHECK_STR(ps_pool_dir(pool), g_db);
  CHECK_INT(ps_pool_get(pool, &a, &err), PS_OK);
  CHECK_INT(ps_pool_get(pool, &b, &err), PS_OK);
  CHECK(a && b && a != b); /* two handles, one per user */
  CHECK_INT(count(a, "通武廊"), 2);
  ps_pool_put(pool, a);
  ps_pool_put(pool, b);

  /* A new commit is seen at the next checkout. */
  add_docs(2, 3);
  CHECK_INT(ps_pool_get(pool, &a, &err), PS_OK);
  CHECK_INT(count(a, "通武廊"), 3);
  ps_pool_put(pool, a);

  /* Four threads on two handles while a writer commits file after file. */
  worker w[4];
  pthread_t t[4];
  memset(w, 0, sizeof w);
  for (int i = 0; i < 4; i++) {
    w[i].pool = pool;
    pthread_create(&t[i], NULL, search_loop, &w[i]);
  }
  add_docs(3, 9);
  for (int i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    CHECK_INT(w[i].errors, 0);
    CHECK_INT(w[i].runs, 40);
  }
  CHECK_INT(ps_pool_get(pool, &a, &err), PS_OK);
  CHECK_INT(count(a, "通武廊"), 9);
  ps_pool_put(pool, a);

  /* An optimised database is a new directory: handles are opened afresh. */
  ps_index *wr = NULL;
  CHECK_INT(ps_index_open(g_db, PS_INDEX_WRITE, &wr, &err), PS_OK);
  size_t removed = 0;
  CHECK_INT(ps_index_remove(wr, write_doc(0), &removed, &err), PS_OK);
  CHECK_INT(ps_index_commit(wr, &err), PS_OK);
  CHECK_INT(ps_index_optimize(wr, &err), PS_OK);
  ps_index_close(wr);
  CHECK_INT(ps_pool_get(pool, &a, &err), PS_OK);
  CHECK_INT(count(a, "通武廊"), 8);
  ps_index_stats st;
  ps_index_stats_get(a, &st);
  CHECK_INT(st.superseded, 0);
  ps_pool_put(pool, a);
  ps_pool_close(pool);
}

int main(void) {
  snprintf(g_dir, sizeof g_dir, "/tmp/ps-test-answer-XXXXXX");
  if (!mkdtemp(g_dir)) return 1;
  snprintf(g_db, sizeof g_db, "%s/db", g_dir);
  test_query_text();
  add_docs(0, 2);
  ps_index *ix = NULL;
  ps_error err;
  ps_error_clear(&err);
  CHECK_INT(ps_index_open(g_db, PS_INDEX_READ, &ix, &err), PS_OK);
  if (ix) test_answer(ix);
  ps_index_close(ix);
  test_pool();
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
  return CHECK_DONE();
}
