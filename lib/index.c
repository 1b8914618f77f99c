/* index.c: a Policy Search database (see ps_index.h): opening and checking
 * the scheme, the file registry, adding and superseding files, commits that
 * keep the Xapian tables and the paragraph store in step, and optimise. */
#include "ps_index.h"

#include <cjson/cJSON.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "index_internal.h"
#include "ps_hash.h"
#include "ps_json.h"
#include "ps_meta.h"
#include "ps_projects.h"
#include "ps_shard.h"
#include "ps_tok.h"

typedef struct dead_range {
  uint32_t first, count;
} dead_range;

struct ps_index {
  int writable;
  char dir[PATH_MAX];
  ps_xdb *xdb;
  ps_store *store;
  ps_xdoc *doc;            /* writer: reused document builder */
  size_t pending;          /* writer: paragraphs since last commit */
  size_t pending_bytes;    /* writer: estimated memory they hold */
  uint32_t next_file;      /* writer: next file number */
  /* registry (readers; writers keep it for stats only) */
  ps_file_info *files;     /* sorted by path */
  size_t n_files;
  uint32_t *by_no;         /* indices into files, sorted by file_no */
  uint32_t *by_first;      /* indices into files, sorted by first docid */
  int project_hashes;      /* readers: every paragraph has PS_SLOT_PROJECTS */
  dead_range *dead;        /* sorted by first */
  size_t n_dead;
  size_t dead_total;
  unsigned shard_i, shard_n; /* a shard: its place ("ps:shard"); shard_n 0 otherwise */
  char remote[300];        /* "HOST:PORT" of a remote shard's tables, else "" */
  int stale;               /* readers: a reopen did not finish (ps_index__check) */
  ps_shards *sh;           /* a sharded database: everything goes through it
                              (shard_index.c) and the fields above are unused */
  /* writer: metadata set since the last commit, in order, so that a merge
   * (bulk loads) can apply it to the merged copy (meta_set) */
  struct meta_entry *log;
  size_t n_log, cap_log;
  /* writer, bulk loads (index_bulk.c): while bulk is set, paragraphs go to
   * temporary databases under DIR.bulk instead of xdb, under docids given
   * here from next_docid on; temps lists those not merged yet */
  ix_bulk *bulk;
  uint32_t next_docid;
  char **temps;
  size_t n_temps, cap_temps;
  size_t bulk_paras, bulk_memory; /* ps_index_set_bulk */
  uint64_t bulk_min;
  unsigned long temp_seq;  /* the last temporary database's number (bulk threads
                            * take numbers under their lock, ix_temp_dir) */
  int compacted;           /* writer: the tables are as compact() left them */
  int lost;                /* writer: a bulk load or a store write failed: uncommitted
                              changes are lost */
};

typedef struct meta_entry {
  char *key, *val;
} meta_entry;

/* ---- small helpers ---- */

char *ps_index_default_path(char *buf, size_t n) {
  const char *e = getenv("POLICY_SEARCH_DB");
  if (e && *e) {
    snprintf(buf, n, "%s", e);
    return buf;
  }
  e = getenv("XDG_DATA_HOME");
  if (e && *e) {
    snprintf(buf, n, "%s/policy-search/db", e);
    return buf;
  }
  e = getenv("HOME");
  snprintf(buf, n, "%s/.local/share/policy-search/db", (e && *e) ? e : ".");
  return buf;
}

static int mkdir_p(const char *path, ps_error *err) {
  char tmp[PATH_MAX];
  snprintf(tmp, sizeof tmp, "%s", path);
  for (char *p = tmp + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
      return ps_error_set(err, PS_ERR_IO, "%s: cannot create directory: %s", tmp,
                          strerror(errno));
    *p = '/';
  }
  if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
    return ps_error_set(err, PS_ERR_IO, "%s: cannot create directory: %s", tmp,
                        strerror(errno));
  return PS_OK;
}

static int xerr(ps_index *ix, int rc, const char *what, ps_error *err) {
  return ps_error_set(err, rc, "%s/xapian: %s: %s", ix->dir, what, ps_xdb_errmsg(ix->xdb));
}

/* A swap (--optimize, a bulk merge) that could not reopen the database
 * leaves ix without tables: every later call says so instead of using
 * them. */
static int detached(const ps_index *ix, ps_error *err) {
  if (ix->sh || (ix->xdb && ix->store)) return PS_OK;
  return ps_error_set(err, PS_ERR_IO, "%s: the database could not be reopened after it was "
                      "swapped in; close it and open it again", ix->dir);
}

static int meta_get(ps_index *ix, const char *key, char **val, ps_error *err) {
  size_t len;
  int rc = ps_xdb_get_metadata(ix->xdb, key, val, &len);
  if (rc) return xerr(ix, rc, "reading metadata", err);
  return PS_OK;
}

static void log_clear(ps_index *ix) {
  for (size_t i = 0; i < ix->n_log; i++) {
    free(ix->log[i].key);
    free(ix->log[i].val);
  }
  ix->n_log = 0;
}

static int meta_set(ps_index *ix, const char *key, const char *val, ps_error *err) {
  int rc = ps_xdb_set_metadata(ix->xdb, key, val, strlen(val));
  if (rc) return xerr(ix, rc, "writing metadata", err);
  /* Kept until the commit: a bulk load's commit writes it again into the
   * merged copy of the database, which starts from the last commit. */
  if (ix->n_log == ix->cap_log) {
    size_t cap = ix->cap_log ? ix->cap_log * 2 : 64;
    meta_entry *l = realloc(ix->log, cap * sizeof *l);
    if (!l) return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
    ix->log = l;
    ix->cap_log = cap;
  }
  meta_entry *e = &ix->log[ix->n_log];
  e->key = strdup(key);
  e->val = strdup(val);
  if (!e->key || !e->val) {
    free(e->key);
    free(e->val);
    return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  }
  ix->n_log++;
  return PS_OK;
}

static int meta_get_u64(ps_index *ix, const char *key, uint64_t *out, ps_error *err) {
  char *v = NULL;
  int rc = meta_get(ix, key, &v, err);
  if (rc == PS_OK) *out = strtoull(v, NULL, 10);
  free(v);
  return rc;
}

static int meta_set_u64(ps_index *ix, const char *key, uint64_t v, ps_error *err) {
  char buf[32];
  snprintf(buf, sizeof buf, "%" PRIu64, v);
  return meta_set(ix, key, buf, err);
}

static char *xstrdup(const char *s) { return strdup(s ? s : ""); }

static void remove_tree(const char *path);

/* Removes DIR.bulk, where bulk loads build their temporary databases
 * (beside DIR, not in it: a merge swaps DIR while the temporaries of later
 * files are still being built), and DIR/bulk, where earlier versions did. */
static void bulk_dir_remove(ps_index *ix) {
  char p[PATH_MAX + 8];
  snprintf(p, sizeof p, "%s.bulk", ix->dir);
  remove_tree(p);
  snprintf(p, sizeof p, "%s/bulk", ix->dir);
  remove_tree(p);
}

/* ---- the registry ---- */

/* The string fields of ps_file_info, for the code that treats them alike. */
#define FILE_INFO_STRINGS(X)                                                      \
  X(path) X(title) X(date) X(format) X(years) X(region) X(types) X(issuer)       \
  X(doc_number) X(categories) X(tags) X(sidecar)

static void file_info_clear(ps_file_info *f) {
#define FREE_FIELD(name) free(f->name);
  FILE_INFO_STRINGS(FREE_FIELD)
#undef FREE_FIELD
  free(f->title_norm);
  memset(f, 0, sizeof *f);
}

static char *file_info_json(const ps_file_info *f) {
  cJSON *o = cJSON_CreateObject();
  char hash[17];
  snprintf(hash, sizeof hash, "%016" PRIx64, f->hash);
  if (!o) return NULL;
  cJSON_AddNumberToObject(o, "no", f->file_no);
#define ADD_FIELD(name) cJSON_AddStringToObject(o, #name, f->name ? f->name : "");
  FILE_INFO_STRINGS(ADD_FIELD)
#undef ADD_FIELD
  cJSON_AddNumberToObject(o, "sidecar_mtime_ns", (double)f->sidecar_mtime_ns);
  cJSON_AddNumberToObject(o, "size", (double)f->size);
  cJSON_AddNumberToObject(o, "mtime_ns", (double)f->mtime_ns);
  cJSON_AddStringToObject(o, "hash", hash);
  cJSON_AddNumberToObject(o, "first", f->first);
  cJSON_AddNumberToObject(o, "count", f->count);
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return s;
}

/* Parses a registry record; PS_ERR_CORRUPT if it is not one. */
static int file_info_parse(const char *json, size_t len, ps_file_info *f) {
  memset(f, 0, sizeof *f);
  cJSON *o = cJSON_ParseWithLength(json, len);
  if (!o) return PS_ERR_CORRUPT;
  f->file_no = (uint32_t)ps_json_num(o, "no");
  int ok = 1;
#define PARSE_FIELD(name) ok &= (f->name = xstrdup(ps_json_str(o, #name))) != NULL;
  FILE_INFO_STRINGS(PARSE_FIELD)
#undef PARSE_FIELD
  f->sidecar_mtime_ns = (int64_t)ps_json_num(o, "sidecar_mtime_ns");
  f->size = (uint64_t)ps_json_num(o, "size");
  f->mtime_ns = (int64_t)ps_json_num(o, "mtime_ns");
  f->hash = strtoull(ps_json_str(o, "hash"), NULL, 16);
  f->first = (uint32_t)ps_json_num(o, "first");
  f->count = (uint32_t)ps_json_num(o, "count");
  cJSON_Delete(o);
  ps_norm tn;
  if (ok && ps_tok_normalize(f->title, strlen(f->title), 0, &tn) == PS_OK) {
    f->title_norm = tn.text; /* taken over from tn */
  } else {
    ok = 0;
  }
  if (!ok) {
    file_info_clear(f);
    return PS_ERR_NOMEM;
  }
  return PS_OK;
}

/* Reads the registry record of path; *found = 0 when there is none. */
static int registry_get(ps_index *ix, const char *path, ps_file_info *f, int *found,
                        ps_error *err) {
  char key[PATH_MAX + 8];
  char *v = NULL;
  snprintf(key, sizeof key, "file:%s", path);
  *found = 0;
  int rc = meta_get(ix, key, &v, err);
  if (rc == PS_OK && *v) {
    rc = file_info_parse(v, strlen(v), f);
    if (rc) ps_error_set(err, rc, "%s: damaged registry record for %s", ix->dir, path);
    else *found = 1;
  }
  free(v);
  return rc;
}

