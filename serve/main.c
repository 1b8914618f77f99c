/* policy-serve: the HTTP JSON API and the search page of Policy Search.
 * A thin front end on libmicrohttpd: options, routing, parameter checks,
 * status codes and the request log.  Searching is ps_answer (the same code
 * as policy-search --json); each worker thread checks a database handle out
 * of a ps_pool for one request, which also moves it to the latest commit.
 * HTML is rendered by page.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "page.h"
#include "ps_answer.h"
#include "ps_pool.h"

#define MAX_BODY 65536      /* a GET has no business sending more */
#define MAX_PARAM 4096      /* bytes of one parameter value (q is a few words) */
#define MAX_LIMIT 1000      /* hits per page over the API */
#define MAX_CONTEXT 200     /* paragraphs either side for /api/doc */
#define MAX_OFFSET 10000000

typedef struct server {
  ps_pool *pool;
  const char *db;
  int assets;              /* directory fd of the asset dir */
  int quiet;
  atomic_int in_flight;    /* requests begun and not yet completed */
} server;

/* Per-request state, from the first callback to the completion callback. */
typedef struct req {
  struct timespec t0;
  char line[640];          /* "GET /path?args" for the log, control chars escaped */
  int status;
  size_t bytes;
  size_t body;             /* upload bytes seen */
  int answered;            /* a response was queued early (413) */
} req;

static double ms_since(const struct timespec *t0) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* ---- responses ---- */

static enum MHD_Result respond(struct MHD_Connection *c, req *rq, int status, const char *type,
                               sbuf *body) {
  if (body->oom) {
    free(body->s);
    body->s = NULL;
    body->len = 0;
    status = 500;
  }
  struct MHD_Response *r =
      MHD_create_response_from_buffer(body->len, body->s ? body->s : (char *)"",
                                      body->s ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
  if (!r) {
    free(body->s);
    return MHD_NO;
  }
  MHD_add_response_header(r, "Content-Type", type);
  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(r, "Cache-Control", "no-cache");
  if (strncmp(type, "text/html", 9) == 0)
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                            "base-uri 'none'; frame-ancestors 'none'");
  if (status == 405) MHD_add_response_header(r, "Allow", "GET, HEAD");
  rq->status = status;
  rq->bytes = body->len;
  enum MHD_Result ok = MHD_queue_response(c, (unsigned)status, r);
  MHD_destroy_response(r);
  return ok;
}

static enum MHD_Result send_json(struct MHD_Connection *c, req *rq, int status, cJSON *o) {
  sbuf b = {0};
  char *s = o ? cJSON_PrintUnformatted(o) : NULL;
  cJSON_Delete(o);
  if (!s) {
    b.oom = 1;
  } else {
    b.s = s;
    b.len = strlen(s);
    sb_puts(&b, "\n");
  }
  return respond(c, rq, status, "application/json; charset=utf-8", &b);
}

/* {"status": N, "error": msg[, "position": character]}: the position is the
 * 1-based character a query error names ("... at character 5 ..."). */
