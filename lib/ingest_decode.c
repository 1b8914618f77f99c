/* ingest_decode.c: from the bytes of a file to clean UTF-8 text.
 *
 * Kept apart from the format parsers so that encoding support can grow
 * without touching them.  Handles: an encoding named by the caller
 * (ps_ingest_opts.encoding, any iconv name); UTF-8 with or without BOM;
 * UTF-16LE/BE with a BOM, or without one when its NUL bytes (the high bytes
 * of ASCII characters) all sit at odd or all at even offsets; legacy Chinese
 * text, told apart between GB18030 (a superset of GBK and GB2312) and Big5
 * by decoding with both and counting the common Chinese characters each
 * gives; invalid sequences (each replaced by U+FFFD, one warning per file
 * naming the byte offset of the first); CR and CRLF line ends (turned into
 * LF); binary data (rejected, recognised by well-known signatures or by NUL
 * and control bytes). */
#include "ingest_internal.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */
#define SCORE_SAMPLE (256 * 1024)  /* bytes of legacy text scored per decoding */

/* The result of a lenient conversion to UTF-8. */
typedef struct conv {
  ing_buf text;
  size_t errors;    /* invalid or truncated sequences, each now U+FFFD */
  size_t first_bad; /* byte offset of the first in the input */
} conv;

/* Converts in[0..n) from the iconv encoding `from` to UTF-8, replacing each
 * invalid sequence by U+FFFD and skipping `unit` bytes (the code unit size)
 * past it.  Returns PS_OK, PS_ERR_NOMEM, or PS_ERR_USAGE when iconv has no
 * converter for `from`. */
static int iconv_lenient(const char *from, const char *in, size_t n, size_t unit, conv *c) {
  char chunk[8192];
  int rc = PS_OK;
  memset(c, 0, sizeof *c);
  iconv_t cd = iconv_open("UTF-8", from);
  if (cd == (iconv_t)-1) return PS_ERR_USAGE;
  if (ing_buf_append(&c->text, "", 0)) {
    rc = PS_ERR_NOMEM;
    goto done;
  }
  char *ip = (char *)in;
  size_t il = n;
  for (int flushing = 0;;) {
    char *op = chunk;
    size_t ol = sizeof chunk;
    size_t r = flushing ? iconv(cd, NULL, NULL, &op, &ol) : iconv(cd, &ip, &il, &op, &ol);
    int e = errno;
    if (ing_buf_append(&c->text, chunk, (size_t)(op - chunk))) {
      rc = PS_ERR_NOMEM;
      goto done;
    }
    if (r != (size_t)-1) {
      if (flushing) break;
      flushing = 1; /* all input consumed: emit any pending shift state */
      continue;
    }
    if (e == E2BIG) continue;
    if (flushing) break; /* nothing sensible left to emit */
    /* EILSEQ (invalid) or EINVAL (truncated at the end): replace, skip */
    if (!c->errors) c->first_bad = (size_t)(ip - in);
    c->errors++;
    if (ing_buf_append(&c->text, REPLACEMENT, 3)) {
      rc = PS_ERR_NOMEM;
      goto done;
    }
    size_t skip = unit < il ? unit : il;
    ip += skip;
    il -= skip;
    iconv(cd, NULL, NULL, NULL, NULL); /* back to the initial state */
  }
done:
  if (rc) ing_buf_free(&c->text);
  iconv_close(cd);
  return rc;
}

/* Bytes that never occur in text: C0 controls other than tab, LF, VT, FF,
 * CR and ESC. */
static int is_binary_byte(unsigned char c) {
  return c < 0x20 && c != '\t' && c != '\n' && c != '\v' && c != '\f' &&
         c != '\r' && c != 0x1B;
}

/* The kind of a well-known binary file format starting data, or NULL.
 * Some signatures are printable ("OggS", "GIF89a"): a signature counts only
 * when a NUL or control byte follows it closely, as in every real header,
 * so that a text starting with such a word stays text. */
