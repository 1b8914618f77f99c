/* test_tok.c: unit tests of the normaliser, the term generators and the
 * match verifier (the contract in ps_tok.h), and of the byte search under
 * it (ps_memfind.h). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ps_memfind.h"
#include "ps_tok.h"

/* The first occurrence by trying every position. */
static const char *naive_find(const char *h, size_t hl, const char *n, size_t nl) {
  if (nl == 0) return NULL;
  for (size_t p = 0; p + nl <= hl; p++)
    if (memcmp(h + p, n, nl) == 0) return h + p;
  return NULL;
}

/* ps_memfind against every position, on texts of few distinct UTF-8
 * characters (so that partial matches of both filter bytes abound), needles
 * cut from the text or made up, in buffers of exactly their size (so that
 * AddressSanitizer sees any read past the end). */
static void test_memfind(void) {
  static const char *const alphabet[] = {"京", "津", "冀", "协", "同", "a", "1", "。"};
  unsigned seed = 12345;
  size_t mismatches = 0, found = 0, runs = 0;
  for (int round = 0; round < 4000; round++) {
    char buf[700];
    size_t hl = 0, chars = (size_t)(round % 200);
    for (size_t i = 0; i < chars; i++) {
      seed = seed * 1103515245u + 12345u;
      const char *c = alphabet[(seed >> 16) % (round % 3 == 0 ? 3 : 8)];
      memcpy(buf + hl, c, strlen(c));
      hl += strlen(c);
    }
    char *h = malloc(hl ? hl : 1);
    memcpy(h, buf, hl);
    for (int k = 0; k < 6; k++) {
      seed = seed * 1103515245u + 12345u;
      size_t nl = 1 + (seed >> 16) % 40, at = hl ? (seed >> 8) % hl : 0;
      char nb[64];
      if (k < 4 && at + nl <= hl) {
        memcpy(nb, h + at, nl); /* from the text: found, maybe earlier */
      } else {
        for (size_t i = 0; i < nl; i++) {
          seed = seed * 1103515245u + 12345u;
          nb[i] = buf[(seed >> 16) % (hl ? hl : 1)];
        }
      }
      char *n = malloc(nl);
      memcpy(n, nb, nl);
      const char *want = naive_find(h, hl, n, nl), *got = ps_memfind(h, hl, n, nl);
      mismatches += want != got;
      found += want != NULL;
      runs++;
      free(n);
    }
    free(h);
  }
  CHECK_INT(mismatches, 0);
  CHECK(found > runs / 3); /* the test does look at matches */
  CHECK(ps_memfind("abc", 3, "", 0) == NULL);
  CHECK(ps_memfind("", 0, "a", 1) == NULL);
  const char text[] = "推进京津冀协同发展，京津冀协同发展走深走实";
  CHECK(ps_memfind(text, sizeof text - 1, "京津冀协同发展", 21) == text + 6);
  CHECK(ps_memfind(text, sizeof text - 1, "走实", 6) == text + sizeof text - 7);
  CHECK(ps_memfind(text, sizeof text - 1, "走虚", 6) == NULL);
}

static char *norm(const char *s) {
  ps_norm n;
  if (ps_tok_normalize(s, strlen(s), 0, &n) != PS_OK) return NULL;
  return n.text; /* caller frees */
}

static void check_norm(const char *in, const char *want) {
  char *got = norm(in);
  CHECK_STR(got, want);
  free(got);
}

typedef struct terms {
  char buf[4096];
  size_t len;
} terms;

static int collect(void *ctx, const char *t, size_t n) {
  terms *ts = ctx;
  if (ts->len + n + 2 >= sizeof ts->buf) return 1;
  memcpy(ts->buf + ts->len, t, n);
  ts->len += n;
  ts->buf[ts->len++] = '|';
  ts->buf[ts->len] = '\0';
  return 0;
}

static void check_index_terms(const char *text, const char *want) {
  terms ts = {{0}, 0};
  char *n = norm(text);
  ps_tok_index_terms(n, strlen(n), collect, &ts);
  CHECK_STR(ts.buf, want);
  free(n);
}

static void check_query_terms(const char *q, const char *want, int want_exact) {
  terms ts = {{0}, 0};
  int exact = -1;
  char *n = norm(q);
  ps_tok_query_terms(n, strlen(n), collect, &ts, &exact);
  CHECK_STR(ts.buf, want);
  CHECK_INT(exact, want_exact);
  free(n);
}

static int found(const char *text, const char *q) {
  char *t = norm(text), *nq = norm(q);
  size_t r = ps_tok_find(t, strlen(t), nq, strlen(nq), 0);
  free(t);
  free(nq);
  return r != (size_t)-1;
}

