/* meta.c: document metadata (see ps_meta.h).
 *
 * The patterns run over normalised text (ps_tok_normalize: PDF spaces gone,
 * full-width folded, brackets unified) decoded to code points, so that
 * "2021年 12月 12日" and "2021年12月12日" are the same to them.  What they
 * look at, in order of trust: the title, then the first paragraphs (cover,
 * title block, session line), never the body, where other regions and
 * documents are mentioned all the time. */
#include "ps_meta.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ps_tok.h"

#define HEAD_PARAS 12 /* how many leading paragraphs may describe the document */

typedef struct u32s {
  int32_t *c;
  size_t n;
} u32s;

static int to_u32(const char *s, size_t len, u32s *out) {
  ps_norm nm;
  out->c = NULL;
  out->n = 0;
  if (ps_tok_normalize(s, len, 0, &nm) != PS_OK) return PS_ERR_NOMEM;
  out->c = malloc((nm.len + 1) * sizeof *out->c);
  if (!out->c) {
    ps_norm_free(&nm);
    return PS_ERR_NOMEM;
  }
  for (size_t i = 0; i < nm.len;) {
    int32_t cp;
    i += ps_tok_decode(nm.text + i, nm.len - i, &cp);
    out->c[out->n++] = cp;
  }
  ps_norm_free(&nm);
  return PS_OK;
}

/* Position of the UTF-8 literal lit in u at or after from, or -1. */
static long find(const u32s *u, const char *lit, size_t from) {
  int32_t pat[64];
  size_t m = 0;
  for (size_t i = 0, l = strlen(lit); i < l && m < 64;) {
    i += ps_tok_decode(lit + i, l - i, &pat[m]);
    m++;
  }
  for (size_t i = from; i + m <= u->n; i++)
    if (memcmp(u->c + i, pat, m * sizeof *pat) == 0) return (long)i;
  return -1;
}

static int is_han(int32_t c) { return ps_tok_class(c) == PS_TOK_CJK; }
static int is_digit(int32_t c) { return c >= '0' && c <= '9'; }

/* UTF-8 copy of u[a..b). */
static char *encode(const u32s *u, size_t a, size_t b) {
  char *s = malloc((b - a) * 4 + 1), *p = s;
  if (!s) return NULL;
  for (size_t i = a; i < b; i++) {
    int32_t c = u->c[i];
    if (c < 0x80) *p++ = (char)c;
    else if (c < 0x800) *p++ = (char)(0xC0 | c >> 6), *p++ = (char)(0x80 | (c & 0x3F));
    else if (c < 0x10000)
      *p++ = (char)(0xE0 | c >> 12), *p++ = (char)(0x80 | ((c >> 6) & 0x3F)),
      *p++ = (char)(0x80 | (c & 0x3F));
    else
      *p++ = (char)(0xF0 | c >> 18), *p++ = (char)(0x80 | ((c >> 12) & 0x3F)),
      *p++ = (char)(0x80 | ((c >> 6) & 0x3F)), *p++ = (char)(0x80 | (c & 0x3F));
  }
  *p = '\0';
  return s;
}

static int read_num(const u32s *u, size_t i, size_t maxd, size_t *end) {
  int v = 0;
  size_t k = 0;
  while (i + k < u->n && k < maxd && is_digit(u->c[i + k])) v = v * 10 + (u->c[i + k] - '0'), k++;
  *end = i + k;
  return k ? v : -1;
}

/* ---- the fields ---- */

/* Years written as 2024年 in u, added to the set (a bitmap of 1900..2199). */
static void years_in(const u32s *u, unsigned char *set) {
  for (size_t i = 0; i + 4 < u->n; i++) {
    if (i > 0 && is_digit(u->c[i - 1])) continue;
    size_t e;
    int y = read_num(u, i, 5, &e);
    if (y >= 1900 && y < 2200 && e == i + 4 && e < u->n && u->c[e] == 0x5E74 /* 年 */)
      set[y - 1900] = 1;
  }
}

