/* page.c: server-rendered HTML for policy-serve (see page.h).  The layout
 * and colours are in assets/style.css; assets/app.js only swaps in the
 * results block while typing and fills the project autocomplete. */
#include "page.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ps_json.h"

/* ---- string building ---- */

void sb_put(sbuf *b, const char *s, size_t n) {
  if (b->oom) return;
  if (b->len + n + 1 > b->cap) {
    size_t c = b->cap ? b->cap : 4096;
    while (c < b->len + n + 1) c *= 2;
    char *ns = realloc(b->s, c);
    if (!ns) {
      b->oom = 1;
      return;
    }
    b->s = ns, b->cap = c;
  }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

void sb_puts(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

void sb_printf(sbuf *b, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof tmp) {
    sb_put(b, tmp, (size_t)n);
    return;
  }
  char *big = malloc((size_t)n + 1);
  if (!big) {
    b->oom = 1;
    return;
  }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  sb_put(b, big, (size_t)n);
  free(big);
}

static const char *html_entity(char c) {
  switch (c) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return "&quot;";
    case '\'': return "&#39;";
    default: return NULL;
  }
}

static void html_n(sbuf *b, const char *s, size_t n) {
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    const char *e = html_entity(s[i]);
    if (!e) continue;
    sb_put(b, s + run, i - run);
    sb_puts(b, e);
    run = i + 1;
  }
  sb_put(b, s + run, n - run);
}

void sb_html(sbuf *b, const char *s) {
  if (s) html_n(b, s, strlen(s));
}

void sb_url(sbuf *b, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
        *p == '-' || *p == '_' || *p == '.' || *p == '~') {
      sb_put(b, (const char *)p, 1);
    } else {
      char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
      sb_put(b, e, 3);
    }
  }
}

/* ---- JSON access ---- */

static const cJSON *jget(const cJSON *o, const char *k) {
  return cJSON_GetObjectItemCaseSensitive(o, k);
}

