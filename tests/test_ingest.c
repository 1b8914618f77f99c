/* test_ingest.c: unit tests of document ingestion (ps_ingest.h, ps_doc.h).
 *
 * Small inline buffers check one rule each (line joining, page breaks and
 * page numbers, heading markers, Markdown, HTML, front matter, encodings,
 * binary rejection); then the five bundled corpus files are ingested and
 * checked for paragraph counts, headings, titles and for losing or
 * duplicating no text while rebuilding paragraphs.  Finally each corpus file
 * is converted with iconv(3) to GB18030 and UTF-16 (with and without BOM)
 * and must ingest to exactly the same document; a traditional-character
 * text in Big5 too; the encoding override, invalid GB18030 bytes, binary
 * files under any name and the pdftotext error paths (broken PDF, program
 * missing, program hanging) are checked on the way. */
#include "check.h"
#include "ps_doc.h"
#include "ps_ingest.h"

#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct warnings {
  int n;
  char last[1024];
} warnings;

static void on_warn(void *ctx, const char *msg) {
  warnings *w = ctx;
  w->n++;
  snprintf(w->last, sizeof w->last, "%s", msg);
}

static ps_doc *ingest(const char *name, const char *data, size_t len, warnings *w) {
  ps_ingest_opts o = {.warn = on_warn, .warn_ctx = w};
  ps_doc *d = NULL;
  ps_error e;
  int rc = ps_ingest_buffer(name, data, len, &o, &d, &e);
  if (rc) fprintf(stderr, "ingest %s failed: %s\n", name, e.msg);
  CHECK_INT(rc, PS_OK);
  return d;
}

static ps_doc *ingest_str(const char *name, const char *s) {
  warnings w = {0};
  ps_doc *d = ingest(name, s, strlen(s), &w);
  CHECK_INT(w.n, 0);
  return d;
}

/* The first paragraph whose text contains needle, or NULL. */
static const ps_para *find(const ps_doc *d, const char *needle) {
  for (size_t i = 0; d && i < d->n_paras; i++)
    if (strstr(d->paras[i].text, needle)) return &d->paras[i];
  return NULL;
}

static size_t count_containing(const ps_doc *d, const char *needle) {
  size_t k = 0;
  for (size_t i = 0; d && i < d->n_paras; i++) k += strstr(d->paras[i].text, needle) != NULL;
  return k;
}

/* ------------------------------------------------------------ unit cases */

static void test_cjk_join(void) {
  /* PDF shape: wrapped lines, blank lines between them, a word cut */
  ps_doc *d = ingest_str("join.txt",
                         "京津产业新城全面起势建设，七个产业功\n\n"
                         "能区定位优化调整，一体化管理体系全面\n\n"
                         "建立。\n");
  if (!d) return;
  CHECK_STR(d->format, "pdf-text");
  CHECK_INT(d->n_paras, 1);
  CHECK_STR(d->paras[0].text,
            "京津产业新城全面起势建设，七个产业功能区定位优化调整，一体化管理体系全面建立。");
  ps_doc_free(d);
}

static void test_latin_join(void) {
  ps_doc *d = ingest_str("latin.txt",
                         "武清区位于京津之间的英文名称为 Wuqing\n\n"
                         "District 的重要节点区域内地区生产总值\n\n"
                         "增长 5.5%。\n");
  if (!d) return;
  CHECK_INT(d->n_paras, 1);
  CHECK(find(d, "Wuqing District 的") != NULL);
  CHECK(find(d, "生产总值增长 5.5%") != NULL); /* digit/CJK spacing kept as written */
  ps_doc_free(d);
}

static void test_page_break_and_numbers(void) {
  ps_doc *d = ingest_str("pages.txt",
                         "全区经济和社会保持健康发展，地区生产\n\n"
                         "- 3 -\n\n"
                         "总值增长，一般公共预算收入增长较快的\n"
                         " 势头持续保持，居民人均可支配收入增长\n\n"
                         "— 4 —\n\n"
                         "2\n\n"
                         "较快。\n");
  if (!d) return;
  CHECK_INT(d->n_paras, 1);
  CHECK_STR(d->paras[0].text,
            "全区经济和社会保持健康发展，地区生产总值增长，一般公共预算收入增长较快的"
            "势头持续保持，居民人均可支配收入增长较快。");
  ps_doc_free(d);
}

static void test_heading_vs_yiban(void) {
  ps_doc *d = ingest_str("yiban.txt",
                         "一、总体情况回顾\n\n"
                         "一般公共预算收入 75亿元，其中税收收入占比\n\n"
                         "达到 76%，比 2016年提高 14个百分点。\n\n"
                         "一是加强组织领导，二是狠抓工作落实，三是\n\n"
                         "强化督促检查，确保取得实效实效实效实效。\n");
  if (!d) return;
  CHECK_INT(d->n_paras, 3);
  if (d->n_paras == 3) {
    CHECK_INT(d->paras[0].heading_level, 1);
    CHECK_STR(d->paras[0].section, "一、总体情况回顾");
    CHECK_INT(d->paras[1].heading_level, 0);
    CHECK_STR(d->paras[1].section, "一、总体情况回顾");
    CHECK_INT(d->paras[2].heading_level, 0);
  }
  ps_doc_free(d);
  /* one paragraph a line: 一批 / 一体化 are words, not markers */
  d = ingest_str("plain.txt", "一批项目签约落地。\n一体化发展持续深化。\n");
  if (!d) return;
  CHECK_STR(d->format, "text");
  CHECK_INT(d->n_paras, 2);
  for (size_t i = 0; i < d->n_paras; i++) CHECK_INT(d->paras[i].heading_level, 0);
  ps_doc_free(d);
}

