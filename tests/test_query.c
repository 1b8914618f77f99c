/* test_query.c: the query parser (ps_query.h): operators, precedence,
 * parentheses, fields, the flat views, and errors with their positions. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ps_query.h"
#include "ps_tok.h"

/* A compact rendering of the tree: words by their normalised text,
 * (AND a b), (OR a b), (NOT a), (NEAR/5 a b), [field:value]. */
static void render(const ps_qnode *n, char *buf, size_t cap) {
  static const char *const fields[] = {"year", "region", "type", "project",
                                       "doc",  "title",  "section"};
  size_t l = strlen(buf);
  switch (n->type) {
    case PS_QN_WORD:
      snprintf(buf + l, cap - l, "%s", n->word.norm);
      return;
    case PS_QN_FILTER:
      if (n->filter.field == PS_QF_YEAR)
        snprintf(buf + l, cap - l, "[year:%d..%d]", n->filter.year_from, n->filter.year_to);
      else
        snprintf(buf + l, cap - l, "[%s:%s]", fields[n->filter.field], n->filter.value);
      return;
    case PS_QN_NEAR:
      snprintf(buf + l, cap - l, "(NEAR/%u", n->near);
      break;
    default:
      snprintf(buf + l, cap - l, "(%s", n->type == PS_QN_AND ? "AND"
                                        : n->type == PS_QN_OR ? "OR" : "NOT");
  }
  for (size_t i = 0; i < n->n_kids; i++) {
    l = strlen(buf);
    snprintf(buf + l, cap - l, " ");
    render(n->kids[i], buf, cap);
  }
  l = strlen(buf);
  snprintf(buf + l, cap - l, ")");
}

static char out[4096];

static const char *tree(const char *q) {
  ps_query *pq = NULL;
  ps_error err = {0};
  if (ps_query_parse(q, &pq, &err) != PS_OK) {
    snprintf(out, sizeof out, "ERROR %s", err.msg);
    return out;
  }
  out[0] = 0;
  render(pq->root, out, sizeof out);
  ps_query_free(pq);
  return out;
}

/* The error message of q (or "" if it parses). */
static const char *error_of(const char *q) {
  ps_query *pq = NULL;
  ps_error err = {0};
  int rc = ps_query_parse(q, &pq, &err);
  ps_query_free(pq);
  if (rc == PS_OK) return "";
  CHECK_INT(rc, PS_ERR_QUERY);
  snprintf(out, sizeof out, "%s", err.msg);
  return out;
}

#define CHECK_ERR(q, needle) do { const char *m_ = error_of(q); \
  check_count++; if (!*m_ || !strstr(m_, needle)) { check_failures++; \
  fprintf(stderr, "%s:%d: error of '%s' is \"%s\", expected to contain \"%s\"\n", \
          __FILE__, __LINE__, q, m_, needle); } } while (0)

