/* ingest_pdf.c: the text of a PDF file, through poppler's pdftotext.
 *
 * pdftotext (package poppler-utils) runs as a child process: no shell, the
 * PDF bytes on its stdin, the text (UTF-8, reading order, pages separated by
 * form feeds) read from its stdout, its complaints from its stderr, all
 * three multiplexed with poll().  It is killed when it runs past a deadline
 * or writes an absurd amount, so that a hostile PDF can neither hang nor
 * swamp indexing.  A process rather than libpoppler in-process: a crash or
 * a leak in the PDF parser cannot take the indexer down.
 *
 * The text then loses what is layout rather than content: page headers and
 * footers (a short line repeated at the top or bottom of many pages, digits
 * aside: "第 3 页 共 9 页"), control characters; a page break becomes a line
 * starting with a space.  Page numbers on lines of their own are dropped
 * later by the PDF-text paragraph rebuilder (ingest_text.c), which also
 * joins the visual lines into paragraphs. */
#include "ingest_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define PDF_TIMEOUT_MS 60000
#define PDF_MAX_TEXT (256u << 20) /* text beyond this is a hostile PDF */
#define ERR_KEEP 4096             /* bytes of pdftotext's stderr kept */
#define EDGE_LINES 2              /* lines at each end of a page that may be header/footer */
#define EDGE_MAX_WIDTH 80         /* display width of the longest header/footer */