static enum MHD_Result send_error(struct MHD_Connection *c, req *rq, int status,
                                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static enum MHD_Result send_error(struct MHD_Connection *c, req *rq, int status,
                                  const char *fmt, ...) {
  char msg[1200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "status", status);
  cJSON_AddStringToObject(o, "error", msg);
  const char *at = strstr(msg, "at character ");
  if (at) cJSON_AddNumberToObject(o, "position", atoi(at + 13));
  return send_json(c, rq, status, o);
}

static enum MHD_Result send_html(struct MHD_Connection *c, req *rq, int status, sbuf *b) {
  return respond(c, rq, status, "text/html; charset=utf-8", b);
}

static enum MHD_Result html_error(struct MHD_Connection *c, req *rq, int status,
                                  const char *msg) {
  sbuf b = {0};
  page_error(&b, status, msg);
  return send_html(c, rq, status, &b);
}

/* ---- parameters ---- */

static int valid_utf8(const unsigned char *s) {
  while (*s) {
    unsigned char c = *s;
    int n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2
            : (c & 0xF8) == 0xF0 ? 3 : -1;
    if (n < 0 || (n == 1 && c < 0xC2) || (n == 3 && c > 0xF4)) return 0;
    uint32_t cp = n ? c & (0x3F >> n) : c;
    s++;
    for (int i = 0; i < n; i++, s++) {
      if ((*s & 0xC0) != 0x80) return 0;
      cp = cp << 6 | (*s & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || (cp >= 0xD800 && cp < 0xE000))
      return 0;
  }
  return 1;
}

/* A parameter's value, or NULL when absent.  Sets *bad (HTTP status) and
 * writes msg when it is too long or not UTF-8. */
static const char *param(struct MHD_Connection *c, const char *name, int *bad, char *msg,
                         size_t msglen) {
  const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
  if (!v || *bad) return v;
  size_t n = strlen(v);
  if (n > MAX_PARAM) {
    *bad = 413;
    snprintf(msg, msglen, "parameter %s is %zu bytes long; at most %d are accepted", name, n,
             MAX_PARAM);
  } else if (!valid_utf8((const unsigned char *)v)) {
    *bad = 400;
    snprintf(msg, msglen, "parameter %s is not valid UTF-8", name);
  }
  return v;
}

/* A number parameter in [0, max], def when absent or empty. */
static size_t num_param(struct MHD_Connection *c, const char *name, size_t def, size_t max,
                        int *bad, char *msg, size_t msglen) {
  const char *v = param(c, name, bad, msg, msglen);
  if (*bad || !v || !*v) return def;
  char *end;
  errno = 0;
  long long n = strtoll(v, &end, 10);
  if (*end || errno || n < 0 || (unsigned long long)n > max) {
    *bad = 400;
    snprintf(msg, msglen, "parameter %s must be a whole number from 0 to %zu, not '%.40s'",
             name, max, v);
    return def;
  }
  return (size_t)n;
}

/* A boolean parameter: 1/true/yes/on or 0/false/no/off. */
static int bool_param(struct MHD_Connection *c, const char *name, int def, int *bad, char *msg,
                      size_t msglen) {
  const char *v = param(c, name, bad, msg, msglen);
  if (*bad || !v || !*v) return def;
  if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on")) return 1;
  if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off")) return 0;
  *bad = 400;
  snprintf(msg, msglen, "parameter %s takes 1 or 0 (true or false), not '%.40s'", name, v);
  return def;
}

/* Everything a search takes, from /api/search or the page. */
typedef struct search_req {
  page_params pp;
  ps_answer_opts o;
  int bad;
  char msg[400];
} search_req;

static void read_search(struct MHD_Connection *c, search_req *s, int page) {
  memset(s, 0, sizeof *s);
  char *m = s->msg;
  size_t ml = sizeof s->msg;
  ps_answer_opts_init(&s->o);
  s->pp.q = param(c, "q", &s->bad, m, ml);
  s->pp.year = param(c, "year", &s->bad, m, ml);
  s->pp.region = param(c, "region", &s->bad, m, ml);
  s->pp.type = param(c, "type", &s->bad, m, ml);
  s->pp.project = param(c, "project", &s->bad, m, ml);
  s->o.limit = num_param(c, "limit", 10, MAX_LIMIT, &s->bad, m, ml);
  s->o.offset = num_param(c, "offset", 0, MAX_OFFSET, &s->bad, m, ml);
  s->o.exact = bool_param(c, "exact", 0, &s->bad, m, ml);
  s->o.collapse = bool_param(c, "collapse", 1, &s->bad, m, ml);
  s->o.timeline = bool_param(c, "timeline", 0, &s->bad, m, ml);
  const char *sort = param(c, "sort", &s->bad, m, ml);
  if (!s->bad && sort && *sort && strcmp(sort, "relevance") != 0) {
    if (strcmp(sort, "date") == 0) {
      s->o.sort_date = 1;
    } else {
      s->bad = 400;
      snprintf(m, ml, "parameter sort takes relevance or date, not '%.40s'", sort);
    }
  }
  const char *view = page ? param(c, "view", &s->bad, m, ml) : NULL;
  if (!s->bad && view && *view && strcmp(view, "list") != 0) {
    if (strcmp(view, "timeline") == 0) {
      s->o.timeline = 1;
    } else {
      s->bad = 400;
      snprintf(m, ml, "parameter view takes list or timeline, not '%.40s'", view);
    }
  }
  s->pp.sort = s->o.sort_date ? "date" : NULL;
  s->pp.view = s->o.timeline ? "timeline" : NULL;
  s->pp.offset = s->o.offset;
  s->pp.limit = s->o.limit;
}

static int has_query(const search_req *s) {
  const char *v[] = {s->pp.q, s->pp.year, s->pp.region, s->pp.type, s->pp.project};
  for (int i = 0; i < 5; i++)
    if (v[i] && v[i][strspn(v[i], " \t\r\n")]) return 1;
  return 0;
}

static int status_of(int rc) {
  switch (rc) {
    case PS_ERR_QUERY: case PS_ERR_USAGE: return 400;
    case PS_ERR_NOTFOUND: return 404;
    case PS_ERR_RETRY: case PS_ERR_LOCKED: return 503;
    default: return 500;
  }
}

/* Runs the search of s: *json the answer's JSON, or *status and err. */
static int run_search(server *sv, const search_req *s, cJSON **json, int *status,
                      ps_error *err) {
  static const char *const fields[] = {"year", "region", "type", "project"};
  const char *values[] = {s->pp.year, s->pp.region, s->pp.type, s->pp.project};
  char *q = NULL;
  ps_index *ix = NULL;
  ps_answer *a = NULL;
  *json = NULL;
  int unavailable = 0;
  int rc = ps_answer_query(s->pp.q, fields, values, 4, &q, err);
  if (rc == PS_OK) unavailable = (rc = ps_pool_get(sv->pool, &ix, err)) != PS_OK;
  if (rc == PS_OK) rc = ps_answer_run(ix, q, &s->o, &a, err);
  if (rc == PS_OK && !(*json = ps_answer_json(a)))
    rc = ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  ps_answer_free(a);
  ps_pool_put(sv->pool, ix);
  free(q);
  *status = rc == PS_OK ? 200 : unavailable ? 503 : status_of(rc);
  return rc;
}

/* ---- routes ---- */

static enum MHD_Result api_search(server *sv, struct MHD_Connection *c, req *rq) {
  search_req s;
  read_search(c, &s, 0);
  if (s.bad) return send_error(c, rq, s.bad, "%s", s.msg);
  if (!has_query(&s))
    return send_error(c, rq, 400, "parameter q is missing: give words to search for "
                                  "(or a filter: year, region, type, project)");
  cJSON *json;
  int status;
  ps_error err;
  ps_error_clear(&err);
  if (run_search(sv, &s, &json, &status, &err) != PS_OK)
    return send_error(c, rq, status, "%s", err.msg);
  return send_json(c, rq, 200, json);
}

static enum MHD_Result page_home(server *sv, struct MHD_Connection *c, req *rq) {
  search_req s;
  read_search(c, &s, 1);
  int bad = s.bad;
  int partial = bool_param(c, "partial", 0, &bad, s.msg, sizeof s.msg);
  sbuf b = {0};
  if (bad) {
    page_search(&b, &s.pp, NULL, s.msg, partial);
    return send_html(c, rq, bad, &b);
  }
  cJSON *json = NULL;
  int status = 200;
  ps_error err;
  ps_error_clear(&err);
  if (has_query(&s)) run_search(sv, &s, &json, &status, &err);
  page_search(&b, &s.pp, json, status == 200 ? NULL : err.msg, partial);
  cJSON_Delete(json);
  return send_html(c, rq, status, &b);
}

/* The document and paragraph of /api/doc and /read: *doc, or an error
 * already sent (returns its MHD result through *sent). */
static int load_doc(server *sv, struct MHD_Connection *c, req *rq, size_t before, size_t after,
                    int html, cJSON **doc, size_t *para, enum MHD_Result *sent) {
  int bad = 0;
  char msg[400];
  const char *path = param(c, "path", &bad, msg, sizeof msg);
  const char *q = param(c, "q", &bad, msg, sizeof msg);
  *para = num_param(c, "para", 0, 0xFFFFFFFF, &bad, msg, sizeof msg);
  size_t ctx = num_param(c, "context", 3, MAX_CONTEXT, &bad, msg, sizeof msg);
  if (!bad && (!path || !*path)) {
    bad = 400;
    snprintf(msg, sizeof msg, "parameter path is missing: the path of an indexed document "
                              "(hits[].doc.path)");
  }
  if (bad) {
    *sent = html ? html_error(c, rq, bad, msg) : send_error(c, rq, bad, "%s", msg);
    return -1;
  }
  if (before == (size_t)-1) before = after = ctx;
  ps_index *ix = NULL;
  ps_error err;
  ps_error_clear(&err);
  int rc = ps_pool_get(sv->pool, &ix, &err);
  int status = rc ? 503 : 200;
  if (rc == PS_OK && (rc = ps_answer_doc(ix, path, *para, before, after, q, doc, &err)))
    status = status_of(rc);
  ps_pool_put(sv->pool, ix);
  if (rc) {
    *sent = html ? html_error(c, rq, status, err.msg) : send_error(c, rq, status, "%s", err.msg);
    return -1;
  }
  return 0;
}

static enum MHD_Result api_doc(server *sv, struct MHD_Connection *c, req *rq) {
  cJSON *doc;
  size_t para;
  enum MHD_Result sent;
  if (load_doc(sv, c, rq, (size_t)-1, 0, 0, &doc, &para, &sent)) return sent;
  return send_json(c, rq, 200, doc);
}

static enum MHD_Result page_reader(server *sv, struct MHD_Connection *c, req *rq) {
  cJSON *doc;
  size_t para;
  enum MHD_Result sent;
  int bad = 0;
  char msg[400];
  const char *q = param(c, "q", &bad, msg, sizeof msg);
  if (bad) return html_error(c, rq, bad, msg);
  /* The whole document: reading in context means scrolling freely. */
  if (load_doc(sv, c, rq, 0xFFFFFFFF, 0xFFFFFFFF, 1, &doc, &para, &sent)) return sent;
  sbuf b = {0};
  page_read(&b, doc, para, q);
  cJSON_Delete(doc);
  return send_html(c, rq, 200, &b);
}

static enum MHD_Result api_projects(server *sv, struct MHD_Connection *c, req *rq) {
  int bad = 0;
  char msg[400];
  const char *q = param(c, "q", &bad, msg, sizeof msg);
  size_t limit = num_param(c, "limit", 20, MAX_LIMIT, &bad, msg, sizeof msg);
  if (bad) return send_error(c, rq, bad, "%s", msg);
  ps_index *ix = NULL;
  cJSON *out = NULL;
  ps_error err;
  ps_error_clear(&err);
  int rc = ps_pool_get(sv->pool, &ix, &err);
  int status = rc ? 503 : 200;
  if (rc == PS_OK && (rc = ps_answer_projects(ix, q, limit, &out, &err))) status = status_of(rc);
  ps_pool_put(sv->pool, ix);
  if (rc) return send_error(c, rq, status, "%s", err.msg);
  return send_json(c, rq, 200, out);
}

static enum MHD_Result api_stats(server *sv, struct MHD_Connection *c, req *rq, int health) {
  ps_index *ix = NULL;
  ps_error err;
  ps_error_clear(&err);
  if (ps_pool_get(sv->pool, &ix, &err) != PS_OK)
    return send_error(c, rq, 503, "database unavailable: %s", err.msg);
  cJSON *o = ps_answer_stats(ix, sv->db);
  ps_pool_put(sv->pool, ix);
  if (health && o) {
    cJSON *h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "status", "ok");
    cJSON_AddItemToObject(h, "documents",
                          cJSON_DetachItemFromObjectCaseSensitive(o, "documents"));
    cJSON_Delete(o);
    o = h;
  }
  return o ? send_json(c, rq, 200, o) : send_error(c, rq, 500, "out of memory");
}

static const char *content_type(const char *name) {
  static const char *const map[][2] = {
      {".css", "text/css; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".svg", "image/svg+xml"},           {".png", "image/png"},
      {".ico", "image/x-icon"},            {".txt", "text/plain; charset=utf-8"},
      {".html", "text/html; charset=utf-8"}};
  const char *dot = strrchr(name, '.');
  for (size_t i = 0; dot && i < sizeof map / sizeof *map; i++)
    if (strcmp(dot, map[i][0]) == 0) return map[i][1];
  return "application/octet-stream";
}

/* /assets/NAME: a plain file directly in the asset directory.  NAME has no
 * slash and no leading dot (so no "..") and a symlink is refused
 * (O_NOFOLLOW), so nothing outside the directory is ever served. */
static enum MHD_Result asset(server *sv, struct MHD_Connection *c, req *rq, const char *name) {
  size_t n = strlen(name);
  int ok = n > 0 && n < 128 && name[0] != '.';
  for (size_t i = 0; ok && i < n; i++)
    ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
         (name[i] >= '0' && name[i] <= '9') || name[i] == '.' || name[i] == '-' ||
         name[i] == '_';
  if (!ok) return send_error(c, rq, 404, "no such asset");
  int fd = openat(sv->assets, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  struct stat sb;
  if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    if (fd >= 0) close(fd);
    return send_error(c, rq, 404, "no such asset: %s", name);
  }
  struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)sb.st_size, fd);
  if (!r) {
    close(fd);
    return MHD_NO;
  }
  MHD_add_response_header(r, "Content-Type", content_type(name));
  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(r, "Cache-Control", "no-cache");
  rq->status = 200;
  rq->bytes = (size_t)sb.st_size;
  enum MHD_Result res = MHD_queue_response(c, MHD_HTTP_OK, r);
  MHD_destroy_response(r);
  return res;
}

