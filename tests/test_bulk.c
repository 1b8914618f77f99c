/* test_bulk.c: adding many files with two threads (ps_index_add_files):
 * results in order, the same file named twice indexed once, per-file errors
 * reported without stopping, a stop from the callback, the memory estimate
 * of uncommitted paragraphs, and compaction keeping every result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "ps_index.h"
#include "ps_search.h"

static char g_dir[256], g_db[300];

static char *path_of(const char *name) {
  static char p[8][512];
  static int k = 0;
  k = (k + 1) % 8;
  snprintf(p[k], sizeof p[k], "%s/%s", g_dir, name);
  return p[k];
}

static void write_file(const char *name, const char *content, size_t len) {
  FILE *f = fopen(path_of(name), "wb");
  fwrite(content, 1, len, f);
  fclose(f);
}

typedef struct seen {
  size_t n, stop_after;
  size_t idx[16];
  int rc[16], status[16], replaced[16];
} seen;

static int record(void *ctx, size_t i, int rc, const ps_add_result *res, const ps_error *err) {
  seen *s = ctx;
  if (rc && rc != PS_ERR_IO && rc != PS_ERR_FORMAT) fprintf(stderr, "file %zu: %s\n", i, err->msg);
  if (s->n < 16) {
    s->idx[s->n] = i;
    s->rc[s->n] = rc;
    s->status[s->n] = res->status;
    s->replaced[s->n] = res->replaced;
  }
  s->n++;
  return s->stop_after && s->n >= s->stop_after;
}

static long total(const char *q) {
  ps_index *ix = NULL;
  ps_results *r = NULL;
  ps_error err;
  ps_error_clear(&err);
  if (ps_index_open(g_db, PS_INDEX_READ, &ix, &err) != PS_OK) return -1;
  ps_search_opts o = {0, 10, 1, 0, 0};
  long t = ps_search(ix, q, &o, &r, &err) == PS_OK ? (long)r->total : -1;
  ps_results_free(r);
  ps_index_close(ix);
  return t;
}

int main(void) {
  snprintf(g_dir, sizeof g_dir, "/tmp/ps_test_bulk_XXXXXX");
  if (!mkdtemp(g_dir)) return 1;
  snprintf(g_db, sizeof g_db, "%s/db", g_dir);
  const char *a = "推动“通武廊”一体化发展。\n京津产业新城全面起势。\n";
  write_file("a.txt", a, strlen(a));
  const char *b = "大黄堡湿地补水修复全面完成。\n";
  write_file("b.txt", b, strlen(b));
  write_file("c.txt", "\x7f" "ELF\0\0\0\0binary\0\0\1\2\3", 18);

  ps_index *ix = NULL;
  ps_error err;
  ps_error_clear(&err);
  CHECK_INT(ps_index_open(g_db, PS_INDEX_WRITE, &ix, &err), PS_OK);

  /* a twice, a missing file, a binary one: every file reported, in order */
  char *paths[] = {path_of("a.txt"), path_of("b.txt"), path_of("a.txt"),
                   path_of("missing.txt"), path_of("c.txt")};
  seen s = {0};
  CHECK_INT(ps_index_add_files(ix, paths, 5, NULL, record, &s, &err), PS_OK);
  CHECK_INT(s.n, 5);
  for (size_t i = 0; i < 5 && i < s.n; i++) CHECK_INT(s.idx[i], i);
  CHECK_INT(s.rc[0], PS_OK);
  CHECK_INT(s.status[0], PS_ADD_INDEXED);
  CHECK_INT(s.rc[1], PS_OK);
  CHECK_INT(s.rc[2], PS_OK);
  CHECK_INT(s.status[2], PS_ADD_UNCHANGED); /* the second a.txt */
  CHECK_INT(s.rc[3], PS_ERR_IO);
  CHECK_INT(s.rc[4], PS_ERR_FORMAT);
  CHECK(ps_index_pending(ix) == 3);
  CHECK(ps_index_pending_bytes(ix) > 0);
  CHECK_INT(ps_index_commit(ix, &err), PS_OK);
  CHECK_INT(ps_index_pending_bytes(ix), 0);
  CHECK_INT(total("通武廊"), 1);
  CHECK_INT(total("湿地"), 1);

  /* a changed file supersedes its old paragraphs */
  const char *a2 = "推动“通武廊”一体化发展。\n“通武廊”市域铁路开工。\n";
  write_file("a.txt", a2, strlen(a2));
  char *again[] = {path_of("a.txt")};
  memset(&s, 0, sizeof s);
  CHECK_INT(ps_index_add_files(ix, again, 1, NULL, record, &s, &err), PS_OK);
  CHECK_INT(s.n, 1);
  CHECK_INT(s.status[0], PS_ADD_INDEXED);
  CHECK_INT(s.replaced[0], 1);
  CHECK_INT(ps_index_commit(ix, &err), PS_OK);
  CHECK_INT(total("通武廊"), 2);
  CHECK_INT(total("京津产业新城"), 0);

  /* a non-zero return from the callback stops after that file */
  write_file("d.txt", "第一段。\n", strlen("第一段。\n"));
  write_file("e.txt", "第二段。\n", strlen("第二段。\n"));
  char *two[] = {path_of("d.txt"), path_of("e.txt")};
  memset(&s, 0, sizeof s);
  s.stop_after = 1;
  CHECK_INT(ps_index_add_files(ix, two, 2, NULL, record, &s, &err), PS_OK);
  CHECK_INT(s.n, 1);

  /* compaction: refused with uncommitted changes, then keeps every result */
  CHECK_INT(ps_index_compact(ix, &err), PS_ERR_USAGE);
  CHECK_INT(ps_index_commit(ix, &err), PS_OK);
  CHECK_INT(ps_index_compact(ix, &err), PS_OK);
  CHECK_INT(total("通武廊"), 2);
  CHECK_INT(total("第一段"), 1);
  CHECK_INT(total("第二段"), 0);
  /* the writer goes on after the swap */
  char *one[] = {path_of("e.txt")};
  memset(&s, 0, sizeof s);
  CHECK_INT(ps_index_add_files(ix, one, 1, NULL, record, &s, &err), PS_OK);
  CHECK_INT(ps_index_commit(ix, &err), PS_OK);
  CHECK_INT(total("第二段"), 1);
  ps_index_close(ix);

  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
  return CHECK_DONE();
}
