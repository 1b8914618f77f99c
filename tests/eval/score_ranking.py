#!/usr/bin/env python3
"""Scores Policy Search's ranking against the development judgments.

Usage:
  score_ranking.py --build BUILD_DIR [--db DB | --corpus DIR] [-v]
                   [--min-ndcg X] [--min-recall Y] [--exact] [--limit N]

  --build DIR     a build directory holding policy-search (and policy-index)
  --db DB         an existing database to search; without it a temporary one
                  is built from --corpus (default: corpus/ of this repository)
                  with the build's policy-index, and removed afterwards
  -v              one line per query: qid, nDCG@10, recall@20, judged/total
  --min-ndcg X    exit 1 when mean nDCG@10 is below X
  --min-recall Y  exit 1 when mean recall@20 is below Y
  --exact         pass --exact to policy-search (no query expansion)

Every query of queries_dev.tsv (keywords separated by one space: an AND) is
run through `policy-search --db DB --queries - --limit 20`, which prints one
JSON result per line.  Metrics, as tests/eval/README.md defines them:

  nDCG@10   gain = grade of the returned paragraph (0 if it holds no key),
            discount log2(rank + 1); the ideal ranking is built from all the
            judgments of the query (every judgment row is one paragraph).
  recall@20 share of the query's judgment rows whose key appears in one of
            the top 20 returned paragraphs (same seed).

A returned paragraph is judged grade g for query q when its text with all
whitespace removed contains a key of q and the hit's file (doc.path) is that
key's seed; seeds are recognised by the sha256 of the file, so corpus files
may have any name.  A paragraph holding several keys counts once, with the
highest grade.  Both means are always printed; exit status 0, or 1 below a
floor, or 2 on error.
"""
import argparse
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seeds import SEED_SHA256, seed_of  # noqa: E402
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

WS = re.compile(r"\s+")


def read_tsv(path):
    with open(path, encoding="utf-8") as f:
        return [l.rstrip("\n").split("\t") for l in f if l.strip() and not l.startswith("#")]




def grade(hit, judg, cache):
    """Highest grade of the query's keys found in this paragraph (0: none)."""
    seed = seed_of(hit["doc"]["path"], cache)
    if seed is None:
        return 0, set()
    text = WS.sub("", hit.get("text", ""))
    g, rows = 0, set()
    for i, (s, key, gr) in enumerate(judg):
        if s == seed and key in text:
            g = max(g, gr)
            rows.add(i)
    return g, rows


def dcg(gains):
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--db")
    ap.add_argument("--corpus", default=os.path.join(REPO, "corpus"))
    ap.add_argument("--queries", default=os.path.join(HERE, "queries_dev.tsv"))
    ap.add_argument("--qrels", default=os.path.join(HERE, "qrels_dev.tsv"))
    ap.add_argument("--min-ndcg", type=float)
    ap.add_argument("--min-recall", type=float)
    ap.add_argument("--exact", action="store_true")
    ap.add_argument("--limit", type=int, default=20)
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()

    queries = read_tsv(a.queries)
    qrels = {}
    for qid, seed, key, gr in read_tsv(a.qrels):
        qrels.setdefault(qid, []).append((seed, key, int(gr)))

    tmp = None
    db = a.db
    try:
        if not db:
            tmp = tempfile.mkdtemp(prefix="ps-rank-")
            db = os.path.join(tmp, "db")
            r = subprocess.run([os.path.join(a.build, "policy-index"), "--db", db, "-q", a.corpus],
                               capture_output=True, text=True)
            if r.returncode != 0:
                sys.stderr.write("policy-index failed: %s\n" % r.stderr)
                return 2
        cmd = [os.path.join(a.build, "policy-search"), "--db", db, "--queries", "-",
               "--limit", str(max(a.limit, 20))]
        if a.exact:
            cmd.append("--exact")
        r = subprocess.run(cmd, input="".join(q + "\n" for _, q in queries),
                           capture_output=True, text=True)
        lines = [l for l in r.stdout.splitlines() if l.strip()]
        if len(lines) != len(queries):
            sys.stderr.write("policy-search gave %d results for %d queries (exit %d): %s\n"
                             % (len(lines), len(queries), r.returncode, r.stderr))
            return 2
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)

    cache = {}
    sum_ndcg = sum_rec = 0.0
    for (qid, q), line in zip(queries, lines):
        res = json.loads(line)
        judg = qrels.get(qid, [])
        hits = res.get("hits", [])
        gains, found = [], set()
        for k, h in enumerate(hits[:20]):
            g, rows = grade(h, judg, cache)
            if k < 10:
                gains.append(g)
            found |= rows
        ideal = dcg(sorted((g for _, _, g in judg), reverse=True)[:10])
        nd = dcg(gains) / ideal if ideal else 0.0
        rec = len(found) / len(judg) if judg else 0.0
        sum_ndcg += nd
        sum_rec += rec
        if a.verbose:
            print("%s\t%-24s nDCG@10 %.3f  recall@20 %.3f  (%d/%d judged; total %s, related %s)"
                  % (qid, q, nd, rec, len(found), len(judg), res.get("total"),
                     res.get("related_total", "-")))
    n = len(queries)
    mn, mr = sum_ndcg / n, sum_rec / n
    print("mean nDCG@10   %.4f" % mn)
    print("mean recall@20 %.4f" % mr)
    bad = (a.min_ndcg is not None and mn < a.min_ndcg) or \
          (a.min_recall is not None and mr < a.min_recall)
    if bad:
        print("below the floor (nDCG@10 >= %s, recall@20 >= %s)" % (a.min_ndcg, a.min_recall))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
