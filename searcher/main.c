/* policy-search: searches a Policy Search database from the command line.
 * A thin front end: options, terminal or JSON rendering; the search itself
 * is in the library (ps_search.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ps_answer.h"
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
      h.norm = rec.norm;
      h.norm_len = rec.norm_len;
      h.projects = rec.projects;
      h.projects_len = rec.projects_len;
      if (ps_store_text(&rec, &h.text, &h.text_len) != PS_OK) {
        fprintf(stderr, "policy-search: paragraph %u of %s is damaged in the store\n", k,
                files[i].path);
        return 2;
      }
      int bad = print_json(ps_json_hit(&h, 0));
      free(h.text);
      if (bad) return 2;
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

static int run_batch(ps_index *ix, const char *file, const ps_answer_opts *o) {
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
    ps_answer *a = NULL;
    ps_error err;
    ps_error_clear(&err);
    cJSON *o2;
    if (ps_answer_run(ix, line, o, &a, &err) != PS_OK) {
      o2 = cJSON_CreateObject();
      cJSON_AddStringToObject(o2, "query", line);
      cJSON_AddStringToObject(o2, "error", err.msg);
    } else {
      o2 = ps_answer_json(a);
    }
    ps_answer_free(a);
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
  int json = 0, jsonl = 0, do_export = 0, projects = 0;
  int c, status = 0;
  int color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
  ps_answer_opts o;
  ps_answer_opts_init(&o);
  while ((c = getopt_long(argc, argv, "d:n:o:ajcxhV", longopts, NULL)) != -1) {
    switch (c) {
      case 'd': db = optarg; break;
      case 'n': if (parse_count(optarg, "--limit", &o.limit)) return 2; break;
      case 'o': if (parse_count(optarg, "--offset", &o.offset)) return 2; break;
      case 'a': o.limit = PS_ANSWER_MAX_LIMIT; break;
      case 'j': json = 1; break;
      case 'c': o.count_only = 1; break;
      case 'x': o.exact = 1; break;
      case OPT_EXPORT: do_export = 1; break;
      case OPT_QUERIES: queries = optarg; break;
      case OPT_PROJECTS: projects = 1; break;
      case OPT_JSONL: jsonl = 1; break;
      case OPT_TIMELINE: o.timeline = 1; break;
      case OPT_NO_COLLAPSE: o.collapse = 0; break;
      case OPT_SORT:
        if (strcmp(optarg, "date") == 0) o.sort_date = 1;
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
  if (o.limit > PS_ANSWER_MAX_LIMIT) o.limit = PS_ANSWER_MAX_LIMIT;
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
  ps_answer *a = NULL;
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
    /* One plain result per line: paged inside the search, no facets. */
    ps_answer_opts plain = {o.offset, o.limit, o.exact, 0, 0, 0, 0, 0};
    status = run_batch(ix, queries, &plain);
    goto done;
  }
  if (projects) {
    status = list_projects(ix, q, json);
    goto done;
  }
  if (ps_answer_run(ix, q, &o, &a, &err) != PS_OK) {
    fprintf(stderr, "policy-search: %s\n", err.msg);
    status = 2;
    goto done;
  }
  const ps_results *res = a->res;
  if (o.count_only) {
    printf("%zu\n", res->total);
  } else if (jsonl) {
    for (size_t i = 0; i < res->n_hits && status == 0; i++)
      if (print_json(ps_answer_hit_json(a, i))) status = 2;
  } else if (json) {
    if (print_json(ps_answer_json(a))) status = 2;
  } else {
    char *line = a->facets ? ps_browse_facets_line(a->facets) : NULL;
    FILE *f = pager_begin();
    if (o.timeline) render_timeline(f, res, q, color);
    else render_results(f, res, q, o.offset, color, a->groups, a->collapsed, line);
    pager_end(f);
    free(line);
  }
  if (status == 0 && res->total == 0) status = 1;
done:
  ps_answer_free(a);
  ps_index_close(ix);
  free(q);
  return status;
}
