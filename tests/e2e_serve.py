#!/usr/bin/env python3
"""End-to-end checks of policy-serve on a free loopback port: every endpoint
and its JSON (the same as policy-search --json), every error status (400
with the query position, 404, 405, 413), escaping of a <script> in a query
and in a document, asset traversal and symlinks, the request log, indexing
while serving (no request fails, the new paragraphs are found) and SIGTERM
finishing the request in flight and exiting 0.

usage: e2e_serve.py BUILD_DIR CORPUS_DIR SOURCE_ASSET_DIR
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, finish, run  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Server:
    """policy-serve on a free loopback port; stderr goes to a file."""

    def __init__(self, build, db, tmp, *extra):
        self.port = free_port()
        self.log_path = os.path.join(tmp, f'serve-{self.port}.log')
        self.log = open(self.log_path, 'w')
        self.proc = subprocess.Popen(
            [os.path.join(build, 'policy-serve'), '--db', db, '--port', str(self.port),
             *extra], stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if self.get('/api/health')[0] == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError('policy-serve did not start: ' + self.stderr())

    def request(self, method, path, body=None, headers=None, timeout=60):
        c = http.client.HTTPConnection('127.0.0.1', self.port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, r.read(), dict(r.getheaders())
        finally:
            c.close()

    def get(self, _path, **params):
        if params:
            _path += '?' + urllib.parse.urlencode(params)
        return self.request('GET', _path)

    def json(self, _path, **params):
        status, body, headers = self.get(_path, **params)
        return status, json.loads(body), headers

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.log.close()
        return rc

    def stderr(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, encoding='utf-8', errors='replace') as f:
            return f.read()


def key(hits):
    return [(h['doc']['path'], h['paragraph'], h.get('exact')) for h in hits]


def check_api(sv, ps, db, tmp):
    # /api/search answers exactly what policy-search --json answers.
    for q, extra, cli in [('通武廊', {}, []), ('京津冀 协同', {'limit': 3, 'offset': 2},
                                           ['--limit', '3', '--offset', '2']),
                          ('京津冀', {'sort': 'date', 'limit': 5}, ['--sort', 'date', '--limit', '5']),
                          ('通武廊', {'exact': 1}, ['--exact'])]:
        st, res, hd = sv.json('/api/search', q=q, **extra)
        rc, out, err = run(ps, '--db', db, '--json', *cli, q)
        want = json.loads(out)
        check(st == 200 and hd.get('Content-Type', '').startswith('application/json'),
              f'/api/search {q} {extra}: 200 JSON')
        for k in ('query', 'total', 'related_total', 'offset', 'collapsed', 'facets'):
            check(res.get(k) == want.get(k), f'/api/search {q} {extra}: {k} as the CLI')
        check(key(res['hits']) == key(want['hits']), f'/api/search {q} {extra}: hits as the CLI')
        check(res['hits'] and res['hits'][0]['text'] == want['hits'][0]['text'] and
              res['hits'][0]['snippet_highlights'] == want['hits'][0]['snippet_highlights'],
              'hit fields as the CLI')

    st, res, _ = sv.json('/api/search', q='通武廊', timeline=1)
    rc, out, err = run(ps, '--db', db, '--json', '--timeline', '通武廊')
    check(st == 200 and res.get('timeline') == json.loads(out)['timeline'], 'timeline as the CLI')

    # Filters map to the query language's fields, values quoted.
    st, all_, _ = sv.json('/api/search', q='通武廊')
    for field in ('year', 'region', 'type', 'project'):
        value, count = next(iter(all_['facets'][field].items()))
        st, res, _ = sv.json('/api/search', q='通武廊', limit=100, **{field: value})
        eq = '' if field == 'year' else '='
        rc, out, err = run(ps, '--db', db, '--json', '--limit', '100',
                           f'(通武廊) {field}:"{eq}{value}"')
        # A filter parameter matches the value exactly (field:=value), so
        # clicking a facet gives exactly the count it showed.
        check(st == 200 and res['total'] == json.loads(out)['total'] and res['total'] == count,
              f'{field}={value}: total {res.get("total")} vs facet count {count}')
    st, res, _ = sv.json('/api/search', region='天津市武清区')
    check(st == 200 and res['total'] > 0, 'a filter alone lists paragraphs')
    st, part, _ = sv.json('/api/search', region='武清')
    st2, contained, _ = sv.json('/api/search', q='region:武清')
    check(st == 200 and part['total'] == 0 and st2 == 200 and
          contained['total'] > res['total'],
          'region= is the whole value; region:武清 in q matches values containing it')
    st, res, _ = sv.json('/api/search', q='通武廊', region='武清 区')
    check(st == 200, 'filter value with a space is quoted')

    # /api/projects: names for autocomplete, with counts.
    st, res, _ = sv.json('/api/projects', q='通武', limit=5)
    names = [p['name'] for p in res.get('projects', [])]
    check(st == 200 and '通武廊' in names and all('通武' in n for n in names) and
          all(p['count'] > 0 for p in res['projects']) and len(names) <= 5, f'/api/projects {names}')
    st, res, _ = sv.json('/api/projects')
    check(st == 200 and len(res['projects']) == 20, '/api/projects default limit 20')

    # /api/doc: the paragraphs around a hit.
    hit = all_['hits'][0]
    path, para = hit['doc']['path'], hit['paragraph']
    st, doc, _ = sv.json('/api/doc', path=path, para=para, context=2)
    paras = doc.get('paragraphs', [])
    check(st == 200 and doc['doc']['path'] == path and doc['paragraph'] == para and
          [p['paragraph'] for p in paras] == list(range(max(0, para - 2), para + 3)) and
          any(p['paragraph'] == para and p['text'] == hit['text'] for p in paras),
          '/api/doc: context around the hit')
    check(doc.get('paragraphs_total', 0) > para, '/api/doc: paragraphs_total')
    check(all(p['highlights'] == [] for p in paras), '/api/doc without q: no highlights')
    st, doc, _ = sv.json('/api/doc', path=path, para=para, context=0, q='通武廊')
    check(st == 200 and doc['paragraphs'][0]['highlights'] == hit['highlights'],
          '/api/doc with q: the hit\'s highlights')

    # /api/health, /api/stats.
    st, h, _ = sv.json('/api/health')
    check(st == 200 and h == {'status': 'ok', 'documents': 5}, f'/api/health {h}')
    st, s, _ = sv.json('/api/stats')
    rc, out, err = run(ps, '--db', db, '--export')
    check(st == 200 and s['documents'] == 5 and s['paragraphs'] == len(out.splitlines()) and
          len(s['last_indexed']) == 20 and s['last_indexed'].endswith('Z'), f'/api/stats {s}')


def check_errors(sv):
    def err(status, path, method='GET', body=None, headers=None, what=''):
        st, b, hd = sv.request(method, path, body=body, headers=headers)
        try:
            o = json.loads(b)
        except ValueError:
            o = {}
        check(st == status and o.get('status') == status and o.get('error'),
              f'{what or path}: {status} with a JSON message (got {st} {b[:120]!r})')
        return o, hd

    q = urllib.parse.quote
    o, _ = err(400, '/api/search?q=' + q('通武廊 (京津'), what='unbalanced parenthesis')
    check(o.get('position') == 5 and 'character 5' in o.get('error', ''), f'position 5: {o}')
    o, _ = err(400, '/api/search?q=' + q('a OR'), what='dangling OR')
    check(o.get('position') == 3, 'OR position')
    o, _ = err(400, '/api/search?q=' + q('通武廊') + '&year=20x4', what='bad year')
    check('year' in o.get('error', ''), 'bad year names the field')
    err(400, '/api/search?q=' + q('通武廊') + '&region=' + q('a"b'), what='quote in a filter')
    err(400, '/api/search', what='missing q')
    err(400, '/api/search?q=%20%20', what='blank q')
    err(400, '/api/search?q=x&limit=abc', what='bad limit')
    err(400, '/api/search?q=x&limit=100000', what='limit too large')
    err(400, '/api/search?q=x&offset=-1', what='negative offset')
    err(400, '/api/search?q=x&sort=size', what='bad sort')
    err(400, '/api/search?q=x&exact=maybe', what='bad exact')
    err(400, '/api/search?q=%FF%FE', what='invalid UTF-8')
    err(400, '/api/search?q=unknown:field', what='unknown field')
    err(400, '/api/doc?para=1', what='doc without path')
    err(404, '/api/doc?path=/no/such/file.txt&para=0', what='unknown document')
    st, all_, _ = sv.json('/api/search', q='通武廊', limit=1)
    path = all_['hits'][0]['doc']['path']
    err(404, '/api/doc?path=' + q(path) + '&para=99999', what='paragraph past the end')
    err(404, '/api/nothing', what='unknown endpoint')
    err(404, '/assets/nothing.css', what='unknown asset')
    for m in ('POST', 'PUT', 'DELETE', 'PATCH'):
        o, hd = err(405, '/api/search?q=x', method=m, body=b'' if m != 'DELETE' else None,
                    what=f'{m} not allowed')
        check(hd.get('Allow') == 'GET, HEAD', f'{m}: Allow header')
    err(413, '/api/search?q=' + 'a' * 5000, what='oversized q')
    err(413, '/api/search?q=x', method='GET', body=b'x' * 200000, what='oversized body')
    # Past the 64 KiB a connection may use for its headers libmicrohttpd itself
    # refuses the request (414 URI too long, 431 headers too large).
    st, b, _ = sv.request('GET', '/api/search?q=' + 'a' * 100000)
    check(st == 414, f'a 100 KB URL: 414 ({st})')
    st, b, _ = sv.request('GET', '/api/health', headers={'X-Big': 'b' * 100000})
    check(st == 431, f'100 KB of headers: 431 ({st})')
    st, b, hd = sv.request('HEAD', '/api/health')
    check(st == 200 and b == b'', 'HEAD: no body')
    st, b, hd = sv.request('GET', '/nothing')
    check(st == 404 and b'<html' in b, 'unknown page: 404 HTML')
    # Still alive after all that.
    check(sv.get('/api/health')[0] == 200, 'alive after the errors')


def check_page(sv, ps, db):
    st, b, hd = sv.get('/')
    page = b.decode()
    check(st == 200 and hd.get('Content-Type', '').startswith('text/html') and
          '<form id="search"' in page and 'name="q"' in page and '/assets/app.js' in page and
          "default-src 'self'" in hd.get('Content-Security-Policy', ''), 'GET /: the form')
    st, b, _ = sv.get('/', q='通武廊')
    page = b.decode()
    st2, res, _ = sv.json('/api/search', q='通武廊')
    check(st == 200 and f'<strong id="total">{res["total"]}</strong>' in page, 'page: total')
    check(page.count('<li class="hit') == len(res['hits']) and '<mark>通武廊</mark>' in page,
          'page: hits with highlights')
    check('data-field="year"' in page and 'year=2024' in page, 'page: facet links')
    check('view=timeline' in page and 'sort=date' in page, 'page: view links')
    check('/read?path=' in page, 'page: read-in-context links')
    check('rel="next"' in page or res['total'] + res['related_total'] <= 10, 'page: pager')
    st, b, _ = sv.get('/', q='通武廊', year='2024')
    check(st == 200 and 'class="chip"' in b.decode(), 'page: active filter chip')
    st, b, _ = sv.get('/', q='通武廊', view='timeline')
    check(st == 200 and 'class="timeline"' in b.decode() and '<section class="year">' in b.decode(),
          'page: timeline view')
    st, b, _ = sv.get('/', q='通武廊', partial=1)
    check(st == 200 and b.decode().startswith('<main id="results"') and '<form' not in b.decode(),
          'page: partial results block')
    st, b, _ = sv.get('/', q='通武廊 (京津')
    check(st == 400 and 'class="error"' in b.decode() and 'character 5' in b.decode(),
          'page: malformed query shows the error, 400')
    hit = res['hits'][0]
    st, b, _ = sv.get('/read', path=hit['doc']['path'], para=hit['paragraph'], q='通武廊')
    page = b.decode()
    check(st == 200 and f'id="p-{hit["paragraph"]}" class="target"' in page, 'reader: target')
    check(page.count('id="p-') > 5, 'reader: the whole document')
    check('<mark>通武廊</mark>' in page, 'reader: the query highlighted')
    st, b, _ = sv.get('/read', path='/no/such', para=0)
    check(st == 404 and '<html' in b.decode(), 'reader: unknown document 404')
    st, b, hd = sv.get('/assets/style.css')
    check(st == 200 and hd.get('Content-Type', '').startswith('text/css') and b'font-family' in b,
          'asset: style.css')
    st, b, hd = sv.get('/assets/app.js')
    check(st == 200 and 'javascript' in hd.get('Content-Type', ''), 'asset: app.js')


def check_escaping(sv, tmp):
    # A <script> in a query shows as text.
    evil = '<script>alert(1)</script>"\'&'
    st, b, _ = sv.get('/', q='通武廊 ' + evil)
    page = b.decode()
    check('<script>alert' not in page and '&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;'
          in page, 'query <script> escaped in the page')
    st, b, _ = sv.get('/', q=evil)
    check('<script>alert' not in b.decode(), 'query alone escaped')
    st, b, _ = sv.get('/read', path='<script>x</script>', para=0)
    check(st == 404 and '<script>x' not in b.decode(), 'reader error escaped')
    # ... and in a document (indexed in main(): escape.txt).
    st, b, _ = sv.get('/', q='恶意脚本测试')
    page = b.decode()
    check(st == 200 and '<strong id="total">1</strong>' in page, 'the <script> document is found')
    check('<script>alert' not in page and '&lt;script&gt;' in page, 'document <script> escaped')
    st, res, _ = sv.json('/api/search', q='恶意脚本测试')
    hit = res['hits'][0]
    st, b, _ = sv.get('/read', path=hit['doc']['path'], para=hit['paragraph'])
    check('<script>alert' not in b.decode() and '&lt;script&gt;' in b.decode(), 'reader escaped')
    check('<script>alert' in hit['text'], 'JSON keeps the text as written')


def check_assets(sv):
    for raw in ('/assets/../CMakeLists.txt', '/assets/%2e%2e/CMakeLists.txt',
                '/assets/..%2fmain.c', '/assets/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd', '/assets/.hidden',
                '/assets/', '/assets/passwd-link', '/assets/sub/x.css', '/assets//etc/passwd'):
        st, b, _ = sv.request('GET', raw)
        check(st == 404 and b'root:' not in b and b'cmake_minimum' not in b, f'asset {raw}: 404')


def check_log(sv):
    log = sv.stderr()
    check('serving' in log and 'http://127.0.0.1:' in log, 'start-up line')
    check('"GET /api/search?q=通武廊' in log and ' 200 ' in log and 'ms' in log,
          'request log line')
    check('"POST /api/search?q=x" 405' in log, 'log line of an error')


def index_while_serving(sv, pi, db, tmp):
    """A thread fires queries while files are indexed one commit at a time."""
    new = os.path.join(tmp, 'new')
    os.makedirs(new)
    failures, done, per_thread, ran = [], threading.Event(), [[], []], [0, 0]

    def fire(counts, t):
        qs = ['通武廊', '新增测试段落', '京津产业新城', '新增测试段落', '发展 OR 建设', '京津冀']
        i = 0
        while not done.is_set():
            q = qs[i % len(qs)]
            i += 1
            ran[t] += 1
            try:
                st, b, _ = sv.get('/api/search', q=q, limit=5)
                if st != 200:
                    failures.append((q, st, b[:200]))
                elif q == '新增测试段落':
                    counts.append(json.loads(b)['total'])
            except Exception as e:  # noqa: BLE001 - any failure counts
                failures.append((q, repr(e)))

    threads = [threading.Thread(target=fire, args=(c, t)) for t, c in enumerate(per_thread)]
    for t in threads:
        t.start()
    n_files = 6
    for k in range(n_files):
        p = os.path.join(new, f'new-{k}.txt')
        with open(p, 'w', encoding='utf-8') as f:
            f.write(f'新增文件{k}\n\n这是新增测试段落，编号{k}，关于通武廊合作。\n\n另一段：京津冀协同发展。\n')
        rc, out, err = run(pi, '--quiet', '--db', db, p)
        check(rc == 0, f'index new file {k} while serving: {err}')
    time.sleep(0.3)
    done.set()
    for t in threads:
        t.join()
    check(not failures, f'no request failed while indexing: {failures[:3]}')
    check(min(ran) >= 6, f'queries ran during indexing: {ran}')
    for counts in per_thread:  # each thread's own answers only grow
        check(counts == sorted(counts), f'new paragraphs appear, never vanish: {counts}')
    st, res, _ = sv.json('/api/search', q='新增测试段落', limit=50)
    check(st == 200 and res['total'] == n_files, f'new paragraphs found afterwards: {res["total"]}')
    st, h, _ = sv.json('/api/health')
    check(h.get('documents') == 5 + 1 + n_files, f'documents after indexing: {h}')


def check_sigterm(build, db, tmp):
    sv = Server(build, db, tmp, '--quiet', '--threads', '2')
    result = {}

    def slow():
        try:  # a big answer: every paragraph with 的, 1000 per page
            result['r'] = sv.get('/api/search', q='的', limit=1000, collapse=0)
        except Exception as e:  # noqa: BLE001
            result['r'] = (0, repr(e).encode(), {})

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.15)
    t0 = time.time()
    rc = sv.stop(signal.SIGTERM)
    t.join()
    st, b, _ = result['r']
    check(rc == 0, f'SIGTERM: exit 0 (got {rc})')
    check(st == 200 and json.loads(b)['total'] > 0, f'SIGTERM: the request in flight finished ({st})')
    check(time.time() - t0 < 30, 'SIGTERM: stopped promptly')
    check(sv.stderr() == '', f'--quiet: nothing on stderr: {sv.stderr()[:200]!r}')


def check_db_gone(build, db, tmp):
    """The database directory vanishing is the server's trouble: 503, no crash."""
    copy = os.path.join(tmp, 'dbcopy')
    shutil.copytree(db, copy)
    sv = Server(build, copy, tmp, '--quiet')
    try:
        os.rename(copy, copy + '.away')
        st, res, _ = sv.json('/api/search', q='通武廊')
        check(st == 503 and 'gone' in res.get('error', ''), f'database gone: 503 ({st} {res})')
        check(sv.json('/api/health')[0] == 503, 'database gone: health 503')
        check(sv.json('/api/projects')[0] == 503, 'database gone: projects 503')
        os.rename(copy + '.away', copy)
        st, res, _ = sv.json('/api/search', q='通武廊')
        check(st == 200 and res['total'] > 0, 'database back: 200 again')
    finally:
        check(sv.stop() == 0, 'stopped after the database came back')


