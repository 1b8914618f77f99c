/* ingest.c: the public entry points of ingestion (see ps_ingest.h).
 *
 * Reads the file, decodes it (ingest_decode.c) or, for a PDF, extracts its
 * text (ingest_pdf.c), takes off YAML front matter, picks the format (by
 * extension, else by sniffing the content), lets the format's parser cut the
 * text into blocks (ingest_text.c, ingest_markup.c)
 * and finally builds the ps_doc: document title, heading levels from the
 * numbering systems of Chinese official documents, and the section path of
 * every paragraph. */
#include "ingest_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define SECTION_SEP " \xE2\x80\xBA " /* " › " */
#define MAX_DEPTH 16
#define MAX_HEADING_CPS 60 /* a heading sentence longer than this is body text */

/* ---------------------------------------------------------- front matter */

static char *dup_n(const char *s, size_t n) {
  char *p = malloc(n + 1);
  if (!p) return NULL;
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

static int is_iso_date(const char *v, size_t n) {
  static const char pat[] = "dddd-dd-dd";
  if (n < 10) return 0;
  for (int i = 0; i < 10; i++) {
    if (pat[i] == 'd' ? !(v[i] >= '0' && v[i] <= '9') : v[i] != '-') return 0;
  }
  return n == 10 || v[10] == ' ' || v[10] == 'T' || v[10] == 't';
}

/* The fields of front matter we keep (NULL when absent). */
typedef struct front {
  char *title, *date, *categories, *tags;
} front;

/* A YAML list value as a comma-separated string: "[a, b]", "a b" (Jekyll
 * separates categories by spaces) or "a, b". */
static char *list_value(const char *v, size_t n) {
  if (n >= 2 && v[0] == '[' && v[n - 1] == ']') v++, n -= 2;
  char *out = malloc(n + 1);
  size_t o = 0;
  if (!out) return NULL;
  for (size_t i = 0; i < n;) {
    while (i < n && (v[i] == ' ' || v[i] == ',' || v[i] == '\t')) i++;
    size_t st = i;
    while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t') i++;
    size_t a = st, b = i;
    if (b > a && (v[a] == '"' || v[a] == '\'') && v[b - 1] == v[a]) a++, b--;
    if (b > a) {
      if (o) out[o++] = ',';
      memcpy(out + o, v + a, b - a);
      o += b - a;
    }
  }
  out[o] = '\0';
  return out;
}

/* Appends item to the comma-separated list *slot (a YAML "- item" line). */
static int list_append(char **slot, const char *v, size_t n) {
  if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) v++, n -= 2;
  size_t old = *slot ? strlen(*slot) : 0;
  char *s = realloc(*slot, old + n + 2);
  if (!s) return PS_ERR_NOMEM;
  if (old) s[old++] = ',';
  memcpy(s + old, v, n);
  s[old + n] = '\0';
  *slot = s;
  return PS_OK;
}

static void front_free(front *f) {
  free(f->title);
  free(f->date);
  free(f->categories);
  free(f->tags);
}

/* Recognises a YAML front matter block (--- ... --- or ...) at the start of
 * s and returns its length (0 if none); title, date, categories and tags are
 * copied out.  PS_ERR_NOMEM is reported through *rc. */
