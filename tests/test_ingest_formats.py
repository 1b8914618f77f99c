#!/usr/bin/env python3
"""End-to-end test of the input formats and encodings of policy-index:

- PDF: a multi-page PDF is made from a seed's paragraphs with pango-view
  (pango1.0-tools, font fonts-wqy-microhei) and pdfunite (poppler-utils),
  with a running header and page numbers on every page and paragraphs
  running across pages; indexed (through pdftotext), its paragraphs must
  give back the seed's text exactly (whitespace aside) and mostly the same
  paragraphs, and policy-search must find 京津产业新城 and 通武廊 in it as
  often as in the seed.  The same PDF named .dat is sniffed as a PDF.
- Encodings: every corpus document converted to GB18030 and to UTF-16 (with
  BOM) and indexed into fresh databases must export exactly the paragraph
  texts and sections of the UTF-8 originals; a traditional-character text
  in Big5 likewise; --encoding overrides detection, an unknown name is an
  error naming it.
- Bad inputs: binary files met in a directory walk are reported and skipped
  (exit 0); a broken .pdf named on the command line is reported (exit 1).

usage: test_ingest_formats.py BUILD_DIR CORPUS_DIR
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, finish, run  # noqa: E402

SEED = 'wuqing-2024-plan-execution-report.txt'
HEADER = '天津市武清区人民政府文件'
FONT = 'WenQuanYi Micro Hei 11'


def squeeze(s):
    return re.sub(r'[\s\u3000\u00a0]+', '', s)


class Tools:
    def __init__(self, build):
        self.pi = os.path.join(build, 'policy-index')
        self.ps = os.path.join(build, 'policy-search')

    def index(self, db, *paths):
        return run(self.pi, '--db', db, '--quiet', *paths)

    def export(self, db):
        """{basename: [(text, section), ...]} from policy-search --export."""
        rc, out, err = run(self.ps, '--db', db, '--export')
        check(rc == 0, f'export {db}: {err.strip()}')
        docs = {}
        for line in out.splitlines():
            p = json.loads(line)
            docs.setdefault(os.path.basename(p['doc']['path']), []).append(
                (p['text'], p['section']))
        return docs

    def total(self, db, query):
        rc, out, err = run(self.ps, '--db', db, '--json', '--all', query)
        if rc == 2:
            check(False, f'search {query} in {db}: {err.strip()}')
            return -1
        return json.loads(out)['total']


def need(prog, package):
    if shutil.which(prog) is None:
        check(False, f'{prog} is missing: install {package} (bash scripts/deps.sh)')
        return False
    return True


# ------------------------------------------------------------------ PDF

def make_pdf(paras, workdir, out_pdf, limit=900):
    """Renders paragraphs (text, is_body) as pages of about `limit`
    characters, each with a running header and a page number; a paragraph
    that does not fit is cut after a comma and goes on on the next page."""
    pages, cur, size = [], [], 0
    for text, body in paras:
        indent = '\u3000\u3000' if body else ''
        while size + len(text) > limit:
            room = limit - size
            cut = text.rfind('，', 0, room)
            if cut < 10 or len(text) - cut < 10:
                break
            cur.append(indent + text[:cut + 1])
            text, indent = text[cut + 1:], ''
            pages.append(cur)
            cur, size = [], 0
        cur.append(indent + text)
        size += len(text)
        if size >= limit:
            pages.append(cur)
            cur, size = [], 0
    if cur:
        pages.append(cur)
    files = []
    for i, page in enumerate(pages):
        txt = os.path.join(workdir, f'page{i}.txt')
        pdf = os.path.join(workdir, f'page{i}.pdf')
        with open(txt, 'w', encoding='utf-8') as f:
            f.write(HEADER + '\n\n' + '\n'.join(page) + f'\n\n— {i + 1} —\n')
        rc, out, err = run('pango-view', '-q', f'--font={FONT}', '--width=460',
                           '--wrap=word-char', '--margin=60', '-o', pdf, txt)
        if not check(rc == 0, f'pango-view page {i}: {err.strip()}'):
            return 0
        files.append(pdf)
    rc, out, err = run('pdfunite', *files, out_pdf)
    check(rc == 0, f'pdfunite: {err.strip()}')
    return len(pages)


def test_pdf(t, tmp, ref_docs):
    if not (need('pango-view', 'pango1.0-tools') and need('pdfunite', 'poppler-utils')
            and need('pdftotext', 'poppler-utils')):
        return
    rc, out, err = run('fc-list', ':lang=zh')
    check('WenQuanYi' in out, 'a CJK font (fonts-wqy-microhei) is installed')
    seed = ref_docs[SEED]
    # body paragraphs get the customary two-character indent; headings
    # (their section ends with their first sentence) and the title block not
    paras = []
    for i, (text, section) in enumerate(seed):
        head = section and text.startswith(section.split(' › ')[-1])
        paras.append((text, i > 0 and not head and not text.startswith('——')))
    work = os.path.join(tmp, 'pdfwork')
    docs = os.path.join(tmp, 'pdf')
    os.makedirs(work)
    os.makedirs(docs)
    pdf = os.path.join(docs, 'report.pdf')
    pages = make_pdf(paras, work, pdf)
    if not check(pages >= 5 and os.path.exists(pdf), f'made a PDF of {pages} pages'):
        return
    shutil.copy(pdf, os.path.join(docs, 'sniffed.dat'))  # a PDF by its content

    db = os.path.join(tmp, 'db-pdf')
    rc, out, err = t.index(db, docs)
    check(rc == 0, f'index the PDFs (rc={rc}): {err.strip()}')
    got = t.export(db)
    for name in ('report.pdf', 'sniffed.dat'):
        ps = got.get(name, [])
        check(len(ps) > 20, f'{name}: {len(ps)} paragraphs')
        a, b = squeeze(''.join(p for p, _ in seed)), squeeze(''.join(p for p, _ in ps))
        if not check(a == b, f'{name}: the text of the PDF is the seed\'s text'):
            k = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
            print(f'  differs at {k}: seed "{a[k:k + 40]}" vs pdf "{b[k:k + 40]}"')
        check(not any(HEADER in p for p, _ in ps), f'{name}: page headers dropped')
        check(not any(re.fullmatch(r'[—\-\s\d]+', p) for p, _ in ps),
              f'{name}: page numbers dropped')
        want = {squeeze(p) for p, _ in seed}
        have = {squeeze(p) for p, _ in ps}
        same = len(want & have)
        check(same >= 0.9 * len(want),
              f'{name}: {same} of {len(want)} paragraphs rebuilt exactly')
        # headings found again, with their sections
        # (pdftotext keeps or drops spaces between CJK and digits: ignored)
        heads = [(squeeze(p), s) for p, s in seed if s and p.startswith(s.split(' › ')[-1])]
        have_heads = {(squeeze(p), s) for p, s in ps}
        found = sum(1 for h in heads if h in have_heads)
        check(found >= 0.9 * len(heads), f'{name}: {found} of {len(heads)} headings with sections')
    for q in ('京津产业新城', '通武廊', '产业功能区'):
        pdf_n = t.total(db, q)
        seed_n = sum(1 for p, _ in seed if q in squeeze(p))
        check(pdf_n == 2 * seed_n and seed_n > 0,
              f'{q}: {pdf_n} hits in the two PDFs, {seed_n} paragraphs in the seed')

    # a broken PDF named on the command line: reported, exit 1
    bad = os.path.join(tmp, 'broken.pdf')
    with open(bad, 'wb') as f:
        f.write(b'%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntruncated')
    rc, out, err = t.index(os.path.join(tmp, 'db-bad'), bad)
    check(rc == 1 and 'broken.pdf: not a readable PDF (' in err,
          f'broken PDF named: rc={rc}, {err.strip()}')


# ------------------------------------------------------------ encodings

TRADITIONAL = ('關於臺北市推動產業發展的報告\n\n一、總體情況\n\n'
               '本市經濟穩定發展，產業結構持續優化，國際合作不斷深化，全年地區生產總值增長百分之三點五。\n\n'
               '二、主要任務\n\n（一）加強科技創新。推動企業數位轉型，培育新興產業，擴大研究與開發投入。\n\n'
               '（二）改善居民生活。興建社會住宅，健全醫療與長期照顧體系。\n')


def test_encodings(t, tmp, corpus, ref_docs):
    for enc in ('gb18030', 'utf-16', 'utf-16-be'):
        d = os.path.join(tmp, 'enc-' + enc)
        os.makedirs(d)
        for name in sorted(os.listdir(corpus)):
            with open(os.path.join(corpus, name), encoding='utf-8') as f:
                text = f.read()
            with open(os.path.join(d, name), 'w', encoding=enc, newline='') as f:
                f.write(text)
        db = os.path.join(tmp, 'db-' + enc)
        rc, out, err = t.index(db, d)
        check(rc == 0 and 'warning' not in err, f'index the corpus in {enc}: rc={rc} {err.strip()}')
        got = t.export(db)
        check(sorted(got) == sorted(ref_docs), f'{enc}: the same files')
        for name, paras in ref_docs.items():
            check(got.get(name) == paras,
                  f'{enc}: {name} has the same paragraphs and sections '
                  f'({len(got.get(name, []))} vs {len(paras)})')

    # Big5, detected and named
    d = os.path.join(tmp, 'big5')
    os.makedirs(d)
    with open(os.path.join(d, 'utf8.txt'), 'w', encoding='utf-8') as f:
        f.write(TRADITIONAL)
    with open(os.path.join(d, 'big5.txt'), 'w', encoding='big5') as f:
        f.write(TRADITIONAL)
    db = os.path.join(tmp, 'db-big5')
    rc, out, err = t.index(db, d)
    check(rc == 0, f'index Big5: {err.strip()}')
    got = t.export(db)
    check(got.get('big5.txt') == got.get('utf8.txt') and len(got.get('utf8.txt', [])) == 6,
          f'Big5 paragraphs: {got.get("big5.txt")}')
    check(t.total(db, '產業結構') == 2, 'Big5 text searchable')

    # --encoding: a Latin-1 file detection would misread
    d = os.path.join(tmp, 'latin1')
    os.makedirs(d)
    with open(os.path.join(d, 'fr.txt'), 'w', encoding='latin-1') as f:
        f.write('Politique économique générale et coopération régionale.\n')
    rc, out, err = run(t.pi, '--help')
    check('--encoding' in out, '--encoding in the help')
    db = os.path.join(tmp, 'db-latin1')
    rc, out, err = run(t.pi, '--db', db, '--quiet', '--encoding', 'ISO-8859-1', d)
    check(rc == 0 and 'warning' not in err, f'--encoding ISO-8859-1: rc={rc} {err.strip()}')
    got = t.export(db)
    check(got.get('fr.txt') == [('Politique économique générale et coopération régionale.', '')],
          f'--encoding read the file as Latin-1: {got.get("fr.txt")}')
    rc, out, err = run(t.pi, '--db', os.path.join(tmp, 'db-gbk'), '-e', 'GBK',
                       os.path.join(tmp, 'enc-gb18030', SEED))
    check(rc == 0 and t.export(os.path.join(tmp, 'db-gbk')).get(SEED) == ref_docs[SEED],
          f'-e GBK on a GB18030 file: rc={rc} {err.strip()}')
    rc, out, err = run(t.pi, '--db', os.path.join(tmp, 'db-nosuch'), '--encoding', 'NO-SUCH-42',
                       os.path.join(d, 'fr.txt'))
    check(rc == 2 and "unknown encoding 'NO-SUCH-42'" in err,
          f'unknown encoding: rc={rc} {err.strip()}')


def test_binary_walk(t, tmp, corpus):
    d = os.path.join(tmp, 'mixed')
    os.makedirs(d)
    shutil.copy(os.path.join(corpus, SEED), d)
    blobs = {
        'image.dat': b'\x89PNG\r\n\x1a\n\0\0\0\rIHDR' + bytes(range(256)) * 4,
        'archive': b'PK\x03\x04\x14\0\0\0\x08\0' + os.urandom(2000),
        'program.txt': b'\x7fELF\x02\x01\x01\0' + bytes(4000),
        'photo.jpg': b'\xff\xd8\xff\xe0\0\x10JFIF\0' + os.urandom(3000),
    }
    for name, data in blobs.items():
        with open(os.path.join(d, name), 'wb') as f:
            f.write(data)
    with open(os.path.join(d, 'notes'), 'w', encoding='utf-16') as f:  # no extension, UTF-16
        f.write('京津产业新城的说明。\n\n第二段落的内容。\n')
    db = os.path.join(tmp, 'db-mixed')
    rc, out, err = run(t.pi, '--db', db, d)
    check(rc == 0, f'walk with binary files exits 0 (rc={rc})')
    for name in blobs:
        check(f'skipped {os.path.join(d, name)}: binary file' in err, f'{name} reported: {err}')
    check('2 files indexed' in err and '4 skipped' in err, f'summary: {err.strip()}')
    got = t.export(db)
    check(got.get('notes') == [('京津产业新城的说明。', ''), ('第二段落的内容。', '')],
          f'UTF-16 file without extension: {got.get("notes")}')


def main():
    build, corpus = sys.argv[1], sys.argv[2]
    t = Tools(build)
    tmp = tempfile.mkdtemp(prefix='ps-formats-')
    try:
        ref_db = os.path.join(tmp, 'db-utf8')
        rc, out, err = t.index(ref_db, corpus)
        check(rc == 0, f'index the UTF-8 corpus: {err.strip()}')
        ref_docs = t.export(ref_db)
        check(SEED in ref_docs and len(ref_docs) == 5, 'reference export')
        test_encodings(t, tmp, corpus, ref_docs)
        test_binary_walk(t, tmp, corpus)
        test_pdf(t, tmp, ref_docs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish('ingest_formats')


if __name__ == '__main__':
    sys.exit(main())
