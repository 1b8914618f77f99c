// xapian_floor.cc: what Xapian 1.4 alone needs to index a corpus the way
// policy-index does (bench/RESULTS.md, "Indexing speed"), for comparing the
// indexer with its floor.
//
// Reads the normalised text of every paragraph of a built Policy Search
// database (the store, through ps_index.h), generates the same content terms
// (ps_tok_index_terms; the few filter terms and the date value are left
// out), and then times, separately:
//   terms      term generation alone (no Xapian), one thread;
//   documents  building the Xapian::Document of every paragraph, one thread,
//              a term occurrence at a time, then (as policy-index does) with
//              the terms of each paragraph sorted and counted first (the
//              first figure includes the allocation of every document);
//   add        the bulk path's Xapian work: documents added with
//              replace_document to fresh temporary databases (no termlist, no
//              sync), a batch of B paragraphs each, committed, on T threads
//              (the documents are built beforehand, outside the timing);
//   merge      one compact() of the temporaries, docids kept.
// The "documents" and "add" figures are the Xapian part of policy-index's
// work; the rest of policy-index (reading, decoding, paragraphs, metadata,
// normalising, projects, the store) comes on top.
//
//   xapian_floor DB OUTDIR [BATCH [THREADS]]   (BATCH 2000, THREADS 2)
//
// Built by hand against a build of the library, e.g.
//   g++ -O2 -std=c++17 -Iinclude bench/xapian_floor.cc -Lbuild-rel \
//       -lpolicysearch -lxapian -lpthread -o /tmp/xapian_floor
#include <xapian.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "ps_index.h"
#include "ps_tok.h"

namespace {

double now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

struct Terms {
  std::vector<std::string> *out;
};

int collect(void *ctx, const char *t, size_t n) {
  static_cast<Terms *>(ctx)->out->emplace_back(t, n);
  return 0;
}

int count_only(void *ctx, const char *, size_t) {
  ++*static_cast<size_t *>(ctx);
  return 0;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: xapian_floor DB OUTDIR [BATCH [THREADS]]\n");
    return 2;
  }
  size_t batch = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 2000;
  size_t threads = argc > 4 ? std::strtoul(argv[4], nullptr, 10) : 2;
  if (!batch || !threads) return 2;
  ps_index *ix = nullptr;
  ps_error err;
  ps_error_clear(&err);
  if (ps_index_open(argv[1], PS_INDEX_READ, &ix, &err) != PS_OK) {
    std::fprintf(stderr, "xapian_floor: %s\n", err.msg);
    return 2;
  }
  ps_index_stats st;
  ps_index_stats_get(ix, &st);
  std::vector<std::string> norms;
  norms.reserve(st.lastdocid);
  size_t bytes = 0;
  for (uint32_t id = 1; id <= st.lastdocid; id++) {
    ps_store_rec r;
    if (ps_index_para(ix, id, &r) != PS_OK) continue;
    norms.emplace_back(r.norm, r.norm_len);
    bytes += r.text_len;
  }
  ps_index_close(ix);

  double t0 = now();
  size_t occurrences = 0;
  for (const std::string &s : norms) ps_tok_index_terms(s.data(), s.size(), count_only, &occurrences);
  double t_terms = now() - t0;

  t0 = now();
  std::vector<Xapian::Document> docs(norms.size());
  std::vector<std::string> terms;
  for (size_t i = 0; i < norms.size(); i++) {
    terms.clear();
    Terms c{&terms};
    ps_tok_index_terms(norms[i].data(), norms[i].size(), collect, &c);
    for (const std::string &t : terms) docs[i].add_term(t, 1);
  }
  double t_docs = now() - t0;

  // The same documents, the terms of each paragraph sorted and counted
  // first: each distinct term added once, with its wdf, in term order.
  t0 = now();
  for (size_t i = 0; i < norms.size(); i++) {
    terms.clear();
    Terms c{&terms};
    ps_tok_index_terms(norms[i].data(), norms[i].size(), collect, &c);
    std::sort(terms.begin(), terms.end());
    Xapian::Document d;
    for (size_t k = 0; k < terms.size();) {
      size_t e = k + 1;
      while (e < terms.size() && terms[e] == terms[k]) e++;
      d.add_term(terms[k], static_cast<Xapian::termcount>(e - k));
      k = e;
    }
    docs[i] = d;
  }
  double t_docs_sorted = now() - t0;

  // Batches of contiguous docids, each its own database, taken in turn by
  // the threads.
  std::string out = argv[2];
  std::system(("rm -rf '" + out + "' && mkdir -p '" + out + "'").c_str());
  size_t n_batches = (docs.size() + batch - 1) / batch;
  std::vector<std::string> paths(n_batches);
  for (size_t b = 0; b < n_batches; b++) paths[b] = out + "/t" + std::to_string(b);
  t0 = now();
  std::vector<std::thread> pool;
  std::vector<double> cpu(threads);  // CPU seconds of each thread: the
                                     // figure that a busy machine leaves alone
  for (size_t k = 0; k < threads; k++) {
    pool.emplace_back([&, k] {
      for (size_t b = k; b < n_batches; b += threads) {
        Xapian::WritableDatabase db(paths[b], Xapian::DB_CREATE_OR_OVERWRITE |
                                                  Xapian::DB_NO_TERMLIST | Xapian::DB_NO_SYNC |
                                                  Xapian::DB_BACKEND_GLASS);
        db.begin_transaction(false);
        for (size_t i = b * batch; i < docs.size() && i < (b + 1) * batch; i++)
          db.replace_document(static_cast<Xapian::docid>(i + 1), docs[i]);
        db.commit_transaction();
        db.close();
      }
      struct timespec ts;
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
      cpu[k] = ts.tv_sec + ts.tv_nsec / 1e9;
    });
  }
  for (auto &t : pool) t.join();
  double t_add = now() - t0, cpu_add = 0;
  for (double c : cpu) cpu_add += c;

  t0 = now();
  Xapian::Database all;
  for (const std::string &p : paths) all.add_database(Xapian::Database(p));
  all.compact(out + "/merged", Xapian::DBCOMPACT_NO_RENUMBER);
  double t_merge = now() - t0;

  double mb = bytes / 1e6;
  std::printf("paragraphs %zu, text %.1f MB (as written), term occurrences %zu\n",
              norms.size(), mb, occurrences);
  std::printf("terms      %6.2f s  (%.1f MB/s, one thread)\n", t_terms, mb / t_terms);
  std::printf("documents  %6.2f s  (%.1f MB/s, one thread)\n", t_docs, mb / t_docs);
  std::printf("documents, terms sorted and counted first %6.2f s\n", t_docs_sorted);
  std::printf("add        %6.2f s  (%.1f MB/s, %zu threads, batches of %zu: %zu databases; "
              "%.2f CPU-seconds)\n", t_add, mb / t_add, threads, batch, n_batches, cpu_add);
  std::printf("merge      %6.2f s\n", t_merge);
  // What policy-index does: sorted documents, add, merge; the first two
  // spread over the threads at best.
  double floor = (t_docs_sorted + cpu_add) / threads + t_merge;
  std::printf("Xapian floor on %zu free cores ((documents sorted + add CPU) / %zu + merge): "
              "%.2f s, %.1f MB/s\n", threads, threads, floor, mb / floor);
  return 0;
}