int ing_looks_pdf_file(const char *data, size_t len) {
  if (len >= 5 && !memcmp(data, "%PDF-", 5)) return 1;
  /* readers accept the header after some junk, within the first 1024
   * bytes; then the file must also end like a PDF, so that a text merely
   * mentioning %PDF- near its start stays text */
  size_t n = len < 1024 ? len : 1024, tail = len < 2048 ? len : 2048;
  const char *h = memmem(data, n, "\n%PDF-", 6);
  if (!h) h = memmem(data, n, "\r%PDF-", 6);
  return h && memmem(data + len - tail, tail, "%%EOF", 5) != NULL;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The last non-empty line of pdftotext's stderr, for the error message. */
static void last_line(const char *s, size_t n, char *out, size_t cap) {
  while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ')) n--;
  size_t b = n;
  while (b && s[b - 1] != '\n') b--;
  snprintf(out, cap, "%.*s", (int)(n - b), s + b);
}

/* Runs pdftotext on data[0..len); its stdout is appended to txt.  On error
 * the message names the file. */
static int run_pdftotext(const char *name, const char *data, size_t len,
                         const ps_ingest_opts *opts, ing_buf *txt, ps_error *err) {
  const char *prog = opts && opts->pdftotext && opts->pdftotext[0] ? opts->pdftotext : "pdftotext";
  int timeout = opts && opts->pdf_timeout_ms > 0 ? opts->pdf_timeout_ms : PDF_TIMEOUT_MS;
  char *const argv[] = {(char *)prog, "-enc", "UTF-8", "-eol", "unix", "-", "-", NULL};
  int in[2] = {-1, -1}, outp[2] = {-1, -1}, errp[2] = {-1, -1};
  int rc = PS_OK, spawned = 0, fa_init = 0, status = 0;
  pid_t pid = -1;
  posix_spawn_file_actions_t fa;
  char errbuf[ERR_KEEP + 1], chunk[65536], why[512];
  size_t errlen = 0, sent = 0;

  /* stdin is a socket so that writing to a child that has quit gives EPIPE
   * (MSG_NOSIGNAL) instead of a SIGPIPE that would kill the indexer */
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) || pipe2(outp, O_CLOEXEC) ||
      pipe2(errp, O_CLOEXEC)) {
    rc = ps_error_set(err, PS_ERR_IO, "%s: cannot run pdftotext: %s", name, strerror(errno));
    goto done;
  }
  if ((errno = posix_spawn_file_actions_init(&fa))) {
    rc = ps_error_set(err, PS_ERR_NOMEM, "%s: out of memory", name);
    goto done;
  }
  fa_init = 1;
  if ((errno = posix_spawn_file_actions_adddup2(&fa, in[1], 0)) ||
      (errno = posix_spawn_file_actions_adddup2(&fa, outp[1], 1)) ||
      (errno = posix_spawn_file_actions_adddup2(&fa, errp[1], 2)) ||
      (errno = posix_spawn_file_actions_addclosefrom_np(&fa, 3))) {
    rc = ps_error_set(err, PS_ERR_NOMEM, "%s: out of memory", name);
    goto done;
  }
  int e = strchr(prog, '/') ? posix_spawn(&pid, prog, &fa, NULL, argv, environ)
                            : posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
  if (e) {
    if (e == ENOENT)
      rc = ps_error_set(err, PS_ERR_FORMAT,
                        "%s: cannot read PDF: %s not found (install poppler-utils, "
                        "which provides pdftotext)", name, prog);
    else
      rc = ps_error_set(err, PS_ERR_FORMAT, "%s: cannot read PDF: cannot run %s: %s", name,
                        prog, strerror(e));
    goto done;
  }
  spawned = 1;
  close(in[1]);
  close(outp[1]);
  close(errp[1]);
  in[1] = outp[1] = errp[1] = -1;
  if (len == 0) shutdown(in[0], SHUT_WR);

  long long deadline = now_ms() + timeout;
  int out_open = 1, err_open = 1, in_open = len > 0;
  why[0] = '\0';
  while (out_open || err_open) {
    struct pollfd pf[3];
    int np = 0, io = -1, oo = -1, eo = -1;
    if (in_open) { pf[np] = (struct pollfd){in[0], POLLOUT, 0}; io = np++; }
    if (out_open) { pf[np] = (struct pollfd){outp[0], POLLIN, 0}; oo = np++; }
    if (err_open) { pf[np] = (struct pollfd){errp[0], POLLIN, 0}; eo = np++; }
    long long left = deadline - now_ms();
    if (left <= 0) {
      snprintf(why, sizeof why, "pdftotext did not finish within %d s", (timeout + 999) / 1000);
      break;
    }
    int r = poll(pf, (nfds_t)np, (int)(left > 1000 ? 1000 : left));
    if (r < 0 && errno != EINTR) {
      snprintf(why, sizeof why, "poll: %s", strerror(errno));
      break;
    }
    if (r <= 0) continue;
    if (io >= 0 && pf[io].revents) {
      ssize_t w = send(in[0], data + sent, len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w > 0) sent += (size_t)w;
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || sent == len) {
        in_open = 0; /* done, or the child stopped reading: it will say why */
        shutdown(in[0], SHUT_WR);
      }
    }
    if (oo >= 0 && pf[oo].revents) {
      ssize_t k = read(outp[0], chunk, sizeof chunk);
      if (k > 0) {
        if (txt->len + (size_t)k > PDF_MAX_TEXT) {
          snprintf(why, sizeof why, "more than %u MB of text", PDF_MAX_TEXT >> 20);
          break;
        }
        if (ing_buf_append(txt, chunk, (size_t)k)) {
          rc = ps_error_set(err, PS_ERR_NOMEM, "%s: out of memory", name);
          goto done;
        }
      } else if (k == 0 || (errno != EINTR && errno != EAGAIN)) {
        out_open = 0;
      }
    }
    if (eo >= 0 && pf[eo].revents) {
      ssize_t k = read(errp[0], chunk, sizeof chunk);
      if (k > 0) {
        size_t keep = (size_t)k;
        if (errlen + keep > ERR_KEEP) { /* keep the end: the final complaint */
          size_t drop = errlen + keep - ERR_KEEP;
          if (drop > errlen) drop = errlen;
          memmove(errbuf, errbuf + drop, errlen - drop);
          errlen -= drop;
          if (keep > ERR_KEEP) keep = ERR_KEEP;
        }
        memcpy(errbuf + errlen, chunk + (size_t)k - keep, keep);
        errlen += keep;
      } else if (k == 0 || (errno != EINTR && errno != EAGAIN)) {
        err_open = 0;
      }
    }
  }
  /* both pipes closed, or we gave up: reap the child, never wait forever */
  for (;;) {
    pid_t w = why[0] ? 0 : waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) {
      snprintf(why, sizeof why, "waitpid: %s", strerror(errno));
      break;
    }
    if (why[0] || now_ms() >= deadline) {
      if (!why[0])
        snprintf(why, sizeof why, "pdftotext did not finish within %d s", (timeout + 999) / 1000);
      kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
      break;
    }
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  spawned = 0;
  if (!why[0] && WIFSIGNALED(status))
    snprintf(why, sizeof why, "pdftotext killed by signal %d", WTERMSIG(status));
  if (!why[0] && WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    errbuf[errlen] = '\0';
    last_line(errbuf, errlen, why, sizeof why);
    if (!why[0]) snprintf(why, sizeof why, "pdftotext exit status %d", WEXITSTATUS(status));
  }
  if (why[0]) rc = ps_error_set(err, PS_ERR_FORMAT, "%s: not a readable PDF (%s)", name, why);