static int registry_put(ps_index *ix, const ps_file_info *f, ps_error *err) {
  char key[PATH_MAX + 8];
  snprintf(key, sizeof key, "file:%s", f->path);
  char *v = file_info_json(f);
  if (!v) return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  int rc = meta_set(ix, key, v, err);
  free(v);
  return rc;
}

static int registry_delete(ps_index *ix, const char *path, ps_error *err) {
  char key[PATH_MAX + 8];
  snprintf(key, sizeof key, "file:%s", path);
  return meta_set(ix, key, "", err);
}

static int mark_dead(ps_index *ix, uint32_t first, uint32_t count, ps_error *err) {
  if (count == 0) return PS_OK;
  char key[32];
  snprintf(key, sizeof key, "dead:%010" PRIu32, first);
  return meta_set_u64(ix, key, count, err);
}

/* Loading everything a reader needs: files and dead ranges. */
typedef struct load_ctx {
  ps_index *ix;
  size_t cap;
  int rc;
  ps_error *err;
} load_ctx;

static int load_file_cb(void *vctx, const char *key, size_t len) {
  load_ctx *c = vctx;
  ps_index *ix = c->ix;
  char *v = NULL, k[PATH_MAX + 8];
  if (len >= sizeof k) return 0;
  memcpy(k, key, len);
  k[len] = '\0';
  if ((c->rc = meta_get(ix, k, &v, c->err))) return 1;
  if (ix->n_files == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 64;
    ps_file_info *f = realloc(ix->files, cap * sizeof *f);
    if (!f) {
      free(v);
      c->rc = ps_error_set(c->err, PS_ERR_NOMEM, "out of memory");
      return 1;
    }
    ix->files = f;
    c->cap = cap;
  }
  int rc = file_info_parse(v, strlen(v), &ix->files[ix->n_files]);
  free(v);
  if (rc == PS_OK) ix->n_files++;
  return 0;
}

static int load_dead_cb(void *vctx, const char *key, size_t len) {
  load_ctx *c = vctx;
  ps_index *ix = c->ix;
  char k[64];
  if (len >= sizeof k) return 0;
  memcpy(k, key, len);
  k[len] = '\0';
  uint64_t count = 0;
  if ((c->rc = meta_get_u64(ix, k, &count, c->err))) return 1;
  if (ix->n_dead == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 64;
    dead_range *d = realloc(ix->dead, cap * sizeof *d);
    if (!d) {
      c->rc = ps_error_set(c->err, PS_ERR_NOMEM, "out of memory");
      return 1;
    }
    ix->dead = d;
    c->cap = cap;
  }
  ix->dead[ix->n_dead].first = (uint32_t)strtoul(k + 5, NULL, 10);
  ix->dead[ix->n_dead].count = (uint32_t)count;
  ix->dead_total += count;
  ix->n_dead++;
  return 0;
}

static int cmp_path(const void *a, const void *b) {
  return strcmp(((const ps_file_info *)a)->path, ((const ps_file_info *)b)->path);
}

static int cmp_no(const void *a, const void *b, void *files) {
  const ps_file_info *f = files;
  uint32_t x = f[*(const uint32_t *)a].file_no, y = f[*(const uint32_t *)b].file_no;
  return x < y ? -1 : x > y;
}

static int cmp_first(const void *a, const void *b, void *files) {
  const ps_file_info *f = files;
  uint32_t x = f[*(const uint32_t *)a].first, y = f[*(const uint32_t *)b].first;
  return x < y ? -1 : x > y;
}

static void registry_free(ps_index *ix) {
  for (size_t i = 0; i < ix->n_files; i++) file_info_clear(&ix->files[i]);
  free(ix->files);
  free(ix->by_no);
  free(ix->by_first);
  free(ix->dead);
  ix->files = NULL;
  ix->by_no = NULL;
  ix->by_first = NULL;
  ix->dead = NULL;
  ix->n_files = ix->n_dead = ix->dead_total = 0;
}

static int registry_load(ps_index *ix, ps_error *err) {
  registry_free(ix);
  load_ctx c = {ix, 0, PS_OK, err};
  int rc = ps_xdb_metadata_keys(ix->xdb, "file:", load_file_cb, &c);
  if (rc == 1) rc = c.rc;
  else if (rc) return xerr(ix, rc, "reading the file registry", err);
  if (rc) return rc;
  c.cap = 0;
  rc = ps_xdb_metadata_keys(ix->xdb, "dead:", load_dead_cb, &c);
  if (rc == 1) rc = c.rc;
  else if (rc) return xerr(ix, rc, "reading superseded ranges", err);
  if (rc) return rc;
  ix->by_no = malloc((ix->n_files + 1) * sizeof *ix->by_no);
  ix->by_first = malloc((ix->n_files + 1) * sizeof *ix->by_first);
  if (!ix->by_no || !ix->by_first) return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  ix_sort_files(ix->files, ix->n_files, ix->by_no);
  for (size_t i = 0; i < ix->n_files; i++) ix->by_first[i] = (uint32_t)i;
  qsort_r(ix->by_first, ix->n_files, sizeof *ix->by_first, cmp_first, ix->files);
  char *flag = NULL;
  if ((rc = meta_get(ix, "ps:project_hashes", &flag, err))) return rc;
  ix->project_hashes = strcmp(flag, "1") == 0;
  free(flag);
  return PS_OK;
}

void ix_sort_files(ps_file_info *files, size_t n, uint32_t *by_no) {
  qsort(files, n, sizeof *files, cmp_path);
  for (size_t i = 0; i < n; i++) by_no[i] = (uint32_t)i;
  qsort_r(by_no, n, sizeof *by_no, cmp_no, files);
}

/* ---- open / close ---- */

/* Normalises with the traditional->simplified table stored in the
 * database ("ps:t2s"); a database without one (new, or older than the key)
 * gets the table of the OpenCC installed now when it is opened for
 * writing.  A reader of an old database builds it from OpenCC as before. */
static int t2s_table_use(ps_index *ix, ps_error *err) {
  char *table = NULL;
  int rc = meta_get(ix, "ps:t2s", &table, err);
  if (rc == PS_OK && *table) {
    if ((rc = ps_tok_t2s_adopt(table, strlen(table), err)))
      ps_error_prefix(err, "%s", ix->dir);
  } else if (rc == PS_OK) {
    free(table);
    table = NULL;
    rc = ix->writable ? ps_tok_t2s_export(&table, err) : ps_tok_init(err);
    if (rc == PS_OK && ix->writable) rc = meta_set(ix, "ps:t2s", table, err);
  }
  free(table);
  return rc;
}

static int check_scheme(ps_index *ix, ps_error *err) {
  char *scheme = NULL, *layout = NULL;
  int rc = meta_get(ix, "ps:scheme", &scheme, err);
  if (rc == PS_OK) rc = meta_get(ix, "ps:layout", &layout, err);
  if (rc == PS_OK) {
    ps_xdb_stats st;
    int fresh = !*scheme && ps_xdb_stats_get(ix->xdb, &st) == PS_OK && st.lastdocid == 0;
    if (fresh && ix->writable) {
      rc = meta_set(ix, "ps:scheme", PS_TOK_SCHEME, err);
      if (rc == PS_OK) rc = meta_set(ix, "ps:layout", PS_INDEX_LAYOUT, err);
      /* every paragraph of this database will have the value */
      if (rc == PS_OK) rc = meta_set(ix, "ps:project_hashes", "1", err);
    } else if (fresh) {
      rc = ps_error_set(err, PS_ERR_NOTFOUND,
                        "%s: the database is empty; index documents with policy-index first",
                        ix->dir);
    } else if (strcmp(scheme, PS_TOK_SCHEME) != 0 || strcmp(layout, PS_INDEX_LAYOUT) != 0) {
      rc = ps_error_set(err, PS_ERR_SCHEME,
                        "%s: database written with tokenisation scheme '%s' layout '%s', "
                        "this program uses '%s' layout '%s'; rebuild it: remove the "
                        "directory and run policy-index again",
                        ix->dir, scheme, layout, PS_TOK_SCHEME, PS_INDEX_LAYOUT);
    }
  }
  free(scheme);
  free(layout);
  if (rc == PS_OK) rc = t2s_table_use(ix, err);
  return rc;
}

/* Finishes an optimise that was interrupted between its two renames. */
static void recover_swap(const char *dir) {
  char nw[PATH_MAX + 8];
  struct stat sb;
  snprintf(nw, sizeof nw, "%s.new", dir);
  if (stat(dir, &sb) != 0 && errno == ENOENT && stat(nw, &sb) == 0) rename(nw, dir);
}

/* The text store's identity: "ps:text_id" in the metadata and the same
 * string in DIR/text.id, so that a replica of the store (a remote shard's
 * text beside its client) can be checked to be a copy of this database's
 * store and not of another shard's, or of the store before an optimise
 * rebuilt it.  Writers create it when missing. */
static int text_id_ensure(ps_index *ix, ps_error *err) {
  char *id = NULL, path[PATH_MAX + 16];
  int rc = meta_get(ix, "ps:text_id", &id, err);
  snprintf(path, sizeof path, "%s/text.id", ix->dir);
  if (rc == PS_OK && !*id) {
    unsigned char r[16];
    char hex[40];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      uint64_t a = ps_hash64((const char *)&ts, sizeof ts) ^ (uint64_t)getpid();
      memcpy(r, &a, 8);
      memcpy(r + 8, &ts.tv_nsec, sizeof ts.tv_nsec < 8 ? sizeof ts.tv_nsec : 8);
    }
    for (int i = 0; i < 16; i++) snprintf(hex + 2 * i, 3, "%02x", r[i]);
    free(id);
    id = strdup(hex);
    if (!id) rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
    else rc = meta_set(ix, "ps:text_id", id, err);
  }
  if (rc == PS_OK) {
    char old[64] = "";
    FILE *f = fopen(path, "r");
    if (f) {
      if (!fgets(old, sizeof old, f)) old[0] = '\0';
      fclose(f);
      old[strcspn(old, "\n")] = '\0';
    }
    if (strcmp(old, id) != 0) {
      f = fopen(path, "w");
      if (!f || fprintf(f, "%s\n", id) < 0 || fclose(f) != 0) {
        rc = ps_error_set(err, PS_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
      }
    }
  }
  free(id);
  return rc;
}