static enum MHD_Result route(server *sv, struct MHD_Connection *c, req *rq, const char *url) {
  if (strcmp(url, "/") == 0) return page_home(sv, c, rq);
  if (strcmp(url, "/read") == 0) return page_reader(sv, c, rq);
  if (strcmp(url, "/api/search") == 0) return api_search(sv, c, rq);
  if (strcmp(url, "/api/projects") == 0) return api_projects(sv, c, rq);
  if (strcmp(url, "/api/doc") == 0) return api_doc(sv, c, rq);
  if (strcmp(url, "/api/stats") == 0) return api_stats(sv, c, rq, 0);
  if (strcmp(url, "/api/health") == 0) return api_stats(sv, c, rq, 1);
  if (strncmp(url, "/assets/", 8) == 0) return asset(sv, c, rq, url + 8);
  if (strncmp(url, "/api/", 5) == 0)
    return send_error(c, rq, 404, "no such endpoint: %.200s (endpoints: /api/search, "
                                  "/api/projects, /api/doc, /api/stats, /api/health)", url);
  return html_error(c, rq, 404, "没有这个页面 (404 not found)");
}

/* ---- the request log ---- */

/* Appends s to the log line with control characters and " escaped, so a
 * request cannot forge log lines or break the quoted field. */
static void log_put(char *line, size_t cap, const char *s) {
  size_t n = strlen(line);
  for (; *s && n + 5 < cap; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch < 0x20 || ch == 0x7f || ch == '"') n += (size_t)snprintf(line + n, cap - n, "\\x%02x", ch);
    else line[n++] = (char)ch;
  }
  line[n] = '\0';
}