done:
  if (spawned) { /* only after an early error exit */
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  }
  if (fa_init) posix_spawn_file_actions_destroy(&fa);
  for (int i = 0; i < 2; i++) {
    if (in[i] >= 0) close(in[i]);
    if (outp[i] >= 0) close(outp[i]);
    if (errp[i] >= 0) close(errp[i]);
  }
  return rc;
}

/* ------------------------------------------------- headers and footers */

typedef struct pline {
  const char *s; /* trimmed */
  size_t n;
  size_t page;
  int edge;      /* among the first or last EDGE_LINES non-empty lines of its page */
} pline;

/* The line with ASCII digits folded to '#' and spaces removed: the page
 * number in "第 3 页" or "- 3 -" must not make every footer unique. */
static size_t edge_key(const char *s, size_t n, char *key, size_t cap) {
  size_t k = 0;
  for (size_t i = 0; i < n && k + 1 < cap; i++) {
    char c = s[i];
    if (c == ' ' || c == '\t') continue;
    key[k++] = (c >= '0' && c <= '9') ? '#' : c;
  }
  key[k] = '\0';
  return k;
}

/* Cleans pdftotext output: invalid UTF-8 replaced, control characters
 * dropped, form feeds (page breaks) turned into line ends, and lines
 * repeated at the edges of many pages removed. */
