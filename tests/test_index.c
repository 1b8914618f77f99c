/* test_index.c: the database life cycle: add, skip unchanged, supersede on
 * re-index, remove, optimise, crash leftovers, scheme mismatch, locking,
 * hostile input, the stored traditional->simplified table, and the shim's
 * error handling. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utime.h>

#include "check.h"
#include "ps_index.h"
#include "ps_search.h"
#include "ps_shard.h"
#include "ps_tok.h"
#include "ps_xapian.h"

static char g_dir[256], g_db[300];

static void write_file(const char *name, const char *content, size_t len) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", g_dir, name);
  FILE *f = fopen(p, "wb");
  fwrite(content, 1, len, f);
  fclose(f);
}

static const char *path_of(const char *name) {
  static char p[512];
  snprintf(p, sizeof p, "%s/%s", g_dir, name);
  return p;
}

static ps_index *writer(void) {
  ps_index *ix = NULL;
  ps_error err;
  ps_error_clear(&err);
  int rc = ps_index_open(g_db, PS_INDEX_WRITE, &ix, &err);
  if (rc) fprintf(stderr, "open writer: %s\n", err.msg);
  CHECK_INT(rc, PS_OK);
  return ix;
}

static int add(ps_index *ix, const char *name, ps_add_result *res) {
  ps_error err;
  ps_error_clear(&err);
  int rc = ps_index_add_file(ix, path_of(name), NULL, res, &err);
  if (rc) fprintf(stderr, "add %s: %s\n", name, err.msg);
  return rc;
}

static void commit(ps_index *ix) {
  ps_error err;
  CHECK_INT(ps_index_commit(ix, &err), PS_OK);
}

/* Total hits of q in a fresh reader, asking for a page of `limit` hits
 * (limit 0: the total alone: Xapian's count, or the term frequency). */
static long total_with(const char *q, size_t limit) {
  ps_index *ix = NULL;
  ps_results *r = NULL;
  ps_error err;
  ps_error_clear(&err);
  if (ps_index_open(g_db, PS_INDEX_READ, &ix, &err) != PS_OK) {
    fprintf(stderr, "open reader: %s\n", err.msg);
    return -1;
  }
  ps_search_opts o;
  memset(&o, 0, sizeof o);
  o.limit = limit;
  o.exact = 1;
  long t = -1;
  if (ps_search(ix, q, &o, &r, &err) == PS_OK) t = (long)r->total;
  else fprintf(stderr, "search %s: %s\n", q, err.msg);
  ps_results_free(r);
  ps_index_close(ix);
  return t;
}

static long total(const char *q) { return total_with(q, 100); }
static long count_only(const char *q) { return total_with(q, 0); }

static ps_index_stats stats(void) {
  ps_index_stats st;
  memset(&st, 0, sizeof st);
  ps_index *ix = NULL;
  ps_error err;
  if (ps_index_open(g_db, PS_INDEX_READ, &ix, &err) == PS_OK) ps_index_stats_get(ix, &st);
  ps_index_close(ix);
  return st;
}

static const char A1[] = "# 标题\n\n第一段提到京津产业新城和alpha。\n\n第二段讲通武廊。\n\n第三段：营商环境。\n";
static const char A2[] = "# 标题\n\n第一段改为佛罗伦萨小镇和omega。\n\n第二段讲通武廊。\n\n第三段：营商环境。\n\n新增的第四段。\n";
static const char B[] = "# 另一篇\n\n大黄堡湿地生态补水。\n\n京津产业新城再次出现。\n";

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
}