static void test_first_sentence_heading(void) {
  ps_doc *d = ingest_str("levels.txt",
                         "一、2024 年计划执行情况\n"
                         "（一）坚持谋大局、扩优势，京津冀协同发展连创佳绩。“新产业之城”建设提速。京津产业新城全面起势建设。\n"
                         "举办京津产业新城系列招商推介活动。\n"
                         "1. 提质升级功能园区。优化调整产业发展定位。\n"
                         "（二）坚持强产业、促转化，新动能持续培育壮大。重点产业链蓬勃发展。\n"
                         "二、2025 年主要目标任务\n"
                         "正文。\n");
  if (!d) return;
  CHECK_INT(d->n_paras, 7);
  if (d->n_paras == 7) {
    const char *h1 = "一、2024 年计划执行情况";
    const char *h2 = "一、2024 年计划执行情况 › （一）坚持谋大局、扩优势，京津冀协同发展连创佳绩";
    CHECK_INT(d->paras[1].heading_level, 2);
    CHECK_STR(d->paras[0].section, h1);
    CHECK_STR(d->paras[1].section, h2);
    CHECK_STR(d->paras[2].section, h2);
    CHECK_INT(d->paras[2].heading_level, 0);
    CHECK_INT(d->paras[3].heading_level, 3);
    CHECK_STR(d->paras[3].section,
              "一、2024 年计划执行情况 › （一）坚持谋大局、扩优势，京津冀协同发展连创佳绩 › "
              "1. 提质升级功能园区");
    /* （二） closes （一） and the 1. under it */
    CHECK_INT(d->paras[4].heading_level, 2);
    CHECK_STR(d->paras[4].section,
              "一、2024 年计划执行情况 › （二）坚持强产业、促转化，新动能持续培育壮大");
    CHECK_INT(d->paras[5].heading_level, 1);
    CHECK_STR(d->paras[6].section, "二、2025 年主要目标任务");
    /* the paragraph text itself is kept whole */
    CHECK(strstr(d->paras[1].text, "京津产业新城全面起势建设。") != NULL);
  }
  ps_doc_free(d);
}

static void test_markdown(void) {
  ps_doc *d = ingest_str("doc.md",
                         "# 关于武清区计划执行情况的报告\n\n"
                         "## 一、执行情况\n\n"
                         "这是[链接文字](http://example.com/a) 和 ![图片](a.png) 以及 **加粗** 与 *强调* 文本。\n\n"
                         "- 1. 地区生产总值同比增长 5%\n"
                         "- 2. 农业总产值同比增长 3%\n\n"
                         "(一)聚焦协同发展,先行示范作用进一步显现。顶层设计日臻\n\n"
                         "完善。以融入京津冀协同发展为导向。\n");
  if (!d) return;
  CHECK_STR(d->format, "markdown");
  CHECK_STR(d->title, "关于武清区计划执行情况的报告");
  CHECK_INT(d->n_paras, 6);
  if (d->n_paras == 6) {
    CHECK_INT(d->paras[0].heading_level, 1);
    CHECK_STR(d->paras[0].text, "关于武清区计划执行情况的报告");
    CHECK(d->paras[1].heading_level > 0);
    CHECK_STR(d->paras[1].text, "一、执行情况");
    CHECK_STR(d->paras[2].section, "一、执行情况");
    const char *t = d->paras[2].text;
    CHECK(strstr(t, "这是链接文字 和") != NULL);
    CHECK(strstr(t, "加粗 与 强调 文本。") != NULL);
    CHECK(!strstr(t, "http") && !strstr(t, "*") && !strstr(t, "图片") && !strstr(t, "]"));
    CHECK_STR(d->paras[3].text, "1. 地区生产总值同比增长 5%");
    CHECK_INT(d->paras[3].heading_level, 0); /* list items are body text */
    /* a paragraph cut mid-sentence (page break) continues in the next one */
    CHECK_STR(d->paras[5].text,
              "(一)聚焦协同发展,先行示范作用进一步显现。顶层设计日臻完善。以融入京津冀协同发展为导向。");
    CHECK(d->paras[5].heading_level > d->paras[1].heading_level);
    CHECK_STR(d->paras[5].section, "一、执行情况 › (一)聚焦协同发展,先行示范作用进一步显现");
  }
  ps_doc_free(d);
}

static void test_front_matter_html(void) {
  ps_doc *d = ingest_str("post.html",
                         "---\nlayout: post\ntitle: \"武清区实施提升工程\"\n"
                         "date: 2022-02-28 08:31:37 +0800\n---\n"
                         "<p><strong>天津北方网讯：</strong>武清区&amp;北辰区&nbsp;合作。</p>\n"
                         " <p>(记者某某)</p>\n\n"
                         "[返回北方网新闻](//example.com/news.html)｜[返回首页](//example.com/)\n");
  if (!d) return;
  CHECK_STR(d->format, "html");
  CHECK_STR(d->title, "武清区实施提升工程");
  CHECK_STR(d->date, "2022-02-28");
  CHECK_INT(d->n_paras, 3);
  if (d->n_paras == 3) {
    CHECK_STR(d->paras[0].text, "天津北方网讯：武清区&北辰区 合作。");
    CHECK_STR(d->paras[1].text, "(记者某某)");
    CHECK_STR(d->paras[2].text, "返回北方网新闻｜返回首页");
  }
  ps_doc_free(d);
  /* front matter is recognised in any format */
  d = ingest_str("note.txt", "---\ntitle: 通知\ndate: 2021-12-20\n---\n现将报告印发给你们。\n");
  if (!d) return;
  CHECK_STR(d->title, "通知");
  CHECK_STR(d->date, "2021-12-20");
  CHECK_INT(d->n_paras, 1);
  ps_doc_free(d);
}