/* A reader of a remote shard: is the store at ix->dir a replica of the
 * remote database's store? */
static int text_id_check(ps_index *ix, const char *host, unsigned port, ps_error *err) {
  char *id = NULL, path[PATH_MAX + 16], have[64] = "";
  int rc = meta_get(ix, "ps:text_id", &id, err);
  if (rc || !*id) {
    free(id);
    return rc;
  }
  snprintf(path, sizeof path, "%s/text.id", ix->dir);
  FILE *f = fopen(path, "r");
  if (f) {
    if (!fgets(have, sizeof have, f)) have[0] = '\0';
    fclose(f);
    have[strcspn(have, "\n")] = '\0';
  }
  if (strcmp(have, id) != 0)
    rc = ps_error_set(err, PS_ERR_CORRUPT,
                      "%s: not a replica of the text store of the shard served at %s:%u "
                      "(its text.id is '%s', the shard's is '%s'); copy text.dat, text.idx "
                      "and text.id from that shard's directory",
                      ix->dir, host, port, f ? have : "missing", id);
  free(id);
  return rc;
}

/* index_open_with's xflags: besides ps_xdb_open's flags, leave DIR.bulk
 * (swap_in, during a bulk load). */
#define OPEN_KEEP_BULK 0x100

/* Opens the database of directory dir; with host, its Xapian tables are the
 * remote database at host:port (read-only) and dir holds a replica of its
 * text store. */
static int index_open_with(const char *dir, const char *host, unsigned port, int mode,
                           int xflags, ps_index **out, ps_error *err) {
  int rc = PS_OK;
  char xpath[PATH_MAX + 16];
  uint64_t dat_len = 0, idx_len = 0, next_file = 0;
  ps_index *ix = calloc(1, sizeof *ix);
  *out = NULL;
  if (!ix) return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  ix->writable = mode == PS_INDEX_WRITE;
  snprintf(ix->dir, sizeof ix->dir, "%s", dir);
  recover_swap(dir);
  if (ix->writable && (rc = mkdir_p(dir, err))) goto done;
  snprintf(xpath, sizeof xpath, "%s/xapian", dir);
  if (host) {
    snprintf(ix->remote, sizeof ix->remote, "%s:%u", host, port);
    rc = ps_xdb_open_remote(host, port, 0, &ix->xdb);
    if (rc && ix->xdb)
      ps_error_set(err, rc, "shard served at %s:%u: %s (is xapian-tcpsrv running there?)",
                   host, port, ps_xdb_errmsg(ix->xdb));
    else if (rc)
      ps_error_set(err, PS_ERR_NOMEM, "out of memory");
    if (rc) goto done;
  } else if (!ix->writable) {
    struct stat sb;
    if (stat(xpath, &sb) != 0) {
      rc = ps_error_set(err, PS_ERR_NOTFOUND,
                        "%s: no Policy Search database here; create one with "
                        "policy-index --db %s PATH...", dir, dir);
      goto done;
    }
  }
  if (!host)
    rc = ps_xdb_open(xpath, ix->writable ? PS_XDB_WRITE_CREATE : PS_XDB_READ,
                     ix->writable ? (PS_XDB_NO_TERMLIST | (xflags & ~OPEN_KEEP_BULK)) : 0,
                     &ix->xdb);
  if (rc) {
    if (rc == PS_ERR_LOCKED)
      ps_error_set(err, rc, "%s: another policy-index is writing to this database",
                   dir);
    else if (!ix->xdb)
      ps_error_set(err, PS_ERR_NOMEM, "out of memory");
    else
      xerr(ix, rc, "cannot open", err);
    goto done;
  }
  if ((rc = check_scheme(ix, err))) goto done;
  if (ix->writable && !(xflags & OPEN_KEEP_BULK))
    bulk_dir_remove(ix); /* a bulk load's leftovers (a crash) */
  if (ix->writable && (rc = text_id_ensure(ix, err))) goto done;
  if (host && (rc = text_id_check(ix, host, port, err))) goto done;
  {
    char *place = NULL;
    if ((rc = meta_get(ix, "ps:shard", &place, err))) goto done;
    if (sscanf(place, "%u/%u", &ix->shard_i, &ix->shard_n) != 2 || ix->shard_i >= ix->shard_n)
      ix->shard_i = ix->shard_n = 0;
    free(place);
  }
  if ((rc = meta_get_u64(ix, "ps:dat_len", &dat_len, err))) goto done;
  if ((rc = meta_get_u64(ix, "ps:idx_len", &idx_len, err))) goto done;
  if ((rc = meta_get_u64(ix, "ps:next_file", &next_file, err))) goto done;
  ix->next_file = (uint32_t)(next_file ? next_file : 1);
  if ((rc = ps_store_open(dir, ix->writable, dat_len, idx_len, &ix->store, err))) {
    if (host)
      ps_error_prefix(err, "replica of the text store of the shard served at %s:%u is behind "
                      "that shard or damaged (copy text.dat, text.idx and text.id from it)",
                      host, port);
    goto done;
  }
  if (ix->writable) {
    ix->doc = ps_xdoc_new();
    if (!ix->doc) rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  } else {
    rc = registry_load(ix, err);
  }
done:
  if (rc) {
    ps_index_close(ix);
    return rc;
  }
  *out = ix;
  return PS_OK;
}

static int index_open_at(const char *dir, int mode, int xflags, ps_index **out,
                         ps_error *err) {
  return index_open_with(dir, NULL, 0, mode, xflags, out, err);
}

int ps_index_open_sharded(const char *dir, unsigned n_shards, int mode, ps_index **out,
                          ps_error *err) {
  char stub[PATH_MAX];
  *out = NULL;
  if (n_shards == 0 && !ps_shard_stub_path(dir, stub, sizeof stub))
    return index_open_at(dir, mode, 0, out, err);
  ps_index *ix = calloc(1, sizeof *ix);
  if (!ix) return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  ix->writable = mode == PS_INDEX_WRITE;
  snprintf(ix->dir, sizeof ix->dir, "%s", dir);
  int rc = ps_shards_open(dir, n_shards, mode, &ix->sh, err);
  if (rc) {
    free(ix);
    return rc;
  }
  *out = ix;
  return PS_OK;
}

int ps_index_open(const char *dir, int mode, ps_index **out, ps_error *err) {
  return ps_index_open_sharded(dir, 0, mode, out, err);
}

int ps_index__open_part(const char *dir, const char *host, unsigned port, int mode,
                        ps_index **out, ps_error *err) {
  return index_open_with(dir, host, port, mode, 0, out, err);
}

void ps_index__shard(const ps_index *ix, unsigned *i, unsigned *n) {
  *i = ix->shard_i;
  *n = ix->shard_n;
}

int ps_index__mark_shard(ps_index *ix, unsigned i, unsigned n, ps_error *err) {
  char place[32];
  snprintf(place, sizeof place, "%u/%u", i, n);
  if (ix->shard_n == 0) {
    ps_index_stats st;
    ps_index_stats_get(ix, &st);
    if (st.lastdocid)
      return ps_error_set(err, PS_ERR_USAGE,
                          "%s: holds documents but is no shard; a sharded database "
                          "needs new shard directories", ix->dir);
    int rc = meta_set(ix, "ps:shard", place, err);
    if (rc == PS_OK) ix->shard_i = i, ix->shard_n = n;
    return rc;
  }
  if (ix->shard_i != i || ix->shard_n != n)
    return ps_error_set(err, PS_ERR_CORRUPT,
                        "%s: is shard %u of %u, but the stub names it as shard %u of %u; "
                        "restore the stub's order of shards", ix->dir, ix->shard_i,
                        ix->shard_n, i, n);
  return PS_OK;
}

unsigned ps_index_shards(const ps_index *ix) { return ix->sh ? ps_shards_count(ix->sh) : 0; }

uint32_t ps_index_file_docid(const ps_index *ix, const ps_file_info *f, uint32_t k) {
  return f->first + k * (ix->sh ? ps_shards_count(ix->sh) : 1);
}

void ps_index_close(ps_index *ix) {
  if (!ix) return;
  /* Temporary databases not merged are uncommitted changes: discarded
   * (also those a stopped bulk load built but never recorded). */
  if (ix->n_temps || ix->temp_seq) bulk_dir_remove(ix);
  for (size_t i = 0; i < ix->n_temps; i++) free(ix->temps[i]);
  free(ix->temps);
  log_clear(ix);
  free(ix->log);
  ps_shards_close(ix->sh);
  ps_xdb_close(ix->xdb);
  ps_store_close(ix->store);
  ps_xdoc_free(ix->doc);
  registry_free(ix);
  free(ix);
}

/* ---- writing ---- */

typedef struct term_ref {
  uint64_t key;            /* the first 8 bytes, big-endian, zero-padded: the
                              order of most terms (bigrams are 6 bytes) */
  uint32_t off, len;       /* in term_ctx.buf */
} term_ref;

typedef struct term_ctx {
  ps_xdoc *doc;
  size_t terms;            /* term occurrences added (memory estimate) */
  char *names;             /* the project names, each + '\n' (NULL: not wanted) */
  size_t names_len, names_cap;
  int want_names;
  /* the content terms, gathered to be added sorted and counted */
  char *buf;
  size_t buf_len, buf_cap;
  term_ref *refs;
  size_t n_refs, cap_refs;
  /* the value PS_SLOT_PROJECTS: the names' hashes, 8 bytes each */
  unsigned char *hashes;
  size_t hashes_len, hashes_cap;
} term_ctx;

static int add_term_cb(void *vctx, const char *t, size_t n) {
  term_ctx *c = vctx;
  c->terms++;
  if (c->buf_len + n > c->buf_cap) {
    size_t cap = (c->buf_len + n) * 2 + 256;
    char *b = realloc(c->buf, cap);
    if (!b) return PS_ERR_NOMEM;
    c->buf = b;
    c->buf_cap = cap;
  }
  if (c->n_refs == c->cap_refs) {
    size_t cap = c->cap_refs * 2 + 64;
    term_ref *r = realloc(c->refs, cap * sizeof *r);
    if (!r) return PS_ERR_NOMEM;
    c->refs = r;
    c->cap_refs = cap;
  }
  memcpy(c->buf + c->buf_len, t, n);
  uint64_t key = 0;
  for (size_t i = 0; i < 8; i++) key = key << 8 | (i < n ? (unsigned char)t[i] : 0);
  c->refs[c->n_refs++] = (term_ref){key, (uint32_t)c->buf_len, (uint32_t)n};
  c->buf_len += n;
  return PS_OK;
}