/* Stub files: Xapian's lines, ours, and what is refused. */
static void test_stub(void) {
  char stub[512], text[1024];
  ps_stub st;
  ps_error err;
  snprintf(stub, sizeof stub, "%s/stub", g_dir);
  write_text(stub, "# comment\n\nauto shard-0/xapian\nremote 10.0.0.2:4000\n#text /srv/t1\n"
                   "remote tcp host.example 4001\nglass /abs/s3/xapian/\nremote [::1]:4002\n");
  CHECK_INT(ps_stub_read(stub, &st, &err), PS_OK);
  CHECK_INT(st.n, 5);
  if (st.n == 5) {
    snprintf(text, sizeof text, "%s/shard-0", g_dir);
    CHECK_STR(st.loc[0].dir, text);
    CHECK_STR(st.loc[0].host, "");
    CHECK_STR(st.loc[1].host, "10.0.0.2");
    CHECK_INT(st.loc[1].port, 4000);
    CHECK_STR(st.loc[1].dir, "/srv/t1");
    CHECK_STR(st.loc[2].host, "host.example");
    CHECK_INT(st.loc[2].port, 4001);
    snprintf(text, sizeof text, "%s/shard-2", g_dir); /* the default replica */
    CHECK_STR(st.loc[2].dir, text);
    CHECK_STR(st.loc[3].dir, "/abs/s3");
    CHECK_STR(st.loc[4].host, "::1");
  }
  ps_stub_free(&st);
  const char *bad[] = {"auto shard-0\n", "remote host\n", "remote :prog args\n",
                       "remote h:99999\n", "#text x\n", "inmemory\n", "# only comments\n"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    write_text(stub, bad[i]);
    ps_error_clear(&err);
    CHECK_INT(ps_stub_read(stub, &st, &err), PS_ERR_USAGE);
    CHECK(strstr(err.msg, stub) != NULL);
  }
  /* Routing is a fixed function of the path: FNV-1a 64 mod n. */
  CHECK_INT(ps_shard_route("", 7), 1469598103934665603ULL % 7);
  CHECK_INT(ps_shard_route("/a", 1000), ((((1469598103934665603ULL ^ '/') * 1099511628211ULL)
                                         ^ 'a') * 1099511628211ULL) % 1000);
  CHECK_INT(ps_shard_route("/docs/x.txt", 1), 0);
}

/* A sharded database through the ps_index API: files spread by path,
 * interleaved docids, updates reach the same shard, readers reopen. */
