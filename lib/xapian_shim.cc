// xapian_shim.cc: implements ps_xapian.h, the C API over Xapian 1.4.
//
// Every entry point is wrapped in GUARD, which catches Xapian::Error,
// std::exception and anything else and records a message in the handle:
// no exception ever reaches C code.  Writable handles keep an unflushed
// transaction open at all times, so Xapian never commits on its own (its
// automatic flush could otherwise commit half a source file) and closing a
// handle discards what was not committed.
#include "ps_xapian.h"

#include <xapian.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

struct ps_xdb {
  Xapian::Database *rdb = nullptr;        // for readers
  Xapian::WritableDatabase *wdb = nullptr; // for writers (also used as rdb)
  bool remote = false;                     // a remote database, or a combination with one
  bool combined = false;                   // shares its parts' databases: never close() them
  bool modified = false;                   // a read failed with DatabaseModifiedError
  std::vector<ps_xdb *> parts;             // combined: the handles it shares
  std::string errmsg;
  Xapian::Database &db() { return wdb ? *wdb : *rdb; }
};

struct ps_xdoc {
  Xapian::Document doc;
};

struct ps_xq {
  Xapian::Query q;
};

namespace {

int classify(const Xapian::Error &e) {
  std::string type = e.get_type();
  if (type == "DatabaseLockError") return PS_ERR_LOCKED;
  if (type == "DatabaseNotFoundError" || type == "DatabaseOpeningError") return PS_ERR_NOTFOUND;
  if (type == "DatabaseCorruptError") return PS_ERR_CORRUPT;
  if (type == "DatabaseModifiedError") return PS_ERR_RETRY;
  if (type == "DocNotFoundError") return PS_ERR_NOTFOUND;
  if (type == "InvalidArgumentError") return PS_ERR_USAGE;
  return PS_ERR_XAPIAN;
}

std::string describe(const Xapian::Error &e) {
  std::string m = std::string(e.get_type()) + ": " + e.get_msg();
  if (e.get_error_string()) m += std::string(" (") + e.get_error_string() + ")";
  return m;
}

void set_msg(ps_xdb *db, const std::string &m) {
  if (!db) return;
  try {
    db->errmsg = m;
  } catch (...) {
    db->errmsg.clear();
  }
}

int copy_out(const std::string &s, char **out, size_t *len) {
  char *p = static_cast<char *>(std::malloc(s.size() + 1));
  if (!p) return PS_ERR_NOMEM;
  std::memcpy(p, s.data(), s.size());
  p[s.size()] = '\0';
  *out = p;
  if (len) *len = s.size();
  return PS_OK;
}

}  // namespace

// A reader that met DatabaseModifiedError (a commit overwrote blocks of
// its revision) may have tables at two revisions: postings of paragraphs it
// does not know yet, beyond its text store.  Every later call fails the same
// way until ps_xdb_reopen, so that no caller can go on with it by ignoring
// one error (a term frequency that was only an estimate, say).
int refuse_modified(ps_xdb *db) {
  if (!db) return PS_OK;
  bool m = db->modified; /* (a combination: any of its parts, reopened one by one) */
  for (const ps_xdb *part : db->parts) m = m || part->modified;
  if (!m) return PS_OK;
  set_msg(db, "DatabaseModifiedError: the database changed under this handle; reopen it");
  return PS_ERR_RETRY;
}

void mark_modified(ps_xdb *db) {
  db->modified = db->parts.empty();
  for (ps_xdb *part : db->parts) part->modified = true; /* (which one moved is unknown) */
}

// Runs body; converts any exception into a status code and a message in db.
#define GUARD(db, body)                                              \
  GUARD_OPEN(db, {                                                   \
    if (int refused_ = refuse_modified(db)) return refused_;         \
    body                                                             \
  })

