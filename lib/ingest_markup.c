/* ingest_markup.c: paragraphs from Markdown and HTML.
 *
 * Markdown: ATX (#) and setext headings, paragraphs separated by blank lines,
 * list items, block quotes; inline syntax (links, images, emphasis, code) is
 * removed.  Markdown made from PDFs splits paragraphs at page breaks, so a
 * paragraph that stops mid-sentence is continued by the next plain one.
 *
 * HTML: parsed with libxml2's forgiving HTML parser; block elements and <br>
 * are paragraph boundaries, h1-h6 are headings, <script>/<style> are dropped
 * and <title> is kept as a title candidate.  Jekyll posts often end with
 * Markdown link lines outside the HTML; those are cut out before parsing and
 * handled as Markdown text. */
#include "ingest_internal.h"

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- inline md */

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\n'; }

/* Index of the ')' closing the "(url ...)" that starts at s[i] == '(', or 0. */
static size_t close_paren(const char *s, size_t n, size_t i) {
  int depth = 0;
  for (size_t j = i; j < n; j++) {
    if (s[j] == '(') depth++;
    else if (s[j] == ')' && --depth == 0) return j;
    else if (s[j] == '\n') return 0;
  }
  return 0;
}

/* An inline HTML tag or autolink <...> starting at s[i]: its length, or 0. */
static size_t angle_len(const char *s, size_t n, size_t i) {
  if (i + 2 >= n) return 0;
  char c = s[i + 1];
  if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '/' || c == '!'))
    return 0;
  for (size_t j = i + 1; j < n && j < i + 2048; j++) {
    if (s[j] == '>') return j - i + 1;
    if (s[j] == '<' || s[j] == '\n') return 0;
  }
  return 0;
}

int ing_md_strip_inline(const char *s, size_t n, ing_buf *out) {
  size_t i = 0;
  int rc = ing_buf_append(out, "", 0);
  while (!rc && i < n) {
    char c = s[i];
    if (c == '\\' && i + 1 < n && strchr("\\`*_{}[]()#+-.!<>|~", s[i + 1])) {
      rc = ing_buf_putc(out, s[i + 1]);
      i += 2;
    } else if ((c == '[' || (c == '!' && i + 1 < n && s[i + 1] == '['))) {
      /* [text](url) -> text; ![alt](url) -> nothing; [text][ref] -> text */
      size_t open = c == '!' ? i + 1 : i, j, depth = 0;
      for (j = open; j < n; j++) {
        if (s[j] == '[') depth++;
        else if (s[j] == ']' && --depth == 0) break;
      }
      size_t end = 0;
      if (j < n && j + 1 < n && s[j + 1] == '(') end = close_paren(s, n, j + 1);
      else if (j < n && j + 1 < n && s[j + 1] == '[') {
        const char *q = memchr(s + j + 1, ']', n - j - 1);
        if (q) end = (size_t)(q - s);
      }
      if (!end) {
        rc = ing_buf_putc(out, c);
        i++;
        continue;
      }
      if (c != '!') rc = ing_md_strip_inline(s + open + 1, j - open - 1, out);
      i = end + 1;
    } else if (c == '<' && angle_len(s, n, i)) {
      i += angle_len(s, n, i); /* autolinks and inline tags are markup */
    } else if ((c == '*' || c == '_') && i + 1 < n && s[i + 1] == c) {
      i += 2; /* ** and __ emphasis */
    } else if (c == '*' && i + 1 < n && !is_blank(s[i + 1]) &&
               memchr(s + i + 1, '*', n - i - 1)) {
      i++; /* *emphasis*: drop the opening star; the closing one follows */
    } else if (c == '*' && i > 0 && !is_blank(s[i - 1]) &&
               (i + 1 == n || s[i + 1] != '*')) {
      i++;
    } else if (c == '`') {
      i++;
    } else {
      rc = ing_buf_putc(out, c);
      i++;
    }
  }
  return rc ? PS_ERR_NOMEM : PS_OK;
}

/* ------------------------------------------------------------- markdown */

