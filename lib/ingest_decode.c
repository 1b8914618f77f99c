/* ingest_decode.c: from the bytes of a file to clean UTF-8 text.
 *
 * Kept apart from the format parsers so that encoding support can grow
 * without touching them.  Handles: UTF-8 BOM (stripped), UTF-16LE/BE with a
 * BOM and GB18030 (converted with iconv), invalid UTF-8 (each bad byte
 * replaced by U+FFFD, one warning per file), CR and CRLF line ends (turned
 * into LF), and binary data (rejected). */
#include "ingest_internal.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* Converts in[0..n) from the iconv encoding `from` to UTF-8.  Returns PS_OK,
 * PS_ERR_NOMEM, or PS_ERR_FORMAT when the input is not valid in `from`. */
static int iconv_to_utf8(const char *from, const char *in, size_t n, char **out,
                         size_t *out_len) {
  int rc = PS_OK;
  char *buf = NULL;
  iconv_t cd = iconv_open("UTF-8", from);
  if (cd == (iconv_t)-1) return PS_ERR_FORMAT; /* encoding not available */
  size_t cap = n * 2 + 16;  /* GB18030 / UTF-16 -> UTF-8 grows at most 2x */
  buf = malloc(cap + 1);
  if (!buf) {
    rc = PS_ERR_NOMEM;
    goto done;
  }
  char *ip = (char *)in, *op = buf;
  size_t il = n, ol = cap;
  if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 ||
      iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1) {
    rc = errno == E2BIG ? PS_ERR_NOMEM : PS_ERR_FORMAT;
    goto done;
  }
  *out_len = cap - ol;
  buf[*out_len] = '\0';
  *out = buf;
  buf = NULL;
done:
  free(buf);
  iconv_close(cd);
  return rc;
}

/* Bytes that never occur in text: C0 controls other than tab, LF, VT, FF,
 * CR and ESC. */
static int is_binary_byte(unsigned char c) {
  return c < 0x20 && c != '\t' && c != '\n' && c != '\v' && c != '\f' &&
         c != '\r' && c != 0x1B;
}

/* Counts invalid UTF-8 sequences and valid multi-byte characters. */
static void utf8_stats(const char *s, size_t n, size_t *invalid, size_t *multi,
                       size_t *first_bad) {
  size_t i = 0, adv;
  *invalid = *multi = 0;
  *first_bad = 0;
  while (i < n) {
    if ((unsigned char)s[i] < 0x80) {
      i++;
      continue;
    }
    int32_t c = ing_cp_at(s + i, n - i, &adv);
    if (c < 0) {
      if (*invalid == 0) *first_bad = i;
      (*invalid)++;
    } else {
      (*multi)++;
    }
    i += adv;
  }
}

/* Copies s[0..n) to a new buffer, replacing each invalid byte by U+FFFD and
 * CR / CRLF by LF. */
static int clean_copy(const char *s, size_t n, char **out, size_t *out_len) {
  ing_buf b = {0};
  size_t i = 0, adv;
  if (ing_buf_append(&b, "", 0)) return PS_ERR_NOMEM;
  while (i < n) {
    unsigned char c = (unsigned char)s[i];
    int rc;
    if (c == '\r') {
      rc = ing_buf_putc(&b, '\n');
      i += (i + 1 < n && s[i + 1] == '\n') ? 2 : 1;
    } else if (c < 0x80) {
      rc = ing_buf_putc(&b, (char)c);
      i++;
    } else if (ing_cp_at(s + i, n - i, &adv) < 0) {
      rc = ing_buf_append(&b, "\xEF\xBF\xBD", 3);
      i += adv;
    } else {
      rc = ing_buf_append(&b, s + i, adv);
      i += adv;
    }
    if (rc) {
      ing_buf_free(&b);
      return PS_ERR_NOMEM;
    }
  }
  *out = b.s;
  *out_len = b.len;
  return PS_OK;
}

int ing_decode(const char *name, const char *data, size_t len,
               const ps_ingest_opts *opts, char **out, size_t *out_len,
               ps_error *err) {
  int rc;
  char *conv = NULL;
  size_t conv_len = 0, base = 0;
  const unsigned char *u = (const unsigned char *)data;

  /* UTF-16 with a BOM: convert first, then treat like any UTF-8 input. */
  if (len >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF))) {
    const char *enc = u[0] == 0xFF ? "UTF-16LE" : "UTF-16BE";
    rc = iconv_to_utf8(enc, data + 2, len - 2, &conv, &conv_len);
    if (rc == PS_ERR_NOMEM) return ps_error_set(err, rc, "%s: out of memory", name);
    if (rc) return ps_error_set(err, rc, "%s: invalid %s text", name, enc);
    data = conv;
    len = conv_len;
  } else if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) {
    data += 3;
    len -= 3;
    base = 3; /* report offsets in the file, BOM included */
  }

  size_t binary = 0;
  for (size_t i = 0; i < len; i++) {
    if (data[i] == '\0') {
      binary = len;
      break;
    }
    binary += is_binary_byte((unsigned char)data[i]);
  }
  if (binary * 20 > len) {
    rc = ps_error_set(err, PS_ERR_FORMAT, "%s: binary file, not indexed", name);
    goto done;
  }

  size_t invalid, multi, first_bad;
  utf8_stats(data, len, &invalid, &multi, &first_bad);
  if (invalid && !conv && invalid * 4 > multi) {
    /* Mostly not UTF-8: legacy Chinese text is GB18030 (a superset of GBK
     * and GB2312).  Accept it only if it converts without any error. */
    char *gb = NULL;
    size_t gb_len = 0;
    rc = iconv_to_utf8("GB18030", data, len, &gb, &gb_len);
    if (rc == PS_ERR_NOMEM) {
      rc = ps_error_set(err, rc, "%s: out of memory", name);
      goto done;
    }
    if (rc == PS_OK) {
      rc = clean_copy(gb, gb_len, out, out_len);
      free(gb);
      if (rc) rc = ps_error_set(err, rc, "%s: out of memory", name);
      goto done;
    }
    if (invalid * 3 > len) {
      rc = ps_error_set(err, PS_ERR_FORMAT, "%s: binary file, not indexed", name);
      goto done;
    }
  }
  rc = clean_copy(data, len, out, out_len);
  if (rc) {
    rc = ps_error_set(err, rc, "%s: out of memory", name);
    goto done;
  }
  if (invalid && opts && opts->warn) {
    char msg[1024];
    snprintf(msg, sizeof msg,
             "%s: %zu invalid UTF-8 sequence%s, first at byte %zu; replaced by U+FFFD",
             name, invalid, invalid == 1 ? "" : "s", first_bad + base);
    opts->warn(opts->warn_ctx, msg);
  }
done:
  free(conv);
  return rc;
}