/* Byte order, shorter first on a tie: std::string's order, Xapian's.  Terms
 * hold no NUL byte, so equal keys mean equal first min(8, len) bytes and,
 * below 8 bytes, equal lengths. */
static inline int cmp_term(const void *a, const void *b, void *buf) {
  const term_ref *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  size_t m = x->len < y->len ? x->len : y->len;
  int d = m > 8 ? memcmp((const char *)buf + x->off + 8, (const char *)buf + y->off + 8, m - 8) : 0;
  return d ? d : (x->len > y->len) - (x->len < y->len);
}

/* Sorts r[0..n) by cmp_term: a quicksort (median of three) that finishes
 * small ranges by insertion, with the comparison inlined (glibc's qsort_r,
 * a merge sort through a function pointer, was 7% of the indexer's
 * instructions).  Recursion only into the smaller side: depth log n. */
static void sort_terms(term_ref *r, size_t n, const char *buf) {
  while (n > 16) {
    size_t m = n / 2;
    term_ref t;
#define TSWAP(i, j) (t = r[i], r[i] = r[j], r[j] = t)
    if (cmp_term(&r[m], &r[0], (void *)buf) < 0) TSWAP(m, 0);
    if (cmp_term(&r[n - 1], &r[m], (void *)buf) < 0) {
      TSWAP(n - 1, m);
      if (cmp_term(&r[m], &r[0], (void *)buf) < 0) TSWAP(m, 0);
    }
    term_ref pivot = r[m];
    size_t i = 0, j = n - 1;
    for (;;) { /* Hoare: r[0] <= pivot <= r[n-1] stop both scans */
      while (cmp_term(&r[i], &pivot, (void *)buf) < 0) i++;
      while (cmp_term(&pivot, &r[j], (void *)buf) < 0) j--;
      if (i >= j) break;
      TSWAP(i, j);
      i++;
      j--;
    }
#undef TSWAP
    size_t left = j + 1; /* r[0..left) <= pivot <= r[left..n) */
    if (left < n - left) {
      sort_terms(r, left, buf);
      r += left;
      n -= left;
    } else {
      sort_terms(r + left, n - left, buf);
      n = left;
    }
  }
  for (size_t i = 1; i < n; i++) {
    term_ref x = r[i];
    size_t j = i;
    for (; j > 0 && cmp_term(&x, &r[j - 1], (void *)buf) < 0; j--) r[j] = r[j - 1];
    r[j] = x;
  }
}

/* Adds the gathered terms to the document, each distinct one once with its
 * count: the same document as adding every occurrence with wdf 1, in about
 * two thirds of the time (one map insertion per distinct term, in key
 * order, instead of one lookup per occurrence; bench/RESULTS.md). */
static int add_gathered_terms(term_ctx *c) {
  int rc = PS_OK;
  sort_terms(c->refs, c->n_refs, c->buf);
#ifndef NDEBUG /* (the test build checks every sort) */
  for (size_t k = 1; k < c->n_refs; k++)
    assert(cmp_term(&c->refs[k - 1], &c->refs[k], c->buf) <= 0);
#endif
  for (size_t k = 0; k < c->n_refs && rc == PS_OK;) {
    size_t e = k + 1;
    while (e < c->n_refs && cmp_term(&c->refs[k], &c->refs[e], c->buf) == 0) e++;
    rc = ps_xdoc_add_term(c->doc, c->buf + c->refs[k].off, c->refs[k].len, (unsigned)(e - k));
    k = e;
  }
  return rc;
}

/* Adds the boolean filter term prefix+value (value cut at a character
 * boundary to fit Xapian's term limit). */
static int add_filter(ps_xdoc *doc, char prefix, const char *value, size_t n) {
  char term[241];
  if (n == 0) return PS_OK;
  if (n > sizeof term - 2) {
    n = sizeof term - 2;
    while (n > 0 && ((unsigned char)value[n] & 0xC0) == 0x80) n--;
  }
  term[0] = prefix;
  memcpy(term + 1, value, n);
  return ps_xdoc_add_term(doc, term, n + 1, 0);
}

/* The same for every item of a comma-separated list. */
static int add_filter_list(ps_xdoc *doc, char prefix, const char *list) {
  int rc = PS_OK;
  while (list && *list && rc == PS_OK) {
    const char *e = strchr(list, ',');
    size_t n = e ? (size_t)(e - list) : strlen(list);
    rc = add_filter(doc, prefix, list, n);
    list += n + (e ? 1 : 0);
  }
  return rc;
}

static int add_project_cb(void *vctx, const char *name, size_t n, int kind) {
  (void)kind;
  term_ctx *c = vctx;
  if (c->want_names) {
    if (c->names_len + n + 2 > c->names_cap) {
      size_t cap = (c->names_len + n + 2) * 2;
      char *nb = realloc(c->names, cap);
      if (!nb) return PS_ERR_NOMEM;
      c->names = nb;
      c->names_cap = cap;
    }
    memcpy(c->names + c->names_len, name, n);
    c->names_len += n;
    c->names[c->names_len++] = '\n';
    c->names[c->names_len] = '\0';
  }
  if (c->hashes_len + 8 > c->hashes_cap) {
    size_t cap = c->hashes_cap ? c->hashes_cap * 2 : 64;
    unsigned char *nb = realloc(c->hashes, cap);
    if (!nb) return PS_ERR_NOMEM;
    c->hashes = nb;
    c->hashes_cap = cap;
  }
  uint64_t h = ps_hash64(name, n);
  for (int i = 0; i < 8; i++) c->hashes[c->hashes_len++] = (unsigned char)(h >> (8 * i));
  return add_filter(c->doc, 'P', name, n);
}

/* Fills doc (emptied first) with one paragraph's Xapian document: its
 * content terms (from the normalised text), the filter terms of its file
 * (region already normalised, once per file) and of the projects it names,
 * the date value.  Touches no database: safe on any thread. *terms
 * receives the number of term occurrences; names, when not NULL, the
 * project names for the store (malloc'd, each followed by '\n'; NULL when
 * there are none). */
static int build_doc(ps_xdoc *doc, const ps_store_rec *rec, const ps_file_info *f,
                     const ps_norm *region, size_t *terms, char **names) {
  term_ctx tc = {.doc = doc, .want_names = names != NULL};
  ps_xdoc_clear(doc);
  int rc = ps_tok_index_terms(rec->norm, rec->norm_len, add_term_cb, &tc);
  if (rc == PS_OK) rc = add_gathered_terms(&tc);
  free(tc.buf);
  free(tc.refs);
  if (rc == PS_OK) rc = add_filter_list(doc, 'Y', f->years);
  if (rc == PS_OK) rc = add_filter_list(doc, 'T', f->types);
  if (rc == PS_OK && region->len) rc = add_filter(doc, 'R', region->text, region->len);
  if (rc == PS_OK) rc = ps_proj_extract(rec->text, rec->text_len, add_project_cb, &tc);
  if (rc == PS_OK && tc.hashes_len)
    rc = ps_xdoc_set_value(doc, PS_SLOT_PROJECTS, (const char *)tc.hashes, tc.hashes_len);
  free(tc.hashes);
  if (rc == PS_OK) {
    char date[16] = "";
    if (strlen(f->date) >= 10)
      snprintf(date, sizeof date, "%.4s%.2s%.2s", f->date, f->date + 5, f->date + 8);
    else if (strlen(f->years) >= 4)
      snprintf(date, sizeof date, "%.4s0000", f->years);
    if (date[0]) rc = ps_xdoc_set_value(doc, PS_SLOT_DATE, date, strlen(date));
  }
  *terms = tc.terms;
  if (names && rc == PS_OK) *names = tc.names;
  else free(tc.names);
  return rc;
}

/* Bytes the writer holds per uncommitted term occurrence (Xapian's
 * per-term posting maps), measured on the synthetic corpus (bench/): peak
 * RSS grows by about this much per occurrence between commits. */
#define BYTES_PER_TERM 48

/* Writes a built document and its store record.  During a bulk load the
 * document goes to a temporary database (index_bulk.c), which takes it
 * over: *doc is then set to NULL (doc must be one the caller owns). */
static int write_paragraph(ps_index *ix, ps_xdoc **doc, const ps_store_rec *rec,
                           size_t terms, uint32_t *docid, ps_error *err) {
  unsigned id = 0;
  int rc;
  if (ix->bulk) {
    if (ix->lost) {
      ps_xdoc_free(*doc);
      *doc = NULL;
      return ps_error_set(err, PS_ERR_XAPIAN, "%s: an earlier error lost the uncommitted "
                          "changes of this bulk load", ix->dir);
    }
    id = ix->next_docid;
    rc = ps_store_append(ix->store, id, rec, err);
    if (rc == PS_OK) rc = ix_bulk_add(ix->bulk, id, *doc, terms, err);
    else ps_xdoc_free(*doc);
    *doc = NULL; /* taken over by ix_bulk_add, also when it failed */
    /* Never an error of this file alone (PS_ERR_IO would say so): the
     * store or a temporary database failed, the batch is lost. */
    if (rc == PS_ERR_IO || rc == PS_ERR_FORMAT) rc = err->code = PS_ERR_XAPIAN;
    if (rc) {
      ix->lost = 1;
      return rc;
    }
    ix->next_docid++;
    ix->pending++;
    *docid = id;
    return PS_OK;
  }
  if (ix->lost)
    return ps_error_set(err, PS_ERR_XAPIAN, "%s: an earlier error lost the uncommitted "
                        "changes", ix->dir);
  rc = ps_xdb_add(ix->xdb, *doc, &id);
  if (rc) return xerr(ix, rc, "adding a paragraph", err);
  ix->compacted = 0;
  rc = ps_store_append(ix->store, id, rec, err);
  if (rc) {
    /* Xapian has the paragraph, the store not (a full disk): the two are
     * out of step until the uncommitted changes are dropped.  Never an
     * error of this file alone (PS_ERR_IO would say so). */
    ix->lost = 1;
    if (rc == PS_ERR_IO || rc == PS_ERR_FORMAT) rc = err->code = PS_ERR_XAPIAN;
  }
  if (rc == PS_OK) {
    ix->pending++;
    ix->pending_bytes += terms * BYTES_PER_TERM + rec->norm_len + rec->text_len;
    *docid = id;
  }
  return rc;
}