static void test_shards(void) {
  char sdb[512], names[4][16];
  ps_error err;
  ps_add_result res;
  ps_index *w = NULL, *r = NULL;
  snprintf(sdb, sizeof sdb, "%s/sharded", g_dir);
  CHECK_INT(ps_index_open_sharded(sdb, 2, PS_INDEX_WRITE, &w, &err), PS_OK);
  CHECK_INT(ps_index_shards(w), 2);
  for (int i = 0; i < 4; i++) {
    char body[128];
    snprintf(names[i], sizeof names[i], "s%d.md", i);
    snprintf(body, sizeof body, "# 第%d篇\n\n分片测试京津段落%d。\n\n第二段。\n", i, i);
    write_file(names[i], body, strlen(body));
    CHECK_INT(add(w, names[i], &res), PS_OK);
    CHECK_INT(res.status, PS_ADD_INDEXED);
  }
  commit(w);
  CHECK_INT(ps_index_open(sdb, PS_INDEX_READ, &r, &err), PS_OK);
  if (r) {
    ps_index_stats st;
    ps_index_stats_get(r, &st);
    CHECK_INT(st.files, 4);
    CHECK_INT(st.paragraphs, 12);
    size_t n;
    const ps_file_info *f = ps_index_files(r, &n);
    for (size_t i = 0; i < n; i++)
      for (uint32_t k = 0; k < f[i].count; k++) {
        ps_store_rec rec;
        uint32_t id = ps_index_file_docid(r, &f[i], k);
        CHECK_INT(ps_index_para(r, id, &rec), PS_OK);
        CHECK_INT(rec.para_no, k);
        CHECK(ps_index_file_by_no(r, rec.file_no) == &f[i]);
        CHECK_INT((id - 1) % 2, ps_shard_route(f[i].path, 2));
      }
  }
  /* Re-indexing a changed file supersedes it in its own shard. */
  write_file(names[1], "# 第1篇\n\n改过的京津段落。\n", 30);
  CHECK_INT(add(w, names[1], &res), PS_OK);
  CHECK(res.replaced);
  size_t removed = 0;
  CHECK_INT(ps_index_remove(w, path_of(names[2]), &removed, &err), PS_OK);
  CHECK_INT(removed, 1);
  commit(w);
  if (r) {
    int changed = 0;
    CHECK_INT(ps_index_reopen(r, &changed, &err), PS_OK);
    CHECK(changed);
    ps_results *res2 = NULL;
    ps_search_opts o = {.limit = 100, .exact = 1};
    CHECK_INT(ps_search(r, "京津", &o, &res2, &err), PS_OK);
    if (res2) CHECK_INT(res2->total, 3);
    ps_results_free(res2);
    ps_index_stats st;
    ps_index_stats_get(r, &st);
    CHECK_INT(st.files, 3);
  }
  ps_index_close(r);
  ps_index_close(w);
  /* The number of shards is fixed; a single database is no sharded one. */
  ps_error_clear(&err);
  CHECK_INT(ps_index_open_sharded(sdb, 3, PS_INDEX_WRITE, &w, &err), PS_ERR_USAGE);
  CHECK(strstr(err.msg, "has 2 shards, not 3") != NULL);
  CHECK_INT(ps_index_open_sharded(g_db, 2, PS_INDEX_WRITE, &w, &err), PS_ERR_USAGE);
  CHECK(strstr(err.msg, "single") != NULL);
  /* One shard opened alone leaves the other shard's files alone. */
  char one[600];
  snprintf(one, sizeof one, "%s/shard-%u", sdb, 1 - ps_shard_route(path_of(names[3]), 2));
  CHECK_INT(ps_index_open(one, PS_INDEX_WRITE, &w, &err), PS_OK);
  if (w) {
    CHECK_INT(add(w, names[3], &res), PS_OK);
    CHECK_INT(res.status, PS_ADD_ELSEWHERE);
    ps_index_close(w);
  }
}

/* Adds n documents of 20 terms each ("t" and a number below 2000, chosen by
 * step) and commits. */
static void add_numbered(ps_xdb *w, int n, int step) {
  ps_xdoc *d = ps_xdoc_new();
  char t[16];
  for (int i = 0; d && i < n; i++) {
    ps_xdoc_clear(d);
    for (int k = 0; k < 20; k++) {
      int len = snprintf(t, sizeof t, "t%d", (i * step + k) % 2000);
      ps_xdoc_add_term(d, t, (size_t)len, 1);
    }
    CHECK_INT(ps_xdb_add(w, d, NULL), PS_OK);
  }
  CHECK_INT(ps_xdb_commit(w), PS_OK);
  ps_xdoc_free(d);
}

/* A reader whose revision three commits have overwritten meets Xapian's
 * DatabaseModifiedError (PS_ERR_RETRY); from then on every call on it
 * fails the same way, even one that would read nothing overwritten (its
 * tables may be at two revisions), until it is reopened. */
