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

typedef struct ps_query {
  ps_qword *words;
  size_t n_words;
} ps_query;

/* Parses q.  Errors (PS_ERR_QUERY) say what and at which character, e.g.
 * "unbalanced quote: the \" at character 5 is never closed".  A query with
 * no searchable word is an error too.  Free *out with ps_query_free. */
int ps_query_parse(const char *q, ps_query **out, ps_error *err);
void ps_query_free(ps_query *q);

#ifdef __cplusplus
}
#endif
#endif