static void test_html_structure(void) {
  ps_doc *d = ingest_str("page.htm",
                         "<!DOCTYPE html><html><head><title>页面标题</title>"
                         "<style>p { color: red }</style></head><body>"
                         "<script>var x = 1;</script>"
                         "<p>第一行<br>第二行</p><h2>小标题</h2><div>块内容</div>"
                         "<ul><li>条目甲</li><li>条目乙</li></ul><p>   </p></body></html>");
  if (!d) return;
  CHECK_STR(d->title, "页面标题");
  CHECK_INT(d->n_paras, 6);
  if (d->n_paras == 6) {
    CHECK_STR(d->paras[0].text, "第一行");
    CHECK_STR(d->paras[1].text, "第二行");
    CHECK_STR(d->paras[2].text, "小标题");
    CHECK_INT(d->paras[2].heading_level, 2);
    CHECK_STR(d->paras[3].text, "块内容");
    CHECK_STR(d->paras[3].section, "小标题");
    CHECK_STR(d->paras[5].text, "条目乙");
  }
  CHECK(find(d, "var x") == NULL && find(d, "color") == NULL);
  ps_doc_free(d);
  /* no extension: sniffed */
  d = ingest_str("noext", "<p>甲</p><p>乙</p>");
  if (d) {
    CHECK_STR(d->format, "html");
    CHECK_INT(d->n_paras, 2);
  }
  ps_doc_free(d);
  d = ingest_str("noext2", "# 标题\n\n正文。\n");
  if (d) CHECK_STR(d->format, "markdown");
  ps_doc_free(d);
}

static void test_encodings(void) {
  /* UTF-8 BOM stripped */
  ps_doc *d = ingest_str("bom.md", "\xEF\xBB\xBF# 标题文字很长\n\n正文。\n");
  if (d && d->n_paras) CHECK_STR(d->paras[0].text, "标题文字很长");
  ps_doc_free(d);
  /* UTF-16LE and BE with a BOM: 中文。 */
  static const char le[] = "\xFF\xFE\x2D\x4E\x87\x65\x02\x30";
  static const char be[] = "\xFE\xFF\x4E\x2D\x65\x87\x30\x02";
  warnings w = {0};
  d = ingest("le.txt", le, sizeof le - 1, &w);
  if (d && d->n_paras) CHECK_STR(d->paras[0].text, "中文。");
  ps_doc_free(d);
  d = ingest("be.txt", be, sizeof be - 1, &w);
  if (d && d->n_paras) CHECK_STR(d->paras[0].text, "中文。");
  ps_doc_free(d);
  /* GB18030 (not valid UTF-8): 中文。 */
  d = ingest("gb.txt", "\xD6\xD0\xCE\xC4\xA1\xA3", 6, &w);
  if (d && d->n_paras) CHECK_STR(d->paras[0].text, "中文。");
  ps_doc_free(d);
  CHECK_INT(w.n, 0);
}

static void test_invalid_utf8(void) {
  warnings w = {0};
  const char s[] = "天津市武清区国民经济和社会发展\xFF\xFE情况良好\xC3。\n";
  ps_doc *d = ingest("bad.txt", s, sizeof s - 1, &w);
  CHECK_INT(w.n, 1);
  CHECK_STR(w.last, "bad.txt: 3 invalid UTF-8 sequences, first at byte 45; replaced by U+FFFD");
  if (d && d->n_paras == 1)
    CHECK_STR(d->paras[0].text,
              "天津市武清区国民经济和社会发展\xEF\xBF\xBD\xEF\xBF\xBD情况良好\xEF\xBF\xBD。");
  ps_doc_free(d);
}

static void test_binary_empty_crlf(void) {
  ps_doc *d = (ps_doc *)1;
  ps_error e;
  CHECK_INT(ps_ingest_buffer("bin.dat", "abc\0def", 7, NULL, &d, &e), PS_ERR_FORMAT);
  CHECK_STR(e.msg, "bin.dat: binary file, not indexed");
  CHECK(d == NULL);
  static const char junk[] = "\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10\x11" "ab";
  CHECK_INT(ps_ingest_buffer("junk.bin", junk, sizeof junk - 1, NULL, &d, &e), PS_ERR_FORMAT);

  d = ingest_str("empty.txt", "");
  if (d) {
    CHECK_INT(d->n_paras, 0);
    CHECK_STR(d->title, "");
    CHECK_STR(d->date, "");
  }
  ps_doc_free(d);
  d = ingest_str("blank.md", "\n  \n\t\n");
  if (d) CHECK_INT(d->n_paras, 0);
  ps_doc_free(d);

  d = ingest_str("crlf.txt", "第一段内容。\r\n\r\n第二段内容。\r\n");
  if (d) {
    CHECK_INT(d->n_paras, 2);
    for (size_t i = 0; i < d->n_paras; i++) CHECK(!strchr(d->paras[i].text, '\r'));
  }
  ps_doc_free(d);

  CHECK_INT(ps_ingest_file(PS_SOURCE_DIR "/no/such/file.txt", NULL, &d, &e), PS_ERR_NOTFOUND);
  CHECK(strstr(e.msg, "no/such/file.txt") != NULL);
}

/* ------------------------------------------------------------- corpus */

static ps_doc *load(const char *file) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", PS_CORPUS_DIR, file);
  warnings w = {0};
  ps_ingest_opts o = {.warn = on_warn, .warn_ctx = &w};
  ps_doc *d = NULL;
  ps_error e;
  int rc = ps_ingest_file(path, &o, &d, &e);
  if (rc) fprintf(stderr, "%s: %s\n", file, e.msg);
  CHECK_INT(rc, PS_OK);
  CHECK_INT(w.n, 0);
  return d;
}

static char *slurp(const char *file, size_t *len) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", PS_CORPUS_DIR, file);
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = malloc((size_t)n + 1);
  if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
    free(s);
    s = NULL;
  }
  fclose(f);
  if (s) s[n] = '\0';
  *len = (size_t)n;
  return s;
}

