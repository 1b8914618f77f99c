#!/usr/bin/env python3
"""ab.py: two builds of Policy Search on one database, timed alternately.

This machine kind is shared: wall times of the same binary vary by up to 2x
from one minute to the next, so a change is judged only against the build
before it, measured in the same minutes.  Each build answers the benchmark's
25 queries (bench/run.py's QUERIES, or --queries FILE: one per line) in its
own warm ps_bench process; after one warm-up pass, the rounds alternate which
build goes first.  Prints, per build, the median / p95 / p99 / max over every
answer, then each query's median; exits 1 when a total differs between the
builds (the answers' rankings: bench/compare_answers.py).

Usage:
  bench/ab.py --old BUILD --new BUILD --db DB [--mode top10|count]
              [--rounds 8] [--passes 1] [--queries FILE]
BUILD is a build directory holding libpolicysearch.so (e.g. a worktree of the
commit before, built in Release: git worktree add /tmp/wt-old HEAD~1).
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run import QUERIES, pct  # noqa: E402


def bench_exe(build, out):
    build = os.path.abspath(build)
    subprocess.run(["cc", "-O2", "-std=c11", "-D_GNU_SOURCE",
                    "-I", os.path.join(os.path.dirname(HERE), "include"),
                    os.path.join(HERE, "ps_bench.c"), "-o", out, "-L", build,
                    "-lpolicysearch", "-Wl,-rpath," + build], check=True)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--old", required=True)
    ap.add_argument("--new", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--mode", default="top10", choices=["top10", "count"])
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--passes", type=int, default=1)
    ap.add_argument("--queries")
    a = ap.parse_args()
    qs = ([l.strip() for l in open(a.queries, encoding="utf-8") if l.strip()]
          if a.queries else [q for _, q in QUERIES])
    tmp = tempfile.mkdtemp(prefix="ps-ab-")
    procs = {}
    for name in ("old", "new"):
        exe = bench_exe(getattr(a, name), os.path.join(tmp, "ps_bench_" + name))
        procs[name] = subprocess.Popen([exe, a.db], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, text=True, bufsize=1)

    def ask(p, q):
        p.stdin.write("%s\t%s\n" % (a.mode, q))
        p.stdin.flush()
        ans = p.stdout.readline().rstrip("\n").split("\t")
        if ans[0] == "ERROR" or not ans[0]:
            sys.exit("ab: ps_bench: %s" % ans)
        return int(ans[0]), float(ans[1]) / 1000

    totals = {name: {q: ask(procs[name], q)[0] for q in qs} for name in procs}
    times = {name: {q: [] for q in qs} for name in procs}
    for r in range(a.rounds):
        for name in (("old", "new") if r % 2 == 0 else ("new", "old")):
            for _ in range(a.passes):
                for q in qs:
                    times[name][q].append(ask(procs[name], q)[1])
    for p in procs.values():
        p.stdin.close()
        p.wait()
    for f in os.listdir(tmp):
        os.unlink(os.path.join(tmp, f))
    os.rmdir(tmp)
    for name in ("old", "new"):
        every = [t for q in qs for t in times[name][q]]
        print("%s: median %.2f  p95 %.2f  p99 %.2f  max %.2f ms (%d answers)" % (
            name, statistics.median(every), pct(every, 95), pct(every, 99), max(every),
            len(every)))
    print("\n| query | total | old ms | new ms |\n|---|---|---|---|")
    for q in qs:
        print("| %s | %d | %.2f | %.2f |" % (q, totals["new"][q], statistics.median(times["old"][q]),
                                           statistics.median(times["new"][q])))
    differ = [q for q in qs if totals["old"][q] != totals["new"][q]]
    for q in differ:
        print("ab: totals differ for %s: %d (old) against %d (new)" % (
            q, totals["old"][q], totals["new"][q]), file=sys.stderr)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