/* Builds and writes one paragraph (region: the file's, normalised). */
static int add_paragraph(ps_index *ix, const ps_store_rec *rec, const ps_file_info *f,
                         const ps_norm *region, uint32_t *docid, ps_error *err) {
  size_t terms = 0;
  if (ix->bulk) return ps_error_set(err, PS_ERR_USAGE, "internal: add_paragraph in a bulk load");
  int rc = build_doc(ix->doc, rec, f, region, &terms, NULL);
  if (rc) return ps_error_set(err, rc, "out of memory while building terms");
  return write_paragraph(ix, &ix->doc, rec, terms, docid, err);
}

static int read_whole(const char *path, char **data, size_t *len, struct stat *sb,
                      ps_error *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  *data = NULL;
  if (fd < 0) return ps_error_set(err, PS_ERR_IO, "%s: %s", path, strerror(errno));
  int rc = PS_OK;
  if (fstat(fd, sb) != 0) {
    rc = ps_error_set(err, PS_ERR_IO, "%s: %s", path, strerror(errno));
  } else if (!S_ISREG(sb->st_mode)) {
    rc = ps_error_set(err, PS_ERR_IO, "%s: not a regular file", path);
  } else {
    size_t n = (size_t)sb->st_size, got = 0;
    char *buf = malloc(n + 1);
    if (!buf) rc = ps_error_set(err, PS_ERR_NOMEM, "%s: out of memory", path);
    while (rc == PS_OK && got < n) {
      ssize_t r = read(fd, buf + got, n - got);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) rc = ps_error_set(err, PS_ERR_IO, "%s: %s", path, strerror(errno));
      if (r <= 0) break;
      got += (size_t)r;
    }
    if (rc == PS_OK) {
      buf[got] = '\0';
      *data = buf;
      *len = got;
    } else {
      free(buf);
    }
  }
  close(fd);
  return rc;
}

static int64_t mtime_ns(const struct stat *sb) {
  return (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
}

/* Adding a file happens in three steps (index_internal.h), so that the
 * middle one, the expensive one, can run on another thread:
 *   ix_prep_check  (writer)   the registry and stat: is the file unchanged?
 *   ix_prep_run    (any)      read, hash, parse, normalise, build documents
 *   ix_prep_apply  (writer)   write documents, store records, registry */

int ix_prep_check(ps_index *ix, const char *path, ps_prep *p, ps_error *err) {
  if (detached(ix, err)) return PS_ERR_IO;
  int rc;
  struct stat sb, scs;
  memset(p, 0, sizeof *p);
  p->path = path;
  if (!ix->writable) return ps_error_set(err, PS_ERR_USAGE, "database opened read-only");
  if (!realpath(path, p->abs)) return ps_error_set(err, PS_ERR_IO, "%s: %s", path, strerror(errno));
  if (ix->shard_n && ps_shard_route(p->abs, ix->shard_n) != ix->shard_i) {
    p->elsewhere = p->unchanged = 1; /* another shard's file: nothing to do */
    return PS_OK;
  }
  if ((rc = registry_get(ix, p->abs, &p->old, &p->found, err))) return rc;
  if (stat(p->abs, &sb) != 0) return ps_error_set(err, PS_ERR_IO, "%s: %s", path, strerror(errno));
  ps_meta_sidecar_path(p->abs, p->sidecar, sizeof p->sidecar);
  if (p->sidecar[0] && stat(p->sidecar, &scs) == 0) p->sc_mtime = mtime_ns(&scs);
  p->same_sidecar = p->found && strcmp(p->old.sidecar, p->sidecar) == 0 &&
                    p->old.sidecar_mtime_ns == p->sc_mtime;
  p->unchanged = p->same_sidecar && p->old.size == (uint64_t)sb.st_size &&
                 p->old.mtime_ns == mtime_ns(&sb);
  return PS_OK;
}

int ix_prep_run(ps_prep *p, const ps_ingest_opts *opts, ps_error *err) {
  int rc = read_whole(p->abs, &p->data, &p->len, &p->sb, err);
  if (rc) return rc;
  p->hash = ps_hash64(p->data, p->len);
  if (p->same_sidecar && p->old.size == p->len && p->old.hash == p->hash) {
    p->touched = 1; /* touched but not changed */
    return PS_OK;
  }
  if ((rc = ps_ingest_buffer(p->path, p->data, p->len, opts, &p->doc, err))) return rc;
  if ((rc = ps_meta_derive(p->doc, p->abs, &p->meta, err))) return rc;
  /* What build_doc reads of the file record. */
  ps_file_info f = {0};
  f.years = p->meta.years;
  f.types = p->meta.types;
  f.date = p->meta.date;
  ps_norm region = {0};
  size_t n = p->doc->n_paras;
  if (ps_tok_normalize(p->meta.region, strlen(p->meta.region), 0, &region) != PS_OK ||
      !(p->norms = calloc(n + 1, sizeof *p->norms)) ||
      !(p->docs = calloc(n + 1, sizeof *p->docs)) ||
      !(p->terms = calloc(n + 1, sizeof *p->terms)) ||
      !(p->projects = calloc(n + 1, sizeof *p->projects))) {
    ps_norm_free(&region);
    return ps_error_set(err, PS_ERR_NOMEM, "%s: out of memory", p->path);
  }
  for (size_t i = 0; i < n && rc == PS_OK; i++) {
    const ps_para *pa = &p->doc->paras[i];
    ps_store_rec rec;
    if (ps_tok_normalize(pa->text, pa->len, 1, &p->norms[i]) != PS_OK ||
        !(p->docs[i] = ps_xdoc_new())) {
      rc = ps_error_set(err, PS_ERR_NOMEM, "%s: out of memory", p->path);
      break;
    }
    p->n_built = i + 1;
    ix_prep_rec(p, i, 0, &rec);
    if (build_doc(p->docs[i], &rec, &f, &region, &p->terms[i], &p->projects[i]) != PS_OK)
      rc = ps_error_set(err, PS_ERR_NOMEM, "%s: out of memory while building terms", p->path);
  }
  ps_norm_free(&region);
  return rc;
}

void ix_prep_rec(const ps_prep *p, size_t i, uint32_t file_no, ps_store_rec *rec) {
  const ps_para *pa = &p->doc->paras[i];
  ps_store_rec r = {file_no, (uint32_t)i, (uint32_t)pa->heading_level,
                    p->norms[i].text, p->norms[i].len, pa->text, pa->len,
                    p->norms[i].map, NULL, 0,
                    pa->section ? pa->section : "", pa->section ? strlen(pa->section) : 0,
                    NULL, 0};
  if (p->projects && p->projects[i]) {
    r.projects = p->projects[i];
    r.projects_len = strlen(p->projects[i]);
  }
  if (p->patches && p->patches[i]) {
    r.patch = p->patches[i];
    r.patch_len = p->patch_lens[i];
  }
  *rec = r;
}

int ix_prep_compact(ps_prep *p, ps_error *err) {
  size_t n = p->doc ? p->doc->n_paras : 0;
  if (!n || p->n_built < n) return PS_OK;
  if (!(p->patches = calloc(n, sizeof *p->patches)) ||
      !(p->patch_lens = calloc(n, sizeof *p->patch_lens)))
    return ps_error_set(err, PS_ERR_NOMEM, "%s: out of memory", p->path);
  for (size_t i = 0; i < n; i++) {
    ps_para *pa = &p->doc->paras[i];
    /* the same encoding ps_store_append would make of the record */
    if (ps_store_patch(p->norms[i].text, p->norms[i].len, p->norms[i].map, pa->text, pa->len,
                       &p->patches[i], &p->patch_lens[i]) != PS_OK)
      return ps_error_set(err, PS_ERR_NOMEM, "%s: out of memory", p->path);
    /* An empty patch (the text is its normalised form) comes back NULL: the
     * record needs a pointer to say it is given. */
    if (!p->patches[i] && !(p->patches[i] = malloc(1)))
      return ps_error_set(err, PS_ERR_NOMEM, "%s: out of memory", p->path);
    free(pa->text); /* ix_prep_rec still gives its length */
    pa->text = NULL;
    free(p->norms[i].map);
    p->norms[i].map = NULL;
  }
  free(p->data);
  p->data = NULL;
  return PS_OK;
}

int ix_prep_apply(ps_index *ix, ps_prep *p, ps_add_result *res, ps_error *err) {
  int rc = PS_OK;
  memset(res, 0, sizeof *res);
  if (p->elsewhere) {
    res->status = PS_ADD_ELSEWHERE;
    return PS_OK;
  }
  if (p->unchanged) {
    res->status = PS_ADD_UNCHANGED;
    res->paragraphs = p->old.count;
    return PS_OK;
  }
  if (p->touched) {
    p->old.mtime_ns = mtime_ns(&p->sb);
    res->status = PS_ADD_UNCHANGED;
    res->paragraphs = p->old.count;
    return registry_put(ix, &p->old, err);
  }
  ps_file_info nf;
  memset(&nf, 0, sizeof nf);
  nf.file_no = ix->next_file++;
  nf.path = p->abs;
  nf.title = p->meta.title;
  nf.date = p->meta.date;
  nf.format = (char *)p->doc->format;
  nf.years = p->meta.years;
  nf.region = p->meta.region;
  nf.types = p->meta.types;
  nf.issuer = p->meta.issuer;
  nf.doc_number = p->meta.doc_number;
  nf.categories = p->meta.categories;
  nf.tags = p->meta.tags;
  nf.sidecar = p->meta.sidecar;
  nf.sidecar_mtime_ns = p->sc_mtime;
  nf.size = p->len;
  nf.mtime_ns = mtime_ns(&p->sb);
  nf.hash = p->hash;
  for (size_t i = 0; i < p->doc->n_paras && rc == PS_OK; i++) {
    ps_store_rec rec;
    uint32_t id = 0;
    ix_prep_rec(p, i, nf.file_no, &rec);
    rc = write_paragraph(ix, &p->docs[i], &rec, p->terms[i], &id, err);
    if (rc == PS_OK && i == 0) nf.first = id;
  }
  nf.count = (uint32_t)p->doc->n_paras;
  if (rc == PS_OK && p->found) rc = mark_dead(ix, p->old.first, p->old.count, err);
  if (rc == PS_OK) rc = registry_put(ix, &nf, err);
  if (rc == PS_OK) rc = meta_set_u64(ix, "ps:next_file", ix->next_file, err);
  if (rc == PS_OK) {
    res->status = PS_ADD_INDEXED;
    res->paragraphs = p->doc->n_paras;
    res->replaced = p->found;
  }
  return rc;
}

int ix_prep_current(ps_index *ix, const ps_prep *p, int *current, ps_error *err) {
  ps_file_info now;
  int found = 0;
  int rc = registry_get(ix, p->abs, &now, &found, err);
  if (rc) return rc;
  *current = found == p->found &&
             (!found || (now.first == p->old.first && now.count == p->old.count &&
                         now.mtime_ns == p->old.mtime_ns));
  if (found) file_info_clear(&now);
  return PS_OK;
}

void ix_prep_free(ps_prep *p) {
  if (!p) return;
  if (p->found) file_info_clear(&p->old);
  for (size_t i = 0; p->norms && i < p->n_built; i++) ps_norm_free(&p->norms[i]);
  for (size_t i = 0; p->docs && i < p->n_built; i++) ps_xdoc_free(p->docs[i]);
  for (size_t i = 0; p->projects && i < p->n_built; i++) free(p->projects[i]);
  free(p->projects);
  for (size_t i = 0; p->patches && i < p->n_built; i++) free(p->patches[i]);
  free(p->patches);
  free(p->patch_lens);
  free(p->norms);
  free(p->docs);
  free(p->terms);
  ps_meta_free(&p->meta);
  ps_doc_free(p->doc);
  free(p->data);
  memset(p, 0, sizeof *p);
}

int ps_index_add_file(ps_index *ix, const char *path, const ps_ingest_opts *opts,
                      ps_add_result *res, ps_error *err) {
  ps_prep p;
  memset(res, 0, sizeof *res);
  if (ix->writable && ix->sh) return ps_shards_add_file(ix->sh, path, opts, res, err);
  /* After a bulk load that is not committed yet, the database's last docid
   * is behind the temporary databases' ones: merge them first. */
  if (ix->n_temps && !ix->bulk) {
    int rc = ps_index_commit(ix, err);
    if (rc) return rc;
  }
  int rc = ix_prep_check(ix, path, &p, err);
  if (rc == PS_OK && !p.unchanged) rc = ix_prep_run(&p, opts, err);
  if (rc == PS_OK) rc = ix_prep_apply(ix, &p, res, err);
  ix_prep_free(&p);
  return rc;
}

typedef struct remove_ctx {
  ps_index *ix;
  const char *prefix;
  size_t plen;
  char **paths;
  size_t n, cap;
} remove_ctx;

static int remove_collect_cb(void *vctx, const char *key, size_t len) {
  remove_ctx *c = vctx;
  const char *p = key + 5;
  size_t n = len - 5;
  /* The path itself, or a file below it as a directory. */
  if (n < c->plen || memcmp(p, c->prefix, c->plen) != 0) return 0;
  if (n != c->plen && p[c->plen] != '/' && !(c->plen && c->prefix[c->plen - 1] == '/'))
    return 0;
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 16;
    char **np = realloc(c->paths, cap * sizeof *np);
    if (!np) return PS_ERR_NOMEM;
    c->paths = np;
    c->cap = cap;
  }
  c->paths[c->n] = strndup(p, n);
  if (!c->paths[c->n]) return PS_ERR_NOMEM;
  c->n++;
  return 0;
}