/* Appends s to out with all whitespace (ASCII, U+3000, U+00A0) removed. */
static size_t squeeze(const char *s, size_t n, char *out) {
  size_t k = 0;
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      i++;
    } else if (i + 2 < n && !memcmp(s + i, "\xE3\x80\x80", 3)) {
      i += 3;
    } else if (i + 1 < n && !memcmp(s + i, "\xC2\xA0", 2)) {
      i += 2;
    } else {
      out[k++] = s[i++];
    }
  }
  return k;
}

/* A page-number line as dropped by PDF rebuilding: digits and dashes. */
static int page_number_line(const char *s, size_t n) {
  int digits = 0;
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    if (c >= '0' && c <= '9') { digits++; i++; }
    else if (c == ' ' || c == '-' || c == '\t') i++;
    else if (i + 2 < n + 0 && (!memcmp(s + i, "\xE2\x80\x94", 3) || !memcmp(s + i, "\xE2\x80\x93", 3))) i += 3;
    else return 0;
  }
  return digits > 0 && digits <= 4;
}

/* No text lost or duplicated: the file without whitespace (and, for PDF
 * extractions, without page-number lines) equals the concatenated
 * paragraphs without whitespace. */
static void check_lossless(const char *file, const ps_doc *d, int pdf) {
  size_t n, k = 0;
  char *raw = slurp(file, &n);
  CHECK(raw != NULL);
  if (!raw || !d) {
    free(raw);
    return;
  }
  char *a = malloc(n + 1), *b = malloc(n + 1);
  for (size_t i = 0; i < n;) {
    const char *nl = memchr(raw + i, '\n', n - i);
    size_t e = nl ? (size_t)(nl - raw) : n;
    if (!(pdf && page_number_line(raw + i, e - i))) k += squeeze(raw + i, e - i, a + k);
    i = e + 1;
  }
  size_t m = 0, total = 0;
  for (size_t i = 0; i < d->n_paras; i++) total += d->paras[i].len;
  char *cat = malloc(total + 1);
  for (size_t i = 0; i < d->n_paras; i++) {
    memcpy(cat + m, d->paras[i].text, d->paras[i].len);
    m += d->paras[i].len;
  }
  size_t bl = squeeze(cat, m, b);
  CHECK_INT(bl, k);
  CHECK(k > 4000);
  CHECK(bl == k && memcmp(a, b, k) == 0);
  if (bl != k || memcmp(a, b, k) != 0) {
    size_t i = 0;
    while (i < k && i < bl && a[i] == b[i]) i++;
    fprintf(stderr, "%s: text differs at byte %zu: file \"%.60s\" vs paragraphs \"%.60s\"\n",
            file, i, a + i, b + i);
  }
  free(cat);
  free(a);
  free(b);
  free(raw);
}

static void check_common(const ps_doc *d, size_t lo, size_t hi) {
  if (!d) return;
  CHECK(d->n_paras >= lo && d->n_paras <= hi);
  for (size_t i = 0; i < d->n_paras; i++) {
    const ps_para *p = &d->paras[i];
    CHECK_INT(p->len, strlen(p->text));
    CHECK(p->len > 0 && !strchr(p->text, '\n') && !strchr(p->text, '\r'));
    CHECK(strspn(p->text, " \t") < p->len); /* never whitespace-only */
    CHECK(p->text[0] != ' ' && p->text[p->len - 1] != ' ');
    /* a heading's own section path ends with (a prefix of) itself */
    if (p->heading_level > 0) CHECK(p->section[0] != '\0');
  }
}

static void test_corpus_2024(void) {
  const char *f = "wuqing-2024-plan-execution-report.txt";
  ps_doc *d = load(f);
  if (!d) return;
  CHECK_STR(d->format, "pdf-text");
  check_common(d, 35, 70);
  CHECK_STR(d->title, "关于天津市武清区 2024年国民经济和社会发展计划执行情况与 "
                      "2025年国民经济和社会发展计划草案的报告");
  /* 产业功 / 能区 is cut across lines in the file (lines 43-45); the word
   * also occurs once unbroken (line 374), in another paragraph */
  CHECK_INT(count_containing(d, "产业功能区"), 2);
  CHECK(find(d, "7个产业功能区定位优化调整") != NULL);
  CHECK(find(d, "产业功\n") == NULL);
  /* every （一）..（九） and 一、..九、 paragraph is a heading */
  static const char *const pm[] = {"（一）", "（二）", "（三）", "（四）", "（五）", "（六）",
                                   "（七）", "（八）", "（九）", "一、", "二、", "三、",
                                   "四、", "五、", "六、", "七、", "八、", "九、"};
  size_t marked = 0;
  for (size_t i = 0; i < d->n_paras; i++)
    for (size_t j = 0; j < sizeof pm / sizeof pm[0]; j++)
      if (!strncmp(d->paras[i].text, pm[j], strlen(pm[j]))) {
        marked++;
        if (d->paras[i].heading_level <= 0)
          fprintf(stderr, "not a heading: %.80s\n", d->paras[i].text);
        CHECK(d->paras[i].heading_level > 0);
      }
  CHECK_INT(marked, 13); /* 一、二、 + （一）-（五） + （一）-（六） */
  const ps_para *p = find(d, "（一）坚持谋大局");
  CHECK(p != NULL);
  if (p)
    CHECK_STR(p->section, "一、2024 年国民经济和社会发展计划执行情况 › "
                          "（一）坚持谋大局、扩优势，京津冀协同发展连创佳绩");
  p = find(d, "各位代表：");
  CHECK(p && p->len == strlen("各位代表："));
  p = find(d, "——在天津市武清区");
  CHECK(p && !strcmp(p->text, "——在天津市武清区第六届人民代表大会第六次会议上审议通过"));
  check_lossless(f, d, 1);
  ps_doc_free(d);
}

