/* render.c: terminal rendering for policy-search (see render.h). */
#include "render.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ps_browse.h"
#include "ps_json.h"
#include "ps_snippet.h"

typedef struct style {
  const char *hl_on, *hl_off, *dim, *bold, *off;
} style;

static style style_for(int color) {
  style s = {"\xc2\xab", "\xc2\xbb", "", "", ""}; /* «…» when not in colour */
  if (color) s = (style){"\033[1;31m", "\033[0m", "\033[2m", "\033[1m", "\033[0m"};
  return s;
}

static const char *base_name(const ps_hit *h) {
  const char *path = h->file ? h->file->path : "?";
  const char *b = strrchr(path, '/');
  return b ? b + 1 : path;
}

static void snippet(FILE *f, const ps_hit *h, const style *st) {
  ps_snippet sn;
  if (ps_snippet_make(h->text, h->text_len, h->highlights, h->n_highlights, PS_SNIPPET_WIDTH,
                      &sn) != PS_OK)
    return;
  fputs("   ", f);
  ps_snippet_write(f, sn.text, sn.len, sn.spans, sn.n_spans, st->hl_on, st->hl_off);
  fputs("\n\n", f);
  ps_snippet_free(&sn);
}

void render_hit(FILE *f, const ps_hit *h, size_t rank, int color, const ps_collapsed *also) {
  style st = style_for(color);
  const char *base = base_name(h);
  const char *title = h->file && h->file->title[0] ? h->file->title : base;
  fprintf(f, "%s%zu. %s%s\n", st.bold, rank, title, st.off);
  fprintf(f, "   %s%s ¶%u", st.dim, base, h->paragraph);
  if (h->file && h->file->years[0]) fprintf(f, " · %s", h->file->years);
  if (h->file && h->file->region[0]) fprintf(f, " · %s", h->file->region);
  if (h->file && h->file->types[0]) fprintf(f, " · %s", h->file->types);
  fprintf(f, "%s\n", st.off);
  if (h->section && h->section[0]) fprintf(f, "   %s%s%s\n", st.dim, h->section, st.off);
  if (also && also->n) {
    fprintf(f, "   %salso in:", st.dim);
    for (size_t k = 0; k < also->n; k++) {
      const char *p = also->also[k].file ? also->also[k].file->path : "?";
      const char *b = strrchr(p, '/');
      fprintf(f, "%s %s ¶%u", k ? "," : "", b ? b + 1 : p, also->also[k].paragraph);
    }
    fprintf(f, "%s\n", st.off);
  }
  snippet(f, h, &st);
}

static void summary(FILE *f, const ps_results *r, const char *q, const style *st) {
  fprintf(f, "%s%zu paragraph%s match%s %s", st->dim, r->total, r->total == 1 ? "" : "s",
          r->total == 1 ? "es" : "", q);
  if (r->related_total) fprintf(f, ", %zu related", r->related_total);
}

void render_results(FILE *f, const ps_results *r, const char *q, size_t offset, int color,
                    const ps_collapsed *groups, size_t collapsed, const char *facets_line) {
  style st = style_for(color);
  for (size_t i = 0; i < r->n_hits; i++) {
    if (r->hits[i].related && (i == 0 || !r->hits[i - 1].related))
      fprintf(f, "%s── related paragraphs, without the exact words (--exact leaves them out) ──%s\n\n",
              st.dim, st.off);
    render_hit(f, &r->hits[i], offset + i + 1, color, groups ? &groups[i] : NULL);
  }
  summary(f, r, q, &st);
  if (collapsed) fprintf(f, ", %zu near-duplicate%s folded", collapsed, collapsed == 1 ? "" : "s");
  if (r->n_hits) fprintf(f, " (showing %zu-%zu)", offset + 1, offset + r->n_hits);
  fprintf(f, ", %.1f ms%s\n", r->took_ms, st.off);
  if (facets_line && *facets_line) fprintf(f, "%s%s%s\n", st.dim, facets_line, st.off);
}

void render_timeline(FILE *f, const ps_results *r, const char *q, int color) {
  style st = style_for(color);
  char year[8], prev_year[8] = "?";
  const char *prev_path = NULL;
  for (size_t i = 0; i < r->n_hits; i++) {
    const ps_hit *h = &r->hits[i];
    ps_browse_year(h, year);
    if (strcmp(year, prev_year) != 0) {
      fprintf(f, "%s━━ %s ━━%s\n\n", st.bold, year[0] ? year : "(no year)", st.off);
      snprintf(prev_year, sizeof prev_year, "%s", year);
      prev_path = NULL;
    }
    if (!prev_path || !h->file || strcmp(prev_path, h->file->path) != 0) {
      const char *title = h->file && h->file->title[0] ? h->file->title : base_name(h);
      fprintf(f, "%s%s%s  %s%s%s\n", st.bold, title, st.off, st.dim, base_name(h), st.off);
      prev_path = h->file ? h->file->path : NULL;
    }
    fprintf(f, "   %s¶%u%s", st.dim, h->paragraph, st.off);
    if (h->section && h->section[0]) fprintf(f, " %s%s%s", st.dim, h->section, st.off);
    fputc('\n', f);
    snippet(f, h, &st);
  }
  summary(f, r, q, &st);
  fprintf(f, " in the timeline, %.1f ms%s\n", r->took_ms, st.off);
}

/* ---- paging ---- */

static char *g_buf;   /* the memstream's buffer (one pager per process) */
static size_t g_len;

FILE *pager_begin(void) {
  FILE *f = isatty(STDOUT_FILENO) ? open_memstream(&g_buf, &g_len) : NULL;
  return f ? f : stdout;
}

void pager_end(FILE *f) {
  if (f == stdout) {
    fflush(stdout);
    return;
  }
  fclose(f);
  size_t lines = 0;
  for (size_t i = 0; i < g_len; i++) lines += g_buf[i] == '\n';
  struct winsize ws;
  int rows = ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row ? ws.ws_row : 24;
  FILE *out = stdout;
  if (lines >= (size_t)rows) {
    const char *pager = getenv("PAGER");
    if (!pager || !*pager) pager = "less -R";
    if (strcmp(pager, "cat") != 0) out = popen(pager, "w");
    if (!out) out = stdout;
  }
  fwrite(g_buf, 1, g_len, out);
  if (out != stdout) pclose(out);
  else fflush(stdout);
  free(g_buf);
  g_buf = NULL;
}
