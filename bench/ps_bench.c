/* ps_bench.c: a warm Policy Search process for the benchmark (bench/run.py).
 *
 * Opens the database once, then reads one request per line on stdin:
 *   count<TAB>QUERY   the exact total only
 *   top10<TAB>QUERY   the top 10 exact hits, ranked, each with its snippet
 *                     (120 characters, highlights), plus the exact total
 *   stats<TAB>        the number of live paragraphs (answered "N<TAB>0<TAB>0")
 * and answers each with one line "TOTAL<TAB>MICROSECONDS<TAB>SNIPPET_BYTES"
 * (the time measured around the library calls; the driver also measures the
 * round trip, like it does for Groonga's pipe).  Related hits (query
 * expansion) are left out in both modes: the peers do not have them.
 * An error answers "ERROR<TAB>message".
 *
 * Built by bench/run.py against build/libpolicysearch.so; not installed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ps_index.h"
#include "ps_search.h"
#include "ps_snippet.h"

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: ps_bench DB < requests\n");
    return 2;
  }
  ps_index *ix = NULL;
  ps_error err;
  ps_error_clear(&err);
  if (ps_index_open(argv[1], PS_INDEX_READ, &ix, &err) != PS_OK) {
    fprintf(stderr, "ps_bench: %s\n", err.msg);
    return 2;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  while ((len = getline(&line, &cap, stdin)) > 0) {
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
    char *tab = strchr(line, '\t');
    if (!tab) {
      printf("ERROR\tno tab in request\n");
      fflush(stdout);
      continue;
    }
    *tab = '\0';
    if (strcmp(line, "stats") == 0) {
      ps_index_stats st;
      ps_index_stats_get(ix, &st);
      printf("%zu\t0\t0\n", st.paragraphs);
      fflush(stdout);
      continue;
    }
    int top = strcmp(line, "top10") == 0;
    ps_search_opts o = {.limit = top ? 10 : 0, .exact = 1};
    ps_results *res = NULL;
    size_t snip_bytes = 0;
    ps_error_clear(&err);
    double t0 = now_us();
    int rc = ps_search(ix, tab + 1, &o, &res, &err);
    for (size_t i = 0; rc == PS_OK && i < res->n_hits; i++) {
      const ps_hit *h = &res->hits[i];
      ps_snippet sn;
      if (ps_snippet_make(h->text, h->text_len, h->highlights, h->n_highlights, 120, &sn) !=
          PS_OK) {
        rc = ps_error_set(&err, PS_ERR_NOMEM, "out of memory");
        break;
      }
      snip_bytes += sn.len;
      ps_snippet_free(&sn);
    }
    double t1 = now_us();
    if (rc == PS_OK)
      printf("%zu\t%.1f\t%zu\n", res->total, t1 - t0, snip_bytes);
    else
      printf("ERROR\t%s\n", err.msg);
    fflush(stdout);
    ps_results_free(res);
  }
  free(line);
  ps_index_close(ix);
  return 0;
}
