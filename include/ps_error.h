/* ps_error.h: the error convention shared by every module of Policy Search.
 *
 * Functions that can fail return an int status (PS_OK on success) and, when
 * given a non-NULL ps_error, fill it with a message that names the place
 * (file, byte offset, query position) and what went wrong.  The message is
 * owned by the caller's ps_error: no global state, safe across threads. */
#ifndef PS_ERROR_H
#define PS_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  PS_OK = 0,
  PS_ERR_NOMEM = 1,     /* out of memory */
  PS_ERR_IO = 2,        /* a file could not be read or written */
  PS_ERR_FORMAT = 3,    /* input is not something we can index (binary, bad encoding) */
  PS_ERR_XAPIAN = 4,    /* the Xapian layer reported an error */
  PS_ERR_SCHEME = 5,    /* database written with another tokenisation scheme */
  PS_ERR_QUERY = 6,     /* malformed query */
  PS_ERR_NOTFOUND = 7,  /* no such file / document / database */
  PS_ERR_USAGE = 8,     /* bad argument from the caller */
  PS_ERR_LOCKED = 9,    /* another writer holds the database */
  PS_ERR_CORRUPT = 10,  /* database files are inconsistent */
  PS_ERR_RETRY = 11     /* the database changed under a reader: reopen and retry */
};

typedef struct ps_error {
  int code;
  char msg[1024];
} ps_error;

/* Clears e (may be NULL). */
void ps_error_clear(ps_error *e);

/* Formats a message into e (may be NULL) and returns code, so that callers
 * can write `return ps_error_set(err, PS_ERR_IO, "%s: %s", path, strerror(errno));`. */
int ps_error_set(ps_error *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to the message already in e (used to add the file name
 * to an error raised deeper down).  Returns e->code (PS_OK if e is NULL). */
int ps_error_prefix(ps_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif
#endif