static enum MHD_Result log_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value) {
  (void)kind;
  req *rq = cls;
  log_put(rq->line, sizeof rq->line, strchr(rq->line, '?') ? "&" : "?");
  log_put(rq->line, sizeof rq->line, key);
  if (value) {
    log_put(rq->line, sizeof rq->line, "=");
    log_put(rq->line, sizeof rq->line, value);
  }
  return MHD_YES;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe) {
  server *sv = cls;
  req *rq = *con_cls;
  if (!rq) return;
  if (!sv->quiet) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char addr[INET6_ADDRSTRLEN] = "-";
    if (ci && ci->client_addr) {
      const struct sockaddr *sa = ci->client_addr;
      if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, addr, sizeof addr);
      else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, addr, sizeof addr);
    }
    time_t now = time(NULL);
    struct tm tm;
    char when[32];
    localtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S%z", &tm);
    fprintf(stderr, "%s %s \"%s\" %d %zu %.1fms%s\n", when, addr, rq->line, rq->status,
            rq->bytes, ms_since(&rq->t0),
            toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (not completed)");
  }
  free(rq);
  *con_cls = NULL;
  atomic_fetch_sub(&sv->in_flight, 1);
}

/* ---- the request handler ---- */

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls) {
  (void)version, (void)upload;
  server *sv = cls;
  req *rq = *con_cls;
  if (!rq) { /* first call: headers only */
    if (!(rq = calloc(1, sizeof *rq))) return MHD_NO;
    clock_gettime(CLOCK_MONOTONIC, &rq->t0);
    rq->status = 0;
    snprintf(rq->line, sizeof rq->line, "%.16s ", method);
    log_put(rq->line, sizeof rq->line, url);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, log_arg, rq);
    *con_cls = rq;
    atomic_fetch_add(&sv->in_flight, 1);
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if (cl && strtoull(cl, NULL, 10) > MAX_BODY) {
      rq->answered = 1;
      return send_error(c, rq, 413, "request body of %s bytes is too large (at most %d)", cl,
                        MAX_BODY);
    }
    return MHD_YES;
  }
  if (*upload_size) { /* a body (chunked or announced): count it, ignore it */
    rq->body += *upload_size;
    *upload_size = 0;
    if (rq->body > MAX_BODY && !rq->answered) {
      rq->answered = 1;
      return send_error(c, rq, 413, "request body too large (at most %d bytes)", MAX_BODY);
    }
    return MHD_YES;
  }
  if (rq->answered) return MHD_YES;
  if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
    return send_error(c, rq, 405, "method %.16s is not allowed: use GET", method);
  return route(sv, c, rq, url);
}

