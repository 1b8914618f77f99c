/* ps_json.h: the JSON that scripts depend on (documented in README.md,
 * "JSON output").  Names never change; fields may be added. */
#ifndef PS_JSON_H
#define PS_JSON_H

#include <cjson/cJSON.h>
#include "ps_catalog.h"
#include "ps_search.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PS_SNIPPET_WIDTH 120

/* {"doc": {"path", "title", "date", "years": [], "region", "types": [],
 *  "issuer", "doc_number"}, "paragraph", "section", "text", "snippet",
 *  "snippet_highlights", "highlights", "projects", "score"}: projects are the
 * names the paragraph mentions (ps_projects.h); highlights are [start, end)
 * pairs of character offsets into "text", snippet_highlights into
 * "snippet".  with_score = 0 leaves "score" out (export).  NULL when out
 * of memory; the caller frees with cJSON_Delete. */
cJSON *ps_json_hit(const ps_hit *h, int with_score);

/* {"query", "total", "took_ms", "offset", "hits": [...]}. */
cJSON *ps_json_results(const ps_results *r, size_t offset);

/* {"projects": [{"name", "count", "documents": [{"path", "title", "year",
 * "count"}]}]}: year is the first year the document covers. */
cJSON *ps_json_projects(const ps_project *p, size_t n);

/* The hits of r (in timeline order) grouped as [{"year", "documents":
 * [{"path", "title", "hits": [...]}]}]. */
cJSON *ps_json_timeline(const ps_results *r);

/* {"path", "title", "date", "years": [], "region", "types": [], "issuer",
 * "doc_number"} of file f (all "" / [] when f is NULL): the "doc" of a hit.
 * NULL when out of memory; the caller frees with cJSON_Delete. */
cJSON *ps_json_doc(const ps_file_info *f);

/* [[start, end], ...]: the byte spans sp[0..n) of text as character
 * offsets (how "highlights" are written).  NULL when out of memory. */
cJSON *ps_json_spans(const char *text, const ps_span *sp, size_t n);

/* The string member k of object o, "" when missing or not a string
 * (borrowed from o); the number member k, 0 when missing. */
const char *ps_json_str(const cJSON *o, const char *k);
double ps_json_num(const cJSON *o, const char *k);

/* A comma-separated list as a JSON array of strings. */
cJSON *ps_json_list(const char *list);

#ifdef __cplusplus
}
#endif
#endif