static size_t front_matter(const char *s, size_t n, front *fr, int *rc) {
  char **title = &fr->title, **date = &fr->date, **list_slot = NULL;
  size_t i;
  *rc = PS_OK;
  if (n < 4 || memcmp(s, "---", 3) != 0) return 0;
  for (i = 3; i < n && (s[i] == ' ' || s[i] == '\t'); i++) {}
  if (i >= n || s[i] != '\n') return 0;
  i++;
  /* find the closing line first: without it this is not front matter */
  size_t body_end = 0, end = 0;
  for (size_t j = i; j < n;) {
    const char *nl = memchr(s + j, '\n', n - j);
    size_t e = nl ? (size_t)(nl - s) : n, k = e;
    while (k > j && (s[k - 1] == ' ' || s[k - 1] == '\t')) k--;
    if (k - j == 3 && (memcmp(s + j, "---", 3) == 0 || memcmp(s + j, "...", 3) == 0)) {
      body_end = j;
      end = nl ? e + 1 : n;
      break;
    }
    j = e + 1;
  }
  if (!end) return 0;
  for (size_t j = i; j < body_end;) {
    const char *nl = memchr(s + j, '\n', body_end - j);
    size_t e = nl ? (size_t)(nl - s) : body_end;
    const char *colon = memchr(s + j, ':', e - j);
    size_t ind = j;
    while (ind < e && (s[ind] == ' ' || s[ind] == '\t')) ind++;
    if (list_slot && ind + 1 < e && s[ind] == '-' && s[ind + 1] == ' ') {
      /* a block list item under categories: / tags: */
      size_t a = ind + 2, b = e;
      while (a < b && s[a] == ' ') a++;
      while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t')) b--;
      if (b > a && list_append(list_slot, s + a, b - a)) *rc = PS_ERR_NOMEM;
      j = e + 1;
      continue;
    }
    list_slot = NULL;
    if (colon && s[j] != ' ' && s[j] != '#') {
      size_t klen = (size_t)(colon - (s + j));
      const char *v = colon + 1;
      size_t vn = (size_t)(s + e - v);
      while (vn && (*v == ' ' || *v == '\t')) v++, vn--;
      while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t')) vn--;
      if (vn >= 2 && (v[0] == '"' || v[0] == '\'') && v[vn - 1] == v[0]) v++, vn -= 2;
      char **slot = NULL;
      if ((klen == 10 && memcmp(s + j, "categories", 10) == 0) ||
          (klen == 8 && memcmp(s + j, "category", 8) == 0) ||
          (klen == 4 && memcmp(s + j, "tags", 4) == 0)) {
        char **ls = s[j] == 't' ? &fr->tags : &fr->categories;
        if (vn == 0) {
          list_slot = ls; /* a block list follows */
        } else if (!*ls) {
          *ls = list_value(v, vn);
          if (!*ls) *rc = PS_ERR_NOMEM;
        }
      } else if (klen == 5 && memcmp(s + j, "title", 5) == 0) slot = title;
      else if (klen == 4 && memcmp(s + j, "date", 4) == 0 && is_iso_date(v, vn)) {
        slot = date;
        vn = 10;
      }
      if (slot && !*slot && vn) {
        *slot = dup_n(v, vn);
        if (!*slot) *rc = PS_ERR_NOMEM;
      }
    }
    j = e + 1;
  }
  return end;
}

/* ---------------------------------------------------------------- format */

enum { FMT_PDF, FMT_TEXT, FMT_MD, FMT_HTML, FMT_PDF_FILE };

static const char *ext_of(const char *name) {
  const char *slash = strrchr(name, '/');
  const char *dot = strrchr(slash ? slash : name, '.');
  return dot ? dot + 1 : "";
}

static int sniff(const char *s, size_t n) {
  size_t i = 0;
  while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')) i++;
  if (i + 1 < n && s[i] == '<' &&
      ((s[i + 1] >= 'a' && s[i + 1] <= 'z') || (s[i + 1] >= 'A' && s[i + 1] <= 'Z') ||
       s[i + 1] == '!'))
    return FMT_HTML;
  /* Markdown if some line is an ATX heading */
  for (size_t j = 0; j < n;) {
    const char *nl = memchr(s + j, '\n', n - j);
    size_t e = nl ? (size_t)(nl - s) : n, k = j;
    while (k < e && s[k] == '#') k++;
    if (k > j && k - j <= 6 && k < e && s[k] == ' ') return FMT_MD;
    j = e + 1;
  }
  return ing_text_looks_pdf(s, n) ? FMT_PDF : FMT_TEXT;
}

static int pick_format(const char *name, const char *s, size_t n) {
  const char *e = ext_of(name);
  if (!strcasecmp(e, "md") || !strcasecmp(e, "markdown") || !strcasecmp(e, "mdown") ||
      !strcasecmp(e, "mkd"))
    return FMT_MD;
  if (!strcasecmp(e, "html") || !strcasecmp(e, "htm") || !strcasecmp(e, "xhtml"))
    return FMT_HTML;
  if (!strcasecmp(e, "txt") || !strcasecmp(e, "text"))
    return ing_text_looks_pdf(s, n) ? FMT_PDF : FMT_TEXT;
  return sniff(s, n);
}

/* ------------------------------------------------------- doc building */

static size_t count_cps(const char *s, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) k += ((unsigned char)s[i] & 0xC0) != 0x80;
  return k;
}

/* Byte offset of the first 。！？!? in s, or n. */
static size_t first_sentence_end(const char *s, size_t n) {
  size_t i = 0, adv;
  while (i < n) {
    int32_t c = ing_cp_at(s + i, n - i, &adv);
    if (c == 0x3002 || c == 0xFF01 || c == 0xFF1F || c == '!' || c == '?') return i;
    i += adv;
  }
  return n;
}

/* A first paragraph that can serve as the document title: short-ish, not a
 * sentence, not an addressee line, not a bare word like 序  言. */
static int looks_like_title(const char *s, size_t n) {
  size_t cps = count_cps(s, n), spaces = 0;
  for (size_t i = 0; i < n; i++) spaces += s[i] == ' ';
  if (cps > 100 || cps - spaces < 5) return 0;
  if (first_sentence_end(s, n) < n) return 0;
  int32_t last = ing_last_cp(s, n, NULL);
  return !(last == 0xFF1A || last == ':' || last == 0xFF0C || last == ',' ||
           last == 0xFF1B || last == ';' || last == 0x3001);
}

typedef struct heading {
  int level;
  int box;  /* a box caption (专题二 / 专栏 1), outside the numbering */
  char *text;
} heading;

/* 专题二: / 专栏 1: the caption of a side box.  Markdown made from PDFs gives
 * these random # levels; they belong under the section they appear in. */
static int is_box_caption(const char *s, size_t n) {
  return (n > 6 && (!memcmp(s, "专题", 6) || !memcmp(s, "专栏", 6))) &&
         ing_item_start(s, n);
}

/* The section path of the open headings. */
static char *section_path(const heading *st, int depth) {
  ing_buf b = {0};
  if (ing_buf_append(&b, "", 0)) return NULL;
  for (int i = 0; i < depth; i++) {
    if ((i && ing_buf_append(&b, SECTION_SEP, strlen(SECTION_SEP))) ||
        ing_buf_append(&b, st[i].text, strlen(st[i].text))) {
      ing_buf_free(&b);
      return NULL;
    }
  }
  return b.s;
}

/* Decides whether block b is a heading: returns its level (0 = body) and the
 * heading text in *head / *head_len.  rank[] and last_ord[] carry the state
 * of the document's numbering systems. */
static int heading_of(const ing_block *b, int *rank, int *next_rank, int *last_ord,
                      size_t *head_len) {
  int ord = 0;
  int mk = ing_marker(b->text, b->len, &ord);
  *head_len = b->len;
  if (b->level == ING_BODY) return 0;
  if (b->level == ING_DETECT) {
    if (mk == ING_MK_NONE) return 0;
    /* ordinals must run in sequence: "2．〔 〕数据为五年累计数" after a note
     * "注：1．..." is not a heading; a new series always starts at 1 */
    if (mk != ING_MK_CHAPTER && mk != ING_MK_SECTION && ord != 1 &&
        !(last_ord[mk] && ord > last_ord[mk] && ord <= last_ord[mk] + 3))
      return 0;
    /* the heading is the first sentence of the paragraph: （一）坚持谋大局、
     * 扩优势，京津冀协同发展连创佳绩。“新产业之城”建设提速。... */
    size_t e = first_sentence_end(b->text, b->len);
    if (count_cps(b->text, e) > MAX_HEADING_CPS) return 0;
    *head_len = e;
  }
  if (mk == ING_MK_NONE) return b->level; /* Markdown #, HTML h1-h6 */
  /* numbered headings take the level of their numbering system, in the
   * order the systems first appear (一、 outer, （一） inner, ...), also
   * when written as Markdown headings: "# 一、" and "#### 二、" are peers */
  if (!rank[mk]) rank[mk] = (*next_rank)++;
  last_ord[mk] = ord;
  return rank[mk];
}

static int build_doc(const ing_blocks *bl, int fmt, ps_doc *d) {
  heading st[MAX_DEPTH];
  int depth = 0, rc = PS_OK;
  int rank[ING_MK_COUNT] = {0}, last_ord[ING_MK_COUNT] = {0}, next_rank = 1;
  char *path = NULL;

  if (!d->title[0]) {
    const char *t = bl->title;
    if (!t && fmt == FMT_HTML) {
      for (size_t i = 0; i < bl->n && !t; i++)
        if (bl->v[i].level == 1) t = bl->v[i].text;
    } else if (!t && bl->n && looks_like_title(bl->v[0].text, bl->v[0].len)) {
      t = bl->v[0].text;
    }
    if (t && (rc = ps_doc_set_title(d, t))) return rc;
  }
  for (size_t i = 0; i < bl->n; i++) {
    const ing_block *b = &bl->v[i];
    size_t hl;
    int level = heading_of(b, rank, &next_rank, last_ord, &hl);
    while (hl && (b->text[hl - 1] == ' ' || b->text[hl - 1] == '\t')) hl--;
    int box = level > 0 && b->level > 0 && is_box_caption(b->text, b->len);
    if (box) {
      /* one level below the innermost open (non-box) heading */
      while (depth && st[depth - 1].box) free(st[--depth].text);
      level = depth ? st[depth - 1].level + 1 : 1;
    }
    if (level > 0 && hl) {
      while (depth && st[depth - 1].level >= level) free(st[--depth].text);
      if (depth == MAX_DEPTH) free(st[--depth].text);
      st[depth].text = dup_n(b->text, hl);
      if (!st[depth].text) {
        rc = PS_ERR_NOMEM;
        goto done;
      }
      st[depth].box = box;
      st[depth++].level = level;
      free(path);
      path = NULL;
    }
    if (!path && !(path = section_path(st, depth))) {
      rc = PS_ERR_NOMEM;
      goto done;
    }
    if ((rc = ps_doc_add(d, b->text, b->len, path, level > 0 ? level : 0))) goto done;
  }
done:
  while (depth) free(st[--depth].text);
  free(path);
  return rc;
}