typedef struct md_state {
  ing_blocks *out;
  ing_buf para;     /* raw lines of the open paragraph */
  ing_buf clean;    /* scratch: inline syntax removed */
  int para_list;    /* the open paragraph is a list item */
  int prev_open;    /* the last block is a plain paragraph without a final
                       punctuation mark (cut by a page break) */
} md_state;

static int md_flush(md_state *st) {
  int rc = PS_OK;
  if (!st->para.len) return PS_OK;
  st->clean.len = 0;
  if ((rc = ing_md_strip_inline(st->para.s, st->para.len, &st->clean))) return rc;
  ing_blocks *b = st->out;
  const char *t = st->clean.s;
  size_t n = st->clean.len;
  while (n && is_blank(*t)) t++, n--;
  while (n && is_blank(t[n - 1])) n--;
  if (!n) {
    st->para.len = 0;
    return PS_OK;
  }
  if (st->prev_open && b->n && !st->para_list && !ing_item_start(t, n)) {
    /* continue the previous paragraph, cut by a page break */
    ing_block *last = &b->v[b->n - 1];
    ing_buf m = {last->text, last->len, last->len + 1};
    if ((rc = ing_buf_join_line(&m, t, n))) {
      last->text = m.s;
      return rc;
    }
    last->text = m.s;
    last->len = m.len;
  } else {
    size_t before = b->n;
    /* a list item is body text ("- 1. 地区生产总值同比增长 5%") unless it
     * carries a section marker: "- (二)坚持推进..." is a heading that the
     * PDF-to-Markdown conversion turned into a bullet */
    int mk = ing_marker(t, n, NULL);
    int level = ING_DETECT;
    if (st->para_list && (mk == ING_MK_NONE || mk == ING_MK_NUM || mk == ING_MK_PNUM))
      level = ING_BODY;
    if ((rc = ing_blocks_add(b, t, n, level))) return rc;
    if (b->n == before) {
      st->para.len = 0;
      return PS_OK;
    }
  }
  ing_block *last = &b->v[b->n - 1];
  /* list items too: their text continues after a page break */
  st->prev_open = !ing_ends_sentence(last->text, last->len);
  st->para.len = 0;
  st->para_list = 0;
  return PS_OK;
}

static int md_heading(md_state *st, const char *t, size_t n, int level) {
  int rc = md_flush(st);
  if (rc) return rc;
  st->clean.len = 0;
  if ((rc = ing_md_strip_inline(t, n, &st->clean))) return rc;
  st->prev_open = 0;
  return ing_blocks_add(st->out, st->clean.s, st->clean.len, level);
}

/* Length of a list bullet ("- ", "* ", "+ ") at s, or 0. */
static size_t bullet_len(const char *s, size_t n) {
  if (n >= 2 && (s[0] == '-' || s[0] == '*' || s[0] == '+') && (s[1] == ' ' || s[1] == '\t'))
    return 2;
  return 0;
}

static int all_chars(const char *s, size_t n, char c) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == c) k++;
    else if (s[i] != ' ' && s[i] != '\t') return 0;
  }
  return k >= 3 || (k >= 1 && c == '=');
}