/* ---- main ---- */

static void usage(FILE *f) {
  fputs("Usage: policy-serve [OPTIONS]\n"
        "Serve a Policy Search database over HTTP: a JSON API (/api/search,\n"
        "/api/projects, /api/doc, /api/stats, /api/health) and a search page (/).\n"
        "New commits of policy-index are picked up without a restart.\n"
        "\n"
        "  -d, --db DIR        database directory (default: $POLICY_SEARCH_DB, else\n"
        "                      $XDG_DATA_HOME/policy-search/db, else\n"
        "                      ~/.local/share/policy-search/db)\n"
        "  -b, --bind ADDR     address or host name to listen on (default 127.0.0.1;\n"
        "                      IPv4 or IPv6)\n"
        "  -p, --port N        port (default 8080; 0 picks a free one)\n"
        "  -t, --threads N     worker threads, each with its own database handle\n"
        "                      (default: the number of CPUs, at least 2)\n"
        "      --assets DIR    directory of the page's CSS and script (default:\n"
        "                      $POLICY_SERVE_ASSETS, else the built-in one)\n"
        "  -q, --quiet         no request log and no start-up line on stderr\n"
        "  -h, --help          show this help\n"
        "  -V, --version       show the version\n"
        "\n"
        "SIGTERM or SIGINT: stop accepting, finish the requests in flight, exit 0.\n"
        "Exit status: 0 after a clean stop, 2 when it cannot start.\n",
        f);
}

