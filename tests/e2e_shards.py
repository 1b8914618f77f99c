#!/usr/bin/env python3
"""Shards search exactly like one database.

Indexes the corpus into one database and into 2 shards (policy-index
--shards 2), and checks that every query of the exactness test
(exactness.generate) gives the same JSON answer (hits, totals, order,
scores, related hits) from the shards' stub as from the single database;
then the same with both shards served by xapian-tcpsrv on loopback ports
and a stub of 'remote' lines whose text stores are replicas beside it.
Also: updates routed to the same shard (re-index, remove, optimise),
--shards with another number or on a single database, a shard indexed on
its own, a reordered stub, a replica of the wrong shard.  The servers are
killed however the test ends.

usage: e2e_shards.py BUILD_DIR CORPUS_DIR [N_RANDOM [STEP]]
(N_RANDOM as in exactness.py, default 600: 945 queries on the corpus, each
with its related hits; STEP k keeps every k-th query.  ctest runs 50 3: 112
queries, related hits for 16 of them, to stay fast under the sanitizers)
"""
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, finish, run  # noqa: E402
import exactness  # noqa: E402


def answers(ps, db, queries, n_plain, page=('--all',)):
    """One JSON answer per query (took_ms dropped), every hit (or the given
    page); queries[:n_plain] with their related hits (query expansion), the
    rest exact hits only."""
    out = []
    for extra, batch in (([*page], queries[:n_plain]), ([*page, '--exact'], queries[n_plain:])):
        rc, text, err = run(ps, '--db', db, *extra, '--queries', '-',
                            input='\n'.join(batch).encode())
        check(rc in (0, 1) and not err, f'policy-search --db {db}: exit {rc}: {err[:300]}')
        for line in text.splitlines():
            o = json.loads(line)
            o.pop('took_ms', None)
            out.append(o)
    if len(out) != len(queries):
        got = {o.get('query') for o in out}
        print('  no answer for', [q for q in queries if q not in got][:5])
    check(len(out) == len(queries), f'{len(out)} answers for {len(queries)} queries ({db})')
    return out


