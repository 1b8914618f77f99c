#!/usr/bin/env python3
"""The search page in a real browser: Debian's headless Chromium driven by
chromedriver through the WebDriver HTTP protocol (urllib only).  Types
通武廊 (the results follow as typed, through the page's script), checks that
highlighted hits appear and that project names are suggested, clicks a year
facet and checks that the count changes to the facet's count, and saves
screenshots of the result page (desktop and phone widths) as artefacts.

usage: browser_serve.py BUILD_DIR CORPUS_DIR ARTEFACT_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import base64

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, finish, run  # noqa: E402
from e2e_serve import Server, free_port  # noqa: E402

ELEMENT = 'element-6066-11e4-a52e-4f735466cecf'  # W3C WebDriver


class Browser:
    def __init__(self, tmp):
        driver = shutil.which('chromedriver')
        binary = shutil.which('chromium')
        if not driver or not binary:
            raise RuntimeError('chromium and chromium-driver are needed (bash scripts/deps.sh)')
        self.port = free_port()
        self.log = open(os.path.join(tmp, 'chromedriver.log'), 'w')
        self.proc = subprocess.Popen([driver, f'--port={self.port}'], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while True:
            try:
                if self.call('GET', '/status')['ready']:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError('chromedriver did not start')
            time.sleep(0.1)
        caps = {'capabilities': {'alwaysMatch': {
            'browserName': 'chrome',
            'goog:chromeOptions': {'binary': binary, 'args': [
                '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
                '--window-size=1280,1100', '--lang=zh-CN',
                f'--user-data-dir={os.path.join(tmp, "profile")}']}}}}
        self.sid = self.call('POST', '/session', caps)['sessionId']

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f'http://127.0.0.1:{self.port}{path}', data=data,
                                     method=method,
                                     headers={'Content-Type': 'application/json'})
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read())['value']

    def s(self, method, path, body=None):
        return self.call(method, f'/session/{self.sid}{path}', body)

    def go(self, url):
        self.s('POST', '/url', {'url': url})

    def find_all(self, css):
        return [e[ELEMENT] for e in self.s('POST', '/elements', {'using': 'css selector',
                                                                   'value': css})]

    def text(self, el):
        return self.s('GET', f'/element/{el}/text')

    def js(self, script, *args):
        return self.s('POST', '/execute/sync', {'script': script, 'args': list(args)})

    def wait(self, script, timeout=20):
        """Polls a JS expression until it is truthy; returns its value."""
        deadline = time.time() + timeout
        while True:
            v = self.js('return ' + script)
            if v or time.time() > deadline:
                return v
            time.sleep(0.1)

    def screenshot(self, path):
        with open(path, 'wb') as f:
            f.write(base64.b64decode(self.s('GET', '/screenshot')))

    def quit(self):
        try:
            self.s('DELETE', '')
        except OSError:
            pass
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def main():
    build, corpus, artefacts = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(artefacts, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, 'db')
        run(os.path.join(build, 'policy-index'), '--quiet', '--db', db, corpus)
        sv = Server(build, db, tmp, '--quiet')
        br = None
        try:
            br = Browser(tmp)
            base = f'http://127.0.0.1:{sv.port}/'
            br.go(base)
            check(br.wait('document.title').endswith('政策文件检索'), 'page loads')
            box = br.find_all('#q')
            check(len(box) == 1, 'one query box')
            # Typed, not submitted: the script brings the results in.
            br.s('POST', f'/element/{box[0]}/value', {'text': '通武'})
            opts = br.wait("[...document.querySelectorAll('#projects option')].map(o => o.value)")
            check(opts and '通武廊' in opts, f'project names suggested while typing: {opts}')
            br.s('POST', f'/element/{box[0]}/value', {'text': '廊'})
            # The script swaps the results in, then records the query in the URL.
            total = br.wait("new URLSearchParams(location.search).get('q') === '通武廊' && "
                            "document.getElementById('total') && "
                            "document.getElementById('total').textContent")
            check(total and int(total) > 0, f'results appear as you type: total {total}')
            marks = br.find_all('.hit:not(.related) .snippet mark')
            check(len(marks) > 0 and all(br.text(m) == '通武廊' for m in marks[:5]),
                  f'highlighted hits: {len(marks)} marks')
            titles = br.find_all('.hit h2 a')
            check(len(titles) > 0 and all(br.text(t) for t in titles), 'hits have titles')
            br.screenshot(os.path.join(artefacts, 'serve-results.png'))

            # Click a year facet whose count differs from the total.
            facets = br.js("""return [...document.querySelectorAll('[data-field="year"] a')]
                              .map(a => [a.querySelector('.name').textContent,
                                         +a.querySelector('.n').textContent]);""")
            pick = next(((i, y, n) for i, (y, n) in enumerate(facets) if n != int(total)), None)
            check(pick is not None, f'a year facet with another count: {facets}')
            if pick:
                i, year, n = pick
                links = br.find_all('[data-field="year"] a')
                br.s('POST', f'/element/{links[i]}/click', {})
                new_total = br.wait(f"location.search.includes('year={year}') && "
                                    "document.getElementById('total') && "
                                    "document.getElementById('total').textContent")
                check(new_total and int(new_total) == n,
                      f'facet {year}: count changes {total} -> {new_total} (facet says {n})')
                chips = br.find_all('.chip')
                check(len(chips) == 1 and year in br.text(chips[0]), 'active filter shown')
                br.screenshot(os.path.join(artefacts, 'serve-facet.png'))

            # Read a hit in context.
            link = br.find_all('.hit h2 a')[0]
            br.s('POST', f'/element/{link}/click', {})
            target = br.wait("document.querySelector('.reader .target') && "
                             "document.querySelector('.reader .target').textContent")
            check(target and '通武廊' in target, 'reader shows the hit paragraph')

            # The timeline view, on a phone-sized window.
            br.s('POST', '/window/rect', {'width': 390, 'height': 900})
            br.go(base + '?q=%E9%80%9A%E6%AD%A6%E5%BB%8A&view=timeline')
            years = br.wait("[...document.querySelectorAll('.timeline .year h2')]"
                            ".map(h => h.textContent.slice(0, 4))")
            check(years and years == sorted(years), f'timeline years oldest first: {years}')
            br.go(base + '?q=%E9%80%9A%E6%AD%A6%E5%BB%8A')
            br.wait("document.getElementById('total')")
            br.screenshot(os.path.join(artefacts, 'serve-phone.png'))
            width = br.js('return document.documentElement.scrollWidth')
            check(width <= 390, f'no horizontal scrolling on a phone: {width}px')
        finally:
            if br:
                br.quit()
            sv.stop()
    for name in ('serve-results.png', 'serve-facet.png', 'serve-phone.png'):
        p = os.path.join(artefacts, name)
        check(os.path.exists(p) and open(p, 'rb').read(8) == b'\x89PNG\r\n\x1a\n',
              f'screenshot {name}')
    return finish('browser_serve')


if __name__ == '__main__':
    sys.exit(main())
