/* ps_query.h: parsing a user's query into a boolean expression over words
 * and field filters.  The parser is shared by every front end.
 *
 * Grammar, loosest first:
 *   query   := or
 *   or      := and ( "OR" and )*
 *   and     := near ( ["AND"] near )*          (whitespace is AND)
 *   near    := unary ( "NEAR/N" unary )*       (operands must be words;
 *                                               a NEAR/1 b NEAR/2 c means
 *                                               (a NEAR/1 b) AND (b NEAR/2 c))
 *   unary   := ("NOT" | "-") unary | primary
 *   primary := "(" or ")" | FIELD:VALUE | FIELD:"VALUE" | "quoted phrase" | word
 * OR, AND, NOT and NEAR/N are operators only in upper case and as separate
 * words; otherwise they are ordinary words.  A word runs up to whitespace, an
 * ASCII quote or an ASCII parenthesis; "double quotes" (ASCII only: Chinese
 * “” are matched as text) make one word of a phrase that contains spaces or
 * operator characters.  Each word is normalised with ps_tok_normalize, so a
 * quoted "京津 产业新城" is the same as 京津产业新城.
 *
 * Semantics (exact): a paragraph matches a WORD when ps_tok_find finds it in
 * the paragraph's normalised text; a NEAR/N b when some match of a and some
 * match of b have at most N characters (code points of normalised text)
 * between them, in either order (overlapping matches count as 0).
 * A malformed query (unbalanced quote or parenthesis, operator without an
 * operand, unknown field, bad year, bad NEAR distance, only negative terms)
 * is a PS_ERR_QUERY error that names the character position (1-based). */
#ifndef PS_QUERY_H
#define PS_QUERY_H

#include <stddef.h>
#include "ps_error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ps_qword {
  char *raw;       /* as typed (without quotes) */
  char *norm;      /* normalised; never empty */
  size_t norm_len;
  int quoted;
  size_t pos;      /* character position of the word in the query (0-based) */
} ps_qword;

/* Field filters: year:2024, year:2020..2024, region:武清, type:政府工作报告,
 * project:通武廊.  Text values match when they are contained in the
 * document's (or paragraph's) value after normalisation. */
/* doc: the file name (the path's basename contains the value, both
 * normalised); title: / section: text conditions, true when ps_tok_find finds
 * the value in the normalised document title / paragraph section path. */
enum { PS_QF_YEAR = 0, PS_QF_REGION, PS_QF_TYPE, PS_QF_PROJECT, PS_QF_DOC, PS_QF_TITLE,
       PS_QF_SECTION, PS_QF_N };

typedef struct ps_qfilter {
  int field;         /* PS_QF_* */
  char *value;       /* normalised text value (not for years) */
  size_t value_len;
  int exact;         /* field:=value: the whole value, not a part of it */
  int year_from, year_to;
  size_t pos;        /* character position in the query */
} ps_qfilter;

/* Expression tree. */
enum { PS_QN_WORD = 0, PS_QN_AND, PS_QN_OR, PS_QN_NOT, PS_QN_NEAR, PS_QN_FILTER };

typedef struct ps_qnode {
  int type;                 /* PS_QN_* */
  size_t pos;               /* character position of the node in the query */
  struct ps_qnode **kids;   /* AND, OR: n_kids >= 2; NOT: 1; NEAR: 2 (words) */
  size_t n_kids;
  unsigned near;            /* NEAR: at most this many characters between */
  ps_qword word;            /* WORD (owned by the node) */
  ps_qfilter filter;        /* FILTER (owned by the node) */
} ps_qnode;

typedef struct ps_query {
  ps_qnode *root;      /* the expression */
  ps_qword *words;     /* every positive word (not under NOT), in query order:
                          highlights, ranking and related hits use them */
  size_t n_words;
  ps_qfilter *filters; /* the filters every match must pass (the positive
                          top-level conjuncts of root) */
  size_t n_filters;
} ps_query;

/* FIELD:VALUE or FIELD:"VALUE WITH SPACES", FIELD in year, region, type,
 * project, doc, title, section; years as 2024 or 2020..2024. */

/* Parses q.  Errors (PS_ERR_QUERY) say what and at which character, e.g.
 * "unbalanced quote: the \" at character 5 is never closed", an unknown
 * field, a bad year.  A query with no searchable word and no filter is an
 * error too.  Free *out with ps_query_free. */
int ps_query_parse(const char *q, ps_query **out, ps_error *err);
void ps_query_free(ps_query *q);

#ifdef __cplusplus
}
#endif
#endif