int ps_index_remove(ps_index *ix, const char *path, size_t *removed, ps_error *err) {
  if (detached(ix, err)) return PS_ERR_IO;
  char abs[PATH_MAX];
  int rc = PS_OK;
  *removed = 0;
  if (!ix->writable) return ps_error_set(err, PS_ERR_USAGE, "database opened read-only");
  if (ix->sh) return ps_shards_remove(ix->sh, path, removed, err);
  if (!realpath(path, abs)) {
    /* Gone from disk: match what was registered under the absolute form. */
    if (path[0] == '/') {
      snprintf(abs, sizeof abs, "%s", path);
    } else {
      char cwd[PATH_MAX / 2];
      if (!getcwd(cwd, sizeof cwd)) return ps_error_set(err, PS_ERR_IO, "getcwd: %s", strerror(errno));
      snprintf(abs, sizeof abs, "%s/%s", cwd, path);
    }
  }
  remove_ctx c = {ix, abs, strlen(abs), NULL, 0, 0};
  rc = ps_xdb_metadata_keys(ix->xdb, "file:", remove_collect_cb, &c);
  if (rc == PS_ERR_NOMEM) rc = ps_error_set(err, rc, "out of memory");
  else if (rc) rc = xerr(ix, rc, "reading the file registry", err);
  for (size_t i = 0; i < c.n && rc == PS_OK; i++) {
    ps_file_info f;
    int found = 0;
    rc = registry_get(ix, c.paths[i], &f, &found, err);
    if (rc || !found) continue;
    rc = mark_dead(ix, f.first, f.count, err);
    if (rc == PS_OK) rc = registry_delete(ix, c.paths[i], err);
    if (rc == PS_OK) (*removed)++;
    file_info_clear(&f);
  }
  for (size_t i = 0; i < c.n; i++) free(c.paths[i]);
  free(c.paths);
  if (rc == PS_OK && *removed) ix->pending++;
  return rc;
}

size_t ps_index_pending(const ps_index *ix) {
  return ix->sh ? ps_shards_pending(ix->sh) : ix->pending;
}

size_t ps_index_pending_bytes(const ps_index *ix) {
  return ix->sh ? ps_shards_pending_bytes(ix->sh) : ix->pending_bytes;
}

ps_shards *ps_index__shards(ps_index *ix) { return ix->sh; }

static int bulk_merge(ps_index *ix, ps_error *err);

int ps_index_commit(ps_index *ix, ps_error *err) {
  uint64_t dat_len, idx_len;
  if (!ix->writable) return ps_error_set(err, PS_ERR_USAGE, "database opened read-only");
  if (ix->sh) return ps_shards_commit(ix->sh, err);
  if (detached(ix, err)) return PS_ERR_IO;
  if (ix->lost)
    return ps_error_set(err, PS_ERR_USAGE, "%s: the uncommitted changes were lost in a failed "
                        "write; close the database and index again", ix->dir);
  int rc = ix->bulk ? ix_bulk_flush(ix->bulk, err) : PS_OK;
  if (rc == PS_OK) rc = ps_store_sync(ix->store, &dat_len, &idx_len, err);
  if (rc == PS_OK) rc = meta_set_u64(ix, "ps:dat_len", dat_len, err);
  if (rc == PS_OK) rc = meta_set_u64(ix, "ps:idx_len", idx_len, err);
  if (rc == PS_OK && ix->n_temps) {
    rc = bulk_merge(ix, err);
  } else if (rc == PS_OK && (rc = ps_xdb_commit(ix->xdb))) {
    rc = xerr(ix, rc, "commit", err);
  }
  if (rc == PS_OK) {
    ix->pending = ix->pending_bytes = 0;
    log_clear(ix);
  }
  return rc;
}

/* ---- bulk loads (index_bulk.c builds the temporary databases) ---- */

void ps_index_set_bulk(ps_index *ix, size_t batch_paragraphs, size_t memory_bytes,
                       uint64_t min_bytes) {
  ix->bulk_paras = batch_paragraphs;
  ix->bulk_memory = memory_bytes;
  ix->bulk_min = min_bytes;
  if (ix->sh) ps_shards_set_bulk(ix->sh, batch_paragraphs, memory_bytes, min_bytes);
}

int ix_bulk_wanted(ps_index *ix, uint64_t input_bytes) {
  if (ix->n_temps) return 1; /* a bulk load not merged yet goes on */
  /* The merge renumbers: the last commit keeps its docids only when they
   * are 1..lastdocid without a gap (always so: paragraphs are never
   * deleted, --optimize numbers from 1).  Otherwise, the direct path. */
  ps_xdb_stats st;
  if (ps_xdb_stats_get(ix->xdb, &st) != PS_OK || st.doccount != st.lastdocid) return 0;
  if (ix->bulk_min) return input_bytes >= ix->bulk_min;
  /* The merge rewrites the whole database (about 1 s per 100 MB of text),
   * the bulk path saves about 0.8 s per MB added (bench/RESULTS.md): it
   * pays from about 1/50 of the text there is, and 1 MB at least. */
  uint64_t floor = ps_store_bytes(ix->store) / 50;
  return input_bytes >= (floor > (1u << 20) ? floor : (1u << 20));
}

void ix_bulk_params(const ps_index *ix, size_t *paras, size_t *memory) {
  *paras = ix->bulk_paras;
  *memory = ix->bulk_memory;
}

int ix_bulk_begin(ps_index *ix, ix_bulk *b, ps_error *err) {
  ps_xdb_stats st;
  if (!ix->writable) return ps_error_set(err, PS_ERR_USAGE, "database opened read-only");
  /* Paragraphs added to xdb itself (ps_index_add_file) are not in the
   * merge, which starts from the last commit: commit them first. */
  int rc = ix->pending_bytes ? ps_index_commit(ix, err) : PS_OK;
  if (rc) return rc;
  if (!ix->n_temps) {
    if ((rc = ps_xdb_stats_get(ix->xdb, &st))) return xerr(ix, rc, "reading statistics", err);
    ix->next_docid = st.lastdocid + 1;
  }
  ix->bulk = b;
  return PS_OK;
}

void ix_bulk_end(ps_index *ix, int ok) {
  ix->bulk = NULL;
  if (!ok) ix->lost = 1;
}

int ix_temp_dir(ps_index *ix, char *dir, size_t n, unsigned long **seq, ps_error *err) {
  snprintf(dir, n, "%s.bulk", ix->dir);
  *seq = &ix->temp_seq;
  return mkdir_p(dir, err);
}