/* The first directory of the candidates that exists. */
static const char *asset_dir(const char *opt) {
  if (opt) return opt;
  const char *env = getenv("POLICY_SERVE_ASSETS");
  if (env && *env) return env;
  struct stat sb;
  if (stat(PS_ASSET_DIR, &sb) == 0 && S_ISDIR(sb.st_mode)) return PS_ASSET_DIR;
  return PS_ASSET_INSTALL_DIR;
}

int main(int argc, char **argv) {
  static const struct option longopts[] = {
      {"db", required_argument, 0, 'd'},      {"bind", required_argument, 0, 'b'},
      {"port", required_argument, 0, 'p'},    {"threads", required_argument, 0, 't'},
      {"assets", required_argument, 0, 'A'},  {"quiet", no_argument, 0, 'q'},
      {"help", no_argument, 0, 'h'},          {"version", no_argument, 0, 'V'},
      {0, 0, 0, 0}};
  char dbbuf[4096];
  const char *db = NULL, *bind_addr = "127.0.0.1", *assets = NULL;
  long port = 8080, threads = sysconf(_SC_NPROCESSORS_ONLN);
  int c;
  server sv;
  memset(&sv, 0, sizeof sv);
  sv.assets = -1;
  if (threads < 2) threads = 2;
  while ((c = getopt_long(argc, argv, "d:b:p:t:qhV", longopts, NULL)) != -1) {
    char *end;
    switch (c) {
      case 'd': db = optarg; break;
      case 'b': bind_addr = optarg; break;
      case 'A': assets = optarg; break;
      case 'q': sv.quiet = 1; break;
      case 'p':
        port = strtol(optarg, &end, 10);
        if (!*optarg || *end || port < 0 || port > 65535) {
          fprintf(stderr, "policy-serve: --port needs a number from 0 to 65535, not '%s'\n",
                  optarg);
          return 2;
        }
        break;
      case 't':
        threads = strtol(optarg, &end, 10);
        if (!*optarg || *end || threads < 1 || threads > 256) {
          fprintf(stderr, "policy-serve: --threads needs a number from 1 to 256, not '%s'\n",
                  optarg);
          return 2;
        }
        break;
      case 'h': usage(stdout); return 0;
      case 'V': puts("policy-serve 0.1.0"); return 0;
      default: usage(stderr); return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "policy-serve: unexpected argument '%s' (see --help)\n", argv[optind]);
    return 2;
  }
  if (!db) db = ps_index_default_path(dbbuf, sizeof dbbuf);
  sv.db = db;

  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  int v6 = 0;
  struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
  /* An address, or a name such as localhost (its first address). */
  struct addrinfo hints, *ai = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  int gai = getaddrinfo(bind_addr, NULL, &hints, &ai);
  if (gai != 0 || !ai || ai->ai_addrlen > sizeof ss ||
      (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)) {
    fprintf(stderr, "policy-serve: --bind needs an address such as 127.0.0.1 or ::1, not "
                    "'%s' (%s)\n", bind_addr, gai ? gai_strerror(gai) : "no IP address");
    if (ai) freeaddrinfo(ai);
    return 2;
  }
  memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
  freeaddrinfo(ai);
  v6 = ss.ss_family == AF_INET6;
  if (v6) s6->sin6_port = htons((uint16_t)port);
  else s4->sin_port = htons((uint16_t)port);

  const char *adir = asset_dir(assets);
  sv.assets = open(adir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (sv.assets < 0) {
    fprintf(stderr, "policy-serve: asset directory %s: %s (set --assets or "
                    "POLICY_SERVE_ASSETS)\n", adir, strerror(errno));
    return 2;
  }
  ps_error err;
  ps_error_clear(&err);
  if (ps_pool_open(db, (size_t)threads, &sv.pool, &err) != PS_OK) {
    fprintf(stderr, "policy-serve: %s\n", err.msg);
    close(sv.assets);
    return 2;
  }

  /* Signals are taken by this thread alone (sigwait below); the workers
   * inherit the mask, and a client hanging up never raises SIGPIPE. */
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);

  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC |
                   (v6 ? MHD_USE_IPv6 : 0) | (sv.quiet ? 0 : MHD_USE_ERROR_LOG);
  struct MHD_Daemon *d = MHD_start_daemon(
      flags, (uint16_t)port, NULL, NULL, handle, &sv, MHD_OPTION_SOCK_ADDR, &ss,
      MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads, MHD_OPTION_NOTIFY_COMPLETED, completed,
      &sv, MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
      (size_t)64 * 1024, MHD_OPTION_END);
  if (!d) {
    fprintf(stderr, "policy-serve: cannot listen on %s port %ld (in use, or not an address "
                    "of this machine?)\n", bind_addr, port);
    ps_pool_close(sv.pool);
    close(sv.assets);
    return 2;
  }
  const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  if (!sv.quiet)
    fprintf(stderr, "policy-serve: serving %s on http://%s%s%s:%u/ with %ld threads\n", db,
            v6 ? "[" : "", bind_addr, v6 ? "]" : "", di ? di->port : (unsigned)port, threads);

  sigdelset(&sigs, SIGPIPE);
  int sig = 0;
  sigwait(&sigs, &sig);
  /* Drain: stop accepting, let the requests in flight finish (at most 30 s),
   * then close the idle keep-alive connections. */
  MHD_socket ls = MHD_quiesce_daemon(d);
  if (ls != MHD_INVALID_SOCKET) close(ls);
  for (int i = 0; i < 3000 && atomic_load(&sv.in_flight) > 0; i++) usleep(10000);
  int left = atomic_load(&sv.in_flight);
  MHD_stop_daemon(d);
  ps_pool_close(sv.pool);
  close(sv.assets);
  if (!sv.quiet)
    fprintf(stderr, "policy-serve: stopped on %s%s\n", sig == SIGTERM ? "SIGTERM" : "SIGINT",
            left > 0 ? " (some requests were still running after 30 s)" : "");
  return 0;
}
