"""The small harness the Python end-to-end tests share.

check() records an expectation and reports a failed one without stopping the
test (so one run shows every failure); run() runs a program and returns
(exit code, stdout, stderr) as text; finish() prints the closing
'N passed, M failed' line and returns the exit status for sys.exit.
"""
import subprocess

_counts = {'checks': 0, 'failures': 0}


def check(cond, what):
    _counts['checks'] += 1
    if not cond:
        _counts['failures'] += 1
        print(f'FAILED: {what}')
    return cond


def run(*args, env=None, input=None):
    r = subprocess.run([str(a) for a in args], capture_output=True, env=env, input=input)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def finish(name):
    c, f = _counts['checks'], _counts['failures']
    print(f'{name}: {c - f} passed, {f} failed')
    return 1 if f else 0
