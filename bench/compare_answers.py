#!/usr/bin/env python3
"""compare_answers.py: do two builds give the same answers on one database?

A change meant to be faster must not change an answer.  Runs
`policy-search --json` of both builds for every query (the benchmark's 25,
queries with NOT, OR, NEAR, filters and several words, and --queries FILE)
in several forms (--exact pages at offsets 0, 7 and 300, and the default
answer with related hits, facets and collapsing) and compares everything but
`took_ms`.  Prints each difference; exits 1 when there is one.

Usage:
  bench/compare_answers.py --old BUILD --new BUILD --db DB [--queries FILE]
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run import QUERIES  # noqa: E402

MORE = ["武清 -2024年", "京津 OR 通武廊", "京津 NEAR/5 新城", '"产业新城" year:2024',
        "湿地 region:武清", "发展 改革 创新", "通武廊 京津冀协同发展", "高标准农田 2024年",
        "武清 湿地", "京津 通武廊", "园区 小镇", "镇 港", "发展 -改革"]
FORMS = [["--exact", "--limit", "10"], ["--exact", "--limit", "5", "--offset", "7"],
         ["--limit", "10"], ["--exact", "--limit", "3", "--offset", "300"]]


# Both builds read this tree's synonym list (a build finds its own source
# tree's data/ otherwise, which is gone with a removed worktree: fewer
# related hits would look like a difference of the builds).
ENV = dict(os.environ)
ENV.setdefault("POLICY_SEARCH_DATA", os.path.join(os.path.dirname(HERE), "data"))


def answer(build, db, form, q):
    r = subprocess.run([os.path.join(build, "policy-search"), "--db", db, "--json"] + form +
                       ["--", q], capture_output=True, text=True, env=ENV)
    if not r.stdout.strip():
        return r.returncode, r.stderr.strip()
    out = json.loads(r.stdout)
    out.pop("took_ms", None)
    return r.returncode, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--old", required=True)
    ap.add_argument("--new", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--queries")
    a = ap.parse_args()
    qs = [q for _, q in QUERIES] + MORE
    if a.queries:
        qs += [l.strip() for l in open(a.queries, encoding="utf-8") if l.strip()]
    n = differ = 0
    for q in qs:
        for form in FORMS:
            n += 1
            if answer(a.old, a.db, form, q) != answer(a.new, a.db, form, q):
                differ += 1
                print("differs: %s %s" % (" ".join(form), q))
    print("%d answers, %d differ" % (n, differ))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
