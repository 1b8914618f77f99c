#!/usr/bin/env python3
"""End-to-end test of policy-index and policy-search as a user runs them:
exit codes, messages, the JSON schema, re-indexing, removal, export order,
the default database location and the split-word case.

usage: e2e_cli.py BUILD_DIR CORPUS_DIR
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, finish, run  # noqa: E402



def main():
    build, corpus = sys.argv[1], sys.argv[2]
    pi = os.path.join(build, 'policy-index')
    ps = os.path.join(build, 'policy-search')
    tmp = tempfile.mkdtemp(prefix='ps-e2e-')
    try:
        db = os.path.join(tmp, 'db')
        docs = os.path.join(tmp, 'docs')
        shutil.copytree(corpus, docs)

        rc, out, err = run(pi, '--help')
        check(rc == 0 and '--db' in out and '--remove' in out, 'policy-index --help')
        rc, out, err = run(ps, '--help')
        check(rc == 0 and '--json' in out and '--export' in out, 'policy-search --help')
        rc, out, err = run(ps)
        check(rc == 2 and 'Usage' in err, 'policy-search without a query is a usage error')

        rc, out, err = run(ps, '--db', db, '通武廊')
        check(rc == 2 and db in err, f'search on a missing database: clear error ({err.strip()})')

        rc, out, err = run(pi, '--db', db, docs)
        check(rc == 0, f'index the corpus (rc={rc}, {err.strip()})')
        check('5 files indexed' in err and 'paragraphs' in err, f'summary line: {err.strip()}')
        check(out == '', 'policy-index prints nothing on stdout')

        rc, out, err = run(ps, '--db', db, '--export')
        check(rc == 0, 'export')
        paras = [json.loads(l) for l in out.splitlines()]
        n_paras = len(paras)
        check(n_paras > 300, f'export has {n_paras} paragraphs')
        # Document order: files by path, paragraphs numbered 0.. in order.
        by_file = {}
        order = []
        for p in paras:
            path = p['doc']['path']
            if path not in by_file:
                order.append(path)
                by_file[path] = []
            by_file[path].append(p['paragraph'])
        check(order == sorted(order), 'export lists files in path order')
        check(all(v == list(range(len(v))) for v in by_file.values()),
              'export lists each file\'s paragraphs 0..n-1 in order')
        check(all(set(p) >= {'doc', 'paragraph', 'section', 'text'} for p in paras),
              'export objects are hit-shaped')

        # Re-indexing twice: same paragraphs, files skipped.
        for i in range(2):
            rc, out, err = run(pi, '--db', db, docs)
            check(rc == 0 and '5 unchanged' in err, f're-index {i}: {err.strip()}')
        rc, out, err = run(ps, '--db', db, '--export')
        check(len(out.splitlines()) == n_paras, 're-indexing keeps the paragraph count')

        # A changed file replaces its paragraphs.
        news = os.path.join(docs, 'wuqing-2022-upgrade-programmes-news.html')
        with open(news, 'a', encoding='utf-8') as f:
            f.write('\n<p>追加段落：独一无二的测试词语。</p>\n')
        rc, out, err = run(pi, '--db', db, docs)
        check(rc == 0 and '1 files indexed' in err and '4 unchanged' in err, f'changed file re-indexed: {err.strip()}')
        rc, out, err = run(ps, '--db', db, '--json', '独一无二的测试词语')
        res = json.loads(out)
        check(rc == 0 and res['total'] == 1, 'new paragraph found once')
        rc, out, err = run(ps, '--db', db, '--export')
        check(len(out.splitlines()) == n_paras + 1, 'changed file: no duplicates, one more paragraph')

        # JSON schema.
        rc, out, err = run(ps, '--db', db, '--json', '--limit', '3', '京津产业新城')
        res = json.loads(out)
        check(rc == 0, 'search exit 0 with hits')
        check(set(res) >= {'query', 'total', 'took_ms', 'hits'}, 'result keys')
        check(res['query'] == '京津产业新城' and res['total'] >= 10, f'total {res["total"]}')
        check(len(res['hits']) == 3, '--limit 3')
        for h in res['hits']:
            check(set(h) >= {'doc', 'paragraph', 'section', 'text', 'snippet', 'highlights', 'score'},
                  'hit keys')
            check(set(h['doc']) >= {'path', 'title'}, 'doc keys')
            spans = h['highlights']
            check(len(spans) >= 1, 'a hit has highlights')
            for s, e in spans:
                frag = ''.join(h['text'][s:e].split())
                check(frag == '京津产业新城', f'highlight covers the match as written: {frag!r}')
            check(isinstance(h['score'], (int, float)), 'score is a number')
        scores = [h['score'] for h in res['hits']]
        check(scores == sorted(scores, reverse=True), 'hits ranked by score')
        rc, out2, err = run(ps, '--db', db, '--json', '--limit', '3', '--offset', '1', '京津产业新城')
        res2 = json.loads(out2)
        check([(h['doc']['path'], h['paragraph']) for h in res2['hits'][:2]] ==
              [(h['doc']['path'], h['paragraph']) for h in res['hits'][1:3]], '--offset pages')

        # Metadata derived from the documents, and filters on it.
        meta = {}
        for p in paras:
            meta.setdefault(os.path.basename(p['doc']['path']), p['doc'])
        m24 = meta['wuqing-2024-plan-execution-report.txt']
        check(m24['years'] == ['2024', '2025'] and m24['region'] == '天津市武清区' and
              m24['types'] == ['计划执行情况报告'], f'2024 report metadata: {m24}')
        mxq = meta['xiqing-2021-government-work-report.txt']
        check(mxq['date'] == '2021-12-12' and mxq['region'] == '天津市西青区' and
              '政府工作报告' in mxq['types'] and mxq['issuer'] == '天津市西青区人民政府',
              f'Xiqing report metadata: {mxq}')
        mol = meta['wuqing-14th-five-year-plan-outline.txt']
        check(mol['years'] == [str(y) for y in range(2021, 2026)] and mol['types'] == ['五年规划纲要']
              and '第十四个五年规划' in mol['title'], f'outline metadata: {mol}')
        mnews = meta['wuqing-2022-upgrade-programmes-news.html']
        check(mnews['date'] == '2022-02-28' and '新闻报道' in mnews['types'], f'news metadata: {mnews}')

        def docs_of(*q):
            rc, out, err = run(ps, '--db', db, '--json', '--all', *q)
            check(rc in (0, 1), f'{q}: {err.strip()}')
            return sorted({os.path.basename(h['doc']['path']) for h in json.loads(out)['hits']})
        check(docs_of('year:2024') == ['wuqing-14th-five-year-plan-outline.txt',
                                       'wuqing-2024-plan-execution-report.txt'], 'year:2024')
        check(docs_of('region:西青') == ['xiqing-2021-government-work-report.txt'], 'region:西青')
        check(docs_of('type:政府工作报告') == ['xiqing-2021-government-work-report.txt'], 'type:政府工作报告')
        check(docs_of('type:五年规划纲要', '通武廊') == ['wuqing-14th-five-year-plan-outline.txt'],
              'type:五年规划纲要 通武廊')
        check(docs_of('year:2020..2021', 'region:武清') == ['wuqing-14th-five-year-plan-outline.txt'],
              'year range and region')
        rc, out, err = run(ps, '--db', db, 'year:20x4')
        check(rc == 2 and 'year' in err and 'character 1' in err, f'bad year: {err.strip()}')
        rc, out, err = run(ps, '--db', db, '京津 colour:red')
        check(rc == 2 and "unknown field 'colour'" in err and 'character 4' in err, f'unknown field: {err.strip()}')

        # Projects: listing, JSON schema, filter.
        rc, out, err = run(ps, '--db', db, '--projects', '--json', '产业园')
        pj = json.loads(out)['projects']
        check(rc == 0 and pj and all('产业园' in p['name'] for p in pj), '--projects 产业园 lists parks')
        check(all(set(p) >= {'name', 'count', 'documents'} and p['count'] >= 1 and
                  all(set(d) >= {'path', 'title', 'year'} for d in p['documents']) for p in pj),
              'projects JSON schema')
        rc, out, err = run(ps, '--db', db, '--json', '--all', 'project:通武廊')
        hits = json.loads(out)['hits']
        check(rc == 0 and hits and all(any('通武廊' in n for n in h['projects']) for h in hits),
              'project:通武廊 keeps paragraphs that name it')

        # A sidecar overrides derived metadata (and re-indexes the file).
        with open(os.path.join(docs, 'wuqing-2022-upgrade-programmes-news.meta.json'), 'w') as f:
            json.dump({'region': '天津市宝坻区', 'years': [2030], 'doc_number': '津武政发〔2022〕1号'}, f)
        rc, out, err = run(pi, '--db', db, docs)
        check(rc == 0 and '1 files indexed' in err, f'sidecar change re-indexes: {err.strip()}')
        check(docs_of('region:宝坻') == ['wuqing-2022-upgrade-programmes-news.html'], 'sidecar region')
        check(docs_of('year:2030') == ['wuqing-2022-upgrade-programmes-news.html'], 'sidecar years')
        with open(os.path.join(docs, 'bad.meta.json'), 'w') as f:
            f.write('{not json')
        with open(os.path.join(docs, 'bad.txt'), 'w') as f:
            f.write('一段文字。\n')
        rc, out, err = run(pi, '--db', db, os.path.join(docs, 'bad.txt'))
        check(rc == 1 and 'bad.meta.json' in err, f'broken sidecar reported: {err.strip()}')
        os.remove(os.path.join(docs, 'bad.meta.json'))
        os.remove(os.path.join(docs, 'bad.txt'))

        # The word split across lines in the 2024 report.
        rc, out, err = run(ps, '--db', db, '--json', '产业功能区')
        res = json.loads(out)
        check(res['total'] >= 1 and any('2024' in h['doc']['path'] for h in res['hits']),
              '产业功能区 (split across lines) is found in the 2024 report')

        # Traditional characters find the simplified text (and are highlighted).
        rc, out, err = run(ps, '--db', db, '--json', '--all', '京津產業新城')
        trad = json.loads(out)
        rc, out, err = run(ps, '--db', db, '--json', '--all', '京津产业新城')
        simp = json.loads(out)
        check(trad['total'] == simp['total'] > 0 and
              [h['paragraph'] for h in trad['hits']] == [h['paragraph'] for h in simp['hits']],
              'traditional query = simplified query')
        check(all(h['highlights'] for h in trad['hits'] if h.get('exact', True)),
              'traditional query highlights the simplified text')

        # Terminal output: no colour codes when piped, highlight markers instead.
        rc, out, err = run(ps, '--db', db, '通武廊')
        check(rc == 0 and '\033[' not in out and '«通武廊»' in out, 'plain markers when piped')
        check('paragraphs match' in out, 'summary line')
        rc, out, err = run(ps, '--db', db, '--color', 'always', '通武廊')
        check('\033[' in out, '--color always')
        rc, out, err = run(ps, '--db', db, '--count', '通武廊')
        check(rc == 0 and out.strip().isdigit(), '--count')

        # No match: exit 1; malformed query: exit 2 with a position.
        rc, out, err = run(ps, '--db', db, '--json', '不存在的词语组合乙丙丁')
        check(rc == 1 and json.loads(out)['total'] == 0, 'no match: exit 1, total 0')
        rc, out, err = run(ps, '--db', db, '"京津')
        check(rc == 2 and 'character 1' in err, f'unbalanced quote reported: {err.strip()}')
        rc, out, err = run(ps, '--db', db, '--limit', 'x', '京津')
        check(rc == 2 and '--limit' in err, 'bad --limit')

        # Bad input for the indexer: named, it fails the run; in a directory, skipped.
        binf = os.path.join(tmp, 'binary.txt')
        with open(binf, 'wb') as f:
            f.write(b'\x00\x01\x02\xff' * 100)
        rc, out, err = run(pi, '--db', db, binf, os.path.join(tmp, 'missing.txt'))
        check(rc == 1 and 'binary.txt' in err and 'missing.txt' in err, f'bad files reported: {err.strip()}')
        rc, out, err = run(ps, '--db', db, '--export')
        check(len(out.splitlines()) == n_paras + 1, 'a failed file loses nothing already indexed')

        # --remove.
        rc, out, err = run(pi, '--db', db, '--remove', news)
        check(rc == 0, f'--remove: {err.strip()}')
        rc, out, err = run(ps, '--db', db, '--json', '独一无二的测试词语')
        check(rc == 1 and json.loads(out)['total'] == 0, 'removed paragraphs are gone')
        rc, out, err = run(ps, '--db', db, '--export')
        check(not any(json.loads(l)['doc']['path'].endswith('news.html') for l in out.splitlines()),
              'removed file absent from export')
        rc, out, err = run(pi, '--db', db, '--remove', os.path.join(tmp, 'never-indexed.txt'))
        check(rc == 1 and 'not in the index' in err, 'removing an unknown file is reported')

        # --optimize keeps results, reclaims superseded paragraphs.
        rc, before, err = run(ps, '--db', db, '--json', '--all', '京津冀')
        rc, out, err = run(pi, '--db', db, '--optimize')
        check(rc == 0, f'--optimize: {err.strip()}')
        rc, after, err = run(ps, '--db', db, '--json', '--all', '京津冀')
        key = lambda o: sorted((h['doc']['path'], h['paragraph']) for h in json.loads(o)['hits'])
        check(key(before) == key(after), 'optimise keeps the results')

        # The default database location, shared by both programs.
        env = dict(os.environ, POLICY_SEARCH_DB=os.path.join(tmp, 'envdb'))
        rc, out, err = run(pi, '--quiet', os.path.join(docs, 'wuqing-2024-plan-execution-report.txt'), env=env)
        check(rc == 0 and err == '', '--quiet indexes silently')
        rc, out, err = run(ps, '--count', '产业功能区', env=env)
        check(rc == 0 and int(out) >= 1, 'POLICY_SEARCH_DB used by both programs')
        env = dict(os.environ, HOME=os.path.join(tmp, 'home'))
        env.pop('POLICY_SEARCH_DB', None)
        env.pop('XDG_DATA_HOME', None)
        run(pi, '--quiet', os.path.join(docs, 'wuqing-2024-plan-execution-report.txt'), env=env)
        check(os.path.isdir(os.path.join(tmp, 'home/.local/share/policy-search/db/xapian')),
              'default database under ~/.local/share/policy-search/db')

        # The query language: malformed queries are errors that say where.
        for q, where in [('京津 (新城', 'character 4'), ('京津 OR', 'character 4'),
                         ('foo:bar', 'character 1'), ('year:abc', 'character 1'),
                         ('京津 NEAR/x 新城', 'character 4'), ('NOT', 'character 1'),
                         ('京津 新城)', 'character 6'), ('-京津', 'character 1')]:
            rc, out, err = run(ps, '--db', db, '--', q)
            check(rc == 2 and where in err and 'Traceback' not in err,
                  f'malformed query {q!r}: exit 2 and the position ({rc}, {err.strip()})')
        rc, out, err = run(ps, '--db', db, '--json', '--all', '--exact', '京津 NEAR/5 新城')
        res = json.loads(out)
        check(rc == 0 and res['total'] >= 1 and all(
            any(c in h['text'] for c in '京津') for h in res['hits']), f'京津 NEAR/5 新城: {res["total"]}')
        rc, out, err = run(ps, '--db', db, '--json', '--all', '--exact', '京津')
        both = json.loads(out)['total']
        rc, out, err = run(ps, '--db', db, '--json', '--all', '--exact', '京津 -新城')
        res = json.loads(out)
        rc2, out2, err2 = run(ps, '--db', db, '--count', '--exact', '京津 新城')
        check(rc == 0 and res['total'] + int(out2) == both and
              not any('新城' in h['text'] for h in res['hits']),
              f'京津 -新城 excludes: {res["total"]} + {out2.strip()} == {both}')
        rc, out, err = run(ps, '--db', db, '--count', '--exact', '京津 OR 新城')
        rc2, out2, err2 = run(ps, '--db', db, '--count', '--exact', '新城')
        check(rc == 0 and int(out) == both + int(out2) - int(
            run(ps, '--db', db, '--count', '--exact', '京津 新城')[1]), 'OR counts the union')
        check_interrupt(pi, ps, corpus, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish('e2e')


def check_interrupt(pi, ps, corpus, tmp):
    """SIGINT in the middle of a bulk load: the indexer keeps its last commit,
    dies of the signal, and a second run completes the same database as one
    uninterrupted run."""
    many = os.path.join(tmp, 'many')
    os.mkdir(many)
    texts = [open(os.path.join(corpus, f), encoding='utf-8').read()
             for f in sorted(os.listdir(corpus)) if f.endswith('.txt')]
    for i in range(24):  # 1.3 MB: a bulk load (>= 1 MB), several commits
        with open(os.path.join(many, f'copy{i:02d}.txt'), 'w', encoding='utf-8') as f:
            f.write(f'第{i}份副本\n\n' + texts[i % len(texts)])
    db = os.path.join(tmp, 'intdb')
    proc = subprocess.Popen([pi, '--quiet', '--batch', '300', '--db', db, many],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while proc.poll() is None and time.time() < deadline:
        if run(ps, '--db', db, '--count', '副本')[0] in (0, 1):
            break  # the first commit is visible
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=120)[1].decode()
    check(proc.returncode == -signal.SIGINT,
          f'SIGINT: the indexer ends by the signal (rc={proc.returncode}, {err.strip()})')
    rc, out, err = run(ps, '--db', db, '--count', '副本')
    first = int(out or 0)
    check(rc == 0 and 0 < first < 24, f'SIGINT: the committed files are searchable ({first} of 24)')
    rc, out, err = run(pi, '--quiet', '--db', db, many)
    check(rc == 0, f'after SIGINT, a second run completes ({rc}, {err.strip()})')
    whole = os.path.join(tmp, 'wholedb')
    run(pi, '--quiet', '--db', whole, many)
    exports = [[(p['doc']['path'], p['paragraph'], p['text'])
                for p in map(json.loads, run(ps, '--db', d, '--export')[1].splitlines())]
               for d in (db, whole)]
    check(exports[0] == exports[1] and len(exports[0]) > 1000,
          f'interrupted + resumed == one run ({len(exports[0])} paragraphs)')


if __name__ == '__main__':
    sys.exit(main())