static int clean_pdf_text(const char *s, size_t n, char **out, size_t *out_len) {
  ing_buf b = {0};
  pline *v = NULL;
  size_t nv = 0, cap = 0, page = 0, i = 0;
  int rc = PS_OK;
  char ka[4 * EDGE_MAX_WIDTH], kb[4 * EDGE_MAX_WIDTH];

  /* split into lines, remembering pages */
  while (i <= n) {
    size_t e = i;
    while (e < n && s[e] != '\n' && s[e] != '\f') e++;
    const char *p = s + i;
    size_t ln = e - i;
    while (ln && (*p == ' ' || *p == '\t')) p++, ln--;
    while (ln && (p[ln - 1] == ' ' || p[ln - 1] == '\t' || p[ln - 1] == '\r')) ln--;
    if (ln) {
      if (nv == cap) {
        cap = cap ? cap * 2 : 256;
        pline *nvp = realloc(v, cap * sizeof *nvp);
        if (!nvp) {
          rc = PS_ERR_NOMEM;
          goto done;
        }
        v = nvp;
      }
      v[nv++] = (pline){p, ln, page, 0};
    }
    if (e < n && s[e] == '\f') page++;
    i = e + 1;
  }
  size_t pages = page + 1;
  /* mark the edge lines of every page */
  for (size_t a = 0; a < nv;) {
    size_t z = a;
    while (z < nv && v[z].page == v[a].page) z++;
    for (size_t k = a; k < z; k++)
      v[k].edge = (k - a < EDGE_LINES || z - k <= EDGE_LINES) &&
                  ing_display_width(v[k].s, v[k].n) <= EDGE_MAX_WIDTH;
    a = z;
  }
  /* an edge line whose key occurs at the edge of at least 3 pages and half
   * of all pages (both pages of a 2-page file) is a header or footer */
  if (pages >= 2) {
    for (size_t a = 0; a < nv; a++) {
      if (v[a].edge != 1) continue;
      edge_key(v[a].s, v[a].n, ka, sizeof ka);
      size_t count = 0, last_page = (size_t)-1;
      for (size_t k = 0; k < nv; k++) {
        if (!v[k].edge || v[k].page == last_page) continue;
        edge_key(v[k].s, v[k].n, kb, sizeof kb);
        if (!strcmp(ka, kb)) {
          count++;
          last_page = v[k].page;
        }
      }
      if ((count >= 3 || count == pages) && count * 2 >= pages) {
        for (size_t k = 0; k < nv; k++) {
          if (!v[k].edge) continue;
          edge_key(v[k].s, v[k].n, kb, sizeof kb);
          if (!strcmp(ka, kb)) v[k].edge = 2; /* drop */
        }
      }
    }
  }
  /* rebuild, cleaning each kept line */
  if (ing_buf_append(&b, "", 0)) {
    rc = PS_ERR_NOMEM;
    goto done;
  }
  for (size_t a = 0, page_of_last = 0; a < nv; a++) {
    if (v[a].edge == 2) continue;
    /* the first line of a new page starts with a space, as in the PDF
     * extractions ing_parse_pdftext knows */
    if (v[a].page != page_of_last && b.len && ing_buf_putc(&b, ' ')) {
      rc = PS_ERR_NOMEM;
      goto done;
    }
    page_of_last = v[a].page;
    for (size_t k = 0, adv; k < v[a].n; k += adv) {
      int32_t c = ing_cp_at(v[a].s + k, v[a].n - k, &adv);
      int r;
      if (c < 0) r = ing_buf_append(&b, "\xEF\xBF\xBD", 3);
      else if (c < 0x20 || c == 0x7F) r = c == '\t' ? ing_buf_putc(&b, ' ') : 0;
      else r = ing_buf_append(&b, v[a].s + k, adv);
      if (r) {
        rc = PS_ERR_NOMEM;
        goto done;
      }
    }
    if (ing_buf_putc(&b, '\n')) {
      rc = PS_ERR_NOMEM;
      goto done;
    }
  }
  *out = b.s;
  *out_len = b.len;
  b.s = NULL;
done:
  ing_buf_free(&b);
  free(v);
  return rc;
}

int ing_pdf_text(const char *name, const char *data, size_t len, const ps_ingest_opts *opts,
                 char **out, size_t *out_len, ps_error *err) {
  ing_buf raw = {0};
  int rc;
  if (ing_buf_append(&raw, "", 0)) return ps_error_set(err, PS_ERR_NOMEM, "%s: out of memory", name);
  if ((rc = run_pdftotext(name, data, len, opts, &raw, err))) goto done;
  if ((rc = clean_pdf_text(raw.s, raw.len, out, out_len))) {
    rc = ps_error_set(err, rc, "%s: out of memory", name);
    goto done;
  }
  size_t k = 0;
  while (k < *out_len && ((*out)[k] == '\n' || (*out)[k] == ' ')) k++;
  if (k == *out_len) {
    free(*out);
    *out = NULL;
    rc = ps_error_set(err, PS_ERR_FORMAT,
                      "%s: PDF without a text layer (scanned images?), not indexed", name);
  }
done:
  ing_buf_free(&raw);
  return rc;
}
