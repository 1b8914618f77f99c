/* shard.c: the stub file of a sharded database and the routing of files to
 * shards (see ps_shard.h).  Opening the shards as one database is
 * shard_index.c's work. */
#include "ps_shard.h"
#include "ps_hash.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

unsigned ps_shard_route(const char *path, unsigned n) {
  return n ? (unsigned)(ps_hash64(path, strlen(path)) % n) : 0;
}

int ps_shard_stub_path(const char *path, char *buf, size_t n) {
  struct stat sb;
  if (stat(path, &sb) != 0) return 0;
  if (S_ISREG(sb.st_mode)) {
    snprintf(buf, n, "%s", path);
    return 1;
  }
  if (!S_ISDIR(sb.st_mode)) return 0;
  snprintf(buf, n, "%s/%s", path, PS_SHARD_STUB);
  return stat(buf, &sb) == 0 && S_ISREG(sb.st_mode);
}

void ps_stub_free(ps_stub *st) {
  if (!st) return;
  free(st->loc);
  st->loc = NULL;
  st->n = 0;
}

/* rel made relative to the directory of the stub (base, with its trailing
 * '/'), as Xapian resolves stub paths.  0 when it does not fit. */
static int resolve(const char *base, const char *rel, char *out, size_t n) {
  int w = rel[0] == '/' ? snprintf(out, n, "%s", rel) : snprintf(out, n, "%s%s", base, rel);
  return w >= 0 && (size_t)w < n;
}

/* "HOST:PORT" ([v6]:PORT) or "tcp HOST PORT" into loc; 0 when it is neither. */
static int parse_remote(char *s, ps_shard_loc *loc) {
  char *end;
  unsigned long port;
  if (strncmp(s, "tcp ", 4) == 0) {
    char *host = s + 4, *sp = strrchr(host, ' ');
    if (!sp || sp == host) return 0;
    *sp = '\0';
    port = strtoul(sp + 1, &end, 10);
    if (*end || port == 0 || port > 65535 || !*host || strchr(host, ' ')) return 0;
    snprintf(loc->host, sizeof loc->host, "%s", host);
    loc->port = (unsigned)port;
    return 1;
  }
  char *colon = strrchr(s, ':');
  if (!colon || colon == s || s[0] == ':') return 0;
  *colon = '\0';
  port = strtoul(colon + 1, &end, 10);
  if (*end || port == 0 || port > 65535 || strchr(s, ' ')) return 0;
  size_t hl = strlen(s);
  if (s[0] == '[' && hl > 2 && s[hl - 1] == ']') { /* [v6 address] */
    s[hl - 1] = '\0';
    s++;
  }
  snprintf(loc->host, sizeof loc->host, "%s", s);
  loc->port = (unsigned)port;
  return 1;
}

