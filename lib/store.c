/* store.c: the flat paragraph store (see ps_store.h for the layout and the
 * consistency rule with Xapian commits). */
#include "ps_store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER_WORDS 9 /* file_no, para_no, heading_level, then the lengths of
                          * norm, text as written, patch, section, projects,
                          * and where the section is (see SECTION_BACK) */

struct ps_store {
  int writable;
  int dat_fd, idx_fd;
  char dat_path[PATH_MAX], idx_path[PATH_MAX];
  /* reader */
  const unsigned char *dat_map, *idx_map;
  uint64_t dat_len, idx_len; /* committed (reader) or written (writer) lengths */
  /* writer: buffered appends */
  unsigned char *buf;
  size_t buf_len, buf_cap;
  unsigned char *ibuf;
  size_t ibuf_len, ibuf_cap;
  /* writer: the last section written inline, which the next records of the
   * same section refer back to instead of repeating it */
  char *last_sec;
  size_t last_sec_len;
  uint64_t last_sec_at;
};

/* The last header word: 0 when the section follows the patch in the record,
 * else the distance back from the record's start to an earlier record's copy
 * of it.  Everything a reader needs to find a record's parts is in the
 * header: verifying a candidate touches the header and the normalised text
 * only (a search verifies thousands). */
#define SECTION_BACK 8

static int sys_error(ps_error *err, const char *what, const char *path) {
  return ps_error_set(err, PS_ERR_IO, "%s: %s: %s", path, what, strerror(errno));
}

static void unmap(ps_store *st) {
  if (st->dat_map && st->dat_len) munmap((void *)st->dat_map, st->dat_len);
  if (st->idx_map && st->idx_len) munmap((void *)st->idx_map, st->idx_len);
  st->dat_map = st->idx_map = NULL;
}

static int map_file(int fd, const char *path, uint64_t len, const unsigned char **out,
                    ps_error *err) {
  *out = NULL;
  if (len == 0) return PS_OK;
  struct stat sb;
  if (fstat(fd, &sb) != 0) return sys_error(err, "stat", path);
  if ((uint64_t)sb.st_size < len)
    return ps_error_set(err, PS_ERR_CORRUPT,
                        "%s: file has %lld bytes but the database committed %llu; "
                        "the database is damaged, rebuild it with policy-index",
                        path, (long long)sb.st_size, (unsigned long long)len);
  void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return sys_error(err, "mmap", path);
  *out = p;
  return PS_OK;
}

int ps_store_remap(ps_store *st, uint64_t dat_len, uint64_t idx_len, ps_error *err) {
  unmap(st);
  st->dat_len = st->idx_len = 0;
  int rc = map_file(st->dat_fd, st->dat_path, dat_len, &st->dat_map, err);
  if (rc == PS_OK) st->dat_len = dat_len;
  if (rc == PS_OK) rc = map_file(st->idx_fd, st->idx_path, idx_len, &st->idx_map, err);
  if (rc == PS_OK) st->idx_len = idx_len;
  return rc;
}

int ps_store_open(const char *dir, int writable, uint64_t dat_len, uint64_t idx_len,
                  ps_store **out, ps_error *err) {
  int rc = PS_OK;
  ps_store *st = calloc(1, sizeof *st);
  *out = NULL;
  if (!st) return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  st->dat_fd = st->idx_fd = -1;
  st->writable = writable;
  snprintf(st->dat_path, sizeof st->dat_path, "%s/text.dat", dir);
  snprintf(st->idx_path, sizeof st->idx_path, "%s/text.idx", dir);
  int flags = writable ? (O_RDWR | O_CREAT) : O_RDONLY;
  st->dat_fd = open(st->dat_path, flags | O_CLOEXEC, 0644);
  if (st->dat_fd < 0 && !(errno == ENOENT && !writable && dat_len == 0)) {
    rc = sys_error(err, "open", st->dat_path);
    goto done;
  }
  st->idx_fd = open(st->idx_path, flags | O_CLOEXEC, 0644);
  if (st->idx_fd < 0 && !(errno == ENOENT && !writable && idx_len == 0)) {
    rc = sys_error(err, "open", st->idx_path);
    goto done;
  }
  if (writable) {
    /* Cut off anything written after the last commit (a crash). */
    if (ftruncate(st->dat_fd, (off_t)dat_len) != 0) {
      rc = sys_error(err, "truncate", st->dat_path);
      goto done;
    }
    if (ftruncate(st->idx_fd, (off_t)idx_len) != 0) {
      rc = sys_error(err, "truncate", st->idx_path);
      goto done;
    }
    st->dat_len = dat_len;
    st->idx_len = idx_len;
  } else if (st->dat_fd >= 0 && st->idx_fd >= 0) {
    rc = ps_store_remap(st, dat_len, idx_len, err);
  }
done:
  if (rc != PS_OK) {
    ps_store_close(st);
    return rc;
  }
  *out = st;
  return PS_OK;
}

void ps_store_close(ps_store *st) {
  if (!st) return;
  unmap(st);
  if (st->dat_fd >= 0) close(st->dat_fd);
  if (st->idx_fd >= 0) close(st->idx_fd);
  free(st->buf);
  free(st->ibuf);
  free(st->last_sec);
  free(st);
}