// GUARD without the check of a modified handle (ps_xdb_reopen).
#define GUARD_OPEN(db, body)                                         \
  try {                                                              \
    if (db) (db)->errmsg.clear();                                    \
    body                                                             \
  } catch (const Xapian::Error &e) {                                 \
    set_msg(db, describe(e));                                        \
    int code_ = classify(e);                                         \
    if (db && code_ == PS_ERR_RETRY) mark_modified(db);              \
    return code_;                                                    \
  } catch (const std::bad_alloc &) {                                 \
    set_msg(db, "out of memory");                                    \
    return PS_ERR_NOMEM;                                             \
  } catch (const std::exception &e) {                                \
    set_msg(db, std::string("error: ") + e.what());                  \
    return PS_ERR_XAPIAN;                                            \
  } catch (...) {                                                    \
    set_msg(db, "unknown error in Xapian");                          \
    return PS_ERR_XAPIAN;                                            \
  }

// Same for functions without a handle, which can only fail by running out
// of memory or being misused: they return NULL / an error code.
#define GUARD_NULL(body) \
  try {                  \
    body                 \
  } catch (...) {        \
    return nullptr;      \
  }

extern "C" {

int ps_xdb_open(const char *path, int mode, int flags, ps_xdb **out) {
  ps_xdb *db = new (std::nothrow) ps_xdb;
  *out = db;
  if (!db) return PS_ERR_NOMEM;
  GUARD(db, {
    if (mode == PS_XDB_READ) {
      db->rdb = new Xapian::Database(path);
    } else {
      int xf = (mode == PS_XDB_WRITE_CREATE) ? Xapian::DB_CREATE_OR_OPEN : Xapian::DB_OPEN;
      if (flags & PS_XDB_NO_TERMLIST) xf |= Xapian::DB_NO_TERMLIST;
      if (flags & PS_XDB_NO_SYNC) xf |= Xapian::DB_NO_SYNC;
      db->wdb = new Xapian::WritableDatabase(path, xf | Xapian::DB_BACKEND_GLASS);
      db->wdb->begin_transaction(false);
    }
    return PS_OK;
  })
}

int ps_xdb_open_remote(const char *host, unsigned port, unsigned timeout_ms, ps_xdb **out) {
  ps_xdb *db = new (std::nothrow) ps_xdb;
  *out = db;
  if (!db) return PS_ERR_NOMEM;
  GUARD(db, {
    db->remote = true;
    unsigned t = timeout_ms ? timeout_ms : 10000;
    db->rdb = new Xapian::Database(Xapian::Remote::open(host, port, t, t));
    return PS_OK;
  })
}

int ps_xdb_combine(ps_xdb *const *parts, size_t n, ps_xdb **out) {
  ps_xdb *db = new (std::nothrow) ps_xdb;
  *out = db;
  if (!db) return PS_ERR_NOMEM;
  GUARD(db, {
    db->combined = true;
    db->rdb = new Xapian::Database();
    for (size_t i = 0; i < n; i++) {
      db->rdb->add_database(parts[i]->db());
      db->remote = db->remote || parts[i]->remote;
      db->parts.push_back(parts[i]);
    }
    return PS_OK;
  })
}

int ps_xdb_is_remote(const ps_xdb *db) { return db && db->remote; }

void ps_xdb_close(ps_xdb *db) {
  if (!db) return;
  try {
    if (db->wdb) {
      // Discard what was not committed: cancel the open transaction
      // explicitly rather than trusting the destructor.
      try {
        db->wdb->cancel_transaction();
      } catch (...) {
      }
      db->wdb->close();
    }
    if (db->rdb && !db->combined) db->rdb->close();
  } catch (...) {
  }
  delete db->wdb;
  delete db->rdb;
  delete db;
}

const char *ps_xdb_errmsg(const ps_xdb *db) {
  return db ? db->errmsg.c_str() : "out of memory";
}

int ps_xdb_reopen(ps_xdb *db, int *changed) {
  GUARD_OPEN(db, {
    bool c = db->db().reopen();
    if (changed) *changed = c || db->modified ? 1 : 0;
    db->modified = false;
    return PS_OK;
  })
}

int ps_xdb_commit(ps_xdb *db) {
  GUARD(db, {
    if (!db->wdb) {
      set_msg(db, "commit on a database opened read-only");
      return PS_ERR_USAGE;
    }
    db->wdb->commit_transaction();
    db->wdb->commit();
    db->wdb->begin_transaction(false);
    return PS_OK;
  })
}

int ps_xdb_stats_get(ps_xdb *db, ps_xdb_stats *out) {
  GUARD(db, {
    Xapian::Database &d = db->db();
    out->doccount = d.get_doccount();
    out->lastdocid = d.get_lastdocid();
    out->avlength = d.get_avlength();
    return PS_OK;
  })
}

ps_xdoc *ps_xdoc_new(void) { GUARD_NULL({ return new ps_xdoc; }) }

void ps_xdoc_free(ps_xdoc *doc) { delete doc; }

void ps_xdoc_clear(ps_xdoc *doc) {
  try {
    doc->doc = Xapian::Document();
  } catch (...) {
  }
}

#define DOC_GUARD(body)                   \
  try {                                   \
    body                                  \
  } catch (const std::bad_alloc &) {      \
    return PS_ERR_NOMEM;                  \
  } catch (...) {                         \
    return PS_ERR_USAGE;                  \
  }

int ps_xdoc_add_term(ps_xdoc *doc, const char *term, size_t len, unsigned wdf) {
  DOC_GUARD({
    if (len == 0 || len > 245) return PS_ERR_USAGE;
    if (wdf == 0)
      doc->doc.add_boolean_term(std::string(term, len));
    else
      doc->doc.add_term(std::string(term, len), wdf);
    return PS_OK;
  })
}

int ps_xdoc_add_posting(ps_xdoc *doc, const char *term, size_t len, unsigned pos) {
  DOC_GUARD({
    if (len == 0 || len > 245) return PS_ERR_USAGE;
    doc->doc.add_posting(std::string(term, len), pos);
    return PS_OK;
  })
}

int ps_xdoc_set_value(ps_xdoc *doc, unsigned slot, const char *val, size_t len) {
  DOC_GUARD({
    doc->doc.add_value(slot, std::string(val, len));
    return PS_OK;
  })
}

int ps_xdoc_set_data(ps_xdoc *doc, const char *data, size_t len) {
  DOC_GUARD({
    doc->doc.set_data(std::string(data, len));
    return PS_OK;
  })
}

static int need_writer(ps_xdb *db) {
  if (db->wdb) return PS_OK;
  set_msg(db, "database is opened read-only");
  return PS_ERR_USAGE;
}

int ps_xdb_add(ps_xdb *db, const ps_xdoc *doc, unsigned *docid) {
  GUARD(db, {
    int rc = need_writer(db);
    if (rc) return rc;
    Xapian::docid id = db->wdb->add_document(doc->doc);
    if (docid) *docid = id;
    return PS_OK;
  })
}

int ps_xdb_replace(ps_xdb *db, unsigned docid, const ps_xdoc *doc) {
  GUARD(db, {
    int rc = need_writer(db);
    if (rc) return rc;
    db->wdb->replace_document(docid, doc->doc);
    return PS_OK;
  })
}

int ps_xdb_delete(ps_xdb *db, unsigned docid) {
  GUARD(db, {
    int rc = need_writer(db);
    if (rc) return rc;
    db->wdb->delete_document(docid);
    return PS_OK;
  })
}

int ps_xdb_get_data(ps_xdb *db, unsigned docid, char **out, size_t *len) {
  GUARD(db, { return copy_out(db->db().get_document(docid).get_data(), out, len); })
}

int ps_xdb_get_value(ps_xdb *db, unsigned docid, unsigned slot, char **out, size_t *len) {
  GUARD(db, { return copy_out(db->db().get_document(docid).get_value(slot), out, len); })
}

int ps_xdb_get_metadata(ps_xdb *db, const char *key, char **out, size_t *len) {
  GUARD(db, { return copy_out(db->db().get_metadata(key), out, len); })
}

int ps_xdb_set_metadata(ps_xdb *db, const char *key, const char *val, size_t len) {
  GUARD(db, {
    int rc = need_writer(db);
    if (rc) return rc;
    db->wdb->set_metadata(key, std::string(val, len));
    return PS_OK;
  })
}

int ps_xdb_metadata_keys(ps_xdb *db, const char *prefix, ps_xdb_key_fn fn, void *ctx) {
  GUARD(db, {
    Xapian::Database &d = db->db();
    for (auto it = d.metadata_keys_begin(prefix); it != d.metadata_keys_end(prefix); ++it) {
      const std::string &k = *it;
      int rc = fn(ctx, k.data(), k.size());
      if (rc) return rc;
    }
    return PS_OK;
  })
}

int ps_xdb_termfreq(ps_xdb *db, const char *term, size_t len, unsigned *out) {
  GUARD(db, {
    *out = db->db().get_termfreq(std::string(term, len));
    return PS_OK;
  })
}

int ps_xdb_termfreqs(ps_xdb *db, const char *const *terms, const size_t *lens, size_t n,
                     unsigned *out) {
  GUARD(db, {
    Xapian::Database &d = db->db();
    if (!db->remote) {
      for (size_t i = 0; i < n; i++) out[i] = d.get_termfreq(std::string(terms[i], lens[i]));
      return PS_OK;
    }
    // Remote: each get_termfreq is a round trip to every server; the
    // statistics of one (empty) match bring them all at once.
    const size_t chunk = 1024;
    for (size_t i = 0; i < n; i += chunk) {
      size_t m = n - i < chunk ? n - i : chunk;
      std::vector<Xapian::Query> v;
      v.reserve(m);
      for (size_t k = 0; k < m; k++) v.emplace_back(std::string(terms[i + k], lens[i + k]));
      Xapian::Enquire enq(d);
      enq.set_query(Xapian::Query(Xapian::Query::OP_OR, v.begin(), v.end()));
      enq.set_weighting_scheme(Xapian::BoolWeight());
      Xapian::MSet ms = enq.get_mset(0, 0);
      for (size_t k = 0; k < m; k++)
        out[i + k] = ms.get_termfreq(std::string(terms[i + k], lens[i + k]));
    }
    return PS_OK;
  })
}

int ps_xdb_allterms(ps_xdb *db, const char *prefix, size_t len, ps_xdb_term_fn fn,
                    void *ctx) {
  GUARD(db, {
    Xapian::Database &d = db->db();
    std::string p(prefix, len);
    for (auto it = d.allterms_begin(p); it != d.allterms_end(p); ++it) {
      const std::string &t = *it;
      int rc = fn(ctx, t.data(), t.size(), it.get_termfreq());
      if (rc) return rc;
    }
    return PS_OK;
  })
}

int ps_xdb_postings(ps_xdb *db, const char *term, size_t len, ps_xdb_posting_fn fn,
                    void *ctx) {
  GUARD(db, {
    Xapian::Database &d = db->db();
    std::string t(term, len);
    for (auto it = d.postlist_begin(t); it != d.postlist_end(t); ++it) {
      int rc = fn(ctx, *it, it.get_wdf());
      if (rc) return rc;
    }
    return PS_OK;
  })
}

int ps_xdb_values(ps_xdb *db, unsigned slot, const unsigned *docids, size_t n,
                  ps_xdb_value_fn fn, void *ctx) {
  GUARD(db, {
    Xapian::Database &d = db->db();
    Xapian::ValueIterator it = d.valuestream_begin(slot);
    const Xapian::ValueIterator end = d.valuestream_end(slot);
    for (size_t i = 0; i < n && it != end; i++) {
      if (it.get_docid() < docids[i]) it.skip_to(docids[i]);
      if (it == end) break;
      if (it.get_docid() != docids[i]) continue;
      const std::string v = *it;
      int rc = fn(ctx, docids[i], v.data(), v.size());
      if (rc) return rc;
    }
    return PS_OK;
  })
}

ps_xq *ps_xq_term(const char *term, size_t len, unsigned wqf) {
  GUARD_NULL({ return new ps_xq{Xapian::Query(std::string(term, len), wqf ? wqf : 1)}; })
}

ps_xq *ps_xq_wildcard(const char *prefix, size_t len) {
  GUARD_NULL({
    return new ps_xq{Xapian::Query(Xapian::Query::OP_WILDCARD, std::string(prefix, len))};
  })
}

ps_xq *ps_xq_match_all(void) { GUARD_NULL({ return new ps_xq{Xapian::Query::MatchAll}; }) }

void ps_xq_free(ps_xq *q) { delete q; }

ps_xq *ps_xq_op(int op, ps_xq **subs, size_t n, unsigned window) {
  ps_xq *res = nullptr;
  try {
    bool ok = true;
    std::vector<Xapian::Query> v;
    v.reserve(n);
    for (size_t i = 0; i < n; i++) {
      if (!subs[i]) ok = false;
      else v.push_back(subs[i]->q);
    }
    if (ok) {
      Xapian::Query::op xop;
      switch (op) {
        case PS_XQ_AND: xop = Xapian::Query::OP_AND; break;
        case PS_XQ_OR: xop = Xapian::Query::OP_OR; break;
        case PS_XQ_AND_NOT: xop = Xapian::Query::OP_AND_NOT; break;
        case PS_XQ_PHRASE: xop = Xapian::Query::OP_PHRASE; break;
        case PS_XQ_NEAR: xop = Xapian::Query::OP_NEAR; break;
        case PS_XQ_AND_MAYBE: xop = Xapian::Query::OP_AND_MAYBE; break;
        case PS_XQ_FILTER: xop = Xapian::Query::OP_FILTER; break;
        default: xop = Xapian::Query::OP_AND; ok = false;
      }
      if (ok) res = new ps_xq{Xapian::Query(xop, v.begin(), v.end(), window)};
    }
  } catch (...) {
    res = nullptr;
  }
  for (size_t i = 0; i < n; i++) delete subs[i];
  return res;
}

ps_xq *ps_xq_scale(ps_xq *sub, double factor) {
  ps_xq *res = nullptr;
  try {
    if (sub) res = new ps_xq{Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, sub->q, factor)};
  } catch (...) {
    res = nullptr;
  }
  delete sub;
  return res;
}

