/* verify_internal.h: private to the library.  Verification: whether a
 * paragraph matches a query's expression, read from its stored normalised
 * text, which is what makes every total exact (the candidates Xapian gives
 * for a word of three characters or more, or a NEAR, a section: condition,
 * ... only may match).  search.c builds the context; verify.c evaluates it,
 * for one paragraph or for every candidate of a Xapian query on all cores. */
#ifndef PS_VERIFY_INTERNAL_H
#define PS_VERIFY_INTERNAL_H

#include <stdint.h>

#include "ps_index.h"
#include "ps_query.h"
#include "ps_store.h"
#include "ps_xapian.h"

/* The docids that pass one Xapian-field filter (year:, region: ...). */
typedef struct filter_set {
  const ps_qnode *node;
  uint32_t *ids;   /* sorted docids that pass the filter (owned by the search) */
  size_t n, cap;
  int nomem;
} filter_set;

/* What a verification needs; read-only while it runs (threads share it). */
typedef struct verify_ctx {
  const ps_index *ix;
  const ps_qnode *root;
  const unsigned char *implied; /* per kid of a root AND (or [0] for the root):
                                   proven by the candidate query itself */
  filter_set *sets;             /* Xapian-field filters that must be checked */
  size_t n_sets;
  int any_check;                /* 0: the candidate query is exact */
  unsigned *damaged;            /* set to a docid whose record does not read
                                   (atomically: verification runs on threads);
                                   NULL: not reported */
} verify_ctx;

/* Node n of the expression on the stored paragraph rec (of docid). */
int ps_verify_node(const verify_ctx *v, const ps_qnode *n, uint32_t docid,
                   const ps_store_rec *rec);

/* Whether paragraph docid is current and matches v's expression. */
int ps_verify_para(const verify_ctx *v, uint32_t docid);

/* ps_verify_para as a Xapian match decider (ctx: the verify_ctx). */
int ps_verify_decider(void *ctx, unsigned docid);

/* Every candidate of q (in docid order) that v accepts, into *xr (weights
 * 0; totals = their number; the caller frees with ps_xresult_free).  The
 * candidates are verified on every core while Xapian still walks them.
 * With rank (a search whose query, decider and first are ignored), the same
 * walk also ranks: *top gets the matches among the best rank->max candidates
 * by rank's weighting, in Xapian's order with their weights (so they are the
 * best matches: the candidates left out weigh no more), and *fetched the
 * number of candidates that were ranked (fewer than rank->max: all of them).
 * Costs one Xapian pass where counting then ranking takes two.
 * PS_OK, PS_ERR_NOMEM, or Xapian's error (message in err). */
int ps_verify_collect(ps_index *ix, const ps_xq *q, const verify_ctx *v,
                      const ps_xsearch *rank, ps_xresult *xr, ps_xresult *top,
                      size_t *fetched, ps_error *err);

#endif
