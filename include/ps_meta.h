/* ps_meta.h: document metadata: what a report is, for filtering and sorting.
 *
 * Derived from the document itself (title, front matter, the first
 * paragraphs: session date, 天津市武清区, 政府工作报告, 津政发〔2021〕3号 …), then
 * overridden field by field by a sidecar file NAME.meta.json beside the
 * document (NAME is the document's file name, with or without its
 * extension).  Used by the indexer, stored with the file registry and as
 * Xapian filter terms on every paragraph. */
#ifndef PS_META_H
#define PS_META_H

#include "ps_doc.h"
#include "ps_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Every field is an owned, NUL-terminated string, "" when unknown.  Lists
 * are comma-separated. */
typedef struct ps_meta {
  char *title;
  char *date;        /* "YYYY-MM-DD" */
  char *years;       /* years the document covers, ascending: "2024,2025" */
  char *region;      /* e.g. "天津市武清区" */
  char *types;       /* e.g. "政府工作报告", "计划执行情况报告", "五年规划纲要",
                        "新闻报道", "通知" (several possible) */
  char *issuer;      /* 发文机关, e.g. "天津市西青区人民政府" */
  char *doc_number;  /* 发文字号, e.g. "津政发〔2021〕3号" */
  char *categories;  /* front matter */
  char *tags;
  char *sidecar;     /* path of the sidecar used, "" if none */
} ps_meta;

/* Derives the metadata of doc, which was read from path (the sidecar is
 * looked for beside it; path may be NULL: no sidecar).  A sidecar that is
 * not valid JSON is an error naming it (PS_ERR_FORMAT).  Release with
 * ps_meta_free. */
int ps_meta_derive(const ps_doc *doc, const char *path, ps_meta *out, ps_error *err);
void ps_meta_free(ps_meta *m);

/* The sidecar path for a document: writes into buf the first of
 * "PATH.meta.json" and "PATH-without-extension.meta.json" that exists, or
 * "" when none does. */
void ps_meta_sidecar_path(const char *path, char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif
