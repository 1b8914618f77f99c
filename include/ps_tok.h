/* ps_tok.h: the normaliser and tokenizer, shared by indexing and querying so
 * that the two can never disagree.
 *
 * Normalisation (per character, so every output byte maps back to the text
 * as written): NFKC compatibility folding through utf8proc (full-width ASCII
 * letters, digits and punctuation become half-width, Kangxi radicals become
 * ideographs, circled digits become digits), Unicode case folding, removal of
 * format characters, and whitespace handling: a run of whitespace survives as
 * one ASCII space only between two letters/digits ("hello world"); anywhere
 * else (between CJK characters, between CJK and digits, next to punctuation)
 * it is removed, which undoes the spaces PDF extraction inserts ("2024 年" and
 * "2024年", "高 标准农田" and "高标准农田" are the same).
 *
 * Character classes of normalised text:
 *   CJK    ideographs, kana, hangul, 〇 and friends: matched as substrings;
 *   token  letters and digits of other scripts, and '.' between two digits:
 *          matched as whole tokens ("ai" is not in "mail", "5" is not in
 *          "15" nor in "5.5");
 *   other  punctuation, symbols: matched literally, never indexed.
 *
 * Index terms: every CJK character (unigram) and every pair of adjacent CJK
 * characters (bigram) of each CJK run, and every token (truncated to
 * PS_TOK_MAX_TERM bytes).  No positions: exactness comes from verifying
 * candidates with ps_tok_find.  PS_TOK_SCHEME names this contract; a change
 * to anything above must change it (the database refuses to mix schemes). */
#ifndef PS_TOK_H
#define PS_TOK_H

#include <stddef.h>
#include <stdint.h>
#include "ps_error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PS_TOK_SCHEME "ps-bigram-unigram-nopos-3"
#define PS_TOK_MAX_TERM 120

/* Normalised text.  map (when requested) has len + 1 entries: map[i] is the
 * byte offset, in the original, of the character that produced byte i;
 * map[len] is the original length. */
typedef struct ps_norm {
  char *text;     /* NUL-terminated, owned */
  size_t len;
  uint32_t *map;  /* owned, NULL unless requested */
} ps_norm;

/* Makes sure the process has its traditional->simplified table, building
 * it from OpenCC's t2s conversion when no database gave one (see
 * ps_tok_t2s_adopt).  Fails with a message saying what to install;
 * normalising without it would disagree with the index, so databases without
 * a stored table refuse to open then.  Thread-safe; ps_tok_normalize calls
 * it implicitly. */
int ps_tok_init(ps_error *err);

/* The table in use (built as ps_tok_init does if there is none yet) as a
 * NUL-terminated string for a database to store: a header line, then each
 * character that changes followed by what it becomes.  The caller frees
 * *out. */
int ps_tok_t2s_export(char **out, ps_error *err);

/* Makes the process normalise with the table s[0..len) that a database
 * stored, so that it is searched exactly as it was built, whatever OpenCC
 * is installed (or missing) now.  A process has one table: once it has one,
 * adopting another fails with PS_ERR_SCHEME (PS_OK when they are equal), so
 * call this before normalising anything.  PS_ERR_CORRUPT when s is not a
 * table.  Thread-safe. */
int ps_tok_t2s_adopt(const char *s, size_t len, ps_error *err);

/* Normalises in[0..len) (UTF-8; invalid bytes become U+FFFD) into out, which
 * the caller releases with ps_norm_free.  PS_OK or PS_ERR_NOMEM. */
int ps_tok_normalize(const char *in, size_t len, int want_map, ps_norm *out);

/* Releases what out owns (not out itself).  Accepts NULL. */
void ps_norm_free(ps_norm *n);

/* Called once per term; a non-zero return stops the walk and is returned. */
typedef int (*ps_tok_term_fn)(void *ctx, const char *term, size_t len);

/* Walks the index terms of normalised text (see above), in text order, with
 * repetitions (the count of a term is its within-paragraph frequency). */
int ps_tok_index_terms(const char *norm, size_t len, ps_tok_term_fn fn, void *ctx);

/* Walks the terms that every paragraph containing the normalised query q
 * must have: the bigrams of each CJK run of two or more characters, the
 * unigram of a one-character run, and each token.  Returns what fn returned,
 * or PS_OK.  *exact (may be NULL) is set to 1 when the presence of those
 * terms alone proves a match (q is one CJK character, two CJK characters, or
 * one whole token), so candidates need no verification. */
int ps_tok_query_terms(const char *q, size_t qlen, ps_tok_term_fn fn, void *ctx,
                       int *exact);

/* Finds the first match of normalised q in normalised text at or after byte
 * from: an occurrence that does not cut a token of the text (see above).
 * Returns its byte offset, or (size_t)-1.  This is the matching contract:
 * search results are exactly the paragraphs where it finds q. */
size_t ps_tok_find(const char *text, size_t tlen, const char *q, size_t qlen,
                   size_t from);

/* Character class of code point cp in normalised text. */
enum { PS_TOK_OTHER = 0, PS_TOK_CJK = 1, PS_TOK_ALNUM = 2, PS_TOK_SPACE = 3 };
int ps_tok_class(int32_t cp);

/* Decodes one UTF-8 character at s[0..len) (len >= 1) into *cp; returns its
 * byte length (invalid bytes: 1, with *cp = U+FFFD). */
size_t ps_tok_decode(const char *s, size_t len, int32_t *cp);

#ifdef __cplusplus
}
#endif
#endif
