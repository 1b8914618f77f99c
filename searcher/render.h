/* render.h: how policy-search shows results to a person on a terminal:
 * hits with title, metadata, section and a highlighted snippet, the
 * timeline, the summary lines, and paging through less like git does. */
#ifndef PS_RENDER_H
#define PS_RENDER_H

#include <stdio.h>
#include "ps_browse.h"
#include "ps_search.h"

/* Writes one hit, numbered rank; also (may be NULL) lists the other
 * sources of a collapsed near-duplicate. */
void render_hit(FILE *f, const ps_hit *h, size_t rank, int color, const ps_collapsed *also);

/* Writes a page of results (a divider before the first related hit) and
 * the summary line; groups (may be NULL) holds the other sources of each
 * hit, collapsed the number folded; facets_line (may be NULL) is printed
 * under the summary. */
void render_results(FILE *f, const ps_results *r, const char *q, size_t offset, int color,
                    const ps_collapsed *groups, size_t collapsed, const char *facets_line);

/* Writes the hits of r (in timeline order) grouped by year and document. */
void render_timeline(FILE *f, const ps_results *r, const char *q, int color);

/* Terminal output goes through an in-memory buffer so that its height is
 * known: pager_begin returns the stream to write to, pager_end shows it,
 * through $PAGER (default "less -R") when stdout is a terminal and the text
 * is taller than the screen, else directly.  Never pages when piped. */
FILE *pager_begin(void);
void pager_end(FILE *f);

#endif