def same(what, queries, a, b):
    diff = [q for q, x, y in zip(queries, a, b) if x != y]
    check(not diff, f'{what}: {len(diff)} of {len(queries)} queries differ, e.g. {diff[:3]}')
    if diff:
        q = diff[0]
        i = queries.index(q)
        print('  single:', json.dumps(a[i], ensure_ascii=False)[:400])
        print('  shards:', json.dumps(b[i], ensure_ascii=False)[:400])


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def serve(path, servers):
    """Starts xapian-tcpsrv on path at a free loopback port; returns the port."""
    for _ in range(5):
        port = free_port()
        p = subprocess.Popen(['xapian-tcpsrv', '--interface', '127.0.0.1', '--port', str(port),
                              path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
        servers.append(p)
        deadline = time.time() + 10
        while time.time() < deadline and p.poll() is None:
            try:
                socket.create_connection(('127.0.0.1', port), timeout=1).close()
                return port
            except OSError:
                time.sleep(0.05)
    raise SystemExit(f'xapian-tcpsrv did not start for {path}')


def stop(servers):
    for p in servers:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    for p in servers:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def replica(shard_dir, dest):
    os.makedirs(dest, exist_ok=True)
    for f in ('text.dat', 'text.idx', 'text.id'):
        shutil.copy(os.path.join(shard_dir, f), dest)


def main():
    build, corpus = sys.argv[1], sys.argv[2]
    n_random = int(sys.argv[3]) if len(sys.argv) > 3 else 600
    step = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    pi, ps = os.path.join(build, 'policy-index'), os.path.join(build, 'policy-search')
    servers = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            docs = os.path.join(tmp, 'docs')
            shutil.copytree(corpus, docs)
            single, sharded = os.path.join(tmp, 'single'), os.path.join(tmp, 'sharded')
            rc, _, err = run(pi, '--quiet', '--db', single, docs)
            check(rc == 0, f'index single: {err}')
            rc, _, err = run(pi, '--quiet', '--shards', '2', '--db', sharded, docs)
            check(rc == 0, f'index 2 shards: {err}')
            stub = os.path.join(sharded, 'XAPIANDB')
            check(os.path.isfile(stub), 'the stub XAPIANDB is written')
            for i in (0, 1):
                check(os.path.isdir(os.path.join(sharded, f'shard-{i}', 'xapian')),
                      f'shard-{i} is a database')
            rc, out, _ = run('xapian-delve', sharded)
            check(rc == 0 and 'number of documents' in out, 'xapian-delve opens the stub')

            # The queries of the exactness test.
            rc, export, err = run(ps, '--db', single, '--export')
            paras = [json.loads(l) for l in export.splitlines()]
            rc, export2, _ = run(ps, '--db', sharded, '--export')
            check(export2 == export, '--export of the shards equals the single database\'s')
            # The same through each shard's bulk load (temporary databases, a
            # commit every 40 paragraphs), the way a large corpus is built.
            bulk = os.path.join(tmp, 'sharded-bulk')
            env = dict(os.environ, PS_BULK_MIN_BYTES='1', PS_BULK_BATCH='40')
            rc, _, err = run(pi, '--quiet', '--shards', '2', '--batch', '40', '--db', bulk, docs,
                             env=env)
            check(rc == 0, f'index 2 shards in bulk: {err}')
            rc, export3, _ = run(ps, '--db', bulk, '--export')
            check(export3 == export, '--export of shards built in bulk equals the single database\'s')
            n_files = len({p['doc']['path'] for p in paras})
            per_shard = []
            for i in (0, 1):
                rc, out, _ = run(ps, '--db', os.path.join(sharded, f'shard-{i}'), '--export')
                per_shard.append({json.loads(l)['doc']['path'] for l in out.splitlines()})
            check(all(per_shard) and sum(map(len, per_shard)) == n_files,
                  f'files spread over both shards: {list(map(len, per_shard))} of {n_files}')
            for i in (0, 1):
                rc, out, _ = run(ps, '--db', os.path.join(bulk, f'shard-{i}'), '--export')
                check({json.loads(l)['doc']['path'] for l in out.splitlines()} == per_shard[i],
                      f'shard {i} built in bulk holds the files routed to it')

            def to_trad(s):
                return subprocess.run(['opencc', '-c', 's2t.json'], input=s.encode(),
                                      capture_output=True, check=True).stdout.decode()
            exactness.load_t2s(''.join(p['text'] for p in paras))
            norms = [exactness.normalize(p['text']) for p in paras]
            queries, _, n_plain, _ = exactness.generate(paras, norms, to_trad,
                                                        random.Random(20261123), n_random)

            # Remote: both shards served by xapian-tcpsrv, text replicas beside the stub.
            remote = os.path.join(tmp, 'remote')
            replica(os.path.join(sharded, 'shard-0'), os.path.join(remote, 'shard-0'))
            replica(os.path.join(sharded, 'shard-1'), os.path.join(remote, 'text-of-1'))
            p0 = serve(os.path.join(sharded, 'shard-0', 'xapian'), servers)
            p1 = serve(os.path.join(sharded, 'shard-1', 'xapian'), servers)
            rstub = os.path.join(remote, 'XAPIANDB')
            with open(rstub, 'w') as f:
                f.write(f'# two remote shards\nremote 127.0.0.1:{p0}\n'
                        f'remote tcp 127.0.0.1 {p1}\n#text text-of-1\n')

            # The three at once (the answers are compared, not timed).  Every
            # query for its exact hits; related hits (slower: a second search
            # per query) for n_related of them, all with N_RANDOM >= 600.
            n_related = n_plain if n_random >= 600 else 16
            order = queries[:n_related] + queries[n_plain:] + queries[n_related:n_plain]
            order = order[:n_related] + order[n_related::step]
            with ThreadPoolExecutor(3) as pool:
                base, local, rem = pool.map(lambda db: answers(ps, db, order, n_related),
                                            (single, sharded, remote))
            queries = order
            check(sum(1 for a in base if a.get('total')) > len(queries) // 2,
                  'most queries have hits')
            same('local stub (directory)', queries, base, local)
            same('remote stub', queries, base, rem)
            # First pages, as people ask for them (every hit above: other
            # paths, which rank all of them), with ANDs of words that need no
            # verification among them; 16 with related hits.
            paged = ['京津 湿地', '发展 改革', '武清 发展', '产业 园区', '京津 OR 湿地'] + queries
            for page in (['--limit', '10'], ['--limit', '5', '--offset', '5']):
                with ThreadPoolExecutor(3) as pool:
                    p_base, p_local, p_rem = pool.map(
                        lambda db: answers(ps, db, paged, 16, page), (single, sharded, remote))
                same(f'local stub, {" ".join(page)}', paged, p_base, p_local)
                same(f'remote stub, {" ".join(page)}', paged, p_base, p_rem)
            rc, out, _ = run(ps, '--db', remote, '--export')
            check(out == export, '--export through the remote shards')
            few = queries[:10]
            same('local stub (the file itself)', few, base[:10],
                 answers(ps, stub, few, len(few)))
            for args in (['--projects'], ['--json', '--projects'], ['--json', '--limit', '3', '通武廊'],
                         ['--timeline', '京津'], ['--json', '--sort', 'date', '营商环境']):
                a, b = run(ps, '--db', single, *args), run(ps, '--db', sharded, *args)
                check(a[0] == b[0] and (untimed(a[1]) == untimed(b[1]) or json_same(a[1], b[1])),
                      f'policy-search {" ".join(args)}: same output')


            # Wrong deployments are errors, never silently wrong results.
            with open(rstub, 'w') as f:
                f.write(f'remote 127.0.0.1:{p1}\n#text text-of-1\nremote 127.0.0.1:{p0}\n'
                        f'#text shard-0\n')
            rc, _, err = run(ps, '--db', remote, '京津')
            check(rc == 2 and 'restore the order' in err, f'swapped ports: {rc} {err}')
            with open(rstub, 'w') as f:
                f.write(f'remote 127.0.0.1:{p0}\n#text text-of-1\nremote 127.0.0.1:{p1}\n')
            rc, _, err = run(ps, '--db', remote, '京津')
            check(rc == 2 and 'not a replica' in err, f'replica of another shard: {rc} {err}')
            with open(rstub, 'w') as f:
                f.write(f'remote 127.0.0.1:{free_port()}\n')
            rc, _, err = run(ps, '--db', remote, '京津')
            check(rc == 2 and 'xapian-tcpsrv' in err, f'no server: {rc} {err}')
            with open(rstub, 'w') as f:
                f.write('remote 127.0.0.1\n')
            rc, _, err = run(ps, '--db', remote, '京津')
            check(rc == 2 and 'XAPIANDB:1' in err, f'bad stub line: {rc} {err}')
            with open(rstub, 'w') as f:
                f.write(f'remote 127.0.0.1:{p0}\nremote 127.0.0.1:{p1}\n#text text-of-1\n')
            rc, _, err = run(pi, '--quiet', '--db', remote, docs)
            check(rc == 2 and 'cannot be written' in err, f'writing remote shards: {rc} {err}')
            stop(servers)

            rc, _, err = run(pi, '--quiet', '--shards', '3', '--db', sharded, docs)
            check(rc == 2 and 'has 2 shards, not 3' in err, f'--shards 3 on 2 shards: {err}')
            rc, _, err = run(pi, '--quiet', '--shards', '2', '--db', single, docs)
            check(rc == 2 and 'single' in err, f'--shards on a single database: {err}')

            # Updates go to the file's shard: change one file, remove another,
            # re-index (without --shards), optimise; still equal.
            files = sorted(os.path.join(docs, f) for f in os.listdir(docs))
            with open(files[0], 'a') as f:
                f.write('\n\n新增段落：京津产业新城营商环境持续优化。\n')
            for db in (single, sharded):
                rc, _, err = run(pi, '--quiet', '--db', db, '--remove', files[1], docs)
                check(rc == 0, f'update {db}: {err}')
            os.remove(files[1])
            few = queries[:20]
            with ThreadPoolExecutor(2) as pool:
                base, local = pool.map(lambda db: answers(ps, db, few, 0), (single, sharded))
            same('after an update', few, base, local)
            for db in (single, sharded):
                rc, _, err = run(pi, '--quiet', '--optimize', '--db', db)
                check(rc == 0, f'optimise {db}: {err}')
            with ThreadPoolExecutor(2) as pool:  # fewer documents now: other weights
                base, local = pool.map(lambda db: answers(ps, db, few, 0), (single, sharded))
            same('after optimise', few, base, local)
            rc, out, _ = run(ps, '--db', sharded, '--export')
            rc, out1, _ = run(ps, '--db', single, '--export')
            check(out == out1, '--export after update and optimise')

            # A shard indexed on its own (as on its machine) takes only its files.
            shard1 = os.path.join(sharded, 'shard-1')
            rc, out, err = run(pi, '--db', shard1, docs)
            check(rc == 0 and 'belong to other shards' in err, f'one shard alone: {err}')
            rc, out, _ = run(ps, '--db', sharded, '--export')
            check(out == out1, 'a shard indexed alone keeps the shards equal')
        finally:
            stop(servers)
    return finish('e2e_shards')


def untimed(text):
    return re.sub(r'[0-9.]+ ms', 'T ms', text)


def json_same(a, b):
    try:
        x, y = json.loads(a), json.loads(b)
    except ValueError:
        return False
    for o in (x, y):
        if isinstance(o, dict):
            o.pop('took_ms', None)
    return x == y


if __name__ == '__main__':
    sys.exit(main())
