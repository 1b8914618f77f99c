/* ps_search.h: running a query against a Policy Search database.
 *
 * Candidates come from Xapian (the query's expression, ps_query.h, as a
 * Xapian query: a word is the AND of its terms, AND / OR / NEAR of
 * subexpressions AND / OR / AND of theirs, an exclusion AND_NOT when its
 * terms prove it, field filters OP_FILTER; ranked by BM25); unless the terms
 * prove every match, each candidate is then checked by evaluating the
 * expression on the stored normalised text of its paragraph (ps_tok_find),
 * inside the match, so that the total is the exact number of matching
 * paragraphs and never an estimate.  Superseded paragraphs are skipped in
 * the same check.  Highlights, ranking and related hits use the positive
 * words (ps_query.words); related hits obey the top-level filters and
 * excluded words.
 *
 * Every verified match is then ranked in C (BM25, whole-query phrase,
 * proximity, words in the section or title, short paragraphs damped), so
 * that offset/limit pages are consistent.  Unless opts->exact is set, related
 * paragraphs (one of several query words, a synonym from data/synonyms.tsv,
 * or enough feedback bigrams of the top exact hits) follow every exact hit,
 * with related = 1; they never count in total, only in related_total. */
#ifndef PS_SEARCH_H
#define PS_SEARCH_H

#include <stddef.h>
#include <stdint.h>
#include "ps_error.h"
#include "ps_index.h"
#include "ps_query.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A highlighted range of a paragraph's text as written, in bytes. */
typedef struct ps_span {
  size_t start, end;
} ps_span;

typedef struct ps_hit {
  uint32_t docid;
  double score;
  const ps_file_info *file;  /* borrowed from the index */
  uint32_t paragraph;        /* 0-based number within the file */
  const char *section;       /* borrowed from the index */
  const char *norm;          /* the paragraph normalised (ps_tok.h), borrowed */
  size_t norm_len;
  char *text;                /* the paragraph as written, owned (NULL in a
                                hit of a search with page_only_text until
                                ps_results_fill) */
  size_t text_len;
  const char *projects;      /* the project names the paragraph mentions, each
                                followed by '\n' (borrowed, like text) */
  size_t projects_len;
  ps_span *highlights;       /* owned: every match of every word, sorted, merged */
  size_t n_highlights;
  int related;               /* 0: matches the query as typed; 1: a related hit
                                found by query expansion (ranked after all exact
                                hits, never counted in total) */
} ps_hit;

typedef struct ps_results {
  char *query;               /* the query as given */
  size_t total;              /* exact number of matching paragraphs */
  size_t related_total;      /* number of related (expansion-only) paragraphs */
  double took_ms;
  ps_hit *hits;
  size_t n_hits;
  uint32_t *matches;         /* owned: with opts.want_matches, the docid of
                                every exact hit, ascending (all `total` of
                                them, however few hits the limit keeps);
                                else NULL */
  size_t n_matches;
} ps_results;

typedef struct ps_search_opts {
  size_t offset;             /* skip this many hits */
  size_t limit;              /* return at most this many */
  int exact;                 /* non-zero: no query expansion (only exact hits) */
  int page_only_text;        /* non-zero: hits come without text and
                                highlights (for callers that keep only some of
                                many hits: ps_results_fill fills those kept) */
  size_t rank_first;         /* non-zero: only the best rank_first hits must be
                                in ranked order; the others follow them in
                                Xapian's weight order with score -1 (for
                                callers that need every hit but show only
                                the first ones) */
  int want_matches;          /* non-zero: fill results.matches (facets count
                                every exact hit without listing each as a
                                hit) */
} ps_search_opts;

/* Runs query q.  Borrowed pointers in the results live until the index is
 * closed or reopened; free the results with ps_results_free (accepts NULL).
 * Errors: PS_ERR_QUERY for a malformed query (with its position),
 * PS_ERR_XAPIAN and friends from the database. */
int ps_search(ps_index *ix, const char *q, const ps_search_opts *opts, ps_results **out,
              ps_error *err);
void ps_results_free(ps_results *r);

/* Fills the text and highlights of every hit of r that has none (after a
 * search with page_only_text), from ix, the index that was searched.  PS_OK,
 * PS_ERR_NOMEM, PS_ERR_CORRUPT. */
int ps_results_fill(ps_index *ix, ps_results *r, ps_error *err);

/* Fills the highlights of a paragraph's text for the words of pq (used by
 * ps_search; exposed for --export and tests).  *out is malloc'd. */
int ps_search_highlight(const ps_query *pq, const char *text, size_t len, ps_span **out,
                        size_t *n);

#ifdef __cplusplus
}
#endif
#endif