int ing_parse_markdown(const char *s, size_t n, ing_blocks *out) {
  md_state st = {out, {0}, {0}, 0, 0};
  int rc = PS_OK, fence = 0;
  size_t i = 0;
  while (i < n && !rc) {
    const char *nl = memchr(s + i, '\n', n - i);
    size_t end = nl ? (size_t)(nl - s) : n;
    const char *l = s + i;
    size_t len = end - i;
    i = end + 1;
    size_t ind = 0;
    while (ind < len && (l[ind] == ' ' || l[ind] == '\t')) ind++;
    const char *t = l + ind;
    size_t tn = len - ind;
    while (tn && (t[tn - 1] == ' ' || t[tn - 1] == '\t')) tn--;
    if (tn >= 3 && (memcmp(t, "```", 3) == 0 || memcmp(t, "~~~", 3) == 0)) {
      rc = md_flush(&st);
      fence = !fence;
      continue;
    }
    if (!tn) {
      rc = md_flush(&st);
      continue;
    }
    if (fence) { /* code: kept as text, one block per line */
      rc = ing_blocks_add(out, t, tn, ING_BODY);
      continue;
    }
    if (ind < 4 && t[0] == '#') {
      int lv = 0;
      while (lv < (int)tn && t[lv] == '#') lv++;
      if (lv <= 6 && (lv == (int)tn || t[lv] == ' ' || t[lv] == '\t')) {
        size_t hn = tn;
        while (hn > (size_t)lv && t[hn - 1] == '#') hn--; /* closing #'s */
        rc = md_heading(&st, t + lv, hn - lv, lv);
        continue;
      }
    }
    if (st.para.len && !st.para_list && (all_chars(t, tn, '=') || all_chars(t, tn, '-'))) {
      /* setext heading: the open paragraph is its text */
      int lv = t[0] == '=' ? 1 : 2;
      ing_buf h = st.para;
      st.para = (ing_buf){0};
      rc = md_heading(&st, h.s, h.len, lv);
      ing_buf_free(&h);
      continue;
    }
    if (all_chars(t, tn, '-') || all_chars(t, tn, '*') || all_chars(t, tn, '_')) {
      rc = md_flush(&st); /* thematic break */
      continue;
    }
    while (tn && t[0] == '>') { /* block quote */
      t++, tn--;
      while (tn && (t[0] == ' ' || t[0] == '\t')) t++, tn--;
    }
    size_t bl = bullet_len(t, tn);
    if (bl) {
      if ((rc = md_flush(&st))) break;
      st.para_list = 1;
      t += bl;
      tn -= bl;
    }
    rc = ing_buf_join_line(&st.para, t, tn);
  }
  if (!rc) rc = md_flush(&st);
  ing_buf_free(&st.para);
  ing_buf_free(&st.clean);
  return rc;
}

/* ----------------------------------------------------------------- HTML */

typedef struct html_state {
  ing_blocks *out;
  ing_buf cur;
  int rc;
} html_state;

static int is_block_name(const char *n) {
  static const char *const names[] = {
      "p", "div", "li", "ul", "ol", "dl", "dt", "dd", "table", "tr", "td", "th",
      "thead", "tbody", "tfoot", "caption", "blockquote", "section", "article",
      "header", "footer", "nav", "aside", "main", "pre", "figure", "figcaption",
      "form", "hr", "address", "center", "fieldset", "legend", "body", "html",
      "details", "summary", "option", NULL};
  for (int i = 0; names[i]; i++)
    if (strcmp(n, names[i]) == 0) return 1;
  return 0;
}

static void html_flush(html_state *st, int level) {
  if (st->rc) return;
  if (st->cur.len) st->rc = ing_blocks_add(st->out, st->cur.s, st->cur.len, level);
  st->cur.len = 0;
}

/* Appends a text node, collapsing whitespace runs as HTML does, except that a
 * line break between two CJK characters disappears (no space in Chinese). */
static void html_text(html_state *st, const char *t) {
  size_t n = strlen(t), i = 0;
  while (i < n && !st->rc) {
    if (is_blank(t[i]) || t[i] == '\r' || t[i] == '\f') {
      int newline = 0;
      while (i < n && (is_blank(t[i]) || t[i] == '\r' || t[i] == '\f')) newline |= t[i++] == '\n';
      int prev_cjk = st->cur.len && (unsigned char)st->cur.s[st->cur.len - 1] >= 0x80;
      int next_cjk = i < n && (unsigned char)t[i] >= 0x80;
      if (st->cur.len && st->cur.s[st->cur.len - 1] != ' ' && !(newline && prev_cjk && next_cjk))
        st->rc = ing_buf_putc(&st->cur, ' ');
    } else if ((unsigned char)t[i] == 0xC2 && i + 1 < n && (unsigned char)t[i + 1] == 0xA0) {
      st->rc = ing_buf_putc(&st->cur, ' '); /* &nbsp; */
      i += 2;
    } else {
      st->rc = ing_buf_putc(&st->cur, t[i++]);
    }
  }
}