char *ps_xq_describe(const ps_xq *q) {
  try {
    char *out = nullptr;
    if (copy_out(q->q.get_description(), &out, nullptr) != PS_OK) return nullptr;
    return out;
  } catch (...) {
    return nullptr;
  }
}

void ps_xsearch_init(ps_xsearch *s) {
  std::memset(s, 0, sizeof *s);
  s->max = 10;
  s->sort_slot = -1;
}

namespace {
// The documents of a fixed set of docids (ps_xsearch.only), as a posting
// source for OP_FILTER.  On a combined database Xapian 1.4 gives a clone
// of the source to each part in turn (init with that part alone, docids
// local to it), without saying which part it is: the part is recognised
// by its UUID, and the set is kept per part in local docids (docid d of
// the combination is docid (d-1)/n+1 of part (d-1)%n).
class DocSetSource : public Xapian::PostingSource {
 public:
  struct Sets {
    std::vector<std::string> uuids;                 // per part (none: one database)
    std::vector<std::vector<Xapian::docid>> local;  // per part, ascending
  };
  explicit DocSetSource(std::shared_ptr<const Sets> sets) : sets_(std::move(sets)) {}
  Xapian::doccount get_termfreq_min() const override { return size(); }
  Xapian::doccount get_termfreq_est() const override { return size(); }
  Xapian::doccount get_termfreq_max() const override { return size(); }
  Xapian::docid get_docid() const override { return (*ids_)[pos_]; }
  void next(double) override {
    if (started_) ++pos_;
    started_ = true;
  }
  void skip_to(Xapian::docid did, double) override {
    size_t from = started_ ? pos_ : 0;
    started_ = true;
    pos_ = static_cast<size_t>(std::lower_bound(ids_->begin() + from, ids_->end(), did) -
                               ids_->begin());
  }
  bool at_end() const override { return started_ && pos_ >= ids_->size(); }
  Xapian::PostingSource *clone() const override { return new DocSetSource(sets_); }
  void init(const Xapian::Database &db) override {
    size_t part = 0;
    if (sets_->uuids.size() > 1) {
      const std::string u = db.get_uuid();
      auto it = std::find(sets_->uuids.begin(), sets_->uuids.end(), u);
      if (it == sets_->uuids.end())
        throw Xapian::InvalidArgumentError("a part of the combined database is not known");
      part = static_cast<size_t>(it - sets_->uuids.begin());
    }
    ids_ = &sets_->local[part];
    pos_ = 0;
    started_ = false;
  }