static double jnum_at(const cJSON *pair, int i) {
  const cJSON *v = cJSON_GetArrayItem(pair, i);
  return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* Text with the [start, end) character ranges of pairs wrapped in <mark>. */
static void marked(sbuf *b, const char *text, const cJSON *pairs) {
  const cJSON *p = pairs ? pairs->child : NULL;
  size_t ch = 0, i = 0, n = strlen(text);
  int open = 0;
  while (i < n) {
    while (p && !open && ch >= (size_t)jnum_at(p, 1)) p = p->next;
    if (p && !open && ch == (size_t)jnum_at(p, 0)) sb_puts(b, "<mark>"), open = 1;
    size_t k = i + 1;
    while (k < n && ((unsigned char)text[k] & 0xC0) == 0x80) k++;
    html_n(b, text + i, k - i);
    i = k, ch++;
    if (open && ch >= (size_t)jnum_at(p, 1)) sb_puts(b, "</mark>"), open = 0, p = p->next;
  }
  if (open) sb_puts(b, "</mark>");
}

/* ---- links ---- */

static const char *const FILTERS[] = {"year", "region", "type", "project"};
static const char *const FILTER_LABELS[] = {"年份", "地区", "类型", "项目"};
enum { N_FILTERS = 4 };

static const char *filter_value(const page_params *pp, int i) {
  const char *v[] = {pp->year, pp->region, pp->type, pp->project};
  return v[i];
}

/* A link to the search page with pp's state, filter `field` set to `value`
 * (NULL: removed; field NULL: no change), sort and view as given, and the
 * page starting at offset. */
static void link(sbuf *b, const page_params *pp, const char *field, const char *value,
                 const char *sort, const char *view, size_t offset) {
  sb_puts(b, "/?q=");
  sb_url(b, pp->q ? pp->q : "");
  for (int i = 0; i < N_FILTERS; i++) {
    const char *v = filter_value(pp, i);
    if (field && strcmp(field, FILTERS[i]) == 0) v = value;
    if (!v || !*v) continue;
    sb_printf(b, "&amp;%s=", FILTERS[i]);
    sb_url(b, v);
  }
  if (sort) sb_printf(b, "&amp;sort=%s", sort);
  if (view) sb_printf(b, "&amp;view=%s", view);
  if (offset) sb_printf(b, "&amp;offset=%zu", offset);
  if (pp->limit != 10) sb_printf(b, "&amp;limit=%zu", pp->limit);
}

static void read_link(sbuf *b, const char *path, size_t para, const char *q) {
  sb_puts(b, "/read?path=");
  sb_url(b, path);
  sb_printf(b, "&amp;para=%zu", para);
  if (q && *q) {
    sb_puts(b, "&amp;q=");
    sb_url(b, q);
  }
  sb_printf(b, "#p-%zu", para);
}

static const char *base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

static void doc_title(sbuf *b, const cJSON *doc) {
  const char *t = ps_json_str(doc, "title");
  sb_html(b, *t ? t : base_name(ps_json_str(doc, "path")));
}

/* "2024-01-05 · 天津市武清区 · 政府工作报告" */
static void doc_meta(sbuf *b, const cJSON *doc) {
  int first = 1;
  const char *date = ps_json_str(doc, "date");
  const cJSON *it;
  if (*date) {
    sb_html(b, date);
    first = 0;
  } else if (cJSON_GetArraySize(jget(doc, "years")) > 0) { /* "2021–2025" */
    const cJSON *years = jget(doc, "years");
    const cJSON *y0 = cJSON_GetArrayItem(years, 0);
    const cJSON *yn = cJSON_GetArrayItem(years, cJSON_GetArraySize(years) - 1);
    if (cJSON_IsString(y0) && cJSON_IsString(yn)) {
      sb_html(b, y0->valuestring);
      if (y0 != yn) sb_puts(b, "–"), sb_html(b, yn->valuestring);
      first = 0;
    }
  }
  if (*ps_json_str(doc, "region")) {
    sb_puts(b, first ? "" : " · ");
    sb_html(b, ps_json_str(doc, "region"));
    first = 0;
  }
  cJSON_ArrayForEach(it, jget(doc, "types")) {
    if (!cJSON_IsString(it)) continue;
    sb_puts(b, first ? "" : " · ");
    sb_html(b, it->valuestring);
    first = 0;
  }
  if (*ps_json_str(doc, "doc_number")) {
    sb_puts(b, first ? "" : " · ");
    sb_html(b, ps_json_str(doc, "doc_number"));
  }
}

/* ---- the search page ---- */

static void head(sbuf *b, const char *title) {
  sb_puts(b,
          "<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
          "<title>");
  if (title && *title) {
    sb_html(b, title);
    sb_puts(b, " · ");
  }
  sb_puts(b, "政策文件检索</title><link rel=\"stylesheet\" href=\"/assets/style.css\">"
             "<link rel=\"icon\" href=\"data:,\"></head>\n<body>\n");
}

static void form(sbuf *b, const page_params *pp) {
  sb_puts(b, "<header class=\"top\"><a class=\"brand\" href=\"/\">政策文件检索</a>"
             "<form id=\"search\" action=\"/\" method=\"get\" role=\"search\">"
             "<input type=\"search\" id=\"q\" name=\"q\" list=\"projects\" autocomplete=\"off\" "
             "placeholder=\"关键词，如 通武廊、京津产业新城\" aria-label=\"关键词\" value=\"");
  sb_html(b, pp->q);
  sb_puts(b, "\" autofocus><datalist id=\"projects\"></datalist>");
  for (int i = 0; i < N_FILTERS; i++) {
    const char *v = filter_value(pp, i);
    if (!v || !*v) continue;
    sb_printf(b, "<input type=\"hidden\" name=\"%s\" value=\"", FILTERS[i]);
    sb_html(b, v);
    sb_puts(b, "\">");
  }
  if (pp->sort) sb_printf(b, "<input type=\"hidden\" name=\"sort\" value=\"%s\">", pp->sort);
  if (pp->view) sb_printf(b, "<input type=\"hidden\" name=\"view\" value=\"%s\">", pp->view);
  sb_puts(b, "<button type=\"submit\">搜索</button></form></header>\n");
}

static void facets(sbuf *b, const page_params *pp, const cJSON *f) {
  if (!f) return;
  sb_puts(b, "<aside class=\"facets\" aria-label=\"筛选\">");
  for (int i = 0; i < N_FILTERS; i++) {
    const cJSON *counts = jget(f, FILTERS[i]);
    if (!counts || !counts->child) continue;
    sb_printf(b, "<section class=\"facet\" data-field=\"%s\"><h3>%s</h3><ul>", FILTERS[i],
              FILTER_LABELS[i]);
    const cJSON *c;
    const char *cur = filter_value(pp, i);
    cJSON_ArrayForEach(c, counts) {
      int on = cur && strcmp(cur, c->string) == 0;
      sb_puts(b, on ? "<li class=\"on\"><a href=\"" : "<li><a href=\"");
      link(b, pp, FILTERS[i], on ? NULL : c->string, pp->sort, pp->view, 0);
      sb_puts(b, "\"><span class=\"name\">");
      sb_html(b, c->string);
      sb_printf(b, "</span> <span class=\"n\">%.0f</span></a></li>", c->valuedouble);
    }
    sb_puts(b, "</ul></section>");
  }
  sb_puts(b, "</aside>\n");
}

static void chips(sbuf *b, const page_params *pp) {
  int any = 0;
  for (int i = 0; i < N_FILTERS; i++) {
    const char *v = filter_value(pp, i);
    if (!v || !*v) continue;
    if (!any++) sb_puts(b, "<p class=\"chips\">");
    sb_puts(b, "<a class=\"chip\" title=\"取消此筛选\" href=\"");
    link(b, pp, FILTERS[i], NULL, pp->sort, pp->view, 0);
    sb_printf(b, "\">%s：", FILTER_LABELS[i]);
    sb_html(b, v);
    sb_puts(b, " ×</a>");
  }
  if (any) sb_puts(b, "</p>");
}

static void views(sbuf *b, const page_params *pp) {
  int tl = pp->view != NULL, date = !tl && pp->sort != NULL;
  sb_puts(b, "<nav class=\"views\">");
  sb_puts(b, !tl && !date ? "<span aria-current=\"page\">按相关度</span>" : "<a href=\"");
  if (tl || date) link(b, pp, NULL, NULL, NULL, NULL, 0), sb_puts(b, "\">按相关度</a>");
  sb_puts(b, date ? "<span aria-current=\"page\">按日期</span>" : "<a href=\"");
  if (!date) link(b, pp, NULL, NULL, "date", NULL, 0), sb_puts(b, "\">按日期</a>");
  sb_puts(b, tl ? "<span aria-current=\"page\">时间线</span>" : "<a href=\"");
  if (!tl) link(b, pp, NULL, NULL, NULL, "timeline", 0), sb_puts(b, "\">时间线</a>");
  sb_puts(b, "</nav>");
}

static void hit(sbuf *b, const page_params *pp, const cJSON *h) {
  const cJSON *doc = jget(h, "doc");
  size_t para = (size_t)ps_json_num(h, "paragraph");
  int exact = cJSON_IsTrue(jget(h, "exact")) || !jget(h, "exact");
  sb_puts(b, exact ? "<li class=\"hit\">" : "<li class=\"hit related\">");
  sb_puts(b, "<h2><a href=\"");
  read_link(b, ps_json_str(doc, "path"), para, pp->q);
  sb_puts(b, "\">");
  doc_title(b, doc);
  sb_puts(b, "</a></h2><p class=\"meta\">");
  doc_meta(b, doc);
  sb_printf(b, " · 第 %zu 段%s</p>", para + 1, exact ? "" : " · <em>相关</em>");
  if (*ps_json_str(h, "section")) {
    sb_puts(b, "<p class=\"section\">");
    sb_html(b, ps_json_str(h, "section"));
    sb_puts(b, "</p>");
  }
  sb_puts(b, "<p class=\"snippet\">");
  marked(b, ps_json_str(h, "snippet"), jget(h, "snippet_highlights"));
  sb_puts(b, "</p>");
  const cJSON *also = jget(h, "also_in"), *a;
  if (also && also->child) {
    sb_puts(b, "<p class=\"also\">相同内容另见：");
    int first = 1;
    cJSON_ArrayForEach(a, also) {
      sb_puts(b, first ? "<a href=\"" : "、<a href=\"");
      read_link(b, ps_json_str(a, "path"), (size_t)ps_json_num(a, "paragraph"), pp->q);
      sb_puts(b, "\">");
      const char *t = ps_json_str(a, "title");
      sb_html(b, *t ? t : base_name(ps_json_str(a, "path")));
      sb_puts(b, "</a>");
      first = 0;
    }
    sb_puts(b, "</p>");
  }
  sb_puts(b, "</li>\n");
}

static void pager(sbuf *b, const page_params *pp, const cJSON *ans) {
  double avail = ps_json_num(ans, "total") + ps_json_num(ans, "related_total") - ps_json_num(ans, "collapsed");
  size_t limit = pp->limit ? pp->limit : 10;
  size_t pages = (size_t)((avail + (double)limit - 1) / (double)limit);
  size_t cur = pp->offset / limit;
  if (pages <= 1 && pp->offset == 0) return;
  sb_puts(b, "<nav class=\"pager\" aria-label=\"分页\">");
  if (pp->offset > 0) {
    sb_puts(b, "<a rel=\"prev\" href=\"");
    link(b, pp, NULL, NULL, pp->sort, pp->view, pp->offset > limit ? pp->offset - limit : 0);
    sb_puts(b, "\">上一页</a>");
  }
  size_t from = cur > 3 ? cur - 3 : 0, to = cur + 4 < pages ? cur + 4 : pages;
  for (size_t i = from; i < to; i++) {
    if (i == cur) {
      sb_printf(b, "<span aria-current=\"page\">%zu</span>", i + 1);
      continue;
    }
    sb_puts(b, "<a href=\"");
    link(b, pp, NULL, NULL, pp->sort, pp->view, i * limit);
    sb_printf(b, "\">%zu</a>", i + 1);
  }
  if (cur + 1 < pages) {
    sb_puts(b, "<a rel=\"next\" href=\"");
    link(b, pp, NULL, NULL, pp->sort, pp->view, pp->offset + limit);
    sb_puts(b, "\">下一页</a>");
  }
  sb_puts(b, "</nav>\n");
}

static void timeline(sbuf *b, const page_params *pp, const cJSON *tl) {
  const cJSON *y, *d, *h;
  sb_puts(b, "<div class=\"timeline\">");
  cJSON_ArrayForEach(y, tl) {
    size_t n = 0;
    cJSON_ArrayForEach(d, jget(y, "documents")) n += (size_t)cJSON_GetArraySize(jget(d, "hits"));
    const char *year = ps_json_str(y, "year");
    sb_puts(b, "<section class=\"year\"><h2>");
    sb_html(b, *year ? year : "年份不详");
    sb_printf(b, " <span class=\"n\">%zu 段</span></h2>", n);
    cJSON_ArrayForEach(d, jget(y, "documents")) {
      sb_puts(b, "<h3>");
      const char *t = ps_json_str(d, "title");
      sb_html(b, *t ? t : base_name(ps_json_str(d, "path")));
      sb_puts(b, "</h3><ul>");
      cJSON_ArrayForEach(h, jget(d, "hits")) {
        size_t para = (size_t)ps_json_num(h, "paragraph");
        sb_puts(b, "<li><a class=\"para\" href=\"");
        read_link(b, ps_json_str(d, "path"), para, pp->q);
        sb_printf(b, "\">第 %zu 段</a> ", para + 1);
        marked(b, ps_json_str(h, "snippet"), jget(h, "snippet_highlights"));
        sb_puts(b, "</li>");
      }
      sb_puts(b, "</ul>");
    }
    sb_puts(b, "</section>");
  }
  sb_puts(b, "</div>\n");
}

static void results(sbuf *b, const page_params *pp, const cJSON *ans, const char *error) {
  sb_puts(b, "<main id=\"results\" aria-live=\"polite\">");
  if (error) {
    sb_puts(b, "<p class=\"error\" role=\"alert\">");
    sb_html(b, error);
    sb_puts(b, "</p>");
  } else if (!ans) {
    sb_puts(b, "<p class=\"hint\">在全部政策文件中逐段精确检索，例如 "
               "<a href=\"/?q=%E9%80%9A%E6%AD%A6%E5%BB%8A\">通武廊</a>、"
               "<a href=\"/?q=%E4%BA%AC%E6%B4%A5%E4%BA%A7%E4%B8%9A%E6%96%B0%E5%9F%8E\">"
               "京津产业新城</a>。多个词用空格分隔；支持 OR、-排除、\"短语\"、"
               "year:2024、region:武清 等写法。</p>");
  } else {
    sb_printf(b, "<p class=\"summary\">找到 <strong id=\"total\">%.0f</strong> 个段落",
              ps_json_num(ans, "total"));
    if (ps_json_num(ans, "related_total") > 0)
      sb_printf(b, "，另有 %.0f 个相关段落", ps_json_num(ans, "related_total"));
    if (ps_json_num(ans, "collapsed") > 0)
      sb_printf(b, "（%.0f 段重复内容已合并）", ps_json_num(ans, "collapsed"));
    sb_printf(b, " · 用时 <span id=\"took\">%.1f</span> 毫秒</p>", ps_json_num(ans, "took_ms"));
    chips(b, pp);
    views(b, pp);
    sb_puts(b, "<div class=\"body\">");
    facets(b, pp, jget(ans, "facets"));
    sb_puts(b, "<div class=\"list\">");
    const cJSON *tl = jget(ans, "timeline");
    if (tl) {
      timeline(b, pp, tl);
    } else {
      const cJSON *hits = jget(ans, "hits"), *h;
      if (!hits || !hits->child) sb_puts(b, "<p class=\"none\">没有找到匹配的段落。</p>");
      sb_printf(b, "<ol class=\"hits\" start=\"%zu\">", pp->offset + 1);
      int was_exact = 1;
      cJSON_ArrayForEach(h, hits) {
        int exact = !cJSON_IsFalse(jget(h, "exact"));
        if (was_exact && !exact)
          sb_puts(b, "<li class=\"divider\">以下段落与查询相关，但不包含完整的关键词</li>");
        was_exact = exact;
        hit(b, pp, h);
      }
      sb_puts(b, "</ol>");
      pager(b, pp, ans);
    }
    sb_puts(b, "</div></div>");
  }
  sb_puts(b, "</main>\n");
}

void page_search(sbuf *out, const page_params *pp, const cJSON *answer, const char *error,
                 int partial) {
  if (partial) {
    results(out, pp, answer, error);
    return;
  }
  head(out, pp->q);
  form(out, pp);
  results(out, pp, answer, error);
  sb_puts(out, "<script src=\"/assets/app.js\" defer></script>\n</body></html>\n");
}

void page_read(sbuf *out, const cJSON *doc, size_t para, const char *q) {
  const cJSON *d = jget(doc, "doc"), *p;
  head(out, ps_json_str(d, "title"));
  sb_puts(out, "<header class=\"top\"><a class=\"brand\" href=\"/\">政策文件检索</a>");
  if (q && *q) {
    sb_puts(out, "<a class=\"back\" href=\"/?q=");
    sb_url(out, q);
    sb_puts(out, "\">← 返回“");
    sb_html(out, q);
    sb_puts(out, "”的结果</a>");
  }
  sb_puts(out, "</header>\n<main class=\"reader\"><h1>");
  doc_title(out, d);
  sb_puts(out, "</h1><p class=\"meta\">");
  doc_meta(out, d);
  sb_printf(out, " · 共 %.0f 段</p><p class=\"path\">", ps_json_num(doc, "paragraphs_total"));
  sb_html(out, ps_json_str(d, "path"));
  sb_puts(out, "</p><article>");
  cJSON_ArrayForEach(p, jget(doc, "paragraphs")) {
    size_t n = (size_t)ps_json_num(p, "paragraph");
    int level = (int)ps_json_num(p, "heading_level");
    const char *cls = n == para ? " class=\"target\"" : "";
    if (level > 0) {
      int h = level + 1 > 6 ? 6 : level + 1;
      sb_printf(out, "<h%d id=\"p-%zu\"%s>", h, n, cls);
      marked(out, ps_json_str(p, "text"), jget(p, "highlights"));
      sb_printf(out, "</h%d>\n", h);
    } else {
      sb_printf(out, "<p id=\"p-%zu\"%s>", n, cls);
      marked(out, ps_json_str(p, "text"), jget(p, "highlights"));
      sb_puts(out, "</p>\n");
    }
  }
  sb_puts(out, "</article></main>\n</body></html>\n");
}

void page_error(sbuf *out, int status, const char *msg) {
  char title[32];
  snprintf(title, sizeof title, "%d", status);
  head(out, title);
  sb_puts(out, "<header class=\"top\"><a class=\"brand\" href=\"/\">政策文件检索</a></header>"
               "<main><p class=\"error\" role=\"alert\">");
  sb_html(out, msg);
  sb_puts(out, "</p></main></body></html>\n");
}
