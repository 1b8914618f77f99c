/* ps_answer.h: from a query and a front end's options to the finished
 * answer: the search, facets, date or timeline order, near-duplicate
 * collapsing, the page, and the JSON that `policy-search --json` prints and
 * `policy-serve` returns (schema in README.md, "JSON output").  Also the
 * other read-only answers a front end gives: a document's paragraphs around
 * one (reading a hit in context) and database statistics.  Shared by the
 * command line, the server and C embedders, so that none has search logic of
 * its own. */
#ifndef PS_ANSWER_H
#define PS_ANSWER_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "ps_browse.h"
#include "ps_error.h"
#include "ps_index.h"
#include "ps_search.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Highest limit honoured (Xapian counts in 32 bits). */
#define PS_ANSWER_MAX_LIMIT ((size_t)0xFFFFFFF)

typedef struct ps_answer_opts {
  size_t offset;       /* skip this many hits (after collapsing) */
  size_t limit;        /* return at most this many (PS_ANSWER_MAX_LIMIT: all) */
  int exact;           /* only exact hits (no related hits from query expansion) */
  int sort_date;       /* newest document first (implies exact) */
  int timeline;        /* every exact hit in timeline order, not paged (implies exact) */
  int collapse;        /* fold near-duplicate paragraphs (ignored with timeline) */
  int facets;          /* count the exact hits by year, region, type, project */
  int count_only;      /* only the total: no hits are kept, no related hits
                          are looked for (related_total is 0) */
} ps_answer_opts;

/* The defaults of policy-search: offset 0, limit 10, collapse and facets on. */
void ps_answer_opts_init(ps_answer_opts *o);

typedef struct ps_answer {
  ps_results *res;       /* owned; hits are the page (all hits for a timeline) */
  ps_collapsed *groups;  /* owned, one per hit of res, or NULL (no collapsing) */
  size_t collapsed;      /* near-duplicates folded */
  cJSON *facets;         /* owned, or NULL when not asked for */
  ps_answer_opts opts;   /* as run */
} ps_answer;

/* Builds the query text for q (may be NULL or empty) restricted by the
 * field filters field[i] = value[i] (n of them, field a name of ps_query.h:
 * "year", "region", "type", "project", ...; a NULL or empty value is
 * skipped): "(q) year:"2024" region:"武清"".  q is parsed on its own first,
 * so a malformed q is reported (PS_ERR_QUERY) at its own character
 * positions.  A value containing a double quote or a control character is a
 * PS_ERR_QUERY error naming the field (it could not be quoted safely).  An
 * empty result (no q, no filter) is PS_ERR_QUERY too.  *out is malloc'd. */
int ps_answer_query(const char *q, const char *const *field, const char *const *value,
                    size_t n, char **out, ps_error *err);

/* Runs q on ix with o.  When the database changes under the search
 * (PS_ERR_RETRY: a writer committed several times meanwhile) ix is reopened
 * and the search run again, a few times, so a concurrent indexer does not
 * make it fail; hence borrowed pointers taken from ix earlier are invalid
 * after a call.  Pointers in *out live until ix is closed or reopened; free
 * it with ps_answer_free (accepts NULL).  res->took_ms is the time of the
 * whole answer (search, facets, order, collapsing, retries).  Errors as
 * ps_search. */
int ps_answer_run(ps_index *ix, const char *q, const ps_answer_opts *o, ps_answer **out,
                  ps_error *err);
void ps_answer_free(ps_answer *a);

/* The answer as the JSON object of `policy-search --json`: query, total,
 * related_total, took_ms, offset, hits (each with also_in when collapsing),
 * collapsed (when collapsing), facets (when counted), timeline (for a
 * timeline).  NULL when out of memory; free with cJSON_Delete. */
cJSON *ps_answer_json(const ps_answer *a);

/* Hit i of the answer as JSON (ps_json_hit plus also_in when collapsing). */
cJSON *ps_answer_hit_json(const ps_answer *a, size_t i);

/* Paragraphs of the indexed file at path (absolute, as in hits[].doc.path)
 * from para - before to para + after, for reading a hit in its context:
 * {"doc": {path, title, date, years, region, types, issuer, doc_number},
 *  "paragraph": para, "first": n, "paragraphs_total": count,
 *  "paragraphs": [{"paragraph", "section", "heading_level", "text",
 *  "highlights"}]}.  With a query q (may be NULL or empty) highlights are the
 * [start, end) character ranges of its words in each text, as in a hit;
 * without one they are [].  PS_ERR_NOTFOUND when no such file is indexed or
 * para is past its end; PS_ERR_QUERY for a malformed q. */
int ps_answer_doc(ps_index *ix, const char *path, size_t para, size_t before, size_t after,
                  const char *q, cJSON **out, ps_error *err);

/* {"documents", "paragraphs", "superseded", "text_bytes", "last_indexed"}:
 * last_indexed is the time of the last commit (ISO 8601, UTC, "" if
 * unknown), read from the database directory dir that ix was opened on. */
cJSON *ps_answer_stats(ps_index *ix, const char *dir);

/* {"projects": [...]} as `policy-search --projects --json` (names containing
 * q, all when q is NULL or ""), at most limit of them.  Retried after a
 * reopen like ps_answer_run. */
int ps_answer_projects(ps_index *ix, const char *q, size_t limit, cJSON **out, ps_error *err);

#ifdef __cplusplus
}
#endif
#endif
