#!/usr/bin/env python3
"""run.py: Policy Search against its peers, on one synthetic corpus, in one run.

Engines: Policy Search (policy-index, then bench/ps_bench.c: a warm process
on the library), Groonga (groonga-bin: TokenBigram, NormalizerAuto, index
with positions; a persistent `groonga DB` process on a pipe, query cache
off), SQLite FTS5 with the trigram tokenizer (python3's sqlite3, in process)
and ripgrep (`rg -c -F` over the one-paragraph-per-line file: brute force,
and the reference for exact counts; paragraph = line).

Measured: indexing time, MB/s and peak RSS (/usr/bin/time -v), index size
on disk (text included for every engine), and for a fixed mix of 25 queries
(1 character, 2 characters, 3-8 character names, CJK with digits, two
keywords AND) the median / p95 / p99 latency in two modes: the exact total
only ("count"), and the top 10 ranked hits with snippets plus the total
("top10"); each in a warm process, after one warm-up pass, over --reps
passes; and whether each engine's totals agree with ripgrep's.

Prints Markdown tables (absolute figures, ratios of Policy Search to each
peer, per-query totals) and writes them with the raw numbers to WORK.

Usage:
  bench/run.py --mb 100                 # generate /tmp/psbench-100, run everything
  bench/run.py --mb 1 --reps 2          # smoke run (a few seconds)
  bench/run.py --mb 100 --engines ps,groonga --keep   # reuse built indexes
Options: --work DIR (default /tmp/psbench-MB), --build DIR (default build-rel,
a Release build of this tree), --max-memory MB (passed to policy-index),
--reps N (default 5), --keep (do not rebuild indexes that exist),
--clean (remove WORK at the end).
"""
import argparse
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# The fixed query mix: (class, query).  Two keywords are separated by a space
# (AND in every engine).  Chosen so that substring semantics and Policy
# Search's (tokens are not cut) coincide on the generated corpus.
QUERIES = [
    ("1 char", "镇"), ("1 char", "湿"), ("1 char", "港"), ("1 char", "谷"), ("1 char", "氢"),
    ("2 chars", "发展"), ("2 chars", "武清"), ("2 chars", "湿地"), ("2 chars", "园区"),
    ("2 chars", "小镇"),
    ("name", "通武廊"), ("name", "京津产业新城"), ("name", "京津冀协同发展"),
    ("name", "大黄堡湿地"), ("name", "高标准农田"), ("name", "智慧产业园"),
    ("name", "永定河故道国家湿地公园"), ("name", "京津明珠幸福武清"),
    ("CJK+digits", "2024年"), ("CJK+digits", "2035年远景目标"), ("CJK+digits", "增长5.5%"),
    ("CJK+digits", "184个"),
    ("AND", "京津 湿地"), ("AND", "武清 2024年"), ("AND", "乡村振兴 高标准农田"),
]


def log(*a):
    print("run:", *a, file=sys.stderr, flush=True)


def du(path):
    total = 0
    for dp, _, fs in os.walk(path):
        for f in fs:
            total += os.lstat(os.path.join(dp, f)).st_blocks * 512
    return total if os.path.isdir(path) else os.lstat(path).st_blocks * 512