 private:
  Xapian::doccount size() const { return ids_ ? static_cast<Xapian::doccount>(ids_->size()) : 0; }
  std::shared_ptr<const Sets> sets_;
  const std::vector<Xapian::docid> *ids_ = nullptr;
  size_t pos_ = 0;
  bool started_ = false;
};

// s->query restricted to s->only (see DocSetSource); PS_OK or
// PS_ERR_USAGE (a remote database; parts with the same UUID).
int only_query(ps_xdb *db, const ps_xsearch *s, Xapian::Query *out,
               std::shared_ptr<const DocSetSource::Sets> *kept) {
  auto sets = std::make_shared<DocSetSource::Sets>();
  size_t n = db->combined ? db->parts.size() : 1;
  if (db->remote || n == 0) {
    set_msg(db, "internal: a docid filter on a remote database");
    return PS_ERR_USAGE;
  }
  if (db->combined)
    for (ps_xdb *part : db->parts) {
      std::string u = part->db().get_uuid();
      if (u.empty() || std::find(sets->uuids.begin(), sets->uuids.end(), u) != sets->uuids.end()) {
        set_msg(db, "two shards have the same UUID (one is a copy of the other): "
                    "rebuild one of them");
        return PS_ERR_USAGE;
      }
      sets->uuids.push_back(u);
    }
  sets->local.resize(n);
  for (size_t i = 0; i < s->n_only; i++)
    if (s->only[i]) sets->local[(s->only[i] - 1) % n].push_back((s->only[i] - 1) / n + 1);
  DocSetSource src(sets); /* (the query keeps a clone) */
  *out = Xapian::Query(Xapian::Query::OP_FILTER, s->query->q, Xapian::Query(src.clone()->release()));
  *kept = sets;
  return PS_OK;
}

class CDecider : public Xapian::MatchDecider {
 public:
  CDecider(ps_xdecider_fn fn, void *ctx) : fn_(fn), ctx_(ctx) {}
  bool operator()(const Xapian::Document &doc) const override {
    return fn_(ctx_, doc.get_docid()) != 0;
  }