static void test_corpus_xiqing(void) {
  const char *f = "xiqing-2021-government-work-report.txt";
  ps_doc *d = load(f);
  if (!d) return;
  CHECK_STR(d->format, "pdf-text");
  check_common(d, 55, 100);
  CHECK_STR(d->title, "天津市西青区人民政府关于印发政府工作报告的通知");
  const ps_para *p = find(d, "一般公共预算收入 75亿元");
  CHECK(p != NULL);
  if (p) CHECK_INT(p->heading_level, 0);
  for (size_t i = 0; i < d->n_paras; i++)
    if (!strncmp(d->paras[i].text, "一般", 6)) CHECK_INT(d->paras[i].heading_level, 0);
  p = find(d, "各位代表：");
  CHECK(p && !strcmp(p->text, "各位代表："));
  p = find(d, "（此件主动公开）");
  CHECK(p && !strcmp(p->text, "（此件主动公开）"));
  p = find(d, "（一）发展质量明显提升");
  CHECK(p && p->heading_level == 2 && !strcmp(p->section, "一、过去五年工作回顾 › （一）发展质量明显提升"));
  /* the stray URL in the extraction stays inside its paragraph */
  p = find(d, "http://www.baidu.com/link");
  CHECK(p && strstr(p->text, "顺利开诊"));
  check_lossless(f, d, 1);
  ps_doc_free(d);
}

static void test_corpus_outline(void) {
  const char *f = "wuqing-14th-five-year-plan-outline.txt";
  ps_doc *d = load(f);
  if (!d) return;
  CHECK_STR(d->format, "text");
  check_common(d, 140, 200);
  const ps_para *p = find(d, "第一章  全面建成高质量小康社会，");
  CHECK(p != NULL);
  if (p) {
    CHECK_STR(p->text, "第一章  全面建成高质量小康社会，开启全面建设京津明珠幸福武清新征程");
    CHECK_INT(p->heading_level, 1);
  }
  p = find(d, "第一节  发展基础");
  CHECK(p && p->heading_level == 2);
  p = find(d, "第二章  “十四五”时期武清经济社会发展指导思想和主要目标");
  CHECK(p && p->heading_level == 1);
  /* a flattened table row is one paragraph */
  p = find(d, "单位GDP能源消耗降低");
  CHECK(p && !strcmp(p->text, "9 单位GDP能源消耗降低（%） 〔17〕 完成市级下达任务目标 约束性"));
  p = find(d, "〔 〕数据为五年累计数");
  CHECK(p && p->heading_level == 0); /* 2． after a note is not a heading */
  check_lossless(f, d, 0);
  ps_doc_free(d);
}

static void test_corpus_markdown(void) {
  ps_doc *d = load("wuqing-2022-plan-execution-report.md");
  if (!d) return;
  CHECK_STR(d->format, "markdown");
  check_common(d, 60, 100);
  CHECK(strncmp(d->title, "关于天津市武清区 2022 年国民经济", 20) == 0);
  const ps_para *p = find(d, "一、2022年国民经济和社会发展计划执行情况");
  CHECK(p && p->heading_level == 1);
  p = find(d, "二、2023年国民经济和社会发展的主要目标任务"); /* "####" but a peer of 一、 */
  CHECK(p && p->heading_level == 1);
  p = find(d, "(三)聚焦科技引领");
  CHECK(p && p->heading_level == 2 && strstr(p->text, "新兴动能快速成长"));
  CHECK(find(d, "**") == NULL && find(d, "](") == NULL);
  for (size_t i = 0; i < d->n_paras; i++) CHECK(d->paras[i].text[0] != '#');
  ps_doc_free(d);
}

static void test_corpus_news(void) {
  ps_doc *d = load("wuqing-2022-upgrade-programmes-news.html");
  if (!d) return;
  CHECK_STR(d->format, "html");
  check_common(d, 9, 13);
  CHECK_STR(d->title, "武清区实施提升工程 打造京津冀协同发展先行区");
  CHECK_STR(d->date, "2022-02-28");
  CHECK(find(d, "<p>") == NULL && find(d, "strong") == NULL && find(d, "layout:") == NULL);
  const ps_para *p = find(d, "天津北方网讯");
  CHECK(p && p == &d->paras[0]);
  CHECK(find(d, "返回北方网新闻｜返回首页") != NULL);
  ps_doc_free(d);
}

/* ------------------------------------------------------- other encodings */

/* Converts s[0..n) from UTF-8 to `to` with iconv(3), after the bytes of
 * prefix[0..pn) (a BOM); NULL when a character cannot be encoded. */
static char *encode(const char *to, const char *s, size_t n, const char *prefix, size_t pn,
                    size_t *out_len) {
  iconv_t cd = iconv_open(to, "UTF-8");
  if (cd == (iconv_t)-1) return NULL;
  size_t cap = n * 4 + pn + 16;
  char *buf = malloc(cap), *ip = (char *)s, *op = buf + pn;
  size_t il = n, ol = cap - pn;
  memcpy(buf, prefix, pn);
  if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 || iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1) {
    free(buf);
    buf = NULL;
  } else {
    *out_len = cap - ol;
  }
  iconv_close(cd);
  return buf;
}

/* Both documents have exactly the same title, date, format and paragraphs
 * (text, section, heading level). */
static int same_doc(const char *what, const ps_doc *a, const ps_doc *b) {
  int ok = a && b && !strcmp(a->title, b->title) && !strcmp(a->date, b->date) &&
           !strcmp(a->format, b->format) && a->n_paras == b->n_paras;
  for (size_t i = 0; ok && i < a->n_paras; i++) {
    const ps_para *p = &a->paras[i], *q = &b->paras[i];
    if (strcmp(p->text, q->text) || strcmp(p->section, q->section) ||
        p->heading_level != q->heading_level) {
      fprintf(stderr, "%s: paragraph %zu differs:\n  \"%.80s\"\n  \"%.80s\"\n", what, i,
              p->text, q->text);
      ok = 0;
    }
  }
  if (!ok && a && b && a->n_paras != b->n_paras)
    fprintf(stderr, "%s: %zu paragraphs, expected %zu\n", what, b->n_paras, a->n_paras);
  return ok;
}