def timed(cmd, stdin=None, stdout=subprocess.DEVNULL, env=None):
    """Runs cmd under /usr/bin/time -v: (seconds, peak RSS bytes)."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, stdin=stdin, stdout=stdout,
                       stderr=subprocess.PIPE, text=True, env=env)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit("run: %s failed (%d):\n%s" % (" ".join(cmd), p.returncode, p.stderr[-3000:]))
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    return dt, int(m.group(1)) * 1024 if m else 0


def pct(xs, p):
    xs = sorted(xs)
    k = (len(xs) - 1) * p / 100
    f = int(k)
    return xs[f] if f + 1 >= len(xs) else xs[f] + (xs[f + 1] - xs[f]) * (k - f)


def stats_ms(samples):
    return {"median": statistics.median(samples), "p95": pct(samples, 95),
            "p99": pct(samples, 99)}


# ---- engines ---------------------------------------------------------------

class PolicySearch:
    name = "Policy Search"
    key = "ps"

    def __init__(self, a, work, corpus):
        self.a, self.db = a, os.path.join(work, "ps-db")
        self.corpus = corpus
        self.exe = os.path.join(work, "ps_bench")
        build = a.build
        lib = os.path.join(build, "libpolicysearch.so")
        if not os.path.exists(lib):
            sys.exit("run: %s missing: build first (cmake -S . -B %s -DCMAKE_BUILD_TYPE=Release)"
                     % (lib, build))
        subprocess.run(["cc", "-O2", "-std=c11", "-D_GNU_SOURCE", "-I", os.path.join(ROOT, "include"),
                        os.path.join(HERE, "ps_bench.c"), "-o", self.exe, "-L", build,
                        "-lpolicysearch", "-Wl,-rpath," + os.path.abspath(build)], check=True)

    def build(self):
        cmd = [os.path.join(self.a.build, "policy-index"), "--db", self.db, "--quiet"]
        if self.a.max_memory:
            cmd += ["--max-memory", str(self.a.max_memory)]
        return timed(cmd + [os.path.join(self.corpus, "docs")])

    def exists(self):
        return os.path.exists(os.path.join(self.db, "xapian"))

    def size(self):
        return du(self.db)

    def start(self):
        self.p = subprocess.Popen([self.exe, self.db], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, bufsize=1)

    def ask(self, req):
        self.p.stdin.write(req + "\n")
        self.p.stdin.flush()
        ans = self.p.stdout.readline().rstrip("\n").split("\t")
        if ans[0] == "ERROR" or not ans[0]:
            sys.exit("run: ps_bench: %s" % ans)
        return int(ans[0])

    def paragraphs(self):
        return self.ask("stats\t")

    def query(self, mode, q):
        return self.ask("%s\t%s" % (mode, q))

    def stop(self):
        self.p.stdin.close()
        self.p.wait()


def grn_quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Groonga:
    name = "Groonga"
    key = "groonga"

    def __init__(self, a, work, corpus):
        self.dir = os.path.join(work, "groonga")
        self.db = os.path.join(self.dir, "db")
        self.corpus = corpus
        self.load = os.path.join(work, "groonga-load.grn")

    def build(self):
        if os.path.exists(self.dir):
            shutil.rmtree(self.dir)
        os.makedirs(self.dir)
        # The load file is Groonga's input format (prepared, not timed).
        with open(os.path.join(self.corpus, "paras.txt"), encoding="utf-8") as f, \
                open(self.load, "w", encoding="utf-8") as out:
            out.write("table_create Paras TABLE_NO_KEY\n"
                      "column_create Paras text COLUMN_SCALAR Text\n"
                      "load --table Paras\n[\n")
            first = True
            for line in f:
                out.write(("" if first else ",\n") + json.dumps({"text": line.rstrip("\n")},
                                                                 ensure_ascii=False))
                first = False
            # The index is built after the load (Groonga's static index
            # construction, its fastest path).
            out.write("\n]\ntable_create Terms TABLE_PAT_KEY ShortText "
                      "--default_tokenizer TokenBigram --normalizer NormalizerAuto\n"
                      "column_create Terms paras_text COLUMN_INDEX|WITH_POSITION Paras text\n")
        with open(self.load, encoding="utf-8") as f:
            r = timed(["groonga", "-n", self.db], stdin=f)
        os.unlink(self.load)
        return r

    def exists(self):
        return os.path.exists(self.db)

    def size(self):
        return du(self.dir)

    def start(self):
        self.p = subprocess.Popen(["groonga", self.db], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, bufsize=1)

    def cmd(self, c):
        self.p.stdin.write(c + "\n")
        self.p.stdin.flush()
        ans = json.loads(self.p.stdout.readline())
        if ans[0][0] != 0:
            sys.exit("run: groonga: %s: %s" % (c, ans[0]))
        return ans[1]

    def paragraphs(self):
        return self.cmd("select Paras --limit 0 --cache no")[0][0][0]

    def query(self, mode, q):
        if mode == "count":
            c = ("select Paras --match_columns text --query %s --limit 0 "
                 "--output_columns _id --cache no" % grn_quote(q))
        else:
            c = ("select Paras --match_columns text --query %s --limit 10 "
                 "--sort_keys -_score --output_columns %s --command_version 2 --cache no"
                 % (grn_quote(q), grn_quote("_id,_score,snippet_html(text)")))
        return self.cmd(c)[0][0][0]

    def stop(self):
        self.p.stdin.close()
        self.p.wait()


class Fts5:
    name = "SQLite FTS5 trigram"
    key = "fts5"

    def __init__(self, a, work, corpus):
        self.db = os.path.join(work, "fts5.db")
        self.corpus = corpus

    def build(self):
        if os.path.exists(self.db):
            os.unlink(self.db)
        return timed([sys.executable, os.path.abspath(__file__), "--fts5-load", self.db,
                      os.path.join(self.corpus, "paras.txt")])

    def exists(self):
        return os.path.exists(self.db)

    def size(self):
        return du(self.db)

    def start(self):
        self.c = sqlite3.connect(self.db)

    def paragraphs(self):
        return self.c.execute("SELECT count(*) FROM p").fetchone()[0]

    @staticmethod
    def where(q):
        """A MATCH of the keywords of 3+ characters (trigrams need three),
        instr() for the shorter ones (a full scan unless a MATCH narrows it;
        SQLite 3.40's trigram LIKE with a pattern under 3 characters wrongly
        matches nothing)."""
        long_ = ['"%s"' % k.replace('"', '""') for k in q.split() if len(k) >= 3]
        short = [k for k in q.split() if len(k) < 3]
        clauses = (["p MATCH ?"] if long_ else []) + ["instr(text, ?) > 0"] * len(short)
        return " AND ".join(clauses), ([" AND ".join(long_)] if long_ else []) + short, bool(long_)

    def query(self, mode, q):
        w, args, match = self.where(q)
        total = self.c.execute("SELECT count(*) FROM p WHERE " + w, args).fetchone()[0]
        if mode == "top10":
            if match:
                sql = ("SELECT rowid, snippet(p, 0, '<b>', '</b>', '…', 40) FROM p WHERE "
                       + w + " ORDER BY rank LIMIT 10")
            else:  # no ranking or snippet() without MATCH
                sql = "SELECT rowid, substr(text, 1, 120) FROM p WHERE " + w + " LIMIT 10"
            self.c.execute(sql, args).fetchall()
        return total

    def stop(self):
        self.c.close()


def fts5_load(db, paras):
    c = sqlite3.connect(db)
    c.execute("CREATE VIRTUAL TABLE p USING fts5(text, tokenize='trigram')")
    with open(paras, encoding="utf-8") as f:
        c.executemany("INSERT INTO p(text) VALUES (?)", ((l.rstrip("\n"),) for l in f))
    c.commit()
    c.close()


class Ripgrep:
    name = "ripgrep (brute force)"
    key = "rg"

    def __init__(self, a, work, corpus):
        self.paras = os.path.join(corpus, "paras.txt")

    def build(self):
        return None

    def exists(self):
        return True

    def size(self):
        return 0

    def start(self):
        pass

    def paragraphs(self):
        return None

    @staticmethod
    def pattern(k):
        """rg arguments matching keyword k as the engines' contract says:
        Latin letters and digits as whole tokens (2024年 is not in
        12024年, '.' between digits belongs to the number), the rest as a
        plain substring."""
        edge = re.compile(r"[0-9A-Za-z]")
        if not edge.match(k[0]) and not edge.match(k[-1]):
            return "-F -e " + shq(k)
        pat = re.escape(k)
        if edge.match(k[0]):
            pat = r"(?<![0-9A-Za-z])(?<![0-9]\.)" + pat
        if edge.match(k[-1]):
            pat += r"(?![0-9A-Za-z])(?!\.[0-9])"
        return "-P -e " + shq(pat)

    def query(self, mode, q):
        keys = q.split()
        # AND: filter the matching lines of the first keyword through the others
        cmd = " | ".join(["rg -N %s %s" % (self.pattern(keys[0]), shq(self.paras))] +
                         ["rg -N %s" % self.pattern(k) for k in keys[1:]])
        cmd = cmd.replace("rg -N", "rg -c", 1) if len(keys) == 1 else cmd + " | wc -l"
        out = subprocess.run(["bash", "-c", cmd], stdout=subprocess.PIPE, text=True).stdout
        return int(out.strip() or 0)

    def stop(self):
        pass


def shq(s):
    return "'" + s.replace("'", "'\\''") + "'"


ENGINES = {"ps": PolicySearch, "groonga": Groonga, "fts5": Fts5, "rg": Ripgrep}


# ---- the run ---------------------------------------------------------------

def machine():
    def sh(c):
        try:
            return subprocess.run(c, shell=True, stdout=subprocess.PIPE, text=True,
                                  stderr=subprocess.DEVNULL).stdout.strip()
        except OSError:
            return ""
    cpu = sh("lscpu | sed -n 's/^Model name: *//p'")
    cores = os.cpu_count()
    mem = sh("free -g | awk '/Mem:/{print $2}'")
    deb = sh("cat /etc/debian_version")
    vers = sh("dpkg-query -W -f='${Package} ${Version}, ' groonga-bin libsqlite3-0 ripgrep "
              "libxapian30 2>/dev/null").rstrip(", ")
    return "%s, %s cores, %s GB RAM, Debian %s, kernel %s; %s" % (
        cpu, cores, mem, deb, platform.release(), vers)


def run_queries(eng, mode, reps):
    """Totals (from the warm-up pass) and per-query round-trip times (ms)."""
    totals, times = [], {q: [] for _, q in QUERIES}
    for _, q in QUERIES:
        totals.append(eng.query(mode, q))
    for _ in range(reps):
        for _, q in QUERIES:
            t0 = time.perf_counter()
            eng.query(mode, q)
            times[q].append((time.perf_counter() - t0) * 1000)
    return totals, times


def fmt(x, d=1):
    if x is None:
        return "-"
    return ("%." + str(d) + "f") % x


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--fts5-load":
        fts5_load(sys.argv[2], sys.argv[3])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=float, required=True)
    ap.add_argument("--work")
    ap.add_argument("--build", default=os.path.join(ROOT, "build-rel"))
    ap.add_argument("--engines", default="ps,groonga,fts5,rg")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--max-memory", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--clean", action="store_true")
    a = ap.parse_args()
    work = a.work or "/tmp/psbench-%g" % a.mb
    corpus = os.path.join(work, "corpus")
    os.makedirs(work, exist_ok=True)
    for tool in ("groonga", "rg", "cc"):
        if not shutil.which(tool):
            sys.exit("run: %s not found: bash scripts/deps.sh --bench installs the peers" % tool)
    if not os.path.exists(os.path.join(corpus, "manifest.json")):
        log("generating %g MB into %s" % (a.mb, corpus))
        subprocess.run([sys.executable, os.path.join(HERE, "gen_corpus.py"), "--mb", str(a.mb),
                        "--out", corpus, "--seed", str(a.seed)], check=True)
    with open(os.path.join(corpus, "manifest.json")) as f:
        man = json.load(f)
    mb = man["bytes"] / 1e6
    subprocess.run("sync", shell=True)
    res = {"machine": machine(), "corpus": man, "engines": {}}
    engines = [ENGINES[k](a, work, corpus) for k in a.engines.split(",")]
    try:  # with --keep, indexes that exist keep the figures of their build
        with open(os.path.join(work, "results.json")) as f:
            prev = json.load(f)["engines"]
    except (OSError, ValueError, KeyError):
        prev = {}
    for e in engines:
        r = res["engines"][e.key] = {"name": e.name}
        if a.keep and e.exists() and "index_s" in prev.get(e.key, {}):
            r.update({k: prev[e.key][k] for k in ("index_s", "mbps", "rss")})
        if e.key != "rg" and not (a.keep and e.exists()):
            log("indexing with %s" % e.name)
            if e.key == "ps" and os.path.exists(e.db):
                shutil.rmtree(e.db)
            dt, rss = e.build()
            r.update(index_s=dt, mbps=mb / dt, rss=rss)
        r["size"] = e.size()
    # Warm the page cache for every engine alike, then query.
    subprocess.run("cat %s > /dev/null" % shq(os.path.join(corpus, "paras.txt")), shell=True)
    for e in engines:
        log("querying %s" % e.name)
        e.start()
        r = res["engines"][e.key]
        r["paragraphs"] = e.paragraphs()
        for mode in ("count", "top10"):
            if e.key == "rg" and mode == "top10":
                continue
            totals, times = run_queries(e, mode, max(1, a.reps // 2) if e.key == "rg" else a.reps)
            allt = [t for ts in times.values() for t in ts]
            r[mode] = {"totals": totals, "per_query_ms": {q: statistics.median(ts)
                                                          for q, ts in times.items()},
                       **stats_ms(allt)}
        e.stop()
    truth = res["engines"].get("rg", {}).get("count", {}).get("totals")
    for r in res["engines"].values():
        for mode in ("count", "top10"):
            if mode in r and truth:
                r[mode]["exact"] = sum(x == y for x, y in zip(r[mode]["totals"], truth))
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump(res, f, ensure_ascii=False, indent=1)
    md = report(res, mb, man)
    with open(os.path.join(work, "results.md"), "w") as f:
        f.write(md)
    print(md)
    if a.clean:
        shutil.rmtree(work)


def report(res, mb, man):
    E = res["engines"]
    out = ["Corpus: %.1f MB, %d files, %d paragraphs (bench/gen_corpus.py --mb %g --seed %d)."
           % (mb, man["files"], man["paragraphs"], man["mb"], man["seed"]),
           "Machine: " + res["machine"], ""]
    out.append("| engine | index s | MB/s | peak RSS MB | size MB (x input) | count median / p95 / p99 ms"
               " | top-10 + snippets median / p95 / p99 ms | exact (count, top-10) |")
    out.append("|---|---|---|---|---|---|---|---|")
    n = len(QUERIES)
    for r in E.values():
        def lat(m):
            return " / ".join(fmt(r[m][k], 2) for k in ("median", "p95", "p99")) if m in r else "-"
        ex = ", ".join("%s/%d" % (r[m].get("exact", "?"), n) if m in r else "-"
                       for m in ("count", "top10"))
        size = "%.0f (%.2fx)" % (r["size"] / 1e6, r["size"] / 1e6 / mb) if r.get("size") else "-"
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["name"], fmt(r.get("index_s")), fmt(r.get("mbps"), 2),
            fmt(r["rss"] / 1e6, 0) if r.get("rss") else "-", size, lat("count"), lat("top10"), ex))
    ps = E.get("ps")
    if ps:
        out += ["", "Policy Search relative to each peer (targets against Groonga: indexing "
                "speed >= 2, size <= 1, median <= 0.5, p95 <= 1):", "",
                "| peer | indexing speed (PS/peer) | size (PS/peer) | count median | count p95 "
                "| top-10 median | top-10 p95 |", "|---|---|---|---|---|---|---|"]
        for k, r in E.items():
            if k == "ps":
                continue
            def rat(a, b, inv=False):
                if a is None or b is None or not b:
                    return "-"
                return "%.2f" % (a / b)
            def g(m, s):
                return r.get(m, {}).get(s)
            out.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                r["name"], rat(ps.get("mbps"), r.get("mbps")), rat(ps.get("size"), r.get("size")),
                rat(ps["count"]["median"], g("count", "median")),
                rat(ps["count"]["p95"], g("count", "p95")),
                rat(ps["top10"]["median"], g("top10", "median") or g("count", "median")),
                rat(ps["top10"]["p95"], g("top10", "p95") or g("count", "p95"))))
        out.append("")
        out.append("(ripgrep has no top-10 mode: its count time is the reference there.)")
    out += ["", "Per query: totals (ripgrep = brute force) and count-mode median ms.", "",
            "| class | query | " + " | ".join(r["name"] for r in E.values()) + " |",
            "|---|---|" + "---|" * len(E)]
    for i, (cls, q) in enumerate(QUERIES):
        cells = []
        for r in E.values():
            if "count" not in r:
                cells.append("-")
                continue
            t = r["count"]["totals"][i]
            bad = "rg" in E and t != E["rg"]["count"]["totals"][i]
            cells.append("%s%d%s (%.2f)" % ("**" if bad else "", t, "**" if bad else "",
                                            r["count"]["per_query_ms"][q]))
        out.append("| %s | %s | %s |" % (cls, q, " | ".join(cells)))
    out.append("")
    out.append("Bold: differs from brute force.  Paragraph counts: " + ", ".join(
        "%s %s" % (r["name"], r.get("paragraphs")) for r in E.values() if r.get("paragraphs")))
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
