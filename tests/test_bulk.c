/* test_bulk.c: adding many files with several threads (ps_index_add_files):
 * results in order, the same file named twice indexed once, per-file errors
 * reported without stopping, a stop from the callback, compaction keeping
 * every result; and the bulk path through temporary databases (small
 * batches, several merges) giving exactly the database that file-by-file
 * indexing gives, readers seeing the last commit meanwhile, and an
 * uncommitted bulk load leaving the database as it was. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ps_xapian.h"

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
  ps_search_opts o = {.limit = 10, .exact = 1};
  long t = ps_search(ix, q, &o, &r, &err) == PS_OK ? (long)r->total : -1;
  ps_results_free(r);
  ps_index_close(ix);
  return t;
}

/* ---- bulk loads against file-by-file indexing ---- */

typedef struct dump {
  char *s;
  size_t len, cap;
  ps_xdb *db;
} dump;

static void put(dump *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(dump *d, const char *fmt, ...) {
  va_list ap;
  for (;;) {
    va_start(ap, fmt);
    int n = vsnprintf(d->s + d->len, d->cap - d->len, fmt, ap);
    va_end(ap);
    if (n >= 0 && d->len + (size_t)n < d->cap) {
      d->len += (size_t)n;
      return;
    }
    d->cap = d->cap * 2 + (size_t)n + 64;
    d->s = realloc(d->s, d->cap);
  }
}

static int posting_cb(void *ctx, unsigned docid, unsigned wdf) {
  put(ctx, " %u/%u", docid, wdf);
  return 0;
}

static int term_cb(void *ctx, const char *t, size_t n, unsigned freq) {
  dump *d = ctx;
  put(d, "\n%.*s %u:", (int)n, t, freq);
  return ps_xdb_postings(d->db, t, n, posting_cb, d);
}

/* Everything a database holds, as text: statistics, every term with its
 * postings, every paragraph (liveness, store record), every file. */
static char *dump_db(const char *db) {
  ps_index *ix = NULL;
  ps_error err;
  ps_error_clear(&err);
  dump d = {calloc(1, 64), 0, 64, NULL};
  if (ps_index_open(db, PS_INDEX_READ, &ix, &err) != PS_OK) {
    fprintf(stderr, "%s\n", err.msg);
    return d.s;
  }
  ps_index_stats st;
  ps_index_stats_get(ix, &st);
  ps_xdb_stats xs;
  d.db = ps_index_xdb(ix);
  ps_xdb_stats_get(d.db, &xs);
  put(&d, "files %zu paragraphs %zu superseded %zu last %u bytes %llu docs %u avlen %.6f",
      st.files, st.paragraphs, st.superseded, st.lastdocid, (unsigned long long)st.text_bytes,
      xs.doccount, xs.avlength);
  ps_xdb_allterms(d.db, "", 0, term_cb, &d);
  for (uint32_t id = 1; id <= st.lastdocid; id++) {
    ps_store_rec r;
    char *v = NULL;
    size_t vl = 0;
    ps_xdb_get_value(d.db, id, 0, &v, &vl);
    if (ps_index_para(ix, id, &r) == PS_OK)
      put(&d, "\n#%u live %d file %u para %u [%s] [%s] [%s] [%s] date %s", id,
          ps_index_live(ix, id), r.file_no, r.para_no, r.norm, r.text, r.section, r.projects,
          v ? v : "-");
    free(v);
  }
  size_t nf = 0;
  const ps_file_info *f = ps_index_files(ix, &nf);
  for (size_t i = 0; i < nf; i++)
    put(&d, "\nfile %s no %u first %u count %u title %s", f[i].path, f[i].file_no, f[i].first,
        f[i].count, f[i].title);
  ps_index_close(ix);
  return d.s;
}

static int commit_every(void *ctx, size_t i, int rc, const ps_add_result *res,
                        const ps_error *err) {
  ps_index *ix = ctx;
  (void)i, (void)res;
  if (rc) fprintf(stderr, "bulk: %s\n", err->msg);
  if (ps_index_pending(ix) >= 25) {
    ps_error e;
    ps_error_clear(&e);
    if (ps_index_commit(ix, &e) != PS_OK) {
      fprintf(stderr, "bulk commit: %s\n", e.msg);
      return 1;
    }
  }
  return 0;
}

/* Commits every 25 paragraphs (cuts), stops after stop_after files. */
typedef struct stopper {
  ps_index *ix;
  size_t n, stop_after, indexed, paragraphs;
} stopper;

static int commit_and_stop(void *ctx, size_t i, int rc, const ps_add_result *res,
                           const ps_error *err) {
  stopper *st = ctx;
  st->n++;
  if (rc == PS_OK && res->status == PS_ADD_INDEXED) {
    st->indexed++;
    st->paragraphs += res->paragraphs;
  }
  if (commit_every(st->ix, i, rc, res, err)) return 1;
  return st->n >= st->stop_after;
}

static int exists(const char *p) {
  struct stat sb;
  return stat(p, &sb) == 0;
}

/* Indexes nf files (paths) into db_bulk with ps_index_add_files (batches of
 * 3 paragraphs, a commit every 25: temporaries cut at commits, several
 * merges; a small memory bound makes groups of a file or two, so that both
 * threads build temporaries and wait for the writer) and into db_one with
 * ps_index_add_file one by one; both must be equal. */
static void bulk_equals_one_by_one(char **paths, size_t nf, const char *db_bulk,
                                   const char *db_one, size_t memory) {
  ps_index *ix = NULL;
  ps_error err;
  ps_error_clear(&err);
  CHECK_INT(ps_index_open(db_bulk, PS_INDEX_WRITE, &ix, &err), PS_OK);
  if (!ix) return;
  ps_index_set_bulk(ix, 3, memory, 1);
  CHECK_INT(ps_index_add_files(ix, paths, nf, NULL, commit_every, ix, &err), PS_OK);
  CHECK_INT(ps_index_commit(ix, &err), PS_OK);
  ps_index_close(ix);
  CHECK_INT(ps_index_open(db_one, PS_INDEX_WRITE, &ix, &err), PS_OK);
  if (!ix) return;
  for (size_t i = 0; i < nf; i++) {
    ps_add_result res;
    int rc = ps_index_add_file(ix, paths[i], NULL, &res, &err);
    CHECK(rc == PS_OK || (rc == PS_ERR_FORMAT && strstr(paths[i], ".bin")));
  }
  CHECK_INT(ps_index_commit(ix, &err), PS_OK);
  ps_index_close(ix);
  char *a = dump_db(db_bulk), *b = dump_db(db_one);
  CHECK(strlen(a) > 1000);
  if (strcmp(a, b) != 0) {
    size_t k = 0;
    while (a[k] && a[k] == b[k]) k++;
    fprintf(stderr, "bulk and one-by-one differ at byte %zu:\n  bulk: %.200s\n  one:  %.200s\n",
            k, a + k, b + k);
    CHECK(0);
  }
  free(a);
  free(b);
}

static void bulk_tests(void) {
  static const char *const words[] = {"京津产业新城", "通武廊", "大黄堡湿地", "高标准农田",
                                      "营商环境", "乡村振兴", "5G基站", "GDP增长5.5%",
                                      "京津冀协同发展", "科技创新", "生态保护", "数字经济"};
  char name[64], db_bulk[320], db_one[320], text[4096];
  char *paths[48];
  size_t nw = sizeof words / sizeof *words, nf = 40;
  for (size_t i = 0; i < nf; i++) {
    size_t len = 0, paras = 1 + i % 5;
    len += (size_t)snprintf(text, sizeof text, "# 文件%zu：%s的报告\n\n", i, words[i % nw]);
    for (size_t k = 0; k < paras; k++)
      len += (size_t)snprintf(text + len, sizeof text - len, "第%zu段，%s和%s，推进%s。\n\n",
                              k, words[(i + k) % nw], words[(i * 7 + k * 3) % nw],
                              words[(i + 2 * k + 1) % nw]);
    snprintf(name, sizeof name, "bulk/f%02zu.md", i);
    write_file(name, text, len);
    paths[i] = strdup(path_of(name));
  }
  /* the same file twice, a file that is no document */
  paths[nf++] = strdup(paths[3]);
  write_file("bulk/z.bin", "\x7f" "ELF\0\0\0\0binary\0\0\1\2\3", 18);
  paths[nf++] = strdup(path_of("bulk/z.bin"));
  snprintf(db_bulk, sizeof db_bulk, "%s/db-bulk", g_dir);
  snprintf(db_one, sizeof db_one, "%s/db-one", g_dir);
  bulk_equals_one_by_one(paths, nf, db_bulk, db_one, 6000);
  /* No memory bound: one group (all on one thread), cut at each commit. */
  char db_b2[340], db_o2[340];
  snprintf(db_b2, sizeof db_b2, "%s/db-bulk2", g_dir);
  snprintf(db_o2, sizeof db_o2, "%s/db-one2", g_dir);
  bulk_equals_one_by_one(paths, nf, db_b2, db_o2, 0);

  /* A bulk load stopped by the callback after 10 files (one group, its
   * thread ahead of the writer; commits cutting its temporaries): the
   * files the last cut writes ahead are reported after the stop (13-15 in
   * practice); what is committed is exactly what was reported. */
  {
    char db_s[340];
    snprintf(db_s, sizeof db_s, "%s/db-stop", g_dir);
    ps_index *sx = NULL;
    ps_error e;
    ps_error_clear(&e);
    CHECK_INT(ps_index_open(db_s, PS_INDEX_WRITE, &sx, &e), PS_OK);
    if (sx) {
      ps_index_set_bulk(sx, 3, 0, 1);
      stopper st = {sx, 0, 10, 0, 0};
      CHECK_INT(ps_index_add_files(sx, paths, nf, NULL, commit_and_stop, &st, &e), PS_OK);
      CHECK(st.n >= 10 && st.n < nf);
      CHECK_INT(ps_index_commit(sx, &e), PS_OK);
      ps_index_close(sx);
      CHECK_INT(ps_index_open(db_s, PS_INDEX_READ, &sx, &e), PS_OK);
      if (sx) {
        ps_index_stats stats;
        ps_index_stats_get(sx, &stats);
        CHECK_INT(stats.files, st.indexed);
        CHECK_INT(stats.paragraphs, st.paragraphs);
        CHECK_INT(stats.lastdocid, st.paragraphs);
        ps_index_close(sx);
      }
    }
  }

  /* Changed files re-indexed in bulk (superseded ranges) and new files. */
  for (size_t i = 0; i < 6; i++) {
    size_t len = (size_t)snprintf(text, sizeof text, "修改后的第%zu个文件，%s。\n\n另一段：%s。\n",
                                  i * 5, words[(i + 5) % nw], words[i % nw]);
    snprintf(name, sizeof name, "bulk/f%02zu.md", i * 5);
    write_file(name, text, len);
  }
  bulk_equals_one_by_one(paths, nf, db_bulk, db_one, 0);
  CHECK(exists(db_bulk));
  char p[400];
  snprintf(p, sizeof p, "%s.bulk", db_bulk);
  CHECK(!exists(p)); /* no temporary database left */
  snprintf(p, sizeof p, "%s.new", db_bulk);
  CHECK(!exists(p));

  /* An uncommitted bulk load: readers see the last commit meanwhile, and
   * closing without a commit leaves the database as it was. */
  char *before = dump_db(db_bulk);
  for (size_t i = 0; i < 8; i++) {
    size_t len = (size_t)snprintf(text, sizeof text, "未提交的第%zu个文件，%s。\n\n第二段%s。\n",
                                  i, words[i % nw], words[(i + 3) % nw]);
    snprintf(name, sizeof name, "bulk/f%02zu.md", i);
    write_file(name, text, len);
  }
  ps_index *ix = NULL;
  ps_error err;
  ps_error_clear(&err);
  CHECK_INT(ps_index_open(db_bulk, PS_INDEX_WRITE, &ix, &err), PS_OK);
  if (ix) {
    ps_index_set_bulk(ix, 2, 0, 1);
    seen s = {0};
    CHECK_INT(ps_index_add_files(ix, paths, nf, NULL, record, &s, &err), PS_OK);
    CHECK(ps_index_pending(ix) >= 16);
    snprintf(p, sizeof p, "%s.bulk", db_bulk);
    CHECK(exists(p)); /* the temporaries, waiting for the commit */
    char *during = dump_db(db_bulk);
    CHECK_STR(during, before);
    free(during);
    ps_index_close(ix);
    CHECK(!exists(p));
    char *after = dump_db(db_bulk);
    CHECK_STR(after, before);
    free(after);
  }
  free(before);

  /* A crash in the middle of a bulk load (a child that exits without
   * committing or closing): the database is as it was, and the next writer
   * removes the temporaries and the store's unmerged tail. */
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    ps_index *cx = NULL;
    ps_error ce;
    ps_error_clear(&ce);
    seen cs = {0};
    if (ps_index_open(db_bulk, PS_INDEX_WRITE, &cx, &ce) != PS_OK) _exit(3);
    ps_index_set_bulk(cx, 2, 0, 1);
    if (ps_index_add_files(cx, paths, nf, NULL, record, &cs, &ce) != PS_OK) _exit(4);
    snprintf(p, sizeof p, "%s.bulk", db_bulk);
    _exit(exists(p) ? 0 : 5);
  }
  int status = -1;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  before = dump_db(db_bulk);
  {
    char *d = dump_db(db_bulk);
    CHECK_STR(d, before);
    free(d);
  }
  CHECK_INT(ps_index_open(db_bulk, PS_INDEX_WRITE, &ix, &err), PS_OK);
  snprintf(p, sizeof p, "%s.bulk", db_bulk);
  CHECK(!exists(p));
  /* A temporary database that cannot be made (DIR.bulk is a file): the
   * file's error is reported, the commit refused, the database unchanged. */
  if (ix) {
    char *pre = dump_db(db_bulk);
    FILE *f = fopen(p, "w");
    if (f) fclose(f);
    ps_index_set_bulk(ix, 2, 0, 1);
    seen s = {0};
    int rc = ps_index_add_files(ix, paths, nf, NULL, record, &s, &err);
    int fatal = rc != PS_OK;
    for (size_t k = 0; k < s.n && k < 16; k++)
      fatal |= s.rc[k] != PS_OK && s.rc[k] != PS_ERR_IO && s.rc[k] != PS_ERR_FORMAT;
    CHECK(fatal); /* a run-level error, not one of a file */
    CHECK(ps_index_commit(ix, &err) != PS_OK);
    ps_index_close(ix);
    char *post = dump_db(db_bulk);
    CHECK_STR(post, pre);
    free(pre);
    free(post);
  }
  free(before);

  /* A small update (under 1 MB, the default threshold) goes straight into
   * the database: no temporary database. */
  CHECK_INT(ps_index_open(db_bulk, PS_INDEX_WRITE, &ix, &err), PS_OK);
  if (ix) {
    seen s = {0};
    CHECK_INT(ps_index_add_files(ix, paths, 2, NULL, record, &s, &err), PS_OK);
    CHECK_INT(s.status[0], PS_ADD_INDEXED);
    CHECK(ps_index_pending_bytes(ix) > 0);
    snprintf(p, sizeof p, "%s.bulk", db_bulk);
    CHECK(!exists(p));
    CHECK_INT(ps_index_commit(ix, &err), PS_OK);
    ps_index_close(ix);
  }
  for (size_t i = 0; i < nf; i++) free(paths[i]);
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
  snprintf(g_db, sizeof g_db, "%s/bulk", g_dir);
  mkdir(g_db, 0755);
  snprintf(g_db, sizeof g_db, "%s/db", g_dir);

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

  bulk_tests();

  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
  return CHECK_DONE();
}