/* The period of the five-year plan named first in u (十四五, 第十四个五年). */
static void plan_period(const u32s *u, unsigned char *set) {
  static const char *ord[] = {"十一", "十二", "十三", "十四", "十五", "十六"};
  long best = -1;
  int best_k = -1;
  for (int k = 0; k < 6; k++) {
    char a[32], b[32];
    snprintf(a, sizeof a, "%s五", ord[k]);
    snprintf(b, sizeof b, "第%s个五年", ord[k]);
    long p = find(u, a, 0);
    if (p > 0 && u->c[p - 1] == 0x7B2C /* 第十一五… is not a plan */) p = -1;
    long q = find(u, b, 0);
    if (q >= 0 && (p < 0 || q < p)) p = q;
    if (p >= 0 && (best < 0 || p < best)) best = p, best_k = k;
  }
  if (best_k < 0) return;
  int start = 1966 + 5 * (11 + best_k - 3); /* from the 3rd plan on: 1966 + 5(n-3) */
  for (int y = start; y < start + 5; y++) set[y - 1900] = 1;
}

/* A date 2021年12月12日 in u: sets *y, *m, *d and returns 1. */
static int date_in(const u32s *u, int *y, int *m, int *d) {
  for (size_t i = 0; i < u->n; i++) {
    size_t e;
    if (i > 0 && is_digit(u->c[i - 1])) continue;
    int yy = read_num(u, i, 4, &e);
    if (yy < 1900 || e >= u->n || u->c[e] != 0x5E74) continue;
    int mm = read_num(u, e + 1, 2, &e);
    if (mm < 1 || mm > 12 || e >= u->n || u->c[e] != 0x6708 /* 月 */) continue;
    int dd = read_num(u, e + 1, 2, &e);
    if (dd < 1 || dd > 31 || e >= u->n || (u->c[e] != 0x65E5 && u->c[e] != 0x53F7)) continue;
    *y = yy, *m = mm, *d = dd;
    return 1;
  }
  return 0;
}

/* 天津市武清区 (a city then a district or county), or a district at the
 * very start of the text (武清区实施…). */
static char *region_in(const u32s *u, int at_start_only) {
  static const char *generic[] = {"地区", "城区", "园区", "社区", "片区", "景区", "新区",
                                  "市区", "郊区", "小区", "辖区", "政区", "军区", "一区"};
  for (size_t i = 2; i < u->n; i++) {
    int32_t c = u->c[i];
    if (c != 0x533A /* 区 */ && c != 0x53BF /* 县 */) continue;
    if (!is_han(u->c[i - 1]) || !is_han(u->c[i - 2])) continue;
    size_t a = i - 2;
    char *two = encode(u, i - 1, i + 1);
    int bad = 0;
    for (size_t g = 0; two && g < sizeof generic / sizeof *generic; g++)
      bad |= strcmp(two, generic[g]) == 0;
    free(two);
    if (bad) continue;
    if (a >= 3 && u->c[a - 1] == 0x5E02 /* 市 */ && is_han(u->c[a - 2]) && is_han(u->c[a - 3]) &&
        !at_start_only) {
      size_t s = a - 3;
      if (s >= 1 && u->c[s - 1] == 0x7701 /* 省 */ && s >= 3) s -= 3;
      return encode(u, s, i + 1);
    }
    if (a == 0) return encode(u, 0, i + 1);
    if (a >= 3 && u->c[a - 1] == 0x5E02 && a == 3) return encode(u, 0, i + 1);
  }
  return NULL;
}

static int append_list(char **list, const char *item) {
  if (!item || !*item) return PS_OK;
  size_t n = strlen(*list), m = strlen(item);
  /* no duplicates */
  for (const char *p = *list; *p;) {
    const char *e = strchr(p, ',');
    size_t l = e ? (size_t)(e - p) : strlen(p);
    if (l == m && memcmp(p, item, m) == 0) return PS_OK;
    p += l + (e ? 1 : 0);
  }
  char *s = realloc(*list, n + m + 2);
  if (!s) return PS_ERR_NOMEM;
  if (n) s[n++] = ',';
  memcpy(s + n, item, m + 1);
  *list = s;
  return PS_OK;
}

