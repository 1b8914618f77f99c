#!/usr/bin/env python3
"""End-to-end checks of the ways to look at a result set: facets (exact
counts by year, region, type, project), --timeline, --sort date, --jsonl,
and that the pager is never used when output is piped.

usage: e2e_browse.py BUILD_DIR CORPUS_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, finish, run  # noqa: E402



def main():
    build, corpus = sys.argv[1], sys.argv[2]
    pi, ps = os.path.join(build, 'policy-index'), os.path.join(build, 'policy-search')
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, 'db')
        run(pi, '--quiet', '--db', db, corpus)

        # Facets: exact counts over every exact hit, not just the page.
        rc, out, err = run(ps, '--db', db, '--json', '--limit', '2', '通武廊')
        res = json.loads(out)
        rc, out, err = run(ps, '--db', db, '--json', '--all', '--exact', '通武廊')
        every = json.loads(out)['hits']
        f = res.get('facets', {})
        check(set(f) == {'year', 'region', 'type', 'project'}, f'facet keys: {list(f)}')
        want_years = {}
        for h in every:
            for y in h['doc']['years']:
                want_years[y] = want_years.get(y, 0) + 1
        check(f.get('year') == want_years, f'year facet {f.get("year")} vs {want_years}')
        want_types = {}
        for h in every:
            for t in h['doc']['types']:
                want_types[t] = want_types.get(t, 0) + 1
        check(f.get('type') == want_types, 'type facet')
        check(sum(f.get('region', {}).values()) == res['total'], 'region facet sums to total')
        # projects: counted from hashes in Xapian's values, named from the
        # store; the 20 largest counts, ties by name, as every hit's list says
        for q in ('通武廊', '京津', '发展', '湿地 -公园', '武清 year:2024'):
            rc, out, err = run(ps, '--db', db, '--json', '--limit', '1', '--', q)
            got = json.loads(out)['facets']['project']
            rc, out, err = run(ps, '--db', db, '--json', '--all', '--exact', '--', q)
            want = {}
            for h in json.loads(out)['hits']:
                for p in h['projects']:
                    want[p] = want.get(p, 0) + 1
            top = sorted(want.items(), key=lambda kv: (-kv[1], kv[0].encode()))[:20]
            check(list(got.items()) == top, f'{q}: project facet {list(got.items())[:5]}... vs {top[:5]}...')
        rc, out, err = run(ps, '--db', db, '--limit', '1', '通武廊')
        check('|' in out.splitlines()[-1] and '2024' in out.splitlines()[-1],
              'terminal: facet summary line')

        # Timeline: every year in which 通武廊 appears, oldest first, all exact hits.
        rc, out, err = run(ps, '--db', db, '--json', '--timeline', '通武廊')
        res = json.loads(out)
        years = [y['year'] for y in res['timeline']]
        expect = sorted({h['doc']['years'][0] for h in every})
        check(years == expect, f'timeline years {years} == {expect}')
        n = sum(len(d['hits']) for y in res['timeline'] for d in y['documents'])
        check(n == res['total'] == len(every), 'timeline holds every exact hit')
        rc, out, err = run(ps, '--db', db, '--timeline', '通武廊')
        check(rc == 0 and all(f'━━ {y} ━━' in out for y in years), 'terminal timeline headers')

        # --sort date: newest document first, exact hits only, paging on the sorted whole.
        rc, out, err = run(ps, '--db', db, '--json', '--all', '--sort', 'date', '京津冀')
        hits = json.loads(out)['hits']
        key = lambda h: (h['doc']['date'].replace('-', '') or (h['doc']['years'] or ['0000'])[0] + '0000')
        keys = [key(h) for h in hits]
        check(keys == sorted(keys, reverse=True), '--sort date: newest first')
        check(all(h.get('exact', True) for h in hits), '--sort date: exact hits')
        rc, out, err = run(ps, '--db', db, '--json', '--sort', 'date', '--offset', '3', '--limit', '2', '京津冀')
        page = json.loads(out)['hits']
        check([(h['doc']['path'], h['paragraph']) for h in page] ==
              [(h['doc']['path'], h['paragraph']) for h in hits[3:5]], '--sort date pages')
        rc, out, err = run(ps, '--db', db, '--sort', 'size', '京津冀')
        check(rc == 2 and '--sort' in err, 'bad --sort')

        # --jsonl: one hit per line.
        rc, out, err = run(ps, '--db', db, '--jsonl', '--limit', '5', '通武廊')
        lines = out.splitlines()
        check(len(lines) == 5 and all('text' in json.loads(l) for l in lines), '--jsonl')

        # Near-duplicates: a news article repeating a report's paragraph is folded
        # into the report's hit (listed as another source) unless --no-collapse.
        rc, out, err = run(ps, '--db', db, '--export')
        src = next(json.loads(l) for l in out.splitlines()
                   if '2024' in json.loads(l)['doc']['path'] and '通武廊' in json.loads(l)['text'])
        docs = os.path.join(tmp, 'docs')
        os.makedirs(docs)
        with open(os.path.join(docs, 'news.html'), 'w', encoding='utf-8') as f:
            f.write('<html><head><title>转载</title></head><body><p>' +
                    src['text'].replace('，', ',') + '</p><p>另一段无关的文字。</p></body></html>')
        with open(os.path.join(docs, 'report.txt'), 'w', encoding='utf-8') as f:
            f.write(src['text'] + '\n')
        db2 = os.path.join(tmp, 'db2')
        run(pi, '--quiet', '--db', db2, docs)
        word = '通武廊'
        rc, out, err = run(ps, '--db', db2, '--json', '--exact', word)
        res = json.loads(out)
        check(res['total'] == 2 and len(res['hits']) == 1 and res['collapsed'] == 1 and
              len(res['hits'][0]['also_in']) == 1, f'near-duplicate folded: {res.get("collapsed")}')
        rc, out, err = run(ps, '--db', db2, '--json', '--exact', '--no-collapse', word)
        res = json.loads(out)
        check(res['total'] == 2 and len(res['hits']) == 2 and res['collapsed'] == 0, '--no-collapse')
        rc, out, err = run(ps, '--db', db2, '--exact', word)
        check('also in:' in out and 'near-duplicate' in out, 'terminal shows the other source')

        # Piped output never goes through a pager (PAGER would fail loudly).
        env = dict(os.environ, PAGER='false')
        rc, out, err = run(ps, '--db', db, '--all', '京津', env=env)
        check(rc == 0 and out.count('\n') > 100, 'no pager when piped')
    return finish('e2e_browse')


if __name__ == '__main__':
    sys.exit(main())
