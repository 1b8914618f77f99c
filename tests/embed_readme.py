#!/usr/bin/env python3
"""The README's "Embedding in C" program, built as an embedder would: the
first ```c block of that section is extracted, the build is installed with
`cmake --install` into a temporary prefix, the program is compiled with
`pkg-config --cflags --libs policysearch` against the installed files only,
and run on an index of corpus/ (made by the installed policy-index); its
hits must be those of policy-search.

usage: embed_readme.py BUILD_DIR README CORPUS_DIR [EXTRA_CFLAGS]
"""
import os
import re
import shlex
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, finish, run  # noqa: E402


def extract(readme):
    text = open(readme, encoding='utf-8').read()
    m = re.search(r'^## Embedding in C\n(.*?)(?=^## )', text, re.S | re.M)
    if not m:
        return None
    block = re.search(r'^```c\n(.*?)^```', m.group(1), re.S | re.M)
    return block.group(1) if block else None


def main():
    build, readme, corpus = sys.argv[1], sys.argv[2], sys.argv[3]
    extra = shlex.split(sys.argv[4]) if len(sys.argv) > 4 else []
    src = extract(readme)
    if not check(src and 'int main' in src, 'README has a C program under "Embedding in C"'):
        return finish('embed_readme')
    with tempfile.TemporaryDirectory() as tmp:
        prefix = os.path.join(tmp, 'prefix')
        rc, out, err = run('cmake', '--install', build, '--prefix', prefix)
        check(rc == 0, f'cmake --install: {err}')
        libdir = next((r for r, d, f in os.walk(prefix)
                       if 'policysearch.pc' in f), None)
        check(libdir is not None, 'policysearch.pc installed')
        incdir = os.path.join(prefix, 'include', 'policysearch')
        check(os.path.exists(os.path.join(incdir, 'ps_answer.h')), 'headers installed')
        env = dict(os.environ, PKG_CONFIG_PATH=libdir or '')
        rc, flags, err = run('pkg-config', '--cflags', '--libs', 'policysearch', env=env)
        incs = [os.path.normpath(f[2:]) for f in shlex.split(flags) if f.startswith('-I')]
        check(rc == 0 and '-lpolicysearch' in flags and os.path.normpath(incdir) in incs,
              f'pkg-config --cflags --libs policysearch: {flags.strip()} {err}')
        # Only the installed files: a source tree next door must not be needed.
        c = os.path.join(tmp, 'search.c')
        with open(c, 'w', encoding='utf-8') as f:
            f.write(src)
        exe = os.path.join(tmp, 'search')
        cc = os.environ.get('CC') or shutil.which('cc') or 'gcc'
        rc, out, err = run(cc, '-std=c11', '-Wall', '-Wextra', '-Werror', *extra, c, '-o', exe,
                           *shlex.split(flags))
        check(rc == 0, f'the README program compiles against the installed files: {err}')
        libpath = os.path.dirname(libdir.rstrip('/'))
        run_env = dict(os.environ, LD_LIBRARY_PATH=libpath)
        db = os.path.join(tmp, 'db')
        bindir = os.path.join(prefix, 'bin')
        rc, out, err = run(os.path.join(bindir, 'policy-index'), '--quiet', '--db', db, corpus,
                           env=run_env)
        check(rc == 0, f'installed policy-index indexes the corpus: {err}')
        rc, out, err = run(exe, db, '通武廊', env=run_env)
        lines = out.splitlines()
        rc2, count, err2 = run(os.path.join(bindir, 'policy-search'), '--db', db, '--count',
                               '通武廊', env=run_env)
        check(rc == 0 and lines and lines[0] == f'{count.strip()} paragraphs match 通武廊',
              f'the program prints the total: {lines[:1]} {err}')
        check(len(lines) == 11 and all('通武廊' in l for l in lines[1:]),
              f'and ten hits: {len(lines)} lines')
        rc, out, err = run(exe, db, '通武廊 (', env=run_env)
        check(rc == 2 and 'character' in err, f'a malformed query is reported: {err}')
        rc, out, err = run(exe, os.path.join(tmp, 'none'), 'x', env=run_env)
        check(rc == 2 and 'none' in err, f'a missing database is reported: {err}')
    return finish('embed_readme')


if __name__ == '__main__':
    sys.exit(main())