int ps_stub_read(const char *path, ps_stub *out, ps_error *err) {
  memset(out, 0, sizeof *out);
  FILE *f = fopen(path, "r");
  if (!f) return ps_error_set(err, PS_ERR_NOTFOUND, "%s: %s", path, strerror(errno));
  char base[PATH_MAX], *line = NULL;
  size_t cap = 0, alloc = 0, line_no = 0;
  const char *slash = strrchr(path, '/');
  snprintf(base, sizeof base, "%.*s", slash ? (int)(slash - path + 1) : 0, path);
  int rc = PS_OK, last_remote = 0;
  ssize_t len;
  while (rc == PS_OK && (len = getline(&line, &cap, f)) != -1) {
    line_no++;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
    if (strncmp(line, "#text ", 6) == 0) {
      if (!last_remote) {
        rc = ps_error_set(err, PS_ERR_USAGE,
                          "%s:%zu: '#text DIR' must follow the 'remote' line of its shard",
                          path, line_no);
        break;
      }
      if (!resolve(base, line + 6, out->loc[out->n - 1].dir, sizeof out->loc[0].dir)) {
        rc = ps_error_set(err, PS_ERR_USAGE, "%s:%zu: path too long", path, line_no);
        break;
      }
      last_remote = 0;
      continue;
    }
    if (len == 0 || line[0] == '#') continue;
    if (out->n == alloc) {
      size_t c = alloc ? alloc * 2 : 8;
      ps_shard_loc *nl = realloc(out->loc, c * sizeof *nl);
      if (!nl) {
        rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
        break;
      }
      out->loc = nl;
      alloc = c;
    }
    ps_shard_loc *loc = &out->loc[out->n];
    memset(loc, 0, sizeof *loc);
    last_remote = 0;
    if (strncmp(line, "auto ", 5) == 0 || strncmp(line, "glass ", 6) == 0) {
      const char *p = line + (line[0] == 'a' ? 5 : 6);
      size_t pl = strlen(p);
      while (pl > 1 && p[pl - 1] == '/') pl--;
      if (pl < 6 || strncmp(p + pl - 6, "xapian", 6) != 0 || (pl > 6 && p[pl - 7] != '/')) {
        rc = ps_error_set(err, PS_ERR_USAGE,
                          "%s:%zu: a Policy Search shard is named by its xapian directory "
                          "(auto SHARD_DIR/xapian), so that its text store is found beside it",
                          path, line_no);
        break;
      }
      char dir[PATH_MAX];
      snprintf(dir, sizeof dir, "%.*s", pl > 7 ? (int)(pl - 7) : 0, p);
      if (!resolve(base, dir[0] ? dir : ".", loc->dir, sizeof loc->dir)) {
        rc = ps_error_set(err, PS_ERR_USAGE, "%s:%zu: path too long", path, line_no);
        break;
      }
    } else if (strncmp(line, "remote ", 7) == 0 && parse_remote(line + 7, loc)) {
      char dflt[32];
      snprintf(dflt, sizeof dflt, "shard-%zu", out->n);
      if (!resolve(base, dflt, loc->dir, sizeof loc->dir)) {
        rc = ps_error_set(err, PS_ERR_USAGE, "%s:%zu: path too long", path, line_no);
        break;
      }
      last_remote = 1;
    } else {
      rc = ps_error_set(err, PS_ERR_USAGE,
                        "%s:%zu: not a shard line: expected 'auto SHARD_DIR/xapian', "
                        "'remote HOST:PORT' or 'remote tcp HOST PORT'", path, line_no);
      break;
    }
    out->n++;
  }
  free(line);
  fclose(f);
  if (rc == PS_OK && out->n == 0)
    rc = ps_error_set(err, PS_ERR_USAGE, "%s: the stub names no shard", path);
  if (rc) ps_stub_free(out);
  return rc;
}

int ps_stub_write(const char *dir, unsigned n, ps_error *err) {
  char path[PATH_MAX + 16], tmp[PATH_MAX + 32];
  snprintf(path, sizeof path, "%s/%s", dir, PS_SHARD_STUB);
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "w");
  if (!f) return ps_error_set(err, PS_ERR_IO, "%s: %s", tmp, strerror(errno));
  fprintf(f,
          "# Policy Search: a database of %u shards (policy-index --shards %u).\n"
          "# A Xapian stub database file: shard i is the i-th line below; a file goes\n"
          "# to shard FNV-1a-64(its absolute path) mod %u.  A shard served by\n"
          "# xapian-tcpsrv: replace its line by 'remote HOST:PORT' followed by\n"
          "# '#text DIR', DIR holding a copy of that shard's text.dat, text.idx and\n"
          "# text.id.  Keep the order of the lines.\n",
          n, n, n);
  for (unsigned i = 0; i < n; i++) fprintf(f, "auto shard-%u/xapian\n", i);
  int bad = ferror(f);
  if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
    int e = errno;
    unlink(tmp);
    return ps_error_set(err, PS_ERR_IO, "%s: cannot write: %s", path, strerror(e));
  }
  return PS_OK;
}
