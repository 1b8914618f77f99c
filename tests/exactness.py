#!/usr/bin/env python3
"""Exactness against brute force.

Indexes the corpus, exports every paragraph, draws random substrings of the
normalised text (CJK only, CJK mixed with digits/Latin, anything), adds the
names users search for, and checks for each query that the set of paragraphs
policy-search returns (and its "total") equals the set a plain scan finds.
The scan re-implements the matching contract of include/ps_tok.h
independently (Python's unicodedata instead of utf8proc), so a bug in the
index, the candidate generation, the verifier or the normaliser shows up as
a difference.  Zero differences allowed.

The query language (ps_query.h) is checked the same way: random OR / NOT /
NEAR / parenthesised queries over drawn substrings are evaluated here with
the same boolean semantics, and the hits of every AND query must be the
intersection of the hits of its words.

usage: exactness.py BUILD_DIR CORPUS_DIR [N_RANDOM] [SEED]
"""
import functools
import json
import os
import random
import subprocess
import sys
import tempfile
import unicodedata

OTHER, CJK, ALNUM, SPACE = 0, 1, 2, 3

CJK_RANGES = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x3FFFF), (0xF900, 0xFAFF),
              (0x2E80, 0x2FDF), (0x3005, 0x3007), (0x3021, 0x3029), (0x3038, 0x303B),
              (0x3040, 0x30FA), (0x30FC, 0x30FF), (0x3100, 0x312F), (0x31A0, 0x31BF),
              (0x31F0, 0x31FF), (0xAC00, 0xD7AF), (0x1100, 0x11FF)]


def klass(c):
    o = ord(c)
    if o < 0x80:
        if c.isascii() and c.isalnum():
            return ALNUM
        if c == ' ' or 9 <= o <= 13:
            return SPACE
        return OTHER
    if any(a <= o <= b for a, b in CJK_RANGES):
        return CJK
    cat = unicodedata.category(c)
    if cat[0] in 'LN' or cat in ('Mn', 'Mc'):
        return ALNUM
    if cat[0] == 'Z':
        return SPACE
    return OTHER


BRACKETS = {'[': '(', ']': ')', '\u3014': '(', '\u3015': ')', '\u3010': '(', '\u3011': ')',
            '\u3016': '(', '\u3017': ')', '\u3018': '(', '\u3019': ')'}


T2S = {}  # traditional -> simplified, one character at a time (OpenCC's t2s)


def load_t2s(chars):
    """Fills T2S for chars with the opencc command-line tool (one per line)."""
    chars = sorted({c for c in chars if 0x3400 <= ord(c) <= 0x9FFF})
    out = subprocess.run(['opencc', '-c', 't2s.json'], input='\n'.join(chars).encode(),
                         capture_output=True, check=True).stdout.decode().split('\n')
    for c, t in zip(chars, out):
        if len(t) == 1 and t != c:
            T2S[c] = t


def fold(ch):
    return ''.join(T2S.get(c, c) for c in
                   (BRACKETS.get(c, c) for c in fold1(BRACKETS.get(ch, ch))))


def fold1(ch):
    o = ord(ch)
    if o < 0x80:
        if o < 0x20 or o == 0x7F:
            return ' ' if 9 <= o <= 13 else ''
        return ch.lower()
    if 0x4E00 <= o <= 0x9FFF:
        return ch
    f = unicodedata.normalize('NFKC', unicodedata.normalize('NFKC', ch).casefold())
    return ''.join(c for c in f if unicodedata.category(c) not in ('Cf', 'Cc'))


@functools.lru_cache(maxsize=None)
def normalize(s):
    out, prev, pending = [], OTHER, False
    for ch in s:
        for f in fold(ch):
            k = klass(f)
            if k == SPACE:
                pending = True
                continue
            if pending and prev == ALNUM and k == ALNUM:
                out.append(' ')
            pending = False
            out.append(f)
            prev = k
    return ''.join(out)


def tok_char(t, i):
    c = t[i]
    if c == '.':
        return 0 < i < len(t) - 1 and t[i - 1].isdigit() and t[i + 1].isdigit() \
            and unicodedata.category(t[i - 1]) == 'Nd' and unicodedata.category(t[i + 1]) == 'Nd'
    return klass(c) == ALNUM


def boundary(t, p):
    return p == 0 or p >= len(t) or not (tok_char(t, p - 1) and tok_char(t, p))


def contains(t, q):
    start = 0
    while True:
        p = t.find(q, start)
        if p < 0:
            return False
        if boundary(t, p) and boundary(t, p + len(q)):
            return True
        start = p + 1


