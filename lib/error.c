/* error.c: formatting of ps_error messages (see ps_error.h). */
#include "ps_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ps_error_clear(ps_error *e) {
  if (!e) return;
  e->code = PS_OK;
  e->msg[0] = '\0';
}

int ps_error_set(ps_error *e, int code, const char *fmt, ...) {
  if (!e) return code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  va_end(ap);
  e->code = code;
  return code;
}

int ps_error_prefix(ps_error *e, const char *fmt, ...) {
  if (!e) return PS_OK;
  char head[512], old[sizeof e->msg];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(head, sizeof head, fmt, ap);
  va_end(ap);
  memcpy(old, e->msg, sizeof old);
  snprintf(e->msg, sizeof e->msg, "%.500s: %.500s", head, old);
  return e->code;
}