static int types_in(const u32s *u, int title, char **types) {
  int rc = PS_OK;
  if (find(u, "政府工作报告", 0) >= 0) rc |= append_list(types, "政府工作报告");
  if (find(u, "计划执行情况", 0) >= 0) rc |= append_list(types, "计划执行情况报告");
  if (find(u, "五年规划", 0) >= 0 || find(u, "规划纲要", 0) >= 0 ||
      find(u, "远景目标纲要", 0) >= 0)
    rc |= append_list(types, "五年规划纲要");
  if (title) {
    static const char *tail[] = {"通知", "意见", "决定", "办法", "方案", "公告", "通报", "批复"};
    for (size_t k = 0; k < sizeof tail / sizeof *tail; k++) {
      long p = find(u, tail[k], 0);
      if (p >= 0 && (size_t)p + 2 == u->n) rc |= append_list(types, tail[k]);
    }
  }
  return rc;
}

/* 天津市西青区人民政府关于… → 天津市西青区人民政府. */
static char *issuer_in(const u32s *u) {
  long p = find(u, "关于", 0);
  if (p < 4 || p > 40) return NULL;
  static const char *ends[] = {"人民政府办公室", "人民政府办公厅", "人民政府", "办公室", "办公厅",
                               "委员会", "局", "委", "厅"};
  for (size_t k = 0; k < sizeof ends / sizeof *ends; k++) {
    char *tail = encode(u, 0, (size_t)p);
    size_t tl = tail ? strlen(tail) : 0, el = strlen(ends[k]);
    int ok = tail && tl > el && strcmp(tail + tl - el, ends[k]) == 0;
    free(tail);
    if (ok) {
      for (long i = 0; i < p; i++)
        if (!is_han(u->c[i])) return NULL;
      return encode(u, 0, (size_t)p);
    }
  }
  return NULL;
}

/* 津政发(2021)3号 (brackets are unified by the normaliser) → 津政发〔2021〕3号. */
static char *doc_number_in(const u32s *u) {
  for (size_t i = 0; i < u->n; i++) {
    if (u->c[i] != '(') continue;
    size_t e;
    int y = read_num(u, i + 1, 4, &e);
    if (y < 1900 || e != i + 5 || e >= u->n || u->c[e] != ')') continue;
    int num = read_num(u, e + 1, 5, &e);
    if (num < 0 || e >= u->n || u->c[e] != 0x53F7 /* 号 */) continue;
    size_t s = i;
    while (s > 0 && i - s < 8 && is_han(u->c[s - 1])) s--;
    if (i - s < 2) continue;
    char *pre = encode(u, s, i);
    char *out = malloc(strlen(pre ? pre : "") + 32);
    if (pre && out) snprintf(out, strlen(pre) + 32, "%s\xe3\x80\x94%d\xe3\x80\x95%d\xe5\x8f\xb7", pre, y, num);
    free(pre);
    return out;
  }
  return NULL;
}

/* A title for a document without one: the first 《…》 naming a plan or
 * report in its opening paragraphs (本纲要 …《天津市武清区…纲要》). */
static char *title_from_book(const ps_doc *doc) {
  for (size_t k = 0; k < doc->n_paras && k < 3; k++) {
    const char *t = doc->paras[k].text;
    const char *o = t;
    while ((o = strstr(o, "\xe3\x80\x8a"))) { /* 《 */
      const char *c = strstr(o, "\xe3\x80\x8b"); /* 》 */
      if (!c) break;
      size_t n = (size_t)(c - o - 3);
      char *cand = strndup(o + 3, n);
      if (cand && (strstr(cand, "纲要") || strstr(cand, "规划") || strstr(cand, "报告")) &&
          !strstr(cand, "建议"))
        return cand;
      free(cand);
      o = c;
    }
  }
  return NULL;
}

/* ---- sidecar ---- */

void ps_meta_sidecar_path(const char *path, char *buf, size_t n) {
  struct stat sb;
  snprintf(buf, n, "%s.meta.json", path);
  if (stat(buf, &sb) == 0) return;
  const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
  if (dot && (!slash || dot > slash + 1)) {
    snprintf(buf, n, "%.*s.meta.json", (int)(dot - path), path);
    if (stat(buf, &sb) == 0) return;
  }
  buf[0] = '\0';
}

static int set_field(char **slot, const char *v) {
  char *c = strdup(v ? v : "");
  if (!c) return PS_ERR_NOMEM;
  free(*slot);
  *slot = c;
  return PS_OK;
}

