/* policy-index: indexes documents into a Policy Search database.
 * A thin front end: options, the walk over files and directories, progress
 * and the summary; all the work is in the library (ps_index.h). */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ps_index.h"

#define DEFAULT_BATCH 50000
#define DEFAULT_MAX_MEMORY 256 /* MB */
/* What the indexer holds besides the uncommitted batch: the libraries, the
 * files being parsed ahead, Xapian's commit (measured on bench/ corpora). */
#define FIXED_MEMORY 96 /* MB */

/* The signal that asked us to stop (0: none): the run commits what it has,
 * then dies of that signal so that a shell or make sees an interruption. */
static volatile sig_atomic_t g_stop = 0;
static void on_signal(int sig) { g_stop = sig; }

static void usage(FILE *f) {
  fputs("Usage: policy-index [OPTIONS] PATH...\n"
        "Index documents (.txt, .md, .html, .pdf; directories recursively) into a\n"
        "Policy Search database.  Re-indexing a changed file replaces its\n"
        "paragraphs; unchanged files are skipped.\n"
        "\n"
        "  -d, --db DIR        database directory (default: $POLICY_SEARCH_DB, else\n"
        "                      $XDG_DATA_HOME/policy-search/db, else\n"
        "                      ~/.local/share/policy-search/db)\n"
        "  -r, --remove PATH   remove the paragraphs of PATH (a file, or every\n"
        "                      indexed file under a directory); may be repeated\n"
        "  -O, --optimize      afterwards, rebuild the database without superseded\n"
        "                      paragraphs and compact it\n"
        "      --no-compact    after a run that at least doubled the database, do\n"
        "                      not compact it (compacting halves the postings and\n"
        "                      takes about 1 s per 100 MB of text)\n"
        "  -b, --batch N       commit every N paragraphs (default 50000, or a quarter\n"
        "                      of what the database holds when that is more); each\n"
        "                      file is always committed whole.  A commit merges what\n"
        "                      was built since the last one into the database\n"
        "                      (about 1 s per 100 MB of text indexed so far)\n"
        "  -s, --shards N      make DIR a database of N shards (DIR/shard-0 ..., named\n"
        "                      by the stub DIR/XAPIANDB); each file goes to the shard\n"
        "                      its path hashes to.  Only when DIR is new; a sharded\n"
        "                      DIR is updated without the option.  Opened on one\n"
        "                      shard's directory, only that shard's files are indexed\n"
        "  -m, --max-memory MB keep the indexer under about MB megabytes (default\n"
        "                      256, at least 128): the batches of paragraphs built\n"
        "                      in memory are cut (or committed) before they would\n"
        "                      pass it, whatever the corpus size (one huge file can\n"
        "                      exceed it)\n"
        "  -e, --encoding NAME read text files as NAME (any iconv name: GB18030,\n"
        "                      BIG5, UTF-16LE...) instead of detecting the encoding\n"
        "  -q, --quiet         no summary, no progress\n"
        "  -h, --help          show this help\n"
        "  -V, --version       show the version\n"
        "\n"
        "Exit status: 0 all files indexed, 1 some files failed, 2 the run failed.\n"
        "SIGINT or SIGTERM: stops after the current file, commits what was indexed,\n"
        "then ends by that signal (a shell shows 130 or 143).\n",
        f);
}

typedef struct run {
  ps_index *ix;
  int quiet, progress;
  size_t batch;
  int batch_given;  /* --batch: exactly that; else it grows with the database */
  size_t budget; /* bytes of uncommitted paragraphs that trigger a commit */
  const char *encoding; /* --encoding, NULL: detect */
  size_t files_total, files_done, indexed, unchanged, skipped, failed, paragraphs;
  size_t elsewhere; /* files of other shards (run on one shard's directory) */
  int fatal;
  char **paths;
  int *named;   /* 1 when the path was named on the command line */
  size_t n, cap;
  double t0, last_line;
} run;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void warn_cb(void *ctx, const char *msg) {
  (void)ctx;
  fprintf(stderr, "policy-index: warning: %s\n", msg);
}