def passes(para, f):
    """Does a paragraph pass the field filter f (field:value)?"""
    field, value = f.split(':', 1)
    doc = para['doc']
    if field == 'year':
        lo, _, hi = value.partition('..')
        hi = hi or lo
        return any(int(lo) <= int(y) <= int(hi) for y in doc['years'])
    v = normalize(value)
    if field == 'region':
        return bool(doc['region']) and v in normalize(doc['region'])
    if field == 'type':
        return any(v in normalize(t) for t in doc['types'])
    return any(v in normalize(n) for n in para.get('projects', []))


def passes_text(para, f):
    """doc:, title:, section: (and the Xapian fields through passes)."""
    field, value = f.split(':', 1)
    v = normalize(value)
    if field == 'doc':
        return v in normalize(os.path.basename(para['doc']['path']))
    if field == 'title':
        return contains(normalize(para['doc'].get('title') or ''), v)
    if field == 'section':
        return contains(normalize(para.get('section') or ''), v)
    return passes(para, f)


def matches(t, q):
    """Every match [start, end) of normalised q in normalised t (characters)."""
    out, start = [], 0
    while True:
        p = t.find(q, start)
        if p < 0:
            return out
        if boundary(t, p) and boundary(t, p + len(q)):
            out.append((p, p + len(q)))
        start = p + 1


def near(t, a, b, n):
    """Some match of a and some of b with at most n characters between."""
    ma, mb = matches(t, a), matches(t, b)
    return any(sb - ea <= n and sa - eb <= n for sa, ea in ma for sb, eb in mb)


# Query trees: ('w', text) ('f', 'field:value') ('and', [..]) ('or', [..])
# ('not', x) ('near', a, b, n); rendered into the query language and
# evaluated here on one paragraph.
FIELDS = ('year', 'region', 'type', 'project', 'doc', 'title', 'section')


def quote_word(w):
    import re
    if (any(c in w for c in '()') or w.startswith('-') or w in ('OR', 'AND', 'NOT')
            or w.startswith('NEAR/') or re.match(r'[A-Za-z]+:', w)):
        return '"' + w + '"'
    return w


def render(n, top=True):
    k = n[0]
    if k == 'w':
        return quote_word(n[1])
    if k == 'f':
        return n[1]
    if k == 'not':
        inner = render(n[1], False)
        return '-' + (inner if n[1][0] in ('w', 'f') else '(' + inner + ')')
    if k == 'near':
        return f'{quote_word(n[1])} NEAR/{n[3]} {quote_word(n[2])}'
    if k == 'and':
        return ' '.join(render(c, False) if c[0] != 'or' else '(' + render(c, False) + ')'
                        for c in n[1])
    s = ' OR '.join(render(c, False) for c in n[1])
    return s if top else '(' + s + ')'


def evaluate(n, t, para):
    k = n[0]
    if k == 'w':
        w = normalize(n[1])
        return not w or contains(t, w)
    if k == 'f':
        return passes_text(para, n[1])
    if k == 'not':
        return not evaluate(n[1], t, para)
    if k == 'near':
        return near(t, normalize(n[1]), normalize(n[2]), n[3])
    if k == 'and':
        return all(evaluate(c, t, para) for c in n[1])
    return any(evaluate(c, t, para) for c in n[1])


def flat(q):
    """The tree of a plain query: words and field filters separated by spaces."""
    parts = [p for p in q.split(' ') if p]
    kids = [('f', p) if ':' in p and p.split(':')[0] in FIELDS else ('w', p) for p in parts]
    return kids[0] if len(kids) == 1 else ('and', kids)


