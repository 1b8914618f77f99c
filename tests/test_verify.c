/* test_verify.c: queries whose candidates are verified on several threads
 * (thousands of candidates: a name of three characters or more) give the
 * same totals and pages as the scan of the text says, with false candidates
 * (both bigrams present, not adjacent), superseded paragraphs and a filter
 * in the mix. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ps_index.h"
#include "ps_search.h"

#define N_PARAS 6000

static char g_dir[256], g_db[300];

static const char *path_of(const char *name) {
  static char p[512];
  snprintf(p, sizeof p, "%s/%s", g_dir, name);
  return p;
}

/* Paragraph i of the generated report: i % 4 == 0 names 通武廊 (i % 8 == 0
 * twice), i % 4 == 1 has 通武 and 武廊 apart (a false candidate), the rest
 * neither.  Every paragraph has a number so that none is a duplicate. */
static void write_report(const char *name, int variant) {
  FILE *f = fopen(path_of(name), "wb");
  fprintf(f, "# 关于通武廊合作的报告\n\n");
  for (int i = 0; i < N_PARAS; i++) {
    if (i % 4 == 0)
      fprintf(f, "第%d项，深化通武廊%s合作，推进区域协同发展。\n\n", i,
              i % 8 == 0 ? "试验区和通武廊" : "");
    else if (i % 4 == 1)
      fprintf(f, "第%d项，加快通武大道建设，改造武廊公园设施%d。\n\n", i, variant);
    else
      fprintf(f, "第%d项，完善公共服务体系，提升治理能力%d。\n\n", i, variant);
  }
  fclose(f);
}

static long search_total(const char *q, size_t limit, ps_results **keep) {
  ps_index *ix = NULL;
  ps_results *r = NULL;
  ps_error err;
  ps_error_clear(&err);
  if (ps_index_open(g_db, PS_INDEX_READ, &ix, &err) != PS_OK) return -1;
  ps_search_opts o;
  memset(&o, 0, sizeof o);
  o.limit = limit;
  o.exact = 1;
  long t = -1;
  if (ps_search(ix, q, &o, &r, &err) == PS_OK) t = (long)r->total;
  else fprintf(stderr, "search %s: %s\n", q, err.msg);
  if (keep && r) { /* the page as "paragraph numbers", the index gone */
    for (size_t i = 0; i < r->n_hits; i++) r->hits[i].docid = r->hits[i].paragraph;
    *keep = r;
  } else {
    ps_results_free(r);
  }
  ps_index_close(ix);
  return t;
}

static int add_and_commit(const char *name) {
  ps_index *ix = NULL;
  ps_error err;
  ps_add_result res;
  ps_error_clear(&err);
  int rc = ps_index_open(g_db, PS_INDEX_WRITE, &ix, &err);
  if (rc == PS_OK) rc = ps_index_add_file(ix, path_of(name), NULL, &res, &err);
  if (rc == PS_OK) rc = ps_index_commit(ix, &err);
  if (rc) fprintf(stderr, "%s: %s\n", name, err.msg);
  ps_index_close(ix);
  return rc;
}

int main(void) {
  snprintf(g_dir, sizeof g_dir, "/tmp/ps-test-verify-XXXXXX");
  if (!mkdtemp(g_dir)) return 1;
  snprintf(g_db, sizeof g_db, "%s/db", g_dir);

  write_report("report.md", 1);
  CHECK_INT(add_and_commit("report.md"), PS_OK);
  long want = N_PARAS / 4 + 1; /* and the title line */
  CHECK_INT(search_total("通武廊", 0, NULL), want);       /* total alone */
  CHECK_INT(search_total("通武廊", 10, NULL), want);      /* with a page */
  CHECK_INT(search_total("通武廊合作", 0, NULL), N_PARAS / 4 + 1);
  CHECK_INT(search_total("通武廊 试验区", 10, NULL), N_PARAS / 8);
  CHECK_INT(search_total("通武廊 -试验区", 0, NULL), N_PARAS / 8 + 1);
  CHECK_INT(search_total("通武大道", 0, NULL), N_PARAS / 4);
  CHECK_INT(search_total("武廊公园设施1", 0, NULL), N_PARAS / 4);

  /* The page: the paragraphs naming 通武廊 twice first (a higher weight),
   * each page ordered the same way every time. */
  {
    ps_results *a = NULL, *b = NULL;
    search_total("通武廊", 20, &a);
    search_total("通武廊", 20, &b);
    CHECK(a && b && a->n_hits == 20 && b->n_hits == 20);
    for (size_t i = 0; a && b && i < a->n_hits && i < b->n_hits; i++) {
      CHECK_INT(a->hits[i].docid, b->hits[i].docid);
      CHECK(strstr(a->hits[i].text, "试验区和通武廊") != NULL);
    }
    ps_results_free(a);
    ps_results_free(b);
  }

  /* Re-indexed: the old paragraphs are superseded (candidates that the
   * verification must drop although their text matches). */
  write_report("report.md", 2);
  CHECK_INT(add_and_commit("report.md"), PS_OK);
  CHECK_INT(search_total("通武廊", 0, NULL), want);
  CHECK_INT(search_total("通武廊", 10, NULL), want);
  CHECK_INT(search_total("武廊公园设施1", 0, NULL), 0);
  CHECK_INT(search_total("武廊公园设施2", 10, NULL), N_PARAS / 4);

  /* A damaged record (a header that points past the file) is reported,
   * not silently left out of the hits. */
  {
    char p[600];
    snprintf(p, sizeof p, "%s/text.idx", g_db);
    FILE *idx = fopen(p, "rb");
    unsigned char e[8] = {0};
    uint32_t docid = N_PARAS + 2; /* the title of the re-indexed report */
    CHECK(idx && fseek(idx, (long)docid * 8, SEEK_SET) == 0 && fread(e, 1, 8, idx) == 8);
    if (idx) fclose(idx);
    long off = 0;
    for (int i = 7; i >= 0; i--) off = off << 8 | e[i];
    snprintf(p, sizeof p, "%s/text.dat", g_db);
    FILE *dat = fopen(p, "r+b");
    static const unsigned char huge[4] = {0xF0, 0xFF, 0xFF, 0x7F}; /* its normalised length */
    CHECK(dat && fseek(dat, off + 12, SEEK_SET) == 0 && fwrite(huge, 1, 4, dat) == 4);
    if (dat) fclose(dat);
    ps_index *ix = NULL;
    ps_results *r = NULL;
    ps_error err;
    ps_error_clear(&err);
    CHECK_INT(ps_index_open(g_db, PS_INDEX_READ, &ix, &err), PS_OK);
    ps_search_opts o;
    memset(&o, 0, sizeof o);
    o.exact = 1;
    for (int limit = 0; ix && limit <= 10; limit += 10) {
      o.limit = (size_t)limit;
      ps_error_clear(&err);
      CHECK_INT(ps_search(ix, "通武廊", &o, &r, &err), PS_ERR_CORRUPT);
      CHECK(strstr(err.msg, "damaged") != NULL);
      CHECK(r == NULL);
    }
    ps_index_close(ix);
  }

  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
  return CHECK_DONE();
}
