/* ps_query.h: parsing a user's query into the words the search must find.
 *
 * Grammar (this subset; the full language grows here): words are
 * separated by whitespace and all must match (AND); "double quotes" (ASCII
 * only: Chinese “” are matched as text) make one word of a phrase that
 * contains spaces.  Each word is
 * normalised with ps_tok_normalize, so a quoted "京津 产业新城" is the same as
 * 京津产业新城.  The parser is shared by every front end. */
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
enum { PS_QF_YEAR = 0, PS_QF_REGION, PS_QF_TYPE, PS_QF_PROJECT };

typedef struct ps_qfilter {
  int field;         /* PS_QF_* */
  char *value;       /* normalised text value (not for years) */
  size_t value_len;
  int year_from, year_to;
  size_t pos;        /* character position in the query */
} ps_qfilter;

typedef struct ps_query {
  ps_qword *words;
  size_t n_words;
  ps_qfilter *filters;
  size_t n_filters;
} ps_query;

/* Grammar additions: FIELD:VALUE or FIELD:"VALUE WITH SPACES", FIELD in
 * year, region, type, project; years as 2024 or 2020..2024. */

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