/* The normaliser remembers the fold of each code point of the Basic
 * Multilingual Plane once met: normalising a text again (every character
 * then read back from what was remembered) gives what the first pass,
 * which computed each one, gave.  Letters and digits between spaces keep
 * them and other characters drop them, so a remembered class shows too. */
static void test_fold_memo(void) {
  size_t mismatches = 0, kept_space = 0;
  for (int32_t cp = 1; cp < 0x10000; cp++) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    char s[16] = "a ";
    size_t n = 2;
    if (cp < 0x80) s[n++] = (char)cp;
    else if (cp < 0x800) s[n++] = (char)(0xC0 | cp >> 6), s[n++] = (char)(0x80 | (cp & 0x3F));
    else
      s[n++] = (char)(0xE0 | cp >> 12), s[n++] = (char)(0x80 | (cp >> 6 & 0x3F)),
      s[n++] = (char)(0x80 | (cp & 0x3F));
    memcpy(s + n, " a", 3);
    char *first = norm(s), *again = norm(s);
    if (!first || !again || strcmp(first, again) != 0) mismatches++;
    if (first && strncmp(first, "a ", 2) == 0) kept_space++;
    free(first);
    free(again);
  }
  CHECK_INT(mismatches, 0);
  CHECK(kept_space > 10000); /* (letters of many scripts: the classes were looked at) */
  check_norm("a é a", "a é a");
  check_norm("a é a", "a é a"); /* (remembered now) */
  check_norm("a ， a", "a,a");
  check_norm("a ， a", "a,a");
}