 private:
  ps_xdecider_fn fn_;
  void *ctx_;
};

// The best `cap` matches by relevance, as Xapian's MSet orders them
// (heavier first, then smaller docid), kept from what a match spy sees.
// Not a heap: a candidate better than the worst kept so far is appended,
// and when 2 * cap are there the best cap are selected (nth_element) and
// the floor raised, so that each costs O(1) amortised where a heap's
// pop and push cost two walks of log2(cap) levels.
class BestSpy : public Xapian::MatchSpy {
 public:
  size_t cap = 0;
  std::vector<ps_xmatch> kept;
  struct Better { /* (a type, not a function pointer: inlined) */
    bool operator()(const ps_xmatch &a, const ps_xmatch &b) const {
      return a.weight > b.weight || (a.weight == b.weight && a.docid < b.docid);
    }
  };
  static constexpr Better better{};
  ps_xmatch floor{0, 0};
  bool full = false; /* floor is the worst of cap kept ones */
  /* On a combined database the spy sees each shard's local docids, without
   * the shard.  With a docid filter (ps_xsearch.only) whose every docid
   * matches, Xapian 1.4 walks the shards one after the other, each in
   * docid order, so the k-th document seen is known: the filter's docids
   * in that order.  Each one is checked against that expectation, and at
   * the end every filtered docid must have been seen; anything else (a
   * filtered docid that does not match, another walk order) sets `lost`,
   * and the search is made again without the spy. */
  std::shared_ptr<const DocSetSource::Sets> map;
  size_t shard = 0, pos = 0;
  bool lost = false;
  // Past the shards whose docids were all seen; false after the last.
  bool next_expected() {
    const auto &local = map->local;
    while (shard < local.size() && pos >= local[shard].size()) shard++, pos = 0;
    return shard < local.size();
  }
  void check_end() {
    if (map && next_expected()) lost = true;
  }
  void operator()(const Xapian::Document &doc, double wt) override {
    Xapian::docid did = doc.get_docid();
    if (map) {
      const auto &local = map->local;
      if (lost || !next_expected() || local[shard][pos] != did) {
        lost = true;
        return;
      }
      pos++;
      did = (did - 1) * static_cast<Xapian::docid>(local.size()) +
            static_cast<Xapian::docid>(shard) + 1;
    }
    ps_xmatch c{did, wt};
    if (!cap || (full && !better(c, floor))) return;
    kept.push_back(c);
    if (kept.size() == 2 * cap) select();
  }
  void select() {
    std::nth_element(kept.begin(), kept.begin() + (cap - 1), kept.end(), better);
    kept.resize(cap);
    floor = kept[cap - 1];
    full = true;
  }
  // The best cap, best first.
  void finish() {
    if (kept.size() > cap) select();
    std::sort(kept.begin(), kept.end(), better);
  }
};

// A decider cannot run inside the match of a combined database: over the
// remote backend Xapian refuses it ("not supported for the remote
// backend"), and over local shards 1.4 hands it each shard's own docid
// (Document::get_docid() of the shard, not of the combination), which does
// not say which shard the document is in.  So it runs here instead: every
// candidate comes back in Xapian's order (all of them, so that the total
// stays the exact number the decider accepts) and the accepted ones are
// paged here.  Same results as a decider inside the match; the cost is an
// MSet of every candidate (shipped from the servers for remote shards).
int search_deciding_here(ps_xdb *db, Xapian::Database &d, Xapian::Enquire &enq,
                         const ps_xsearch *s, ps_xresult *out) {
  Xapian::doccount all = d.get_doccount();
  /* A caller that does not need the total (check_at_least given) needs the
   * first `want` accepted ones only: the best candidates are fetched by
   * the batch, a larger one while too few of them were accepted (Xapian's
   * order is total, weight then docid, so a batch is the start of the full
   * list; the decider then sees some candidates again and must give the
   * same answer).  2 local shards, 100 MB, top 10 of 通武廊 (9,760
   * candidates): an MSet of 128 instead of all of them. */
  Xapian::doccount want = s->first + s->max < s->first ? all : s->first + s->max;
  Xapian::doccount batch = s->check_at_least && want < all / 4 ? want * 2 + 64 : all;
  for (;; batch *= 4) {
    if (batch >= all) batch = all;
    Xapian::MSet m = enq.get_mset(0, batch ? batch : 1, batch == all ? all : 0);
    bool whole = batch == all || m.size() < batch; /* every candidate is in m */
    size_t cap = m.size() < s->max ? m.size() : s->max, n = 0;
    unsigned accepted = 0;
    std::free(out->matches);
    out->matches = nullptr;
    if (cap) {
      out->matches = static_cast<ps_xmatch *>(std::calloc(cap, sizeof(ps_xmatch)));
      if (!out->matches) {
        set_msg(db, "out of memory");
        return PS_ERR_NOMEM;
      }
    }
    for (auto it = m.begin(); it != m.end() && (whole || accepted < want); ++it) {
      if (!s->decider(s->decider_ctx, *it)) continue;
      if (accepted++ >= s->first && n < cap) {
        out->matches[n].docid = *it;
        out->matches[n].weight = it.get_weight();
        n++;
      }
    }
    if (!whole && accepted < want) continue;
    out->n = n;
    out->total_lower = out->total_estimate = accepted;
    out->total_upper = whole ? accepted : m.get_matches_upper_bound();
    return PS_OK;
  }
}
}  // namespace

