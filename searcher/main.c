/* policy-search: searches a Policy Search database from the command line.
 * A thin front end: options, terminal or JSON rendering; the search itself
 * is in the library (ps_search.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ps_browse.h"
#include "ps_catalog.h"
#include "ps_index.h"
#include "ps_json.h"
#include "ps_search.h"
#include "ps_snippet.h"
#include "render.h"

static void usage(FILE *f) {
  fputs("Usage: policy-search [OPTIONS] QUERY...\n"
        "       policy-search [OPTIONS] --export\n"
        "Find every paragraph that contains all the words of QUERY, best first.\n"
        "Words separated by spaces must all match; \"double quotes\" keep a phrase\n"
        "with spaces together; A OR B, -word or NOT word, (parentheses), A NEAR/5 B\n"
        "(at most 5 characters apart); year:2024, year:2020..2024, region:武清,\n"
        "type:政府工作报告, project:通武廊, doc:NAME, title:WORD, section:WORD restrict\n"
        "the hits.  Chinese matches as substrings (one character included), Latin\n"
        "letters and numbers as whole words (5 does not match 15 or 5.5).\n"
        "\n"
        "  -d, --db DIR        database directory (default: $POLICY_SEARCH_DB, else\n"
        "                      $XDG_DATA_HOME/policy-search/db, else\n"
        "                      ~/.local/share/policy-search/db)\n"
        "  -n, --limit N       show at most N hits (default 10)\n"
        "  -o, --offset N      skip the first N hits (paging)\n"
        "  -a, --all           show every hit\n"
        "  -j, --json          print one JSON object (schema in README.md)\n"
        "  -c, --count         print only the number of matching paragraphs\n"
        "      --jsonl         print one JSON hit per line (no envelope)\n"
        "  -x, --exact         only paragraphs that match the query as typed (no\n"
        "                      related paragraphs from query expansion)\n"
        "      --sort ORDER    relevance (default) or date (newest first; exact hits)\n"
        "      --timeline      every exact hit grouped by year and document, oldest\n"
        "                      first\n"
        "      --no-collapse   show near-duplicate paragraphs (the same text in a\n"
        "                      report and a news article) as separate hits\n"
        "  -x, --exact         only paragraphs that match the query as typed (no\n"
        "                      related hits from query expansion)\n"
        "      --queries FILE  run each line of FILE (- for stdin) as a query and\n"
        "                      print one JSON object per line\n"
        "      --export        print every indexed paragraph as JSON Lines, in\n"
        "                      document order\n"
        "      --projects      list the named projects (those whose name contains\n"
        "                      QUERY, if given) with counts, documents and years\n"
        "      --color WHEN    highlight with colour: auto (default: on a terminal,\n"
        "                      unless NO_COLOR is set), always, never\n"
        "  -h, --help          show this help\n"
        "  -V, --version       show the version\n"
        "\n"
        "Exit status: 0 something matched, 1 nothing matched, 2 error.\n",
        f);
}

static int parse_count(const char *s, const char *opt, size_t *out) {
  char *end;
  long long v = strtoll(s, &end, 10);
  if (*s == '\0' || *end || v < 0) {
    fprintf(stderr, "policy-search: %s needs a number >= 0, not '%s'\n", opt, s);
    return -1;
  }
  *out = (size_t)v;
  return 0;
}

/* Adds "also_in": [{"path", "title", "paragraph"}] (the near-duplicates
 * folded into hit i) to a hit object; returns it. */
static cJSON *with_sources(cJSON *hit, const ps_collapsed *groups, size_t i) {
  if (!hit || !groups) return hit;
  cJSON *a = cJSON_AddArrayToObject(hit, "also_in");
  for (size_t k = 0; a && k < groups[i].n; k++) {
    const ps_also *s = &groups[i].also[k];
    cJSON *o = cJSON_CreateObject();
    if (!o) break;
    cJSON_AddStringToObject(o, "path", s->file ? s->file->path : "");
    cJSON_AddStringToObject(o, "title", s->file ? s->file->title : "");
    cJSON_AddNumberToObject(o, "paragraph", s->paragraph);
    cJSON_AddItemToArray(a, o);
  }
  return hit;
}

static int print_json(cJSON *o) {
  char *s = o ? cJSON_PrintUnformatted(o) : NULL;
  cJSON_Delete(o);
  if (!s) {
    fprintf(stderr, "policy-search: out of memory\n");
    return -1;
  }
  puts(s);
  free(s);
  return 0;
}