int ix_temp_record(ps_index *ix, const char *path, ps_error *err) {
  if (ix->n_temps == ix->cap_temps) {
    size_t cap = ix->cap_temps ? ix->cap_temps * 2 : 16;
    char **t = realloc(ix->temps, cap * sizeof *t);
    if (!t) return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
    ix->temps = t;
    ix->cap_temps = cap;
  }
  if (!(ix->temps[ix->n_temps] = strdup(path)))
    return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  ix->n_temps++;
  return PS_OK;
}

/* ---- reading ---- */

ps_xdb *ps_index_xdb(ps_index *ix) { return ix->sh ? ps_shards_xdb(ix->sh) : ix->xdb; }

int ps_index_live(const ps_index *ix, uint32_t docid) {
  if (ix->sh) return ps_shards_live(ix->sh, docid);
  size_t lo = 0, hi = ix->n_dead;
  while (lo < hi) { /* last range with first <= docid */
    size_t mid = (lo + hi) / 2;
    if (ix->dead[mid].first <= docid) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0) return 1;
  const dead_range *d = &ix->dead[lo - 1];
  return docid >= d->first + d->count;
}

int ps_index_para(const ps_index *ix, uint32_t docid, ps_store_rec *out) {
  if (ix->sh) return ps_shards_para(ix->sh, docid, out);
  return ps_store_get(ix->store, docid, out);
}

void ps_index_para_hint(const ps_index *ix, const void *items, size_t stride, size_t i,
                        size_t n, int part) {
  enum { AHEAD = 24 };
  const unsigned char *base = items;
  for (int stage = 0; stage < 3; stage++) {
    size_t k = i + AHEAD * (size_t)(3 - stage) / 3; /* 24, 16, 8 ahead */
    if (k < n) {
      uint32_t docid;
      memcpy(&docid, base + k * stride, sizeof docid);
      ps_index__prefetch(ix, docid, stage == 2 ? part : stage);
    }
  }
}

void ps_index__prefetch(const ps_index *ix, uint32_t docid, int stage) {
  if (ix->sh) ps_shards_prefetch(ix->sh, docid, stage);
  else if (ix->store) ps_store_prefetch(ix->store, docid, stage);
}

const ps_file_info *ps_index_file_of(const ps_index *ix, uint32_t docid) {
  if (ix->sh) return NULL;
  size_t lo = 0, hi = ix->n_files; /* the last file starting at or before docid */
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (ix->files[ix->by_first[mid]].first <= docid) lo = mid + 1;
    else hi = mid;
  }
  const ps_file_info *f = lo ? &ix->files[ix->by_first[lo - 1]] : NULL;
  return f && docid - f->first < f->count ? f : NULL;
}

typedef struct hashes_walk {
  ps_index_hashes_fn fn;
  void *ctx;
  int rc; /* what fn stopped the walk with */
} hashes_walk;

static int hashes_value(void *ctx, unsigned docid, const char *val, size_t len) {
  hashes_walk *w = ctx;
  return w->rc = w->fn(w->ctx, docid, (const unsigned char *)val, len / 8);
}

int ps_index_project_hashes(const ps_index *ix, const uint32_t *docids, size_t n,
                            ps_index_hashes_fn fn, void *ctx, ps_error *err) {
  if (ix->sh || !ix->project_hashes)
    return ps_error_set(err, PS_ERR_NOTFOUND, "%s: no project hashes in this database",
                        ix->dir);
  hashes_walk w = {fn, ctx, 0};
  int rc = ps_xdb_values(ix->xdb, PS_SLOT_PROJECTS, docids, n, hashes_value, &w);
  if (rc && !w.rc) return xerr((ps_index *)ix, rc, "reading project hashes", err);
  return rc;
}

const ps_file_info *ps_index_file_by_no(const ps_index *ix, uint32_t file_no) {
  if (ix->sh) return ps_shards_file_by_no(ix->sh, file_no);
  return ix_file_by_no(ix->files, ix->by_no, ix->n_files, file_no);
}

const ps_file_info *ix_file_by_no(const ps_file_info *files, const uint32_t *by_no, size_t n,
                                  uint32_t file_no) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    const ps_file_info *f = &files[by_no[mid]];
    if (f->file_no == file_no) return f;
    if (f->file_no < file_no) lo = mid + 1;
    else hi = mid;
  }
  return NULL;
}

const ps_file_info *ps_index_files(const ps_index *ix, size_t *n) {
  if (ix->sh) return ps_shards_files(ix->sh, n);
  *n = ix->n_files;
  return ix->files;
}

void ps_index_stats_get(const ps_index *ix, ps_index_stats *out) {
  memset(out, 0, sizeof *out);
  if (ix->sh) {
    ps_shards_stats(ix->sh, out);
    return;
  }
  out->files = ix->n_files;
  for (size_t i = 0; i < ix->n_files; i++) out->paragraphs += ix->files[i].count;
  out->superseded = ix->dead_total;
  ps_xdb_stats st;
  if (ps_xdb_stats_get(ix->xdb, &st) == PS_OK) out->lastdocid = st.lastdocid;
  out->text_bytes = ps_store_bytes(ix->store);
}

int ps_index_reopen(ps_index *ix, int *changed, ps_error *err) {
  int ch = 0;
  uint64_t dat_len = 0, idx_len = 0;
  if (ix->sh) return ps_shards_reopen(ix->sh, changed, err);
  int rc = ps_xdb_reopen(ix->xdb, &ch);
  if (rc) return xerr(ix, rc, "reopen", err);
  /* A reopen that failed half-way (Xapian moved, the store could not:
   * a remote shard's replica not synced yet) is finished by the next one,
   * even when Xapian has nothing newer then. */
  ch |= ix->stale;
  if (changed) *changed = ch;
  if (!ch) return PS_OK;
  ix->stale = 1;
  if ((rc = meta_get_u64(ix, "ps:dat_len", &dat_len, err))) return rc;
  if ((rc = meta_get_u64(ix, "ps:idx_len", &idx_len, err))) return rc;
  if ((rc = ps_store_remap(ix->store, dat_len, idx_len, err))) {
    if (ix->remote[0])
      ps_error_prefix(err, "replica of the text store of the shard served at %s is behind "
                      "that shard's last commit (copy text.dat, text.idx and text.id from "
                      "it, then reopen)", ix->remote);
    return rc;
  }
  if ((rc = registry_load(ix, err))) return rc;
  ix->stale = 0;
  return PS_OK;
}

int ps_index__check(const ps_index *ix, ps_error *err) {
  if (ix->sh) return ps_shards_check(ix->sh, err);
  if (detached(ix, err)) return PS_ERR_IO;
  if (ix->stale)
    return ps_error_set(err, PS_ERR_RETRY,
                        "%s: the database moved to a newer commit that could not be read "
                        "completely%s%s%s; reopen when it can", ix->dir,
                        ix->remote[0] ? " (the text replica of the shard served at " : "",
                        ix->remote[0] ? ix->remote : "", ix->remote[0] ? " is behind)" : "");
  return PS_OK;
}

/* ---- optimise ---- */

static int unlink_cb(const char *path, const struct stat *sb, int type, struct FTW *ftw) {
  (void)sb, (void)type, (void)ftw;
  return remove(path);
}