static const char *const corpus_files[] = {
    "wuqing-2024-plan-execution-report.txt", "xiqing-2021-government-work-report.txt",
    "wuqing-14th-five-year-plan-outline.txt", "wuqing-2022-plan-execution-report.md",
    "wuqing-2022-upgrade-programmes-news.html"};

static void test_corpus_encodings(void) {
  static const struct {
    const char *enc, *bom;
    size_t bom_len;
  } encs[] = {{"GB18030", "", 0},
              {"UTF-16LE", "\xFF\xFE", 2},
              {"UTF-16BE", "\xFE\xFF", 2},
              {"UTF-16LE", "", 0}, /* no BOM: told by its NUL bytes */
              {"UTF-16BE", "", 0}};
  for (size_t f = 0; f < sizeof corpus_files / sizeof corpus_files[0]; f++) {
    size_t n;
    char *raw = slurp(corpus_files[f], &n);
    ps_doc *orig = load(corpus_files[f]);
    CHECK(raw && orig);
    for (size_t e = 0; raw && orig && e < sizeof encs / sizeof encs[0]; e++) {
      size_t m = 0;
      char *conv = encode(encs[e].enc, raw, n, encs[e].bom, encs[e].bom_len, &m);
      CHECK(conv != NULL);
      if (!conv) continue;
      char what[256];
      snprintf(what, sizeof what, "%s as %s%s", corpus_files[f], encs[e].enc,
               encs[e].bom_len ? " with BOM" : "");
      warnings w = {0};
      ps_doc *d = ingest(corpus_files[f], conv, m, &w);
      CHECK_INT(w.n, 0);
      if (!same_doc(what, orig, d)) CHECK(!what[0]);
      ps_doc_free(d);
      /* the override gives the same, detection or not */
      ps_ingest_opts o = {.warn = on_warn, .warn_ctx = &w,
                          .encoding = encs[e].bom_len ? "UTF-16" : encs[e].enc};
      ps_error err;
      d = NULL;
      CHECK_INT(ps_ingest_buffer(corpus_files[f], conv, m, &o, &d, &err), PS_OK);
      if (!same_doc(what, orig, d)) CHECK(!"override");
      CHECK_INT(w.n, 0);
      ps_doc_free(d);
      free(conv);
    }
    ps_doc_free(orig);
    free(raw);
  }
}

/* Traditional characters (Big5 has no simplified ones), detected among
 * GB18030 and Big5 by the characters each decoding gives. */
static void test_big5(void) {
  static const char trad[] =
      "關於臺北市推動產業發展的報告\n\n"
      "一、總體情況\n\n"
      "本市經濟穩定發展，產業結構持續優化，國際合作不斷深化，"
      "全年地區生產總值增長百分之三點五。\n\n"
      "二、主要任務\n\n"
      "（一）加強科技創新。推動企業數位轉型，培育新興產業，"
      "擴大研究與開發投入，提升公共服務水準。\n\n"
      "（二）改善居民生活。興建社會住宅，健全醫療與長期照顧體系。\n";
  size_t n = 0;
  char *b5 = encode("BIG5", trad, sizeof trad - 1, "", 0, &n);
  CHECK(b5 != NULL);
  if (!b5) return;
  ps_doc *orig = ingest_str("trad.txt", trad);
  warnings w = {0};
  ps_doc *d = ingest("trad.txt", b5, n, &w);
  CHECK_INT(w.n, 0);
  CHECK(same_doc("Big5", orig, d));
  if (d && d->n_paras > 2) {
    CHECK_STR(d->title, "關於臺北市推動產業發展的報告");
    CHECK_INT(d->paras[1].heading_level, 1);
  }
  ps_doc_free(d);
  /* a short line too */
  d = ingest("short.txt", "\xA4\xA4\xA4\xE5\xA1\x43", 6, &w); /* 中文。 */
  if (d && d->n_paras) CHECK_STR(d->paras[0].text, "中文。");
  ps_doc_free(d);
  /* the same text in GB18030 stays GB18030 */
  size_t gn = 0;
  char *gb = encode("GB18030", trad, sizeof trad - 1, "", 0, &gn);
  d = gb ? ingest("trad-gb.txt", gb, gn, &w) : NULL;
  CHECK(same_doc("traditional text in GB18030", orig, d));
  ps_doc_free(d);
  free(gb);
  ps_doc_free(orig);
  free(b5);
}

static void test_encoding_override(void) {
  warnings w = {0};
  ps_error e;
  ps_doc *d = NULL;
  static const char gb[] = "\xD6\xD0\xCE\xC4\xA1\xA3"; /* 中文。 in GB18030 */
  ps_ingest_opts o = {.warn = on_warn, .warn_ctx = &w, .encoding = "gbk"};
  CHECK_INT(ps_ingest_buffer("gb.txt", gb, 6, &o, &d, &e), PS_OK);
  if (d && d->n_paras) CHECK_STR(d->paras[0].text, "中文。");
  ps_doc_free(d);
  CHECK_INT(w.n, 0);
  /* forcing UTF-8: no conversion, the bytes become U+FFFD with a warning */
  o.encoding = "UTF-8";
  CHECK_INT(ps_ingest_buffer("gb.txt", gb, 6, &o, &d, &e), PS_OK);
  CHECK_INT(w.n, 1);
  CHECK(strstr(w.last, "gb.txt: ") == w.last && strstr(w.last, "invalid UTF-8") &&
        strstr(w.last, "at byte 0"));
  ps_doc_free(d);
  /* Big5 bytes forced to be read as GB18030: garbage, but what was asked */
  o.encoding = "GB18030";
  w.n = 0;
  CHECK_INT(ps_ingest_buffer("b5.txt", "\xA4\xA4\xA4\xE5", 4, &o, &d, &e), PS_OK);
  if (d && d->n_paras) CHECK(strcmp(d->paras[0].text, "中文") != 0);
  ps_doc_free(d);
  o.encoding = "BIG5";
  CHECK_INT(ps_ingest_buffer("b5.txt", "\xA4\xA4\xA4\xE5", 4, &o, &d, &e), PS_OK);
  if (d && d->n_paras) CHECK_STR(d->paras[0].text, "中文");
  ps_doc_free(d);
  /* latin1, which detection never picks */
  o.encoding = "ISO-8859-1";
  CHECK_INT(ps_ingest_buffer("l1.txt", "caf\xE9 cr\xE8me.", 11, &o, &d, &e), PS_OK);
  if (d && d->n_paras) CHECK_STR(d->paras[0].text, "café crème.");
  ps_doc_free(d);
  /* an unknown name: a usage error naming it */
  o.encoding = "NO-SUCH-ENCODING-42";
  d = (ps_doc *)1;
  CHECK_INT(ps_ingest_buffer("x.txt", "abc", 3, &o, &d, &e), PS_ERR_USAGE);
  CHECK(d == NULL);
  CHECK(strstr(e.msg, "unknown encoding 'NO-SUCH-ENCODING-42'") != NULL);
  CHECK_INT(w.n, 0);
}