static int export_all(ps_index *ix) {
  size_t n;
  const ps_file_info *files = ps_index_files(ix, &n);
  for (size_t i = 0; i < n; i++) {
    for (uint32_t k = 0; k < files[i].count; k++) {
      ps_store_rec rec;
      uint32_t docid = ps_index_file_docid(ix, &files[i], k);
      if (ps_index_para(ix, docid, &rec) != PS_OK) {
        fprintf(stderr, "policy-search: paragraph %u of %s missing from the store\n", k,
                files[i].path);
        return 2;
      }
      ps_hit h;
      memset(&h, 0, sizeof h);
      h.docid = docid;
      h.file = &files[i];
      h.paragraph = rec.para_no;
      h.section = rec.section;
      h.text = rec.text;
      h.text_len = rec.text_len;
      if (print_json(ps_json_hit(&h, 0))) return 2;
    }
  }
  return 0;
}

static int list_projects(ps_index *ix, const char *q, int json) {
  ps_project *p = NULL;
  size_t n = 0;
  ps_error err;
  ps_error_clear(&err);
  if (ps_catalog_projects(ix, q, &p, &n, &err) != PS_OK) {
    fprintf(stderr, "policy-search: %s\n", err.msg);
    return 2;
  }
  int status = n ? 0 : 1;
  if (json) {
    if (print_json(ps_json_projects(p, n))) status = 2;
  } else {
    for (size_t i = 0; i < n; i++) {
      printf("%5zu  %s  (", p[i].count, p[i].name);
      for (size_t k = 0; k < p[i].n_docs; k++) {
        const ps_file_info *f = p[i].docs[k].file;
        const char *base = strrchr(f->path, '/');
        printf("%s%.4s %s", k ? "; " : "", f->years[0] ? f->years : f->date,
               base ? base + 1 : f->path);
      }
      puts(")");
    }
  }
  ps_catalog_free(p, n);
  return status;
}