/* Only ever called on directories this module created (DIR.new / DIR.old). */
static void remove_tree(const char *path) {
  nftw(path, unlink_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* Swap: DIR -> DIR.old, DIR.new -> DIR (recover_swap finishes a crash
 * between the two), then reopen the writer on the new database. */
static int swap_in(ps_index *ix, const char *nw, const char *old, ps_error *err) {
  ps_xdb_close(ix->xdb);
  ix->xdb = NULL;
  ps_store_close(ix->store);
  ix->store = NULL;
  if (rename(ix->dir, old) != 0 || rename(nw, ix->dir) != 0)
    return ps_error_set(err, PS_ERR_IO, "%s: swapping in the optimised database: %s",
                        ix->dir, strerror(errno));
  remove_tree(old);
  ix->compacted = 1;
  ps_index *fresh = NULL;
  /* DIR.bulk stays: a bulk load goes on (the temporaries of later files) */
  int rc = index_open_at(ix->dir, PS_INDEX_WRITE, OPEN_KEEP_BULK, &fresh, err);
  if (rc) return rc;
  ps_xdb *tx = ix->xdb;
  ps_store *ts = ix->store;
  ix->xdb = fresh->xdb;
  ix->store = fresh->store;
  fresh->xdb = tx;
  fresh->store = ts;
  ps_index_close(fresh);
  return PS_OK;
}

/* Hard-links the store files of DIR into nw (the store stays as it is when
 * the tables are compacted or merged, since docids are kept). */
static int link_store(ps_index *ix, const char *nw, ps_error *err) {
  static const char *const store_files[] = {"text.dat", "text.idx"};
  for (size_t i = 0; i < sizeof store_files / sizeof *store_files; i++) {
    char from[PATH_MAX + 16], to[PATH_MAX + 32];
    snprintf(from, sizeof from, "%s/%s", ix->dir, store_files[i]);
    snprintf(to, sizeof to, "%s/%s", nw, store_files[i]);
    if (link(from, to) != 0)
      return ps_error_set(err, PS_ERR_IO, "%s: link: %s", to, strerror(errno));
  }
  return PS_OK;
}

/* Compacts the tables of rd (the current database) into DIR.new/xapian and
 * hard-links the store files beside them. */
static int compact_keep_store(ps_index *ix, ps_index *rd, const char *nw, ps_error *err) {
  char xnew[PATH_MAX + 24];
  snprintf(xnew, sizeof xnew, "%s/xapian", nw);
  int rc = ps_xdb_compact(rd->xdb, xnew);
  if (rc) return ps_error_set(err, rc, "%s: compact: %s", xnew, ps_xdb_errmsg(rd->xdb));
  return link_store(ix, nw, err);
}

/* Merges the temporary databases of a bulk load with the last commit: one
 * compact() of [DIR/xapian, temporaries...] into DIR.new/xapian that
 * renumbers (each temporary holds docids 1..k, which follow the previous
 * source's; the last commit's 1..lastdocid stay: ix_bulk_wanted), checked
 * to end at the docid the store has reached, the store hard-linked beside it; then the metadata set since the last
 * commit (registry, superseded ranges, the store's new lengths: compact()
 * copied the last commit's) is written into the copy and committed there,
 * and the copy is swapped in like ps_index_compact's.  Until the swap,
 * readers and a crash see the last commit.  The store must be synced. */
static int bulk_merge(ps_index *ix, ps_error *err) {
  char nw[PATH_MAX + 8], old[PATH_MAX + 8], xpath[PATH_MAX + 16], xnew[PATH_MAX + 24];
  ps_xdb *rd = NULL, *out = NULL;
  snprintf(nw, sizeof nw, "%s.new", ix->dir);
  snprintf(old, sizeof old, "%s.old", ix->dir);
  snprintf(xpath, sizeof xpath, "%s/xapian", ix->dir);
  snprintf(xnew, sizeof xnew, "%s/xapian", nw);
  remove_tree(nw);
  remove_tree(old);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int rc = mkdir_p(nw, err);
  if (rc == PS_OK && (rc = ps_xdb_open(xpath, PS_XDB_READ, 0, &rd)))
    rc = ps_error_set(err, rc, "%s: %s", xpath, ps_xdb_errmsg(rd));
  ps_xdb_stats st = {0, 0, 0};
  if (rc == PS_OK && (rc = ps_xdb_stats_get(rd, &st)))
    rc = ps_error_set(err, rc, "%s: %s", xpath, ps_xdb_errmsg(rd));
  if (rc == PS_OK && st.doccount != st.lastdocid) /* ix_bulk_wanted made sure */
    rc = ps_error_set(err, PS_ERR_CORRUPT, "%s: cannot merge the bulk load: the docids of "
                      "the last commit have gaps (%u documents, last docid %u)", xpath,
                      st.doccount, st.lastdocid);
  if (rc == PS_OK &&
      (rc = ps_xdb_merge(rd, (const char *const *)ix->temps, ix->n_temps, xnew)))
    rc = ps_error_set(err, rc, "%s: merging the bulk load: %s", xnew, ps_xdb_errmsg(rd));
  ps_xdb_close(rd);
  if (rc == PS_OK) rc = link_store(ix, nw, err);
  if (rc == PS_OK && (rc = ps_xdb_open(xnew, PS_XDB_WRITE_OPEN, PS_XDB_NO_TERMLIST, &out)))
    rc = ps_error_set(err, rc, "%s: %s", xnew, ps_xdb_errmsg(out));
  /* The store holds records up to next_docid - 1: the merged documents
   * must be exactly 1..that, or the docids went wrong. */
  if (rc == PS_OK && (rc = ps_xdb_stats_get(out, &st)))
    rc = ps_error_set(err, rc, "%s: %s", xnew, ps_xdb_errmsg(out));
  if (rc == PS_OK && (st.lastdocid != ix->next_docid - 1 || st.doccount != st.lastdocid))
    rc = ps_error_set(err, PS_ERR_CORRUPT, "%s: merging the bulk load gave %u documents up "
                      "to docid %u, the store has paragraphs up to %u", xnew, st.doccount,
                      st.lastdocid, (unsigned)(ix->next_docid - 1));
  for (size_t i = 0; i < ix->n_log && rc == PS_OK; i++) {
    const meta_entry *e = &ix->log[i];
    if ((rc = ps_xdb_set_metadata(out, e->key, e->val, strlen(e->val))))
      rc = ps_error_set(err, rc, "%s: writing metadata: %s", xnew, ps_xdb_errmsg(out));
  }
  if (rc == PS_OK && (rc = ps_xdb_commit(out)))
    rc = ps_error_set(err, rc, "%s: commit: %s", xnew, ps_xdb_errmsg(out));
  ps_xdb_close(out);
  if (rc == PS_OK) rc = swap_in(ix, nw, old, err);
  else remove_tree(nw);
  /* The merged temporaries (those of later files stay in DIR.bulk). */
  for (size_t i = 0; rc == PS_OK && i < ix->n_temps; i++) remove_tree(ix->temps[i]);
  if (rc == PS_OK && getenv("PS_BULK_PROFILE")) { /* bench/RESULTS.md */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fprintf(stderr, "ps bulk: merged %zu temporary databases in %.2f s\n", ix->n_temps,
            (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
  }
  if (rc == PS_OK) {
    for (size_t i = 0; i < ix->n_temps; i++) free(ix->temps[i]);
    ix->n_temps = 0;
  }
  return rc;
}

/* Checks that ix may be swapped (a writer with nothing uncommitted) and
 * clears DIR.new and DIR.old (names into nw and old, PATH_MAX + 8 each). */
static int swap_prepare(ps_index *ix, const char *what, char *nw, char *old, ps_error *err) {
  if (!ix->writable) return ps_error_set(err, PS_ERR_USAGE, "%s needs a writer", what);
  if (ix->pending) return ps_error_set(err, PS_ERR_USAGE, "%s with uncommitted changes", what);
  snprintf(nw, PATH_MAX + 8, "%s.new", ix->dir);
  snprintf(old, PATH_MAX + 8, "%s.old", ix->dir);
  remove_tree(nw);
  remove_tree(old);
  return PS_OK;
}

int ps_index_compact(ps_index *ix, ps_error *err) {
  if (detached(ix, err)) return PS_ERR_IO;
  char nw[PATH_MAX + 8], old[PATH_MAX + 8];
  ps_index *rd = NULL;
  if (ix->sh) /* each shard: optimising a shard with nothing superseded compacts it */
    return ix->writable ? ps_shards_optimize(ix->sh, err)
                        : ps_error_set(err, PS_ERR_USAGE, "compacting needs a writer");
  int rc = swap_prepare(ix, "compacting", nw, old, err);
  if (rc == PS_OK && ix->compacted) return PS_OK; /* a merge of a bulk load just did it */
  if (rc == PS_OK) rc = ps_index_open(ix->dir, PS_INDEX_READ, &rd, err);
  if (rc == PS_OK) rc = mkdir_p(nw, err);
  if (rc == PS_OK) rc = compact_keep_store(ix, rd, nw, err);
  ps_index_close(rd);
  if (rc == PS_OK) rc = swap_in(ix, nw, old, err);
  else remove_tree(nw);
  return rc;
}

int ps_index_optimize(ps_index *ix, ps_error *err) {
  if (detached(ix, err)) return PS_ERR_IO;
  int rc = PS_OK;
  char nw[PATH_MAX + 8], old[PATH_MAX + 8], build[PATH_MAX + 24], xnew[PATH_MAX + 24];
  ps_index *rd = NULL, *out = NULL;
  ps_xdb *built = NULL;
  if (ix->sh) /* each shard on its own */
    return ix->writable ? ps_shards_optimize(ix->sh, err)
                        : ps_error_set(err, PS_ERR_USAGE, "optimise needs a writer");
  if ((rc = swap_prepare(ix, "optimise", nw, old, err))) return rc;
  /* Read the current state through a reader (the writer's lock is held, so
   * nothing changes under it), write a fresh database beside it. */
  if ((rc = ps_index_open(ix->dir, PS_INDEX_READ, &rd, err))) goto done;
  if (rd->dead_total == 0) { /* nothing to reclaim: compacting is enough */
    ps_index_close(rd);
    return ps_index_compact(ix, err);
  }
  if ((rc = mkdir_p(nw, err))) goto done;
  snprintf(build, sizeof build, "%s/xapian-build", nw);
  snprintf(xnew, sizeof xnew, "%s/xapian", nw);
  /* The fresh database is built in xapian-build and compacted into xapian. */
  if ((rc = index_open_at(nw, PS_INDEX_WRITE, PS_XDB_NO_SYNC, &out, err))) goto done;
  for (size_t i = 0; i < rd->n_files && rc == PS_OK; i++) {
    ps_file_info f = rd->files[i];
    uint32_t first = 0;
    ps_norm region = {0};
    if (ps_tok_normalize(f.region, strlen(f.region), 0, &region) != PS_OK) {
      rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
      break;
    }
    for (uint32_t k = 0; k < f.count && rc == PS_OK; k++) {
      ps_store_rec rec;
      if (ps_store_get(rd->store, f.first + k, &rec) != PS_OK) {
        rc = ps_error_set(err, PS_ERR_CORRUPT, "%s: paragraph %u of %s missing from the store",
                          ix->dir, k, f.path);
        break;
      }
      /* the text as written is needed for its project names; the patch is
       * copied as it is */
      char *text = NULL;
      size_t text_len = 0;
      if (ps_store_text(&rec, &text, &text_len) != PS_OK) {
        rc = ps_error_set(err, PS_ERR_CORRUPT, "%s: paragraph %u of %s is damaged in the store",
                          ix->dir, k, f.path);
        break;
      }
      rec.text = text;
      uint32_t id = 0;
      rc = add_paragraph(out, &rec, &f, &region, &id, err);
      free(text);
      if (k == 0) first = id;
    }
    ps_norm_free(&region);
    f.first = first;
    if (rc == PS_OK) rc = registry_put(out, &f, err);
  }
  if (rc == PS_OK) rc = meta_set_u64(out, "ps:next_file", ix->next_file, err);
  if (rc == PS_OK && ix->shard_n) { /* a shard stays the same shard */
    char place[32];
    snprintf(place, sizeof place, "%u/%u", ix->shard_i, ix->shard_n);
    rc = meta_set(out, "ps:shard", place, err);
  }
  if (rc == PS_OK) rc = ps_index_commit(out, err);
  ps_index_close(out);
  out = NULL;
  if (rc) goto done;
  /* Compact: move the built tables aside and compact them into place. */
  if (rename(xnew, build) != 0) {
    rc = ps_error_set(err, PS_ERR_IO, "%s: rename: %s", xnew, strerror(errno));
    goto done;
  }
  if ((rc = ps_xdb_open(build, PS_XDB_READ, 0, &built))) {
    rc = ps_error_set(err, rc, "%s: %s", build, ps_xdb_errmsg(built));
    goto done;
  }
  if ((rc = ps_xdb_compact(built, xnew))) {
    rc = ps_error_set(err, rc, "%s: compact: %s", xnew, ps_xdb_errmsg(built));
    goto done;
  }
  ps_xdb_close(built);
  built = NULL;
  remove_tree(build);
  ps_index_close(rd);
  rd = NULL;
  rc = swap_in(ix, nw, old, err);
done:
  ps_xdb_close(built);
  ps_index_close(out);
  ps_index_close(rd);
  if (rc) remove_tree(nw);
  return rc;
}