/* An invalid byte in the middle of a GB18030 file: one warning with its
 * offset, U+FFFD in its place, everything else kept. */
static void test_invalid_gb18030(void) {
  const char *f = "wuqing-2024-plan-execution-report.txt";
  size_t n, gn = 0, pn = 0;
  char *raw = slurp(f, &n);
  ps_doc *orig = load(f);
  char *gb = raw ? encode("GB18030", raw, n, "", 0, &gn) : NULL;
  char *needle = encode("GB18030", "通武廊", strlen("通武廊"), "", 0, &pn);
  CHECK(gb && needle && orig);
  if (!gb || !needle || !orig) goto done;
  /* the first 通武廊 after the first third of the file (at 44%) */
  const char *at = memmem(gb + gn / 3, gn - gn / 3, needle, pn);
  CHECK(at != NULL);
  if (!at) goto done;
  size_t off = (size_t)(at - gb);
  char *bad = malloc(gn + 1);
  memcpy(bad, gb, off);
  bad[off] = '\xFF';
  memcpy(bad + off + 1, gb + off, gn - off);
  warnings w = {0};
  ps_doc *d = ingest(f, bad, gn + 1, &w);
  char expect[256];
  snprintf(expect, sizeof expect,
           "%s: 1 invalid GB18030 sequence, first at byte %zu; replaced by U+FFFD", f, off);
  CHECK_INT(w.n, 1);
  CHECK_STR(w.last, expect);
  /* the same paragraphs, one of them with U+FFFD before 通武廊 */
  CHECK(d && d->n_paras == orig->n_paras);
  size_t changed = 0;
  for (size_t i = 0; d && d->n_paras == orig->n_paras && i < d->n_paras; i++) {
    if (!strcmp(d->paras[i].text, orig->paras[i].text)) continue;
    changed++;
    CHECK(strstr(d->paras[i].text, "\xEF\xBF\xBD通武廊") != NULL);
    CHECK_INT(d->paras[i].len, orig->paras[i].len + 3);
  }
  CHECK_INT(changed, 1);
  ps_doc_free(d);
  /* a truncated sequence at the very end */
  w.n = 0;
  bad[gn] = '\x81';
  memcpy(bad, gb, gn);
  d = ingest(f, bad, gn + 1, &w);
  CHECK_INT(w.n, 1);
  snprintf(expect, sizeof expect, "first at byte %zu;", gn);
  CHECK(strstr(w.last, expect) != NULL);
  /* after the final line end: a paragraph of its own */
  CHECK(d && d->n_paras == orig->n_paras + 1);
  if (d && d->n_paras) CHECK_STR(d->paras[d->n_paras - 1].text, "\xEF\xBF\xBD");
  ps_doc_free(d);
  free(bad);
done:
  free(needle);
  free(gb);
  free(raw);
  ps_doc_free(orig);
}

static void test_utf16_no_bom_and_binary(void) {
  warnings w = {0};
  /* UTF-16LE and BE without BOM, no extension */
  static const char two[] = "中文。\n\n第二行一二三。\n";
  size_t len = 0;
  for (int be = 0; be < 2; be++) {
    char *u16 = encode(be ? "UTF-16BE" : "UTF-16LE", two, sizeof two - 1, "", 0, &len);
    ps_doc *d = u16 ? ingest("noext", u16, len, &w) : NULL;
    CHECK(d && d->n_paras == 2);
    if (d && d->n_paras == 2) {
      CHECK_STR(d->paras[0].text, "中文。");
      CHECK_STR(d->paras[1].text, "第二行一二三。");
    }
    ps_doc_free(d);
    free(u16);
  }
  /* with a BOM and no extension */
  ps_doc *d = ingest("noext-bom", "\xFF\xFE\x2D\x4E\x87\x65", 6, &w);
  if (d && d->n_paras) CHECK_STR(d->paras[0].text, "中文");
  ps_doc_free(d);
  CHECK_INT(w.n, 0);

  /* binary formats under any name */
  static const struct {
    const char *name, *data;
    size_t len;
    const char *what;
  } bins[] = {
      {"x.dat", "\x89PNG\r\n\x1A\n\0\0\0\rIHDR", 16, "PNG"},
      {"noext", "PK\x03\x04\x14\0\0\0\x08\0", 10, "ZIP"},
      {"prog.txt", "\x7F" "ELF\x02\x01\x01\0\0\0", 10, "ELF"},
      {"photo.md", "\xFF\xD8\xFF\xE0\0\x10JFIF", 10, "JPEG"},
      {"a.html", "GIF89a\x01\0\x01\0", 10, "GIF"},
  };
  for (size_t i = 0; i < sizeof bins / sizeof bins[0]; i++) {
    ps_error e;
    d = (ps_doc *)1;
    CHECK_INT(ps_ingest_buffer(bins[i].name, bins[i].data, bins[i].len, NULL, &d, &e),
              PS_ERR_FORMAT);
    CHECK(d == NULL);
    CHECK(strstr(e.msg, bins[i].name) == e.msg && strstr(e.msg, bins[i].what) &&
          strstr(e.msg, "not indexed"));
  }
  /* printable signatures need binary bytes after them; %PDF- in a text */
  ps_doc *t = ingest_str("ogg.txt", "OggS is the capture pattern of Ogg pages.\n");
  CHECK(t && t->n_paras == 1);
  ps_doc_free(t);
  t = ingest_str("pdf.md", "# 说明\n\nA PDF file starts with\n%PDF-1.7 and ends with a trailer.\n");
  CHECK(t && !strcmp(t->format, "markdown"));
  ps_doc_free(t);
  /* high bytes without NULs or control bytes: no Chinese text either way */
  char *noise = malloc(8192);
  unsigned x = 12345;
  for (size_t i = 0; i < 8192; i++) {
    x = x * 1103515245u + 12345u;
    noise[i] = (char)(0x80 | (x >> 16));
  }
  ps_error e;
  CHECK_INT(ps_ingest_buffer("noise", noise, 8192, NULL, &d, &e), PS_ERR_FORMAT);
  CHECK(strstr(e.msg, "noise: ") == e.msg);
  free(noise);
}