/* A sidecar value: a string, a number (years) or an array of them. */
static int sidecar_value(const cJSON *v, char **slot) {
  char buf[64];
  if (cJSON_IsString(v)) return set_field(slot, v->valuestring);
  if (cJSON_IsNumber(v)) {
    snprintf(buf, sizeof buf, "%d", v->valueint);
    return set_field(slot, buf);
  }
  if (cJSON_IsArray(v)) {
    int rc = set_field(slot, "");
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
      if (cJSON_IsString(e)) rc |= append_list(slot, e->valuestring);
      else if (cJSON_IsNumber(e)) {
        snprintf(buf, sizeof buf, "%d", e->valueint);
        rc |= append_list(slot, buf);
      }
    }
    return rc;
  }
  return PS_OK;
}

static int apply_sidecar(const char *sc, ps_meta *m, ps_error *err) {
  FILE *f = fopen(sc, "rb");
  if (!f) return ps_error_set(err, PS_ERR_IO, "%s: cannot read sidecar", sc);
  char *buf = NULL;
  size_t cap = 0, n = 0;
  for (;;) {
    if (n + 4096 > cap) {
      char *b = realloc(buf, cap = cap * 2 + 8192);
      if (!b) {
        free(buf);
        fclose(f);
        return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
      }
      buf = b;
    }
    size_t r = fread(buf + n, 1, 4096, f);
    n += r;
    if (r == 0) break;
  }
  fclose(f);
  buf[n] = '\0'; /* the loop always leaves room */
  const char *end = NULL;
  cJSON *o = cJSON_ParseWithOpts(buf ? buf : "", &end, 0);
  if (!cJSON_IsObject(o)) {
    size_t off = end && buf ? (size_t)(end - buf) : 0;
    cJSON_Delete(o);
    free(buf);
    return ps_error_set(err, PS_ERR_FORMAT, "%s: not a JSON object (error near byte %zu)", sc, off);
  }
  static const struct { const char *key; size_t off; } fields[] = {
      {"title", offsetof(ps_meta, title)},   {"date", offsetof(ps_meta, date)},
      {"years", offsetof(ps_meta, years)},   {"year", offsetof(ps_meta, years)},
      {"region", offsetof(ps_meta, region)}, {"type", offsetof(ps_meta, types)},
      {"types", offsetof(ps_meta, types)},   {"issuer", offsetof(ps_meta, issuer)},
      {"doc_number", offsetof(ps_meta, doc_number)},
      {"categories", offsetof(ps_meta, categories)}, {"tags", offsetof(ps_meta, tags)}};
  int rc = PS_OK;
  for (size_t k = 0; k < sizeof fields / sizeof *fields && rc == PS_OK; k++) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, fields[k].key);
    if (v) rc = sidecar_value(v, (char **)((char *)m + fields[k].off));
  }
  cJSON_Delete(o);
  free(buf);
  if (rc == PS_OK) rc = set_field(&m->sidecar, sc);
  return rc ? ps_error_set(err, PS_ERR_NOMEM, "out of memory") : PS_OK;
}

/* ---- derive ---- */