/* ---------------------------------------------------------------- entry */

int ps_ingest_buffer(const char *name, const char *data, size_t len,
                     const ps_ingest_opts *opts, ps_doc **out, ps_error *err) {
  static const char *const fmt_names[] = {"pdf-text", "text", "markdown", "html", "pdf"};
  char *text = NULL;
  front fr = {NULL, NULL, NULL, NULL};
  size_t n = 0;
  ing_blocks bl = {0};
  ps_doc *d = NULL;
  int rc;

  if (!name) name = "(buffer)";
  if (!out || (!data && len)) return ps_error_set(err, PS_ERR_USAGE, "%s: bad arguments", name);
  *out = NULL;
  if (!data) data = "";
  /* a PDF by its name or its content: its text comes from pdftotext */
  int pdf = !strcasecmp(ext_of(name), "pdf") || ing_looks_pdf_file(data, len);
  if (pdf) rc = ing_pdf_text(name, data, len, opts, &text, &n, err);
  else rc = ing_decode(name, data, len, opts, &text, &n, err);
  if (rc) return rc;

  size_t fm = pdf ? 0 : front_matter(text, n, &fr, &rc);
  if (rc) goto nomem;
  const char *body = text + fm;
  size_t bn = n - fm;
  int fmt = pdf ? FMT_PDF_FILE : pick_format(name, body, bn);

  d = ps_doc_new();
  if (!d) goto nomem;
  d->format = fmt_names[fmt];
  if ((fr.title && ps_doc_set_title(d, fr.title)) || (fr.date && ps_doc_set_date(d, fr.date)) ||
      (fr.categories && ps_doc_set_categories(d, fr.categories)) ||
      (fr.tags && ps_doc_set_tags(d, fr.tags)))
    goto nomem;

  switch (fmt) {
  case FMT_PDF:
  case FMT_PDF_FILE: rc = ing_parse_pdftext(body, bn, &bl); break;
  case FMT_TEXT: rc = ing_parse_plaintext(body, bn, &bl); break;
  case FMT_MD: rc = ing_parse_markdown(body, bn, &bl); break;
  default: rc = ing_parse_html(name, body, bn, &bl, err); break;
  }
  if (rc == PS_ERR_NOMEM) goto nomem;
  if (rc) goto fail; /* err already names the file */
  if ((rc = build_doc(&bl, fmt, d))) goto nomem;
  *out = d;
  d = NULL;
  goto done;
nomem:
  rc = ps_error_set(err, PS_ERR_NOMEM, "%s: out of memory", name);
fail:
  ps_doc_free(d);
done:
  ing_blocks_free(&bl);
  free(text);
  front_free(&fr);
  return rc;
}

int ps_ingest_file(const char *path, const ps_ingest_opts *opts, ps_doc **out,
                   ps_error *err) {
  int rc;
  char *buf = NULL;
  size_t len = 0, cap;
  struct stat sb;
  if (!path || !out) return ps_error_set(err, PS_ERR_USAGE, "ps_ingest_file: bad arguments");
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f)
    return ps_error_set(err, errno == ENOENT ? PS_ERR_NOTFOUND : PS_ERR_IO, "%s: %s", path,
                        strerror(errno));
  if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
    rc = ps_error_set(err, PS_ERR_IO, "%s: is a directory", path);
    goto done;
  }
  /* the size is only a hint: read until EOF (pipes, growing files) */
  cap = (sb.st_size > 0 ? (size_t)sb.st_size : 0) + 4096;
  buf = malloc(cap);
  if (!buf) {
    rc = ps_error_set(err, PS_ERR_NOMEM, "%s: out of memory", path);
    goto done;
  }
  for (;;) {
    if (len == cap) {
      char *nb = realloc(buf, cap * 2);
      if (!nb) {
        rc = ps_error_set(err, PS_ERR_NOMEM, "%s: out of memory", path);
        goto done;
      }
      buf = nb;
      cap *= 2;
    }
    size_t k = fread(buf + len, 1, cap - len, f);
    len += k;
    if (k == 0) break;
  }
  if (ferror(f)) {
    rc = ps_error_set(err, PS_ERR_IO, "%s: %s", path, strerror(errno));
    goto done;
  }
  rc = ps_ingest_buffer(path, buf, len, opts, out, err);
done:
  free(buf);
  fclose(f);
  return rc;
}