static int run_batch(ps_index *ix, const char *file, const ps_search_opts *o) {
  FILE *in = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
  if (!in) {
    perror(file);
    return 2;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  int status = 0;
  while ((len = getline(&line, &cap, in)) > 0) {
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
    ps_results *res = NULL;
    ps_error err;
    ps_error_clear(&err);
    cJSON *o2;
    if (ps_search(ix, line, o, &res, &err) != PS_OK) {
      o2 = cJSON_CreateObject();
      cJSON_AddStringToObject(o2, "query", line);
      cJSON_AddStringToObject(o2, "error", err.msg);
    } else {
      o2 = ps_json_results(res, o->offset);
    }
    ps_results_free(res);
    if (print_json(o2)) status = 2;
    fflush(stdout);
  }
  free(line);
  if (in != stdin) fclose(in);
  return status;
}

int main(int argc, char **argv) {
  enum { OPT_EXPORT = 1000, OPT_COLOR, OPT_QUERIES, OPT_PROJECTS, OPT_JSONL, OPT_SORT,
         OPT_TIMELINE, OPT_NO_COLLAPSE };
  static const struct option longopts[] = {
      {"db", required_argument, 0, 'd'},       {"limit", required_argument, 0, 'n'},
      {"offset", required_argument, 0, 'o'},   {"all", no_argument, 0, 'a'},
      {"json", no_argument, 0, 'j'},           {"count", no_argument, 0, 'c'},
      {"export", no_argument, 0, OPT_EXPORT},  {"color", required_argument, 0, OPT_COLOR},
      {"colour", required_argument, 0, OPT_COLOR},
      {"queries", required_argument, 0, OPT_QUERIES},
      {"projects", no_argument, 0, OPT_PROJECTS},
      {"jsonl", no_argument, 0, OPT_JSONL},    {"sort", required_argument, 0, OPT_SORT},
      {"timeline", no_argument, 0, OPT_TIMELINE},
      {"no-collapse", no_argument, 0, OPT_NO_COLLAPSE},
      {"exact", no_argument, 0, 'x'},
      {"help", no_argument, 0, 'h'},           {"version", no_argument, 0, 'V'},
      {0, 0, 0, 0}};
  char dbbuf[4096];
  const char *db = NULL, *queries = NULL;
  int json = 0, jsonl = 0, count = 0, do_export = 0, projects = 0, by_date = 0, timeline = 0;
  int c, status = 0, collapse = 1;
  int color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
  ps_search_opts o = {0, 10, 0};
  while ((c = getopt_long(argc, argv, "d:n:o:ajcxhV", longopts, NULL)) != -1) {
    switch (c) {
      case 'd': db = optarg; break;
      case 'n': if (parse_count(optarg, "--limit", &o.limit)) return 2; break;
      case 'o': if (parse_count(optarg, "--offset", &o.offset)) return 2; break;
      case 'a': o.limit = (size_t)-1 / 2; break;
      case 'j': json = 1; break;
      case 'c': count = 1; break;
      case 'x': o.exact = 1; break;
      case OPT_EXPORT: do_export = 1; break;
      case OPT_QUERIES: queries = optarg; break;
      case OPT_PROJECTS: projects = 1; break;
      case OPT_JSONL: jsonl = 1; break;
      case OPT_TIMELINE: timeline = 1; break;
      case OPT_NO_COLLAPSE: collapse = 0; break;
      case OPT_SORT:
        if (strcmp(optarg, "date") == 0) by_date = 1;
        else if (strcmp(optarg, "relevance") != 0) {
          fprintf(stderr, "policy-search: --sort takes relevance or date, not '%s'\n", optarg);
          return 2;
        }
        break;
      case OPT_COLOR:
        if (strcmp(optarg, "always") == 0) color = 1;
        else if (strcmp(optarg, "never") == 0) color = 0;
        else if (strcmp(optarg, "auto") != 0) {
          fprintf(stderr, "policy-search: --color takes auto, always or never\n");
          return 2;
        }
        break;
      case 'h': usage(stdout); return 0;
      case 'V': puts("policy-search 0.1.0"); return 0;
      default: usage(stderr); return 2;
    }
  }
  if (!do_export && !queries && !projects && optind >= argc) {
    usage(stderr);
    return 2;
  }
  if (o.limit > 0xFFFFFFF) o.limit = 0xFFFFFFF; /* Xapian counts in 32 bits */
  if (!db) db = ps_index_default_path(dbbuf, sizeof dbbuf);

  /* The query is every remaining argument, joined by spaces. */
  size_t qlen = 1;
  for (int i = optind; i < argc; i++) qlen += strlen(argv[i]) + 1;
  char *q = calloc(qlen, 1);
  if (!q) return 2;
  for (int i = optind; i < argc; i++) {
    if (i > optind) strcat(q, " ");
    strcat(q, argv[i]);
  }

  ps_index *ix = NULL;
  ps_results *res = NULL;
  ps_error err;
  ps_error_clear(&err);
  if (ps_index_open(db, PS_INDEX_READ, &ix, &err) != PS_OK) {
    fprintf(stderr, "policy-search: %s\n", err.msg);
    status = 2;
    goto done;
  }
  if (do_export) {
    status = export_all(ix);
    goto done;
  }
  if (queries) {
    status = run_batch(ix, queries, &o);
    goto done;
  }
  if (projects) {
    status = list_projects(ix, q, json);
    goto done;
  }
  /* Facets, date order, collapsing and the timeline need the whole result:
   * search it all, then order, collapse and cut the page here. */
  ps_search_opts page = o;
  ps_collapsed *groups = NULL;
  size_t collapsed = 0;
  cJSON *facets = NULL;
  if (count) o.limit = 0;
  if (!count) {
    o.offset = 0;
    o.limit = 0xFFFFFFF;
    if (by_date || timeline) o.exact = 1;
  }
  if (ps_search(ix, q, &o, &res, &err) != PS_OK) {
    fprintf(stderr, "policy-search: %s\n", err.msg);
    status = 2;
    goto done;
  }
  if (!count) {
    facets = ps_browse_facets(res);
    if (by_date) ps_browse_sort_by_date(res);
    if (timeline) ps_browse_sort_timeline(res);
    if (collapse && !timeline && ps_browse_collapse(res, &groups, &collapsed) != PS_OK) {
      fprintf(stderr, "policy-search: out of memory\n");
      status = 2;
      goto done;
    }
    if (!timeline) ps_browse_page(res, groups, page.offset, page.limit);
    o = page;
  }
  if (count) {
    printf("%zu\n", res->total);
  } else if (jsonl) {
    for (size_t i = 0; i < res->n_hits && status == 0; i++)
      if (print_json(with_sources(ps_json_hit(&res->hits[i], 1), groups, i))) status = 2;
  } else if (json) {
    cJSON *out = ps_json_results(res, o.offset);
    cJSON *hits = cJSON_GetObjectItemCaseSensitive(out, "hits");
    for (size_t i = 0; groups && hits && i < res->n_hits; i++)
      with_sources(cJSON_GetArrayItem(hits, (int)i), groups, i);
    if (out) cJSON_AddNumberToObject(out, "collapsed", (double)collapsed);
    if (out && facets) cJSON_AddItemToObject(out, "facets", facets), facets = NULL;
    if (out && timeline) cJSON_AddItemToObject(out, "timeline", ps_json_timeline(res));
    if (print_json(out)) status = 2;
  } else {
    char *line = facets ? ps_browse_facets_line(facets) : NULL;
    FILE *f = pager_begin();
    if (timeline) render_timeline(f, res, q, color);
    else render_results(f, res, q, o.offset, color, groups, collapsed, line);
    pager_end(f);
    free(line);
  }
  cJSON_Delete(facets);
  if (groups) ps_collapsed_free(groups, res->n_hits);
  if (status == 0 && res->total == 0) status = 1;
done:
  ps_results_free(res);
  ps_index_close(ix);
  free(q);
  return status;
}