static int push_path(run *r, const char *p, int named) {
  if (r->n == r->cap) {
    size_t c = r->cap ? r->cap * 2 : 64;
    char **np = realloc(r->paths, c * sizeof *np);
    int *nn = realloc(r->named, c * sizeof *nn);
    if (np) r->paths = np;
    if (nn) r->named = nn;
    if (!np || !nn) return -1;
    r->cap = c;
  }
  if (!(r->paths[r->n] = strdup(p))) return -1;
  r->named[r->n++] = named;
  return 0;
}

static run *g_walk; /* nftw has no context argument */

static int walk_cb(const char *path, const struct stat *sb, int type, struct FTW *ftw) {
  const char *base = path + ftw->base;
  if (ftw->level > 0 && base[0] == '.') return type == FTW_D ? FTW_SKIP_SUBTREE : FTW_CONTINUE;
  if (type == FTW_F && S_ISREG(sb->st_mode)) {
    size_t bl = strlen(base);
    if (bl > 10 && strcmp(base + bl - 10, ".meta.json") == 0) return FTW_CONTINUE;
    if (push_path(g_walk, path, 0)) return FTW_STOP;
  } else if (type == FTW_DNR) {
    fprintf(stderr, "policy-index: %s: cannot read directory\n", path);
    g_walk->failed++;
  }
  return FTW_CONTINUE;
}