static void test_modified_handle(void) {
  char path[400];
  snprintf(path, sizeof path, "%s/modified-db", g_dir);
  ps_xdb *w = NULL, *r = NULL;
  CHECK_INT(ps_xdb_open(path, PS_XDB_WRITE_CREATE, PS_XDB_NO_SYNC, &w), PS_OK);
  add_numbered(w, 3000, 7);
  CHECK_INT(ps_xdb_open(path, PS_XDB_READ, 0, &r), PS_OK);
  for (int round = 0; round < 3; round++) add_numbered(w, 3000, 13);
  unsigned tf = 0;
  int rc = PS_OK;
  for (int t = 0; t < 2000 && rc == PS_OK; t += 97) {
    char term[16];
    int len = snprintf(term, sizeof term, "t%d", t);
    rc = ps_xdb_termfreq(r, term, (size_t)len, &tf);
  }
  CHECK_INT(rc, PS_ERR_RETRY);
  ps_xdb_stats st;
  CHECK_INT(ps_xdb_stats_get(r, &st), PS_ERR_RETRY); /* refused, not read */
  CHECK(strstr(ps_xdb_errmsg(r), "reopen") != NULL);
  int changed = 0;
  CHECK_INT(ps_xdb_reopen(r, &changed), PS_OK);
  CHECK_INT(changed, 1);
  CHECK_INT(ps_xdb_stats_get(r, &st), PS_OK);
  CHECK_INT(st.lastdocid, 12000);
  CHECK_INT(ps_xdb_termfreq(r, "t0", 2, &tf), PS_OK);
  CHECK(tf > 0);
  ps_xdb_close(r);
  ps_xdb_close(w);
}

/* A decider that accepts the docids in a sorted list. */
typedef struct id_list {
  const unsigned *ids;
  size_t n;
} id_list;

static int in_list(void *ctx, unsigned docid) {
  const id_list *l = ctx;
  size_t lo = 0, hi = l->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (l->ids[mid] < docid) lo = mid + 1;
    else hi = mid;
  }
  return lo < l->n && l->ids[lo] == docid;
}

/* The best `max` of a search as docids, and its total (-1: failed). */
static int flat_top; /* ranked() asks for ps_xsearch.flat_top */

static long ranked(ps_xdb *db, const ps_xq *q, unsigned first, unsigned max, unsigned check,
                   const unsigned *only, size_t n_only, ps_xdecider_fn fn, void *ctx,
                   unsigned *out, size_t *n) {
  ps_xsearch s;
  ps_xsearch_init(&s);
  s.flat_top = flat_top;
  s.query = q;
  s.first = first;
  s.max = max;
  s.check_at_least = check;
  s.only = only;
  s.n_only = n_only;
  s.decider = fn;
  s.decider_ctx = ctx;
  ps_xresult xr = {0};
  if (ps_xdb_search(db, &s, &xr) != PS_OK) return -1;
  for (size_t i = 0; i < xr.n; i++) out[i] = xr.matches[i].docid;
  *n = xr.n;
  long total = xr.total_lower;
  ps_xresult_free(&xr);
  return total;
}

/* The verified matches as a filter inside the match (ps_xsearch.only) give
 * the same page as a decider after it, on one database and on two combined
 * (where each part recognises its share by its UUID); and a decider after
 * the match of a combination, fetching the candidates in batches when the
 * total is not asked for, gives the page a walk over all of them gives. */