static void html_walk(html_state *st, xmlNode *node) {
  for (xmlNode *c = node; c && !st->rc; c = c->next) {
    if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
      if (c->content) html_text(st, (const char *)c->content);
      continue;
    }
    if (c->type != XML_ELEMENT_NODE) continue;
    const char *name = (const char *)c->name;
    if (!strcmp(name, "script") || !strcmp(name, "style") || !strcmp(name, "noscript") ||
        !strcmp(name, "template") || !strcmp(name, "head") || !strcmp(name, "meta") ||
        !strcmp(name, "link")) {
      if (!strcmp(name, "head")) {
        /* only <title> matters in the head */
        for (xmlNode *h = c->children; h; h = h->next)
          if (h->type == XML_ELEMENT_NODE && !strcmp((const char *)h->name, "title") &&
              !st->out->title) {
            xmlChar *tx = xmlNodeGetContent(h);
            if (tx) {
              ing_buf tb = {0};
              html_state ts = {st->out, tb, 0};
              html_text(&ts, (const char *)tx);
              xmlFree(tx);
              if (ts.cur.len) st->out->title = ts.cur.s;
              else ing_buf_free(&ts.cur);
              if (ts.rc) st->rc = ts.rc;
            }
          }
      }
      continue;
    }
    if (!strcmp(name, "title")) continue; /* a <title> outside <head> */
    if (name[0] == 'h' && name[1] >= '1' && name[1] <= '6' && !name[2]) {
      html_flush(st, ING_DETECT);
      html_walk(st, c->children);
      html_flush(st, name[1] - '0');
      continue;
    }
    if (!strcmp(name, "br")) {
      html_flush(st, ING_DETECT);
      continue;
    }
    int block = is_block_name(name);
    if (block) html_flush(st, ING_DETECT);
    html_walk(st, c->children);
    if (block) html_flush(st, ING_DETECT);
  }
}

static int html_segment(const char *name, const char *s, size_t n, ing_blocks *out,
                        ps_error *err) {
  size_t k = 0;
  while (k < n && is_blank(s[k])) k++;
  if (k == n) return PS_OK;
  htmlDocPtr doc = htmlReadMemory(s, (int)n, NULL, "UTF-8",
                                  HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
                                      HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
  if (!doc) return ps_error_set(err, PS_ERR_FORMAT, "%s: HTML could not be parsed", name);
  html_state st = {out, {0}, 0};
  html_walk(&st, xmlDocGetRootElement(doc));
  html_flush(&st, ING_DETECT);
  ing_buf_free(&st.cur);
  xmlFreeDoc(doc);
  if (st.rc) return ps_error_set(err, st.rc, "%s: out of memory", name);
  return PS_OK;
}

/* A Markdown link or autolink line outside the HTML: [text](url) ... or
 * <http://...>. */
static int md_link_line(const char *l, size_t n) {
  while (n && is_blank(*l)) l++, n--;
  if (n && l[0] == '[') return memmem(l, n, "](", 2) != NULL;
  if (n > 8 && l[0] == '<' && l[n - 1] == '>')
    return memmem(l, n, "://", 3) != NULL && !memchr(l, ' ', n);
  return 0;
}

int ing_parse_html(const char *name, const char *s, size_t n, ing_blocks *out,
                   ps_error *err) {
  size_t i = 0, seg = 0;
  int rc = PS_OK;
  ing_buf clean = {0};
  while (i <= n && !rc) {
    const char *nl = i < n ? memchr(s + i, '\n', n - i) : NULL;
    size_t end = nl ? (size_t)(nl - s) : n;
    if (i < n && md_link_line(s + i, end - i)) {
      /* parse the HTML before it, then keep the link text */
      if ((rc = html_segment(name, s + seg, i - seg, out, err))) break;
      clean.len = 0;
      if ((rc = ing_md_strip_inline(s + i, end - i, &clean)) ||
          (rc = ing_blocks_add(out, clean.s, clean.len, ING_DETECT))) {
        rc = ps_error_set(err, rc, "%s: out of memory", name);
        break;
      }
      seg = end + 1 < n ? end + 1 : n;
    }
    if (end >= n) {
      rc = html_segment(name, s + seg, n - seg, out, err);
      break;
    }
    i = end + 1;
  }
  ing_buf_free(&clean);
  return rc;
}
