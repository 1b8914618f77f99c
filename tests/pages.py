#!/usr/bin/env python3
"""Ranked pages equal the same slice of a full ranking; related hits agree
with their text.

A page of ranked hits is found without scoring every match (lib/search.c:
Xapian gives matches by weight, the features add at most a bound, so
scoring stops once no later match can reach the page; Xapian is asked for
a first batch and for more, eight times as many, while an unseen match
still could).  This checks that shortcut against the full ranking, which
PS_RANK_TUNE with a negative weight forces (the bound is then unknown and
every match is scored), and against the same shortcut with a first batch
of one match (R_FETCH = 21), so that pages come out of several passes (the
bundled corpus never has the 2,048 matches of a default first batch).

For every query and page (offset, limit), the three must give the same
hits (file, paragraph, score) in the same order and the same total.

usage: pages.py BUILD_DIR CORPUS_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

QUERIES = [  # and the corpus' most frequent characters and pairs (frequent())
    # one and two characters: terms prove the match, many ties in weight
    '发', '区', '镇', '的', '发展', '建设', '武清', '产业', '推进', '项目',
    # names: verified candidates
    '京津产业新城', '通武廊', '京津冀协同发展', '高质量发展', '乡村振兴',
    # digits, Latin
    '2024年', '5G', '%',
    # several words: proximity and phrase bonuses, larger bound
    '发展 建设', '京津 协同', '武清 产业', '推进 项目 建设', '乡村 振兴 农业',
    # boolean and filters
    '发展 OR 建设', '发展 -建设', '"产业 新城"', 'section:发展 产业', 'title:武清 发展',
]

PAGES = [('0', '10'), ('10', '10'), ('40', '10'), ('7', '3'), ('0', '1'), ('95', '20')]

CONFIGS = {
    'default': {},
    'passes': {'PS_RANK_TUNE': '21=1'},
    'full': {'PS_RANK_TUNE': '17=-1'},
}


def frequent(corpus):
    """The most frequent CJK characters and character pairs of the corpus'
    text files, and pairs of those pairs as two-word queries: many matches,
    many ties and near-ties in weight, where a wrong bound shows."""
    chars, pairs = {}, {}
    for name in sorted(os.listdir(corpus)):
        if not name.endswith(('.txt', '.md')):
            continue
        with open(os.path.join(corpus, name), encoding='utf-8', errors='replace') as f:
            text = f.read()
        for a, b in zip(text, text[1:] + ' '):
            if '\u4e00' <= a <= '\u9fff':
                chars[a] = chars.get(a, 0) + 1
                if '\u4e00' <= b <= '\u9fff':
                    pairs[a + b] = pairs.get(a + b, 0) + 1
    top = lambda d, n: [k for k, _ in sorted(d.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]
    c, p = top(chars, 30), top(pairs, 40)
    return c + p + ['%s %s' % (p[i], p[i + 7]) for i in range(0, 30, 2)]


def run(cmd, env=None, stdin=None):
    p = subprocess.run(cmd, input=stdin, capture_output=True, env=env)
    if p.returncode != 0:
        sys.exit('FAIL: %s exited %d: %s' % (' '.join(cmd), p.returncode,
                                              p.stderr.decode(errors='replace')))
    return p.stdout.decode()


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    build, corpus = sys.argv[1], sys.argv[2]
    queries = QUERIES + frequent(corpus)
    pindex = os.path.join(build, 'policy-index')
    psearch = os.path.join(build, 'policy-search')
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, 'db')
        run([pindex, '--quiet', '--db', db, corpus])
        answers = {}
        for name, extra in CONFIGS.items():
            env = dict(os.environ)
            env.pop('PS_RANK_TUNE', None)
            env.update(extra)
            for off, lim in PAGES:
                out = run([psearch, '--db', db, '--exact', '--json', '--offset', off, '--limit',
                           lim, '--queries', '-'], env, '\n'.join(queries).encode())
                lines = out.splitlines()
                if len(lines) != len(queries):
                    sys.exit('FAIL: %s: %d answers for %d queries' % (name, len(lines),
                                                                      len(queries)))
                for q, line in zip(queries, lines):
                    r = json.loads(line)
                    if 'error' in r:
                        sys.exit('FAIL: %s: %r: %s' % (name, q, r['error']))
                    hits = [(h['doc']['path'], h['paragraph'], h['score']) for h in r['hits']]
                    answers.setdefault((q, off, lim), {})[name] = (r['total'], hits)
        # related hits (no --exact): decided from postings; PS_CHECK_RELATED
        # decides every candidate from its text too and fails the search on
        # any disagreement
        env = dict(os.environ)
        env['PS_CHECK_RELATED'] = '1'
        out = run([psearch, '--db', db, '--json', '--queries', '-'], env,
                  '\n'.join(queries).encode())
        related = 0
        for q, line in zip(queries, out.splitlines()):
            r = json.loads(line)
            if 'error' in r:
                sys.exit('FAIL: related hits of %r: %s' % (q, r['error']))
            related += r['related_total']
        print('related hits of %d queries checked against their text (%d in all)' %
              (len(queries), related))
        if related < 1000:
            sys.exit('FAIL: too few related hits: the check says nothing')
        # pages with related hits (only those a page reaches are ranked)
        # equal the same slice of the whole list (--all ranks every hit)
        env.pop('PS_CHECK_RELATED')
        whole = []
        for q in queries:
            r = json.loads(run([psearch, '--db', db, '--json', '--all', '--no-collapse', '--', q],
                               env))
            whole.append([(h['doc']['path'], h['paragraph'], h['score'], h['exact'])
                          for h in r['hits']])
        rel_pages = rel_bad = 0
        for off, lim in PAGES:
            out = run([psearch, '--db', db, '--json', '--offset', off, '--limit', lim,
                       '--queries', '-'], env, '\n'.join(queries).encode())
            for q, line, w in zip(queries, out.splitlines(), whole):
                r = json.loads(line)
                got = [(h['doc']['path'], h['paragraph'], h['score'], h['exact'])
                       for h in r['hits']]
                rel_pages += any(not e for *_, e in got)
                if got != w[int(off):int(off) + int(lim)]:
                    rel_bad += 1
                    print('DIFF related %r offset %s limit %s: %s vs %s' %
                          (q, off, lim, got[:2], w[int(off):int(off) + 2]))
        print('%d pages compared with the whole list (%d with related hits), %d differences'
              % (len(PAGES) * len(queries), rel_pages, rel_bad))
        if rel_bad:
            sys.exit(1)
        if rel_pages < 50:
            sys.exit('FAIL: too few pages with related hits: the comparison says nothing')
        bad = 0
        deep = 0  # pages with hits (so that the comparison says something)
        for (q, off, lim), by in sorted(answers.items()):
            full = by['full']
            deep += bool(full[1])
            for name in ('default', 'passes'):
                if by[name] != full:
                    bad += 1
                    print('DIFF %s %r offset %s limit %s: total %s vs %s, first hits %s vs %s' %
                          (name, q, off, lim, by[name][0], full[0], by[name][1][:2], full[1][:2]))
        print('%d pages compared (%d with hits), %d differences' % (len(answers), deep, bad))
        if deep < len(answers) * 2 // 3:
            sys.exit('FAIL: too few pages with hits: the queries no longer fit the corpus')
        sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