static void test_docid_filter(void) {
  char path[2][400];
  ps_xdb *part[2] = {NULL, NULL}, *both = NULL;
  for (int i = 0; i < 2; i++) {
    snprintf(path[i], sizeof path[i], "%s/filter-db-%d", g_dir, i);
    ps_xdb *w = NULL;
    CHECK_INT(ps_xdb_open(path[i], PS_XDB_WRITE_CREATE, PS_XDB_NO_SYNC, &w), PS_OK);
    add_numbered(w, 600 + 100 * i, 7 + 6 * i);
    ps_xdb_close(w);
    CHECK_INT(ps_xdb_open(path[i], PS_XDB_READ, 0, &part[i]), PS_OK);
  }
  CHECK_INT(ps_xdb_combine(part, 2, &both), PS_OK);
  ps_xq *terms[150]; /* (of different frequencies: weights of all kinds) */
  for (int t = 0; t < 150; t++) {
    char term[16];
    int len = snprintf(term, sizeof term, "t%d", t * 3);
    terms[t] = ps_xq_term(term, (size_t)len, 1);
  }
  ps_xq *q = ps_xq_op(PS_XQ_OR, terms, 150, 0);
  static unsigned keep[1400], page[1400], want[1400];
  ps_xdb *dbs[2] = {part[0], both};
  for (int k = 0; k < 2; k++) {
    size_t n_keep = 0, n_page = 0, n_want = 0;
    for (unsigned d = 1; d <= 1300; d++)
      if (d % 3 == 0 || d % 7 == 1) keep[n_keep++] = d;
    id_list l = {keep, n_keep};
    for (unsigned first = 0; first <= 40; first += 20) {
      long t1 = ranked(dbs[k], q, first, 25, 0, NULL, 0, in_list, &l, want, &n_want);
      long t2 = ranked(dbs[k], q, first, 25, 0, keep, n_keep, NULL, NULL, page, &n_page);
      CHECK(t1 > 60);
      CHECK_INT(t2, t1);
      CHECK_INT(n_page, n_want);
      CHECK(n_page == n_want && memcmp(page, want, n_page * sizeof *page) == 0);
      if (k == 1) { /* batches: only the page is asked for */
        ranked(dbs[k], q, first, 25, 1, NULL, 0, in_list, &l, page, &n_page);
        CHECK(n_page == n_want && memcmp(page, want, n_page * sizeof *page) == 0);
      }
    }
    /* a sparse list: the batches grow until the page is full */
    n_keep = 0;
    for (unsigned d = 560; d <= 600; d++) keep[n_keep++] = d;
    l.n = n_keep;
    long t1 = ranked(dbs[k], q, 0, 10, 0, NULL, 0, in_list, &l, want, &n_want);
    long t2 = ranked(dbs[k], q, 0, 10, 0, keep, n_keep, NULL, NULL, page, &n_page);
    CHECK(t1 > 0);
    CHECK_INT(t2, t1);
    CHECK(n_page == n_want && memcmp(page, want, n_page * sizeof *page) == 0);
    if (k == 1) {
      ranked(dbs[k], q, 0, 10, 1, NULL, 0, in_list, &l, page, &n_page);
      CHECK(n_page == n_want && memcmp(page, want, n_page * sizeof *page) == 0);
    }
  }
  /* The best kept by a match spy (flat_top): on the combination the spy
   * sees local docids and follows the filter's order to make them global;
   * with a filtered docid that does not match (it would lose its way) the
   * search is made again without it.  Same pages either way. */
  for (int k = 0; k < 2; k++) {
    size_t n_all = 0, n_keep = 0, n_page = 0, n_want = 0;
    static unsigned all[1400];
    ranked(dbs[k], q, 0, 1400, 0, NULL, 0, NULL, NULL, all, &n_all);
    CHECK(n_all > 100);
    for (size_t i = 0; i < n_all; i++) /* (a subset of the matches, ascending) */
      if (all[i] % 3 != 0) keep[n_keep++] = all[i];
    for (size_t i = 1; i < n_keep; i++)
      for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
        unsigned t = keep[j];
        keep[j] = keep[j - 1], keep[j - 1] = t;
      }
    for (int stray = 0; stray < 2; stray++) {
      if (stray) keep[n_keep++] = 1301; /* (beyond every document: matches nothing) */
      id_list l = {keep, n_keep};
      flat_top = 0;
      long t1 = ranked(dbs[k], q, 0, 30, 0, NULL, 0, in_list, &l, want, &n_want);
      flat_top = 1;
      long t2 = ranked(dbs[k], q, 0, 30, 0, keep, n_keep, NULL, NULL, page, &n_page);
      flat_top = 0;
      CHECK_INT(t2, t1);
      CHECK(n_want == 30 && n_page == n_want && memcmp(page, want, n_page * sizeof *page) == 0);
    }
  }
  ps_xq_free(q);
  ps_xdb_close(both);
  for (int i = 0; i < 2; i++) ps_xdb_close(part[i]);
}

/* Runs fn in a child process (a process has one traditional->simplified
 * table, so each side of the test needs a fresh one) and checks that it
 * passed. */