int ps_xdb_search(ps_xdb *db, const ps_xsearch *s, ps_xresult *out) {
  std::memset(out, 0, sizeof *out);
  GUARD(db, {
    Xapian::Database &d = db->db();
    BestSpy best; /* (outlives enq, which points to it) */
    Xapian::Enquire enq(d);
    std::shared_ptr<const DocSetSource::Sets> only_sets;
    if (s->only) {
      Xapian::Query q;
      if (int rc = only_query(db, s, &q, &only_sets)) return rc;
      enq.set_query(q);
    } else {
      enq.set_query(s->query->q);
    }
    if (s->weighting == PS_XW_BOOL) {
      enq.set_weighting_scheme(Xapian::BoolWeight());
    } else if (s->weighting == PS_XW_COORD) {
      enq.set_weighting_scheme(Xapian::CoordWeight());
    } else if (s->k1 != 0 || s->b != 0) {
      enq.set_weighting_scheme(
          Xapian::BM25Weight(s->k1, s->k2, s->k3 != 0 ? s->k3 : 1, s->b, s->min_normlen));
    }
    if (s->sort_slot >= 0) {
      enq.set_sort_by_value_then_relevance(static_cast<Xapian::valueno>(s->sort_slot),
                                           s->sort_descending != 0);
    }
    enq.set_docid_order(Xapian::Enquire::ASCENDING);
    if (s->min_weight > 0) enq.set_cutoff(0, s->min_weight);
    Xapian::doccount check = s->check_at_least;
    if (check == 0) check = d.get_doccount();
    if (s->decider && (db->remote || db->combined))
      return search_deciding_here(db, d, enq, s, out);
    if (s->decider && !s->only && s->max == 0 && s->weighting == PS_XW_BOOL &&
        s->min_weight <= 0 && s->query->q.get_type() == Xapian::Query::LEAF_TERM) {
      /* Every candidate of one term offered to the decider, in docid order:
       * what the matcher does for this query, without a document object
       * and two virtual calls per candidate (4,743 postings: 0.17 -> 0.07
       * ms).  Counting a verified name walks its rarest term alone. */
      const std::string t = *s->query->q.get_terms_begin();
      unsigned accepted = 0;
      for (auto it = d.postlist_begin(t); it != d.postlist_end(t); ++it)
        accepted += s->decider(s->decider_ctx, *it) != 0;
      out->total_lower = out->total_estimate = out->total_upper = accepted;
      return PS_OK;
    }
    CDecider dec(s->decider, s->decider_ctx);
    bool flat = s->flat_top && !db->remote && (!db->combined || (only_sets && !s->decider)) &&
                s->sort_slot < 0 && s->first == 0;
    if (flat) {
      best.cap = s->max;
      if (db->combined) best.map = only_sets;
      enq.add_matchspy(&best);
      check = d.get_doccount(); /* no weight floor: the spy sees every match */
    }
    Xapian::MSet m = enq.get_mset(s->first, flat ? 0 : s->max, check, nullptr,
                                  s->decider ? &dec : nullptr);
    if (flat) best.check_end();
    if (flat && best.lost) { /* (see BestSpy.map) */
      enq.clear_matchspies();
      flat = false;
      m = enq.get_mset(s->first, s->max, s->check_at_least ? s->check_at_least
                                                            : d.get_doccount(),
                       nullptr, s->decider ? &dec : nullptr);
    }
    if (flat) best.finish();
    size_t n = flat ? best.kept.size() : m.size();
    if (n) {
      out->matches = static_cast<ps_xmatch *>(std::calloc(n, sizeof(ps_xmatch)));
      if (!out->matches) {
        set_msg(db, "out of memory");
        return PS_ERR_NOMEM;
      }
    }
    if (flat) {
      std::copy(best.kept.begin(), best.kept.end(), out->matches);
    } else {
      size_t i = 0;
      for (auto it = m.begin(); it != m.end(); ++it, ++i) {
        out->matches[i].docid = *it;
        out->matches[i].weight = it.get_weight();
      }
    }
    out->n = n;
    out->total_lower = m.get_matches_lower_bound();
    out->total_estimate = m.get_matches_estimated();
    out->total_upper = m.get_matches_upper_bound();
    return PS_OK;
  })
}

void ps_xresult_free(ps_xresult *r) {
  if (!r) return;
  std::free(r->matches);
  r->matches = nullptr;
  r->n = 0;
}

int ps_xdb_compact(ps_xdb *db, const char *dest) {
  GUARD(db, {
    db->db().compact(dest, Xapian::DBCOMPACT_NO_RENUMBER);
    return PS_OK;
  })
}

int ps_xdb_merge(ps_xdb *db, const char *const *paths, size_t n, const char *dest) {
  GUARD(db, {
    // A combination of db's databases and the others: compact() of it is
    // a k-way merge of their tables.  Renumbering (checked on 1.4.22):
    // each source's used docids are shifted to follow the previous
    // source's last used one, the first source's so that they start at 1.
    Xapian::Database all(db->db());
    for (size_t i = 0; i < n; i++) all.add_database(Xapian::Database(paths[i]));
    all.compact(dest, 0);
    return PS_OK;
  })
}

}  // extern "C"