def generate(paras, norms, to_trad, rng, n_random):
    """The queries of the test, drawn from the exported paragraphs: returns
    (queries, trees, n_plain, kinds); queries[:n_plain] are plain queries,
    the rest use the query language (run them with --exact).  Also used by
    e2e_shards.py, which runs the same queries on shards."""
    queries = []
    names = ['京津产业新城', '通武廊', '京津冀协同发展', '大黄堡湿地', '营商环境', '新能源汽车',
             '高标准农田', '乡村振兴', '佛罗伦萨小镇', '特变电工', '产业功能区']
    queries += names
    # The same names written in traditional characters must find the same.
    trad = to_trad('\n'.join(names)).split('\n')
    load_t2s(''.join(trad))
    queries += [t for t in trad if t]
    kinds = {'cjk': 0, 'mixed': 0, 'any': 0}
    tries = 0
    while sum(kinds.values()) < n_random and tries < 200000:
        tries += 1
        t = rng.choice(norms)
        if not t:
            continue
        ln = rng.randint(1, 8)
        s = rng.randrange(0, max(1, len(t) - ln + 1))
        q = t[s:s + ln]
        if not q or q != q.strip() or '"' in q or ' ' in q:
            continue
        ks = {klass(c) for c in q}
        if ks == {CJK}:
            kind = 'cjk'
        elif CJK in ks and ALNUM in ks:
            kind = 'mixed'
        else:
            kind = 'any'
        quota = {'cjk': n_random // 2, 'mixed': n_random * 3 // 10, 'any': n_random // 5}
        if kinds[kind] >= quota[kind]:
            continue
        kinds[kind] += 1
        queries.append(q)
    # A few two-word AND queries and Latin/number edge cases.
    for _ in range(30):
        a, b = rng.choice(queries[:200]), rng.choice(queries[:200])
        queries.append(a + ' ' + b)
    queries += ['5', '5.5', '15', '10.7', '2024年', '5g', 'ai', 'gdp', '%', '，']

    # Field filters, alone and with words: the right documents, exactly.
    metas = [p['doc'] for p in paras]
    years = sorted({y for m in metas for y in m['years']})
    regions = sorted({m['region'] for m in metas if m['region']})
    types = sorted({t for m in metas for t in m['types']})
    projects = sorted({n for p in paras for n in p.get('projects', [])})
    filters = [f'year:{y}' for y in years] + [f'year:{years[0]}..{years[1]}']
    filters += ['region:' + r[-3:] for r in regions] + ['type:' + t for t in types]
    filters += ['project:' + rng.choice(projects) for _ in range(10)] if projects else []
    filters += ['region:上海', 'project:不存在的项目名称']
    plain = queries[:]
    for f in filters:
        queries.append(f)
        queries.append(f + ' ' + rng.choice(plain[:11]))
        queries.append(rng.choice(plain) + ' ' + f)

    trees = [flat(q) for q in queries]
    n_plain = len(trees)
    # doc:, title:, section: alone and with words
    for f in ['doc:plan', 'doc:2024', 'title:武清', 'title:规划', 'section:产业',
              'section:第一章', 'doc:不存在']:
        trees.append(('f', f))
        trees.append(('and', [('w', rng.choice(plain[:11])), ('f', f)]))
    # The query language: random OR / NOT / NEAR / parentheses over words
    # drawn from the paragraphs (short CJK ones, so that they overlap).
    short = [q for q in plain if 1 <= len(q) <= 3 and all(klass(c) == CJK for c in q)]
    short += names
    n_lang = max(30, n_random // 10)

    def word():
        return ('w', rng.choice(short))

    def expr(depth):
        r = rng.random()
        if depth <= 0 or r < 0.3:
            return word()
        if r < 0.55:
            return ('or', [expr(depth - 1) for _ in range(rng.randint(2, 3))])
        if r < 0.8:
            return ('and', [expr(depth - 1) for _ in range(rng.randint(2, 3))])
        return ('near', rng.choice(short), rng.choice(short), rng.randint(0, 12))
    for _ in range(n_lang):
        e = expr(2)
        r = rng.random()
        if r < 0.3:
            e = ('and', [e, ('not', expr(1))])
        elif r < 0.45:
            e = ('and', [e, ('f', rng.choice(filters))])
        trees.append(e)
    # NEAR between two words of one paragraph, at distances around theirs
    for _ in range(n_lang // 2):
        t = rng.choice(norms)
        if len(t) < 12:
            continue
        i = rng.randrange(0, len(t) - 10)
        la, lb, gap = rng.randint(1, 3), rng.randint(1, 3), rng.randint(0, 6)
        a, b = t[i:i + la], t[i + la + gap:i + la + gap + lb]
        if not a or not b or any(c in a + b for c in ' "'):
            continue
        d = max(0, gap + rng.randint(-2, 2))
        trees.append(('near', b, a, d) if rng.random() < 0.5 else ('near', a, b, d))
    # excluded words, alone and combined
    for _ in range(n_lang // 2):
        trees.append(('and', [word(), ('not', word())]))
        trees.append(('and', [('or', [word(), word()]), ('not', ('or', [word(), word()]))]))
    # filters under NOT and OR (checked by the verifier, not Xapian alone)
    all_f = filters + ['doc:plan', 'title:武清', 'section:产业', 'title:不存在']
    for _ in range(n_lang // 5):
        f1, f2 = rng.choice(all_f), rng.choice(all_f)
        trees.append(('and', [word(), ('not', ('f', f1))]))
        trees.append(('and', [word(), ('or', [('f', f1), ('f', f2)])]))
        trees.append(('or', [('and', [word(), word()]), ('f', f1)]))
        trees.append(('and', [('f', f2), ('not', ('and', [word(), ('f', f1)]))]))
    queries = [render(t) for t in trees]
    return queries, trees, n_plain, kinds


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, **kw)
    if r.returncode not in (0, 1):
        sys.stderr.buffer.write(r.stderr)
        raise SystemExit(f"command failed ({r.returncode}): {' '.join(cmd)}")
    return r


def main():
    build, corpus = sys.argv[1], sys.argv[2]
    n_random = int(sys.argv[3]) if len(sys.argv) > 3 else 600
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 20261123
    rng = random.Random(seed)
    pindex = os.path.join(build, 'policy-index')
    psearch = os.path.join(build, 'policy-search')
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, 'db')
        run([pindex, '--quiet', '--db', db, corpus])
        export = run([psearch, '--db', db, '--export']).stdout.decode()
        paras = [json.loads(l) for l in export.splitlines()]
        assert paras, 'export is empty'
        keys = [(p['doc']['path'], p['paragraph']) for p in paras]
        assert len(set(keys)) == len(keys), 'export has duplicate paragraphs'
        to_trad = lambda s: run(['opencc', '-c', 's2t.json'], input=s.encode()).stdout.decode()
        load_t2s(''.join(p['text'] for p in paras) + to_trad('\n'.join(p['text'] for p in paras[:50])))
        norms = [normalize(p['text']) for p in paras]

        queries, trees, n_plain, kinds = generate(paras, norms, to_trad, rng, n_random)

        # (the query-language batch without related hits: only exact hits are
        # checked, and broad OR queries would spend most of the time on them)
        out = run([psearch, '--db', db, '--all', '--queries', '-'],
                  input='\n'.join(queries[:n_plain]).encode()).stdout.decode().splitlines()
        out += run([psearch, '--db', db, '--all', '--exact', '--queries', '-'],
                   input='\n'.join(queries[n_plain:]).encode()).stdout.decode().splitlines()
        assert len(out) == len(queries), f'{len(out)} answers for {len(queries)} queries'
        bad = 0
        n_nonempty = 0
        got_of = {}
        for q, tree, line in zip(queries, trees, out):
            res = json.loads(line)
            if 'error' in res:
                print(f'ERROR for {q!r}: {res["error"]}')
                bad += 1
                continue
            expect = {keys[i] for i, t in enumerate(norms) if evaluate(tree, t, paras[i])}
            got = {(h['doc']['path'], h['paragraph']) for h in res['hits']
                   if h.get('exact', True)}  # related hits (query expansion) aside
            got_of[q] = got
            n_nonempty += bool(expect)
            if got != expect or res['total'] != len(expect):
                bad += 1
                if bad <= 20:
                    print(f'MISMATCH {q!r}: total={res["total"]} got={len(got)} expected={len(expect)}'
                          f' missing={sorted(expect - got)[:3]} extra={sorted(got - expect)[:3]}')
        # Property: an AND query's hits are the intersection of its words' hits.
        n_and = 0
        for tree in trees:
            if tree[0] != 'and' or any(c[0] != 'w' for c in tree[1]):
                continue
            parts = [render(c) for c in tree[1]]
            q = render(tree)
            if q not in got_of or any(p not in got_of for p in parts):
                continue
            n_and += 1
            inter = set.intersection(*(got_of[p] for p in parts))
            if got_of[q] != inter:
                bad += 1
                print(f'AND PROPERTY {q!r}: {len(got_of[q])} hits, intersection {len(inter)}')
        # Totals alone (--count: Xapian's count, or a term's frequency for a
        # word of one or two CJK characters or one token) against the scan;
        # a sample, one process per query.
        plain = [q for q in queries[:n_plain] if q in got_of]
        counted = [q for q in plain if len(q) <= 2][:20] + [q for q in plain if len(q) > 2][:20]
        for q in counted:
            tree = trees[queries.index(q)]
            expect = sum(1 for i, t in enumerate(norms) if evaluate(tree, t, paras[i]))
            got = run([psearch, '--db', db, '--count', '--', q], check=False).stdout.decode().strip()
            if got != str(expect):
                bad += 1
                print(f'COUNT {q!r}: --count says {got!r}, expected {expect}')
        print(f'{len(counted)} totals checked with --count')
        print(f'{n_nonempty} queries with hits')
        print(f'{n_and} AND queries checked against the intersection of their words')
        print(f'{len(queries)} queries ({kinds}), {len(paras)} paragraphs, {bad} differences')
        print(f'exactness: {len(queries) - bad} passed, {bad} failed')
        return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