static int grow(unsigned char **b, size_t *cap, size_t need) {
  if (need <= *cap) return 1;
  size_t c = *cap ? *cap : 65536;
  while (c < need) c *= 2;
  unsigned char *p = realloc(*b, c);
  if (!p) return 0;
  *b = p;
  *cap = c;
  return 1;
}

static void put_u32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
  p[2] = (unsigned char)(v >> 16);
  p[3] = (unsigned char)(v >> 24);
}

static uint32_t get_u32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int write_all(int fd, const unsigned char *p, size_t n, const char *path,
                     ps_error *err) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return sys_error(err, "write", path);
    }
    p += w;
    n -= (size_t)w;
  }
  return PS_OK;
}

static int flush(ps_store *st, ps_error *err) {
  int rc = PS_OK;
  if (st->buf_len) {
    if (lseek(st->dat_fd, 0, SEEK_END) < 0) return sys_error(err, "seek", st->dat_path);
    rc = write_all(st->dat_fd, st->buf, st->buf_len, st->dat_path, err);
    st->buf_len = 0;
  }
  if (rc == PS_OK && st->ibuf_len) {
    if (lseek(st->idx_fd, 0, SEEK_END) < 0) return sys_error(err, "seek", st->idx_path);
    rc = write_all(st->idx_fd, st->ibuf, st->ibuf_len, st->idx_path, err);
    st->ibuf_len = 0;
  }
  return rc;
}

static void remember_section(ps_store *st, const char *s, size_t n, uint64_t at) {
  char *c = realloc(st->last_sec, n);
  if (!c) { /* only a missed saving */
    st->last_sec_len = 0;
    return;
  }
  memcpy(c, s, n);
  st->last_sec = c;
  st->last_sec_len = n;
  st->last_sec_at = at;
}

int ps_store_append(ps_store *st, uint32_t docid, const ps_store_rec *r, ps_error *err) {
  if (!st->writable) return ps_error_set(err, PS_ERR_USAGE, "store opened read-only");
  uint64_t slots = st->idx_len / 8;
  if (slots == 0) slots = 1; /* docid 0 does not exist in Xapian */
  if (docid != slots)
    return ps_error_set(err, PS_ERR_CORRUPT,
                        "%s: expected paragraph id %llu, Xapian gave %u; "
                        "the database is out of step, rebuild it",
                        st->idx_path, (unsigned long long)slots, docid);
  unsigned char *made = NULL;
  const unsigned char *patch = r->patch;
  size_t patch_len = r->patch_len;
  if (!patch && ps_store_patch(r->norm, r->norm_len, r->norm_map, r->text, r->text_len, &made,
                               &patch_len) != PS_OK)
    return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  if (!patch) patch = made;
  uint64_t sec_at = st->dat_len + HEADER_WORDS * 4 + r->norm_len + 1 + patch_len;
  int sec_ref = r->section_len && r->section_len == st->last_sec_len &&
                st->dat_len - st->last_sec_at < UINT32_MAX &&
                !memcmp(r->section, st->last_sec, r->section_len);
  size_t sec_bytes = sec_ref ? 0 : r->section_len + 1;
  size_t need = HEADER_WORDS * 4 + r->norm_len + 1 + patch_len + sec_bytes + r->projects_len + 1;
  size_t padded = (need + 3) & ~(size_t)3;
  if (!grow(&st->buf, &st->buf_cap, st->buf_len + padded) ||
      !grow(&st->ibuf, &st->ibuf_cap, st->ibuf_len + 16)) {
    free(made);
    return ps_error_set(err, PS_ERR_NOMEM, "out of memory");
  }
  if (st->idx_len == 0) { /* slot 0: unused */
    memset(st->ibuf + st->ibuf_len, 0, 8);
    st->ibuf_len += 8;
    st->idx_len = 8;
  }
  uint64_t off = st->dat_len;
  for (int i = 0; i < 8; i++) st->ibuf[st->ibuf_len + i] = (unsigned char)(off >> (8 * i));
  st->ibuf_len += 8;
  st->idx_len += 8;
  unsigned char *p = st->buf + st->buf_len;
  put_u32(p, r->file_no);
  put_u32(p + 4, r->para_no);
  put_u32(p + 8, r->heading_level);
  put_u32(p + 12, (uint32_t)r->norm_len);
  put_u32(p + 16, (uint32_t)r->text_len);
  put_u32(p + 20, (uint32_t)patch_len);
  put_u32(p + 24, (uint32_t)r->section_len);
  put_u32(p + 28, (uint32_t)r->projects_len);
  put_u32(p + 4 * SECTION_BACK, sec_ref ? (uint32_t)(st->dat_len - st->last_sec_at) : 0);
  p += HEADER_WORDS * 4;
  memcpy(p, r->norm, r->norm_len), p += r->norm_len, *p++ = 0;
  if (patch_len) memcpy(p, patch, patch_len), p += patch_len;
  if (!sec_ref) {
    memcpy(p, r->section, r->section_len), p += r->section_len, *p++ = 0;
    if (r->section_len) remember_section(st, r->section, r->section_len, sec_at);
  }
  if (r->projects_len) memcpy(p, r->projects, r->projects_len);
  p += r->projects_len, *p++ = 0;
  memset(p, 0, padded - need);
  free(made);
  st->buf_len += padded;
  st->dat_len += padded;
  if (st->buf_len > (8u << 20)) return flush(st, err);
  return PS_OK;
}

