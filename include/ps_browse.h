/* ps_browse.h: ways of looking at the whole set of exact hits of a query,
 * built on ps_search: facets (counts by year, region, type, project), the
 * timeline (hits grouped by year and document, oldest first) and ordering
 * by date.  Shared by the command line and the server. */
#ifndef PS_BROWSE_H
#define PS_BROWSE_H

#include <cjson/cJSON.h>
#include "ps_search.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Counts of the paragraphs docids[0..n) of ix (a search's exact hits:
 * ps_results.matches, ascending) by year, region, type and project, into
 * *out: {"year": {"2024": 9, ...}, "region": {...}, "type": {...},
 * "project": {...}}, each object ordered by count, largest first (projects:
 * the 20 most frequent); free it with cJSON_Delete.  Reads each paragraph's
 * record (its file and project names), not its text.  PS_OK, PS_ERR_NOMEM,
 * or PS_ERR_CORRUPT for a docid the store does not have. */
int ps_browse_facets(const ps_index *ix, const uint32_t *docids, size_t n, cJSON **out,
                     ps_error *err);

/* One line of counts for people: "2024: 9 · 2021: 3 | 天津市武清区: 12 | ...". 
 * Returns a malloc'd string (NULL when out of memory). */
char *ps_browse_facets_line(const cJSON *facets);

/* Sorts the hits of r (all exact hits) by date, newest first (document date,
 * else its first year), then by score. */
void ps_browse_sort_by_date(ps_results *r);

/* Sorts the hits of r oldest first by year (the document's first year),
 * then document path, then paragraph: the order of a timeline. */
void ps_browse_sort_timeline(ps_results *r);

/* The year a hit belongs to in a timeline ("" if unknown): a borrowed
 * pointer to a static buffer-free view, copied into buf (size >= 5). */
const char *ps_browse_year(const ps_hit *h, char *buf);

/* Another source of a collapsed near-duplicate. */
typedef struct ps_also {
  const ps_file_info *file;  /* borrowed from the index */
  uint32_t paragraph;
} ps_also;

typedef struct ps_collapsed {
  ps_also *also;             /* owned */
  size_t n;
} ps_collapsed;

/* Near-duplicate paragraphs (the same sentence in a report and in a news
 * article about it): removes from r every hit whose normalised text is
 * nearly contained in a better-ranked hit of the same kind (exact or
 * related), or contains it — at least 90% of the shorter one's
 * 4-character shingles occur in the other — and records it as another
 * source of that hit.  Only the first PS_COLLAPSE_WINDOW hits are compared
 * (collapsing is for what people read; comparing every pair of a very broad
 * query's hits would cost quadratic time); later hits stay as they are.
 * *groups receives one entry per remaining hit (free with
 * ps_collapsed_free), *removed the number folded.  The totals of r are not
 * changed: they count paragraphs.  PS_OK or PS_ERR_NOMEM. */
#define PS_COLLAPSE_WINDOW 1000
int ps_browse_collapse(ps_results *r, ps_collapsed **groups, size_t *removed);
void ps_collapsed_free(ps_collapsed *g, size_t n);

/* Keeps only hits [offset, offset + limit) of r (and of groups, if not
 * NULL), freeing the others. */
void ps_browse_page(ps_results *r, ps_collapsed *groups, size_t offset, size_t limit);

#ifdef __cplusplus
}
#endif
#endif