static void in_child(void (*fn)(void)) {
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    fn();
    fflush(NULL);
    _exit(check_failures ? 1 : 0);
  }
  int status = 0;
  CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static const char T2S_TEXT[] = "# 标题\n\n美國與中國的合作。\n";

/* Builds a database, then edits its stored table so that 國 no longer
 * becomes 国 (as if another OpenCC had built it). */
static void t2s_build_db(void) {
  snprintf(g_db, sizeof g_db, "%s/t2s-db", g_dir);
  write_file("t2s.md", T2S_TEXT, sizeof T2S_TEXT - 1);
  ps_add_result res;
  ps_index *ix = writer();
  CHECK_INT(add(ix, "t2s.md", &res), PS_OK);
  commit(ix);
  ps_index_close(ix);
  char xpath[512], *table = NULL;
  size_t len = 0;
  ps_xdb *db = NULL;
  snprintf(xpath, sizeof xpath, "%s/xapian", g_db);
  CHECK_INT(ps_xdb_open(xpath, PS_XDB_WRITE_OPEN, PS_XDB_NO_TERMLIST, &db), PS_OK);
  CHECK_INT(ps_xdb_get_metadata(db, "ps:t2s", &table, &len), PS_OK);
  char *pair = table ? strstr(table, "國国") : NULL;
  CHECK(table && strncmp(table, "t2s ", 4) == 0 && pair);
  if (pair) {
    memmove(pair, pair + 6, strlen(pair + 6) + 1);
    CHECK_INT(ps_xdb_set_metadata(db, "ps:t2s", table, strlen(table)), PS_OK);
    CHECK_INT(ps_xdb_commit(db), PS_OK);
  }
  free(table);
  ps_xdb_close(db);
}

/* A reader normalises with the table the database holds, not OpenCC's. */
static void t2s_search_db(void) {
  snprintf(g_db, sizeof g_db, "%s/t2s-db", g_dir);
  CHECK_INT(total("中国"), 1); /* indexed with OpenCC's table */
  CHECK_INT(total("中國"), 0); /* asked with the stored one: 國 stays */
  ps_norm n;
  CHECK_INT(ps_tok_normalize("國", 3, 0, &n), PS_OK);
  CHECK_STR(n.text, "國");
  ps_norm_free(&n);
  ps_error err;
  char *table = NULL;
  CHECK_INT(ps_tok_t2s_export(&table, &err), PS_OK);
  CHECK(table && !strstr(table, "國国") && strstr(table, "們们"));
  CHECK_INT(ps_tok_t2s_adopt(table, strlen(table), &err), PS_OK); /* the same: fine */
  char *other = malloc(strlen(table) + 8);
  sprintf(other, "%s國国", table);
  ps_error_clear(&err);
  CHECK_INT(ps_tok_t2s_adopt(other, strlen(other), &err), PS_ERR_SCHEME);
  CHECK(strstr(err.msg, "OpenCC") != NULL);
  CHECK_INT(ps_tok_t2s_adopt("t2s 3400-9fff\nA", 15, &err), PS_ERR_CORRUPT);
  CHECK_INT(ps_tok_t2s_adopt("rubbish", 7, &err), PS_ERR_CORRUPT);
  CHECK_INT(ps_tok_t2s_adopt("t2s 3400-9fff\n國a", 18, &err), PS_ERR_CORRUPT); /* to ASCII */
  free(other);
  free(table);
}