int main(void) {
  test_fold_memo();
  /* Normalisation: width, case, whitespace left by PDF extraction. */
  check_norm("ＡＢＣ１２３，ｘ", "abc123,x");
  check_norm("GDP 增长 5.5%", "gdp增长5.5%");
  check_norm("2024 年", "2024年");
  check_norm("高 标准农田", "高标准农田");
  check_norm("hello   world", "hello world");
  check_norm("  前后  ", "前后");
  check_norm("a\tb\nc", "a b c");
  check_norm("二〇三五年", "二〇三五年");
  check_norm("⼀般", "一般");
  check_norm("京津產業新城發展", "京津产业新城发展");  /* traditional = simplified */            /* Kangxi radical from a PDF */
  check_norm("①项", "1项");
  check_norm("津政发〔2021〕3号", "津政发(2021)3号");
  check_norm("津政发 [2021] 3 号", "津政发(2021)3号");
  check_norm("津政发［2021］3号", "津政发(2021)3号");
  check_norm("【专栏】（一）", "(专栏)(一)");
  check_norm("ＣＯＶＩＤ－１９", "covid-19");
  check_norm("zero\xe2\x80\x8bwidth", "zerowidth"); /* U+200B removed */
  check_norm("", "");
  check_norm("   ", "");
  check_norm("\xff\xfe", "\xef\xbf\xbd\xef\xbf\xbd"); /* invalid bytes: U+FFFD */

  /* The map points each normalised byte at its source character. */
  {
    const char *src = "Ａ 年";
    ps_norm n;
    CHECK_INT(ps_tok_normalize(src, strlen(src), 1, &n), PS_OK);
    CHECK_STR(n.text, "a年");
    CHECK_INT(n.map[0], 0);  /* Ａ is 3 bytes at 0 */
    CHECK_INT(n.map[1], 4);  /* 年 after the space */
    CHECK_INT(n.map[3], 4);
    CHECK_INT(n.map[n.len], strlen(src));
    ps_norm_free(&n);
  }

  /* Index terms: unigrams and bigrams of CJK runs, whole tokens. */
  check_index_terms("京津产业", "京|津|京津|产|津产|业|产业|");
  check_index_terms("廊", "廊|");
  check_index_terms("增长5.5%，5G基站", "增|长|增长|5.5|5g|基|站|基站|");
  check_index_terms("AI and mail", "ai|and|mail|");
  check_index_terms("v1.2.3", "v1.2.3|");
  check_index_terms("15.", "15|");
  check_index_terms("，。、", "");

  /* Query terms and whether they alone prove a match. */
  check_query_terms("京津产业新城", "京津|津产|产业|业新|新城|", 0);
  check_query_terms("通武廊", "通武|武廊|", 0);
  check_query_terms("通武", "通武|", 1);
  check_query_terms("廊", "廊|", 1);
  check_query_terms("2024年", "2024|年|", 0);
  check_query_terms("5.5", "5.5|", 1);
  check_query_terms("ai", "ai|", 1);
  check_query_terms("%", "", 0);
  check_query_terms("5%", "5|", 0);

  /* Term truncation for very long tokens. */
  {
    char longtok[400];
    memset(longtok, 'a', sizeof longtok - 1);
    longtok[sizeof longtok - 1] = '\0';
    terms ts = {{0}, 0};
    int exact = -1;
    ps_tok_query_terms(longtok, strlen(longtok), collect, &ts, &exact);
    CHECK_INT(ts.len, PS_TOK_MAX_TERM + 1);
    CHECK_INT(exact, 0); /* truncated: must be verified */
  }

  /* The matching contract. */
  CHECK(found("京津产业新城建设", "产业新"));
  CHECK(found("京津产业新城建设", "城"));
  CHECK(!found("交通武器与武廊坊", "通武廊"));
  CHECK(found("推进通武廊合作", "通武廊"));
  CHECK(!found("send mail", "ai"));
  CHECK(found("AI 产业", "ai"));
  CHECK(found("发展AI产业", "ai"));
  CHECK(!found("增长15%", "5"));
  CHECK(!found("增长5.5%", "5"));
  CHECK(found("增长5.5%", "5.5"));
  CHECK(found("增长5.5%", "增长5.5%"));
  CHECK(found("增长 5.5 %", "增长5.5%"));
  CHECK(!found("增长15.5%", "5.5"));
  CHECK(found("第5条", "5"));
  CHECK(found("5.条", "5"));   /* '.' not between digits ends the token */
  CHECK(found("2024 年", "2024年"));
  CHECK(!found("12024年", "2024年"));
  CHECK(found("5G基站", "5g基站"));
  CHECK(!found("5G基站", "5"));
  CHECK(found("高 标准农田", "高标准农田"));
  CHECK(found("推進京津產業新城建設", "京津产业新城"));
  CHECK(found("推进京津产业新城建设", "京津產業新城"));
  CHECK(found("ＧＤＰ增长", "gdp"));
  CHECK(!found("短", "更长的查询"));
  CHECK(found("Hello  World", "hello world"));
  CHECK(!found("hello world", "o w"));  /* cuts both tokens */
  CHECK(!found("hello world", "lo wo"));
  CHECK(found("津政发〔2021〕3号", "津政发[2021]3号"));
  CHECK(found("津政发（2021） 3号", "津政发〔2021〕3号"));
  CHECK(found("a.b", "."));  /* punctuation matches literally */
  CHECK(!found("1.5", "."));  /* ... but not inside a decimal token */

  /* Finding every match in turn. */
  {
    const char *t = "通武廊，通武廊";
    size_t p = ps_tok_find(t, strlen(t), "通武廊", strlen("通武廊"), 0);
    CHECK_INT(p, 0);
    p = ps_tok_find(t, strlen(t), "通武廊", strlen("通武廊"), p + 1);
    CHECK_INT(p, 12);
    CHECK(ps_tok_find(t, strlen(t), "通武廊", strlen("通武廊"), p + 1) == (size_t)-1);
  }

  /* Classes. */
  CHECK_INT(ps_tok_class(0x4EAC), PS_TOK_CJK);
  CHECK_INT(ps_tok_class(0x3007), PS_TOK_CJK);
  CHECK_INT(ps_tok_class('a'), PS_TOK_ALNUM);
  CHECK_INT(ps_tok_class(0xE9), PS_TOK_ALNUM);
  CHECK_INT(ps_tok_class(0x3001), PS_TOK_OTHER);
  CHECK_INT(ps_tok_class(0x3000), PS_TOK_SPACE);
  test_memfind();

  /* The ideograph fast path of the normaliser (U+4E00..U+9FFF) agrees with
   * the general one around it: maps, spaces, neighbours, cut sequences. */
  {
    ps_norm n;
    const char *in = "\xEF\xBC\xA1\xE5\x9C\x8B \xE5\xAE\xB6" "b"; /* Ａ國 家b */
    CHECK_INT(ps_tok_normalize(in, strlen(in), 1, &n), PS_OK);
    CHECK_STR(n.text, "a国家b");
    static const uint32_t want[] = {0, 3, 3, 3, 7, 7, 7, 10, 11};
    int map_ok = n.len + 1 == sizeof want / sizeof *want;
    for (size_t i = 0; map_ok && i <= n.len; i++) map_ok = n.map[i] == want[i];
    CHECK(map_ok);
    ps_norm_free(&n);
  }
  check_norm("ai 京津 ai", "ai京津ai");           /* spaces next to ideographs go */
  check_norm("一 龥 \xE4\xB8", "一龥\xEF\xBF\xBD\xEF\xBF\xBD"); /* U+4E00, U+9FA5, cut */
  check_norm("\xE4\xB6\xB5國", "\xE4\xB6\xB5国");  /* U+4DB5 (Ext-A) beside the range */
  return CHECK_DONE();
}
