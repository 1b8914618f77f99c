#!/usr/bin/env python3
"""Latency of one database vs 2 shards (local, and behind xapian-tcpsrv).

Builds the corpus (or COPIES altered copies of it: each copy rotates ~200
frequent CJK characters among themselves, so that the text and its postings
differ), indexes it as one database and as 2 shards, serves the shards with
two xapian-tcpsrv on loopback ports (text replicas beside the stub), then
runs one fixed query mix (the seed names and random 1-8 character pieces of
the text) in one warm policy-search process per layout and mode, twice, and
reports the second run's per-query times (took_ms: the library's own time,
start-up excluded) as median / p95 / p99, plus index time and size.  Every
layout must return the same answers: checked, a difference aborts.

usage: bench_shards.py BUILD_DIR CORPUS_DIR [--copies K] [--queries N] [--work DIR]
Prints a Markdown table (README "Scaling out").
"""
import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

NAMES = ['京津产业新城', '通武廊', '京津冀协同发展', '大黄堡湿地', '营商环境', '新能源汽车',
         '高标准农田', '乡村振兴', '佛罗伦萨小镇', '特变电工', '产业功能区']


def make_corpus(src, dst, copies):
    if copies <= 1:
        return src
    text = ''
    for f in sorted(os.listdir(src)):
        with open(os.path.join(src, f), encoding='utf-8', errors='replace') as fh:
            text += fh.read()
    freq = {}
    for c in text:
        if '\u4e00' <= c <= '\u9fff':
            freq[c] = freq.get(c, 0) + 1
    ring = [c for c, _ in sorted(freq.items(), key=lambda x: (-x[1], x[0]))][30:230]
    for k in range(copies):
        table = {ord(a): ring[(i + 7 * k) % len(ring)] for i, a in enumerate(ring)}
        d = os.path.join(dst, f'copy-{k:03d}')
        os.makedirs(d, exist_ok=True)
        for f in sorted(os.listdir(src)):
            p = os.path.join(src, f)
            if f.endswith('.pdf'):
                shutil.copy(p, d)
                continue
            with open(p, encoding='utf-8', errors='replace') as fh:
                t = fh.read()
            with open(os.path.join(d, f), 'w', encoding='utf-8') as fh:
                fh.write(t.translate(table) if k else t)
    return dst


def du(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def serve(path, servers):
    port = free_port()
    p = subprocess.Popen(['xapian-tcpsrv', '--interface', '127.0.0.1', '--port', str(port), path],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    servers.append(p)
    for _ in range(200):
        try:
            socket.create_connection(('127.0.0.1', port), timeout=1).close()
            return port
        except OSError:
            time.sleep(0.05)
    raise SystemExit('xapian-tcpsrv did not start')


def timed(ps, db, queries, args):
    out = subprocess.run([ps, '--db', db, '--json', *args, '--queries', '-'],
                         input='\n'.join(queries).encode(), capture_output=True, check=False)
    if out.returncode not in (0, 1):
        raise SystemExit(out.stderr.decode())
    res = [json.loads(l) for l in out.stdout.decode().splitlines()]
    ms = [r.pop('took_ms') for r in res]
    return ms, res


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('build')
    ap.add_argument('corpus')
    ap.add_argument('--copies', type=int, default=1)
    ap.add_argument('--queries', type=int, default=150)
    ap.add_argument('--work')
    a = ap.parse_args()
    pi, ps = os.path.join(a.build, 'policy-index'), os.path.join(a.build, 'policy-search')
    work = a.work or tempfile.mkdtemp(prefix='ps-bench-shards-')
    servers = []
    try:
        docs = make_corpus(os.path.abspath(a.corpus), os.path.join(work, 'docs'), a.copies)
        size = du(docs)
        rows = {}
        dbs = {'1 database': os.path.join(work, 'single'),
               '2 shards, local': os.path.join(work, 'sharded')}
        for name, db, extra in (('1 database', dbs['1 database'], []),
                                ('2 shards, local', dbs['2 shards, local'], ['--shards', '2'])):
            if not os.path.exists(db):
                t = time.time()
                subprocess.run([pi, '--quiet', *extra, '--db', db, docs], check=True)
                rows[name] = {'index_s': time.time() - t}
            rows.setdefault(name, {})['size'] = du(db)
        remote = os.path.join(work, 'remote')
        os.makedirs(remote, exist_ok=True)
        lines = []
        for i in (0, 1):
            shard = os.path.join(dbs['2 shards, local'], f'shard-{i}')
            port = serve(os.path.join(shard, 'xapian'), servers)
            lines.append(f'remote 127.0.0.1:{port}\n#text {shard}\n')
        with open(os.path.join(remote, 'XAPIANDB'), 'w') as f:
            f.write(''.join(lines))
        dbs['2 shards, remote (loopback)'] = remote
        rows['2 shards, remote (loopback)'] = {'size': None}

        export = subprocess.run([ps, '--db', dbs['1 database'], '--export'], capture_output=True,
                                check=True).stdout.decode().splitlines()
        paras = [json.loads(l)['text'] for l in export]
        rng = random.Random(7)
        queries = list(NAMES)
        while len(queries) < a.queries:
            t = rng.choice(paras)
            n = rng.randint(1, 8)
            s = rng.randrange(0, max(1, len(t) - n))
            q = t[s:s + n]
            if q and q == q.strip() and not any(c in q for c in ' "()-:'):
                queries.append(q)
        modes = {'top 10 + exact total': ['--limit', '10', '--exact'],
                 'top 10 + related': ['--limit', '10']}
        table = []
        for mode, args in modes.items():
            ref = None
            for name, db in dbs.items():
                timed(ps, db, queries, args)  # warm the caches
                ms, res = timed(ps, db, queries, args)
                if ref is None:
                    ref = res
                elif res != ref:
                    bad = sum(1 for x, y in zip(res, ref) if x != y)
                    raise SystemExit(f'{name}: {bad} answers differ from one database ({mode})')
                table.append((mode, name, statistics.median(ms), pct(ms, 95), pct(ms, 99)))
        print(f'Corpus: {size / 1e6:.1f} MB, {len(paras)} paragraphs, {len(queries)} queries '
              f'(seed names + random 1-8 character pieces); answers identical in every layout.\n')
        print('| layout | index s | size MB | mode | median ms | p95 ms | p99 ms |')
        print('|---|---|---|---|---|---|---|')
        for mode, name, med, p95, p99 in table:
            r = rows.get(name, {})
            ix = f"{r['index_s']:.1f}" if 'index_s' in r else '-'
            sz = f"{r['size'] / 1e6:.1f}" if r.get('size') else '-'
            print(f'| {name} | {ix} | {sz} | {mode} | {med:.2f} | {p95:.2f} | {p99:.2f} |')
    finally:
        for p in servers:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            p.wait()
        if not a.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