/* A positive number from the environment, else 0. */
static size_t env_size(const char *name) {
  const char *e = getenv(name);
  char *end;
  unsigned long long v = e ? strtoull(e, &end, 10) : 0;
  return (e && *e && !*end) ? (size_t)v : 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* On a terminal: a bar redrawn after every file.  Otherwise (a log, a
 * pipe): a plain line every 10 seconds, so long runs show they are alive. */
static void progress(run *r, const char *path) {
  if (r->quiet) return;
  if (!r->progress) {
    double t = now_s();
    if (t - r->last_line < 10) return;
    r->last_line = t;
    fprintf(stderr, "policy-index: %zu/%zu files, %zu paragraphs, %.0f s\n", r->files_done,
            r->files_total, r->paragraphs, t - r->t0);
    return;
  }
  int width = 30, filled = r->files_total ? (int)(width * r->files_done / r->files_total) : 0;
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  fprintf(stderr, "\r\033[K[");
  for (int i = 0; i < width; i++) fputc(i < filled ? '#' : '.', stderr);
  fprintf(stderr, "] %zu/%zu files, %zu paragraphs  %.40s", r->files_done, r->files_total,
          r->paragraphs, base);
  fflush(stderr);
}

/* A commit of a bulk load rewrites the whole database (one compaction with
 * what was built since): at a fixed interval the copying grows with the
 * square of the corpus (1 GB: 26 merges, the last ones ~4 s each).  By
 * default the interval grows with the database (its last docid: what the
 * merged postings span), so the copying stays proportional to it. */
static void adapt_batch(run *r) {
  if (r->batch_given) return;
  ps_index_stats st;
  ps_index_stats_get(r->ix, &st);
  r->batch = st.lastdocid / 4 > DEFAULT_BATCH ? st.lastdocid / 4 : DEFAULT_BATCH;
}

static int commit(run *r) {
  ps_error err;
  ps_error_clear(&err);
  if (ps_index_commit(r->ix, &err) != PS_OK) {
    fprintf(stderr, "%spolicy-index: %s\n", r->progress ? "\n" : "", err.msg);
    r->fatal = 1;
    return -1;
  }
  adapt_batch(r);
  return 0;
}

/* Called after each file (on the writing thread): counts, reports,
 * commits a full batch; non-zero stops the run. */
static int file_done(void *ctx, size_t i, int rc, const ps_add_result *res,
                     const ps_error *err) {
  run *r = ctx;
  const char *path = r->paths[i];
  r->files_done++;
  if (rc == PS_OK) {
    if (res->status == PS_ADD_UNCHANGED) r->unchanged++;
    else if (res->status == PS_ADD_ELSEWHERE) r->elsewhere++;
    else r->indexed++;
    r->paragraphs += res->paragraphs;
  } else if (rc == PS_ERR_IO || rc == PS_ERR_FORMAT) {
    if (r->progress) fputs("\r\033[K", stderr);
    if (rc == PS_ERR_FORMAT && !r->named[i]) {
      fprintf(stderr, "policy-index: skipped %s\n", err->msg);
      r->skipped++;
    } else {
      fprintf(stderr, "policy-index: %s\n", err->msg);
      r->failed++;
    }
  } else {
    if (r->progress) fputs("\r\033[K", stderr);
    fprintf(stderr, "policy-index: %s: %s\n", path, err->msg);
    r->failed++;
    r->fatal = 1; /* the uncommitted batch is lost: stop here */
    return 1;
  }
  if (ps_index_pending(r->ix) >= r->batch || ps_index_pending_bytes(r->ix) >= r->budget)
    commit(r);
  progress(r, path);
  return r->fatal || g_stop;
}

int main(int argc, char **argv) {
  static const struct option longopts[] = {
      {"db", required_argument, 0, 'd'},    {"remove", required_argument, 0, 'r'},
      {"optimize", no_argument, 0, 'O'},    {"optimise", no_argument, 0, 'O'},
      {"batch", required_argument, 0, 'b'}, {"quiet", no_argument, 0, 'q'},
      {"help", no_argument, 0, 'h'},        {"version", no_argument, 0, 'V'},
      {"encoding", required_argument, 0, 'e'}, {"shards", required_argument, 0, 's'},
      {"max-memory", required_argument, 0, 'm'},
      {"no-compact", no_argument, 0, 'C'},
      {0, 0, 0, 0}};
  char dbbuf[4096];
  const char *db = NULL;
  char **removes = NULL;
  size_t n_removes = 0;
  int optimize = 0, compact = 1, c, status = 0;
  unsigned shards = 0;
  run r;
  memset(&r, 0, sizeof r);
  r.batch = DEFAULT_BATCH;
  long max_memory = DEFAULT_MAX_MEMORY;
  removes = calloc((size_t)argc, sizeof *removes);
  if (!removes) return 2;
  while ((c = getopt_long(argc, argv, "d:r:Ob:e:s:m:qhV", longopts, NULL)) != -1) {
    switch (c) {
      case 'd': db = optarg; break;
      case 'r': removes[n_removes++] = optarg; break;
      case 'O': optimize = 1; break;
      case 'C': compact = 0; break;
      case 'b': {
        char *end;
        long v = strtol(optarg, &end, 10);
        if (*end || v <= 0) {
          fprintf(stderr, "policy-index: --batch needs a positive number, not '%s'\n", optarg);
          free(removes);
          return 2;
        }
        r.batch = (size_t)v;
        r.batch_given = 1;
        break;
      }
      case 'e': r.encoding = optarg; break;
      case 's': {
        char *end;
        long v = strtol(optarg, &end, 10);
        if (*end || v <= 0 || v > 1024) {
          fprintf(stderr, "policy-index: --shards needs a number from 1 to 1024, not '%s'\n",
                  optarg);
          free(removes);
          return 2;
        }
        shards = (unsigned)v;
        break;
      }
      case 'm': {
        char *end;
        max_memory = strtol(optarg, &end, 10);
        if (*end || max_memory < 128 || max_memory > (1L << 30)) {
          fprintf(stderr, "policy-index: --max-memory needs a number of megabytes >= 128, "
                  "not '%s'\n", optarg);
          free(removes);
          return 2;
        }
        break;
      }
      case 'q': r.quiet = 1; break;
      case 'h': usage(stdout); free(removes); return 0;
      case 'V': puts("policy-index 0.1.0"); free(removes); return 0;
      default: usage(stderr); free(removes); return 2;
    }
  }
  if (optind >= argc && !n_removes && !optimize && !shards) {
    usage(stderr);
    free(removes);
    return 2;
  }
  if (!db) db = ps_index_default_path(dbbuf, sizeof dbbuf);
  r.budget = (size_t)(max_memory - FIXED_MEMORY) << 20;

  /* Collect the files first so that progress can show a total. */
  g_walk = &r;
  for (int i = optind; i < argc; i++) {
    struct stat sb;
    if (stat(argv[i], &sb) != 0) {
      fprintf(stderr, "policy-index: %s: %s\n", argv[i], strerror(errno));
      r.failed++;
    } else if (S_ISDIR(sb.st_mode)) {
      size_t before = r.n;
      if (nftw(argv[i], walk_cb, 32, FTW_PHYS | FTW_ACTIONRETVAL) != 0) {
        fprintf(stderr, "policy-index: %s: cannot walk directory\n", argv[i]);
        r.failed++;
      }
      qsort(r.paths + before, r.n - before, sizeof *r.paths, cmp_str);
    } else if (push_path(&r, argv[i], 1)) {
      fprintf(stderr, "policy-index: out of memory\n");
      return 2;
    }
  }
  r.files_total = r.n;

  ps_error err;
  ps_error_clear(&err);
  if (ps_index_open_sharded(db, shards, PS_INDEX_WRITE, &r.ix, &err) != PS_OK) {
    fprintf(stderr, "policy-index: %s\n", err.msg);
    status = 2;
    goto done;
  }
  /* Bulk loads: the builders' share of --max-memory.  For tests and
   * benchmarks only (bench/RESULTS.md), PS_BULK_BATCH sets the paragraphs
   * per temporary database and PS_BULK_MIN_BYTES the input size from which
   * the bulk path is taken (ps_index_set_bulk). */
  ps_index_set_bulk(r.ix, env_size("PS_BULK_BATCH"), r.budget, env_size("PS_BULK_MIN_BYTES"));
  adapt_batch(&r);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  r.progress = !r.quiet && isatty(STDERR_FILENO);
  r.t0 = r.last_line = now_s();
  for (size_t i = 0; i < n_removes && !r.fatal; i++) {
    size_t removed = 0;
    if (ps_index_remove(r.ix, removes[i], &removed, &err) != PS_OK) {
      fprintf(stderr, "policy-index: %s\n", err.msg);
      r.fatal = 1;
    } else if (removed == 0) {
      fprintf(stderr, "policy-index: %s: not in the index\n", removes[i]);
      r.failed++;
    } else if (!r.quiet) {
      fprintf(stderr, "policy-index: removed %zu file%s under %s\n", removed,
              removed == 1 ? "" : "s", removes[i]);
    }
  }
  ps_index_stats before;
  ps_index_stats_get(r.ix, &before);
  ps_ingest_opts opts = {.warn = warn_cb, .encoding = r.encoding};
  if (r.n && !r.fatal && !g_stop &&
      ps_index_add_files(r.ix, r.paths, r.n, &opts, file_done, &r, &err) != PS_OK) {
    fprintf(stderr, "policy-index: %s\n", err.msg);
    r.fatal = 1;
  }
  if (r.progress) fputs("\r\033[K", stderr);
  if (!r.fatal) commit(&r);
  if (!r.fatal && !optimize && compact && r.indexed) {
    /* A bulk load: tables grown by adding are about twice their compacted
     * size, and compacting costs about 1% of the indexing time. */
    ps_index_stats after;
    ps_index_stats_get(r.ix, &after);
    if (after.lastdocid - before.lastdocid >= before.lastdocid &&
        ps_index_compact(r.ix, &err) != PS_OK) {
      fprintf(stderr, "policy-index: compacting: %s\n", err.msg);
      r.fatal = 1;
    }
  }
  if (!r.fatal && optimize) {
    if (!r.quiet) fprintf(stderr, "policy-index: optimising %s\n", db);
    if (ps_index_optimize(r.ix, &err) != PS_OK) {
      fprintf(stderr, "policy-index: optimise: %s\n", err.msg);
      r.fatal = 1;
    }
  }
  if (!r.quiet)
    fprintf(stderr,
            "policy-index: %zu files indexed, %zu unchanged, %zu skipped, %zu failed; "
            "%zu paragraphs; %.2f s%s\n",
            r.indexed, r.unchanged, r.skipped, r.failed, r.paragraphs, now_s() - r.t0,
            g_stop ? " (interrupted)" : "");
  if (!r.quiet && r.elsewhere)
    fprintf(stderr, "policy-index: %zu files belong to other shards of this database\n",
            r.elsewhere);
  status = r.fatal ? 2 : (r.failed || g_stop) ? 1 : 0;
done:
  ps_index_close(r.ix);
  for (size_t i = 0; i < r.n; i++) free(r.paths[i]);
  free(r.paths);
  free(r.named);
  free(removes);
  if (g_stop) {
    signal(g_stop, SIG_DFL);
    raise(g_stop);
  }
  return status;
}