int main(void) {
  ps_error e = {0};
  if (ps_tok_init(&e) != PS_OK) {
    fprintf(stderr, "%s\n", e.msg);
    return 1;
  }
  /* words, AND, quotes */
  CHECK_STR(tree("通武廊"), "通武廊");
  CHECK_STR(tree("京津 新城"), "(AND 京津 新城)");
  CHECK_STR(tree("京津 AND 新城"), "(AND 京津 新城)");
  CHECK_STR(tree("\"京津 产业新城\""), "京津产业新城");
  CHECK_STR(tree("\"a OR b\""), "a or b");
  /* OR, NOT, - */
  CHECK_STR(tree("a OR b"), "(OR a b)");
  CHECK_STR(tree("a -b"), "(AND a (NOT b))");
  CHECK_STR(tree("a NOT b"), "(AND a (NOT b))");
  CHECK_STR(tree("a -\"b c\""), "(AND a (NOT b c))");
  CHECK_STR(tree("a -(b OR c)"), "(AND a (NOT (OR b c)))");
  /* lower case and glued operators are words */
  CHECK_STR(tree("a or b"), "(AND a or b)");
  CHECK_STR(tree("ORACLE NOTE"), "(AND oracle note)");
  CHECK_STR(tree("a-b"), "a-b");
  CHECK_STR(tree("NEAR"), "near");
  /* precedence: NOT > NEAR > AND > OR */
  CHECK_STR(tree("a b OR c d"), "(OR (AND a b) (AND c d))");
  CHECK_STR(tree("a OR b c"), "(OR a (AND b c))");
  CHECK_STR(tree("a NEAR/3 b c"), "(AND (NEAR/3 a b) c)");
  CHECK_STR(tree("a NEAR/3 b OR c"), "(OR (NEAR/3 a b) c)");
  CHECK_STR(tree("-a b OR c"), "(OR (AND (NOT a) b) c)");
  CHECK_STR(tree("a NEAR/1 b NEAR/2 c"), "(AND (NEAR/1 a b) (NEAR/2 b c))");
  CHECK_STR(tree("京津 NEAR/5 新城"), "(NEAR/5 京津 新城)");
  /* parentheses */
  CHECK_STR(tree("(a OR b) c"), "(AND (OR a b) c)");
  CHECK_STR(tree("((a))"), "a");
  CHECK_STR(tree("(a OR b) (c OR d)"), "(AND (OR a b) (OR c d))");
  CHECK_STR(tree("a (b c)"), "(AND a b c)");
  CHECK_STR(tree("（一）"), "(一)"); /* full-width parentheses are text */
  /* fields */
  CHECK_STR(tree("year:2024"), "[year:2024..2024]");
  CHECK_STR(tree("year:2020..2024 a"), "(AND [year:2020..2024] a)");
  {
    ps_query *pq = NULL;
    ps_error e;
    CHECK_INT(ps_query_parse("region:=武清区 type:\"=通知\" project:京津", &pq, &e), 0);
    CHECK(pq && pq->n_filters == 3 && pq->filters[0].exact && pq->filters[1].exact &&
          !pq->filters[2].exact && strcmp(pq->filters[0].value, "武清区") == 0);
    ps_query_free(pq);
  }
  CHECK_STR(tree("region:武清 type:政府工作报告 project:通武廊"),
            "(AND [region:武清] [type:政府工作报告] [project:通武廊])");
  CHECK_STR(tree("doc:Plan title:\"武清 规划\" section:产业"),
            "(AND [doc:plan] [title:武清规划] [section:产业])");
  CHECK_STR(tree("(year:2023 OR year:2024) a"),
            "(AND (OR [year:2023..2023] [year:2024..2024]) a)");
  CHECK_STR(tree("a -year:2024"), "(AND a (NOT [year:2024..2024]))");
  /* the flat views: positive words in order, top-level filters */
  {
    ps_query *pq = NULL;
    CHECK_INT(ps_query_parse("a -b (c OR d) NOT e f NEAR/2 g year:2024 (region:x OR h)", &pq, &e), 0);
    if (pq) {
      CHECK_INT(pq->n_words, 6);
      const char *want[] = {"a", "c", "d", "f", "g", "h"};
      for (size_t i = 0; i < pq->n_words && i < 6; i++) CHECK_STR(pq->words[i].norm, want[i]);
      CHECK_INT(pq->n_filters, 1);
      if (pq->n_filters) CHECK_INT(pq->filters[0].field, PS_QF_YEAR);
      ps_query_free(pq);
    }
  }
  /* errors: what and where */
  CHECK_ERR("(a b", "the ( at character 1 is never closed");
  CHECK_ERR("a (b OR (c)", "the ( at character 3 is never closed");
  CHECK_ERR("a b)", "the ) at character 4 has no matching (");
  CHECK_ERR(")", "the ) at character 1 has no matching (");
  CHECK_ERR("()", "empty parentheses at character 1");
  CHECK_ERR("OR a", "OR at character 1 has nothing before it");
  CHECK_ERR("a OR", "OR at character 3 has nothing after it");
  CHECK_ERR("a OR OR b", "OR at character 3");
  CHECK_ERR("a AND", "AND at character 3 has nothing after it");
  CHECK_ERR("AND a", "AND at character 1");
  CHECK_ERR("NOT", "NOT at character 1 has nothing after it");
  CHECK_ERR("a NOT", "NOT at character 3 has nothing after it");
  CHECK_ERR("-", "'-' at character 1 has nothing to exclude");
  CHECK_ERR("a - b", "'-' at character 3");
  CHECK_ERR("-a", "only excludes");
  CHECK_ERR("NOT a -b", "only excludes");
  CHECK_ERR("-year:2024", "only excludes");
  CHECK_ERR("foo:bar", "unknown field 'foo' at character 1");
  CHECK_ERR("a foo:bar", "unknown field 'foo' at character 3");
  CHECK_ERR("year:abc", "bad year at character 1");
  CHECK_ERR("a year:20x4", "bad year at character 3");
  CHECK_ERR("year:2024..2020", "bad year");
  CHECK_ERR("region:", "empty value for region: at character 1");
  CHECK_ERR("a NEAR/x b", "bad distance in 'NEAR/x' at character 3");
  CHECK_ERR("a NEAR/ b", "bad distance");
  CHECK_ERR("NEAR/3 b", "NEAR at character 1");
  CHECK_ERR("a NEAR/3", "NEAR at character 3 has nothing after it");
  CHECK_ERR("a NEAR/3 (b c)", "NEAR at character 3 needs a word");
  CHECK_ERR("(a b) NEAR/3 c", "NEAR at character 7 needs a word");
  CHECK_ERR("a \"b c", "the quote at character 3 is never closed");
  CHECK_ERR("", "empty query");
  CHECK_ERR("   ", "empty query");
  /* positions count characters, not bytes */
  CHECK_ERR("京津 OR", "OR at character 4 has nothing after it");
  CHECK_ERR("京津 (新城", "the ( at character 4 is never closed");
  /* nothing crashes on odd input */
  const char *odd[] = {"((((", "))))", "\"", "a:\"", "--a", "- -", "NOT NOT a", "a -(-b)",
                       "OR", "AND", "NEAR/1", "(", "year:", ":", "a:b:c", "\"\"", "-\"\""};
  for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
    ps_query *pq = NULL;
    ps_error er = {0};
    int rc = ps_query_parse(odd[i], &pq, &er);
    CHECK(rc == PS_OK ? pq != NULL : (pq == NULL && er.msg[0]));
    ps_query_free(pq);
  }
  CHECK_STR(tree("NOT NOT a"), "(NOT (NOT a))");
  CHECK_STR(tree("a -(-b)"), "(AND a (NOT (NOT b)))");
  return CHECK_DONE();
}