int ps_store_sync(ps_store *st, uint64_t *dat_len, uint64_t *idx_len, ps_error *err) {
  int rc = flush(st, err);
  if (rc == PS_OK && fdatasync(st->dat_fd) != 0) rc = sys_error(err, "sync", st->dat_path);
  if (rc == PS_OK && fdatasync(st->idx_fd) != 0) rc = sys_error(err, "sync", st->idx_path);
  *dat_len = st->dat_len;
  *idx_len = st->idx_len;
  return rc;
}

/* Where docid's record starts in text.dat (its slot in text.idx: 8 bytes,
 * little-endian); the caller checks docid against idx_len. */
static uint64_t slot_offset(const ps_store *st, uint32_t docid) {
  const unsigned char *e = st->idx_map + (size_t)docid * 8;
  uint64_t off = 0;
  for (int i = 7; i >= 0; i--) off = (off << 8) | e[i];
  return off;
}

/* Where a record's section path lies (after its header, text and patch),
 * and where its project names do (after the section, unless the section
 * refers back to an earlier record's). */
static uint64_t section_at(const unsigned char *p, uint64_t off) {
  return off + HEADER_WORDS * 4 + (uint64_t)get_u32(p + 12) + 1 + get_u32(p + 20);
}

static uint64_t projects_at(const unsigned char *p, uint64_t off) {
  return section_at(p, off) + (get_u32(p + 4 * SECTION_BACK) ? 0 : (uint64_t)get_u32(p + 24) + 1);
}

int ps_store_get(const ps_store *st, uint32_t docid, ps_store_rec *out) {
  if ((uint64_t)docid * 8 + 8 > st->idx_len || docid == 0) return PS_ERR_NOTFOUND;
  uint64_t off = slot_offset(st, docid);
  if (off + HEADER_WORDS * 4 > st->dat_len) return PS_ERR_CORRUPT;
  const unsigned char *p = st->dat_map + off;
  out->file_no = get_u32(p);
  out->para_no = get_u32(p + 4);
  out->heading_level = get_u32(p + 8);
  out->norm_len = get_u32(p + 12);
  out->text_len = get_u32(p + 16);
  out->patch_len = get_u32(p + 20);
  out->section_len = get_u32(p + 24);
  out->projects_len = get_u32(p + 28);
  uint32_t back = get_u32(p + 4 * SECTION_BACK);
  out->norm_map = NULL;
  uint64_t sec_at = section_at(p, off), proj_at = projects_at(p, off);
  if (proj_at + out->projects_len + 1 > st->dat_len) return PS_ERR_CORRUPT;
  /* (a referred section lies wholly before this record; strings of a
   * damaged file still end inside the mapping: every record ends in NULs) */
  if (back && (back > off || off - back + out->section_len >= off)) return PS_ERR_CORRUPT;
  const char *s = (const char *)p + HEADER_WORDS * 4;
  out->norm = s;
  out->text = NULL;
  out->patch = (const unsigned char *)s + out->norm_len + 1;
  out->section = (const char *)st->dat_map + (back ? off - back : sec_at);
  out->projects = (const char *)st->dat_map + proj_at;
  return PS_OK;
}

void ps_store_prefetch(const ps_store *st, uint32_t docid, int stage) {
  if ((uint64_t)docid * 8 + 8 > st->idx_len) return;
  if (stage == 0) {
    __builtin_prefetch(st->idx_map + (size_t)docid * 8);
    return;
  }
  uint64_t off = slot_offset(st, docid);
  if (off + HEADER_WORDS * 4 > st->dat_len) return;
  const unsigned char *p = st->dat_map + off;
  if (stage == 1) { /* the header and the first lines of the normalised text */
    for (size_t i = 0; i < 128 && off + i < st->dat_len; i += 64) __builtin_prefetch(p + i);
    return;
  }
  if (stage == 3) { /* the project names, after the text, its patch and the section */
    if (!get_u32(p + 28)) return;
    uint64_t at = projects_at(p, off);
    if (at < st->dat_len) __builtin_prefetch(st->dat_map + at);
    return;
  }
  /* the rest of the normalised text (what a scan for a word reads) */
  uint64_t end = off + HEADER_WORDS * 4 + get_u32(p + 12);
  if (end > st->dat_len) end = st->dat_len;
  if (end > off + 2048) end = off + 2048;
  for (uint64_t a = (off + 128) & ~(uint64_t)63; a < end; a += 64) __builtin_prefetch(st->dat_map + a);
}

uint32_t ps_store_slots(const ps_store *st) { return (uint32_t)(st->idx_len / 8); }
uint64_t ps_store_bytes(const ps_store *st) { return st->dat_len; }