static const char *binary_signature(const unsigned char *u, size_t n) {
  size_t head = n < 64 ? n : 64, ctl = 0;
  for (size_t i = 0; i < head; i++) ctl += u[i] == 0 || is_binary_byte(u[i]);
  if (!ctl) return NULL;
  static const struct {
    const char *magic;
    size_t len;
    const char *what;
  } sig[] = {
      {"\x89PNG\r\n\x1A\n", 8, "PNG image"},
      {"\xFF\xD8\xFF", 3, "JPEG image"},
      {"GIF87a", 6, "GIF image"},
      {"GIF89a", 6, "GIF image"},
      {"II*\0", 4, "TIFF image"},
      {"MM\0*", 4, "TIFF image"},
      {"PK\x03\x04", 4, "ZIP archive or office document"},
      {"PK\x05\x06", 4, "ZIP archive"},
      {"\x1F\x8B", 2, "gzip data"},
      {"BZh", 3, NULL}, /* checked below: the magic is printable */
      {"\xFD" "7zXZ\0", 6, "xz data"},
      {"7z\xBC\xAF\x27\x1C", 6, "7-Zip archive"},
      {"Rar!\x1A\x07", 6, "RAR archive"},
      {"\x28\xB5\x2F\xFD", 4, "zstd data"},
      {"\x7F" "ELF", 4, "ELF executable"},
      {"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8, "OLE2 (old Office) document"},
      {"SQLite format 3\0", 16, "SQLite database"},
      {"\0asm", 4, "WebAssembly module"},
      {"\xCA\xFE\xBA\xBE", 4, "Java class or Mach-O file"},
      {"\xCF\xFA\xED\xFE", 4, "Mach-O executable"},
      {"OggS", 4, "Ogg media"},
      {"fLaC", 4, "FLAC audio"},
      {"ID3", 3, NULL},
      {"\x1A\x45\xDF\xA3", 4, "Matroska/WebM media"},
      {"wOFF", 4, "WOFF font"},
      {"wOF2", 4, "WOFF2 font"},
  };
  for (size_t i = 0; i < sizeof sig / sizeof sig[0]; i++) {
    if (n < sig[i].len || memcmp(u, sig[i].magic, sig[i].len) != 0) continue;
    if (sig[i].what) return sig[i].what;
    /* printable magics need more proof */
    if (u[0] == 'B' && n >= 10 && u[3] >= '1' && u[3] <= '9' && !memcmp(u + 4, "1AY&SY", 6))
      return "bzip2 data";
    if (u[0] == 'I' && n >= 10 && u[3] < 0x10 && u[5] == 0) return "MP3 audio";
  }
  if (n >= 12 && !memcmp(u, "RIFF", 4)) return "RIFF media (WAV, AVI, WebP)";
  if (n >= 12 && !memcmp(u + 4, "ftyp", 4)) return "MP4/QuickTime media";
  return NULL;
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
      rc = ing_buf_append(&b, REPLACEMENT, 3);
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

/* ------------------------------------------------------------ UTF-16 */

/* UTF-16 without a BOM: text with some ASCII in it (line ends, digits,
 * spaces) has NUL high bytes at odd offsets (LE) or even offsets (BE); NUL
 * low bytes on the other side come from fewer characters (U+4E00 一...),
 * so the side with more NULs tells the byte order.  Returns "UTF-16LE", "UTF-16BE" or NULL, after checking that the
 * data decodes without error into text: no NUL, no control characters other
 * than whitespace, next to no unassigned or private-use code points. */
static const char *utf16_guess(const char *data, size_t len) {
  size_t z[2] = {0, 0};
  if (len < 4 || len % 2) return NULL;
  for (size_t i = 0; i < len; i++) z[i & 1] += data[i] == '\0';
  const char *enc = NULL;
  if (z[1] >= 2 && z[1] > z[0]) enc = "UTF-16LE";
  else if (z[0] >= 2 && z[0] > z[1]) enc = "UTF-16BE";
  if (!enc) return NULL;
  conv c;
  if (iconv_lenient(enc, data, len, 2, &c)) return NULL;
  size_t cps = 0, bad = 0, i = 0, adv;
  if (c.errors) bad = cps = 1; /* rejected below */
  while (!c.errors && i < c.text.len) {
    int32_t cp = ing_cp_at(c.text.s + i, c.text.len - i, &adv);
    cps++;
    if (cp <= 0 || (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r' && cp != '\f')) {
      bad = cps; /* decisive */
      break;
    }
    utf8proc_category_t cat = utf8proc_category(cp);
    bad += cat == UTF8PROC_CATEGORY_CN || cat == UTF8PROC_CATEGORY_CO ||
           (cat == UTF8PROC_CATEGORY_CC && cp >= 0x7F);
    i += adv;
  }
  ing_buf_free(&c.text);
  return !c.errors && bad * 100 <= cps ? enc : NULL;
}

/* ------------------------------------------------- GB18030 versus Big5 */

/* Frequent characters of Chinese prose: shared ones, then simplified, then
 * the traditional forms.  Text decoded with the wrong legacy encoding turns
 * into rare characters and seldom hits these. */
static const char common_chars[] =
    "的一是不了在人有我他中大上以和地要就出也年生能而子那得于着下自之方后"
    "多行作成家可部所民工高加力用理重定本政主全社平安建其法度展提化明新合"
    "好十三二五四同月日市公共区心事水性外外内利面制场所当之已此更特目量"
    "务建设作府施施推展提升持建保护构培点重企村镇街道城乡人才科技创策"
    "这个们来为说时会对经发国过进实现动学种产业还与关开长应机问题见样义"
    "头点边间从两门东么没给让书车电话体设计级华划层导规总费标资统济项术"
    "质环优务协调财税险农传统领区县办员专围营"
    "這個們來為說時會對經發國過進實現動學種產業還與關開長應機問題見樣義"
    "頭點邊間從兩門東麼沒給讓書車電話體設計級華劃層導規總費標資統濟項術"
    "質環優務協調財稅險農傳統領區縣辦員專圍營";

static int cmp_i32(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}

/* How many characters of s[0..n) are in the sorted set v[0..nv); *cjk
 * counts the CJK (and other U+3400 and up) characters. */
static size_t common_hits(const char *s, size_t n, const int32_t *v, size_t nv, size_t *cjk) {
  size_t hits = 0, i = 0, adv;
  *cjk = 0;
  if (n > SCORE_SAMPLE) n = SCORE_SAMPLE;
  while (i < n) {
    int32_t c = ing_cp_at(s + i, n - i, &adv);
    if (c >= 0x3400) {
      (*cjk)++;
      if (bsearch(&c, v, nv, sizeof *v, cmp_i32)) hits++;
    }
    i += adv;
  }
  return hits;
}

/* Decodes legacy Chinese data as GB18030 and as Big5 and keeps the more
 * plausible result in *best (encoding name in *enc); an invalid sequence
 * costs as much as several common characters gained.  *chinese is cleared
 * when even the better decoding is no Chinese prose: about half of the
 * characters of real text are common ones, about 1% of random bytes or of
 * another legacy encoding (EUC-KR, Shift-JIS) decoded as Chinese. */
static int legacy_decode(const char *data, size_t len, conv *best, const char **enc,
                         int *chinese) {
  int32_t set[sizeof common_chars / 3 + 1];
  size_t nset = 0, i = 0, adv;
  while (i < sizeof common_chars - 1) {
    set[nset++] = ing_cp_at(common_chars + i, sizeof common_chars - 1 - i, &adv);
    i += adv;
  }
  qsort(set, nset, sizeof *set, cmp_i32);

  conv gb, b5;
  int rc = iconv_lenient("GB18030", data, len, 1, &gb);
  if (rc) return rc == PS_ERR_USAGE ? PS_ERR_FORMAT : rc;
  rc = iconv_lenient("BIG5", data, len, 1, &b5);
  if (rc == PS_ERR_NOMEM) {
    ing_buf_free(&gb.text);
    return rc;
  }
  size_t cg, cb = 0, hg = common_hits(gb.text.s, gb.text.len, set, nset, &cg), hb = 0;
  *best = gb;
  *enc = "GB18030";
  if (rc == PS_OK) {
    hb = common_hits(b5.text.s, b5.text.len, set, nset, &cb);
    if ((double)hb - 8.0 * (double)b5.errors > (double)hg - 8.0 * (double)gb.errors) {
      ing_buf_free(&gb.text);
      *best = b5;
      *enc = "Big5";
      hg = hb;
      cg = cb;
    } else {
      ing_buf_free(&b5.text);
    }
  }
  *chinese = cg < 64 || hg * 10 >= cg;
  return PS_OK;
}

/* ------------------------------------------------------------- entry */

static int is_utf8_name(const char *e) {
  return !strcasecmp(e, "UTF-8") || !strcasecmp(e, "UTF8");
}

/* Code unit size of an iconv encoding name: what to skip past a bad one. */
static size_t unit_of(const char *e) {
  if (!strncasecmp(e, "UTF-16", 6) || !strncasecmp(e, "UTF16", 5) ||
      !strncasecmp(e, "UCS-2", 5) || !strncasecmp(e, "UCS2", 4))
    return 2;
  if (!strncasecmp(e, "UTF-32", 6) || !strncasecmp(e, "UTF32", 5) ||
      !strncasecmp(e, "UCS-4", 5) || !strncasecmp(e, "UCS4", 4))
    return 4;
  return 1;
}

static void warn_invalid(const char *name, const ps_ingest_opts *opts, const char *enc,
                         size_t count, size_t offset) {
  if (!count || !opts || !opts->warn) return;
  char msg[1024];
  snprintf(msg, sizeof msg,
           "%s: %zu invalid %s sequence%s, first at byte %zu; replaced by U+FFFD", name,
           count, enc, count == 1 ? "" : "s", offset);
  opts->warn(opts->warn_ctx, msg);
}

/* Rejects data with NUL bytes or more than 5% control bytes. */
static int looks_binary(const char *data, size_t len) {
  size_t binary = 0;
  for (size_t i = 0; i < len; i++) {
    if (data[i] == '\0') return 1;
    binary += is_binary_byte((unsigned char)data[i]);
  }
  return binary * 20 > len;
}

int ing_decode(const char *name, const char *data, size_t len,
               const ps_ingest_opts *opts, char **out, size_t *out_len,
               ps_error *err) {
  int rc;
  conv cv = {{0}, 0, 0};
  int have_conv = 0;
  size_t base = 0;
  const char *enc = opts && opts->encoding && opts->encoding[0] ? opts->encoding : NULL;
  const unsigned char *u = (const unsigned char *)data;
  const char *what = binary_signature(u, len);

  if (what) return ps_error_set(err, PS_ERR_FORMAT, "%s: binary file (%s), not indexed", name, what);

  if (enc && !is_utf8_name(enc)) {
    /* The caller knows the encoding: no detection. */
    rc = iconv_lenient(enc, data, len, unit_of(enc), &cv);
    if (rc == PS_ERR_USAGE)
      return ps_error_set(err, rc, "unknown encoding '%s' (iconv has no converter for it; "
                                   "`iconv --list` shows the names)", enc);
    if (rc) return ps_error_set(err, rc, "%s: out of memory", name);
    have_conv = 1;
    if (cv.text.len >= 3 && !memcmp(cv.text.s, "\xEF\xBB\xBF", 3)) { /* a BOM */
      memmove(cv.text.s, cv.text.s + 3, cv.text.len - 2);
      cv.text.len -= 3;
    }
    if (looks_binary(cv.text.s, cv.text.len)) {
      rc = ps_error_set(err, PS_ERR_FORMAT, "%s: binary file, not indexed", name);
      goto done;
    }
    warn_invalid(name, opts, enc, cv.errors, cv.first_bad);
    rc = clean_copy(cv.text.s, cv.text.len, out, out_len);
    goto converted;
  }

  /* UTF-16 with a BOM, or recognised by its NUL bytes; then treated like
   * any UTF-8 input. */
  const char *u16 = NULL;
  if (!enc && len >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF))) {
    u16 = u[0] == 0xFF ? "UTF-16LE" : "UTF-16BE";
    base = 2;
  } else if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) {
    data += 3;
    len -= 3;
    base = 3; /* report offsets in the file, BOM included */
  } else if (!enc && memchr(data, '\0', len)) {
    u16 = utf16_guess(data, len);
  }
  if (u16) {
    rc = iconv_lenient(u16, data + base, len - base, 2, &cv);
    if (rc) return ps_error_set(err, rc == PS_ERR_NOMEM ? rc : PS_ERR_FORMAT,
                                rc == PS_ERR_NOMEM ? "%s: out of memory" : "%s: no UTF-16 converter",
                                name);
    have_conv = 1;
    warn_invalid(name, opts, u16, cv.errors, cv.first_bad + base);
    data = cv.text.s;
    len = cv.text.len;
    base = 0;
  }

  if (looks_binary(data, len)) {
    rc = ps_error_set(err, PS_ERR_FORMAT, "%s: binary file, not indexed", name);
    goto done;
  }

  size_t invalid, multi, first_bad;
  utf8_stats(data, len, &invalid, &multi, &first_bad);
  if (invalid && !have_conv && !enc && invalid * 4 > multi) {
    /* Mostly not UTF-8: legacy Chinese text, GB18030 or Big5.  Taken when
     * it explains the bytes better than UTF-8 does. */
    const char *legacy = NULL;
    int chinese = 0;
    rc = legacy_decode(data, len, &cv, &legacy, &chinese);
    if (rc == PS_ERR_NOMEM) return ps_error_set(err, rc, "%s: out of memory", name);
    if (rc == PS_OK) {
      have_conv = 1;
      if (!chinese) {
        rc = ps_error_set(err, PS_ERR_FORMAT,
                          "%s: neither UTF-8 nor Chinese (GB18030, Big5) text: binary data "
                          "or another encoding (name it with --encoding), not indexed", name);
        goto done;
      }
      if (cv.errors < invalid) {
        warn_invalid(name, opts, legacy, cv.errors, cv.first_bad + base);
        rc = clean_copy(cv.text.s, cv.text.len, out, out_len);
        goto converted;
      }
    }
    if (invalid * 3 > len) {
      rc = ps_error_set(err, PS_ERR_FORMAT, "%s: binary file, not indexed", name);
      goto done;
    }
  }
  rc = clean_copy(data, len, out, out_len);
  if (rc == PS_OK) warn_invalid(name, opts, "UTF-8", invalid, first_bad + base);
converted:
  if (rc) rc = ps_error_set(err, rc, "%s: out of memory", name);
done:
  if (have_conv) ing_buf_free(&cv.text);
  return rc;
}