def main():
    build, corpus, assets = sys.argv[1], sys.argv[2], sys.argv[3]
    pi, ps = os.path.join(build, 'policy-index'), os.path.join(build, 'policy-search')
    serve = os.path.join(build, 'policy-serve')
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, 'db')
        run(pi, '--quiet', '--db', db, corpus)
        rc, out, err = run(serve, '--help')
        check(rc == 0 and '--port' in out and '--db' in out, '--help')
        rc, out, err = run(serve, '--port', 'x')
        check(rc == 2 and '--port' in err, 'bad --port: exit 2')
        rc, out, err = run(serve, '--threads', '0')
        check(rc == 2 and '--threads' in err, 'bad --threads: exit 2')
        rc, out, err = run(serve, '--db', os.path.join(tmp, 'nodb'), '--port', '0')
        check(rc == 2 and 'nodb' in err, f'missing database: exit 2 naming it: {err}')
        rc, out, err = run(serve, '--db', db, '--assets', os.path.join(tmp, 'noassets'))
        check(rc == 2 and 'noassets' in err, 'missing asset dir: exit 2')

        # The asset directory: a copy, with a symlink that points outside.
        adir = os.path.join(tmp, 'assets')
        shutil.copytree(assets, adir)
        os.symlink('/etc/passwd', os.path.join(adir, 'passwd-link'))
        sv = Server(build, db, tmp, '--assets', adir, '--threads', '3')
        try:
            check_api(sv, ps, db, tmp)
            check_errors(sv)
            check_page(sv, ps, db)
            check_assets(sv)
            # A document with markup in its text.
            evil = os.path.join(tmp, 'evil')
            os.makedirs(evil)
            with open(os.path.join(evil, 'escape.txt'), 'w', encoding='utf-8') as f:
                f.write('标题<b>粗</b>\n\n恶意脚本测试：<script>alert(1)</script> & "引号"。\n')
            rc, out, err = run(pi, '--quiet', '--db', db, evil)
            check(rc == 0, f'index the <script> document: {err}')
            check_escaping(sv, tmp)
            index_while_serving(sv, pi, db, tmp)
            check_log(sv)
        finally:
            rc = sv.stop()
        check(rc == 0, f'stopped with exit 0 (got {rc})')
        check(sv.stderr().rstrip().endswith('stopped on SIGTERM'), 'stop line')
        check_sigterm(build, db, tmp)
        check_db_gone(build, db, tmp)
    return finish('e2e_serve')


if __name__ == '__main__':
    sys.exit(main())