int main(void) {
  snprintf(g_dir, sizeof g_dir, "/tmp/ps-test-index-XXXXXX");
  if (!mkdtemp(g_dir)) return 1;
  snprintf(g_db, sizeof g_db, "%s/db", g_dir);
  ps_add_result res;
  ps_error err;

  in_child(t2s_build_db);
  in_child(t2s_search_db);
  test_modified_handle();
  test_docid_filter();

  /* A reader on nothing: a clear error, not a crash. */
  {
    ps_index *ix = NULL;
    ps_error_clear(&err);
    CHECK_INT(ps_index_open(g_db, PS_INDEX_READ, &ix, &err), PS_ERR_NOTFOUND);
    CHECK(strstr(err.msg, "policy-index") != NULL);
    CHECK(ix == NULL);
  }

  write_file("a.md", A1, sizeof A1 - 1);
  write_file("b.md", B, sizeof B - 1);
  ps_index *ix = writer();
  CHECK_INT(add(ix, "a.md", &res), PS_OK);
  CHECK_INT(res.status, PS_ADD_INDEXED);
  size_t a_paras = res.paragraphs;
  CHECK(a_paras >= 3);
  CHECK_INT(add(ix, "b.md", &res), PS_OK);
  size_t b_paras = res.paragraphs;

  /* Locking: a second writer is refused while the first is open. */
  {
    ps_index *ix2 = NULL;
    ps_error_clear(&err);
    CHECK_INT(ps_index_open(g_db, PS_INDEX_WRITE, &ix2, &err), PS_ERR_LOCKED);
    CHECK(strstr(err.msg, "another") != NULL);
  }
  /* Nothing is visible before the commit. */
  commit(ix);
  CHECK_INT(total("京津产业新城"), 2);
  CHECK_INT(total("alpha"), 1);
  CHECK_INT(count_only("alpha"), 1);
  CHECK_INT(total("通武廊"), 1);
  CHECK_INT(stats().paragraphs, a_paras + b_paras);

  /* Unchanged: skipped without reading. */
  CHECK_INT(add(ix, "a.md", &res), PS_OK);
  CHECK_INT(res.status, PS_ADD_UNCHANGED);

  /* Changed: the old paragraphs are superseded, never shown again. */
  write_file("a.md", A2, sizeof A2 - 1);
  CHECK_INT(add(ix, "a.md", &res), PS_OK);
  CHECK_INT(res.status, PS_ADD_INDEXED);
  CHECK_INT(res.replaced, 1);
  size_t a2_paras = res.paragraphs;
  commit(ix);
  CHECK_INT(total("alpha"), 0);
  CHECK_INT(count_only("alpha"), 0); /* the term is still there, superseded */
  CHECK_INT(total("omega"), 1);
  CHECK_INT(count_only("omega"), 1);
  CHECK_INT(total("通武廊"), 1);
  CHECK_INT(total("京津产业新城"), 1);
  CHECK_INT(stats().paragraphs, a2_paras + b_paras);
  CHECK_INT(stats().superseded, a_paras);

  /* Touched, same bytes: skipped by content hash. */
  {
    struct utimbuf ut = {1000000000, 1000000000};
    utime(path_of("a.md"), &ut);
    CHECK_INT(add(ix, "a.md", &res), PS_OK);
    CHECK_INT(res.status, PS_ADD_UNCHANGED);
  }

  /* Hostile input: binary and missing files fail alone, nothing is lost. */
  {
    static const char bin[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10";
    write_file("image.txt", bin, sizeof bin - 1);
    ps_error_clear(&err);
    CHECK_INT(ps_index_add_file(ix, path_of("image.txt"), NULL, &res, &err), PS_ERR_FORMAT);
    CHECK(strstr(err.msg, "image.txt") != NULL);
    ps_error_clear(&err);
    CHECK_INT(ps_index_add_file(ix, path_of("missing.txt"), NULL, &res, &err), PS_ERR_IO);
    CHECK(strstr(err.msg, "missing.txt") != NULL);
    commit(ix);
    CHECK_INT(total("通武廊"), 1);
  }

  /* Remove. */
  {
    size_t removed = 0;
    CHECK_INT(ps_index_remove(ix, path_of("b.md"), &removed, &err), PS_OK);
    CHECK_INT(removed, 1);
    commit(ix);
    CHECK_INT(total("大黄堡湿地"), 0);
    CHECK_INT(stats().files, 1);
    CHECK_INT(ps_index_remove(ix, path_of("nothing.md"), &removed, &err), PS_OK);
    CHECK_INT(removed, 0);
  }

  /* Optimise: superseded paragraphs are gone from the tables, results equal. */
  {
    ps_index_stats before = stats();
    CHECK(before.lastdocid > before.paragraphs);
    ps_error_clear(&err);
    int rc = ps_index_optimize(ix, &err);
    if (rc) fprintf(stderr, "optimize: %s\n", err.msg);
    CHECK_INT(rc, PS_OK);
    ps_index_stats after = stats();
    CHECK_INT(after.paragraphs, before.paragraphs);
    CHECK_INT(after.lastdocid, before.paragraphs);
    CHECK_INT(after.superseded, 0);
    CHECK(after.text_bytes < before.text_bytes);
    CHECK_INT(total("omega"), 1);
    CHECK_INT(count_only("omega"), 1);
    CHECK_INT(count_only("alpha"), 0); /* gone from the tables */
    CHECK_INT(total("通武廊"), 1);
    /* The writer still works after the swap. */
    write_file("b.md", B, sizeof B - 1);
    CHECK_INT(add(ix, "b.md", &res), PS_OK);
    commit(ix);
    CHECK_INT(total("大黄堡湿地"), 1);
  }

  /* A writer that dies before committing leaves nothing behind. */
  {
    write_file("c.md", "# c\n\n未提交的段落zeta。\n", strlen("# c\n\n未提交的段落zeta。\n"));
    CHECK_INT(add(ix, "c.md", &res), PS_OK);
    ps_index_close(ix); /* no commit */
    CHECK_INT(total("zeta"), 0);
    ix = writer();
  }

  /* Leftovers past the committed length (a crash between store write and
   * Xapian commit) are ignored by readers and cut off by the next writer. */
  {
    ps_index_close(ix);
    char p[512];
    snprintf(p, sizeof p, "%s/text.dat", g_db);
    FILE *f = fopen(p, "ab");
    fputs("garbage garbage garbage", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/text.idx", g_db);
    f = fopen(p, "ab");
    fputs("12345678", f);
    fclose(f);
    CHECK_INT(total("通武廊"), 1);
    ix = writer();
    CHECK_INT(add(ix, "c.md", &res), PS_OK);
    commit(ix);
    CHECK_INT(total("zeta"), 1);
    CHECK_INT(total("通武廊"), 1);
  }

  /* The shim: errors come back as codes and messages, never exceptions. */
  {
    ps_xdb *x = NULL;
    CHECK_INT(ps_xdb_delete(ps_index_xdb(ix), 1), PS_ERR_XAPIAN);
    CHECK(strlen(ps_xdb_errmsg(ps_index_xdb(ix))) > 0);
    CHECK(ps_xdb_open("/nonexistent/ps-db", PS_XDB_READ, 0, &x) != PS_OK);
    CHECK(strlen(ps_xdb_errmsg(x)) > 0);
    ps_xdb_close(x);
    char *v = NULL;
    size_t n = 1;
    CHECK_INT(ps_xdb_get_metadata(ps_index_xdb(ix), "no-such-key", &v, &n), PS_OK);
    CHECK_INT(n, 0);
    free(v);
  }

  /* A database of another tokenisation scheme is refused with advice. */
  {
    ps_xdb_set_metadata(ps_index_xdb(ix), "ps:scheme", "old-scheme", 10);
    commit(ix);
    ps_index_close(ix);
    ix = NULL;
    ps_error_clear(&err);
    CHECK_INT(ps_index_open(g_db, PS_INDEX_READ, &ix, &err), PS_ERR_SCHEME);
    CHECK(strstr(err.msg, "old-scheme") != NULL);
    CHECK_INT(ps_index_open(g_db, PS_INDEX_WRITE, &ix, &err), PS_ERR_SCHEME);
  }

  test_stub();
  test_shards();

  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
  return CHECK_DONE();
}