int ps_meta_derive(const ps_doc *doc, const char *path, ps_meta *m, ps_error *err) {
  int rc = PS_OK;
  u32s title = {0}, head = {0};
  unsigned char years[300] = {0};
  char *s = NULL;
  memset(m, 0, sizeof *m);
  char **all[] = {&m->title, &m->date, &m->years, &m->region, &m->types, &m->issuer,
                  &m->doc_number, &m->categories, &m->tags, &m->sidecar};
  for (size_t k = 0; k < sizeof all / sizeof *all; k++)
    if (!(*all[k] = strdup(""))) rc = PS_ERR_NOMEM;
  if (rc) goto done;

  /* Title: the document's own, else the plan its opening paragraphs name. */
  if (doc->title[0]) rc = set_field(&m->title, doc->title);
  else if ((s = title_from_book(doc))) rc = set_field(&m->title, s);
  if (rc || (rc = to_u32(m->title, strlen(m->title), &title))) goto done;
  rc = set_field(&m->categories, doc->categories) | set_field(&m->tags, doc->tags);
  if (rc) goto done;

  /* The opening paragraphs, as one text (paragraph breaks as newlines). */
  {
    size_t n = 0;
    for (size_t k = 0; k < doc->n_paras && k < HEAD_PARAS; k++) n += doc->paras[k].len + 1;
    char *h = malloc(n + 1), *p = h;
    if (!h) { rc = PS_ERR_NOMEM; goto done; }
    for (size_t k = 0; k < doc->n_paras && k < HEAD_PARAS; k++) {
      memcpy(p, doc->paras[k].text, doc->paras[k].len);
      p += doc->paras[k].len;
      *p++ = '\n';
    }
    rc = to_u32(h, (size_t)(p - h), &head);
    free(h);
    if (rc) goto done;
  }

  /* Date: front matter, else the session line (——2021年12月12日在…会议上),
   * else a date standing alone among the opening paragraphs. */
  if (doc->date[0]) {
    rc = set_field(&m->date, doc->date);
  } else {
    int y, mo, d, found = 0;
    for (size_t k = 0; k < doc->n_paras && k < HEAD_PARAS * 2 && !found; k++) {
      const ps_para *pp = &doc->paras[k];
      int session = strncmp(pp->text, "\xe2\x80\x94\xe2\x80\x94", 6) == 0 || strstr(pp->text, "会议上");
      if (!session && pp->len > 40) continue;
      u32s u;
      if ((rc = to_u32(pp->text, pp->len, &u))) goto done;
      found = date_in(&u, &y, &mo, &d) ? (session ? 2 : 1) : 0;
      free(u.c);
      if (found) {
        char buf[32];
        snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, mo, d);
        rc = set_field(&m->date, buf);
        if (found == 1) found = 0; /* a lone date: a session line may follow */
      }
    }
  }
  if (rc) goto done;

  /* Years: those in the title, else a five-year plan's period, else the
   * year of the date. */
  years_in(&title, years);
  int any = 0;
  for (int y = 0; y < 300; y++) any |= years[y];
  if (!any) plan_period(&title, years);
  for (int y = 0; y < 300 && !any; y++) any |= years[y];
  if (!any) plan_period(&head, years);
  for (int y = 0; y < 300 && !any; y++) any |= years[y];
  if (!any && m->date[0]) {
    int y = atoi(m->date);
    if (y >= 1900 && y < 2200) years[y - 1900] = 1;
  }
  for (int y = 0; y < 300 && rc == PS_OK; y++) {
    if (!years[y]) continue;
    char buf[8];
    snprintf(buf, sizeof buf, "%d", 1900 + y);
    rc = append_list(&m->years, buf);
  }
  if (rc) goto done;

  /* Region, types, issuer, document number. */
  free(s);
  s = region_in(&title, 0);
  if (!s) s = region_in(&head, 0);
  if (s && (rc = set_field(&m->region, s))) goto done;
  if ((rc = types_in(&title, 1, &m->types))) goto done;
  if (!m->types[0] && (rc = types_in(&head, 0, &m->types))) goto done;
  if (m->categories[0] || m->tags[0] || find(&head, "讯:", 0) >= 0 ||
      find(&head, "记者", 0) >= 0)
    if ((rc = append_list(&m->types, "新闻报道"))) goto done;
  free(s);
  s = issuer_in(&title);
  if (s && (rc = set_field(&m->issuer, s))) goto done;
  free(s);
  s = doc_number_in(&head);
  if (s && (rc = set_field(&m->doc_number, s))) goto done;

  /* The sidecar overrides anything. */
  if (path) {
    char sc[4096];
    ps_meta_sidecar_path(path, sc, sizeof sc);
    if (sc[0]) {
      rc = apply_sidecar(sc, m, err);
      goto done_err;
    }
  }
done:
  if (rc) ps_error_set(err, rc, "out of memory");
done_err:
  free(s);
  free(title.c);
  free(head.c);
  if (rc) ps_meta_free(m);
  return rc;
}

void ps_meta_free(ps_meta *m) {
  if (!m) return;
  char *all[] = {m->title, m->date, m->years, m->region, m->types, m->issuer,
                 m->doc_number, m->categories, m->tags, m->sidecar};
  for (size_t k = 0; k < sizeof all / sizeof *all; k++) free(all[k]);
  memset(m, 0, sizeof *m);
}