/* pdftotext's failures: the PDF path never hangs and always names the file.
 * (Real PDFs are made and indexed by tests/test_ingest_formats.py.) */
static void test_pdf_errors(void) {
  ps_error e;
  ps_doc *d = (ps_doc *)1;
  static const char broken[] = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ngarbage\n";
  /* content sniffed whatever the name */
  CHECK_INT(ps_ingest_buffer("broken.txt", broken, sizeof broken - 1, NULL, &d, &e),
            PS_ERR_FORMAT);
  CHECK(d == NULL);
  CHECK(strstr(e.msg, "broken.txt: not a readable PDF (") == e.msg ||
        strstr(e.msg, "poppler-utils") != NULL);
  /* .pdf that is not one */
  CHECK_INT(ps_ingest_buffer("notes.pdf", "just text", 9, NULL, &d, &e), PS_ERR_FORMAT);
  CHECK(strstr(e.msg, "notes.pdf: ") == e.msg);
  /* the program missing */
  ps_ingest_opts o = {.pdftotext = "/nonexistent/bin/pdftotext"};
  CHECK_INT(ps_ingest_buffer("a.pdf", broken, sizeof broken - 1, &o, &d, &e), PS_ERR_FORMAT);
  CHECK(strstr(e.msg, "a.pdf: ") == e.msg && strstr(e.msg, "install poppler-utils"));
  /* the program hanging: killed at the deadline */
  char dir[] = "/tmp/ps-ingest-XXXXXX", script[512];
  if (mkdtemp(dir)) {
    snprintf(script, sizeof script, "%s/pdftotext", dir);
    FILE *f = fopen(script, "w");
    if (f) {
      fputs("#!/bin/sh\nexec sleep 30\n", f);
      fclose(f);
      chmod(script, 0755);
      o.pdftotext = script;
      o.pdf_timeout_ms = 300;
      CHECK_INT(ps_ingest_buffer("slow.pdf", broken, sizeof broken - 1, &o, &d, &e),
                PS_ERR_FORMAT);
      CHECK(strstr(e.msg, "slow.pdf: not a readable PDF (pdftotext did not finish within 1 s)") ==
            e.msg);
      /* a program that quits without reading its input: no SIGPIPE */
      f = fopen(script, "w");
      fputs("#!/bin/sh\necho 'Syntax Error: nothing here' >&2\nexit 1\n", f);
      fclose(f);
      char *big = calloc(1, 4 << 20);
      memcpy(big, "%PDF-1.7\n", 9);
      memset(big + 9, 'x', (4 << 20) - 9);
      CHECK_INT(ps_ingest_buffer("big.pdf", big, 4 << 20, &o, &d, &e), PS_ERR_FORMAT);
      CHECK_STR(e.msg, "big.pdf: not a readable PDF (Syntax Error: nothing here)");
      free(big);
      /* text out, even with control bytes and page headers */
      f = fopen(script, "w");
      fputs("#!/bin/sh\ncat >/dev/null\n"
            "printf 'HEAD\\n第一页的内容，还没有\\n写完\\n- 1 -\\n\\fHEAD\\n结束。\\001\\n- 2 -\\n"
            "\\fHEAD\\n第三页。\\n- 3 -\\n'\n", f);
      fclose(f);
      d = NULL;
      CHECK_INT(ps_ingest_buffer("fake.pdf", broken, sizeof broken - 1, &o, &d, &e), PS_OK);
      if (d) {
        CHECK_STR(d->format, "pdf");
        CHECK(find(d, "HEAD") == NULL && find(d, "\x01") == NULL);
        CHECK(find(d, "第一页的内容，还没有写完结束。") != NULL);
        CHECK(find(d, "第三页。") != NULL);
      }
      ps_doc_free(d);
      unlink(script);
    }
    rmdir(dir);
  }
}

int main(void) {
  test_cjk_join();
  test_latin_join();
  test_page_break_and_numbers();
  test_heading_vs_yiban();
  test_first_sentence_heading();
  test_markdown();
  test_front_matter_html();
  test_html_structure();
  test_encodings();
  test_invalid_utf8();
  test_binary_empty_crlf();
  test_corpus_2024();
  test_corpus_xiqing();
  test_corpus_outline();
  test_corpus_markdown();
  test_corpus_news();
  test_corpus_encodings();
  test_big5();
  test_encoding_override();
  test_invalid_gb18030();
  test_utf16_no_bom_and_binary();
  test_pdf_errors();
  return CHECK_DONE();
}
