/* check.h: the few assertion macros the C unit tests use.  A failed check
 * prints where and what, and the test exits non-zero at the end. */
#ifndef PS_CHECK_H
#define PS_CHECK_H
#include <stdio.h>
#include <string.h>

static int check_failures = 0;
static int check_count = 0;

#define CHECK(cond) do { check_count++; if (!(cond)) { check_failures++; \
  fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b); check_count++; \
  if (!a_ || !b_ || strcmp(a_, b_) != 0) { check_failures++; \
  fprintf(stderr, "%s:%d: CHECK_STR failed: %s\n  got:      \"%s\"\n  expected: \"%s\"\n", \
          __FILE__, __LINE__, #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } } while (0)
#define CHECK_INT(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); check_count++; \
  if (a_ != b_) { check_failures++; \
  fprintf(stderr, "%s:%d: CHECK_INT failed: %s = %lld, expected %lld\n", \
          __FILE__, __LINE__, #a, a_, b_); } } while (0)
#define CHECK_DONE() (fprintf(stderr, "%d checks, %d failed\n", check_count, check_failures), \
  check_failures ? 1 : 0)
#endif
