/* test_store.c: unit tests of the paragraph store's text patch (the text as
 * written kept as differences from the normalised text) and of records
 * written and read back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ps_store.h"
#include "ps_tok.h"

/* Patches s against its own normalisation and rebuilds it; returns the
 * patch length, or -1 when it does not give s back. */
static long roundtrip(const char *s, size_t len) {
  ps_norm n;
  unsigned char *patch = NULL;
  size_t plen = 0;
  long got = -1;
  if (ps_tok_normalize(s, len, 1, &n) != PS_OK) return -1;
  if (ps_store_patch(n.text, n.len, n.map, s, len, &patch, &plen) == PS_OK) {
    ps_store_rec rec;
    memset(&rec, 0, sizeof rec);
    rec.norm = n.text, rec.norm_len = n.len, rec.patch = patch, rec.patch_len = plen;
    char *text = NULL;
    size_t tlen = 0;
    if (ps_store_text(&rec, &text, &tlen) == PS_OK && tlen == len && !memcmp(text, s, len) &&
        text[tlen] == '\0')
      got = (long)plen;
    else
      fprintf(stderr, "roundtrip differs for \"%.*s\"\n", (int)len, s);
    free(text);
  }
  free(patch);
  ps_norm_free(&n);
  return got;
}

static long rt(const char *s) { return roundtrip(s, strlen(s)); }

int main(void) {
  /* The text is rebuilt byte for byte, whatever normalisation did to it. */
  CHECK_INT(rt(""), 0);
  CHECK_INT(rt("京津产业新城"), 0); /* nothing differs: empty patch */
  CHECK(rt("京津产业新城，通武廊；（一）") > 0);
  CHECK(rt("  2024 年 GDP 增长5.5%  ") > 0);      /* removed spaces, case */
  CHECK(rt("ＡＢＣ１２３ａｂｃ") > 0);              /* full-width letters, digits */
  CHECK(rt("發展與協同　發展") > 0);                  /* traditional, ideographic space */
  CHECK(rt("\t\n a  b \r\n") > 0);
  CHECK(rt("⑴①Ⅻ ﬁ ㎡ ℃") > 0);                  /* compatibility characters */
  CHECK(rt("e\xCC\x81t\xC3\xA9") >= 0);           /* combining accent: composed */
  CHECK(roundtrip("a\xFF\xFE" "b\xC3", 5) > 0);   /* invalid UTF-8 */
  CHECK(roundtrip("x\0y", 3) >= 0);               /* NUL inside */

  /* Full-width punctuation costs a byte or two, not the character. */
  {
    const char *s = "推进京津产业新城建设，加快通武廊合作（试点），完善体制机制：推动高质量发展！";
    long p = rt(s);
    CHECK(p > 0 && p <= 12);
  }

  /* A random walk over a mix of characters always rebuilds exactly. */
  {
    static const char *pieces[] = {"京", "，", " ", "  ", "A", "ａ", "發", "5", ".", "\t",
                                   "（", "Ⅻ", "\xE3\x80\x80", "\xFF", "é", "e\xCC\x81", "ﬁ",
                                   "-", "\n", "%"};
    unsigned seed = 12345;
    int bad = 0;
    for (int round = 0; round < 2000; round++) {
      char buf[256];
      size_t len = 0;
      int n = (int)(seed % 24);
      for (int k = 0; k < n; k++) {
        seed = seed * 1103515245u + 12345u;
        const char *pc = pieces[(seed >> 16) % (sizeof pieces / sizeof *pieces)];
        size_t pl = strlen(pc);
        memcpy(buf + len, pc, pl);
        len += pl;
      }
      seed = seed * 1103515245u + 12345u;
      if (roundtrip(buf, len) < 0) bad++;
    }
    CHECK_INT(bad, 0);
  }

  /* A map that does not describe the text: stored whole, still exact. */
  {
    const char *norm = "abc", *text = "xyz!";
    uint32_t map[4] = {0, 2, 1, 4}; /* not monotonic */
    unsigned char *patch = NULL;
    size_t plen = 0;
    CHECK_INT(ps_store_patch(norm, 3, map, text, 4, &patch, &plen), PS_OK);
    ps_store_rec rec;
    memset(&rec, 0, sizeof rec);
    rec.norm = norm, rec.norm_len = 3, rec.patch = patch, rec.patch_len = plen;
    char *got = NULL;
    size_t glen = 0;
    CHECK_INT(ps_store_text(&rec, &got, &glen), PS_OK);
    CHECK_STR(got, "xyz!");
    free(got);
    /* and a damaged patch is reported, not followed */
    rec.patch_len = plen - 1;
    CHECK_INT(ps_store_text(&rec, &got, &glen), PS_ERR_CORRUPT);
    free(patch);
  }

  /* Records written, synced and read back through the mapping. */
  {
    char dir[] = "/tmp/ps-test-store-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    ps_store *st = NULL;
    ps_error err;
    ps_error_clear(&err);
    /* repeated sections are stored once and referred back to */
    const char *texts[] = {"京津产业新城，全面起势。", "GDP 增长 5.5%", "", "（二）", "通武廊"};
    const char *secs[] = {"一、总体要求", "一、总体要求", "二、主要任务", "", "二、主要任务"};
    CHECK_INT(ps_store_open(dir, 1, 0, 0, &st, &err), PS_OK);
    for (uint32_t i = 0; st && i < 5; i++) {
      ps_norm n;
      CHECK_INT(ps_tok_normalize(texts[i], strlen(texts[i]), 1, &n), PS_OK);
      ps_store_rec r;
      memset(&r, 0, sizeof r);
      r.file_no = 7, r.para_no = i, r.heading_level = i == 0;
      r.norm = n.text, r.norm_len = n.len, r.norm_map = n.map;
      r.text = texts[i], r.text_len = strlen(texts[i]);
      r.section = secs[i], r.section_len = strlen(r.section);
      r.projects = i == 0 ? "京津产业新城\n" : "", r.projects_len = strlen(r.projects);
      CHECK_INT(ps_store_append(st, i + 1, &r, &err), PS_OK);
      ps_norm_free(&n);
    }
    uint64_t dl = 0, il = 0;
    CHECK_INT(ps_store_sync(st, &dl, &il, &err), PS_OK);
    ps_store_close(st);
    CHECK_INT(ps_store_open(dir, 0, dl, il, &st, &err), PS_OK);
    for (uint32_t i = 0; st && i < 5; i++) {
      ps_store_rec r;
      CHECK_INT(ps_store_get(st, i + 1, &r), PS_OK);
      CHECK(r.text == NULL);
      char *t = NULL;
      size_t tl = 0;
      CHECK_INT(ps_store_text(&r, &t, &tl), PS_OK);
      CHECK_STR(t, texts[i]);
      CHECK_INT(tl, strlen(texts[i]));
      CHECK_INT(r.para_no, i);
      CHECK_STR(r.section, secs[i]);
      CHECK_STR(r.projects, i == 0 ? "京津产业新城\n" : "");
      free(t);
    }
    ps_store_rec r;
    CHECK_INT(ps_store_get(st, 6, &r), PS_ERR_NOTFOUND);
    ps_store_rec a, b;
    CHECK_INT(ps_store_get(st, 1, &a), PS_OK);
    CHECK_INT(ps_store_get(st, 2, &b), PS_OK);
    CHECK(a.section == b.section); /* one copy in the file */
    ps_store_close(st);
    char path[256];
    snprintf(path, sizeof path, "%s/text.dat", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/text.idx", dir);
    unlink(path);
    rmdir(dir);
  }
  return CHECK_DONE();
}
